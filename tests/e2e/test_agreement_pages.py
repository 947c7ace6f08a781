"""axe-core on every agreement and information asset page the walk in test_agreements.py
does not visit, each in the states people meet it in, its error states included.

The agreements are brought to the state each page needs through the real
services (tests/agreements/drafts.py); the browser visits, as a person who
may, only the pages it checks. On each it runs axe-core and checks one thing
people rely on there: the heading, the message beside the field, the refusal.
Where a form is sent back with errors, the test also checks that nothing
typed is lost, that nothing changed, and that each link of the error summary
leads to its field.

The first test is the member of staff who drafts (a DPA started, its
checklist, content and parties; an advised agreement taken back to draft,
then withdrawn), then the headteacher (approval of a DPA whose checklist is
not settled refused; a termination and a confirmation of the data's fate
sent back for what they lack; the approval of their own draft refused, with
the reason). The second is the information manager who
keeps the registers: a review that amends, both versions once version 2 is
approved, a signature and a signed copy refused, the register filtered to
one row and to none, and the information asset register.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from infoshare.agreements import services
from infoshare.agreements.models import Agreement, Article28, Kind, Party, PartyRole, Status
from infoshare.agreements.services import ClauseAnswers, PartyAnswers
from infoshare.core.models import LawfulBasis
from infoshare.governance import services as asset_services
from infoshare.governance.services import AssetAnswers
from tests.agreements import drafts
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_accessible, sign_in

if TYPE_CHECKING:
    from infoshare.core.models import User
    from infoshare.governance.models import InformationAsset

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COUNCIL = "Eastmoor Council"
ADVICE = "Clear and proportionate; name the portal's retention."
# The DPA whose checklist is left part-done: (g) and (h) are neither present nor justified.
SETTLED_POINTS = ("a", "b", "c", "d", "e", "f")


@pytest.fixture
def uploads(settings: Any, tmp_path: Path) -> Path:
    """Anything the application stores of an upload goes to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- helpers ----------------------------------------------------------------------------


def address(base_url: str, name: str, agreement: Agreement, **kwargs: Any) -> str:
    path = reverse(
        f"agreements:{name}",
        kwargs={"org": agreement.organisation.slug, "reference": agreement.reference, **kwargs},
    )
    return f"{base_url}{path}"


def typed(day: datetime.date) -> str:
    """A date as people type it into the date fields: day/month/year."""
    return f"{day.day}/{day.month}/{day.year}"


def fresh(agreement: Agreement) -> Agreement:
    return Agreement.objects.get(pk=agreement.pk)


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def status_tag(page: Page) -> Locator:
    return page.locator("#status .govuk-tag")


def expect_error_summary(page: Page) -> None:
    """The error summary shows, and each of its links leads to something on the page
    (the field, or the first of its radios), as a keyboard or screen reader user follows it."""
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    links = page.locator(".govuk-error-summary__list a")
    assert links.count() > 0
    for href in links.evaluate_all("links => links.map(link => link.getAttribute('href'))"):
        assert href.startswith("#"), href
        assert page.locator(f"[id='{href[1:]}']").count() == 1, href


def as_person(page: Page, base_url: str, user: User) -> None:
    """Whoever was signed in is forgotten, and `user` signs in."""
    page.context.clear_cookies()
    sign_in(page, base_url, user, PASSWORD)


def open_from_register(page: Page, reference: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements").click()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.locator(".govuk-caption-l").first).to_contain_text(reference)


def point_group(page: Page, point: str) -> Locator:
    """The radios of one Article 28(3) point, found by their legend as people read it."""
    return page.get_by_role("group", name=Article28(point).label)


# --- Agreements in the states the pages need, through the real services --------------------


def advised_isa(world: Any) -> Agreement:
    school = world.school
    return drafts.advised(
        school.organisation,
        school["staff"],
        school["dpo"],
        world.local_authority,
        title="Reading support with the council's tutors",
    )


def approved_isa(world: Any, **changes: Any) -> Agreement:
    school = world.school
    return drafts.approved(
        school.organisation,
        school["staff"],
        school["dpo"],
        school["headteacher"],
        world.local_authority,
        **changes,
    )


def dpa_with_checklist_unsettled(world: Any) -> Agreement:
    """A DPA drafted by staff and advised on, whose points (g) and (h) are still open."""
    school = world.school
    staff = school["staff"]
    agreement = services.create_agreement(
        school.organisation,
        actor=staff,
        kind=Kind.DPA,
        content=drafts.content(title="Attendance analysis by the council's data team"),
        parties=[PartyAnswers(world.local_authority, PartyRole.PROCESSOR)],
    )
    answers = [
        ClauseAnswers(point, True, clause_reference=f"Clause {number}")
        for number, point in enumerate(SETTLED_POINTS, start=1)
    ] + [ClauseAnswers(point, None) for point in ("g", "h")]
    services.set_dpa_clauses(agreement, actor=staff, answers=answers)
    services.request_advice(agreement, actor=staff)
    return services.advise_on_agreement(agreement, actor=school["dpo"], advice=ADVICE)


def pupil_records(world: Any) -> InformationAsset:
    school = world.school
    return asset_services.create_asset(
        school.organisation,
        actor=school["information_manager"],
        answers=AssetAnswers(
            name="Pupil records in the MIS",
            owner="Business manager",
            system_or_location="MIS",
            retention_period="Date of birth + 25 years",
            lawful_basis=LawfulBasis.objects.get(code="public-task"),
        ),
    )


def isa_under_review(world: Any, asset: InformationAsset) -> Agreement:
    """An ISA naming `asset`, approved, with a review opened by the information manager."""
    agreement = approved_isa(world, assets=[asset])
    return drafts.under_review(agreement, world.school["information_manager"])


def version_2_approved(world: Any, agreement: Agreement, asset: InformationAsset) -> None:
    """The information manager drafts version 2 (a new portal), the DPO advises, the
    headteacher approves it."""
    school = world.school
    keeper = school["information_manager"]
    agreement = fresh(agreement)
    services.update_content(
        agreement,
        actor=keeper,
        content=drafts.content(
            method="Sent through the council's new data exchange.", assets=[asset]
        ),
    )
    services.request_advice(agreement, actor=keeper)
    services.advise_on_agreement(agreement, actor=school["dpo"], advice="Fine.")
    services.approve_agreement(agreement, actor=school["headteacher"])


# --- Drafting: a DPA started, its checklist and parties; revise, withdraw; approval refused --


def staff_starts_a_dpa(page: Page) -> str:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements").click()
    page.get_by_role("button", name="Draft a new agreement").click()
    expect(heading(page)).to_have_text("Start an agreement")
    assert_accessible(page)
    page.get_by_label("Title").fill("Cashless catering with the council")
    page.get_by_role("button", name="Start the draft").click()
    expect_error_summary(page)
    expect(page.locator("#id_kind_error")).to_contain_text("Choose the kind of agreement.")
    expect(page.get_by_label("Title")).to_have_value("Cashless catering with the council")
    assert_accessible(page)

    page.get_by_label("Data processing agreement", exact=True).check()
    page.get_by_role("button", name="Start the draft").click()
    expect(heading(page)).to_have_text("Cashless catering with the council")
    expect(status_tag(page)).to_have_text("Draft")
    caption = page.locator(".govuk-caption-l").first
    expect(caption).to_contain_text("Data processing agreement")
    # A new DPA's checklist is not answered yet, and says so.
    expect(page.locator("#unsettled")).to_contain_text("Not settled yet")
    assert_accessible(page)
    reference = re.search(r"DPA-\d{4}-\d{4}", caption.inner_text())
    assert reference is not None
    return reference.group(0)


def staff_saves_a_point_without_its_clause(page: Page, dpa: Agreement) -> None:
    page.get_by_role("link", name="Complete the checklist").click()
    expect(heading(page)).to_have_text("Article 28(3) checklist")
    assert_accessible(page)
    point_group(page, "a").get_by_label("Present in the contract").check()
    point_group(page, "b").get_by_label("Present in the contract").check()
    point_group(page, "b").get_by_label("Where in the contract?").fill("Clause 4.2")
    page.get_by_role("button", name="Save the checklist").click()

    expect_error_summary(page)
    expect(page.locator("#id_clause_a_error")).to_contain_text(
        "Give the clause where point (a) is found."
    )
    # What was typed is kept, and nothing was saved.
    expect(point_group(page, "a").get_by_label("Present in the contract")).to_be_checked()
    expect(point_group(page, "b").get_by_label("Where in the contract?")).to_have_value(
        "Clause 4.2"
    )
    assert dpa.clauses.get(point="b").present is None
    assert_accessible(page)
    page.get_by_role("link", name=f"Back to {dpa.reference}").click()


def staff_opens_the_dpas_content(page: Page, dpa: Agreement) -> None:
    """A DPA's content asks, as an ISA's does not, about sub-processors and transfers."""
    page.get_by_role("link", name="Change the content").click()
    expect(heading(page)).to_have_text("Change the content")
    expect(page.get_by_label("Sub-processors")).to_be_visible()
    expect(page.get_by_label("International transfers")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=f"Back to {dpa.reference}").click()


def staff_adds_then_removes_the_processor(page: Page) -> None:
    page.get_by_role("link", name="Add a party").click()
    expect(heading(page)).to_have_text("Add a party")
    assert_accessible(page)
    page.get_by_role("button", name="Add the party").click()
    expect_error_summary(page)
    expect(page.locator("#id_organisation_error")).to_contain_text("Choose the organisation.")
    expect(page.locator("#id_role_error")).to_contain_text("Choose the party's role.")
    assert_accessible(page)

    page.get_by_label("Organisation").select_option(label=f"{COUNCIL} (local authority)")
    page.get_by_label("Processor", exact=True).check()
    page.get_by_role("button", name="Add the party").click()
    expect(page.get_by_text(f"{COUNCIL} added as a party.")).to_be_visible()
    parties = page.get_by_role("table", name=re.compile("organisations party to"))
    expect(parties.get_by_role("row", name=re.compile(COUNCIL))).to_contain_text("Processor")

    page.get_by_role("link", name=f"Remove {COUNCIL}").click()
    expect(heading(page)).to_have_text(f"Remove {COUNCIL} from the parties?")
    assert_accessible(page)
    page.get_by_role("button", name="Remove the party").click()
    expect(page.get_by_text(f"{COUNCIL} is no longer a party.")).to_be_visible()
    expect(parties).not_to_contain_text(COUNCIL)


def staff_is_shown_what_is_missing_before_advice(page: Page, base_url: str, dpa: Agreement) -> None:
    # The agreement's page offers no button while gaps remain: the address is typed, or an
    # old link followed.
    page.goto(address(base_url, "request_advice", dpa))
    expect(heading(page)).to_have_text("Ask the DPO for advice")
    gaps = page.locator("#gaps")
    expect(gaps).to_contain_text("Say what the sharing is for.")
    expect(gaps).to_contain_text("A data processing agreement needs the processor as a party.")
    expect(page.get_by_role("button", name="Ask the DPO for advice")).to_have_count(0)
    assert_accessible(page)


def staff_takes_it_back_to_draft_then_withdraws_it(
    page: Page, base_url: str, agreement: Agreement
) -> None:
    page.goto(address(base_url, "detail", agreement))
    page.get_by_role("link", name="Take it back to draft").click()
    expect(heading(page)).to_have_text("Take it back to draft?")
    expect(page.locator("#dpo-advice")).to_have_text(agreement.advice)
    assert_accessible(page)
    page.get_by_role("button", name="Take it back to draft").click()
    expect(page.get_by_text(f"{agreement.reference} is back in draft.")).to_be_visible()
    expect(status_tag(page)).to_have_text("Draft")

    page.get_by_role("link", name="Withdraw this agreement").click()
    expect(heading(page)).to_have_text("Withdraw this agreement")
    assert_accessible(page)
    page.get_by_role("button", name="Withdraw the agreement").click()
    expect_error_summary(page)
    expect(page.locator("#id_reasons_error")).to_contain_text(
        "Give the reason for withdrawing the agreement."
    )
    assert fresh(agreement).status == Status.DRAFT
    assert_accessible(page)
    page.get_by_label("Why are you withdrawing this agreement?").fill(
        "The council found a volunteer scheme instead."
    )
    page.get_by_role("button", name="Withdraw the agreement").click()
    expect(page.get_by_text(f"{agreement.reference} is withdrawn.")).to_be_visible()
    expect(status_tag(page)).to_have_text("Withdrawn")
    expect(page.locator("#withdrawn-reasons")).to_have_text(
        "The council found a volunteer scheme instead."
    )
    assert_accessible(page)


def headteacher_is_refused_approval_of_the_unsettled_dpa(page: Page, dpa: Agreement) -> None:
    open_from_register(page, dpa.reference)
    page.get_by_role("link", name="Approve the agreement").click()
    expect(heading(page)).to_have_text(f"Approve {dpa.title}")
    refusal = "Article 28(3) points (g), (h) are neither present in the contract nor justified."
    expect(page.locator("#approval-gaps")).to_contain_text(refusal)
    assert_accessible(page)
    page.get_by_label("Notes (optional)").fill("Approved as advised.")
    page.get_by_role("button", name="Approve the agreement").click()

    expect_error_summary(page)
    expect(page.locator("#approval_error")).to_contain_text(refusal)
    expect(page.get_by_label("Notes (optional)")).to_have_value("Approved as advised.")
    assert fresh(dpa).status == Status.ADVISED
    assert_accessible(page)


def headteacher_is_told_someone_else_must_approve_their_own_draft(
    page: Page, base_url: str, agreement: Agreement
) -> None:
    open_from_register(page, agreement.reference)
    refused = "You drafted this version, so someone else must approve it"
    expect(page.locator("#approve-refused")).to_contain_text(refused)
    expect(page.get_by_role("link", name="Approve the agreement")).to_have_count(0)
    # An old link, or the address typed: refused (403), with the reason rather than a bare "no".
    response = page.goto(address(base_url, "approve", agreement))
    assert response is not None
    assert response.status == 403
    expect(heading(page)).to_have_text(f"Someone else must approve {agreement.reference}")
    expect(page.locator("#refused-because")).to_contain_text(refused)
    assert fresh(agreement).status == Status.ADVISED
    assert_accessible(page)


def headteacher_is_told_what_termination_needs(
    page: Page, agreement: Agreement, council: Party
) -> None:
    open_from_register(page, agreement.reference)
    page.get_by_role("link", name="Terminate the agreement").click()
    expect(heading(page)).to_have_text("Terminate the agreement")
    page.get_by_label("Why is the agreement being terminated?").fill(
        "The council's inclusion team has closed."
    )
    page.get_by_role("button", name="Terminate the agreement").click()

    expect_error_summary(page)
    expect(page.locator(f"#id_party_{council.uuid}_error")).to_contain_text(
        f"Record who agreed for {COUNCIL}, and when."
    )
    expect(page.get_by_label("Why is the agreement being terminated?")).to_have_value(
        "The council's inclusion team has closed."
    )
    assert fresh(agreement).status == Status.APPROVED
    assert_accessible(page)


def headteacher_is_told_what_confirming_the_data_needs(page: Page, agreement: Agreement) -> None:
    open_from_register(page, agreement.reference)
    page.get_by_role("link", name="Confirm what happened to the data").click()
    expect(heading(page)).to_have_text("Confirm what happened to the data")
    page.get_by_label("Details (optional)").fill("The council's letter is on file.")
    page.get_by_role("button", name="Confirm and mark the agreement expired").click()

    expect_error_summary(page)
    expect(page.locator("#id_fate_error")).to_contain_text(
        "Say whether the data was returned or destroyed."
    )
    expect(page.locator("#id_on_error")).to_contain_text(
        "Give the date the data was returned or destroyed."
    )
    expect(page.get_by_label("Details (optional)")).to_have_value(
        "The council's letter is on file."
    )
    assert fresh(agreement).status == Status.TERMINATED
    assert_accessible(page)


def test_the_drafting_approval_and_ending_pages_and_their_errors_are_accessible(
    page: Page, live_server, world, console_errors
):
    school = world.school
    to_revise = advised_isa(world)
    unsettled = dpa_with_checklist_unsettled(world)
    in_force = approved_isa(world)
    ended = drafts.terminated(approved_isa(world), school["headteacher"])
    their_own = drafts.advised(
        school.organisation, school["headteacher"], school["dpo"], world.local_authority
    )

    as_person(page, live_server.url, school["staff"])
    reference = staff_starts_a_dpa(page)
    started = Agreement.objects.get(organisation=school.organisation, reference=reference)
    assert started.kind == Kind.DPA
    staff_saves_a_point_without_its_clause(page, started)
    staff_opens_the_dpas_content(page, started)
    staff_adds_then_removes_the_processor(page)
    staff_is_shown_what_is_missing_before_advice(page, live_server.url, started)
    staff_takes_it_back_to_draft_then_withdraws_it(page, live_server.url, to_revise)

    as_person(page, live_server.url, school["headteacher"])
    headteacher_is_refused_approval_of_the_unsettled_dpa(page, unsettled)
    council = in_force.parties.get(organisation=world.local_authority)
    headteacher_is_told_what_termination_needs(page, in_force, council)
    headteacher_is_told_what_confirming_the_data_needs(page, ended)
    headteacher_is_told_someone_else_must_approve_their_own_draft(page, live_server.url, their_own)
    # The refusal page was answered with 403, which the browser reports; nothing else.
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]


# --- Keeping the registers: a review that amends, versions, the register, the assets -------


def keeper_records_a_review_that_amends(page: Page, agreement: Agreement) -> None:
    open_from_register(page, agreement.reference)
    page.get_by_role("link", name="Record the review").click()
    expect(heading(page)).to_have_text("Record the review")
    for question in (
        "Are the scope and purpose still relevant, and has the scope not slipped?",
        "Are the benefits to the data subjects being realised?",
        "Has every element of the agreement been checked and complied with?",
    ):
        page.get_by_role("group", name=question).get_by_label("Yes").check()
    page.get_by_role(
        "group", name="Have legislation or practice in public sector data sharing changed?"
    ).get_by_label("No").check()
    page.get_by_label("Amend it").check()
    page.get_by_role("button", name="Record the review").click()

    expect_error_summary(page)
    expect(page.locator("#id_outcome_reasons_error")).to_contain_text(
        "Give the reasons for amending or terminating it."
    )
    expect(page.get_by_label("Amend it")).to_be_checked()
    assert fresh(agreement).version == 1
    assert_accessible(page)

    page.get_by_label("Reasons").fill("The council is replacing its portal with a data exchange.")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text("Version 2 is now a draft for you to amend")).to_be_visible()
    expect(page.locator("#amendment")).to_contain_text(
        "Version 1 stays in force until version 2 is approved."
    )
    assert_accessible(page)


def keeper_reads_both_versions(page: Page, agreement: Agreement) -> None:
    open_from_register(page, agreement.reference)
    versions = page.get_by_role("table", name=re.compile("Each approved version"))
    versions.get_by_role("link", name="View version 1").click()
    expect(heading(page)).to_have_text("Version 1")
    expect(page.locator("#version-status")).to_have_text("Replaced by a later version")
    expect(page.locator("#content")).to_contain_text(
        "Uploaded each week to the local authority's secure portal."
    )
    assert_accessible(page)

    page.get_by_role("link", name=f"Back to {agreement.reference}").click()
    versions.get_by_role("link", name="View version 2").click()
    expect(heading(page)).to_have_text("Version 2")
    expect(page.get_by_role("heading", name="What changed from version 1")).to_be_visible()
    changed = page.get_by_role("table", name=re.compile("Each change from version 1"))
    row = changed.get_by_role("row", name=re.compile("How it is shared"))
    expect(row).to_contain_text("Uploaded each week to the local authority's secure portal.")
    expect(row).to_contain_text("Sent through the council's new data exchange.")
    expect(page.locator("#amendment-reasons")).to_have_text(
        "The council is replacing its portal with a data exchange."
    )
    assert_accessible(page)


def keeper_is_told_what_is_wrong_with_a_signature_and_a_signed_copy(
    page: Page, agreement: Agreement
) -> None:
    page.get_by_role("link", name=f"Back to {agreement.reference}").click()
    page.get_by_role("link", name=f"Record signature for {COUNCIL}").click()
    expect(heading(page)).to_have_text(f"Who signed for {COUNCIL}?")
    page.get_by_label("Name of the person who signed").fill("Kim Officer")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.get_by_label("Date signed").fill(typed(tomorrow))
    page.get_by_role("button", name="Save the signature").click()

    expect_error_summary(page)
    expect(page.locator("#id_signatory_role_error")).to_contain_text(
        "Give their role, like 'Headteacher'."
    )
    expect(page.locator("#id_signed_on_error")).to_contain_text(
        "The date signed must be today or in the past."
    )
    expect(page.get_by_label("Name of the person who signed")).to_have_value("Kim Officer")
    assert not fresh(agreement).parties.filter(signatory_name="Kim Officer").exists()
    assert_accessible(page)

    page.get_by_role("link", name=f"Back to {agreement.reference}").click()
    page.get_by_role("link", name="Upload the signed copy").click()
    expect(heading(page)).to_have_text("Upload the signed copy of version 2")
    page.get_by_label("The signed copy (PDF)").set_input_files(
        {"name": "signed.pdf", "mimeType": "application/pdf", "buffer": b"Not a PDF at all."}
    )
    page.get_by_role("button", name="Upload the signed copy").click()
    expect_error_summary(page)
    expect(page.locator("#id_signed_copy_error")).to_contain_text("The file must be a PDF.")
    assert not fresh(agreement).signed_copy
    assert_accessible(page)


def keeper_filters_the_register(page: Page, isa: Agreement, dpa: Agreement) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agreements").click()
    expect(heading(page)).to_have_text("Agreements register")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("Kind").select_option(label="Information sharing agreement")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#result-count")).to_have_text("1 agreement matching the filters.")
    register = page.get_by_role("table", name=re.compile("Agreements of"))
    expect(register.get_by_role("link", name=isa.reference, exact=True)).to_be_visible()
    expect(register.get_by_role("link", name=dpa.reference, exact=True)).to_have_count(0)
    assert_accessible(page)

    page.get_by_label("Search", exact=True).fill("greenhouse")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="No agreements match these filters")).to_be_visible()
    expect(page.get_by_label("Search", exact=True)).to_have_value("greenhouse")
    assert_accessible(page)

    # A bookmarked register whose party is no longer one: said beside the filter.
    page.goto(f"{page.url.split('?')[0]}?party=northbridge")
    expect_error_summary(page)
    expect(page.locator("#id_party_error")).to_contain_text("Select a party from the list")
    assert_accessible(page)


def keeper_reads_the_asset_register(page: Page, asset: InformationAsset, isa: Agreement) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Information assets"
    ).click()
    expect(heading(page)).to_have_text("Information asset register")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=asset.name, exact=True))
    expect(row).to_contain_text("2 agreements")
    expect(row).to_contain_text(f"Processors: {COUNCIL}")
    assert_accessible(page)

    row.get_by_role("link", name=asset.name, exact=True).click()
    expect(heading(page)).to_have_text(asset.name)
    concerning = page.get_by_role("table", name=f"Agreements that concern {asset.name}")
    expect(concerning.get_by_role("link", name=isa.reference)).to_be_visible()
    processors = page.get_by_role("table", name=f"Processors that handle {asset.name}")
    expect(processors).to_contain_text(COUNCIL)
    assert_accessible(page)


def keeper_adds_changes_and_retires_an_asset(page: Page) -> None:
    page.get_by_role("link", name="Back to the information asset register").click()
    page.get_by_role("button", name="Add an information asset").click()
    expect(heading(page)).to_have_text("Add an information asset")
    assert_accessible(page)
    page.get_by_label("Name of the information asset").fill("Catering till records")
    page.get_by_label("Information asset owner").fill("Business manager")
    page.get_by_role("button", name="Add the asset").click()

    expect_error_summary(page)
    expect(page.locator("#id_system_or_location_error")).to_contain_text(
        "Enter the system or place where the information is kept."
    )
    expect(page.locator("#id_retention_period_error")).to_contain_text(
        "Enter how long the information is kept."
    )
    expect(page.get_by_label("Name of the information asset")).to_have_value(
        "Catering till records"
    )
    assert_accessible(page)
    page.get_by_label("System or location").fill("Tillpoint cashless catering")
    page.get_by_role("group", name="Does the asset hold special category data?").get_by_label(
        "Yes"
    ).check()
    page.get_by_label("Biometric (for example, fingerprints for cashless catering)").check()
    page.get_by_label("Lawful basis for holding it").select_option(label="6(1)(e): Public task")
    page.get_by_label("Retention period").fill("Until the pupil leaves, then 1 month")
    page.get_by_role("button", name="Add the asset").click()
    expect(
        page.get_by_text("Catering till records is on the information asset register.")
    ).to_be_visible()
    expect(heading(page)).to_have_text("Catering till records")
    assert_accessible(page)

    page.get_by_role("button", name="Change the details").click()
    expect(heading(page)).to_have_text("Change Catering till records")
    expect(page.get_by_label("Information asset owner")).to_have_value("Business manager")
    assert_accessible(page)
    page.get_by_label("Information asset owner").fill("Catering manager")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("The details of Catering till records are saved.")).to_be_visible()

    page.get_by_role("button", name="Retire this asset").click()
    expect(heading(page)).to_have_text("Retire this information asset")
    assert_accessible(page)
    page.get_by_role("button", name="Retire the asset").click()
    expect_error_summary(page)
    expect(page.locator("#id_reasons_error")).to_contain_text("Explain why the asset is retired.")
    assert_accessible(page)
    page.get_by_label("Why is this asset retired?").fill(
        "The school moved to card payments; the supplier deleted the fingerprints."
    )
    page.get_by_role("button", name="Retire the asset").click()
    expect(page.get_by_text("Catering till records is retired.")).to_be_visible()
    expect(page.locator("#retired")).to_contain_text("the supplier deleted the fingerprints")
    assert_accessible(page)


def test_the_keepers_pages_review_versions_register_and_assets_are_accessible(
    page: Page, live_server, world, console_errors, uploads: Path
):
    school = world.school
    asset = pupil_records(world)
    isa = isa_under_review(world, asset)
    # A draft DPA naming the asset, so its page lists the council as a processor.
    dpa = drafts.drafted(
        school.organisation, school["staff"], world.local_authority, kind=Kind.DPA, assets=[asset]
    )

    as_person(page, live_server.url, school["information_manager"])
    keeper_records_a_review_that_amends(page, isa)
    version_2_approved(world, isa, asset)
    keeper_reads_both_versions(page, isa)
    keeper_is_told_what_is_wrong_with_a_signature_and_a_signed_copy(page, isa)
    keeper_filters_the_register(page, isa, dpa)
    keeper_reads_the_asset_register(page, asset, isa)
    keeper_adds_changes_and_retires_an_asset(page)
    assert console_errors == []
