"""Eight writers appending to one chain at once leave it whole: 1..N, no gap, no fork.

Transactional: each thread commits for real through its own connection, as
gunicorn workers would; appending locks the chain head (SELECT … FOR UPDATE
on PostgreSQL; SQLite's IMMEDIATE transactions take the write lock).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from infoshare.audit import services as audit
from infoshare.audit.models import GENESIS_HASH, AuditChain, AuditEvent
from infoshare.audit.verify import verify_chains
from infoshare.core.models import Organisation, OrganisationKind, User

WRITERS = 8
APPENDS_EACH = 6


def append_from_threads(organisation: Organisation, actors: list[User]) -> list[Exception]:
    errors: list[Exception] = []
    start = threading.Barrier(len(actors))

    def writer(actor: User) -> None:
        try:
            start.wait()
            for n in range(APPENDS_EACH):
                with transaction.atomic():
                    audit.record(actor, "test.concurrent", organisation, {"n": n})
        except Exception as error:  # noqa: BLE001 - asserted by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_eight_writers_on_one_chain_leave_no_gap_and_no_fork():
    school = Organisation.objects.create(
        name="Hazel School", slug="hazel", kind=OrganisationKind.SCHOOL
    )
    actors = [
        User.objects.create_user(email=f"writer{n}@hazel.test", name=f"Writer {n}")
        for n in range(WRITERS)
    ]
    # The chain does not exist yet: the writers also race to create its head.
    errors = append_from_threads(school, actors)
    assert errors == []

    total = WRITERS * APPENDS_EACH
    events = list(AuditEvent.objects.filter(organisation=school).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, total + 1))
    assert [e.prev_hash for e in events] == [GENESIS_HASH] + [e.hash for e in events[:-1]]
    assert len({e.prev_hash for e in events}) == total  # no two events share a parent
    assert AuditChain.objects.filter(organisation=school).count() == 1
    head = AuditChain.objects.get(organisation=school)
    assert (head.last_sequence, head.last_hash) == (total, events[-1].hash)
    assert {e.actor_id for e in events} == {a.pk for a in actors}

    result = verify_chains(school)
    assert (result.intact, result.events_checked) == (True, total)
