"""Unique Pupil Numbers: the shape and the DfE check letter."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from infoshare.core.upn import UPN_LETTERS, check_letter, make_upn, normalise_upn, validate_upn

# The DfE's published example.
EXAMPLE = "B801200005001"


def test_the_published_example_is_valid():
    validate_upn(EXAMPLE)
    assert check_letter(EXAMPLE[1:]) == "B"


def test_a_wrong_check_letter_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate_upn("A801200005001")
    assert refused.value.code == "upn_check_letter"
    assert "check letter does not match" in refused.value.messages[0]


def test_a_temporary_upn_ends_in_a_letter():
    temporary = make_upn("80120000500A")
    assert temporary[-1] == "A"
    validate_upn(temporary)


def test_a_temporary_upn_with_a_wrong_check_letter_is_refused():
    temporary = make_upn("80120000500A")
    wrong = UPN_LETTERS[(UPN_LETTERS.index(temporary[0]) + 1) % 23] + temporary[1:]
    with pytest.raises(ValidationError) as refused:
        validate_upn(wrong)
    assert refused.value.code == "upn_check_letter"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "B80120000500",  # 12 characters
        "B8012000050011",  # 14 characters
        "8801200005001",  # no letter first
        "I801200005001",  # I, O and S are not in the DfE alphabet
        "O801200005001",
        "S801200005001",
        "B80120000500I",  # nor as the last character of a temporary UPN
        "B8012000A5001",  # a letter in the middle
        "B801200005001!",
    ],
)
def test_the_wrong_shape_is_refused(value):
    with pytest.raises(ValidationError) as refused:
        validate_upn(value)
    assert refused.value.code == "upn_shape"
    assert "13 characters" in refused.value.messages[0]


@pytest.mark.parametrize("typed", ["b801200005001", " B801 2000 05001 ", "b 801200005001\t"])
def test_spaces_and_lower_case_are_forgiven(typed):
    assert normalise_upn(typed) == EXAMPLE
    validate_upn(typed)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.sampled_from("0123456789AZ"))
def test_every_made_upn_is_valid_and_one_changed_digit_is_caught(digits, last):
    upn = make_upn(digits + last)
    validate_upn(upn)
    # Changing one digit moves the weighted sum by its weight (here 6) times
    # 1 to 9: never a multiple of 23, a prime, so the check letter changes.
    changed_digit = str((int(upn[5]) + 1) % 10)
    with pytest.raises(ValidationError):
        validate_upn(upn[:5] + changed_digit + upn[6:])
