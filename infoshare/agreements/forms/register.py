"""The agreements register's search, filters and sorting: a GET form, so a filtered
register can be bookmarked and shared.

Every query starts from `Agreement.objects.for_user`, so filters only narrow
what the viewer may see. The status filter is the register's tag (a status
with the review dates worked in), computed for "today" as the page shows it.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import Case, When
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear

from infoshare.agreements.models import (
    DRAFTING_STATUSES,
    IN_FORCE_STATUSES,
    Kind,
    Party,
    Status,
    Tag,
    approved_tag,
)
from infoshare.core.models import Organisation
from infoshare.governance.models import InformationAsset

if TYPE_CHECKING:
    from infoshare.agreements.models import AgreementQuerySet

# Searching is word by word (each word must appear somewhere); a cap keeps a
# pasted paragraph from becoming dozens of scans of the register.
MAX_SEARCH_WORDS = 6
# How typed words appear in the audit trail of an export.
WITHHELD = "words withheld"


@dataclass(frozen=True)
class SortOption:
    """A column the register can be sorted by, and the database order for each direction."""

    label: str
    ascending: tuple[Any, ...]
    descending: tuple[Any, ...]
    # The first click on a date sorts newest (or soonest due) first; on text, A to Z.
    first_direction: str = "ascending"


SORT_OPTIONS = {
    "updated": SortOption(
        "Last updated", ("updated_at", "id"), ("-updated_at", "-id"), "descending"
    ),
    "reference": SortOption("Reference", ("reference",), ("-reference",)),
    "title": SortOption("Title", ("title", "id"), ("-title", "-id")),
    # Agreements with no review to come (drafts, ended ones) go last either way.
    "review_due": SortOption(
        "Review due",
        (F("review_key").asc(nulls_last=True), "id"),
        (F("review_key").desc(nulls_last=True), "-id"),
    ),
}
DEFAULT_SORT = "-updated"


def review_key() -> Case:
    """A number that sorts agreements as their review due dates do, in the database.

    The due date is the start of the review period plus its interval in months
    (`models.add_months`, which keeps the day inside the shorter month). Months
    since year 0, then the day, orders the same way: a day kept inside a short
    month only ever ties with another, never overtakes it. Only agreements with
    a version in force have a review to come.
    """
    months = ExtractYear("review_period_starts") * 12 + ExtractMonth("review_period_starts")
    key = (months + F("review_interval_months")) * 100 + ExtractDay("review_period_starts")
    has_version_in_force = Q(status__in=IN_FORCE_STATUSES) | Q(
        status__in=DRAFTING_STATUSES, version__gt=1
    )
    return Case(
        When(has_version_in_force, then=key), default=Value(None), output_field=IntegerField()
    )


class AssetChoiceField(forms.ModelChoiceField):
    """A choice of the school's assets (by UUID), the retired ones said to be so."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} (retired)" if obj.is_retired else obj.name

    def to_python(self, value: Any) -> Any:
        # Something that is not a UUID at all is just as much not one of the choices.
        try:
            return super().to_python(value)
        except ValidationError as error:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from error


class AgreementFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="A reference, words from the title, or the name of a party",
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={"max_length": "Search must be 200 characters or fewer"},
    )
    tag = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *Tag.choices],
        error_messages={"invalid_choice": "Select a status from the list"},
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *Kind.choices],
        error_messages={"invalid_choice": "Select a kind of agreement from the list"},
    )
    party = forms.ModelChoiceField(
        label="Party",
        queryset=Organisation.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label="Any party",
        error_messages={"invalid_choice": "Select a party from the list"},
    )
    asset = AssetChoiceField(
        label="Information asset",
        queryset=InformationAsset.objects.none(),
        required=False,
        to_field_name="uuid",
        empty_label="Any information asset",
        error_messages={"invalid_choice": "Select an information asset from the list"},
    )

    def __init__(
        self, *args: Any, organisation: Organisation, today: datetime.date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.today = today
        party_field = self.fields["party"]
        asset_field = self.fields["asset"]
        assert isinstance(party_field, forms.ModelChoiceField)  # for type checkers
        assert isinstance(asset_field, forms.ModelChoiceField)
        party_field.queryset = other_parties(organisation)
        asset_field.queryset = InformationAsset.objects.filter(organisation=organisation)

    # --- What the page shows about the filters ----------------------------------------

    @property
    def is_filtering(self) -> bool:
        """Whether any filter narrows the register (for the empty state and the clear link)."""
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    @property
    def sort(self) -> str:
        """`updated`, `-updated`, `title`…; anything unknown is the default order."""
        wanted = self.data.get("sort", "") if self.is_bound else ""
        return wanted if wanted.lstrip("-") in SORT_OPTIONS else DEFAULT_SORT

    def show_tag_counts(self, counts: Counter[str]) -> None:
        """Label each status with how many agreements it would show, given the other filters."""
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.ChoiceField)
        tag_field.choices = [
            ("", "Any status"),
            *((tag.value, f"{tag.label} ({counts[tag.value]})") for tag in Tag),
        ]

    def used(self) -> dict[str, Any]:
        """The filters applied, for the audit trail of an export: codes and
        identifiers only; words searched for stay out."""
        used: dict[str, Any] = {"sort": self.sort}
        if not self.is_valid():
            return used
        data = self.cleaned_data
        for name in ("tag", "kind"):
            if data[name]:
                used[name] = data[name]
        if data["party"]:
            used["party"] = data["party"].slug
        if data["asset"]:
            used["asset"] = str(data["asset"].uuid)
        if data["q"].strip():
            used["search"] = WITHHELD
        return used

    # --- The query -------------------------------------------------------------------

    def filter(self, agreements: AgreementQuerySet) -> AgreementQuerySet:
        """The agreements matching every filter, in the chosen order.

        With any filter invalid, none is applied (the errors show beside the
        fields) rather than a partial, misleading register.
        """
        matching = self.matching_all_but_tag(agreements)
        if self.is_valid() and self.cleaned_data["tag"]:
            matching = matching.tagged(self.cleaned_data["tag"], self.today)
        return matching

    def matching_all_but_tag(self, agreements: AgreementQuerySet) -> AgreementQuerySet:
        """The agreements matching the filters other than the status, in the chosen order."""
        agreements = _sorted(agreements, self.sort)
        if not self.is_valid():
            return agreements
        data = self.cleaned_data
        for word in data["q"].split()[:MAX_SEARCH_WORDS]:
            agreements = agreements.filter(_mentions(word))
        if data["kind"]:
            agreements = agreements.filter(kind=data["kind"])
        if data["party"]:
            agreements = agreements.filter(
                Exists(Party.objects.filter(agreement=OuterRef("pk"), organisation=data["party"]))
            )
        if data["asset"]:
            agreements = agreements.filter(assets=data["asset"])
        return agreements


def _sorted(agreements: AgreementQuerySet, sort: str) -> AgreementQuerySet:
    option = SORT_OPTIONS[sort.lstrip("-")]
    if sort.lstrip("-") == "review_due":
        agreements = agreements.alias(review_key=review_key())
    return agreements.order_by(*(option.descending if sort.startswith("-") else option.ascending))


def _mentions(word: str) -> Q:
    """The reference, the title or the name of a party contains `word`, whatever its case."""
    named = Party.objects.filter(organisation__name__icontains=word).values("agreement_id")
    return Q(reference__icontains=word) | Q(title__icontains=word) | Q(pk__in=named)


def other_parties(organisation: Organisation) -> QuerySet[Organisation]:
    """The organisations party to any of `organisation`'s agreements, but itself, by name."""
    return (
        Organisation.objects.filter(
            Exists(
                Party.objects.filter(
                    agreement__organisation=organisation, organisation=OuterRef("pk")
                )
            )
        )
        .exclude(pk=organisation.pk)
        .order_by("name")
    )


def tag_counts(agreements: AgreementQuerySet, today: datetime.date) -> Counter[str]:
    """How many of `agreements` show each tag on `today`, in two queries.

    Statuses are counted by the database; the approved agreements, whose tag
    depends on their dates, are read (dates only) and told apart here, as
    `AgreementQuerySet.tagged` does.
    """
    by_status = {
        Status.DRAFT: Tag.DRAFT,
        Status.ADVICE_REQUESTED: Tag.AWAITING_ADVICE,
        Status.ADVISED: Tag.AWAITING_APPROVAL,
        Status.UNDER_REVIEW: Tag.UNDER_REVIEW,
        Status.TERMINATED: Tag.TERMINATED,
        Status.EXPIRED: Tag.EXPIRED,
        Status.WITHDRAWN: Tag.WITHDRAWN,
    }
    counts: Counter[str] = Counter()
    grouped = agreements.order_by().values("status").annotate(number=Count("pk"))
    for row in grouped.exclude(status=Status.APPROVED):
        counts[by_status[Status(row["status"])].value] += row["number"]
    approved = agreements.order_by().filter(status=Status.APPROVED)
    for start, period_starts, months in approved.values_list(
        "start_date", "review_period_starts", "review_interval_months"
    ):
        counts[approved_tag(start, period_starts, months, today).value] += 1
    return counts
