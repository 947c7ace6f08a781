"""Reading and writing the pupil datasets a school wants to share (CSV or XLSX).

Appendix A step 2: anonymising must be the easy path, so the engine takes the
spreadsheet as the school has it — Excel's "CSV UTF-8" (with a byte order
mark), older "CSV (comma delimited)" in Windows-1252, semicolons from European
locales, tabs from copy and paste, or the XLSX itself — and says in plain
words why a file cannot be used. Every column is read as text, so identifiers
keep their leading zeros and nothing is guessed about types.

Writing goes to a temporary file beside the target and is renamed into place,
so a failure never leaves a half-written file that could be shared by mistake.

No Django here (design rule 10).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from pathlib import Path

import polars as pl

ZIP_SIGNATURE = b"PK\x03\x04"
# Files people upload by mistake: old Excel (OLE2) and PDF.
_OLD_EXCEL_SIGNATURE = b"\xd0\xcf\x11\xe0"
_PDF_SIGNATURE = b"%PDF"
_UTF8_BOM = b"\xef\xbb\xbf"
# Enough of a file to recognise its kind and read its heading line.
_HEAD_BYTES = 65536
DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# A date cell of an XLSX comes back from the reader with a midnight time.
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


class UnreadableDataset(Exception):
    """The file cannot be used; the message says why and what to do, in plain words."""


def read_dataset(source: str | Path | bytes, *, filename: str | None = None) -> pl.DataFrame:
    """The dataset's rows with every column as text, headings as written (trimmed).

    `source` is a path or the file's bytes; `filename` (for bytes) only helps
    to recognise an XLSX and to word messages. Raises UnreadableDataset.
    """
    if isinstance(source, bytes):
        return _read_bytes(source, filename or "")
    path = Path(source)
    name = filename or path.name
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
        frame = _read_plain_csv(path, head, name)
        if frame is None:
            return _read_bytes(path.read_bytes(), name)
    except OSError as error:
        raise UnreadableDataset(f"The file {path.name} could not be opened.") from error
    return _without_blank_rows(frame)


def _read_bytes(data: bytes, name: str) -> pl.DataFrame:
    if not data.strip():
        raise UnreadableDataset("The file is empty.")
    if data.startswith(ZIP_SIGNATURE):
        frame = _read_xlsx(data)
    elif name.lower().endswith(".xlsx"):
        raise UnreadableDataset(
            "The file's name ends in .xlsx but it is not an Excel workbook. "
            "Save it again from Excel as 'Excel Workbook (.xlsx)' or as CSV."
        )
    else:
        _refuse_binary(data)
        frame = _read_csv(data)
    return _without_blank_rows(frame)


def _read_plain_csv(path: Path, head: bytes, name: str) -> pl.DataFrame | None:
    """A UTF-8 CSV file read by polars from the disk; None when it needs the general way.

    The usual export is read without holding its bytes in Python as well as in the
    frame (a large file's peak memory is about a fifth lower). Anything unusual —
    a workbook, Windows-1252, a line polars cannot read — returns None, and the
    caller reads the bytes, which says precisely what is wrong.
    """
    if head.startswith(ZIP_SIGNATURE) or name.lower().endswith(".xlsx") or not head.strip():
        return None
    _refuse_binary(head)
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM) :]
    if b"\n" not in head and len(head) == _HEAD_BYTES:
        return None  # a heading line this long is not worth a special case
    try:
        heading_line = _first_line(head)
    except UnicodeDecodeError:
        return None
    delimiter = detect_delimiter(heading_line)
    headings = _check_headings(next(csv.reader([heading_line], delimiter=delimiter), []))
    try:
        frame = _polars_csv(path, delimiter)
    except pl.exceptions.PolarsError:
        return None
    return _with_headings(frame, headings)


def _refuse_binary(data: bytes) -> None:
    if data.startswith(_OLD_EXCEL_SIGNATURE):
        raise UnreadableDataset(
            "The file is in the old Excel format (.xls), which cannot be read. "
            "Open it in Excel and save it as 'Excel Workbook (.xlsx)' or as CSV."
        )
    if data.startswith(_PDF_SIGNATURE):
        raise UnreadableDataset(
            "The file is a PDF. Export the data from your school's information system "
            "as CSV or as an Excel workbook (.xlsx) instead."
        )
    if b"\x00" in data[:65536]:
        raise UnreadableDataset(
            "The file is not a CSV file or an Excel workbook. "
            "Save the data as CSV or as 'Excel Workbook (.xlsx)'."
        )


# --- CSV ---------------------------------------------------------------------------


def _read_csv(data: bytes) -> pl.DataFrame:
    utf8 = _as_utf8(data)
    heading_line = _first_line(utf8)
    delimiter = detect_delimiter(heading_line)
    headings = _check_headings(next(csv.reader([heading_line], delimiter=delimiter), []))
    try:
        frame = _polars_csv(utf8, delimiter)
    except pl.exceptions.PolarsError as error:
        raise UnreadableDataset(_csv_error_message(utf8, delimiter, error)) from error
    return _with_headings(frame, headings)


def _polars_csv(source: Path | bytes, delimiter: str) -> pl.DataFrame:
    return pl.read_csv(
        source, separator=delimiter, has_header=True, infer_schema=False, quote_char='"'
    )


def _with_headings(frame: pl.DataFrame, headings: list[str]) -> pl.DataFrame:
    """The frame with the checked, trimmed headings (polars renames duplicates itself)."""
    if frame.width != len(headings):
        # A quoted heading spanning lines: trust polars, but still refuse duplicates.
        headings = _check_headings(frame.columns)
    return frame.rename(dict(zip(frame.columns, headings, strict=True)))


def _as_utf8(data: bytes) -> bytes:
    """The bytes as UTF-8 without a byte order mark, decoding Windows-1252 if need be.

    Pure ASCII (the usual case, and the cheapest check) is UTF-8 already.
    """
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV (comma delimited)" in Windows-1252 (é, £).
        try:
            return data.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError as error:
            raise UnreadableDataset(
                "The file's text could not be read: it is neither UTF-8 nor Windows-1252. "
                "Save it from your spreadsheet as 'CSV UTF-8', then try again."
            ) from error
    return data


def _first_line(data: bytes) -> str:
    end = data.find(b"\n")
    line = data if end < 0 else data[:end]
    return line.decode("utf-8").rstrip("\r")


def detect_delimiter(heading_line: str) -> str:
    """Comma, semicolon or tab: whichever occurs most in the heading line outside quotes.

    Comma wins ties (and a single column has none), as most exports use it.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in heading_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def _csv_error_message(data: bytes, delimiter: str, error: Exception) -> str:
    line = _first_ragged_line(data, delimiter)
    where = f" Line {line} has more values than there are headings." if line else ""
    return (
        "The file could not be read as a table of rows and columns "
        f"(separated by {_DELIMITER_NAMES[delimiter]}s).{where} "
        "Check it in a spreadsheet and save it again as CSV."
    )


def _first_ragged_line(data: bytes, delimiter: str) -> int | None:
    """The line number (heading = 1) of the first row with more values than headings.

    Only called once reading has failed, so reading the text again here costs nothing
    on the good path.
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")), delimiter=delimiter)
    width = len(next(reader, []))
    for row in reader:
        if len(row) > width:
            return reader.line_num
    return None


# --- XLSX --------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> pl.DataFrame:
    """The first sheet; its first row is the headings, every cell read as text."""
    try:
        raw = pl.read_excel(
            data,
            sheet_id=1,
            has_header=False,
            read_options={"dtypes": "string"},
            drop_empty_rows=True,
            drop_empty_cols=True,
        )
    except pl.exceptions.NoDataError as error:
        raise UnreadableDataset("The workbook's first sheet is empty.") from error
    except Exception as error:  # fastexcel raises its own error classes, not polars'
        raise UnreadableDataset(
            "The file looks like an Excel workbook but could not be opened. "
            "It may be damaged or password-protected: open it in Excel and save it again."
        ) from error
    headings = _check_headings([value or "" for value in raw.row(0)])
    frame = raw.slice(1).rename(dict(zip(raw.columns, headings, strict=True)))
    return frame.with_columns(pl.all().str.replace(_MIDNIGHT, "$1"))


# --- Both --------------------------------------------------------------------------


def _check_headings(raw: list[str]) -> list[str]:
    headings = [heading.strip() for heading in raw]
    if not headings or not any(headings):
        raise UnreadableDataset("The file has no headings. Its first row must name the columns.")
    blank = [position for position, heading in enumerate(headings, start=1) if not heading]
    if blank:
        raise UnreadableDataset(
            f"Column {blank[0]} has no heading. Give every column a heading in the first row."
        )
    seen: set[str] = set()
    for heading in headings:
        if heading in seen:
            raise UnreadableDataset(
                f"Two columns have the heading '{heading}'. Give each column its own heading."
            )
        seen.add(heading)
    return headings


def _without_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows with every cell empty (a spreadsheet's trailing ",,,") carry nothing."""
    blank = frame.select(pl.all_horizontal(pl.all().is_null() | (pl.all() == ""))).to_series()
    if blank.any():  # filtering copies every column, so only when there is something to drop
        frame = frame.filter(~blank)
    if frame.height == 0:
        raise UnreadableDataset("The file has headings but no rows of data.")
    return frame


def write_dataset(frame: pl.DataFrame, path: str | Path) -> None:
    """Write CSV (UTF-8 with a byte order mark, so Excel shows é and £) or XLSX.

    The file appears complete or not at all: written beside the target under a
    temporary name, then renamed over it.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise ValueError(
            f"Cannot write {target.name}: the output must end in .csv or .xlsx, "
            f"not '{target.suffix or '(no extension)'}'."
        )
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".partial{suffix}", dir=target.parent
    )
    os.close(handle)
    try:
        if suffix == ".csv":
            frame.write_csv(temporary, include_bom=True)
        else:
            frame.write_excel(temporary, autofit=False)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
