"""Each role sees exactly its navigation entries, read from the rendered page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from infoshare.core.models import Membership, Role
from infoshare.governance.models import InformationAsset
from tests.core.support import links_inside

EVERYONE = ["Dashboard", "People", "Decisions", "Proposals", "Agreements", "Information assets"]
# Everyone who works in the school opens Safeguarding (what was shared with them);
# those who only oversee it from outside, the DPO and the auditor, do not.
# Everyone but an auditor anonymises a dataset before sharing it, and sends files securely.
HANDLING_DATA = ["Anonymise", "Secure transfers"]
IN_SCHOOL = [*EVERYONE[:3], "Safeguarding", *EVERYONE[3:5], *HANDLING_DATA, EVERYONE[5]]
# Statutory sharing names pupils: for those who answer for the school's records.
STATUTORY = ["Statutory sharing"]
EXPECTED = {
    "headteacher": [*IN_SCHOOL, *STATUTORY, "Policy", "Members", "Audit trail"],
    "chair": [*IN_SCHOOL, *STATUTORY, "Policy", "Audit trail"],
    "dpo": [
        *["Dashboard", "People", "Decisions", "Disclosures to review", "Proposals"],
        *["Agreements", *HANDLING_DATA, "Information assets", *STATUTORY, "Policy"],
        "Audit trail",
    ],
    "dsl": [*IN_SCHOOL, "Policy"],
    "deputy_dsl": [*IN_SCHOOL, "Policy"],
    "information_manager": [*IN_SCHOOL, *STATUTORY, "Policy", "Members"],
    "staff": [*IN_SCHOOL, "Policy"],
    "volunteer": [*IN_SCHOOL, "Policy"],
    "auditor": [*EVERYONE, *STATUTORY, "Policy", "Audit trail"],
}
HREFS = {
    "Dashboard": "core:dashboard",
    "People": "core:people",
    "Decisions": "decisions:list",
    "Disclosures to review": "decisions:review_queue",
    "Safeguarding": "safeguarding:home",
    "Proposals": "proposals:list",
    "Agreements": "agreements:register",
    "Anonymise": "anonymise:list",
    "Secure transfers": "transfers:list",
    "Information assets": "governance:assets",
    "Statutory sharing": "statutory:roll_changes",
    "Policy": "policy:home",
    "Members": "core:members",
    "Audit trail": "audit:events",
}


def navigation(html: str) -> list[dict]:
    links = links_inside(html, "nav", "aria-label", "Menu")
    assert links is not None, "the page has no <nav aria-label='Menu'>"
    return links


def test_every_role_is_covered():
    assert set(EXPECTED) == {role.value for role in Role}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_sees_exactly_its_entries(world, client_for, role):
    response = client_for(world.school[role]).get(
        reverse("core:dashboard", kwargs={"org": world.school.slug})
    )
    assert response.status_code == 200
    links = navigation(response.content.decode())
    assert [link["text"] for link in links] == EXPECTED[role]
    for link in links:
        assert link["href"] == reverse(HREFS[link["text"]], kwargs={"org": world.school.slug})


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_every_entry_shown_opens(world, client_for, role):
    client = client_for(world.school[role])
    html = client.get(reverse("core:dashboard", kwargs={"org": world.school.slug})).content.decode()
    for link in navigation(html):
        assert client.get(link["href"]).status_code == 200, link


def test_the_trust_dpo_sees_the_dpo_entries_of_the_school_they_are_on(world, client_for):
    client = client_for(world.trust_dpo)
    for school in (world.school, world.other):
        html = client.get(reverse("core:dashboard", kwargs={"org": school.slug})).content.decode()
        links = navigation(html)
        assert [link["text"] for link in links] == EXPECTED["dpo"]
        assert all(link["href"].startswith(f"/o/{school.slug}/") for link in links)


def test_the_current_page_is_marked(world, client_for):
    client = client_for(world.school["headteacher"])
    html = client.get(reverse("core:members", kwargs={"org": world.school.slug})).content.decode()
    current = [link["text"] for link in navigation(html) if link["attrs"].get("aria-current")]
    assert current == ["Members"]
    html = client.get(reverse("core:dashboard", kwargs={"org": world.school.slug})).content.decode()
    current = [link["text"] for link in navigation(html) if link["attrs"].get("aria-current")]
    assert current == ["Dashboard"]


def test_a_member_detail_page_marks_members_as_current(world, client_for):
    member = Membership.objects.get(
        user=world.school["staff"], organisation=world.school.organisation
    )
    client = client_for(world.school["information_manager"])
    html = client.get(
        reverse("core:member", kwargs={"org": world.school.slug, "member": member.uuid})
    ).content.decode()
    current = [link["text"] for link in navigation(html) if link["attrs"].get("aria-current")]
    assert current == ["Members"]


def test_pages_outside_an_organisation_have_no_navigation(world, client_for):
    html = client_for(world.trust_dpo).get(reverse("core:organisations")).content.decode()
    assert links_inside(html, "nav", "aria-label", "Menu") is None


def test_someone_in_several_organisations_is_offered_to_switch(world, client_for):
    html = (
        client_for(world.trust_dpo)
        .get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
        .content.decode()
    )
    assert f'href="{reverse("core:organisations")}"' in html
    assert "Switch organisation" in html


def test_someone_in_one_organisation_is_not_offered_to_switch(world, client_for):
    html = (
        client_for(world.school["staff"])
        .get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
        .content.decode()
    )
    assert "Switch organisation" not in html


def test_an_asset_page_marks_information_assets_as_current(world, client_for):
    asset = InformationAsset.objects.create(
        organisation=world.school.organisation,
        name="Pupil records in the MIS",
        owner="Business manager",
        system_or_location="MIS",
        retention_period="Date of birth + 25 years",
        created_by=world.school["dpo"],
    )
    html = (
        client_for(world.school["staff"])
        .get(reverse("governance:asset", kwargs={"org": world.school.slug, "asset": asset.uuid}))
        .content.decode()
    )
    current = [link["text"] for link in navigation(html) if link["attrs"].get("aria-current")]
    assert current == ["Information assets"]
    html = (
        client_for(world.school["staff"])
        .get(reverse("agreements:register", kwargs={"org": world.school.slug}))
        .content.decode()
    )
    current = [link["text"] for link in navigation(html) if link["attrs"].get("aria-current")]
    assert current == ["Agreements"]
