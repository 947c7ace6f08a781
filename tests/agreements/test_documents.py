"""The agreement's documents: its PDF ready for signature, and the PDFs uploaded to it.

The PDF is read back with pypdf and its text checked, as a signatory would
read it. The uploaded copies come back exactly as stored, as attachments, to
members of the school only; every download is in the audit trail.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from infoshare.agreements import lifecycle, services
from infoshare.agreements.lifecycle import Signature
from infoshare.agreements.models import Agreement, Kind, PartyRole
from infoshare.agreements.services import ClauseAnswers, content_snapshot
from infoshare.audit.models import AuditEvent
from tests.agreements import drafts
from tests.core.support import assert_chain_intact, changes_of, last_event

if TYPE_CHECKING:
    from django.http import HttpResponse
    from django.test import Client

    from infoshare.core.models import User
    from tests.conftest import World

pytestmark = pytest.mark.django_db

DOWNLOADED = "agreement.document_downloaded"


def url(name: str, agreement: Agreement, slug: str | None = None, **kwargs: Any) -> str:
    return reverse(
        f"agreements:{name}",
        kwargs={
            "org": slug or agreement.organisation.slug,
            "reference": agreement.reference,
            **kwargs,
        },
    )


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    """`text` without whitespace: lines of the PDF break wherever the page is full."""
    return "".join(text.split())


def contains(text: str, phrase: str) -> bool:
    return squeezed(phrase) in squeezed(text)


def body(response: HttpResponse) -> bytes:
    """The streamed file; reading it to the end closes it (the test client's wrapper does)."""
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def download(client: Client, agreement: Agreement) -> str:
    response = client.get(url("document", agreement))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    filename = f"{agreement.reference}-v{agreement.version}.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.content.startswith(b"%PDF")
    return pdf_text(response.content)


def fresh(agreement: Agreement) -> Agreement:
    return Agreement.objects.get(pk=agreement.pk)


def approved(world: World, **changes: Any) -> Agreement:
    school = world.school
    return fresh(
        drafts.approved(
            school.organisation,
            school["staff"],
            school["dpo"],
            school["headteacher"],
            world.local_authority,
            **changes,
        )
    )


def assert_downloaded(agreement: Agreement, actor: User, document: str, version: int) -> None:
    event = last_event(DOWNLOADED)
    assert event.actor == actor
    assert event.object_id == agreement.reference
    assert changes_of(event) == {"document": document, "version": version}
    assert_chain_intact(agreement.organisation)


# --- The agreement as a PDF ----------------------------------------------------------------


def test_the_pdf_shows_every_field_of_the_version_and_who_is_party_to_it(world, client_for):
    agreement = approved(world, legal_basis_details="Education Act 1996, section 437.")
    volunteer = world.school["volunteer"]  # any member of the school may read it
    text = download(client_for(volunteer), agreement)
    assert contains(text, "Alder Primary School")
    assert contains(text, f"Information sharing agreement: {agreement.title}")
    for label, value in [
        ("Reference", agreement.reference),
        ("Kind", "Information sharing agreement"),
        ("Version", "1"),
        ("Status", "Active"),
        ("Next review due", f"{agreement.review_due:%-d %B %Y}"),
    ]:
        assert contains(text, f"{label} {value}"), label
    # Every content field, labelled as the versions label it.
    snapshot = content_snapshot(agreement)
    for label in [
        "Purpose",
        "Lawful basis",
        "Legal basis: details",
        "The data shared",
        "Categories of data",
        "How it is shared",
        "How often",
        "Security measures",
        "How long the data is kept",
        "Return or disposal of the data at the end",
        "Start date",
        "Review interval",
    ]:
        assert snapshot[label], label
        assert contains(text, label), label
        assert contains(text, snapshot[label]), label
    assert contains(text, "Special category conditions Not given")
    # The parties and the role each takes.
    assert contains(text, "Alder Primary School Controller")
    assert contains(text, "Eastmoor Council Controller")
    assert contains(text, "Version 1 was approved and is in force.")
    assert "GOV.UK" not in text


def test_each_party_has_a_signature_block_blank_until_a_signature_is_recorded(world, client_for):
    agreement = approved(world)
    keeper = world.school["information_manager"]
    client = client_for(keeper)
    blank = download(client, agreement)
    assert contains(blank, "Signatures")
    assert contains(blank, "For Alder Primary School (controller) Name Role Signature Date")
    assert contains(blank, "For Eastmoor Council (controller) Name Role Signature Date")
    council = agreement.parties.get(organisation=world.local_authority)
    signed_on = timezone.localdate()
    lifecycle.record_signature(
        council,
        actor=keeper,
        signature=Signature("Priya Shah", "Director of Children's Services", signed_on),
    )
    text = download(client, agreement)
    assert contains(
        text,
        "For Eastmoor Council (controller) Name Priya Shah Role Director of Children's Services "
        f"Signature Signed: recorded in Infoshare Date {signed_on:%-d %B %Y}",
    )
    # The school has not signed yet: its lines stay blank.
    assert contains(text, "For Alder Primary School (controller) Name Role Signature Date")


def test_what_only_some_agreements_have_is_shown_only_when_they_have_it(world, client_for):
    school, staff, la = world.school.organisation, world.school["staff"], world.local_authority
    client = client_for(staff)
    protocol = drafts.drafted(school, staff, la, kind=Kind.PROTOCOL, title="Trust protocol")
    alone = download(client, drafts.drafted(school, staff, la))
    assert not contains(alone, "Sits under")
    assert not contains(alone, "Why the review interval is longer")
    justification = "The data is shared once a year, at the census."
    under = drafts.drafted(
        school,
        staff,
        la,
        parent=protocol,
        review_interval_months=24,
        review_interval_justification=justification,
    )
    text = download(client, under)
    assert contains(text, f"Sits under {protocol.reference} Trust protocol")
    assert contains(text, "Review interval 24 months")
    assert contains(text, f"Why the review interval is longer than 12 months {justification}")


def test_a_draft_says_it_must_not_be_signed_yet(world, client_for):
    staff = world.school["staff"]
    agreement = drafts.drafted(world.school.organisation, staff, world.local_authority)
    text = download(client_for(staff), agreement)
    assert contains(text, "Status Draft")
    assert contains(text, "This is a draft of version 1, not yet approved")
    assert contains(text, "it must not be signed yet.")
    assert not contains(text, "Next review due")


def test_a_dpa_shows_its_article_28_checklist_with_sub_processors_and_transfers(world, client_for):
    school, staff = world.school.organisation, world.school["staff"]
    dpa = services.create_agreement(
        school,
        actor=staff,
        kind=Kind.DPA,
        content=drafts.content(
            title="Cashless catering",
            subprocessors="Hosting by Example Cloud Ltd (UK).",
            international_transfers="Support staff in Ireland, under adequacy regulations.",
        ),
        parties=[services.PartyAnswers(world.dfe, PartyRole.PROCESSOR)],
    )
    answers = drafts.clauses_all_present()
    answers[6] = ClauseAnswers("g", False, justification="The school keeps the only copy.")
    answers[7] = ClauseAnswers("h", None)
    services.set_dpa_clauses(dpa, actor=staff, answers=answers)
    text = download(client_for(world.school["dpo"]), fresh(dpa))
    assert contains(text, "Data processing agreement: Cashless catering")
    assert contains(text, "Department for Education Processor")
    assert contains(text, "Article 28(3) UK GDPR")
    assert contains(
        text,
        "(a) (a) Processes the personal data only on documented instructions from the school "
        "Yes Clause: Schedule 2, clause 1",
    )
    assert contains(text, "Yes Clause: Schedule 2, clause 6")
    assert contains(text, "No Justification: The school keeps the only copy.")
    assert contains(text, "and inspections Not answered yet")
    assert contains(text, "Sub-processors Hosting by Example Cloud Ltd (UK).")
    assert contains(
        text, "International transfers Support staff in Ireland, under adequacy regulations."
    )
    assert contains(text, "For Department for Education (processor)")


def test_an_isa_has_no_checklist_in_its_pdf(world, client_for):
    agreement = approved(world)
    text = download(client_for(world.school["staff"]), agreement)
    assert not contains(text, "Article 28(3)")
    assert not contains(text, "Sub-processors")


def test_an_amendment_renders_as_the_next_version(world, client_for):
    keeper = world.school["information_manager"]
    agreement = drafts.under_review(approved(world), keeper)
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="New portal."),
    )
    services.update_content(
        agreement, actor=keeper, content=drafts.content(method="Through the new data exchange.")
    )
    agreement = fresh(agreement)
    text = download(client_for(keeper), agreement)  # named ...-v2.pdf
    assert contains(text, "Version 2")
    assert contains(text, "Through the new data exchange.")
    assert contains(text, "This is a draft of version 2")
    assert_downloaded(agreement, keeper, "agreement document", 2)


def test_downloading_the_pdf_is_audited(world, client_for):
    agreement = approved(world)
    auditor = world.school["auditor"]
    client = client_for(auditor)  # signing in is an audit event of its own
    before = AuditEvent.objects.count()
    download(client, agreement)
    assert AuditEvent.objects.count() == before + 1
    assert_downloaded(agreement, auditor, "agreement document", 1)


def test_another_schools_people_get_404_and_nothing_is_recorded(world, client_for):
    agreement = approved(world)
    clients = [client_for(user) for user in (world.other["headteacher"], world.other["dpo"])]
    before = AuditEvent.objects.count()
    for client in clients:
        assert client.get(url("document", agreement)).status_code == 404
        # Nor through their own school's address.
        assert client.get(url("document", agreement, slug="birch")).status_code == 404
    assert AuditEvent.objects.count() == before


def test_signing_in_comes_first_and_only_reading_is_allowed(world, client, client_for):
    agreement = approved(world)
    response = client.get(url("document", agreement))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    staff = client_for(world.school["staff"])
    assert staff.post(url("document", agreement)).status_code == 405
    assert staff.post(url("signed_copy", agreement)).status_code == 405


# --- The uploaded PDFs -------------------------------------------------------------------


def assert_attachment(response: HttpResponse, filename: str) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    return body(response)


def test_the_signed_copy_comes_back_as_uploaded_to_any_member(world, client_for):
    keeper = world.school["information_manager"]
    agreement = fresh(drafts.signed(approved(world), keeper))
    for role in ("volunteer", "auditor", "headteacher"):
        user = world.school[role]
        response = client_for(user).get(url("signed_copy", agreement))
        content = assert_attachment(response, f"{agreement.reference}-v1-signed.pdf")
        assert content == drafts.PDF
        assert_downloaded(agreement, user, "signed copy", 1)


def test_no_signed_copy_is_a_404_and_nothing_is_recorded(world, client_for):
    agreement = approved(world)
    client = client_for(world.school["staff"])
    before = AuditEvent.objects.count()
    assert client.get(url("signed_copy", agreement)).status_code == 404
    assert AuditEvent.objects.count() == before


def test_a_signed_copy_gone_from_storage_is_a_404(world, client_for):
    keeper = world.school["information_manager"]
    agreement = fresh(drafts.signed(approved(world), keeper))
    agreement.signed_copy.storage.delete(agreement.signed_copy.name)
    assert client_for(keeper).get(url("signed_copy", agreement)).status_code == 404


def test_another_schools_people_cannot_download_the_uploads(world, client_for):
    keeper = world.school["information_manager"]
    agreement = fresh(drafts.signed(approved(world), keeper))
    expired = fresh(
        drafts.expired(drafts.terminated(approved(world), world.school["chair"]), keeper)
    )
    client = client_for(world.other["information_manager"])
    before = AuditEvent.objects.count()
    assert client.get(url("signed_copy", agreement)).status_code == 404
    assert client.get(url("evidence", expired)).status_code == 404
    assert client.get(url("version_signed_copy", agreement, number=1)).status_code == 404
    assert AuditEvent.objects.count() == before


def test_an_earlier_versions_signed_copy_stays_downloadable(world, client_for):
    keeper = world.school["information_manager"]
    agreement = drafts.under_review(drafts.signed(approved(world), keeper), keeper)
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="New portal."),
    )
    agreement = fresh(agreement)
    client = client_for(world.school["staff"])
    # Version 2 has no signed copy yet; version 1 keeps its own.
    assert client.get(url("signed_copy", agreement)).status_code == 404
    response = client.get(url("version_signed_copy", agreement, number=1))
    content = assert_attachment(response, f"{agreement.reference}-v1-signed.pdf")
    assert content == drafts.PDF
    assert_downloaded(agreement, world.school["staff"], "signed copy", 1)
    # There is no version 2 on file until it is approved, and no version 9 at all.
    assert client.get(url("version_signed_copy", agreement, number=2)).status_code == 404
    assert client.get(url("version_signed_copy", agreement, number=9)).status_code == 404


def test_a_version_filed_without_a_signed_copy_has_none_to_download(world, client_for):
    keeper = world.school["information_manager"]
    agreement = drafts.under_review(approved(world), keeper)  # never signed
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="New portal."),
    )
    response = client_for(keeper).get(url("version_signed_copy", agreement, number=1))
    assert response.status_code == 404


def test_the_disposal_evidence_comes_back_to_any_member(world, client_for):
    keeper = world.school["information_manager"]
    agreement = fresh(
        drafts.expired(drafts.terminated(approved(world), world.school["chair"]), keeper)
    )
    staff = world.school["staff"]
    response = client_for(staff).get(url("evidence", agreement))
    content = assert_attachment(response, f"{agreement.reference}-disposal-evidence.pdf")
    assert content == drafts.PDF
    assert_downloaded(agreement, staff, "disposal evidence", 1)


def test_no_disposal_evidence_is_a_404(world, client_for):
    keeper = world.school["information_manager"]
    agreement = drafts.terminated(approved(world), world.school["chair"])
    client = client_for(keeper)
    assert client.get(url("evidence", agreement)).status_code == 404  # not yet confirmed
    lifecycle.confirm_data_fate(
        agreement,
        actor=keeper,
        answers=lifecycle.DataFateAnswers("returned", timezone.localdate(), "By hand."),
    )
    assert client.get(url("evidence", agreement)).status_code == 404  # confirmed without
