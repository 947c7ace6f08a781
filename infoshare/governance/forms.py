"""The forms of the information asset register: add or change an asset, retire one,
and the list's search and filters.

The forms check each answer on its own; the rules that join answers together
(special category categories need the special category box) live in
services.py and come back beside the field of the same name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q

from infoshare.core.models import DataCategory, LawfulBasis
from infoshare.governance.services import AssetAnswers

if TYPE_CHECKING:
    from infoshare.governance.models import InformationAsset, InformationAssetQuerySet

MAX_SEARCH_WORDS = 6
WITHHELD = "words withheld"
YES, NO = "yes", "no"
CURRENT, RETIRED, EVERY = "", "retired", "all"


def _line(label: str, *, hint: str = "", required: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=bool(required),
        max_length=200,
        help_text=hint,
        error_messages={
            "required": required,
            "max_length": "This answer must be 200 characters or fewer.",
        },
    )


class AssetForm(forms.Form):
    name = _line(
        "Name of the information asset",
        hint="A name everyone in the school recognises, like 'Pupil records in the MIS'.",
        required="Enter the name of the information asset.",
    )
    description = forms.CharField(
        label="What it holds, and what it is for",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "This answer must be 10,000 characters or fewer."},
    )
    owner = _line(
        "Information asset owner",
        hint="The person or role responsible for the asset, like 'Business manager'.",
        required="Enter who owns the asset: a person or a role.",
    )
    system_or_location = _line(
        "System or location",
        hint="Where the information is kept, like 'MIS' or 'Locked cabinet, main office'.",
        required="Enter the system or place where the information is kept.",
    )
    categories = forms.ModelMultipleChoiceField(
        label="Categories of personal data",
        queryset=DataCategory.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"invalid_choice": "Select categories from the list."},
    )
    special_category = forms.ChoiceField(
        label="Does the asset hold special category data?",
        choices=[(YES, "Yes"), (NO, "No")],
        widget=forms.RadioSelect,
        help_text="For example health, SEND, safeguarding, ethnicity, religion or biometric "
        "data. These need extra protection under UK GDPR Article 9.",
        error_messages={
            "required": "Say whether the asset holds special category data.",
            "invalid_choice": "Choose yes or no.",
        },
    )
    lawful_basis = forms.ModelChoiceField(
        label="Lawful basis for holding it",
        queryset=LawfulBasis.objects.filter(is_active=True),
        required=False,
        empty_label="Choose the lawful basis",
        help_text="UK GDPR Article 6(1). Most of a school's records are held for its public task.",
        error_messages={"invalid_choice": "Choose a lawful basis from the list."},
    )
    retention_period = _line(
        "Retention period",
        hint="How long it is kept, and from when, like 'Date of birth + 25 years'.",
        required="Enter how long the information is kept.",
    )

    @staticmethod
    def initial_for(asset: InformationAsset) -> dict[str, Any]:
        return {
            "name": asset.name,
            "description": asset.description,
            "owner": asset.owner,
            "system_or_location": asset.system_or_location,
            "categories": list(asset.categories.all()),
            "special_category": YES if asset.special_category else NO,
            "lawful_basis": asset.lawful_basis_id,
            "retention_period": asset.retention_period,
        }

    def answers(self) -> AssetAnswers:
        data = self.cleaned_data
        return AssetAnswers(
            name=data["name"],
            description=data["description"],
            owner=data["owner"],
            system_or_location=data["system_or_location"],
            categories=list(data["categories"]),
            special_category=data["special_category"] == YES,
            lawful_basis=data["lawful_basis"],
            retention_period=data["retention_period"],
        )


class RetireAssetForm(forms.Form):
    reasons = forms.CharField(
        label="Why is this asset retired?",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example, 'The catering system was replaced in September; its records "
        "were deleted by the supplier.'",
        error_messages={
            "required": "Explain why the asset is retired.",
            "max_length": "This answer must be 10,000 characters or fewer.",
        },
    )


class AssetFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Words from the name, description, owner or system",
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={"max_length": "Search must be 200 characters or fewer"},
    )
    special = forms.ChoiceField(
        label="Special category data",
        required=False,
        choices=[("", "With or without"), (YES, "Special category data"), (NO, "None")],
        error_messages={"invalid_choice": "Select an answer from the list"},
    )
    lawful_basis = forms.ModelChoiceField(
        label="Lawful basis",
        queryset=LawfulBasis.objects.all(),
        required=False,
        to_field_name="code",
        empty_label="Any lawful basis",
        error_messages={"invalid_choice": "Select a lawful basis from the list"},
    )
    retired = forms.ChoiceField(
        label="Current or retired",
        required=False,
        choices=[(CURRENT, "Current assets"), (RETIRED, "Retired assets"), (EVERY, "Both")],
        error_messages={"invalid_choice": "Select an answer from the list"},
    )

    @property
    def is_filtering(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    def used(self) -> dict[str, Any]:
        """The filters applied, for the audit trail of an export: codes only."""
        if not self.is_valid():
            return {"retired": "current"}  # unfiltered: the current register
        data = self.cleaned_data
        used: dict[str, Any] = {"retired": data["retired"] or "current"}
        if data["special"]:
            used["special"] = data["special"]
        if data["lawful_basis"]:
            used["lawful_basis"] = data["lawful_basis"].code
        if data["q"].strip():
            used["search"] = WITHHELD
        return used

    def filter(self, assets: InformationAssetQuerySet) -> InformationAssetQuerySet:
        """The assets matching the filters, by name; current ones only unless asked.

        With any filter invalid, only the default applies (the errors show
        beside the fields) rather than a partial, misleading list.
        """
        assets = assets.order_by("name", "pk")
        if not self.is_valid():
            return assets.current()
        data = self.cleaned_data
        if data["retired"] == CURRENT:
            assets = assets.current()
        elif data["retired"] == RETIRED:
            assets = assets.filter(retired_at__isnull=False)
        for word in data["q"].split()[:MAX_SEARCH_WORDS]:
            assets = assets.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(owner__icontains=word)
                | Q(system_or_location__icontains=word)
            )
        if data["special"]:
            assets = assets.filter(special_category=data["special"] == YES)
        if data["lawful_basis"]:
            assets = assets.filter(lawful_basis=data["lawful_basis"])
        return assets
