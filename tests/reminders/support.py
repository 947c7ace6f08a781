"""Helpers shared by the reminders tests: days at noon in London, agreements approved on a day."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.agreements import drafts as agreement_drafts

LONDON = ZoneInfo("Europe/London")


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


def approved_on(world, day: datetime.date):
    """An agreement of `world.school` approved on `day`: its review falls due a year later."""
    school = world.school
    with time_machine.travel(at_noon(day), tick=False):
        return agreement_drafts.approved(
            school.organisation,
            school["staff"],
            school["dpo"],
            school["headteacher"],
            world.local_authority,
        )
