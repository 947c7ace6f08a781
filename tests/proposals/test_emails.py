"""Who is told what, at each step of a proposal, once the step's transaction commits.

The first tests read Django's outbox; the last ones hold a real SMTP
conversation with a local server (tests/smtp.py) and check what it received.
"""

from __future__ import annotations

from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from infoshare.core.models import Membership, User
from infoshare.proposals import services
from infoshare.proposals.models import Advice, Outcome, PiaRequirement, Proposal, Status
from tests.core.support import told
from tests.proposals import drafts

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    # pytest-django's django_capture_on_commit_callbacks
    Capture = Callable[..., AbstractContextManager[list[Callable[[], object]]]]

    from tests.conftest import World
    from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db

SCHOOL_DPOS = ["dpo@alder.test", "dpo@northbridge.test"]  # the school's own and the trust's
DECIDERS = ["chair@alder.test", "headteacher@alder.test"]
AUTHOR = "staff@alder.test"


def subject(proposal: Proposal, what: str) -> str:
    return f"Sharing proposal {proposal.reference} {what}"


def link(proposal: Proposal) -> str:
    return settings.BASE_URL.rstrip("/") + proposal.get_absolute_url()


def draft_with_screening(world: World, author: User) -> Proposal:
    proposal = drafts.drafted(world.school.organisation, author)
    answers = drafts.screening(world.local_authority)
    return services.answer_screening(proposal, actor=author, answers=answers)


# --- Who is told, step by step -------------------------------------------------------


def test_drafting_tells_nobody(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    assert (
        told(django_capture_on_commit_callbacks, lambda: draft_with_screening(world, staff)) == {}
    )


def test_a_submitted_screening_tells_the_schools_dpos_and_the_trusts(
    world, django_capture_on_commit_callbacks
):
    staff = world.school["staff"]
    proposal = draft_with_screening(world, staff)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.submit_screening(proposal, actor=staff),
    )
    # Not the other school's DPO, and not the author.
    assert sent == {subject(proposal, "needs your assessment"): SCHOOL_DPOS}
    for message in mail.outbox:
        assert link(proposal) in message.body
        assert "Staff of Alder Primary School has submitted" in message.body


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        (PiaRequirement.MANDATORY, {}),
        (PiaRequirement.RECOMMENDED, {"has a full PIA recommended": DECIDERS}),
        (PiaRequirement.NOT_REQUIRED, {"is ready for your decision": DECIDERS}),
    ],
)
def test_an_assessment_tells_the_author_and_any_decider_who_is_next(
    world, django_capture_on_commit_callbacks, requirement, expected
):
    proposal = drafts.screened(world.school.organisation, world.school["staff"], world.dfe)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.assess_proposal(
            proposal, actor=world.trust_dpo, requirement=requirement, reasons="Seen."
        ),
    )
    assert sent == {
        subject(proposal, "has been assessed by the DPO"): [AUTHOR],
        **{subject(proposal, what): people for what, people in expected.items()},
    }
    assessed = next(m for m in mail.outbox if m.to == [AUTHOR])
    assert "Dana Trust-DPO, the data protection officer, has assessed" in assessed.body


def recommended(world: World, author: User) -> Proposal:
    school, dpo = world.school.organisation, world.school["dpo"]
    return drafts.assessed(school, author, dpo, world.dfe, PiaRequirement.RECOMMENDED)


def test_declining_a_recommended_pia_tells_the_deciders(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    proposal = recommended(world, staff)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.choose_full_pia(proposal, actor=staff, take_up=False, reasons="Pilot."),
    )
    assert sent == {subject(proposal, "is ready for your decision"): DECIDERS}


def test_the_author_taking_up_a_recommended_pia_tells_nobody(
    world, django_capture_on_commit_callbacks
):
    staff = world.school["staff"]
    proposal = recommended(world, staff)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.choose_full_pia(proposal, actor=staff, take_up=True),
    )
    assert sent == {}


def test_a_decider_taking_up_a_recommended_pia_tells_the_author(
    world, django_capture_on_commit_callbacks
):
    staff, headteacher = world.school["staff"], world.school["headteacher"]
    proposal = recommended(world, staff)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.choose_full_pia(proposal, actor=headteacher, take_up=True),
    )
    assert sent == {subject(proposal, "needs its full PIA"): [staff.email]}


def test_working_on_the_pia_tells_nobody_and_submitting_it_tells_the_dpos(
    world, django_capture_on_commit_callbacks
):
    staff = world.school["staff"]
    school, dpo = world.school.organisation, world.school["dpo"]
    proposal = drafts.assessed(school, staff, dpo, world.dfe, PiaRequirement.MANDATORY)

    def work() -> None:
        services.save_pia(proposal, actor=staff, answers=drafts.pia())
        risk = services.add_risk(proposal, actor=dpo, answers=drafts.risk())
        services.change_risk(risk, actor=staff, answers=drafts.risk(description="Lost list"))

    assert told(django_capture_on_commit_callbacks, work) == {}
    sent = told(
        django_capture_on_commit_callbacks, lambda: services.submit_pia(proposal, actor=staff)
    )
    assert sent == {subject(proposal, "needs your advice on its full PIA"): SCHOOL_DPOS}
    assert "Staff of Alder Primary School has submitted the full" in mail.outbox[0].body


def test_advice_tells_the_deciders(world, django_capture_on_commit_callbacks):
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    proposal = drafts.pia_submitted(school, staff, dpo, world.dfe)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.advise_on_pia(
            proposal, actor=dpo, advice=Advice.DO_NOT_PROCEED, text="Too much data."
        ),
    )
    assert sent == {subject(proposal, "is ready for your decision"): DECIDERS}
    assert "The data protection officer's advice: Do not proceed." in mail.outbox[0].body


def test_a_decision_tells_the_author_and_the_dpos(world, django_capture_on_commit_callbacks):
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    proposal = drafts.advised(school, staff, dpo, world.dfe, Advice.DO_NOT_PROCEED)
    decision = drafts.decision(outcome=Outcome.APPROVED, override_reasons="Pupils need it.")
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.decide_proposal(
            proposal, actor=world.school["headteacher"], decision=decision
        ),
    )
    assert sent == {subject(proposal, "has been decided: approved"): sorted([AUTHOR, *SCHOOL_DPOS])}
    assert "This decision overrides the data protection officer's advice." in mail.outbox[0].body


def test_a_headteacher_who_wrote_the_proposal_is_not_asked_to_decide_it(
    world, django_capture_on_commit_callbacks
):
    head = world.school["headteacher"]
    proposal = drafts.screened(world.school.organisation, head, world.dfe)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.assess_proposal(
            proposal,
            actor=world.school["dpo"],
            requirement=PiaRequirement.NOT_REQUIRED,
            reasons="Low risk.",
        ),
    )
    assert sent[subject(proposal, "is ready for your decision")] == ["chair@alder.test"]
    assert sent[subject(proposal, "has been assessed by the DPO")] == ["headteacher@alder.test"]
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.decide_proposal(
            proposal, actor=world.school["chair"], decision=drafts.decision()
        ),
    )
    # As the author, the headteacher hears the outcome.
    assert sent == {
        subject(proposal, "has been decided: approved"): sorted(
            ["headteacher@alder.test", *SCHOOL_DPOS]
        )
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("staff", SCHOOL_DPOS),
        ("headteacher", sorted([AUTHOR, *SCHOOL_DPOS])),
    ],
)
def test_a_withdrawal_tells_the_author_and_the_dpos_but_not_whoever_withdrew(
    world, django_capture_on_commit_callbacks, who, expected
):
    proposal = drafts.screened(world.school.organisation, world.school["staff"], world.dfe)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.withdraw_proposal(
            proposal, actor=world.school[who], reasons="The charity closed."
        ),
    )
    assert sent == {subject(proposal, "has been withdrawn"): expected}


def test_people_who_have_left_or_are_switched_off_are_not_told(
    world, django_capture_on_commit_callbacks
):
    # The trust's DPO has left the school; the headteacher's account is switched off.
    Membership.objects.filter(user=world.trust_dpo, organisation=world.school.organisation).update(
        ended_at=timezone.now()
    )
    User.objects.filter(pk=world.school["headteacher"].pk).update(is_active=False)
    proposal = drafts.screened(world.school.organisation, world.school["staff"], world.dfe)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.assess_proposal(
            proposal,
            actor=world.school["dpo"],
            requirement=PiaRequirement.NOT_REQUIRED,
            reasons="Low risk.",
        ),
    )
    assert sent[subject(proposal, "is ready for your decision")] == ["chair@alder.test"]


def test_withdrawing_a_draft_tells_nobody(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    proposal = drafts.drafted(world.school.organisation, staff)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.withdraw_proposal(proposal, actor=staff, reasons="Not now."),
    )
    assert sent == {}


def test_nobody_is_told_when_the_step_is_rolled_back(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    proposal = draft_with_screening(world, staff)
    mail.outbox.clear()

    class Abandoned(Exception):
        """Something after the step fails, so its transaction is rolled back."""

    def submit_then_fail() -> None:
        with transaction.atomic():
            services.submit_screening(proposal, actor=staff)
            raise Abandoned

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abandoned):
        submit_then_fail()
    assert Proposal.objects.get(pk=proposal.pk).status == Status.DRAFT
    assert callbacks == []
    assert mail.outbox == []


def test_a_refused_step_tells_nobody(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    proposal = drafts.drafted(world.school.organisation, staff)  # screening not answered
    mail.outbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError),
    ):
        services.submit_screening(proposal, actor=staff)
    assert callbacks == []
    assert mail.outbox == []


# --- A real SMTP conversation --------------------------------------------------------

# Screening answers no email may carry: they are for the people who open the proposal.
SECRET_ANSWERS = {
    "information_shared": "Reading ages and dyslexia screening results",
    "special_category_details": "Dyslexia assessments from the educational psychologist",
    "new_systems_details": "The charity's ReadWell tablet app",
    "combines_sources_details": "Matched with the council's tutoring list",
    "recipients_details": "The charity's volunteer tutors",
}


def walk_to_a_decision(world: World, capture: Capture) -> Proposal:
    """The whole path through a mandatory full PIA, each step's emails sent as it commits."""
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    with capture(execute=True):
        proposal = drafts.drafted(school, staff)
        answers = drafts.screening(
            world.local_authority,
            special_category=True,
            new_systems=True,
            combines_sources=True,
            **SECRET_ANSWERS,
        )
        services.answer_screening(proposal, actor=staff, answers=answers)
    with capture(execute=True):
        services.submit_screening(proposal, actor=staff)
    with capture(execute=True):
        services.assess_proposal(
            proposal, actor=dpo, requirement=PiaRequirement.MANDATORY, reasons="Special category."
        )
    with capture(execute=True):
        services.save_pia(proposal, actor=staff, answers=drafts.pia())
        services.add_risk(proposal, actor=staff, answers=drafts.risk())
    with capture(execute=True):
        services.submit_pia(proposal, actor=staff)
    with capture(execute=True):
        services.advise_on_pia(proposal, actor=dpo, advice=Advice.PROCEED, text="Go ahead.")
    with capture(execute=True):
        services.decide_proposal(
            proposal, actor=world.school["headteacher"], decision=drafts.decision()
        )
    return proposal


def test_the_smtp_server_receives_one_message_a_person_at_each_step(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    proposal = walk_to_a_decision(world, django_capture_on_commit_callbacks)
    received = [(message.subject, message.rcpt_tos) for message in smtp_server.received]
    expected_steps = [
        ("needs your assessment", SCHOOL_DPOS),
        ("has been assessed by the DPO", [AUTHOR]),
        ("needs your advice on its full PIA", SCHOOL_DPOS),
        ("is ready for your decision", DECIDERS),
        ("has been decided: approved", sorted([AUTHOR, *SCHOOL_DPOS])),
    ]
    expected = [
        (subject(proposal, what), (address,))
        for what, addresses in expected_steps
        for address in addresses
    ]
    assert received == expected
    assert mail.outbox == []  # they went over the wire, not to the test outbox


def test_each_message_names_only_its_recipient_and_comes_from_infoshare(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    walk_to_a_decision(world, django_capture_on_commit_callbacks)
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    assert smtp_server.received
    for message in smtp_server.received:
        (recipient,) = message.rcpt_tos
        assert message.mail_from == sender
        assert message.header("From") == settings.DEFAULT_FROM_EMAIL
        assert [address for _, address in getaddresses([message.header("To") or ""])] == [recipient]
        assert message.header("Cc") is None
        assert message.header("Bcc") is None
        # No other recipient's address anywhere in what this person receives.
        others = {a for m in smtp_server.received for a in m.rcpt_tos} - {recipient}
        raw = message.message.as_string()
        assert not any(address in raw for address in others)


def test_each_message_links_to_the_proposal_and_carries_no_screening_answers(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    proposal = walk_to_a_decision(world, django_capture_on_commit_callbacks)
    step_one = drafts.step_one()
    for message in smtp_server.received:
        body = message.body
        assert f"{proposal.reference}: {proposal.name}" in body
        assert link(proposal) in body
        assert link(proposal).startswith(settings.BASE_URL.rstrip("/") + "/o/alder/proposals/")
        for answer in [*SECRET_ANSWERS.values(), step_one.purpose_described]:
            assert answer not in message.message.as_string(), (message.subject, answer)
        assert step_one.why_personal_data not in body


def test_the_dpo_reads_the_message_meant_for_them(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    proposal = walk_to_a_decision(world, django_capture_on_commit_callbacks)
    subjects = [message.subject for message in smtp_server.to("dpo@northbridge.test")]
    assert subjects == [
        subject(proposal, "needs your assessment"),
        subject(proposal, "needs your advice on its full PIA"),
        subject(proposal, "has been decided: approved"),
    ]
    first = smtp_server.to("dpo@northbridge.test")[0].body
    assert "As the data protection officer, please assess it" in first
    assert smtp_server.to("dpo@birch.test") == []
