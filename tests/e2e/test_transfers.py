"""A secure transfer in the browser, as issue 9 walks it.

A member of staff signs in, starts a transfer, records the decision to share in the same
form, attaches a file and sends it. The recipient, in a browser context of their own with
no account, follows the link from the first email, asks for a code, enters the code from
the second email and downloads the file, which is byte for byte what was sent. The sender
reloads the transfer's page and sees it downloaded, with the recipient's visits in the
access log, then revokes it; the recipient's link then says the transfer is no longer
available. axe-core runs on every main page on the way.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from infoshare.decisions.models import Decision, Method
from infoshare.transfers.models import Status, Transfer
from tests.conftest import PASSWORD
from tests.decisions.drafts import pupil
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_decisions import SEVEN_TESTS

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECIPIENT = "Morwenna Testrecipient"
RECIPIENT_EMAIL = "m.testrecipient@eastmoor-welfare.example.org"
MESSAGE = "The attendance report we discussed. Call me if anything is unclear."
FILE_NAME = "attendance-report.bin"
GONE = "This transfer is no longer available"


@pytest.fixture
def report(tmp_path: Path, settings: Any) -> Path:
    """A file of made-up bytes (no text a browser could alter), and the media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / FILE_NAME
    path.write_bytes(secrets.token_bytes(300_000))
    return path


def heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def record_the_decision(page: Page) -> None:
    """The decision log's questions, at the top of the transfer form (record it now)."""
    page.get_by_label("Find a person by name or UPN").fill("Browsertest")
    page.get_by_role("button", name="Find").click()
    page.get_by_label(re.compile("Iris Browsertest")).check()
    page.get_by_label("What information").fill("Attendance for the autumn term")
    page.get_by_label("Attendance", exact=True).check()
    page.get_by_label("Organisation not in the list").fill("Eastmoor education welfare service")
    page.get_by_label("Person or role").fill("Education welfare officer")
    page.get_by_label("Purpose", exact=True).select_option(
        label="Provide appropriate pastoral care"
    )
    expect(page.get_by_label("Shared", exact=True)).to_be_checked()
    page.get_by_label("Reasons for your decision").fill("Attendance is falling; support offered.")
    page.get_by_label("Not sought: another lawful reason applies").check()
    page.get_by_label("Explain the consent decision").fill("Public task.")
    page.get_by_label("6(1)(e): Public task").check()
    for check in SEVEN_TESTS:
        page.get_by_label(check).check()
    expect(page.get_by_label("Secure transfer", exact=True)).to_be_checked()
    page.get_by_label("An information sharing agreement").check()
    page.get_by_label("Agreement reference").fill("ISA-2026-0001")


def fill_the_transfer(page: Page, report: Path) -> None:
    page.get_by_label("Recipient's name").fill(RECIPIENT)
    page.get_by_label("Recipient's email address").fill(RECIPIENT_EMAIL)
    page.get_by_label("Recipient's organisation").fill("Eastmoor Education Welfare Service")
    page.get_by_label("Message").fill(MESSAGE)
    page.get_by_label("Files", exact=True).set_input_files(str(report))
    expect(page.get_by_label("Link works for (days)")).to_have_value("7")
    page.get_by_label("Downloads allowed for each file").fill("2")


def last_email_to(address: str) -> str:
    bodies = [message.body for message in mail.outbox if message.to == [address]]
    assert bodies, f"no email to {address}"
    return bodies[-1]


def test_a_file_sent_securely_is_downloaded_intact_then_revoked(  # noqa: PLR0917
    page: Page, browser: Any, live_server, world, console_errors, report: Path, settings
):
    settings.BASE_URL = live_server.url  # the links in the emails lead to this server
    pupil(world.school.organisation, "Iris", "Browsertest")
    staff = world.school["staff"]
    sign_in(page, live_server.url, staff, PASSWORD)

    # The sender: the list, which decision, the form (recording the decision now), send.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Secure transfers").click()
    expect(heading(page)).to_have_text("Secure transfers")
    expect(page.locator("#no-transfers")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send files securely").click()
    expect(heading(page)).to_have_text("Which decision is this sharing?")
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#id_choice_error")).to_contain_text("Choose a decision already in")
    page.get_by_label("Record the decision now").check()
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Send files securely")
    assert_accessible(page)
    record_the_decision(page)
    fill_the_transfer(page, report)
    page.get_by_role("button", name="Send securely").click()
    expect(heading(page)).to_contain_text("Transfer TR-")
    expect(page.get_by_text("has been emailed a link; they will ask for a code")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Sent")
    assert_accessible(page)
    transfer = Transfer.objects.get()
    assert transfer.decision == Decision.objects.get()
    assert transfer.decision.method == Method.SECURE_TRANSFER
    detail_url = page.url

    # The recipient: a browser of their own, no account; the link from the first email.
    link = re.search(r"https?://\S+/t/\S+/", last_email_to(RECIPIENT_EMAIL))
    assert link, "no link in the email"
    context = browser.new_context(accept_downloads=True)
    outside = context.new_page()
    outside.goto(link.group(0))
    expect(heading(outside)).to_have_text("Alder Primary School has sent you files securely")
    expect(outside.locator("#school")).to_have_text("Alder Primary School")
    expect(outside.get_by_text(RECIPIENT)).to_have_count(0)
    assert_accessible(outside)
    outside.get_by_role("button", name="Email me a code").click()
    expect(heading(outside)).to_have_text("Enter the code")
    assert_accessible(outside)
    code = re.search(r"^(\d{6})$", last_email_to(RECIPIENT_EMAIL), re.M)
    assert code, "no code in the second email"
    outside.get_by_label("Enter the code").fill(code.group(1))
    outside.get_by_role("button", name="Continue").click()
    expect(heading(outside)).to_have_text("Files from Alder Primary School")
    expect(outside.locator("#message")).to_have_text(MESSAGE)
    assert_accessible(outside)
    with outside.expect_download() as arrived:
        outside.get_by_role("link", name=FILE_NAME).click()
    download = arrived.value
    assert download.suggested_filename == FILE_NAME
    assert download.path().read_bytes() == report.read_bytes()

    # The sender sees it downloaded, and who came from where, then revokes it.
    page.goto(detail_url)
    expect(page.locator("#status")).to_contain_text("Downloaded")
    log = page.locator("#access-log")
    for what in ("Opened the link", "Asked for a code", "Entered the right code"):
        expect(log).to_contain_text(what)
    expect(log).to_contain_text("Downloaded a file")
    expect(log).to_contain_text("127.0.0.1")
    expect(page.locator("#files")).to_contain_text("1 of 2")
    assert_accessible(page)
    page.get_by_role("button", name="Revoke").click()
    expect(heading(page)).to_have_text(f"Revoke {transfer.reference}")
    assert_accessible(page)
    page.get_by_label("Why are you revoking it?").fill("The recipient has what they need.")
    page.get_by_role("button", name="Revoke the transfer").click()
    expect(page.get_by_text(f"{transfer.reference} is revoked.")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Revoked")
    transfer.refresh_from_db()
    assert transfer.status == Status.REVOKED
    assert transfer.wrapped_key is None

    # The recipient's link no longer works.
    outside.goto(link.group(0))
    expect(heading(outside)).to_have_text(GONE)
    expect(outside.get_by_text("It has expired or the sender has withdrawn it.")).to_be_visible()
    assert_accessible(outside)
    context.close()
    assert console_errors == []
