"""The agreements register (issue 5, item 5): every agreement of the school, with its
status tag, filters, search, sorting, pages, and CSV and XLSX exports.

HTTP glue only. What a viewer may see is `Agreement.objects.for_user`; the
filters (forms/register.py) only narrow it. An export holds every matching
agreement, not one page, and is recorded by `reporting.note_agreements_exported`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from infoshare.agreements import reporting
from infoshare.agreements.forms.register import (
    SORT_OPTIONS,
    AgreementFilterForm,
    tag_counts,
)
from infoshare.agreements.models import Agreement, Party
from infoshare.agreements.rules import can_draft_agreement, can_view_agreements
from infoshare.core.exports import EXPORT_FORMATS, Column, export_response
from infoshare.core.models import Organisation
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.governance.models import InformationAsset

if TYPE_CHECKING:
    from django.http import HttpResponseBase

    from infoshare.agreements.models import AgreementQuerySet

PAGE_SIZE = 25


@require_GET
@organisation_view(can_view_agreements)
def agreement_register(request: OrganisationRequest) -> HttpResponseBase:
    today = timezone.localdate()
    visible = Agreement.objects.for_user(request.user, request.organisation)
    form = AgreementFilterForm(request.GET or None, organisation=request.organisation, today=today)
    export_format = request.GET.get("format")
    # A register narrowed by filters that did not apply would export the wrong rows.
    if export_format in EXPORT_FORMATS and (not form.is_bound or form.is_valid()):
        return export_register(request, form, visible, export_format, today)
    form.show_tag_counts(tag_counts(form.matching_all_but_tag(visible), today))
    page = Paginator(with_register_details(form.filter(visible)), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "agreements/register.html",
        {
            "form": form,
            "page": page,
            "rows": [register_row(agreement, request.organisation.pk) for agreement in page],
            "filtering": form.is_filtering,
            "sorting": sort_headers(form.sort),
            "may_draft": can_draft_agreement(request.user, request.organisation),
        },
    )


# What the register's rows and exports read of an agreement: its long texts stay
# in the database (an export of thousands of rows reads only these).
REGISTER_FIELDS = (
    "uuid",
    "organisation",
    "reference",
    "kind",
    "title",
    "status",
    "version",
    "start_date",
    "review_period_starts",
    "review_interval_months",
    "updated_at",
    "parent",
    "proposal",
    "approved_by",
    "approved_at",
)


def with_register_details(agreements: AgreementQuerySet) -> AgreementQuerySet:
    """Each agreement with its parties and assets: a few queries for a whole page, whatever
    its length (DESIGN.md section 9)."""
    # Organisations by prefetch rather than a join: one object each, however many
    # agreements they are party to (an export of thousands of rows builds far fewer).
    organisations = Organisation.objects.only("name")
    parties = Party.objects.only("agreement", "organisation", "role", "position").prefetch_related(
        Prefetch("organisation", queryset=organisations)
    )
    assets = InformationAsset.objects.only("uuid", "name").order_by("name")
    return agreements.only(*REGISTER_FIELDS).prefetch_related(
        Prefetch("parties", queryset=parties), Prefetch("assets", queryset=assets)
    )


def register_row(agreement: Agreement, school_id: int) -> dict[str, Any]:
    """What one row of the register shows, read from the prefetched parties and assets."""
    return {
        "agreement": agreement,
        "others": [
            party.organisation
            for party in agreement.parties.all()
            if party.organisation_id != school_id
        ],
        "assets": list(agreement.assets.all()),
        "review_due": review_due_shown(agreement),
    }


def review_due_shown(agreement: Agreement) -> datetime.date | None:
    """The next review, for an agreement with a version in force; none for the rest."""
    return agreement.review_due if agreement.version_in_force is not None else None


def sort_headers(current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the `?sort=` its header link asks for, and its aria-sort."""
    headers = {}
    for key, option in SORT_OPTIONS.items():
        if current.lstrip("-") == key:
            direction = "descending" if current.startswith("-") else "ascending"
            wanted = key if direction == "descending" else f"-{key}"
        else:
            direction = "none"
            wanted = f"-{key}" if option.first_direction == "descending" else key
        headers[key] = {"label": option.label, "sort": wanted, "aria_sort": direction}
    return headers


# --- Exports ----------------------------------------------------------------------------


def _parties(agreement: Agreement) -> str:
    return "; ".join(
        f"{party.organisation.name} ({party.get_role_display()})"
        for party in agreement.parties.all()
    )


def _assets(agreement: Agreement) -> str:
    return "; ".join(asset.name for asset in agreement.assets.all())


def _day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def export_columns(today: datetime.date) -> list[Column[Agreement]]:
    """The register's columns, its tags worked out for `today` as the page shows them."""
    return [
        Column("Reference", lambda a: a.reference),
        Column("Title", lambda a: a.title),
        Column("Kind", lambda a: a.get_kind_display()),
        Column("Status", lambda a: a.tag(today).label),
        Column("Version", lambda a: str(a.version)),
        Column("Parties", _parties),
        Column("Start date", lambda a: a.start_date),
        Column("Review due", review_due_shown),
        Column("Information assets", _assets),
        Column("Sits under", lambda a: a.parent.reference if a.parent else ""),
        Column("From proposal", lambda a: a.proposal.reference if a.proposal else ""),
        Column("Approved by", lambda a: str(a.approved_by or "")),
        Column("Approved on", lambda a: _day(a.approved_at)),
        Column("Last updated", lambda a: _day(a.updated_at)),
    ]


def export_register(
    request: OrganisationRequest,
    form: AgreementFilterForm,
    visible: AgreementQuerySet,
    export_format: str,
    today: datetime.date,
) -> HttpResponseBase:
    matching = form.filter(visible)
    reporting.note_agreements_exported(
        request.organisation,
        actor=request.user,
        changes={"format": export_format, "rows": matching.count(), "filters": form.used()},
    )
    rows = with_register_details(matching).select_related("parent", "proposal")
    rows = rows.prefetch_related("approved_by")
    filename = f"agreements-{request.organisation.slug}-{today:%Y-%m-%d}"
    return export_response(export_format, rows, export_columns(today), filename, sheet="Agreements")
