"""The notifications as the local authority receives them: a CSV and a PDF letter.

Regulation 13 of the School Attendance (Pupil Registration) (England)
Regulations 2024 says what the school sends: for a pupil joining, the
particulars entered in the admission register (13(5)); for a removal, the
pupil's particulars and the ground on which the name is deleted (13(7)). Both
documents carry the same columns: the reference, the change, the pupil's
names, UPN and date of birth, the date, the ground's regulation and name, and
the deadline. Nothing here changes a record; the views audit each download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infoshare.core.exports import Column
from infoshare.statutory.models import ChangeKind

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

    from infoshare.core.models import Membership, Organisation
    from infoshare.statutory.models import RollChange

LETTER_TITLE = "Notification of pupils joining and leaving the school roll"


def _change_label(change: RollChange) -> str:
    return "Joined" if change.kind == ChangeKind.JOINED else "Removed"


CSV_COLUMNS: list[Column[RollChange]] = [
    Column("Reference", lambda c: c.reference),
    Column("Change", _change_label),
    Column("First name", lambda c: c.pupil.given_name),
    Column("Last name", lambda c: c.pupil.family_name),
    Column("UPN", lambda c: c.pupil.upn),
    Column("Date of birth", lambda c: c.pupil.date_of_birth),
    Column("Date", lambda c: c.change_date),
    Column("Ground (regulation)", lambda c: c.ground.regulation if c.ground else ""),
    Column("Ground", lambda c: c.ground.name if c.ground else ""),
    Column("Deadline", lambda c: c.deadline),
]


def export_filename(organisation: Organisation, today: datetime.date) -> str:
    return f"{organisation.slug}-roll-changes-{today.isoformat()}"


def letter_context(
    changes: Sequence[RollChange],
    *,
    organisation: Organisation,
    local_authority: Organisation | None,
    dated: datetime.date,
    signatory: Membership,
) -> dict[str, Any]:
    """Everything `statutory/roll/letter_pdf.html` shows."""
    joined = [change for change in changes if change.kind == ChangeKind.JOINED]
    removed = [change for change in changes if change.kind == ChangeKind.REMOVED]
    return {
        "title": LETTER_TITLE,
        "organisation": organisation,
        "local_authority": local_authority,
        "dated": dated,
        "joined": joined,
        "removed": removed,
        "references": ", ".join(change.reference for change in changes),
        "signatory_name": signatory.user.name or signatory.user.email,
        "signatory_title": signatory.job_title or ", ".join(signatory.role_labels()),
    }
