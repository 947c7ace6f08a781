"""Anonymisation benchmark: the full plan and its risk report against polars' own floor.

    .venv/bin/python bench/anonymise.py [--rows 1000000] [--repeat 3]

Generates a synthetic pupil dataset (`tests/anonymise/generate.py`: 15 columns,
made-up people, valid check digits) as a CSV in a temporary folder, then
measures, each in a fresh Python process so that one phase's memory cannot
hide in another's:

0. the baseline: the engine imported, no data (the memory every phase starts with);
1. suggest: `read_dataset` + `suggest_plan` (reported, not part of the aims);
2. the floor: `read_dataset` + `write_dataset`, the file untouched;
3. the full plan: `read_dataset`, the suggested plan with `suppress_below_k`
   and a key (`check_plan`, `apply_plan`), the risk report before and after,
   `write_dataset`.

The floor and the full plan run `--repeat` times (3), alternately; the best
time of each counts, as other work on the machine only ever slows a run.
Time is wall-clock (perf_counter) from before the read to after the write;
peak memory is each process's peak resident set (getrusage maxrss), because
polars allocates in Rust where tracemalloc cannot see. Aims: the full plan
within 2x the floor's time, and its peak memory within 4x the file's size.
Prints a summary and writes bench/results/anonymise.json. The engine is
imported without Django (DESIGN.md rule 10); each phase checks that.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as `python bench/anonymise.py`, Python puts bench/ on the path, not the
# project root that infoshare and tests are imported from.
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "anonymise.json"
TARGET_TIME_RATIO = 2.0
TARGET_PEAK_TO_FILE = 4.0
COLUMNS = 15
K = 5
# A generated key: the benchmark measures the work, not the key's secrecy.
BENCH_KEY = b"benchmark-only-pseudonymisation-key"


def main() -> None:
    options = parse_arguments()
    if options.phase == "generate":
        generate(options.rows, Path(options.folder) / "pupils.csv")
        print("{}")
        return
    if options.phase:
        run_phase(options.phase, Path(options.folder))
        return
    with tempfile.TemporaryDirectory(prefix="bench-anonymise-") as folder:
        results = measure(options.rows, Path(folder), options.repeat)
    print_summary(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the floor and of the full plan (the best)"
    )
    # Internal: how the benchmark runs each phase in its own process.
    parser.add_argument(
        "--phase",
        choices=("generate", "baseline", "suggest", "floor", "full"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    return parser.parse_args()


# --- The parent: generate, run each phase, report --------------------------------------


def measure(rows: int, folder: Path, repeat: int) -> dict[str, Any]:
    load_before = round(os.getloadavg()[0], 2)
    # Generated in a process of its own too: a child's peak RSS starts from its
    # parent's (Linux carries the high-water mark across fork and exec), so the
    # parent must never hold the data or even polars.
    started = time.perf_counter()
    phase("generate", folder, rows=rows)
    generated = time.perf_counter() - started
    file_bytes = (folder / "pupils.csv").stat().st_size
    baseline = phase("baseline", folder)
    suggest = phase("suggest", folder)
    floors, fulls = [], []
    for _ in range(repeat):  # alternately, so that a busy moment of the machine hits both
        floors.append(phase("floor", folder))
        fulls.append(phase("full", folder))
    floor, full = best(floors), best(fulls)
    ratio = full["seconds"] / floor["seconds"]
    peak_to_file = full["peak_bytes"] / file_bytes
    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        # Other work on the machine slows every figure: keep it with them.
        "load_average_before": load_before,
        "rows": rows,
        "columns": COLUMNS,
        "file_bytes": file_bytes,
        "generate_seconds": round(generated, 1),
        "suggest_seconds": suggest["seconds"],
        "suggest_peak_bytes": suggest["peak_bytes"],
        "floor_seconds": floor["seconds"],
        "full_seconds": full["seconds"],
        "floor_runs_seconds": floor["runs_seconds"],
        "full_runs_seconds": full["runs_seconds"],
        "ratio": round(ratio, 2),
        "floor_peak_bytes": floor["peak_bytes"],
        "full_peak_bytes": full["peak_bytes"],
        "peak_to_file_ratio": round(peak_to_file, 2),
        # The interpreter with polars and the engine loaded, before any data: the
        # part of every peak that does not grow with the file.
        "baseline_peak_bytes": baseline["peak_bytes"],
        "full_peak_above_baseline_to_file_ratio": round(
            (full["peak_bytes"] - baseline["peak_bytes"]) / file_bytes, 2
        ),
        "full_steps": full["steps"],
        "full_stage_seconds": full["stage_seconds"],
        "full_step_seconds": full["step_seconds"],
        "rows_out": full["rows_out"],
        "rows_suppressed": full["rows_suppressed"],
        "risk_before": full["risk_before"],
        "risk_after": full["risk_after"],
        "django_imported": any(p["django_imported"] for p in (suggest, floor, full)),
        "load_average_after": round(os.getloadavg()[0], 2),
        "targets": {"time_ratio": TARGET_TIME_RATIO, "peak_to_file_ratio": TARGET_PEAK_TO_FILE},
        "aims_met": {
            "time_within_2x_floor": ratio <= TARGET_TIME_RATIO,
            "peak_within_4x_file": peak_to_file <= TARGET_PEAK_TO_FILE,
        },
    }


def phase(name: str, folder: Path, *, rows: int = 0) -> dict[str, Any]:
    """Run phase `name` in a fresh interpreter; returns what it printed (JSON)."""
    completed = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--folder", str(folder), "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.exit(f"The {name} phase failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run, with every run's seconds and the highest peak of them all."""
    fastest = min(runs, key=lambda run: run["seconds"])
    return fastest | {
        "runs_seconds": [run["seconds"] for run in runs],
        "peak_bytes": max(run["peak_bytes"] for run in runs),
    }


# --- A phase, in its own process ------------------------------------------------------------


def generate(rows: int, path: Path) -> None:
    """`rows` synthetic pupils as a CSV (polars expressions: about a second a million)."""
    from tests.anonymise.generate import pupil_rows

    frame = pupil_rows(rows, seed=8)
    if frame.width != COLUMNS:
        sys.exit(f"The generator made {frame.width} columns, not {COLUMNS}.")
    frame.write_csv(path)


def run_phase(name: str, folder: Path) -> None:
    from infoshare.anonymise import engine

    started = time.perf_counter()
    result = PHASES[name](engine, folder)
    seconds = time.perf_counter() - started
    # Linux reports maxrss in KiB: this process's peak, imports included.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result |= {
        "seconds": round(seconds, 3),
        "peak_bytes": peak,
        "django_imported": "django" in sys.modules,
    }
    print(json.dumps(result))


def baseline(engine: Any, folder: Path) -> dict[str, Any]:
    """Nothing but the imports: the peak memory every other phase is measured above."""
    return {}


def suggest(engine: Any, folder: Path) -> dict[str, Any]:
    plan = engine.suggest_plan(engine.read_dataset(folder / "pupils.csv"))
    (folder / "plan.toml").write_text(engine.plan_to_toml(plan), encoding="utf-8")
    return {}


def floor(engine: Any, folder: Path) -> dict[str, Any]:
    """Polars reading and writing the file untouched: what the full plan is compared with."""
    engine.write_dataset(engine.read_dataset(folder / "pupils.csv"), folder / "floor.csv")
    return {}


def full(engine: Any, folder: Path) -> dict[str, Any]:
    return full_plan(engine, folder / "pupils.csv", folder)


def full_plan(engine: Any, source: Path, folder: Path) -> dict[str, Any]:
    """The command's `apply` and `report`, end to end: what a school would run.

    Also where the time goes (stage by stage, and each column's step through the
    progress callback), so that a missed aim points at its cause.
    """
    import dataclasses

    clock = Stopwatch()
    plan = engine.parse_plan((folder / "plan.toml").read_text(encoding="utf-8"))
    plan = dataclasses.replace(plan, suppress_below_k=True, k=K)
    frame = engine.read_dataset(source)
    clock.lap("read")
    engine.check_plan(plan, frame.columns, key=BENCH_KEY)
    clock.lap("check")
    quasi, sensitive = list(plan.quasi_identifiers), list(plan.sensitive)
    # Before: the same columns as they are in the file (raw dates of birth, full postcodes).
    before = engine.risk_report(
        frame, quasi=[name for name in quasi if name in frame.columns], sensitive=sensitive, k=K
    )
    clock.lap("risk_before")
    # apply_plan reports after each of the data's columns, then after suppression.
    names = [*frame.columns, "(suppress_below_k)"]
    steps: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        steps[names[done - 1]] = clock.lap(None)

    applied = engine.apply_plan(frame, plan, key=BENCH_KEY, progress=progress)
    clock.lap(None)  # apply_plan's own check and assembly, after the last step
    after = engine.risk_report(applied.frame, quasi=quasi, sensitive=sensitive, k=K)
    clock.lap("risk_after")
    engine.write_dataset(applied.frame, folder / "anonymised.csv")
    clock.lap("write")
    return {
        "steps": {step.column: step.operation for step in plan.steps},
        "stage_seconds": clock.laps | {"apply": round(sum(steps.values()), 3)},
        "step_seconds": {name: round(seconds, 3) for name, seconds in steps.items()},
        "rows_out": applied.frame.height,
        "rows_suppressed": applied.rows_suppressed,
        "risk_before": summary(before),
        "risk_after": summary(after),
    }


class Stopwatch:
    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str | None) -> float:
        """Seconds since the last lap; kept under `name` if given."""
        now = time.perf_counter()
        seconds, self.last = now - self.last, now
        if name:
            self.laps[name] = round(seconds, 3)
        return seconds


# Each phase the benchmark runs in a fresh process of its own (`run_phase`).
PHASES = {"baseline": baseline, "suggest": suggest, "floor": floor, "full": full}


def summary(report: Any) -> dict[str, Any]:
    figures = report.as_dict()
    return {key: figures[key] for key in ("rows", "k", "groups", "records_below_k")}


# --- Report ------------------------------------------------------------------------------


def print_summary(results: dict[str, Any]) -> None:
    met = results["aims_met"]
    mib = 1024 * 1024
    print(
        f"Anonymisation benchmark — Python {results['python']}, {results['machine']}, "
        f"load average {results['load_average_before']} before, "
        f"{results['load_average_after']} after"
    )
    print(
        f"  {results['rows']:,} rows x {results['columns']} columns, "
        f"{results['file_bytes'] / mib:,.0f} MiB CSV; generated in "
        f"{results['generate_seconds']} s; suggest {results['suggest_seconds']} s"
    )
    print(f"  baseline (imports only): peak {results['baseline_peak_bytes'] / mib:,.0f} MiB")
    print(
        f"  floor (read + write):  {results['floor_seconds']:>8.2f} s  "
        f"peak {results['floor_peak_bytes'] / mib:,.0f} MiB"
    )
    print(
        f"  full plan + reports:   {results['full_seconds']:>8.2f} s  "
        f"peak {results['full_peak_bytes'] / mib:,.0f} MiB  "
        f"({results['rows_suppressed']:,} rows suppressed)"
    )
    stages = results["full_stage_seconds"]
    print("  full plan, by stage: " + ", ".join(f"{k} {v} s" for k, v in stages.items()))
    before, after = results["risk_before"], results["risk_after"]
    print(
        f"  risk: smallest group {before['k']} before, {after['k']} after; "
        f"{before['records_below_k']:,} records in groups under {K} before, "
        f"{after['records_below_k']:,} after"
    )
    print(
        f"  aim: full within {TARGET_TIME_RATIO:g}x the floor — {results['ratio']}x: "
        f"{'met' if met['time_within_2x_floor'] else 'NOT MET'}"
    )
    print(
        f"  aim: peak within {TARGET_PEAK_TO_FILE:g}x the file — "
        f"{results['peak_to_file_ratio']}x: "
        f"{'met' if met['peak_within_4x_file'] else 'NOT MET'} "
        f"({results['full_peak_above_baseline_to_file_ratio']}x above the baseline)"
    )
    if results["django_imported"]:
        print("  WARNING: the engine imported Django (DESIGN.md rule 10)")


if __name__ == "__main__":
    main()
