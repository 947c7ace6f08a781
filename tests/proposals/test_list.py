"""The proposal list /o/<org>/proposals/: who sees it, filters, search, sorting, pages, exports."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import fastexcel
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.proposals import services
from infoshare.proposals.models import Proposal, Status
from tests.proposals import drafts

pytestmark = pytest.mark.django_db

EXPORT_HEADER = [
    "Reference",
    "Name",
    "Status",
    "Purpose",
    "Started by",
    "Started on",
    "Last updated",
    "DPO assessment",
    "DPO advice",
    "Decided by",
    "Decided on",
    "Overrides the DPO's advice",
]


def list_url(slug: str = "alder", **query: str) -> str:
    url = reverse("proposals:list", kwargs={"org": slug})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def text(response: Any) -> str:
    return response.content.decode()


def table_rows(response: Any) -> list[str]:
    """The text of each row of the proposals table, tags removed."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', text(response), re.S)
    if body is None:
        return []
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', body.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def references(response: Any) -> list[str]:
    return [row.split()[0] for row in table_rows(response)]


def start(world: Any, name: str, role: str = "staff") -> Proposal:
    return services.create_proposal(
        world.school.organisation, actor=world.school[role], answers=drafts.step_one(name=name)
    )


@pytest.fixture
def proposals(world: Any) -> dict[str, Proposal]:
    """Alder's proposals at several statuses, and one of Birch's."""
    school = world.school
    made = {
        "draft": start(world, "Reading tutors"),
        "submitted": drafts.screened(school.organisation, school["staff"], world.dfe),
        "not_needed": services.create_proposal(
            school.organisation,
            actor=school["dsl"],
            answers=drafts.step_one(
                name="Class photographs",
                achievable_without=True,
                achievable_without_reasons="Class-level data is enough.",
            ),
        ),
    }
    made["withdrawn"] = services.withdraw_proposal(
        start(world, "Swimming lessons"), actor=school["staff"], reasons="The pool closed."
    )
    made["birch"] = services.create_proposal(
        world.other.organisation,
        actor=world.other["staff"],
        answers=drafts.step_one(name="Birch orchestra tour"),
    )
    return made


# --- Who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_all_of_the_schools_proposals(world, client_for, proposals, role):
    response = client_for(world.school[role]).get(list_url())
    assert response.status_code == 200
    alder = {proposals[name].reference for name in proposals if name != "birch"}
    assert set(references(response)) == alder
    # Birch numbers its own proposals (its reference is one of Alder's too): by name.
    assert "Birch orchestra tour" not in text(response)


@pytest.mark.parametrize("role", list(Role))
def test_another_schools_members_get_not_found(world, client_for, role):
    assert client_for(world.other[role]).get(list_url()).status_code == 404


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(world):
    response = Client().get(list_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("role", list(Role))
def test_the_start_button_is_for_those_who_may_draft(world, client_for, role):
    html = text(client_for(world.school[role]).get(list_url()))
    start_link = reverse("proposals:start", kwargs={"org": "alder"})
    assert (f'href="{start_link}"' in html) == (role != Role.AUDITOR)


def test_each_row_shows_reference_name_status_author_and_date(world, client_for, proposals):
    response = client_for(world.school["auditor"]).get(list_url())
    html = text(response)
    submitted = proposals["submitted"]
    row = next(row for row in table_rows(response) if row.startswith(submitted.reference))
    assert "Reading intervention with the literacy charity" in row
    assert "Awaiting DPO assessment" in row
    assert "Staff of Alder Primary School" in row
    assert f'href="{submitted.get_absolute_url()}"' in html
    assert 'class="govuk-tag govuk-tag--yellow">Awaiting DPO assessment' in html
    assert 'class="govuk-tag govuk-tag--grey">Withdrawn' in html


def test_an_empty_list_says_how_to_start(world, client_for):
    html = text(client_for(world.school["staff"]).get(list_url()))
    assert "No proposals yet" in html
    assert "start a proposal" in html


# --- Search and filters ----------------------------------------------------------------


def test_search_finds_a_name_whatever_its_case(world, client_for, proposals):
    client = client_for(world.school["staff"])
    assert references(client.get(list_url(q="SWIMMING"))) == [proposals["withdrawn"].reference]
    assert references(client.get(list_url(q="class+PHOTO"))) == [proposals["not_needed"].reference]


def test_search_finds_a_reference(world, client_for, proposals):
    client = client_for(world.school["staff"])
    wanted = proposals["not_needed"].reference
    assert references(client.get(list_url(q=wanted.lower()))) == [wanted]


def test_a_search_matching_nothing_says_so(world, client_for, proposals):
    html = text(client_for(world.school["staff"]).get(list_url(q="nothing-like-this")))
    assert "No proposals match these filters" in html
    assert "Clear filters" in html


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", {"draft", "submitted"}),
        ("closed", {"not_needed", "withdrawn"}),
        (Status.SCREENING_SUBMITTED.value, {"submitted"}),
        (Status.NOT_NEEDED.value, {"not_needed"}),
        ("", {"draft", "submitted", "not_needed", "withdrawn"}),
    ],
)
def test_the_status_filter(world, client_for, proposals, status, expected):
    response = client_for(world.school["staff"]).get(list_url(status=status))
    assert set(references(response)) == {proposals[name].reference for name in expected}


def test_the_status_filter_offers_every_status(world, client_for):
    html = text(client_for(world.school["staff"]).get(list_url()))
    for label in ("All open", "All closed", *Status.labels):
        assert f">{label}</option>" in html


def test_an_unknown_status_is_shown_beside_the_filter_and_nothing_is_hidden(
    world, client_for, proposals
):
    response = client_for(world.school["staff"]).get(list_url(status="lost"))
    html = text(response)
    assert re.search(r'id="id_status_error"[^>]*>.*?Select a status from the list', html, re.S)
    assert len(references(response)) == 4


# --- Sorting and pages -----------------------------------------------------------------


def test_the_newest_change_comes_first_by_default(world, client_for, proposals):
    draft = proposals["draft"]
    services.answer_step_two(draft, actor=world.school["staff"], answers=drafts.step_two())
    response = client_for(world.school["staff"]).get(list_url())
    assert references(response)[0] == draft.reference
    oldest_first = references(client_for(world.school["staff"]).get(list_url(sort="updated")))
    assert oldest_first[-1] == draft.reference


def test_sorting_by_name_and_reference(world, client_for, proposals):
    client = client_for(world.school["staff"])
    by_name = [row.split(" ", 1)[1] for row in table_rows(client.get(list_url(sort="name")))]
    assert by_name == sorted(by_name)
    descending = references(client.get(list_url(sort="-reference")))
    assert descending == sorted(descending, reverse=True)
    html = text(client.get(list_url(sort="reference")))
    # The header of the sorted column says so, and links to the other direction.
    assert 'aria-sort="ascending"' in html
    assert "sort=-reference" in html


def test_an_unknown_sort_is_the_default_order(world, client_for, proposals):
    client = client_for(world.school["staff"])
    assert references(client.get(list_url(sort="evil"))) == references(client.get(list_url()))


def test_pages_of_25_keep_the_filters(world, client_for):
    for number in range(30):
        start(world, f"Trip {number:02d}")
    client = client_for(world.school["staff"])
    first = client.get(list_url(q="trip", sort="name"))
    assert "Showing 1 to 25 of 30 proposals" in text(first)
    assert "page=2" in text(first)
    assert "q=trip" in text(first)
    second = client.get(list_url(q="trip", sort="name", page="2"))
    assert len(table_rows(second)) == 5
    assert table_rows(second)[0].split(" ", 1)[1].startswith("Trip 25")


def test_the_number_of_queries_does_not_grow_with_the_rows(
    world, client_for, django_assert_max_num_queries
):
    client = client_for(world.school["dpo"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(list_url()).status_code == 200
        return len(captured)

    for number in range(3):
        start(world, f"Club {number}", role="staff")
    few = queries()
    for number in range(40):
        start(world, f"Visit {number}", role=("headteacher", "dsl", "staff")[number % 3])
    assert queries() == few
    with django_assert_max_num_queries(few):
        client.get(list_url(q="visit", status="open", sort="name", page="2"))


# --- Exports ---------------------------------------------------------------------------


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.streaming  # written as it is read, not held in memory
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def xlsx_rows(response: Any) -> list[dict[str, object]]:
    content = b"".join(response.streaming_content)
    return fastexcel.read_excel(content).load_sheet(0).to_polars().to_dicts()


def test_the_csv_export_holds_the_filtered_proposals(world, client_for, proposals):
    response = client_for(world.school["staff"]).get(list_url(status="closed", format="csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="proposals-alder-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert list(rows[0]) == EXPORT_HEADER
    assert {row["Reference"] for row in rows} == {
        proposals["not_needed"].reference,
        proposals["withdrawn"].reference,
    }
    withdrawn = next(row for row in rows if row["Name"] == "Swimming lessons")
    assert withdrawn["Status"] == "Withdrawn"
    assert withdrawn["Started by"] == "Staff of Alder Primary School"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", withdrawn["Started on"])


def test_the_export_holds_every_page_not_just_one(world, client_for):
    for number in range(30):
        start(world, f"Trip {number:02d}")
    response = client_for(world.school["staff"]).get(list_url(format="csv", page="2"))
    assert len(csv_rows(response)) == 30


def test_the_csv_export_defuses_spreadsheet_formulas(world, client_for):
    start(world, '=HYPERLINK("http://evil.example")')
    rows = csv_rows(client_for(world.school["staff"]).get(list_url(format="csv")))
    assert rows[0]["Name"] == '\'=HYPERLINK("http://evil.example")'


def test_the_xlsx_export_reads_back(world, client_for, proposals):
    start(world, "=1+1")
    response = client_for(world.school["auditor"]).get(list_url(format="xlsx", sort="reference"))
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = xlsx_rows(response)
    assert list(rows[0]) == EXPORT_HEADER
    assert [row["Reference"] for row in rows] == sorted(row["Reference"] for row in rows)
    assert len(rows) == 5
    submitted = next(row for row in rows if row["Reference"] == proposals["submitted"].reference)
    assert submitted["Status"] == "Awaiting DPO assessment"
    assert submitted["Purpose"] == "Other (describe the purpose)"
    # Text is kept exactly as typed: a spreadsheet never runs it as a formula.
    assert any(row["Name"] == "=1+1" for row in rows)


def test_an_export_with_a_bad_filter_is_the_page_with_the_error(world, client_for, proposals):
    response = client_for(world.school["staff"]).get(list_url(status="lost", format="csv"))
    assert not response.streaming
    assert "Select a status from the list" in text(response)


def test_exports_leave_no_audit_event_as_proposals_name_nobody(world, client_for, proposals):
    client = client_for(world.school["staff"])
    before = AuditEvent.objects.count()
    b"".join(client.get(list_url(format="csv")).streaming_content)
    b"".join(client.get(list_url(format="xlsx")).streaming_content)
    assert AuditEvent.objects.count() == before
