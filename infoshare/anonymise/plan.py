"""Anonymisation plans: what happens to each column of a dataset, written as TOML.

Appendix A step 2 asks whether the objective can be met without personal
data; a plan is the school's answer for one dataset, column by column. It is
plain text so a DPO can read it, keep it with the proposal or agreement, and
use it again for the next export under the same agreement. The
pseudonymisation key is never part of a plan: a plan may be shared, the key
must not be.

`check_plan` refuses a plan before any output is written, with a message that
names the column and the problem.

No Django here (design rule 10).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import tomli_w

# The operations, in the order messages and the plan's header list them.
_OPERATION_ORDER = (
    "keep",
    "drop",
    "pseudonymise",
    "generalise_date",
    "generalise_postcode",
    "band",
    "mask",
    "group_rare",
)
OPERATIONS: frozenset[str] = frozenset(_OPERATION_ORDER)
_PLAN_KEYS = frozenset({"k", "quasi_identifiers", "sensitive", "suppress_below_k"})
# Anything that looks like a secret is refused in a plan: the key comes from a file
# or the environment, because plans are kept and shared.
_SECRET_KEYS = frozenset({"key", "secret", "hmac_key", "pseudonymisation_key", "salt"})

HEADER = """\
# Anonymisation plan (Infoshare). Appendix A step 2: share personal data only when
# the purpose cannot be met in a privacy friendly way.
#
# One [[columns]] entry per column of the data; every column needs one.
# operation is one of:
#   keep | drop | pseudonymise (keyed token; the key is never written here)
#   generalise_date      to = "year" | "month" | "age_band"
#                        (age_band: reference_date = "YYYY-MM-DD", width = 5)
#   generalise_postcode  to = "outward" | "area"
#   band                 width = 10, start = 0
#   mask                 keep_last = 0, character = "*"
#   group_rare           min_count = k, other = "Other"
# [plan] k: the smallest group size wanted over quasi_identifiers;
# suppress_below_k removes rows that stay in groups smaller than k.
"""


class PlanError(ValueError):
    """The plan cannot be used; the message names the column and the problem.

    `problems` holds every problem found, one sentence each, so a page can list them.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class ColumnStep:
    """What happens to one column, and that operation's options (TOML keys)."""

    column: str
    operation: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A date given as a date (by code, or unquoted in TOML) is kept as its ISO
        # text, so a plan written and read back is equal to itself.
        options = {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in self.options.items()
        }
        object.__setattr__(self, "options", options)


@dataclass(frozen=True)
class Plan:
    steps: tuple[ColumnStep, ...]
    quasi_identifiers: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    k: int = 5
    suppress_below_k: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "quasi_identifiers", tuple(self.quasi_identifiers))
        object.__setattr__(self, "sensitive", tuple(self.sensitive))

    def step_for(self, column: str) -> ColumnStep | None:
        return next((step for step in self.steps if step.column == column), None)

    def output_columns(self, columns: Sequence[str]) -> list[str]:
        """The columns of the data that the output keeps, in the data's order."""
        return [
            column
            for column in columns
            if (step := self.step_for(column)) is None or step.operation != "drop"
        ]


# --- TOML --------------------------------------------------------------------------


def parse_plan(text: str) -> Plan:
    """The plan in `text` (TOML); PlanError if it is not TOML or not shaped like a plan."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlanError(f"The plan is not valid TOML: {error}.") from error
    unknown = sorted(set(document) - {"plan", "columns"})
    if unknown:
        raise PlanError(
            f"The plan has a section '{unknown[0]}' it does not expect; use [plan] and [[columns]]."
        )
    settings = document.get("plan", {})
    columns = document.get("columns", [])
    if not isinstance(settings, dict):
        raise PlanError("The plan's 'plan' must be a table: [plan].")
    if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
        raise PlanError("The plan's columns must be [[columns]] tables.")
    steps = tuple(_parse_step(position, entry) for position, entry in enumerate(columns, 1))
    _refuse_duplicates([step.column for step in steps])
    return Plan(steps=steps, **_parse_settings(settings))


def _parse_settings(settings: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(settings) - _PLAN_KEYS)
    if unknown:
        raise PlanError(
            f"[plan] has a setting '{unknown[0]}' it does not know; "
            f"it may have: {', '.join(sorted(_PLAN_KEYS))}."
        )
    parsed: dict[str, Any] = {}
    if "k" in settings:
        k = settings["k"]
        if isinstance(k, bool) or not isinstance(k, int):
            raise PlanError(f"[plan] k must be a whole number, not {k!r}.")
        parsed["k"] = k
    for name in ("quasi_identifiers", "sensitive"):
        if name in settings:
            names = settings[name]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise PlanError(f"[plan] {name} must be a list of column names in quotes.")
            parsed[name] = tuple(names)
    if "suppress_below_k" in settings:
        if not isinstance(settings["suppress_below_k"], bool):
            raise PlanError("[plan] suppress_below_k must be true or false.")
        parsed["suppress_below_k"] = settings["suppress_below_k"]
    return parsed


def _parse_step(position: int, entry: dict[str, Any]) -> ColumnStep:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PlanError(f'Entry {position} of [[columns]] needs name = "the column\'s heading".')
    operation = entry.get("operation")
    if not isinstance(operation, str):
        raise PlanError(f"Column '{name}' needs operation = one of: {_operations_list()}.")
    options = {key: value for key, value in entry.items() if key not in {"name", "operation"}}
    return ColumnStep(column=name, operation=operation, options=options)


def _refuse_duplicates(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise PlanError(f"Column '{name}' has more than one entry in the plan; keep one.")
        seen.add(name)


def plan_to_toml(plan: Plan) -> str:
    """The plan as TOML with a commented header; parse_plan reads it back equal."""
    settings = {
        "k": plan.k,
        "quasi_identifiers": list(plan.quasi_identifiers),
        "sensitive": list(plan.sensitive),
        "suppress_below_k": plan.suppress_below_k,
    }
    # Each column as its own [[columns]] table (tomli_w would inline a short array),
    # so a person can edit one column's lines without touching the others.
    parts = [HEADER, tomli_w.dumps({"plan": settings})]
    parts.extend(
        "[[columns]]\n"
        + tomli_w.dumps({"name": step.column, "operation": step.operation, **step.options})
        for step in plan.steps
    )
    return "\n".join(parts)


# --- Checking ----------------------------------------------------------------------


def check_plan(plan: Plan, columns: Sequence[str], *, key: bytes | None) -> None:
    """PlanError listing every problem of `plan` for data with `columns`; None if usable.

    Called before anything is written, so a bad plan never leaves a half-made output.
    """
    problems: list[str] = []
    if isinstance(plan.k, bool) or not isinstance(plan.k, int) or plan.k < 2:
        problems.append(f"k must be a whole number of at least 2, not {plan.k!r}.")
    known = set(columns)
    for step in plan.steps:
        if step.column not in known:
            problems.append(
                f"Column '{step.column}' is in the plan but not in the data. "
                f"The data's columns are: {', '.join(columns)}."
            )
        problems.extend(_step_problems(step, key))
    problems.extend(
        f"Column '{column}' has no entry in the plan: say keep or drop (or how to anonymise it)."
        for column in columns
        if plan.step_for(column) is None
    )
    problems.extend(_risk_column_problems(plan, columns))
    if problems:
        raise PlanError(problems)


def _step_problems(step: ColumnStep, key: bytes | None) -> list[str]:
    if step.operation not in OPERATIONS:
        return [
            f"Column '{step.column}' has operation '{step.operation}', which is not one of: "
            f"{_operations_list()}."
        ]
    problems = [
        f"Column '{step.column}' has '{name}' in the plan. The pseudonymisation key must "
        "never be written in a plan: give it with --key-file or the environment."
        for name in step.options
        if name.lower() in _SECRET_KEYS
    ]
    if problems:
        return problems
    if step.operation == "pseudonymise" and not key:
        problems.append(
            f"Column '{step.column}' is to be pseudonymised but no key was given. "
            "Give the key with --key-file or the environment."
        )
    return problems + _option_problems(step)


def _option_problems(step: ColumnStep) -> list[str]:
    specs = _OPTION_SPECS[step.operation]
    where = f"Column '{step.column}' ({step.operation})"
    problems = [
        f"{where} has an option '{name}' it does not know"
        + (f"; it may have: {', '.join(specs)}." if specs else "; it takes no options.")
        for name in step.options
        if name not in specs
    ]
    for name, spec in specs.items():
        if name in step.options:
            problem = spec.check(step.options[name])
            if problem:
                problems.append(f"{where}: {name} {problem}.")
        elif spec.required(step.options):
            problems.append(f"{where} needs {name} ({spec.hint}).")
    return problems


def _risk_column_problems(plan: Plan, columns: Sequence[str]) -> list[str]:
    output = set(plan.output_columns(columns))
    problems = []
    for kind, names in (
        ("quasi-identifier", plan.quasi_identifiers),
        ("sensitive column", plan.sensitive),
    ):
        for name in names:
            if name not in columns:
                problems.append(f"The {kind} '{name}' is not a column of the data.")
            elif name not in output:
                problems.append(
                    f"The {kind} '{name}' is dropped, so the risk cannot be measured on it: "
                    f"keep it (generalised if need be) or take it out of the {kind}s."
                )
    if plan.suppress_below_k and not plan.quasi_identifiers:
        problems.append("suppress_below_k needs at least one quasi-identifier in [plan].")
    return problems


def _operations_list() -> str:
    return ", ".join(_OPERATION_ORDER)


# --- Options -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    hint: str
    check: Callable[[Any], str | None]
    required: Callable[[Mapping[str, Any]], bool] = lambda options: False


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return f"must be one of {', '.join(repr(c) for c in choices)}, not {value!r}"

    return check


def _positive_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        return f"must be a number greater than 0, not {value!r}"
    return None


def _finite_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"must be a number, not {value!r}"
    return None


def _whole_number(minimum: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"must be a whole number of at least {minimum}, not {value!r}"
        return None

    return check


def _iso_date(value: Any) -> str | None:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return f'must be a date written "YYYY-MM-DD", not {value!r}'
    return None


def _one_character(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 1:
        return None
    return f"must be a single character, not {value!r}"


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be text in quotes, not {value!r}"


_OPTION_SPECS: dict[str, dict[str, _Option]] = {
    "keep": {},
    "drop": {},
    "pseudonymise": {},
    "generalise_date": {
        "to": _Option(
            'to = "year", "month" or "age_band"',
            _one_of("year", "month", "age_band"),
            required=lambda options: True,
        ),
        "reference_date": _Option(
            'the date ages are measured at, like reference_date = "2026-09-01"',
            _iso_date,
            required=lambda options: options.get("to") == "age_band",
        ),
        "width": _Option("years in each band", _whole_number(1)),
    },
    "generalise_postcode": {
        "to": _Option(
            'to = "outward" or "area"',
            _one_of("outward", "area"),
            required=lambda options: True,
        ),
    },
    "band": {
        "width": _Option(
            "the size of each band, like width = 10",
            _positive_number,
            required=lambda options: True,
        ),
        "start": _Option("where the first band starts", _finite_number),
    },
    "mask": {
        "keep_last": _Option("characters left visible", _whole_number(0)),
        "character": _Option("the masking character", _one_character),
    },
    "group_rare": {
        "min_count": _Option("the fewest rows a value needs to be kept", _whole_number(1)),
        "other": _Option("what rare values become", _text),
    },
}
