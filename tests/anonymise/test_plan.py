"""Plans: TOML in and out, and the checks that refuse a bad plan before any output."""

from __future__ import annotations

import re
from datetime import date

import pytest

from infoshare.anonymise.plan import (
    OPERATIONS,
    ColumnStep,
    Plan,
    PlanError,
    check_plan,
    parse_plan,
    plan_to_toml,
)

KEY = b"a key of the agreement"
COLUMNS = ("UPN", "Date of birth", "Postcode", "SEN provision", "Notes")

EXAMPLE = """
# Anonymisation plan for the transition export
[plan]
k = 5
quasi_identifiers = ["Postcode", "Date of birth"]
sensitive = ["SEN provision"]
suppress_below_k = true

[[columns]]
name = "UPN"
operation = "pseudonymise"

[[columns]]
name = "Date of birth"
operation = "generalise_date"
to = "age_band"
reference_date = "2026-09-01"
width = 5

[[columns]]
name = "Postcode"
operation = "generalise_postcode"
to = "outward"

[[columns]]
name = "SEN provision"
operation = "keep"

[[columns]]
name = "Notes"
operation = "drop"
"""


def _plan(*steps: ColumnStep, **settings) -> Plan:
    return Plan(steps=steps, **settings)


def _all_kept(**overrides: ColumnStep) -> tuple[ColumnStep, ...]:
    return tuple(overrides.get(c, ColumnStep(c, "keep")) for c in COLUMNS)


def _problems(plan: Plan, *, key: bytes | None = KEY, columns=COLUMNS) -> str:
    with pytest.raises(PlanError) as caught:
        check_plan(plan, columns, key=key)
    return str(caught.value)


def test_parses_the_documented_shape():
    plan = parse_plan(EXAMPLE)
    assert plan.k == 5
    assert plan.quasi_identifiers == ("Postcode", "Date of birth")
    assert plan.sensitive == ("SEN provision",)
    assert plan.suppress_below_k is True
    assert plan.step_for("Date of birth") == ColumnStep(
        "Date of birth",
        "generalise_date",
        {"to": "age_band", "reference_date": "2026-09-01", "width": 5},
    )
    assert plan.step_for("Nope") is None
    check_plan(plan, COLUMNS, key=KEY)


def test_defaults_when_plan_table_is_missing():
    plan = parse_plan('[[columns]]\nname = "UPN"\noperation = "drop"\n')
    assert plan == Plan(steps=(ColumnStep("UPN", "drop"),))
    assert (plan.k, plan.quasi_identifiers, plan.sensitive, plan.suppress_below_k) == (
        5,
        (),
        (),
        False,
    )


def test_round_trips_through_toml_with_a_comment_header():
    plan = parse_plan(EXAMPLE)
    text = plan_to_toml(plan)
    assert text.startswith("# Anonymisation plan")
    assert "[[columns]]" in text
    assert parse_plan(text) == plan


def test_a_date_given_as_a_date_round_trips_as_text():
    step = ColumnStep("Date of birth", "generalise_date", {"to": "year", "x": date(2026, 9, 1)})
    assert step.options["x"] == "2026-09-01"
    unquoted = parse_plan(
        '[[columns]]\nname = "D"\noperation = "generalise_date"\nto = "age_band"\n'
        "reference_date = 2026-09-01\n"
    )
    assert unquoted.steps[0].options["reference_date"] == "2026-09-01"


def test_round_trips_awkward_names():
    plan = _plan(ColumnStep('Pupil "legal" name, ünïcode', "drop"), k=3)
    assert parse_plan(plan_to_toml(plan)) == plan


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[columns]\n", "not valid TOML"),
        ('[other]\nx = 1\n[[columns]]\nname = "a"\noperation = "keep"\n', "section 'other'"),
        ("plan = 3\n", "must be a table"),
        ("columns = 3\n", "must be [[columns]] tables"),
        ("[plan]\nkk = 5\n", "setting 'kk'"),
        ('[plan]\nk = "five"\n', "k must be a whole number"),
        ("[plan]\nk = true\n", "k must be a whole number"),
        ('[plan]\nquasi_identifiers = "Postcode"\n', "quasi_identifiers must be a list"),
        ("[plan]\nsensitive = [1]\n", "sensitive must be a list"),
        ('[plan]\nsuppress_below_k = "yes"\n', "true or false"),
        ('[[columns]]\noperation = "keep"\n', 'Entry 1 of [[columns]] needs name = "'),
        ('[[columns]]\nname = " "\noperation = "keep"\n', "Entry 1 of [[columns]]"),
        ('[[columns]]\nname = "UPN"\n', "Column 'UPN' needs operation = one of: keep, drop"),
        (
            '[[columns]]\nname = "UPN"\noperation = "keep"\n'
            '[[columns]]\nname = "UPN"\noperation = "drop"\n',
            "Column 'UPN' has more than one entry",
        ),
    ],
)
def test_parse_refuses_bad_shapes(text, message):
    with pytest.raises(PlanError, match=re.escape(message)):
        parse_plan(text)


def test_unknown_operation_is_named_with_the_choices():
    message = _problems(_plan(*_all_kept(Postcode=ColumnStep("Postcode", "blur"))))
    assert (
        "Column 'Postcode' has operation 'blur', which is not one of: keep, drop, pseudonymise, "
        "generalise_date, generalise_postcode, band, mask, group_rare." in message
    )


def test_a_step_for_a_column_not_in_the_data():
    message = _problems(_plan(*_all_kept(), ColumnStep("Surname", "drop")))
    assert "Column 'Surname' is in the plan but not in the data" in message
    assert "UPN, Date of birth, Postcode, SEN provision, Notes" in message


def test_every_column_needs_a_step():
    message = _problems(_plan(ColumnStep("UPN", "drop")))
    for column in COLUMNS[1:]:
        assert f"Column '{column}' has no entry in the plan: say keep or drop" in message


def test_pseudonymise_needs_a_key():
    plan = _plan(*_all_kept(UPN=ColumnStep("UPN", "pseudonymise")))
    for missing in (None, b""):
        assert "Column 'UPN' is to be pseudonymised but no key was given" in _problems(
            plan, key=missing
        )
    check_plan(plan, COLUMNS, key=KEY)
    # Without a pseudonymised column no key is needed.
    check_plan(_plan(*_all_kept()), COLUMNS, key=None)


@pytest.mark.parametrize("name", ["key", "Key", "secret", "salt"])
def test_a_key_in_the_plan_is_refused(name):
    plan = _plan(*_all_kept(UPN=ColumnStep("UPN", "pseudonymise", {name: "hunter2"})))
    assert "must never be written in a plan" in _problems(plan)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (ColumnStep("Notes", "keep", {"to": "x"}), "option 'to' it does not know; it takes no"),
        (ColumnStep("Notes", "generalise_date"), 'needs to (to = "year", "month" or "age_band")'),
        (ColumnStep("Notes", "generalise_date", {"to": "week"}), "to must be one of 'year'"),
        (ColumnStep("Notes", "generalise_date", {"to": "age_band"}), "needs reference_date"),
        (
            ColumnStep("Notes", "generalise_date", {"to": "age_band", "reference_date": "1/9/26"}),
            'reference_date must be a date written "YYYY-MM-DD"',
        ),
        (
            ColumnStep(
                "Notes",
                "generalise_date",
                {"to": "age_band", "reference_date": "2026-09-01", "width": 0},
            ),
            "width must be a whole number of at least 1",
        ),
        (ColumnStep("Notes", "generalise_postcode"), 'needs to (to = "outward" or "area")'),
        (ColumnStep("Notes", "generalise_postcode", {"to": "sector"}), "to must be one of"),
        (ColumnStep("Notes", "band"), "needs width"),
        (ColumnStep("Notes", "band", {"width": 0}), "width must be a number greater than 0"),
        (ColumnStep("Notes", "band", {"width": -5}), "width must be a number greater than 0"),
        (ColumnStep("Notes", "band", {"width": "10"}), "width must be a number greater than 0"),
        (ColumnStep("Notes", "band", {"width": True}), "width must be a number greater than 0"),
        (ColumnStep("Notes", "band", {"width": float("inf")}), "width must be a number greater"),
        (ColumnStep("Notes", "band", {"width": 5, "start": "x"}), "start must be a number"),
        (ColumnStep("Notes", "band", {"width": 5, "start": float("nan")}), "start must be a num"),
        (ColumnStep("Notes", "mask", {"keep_last": -1}), "keep_last must be a whole number"),
        (ColumnStep("Notes", "mask", {"keep_last": 1.5}), "keep_last must be a whole number"),
        (ColumnStep("Notes", "mask", {"character": "**"}), "character must be a single char"),
        (ColumnStep("Notes", "group_rare", {"min_count": 0}), "min_count must be a whole number"),
        (ColumnStep("Notes", "group_rare", {"other": 1}), "other must be text in quotes"),
        (ColumnStep("Notes", "group_rare", {"k": 3}), "option 'k' it does not know; it may have"),
    ],
)
def test_bad_options_name_the_column_and_the_problem(step, message):
    text = _problems(_plan(*_all_kept(Notes=step)))
    assert f"Column 'Notes' ({step.operation})" in text
    assert message in text


@pytest.mark.parametrize(
    "step",
    [
        ColumnStep("Notes", "generalise_date", {"to": "year"}),
        ColumnStep("Notes", "generalise_date", {"to": "month"}),
        ColumnStep("Notes", "generalise_date", {"to": "age_band", "reference_date": "2026-09-01"}),
        ColumnStep("Notes", "generalise_postcode", {"to": "area"}),
        ColumnStep("Notes", "band", {"width": 2.5, "start": -1}),
        ColumnStep("Notes", "mask", {"keep_last": 0, "character": "#"}),
        ColumnStep("Notes", "group_rare", {"min_count": 3, "other": "Other groups"}),
        ColumnStep("Notes", "group_rare"),
    ],
)
def test_good_options_pass(step):
    check_plan(_plan(*_all_kept(Notes=step)), COLUMNS, key=None)


@pytest.mark.parametrize("k", [1, 0, -3])
def test_k_must_be_at_least_two(k):
    assert "k must be a whole number of at least 2" in _problems(_plan(*_all_kept(), k=k))


def test_quasi_identifiers_and_sensitive_columns_must_survive():
    steps = _all_kept(Postcode=ColumnStep("Postcode", "drop"), Notes=ColumnStep("Notes", "drop"))
    message = _problems(
        _plan(*steps, quasi_identifiers=("Postcode", "Gender"), sensitive=("Notes",))
    )
    assert "The quasi-identifier 'Postcode' is dropped" in message
    assert "The quasi-identifier 'Gender' is not a column of the data." in message
    assert "The sensitive column 'Notes' is dropped" in message


def test_suppression_needs_quasi_identifiers():
    message = _problems(_plan(*_all_kept(), suppress_below_k=True))
    assert "suppress_below_k needs at least one quasi-identifier" in message


def test_every_problem_is_listed():
    plan = _plan(ColumnStep("UPN", "blur"), ColumnStep("Ghost", "keep"), k=1)
    with pytest.raises(PlanError) as caught:
        check_plan(plan, COLUMNS, key=KEY)
    # k, the unknown operation, the ghost column, four columns without a step.
    assert len(caught.value.problems) == 7
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_operations_are_the_documented_eight():
    assert {
        "keep",
        "drop",
        "pseudonymise",
        "generalise_date",
        "generalise_postcode",
        "band",
        "mask",
        "group_rare",
    } == OPERATIONS


def test_output_columns_keep_the_data_order_without_dropped_ones():
    plan = _plan(ColumnStep("Notes", "drop"), ColumnStep("UPN", "keep"))
    assert plan.output_columns(COLUMNS) == ["UPN", "Date of birth", "Postcode", "SEN provision"]
