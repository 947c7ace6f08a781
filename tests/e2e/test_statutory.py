"""A pupil joins the roll, and the local authority is told (issue 7, item 1), in the browser.

The information manager records a new pupil joining; the dashboard lists the
notification as due; on the list of roll changes they tick it, export the
CSV and download the letter, then mark it notified; back on the dashboard
the item is gone. axe-core runs on every page, and the browser logs no error.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from infoshare.decisions.models import Decision
from infoshare.statutory.models import NotificationStatus, RollChange
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DUE_LABEL = "Roll changes to notify the local authority of"


def downloaded(page: Page, button: str) -> bytes:
    """What pressing the button downloads."""
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    return Path(download.value.path()).read_bytes()


def test_the_information_manager_records_a_joining_and_tells_the_local_authority(
    page: Page, live_server, world, console_errors
):
    school = world.school
    base = live_server.url
    today = timezone.localdate()
    sign_in(page, base, school["information_manager"], PASSWORD)

    page.goto(f"{base}/o/{school.slug}/statutory/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Roll changes")
    assert_accessible(page)

    page.get_by_role("button", name="Record a pupil joining").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a pupil joining the roll")
    page.get_by_role("button", name="Record the joining").click()  # empty: its errors
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the date the pupil was entered in the admission register"
    )
    assert_accessible(page)
    page.get_by_label("First name").fill("Noor")
    page.get_by_label("Last name").fill("Ahmed")
    page.get_by_label("Date of birth (optional)").fill("4/5/2019")
    page.get_by_label("Date entered in the admission register").fill(f"{today:%d/%m/%Y}")
    page.get_by_role("button", name="Record the joining").click()

    change = RollChange.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Roll change {change.reference}")
    expect(page.locator("#state")).to_have_text("Due")
    assert_accessible(page)

    page.goto(f"{base}/o/{school.slug}/")
    doing = page.locator("#what-needs-doing").locator("xpath=..")
    expect(doing.get_by_text(DUE_LABEL)).to_be_visible()
    expect(doing.get_by_role("link", name=re.compile(change.reference))).to_be_visible()
    assert_accessible(page)

    page.goto(f"{base}/o/{school.slug}/statutory/")
    page.get_by_label(f"Select {change.reference}").check()
    exported = downloaded(page, "Export CSV").decode()
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[1][:4] == [change.reference, "Joined", "Noor", "Ahmed"]
    letter = downloaded(page, "Download letter (PDF)")
    assert letter.startswith(b"%PDF")
    assert_accessible(page)

    page.get_by_role("button", name="Mark as notified").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Mark as notified to the local authority"
    )
    assert_accessible(page)
    page.get_by_label("Which local authority did you tell?").select_option(
        label=world.local_authority.name
    )
    page.get_by_label("Date you told them").fill(f"{today:%d/%m/%Y}")
    page.get_by_label("Letter").check()
    page.get_by_role("button", name="Mark as notified").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text("marked as notified")
    expect(page.locator("#nothing-to-notify")).to_be_visible()
    assert_accessible(page)
    change.refresh_from_db()
    assert change.status == NotificationStatus.NOTIFIED
    assert change.decision == Decision.objects.get()

    page.goto(f"{base}/o/{school.slug}/")
    expect(page.get_by_text(DUE_LABEL)).to_have_count(0)
    assert_accessible(page)
    assert console_errors == []
