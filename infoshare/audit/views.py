"""The audit trail page: filter, read, page through and export an organisation's events."""

from __future__ import annotations

import csv
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.http import HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from infoshare.audit.forms import EventFilterForm
from infoshare.audit.labels import describe_changes, verb_label
from infoshare.audit.models import AuditEvent
from infoshare.core.exports import spreadsheet_safe
from infoshare.core.rules import can_view_audit
from infoshare.core.tenancy import OrganisationRequest, organisation_view

if TYPE_CHECKING:
    from collections.abc import Iterator

    from infoshare.audit.models import AuditEventQuerySet

PAGE_SIZE = 50
CSV_HEADER = [
    "sequence",
    "time (UTC)",
    "actor email",
    "action",
    "record type",
    "record id",
    "record label",
    "changes",
    "hash",
]


@organisation_view(can_view_audit)
def event_list(request: OrganisationRequest) -> HttpResponseBase:
    form = EventFilterForm(request.GET or None, organisation=request.organisation)
    events = form.filter(
        AuditEvent.objects.for_organisation(request.organisation)
        .select_related("actor")
        .order_by("-created_at", "-sequence")
    )
    if request.GET.get("format") == "csv":
        return csv_response(events, request.organisation.slug)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "rows": [_row(event) for event in page.object_list],
            "filtering": form.is_filtering,
        },
    )


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "event": event,
        "action": verb_label(event.verb),
        "details": describe_changes(event.changes),
    }


# --- CSV ---------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(events: AuditEventQuerySet, slug: str) -> StreamingHttpResponse:
    """Every matching event (not only one page), streamed so a long trail needs no memory."""
    filename = f"audit-{slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_lines(events: AuditEventQuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(csv_record(event))


def csv_record(event: AuditEvent) -> list[str | int]:
    return [
        event.sequence,
        event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        # Labels and references come from what people typed (CSV injection).
        spreadsheet_safe(event.actor.email if event.actor else ""),
        event.verb,
        event.object_type,
        spreadsheet_safe(event.object_id),
        spreadsheet_safe(event.object_label),
        event.changes,
        event.hash,
    ]
