"""Importing roll changes: matching pupils, all or nothing, duplicates, the audit event, who may.

Every test runs on 20 November 2026 (TODAY), so the rows' dates are in range.
"""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Person, PersonKind
from infoshare.statutory import imports
from infoshare.statutory.models import ChangeKind, RollChange
from infoshare.statutory.services import importing
from tests.core.support import assert_chain_intact, changes_of, last_event
from tests.reminders.support import at_noon
from tests.statutory.import_support import (
    BORN,
    TODAY,
    csv_bytes,
    joining,
    leaving,
    pupil_on_list,
    upn,
)


@pytest.fixture(autouse=True)
def _on_today():
    with time_machine.travel(at_noon(TODAY), tick=False):
        yield


def rows_of(data: bytes) -> tuple[list[imports.RollChangeRow], dict[str, str]]:
    """The file's rows, read and known to be readable, and its column headings."""
    table, mapping = imports.read_table(imports.read_upload("changes.csv", data))
    checked = imports.check_rows(table, mapping, today=TODAY, grounds=importing.grounds_by_text())
    assert checked.errors == []
    return checked.rows, imports.column_labels(table, mapping)


def import_file(world, data: bytes, role: str = "information_manager"):
    rows, columns = rows_of(data)
    school = world.school
    return importing.import_roll_changes(
        school.organisation, actor=school[role], rows=rows, columns=columns
    )


def refusal(world, data: bytes, role: str = "information_manager") -> list[tuple[int, str, str]]:
    before = state(world)
    with pytest.raises(importing.ImportRefused) as refused:
        import_file(world, data, role)
    assert state(world) == before, "a refused import changes nothing"
    return [(e.line, e.column, e.reason) for e in refused.value.row_errors]


def state(world) -> dict[str, object]:
    return {
        "changes": RollChange.objects.count(),
        "people": sorted(Person.objects.values_list("pk", "on_roll_from", "on_roll_until")),
        "audit": AuditEvent.objects.count(),
    }


# --- a good file --------------------------------------------------------------------------


def test_a_good_file_records_every_change_and_one_audit_event_with_counts(world):
    school = world.school.organisation
    staying = pupil_on_list(school, 2)
    going = pupil_on_list(school, 3)
    result = import_file(world, csv_bytes([joining(1), joining(2), leaving(3, Notes="To Leeds")]))

    assert (result.joining, result.removed, result.new_pupils) == (2, 1, 1)
    changes = list(RollChange.objects.filter(organisation=school).order_by("pk"))
    assert [c.pk for c in changes] == [c.pk for c in result.changes]
    assert [(c.kind, c.pupil.upn, c.change_date) for c in changes] == [
        (ChangeKind.JOINED, upn(1), datetime.date(2026, 11, 2)),
        (ChangeKind.JOINED, upn(2), datetime.date(2026, 11, 2)),
        (ChangeKind.REMOVED, upn(3), datetime.date(2026, 11, 13)),
    ]
    assert changes[1].pupil == staying
    assert changes[2].pupil == going
    assert changes[2].ground.code == "9-1-a-another-school"
    assert changes[2].notes == "To Leeds"
    assert {c.recorded_by for c in changes} == {world.school["information_manager"]}

    event = last_event("roll_changes.imported")
    assert event.organisation == school
    assert event.actor == world.school["information_manager"]
    assert changes_of(event) == {"joined": 2, "removed": 1, "new_pupils": 1}
    assert event.object_label == "Roll changes"
    assert AuditEvent.objects.filter(verb="roll_change.recorded").count() == 3
    assert {
        changes_of(e)["source"] for e in AuditEvent.objects.filter(verb="roll_change.recorded")
    } == {"import"}
    assert_chain_intact(school)


def test_the_audit_event_names_no_pupil(world):
    pupil_on_list(world.school.organisation, 3)
    import_file(world, csv_bytes([joining(1), leaving(3)]))
    event = last_event("roll_changes.imported")
    for text in ("Given001", "Family001", upn(1), "Given003", upn(3)):
        assert text not in event.changes
        assert text not in event.object_label


def test_a_pupil_joining_who_is_not_on_the_list_is_added_to_it(world):
    import_file(world, csv_bytes([joining(1)]))
    pupil = Person.objects.get(organisation=world.school.organisation, upn=upn(1))
    assert (pupil.kind, pupil.given_name, pupil.family_name) == (
        PersonKind.PUPIL,
        "Given001",
        "Family001",
    )
    assert (pupil.date_of_birth, pupil.on_roll_from) == (BORN, datetime.date(2026, 11, 2))


def test_a_pupil_without_upn_is_found_by_exact_names_and_date_of_birth(world):
    school = world.school.organisation
    known = pupil_on_list(school, 1, upn="")
    row = joining(
        1, UPN="", Legal_forename=" given001 ", Legal_surname="FAMILY001", Date="03/11/2026"
    )
    import_file(world, csv_bytes([row, leaving(1, UPN="")]))
    assert Person.objects.filter(organisation=school).count() == 1
    assert set(RollChange.objects.values_list("pupil", flat=True)) == {known.pk}


def test_a_pupil_without_upn_and_another_date_of_birth_joins_as_a_new_pupil(world):
    school = world.school.organisation
    pupil_on_list(school, 1, upn="")
    import_file(world, csv_bytes([joining(1, UPN="", Date_of_birth="28/03/2015")]))
    assert Person.objects.filter(organisation=school, given_name="Given001").count() == 2


def test_another_schools_pupil_with_the_upn_is_not_this_schools(world):
    """A pupil moving from Birch to Alder keeps the UPN; Alder's list gets its own record."""
    theirs = pupil_on_list(world.other.organisation, 1)
    import_file(world, csv_bytes([joining(1)]))
    change = RollChange.objects.get()
    assert change.organisation == world.school.organisation
    assert change.pupil != theirs
    assert change.pupil.organisation == world.school.organisation


# --- all or nothing -----------------------------------------------------------------------


def test_one_bad_row_among_good_ones_records_nothing_and_every_bad_row_is_reported(world):
    school = world.school.organisation
    pupil_on_list(school, 2, on_roll_from=datetime.date(2026, 9, 2))
    rows, columns = rows_of(
        csv_bytes([joining(1), leaving(2, Date="01/06/2026"), joining(3), leaving(4), joining(5)])
    )
    before = state(world)
    with pytest.raises(importing.ImportRefused) as refused:
        importing.import_roll_changes(
            school, actor=world.school["headteacher"], rows=rows, columns=columns
        )
    assert state(world) == before
    assert not Person.objects.filter(upn__in=[upn(1), upn(3), upn(5)]).exists()
    assert [(e.line, e.column) for e in refused.value.row_errors] == [(3, "Date"), (5, "UPN")]
    reasons = [e.reason for e in refused.value.row_errors]
    assert reasons[0] == (
        "The pupil joined the roll on 2 September 2026: the removal must be on or after that day."
    )
    assert reasons[1] == f"No pupil with UPN {upn(4)} is on the school's list."


def test_a_removal_must_name_a_pupil_on_the_schools_list(world):
    pupil_on_list(world.other.organisation, 1)
    assert refusal(world, csv_bytes([leaving(1), leaving(2, UPN="")])) == [
        (2, "UPN", f"No pupil with UPN {upn(1)} is on the school's list."),
        (
            3,
            "Legal forename",
            "No pupil named Given002 Family002, born 27 March 2015, is on the school's list.",
        ),
    ]


def test_a_upn_that_finds_a_pupil_with_other_names_or_birth_date_is_refused(world):
    """A mistyped UPN must not remove another child from the roll."""
    school = world.school.organisation
    pupil_on_list(school, 1)
    pupil_on_list(school, 2)
    pupil_on_list(school, 3)
    found = refusal(
        world,
        csv_bytes(
            [
                leaving(1, Legal_forename="Somebody"),
                leaving(2, Date_of_birth="01/01/2016"),
                leaving(3, Legal_surname="Else", Date_of_birth="01/01/2016"),
            ]
        ),
    )
    assert found == [
        (
            2,
            "UPN",
            f"The pupil with UPN {upn(1)} on the school's list has a different name. "
            "Check the UPN, or correct the pupil's details on the school's list first.",
        ),
        (
            3,
            "UPN",
            f"The pupil with UPN {upn(2)} on the school's list has a different date of "
            "birth. Check the UPN, or correct the pupil's details on the school's list first.",
        ),
        (
            4,
            "UPN",
            f"The pupil with UPN {upn(3)} on the school's list has a different name and "
            "date of birth. Check the UPN, or correct the pupil's details on the school's list "
            "first.",
        ),
    ]


def test_two_pupils_with_the_same_names_and_birth_date_need_the_upn(world):
    school = world.school.organisation
    pupil_on_list(school, 1, upn="")
    pupil_on_list(school, 1, upn=upn(9))
    assert refusal(world, csv_bytes([leaving(1, UPN="")])) == [
        (
            2,
            "Legal forename",
            "More than one pupil on the school's list has this name and date of birth. "
            "Give the pupil's UPN.",
        )
    ]


def test_the_forms_own_checks_are_reported_under_the_files_columns(world):
    headings = ["Pupil UPN", "First Name", "Last Name", "DOB", "Type", "Change Date", "Reason"]
    row = {
        "Pupil UPN": upn(1),
        "First Name": "Ann",
        "Last Name": "Lee",
        "DOB": "27/03/2015",
        "Type": "Joined",
        "Change Date": "01/01/2030",
    }
    assert refusal(world, csv_bytes([row], headings)) == [
        (2, "Change Date", "The date must be no more than a year from today.")
    ]


# --- duplicates ---------------------------------------------------------------------------


def test_importing_the_same_file_again_is_refused_row_by_row_as_duplicates(world):
    pupil_on_list(world.school.organisation, 2)
    data = csv_bytes([joining(1), leaving(2), joining(3, UPN="")])
    first = import_file(world, data)
    references = [change.reference for change in first.changes]

    found = refusal(world, data)
    assert [(line, column) for line, column, _ in found] == [(2, "Date"), (3, "Date"), (4, "Date")]
    for (_, _, reason), reference in zip(found, references, strict=True):
        assert reason == (
            f"This is already recorded as {reference}. Withdraw that one first if it is wrong."
        )


def test_duplicates_the_batch_finds_are_reported_by_line(world, monkeypatch):
    """Should the rows reach the batch unchecked, its refusal still names the file's lines."""
    rows, columns = rows_of(csv_bytes([joining(1), joining(2), joining(3)]))
    twice = [rows[0], rows[1], replace(rows[1], line=4)]
    monkeypatch.setattr(importing, "plan_import", _unchecked_plan)
    before = state(world)
    with pytest.raises(importing.ImportRefused) as refused:
        importing.import_roll_changes(
            world.school.organisation,
            actor=world.school["headteacher"],
            rows=twice,
            columns=columns,
        )
    assert state(world) == before
    assert [(e.line, e.column, e.reason) for e in refused.value.row_errors] == [
        (4, "Date", "The same change as number 2 of this batch.")
    ]


def _unchecked_plan(organisation, rows, *, today, columns=None):
    plan = importing.ImportPlan()
    for row in rows:
        draft = importing._draft(row, None, None)
        plan.changes.append(importing.PlannedChange(row.line, draft))
    return plan


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["headteacher", "information_manager"])
def test_the_headteacher_and_information_manager_import(world, role):
    result = import_file(world, csv_bytes([joining(1)]), role)
    assert len(result.changes) == 1


@pytest.mark.parametrize(
    "role", ["chair", "dpo", "dsl", "deputy_dsl", "staff", "volunteer", "auditor"]
)
def test_nobody_else_imports(world, role):
    rows, columns = rows_of(csv_bytes([joining(1)]))
    before = state(world)
    with pytest.raises(PermissionDenied):
        importing.import_roll_changes(
            world.school.organisation, actor=world.school[role], rows=rows, columns=columns
        )
    assert state(world) == before


def test_a_member_of_another_school_does_not_import_into_this_one(world):
    rows, _ = rows_of(csv_bytes([joining(1)]))
    with pytest.raises(PermissionDenied):
        importing.import_roll_changes(
            world.school.organisation, actor=world.other["headteacher"], rows=rows
        )
    assert RollChange.objects.count() == 0


def test_a_file_without_rows_is_refused(world):
    with pytest.raises(ValidationError, match="no roll changes in the file"):
        importing.import_roll_changes(
            world.school.organisation, actor=world.school["headteacher"], rows=[]
        )
    assert AuditEvent.objects.filter(verb="roll_changes.imported").count() == 0
