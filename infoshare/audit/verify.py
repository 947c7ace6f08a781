"""Recompute every audit chain and name the first broken event (DESIGN.md rule 5).

Each chain is read once, in sequence order, streaming. An event is intact
when it carries the expected sequence number, links to the hash of the event
before it (the genesis hash for event 1), and its stored hash equals the
hash recomputed from its content; a separate query checks every event
belongs to the chain's organisation. The walk is the hot path (a million
events must take seconds), so it does nothing else; only when an event fails
does `diagnose` look closer, running a few more queries to tell what happened:

- changed: an event's content no longer matches its hash (or its hash was
  recomputed, so the next event no longer links to it; or it was moved to
  another organisation);
- missing: a sequence number is absent (a row was deleted), including rows
  deleted from the end, which the chain head still counts, and deletions
  hidden by renumbering the later events;
- inserted: a row that does not belong: the genuine event it displaced is
  found further on, or it sits beyond the last event the chain head records,
  or it duplicates a sequence number;
- reordered: rows swapped places: the genuine event for a position is found
  elsewhere, and the row in its place verifies under another sequence number.

What cannot be detected: someone who rewrites an event, every event after it
and the chain head, all consistently. Only a copy of the head kept elsewhere
would show that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

from django.db import connection, transaction
from django.db.models import Min

from infoshare.audit.chain import hash_event
from infoshare.audit.models import GENESIS_HASH, AuditChain, AuditEvent
from infoshare.core.models import Organisation

ProblemKind = Literal["changed", "missing", "inserted", "reordered"]

# Rows fetched per round trip while streaming a chain.
CHUNK_SIZE = 5_000
# How far from its position a renumbered or swapped row's true sequence
# number is looked for when diagnosing (cheap: one hash per try).
RENUMBERING_WINDOW = 64
# Re-reading the chain head while writers keep appending gives up after this.
HEAD_REREADS = 3

COLUMNS = (
    "sequence", "prev_hash", "hash", "created_at", "actor_id", "verb",
    "object_type", "object_id", "object_label", "changes",
)


class EventRow(NamedTuple):
    """One stored event, in the order of COLUMNS (the arguments of `hash_event`
    after the chain key). `created_at` is text when PostgreSQL rendered it."""

    sequence: int
    prev_hash: str
    hash: str
    created_at: datetime | str
    actor_id: int | None
    verb: str
    object_type: str
    object_id: str
    object_label: str
    changes: str


@dataclass(frozen=True)
class Finding:
    sequence: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True)
class Problem:
    """The first broken event of one chain."""

    chain_key: str
    organisation_name: str | None
    organisation_slug: str | None
    sequence: int
    kind: ProblemKind
    detail: str

    @property
    def chain_label(self) -> str:
        if self.organisation_slug is None:
            return "the system"
        return f"{self.organisation_name} ({self.organisation_slug})"

    def __str__(self) -> str:
        return (
            f"Audit chain of {self.chain_label} is broken at event {self.sequence}: "
            f"{self.kind} — {self.detail}"
        )


@dataclass
class VerificationResult:
    events_checked: int = 0
    chains_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def verify_chains(organisation: Organisation | None = None) -> VerificationResult:
    """Verify every chain, or only `organisation`'s; each broken chain gives one Problem."""
    chains = AuditChain.objects.select_related("organisation").order_by("pk")
    if organisation is not None:
        chains = chains.filter(organisation=organisation)
    result = VerificationResult()
    for chain in chains:
        checked, finding = verify_chain(chain)
        result.chains_checked += 1
        result.events_checked += checked
        if finding is not None:
            result.problems.append(_problem(chain, finding))
    return result


def verify_chain(chain: AuditChain) -> tuple[int, Finding | None]:
    """Walk one chain; returns how many events were checked and the first problem, if any."""
    # Only the events up to the head as read now: a writer appending meanwhile
    # commits its event and the head together, so all of those are visible.
    last_sequence, last_hash = chain.last_sequence, chain.last_hash
    with _read_transaction():
        misfiled = _first_misfiled(chain, last_sequence)
        verified, good_hash, failed = walk(chain.key, stream(chain, last_sequence))
    checked = verified + 1 if failed is not None else verified  # the failed row was checked too
    if misfiled is not None and (failed is None or misfiled <= failed.sequence):
        return checked, _misfiled(misfiled)
    if failed is not None:
        return checked, diagnose(chain, verified + 1, good_hash, failed)
    return checked, _check_end(chain, verified, good_hash, last_sequence, last_hash)


def walk(chain_key: str, rows: Iterable[tuple]) -> tuple[int, str, EventRow | None]:
    """The hot loop: how many events verified, the last good hash, and the first
    row that failed. Everything it touches is a local name, for speed."""
    expected, good, recompute_hash = 1, GENESIS_HASH, hash_event
    for row in rows:
        (sequence, prev_hash, stored, created_at, actor_id, verb,
         object_type, object_id, object_label, changes) = row
        if (
            sequence == expected
            and prev_hash == good
            and stored == recompute_hash(
                prev_hash, chain_key, sequence, created_at, actor_id, verb,
                object_type, object_id, object_label, changes,
            )
        ):
            good = stored
            expected += 1
            continue
        return expected - 1, good, EventRow(*row)
    return expected - 1, good, None


def _check_end(
    chain: AuditChain, verified: int, good_hash: str, last_sequence: int, last_hash: str
) -> Finding | None:
    """After an intact walk: rows deleted from the end, a recomputed last hash, rows beyond."""
    if verified < last_sequence:
        return _missing_at_end(verified + 1, last_sequence)
    if good_hash != last_hash and verified == 0:
        return Finding(0, "changed", "the chain head holds a hash but no events: it was altered.")
    if good_hash != last_hash:
        return Finding(
            verified, "changed",
            f"event {verified} verifies on its own, but the chain head recorded a different "
            "hash for it: it was altered and its hash recomputed.",
        )
    return _rows_beyond_head(chain, last_sequence)


def _missing_at_end(first: int, last: int) -> Finding:
    count = last - first + 1
    span = f"event {first} is" if count == 1 else f"events {first} to {last} are"
    return Finding(
        first, "missing",
        f"{span} missing from the end of the chain (the chain head records {last} events).",
    )


def _rows_beyond_head(chain: AuditChain, last_sequence: int) -> Finding | None:
    """A row numbered past the head is inserted, unless a writer appended it meanwhile."""
    for _ in range(HEAD_REREADS):
        beyond = (
            AuditEvent.objects.filter(chain=chain, sequence__gt=last_sequence)
            .order_by("sequence").values_list("sequence", flat=True).first()
        )
        if beyond is None:
            return None
        # Read after the row: had a writer committed it, the head shows it too.
        head = AuditChain.objects.values_list("last_sequence", flat=True).get(pk=chain.pk)
        if beyond > head:
            return Finding(
                beyond, "inserted",
                f"event {beyond} is not part of the chain: the chain head records only "
                f"{head} events.",
            )
        last_sequence = head
    return None  # writers keep appending; their events are checked next time


def _first_misfiled(chain: AuditChain, last_sequence: int) -> int | None:
    """The first event filed under another organisation than its chain's.

    The organisation column is not hashed (the chain key is), so moving an
    event to another school's audit page would otherwise go unnoticed.
    """
    events = AuditEvent.objects.filter(chain=chain, sequence__lte=last_sequence)
    if chain.organisation_id is None:
        events = events.filter(organisation__isnull=False)
    else:
        events = events.exclude(organisation_id=chain.organisation_id)
    first: int | None = events.aggregate(first=Min("sequence"))["first"]
    return first


def _misfiled(sequence: int) -> Finding:
    return Finding(
        sequence, "changed",
        f"event {sequence} was reassigned to another organisation, whose audit trail "
        "would show it.",
    )


# --- Reading --------------------------------------------------------------------------


def stream(chain: AuditChain, last_sequence: int) -> Iterator[tuple]:
    """The chain's events up to `last_sequence` in sequence order, as COLUMNS tuples."""
    if connection.vendor == "postgresql":
        return _postgresql_stream(chain, last_sequence)
    return (
        AuditEvent.objects.filter(chain=chain, sequence__lte=last_sequence)
        .order_by("sequence")
        .values_list(*COLUMNS)
        .iterator(chunk_size=CHUNK_SIZE)
    )


# The (chain, sequence) unique index delivers the rows in order, without a sort.
# created_at is rendered as the text orjson makes of a UTC datetime, which
# hashes the same; parsing a million timestamps into datetime objects (with
# Django's time-zone loader) would cost about as much as all the hashing.
_POSTGRESQL_STREAM = f"""
    SELECT sequence, prev_hash, hash,
           replace(to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   '.000000Z', 'Z'),
           actor_id, verb, object_type, object_id, object_label, changes
    FROM {AuditEvent._meta.db_table}
    WHERE chain_id = %s AND sequence <= %s
    ORDER BY sequence
"""


def _postgresql_stream(chain: AuditChain, last_sequence: int) -> Iterator[tuple]:
    """A server-side cursor on psycopg directly, in binary: no Django per-row work.

    One batch is fetched ahead by a helper thread, so the database reads and
    sends the next rows while these are hashed (psycopg lets go of the GIL
    while it waits); the walk does not touch the connection meanwhile.
    """
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None  # ensured just above
    with (
        raw.cursor(name=f"verify_audit_{chain.pk}", binary=True) as cursor,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify_audit") as fetcher,
    ):
        cursor.execute(_POSTGRESQL_STREAM, (chain.pk, last_sequence))
        ahead = fetcher.submit(cursor.fetchmany, CHUNK_SIZE)
        while batch := ahead.result():
            ahead = fetcher.submit(cursor.fetchmany, CHUNK_SIZE)
            yield from batch


def _read_transaction() -> AbstractContextManager[object]:
    """PostgreSQL's server-side cursor lives in a transaction (outside one it would
    be declared WITH HOLD, copying the whole result first). SQLite streams without
    one, and a transaction there would take the write lock (IMMEDIATE mode)
    and hold up every writer while verifying."""
    if connection.vendor == "postgresql":
        return transaction.atomic()
    return nullcontext()


def _rows(chain: AuditChain, **filters: object) -> list[EventRow]:
    """A few rows for diagnosis (not for the walk)."""
    queryset = AuditEvent.objects.filter(chain=chain, **filters).order_by("sequence", "pk")
    return [EventRow(*row) for row in queryset.values_list(*COLUMNS)]


# --- Diagnosis --------------------------------------------------------------------------


def recompute(chain: AuditChain, row: EventRow, *, sequence: int | None = None) -> str:
    """The hash `row` should have, optionally as if it carried another sequence number."""
    return hash_event(
        row.prev_hash, chain.key, row.sequence if sequence is None else sequence,
        row.created_at, row.actor_id, row.verb, row.object_type, row.object_id,
        row.object_label, row.changes,
    )


def verifies_as(chain: AuditChain, row: EventRow, sequence: int) -> bool:
    return recompute(chain, row, sequence=sequence) == row.hash


def original_sequence(
    chain: AuditChain, row: EventRow, *, prefer: int | None = None
) -> int | None:
    """The sequence number under which `row`'s hash verifies, if not its own.

    A renumbered or swapped row keeps the hash it was written with, and the
    sequence number is part of what was hashed, so trying nearby numbers (and
    `prefer` first) finds where it really belongs.
    """
    candidates = [prefer] if prefer is not None else []
    for distance in range(1, RENUMBERING_WINDOW + 1):
        candidates += [row.sequence + distance, row.sequence - distance]
    for candidate in candidates:
        if candidate >= 1 and candidate != row.sequence and verifies_as(chain, row, candidate):
            return candidate
    return None


def genuine_event(
    chain: AuditChain, sequence: int, good_hash: str, *, besides: EventRow
) -> EventRow | None:
    """The row that really is event `sequence`: it links to the last good hash and
    verifies as that sequence number, wherever it now sits."""
    for row in _rows(chain, prev_hash=good_hash):
        same_row = (row.sequence, row.hash) == (besides.sequence, besides.hash)
        if not same_row and verifies_as(chain, row, sequence):
            return row
    return None


def diagnose(chain: AuditChain, expected: int, good_hash: str, row: EventRow) -> Finding:
    """Why `row` failed, where event `expected` (linking to `good_hash`) was due.

    The order of the questions matters: the genuine event is looked for
    before a gap is called a deletion, so that a moved row is not mistaken
    for a missing one, nor a swapped pair for an altered event.
    """
    if row.sequence < expected:
        return _duplicate(row.sequence)
    genuine = genuine_event(chain, expected, good_hash, besides=row)
    if genuine is not None:
        return _displaced(chain, expected, row, genuine)
    if row.sequence > expected:
        return _gap(expected, row.sequence)
    return _in_place(chain, expected, good_hash, row)


def _duplicate(sequence: int) -> Finding:
    return Finding(
        sequence, "inserted", f"a second event numbered {sequence} was added to the chain."
    )


def _displaced(chain: AuditChain, expected: int, row: EventRow, genuine: EventRow) -> Finding:
    """The genuine event `expected` sits at another position: reordered or pushed along."""
    moved_to = genuine.sequence
    if moved_to == row.sequence:
        return _duplicate(moved_to)  # both carry the number; the row we met is the extra
    if row.sequence > expected:
        return Finding(
            expected, "reordered",
            f"event {expected} was moved to position {moved_to}, out of order.",
        )
    true_sequence = original_sequence(chain, row, prefer=moved_to)
    if true_sequence == moved_to:
        return Finding(
            expected, "reordered", f"events {expected} and {moved_to} have swapped places."
        )
    if true_sequence is not None:
        return Finding(
            expected, "reordered",
            f"event {expected} now sits at position {moved_to}, and position {expected} "
            f"holds event {true_sequence}.",
        )
    count = moved_to - expected
    rows = "a row that is not part of the chain sits" if count == 1 else (
        f"{count} rows that are not part of the chain sit"
    )
    return Finding(
        expected, "inserted",
        f"{rows} before the genuine event {expected}, which was renumbered {moved_to}.",
    )


def _gap(expected: int, found: int) -> Finding:
    count = found - expected
    span = f"event {expected} is" if count == 1 else f"events {expected} to {found - 1} are"
    follows = f"event {expected - 1}" if expected > 1 else "the start of the chain"
    return Finding(expected, "missing", f"{span} missing: event {found} follows {follows}.")


def _in_place(chain: AuditChain, expected: int, good_hash: str, row: EventRow) -> Finding:
    """The row carries the expected number but does not verify, and the genuine
    event is nowhere else: altered, or neighbours deleted or inserted with renumbering."""
    true_sequence = original_sequence(chain, row)
    if true_sequence is not None and true_sequence > expected:
        return _deleted_and_renumbered(expected, true_sequence)
    if true_sequence is not None and _links_like(chain, row, true_sequence):
        return _inserted_and_renumbered(expected, true_sequence)
    if row.prev_hash == good_hash:
        return Finding(
            expected, "changed",
            f"event {expected} was altered: its content no longer matches its hash.",
        )
    if recompute(chain, row) == row.hash:
        return _previous_rehashed(expected)
    return Finding(
        expected, "changed",
        f"event {expected} was altered: neither its link to event {expected - 1} nor its "
        "content matches its hash.",
    )


def _links_like(chain: AuditChain, row: EventRow, true_sequence: int) -> bool:
    """Whether `row` links to the same event as the row now numbered `true_sequence`,
    i.e. it is that event's genuine successor pushed along by an insertion."""
    return any(other.prev_hash == row.prev_hash for other in _rows(chain, sequence=true_sequence))


def _deleted_and_renumbered(expected: int, true_sequence: int) -> Finding:
    count = true_sequence - expected
    span = (
        f"event {expected} was" if count == 1
        else f"events {expected} to {true_sequence - 1} were"
    )
    return Finding(
        expected, "missing", f"{span} deleted and the later events renumbered to close the gap."
    )


def _inserted_and_renumbered(expected: int, true_sequence: int) -> Finding:
    count = expected - true_sequence
    span = (
        f"event {true_sequence} is" if count == 1
        else f"events {true_sequence} to {expected - 1} are"
    )
    return Finding(
        true_sequence, "inserted",
        f"{span} not part of the chain: the genuine event {true_sequence} was renumbered "
        f"{expected}.",
    )


def _previous_rehashed(expected: int) -> Finding:
    if expected == 1:
        return Finding(
            1, "changed",
            "event 1 verifies on its own but does not start from the genesis hash: "
            "it was replaced.",
        )
    previous = expected - 1
    return Finding(
        previous, "changed",
        f"event {expected} recorded a different hash for event {previous}: event {previous} "
        "was altered and its hash recomputed to hide it.",
    )


def _problem(chain: AuditChain, finding: Finding) -> Problem:
    organisation = chain.organisation
    return Problem(
        chain_key=chain.key,
        organisation_name=organisation.name if organisation else None,
        organisation_slug=organisation.slug if organisation else None,
        sequence=finding.sequence,
        kind=finding.kind,
        detail=finding.detail,
    )
