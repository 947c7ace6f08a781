"""Importing roll changes from a school information system's CSV export (policy 5.1).

All or nothing: the rows read by `infoshare.statutory.imports` are matched to
the school's pupils and checked exactly as the form checks one change
(`roll.roll_change_errors`); if any row has a problem nothing is recorded and
every problem is reported by line and column, so the file can be put right in
one go. Otherwise `roll.record_roll_changes` records them all in one
transaction, and one audit event "roll_changes.imported" counts them (counts
only: the audit trail never names a pupil).

Matching (issue 7, item 1): a row with a UPN is about the school's pupil with
that UPN; a row without one, about the pupil with exactly those names and that
date of birth. A pupil joining who is not on the school's list is added to it;
a pupil being removed must be on it. When the file's names or date of birth
disagree with the pupil the UPN finds, the row is refused: a mistyped UPN must
not remove another child from the roll.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.core.checks import require
from infoshare.core.imports import RowError
from infoshare.core.models import Organisation, Person, PersonKind, User
from infoshare.core.services import lock_people_of
from infoshare.statutory.imports import ground_lookup
from infoshare.statutory.models import ChangeKind, RemovalGround, RollChange
from infoshare.statutory.rules import can_keep_roll
from infoshare.statutory.services import roll
from infoshare.statutory.services.roll import RollChangeDraft, RollChangesRefused

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

    from infoshare.statutory.imports import RollChangeRow

REFUSAL = "Only the headteacher or an information manager imports roll changes."
# Where each field's problem is shown, when the file has no column of that name.
_COLUMN_OF_FIELD = {
    "kind": "Change",
    "change_date": "Date",
    "pupil": "UPN",
    "upn": "UPN",
    "given_name": "Legal forename",
    "family_name": "Legal surname",
    "date_of_birth": "Date of birth",
    "ground": "Removal ground",
    "notes": "Notes",
}


class ImportRefused(ValidationError):
    """Rows that cannot be recorded; nothing was. `row_errors` lists every problem by line."""

    def __init__(self, row_errors: list[RowError]) -> None:
        super().__init__(f"{len(row_errors)} problems were found, so nothing was imported.")
        self.row_errors = row_errors


@dataclass(frozen=True)
class PlannedChange:
    line: int
    draft: RollChangeDraft


@dataclass
class ImportPlan:
    """What the file would record, or every problem that stops it."""

    changes: list[PlannedChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def joining(self) -> int:
        return sum(1 for c in self.changes if c.draft.kind == ChangeKind.JOINED)

    @property
    def removed(self) -> int:
        return sum(1 for c in self.changes if c.draft.kind == ChangeKind.REMOVED)

    @property
    def new_pupils(self) -> int:
        return sum(1 for c in self.changes if c.draft.pupil is None)


@dataclass(frozen=True)
class ImportResult:
    changes: list[RollChange]
    joining: int
    removed: int
    new_pupils: int


def grounds_by_text() -> dict[str, str]:
    """How a file may name each ground in use, to its code (see `imports.ground_lookup`)."""
    return ground_lookup(RemovalGround.objects.filter(is_active=True))


def plan_import(
    organisation: Organisation,
    rows: Sequence[RollChangeRow],
    *,
    today: datetime.date,
    columns: dict[str, str] | None = None,
) -> ImportPlan:
    """Each row matched to its pupil and checked as the form checks one change.

    `columns` names the file's column for each field, so a problem is shown
    under the heading the person sees in their file.
    """
    labels = {**_COLUMN_OF_FIELD, **(columns or {})}
    pupils = _PupilFinder(organisation, rows)
    grounds = {
        g.code: g for g in RemovalGround.objects.filter(code__in={r.ground_code for r in rows})
    }
    plan = ImportPlan()
    for row in rows:
        pupil, problem = pupils.find(row)
        if problem:
            plan.errors.append(
                RowError(row.line, labels["upn" if row.upn else "given_name"], problem)
            )
            continue
        draft = _draft(row, pupil, grounds.get(row.ground_code))
        errors = roll.roll_change_errors(organisation, draft, today=today)
        plan.errors.extend(_row_errors(row.line, errors, labels))
        if not errors:
            plan.changes.append(PlannedChange(row.line, draft))
    return plan


def import_roll_changes(
    organisation: Organisation,
    *,
    actor: User,
    rows: Sequence[RollChangeRow],
    columns: dict[str, str] | None = None,
) -> ImportResult:
    """Record every change of a checked file, or none (issue 7, item 1; policy 5.1).

    Raises ImportRefused listing every problem by line when any row cannot be recorded.
    """
    if not rows:
        raise ValidationError("There are no roll changes in the file.")
    labels = {**_COLUMN_OF_FIELD, **(columns or {})}
    with transaction.atomic():
        require(can_keep_roll(actor, organisation), REFUSAL)
        # The people list's own lock: the same file imported twice at once is checked
        # the second time against the first's changes and refused as duplicates.
        lock_people_of(organisation)
        plan = plan_import(organisation, rows, today=timezone.localdate(), columns=columns)
        if plan.errors:
            raise ImportRefused(plan.errors)
        drafts = [change.draft for change in plan.changes]
        try:
            recorded = roll.record_roll_changes(
                organisation, actor=actor, drafts=drafts, source="import"
            )
        except RollChangesRefused as refused:
            lines = [change.line for change in plan.changes]
            raise ImportRefused(
                [
                    error
                    for position, errors in sorted(refused.draft_errors.items())
                    for error in _row_errors(lines[position], errors, labels)
                ]
            ) from refused
        result = ImportResult(
            changes=recorded, joining=plan.joining, removed=plan.removed, new_pupils=plan.new_pupils
        )
        audit.record(
            actor,
            "roll_changes.imported",
            organisation,
            {"joined": result.joining, "removed": result.removed, "new_pupils": result.new_pupils},
            label="Roll changes",
        )
    return result


def _draft(
    row: RollChangeRow, pupil: Person | None, ground: RemovalGround | None
) -> RollChangeDraft:
    if pupil is not None:
        return RollChangeDraft(
            kind=row.kind,
            change_date=row.change_date,
            pupil=pupil,
            ground=ground,
            notes=row.notes,
        )
    return RollChangeDraft(
        kind=row.kind,
        change_date=row.change_date,
        given_name=row.given_name,
        family_name=row.family_name,
        upn=row.upn,
        date_of_birth=row.date_of_birth,
        ground=ground,
        notes=row.notes,
    )


def _row_errors(line: int, errors: dict[str, str], labels: dict[str, str]) -> list[RowError]:
    """The form's problems with one change as problems of its row, each under its column."""
    return [
        RowError(line, labels.get(name, "Row"), _sentence(message))
        for name, message in errors.items()
    ]


def _sentence(message: str) -> str:
    """The form's messages have no full stop (GOV.UK's style beside a field); a table's do."""
    return message if message.endswith((".", "?", "!")) else f"{message}."


class _PupilFinder:
    """The school's pupils the rows name, found in two queries, whatever the number of rows."""

    def __init__(self, organisation: Organisation, rows: Sequence[RollChangeRow]) -> None:
        upns = {row.upn for row in rows if row.upn}
        births = {row.date_of_birth for row in rows if not row.upn and row.date_of_birth}
        pupils = Person.objects.in_organisation(organisation).filter(kind=PersonKind.PUPIL)
        self.by_upn = {p.upn: p for p in pupils.filter(upn__in=upns)} if upns else {}
        self.by_name: dict[tuple[str, str, object], list[Person]] = {}
        if births:
            for pupil in pupils.filter(Q(date_of_birth__in=births)):
                key = (_folded(pupil.given_name), _folded(pupil.family_name), pupil.date_of_birth)
                self.by_name.setdefault(key, []).append(pupil)

    def find(self, row: RollChangeRow) -> tuple[Person | None, str]:
        """(the pupil, "") or (None, "") for a new pupil, or (None, why the row is refused)."""
        if row.upn:
            pupil = self.by_upn.get(row.upn)
            if pupil is not None:
                return pupil, _disagreement(row, pupil)
        else:
            key = (_folded(row.given_name), _folded(row.family_name), row.date_of_birth)
            found = self.by_name.get(key, [])
            if len(found) > 1:
                return None, (
                    "More than one pupil on the school's list has this name and date of birth. "
                    "Give the pupil's UPN."
                )
            if found:
                return found[0], ""
        if row.kind == ChangeKind.REMOVED:
            return None, _not_on_list(row)
        return None, ""


def _disagreement(row: RollChangeRow, pupil: Person) -> str:
    """Why the row and the pupil its UPN finds cannot be the same child; "" if they can."""
    names_differ = (row.given_name and _folded(row.given_name) != _folded(pupil.given_name)) or (
        row.family_name and _folded(row.family_name) != _folded(pupil.family_name)
    )
    birth_differs = (
        row.date_of_birth is not None
        and pupil.date_of_birth is not None
        and row.date_of_birth != pupil.date_of_birth
    )
    if not (names_differ or birth_differs):
        return ""
    what = "name" if names_differ and not birth_differs else "date of birth"
    if names_differ and birth_differs:
        what = "name and date of birth"
    return (
        f"The pupil with UPN {row.upn} on the school's list has a different {what}. "
        "Check the UPN, or correct the pupil's details on the school's list first."
    )


def _not_on_list(row: RollChangeRow) -> str:
    if row.upn:
        return f"No pupil with UPN {row.upn} is on the school's list."
    born = row.date_of_birth
    when = f"{born.day} {born:%B %Y}" if born else "that day"
    return (
        f"No pupil named {row.given_name} {row.family_name}, born {when}, is on the school's list."
    )


def _folded(name: str) -> str:
    """Names compared as people read them: case and repeated spaces do not count."""
    return " ".join(name.split()).casefold()
