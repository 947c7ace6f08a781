"""The forms of an agreement in force: signatures, the signed copy, review, termination, data fate.

The forms only turn what was posted into the answers `agreements.lifecycle`
takes. Which answers are needed and how they hang together (a date signed
not in the future, reasons when amending or terminating, a justification for
a review interval over 12 months, every party's agreement to terminate) is
checked by the services, whose messages come back beside these fields: the
fields they check are optional here, so every problem shows at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from infoshare.agreements.forms.drafting import RadioOption, radio_options
from infoshare.agreements.lifecycle import (
    DataFateAnswers,
    PartyConsent,
    ReviewAnswers,
    Signature,
    Termination,
)
from infoshare.agreements.models import (
    DEFAULT_REVIEW_MONTHS,
    DataFate,
    Party,
    ReviewOutcome,
)
from infoshare.core.forms import date_field
from infoshare.core.uploads import MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.core.files.uploadedfile import UploadedFile
    from django.forms.boundfield import BoundField

TEXT = {"rows": 4}
SHORT_TEXT = {"rows": 2}
PDF_HINT = f"PDF, up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
TOO_LARGE = f"The file must be smaller than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
PAST_DATE_HINT = "For example, 27/3/2026. It must be today or in the past."
YES, NO = "yes", "no"
OUTCOME_HINTS: dict[str, str] = {
    ReviewOutcome.CONTINUE: "It stays in force. Say below when it is next reviewed.",
    ReviewOutcome.AMEND: "A new version is drafted, goes to the DPO for advice and is approved "
    "again. This version stays in force until then.",
    ReviewOutcome.TERMINATE: "The headteacher or the chair then records every party's "
    "agreement to end it, and how the data will be returned or disposed of.",
}


def _text(label: str, *, help_text: str = "", rows: dict[str, int] = TEXT) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, help_text=help_text, widget=forms.Textarea(attrs=rows)
    )


def _yes_or_no(label: str, *, help_text: str = "") -> forms.TypedChoiceField:
    """A yes/no question as radios: True, False, or None when unanswered (the service says so)."""
    return forms.TypedChoiceField(
        label=label,
        choices=[(YES, "Yes"), (NO, "No")],
        coerce=lambda value: value == YES,
        empty_value=None,
        required=False,
        help_text=help_text,
        widget=forms.RadioSelect,
    )


def _pdf(label: str, *, help_text: str = PDF_HINT) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.FileInput(attrs={"accept": ".pdf"}),
        error_messages={"empty": "The file is empty. Choose the PDF again."},
    )


class PdfUploadForm(forms.Form):
    """A form with PDF file fields, told which files the upload limit stopped on the way in.

    `too_large` names the fields whose file passed the size limit while it was
    being received: such a file is never stored, so the field arrives empty,
    and the message must say why rather than "choose a file".
    """

    def __init__(self, *args: Any, too_large: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = set(too_large)

    def _checked_size(self, name: str) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get(name)
        # The size is known before the content is read: refuse early, read nothing.
        if name in self.too_large or (upload is not None and (upload.size or 0) > MAX_UPLOAD_BYTES):
            raise forms.ValidationError(TOO_LARGE)
        return upload


# --- Signatures and the signed copy ----------------------------------------------------


class SignatureForm(forms.Form):
    """Who signed for one party, and when: field names as in lifecycle.Signature."""

    signatory_name = forms.CharField(
        label="Name of the person who signed", max_length=200, required=False
    )
    signatory_role = forms.CharField(
        label="Their role",
        max_length=200,
        required=False,
        help_text="For example, Headteacher or Head of Inclusion.",
    )
    signed_on = date_field("Date signed", what="the date signed", help_text=PAST_DATE_HINT)

    @classmethod
    def initial_for(cls, party: Party) -> dict[str, Any]:
        return {name: getattr(party, name) for name in cls.base_fields}

    def signature(self) -> Signature:
        return Signature(**self.cleaned_data)


class SignedCopyForm(PdfUploadForm):
    signed_copy = _pdf(
        "The signed copy (PDF)",
        help_text=f"The agreement as signed by every party, scanned or signed digitally. "
        f"{PDF_HINT}",
    )

    def clean_signed_copy(self) -> UploadedFile | None:
        return self._checked_size("signed_copy")


# --- Review ---------------------------------------------------------------------------------


class ReviewForm(forms.Form):
    """The policy's review questions and the outcome: field names as in lifecycle.ReviewAnswers."""

    scope_still_relevant = _yes_or_no(
        "Are the scope and purpose still relevant, and has the scope not slipped?"
    )
    scope_notes = _text("Notes on the scope and purpose (optional)")
    benefits_realised = _yes_or_no(
        "Are the benefits to the data subjects being realised?",
        help_text="The people whose information is shared must still be the focus of the "
        "sharing, and still benefit from it.",
    )
    benefits_notes = _text("Notes on the benefits (optional)")
    elements_complied = _yes_or_no(
        "Has every element of the agreement been checked and complied with?"
    )
    compliance_notes = _text(
        "Notes on compliance (optional)",
        help_text="Say which elements were not complied with, and what is being done about it.",
    )
    law_or_practice_changed = _yes_or_no(
        "Have legislation or practice in public sector data sharing changed?"
    )
    law_notes = _text(
        "Notes on the changes (optional)",
        help_text="Say what changed, and whether the agreement must change with it.",
    )
    outcome = forms.ChoiceField(
        label="What happens to the agreement now?",
        choices=ReviewOutcome.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    outcome_reasons = _text(
        "Reasons", help_text="Needed if you amend or terminate it: the other parties will ask."
    )
    next_interval_months = forms.IntegerField(
        label="Months until the next review",
        required=False,
        initial=DEFAULT_REVIEW_MONTHS,
        help_text="If it continues. At least once a year, so 12 months unless there is a "
        "reason to wait longer.",
        # A text input, as GOV.UK advises for numbers: no spinner, no scrolling it by mistake.
        widget=forms.TextInput(attrs={"class": "govuk-input--width-3", "inputmode": "numeric"}),
        error_messages={"invalid": "Enter the months as a number, like 12"},
    )
    next_interval_justification = _text(
        "Why wait longer than 12 months?",
        help_text="Needed only if the next review is more than 12 months away.",
        rows=SHORT_TEXT,
    )

    QUESTIONS = (
        ("scope_still_relevant", "scope_notes"),
        ("benefits_realised", "benefits_notes"),
        ("elements_complied", "compliance_notes"),
        ("law_or_practice_changed", "law_notes"),
    )

    def questions(self) -> list[tuple[BoundField, list[RadioOption], BoundField]]:
        """Each question, its radios and its notes, for the page to show them together."""
        return [
            (self[question], radio_options(self[question]), self[notes])
            for question, notes in self.QUESTIONS
        ]

    def outcome_options(self) -> list[RadioOption]:
        return radio_options(self["outcome"], hints=OUTCOME_HINTS)

    def answers(self) -> ReviewAnswers:
        data = dict(self.cleaned_data)
        if data["next_interval_months"] is None and data["outcome"] != ReviewOutcome.CONTINUE:
            # Only a review that continues the agreement sets the next interval.
            data["next_interval_months"] = DEFAULT_REVIEW_MONTHS
        return ReviewAnswers(**data)


# --- Termination and what happened to the data ---------------------------------------------


def consent_field(party: Party) -> str:
    """The field of who agreed for `party`: the name the service gives its error."""
    return f"party_{party.uuid}"


def consent_date_field(party: Party) -> str:
    return f"party_{party.uuid}_on"


class TerminationForm(forms.Form):
    """Why, how the data goes back or is disposed of, and each party's agreement to end it."""

    reasons = _text("Why is the agreement being terminated?")
    disposal_arrangement = _text(
        "How will the data shared be returned or securely disposed of?",
        help_text="Say who returns or destroys what, by when, and how it will be confirmed, "
        "for example with a certificate of destruction.",
    )

    def __init__(self, *args: Any, parties: Sequence[Party], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parties = list(parties)
        for party in self.parties:
            self.fields[consent_field(party)] = forms.CharField(
                label="Name of the person who agreed",
                max_length=200,
                required=False,
                help_text="Someone able to agree for the organisation, and their role.",
            )
            self.fields[consent_date_field(party)] = date_field(
                "Date they agreed", what="the date they agreed", help_text=PAST_DATE_HINT
            )

    def consent_fields(self) -> list[tuple[Party, BoundField, BoundField]]:
        """Each party with its two fields, for the page to group them."""
        return [
            (party, self[consent_field(party)], self[consent_date_field(party)])
            for party in self.parties
        ]

    def termination(self) -> Termination:
        data = self.cleaned_data
        consents = [
            PartyConsent(party, data[consent_field(party)], data[consent_date_field(party)])
            for party in self.parties
        ]
        return Termination(data["reasons"], data["disposal_arrangement"], consents)


class DataFateForm(PdfUploadForm):
    """What happened to the data: field names as in lifecycle.DataFateAnswers."""

    fate = forms.ChoiceField(
        label="What happened to the data that was shared?",
        choices=DataFate.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    on = date_field(
        "Date it was returned or destroyed",
        what="the date it was returned or destroyed",
        help_text=PAST_DATE_HINT,
    )
    details = _text(
        "Details (optional)",
        help_text="For example, who confirmed it and how, or what was returned and to whom.",
    )
    evidence = _pdf(
        "Evidence (optional)",
        help_text=f"For example, a certificate of destruction or a letter confirming the "
        f"return. {PDF_HINT}",
    )

    def fate_options(self) -> list[RadioOption]:
        return radio_options(self["fate"])

    def clean_evidence(self) -> UploadedFile | None:
        return self._checked_size("evidence")

    def answers(self) -> DataFateAnswers:
        return DataFateAnswers(**self.cleaned_data)
