"""An information sharing agreement from an approved proposal to the end of its life, as
issue 5 asks.

A member of staff creates the agreement from an approved proposal (what the
proposal says is filled in), completes its content and asks for the DPO's
advice; the DPO advises; the headteacher approves it, records the signatures,
uploads the signed copy and downloads the agreement as a PDF. A year later,
with the review overdue, the information manager reviews it and it continues;
then the headteacher terminates it with every party's agreement, and the
information manager confirms the data was destroyed, with a certificate. The
register is exported as CSV and XLSX. Each step emails the next person
through a real SMTP server, and axe-core runs on every page on the way.

The clock is moved with time-machine, which replaces the process's clock
functions: the live server answers from another thread of this process, so
it sees the moved clock as the test does (the test checks that it does).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import fastexcel
import pytest
import time_machine
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from infoshare.agreements.models import add_months
from infoshare.proposals import services as proposal_services
from infoshare.proposals.models import PiaRequirement
from tests.agreements.drafts import PDF
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.proposals import drafts as proposal_drafts
from tests.smtp import SmtpServer, smtp_server

if TYPE_CHECKING:
    from infoshare.core.models import User
    from infoshare.proposals.models import Proposal

__all__ = ["smtp_server"]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
KIND = "Information sharing agreement"
SCHOOL = "Alder Primary School"
COUNCIL = "Eastmoor Council"
REFERENCE = re.compile(r"ISA-\d{4}-\d{4}")
# How long after the review fell due the reviewer comes to it: late enough to be overdue.
DAYS_LATE = 7


@pytest.fixture
def scans(settings: Any, tmp_path: Path) -> Path:
    """The folder the school's scanned PDFs are uploaded from. What the application
    stores of them goes to a folder of the test's own too, not to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = tmp_path / "scans"
    folder.mkdir()
    return folder


def approved_proposal(world: Any) -> Proposal:
    """A proposal drafted by staff, screened and assessed, and approved by the headteacher."""
    school = world.school
    proposal = proposal_drafts.assessed(
        school.organisation,
        school["staff"],
        school["dpo"],
        world.local_authority,
        PiaRequirement.NOT_REQUIRED,
    )
    return proposal_services.decide_proposal(
        proposal, actor=school["headteacher"], decision=proposal_drafts.decision()
    )


def scanned(folder: Path, name: str) -> Path:
    """A small real PDF on disk, as a scan the school would upload."""
    path = folder / name
    path.write_bytes(PDF)
    return path


def typed(day: datetime.date) -> str:
    """A date as people type it into the date fields: day/month/year."""
    return f"{day.day}/{day.month}/{day.year}"


def open_agreement(page: Page, reference: str) -> None:
    """From any page: the agreements register, then the agreement."""
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agreements register")
    assert_accessible(page)
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_text(reference).first).to_be_visible()
    assert_accessible(page)


def downloaded(page: Page, link: str) -> bytes:
    """What following the link downloads."""
    with page.expect_download() as download:
        page.get_by_role("link", name=link).click()
    return Path(download.value.path()).read_bytes()


def status_tag(page: Page):
    return page.locator("#status .govuk-tag")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


# --- Drafting, advice and approval ----------------------------------------------------


def staff_creates_the_agreement_from_the_proposal(
    page: Page, base_url: str, staff: User, proposal: Proposal
) -> str:
    sign_in(page, base_url, staff, PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Proposals").click()
    assert_accessible(page)
    page.get_by_role("link", name=proposal.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal.name)
    assert_accessible(page)
    page.get_by_role("button", name="Create the agreement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Create the agreement for {proposal.reference}"
    )
    # What the proposal says is filled in: its name as the title, its parties as controllers.
    expect(page.get_by_label("Title")).to_have_value(proposal.name)
    prefill = page.locator("#prefill")
    expect(prefill).to_contain_text(proposal.information_shared)
    expect(prefill).to_contain_text(COUNCIL)
    assert_accessible(page)
    page.get_by_label(KIND, exact=True).check()
    page.get_by_role("button", name="Start the draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(proposal.name)
    expect(
        page.get_by_text(f"What proposal {proposal.reference} says is filled in")
    ).to_be_visible()
    expect(status_tag(page)).to_have_text("Draft")
    assert_accessible(page)
    caption = page.locator(".govuk-caption-l").first.inner_text()
    reference = REFERENCE.search(caption).group(0)  # type: ignore[union-attr]
    parties = page.get_by_role("table", name=re.compile(f"organisations party to {reference}"))
    expect(parties).to_contain_text(SCHOOL)
    expect(parties).to_contain_text(COUNCIL)
    return reference


def staff_completes_the_content(page: Page) -> None:
    """First with a review interval over 12 months and no reason: the page asks for one."""
    page.get_by_role("link", name="Change the content").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change the content")
    assert_accessible(page)
    page.get_by_label(re.compile("Public task")).check()
    page.get_by_label("The law or power that allows it (optional)").fill(
        "Education Act 1996, section 537A."
    )
    page.get_by_label("How is the data shared?").fill(
        "A termly list sent to the charity by secure transfer."
    )
    page.get_by_label("How often? (optional)").fill("Each term")
    page.get_by_label("Security measures").fill(
        "Encrypted transfer; only the charity's tutors see the list."
    )
    page.get_by_label("How long is the data kept?").fill("Until the end of the school year.")
    page.get_by_label("How is the data returned or disposed of at the end?").fill(
        "The charity destroys the list and sends a certificate of destruction."
    )
    page.get_by_label("Start date").fill(typed(timezone.localdate()))
    expect(page.get_by_label("Months between reviews")).to_have_value("12")
    page.get_by_label("Months between reviews").fill("18")
    page.get_by_role("button", name="Save the content").click()

    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#id_review_interval_justification_error")).to_contain_text(
        "needs a justification"
    )
    assert_accessible(page)
    # Nothing typed is lost.
    expect(page.get_by_label("How is the data shared?")).to_have_value(
        "A termly list sent to the charity by secure transfer."
    )
    expect(page.get_by_label("Months between reviews")).to_have_value("18")
    expect(page.get_by_label(re.compile("Public task"))).to_be_checked()

    page.get_by_label("Months between reviews").fill("12")
    page.get_by_role("button", name="Save the content").click()
    expect(page.get_by_text("The content is saved.")).to_be_visible()
    expect(page.locator("#content-sharing")).to_contain_text("Each term")
    assert_accessible(page)


def staff_asks_for_advice(page: Page) -> None:
    page.get_by_role("link", name="Ask the DPO for advice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask the DPO for advice")
    assert_accessible(page)
    page.get_by_role("button", name="Ask the DPO for advice").click()
    expect(page.get_by_text("is with the DPO, who has been emailed for advice")).to_be_visible()
    expect(status_tag(page)).to_have_text("Awaiting advice")
    assert_accessible(page)
    sign_out(page)


def dpo_advises(page: Page, base_url: str, dpo: User, reference: str) -> None:
    sign_in(page, base_url, dpo, PASSWORD)
    open_agreement(page, reference)
    page.get_by_role("link", name="Give your advice").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Advise on")
    assert_accessible(page)
    page.get_by_label("Your advice").fill("Clear and proportionate. Name the transfer service.")
    page.get_by_role("button", name="Give your advice").click()
    expect(page.get_by_text("Your advice is recorded.")).to_be_visible()
    expect(status_tag(page)).to_have_text("Awaiting approval")
    # The DPO advises and never approves.
    expect(page.get_by_role("link", name="Approve the agreement")).to_have_count(0)
    assert_accessible(page)
    sign_out(page)


def headteacher_approves_signs_and_downloads(
    page: Page, base_url: str, headteacher: User, reference: str, scans: Path
) -> bytes:
    sign_in(page, base_url, headteacher, PASSWORD)
    open_agreement(page, reference)
    page.get_by_role("link", name="Approve the agreement").click()
    expect(page.get_by_text("Clear and proportionate. Name the transfer service.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Notes (optional)").fill("Approved as advised.")
    page.get_by_role("button", name="Approve the agreement").click()
    expect(page.get_by_text(f"{reference} is approved and on the register.")).to_be_visible()
    expect(status_tag(page)).to_have_text("Active")
    due = add_months(timezone.localdate(), 12)
    expect(page.locator("#review-dates")).to_contain_text(date_format(due))
    assert_accessible(page)

    for party, signatory in ((SCHOOL, "Sam Head"), (COUNCIL, "Kim Officer")):
        record_signature(page, party, signatory)
    signatures = page.get_by_role("table", name=re.compile("Who signed version 1"))
    expect(signatures).to_contain_text("Sam Head")
    expect(signatures).to_contain_text("Kim Officer")

    page.get_by_role("link", name="Upload the signed copy").click()
    assert_accessible(page)
    page.get_by_label("The signed copy (PDF)").set_input_files(scanned(scans, "signed.pdf"))
    page.get_by_role("button", name="Upload the signed copy").click()
    expect(page.get_by_text("The signed copy of version 1 is uploaded.")).to_be_visible()
    assert_accessible(page)
    assert downloaded(page, "Download the signed copy of version 1 (PDF)") == PDF

    pdf = downloaded(page, "Download the agreement (PDF)")
    sign_out(page)
    return pdf


def record_signature(page: Page, party: str, signatory: str) -> None:
    page.get_by_role("link", name=f"Record signature for {party}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Who signed for {party}?")
    assert_accessible(page)
    page.get_by_label("Name of the person who signed").fill(signatory)
    page.get_by_label("Their role").fill("Headteacher" if party == SCHOOL else "Head of Inclusion")
    page.get_by_label("Date signed").fill(typed(timezone.localdate()))
    page.get_by_role("button", name="Save the signature").click()
    expect(page.get_by_text(f"Signature recorded: {signatory} signed for {party}")).to_be_visible()
    assert_accessible(page)


# --- A year later: review, termination, the data's fate ---------------------------------


def information_manager_reviews_it(page: Page, base_url: str, keeper: User, reference: str) -> None:
    sign_in(page, base_url, keeper, PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements").click()
    expect(register_row(page, reference)).to_contain_text("Review overdue")
    assert_accessible(page)
    page.get_by_role("link", name=reference, exact=True).click()
    expect(status_tag(page)).to_have_text("Review overdue")
    expect(page.locator("#review-warning")).to_contain_text("The review is overdue")
    assert_accessible(page)

    page.get_by_role("link", name="Start the review").click()
    expect(page.locator("#review-due")).to_contain_text("it is overdue")
    assert_accessible(page)
    page.get_by_role("button", name="Start the review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the review")
    assert_accessible(page)
    for question in (
        "Are the scope and purpose still relevant, and has the scope not slipped?",
        "Are the benefits to the data subjects being realised?",
        "Has every element of the agreement been checked and complied with?",
    ):
        page.get_by_role("group", name=question).get_by_label("Yes").check()
    page.get_by_role(
        "group", name="Have legislation or practice in public sector data sharing changed?"
    ).get_by_label("No").check()
    page.get_by_label("Notes on the benefits (optional)").fill(
        "Twelve pupils moved up two reading ages this year."
    )
    page.get_by_label("Continue as it is").check()
    page.get_by_role("button", name="Record the review").click()

    today = timezone.localdate()  # the moved clock, as the live server sees it
    expect(
        page.get_by_text(f"The next review is due by {date_format(add_months(today, 12))}")
    ).to_be_visible()
    expect(status_tag(page)).to_have_text("Active")
    past = page.locator("#past-reviews").locator("xpath=following-sibling::*[1]")
    expect(past).to_contain_text("Twelve pupils moved up two reading ages this year.")
    expect(past).to_contain_text("Continue as it is")
    assert_accessible(page)
    sign_out(page)


def headteacher_terminates_it(page: Page, base_url: str, headteacher: User, reference: str) -> None:
    sign_in(page, base_url, headteacher, PASSWORD)
    open_agreement(page, reference)
    page.get_by_role("link", name="Terminate the agreement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Terminate the agreement")
    # The arrangement starts from what the agreement itself says.
    expect(page.get_by_label(re.compile("returned or securely disposed of"))).to_have_value(
        "The charity destroys the list and sends a certificate of destruction."
    )
    assert_accessible(page)
    page.get_by_label("Why is the agreement being terminated?").fill(
        "The charity's tutoring programme has ended."
    )
    today = typed(timezone.localdate())
    for party, agreed_by in ((SCHOOL, "Sam Head, Headteacher"), (COUNCIL, "Kim Officer")):
        consent = page.get_by_role("group", name=re.compile(f"^{party}"))
        consent.get_by_label("Name of the person who agreed").fill(agreed_by)
        consent.get_by_label("Date they agreed").fill(today)
    page.get_by_role("button", name="Terminate the agreement").click()

    expect(page.get_by_text(f"{reference} is terminated.")).to_be_visible()
    expect(status_tag(page)).to_have_text("Terminated")
    consents = page.get_by_role("table", name="Each party's agreement to terminate")
    expect(consents).to_contain_text("Sam Head, Headteacher")
    expect(consents).to_contain_text("Kim Officer")
    assert_accessible(page)
    sign_out(page)


def information_manager_confirms_destruction(
    page: Page, base_url: str, keeper: User, reference: str, scans: Path
) -> None:
    sign_in(page, base_url, keeper, PASSWORD)
    open_agreement(page, reference)
    page.get_by_role("link", name="Confirm what happened to the data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm what happened to the data")
    assert_accessible(page)
    page.get_by_label("Destroyed", exact=True).check()
    page.get_by_label("Date it was returned or destroyed").fill(typed(timezone.localdate()))
    page.get_by_label("Details (optional)").fill("Certificate of destruction from the charity.")
    page.get_by_label("Evidence (optional)").set_input_files(
        scanned(scans, "certificate-of-destruction.pdf")
    )
    page.get_by_role("button", name="Confirm and mark the agreement expired").click()

    expect(
        page.get_by_text(f"{reference} has expired and shows so on the register.")
    ).to_be_visible()
    expect(status_tag(page)).to_have_text("Expired")
    expect(page.locator("#data-fate-summary")).to_contain_text("Destroyed")
    assert_accessible(page)
    assert downloaded(page, "Download the evidence (PDF)") == PDF


def register_row(page: Page, reference: str):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=reference, exact=True))


def exports_the_register(page: Page, reference: str) -> tuple[list[dict[str, str]], list[dict]]:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements").click()
    expect(register_row(page, reference)).to_contain_text("Expired")
    assert_accessible(page)
    text = downloaded(page, "CSV file").decode("utf-8-sig")
    csv_rows = list(csv.DictReader(io.StringIO(text)))
    sheet = fastexcel.read_excel(downloaded(page, "Excel spreadsheet"))
    return csv_rows, sheet.load_sheet(0).to_polars().to_dicts()


# --- The walk -----------------------------------------------------------------------------


# pytest passes fixtures by name, so their number says nothing about how it is called.
def test_an_approved_proposal_becomes_an_agreement_reviewed_a_year_on_then_ended(  # noqa: PLR0917
    page: Page, live_server, world, smtp_server: SmtpServer, console_errors, scans: Path
):
    school = world.school
    staff, dpo, headteacher = school["staff"], school["dpo"], school["headteacher"]
    keeper = school["information_manager"]
    proposal = approved_proposal(world)
    smtp_server.received.clear()  # from here on, only what the agreement's steps send

    reference = staff_creates_the_agreement_from_the_proposal(
        page, live_server.url, staff, proposal
    )
    staff_completes_the_content(page)
    staff_asks_for_advice(page)
    subject = f"{KIND} {reference}"
    assert smtp_server.subjects_to(dpo.email) == [f"{subject} needs your advice"]
    assert smtp_server.subjects_to(world.trust_dpo.email) == [f"{subject} needs your advice"]

    dpo_advises(page, live_server.url, dpo, reference)
    ready = f"{subject} is ready for your approval"
    assert ready in smtp_server.subjects_to(headteacher.email)
    assert ready in smtp_server.subjects_to(school["chair"].email)
    assert ready not in smtp_server.subjects_to(staff.email), "nobody approves their own draft"
    assert f"{subject} has the DPO's advice" in smtp_server.subjects_to(staff.email)

    pdf = headteacher_approves_signs_and_downloads(
        page, live_server.url, headteacher, reference, scans
    )
    assert f"{subject} has been approved" in smtp_server.subjects_to(staff.email)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (reference, proposal.name, SCHOOL, COUNCIL, "Sam Head", "Kim Officer"):
        assert expected in text, expected

    review_due = add_months(timezone.localdate(), 12)
    a_year_on = datetime.datetime.combine(
        review_due + datetime.timedelta(days=DAYS_LATE), datetime.time(10), tzinfo=LONDON
    )
    with time_machine.travel(a_year_on, tick=True):
        assert timezone.localdate() == review_due + datetime.timedelta(days=DAYS_LATE)
        information_manager_reviews_it(page, live_server.url, keeper, reference)
        headteacher_terminates_it(page, live_server.url, headteacher, reference)
        terminated = f"{subject} has been terminated: confirm what happens to the data"
        assert terminated in smtp_server.subjects_to(keeper.email)

        information_manager_confirms_destruction(page, live_server.url, keeper, reference, scans)
        assert f"{subject} has expired" in smtp_server.subjects_to(keeper.email)
        assert f"{subject} has expired" in smtp_server.subjects_to(dpo.email)
        csv_rows, xlsx_rows = exports_the_register(page, reference)

    (exported,) = (row for row in csv_rows if row["Reference"] == reference)
    assert exported["Status"] == "Expired"
    assert exported["Title"] == proposal.name
    assert exported["From proposal"] == proposal.reference
    assert COUNCIL in exported["Parties"]
    (sheet_row,) = (row for row in xlsx_rows if row["Reference"] == reference)
    assert sheet_row["Status"] == "Expired"
    assert all(f"{reference}/" in message.body for message in mails_about(smtp_server, reference))
    assert console_errors == []


def mails_about(server: SmtpServer, reference: str) -> list[Any]:
    return [message for message in server.received if reference in message.subject]
