"""The pages of the DPO's assessment, the full PIA and its risks, the advice and the decision.

Each step is taken as people take it, through the page: the allowed role
changes the proposal (with its audit event) and goes back to the task list;
a role that may never take the step gets 403; a step out of order goes back
to the task list with a message and changes nothing; another school's
proposal does not exist (404); bad answers come back beside their fields,
with everything typed kept.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.proposals import services
from infoshare.proposals.models import (
    Advice,
    Effect,
    Likelihood,
    Outcome,
    PiaRequirement,
    Proposal,
    Risk,
    Severity,
    Status,
)
from tests.core.support import changes_of, last_event
from tests.proposals import drafts

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------


def url(name: str, proposal: Proposal, **kwargs: Any) -> str:
    return reverse(
        f"proposals:{name}",
        kwargs={"org": proposal.organisation.slug, "reference": proposal.reference, **kwargs},
    )


def task_list(proposal: Proposal) -> str:
    return url("detail", proposal)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def error_beside(html: str, field: str) -> str:
    """The error message shown beside `field` (GOV.UK: <p id="id_<field>_error">)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def is_checked(html: str, name: str, value: str) -> bool:
    """Whether the option `value` of the radios `name` comes back chosen."""
    pattern = rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*\bchecked'
    return re.search(pattern, html) is not None


def text_of(html: str) -> str:
    """The page's words, tags and extra spaces removed, entities as typed."""
    words = re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").replace("&quot;", '"')
    return " ".join(words.split())


def proposal_events() -> int:
    """The proposals' audit events (signing in the test's client is an event too)."""
    return AuditEvent.objects.filter(verb__startswith="proposal.").count()


def assert_unchanged(proposal: Proposal, events_before: int) -> None:
    fresh = Proposal.objects.get(pk=proposal.pk)
    assert fresh.status == proposal.status
    assert fresh.updated_at == proposal.updated_at
    assert proposal_events() == events_before


def assert_sent_back(response: Any, proposal: Proposal) -> None:
    """Out of order: back to the task list, told what stands in the way."""
    assert response.status_code == 302
    assert response["Location"] == task_list(proposal)
    assert "cannot be taken now" in messages_of(response)[-1]


def screened(world: Any, **screening: Any) -> Proposal:
    """Screening submitted by the school's staff member, with some answers changed."""
    school = world.school
    proposal = drafts.drafted(school.organisation, school["staff"])
    answers = drafts.screening(world.dfe, **screening)
    services.answer_screening(proposal, actor=school["staff"], answers=answers)
    return services.submit_screening(proposal, actor=school["staff"])


def assessed(world: Any, requirement: str = PiaRequirement.NOT_REQUIRED) -> Proposal:
    school = world.school
    return drafts.assessed(
        school.organisation, school["staff"], school["dpo"], world.dfe, requirement
    )


def pia_in_progress(world: Any) -> Proposal:
    return assessed(world, PiaRequirement.MANDATORY)


def pia_submitted(world: Any) -> Proposal:
    school = world.school
    return drafts.pia_submitted(school.organisation, school["staff"], school["dpo"], world.dfe)


def advised(world: Any, advice: str = Advice.PROCEED) -> Proposal:
    school = world.school
    return drafts.advised(school.organisation, school["staff"], school["dpo"], world.dfe, advice)


def of_other_school(world: Any) -> Proposal:
    """A proposal of Birch Academy at every stage a page here needs (assessed, PIA mandatory)."""
    other = world.other
    return drafts.assessed(
        other.organisation, other["staff"], other["dpo"], world.dfe, PiaRequirement.MANDATORY
    )


def risk_form(**changes: str) -> dict[str, str]:
    """The risk page's answers: drafts.risk(), as posted, with some changed."""
    posted = {
        name: "" if value is None else str(int(value)) if isinstance(value, int) else value
        for name, value in drafts.risk().__dict__.items()
    }
    return {**posted, **changes}


class MatrixReader(HTMLParser):
    """Reads every risk matrix of a page: {caption: {(severity, likelihood): [labels]}}."""

    def __init__(self) -> None:
        super().__init__()
        self.matrices: dict[str, dict[tuple[str, str], list[str]]] = {}
        self._caption: str | None = None
        self._in: str = ""  # "caption", "column", "row", "risks" while reading that text
        self._columns: list[str] = []
        self._row = ""
        self._cell = -1
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "app-risk-matrix" in classes:
            self._caption, self._columns = "", []
        elif self._caption is None:
            return
        elif tag == "caption":
            self._start("caption")
        elif tag == "th" and dict(attrs).get("scope") == "col":
            self._start("column")
        elif tag == "th" and dict(attrs).get("scope") == "row":
            self._start("row")
            self._cell = -1
        elif tag == "td" and "app-risk-matrix__cell" in classes:
            self._cell += 1
        elif tag == "strong" and "app-risk-matrix__risks" in classes:
            self._start("risks")

    def _start(self, what: str) -> None:
        self._in, self._text = what, ""

    def handle_endtag(self, tag: str) -> None:
        if self._caption is None:
            return
        if tag == "table":
            self._caption = None
            return
        text = " ".join(self._text.split())
        if self._in == "caption" and tag == "caption":
            self._caption = text
            self.matrices[text] = {}
        elif self._in == "column" and tag == "th":
            self._columns.append(text.split()[0])
        elif self._in == "row" and tag == "th":
            self._row = text.split()[0]
        elif self._in == "risks" and tag == "strong":
            cell = (self._row, self._columns[self._cell])
            self.matrices[self._caption][cell] = text.split(", ")
        else:
            return
        self._in = ""

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data


def matrices_of(html: str) -> dict[str, dict[tuple[str, str], list[str]]]:
    reader = MatrixReader()
    reader.feed(html)
    return reader.matrices


# --- The DPO's assessment ----------------------------------------------------------------


def test_the_dpo_sees_all_ten_questions_and_what_they_suggest(world, client_for):
    proposal = screened(world)
    response = client_for(world.school["dpo"]).get(url("assess", proposal))
    page = text_of(response.content.decode())
    assert response.status_code == 200
    assert "1. What is the name of the project or activity this information sharing" in page
    assert "2. What is the purpose(s) of the project and why does the personal data" in page
    assert "The tutors need each pupil's name, year group and reading age." in page
    assert "8. Does this project/data processing activity involve automated decision" in page
    assert "9. Does the project/data processing relate to profiling of citizens" in page
    assert "10. Does the project/data processing combine or match personal data" in page
    assert "Department for Education" in page
    assert "Nothing in the answers points to a full PIA." in page
    assert "you decide, as the DPO" in page


def test_answers_pointing_to_a_full_pia_are_listed_for_the_dpo(world, client_for):
    proposal = screened(
        world,
        special_category=True,
        special_category_details="Reading difficulties linked to a diagnosis.",
        profiling=True,
        profiling_details="Pupils are grouped by predicted progress.",
    )
    response = client_for(world.school["dpo"]).get(url("assess", proposal))
    page = text_of(response.content.decode())
    assert "These answers point to a full PIA:" in page
    assert "It shares special category data (question 4)." in page
    assert "It involves profiling (question 9)." in page
    assert "automated decision-making" not in page
    assert "Reading difficulties linked to a diagnosis." in page


@pytest.mark.parametrize(
    ("requirement", "status", "next_step"),
    [
        (PiaRequirement.MANDATORY, Status.PIA_IN_PROGRESS, "A full PIA is mandatory"),
        (PiaRequirement.RECOMMENDED, Status.ASSESSED, "A full PIA is recommended"),
        (PiaRequirement.NOT_REQUIRED, Status.ASSESSED, "No full PIA is needed"),
    ],
)
def test_the_dpo_assesses_the_screening(world, client_for, requirement, status, next_step):
    dpo = world.school["dpo"]
    proposal = screened(world)
    response = client_for(dpo).post(
        url("assess", proposal), {"requirement": requirement, "reasons": "New charity."}
    )
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == task_list(proposal)
    assert proposal.status == status
    assert proposal.pia_requirement == requirement
    assert proposal.assessment_reasons == "New charity."
    assert proposal.assessed_by == dpo
    event = last_event("proposal.assessed")
    assert event.actor == dpo
    assert changes_of(event)["pia_requirement"] == requirement
    assert any(next_step in message for message in messages_of(response))


def test_a_mandatory_pia_tells_the_author_by_email(
    world, client_for, django_capture_on_commit_callbacks
):
    proposal = screened(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.school["dpo"]).post(
            url("assess", proposal), {"requirement": "mandatory", "reasons": "Profiling."}
        )
    assert [message.to for message in mail.outbox] == [[world.school["staff"].email]]


def test_the_trust_dpo_assesses_too(world, client_for):
    proposal = screened(world)
    response = client_for(world.trust_dpo).post(
        url("assess", proposal), {"requirement": "not_required", "reasons": "Low risk."}
    )
    assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).assessed_by == world.trust_dpo


@pytest.mark.parametrize("role", ["staff", "auditor", "headteacher", "chair", "dsl"])
def test_only_the_dpo_assesses(world, client_for, role):
    proposal = screened(world)
    events = proposal_events()
    client = client_for(world.school[role])
    assert client.get(url("assess", proposal)).status_code == 403
    data = {"requirement": "not_required", "reasons": "Fine."}
    assert client.post(url("assess", proposal), data).status_code == 403
    assert_unchanged(proposal, events)


def test_assessing_a_draft_or_an_assessed_proposal_is_refused_with_a_message(world, client_for):
    dpo = world.school["dpo"]
    draft = drafts.drafted(world.school.organisation, world.school["staff"])
    done = assessed(world)
    events = proposal_events()
    client = client_for(dpo)
    assert_sent_back(client.get(url("assess", draft)), draft)
    data = {"requirement": "mandatory", "reasons": "Again."}
    response = client.post(url("assess", done), data)
    assert_sent_back(response, done)
    assert "Assessed by the DPO" in messages_of(response)[-1]
    assert_unchanged(done, events)
    assert Proposal.objects.get(pk=done.pk).pia_requirement == PiaRequirement.NOT_REQUIRED


def test_another_schools_proposal_is_not_found(world, client_for):
    theirs = drafts.screened(world.other.organisation, world.other["staff"], world.dfe)
    mine = reverse(
        "proposals:assess", kwargs={"org": world.school.slug, "reference": theirs.reference}
    )
    # The trust's DPO serves both schools, but each proposal only under its own school.
    assert client_for(world.trust_dpo).get(mine).status_code == 404
    # Birch's own DPO is not a member of Alder at all.
    assert client_for(world.other["dpo"]).get(mine).status_code == 404
    # Alder's DPO cannot reach Birch's address either.
    assert client_for(world.school["dpo"]).get(url("assess", theirs)).status_code == 404


def test_an_assessment_without_a_choice_keeps_the_reasons_typed(world, client_for):
    proposal = screened(world)
    events = proposal_events()
    response = client_for(world.school["dpo"]).post(
        url("assess", proposal), {"reasons": "Special category data for a new charity."}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "mandatory, recommended or not required" in error_beside(html, "requirement")
    assert "Special category data for a new charity." in html
    assert_unchanged(proposal, events)


def test_an_assessment_without_reasons_keeps_the_choice(world, client_for):
    proposal = screened(world)
    events = proposal_events()
    response = client_for(world.school["dpo"]).post(
        url("assess", proposal), {"requirement": "recommended", "reasons": "  "}
    )
    html = response.content.decode()
    assert "Give the reasons for your assessment." in error_beside(html, "reasons")
    assert is_checked(html, "requirement", "recommended")
    assert_unchanged(proposal, events)


# --- A recommended full PIA: carry it out, or not -------------------------------------------


@pytest.mark.parametrize("role", ["staff", "headteacher", "chair"])
def test_the_author_or_a_decider_takes_up_a_recommended_pia(world, client_for, role):
    proposal = assessed(world, PiaRequirement.RECOMMENDED)
    client = client_for(world.school[role])
    page = text_of(client.get(url("choose_pia", proposal)).content.decode())
    assert "Assessed against the answers." in page
    response = client.post(url("choose_pia", proposal), {"take_up": "yes"})
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == task_list(proposal)
    assert proposal.status == Status.PIA_IN_PROGRESS
    assert proposal.pia_taken_up is True
    assert last_event("proposal.pia_taken_up").actor == world.school[role]


def test_going_without_a_recommended_pia_needs_reasons(world, client_for):
    proposal = assessed(world, PiaRequirement.RECOMMENDED)
    events = proposal_events()
    client = client_for(world.school["headteacher"])
    response = client.post(url("choose_pia", proposal), {"take_up": "no", "reasons": ""})
    html = response.content.decode()
    assert "Explain why the recommended full PIA" in error_beside(html, "reasons")
    assert is_checked(html, "take_up", "no")
    assert_unchanged(proposal, events)


def test_going_without_a_recommended_pia_sends_it_to_the_decision(world, client_for):
    proposal = assessed(world, PiaRequirement.RECOMMENDED)
    reasons = "The same charity passed a full PIA last year."
    response = client_for(world.school["headteacher"]).post(
        url("choose_pia", proposal), {"take_up": "no", "reasons": reasons}
    )
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert proposal.status == Status.ASSESSED
    assert proposal.pia_taken_up is False
    assert proposal.pia_declined_reasons == reasons
    assert proposal.awaits_decision
    assert last_event("proposal.pia_declined").actor == world.school["headteacher"]


def test_the_pia_choice_must_be_made(world, client_for):
    proposal = assessed(world, PiaRequirement.RECOMMENDED)
    response = client_for(world.school["staff"]).post(
        url("choose_pia", proposal), {"reasons": "Typed before choosing."}
    )
    html = response.content.decode()
    assert "Choose whether to carry out the full PIA." in error_beside(html, "take_up")
    assert "Typed before choosing." in html


@pytest.mark.parametrize("role", ["dpo", "auditor", "dsl"])
def test_others_do_not_choose_whether_to_carry_out_the_pia(world, client_for, role):
    proposal = assessed(world, PiaRequirement.RECOMMENDED)
    events = proposal_events()
    client = client_for(world.school[role])
    assert client.get(url("choose_pia", proposal)).status_code == 403
    assert client.post(url("choose_pia", proposal), {"take_up": "yes"}).status_code == 403
    assert_unchanged(proposal, events)


def test_no_choice_is_offered_once_the_pia_is_mandatory(world, client_for):
    proposal = pia_in_progress(world)
    events = proposal_events()
    response = client_for(world.school["staff"]).post(
        url("choose_pia", proposal), {"take_up": "no", "reasons": "Rather not."}
    )
    assert_sent_back(response, proposal)
    assert_unchanged(proposal, events)


# --- The full PIA ---------------------------------------------------------------------------


def test_the_author_writes_the_pia(world, client_for):
    proposal = pia_in_progress(world)
    client = client_for(world.school["staff"])
    html = client.get(url("pia", proposal)).content.decode()
    assert 'name="processing_description"' in html
    assert "Submit the PIA for the DPO's advice" in html
    assert url("add_risk", proposal) in html
    answers = drafts.pia().__dict__
    response = client.post(url("pia", proposal), {**answers, "action": "save"})
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == url("pia", proposal)
    assert proposal.processing_description == answers["processing_description"]
    assert proposal.necessity == answers["necessity"]
    assert proposal.consultation == answers["consultation"]
    assert last_event("proposal.pia_saved").actor == world.school["staff"]


def test_saving_and_adding_a_risk_keeps_what_was_typed(world, client_for):
    proposal = pia_in_progress(world)
    response = client_for(world.school["dpo"]).post(
        url("pia", proposal), {"processing_description": "Half written.", "action": "add-risk"}
    )
    assert response["Location"] == url("add_risk", proposal)
    assert Proposal.objects.get(pk=proposal.pk).processing_description == "Half written."


@pytest.mark.parametrize("role", ["headteacher", "auditor", "dsl"])
def test_other_members_read_the_pia_but_do_not_change_it(world, client_for, role):
    proposal = pia_in_progress(world)
    services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    proposal.refresh_from_db()
    events = proposal_events()
    client = client_for(world.school[role])
    response = client.get(url("pia", proposal))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<textarea" not in html
    assert "A tutor could take the list home and lose it." in html
    assert url("add_risk", proposal) not in html
    assert "Remove<span" not in html
    response = client.post(url("pia", proposal), drafts.pia().__dict__)
    assert response.status_code == 403
    assert_unchanged(proposal, events)


def test_a_submitted_pia_is_read_only(world, client_for):
    proposal = pia_submitted(world)
    events = proposal_events()
    client = client_for(world.school["staff"])
    html = client.get(url("pia", proposal)).content.decode()
    assert "<textarea" not in html
    assert "can no longer be changed" in html
    response = client.post(url("pia", proposal), drafts.pia(necessity="Changed").__dict__)
    assert_sent_back(response, proposal)
    assert_unchanged(proposal, events)


def test_a_proposal_without_a_full_pia_has_no_pia_page(world, client_for):
    proposal = assessed(world)
    response = client_for(world.school["staff"]).get(url("pia", proposal))
    assert response.status_code == 302
    assert response["Location"] == task_list(proposal)
    assert messages_of(response) == [f"{proposal.reference} has no full PIA."]


def test_another_schools_pia_is_not_found(world, client_for):
    theirs = of_other_school(world)
    assert client_for(world.school["staff"]).get(url("pia", theirs)).status_code == 404
    assert client_for(world.school["dpo"]).get(url("add_risk", theirs)).status_code == 404


# --- The risk register ----------------------------------------------------------------------


def test_the_risk_page_explains_the_scoring(world, client_for):
    proposal = pia_in_progress(world)
    response = client_for(world.school["staff"]).get(url("add_risk", proposal))
    html = response.content.decode()
    assert response.status_code == 200
    matrices = matrices_of(html)
    assert list(matrices) == ["How the overall risk is worked out"]
    assert matrices["How the overall risk is worked out"] == {}
    assert "a remote but severe harm is a medium risk" in html


def test_the_author_adds_a_risk(world, client_for):
    proposal = pia_in_progress(world)
    response = client_for(world.school["staff"]).post(url("add_risk", proposal), risk_form())
    risk = Risk.objects.get(proposal=proposal)
    assert response.status_code == 302
    assert response["Location"] == url("pia", proposal) + "#risks"
    assert risk.position == 1
    assert risk.likelihood == Likelihood.PROBABLE
    assert risk.residual_likelihood == Likelihood.REMOTE
    assert risk.level == "high"
    assert risk.residual_level == "low"
    event = last_event("proposal.risk_added")
    assert event.actor == world.school["staff"]
    assert changes_of(event) == {"level": "high", "effect": "reduced", "residual_level": "low"}


def test_a_risk_may_be_added_before_its_measures_are_known(world, client_for):
    proposal = pia_in_progress(world)
    data = risk_form(measures="", effect="", residual_likelihood="", residual_severity="")
    response = client_for(world.school["dpo"]).post(url("add_risk", proposal), data)
    risk = Risk.objects.get(proposal=proposal)
    assert response.status_code == 302
    assert not risk.is_complete
    assert risk.residual_level is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"description": ""}, "description", "Describe the risk to individuals."),
        ({"source": ""}, "source", "Say where the risk comes from."),
        ({"likelihood": ""}, "likelihood", "Choose how likely the harm is."),
        ({"severity": ""}, "severity", "Choose how severe the harm would be."),
        ({"measures": ""}, "measures", "Describe the measures before saying"),
        (
            {"residual_likelihood": "", "residual_severity": ""},
            "residual_likelihood",
            "Give the likelihood and severity left after the measures.",
        ),
        (
            {"residual_likelihood": "3", "residual_severity": "2"},
            "residual_likelihood",
            "A reduced risk must be lower after the measures than before",
        ),
    ],
)
def test_a_bad_risk_is_shown_beside_its_field_and_not_added(
    world, client_for, changes, field, message
):
    proposal = pia_in_progress(world)
    events = proposal_events()
    response = client_for(world.school["staff"]).post(
        url("add_risk", proposal), risk_form(**changes)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert message in error_beside(html, field)
    # Whatever else was typed comes back.
    kept = drafts.risk().measures if field == "description" else drafts.risk().description
    assert kept in html
    assert not Risk.objects.exists()
    assert proposal_events() == events


def test_an_eliminated_risk_has_no_residual_risk_and_an_accepted_one_keeps_its_score(
    world, client_for
):
    proposal = pia_in_progress(world)
    client = client_for(world.school["staff"])
    # Residual answers left over from an earlier choice are not kept for these.
    client.post(url("add_risk", proposal), risk_form(effect=Effect.ELIMINATED))
    client.post(url("add_risk", proposal), risk_form(effect=Effect.ACCEPTED))
    eliminated, accepted = Risk.objects.filter(proposal=proposal)
    assert (eliminated.residual_likelihood, eliminated.residual_severity) == (None, None)
    assert eliminated.residual_level is None
    assert eliminated.is_complete
    assert (accepted.residual_likelihood, accepted.residual_severity) == (
        Likelihood.PROBABLE,
        Severity.SIGNIFICANT,
    )
    assert accepted.residual_level == "high"


def test_the_dpo_changes_a_risk(world, client_for):
    proposal = pia_in_progress(world)
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    client = client_for(world.school["dpo"])
    page = url("change_risk", proposal, risk=risk.uuid)
    html = client.get(page).content.decode()
    assert "Change risk 1 (R1)" in html
    assert "A tutor could take the list home and lose it." in html
    assert is_checked(html, "likelihood", "3")
    assert is_checked(html, "residual_likelihood", "1")
    data = risk_form(description="A tutor could lose a printed list.", effect="accepted")
    response = client.post(page, data)
    risk.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == url("pia", proposal) + "#risks"
    assert risk.description == "A tutor could lose a printed list."
    assert risk.effect == Effect.ACCEPTED
    assert last_event("proposal.risk_changed").actor == world.school["dpo"]


def test_a_bad_change_keeps_the_risk_as_it_was(world, client_for):
    proposal = pia_in_progress(world)
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    data = risk_form(description="Rewritten, but the residual risk is higher.")
    data.update(residual_likelihood="3", residual_severity="3")
    response = client_for(world.school["staff"]).post(
        url("change_risk", proposal, risk=risk.uuid), data
    )
    html = response.content.decode()
    assert "must be lower after the measures" in error_beside(html, "residual_likelihood")
    assert "Rewritten, but the residual risk is higher." in html
    risk.refresh_from_db()
    assert risk.description == drafts.risk().description
    assert risk.residual_likelihood == Likelihood.REMOTE


def test_the_author_removes_a_risk_after_confirming(world, client_for):
    proposal = pia_in_progress(world)
    staff = world.school["staff"]
    first = services.add_risk(proposal, actor=staff, answers=drafts.risk())
    second = services.add_risk(proposal, actor=staff, answers=drafts.risk(description="Other"))
    client = client_for(staff)
    page = url("remove_risk", proposal, risk=first.uuid)
    html = client.get(page).content.decode()
    assert "Remove risk 1 (R1) from the register?" in html
    assert "A tutor could take the list home and lose it." in html
    response = client.post(page)
    assert response.status_code == 302
    assert response["Location"] == url("pia", proposal) + "#risks"
    assert list(Risk.objects.filter(proposal=proposal)) == [second]
    # The others keep their numbers, so R2 stays R2 wherever it was mentioned.
    assert Risk.objects.get(pk=second.pk).label == "R2"
    assert last_event("proposal.risk_removed").actor == staff


@pytest.mark.parametrize("role", ["headteacher", "chair", "auditor", "dsl"])
def test_only_the_author_and_the_dpo_work_on_the_risks(world, client_for, role):
    proposal = pia_in_progress(world)
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    events = proposal_events()
    client = client_for(world.school[role])
    assert client.get(url("add_risk", proposal)).status_code == 403
    assert client.post(url("add_risk", proposal), risk_form()).status_code == 403
    change = url("change_risk", proposal, risk=risk.uuid)
    assert client.post(change, risk_form(description="Changed")).status_code == 403
    assert client.post(url("remove_risk", proposal, risk=risk.uuid)).status_code == 403
    assert Risk.objects.get(pk=risk.pk).description == drafts.risk().description
    assert proposal_events() == events


def test_the_risks_of_a_submitted_pia_stay_as_they_are(world, client_for):
    proposal = pia_submitted(world)
    risk = proposal.risks.get()
    events = proposal_events()
    client = client_for(world.school["staff"])
    assert_sent_back(client.get(url("add_risk", proposal)), proposal)
    change = url("change_risk", proposal, risk=risk.uuid)
    assert_sent_back(client.post(change, risk_form(description="Changed")), proposal)
    assert_sent_back(client.post(url("remove_risk", proposal, risk=risk.uuid)), proposal)
    assert Risk.objects.get(pk=risk.pk).description == drafts.risk().description
    assert proposal_events() == events


def test_a_risk_is_found_only_within_its_own_proposal(world, client_for):
    staff = world.school["staff"]
    proposal = pia_in_progress(world)
    elsewhere = pia_in_progress(world)
    risk = services.add_risk(elsewhere, actor=staff, answers=drafts.risk())
    client = client_for(staff)
    assert client.get(url("change_risk", proposal, risk=risk.uuid)).status_code == 404
    assert client.post(url("remove_risk", proposal, risk=risk.uuid)).status_code == 404
    theirs = of_other_school(world)
    their_risk = services.add_risk(theirs, actor=world.other["staff"], answers=drafts.risk())
    mine = reverse(
        "proposals:change_risk",
        kwargs={"org": world.school.slug, "reference": theirs.reference, "risk": their_risk.uuid},
    )
    # Alder's copy of the reference (if any) does not own Birch's risk either.
    assert client.get(mine).status_code == 404
    assert Risk.objects.filter(pk=risk.pk).exists()


def test_the_matrices_place_each_risk_before_and_after_its_measures(world, client_for):
    proposal = pia_in_progress(world)
    staff = world.school["staff"]
    # R1: probable and significant (high), reduced to remote and significant (low).
    services.add_risk(proposal, actor=staff, answers=drafts.risk())
    # R2: possible and severe (high), eliminated: it leaves the after-matrix.
    services.add_risk(
        proposal,
        actor=staff,
        answers=drafts.risk(
            description="The charity keeps the list after the programme ends.",
            likelihood=Likelihood.POSSIBLE,
            severity=Severity.SEVERE,
            effect=Effect.ELIMINATED,
        ),
    )
    # R3: remote and minimal (low), accepted: the same cell before and after.
    services.add_risk(
        proposal,
        actor=staff,
        answers=drafts.risk(
            likelihood=Likelihood.REMOTE, severity=Severity.MINIMAL, effect=Effect.ACCEPTED
        ),
    )
    html = client_for(world.school["auditor"]).get(url("pia", proposal)).content.decode()
    matrices = matrices_of(html)
    assert matrices["Before measures"] == {
        ("Significant", "Probable"): ["R1"],
        ("Severe", "Possible"): ["R2"],
        ("Minimal", "Remote"): ["R3"],
    }
    assert matrices["After measures"] == {
        ("Significant", "Remote"): ["R1"],
        ("Minimal", "Remote"): ["R3"],
    }


# --- Submitting the PIA ---------------------------------------------------------------------


def test_the_check_page_lists_what_is_missing_with_links(world, client_for):
    proposal = pia_in_progress(world)
    services.save_pia(proposal, actor=world.school["staff"], answers=drafts.pia(necessity=""))
    response = client_for(world.school["staff"]).get(url("submit_pia", proposal))
    html = response.content.decode()
    pia_page = url("pia", proposal)
    assert response.status_code == 200
    assert "The PIA cannot go to the DPO yet" in html
    assert f'href="{pia_page}#id_necessity"' in html
    assert f'href="{pia_page}#risks"' in html
    assert "Add at least one risk to the risk register." in html
    assert f'href="{pia_page}#id_consultation"' not in html
    assert "<button" not in html.split("<main", 1)[1]


def test_submitting_an_unfinished_pia_shows_what_to_fix(world, client_for):
    proposal = pia_in_progress(world)
    staff = world.school["staff"]
    services.save_pia(proposal, actor=staff, answers=drafts.pia(consultation=""))
    services.add_risk(proposal, actor=staff, answers=drafts.risk(measures="", effect=""))
    proposal.refresh_from_db()
    events = proposal_events()
    response = client_for(staff).post(url("submit_pia", proposal))
    html = response.content.decode()
    pia_page = url("pia", proposal)
    assert response.status_code == 200
    assert "<title>Error: " in html
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert f'<a href="{pia_page}#id_consultation">Say who was consulted.</a>' in summary
    assert f'<a href="{pia_page}#risks">Record the measures' in summary
    assert "for R1" in summary
    assert_unchanged(proposal, events)


def test_the_author_submits_a_finished_pia(world, client_for, django_capture_on_commit_callbacks):
    proposal = pia_in_progress(world)
    staff = world.school["staff"]
    services.save_pia(proposal, actor=staff, answers=drafts.pia())
    services.add_risk(proposal, actor=staff, answers=drafts.risk())
    client = client_for(staff)
    html = client.get(url("submit_pia", proposal)).content.decode()
    assert "Submit the PIA for the DPO's advice</button>" in html
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("submit_pia", proposal))
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == task_list(proposal)
    assert proposal.status == Status.PIA_SUBMITTED
    assert proposal.pia_submitted_by == staff
    assert last_event("proposal.pia_submitted").actor == staff
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        [world.school["dpo"].email, world.trust_dpo.email]
    )
    assert any("DPO has been emailed" in message for message in messages_of(response))


@pytest.mark.parametrize("role", ["headteacher", "auditor"])
def test_others_do_not_submit_the_pia(world, client_for, role):
    proposal = pia_in_progress(world)
    assert client_for(world.school[role]).post(url("submit_pia", proposal)).status_code == 403


def test_a_pia_is_submitted_once(world, client_for):
    proposal = pia_submitted(world)
    events = proposal_events()
    response = client_for(world.school["staff"]).post(url("submit_pia", proposal))
    assert_sent_back(response, proposal)
    assert_unchanged(proposal, events)


# --- The DPO's advice -----------------------------------------------------------------------


def test_the_dpo_reads_the_pia_and_advises(world, client_for):
    proposal = pia_submitted(world)
    dpo = world.school["dpo"]
    client = client_for(dpo)
    html = client.get(url("advise", proposal)).content.decode()
    assert "The school sends a termly list to the charity by secure transfer." in html
    assert "A tutor could take the list home and lose it." in html
    assert set(matrices_of(html)) == {"Before measures", "After measures"}
    assert "Remove<span" not in html
    data = {"advice": Advice.PROCEED_WITH_CONDITIONS, "text": "Proceed if lists are never printed."}
    response = client.post(url("advise", proposal), data)
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == task_list(proposal)
    assert proposal.status == Status.ADVISED
    assert proposal.advice == Advice.PROCEED_WITH_CONDITIONS
    assert proposal.advice_text == "Proceed if lists are never printed."
    event = last_event("proposal.advised")
    assert event.actor == dpo
    assert changes_of(event) == {"advice": "proceed_with_conditions"}


def test_advice_without_a_choice_keeps_the_text(world, client_for):
    proposal = pia_submitted(world)
    events = proposal_events()
    response = client_for(world.school["dpo"]).post(
        url("advise", proposal), {"text": "Typed advice, no choice made."}
    )
    html = response.content.decode()
    assert "Choose whether you advise proceeding." in error_beside(html, "advice")
    assert "Typed advice, no choice made." in html
    assert_unchanged(proposal, events)


def test_advice_must_be_written(world, client_for):
    proposal = pia_submitted(world)
    response = client_for(world.school["dpo"]).post(
        url("advise", proposal), {"advice": "proceed", "text": ""}
    )
    assert "Write your advice." in error_beside(response.content.decode(), "text")


@pytest.mark.parametrize("role", ["staff", "headteacher", "chair", "auditor"])
def test_only_the_dpo_advises(world, client_for, role):
    proposal = pia_submitted(world)
    events = proposal_events()
    client = client_for(world.school[role])
    assert client.get(url("advise", proposal)).status_code == 403
    data = {"advice": "proceed", "text": "Go ahead."}
    assert client.post(url("advise", proposal), data).status_code == 403
    assert_unchanged(proposal, events)


def test_advice_waits_for_the_pia(world, client_for):
    proposal = pia_in_progress(world)
    events = proposal_events()
    data = {"advice": "proceed", "text": "Go ahead."}
    response = client_for(world.school["dpo"]).post(url("advise", proposal), data)
    assert_sent_back(response, proposal)
    assert_unchanged(proposal, events)


def test_another_schools_pia_cannot_be_advised_on(world, client_for):
    theirs = of_other_school(world)
    mine = reverse(
        "proposals:advise", kwargs={"org": world.school.slug, "reference": theirs.reference}
    )
    assert client_for(world.trust_dpo).get(mine).status_code == 404
    assert client_for(world.school["dpo"]).get(url("advise", theirs)).status_code == 404


# --- The decision ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["headteacher", "chair"])
def test_the_headteacher_or_chair_decides_without_a_full_pia(world, client_for, role):
    proposal = assessed(world)
    decider = world.school[role]
    client = client_for(decider)
    html = client.get(url("decide", proposal)).content.decode()
    assert "no DPO advice to follow or override" in html
    assert "Full PIA not required" in html
    assert 'name="override_reasons"' not in html
    response = client.post(
        url("decide", proposal), {"outcome": Outcome.APPROVED, "reasons": "Clear benefit."}
    )
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == task_list(proposal)
    assert proposal.status == Status.APPROVED
    assert proposal.decided_by == decider
    assert proposal.decision_reasons == "Clear benefit."
    assert not proposal.overrides_advice
    event = last_event("proposal.decided")
    assert event.actor == decider
    assert changes_of(event) == {"status": "approved", "overrides_advice": False}


def test_the_decision_page_shows_the_advice_and_which_outcomes_override_it(world, client_for):
    proposal = advised(world, Advice.PROCEED_WITH_CONDITIONS)
    html = client_for(world.school["chair"]).get(url("decide", proposal)).content.decode()
    page = text_of(html)
    assert "The DPO's advice Proceed only with conditions" in page
    assert "The measures bring the risk down enough." in page
    assert "To approve or cancel the proposal would go against the DPO's advice." in page
    assert "Reasons for going against the DPO's advice" in page
    assert "Needed if your decision goes against the DPO's advice (policy 9.8)." in page
    assert set(matrices_of(html)) == {"Before measures", "After measures"}


def test_overriding_the_dpo_needs_its_own_reasons_and_is_recorded(world, client_for):
    proposal = advised(world, Advice.DO_NOT_PROCEED)
    headteacher = world.school["headteacher"]
    client = client_for(headteacher)
    page = text_of(client.get(url("decide", proposal)).content.decode())
    assert "To approve or approve with conditions would go against the DPO's advice." in page
    data = {
        "outcome": Outcome.APPROVED_WITH_CONDITIONS,
        "reasons": "The pupils need the tutoring this term.",
        "conditions": "Lists are sent only through the secure transfer.",
    }
    events = proposal_events()
    response = client.post(url("decide", proposal), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "give your reasons for overriding it" in error_beside(html, "override_reasons")
    assert "The pupils need the tutoring this term." in html
    assert "Lists are sent only through the secure transfer." in html
    assert_unchanged(proposal, events)

    data["override_reasons"] = "The charity has since passed an independent audit."
    response = client.post(url("decide", proposal), data)
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert proposal.status == Status.APPROVED_WITH_CONDITIONS
    assert proposal.overrides_advice
    assert proposal.override_reasons == "The charity has since passed an independent audit."
    assert proposal.conditions == "Lists are sent only through the secure transfer."
    event = last_event("proposal.decided")
    assert event.actor == headteacher
    assert changes_of(event) == {"status": "approved_with_conditions", "overrides_advice": True}
    assert any("overriding the DPO's advice" in message for message in messages_of(response))


def test_following_the_advice_needs_no_override_reasons(world, client_for):
    proposal = advised(world, Advice.DO_NOT_PROCEED)
    response = client_for(world.school["headteacher"]).post(
        url("decide", proposal), {"outcome": Outcome.CANCELLED, "reasons": "As advised."}
    )
    proposal.refresh_from_db()
    assert response.status_code == 302
    assert proposal.status == Status.CANCELLED
    assert not proposal.overrides_advice


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reasons": "Typed reasons kept."}, "outcome", "Choose approve, approve with conditions"),
        ({"outcome": "approved", "reasons": ""}, "reasons", "Give the reasons for your decision."),
        (
            {"outcome": "approved_with_conditions", "reasons": "Typed reasons kept."},
            "conditions",
            "Set out the conditions.",
        ),
    ],
)
def test_a_bad_decision_is_shown_beside_its_field(world, client_for, data, field, message):
    proposal = assessed(world)
    events = proposal_events()
    response = client_for(world.school["headteacher"]).post(url("decide", proposal), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in error_beside(html, field)
    if data["reasons"]:
        assert "Typed reasons kept." in html
    assert_unchanged(proposal, events)


@pytest.mark.parametrize("role", ["dpo", "staff", "auditor", "dsl", "information_manager"])
def test_only_the_headteacher_or_chair_decides(world, client_for, role):
    proposal = assessed(world)
    events = proposal_events()
    client = client_for(world.school[role])
    assert client.get(url("decide", proposal)).status_code == 403
    data = {"outcome": "approved", "reasons": "Fine."}
    assert client.post(url("decide", proposal), data).status_code == 403
    assert_unchanged(proposal, events)


def test_the_author_never_decides_and_is_told_why(world, client_for):
    school = world.school
    headteacher = school["headteacher"]
    proposal = drafts.assessed(school.organisation, headteacher, school["dpo"], world.dfe)
    events = proposal_events()
    client = client_for(headteacher)
    response = client.get(url("decide", proposal))
    html = response.content.decode()
    assert response.status_code == 403
    assert "You wrote this proposal, so someone else must decide it" in text_of(html)
    assert 'name="outcome"' not in html
    response = client.post(url("decide", proposal), {"outcome": "approved", "reasons": "Mine."})
    assert response.status_code == 403
    assert_unchanged(proposal, events)
    # The chair, who did not write it, may.
    response = client_for(school["chair"]).post(
        url("decide", proposal), {"outcome": "approved", "reasons": "Agreed."}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("stage", ["screened", "pia_in_progress", "pia_submitted", "recommended"])
def test_a_decision_out_of_order_is_refused_with_a_message(world, client_for, stage):
    proposal = {
        "screened": lambda: screened(world),
        "pia_in_progress": lambda: pia_in_progress(world),
        "pia_submitted": lambda: pia_submitted(world),
        # A recommended PIA not yet taken up or declined: the choice comes first.
        "recommended": lambda: assessed(world, PiaRequirement.RECOMMENDED),
    }[stage]()
    events = proposal_events()
    client = client_for(world.school["headteacher"])
    assert_sent_back(client.get(url("decide", proposal)), proposal)
    response = client.post(url("decide", proposal), {"outcome": "approved", "reasons": "Now."})
    assert_sent_back(response, proposal)
    assert_unchanged(proposal, events)


def test_a_decided_proposal_is_not_decided_again(world, client_for):
    proposal = assessed(world)
    services.decide_proposal(proposal, actor=world.school["chair"], decision=drafts.decision())
    proposal.refresh_from_db()
    events = proposal_events()
    response = client_for(world.school["headteacher"]).post(
        url("decide", proposal), {"outcome": "cancelled", "reasons": "Changed my mind."}
    )
    assert_sent_back(response, proposal)
    assert "Approved" in messages_of(response)[-1]
    assert_unchanged(proposal, events)


def test_another_schools_proposal_cannot_be_decided_here(world, client_for):
    theirs = drafts.assessed(
        world.other.organisation, world.other["staff"], world.other["dpo"], world.dfe
    )
    mine = reverse(
        "proposals:decide", kwargs={"org": world.school.slug, "reference": theirs.reference}
    )
    assert client_for(world.school["headteacher"]).get(mine).status_code == 404
    assert client_for(world.school["headteacher"]).get(url("decide", theirs)).status_code == 404
    assert client_for(world.other["headteacher"]).get(mine).status_code == 404
