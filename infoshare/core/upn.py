"""Unique Pupil Numbers: the 13-character identifier the DfE gives every pupil in England.

The check-letter algorithm itself is in `core/upn_check.py`, free of Django so
the anonymisation engine can use it (DESIGN.md rule 10); this module adds the
form validator with its messages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from infoshare.core.upn_check import (
    UPN_LETTERS,
    check_letter,
    make_upn,
    normalise_upn,
    upn_problem,
)

__all__ = ["UPN_LETTERS", "check_letter", "make_upn", "normalise_upn", "validate_upn"]


def validate_upn(value: str) -> None:
    problem = upn_problem(value)
    if problem == "shape":
        raise ValidationError(
            "Enter a UPN of 13 characters: a letter, 11 digits, then a digit or letter, "
            "like A123456789012.",
            code="upn_shape",
        )
    if problem == "check_letter":
        raise ValidationError(
            "This UPN's check letter does not match its digits. Copy it again from the "
            "school's information system.",
            code="upn_check_letter",
        )
