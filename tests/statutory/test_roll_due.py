"""Roll changes on "What needs doing": for those who keep the roll, from the day they are
recorded, overdue the day after the deadline, and never naming the pupil."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from infoshare.reminders.items import items_for, overdue_in
from infoshare.statutory.due import roll as due
from infoshare.statutory.services import roll as services
from tests.reminders.support import at_noon
from tests.statutory.support import joining, make_pupil, notify, record, removal

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


def _recorded_on(world, draft, day=DAY):
    with time_machine.travel(at_noon(day), tick=False):
        return record(world.school.organisation, world.school["information_manager"], draft)


def test_a_change_is_due_at_once_with_its_deadline_and_no_pupil_name(world):
    change = _recorded_on(world, joining(on=DAY))
    items = due.due_items(world.school["information_manager"], world.school.organisation, DAY)
    assert len(items) == 1
    item = items[0]
    assert item.kind == "roll_change.notify"
    assert item.kind_label == "Roll changes to notify the local authority of"
    assert item.title == f"Notify the local authority: {change.reference} (pupil joined)"
    assert "Noor" not in item.title
    assert "Ahmed" not in item.title
    assert item.url == reverse(
        "statutory:roll_change", kwargs={"org": "alder", "reference": change.reference}
    )
    assert item.due == datetime.date(2026, 3, 7)
    assert not item.overdue


def test_overdue_the_day_after_the_deadline(world):
    _recorded_on(world, joining(on=DAY))
    pupil = make_pupil(world.school.organisation)
    _recorded_on(world, removal(pupil, on=DAY + datetime.timedelta(days=1)))
    keeper = world.school["headteacher"]
    school = world.school.organisation

    on_deadline = due.due_items(keeper, school, datetime.date(2026, 3, 7))
    assert len(on_deadline) == 2
    # The removal (deadline 3 March) is overdue from 4 March; the joining from 8 March.
    by_title = {item.title.split(" (")[1]: item for item in on_deadline}
    assert by_title["pupil removed)"].overdue
    assert not by_title["pupil joined)"].overdue
    after = {
        i.title.split(" (")[1]: i for i in due.due_items(keeper, school, datetime.date(2026, 3, 8))
    }
    assert after["pupil joined)"].overdue

    assert [i.title for i in due.overdue_items(school, datetime.date(2026, 3, 3))] == []
    assert len(due.overdue_items(school, datetime.date(2026, 3, 4))) == 1
    assert len(due.overdue_items(school, datetime.date(2026, 3, 8))) == 2
    assert len(overdue_in(school, datetime.date(2026, 3, 8))) >= 2


@pytest.mark.parametrize("role", ["dpo", "chair", "auditor", "staff", "dsl"])
def test_only_those_who_keep_the_roll_are_asked(world, role):
    _recorded_on(world, joining(on=DAY))
    assert due.due_items(world.school[role], world.school.organisation, DAY) == []


def test_notified_and_withdrawn_changes_are_gone(world):
    keeper = world.school["headteacher"]
    school = world.school.organisation
    told = _recorded_on(world, joining(on=DAY))
    mistaken = _recorded_on(world, joining(on=DAY, given_name="Sam"))
    notify(school, keeper, [told], world.local_authority)
    services.withdraw_roll_change(mistaken, actor=keeper, reason="Error")
    assert due.due_items(keeper, school, DAY) == []
    assert due.overdue_items(school, DAY + datetime.timedelta(days=30)) == []


def test_another_schools_changes_are_not_listed(world):
    record(world.other.organisation, world.other["headteacher"])
    assert due.due_items(world.trust_dpo, world.school.organisation, DAY) == []
    assert due.due_items(world.school["headteacher"], world.school.organisation, DAY) == []


def test_the_dashboard_lists_them(world, client_for):
    change = _recorded_on(world, joining(on=DAY))
    with time_machine.travel(at_noon(DAY), tick=False):
        html = (
            client_for(world.school["information_manager"])
            .get(reverse("core:dashboard", kwargs={"org": "alder"}))
            .content.decode()
        )
        items = items_for(world.school["information_manager"], world.school.organisation, DAY)
    assert "Roll changes to notify the local authority of" in html
    assert change.reference in html
    assert any(item.kind == "roll_change.notify" for item in items)


def test_the_query_count_does_not_grow_with_items(world, django_assert_num_queries):
    keeper = world.school["headteacher"]
    school = world.school.organisation
    _recorded_on(world, joining(on=DAY))
    assert len(due.due_items(keeper, school, DAY)) == 1  # the keeper's roles now known
    for n in range(10):
        _recorded_on(world, joining(on=DAY, given_name=f"P{n}"))
    with django_assert_num_queries(1):
        assert len(due.due_items(keeper, school, DAY)) == 11
    with django_assert_num_queries(1):
        assert len(due.overdue_items(school, DAY + datetime.timedelta(days=9))) == 11
