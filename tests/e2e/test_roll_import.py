"""The information manager imports roll changes in the browser: a file with a problem, then
the corrected file, its confirmation and the import. Every page passes axe-core.

Dates are relative to today: the live server runs on the real clock.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from infoshare.statutory.models import RollChange
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.statutory.import_support import csv_bytes, joining, leaving, pupil_on_list

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def written(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def test_importing_roll_changes_in_the_browser(
    page: Page, live_server, world, console_errors, tmp_path: Path
):
    school = world.school
    pupil_on_list(school.organisation, 2)
    today = timezone.localdate()
    joined = written(today - datetime.timedelta(days=2))
    removal = written(today + datetime.timedelta(days=7))
    bad = tmp_path / "roll-changes.csv"
    bad.write_bytes(
        csv_bytes([joining(1, Date=joined), leaving(2, Date=removal, Removal_ground="")])
    )
    good = tmp_path / "roll-changes-corrected.csv"
    good.write_bytes(csv_bytes([joining(1, Date=joined), leaving(2, Date=removal)]))

    sign_in(page, live_server.url, school["information_manager"], PASSWORD)
    page.goto(f"{live_server.url}/o/{school.slug}/statutory/import/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload the roll changes")
    assert_accessible(page)

    page.get_by_label("Upload a CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Put these rows right, then upload the file again"
    )
    problems = page.locator("#problems")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("3")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("The removal ground is missing")
    assert_accessible(page)

    page.get_by_label("Upload a CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record these 2 roll changes?")
    expect(page.locator("#joining")).to_have_text("1")
    expect(page.locator("#removed")).to_have_text("1")
    assert_accessible(page)
    assert not RollChange.objects.exists()

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/o/{school.slug}/statutory/$"))
    expect(page.get_by_text("2 roll changes imported: 1 joining and 1 removed")).to_be_visible()
    assert RollChange.objects.filter(organisation=school.organisation).count() == 2
    assert console_errors == []
