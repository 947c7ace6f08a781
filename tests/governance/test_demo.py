"""`seed_assets`: the five demo assets, added through the services, once."""

from __future__ import annotations

import pytest

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.governance.demo import DEMO_ASSETS, seed_assets
from infoshare.governance.models import InformationAsset

pytestmark = pytest.mark.django_db


def test_five_plausible_assets_are_added_by_the_information_manager(world):
    school = world.school
    made = seed_assets(school.organisation, school.people)
    assert [asset.name for asset in made] == [entry[0] for entry in DEMO_ASSETS]
    assert {asset.name for asset in made} >= {
        "Pupil records in the MIS",
        "Safeguarding records",
        "Special educational needs records",
        "Catering and cashless payment system",
        "Staff HR files",
    }
    for asset in made:
        asset.refresh_from_db()
        assert asset.organisation == school.organisation
        assert asset.created_by == school["information_manager"]
        assert asset.owner
        assert asset.system_or_location
        assert asset.retention_period
        assert asset.lawful_basis is not None
        categories = list(asset.categories.all())
        assert categories
        # Declared special category exactly when a category is one.
        assert asset.special_category == any(category.is_special for category in categories)
    catering = next(asset for asset in made if asset.name.startswith("Catering"))
    assert "biometric" in {category.code for category in catering.categories.all()}
    assert AuditEvent.objects.filter(verb="information_asset.created").count() == 5


def test_seeding_again_adds_nothing_and_returns_the_assets(world):
    first = seed_assets(world.school.organisation, world.school.people)
    again = seed_assets(world.school.organisation)
    assert {asset.pk for asset in again} == {asset.pk for asset in first}
    assert InformationAsset.objects.filter(organisation=world.school.organisation).count() == 5


def test_without_anyone_to_keep_the_register_nothing_is_added(world):
    people = {role: user for role, user in world.school.people.items() if role == Role.STAFF}
    assert seed_assets(world.school.organisation, people) == []
    assert not InformationAsset.objects.exists()


def test_the_dpo_adds_them_when_there_is_no_information_manager(world):
    people = {Role.DPO.value: world.school["dpo"]}
    made = seed_assets(world.school.organisation, people)
    assert {asset.created_by for asset in made} == {world.school["dpo"]}
