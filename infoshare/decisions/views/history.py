"""A person's disclosure history: every decision naming them that the viewer may see.

Shared or not, corrected or current, newest first; exported as PDF or CSV for
a subject access request. Seeing special category decisions here, and every
export, leaves an audit event that names the person by UUID only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from infoshare.core.exports import csv_response
from infoshare.core.models import Person
from infoshare.core.pdf import render_pdf
from infoshare.core.rules import roles_in
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.decisions import services
from infoshare.decisions.filters import naming
from infoshare.decisions.models import ROLES_SEEING_ALL, ROLES_SEEING_SPECIAL, Decision
from infoshare.decisions.rules import can_view_decisions
from infoshare.decisions.views.lists import (
    HISTORY_COLUMNS,
    awaiting_review,
    corrected_by_of,
    corrections,
)

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from infoshare.decisions.models import DecisionQuerySet

EXPORT_FORMATS = frozenset({"pdf", "csv"})


@organisation_view(can_view_decisions)
def person_history(request: OrganisationRequest, person: UUID) -> HttpResponseBase:
    subject = get_object_or_404(Person.objects.in_organisation(request.organisation), uuid=person)
    decisions = history_of(request, subject)
    export_format = request.GET.get("format", "")
    if export_format in EXPORT_FORMATS:
        return export_history(request, subject, decisions, export_format)
    entries = [history_entry(decision) for decision in decisions]
    note_special_shown(request, subject, entries)
    return render(
        request,
        "decisions/person_history.html",
        {
            "person": subject,
            "entries": entries,
            "shared": _count_shared(entries),
            "sees_everything": sees_every_decision(request),
        },
    )


def sees_every_decision(request: OrganisationRequest) -> bool:
    """Whether the viewer's roles show them every decision, special category or not."""
    roles = roles_in(request.user, request.organisation)
    return bool(roles & ROLES_SEEING_ALL and roles & ROLES_SEEING_SPECIAL)


def history_of(request: OrganisationRequest, subject: Person) -> DecisionQuerySet:
    """Every decision naming `subject` the viewer may see, corrected ones included."""
    visible = Decision.objects.for_user(request.user, request.organisation)
    return (
        naming(visible, subject)
        .select_related(
            "purpose",
            "lawful_basis",
            "recipient_organisation",
            "decided_by",
            "recorded_by",
            "supersedes",
            "review",
        )
        .prefetch_related(corrections(), "categories", "conditions")
        .order_by("-decided_on", "-recorded_at", "-id")
    )


def history_entry(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision,
        "categories": list(decision.categories.all()),
        "conditions": list(decision.conditions.all()),
        "corrected_by": corrected_by_of(decision),
        "awaiting_review": corrected_by_of(decision) is None and awaiting_review(decision),
    }


def _count_shared(entries: list[dict[str, Any]]) -> int:
    return sum(1 for entry in entries if entry["decision"].is_share)


def note_special_shown(
    request: OrganisationRequest, subject: Person, entries: list[dict[str, Any]]
) -> None:
    """Seeing special category decisions is itself recorded (DESIGN.md rule 5)."""
    special = [e["decision"].reference for e in entries if e["decision"].has_special_category]
    services.note_history_viewed(subject, actor=request.user, references=special)


# --- Exports for a subject access request ----------------------------------------------


def export_history(
    request: OrganisationRequest,
    subject: Person,
    decisions: DecisionQuerySet,
    export_format: str,
) -> HttpResponseBase:
    produced = timezone.localtime()
    filename = f"disclosure-history-{subject.uuid}-{produced:%Y-%m-%d}"
    if export_format == "csv":
        count = decisions.count()
        response: HttpResponseBase = csv_response(decisions, HISTORY_COLUMNS, filename)
    else:
        entries = [history_entry(decision) for decision in decisions]
        count = len(entries)
        response = pdf_response(request, subject, entries, produced, filename)
    services.note_history_export(
        subject, actor=request.user, export_format=export_format, count=count
    )
    return response


def pdf_response(
    request: OrganisationRequest,
    subject: Person,
    entries: list[dict[str, Any]],
    produced: datetime,
    filename: str,
) -> HttpResponse:
    pdf = render_pdf(
        "decisions/history_pdf.html",
        {
            "person": subject,
            "organisation": request.organisation,
            "entries": entries,
            "shared": _count_shared(entries),
            "produced": produced,
            "produced_by": request.user,
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    return response
