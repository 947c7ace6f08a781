"""The trust's DPO finds what needs doing: the oversight table of their schools' overdue
items, then a school's dashboard, whose overdue review leads to the review page.
Every page passes axe-core."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.agreements import drafts as agreement_drafts
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, current_totp_code
from tests.proposals import drafts as proposal_drafts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_dpo_sees_overdue_items_across_schools_and_on_the_dashboard(
    page: Page, live_server, world, console_errors
):
    school = world.school
    # Approved fourteen months ago: its yearly review is two months overdue.
    long_ago = timezone.now() - datetime.timedelta(days=425)
    with time_machine.travel(long_ago, tick=False):
        overdue = agreement_drafts.approved(
            school.organisation,
            school["staff"],
            school["dpo"],
            school["headteacher"],
            world.local_authority,
        )
    screened = proposal_drafts.screened(school.organisation, school["staff"], world.local_authority)

    dpo = world.trust_dpo
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(dpo.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(current_totp_code(dpo))
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose an organisation")
    page.get_by_role("link", name="Overdue items across your schools").click()
    expect(page).to_have_url(re.compile(r"/oversight/$"))
    expect(page.get_by_text("1 of 2 schools has overdue items")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row").nth(1)).to_contain_text(school.organisation.name)
    expect(table.get_by_role("row").nth(1)).to_contain_text("1")
    expect(table.get_by_role("row").nth(2)).to_contain_text("Nothing overdue")
    assert_accessible(page)

    table.get_by_role("link", name=school.organisation.name).click()
    expect(page).to_have_url(re.compile(rf"/o/{school.slug}/$"))
    doing = page.locator("#what-needs-doing").locator("xpath=..")
    expect(doing.get_by_text("Overdue", exact=True)).to_be_visible()
    expect(doing.get_by_role("link", name=re.compile(screened.reference))).to_be_visible()
    assert_accessible(page)

    doing.get_by_role("link", name=re.compile(overdue.reference)).click()
    expect(page).to_have_url(re.compile(rf"/agreements/{overdue.reference}/review/$"))
    assert_accessible(page)
    assert console_errors == []
