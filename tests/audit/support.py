"""Helpers for the audit tests: appending events, and tampering as an attacker with SQL would."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

from django.core.management import CommandError, call_command
from django.db import connection, transaction

from infoshare.audit import services as audit
from infoshare.audit.chain import event_hash
from infoshare.audit.models import AuditChain, AuditEvent
from infoshare.core.models import Organisation, User

# The migration's own functions, so the guard put back is exactly the one installed.
triggers: Any = importlib.import_module("infoshare.audit.migrations.0002_append_only_triggers")

# Free of the (chain, sequence) unique constraint while rows change places.
PARKING_SEQUENCE = 10**12


def record_events(
    organisation: Organisation | None, actor: User | None, count: int, *, verb: str = "test.event"
) -> list[AuditEvent]:
    """`count` events, each appended in its own transaction as a service would."""
    events = []
    for n in range(1, count + 1):
        with transaction.atomic():
            events.append(
                audit.record(
                    actor, verb, organisation, {"n": n}, organisation=organisation,
                    label=f"Record {n}",
                )
            )
    return events


def event(organisation: Organisation | None, sequence: int) -> AuditEvent:
    return AuditEvent.objects.get(chain__key=AuditChain.key_for(organisation), sequence=sequence)


def run_verify(*args: str) -> tuple[int, str, str]:
    """Run `manage.py verify_audit`; returns (exit code, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


# --- Tampering ---------------------------------------------------------------------------


@contextmanager
def append_only_lifted() -> Iterator[None]:
    """Within the block, audit rows can be updated and deleted with SQL.

    In a savepoint: if the block fails, the rollback undoes the lifting too
    (DDL is transactional on PostgreSQL and SQLite), so the guard always returns.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _alter_triggers("DISABLE")
        else:
            triggers.remove_triggers(connection)
        yield
        if connection.vendor == "postgresql":
            _alter_triggers("ENABLE")
        else:
            triggers.install_triggers(connection)


def _alter_triggers(action: str) -> None:
    # PostgreSQL will not alter a table while the test's deferred foreign-key
    # checks are pending: run them now, then defer them again as Django does.
    _execute("SET CONSTRAINTS ALL IMMEDIATE")
    _execute(f"ALTER TABLE audit_auditevent {action} TRIGGER USER")
    _execute("SET CONSTRAINTS ALL DEFERRED")


def _execute(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def change_column(target: AuditEvent, column: str, value: Any) -> None:
    with append_only_lifted():
        _execute(f"UPDATE audit_auditevent SET {column} = %s WHERE id = %s", [value, target.pk])


def delete_event(target: AuditEvent) -> None:
    with append_only_lifted():
        _execute("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])


def renumber(target: AuditEvent, sequence: int) -> None:
    with append_only_lifted():
        _execute("UPDATE audit_auditevent SET sequence = %s WHERE id = %s", [sequence, target.pk])


def swap(first: AuditEvent, second: AuditEvent) -> None:
    """Exchange two rows' sequence numbers, through a free number."""
    with append_only_lifted():
        for pk, sequence in (
            (first.pk, PARKING_SEQUENCE), (second.pk, first.sequence), (first.pk, second.sequence)
        ):
            _execute("UPDATE audit_auditevent SET sequence = %s WHERE id = %s", [sequence, pk])


def shift_from(organisation: Organisation | None, sequence: int, by: int) -> None:
    """Renumber the events from `sequence` on by `by`, one row at a time in a safe order."""
    chain = AuditChain.objects.get(key=AuditChain.key_for(organisation))
    rows = list(
        AuditEvent.objects.filter(chain=chain, sequence__gte=sequence)
        .order_by("-sequence" if by > 0 else "sequence").values_list("pk", "sequence")
    )
    with append_only_lifted():
        for pk, current in rows:
            _execute(
                "UPDATE audit_auditevent SET sequence = %s WHERE id = %s", [current + by, pk]
            )


def forge_event(
    organisation: Organisation | None, sequence: int, *, prev_hash: str, valid: bool = True,
    label: str = "Forged",
) -> AuditEvent:
    """Insert a row that was never recorded (inserting needs no lifting: the trail
    accepts new rows). With `valid`, its hash is computed properly, as an
    attacker who knows the algorithm would."""
    chain = AuditChain.objects.get(key=AuditChain.key_for(organisation))
    forged = AuditEvent(
        chain=chain, organisation=organisation, sequence=sequence,
        created_at=AuditEvent.objects.filter(chain=chain).latest("sequence").created_at,
        verb="test.forged", object_label=label, changes="{}", prev_hash=prev_hash,
    )
    forged.hash = rehash(forged, chain) if valid else "f" * 64
    forged.save()
    return forged


def rehash(target: AuditEvent, chain: AuditChain | None = None) -> str:
    """The hash of `target`'s current content (what an attacker would store)."""
    chain = chain or target.chain
    return event_hash(
        prev_hash=target.prev_hash, chain_key=chain.key, sequence=target.sequence,
        created_at=target.created_at, actor_id=target.actor_id, verb=target.verb,
        object_type=target.object_type, object_id=target.object_id,
        object_label=target.object_label, changes=target.changes,
    )
