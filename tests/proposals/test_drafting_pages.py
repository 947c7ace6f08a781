"""The drafting pages (steps 1 to 3, submitting, withdrawing) and the task list, as people use them.

Each step is taken through its page: the author changes the proposal (with its
audit event) and goes back to the task list; a role that may never take the
step gets 403; a step out of order goes back to the task list with a message
and changes nothing; another school's proposal does not exist (404); bad
answers come back beside their fields, with everything typed kept.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import DataCategory, Purpose, Role
from infoshare.proposals import services
from infoshare.proposals.forms.drafting import SCREENING_QUESTIONS
from infoshare.proposals.models import (
    Advice,
    Outcome,
    PiaRequirement,
    Proposal,
    Status,
)
from tests.core.support import changes_of, last_event, links_inside
from tests.proposals import drafts

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------


def url(name: str, proposal: Proposal) -> str:
    return reverse(
        f"proposals:{name}",
        kwargs={"org": proposal.organisation.slug, "reference": proposal.reference},
    )


def start_url(slug: str = "alder") -> str:
    return reverse("proposals:start", kwargs={"org": slug})


def text(response: Any) -> str:
    return response.content.decode()


def plain(html: str) -> str:
    """The page's text, tags removed and spaces collapsed, to find sentences in."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").split())


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def error_beside(html: str, field: str) -> str:
    """The error message shown beside `field` (GOV.UK: <p id="id_<field>_error">)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return plain(match.group(1)).replace("Error: ", "")


def step_one_data(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Reading intervention with the literacy charity",
        "purpose": Purpose.objects.get(code="other").pk,
        "purpose_described": "Give pupils who are behind in reading a weekly tutor.",
        "why_personal_data": "The tutors need each pupil's name and reading age.",
        "achievable_without": "no",
        "achievable_without_reasons": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def step_two_data(**changes: Any) -> dict[str, Any]:
    data = {
        "anonymisation": "pseudonymisation",
        "reasons": "Tutors meet the pupils in person, so they must know who they are.",
        "meets_goal": "no",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def screening_data(recipient: Any, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "information_shared": "Name, year group and latest reading age.",
        "categories": [DataCategory.objects.get(code="education").pk],
        "special_category": "no",
        "privacy_notice": "yes",
        "recipients": [recipient.pk],
        "new_systems": "no",
        "automated_decisions": "no",
        "profiling": "no",
        "combines_sources": "no",
        "action": "later",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def drafted(world: Any, role: str = "staff") -> Proposal:
    return drafts.drafted(world.school.organisation, world.school[role])


def screened(world: Any) -> Proposal:
    return drafts.screened(world.school.organisation, world.school["staff"], world.dfe)


def assessed(world: Any, requirement: str = PiaRequirement.NOT_REQUIRED, author: str = "staff"):
    school = world.school
    return drafts.assessed(
        school.organisation, school[author], school["dpo"], world.dfe, requirement
    )


def task_links(html: str) -> dict[str, str]:
    """The task list's links, by their text."""
    links: dict[str, str] = {}
    for number in (1, 2, 3):
        for link in links_inside(html, "ul", "id", f"tasks-{number}") or []:
            links[link["text"]] = link["href"]
    return links


def task_status(html: str, title: str) -> str:
    """The status shown beside a task, found by the task's title."""
    match = re.search(
        rf">\s*{re.escape(title)}\s*<.*?govuk-task-list__status[^>]*>(.*?)</div>", html, re.S
    )
    assert match, f"no task {title!r}"
    return plain(match.group(1))


def audit_count() -> int:
    return AuditEvent.objects.count()


# --- Starting a proposal: step 1 -------------------------------------------------------


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_member_but_an_auditor_may_start_a_proposal(world, client_for, role):
    response = client_for(world.school[role]).get(start_url())
    assert response.status_code == (403 if role == Role.AUDITOR else 200)


def test_another_schools_member_cannot_reach_the_start_page(world, client_for):
    assert client_for(world.other["staff"]).get(start_url()).status_code == 404


def test_the_start_page_asks_step_one_in_the_policys_words(world, client_for):
    html = text(client_for(world.school["staff"]).get(start_url()))
    assert SCREENING_QUESTIONS[1] in html
    assert "Could the goal be achieved without sharing personal data?" in html
    assert "closed as &#x27;sharing not needed&#x27; and your reasons are kept" in html
    # Only active purposes are offered.
    retired = Purpose.objects.exclude(code="other").first()
    assert retired is not None
    retired.is_active = False
    retired.save()
    html = text(client_for(world.school["staff"]).get(start_url()))
    assert f'value="{retired.pk}"' not in html


def test_starting_a_proposal_saves_step_one_and_goes_to_the_task_list(world, client_for):
    staff = world.school["staff"]
    response = client_for(staff).post(start_url(), step_one_data())
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert proposal.status == Status.DRAFT
    assert proposal.created_by == staff
    assert proposal.achievable_without is False
    assert proposal.reference.startswith("PROP-")
    assert any("started" in message for message in messages_of(response))
    event = last_event("proposal.created")
    assert event.actor == staff
    assert event.object_id == proposal.reference


def test_a_goal_reached_without_personal_data_closes_as_not_needed(world, client_for):
    client = client_for(world.school["staff"])
    data = step_one_data(
        achievable_without="yes",
        achievable_without_reasons="The charity can use class-level reading scores.",
    )
    response = client.post(start_url(), data, follow=True)
    proposal = Proposal.objects.get()
    assert proposal.status == Status.NOT_NEEDED
    page = plain(text(response))
    assert "is closed as not needed" in page
    assert "Your reasons are kept" in page
    # The task list says why it closed, with the reasons.
    assert "Sharing is not needed" in page
    assert "The charity can use class-level reading scores." in page
    assert "Not needed" in task_status(text(response), "Privacy impact screening questions")
    assert last_event("proposal.closed_not_needed").actor == world.school["staff"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name of the project or activity."),
        ({"purpose": None}, "purpose", "Choose the purpose of the sharing."),
        ({"purpose_described": ""}, "purpose_described", "Describe the purpose."),
        ({"why_personal_data": ""}, "why_personal_data", "Explain why personal data"),
        ({"achievable_without": None}, "achievable_without", "Choose yes if the goal could"),
        (
            {"achievable_without": "yes"},
            "achievable_without_reasons",
            "Explain how the goal can be achieved without sharing personal data.",
        ),
    ],
)
def test_bad_step_one_answers_are_shown_beside_the_field_and_nothing_is_saved(
    world, client_for, changes, field, message
):
    client = client_for(world.school["staff"])  # signing in is audited too
    before = audit_count()
    data = step_one_data(why_personal_data="Tutors need to know the pupils: KEEP ME")
    data.update({key: value for key, value in changes.items() if value is not None})
    for key in [key for key, value in changes.items() if value is None]:
        data.pop(key)
    response = client.post(start_url(), data)
    html = text(response)
    assert response.status_code == 200
    assert message in error_beside(html, field)
    assert "There is a problem" in html
    assert Proposal.objects.count() == 0
    assert audit_count() == before
    # Nothing typed is lost.
    if field != "why_personal_data":
        assert "KEEP ME" in html
    if field != "name":
        assert 'value="Reading intervention with the literacy charity"' in html


def test_changing_step_one_keeps_the_draft_and_is_audited(world, client_for):
    proposal = drafted(world)
    client = client_for(world.school["staff"])
    form = text(client.get(url("step_one", proposal)))
    assert 'value="Reading intervention with the literacy charity"' in form  # prefilled
    response = client.post(url("step_one", proposal), step_one_data(name="Reading tutors"))
    assert response["Location"] == proposal.get_absolute_url()
    proposal.refresh_from_db()
    assert proposal.name == "Reading tutors"
    assert proposal.status == Status.DRAFT
    assert last_event("proposal.step_one_answered").actor == world.school["staff"]


@pytest.mark.parametrize("name", ["step_one", "step_two", "screening", "submit_screening"])
@pytest.mark.parametrize("role", ["information_manager", "headteacher", "dpo", "auditor"])
def test_only_the_author_drafts(world, client_for, name, role):
    proposal = drafted(world)
    client = client_for(world.school[role])
    assert client.get(url(name, proposal)).status_code == 403
    assert client.post(url(name, proposal), {}).status_code == 403


@pytest.mark.parametrize(
    "name", ["detail", "step_one", "step_two", "screening", "submit_screening", "withdraw"]
)
def test_another_schools_proposal_is_not_found(world, client_for, name):
    theirs = drafts.drafted(world.other.organisation, world.other["staff"])
    # Asked for at this school's address, by this school's members: it does not exist here.
    address = url(name, theirs).replace("/birch/", "/alder/")
    assert client_for(world.school["headteacher"]).get(address).status_code == 404
    # And this school's people are not members there.
    assert client_for(world.school["staff"]).get(url(name, theirs)).status_code == 404


@pytest.mark.parametrize("name", ["step_one", "step_two", "screening", "submit_screening"])
def test_a_step_out_of_order_goes_back_to_the_task_list_with_a_message(world, client_for, name):
    proposal = screened(world)
    client = client_for(world.school["staff"])
    before = audit_count()
    response = client.post(url(name, proposal), step_one_data())
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert any("Awaiting DPO assessment" in message for message in messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == Status.SCREENING_SUBMITTED
    assert audit_count() == before


# --- Step 2 ----------------------------------------------------------------------------


def test_answering_step_two_keeps_the_draft(world, client_for):
    proposal = services.create_proposal(
        world.school.organisation, actor=world.school["staff"], answers=drafts.step_one()
    )
    client = client_for(world.school["staff"])
    assert "Full anonymisation" in text(client.get(url("step_two", proposal)))
    response = client.post(url("step_two", proposal), step_two_data())
    assert response["Location"] == proposal.get_absolute_url()
    proposal.refresh_from_db()
    assert proposal.anonymisation == "pseudonymisation"
    assert proposal.anonymisation_meets_goal is False
    assert proposal.status == Status.DRAFT
    assert any("Next, answer the privacy impact" in m for m in messages_of(response))
    event = last_event("proposal.step_two_answered")
    assert changes_of(event)["meets_goal"] is False


def test_anonymisation_meeting_the_goal_closes_the_proposal(world, client_for):
    proposal = drafted(world)
    client = client_for(world.school["staff"])
    html = text(client.get(url("step_two", proposal)))
    assert "If you answer yes, the proposal is closed" in html
    data = step_two_data(anonymisation="full", meets_goal="yes", reasons="Counts by class do.")
    response = client.post(url("step_two", proposal), data, follow=True)
    proposal.refresh_from_db()
    assert proposal.status == Status.NO_PERSONAL_DATA
    page = plain(text(response))
    assert "no personal data will be shared" in page
    assert "Counts by class do." in page
    assert last_event("proposal.closed_no_personal_data").actor == world.school["staff"]
    # Closed: nobody may change it any more, nor withdraw it.
    assert "Withdraw this proposal" not in page
    assert task_links(text(response)) == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"anonymisation": None}, "anonymisation", "Choose which kind of anonymisation"),
        ({"anonymisation": "invented"}, "anonymisation", "Choose which kind of anonymisation"),
        ({"reasons": ""}, "reasons", "Explain what was considered and why."),
        ({"meets_goal": None}, "meets_goal", "Choose yes if it meets the goal"),
        (
            {"anonymisation": "none_feasible", "meets_goal": "yes"},
            "meets_goal",
            "If no anonymisation is feasible, it cannot meet the goal",
        ),
    ],
)
def test_bad_step_two_answers_are_shown_beside_the_field(
    world, client_for, changes, field, message
):
    proposal = services.create_proposal(
        world.school.organisation, actor=world.school["staff"], answers=drafts.step_one()
    )
    client = client_for(world.school["staff"])  # signing in is audited too
    before = audit_count()
    data = step_two_data(reasons="We looked at pseudonyms: KEEP ME")
    data.update({key: value for key, value in changes.items() if value is not None})
    for key in [key for key, value in changes.items() if value is None]:
        data.pop(key)
    response = client.post(url("step_two", proposal), data)
    html = text(response)
    assert response.status_code == 200
    assert message in error_beside(html, field)
    proposal.refresh_from_db()
    assert proposal.anonymisation_meets_goal is None
    assert audit_count() == before
    if field != "reasons":
        assert "KEEP ME" in html


# --- Step 3: the screening -------------------------------------------------------------


def test_the_screening_waits_for_step_two(world, client_for):
    proposal = services.create_proposal(
        world.school.organisation, actor=world.school["staff"], answers=drafts.step_one()
    )
    response = client_for(world.school["staff"]).get(url("screening", proposal))
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert any("step 2" in message for message in messages_of(response))


def test_the_screening_page_asks_the_ten_questions_in_the_policys_words(world, client_for):
    proposal = drafted(world)
    html = plain(text(client_for(world.school["staff"]).get(url("screening", proposal))))
    for number, question in SCREENING_QUESTIONS.items():
        assert f"{number}. {question}" in html
    # Questions 1 and 2 come from step 1, shown with a link to change them there.
    assert "Reading intervention with the literacy charity" in html
    raw = text(client_for(world.school["staff"]).get(url("screening", proposal)))
    assert f'href="{url("step_one", proposal)}#id_name"' in raw
    # Special categories are marked; the school itself is not offered as a recipient.
    assert "Health, including medical conditions (special category)" in html
    assert "Department for Education" in html
    assert "Eastmoor Council (local authority)" in html
    assert f'name="recipients" value="{world.school.organisation.pk}"' not in raw
    assert f'name="recipients" value="{world.dfe.pk}"' in raw


def test_saving_part_of_the_screening_keeps_it_for_later(world, client_for):
    proposal = drafted(world)
    client = client_for(world.school["staff"])
    data = {
        "information_shared": "Names and reading ages.",
        "new_systems": "yes",
        "new_systems_details": "A new tutoring app.",
        "action": "later",
    }
    response = client.post(url("screening", proposal), data)
    assert response["Location"] == proposal.get_absolute_url()
    assert any("come back to them" in message for message in messages_of(response))
    proposal.refresh_from_db()
    assert proposal.information_shared == "Names and reading ages."
    assert proposal.new_systems is True
    assert proposal.special_category is None
    assert proposal.status == Status.DRAFT
    unanswered = changes_of(last_event("proposal.screening_answered"))["unanswered"]
    assert "special_category" in unanswered
    assert "new_systems" not in unanswered
    # The task list shows it in progress, and the form comes back as saved.
    task_page = text(client.get(proposal.get_absolute_url()))
    assert task_status(task_page, "Privacy impact screening questions") == "In progress"
    form = text(client.get(url("screening", proposal)))
    assert "A new tutoring app." in form
    assert re.search(r'name="new_systems" value="yes"[^>]*checked', form)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"special_category": "yes"}, "special_category_details", "Say which special category"),
        ({"profiling": "yes"}, "profiling_details", "Describe the profiling."),
        ({"combines_sources": "yes"}, "combines_sources_details", "Say which sources"),
        ({"privacy_notice": "sometimes"}, "privacy_notice", "Choose yes, partly or no."),
        ({"new_systems": "maybe"}, "new_systems", "Choose yes or no"),
    ],
)
def test_bad_screening_answers_are_shown_beside_the_field_and_nothing_is_saved(
    world, client_for, changes, field, message
):
    proposal = drafted(world)
    client = client_for(world.school["staff"])  # signing in is audited too
    before = audit_count()
    data = screening_data(world.dfe, information_shared="Reading ages: KEEP ME", **changes)
    response = client.post(url("screening", proposal), data)
    html = text(response)
    assert response.status_code == 200
    assert message in error_beside(html, field)
    proposal.refresh_from_db()
    assert proposal.information_shared == ""
    assert audit_count() == before
    assert "Reading ages: KEEP ME" in html
    assert re.search(rf'name="recipients" value="{world.dfe.pk}"[^>]*checked', html)


def test_a_special_category_in_question_3_needs_a_yes_to_question_4(world, client_for):
    proposal = drafted(world)
    health = DataCategory.objects.get(code="health")
    data = screening_data(world.dfe, categories=[health.pk], special_category="no")
    response = client_for(world.school["staff"]).post(url("screening", proposal), data)
    assert "answer yes to question 4" in error_beside(text(response), "special_category")


def test_the_school_itself_is_refused_as_a_recipient(world, client_for):
    proposal = drafted(world)
    data = screening_data(world.school.organisation)
    response = client_for(world.school["staff"]).post(url("screening", proposal), data)
    assert "Choose organisations from the list." in error_beside(text(response), "recipients")
    assert not proposal.recipients.exists()


def test_save_and_continue_goes_to_the_check_page_listing_what_is_missing(world, client_for):
    proposal = drafted(world)
    client = client_for(world.school["staff"])
    data = {"information_shared": "Names.", "action": "continue"}
    response = client.post(url("screening", proposal), data)
    assert response["Location"] == url("submit_screening", proposal)
    html = text(client.get(response["Location"]))
    gaps = plain(html)
    assert "Some questions are not answered yet" in gaps
    assert "Answer yes or no to question 4." in gaps
    assert "Choose who the information will be shared with (question 6)." in gaps
    assert "Send to the DPO" not in gaps
    assert f'href="{url("screening", proposal)}#id_special_category_0"' in html


def test_sending_a_screening_with_gaps_is_refused_with_the_gaps(world, client_for):
    proposal = drafted(world)
    client = client_for(world.school["staff"])  # signing in is audited too
    before = audit_count()
    response = client.post(url("submit_screening", proposal))
    assert response.status_code == 200
    assert "Say what information will be shared (question 3)." in plain(text(response))
    assert "There is a problem" in text(response)
    proposal.refresh_from_db()
    assert proposal.status == Status.DRAFT
    assert audit_count() == before


def test_the_whole_draft_from_start_to_the_dpo(
    world, client_for, django_capture_on_commit_callbacks
):
    staff = world.school["staff"]
    client = client_for(staff)
    client.post(start_url(), step_one_data())
    proposal = Proposal.objects.get()
    client.post(url("step_two", proposal), step_two_data())
    partial = {"information_shared": "Name and reading age.", "action": "later"}
    client.post(url("screening", proposal), partial)
    check = plain(text(client.get(url("submit_screening", proposal))))
    assert "Some questions are not answered yet" in check
    client.post(url("screening", proposal), screening_data(world.dfe, action="continue"))
    check_html = text(client.get(url("submit_screening", proposal)))
    check = plain(check_html)
    assert "Some questions are not answered yet" not in check
    assert "Send to the DPO" in check
    # Check your answers: every step, with links back to change each answer.
    assert "Pseudonymisation" in check
    assert "Department for Education" in check
    assert f'href="{url("step_two", proposal)}#id_reasons"' in check_html
    assert f'href="{url("screening", proposal)}#id_recipients_0"' in check_html
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("submit_screening", proposal), follow=True)
    proposal.refresh_from_db()
    assert proposal.status == Status.SCREENING_SUBMITTED
    assert proposal.screening_submitted_by == staff
    assert "Screening submitted. The DPO has been emailed to assess it." in plain(text(response))
    assert last_event("proposal.screening_submitted").actor == staff
    emailed = sorted(address for message in mail.outbox for address in message.to)
    assert emailed == sorted([world.school["dpo"].email, world.trust_dpo.email])
    verbs = list(
        AuditEvent.objects.filter(object_id=proposal.reference)
        .order_by("sequence")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "proposal.created",
        "proposal.step_two_answered",
        "proposal.screening_answered",
        "proposal.screening_answered",
        "proposal.screening_submitted",
    ]


# --- Withdrawing -----------------------------------------------------------------------


def test_the_author_withdraws_a_draft_with_a_reason(world, client_for):
    proposal = drafted(world)
    client = client_for(world.school["staff"])
    assert "Why are you withdrawing" in text(client.get(url("withdraw", proposal)))
    response = client.post(
        url("withdraw", proposal), {"reasons": "The charity closed."}, follow=True
    )
    proposal.refresh_from_db()
    assert proposal.status == Status.WITHDRAWN
    assert proposal.withdrawn_reasons == "The charity closed."
    page = plain(text(response))
    assert f"{proposal.reference} is withdrawn. It is kept, with your reason." in page
    assert "Withdrawn by Staff of Alder Primary School" in page
    assert "The charity closed." in page
    assert last_event("proposal.withdrawn").actor == world.school["staff"]


def test_the_chair_withdraws_a_submitted_proposal_and_people_are_told(
    world, client_for, django_capture_on_commit_callbacks
):
    proposal = screened(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.school["chair"]).post(
            url("withdraw", proposal), {"reasons": "The budget went."}
        )
    assert response["Location"] == proposal.get_absolute_url()
    proposal.refresh_from_db()
    assert proposal.status == Status.WITHDRAWN
    emailed = {address for message in mail.outbox for address in message.to}
    assert world.school["staff"].email in emailed


@pytest.mark.parametrize("role", ["information_manager", "dpo", "auditor"])
def test_others_may_not_withdraw(world, client_for, role):
    proposal = drafted(world)
    client = client_for(world.school[role])
    assert client.post(url("withdraw", proposal), {"reasons": "No."}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Status.DRAFT


def test_withdrawing_needs_a_reason(world, client_for):
    proposal = drafted(world)
    client = client_for(world.school["staff"])  # signing in is audited too
    before = audit_count()
    response = client.post(url("withdraw", proposal), {"reasons": " "})
    assert "Give the reason for withdrawing" in error_beside(text(response), "reasons")
    proposal.refresh_from_db()
    assert proposal.status == Status.DRAFT
    assert audit_count() == before


def test_a_closed_proposal_cannot_be_withdrawn(world, client_for):
    proposal = drafted(world)
    services.withdraw_proposal(proposal, actor=world.school["staff"], reasons="Stopped.")
    response = client_for(world.school["staff"]).post(url("withdraw", proposal), {"reasons": "x"})
    assert response["Location"] == proposal.get_absolute_url()
    assert any("cannot be taken now" in message for message in messages_of(response))


# --- The task list ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_member_sees_the_task_list(world, client_for, role):
    proposal = screened(world)
    response = client_for(world.school[role]).get(proposal.get_absolute_url())
    assert response.status_code == 200
    html = text(response)
    assert proposal.name in html
    assert "Awaiting DPO assessment" in html
    assert "Started by Staff of Alder Primary School on" in plain(html)
    assert url("report", proposal) in html


def test_the_author_sees_the_drafting_tasks_as_links(world, client_for):
    proposal = drafted(world)
    html = text(client_for(world.school["staff"]).get(proposal.get_absolute_url()))
    links = task_links(html)
    assert links == {
        "Deciding to share": url("step_one", proposal),
        "Anonymisation or pseudonymisation considered": url("step_two", proposal),
        "Privacy impact screening questions": url("screening", proposal),
    }
    assert task_status(html, "Deciding to share") == "Completed"
    assert task_status(html, "Privacy impact screening questions") == "Not yet started"
    assert task_status(html, "Check and send the screening to the DPO") == "Cannot start yet"
    assert task_status(html, "DPO assessment: is a full PIA needed?") == "Cannot start yet"
    assert "Withdraw this proposal" in html


def test_a_complete_screening_offers_to_send_it(world, client_for):
    proposal = drafted(world)
    services.answer_screening(
        proposal, actor=world.school["staff"], answers=drafts.screening(world.dfe)
    )
    html = text(client_for(world.school["staff"]).get(proposal.get_absolute_url()))
    assert task_links(html)["Check and send the screening to the DPO"] == url(
        "submit_screening", proposal
    )


def test_others_see_a_draft_without_links_and_who_acts(world, client_for):
    proposal = drafted(world)
    for role in ("dpo", "headteacher", "auditor"):
        html = text(client_for(world.school[role]).get(proposal.get_absolute_url()))
        assert task_links(html) == {}
        assert "Staff of Alder Primary School, who started it, answers this." in html
    html = text(client_for(world.school["headteacher"]).get(proposal.get_absolute_url()))
    assert "Withdraw this proposal" in html  # the headteacher may withdraw
    html = text(client_for(world.school["dpo"]).get(proposal.get_absolute_url()))
    assert "Withdraw this proposal" not in html


def test_a_submitted_screening_is_a_task_for_the_dpo(world, client_for):
    proposal = screened(world)  # with answers that point to nothing
    dpo_html = text(client_for(world.school["dpo"]).get(proposal.get_absolute_url()))
    assert task_links(dpo_html) == {
        "DPO assessment: is a full PIA needed?": url("assess", proposal)
    }
    assert "Nothing in the answers points to a full privacy impact assessment." in dpo_html
    for role in ("staff", "headteacher"):
        html = text(client_for(world.school[role]).get(proposal.get_absolute_url()))
        assert task_links(html) == {}
        assert "The DPO assesses the screening." in html
        assert "What the screening answers suggest" not in html


def test_the_dpo_sees_what_the_answers_suggest(world, client_for):
    proposal = drafted(world)
    answers = drafts.screening(
        world.dfe,
        special_category=True,
        special_category_details="Reading difficulties linked to dyslexia.",
        profiling=True,
        profiling_details="Groups pupils by predicted progress.",
    )
    services.answer_screening(proposal, actor=world.school["staff"], answers=answers)
    services.submit_screening(proposal, actor=world.school["staff"])
    html = text(client_for(world.school["dpo"]).get(proposal.get_absolute_url()))
    assert "It shares special category data (question 4)." in html
    assert "It involves profiling (question 9)." in html
    assert "you decide whether a full PIA is mandatory" in html


def test_a_pia_not_required_goes_to_the_headteacher_or_chair(world, client_for):
    proposal = assessed(world)
    for role in ("headteacher", "chair"):
        html = text(client_for(world.school[role]).get(proposal.get_absolute_url()))
        assert task_links(html) == {"Decision by the headteacher or chair": url("decide", proposal)}
        assert task_status(html, "Full privacy impact assessment (PIA)") == "Not needed"
        assert task_status(html, "DPO advice on the full PIA") == "Not needed"
    html = text(client_for(world.school["staff"]).get(proposal.get_absolute_url()))
    assert task_links(html) == {}
    assert "The headteacher or chair decides." in html
    assert "Full PIA not required" in html  # the assessment summary


def test_a_headteacher_who_wrote_it_is_told_someone_else_decides(world, client_for):
    proposal = assessed(world, author="headteacher")
    html = text(client_for(world.school["headteacher"]).get(proposal.get_absolute_url()))
    assert "Decision by the headteacher or chair" not in task_links(html)
    assert "You wrote this proposal, so someone else must decide it" in html
    chair = text(client_for(world.school["chair"]).get(proposal.get_absolute_url()))
    assert "Decision by the headteacher or chair" in task_links(chair)


def test_a_recommended_pia_asks_the_author_to_choose(world, client_for):
    proposal = assessed(world, PiaRequirement.RECOMMENDED)
    html = text(client_for(world.school["staff"]).get(proposal.get_absolute_url()))
    assert task_links(html) == {"Full privacy impact assessment (PIA)": url("choose_pia", proposal)}
    assert "choose whether to carry it out" in html
    dpo = text(client_for(world.school["dpo"]).get(proposal.get_absolute_url()))
    assert task_links(dpo) == {}


def test_a_declined_pia_is_not_needed_and_says_why(world, client_for):
    proposal = assessed(world, PiaRequirement.RECOMMENDED)
    services.choose_full_pia(
        proposal, actor=world.school["staff"], take_up=False, reasons="Low risk, small group."
    )
    html = text(client_for(world.school["chair"]).get(proposal.get_absolute_url()))
    assert task_status(html, "Full privacy impact assessment (PIA)") == "Not needed"
    assert "Low risk, small group." in html
    assert "Decision by the headteacher or chair" in task_links(html)


def test_a_full_pia_in_progress_is_for_the_author_and_the_dpo(world, client_for):
    proposal = assessed(world, PiaRequirement.MANDATORY)
    for role in ("staff", "dpo"):
        html = text(client_for(world.school[role]).get(proposal.get_absolute_url()))
        assert task_links(html) == {"Full privacy impact assessment (PIA)": url("pia", proposal)}
        assert task_status(html, "Full privacy impact assessment (PIA)") == "Not yet started"
    services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    html = text(client_for(world.school["headteacher"]).get(proposal.get_absolute_url()))
    assert task_links(html) == {}
    assert task_status(html, "Full privacy impact assessment (PIA)") == "In progress"
    assert "The author or the DPO completes the full PIA." in html


def test_a_submitted_pia_shows_its_risks_and_matrices_and_waits_for_advice(world, client_for):
    school = world.school
    proposal = drafts.pia_submitted(school.organisation, school["staff"], school["dpo"], world.dfe)
    html = text(client_for(school["dpo"]).get(proposal.get_absolute_url()))
    assert task_links(html) == {"DPO advice on the full PIA": url("advise", proposal)}
    page = plain(html)
    assert "A tutor could take the list home and lose it." in page
    assert "Before measures" in page
    assert "After measures" in page
    assert "app-risk-matrix" in html
    # The register is read-only here: it changes on the PIA's own page.
    assert "Remove risk 1" not in page


def test_a_decision_overriding_the_dpo_says_so_with_its_reasons(world, client_for):
    school = world.school
    proposal = drafts.advised(
        school.organisation, school["staff"], school["dpo"], world.dfe, Advice.DO_NOT_PROCEED
    )
    services.decide_proposal(
        proposal,
        actor=school["headteacher"],
        decision=drafts.decision(
            outcome=Outcome.APPROVED,
            override_reasons="The tutoring is too valuable to lose; the risk is managed.",
        ),
    )
    html = text(client_for(school["staff"]).get(proposal.get_absolute_url()))
    page = plain(html)
    assert "This decision overrides the DPO's advice" in page.replace("&#x27;", "'")
    assert "The tutoring is too valuable to lose; the risk is managed." in page
    assert "The measures bring the risk down enough." in page  # the advice
    assert "Next: create the information sharing agreement (Appendix A, step 4)." in page
    assert task_status(html, "Decision by the headteacher or chair") == "Completed"
    assert "Withdraw this proposal" not in page


def test_a_cancelled_proposal_says_so_at_the_top(world, client_for):
    proposal = assessed(world)
    services.decide_proposal(
        proposal,
        actor=world.school["chair"],
        decision=drafts.decision(outcome=Outcome.CANCELLED, reasons="Not worth the risk."),
    )
    page = plain(text(client_for(world.school["staff"]).get(proposal.get_absolute_url())))
    assert "Cancelled by Chair of governors of Alder Primary School" in page
    assert "Not worth the risk." in page
    assert "Next: create the information sharing agreement" not in page


def test_the_screening_summary_uses_the_policys_questions(world, client_for):
    proposal = screened(world)
    page = plain(text(client_for(world.school["auditor"]).get(proposal.get_absolute_url())))
    for number, question in SCREENING_QUESTIONS.items():
        assert f"{number}. {question}" in page
    assert "Name, year group and latest reading age." in page
    assert "Education and attainment" in page


def test_the_task_list_reads_a_fixed_number_of_queries(world, client_for):
    """Users, purpose, categories, recipients and risks come with the proposal."""
    proposal = assessed(world, PiaRequirement.MANDATORY)
    services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    client = client_for(world.school["dpo"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(proposal.get_absolute_url()).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(6):
        services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    assert queries() == few
    # Sign-in, second factor, membership and roles, the session; then the proposal with
    # its people, its categories, recipients and risks.
    assert few <= 14
