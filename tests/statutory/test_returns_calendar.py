"""The school year and the DfE's census days: pure date arithmetic (statutory/calendar.py)."""

from __future__ import annotations

import datetime

import pytest

from infoshare.statutory import calendar
from infoshare.statutory.models import CENSUS_KINDS

D = datetime.date


@pytest.mark.parametrize(
    ("start", "autumn", "spring", "summer"),
    [
        # The brief's two years, checked against the DfE's published dates.
        (2025, D(2025, 10, 2), D(2026, 1, 15), D(2026, 5, 21)),
        (2026, D(2026, 10, 1), D(2027, 1, 21), D(2027, 5, 20)),
        # 1 October 2027 is a Friday: the first Thursday is the 7th.
        (2027, D(2027, 10, 7), D(2028, 1, 20), D(2028, 5, 18)),
        # 1 October 2020 is a Thursday: the census is on the 1st itself.
        (2020, D(2020, 10, 1), D(2021, 1, 21), D(2021, 5, 20)),
        # 1 January 2032 is a Thursday (the third is the 15th); a leap year's May.
        (2031, D(2031, 10, 2), D(2032, 1, 15), D(2032, 5, 20)),
    ],
)
def test_census_days_follow_the_dfe_rule(start, autumn, spring, summer):
    assert calendar.census_days(start) == {
        "autumn_census": autumn,
        "spring_census": spring,
        "summer_census": summer,
    }


def test_the_keys_are_the_census_kinds_of_the_model():
    assert list(calendar.census_days(2026)) == [kind.value for kind in CENSUS_KINDS]


@pytest.mark.parametrize("start", range(2015, 2045))
def test_every_census_day_is_a_thursday_in_its_week_of_the_month(start):
    days = calendar.census_days(start)
    assert all(day.weekday() == calendar.THURSDAY for day in days.values())
    # First Thursday: in the first week; third Thursday: in the third.
    assert [(day.month, (day.day - 1) // 7 + 1) for day in days.values()] == [
        (10, 1),
        (1, 3),
        (5, 3),
    ]
    first, last = calendar.academic_year_bounds(start)
    assert all(first <= day <= last for day in days.values())


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (D(2026, 11, 30), 2026),
        (D(2026, 9, 1), 2026),
        (D(2026, 8, 31), 2025),
        (D(2027, 1, 1), 2026),
        (D(2027, 7, 20), 2026),
    ],
)
def test_the_academic_year_starts_on_1_september(day, start):
    assert calendar.academic_year_of(day) == start


def test_academic_year_labels():
    assert calendar.academic_year_label(2026) == "2026/27"
    assert calendar.academic_year_label(2099) == "2099/00"
    assert calendar.academic_year_from_label("2026/27") == 2026
    assert calendar.academic_year_from_label(" 2099/00 ") == 2099
    for wrong in ("2026/28", "2026-27", "26/27", "", "2026/2027"):
        assert calendar.academic_year_from_label(wrong) is None, wrong


def test_academic_year_bounds():
    assert calendar.academic_year_bounds(2026) == (D(2026, 9, 1), D(2027, 8, 31))


def test_nth_weekday():
    assert calendar.nth_weekday(2026, 11, calendar.THURSDAY, 1) == D(2026, 11, 5)
    assert calendar.nth_weekday(2026, 10, calendar.THURSDAY, 1) == D(2026, 10, 1)
    assert calendar.nth_weekday(2026, 10, 4, 1) == D(2026, 10, 2)  # the first Friday
