"""Reading a file of roll changes: headings, kinds of change, dates, grounds, duplicates, limits.

No database: `infoshare.statutory.imports` only reads text.
"""

from __future__ import annotations

import importlib
from datetime import date

import pytest

from infoshare.core.imports import MAX_UPLOAD_BYTES, RowError, UnreadableFile
from infoshare.statutory import imports
from infoshare.statutory.models import RemovalGround
from tests.statutory.import_support import (
    FILES,
    HEADINGS,
    TODAY,
    csv_bytes,
    joining,
    leaving,
    upn,
)

_grounds = importlib.import_module("infoshare.statutory.migrations.0002_load_removal_grounds")
GROUNDS = imports.ground_lookup(
    RemovalGround(code=code, regulation=regulation, name=name)
    for code, regulation, name in _grounds.GROUNDS
)


def read(data: bytes, filename: str = "changes.csv") -> imports.CheckedRows:
    text = imports.read_upload(filename, data)
    table, mapping = imports.read_table(text)
    return imports.check_rows(table, mapping, today=TODAY, grounds=GROUNDS)


def problems(data: bytes) -> list[tuple[int, str, str]]:
    checked = read(data)
    assert checked.rows == [] or checked.errors, "a file with problems must not give rows"
    return [(e.line, e.column, e.reason) for e in checked.errors]


# --- the template's headings and what each row becomes -----------------------------------


def test_a_file_of_the_template_gives_one_change_a_row():
    checked = read(csv_bytes([joining(1), leaving(2, Notes="Moved to Leeds")]))
    assert checked.errors == []
    first, second = checked.rows
    assert first == imports.RollChangeRow(
        line=2,
        kind="joined",
        change_date=date(2026, 11, 2),
        upn=upn(1),
        given_name="Given001",
        family_name="Family001",
        date_of_birth=date(2015, 3, 27),
    )
    assert (second.line, second.kind, second.change_date) == (3, "removed", date(2026, 11, 13))
    assert (second.ground_code, second.notes) == ("9-1-a-another-school", "Moved to Leeds")


def test_the_template_offered_for_download_is_read_by_the_import():
    _, mapping = imports.read_table(
        ",".join(imports.TEMPLATE_HEADINGS) + "\r\n" + ",".join(joining(1).values())
    )
    assert set(mapping) == {
        "upn",
        "given_name",
        "family_name",
        "date_of_birth",
        "kind",
        "change_date",
        "ground",
        "notes",
    }


@pytest.mark.parametrize(
    "headings",
    [
        [
            "upn",
            "LEGAL FORENAME",
            "legal_surname",
            " Date-of-Birth ",
            "change",
            "DATE",
            "Removal Ground",
            "notes",
        ],
        [
            "Unique Pupil Number",
            "Forename",
            "Surname",
            "DOB",
            "Change type",
            "Date of change",
            "Reason for removal",
            "Comments",
        ],
    ],
    ids=["case-and-spaces", "other-names"],
)
def test_headings_are_recognised_whatever_their_case_spacing_or_usual_name(headings):
    rows = [dict(zip(headings, joining(1).values(), strict=True))]
    checked = read(csv_bytes(rows, headings))
    assert checked.errors == []
    assert checked.rows[0].upn == upn(1)


def test_an_export_with_admission_and_leaving_dates_takes_the_one_for_each_change():
    headings = [
        "UPN",
        "Legal Surname",
        "Legal Forename",
        "Change",
        "Admission Date",
        "Leaving Date",
        "Reason",
    ]
    rows = [
        {"UPN": upn(1), "Change": "Admission", "Admission Date": "02/11/2026", "Leaving Date": ""},
        {
            "UPN": upn(2),
            "Change": "Leaver",
            "Admission Date": "01/09/2019",
            "Leaving Date": "2026-11-13",
            "Reason": "g",
        },
    ]
    checked = read(csv_bytes(rows, headings))
    assert checked.errors == []
    assert [(r.kind, r.change_date) for r in checked.rows] == [
        ("joined", date(2026, 11, 2)),
        ("removed", date(2026, 11, 13)),
    ]
    assert checked.rows[1].ground_code == "9-1-g-moved-away"


def test_the_sims_style_file_in_the_test_data_is_read():
    checked = read((FILES / "sims_roll_changes.csv").read_bytes())
    assert checked.errors == []
    assert [row.kind for row in checked.rows] == ["joined", "joined", "removed"]
    assert checked.rows[1].upn == ""
    assert checked.rows[1].given_name == "Zoë"


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("Joined", "joined"),
        ("JOIN", "joined"),
        ("admission", "joined"),
        (" Joiner ", "joined"),
        ("Left", "removed"),
        ("Removed", "removed"),
        ("leaver", "removed"),
        ("Off-roll", "removed"),
    ],
)
def test_the_usual_words_for_each_change_are_understood(written, kind):
    row = joining(1, Change=written) if kind == "joined" else leaving(1, Change=written)
    assert read(csv_bytes([row])).rows[0].kind == kind


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("9(1)(a)", "9-1-a-another-school"),
        ("a", "9-1-a-another-school"),
        ("(A)", "9-1-a-another-school"),
        ("9-1-a-another-school", "9-1-a-another-school"),
        ("Reg 9(1)(k)", "9-1-k-died"),
        ("9 (1) (o)", "9-1-o-permanently-excluded"),
        ("The pupil has been permanently excluded", "9-1-o-permanently-excluded"),
    ],
)
def test_a_ground_is_read_from_its_regulation_its_letter_or_its_code(written, code):
    checked = read(csv_bytes([leaving(1, Removal_ground=written)]))
    assert checked.errors == []
    assert checked.rows[0].ground_code == code


@pytest.mark.parametrize(
    ("written", "born"),
    [
        ("27/03/2015", date(2015, 3, 27)),
        ("2015-03-27", date(2015, 3, 27)),
        ("7/3/2015", date(2015, 3, 7)),
    ],
)
def test_dates_are_read_day_first_or_iso(written, born):
    assert read(csv_bytes([joining(1, Date_of_birth=written)])).rows[0].date_of_birth == born


def test_line_numbers_are_the_files_own_with_blank_rows_and_quoted_line_breaks():
    rows = [joining(1, Notes="Two\nlines"), {}, joining(2, Change="Sideways")]
    assert problems(csv_bytes(rows)) == [
        (
            5,
            "Change",
            "\u201cSideways\u201d is not a change we know. Write Joined (or Admission) "
            "for a pupil joining the roll, Left (or Removed) for a pupil leaving it.",
        )
    ]


# --- bad rows: every one reported, by line and column --------------------------------------


def test_every_problem_of_every_row_is_reported_by_line_and_column():
    rows = [
        joining(1),
        joining(2, Change="", Date="31/02/2026"),
        leaving(3, Removal_ground=""),
        leaving(4, Removal_ground="9(1)(z)"),
        joining(5, Removal_ground="9(1)(a)"),
        joining(6, UPN="A12345", Date="next week"),
        joining(7, UPN="", Date_of_birth=""),
        joining(8, Date_of_birth="01/01/2030"),
    ]
    found = problems(csv_bytes(rows))
    assert [(line, column) for line, column, _ in found] == [
        (3, "Change"),
        (3, "Date"),
        (4, "Removal ground"),
        (5, "Removal ground"),
        (6, "Removal ground"),
        (7, "UPN"),
        (7, "Date"),
        (8, "UPN"),
        (9, "Date of birth"),
    ]
    reasons = {(line, column): reason for line, column, reason in found}
    assert reasons[(3, "Change")] == "The change is missing. Write Joined or Left."
    assert (
        reasons[(3, "Date")]
        == "This date does not exist. Write dates like 27/03/2015 or 2015-03-27."
    )
    assert reasons[(4, "Removal ground")] == "The removal ground is missing. Write it like 9(1)(a)."
    assert "is not a ground of regulation 9(1)" in reasons[(5, "Removal ground")]
    assert "has no removal ground" in reasons[(6, "Removal ground")]
    assert reasons[(7, "UPN")].startswith("Enter a UPN of 13 characters")
    assert reasons[(7, "Date")] == "This is not a date. Write dates like 27/03/2015 or 2015-03-27."
    assert reasons[(8, "UPN")].startswith("The UPN is missing. Without it, give")
    assert reasons[(9, "Date of birth")] == "The date of birth is in the future."


def test_a_row_without_a_upn_is_read_when_it_has_names_and_date_of_birth():
    row = read(csv_bytes([joining(1, UPN="")])).rows[0]
    assert (row.upn, row.given_name, row.family_name) == ("", "Given001", "Family001")
    assert row.identity == ("name", "given001", "family001", date(2015, 3, 27))


def test_a_upn_is_checked_and_written_as_the_dfe_writes_it():
    wrong_letter = "B" + upn(1)[1:] if upn(1)[0] != "B" else "C" + upn(1)[1:]
    found = problems(csv_bytes([joining(1, UPN=wrong_letter)]))
    assert found[0][1] == "UPN"
    assert "check letter" in found[0][2]
    spaced = upn(2).lower()[:5] + " " + upn(2).lower()[5:]
    assert read(csv_bytes([joining(2, UPN=spaced)])).rows[0].upn == upn(2)


def test_the_same_change_of_the_same_pupil_twice_in_the_file_is_refused_at_the_second():
    rows = [
        joining(1),
        leaving(1),  # joining and leaving: two changes, both fine
        joining(1, Date="03/11/2026"),
        joining(2, UPN=""),
        joining(2, UPN="", Legal_forename="GIVEN002"),
    ]
    assert problems(csv_bytes(rows)) == [
        (4, "UPN", "This pupil's joining is on line 2 too."),
        (6, "Legal forename", "This pupil's joining is on line 5 too."),
    ]


def test_names_and_notes_longer_than_the_records_hold_are_refused():
    found = problems(csv_bytes([joining(1, Legal_surname="x" * 101, Notes="y" * 2001)]))
    assert found == [
        (2, "Legal surname", "The name is longer than 100 characters."),
        (2, "Notes", "The notes are longer than 2000 characters."),
    ]


# --- files that cannot be used at all -----------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("changes.xlsx", b"UPN,Change,Date\n", "must be a CSV file. Save the list of roll changes"),
        ("changes.csv", b"PK\x03\x04rest of a zip file", "is not a CSV file"),
        ("changes.csv", b"%PDF-1.7", "is not a CSV file"),
        ("changes.csv", b"UPN,Change\x00,Date\n", "is not a CSV file"),
        ("changes.csv", b"", "The file is empty"),
        ("changes.csv", b" \r\n", "The file is empty"),
        ("changes.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "smaller than 2 MB"),
        ("changes.csv", ",".join(HEADINGS).encode() + b"\r\n", "no roll changes under it"),
        ("changes.csv", ",".join(HEADINGS).encode() + b"\r\n,,,\r\n", "no roll changes under it"),
        (
            "changes.csv",
            b"UPN;Change;Date\nA;B;C\n",
            "no column headed Change (Joined or Left), Date",
        ),
        ("changes.csv", b"UPN,Change\nA,B\n", "no column headed Date."),
        ("changes.csv", b"Forename,Surname,Change,Date\nA,B,C,D\n", "no column headed UPN (or"),
        (
            "changes.csv",
            b"UPN,Change,Date\nA,B,C,D\n",
            "more values than there are column headings",
        ),
    ],
    ids=[
        "not-csv-name",
        "xlsx",
        "pdf",
        "binary",
        "empty",
        "blank",
        "too-big",
        "headings-only",
        "blank-rows-only",
        "semicolons",
        "no-date",
        "no-upn-nor-birth-date",
        "ragged",
    ],
)
def test_files_that_cannot_be_used_are_refused_with_a_reason(filename, data, message):
    with pytest.raises(UnreadableFile) as refused:
        imports.read_upload(filename, data)
    assert message in refused.value.message


def test_a_file_of_exactly_2_mb_is_read():
    data = csv_bytes([joining(1)])
    data += b" " * (MAX_UPLOAD_BYTES - len(data))
    assert len(read(data, "CHANGES.CSV").rows) == 1


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (csv_bytes([joining(1, Legal_forename="Zoë")], bom=True), "utf-8 with BOM"),
        (csv_bytes([joining(1, Legal_forename="Zoë")], encoding="cp1252"), "windows-1252"),
        ((FILES / "windows_1252.csv").read_bytes(), "file saved by Excel on Windows"),
    ],
    ids=["bom", "cp1252", "excel-file"],
)
def test_utf8_with_a_byte_order_mark_and_windows_1252_are_both_read(data, name):
    checked = read(data)
    assert checked.errors == [], name
    assert checked.rows[0].given_name == "Zoë"


def test_row_errors_are_the_pupil_lists_own_type():
    found = read(csv_bytes([joining(1, Change="")])).errors
    assert found
    assert all(isinstance(error, RowError) for error in found)
