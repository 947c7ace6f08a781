"""Demo data: a trust with two schools, a local authority, the DfE, one person per role,
and about thirty pupils in each school.

Idempotent: running it again adds only what is missing. Every name is made
up, every address is under example.org and every UPN is generated, so no
real person appears.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from infoshare.agreements.demo import seed_agreements
from infoshare.core import services
from infoshare.core.imports import PupilRow
from infoshare.core.models import (
    ExternalKind,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
    Role,
    User,
)
from infoshare.core.upn import make_upn
from infoshare.decisions.demo import seed_decisions
from infoshare.governance.demo import seed_assets, seed_policy
from infoshare.proposals.demo import seed_proposals
from infoshare.safeguarding.demo import seed_safeguarding
from infoshare.statutory.demo import seed_statutory
from infoshare.transfers.demo import seed_transfers

DEFAULT_PASSWORD = "infoshare-demo"


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    kind: str
    urn: str = ""
    external_kind: str = ""
    parent: str = ""


ORGANISATIONS = [
    DemoOrganisation("northbridge-trust", "Northbridge Learning Trust", OrganisationKind.TRUST),
    DemoOrganisation("eastmoor-council", "Eastmoor Council", OrganisationKind.LOCAL_AUTHORITY),
    DemoOrganisation(
        "dfe", "Department for Education", OrganisationKind.EXTERNAL, external_kind=ExternalKind.DFE
    ),
    DemoOrganisation(
        "alder-primary",
        "Alder Primary School",
        OrganisationKind.SCHOOL,
        urn="990001",
        parent="northbridge-trust",
    ),
    DemoOrganisation(
        "birch-academy",
        "Birch Academy",
        OrganisationKind.SCHOOL,
        urn="990002",
        parent="northbridge-trust",
    ),
    # The processor of the schools' cashless catering system (the demo's DPA).
    DemoOrganisation(
        "larkspur-catering",
        "Larkspur Catering Ltd",
        OrganisationKind.EXTERNAL,
        external_kind=ExternalKind.SUPPLIER,
    ),
]
SCHOOLS = {"alder-primary": "alder", "birch-academy": "birch"}

# Made-up names, one per role and school.
FIRST_NAMES = {
    Role.HEADTEACHER: ("Helen", "Hamid"),
    Role.CHAIR: ("Charles", "Chloe"),
    Role.DSL: ("Sara", "Simon"),
    Role.DEPUTY_DSL: ("Dev", "Daisy"),
    Role.INFORMATION_MANAGER: ("Imogen", "Ivan"),
    Role.STAFF: ("Tom", "Tess"),
    Role.VOLUNTEER: ("Vera", "Victor"),
}
SURNAMES = ("Alderman", "Birchwood")

# Made-up pupils: names combined from these lists, UPNs generated from a fake
# local authority number (999) and each school's made-up establishment number.
PUPILS_PER_SCHOOL = 30
PUPIL_FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Dylan", "Esme", "Finley", "Grace", "Harvey", "Isla", "Jack",
    "Kiran", "Lily", "Mason", "Nia", "Oscar", "Poppy", "Quinn", "Rosie", "Sami", "Theo",
    "Una", "Vinnie", "Willow", "Xander", "Yasmin", "Zac", "Aisha", "Ellis", "Maya", "Reuben",
)  # fmt: skip
PUPIL_SURNAMES = (
    "Ashby", "Brook", "Carver", "Dale", "Ellery", "Fenwick", "Garside", "Holt", "Ingram",
    "Jessop", "Kettle", "Lowther", "Marsh", "Nettleton", "Oakes", "Pell", "Quarry", "Rudd",
    "Sowerby", "Thwaite", "Upton", "Varley", "Wragg", "Yeadon", "Abbott", "Birtles", "Crook",
)  # fmt: skip
# Year groups of each school, and how old pupils are at the start of the first one.
YEAR_GROUPS = {
    "alder-primary": ["Reception", *(f"Year {n}" for n in range(1, 7))],
    "birch-academy": [f"Year {n}" for n in range(7, 12)],
}
FIRST_YEAR_AGE = {"alder-primary": 4, "birch-academy": 11}
ESTABLISHMENT_NUMBERS = {"alder-primary": "9001", "birch-academy": "9002"}


class Command(BaseCommand):
    help = "Load demo organisations and accounts (development only unless --force)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (never in production).",
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a known password, so it runs only with "
                "DEBUG on. Use --force to run it anyway (never in production)."
            )
        password = _demo_password()
        with transaction.atomic():
            organisations: dict[str, Organisation] = {}
            for demo in ORGANISATIONS:
                organisations[demo.slug] = _organisation(demo, organisations)
            accounts = _people(organisations, password)
            for slug in SCHOOLS:
                _pupils(organisations[slug])
                seed_decisions(organisations[slug])
                seed_proposals(organisations[slug])
                # The assets first: the agreements name the assets they draw on.
                seed_assets(organisations[slug])
                seed_policy(organisations[slug])
                seed_agreements(organisations[slug])
                seed_safeguarding(organisations[slug], password=password)
                seed_statutory(organisations[slug])
                seed_transfers(organisations[slug])
        self._print_accounts(accounts, password)

    def _print_accounts(self, accounts: list[tuple[str, str, str]], password: str) -> None:
        self.stdout.write(self.style.SUCCESS("Demo accounts (all with the same password):"))
        for organisation, role, email in accounts:
            self.stdout.write(f"  {organisation:<28} {role:<38} {email}")
        self.stdout.write(f"Password: {password}")


def _demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD


def _organisation(demo: DemoOrganisation, organisations: dict[str, Organisation]) -> Organisation:
    existing = Organisation.objects.filter(slug=demo.slug).first()
    if existing is not None:
        return existing
    return services.create_organisation(
        actor=None,
        name=demo.name,
        slug=demo.slug,
        kind=demo.kind,
        urn=demo.urn,
        external_kind=demo.external_kind,
        parent=organisations.get(demo.parent),
    )


def _people(organisations: dict[str, Organisation], password: str) -> list[tuple[str, str, str]]:
    """One person per role in each school; the DPO and the auditor serve both schools."""
    trust, council = organisations["northbridge-trust"], organisations["eastmoor-council"]
    dpo = _user("dpo@northbridge-trust.example.org", "Dana Okafor", password)
    auditor = _user("auditor@eastmoor-council.example.org", "Arthur Lindqvist", password)
    accounts = []
    for index, (slug, short) in enumerate(SCHOOLS.items()):
        school = organisations[slug]
        for role, first_names in FIRST_NAMES.items():
            email = f"{role.value.replace('_', '-')}@{short}.example.org"
            user = _user(email, f"{first_names[index]} {SURNAMES[index]}", password)
            _membership(school, user, role)
            accounts.append((school.name, role.label, email))
        _membership(school, dpo, Role.DPO, acting_for=trust)
        _membership(school, auditor, Role.AUDITOR, acting_for=council)
        accounts.append((school.name, f"{Role.DPO.label} (for the trust)", dpo.email))
        accounts.append((school.name, f"{Role.AUDITOR.label} (for the council)", auditor.email))
    return accounts


def _user(email: str, name: str, password: str) -> User:
    user = User.objects.filter(email=email).first()
    return user or User.objects.create_user(email=email, name=name, password=password)


def _membership(
    organisation: Organisation, user: User, role: Role, acting_for: Organisation | None = None
) -> None:
    if not user.memberships.active().filter(organisation=organisation).exists():
        services.enrol_member(organisation, user=user, roles=[role], acting_for=acting_for)


def _pupils(school: Organisation) -> None:
    """About thirty made-up pupils, imported as a school would, unless it has pupils already."""
    if Person.objects.in_organisation(school).filter(kind=PersonKind.PUPIL).exists():
        return
    manager = User.objects.get(
        memberships__organisation=school,
        memberships__ended_at__isnull=True,
        memberships__role_assignments__role=Role.INFORMATION_MANAGER,
    )
    rows = [
        PupilRow(line=n + 2, values=_demo_pupil(school.slug, n)) for n in range(PUPILS_PER_SCHOOL)
    ]
    services.import_pupils(school, actor=manager, rows=rows)


def _demo_pupil(slug: str, n: int) -> dict[str, Any]:
    """The n-th demo pupil of a school: a year group, and a birthday and start date to match."""
    groups = YEAR_GROUPS[slug]
    year_index = n % len(groups)
    this_september = _start_of_school_year(timezone.localdate())
    joined = this_september.year - year_index
    born = date(joined - FIRST_YEAR_AGE[slug] - 1, 9, 1)
    serial = f"{n + 1:03d}"
    return {
        "upn": make_upn(f"999{ESTABLISHMENT_NUMBERS[slug]}{joined % 100:02d}{serial}"),
        "given_name": PUPIL_FIRST_NAMES[n % len(PUPIL_FIRST_NAMES)],
        "family_name": PUPIL_SURNAMES[(n * 7 + len(slug)) % len(PUPIL_SURNAMES)],
        "date_of_birth": date.fromordinal(born.toordinal() + (n * 37) % 365),
        "year_group": groups[year_index],
        "on_roll_from": date(joined, 9, 1),
    }


def _start_of_school_year(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)
