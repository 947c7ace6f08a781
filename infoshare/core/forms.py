"""Forms rendered with GOV.UK Frontend markup, and the forms for members and people.

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

from infoshare.core import imports
from infoshare.core.models import (
    ROLES_HELD_ON_BEHALF,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
    Role,
)


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


# --- people ---------------------------------------------------------------------------------

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%Y-%m-%d"]
DATE_HINT = "For example, 27/3/2015."


def date_field(label: str, *, what: str, help_text: str = DATE_HINT) -> forms.DateField:
    """An optional date typed as day/month/year, with a message naming the date."""
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"class": "govuk-input--width-10"}),
        help_text=help_text,
        error_messages={"invalid": f"Enter {what} as a real date, like 27/3/2015"},
    )


class PersonForm(forms.Form):
    kind = forms.ChoiceField(
        label="Who are they?",
        choices=PersonKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select who they are"},
    )
    given_name = forms.CharField(
        label="First name",
        max_length=100,
        error_messages={
            "required": "Enter their first name",
            "max_length": "First name must be 100 characters or fewer",
        },
    )
    family_name = forms.CharField(
        label="Last name",
        max_length=100,
        error_messages={
            "required": "Enter their last name",
            "max_length": "Last name must be 100 characters or fewer",
        },
    )
    upn = forms.CharField(
        label="UPN (pupils only)",
        max_length=20,
        required=False,
        help_text="The unique pupil number from the school's information system: 13 characters, "
        "like A123456789012.",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-20", "spellcheck": "false"}),
    )
    date_of_birth = date_field("Date of birth (optional)", what="their date of birth")
    year_group = forms.CharField(
        label="Year group (optional)",
        max_length=20,
        required=False,
        help_text="For example, Reception or Year 4.",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
    )
    on_roll_from = date_field(
        "On roll from (optional)",
        what="the date they joined",
        help_text=f"The date they joined the school. {DATE_HINT}",
    )
    on_roll_until = date_field(
        "On roll until (optional)",
        what="the date they left",
        help_text=f"Leave this empty while they are at the school. {DATE_HINT}",
    )
    details = forms.CharField(
        label="Details (optional)",
        max_length=200,
        required=False,
        help_text="For example, their job, or whose parent or carer they are.",
    )

    @classmethod
    def initial_for(cls, person: Person) -> dict[str, Any]:
        return {name: getattr(person, name) for name in cls.base_fields}


class PupilFileForm(forms.Form):
    """Step 1 of the import: the file."""

    file = forms.FileField(
        label="Upload a CSV file",
        help_text="Export the pupil list from your school's information system (SIMS, Arbor or "
        "Bromcom, for example) as a CSV file of up to 2 MB, with one row per pupil and a "
        "heading row at the top.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": "Select a CSV file", "empty": "The file is empty."},
    )

    filename = ""

    def clean_file(self) -> str:
        """The file's text, once it is known to read as a table: the text is kept, not the file."""
        upload = self.cleaned_data["file"]
        self.filename = upload.name or ""
        if upload.size > imports.MAX_UPLOAD_BYTES:
            raise ValidationError("The file must be smaller than 2 MB.")
        try:
            text = imports.decode_upload(upload.name or "", upload.read())
            imports.read_table(text)
        except imports.UnreadableFile as problem:
            raise ValidationError(problem.message) from problem
        return text


class ColumnMappingForm(forms.Form):
    """Step 2 of the import: which column of the file holds each of our fields.

    Choices are column positions, so headings that are blank or repeated
    still work; each column may fill one field only.
    """

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Not in the file"), *((str(i), c) for i, c in enumerate(columns))]
        for import_field in imports.FIELDS:
            optional = "" if import_field.required else " (optional)"
            self.fields[import_field.name] = forms.TypedChoiceField(
                label=f"{import_field.label}{optional}",
                choices=choices,
                coerce=int,
                empty_value=None,
                required=import_field.required,
                error_messages={
                    "required": f"Choose the column that holds the {_lower(import_field.label)}"
                },
            )

    @classmethod
    def initial_from(cls, mapping: imports.ColumnMapping) -> dict[str, str]:
        return {name: str(position) for name, position in mapping.items()}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        used: dict[int, str] = {}
        for import_field in imports.FIELDS:
            position = cleaned.get(import_field.name)
            if position is None:
                continue
            if position in used:
                self.add_error(
                    import_field.name,
                    f"This column is already chosen for {_lower(used[position])}. "
                    "Choose a different column, or 'Not in the file'",
                )
            else:
                used[position] = import_field.label
        return cleaned

    def mapping(self) -> imports.ColumnMapping:
        return {
            name: position
            for name, position in self.cleaned_data.items()
            if position is not None and name in imports.FIELDS_BY_NAME
        }


def _lower(label: str) -> str:
    return label if label.isupper() else label[:1].lower() + label[1:]
