"""Importing the pupil list: reading the CSV, guessing columns, checking rows, saving, the pages.

Every UPN here is generated with make_upn; every name is made up.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core import imports, services
from infoshare.core.imports import PupilRow, RowError, UnreadableFile
from infoshare.core.models import Person, PersonKind, Role
from infoshare.core.upn import make_upn
from tests.core.support import assert_chain_intact, changes_of, element_text, last_event

TODAY = date(2026, 11, 22)
MANAGERS = {"headteacher", "information_manager", "dpo"}
SIMS_HEADINGS = [
    "UPN",
    "Legal Surname",
    "Legal Forename",
    "DOB",
    "Year",
    "Admission Date",
    "Leaving Date",
]
SIMS_MAPPING = {
    "upn": 0,
    "family_name": 1,
    "given_name": 2,
    "date_of_birth": 3,
    "year_group": 4,
    "on_roll_from": 5,
    "on_roll_until": 6,
}


def upn(n: int, establishment: str = "0001") -> str:
    """A made-up, valid UPN: fake LA 801, the establishment, 2025, serial n."""
    return make_upn(f"801{establishment}25{n:03d}")


def pupil(n: int, **overrides: str) -> list[str]:
    """The n-th made-up pupil as a SIMS-style row."""
    values = {
        "upn": upn(n),
        "family_name": f"Family{n:03d}",
        "given_name": f"Given{n:03d}",
        "date_of_birth": "27/03/2015",
        "year_group": "Year 6",
        "on_roll_from": "01/09/2019",
        "on_roll_until": "",
    }
    values.update(overrides)
    return [values[name] for name in SIMS_MAPPING]


def csv_bytes(rows, headings=SIMS_HEADINGS, *, bom=False, encoding="utf-8") -> bytes:
    lines = [",".join(headings), *(",".join(row) for row in rows)]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def table_of(data: bytes) -> imports.PupilTable:
    return imports.read_table(imports.decode_upload("pupils.csv", data))


def checked(data: bytes, mapping=None) -> imports.CheckedFile:
    table = table_of(data)
    return imports.check_rows(table, mapping or imports.guess_mapping(table.headings), today=TODAY)


# --- reading the file ------------------------------------------------------------------------


def test_a_sims_export_is_read_as_text():
    table = table_of(csv_bytes([pupil(1), pupil(2)]))
    assert table.headings == SIMS_HEADINGS
    assert table.row_count == 2
    assert [line for line, _ in table.numbered_rows()] == [2, 3]


def test_the_byte_order_mark_of_excel_is_dropped():
    data = csv_bytes([pupil(1)], bom=True)
    table = table_of(data)
    assert table.headings[0] == "UPN"
    assert imports.guess_mapping(table.headings)["upn"] == 0


def test_a_windows_1252_file_is_read():
    data = csv_bytes([pupil(1, given_name="Zoë")], encoding="cp1252")
    result = checked(data)
    assert result.rows[0].values["given_name"] == "Zoë"


def test_leading_zeros_and_spaces_survive_as_text():
    headings = ["UPN", "Forename", "Surname", "Year"]
    table = table_of(csv_bytes([[upn(1), " Ann ", "Lee", "007"]], headings))
    result = imports.check_rows(table, imports.guess_mapping(headings), today=TODAY)
    assert result.rows[0].values == {
        "upn": upn(1),
        "given_name": "Ann",
        "family_name": "Lee",
        "year_group": "007",
    }


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("pupils.xlsx", b"UPN,Forename,Surname\n", "must be a CSV file"),
        ("pupils.csv", b"PK\x03\x04rest of a zip file", "is not a CSV file"),
        ("pupils.csv", b"%PDF-1.7", "is not a CSV file"),
        ("pupils.csv", b"UPN,Forename\x00,Surname\n", "is not a CSV file"),
        ("pupils.csv", b"", "The file is empty"),
        ("pupils.csv", b"  \r\n", "The file is empty"),
        ("pupils.csv", b"x" * (2 * 1024 * 1024 + 1), "smaller than 2 MB"),
    ],
    ids=["not-csv-name", "xlsx", "pdf", "binary", "empty", "blank", "too-big"],
)
def test_files_that_cannot_be_used_are_refused_with_a_reason(filename, data, message):
    with pytest.raises(UnreadableFile) as refused:
        imports.decode_upload(filename, data)
    assert message in refused.value.message


def test_a_file_of_exactly_2_mb_is_accepted():
    data = csv_bytes([pupil(1)])
    data += b" " * (imports.MAX_UPLOAD_BYTES - len(data))
    assert len(data) == imports.MAX_UPLOAD_BYTES
    assert imports.decode_upload("PUPILS.CSV", data).startswith("UPN,")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("UPN;Forename;Surname\nA;B;C\n", "at least 3 columns"),
        ("UPN,Forename,Surname\n", "no pupils"),
        ("UPN,Forename,Surname\n,,\n\n", "no pupils"),
        ("UPN,Forename,Surname\nA,Ann,Lee,extra\n", "more values than there are column headings"),
    ],
    ids=["semicolons", "headings-only", "blank-rows-only", "ragged"],
)
def test_tables_that_cannot_be_used_are_refused_with_a_reason(text, message):
    with pytest.raises(UnreadableFile) as refused:
        imports.read_table(text)
    assert message in refused.value.message


# --- guessing the columns ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headings", "expected"),
    [
        (SIMS_HEADINGS, SIMS_MAPPING),
        (
            ["First name", "Last name", "UPN", "Date of Birth", "Year Group", "Date of admission"],
            {
                "given_name": 0,
                "family_name": 1,
                "upn": 2,
                "date_of_birth": 3,
                "year_group": 4,
                "on_roll_from": 5,
            },
        ),
        (
            ["Forename", "Surname", "Reg Year", "UPN", "Admission Date", "Leaving Date", "Tutor"],
            {
                "given_name": 0,
                "family_name": 1,
                "year_group": 2,
                "upn": 3,
                "on_roll_from": 4,
                "on_roll_until": 5,
            },
        ),
        (
            ["upn", "SURNAME", "forename", "date_of_birth", "year-group"],
            {"upn": 0, "family_name": 1, "given_name": 2, "date_of_birth": 3, "year_group": 4},
        ),
        (["Pupil", "Class", "Notes"], {}),
    ],
    ids=["sims", "arbor", "bromcom", "any-case-and-punctuation", "nothing-recognised"],
)
def test_columns_are_guessed_from_the_usual_headings(headings, expected):
    assert imports.guess_mapping(headings) == expected


def test_the_legal_name_is_preferred_to_the_preferred_name():
    headings = ["Preferred Forename", "Preferred Surname", "Legal Forename", "Legal Surname"]
    assert imports.guess_mapping(headings) == {"given_name": 2, "family_name": 3}


def test_a_column_is_guessed_for_one_field_only():
    # "Year" could be the year group; a second "Year" column is not used twice.
    mapping = imports.guess_mapping(["UPN", "Year", "Year"])
    assert mapping == {"upn": 0, "year_group": 1}


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("27/03/2015", date(2015, 3, 27)),
        ("7/3/2015", date(2015, 3, 7)),
        ("2015-03-27", date(2015, 3, 27)),
        ("29/02/2016", date(2016, 2, 29)),
    ],
)
def test_dates_are_read_day_first_or_iso(text, expected):
    assert imports.parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2015/03/27", "This is not a date"),
        ("27-03-2015", "This is not a date"),
        ("27/03/15", "This is not a date"),
        ("March 2015", "This is not a date"),
        ("31/02/2015", "This date does not exist"),
        ("13/13/2015", "This date does not exist"),
        ("2015-02-29", "This date does not exist"),
    ],
)
def test_other_dates_are_refused(text, reason):
    with pytest.raises(Exception, match=reason):
        imports.parse_date(text)


# --- checking the rows ---------------------------------------------------------------------


def test_good_rows_are_converted():
    result = checked(csv_bytes([pupil(1, upn=upn(1).lower(), on_roll_until="2025-07-18")]))
    assert result.errors == []
    assert result.is_valid
    (row,) = result.rows
    assert row.line == 2
    assert row.values == {
        "upn": upn(1),
        "family_name": "Family001",
        "given_name": "Given001",
        "date_of_birth": date(2015, 3, 27),
        "year_group": "Year 6",
        "on_roll_from": date(2019, 9, 1),
        "on_roll_until": date(2025, 7, 18),
    }


def test_every_bad_row_is_reported_with_its_line_column_and_reason():
    wrong_check_letter = "A" + upn(3)[1:] if upn(3)[0] != "A" else "B" + upn(3)[1:]
    rows = [
        pupil(1),  # line 2: fine
        pupil(2, upn=""),  # line 3
        pupil(3, upn=wrong_check_letter),  # line 4
        pupil(4, given_name="", family_name=""),  # line 5
        pupil(5, date_of_birth="2015/03/27"),  # line 6
        pupil(6, date_of_birth="01/01/2099"),  # line 7
        pupil(7, on_roll_from="01/09/2020", on_roll_until="31/08/2020"),  # line 8
        pupil(8, upn=upn(1)),  # line 9: the same UPN as line 2
        pupil(9, year_group="Y" * 21),  # line 10
        pupil(10),  # line 11: fine
    ]
    result = checked(csv_bytes(rows))
    assert not result.is_valid
    assert result.errors == [
        RowError(3, "UPN", "The UPN is missing."),
        RowError(
            4,
            "UPN",
            "This UPN's check letter does not match its digits. Copy it again from the "
            "school's information system.",
        ),
        RowError(5, "Legal Surname", "The last name is missing."),
        RowError(5, "Legal Forename", "The first name is missing."),
        RowError(6, "DOB", "This is not a date. Write dates like 27/03/2015 or 2015-03-27."),
        RowError(7, "DOB", "The date of birth is in the future."),
        RowError(8, "Leaving Date", "The leaving date is before the admission date."),
        RowError(9, "UPN", "Same UPN as line 2."),
        RowError(10, "Year", "The year group is longer than 20 characters."),
    ]
    assert [row.line for row in result.rows] == [2, 11]


def test_a_duplicate_upn_is_caught_even_written_differently():
    spaced = f"{upn(1)[:5]} {upn(1)[5:]}".lower()
    result = checked(csv_bytes([pupil(1), pupil(2), pupil(3, upn=spaced)]))
    assert result.errors == [RowError(4, "UPN", "Same UPN as line 2.")]


def test_line_numbers_count_blank_lines_and_values_over_several_lines():
    text = (
        "UPN,Forename,Surname,Notes\r\n"
        f"{upn(1)},Ann,Lee,\r\n"  # line 2
        "\r\n"  # line 3: blank, skipped
        ",,,\r\n"  # line 4: empty cells, skipped
        f'{upn(2)},Bo,Ng,"one\r\ntwo\r\nthree"\r\n'  # lines 5 to 7
        f"{upn(3)},,Roe,\r\n"  # line 8: no first name
    )
    table = imports.read_table(text)
    result = imports.check_rows(table, imports.guess_mapping(table.headings), today=TODAY)
    assert [row.line for row in result.rows] == [2, 5]
    assert result.errors == [RowError(8, "Forename", "The first name is missing.")]


def test_a_blank_heading_is_named_by_its_position():
    table = imports.read_table(f"UPN,,Surname\n{upn(1)},,Lee\n")
    result = imports.check_rows(table, {"upn": 0, "given_name": 1, "family_name": 2}, today=TODAY)
    assert result.errors == [RowError(2, "Column 2 (no heading)", "The first name is missing.")]


def test_unmapped_optional_fields_are_left_out():
    result = checked(csv_bytes([pupil(1)]), {"upn": 0, "family_name": 1, "given_name": 2})
    assert set(result.rows[0].values) == {"upn", "family_name", "given_name"}


def test_the_preview_shows_the_first_ten_rows_as_they_will_be_saved():
    rows = [pupil(n) for n in range(1, 15)]
    rows[1] = pupil(2, date_of_birth="not a date")
    table = table_of(csv_bytes(rows))
    shown = imports.preview(table, SIMS_MAPPING, today=TODAY)
    assert [row["line"] for row in shown] == list(range(2, 12))
    first = {f.name: cell for f, cell in zip(imports.FIELDS, shown[0]["cells"], strict=True)}
    assert first["date_of_birth"]["shown"] == "27 March 2015"
    assert first["upn"]["shown"] == upn(1)
    second = {f.name: cell for f, cell in zip(imports.FIELDS, shown[1]["cells"], strict=True)}
    assert second["date_of_birth"]["problem"].startswith("This is not a date")
    assert second["date_of_birth"]["text"] == "not a date"
    assert second["given_name"]["problem"] is None


# --- the service -------------------------------------------------------------------------


def rows_of(data: bytes) -> list[PupilRow]:
    result = checked(data)
    assert result.errors == []
    return result.rows


def test_importing_creates_pupils_and_leaves_one_audit_event(world):
    organisation = world.school.organisation
    manager = world.school["information_manager"]
    result = services.import_pupils(
        organisation, actor=manager, rows=rows_of(csv_bytes([pupil(n) for n in range(1, 31)]))
    )
    assert result == services.ImportResult(created=30, updated=0, unchanged=0)
    pupils = Person.objects.in_organisation(organisation)
    assert pupils.count() == 30
    assert set(pupils.values_list("kind", flat=True)) == {PersonKind.PUPIL}
    first = pupils.get(upn=upn(1))
    assert (first.given_name, first.family_name) == ("Given001", "Family001")
    assert first.date_of_birth == date(2015, 3, 27)
    assert first.on_roll_from == date(2019, 9, 1)
    event = last_event("people.imported")
    assert event.actor == manager
    assert event.organisation == organisation
    assert changes_of(event) == {"created": 30, "updated": 0, "unchanged": 0}
    # Nothing about any pupil is copied into the audit trail.
    assert "Given001" not in event.changes + event.object_label
    assert upn(1) not in event.changes + event.object_label
    assert AuditEvent.objects.filter(verb="people.imported").count() == 1
    assert_chain_intact(organisation)


def test_importing_again_updates_pupils_matched_by_upn(world):
    organisation = world.school.organisation
    head = world.school["headteacher"]
    services.import_pupils(
        organisation, actor=head, rows=rows_of(csv_bytes([pupil(n) for n in range(1, 6)]))
    )
    before = {p.upn: (p.pk, p.uuid, p.created_at) for p in Person.objects.all()}
    second = [
        pupil(1),  # unchanged
        pupil(2, given_name="Renamed", year_group="Year 7"),
        pupil(3, on_roll_until="20/07/2026"),
        pupil(6),  # new
    ]
    result = services.import_pupils(organisation, actor=head, rows=rows_of(csv_bytes(second)))
    assert result == services.ImportResult(created=1, updated=2, unchanged=1)
    assert Person.objects.in_organisation(organisation).count() == 6
    renamed = Person.objects.get(upn=upn(2))
    assert (renamed.given_name, renamed.year_group) == ("Renamed", "Year 7")
    assert (renamed.pk, renamed.uuid, renamed.created_at) == before[upn(2)]
    assert renamed.updated_at > renamed.created_at
    assert Person.objects.get(upn=upn(3)).on_roll_until == date(2026, 7, 20)
    assert changes_of(last_event("people.imported")) == {
        "created": 1,
        "updated": 2,
        "unchanged": 1,
    }


def test_fields_the_file_does_not_fill_are_kept(world):
    organisation = world.school.organisation
    head = world.school["headteacher"]
    services.import_pupils(organisation, actor=head, rows=rows_of(csv_bytes([pupil(1)])))
    headings = ["UPN", "Forename", "Surname"]
    services.import_pupils(
        organisation,
        actor=head,
        rows=rows_of(csv_bytes([[upn(1), "Newname", "Family001"]], headings)),
    )
    kept = Person.objects.get(upn=upn(1))
    assert kept.given_name == "Newname"
    assert kept.year_group == "Year 6"
    assert kept.date_of_birth == date(2015, 3, 27)


def test_the_other_schools_pupil_with_the_same_upn_is_not_touched(world):
    services.import_pupils(
        world.other.organisation,
        actor=world.other["headteacher"],
        rows=rows_of(csv_bytes([pupil(1)])),
    )
    result = services.import_pupils(
        world.school.organisation,
        actor=world.school["headteacher"],
        rows=rows_of(csv_bytes([pupil(1, given_name="Elsewhere")])),
    )
    assert result.created == 1
    theirs = Person.objects.get(organisation=world.other.organisation, upn=upn(1))
    assert theirs.given_name == "Given001"


def test_the_service_refuses_the_whole_import_if_any_row_is_bad(world):
    organisation = world.school.organisation
    head = world.school["headteacher"]
    services.import_pupils(organisation, actor=head, rows=rows_of(csv_bytes([pupil(1)])))
    events = AuditEvent.objects.count()
    rows = [
        PupilRow(2, {"upn": upn(1), "given_name": "Changed", "family_name": "X"}),
        PupilRow(3, {"upn": upn(2), "given_name": "Fine", "family_name": "Y"}),
        PupilRow(4, {"upn": "A801000125001", "given_name": "Bad", "family_name": "UPN"}),
        PupilRow(5, {"upn": upn(3), "given_name": "", "family_name": "Z"}),
        PupilRow(6, {"upn": upn(2), "given_name": "Again", "family_name": "Y"}),
        PupilRow(7, {"given_name": "No", "family_name": "UPN"}),
        PupilRow(8, {"upn": "", "given_name": "Nor", "family_name": "This"}),
    ]
    with pytest.raises(services.ImportRefused) as refused:
        services.import_pupils(organisation, actor=head, rows=rows)
    assert [(e.line, e.column) for e in refused.value.row_errors] == [
        (4, "UPN"),
        (5, "First name"),
        (6, "UPN"),
        (7, "UPN"),
        (8, "UPN"),
    ]
    assert refused.value.row_errors[2].reason == "Same UPN as line 3."
    assert refused.value.row_errors[3].reason == "The UPN is missing."
    assert refused.value.row_errors[4].reason == "The UPN is missing."
    assert Person.objects.count() == 1
    assert Person.objects.get().given_name == "Given001"
    assert AuditEvent.objects.count() == events


def test_an_import_of_nothing_is_refused(world):
    with pytest.raises(ValidationError, match="no pupils"):
        services.import_pupils(
            world.school.organisation, actor=world.school["headteacher"], rows=[]
        )


@pytest.mark.parametrize("role", sorted({r.value for r in Role} - MANAGERS))
def test_only_those_who_keep_the_lists_may_import(world, role):
    with pytest.raises(PermissionDenied):
        services.import_pupils(
            world.school.organisation,
            actor=world.school[role],
            rows=rows_of(csv_bytes([pupil(1)])),
        )
    assert not Person.objects.exists()


def test_a_manager_of_the_other_school_may_not_import_here(world):
    with pytest.raises(PermissionDenied):
        services.import_pupils(
            world.school.organisation,
            actor=world.other["headteacher"],
            rows=rows_of(csv_bytes([pupil(1)])),
        )
    assert not Person.objects.exists()


def test_importing_a_large_file_takes_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    organisation = world.school.organisation
    head = world.school["headteacher"]
    services.import_pupils(
        organisation, actor=head, rows=rows_of(csv_bytes([pupil(n) for n in range(1, 200)]))
    )
    rows = rows_of(
        csv_bytes([pupil(n, year_group="Year 7") for n in range(1, 400)])  # 199 updated, 200 new
    )
    # Savepoint, lock, known pupils, insert, update, audit chain (4), release: 11 at most,
    # however many rows, up to the 500 of one batch.
    with django_assert_max_num_queries(11):
        result = services.import_pupils(organisation, actor=head, rows=rows)
    assert (result.created, result.updated) == (200, 199)


# --- the pages ---------------------------------------------------------------------------


def import_url(school) -> str:
    return reverse("core:import_pupils", kwargs={"org": school.slug})


def people_url(school) -> str:
    return reverse("core:people", kwargs={"org": school.slug})


def upload(client, school, data: bytes, name: str = "pupils.csv"):
    return client.post(
        import_url(school),
        {"action": "upload", "file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def text(response) -> str:
    return response.content.decode()


def selected_option(html: str, field: str) -> str | None:
    """The value of the selected option of the <select name="field">."""
    select = re.search(rf'<select name="{field}".*?</select>', html, re.S)
    assert select, f"no select {field}"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else None


def test_importing_through_the_pages(world, client_for):
    school = world.school
    client = client_for(school["information_manager"])
    start = client.get(import_url(school))
    assert start.status_code == 200
    assert 'enctype="multipart/form-data"' in text(start)

    response = upload(client, school, csv_bytes([pupil(n) for n in range(1, 13)], bom=True))
    assert response.status_code == 302
    assert response["Location"] == import_url(school)
    assert not Person.objects.exists()

    columns = client.get(import_url(school))
    assert columns.status_code == 200
    html = text(columns)
    assert "has 12 rows of pupils" in html
    for name, position in SIMS_MAPPING.items():
        assert selected_option(html, name) == str(position), name
    assert html.count("Given0") == 10  # the preview shows the first ten rows
    assert "27 March 2015" in html

    response = client.post(import_url(school), {"action": "check", **SIMS_MAPPING})
    assert response.status_code == 302
    confirm = client.get(import_url(school))
    assert element_text(text(confirm), "to-add") == "12"
    assert element_text(text(confirm), "to-update") == "0"
    assert not Person.objects.exists()

    response = client.post(import_url(school), {"action": "import"})
    assert response.status_code == 302
    assert response["Location"] == people_url(school)
    assert Person.objects.in_organisation(school.organisation).count() == 12
    assert "12 pupils added and 0 updated." in text(client.get(response["Location"]))
    assert last_event("people.imported").actor == school["information_manager"]
    # The file is gone from the session: the import starts again.
    assert imports_pending(client) is None
    assert "Upload the pupil list" in text(client.get(import_url(school)))


def imports_pending(client):
    return client.session.get("pupil_import")


def test_reimporting_through_the_pages_reports_updates(world, client_for):
    school = world.school
    client = client_for(school["headteacher"])
    services.import_pupils(
        school.organisation,
        actor=school["headteacher"],
        rows=rows_of(csv_bytes([pupil(1), pupil(2)])),
    )
    upload(client, school, csv_bytes([pupil(1), pupil(2, year_group="Year 7"), pupil(3)]))
    client.post(import_url(school), {"action": "check", **SIMS_MAPPING})
    confirm = text(client.get(import_url(school)))
    assert element_text(confirm, "to-add") == "1"
    assert element_text(confirm, "to-update") == "2"
    response = client.post(import_url(school), {"action": "import"}, follow=True)
    assert "1 pupil added and 1 updated. 1 already had these details." in text(response)
    assert Person.objects.get(upn=upn(2)).year_group == "Year 7"


def test_a_file_with_bad_rows_imports_nothing_and_lists_every_problem(world, client_for):
    school = world.school
    client = client_for(school["dpo"])
    rows = [
        pupil(1),
        pupil(2, upn="B801200005002"),  # line 3: the check letter is wrong
        pupil(3),
        pupil(4, date_of_birth="31/02/2015"),  # line 5
        pupil(5, given_name=""),  # line 6
        pupil(6, upn=upn(3)),  # line 7: same UPN as line 4
    ]
    upload(client, school, csv_bytes(rows))
    response = client.post(import_url(school), {"action": "check", **SIMS_MAPPING})
    assert response.status_code == 200
    html = text(response)
    assert "4 rows of pupils.csv need putting right. Nothing has been imported." in html
    problems = re.findall(
        r'<td class="govuk-table__cell">(\d+)</td>\s*'
        r'<td class="govuk-table__cell">([^<]+)</td>\s*'
        r'<td class="govuk-table__cell">([^<]+)</td>',
        html,
    )
    assert [(int(line), column) for line, column, _ in problems] == [
        (3, "UPN"),
        (5, "DOB"),
        (6, "Legal Forename"),
        (7, "UPN"),
    ]
    assert "check letter does not match" in problems[0][2]
    assert "This date does not exist" in problems[1][2]
    assert "The first name is missing." in problems[2][2]
    assert "Same UPN as line 4." in problems[3][2]
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(verb="people.imported").exists()
    # The confirm step is not reachable with a file that has problems.
    assert client.post(import_url(school), {"action": "import"}).status_code == 200
    assert not Person.objects.exists()


def test_a_corrected_file_can_be_uploaded_from_the_problems_page(world, client_for):
    school = world.school
    client = client_for(school["headteacher"])
    upload(client, school, csv_bytes([pupil(1), pupil(2, upn="")]))
    problems = client.post(import_url(school), {"action": "check", **SIMS_MAPPING})
    assert 'name="action" value="upload"' in text(problems)
    upload(client, school, csv_bytes([pupil(1), pupil(2)]), name="corrected.csv")
    assert "corrected.csv has 2 rows" in text(client.get(import_url(school)))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("pupils.xlsx", b"PK\x03\x04", "The file must be a CSV file"),
        ("pupils.csv", b"x" * (2 * 1024 * 1024 + 1), "The file must be smaller than 2 MB"),
        ("pupils.csv", b"UPN,Forename,Surname\r\n", "no pupils under it"),
        ("pupils.csv", b"Name\r\nAnn\r\n", "at least 3 columns"),
    ],
    ids=["not-csv", "too-big", "no-rows", "one-column"],
)
def test_an_unusable_file_is_refused_beside_the_field(world, client_for, name, data, message):
    client = client_for(world.school["headteacher"])
    response = upload(client, world.school, data, name=name)
    assert response.status_code == 200
    assert message in element_text(text(response), "id_file_error")
    assert "There is a problem" in text(response)
    assert imports_pending(client) is None


def test_no_file_chosen_is_an_error_beside_the_field(world, client_for):
    client = client_for(world.school["headteacher"])
    response = client.post(import_url(world.school), {"action": "upload"})
    assert response.status_code == 200
    assert "Select a CSV file" in element_text(text(response), "id_file_error")


def test_column_choices_are_checked_beside_the_field(world, client_for):
    client = client_for(world.school["headteacher"])
    upload(client, world.school, csv_bytes([pupil(1)]))
    response = client.post(
        import_url(world.school),
        {"action": "check", **SIMS_MAPPING, "given_name": "", "family_name": "0"},
    )
    assert response.status_code == 200
    html = text(response)
    assert "Choose the column that holds the first name" in element_text(
        html, "id_given_name_error"
    )
    assert "already chosen for UPN" in element_text(html, "id_family_name_error")
    assert not Person.objects.exists()


def test_the_preview_follows_the_columns_chosen(world, client_for):
    client = client_for(world.school["headteacher"])
    upload(client, world.school, csv_bytes([pupil(1)]))
    swapped = {**SIMS_MAPPING, "given_name": 1, "family_name": 2}
    response = client.post(import_url(world.school), {"action": "preview", **swapped})
    html = text(response)
    assert selected_option(html, "given_name") == "1"
    first_row = re.search(
        r'<th scope="row" class="govuk-table__header">2</th>(.*?)</tr>', html, re.S
    )
    cells = re.findall(r'<td class="govuk-table__cell">([^<]*)</td>', first_row.group(1))
    assert cells[:3] == [upn(1), "Family001", "Given001"]  # first name column shows Family001
    assert not Person.objects.exists()


def test_cancelling_forgets_the_file(world, client_for):
    client = client_for(world.school["headteacher"])
    upload(client, world.school, csv_bytes([pupil(1)]))
    assert imports_pending(client) is not None
    response = client.post(import_url(world.school), {"action": "cancel"})
    assert response["Location"] == people_url(world.school)
    assert imports_pending(client) is None
    assert not Person.objects.exists()


def test_a_step_after_the_file_has_gone_asks_for_it_again(world, client_for):
    client = client_for(world.school["headteacher"])
    response = client.post(import_url(world.school), {"action": "import"}, follow=True)
    assert "Upload the file again" in text(response)
    assert not Person.objects.exists()


def test_a_file_uploaded_for_one_school_is_not_imported_into_another(world, client_for):
    client = client_for(world.trust_dpo)  # DPO of both schools
    upload(client, world.school, csv_bytes([pupil(1)]))
    page = client.get(import_url(world.other))
    assert "Upload the pupil list" in text(page)
    client.post(import_url(world.other), {"action": "import"})
    assert not Person.objects.exists()


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_the_import_page_by_role(world, client_for, role):
    client = client_for(world.school[role])
    expected = 200 if role in MANAGERS else 403
    assert client.get(import_url(world.school)).status_code == expected
    response = upload(client, world.school, csv_bytes([pupil(1)]))
    assert response.status_code == (302 if role in MANAGERS else 403)
    assert client.get(import_url(world.other)).status_code == 404
    assert upload(client, world.other, csv_bytes([pupil(1)])).status_code == 404
