"""Exports show what people typed as text: a spreadsheet never runs it as a formula.

Every list exports one way (core/exports.py): columns and rows to a streamed CSV or
an XLSX workbook."""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from dataclasses import dataclass

import fastexcel
import pytest
from django.core.exceptions import ValidationError
from django.http import FileResponse, StreamingHttpResponse

from infoshare.core import services
from infoshare.core.exports import (
    EXPORT_CHUNK,
    Column,
    csv_response,
    export_response,
    spreadsheet_safe,
    xlsx_response,
)
from infoshare.core.models import Organisation, OrganisationKind


@dataclass
class Row:
    name: str
    on: datetime.date | None


COLUMNS: list[Column[Row]] = [
    Column("Name", lambda row: row.name),
    Column("On", lambda row: row.on),
    Column("Empty", lambda row: None),
]
ROWS = [
    Row("Ada", datetime.date(2026, 11, 22)),
    Row('=HYPERLINK("http://evil.example")', None),
    Row("+44 1234", datetime.date(2026, 1, 2)),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Plain text = fine", "Plain text = fine"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_spreadsheet_safe(value, expected):
    assert spreadsheet_safe(value) == expected


def test_members_csv_neutralises_formulas(world, client_for):
    headteacher = world.school["headteacher"]
    services.invite_member(
        world.school.organisation,
        actor=headteacher,
        email="formula@example.org",
        name="=cmd|' /C calc'!A0",
        roles=["staff"],
    )
    response = client_for(headteacher).get(f"/o/{world.school.slug}/members/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    names = [row[0] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in names
    assert not any(name.startswith("=") for name in names)


def test_a_second_school_with_the_same_urn_is_refused_with_a_clear_message(world):
    with pytest.raises(ValidationError) as refused:
        services.create_organisation(
            actor=None,
            name="Copy School",
            slug="copy",
            kind=OrganisationKind.SCHOOL,
            urn=world.school.organisation.urn,
        )
    assert "Another organisation already has this URN." in refused.value.messages


# --- The shared CSV and XLSX writer ------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)  # streamed as it is read
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_streams_the_header_and_each_row_with_iso_dates_and_no_formulas():
    response = csv_response(ROWS, COLUMNS, "people-2026-11-22")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="people-2026-11-22.csv"'
    assert read_csv(response) == [
        ["Name", "On", "Empty"],
        ["Ada", "2026-11-22", ""],
        ['\'=HYPERLINK("http://evil.example")', "", ""],
        ["'+44 1234", "2026-01-02", ""],
    ]


def read_xlsx(response) -> bytes:
    assert isinstance(response, FileResponse)
    return b"".join(response.streaming_content)


def test_the_xlsx_has_real_dates_text_as_typed_and_a_bold_frozen_header():
    response = xlsx_response(ROWS, COLUMNS, "people-2026-11-22", sheet="People")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="people-2026-11-22.xlsx"'
    content = read_xlsx(response)
    workbook = fastexcel.read_excel(content)
    assert workbook.sheet_names == ["People"]
    rows = workbook.load_sheet(0).to_polars().to_dicts()
    assert rows[0] == {"Name": "Ada", "On": datetime.datetime(2026, 11, 22), "Empty": None}
    assert rows[1]["Name"] == '=HYPERLINK("http://evil.example")'  # as typed: no ' prefix
    assert rows[2]["Name"] == "+44 1234"
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        styles = archive.read("xl/styles.xml").decode()
    assert "<f>" not in sheet  # no cell is a formula
    assert '<pane ySplit="1"' in sheet  # the header stays in view
    header_style = int(re.search(r'<c r="A1" s="(\d+)"', sheet).group(1))
    formats = re.findall(r"<xf [^>]*>", re.search(r"<cellXfs.*?</cellXfs>", styles).group(0))
    font = int(re.search(r'fontId="(\d+)"', formats[header_style]).group(1))
    assert "<b/>" in re.findall(r"<font>.*?</font>", styles)[font]


@pytest.mark.parametrize(("export_format", "kind"), [("csv", "text/csv"), ("xlsx", "spreadsheet")])
def test_export_response_chooses_the_writer(export_format, kind):
    response = export_response(export_format, ROWS, COLUMNS, "rows", sheet="Rows")
    assert kind in response["Content-Type"]
    assert f'filename="rows.{export_format}"' in response["Content-Disposition"]


def test_an_unknown_format_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="pdf"):
        export_response("pdf", ROWS, COLUMNS, "rows", sheet="Rows")


@pytest.mark.django_db
def test_a_queryset_is_read_in_chunks_rather_than_all_at_once(django_assert_num_queries):
    Organisation.objects.bulk_create(
        Organisation(name=f"Org {n:04d}", slug=f"org-{n}", kind=OrganisationKind.EXTERNAL)
        for n in range(EXPORT_CHUNK + 5)
    )
    columns: list[Column[Organisation]] = [
        Column("Name", lambda org: org.name),
        Column("Schools", lambda org: "; ".join(child.name for child in org.children.all())),
    ]
    rows = Organisation.objects.order_by("name").prefetch_related("children")
    with django_assert_num_queries(0):  # nothing is read until the response is streamed
        response = csv_response(rows, columns, "orgs")
    # The rows in one pass, their prefetch once per chunk: two chunks, two prefetches.
    with django_assert_num_queries(3):
        lines = read_csv(response)
    assert len(lines) == EXPORT_CHUNK + 6
    assert lines[1] == ["Org 0000", ""]
