"""The anonymisation engine: one import for the command, the web page and the tests.

Appendix A step 2 of the information sharing policy: "If your objective can be
met in a privacy friendly way then personal data should not be shared." This
facade gathers the pure functions that read a dataset, suggest and check a
plan, apply it and report the re-identification risk. Design rule 10: nothing
here (or in the modules it re-exports) imports Django, so the engine can be
benchmarked and scripted on its own.
"""

from __future__ import annotations

from infoshare.anonymise.datasets import UnreadableDataset, read_dataset, write_dataset
from infoshare.anonymise.operations import AppliedPlan, apply_plan, pseudonymise_value
from infoshare.anonymise.plan import (
    OPERATIONS,
    ColumnStep,
    Plan,
    PlanError,
    check_plan,
    parse_plan,
    plan_to_toml,
)
from infoshare.anonymise.recognise import Finding, recognise_columns, suggest_plan
from infoshare.anonymise.risk import RiskReport, risk_report

__all__ = [
    "OPERATIONS",
    "AppliedPlan",
    "ColumnStep",
    "Finding",
    "Plan",
    "PlanError",
    "RiskReport",
    "UnreadableDataset",
    "apply_plan",
    "check_plan",
    "parse_plan",
    "plan_to_toml",
    "pseudonymise_value",
    "read_dataset",
    "recognise_columns",
    "risk_report",
    "suggest_plan",
    "write_dataset",
]
