"""A sharing proposal walked by three people, as issue 4 asks.

A member of staff drafts it and answers the screening questions; the DPO
makes a full PIA mandatory, records two risks and advises against going
ahead; the headteacher approves it with conditions, overriding that advice.
Each step emails the next person through a real SMTP server, and axe-core
runs on every page on the way.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in
from tests.smtp import SmtpServer, smtp_server

__all__ = ["smtp_server"]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = "Reading tutors from the literacy charity"


def open_task(page: Page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    assert_accessible(page)


def question(page: Page, number: int):
    return page.get_by_role("group", name=re.compile(rf"^{number}\. "))


def draft_and_screen(page: Page, base_url: str, staff) -> str:
    sign_in(page, base_url, staff, PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Proposals").click()
    assert_accessible(page)
    page.get_by_role("button", name="Start a proposal").click()
    assert_accessible(page)

    # Step 1, first without saying why personal data is needed: the form asks for it.
    page.get_by_label(re.compile("^What is the name of the project")).fill(NAME)
    page.get_by_label("What is the purpose of the project?").select_option(
        label="Other (describe the purpose)"
    )
    page.get_by_label("Describe the purpose").fill("A weekly reading tutor for pupils behind.")
    page.get_by_role(
        "group", name="Could the goal be achieved without sharing personal data?"
    ).get_by_label("No").check()
    page.get_by_role("button", name="Start the proposal").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#id_why_personal_data_error")).to_contain_text("Explain why")
    assert_accessible(page)
    expect(page.get_by_label("Describe the purpose")).to_have_value(
        "A weekly reading tutor for pupils behind."
    )
    page.get_by_label(re.compile("^Why does the personal data need to be shared")).fill(
        "Tutors meet each pupil, so they need the name, year group and reading age."
    )
    page.get_by_role("button", name="Start the proposal").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(NAME)
    assert_accessible(page)
    reference = page.get_by_text(re.compile(r"PROP-\d{4}-\d{4}")).first.inner_text()
    reference = re.search(r"PROP-\d{4}-\d{4}", reference).group(0)  # type: ignore[union-attr]

    # Step 2: pseudonymisation considered, but it does not meet the goal.
    open_task(page, "Anonymisation or pseudonymisation considered")
    page.get_by_label("Pseudonymisation", exact=True).check()
    page.get_by_label("What did you consider, and why?").fill("Tutors meet the pupils in person.")
    page.get_by_role("group", name=re.compile("meet the goal")).get_by_label("No").check()
    page.get_by_role("button", name="Save").click()
    assert_accessible(page)

    # Step 3: the screening questions, special category data and combined sources.
    open_task(page, "Privacy impact screening questions")
    page.get_by_label(re.compile(r"^3\. What information will be shared")).fill(
        "Name, year group, reading age and any SEND support plan."
    )
    page.get_by_label(re.compile("Special educational needs")).check()
    question(page, 4).get_by_label("Yes").check()
    page.get_by_label(re.compile("^Which special category data")).fill("SEND support plans.")
    question(page, 5).get_by_label("Partly").check()
    page.get_by_label(re.compile("^Eastmoor Council")).check()
    for number in (7, 8, 9):
        question(page, number).get_by_label("No").check()
    question(page, 10).get_by_label("Yes").check()
    page.get_by_label(re.compile("^Which sources")).fill(
        "The school's records and the charity's reading assessments."
    )
    page.get_by_role("button", name="Save and continue").click()
    assert_accessible(page)
    page.get_by_role("button", name="Send to the DPO").click()
    expect(page.get_by_text("Screening submitted")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()
    return reference


def assess_and_advise(page: Page, base_url: str, dpo, reference: str) -> None:
    sign_in(page, base_url, dpo, PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Proposals").click()
    page.get_by_role("link", name=reference).click()
    assert_accessible(page)
    open_task(page, "DPO assessment: is a full PIA needed?")
    expect(page.get_by_text("It shares special category data (question 4).")).to_be_visible()
    expect(page.get_by_text(re.compile("combines or matches data"))).to_be_visible()
    page.get_by_label("Full PIA mandatory").check()
    page.get_by_label("Reasons for your assessment").fill(
        "Special category data, combined with the charity's own assessments."
    )
    page.get_by_role("button", name="Save the assessment").click()
    assert_accessible(page)

    open_task(page, "Full privacy impact assessment (PIA)")
    page.get_by_label("Description of the processing").fill(
        "A termly list goes to the charity by secure transfer; tutors keep it a term."
    )
    page.get_by_label("Necessity and proportionality").fill(
        "Only pupils in the programme; only what tutors need."
    )
    page.get_by_label("Who was consulted").fill("The SENCO, the charity and the parents' forum.")
    page.get_by_role("button", name="Save and add a risk").click()
    assert_accessible(page)
    add_risk(
        page,
        description="A tutor loses a printed list.",
        source="Paper copies",
        likelihood="Probable",
        severity="Significant",
        effect="Reduced",
        residual=("Remote", "Significant"),
    )
    page.get_by_role("link", name="Add a risk").click()
    add_risk(
        page,
        description="SEND details seen by tutors who do not need them.",
        source="The charity's shared drive",
        likelihood="Possible",
        severity="Severe",
        effect="Accepted",
        residual=None,
    )
    matrix_before = page.get_by_role("table", name="Before measures")
    expect(matrix_before).to_contain_text("R1")
    expect(matrix_before).to_contain_text("R2")
    assert_accessible(page)
    page.get_by_role("link", name="Submit the PIA for the DPO's advice").click()
    assert_accessible(page)
    page.get_by_role("button", name="Submit the PIA for the DPO's advice").click()
    assert_accessible(page)

    open_task(page, "DPO advice on the full PIA")
    page.get_by_label("Do not proceed").check()
    page.get_by_label("Your advice").fill(
        "The SEND risk is only accepted, not reduced: do not proceed until it is."
    )
    page.get_by_role("button", name="Give your advice").click()
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()


def add_risk(
    page: Page,
    *,
    description: str,
    source: str,
    likelihood: str,
    severity: str,
    effect: str,
    residual: tuple[str, str] | None,
) -> None:
    assert_accessible(page)
    page.get_by_label("The risk to individuals").fill(description)
    page.get_by_label("Source of the risk").fill(source)
    page.get_by_role("group", name="How likely is the harm?").get_by_label(likelihood).check()
    page.get_by_role("group", name="How severe would the harm be?").get_by_label(severity).check()
    page.get_by_label("Measures to reduce or eliminate the risk").fill("Secure transfer only.")
    page.get_by_label(effect, exact=True).check()
    if residual is not None:
        residual_likelihood, residual_severity = residual
        page.get_by_role("group", name="Likelihood after the measures").get_by_label(
            residual_likelihood
        ).check()
        page.get_by_role("group", name="Severity after the measures").get_by_label(
            residual_severity
        ).check()
    page.get_by_role("button", name="Add the risk").click()


def decide_against_advice(page: Page, base_url: str, headteacher, reference: str) -> bytes:
    sign_in(page, base_url, headteacher, PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Proposals").click()
    page.get_by_role("link", name=reference).click()
    open_task(page, "Decision by the headteacher or chair")
    page.get_by_label("Approve with conditions").check()
    page.get_by_label("Reasons for your decision").fill("The tutoring is pupils' best chance.")
    page.get_by_label("Conditions", exact=True).fill(
        "Tutors see SEND details only for their own pupils."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#id_override_reasons_error")).to_contain_text("against the DPO")
    assert_accessible(page)
    page.get_by_label("Reasons for going against the DPO's advice").fill(
        "The condition narrows the accepted risk enough to start this term."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.get_by_text("Approved with conditions").first).to_be_visible()
    expect(page.get_by_text(re.compile("overrides the DPO's advice")).first).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PIA report (PDF)").click()
    with open(download.value.path(), "rb") as handle:
        return handle.read()


def test_a_proposal_is_drafted_assessed_advised_and_decided_against_the_advice(
    page: Page, live_server, world, smtp_server: SmtpServer, console_errors
):
    school = world.school
    staff, dpo, headteacher = school["staff"], school["dpo"], school["headteacher"]

    reference = draft_and_screen(page, live_server.url, staff)
    assert smtp_server.subjects_to(dpo.email) == [
        f"Sharing proposal {reference} needs your assessment"
    ]
    assert smtp_server.to(world.trust_dpo.email), "the trust's DPO of the school is told too"

    assess_and_advise(page, live_server.url, dpo, reference)
    assessed = f"Sharing proposal {reference} has been assessed by the DPO"
    assert assessed in smtp_server.subjects_to(staff.email)
    ready = f"Sharing proposal {reference} is ready for your decision"
    assert ready in smtp_server.subjects_to(headteacher.email)
    assert ready in smtp_server.subjects_to(school["chair"].email)

    pdf = decide_against_advice(page, live_server.url, headteacher, reference)
    decided = f"Sharing proposal {reference} has been decided: approved with conditions"
    assert decided in smtp_server.subjects_to(staff.email)
    assert decided in smtp_server.subjects_to(dpo.email)
    link = f"{reference}/"
    assert all(link in message.body for message in smtp_server.received)

    text = " ".join(page_.extract_text() for page_ in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    for expected in (
        reference,
        NAME,
        "Does the project/data processing combine or match personal data from multiple sources?",
        "Full PIA mandatory",
        "A tutor loses a printed list.",
        "Do not proceed",
        "Approved with conditions",
        "The condition narrows the accepted risk enough to start this term.",
    ):
        assert expected in text, expected
    assert console_errors == []
