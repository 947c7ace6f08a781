"""The school year and the DfE's school census days, as pure date arithmetic (no Django).

The school census is the statutory return of pupil-level data to the DfE under
the Education (Information About Individual Pupils) (England) Regulations 2013
(policy 5.1). The DfE sets three census days a year by a fixed rule: the
autumn census on the first Thursday in October, the spring census on the third
Thursday in January and the summer census on the third Thursday in May. The DfE
sometimes moves a day (for a bank holiday, say); a school then edits the day on
its calendar, so these are defaults, never the last word.

An academic year runs from 1 September to 31 August and is written "2026/27".
The keys of `census_days` are the codes of `statutory.models.ReturnKind`.
"""

from __future__ import annotations

import datetime
import re

AUTUMN_CENSUS = "autumn_census"
SPRING_CENSUS = "spring_census"
SUMMER_CENSUS = "summer_census"

THURSDAY = 3  # date.weekday(): Monday is 0
ACADEMIC_YEAR_STARTS = (9, 1)  # 1 September
_YEAR_LABEL = re.compile(r"^(\d{4})/(\d{2})$")


def nth_weekday(year: int, month: int, weekday: int, n: int) -> datetime.date:
    """The `n`th `weekday` (0 Monday … 6 Sunday) of the month, e.g. the third Thursday."""
    first = datetime.date(year, month, 1)
    first_match = first + datetime.timedelta(days=(weekday - first.weekday()) % 7)
    return first_match + datetime.timedelta(weeks=n - 1)


def census_days(academic_year_start: int) -> dict[str, datetime.date]:
    """The three census days of the academic year starting in September of `academic_year_start`.

    2026/27: 1 October 2026, 21 January 2027 and 20 May 2027.
    """
    return {
        AUTUMN_CENSUS: nth_weekday(academic_year_start, 10, THURSDAY, 1),
        SPRING_CENSUS: nth_weekday(academic_year_start + 1, 1, THURSDAY, 3),
        SUMMER_CENSUS: nth_weekday(academic_year_start + 1, 5, THURSDAY, 3),
    }


def academic_year_of(day: datetime.date) -> int:
    """The year in which the academic year containing `day` started (2026 for 30 November 2026)."""
    return day.year if (day.month, day.day) >= ACADEMIC_YEAR_STARTS else day.year - 1


def academic_year_label(start: int) -> str:
    """2026 → "2026/27"."""
    return f"{start}/{(start + 1) % 100:02d}"


def academic_year_from_label(label: str) -> int | None:
    """ "2026/27" → 2026; None for anything that is not a year written that way."""
    match = _YEAR_LABEL.match(label.strip())
    if match is None:
        return None
    start = int(match.group(1))
    return start if int(match.group(2)) == (start + 1) % 100 else None


def academic_year_bounds(start: int) -> tuple[datetime.date, datetime.date]:
    """The first and last days of the academic year: 1 September to 31 August."""
    return datetime.date(start, 9, 1), datetime.date(start + 1, 8, 31)
