"""The information asset register's services: who may add, change, retire and export,
what they check, and the audit event each leaves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from infoshare.audit.models import AuditEvent
from infoshare.core.models import DataCategory, LawfulBasis, Role
from infoshare.governance import services
from infoshare.governance.models import InformationAsset
from infoshare.governance.services import AssetAnswers
from tests.core.support import assert_chain_intact, changes_of, last_event

pytestmark = pytest.mark.django_db

KEEPERS = {Role.DPO, Role.INFORMATION_MANAGER}


def answers(**changes: Any) -> AssetAnswers:
    return replace(
        AssetAnswers(
            name="SEN records",
            description="EHC plans and SEN support plans.",
            owner="SENCo",
            system_or_location="MIS SEN module",
            categories=list(DataCategory.objects.filter(code__in=["send", "education"])),
            special_category=True,
            lawful_basis=LawfulBasis.objects.get(code="public-task"),
            retention_period="Date of birth + 31 years",
        ),
        **changes,
    )


def create(world, role: str = Role.DPO, **changes: Any) -> InformationAsset:
    return services.create_asset(
        world.school.organisation, actor=world.school[role], answers=answers(**changes)
    )


def errors_of(raised: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return raised.value.message_dict


# --- Adding -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(KEEPERS))
def test_the_dpo_or_information_manager_adds_an_asset(world, role):
    asset = create(world, role)
    asset.refresh_from_db()
    assert asset.organisation == world.school.organisation
    assert asset.created_by == world.school[role]
    assert asset.name == "SEN records"
    assert asset.special_category is True
    assert asset.lawful_basis.code == "public-task"
    assert {category.code for category in asset.categories.all()} == {"send", "education"}
    assert not asset.is_retired
    event = last_event("information_asset.created")
    assert event.actor == world.school[role]
    assert event.object_id == str(asset.uuid)
    assert event.organisation == world.school.organisation
    assert changes_of(event) == {"name": "SEN records"}
    assert_chain_intact(world.school.organisation)


@pytest.mark.parametrize("role", sorted(set(Role) - KEEPERS))
def test_other_roles_cannot_add_an_asset(world, role):
    with pytest.raises(PermissionDenied):
        create(world, role)
    assert not InformationAsset.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="information_asset").exists()


def test_another_schools_dpo_cannot_add_to_this_register(world):
    with pytest.raises(PermissionDenied):
        services.create_asset(
            world.school.organisation, actor=world.other["dpo"], answers=answers()
        )
    assert not InformationAsset.objects.exists()


def test_the_trust_dpo_adds_to_each_school_they_serve(world):
    for school in (world.school, world.other):
        services.create_asset(school.organisation, actor=world.trust_dpo, answers=answers())
    assert InformationAsset.objects.filter(created_by=world.trust_dpo).count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter the name of the information asset."),
        ({"owner": ""}, "owner", "Enter who owns the asset: a person or a role."),
        (
            {"system_or_location": ""},
            "system_or_location",
            "Enter the system or place where the information is kept.",
        ),
        ({"retention_period": ""}, "retention_period", "Enter how long the information is kept."),
    ],
)
def test_a_missing_answer_is_refused_beside_its_field(world, changes, field, message):
    with pytest.raises(ValidationError) as raised:
        create(world, **changes)
    assert errors_of(raised) == {field: [message]}
    assert not InformationAsset.objects.exists()
    assert not AuditEvent.objects.filter(verb="information_asset.created").exists()


def test_special_category_data_must_be_declared(world):
    with pytest.raises(ValidationError) as raised:
        create(world, special_category=False)
    assert errors_of(raised) == {
        "special_category": [
            "Special educational needs and disability (SEND) is special category data: say the "
            "asset holds special category data, or remove it from the categories."
        ]
    }
    several = list(DataCategory.objects.filter(code__in=["health", "biometric"]))
    with pytest.raises(ValidationError) as raised:
        create(world, special_category=False, categories=several)
    assert "are special category data" in errors_of(raised)["special_category"][0]
    assert not InformationAsset.objects.exists()


def test_an_asset_may_hold_special_category_data_the_categories_do_not_name(world):
    asset = create(world, categories=[], special_category=True)
    assert asset.special_category is True


def test_two_current_assets_may_not_share_a_name(world):
    create(world)
    with pytest.raises(ValidationError) as raised:
        create(world, name="sen RECORDS ")
    assert errors_of(raised) == {
        "name": ["The register already has a current asset with this name."]
    }
    # Another school may use the name, and so may a new asset once the old one is retired.
    services.create_asset(world.other.organisation, actor=world.other["dpo"], answers=answers())
    services.retire_asset(
        InformationAsset.objects.get(organisation=world.school.organisation),
        actor=world.school["dpo"],
        reasons="Replaced by the new SEN system.",
    )
    assert create(world).name == "SEN records"


# --- Changing ---------------------------------------------------------------------------


def test_a_change_names_the_fields_that_changed_not_their_content(world):
    asset = create(world)
    changed = services.update_asset(
        asset,
        actor=world.school["information_manager"],
        answers=answers(
            owner="Deputy headteacher",
            categories=list(DataCategory.objects.filter(code="send")),
            retention_period="Date of birth + 35 years",
        ),
    )
    changed.refresh_from_db()
    assert changed.owner == "Deputy headteacher"
    assert changed.retention_period == "Date of birth + 35 years"
    assert [category.code for category in changed.categories.all()] == ["send"]
    assert changed.updated_at > changed.created_at
    event = last_event("information_asset.changed")
    assert event.actor == world.school["information_manager"]
    assert changes_of(event) == {"fields": ["categories", "owner", "retention_period"]}
    assert "Deputy" not in event.changes


def test_saving_without_a_change_leaves_no_event(world):
    asset = create(world)
    services.update_asset(asset, actor=world.school["dpo"], answers=answers())
    assert not AuditEvent.objects.filter(verb="information_asset.changed").exists()


@pytest.mark.parametrize("role", sorted(set(Role) - KEEPERS))
def test_other_roles_cannot_change_an_asset(world, role):
    asset = create(world)
    with pytest.raises(PermissionDenied):
        services.update_asset(asset, actor=world.school[role], answers=answers(owner="Me"))
    asset.refresh_from_db()
    assert asset.owner == "SENCo"


def test_a_bad_change_changes_nothing(world):
    asset = create(world)
    with pytest.raises(ValidationError) as raised:
        services.update_asset(asset, actor=world.school["dpo"], answers=answers(owner=" ", name=""))
    assert set(errors_of(raised)) == {"owner", "name"}
    asset.refresh_from_db()
    assert (asset.owner, asset.name) == ("SENCo", "SEN records")
    assert not AuditEvent.objects.filter(verb="information_asset.changed").exists()


def test_an_asset_keeps_its_own_name_when_changed(world):
    asset = create(world)
    changed = services.update_asset(asset, actor=world.school["dpo"], answers=answers(owner="X"))
    assert changed.name == "SEN records"


# --- Retiring ---------------------------------------------------------------------------


def test_retiring_keeps_the_asset_with_its_reasons(world):
    asset = create(world)
    retired = services.retire_asset(
        asset, actor=world.school["dpo"], reasons="  The SEN system was replaced.  "
    )
    retired.refresh_from_db()
    assert retired.is_retired
    assert retired.retired_reasons == "The SEN system was replaced."
    assert InformationAsset.objects.filter(pk=asset.pk).exists()  # nothing is deleted
    assert not InformationAsset.objects.current().filter(pk=asset.pk).exists()
    event = last_event("information_asset.retired")
    assert event.actor == world.school["dpo"]
    assert event.object_id == str(asset.uuid)
    assert "replaced" not in event.changes


def test_retiring_needs_reasons(world):
    asset = create(world)
    with pytest.raises(ValidationError) as raised:
        services.retire_asset(asset, actor=world.school["dpo"], reasons="   ")
    assert errors_of(raised) == {"reasons": ["Explain why the asset is retired."]}
    asset.refresh_from_db()
    assert not asset.is_retired


def test_a_retired_asset_is_neither_retired_again_nor_changed(world):
    asset = services.retire_asset(create(world), actor=world.school["dpo"], reasons="Gone.")
    with pytest.raises(ValidationError, match="already retired"):
        services.retire_asset(asset, actor=world.school["dpo"], reasons="Again.")
    with pytest.raises(ValidationError, match="a retired asset is not changed"):
        services.update_asset(asset, actor=world.school["dpo"], answers=answers(owner="X"))
    assert AuditEvent.objects.filter(verb="information_asset.retired").count() == 1


@pytest.mark.parametrize("role", sorted(set(Role) - KEEPERS))
def test_other_roles_cannot_retire_an_asset(world, role):
    asset = create(world)
    with pytest.raises(PermissionDenied):
        services.retire_asset(asset, actor=world.school[role], reasons="Not mine to retire.")
    asset.refresh_from_db()
    assert not asset.is_retired


# --- Exports ----------------------------------------------------------------------------


def test_an_export_is_recorded_for_any_member(world):
    services.note_assets_exported(
        world.school.organisation,
        actor=world.school["auditor"],
        changes={"format": "csv", "rows": 3, "filters": {}},
    )
    event = last_event("information_assets.exported")
    assert event.object_label == "Information asset register"
    assert changes_of(event) == {"format": "csv", "rows": 3, "filters": {}}


def test_someone_outside_the_school_cannot_export_its_register(world):
    with pytest.raises(PermissionDenied):
        services.note_assets_exported(
            world.school.organisation, actor=world.other["dpo"], changes={"format": "csv"}
        )
    assert not AuditEvent.objects.filter(verb="information_assets.exported").exists()
