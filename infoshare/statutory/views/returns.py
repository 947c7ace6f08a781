"""The returns calendar (issue 7, item 2): the DfE census days and the other returns a school
makes, each upcoming, due, overdue, submitted (when, by whom) or withdrawn.

HTTP glue only: every change goes through `infoshare.statutory.services.returns`.
Those who may see statutory sharing read the calendar and each return; only its
keepers (headteacher, information manager) see the buttons and may open the pages
that change a return (403 for the others). A return of another school is 404.
The order of checks on a return's page: the return must be this school's (404),
then the step must be the person's to take (403), then possible in the return's
status (otherwise back to the return, with a message saying why).
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Max, Min
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from infoshare.core.exports import EXPORT_FORMATS, Column, export_response
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.statutory import calendar
from infoshare.statutory.forms.returns import (
    CensusForm,
    ReturnFilterForm,
    ReturnForm,
    SubmittedForm,
    WithdrawReturnForm,
    years_to_offer,
)
from infoshare.statutory.models import CENSUS_KINDS, ReturnKind, StatutoryReturn
from infoshare.statutory.rules import can_keep_returns, can_view_statutory
from infoshare.statutory.services import returns as services

if TYPE_CHECKING:
    import uuid

    from django.http import HttpResponseBase
    from django.http.response import HttpResponseRedirect

PAGE_SIZE = 50


# --- The calendar ------------------------------------------------------------------------


@organisation_view(can_view_statutory)
@require_safe
def returns_calendar(request: OrganisationRequest) -> HttpResponseBase:
    today = timezone.localdate()
    school_returns = StatutoryReturn.objects.filter(organisation=request.organisation)
    span = school_returns.order_by().aggregate(first=Min("due_on"), last=Max("due_on"))
    form = ReturnFilterForm(
        request.GET or None, today=today, years=years_to_offer(span["first"], span["last"], today)
    )
    export_format = request.GET.get("format")
    # A calendar narrowed by filters that did not apply would export the wrong rows.
    if export_format in EXPORT_FORMATS and (not form.is_bound or form.is_valid()):
        return _export(request, form, school_returns, export_format, today)
    shown = form.filter(school_returns).select_related("submitted_by")
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    keeps = can_keep_returns(request.user, request.organisation)
    return render(
        request,
        "statutory/returns/calendar.html",
        {
            "form": form,
            "page": page,
            "rows": [{"return": r, "state": r.state_on(today)} for r in page],
            "may_keep": keeps,
            "census_offers": _census_offers(request, today) if keeps else [],
            "today": today,
        },
    )


def _census_offers(request: OrganisationRequest, today: datetime.date) -> list[dict[str, Any]]:
    """The years (this one and the next) whose census days are not all on the calendar yet."""
    years = services.census_years_offered(today)
    labels = {start: calendar.academic_year_label(start) for start in years}
    present = Counter(
        StatutoryReturn.objects.filter(
            organisation=request.organisation,
            kind__in=CENSUS_KINDS,
            academic_year__in=labels.values(),
        ).values_list("academic_year", flat=True)
    )
    return [
        {"start": start, "label": label}
        for start, label in labels.items()
        if present[label] < len(CENSUS_KINDS)
    ]


def _export(
    request: OrganisationRequest,
    form: ReturnFilterForm,
    school_returns: Any,
    export_format: str,
    today: datetime.date,
) -> HttpResponseBase:
    rows = form.filter(school_returns).select_related("submitted_by", "withdrawn_by")
    services.note_returns_exported(
        request.organisation,
        actor=request.user,
        changes={"format": export_format, "rows": rows.count(), **form.used()},
    )
    year = "all-years" if form.chosen_year is None else form.year_label.replace("/", "-")
    filename = f"returns-{request.organisation.slug}-{year}"
    return export_response(export_format, rows, _columns(today), filename, sheet="Returns")


def _columns(today: datetime.date) -> list[Column[StatutoryReturn]]:
    """The calendar's columns, each return's state worked out for `today` as the page shows it."""
    return [
        Column("Return", lambda r: r.title),
        Column("Kind", lambda r: r.get_kind_display()),
        Column("Academic year", lambda r: r.academic_year),
        Column("Census day", lambda r: r.census_day),
        Column("Due", lambda r: r.due_on),
        Column("Status", lambda r: r.state_on(today).label),
        Column("Goes to", lambda r: r.recipient),
        Column("Submitted on", lambda r: r.submitted_on),
        Column("Submitted by", lambda r: str(r.submitted_by or "")),
        Column("Submission reference", lambda r: r.submission_reference),
        Column("Withdrawn on", lambda r: _local_day(r.withdrawn_at)),
        Column("Withdrawn by", lambda r: str(r.withdrawn_by or "")),
        Column("Notes", lambda r: r.notes),
    ]


@organisation_view(can_keep_returns)
@require_POST
def add_census(request: OrganisationRequest) -> HttpResponse:
    form = CensusForm(request.POST)
    calendar_url = reverse("statutory:returns", kwargs={"org": request.organisation.slug})
    if not form.is_valid():
        messages.error(request, "Choose the academic year whose census days to add.")
        return redirect(calendar_url)
    start = form.cleaned_data["academic_year"]
    try:
        result = services.add_census_returns(
            request.organisation, actor=request.user, academic_year_start=start
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(calendar_url)
    if result.added:
        messages.success(request, _census_added_message(result))
    else:
        messages.info(
            request,
            f"The census days for {result.academic_year} were already on the calendar: "
            "nothing was added.",
        )
    return redirect(f"{calendar_url}?year={start}")


def _census_added_message(result: services.CensusAdded) -> str:
    added = ", ".join(
        f"{r.get_kind_display().split()[0].lower()} ({_shown(r.census_day)})" for r in result.added
    )
    message = f"Census days for {result.academic_year} added: {added}."
    if result.already:
        message += " The others were already on the calendar."
    return message


# --- One return ----------------------------------------------------------------------------


@organisation_view(can_keep_returns)
def new_return(request: OrganisationRequest) -> HttpResponse:
    form = ReturnForm(_posted(request))
    if form.is_bound and form.is_valid():
        added = _call_service(
            form,
            services.add_return,
            request.organisation,
            actor=request.user,
            answers=form.answers(),
        )
        if added is not None:
            messages.success(request, f"{added.title} added, due {_shown(added.due_on)}.")
            return redirect(return_url(added))
    return render(request, "statutory/returns/form.html", {"form": form, "statutory_return": None})


@organisation_view(can_view_statutory)
@require_safe
def return_detail(request: OrganisationRequest, return_id: uuid.UUID) -> HttpResponse:
    statutory_return = visible_return(request, return_id)
    today = timezone.localdate()
    return render(
        request,
        "statutory/returns/detail.html",
        {
            "statutory_return": statutory_return,
            "state": statutory_return.state_on(today),
            "actions": services.actions_for(statutory_return, request.user),
        },
    )


@organisation_view(can_view_statutory)
def edit_return(request: OrganisationRequest, return_id: uuid.UUID) -> HttpResponse:
    statutory_return = visible_return(request, return_id)
    if refused := refuse_unless_allowed(request, statutory_return, "edit"):
        return refused
    form = ReturnForm(
        _posted(request),
        census=statutory_return.kind != ReturnKind.OTHER,
        initial=ReturnForm.initial_for(statutory_return),
    )
    if form.is_bound and form.is_valid():
        edited = _call_service(
            form,
            services.edit_return,
            statutory_return,
            actor=request.user,
            answers=form.answers(),
        )
        if edited is not None:
            messages.success(request, f"Changes to {edited.title} saved.")
            return redirect(return_url(edited))
    return render(
        request,
        "statutory/returns/form.html",
        {"form": form, "statutory_return": statutory_return},
    )


@organisation_view(can_view_statutory)
def mark_submitted(request: OrganisationRequest, return_id: uuid.UUID) -> HttpResponse:
    statutory_return = visible_return(request, return_id)
    if refused := refuse_unless_allowed(request, statutory_return, "submit"):
        return refused
    form = SubmittedForm(_posted(request), initial={"submitted_on": timezone.localdate()})
    if form.is_bound and form.is_valid():
        submitted = _call_service(
            form,
            services.mark_return_submitted,
            statutory_return,
            actor=request.user,
            submitted_on=form.cleaned_data["submitted_on"],
            reference=form.cleaned_data["submission_reference"],
        )
        if submitted is not None:
            messages.success(
                request,
                f"{submitted.title} is marked as submitted on {_shown(submitted.submitted_on)}.",
            )
            return redirect(return_url(submitted))
    return render(
        request,
        "statutory/returns/submitted.html",
        {"form": form, "statutory_return": statutory_return},
    )


@organisation_view(can_view_statutory)
def withdraw_return(request: OrganisationRequest, return_id: uuid.UUID) -> HttpResponse:
    statutory_return = visible_return(request, return_id)
    if refused := refuse_unless_allowed(request, statutory_return, "withdraw"):
        return refused
    form = WithdrawReturnForm(_posted(request))
    if form.is_bound and form.is_valid():
        withdrawn = _call_service(
            form,
            services.withdraw_return,
            statutory_return,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if withdrawn is not None:
            messages.success(request, f"{withdrawn.title} is withdrawn.")
            return redirect(return_url(withdrawn))
    return render(
        request,
        "statutory/returns/withdraw.html",
        {"form": form, "statutory_return": statutory_return},
    )


# --- helpers ------------------------------------------------------------------------------


def visible_return(request: OrganisationRequest, return_id: uuid.UUID) -> StatutoryReturn:
    """The return named in the URL, if it is this school's; otherwise 404."""
    return get_object_or_404(
        StatutoryReturn.objects.filter(organisation=request.organisation).select_related(
            "organisation", "created_by", "submitted_by", "withdrawn_by"
        ),
        uuid=return_id,
    )


def refuse_unless_allowed(
    request: OrganisationRequest, statutory_return: StatutoryReturn, action: str
) -> HttpResponseRedirect | None:
    """None when the person may take `action` now; 403 when their roles never allow it;
    otherwise back to the return with a message saying why (its status)."""
    if getattr(services.actions_for(statutory_return, request.user), action):
        return None
    if not services.may_ever_take(statutory_return, request.user, action):
        raise PermissionDenied(services.REFUSALS[action])
    messages.error(request, services.out_of_order_message(statutory_return))
    return redirect(return_url(statutory_return))


def return_url(statutory_return: StatutoryReturn) -> str:
    return reverse(
        "statutory:return_detail",
        kwargs={"org": statutory_return.organisation.slug, "return_id": statutory_return.uuid},
    )


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    """The day in London of a moment (for exports)."""
    return timezone.localdate(moment) if moment is not None else None


def _shown(day: datetime.date | None) -> str:
    """A date as people read it: "1 October 2026" (DESIGN.md rule 9)."""
    return f"{day:%-d %B %Y}" if day is not None else ""
