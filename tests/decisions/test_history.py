"""A person's disclosure history /o/<org>/people/<uuid>/history/: who sees what, and its audit."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.decisions.models import Arrangement, Consent, Method, Outcome
from tests.core.support import assert_chain_intact, changes_of, last_event
from tests.decisions.factories import correct_decision, make_decision, make_person, review
from tests.decisions.test_list import SEES

SPECIAL = {"dsl_special", "staff_special"}


def history_url(person, slug: str = "alder", **query: str) -> str:
    url = reverse("decisions:person_history", kwargs={"org": slug, "person": person.uuid})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def text(response) -> str:
    return response.content.decode()


def entries(response) -> list[str]:
    """The references of the decisions shown, in order."""
    return re.findall(r'<div class="govuk-summary-card" id="decision-([^"]+)">', text(response))


def entry_text(response, reference: str) -> str:
    """The text of one decision's card, tags removed."""
    card = re.search(
        rf'<div class="govuk-summary-card" id="decision-{re.escape(reference)}">(.*?)</dl>',
        text(response),
        re.S,
    )
    assert card is not None, f"no card for {reference}"
    return " ".join(re.sub(r"<[^>]+>", " ", card.group(1)).split())


def viewed_events():
    return AuditEvent.objects.filter(verb="person.history_viewed")


@pytest.fixture
def ada(world):
    return make_person(world.school.organisation, "Ada", "Lovelace")


@pytest.fixture
def log(world, ada):
    """The same four decisions about Ada as the list's tests (see SEES), and one about
    someone else."""
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
    made["someone_else"] = make_decision(
        school, world.school["staff"], people=[make_person(school, "Grace", "Hopper")]
    )
    return made


# --- Who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_the_decisions_about_the_person_their_role_allows(
    world, client_for, log, ada, role
):
    response = client_for(world.school[role]).get(history_url(ada))
    assert response.status_code == 200
    assert set(entries(response)) == {log[name].reference for name in SEES[role]}
    assert log["someone_else"].reference not in text(response)


@pytest.mark.parametrize("role", list(Role))
def test_seeing_special_category_decisions_is_recorded_without_the_name(
    world, client_for, log, ada, role
):
    before = viewed_events().count()
    client_for(world.school[role]).get(history_url(ada))
    special_seen = sorted(log[name].reference for name in SEES[role] & SPECIAL)
    if not special_seen:
        assert viewed_events().count() == before
        return
    event = last_event("person.history_viewed")
    assert event.actor == world.school[role]
    assert event.organisation == world.school.organisation
    assert event.object_type == "core.person"
    assert event.object_id == str(ada.uuid)
    assert event.object_label == f"Person {ada.uuid}"
    assert sorted(changes_of(event)["decisions"]) == special_seen
    assert "Lovelace" not in event.changes + event.object_label
    assert_chain_intact(world.school.organisation)


def test_the_chair_sees_no_special_category_decision_and_leaves_no_view_event(
    world, client_for, log, ada
):
    response = client_for(world.school["chair"]).get(history_url(ada))
    assert not SPECIAL & {name for name in log if log[name].reference in entries(response)}
    assert "Special category" not in text(response)
    assert not viewed_events().exists()


def test_a_person_of_another_school_is_not_found(world, client_for):
    stranger = make_person(world.other.organisation, "Bea", "Birch")
    make_decision(world.other.organisation, world.other["staff"], people=[stranger])
    for role in (Role.DPO, Role.HEADTEACHER, Role.STAFF):
        client = client_for(world.school[role])
        assert client.get(history_url(stranger)).status_code == 404
        assert client.get(history_url(stranger, format="pdf")).status_code == 404
    # Even for the DPO of both schools, through the wrong school's address.
    assert client_for(world.trust_dpo).get(history_url(stranger)).status_code == 404
    assert client_for(world.trust_dpo).get(history_url(stranger, "birch")).status_code == 200


def test_an_unknown_person_is_not_found(world, client_for):
    client = client_for(world.school["dpo"])
    nobody = make_person(world.school.organisation, "No", "Body")
    nobody.uuid = uuid.uuid4()  # never saved: no such person
    assert client.get(history_url(nobody)).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_another_schools_members_get_not_found(world, client_for, ada, role):
    assert client_for(world.other[role]).get(history_url(ada)).status_code == 404


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(world, ada):
    response = Client().get(history_url(ada))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- What it shows -----------------------------------------------------------------------


def test_every_decision_newest_first_shared_or_not_corrected_ones_marked(world, client_for, ada):
    school, dpo = world.school.organisation, world.school["dpo"]
    oldest = make_decision(school, dpo, people=[ada], decided_on=date(2025, 9, 1))
    refused = make_decision(
        school,
        dpo,
        people=[ada],
        outcome=Outcome.NOT_SHARED,
        lawful_basis=None,
        arrangement="",
        decided_on=date(2026, 2, 1),
    )
    wrong = make_decision(school, dpo, people=[ada], decided_on=date(2026, 3, 1))
    correction = correct_decision(wrong, decided_on=date(2026, 3, 2))
    response = client_for(dpo).get(history_url(ada))
    assert entries(response) == [
        correction.reference,
        wrong.reference,
        refused.reference,
        oldest.reference,
    ]
    content = text(response)
    assert f"Corrected by {correction.reference}" in content
    assert f"Corrects {wrong.reference}" in entry_text(response, correction.reference)
    assert "Not shared" in entry_text(response, refused.reference)
    assert "4 decisions about Ada Lovelace, 3 of them to share information" in content


def test_each_decision_shows_what_why_with_whom_and_on_what_basis(world, client_for, ada):
    decision = make_decision(
        world.school.organisation,
        world.school["dsl"],
        people=[ada, make_person(world.school.organisation, "Grace", "Hopper")],
        categories=("safeguarding", "attendance"),
        purpose="safety-and-protection",
        lawful_basis="public-task",
        conditions=("sch1-18-safeguarding",),
        information="Chronology of concerns",
        recipient_person="Duty social worker",
        recipient_organisation_name="Eastmoor children's social care",
        consent=Consent.NOT_SOUGHT_UNSAFE,
        consent_explanation="Asking could put the child at risk.",
        method=Method.ENCRYPTED_EMAIL,
        reasons="Risk of significant harm.",
        decided_on=date(2026, 10, 5),
        arrangement=Arrangement.EMERGENCY,
    )
    response = client_for(world.school["dpo"]).get(history_url(ada))
    card = entry_text(response, decision.reference)
    for expected in (
        f"{decision.reference} , 5 October 2026",
        "Shared Special category Awaiting DPO review",
        "What information Chronology of concerns",
        "Categories Attendance, Safeguarding and social care",
        "Recipient Duty social worker, Eastmoor children's social care",
        "Purpose Ensure the safety of pupils and protect children from harm",
        "Decision Shared",
        "Lawful basis 6(1)(e): Public task",
        "Special category conditions Sch. 1 para 18: Safeguarding of children",
        "Consent Not sought: it would be unsafe or inappropriate",
        "About consent Asking could put the child at risk.",
        "How it was shared Encrypted email",
        "Reasons Risk of significant harm.",
        "Decided by Designated safeguarding lead of Alder Primary School",
    ):
        assert expected in card.replace("&#x27;", "'"), expected
    detail = reverse("decisions:detail", kwargs={"org": "alder", "reference": decision.reference})
    assert f'href="{detail}"' in text(response)
    # The history may be given to Ada: other people named in the same decision are left out.
    assert "Hopper" not in text(response)


def test_a_reviewed_disclosure_no_longer_awaits_review(world, client_for, ada):
    decision = make_decision(
        world.school.organisation, world.school["staff"], people=[ada], arrangement="one_off"
    )
    review(decision, world.school["dpo"])
    card = entry_text(client_for(world.school["dpo"]).get(history_url(ada)), decision.reference)
    assert "Awaiting DPO review" not in card


def test_the_page_links_to_the_person_the_list_and_the_exports(world, client_for, log, ada):
    content = text(client_for(world.school["dpo"]).get(history_url(ada)))
    assert "<title>Disclosure history of Ada Lovelace" in content
    person_page = reverse("core:person", kwargs={"org": "alder", "person": ada.uuid})
    assert f'href="{person_page}" class="govuk-back-link"' in content
    decisions = reverse("decisions:list", kwargs={"org": "alder"})
    assert f'href="{decisions}?person={ada.uuid}"' in content
    assert 'href="?format=pdf"' in content
    assert 'href="?format=csv"' in content


def test_someone_who_sees_only_part_is_told_so(world, client_for, log, ada):
    assert "only the decisions your role lets you see" in text(
        client_for(world.school["staff"]).get(history_url(ada))
    )
    assert "only the decisions your role lets you see" not in text(
        client_for(world.school["dpo"]).get(history_url(ada))
    )


def test_a_person_with_no_decisions(world, client_for, ada):
    content = text(client_for(world.school["dpo"]).get(history_url(ada)))
    assert "There are no decisions about Ada Lovelace that you can see." in content
    assert "format=pdf" not in content


# --- Queries -----------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_decisions(
    world, client_for, ada, django_assert_max_num_queries
):
    school, dsl = world.school.organisation, world.school["dsl"]
    client = client_for(world.school["dpo"])

    def make(count: int, start: date) -> list:
        return [
            make_decision(
                school,
                dsl,
                people=[ada],
                categories=("health",) if n % 2 else ("education",),
                arrangement=Arrangement.ONE_OFF if n % 3 == 0 else Arrangement.AGREEMENT,
                decided_on=start + timedelta(days=n),
            )
            for n in range(count)
        ]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(history_url(ada)).status_code == 200
        return len(captured)

    few = make(3, date(2026, 1, 1))
    correct_decision(few[1])
    baseline = queries()
    more = make(40, date(2025, 1, 1))
    review(more[0], world.school["dpo"])
    correct_decision(more[4])
    assert queries() == baseline
    # Sign-in and second factor (6), the person, their decisions' ids, the decisions,
    # corrections, categories, conditions, the header's organisations, the session (3),
    # and the audit event's few writes.
    with django_assert_max_num_queries(22):
        client.get(history_url(ada))
