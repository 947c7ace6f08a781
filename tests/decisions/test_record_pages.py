"""The pages for recording, reading, correcting and reviewing a decision, as people use them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.decisions import services
from infoshare.decisions.models import Decision, DisclosureReview
from tests.core.support import last_event
from tests.decisions.drafts import (
    form_data,
    pupil,
    refusal,
    safeguarding_share,
    share,
    tomorrow,
)

pytestmark = pytest.mark.django_db


def url(name: str, school, **kwargs) -> str:
    return reverse(f"decisions:{name}", kwargs={"org": school.slug, **kwargs})


def recorded(world, role: str = "staff", maker=share):
    actor = world.school[role]
    child = pupil(world.school.organisation)
    return services.record_decision(
        world.school.organisation, actor=actor, draft=maker(actor, [child])
    )


def error_beside(html: str, field: str) -> str:
    """The error message shown beside `field` (GOV.UK: <p id="id_<field>_error">)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


# --- Recording -------------------------------------------------------------------------------


RECORDERS = [role.value for role in Role if role != Role.AUDITOR]


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_the_record_page_is_for_every_member_but_an_auditor(world, client_for, role):
    response = client_for(world.school[role]).get(url("record", world.school))
    assert response.status_code == (403 if role == "auditor" else 200)


def test_another_schools_record_page_is_404(world, client_for):
    response = client_for(world.other["staff"]).get(url("record", world.school))
    assert response.status_code == 404


def test_staff_record_a_share_and_see_it(world, client_for):
    staff = world.school["staff"]
    child = pupil(world.school.organisation, "Bea", "Example")
    client = client_for(staff)
    response = client.post(url("record", world.school), form_data(share(staff, [child])))
    decision = Decision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == decision.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert decision.reference in page
    assert "Bea Example" in page
    assert "Attendance for the autumn term" in page
    assert last_event("decision.recorded").actor == staff


def test_a_refusal_is_recorded_from_the_form(world, client_for):
    staff = world.school["staff"]
    child = pupil(world.school.organisation)
    response = client_for(staff).post(
        url("record", world.school), form_data(refusal(staff, [child]))
    )
    assert response.status_code == 302
    assert Decision.objects.get().outcome == "not_shared"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"conditions": []}, "conditions", "Choose the Article 9 condition"),
        ({"checks": []}, "checks", "Confirm each of the seven tests"),
        ({"consent_explanation": ""}, "consent_explanation", "Explain why consent was not sought"),
        ({"decided_on": "FUTURE"}, "decided_on", "must be today or in the past"),
        ({"decided_on": "31/02/2026"}, "decided_on", "Enter the date of the decision as"),
        ({"reasons": ""}, "reasons", "Enter the reasons for your decision"),
        ({"categories": []}, "categories", "Choose at least one category"),
    ],
)
def test_bad_answers_are_shown_beside_the_field_and_nothing_is_saved(
    world, client_for, overrides, field, message
):
    dsl = world.school["dsl"]
    child = pupil(world.school.organisation, "Cal", "Keepme")
    if overrides.get("decided_on") == "FUTURE":
        overrides = {"decided_on": tomorrow().strftime("%d/%m/%Y")}
    data = form_data(safeguarding_share(dsl, [child]), **overrides)
    data = {key: value for key, value in data.items() if value not in ("", [])}
    client = client_for(dsl)
    before = AuditEvent.objects.count()
    response = client.post(url("record", world.school), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in error_beside(html, field)
    assert "There is a problem" in html
    assert Decision.objects.count() == 0
    assert AuditEvent.objects.count() == before
    # Nothing typed is lost: the answers come back, the person stays ticked.
    assert "Concerns raised by the class teacher" in html
    assert f'value="{child.uuid}" checked' in html


def test_finding_people_keeps_every_answer_and_shows_no_errors(world, client_for):
    staff = world.school["staff"]
    ticked = pupil(world.school.organisation, "Dee", "Ticked")
    wanted = pupil(world.school.organisation, "Eve", "Findable")
    data = form_data(share(staff, [ticked]), action="find-people", person_search="findable")
    response = client_for(staff).post(url("record", world.school), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" not in html
    assert f'value="{ticked.uuid}" checked' in html
    assert f'value="{wanted.uuid}"' in html
    assert "Eve Findable" in html
    assert "Attendance for the autumn term" in html
    assert Decision.objects.count() == 0


def test_a_search_finding_nobody_says_so(world, client_for):
    staff = world.school["staff"]
    data = form_data(share(staff, []), action="find-people", person_search="Nobodyhere")
    html = client_for(staff).post(url("record", world.school), data).content.decode()
    assert "Nobody on the people list matches that" in html


def test_the_search_never_offers_another_schools_people(world, client_for):
    staff = world.school["staff"]
    pupil(world.other.organisation, "Fay", "Elsewhere")
    data = form_data(share(staff, []), action="find-people", person_search="Elsewhere")
    html = client_for(staff).post(url("record", world.school), data).content.decode()
    assert "Fay Elsewhere" not in html


def test_starting_from_a_persons_page_ticks_them(world, client_for):
    child = pupil(world.school.organisation, "Gus", "Starter")
    html = (
        client_for(world.school["staff"])
        .get(url("record", world.school), {"person": str(child.uuid)})
        .content.decode()
    )
    assert f'value="{child.uuid}" checked' in html
    other = pupil(world.other.organisation, "Hal", "Outsider")
    html = (
        client_for(world.school["staff"])
        .get(url("record", world.school), {"person": str(other.uuid)})
        .content.decode()
    )
    assert "Hal Outsider" not in html


def test_an_emergency_disclosure_says_the_dpo_will_review_it(world, client_for):
    dsl = world.school["dsl"]
    child = pupil(world.school.organisation)
    client = client_for(dsl)
    response = client.post(
        url("record", world.school), form_data(safeguarding_share(dsl, [child])), follow=True
    )
    assert "The DPO will review this disclosure" in response.content.decode()


# --- Reading ---------------------------------------------------------------------------------


# Who may open a decision recorded by staff (no special category) and one by the DSL (special).
ORDINARY_READERS = {"staff", "dpo", "headteacher", "chair", "information_manager", "auditor"}
SPECIAL_READERS = {"dsl", "dpo", "headteacher", "deputy_dsl"}


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_who_may_open_an_ordinary_decision(world, client_for, role):
    decision = recorded(world)
    response = client_for(world.school[role]).get(decision.get_absolute_url())
    assert response.status_code == (200 if role in ORDINARY_READERS else 404)


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_who_may_open_a_special_category_decision(world, client_for, role):
    decision = recorded(world, "dsl", safeguarding_share)
    response = client_for(world.school[role]).get(decision.get_absolute_url())
    assert response.status_code == (200 if role in SPECIAL_READERS else 404)


def test_the_maker_of_a_special_category_record_may_open_it(world, client_for):
    decision = recorded(world, "staff", safeguarding_share)
    response = client_for(world.school["staff"]).get(decision.get_absolute_url())
    assert response.status_code == 200


def test_another_schools_decision_is_404_even_for_its_dpo_role(world, client_for):
    decision = recorded(world)
    response = client_for(world.other["dpo"]).get(
        url("detail", world.other, reference=decision.reference)
    )
    assert response.status_code == 404
    response = client_for(world.other["dpo"]).get(decision.get_absolute_url())
    assert response.status_code == 404


def test_each_view_of_a_special_category_record_is_audited(world, client_for):
    decision = recorded(world, "dsl", safeguarding_share)
    client = client_for(world.school["headteacher"])
    client.get(decision.get_absolute_url())
    client.get(decision.get_absolute_url())
    views = AuditEvent.objects.filter(verb="decision.viewed", object_id=decision.reference)
    assert views.count() == 2
    assert {event.actor for event in views} == {world.school["headteacher"]}


def test_viewing_an_ordinary_record_is_not_audited(world, client_for):
    decision = recorded(world)
    client_for(world.school["dpo"]).get(decision.get_absolute_url())
    assert not AuditEvent.objects.filter(verb="decision.viewed").exists()


# --- Correcting ------------------------------------------------------------------------------


def test_correct_this_record_creates_a_linked_new_record(world, client_for):
    original = recorded(world)
    staff = world.school["staff"]
    client = client_for(staff)
    form_page = client.get(url("correct", world.school, reference=original.reference))
    assert "Attendance for the autumn term" in form_page.content.decode()  # prefilled
    data = form_data(
        share(staff, list(original.people.all()), information="Attendance, spring term"),
        correction_reason="I recorded the wrong term.",
    )
    response = client.post(url("correct", world.school, reference=original.reference), data)
    correction = Decision.objects.get(supersedes=original)
    assert response["Location"] == correction.get_absolute_url()
    new_page = client.get(correction.get_absolute_url()).content.decode()
    assert "This record corrects" in new_page
    assert original.reference in new_page
    old_page = client.get(original.get_absolute_url()).content.decode()
    assert "This record was corrected by" in old_page
    assert correction.reference in old_page
    assert "Correct this record" not in old_page


def test_a_correction_without_a_reason_is_refused_beside_it(world, client_for):
    original = recorded(world)
    staff = world.school["staff"]
    data = form_data(share(staff, list(original.people.all())))
    response = client_for(staff).post(
        url("correct", world.school, reference=original.reference), data
    )
    assert "Explain what was wrong" in error_beside(response.content.decode(), "correction_reason")
    assert Decision.objects.count() == 1


def test_correcting_a_corrected_record_sends_you_to_the_latest(world, client_for):
    original = recorded(world)
    staff = world.school["staff"]
    latest = services.correct_decision(
        original, actor=staff, draft=share(staff, list(original.people.all())), reason="x"
    )
    response = client_for(staff).get(url("correct", world.school, reference=original.reference))
    assert response.status_code == 302
    assert response["Location"] == latest.get_absolute_url()


@pytest.mark.parametrize(
    ("role", "status"),
    [("staff", 200), ("dpo", 200), ("headteacher", 200), ("chair", 403), ("volunteer", 404)],
)
def test_who_may_open_the_correction_page(world, client_for, role, status):
    original = recorded(world)
    response = client_for(world.school[role]).get(
        url("correct", world.school, reference=original.reference)
    )
    assert response.status_code == status


# --- Reviewing -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_only_the_dpo_has_the_review_queue(world, client_for, role):
    response = client_for(world.school[role]).get(url("review_queue", world.school))
    assert response.status_code == (200 if role == "dpo" else 403)


def test_the_dpo_reviews_an_emergency_disclosure_from_the_queue(world, client_for):
    decision = recorded(world, "dsl", safeguarding_share)
    dpo = world.school["dpo"]
    client = client_for(dpo)
    queue = client.get(url("review_queue", world.school)).content.decode()
    assert decision.reference in queue
    response = client.post(
        url("review", world.school, reference=decision.reference),
        {"justified": "yes", "agreement_needed": "no", "notes": "Proportionate."},
    )
    assert response.status_code == 302
    review = DisclosureReview.objects.get()
    assert (review.justified, review.agreement_needed, review.reviewed_by) == (True, False, dpo)
    queue = client.get(url("review_queue", world.school)).content.decode()
    assert f"Review {decision.reference}" not in queue
    assert "There are no disclosures waiting for your review." in queue
    page = client.get(decision.get_absolute_url()).content.decode()
    assert "DPO review" in page
    assert "Proportionate." in page


def test_a_review_without_answers_is_refused_beside_each_question(world, client_for):
    decision = recorded(world, "dsl", safeguarding_share)
    response = client_for(world.school["dpo"]).post(
        url("review", world.school, reference=decision.reference), {}
    )
    html = response.content.decode()
    assert "Choose whether the sharing was justified" in error_beside(html, "justified")
    assert "Choose whether an agreement is now needed" in error_beside(html, "agreement_needed")
    assert DisclosureReview.objects.count() == 0


def test_reviewing_a_share_under_an_agreement_is_refused_with_a_message(world, client_for):
    decision = recorded(world)
    response = client_for(world.school["dpo"]).post(
        url("review", world.school, reference=decision.reference),
        {"justified": "yes", "agreement_needed": "no"},
        follow=True,
    )
    assert "Only one-off and emergency disclosures" in response.content.decode()
    assert DisclosureReview.objects.count() == 0


def test_another_schools_dpo_cannot_review(world, client_for):
    decision = recorded(world, "dsl", safeguarding_share)
    response = client_for(world.other["dpo"]).post(
        url("review", world.school, reference=decision.reference),
        {"justified": "yes", "agreement_needed": "no"},
    )
    assert response.status_code == 404
    assert DisclosureReview.objects.count() == 0
