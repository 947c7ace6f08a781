"""Helpers for the CSV exports every list offers."""

from __future__ import annotations

# A cell starting with one of these is run as a formula by spreadsheet
# programs ("CSV injection"); exports must show it as the text it is.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """The value as text, prefixed with ' when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
