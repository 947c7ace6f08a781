"""Helpers shared by the roll changes import tests: made-up rows, files and pupils.

Every UPN here is generated with make_upn; every name is made up. "Today" is
20 November 2026 in every test that records, so the dates below stay in range.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infoshare.core.models import Organisation, Person, PersonKind
from infoshare.core.upn import make_upn
from infoshare.statutory.imports import TEMPLATE_HEADINGS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

FILES = Path(__file__).parent / "files"
TODAY = datetime.date(2026, 11, 20)
HEADINGS = list(TEMPLATE_HEADINGS)
BORN = datetime.date(2015, 3, 27)


def upn(n: int, establishment: str = "0001") -> str:
    """A made-up, valid UPN: fake LA 801, the establishment, 2025, serial n."""
    return make_upn(f"801{establishment}25{n:03d}")


def joining(n: int, **overrides: str) -> dict[str, str]:
    """The n-th made-up pupil joining the roll on 2 November 2026, as a row of the template."""
    row = {
        "UPN": upn(n),
        "Legal forename": f"Given{n:03d}",
        "Legal surname": f"Family{n:03d}",
        "Date of birth": "27/03/2015",
        "Change": "Joined",
        "Date": "02/11/2026",
        "Removal ground": "",
        "Notes": "",
    }
    return {**row, **_renamed(overrides)}


def leaving(n: int, **overrides: str) -> dict[str, str]:
    """The n-th made-up pupil removed from the roll on 13 November 2026, to another school."""
    removal = {"Change": "Left", "Date": "13/11/2026", "Removal ground": "9(1)(a)"}
    return {**joining(n), **removal, **_renamed(overrides)}


def _renamed(overrides: dict[str, str]) -> dict[str, str]:
    """Keyword arguments name headings with underscores: Removal_ground="k"."""
    return {name.replace("_", " "): value for name, value in overrides.items()}


def csv_bytes(
    rows: Iterable[dict[str, str]],
    headings: Sequence[str] = HEADINGS,
    *,
    bom: bool = False,
    encoding: str = "utf-8",
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    for row in rows:
        writer.writerow([row.get(heading, "") for heading in headings])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def pupil_on_list(organisation: Organisation, n: int, **fields: Any) -> Person:
    """The n-th made-up pupil, already on the school's list (as the rows above name them)."""
    values: dict[str, Any] = {
        "given_name": f"Given{n:03d}",
        "family_name": f"Family{n:03d}",
        "upn": upn(n),
        "date_of_birth": BORN,
        "on_roll_from": datetime.date(2019, 9, 1),
    }
    values.update(fields)
    return Person.objects.create(organisation=organisation, kind=PersonKind.PUPIL, **values)
