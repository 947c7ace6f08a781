"""Staff record a share, a refusal and an emergency disclosure; the DPO reviews the
emergency disclosure and exports the pupil's disclosure history as a PDF.
axe-core runs on every page on the way."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.conftest import PASSWORD
from tests.decisions.drafts import pupil
from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEVEN_TESTS = [
    "Necessary for the purpose",
    "Proportionate: no more than the purpose needs",
    "Relevant to the purpose",
    "Adequate: enough to be understood and relied on",
    "Accurate and up to date",
    "Timely: shared when it is needed",
    "Secure: sent in a way that protects it",
]


def start_recording(page: Page, pupil_name: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Decisions").click()
    page.get_by_role("button", name="Record a decision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a decision")
    page.get_by_label("Find a person by name or UPN").fill(pupil_name.rsplit(maxsplit=1)[-1])
    page.get_by_role("button", name="Find").click()
    page.get_by_label(re.compile(pupil_name)).check()


def answer_who_and_why(page: Page, *, information: str, recipient: str, role: str) -> None:
    page.get_by_label("What information").fill(information)
    page.get_by_label("Organisation not in the list").fill(recipient)
    page.get_by_label("Person or role").fill(role)


def answer_share(page: Page, *, basis: str, method: str, made_under: str) -> None:
    page.get_by_label(basis).check()
    for check in SEVEN_TESTS:
        page.get_by_label(check).check()
    page.get_by_label(method, exact=True).check()
    page.get_by_label(made_under).check()


def record(page: Page) -> str:
    page.get_by_role("button", name="Record decision").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Decision DEC-")
    assert_accessible(page)
    return heading.inner_text().removeprefix("Decision ").strip()


def test_staff_record_decisions_and_the_dpo_reviews_and_exports(
    page: Page, live_server, world, console_errors
):
    pupil(world.school.organisation, "Iris", "Browsertest")
    staff, dpo = world.school["staff"], world.school["dpo"]
    sign_in(page, live_server.url, staff, PASSWORD)

    # A share under an agreement.
    start_recording(page, "Iris Browsertest")
    assert_accessible(page)
    answer_who_and_why(
        page,
        information="Attendance this term",
        recipient="Eastmoor education welfare service",
        role="Education welfare officer",
    )
    page.get_by_label("Attendance", exact=True).check()
    page.get_by_label("Purpose", exact=True).select_option(
        label="Provide appropriate pastoral care"
    )
    page.get_by_label("Shared", exact=True).check()
    page.get_by_label("Reasons for your decision").fill("Attendance is falling; support offered.")
    page.get_by_label("Not sought: another lawful reason applies").check()
    page.get_by_label("Explain the consent decision").fill("Public task.")
    answer_share(
        page,
        basis="6(1)(e): Public task",
        method="Secure transfer",
        made_under="An information sharing agreement",
    )
    page.get_by_label("Agreement reference").fill("ISA-2026-0001")
    share = record(page)

    # A refusal to share: first forgetting the reasons, which the form asks for.
    start_recording(page, "Iris Browsertest")
    answer_who_and_why(
        page,
        information="Home address asked for by phone",
        recipient="Unknown caller",
        role="Caller saying they are an uncle",
    )
    page.get_by_label("Identifying and contact details").check()
    page.get_by_label("Purpose", exact=True).select_option(
        label="Provide appropriate pastoral care"
    )
    page.get_by_label("Not shared").check()
    page.get_by_label("Consent sought and refused").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#id_reasons_error")).to_contain_text("Enter the reasons")
    assert_accessible(page)
    page.get_by_label("Reasons for your decision").fill("Identity could not be checked.")
    refusal = record(page)
    expect(page.locator(".govuk-tag", has_text="Not shared")).to_be_visible()

    # An emergency disclosure of special category information.
    start_recording(page, "Iris Browsertest")
    answer_who_and_why(
        page,
        information="Injury seen this morning and what the pupil said",
        recipient="Eastmoor children's social care",
        role="Duty social worker",
    )
    page.get_by_label("Safeguarding and social care (special category)").check()
    page.get_by_label("Purpose", exact=True).select_option(
        label="Ensure the safety of pupils and protect children from harm"
    )
    page.get_by_label("Shared", exact=True).check()
    page.get_by_label("Reasons for your decision").fill("Risk of significant harm.")
    page.get_by_label("Not sought: it would be unsafe or inappropriate").check()
    page.get_by_label("Explain the consent decision").fill(
        "Telling the parent could put the child at risk."
    )
    page.get_by_label("9(2)(g): Substantial public interest").check()
    page.get_by_label("Sch. 1 para 18: Safeguarding of children").check()
    answer_share(
        page,
        basis="6(1)(e): Public task",
        method="Phone",
        made_under="Emergency disclosure (no agreement)",
    )
    emergency = record(page)
    expect(page.get_by_text("The DPO will review this disclosure")).to_be_visible()
    assert len({share, refusal, emergency}) == 3

    # The DPO reviews the emergency disclosure.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, dpo, PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Disclosures to review"
    ).click()
    assert_accessible(page)
    page.get_by_role("link", name=f"Review {emergency}").click()
    assert_accessible(page)
    page.get_by_role("group", name="Was the sharing justified?").get_by_label("Yes").check()
    page.get_by_role("group", name="Is an information sharing agreement now needed?").get_by_label(
        "No"
    ).check()
    page.get_by_label("Notes (optional)").fill("Right to act at once.")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_text(f"Your review of {emergency} is recorded.")).to_be_visible()
    expect(page.get_by_text("There are no disclosures waiting for your review.")).to_be_visible()

    # The DPO exports the pupil's disclosure history for a subject access request.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People").click()
    page.get_by_role("link", name=re.compile("Browsertest")).first.click()
    assert_accessible(page)
    page.get_by_role("link", name="Disclosure history").click()
    assert_accessible(page)
    for reference in (share, refusal, emergency):
        expect(page.get_by_text(reference).first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("PDF")).click()
    text = "".join(
        page_.extract_text() for page_ in PdfReader(io.BytesIO(_read(download.value))).pages
    )
    for reference in (share, refusal, emergency):
        assert reference in text
    assert "Iris Browsertest" in text
    assert console_errors == []


def _read(download) -> bytes:
    with open(download.path(), "rb") as handle:
        return handle.read()
