"""Demo data: a trust with two schools, a local authority, the DfE, one person per role.

Idempotent: running it again adds only what is missing. Every name is made
up and every address is under example.org, so no real person appears.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from infoshare.core import services
from infoshare.core.models import ExternalKind, Organisation, OrganisationKind, Role, User

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
