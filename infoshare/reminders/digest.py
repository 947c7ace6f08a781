"""The daily digest (issue 7 item 5): one email a person of what is due or overdue for them.

`send_digests` is what `manage.py send_reminders` runs. For each active person
with an active membership it gathers, through `items_for` (the one interface),
what waits for them in every organisation where they are a member, and sends
one message listing it: titles, kind labels, dates and absolute links only,
never sensitive content (the sources' titles name records by reference).
Nobody with nothing waiting is written to.

Once a day. A `ReminderDigest` row per person and day, unique, is what makes
a second run on the same day send nothing new. The row is claimed (committed)
before the message is sent and confirmed (`sent_at`) after it went:

- the SMTP server refuses or cannot be reached: the claim is withdrawn, so a
  later run that day tries that person again;
- the process dies between sending and confirming: the claim stays without
  `sent_at`, so that person is never sent a second digest that day, at the
  risk of missing one (tomorrow's lists the same things again). At most one
  digest a day was chosen over at least one: a doubled reminder is noise.

One run at a time, on any number of servers: on PostgreSQL a session advisory
lock (given back when the run ends, or when its connection dies with it); on
SQLite, which serves one machine, a lease on the `ReminderLock` row, taken over
after `STALE_LEASE` if a run died holding it. A run that finds the lock taken
sends nothing. Each run that sent something appends one event,
`reminders.digest_sent`, with its counts, to the system audit chain.
"""

from __future__ import annotations

import contextlib
import datetime
import secrets
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING

from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.core.emails import absolute_url
from infoshare.core.models import Membership
from infoshare.reminders.items import items_for
from infoshare.reminders.models import ReminderDigest, ReminderLock

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from infoshare.core.models import User
    from infoshare.reminders.items import DueItem

# pg_try_advisory_lock key for send_reminders: any constant no other lock uses
# ("ISREMIND" read as ASCII, so it is recognisable in pg_locks).
ADVISORY_LOCK_KEY = 0x4953_5245_4D49_4E44
# A SQLite lease this old belongs to a run that died: the next run takes it over.
STALE_LEASE = datetime.timedelta(hours=6)
_LEASE_ROW = 1


@dataclass(frozen=True)
class Digest:
    """What one person is sent: their items in each organisation, in the sources' order."""

    user: User
    items: list[DueItem]

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.overdue)

    @property
    def subject(self) -> str:
        """Like "Infoshare: 3 things need doing, 1 overdue"."""
        count = len(self.items)
        things = "1 thing needs" if count == 1 else f"{count} things need"
        overdue = f", {self.overdue} overdue" if self.overdue else ""
        return f"Infoshare: {things} doing{overdue}"

    def body(self, today: datetime.date) -> str:
        organisations = [
            {
                "name": organisation.name,
                "items": [
                    {"item": item, "link": absolute_url(item.url)} for item in organisation_items
                ],
            }
            for organisation, organisation_items in groupby(
                self.items, key=lambda item: item.organisation
            )
        ]
        return render_to_string(
            "reminders/emails/digest.txt",
            {
                "name": self.user.name,
                "today": today,
                "count": len(self.items),
                "overdue": self.overdue,
                "organisations": organisations,
            },
        )

    def line(self, *, verb: str = "sent") -> str:
        """Like "sent 3 items (1 overdue) to x@y"."""
        items = "1 item" if len(self.items) == 1 else f"{len(self.items)} items"
        overdue = f" ({self.overdue} overdue)" if self.overdue else ""
        return f"{verb} {items}{overdue} to {self.user.email}"


@dataclass
class Run:
    """What one run did, for its printout and its audit event."""

    today: datetime.date
    dry_run: bool = False
    locked_out: bool = False  # another run held the lock: nothing was done
    sent: list[Digest] = field(default_factory=list)
    failed: list[tuple[Digest, str]] = field(default_factory=list)
    already_sent: int = 0  # people whose digest for today a previous run claimed

    @property
    def items(self) -> int:
        return sum(len(digest.items) for digest in self.sent)

    @property
    def overdue(self) -> int:
        return sum(digest.overdue for digest in self.sent)

    @property
    def summary(self) -> str:
        day = f"{self.today.day} {self.today:%B %Y}"
        people = "1 person" if len(self.sent) == 1 else f"{len(self.sent)} people"
        what = f"{self.items} item{'' if self.items == 1 else 's'}, {self.overdue} overdue"
        verb = "Would send" if self.dry_run else "Sent"
        text = f"{verb} reminders for {day} to {people} ({what})"
        if self.already_sent:
            text += f"; {self.already_sent} already sent today"
        if self.failed:
            text += f"; {len(self.failed)} failed"
        return text + ("; dry run, nothing sent." if self.dry_run else ".")


# --- Who is sent what ----------------------------------------------------------------------


def digests(today: datetime.date, *, skip: set[int] | None = None) -> Iterator[Digest]:
    """Each active person's digest for `today`, by email address; none for those with
    nothing waiting, nor for the people in `skip` (ids)."""
    memberships = (
        Membership.objects.active()
        .filter(user__is_active=True)
        .exclude(user__in=skip or ())
        .select_related("user", "organisation")
        .order_by("user__email", "organisation__name", "organisation__pk")
    )
    for _, group in groupby(memberships, key=lambda membership: membership.user_id):
        held = list(group)
        user = held[0].user
        items = [
            item for membership in held for item in items_for(user, membership.organisation, today)
        ]
        if items:
            yield Digest(user, items)


def sent_today(today: datetime.date) -> set[int]:
    """The people whose digest for `today` was claimed already (sent, or lost in a crash)."""
    return set(ReminderDigest.objects.filter(sent_on=today).values_list("user_id", flat=True))


# --- Sending ---------------------------------------------------------------------------------


def send_digests(
    today: datetime.date,
    *,
    dry_run: bool = False,
    report: Callable[[str], object] = lambda line: None,
) -> Run:
    """Send today's digests (see the module's docstring); `report` hears one line a person."""
    run = Run(today, dry_run=dry_run)
    if dry_run:
        # Changes nothing, so takes no lock: it shows what a run now would send.
        done = sent_today(today)
        run.already_sent = len(done)
        for digest in digests(today, skip=done):
            run.sent.append(digest)
            report(digest.line(verb="would send"))
        return run
    with run_lock() as held:
        if not held:
            run.locked_out = True
            return run
        done = sent_today(today)
        run.already_sent = len(done)
        for digest in digests(today, skip=done):
            _send_one(digest, run, report)
        if run.sent or run.failed:
            _record_run(run)
    return run


def _send_one(digest: Digest, run: Run, report: Callable[[str], object]) -> None:
    claim = _claim(digest, run.today)
    if claim is None:  # claimed since the run began (cannot happen under the lock)
        run.already_sent += 1
        return
    try:
        send_mail(
            subject=digest.subject,
            message=digest.body(run.today),
            from_email=None,
            recipient_list=[digest.user.email],
        )
    except Exception as error:  # noqa: BLE001 (any failure to send: withdraw, go on to the next)
        _withdraw(claim)
        run.failed.append((digest, str(error)))
        report(f"failed to send to {digest.user.email}: {error}")
        return
    _confirm(claim)
    run.sent.append(digest)
    report(digest.line())


def _claim(digest: Digest, today: datetime.date) -> ReminderDigest | None:
    """Take today's row for this person, committed; None if it was taken already."""
    try:
        with transaction.atomic():
            return ReminderDigest.objects.create(
                user=digest.user, sent_on=today, items=len(digest.items), overdue=digest.overdue
            )
    except IntegrityError:
        return None


def _confirm(claim: ReminderDigest) -> None:
    claim.sent_at = timezone.now()
    with transaction.atomic():
        claim.save(update_fields=["sent_at"])


def _withdraw(claim: ReminderDigest) -> None:
    with transaction.atomic():
        claim.delete()


def _record_run(run: Run) -> None:
    with transaction.atomic():
        audit.record(
            None,
            "reminders.digest_sent",
            changes={
                "sent_on": run.today.isoformat(),
                "people": len(run.sent),
                "items": run.items,
                "overdue": run.overdue,
                "failed": len(run.failed),
            },
            organisation=None,
            label=f"Daily reminders for {run.today.day} {run.today:%B %Y}",
        )


# --- One run at a time -----------------------------------------------------------------------


@contextlib.contextmanager
def run_lock() -> Iterator[bool]:
    """Hold the send_reminders lock for the block; yields False (and holds nothing) if taken."""
    if connection.vendor == "postgresql":
        with _advisory_lock() as held:
            yield held
    else:
        with lease() as held:
            yield held


@contextlib.contextmanager
def _advisory_lock() -> Iterator[bool]:
    # Session-level, not transaction-level: the run makes many short
    # transactions. If the process dies, its connection closes and the lock goes.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


@contextlib.contextmanager
def lease() -> Iterator[bool]:
    """The lock where there are no advisory locks (SQLite): a lease on one row, taken
    over when older than STALE_LEASE (a run that died). It works on any database."""
    holder = secrets.token_hex(16)
    with contextlib.suppress(IntegrityError), transaction.atomic():
        ReminderLock.objects.get_or_create(pk=_LEASE_ROW)
    now = timezone.now()
    free = Q(taken_at__isnull=True) | Q(taken_at__lt=now - STALE_LEASE)
    # One UPDATE: SQLite runs writes one at a time, so only one run can match `free`.
    with transaction.atomic():
        held = (
            ReminderLock.objects.filter(free, pk=_LEASE_ROW).update(holder=holder, taken_at=now)
            == 1
        )
    try:
        yield held
    finally:
        if held:
            with transaction.atomic():
                ReminderLock.objects.filter(pk=_LEASE_ROW, holder=holder).update(
                    holder="", taken_at=None
                )
