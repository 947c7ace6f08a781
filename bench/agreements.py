"""Agreements register benchmark: the register, filtered, searched, sorted and exported.

    .venv/bin/python bench/agreements.py [--agreements 2000] [--assets 30] [--requests 50]

With DATABASE_URL set, measures that database (SQLite or PostgreSQL); without
it, runs twice: on an SQLite file in var/ and on
postgres://postgres@127.0.0.1:5432/bench_agreements. Either way the database is
created afresh (an SQLite file is deleted, a PostgreSQL database dropped).

It generates one school with 2,000 agreements over four years (bulk; every
stage, a quarter of them DPAs, one to three other parties and one to three of
30 information assets each), then, signed in as the school's DPO with Django's
test Client, requests each page N times and reports the server time (median
and 95th percentile, in ms) and the number of queries of each; the CSV export
is read to its last line. Target: p95 under 100 ms for pages, 1 s for the
export. Results go to bench/results/agreements.json, one entry per database.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# Run as `python bench/agreements.py`, Python puts bench/ on the path, not the
# project root that bench.common and infoshare are imported from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

RESULTS = common.RESULTS_DIR / "agreements.json"
TARGET_P95_MS = 100
TARGET_EXPORT_P95_MS = 1000

if __name__ == "__main__":  # without DATABASE_URL: a run per default database, then exit
    common.run_each_default_database(__file__, common.default_databases("agreements"))
common.setup_django(test_client=True)

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from infoshare.agreements.models import (  # noqa: E402
    Agreement,
    Kind,
    Party,
    PartyRole,
    Status,
    Tag,
)
from infoshare.core.models import (  # noqa: E402
    DataCategory,
    LawfulBasis,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from infoshare.governance.models import InformationAsset  # noqa: E402

# How often each status occurs: most agreements of a school that has used the
# register for years are in force; some are drafts, some have ended.
STATUS_WEIGHTS = {
    Status.DRAFT: 8,
    Status.ADVICE_REQUESTED: 4,
    Status.ADVISED: 4,
    Status.APPROVED: 62,
    Status.UNDER_REVIEW: 5,
    Status.TERMINATED: 4,
    Status.EXPIRED: 8,
    Status.WITHDRAWN: 5,
}
APPROVED_OR_LATER = {Status.APPROVED, Status.UNDER_REVIEW, Status.TERMINATED, Status.EXPIRED}
PARTNERS = (
    ("Eastmoor Council", OrganisationKind.LOCAL_AUTHORITY),
    ("Westdale Council", OrganisationKind.LOCAL_AUTHORITY),
    ("Department for Education", OrganisationKind.EXTERNAL),
    ("Eastmoor Health Trust", OrganisationKind.EXTERNAL),
    ("Eastmoor Police", OrganisationKind.EXTERNAL),
    ("Northfield Secondary School", OrganisationKind.SCHOOL),
    ("Eastmoor Youth Service", OrganisationKind.EXTERNAL),
    ("Literacy Trust Reading Partners", OrganisationKind.EXTERNAL),
)
SUPPLIERS = (
    "Kestrel School Software Ltd",
    "Larkspur Catering Ltd",
    "Heron Payments Ltd",
    "Wren Learning Platforms Ltd",
    "Osprey Photography Ltd",
    "Plover Payroll Services Ltd",
    "Finch Library Systems Ltd",
    "Swift Trips and Visits Ltd",
)
SUBJECTS = (
    "Attendance figures",
    "Admissions",
    "SEN support plans",
    "Safeguarding referrals",
    "School census",
    "Catering and allergies",
    "Cashless payments",
    "School photographs",
    "Reading intervention",
    "Youth service referrals",
    "Exam entries",
    "Trips and visits",
    "Payroll",
    "Learning platform accounts",
)


def main() -> None:
    options = common.page_arguments(__doc__, agreements=2_000, assets=30)
    world, generate_seconds = common.set_up(lambda: generate(options))
    today = timezone.localdate()
    tags = Counter(agreement.tag(today).value for agreement in Agreement.objects.all())
    results: dict[str, Any] = {
        **common.run_context(),
        "data": {
            "agreements": Agreement.objects.count(),
            "parties": Party.objects.count(),
            "assets": InformationAsset.objects.count(),
            "tags": dict(sorted(tags.items())),
            "generate_seconds": generate_seconds,
        },
        "requests_per_page": options.requests,
        "pages": measure_pages(world, options.requests),
    }
    results["load_average_after"] = common.load_average()
    results["target_p95_ms"] = TARGET_P95_MS
    results["target_export_p95_ms"] = TARGET_EXPORT_P95_MS
    results["target_met"] = all(
        page["p95_ms"] < (TARGET_EXPORT_P95_MS if name.startswith("export") else TARGET_P95_MS)
        for name, page in results["pages"].items()
    )
    print_summary(results)
    common.write_results(RESULTS, results, per_database=True)


# --- Set-up ------------------------------------------------------------------------


def generate(options: argparse.Namespace) -> dict[str, Any]:
    """One school, its people, partners, suppliers, assets and agreements."""
    randomiser = random.Random(11)
    school, dpo, drafters = common.school(urn="199998", staff=6)
    head = common.member(school, "head@bench.test", "Harriet Head", Role.HEADTEACHER)
    partners = [
        Organisation.objects.create(name=name, slug=f"bench-partner-{n}", kind=kind)
        for n, (name, kind) in enumerate(PARTNERS)
    ]
    suppliers = [
        Organisation.objects.create(
            name=name, slug=f"bench-supplier-{n}", kind=OrganisationKind.EXTERNAL
        )
        for n, name in enumerate(SUPPLIERS)
    ]
    assets = make_assets(school, dpo, options.assets, randomiser)
    agreements = make_agreements(school, drafters, head, options.agreements, randomiser)
    add_parties(agreements, school, partners, suppliers, randomiser)
    link_assets(agreements, assets, randomiser)
    return {"school": school, "dpo": dpo, "partner": partners[0], "asset": assets[0]}


def make_assets(
    school: Organisation, dpo: User, count: int, randomiser: random.Random
) -> list[InformationAsset]:
    categories = list(DataCategory.objects.all())
    bases = list(LawfulBasis.objects.all())
    assets = InformationAsset.objects.bulk_create(
        InformationAsset(
            organisation=school,
            name=f"{randomiser.choice(SUBJECTS)} records {n + 1}",
            owner=randomiser.choice(("Business manager", "SENCo", "DSL", "Headteacher")),
            system_or_location=randomiser.choice(("MIS", "HR system", "Locked cabinet")),
            lawful_basis=randomiser.choice(bases),
            retention_period="Date of birth + 25 years",
            special_category=n % 3 == 0,
            created_by=dpo,
        )
        for n in range(count)
    )
    through = InformationAsset.categories.through
    through.objects.bulk_create(
        through(informationasset_id=asset.pk, datacategory_id=category.pk)
        for asset in assets
        for category in randomiser.sample(categories, 2)
    )
    return assets


def make_agreements(
    school: Organisation,
    drafters: list[User],
    head: User,
    count: int,
    randomiser: random.Random,
) -> list[Agreement]:
    now = timezone.now()
    numbers: Counter[tuple[str, int]] = Counter()
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    made = []
    for _ in range(count):
        created = now - timedelta(days=randomiser.randint(1, 4 * 365))
        kind = (
            Kind.DPA
            if randomiser.random() < 0.25
            else randomiser.choice((Kind.AGREEMENT, Kind.AGREEMENT, Kind.AGREEMENT, Kind.PROTOCOL))
        )
        prefix = "DPA" if kind == Kind.DPA else "ISA"
        numbers[prefix, created.year] += 1
        status = randomiser.choices(statuses, weights)[0]
        made.append(
            agreement(
                school,
                kind=kind,
                status=status,
                reference=f"{prefix}-{created.year}-{numbers[prefix, created.year]:04d}",
                title=f"{randomiser.choice(SUBJECTS)} ({kind.label.lower()})",
                drafted_by=randomiser.choice(drafters),
                approver=head,
                created=created,
                randomiser=randomiser,
            )
        )
    return Agreement.objects.bulk_create(made, batch_size=500)


def agreement(
    school: Organisation,
    *,
    kind: str,
    status: str,
    reference: str,
    title: str,
    drafted_by: User,
    approver: User,
    created: datetime,
    randomiser: random.Random,
) -> Agreement:
    """One agreement as the services would have left it at `status` (dates included)."""
    interval = randomiser.choice((12, 12, 12, 12, 6, 24))
    fields: dict[str, Any] = {}
    if status in APPROVED_OR_LATER:
        approved_at = created + timedelta(days=randomiser.randint(7, 60))
        fields.update(
            approved_by=approver,
            approved_at=approved_at,
            start_date=timezone.localdate(approved_at),
            review_period_starts=timezone.localdate(approved_at),
        )
    if status == Status.WITHDRAWN:
        fields["withdrawn_reasons"] = "No longer needed."
    return Agreement(
        organisation=school,
        reference=reference,
        kind=kind,
        title=title,
        status=status,
        drafted_by=drafted_by,
        created_at=created,
        updated_at=created + timedelta(days=randomiser.randint(0, 90)),
        purpose="Generated for the benchmark.",
        review_interval_months=interval,
        review_interval_justification="Stable arrangement." if interval > 12 else "",
        **fields,
    )


def add_parties(
    agreements: list[Agreement],
    school: Organisation,
    partners: list[Organisation],
    suppliers: list[Organisation],
    randomiser: random.Random,
) -> None:
    parties = []
    for item in agreements:
        parties.append(Party(agreement=item, organisation=school, role=PartyRole.CONTROLLER))
        if item.kind == Kind.DPA:
            others = [(randomiser.choice(suppliers), PartyRole.PROCESSOR)]
        else:
            chosen = randomiser.sample(partners, randomiser.randint(1, 3))
            others = [(organisation, PartyRole.CONTROLLER) for organisation in chosen]
        parties += [
            Party(agreement=item, organisation=organisation, role=role, position=n)
            for n, (organisation, role) in enumerate(others, start=1)
        ]
    Party.objects.bulk_create(parties, batch_size=1000)


def link_assets(
    agreements: list[Agreement], assets: list[InformationAsset], randomiser: random.Random
) -> None:
    through = Agreement.assets.through
    through.objects.bulk_create(
        (
            through(agreement_id=item.pk, informationasset_id=asset.pk)
            for item in agreements
            for asset in randomiser.sample(assets, randomiser.randint(1, 3))
        ),
        batch_size=1000,
    )


# --- Measuring ---------------------------------------------------------------------------


def measure_pages(world: dict[str, Any], requests: int) -> dict[str, dict[str, Any]]:
    slug = world["school"].slug
    register = reverse("agreements:register", kwargs={"org": slug})
    pages = {
        "register": register,
        "register_active_agreements": f"{register}?tag={Tag.ACTIVE}&kind={Kind.AGREEMENT}",
        "register_review_overdue": f"{register}?tag={Tag.REVIEW_OVERDUE}",
        "register_party_and_asset": (
            f"{register}?party={world['partner'].slug}&asset={world['asset'].uuid}"
        ),
        "register_search": f"{register}?q=safeguarding+council",
        "register_by_review_due": f"{register}?sort=review_due&page=10",
        "asset_register": reverse("governance:assets", kwargs={"org": slug}),
        "export_csv": f"{register}?format=csv",
        "export_csv_filtered": f"{register}?format=csv&tag={Tag.ACTIVE}",
    }
    return common.measure_pages(world["dpo"], pages, requests, fetch)


def fetch(client: Client, url: str) -> int:
    """Request `url` (an export to its last line); returns how many rows it matched."""
    response = common.get(client, url)
    if response.streaming:
        return b"".join(response.streaming_content).count(b"\n") - 1  # less the header
    content = response.content.decode()
    return common.result_count(content, "(?:agreements?|information assets?)") or 0


# --- Report ------------------------------------------------------------------------------


def print_summary(results: dict[str, Any]) -> None:
    data = results["data"]
    common.print_heading("Agreements register benchmark", results)
    print(
        f"  {data['agreements']:,} agreements, {data['parties']:,} parties, {data['assets']} "
        f"assets; generated in {data['generate_seconds']} s"
    )
    print(f"  tags: {', '.join(f'{tag} {n}' for tag, n in data['tags'].items())}")
    common.print_pages(results["pages"])
    print(
        f"  target: p95 under {TARGET_P95_MS} ms on every page, {TARGET_EXPORT_P95_MS} ms "
        f"for an export — {common.verdict(results['target_met'])}"
    )


if __name__ == "__main__":
    main()
