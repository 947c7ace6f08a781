"""Forms rendered with GOV.UK Frontend markup, and the forms for members.

`GovukFormRenderer` makes `{{ form }}` and `{{ form.field.as_field_group }}`
produce the GOV.UK form group for any form, allauth's included: label, hint,
the error message beside the field, and the input with its GOV.UK classes
(templates/forms/, templates/django/forms/widgets/, templatetags/govuk.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting

from infoshare.core.models import ROLES_HELD_ON_BEHALF, Organisation, OrganisationKind, Role


class GovukFormRenderer(TemplatesSetting):
    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"


def role_choices() -> list[tuple[str, str]]:
    return list(Role.choices)


class InviteMemberForm(forms.Form):
    name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={"required": "Enter the person's full name"},
    )
    email = forms.EmailField(
        label="Email address",
        help_text="The invitation is sent here. They set their own password from its link.",
        error_messages={
            "required": "Enter the person's email address",
            "invalid": "Enter an email address in the correct format, like name@example.org",
        },
    )
    job_title = forms.CharField(label="Job title (optional)", max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=role_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"required": "Select at least one role"},
    )
    acting_for = forms.ModelChoiceField(
        label="Serving on behalf of (optional)",
        queryset=Organisation.objects.filter(
            kind__in=[OrganisationKind.TRUST, OrganisationKind.LOCAL_AUTHORITY]
        ),
        required=False,
        empty_label="Nobody: a member of this organisation",
        help_text="For a DPO or auditor provided by a trust or local authority.",
    )

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        roles = set(cleaned.get("roles") or [])
        if cleaned.get("acting_for") and roles - ROLES_HELD_ON_BEHALF:
            raise ValidationError(
                {
                    "acting_for": "Only a DPO or an auditor can serve on behalf of a trust or "
                    "local authority. Clear this, or choose only those roles."
                }
            )
        return cleaned


class ChangeRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=role_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"required": "Select at least one role, or remove the member instead"},
    )


class RemoveMemberForm(forms.Form):
    reason = forms.CharField(
        label="Why are you removing them?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="For example, they have left the school. This is kept in the audit trail.",
        error_messages={"required": "Enter why you are removing this member"},
    )
