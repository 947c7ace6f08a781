"""Who is told what at each step of the protocol, and that no email says what was shared.

An email tells someone there is something for them and links to it. It never
carries the child's name or UPN, the file's reference or any words of the
description (issue 6, item 3): it can be read over a shoulder, forwarded or
kept in a mailbox the DSL does not control. The first tests read Django's
outbox; the last ones hold a real SMTP conversation (tests/smtp.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.utils import getaddresses
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core import mail

from infoshare.core.models import Person
from infoshare.safeguarding import services
from infoshare.safeguarding.models import ReshareRequest, Share
from tests.core.support import told
from tests.decisions.drafts import pupil as pupil_with_upn
from tests.safeguarding.support import (
    answers,
    ask_to_share_outside,
    ask_to_share_with,
    decision_draft_for,
    signing_for,
)

# A real SMTP server, for the tests that check what goes over the wire.
from tests.smtp import smtp_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from infoshare.core.models import User
    from tests.conftest import World
    from tests.smtp import SmtpServer

    Capture = Callable[..., AbstractContextManager[list[Callable[[], object]]]]

__all__ = ["smtp_server"]

pytestmark = pytest.mark.django_db

DESCRIPTION = (
    "Bruising noticed; stepfather Gideon Harrowby barred, swimming lessons stopped until review"
)
FILE_REFERENCE = "CP-7731-HX"
TO_ACKNOWLEDGE = "Safeguarding information for you to acknowledge"
LEADS = ["deputy_dsl@alder.test", "dsl@alder.test"]
TEACHER = "staff@alder.test"


@dataclass
class Child:
    person: Person

    @property
    def secrets(self) -> list[str]:
        """What no email may contain: the child, the file and the words of what was shared."""
        words = [word for word in re.findall(r"[A-Za-z]+", DESCRIPTION) if len(word) >= 5]
        return [
            self.person.given_name,
            self.person.family_name,
            self.person.upn,
            FILE_REFERENCE,
            *words,
        ]


@pytest.fixture
def child(world: World) -> Child:
    person = pupil_with_upn(world.school.organisation, "Tamsin", "Oyelaran")
    assert person.upn
    return Child(person)


def share(dsl: User, recipient: User, child: Child) -> Share:
    organisation = dsl.memberships.active().get().organisation
    return services.share_information(
        organisation,
        actor=dsl,
        answers=replace(
            answers(child.person, recipient, description=DESCRIPTION),
            file_reference=FILE_REFERENCE,
        ),
        signing=signing_for(dsl),
    )


def acknowledge(record: Share) -> Share:
    recipient = record.recipient
    return services.acknowledge_share(record, actor=recipient, signing=signing_for(recipient))


def link(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def body_to(address: str) -> str:
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return str(message.body)


def assert_nothing_sensitive_in_the_outbox(child: Child) -> None:
    assert mail.outbox
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}".lower()
        for secret in child.secrets:
            assert secret.lower() not in text, (message.subject, secret)


# --- Who is told, step by step ---------------------------------------------------------


def test_sharing_tells_the_recipient_only(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture
):
    school = world.school
    records: list[Share] = []
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: records.append(share(school["dsl"], school["staff"], child)),
    )
    assert sent == {TO_ACKNOWLEDGE: [TEACHER]}
    body = body_to(TEACHER)
    assert records[0].reference in body
    assert "Designated safeguarding lead of Alder Primary School" in body
    assert link(records[0].get_absolute_url()) in body
    assert "This email does not say what the information is" in body
    assert_nothing_sensitive_in_the_outbox(child)


@pytest.mark.parametrize("lead", ["dsl", "deputy_dsl"])
def test_acknowledging_tells_the_lead_who_shared_it(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture, lead: str
):
    school = world.school
    record = share(school[lead], school["staff"], child)
    sent = told(django_capture_on_commit_callbacks, lambda: acknowledge(record))
    assert sent == {f"{record.reference} has been acknowledged": [f"{lead}@alder.test"]}
    body = body_to(f"{lead}@alder.test")
    assert "Staff of Alder Primary School has signed the recipient's declaration" in body
    assert link(record.get_absolute_url()) in body
    assert_nothing_sensitive_in_the_outbox(child)


def test_a_request_tells_every_lead_of_the_school(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture
):
    school = world.school
    record = acknowledge(share(school["dsl"], school["staff"], child))
    made: list[ReshareRequest] = []
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: made.append(ask_to_share_with(record, school["volunteer"])),
    )
    # Not the other school's leads, not the headteacher, not the colleague named.
    assert sent == {f"{record.reference}: a request to share further needs your answer": LEADS}
    body = body_to("dsl@alder.test")
    assert "Staff of Alder Primary School has asked to share the information" in body
    assert link(made[0].get_absolute_url()) in body
    assert_nothing_sensitive_in_the_outbox(child)


def test_a_lead_who_asks_is_not_told_of_their_own_request(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture
):
    school = world.school
    record = acknowledge(share(school["dsl"], school["deputy_dsl"], child))
    sent = told(django_capture_on_commit_callbacks, lambda: ask_to_share_outside(record))
    assert sent == {
        f"{record.reference}: a request to share further needs your answer": ["dsl@alder.test"]
    }


def test_a_refusal_tells_the_requester(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture
):
    school = world.school
    record = acknowledge(share(school["dsl"], school["staff"], child))
    request = ask_to_share_with(record, school["volunteer"])
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.refuse_reshare(
            request, actor=school["deputy_dsl"], reasons="Stepfather Harrowby is not relevant"
        ),
    )
    assert sent == {
        f"{record.reference}: your request to share further has been refused": [TEACHER]
    }
    body = body_to(TEACHER)
    assert "Do not share it further." in body
    assert "Harrowby" not in body  # the DSL's reasons stay on the record
    assert link(record.get_absolute_url()) in body
    assert_nothing_sensitive_in_the_outbox(child)


def test_permitting_a_colleague_tells_the_requester_and_the_colleague(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture
):
    school = world.school
    dsl = school["dsl"]
    record = acknowledge(share(dsl, school["staff"], child))
    request = ask_to_share_with(record, school["volunteer"])
    made: list[Share] = []
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: made.append(
            services.permit_internal_reshare(
                request,
                actor=dsl,
                reasons="She supervises swimming",
                description="Swimming lessons stopped until review",
                signing=signing_for(dsl),
            )
        ),
    )
    assert sent == {
        f"{record.reference}: your request to share further has been permitted": [TEACHER],
        TO_ACKNOWLEDGE: ["volunteer@alder.test"],
    }
    assert "Share only what was permitted" in body_to(TEACHER)
    assert made[0].reference in body_to("volunteer@alder.test")
    assert link(made[0].get_absolute_url()) in body_to("volunteer@alder.test")
    assert_nothing_sensitive_in_the_outbox(child)


def test_permitting_an_organisation_tells_the_requester(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture
):
    school = world.school
    dsl = school["dsl"]
    record = acknowledge(share(dsl, school["staff"], child))
    request = ask_to_share_outside(record)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.permit_external_reshare(
            request, actor=dsl, draft=decision_draft_for(request, dsl)
        ),
    )
    assert sent == {
        f"{record.reference}: your request to share further has been permitted": [TEACHER]
    }
    assert_nothing_sensitive_in_the_outbox(child)


@pytest.mark.parametrize("acknowledged", [False, True], ids=["awaiting", "acknowledged"])
def test_withdrawal_tells_the_recipient(
    world: World,
    child: Child,
    django_capture_on_commit_callbacks: Capture,
    acknowledged: bool,
):
    school = world.school
    record = share(school["dsl"], school["staff"], child)
    if acknowledged:
        record = acknowledge(record)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.withdraw_share(
            record, actor=school["deputy_dsl"], reason="Gideon Harrowby was misidentified"
        ),
    )
    assert sent == {f"{record.reference} has been withdrawn": [TEACHER]}
    body = body_to(TEACHER)
    if acknowledged:
        assert "Do not use it or share it further." in body
    else:
        assert "You no longer need to acknowledge it." in body
    assert link(record.get_absolute_url()) in body
    assert "misidentified" not in body
    assert_nothing_sensitive_in_the_outbox(child)


def test_withdrawal_also_answers_the_pending_request(
    world: World, child: Child, django_capture_on_commit_callbacks: Capture
):
    school = world.school
    record = acknowledge(share(school["dsl"], school["staff"], child))
    ask_to_share_outside(record)
    sent = told(
        django_capture_on_commit_callbacks,
        lambda: services.withdraw_share(record, actor=school["dsl"], reason="Retracted"),
    )
    assert sent == {
        f"{record.reference} has been withdrawn": [TEACHER],
        f"{record.reference}: your request to share further has been refused": [TEACHER],
    }


# --- Over the wire -----------------------------------------------------------------------------


def walk_the_protocol(world: World, child: Child, capture: Capture) -> list[Share]:
    """Every step that sends an email, each committed as a page would commit it."""
    school = world.school
    dsl, deputy, teacher = school["dsl"], school["deputy_dsl"], school["staff"]
    with capture(execute=True):
        first = share(dsl, teacher, child)
    with capture(execute=True):
        acknowledge(first)
    with capture(execute=True):
        inside = ask_to_share_with(first, school["volunteer"])
    with capture(execute=True):
        second = services.permit_internal_reshare(
            inside,
            actor=deputy,
            reasons="She supervises swimming",
            description="Swimming lessons stopped until review",
            signing=signing_for(deputy),
        )
    with capture(execute=True):
        acknowledge(second)
    with capture(execute=True):
        outside = ask_to_share_outside(first)
    with capture(execute=True):
        services.refuse_reshare(outside, actor=dsl, reasons="Not until the review")
    with capture(execute=True):
        services.withdraw_share(first, actor=dsl, reason="Gideon Harrowby was misidentified")
    return [first, second]


def test_the_smtp_server_receives_one_message_a_person_at_each_step(
    world: World,
    child: Child,
    smtp_server: SmtpServer,
    django_capture_on_commit_callbacks: Capture,
):
    first, second = walk_the_protocol(world, child, django_capture_on_commit_callbacks)
    one, two = first.reference, second.reference
    received = [(message.subject, message.rcpt_tos) for message in smtp_server.received]
    asked = f"{one}: a request to share further needs your answer"
    assert received == [
        (TO_ACKNOWLEDGE, (TEACHER,)),
        (f"{one} has been acknowledged", ("dsl@alder.test",)),
        (asked, ("deputy_dsl@alder.test",)),
        (asked, ("dsl@alder.test",)),
        (f"{one}: your request to share further has been permitted", (TEACHER,)),
        (TO_ACKNOWLEDGE, ("volunteer@alder.test",)),
        (f"{two} has been acknowledged", ("deputy_dsl@alder.test",)),
        (asked, ("deputy_dsl@alder.test",)),
        (asked, ("dsl@alder.test",)),
        (f"{one}: your request to share further has been refused", (TEACHER,)),
        (f"{one} has been withdrawn", (TEACHER,)),
    ]
    assert mail.outbox == []  # they went over the wire, not to the test outbox
    assert smtp_server.to("headteacher@alder.test") == []
    assert smtp_server.to("dsl@birch.test") == []


def test_each_message_names_only_its_recipient(
    world: World,
    child: Child,
    smtp_server: SmtpServer,
    django_capture_on_commit_callbacks: Capture,
):
    walk_the_protocol(world, child, django_capture_on_commit_callbacks)
    everyone = {address for m in smtp_server.received for address in m.rcpt_tos}
    for message in smtp_server.received:
        (recipient,) = message.rcpt_tos
        assert [a for _, a in getaddresses([message.header("To") or ""])] == [recipient]
        assert message.header("Cc") is None
        assert message.header("Bcc") is None
        raw = message.message.as_string()
        # Whole addresses: "dsl@alder.test" is inside "deputy_dsl@alder.test".
        named = {a for a in everyone if re.search(rf"(?<![\w.+-]){re.escape(a)}", raw)}
        assert named == {recipient}


def test_no_message_carries_the_child_the_file_or_what_was_shared(
    world: World,
    child: Child,
    smtp_server: SmtpServer,
    django_capture_on_commit_callbacks: Capture,
):
    records = walk_the_protocol(world, child, django_capture_on_commit_callbacks)
    assert len(smtp_server.received) == 11
    for message in smtp_server.received:
        # The decoded subject and body, and the message exactly as it went over the wire.
        texts = [message.subject, message.body, message.message.as_string()]
        for text in texts:
            for secret in child.secrets:
                assert secret.lower() not in text.lower(), (message.subject, secret)
        # Each names a record by reference and links to the application.
        assert any(record.reference in message.body for record in records)
        assert link("/o/alder/safeguarding/") in message.body
