"""Every change to the information asset register (DESIGN.md rule 1), one function a step.

Each service checks who is acting, checks the answers, saves and writes the
audit event in one transaction. Bad answers raise ValidationError with a
message per field name (the form's field names) and change nothing. Assets
are retired, never deleted: old agreements still name them (rule 7).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.core.checks import raise_if
from infoshare.governance.models import InformationAsset
from infoshare.governance.rules import can_manage_assets, can_view_assets

if TYPE_CHECKING:
    from collections.abc import Sequence

    from infoshare.core.models import DataCategory, LawfulBasis, Organisation, User

REGISTER_LABEL = "Information asset register"


@dataclass(frozen=True)
class AssetAnswers:
    """What the register records of an asset (policy 9.9, Appendix A step 6)."""

    name: str
    owner: str
    system_or_location: str
    retention_period: str
    description: str = ""
    categories: Sequence[DataCategory] = ()
    special_category: bool = False
    lawful_basis: LawfulBasis | None = None


# The answers kept in the asset's own columns (categories are a many-to-many).
_COLUMNS = [field.name for field in fields(AssetAnswers) if field.name != "categories"]


def create_asset(
    organisation: Organisation, *, actor: User, answers: AssetAnswers
) -> InformationAsset:
    with transaction.atomic():
        _require_keeper(actor, organisation)
        raise_if(asset_errors(organisation, answers))
        asset = InformationAsset(organisation=organisation, created_by=actor)
        _apply(asset, answers)
        asset.save()
        asset.categories.set(answers.categories)
        audit.record(actor, "information_asset.created", asset, {"name": asset.name})
    return asset


def update_asset(
    asset: InformationAsset, *, actor: User, answers: AssetAnswers
) -> InformationAsset:
    """Change an asset; the audit event names the fields that changed, not their content."""
    with transaction.atomic():
        _require_keeper(actor, asset.organisation)
        asset = _lock(asset)
        if asset.is_retired:
            raise ValidationError(f"{asset.name} is retired: a retired asset is not changed.")
        raise_if(asset_errors(asset.organisation, answers, asset=asset))
        changed = _changed_fields(asset, answers)
        if not changed:
            return asset
        _apply(asset, answers)
        asset.updated_at = timezone.now()
        asset.save()
        asset.categories.set(answers.categories)
        audit.record(actor, "information_asset.changed", asset, {"fields": changed})
    return asset


def retire_asset(asset: InformationAsset, *, actor: User, reasons: str) -> InformationAsset:
    """Take an asset off the current register, with the reasons; it is kept, never deleted."""
    with transaction.atomic():
        _require_keeper(actor, asset.organisation)
        asset = _lock(asset)
        if asset.is_retired:
            raise ValidationError(f"{asset.name} is already retired.")
        raise_if({"reasons": "Explain why the asset is retired."} if not reasons.strip() else {})
        asset.retired_at = asset.updated_at = timezone.now()
        asset.retired_reasons = reasons.strip()
        asset.save()
        audit.record(actor, "information_asset.retired", asset, {"name": asset.name})
    return asset


def note_assets_exported(
    organisation: Organisation, *, actor: User, changes: dict[str, Any]
) -> None:
    """A download of the register: format, rows and filter codes, never words searched for."""
    with transaction.atomic():
        if not can_view_assets(actor, organisation):
            raise PermissionDenied("Only members of the organisation export its asset register.")
        audit.record(
            actor, "information_assets.exported", organisation, changes, label=REGISTER_LABEL
        )


# --- Checks -----------------------------------------------------------------------------


def asset_errors(
    organisation: Organisation, answers: AssetAnswers, *, asset: InformationAsset | None = None
) -> dict[str, str]:
    """What is wrong with `answers`, by field name; empty when they may be saved."""
    errors = {
        name: message
        for name, message in (
            ("name", "Enter the name of the information asset."),
            ("owner", "Enter who owns the asset: a person or a role."),
            ("system_or_location", "Enter the system or place where the information is kept."),
            ("retention_period", "Enter how long the information is kept."),
        )
        if not getattr(answers, name).strip()
    }
    special = [category.name for category in answers.categories if category.is_special]
    if special and not answers.special_category:
        errors["special_category"] = (
            f"{' and '.join(special)} {'is' if len(special) == 1 else 'are'} special category "
            "data: say the asset holds special category data, or remove "
            f"{'it' if len(special) == 1 else 'them'} from the categories."
        )
    if "name" not in errors and _name_taken(organisation, answers.name, asset):
        errors["name"] = "The register already has a current asset with this name."
    return errors


def _name_taken(organisation: Organisation, name: str, asset: InformationAsset | None) -> bool:
    others = InformationAsset.objects.filter(organisation=organisation).current()
    if asset is not None:
        others = others.exclude(pk=asset.pk)
    return others.filter(name__iexact=name.strip()).exists()


# --- Helpers ----------------------------------------------------------------------------


def _require_keeper(actor: User, organisation: Organisation) -> None:
    if not can_manage_assets(actor, organisation):
        raise PermissionDenied(
            "Only the DPO or the information manager keeps the information asset register."
        )


def _lock(asset: InformationAsset) -> InformationAsset:
    return (
        InformationAsset.objects.select_for_update().select_related("organisation").get(pk=asset.pk)
    )


def _column_values(answers: AssetAnswers) -> dict[str, Any]:
    """The answers kept in the asset's own columns, text trimmed as it is stored."""
    values = {name: getattr(answers, name) for name in _COLUMNS}
    return {name: v.strip() if isinstance(v, str) else v for name, v in values.items()}


def _apply(asset: InformationAsset, answers: AssetAnswers) -> None:
    for name, value in _column_values(answers).items():
        setattr(asset, name, value)


def _changed_fields(asset: InformationAsset, answers: AssetAnswers) -> list[str]:
    changed = [
        name for name, value in _column_values(answers).items() if value != getattr(asset, name)
    ]
    before = set(asset.categories.values_list("pk", flat=True))
    if before != {category.pk for category in answers.categories}:
        changed.append("categories")
    return sorted(changed)
