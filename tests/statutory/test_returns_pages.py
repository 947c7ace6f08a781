"""The returns calendar's pages: who may open each (every role, and another school's people),
the calendar's filters, tags and exports, and each form through the page, refusals included.
The clock stands at 30 November 2026.

`returns_urls(world)` lists the pages for the lead's permission matrix.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import resolve, reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.exports import XLSX_CONTENT_TYPE
from infoshare.statutory.models import ReturnStatus, StatutoryReturn
from infoshare.statutory.services import returns as services
from tests.core.support import changes_of, element_text, last_event, links_inside
from tests.statutory.test_returns_services import (
    ALL_ROLES,
    KEEPERS,
    TODAY,
    census,
    close,
    counts,
    keeper,
    other_return,
    state_of,
    today,  # noqa: F401 - the fixture
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

D = datetime.date
VIEWERS = {"headteacher", "information_manager", "dpo", "chair", "auditor"}


def url(name: str, school: Any, **kwargs: Any) -> str:
    return reverse(f"statutory:{name}", kwargs={"org": school.slug, **kwargs})


def return_page(name: str, statutory_return: StatutoryReturn) -> str:
    return reverse(
        f"statutory:{name}",
        kwargs={"org": statutory_return.organisation.slug, "return_id": statutory_return.uuid},
    )


def page_of(response: Any) -> str:
    return unescape(response.content.decode())


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def summary(html: str, element_id: str) -> dict[str, str]:
    """The keys and values of the summary list with `element_id`."""
    found = re.search(rf'<dl class="govuk-summary-list" id="{element_id}">(.*?)</dl>', html, re.S)
    assert found, f"no summary list {element_id}"
    pairs = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", found.group(1), re.S)
    return {_text(key): _text(value) for key, value in pairs}


def _text(fragment: str) -> str:
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" ([,.])", r"\1", words)


def table_rows(html: str) -> list[str]:
    """Each row of the calendar's table as its text."""
    body = re.search(r'<table class="govuk-table" id="returns">(.*?)</table>', html, re.S)
    if body is None:
        return []
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body.group(1), re.S)[1:]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


# --- Who may open what ----------------------------------------------------------------------


def matrix_return(school: Any) -> StatutoryReturn:
    """An open return of `school` for the matrix (one per school, made once)."""
    existing = StatutoryReturn.objects.filter(organisation=school.organisation).first()
    return existing or other_return(school)


# Page -> whether it is opened on a return, and who gets 200 (everyone else who may see
# statutory sharing gets 403; anyone else in the school 403 too).
PAGES = {
    "returns": (False, VIEWERS),
    "returns_csv": (False, VIEWERS),
    "return_new": (False, KEEPERS),
    "return_detail": (True, VIEWERS),
    "return_edit": (True, KEEPERS),
    "return_submitted": (True, KEEPERS),
    "return_withdraw": (True, KEEPERS),
}


def page_path(school: Any, name: str) -> str:
    if name == "returns_csv":
        return url("returns", school) + "?format=csv"
    on_return, _ = PAGES[name]
    if on_return:
        return return_page(name, matrix_return(school))
    return url(name, school)


def returns_urls(world: Any) -> list[str]:
    """Every returns page (GET) of `world.school`, for tests/core/test_tenancy.py.

    The census page takes POST only (GET is 405): `returns_matrix_urls` lists it too.
    """
    return [page_path(world.school, name) for name in PAGES]


def returns_matrix_urls(school: Any) -> list[tuple[str, str, str]]:
    """(name, method, path) of every returns page of `school`, census POST included, in the
    shape of tests/core/test_tenancy.py's `all_urls`. An empty POST to the census page sends
    a keeper back to the calendar with a message (302); anyone else gets 403."""
    pages = [(f"statutory_{name}", "get", page_path(school, name)) for name in PAGES]
    return [*pages, ("statutory_returns_census", "post", url("returns_census", school))]


def expected_status(name: str, role: str) -> int:
    return 200 if role in PAGES[name][1] else 403


@pytest.mark.parametrize("name", list(PAGES))
def test_returns_access_matrix(world, client_for, name):
    path = page_path(world.school, name)
    got = {role: client_for(world.school[role]).get(path).status_code for role in ALL_ROLES}
    assert got == {role: expected_status(name, role) for role in ALL_ROLES}, path


@pytest.mark.parametrize("name", list(PAGES))
def test_another_schools_people_get_404(world, client_for, name):
    path = page_path(world.school, name)
    got = {role: client_for(world.other[role]).get(path).status_code for role in ALL_ROLES}
    assert got == dict.fromkeys(ALL_ROLES, 404), path


@pytest.mark.parametrize("name", [name for name, (on_return, _) in PAGES.items() if on_return])
def test_another_schools_return_at_ones_own_address_is_404(world, client_for, name):
    foreign = return_page(name, matrix_return(world.other))
    own_address = foreign.replace(f"/o/{world.other.slug}/", f"/o/{world.school.slug}/", 1)
    for role in VIEWERS:
        assert client_for(world.school[role]).get(own_address).status_code == 404, role


def test_the_trust_dpo_reads_both_schools_calendars(world, client_for):
    client = client_for(world.trust_dpo)
    for school in (world.school, world.other):
        assert client.get(url("returns", school)).status_code == 200
        assert client.get(return_page("return_detail", matrix_return(school))).status_code == 200
        assert client.get(url("return_new", school)).status_code == 403


def test_returns_urls_lists_every_page(world):
    paths = returns_urls(world)
    assert len(paths) == len(PAGES) == len(set(paths))
    assert all(path.startswith(f"/o/{world.school.slug}/statutory/returns/") for path in paths)
    routes = {
        resolve(urlsplit(path).path).route for _, _, path in returns_matrix_urls(world.school)
    }
    assert routes == {
        f"o/<slug:org>/statutory/returns/{route}"
        for route in [
            "",
            "new/",
            "census/",
            "<uuid:return_id>/",
            "<uuid:return_id>/edit/",
            "<uuid:return_id>/submitted/",
            "<uuid:return_id>/withdraw/",
        ]
    }


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_matrix_urls_answer_as_the_lead_expects(world, client_for, role):
    client = client_for(world.school[role])
    for name, method, path in returns_matrix_urls(world.school):
        status = getattr(client, method)(path).status_code
        if name == "statutory_returns_census":
            assert status == (302 if role in KEEPERS else 403), (role, name)
        else:
            assert status == expected_status(name.removeprefix("statutory_"), role), (role, name)
    other = client_for(world.other[role])
    for name, method, path in returns_matrix_urls(world.school):
        assert getattr(other, method)(path).status_code == 404, (role, name)


# --- The calendar -------------------------------------------------------------------------


def test_the_calendar_lists_this_years_returns_in_date_order_with_their_tags(world, client_for):
    school = world.school
    returns = census(school)
    services.mark_return_submitted(
        returns["autumn_census"], actor=school["headteacher"], submitted_on=D(2026, 10, 6)
    )
    other_return(school, title="Workforce census", due_on=D(2026, 12, 9))
    other_return(school, title="Attendance return", due_on=D(2026, 11, 21))
    withdrawn = other_return(school, title="Exclusions return", due_on=D(2027, 3, 1))
    close(withdrawn, "withdraw", keeper(school))
    other_return(school, title="Last year's return", due_on=D(2026, 7, 1))
    other_return(school, title="Next year's return", due_on=D(2027, 9, 30))

    response = client_for(school["chair"]).get(url("returns", school))
    assert table_rows(page_of(response)) == [
        "Autumn school census 2026/27 1 October 2026 1 October 2026 Submitted "
        "On 6 October 2026 by Headteacher of Alder Primary School Department for Education",
        "Attendance return — 21 November 2026 Overdue Department for Education",
        "Workforce census — 9 December 2026 Due Department for Education",
        "Spring school census 2026/27 21 January 2027 21 January 2027 Upcoming "
        "Department for Education",
        "Exclusions return — 1 March 2027 Withdrawn Department for Education",
        "Summer school census 2026/27 20 May 2027 20 May 2027 Upcoming Department for Education",
    ]
    html = page_of(response)
    assert 'class="govuk-tag govuk-tag--red">Overdue' in html
    assert 'class="govuk-tag govuk-tag--green">Submitted' in html
    assert element_text(html, "result-count") == "6 returns for 2026/27."


def test_the_calendar_filters_by_year_and_state(world, client_for):
    school = world.school
    census(school)
    other_return(school, title="Attendance return", due_on=D(2026, 11, 21))
    other_return(school, title="Next year's return", due_on=D(2027, 9, 30))
    client = client_for(school["dpo"])

    overdue = page_of(client.get(url("returns", school) + "?state=overdue"))
    assert [row.split(" ")[0:2] for row in table_rows(overdue)] == [
        ["Autumn", "school"],
        ["Attendance", "return"],
    ]
    assert element_text(overdue, "result-count") == "2 returns for 2026/27, overdue only."

    next_year = page_of(client.get(url("returns", school) + "?year=2027"))
    assert [row.split(" 30 ")[0] for row in table_rows(next_year)] == ["Next year's return —"]

    every = page_of(client.get(url("returns", school) + "?year=all&state=upcoming"))
    assert len(table_rows(every)) == 3  # spring, summer and next year's
    assert element_text(every, "result-count") == "3 returns for every year, upcoming only."


def test_a_filter_that_is_not_on_the_list_is_shown_beside_it(world, client_for):
    census(world.school)
    response = client_for(keeper(world.school)).get(url("returns", world.school) + "?year=1999")
    assert response.status_code == 200
    html = page_of(response)
    assert error_beside(html, "year") == "Error: Select an academic year from the list"
    assert len(table_rows(html)) == 3  # this year's, unfiltered


def test_the_calendar_offers_years_with_returns_and_the_next(world, client_for):
    other_return(world.school, due_on=D(2025, 3, 1))
    html = page_of(client_for(keeper(world.school)).get(url("returns", world.school)))
    years = html.split('name="state"')[0]
    options = re.findall(r'<option value="([^"]*)"', years)
    assert options == ["2024", "2025", "2026", "2027", "all"]
    assert re.findall(r'<option value="([^"]*)" selected', years) == ["2026"]
    # Filtered by state alone, the list still shows the year shown.
    html = page_of(
        client_for(keeper(world.school)).get(url("returns", world.school) + "?state=due")
    )
    years = html.split('name="state"')[0]
    assert re.findall(r'<option value="([^"]*)" selected', years) == ["2026"]


def test_an_empty_calendar_says_what_to_do(world, client_for):
    keeper_page = page_of(client_for(keeper(world.school)).get(url("returns", world.school)))
    assert "Add the census days for the year" in element_text(keeper_page, "no-returns")
    chair_page = page_of(client_for(world.school["chair"]).get(url("returns", world.school)))
    assert "The headteacher or the information manager adds" in element_text(
        chair_page, "no-returns"
    )


def test_keepers_see_the_buttons_and_others_do_not(world, client_for):
    school = world.school
    html = page_of(client_for(keeper(school)).get(url("returns", school)))
    actions = element_text(html, "calendar-actions")
    assert actions == (
        "Add a return Add the census days for 2026/27 Add the census days for 2027/28"
    )
    for role in VIEWERS - KEEPERS:
        html = page_of(client_for(school[role]).get(url("returns", school)))
        assert element_text(html, "calendar-actions") is None, role
        assert "Add the census days" not in html


def test_a_year_whose_census_days_are_all_there_is_not_offered_again(world, client_for):
    census(world.school)
    html = page_of(client_for(keeper(world.school)).get(url("returns", world.school)))
    assert element_text(html, "calendar-actions") == (
        "Add a return Add the census days for 2027/28"
    )


def test_the_calendars_query_count_does_not_grow_with_its_rows(
    world, client_for, django_assert_num_queries
):
    school = world.school
    client = client_for(keeper(school))
    path = url("returns", school)
    census(school)
    close(other_return(school), "submit", keeper(school))
    client.get(path)  # the session is loaded once, as for any page
    with django_assert_num_queries(QUERIES) as few:
        assert len(table_rows(page_of(client.get(path)))) == 4
    for day in range(20):
        returned = other_return(school, due_on=D(2026, 12, 1) + datetime.timedelta(days=day))
        close(returned, "submit" if day % 2 else "withdraw", school["headteacher"])
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(table_rows(page_of(client.get(path)))) == 24


# Session and user; the membership, its roles and the navigation's; the years' span,
# the count, the page of returns with who submitted each, the census years already
# there; then the layout's count of memberships and the session's save.
QUERIES = 13


# --- Exports ------------------------------------------------------------------------------


def read_csv(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_holds_the_filtered_returns_and_is_audited(world, client_for):
    school = world.school
    returns = census(school)
    services.mark_return_submitted(
        returns["autumn_census"],
        actor=keeper(school),
        submitted_on=D(2026, 10, 5),
        reference="COLLECT-1",
    )
    other_return(school, title="=HYPERLINK(1)", due_on=D(2026, 11, 2))
    other_return(school, title="Next year's return", due_on=D(2027, 9, 30))
    response = client_for(school["auditor"]).get(url("returns", school) + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="returns-alder-2026-27.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert [row["Return"] for row in rows] == [
        "Autumn school census 2026/27",
        "'=HYPERLINK(1)",
        "Spring school census 2026/27",
        "Summer school census 2026/27",
    ]
    assert rows[0] == {
        "Return": "Autumn school census 2026/27",
        "Kind": "Autumn school census",
        "Academic year": "2026/27",
        "Census day": "2026-10-01",
        "Due": "2026-10-01",
        "Status": "Submitted",
        "Goes to": "Department for Education",
        "Submitted on": "2026-10-05",
        "Submitted by": "Information manager of Alder Primary School",
        "Submission reference": "COLLECT-1",
        "Withdrawn on": "",
        "Withdrawn by": "",
        "Notes": "",
    }
    assert rows[1]["Status"] == "Overdue"
    event = last_event("statutory_returns.exported")
    assert event.actor == school["auditor"]
    assert event.organisation == school.organisation
    assert event.object_label == "Returns calendar"
    assert changes_of(event) == {"format": "csv", "rows": 4, "academic_year": "2026/27"}


def test_the_export_follows_the_filters(world, client_for):
    school = world.school
    census(school)
    other_return(school, title="Next year's return", due_on=D(2027, 9, 30))
    response = client_for(keeper(school)).get(
        url("returns", school) + "?year=all&state=overdue&format=csv"
    )
    assert [row["Return"] for row in read_csv(response)] == ["Autumn school census 2026/27"]
    assert 'filename="returns-alder-all-years.csv"' in response["Content-Disposition"]
    assert changes_of(last_event("statutory_returns.exported")) == {
        "format": "csv",
        "rows": 1,
        "academic_year": "every year",
        "state": "overdue",
    }


def test_an_export_with_a_bad_filter_shows_the_page_instead(world, client_for):
    response = client_for(keeper(world.school)).get(
        url("returns", world.school) + "?state=late&format=csv"
    )
    assert response["Content-Type"].startswith("text/html")
    assert error_beside(page_of(response), "state") == "Error: Select a status from the list"
    assert not AuditEvent.objects.filter(verb="statutory_returns.exported").exists()


def test_the_spreadsheet_export(world, client_for):
    census(world.school)
    response = client_for(world.school["chair"]).get(url("returns", world.school) + "?format=xlsx")
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert changes_of(last_event("statutory_returns.exported"))["format"] == "xlsx"


# --- Adding the census days ---------------------------------------------------------------


def test_adding_the_census_days_from_the_calendar(world, client_for):
    school = world.school
    client = client_for(keeper(school))
    response = client.post(url("returns_census", school), {"academic_year": "2026"})
    assert response.status_code == 302
    assert response["Location"] == url("returns", school) + "?year=2026"
    assert flashed(response) == [
        "Census days for 2026/27 added: autumn (1 October 2026), spring (21 January 2027), "
        "summer (20 May 2027)."
    ]
    assert StatutoryReturn.objects.filter(organisation=school.organisation).count() == 3
    html = page_of(client.get(response["Location"]))
    assert "Autumn school census 2026/27" in html

    again = client.post(url("returns_census", school), {"academic_year": "2026"})
    assert flashed(again) == [
        "The census days for 2026/27 were already on the calendar: nothing was added."
    ]
    assert StatutoryReturn.objects.count() == 3


def test_adding_the_census_days_of_a_year_not_offered_is_refused_with_a_message(world, client_for):
    client = client_for(keeper(world.school))
    before = counts()
    for year, message in (
        ("2031", "Choose the current academic year, the next or the last (2025/26 to 2027/28)"),
        ("soon", "Choose the academic year whose census days to add."),
        ("", "Choose the academic year whose census days to add."),
    ):
        response = client.post(url("returns_census", world.school), {"academic_year": year})
        assert response.status_code == 302
        assert response["Location"] == url("returns", world.school)
        assert flashed(response) == [message], year
        client.get(response["Location"])  # the message is read
    assert counts() == before


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - KEEPERS))
def test_adding_the_census_days_is_for_keepers_only(world, client_for, role):
    response = client_for(world.school[role]).post(
        url("returns_census", world.school), {"academic_year": "2026"}
    )
    assert response.status_code == 403
    assert StatutoryReturn.objects.count() == 0


def test_the_census_page_takes_only_a_post(world, client_for):
    client = client_for(keeper(world.school))
    assert client.get(url("returns_census", world.school)).status_code == 405
    assert (
        client_for(keeper(world.other))
        .post(url("returns_census", world.school), {"academic_year": "2026"})
        .status_code
        == 404
    )


# --- Adding another return ----------------------------------------------------------------


def return_form(**overrides: Any) -> dict[str, str]:
    data = {
        "title": "School workforce census 2026",
        "due_on": "9/12/2026",
        "recipient": "Department for Education",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_adding_a_return(world, client_for):
    school = world.school
    response = client_for(school["headteacher"]).post(url("return_new", school), return_form())
    added = StatutoryReturn.objects.get()
    assert response.status_code == 302
    assert response["Location"] == return_page("return_detail", added)
    assert flashed(response) == ["School workforce census 2026 added, due 9 December 2026."]
    assert (added.due_on, added.created_by) == (D(2026, 12, 9), school["headteacher"])


def test_adding_a_return_with_bad_answers_shows_each_error_beside_its_field(world, client_for):
    client = client_for(keeper(world.school))
    before = counts()
    response = client.post(
        url("return_new", world.school), return_form(title="", due_on="31/2/2026", recipient="")
    )
    assert response.status_code == 200
    html = page_of(response)
    assert error_beside(html, "due_on") == (
        "Error: Enter the date it is due as a real date, like 27/3/2015"
    )
    assert counts() == before
    # With the date put right, the service's own checks show beside their fields.
    response = client.post(url("return_new", world.school), return_form(title="", recipient=""))
    html = page_of(response)
    assert error_beside(html, "title").startswith("Error: Enter the name of the return")
    assert error_beside(html, "recipient").startswith("Error: Enter who the return goes to")
    assert "There is a problem" in html
    assert counts() == before


# --- One return -----------------------------------------------------------------------------


def test_the_return_page_shows_the_return_and_a_keepers_buttons(world, client_for):
    school = world.school
    spring = census(school)["spring_census"]
    html = page_of(client_for(keeper(school)).get(return_page("return_detail", spring)))
    assert element_text(html, "state") == "Upcoming"
    assert element_text(html, "return-actions") == "Mark as submitted Change Withdraw"
    assert summary(html, "return") == {
        "Kind": "Spring school census",
        "Academic year": "2026/27",
        "Census day": "21 January 2027",
        "Due": "21 January 2027",
        "Goes to": "Department for Education",
        "Added": "30 November 2026, by Information manager of Alder Primary School",
    }
    for role in VIEWERS - KEEPERS:
        html = page_of(client_for(school[role]).get(return_page("return_detail", spring)))
        assert element_text(html, "return-actions") is None, role


def test_a_submitted_return_shows_when_and_by_whom_and_no_buttons(world, client_for):
    school = world.school
    autumn = census(school)["autumn_census"]
    services.mark_return_submitted(
        autumn, actor=keeper(school), submitted_on=D(2026, 10, 8), reference="COLLECT-9"
    )
    html = page_of(client_for(keeper(school)).get(return_page("return_detail", autumn)))
    assert element_text(html, "return-actions") is None
    assert summary(html, "submission") == {
        "Submitted on": "8 October 2026 (after it was due)",
        "Submitted by": "Information manager of Alder Primary School",
        "Reference": "COLLECT-9",
    }


def test_marking_a_return_submitted_through_the_page(world, client_for):
    school = world.school
    autumn = census(school)["autumn_census"]
    client = client_for(keeper(school))
    form_page = page_of(client.get(return_page("return_submitted", autumn)))
    assert 'value="30/11/2026"' in form_page  # today, to start with
    response = client.post(
        return_page("return_submitted", autumn),
        {"submitted_on": "1/12/2026", "submission_reference": ""},
    )
    assert error_beside(page_of(response), "submitted_on") == (
        "Error: The date it was submitted cannot be in the future"
    )
    assert state_of(autumn)["status"] == ReturnStatus.OPEN
    response = client.post(
        return_page("return_submitted", autumn),
        {"submitted_on": "2/10/2026", "submission_reference": "COLLECT-4"},
    )
    assert response["Location"] == return_page("return_detail", autumn)
    assert flashed(response) == [
        "Autumn school census 2026/27 is marked as submitted on 2 October 2026."
    ]
    rows = table_rows(page_of(client.get(url("returns", school))))
    assert rows[0].endswith(
        "Submitted On 2 October 2026 by Information manager of Alder Primary School "
        "Department for Education"
    )


def test_correcting_a_census_through_the_page(world, client_for):
    school = world.school
    spring = census(school)["spring_census"]
    client = client_for(school["headteacher"])
    html = page_of(client.get(return_page("return_edit", spring)))
    assert 'name="census_day"' in html
    assert 'value="21/01/2027"' in html
    data = {
        "title": spring.title,
        "census_day": "28/1/2027",
        "due_on": "27/1/2027",
        "recipient": "Department for Education",
        "notes": "",
    }
    response = client.post(return_page("return_edit", spring), data)
    assert error_beside(page_of(response), "due_on") == (
        "Error: The return cannot be due before its census day"
    )
    response = client.post(return_page("return_edit", spring), {**data, "due_on": "28/1/2027"})
    assert response["Location"] == return_page("return_detail", spring)
    spring.refresh_from_db()
    assert (spring.census_day, spring.due_on) == (D(2027, 1, 28), D(2027, 1, 28))


def test_another_returns_form_has_no_census_day(world, client_for):
    added = other_return(world.school)
    html = page_of(client_for(keeper(world.school)).get(return_page("return_edit", added)))
    assert 'name="census_day"' not in html


def test_withdrawing_a_return_through_the_page(world, client_for):
    added = other_return(world.school)
    client = client_for(keeper(world.school))
    response = client.post(return_page("return_withdraw", added), {"reason": ""})
    assert error_beside(page_of(response), "reason") == "Error: Say why the return is not needed"
    assert state_of(added)["status"] == ReturnStatus.OPEN
    response = client.post(return_page("return_withdraw", added), {"reason": "Added twice."})
    assert flashed(response) == ["School workforce census 2026 is withdrawn."]
    html = page_of(client.get(return_page("return_detail", added)))
    assert summary(html, "withdrawal")["Why"] == "Added twice."


@pytest.mark.parametrize("name", ["return_edit", "return_submitted", "return_withdraw"])
def test_a_step_on_a_closed_return_goes_back_to_it_with_a_message(world, client_for, name):
    added = close(other_return(world.school), "submit", keeper(world.school))
    before = state_of(added)
    for response in (
        client_for(keeper(world.school)).get(return_page(name, added)),
        client_for(keeper(world.school)).post(
            return_page(name, added), {"reason": "x", "submitted_on": "1/11/2026"}
        ),
    ):
        assert response.status_code == 302
        assert response["Location"] == return_page("return_detail", added)
        assert flashed(response) == [
            "That cannot be done now: School workforce census 2026 is \u201csubmitted\u201d."
        ]
    assert state_of(added) == before
    assert not AuditEvent.objects.filter(verb="statutory_return.withdrawn").exists()


def test_the_calendar_links_each_return_to_its_page(world, client_for):
    added = other_return(world.school)
    html = page_of(client_for(world.school["dpo"]).get(url("returns", world.school)))
    links = links_inside(html, "table", "id", "returns")
    assert [(link["text"], link["href"]) for link in links] == [
        ("School workforce census 2026", return_page("return_detail", added))
    ]


def test_the_calendar_shows_the_subnavigation(world, client_for):
    html = page_of(client_for(world.school["dpo"]).get(url("returns", world.school)))
    links = links_inside(html, "nav", "aria-label", "Statutory sharing")
    assert links is not None
    current = [link for link in links if link["attrs"].get("aria-current") == "page"]
    assert [link["text"] for link in current] == ["Returns calendar"]


def test_today_is_the_fixed_clock():
    """The pages' states above are worked out for this day."""
    from django.utils import timezone

    assert timezone.localdate() == TODAY
