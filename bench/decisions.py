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
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "decisions.json"
DEFAULT_DATABASES = {
    "sqlite": f"sqlite:///{ROOT / 'var' / 'bench-decisions.sqlite3'}",
    "postgresql": "postgres://postgres@127.0.0.1:5432/bench_decisions",
}
TARGET_P95_MS = 100


def run_each_default_database() -> None:
    """Without DATABASE_URL, measure both databases, each in its own process
    (Django reads its settings once)."""
    for url in DEFAULT_DATABASES.values():
        subprocess.run(
            [sys.executable, __file__, *sys.argv[1:]],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
        )


if __name__ == "__main__" and "DATABASE_URL" not in os.environ:
    run_each_default_database()
    sys.exit(0)

# Standalone: the settings need these, and a benchmark is not a developer's
# DEBUG server (DEBUG would also keep every query in memory). The test Client
# calls itself "testserver" and speaks plain HTTP.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infoshare.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402
import orjson  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

django.setup()

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from infoshare.core.models import (  # noqa: E402
    ExternalKind,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
    Role,
    User,
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
    options = parse_arguments()
    recreate_database()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = generate(options)
    generated = time.perf_counter() - started
    analyse()
    results: dict[str, Any] = {
        "database": database_label(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_before": round(os.getloadavg()[0], 2),
        "data": {
            "pupils": options.pupils,
            "decisions": Decision.objects.count(),
            "special_category": Decision.objects.filter(has_special_category=True).count(),
            "corrected": Decision.objects.filter(superseded_by__isnull=False).count(),
            "person_decisions": world["person_decisions"],
            "generate_seconds": round(generated, 1),
        },
        "requests_per_page": options.requests,
        "pages": measure_pages(world, options.requests),
    }
    results["load_average_after"] = round(os.getloadavg()[0], 2)
    results["target_p95_ms"] = TARGET_P95_MS
    results["target_met"] = all(
        page["p95_ms"] < TARGET_P95_MS for page in results["pages"].values()
    )
    print_summary(results)
    write_results(results)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--pupils", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    return parser.parse_args()


# --- Set-up ------------------------------------------------------------------------


def recreate_database() -> None:
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database['NAME']}{suffix}").unlink(missing_ok=True)
        return
    name = database["NAME"]
    with psycopg.connect(**_connection_arguments(database, "postgres"), autocommit=True) as admin:
        database_name = sql.Identifier(name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database_name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(database_name))


def _connection_arguments(database: dict[str, Any], name: str) -> dict[str, Any]:
    arguments = {
        "dbname": name,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
    }
    return {key: value for key, value in arguments.items() if value is not None}


def database_label() -> str:
    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.pg_version // 10000}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def generate(options: argparse.Namespace) -> dict[str, Any]:
    """One school, its staff, pupils, recipients and decision log."""
    randomiser = random.Random(7)
    school = Organisation.objects.create(
        name="Bench Primary School", slug="bench", kind=OrganisationKind.SCHOOL, urn="199999"
    )
    dpo = member(school, "dpo@bench.test", "Dana DPO", Role.DPO)
    # A DPO must have a second factor; the middleware checks for it on every request.
    TOTP.activate(dpo, generate_totp_secret())
    recorders = [dpo] + [
        member(school, f"staff{n}@bench.test", f"Staff Member {n}", Role.STAFF) for n in range(12)
    ]
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


def member(school: Organisation, email: str, name: str, role: str) -> User:
    user = User.objects.create_user(email=email, name=name)
    Membership.objects.create(user=user, organisation=school).set_roles([role])
    return user


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


def analyse() -> None:
    """Statistics up to date, as in a database that has been running a while."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- Measuring ---------------------------------------------------------------------------


def measure_pages(world: dict[str, Any], requests: int) -> dict[str, dict[str, Any]]:
    client = Client()
    client.force_login(world["dpo"], backend="allauth.account.auth_backends.AuthenticationBackend")
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
    return {name: measure(client, url, requests) for name, url in pages.items()}


def measure(client: Client, url: str, requests: int) -> dict[str, Any]:
    for _ in range(3):  # warm up: templates compiled, connection open
        fetch(client, url)
    with CaptureQueriesContext(connection) as captured:
        rows = fetch(client, url)
    # Read now: the next request empties the connection's query log.
    queries = len(captured)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        fetch(client, url)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "url": url,
        "queries": queries,
        "rows_matched": rows,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(statistics.quantiles(timings, n=100, method="inclusive")[94], 1),
        "max_ms": round(max(timings), 1),
    }


def fetch(client: Client, url: str) -> int:
    """Request `url`; returns how many decisions the page says it matched."""
    response = client.get(url)
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}")
    content = response.content.decode()
    count = re.search(r'id="result-count">[^<]*?([\d,]+) decisions?', content)
    if count:
        return int(count.group(1).replace(",", ""))
    return content.count('class="govuk-summary-card"')  # a person's history


# --- Report ------------------------------------------------------------------------------


def print_summary(results: dict[str, Any]) -> None:
    data = results["data"]
    print(
        f"Decision log benchmark — {results['database']}, Python {results['python']}, "
        f"{results['machine']}, load average {results['load_average_before']} before, "
        f"{results['load_average_after']} after"
    )
    print(
        f"  {data['decisions']:,} decisions ({data['special_category']:,} special category, "
        f"{data['corrected']:,} corrected), {data['pupils']:,} pupils; generated in "
        f"{data['generate_seconds']} s; the person has {data['person_decisions']} decisions"
    )
    print(f"  {'page':<24}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'queries':>9}{'rows':>9}")
    for name, page in results["pages"].items():
        print(
            f"  {name:<24}{page['median_ms']:>10}{page['p95_ms']:>9}{page['max_ms']:>9}"
            f"{page['queries']:>9}{page['rows_matched']:>9}"
        )
    verdict = "met" if results["target_met"] else "NOT MET"
    print(f"  target: p95 under {TARGET_P95_MS} ms on every page — {verdict}")


def write_results(results: dict[str, Any]) -> None:
    """One entry per database, so runs on SQLite and PostgreSQL sit side by side."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    if RESULTS.exists():
        existing = orjson.loads(RESULTS.read_bytes())
    existing[connection.vendor] = results
    RESULTS.write_text(orjson.dumps(existing, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nWritten to {RESULTS.relative_to(ROOT)} ({connection.vendor})")


if __name__ == "__main__":
    main()
