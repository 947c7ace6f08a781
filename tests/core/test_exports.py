"""Exports show what people typed as text: a spreadsheet never runs it as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError

from infoshare.core import services
from infoshare.core.exports import spreadsheet_safe
from infoshare.core.models import OrganisationKind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Ordinary name", "Ordinary name"),
        (None, ""),
        (42, "42"),
    ],
)
def test_spreadsheet_safe(value, expected):
    assert spreadsheet_safe(value) == expected


def test_members_csv_neutralises_formulas(world, client_for):
    headteacher = world.school["headteacher"]
    services.invite_member(
        world.school.organisation,
        actor=headteacher,
        email="formula@example.org",
        name="=cmd|' /C calc'!A0",
        roles=["staff"],
    )
    response = client_for(headteacher).get(f"/o/{world.school.slug}/members/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    names = [row[0] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in names
    assert not any(name.startswith("=") for name in names)


def test_a_second_school_with_the_same_urn_is_refused_with_a_clear_message(world):
    with pytest.raises(ValidationError) as refused:
        services.create_organisation(
            actor=None,
            name="Copy School",
            slug="copy",
            kind=OrganisationKind.SCHOOL,
            urn=world.school.organisation.urn,
        )
    assert "Another organisation already has this URN." in refused.value.messages
