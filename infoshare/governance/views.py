"""The information asset register (Appendix A step 6, policy 9.9): the list with its
filters and exports, an asset's page with the agreements and processors that
touch it, and adding, changing and retiring assets.

HTTP glue only: every change goes through infoshare.governance.services.
Every member reads the register; the DPO and the information manager keep it.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from infoshare.agreements.models import (
    IN_FORCE_STATUSES,
    Agreement,
    Kind,
    Party,
    PartyRole,
    Status,
)
from infoshare.core.exports import EXPORT_FORMATS, Column, export_response
from infoshare.core.models import Organisation
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.governance import services
from infoshare.governance.forms import AssetFilterForm, AssetForm, RetireAssetForm
from infoshare.governance.models import InformationAsset
from infoshare.governance.rules import can_manage_assets, can_view_assets

if TYPE_CHECKING:
    from uuid import UUID

    from django.http import HttpResponse, HttpResponseBase

    from infoshare.governance.models import InformationAssetQuerySet

PAGE_SIZE = 25
# A processor stops touching an asset once its DPA is withdrawn, or has expired
# with the data returned or destroyed.
_NO_LONGER_PROCESSING = (Status.WITHDRAWN, Status.EXPIRED)


# --- The list ---------------------------------------------------------------------------


@require_GET
@organisation_view(can_view_assets)
def asset_list(request: OrganisationRequest) -> HttpResponseBase:
    visible = InformationAsset.objects.for_user(request.user, request.organisation)
    form = AssetFilterForm(request.GET or None)
    export_format = request.GET.get("format")
    # A list narrowed by filters that did not apply would export the wrong rows.
    if export_format in EXPORT_FORMATS and (not form.is_bound or form.is_valid()):
        return export_assets(request, form, visible, export_format)
    page = Paginator(with_agreement_counts(form.filter(visible)), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    processors = processor_names(list(page))
    return render(
        request,
        "governance/asset_list.html",
        {
            "form": form,
            "page": page,
            "rows": [
                {
                    "asset": asset,
                    "categories": list(asset.categories.all()),
                    "processors": processors.get(asset.pk, []),
                }
                for asset in page
            ],
            "filtering": form.is_filtering,
            "may_manage": can_manage_assets(request.user, request.organisation),
        },
    )


def with_agreement_counts(assets: InformationAssetQuerySet) -> InformationAssetQuerySet:
    """Each asset with its categories and how many agreements concern it (and how many
    of those are in force), counted by the database: a page costs the same however
    many agreements there are."""
    in_force = Q(agreements__status__in=IN_FORCE_STATUSES)
    return (
        assets.select_related("lawful_basis")
        .prefetch_related("categories")
        .annotate(
            agreement_count=Count("agreements", distinct=True),
            in_force_count=Count("agreements", filter=in_force, distinct=True),
        )
    )


def processor_names(assets: list[InformationAsset]) -> dict[int, list[str]]:
    """The names of the processors that touch each of `assets` (by id), in one query."""
    touching = (
        Party.objects.filter(
            role=PartyRole.PROCESSOR,
            agreement__kind=Kind.DPA,
            agreement__assets__in=[asset.pk for asset in assets],
        )
        .exclude(agreement__status__in=_NO_LONGER_PROCESSING)
        .values_list("agreement__assets", "organisation__name")
        .distinct()
    )
    names: dict[int, list[str]] = {}
    for asset_id, name in touching:
        names.setdefault(asset_id, []).append(name)
    return {asset_id: sorted(found) for asset_id, found in names.items()}


def with_agreements(assets: InformationAssetQuerySet) -> InformationAssetQuerySet:
    """Each asset with its categories, and every agreement that concerns it with that
    agreement's processors, in a fixed number of queries (for one asset, or an export)."""
    processors = Party.objects.filter(role=PartyRole.PROCESSOR).select_related("organisation")
    agreements = Agreement.objects.order_by("reference").prefetch_related(
        Prefetch("parties", queryset=processors, to_attr="processor_parties")
    )
    return assets.select_related("lawful_basis").prefetch_related(
        "categories", Prefetch("agreements", queryset=agreements)
    )


def processors_of(agreements: list[Agreement]) -> list[tuple[Organisation, Agreement]]:
    """The processors that touch an asset, each with the DPA that engages it (the first
    if several), from agreements prefetched with their `processor_parties`."""
    found: dict[int, tuple[Organisation, Agreement]] = {}
    for agreement in agreements:
        if agreement.kind != Kind.DPA or agreement.status in _NO_LONGER_PROCESSING:
            continue
        for party in getattr(agreement, "processor_parties", []):
            found.setdefault(party.organisation_id, (party.organisation, agreement))
    return sorted(found.values(), key=lambda pair: pair[0].name)


# --- One asset --------------------------------------------------------------------------


@require_GET
@organisation_view(can_view_assets)
def asset_detail(request: OrganisationRequest, asset: UUID) -> HttpResponse:
    record = _asset_in_full(request, asset)
    agreements = list(record.agreements.all())
    return render(
        request,
        "governance/asset_detail.html",
        {
            "asset": record,
            "categories": list(record.categories.all()),
            "agreements": agreements,
            "processors": processors_of(agreements),
            "may_manage": can_manage_assets(request.user, request.organisation),
        },
    )


def visible_asset(request: OrganisationRequest, asset: UUID) -> InformationAsset:
    """The asset named in the URL, or 404 (another school's does not exist here)."""
    return get_object_or_404(
        InformationAsset.objects.for_user(request.user, request.organisation).select_related(
            "organisation"
        ),
        uuid=asset,
    )


def _asset_in_full(request: OrganisationRequest, asset: UUID) -> InformationAsset:
    return get_object_or_404(
        with_agreements(
            InformationAsset.objects.for_user(request.user, request.organisation)
        ).select_related("organisation", "created_by"),
        uuid=asset,
    )


# --- Adding, changing and retiring -----------------------------------------------------


@require_http_methods(["GET", "POST"])
@organisation_view(can_manage_assets)
def add_asset(request: OrganisationRequest) -> HttpResponse:
    form = AssetForm(_posted(request))
    if form.is_bound and form.is_valid():
        asset = _call_service(
            form,
            services.create_asset,
            request.organisation,
            actor=request.user,
            answers=form.answers(),
        )
        if asset is not None:
            messages.success(request, f"{asset.name} is on the information asset register.")
            return redirect(asset)
    return render(request, "governance/asset_form.html", {"form": form, "asset": None})


@require_http_methods(["GET", "POST"])
@organisation_view(can_manage_assets)
def edit_asset(request: OrganisationRequest, asset: UUID) -> HttpResponse:
    record = visible_asset(request, asset)
    if record.is_retired:
        messages.error(request, f"{record.name} is retired: a retired asset is not changed.")
        return redirect(record)
    form = AssetForm(_posted(request), initial=AssetForm.initial_for(record))
    if form.is_bound and form.is_valid():
        changed = _call_service(
            form, services.update_asset, record, actor=request.user, answers=form.answers()
        )
        if changed is not None:
            messages.success(request, f"The details of {changed.name} are saved.")
            return redirect(changed)
    return render(request, "governance/asset_form.html", {"form": form, "asset": record})


@require_http_methods(["GET", "POST"])
@organisation_view(can_manage_assets)
def retire_asset(request: OrganisationRequest, asset: UUID) -> HttpResponse:
    record = visible_asset(request, asset)
    if record.is_retired:
        messages.error(request, f"{record.name} is already retired.")
        return redirect(record)
    form = RetireAssetForm(_posted(request))
    if form.is_bound and form.is_valid():
        retired = _call_service(
            form,
            services.retire_asset,
            record,
            actor=request.user,
            reasons=form.cleaned_data["reasons"],
        )
        if retired is not None:
            messages.success(
                request, f"{retired.name} is retired. It is kept on the register, with your reason."
            )
            return redirect(retired)
    return render(request, "governance/retire_asset.html", {"form": form, "asset": record})


# --- Exports ----------------------------------------------------------------------------


def _joined(items: list[Any]) -> str:
    return "; ".join(str(item) for item in items)


def _day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def _agreements(asset: InformationAsset) -> str:
    return _joined([agreement.reference for agreement in asset.agreements.all()])


def _processors(asset: InformationAsset) -> str:
    return _joined([org.name for org, _dpa in processors_of(list(asset.agreements.all()))])


EXPORT_COLUMNS: list[Column[InformationAsset]] = [
    Column("Name", lambda a: a.name),
    Column("Description", lambda a: a.description),
    Column("Owner", lambda a: a.owner),
    Column("System or location", lambda a: a.system_or_location),
    Column("Categories", lambda a: _joined(list(a.categories.all()))),
    Column("Special category", lambda a: "Yes" if a.special_category else "No"),
    Column("Lawful basis", lambda a: str(a.lawful_basis or "")),
    Column("Retention period", lambda a: a.retention_period),
    Column("Agreements", _agreements),
    Column("Processors", _processors),
    Column("Added on", lambda a: _day(a.created_at)),
    Column("Retired on", lambda a: _day(a.retired_at)),
    Column("Why retired", lambda a: a.retired_reasons),
]


def export_assets(
    request: OrganisationRequest,
    form: AssetFilterForm,
    visible: InformationAssetQuerySet,
    export_format: str,
) -> HttpResponseBase:
    matching = form.filter(visible)
    services.note_assets_exported(
        request.organisation,
        actor=request.user,
        changes={"format": export_format, "rows": matching.count(), "filters": form.used()},
    )
    filename = f"information-assets-{request.organisation.slug}-{timezone.localdate():%Y-%m-%d}"
    return export_response(
        export_format,
        with_agreements(matching),
        EXPORT_COLUMNS,
        filename,
        sheet="Information assets",
    )
