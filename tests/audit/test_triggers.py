"""The database itself refuses to change or remove audit events (migration 0002),
whatever goes around the model: raw SQL, a shell, another app's bug."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction

from infoshare.audit.models import AuditEvent
from tests.audit.support import append_only_lifted, record_events, triggers


def execute(sql: str, params: list | None = None) -> int:
    """Run SQL in a savepoint, so a refused statement leaves the test's transaction usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def installed_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'audit_auditevent'"
            )
        return {name for (name,) in cursor.fetchall()}


EXPECTED_TRIGGERS = {
    "postgresql": {"audit_event_append_only", "audit_event_no_truncate"},
    "sqlite": {"audit_event_no_update", "audit_event_no_delete"},
}


def test_the_migration_installs_the_triggers(db):
    assert installed_triggers() == EXPECTED_TRIGGERS[connection.vendor]


def test_raw_sql_update_is_refused(world):
    (recorded,) = record_events(world.school.organisation, None, 1)
    with pytest.raises(DatabaseError, match="append-only"):
        execute("UPDATE audit_auditevent SET object_label = 'Altered' WHERE id = %s", [recorded.pk])
    assert AuditEvent.objects.get(pk=recorded.pk).object_label == "Record 1"


def test_raw_sql_delete_is_refused(world):
    (recorded,) = record_events(world.school.organisation, None, 1)
    with pytest.raises(DatabaseError, match="append-only"):
        execute("DELETE FROM audit_auditevent WHERE id = %s", [recorded.pk])
    assert AuditEvent.objects.filter(pk=recorded.pk).exists()


def test_emptying_the_whole_table_is_refused(world):
    """TRUNCATE on PostgreSQL (it fires no row triggers, so it has its own);
    SQLite has no TRUNCATE, and an unqualified DELETE meets the row trigger."""
    record_events(world.school.organisation, None, 2)
    if connection.vendor == "postgresql":
        # Check the test's deferred foreign keys now: PostgreSQL will not
        # truncate a table with checks pending, which would hide the trigger.
        execute("SET CONSTRAINTS ALL IMMEDIATE")
        emptying = "TRUNCATE audit_auditevent"
    else:
        emptying = "DELETE FROM audit_auditevent"
    with pytest.raises(DatabaseError, match="append-only"):
        execute(emptying)
    assert AuditEvent.objects.count() == 2


def test_inserting_is_still_allowed_so_the_trail_can_grow(world):
    record_events(world.school.organisation, None, 3)
    assert AuditEvent.objects.filter(organisation=world.school.organisation).count() == 3


def test_the_migration_reverses_and_reapplies(world):
    (recorded,) = record_events(world.school.organisation, None, 1)
    editor = SimpleNamespace(connection=connection)
    triggers.backwards(None, editor)
    assert installed_triggers() == set()
    assert execute("UPDATE audit_auditevent SET verb = 'x' WHERE id = %s", [recorded.pk]) == 1
    triggers.forwards(None, editor)
    triggers.forwards(None, editor)  # idempotent: tests put the guard back this way
    assert installed_triggers() == EXPECTED_TRIGGERS[connection.vendor]
    with pytest.raises(DatabaseError, match="append-only"):
        execute("UPDATE audit_auditevent SET verb = 'y' WHERE id = %s", [recorded.pk])


def test_the_tests_tampering_helper_puts_the_guard_back(world):
    (recorded,) = record_events(world.school.organisation, None, 1)
    with append_only_lifted():
        execute("UPDATE audit_auditevent SET verb = 'x' WHERE id = %s", [recorded.pk])
    assert installed_triggers() == EXPECTED_TRIGGERS[connection.vendor]
    with pytest.raises(DatabaseError, match="append-only"):
        execute("DELETE FROM audit_auditevent WHERE id = %s", [recorded.pk])
