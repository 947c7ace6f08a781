"""Returns to submit on the dashboard and in the digest (reminders, issue 7, item 4), and the
overdue ones in the oversight table: `statutory/due/returns.py`. The clock stands at
30 November 2026."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.urls import reverse

from infoshare.core.models import User
from infoshare.reminders.items import DueItem, items_for, overdue_in
from infoshare.statutory.due import returns as due
from tests.statutory.test_returns_services import (
    ALL_ROLES,
    KEEPERS,
    TODAY,
    census,
    close,
    keeper,
    other_return,
    today,  # noqa: F401 - the fixture
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

D = datetime.date


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def detail(statutory_return) -> str:
    return reverse(
        "statutory:return_detail",
        kwargs={"org": statutory_return.organisation.slug, "return_id": statutory_return.uuid},
    )


def test_keepers_are_asked_to_submit_returns_due_within_30_days_or_overdue(world):
    school = world.school
    returns = census(school)  # autumn overdue, spring and summer further off than 30 days
    soon = other_return(school, title="Workforce census", due_on=days(30))
    other_return(school, title="Later return", due_on=days(31))
    today_ = other_return(school, title="Today's return", due_on=TODAY)
    close(other_return(school, title="Made", due_on=days(3)), "submit", keeper(school))
    close(other_return(school, title="Not needed", due_on=days(-3)), "withdraw", keeper(school))
    autumn = returns["autumn_census"]

    for role in KEEPERS:
        assert due.due_items(school[role], school.organisation, TODAY) == [
            DueItem(
                kind="statutory_return.submit",
                kind_label="Returns to submit",
                title="Submit: Autumn school census 2026/27",
                url=detail(autumn),
                organisation=school.organisation,
                due=D(2026, 10, 1),
                overdue=True,
            ),
            DueItem(
                kind="statutory_return.submit",
                kind_label="Returns to submit",
                title="Submit: Today's return",
                url=detail(today_),
                organisation=school.organisation,
                due=TODAY,
                overdue=False,
            ),
            DueItem(
                kind="statutory_return.submit",
                kind_label="Returns to submit",
                title="Submit: Workforce census",
                url=detail(soon),
                organisation=school.organisation,
                due=days(30),
                overdue=False,
            ),
        ], role


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - KEEPERS))
def test_nobody_else_is_asked_to_submit_returns(world, role):
    census(world.school)
    assert due.due_items(world.school[role], world.school.organisation, TODAY) == []


def test_another_schools_returns_are_not_this_schools_items(world):
    census(world.other)
    assert due.due_items(keeper(world.school), world.school.organisation, TODAY) == []
    assert due.overdue_items(world.school.organisation, TODAY) == []
    assert due.due_items(keeper(world.other), world.school.organisation, TODAY) == []


def test_overdue_items_are_the_open_returns_past_their_due_date(world):
    school = world.school
    census(school)
    other_return(school, title="Due today", due_on=TODAY)
    late = other_return(school, title="Due yesterday", due_on=days(-1))
    close(other_return(school, title="Made late", due_on=days(-5)), "submit", keeper(school))
    items = due.overdue_items(school.organisation, TODAY)
    assert [(item.title, item.due, item.overdue) for item in items] == [
        ("Submit: Autumn school census 2026/27", D(2026, 10, 1), True),
        ("Submit: Due yesterday", days(-1), True),
    ]
    assert items[1].url == detail(late)


def test_the_items_reach_the_dashboard_sources(world):
    census(world.school)
    mine = items_for(keeper(world.school), world.school.organisation, TODAY)
    assert "Submit: Autumn school census 2026/27" in [item.title for item in mine]
    overdue = overdue_in(world.school.organisation, TODAY)
    assert "Submit: Autumn school census 2026/27" in [item.title for item in overdue]


def test_the_dashboard_lists_returns_to_submit(world, client_for):
    census(world.school)
    html = unescape(
        client_for(keeper(world.school))
        .get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
        .content.decode()
    )
    section = html[html.index('id="what-needs-doing"') :]
    assert "Returns to submit" in section
    assert re.search(r"Submit: Autumn school census 2026/27", section)


def test_the_number_of_queries_does_not_grow_with_the_returns(world, django_assert_num_queries):
    school = world.school
    other_return(school, due_on=days(-2))
    user = User.objects.get(pk=keeper(school).pk)  # roles not yet read
    with django_assert_num_queries(3):  # the membership and its roles, then the returns
        assert len(due.due_items(user, school.organisation, TODAY)) == 1
    for n in range(15):
        other_return(school, title=f"Return {n}", due_on=days(n - 5))
    user = User.objects.get(pk=keeper(school).pk)
    with django_assert_num_queries(3):
        assert len(due.due_items(user, school.organisation, TODAY)) == 16
    with django_assert_num_queries(1):
        assert len(due.overdue_items(school.organisation, TODAY)) == 6
