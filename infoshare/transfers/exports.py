"""The list of transfers as CSV: who was sent what share, when, and what became of it.

Never the message or the names of the files, which are encrypted and may
name a pupil: the export is a register of shares, not a copy of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from infoshare.core.exports import Column
from infoshare.transfers.forms import shown_status
from infoshare.transfers.models import Status, Transfer

if TYPE_CHECKING:
    from datetime import datetime


def columns(now: datetime) -> list[Column[Transfer]]:
    """The export's columns; a live transfer past its expiry shows as expired, as on the page."""
    return [
        Column("Reference", lambda t: t.reference),
        Column("Decision", lambda t: t.decision.reference),
        Column("Recipient", lambda t: t.recipient_name),
        Column("Recipient's organisation", lambda t: t.recipient_organisation),
        Column("Recipient's email address", lambda t: t.recipient_email),
        Column("Sent by", lambda t: str(t.sender)),
        Column("Sent", lambda t: timezone.localdate(t.created_at)),
        Column("Expires", lambda t: timezone.localdate(t.expires_at)),
        Column("Status", lambda t: Status(shown_status(t, now)).label),
        Column("Files", lambda t: str(getattr(t, "file_count", 0))),
        Column("Downloads allowed for each file", lambda t: str(t.max_downloads)),
        Column("Ended", lambda t: timezone.localdate(t.ended_at) if t.ended_at else None),
    ]


def filename(slug: str, now: datetime) -> str:
    return f"{slug}-transfers-{timezone.localdate(now).isoformat()}"
