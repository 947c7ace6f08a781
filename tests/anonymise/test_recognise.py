"""Recognising identifiers by heading and by value, and the suggested plan (issue 8, item 2)."""

from __future__ import annotations

import random
from datetime import date

import polars as pl
import pytest
import time_machine

from infoshare.anonymise.checksums import make_upn, nhs_check_digit, uln_check_digit
from infoshare.anonymise.operations import apply_plan
from infoshare.anonymise.plan import PlanError, check_plan, parse_plan, plan_to_toml
from infoshare.anonymise.recognise import (
    KINDS,
    heading_kind,
    heading_role,
    next_first_of_september,
    recognise_columns,
    suggest_plan,
)
from tests.anonymise.generate import COLUMNS, pupil_rows

TODAY = date(2026, 11, 30)
NEUTRAL = "Column A"
KEY = b"k" * 32


def one(heading: str, values: list[str | None], **options) -> object:
    frame = pl.DataFrame({heading: values}, schema={heading: pl.String})
    (finding,) = recognise_columns(frame, today=TODAY, **options)
    return finding


def nine_digit_numbers(rng: random.Random, count: int, check_digit) -> list[str]:
    """Ten-digit numbers whose last digit is `check_digit` of the first nine."""
    numbers: list[str] = []
    while len(numbers) < count:
        nine = f"{rng.randrange(100_000_000, 1_000_000_000)}"
        check = check_digit(nine)
        if check is not None:
            numbers.append(nine + str(check))
    return numbers


def wrong_last_character(values: list[str]) -> list[str]:
    """The same values with the check digit (or letter) changed.

    By two, not one: a ULN's check digit plus one is the NHS number's check
    digit of the same nine digits.
    """
    changed = []
    for value in values:
        if value[0].isalpha() and value[1:].isdigit():  # a UPN: change the check letter
            changed.append(("C" if value[0] != "C" else "D") + value[1:])
        else:
            changed.append(value[:-1] + str((int(value[-1]) + 2) % 10))
    return changed


EXAMPLES = {
    "upn": lambda rng, n: [make_upn(f"{rng.randrange(10**11, 10**12)}") for _ in range(n)],
    "uln": lambda rng, n: nine_digit_numbers(rng, n, uln_check_digit),
    "nhs_number": lambda rng, n: nine_digit_numbers(rng, n, nhs_check_digit),
    "ni_number": lambda rng, n: [
        f"JG{rng.randrange(10**6):06d}{rng.choice('ABCD')}" for _ in range(n)
    ],
    "postcode": lambda rng, n: [f"E{rng.randrange(1, 20)} {rng.randrange(10)}AB" for _ in range(n)],
    "email": lambda rng, n: [f"parent{i}@example.org" for i in range(n)],
    "phone": lambda rng, n: [f"07700 900{i:03d}" for i in range(n)],
    "date_of_birth": lambda rng, n: [
        f"{rng.randrange(1, 29):02d}/{rng.randrange(1, 13):02d}/2015" for _ in range(n)
    ],
    "free_text": lambda rng, n: [
        f"Pupil {i} was late on {i % 5} days and met the mentor." for i in range(n)
    ],
}


def examples(kind: str, count: int = 40) -> list[str]:
    """`count` made-up values of a kind, the same each run."""
    return EXAMPLES[kind](random.Random(kind), count)


CHECKED = ("upn", "uln", "nhs_number", "ni_number", "postcode", "email", "phone", "date_of_birth")
HEADINGS = {
    "upn": "UPN",
    "uln": "ULN",
    "nhs_number": "NHS number",
    "ni_number": "NI number",
    "postcode": "Post code",
    "email": "Parent email",
    "phone": "Mobile",
    "date_of_birth": "DOB",
    "free_text": "Notes",
    "name": "Legal surname",
}
# Values that fail each check, for the checkable kinds without a check digit.
NEAR_MISSES = {
    "ni_number": [f"QQ{n:06d}C" for n in range(40)],  # Q is never a prefix letter
    "postcode": [f"E{n} XYZ" for n in range(40)],
    "email": [f"parent{n} at example.org" for n in range(40)],
    "phone": [f"+33 1 40 20 {n:02d} {n:02d}" for n in range(40)],
    "date_of_birth": [f"{n % 28 + 1:02d}/03/1950" for n in range(40)],
}


def near_misses(kind: str) -> list[str]:
    return NEAR_MISSES.get(kind) or wrong_last_character(examples(kind))


# --- Each recogniser --------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*CHECKED, "free_text"])
def test_values_alone_are_recognised_under_a_neutral_heading(kind):
    finding = one(NEUTRAL, examples(kind))
    assert finding.kind == kind
    assert finding.confidence == 0.9
    assert finding.reason.startswith("All 40 values checked are ")


@pytest.mark.parametrize("kind", [*CHECKED, "free_text"])
def test_a_heading_borne_out_by_the_values_is_surest(kind):
    finding = one(HEADINGS[kind], examples(kind))
    assert finding.kind == kind
    assert finding.confidence == 0.99
    assert finding.reason.startswith("The heading says so, and all 40 values checked are ")


@pytest.mark.parametrize("kind", CHECKED)
def test_values_win_over_a_misleading_heading(kind):
    finding = one("Legal surname", examples(kind))
    assert finding.kind == kind
    assert finding.reason.startswith("The heading suggests names, but all 40 values")


@pytest.mark.parametrize("kind", CHECKED)
def test_wrong_check_digits_or_shapes_are_not_recognised_by_value(kind):
    finding = one(NEUTRAL, near_misses(kind))
    assert finding.kind == "other"


@pytest.mark.parametrize("kind", CHECKED)
def test_a_heading_the_values_do_not_bear_out_is_still_followed_to_be_safe(kind):
    finding = one(HEADINGS[kind], near_misses(kind))
    assert finding.kind == kind
    assert finding.confidence == 0.5
    assert "though only 0 in 10 values checked (0 of 40) are" in finding.reason
    assert "to be safe" in finding.reason


@pytest.mark.parametrize("kind", [*CHECKED, "name", "free_text"])
def test_an_empty_column_is_judged_by_its_heading(kind):
    finding = one(HEADINGS[kind], [None, "", "  "])
    assert finding.kind == kind
    assert finding.reason.endswith("the column is empty.")


def test_the_nhs_reason_gives_the_share_in_tens_with_the_figures():
    values = [*examples("nhs_number", 9), "not a number"]
    finding = one(NEUTRAL, values)
    assert finding.kind == "nhs_number"
    assert finding.reason == (
        "9 in 10 values checked (9 of 10) are valid NHS numbers (the checksum matches)."
    )


def test_fewer_than_eight_in_ten_valid_values_are_not_enough():
    assert one(NEUTRAL, [*examples("uln", 8), "x", "y"]).kind == "uln"
    assert one(NEUTRAL, [*examples("uln", 7), "x", "y", "z"]).kind == "other"


def test_values_are_sampled_and_blanks_ignored():
    values = examples("email", 40) * 100 + [None, ""] * 500
    finding = one(NEUTRAL, values)
    assert finding.kind == "email"
    assert finding.reason.startswith("All 1,000 values checked")
    assert one(NEUTRAL, values, sample=50).reason.startswith("All 50 values checked")


def test_a_column_read_as_numbers_is_recognised_too():
    frame = pl.DataFrame({"Learner": [int(v) for v in examples("uln")]})
    (finding,) = recognise_columns(frame, today=TODAY)
    assert finding.kind == "uln"


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "+44 (0)7700 900123",
        "0113 496 0123",
        "020 7946 0123",
        "(020) 7946-0123",
        "0044 20 7946 0123",
    ],
)
def test_uk_phone_numbers_in_their_usual_forms(number):
    assert one(NEUTRAL, [number] * 10).kind == "phone"


@pytest.mark.parametrize(
    "value",
    ["2015-03-27", "27/03/2015", "7/3/2015"],
)
def test_dates_of_birth_in_either_form(value):
    assert one(NEUTRAL, [value] * 10).kind == "date_of_birth"


def test_impossible_dates_are_not_dates():
    assert one(NEUTRAL, ["31/02/2015", "2015-13-01"] * 5).kind == "other"


def test_dates_in_a_column_headed_as_another_date_are_kept():
    finding = one("Admission date", examples("date_of_birth"))
    assert finding.kind == "other"
    assert "another date" in finding.reason


@pytest.mark.parametrize(
    "heading",
    [
        "Legal forename",
        "Surname",
        "First name",
        "Preferred name",
        "Pupil name",
        "Name",
        "FORENAME",
        "Middle names",
        "Parent/carer name",
        "Known as",
    ],
)
def test_names_are_recognised_by_heading(heading):
    finding = one(heading, ["Ada"] * 5)
    assert finding.kind == "name"
    assert finding.confidence == 0.8


@pytest.mark.parametrize("heading", ["School name", "Course name", "Gender", "Year group"])
def test_headings_with_name_of_something_else_are_not_names(heading):
    assert heading_kind(heading) is None


def test_varied_names_are_recognised_by_value_under_a_neutral_heading():
    forenames = ["Ada", "Ben", "Cara", "Dev", "Esme", "Finn", "Gita", "Hugo", "Iris", "Jude"]
    values = [f"{name} O'Neil-{surname}" for name in forenames for surname in ("Ray", "Lee")]
    finding = one(NEUTRAL, values * 2)
    assert finding.kind == "name"
    assert finding.confidence == 0.6
    assert finding.reason == "All 40 values checked look like names."


def test_repeated_words_are_not_names():
    assert one(NEUTRAL, ["Female", "Male"] * 20).kind == "other"


def test_few_names_are_not_enough_to_tell():
    assert one(NEUTRAL, ["Ada Ray", "Ben Lee"]).kind == "other"


@pytest.mark.parametrize(
    "heading", ["Notes", "Comments", "Description", "Pastoral notes", "Home address"]
)
def test_free_text_is_recognised_by_heading(heading):
    assert one(heading, ["ok"] * 5).kind == "free_text"


def test_long_but_repeated_text_is_not_free_text():
    values = ["Working at the expected standard in all subjects"] * 40
    assert one(NEUTRAL, values).kind == "other"


def test_short_varied_text_is_not_free_text():
    assert one(NEUTRAL, [f"7A{n}" for n in range(40)]).kind == "other"


# --- Every column, quasi-identifiers and sensitive columns ------------------------------


def test_each_column_of_the_generated_pupils_is_recognised_as_what_it_is():
    findings = recognise_columns(pupil_rows(3000, seed=5), today=TODAY)
    assert [finding.column for finding in findings] == list(COLUMNS)
    assert {finding.kind for finding in findings} <= KINDS
    assert {finding.column: finding.kind for finding in findings} == {
        "UPN": "upn",
        "ULN": "uln",
        "Legal forename": "name",
        "Legal surname": "name",
        "Date of birth": "date_of_birth",
        "Gender": "other",
        "Postcode": "postcode",
        "Email": "email",
        "Phone": "phone",
        "NHS number": "nhs_number",
        "NI number": "ni_number",
        "Year group": "other",
        "Ethnicity": "other",
        "SEN provision": "other",
        "Notes": "free_text",
    }
    assert all(finding.reason for finding in findings)


@pytest.mark.parametrize(
    ("heading", "role"),
    [
        ("Gender", "quasi"),
        ("Sex", "quasi"),
        ("Ethnicity", "quasi"),
        ("Ethnic group", "quasi"),
        ("Year group", "quasi"),
        ("NC Year", "quasi"),
        ("Year", "quasi"),
        ("SEN provision", "sensitive"),
        ("SEND status", "sensitive"),
        ("EHCP", "sensitive"),
        ("Medical conditions", "sensitive"),
        ("FSM eligible", "sensitive"),
        ("Pupil premium", "sensitive"),
        ("Religion", "sensitive"),
        ("Tutor group", None),
        ("Year of allocation", None),
        ("Attendance %", None),
    ],
)
def test_heading_roles(heading, role):
    assert heading_role(heading) == role


def test_an_other_finding_says_when_the_column_is_a_quasi_identifier_or_sensitive():
    assert "quasi-identifier" in one("Gender", ["F", "M"] * 5).reason
    assert "sensitive" in one("SEN provision", ["N", "K"] * 5).reason


# --- The suggested plan -----------------------------------------------------------------


EXPECTED_OPERATIONS = {
    "UPN": "pseudonymise",
    "ULN": "pseudonymise",
    "Legal forename": "drop",
    "Legal surname": "drop",
    "Date of birth": "generalise_date",
    "Gender": "keep",
    "Postcode": "generalise_postcode",
    "Email": "drop",
    "Phone": "drop",
    "NHS number": "pseudonymise",
    "NI number": "pseudonymise",
    "Year group": "keep",
    "Ethnicity": "keep",
    "SEN provision": "keep",
    "Notes": "drop",
}


def test_the_plan_for_generated_pupils_steps_every_column_and_handles_every_identifier():
    pupils = pupil_rows(2000, seed=9)
    plan = suggest_plan(pupils, reference_date=date(2026, 9, 1))
    assert [step.column for step in plan.steps] == list(COLUMNS)
    assert {step.column: step.operation for step in plan.steps} == EXPECTED_OPERATIONS
    assert plan.step_for("Date of birth").options == {
        "to": "age_band",
        "reference_date": "2026-09-01",
        "width": 1,  # a year group is shared: a one-year band tells nothing more
    }
    assert plan.step_for("Postcode").options == {"to": "outward"}
    assert plan.quasi_identifiers == (
        "Date of birth",
        "Postcode",
        "Gender",
        "Year group",
        "Ethnicity",
    )
    assert plan.sensitive == ("SEN provision",)
    assert plan.k == 5
    assert plan.suppress_below_k is False


def test_the_suggested_plan_passes_the_checks_and_survives_toml():
    pupils = pupil_rows(200, seed=9)
    plan = suggest_plan(pupils, reference_date=date(2026, 9, 1))
    check_plan(plan, pupils.columns, key=KEY)
    assert parse_plan(plan_to_toml(plan)) == plan
    with pytest.raises(PlanError, match="key"):
        check_plan(plan, pupils.columns, key=None)


def test_no_identifier_of_the_generated_pupils_survives_the_suggested_plan():
    pupils = pupil_rows(2000, seed=4)
    plan = suggest_plan(pupils, reference_date=date(2026, 9, 1))
    output = apply_plan(pupils, plan, key=KEY).frame
    cells = {value for column in output.columns for value in output[column].to_list()}
    identifiers = [column for column in COLUMNS if EXPECTED_OPERATIONS[column] != "keep"]
    for column in identifiers:
        originals = set(pupils[column].drop_nulls().to_list())
        assert not originals & cells, column


def test_without_a_year_group_ages_are_banded_in_fives():
    pupils = pupil_rows(100, seed=2).drop("Year group")
    plan = suggest_plan(pupils, reference_date=date(2026, 9, 1))
    assert plan.step_for("Date of birth").options["width"] == 5
    assert "Year group" not in plan.quasi_identifiers


def test_a_column_nothing_is_known_about_is_kept():
    frame = pl.DataFrame({"Attendance %": ["96.5", "88.0", "100"], "Tutor group": ["7A"] * 3})
    plan = suggest_plan(frame, reference_date=date(2026, 9, 1))
    assert [(step.column, step.operation) for step in plan.steps] == [
        ("Attendance %", "keep"),
        ("Tutor group", "keep"),
    ]
    assert plan.quasi_identifiers == ()
    assert plan.sensitive == ()


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 15), date(2026, 9, 1)),
        (date(2026, 9, 1), date(2026, 9, 1)),
        (date(2026, 9, 2), date(2027, 9, 1)),
        (date(2026, 12, 31), date(2027, 9, 1)),
    ],
)
def test_age_bands_count_from_the_next_first_of_september(today, expected):
    assert next_first_of_september(today) == expected


def test_the_plan_dates_ages_from_the_next_first_of_september_by_default():
    with time_machine.travel(date(2026, 11, 30), tick=False):
        plan = suggest_plan(pupil_rows(50, seed=1))
    assert plan.step_for("Date of birth").options["reference_date"] == "2027-09-01"
