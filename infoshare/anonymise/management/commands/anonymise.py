"""`manage.py anonymise suggest|apply|report`: the anonymisation engine from the command line.

Appendix A step 2 of the information sharing policy: "If your objective can be
met in a privacy friendly way then personal data should not be shared." These
three verbs make that the easy path for a school's spreadsheets, and other
tools script them:

    anonymise suggest INPUT [--reference-date YYYY-MM-DD]   a plan, as TOML, on stdout
    anonymise apply INPUT OUTPUT --plan PLAN.toml [--key-file FILE]
    anonymise report INPUT --quasi COL,COL [--sensitive COL,COL] [--k 5]   JSON on stdout

A thin front on `infoshare.anonymise.engine`. Nothing is written until the
plan, the key and the columns have been checked, so a bad plan leaves no
OUTPUT behind. The pseudonymisation key comes from `--key-file` or
INFOSHARE_ANONYMISE_KEY, never from the plan. Nothing printed contains a
value from the data. Exit codes: 0 done; 2 what was asked cannot be done (an
unreadable input, a bad plan, key or column name); 1 the output could not be
written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from infoshare.anonymise.engine import (
    Plan,
    PlanError,
    UnreadableDataset,
    apply_plan,
    check_plan,
    parse_plan,
    plan_to_toml,
    read_dataset,
    risk_report,
    suggest_plan,
    write_dataset,
)
from infoshare.anonymise.keys import UnusableKey, read_key

OUTPUT_FORMATS = (".csv", ".xlsx")
# Below this a plan applies in a moment, and a bar would only flicker.
PROGRESS_MIN_ROWS = 100_000
BAD_REQUEST = 2  # the exit code when what was asked cannot be done


class Command(BaseCommand):
    help = (
        "Anonymise a pupil dataset (CSV or XLSX): suggest a plan, apply it, or report the "
        "re-identification risk."
    )
    # It reads and writes files only: no database, so no system or migration checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True, metavar="{suggest,apply,report}")
        suggest = verbs.add_parser(
            "suggest", help="Print a suggested plan for INPUT as TOML, to adjust and apply."
        )
        suggest.add_argument("source", metavar="INPUT", help="A CSV or XLSX file.")
        suggest.add_argument(
            "--reference-date",
            metavar="YYYY-MM-DD",
            type=date.fromisoformat,
            help="The date ages are banded at (default: the engine's, today).",
        )
        apply = verbs.add_parser(
            "apply", help="Apply PLAN to INPUT and write OUTPUT (.csv or .xlsx)."
        )
        apply.add_argument("source", metavar="INPUT", help="A CSV or XLSX file.")
        apply.add_argument("output", metavar="OUTPUT", help="Where to write: .csv or .xlsx.")
        apply.add_argument("--plan", required=True, metavar="PLAN.toml", help="The plan.")
        apply.add_argument(
            "--key-file",
            metavar="FILE",
            help="The pseudonymisation key (default: the INFOSHARE_ANONYMISE_KEY variable).",
        )
        report = verbs.add_parser("report", help="Print INPUT's re-identification risk as JSON.")
        report.add_argument("source", metavar="INPUT", help="A CSV or XLSX file.")
        report.add_argument(
            "--quasi", required=True, metavar="COL,COL", help="The quasi-identifier columns."
        )
        report.add_argument(
            "--sensitive", default="", metavar="COL,COL", help="Columns to check l-diversity of."
        )
        report.add_argument("--k", type=int, default=5, help="The smallest safe group (5).")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        handlers: dict[str, Callable[..., None]] = {
            "suggest": self.suggest,
            "apply": self.apply,
            "report": self.report,
        }
        handlers[verb](**options)

    def suggest(self, *, source: str, reference_date: date | None = None, **_: Any) -> None:
        frame = read(source)
        self.stdout.write(plan_to_toml(suggest_plan(frame, reference_date=reference_date)))

    def apply(
        self, *, source: str, output: str, plan: str, key_file: str | None = None, **_: Any
    ) -> None:
        destination = output_path(source, output)
        checked_plan = read_plan(plan)
        key = key_from(key_file)
        frame = read(source)
        try:
            check_plan(checked_plan, frame.columns, key=key)
        except PlanError as error:
            raise plan_refused(plan, error) from None
        with progress_bar(self.stderr, rows=frame.height) as progress:
            applied = apply_plan(frame, checked_plan, key=key, progress=progress)
        if progress is not None:  # a large file on a terminal: writing takes a while too
            self.stderr.write(f"Writing {destination}…", style_func=_plain)
        try:
            write_dataset(applied.frame, destination)
        except OSError as error:
            raise CommandError(f"{destination} could not be written: {error.strerror}.") from None
        self.stdout.write(
            f"Read {frame.height:,} rows; wrote {applied.frame.height:,} rows to {destination}"
            f" ({applied.rows_suppressed:,} suppressed)."
        )

    def report(self, *, source: str, quasi: str, sensitive: str = "", k: int = 5, **_: Any) -> None:
        if k < 1:
            raise CommandError("--k must be 1 or more.", returncode=BAD_REQUEST)
        quasi_columns, sensitive_columns = column_list(quasi), column_list(sensitive)
        if not quasi_columns:
            raise CommandError("--quasi names no column: give COL,COL.", returncode=BAD_REQUEST)
        frame = read(source)
        require_columns(frame, [*quasi_columns, *sensitive_columns])
        found = risk_report(frame, quasi=quasi_columns, sensitive=sensitive_columns, k=k)
        self.stdout.write(json.dumps(found.as_dict(), sort_keys=True, indent=2, ensure_ascii=False))


# --- Inputs ------------------------------------------------------------------------------


def read(path: str) -> pl.DataFrame:
    """The dataset at `path`, or a CommandError saying why it cannot be read."""
    if not Path(path).is_file():
        raise CommandError(f"{path} is not a file.", returncode=BAD_REQUEST)
    try:
        return read_dataset(Path(path))
    except UnreadableDataset as error:
        raise CommandError(f"{path} cannot be read: {error}", returncode=BAD_REQUEST) from None


def output_path(source: str, output: str) -> Path:
    """OUTPUT, refused before any work if its format is unknown or it is the input itself."""
    destination = Path(output)
    if destination.suffix.lower() not in OUTPUT_FORMATS:
        raise CommandError(
            f"OUTPUT must end in .csv or .xlsx, not {destination.suffix or 'nothing'!r}.",
            returncode=BAD_REQUEST,
        )
    # Anonymising in place would destroy the original the school still needs.
    if destination.exists() and destination.resolve() == Path(source).resolve():
        raise CommandError(
            "OUTPUT is INPUT: write the anonymised copy elsewhere.", returncode=BAD_REQUEST
        )
    return destination


def read_plan(path: str) -> Plan:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise CommandError(
            f"The plan {path} cannot be read: {reason}.", returncode=BAD_REQUEST
        ) from None
    try:
        return parse_plan(text)
    except PlanError as error:
        raise plan_refused(path, error) from None


def plan_refused(path: str, error: PlanError) -> CommandError:
    """Every problem of the plan, one a line, so they can all be put right at once."""
    problems = getattr(error, "problems", None) or (str(error),)
    if len(problems) == 1:
        return CommandError(
            f"The plan {path} cannot be used: {problems[0]}", returncode=BAD_REQUEST
        )
    listed = "".join(f"\n  - {problem}" for problem in problems)
    return CommandError(
        f"The plan {path} cannot be used ({len(problems)} problems):{listed}",
        returncode=BAD_REQUEST,
    )


def key_from(key_file: str | None) -> bytes | None:
    try:
        return read_key(key_file)
    except UnusableKey as error:
        raise CommandError(str(error), returncode=BAD_REQUEST) from None


def column_list(text: str) -> list[str]:
    """'gender, year_group' → ['gender', 'year_group'] (headings are read trimmed)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def require_columns(frame: pl.DataFrame, names: Sequence[str]) -> None:
    unknown = [name for name in dict.fromkeys(names) if name not in frame.columns]
    if unknown:
        raise CommandError(
            f"No column {', '.join(map(repr, unknown))} in the input; its columns are "
            f"{', '.join(map(repr, frame.columns))}.",
            returncode=BAD_REQUEST,
        )


# --- Progress ----------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Unstyled: Django colours a terminal's stderr as errors, and progress is not one."""
    return text


class _BarStream:
    """tqdm's output through Django's stderr wrapper, which would add a newline to each write."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(text, style_func=_plain, ending="")

    def flush(self) -> None:
        self.stream.flush()


@contextmanager
def progress_bar(
    stream: OutputWrapper, *, rows: int
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on `stream`, or None if there is nobody to see it.

    Only on a terminal (a script reading stderr wants no control characters)
    and only for large files.
    """
    if rows < PROGRESS_MIN_ROWS or not stream.isatty():
        yield None
        return
    with tqdm(total=None, desc="Applying the plan", unit="step", file=_BarStream(stream)) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield progress
