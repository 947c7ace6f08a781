"""Decision log benchmark: the filtered list and a person's history, against a large log.

    .venv/bin/python bench/decisions.py [--decisions 100000] [--pupils 5000] [--requests 50]

With DATABASE_URL set, measures that database (SQLite or PostgreSQL); without
it, runs twice: on an SQLite file in var/ and on
postgres://postgres@127.0.0.1:5432/bench_decisions. Either way the database is
created afresh (an SQLite file is deleted, a PostgreSQL database dropped).

It generates one school with 5,000 pupils and 100,000 decisions over three
years (bulk; ~10% special category, a few recipients, purposes and outcomes,
~1% corrected), then, signed in as the school's DPO with Django's test
Client, requests each page N times and reports the server time (median and
95th percentile, in ms) and the number of queries of each. Target: p95
under 100 ms. Results go to bench/results/decisions.json, one entry per
database.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

# Run as `python bench/decisions.py`, Python puts bench/ on the path, not the
# project root that bench.common and infoshare are imported from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

RESULTS = common.RESULTS_DIR / "decisions.json"
TARGET_P95_MS = 100

if __name__ == "__main__":  # without DATABASE_URL: a run per default database, then exit
    common.run_each_default_database(__file__, common.default_databases("decisions"))
common.setup_django(test_client=True)

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from infoshare.core.models import (  # noqa: E402
    ExternalKind,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
)
from infoshare.decisions.models import Decision  # noqa: E402
from tests.decisions.factories import bulk_decisions  # noqa: E402

GIVEN_NAMES = (  # noqa: SIM905 - a list of names reads best as words
    "Amelia Olivia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence "
    "Emily Ella Poppy Evie Elsie Charlotte Oliver George Noah Arthur Muhammad Leo Oscar "
    "Harry Archie Jack Henry Charlie Freddie Theodore Thomas Finley Theo Alfie Jacob "
    "William Isaac Tommy Joshua James Lucas Alexander Arlo Roman Edward Max Mohammed Ayaan "
    "Zara Aisha Priya"
).split()
FAMILY_NAMES = (  # noqa: SIM905 - a list of names reads best as words
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Robinson "
    "Thompson Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris "
    "Edwards Turner Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker "
    "Lee Allen Morris Khan Scott Watson Davis Parker James Bennett Young Phillips "
    "Richardson Mitchell Bailey Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum "
    "Miller Cox Marshall Simpson Anderson Ellis Adams Wilkinson Ward Foster Chapman "
    "Russell Webb Powell Lloyd Mills Hussain"
).split()
RECIPIENTS = (
    ("Eastmoor Council", ExternalKind.OTHER),
    ("Eastmoor Children's Social Care", ExternalKind.OTHER),
    ("Eastmoor Health Trust", ExternalKind.HEALTH),
    ("Department for Education", ExternalKind.DFE),
    ("Eastmoor Police", ExternalKind.POLICE),
    ("Northfield Secondary School", ExternalKind.OTHER_SCHOOL),
)


def main() -> None:
    options = common.page_arguments(__doc__, decisions=100_000, pupils=5_000)
    world, generate_seconds = common.set_up(lambda: generate(options))
    results: dict[str, Any] = {
        **common.run_context(),
        "data": {
            "pupils": options.pupils,
            "decisions": Decision.objects.count(),
            "special_category": Decision.objects.filter(has_special_category=True).count(),
            "corrected": Decision.objects.filter(superseded_by__isnull=False).count(),
            "person_decisions": world["person_decisions"],
            "generate_seconds": generate_seconds,
        },
        "requests_per_page": options.requests,
        "pages": measure_pages(world, options.requests),
    }
    results["load_average_after"] = common.load_average()
    results["target_p95_ms"] = TARGET_P95_MS
    results["target_met"] = all(
        page["p95_ms"] < TARGET_P95_MS for page in results["pages"].values()
    )
    print_summary(results)
    common.write_results(RESULTS, results, per_database=True)


# --- Set-up ------------------------------------------------------------------------


def generate(options: argparse.Namespace) -> dict[str, Any]:
    """One school, its staff, pupils, recipients and decision log."""
    randomiser = random.Random(7)
    school, dpo, recorders = common.school(urn="199999", staff=12)
    pupils = make_pupils(school, options.pupils, randomiser)
    recipients = [
        Organisation.objects.create(
            name=name,
            slug=f"bench-recipient-{n}",
            kind=OrganisationKind.EXTERNAL,
            external_kind=kind,
        )
        for n, (name, kind) in enumerate(RECIPIENTS)
    ]
    bulk_decisions(school, recorders, pupils, recipients, options.decisions)
    person = randomiser.choice(pupils)
    return {
        "school": school,
        "dpo": dpo,
        "person": person,
        "person_decisions": Decision.people.through.objects.filter(person=person).count(),
    }


def make_pupils(school: Organisation, count: int, randomiser: random.Random) -> list[Person]:
    today = timezone.localdate()
    return Person.objects.bulk_create(
        Person(
            organisation=school,
            kind=PersonKind.PUPIL,
            given_name=randomiser.choice(GIVEN_NAMES),
            family_name=randomiser.choice(FAMILY_NAMES),
            year_group=f"Year {randomiser.randint(1, 6)}",
            date_of_birth=today - timedelta(days=randomiser.randint(5 * 365, 11 * 365)),
        )
        for _ in range(count)
    )


# --- Measuring ---------------------------------------------------------------------------


def measure_pages(world: dict[str, Any], requests: int) -> dict[str, dict[str, Any]]:
    slug, person = world["school"].slug, world["person"]
    decisions = reverse("decisions:list", kwargs={"org": slug})
    today = timezone.localdate()
    pages = {
        "list": decisions,
        "list_outcome_and_dates": (
            f"{decisions}?outcome=shared&date_from={today - timedelta(days=90):%Y-%m-%d}"
            f"&date_to={today:%Y-%m-%d}"
        ),
        "list_search_word": f"{decisions}?q=exclusion",
        "list_search_name": f"{decisions}?q={person.family_name}",
        "list_person": f"{decisions}?person={person.uuid}",
        "list_page_200": f"{decisions}?page=200",
        "person_history": reverse(
            "decisions:person_history", kwargs={"org": slug, "person": person.uuid}
        ),
    }
    return common.measure_pages(world["dpo"], pages, requests, fetch)


def fetch(client: Client, url: str) -> int:
    """Request `url`; returns how many decisions the page says it matched."""
    content = common.get(client, url).content.decode()
    count = common.result_count(content, "decisions?")
    if count is not None:
        return count
    return content.count('class="govuk-summary-card"')  # a person's history


# --- Report ------------------------------------------------------------------------------


def print_summary(results: dict[str, Any]) -> None:
    data = results["data"]
    common.print_heading("Decision log benchmark", results)
    print(
        f"  {data['decisions']:,} decisions ({data['special_category']:,} special category, "
        f"{data['corrected']:,} corrected), {data['pupils']:,} pupils; generated in "
        f"{data['generate_seconds']} s; the person has {data['person_decisions']} decisions"
    )
    common.print_pages(results["pages"])
    print(
        f"  target: p95 under {TARGET_P95_MS} ms on every page — "
        f"{common.verdict(results['target_met'])}"
    )


if __name__ == "__main__":
    main()
