"""`manage.py send_reminders`: one digest a person a day, over a real SMTP conversation.

Most tests patch the sources to `tests.reminders.fake_source`, so they say
exactly what waits for whom; the last ones use the real sources, with a
safeguarding record, and check that nothing sensitive leaves in an email.
"""

from __future__ import annotations

import contextlib
import datetime
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.urls import reverse
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.audit.verify import verify_chains
from infoshare.core.models import Membership
from infoshare.reminders import digest
from infoshare.reminders import items as items_module
from infoshare.reminders.models import ReminderDigest, ReminderLock
from tests import smtp
from tests.agreements import drafts as agreement_drafts
from tests.core.support import changes_of, last_event
from tests.reminders import fake_source
from tests.safeguarding.support import DESCRIPTION, make_share

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.smtp import SmtpServer

pytestmark = pytest.mark.django_db

# The real SMTP server, as a fixture of this module (tests/reminders has no conftest).
smtp_server = smtp.smtp_server

LONDON = ZoneInfo("Europe/London")
DAY = datetime.date(2026, 3, 20)
BASE_URL = "https://infoshare.example"
TRUST_DPO = "dpo@northbridge.test"
STAFF = "staff@alder.test"


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.BASE_URL = BASE_URL


@pytest.fixture
def fake_due(monkeypatch) -> Iterator[None]:
    monkeypatch.setattr(items_module, "SOURCES", (fake_source.MODULE,))
    fake_source.forget()
    yield
    fake_source.forget()


def send(*args: str, on: datetime.date = DAY) -> str:
    """Run the command on `on` (at noon in London) and return what it printed."""
    out = io.StringIO()
    with time_machine.travel(at_noon(on), tick=False):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@dataclass(frozen=True)
class Message:
    subject: str
    body: str  # with the wire's CRLF line ends made LF


def only_message_to(server: SmtpServer, address: str) -> Message:
    (message,) = server.to(address)
    return Message(message.subject, message.body.replace("\r\n", "\n"))


def recipients(server: SmtpServer) -> list[str]:
    return sorted(address for message in server.received for address in message.rcpt_tos)


def give_the_trust_dpo_three_things(world) -> None:
    dpo, alder, birch = world.trust_dpo, world.school.organisation, world.other.organisation
    fake_source.give(
        dpo, alder, "Review the Alder transport agreement", DAY - datetime.timedelta(10)
    )
    fake_source.give(dpo, birch, "Advise on the Birch screening")
    fake_source.give(
        dpo, birch, "Approve the Birch catering agreement", DAY + datetime.timedelta(5)
    )


@contextlib.contextmanager
def lock_held_elsewhere() -> Iterator[None]:
    """Another run holds the lock: a real advisory lock from a second connection on
    PostgreSQL; on SQLite, the lease row taken as another run takes it."""
    if connection.vendor == "postgresql":
        other = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [digest.ADVISORY_LOCK_KEY])
            yield
        finally:
            other.close()
    else:
        ReminderLock.objects.update_or_create(
            pk=1, defaults={"holder": "another run", "taken_at": at_noon(DAY)}
        )
        yield
        ReminderLock.objects.filter(pk=1).update(holder="", taken_at=None)


# --- Who is sent what ----------------------------------------------------------------------


def test_each_person_with_something_waiting_gets_one_digest_of_it(world, fake_due, smtp_server):
    give_the_trust_dpo_three_things(world)
    fake_source.give(world.school["staff"], world.school.organisation, "Acknowledge SG-2026-0001")

    printed = send()

    # One message each, to them alone; nobody with nothing waiting is written to.
    assert recipients(smtp_server) == [TRUST_DPO, STAFF]
    assert all(len(message.rcpt_tos) == 1 for message in smtp_server.received)
    dpo = only_message_to(smtp_server, TRUST_DPO)
    assert dpo.subject == "Infoshare: 3 things need doing, 1 overdue"
    assert "3 things need doing on Infoshare, 1 of them overdue, as of 20 March 2026" in dpo.body
    # By organisation, each item with its absolute link; overdue items stand out.
    alder, birch = dpo.body.index("Alder Primary School"), dpo.body.index("Birch Academy")
    assert alder < birch
    assert (
        "- OVERDUE: Review the Alder transport agreement (was due 10 March 2026)\n"
        f"  {BASE_URL}/o/alder/tasks/review-the-alder-transport-agreement/\n"
    ) in dpo.body
    assert (
        "- Approve the Birch catering agreement (due 25 March 2026)\n"
        f"  {BASE_URL}/o/birch/tasks/approve-the-birch-catering-agreement/\n"
    ) in dpo.body
    assert (
        "- Advise on the Birch screening\n"
        f"  {BASE_URL}/o/birch/tasks/advise-on-the-birch-screening/\n"
    ) in dpo.body
    staff = only_message_to(smtp_server, STAFF)
    assert staff.subject == "Infoshare: 1 thing needs doing"
    assert "One thing needs doing on Infoshare, as of 20 March 2026" in staff.body
    assert "OVERDUE" not in staff.body
    assert "Birch" not in staff.body

    assert printed.splitlines() == [
        f"sent 3 items (1 overdue) to {TRUST_DPO}",
        f"sent 1 item to {STAFF}",
        "Sent reminders for 20 March 2026 to 2 people (4 items, 1 overdue).",
    ]
    digests = {d.user.email: d for d in ReminderDigest.objects.select_related("user")}
    assert {email: (d.sent_on, d.items, d.overdue) for email, d in digests.items()} == {
        TRUST_DPO: (DAY, 3, 1),
        STAFF: (DAY, 1, 0),
    }
    assert all(d.sent_at == at_noon(DAY) for d in digests.values())


def test_a_run_that_sent_is_one_event_in_the_system_chain(world, fake_due, smtp_server):
    give_the_trust_dpo_three_things(world)
    fake_source.give(world.school["staff"], world.school.organisation, "Acknowledge SG-2026-0001")
    send()
    event = last_event("reminders.digest_sent")
    assert event.organisation is None
    assert event.actor is None
    assert event.chain.key == "system"
    assert event.object_label == "Daily reminders for 20 March 2026"
    assert changes_of(event) == {
        "sent_on": "2026-03-20",
        "people": 2,
        "items": 4,
        "overdue": 1,
        "failed": 0,
    }
    assert AuditEvent.objects.filter(verb="reminders.digest_sent").count() == 1
    assert verify_chains(None).intact


def test_nothing_waiting_for_anyone_sends_nothing_and_records_nothing(world, fake_due, smtp_server):
    printed = send()
    assert smtp_server.received == []
    assert printed == "Sent reminders for 20 March 2026 to 0 people (0 items, 0 overdue).\n"
    assert not ReminderDigest.objects.exists()
    assert not AuditEvent.objects.filter(verb="reminders.digest_sent").exists()


def test_ended_memberships_and_inactive_people_are_sent_nothing(world, fake_due, smtp_server):
    alder = world.school.organisation
    give_the_trust_dpo_three_things(world)
    fake_source.give(world.school["staff"], alder, "Acknowledge SG-2026-0001")
    fake_source.give(world.school["volunteer"], alder, "Acknowledge SG-2026-0002")
    Membership.objects.filter(user=world.trust_dpo, organisation=alder).update(
        ended_at=timezone.now()
    )
    Membership.objects.filter(user=world.school["staff"]).update(ended_at=timezone.now())
    volunteer = world.school["volunteer"]
    volunteer.is_active = False
    volunteer.save()

    send()

    assert recipients(smtp_server) == [TRUST_DPO]
    dpo = only_message_to(smtp_server, TRUST_DPO)
    assert dpo.subject == "Infoshare: 2 things need doing"
    assert "Alder" not in dpo.body


def test_organisations_of_every_kind_count(world, fake_due, smtp_server):
    from tests.conftest import add_membership, make_user

    auditor = make_user("auditor@eastmoor.test", "Avery Auditor")
    add_membership(auditor, world.local_authority, "auditor")
    fake_source.give(auditor, world.local_authority, "Look at the council's returns")
    send()
    assert only_message_to(smtp_server, "auditor@eastmoor.test").subject == (
        "Infoshare: 1 thing needs doing"
    )


# --- Once a day ----------------------------------------------------------------------------


def test_a_second_run_the_same_day_sends_nothing_new(world, fake_due, smtp_server):
    give_the_trust_dpo_three_things(world)
    send()
    assert len(smtp_server.received) == 1

    printed = send()

    assert len(smtp_server.received) == 1
    assert printed.splitlines() == [
        "Sent reminders for 20 March 2026 to 0 people (0 items, 0 overdue); 1 already sent today."
    ]
    assert ReminderDigest.objects.count() == 1
    assert AuditEvent.objects.filter(verb="reminders.digest_sent").count() == 1

    # Someone with something newly waiting later that day still gets their one digest.
    fake_source.give(world.school["staff"], world.school.organisation, "Acknowledge SG-2026-0001")
    assert send().splitlines()[0] == f"sent 1 item to {STAFF}"
    assert recipients(smtp_server) == [TRUST_DPO, STAFF]


def test_the_next_day_sends_again(world, fake_due, smtp_server):
    give_the_trust_dpo_three_things(world)
    send()
    printed = send(on=DAY + datetime.timedelta(days=1))
    assert printed.splitlines()[0] == f"sent 3 items (1 overdue) to {TRUST_DPO}"
    assert len(smtp_server.to(TRUST_DPO)) == 2
    assert sorted(ReminderDigest.objects.values_list("sent_on", flat=True)) == [
        DAY,
        DAY + datetime.timedelta(days=1),
    ]


def test_a_day_is_a_day_in_london(world, fake_due, smtp_server):
    """At 00:30 on 1 July in London it is still 30 June in UTC: the digest is for 1 July."""
    give_the_trust_dpo_three_things(world)
    out = io.StringIO()
    with time_machine.travel(datetime.datetime(2026, 7, 1, 0, 30, tzinfo=LONDON), tick=False):
        call_command("send_reminders", stdout=out)
    assert ReminderDigest.objects.get().sent_on == datetime.date(2026, 7, 1)


def test_a_digest_claimed_by_a_run_that_died_is_not_sent_again(world, fake_due, smtp_server):
    """A run died after sending, before confirming: at most one digest a day."""
    fake_source.give(world.school["staff"], world.school.organisation, "Acknowledge SG-2026-0001")
    ReminderDigest.objects.create(user=world.school["staff"], sent_on=DAY, items=1, overdue=0)
    printed = send()
    assert smtp_server.received == []
    assert "1 already sent today" in printed


def test_a_message_the_server_refused_is_tried_again_by_the_next_run(
    world, fake_due, smtp_server, settings
):
    fake_source.give(world.school["staff"], world.school.organisation, "Acknowledge SG-2026-0001")
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = smtp._free_port()  # nothing listens there

    with pytest.raises(CommandError, match="1 digest"):
        send()

    assert not ReminderDigest.objects.exists()  # the claim was withdrawn
    assert changes_of(last_event("reminders.digest_sent"))["failed"] == 1
    settings.EMAIL_PORT = working_port
    assert send().splitlines()[0] == f"sent 1 item to {STAFF}"
    assert recipients(smtp_server) == [STAFF]


# --- Dry run, and one run at a time ------------------------------------------------------------


def test_a_dry_run_prints_what_it_would_send_and_sends_and_records_nothing(
    world, fake_due, smtp_server
):
    give_the_trust_dpo_three_things(world)
    fake_source.give(world.school["staff"], world.school.organisation, "Acknowledge SG-2026-0001")

    printed = send("--dry-run")

    assert printed.splitlines() == [
        f"would send 3 items (1 overdue) to {TRUST_DPO}",
        f"would send 1 item to {STAFF}",
        "Would send reminders for 20 March 2026 to 2 people (4 items, 1 overdue); "
        "dry run, nothing sent.",
    ]
    assert smtp_server.received == []
    assert not ReminderDigest.objects.exists()
    assert not AuditEvent.objects.filter(verb="reminders.digest_sent").exists()
    send()  # and the real run then sends both
    assert recipients(smtp_server) == [TRUST_DPO, STAFF]


def test_while_another_run_holds_the_lock_nothing_is_sent(world, fake_due, smtp_server):
    give_the_trust_dpo_three_things(world)
    with lock_held_elsewhere():
        printed = send()
    assert printed == "Another send_reminders is running; nothing sent.\n"
    assert smtp_server.received == []
    assert not ReminderDigest.objects.exists()
    assert not AuditEvent.objects.filter(verb="reminders.digest_sent").exists()

    send()  # given back: the next run sends
    assert recipients(smtp_server) == [TRUST_DPO]


def test_a_run_gives_the_lock_back(world, fake_due, smtp_server):
    send()
    with digest.run_lock() as held:
        assert held
    if connection.vendor != "postgresql":
        assert ReminderLock.objects.get().taken_at is None


def test_a_lease_left_by_a_run_that_died_is_taken_over_after_six_hours(world):
    # The lease is SQLite's lock (PostgreSQL's advisory lock dies with its run),
    # but it is one conditional UPDATE, so it is tested on every database.
    ReminderLock.objects.create(pk=1, holder="a run that died", taken_at=at_noon(DAY))
    later = at_noon(DAY) + digest.STALE_LEASE - datetime.timedelta(minutes=1)
    with time_machine.travel(later, tick=False), digest.lease() as held:
        assert held is False
    with time_machine.travel(later + datetime.timedelta(minutes=2), tick=False):
        with digest.lease() as held:
            assert held is True
            with digest.lease() as second:
                assert second is False  # while held, nobody else gets it
        assert ReminderLock.objects.get().taken_at is None  # given back


# --- With the real sources: nothing sensitive leaves --------------------------------------------


@pytest.fixture
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.usefixtures("_uploads_in_a_temporary_folder")
def test_with_the_real_sources_digests_name_records_by_reference_only(world, smtp_server):
    school = world.school
    with time_machine.travel(at_noon(datetime.date(2025, 3, 10)), tick=False):
        agreement = agreement_drafts.approved(
            school.organisation,
            school["staff"],
            school["dpo"],
            school["headteacher"],
            world.local_authority,
        )
    with time_machine.travel(at_noon(DAY), tick=False):
        share = make_share(school["dsl"], school["staff"])

    printed = send()

    staff = only_message_to(smtp_server, STAFF)
    assert staff.subject == "Infoshare: 1 thing needs doing"
    acknowledge = reverse(
        "safeguarding:acknowledge", kwargs={"org": "alder", "reference": share.reference}
    )
    assert f"Safeguarding information to acknowledge: {share.reference}" in staff.body
    assert f"{BASE_URL}{acknowledge}" in staff.body
    # The agreement's review fell due on 10 March 2026: overdue for its keepers.
    dpo = only_message_to(smtp_server, "dpo@alder.test")
    assert dpo.subject.endswith("1 overdue")
    assert "One thing needs doing on Infoshare, and it is overdue, as of 20 March 2026" in dpo.body
    assert "OVERDUE:" in dpo.body
    assert "(was due 10 March 2026)" in dpo.body
    review = reverse(
        "agreements:start_review", kwargs={"org": "alder", "reference": agreement.reference}
    )
    assert f"{BASE_URL}{review}" in dpo.body
    assert f"sent 1 item to {STAFF}" in printed.splitlines()
    # No child, no description, no file reference, in any message.
    for message in smtp_server.received:
        text = message.subject + message.body
        for sensitive in ("Ellis", "Marsh", DESCRIPTION, "CP-0193", "Disclosure made"):
            assert sensitive not in text, (message.rcpt_tos, sensitive)


# --- The admin: read-only --------------------------------------------------------------------


def test_operators_see_the_digests_in_the_admin_and_change_nothing(
    world, fake_due, smtp_server, client
):
    from tests.conftest import give_totp, make_user

    fake_source.give(world.school["staff"], world.school.organisation, "Acknowledge SG-2026-0001")
    send()
    operator = make_user("operator@example.org", "Platform Operator")
    operator.is_superuser = operator.is_staff = True
    operator.save()
    give_totp(operator)
    client.force_login(operator, backend="allauth.account.auth_backends.AuthenticationBackend")
    listing = client.get(reverse("admin:reminders_reminderdigest_changelist"))
    assert listing.status_code == 200
    assert "Staff of Alder Primary School" in listing.content.decode()
    claim = ReminderDigest.objects.get()
    assert client.get(reverse("admin:reminders_reminderdigest_add")).status_code == 403
    page = client.get(reverse("admin:reminders_reminderdigest_change", args=[claim.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    deleting = client.post(
        reverse("admin:reminders_reminderdigest_delete", args=[claim.pk]), {"post": "yes"}
    )
    assert deleting.status_code == 403
    assert ReminderDigest.objects.filter(pk=claim.pk).exists()
