"""`manage.py verify_audit`: intact chains pass with their counts; each kind of
tampering is found and named — organisation, sequence number and kind."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from infoshare.audit import services as audit
from infoshare.audit.verify import verify_chains
from infoshare.core.models import Organisation
from tests.audit.support import (
    change_column,
    delete_event,
    event,
    forge_event,
    record_events,
    rehash,
    renumber,
    run_verify,
    shift_from,
    swap,
)

EVENTS = 8


@pytest.fixture
def trails(world):
    """Alder's chain of 8 events, Birch's of 3, and 2 in the system chain."""
    record_events(world.school.organisation, world.school["dpo"], EVENTS)
    record_events(world.other.organisation, world.other["headteacher"], 3)
    record_events(None, None, 2)
    return world


@pytest.fixture
def alder(trails) -> Organisation:
    return trails.school.organisation


def broken_at(sequence: int, kind: str) -> str:
    return f"Audit chain of Alder Primary School (alder) is broken at event {sequence}: {kind} — "


def assert_broken(sequence: int, kind: str) -> str:
    code, out, err = run_verify()
    assert code == 1, out
    assert broken_at(sequence, kind) in err, err
    # Only Alder's chain was touched: the others are not reported.
    assert "Birch" not in err
    assert "the system" not in err
    return err


# --- Intact -----------------------------------------------------------------------------


def test_intact_chains_exit_zero_with_the_counts(trails):
    code, out, err = run_verify()
    assert (code, err) == (0, "")
    assert out == "Verified 13 events in 3 chains: intact.\n"


def test_one_organisation_can_be_verified_alone(trails):
    code, out, _ = run_verify("--organisation", "birch")
    assert (code, out) == (0, "Verified 3 events in 1 chain: intact.\n")


def test_an_unknown_organisation_is_an_error(trails):
    with pytest.raises(CommandError, match="No organisation has the address 'nowhere'"):
        call_command("verify_audit", "--organisation", "nowhere")


def test_an_empty_database_is_intact(db):
    assert run_verify() == (0, "Verified 0 events in 0 chains: intact.\n", "")


def test_a_long_chain_is_streamed_in_chunks(world, monkeypatch):
    from infoshare.audit import verify

    monkeypatch.setattr(verify, "CHUNK_SIZE", 7)
    record_events(world.school.organisation, None, 30)
    result = verify_chains(world.school.organisation)
    assert (result.intact, result.events_checked, result.chains_checked) == (True, 30, 1)


# --- Changed ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("object_label", "Someone else"),
        ("verb", "membership.removed"),
        ("changes", '{"n":99}'),
        ("object_id", "another-record"),
        ("actor_id", None),
        ("hash", "0" * 64),
        ("prev_hash", "1" * 64),
    ],
)
def test_a_changed_field_is_found(alder, column, value):
    change_column(event(alder, 5), column, value)
    err = assert_broken(5, "changed")
    assert "event 5 was altered" in err


def test_a_changed_time_is_found(alder):
    target = event(alder, 3)
    change_column(target, "created_at", target.created_at.replace(year=2020))
    assert_broken(3, "changed")


def test_an_event_altered_and_rehashed_is_found_by_the_next_one(alder):
    target = event(alder, 4)
    target.object_label = "Quietly altered"
    change_column(target, "object_label", target.object_label)
    change_column(target, "hash", rehash(target))
    err = assert_broken(4, "changed")
    assert "event 5 recorded a different hash for event 4" in err


def test_the_last_event_altered_and_rehashed_is_found_by_the_chain_head(alder):
    target = event(alder, EVENTS)
    target.verb = "something.else"
    change_column(target, "verb", target.verb)
    change_column(target, "hash", rehash(target))
    err = assert_broken(EVENTS, "changed")
    assert "chain head recorded a different hash" in err


def test_an_event_moved_to_another_organisation_is_found(alder, trails):
    change_column(event(alder, 6), "organisation_id", trails.other.organisation.pk)
    err = assert_broken(6, "changed")
    assert "reassigned to another organisation" in err


# --- Missing ----------------------------------------------------------------------------


def test_a_deleted_event_is_found(alder):
    delete_event(event(alder, 4))
    err = assert_broken(4, "missing")
    assert "event 4 is missing: event 5 follows event 3" in err


def test_several_deleted_events_are_found(alder):
    delete_event(event(alder, 1))
    delete_event(event(alder, 2))
    err = assert_broken(1, "missing")
    assert "events 1 to 2 are missing: event 3 follows the start of the chain" in err


def test_events_deleted_from_the_end_are_found_by_the_chain_head(alder):
    delete_event(event(alder, EVENTS - 1))
    delete_event(event(alder, EVENTS))
    err = assert_broken(EVENTS - 1, "missing")
    assert f"events {EVENTS - 1} to {EVENTS} are missing from the end" in err


def test_a_deletion_hidden_by_renumbering_is_found(alder):
    delete_event(event(alder, 3))
    shift_from(alder, 4, by=-1)
    err = assert_broken(3, "missing")
    assert "deleted and the later events renumbered" in err


# --- Inserted ---------------------------------------------------------------------------


def test_a_row_beyond_the_chain_head_is_found(alder):
    # Even a well-formed one, linked and hashed properly: the head never counted it.
    forge_event(alder, EVENTS + 1, prev_hash=event(alder, EVENTS).hash)
    err = assert_broken(EVENTS + 1, "inserted")
    assert f"the chain head records only {EVENTS} events" in err


def test_a_row_inserted_in_the_middle_is_found(alder):
    shift_from(alder, 5, by=1)
    forge_event(alder, 5, prev_hash="a" * 64, valid=False)
    err = assert_broken(5, "inserted")
    assert (
        "a row that is not part of the chain sits before the genuine event 5, "
        "which was renumbered 6." in err
    )


def test_a_well_forged_row_inserted_in_the_middle_is_found(alder):
    """Linked to event 4 and hashed properly, it verifies; the event after it does not."""
    shift_from(alder, 5, by=1)
    forge_event(alder, 5, prev_hash=event(alder, 4).hash)
    err = assert_broken(5, "inserted")
    assert "the genuine event 5 was renumbered 6" in err


def test_a_row_with_a_wrong_link_but_a_proper_hash_is_found(alder):
    shift_from(alder, 2, by=1)
    forge_event(alder, 2, prev_hash="b" * 64)
    assert_broken(2, "inserted")


# --- Reordered --------------------------------------------------------------------------


def test_a_swapped_pair_is_found(alder):
    swap(event(alder, 3), event(alder, 4))
    err = assert_broken(3, "reordered")
    assert "events 3 and 4 have swapped places" in err


def test_a_swapped_pair_at_the_end_is_found(alder):
    swap(event(alder, EVENTS - 1), event(alder, EVENTS))
    assert_broken(EVENTS - 1, "reordered")


def test_a_swap_of_distant_events_is_found(alder):
    swap(event(alder, 2), event(alder, 7))
    err = assert_broken(2, "reordered")
    assert "events 2 and 7 have swapped places" in err


def test_an_event_moved_past_the_end_is_found(alder):
    renumber(event(alder, 3), 1000)
    err = assert_broken(3, "reordered")
    assert "event 3 was moved to position 1000" in err


# --- Reporting --------------------------------------------------------------------------


def test_every_broken_chain_is_named_and_the_first_problem_is_exposed(trails):
    birch = trails.other.organisation
    change_column(event(birch, 2), "object_label", "Altered")
    delete_event(event(None, 1))
    code, _, err = run_verify()
    assert code == 1
    assert "Audit chain of Birch Academy (birch) is broken at event 2: changed" in err
    assert "Audit chain of the system is broken at event 1: missing" in err
    assert "Alder" not in err
    # Alder's 8, Birch's up to the broken one, the system's first row.
    assert "Checked 11 events in 3 chains: broken." in err
    result = verify_chains()
    assert result.first_problem is not None
    assert (result.first_problem.organisation_slug, result.first_problem.sequence) == ("birch", 2)
    assert result.first_problem.kind == "changed"


def test_events_appended_after_a_broken_one_do_not_hide_it(alder):
    change_column(event(alder, 2), "object_label", "Altered")
    with transaction.atomic():
        audit.record(None, "test.later", alder)
    assert_broken(2, "changed")


def test_three_events_rotated_are_found(alder):
    third, fourth, fifth = event(alder, 3), event(alder, 4), event(alder, 5)
    renumber(third, 10**12)
    renumber(fourth, 3)
    renumber(fifth, 4)
    renumber(third, 5)
    err = assert_broken(3, "reordered")
    assert "event 3 now sits at position 5, and position 3 holds event 4" in err


def test_several_rows_inserted_together_are_found(alder):
    shift_from(alder, 5, by=2)
    forge_event(alder, 5, prev_hash="c" * 64, valid=False)
    forge_event(alder, 6, prev_hash="d" * 64, valid=False)
    err = assert_broken(5, "inserted")
    assert "2 rows that are not part of the chain sit before the genuine event 5" in err


def test_a_duplicated_sequence_number_is_called_inserted(alder):
    """Only possible with the unique constraint dropped; the walk meets the copy second."""
    from infoshare.audit.models import AuditChain
    from infoshare.audit.verify import EventRow, diagnose

    chain = AuditChain.objects.get(organisation=alder)
    stored = event(alder, 4)
    copy = EventRow(
        stored.sequence, stored.prev_hash, stored.hash, stored.created_at, stored.actor_id,
        stored.verb, stored.object_type, stored.object_id, stored.object_label, stored.changes,
    )
    finding = diagnose(chain, 5, stored.hash, copy)
    assert (finding.sequence, finding.kind) == (4, "inserted")
    assert "a second event numbered 4" in finding.detail
