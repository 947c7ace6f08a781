"""Demo agreements for `seed_demo`: one at each stage a school will meet, made through
the services as the school's people would make them.

Every organisation, arrangement and name is made up; no real person appears.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from infoshare.agreements import lifecycle, services
from infoshare.agreements.lifecycle import DataFateAnswers, PartyConsent, Signature, Termination
from infoshare.agreements.models import (
    Agreement,
    Article28,
    DataFate,
    Kind,
    PartyRole,
    add_months,
)
from infoshare.agreements.services import ClauseAnswers, Content, PartyAnswers
from infoshare.core import services as core_services
from infoshare.core.models import (
    DataCategory,
    ExternalKind,
    LawfulBasis,
    Organisation,
    OrganisationKind,
    Role,
    SpecialCategoryCondition,
    User,
)
from infoshare.governance.models import InformationAsset
from infoshare.proposals.demo import members_by_role
from infoshare.proposals.models import APPROVED_STATUSES, Proposal

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Who takes each step: a member of staff drafts, the DPO advises, the headteacher
# approves and terminates (never what they drafted); the information manager, or
# else the DPO, keeps the register.
NEEDED_ROLES = (Role.STAFF, Role.DPO, Role.HEADTEACHER)

# The made-up supplier of the demo's data processing agreement: it runs the cashless
# catering system the information asset register names as a processor's.
SUPPLIER_SLUG = "larkspur-catering"
SUPPLIER_NAME = "Larkspur Catering Ltd"
# The demo information assets (governance/demo.py) the agreements draw on.
PUPIL_RECORDS = "Pupil records in the MIS"
CATERING = "Catering and cashless payment system"


def seed_agreements(organisation: Organisation, people: Mapping[str, User] | None = None) -> None:
    """About six agreements at different stages, unless the organisation has agreements already.

    `people` maps a role to the person who takes its steps; by default the
    organisation's first active member holding each role. The agreements name
    the organisation's information assets (seed them first).
    """
    if Agreement.objects.filter(organisation=organisation).exists():
        return
    people = people or members_by_role(organisation)
    council = _local_authority()
    if any(role not in people for role in NEEDED_ROLES) or council is None:
        return
    cast = _Cast(
        organisation=organisation,
        drafter=people[Role.STAFF],
        dpo=people[Role.DPO],
        head=people[Role.HEADTEACHER],
        keeper=people.get(Role.INFORMATION_MANAGER) or people[Role.DPO],
        council=council,
    )
    protocol = _protocol(cast)
    attendance = _attendance_agreement(cast, protocol)
    _attendance_procedures(cast, attendance)
    _from_approved_proposal(cast)
    _processor_agreement(cast, _supplier())
    _review_overdue(cast)
    _terminated_and_expired(cast)


@dataclass
class _Cast:
    """The school, its people and the council: who the demo agreements are between."""

    organisation: Organisation
    drafter: User
    dpo: User
    head: User
    keeper: User
    council: Organisation
    today: datetime.date = field(default_factory=timezone.localdate)

    def draft(
        self,
        kind: str,
        content: Content,
        parties: Sequence[PartyAnswers],
        *,
        assets: Sequence[str] = (),
        proposal: Proposal | None = None,
    ) -> Agreement:
        linked = replace(content, assets=_assets_named(self.organisation, assets))
        return services.create_agreement(
            self.organisation,
            actor=self.drafter,
            kind=kind,
            content=linked,
            parties=parties,
            proposal=proposal,
        )

    def approve(self, agreement: Agreement) -> Agreement:
        """Through the DPO's advice to the headteacher's approval."""
        services.request_advice(agreement, actor=self.drafter)
        services.advise_on_agreement(
            agreement,
            actor=self.dpo,
            advice="The content is clear and proportionate to the purpose.",
        )
        return services.approve_agreement(agreement, actor=self.head, notes="Approved as advised.")

    def sign(self, agreement: Agreement) -> Agreement:
        """Every party's signature recorded, and the signed copy uploaded."""
        for party in agreement.parties.select_related("organisation"):
            lifecycle.record_signature(
                party,
                actor=self.keeper,
                signature=Signature(
                    signatory_name=f"Signatory for {party.organisation.name}",
                    signatory_role=_signatory_role(party.organisation),
                    signed_on=self.today,
                ),
            )
        copy = _demo_pdf(f"{agreement.reference}: {agreement.title}", "Signed by every party.")
        return lifecycle.upload_signed_copy(
            agreement, actor=self.keeper, upload=SimpleUploadedFile("signed.pdf", copy)
        )


# --- The agreements -----------------------------------------------------------------------


def _protocol(cast: _Cast) -> Agreement:
    """The trust's schools' commitment to shared principles, approved and signed."""
    school = cast.organisation
    partners = list(
        Organisation.objects.filter(parent_id=school.parent_id, kind=OrganisationKind.SCHOOL)
        .exclude(pk=school.pk)
        .order_by("pk")
        if school.parent_id
        else []
    ) or [cast.council]
    name = school.parent.name if school.parent else cast.council.name
    agreement = cast.draft(
        Kind.PROTOCOL,
        Content(
            title=f"{name}: information sharing protocol",
            purpose="The principles and standards the schools follow whenever they share "
            "personal data with one another: sharing only what is needed, lawfully, "
            "securely and with a record of each decision.",
            security_measures="Personal data travels only by secure transfer or encrypted "
            "email; paper copies are never posted; breaches are reported to the DPO within "
            "24 hours.",
            retention="Each school keeps what it receives for no longer than its own "
            "retention schedule allows.",
            start_date=add_months(cast.today, -2),
        ),
        [PartyAnswers(partner, PartyRole.CONTROLLER) for partner in partners],
    )
    return cast.sign(cast.approve(agreement))


def _attendance_agreement(cast: _Cast, protocol: Agreement) -> Agreement:
    """An agreement under the protocol with the council, approved and signed."""
    agreement = cast.draft(
        Kind.AGREEMENT,
        Content(
            title="Attendance and children missing education returns to the council",
            parent=protocol,
            purpose="The council's attendance team follows up pupils whose attendance falls "
            "below 90% and pupils who stop attending without a reason.",
            lawful_bases=[_lawful_basis("legal-obligation")],
            legal_basis_details="Education Act 1996, section 436A; the Education (Pupil "
            "Registration) (England) Regulations 2006, regulation 12.",
            data_shared="Names, dates of birth, UPNs, addresses and weekly attendance figures "
            "of the pupils concerned.",
            categories=[_category("identity-contact"), _category("attendance")],
            method="Uploaded to the council's secure portal.",
            frequency="Weekly, and within 5 school days of a pupil missing 10 days.",
            security_measures="The portal uses TLS and two-factor sign-in; only the "
            "attendance officer uploads.",
            retention="The council keeps the records until the pupil turns 25.",
            return_or_disposal="At the end of the agreement the council deletes the records "
            "and confirms it in writing.",
            start_date=add_months(cast.today, -1),
        ),
        [PartyAnswers(cast.council, PartyRole.CONTROLLER)],
        assets=[PUPIL_RECORDS],
    )
    return cast.sign(cast.approve(agreement))


def _attendance_procedures(cast: _Cast, attendance: Agreement) -> None:
    """Day-to-day procedures belonging to the attendance agreement, still in draft."""
    cast.draft(
        Kind.PROCEDURES,
        Content(
            title="Weekly attendance upload: day-to-day procedures",
            parent=attendance,
            purpose="How the attendance officer prepares, checks and uploads each week's figures.",
            method="The officer exports the report on Friday, removes pupils not in scope and "
            "uploads it before noon on Monday.",
            categories=[_category("attendance")],
        ),
        [PartyAnswers(cast.council, PartyRole.CONTROLLER)],
        assets=[PUPIL_RECORDS],
    )


def _from_approved_proposal(cast: _Cast) -> None:
    """An agreement prefilled from the school's approved proposal, waiting for the DPO."""
    proposal = (
        Proposal.objects.filter(organisation=cast.organisation, status__in=APPROVED_STATUSES)
        .order_by("pk")
        .first()
    )
    if proposal is None:
        return
    content, parties = services.content_from_proposal(proposal)
    if not [party for party in parties if party.organisation != cast.organisation]:
        parties.append(PartyAnswers(cast.council, PartyRole.CONTROLLER))
    agreement = cast.draft(
        Kind.AGREEMENT, content, parties, assets=[PUPIL_RECORDS], proposal=proposal
    )
    # The drafter then fills in what a proposal does not say, as they would on the page.
    services.update_content(
        agreement,
        actor=cast.drafter,
        content=replace(
            content,
            assets=_assets_named(cast.organisation, [PUPIL_RECORDS]),
            lawful_bases=[_lawful_basis("public-task")],
            legal_basis_details="Education Act 2002, section 175: the school's duty to "
            "promote pupils' welfare.",
            method="Pupils answer in the app; the pastoral lead reads the flagged answers.",
            frequency="Weekly, in term time",
            security_measures=f"{content.security_measures}\n\nThe app encrypts the answers "
            "and only the pastoral lead's account sees them.".strip(),
            retention="Answers are kept for one school year.",
            return_or_disposal="The company deletes the answers at the end of each school "
            "year and confirms it in writing.",
            start_date=add_months(cast.today, 1),
        ),
    )
    services.request_advice(agreement, actor=cast.drafter)


def _processor_agreement(cast: _Cast, supplier: Organisation) -> None:
    """A DPA with the catering supplier, its checklist complete, awaiting approval."""
    agreement = cast.draft(
        Kind.DPA,
        Content(
            title="Cashless catering system",
            purpose="The supplier runs the system pupils pay with at the till and parents "
            "top up online, on the school's instructions only.",
            lawful_bases=[_lawful_basis("public-task")],
            data_shared="Pupils' names, year groups, meal choices, allergies and fingerprint "
            "templates; parents' names, email addresses and payment records.",
            categories=[_category("identity-contact"), _category("health"), _category("biometric")],
            special_category_conditions=[
                # Fingerprints only with a parent's written consent (Protection of Freedoms
                # Act 2012, section 26); allergies to keep pupils safe at meals.
                _condition("art9-a-explicit-consent"),
                _condition("art9-g-substantial-public-interest"),
                _condition("sch1-18-safeguarding"),
            ],
            method="The MIS sends the pupil list to the system each night over an encrypted "
            "connection.",
            frequency="Nightly",
            security_measures="Hosted in the UK, encrypted at rest and in transit, ISO 27001 "
            "certified; school staff sign in with two factors.",
            retention="While the pupil is on roll; payment records for 6 years.",
            return_or_disposal="At the end of the contract the supplier returns an export to "
            "the school and then deletes everything within 30 days.",
            start_date=cast.today,
            subprocessors="A UK cloud hosting provider, named in Schedule 3 of the contract.",
            international_transfers="None: the data is stored and supported in the UK.",
        ),
        [PartyAnswers(supplier, PartyRole.PROCESSOR)],
        assets=[CATERING],
    )
    services.set_dpa_clauses(
        agreement,
        actor=cast.drafter,
        answers=[
            ClauseAnswers(point, True, clause_reference=f"Schedule 2, clause {number}")
            for number, point in enumerate(Article28.values, start=1)
        ],
    )
    services.request_advice(agreement, actor=cast.drafter)
    services.advise_on_agreement(
        agreement,
        actor=cast.dpo,
        advice="Every Article 28(3) point is in the contract. Check the hosting provider's "
        "location each year.",
    )


def _review_overdue(cast: _Cast) -> None:
    """An agreement approved over a year ago and not reviewed since."""
    start = add_months(cast.today, -13)
    agreement = cast.draft(
        Kind.AGREEMENT,
        Content(
            title="Free school meals eligibility checks with the council",
            purpose="The council checks which families are eligible for free school meals "
            "so the school can claim the pupil premium.",
            lawful_bases=[_lawful_basis("public-task")],
            legal_basis_details="Education Act 1996, section 512ZB.",
            data_shared="Parents' names, dates of birth and National Insurance numbers; "
            "pupils' names.",
            categories=[_category("identity-contact")],
            method="Entered on the council's eligibility checking service.",
            frequency="When a family applies",
            security_measures="The service needs a named account with two-factor sign-in.",
            retention="The council keeps the result while the pupil is eligible.",
            return_or_disposal="The council deletes the checks when the agreement ends.",
            start_date=start,
        ),
        [PartyAnswers(cast.council, PartyRole.CONTROLLER)],
        assets=[CATERING, PUPIL_RECORDS],
    )
    cast.approve(agreement)
    # The demo backdates this approval, to show an overdue review: no service moves
    # a review period (it starts at approval), so this is the one direct update,
    # in demo code only.
    Agreement.objects.filter(pk=agreement.pk).update(review_period_starts=start)


def _terminated_and_expired(cast: _Cast) -> None:
    """An agreement ended by every party, its data destroyed with a certificate."""
    agreement = cast.draft(
        Kind.AGREEMENT,
        Content(
            title="Pupil lists for the council's music service",
            purpose="The music service arranges instrument lessons for the pupils who signed up.",
            lawful_bases=[_lawful_basis("public-task")],
            data_shared="Names, year groups and instruments of the pupils taking lessons.",
            categories=[_category("identity-contact"), _category("education")],
            method="Sent by secure transfer at the start of each term.",
            frequency="Termly",
            security_measures="Secure transfer with a one-time code; no paper lists.",
            retention="Until the end of the school year.",
            return_or_disposal="The music service destroys the lists and sends a certificate.",
            start_date=add_months(cast.today, -6),
        ),
        [PartyAnswers(cast.council, PartyRole.CONTROLLER)],
        assets=[PUPIL_RECORDS],
    )
    cast.approve(agreement)
    lifecycle.terminate_agreement(
        agreement,
        actor=cast.head,
        termination=Termination(
            reasons="The council has closed its music service.",
            disposal_arrangement="The music service destroys every list it holds and sends a "
            "certificate of destruction.",
            consents=[
                PartyConsent(
                    party,
                    agreed_by=f"Signatory for {party.organisation.name}",
                    agreed_on=cast.today,
                )
                for party in agreement.parties.select_related("organisation")
            ],
        ),
    )
    certificate = _demo_pdf(
        f"Certificate of destruction: {agreement.reference}",
        "Every pupil list held by the music service has been securely destroyed.",
    )
    lifecycle.confirm_data_fate(
        agreement,
        actor=cast.keeper,
        answers=DataFateAnswers(
            fate=DataFate.DESTROYED,
            on=cast.today,
            details="Certificate of destruction received from the council.",
            evidence=SimpleUploadedFile("certificate.pdf", certificate),
        ),
    )


# --- What the agreements are made of ------------------------------------------------------


def _local_authority() -> Organisation | None:
    councils = Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY)
    return councils.filter(slug="eastmoor-council").first() or councils.order_by("pk").first()


def _supplier() -> Organisation:
    """The demo's software supplier, or any supplier, made if there is none."""
    suppliers = Organisation.objects.filter(
        kind=OrganisationKind.EXTERNAL, external_kind=ExternalKind.SUPPLIER
    )
    existing = suppliers.filter(slug=SUPPLIER_SLUG).first() or suppliers.order_by("pk").first()
    return existing or core_services.create_organisation(
        actor=None,
        name=SUPPLIER_NAME,
        slug=SUPPLIER_SLUG,
        kind=OrganisationKind.EXTERNAL,
        external_kind=ExternalKind.SUPPLIER,
    )


def _assets_named(organisation: Organisation, names: Sequence[str]) -> list[InformationAsset]:
    """The school's current assets of those names: what the agreement draws on.

    A school without the demo assets gets agreements linked to none.
    """
    if not names:
        return []
    return list(
        InformationAsset.objects.filter(organisation=organisation, name__in=names)
        .current()
        .order_by("name")
    )


def _signatory_role(organisation: Organisation) -> str:
    return "Headteacher" if organisation.kind == OrganisationKind.SCHOOL else "Data protection lead"


def _category(code: str) -> DataCategory:
    return DataCategory.objects.get(code=code)


def _lawful_basis(code: str) -> LawfulBasis:
    return LawfulBasis.objects.get(code=code)


def _condition(code: str) -> SpecialCategoryCondition:
    return SpecialCategoryCondition.objects.get(code=code)


def _demo_pdf(*lines: str) -> bytes:
    """A one-page PDF saying `lines`: the stand-in for a scanned signed copy or certificate."""

    def escaped(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " T* ".join(f"({escaped(line)}) Tj" for line in ("Demo document", *lines))
    stream = f"BT /F1 11 Tf 56 780 Td 16 TL {shown} ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)
