"""record(): one chain per organisation, sequence numbers without gaps, each event
linked to the one before; the model refuses to change or remove events."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from infoshare.audit import services as audit
from infoshare.audit.chain import canonical_changes, event_hash, hash_event
from infoshare.audit.models import (
    GENESIS_HASH,
    SYSTEM_CHAIN_KEY,
    AuditChain,
    AuditEvent,
    AuditTrailIsAppendOnly,
)
from infoshare.audit.services import AuditOutsideTransaction
from infoshare.core.models import Membership, Organisation, OrganisationKind
from tests.audit.support import record_events, rehash


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused_and_writes_nothing():
    school = Organisation.objects.create(
        name="Oak School", slug="oak", kind=OrganisationKind.SCHOOL
    )
    with pytest.raises(AuditOutsideTransaction):
        audit.record(None, "test.event", school)
    assert not AuditEvent.objects.exists()


def test_events_are_numbered_from_one_without_gaps_and_linked(world):
    school, dpo = world.school.organisation, world.school["dpo"]
    events = record_events(school, dpo, 5)
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    for previous, current in pairwise(events):
        assert current.prev_hash == previous.hash
    for stored in AuditEvent.objects.filter(organisation=school):
        assert stored.hash == rehash(stored)
    head = AuditChain.objects.get(organisation=school)
    assert (head.key, head.last_sequence, head.last_hash) == (
        f"org-{school.pk}", 5, events[-1].hash,
    )


def test_each_organisation_has_its_own_chain_and_the_rest_go_to_the_system_chain(world):
    record_events(world.school.organisation, None, 3)
    record_events(world.other.organisation, None, 2)
    with transaction.atomic():
        unattached = audit.record(None, "account.login_failed", None, {"email": "x@y.test"})
    assert unattached.chain.key == SYSTEM_CHAIN_KEY
    assert unattached.organisation is None
    assert unattached.sequence == 1
    assert AuditEvent.objects.filter(organisation=world.other.organisation).count() == 2
    assert AuditChain.objects.get(organisation=world.other.organisation).last_sequence == 2


def test_the_organisation_comes_from_the_record_and_records_are_named_by_reference(world):
    membership = Membership.objects.get(user=world.school["staff"])
    with transaction.atomic():
        recorded = audit.record(
            AnonymousUser(), "membership.roles_changed", membership, {"roles": [["staff"], []]}
        )
    assert recorded.organisation == world.school.organisation
    assert recorded.actor is None  # an anonymous visitor is nobody
    assert recorded.object_type == "core.membership"
    assert recorded.object_id == str(membership.uuid)  # never the sequential id
    assert recorded.object_label == str(membership)
    assert recorded.changes == '{"roles":[["staff"],[]]}'


def test_changes_are_stored_as_canonical_json():
    assert canonical_changes({"b": 1, "a": [2, None], "c": "é"}) == '{"a":[2,null],"b":1,"c":"é"}'
    assert canonical_changes(None) == "{}"


def test_the_hash_format_does_not_change():
    """Pinned: every stored hash depends on it. Changing it breaks every existing chain."""
    changes = canonical_changes(
        {"roles": [["staff"], ["dpo", "staff"]], "reason": "Left the school — “moved”",
         "n": 3, "ok": None}
    )
    common = {
        "prev_hash": GENESIS_HASH, "chain_key": "org-7", "sequence": 42,
        "verb": "membership.roles_changed", "object_type": "core.membership",
        "object_id": "0b9f6c1e-2f4d-4c43-9d5e-0c1a2b3c4d5e",
        "object_label": "Ann \"Quote\" O'Neil\n\x1f at Alder", "changes": changes,
    }
    whole_second = datetime(2026, 11, 22, 14, 5, tzinfo=UTC)
    assert event_hash(created_at=whole_second, actor_id=9, **common) == (
        "ddd866175c0fb172717a5c98770ee497f48c659592dd8452e8e6d702720f5209"
    )
    assert event_hash(created_at=whole_second.replace(microsecond=4), actor_id=None, **common) == (
        "fdcc0cb0ac5c6bf3e3f41ec5cb8d59dd5600f9737cabc9350f057cd36983067f"
    )
    # The verifier's positional form, with the time as PostgreSQL renders it, agrees.
    assert hash_event(
        GENESIS_HASH, "org-7", 42, "2026-11-22T14:05:00Z", 9, common["verb"],
        common["object_type"], common["object_id"], common["object_label"], changes,
    ) == "ddd866175c0fb172717a5c98770ee497f48c659592dd8452e8e6d702720f5209"


def test_an_event_cannot_be_saved_again(world):
    (recorded,) = record_events(world.school.organisation, None, 1)
    recorded.object_label = "Something else"
    with pytest.raises(AuditTrailIsAppendOnly):
        recorded.save()
    assert AuditEvent.objects.get(pk=recorded.pk).object_label == "Record 1"


def test_an_event_cannot_be_deleted(world):
    (recorded,) = record_events(world.school.organisation, None, 1)
    with pytest.raises(AuditTrailIsAppendOnly):
        recorded.delete()
    assert AuditEvent.objects.filter(pk=recorded.pk).exists()


def test_querysets_cannot_update_or_delete_events(world):
    events = record_events(world.school.organisation, None, 2)
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=events[0].pk).update(verb="changed")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    events[0].verb = "changed"
    # bulk_update runs in a transaction without a savepoint; give it one.
    with pytest.raises(AuditTrailIsAppendOnly), transaction.atomic():
        AuditEvent.objects.bulk_update([events[0]], ["verb"])
    assert AuditEvent.objects.filter(organisation=world.school.organisation).count() == 2
    assert not AuditEvent.objects.filter(verb="changed").exists()
