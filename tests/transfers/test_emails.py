"""What the emails of a secure transfer say, as an SMTP server received them (tests/smtp.py).

The recipient gets the link and the code in two separate messages; the
sender is told when the transfer is locked, replied to, or found damaged.
None of them carries personal data: not the recipient's name, the sender's,
the pupil's, the message, the names of the files, nor what the decision
says was shared. The school's name, the reference and the expiry are enough.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from django.core.exceptions import ValidationError

from infoshare.transfers import emails, services
from infoshare.transfers.models import Status
from tests.decisions import drafts
from tests.transfers.support import (
    FILE_NAME,
    MESSAGE,
    RECIPIENT_EMAIL,
    RECIPIENT_NAME,
    RECIPIENT_ORGANISATION,
    VISIT,
    answers,
    blob_of,
    flip_byte,
    fresh,
    open_transfer,
    outgoing,
    upload,
)

if TYPE_CHECKING:
    from infoshare.transfers.models import Transfer
    from tests.conftest import World
    from tests.smtp import Received, SmtpServer

pytestmark = pytest.mark.django_db

SCHOOL = "Alder Primary School"
INFORMATION = "Attendance for the autumn term"  # what the decision (tests/decisions/drafts) shares
SENDER_NAME = "Barnaby Fothergill"
LINK = re.compile(r"http://testserver(/t/[^\s]+/)")


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.BASE_URL = "http://testserver"


def secrets_of() -> list[str]:
    return [
        RECIPIENT_NAME,
        "Quarrington",
        RECIPIENT_ORGANISATION,
        SENDER_NAME,
        "Fothergill",
        "Jocasta",
        "Pennywhistle",
        MESSAGE,
        "autumn plan",
        FILE_NAME,
        "pennywhistle-attendance",
        INFORMATION,
    ]


def assert_nothing_personal(message: Received) -> None:
    text = f"{message.subject}\n{message.body}".lower()
    for secret in secrets_of():
        assert secret.lower() not in text, secret
    assert len(message.rcpt_tos) == 1


def send_with_draft(world: World, capture) -> Transfer:
    organisation = world.school.organisation
    staff = world.school["staff"]
    staff.name = SENDER_NAME
    staff.save(update_fields=["name"])
    draft = drafts.share(staff, [drafts.pupil(organisation, "Jocasta", "Pennywhistle")])
    with capture(execute=True):
        return services.send_transfer(organisation, actor=staff, answers=answers(), draft=draft)


def test_the_link_and_the_code_come_in_two_emails_that_name_nobody(
    world: World, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    transfer = send_with_draft(world, django_capture_on_commit_callbacks)
    [link_email] = smtp_server.to(RECIPIENT_EMAIL)
    assert link_email.subject == f"{SCHOOL} has sent you files securely"
    assert "You will need a code, which we send in a separate email" in link_email.body
    expiry = emails.format_expiry(transfer.expires_at)
    assert f"The link works until {expiry}." in link_email.body
    assert transfer.reference in link_email.body
    assert_nothing_personal(link_email)

    # The link in the email is the transfer's.
    match = LINK.search(link_email.body)
    assert match is not None
    token = match.group(1).removeprefix("/t/").removesuffix("/")
    assert services.find_by_token(token) == transfer

    with django_capture_on_commit_callbacks(execute=True):
        services.send_code(transfer, VISIT)
    first, code_email = smtp_server.to(RECIPIENT_EMAIL)
    assert first is link_email
    assert code_email.subject == f"Your code for a secure transfer from {SCHOOL}"
    assert "valid for 15 minutes" in code_email.body
    assert "If you did not ask for it, ignore this email" in code_email.body
    assert LINK.search(code_email.body) is None  # the code never travels with the link
    assert_nothing_personal(code_email)
    [code] = re.findall(r"^\s*(\d{6})\s*$", code_email.body, flags=re.MULTILINE)
    assert services.verify_code(transfer, code, VISIT)
    assert fresh(transfer).status == Status.OPENED


def test_the_sender_is_told_of_a_lock_with_a_link_to_the_transfer(
    world: World, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    transfer = send_with_draft(world, django_capture_on_commit_callbacks)
    services.send_code(transfer, VISIT)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            services.verify_code(transfer, "1", VISIT)
        with pytest.raises(ValidationError):
            services.verify_code(transfer, "1", VISIT)
    sender = world.school["staff"].email
    [locked] = smtp_server.to(sender)
    assert locked.subject == f"{transfer.reference} is locked after five wrong codes"
    assert f"http://testserver{transfer.get_absolute_url()}" in locked.body
    assert "you can unlock it" in locked.body
    assert_nothing_personal(locked)


def test_the_sender_is_told_of_a_reply_and_of_a_damaged_file(
    world: World, smtp_server: SmtpServer, django_capture_on_commit_callbacks
):
    transfer = send_with_draft(world, django_capture_on_commit_callbacks)
    open_transfer(transfer)
    with django_capture_on_commit_callbacks(execute=True):
        services.receive_reply(
            transfer,
            message="About Jocasta Pennywhistle",
            files=[upload("pennywhistle-attendance-reply.csv")],
            visit=VISIT,
        )
    [file] = outgoing(transfer)
    flip_byte(blob_of(file), 40)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.DamagedFile):
        services.download_for_recipient(transfer, file.uuid, VISIT)
    reply, damaged = smtp_server.to(world.school["staff"].email)
    assert reply.subject == f"{transfer.reference}: the recipient has replied with files"
    assert damaged.subject == f"{transfer.reference}: a file could not be opened safely"
    for message in (reply, damaged):
        assert f"http://testserver{transfer.get_absolute_url()}" in message.body
        assert_nothing_personal(message)


def test_times_are_written_as_people_read_them_in_london():
    assert emails.format_expiry(datetime(2026, 11, 22, 17, 0, tzinfo=UTC)) == (
        "22 November 2026 at 5:00pm"
    )
    assert emails.format_expiry(datetime(2026, 7, 1, 8, 5, tzinfo=UTC)) == (
        "1 July 2026 at 9:05am"  # British Summer Time
    )
    assert emails.format_expiry(datetime(2026, 1, 3, 0, 30, tzinfo=UTC)) == (
        "3 January 2026 at 12:30am"
    )
