"""Answers and agreements at each stage, for the agreements tests.

Each stage function takes an agreement one status further through the real
services, so a test starts where it needs to with nothing faked.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from infoshare.agreements import lifecycle, services
from infoshare.agreements.lifecycle import (
    DataFateAnswers,
    PartyConsent,
    ReviewAnswers,
    Signature,
    Termination,
)
from infoshare.agreements.models import Agreement, Article28, DataFate, Kind, PartyRole
from infoshare.agreements.services import ClauseAnswers, Content, PartyAnswers
from infoshare.core.models import DataCategory, LawfulBasis

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User

# The smallest real PDF a parser accepts, for uploads.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_upload(name: str = "signed.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def content(**changes: Any) -> Content:
    answers = Content(
        title="Attendance data for the local authority's inclusion team",
        purpose="To let the inclusion team support pupils whose attendance falls below 90%.",
        lawful_bases=[LawfulBasis.objects.get(code="public-task")],
        legal_basis_details="Education Act 1996, section 437.",
        data_shared="Names, dates of birth, UPNs and weekly attendance figures.",
        categories=list(DataCategory.objects.all()[:2]),
        method="Uploaded each week to the local authority's secure portal.",
        frequency="Weekly",
        security_measures="The portal uses TLS and two-factor sign-in.",
        retention="Until the pupil leaves the school, then one year.",
        return_or_disposal="The council deletes the records and confirms in writing.",
        start_date=timezone.localdate(),
    )
    return replace(answers, **changes)


def clauses_all_present() -> list[ClauseAnswers]:
    return [
        ClauseAnswers(point, True, clause_reference=f"Schedule 2, clause {number}")
        for number, point in enumerate(Article28.values, start=1)
    ]


def review(**changes: Any) -> ReviewAnswers:
    answers = ReviewAnswers(
        scope_still_relevant=True,
        scope_notes="The team still uses the figures weekly.",
        benefits_realised=True,
        benefits_notes="Attendance support reached 14 pupils this year.",
        elements_complied=True,
        compliance_notes="",
        law_or_practice_changed=False,
        law_notes="",
        outcome="continue",
        outcome_reasons="",
    )
    return replace(answers, **changes)


# The stages, in order, each bringing an agreement one status further.
def drafted(
    organisation: Organisation,
    drafter: User,
    other_party: Organisation,
    kind: str = Kind.AGREEMENT,
    **changes: Any,
) -> Agreement:
    role = PartyRole.PROCESSOR if kind == Kind.DPA else PartyRole.CONTROLLER
    agreement = services.create_agreement(
        organisation,
        actor=drafter,
        kind=kind,
        content=content(**changes),
        parties=[PartyAnswers(other_party, role)],
    )
    if kind == Kind.DPA:
        services.set_dpa_clauses(agreement, actor=drafter, answers=clauses_all_present())
    return agreement


def advice_requested(
    organisation: Organisation, drafter: User, other_party: Organisation, **changes: Any
) -> Agreement:
    agreement = drafted(organisation, drafter, other_party, **changes)
    return services.request_advice(agreement, actor=drafter)


def advised(
    organisation: Organisation, drafter: User, dpo: User, other_party: Organisation, **changes: Any
) -> Agreement:
    agreement = advice_requested(organisation, drafter, other_party, **changes)
    return services.advise_on_agreement(
        agreement, actor=dpo, advice="Clear and proportionate; name the portal's retention."
    )


def approved(
    organisation: Organisation,
    drafter: User,
    dpo: User,
    approver: User,
    other_party: Organisation,
    **changes: Any,
) -> Agreement:
    agreement = advised(organisation, drafter, dpo, other_party, **changes)
    return services.approve_agreement(agreement, actor=approver, notes="Approved as advised.")


def under_review(agreement: Agreement, reviewer: User) -> Agreement:
    lifecycle.start_review(agreement, actor=reviewer)
    agreement.refresh_from_db()
    return agreement


def terminated(agreement: Agreement, approver: User) -> Agreement:
    today = timezone.localdate()
    consents = [
        PartyConsent(party, agreed_by=f"Signatory of {party.organisation}", agreed_on=today)
        for party in agreement.parties.all()
    ]
    termination = Termination(
        reasons="The council's inclusion team has closed.",
        disposal_arrangement="The council deletes every record and sends a certificate.",
        consents=consents,
    )
    return lifecycle.terminate_agreement(agreement, actor=approver, termination=termination)


def expired(agreement: Agreement, keeper: User) -> Agreement:
    answers = DataFateAnswers(
        fate=DataFate.DESTROYED,
        on=timezone.localdate() - datetime.timedelta(days=1),
        details="Certificate of destruction received from the council.",
        evidence=pdf_upload("certificate.pdf"),
    )
    return lifecycle.confirm_data_fate(agreement, actor=keeper, answers=answers)


def signed(agreement: Agreement, keeper: User) -> Agreement:
    for party in agreement.parties.all():
        lifecycle.record_signature(
            party,
            actor=keeper,
            signature=Signature(
                f"Signatory of {party.organisation}", "Headteacher", timezone.localdate()
            ),
        )
    return lifecycle.upload_signed_copy(agreement, actor=keeper, upload=pdf_upload())
