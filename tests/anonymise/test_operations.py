"""Each operation of a plan, with its boundary cases, and apply_plan as a whole."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import polars as pl
import pytest

from infoshare.anonymise.operations import (
    AppliedPlan,
    apply_plan,
    pseudonymise_value,
    pseudonymise_values,
)
from infoshare.anonymise.plan import ColumnStep, Plan, PlanError
from infoshare.core.upn_check import make_upn

KEY = b"key of agreement ISA-2026-004"
DASH = "\u2013"


def _one(values: list[str | None], operation: str, k: int = 5, **options: Any) -> list:
    """The column after one operation."""
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
    plan = Plan(steps=(ColumnStep("v", operation, options),), k=k)
    return apply_plan(frame, plan, key=KEY).frame.get_column("v").to_list()


def _band(low: int, high: int) -> str:
    return f"{low}{DASH}{high}"


# --- pseudonymise --------------------------------------------------------------------


def _plain_token(value: str, key: bytes) -> str:
    """The documented token, computed the obvious way."""
    return "P" + hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()[:20]


def test_token_is_the_documented_hmac():
    upn = make_upn("823456789012")
    assert pseudonymise_value(upn, KEY) == _plain_token(upn, KEY)
    assert len(pseudonymise_value(upn, KEY)) == 21
    assert pseudonymise_value(f"  {upn} ", KEY) == pseudonymise_value(upn, KEY)


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"y" * 65, bytes(range(256))])
def test_fast_tokens_equal_the_plain_hmac_for_any_key_length(key):
    values = ["A123", "Zoë", "", "a much longer value" * 10]  # trimmed, as documented
    assert pseudonymise_values(values, key) == [_plain_token(v, key) for v in values]


def test_pseudonymise_column_gives_stable_tokens_and_keeps_blanks_null():
    upn = make_upn("823456789012")
    other = make_upn("823456789013")
    result = _one([upn, f" {upn}", other, None, "", "  "], "pseudonymise")
    token = _plain_token(upn, KEY)
    assert result == [token, token, _plain_token(other, KEY), None, None, None]


def test_the_same_value_in_two_columns_gets_one_token():
    frame = pl.DataFrame({"Pupil": ["A1", "B2"], "Sibling": ["B2", "C3"]})
    plan = Plan(steps=(ColumnStep("Pupil", "pseudonymise"), ColumnStep("Sibling", "pseudonymise")))
    result = apply_plan(frame, plan, key=KEY).frame
    assert result.item(1, "Pupil") == result.item(0, "Sibling") == _plain_token("B2", KEY)


def test_another_key_gives_other_tokens():
    assert _one(["A1"], "pseudonymise") != [_plain_token("A1", b"another key")]


# --- generalise_date -----------------------------------------------------------------


def test_date_to_year_and_month_in_both_formats():
    values = ["27/03/2015", "2015-03-27", "1/9/2014", " 2014-12-01 "]
    assert _one(values, "generalise_date", to="year") == ["2015", "2015", "2014", "2014"]
    assert _one(values, "generalise_date", to="month") == [
        "2015-03",
        "2015-03",
        "2014-09",
        "2014-12",
    ]


@pytest.mark.parametrize("value", ["31/02/2015", "2015/03/27", "03-27-2015", "soon", "", None])
def test_unreadable_date_becomes_null(value):
    assert _one([value], "generalise_date", to="year") == [None]


@pytest.mark.parametrize(
    ("born", "band"),
    [
        ("01/09/2016", _band(10, 14)),  # tenth birthday on the reference date
        ("02/09/2016", _band(5, 9)),  # tenth birthday the day after
        ("2011-09-01", _band(15, 19)),  # fifteenth birthday on the day
        ("2011-09-02", _band(10, 14)),  # still fourteen
        ("2026-09-01", _band(0, 4)),  # born on the day: age 0
        ("2026-09-02", None),  # after the reference date: not a date of birth
        ("not a date", None),
    ],
)
def test_age_band_at_the_reference_date(born, band):
    assert _one([born], "generalise_date", to="age_band", reference_date="2026-09-01") == [band]


def test_age_band_width_and_a_leap_day_birthday():
    leap = "29/02/2016"
    options = {"to": "age_band", "width": 1}
    assert _one([leap], "generalise_date", reference_date="2027-02-28", **options) == ["10"]
    assert _one([leap], "generalise_date", reference_date="2027-03-01", **options) == ["11"]
    assert _one([leap], "generalise_date", reference_date="2028-02-29", **options) == ["12"]
    assert _one(
        ["01/09/2016"], "generalise_date", to="age_band", reference_date="2026-09-01", width=3
    ) == [_band(9, 11)]


# --- generalise_postcode -------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "outward", "area"),
    [
        ("E8 1AB", "E8", "E"),
        ("E81AB", "E8", "E"),
        ("e8 1ab", "E8", "E"),
        ("  sw1a  1aa ", "SW1A", "SW"),
        ("SW1A1AA", "SW1A", "SW"),
        ("M1 1AE", "M1", "M"),
        ("B33 8TH", "B33", "B"),
        ("CR2 6XH", "CR2", "CR"),
        ("DN55 1PT", "DN55", "DN"),
        ("W1A 0AX", "W1A", "W"),
        ("E8", "E8", "E"),
        ("sw1a", "SW1A", "SW"),
        ("not a postcode", None, None),
        ("123 456", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_postcode_to_outward_code_and_area(postcode, outward, area):
    assert _one([postcode], "generalise_postcode", to="outward") == [outward]
    assert _one([postcode], "generalise_postcode", to="area") == [area]


# --- band ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [
        ("37", _band(30, 39)),
        ("30", _band(30, 39)),
        ("39", _band(30, 39)),
        ("40", _band(40, 49)),
        ("0", _band(0, 9)),
        ("-1", _band(-10, -1)),
        ("-10", _band(-10, -1)),
        ("39.9", _band(30, 39)),
        (" 12 ", _band(10, 19)),
        ("", None),
        ("   ", None),
        (None, None),
        ("twelve", None),
        ("1,000", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_band_in_tens(value, band):
    assert _one([value], "band", width=10) == [band]


def test_band_with_a_start():
    assert _one(["4", "5", "9", "10"], "band", width=5, start=5) == [
        _band(0, 4),
        _band(5, 9),
        _band(5, 9),
        _band(10, 14),
    ]


def test_band_with_a_fractional_width():
    assert _one(["2.4", "2.5", "-0.1", "-0"], "band", width=2.5) == [
        "0.0 to under 2.5",
        "2.5 to under 5.0",
        "-2.5 to under 0.0",
        "0.0 to under 2.5",
    ]
    # Floating point noise does not show: 0.30000000000000004 is 0.3.
    assert _one(["0.35"], "band", width=0.1) == ["0.3 to under 0.4"]


# --- mask ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "options", "masked"),
    [
        ("07700900123", {"keep_last": 3}, "********123"),
        ("07700900123", {}, "***********"),
        ("07700900123", {"keep_last": 3, "character": "#"}, "########123"),
        ("1234", {"keep_last": 3}, "*234"),
        ("123", {"keep_last": 3}, "***"),  # as long as keep_last: nothing shown
        ("12", {"keep_last": 3}, "**"),  # shorter than keep_last: nothing shown
        (" 12345 ", {"keep_last": 2}, "***45"),
        ("Zoë", {"keep_last": 1}, "**ë"),
        ("", {"keep_last": 3}, ""),
        (None, {"keep_last": 3}, None),
    ],
)
def test_mask(value, options, masked):
    assert _one([value], "mask", **options) == [masked]


# --- group_rare ----------------------------------------------------------------------


def test_group_rare_keeps_values_with_exactly_min_count_rows():
    values = ["A"] * 3 + ["B"] * 2 + ["C"] + [None]
    assert _one(values, "group_rare", min_count=3) == ["A"] * 3 + ["Other"] * 3 + [None]
    assert _one(values, "group_rare", min_count=2, other="Other groups") == (
        ["A"] * 3 + ["B"] * 2 + ["Other groups", None]
    )


def test_group_rare_defaults_to_the_plans_k():
    values = ["A"] * 4 + ["B"] * 3
    assert _one(values, "group_rare", k=4) == ["A"] * 4 + ["Other"] * 3
    assert _one(values, "group_rare", k=3) == values


# --- keep, drop and the whole plan ---------------------------------------------------


def _pupils() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "UPN": [make_upn(f"8234567890{i:02d}") for i in range(6)],
            "Name": ["Amy", "Ben", "Cal", "Dee", "Eve", "Fin"],
            "Postcode": ["E8 1AB", "E8 2CD", "E8 3EF", "N1 1AA", "N1 2BB", "SW1A 1AA"],
            "Gender": ["F", "F", "F", "M", "M", "M"],
            "SEN provision": ["None", "K", "None", "E", "None", "K"],
        }
    )


def _plan(**settings: Any) -> Plan:
    return Plan(
        steps=(
            ColumnStep("SEN provision", "keep"),
            ColumnStep("Name", "drop"),
            ColumnStep("UPN", "pseudonymise"),
            ColumnStep("Postcode", "generalise_postcode", {"to": "outward"}),
            ColumnStep("Gender", "keep"),
        ),
        **settings,
    )


def test_apply_plan_keeps_the_data_order_and_drops_columns():
    frame = _pupils()
    applied = apply_plan(frame, _plan(), key=KEY)
    assert isinstance(applied, AppliedPlan)
    assert applied.frame.columns == ["UPN", "Postcode", "Gender", "SEN provision"]
    assert applied.frame.get_column("Postcode").to_list() == ["E8", "E8", "E8", "N1", "N1", "SW1A"]
    assert applied.frame.get_column("SEN provision").equals(frame.get_column("SEN provision"))
    assert applied.rows_suppressed == 0
    assert frame.equals(_pupils()), "the input is not changed"


def test_suppress_below_k_removes_rows_in_small_groups():
    plan = _plan(quasi_identifiers=("Postcode", "Gender"), k=2, suppress_below_k=True)
    applied = apply_plan(_pupils(), plan, key=KEY)
    assert applied.rows_suppressed == 1
    assert applied.frame.get_column("Postcode").to_list() == ["E8", "E8", "E8", "N1", "N1"]
    plan = _plan(quasi_identifiers=("Postcode", "Gender"), k=3, suppress_below_k=True)
    assert apply_plan(_pupils(), plan, key=KEY).rows_suppressed == 3


def test_without_suppression_small_groups_stay():
    plan = _plan(quasi_identifiers=("Postcode",), k=3)
    assert apply_plan(_pupils(), plan, key=KEY).frame.height == 6


def test_progress_is_reported_after_each_column_and_after_suppression():
    calls: list[tuple[int, int]] = []
    plan = _plan(quasi_identifiers=("Postcode",), suppress_below_k=True, k=2)
    apply_plan(_pupils(), plan, key=KEY, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]
    calls.clear()
    apply_plan(
        _pupils(), _plan(), key=KEY, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_a_bad_plan_is_refused_before_anything_is_done():
    calls: list[tuple[int, int]] = []
    with pytest.raises(PlanError, match="Column 'UPN' is to be pseudonymised but no key"):
        apply_plan(_pupils(), _plan(), key=None, progress=lambda *a: calls.append(a))
    assert calls == []


def test_an_empty_frame_stays_empty():
    frame = _pupils().clear()
    applied = apply_plan(
        frame, _plan(quasi_identifiers=("Gender",), suppress_below_k=True), key=KEY
    )
    assert applied.frame.height == 0
    assert applied.frame.columns == ["UPN", "Postcode", "Gender", "SEN provision"]
    assert applied.rows_suppressed == 0
