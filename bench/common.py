"""What every benchmark in bench/ shares: its environment, database, people, timing and report.

A benchmark runs as a script (`python bench/decisions.py`) and imports this
module before Django is set up, so nothing here reads the settings or the
models on import: a benchmark calls `setup_django()` (the environment, then
`django.setup()`) before anything else of Django's; the functions here that
need the models import them when called.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import django
import orjson
import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from psycopg import sql

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"

# Requests a page and returns how many rows it says it matched.
Fetch = Callable[[Client, str], int]
# What a benchmark's generate() made, for it to measure.
World = TypeVar("World")


# --- Before django.setup() ---------------------------------------------------------------


def default_databases(name: str) -> dict[str, str]:
    """Where benchmark `name` runs without DATABASE_URL: an SQLite file in var/ and PostgreSQL."""
    return {
        "sqlite": f"sqlite:///{ROOT / 'var' / f'bench-{name}.sqlite3'}",
        "postgresql": f"postgres://postgres@127.0.0.1:5432/bench_{name}",
    }


def run_each_default_database(script: str, databases: Mapping[str, str]) -> None:
    """Without DATABASE_URL, run `script` on each of `databases`, then exit; with it, return."""
    if "DATABASE_URL" in os.environ:
        return
    for url in databases.values():
        # A process per database: Django reads its settings once.
        subprocess.run(
            [sys.executable, script, *sys.argv[1:]],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
        )
    sys.exit(0)


def setup_django(*, test_client: bool = False) -> None:
    """`django.setup()`, with the environment it reads set first (see `configure_environment`)."""
    configure_environment(test_client=test_client)
    django.setup()


def configure_environment(*, test_client: bool = False) -> None:
    """Set defaults for what the settings read; `django.setup()` reads them once, so first.

    A benchmark is standalone, and not a developer's DEBUG server (DEBUG would
    also keep every query in memory). With `test_client`, also what Django's
    test Client needs: it calls itself "testserver" and speaks plain HTTP; and
    no log line per request among the figures.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infoshare.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-" + "x" * 20)
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("INFOSHARE_MASTER_KEY", "YmVuY2htYXJrLW9ubHktbWFzdGVyLWtleS0zMmJ5dGU=")
    os.environ.setdefault("STATIC_MANIFEST", "false")
    if test_client:
        os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
        os.environ.setdefault("ALLOWED_HOSTS", "testserver")
        os.environ.setdefault("LOG_LEVEL", "WARNING")


# --- Database ----------------------------------------------------------------------------


def set_up(generate: Callable[[], World]) -> tuple[World, float]:
    """A fresh database, filled by `generate` and analysed; returns what it made and the seconds."""
    prepare_database()
    started = time.perf_counter()
    world = generate()
    generated = time.perf_counter() - started
    analyse()
    return world, round(generated, 1)


def prepare_database() -> None:
    """A fresh, migrated database, so that no earlier run's rows change the figures."""
    recreate_database()
    call_command("migrate", verbosity=0)


def recreate_database() -> None:
    """Delete the SQLite file, or drop and create the PostgreSQL database."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database['NAME']}{suffix}").unlink(missing_ok=True)
        return
    # A database cannot be dropped over a connection to itself: use the server's "postgres".
    with psycopg.connect(**_connection_arguments(database, "postgres"), autocommit=True) as admin:
        name = sql.Identifier(database["NAME"])
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _connection_arguments(database: Mapping[str, Any], name: str) -> dict[str, Any]:
    """psycopg's arguments for database `name` on the server of Django's `database`."""
    arguments = {
        "dbname": name,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
    }
    # Left out rather than empty, so that libpq's defaults (socket, PG* variables) apply.
    return {key: value for key, value in arguments.items() if value is not None}


def analyse() -> None:
    """Statistics up to date, as in a database that has been running a while."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def database_label() -> str:
    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.pg_version // 10000}"  # type: ignore[attr-defined]
    return f"SQLite {sqlite3.sqlite_version}"


def run_context() -> dict[str, Any]:
    """What the figures were measured on; the first entries of every result."""
    return {
        "database": database_label(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        # Other work on the machine slows every figure: keep it with them.
        "load_average_before": load_average(),
    }


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# --- People ------------------------------------------------------------------------------


def school(urn: str, staff: int) -> tuple[Organisation, User, list[User]]:
    """The school whose pages are measured, its DPO, and its members: the DPO, `staff` others."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from infoshare.core.models import Organisation, OrganisationKind, Role

    organisation = Organisation.objects.create(
        name="Bench Primary School", slug="bench", kind=OrganisationKind.SCHOOL, urn=urn
    )
    dpo = member(organisation, "dpo@bench.test", "Dana DPO", Role.DPO)
    # A DPO must have a second factor; the middleware checks for it on every request.
    TOTP.activate(dpo, generate_totp_secret())
    members = [
        member(organisation, f"staff{n}@bench.test", f"Staff Member {n}", Role.STAFF)
        for n in range(staff)
    ]
    return organisation, dpo, [dpo, *members]


def member(school: Organisation, email: str, name: str, role: str) -> User:
    from infoshare.core.models import Membership, User

    user = User.objects.create_user(email=email, name=name)
    Membership.objects.create(user=user, organisation=school).set_roles([role])
    return user


# --- Measuring ---------------------------------------------------------------------------


def page_arguments(docstring: str, **sizes: int) -> argparse.Namespace:
    """A page benchmark's options: `--NAME` for each of `sizes` (the default), and `--requests`."""
    parser = argparse.ArgumentParser(description=docstring.split("\n", maxsplit=1)[0])
    for name, default in sizes.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    return parser.parse_args()


def measure_pages(
    user: User, pages: Mapping[str, str], requests: int, fetch: Fetch
) -> dict[str, dict[str, Any]]:
    """Each of `pages` (name: URL) requested as `user`, `requests` times."""
    client = Client()
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return {name: measure(client, url, requests, fetch) for name, url in pages.items()}


def measure(client: Client, url: str, requests: int, fetch: Fetch) -> dict[str, Any]:
    """`url`'s queries and rows, then its server time over `requests` requests."""
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


def get(client: Client, url: str) -> Any:  # the test Client's response; its stubs lack content
    """Request `url`; any answer but 200 ends the run, as its timings would mean nothing."""
    response = client.get(url)
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}")
    return response


def result_count(content: str, noun: str) -> int | None:
    """The count in a list page's `#result-count` ("1,234 decisions"); None without one.

    `noun` is a regular expression for the word after the number.
    """
    count = re.search(rf'id="result-count">[^<]*?([\d,]+) {noun}', content)
    return int(count.group(1).replace(",", "")) if count else None


# --- Report ------------------------------------------------------------------------------


def print_heading(title: str, results: Mapping[str, Any]) -> None:
    """The summary's first line: `title` and what `run_context` recorded."""
    print(
        f"{title} — {results['database']}, Python {results['python']}, "
        f"{results['machine']}, load average {results['load_average_before']} before, "
        f"{results['load_average_after']} after"
    )


def print_pages(pages: Mapping[str, Mapping[str, Any]]) -> None:
    """A table of what `measure_pages` returned, a row per page."""
    width = max(map(len, pages)) + 2  # the longest page name, then two spaces
    print(
        f"  {'page':<{width}}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'queries':>9}{'rows':>9}"
    )
    for name, page in pages.items():
        print(
            f"  {name:<{width}}{page['median_ms']:>10}{page['p95_ms']:>9}{page['max_ms']:>9}"
            f"{page['queries']:>9}{page['rows_matched']:>9}"
        )


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def write_results(path: Path, results: dict[str, Any], *, per_database: bool = False) -> None:
    """Write `results` to `path` as JSON.

    `per_database`: under the database's vendor, beside the entries already
    there, so that runs on SQLite and PostgreSQL sit side by side.
    """
    data, note = results, ""
    if per_database:
        data = orjson.loads(path.read_bytes()) if path.exists() else {}
        data[connection.vendor] = results
        note = f" ({connection.vendor})"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nWritten to {path.relative_to(ROOT)}{note}")
