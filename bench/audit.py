"""Audit trail benchmark: appends per second and verification throughput, on PostgreSQL.

    .venv/bin/python bench/audit.py [--events 1000000] [--appends 2000]

Creates a fresh database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/infoshare_bench; it is dropped first),
migrates it, then measures:

1. appends/s with one writer (each append is its own transaction, as in a service);
2. appends/s with eight writer threads appending to one chain at once, then
   checks that chain is intact (sequence 1..N, no gap, no fork);
3. verification throughput over a chain of 1,000,000 events, generated in
   Python and loaded with COPY; only `verify_chains` is timed.

Prints a summary against the targets and writes bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as `python bench/audit.py`, Python puts bench/ on the path, not the
# project root that bench.common and infoshare are imported from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

# PostgreSQL only, so one database by default rather than one per engine.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/infoshare_bench")
common.setup_django()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from infoshare.audit import services as audit  # noqa: E402
from infoshare.audit.chain import canonical_changes, event_hash  # noqa: E402
from infoshare.audit.models import GENESIS_HASH, AuditChain  # noqa: E402
from infoshare.audit.verify import verify_chains  # noqa: E402
from infoshare.core.models import Organisation, OrganisationKind, User  # noqa: E402

TARGET_VERIFY_EVENTS_PER_SECOND = 200_000
TARGET_CONCURRENT_APPENDS_PER_SECOND = 500
WRITERS = 8
RESULTS = common.RESULTS_DIR / "audit.json"


def main() -> None:
    options = parse_arguments()
    require_postgresql()
    common.prepare_database()
    actors = make_actors()
    results: dict[str, Any] = {
        **common.run_context(),
        "single_writer": bench_single_writer(actors, options.appends),
        "concurrent_writers": bench_concurrent_writers(actors, options.appends),
        "verification": bench_verification(actors, options.events),
    }
    results["load_average_after"] = common.load_average()
    results["targets"] = {
        "verify_events_per_second": TARGET_VERIFY_EVENTS_PER_SECOND,
        "concurrent_appends_per_second": TARGET_CONCURRENT_APPENDS_PER_SECOND,
    }
    results["targets_met"] = targets_met(results)
    print_summary(results)
    common.write_results(RESULTS, results)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to verify")
    parser.add_argument("--appends", type=int, default=2_000, help="appends per writer test")
    return parser.parse_args()


# --- Set-up ------------------------------------------------------------------------


def require_postgresql() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("The audit benchmark measures PostgreSQL: set DATABASE_URL to a postgres:// URL.")


def make_actors() -> list[User]:
    return [
        User.objects.create_user(email=f"writer{n}@bench.test", name=f"Writer {n}")
        for n in range(WRITERS)
    ]


def make_school(slug: str) -> Organisation:
    return Organisation.objects.create(
        name=f"Bench {slug}", slug=slug, kind=OrganisationKind.SCHOOL
    )


# --- Appends -------------------------------------------------------------------------


def append(actor: User, organisation: Organisation, n: int) -> None:
    """One audited change as a service makes it: its own transaction, one event."""
    with transaction.atomic():
        audit.record(
            actor,
            "bench.appended",
            organisation,
            {"n": n, "field": ["old", "new"]},
            label=f"Bench record {n}",
        )


def bench_single_writer(actors: list[User], appends: int) -> dict[str, Any]:
    school = make_school("single-writer")
    started, cpu_started = time.perf_counter(), time.process_time()
    for n in range(appends):
        append(actors[0], school, n)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "appends": appends,
        "seconds": round(elapsed, 3),
        "appends_per_second": round(appends / elapsed),
        # Python's share of each append; the rest is waiting for the database.
        "python_cpu_ms_per_append": round(cpu / appends * 1000, 3),
        "intact": chain_intact(school, appends),
    }


def bench_concurrent_writers(actors: list[User], appends: int) -> dict[str, Any]:
    school = make_school("eight-writers")
    per_writer = appends // WRITERS
    errors: list[Exception] = []
    start = threading.Barrier(WRITERS + 1)

    def writer(actor: User) -> None:
        try:
            start.wait()
            for n in range(per_writer):
                append(actor, school, n)
        except Exception as error:  # noqa: BLE001 - reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(actor,)) for actor in actors[:WRITERS]]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = per_writer * WRITERS
    return {
        "writers": WRITERS,
        "appends": total,
        "errors": [repr(error) for error in errors],
        "seconds": round(elapsed, 3),
        "appends_per_second": round(total / elapsed),
        "intact": not errors and chain_intact(school, total),
    }


def chain_intact(organisation: Organisation, expected_events: int) -> bool:
    result = verify_chains(organisation)
    return result.intact and result.events_checked == expected_events


# --- Verification ------------------------------------------------------------------------

COPY_COLUMNS = (
    "chain_id",
    "organisation_id",
    "sequence",
    "created_at",
    "actor_id",
    "verb",
    "object_type",
    "object_id",
    "object_label",
    "changes",
    "prev_hash",
    "hash",
)
VERBS = ("membership.invited", "membership.roles_changed", "account.logged_in", "decision.recorded")


def bench_verification(actors: list[User], events: int) -> dict[str, Any]:
    school = make_school("million")
    chain = AuditChain.objects.create(key=AuditChain.key_for(school), organisation=school)
    started = time.perf_counter()
    last_hash = load_chain(chain, school, actors, events)
    generated = time.perf_counter() - started
    AuditChain.objects.filter(pk=chain.pk).update(last_sequence=events, last_hash=last_hash)
    with connection.cursor() as cursor:
        # A steady-state table: statistics and visibility map up to date.
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    timings = [time_verification(school, events) for _ in range(3)]
    best = min(timings)
    return {
        "events": events,
        "generate_and_load_seconds": round(generated, 1),
        "verify_seconds": [round(t, 3) for t in timings],
        "events_per_second": round(events / best),
    }


def load_chain(chain: AuditChain, school: Organisation, actors: list[User], events: int) -> str:
    """Compute a valid chain in Python and COPY it in; returns the last hash."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    previous = GENESIS_HASH
    raw = connection.connection
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    statement = "COPY audit_auditevent ({}) FROM STDIN".format(", ".join(COPY_COLUMNS))
    with transaction.atomic(), raw.cursor() as cursor, cursor.copy(statement) as copy:
        for sequence in range(1, events + 1):
            row = synthetic_event(
                chain, school, actors, sequence=sequence, start=start, previous=previous
            )
            copy.write_row(row)
            previous = row[-1]
    return previous


def synthetic_event(
    chain: AuditChain,
    school: Organisation,
    actors: list[User],
    *,
    sequence: int,
    start: datetime,
    previous: str,
) -> tuple[Any, ...]:
    created_at = start + timedelta(seconds=sequence, microseconds=sequence % 1_000_000)
    actor_id = actors[sequence % len(actors)].pk
    verb = VERBS[sequence % len(VERBS)]
    object_id = f"REF-{sequence % 5000:05d}"
    label = f"Record {object_id}"
    changes = canonical_changes({"status": ["draft", "approved"], "n": sequence})
    digest = event_hash(
        prev_hash=previous,
        chain_key=chain.key,
        sequence=sequence,
        created_at=created_at,
        actor_id=actor_id,
        verb=verb,
        object_type="bench.record",
        object_id=object_id,
        object_label=label,
        changes=changes,
    )
    return (
        chain.pk,
        school.pk,
        sequence,
        created_at,
        actor_id,
        verb,
        "bench.record",
        object_id,
        label,
        changes,
        previous,
        digest,
    )


def time_verification(school: Organisation, events: int) -> float:
    started = time.perf_counter()
    result = verify_chains(school)
    elapsed = time.perf_counter() - started
    if not result.intact or result.events_checked != events:
        sys.exit(f"The generated chain did not verify: {result.first_problem}")
    return elapsed


# --- Report ------------------------------------------------------------------------------


def targets_met(results: dict[str, Any]) -> dict[str, bool]:
    concurrent = results["concurrent_writers"]
    return {
        "verification": results["verification"]["events_per_second"]
        >= TARGET_VERIFY_EVENTS_PER_SECOND,
        "concurrent_appends": concurrent["intact"]
        and concurrent["appends_per_second"] >= TARGET_CONCURRENT_APPENDS_PER_SECOND,
    }


def print_summary(results: dict[str, Any]) -> None:
    single, concurrent = results["single_writer"], results["concurrent_writers"]
    verification, met = results["verification"], results["targets_met"]
    common.print_heading("Audit trail benchmark", results)
    print(
        f"  one writer:     {single['appends_per_second']:>9,} appends/s "
        f"({single['appends']:,} appends, chain {'intact' if single['intact'] else 'BROKEN'}, "
        f"{single['python_cpu_ms_per_append']} ms of Python CPU each)"
    )
    print(
        f"  eight writers:  {concurrent['appends_per_second']:>9,} appends/s "
        f"({concurrent['appends']:,} appends, chain "
        f"{'intact' if concurrent['intact'] else 'BROKEN'}) — target "
        f"{TARGET_CONCURRENT_APPENDS_PER_SECOND:,}: {common.verdict(met['concurrent_appends'])}"
    )
    print(
        f"  verification:   {verification['events_per_second']:>9,} events/s "
        f"({verification['events']:,} events, best of {verification['verify_seconds']} s) — "
        f"target {TARGET_VERIFY_EVENTS_PER_SECOND:,}: {common.verdict(met['verification'])}"
    )


if __name__ == "__main__":
    main()
