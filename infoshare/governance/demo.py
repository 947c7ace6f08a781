"""Demo information assets for `seed_demo`: five a primary school holds, added through
the services as its DPO or information manager would add them.

Every system and supplier named is made up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infoshare.core.models import DataCategory, LawfulBasis, Organisation, Role, User
from infoshare.governance.models import InformationAsset
from infoshare.governance.services import AssetAnswers, create_asset
from infoshare.proposals.demo import members_by_role

if TYPE_CHECKING:
    from collections.abc import Mapping

# Who keeps the register (governance.rules.can_manage_assets), in the order asked.
KEEPERS = (Role.INFORMATION_MANAGER, Role.DPO)

# name, description, owner, system or location, category codes, lawful basis, retention
DEMO_ASSETS = (
    (
        "Pupil records in the MIS",
        "Admission details, contacts, attendance, assessment and behaviour records of every "
        "pupil on roll, kept in the management information system.",
        "Business manager",
        "MIS (Kestrel Schools, hosted)",
        ("identity-contact", "education", "attendance", "behaviour", "ethnicity", "religion"),
        "public-task",
        "While the pupil is on roll; the record passes to the next school",
    ),
    (
        "Safeguarding records",
        "Child protection concerns, referrals to children's social care and the notes of "
        "meetings, kept by the designated safeguarding lead.",
        "Designated safeguarding lead",
        "Safeguarding system, and the locked cabinet in the DSL's office",
        ("identity-contact", "safeguarding", "health"),
        "legal-obligation",
        "Date of birth + 25 years; the file passes to the next school",
    ),
    (
        "Special educational needs records",
        "EHC plans, SEN support plans, reports from specialists and review notes.",
        "SENCo",
        "MIS SEN module and the SENCo's secure folder",
        ("identity-contact", "send", "health", "education"),
        "public-task",
        "Date of birth + 31 years",
    ),
    (
        "Catering and cashless payment system",
        "Meal choices, dietary needs and allergies, free school meals eligibility and the "
        "fingerprint templates used to pay at the till.",
        "Business manager",
        "Cashless catering system (Larkspur Catering Ltd, processor)",
        ("identity-contact", "health", "biometric"),
        "public-task",
        "While the pupil is on roll, then deleted within 3 months",
    ),
    (
        "Staff HR files",
        "Contracts, pre-employment checks (DBS), absence and medical notes, appraisal and "
        "payroll details of every member of staff.",
        "Headteacher",
        "HR system, and the locked cabinet in the business manager's office",
        ("identity-contact", "health"),
        "contract",
        "End of employment + 6 years",
    ),
)


def seed_assets(
    organisation: Organisation, people: Mapping[str, User] | None = None
) -> list[InformationAsset]:
    """The five demo assets of `organisation`, added unless it has assets already.

    Idempotent: an organisation with any asset gets none added, and its
    current assets are returned. `people` maps a role to a person; the
    information manager adds them, or else the DPO.
    """
    existing = list(InformationAsset.objects.filter(organisation=organisation).current())
    if existing:
        return existing
    people = people or members_by_role(organisation)
    keeper = next((people[role] for role in KEEPERS if role in people), None)
    if keeper is None:
        return []
    categories = {category.code: category for category in DataCategory.objects.all()}
    bases = {basis.code: basis for basis in LawfulBasis.objects.all()}
    return [
        create_asset(
            organisation,
            actor=keeper,
            answers=AssetAnswers(
                name=name,
                description=description,
                owner=owner,
                system_or_location=where,
                categories=[categories[code] for code in codes if code in categories],
                special_category=any(
                    categories[code].is_special for code in codes if code in categories
                ),
                lawful_basis=bases.get(basis),
                retention_period=retention,
            ),
        )
        for name, description, owner, where, codes, basis, retention in DEMO_ASSETS
    ]
