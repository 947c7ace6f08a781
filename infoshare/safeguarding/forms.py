"""The safeguarding forms: sharing, signing, withdrawing, asking to share further, answering.

The forms only turn what was posted into the answers the services take.
What must be answered, and how the answers hang together, is checked by
`services.py`, whose messages come back beside these fields (they are keyed
by the same names). So the fields are optional here: every problem shows at
once, signing included, in the services' own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from infoshare.core.models import Membership, Organisation, Person, PersonKind, User
from infoshare.core.security import has_second_factor
from infoshare.safeguarding import services
from infoshare.safeguarding.models import (
    DECLARATIONS,
    FileKind,
    Part,
    ReshareKind,
    Share,
    ShareQuerySet,
    Status,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.forms.boundfield import BoundField

TEXT = {"rows": 4}
SIGNING_FIELDS = ["signed_name", "confirmed", "secret"]


# --- Signing ---------------------------------------------------------------------------


class UnfilledInput(forms.TextInput):
    """A text input that never shows back what was typed: a code is good once, if at all."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        return super().get_context(name, None, attrs)


class SigningForm(forms.Form):
    """A declaration of the Appendix B form, signed: the name, the tick, and the proof.

    The proof is the code from the signer's authenticator app when they have
    one, or else their password (`core.security.confirm_identity`). Subclasses
    add their questions; the signing fields always come last, under the
    declaration's words (`safeguarding/partials/signing.html`).
    """

    signed_name = forms.CharField(label="Your name, as you sign", max_length=150, required=False)
    confirmed = forms.BooleanField(
        label="I make this declaration",
        required=False,
        # The error summary links a checkbox's error to "<id>_0", as for a group of them.
        widget=forms.CheckboxInput(attrs={"id": "id_confirmed_0"}),
    )
    secret = forms.CharField(required=False, max_length=128, strip=False)

    def __init__(self, *args: Any, user: User, part: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.part = Part(part)
        self.initial.setdefault("signed_name", user.name)
        self.order_fields([name for name in self.fields if name not in SIGNING_FIELDS])
        secret = self.fields["secret"]
        if has_second_factor(user):
            secret.label = "Code from your authenticator app"
            secret.help_text = "The 6-digit code the app shows now. Each code signs once only."
            secret.widget = UnfilledInput(
                attrs={
                    "autocomplete": "one-time-code",
                    "inputmode": "numeric",
                    "spellcheck": "false",
                    "class": "govuk-input--width-5",
                }
            )
        else:
            secret.label = "Your password"
            secret.help_text = "The password you sign in with: it shows that it is you signing."
            secret.widget = forms.PasswordInput(
                attrs={"autocomplete": "current-password", "class": "govuk-input--width-20"}
            )

    @property
    def declaration(self) -> str:
        """The declaration's exact words, as the form prints them."""
        return DECLARATIONS[self.part]

    @property
    def declaration_title(self) -> str:
        return self.part.label

    def signing(self) -> services.Signing:
        data = self.cleaned_data
        return services.Signing(
            name=data["signed_name"], confirmed=bool(data["confirmed"]), secret=data["secret"]
        )


# --- Sharing -----------------------------------------------------------------------------


class ChoiceByUuid(forms.ModelChoiceField):
    """A choice posted as a UUID; anything that is not one is just as much not a choice."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from error


class PupilChoiceField(ChoiceByUuid):
    def label_from_instance(self, obj: Any) -> str:
        upn = f", UPN {obj.upn}" if obj.upn else ""
        year = f", {obj.year_group}" if obj.year_group else ""
        return f"{obj.family_name}, {obj.given_name}{upn}{year}"


class StaffChoiceField(ChoiceByUuid):
    """Members of staff by name, with their job title or roles so namesakes can be told apart."""

    descriptions: dict[int, str]

    def label_from_instance(self, obj: Any) -> str:
        described = self.descriptions.get(obj.pk, "")
        return f"{obj.name} ({described})" if described else str(obj.name)


def staff_field(users: list[User], organisation: Organisation, field: Any) -> None:
    """Offer `users` (members of `organisation`) in `field`, each described by job or roles."""
    field.queryset = User.objects.filter(pk__in=[user.pk for user in users]).order_by("name")
    field.descriptions = staff_descriptions(organisation, users)


def staff_descriptions(organisation: Organisation, users: Iterable[User]) -> dict[int, str]:
    memberships = (
        Membership.objects.active()
        .with_roles()
        .filter(organisation=organisation, user__in=[user.pk for user in users])
    )
    return {
        membership.user_id: membership.job_title or ", ".join(membership.role_labels())
        for membership in memberships
    }


class ShareForm(SigningForm):
    """A DSL shares information with a named member of staff (Appendix B), signing as DSL."""

    pupil = PupilChoiceField(
        label="Pupil",
        queryset=Person.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label="Choose the pupil",
        error_messages={"invalid_choice": "Choose a pupil of this school from the list"},
    )
    file_kind = forms.ChoiceField(
        label="Which of the child's files does the form go on?",
        choices=FileKind.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose which of the child's files the form goes on"},
    )
    file_reference = forms.CharField(
        label="Reference of the child's file",
        max_length=100,
        required=False,
        help_text="As it is known where the file is kept: another system or the paper file.",
    )
    description = forms.CharField(
        label="Description of the information being shared",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text="A brief description, as on the form; the full detail stays on the child's file.",
    )
    recipient = StaffChoiceField(
        label="Who are you sharing it with?",
        queryset=User.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label="Choose the member of staff",
        error_messages={"invalid_choice": "Choose a member of staff of this school from the list"},
    )

    def __init__(self, *args: Any, organisation: Organisation, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, part=Part.DSL, **kwargs)
        pupil = self.fields["pupil"]
        assert isinstance(pupil, forms.ModelChoiceField)
        pupil.queryset = Person.objects.in_organisation(organisation).filter(kind=PersonKind.PUPIL)
        staff_field(
            services.recipients_for(organisation, excluding=user),
            organisation,
            self.fields["recipient"],
        )

    def answers(self) -> services.ShareAnswers:
        data = self.cleaned_data
        return services.ShareAnswers(
            pupil=data["pupil"],
            file_kind=data["file_kind"],
            file_reference=data["file_reference"],
            description=data["description"],
            recipient=data["recipient"],
        )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing it?",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text="Kept with the record, for the designated safeguarding leads.",
    )


# --- Sharing further ---------------------------------------------------------------------


@dataclass(frozen=True)
class KindOption:
    """One answer to "who with?", and the questions it asks beneath it."""

    id: str
    value: str
    label: str
    checked: bool
    fields: list[BoundField] = field(default_factory=list)


class ReshareForm(forms.Form):
    """The recipient asks a DSL's permission to share the information further."""

    kind = forms.ChoiceField(
        label="Who do you want to share it with?",
        choices=ReshareKind.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Choose whether you want to share with a colleague or an organisation"
        },
    )
    colleague = StaffChoiceField(
        label="Member of staff",
        queryset=User.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label="Choose the member of staff",
        error_messages={"invalid_choice": "Choose a member of staff of this school from the list"},
    )
    outside_organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="Not in this list: type its name below",
        error_messages={"invalid_choice": "Choose an organisation from the list"},
    )
    outside_organisation_name = forms.CharField(
        label="Organisation not in the list", required=False, max_length=200
    )
    outside_person = forms.CharField(
        label="Person or role there",
        required=False,
        max_length=200,
        help_text="For example, 'duty clinician' or 'Jo Bloggs, school nurse'.",
    )
    reason = forms.CharField(
        label="Why does it need to be shared further?",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
    )

    def __init__(self, *args: Any, share: Share, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = share.organisation
        # Neither the requester nor the DSL who shared it: they hold it already.
        holders = {user.pk, share.shared_by_id}
        colleagues = [
            person for person in services.recipients_for(organisation) if person.pk not in holders
        ]
        staff_field(colleagues, organisation, self.fields["colleague"])
        outside = self.fields["outside_organisation"]
        assert isinstance(outside, forms.ModelChoiceField)
        # As the decision log offers them: any organisation but the school itself.
        outside.queryset = Organisation.objects.exclude(pk=organisation.pk)

    def kind_options(self) -> list[KindOption]:
        bound = self["kind"]
        current = str(bound.value() or "")
        beneath = {
            ReshareKind.INTERNAL.value: [self["colleague"]],
            ReshareKind.EXTERNAL.value: [
                self["outside_organisation"],
                self["outside_organisation_name"],
                self["outside_person"],
            ],
        }
        return [
            KindOption(
                id=f"{bound.auto_id}_{index}",
                value=str(value),
                label=str(label),
                checked=current == str(value),
                fields=beneath[str(value)],
            )
            for index, (value, label) in enumerate(ReshareKind.choices)
        ]

    def answers(self) -> services.ReshareAnswers:
        data = self.cleaned_data
        kind = data["kind"]
        return services.ReshareAnswers(
            kind=kind,
            reason=data["reason"],
            # Only what belongs to the chosen kind: a colleague picked, then
            # "an organisation" chosen instead, is not part of the request.
            colleague=data["colleague"] if kind == ReshareKind.INTERNAL else None,
            outside_organisation=(
                data["outside_organisation"] if kind == ReshareKind.EXTERNAL else None
            ),
            outside_organisation_name=(
                data["outside_organisation_name"] if kind == ReshareKind.EXTERNAL else ""
            ),
            outside_person=data["outside_person"] if kind == ReshareKind.EXTERNAL else "",
        )


class RefuseForm(forms.Form):
    reasons = forms.CharField(
        label="Why may it not be shared further?",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text="The person who asked reads this.",
    )


class PermitInternalForm(SigningForm):
    """A DSL permits sharing with a colleague: a new record, which they sign as DSL."""

    reasons = forms.CharField(
        label="Why may it be shared further?",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text="The person who asked reads this.",
    )
    description = forms.CharField(
        label="Description of the information being shared",
        required=False,
        widget=forms.Textarea(attrs=TEXT),
        help_text="As on the original record. Cut it down to what the colleague needs to know.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, part=Part.DSL, **kwargs)


# --- The DSL's list ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    label: str
    order: tuple[str, ...]


SORTS = {
    "newest": Sort("Newest first", ("-shared_at", "-pk")),
    "oldest": Sort("Oldest first", ("shared_at", "pk")),
    "pupil": Sort("Pupil, A to Z", ("pupil__family_name", "pupil__given_name", "-shared_at")),
    "recipient": Sort("Shared with, A to Z", ("recipient__name", "-shared_at")),
}
DEFAULT_SORT = "newest"
# Searching is word by word; a cap keeps a pasted paragraph from becoming many scans.
MAX_SEARCH_WORDS = 6


class RecordFilterForm(forms.Form):
    """The DSL's list of records: a GET form, so a filtered list can be bookmarked."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="A pupil's name or UPN, or a record's reference",
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={"max_length": "Search must be 100 characters or fewer"},
    )
    recipient = ChoiceByUuid(
        label="Shared with",
        queryset=User.objects.none(),
        to_field_name="uuid",
        required=False,
        empty_label="Anyone",
        error_messages={"invalid_choice": "Choose a person from the list"},
    )
    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Any status"), *Status.choices],
        required=False,
        error_messages={"invalid_choice": "Choose a status from the list"},
    )
    pupil = ChoiceByUuid(
        label="Pupil",
        queryset=Person.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That pupil is not on this school's list"},
    )
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[(key, sort.label) for key, sort in SORTS.items()],
        required=False,
        error_messages={"invalid_choice": "Choose an order from the list"},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recipient = self.fields["recipient"]
        pupil = self.fields["pupil"]
        assert isinstance(recipient, forms.ModelChoiceField)
        assert isinstance(pupil, forms.ModelChoiceField)
        # Only people something was shared with: the filter offers no empty choices.
        recipient.queryset = User.objects.filter(
            pk__in=Share.objects.filter(organisation=organisation).values("recipient")
        ).order_by("name")
        pupil.queryset = Person.objects.in_organisation(organisation)

    @property
    def is_filtering(self) -> bool:
        return self.is_valid() and any(
            self.cleaned_data.get(name) for name in ("q", "recipient", "status", "pupil")
        )

    @property
    def chosen_pupil(self) -> Person | None:
        return self.cleaned_data.get("pupil") if self.is_valid() else None

    @property
    def sort_key(self) -> str:
        wanted = self.cleaned_data.get("sort") if self.is_valid() else None
        return wanted if wanted in SORTS else DEFAULT_SORT

    def filter(self, shares: ShareQuerySet) -> ShareQuerySet:
        """The records matching every filter, in the chosen order.

        With any filter invalid none is applied (its error shows beside it),
        rather than a list narrowed by some filters and not others.
        """
        shares = shares.order_by(*SORTS[self.sort_key].order)
        if not self.is_valid():
            return shares
        data = self.cleaned_data
        for word in data["q"].split()[:MAX_SEARCH_WORDS]:
            shares = shares.filter(_mentions(word))
        if data["recipient"]:
            shares = shares.filter(recipient=data["recipient"])
        if data["status"]:
            shares = shares.filter(status=data["status"])
        if data["pupil"]:
            shares = shares.filter(pupil=data["pupil"])
        return shares


def _mentions(word: str) -> Q:
    """The pupil's name or UPN, or the record's reference, contains `word`."""
    return (
        Q(pupil__given_name__icontains=word)
        | Q(pupil__family_name__icontains=word)
        | Q(pupil__upn__iexact=word.upper())
        | Q(reference__icontains=word)
    )
