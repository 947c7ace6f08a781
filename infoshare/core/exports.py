"""The CSV and XLSX exports every list offers, written one way.

A list describes its export as columns (a heading and how to read the value
from a row) and hands over its rows, usually a queryset: the CSV is streamed
as it is read and the workbook written row by row to a temporary file, so a
long register needs no memory. Text typed by people is kept safe from
spreadsheets that would run it as a formula ("CSV injection").
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import xlsxwriter  # type: ignore[import-untyped]
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from django.http import HttpResponseBase

# A cell starting with one of these is run as a formula by spreadsheet
# programs ("CSV injection"); exports must show it as the text it is.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows are read from the database this many at a time, each chunk with its prefetches.
EXPORT_CHUNK = 2000
# The `?format=` values a list answers with a file.
EXPORT_FORMATS = frozenset({"csv", "xlsx"})
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How wide each column of a workbook starts, in characters.
XLSX_COLUMN_WIDTH = 18

Row = TypeVar("Row")
Value = str | date | None


def spreadsheet_safe(value: object) -> str:
    """The value as text, prefixed with ' when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column of an export: its heading, and how to read its value from a row."""

    header: str
    value: Callable[[Row], Value]


def export_response(
    export_format: str,
    rows: Iterable[Row],
    columns: Sequence[Column[Row]],
    filename: str,
    *,
    sheet: str,
) -> HttpResponseBase:
    """The rows as `export_format` (one of EXPORT_FORMATS), downloaded as `filename`.csv/.xlsx."""
    if export_format == "csv":
        return csv_response(rows, columns, filename)
    if export_format == "xlsx":
        return xlsx_response(rows, columns, filename, sheet=sheet)
    raise ValueError(f"No export in the format {export_format!r}.")


# --- CSV --------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    rows: Iterable[Row], columns: Sequence[Column[Row]], filename: str
) -> StreamingHttpResponse:
    """Every row, streamed as it is read."""
    response = StreamingHttpResponse(
        csv_lines(rows, columns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def csv_lines(rows: Iterable[Row], columns: Sequence[Column[Row]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([column.header for column in columns])
    for row in in_chunks(rows):
        yield writer.writerow([csv_cell(column.value(row)) for column in columns])


def csv_cell(value: Value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    # Everything else was typed by someone: defuse spreadsheet formulas.
    return spreadsheet_safe(value)


# --- XLSX -------------------------------------------------------------------------------


def xlsx_response(
    rows: Iterable[Row], columns: Sequence[Column[Row]], filename: str, *, sheet: str
) -> FileResponse:
    """A workbook written row by row to a temporary file (xlsxwriter's constant
    memory mode), so a long list does not have to fit in memory."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    write_workbook(handle, rows, columns, sheet=sheet)
    handle.seek(0)
    return FileResponse(
        handle, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_CONTENT_TYPE
    )


def write_workbook(
    target: Any, rows: Iterable[Row], columns: Sequence[Column[Row]], *, sheet: str
) -> None:
    # Text is written with write_string, which a spreadsheet never runs as a
    # formula, so it is kept exactly as typed (no ' prefix as in the CSV).
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True})
    worksheet = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "d mmmm yyyy"})
    for number, column in enumerate(columns):
        worksheet.set_column(number, number, XLSX_COLUMN_WIDTH)
        worksheet.write_string(0, number, column.header, bold)
    worksheet.freeze_panes(1, 0)
    for line, row in enumerate(in_chunks(rows), start=1):
        for number, column in enumerate(columns):
            value = column.value(row)
            if isinstance(value, date):
                worksheet.write_datetime(line, number, value, day)
            elif value:
                worksheet.write_string(line, number, value)
    workbook.close()


def in_chunks(rows: Iterable[Row]) -> Iterator[Row]:
    """A queryset's rows in chunks, each with its prefetches, rather than all at once."""
    if isinstance(rows, QuerySet):
        return rows.iterator(chunk_size=EXPORT_CHUNK)
    return iter(rows)
