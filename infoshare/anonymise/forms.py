"""The forms of the anonymisation page: the upload, and the plan to adjust.

The plan form has one row per column of the file (what was recognised in it,
an operation, and one number that the operation may need) and the risk
settings. What a plan must satisfy is checked by the engine's `check_plan`
in the service, whose messages come back beside the column they name.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone

from infoshare.anonymise.engine import ColumnStep, Plan
from infoshare.core import uploads
from infoshare.core.forms import date_field

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.core.files.uploadedfile import UploadedFile
    from django.forms.boundfield import BoundField

    from infoshare.anonymise.engine import Finding
    from infoshare.decisions.models import Decision
    from infoshare.proposals.models import Proposal

# How many proposals and decisions the upload page offers (newest first); one named
# in the address (?proposal=REF or ?decision=REF) is offered whatever its age.
LINK_CHOICES = 100


class UploadForm(forms.Form):
    """The dataset, and the proposal or decision it is anonymised for.

    `too_large` names a file the upload limit stopped on the way in (it arrives
    empty, and the message must say why).
    """

    link = forms.ChoiceField(
        label="What is the anonymised data for?",
        help_text="The proposal or the decision to share under which it will be shared. "
        "Runs for the same proposal or decision give the same pseudonyms, so the "
        "recipient can link them; any other run gives different ones.",
        required=False,
    )
    file = forms.FileField(
        label="The dataset",
        required=False,
        help_text=f"A CSV or Excel (.xlsx) file, up to "
        f"{uploads.MAX_UPLOAD_BYTES // (1024 * 1024)} MB, with the column headings in "
        "the first row.",
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
        error_messages={"empty": "The file is empty. Choose the file again."},
    )

    def __init__(
        self,
        *args: Any,
        proposals: Iterable[Proposal] = (),
        decisions: Iterable[Decision] = (),
        too_large: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = set(too_large)
        self._proposals = {p.reference: p for p in proposals}
        self._decisions = {d.reference: d for d in decisions}
        link = self.fields["link"]
        assert isinstance(link, forms.ChoiceField)
        link.choices = [
            ("", "Choose one"),
            (
                "Proposals",
                [
                    (f"proposal:{ref}", f"{ref} \u2013 {p.name}")
                    for ref, p in self._proposals.items()
                ],
            ),
            (
                "Decisions to share",
                [(f"decision:{ref}", _decision_label(d)) for ref, d in self._decisions.items()],
            ),
        ]

    def clean_file(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("file")
        # The size is known before the content is read: refuse early, read nothing.
        if "file" in self.too_large or (
            upload is not None and (upload.size or 0) > uploads.MAX_UPLOAD_BYTES
        ):
            raise forms.ValidationError(uploads.too_large_message())
        return upload

    def linked(self) -> tuple[Proposal | None, Decision | None]:
        kind, _, reference = self.cleaned_data.get("link", "").partition(":")
        if kind == "proposal":
            return self._proposals.get(reference), None
        if kind == "decision":
            return None, self._decisions.get(reference)
        return None, None


def _decision_label(decision: Decision) -> str:
    recipient = (
        decision.recipient_organisation.name
        if decision.recipient_organisation_id is not None
        and decision.recipient_organisation is not None
        else decision.recipient_organisation_name or decision.recipient_person
    )
    return f"{decision.reference} \u2013 to {recipient}, {decision.decided_on:%-d %B %Y}"


# --- The plan -----------------------------------------------------------------------

# The operations offered for a column, with the engine's `to` option folded in.
CHOICES = [
    ("keep", "Keep as it is"),
    ("drop", "Leave the column out"),
    ("pseudonymise", "Pseudonymise (a token instead of each value)"),
    ("generalise_date:year", "Date: the year only"),
    ("generalise_date:month", "Date: the month and year"),
    ("generalise_date:age_band", "Date: an age band"),
    ("generalise_postcode:outward", "Postcode: the outward code (E8 1AB \u2192 E8)"),
    ("generalise_postcode:area", "Postcode: the area (E8 1AB \u2192 E)"),
    ("band", "Number: bands"),
    ("mask", "Hide all but the last characters"),
    ("group_rare", "Group rare values as \u201cOther\u201d"),
]
# The option each operation takes from the column's number, and whether it must be given.
SETTING_OPTION = {
    "band": ("width", True),
    "generalise_date:age_band": ("width", False),
    "mask": ("keep_last", False),
    "group_rare": ("min_count", False),
}
SETTING_HINT = (
    "Bands: their width (10 makes 30\u201339). Age bands: years in each (5 if empty). "
    "Hiding: how many characters stay visible at the end (none if empty). Grouping: the "
    "smallest number of rows a value needs to be kept (k if empty)."
)


# What the engine recognised in a column, as the page names it.
KIND_LABELS = {
    "upn": "Unique pupil numbers",
    "uln": "Unique learner numbers",
    "nhs_number": "NHS numbers",
    "ni_number": "National Insurance numbers",
    "postcode": "Postcodes",
    "email": "Email addresses",
    "phone": "Phone numbers",
    "name": "Names",
    "date_of_birth": "Dates of birth",
    "free_text": "Free text",
    "other": "Nothing identifying",
}


@dataclass(frozen=True)
class ColumnRow:
    """One row of the plan's table: a column, what was recognised, and its two fields."""

    column: str
    finding: Finding | None
    operation: BoundField
    setting: BoundField

    @property
    def kind_label(self) -> str:
        if self.finding is None:
            return KIND_LABELS["other"]
        return KIND_LABELS.get(self.finding.kind, self.finding.kind)


class PlanForm(forms.Form):
    k = forms.IntegerField(
        label="k: the smallest group of people that may share the same details",
        min_value=2,
        max_value=1000,
        help_text="5 is usual; 10 for sensitive data. Anyone in a smaller group could be "
        "recognised by someone who knows them.",
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
        error_messages={
            "required": "Enter k, a whole number of 2 or more",
            "invalid": "Enter k as a whole number, like 5",
            "min_value": "k must be 2 or more",
            "max_value": "k must be 1000 or less",
        },
    )
    quasi_identifiers = forms.MultipleChoiceField(
        label="Quasi-identifiers",
        help_text="Details that together could single someone out: age, gender, "
        "postcode area, year group, ethnicity.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sensitive = forms.MultipleChoiceField(
        label="Sensitive columns",
        help_text="Details that must not be learnt about anyone: SEN, free school meals, "
        "attendance. Each group should hold more than one value of each.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    suppress_below_k = forms.BooleanField(
        label="Leave out the rows that would still be in a group smaller than k",
        required=False,
    )
    reference_date = date_field(
        "Age bands are ages on",
        what="the date ages are counted on",
        help_text="For example, 31/8/2026, the end of the school year. Today if empty.",
    )

    def __init__(
        self,
        *args: Any,
        columns: Sequence[str],
        findings: Iterable[Finding] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.columns = list(columns)
        self.findings = {finding.column: finding for finding in findings}
        column_choices = [(column, column) for column in self.columns]
        for name in ("quasi_identifiers", "sensitive"):
            field = self.fields[name]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = column_choices
        for index, column in enumerate(self.columns):
            self.fields[_operation(index)] = forms.ChoiceField(
                label=f"What to do with \u201c{column}\u201d",
                choices=CHOICES,
                error_messages={"required": f"Choose what to do with \u201c{column}\u201d"},
            )
            self.fields[_setting(index)] = forms.IntegerField(
                label=f"Number for \u201c{column}\u201d",
                required=False,
                min_value=0,
                max_value=1_000_000,
                widget=forms.NumberInput(attrs={"class": "govuk-input--width-5"}),
                error_messages={
                    "invalid": f"Enter the number for \u201c{column}\u201d as a whole number",
                    "min_value": f"The number for \u201c{column}\u201d must be 0 or more",
                    "max_value": f"The number for \u201c{column}\u201d is too large",
                },
            )

    def rows(self) -> list[ColumnRow]:
        return [
            ColumnRow(
                column,
                self.findings.get(column),
                self[_operation(index)],
                self[_setting(index)],
            )
            for index, column in enumerate(self.columns)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for index, column in enumerate(self.columns):
            choice = data.get(_operation(index))
            option = SETTING_OPTION.get(choice or "")
            number = data.get(_setting(index))
            if option and option[1] and not number:
                self.add_error(
                    _setting(index), f"Enter the width of the bands for \u201c{column}\u201d"
                )
            elif choice in {"band", "generalise_date:age_band"} and number == 0:
                self.add_error(
                    _setting(index), f"The width for \u201c{column}\u201d must be 1 or more"
                )
        return data

    def age_reference_date(self) -> date:
        chosen: date | None = self.cleaned_data.get("reference_date")
        return chosen or timezone.localdate()

    def plan(self) -> Plan:
        data = self.cleaned_data
        when = self.age_reference_date()
        steps = tuple(
            _step(column, data[_operation(index)], data.get(_setting(index)), when)
            for index, column in enumerate(self.columns)
        )
        return Plan(
            steps=steps,
            quasi_identifiers=tuple(data.get("quasi_identifiers") or ()),
            sensitive=tuple(data.get("sensitive") or ()),
            k=data["k"],
            suppress_below_k=bool(data.get("suppress_below_k")),
        )

    def add_plan_error(self, message: str) -> None:
        """Put a problem `check_plan` found beside what it is about (or at the top)."""
        lowered = message.lower()
        if lowered.startswith(("the quasi-identifier", "suppress_below_k")):
            self.add_error("quasi_identifiers", message)
        elif lowered.startswith("the sensitive column"):
            self.add_error("sensitive", message)
        elif lowered.startswith("k "):
            self.add_error("k", message)
        elif (named := _column_named(message, self.columns)) is not None:
            self.add_error(_operation(self.columns.index(named)), message)
        else:
            self.add_error(None, message)


def plan_initial(plan: Plan, columns: Sequence[str]) -> dict[str, Any]:
    """The form's initial values for a plan (suggested, or saved before)."""
    initial: dict[str, Any] = {
        "k": plan.k,
        "quasi_identifiers": list(plan.quasi_identifiers),
        "sensitive": list(plan.sensitive),
        "suppress_below_k": plan.suppress_below_k,
    }
    for index, column in enumerate(columns):
        step = plan.step_for(column)
        if step is None:
            continue
        choice = _choice_of(step)
        initial[_operation(index)] = choice
        option = SETTING_OPTION.get(choice)
        if option is not None and option[0] in step.options:
            initial[_setting(index)] = step.options[option[0]]
        reference = step.options.get("reference_date")
        if isinstance(reference, str) and "reference_date" not in initial:
            # A date, so the field shows it as people write dates (31/8/2026).
            with contextlib.suppress(ValueError):
                initial["reference_date"] = date.fromisoformat(reference)
    return initial


def _choice_of(step: ColumnStep) -> str:
    to = step.options.get("to")
    choice = f"{step.operation}:{to}" if to else step.operation
    return choice if choice in dict(CHOICES) else step.operation


def _step(column: str, choice: str, number: int | None, when: date) -> ColumnStep:
    operation, _, to = choice.partition(":")
    options: dict[str, Any] = {"to": to} if to else {}
    if choice == "generalise_date:age_band":
        options["reference_date"] = when.isoformat()
    option = SETTING_OPTION.get(choice)
    if option is not None and number is not None:
        options[option[0]] = number
    return ColumnStep(column, operation, options)


def _column_named(message: str, columns: Sequence[str]) -> str | None:
    """The column a message quotes, the longest name first (one may contain another)."""
    for column in sorted(columns, key=len, reverse=True):
        if re.search(rf"[\"'\u201c\u2018`]{re.escape(column)}[\"'\u201d\u2019`]", message):
            return column
    return None


def _operation(index: int) -> str:
    return f"operation_{index}"


def _setting(index: int) -> str:
    return f"setting_{index}"


class DownloadForm(forms.Form):
    file_format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "XLSX")])
