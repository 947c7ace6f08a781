"""Demo returns calendar for `seed_demo`: this academic year's census days and two other
returns, made through the services as the school's information manager would make them.

With the clock at 30 November 2026: the autumn census (1 October) submitted, the
spring and summer censuses still to come, the school workforce census due in a
week and a local authority's attendance return overdue. Nothing is added to a
school that has returns already, so running the demo again changes nothing.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from infoshare.core.emails import members_holding
from infoshare.core.models import Role
from infoshare.statutory import calendar
from infoshare.statutory.models import ReturnKind, StatutoryReturn
from infoshare.statutory.services import returns as services

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User

# The autumn census is made a few days after its census day.
DAYS_TO_MAKE_A_CENSUS = 6
WORKFORCE_DUE_IN = datetime.timedelta(days=7)
ATTENDANCE_OVERDUE_BY = datetime.timedelta(days=9)


def seed_returns(organisation: Organisation) -> None:
    """The calendar of the current academic year, unless the school has returns already."""
    if StatutoryReturn.objects.filter(organisation=organisation).exists():
        return
    keeper = _keeper(organisation)
    if keeper is None:
        return
    today = timezone.localdate()
    result = services.add_census_returns(
        organisation, actor=keeper, academic_year_start=calendar.academic_year_of(today)
    )
    for census in result.added:
        if census.kind == ReturnKind.AUTUMN_CENSUS and census.due_on <= today:
            made_on = min(census.due_on + datetime.timedelta(days=DAYS_TO_MAKE_A_CENSUS), today)
            services.mark_return_submitted(
                census, actor=keeper, submitted_on=made_on, reference="COLLECT-AUT-0193"
            )
    services.add_return(
        organisation,
        actor=keeper,
        answers=services.ReturnAnswers(
            title=f"School workforce census {today.year}",
            due_on=today + WORKFORCE_DUE_IN,
            recipient=services.DFE,
            notes="Staff contracts, absence and qualifications as on census day, through COLLECT.",
        ),
    )
    services.add_return(
        organisation,
        actor=keeper,
        answers=services.ReturnAnswers(
            title="Attendance and children missing education return",
            due_on=today - ATTENDANCE_OVERDUE_BY,
            recipient="Eastmoor Council",
            notes="The council's half-termly return, through its schools portal.",
        ),
    )


def _keeper(organisation: Organisation) -> User | None:
    """Who makes the returns: the information manager, or else the headteacher."""
    for role in (Role.INFORMATION_MANAGER, Role.HEADTEACHER):
        holders = members_holding(organisation, role)
        if holders:
            return holders[0]
    return None
