"""Who may open each roll change page: every role of both schools x every page.

Those who answer for the school's records and its oversight (headteacher,
information manager, DPO, chair, auditor) read the roll changes; the
headteacher and the information manager keep them. Everyone else gets 403;
another school's people, and another school's changes, 404.
tests/core/test_tenancy.py takes `roll_urls` from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from infoshare.core.models import Role
from infoshare.statutory.models import RollChange
from tests.statutory.support import joining, record

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

ALL_ROLES = [role.value for role in Role]
READERS = {"headteacher", "information_manager", "dpo", "chair", "auditor"}
KEEPERS = {"headteacher", "information_manager"}


def matrix_change(school) -> RollChange:
    """The school's roll change every row of the matrix names, made the first time."""
    existing = RollChange.objects.filter(organisation=school.organisation).first()
    if existing is not None:
        return existing
    return record(school.organisation, school["headteacher"], joining(given_name="Matrix"))


# Name -> (URL name, method, whether it names the change by reference, the selection query,
# who may open it).
PAGES = {
    "list": ("roll_changes", "get", False, False, READERS),
    "joining": ("record_joining", "get", False, False, KEEPERS),
    "joining_post": ("record_joining", "post", False, False, KEEPERS),
    "removal": ("record_removal", "get", False, False, KEEPERS),
    "removal_post": ("record_removal", "post", False, False, KEEPERS),
    "detail": ("roll_change", "get", True, False, READERS),
    "withdraw": ("withdraw_roll_change", "get", True, False, KEEPERS),
    "withdraw_post": ("withdraw_roll_change", "post", True, False, KEEPERS),
    "notify": ("notify_roll_changes", "get", False, True, KEEPERS),
    "notify_post": ("notify_roll_changes", "post", False, True, KEEPERS),
    "csv": ("roll_changes_csv", "get", False, True, KEEPERS),
    "letter": ("roll_changes_letter", "get", False, True, KEEPERS),
}


def page_path(school, name: str) -> str:
    url_name, _, by_reference, selecting, _ = PAGES[name]
    kwargs = {"org": school.slug}
    change = matrix_change(school)
    if by_reference:
        kwargs["reference"] = change.reference
    path = reverse(f"statutory:{url_name}", kwargs=kwargs)
    return f"{path}?change={change.uuid}" if selecting else path


def roll_urls(school) -> list[tuple[str, str, str]]:
    """(name, method, path) of every roll change page of `school` (e.g. `world.school`),
    naming a real change, for tests/core/test_tenancy.py's `all_urls`."""
    return [(f"roll_{name}", PAGES[name][1], page_path(school, name)) for name in PAGES]


def send(client: Client, name: str, path: str):
    return getattr(client, PAGES[name][1])(path)


def expected_status(name: str, role: str) -> int:
    return 200 if role in PAGES[name][4] else 403


@pytest.mark.parametrize("name", list(PAGES))
def test_roll_access_matrix(world, client_for, name):
    path = page_path(world.school, name)
    got = {role: send(client_for(world.school[role]), name, path).status_code for role in ALL_ROLES}
    assert got == {role: expected_status(name, role) for role in ALL_ROLES}, path


@pytest.mark.parametrize("name", list(PAGES))
def test_the_trust_dpo_reads_both_schools(world, client_for, name):
    client = client_for(world.trust_dpo)
    for school in (world.school, world.other):
        assert send(client, name, page_path(school, name)).status_code == expected_status(
            name, "dpo"
        )


@pytest.mark.parametrize("name", list(PAGES))
def test_another_schools_people_get_404(world, client_for, name):
    path = page_path(world.school, name)
    for role in ALL_ROLES:
        assert send(client_for(world.other[role]), name, path).status_code == 404, (role, path)


@pytest.mark.parametrize("name", [name for name, page in PAGES.items() if page[2] or page[3]])
def test_another_schools_change_through_ones_own_address_is_404(world, client_for, name):
    matrix_change(world.school)  # RC-YYYY-0001 here
    matrix_change(world.other)
    # Their second change: a reference this school does not have.
    theirs = record(world.other.organisation, world.other["headteacher"], joining(given_name="Jo"))
    url_name, _, by_reference, selecting, _ = PAGES[name]
    kwargs = {"org": world.school.slug}
    if by_reference:
        kwargs["reference"] = theirs.reference
    path = reverse(f"statutory:{url_name}", kwargs=kwargs)
    if selecting:
        path += f"?change={theirs.uuid}"
    # Those who may open the page at all (others are refused before any lookup: 403).
    for role in sorted(PAGES[name][4]):
        response = send(client_for(world.school[role]), name, path)
        assert response.status_code == 404, (role, path)


def test_an_unknown_reference_is_404(world, client_for):
    path = reverse(
        "statutory:roll_change", kwargs={"org": world.school.slug, "reference": "RC-1999-0001"}
    )
    assert client_for(world.school["headteacher"]).get(path).status_code == 404


def test_roll_urls_cover_every_roll_page(world):
    names = {path.split("?")[0] for _, _, path in roll_urls(world.school)}
    assert len(names) == len({page[0] for page in PAGES.values()})
