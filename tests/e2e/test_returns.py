"""The returns calendar in the browser (issue 7, item 2).

The information manager opens the calendar, adds this academic year's census
days, finds the autumn census tagged as the day's date makes it (overdue from
the day after its census day: on 30 November 2026 the census of 1 October is
overdue), opens it, sends the "mark as submitted" form empty (which shows its
error), then marks it submitted today and sees it submitted, on its page and in
the calendar. The live server runs on the real date, so every expectation is
worked out from `timezone.localdate()`. axe-core runs on every page on the way.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from infoshare.statutory import calendar
from infoshare.statutory.models import RETURN_NOTICE
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shown(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def expected_tag(due: datetime.date, today: datetime.date) -> str:
    if due < today:
        return "Overdue"
    return "Due" if due <= today + RETURN_NOTICE else "Upcoming"


def test_the_information_manager_adds_the_census_days_and_marks_one_submitted(
    page: Page, live_server, world, console_errors
):
    today = timezone.localdate()
    start = calendar.academic_year_of(today)
    year = calendar.academic_year_label(start)
    autumn_day = calendar.census_days(start)["autumn_census"]
    manager = world.school["information_manager"]
    heading = page.get_by_role("heading", level=1)

    sign_in(page, live_server.url, manager, PASSWORD)
    page.goto(f"{live_server.url}/o/{world.school.slug}/statutory/returns/")
    expect(heading).to_have_text("Returns calendar")
    expect(page.locator("#no-returns")).to_contain_text("No returns this year yet")
    assert_accessible(page)

    page.get_by_role("button", name=f"Add the census days for {year}").click()
    expect(page.get_by_text(f"Census days for {year} added")).to_be_visible()
    rows = page.locator("#returns tbody tr")
    expect(rows).to_have_count(3)
    autumn_row = rows.filter(has_text=f"Autumn school census {year}")
    expect(autumn_row).to_contain_text(shown(autumn_day))
    expect(autumn_row.locator(".govuk-tag")).to_have_text(expected_tag(autumn_day, today))
    # The year's census days are all there now: only next year's are still offered.
    expect(page.get_by_role("button", name=f"Add the census days for {year}")).to_have_count(0)
    assert_accessible(page)

    autumn_row.get_by_role("link", name=f"Autumn school census {year}").click()
    expect(heading).to_have_text(f"Autumn school census {year}")
    expect(page.locator("#state")).to_have_text(expected_tag(autumn_day, today))
    assert_accessible(page)

    page.get_by_role("link", name="Mark as submitted").click()
    expect(heading).to_have_text("Mark as submitted")
    assert_accessible(page)
    page.get_by_label("Date it was submitted").fill("")
    page.get_by_role("button", name="Mark as submitted").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#id_submitted_on_error")).to_contain_text(
        "Enter the date the return was submitted"
    )
    assert_accessible(page)

    page.get_by_label("Date it was submitted").fill(f"{today:%d/%m/%Y}")
    page.get_by_label("Reference (optional)").fill("COLLECT-AUT-0001")
    page.get_by_role("button", name="Mark as submitted").click()
    if autumn_day > today:
        # Early in September the census day is still to come: a census is not made before it.
        expect(page.locator("#id_submitted_on_error")).to_contain_text(
            f"on or after its census day, {shown(autumn_day)}"
        )
        assert console_errors == []
        return

    expect(heading).to_have_text(f"Autumn school census {year}")
    expect(page.locator("#state")).to_have_text("Submitted")
    expect(page.locator("#submission")).to_contain_text(shown(today))
    expect(page.locator("#submission")).to_contain_text(manager.name)
    expect(page.locator("#submission")).to_contain_text("COLLECT-AUT-0001")
    expect(page.locator("#return-actions")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("link", name="Back to the returns calendar").click()
    autumn_row = page.locator("#returns tbody tr").filter(
        has_text=re.compile(f"Autumn school census {year}")
    )
    expect(autumn_row.locator(".govuk-tag")).to_have_text("Submitted")
    expect(autumn_row).to_contain_text(f"On {shown(today)} by {manager.name}")
    assert_accessible(page)
    assert console_errors == []
