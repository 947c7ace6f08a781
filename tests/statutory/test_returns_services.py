"""The returns calendar's services: each allowed and refused (role, school, status, bad input),
and the audit event each leaves. The clock stands at 30 November 2026 (academic year 2026/27).

The helpers at the top build returns through the services, as the pages do; the other
returns tests import them.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from infoshare.audit.models import AuditEvent
from infoshare.statutory.models import (
    RETURN_NOTICE,
    ReturnKind,
    ReturnState,
    ReturnStatus,
    StatutoryReturn,
)
from infoshare.statutory.services import returns as services
from tests.core.support import assert_chain_intact, changes_of, last_event
from tests.reminders.support import at_noon

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)
D = datetime.date
KEEPERS = {"headteacher", "information_manager"}
ALL_ROLES = [
    "headteacher",
    "chair",
    "dpo",
    "dsl",
    "deputy_dsl",
    "information_manager",
    "staff",
    "volunteer",
    "auditor",
]


# --- Helpers shared by the returns tests ------------------------------------------------


@pytest.fixture
def today():
    """The clock at noon in London on 30 November 2026, standing still."""
    with time_machine.travel(at_noon(TODAY), tick=False):
        yield TODAY


def keeper(school: Any) -> Any:
    return school["information_manager"]


def answers(**overrides: Any) -> services.ReturnAnswers:
    fields: dict[str, Any] = {
        "title": "School workforce census 2026",
        "due_on": D(2026, 12, 9),
        "recipient": "Department for Education",
        "notes": "Through COLLECT.",
    }
    fields.update(overrides)
    return services.ReturnAnswers(**fields)


def other_return(school: Any, **overrides: Any) -> StatutoryReturn:
    return services.add_return(
        school.organisation, actor=keeper(school), answers=answers(**overrides)
    )


def census(school: Any, start: int = 2026) -> dict[str, StatutoryReturn]:
    """The three census returns of the academic year `start`, by kind."""
    services.add_census_returns(
        school.organisation, actor=keeper(school), academic_year_start=start
    )
    returns = StatutoryReturn.objects.filter(
        organisation=school.organisation, academic_year=f"{start}/{(start + 1) % 100:02d}"
    )
    return {r.kind: r for r in returns}


def state_of(statutory_return: StatutoryReturn) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    statutory_return.refresh_from_db()
    return {
        name: getattr(statutory_return, name)
        for name in (
            "title",
            "due_on",
            "census_day",
            "recipient",
            "notes",
            "status",
            "submitted_on",
            "submitted_by_id",
            "submission_reference",
            "withdrawn_by_id",
            "withdrawn_reason",
        )
    }


def counts() -> dict[str, int]:
    return {"returns": StatutoryReturn.objects.count(), "audit": AuditEvent.objects.count()}


# --- Adding the census days ---------------------------------------------------------------


def test_adding_the_census_days_of_a_year(world, today):
    school = world.school
    result = services.add_census_returns(
        school.organisation, actor=keeper(school), academic_year_start=2026
    )
    assert result.academic_year == "2026/27"
    assert result.already == []
    assert [(r.kind, r.title, r.census_day, r.due_on) for r in result.added] == [
        ("autumn_census", "Autumn school census 2026/27", D(2026, 10, 1), D(2026, 10, 1)),
        ("spring_census", "Spring school census 2026/27", D(2027, 1, 21), D(2027, 1, 21)),
        ("summer_census", "Summer school census 2026/27", D(2027, 5, 20), D(2027, 5, 20)),
    ]
    for added in result.added:
        added.refresh_from_db()
        assert added.organisation == school.organisation
        assert added.academic_year == "2026/27"
        assert added.recipient == "Department for Education"
        assert added.created_by == keeper(school)
        assert added.status == ReturnStatus.OPEN
    events = AuditEvent.objects.filter(verb="statutory_return.census_added").order_by("sequence")
    assert [changes_of(e) for e in events] == [
        {"kind": "autumn_census", "academic_year": "2026/27", "due_on": "2026-10-01"},
        {"kind": "spring_census", "academic_year": "2026/27", "due_on": "2027-01-21"},
        {"kind": "summer_census", "academic_year": "2026/27", "due_on": "2027-05-20"},
    ]
    assert {e.object_id for e in events} == {str(r.uuid) for r in result.added}
    assert all(e.actor == keeper(school) for e in events)
    assert_chain_intact(school.organisation)


def test_adding_the_census_days_again_adds_nothing_and_says_so(world, today):
    school = world.school
    first = census(school)
    before = counts()
    result = services.add_census_returns(
        school.organisation, actor=school["headteacher"], academic_year_start=2026
    )
    assert result.added == []
    assert {r.pk for r in result.already} == {r.pk for r in first.values()}
    assert counts() == before


def test_a_withdrawn_census_is_not_added_again(world, today):
    school = world.school
    spring = census(school)["spring_census"]
    services.withdraw_return(spring, actor=keeper(school), reason="Added by mistake.")
    result = services.add_census_returns(
        school.organisation, actor=keeper(school), academic_year_start=2026
    )
    assert result.added == []
    assert StatutoryReturn.objects.filter(kind="spring_census").count() == 1


def test_only_the_missing_census_days_are_added(world, today):
    school = world.school
    census(school)
    StatutoryReturn.objects.filter(kind="summer_census").delete()
    result = services.add_census_returns(
        school.organisation, actor=keeper(school), academic_year_start=2026
    )
    assert [r.kind for r in result.added] == ["summer_census"]
    assert [r.kind for r in result.already] == ["autumn_census", "spring_census"]


def test_a_census_added_by_someone_else_a_moment_ago_is_not_added_twice(world, today):
    """The unique constraint settles a race: the clash rolls back to a savepoint only."""
    school = world.school
    census(school)
    with transaction.atomic():
        clash = services._add_census(
            school.organisation,
            actor=keeper(school),
            kind="autumn_census",
            year="2026/27",
            day=D(2026, 10, 1),
        )
        assert clash is None
        # The transaction is still usable after the clash.
        assert StatutoryReturn.objects.filter(kind="autumn_census").count() == 1


def test_each_school_has_its_own_census_days(world, today):
    census(world.school)
    census(world.other)
    assert StatutoryReturn.objects.filter(organisation=world.other.organisation).count() == 3


def test_next_years_census_days(world, today):
    added = census(world.school, 2027)
    assert added["autumn_census"].due_on == D(2027, 10, 7)
    assert added["autumn_census"].title == "Autumn school census 2027/28"


@pytest.mark.parametrize("start", [2024, 2028, 1926])
def test_census_days_of_a_year_too_far_off_are_refused(world, today, start):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.add_census_returns(
            world.school.organisation, actor=keeper(world.school), academic_year_start=start
        )
    assert "academic_year" in refused.value.error_dict
    assert counts() == before


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - KEEPERS))
def test_only_keepers_add_the_census_days(world, today, role):
    before = counts()
    with pytest.raises(PermissionDenied):
        services.add_census_returns(
            world.school.organisation, actor=world.school[role], academic_year_start=2026
        )
    assert counts() == before


def test_another_schools_keeper_adds_nothing_here(world, today):
    with pytest.raises(PermissionDenied):
        services.add_census_returns(
            world.school.organisation, actor=keeper(world.other), academic_year_start=2026
        )
    assert counts() == {"returns": 0, "audit": 0}


# --- Adding another return ----------------------------------------------------------------


def test_adding_another_return(world, today):
    school = world.school
    added = other_return(school, title="  Exclusions return  ", recipient=" Eastmoor Council ")
    added.refresh_from_db()
    assert added.kind == ReturnKind.OTHER
    assert added.title == "Exclusions return"
    assert added.recipient == "Eastmoor Council"
    assert added.academic_year == ""
    assert added.census_day is None
    assert added.due_on == D(2026, 12, 9)
    assert added.notes == "Through COLLECT."
    assert added.created_by == keeper(school)
    event = last_event("statutory_return.added")
    assert event.object_id == str(added.uuid)
    assert event.object_label == "Exclusions return"
    assert changes_of(event) == {
        "kind": "other",
        "due_on": "2026-12-09",
        "recipient": "Eastmoor Council",
    }


def test_a_return_may_be_added_after_its_due_date(world, today):
    """A school that finds a return it missed adds it, and sees it overdue."""
    added = other_return(world.school, due_on=D(2026, 11, 1))
    assert added.state_on(TODAY) == ReturnState.OVERDUE


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"recipient": ""}, "recipient"),
        ({"recipient": "x" * 201}, "recipient"),
        ({"due_on": None}, "due_on"),
        ({"due_on": D(2032, 1, 1)}, "due_on"),
        ({"due_on": D(2023, 12, 31)}, "due_on"),
    ],
)
def test_a_return_with_bad_answers_is_refused_by_field(world, today, overrides, field):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        other_return(world.school, **overrides)
    assert set(refused.value.error_dict) == {field}
    assert counts() == before


def test_every_problem_is_reported_at_once(world, today):
    with pytest.raises(ValidationError) as refused:
        other_return(world.school, title="", recipient="", due_on=None)
    assert set(refused.value.error_dict) == {"title", "recipient", "due_on"}


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - KEEPERS))
def test_only_keepers_add_a_return(world, today, role):
    with pytest.raises(PermissionDenied):
        services.add_return(world.school.organisation, actor=world.school[role], answers=answers())
    assert counts() == {"returns": 0, "audit": 0}


# --- Correcting a return ------------------------------------------------------------------


def test_correcting_another_return(world, today):
    school = world.school
    added = other_return(school)
    before = state_of(added)
    edited = services.edit_return(
        added,
        actor=school["headteacher"],
        answers=answers(
            title="School workforce census 2026 (November)",
            due_on=D(2026, 12, 10),
            notes="Ask the business manager.",
            census_day=D(2026, 11, 5),  # ignored: not a census
        ),
    )
    assert state_of(edited) == before | {
        "title": "School workforce census 2026 (November)",
        "due_on": D(2026, 12, 10),
        "census_day": None,
        "notes": "Ask the business manager.",
    }
    event = last_event("statutory_return.edited")
    assert event.actor == school["headteacher"]
    assert changes_of(event) == {
        "title": ["School workforce census 2026", "School workforce census 2026 (November)"],
        "due_on": ["2026-12-09", "2026-12-10"],
        "notes": "changed",
    }


def test_a_correction_that_changes_nothing_records_nothing(world, today):
    added = other_return(world.school)
    before = counts()
    services.edit_return(added, actor=keeper(world.school), answers=answers())
    assert counts() == before


def test_the_dfe_moves_a_census_day(world, today):
    school = world.school
    spring = census(school)["spring_census"]
    services.edit_return(
        spring,
        actor=keeper(school),
        answers=answers(
            title=spring.title,
            recipient=spring.recipient,
            notes="",
            census_day=D(2027, 1, 28),
            due_on=D(2027, 2, 3),
        ),
    )
    spring.refresh_from_db()
    assert (spring.census_day, spring.due_on) == (D(2027, 1, 28), D(2027, 2, 3))
    assert (spring.kind, spring.academic_year) == ("spring_census", "2026/27")
    assert changes_of(last_event("statutory_return.edited")) == {
        "census_day": ["2027-01-21", "2027-01-28"],
        "due_on": ["2027-01-21", "2027-02-03"],
    }


@pytest.mark.parametrize(
    ("census_day", "due_on", "field"),
    [
        (None, D(2027, 1, 21), "census_day"),
        (D(2027, 9, 1), D(2027, 9, 1), "census_day"),  # in the next academic year
        (D(2026, 8, 31), D(2027, 1, 21), "census_day"),  # in the last one
        (D(2027, 1, 21), D(2027, 1, 20), "due_on"),  # due before its census day
    ],
)
def test_a_census_day_outside_its_year_or_after_the_due_date_is_refused(
    world, today, census_day, due_on, field
):
    spring = census(world.school)["spring_census"]
    before, events = state_of(spring), counts()
    with pytest.raises(ValidationError) as refused:
        services.edit_return(
            spring,
            actor=keeper(world.school),
            answers=answers(title=spring.title, census_day=census_day, due_on=due_on),
        )
    assert set(refused.value.error_dict) == {field}
    assert state_of(spring) == before
    assert counts() == events


def test_a_correction_with_bad_answers_changes_nothing(world, today):
    added = other_return(world.school)
    before, events = state_of(added), counts()
    with pytest.raises(ValidationError) as refused:
        services.edit_return(added, actor=keeper(world.school), answers=answers(title=""))
    assert set(refused.value.error_dict) == {"title"}
    assert state_of(added) == before
    assert counts() == events


@pytest.mark.parametrize("role", ["chair", "dpo", "auditor", "staff"])
def test_only_keepers_correct_a_return(world, today, role):
    added = other_return(world.school)
    before, events = state_of(added), counts()
    with pytest.raises(PermissionDenied):
        services.edit_return(added, actor=world.school[role], answers=answers(title="Changed"))
    assert state_of(added) == before
    assert counts() == events


def test_another_schools_keeper_corrects_nothing_here(world, today):
    added = other_return(world.school)
    with pytest.raises(PermissionDenied):
        services.edit_return(added, actor=keeper(world.other), answers=answers(title="Changed"))


@pytest.mark.parametrize("closing", ["submit", "withdraw"])
def test_a_submitted_or_withdrawn_return_is_not_corrected(world, today, closing):
    added = other_return(world.school)
    close(added, closing, keeper(world.school))
    before, events = state_of(added), counts()
    with pytest.raises(ValidationError, match="cannot be done now"):
        services.edit_return(added, actor=keeper(world.school), answers=answers(title="Changed"))
    assert state_of(added) == before
    assert counts() == events


def close(statutory_return: StatutoryReturn, how: str, actor: Any) -> StatutoryReturn:
    if how == "submit":
        return services.mark_return_submitted(statutory_return, actor=actor, submitted_on=TODAY)
    return services.withdraw_return(statutory_return, actor=actor, reason="Not needed.")


# --- Marking a return submitted -----------------------------------------------------------


def test_marking_a_census_submitted(world, today):
    school = world.school
    autumn = census(school)["autumn_census"]
    submitted = services.mark_return_submitted(
        autumn, actor=keeper(school), submitted_on=D(2026, 10, 6), reference=" COLLECT-193 "
    )
    submitted.refresh_from_db()
    assert submitted.status == ReturnStatus.SUBMITTED
    assert submitted.submitted_on == D(2026, 10, 6)
    assert submitted.submitted_by == keeper(school)
    assert submitted.submitted_at is not None
    assert submitted.submission_reference == "COLLECT-193"
    assert submitted.state_on(TODAY) == ReturnState.SUBMITTED
    event = last_event("statutory_return.submitted")
    assert event.object_id == str(autumn.uuid)
    assert changes_of(event) == {
        "status": "submitted",
        "submitted_on": "2026-10-06",
        "late": True,
        "submission_reference": "COLLECT-193",
    }


def test_a_return_submitted_on_its_due_date_is_not_late(world, today):
    added = other_return(world.school, due_on=TODAY)
    services.mark_return_submitted(added, actor=keeper(world.school), submitted_on=TODAY)
    assert changes_of(last_event("statutory_return.submitted"))["late"] is False


@pytest.mark.parametrize(
    ("submitted_on", "field", "message"),
    [
        (None, "submitted_on", "Enter the date the return was submitted"),
        (D(2026, 12, 1), "submitted_on", "cannot be in the future"),
        (D(2026, 9, 30), "submitted_on", "on or after its census day, 1 October 2026"),
    ],
)
def test_a_census_submission_date_must_be_possible(world, today, submitted_on, field, message):
    autumn = census(world.school)["autumn_census"]
    before, events = state_of(autumn), counts()
    with pytest.raises(ValidationError) as refused:
        services.mark_return_submitted(
            autumn, actor=keeper(world.school), submitted_on=submitted_on
        )
    assert list(refused.value.error_dict) == [field]
    assert message in refused.value.error_dict[field][0].message
    assert state_of(autumn) == before
    assert counts() == events


def test_another_return_may_be_submitted_early_but_not_a_year_early(world, today):
    added = other_return(world.school, due_on=D(2027, 6, 1))
    with pytest.raises(ValidationError) as refused:
        services.mark_return_submitted(
            added, actor=keeper(world.school), submitted_on=D(2026, 5, 30)
        )
    assert "check the year" in refused.value.error_dict["submitted_on"][0].message
    services.mark_return_submitted(added, actor=keeper(world.school), submitted_on=D(2026, 11, 2))
    added.refresh_from_db()
    assert added.submitted_on == D(2026, 11, 2)


def test_a_reference_too_long_is_refused(world, today):
    added = other_return(world.school)
    with pytest.raises(ValidationError) as refused:
        services.mark_return_submitted(
            added, actor=keeper(world.school), submitted_on=TODAY, reference="x" * 101
        )
    assert list(refused.value.error_dict) == ["submission_reference"]
    assert state_of(added)["status"] == ReturnStatus.OPEN


@pytest.mark.parametrize("closing", ["submit", "withdraw"])
def test_a_closed_return_is_not_submitted(world, today, closing):
    added = other_return(world.school)
    close(added, closing, keeper(world.school))
    before, events = state_of(added), counts()
    with pytest.raises(ValidationError, match="cannot be done now"):
        services.mark_return_submitted(added, actor=keeper(world.school), submitted_on=TODAY)
    assert state_of(added) == before
    assert counts() == events


@pytest.mark.parametrize("role", ["chair", "dpo", "auditor", "dsl", "volunteer"])
def test_only_keepers_mark_a_return_submitted(world, today, role):
    added = other_return(world.school)
    before = state_of(added)
    with pytest.raises(PermissionDenied):
        services.mark_return_submitted(added, actor=world.school[role], submitted_on=TODAY)
    assert state_of(added) == before


def test_another_schools_keeper_marks_nothing_submitted_here(world, today):
    added = other_return(world.school)
    with pytest.raises(PermissionDenied):
        services.mark_return_submitted(added, actor=keeper(world.other), submitted_on=TODAY)


# --- Withdrawing a return -----------------------------------------------------------------


def test_withdrawing_a_return(world, today):
    school = world.school
    added = other_return(school)
    withdrawn = services.withdraw_return(
        added, actor=school["headteacher"], reason="  The council no longer asks for it. "
    )
    withdrawn.refresh_from_db()
    assert withdrawn.status == ReturnStatus.WITHDRAWN
    assert withdrawn.withdrawn_by == school["headteacher"]
    assert withdrawn.withdrawn_at is not None
    assert withdrawn.withdrawn_reason == "The council no longer asks for it."
    assert withdrawn.state_on(TODAY) == ReturnState.WITHDRAWN
    assert changes_of(last_event("statutory_return.withdrawn")) == {"status": "withdrawn"}


def test_a_withdrawal_needs_a_reason(world, today):
    added = other_return(world.school)
    before, events = state_of(added), counts()
    with pytest.raises(ValidationError) as refused:
        services.withdraw_return(added, actor=keeper(world.school), reason="   ")
    assert list(refused.value.error_dict) == ["reason"]
    assert state_of(added) == before
    assert counts() == events


def test_a_submitted_return_is_not_withdrawn(world, today):
    added = other_return(world.school)
    close(added, "submit", keeper(world.school))
    with pytest.raises(ValidationError, match="cannot be done now"):
        services.withdraw_return(added, actor=keeper(world.school), reason="Mistake.")
    assert state_of(added)["status"] == ReturnStatus.SUBMITTED


@pytest.mark.parametrize("role", ["chair", "dpo", "auditor", "deputy_dsl", "staff"])
def test_only_keepers_withdraw_a_return(world, today, role):
    added = other_return(world.school)
    with pytest.raises(PermissionDenied):
        services.withdraw_return(added, actor=world.school[role], reason="Not needed.")
    assert state_of(added)["status"] == ReturnStatus.OPEN


# --- What a person may do, and how a return stands ----------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_actions_follow_the_role_and_the_status(world, today, role):
    added = other_return(world.school)
    user = world.school[role]
    keeps = role in KEEPERS
    assert services.actions_for(added, user) == services.Actions(
        edit=keeps, submit=keeps, withdraw=keeps
    )
    added = close(added, "submit", keeper(world.school))
    assert services.actions_for(added, user) == services.Actions()
    assert services.may_ever_take(added, user, "edit") is keeps


def test_nobody_of_another_school_may_act(world, today):
    added = other_return(world.school)
    for role in ALL_ROLES:
        assert not services.actions_for(added, world.other[role]).any


@pytest.mark.parametrize(
    ("days_until_due", "state"),
    [
        (-30, ReturnState.OVERDUE),
        (-1, ReturnState.OVERDUE),  # the day after it was due
        (0, ReturnState.DUE),  # due today: due, not yet overdue
        (1, ReturnState.DUE),
        (30, ReturnState.DUE),  # 30 days before: due
        (31, ReturnState.UPCOMING),  # 31 days before: upcoming
        (200, ReturnState.UPCOMING),
    ],
)
def test_how_an_open_return_stands(world, today, days_until_due, state):
    added = other_return(world.school, due_on=TODAY + datetime.timedelta(days=days_until_due))
    assert added.state_on(TODAY) == state


def test_the_notice_is_30_days():
    assert datetime.timedelta(days=30) == RETURN_NOTICE


def test_the_calendar_filters_agree_with_how_each_return_stands(world, today):
    """`state_q` (the calendar's filter, in the database) and `state_on` (the tag) agree."""
    from infoshare.statutory.forms.returns import state_q

    for offset in (-40, -1, 0, 1, 29, 30, 31, 32, 90):
        other_return(world.school, due_on=TODAY + datetime.timedelta(days=offset))
    close(other_return(world.school, due_on=D(2026, 11, 2)), "submit", keeper(world.school))
    close(other_return(world.school, due_on=D(2026, 12, 2)), "withdraw", keeper(world.school))
    every = list(StatutoryReturn.objects.all())
    for state in ReturnState:
        matching = set(StatutoryReturn.objects.filter(state_q(state, TODAY)))
        assert matching == {r for r in every if r.state_on(TODAY) == state}, state
        assert matching, state
