"""The information sharing policy, walked as people would: the DPO drafts a version, the
headteacher approves it from their dashboard, a member of staff is asked on theirs to read
it and acknowledges it, and the DPO sees who has not yet. Every page passes axe-core."""

from __future__ import annotations

import re
import time

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, expect

from infoshare.governance.models import PolicyAcknowledgement, PolicyStatus, PolicyVersion
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POLICY_TEXT = (
    "1. Introduction\nWe share personal information only when it is needed.\n\n"
    "10. Review and evaluation\nThe DPO keeps this policy up to date."
)
TOTP_STEP = 30
SECONDS_TO_SIGN_IN = 8


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def sign_in_as(page: Page, base_url: str, user) -> None:
    """Signed in early enough in a code's 30 seconds to send the code within them."""
    if (left := TOTP_STEP - time.time() % TOTP_STEP) < SECONDS_TO_SIGN_IN:
        time.sleep(left)
    cache.clear()  # forget codes used before, should the next be the same
    sign_in(page, base_url, user, PASSWORD)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_drafted_approved_acknowledged_and_who_has_not(
    page: Page, live_server, world, console_errors
):
    school = world.school
    base = live_server.url
    policy_home = f"{base}/o/{school.slug}/policy/"

    # The DPO drafts version 1.
    sign_in_as(page, base, school["dpo"])
    page.goto(policy_home)
    expect(heading(page)).to_have_text("Information sharing policy")
    expect(page.get_by_text("No version of the policy has been approved here yet")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Draft a new version").click()
    expect(heading(page)).to_have_text("Draft a new version")
    page.get_by_role("button", name="Save and ask for approval").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Type the policy's text, or upload it as a PDF"
    )
    assert_accessible(page)
    page.get_by_label("The policy's text").fill(POLICY_TEXT)
    page.get_by_label("What has changed from the version in force").fill("The first version.")
    page.get_by_role("button", name="Save and ask for approval").click()
    expect(heading(page)).to_have_text("Version 1")
    expect(page.get_by_text("Draft, awaiting approval")).to_be_visible()
    assert_accessible(page)
    sign_out(page)

    # The headteacher finds it on their dashboard and approves it.
    sign_in_as(page, base, school["headteacher"])
    page.goto(f"{base}/o/{school.slug}/")
    page.get_by_role("link", name="Approve version 1 of the information sharing policy").click()
    expect(heading(page)).to_have_text("Approve version 1")
    expect(page.locator("#policy-text")).to_contain_text("We share personal information")
    assert_accessible(page)
    today = timezone.localdate()
    page.get_by_label("The date you approved it").fill(f"{today.day}/{today.month}/{today.year}")
    page.get_by_role("button", name="Approve version 1").click()
    expect(page).to_have_url(re.compile(r"/policy/$"))
    expect(page.locator("#review-state")).to_contain_text("The next review is due on")
    assert_accessible(page)
    assert PolicyVersion.objects.get().status == PolicyStatus.APPROVED
    sign_out(page)

    # A member of staff is asked on their dashboard, reads it and acknowledges it.
    sign_in(page, base, school["staff"], PASSWORD)
    page.goto(f"{base}/o/{school.slug}/")
    page.get_by_role(
        "link", name="Read and acknowledge the information sharing policy (version 1)"
    ).click()
    expect(page.locator("#policy-text")).to_contain_text("The DPO keeps this policy up to date.")
    assert_accessible(page)
    page.get_by_role("button", name="I have read and understood it").click()
    expect(page.get_by_text("Thank you. You acknowledged version 1.")).to_be_visible()
    expect(page.locator("#acknowledgement")).to_contain_text("You acknowledged version 1 on")
    assert_accessible(page)
    assert PolicyAcknowledgement.objects.filter(user=school["staff"]).count() == 1
    page.goto(f"{base}/o/{school.slug}/")
    expect(page.get_by_text("Read and acknowledge the information sharing policy")).to_have_count(0)
    sign_out(page)

    # The DPO sees who has not yet.
    sign_in_as(page, base, school["dpo"])
    page.goto(policy_home)
    page.get_by_role("link", name="Who has acknowledged it").click()
    expect(page.locator("#counts")).to_contain_text(
        "1 of 7 people who work in the school have acknowledged version 1"
    )
    assert_accessible(page)
    page.get_by_role("link", name="Show only those who have not yet").click()
    table = page.locator("#acknowledgements")
    expect(table).to_contain_text("Volunteer of Alder Primary School")
    expect(table).not_to_contain_text("Staff of Alder Primary School")
    assert_accessible(page)
    assert console_errors == []
