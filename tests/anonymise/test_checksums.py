"""Check digits of UPNs, ULNs and NHS numbers, and the shape of National Insurance numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infoshare.anonymise.checksums import (
    is_valid_nhs_number,
    is_valid_ni_number,
    is_valid_uln,
    is_valid_upn,
    make_upn,
    nhs_check_digit,
    uln_check_digit,
)
from infoshare.core import upn as core_upn
from infoshare.core import upn_check
from tests.anonymise.generate import pupil_rows

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def plain_weighted_sum(nine: str) -> int:
    """Written out again from the specifications: weights 10, 9, …, 2."""
    total = 0
    weight = 10
    for digit in nine:
        total += int(digit) * weight
        weight -= 1
    return total


def plain_nhs_valid(number: str) -> bool:
    check = 11 - plain_weighted_sum(number[:9]) % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(number[9])


def plain_uln_valid(number: str) -> bool:
    check = 10 - plain_weighted_sum(number[:9]) % 11
    return check != 10 and check == int(number[9])


# --- NHS numbers ------------------------------------------------------------------------


def test_the_nhs_published_example_is_valid_as_written_either_way():
    assert is_valid_nhs_number("9434765919")
    assert is_valid_nhs_number("943 476 5919")
    assert is_valid_nhs_number("943-476-5919")
    assert nhs_check_digit("943476591") == 9


@pytest.mark.parametrize("last", [d for d in "0123456789" if d != "9"])
def test_an_nhs_number_with_a_wrong_check_digit_is_refused(last):
    assert not is_valid_nhs_number("943476591" + last)


def test_a_remainder_of_zero_gives_check_digit_zero():
    # 11 - 0 = 11, which is written 0.
    nine = next(f"{n:09d}" for n in range(1, 10**6) if plain_weighted_sum(f"{n:09d}") % 11 == 0)
    assert nhs_check_digit(nine) == 0
    assert is_valid_nhs_number(nine + "0")


def test_nine_digits_whose_check_would_be_ten_make_no_nhs_number():
    nine = next(f"{n:09d}" for n in range(1, 10**6) if plain_weighted_sum(f"{n:09d}") % 11 == 1)
    assert nhs_check_digit(nine) is None
    assert not any(is_valid_nhs_number(nine + last) for last in "0123456789")


@pytest.mark.parametrize("value", ["", "943476591", "94347659190", "94347659l9", "NHS9434765919"])
def test_not_ten_digits_is_not_an_nhs_number(value):
    assert not is_valid_nhs_number(value)


@given(nine_digits, st.sampled_from("0123456789"))
def test_nhs_numbers_agree_with_a_plain_computation(nine, last):
    assert is_valid_nhs_number(nine + last) == plain_nhs_valid(nine + last)


# --- ULNs -------------------------------------------------------------------------------


def test_a_uln_computed_by_hand_is_valid():
    # 1*10 + 2*9 + 3*8 + 4*7 + 5*6 + 6*5 + 7*4 + 8*3 + 9*2 = 210; 210 mod 11 = 1; 10 - 1 = 9.
    assert uln_check_digit("123456789") == 9
    assert is_valid_uln("1234567899")
    assert not is_valid_uln("1234567898")


def test_a_remainder_of_zero_makes_no_uln():
    # 10 - 0 = 10: not a digit, so no ULN starts with these nine digits.
    nine = next(f"{n:09d}" for n in range(1, 10**6) if plain_weighted_sum(f"{n:09d}") % 11 == 0)
    assert uln_check_digit(nine) is None
    assert not any(is_valid_uln(nine + last) for last in "0123456789")


@given(nine_digits, st.sampled_from("0123456789"))
def test_ulns_agree_with_a_plain_computation(nine, last):
    assert is_valid_uln(nine + last) == plain_uln_valid(nine + last)


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_changing_any_one_digit_of_a_valid_uln_or_nhs_number_invalidates_it(nine, place, step):
    for check_digit, valid in (
        (uln_check_digit, is_valid_uln),
        (nhs_check_digit, is_valid_nhs_number),
    ):
        check = check_digit(nine)
        if check is None:
            continue
        number = nine + str(check)
        changed = number[:place] + str((int(number[place]) + step) % 10) + number[place + 1 :]
        assert valid(number)
        assert not valid(changed)


def test_no_ten_digits_are_both_a_uln_and_an_nhs_number():
    # Their checks differ by one for the same nine digits, so a column cannot be both.
    for n in range(0, 10**9, 7_919_993):
        nine = f"{n:09d}"
        uln, nhs = uln_check_digit(nine), nhs_check_digit(nine)
        assert uln is None or nhs is None or uln != nhs


# --- National Insurance numbers ---------------------------------------------------------


@pytest.mark.parametrize("value", ["AB123456C", "ab 12 34 56 c", "JG 10 37 59 A", "OA123456D"])
def test_national_insurance_numbers_in_the_hmrc_shape_pass(value):
    assert is_valid_ni_number(value)


@pytest.mark.parametrize(
    "value",
    [
        *(f"{letter}A123456C" for letter in "DFIQUV"),  # never a first letter
        *(f"A{letter}123456C" for letter in "DFIQUVO"),  # never a second letter
        *(f"{prefix}123456C" for prefix in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")),
        "AB123456E",  # the suffix is A to D
        "AB123456",  # no suffix
        "AB12345C",  # five digits
        "A1234567C",
        "",
    ],
)
def test_national_insurance_numbers_breaking_the_rules_fail(value):
    assert not is_valid_ni_number(value)


# --- UPNs -------------------------------------------------------------------------------


def test_upns_use_the_check_letter_of_core():
    assert is_valid_upn("B801200005001")  # the DfE's published example
    assert is_valid_upn("b8012 0000 5001")
    assert not is_valid_upn("A801200005001")
    assert is_valid_upn(make_upn("80120000500A"))  # a temporary UPN
    assert core_upn.check_letter is upn_check.check_letter


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_made_upn_is_valid_and_every_other_letter_is_not(body):
    upn = make_upn(body)
    assert is_valid_upn(upn)
    others = [letter for letter in upn_check.UPN_LETTERS if letter != upn[0]]
    assert not any(is_valid_upn(letter + body) for letter in others)


# --- The generator's identifiers --------------------------------------------------------


def test_the_generated_pupils_have_valid_identifiers_and_no_duplicates():
    pupils = pupil_rows(2000, seed=11)
    for column, valid in (
        ("UPN", is_valid_upn),
        ("ULN", is_valid_uln),
        ("NHS number", is_valid_nhs_number),
        ("NI number", is_valid_ni_number),
    ):
        values = pupils[column].drop_nulls().to_list()
        assert values
        assert all(map(valid, values)), column
        assert len(set(values)) == len(values), column


@given(nine_digits)
def test_a_uln_with_its_check_digit_one_too_high_is_an_nhs_number(nine):
    # Why the recogniser's tests change a check digit by two, not one.
    uln = uln_check_digit(nine)
    if uln is not None and uln < 9:
        assert is_valid_nhs_number(nine + str(uln + 1))
