"""Appending to the audit trail. Every service calls `record` inside its transaction."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from infoshare.audit.chain import canonical_changes, event_hash
from infoshare.audit.models import AuditChain, AuditEvent
from infoshare.core.models import Organisation

if TYPE_CHECKING:
    from infoshare.core.models import User


class AuditOutsideTransaction(RuntimeError):
    """`record` was called outside `transaction.atomic()`: the event could outlive a rollback."""


def record(
    actor: User | None,
    verb: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    *,
    organisation: Organisation | None = None,
    label: str | None = None,
) -> AuditEvent:
    """Append one event to the chain of `organisation` (or of `obj`'s organisation).

    `label` is how the record is named on the audit page (a reference, never
    sensitive content); it defaults to `str(obj)`. `changes` holds field names,
    states and references only.
    """
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction("audit.record must be called inside transaction.atomic().")
    organisation = organisation or _organisation_of(obj)
    event = AuditEvent(
        organisation=organisation,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=_public_id(obj),
        object_label=(label if label is not None else str(obj) if obj is not None else "")[:200],
        changes=canonical_changes(changes),
    )
    # From taking the lock to the commit, other writers to this chain wait:
    # everything that does not depend on the head is done before it.
    chain = _lock_chain(organisation)
    event.chain = chain
    event.sequence = chain.last_sequence + 1
    event.prev_hash = chain.last_hash
    event.created_at = timezone.now()  # after the lock, so times follow sequence order
    event.hash = event_hash(
        prev_hash=event.prev_hash,
        chain_key=chain.key,
        sequence=event.sequence,
        created_at=event.created_at,
        actor_id=event.actor_id,
        verb=event.verb,
        object_type=event.object_type,
        object_id=event.object_id,
        object_label=event.object_label,
        changes=event.changes,
    )
    _append(event, chain)
    return event


def _organisation_of(obj: models.Model | None) -> Organisation | None:
    if isinstance(obj, Organisation):
        return obj
    return getattr(obj, "organisation", None)


def _public_id(obj: models.Model | None) -> str:
    """Records are named by reference or UUID, never by sequential id (rule 2)."""
    if obj is None:
        return ""
    for attribute in ("reference", "uuid", "slug"):
        value = getattr(obj, attribute, None)
        if value:
            return str(value)
    return str(obj.pk)


def _lock_chain(organisation: Organisation | None) -> AuditChain:
    """The chain's head, locked until the transaction ends; created on first use.

    Writers to one chain queue on this lock from here to their commit, so the
    work done while holding it is kept to three short statements, in SQL
    written once rather than compiled by the ORM on every append.
    """
    key = AuditChain.key_for(organisation)
    chain = _locked_head(key, organisation)
    if chain is not None:
        return chain
    # If another writer creates it first, the IntegrityError is theirs to win:
    # lock the head they created.
    with contextlib.suppress(IntegrityError), transaction.atomic():
        AuditChain.objects.create(key=key, organisation=organisation)
    chain = _locked_head(key, organisation)
    assert chain is not None  # it exists now, whoever created it
    return chain


def _locked_head(key: str, organisation: Organisation | None) -> AuditChain | None:
    connection = transaction.get_connection()
    # SQLite has no row locks: its IMMEDIATE transactions hold the write lock.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(_SELECT_HEAD + lock, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    chain = AuditChain(
        pk=row[0], key=key, organisation=organisation, last_sequence=row[1], last_hash=row[2]
    )
    chain._state.adding = False
    chain._state.db = connection.alias
    return chain


def _append(event: AuditEvent, chain: AuditChain) -> None:
    """INSERT the event and move the head on: what `event.save()` and a queryset
    update would do, without the ORM's per-call compiling."""
    connection = transaction.get_connection()
    values = [
        field.get_db_prep_save(getattr(event, field.attname), connection)
        for field in _INSERTED_FIELDS
    ]
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(_INSERT_EVENT + " RETURNING id", values)
            event.pk = cursor.fetchone()[0]
        else:
            cursor.execute(_INSERT_EVENT, values)
            event.pk = cursor.lastrowid
        cursor.execute(_ADVANCE_HEAD, [event.sequence, event.hash, chain.pk])
    event._state.adding = False
    event._state.db = connection.alias


_SELECT_HEAD = (
    f"SELECT id, last_sequence, last_hash FROM {AuditChain._meta.db_table} WHERE key = %s"
)
_INSERTED_FIELDS = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
_INSERT_EVENT = "INSERT INTO {} ({}) VALUES ({})".format(
    AuditEvent._meta.db_table,
    ", ".join(field.column for field in _INSERTED_FIELDS),
    ", ".join("%s" for _ in _INSERTED_FIELDS),
)
_ADVANCE_HEAD = (
    f"UPDATE {AuditChain._meta.db_table} SET last_sequence = %s, last_hash = %s WHERE id = %s"
)
