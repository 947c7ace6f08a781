"""When the policy's review falls due (12 months after approval, or at once after a trigger
of 10.1), and what waits on the dashboard: the review, a draft to approve, the version
to acknowledge (`governance.due`)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from infoshare.governance import due, policy
from infoshare.governance.models import TriggerKind
from infoshare.reminders.items import items_for, overdue_in
from tests.governance.test_policy_services import approved, drafted, trigger_answers

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
APPROVED_ON = datetime.date(2025, 3, 31)
DUE_ON = datetime.date(2026, 3, 31)


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def approved_on(world, day: datetime.date, *, school=None):
    with time_machine.travel(at_noon(day), tick=False):
        return approved(world, on=day, school=school)


def record_trigger(world, day: datetime.date, kind: str = TriggerKind.MAJOR_BREACH):
    with time_machine.travel(at_noon(day), tick=False):
        return policy.record_review_trigger(
            world.school.organisation,
            actor=world.school["dpo"],
            answers=trigger_answers(kind=kind, occurred_on=day),
        )


def state_on(world, day: datetime.date) -> policy.ReviewState:
    return policy.review_state(world.school.organisation, day)


def kinds(items) -> list[str]:
    return [item.kind for item in items]


# --- The date --------------------------------------------------------------------------


def test_the_review_falls_due_twelve_months_after_the_approval_date(world):
    approved_on(world, APPROVED_ON)
    assert state_on(world, datetime.date(2025, 4, 1)).due_on == DUE_ON


@pytest.mark.parametrize(
    ("today", "due", "overdue"),
    [
        (datetime.date(2026, 2, 28), False, False),  # 31 days before
        (datetime.date(2026, 3, 1), True, False),  # 30 days before: listed
        (DUE_ON, True, False),  # the day itself
        (datetime.date(2026, 4, 1), True, True),  # the day after: overdue
    ],
)
def test_due_from_thirty_days_before_and_overdue_the_day_after(world, today, due, overdue):
    approved_on(world, APPROVED_ON)
    state = state_on(world, today)
    assert (state.due, state.overdue, state.triggered) == (due, overdue, False)


def test_a_leap_day_approval_falls_due_on_the_last_day_of_february():
    assert policy.annual_review_on(datetime.date(2028, 2, 29)) == datetime.date(2029, 2, 28)


def test_the_date_given_by_the_approver_counts_not_the_day_it_was_recorded(world):
    with time_machine.travel(at_noon(datetime.date(2026, 1, 10)), tick=False):
        approved(world, on=datetime.date(2025, 12, 1))
    assert state_on(world, datetime.date(2026, 1, 10)).due_on == datetime.date(2026, 12, 1)


def test_without_an_approved_version_the_review_is_due_now_and_has_no_date(world):
    drafted(world)  # a draft is not a policy in force
    state = state_on(world, datetime.date(2026, 1, 10))
    assert (state.missing, state.due, state.overdue, state.due_on) == (True, True, False, None)


# --- Triggers --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", TriggerKind.values)
def test_each_trigger_makes_the_review_due_now_and_the_next_approval_answers_it(world, kind):
    approved_on(world, APPROVED_ON)
    triggered_on = datetime.date(2025, 6, 2)
    trigger = record_trigger(world, triggered_on, kind)
    state = state_on(world, triggered_on)
    assert (state.triggered, state.due, state.overdue) == (True, True, False)
    assert state.due_on == triggered_on
    assert state.open_triggers == (trigger,)
    # Still waiting the day after: overdue now.
    assert state_on(world, triggered_on + datetime.timedelta(days=1)).overdue
    answered_on = datetime.date(2025, 6, 20)
    with time_machine.travel(at_noon(answered_on), tick=False):
        approved(world, on=answered_on)
    state = state_on(world, answered_on)
    assert (state.triggered, state.due, state.due_on) == (False, False, datetime.date(2026, 6, 20))


def test_a_trigger_recorded_after_the_annual_date_does_not_move_it_later(world):
    approved_on(world, APPROVED_ON)
    record_trigger(world, datetime.date(2026, 5, 1))
    assert state_on(world, datetime.date(2026, 5, 1)).due_on == DUE_ON


def test_the_first_open_trigger_sets_the_date(world):
    approved_on(world, APPROVED_ON)
    record_trigger(world, datetime.date(2025, 7, 1))
    record_trigger(world, datetime.date(2025, 8, 1), TriggerKind.RESTRUCTURING)
    state = state_on(world, datetime.date(2025, 8, 1))
    assert state.due_on == datetime.date(2025, 7, 1)
    assert len(state.open_triggers) == 2


def test_a_trigger_of_another_school_changes_nothing_here(world):
    approved_on(world, APPROVED_ON)
    with time_machine.travel(at_noon(datetime.date(2025, 7, 1)), tick=False):
        policy.record_review_trigger(
            world.other.organisation, actor=world.other["dpo"], answers=trigger_answers()
        )
    assert not state_on(world, datetime.date(2025, 7, 1)).triggered


def test_a_trigger_before_any_approval_is_answered_by_the_first(world):
    record_trigger(world, datetime.date(2025, 3, 1))
    assert len(state_on(world, datetime.date(2025, 3, 1)).open_triggers) == 1
    approved_on(world, APPROVED_ON)
    assert not state_on(world, APPROVED_ON).triggered


# --- What waits on the dashboard ---------------------------------------------------------


def test_the_dpo_is_asked_to_draft_when_there_is_no_policy(world):
    items = due.due_items(world.school["dpo"], world.school.organisation, datetime.date(2026, 1, 5))
    assert [(i.kind, i.title, i.due, i.overdue, i.url) for i in items] == [
        (
            "policy.review",
            "Draft the school's information sharing policy and have it approved",
            None,
            False,
            "/o/alder/policy/new/",
        )
    ]
    assert due.overdue_items(world.school.organisation, datetime.date(2026, 1, 5)) == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2026, 2, 28), []),
        (datetime.date(2026, 3, 1), [(DUE_ON, False)]),
        (datetime.date(2026, 4, 1), [(DUE_ON, True)]),
    ],
)
def test_the_dpos_review_item_around_the_date(world, today, expected):
    approved_on(world, APPROVED_ON)
    items = due.due_items(world.school["dpo"], world.school.organisation, today)
    assert [(item.due, item.overdue) for item in items] == expected
    if expected:
        assert items[0].title == "Review the information sharing policy (version 1)"
    overdue = due.overdue_items(world.school.organisation, today)
    assert [item.kind for item in overdue] == (
        ["policy.review"] if expected[-1:] and expected[0][1] else []
    )


def test_a_trigger_puts_the_review_on_the_dpos_dashboard_at_once(world):
    approved_on(world, APPROVED_ON)
    record_trigger(world, datetime.date(2025, 6, 2), TriggerKind.INFRASTRUCTURE)
    items = due.due_items(world.trust_dpo, world.school.organisation, datetime.date(2025, 6, 2))
    assert [(i.kind, i.due, i.overdue) for i in items] == [
        ("policy.review", datetime.date(2025, 6, 2), False)
    ]
    assert items[0].title == (
        "Review the information sharing policy (version 1): an early review was called for"
    )
    overdue = due.overdue_items(world.school.organisation, datetime.date(2025, 6, 3))
    assert [(i.kind, i.overdue) for i in overdue] == [("policy.review", True)]


def test_while_a_draft_waits_the_approvers_are_asked_and_not_the_dpo(world):
    approved_on(world, APPROVED_ON)
    today = datetime.date(2026, 3, 10)
    with time_machine.travel(at_noon(today), tick=False):
        draft = drafted(world)
    school = world.school
    assert due.due_items(school["dpo"], school.organisation, today) == []
    for role in ("headteacher", "chair"):
        items = [
            i
            for i in due.due_items(school[role], school.organisation, today)
            if i.kind == due.APPROVE_KIND
        ]
        assert [(i.title, i.url, i.due) for i in items] == [
            (
                "Approve version 2 of the information sharing policy",
                f"/o/alder/policy/versions/{draft.uuid}/approve/",
                None,
            )
        ]
    # The review is still overdue for oversight once its date passes, draft or not.
    assert kinds(due.overdue_items(school.organisation, datetime.date(2026, 4, 1))) == [
        "policy.review"
    ]


def test_everyone_who_works_there_is_asked_to_acknowledge_until_they_do(world):
    version = approved_on(world, APPROVED_ON)
    school, today = world.school, datetime.date(2025, 4, 2)
    for role in ("staff", "volunteer", "dsl", "headteacher"):
        items = [
            i
            for i in due.due_items(school[role], school.organisation, today)
            if i.kind == due.ACKNOWLEDGE_KIND
        ]
        assert [(i.title, i.url, i.due, i.overdue) for i in items] == [
            (
                "Read and acknowledge the information sharing policy (version 1)",
                "/o/alder/policy/",
                None,
                False,
            )
        ]
    for role in ("dpo", "auditor"):
        assert due.due_items(school[role], school.organisation, today) == []
    policy.acknowledge_policy(version, actor=school["staff"])
    assert due.due_items(school["staff"], school.organisation, today) == []


def test_nothing_of_another_school_shows(world):
    approved_on(world, APPROVED_ON, school=world.other)
    today = datetime.date(2025, 4, 2)
    assert kinds(due.due_items(world.school["staff"], world.school.organisation, today)) == []
    assert kinds(due.due_items(world.other["staff"], world.other.organisation, today)) == [
        "policy.acknowledge"
    ]


def test_the_reminders_gather_the_policy_items(world):
    approved_on(world, APPROVED_ON)
    today = datetime.date(2026, 4, 1)
    assert "policy.review" in kinds(
        items_for(world.school["dpo"], world.school.organisation, today)
    )
    assert "policy.review" in kinds(overdue_in(world.school.organisation, today))


@pytest.mark.parametrize("triggers", [0, 5])
def test_one_query_a_call_whatever_the_number_of_versions_and_triggers(
    world, triggers, django_assert_num_queries
):
    approved_on(world, APPROVED_ON)
    for number in range(triggers):
        record_trigger(world, datetime.date(2025, 5, 1 + number))
    with time_machine.travel(at_noon(datetime.date(2025, 6, 1)), tick=False):
        drafted(world)
    school, today = world.school, datetime.date(2025, 6, 1)
    for role in ("dpo", "headteacher", "staff"):
        person = school[role]
        due.due_items(person, school.organisation, today)  # roles are read once a request
        with django_assert_num_queries(1):
            due.due_items(person, school.organisation, today)
    with django_assert_num_queries(1):
        due.overdue_items(school.organisation, today)
