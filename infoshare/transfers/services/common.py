"""What every module of the package shares.

The dataclasses the pages hand in and get back, the limits and the messages,
`DamagedFile`, what the recipient's page may show (`recipient_state`), and the
helpers each change uses: locking the transfer's row, refusing the recipient
(and logging it), writing the access log.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from infoshare.transfers.models import (
    ENDED,
    AccessEvent,
    AccessKind,
    Reply,
    Status,
    Transfer,
    TransferFile,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import datetime

    from django.core.files.uploadedfile import UploadedFile

    from infoshare.core.models import User

# The package's one logger, named as the module was before it became a package: logging
# configured for "infoshare.transfers.services" sees every record, under the same name.
logger = logging.getLogger("infoshare.transfers.services")

REFERENCE_PREFIX = "TR"
CODE_DIGITS = 6
CODE_VALID_FOR = timedelta(minutes=15)
# A recipient may ask for a fresh code once a minute: the email is not a way to flood a mailbox.
CODE_RESEND_AFTER = timedelta(seconds=60)
MAX_MESSAGE_CHARS = 5000
MAX_USER_AGENT_CHARS = 400
MAX_EMAIL_CHARS = 254  # the model's EmailField
MAX_FILE_NAME_CHARS = 255
# A blob on disk that no file refers to (a send cut off by a crash) is removed after this.
STRAY_BLOBS_KEPT_FOR = timedelta(days=1)

# What the recipient's page may show: `recipient_state`.
AVAILABLE = "available"
LOCKED = "locked"
ENDED_STATE = "ended"

NO_LONGER_AVAILABLE = "This transfer is no longer available."
LOCKED_MESSAGE = (
    "Too many wrong codes: this transfer is locked. The sender has been told and can unlock it."
)
CODE_FIRST_MESSAGE = "Enter the code from the email first."
WAIT_MESSAGE = "Wait a minute before asking for another code."
DAMAGED_MESSAGE = "This file is damaged and cannot be opened safely. The sender has been told."
OTHER_MASTER_KEY_MESSAGE = (
    "This transfer was encrypted under a different master key, so it cannot be opened. "
    "Whoever runs Infoshare must restore the master key it was sent under."
)
BROKEN_KEY_MESSAGE = "This transfer's key is damaged, so it cannot be opened."


class DamagedFile(ValidationError):
    """A file's ciphertext failed authentication: nothing of it was given out."""

    def __init__(self) -> None:
        super().__init__({"file": [DAMAGED_MESSAGE]})


# --- What the pages hand in and get back -----------------------------------------------


@dataclass(frozen=True)
class Visit:
    """Who is at the other end of a recipient's request, for the access log."""

    ip_address: str | None
    user_agent: str


@dataclass(frozen=True)
class TransferAnswers:
    recipient_name: str
    recipient_email: str
    recipient_organisation: str
    message: str
    expires_in_days: int
    max_downloads: int
    files: Sequence[UploadedFile]


@dataclass(frozen=True)
class FileView:
    file: TransferFile
    name: str  # "" once the transfer has ended: the name was destroyed with the key
    size: int
    downloads_left: int  # for outgoing files; 0 for replies


@dataclass(frozen=True)
class ReplyView:
    reply: Reply
    message: str
    files: list[FileView]


@dataclass(frozen=True)
class Download:
    name: str
    size: int
    chunks: Iterator[bytes]  # the rest decrypted on the fly


# --- Helpers ------------------------------------------------------------------------------


def lock_transfer(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("organisation", "sender", "decision")
        .get(pk=transfer.pk)
    )


def recipient_state(transfer: Transfer, now: datetime | None = None) -> str:
    """What the link shows: "available", "locked", or "ended" (revoked, expired, or past
    its expiry though `expire_transfers` has not run yet)."""
    now = now or timezone.now()
    if transfer.status in ENDED or transfer.has_expired_by(now):
        return ENDED_STATE
    if transfer.status == Status.LOCKED:
        return LOCKED
    return AVAILABLE


def recipient_refusal(transfer: Transfer, visit: Visit, *, field: str) -> ValidationError | None:
    """Why the recipient may do nothing with the transfer now (logged), or None."""
    state = recipient_state(transfer)
    if state == AVAILABLE:
        return None
    log_access(transfer, AccessKind.REFUSED, visit)
    message = LOCKED_MESSAGE if state == LOCKED else NO_LONGER_AVAILABLE
    return ValidationError({field: [message]})


def raise_refusal(refusal: ValidationError | None) -> None:
    """Raise a refusal after the transaction that logged it has committed."""
    if refusal is not None:
        raise refusal


def ended_message(transfer: Transfer) -> str:
    return f"{transfer.reference} has already ended: it is {_status_quoted(transfer)}."


def _status_quoted(transfer: Transfer) -> str:
    return f"\u201c{transfer.status_label.lower()}\u201d"


def log_access(
    transfer: Transfer,
    kind: str,
    visit: Visit | None,
    *,
    file: TransferFile | None = None,
    actor: User | None = None,
) -> AccessEvent:
    return AccessEvent.objects.create(
        transfer=transfer,
        kind=kind,
        file=file,
        actor=actor,
        ip_address=_ip_address(visit.ip_address) if visit else None,
        user_agent=visit.user_agent[:MAX_USER_AGENT_CHARS] if visit else "",
    )


def _ip_address(value: str | None) -> str | None:
    """The address as given, if it is one (behind a proxy it may not be)."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
