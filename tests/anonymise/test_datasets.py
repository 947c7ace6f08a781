"""Reading and writing datasets: encodings, delimiters, XLSX, refusals, atomic writes."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest

from infoshare.anonymise import datasets
from infoshare.anonymise.datasets import UnreadableDataset, read_dataset, write_dataset
from infoshare.core.upn_check import make_upn

FILES = Path(__file__).parent / "files"
UPN_1 = make_upn("823456789012")
UPN_2 = make_upn("823456789013")


def _rows(frame: pl.DataFrame) -> list[tuple[str | None, ...]]:
    return frame.rows()


def test_reads_utf8_with_bom_and_keeps_leading_zeros():
    data = f"\ufeffUPN,Year group,Postcode\n{UPN_1},07,E8 1AB\n{UPN_2},08,N1 9GU\n"
    frame = read_dataset(data.encode("utf-8"), filename="pupils.csv")
    assert frame.columns == ["UPN", "Year group", "Postcode"]
    assert frame.schema == pl.Schema(dict.fromkeys(frame.columns, pl.Utf8))
    assert _rows(frame) == [(UPN_1, "07", "E8 1AB"), (UPN_2, "08", "N1 9GU")]


def test_reads_utf8_with_accents():
    data = "Name,Town\nZoë,Bromley-by-Bow\n".encode()
    assert _rows(read_dataset(data)) == [("Zoë", "Bromley-by-Bow")]


def test_falls_back_to_windows_1252_with_semicolons_and_a_quoted_delimiter():
    frame = read_dataset(FILES / "pupils-windows-1252-semicolon.csv")
    assert frame.columns == ["UPN", "Forename", "Notes", "Fees"]
    assert _rows(frame) == [
        (UPN_1, "Zoé", "café; upstairs", "£5"),
        (UPN_2, "Renée", None, "£10"),
    ]


def test_reads_tab_separated_whatever_the_file_is_called():
    frame = read_dataset(FILES / "pupils-tab.tsv")
    assert _rows(frame) == [(UPN_1, "07"), (UPN_2, "08")]


def test_comma_inside_quotes_does_not_split_the_field():
    data = b'Name,Address\n"Smith, Jo","1 High St, London"\n'
    assert _rows(read_dataset(data)) == [("Smith, Jo", "1 High St, London")]


def test_quoted_line_break_stays_in_its_field():
    data = b'Name,Notes\nJo,"line one\nline two"\nAl,x\n'
    assert _rows(read_dataset(data)) == [("Jo", "line one\nline two"), ("Al", "x")]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("a,b;c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ('"x;y",b', ","),
        ("single", ","),
        ("a;b,c", ","),  # a tie goes to the comma
    ],
)
def test_detects_the_delimiter_outside_quotes(heading, expected):
    assert datasets.detect_delimiter(heading) == expected


def test_headings_are_trimmed():
    frame = read_dataset(b" UPN , Year group \nx,y\n")
    assert frame.columns == ["UPN", "Year group"]


def test_rows_with_every_cell_empty_are_left_out():
    frame = read_dataset(b"a,b\n1,2\n,\n\n3,4\n,\n")
    assert _rows(frame) == [("1", "2"), ("3", "4")]


def test_empty_cells_are_null_and_short_rows_are_padded():
    frame = read_dataset(b"a,b,c\n1,,3\n4\n")
    assert _rows(frame) == [("1", None, "3"), ("4", None, None)]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "pupils.csv", "The file is empty."),
        (b"  \r\n \n", "pupils.csv", "The file is empty."),
        (b"UPN,Name\n", "pupils.csv", "headings but no rows"),
        (b"UPN,Name\n,\n", "pupils.csv", "headings but no rows"),
        (b"%PDF-1.7\n...", "pupils.pdf", "is a PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "pupils.xls", "old Excel format (.xls)"),
        (b"\x00\x01\x02binary", "pupils.bin", "not a CSV file or an Excel workbook"),
        (b"UPN,Name\nx,y\n", "pupils.xlsx", "not an Excel workbook"),
        (b"PK\x03\x04not really a zip", "pupils.xlsx", "could not be opened"),
        (b"UPN,UPN\n1,2\n", "pupils.csv", "Two columns have the heading 'UPN'"),
        (b"UPN, upn ,UPN \n1,2,3\n", "pupils.csv", "Two columns have the heading 'UPN'"),
        (b"UPN,,Name\n1,2,3\n", "pupils.csv", "Column 2 has no heading"),
        (b"UPN,Name\n1,2\n3,4,5\n", "pupils.csv", "Line 3 has more values than there are headings"),
        (b"a\xffb\x81,c\n1,2\n", "pupils.csv", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_unreadable_files_say_why(data, filename, message):
    with pytest.raises(UnreadableDataset, match=re.escape(message)):
        read_dataset(data, filename=filename)


def test_a_missing_path_is_unreadable(tmp_path):
    with pytest.raises(UnreadableDataset, match="could not be opened"):
        read_dataset(tmp_path / "nowhere.csv")


def test_ragged_line_is_named_after_a_quoted_line_break():
    data = b'a,b\n"x\ny",2\n3,4,5\n'
    with pytest.raises(UnreadableDataset, match="Line 4 has more values"):
        read_dataset(data)


# --- XLSX ---------------------------------------------------------------------------


def test_xlsx_round_trip_keeps_text_and_headings(tmp_path):
    frame = pl.DataFrame({"UPN": [UPN_1, UPN_2], "Year group": ["07", None], "Name": ["Zoë", "Al"]})
    path = tmp_path / "out.xlsx"
    write_dataset(frame, path)
    assert read_dataset(path).equals(frame)
    # Recognised by content, whatever the name says.
    assert read_dataset(path.read_bytes(), filename="upload").equals(frame)


def test_xlsx_numbers_and_dates_are_read_as_text(tmp_path):
    from datetime import date

    path = tmp_path / "typed.xlsx"
    pl.DataFrame(
        {"Attendance": [95, 87], "Born": [date(2015, 3, 27), date(2014, 12, 1)]}
    ).write_excel(path)
    frame = read_dataset(path)
    assert frame.schema == pl.Schema({"Attendance": pl.Utf8, "Born": pl.Utf8})
    assert _rows(frame) == [("95", "2015-03-27"), ("87", "2014-12-01")]


def test_xlsx_duplicate_headings_are_refused(tmp_path):
    path = tmp_path / "dup.xlsx"
    pl.DataFrame({"a": ["x"], "b": ["y"]}).rename({"b": "a "}).write_excel(path)
    with pytest.raises(UnreadableDataset, match="Two columns have the heading 'a'"):
        read_dataset(path)


def test_xlsx_empty_sheet_is_refused(tmp_path):
    path = tmp_path / "empty.xlsx"
    pl.DataFrame().write_excel(path)
    with pytest.raises(UnreadableDataset, match="first sheet is empty"):
        read_dataset(path)


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(UnreadableDataset, match="could not be opened"):
        read_dataset(buffer.getvalue(), filename="pupils.csv")


# --- Writing ------------------------------------------------------------------------


def test_writes_csv_with_bom_that_reads_back(tmp_path):
    frame = pl.DataFrame({"Name": ["Zoë", None], "Fees": ["£5", "1,000"]})
    path = tmp_path / "out.csv"
    write_dataset(frame, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfName,Fees")
    assert read_dataset(path).equals(frame)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_writing_replaces_an_existing_file(tmp_path):
    path = tmp_path / "out.CSV"
    path.write_text("old")
    write_dataset(pl.DataFrame({"a": ["new"]}), path)
    assert read_dataset(path).rows() == [("new",)]


def test_writing_refuses_other_extensions(tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.csv or \.xlsx, not '\.json'"):
        write_dataset(pl.DataFrame({"a": ["x"]}), tmp_path / "out.json")
    with pytest.raises(ValueError, match=r"not '\(no extension\)'"):
        write_dataset(pl.DataFrame({"a": ["x"]}), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "method"), [("out.csv", "write_csv"), ("out.xlsx", "write_excel")]
)
def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, name, method):
    def fail_half_way(self, target, *args, **kwargs):
        Path(target).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, method, fail_half_way)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(pl.DataFrame({"a": ["x"]}), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "out.csv"
    path.write_bytes(b"previous export")

    def fail(self, target, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pl.DataFrame, "write_csv", fail)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(pl.DataFrame({"a": ["x"]}), path)
    assert path.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


# --- From a path: the same answers as from the bytes ---------------------------------


@pytest.mark.parametrize(
    "data",
    [
        f"\ufeffUPN;Year group\n{UPN_1};07\n".encode(),
        f"UPN,Name\n{UPN_1},Zoë\n{UPN_2},Renée\n".encode(),
        f"UPN,Name\n{UPN_1},Zoé\n".encode("cp1252"),
        b"a,b\n1,2\n,\n",
        b'Name,Notes\nJo,"line one\nline two"\n',
    ],
)
def test_a_path_reads_like_its_bytes(tmp_path, data):
    path = tmp_path / "pupils.csv"
    path.write_bytes(data)
    assert read_dataset(path).equals(read_dataset(data))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"UPN,Name\n1,2\n3,4,5\n", "Line 3 has more values"),
        (b"UPN,UPN\n1,2\n", "Two columns have the heading 'UPN'"),
        (b"%PDF-1.7", "is a PDF"),
        (b"\n\n", "The file is empty."),
        (b"UPN\n\n", "headings but no rows"),
    ],
)
def test_a_path_is_refused_like_its_bytes(tmp_path, data, message):
    path = tmp_path / "pupils.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableDataset, match=re.escape(message)):
        read_dataset(path)


def test_a_very_long_heading_line_is_read(tmp_path):
    headings = [f"column {i:05d}" for i in range(6000)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(headings) + "\n" + ",".join("x" * 6000) + "\n")
    assert read_dataset(path).columns == headings
