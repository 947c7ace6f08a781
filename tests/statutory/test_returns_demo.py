"""The demo's returns calendar (`seed_returns`), made through the services, once.

With the clock at 30 November 2026: this year's census days, the autumn one
submitted, the spring and summer ones still to come, one other return due soon
and one overdue. The clock is also moved to September, before the autumn census
day, when there is nothing to have submitted yet.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine

from infoshare.audit.verify import verify_chains
from infoshare.statutory.demo.returns import seed_returns
from infoshare.statutory.models import ReturnState, ReturnStatus, StatutoryReturn
from tests.reminders.support import at_noon
from tests.statutory.test_returns_services import TODAY, today  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("today")
def test_the_demo_calendar_has_a_return_in_every_state_but_withdrawn(world):
    organisation = world.school.organisation
    seed_returns(organisation)
    returns = StatutoryReturn.objects.filter(organisation=organisation).order_by("due_on")
    assert [(r.title, r.state_on(TODAY)) for r in returns] == [
        ("Autumn school census 2026/27", ReturnState.SUBMITTED),
        ("Attendance and children missing education return", ReturnState.OVERDUE),
        ("School workforce census 2026", ReturnState.DUE),
        ("Spring school census 2026/27", ReturnState.UPCOMING),
        ("Summer school census 2026/27", ReturnState.UPCOMING),
    ]
    autumn = returns.get(kind="autumn_census")
    assert autumn.submitted_on == datetime.date(2026, 10, 7)
    assert autumn.submitted_by == world.school["information_manager"]
    assert all(r.created_by == world.school["information_manager"] for r in returns)
    assert verify_chains().intact

    seed_returns(organisation)  # a second run adds nothing
    assert StatutoryReturn.objects.filter(organisation=organisation).count() == 5
    assert not StatutoryReturn.objects.filter(organisation=world.other.organisation).exists()


def test_before_the_autumn_census_day_nothing_is_submitted(world):
    with time_machine.travel(at_noon(datetime.date(2026, 9, 14)), tick=False):
        seed_returns(world.school.organisation)
    assert not StatutoryReturn.objects.filter(status=ReturnStatus.SUBMITTED).exists()
    assert StatutoryReturn.objects.count() == 5


@pytest.mark.usefixtures("today")
def test_a_school_without_anyone_to_keep_returns_gets_none(world):
    from infoshare.core.models import Organisation, OrganisationKind

    empty = Organisation.objects.create(
        name="Cedar School", slug="cedar", kind=OrganisationKind.SCHOOL, urn="100003"
    )
    seed_returns(empty)
    assert not StatutoryReturn.objects.exists()
