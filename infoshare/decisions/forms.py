"""The forms for recording, correcting and reviewing a decision.

The forms check each answer on its own (required, a real date); the rules
that join answers together (a special category share needs a condition, and
so on) live in services.decision_errors, so commands obey them too, and come
back here beside the field they concern.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Organisation,
    Person,
    Purpose,
    SpecialCategoryCondition,
    User,
)
from infoshare.decisions.models import Arrangement, Check, Consent, Decision, Method, Outcome
from infoshare.decisions.services import DecisionDraft

if TYPE_CHECKING:
    from django.db.models import QuerySet

# How many people a search inside the form offers at once.
PEOPLE_SEARCH_LIMIT = 20
DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%Y-%m-%d", "%d-%m-%Y"]


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} (special category)" if obj.is_special else str(obj.name)


class NamedChoiceField(forms.ModelChoiceField):
    """Shows a reference list entry by its article and name, e.g. '6(1)(e): Public task'."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class ConditionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class DecisionForm(forms.Form):
    """Recording a decision, in the order a person thinks it through."""

    people = forms.ModelMultipleChoiceField(
        label="People it concerns",
        queryset=Person.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    person_search = forms.CharField(
        label="Find a person by name or UPN", required=False, max_length=100
    )
    people_described = forms.CharField(
        label="People not on the list (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example, 'the pupil's older brother, not at this school'.",
    )
    information = forms.CharField(
        label="What information",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Describe what was asked for or shared, not the information itself.",
        error_messages={"required": "Describe what information the decision is about"},
    )
    categories = CategoryChoiceField(
        label="Categories of information",
        queryset=DataCategory.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"required": "Choose at least one category of information"},
    )
    recipient_organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="Not in this list: type its name below",
    )
    recipient_organisation_name = forms.CharField(
        label="Organisation not in the list", required=False, max_length=200
    )
    recipient_person = forms.CharField(
        label="Person or role",
        max_length=200,
        help_text="For example, 'Jo Bloggs, school nurse' or 'Children's social care duty team'.",
        error_messages={"required": "Enter the name or role of the person it was for"},
    )
    purpose = forms.ModelChoiceField(
        label="Purpose",
        queryset=Purpose.objects.filter(is_active=True),
        empty_label="Choose the purpose",
        error_messages={"required": "Choose the purpose of the sharing"},
    )
    purpose_described = forms.CharField(
        label="Describe the purpose (if you chose 'Other')", required=False, max_length=300
    )
    outcome = forms.ChoiceField(
        label="What did you decide?",
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you shared, shared in part or did not share"},
    )
    lawful_basis = NamedChoiceField(
        label="Lawful basis (UK GDPR Article 6)",
        queryset=LawfulBasis.objects.filter(is_active=True),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        help_text="Needed when you share. Schools usually rely on public task or legal obligation.",
    )
    conditions = ConditionChoiceField(
        label="Special category conditions",
        queryset=SpecialCategoryCondition.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Needed when you share special category information: an Article 9 "
        "condition and, for 9(2)(b), (g), (h), (i) or (j), a Schedule 1 condition.",
    )
    consent = forms.ChoiceField(
        label="Consent",
        choices=Consent.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happened about consent"},
    )
    consent_explanation = forms.CharField(
        label="Explain the consent decision",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when consent was not sought, or was refused and you shared anyway.",
    )
    checks = forms.MultipleChoiceField(
        label="The seven tests",
        choices=Check.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="When you share, confirm that the sharing is each of these.",
    )
    reasons = forms.CharField(
        label="Reasons for your decision",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Whether you shared or not, say why. Base it on the facts of the case.",
        error_messages={"required": "Enter the reasons for your decision"},
    )
    method = forms.ChoiceField(
        label="How was it shared?",
        choices=Method.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text="Send personal data outside the school encrypted, or by secure transfer.",
    )
    arrangement = forms.ChoiceField(
        label="What was the sharing made under?",
        choices=Arrangement.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text="One-off and emergency disclosures are reviewed by the DPO afterwards.",
    )
    agreement_reference = forms.CharField(
        label="Agreement reference (if made under an agreement)", required=False, max_length=50
    )
    decided_by = forms.ModelChoiceField(
        label="Who made the decision", queryset=User.objects.none(), empty_label=None
    )
    decided_on = forms.DateField(
        label="Date of the decision",
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y"),
        help_text="For example, 27/03/2026.",
        error_messages={
            "required": "Enter the date of the decision",
            "invalid": "Enter the date of the decision as day/month/year, like 27/03/2026",
        },
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        people_field = self.fields["people"]
        assert isinstance(people_field, forms.ModelMultipleChoiceField)
        people_field.queryset = Person.objects.in_organisation(organisation)
        recipient_field = self.fields["recipient_organisation"]
        assert isinstance(recipient_field, forms.ModelChoiceField)
        recipient_field.queryset = Organisation.objects.exclude(pk=organisation.pk)
        decider_field = self.fields["decided_by"]
        assert isinstance(decider_field, forms.ModelChoiceField)
        decider_field.queryset = User.objects.filter(
            memberships__organisation=organisation, memberships__ended_at__isnull=True
        ).distinct()

    # People: the chosen ones stay ticked; a search offers more to tick.

    def chosen_people(self) -> QuerySet[Person]:
        """The people ticked so far (valid or not yet validated)."""
        if not self.is_bound:
            uuids = self.initial.get("people", [])
        elif isinstance(self.data, QueryDict):
            uuids = self.data.getlist("people")
        else:
            uuids = list(self.data.get("people", []))
        return self._people_with_uuids([str(value) for value in uuids])

    def found_people(self, text: str) -> list[Person]:
        """People matching a search, not already chosen."""
        if not text.strip():
            return []
        chosen = {str(person.uuid) for person in self.chosen_people()}
        matches = Person.objects.in_organisation(self.organisation).search(text)
        window = matches[: PEOPLE_SEARCH_LIMIT + len(chosen)]
        return [person for person in window if str(person.uuid) not in chosen][:PEOPLE_SEARCH_LIMIT]

    def _people_with_uuids(self, uuids: list[str]) -> QuerySet[Person]:
        valid = [value for value in uuids if _is_uuid(value)]
        return Person.objects.in_organisation(self.organisation).filter(uuid__in=valid)

    def draft(self) -> DecisionDraft:
        data = self.cleaned_data
        return DecisionDraft(
            people=list(data["people"]),
            people_described=data["people_described"],
            information=data["information"],
            categories=list(data["categories"]),
            recipient_organisation=data["recipient_organisation"],
            recipient_organisation_name=data["recipient_organisation_name"],
            recipient_person=data["recipient_person"],
            purpose=data["purpose"],
            purpose_described=data["purpose_described"],
            outcome=data["outcome"],
            lawful_basis=data["lawful_basis"],
            conditions=list(data["conditions"]),
            consent=data["consent"],
            consent_explanation=data["consent_explanation"],
            checks=list(data["checks"]),
            reasons=data["reasons"],
            method=data["method"],
            arrangement=data["arrangement"],
            agreement_reference=data["agreement_reference"],
            decided_by=data["decided_by"],
            decided_on=data["decided_on"],
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def initial_for_new(*, actor: User, person: Person | None) -> dict[str, Any]:
    return {
        "decided_by": actor.pk,
        "decided_on": timezone.localdate(),
        "people": [str(person.uuid)] if person else [],
    }


def initial_from(decision: Decision) -> dict[str, Any]:
    """A correction starts from the record it corrects."""
    return {
        "people": [str(person.uuid) for person in decision.people.all()],
        "people_described": decision.people_described,
        "information": decision.information,
        "categories": list(decision.categories.all()),
        "recipient_organisation": decision.recipient_organisation_id,
        "recipient_organisation_name": decision.recipient_organisation_name,
        "recipient_person": decision.recipient_person,
        "purpose": decision.purpose_id,
        "purpose_described": decision.purpose_described,
        "outcome": decision.outcome,
        "lawful_basis": decision.lawful_basis_id,
        "conditions": list(decision.conditions.all()),
        "consent": decision.consent,
        "consent_explanation": decision.consent_explanation,
        "checks": list(decision.checks),
        "reasons": decision.reasons,
        "method": decision.method,
        "arrangement": decision.arrangement,
        "agreement_reference": decision.agreement_reference,
        "decided_by": decision.decided_by_id,
        "decided_on": decision.decided_on,
    }


class CorrectionForm(DecisionForm):
    correction_reason = forms.CharField(
        label="What was wrong with the original record?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="This is kept with both records.",
        error_messages={"required": "Explain what was wrong with the original record"},
    )


YES_NO = [("yes", "Yes"), ("no", "No")]


class ReviewForm(forms.Form):
    justified = forms.ChoiceField(
        label="Was the sharing justified?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the sharing was justified"},
    )
    agreement_needed = forms.ChoiceField(
        label="Is an information sharing agreement now needed?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text="For example, if this kind of sharing will happen again.",
        error_messages={"required": "Choose whether an agreement is now needed"},
    )
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "justified": data["justified"] == "yes",
            "agreement_needed": data["agreement_needed"] == "yes",
            "notes": data["notes"],
        }
