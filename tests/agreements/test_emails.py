"""Who is told what, at each step of an agreement, once the step's transaction commits.

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

from infoshare.agreements import lifecycle, services
from infoshare.agreements.models import Agreement, Kind, Status
from infoshare.agreements.services import Content
from infoshare.core.models import Membership, User
from tests.agreements import drafts
from tests.core.support import told

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    # pytest-django's django_capture_on_commit_callbacks
    Capture = Callable[..., AbstractContextManager[list[Callable[[], object]]]]

    from tests.conftest import World
    from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db

SCHOOL_DPOS = ["dpo@alder.test", "dpo@northbridge.test"]  # the school's own and the trust's
APPROVERS = ["chair@alder.test", "headteacher@alder.test"]
INFORMATION_MANAGEMENT = [
    "dpo@alder.test",
    "dpo@northbridge.test",
    "information_manager@alder.test",
]
DRAFTER = "staff@alder.test"


def subject(agreement: Agreement, what: str) -> str:
    return f"{agreement.get_kind_display()} {agreement.reference} {what}"


def link(agreement: Agreement) -> str:
    return settings.BASE_URL.rstrip("/") + agreement.get_absolute_url()


def body_to(address: str) -> str:
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return str(message.body)


def advised(world: World, drafter: User) -> Agreement:
    school = world.school
    return drafts.advised(school.organisation, drafter, school["dpo"], world.local_authority)


# --- Who is told, step by step -------------------------------------------------------


def test_drafting_tells_nobody(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]

    def draft() -> None:
        agreement = drafts.drafted(world.school.organisation, staff, world.dfe, kind=Kind.DPA)
        services.update_content(agreement, actor=staff, content=drafts.content(frequency="Daily"))

    assert told(django_capture_on_commit_callbacks, draft) == {}


def test_asking_for_advice_tells_the_schools_dpos_and_the_trusts(
    world, django_capture_on_commit_callbacks
):
    staff = world.school["staff"]
    agreement = drafts.drafted(world.school.organisation, staff, world.local_authority)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.request_advice(agreement, actor=staff),
    )
    # Not the other school's DPO, and not the drafter.
    assert sent == {subject(agreement, "needs your advice"): SCHOOL_DPOS}
    body = body_to("dpo@northbridge.test")
    assert "Staff of Alder Primary School asks for your advice" in body
    assert (
        f"{agreement.reference}: {agreement.title} (information sharing agreement, version 1)"
        in body
    )
    assert "the headteacher or the chair of governors approves it" in body
    assert link(agreement) in body


def test_advice_tells_the_drafter_and_asks_the_headteacher_and_chair_to_approve(
    world, django_capture_on_commit_callbacks
):
    staff, dpo = world.school["staff"], world.school["dpo"]
    agreement = drafts.advice_requested(world.school.organisation, staff, world.local_authority)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.advise_on_agreement(agreement, actor=dpo, advice="Fine as it is."),
    )
    assert sent == {
        subject(agreement, "has the DPO's advice"): [DRAFTER],
        subject(agreement, "is ready for your approval"): APPROVERS,
    }
    assert "Data protection officer of Alder Primary School, the data protection officer" in (
        body_to(DRAFTER)
    )
    assert "ready for your approval" in body_to("chair@alder.test")


def test_a_headteacher_who_drafted_it_is_told_of_the_advice_but_not_asked_to_approve(
    world, django_capture_on_commit_callbacks
):
    head = world.school["headteacher"]
    agreement = drafts.advice_requested(world.school.organisation, head, world.local_authority)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.advise_on_agreement(
            agreement, actor=world.trust_dpo, advice="Fine as it is."
        ),
    )
    assert sent == {
        subject(agreement, "has the DPO's advice"): ["headteacher@alder.test"],
        subject(agreement, "is ready for your approval"): ["chair@alder.test"],
    }


@pytest.mark.parametrize(
    ("drafter", "approver", "expected"),
    [
        ("staff", "headteacher", sorted([DRAFTER, *SCHOOL_DPOS])),
        # The approver is not told of what they did themselves.
        ("chair", "headteacher", sorted(["chair@alder.test", *SCHOOL_DPOS])),
    ],
)
def test_approval_tells_the_drafter_and_the_dpos_but_not_the_approver(
    world, django_capture_on_commit_callbacks, drafter, approver, expected
):
    agreement = advised(world, world.school[drafter])
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.approve_agreement(agreement, actor=world.school[approver]),
    )
    assert sent == {subject(agreement, "has been approved"): expected}
    body = body_to("dpo@alder.test")
    assert "Headteacher of Alder Primary School has approved" in body
    assert f"{agreement.reference}: {agreement.title} (version 1)" in body


def test_a_dpo_who_also_approves_is_not_told_of_their_own_approval(
    world, django_capture_on_commit_callbacks
):
    head = world.school["headteacher"]
    Membership.objects.get(user=head, organisation=world.school.organisation).set_roles(
        ["headteacher", "dpo"]
    )
    agreement = advised(world, world.school["staff"])
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.approve_agreement(agreement, actor=head),
    )
    assert sent == {subject(agreement, "has been approved"): sorted([DRAFTER, *SCHOOL_DPOS])}


def approved(world: World) -> Agreement:
    school = world.school
    return drafts.approved(
        school.organisation,
        school["staff"],
        school["dpo"],
        school["headteacher"],
        world.local_authority,
    )


def test_signatures_and_reviews_tell_nobody(world, django_capture_on_commit_callbacks):
    keeper = world.school["information_manager"]
    agreement = approved(world)

    def keep() -> None:
        drafts.signed(agreement, keeper)
        drafts.under_review(agreement, keeper)
        lifecycle.complete_review(agreement, actor=keeper, answers=drafts.review())

    assert told(django_capture_on_commit_callbacks, keep) == {}


def test_termination_tells_the_information_management_contact(
    world, django_capture_on_commit_callbacks
):
    agreement = approved(world)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: drafts.terminated(agreement, world.school["chair"]),
    )
    assert sent == {
        subject(
            agreement, "has been terminated: confirm what happens to the data"
        ): INFORMATION_MANAGEMENT
    }
    body = body_to("information_manager@alder.test")
    assert "Chair of governors of Alder Primary School has recorded that every party agreed" in body
    assert "confirm what happened to it, with the evidence" in body


def test_expiry_tells_the_information_management_contact_what_happened_to_the_data(
    world, django_capture_on_commit_callbacks
):
    agreement = drafts.terminated(approved(world), world.school["headteacher"])
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: drafts.expired(agreement, world.school["information_manager"]),
    )
    assert sent == {subject(agreement, "has expired"): INFORMATION_MANAGEMENT}
    agreement = Agreement.objects.get(pk=agreement.pk)
    body = body_to("dpo@northbridge.test")
    assert "is no longer in place" in body
    on = f"{agreement.data_fate_on:%-d %B %Y}"
    assert f"the data shared under it was destroyed on {on}" in body
    assert "It is logged on the register as expired." in body


def test_withdrawing_and_revising_tell_nobody(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    agreement = advised(world, staff)

    def revise_then_withdraw() -> None:
        services.revise_agreement(agreement, actor=staff)
        services.withdraw_agreement(agreement, actor=staff, reasons="Not needed.")

    assert told(django_capture_on_commit_callbacks, revise_then_withdraw) == {}


def test_people_who_have_left_or_are_switched_off_are_not_told(
    world, django_capture_on_commit_callbacks
):
    Membership.objects.filter(user=world.trust_dpo, organisation=world.school.organisation).update(
        ended_at=timezone.now()
    )
    User.objects.filter(pk=world.school["chair"].pk).update(is_active=False)
    agreement = drafts.advice_requested(
        world.school.organisation, world.school["staff"], world.local_authority
    )
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.advise_on_agreement(agreement, actor=world.school["dpo"], advice="Fine."),
    )
    assert sent[subject(agreement, "is ready for your approval")] == ["headteacher@alder.test"]


def test_nobody_is_told_when_the_step_is_rolled_back(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    agreement = drafts.drafted(world.school.organisation, staff, world.local_authority)
    mail.outbox.clear()

    class Abandoned(Exception):
        """Something after the step fails, so its transaction is rolled back."""

    def request_then_fail() -> None:
        with transaction.atomic():
            services.request_advice(agreement, actor=staff)
            raise Abandoned

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abandoned):
        request_then_fail()
    assert Agreement.objects.get(pk=agreement.pk).status == Status.DRAFT
    assert callbacks == []
    assert mail.outbox == []


def test_a_refused_step_tells_nobody(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    # Nothing but a title: the DPO is not asked for advice on an empty draft.
    agreement = services.create_agreement(
        world.school.organisation, actor=staff, kind=Kind.AGREEMENT, content=Content(title="New")
    )
    mail.outbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError),
    ):
        services.request_advice(agreement, actor=staff)
    assert callbacks == []
    assert mail.outbox == []


# --- A real SMTP conversation --------------------------------------------------------

# Content no email may carry: it is for the people who open the agreement.
SECRET_CONTENT = {
    "purpose": "To support pupils on the edge of exclusion in Year 9",
    "data_shared": "Behaviour logs and SEND support plans",
    "security_measures": "Encrypted with the council's key held by Ms Example",
    "retention": "Kept until the pupil's 25th birthday",
    "return_or_disposal": "Shredded by the council's records team",
}
ADVICE = "Name the retention period of the council's portal"
TERMINATION_REASONS = "The exclusions panel has been closed"
DATA_FATE_DETAILS = "Certificate 7741 from the council's records team"


def walk_to_expiry(world: World, capture: Capture) -> Agreement:
    """The whole life of an agreement, each step's emails sent as it commits."""
    school = world.school
    staff, dpo, head = school["staff"], school["dpo"], school["headteacher"]
    keeper = school["information_manager"]
    with capture(execute=True):
        agreement = drafts.drafted(
            school.organisation, staff, world.local_authority, **SECRET_CONTENT
        )
    with capture(execute=True):
        services.request_advice(agreement, actor=staff)
    with capture(execute=True):
        services.advise_on_agreement(agreement, actor=dpo, advice=ADVICE)
    with capture(execute=True):
        services.approve_agreement(agreement, actor=head, notes="Approved as advised.")
    with capture(execute=True):
        drafts.signed(agreement, keeper)
    with capture(execute=True):
        lifecycle.terminate_agreement(
            agreement,
            actor=head,
            termination=lifecycle.Termination(
                reasons=TERMINATION_REASONS,
                disposal_arrangement="Shredding, with a certificate.",
                consents=[
                    lifecycle.PartyConsent(party, "Signatory", timezone.localdate())
                    for party in agreement.parties.all()
                ],
            ),
        )
    with capture(execute=True):
        lifecycle.confirm_data_fate(
            agreement,
            actor=keeper,
            answers=lifecycle.DataFateAnswers(
                fate="destroyed",
                on=timezone.localdate(),
                details=DATA_FATE_DETAILS,
                evidence=drafts.pdf_upload("certificate.pdf"),
            ),
        )
    return Agreement.objects.get(pk=agreement.pk)


def test_the_smtp_server_receives_one_message_a_person_at_each_step(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    agreement = walk_to_expiry(world, django_capture_on_commit_callbacks)
    received = [(message.subject, message.rcpt_tos) for message in smtp_server.received]
    expected_steps = [
        ("needs your advice", SCHOOL_DPOS),
        ("has the DPO's advice", [DRAFTER]),
        ("is ready for your approval", APPROVERS),
        ("has been approved", sorted([DRAFTER, *SCHOOL_DPOS])),
        ("has been terminated: confirm what happens to the data", INFORMATION_MANAGEMENT),
        ("has expired", INFORMATION_MANAGEMENT),
    ]
    expected = [
        (subject(agreement, what), (address,))
        for what, addresses in expected_steps
        for address in addresses
    ]
    assert received == expected
    assert mail.outbox == []  # they went over the wire, not to the test outbox


def test_each_message_names_only_its_recipient_and_comes_from_infoshare(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    walk_to_expiry(world, django_capture_on_commit_callbacks)
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    assert smtp_server.received
    everyone = {a for m in smtp_server.received for a in m.rcpt_tos}
    for message in smtp_server.received:
        (recipient,) = message.rcpt_tos
        assert message.mail_from == sender
        assert message.header("From") == settings.DEFAULT_FROM_EMAIL
        assert [address for _, address in getaddresses([message.header("To") or ""])] == [recipient]
        assert message.header("Cc") is None
        assert message.header("Bcc") is None
        raw = message.message.as_string()
        assert not any(address in raw for address in everyone - {recipient})


def test_each_message_names_the_agreement_links_to_it_and_carries_none_of_its_content(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    agreement = walk_to_expiry(world, django_capture_on_commit_callbacks)
    secrets = [*SECRET_CONTENT.values(), ADVICE, TERMINATION_REASONS, DATA_FATE_DETAILS]
    for message in smtp_server.received:
        body = message.body
        assert f"{agreement.reference}: {agreement.title}" in body
        assert link(agreement) in body
        assert link(agreement).startswith(settings.BASE_URL.rstrip("/") + "/o/alder/agreements/")
        raw = message.message.as_string()
        for secret in secrets:
            assert secret not in raw, (message.subject, secret)


def test_the_trusts_dpo_reads_the_messages_meant_for_them(
    world, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    agreement = walk_to_expiry(world, django_capture_on_commit_callbacks)
    subjects = [message.subject for message in smtp_server.to("dpo@northbridge.test")]
    assert subjects == [
        subject(agreement, "needs your advice"),
        subject(agreement, "has been approved"),
        subject(agreement, "has been terminated: confirm what happens to the data"),
        subject(agreement, "has expired"),
    ]
    first = smtp_server.to("dpo@northbridge.test")[0].body
    assert "As the data protection officer, please read it and write your advice." in first
    # Nothing goes to the other school's people.
    assert smtp_server.to("dpo@birch.test") == []
    assert smtp_server.to("headteacher@birch.test") == []
