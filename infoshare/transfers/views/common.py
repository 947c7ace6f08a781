"""What both sides' pages share: a decrypted file as a download, and times as people read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

if TYPE_CHECKING:
    from datetime import datetime

    from infoshare.transfers.services import Download


def file_response(download: Download) -> StreamingHttpResponse:
    """The file, decrypted chunk by chunk as it goes, never whole in memory or on disk.

    Always an attachment of no particular type, never shown in the browser:
    what the recipient sends back could be anything, HTML included.
    """
    response = StreamingHttpResponse(download.chunks, content_type="application/octet-stream")
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=download.name or "file")
        or "attachment"
    )
    response["Content-Length"] = str(download.size)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def london_time(moment: datetime) -> str:
    """The time as the school reads it: "22 November 2026, 3:04pm" (DESIGN.md rule 9)."""
    local = timezone.localtime(moment)
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{local.day} {local:%B %Y}, {hour}:{local:%M}{half}"
