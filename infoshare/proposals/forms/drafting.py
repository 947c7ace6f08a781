"""The forms of the drafting steps (Appendix A steps 1 to 3), withdrawal and the list's filters.

The forms check each answer on its own (required, one of the choices); the
rules that join answers together (a "yes" needs its details, "other" needs a
description) live in services.py and come back beside the field of the same
name, which is why the fields are named as the services' dataclass fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q

from infoshare.core.models import DataCategory, Organisation, Purpose
from infoshare.proposals.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Anonymisation,
    PrivacyNotice,
    Proposal,
    Status,
)
from infoshare.proposals.services import Screening, StepOne, StepTwo

if TYPE_CHECKING:
    from infoshare.proposals.models import ProposalQuerySet

# The privacy impact screening questions, worded exactly as in Appendix A step 3
# of the school policy: the form, the task list and the check page show these.
SCREENING_QUESTIONS = {
    1: "What is the name of the project or activity this information sharing relates to?",
    2: "What is the purpose(s) of the project and why does the personal data need to be "
    "shared in order to achieve it?",
    3: "What information will be shared?",
    4: "Does the project/data processing activity require sharing any special category data?",
    5: "Are the purposes described in response to question 2 described or referred to in the "
    "Privacy Notice?",
    6: "Which individuals or organisations will the personal information be shared with?",
    7: "Does the project/data processing activity involve any new systems/technology?",
    8: "Does this project/data processing activity involve automated decision making processes "
    "(i.e. using algorithms or profiling to make decisions that will affect the individuals to "
    "whom the data relates)?",
    9: "Does the project/data processing relate to profiling of citizens (e.g. gang membership)?",
    10: "Does the project/data processing combine or match personal data from multiple sources?",
}


def _numbered(number: int) -> str:
    return f"{number}. {SCREENING_QUESTIONS[number]}"


YES, NO = "yes", "no"
YES_NO = [(YES, "Yes"), (NO, "No")]


def _text(label: str, *, rows: int = 3, hint: str = "", required: str = "") -> forms.CharField:
    """A textarea; `required` is its message when it must be answered."""
    return forms.CharField(
        label=label,
        required=bool(required),
        help_text=hint,
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=10_000,
        error_messages={
            "required": required,
            "max_length": "This answer must be 10,000 characters or fewer",
        },
    )


def _yes_no(label: str, *, hint: str = "", required: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=YES_NO,
        required=bool(required),
        widget=forms.RadioSelect,
        help_text=hint,
        error_messages={"required": required, "invalid_choice": "Choose yes or no"},
    )


def as_yes_no(value: bool | None) -> str | None:
    """A stored answer as the radio button that shows it."""
    if value is None:
        return None
    return YES if value else NO


def from_yes_no(value: str) -> bool | None:
    """A radio answer as stored: None while the question is not answered."""
    return {YES: True, NO: False}.get(value)


# --- Step 1: deciding to share ----------------------------------------------------


class StepOneForm(forms.Form):
    name = forms.CharField(
        label=SCREENING_QUESTIONS[1],
        max_length=200,
        help_text="Screening question 1. A short name everyone in the school will recognise, "
        "like 'Reading tutors from the literacy charity'.",
        error_messages={
            "required": "Enter the name of the project or activity.",
            "max_length": "The name must be 200 characters or fewer.",
        },
    )
    purpose = forms.ModelChoiceField(
        label="What is the purpose of the project?",
        queryset=Purpose.objects.filter(is_active=True),
        empty_label="Choose the purpose",
        help_text="Screening question 2, first part. Choose the purpose from the school's policy.",
        error_messages={
            "required": "Choose the purpose of the sharing.",
            "invalid_choice": "Choose a purpose from the list.",
        },
    )
    purpose_described = _text(
        "Describe the purpose",
        hint="Needed if you chose 'Other'. Otherwise add anything that explains the purpose.",
    )
    why_personal_data = _text(
        "Why does the personal data need to be shared in order to achieve it?",
        rows=4,
        hint="Screening question 2, second part. Say what the project cannot do without it.",
        required="Explain why personal data needs to be shared.",
    )
    achievable_without = _yes_no(
        "Could the goal be achieved without sharing personal data?",
        hint="Sharing personal data is never automatic. If you answer yes, the proposal is "
        "closed as 'sharing not needed' and your reasons are kept with it.",
        required="Choose yes if the goal could be achieved without sharing personal data, "
        "or no if it could not.",
    )
    achievable_without_reasons = _text(
        "If yes, how could the goal be achieved without sharing personal data?",
        hint="Needed if you answered yes.",
    )

    def answers(self) -> StepOne:
        data = self.cleaned_data
        return StepOne(
            name=data["name"],
            purpose=data["purpose"],
            purpose_described=data["purpose_described"],
            why_personal_data=data["why_personal_data"],
            achievable_without=data["achievable_without"] == YES,
            achievable_without_reasons=data["achievable_without_reasons"],
        )


def step_one_initial(proposal: Proposal) -> dict[str, Any]:
    return {
        "name": proposal.name,
        "purpose": proposal.purpose_id,
        "purpose_described": proposal.purpose_described,
        "why_personal_data": proposal.why_personal_data,
        "achievable_without": as_yes_no(proposal.achievable_without),
        "achievable_without_reasons": proposal.achievable_without_reasons,
    }


# --- Step 2: anonymisation or pseudonymisation considered -------------------------


class StepTwoForm(forms.Form):
    anonymisation = forms.ChoiceField(
        label="What did you consider instead of sharing personal data?",
        choices=Anonymisation.choices,
        widget=forms.RadioSelect,
        help_text="The ICO's Anonymisation Code of Practice explains when data is truly "
        "anonymous, and the ways of anonymising or pseudonymising it.",
        error_messages={
            "required": "Choose which kind of anonymisation was considered.",
            "invalid_choice": "Choose which kind of anonymisation was considered.",
        },
    )
    reasons = _text(
        "What did you consider, and why?",
        rows=4,
        hint="For example, why pseudonymised data would or would not meet the goal.",
        required="Explain what was considered and why.",
    )
    meets_goal = _yes_no(
        "Does it meet the goal, so that no personal data need be shared?",
        hint="If you answer yes, the proposal is closed: it records that personal data will "
        "not be shared, with your reasons.",
        required="Choose yes if it meets the goal, or no if personal data must still be shared.",
    )

    def answers(self) -> StepTwo:
        data = self.cleaned_data
        return StepTwo(
            anonymisation=data["anonymisation"],
            reasons=data["reasons"],
            meets_goal=data["meets_goal"] == YES,
        )


def step_two_initial(proposal: Proposal) -> dict[str, Any]:
    return {
        "anonymisation": proposal.anonymisation or None,
        "reasons": proposal.anonymisation_reasons,
        "meets_goal": as_yes_no(proposal.anonymisation_meets_goal),
    }


# --- Step 3: the screening questions 3 to 10 --------------------------------------


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} (special category)" if obj.is_special else str(obj.name)


class RecipientChoiceField(forms.ModelMultipleChoiceField):
    """Organisations named with their kind, so two of a name can be told apart."""

    def label_from_instance(self, obj: Any) -> str:
        kind = obj.get_external_kind_display() if obj.external_kind else obj.get_kind_display()
        if kind.lower() == obj.name.lower():
            return str(obj.name)
        return f"{obj.name} ({kind.lower()})"


# Yes-or-no questions with their details, in the order of the policy.
YES_NO_QUESTIONS = (
    "special_category",
    "new_systems",
    "automated_decisions",
    "profiling",
    "combines_sources",
)


class ScreeningForm(forms.Form):
    """Questions 3 to 10. Every answer may be left for later: nothing here is required."""

    information_shared = _text(
        _numbered(3),
        rows=4,
        hint="Describe the information, not the information itself: for example, 'name, year "
        "group and latest reading age of the pupils in the programme'.",
    )
    categories = CategoryChoiceField(
        label="Categories of information",
        queryset=DataCategory.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. Special category data needs a yes to question 4.",
        error_messages={"invalid_choice": "Choose categories from the list."},
    )
    special_category = _yes_no(_numbered(4))
    special_category_details = _text(
        "Which special category data?", rows=2, hint="Needed if you answered yes."
    )
    privacy_notice = forms.ChoiceField(
        label=_numbered(5),
        choices=PrivacyNotice.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose yes, partly or no."},
    )
    privacy_notice_details = _text(
        "Details (optional)",
        rows=2,
        hint="For example, which privacy notice, or what it leaves out.",
    )
    recipients = RecipientChoiceField(
        label=_numbered(6),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all the organisations that will receive it.",
        error_messages={"invalid_choice": "Choose organisations from the list."},
    )
    recipients_details = _text(
        "Others not in the list",
        rows=2,
        hint="Name any other organisations, and the people or roles who will receive it.",
    )
    new_systems = _yes_no(_numbered(7))
    new_systems_details = _text(
        "Describe the new systems or technology", rows=2, hint="Needed if you answered yes."
    )
    automated_decisions = _yes_no(_numbered(8))
    automated_decisions_details = _text(
        "Describe the automated decisions and their effect on people",
        rows=2,
        hint="Needed if you answered yes.",
    )
    profiling = _yes_no(_numbered(9))
    profiling_details = _text("Describe the profiling", rows=2, hint="Needed if you answered yes.")
    combines_sources = _yes_no(_numbered(10))
    combines_sources_details = _text(
        "Which sources are combined or matched?", rows=2, hint="Needed if you answered yes."
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recipients = self.fields["recipients"]
        assert isinstance(recipients, forms.ModelMultipleChoiceField)
        # The school does not share with itself; grouped by kind, so alike sit together.
        recipients.queryset = Organisation.objects.exclude(pk=organisation.pk).order_by(
            "kind", "external_kind", "name"
        )

    def answers(self) -> Screening:
        data = self.cleaned_data
        return Screening(
            information_shared=data["information_shared"],
            categories=list(data["categories"]),
            special_category=from_yes_no(data["special_category"]),
            special_category_details=data["special_category_details"],
            privacy_notice=data["privacy_notice"],
            privacy_notice_details=data["privacy_notice_details"],
            recipients=list(data["recipients"]),
            recipients_details=data["recipients_details"],
            new_systems=from_yes_no(data["new_systems"]),
            new_systems_details=data["new_systems_details"],
            automated_decisions=from_yes_no(data["automated_decisions"]),
            automated_decisions_details=data["automated_decisions_details"],
            profiling=from_yes_no(data["profiling"]),
            profiling_details=data["profiling_details"],
            combines_sources=from_yes_no(data["combines_sources"]),
            combines_sources_details=data["combines_sources_details"],
        )


def screening_initial(proposal: Proposal) -> dict[str, Any]:
    initial: dict[str, Any] = {
        name: getattr(proposal, name)
        for name in ScreeningForm.base_fields
        if name not in {"categories", "recipients", *YES_NO_QUESTIONS}
    }
    initial.update({name: as_yes_no(getattr(proposal, name)) for name in YES_NO_QUESTIONS})
    initial["privacy_notice"] = proposal.privacy_notice or None
    initial["categories"] = list(proposal.categories.all())
    initial["recipients"] = list(proposal.recipients.all())
    return initial


# --- Submitting the screening, and withdrawing ------------------------------------


class SubmitScreeningForm(forms.Form):
    """No questions: it carries what the service refuses to the error summary."""


class WithdrawForm(forms.Form):
    reasons = _text(
        "Why are you withdrawing this proposal?",
        rows=4,
        hint="The proposal is kept, with your reason, so anyone can see why it stopped.",
        required="Give the reason for withdrawing the proposal.",
    )


# --- The list's filters -----------------------------------------------------------

ALL_OPEN, ALL_CLOSED = "open", "closed"
STATUS_FILTERS = [
    ("", "Any status"),
    (ALL_OPEN, "All open"),
    *Status.choices,
    (ALL_CLOSED, "All closed"),
]
# The list's orders: the label of the column, then the order each way. Ties are
# broken by id, so that pages never overlap.
SORTS = {
    "updated": ("Last updated", ("updated_at", "id"), ("-updated_at", "-id")),
    "name": ("Name", ("name", "id"), ("-name", "-id")),
    "reference": ("Reference", ("reference",), ("-reference",)),
}
# Dates sort newest first on the first click; text A to Z.
SORTS_NEWEST_FIRST = {"updated"}
DEFAULT_SORT = "-updated"
# A pasted paragraph must not become dozens of scans of the list.
MAX_SEARCH_WORDS = 6


class ProposalFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="A reference or words from the name",
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={"max_length": "Search must be 200 characters or fewer"},
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=STATUS_FILTERS,
        error_messages={"invalid_choice": "Select a status from the list"},
    )

    @property
    def is_filtering(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    @property
    def sort(self) -> str:
        """`updated`, `-updated`, `name`…; anything unknown is the default order."""
        wanted = self.data.get("sort", "") if self.is_bound else ""
        return wanted if wanted.lstrip("-") in SORTS else DEFAULT_SORT

    def filter(self, proposals: ProposalQuerySet) -> ProposalQuerySet:
        """The proposals matching the filters, in the chosen order; with any filter
        invalid, none is applied (its error shows beside it) rather than a misleading list."""
        _label, ascending, descending = SORTS[self.sort.lstrip("-")]
        proposals = proposals.order_by(*(descending if self.sort.startswith("-") else ascending))
        if not self.is_valid():
            return proposals
        # Word by word, each in the reference or the name, whatever its case.
        for word in self.cleaned_data["q"].split()[:MAX_SEARCH_WORDS]:
            proposals = proposals.filter(Q(reference__icontains=word) | Q(name__icontains=word))
        return _with_status(proposals, self.cleaned_data["status"])


def _with_status(proposals: ProposalQuerySet, status: str) -> ProposalQuerySet:
    if status == ALL_OPEN:
        return proposals.filter(status__in=OPEN_STATUSES)
    if status == ALL_CLOSED:
        return proposals.filter(status__in=CLOSED_STATUSES)
    if status:
        return proposals.filter(status=status)
    return proposals
