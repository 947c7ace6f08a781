"""Roll changes: the list, recording a joining or a removal, one change, withdrawing it,
telling the local authority, and the notifications as CSV and as a letter (policy 5.1).

HTTP glue only: every change goes through infoshare.statutory.services.roll.
Those who oversee the school (DPO, chair, auditor) read the pages; the
headteacher and the information manager keep the changes. A change of
another school is a 404; a step the person's roles never allow is a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from infoshare.core.exports import csv_response
from infoshare.core.models import Organisation, OrganisationKind
from infoshare.core.pdf import render_pdf
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.statutory import documents
from infoshare.statutory.forms.roll import (
    JoiningForm,
    NotifyForm,
    RemovalForm,
    RollFilterForm,
    WithdrawForm,
)
from infoshare.statutory.models import NotificationStatus
from infoshare.statutory.rules import can_keep_roll, can_view_statutory
from infoshare.statutory.services import roll as services
from infoshare.statutory.views.common import (
    refuse_unless_allowed,
    roll_changes_of,
    selected_roll_changes,
    visible_roll_change,
)

if TYPE_CHECKING:
    import datetime

    from django.http.response import HttpResponseBase

    from infoshare.statutory.models import RollChange

PAGE_SIZE = 25


@organisation_view(can_view_statutory)
@require_safe
def roll_changes(request: OrganisationRequest) -> HttpResponse:
    """Every roll change, those still to notify first by default, with what each needs."""
    today = timezone.localdate()
    form = RollFilterForm(request.GET or None)
    changes = form.filter(
        roll_changes_of(request).select_related("pupil", "ground", "notified_to"), today
    )
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    keeps = can_keep_roll(request.user, request.organisation)
    return render(
        request,
        "statutory/roll/list.html",
        {
            "form": form,
            "filtering": form.is_filtering,
            "page": page,
            "rows": [_row(change, today, keeps) for change in page],
            "keeps": keeps,
            "authorities": _local_authorities(),
            "default_authority": services.default_local_authority(request.organisation),
        },
    )


@organisation_view(can_keep_roll)
def record_joining(request: OrganisationRequest) -> HttpResponse:
    form = JoiningForm(_posted(request), organisation=request.organisation)
    return _record(request, form, "statutory/roll/new_joining.html")


@organisation_view(can_keep_roll)
def record_removal(request: OrganisationRequest) -> HttpResponse:
    form = RemovalForm(_posted(request), organisation=request.organisation)
    return _record(request, form, "statutory/roll/new_removal.html")


def _record(
    request: OrganisationRequest, form: JoiningForm | RemovalForm, template: str
) -> HttpResponse:
    if form.is_bound and form.is_valid():
        change = _call_service(
            form,
            services.record_roll_change,
            request.organisation,
            actor=request.user,
            draft=form.draft(),
        )
        if change is not None:
            messages.success(
                request,
                f"{change.reference} recorded. Tell the local authority by "
                f"{change.deadline:%-d %B %Y}.",
            )
            return redirect(change)
    return render(request, template, {"form": form})


@organisation_view(can_view_statutory)
@require_safe
def detail(request: OrganisationRequest, reference: str) -> HttpResponse:
    change = visible_roll_change(request, reference)
    return render(
        request,
        "statutory/roll/detail.html",
        {
            "change": change,
            "state": change.state_on(timezone.localdate()),
            "actions": services.actions_for(change, request.user),
        },
    )


@organisation_view(can_view_statutory)
def withdraw(request: OrganisationRequest, reference: str) -> HttpResponse:
    change = visible_roll_change(request, reference)
    if refused := refuse_unless_allowed(request, change, "withdraw"):
        return refused
    form = WithdrawForm(_posted(request))
    if form.is_bound and form.is_valid():
        done = _call_service(
            form,
            services.withdraw_roll_change,
            change,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if done is not None:
            messages.success(request, f"{change.reference} is withdrawn.")
            return redirect(change)
    return render(request, "statutory/roll/withdraw.html", {"change": change, "form": form})


@organisation_view(can_keep_roll)
def notify(request: OrganisationRequest) -> HttpResponse:
    """Mark the ticked changes notified: how, when and whom the school told."""
    changes = selected_roll_changes(request)
    if not changes:
        return _back_to_list(request, "Select the roll changes the local authority was told of.")
    # The local authority picked on the list for the letter is the one told, most likely.
    picked = request.GET.get("local_authority")
    form = NotifyForm(
        _posted(request),
        organisation=request.organisation,
        initial={"local_authority": picked} if picked else None,
    )
    if form.is_bound and form.is_valid():
        decision = _call_service(
            form,
            services.notify_roll_changes,
            request.organisation,
            actor=request.user,
            changes=changes,
            notification=form.notification(),
        )
        if decision is not None:
            messages.success(
                request,
                f"{_references(changes)} marked as notified. The notification is recorded "
                f"in the decision log as {decision.reference}.",
            )
            return redirect("statutory:roll_changes", org=request.organisation.slug)
    return render(
        request,
        "statutory/roll/notify.html",
        {"form": form, "changes": changes, "today": timezone.localdate()},
    )


@organisation_view(can_keep_roll)
@require_safe
def export_csv(request: OrganisationRequest) -> HttpResponseBase:
    """The ticked changes as CSV, for the local authority's form or portal."""
    changes = _exportable(request)
    if isinstance(changes, HttpResponse):
        return changes
    services.note_exported(
        request.organisation, actor=request.user, changes=changes, export_format="csv"
    )
    filename = documents.export_filename(request.organisation, timezone.localdate())
    return csv_response(changes, documents.CSV_COLUMNS, filename)


@organisation_view(can_keep_roll)
@require_safe
def letter(request: OrganisationRequest) -> HttpResponseBase:
    """The ticked changes as a letter to the local authority, signed off by the person."""
    changes = _exportable(request)
    if isinstance(changes, HttpResponse):
        return changes
    authority = _chosen_authority(request)
    today = timezone.localdate()
    context = documents.letter_context(
        changes,
        organisation=request.organisation,
        local_authority=authority,
        dated=today,
        signatory=request.membership,
    )
    pdf = render_pdf("statutory/roll/letter_pdf.html", context, request=request)
    services.note_exported(
        request.organisation,
        actor=request.user,
        changes=changes,
        export_format="pdf",
        local_authority=authority,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = documents.export_filename(request.organisation, today)
    response["Content-Disposition"] = f'attachment; filename="{filename}-letter.pdf"'
    return response


# --- helpers ------------------------------------------------------------------------------


def _row(change: RollChange, today: datetime.date, keeps: bool) -> dict[str, object]:
    """A line of the list; only a change still to notify can be ticked, by those who keep them."""
    return {
        "change": change,
        "state": change.state_on(today),
        "selectable": keeps and change.status == NotificationStatus.TO_NOTIFY,
    }


def _exportable(request: OrganisationRequest) -> list[RollChange] | HttpResponse:
    changes = selected_roll_changes(request)
    try:
        return services.exportable(request.organisation, actor=request.user, changes=changes)
    except ValidationError as error:
        return _back_to_list(request, " ".join(error.messages))


def _chosen_authority(request: OrganisationRequest) -> Organisation | None:
    """The local authority picked on the list, else the usual one (may be none)."""
    slug = request.GET.get("local_authority", "")
    chosen = Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY, slug=slug).first()
    return chosen or services.default_local_authority(request.organisation)


def _local_authorities() -> list[Organisation]:
    return list(Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY))


def _back_to_list(request: OrganisationRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect(reverse("statutory:roll_changes", kwargs={"org": request.organisation.slug}))


def _references(changes: list[RollChange]) -> str:
    return ", ".join(change.reference for change in changes)
