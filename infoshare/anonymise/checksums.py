"""Check digits of the identifiers found in pupil datasets, with no Django (design rule 10).

Issue 8 item 2: a column is taken for UPNs, ULNs or NHS numbers when its values
pass the identifier's own check, not merely when they have the right number of
digits, so a column of ten-digit phone numbers or admission numbers is not
mistaken for one. Each function takes the value as written (spaces and hyphens
allowed where people write them) and answers yes or no; it never raises.
"""

from __future__ import annotations

import re

from infoshare.core.upn_check import check_letter, is_valid_upn, make_upn

__all__ = [
    "check_letter",
    "is_valid_nhs_number",
    "is_valid_ni_number",
    "is_valid_uln",
    "is_valid_upn",
    "make_upn",
    "nhs_check_digit",
    "uln_check_digit",
]

_TEN_DIGITS = re.compile(r"^\d{10}$")
# HMRC (NIM39110): D, F, I, Q, U and V are never a prefix letter; O is never the
# second; the suffix is A to D.
_NI_SHAPE = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")
# Prefixes HMRC does not allocate (TN is temporary, the others administrative).
_NI_UNUSED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _weighted_sum(nine_digits: str) -> int:
    """Weights 10 down to 2 on the first nine digits: NHS numbers and ULNs share them."""
    return sum(
        weight * int(digit) for weight, digit in zip(range(10, 1, -1), nine_digits, strict=True)
    )


def _digits_only(value: str) -> str:
    return "".join(value.split()).replace("-", "")


def nhs_check_digit(nine_digits: str) -> int | None:
    """The NHS number's modulus 11 check digit; None when no number ends these nine digits."""
    check = 11 - _weighted_sum(nine_digits) % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def is_valid_nhs_number(value: str) -> bool:
    """Ten digits (written "943 476 5919" or run together) whose last is the check digit."""
    digits = _digits_only(value)
    return bool(_TEN_DIGITS.match(digits)) and nhs_check_digit(digits[:9]) == int(digits[9])


def uln_check_digit(nine_digits: str) -> int | None:
    """The Learning Records Service's check digit: 10 - (weighted sum mod 11); 10 is invalid."""
    check = 10 - _weighted_sum(nine_digits) % 11
    return None if check == 10 else check


def is_valid_uln(value: str) -> bool:
    """A Unique Learner Number: ten digits whose last is the LRS check digit."""
    digits = _digits_only(value)
    return bool(_TEN_DIGITS.match(digits)) and uln_check_digit(digits[:9]) == int(digits[9])


def is_valid_ni_number(value: str) -> bool:
    """A National Insurance number: "QQ 12 34 56 C" shape with HMRC's prefix rules."""
    nino = "".join(value.split()).upper()
    return bool(_NI_SHAPE.match(nino)) and nino[:2] not in _NI_UNUSED_PREFIXES
