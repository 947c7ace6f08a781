"""`manage.py anonymise suggest|apply|report`: the engine from the command line, for scripts.

A bad plan, key or column fails before OUTPUT exists; pseudonyms are the same
whether the key comes from a file or the environment; nothing printed holds a
value from the data. Each verb also runs once as a real `manage.py` process.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper

from infoshare.anonymise.engine import (
    ColumnStep,
    Plan,
    parse_plan,
    plan_to_toml,
    pseudonymise_value,
    read_dataset,
)
from infoshare.anonymise.keys import ENVIRONMENT_VARIABLE
from infoshare.anonymise.management.commands.anonymise import PROGRESS_MIN_ROWS, progress_bar
from infoshare.core.upn_check import make_upn
from tests.anonymise.generate import pupil_rows

ROOT = Path(__file__).resolve().parents[2]
KEY = "command-test-key-0123456789abcdef"
OTHER_KEY = "another-command-test-key-fedcba9876"
# Twelve made-up pupils in three groups of gender and year group: 5, 6 and 1 (on purpose).
GENDERS = ["F", "F", "F", "F", "F", "M", "M", "M", "M", "M", "M", "F"]
YEARS = ["Year 7"] * 5 + ["Year 8"] * 6 + ["Year 9"]
SEN = ["N", "K", "N", "E", "N", "N", "N", "K", "N", "N", "E", "N"]


def pupils() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "UPN": [make_upn(f"8011000{n:05d}") for n in range(12)],
            "Forename": [f"Testname{n}" for n in range(12)],
            "Postcode": [f"ZX{n % 3 + 1} {n % 10}AB" for n in range(12)],
            "Gender": GENDERS,
            "Year group": YEARS,
            "SEN provision": SEN,
        }
    )


def plan(**changes) -> Plan:
    base = Plan(
        steps=(
            ColumnStep("UPN", "pseudonymise", {}),
            ColumnStep("Forename", "drop", {}),
            ColumnStep("Postcode", "generalise_postcode", {"to": "outward"}),
            ColumnStep("Gender", "keep", {}),
            ColumnStep("Year group", "keep", {}),
            ColumnStep("SEN provision", "keep", {}),
        ),
        quasi_identifiers=("Gender", "Year group"),
        sensitive=("SEN provision",),
        k=5,
    )
    return replace(base, **changes)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """The pupils as a CSV, a plan beside it, and no key in the environment to start with."""
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    source = tmp_path / "pupils.csv"
    pupils().write_csv(source)
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(plan_to_toml(plan()))
    return source, plan_file


def run(*args: str) -> tuple[int, str, str]:
    """`manage.py anonymise ARGS` in this process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("anonymise", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """`manage.py anonymise ARGS` as a script would run it: a process of its own."""
    env = {k: v for k, v in os.environ.items() if k != ENVIRONMENT_VARIABLE} | environment
    return subprocess.run(
        [sys.executable, "manage.py", "anonymise", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def values_of(frame: pl.DataFrame, column: str) -> list[str]:
    return [value for value in frame[column].to_list() if value]


# --- suggest -----------------------------------------------------------------------------


def test_suggest_prints_a_plan_with_a_step_for_every_column(files):
    source, _ = files
    code, out, _ = run("suggest", str(source))
    assert code == 0
    suggested = parse_plan(out)
    assert {step.column for step in suggested.steps} == set(pupils().columns)
    # The identifiers do not leave as they are.
    assert suggested.step_for("UPN").operation in {"pseudonymise", "drop"}
    assert suggested.step_for("Postcode").operation in {"generalise_postcode", "drop"}


def test_suggest_prints_no_value_from_the_data(files):
    source, _ = files
    _, out, _ = run("suggest", str(source))
    for column in ("UPN", "Forename", "Postcode"):
        for value in values_of(pupils(), column):
            assert value not in out


def test_suggest_takes_the_reference_date_for_age_bands(tmp_path):
    source = tmp_path / "pupils.csv"
    pupil_rows(200, seed=3).write_csv(source)
    code, out, _ = run("suggest", str(source), "--reference-date", "2025-08-31")
    assert code == 0
    step = parse_plan(out).step_for("Date of birth")
    assert step is not None
    assert step.operation == "generalise_date"
    assert step.options["to"] == "age_band"
    assert step.options["reference_date"] == "2025-08-31"


def test_a_suggested_plan_applies_to_the_generated_pupils(tmp_path, monkeypatch):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    source, plan_file, output = tmp_path / "in.csv", tmp_path / "plan.toml", tmp_path / "out.csv"
    generated = pupil_rows(500, seed=5)
    generated.write_csv(source)
    _, out, _ = run("suggest", str(source))
    plan_file.write_text(out)
    code, out, err = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 0, err
    text = output.read_text(encoding="utf-8-sig")
    for column in ("UPN", "Email", "NHS number"):
        for value in values_of(generated, column):
            assert value not in text


# --- apply -------------------------------------------------------------------------------


def test_apply_writes_the_anonymised_csv_and_a_summary_without_values(files, monkeypatch):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    output = source.parent / "out.csv"
    code, out, _ = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 0
    written = read_dataset(output)
    assert written.columns == ["UPN", "Postcode", "Gender", "Year group", "SEN provision"]
    assert written["UPN"].to_list() == [
        pseudonymise_value(upn, KEY.encode()) for upn in pupils()["UPN"]
    ]
    assert set(written["Postcode"]) == {"ZX1", "ZX2", "ZX3"}
    assert out.strip() == f"Read 12 rows; wrote 12 rows to {output} (0 suppressed)."
    text = output.read_text(encoding="utf-8-sig")
    for column in ("UPN", "Forename", "Postcode"):
        for value in values_of(pupils(), column):
            assert value not in text
            assert value not in out


def test_apply_suppresses_rows_in_groups_smaller_than_k(files, monkeypatch):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    plan_file.write_text(plan_to_toml(plan(suppress_below_k=True)))
    output = source.parent / "out.csv"
    code, out, _ = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 0
    # Groups: (F, Year 7) 5 pupils, (M, Year 8) 6, (F, Year 9) 1 — that one row goes.
    assert read_dataset(output).height == 11
    assert "(1 suppressed)" in out


def test_the_key_from_a_file_and_from_the_environment_give_the_same_tokens(files, monkeypatch):
    source, plan_file = files
    key_file = source.parent / "key"
    key_file.write_text(KEY + "\n")
    from_file, from_environment = source.parent / "a.csv", source.parent / "b.csv"
    code, _, err = run(
        "apply", str(source), str(from_file), "--plan", str(plan_file), "--key-file", str(key_file)
    )
    assert code == 0, err
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    assert run("apply", str(source), str(from_environment), "--plan", str(plan_file))[0] == 0
    assert (
        read_dataset(from_file)["UPN"].to_list() == read_dataset(from_environment)["UPN"].to_list()
    )


def test_another_key_gives_other_tokens(files, monkeypatch):
    source, plan_file = files
    first, second = source.parent / "a.csv", source.parent / "b.csv"
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    run("apply", str(source), str(first), "--plan", str(plan_file))
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, OTHER_KEY)
    run("apply", str(source), str(second), "--plan", str(plan_file))
    assert not set(read_dataset(first)["UPN"]) & set(read_dataset(second)["UPN"])


def test_apply_writes_xlsx_that_reads_back_as_the_csv_does(files, monkeypatch):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    as_csv, as_xlsx = source.parent / "out.csv", source.parent / "out.xlsx"
    assert run("apply", str(source), str(as_csv), "--plan", str(plan_file))[0] == 0
    assert run("apply", str(source), str(as_xlsx), "--plan", str(plan_file))[0] == 0
    assert as_xlsx.read_bytes().startswith(b"PK\x03\x04")
    assert read_dataset(as_xlsx).equals(read_dataset(as_csv))


@pytest.mark.parametrize(
    ("bad_plan", "named"),
    [
        (plan(steps=(*plan().steps, ColumnStep("Shoe size", "keep", {}))), "Shoe size"),
        (
            plan(steps=(*plan().steps[:5], ColumnStep("SEN provision", "scramble", {}))),
            "scramble",
        ),
        (plan(steps=plan().steps[1:]), "UPN"),  # a column with no step
        (
            plan(steps=(ColumnStep("UPN", "band", {}), *plan().steps[1:])),
            "width",  # band without its required width
        ),
    ],
    ids=["unknown column", "unknown operation", "column without a step", "missing option"],
)
def test_a_bad_plan_fails_naming_the_problem_before_output_exists(
    files, monkeypatch, bad_plan, named
):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    plan_file.write_text(plan_to_toml(bad_plan))
    output = source.parent / "out.csv"
    code, _, err = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 2
    assert named in err
    assert not output.exists()
    assert set(source.parent.iterdir()) == {plan_file, source}  # no partial file either


def test_pseudonymising_without_a_key_fails_before_output_exists(files):
    source, plan_file = files
    output = source.parent / "out.csv"
    code, _, err = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 2
    assert "key" in err.lower()
    assert not output.exists()


def test_a_plan_without_pseudonymising_needs_no_key(files):
    source, plan_file = files
    steps = (ColumnStep("UPN", "drop", {}), *plan().steps[1:])
    plan_file.write_text(plan_to_toml(plan(steps=steps)))
    output = source.parent / "out.csv"
    assert run("apply", str(source), str(output), "--plan", str(plan_file))[0] == 0
    assert "UPN" not in read_dataset(output).columns


def test_a_short_key_is_refused_before_output_exists(files, monkeypatch):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "too-short")
    output = source.parent / "out.csv"
    code, _, err = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 2
    assert "at least 16" in err
    assert not output.exists()


def test_a_plan_that_is_not_toml_is_refused(files, monkeypatch):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    plan_file.write_text("[[steps]\ncolumn = ")
    output = source.parent / "out.csv"
    code, _, err = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 2
    assert f"The plan {plan_file} cannot be used: The plan is not valid TOML" in err
    assert not output.exists()


def test_a_missing_plan_file_is_named(files):
    source, _ = files
    output = source.parent / "out.csv"
    code, _, err = run("apply", str(source), str(output), "--plan", "nowhere.toml")
    assert code == 2
    assert "nowhere.toml cannot be read" in err


@pytest.mark.parametrize("name", ["out.json", "out.xls", "out"])
def test_an_output_that_is_not_csv_or_xlsx_is_refused_before_any_work(files, name):
    source, plan_file = files
    code, _, err = run("apply", str(source), str(source.parent / name), "--plan", str(plan_file))
    assert code == 2
    assert "must end in .csv or .xlsx" in err
    assert not (source.parent / name).exists()


def test_the_input_is_never_overwritten(files, monkeypatch):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    before = source.read_bytes()
    code, _, err = run("apply", str(source), str(source), "--plan", str(plan_file))
    assert code == 2
    assert "OUTPUT is INPUT" in err
    assert source.read_bytes() == before


def test_an_output_folder_that_does_not_exist_is_an_error_not_a_traceback(files, monkeypatch):
    source, plan_file = files
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    output = source.parent / "missing" / "out.csv"
    code, _, err = run("apply", str(source), str(output), "--plan", str(plan_file))
    assert code == 1
    assert "could not be written" in err


# --- report ------------------------------------------------------------------------------


def test_report_prints_the_risk_as_json_with_the_figures(files):
    source, _ = files
    code, out, _ = run(
        "report", str(source), "--quasi", "Gender,Year group", "--sensitive", "SEN provision"
    )
    assert code == 0
    figures = json.loads(out)
    assert {"rows", "k", "groups", "records_below_k", "l_diversity"} <= figures.keys()
    # Plainly: groups (F, Year 7) 5, (M, Year 8) 6, (F, Year 9) 1.
    assert figures["rows"] == 12
    assert figures["groups"] == 3
    assert figures["k"] == 1
    assert figures["records_below_k"] == 1
    # SEN in (F, Year 7): N K N E N → 3; (M, Year 8): N N K N N E → 3; (F, Year 9): N → 1.
    assert figures["l_diversity"] == {"SEN provision": 1}
    assert out == json.dumps(figures, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_report_takes_k_and_spaces_after_commas(files):
    source, _ = files
    code, out, _ = run("report", str(source), "--quasi", "Gender, Year group", "--k", "6")
    assert code == 0
    figures = json.loads(out)
    assert figures["records_below_k"] == 6  # the groups of 5 and of 1
    assert figures["target_k"] == 6


def test_report_refuses_unknown_columns_naming_them(files):
    source, _ = files
    code, out, err = run(
        "report", str(source), "--quasi", "Gender,Shoe size", "--sensitive", "Blood group"
    )
    assert code == 2
    assert "'Shoe size'" in err
    assert "'Blood group'" in err
    assert out == ""


def test_report_needs_a_quasi_identifier_and_a_positive_k(files):
    source, _ = files
    assert run("report", str(source), "--quasi", " , ")[0] == 2
    assert run("report", str(source), "--quasi", "Gender", "--k", "0")[0] == 2


# --- Unreadable input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"UPN,UPN\n1,2\n", "Two columns have the heading 'UPN'"),
        (b"%PDF-1.7 not a table", "PDF"),
    ],
    ids=["empty", "duplicate headings", "pdf"],
)
@pytest.mark.parametrize("verb", ["suggest", "apply", "report"])
def test_an_unreadable_input_says_why(tmp_path, monkeypatch, content, says, verb):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, KEY)
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(plan_to_toml(plan()))
    output = tmp_path / "out.csv"
    extra = {
        "suggest": [],
        "apply": [str(output), "--plan", str(plan_file)],
        "report": ["--quasi", "UPN"],
    }[verb]
    code, _, err = run(verb, str(source), *extra)
    assert code == 2
    assert f"{source} cannot be read:" in err
    assert says in err
    assert not output.exists()


def test_a_missing_input_is_named(tmp_path):
    code, _, err = run("suggest", str(tmp_path / "nowhere.csv"))
    assert code == 2
    assert "nowhere.csv is not a file" in err


# --- Progress ----------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_large_file_on_a_terminal_shows_a_bar_of_the_plan_steps():
    screen = Terminal()
    stderr = OutputWrapper(screen)
    stderr.style_func = lambda text: f"\x1b[31;1m{text}\x1b[0m"  # as Django colours errors
    with progress_bar(stderr, rows=PROGRESS_MIN_ROWS) as progress:
        assert progress is not None
        for done in range(1, 7):
            progress(done, 6)
    assert "Applying the plan" in screen.getvalue()
    assert "6/6" in screen.getvalue()
    assert "\x1b[31" not in screen.getvalue()  # progress is not an error
    assert screen.getvalue().count("\n") == 1  # redrawn in place; one line when it ends


def test_no_bar_for_a_small_file_or_when_stderr_is_not_a_terminal():
    with progress_bar(OutputWrapper(Terminal()), rows=PROGRESS_MIN_ROWS - 1) as progress:
        assert progress is None
    with progress_bar(OutputWrapper(io.StringIO()), rows=10 * PROGRESS_MIN_ROWS) as progress:
        assert progress is None


# --- As a process ------------------------------------------------------------------------


def test_each_verb_as_a_process_exit_codes_and_streams(files):
    source, plan_file = files
    suggested = manage("suggest", str(source))
    assert suggested.returncode == 0, suggested.stderr
    assert parse_plan(suggested.stdout).step_for("UPN") is not None

    output = source.parent / "out.xlsx"
    refused = manage("apply", str(source), str(output), "--plan", str(plan_file))
    assert refused.returncode == 2
    assert "key" in refused.stderr.lower()
    assert refused.stdout == ""
    assert not output.exists()

    applied = manage(
        "apply", str(source), str(output), "--plan", str(plan_file), **{ENVIRONMENT_VARIABLE: KEY}
    )
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.startswith("Read 12 rows; wrote 12 rows")
    assert applied.stderr == ""  # no bar: not a terminal, and a small file
    assert read_dataset(output).height == 12

    reported = manage("report", str(output), "--quasi", "Gender,Year group")
    assert reported.returncode == 0, reported.stderr
    assert json.loads(reported.stdout)["rows"] == 12


def test_a_bad_verb_or_missing_argument_is_a_usage_error_as_a_process(files):
    source, _ = files
    assert manage("scramble", str(source)).returncode == 2
    missing_plan = manage("apply", str(source), str(source.parent / "out.csv"))
    assert missing_plan.returncode == 2
    assert "--plan" in missing_plan.stderr
