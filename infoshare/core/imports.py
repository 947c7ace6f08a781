"""Reading a pupil list exported from a school's information system (SIMS, Arbor, Bromcom).

No database here: this module turns an uploaded CSV into checked rows, and
`services.import_pupils` saves them. The page keeps the file's text between
its steps (upload, choose columns, confirm) and calls these functions again
at each step, so nothing about the pupils is stored until the import itself.

Line numbers are the file's own, as a spreadsheet shows them: the heading
row is line 1 and the first pupil is line 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
from django.core.exceptions import ValidationError

from infoshare.core.upn import normalise_upn, validate_upn

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
PREVIEW_ROWS = 10
NAME_MAX_LENGTH = 100
YEAR_GROUP_MAX_LENGTH = 20

# The first bytes of files people upload by mistake: XLSX and other Office
# files (zip), old Excel (OLE2), PDF.
_BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")
_SLASHED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DATE_FORMAT_HINT = "like 27/03/2015 or 2015-03-27"


class UnreadableFile(Exception):
    """The upload is not a CSV file we can read; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImportField:
    """One of our fields a column of the file can fill.

    `guesses` are the column headings the usual exports give it, best first.
    """

    name: str
    label: str
    required: bool
    guesses: tuple[str, ...]
    is_date: bool = False


FIELDS: tuple[ImportField, ...] = (
    ImportField("upn", "UPN", True, ("upn", "unique pupil number", "pupil upn")),
    ImportField(
        "given_name",
        "First name",
        True,
        (
            "legal forename",
            "forename",
            "first name",
            "legal first name",
            "given name",
            "firstname",
            "preferred forename",
        ),
    ),
    ImportField(
        "family_name",
        "Last name",
        True,
        (
            "legal surname",
            "surname",
            "last name",
            "legal last name",
            "family name",
            "lastname",
            "preferred surname",
        ),
    ),
    ImportField(
        "date_of_birth",
        "Date of birth",
        False,
        ("dob", "date of birth", "birth date"),
        is_date=True,
    ),
    ImportField(
        "year_group",
        "Year group",
        False,
        ("year group", "year", "reg year", "nc year", "ncyear", "national curriculum year"),
    ),
    ImportField(
        "on_roll_from",
        "On roll from",
        False,
        ("admission date", "date of admission", "entry date", "date of entry", "start date"),
        is_date=True,
    ),
    ImportField(
        "on_roll_until",
        "On roll until",
        False,
        ("leaving date", "date of leaving", "leave date", "end date"),
        is_date=True,
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}

# Our field name -> the position of the file's column that fills it.
ColumnMapping = dict[str, int]


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: its line in the file, the column, the reason."""

    line: int
    column: str
    reason: str


@dataclass(frozen=True)
class PupilRow:
    """One pupil's values, checked and converted; only the fields the file fills."""

    line: int
    values: dict[str, Any]

    @property
    def upn(self) -> str:
        return str(self.values.get("upn") or "")


@dataclass
class CheckedFile:
    rows: list[PupilRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.rows)


@dataclass(frozen=True)
class PupilTable:
    """The file as read: its headings and its data rows, every cell as text."""

    headings: list[str]
    frame: pl.DataFrame

    @property
    def row_count(self) -> int:
        return self.frame.height

    def column_label(self, position: int) -> str:
        heading = self.headings[position].strip()
        return heading or f"Column {position + 1} (no heading)"

    def numbered_rows(self) -> Iterator[tuple[int, tuple[str | None, ...]]]:
        """(line in the file, cells) of every data row, blank rows skipped.

        A value in quotes may span lines; counting its line breaks keeps the
        numbers matching what a text editor or spreadsheet shows.
        """
        line = 2
        for cells in self.frame.iter_rows():
            if any(cell and cell.strip() for cell in cells):
                yield line, cells
            line += 1 + sum(cell.count("\n") for cell in cells if cell)


# --- reading the upload --------------------------------------------------------------------


def decode_upload(filename: str, data: bytes, *, what: str = "pupil list") -> str:
    """The upload's text, or UnreadableFile saying why it cannot be used.

    `what` names the export in the messages ("pupil list", "list of roll changes").
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnreadableFile("The file must be smaller than 2 MB.")
    if not filename.lower().endswith(".csv"):
        raise UnreadableFile(
            f"The file must be a CSV file. Save the {what} from your school's "
            "information system or spreadsheet as CSV, then upload it again."
        )
    if not data.strip():
        raise UnreadableFile("The file is empty.")
    if data.startswith(_BINARY_SIGNATURES) or b"\x00" in data:
        raise UnreadableFile(
            "The file is not a CSV file, although its name ends in .csv. Save it from your "
            "spreadsheet as 'CSV (comma delimited)', then upload it again."
        )
    try:
        # utf-8-sig drops the byte order mark Excel puts at the start of a UTF-8 CSV.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older exports and "CSV (comma delimited)" from Excel on Windows are Windows-1252.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                "The file's text could not be read. Save it as 'CSV UTF-8', then upload it again."
            ) from error


def read_table(text: str) -> PupilTable:
    """The pupil list's CSV text as a table of strings, or UnreadableFile saying what is wrong."""
    table = parse_table(text)
    _require_enough_columns(table)
    require_rows(table, "The file has a heading row but no pupils under it.")
    return table


def parse_table(text: str) -> PupilTable:
    """Any CSV text as a table of strings, its first row the headings; the columns unchecked.

    Shared by every import (pupils, roll changes); each checks its own columns.
    """
    try:
        # No header handling by polars: headings are kept exactly as written,
        # even when blank or repeated; no type inference, so "0012" stays "0012".
        frame = pl.read_csv(
            text.encode("utf-8"), has_header=False, infer_schema=False, encoding="utf8"
        )
    except pl.exceptions.NoDataError as error:
        raise UnreadableFile("The file is empty.") from error
    except pl.exceptions.PolarsError as error:
        raise UnreadableFile(
            "Some rows have more values than there are column headings. Check that any value "
            "with a comma in it is in quotes, save the file as CSV again and upload it."
        ) from error
    headings = [cell or "" for cell in frame.row(0)]
    return PupilTable(headings=headings, frame=frame.slice(1))


def require_rows(table: PupilTable, message: str) -> None:
    """UnreadableFile with `message` when no row under the headings has a value."""
    if next(table.numbered_rows(), None) is None:
        raise UnreadableFile(message)


def _require_enough_columns(table: PupilTable) -> None:
    required = sum(1 for f in FIELDS if f.required)
    if len(table.headings) < required:
        raise UnreadableFile(
            f"The file needs at least {required} columns: UPN, first name and last name. "
            "If your spreadsheet uses semicolons or tabs between values, save it as "
            "'CSV (comma delimited)' and upload it again."
        )


# --- choosing which column fills which field ---------------------------------------------


def guess_mapping(headings: Sequence[str], fields: Sequence[ImportField] = FIELDS) -> ColumnMapping:
    """Our fields matched to the file's columns by their headings; each column used once.

    `fields` are the pupil list's unless another import names its own.
    """
    normalised = [_normalise_heading(h) for h in headings]
    mapping: ColumnMapping = {}
    taken: set[int] = set()
    for import_field in fields:
        for guess in import_field.guesses:
            position = next(
                (i for i, h in enumerate(normalised) if h == guess and i not in taken), None
            )
            if position is not None:
                mapping[import_field.name] = position
                taken.add(position)
                break
    return mapping


def _normalise_heading(heading: str) -> str:
    """'Date of Birth', 'DATE_OF_BIRTH' and ' date-of-birth ' all read 'date of birth'."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", heading.lower()).split())


# --- checking and converting the rows ----------------------------------------------------


def check_rows(table: PupilTable, mapping: ColumnMapping, *, today: date) -> CheckedFile:
    """Every row checked: the pupils ready to save, or every problem found."""
    checked = CheckedFile()
    first_line_of_upn: dict[str, int] = {}
    for line, cells in table.numbered_rows():
        values, errors = check_row(table, mapping, line, cells, today=today)
        upn = values.get("upn")
        if upn:
            earlier = first_line_of_upn.setdefault(upn, line)
            if earlier != line:
                column = _label_of(table, mapping, "upn")
                errors.append(RowError(line, column, f"Same UPN as line {earlier}."))
        if errors:
            checked.errors.extend(errors)
        else:
            checked.rows.append(PupilRow(line, values))
    return checked


def check_row(
    table: PupilTable,
    mapping: ColumnMapping,
    line: int,
    cells: Sequence[str | None],
    *,
    today: date,
) -> tuple[dict[str, Any], list[RowError]]:
    """One row's values that could be converted, and the problems with the others."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    # In the file's column order, as the person reading the problems sees them.
    for name, position in sorted(mapping.items(), key=lambda item: item[1]):
        try:
            values[name] = clean_value(FIELDS_BY_NAME[name], _cell(cells, position), today=today)
        except ValidationError as error:
            errors.extend(RowError(line, table.column_label(position), m) for m in error.messages)
    start, end = values.get("on_roll_from"), values.get("on_roll_until")
    if start and end and end < start:
        column = _label_of(table, mapping, "on_roll_until")
        errors.append(RowError(line, column, "The leaving date is before the admission date."))
    return values, errors


def clean_value(import_field: ImportField, text: str, *, today: date) -> Any:
    """One cell as the value saved, or ValidationError with the reason."""
    label = import_field.label
    if not text:
        if import_field.required:
            raise ValidationError(f"The {_lower_first(label)} is missing.")
        return None if import_field.is_date else ""
    if import_field.name == "upn":
        validate_upn(text)
        return normalise_upn(text)
    if import_field.is_date:
        value = parse_date(text)
        if import_field.name == "date_of_birth" and value > today:
            raise ValidationError("The date of birth is in the future.")
        return value
    limit = YEAR_GROUP_MAX_LENGTH if import_field.name == "year_group" else NAME_MAX_LENGTH
    if len(text) > limit:
        raise ValidationError(f"The {_lower_first(label)} is longer than {limit} characters.")
    return text


def parse_date(text: str) -> date:
    """A date written 27/03/2015 (day first, as in the UK) or 2015-03-27."""
    slashed = _SLASHED_DATE.match(text)
    iso = _ISO_DATE.match(text)
    if slashed:
        day, month, year = (int(part) for part in slashed.groups())
    elif iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        raise ValidationError(f"This is not a date. Write dates {DATE_FORMAT_HINT}.")
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValidationError(
            f"This date does not exist. Write dates {DATE_FORMAT_HINT}."
        ) from error


def preview(table: PupilTable, mapping: ColumnMapping, *, today: date) -> list[dict[str, Any]]:
    """The first rows as they will be imported: each cell's value, or the problem with it."""
    shown: list[dict[str, Any]] = []
    for line, cells in table.numbered_rows():
        if len(shown) == PREVIEW_ROWS:
            break
        values, errors = check_row(table, mapping, line, cells, today=today)
        problems = {error.column: error.reason for error in errors}
        row = []
        for import_field in FIELDS:
            position = mapping.get(import_field.name)
            if position is not None:
                problem = problems.get(table.column_label(position))
                value = None if problem else values.get(import_field.name)
                row.append(
                    {
                        "value": value,
                        "shown": _shown(value),
                        "text": _cell(cells, position),
                        "problem": problem,
                    }
                )
        shown.append({"line": line, "cells": row})
    return shown


def mapped_fields(mapping: ColumnMapping) -> list[ImportField]:
    """Our fields the mapping fills, in our order (the preview's columns)."""
    return [f for f in FIELDS if f.name in mapping]


def _shown(value: Any) -> str:
    """A value as the pages show it: dates as 27 March 2015."""
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return "" if value is None else str(value)


def _cell(cells: Sequence[str | None], position: int) -> str:
    return (cells[position] or "").strip() if position < len(cells) else ""


def _label_of(table: PupilTable, mapping: ColumnMapping, name: str) -> str:
    position = mapping.get(name)
    return table.column_label(position) if position is not None else FIELDS_BY_NAME[name].label


def _lower_first(text: str) -> str:
    return text if text.isupper() else text[:1].lower() + text[1:]
