"""The forms of secure transfers: which decision, the transfer itself, the list's filters,
revoking, and the recipient's code and reply.

The forms check each answer on its own (required, a number within its
limits, the size of each file); what joins answers together, and the state
of the transfer, is for `services.py`, whose refusals come back beside the
field they name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from infoshare.transfers.models import (
    DEFAULT_EXPIRY_DAYS,
    DEFAULT_MAX_DOWNLOADS,
    LIVE,
    MAX_DOWNLOADS,
    MAX_EXPIRY_DAYS,
    Status,
    Transfer,
)
from infoshare.transfers.services import TransferAnswers, max_file_bytes, max_files, size_label

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.core.files.uploadedfile import UploadedFile

    from infoshare.decisions.models import Decision

# The start page offers this many of the person's decisions, newest first.
DECISION_CHOICES = 200
MAX_SEARCH_WORDS = 5
CODE_DIGITS = 6


def too_large_message() -> str:
    return f"Each file must be {size_label(max_file_bytes())} or smaller."


# --- Several files in one field (Django's documented "upload multiple files" pattern) ----


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field taking several files; `clean` gives a list (empty when none chosen)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single_file_clean = super().clean
        chosen = data if isinstance(data, list | tuple) else [data]
        return [single_file_clean(item, initial) for item in chosen if item]


class FilesForm(forms.Form):
    """A form with a `files` field whose size is limited while the request arrives.

    `too_large` names the fields (HTML names) whose file `UploadSizeLimit`
    stopped on the way in: the file is missing, and the message must say why.
    """

    files_required_message = "Choose the files to send"

    def __init__(self, *args: Any, too_large: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = set(too_large)

    def clean_files(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("files") or []
        # The sizes are known before any content is read: refuse early, read nothing.
        if self.add_prefix("files") in self.too_large or any(
            (upload.size or 0) > max_file_bytes() for upload in files
        ):
            raise forms.ValidationError(too_large_message())
        if not files:
            raise forms.ValidationError(self.files_required_message)
        if len(files) > max_files():
            raise forms.ValidationError(f"Send at most {max_files()} files at a time.")
        return files


# --- Which decision the transfer shares ---------------------------------------------------

EXISTING = "existing"
RECORD = "record"


def decision_label(decision: Decision) -> str:
    """Its label on the start page: "DEC-2026-0012 — Eastmoor Council, 3 November 2026"."""
    recipient = decision.recipient_organisation_label or decision.recipient_person
    return f"{decision.reference} \u2014 {recipient}, {decision.decided_on:%-d %B %Y}"


class StartForm(forms.Form):
    """Which decision is this sharing? One already in the log, or one recorded now."""

    choice = forms.ChoiceField(
        label="Which decision is this sharing?",
        choices=[
            (EXISTING, "A decision already in the decision log"),
            (RECORD, "Record the decision now"),
        ],
        widget=forms.RadioSelect,
        help_text="Every transfer is a share, so it belongs to a decision in the decision log.",
        error_messages={
            "required": "Choose a decision already in the log, or record the decision now",
            "invalid_choice": "Choose a decision already in the log, or record the decision now",
        },
    )
    decision = forms.ChoiceField(
        label="Decision",
        required=False,
        help_text="Your decisions to share, newest first.",
        error_messages={"invalid_choice": "Choose a decision from the list"},
    )

    def __init__(self, *args: Any, decisions: Sequence[Decision] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "Choose a decision"),
            *[(d.reference, decision_label(d)) for d in decisions],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("choice") == EXISTING
            and not data.get("decision")
            and "decision" not in self.errors
        ):
            self.add_error("decision", "Choose the decision this transfer shares")
        return data


# --- The transfer ------------------------------------------------------------------------


class TransferForm(FilesForm):
    """To whom, what, and for how long. Always prefixed "transfer": on the page that records
    the decision too, the decision log's form has a field of the same name."""

    recipient_name = forms.CharField(
        label="Recipient's name",
        max_length=200,
        help_text="The person who will open the files.",
        error_messages={"required": "Enter the recipient's name"},
    )
    recipient_email = forms.EmailField(
        label="Recipient's email address",
        max_length=254,
        help_text="The link, and then a code to open it, are sent here in two emails.",
        error_messages={
            "required": "Enter the recipient's email address",
            "invalid": "Enter an email address in the correct format, like name@example.org",
        },
    )
    recipient_organisation = forms.CharField(
        label="Recipient's organisation",
        max_length=200,
        error_messages={"required": "Enter the recipient's organisation"},
    )
    message = forms.CharField(
        label="Message",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Shown to the recipient with the files. It is encrypted like them, "
        "and never sent by email.",
        error_messages={
            "required": "Write a message to go with the files",
            "max_length": "The message must be 5,000 characters or fewer",
        },
    )
    # "files", the name the services' refusals use; the metaclass takes declared fields off
    # the class, so it does not hide the form's own `files` (the uploads) at run time.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Files",
        required=False,
        error_messages={"empty": "One of the files is empty: choose the files again"},
    )
    expires_in_days = forms.IntegerField(
        label="Link works for (days)",
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        initial=DEFAULT_EXPIRY_DAYS,
        help_text=f"At most {MAX_EXPIRY_DAYS}. The files are then destroyed.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-2"}),
        error_messages={
            "required": "Enter how many days the link works for",
            "invalid": "Enter the number of days as a whole number, like 7",
            "min_value": "The link must work for at least 1 day",
            "max_value": f"The link can work for at most {MAX_EXPIRY_DAYS} days",
        },
    )
    max_downloads = forms.IntegerField(
        label="Downloads allowed for each file",
        min_value=1,
        max_value=MAX_DOWNLOADS,
        initial=DEFAULT_MAX_DOWNLOADS,
        help_text=f"From 1 to {MAX_DOWNLOADS}.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-2"}),
        error_messages={
            "required": "Enter how many times each file may be downloaded",
            "invalid": "Enter the number of downloads as a whole number, like 3",
            "min_value": "Allow at least 1 download of each file",
            "max_value": f"Allow at most {MAX_DOWNLOADS} downloads of each file",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "transfer")
        super().__init__(*args, **kwargs)

    def answers(self) -> TransferAnswers:
        data = self.cleaned_data
        return TransferAnswers(
            recipient_name=data["recipient_name"],
            recipient_email=data["recipient_email"],
            recipient_organisation=data["recipient_organisation"],
            message=data["message"],
            expires_in_days=data["expires_in_days"],
            max_downloads=data["max_downloads"],
            files=data["files"],
        )


def transfer_initial(decision: Decision | None) -> dict[str, Any]:
    """The recipient as the decision names them, where it does."""
    initial: dict[str, Any] = {
        "expires_in_days": DEFAULT_EXPIRY_DAYS,
        "max_downloads": DEFAULT_MAX_DOWNLOADS,
    }
    if decision is not None:
        initial["recipient_name"] = decision.recipient_person
        initial["recipient_organisation"] = decision.recipient_organisation_label
    return initial


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why are you revoking it?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the transfer's record, for the DPO.",
        error_messages={"required": "Enter why you are revoking the transfer"},
    )


# --- The list ----------------------------------------------------------------------------

STATUS_FILTERS = [("", "Any status"), *Status.choices]
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "-sent": ("Sent, newest first", ("-created_at", "-pk")),
    "sent": ("Sent, oldest first", ("created_at", "pk")),
    "expires": ("Expires, soonest first", ("expires_at", "pk")),
    "-expires": ("Expires, latest first", ("-expires_at", "-pk")),
}
DEFAULT_SORT = "-sent"


class TransferFilterForm(forms.Form):
    """The list's search, filter and sort: a GET form, so a filtered list can be bookmarked."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="A reference like TR-2026-0003, or the recipient's name, email or organisation",
        widget=forms.TextInput(attrs={"type": "search"}),
        error_messages={"max_length": "Search must be 100 characters or fewer"},
    )
    status = forms.ChoiceField(
        label="Status",
        choices=STATUS_FILTERS,
        required=False,
        error_messages={"invalid_choice": "Choose a status from the list"},
    )
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        required=False,
        error_messages={"invalid_choice": "Choose an order from the list"},
    )

    def _value(self, name: str, default: str = "") -> str:
        if not self.is_valid():
            return default
        return str(self.cleaned_data.get(name) or default)

    @property
    def is_filtering(self) -> bool:
        return bool(self._value("q") or self._value("status"))

    def filters(self) -> dict[str, str]:
        """What the export records: the status and sort, never the search words (a name)."""
        return {
            name: value
            for name, value in (("status", self._value("status")), ("sort", self._value("sort")))
            if value
        }

    def filter(self, transfers: QuerySet[Transfer]) -> QuerySet[Transfer]:
        """The transfers matching every filter, in the chosen order.

        With any filter invalid none applies (the error shows beside it), rather
        than a list narrowed by some filters only.
        """
        transfers = transfers.order_by(*SORTS[self._value("sort", DEFAULT_SORT)][1])
        if not self.is_valid():
            return transfers
        for word in self.cleaned_data["q"].split()[:MAX_SEARCH_WORDS]:
            transfers = transfers.filter(_mentions(word))
        if status := self.cleaned_data["status"]:
            transfers = transfers.filter(shown_status_is(status, timezone.now()))
        return transfers


def _mentions(word: str) -> Q:
    return (
        Q(reference__icontains=word)
        | Q(recipient_name__icontains=word)
        | Q(recipient_email__icontains=word)
        | Q(recipient_organisation__icontains=word)
    )


def shown_status_is(status: str, now: Any) -> Q:
    """The status the list shows: a live transfer past its expiry is "expired" already,
    though `expire_transfers` has not run yet (deadlines are computed, DESIGN.md rule 9)."""
    if status == Status.EXPIRED:
        return Q(status=Status.EXPIRED) | Q(status__in=LIVE, expires_at__lte=now)
    if status in LIVE:
        return Q(status=status, expires_at__gt=now)
    return Q(status=status)


def shown_status(transfer: Transfer, now: Any) -> str:
    if transfer.is_live and transfer.has_expired_by(now):
        return Status.EXPIRED
    return str(transfer.status)


# --- The recipient's pages ----------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="Enter the 6-digit code we emailed you. It works for 15 minutes.",
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "spellcheck": "false",
                "class": "govuk-input--width-5",
            }
        ),
        error_messages={"required": "Enter the 6-digit code from the email"},
    )

    def clean_code(self) -> str:
        # People copy codes with spaces or dashes ("123 456"): only the digits count.
        code = "".join(ch for ch in self.cleaned_data["code"] if ch not in " -")
        if len(code) != CODE_DIGITS or not code.isdigit():
            raise forms.ValidationError("Enter the 6-digit code from the email")
        return code


class ReplyForm(FilesForm):
    files_required_message = "Choose the files to send back"

    message = forms.CharField(
        label="A note (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "The note must be 5,000 characters or fewer"},
    )
    files = MultipleFileField(  # type: ignore[assignment]
        label="Files to send back",
        required=False,
        error_messages={"empty": "One of the files is empty: choose the files again"},
    )
