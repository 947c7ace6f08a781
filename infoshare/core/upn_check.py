"""The UPN check letter, with no Django: the anonymisation engine recognises UPNs too.

A UPN is a check letter followed by twelve characters: the local authority
number (3 digits), the establishment number (4), the year of allocation (2)
and a serial number (3). A temporary UPN ends in a letter instead of a digit.
The check letter is the weighted sum of the other twelve characters (weights
2 to 13) modulo 23, read off the DfE's 23-letter alphabet (no I, O or S).

`core/upn.py` (the form validator) and `anonymise/checksums.py` (rule 10: the
engine imports no Django) both use these functions.
"""

from __future__ import annotations

import re

# The DfE alphabet: the index of a letter is its value.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
UPN_SHAPE = re.compile(rf"^[{UPN_LETTERS}]\d{{11}}[0-9{UPN_LETTERS}]$")


def check_letter(body: str) -> str:
    """The check letter for the twelve characters after it."""
    total = sum(weight * _value(char) for weight, char in zip(range(2, 14), body, strict=True))
    return UPN_LETTERS[total % 23]


def _value(char: str) -> int:
    return int(char) if char.isdigit() else UPN_LETTERS.index(char)


def normalise_upn(value: str) -> str:
    return "".join(value.split()).upper()


def upn_problem(value: str) -> str | None:
    """None for a valid UPN; otherwise "shape" or "check_letter" (after normalising)."""
    upn = normalise_upn(value)
    if not UPN_SHAPE.match(upn):
        return "shape"
    if check_letter(upn[1:]) != upn[0]:
        return "check_letter"
    return None


def is_valid_upn(value: str) -> bool:
    return upn_problem(value) is None


def make_upn(body: str) -> str:
    """A UPN from its last twelve characters (for demo and test data)."""
    return check_letter(body) + body
