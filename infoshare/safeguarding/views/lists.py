"""The safeguarding lists: the overview, the DSL's list of records, by pupil, by recipient,
and the requests to share further waiting for an answer.

HTTP glue only. What anyone sees starts from `Share.objects.for_user`; every
list that shows records tells the audit trail which (`services.note_listed`),
so the DSL can see who has seen each record. There is deliberately no export:
exporting safeguarding information moves it out of the DSL's control.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.shortcuts import render
from django.views.decorators.http import require_safe

from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.safeguarding import services
from infoshare.safeguarding.forms import RecordFilterForm
from infoshare.safeguarding.models import (
    ReshareRequest,
    Share,
    Status,
    leads_safeguarding,
)
from infoshare.safeguarding.rules import can_lead_safeguarding, can_open_safeguarding

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.http import HttpResponse

PAGE_SIZE = 25
# The overview shows the oldest few of each; the full lists are a link away.
OVERVIEW_ROWS = 10
AWAITING = Q(status=Status.AWAITING_ACKNOWLEDGEMENT)


@organisation_view(can_open_safeguarding)
@require_safe
def home(request: OrganisationRequest) -> HttpResponse:
    if leads_safeguarding(request.user, request.organisation):
        return _lead_overview(request)
    return _shared_with_me(request)


def _lead_overview(request: OrganisationRequest) -> HttpResponse:
    """For a DSL: what is waiting for a signature or an answer, oldest first."""
    shares = Share.objects.for_user(request.user, request.organisation)
    outstanding = shares.outstanding()
    oldest_outstanding = list(
        outstanding.select_related("recipient").order_by("shared_at", "pk")[:OVERVIEW_ROWS]
    )
    pending = _pending_requests(request)
    oldest_pending = list(pending[:OVERVIEW_ROWS])
    _note_listed(request, [*oldest_outstanding, *(r.share for r in oldest_pending)])
    return render(
        request,
        "safeguarding/home_lead.html",
        {
            "record_count": shares.count(),
            "outstanding_count": outstanding.count(),
            "outstanding": oldest_outstanding,
            "pending_count": pending.count(),
            "pending": oldest_pending,
        },
    )


def _shared_with_me(request: OrganisationRequest) -> HttpResponse:
    """For anyone else who works in the school: what was shared with them, unsigned first."""
    mine = (
        Share.objects.for_user(request.user, request.organisation)
        .select_related("pupil", "shared_by")
        .alias(
            waiting=Case(
                When(AWAITING, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("waiting", "-shared_at", "-pk")
    )
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    _note_listed(request, page)
    return render(request, "safeguarding/home_staff.html", {"page": page})


@organisation_view(can_lead_safeguarding)
@require_safe
def record_list(request: OrganisationRequest) -> HttpResponse:
    # No export, deliberately: exporting safeguarding information moves it out of the DSL's control.
    form = RecordFilterForm(request.GET or None, organisation=request.organisation)
    shares = form.filter(Share.objects.for_user(request.user, request.organisation))
    shares = shares.select_related("pupil", "recipient", "shared_by")
    page = Paginator(shares, PAGE_SIZE).get_page(request.GET.get("page"))
    _note_listed(request, page)
    return render(
        request,
        "safeguarding/list.html",
        {"form": form, "page": page, "filtering": form.is_filtering, "pupil": form.chosen_pupil},
    )


@organisation_view(can_lead_safeguarding)
@require_safe
def by_pupil(request: OrganisationRequest) -> HttpResponse:
    pupils = (
        _counted(Share.objects.for_user(request.user, request.organisation))
        .values(
            "pupil__uuid",
            "pupil__given_name",
            "pupil__family_name",
            "pupil__upn",
            "pupil__year_group",
        )
        .annotate(total=Count("pk"), awaiting=Count("pk", filter=AWAITING))
        .order_by("pupil__family_name", "pupil__given_name", "pupil__uuid")
    )
    page = Paginator(pupils, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "safeguarding/by_pupil.html", {"page": page})


@organisation_view(can_lead_safeguarding)
@require_safe
def by_recipient(request: OrganisationRequest) -> HttpResponse:
    recipients = (
        _counted(Share.objects.for_user(request.user, request.organisation))
        .values("recipient__uuid", "recipient__name", "recipient__email")
        .annotate(total=Count("pk"), awaiting=Count("pk", filter=AWAITING))
        .order_by("recipient__name", "recipient__uuid")
    )
    page = Paginator(recipients, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "safeguarding/by_recipient.html", {"page": page})


@organisation_view(can_lead_safeguarding)
@require_safe
def pending_requests(request: OrganisationRequest) -> HttpResponse:
    page = Paginator(_pending_requests(request), PAGE_SIZE).get_page(request.GET.get("page"))
    _note_listed(request, [pending.share for pending in page])
    return render(request, "safeguarding/requests.html", {"page": page})


# --- helpers ------------------------------------------------------------------------------


def _pending_requests(request: OrganisationRequest) -> Any:
    return (
        ReshareRequest.objects.for_user(request.user, request.organisation)
        .pending()
        .select_related("share", "requested_by", "colleague", "outside_organisation")
        .order_by("requested_at", "pk")
    )


def _counted(shares: Any) -> Any:
    """Without the model's default order, which would split the groups being counted."""
    return shares.order_by()


def _note_listed(request: OrganisationRequest, shares: Iterable[Share]) -> None:
    """Tell the audit trail which records the page shows, each once."""
    shown = list({share.pk: share for share in shares}.values())
    services.note_listed(request.organisation, actor=request.user, shares=shown)
