"""The decision list's search, filters and sorting: a GET form, so a filtered list
can be bookmarked, shared, and linked to from a person's page (`?person=<uuid>`).

Every query starts from `Decision.objects.for_user`, so filters only ever
narrow what the viewer may see. The GOV.UK markup comes from the project's
form renderer (settings.FORM_RENDERER), as for every form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce

from infoshare.core.models import Organisation, Person, Purpose
from infoshare.decisions.models import Arrangement, Decision, DecisionQuerySet, Outcome

# Searching is word by word (each word must appear somewhere); a cap keeps a
# pasted paragraph from becoming dozens of scans of the whole log.
MAX_SEARCH_WORDS = 6
SPECIAL_YES, SPECIAL_NO = "yes", "no"
# Past this many corrections, their ids would be too many parameters for one query
# (SQLite takes 32,766): superseded decisions are then counted out in SQL instead.
MAX_SUPERSEDED_LISTED = 10_000
# How typed words appear in the audit trail of an export.
WITHHELD = "words withheld"


@dataclass(frozen=True)
class SortOption:
    """A column the list can be sorted by, and the database order for each direction."""

    key: str
    label: str
    ascending: tuple[Any, ...]
    descending: tuple[Any, ...]
    # The first click on a date sorts newest first; on text, A to Z.
    first_direction: str = "ascending"


# Ties are broken by the default order, then by id, so pages never overlap.
_TIE_BREAK = ("-decided_on", "-recorded_at", "-id")
SORT_OPTIONS = {
    option.key: option
    for option in (
        SortOption(
            "decided",
            "Decided on",
            ("decided_on", "recorded_at", "id"),
            _TIE_BREAK,
            first_direction="descending",
        ),
        SortOption("reference", "Reference", ("reference",), ("-reference",)),
        SortOption("outcome", "Outcome", ("outcome", *_TIE_BREAK), ("-outcome", *_TIE_BREAK)),
        SortOption(
            "recipient",
            "Recipient",
            ("recipient_sort", "recipient_person", *_TIE_BREAK),
            ("-recipient_sort", "-recipient_person", *_TIE_BREAK),
        ),
    )
}
DEFAULT_SORT = "-decided"


def _date_input() -> forms.DateInput:
    # The browser's date picker sends (and shows) ISO dates; typed dates in
    # the en-GB formats (22/11/2026) are accepted too.
    return forms.DateInput(
        attrs={"type": "date", "class": "govuk-input--width-10"}, format="%Y-%m-%d"
    )


class DecisionFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="A reference, words from the information or reasons, a recipient, "
        "or a person's name",
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={"max_length": "Search must be 200 characters or fewer"},
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "Any outcome"), *Outcome.choices],
        error_messages={"invalid_choice": "Select an outcome from the list"},
    )
    purpose = forms.ModelChoiceField(
        label="Purpose",
        queryset=Purpose.objects.all(),
        required=False,
        to_field_name="code",
        empty_label="Any purpose",
        error_messages={"invalid_choice": "Select a purpose from the list"},
    )
    recipient = forms.CharField(
        label="Recipient organisation",
        required=False,
        max_length=200,
        help_text="Choose from the list or type part of a name",
        widget=forms.TextInput(attrs={"list": "recipient-names", "autocomplete": "off"}),
        error_messages={"max_length": "Recipient must be 200 characters or fewer"},
    )
    kind = forms.ChoiceField(
        label="Kind of sharing",
        required=False,
        choices=[("", "Any kind"), *Arrangement.choices],
        error_messages={"invalid_choice": "Select a kind of sharing from the list"},
    )
    special = forms.ChoiceField(
        label="Special category data",
        required=False,
        choices=[
            ("", "With or without"),
            (SPECIAL_YES, "Special category data"),
            (SPECIAL_NO, "No special category data"),
        ],
        error_messages={"invalid_choice": "Select an answer from the list"},
    )
    person = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "That person is not on this school's people list"},
    )
    date_from = forms.DateField(
        label="From",
        required=False,
        widget=_date_input(),
        error_messages={"invalid": "The 'from' date must be a real date, like 22/11/2026"},
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        widget=_date_input(),
        error_messages={"invalid": "The 'to' date must be a real date, like 22/11/2026"},
    )
    include_corrected = forms.BooleanField(label="Include corrected records", required=False)

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_person(self) -> Person | None:
        wanted = self.cleaned_data.get("person")
        if wanted is None:
            return None
        person = Person.objects.in_organisation(self.organisation).filter(uuid=wanted).first()
        if person is None:
            raise ValidationError("That person is not on this school's people list")
        return person

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The 'to' date must be the same as or after the 'from' date")
        return cleaned

    # --- What the page shows about the filters ----------------------------------------

    @property
    def is_filtering(self) -> bool:
        """Whether any filter narrows the list (for the empty state and the clear link)."""
        return self.is_valid() and any(
            self.cleaned_data.get(name) for name in self.fields if name != "include_corrected"
        )

    @property
    def chosen_person(self) -> Person | None:
        """The person the list is narrowed to, to show by name."""
        return self.cleaned_data.get("person") if self.is_valid() else None

    @property
    def sort(self) -> str:
        """`decided`, `-decided`, `reference`…; anything unknown is the default order."""
        wanted = self.data.get("sort", "") if self.is_bound else ""
        return wanted if wanted.lstrip("-") in SORT_OPTIONS else DEFAULT_SORT

    def used(self) -> dict[str, Any]:
        """The filters applied, for the audit trail of an export: codes, dates and
        references only. Words typed stay out (they may be a pupil's name), unless
        they name an organisation on the list."""
        used: dict[str, Any] = {"sort": self.sort}
        if not self.is_valid():
            return used
        data = self.cleaned_data
        for name in ("outcome", "kind", "special"):
            if data[name]:
                used[name] = data[name]
        if data["recipient"].strip():
            listed = Organisation.objects.filter(name__iexact=data["recipient"].strip())
            used["recipient"] = data["recipient"].strip() if listed.exists() else WITHHELD
        if data["purpose"]:
            used["purpose"] = data["purpose"].code
        if data["person"]:
            used["person"] = str(data["person"].uuid)
        for name in ("date_from", "date_to"):
            if data[name]:
                used[name] = data[name].isoformat()
        if data["q"].strip():
            used["search"] = WITHHELD
        used["include_corrected"] = data["include_corrected"]
        return used

    # --- The query -------------------------------------------------------------------

    @property
    def hides_corrected(self) -> bool:
        """Whether records superseded by a correction are left out (they are by default)."""
        return not (self.is_valid() and self.cleaned_data["include_corrected"])

    def filter(self, decisions: DecisionQuerySet) -> DecisionQuerySet:
        """The decisions to list: those matching, without corrected ones unless asked for."""
        return self.listed(self.matching(decisions))

    def listed(self, matching: DecisionQuerySet) -> DecisionQuerySet:
        """Of the `matching` decisions, those to list."""
        return current(matching) if self.hides_corrected else matching

    def matching(self, decisions: DecisionQuerySet) -> DecisionQuerySet:
        """The decisions matching the filters (corrected or not), in the chosen order.

        With any filter invalid, none is applied (the errors show beside the
        fields) rather than a partial, misleading list.
        """
        decisions = _sorted(decisions, self.sort)
        if not self.is_valid():
            return decisions
        data = self.cleaned_data
        if data["q"].strip():
            decisions = matching_words(decisions, self.organisation, data["q"])
        if data["outcome"]:
            decisions = decisions.filter(outcome=data["outcome"])
        if data["purpose"]:
            decisions = decisions.filter(purpose=data["purpose"])
        if data["recipient"].strip():
            decisions = to_recipient(decisions, data["recipient"].strip())
        if data["kind"]:
            decisions = decisions.filter(arrangement=data["kind"])
        if data["special"]:
            decisions = decisions.filter(has_special_category=data["special"] == SPECIAL_YES)
        if data["person"]:
            decisions = naming(decisions, data["person"])
        if data["date_from"]:
            decisions = decisions.filter(decided_on__gte=data["date_from"])
        if data["date_to"]:
            decisions = decisions.filter(decided_on__lte=data["date_to"])
        return decisions

    def count(self, matching: DecisionQuerySet) -> int:
        """How many of the `matching` decisions are listed, counted cheaply.

        All of them, less the superseded ones among them. Corrections are rare,
        so the superseded decisions are a short list of ids and counting them
        reads only those rows; checking every decision for a correction costs
        more (SQLite: 51 ms rather than 28 ms at 100,000 decisions). As a list,
        not a subquery: PostgreSQL would scan the whole log to join a subquery
        when the filters include a text search.
        """
        if not self.hides_corrected:
            return matching.count()
        # A person's decisions are few: counted directly (given a second list of
        # ids, PostgreSQL would scan the whole log).
        if self.chosen_person is not None:
            return current(matching).count()
        superseded = superseded_ids(self.organisation)
        if len(superseded) > MAX_SUPERSEDED_LISTED:
            return current(matching).count()
        total = matching.count()
        return total - matching.filter(pk__in=superseded).count() if superseded else total


def superseded_ids(organisation: Organisation) -> list[int]:
    """The ids of the organisation's decisions that a correction superseded.

    Read from the corrections' index on `supersedes`, checking the organisation
    on the superseded decision: asked of the correction itself, SQLite walks the
    organisation's whole log instead (0.3 s at 100,000 decisions, not 1 ms).
    """
    corrections = Decision.objects.filter(
        supersedes__isnull=False, supersedes__organisation=organisation
    )
    return list(corrections.values_list("supersedes_id", flat=True))


def current(decisions: DecisionQuerySet) -> DecisionQuerySet:
    """Decisions no correction has superseded, as `DecisionQuerySet.current()` means,
    written as NOT EXISTS: PostgreSQL misjudges the LEFT JOIN … IS NULL that
    `superseded_by__isnull=True` becomes (it expects one row, not thousands), and
    then sorts the whole log to show one page (0.4 s at 100,000 decisions)."""
    return decisions.filter(~Exists(Decision.objects.filter(supersedes=OuterRef("pk"))))


def _sorted(decisions: DecisionQuerySet, sort: str) -> DecisionQuerySet:
    option = SORT_OPTIONS[sort.lstrip("-")]
    order = option.descending if sort.startswith("-") else option.ascending
    if option.key == "recipient":
        # The recipient is an organisation on the list or a name typed in.
        decisions = decisions.alias(
            recipient_sort=Coalesce("recipient_organisation__name", "recipient_organisation_name")
        )
    return decisions.order_by(*order)


def naming(decisions: DecisionQuerySet, person: Person) -> DecisionQuerySet:
    """Decisions that name `person`.

    Their ids are read first, from the people table's index on the person (a
    handful of rows), then used as a list: as a subquery, PostgreSQL joins it
    last, after joining every decision of the school to its purpose, recipient
    and the rest (0.2 s at 100,000 decisions instead of a few ms).
    """
    named = Decision.people.through.objects.filter(person=person)
    return decisions.filter(pk__in=list(named.values_list("decision_id", flat=True)))


def to_recipient(decisions: DecisionQuerySet, text: str) -> DecisionQuerySet:
    return decisions.filter(_recipient_contains(text))


def _recipient_contains(text: str) -> Q:
    """The recipient organisation, on the list or typed in, contains `text`.

    Organisations are matched by name first and then by id, rather than by
    joining the organisation to every decision and comparing its name there.
    """
    named = Organisation.objects.filter(name__icontains=text).values("pk")
    return Q(recipient_organisation__in=named) | Q(recipient_organisation_name__icontains=text)


def matching_words(
    decisions: DecisionQuerySet, organisation: Organisation, text: str
) -> DecisionQuerySet:
    """Decisions in which every word appears: in the reference, the information, the
    reasons, the recipient, the description of people, or a named person's name."""
    for word in text.split()[:MAX_SEARCH_WORDS]:
        named = Decision.people.through.objects.filter(
            Q(person__given_name__icontains=word) | Q(person__family_name__icontains=word),
            person__organisation=organisation,
        ).values("decision_id")
        decisions = decisions.filter(
            Q(reference__icontains=word)
            | Q(information__icontains=word)
            | Q(reasons__icontains=word)
            | Q(recipient_person__icontains=word)
            | _recipient_contains(word)
            | Q(people_described__icontains=word)
            | Q(pk__in=named)
        )
    return decisions


def recipient_names(visible: DecisionQuerySet) -> list[str]:
    """Names of the organisations (on the organisations list) that received decisions
    the viewer may see, for the recipient box. Names typed in for organisations not
    on the list are found by typing part of them: listing them all would read the
    whole log on every visit."""
    return list(
        Organisation.objects.filter(Exists(visible.filter(recipient_organisation=OuterRef("pk"))))
        .order_by("name")
        .values_list("name", flat=True)
    )
