"""Demo information assets for `seed_demo`: five a primary school holds, added through
the services as its DPO or information manager would add them; and the school's
information sharing policy (`seed_policy`).

Every system and supplier named is made up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from infoshare.core.models import DataCategory, LawfulBasis, Organisation, Role, User
from infoshare.governance.models import POLICY_TITLE, InformationAsset, PolicyVersion
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


# --- The information sharing policy ------------------------------------------------------

# Paragraphs of the demo version: the policy's own headings, shortened.
DEMO_POLICY_TEXT = "\n\n".join(
    (
        "1. Introduction\nThis policy sets out how the school shares personal information "
        "lawfully, safely and only when it is needed, under the UK GDPR and the Data "
        "Protection Act 2018.",
        "2. Golden rules\nShare with consent where appropriate; keep a record of every "
        "decision, whether it is to share or not; share only what is necessary, with the "
        "right people, securely.",
        "9. Roles and responsibilities\nThe headteacher and the chair of governors decide "
        "whether the school shares personal information. The data protection officer "
        "advises and monitors.",
        "10. Review and evaluation\nThe data protection officer keeps this policy up to "
        "date. It is reviewed at least annually, and after any major breach of a policy, "
        "new threats or vulnerabilities, significant organisational restructuring or "
        "significant changes to the school's technical infrastructure.",
    )
)
# Of the people who work in the school, these acknowledge the demo version (not everyone).
DEMO_ACKNOWLEDGING_ROLES = (Role.HEADTEACHER, Role.DSL, Role.INFORMATION_MANAGER)


def seed_policy(
    organisation: Organisation, people: Mapping[str, User] | None = None
) -> PolicyVersion | None:
    """Version 1 of the policy, drafted by the DPO and approved by the headteacher 11
    months ago (so its review falls due next month), acknowledged by some staff.

    Idempotent: an organisation with any version of its policy gets nothing added.
    """
    from infoshare.agreements.models import add_months
    from infoshare.governance import policy

    existing = PolicyVersion.objects.filter(organisation=organisation)
    if existing.exists():
        return policy.current_version(organisation)
    people = people or members_by_role(organisation)
    dpo, head = people.get(Role.DPO), people.get(Role.HEADTEACHER)
    if dpo is None or head is None:
        return None
    version = policy.draft_policy_version(
        organisation,
        actor=dpo,
        answers=policy.PolicyAnswers(
            title=POLICY_TITLE,
            text=DEMO_POLICY_TEXT,
            summary_of_changes="The school's policy, recorded here for the first time.",
        ),
    )
    version = policy.approve_policy_version(
        version, actor=head, approved_on=add_months(timezone.localdate(), -11)
    )
    for role in DEMO_ACKNOWLEDGING_ROLES:
        if role in people:
            policy.acknowledge_policy(version, actor=people[role])
    return version
