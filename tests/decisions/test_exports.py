"""Exports: the decision list as CSV and XLSX, a person's history as CSV and PDF, and
the PDF helper that never fetches anything from another server."""

from __future__ import annotations

import csv
import io
import re
import socket
import zipfile
from datetime import date, datetime
from pathlib import Path

import fastexcel
import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.core.pdf import RefusedURL, local_only_fetcher, render_pdf, static_file_for
from infoshare.decisions.models import Outcome
from tests.core.support import changes_of, last_event
from tests.decisions.factories import correct_decision, make_decision, make_person
from tests.decisions.test_list import SEES, list_url

LIST_HEADER = [
    "Reference",
    "Decided on",
    "Recorded on",
    "People",
    "People not on the list",
    "What information",
    "Categories",
    "Special category",
    "Recipient person or role",
    "Recipient organisation",
    "Purpose",
    "Outcome",
    "Kind of sharing",
    "Agreement reference",
    "Lawful basis",
    "Special category conditions",
    "Consent",
    "About consent",
    "Checks made",
    "Method",
    "Reasons",
    "Decided by",
    "Recorded by",
    "DPO review",
    "Corrects",
    "Corrected by",
    "Reason for the correction",
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def history_url(person, slug: str = "alder", **query: str) -> str:
    url = reverse("decisions:person_history", kwargs={"org": slug, "person": person.uuid})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def csv_rows(response) -> list[dict[str, str]]:
    assert response.streaming  # written as it is read, not held in memory
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def csv_header(response) -> list[str]:
    content = b"".join(response.streaming_content).decode()
    return next(csv.reader(io.StringIO(content)))


def xlsx_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def xlsx_rows(content: bytes) -> list[dict[str, object]]:
    sheet = fastexcel.read_excel(content).load_sheet(0)
    return sheet.to_polars().to_dicts()


def pdf_text(response) -> str:
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def ada(world):
    return make_person(world.school.organisation, "Ada", "Lovelace")


@pytest.fixture
def log(world, ada):
    """As in the list's tests: four decisions about Ada (see SEES), one in Birch."""
    school = world.school.organisation
    made = {
        "staff_plain": make_decision(school, world.school["staff"], people=[ada]),
        "dsl_plain": make_decision(
            school, world.school["dsl"], people=[ada], categories=("attendance",)
        ),
        "dsl_special": make_decision(
            school, world.school["dsl"], people=[ada], categories=("safeguarding",)
        ),
        "staff_special": make_decision(
            school, world.school["staff"], people=[ada], categories=("health", "education")
        ),
    }
    made["birch"] = make_decision(
        world.other.organisation,
        world.other["staff"],
        people=[make_person(world.other.organisation, "Bea", "Birch")],
    )
    return made


# --- The decision list as CSV ------------------------------------------------------------


def test_the_csv_holds_every_matching_decision_not_one_page(world, client_for, ada):
    school = world.school.organisation
    made = [
        make_decision(school, world.school["dpo"], people=[ada], decided_on=date(2026, 1, n))
        for n in range(1, 31)
    ]
    response = client_for(world.school["dpo"]).get(list_url(format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="decisions-alder-\d{4}-\d{2}-\d{2}\.csv"',
        response["Content-Disposition"],
    )
    rows = csv_rows(response)
    assert [row["Reference"] for row in rows] == [d.reference for d in reversed(made)]


@pytest.mark.parametrize("role", list(Role))
def test_the_csv_holds_what_the_role_may_see(world, client_for, log, role):
    response = client_for(world.school[role]).get(list_url(format="csv"))
    assert response.status_code == 200
    assert {row["Reference"] for row in csv_rows(response)} == {
        log[name].reference for name in SEES[role]
    }


def test_the_csv_columns(world, client_for, ada):
    original = make_decision(
        world.school.organisation,
        world.school["staff"],
        people=[ada, make_person(world.school.organisation, "Grace", "Hopper")],
        people_described="Their older brother",
        categories=("health", "attendance"),
        purpose="integrated-health",
        information="Care plan",
        recipient_person="School nurse",
        recipient_organisation_name="Eastmoor Health Trust",
        arrangement="one_off",
        agreement_reference="",
        decided_on=date(2026, 11, 2),
    )
    correction = correct_decision(original, reason="The nurse's name was wrong")
    response = client_for(world.school["dpo"]).get(list_url(format="csv", include_corrected="on"))
    assert csv_header(client_for(world.school["dpo"]).get(list_url(format="csv"))) == LIST_HEADER
    rows = {row["Reference"]: row for row in csv_rows(response)}
    row = rows[original.reference]
    assert row == {
        "Reference": original.reference,
        "Decided on": "2026-11-02",
        "Recorded on": timezone.localdate().isoformat(),
        "People": "Grace Hopper; Ada Lovelace",  # by family name
        "People not on the list": "Their older brother",
        "What information": "Care plan",
        "Categories": "Attendance; Health, including medical conditions",
        "Special category": "Yes",
        "Recipient person or role": "School nurse",
        "Recipient organisation": "Eastmoor Health Trust",
        "Purpose": "Support integrated health services",
        "Outcome": "Shared",
        "Kind of sharing": "One-off disclosure (no agreement)",
        "Agreement reference": "",
        "Lawful basis": "6(1)(e): Public task",
        "Special category conditions": (
            "Sch. 1 para 18: Safeguarding of children and of individuals at risk"
        ),
        "Consent": "Not sought: another lawful reason applies",
        "About consent": "Shared under the local authority's statutory duty.",
        "Checks made": row["Checks made"],
        "Method": "Secure transfer",
        "Reasons": "Needed to support the pupil's attendance plan.",
        "Decided by": "Staff of Alder Primary School",
        "Recorded by": "Staff of Alder Primary School",
        "DPO review": "Not needed: corrected",
        "Corrects": "",
        "Corrected by": correction.reference,
        "Reason for the correction": "",
    }
    assert row["Checks made"].startswith("Necessary for the purpose; Proportionate")
    assert rows[correction.reference]["Corrects"] == original.reference
    assert rows[correction.reference]["DPO review"] == "Awaiting review"
    assert rows[correction.reference]["Reason for the correction"] == "The nurse's name was wrong"


def test_the_csv_applies_every_filter(world, client_for, ada):
    school, dpo = world.school.organisation, world.school["dpo"]
    wanted = make_decision(school, dpo, people=[ada], outcome=Outcome.NOT_SHARED)
    make_decision(school, dpo, people=[ada])
    make_decision(school, dpo, outcome=Outcome.NOT_SHARED)
    response = client_for(dpo).get(list_url(format="csv", outcome="not_shared", q="lovelace"))
    assert [row["Reference"] for row in csv_rows(response)] == [wanted.reference]


def test_the_csv_defuses_spreadsheet_formulas(world, client_for):
    make_decision(
        world.school.organisation,
        world.school["dpo"],
        information='=HYPERLINK("http://evil.test","Click")',
        recipient_person="@SUM(A1)",
        reasons="-2+3",
    )
    (row,) = csv_rows(client_for(world.school["dpo"]).get(list_url(format="csv")))
    assert row["What information"] == '\'=HYPERLINK("http://evil.test","Click")'
    assert row["Recipient person or role"] == "'@SUM(A1)"
    assert row["Reasons"] == "'-2+3"


def test_an_export_is_recorded_with_its_filters_and_count_but_no_content(world, client_for, log):
    client = client_for(world.school["dpo"])
    response = client.get(
        list_url(format="csv", q="lovelace", outcome="shared", date_from="2026-01-01")
    )
    rows = csv_rows(response)
    event = last_event("decisions.exported")
    assert event.actor == world.school["dpo"]
    assert event.organisation == world.school.organisation
    assert event.object_label == "Decision log"
    assert changes_of(event) == {
        "format": "csv",
        "rows": len(rows),
        "filters": {
            "sort": "-decided",
            "outcome": "shared",
            "date_from": "2026-01-01",
            "search": "words withheld",
            "include_corrected": False,
        },
    }
    assert "lovelace" not in event.changes.lower()


def test_a_typed_recipient_is_withheld_from_the_trail_unless_it_names_an_organisation(
    world, client_for, log
):
    client = client_for(world.school["dpo"])
    csv_rows(client.get(list_url(format="csv", recipient="Mrs+Smith")))
    assert changes_of(last_event("decisions.exported"))["filters"]["recipient"] == (
        "words withheld"
    )
    csv_rows(client.get(list_url(format="csv", recipient="Eastmoor+Council")))
    assert changes_of(last_event("decisions.exported"))["filters"]["recipient"] == (
        "Eastmoor Council"
    )


def test_an_export_with_invalid_filters_shows_the_errors_and_exports_nothing(
    world, client_for, log
):
    response = client_for(world.school["dpo"]).get(
        list_url(format="csv", date_from="2026-06-01", date_to="2026-05-01")
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "The &#x27;to&#x27; date must be the same as or after" in response.content.decode()
    assert not AuditEvent.objects.filter(verb="decisions.exported").exists()


def test_another_schools_members_cannot_export(world, client_for, log):
    assert client_for(world.other["dpo"]).get(list_url(format="csv")).status_code == 404
    assert client_for(world.other["dpo"]).get(list_url(format="xlsx")).status_code == 404


# --- The decision list as XLSX -----------------------------------------------------------


def test_the_xlsx_holds_the_same_rows_with_real_dates(world, client_for, ada):
    school, dpo = world.school.organisation, world.school["dpo"]
    made = [
        make_decision(school, dpo, people=[ada], decided_on=date(2026, 2, n)) for n in (1, 2, 3)
    ]
    make_decision(
        school, dpo, information='=HYPERLINK("http://evil.test")', decided_on=date(2025, 1, 1)
    )
    response = client_for(dpo).get(list_url(format="xlsx", q="lovelace"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert re.fullmatch(
        r'attachment; filename="decisions-alder-\d{4}-\d{2}-\d{2}\.xlsx"',
        response["Content-Disposition"],
    )
    rows = xlsx_rows(xlsx_bytes(response))
    assert list(rows[0]) == LIST_HEADER
    assert [row["Reference"] for row in rows] == [d.reference for d in reversed(made)]
    assert rows[0]["Decided on"] == datetime(2026, 2, 3)
    assert rows[0]["People"] == "Ada Lovelace"
    assert rows[0]["Purpose"] == "Monitor and report on pupil progress"

    everything = xlsx_rows(xlsx_bytes(client_for(dpo).get(list_url(format="xlsx"))))
    # Text that looks like a formula stays text, exactly as typed.
    assert everything[-1]["What information"] == '=HYPERLINK("http://evil.test")'


def test_the_xlsx_header_is_bold_and_text_is_never_a_formula(world, client_for):
    make_decision(world.school.organisation, world.school["dpo"], information="=1+1")
    content = xlsx_bytes(client_for(world.school["dpo"]).get(list_url(format="xlsx")))
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        styles = workbook.read("xl/styles.xml").decode()
    assert "<f>" not in sheet
    header_style = int(re.search(r'<c r="A1" s="(\d+)"', sheet).group(1))
    formats = re.findall(r"<xf [^>]*>", re.search(r"<cellXfs.*?</cellXfs>", styles).group(0))
    font = int(re.search(r'fontId="(\d+)"', formats[header_style]).group(1))
    fonts = re.findall(r"<font>.*?</font>", styles)
    assert "<b/>" in fonts[font]


def test_the_xlsx_export_is_recorded(world, client_for, log):
    client_for(world.school["chair"]).get(list_url(format="xlsx", special="no"))
    event = last_event("decisions.exported")
    assert changes_of(event)["format"] == "xlsx"
    assert changes_of(event)["rows"] == 2
    assert changes_of(event)["filters"]["special"] == "no"


# --- A person's history as CSV and PDF ------------------------------------------------------


def test_the_history_csv_leaves_out_other_people_and_is_recorded(world, client_for, log, ada):
    make_decision(
        world.school.organisation,
        world.school["dpo"],
        people=[ada, make_person(world.school.organisation, "Grace", "Hopper")],
        people_described="Grace's father",
    )
    response = client_for(world.school["dpo"]).get(history_url(ada, format="csv"))
    assert response.status_code == 200
    assert re.fullmatch(
        rf'attachment; filename="disclosure-history-{ada.uuid}-\d{{4}}-\d{{2}}-\d{{2}}\.csv"',
        response["Content-Disposition"],
    )
    rows = csv_rows(response)
    assert len(rows) == 5
    assert "People" not in rows[0]
    assert "People not on the list" not in rows[0]
    assert all("Hopper" not in value and "Grace" not in value for r in rows for value in r.values())
    event = last_event("person.history_exported")
    assert event.object_id == str(ada.uuid)
    assert event.object_label == f"Person {ada.uuid}"
    assert changes_of(event) == {"format": "csv", "count": 5}


@pytest.mark.parametrize("role", [Role.STAFF, Role.DSL, Role.CHAIR])
def test_the_history_exports_hold_what_the_role_may_see(world, client_for, log, ada, role):
    client = client_for(world.school[role])
    rows = csv_rows(client.get(history_url(ada, format="csv")))
    assert {row["Reference"] for row in rows} == {log[name].reference for name in SEES[role]}
    text = pdf_text(client.get(history_url(ada, format="pdf")))
    for name, decision in log.items():
        assert (decision.reference in text) == (name in SEES[role])


def test_the_history_pdf_for_a_subject_access_request(world, client_for, ada):
    school = world.school.organisation
    council = make_decision(
        school,
        world.school["dpo"],
        people=[ada],
        purpose="statutory-pupil-information",
        recipient_organisation=world.local_authority,
        recipient_organisation_name="",
        decided_on=date(2026, 9, 1),
    )
    health = make_decision(
        school,
        world.school["dsl"],
        people=[ada, make_person(school, "Grace", "Hopper")],
        categories=("health",),
        purpose="integrated-health",
        decided_on=date(2026, 10, 1),
    )
    refused = make_decision(
        school,
        world.school["staff"],
        people=[ada],
        outcome=Outcome.NOT_SHARED,
        lawful_basis=None,
        purpose="family-news",
        decided_on=date(2026, 11, 1),
    )
    response = client_for(world.school["headteacher"]).get(history_url(ada, format="pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    today = timezone.localdate()
    assert response["Content-Disposition"] == (
        f'attachment; filename="disclosure-history-{ada.uuid}-{today:%Y-%m-%d}.pdf"'
    )
    text = pdf_text(response)
    flat = " ".join(text.split())
    assert "Disclosure history of Ada Lovelace" in flat
    assert "Alder Primary School" in flat
    assert f"Produced on {today:%-d %B %Y}" in flat
    assert "Produced by Headteacher of Alder Primary School" in flat
    for decision in (council, health, refused):
        assert decision.reference in flat
    assert (
        flat.index(refused.reference) < flat.index(health.reference) < flat.index(council.reference)
    )  # newest first
    for purpose in (
        "Meet the legal duty to share pupil information with the local authority and the DfE",
        "Support integrated health services",
        "Notify families of news and important information about the school",
    ):
        assert purpose in flat
    assert "Eastmoor Council" in flat
    assert "Not shared" in flat
    assert re.search(r"Page 1 of \d+", flat)
    assert "Hopper" not in flat  # another person named in the same decision
    event = last_event("person.history_exported")
    assert changes_of(event) == {"format": "pdf", "count": 3}
    assert event.object_label == f"Person {ada.uuid}"


def test_exporting_the_history_is_not_recorded_as_a_view(world, client_for, log, ada):
    client_for(world.school["dpo"]).get(history_url(ada, format="pdf"))
    assert not AuditEvent.objects.filter(verb="person.history_viewed").exists()
    assert AuditEvent.objects.filter(verb="person.history_exported").count() == 1


def test_another_schools_person_cannot_be_exported(world, client_for):
    stranger = make_person(world.other.organisation, "Bea", "Birch")
    client = client_for(world.school["dpo"])
    for export_format in ("pdf", "csv"):
        assert client.get(history_url(stranger, format=export_format)).status_code == 404
    assert not AuditEvent.objects.filter(verb="person.history_exported").exists()


# --- The PDF helper ----------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything opens a network connection."""
    attempts: list[object] = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize(
    "url",
    [
        "https://tracker.example/pixel.png",
        "http://127.0.0.1:8000/static/dist/app.css",
        "ftp://files.example/logo.png",
        "file:///etc/passwd",
        "file:///static/../../etc/passwd",
        "file://evil.example/static/logo.png",
    ],
)
def test_the_fetcher_refuses_anything_but_inline_and_static_resources(no_network, url):
    with pytest.raises((RefusedURL, ValueError)):
        local_only_fetcher().fetch(url)
    assert no_network == []


def test_the_fetcher_serves_inline_data_and_the_applications_static_files():
    fetcher = local_only_fetcher()
    inline = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert inline.read() == b"hello"
    inline.close()
    static = fetcher.fetch("file:///static/admin/css/base.css")
    assert static.path.endswith("admin/css/base.css")
    assert b"body" in static.read()
    static.close()
    assert Path(static_file_for("file:///static/admin/css/base.css")) == Path(static.path)


def test_rendering_a_document_with_outside_links_makes_no_request(no_network, settings, tmp_path):
    (tmp_path / "outside.html").write_text(
        "<html><head><style>@page { font-family: 'DejaVu Sans', sans-serif; }</style>"
        '<link rel="stylesheet" href="https://cdn.example/style.css"></head>'
        '<body><img src="https://tracker.example/pixel.png" alt="">'
        '<img src="/static/admin/img/icon-yes.svg" alt="">'
        "<p>{{ greeting }}</p></body></html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    pdf = render_pdf("outside.html", {"greeting": "Hello from the school"})
    assert pdf.startswith(b"%PDF")
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Hello from the school" in text
    assert no_network == []
