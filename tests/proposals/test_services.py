"""Every change to a sharing proposal: allowed, refused, and what the audit trail keeps.

Each service is taken by the person allowed to take it, by people who may
never take it (PermissionDenied), at a status where it cannot be taken (the
out-of-order message), and with bad answers (errors keyed by field). A
refused call changes nothing and leaves no audit event.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core.models import DataCategory, Purpose
from infoshare.proposals import services
from infoshare.proposals.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Advice,
    Anonymisation,
    Effect,
    Likelihood,
    Outcome,
    PiaRequirement,
    PrivacyNotice,
    Proposal,
    Risk,
    Severity,
    Status,
)
from infoshare.proposals.services import Screening, out_of_order_message
from tests.core.support import assert_chain_intact, changes_of, last_event
from tests.proposals import drafts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from infoshare.core.models import User
    from tests.conftest import World

pytestmark = pytest.mark.django_db


# --- Helpers -------------------------------------------------------------------------


def stored(proposal: Proposal | None) -> dict[str, Any]:
    """Everything a refused call must leave as it was, read afresh from the database."""
    events = AuditEvent.objects.count()
    if proposal is None:
        return {"proposals": Proposal.objects.count(), "events": events}
    return {
        "proposal": Proposal.objects.filter(pk=proposal.pk).values().get(),
        "risks": list(Risk.objects.filter(proposal_id=proposal.pk).values()),
        "categories": sorted(proposal.categories.values_list("pk", flat=True)),
        "recipients": sorted(proposal.recipients.values_list("pk", flat=True)),
        "events": events,
    }


@contextmanager
def unchanged(proposal: Proposal | None = None) -> Iterator[None]:
    before = stored(proposal)
    yield
    assert stored(proposal) == before


def forbidden(proposal: Proposal | None, call: Callable[[], object]) -> str:
    """`call` is refused as not this person's to take; returns the message."""
    with unchanged(proposal), pytest.raises(PermissionDenied) as refused:
        call()
    return str(refused.value)


def invalid(proposal: Proposal | None, call: Callable[[], object]) -> dict[str, list[str]]:
    """`call` is refused for its answers; returns the messages by field."""
    with unchanged(proposal), pytest.raises(ValidationError) as refused:
        call()
    if hasattr(refused.value, "error_dict"):
        return refused.value.message_dict
    return {NON_FIELD_ERRORS: refused.value.messages}


def out_of_order(proposal: Proposal, call: Callable[[], object]) -> None:
    """`call` is refused with the message naming where the proposal stands."""
    proposal = Proposal.objects.get(pk=proposal.pk)
    with unchanged(proposal), pytest.raises(ValidationError) as refused:
        call()
    assert refused.value.messages == [out_of_order_message(proposal)]
    assert proposal.get_status_display() in refused.value.messages[0]


def fresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


def assert_event(verb: str, proposal: Proposal, actor: User, changes: dict[str, Any]) -> None:
    event = last_event(verb)
    assert event.actor == actor
    assert event.organisation == proposal.organisation
    assert event.object_id == proposal.reference
    assert changes_of(event) == changes
    assert_chain_intact(proposal.organisation)


def verbs_since(count: int) -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)[count:])


def person(world: World, who: str) -> User:
    """'staff' (the author in these tests), 'other:dpo' (in the other school), 'trust_dpo'."""
    if who == "trust_dpo":
        return world.trust_dpo
    if who.startswith("other:"):
        return world.other[who.removeprefix("other:")]
    return world.school[who]


def at(world: World, status: str, author: User | None = None) -> Proposal:
    """A proposal of world.school, written by `author` (staff), brought to `status`."""
    school, dpo, recipient = world.school.organisation, world.school["dpo"], world.local_authority
    author = author or world.school["staff"]
    head = world.school["headteacher"] if author != world.school["headteacher"] else None
    decider = head or world.school["chair"]
    match status:
        case Status.DRAFT:
            proposal = drafts.drafted(school, author)
        case Status.NOT_NEEDED:
            answers = drafts.step_one(achievable_without=True, achievable_without_reasons="Counts.")
            proposal = services.create_proposal(school, actor=author, answers=answers)
        case Status.NO_PERSONAL_DATA:
            proposal = services.create_proposal(school, actor=author, answers=drafts.step_one())
            step_two = drafts.step_two(anonymisation=Anonymisation.FULL, meets_goal=True)
            proposal = services.answer_step_two(proposal, actor=author, answers=step_two)
        case Status.SCREENING_SUBMITTED:
            proposal = drafts.screened(school, author, recipient)
        case Status.ASSESSED:
            proposal = drafts.assessed(school, author, dpo, recipient)
        case Status.PIA_IN_PROGRESS:
            proposal = drafts.assessed(school, author, dpo, recipient, PiaRequirement.MANDATORY)
        case Status.PIA_SUBMITTED:
            proposal = drafts.pia_submitted(school, author, dpo, recipient)
        case Status.ADVISED:
            proposal = drafts.advised(school, author, dpo, recipient)
        case Status.APPROVED | Status.APPROVED_WITH_CONDITIONS | Status.CANCELLED:
            proposal = drafts.assessed(school, author, dpo, recipient)
            decision = drafts.decision(outcome=status, conditions="Review it each term.")
            proposal = services.decide_proposal(proposal, actor=decider, decision=decision)
        case Status.WITHDRAWN:
            proposal = drafts.drafted(school, author)
            proposal = services.withdraw_proposal(proposal, actor=author, reasons="Not now.")
        case _:
            raise AssertionError(status)
    return fresh(proposal)


def recommended(world: World) -> Proposal:
    """Assessed with a full PIA recommended, and nobody has chosen yet."""
    school, author = world.school.organisation, world.school["staff"]
    return fresh(
        drafts.assessed(
            school, author, world.school["dpo"], world.local_authority, PiaRequirement.RECOMMENDED
        )
    )


def with_risk(world: World) -> tuple[Proposal, Risk]:
    """A full PIA in progress with one complete risk, R1."""
    proposal = at(world, Status.PIA_IN_PROGRESS)
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=drafts.risk())
    return fresh(proposal), risk


# --- Each step, taken by someone, with valid answers ---------------------------------


# Each step with answers that are valid: (proposal, actor, world) -> the service's result.
STEPS: dict[str, Callable[[Proposal, User, World], object]] = {
    "answer_step_one": lambda p, actor, w: services.answer_step_one(
        p, actor=actor, answers=drafts.step_one(name="Reading tutors")
    ),
    "answer_step_two": lambda p, actor, w: services.answer_step_two(
        p, actor=actor, answers=drafts.step_two()
    ),
    "answer_screening": lambda p, actor, w: services.answer_screening(
        p, actor=actor, answers=drafts.screening(w.local_authority)
    ),
    "submit_screening": lambda p, actor, w: services.submit_screening(p, actor=actor),
    "assess": lambda p, actor, w: services.assess_proposal(
        p, actor=actor, requirement=PiaRequirement.NOT_REQUIRED, reasons="Low risk."
    ),
    "choose_pia": lambda p, actor, w: services.choose_full_pia(p, actor=actor, take_up=True),
    "save_pia": lambda p, actor, w: services.save_pia(p, actor=actor, answers=drafts.pia()),
    "add_risk": lambda p, actor, w: services.add_risk(p, actor=actor, answers=drafts.risk()),
    "change_risk": lambda p, actor, w: services.change_risk(
        p.risks.get(), actor=actor, answers=drafts.risk(description="Changed")
    ),
    "remove_risk": lambda p, actor, w: services.remove_risk(p.risks.get(), actor=actor),
    "submit_pia": lambda p, actor, w: services.submit_pia(p, actor=actor),
    "advise": lambda p, actor, w: services.advise_on_pia(
        p, actor=actor, advice=Advice.PROCEED, text="Go ahead."
    ),
    "decide": lambda p, actor, w: services.decide_proposal(
        p, actor=actor, decision=drafts.decision()
    ),
    "withdraw": lambda p, actor, w: services.withdraw_proposal(
        p, actor=actor, reasons="No longer needed."
    ),
}


def take(step: str, proposal: Proposal, actor: User, world: World) -> object:
    """Take `step` on `proposal` as `actor`, with answers that are valid."""
    return STEPS[step](proposal, actor, world)


def ready_for(world: World, step: str) -> Proposal:
    """A proposal at the status where `step` can be taken."""
    if step == "choose_pia":
        return recommended(world)
    if step in {"change_risk", "remove_risk"}:
        return with_risk(world)[0]
    if step == "submit_pia":
        proposal = with_risk(world)[0]
        services.save_pia(proposal, actor=world.school["staff"], answers=drafts.pia())
        return fresh(proposal)
    status = {
        "answer_step_one": Status.DRAFT,
        "answer_step_two": Status.DRAFT,
        "answer_screening": Status.DRAFT,
        "submit_screening": Status.DRAFT,
        "assess": Status.SCREENING_SUBMITTED,
        "save_pia": Status.PIA_IN_PROGRESS,
        "add_risk": Status.PIA_IN_PROGRESS,
        "advise": Status.PIA_SUBMITTED,
        "decide": Status.ASSESSED,
        "withdraw": Status.SCREENING_SUBMITTED,
    }[step]
    proposal = at(world, status)
    if step == "submit_screening":
        take("answer_screening", proposal, world.school["staff"], world)
    return fresh(proposal)


# Who may take each step ('staff' wrote the proposal), and who may never.
ALLOWED = {
    "answer_step_one": ["staff"],
    "answer_step_two": ["staff"],
    "answer_screening": ["staff"],
    "submit_screening": ["staff"],
    "assess": ["dpo", "trust_dpo"],
    "choose_pia": ["staff", "headteacher", "chair"],
    "save_pia": ["staff", "dpo", "trust_dpo"],
    "add_risk": ["staff", "dpo", "trust_dpo"],
    "change_risk": ["staff", "dpo"],
    "remove_risk": ["staff", "trust_dpo"],
    "submit_pia": ["staff", "dpo", "trust_dpo"],
    "advise": ["dpo", "trust_dpo"],
    "decide": ["headteacher", "chair"],
    "withdraw": ["staff", "headteacher", "chair"],
}
REFUSED = {
    "answer_step_one": ["dsl", "headteacher", "dpo", "auditor", "other:staff", "trust_dpo"],
    "answer_step_two": ["dsl", "headteacher", "other:staff"],
    "answer_screening": ["information_manager", "chair", "dpo", "other:staff"],
    "submit_screening": ["volunteer", "headteacher", "dpo", "other:staff"],
    "assess": ["staff", "headteacher", "chair", "volunteer", "auditor", "other:dpo"],
    "choose_pia": ["dpo", "dsl", "volunteer", "auditor", "other:headteacher"],
    "save_pia": ["headteacher", "dsl", "auditor", "other:dpo", "other:staff"],
    "add_risk": ["chair", "volunteer", "other:dpo"],
    "change_risk": ["headteacher", "deputy_dsl", "other:dpo"],
    "remove_risk": ["chair", "information_manager", "other:dpo"],
    "submit_pia": ["headteacher", "chair", "dsl", "auditor", "other:dpo"],
    "advise": ["staff", "headteacher", "chair", "volunteer", "auditor", "other:dpo"],
    "decide": [
        "staff",
        "dpo",
        "trust_dpo",
        "dsl",
        "volunteer",
        "auditor",
        "other:headteacher",
        "other:chair",
    ],
    "withdraw": ["dpo", "trust_dpo", "dsl", "auditor", "other:headteacher", "other:staff"],
}


@pytest.mark.parametrize(
    ("step", "who"), [(step, who) for step, people in ALLOWED.items() for who in people]
)
def test_a_step_is_taken_by_those_allowed_and_audited_under_their_name(world, step, who):
    proposal = ready_for(world, step)
    actor = person(world, who)
    take(step, proposal, actor, world)
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert event.actor == actor
    assert event.organisation == world.school.organisation
    assert event.verb.startswith("proposal.")
    assert_chain_intact(world.school.organisation)


@pytest.mark.parametrize("step", list(REFUSED))
def test_a_step_is_refused_to_anyone_else(world, step, subtests):
    # A refusal changes nothing, so one proposal serves every refused person.
    proposal = ready_for(world, step)
    for who in REFUSED[step]:
        with subtests.test(who=who):
            actor = person(world, who)
            message = forbidden(proposal, partial(take, step, proposal, actor, world))
            assert message.startswith(("Only ", "You wrote"))


# The steps that can be taken at each status (by someone); every other one is out of order.
IN_ORDER: dict[str, set[str]] = {
    Status.DRAFT: {
        "answer_step_one",
        "answer_step_two",
        "answer_screening",
        "submit_screening",
        "withdraw",
    },
    Status.SCREENING_SUBMITTED: {"assess", "withdraw"},
    Status.ASSESSED: {"decide", "withdraw"},  # a full PIA not required
    Status.PIA_IN_PROGRESS: {"save_pia", "add_risk", "change_risk", "remove_risk", "submit_pia"}
    | {"withdraw"},
    Status.PIA_SUBMITTED: {"advise", "withdraw"},
    Status.ADVISED: {"decide", "withdraw"},
}
# Who would take the step at the right time: asked too early or too late, they are
# told where the proposal stands, not that the step is not theirs.
TAKER = {"assess": "dpo", "advise": "dpo", "decide": "headteacher", "choose_pia": "headteacher"}


@pytest.mark.parametrize("status", list(Status))
def test_every_step_out_of_order_is_refused_with_where_the_proposal_stands(world, status, subtests):
    proposal = at(world, status)
    has_risks = proposal.risks.exists()
    for step in STEPS:
        if step in IN_ORDER.get(status, set()):
            continue
        if step in {"change_risk", "remove_risk"} and not has_risks:
            continue  # there is no risk to name
        with subtests.test(step=step):
            actor = person(world, TAKER.get(step, "staff"))
            out_of_order(proposal, partial(take, step, fresh(proposal), actor, world))


# --- Step 1: deciding to share -------------------------------------------------------


def test_a_member_starts_a_proposal_with_step_one(world):
    staff = world.school["staff"]
    answers = drafts.step_one(
        name="  Reading tutors  ", why_personal_data=" Tutors need names. ", purpose_described=" x "
    )
    proposal = services.create_proposal(world.school.organisation, actor=staff, answers=answers)
    proposal = fresh(proposal)
    assert proposal.reference == f"PROP-{timezone.localdate().year}-0001"
    assert proposal.status == Status.DRAFT
    assert proposal.organisation == world.school.organisation
    assert proposal.created_by == staff
    assert proposal.name == "Reading tutors"
    assert proposal.purpose == Purpose.objects.get(code="other")
    assert proposal.purpose_described == "x"
    assert proposal.why_personal_data == "Tutors need names."
    assert proposal.achievable_without is False
    assert proposal.step_one_done
    assert_event("proposal.created", proposal, staff, {"name": "Reading tutors"})


def test_references_count_up_within_a_school_and_restart_in_another(world):
    year = timezone.localdate().year
    school, other = world.school.organisation, world.other.organisation
    # A refused proposal uses up no number.
    forbidden(
        None,
        lambda: services.create_proposal(
            school, actor=world.school["auditor"], answers=drafts.step_one()
        ),
    )
    first = services.create_proposal(school, actor=world.school["dsl"], answers=drafts.step_one())
    second = services.create_proposal(
        school, actor=world.school["staff"], answers=drafts.step_one()
    )
    elsewhere = services.create_proposal(
        other, actor=world.other["staff"], answers=drafts.step_one()
    )
    assert first.reference == f"PROP-{year}-0001"
    assert second.reference == f"PROP-{year}-0002"
    assert elsewhere.reference == f"PROP-{year}-0001"


DRAFTERS = [
    "headteacher",
    "chair",
    "dpo",
    "dsl",
    "deputy_dsl",
    "information_manager",
    "staff",
    "volunteer",
    "trust_dpo",
]


def test_any_member_but_an_auditor_may_draft(world, subtests):
    for who in DRAFTERS:
        with subtests.test(who=who):
            actor = person(world, who)
            proposal = services.create_proposal(
                world.school.organisation, actor=actor, answers=drafts.step_one()
            )
            assert proposal.created_by == actor
            assert last_event("proposal.created").actor == actor


def test_an_auditor_or_another_schools_member_may_not_draft(world, subtests):
    for who in ["auditor", "other:staff", "other:headteacher", "other:dpo"]:
        with subtests.test(who=who):
            actor = person(world, who)
            message = forbidden(
                None,
                partial(
                    services.create_proposal,
                    world.school.organisation,
                    actor=actor,
                    answers=drafts.step_one(),
                ),
            )
            assert message == "Only members of the organisation draft its sharing proposals."


def test_a_goal_achievable_without_personal_data_closes_the_proposal_with_the_reasons(world):
    staff = world.school["staff"]
    answers = drafts.step_one(
        achievable_without=True, achievable_without_reasons="  Class totals are enough.  "
    )
    before = AuditEvent.objects.count()
    proposal = fresh(
        services.create_proposal(world.school.organisation, actor=staff, answers=answers)
    )
    assert proposal.status == Status.NOT_NEEDED
    assert proposal.achievable_without is True
    assert proposal.achievable_without_reasons == "Class totals are enough."
    assert not proposal.is_open
    assert verbs_since(before) == ["proposal.created", "proposal.closed_not_needed"]
    assert_event("proposal.closed_not_needed", proposal, staff, {"status": "not_needed"})


def test_reasons_for_achieving_it_without_are_dropped_when_it_cannot_be(world):
    answers = drafts.step_one(achievable_without=False, achievable_without_reasons="Stale text")
    proposal = services.create_proposal(
        world.school.organisation, actor=world.school["staff"], answers=answers
    )
    assert fresh(proposal).achievable_without_reasons == ""


def test_a_purpose_from_the_list_needs_no_description(world):
    answers = drafts.step_one(
        purpose=Purpose.objects.get(code="pupil-progress"), purpose_described=""
    )
    proposal = services.create_proposal(
        world.school.organisation, actor=world.school["staff"], answers=answers
    )
    assert fresh(proposal).purpose_described == ""


STEP_ONE_ERRORS: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "  "}, "name", "Enter the name of the project or activity."),
    ({"purpose": None}, "purpose", "Choose the purpose of the sharing."),
    ({"purpose_described": " "}, "purpose_described", "Describe the purpose."),
    (
        {"why_personal_data": ""},
        "why_personal_data",
        "Explain why personal data needs to be shared.",
    ),
    (
        {"achievable_without": True, "achievable_without_reasons": " "},
        "achievable_without_reasons",
        "Explain how the goal can be achieved without sharing personal data.",
    ),
]


def test_a_new_proposal_with_a_missing_answer_is_refused_beside_its_field(world, subtests):
    for changes, field, message in STEP_ONE_ERRORS:
        with subtests.test(field=field):
            answers = drafts.step_one(**changes)
            errors = invalid(
                None,
                partial(
                    services.create_proposal,
                    world.school.organisation,
                    actor=world.school["staff"],
                    answers=answers,
                ),
            )
            assert errors == {field: [message]}


def test_every_missing_step_one_answer_is_reported_at_once(world):
    answers = drafts.step_one(name="", purpose=None, why_personal_data="")
    errors = invalid(
        None,
        lambda: services.create_proposal(
            world.school.organisation, actor=world.school["staff"], answers=answers
        ),
    )
    assert set(errors) == {"name", "purpose", "why_personal_data"}


def test_the_author_changes_step_one(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    answers = drafts.step_one(name="Reading tutors, year 3")
    services.answer_step_one(proposal, actor=staff, answers=answers)
    proposal = fresh(proposal)
    assert proposal.name == "Reading tutors, year 3"
    assert proposal.status == Status.DRAFT
    # Step 2 stays answered: only the first step's answers changed.
    assert proposal.step_two_done
    assert_event("proposal.step_one_answered", proposal, staff, {})


def test_changing_step_one_to_achievable_without_closes_the_draft(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    before = AuditEvent.objects.count()
    answers = drafts.step_one(achievable_without=True, achievable_without_reasons="Totals do.")
    services.answer_step_one(proposal, actor=staff, answers=answers)
    proposal = fresh(proposal)
    assert proposal.status == Status.NOT_NEEDED
    assert proposal.achievable_without_reasons == "Totals do."
    assert verbs_since(before) == ["proposal.step_one_answered", "proposal.closed_not_needed"]


def test_changed_step_one_answers_are_checked_too(world, subtests):
    proposal = at(world, Status.DRAFT)
    for changes, field, message in STEP_ONE_ERRORS:
        with subtests.test(field=field):
            answers = drafts.step_one(**changes)
            errors = invalid(
                proposal,
                partial(
                    services.answer_step_one, proposal, actor=world.school["staff"], answers=answers
                ),
            )
            assert errors == {field: [message]}


# --- Step 2: anonymisation -----------------------------------------------------------


def test_the_author_records_the_anonymisation_considered(world):
    staff = world.school["staff"]
    proposal = services.create_proposal(
        world.school.organisation, actor=staff, answers=drafts.step_one()
    )
    answers = drafts.step_two(reasons="  Tutors meet the pupils.  ")
    services.answer_step_two(proposal, actor=staff, answers=answers)
    proposal = fresh(proposal)
    assert proposal.status == Status.DRAFT
    assert proposal.anonymisation == Anonymisation.PSEUDONYMISATION
    assert proposal.anonymisation_reasons == "Tutors meet the pupils."
    assert proposal.anonymisation_meets_goal is False
    assert proposal.step_two_done
    changes = {"anonymisation": "pseudonymisation", "meets_goal": False}
    assert_event("proposal.step_two_answered", proposal, staff, changes)


@pytest.mark.parametrize(
    "anonymisation", [Anonymisation.FULL, Anonymisation.PSEUDONYMISATION, Anonymisation.PARTIAL]
)
def test_anonymisation_that_meets_the_goal_closes_with_no_personal_data_shared(
    world, anonymisation
):
    staff = world.school["staff"]
    proposal = services.create_proposal(
        world.school.organisation, actor=staff, answers=drafts.step_one()
    )
    before = AuditEvent.objects.count()
    answers = drafts.step_two(anonymisation=anonymisation, meets_goal=True)
    services.answer_step_two(proposal, actor=staff, answers=answers)
    proposal = fresh(proposal)
    assert proposal.status == Status.NO_PERSONAL_DATA
    assert proposal.anonymisation_meets_goal is True
    assert proposal.anonymisation_reasons == answers.reasons
    assert verbs_since(before) == ["proposal.step_two_answered", "proposal.closed_no_personal_data"]
    assert_event(
        "proposal.closed_no_personal_data", proposal, staff, {"status": "no_personal_data"}
    )


def test_step_two_may_be_changed_while_the_proposal_is_a_draft(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    answers = drafts.step_two(anonymisation=Anonymisation.NONE_FEASIBLE, meets_goal=False)
    services.answer_step_two(proposal, actor=staff, answers=answers)
    assert fresh(proposal).anonymisation == Anonymisation.NONE_FEASIBLE


STEP_TWO_ERRORS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"anonymisation": ""},
        "anonymisation",
        "Choose which kind of anonymisation was considered.",
    ),
    (
        {"anonymisation": "encryption"},
        "anonymisation",
        "Choose which kind of anonymisation was considered.",
    ),
    ({"reasons": "  "}, "reasons", "Explain what was considered and why."),
    (
        {"anonymisation": Anonymisation.NONE_FEASIBLE, "meets_goal": True},
        "meets_goal",
        "If no anonymisation is feasible, it cannot meet the goal: answer no, "
        "or choose what was considered.",
    ),
]


def test_bad_step_two_answers_are_refused_beside_their_field(world, subtests):
    staff = world.school["staff"]
    proposal = services.create_proposal(
        world.school.organisation, actor=staff, answers=drafts.step_one()
    )
    for changes, field, message in STEP_TWO_ERRORS:
        with subtests.test(field=field, changes=changes):
            answers = drafts.step_two(**changes)
            errors = invalid(
                proposal,
                partial(services.answer_step_two, proposal, actor=staff, answers=answers),
            )
            assert errors == {field: [message]}
    assert not fresh(proposal).step_two_done


# --- Step 3: the screening questions -------------------------------------------------


def screening_of(proposal: Proposal) -> dict[str, Any]:
    fields = [
        name for name in Screening.__dataclass_fields__ if name not in {"categories", "recipients"}
    ]
    values = Proposal.objects.filter(pk=proposal.pk).values(*fields).get()
    values["categories"] = sorted(proposal.categories.values_list("code", flat=True))
    values["recipients"] = sorted(proposal.recipients.values_list("slug", flat=True))
    return values


def test_the_author_answers_every_screening_question(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    answers = drafts.screening(
        world.local_authority,
        information_shared="  Names and reading ages.  ",
        categories=[
            DataCategory.objects.get(code="education"),
            DataCategory.objects.get(code="send"),
        ],
        special_category=True,
        special_category_details=" SEND support plans. ",
        privacy_notice=PrivacyNotice.PARTLY,
        privacy_notice_details="Tutoring is mentioned, the charity is not.",
        recipients=[world.local_authority, world.dfe],
        recipients_details="Through the council's tutoring hub.",
        new_systems=True,
        new_systems_details="The charity's booking app.",
        profiling=False,
        combines_sources=True,
        combines_sources_details="Matched with the council's list.",
    )
    services.answer_screening(proposal, actor=staff, answers=answers)
    proposal = fresh(proposal)
    assert proposal.status == Status.DRAFT
    assert screening_of(proposal) == {
        "information_shared": "Names and reading ages.",
        "categories": ["education", "send"],
        "special_category": True,
        "special_category_details": "SEND support plans.",
        "privacy_notice": "partly",
        "privacy_notice_details": "Tutoring is mentioned, the charity is not.",
        "recipients": ["dfe", "eastmoor"],
        "recipients_details": "Through the council's tutoring hub.",
        "new_systems": True,
        "new_systems_details": "The charity's booking app.",
        "automated_decisions": False,
        "automated_decisions_details": "",
        "profiling": False,
        "profiling_details": "",
        "combines_sources": True,
        "combines_sources_details": "Matched with the council's list.",
    }
    assert proposal.screening_done
    assert_event("proposal.screening_answered", proposal, staff, {"unanswered": []})


def test_the_screening_may_be_saved_part_answered(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    services.answer_screening(
        proposal, actor=staff, answers=Screening(information_shared="Names only.")
    )
    proposal = fresh(proposal)
    assert proposal.information_shared == "Names only."
    assert proposal.special_category is None
    assert not proposal.screening_done
    unanswered = [
        "automated_decisions",
        "combines_sources",
        "new_systems",
        "privacy_notice",
        "profiling",
        "recipients",
        "special_category",
    ]
    assert_event("proposal.screening_answered", proposal, staff, {"unanswered": unanswered})


def test_saving_the_screening_again_replaces_the_chosen_recipients_and_categories(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    services.answer_screening(proposal, actor=staff, answers=drafts.screening(world.dfe))
    answers = drafts.screening(world.local_authority, categories=[])
    services.answer_screening(proposal, actor=staff, answers=answers)
    assert screening_of(proposal)["recipients"] == ["eastmoor"]
    assert screening_of(proposal)["categories"] == []


def test_the_screening_waits_for_steps_one_and_two(world):
    staff = world.school["staff"]
    proposal = services.create_proposal(
        world.school.organisation, actor=staff, answers=drafts.step_one()
    )
    answers = drafts.screening(world.local_authority)
    errors = invalid(
        proposal, lambda: services.answer_screening(proposal, actor=staff, answers=answers)
    )
    assert errors == {"__all__": ["Answer steps 1 and 2 before the screening questions."]}


YES_NEEDS_DETAILS = {
    "special_category": "Say which special category data will be shared.",
    "new_systems": "Describe the new systems or technology.",
    "automated_decisions": "Describe the automated decisions and their effect on people.",
    "profiling": "Describe the profiling.",
    "combines_sources": "Say which sources are combined or matched.",
}


def test_a_yes_without_details_is_refused_beside_the_details(world, subtests):
    proposal = at(world, Status.DRAFT)
    for question, message in YES_NEEDS_DETAILS.items():
        for details in ["", "   "]:
            with subtests.test(question=question, details=details):
                answers = drafts.screening(
                    world.local_authority, **{question: True, f"{question}_details": details}
                )
                errors = invalid(
                    proposal,
                    partial(
                        services.answer_screening,
                        proposal,
                        actor=world.school["staff"],
                        answers=answers,
                    ),
                )
                assert errors == {f"{question}_details": [message]}


def test_every_yes_without_details_is_reported_at_once(world):
    proposal = at(world, Status.DRAFT)
    answers = drafts.screening(world.local_authority, **dict.fromkeys(YES_NEEDS_DETAILS, True))
    errors = invalid(
        proposal,
        lambda: services.answer_screening(proposal, actor=world.school["staff"], answers=answers),
    )
    assert set(errors) == {f"{question}_details" for question in YES_NEEDS_DETAILS}


def test_the_school_itself_is_not_a_recipient(world):
    proposal = at(world, Status.DRAFT)
    answers = drafts.screening(world.local_authority, recipients=[world.school.organisation])
    errors = invalid(
        proposal,
        lambda: services.answer_screening(proposal, actor=world.school["staff"], answers=answers),
    )
    assert errors == {"recipients": ["Choose the organisations you will share with, not your own."]}


def test_a_special_category_chosen_with_question_four_answered_no_is_refused(world):
    proposal = at(world, Status.DRAFT)
    health = DataCategory.objects.get(code="health")
    answers = drafts.screening(world.local_authority, categories=[health], special_category=False)
    errors = invalid(
        proposal,
        lambda: services.answer_screening(proposal, actor=world.school["staff"], answers=answers),
    )
    assert errors == {
        "special_category": [
            "You chose a special category of data in question 3: answer yes to question 4."
        ]
    }


def test_a_special_category_chosen_with_question_four_not_yet_answered_may_be_saved(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    health = DataCategory.objects.get(code="health")
    answers = Screening(information_shared="Medical needs.", categories=[health])
    services.answer_screening(proposal, actor=staff, answers=answers)
    assert screening_of(proposal)["categories"] == ["health"]


def test_an_unknown_privacy_notice_answer_is_refused(world):
    proposal = at(world, Status.DRAFT)
    answers = drafts.screening(world.local_authority, privacy_notice="maybe")
    errors = invalid(
        proposal,
        lambda: services.answer_screening(proposal, actor=world.school["staff"], answers=answers),
    )
    assert errors == {"privacy_notice": ["Choose yes, partly or no."]}


def test_the_completed_screening_goes_to_the_dpo(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    services.answer_screening(proposal, actor=staff, answers=drafts.screening(world.dfe))
    services.submit_screening(proposal, actor=staff)
    proposal = fresh(proposal)
    assert proposal.status == Status.SCREENING_SUBMITTED
    assert proposal.screening_submitted_by == staff
    assert proposal.screening_submitted_at is not None
    assert_event("proposal.screening_submitted", proposal, staff, {"status": "screening_submitted"})


def test_a_screening_with_questions_left_is_not_submitted_and_lists_them(world):
    staff = world.school["staff"]
    proposal = at(world, Status.DRAFT)
    answers = drafts.screening(world.dfe, new_systems=None, recipients=[], privacy_notice="")
    services.answer_screening(proposal, actor=staff, answers=answers)
    errors = invalid(proposal, lambda: services.submit_screening(proposal, actor=staff))
    assert errors == {
        "new_systems": ["Answer yes or no to question 7."],
        "privacy_notice": ["Say whether the privacy notice describes the purposes (question 5)."],
        "recipients": ["Choose who the information will be shared with (question 6)."],
    }


def test_a_screening_submitted_before_step_two_says_so_as_well_as_the_gaps(world):
    staff = world.school["staff"]
    proposal = services.create_proposal(
        world.school.organisation, actor=staff, answers=drafts.step_one()
    )
    errors = invalid(proposal, lambda: services.submit_screening(proposal, actor=staff))
    assert errors["__all__"] == ["Answer steps 1 and 2 before submitting the screening."]
    assert "information_shared" in errors
    assert "special_category" in errors


# --- The DPO's assessment ------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "status"),
    [
        (PiaRequirement.MANDATORY, Status.PIA_IN_PROGRESS),
        (PiaRequirement.RECOMMENDED, Status.ASSESSED),
        (PiaRequirement.NOT_REQUIRED, Status.ASSESSED),
    ],
)
def test_the_dpo_assesses_the_screening(world, requirement, status):
    dpo = world.school["dpo"]
    proposal = at(world, Status.SCREENING_SUBMITTED)
    services.assess_proposal(proposal, actor=dpo, requirement=requirement, reasons="  Because.  ")
    proposal = fresh(proposal)
    assert proposal.status == status
    assert proposal.pia_requirement == requirement
    assert proposal.assessment_reasons == "Because."
    assert proposal.assessed_by == dpo
    assert proposal.assessed_at is not None
    assert proposal.awaits_pia_choice is (requirement == PiaRequirement.RECOMMENDED)
    assert proposal.awaits_decision is (requirement == PiaRequirement.NOT_REQUIRED)
    changes = {"pia_requirement": requirement.value, "status": status.value}
    assert_event("proposal.assessed", proposal, dpo, changes)


def test_the_trust_dpo_assesses_in_each_of_its_schools(world):
    mine = at(world, Status.SCREENING_SUBMITTED)
    theirs = drafts.screened(world.other.organisation, world.other["staff"], world.dfe)
    for proposal in (mine, theirs):
        services.assess_proposal(
            proposal,
            actor=world.trust_dpo,
            requirement=PiaRequirement.NOT_REQUIRED,
            reasons="Low risk.",
        )
        assert fresh(proposal).assessed_by == world.trust_dpo


CHOOSE_REQUIREMENT = "Choose whether a full PIA is mandatory, recommended or not required."
ASSESSMENT_ERRORS = [
    ("", "Because.", "requirement", CHOOSE_REQUIREMENT),
    ("optional", "Because.", "requirement", CHOOSE_REQUIREMENT),
    (PiaRequirement.MANDATORY, "  ", "reasons", "Give the reasons for your assessment."),
]


def test_an_assessment_needs_a_requirement_and_reasons(world, subtests):
    proposal = at(world, Status.SCREENING_SUBMITTED)
    for requirement, reasons, field, message in ASSESSMENT_ERRORS:
        with subtests.test(requirement=requirement, reasons=reasons):
            errors = invalid(
                proposal,
                partial(
                    services.assess_proposal,
                    proposal,
                    actor=world.school["dpo"],
                    requirement=requirement,
                    reasons=reasons,
                ),
            )
            assert errors == {field: [message]}


# --- A recommended full PIA: taken up or declined -----------------------------------


@pytest.mark.parametrize("who", ["staff", "headteacher", "chair"])
def test_a_recommended_pia_is_taken_up(world, who):
    actor = person(world, who)
    proposal = recommended(world)
    services.choose_full_pia(proposal, actor=actor, take_up=True, reasons="Ignored")
    proposal = fresh(proposal)
    assert proposal.status == Status.PIA_IN_PROGRESS
    assert proposal.pia_taken_up is True
    assert proposal.pia_declined_reasons == ""
    assert proposal.pia_choice_by == actor
    assert proposal.needs_full_pia
    assert_event("proposal.pia_taken_up", proposal, actor, {"status": "pia_in_progress"})


def test_a_recommended_pia_is_declined_with_reasons_and_the_proposal_awaits_a_decision(world):
    staff = world.school["staff"]
    proposal = recommended(world)
    services.choose_full_pia(proposal, actor=staff, take_up=False, reasons="  A one-term pilot. ")
    proposal = fresh(proposal)
    assert proposal.status == Status.ASSESSED
    assert proposal.pia_taken_up is False
    assert proposal.pia_declined_reasons == "A one-term pilot."
    assert proposal.awaits_decision
    assert not proposal.awaits_pia_choice
    assert_event("proposal.pia_declined", proposal, staff, {"status": "assessed"})


def test_declining_a_recommended_pia_needs_reasons(world):
    proposal = recommended(world)
    errors = invalid(
        proposal,
        lambda: services.choose_full_pia(
            proposal, actor=world.school["staff"], take_up=False, reasons=" "
        ),
    )
    assert errors == {"reasons": ["Explain why the recommended full PIA will not be carried out."]}


def test_the_choice_is_made_once(world):
    proposal = recommended(world)
    services.choose_full_pia(proposal, actor=world.school["staff"], take_up=False, reasons="Pilot")
    out_of_order(
        proposal,
        lambda: services.choose_full_pia(proposal, actor=world.school["chair"], take_up=True),
    )


def test_a_recommended_pia_awaiting_the_choice_cannot_be_decided(world):
    proposal = recommended(world)
    out_of_order(
        proposal,
        lambda: services.decide_proposal(
            proposal, actor=world.school["headteacher"], decision=drafts.decision()
        ),
    )


# --- The full PIA and its risks -------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "dpo"])
def test_the_author_or_the_dpo_saves_the_pia(world, who):
    actor = person(world, who)
    proposal = at(world, Status.PIA_IN_PROGRESS)
    answers = drafts.pia(necessity="  Only what tutors need.  ")
    services.save_pia(proposal, actor=actor, answers=answers)
    proposal = fresh(proposal)
    assert proposal.status == Status.PIA_IN_PROGRESS
    assert proposal.processing_description == answers.processing_description
    assert proposal.necessity == "Only what tutors need."
    assert proposal.consultation == answers.consultation
    assert_event("proposal.pia_saved", proposal, actor, {})


def test_the_pia_may_be_saved_unfinished(world):
    proposal = at(world, Status.PIA_IN_PROGRESS)
    answers = drafts.pia(necessity="", consultation="")
    services.save_pia(proposal, actor=world.school["staff"], answers=answers)
    assert set(services.pia_gaps(fresh(proposal))) == {"necessity", "consultation", "risks"}


def test_a_risk_is_added_with_the_next_number_and_audited_by_its_label(world):
    staff = world.school["staff"]
    proposal = at(world, Status.PIA_IN_PROGRESS)
    first = services.add_risk(proposal, actor=staff, answers=drafts.risk(description="  Lost.  "))
    second = services.add_risk(
        proposal, actor=world.school["dpo"], answers=drafts.risk(effect="", measures="")
    )
    assert (first.position, second.position) == (1, 2)
    assert (first.label, second.label) == ("R1", "R2")
    first.refresh_from_db()
    assert first.description == "Lost."
    assert (first.likelihood, first.severity) == (Likelihood.PROBABLE, Severity.SIGNIFICANT)
    assert (first.residual_likelihood, first.residual_severity) == (1, 2)
    assert first.level == "high"
    assert first.residual_level == "low"
    assert first.is_complete
    event = last_event("proposal.risk_added", object_id=str(first.uuid))
    assert event.actor == staff
    assert event.object_label == f"{proposal.reference} risk 1"
    assert changes_of(event) == {"level": "high", "effect": "reduced", "residual_level": "low"}
    # The register names the risk, never what it says.
    assert "Lost" not in event.changes
    assert changes_of(last_event("proposal.risk_added")) == {
        "level": "high",
        "effect": "",
        "residual_level": "",
    }
    assert_chain_intact(proposal.organisation)


def test_an_accepted_risk_keeps_its_score_after_the_measures(world):
    proposal = at(world, Status.PIA_IN_PROGRESS)
    answers = drafts.risk(
        effect=Effect.ACCEPTED, residual_likelihood=Likelihood.REMOTE, residual_severity=1
    )
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=answers)
    risk.refresh_from_db()
    assert (risk.residual_likelihood, risk.residual_severity) == (risk.likelihood, risk.severity)
    assert risk.residual_level == risk.level == "high"
    assert risk.is_complete


def test_an_eliminated_risk_has_nothing_left_after_the_measures(world):
    proposal = at(world, Status.PIA_IN_PROGRESS)
    answers = drafts.risk(effect=Effect.ELIMINATED)
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=answers)
    risk.refresh_from_db()
    assert risk.residual_likelihood is None
    assert risk.residual_severity is None
    assert risk.residual_level is None
    assert risk.is_complete


def test_a_risk_not_yet_treated_keeps_no_residual_numbers(world):
    proposal = at(world, Status.PIA_IN_PROGRESS)
    answers = drafts.risk(measures="", effect="")
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=answers)
    risk.refresh_from_db()
    assert (risk.residual_likelihood, risk.residual_severity) == (None, None)
    assert not risk.is_complete


def test_a_reduced_risk_may_lower_either_number_as_long_as_the_score_falls(world):
    proposal = at(world, Status.PIA_IN_PROGRESS)
    # Possible and significant (4) to remote and severe (3): lower, though more severe.
    answers = drafts.risk(likelihood=2, severity=2, residual_likelihood=1, residual_severity=3)
    risk = services.add_risk(proposal, actor=world.school["staff"], answers=answers)
    assert risk.residual_level == "medium"


LOWER_IT = (
    "A reduced risk must be lower after the measures than before: lower its "
    "likelihood or severity, or choose 'accepted'."
)


GIVE_RESIDUAL = "Give the likelihood and severity left after the measures."
RISK_ERRORS: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
    ({"description": " "}, {"description": ["Describe the risk to individuals."]}),
    ({"source": ""}, {"source": ["Say where the risk comes from."]}),
    (
        {"measures": " ", "effect": Effect.ELIMINATED},
        {"measures": ["Describe the measures before saying what they do to the risk."]},
    ),
    ({"residual_likelihood": None}, {"residual_likelihood": [GIVE_RESIDUAL]}),
    ({"residual_severity": None}, {"residual_likelihood": [GIVE_RESIDUAL]}),
    # Probable x significant (6): the same score, or a higher one, is not reduced.
    ({"residual_likelihood": 2, "residual_severity": 3}, {"residual_likelihood": [LOWER_IT]}),
    ({"residual_likelihood": 3, "residual_severity": 2}, {"residual_likelihood": [LOWER_IT]}),
    ({"residual_likelihood": 3, "residual_severity": 3}, {"residual_likelihood": [LOWER_IT]}),
]


def test_bad_risk_answers_are_refused_beside_their_field(world, subtests):
    proposal, risk = with_risk(world)
    staff = world.school["staff"]
    for changes, errors in RISK_ERRORS:
        with subtests.test(changes=changes):
            answers = drafts.risk(**changes)
            added = invalid(
                proposal,
                partial(services.add_risk, proposal, actor=staff, answers=answers),
            )
            changed = invalid(
                proposal,
                partial(services.change_risk, risk, actor=staff, answers=answers),
            )
            assert added == changed == errors


def test_a_score_or_effect_outside_the_lists_is_refused_beside_its_field(world, subtests):
    proposal = at(world, Status.PIA_IN_PROGRESS)
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"likelihood": 4},
            "likelihood",
            "Choose how likely the harm is: remote, possible or probable.",
        ),
        (
            {"severity": 0},
            "severity",
            "Choose how severe the harm would be: minimal, significant or severe.",
        ),
        (
            {"effect": "transferred"},
            "effect",
            "Choose whether the measures eliminate, reduce or accept the risk.",
        ),
        (
            {"residual_likelihood": 0},
            "residual_likelihood",
            "Choose the likelihood and severity from the lists.",
        ),
    ]
    for changes, field, message in cases:
        with subtests.test(changes=changes):
            answers = drafts.risk(**changes)
            errors = invalid(
                proposal,
                partial(services.add_risk, proposal, actor=world.school["staff"], answers=answers),
            )
            assert errors[field] == [message]


def test_a_risk_is_changed_in_place(world):
    _, risk = with_risk(world)
    dpo = world.school["dpo"]
    answers = drafts.risk(likelihood=1, severity=3, effect=Effect.ACCEPTED, source=" Email ")
    changed = services.change_risk(risk, actor=dpo, answers=answers)
    changed.refresh_from_db()
    assert changed.pk == risk.pk
    assert changed.position == 1
    assert changed.source == "Email"
    assert (changed.residual_likelihood, changed.residual_severity) == (1, 3)
    event = last_event("proposal.risk_changed")
    assert event.actor == dpo
    assert event.object_id == str(risk.uuid)
    assert changes_of(event) == {
        "level": "medium",
        "effect": "accepted",
        "residual_level": "medium",
    }


def test_a_risk_is_removed_and_the_next_one_takes_a_new_number(world):
    proposal, first = with_risk(world)
    staff = world.school["staff"]
    second = services.add_risk(proposal, actor=staff, answers=drafts.risk())
    services.remove_risk(first, actor=staff)
    assert list(proposal.risks.values_list("position", flat=True)) == [2]
    third = services.add_risk(proposal, actor=staff, answers=drafts.risk())
    assert third.label == "R3"
    assert second.label == "R2"
    event = last_event("proposal.risk_removed")
    assert event.actor == staff
    assert event.object_label == f"{proposal.reference} risk 1"
    assert event.object_id == str(first.uuid)
    assert changes_of(event) == {"level": "high", "effect": "reduced", "residual_level": "low"}


def test_the_pia_goes_to_the_dpo_when_complete(world):
    staff = world.school["staff"]
    proposal, _ = with_risk(world)
    services.save_pia(proposal, actor=staff, answers=drafts.pia())
    services.add_risk(proposal, actor=staff, answers=drafts.risk(effect=Effect.ELIMINATED))
    services.submit_pia(proposal, actor=staff)
    proposal = fresh(proposal)
    assert proposal.status == Status.PIA_SUBMITTED
    assert proposal.pia_submitted_by == staff
    assert proposal.pia_submitted_at is not None
    assert_event("proposal.pia_submitted", proposal, staff, {"risks": 2, "status": "pia_submitted"})


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("processing_description", "Describe the processing."),
        ("necessity", "Explain why the sharing is necessary and proportionate."),
        ("consultation", "Say who was consulted."),
    ],
)
def test_a_pia_without_its_texts_is_not_submitted(world, field, message):
    staff = world.school["staff"]
    proposal, _ = with_risk(world)
    services.save_pia(proposal, actor=staff, answers=drafts.pia(**{field: "   "}))
    errors = invalid(proposal, lambda: services.submit_pia(proposal, actor=staff))
    assert errors == {field: [message]}


def test_a_pia_without_risks_is_not_submitted(world):
    staff = world.school["staff"]
    proposal = at(world, Status.PIA_IN_PROGRESS)
    services.save_pia(proposal, actor=staff, answers=drafts.pia())
    errors = invalid(proposal, lambda: services.submit_pia(proposal, actor=staff))
    assert errors == {"risks": ["Add at least one risk to the risk register."]}


def test_a_pia_with_a_risk_left_untreated_is_not_submitted_and_names_it(world):
    staff = world.school["staff"]
    proposal, _ = with_risk(world)
    services.save_pia(proposal, actor=staff, answers=drafts.pia())
    services.add_risk(proposal, actor=staff, answers=drafts.risk(measures="", effect=""))
    errors = invalid(proposal, lambda: services.submit_pia(proposal, actor=staff))
    assert errors == {"risks": ["Record the measures, their effect and the residual risk for R2."]}


def test_the_dpo_may_finish_and_submit_the_pia_the_author_started(world):
    # Design addendum: "the author or the DPO works on the full PIA and submits it".
    dpo = world.school["dpo"]
    proposal, _ = with_risk(world)
    services.save_pia(proposal, actor=dpo, answers=drafts.pia())
    services.submit_pia(proposal, actor=dpo)
    proposal = fresh(proposal)
    assert proposal.status == Status.PIA_SUBMITTED
    assert proposal.pia_submitted_by == dpo


# --- The DPO's advice ----------------------------------------------------------------


@pytest.mark.parametrize("advice", list(Advice))
def test_the_dpo_advises_on_the_pia(world, advice):
    dpo = world.school["dpo"]
    proposal = at(world, Status.PIA_SUBMITTED)
    services.advise_on_pia(proposal, actor=dpo, advice=advice, text="  Keep the list short. ")
    proposal = fresh(proposal)
    assert proposal.status == Status.ADVISED
    assert proposal.advice == advice
    assert proposal.advice_text == "Keep the list short."
    assert proposal.advised_by == dpo
    assert proposal.advised_at is not None
    assert proposal.awaits_decision
    assert_event("proposal.advised", proposal, dpo, {"advice": advice.value})


def test_advice_needs_a_choice_and_words(world, subtests):
    proposal = at(world, Status.PIA_SUBMITTED)
    for advice, text, field, message in [
        ("", "Go ahead.", "advice", "Choose whether you advise proceeding."),
        ("approve", "Go ahead.", "advice", "Choose whether you advise proceeding."),
        (Advice.PROCEED, "  ", "text", "Write your advice."),
    ]:
        with subtests.test(advice=advice, text=text):
            errors = invalid(
                proposal,
                partial(
                    services.advise_on_pia,
                    proposal,
                    actor=world.school["dpo"],
                    advice=advice,
                    text=text,
                ),
            )
            assert errors == {field: [message]}


# --- The decision --------------------------------------------------------------------

FOLLOWING = {
    Advice.PROCEED: {Outcome.APPROVED, Outcome.APPROVED_WITH_CONDITIONS},
    Advice.PROCEED_WITH_CONDITIONS: {Outcome.APPROVED_WITH_CONDITIONS},
    Advice.DO_NOT_PROCEED: {Outcome.CANCELLED},
}


def advised(world: World, advice: str) -> Proposal:
    school, author = world.school.organisation, world.school["staff"]
    return fresh(drafts.advised(school, author, world.school["dpo"], world.local_authority, advice))


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("advice", list(Advice))
def test_a_decision_against_the_advice_is_an_override_and_needs_its_own_reasons(
    world, advice, outcome
):
    head = world.school["headteacher"]
    proposal = advised(world, advice)
    overrides = outcome not in FOLLOWING[advice]
    conditions = "Review each term." if outcome == Outcome.APPROVED_WITH_CONDITIONS else ""
    if overrides:
        without = drafts.decision(outcome=outcome, conditions=conditions)
        errors = invalid(
            proposal, lambda: services.decide_proposal(proposal, actor=head, decision=without)
        )
        assert errors == {
            "override_reasons": [
                "Your decision goes against the DPO's advice: give your reasons for overriding it."
            ]
        }
    # Reasons for overriding are asked for exactly when the decision overrides.
    reasons = "  The governors weighed it.  " if overrides else ""
    decision = drafts.decision(outcome=outcome, conditions=conditions, override_reasons=reasons)
    services.decide_proposal(proposal, actor=head, decision=decision)
    proposal = fresh(proposal)
    assert proposal.status == outcome
    assert proposal.overrides_advice is overrides
    assert proposal.override_reasons == reasons.strip()
    assert proposal.decision_reasons == "The benefit to pupils is clear."
    assert proposal.conditions == conditions
    assert proposal.decided_by == head
    assert proposal.decided_at is not None
    changes = {"status": outcome.value, "overrides_advice": overrides}
    assert_event("proposal.decided", proposal, head, changes)


def test_override_reasons_given_for_a_decision_that_follows_the_advice_are_not_kept(world):
    proposal = advised(world, Advice.PROCEED)
    decision = drafts.decision(outcome=Outcome.APPROVED, override_reasons="Just in case.")
    services.decide_proposal(proposal, actor=world.school["chair"], decision=decision)
    proposal = fresh(proposal)
    assert proposal.overrides_advice is False
    assert proposal.override_reasons == ""


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("path", ["not_required", "recommended_declined"])
def test_a_decision_without_a_full_pia_has_no_advice_to_override(world, path, outcome):
    chair = world.school["chair"]
    if path == "not_required":
        proposal = at(world, Status.ASSESSED)
    else:
        proposal = recommended(world)
        services.choose_full_pia(
            proposal, actor=world.school["staff"], take_up=False, reasons="Pilot."
        )
    decision = drafts.decision(
        outcome=outcome, conditions="Review each term.", override_reasons="Not needed."
    )
    services.decide_proposal(proposal, actor=chair, decision=decision)
    proposal = fresh(proposal)
    assert proposal.status == outcome
    assert proposal.overrides_advice is False
    assert proposal.override_reasons == ""


def test_conditions_are_kept_only_with_an_approval_with_conditions(world):
    proposal = at(world, Status.ASSESSED)
    decision = drafts.decision(outcome=Outcome.APPROVED, conditions="Stray conditions")
    services.decide_proposal(proposal, actor=world.school["headteacher"], decision=decision)
    assert fresh(proposal).conditions == ""


CHOOSE_OUTCOME = "Choose approve, approve with conditions, or cancel."
DECISION_ERRORS: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
    ({"reasons": " "}, {"reasons": ["Give the reasons for your decision."]}),
    (
        {"outcome": Outcome.APPROVED_WITH_CONDITIONS, "conditions": " "},
        {"conditions": ["Set out the conditions."]},
    ),
    # An unknown outcome is not also called an override of the advice.
    ({"outcome": ""}, {"outcome": [CHOOSE_OUTCOME]}),
    ({"outcome": "postponed"}, {"outcome": [CHOOSE_OUTCOME]}),
]


@pytest.mark.parametrize("path", ["assessed", "advised"])
def test_a_decision_needs_an_outcome_reasons_and_any_conditions(world, path, subtests):
    proposal = at(world, Status.ASSESSED) if path == "assessed" else advised(world, Advice.PROCEED)
    for changes, errors in DECISION_ERRORS:
        with subtests.test(changes=changes):
            decision = drafts.decision(**changes)
            refused = invalid(
                proposal,
                partial(
                    services.decide_proposal,
                    proposal,
                    actor=world.school["headteacher"],
                    decision=decision,
                ),
            )
            assert refused == errors


def test_a_headteacher_who_wrote_the_proposal_may_not_decide_it_and_the_chair_may(world):
    head, chair = world.school["headteacher"], world.school["chair"]
    proposal = at(world, Status.ASSESSED, author=head)
    message = forbidden(
        proposal,
        lambda: services.decide_proposal(proposal, actor=head, decision=drafts.decision()),
    )
    assert message == "You wrote this proposal, so someone else must decide it."
    actions = services.actions_for(proposal, head)
    assert not actions.decide
    assert actions.decide_refused_because.startswith("You wrote this proposal")
    services.decide_proposal(proposal, actor=chair, decision=drafts.decision())
    assert fresh(proposal).decided_by == chair


def test_a_chair_who_wrote_the_proposal_may_not_decide_it_even_after_advice(world):
    chair = world.school["chair"]
    school, dpo = world.school.organisation, world.school["dpo"]
    proposal = drafts.advised(school, chair, dpo, world.dfe)
    forbidden(
        proposal,
        lambda: services.decide_proposal(proposal, actor=chair, decision=drafts.decision()),
    )


# --- Withdrawal ----------------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_an_open_proposal_is_withdrawn_and_kept_with_the_reason(world, status):
    staff = world.school["staff"]
    proposal = at(world, status)
    services.withdraw_proposal(proposal, actor=staff, reasons="  The charity closed.  ")
    proposal = fresh(proposal)
    assert proposal.status == Status.WITHDRAWN
    assert proposal.withdrawn_reasons == "The charity closed."
    assert proposal.withdrawn_by == staff
    assert proposal.withdrawn_at is not None
    assert not proposal.is_open
    # Kept: the answers given so far are still there.
    assert proposal.name == drafts.step_one().name
    assert_event(
        "proposal.withdrawn", proposal, staff, {"from": status.value, "status": "withdrawn"}
    )


@pytest.mark.parametrize("status", CLOSED_STATUSES)
def test_a_closed_proposal_cannot_be_withdrawn(world, status):
    proposal = at(world, status)
    out_of_order(
        proposal,
        lambda: services.withdraw_proposal(
            proposal, actor=world.school["staff"], reasons="Changed our minds."
        ),
    )


def test_a_withdrawal_needs_a_reason(world):
    proposal = at(world, Status.DRAFT)
    errors = invalid(
        proposal,
        lambda: services.withdraw_proposal(proposal, actor=world.school["staff"], reasons=" "),
    )
    assert errors == {"reasons": ["Give the reason for withdrawing the proposal."]}


# --- What the pages are told a person may do ----------------------------------------


def test_actions_follow_the_proposal_through_its_steps(world):
    staff, dpo, head = world.school["staff"], world.school["dpo"], world.school["headteacher"]
    proposal = at(world, Status.DRAFT)
    assert services.actions_for(proposal, staff) == services.Actions(edit_draft=True, withdraw=True)
    assert services.actions_for(proposal, dpo) == services.Actions()
    assert services.actions_for(proposal, head) == services.Actions(withdraw=True)
    proposal = at(world, Status.PIA_SUBMITTED)
    assert services.actions_for(proposal, dpo) == services.Actions(advise=True)
    assert services.actions_for(proposal, world.trust_dpo) == services.Actions(advise=True)
    assert services.actions_for(proposal, world.other["dpo"]) == services.Actions()
    proposal = at(world, Status.APPROVED)
    for user in (staff, dpo, head, world.school["auditor"]):
        assert services.actions_for(proposal, user) == services.Actions()
