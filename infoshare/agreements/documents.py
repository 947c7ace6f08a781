"""The agreement as a document: what its PDF shows, and the audit event of downloading one.

The PDF is the version being drafted or in force, laid out to be signed: every
content field, the parties and their roles, a DPA's Article 28(3) checklist,
and a signature block for each party, filled in once a signature is recorded
and left as blank lines until then. Nothing here changes an agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from infoshare.agreements.models import IN_FORCE_STATUSES, Article28, Status
from infoshare.agreements.services import content_snapshot
from infoshare.audit import services as audit

if TYPE_CHECKING:
    import datetime

    from infoshare.agreements.models import Agreement, DpaClause
    from infoshare.core.models import User

# What a download names in its audit event: each document a person can take away.
AGREEMENT_DOCUMENT = "agreement document"
SIGNED_COPY = "signed copy"
DISPOSAL_EVIDENCE = "disposal evidence"

# The snapshot's labels the document shows in sections of their own, not as rows.
_OWN_SECTIONS = ("Title", "Sub-processors", "International transfers")
_OWN_SECTION_PREFIXES = ("Party ", "Article 28(3)")
# Rows that only mean something when filled in: left out, rather than "Not given".
_ONLY_WHEN_GIVEN = ("Sits under", "Why the review interval is longer than 12 months")


@dataclass(frozen=True)
class ContentRow:
    label: str
    text: str


@dataclass(frozen=True)
class ChecklistRow:
    """One Article 28(3) point as the DPA document shows it."""

    point: str
    requirement: str
    present: str
    where_or_why: str


def document_context(
    agreement: Agreement, *, produced: datetime.datetime, produced_by: User
) -> dict[str, Any]:
    """Everything `agreements/document_pdf.html` shows of `agreement`."""
    parties = list(agreement.parties.select_related("organisation"))
    return {
        "agreement": agreement,
        "organisation": agreement.organisation,
        "status": agreement.tag().label,
        "standing": standing(agreement),
        "rows": content_rows(agreement),
        "parties": parties,
        "checklist": checklist_rows(agreement.clauses.all()) if agreement.is_dpa else [],
        "produced": produced,
        "produced_by": produced_by,
    }


def content_rows(agreement: Agreement) -> list[ContentRow]:
    """Every content field with the label a version keeps, empty ones said to be so.

    The rows come from the same snapshot that versions keep and compare, so the
    document, the version pages and "what changed" name each field alike.
    """
    snapshot = content_snapshot(agreement)
    return [
        ContentRow(label, text or "Not given")
        for label, text in snapshot.items()
        if label not in _OWN_SECTIONS
        and not label.startswith(_OWN_SECTION_PREFIXES)
        and (text or label not in _ONLY_WHEN_GIVEN)
    ]


def checklist_rows(clauses: Any) -> list[ChecklistRow]:
    by_point: dict[str, DpaClause] = {clause.point: clause for clause in clauses}
    rows = []
    for point in Article28:
        clause = by_point.get(point.value)
        if clause is None or clause.present is None:
            present, where_or_why = "Not answered yet", ""
        elif clause.present:
            present, where_or_why = "Yes", f"Clause: {clause.clause_reference}"
        else:
            present, where_or_why = "No", f"Justification: {clause.justification}"
        rows.append(ChecklistRow(point.value, point.label, present, where_or_why))
    return rows


def standing(agreement: Agreement) -> str:
    """A sentence saying whether this document may be signed, and why not."""
    status = agreement.status
    if status in IN_FORCE_STATUSES:
        return (
            f"Version {agreement.version} was approved and is in force. Each party signs "
            "below; the school keeps the signed copy."
        )
    if status == Status.TERMINATED:
        return "This agreement has been terminated: it must not be signed."
    if status == Status.EXPIRED:
        return "This agreement has expired: it must not be signed."
    if status == Status.WITHDRAWN:
        return "This draft was withdrawn: it must not be signed."
    return (
        f"This is a draft of version {agreement.version}, not yet approved by the "
        "headteacher or the chair of governors: it must not be signed yet."
    )


def note_document_downloaded(
    agreement: Agreement, *, actor: User, what: str, version: int | None = None
) -> None:
    """Downloading a document is recorded: it names the parties and holds the arrangement.

    `what` names the document (AGREEMENT_DOCUMENT, SIGNED_COPY, DISPOSAL_EVIDENCE);
    `version` the version it belongs to, the agreement's own when not given.
    """
    changes = {"document": what, "version": version or agreement.version}
    with transaction.atomic():
        audit.record(actor, "agreement.document_downloaded", agreement, changes)
