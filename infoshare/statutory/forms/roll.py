"""The roll change forms: recording a joining or a removal, withdrawing, marking notified,
and the list's search and filters.

The forms only turn what was posted into the drafts the services take. What a
change must have, and how its answers hang together, is checked by
`services.roll`, whose messages come back beside these fields (keyed by the
same names), so every problem shows at once in the services' own words.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Case, DateField, F, Q, When
from django.db.models.functions import Cast
from django.utils import timezone

from infoshare.core.forms import date_field
from infoshare.core.models import Organisation, OrganisationKind, Person, PersonKind
from infoshare.safeguarding.forms import PupilChoiceField
from infoshare.statutory.models import (
    DAYS_TO_NOTIFY_JOINING,
    ChangeKind,
    NotificationMethod,
    NotificationStatus,
    RemovalGround,
    RollChange,
)
from infoshare.statutory.services import roll as services

if TYPE_CHECKING:
    from django.db.models import QuerySet

TEXT = {"rows": 3}


class GroundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.regulation} \u2014 {obj.name}"


def _pupils_of(organisation: Organisation) -> QuerySet[Person]:
    return Person.objects.in_organisation(organisation).filter(kind=PersonKind.PUPIL)


def _pupil_field(label: str, empty_label: str) -> PupilChoiceField:
    return PupilChoiceField(
        label=label,
        queryset=Person.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label=empty_label,
        error_messages={"invalid_choice": "Choose a pupil of this school from the list"},
    )


class JoiningForm(forms.Form):
    """A pupil entered in the admission register: one on the list already, or a new one."""

    pupil = _pupil_field("Pupil", "A new pupil, not on the list yet")
    given_name = forms.CharField(label="First name", max_length=100, required=False)
    family_name = forms.CharField(label="Last name", max_length=100, required=False)
    upn = forms.CharField(
        label="UPN (optional)",
        max_length=20,
        required=False,
        help_text="The unique pupil number, if the pupil has one already. 13 characters.",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-20", "spellcheck": "false"}),
    )
    date_of_birth = date_field("Date of birth (optional)", what="the date of birth")
    change_date = date_field(
        "Date entered in the admission register",
        what="the date the pupil was entered in the admission register",
        help_text="The first day the school expects the pupil to attend. For example, 27/3/2026.",
    )
    notes = forms.CharField(
        label="Notes (optional)", required=False, widget=forms.Textarea(attrs=TEXT)
    )

    kind = ChangeKind.JOINED
    new_pupil_fields = ("given_name", "family_name", "upn", "date_of_birth")

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        pupil = self.fields["pupil"]
        assert isinstance(pupil, forms.ModelChoiceField)
        pupil.queryset = _pupils_of(organisation)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("pupil") and any(data.get(name) for name in self.new_pupil_fields):
            self.add_error(
                "pupil",
                "Choose a pupil from the list, or leave it as a new pupil and enter their "
                "details, not both",
            )
        _check_without_date(
            self, data, "Enter the date the pupil was entered in the admission register"
        )
        return data

    def draft(self) -> services.RollChangeDraft:
        return self.draft_on(self.cleaned_data["change_date"])

    def draft_on(self, change_date: datetime.date) -> services.RollChangeDraft:
        data = self.cleaned_data
        return services.RollChangeDraft(
            kind=self.kind,
            change_date=change_date,
            pupil=data.get("pupil"),
            given_name=data.get("given_name") or "",
            family_name=data.get("family_name") or "",
            upn=data.get("upn") or "",
            date_of_birth=data.get("date_of_birth"),
            notes=data.get("notes") or "",
        )


class RemovalForm(forms.Form):
    """A pupil whose name is to be deleted from the admission register, and on which ground."""

    pupil = _pupil_field("Pupil", "Choose the pupil")
    change_date = date_field(
        "Date of removal from the roll",
        what="the date the pupil's name is deleted from the register",
        help_text="The day the pupil's name is deleted from the admission register. "
        "For example, 27/3/2026.",
    )
    ground = GroundChoiceField(
        label="Ground for removal (regulation 9)",
        queryset=RemovalGround.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": "Choose a ground from the list"},
    )
    notes = forms.CharField(
        label="Notes (optional)", required=False, widget=forms.Textarea(attrs=TEXT)
    )

    kind = ChangeKind.REMOVED

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        pupil = self.fields["pupil"]
        ground = self.fields["ground"]
        assert isinstance(pupil, forms.ModelChoiceField)
        assert isinstance(ground, forms.ModelChoiceField)
        pupil.queryset = _pupils_of(organisation)
        ground.queryset = RemovalGround.objects.filter(is_active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_without_date(self, data, "Enter the date the pupil is removed from the roll")
        return data

    def draft(self) -> services.RollChangeDraft:
        return self.draft_on(self.cleaned_data["change_date"])

    def draft_on(self, change_date: datetime.date) -> services.RollChangeDraft:
        data = self.cleaned_data
        return services.RollChangeDraft(
            kind=self.kind,
            change_date=change_date,
            pupil=data.get("pupil"),
            ground=data.get("ground"),
            notes=data.get("notes") or "",
        )


def _check_without_date(
    form: JoiningForm | RemovalForm, data: dict[str, Any], missing: str
) -> None:
    """Without a usable date the service is not called, so its other checks run here:
    every problem shows at once, not the date first and the rest on the next try."""
    if data.get("change_date"):
        return
    if "change_date" not in form.errors:
        form.add_error("change_date", missing)
    draft = form.draft_on(timezone.localdate())
    for name, message in services.roll_change_errors(
        form.organisation, draft, today=timezone.localdate()
    ).items():
        if name in form.fields and name != "change_date" and name not in form.errors:
            form.add_error(name, message)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing it?",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text="For example, it was recorded for the wrong pupil. Kept with the change.",
    )


class NotifyForm(forms.Form):
    """How the local authority was told of the selected changes."""

    local_authority = forms.ModelChoiceField(
        label="Which local authority did you tell?",
        queryset=Organisation.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="Choose the local authority",
        error_messages={"invalid_choice": "Choose a local authority from the list"},
    )
    notified_on = date_field("Date you told them", what="the date you told the local authority")
    method = forms.ChoiceField(
        label="How did you tell them?",
        choices=NotificationMethod.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose how you told the local authority"},
    )
    reference = forms.CharField(
        label="Their reference (optional)",
        required=False,
        max_length=100,
        help_text="A reference the local authority gave you, if any: a case or receipt number.",
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        authority = self.fields["local_authority"]
        assert isinstance(authority, forms.ModelChoiceField)
        authority.queryset = Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY)
        default = services.default_local_authority(organisation)
        if default is not None:
            self.initial.setdefault("local_authority", default.slug)

    def notification(self) -> services.Notification:
        data = self.cleaned_data
        return services.Notification(
            local_authority=data["local_authority"],
            notified_on=data["notified_on"],
            method=data["method"],
            reference=data["reference"],
        )


# --- The list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    label: str
    order: tuple[str, ...]


SORTS = {
    "deadline": Sort("Deadline, soonest first", ("deadline_on", "change_date", "pk")),
    "newest": Sort("Date of the change, newest first", ("-change_date", "-pk")),
    "oldest": Sort("Date of the change, oldest first", ("change_date", "pk")),
    "pupil": Sort(
        "Pupil, A to Z", ("pupil__family_name", "pupil__given_name", "-change_date", "pk")
    ),
    "reference": Sort("Reference", ("reference",)),
}
DEFAULT_SORT = "deadline"
# The states the list filters by: the statuses, and "to notify" split by the deadline.
STATE_CHOICES = [
    ("to_notify", "To notify (due or overdue)"),
    ("due", "Due"),
    ("overdue", "Overdue"),
    ("notified", "Notified"),
    ("withdrawn", "Withdrawn"),
    ("all", "Any state"),
]
DEFAULT_STATE = "to_notify"
MAX_SEARCH_WORDS = 6


def with_deadline(changes: QuerySet[RollChange]) -> QuerySet[RollChange]:
    """Annotated with `deadline_on`, computed in the database as the model computes it."""
    joining_deadline = Cast(
        F("change_date") + datetime.timedelta(days=DAYS_TO_NOTIFY_JOINING),
        output_field=DateField(),
    )
    return changes.annotate(
        deadline_on=Case(
            When(kind=ChangeKind.JOINED, then=joining_deadline),
            default=F("change_date"),
            output_field=DateField(),
        )
    )


class RollFilterForm(forms.Form):
    """The list of roll changes: a GET form, so a filtered list can be bookmarked."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="A pupil's name or UPN, or a reference like RC-2026-0003",
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={"max_length": "Search must be 100 characters or fewer"},
    )
    state = forms.ChoiceField(
        label="State",
        choices=STATE_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Choose a state from the list"},
    )
    kind = forms.ChoiceField(
        label="Change",
        choices=[("", "Joined or removed"), *ChangeKind.choices],
        required=False,
        error_messages={"invalid_choice": "Choose a change from the list"},
    )
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[(key, sort.label) for key, sort in SORTS.items()],
        required=False,
        error_messages={"invalid_choice": "Choose an order from the list"},
    )

    def _value(self, name: str, default: str) -> str:
        if not self.is_valid():
            return default
        return str(self.cleaned_data.get(name) or default)

    @property
    def state_key(self) -> str:
        return self._value("state", DEFAULT_STATE)

    @property
    def sort_key(self) -> str:
        return self._value("sort", DEFAULT_SORT)

    @property
    def is_filtering(self) -> bool:
        return self.is_valid() and (
            bool(self.cleaned_data["q"] or self.cleaned_data["kind"])
            or self.state_key != DEFAULT_STATE
        )

    def filter(self, changes: QuerySet[RollChange], today: datetime.date) -> QuerySet[RollChange]:
        """The changes matching every filter, in the chosen order.

        With any filter invalid only the default state applies (the error shows
        beside the filter), rather than a list narrowed by some filters only.
        """
        changes = with_deadline(changes).order_by(*SORTS[self.sort_key].order)
        changes = changes.filter(_state_filter(self.state_key, today))
        if not self.is_valid():
            return changes
        data = self.cleaned_data
        for word in data["q"].split()[:MAX_SEARCH_WORDS]:
            changes = changes.filter(_mentions(word))
        if data["kind"]:
            changes = changes.filter(kind=data["kind"])
        return changes


def _state_filter(state: str, today: datetime.date) -> Q:
    to_notify = Q(status=NotificationStatus.TO_NOTIFY)
    return {
        "to_notify": to_notify,
        "due": to_notify & services.in_time(today),
        "overdue": to_notify & ~services.in_time(today),
        "notified": Q(status=NotificationStatus.NOTIFIED),
        "withdrawn": Q(status=NotificationStatus.WITHDRAWN),
        "all": Q(),
    }[state]


def _mentions(word: str) -> Q:
    """The pupil's name or UPN, or the change's reference, contains `word`."""
    return (
        Q(pupil__given_name__icontains=word)
        | Q(pupil__family_name__icontains=word)
        | Q(pupil__upn__iexact=word.upper())
        | Q(reference__icontains=word)
    )
