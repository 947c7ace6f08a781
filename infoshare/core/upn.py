"""Unique Pupil Numbers: the 13-character identifier the DfE gives every pupil in England.

A UPN is a check letter followed by twelve characters: the local authority
number (3 digits), the establishment number (4), the year of allocation (2)
and a serial number (3). A temporary UPN ends in a letter instead of a digit.
The check letter is the weighted sum of the other twelve characters (weights
2 to 13) modulo 23, read off the DfE's 23-letter alphabet (no I, O or S).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# The DfE alphabet: the index of a letter is its value.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_SHAPE = re.compile(rf"^[{UPN_LETTERS}]\d{{11}}[0-9{UPN_LETTERS}]$")


def check_letter(body: str) -> str:
    """The check letter for the twelve characters after it."""
    total = sum(weight * _value(char) for weight, char in zip(range(2, 14), body, strict=True))
    return UPN_LETTERS[total % 23]


def _value(char: str) -> int:
    return int(char) if char.isdigit() else UPN_LETTERS.index(char)


def normalise_upn(value: str) -> str:
    return "".join(value.split()).upper()


def validate_upn(value: str) -> None:
    upn = normalise_upn(value)
    if not _SHAPE.match(upn):
        raise ValidationError(
            "Enter a UPN of 13 characters: a letter, 11 digits, then a digit or letter, "
            "like A123456789012.",
            code="upn_shape",
        )
    if check_letter(upn[1:]) != upn[0]:
        raise ValidationError(
            "This UPN's check letter does not match its digits. Copy it again from the "
            "school's information system.",
            code="upn_check_letter",
        )


def make_upn(body: str) -> str:
    """A UPN from its last twelve characters (for demo and test data)."""
    return check_letter(body) + body
