"""The oversight table (issue 7 item 6): schools one oversees, their overdue items by kind.

Most tests use a source of their own (`oversight_source`) in place of the
apps' sources, to choose each school's overdue items; one uses the real
sources, with an agreement whose review the clock has made overdue.
"""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from infoshare.core.models import Membership, Organisation, OrganisationKind, Role
from infoshare.reminders.rules import can_view_oversight, overseen_schools
from tests.agreements import drafts as agreement_drafts
from tests.conftest import add_membership, make_user
from tests.reminders import oversight_source

if TYPE_CHECKING:
    from django.http import HttpResponse

    from infoshare.core.models import User

URL = "/oversight/"
LONDON = ZoneInfo("Europe/London")
NOT_OVERSEERS = sorted(role.value for role in Role if role not in (Role.DPO, Role.AUDITOR))


@pytest.fixture
def fake_source(monkeypatch):
    """Every source replaced by the test's own; `set_overdue` says what is overdue."""
    monkeypatch.setattr("infoshare.reminders.items.SOURCES", (oversight_source.MODULE,))
    oversight_source.set_overdue({})
    yield oversight_source.set_overdue
    oversight_source.set_overdue({})


class _Table(HTMLParser):
    """The table's caption, headers (with their scope) and rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.caption = ""
        self.headers: list[tuple[str, str | None]] = []  # (text, scope)
        self.rows: list[list[str]] = []
        self._in: str | None = None
        self._scope: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        if tag in ("caption", "th", "td"):
            self._in, self._scope, self._text = tag, dict(attrs).get("scope"), ""

    def handle_endtag(self, tag: str) -> None:
        if tag != self._in:
            return
        text = " ".join(self._text.split())
        if tag == "caption":
            self.caption = text
        else:
            if tag == "th":
                self.headers.append((text, self._scope))
            self.rows[-1].append(text)
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data


def table(response: HttpResponse) -> _Table:
    parser = _Table()
    parser.feed(response.content.decode())
    return parser


def body_rows(response: HttpResponse) -> list[list[str]]:
    return table(response).rows[1:]


def school_names(response: HttpResponse) -> list[str]:
    return [row[0] for row in body_rows(response)]


def summary(response: HttpResponse) -> str:
    found = re.search(r'id="oversight-summary">([^<]*)<', response.content.decode())
    assert found
    return found.group(1).removesuffix(".")


def oversight(client_for, user: User) -> HttpResponse:
    response = client_for(user).get(URL)
    assert response.status_code == 200
    return response


# --- Who may see it, and which schools ----------------------------------------------------


def test_the_url(world):
    assert reverse("reminders:oversight") == URL


def test_a_trust_dpo_of_both_schools_sees_both(world, client_for, fake_source):
    response = oversight(client_for, world.trust_dpo)
    assert school_names(response) == ["Alder Primary School", "Birch Academy"]
    content = response.content.decode()
    assert f'href="{world.school.organisation.get_absolute_url()}"' in content
    assert f'href="{world.other.organisation.get_absolute_url()}"' in content


@pytest.mark.parametrize("role", ["dpo", "auditor"])
def test_a_schools_own_dpo_or_auditor_sees_that_school_only(world, client_for, fake_source, role):
    fake_source({"birch": {"fake.review": 2}})
    response = oversight(client_for, world.school[role])
    assert school_names(response) == ["Alder Primary School"]
    assert b"Birch" not in response.content
    assert b"Reviews overdue" not in response.content  # Birch's kinds are not Alder's columns
    assert summary(response) == "0 of 1 school has overdue items"


def test_an_auditor_of_several_schools_sees_each(world, client_for, fake_source):
    auditor = make_user("auditor@eastmoor.test", "Ade Council-Auditor")
    for school in (world.school, world.other):
        add_membership(auditor, school.organisation, Role.AUDITOR, acting_for=world.local_authority)
    assert school_names(oversight(client_for, auditor)) == ["Alder Primary School", "Birch Academy"]


@pytest.mark.parametrize("role", NOT_OVERSEERS)
def test_anyone_else_is_refused(world, client_for, role):
    assert client_for(world.school[role]).get(URL).status_code == 403
    assert not can_view_oversight(world.school[role])


def test_a_person_with_no_membership_is_refused(world, client_for):
    assert client_for(make_user("nobody@example.test", "No One")).get(URL).status_code == 403


def test_anonymous_people_are_sent_to_sign_in(world):
    response = Client().get(URL)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse(settings.LOGIN_URL)


def test_a_school_where_one_holds_another_role_is_never_shown(world, client_for, fake_source):
    fake_source({"alder": {"fake.review": 1}, "birch": {"fake.notify": 4}})
    dpo = world.school["dpo"]
    add_membership(dpo, world.other.organisation, Role.HEADTEACHER, Role.STAFF)
    response = oversight(client_for, dpo)
    assert school_names(response) == ["Alder Primary School"]
    assert b"Birch" not in response.content
    assert b"Notifications overdue" not in response.content


def test_an_ended_membership_no_longer_counts(world, client_for, fake_source):
    Membership.objects.filter(user=world.trust_dpo, organisation=world.other.organisation).update(
        ended_at=timezone.now()
    )
    assert school_names(oversight(client_for, world.trust_dpo)) == ["Alder Primary School"]
    Membership.objects.filter(user=world.trust_dpo).update(ended_at=timezone.now())
    assert client_for(world.trust_dpo).get(URL).status_code == 403


def test_a_dpo_of_the_trust_itself_oversees_no_school_through_it(world, client_for):
    trust_officer = make_user("officer@northbridge.test", "Trust Officer")
    add_membership(trust_officer, world.trust, Role.DPO)
    assert list(overseen_schools(trust_officer)) == []
    assert client_for(trust_officer).get(URL).status_code == 403


# --- What it shows ---------------------------------------------------------------------


def test_counts_by_kind_with_a_total_and_a_summary(world, client_for, fake_source):
    fake_source(
        {
            "alder": {"fake.review": 2, "fake.notify": 1},
            "birch": {"fake.return": 3},
        }
    )
    response = oversight(client_for, world.trust_dpo)
    parsed = table(response)
    assert parsed.rows[0] == [
        "School",
        "Notifications overdue",
        "Returns overdue",
        "Reviews overdue",
        "Total overdue",
    ]
    assert body_rows(response) == [
        ["Alder Primary School", "1", "0", "2", "3"],
        ["Birch Academy", "0", "3", "0", "3"],
    ]
    assert summary(response) == "2 of 2 schools have overdue items"


def test_most_overdue_first_then_by_name(world, client_for, fake_source):
    extra = Organisation.objects.create(
        name="Aspen Infant School",
        slug="aspen",
        kind=OrganisationKind.SCHOOL,
        urn="100003",
        parent=world.trust,
    )
    add_membership(world.trust_dpo, extra, Role.DPO, acting_for=world.trust)
    fake_source({"birch": {"fake.review": 1, "fake.notify": 1}, "aspen": {"fake.review": 1}})
    response = oversight(client_for, world.trust_dpo)
    assert school_names(response) == [
        "Birch Academy",
        "Aspen Infant School",
        "Alder Primary School",
    ]
    assert body_rows(response)[2] == ["Alder Primary School", "Nothing overdue"]
    assert summary(response) == "2 of 3 schools have overdue items"

    fake_source({"alder": {"fake.review": 1}, "aspen": {"fake.review": 1}})
    response = oversight(client_for, world.trust_dpo)
    assert school_names(response) == [
        "Alder Primary School",
        "Aspen Infant School",
        "Birch Academy",
    ]
    assert summary(response) == "2 of 3 schools have overdue items"


def test_one_school_overdue_reads_in_the_singular(world, client_for, fake_source):
    fake_source({"birch": {"fake.review": 1}})
    assert summary(oversight(client_for, world.trust_dpo)) == "1 of 2 schools has overdue items"


def test_nothing_overdue_anywhere(world, client_for, fake_source):
    response = oversight(client_for, world.trust_dpo)
    assert table(response).rows[0] == ["School", "Total overdue"]
    assert body_rows(response) == [
        ["Alder Primary School", "Nothing overdue"],
        ["Birch Academy", "Nothing overdue"],
    ]
    assert summary(response) == "0 of 2 schools have overdue items"


def test_the_table_has_a_caption_and_scoped_headers(world, client_for, fake_source):
    fake_source({"alder": {"fake.review": 1}})
    response = oversight(client_for, world.trust_dpo)
    parsed = table(response)
    assert parsed.caption == "Overdue items by school"
    assert parsed.headers == [
        ("School", "col"),
        ("Reviews overdue", "col"),
        ("Total overdue", "col"),
        ("Alder Primary School", "row"),
        ("Birch Academy", "row"),
    ]
    content = response.content.decode()
    assert "<style" not in content
    assert "<script>" not in content
    assert " style=" not in content
    assert content.count("<h1") == 1


def test_titles_of_items_never_appear(world, client_for, fake_source):
    """Only counts: an item's title is for the person who must act, on the school's pages."""
    fake_source({"alder": {"fake.review": 2}})
    assert b"Reviews overdue 1" not in oversight(client_for, world.trust_dpo).content


# --- Queries: a bounded number per school ---------------------------------------------


def add_schools(world, count: int) -> None:
    for number in range(count):
        school = Organisation.objects.create(
            name=f"Extra School {number}",
            slug=f"extra-{number}",
            kind=OrganisationKind.SCHOOL,
            urn=f"2000{number:02d}",
            parent=world.trust,
        )
        add_membership(world.trust_dpo, school, Role.DPO, acting_for=world.trust)


def queries_for_page(client: Client, expected_rows: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    assert len(body_rows(response)) == expected_rows
    return len(captured)


def test_the_page_itself_costs_no_query_per_school(world, client_for, fake_source):
    client = client_for(world.trust_dpo)
    client.get(URL)  # warm the session and anything cached once
    with_two = queries_for_page(client, 2)
    add_schools(world, 3)
    assert queries_for_page(client, 5) == with_two


# The real sources' queries for one school: one each for the sources with deadlines
# (agreement reviews, roll changes, returns, the policy review); the others have
# no deadlines, so nothing overdue and no query. A new source with deadlines adds
# its own count here.
REAL_QUERIES_PER_SCHOOL = 4


def test_with_the_real_sources_a_fixed_number_of_queries_per_school(world, client_for):
    client = client_for(world.trust_dpo)
    client.get(URL)
    with_two = queries_for_page(client, 2)
    add_schools(world, 3)
    with_five = queries_for_page(client, 5)
    assert with_five - with_two == 3 * REAL_QUERIES_PER_SCHOOL, (with_two, with_five)


# --- With the real sources --------------------------------------------------------------


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


def test_an_agreement_whose_review_is_overdue_is_counted(world, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    school = world.school
    with time_machine.travel(at_noon(datetime.date(2025, 3, 10)), tick=False):
        for _ in range(2):
            agreement_drafts.approved(
                school.organisation,
                school["staff"],
                school["dpo"],
                school["headteacher"],
                world.local_authority,
            )
    # Signed in on each day: a session does not outlive a jump of the clock.
    with time_machine.travel(at_noon(datetime.date(2026, 3, 10)), tick=False):
        client = client_for(world.trust_dpo)
        with CaptureQueriesContext(connection) as before:
            response = client.get(URL)
        assert body_rows(response) == [
            ["Alder Primary School", "Nothing overdue"],
            ["Birch Academy", "Nothing overdue"],
        ]
    with time_machine.travel(at_noon(datetime.date(2026, 3, 11)), tick=False):
        client = client_for(world.trust_dpo)
        with CaptureQueriesContext(connection) as after:
            response = client.get(URL)
        assert response.status_code == 200
        assert table(response).rows[0] == ["School", "Agreement reviews due", "Total overdue"]
        assert body_rows(response) == [
            ["Alder Primary School", "2", "2"],
            ["Birch Academy", "Nothing overdue"],
        ]
        assert summary(response) == "1 of 2 schools has overdue items"
        assert "11 March 2026" in response.content.decode()
        other = oversight(client_for, world.other["dpo"])
        assert body_rows(other) == [["Birch Academy", "Nothing overdue"]]
    # Overdue items cost no query of their own.
    assert len(after) == len(before)


# --- The way in ---------------------------------------------------------------------------


def test_the_organisation_chooser_links_to_it_for_those_who_may_see_it(world, client_for):
    link = f'href="{URL}"'.encode()
    assert link in client_for(world.trust_dpo).get(reverse("core:organisations")).content
    assert link in client_for(world.school["auditor"]).get(reverse("core:organisations")).content
    for role in ("headteacher", "staff"):
        page = client_for(world.school[role]).get(reverse("core:organisations"))
        assert page.status_code == 200
        assert link not in page.content
