"""Database triggers that refuse to change or remove audit events (DESIGN.md rule 5).

The model already refuses updates and deletes, but raw SQL, a shell session or
a bug in another app would go around it; the database itself refuses them.

On PostgreSQL a row-level trigger refuses UPDATE and DELETE, and a
statement-level trigger refuses TRUNCATE (which fires no row triggers) of a
table that holds any event: emptying an empty table destroys nothing, and is
how Django resets the database between transactional tests. On SQLite, which
has no TRUNCATE, BEFORE UPDATE and BEFORE DELETE triggers abort.

`install_triggers(connection)` (idempotent) and `remove_triggers(connection)`
take a connection so that the tests can lift the guard to simulate tampering,
and so that Django can empty the tables after a transactional test
(tests/conftest.py).
This module's SQL is frozen with the migration: change it in a new migration.
"""

from django.db import migrations

MESSAGE = "audit events are append-only"

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP;
    END;
    $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION audit_event_no_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM audit_auditevent) THEN
            RAISE EXCEPTION '{MESSAGE} (TRUNCATE refused)';
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE OR REPLACE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE OR REPLACE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate()
    """,
]

POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
    "DROP FUNCTION IF EXISTS audit_event_no_truncate()",
]

SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_event_no_update
    BEFORE UPDATE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE} (UPDATE refused)');
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_event_no_delete
    BEFORE DELETE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE} (DELETE refused)');
    END
    """,
]

SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

STATEMENTS = {
    "postgresql": (POSTGRESQL_INSTALL, POSTGRESQL_REMOVE),
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
}


def _run(connection, statements):
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_triggers(connection):
    """Other databases are not supported by Infoshare; they get the model's guard only."""
    install, _ = STATEMENTS.get(connection.vendor, ([], []))
    _run(connection, install)


def remove_triggers(connection):
    _, remove = STATEMENTS.get(connection.vendor, ([], []))
    _run(connection, remove)


def forwards(apps, schema_editor):
    install_triggers(schema_editor.connection)


def backwards(apps, schema_editor):
    remove_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
