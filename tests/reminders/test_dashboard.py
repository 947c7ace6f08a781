"""The dashboard's "What needs doing": grouped by kind, overdue first, each item a link."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from infoshare.decisions import services as decision_services
from tests.agreements import drafts as agreement_drafts
from tests.decisions import drafts as decision_drafts
from tests.proposals import drafts as proposal_drafts
from tests.reminders.support import approved_on, at_noon
from tests.safeguarding.support import make_share

# The dashboard's queries for the DPO (15 with the seven sources of issue 7): the
# session, the user, their membership and roles, and at most two for each source
# that has something for them, whatever the number of items.
QUERY_BOUND = 15


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def dashboard_url(slug: str = "alder") -> str:
    return reverse("core:dashboard", kwargs={"org": slug})


def what_needs_doing(html: str) -> str:
    start = html.index('id="what-needs-doing"')
    return html[start : html.index("govuk-grid-column-one-third", start)]


def text_of(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def headings(section: str) -> list[str]:
    return [text_of(h) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", section, re.S)]


def entries(section: str) -> list[str]:
    return [text_of(li) for li in re.findall(r"<li>(.*?)</li>", section, re.S)]


def links(section: str) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="([^"]+)"', section)


def test_the_dpos_items_are_grouped_by_kind_overdue_first_with_their_dates(world, client_for):
    school = world.school
    later = approved_on(world, datetime.date(2025, 4, 1))  # review due 1 April 2026
    overdue = approved_on(world, datetime.date(2025, 3, 10))  # review due 10 March 2026
    with time_machine.travel(at_noon(datetime.date(2026, 3, 20)), tick=False):
        proposal = proposal_drafts.screened(
            school.organisation, school["staff"], world.local_authority
        )
        advice = agreement_drafts.advice_requested(
            school.organisation, school["staff"], world.local_authority
        )
        response = client_for(school["dpo"]).get(dashboard_url())
    assert response.status_code == 200
    section = what_needs_doing(response.content.decode())
    assert "4 things waiting for you, 1 of them overdue." in text_of(section)
    assert headings(section) == [
        "Agreement reviews due (2)",
        "Screenings awaiting your assessment (1)",
        "Agreements awaiting your advice (1)",
    ]
    assert entries(section) == [
        f"Overdue Review {overdue.reference}: {overdue.title} was due 10 March 2026",
        f"Review {later.reference}: {later.title} due 1 April 2026",
        f"Assess the screening of {proposal.reference}: {proposal.name}",
        f"Advise on {advice.reference}: {advice.title}",
    ]
    assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in section
    assert section.count("govuk-tag--red") == 1
    assert links(section) == [
        reverse("agreements:start_review", kwargs={"org": "alder", "reference": overdue.reference}),
        reverse("agreements:start_review", kwargs={"org": "alder", "reference": later.reference}),
        reverse("proposals:assess", kwargs={"org": "alder", "reference": proposal.reference}),
        reverse("agreements:advise", kwargs={"org": "alder", "reference": advice.reference}),
    ]


def test_each_link_opens_the_page_where_the_step_is_taken(world, client_for):
    school = world.school
    proposal_drafts.screened(school.organisation, school["staff"], world.local_authority)
    agreement_drafts.advice_requested(school.organisation, school["staff"], world.local_authority)
    decision_services.record_decision(
        school.organisation,
        actor=school["staff"],
        draft=decision_drafts.safeguarding_share(school["staff"], [], people_described="A child"),
    )
    client = client_for(school["dpo"])
    section = what_needs_doing(client.get(dashboard_url()).content.decode())
    assert len(links(section)) == 3
    for url in links(section):
        assert client.get(url).status_code == 200, url


def test_a_recipient_sees_the_record_to_acknowledge_and_no_child_named(world, client_for):
    share = make_share(world.school["dsl"], world.school["staff"])
    response = client_for(world.school["staff"]).get(dashboard_url())
    section = what_needs_doing(response.content.decode())
    assert headings(section) == ["Safeguarding information to acknowledge (1)"]
    assert entries(section) == [f"Safeguarding information to acknowledge: {share.reference}"]
    page = response.content.decode()
    assert share.pupil.family_name not in page
    assert share.description not in page


def test_nothing_waiting_shows_the_empty_state(world, client_for):
    proposal_drafts.screened(
        world.school.organisation, world.school["staff"], world.local_authority
    )
    response = client_for(world.school["staff"]).get(dashboard_url())
    section = what_needs_doing(response.content.decode())
    assert "Nothing is waiting for you." in text_of(section)
    assert headings(section) == []
    assert entries(section) == []


def test_another_schools_items_stay_on_its_own_dashboard(world, client_for):
    """The trust's DPO serves both schools: Alder's screening shows on Alder's dashboard only."""
    proposal_drafts.screened(
        world.school.organisation, world.school["staff"], world.local_authority
    )
    client = client_for(world.trust_dpo)
    alder = what_needs_doing(client.get(dashboard_url("alder")).content.decode())
    birch = what_needs_doing(client.get(dashboard_url("birch")).content.decode())
    assert headings(alder) == ["Screenings awaiting your assessment (1)"]
    assert headings(birch) == []
    assert (
        entries(
            what_needs_doing(
                client_for(world.other["dpo"]).get(dashboard_url("birch")).content.decode()
            )
        )
        == []
    )


def waiting_for_the_dpo(world, count: int) -> None:
    """`count` items of each of two kinds for the DPO, and some for others too."""
    school = world.school
    for _ in range(count):
        proposal_drafts.screened(school.organisation, school["staff"], world.local_authority)
        decision_services.record_decision(
            school.organisation,
            actor=school["staff"],
            draft=decision_drafts.safeguarding_share(school["staff"], [], people_described="A"),
        )


@pytest.mark.parametrize("count", [1, 10])
def test_the_dashboard_asks_the_same_number_of_queries_for_2_or_20_items(
    world, client_for, django_assert_max_num_queries, count
):
    waiting_for_the_dpo(world, count)
    agreement_drafts.advised(
        world.school.organisation, world.school["staff"], world.school["dpo"], world.local_authority
    )
    approved_on(world, datetime.date(2020, 1, 6))  # a review long overdue
    client = client_for(world.school["dpo"])
    with django_assert_max_num_queries(QUERY_BOUND):
        response = client.get(dashboard_url())
    assert len(entries(what_needs_doing(response.content.decode()))) == 2 * count + 1


@pytest.mark.parametrize(
    ("role", "offered"),
    [("dpo", True), ("auditor", True), ("headteacher", False), ("dsl", False), ("staff", False)],
)
def test_a_dpo_or_auditor_is_offered_the_oversight_table(world, client_for, role, offered):
    response = client_for(world.school[role]).get(
        reverse("core:dashboard", kwargs={"org": world.school.slug})
    )
    assert (reverse("reminders:oversight") in response.content.decode()) is offered
