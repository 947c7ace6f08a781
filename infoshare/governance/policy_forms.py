"""The forms of the information sharing policy: a version, its approval or discarding, a
review trigger.

The forms turn what was posted into the answers `governance.policy` takes. Which
answers are needed and how they hang together (the text or a PDF, not both; a
date not in the future) is checked by the service, whose messages come back
beside these fields, so every problem shows at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from infoshare.core import uploads
from infoshare.core.forms import date_field
from infoshare.governance.models import POLICY_TITLE, TriggerKind
from infoshare.governance.policy import PolicyAnswers, TriggerAnswers

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.core.files.uploadedfile import UploadedFile

PAST_DATE_HINT = "For example, 27/3/2026. It must be today or in the past."


class PolicyVersionForm(forms.Form):
    """A version: its text typed or pasted, or a PDF; `too_large` names a file the upload
    limit stopped on the way in (it arrives empty, and the message must say why)."""

    title = forms.CharField(label="Title", required=False, initial=POLICY_TITLE)
    text = forms.CharField(
        label="The policy's text",
        required=False,
        help_text="Type or paste the whole policy. Leave this empty if you upload a PDF instead.",
        widget=forms.Textarea(attrs={"rows": 16}),
    )
    document = forms.FileField(
        label="Or upload the policy as a PDF",
        required=False,
        help_text=f"PDF, up to {uploads.MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
        widget=forms.FileInput(attrs={"accept": ".pdf"}),
        error_messages={"empty": "The file is empty. Choose the PDF again."},
    )
    summary_of_changes = forms.CharField(
        label="What has changed from the version in force",
        required=False,
        help_text="So the headteacher, the chair and staff can see what is new.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, too_large: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = set(too_large)

    def clean_document(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("document")
        # The size is known before the content is read: refuse early, read nothing.
        if "document" in self.too_large or (
            upload is not None and (upload.size or 0) > uploads.MAX_UPLOAD_BYTES
        ):
            raise forms.ValidationError(uploads.too_large_message())
        return upload

    def answers(self) -> PolicyAnswers:
        data = self.cleaned_data
        return PolicyAnswers(
            title=data["title"],
            text=data["text"],
            document=data["document"],
            summary_of_changes=data["summary_of_changes"],
        )


class ApproveForm(forms.Form):
    approved_on = date_field(
        "The date you approved it", what="the date you approved it", help_text=PAST_DATE_HINT
    )


class DiscardForm(forms.Form):
    reasons = forms.CharField(
        label="Why is this draft discarded?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TriggerForm(forms.Form):
    kind = forms.ChoiceField(
        label="What happened?",
        choices=TriggerKind.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label="Describe what happened",
        required=False,
        help_text="Enough for the DPO to know what the review must look at. "
        "Do not name pupils, parents or staff.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    occurred_on = date_field(
        "When did it happen?", what="the date it happened", help_text=PAST_DATE_HINT
    )

    def answers(self) -> TriggerAnswers:
        data = self.cleaned_data
        return TriggerAnswers(
            kind=data["kind"], description=data["description"], occurred_on=data["occurred_on"]
        )
