"""A DPO serving two schools signs in with a second factor, switches school, and
opens the dashboard and the audit trail; every page passes axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, current_totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_dpo_signs_in_switches_school_and_reads_the_audit_trail(
    page: Page, live_server, world, console_errors
):
    dpo = world.trust_dpo
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Infoshare")
    assert_accessible(page)

    page.get_by_label("Email").fill(dpo.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # The second factor: a DPO cannot get in on a password alone.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert_accessible(page)
    page.get_by_label("Code").fill(current_totp_code(dpo))
    page.get_by_role("button", name="Sign in").click()

    # Two schools: the DPO chooses one.
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose an organisation")
    assert_accessible(page)
    page.get_by_role("link", name=world.school.organisation.name).click()
    expect(page).to_have_url(re.compile(rf"/o/{world.school.slug}/$"))
    expect(page.get_by_role("heading", name="What needs doing")).to_be_visible()
    # The school has no approved policy yet: drafting one is the DPO's (policy 10.1).
    expect(
        page.get_by_role("link", name="Draft the school's information sharing policy")
    ).to_be_visible()
    assert_accessible(page)

    # A DPO sees the disclosures to review and the audit trail, not the members pages.
    navigation = page.get_by_role("navigation", name="Menu")
    expect(navigation.get_by_role("link")).to_have_text(
        [
            "Dashboard",
            "People",
            "Decisions",
            "Disclosures to review",
            "Proposals",
            "Agreements",
            "Anonymise",
            "Secure transfers",
            "Information assets",
            "Statutory sharing",
            "Policy",
            "Audit trail",
        ]
    )

    page.get_by_role("link", name="Switch organisation").click()
    page.get_by_role("link", name=world.other.organisation.name).click()
    expect(page).to_have_url(re.compile(rf"/o/{world.other.slug}/$"))
    expect(page.locator(".govuk-service-navigation__service-name")).to_have_text(
        world.other.organisation.name
    )

    navigation.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Audit trail")
    # The sign-in a moment ago is on the other school's trail too.
    expect(page.get_by_role("cell", name=re.compile("Signed in", re.I)).first).to_be_visible()
    assert_accessible(page)
    assert console_errors == []


def test_another_schools_pages_are_not_found(page: Page, live_server, world, console_errors):
    staff = world.other["staff"]
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/o/{world.other.slug}/$"))

    response = page.goto(f"{live_server.url}/o/{world.school.slug}/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page)
    # The browser notes the 404 response itself; nothing else may go wrong.
    assert all("404" in error for error in console_errors), console_errors
