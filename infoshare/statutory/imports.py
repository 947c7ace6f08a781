"""Reading roll changes exported from a school's information system (SIMS, Arbor, Bromcom).

Policy 5.1: the school tells its local authority of every pupil who joins or
leaves the roll; a school that keeps its admission register in an information
system can bring the changes in as a CSV file, one row per change, instead of
typing each one. No database here: this module turns the file's text into
checked rows (`RollChangeRow`) or the problems with them, and
`services.importing` matches the rows to the school's pupils and records them.

The reading itself (size, encoding, binary files, line numbers as a
spreadsheet shows them, dates) is the pupil list's, in `infoshare.core.imports`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ValidationError

from infoshare.core.imports import (
    DATE_FORMAT_HINT,
    NAME_MAX_LENGTH,
    ColumnMapping,
    ImportField,
    PupilTable,
    RowError,
    UnreadableFile,
    decode_upload,
    guess_mapping,
    parse_date,
    parse_table,
    require_rows,
)
from infoshare.core.upn import normalise_upn, validate_upn
from infoshare.statutory.models import ChangeKind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import date

    from infoshare.statutory.models import RemovalGround

T = TypeVar("T")

WHAT = "list of roll changes"
NOTES_MAX_LENGTH = 2000

FIELDS: tuple[ImportField, ...] = (
    ImportField("upn", "UPN", False, ("upn", "unique pupil number", "pupil upn")),
    ImportField(
        "given_name",
        "Legal forename",
        False,
        ("legal forename", "forename", "first name", "legal first name", "given name"),
    ),
    ImportField(
        "family_name",
        "Legal surname",
        False,
        ("legal surname", "surname", "last name", "legal last name", "family name"),
    ),
    ImportField(
        "date_of_birth",
        "Date of birth",
        False,
        ("date of birth", "dob", "birth date"),
        is_date=True,
    ),
    ImportField(
        "kind",
        "Change",
        True,
        ("change", "change type", "type of change", "roll change", "movement", "type"),
    ),
    ImportField(
        "change_date",
        "Date",
        True,
        ("date", "change date", "date of change", "effective date", "roll change date"),
        is_date=True,
    ),
    # An export with the register's own two columns instead of one "Date".
    ImportField(
        "admission_date",
        "Admission date",
        False,
        ("admission date", "date of admission", "entry date", "date of entry"),
        is_date=True,
    ),
    ImportField(
        "removal_date",
        "Removal date",
        False,
        ("removal date", "date of removal", "leaving date", "date of leaving", "leave date"),
        is_date=True,
    ),
    ImportField(
        "ground",
        "Removal ground",
        False,
        (
            "removal ground",
            "ground",
            "ground for removal",
            "removal reason",
            "reason for removal",
            "leaving reason",
            "reason",
        ),
    ),
    ImportField("notes", "Notes", False, ("notes", "note", "comments", "comment")),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
# Without a UPN, who a row is about is read from these three together.
_IDENTITY = ("given_name", "family_name", "date_of_birth")
# The headings the page and the template file give, in the order of the template.
TEMPLATE_HEADINGS = (
    "UPN",
    "Legal forename",
    "Legal surname",
    "Date of birth",
    "Change",
    "Date",
    "Removal ground",
    "Notes",
)

# What the information systems and people write for each kind of change.
_KIND_WORDS = {
    ChangeKind.JOINED: ("joined", "join", "joiner", "admission", "admitted", "admit", "new"),
    ChangeKind.REMOVED: (
        "left",
        "leaver",
        "leaving",
        "removed",
        "removal",
        "remove",
        "deleted",
        "deletion",
        "off roll",
    ),
}
KINDS_BY_WORD = {word: kind for kind, words in _KIND_WORDS.items() for word in words}


@dataclass(frozen=True)
class RollChangeRow:
    """One row of the file, read and checked: a change to record, not yet matched to a pupil."""

    line: int
    kind: str  # a ChangeKind value
    change_date: date
    upn: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    ground_code: str = ""  # a RemovalGround code, for a removal
    notes: str = ""

    @property
    def identity(self) -> tuple[object, ...]:
        """Who the row is about, as far as the file says: the UPN, else names and birth date."""
        if self.upn:
            return ("upn", self.upn)
        return ("name", self.given_name.lower(), self.family_name.lower(), self.date_of_birth)


@dataclass
class CheckedRows:
    rows: list[RollChangeRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- reading the file ----------------------------------------------------------------------


def read_upload(filename: str, data: bytes) -> str:
    """The upload's text, once it is known to hold roll changes; UnreadableFile otherwise."""
    text = decode_upload(filename, data, what=WHAT)
    read_table(text)
    return text


def read_table(text: str) -> tuple[PupilTable, ColumnMapping]:
    """The file as a table, and which column holds what, guessed from the headings."""
    table = parse_table(text)
    mapping = guess_mapping(table.headings, FIELDS)
    _require_columns(mapping)
    require_rows(table, "The file has a heading row but no roll changes under it.")
    return table, mapping


def column_labels(table: PupilTable, mapping: ColumnMapping) -> dict[str, str]:
    """Each field's column as the file heads it: where the pages put a field's problem."""
    return {name: table.column_label(position) for name, position in mapping.items()}


def _require_columns(mapping: ColumnMapping) -> None:
    """The columns every file needs: the change, its date, and who it is about."""
    missing = []
    if "kind" not in mapping:
        missing.append("Change (Joined or Left)")
    if "change_date" not in mapping and not {"admission_date", "removal_date"} <= mapping.keys():
        missing.append("Date")
    if "upn" not in mapping and not all(name in mapping for name in _IDENTITY):
        missing.append("UPN (or Legal forename, Legal surname and Date of birth)")
    if missing:
        raise UnreadableFile(
            "The file has no column headed "
            + " or ".join(missing if len(missing) < 2 else [", ".join(missing)])
            + ". Give the columns the headings the page lists, or start from the template, "
            "then upload the file again. If your spreadsheet uses semicolons or tabs between "
            "values, save it as 'CSV (comma delimited)'."
        )


# --- checking the rows ---------------------------------------------------------------------


def ground_lookup(grounds: Iterable[RemovalGround]) -> dict[str, str]:
    """Every way a file may name a ground, as `ground_key` reads it, to the ground's code.

    Regulation 9(1)(a) may be written "9(1)(a)", "a", "(a)" or by its code.
    """
    lookup: dict[str, str] = {}
    for ground in grounds:
        regulation = ground_key(ground.regulation)
        for key in (regulation, regulation[-1:], ground_key(ground.code), ground_key(ground.name)):
            lookup.setdefault(key, ground.code)
    return lookup


def ground_key(text: str) -> str:
    """'9(1)(a)', 'Reg 9 (1) (a)' and '9.1.a' all read '91a'; '(a)' reads 'a'."""
    key = re.sub(r"[^0-9a-z]+", "", text.lower())
    return re.sub(r"^(regulation|reg)(?=9)", "", key)


def check_rows(
    table: PupilTable, mapping: ColumnMapping, *, today: date, grounds: Mapping[str, str]
) -> CheckedRows:
    """Every row read: the changes, or every problem found (a row twice in the file too)."""
    checked = CheckedRows()
    first_line: dict[tuple[object, ...], int] = {}
    for line, cells in table.numbered_rows():
        row, errors = check_row(table, mapping, line, cells, today=today, grounds=grounds)
        if row is not None:
            key = (row.kind, *row.identity)
            earlier = first_line.setdefault(key, line)
            if earlier != line:
                column = _label_of(table, mapping, "upn" if row.upn else "given_name")
                what = "joining" if row.kind == ChangeKind.JOINED else "removal"
                errors.append(
                    RowError(line, column, f"This pupil's {what} is on line {earlier} too.")
                )
        if errors:
            checked.errors.extend(errors)
        elif row is not None:
            checked.rows.append(row)
    return checked


def check_row(
    table: PupilTable,
    mapping: ColumnMapping,
    line: int,
    cells: Sequence[str | None],
    *,
    today: date,
    grounds: Mapping[str, str],
) -> tuple[RollChangeRow | None, list[RowError]]:
    """One row as a change (None when it cannot be read), and the problems with it."""
    reader = _RowReader(table, mapping, line, cells)
    kind = reader.read("kind", _clean_kind)
    upn = reader.read("upn", _clean_upn)
    given_name = reader.read("given_name", _clean_name)
    family_name = reader.read("family_name", _clean_name)
    date_of_birth = reader.read("date_of_birth", lambda text: _clean_birth(text, today))
    change_date = reader.read_change_date(kind)
    ground_code = reader.read("ground", lambda text: _clean_ground(text, kind, grounds))
    notes = reader.read("notes", _clean_notes)
    if kind == ChangeKind.REMOVED and not ground_code and not reader.failed("ground"):
        reader.problem("ground", "The removal ground is missing. Write it like 9(1)(a).")
    identified = given_name and family_name and date_of_birth
    if not upn and not identified and not reader.failed("upn", *_IDENTITY):
        reader.problem(
            "upn",
            "The UPN is missing. Without it, give the pupil's legal forename, legal surname "
            "and date of birth.",
        )
    if reader.errors or not kind or change_date is None:
        return None, reader.errors
    row = RollChangeRow(
        line=line,
        kind=kind,
        change_date=change_date,
        upn=upn or "",
        given_name=given_name or "",
        family_name=family_name or "",
        date_of_birth=date_of_birth,
        ground_code=ground_code or "",
        notes=notes or "",
    )
    return row, []


class _RowReader:
    """Reads one row's cells field by field, collecting each problem under its column."""

    def __init__(
        self, table: PupilTable, mapping: ColumnMapping, line: int, cells: Sequence[str | None]
    ) -> None:
        self.table, self.mapping, self.line, self.cells = table, mapping, line, cells
        self.errors: list[RowError] = []
        self._failed: set[str] = set()

    def text(self, name: str) -> str:
        position = self.mapping.get(name)
        if position is None or position >= len(self.cells):
            return ""
        return (self.cells[position] or "").strip()

    def read(self, name: str, clean: Callable[[str], T]) -> T | None:
        text = self.text(name)
        if not text and name != "kind":
            return None
        try:
            return clean(text)
        except ValidationError as error:
            for message in error.messages:
                self.problem(name, message)
            return None

    def read_change_date(self, kind: str | None) -> date | None:
        """The "Date" column, else the admission or removal date that fits the change."""
        name = self._date_column(kind)
        if not self.text(name):
            # Without the change, which date is missing is unknown: its own problem says enough.
            if kind:
                self.problem(name, "The date of the change is missing.")
            return None
        return self.read(name, parse_date)

    def _date_column(self, kind: str | None) -> str:
        if "change_date" in self.mapping and (self.text("change_date") or not kind):
            return "change_date"
        own = "admission_date" if kind == ChangeKind.JOINED else "removal_date"
        return own if own in self.mapping else "change_date"

    def problem(self, name: str, reason: str) -> None:
        self._failed.add(name)
        self.errors.append(RowError(self.line, _label_of(self.table, self.mapping, name), reason))

    def failed(self, *names: str) -> bool:
        return not self._failed.isdisjoint(names)


def _clean_kind(text: str) -> str:
    if not text:
        raise ValidationError("The change is missing. Write Joined or Left.")
    kind = KINDS_BY_WORD.get(" ".join(re.sub(r"[^a-z]+", " ", text.lower()).split()))
    if kind is None:
        raise ValidationError(
            f"\u201c{text}\u201d is not a change we know. Write Joined (or Admission) for a "
            "pupil joining the roll, Left (or Removed) for a pupil leaving it."
        )
    return str(kind)


def _clean_upn(text: str) -> str:
    validate_upn(text)
    return normalise_upn(text)


def _clean_name(text: str) -> str:
    if len(text) > NAME_MAX_LENGTH:
        raise ValidationError(f"The name is longer than {NAME_MAX_LENGTH} characters.")
    return text


def _clean_birth(text: str, today: date) -> date:
    born = parse_date(text)
    if born > today:
        raise ValidationError("The date of birth is in the future.")
    return born


def _clean_ground(text: str, kind: str | None, grounds: Mapping[str, str]) -> str:
    if kind == ChangeKind.JOINED:
        raise ValidationError(
            "A pupil joining the roll has no removal ground. Leave it blank for a joining."
        )
    code = grounds.get(ground_key(text))
    if code is None:
        raise ValidationError(
            f"\u201c{text}\u201d is not a ground of regulation 9(1). Write one of 9(1)(a) "
            "to 9(1)(o), like 9(1)(a) for a pupil registered at another school."
        )
    return code


def _clean_notes(text: str) -> str:
    if len(text) > NOTES_MAX_LENGTH:
        raise ValidationError(f"The notes are longer than {NOTES_MAX_LENGTH} characters.")
    return text


def _label_of(table: PupilTable, mapping: ColumnMapping, name: str) -> str:
    position = mapping.get(name)
    return table.column_label(position) if position is not None else FIELDS_BY_NAME[name].label


__all__ = [
    "DATE_FORMAT_HINT",
    "FIELDS",
    "TEMPLATE_HEADINGS",
    "CheckedRows",
    "RollChangeRow",
    "UnreadableFile",
    "check_rows",
    "column_labels",
    "ground_lookup",
    "read_table",
    "read_upload",
]
