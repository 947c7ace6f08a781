"""The anonymisation pages: upload, adjust the suggested plan, see the risk, download.

HTTP glue only: every change goes through infoshare.anonymise.services, and
the work on the data is the engine's. A run the person may not see does not
exist for them (404); a step their place never allows is refused (403); a
step not possible in the run's present state sends them back to the run with
a message saying why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from infoshare.anonymise import services
from infoshare.anonymise.engine import recognise_columns, suggest_plan
from infoshare.anonymise.forms import (
    LINK_CHOICES,
    SETTING_HINT,
    DownloadForm,
    PlanForm,
    UploadForm,
    plan_initial,
)
from infoshare.anonymise.models import AnonymisationRun, Status
from infoshare.anonymise.rules import can_anonymise
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.uploads import too_large_uploads, uploads_limited
from infoshare.core.views import _call_service, _posted

if TYPE_CHECKING:
    import uuid

    from infoshare.anonymise.engine import Plan

RUNS_PER_PAGE = 25
PREVIEW_ROWS = 10


def visible_run(request: OrganisationRequest, run: uuid.UUID) -> AnonymisationRun:
    """The run named in the URL if `AnonymisationRun.objects.for_user` finds it; otherwise 404."""
    return get_object_or_404(
        AnonymisationRun.objects.for_user(request.user, request.organisation).select_related(
            "organisation", "proposal", "decision", "created_by"
        ),
        uuid=run,
    )


def refuse_unless_allowed(
    request: OrganisationRequest, run: AnonymisationRun, action: str
) -> HttpResponse | None:
    if getattr(services.actions_for(run, request.user), action):
        return None
    if not services.may_ever_take(run, request.user, action):
        raise PermissionDenied(services.REFUSALS[action])
    messages.error(request, services.out_of_order_message(run))
    return redirect(run)


@require_GET
@organisation_view(can_anonymise)
def run_list(request: OrganisationRequest) -> HttpResponse:
    runs = AnonymisationRun.objects.for_user(request.user, request.organisation).select_related(
        "proposal", "decision", "created_by"
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "anonymise/list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@uploads_limited
@organisation_view(can_anonymise)
def new_run(request: OrganisationRequest) -> HttpResponse:
    proposals, decisions = _link_choices(request)
    form = UploadForm(
        _posted(request),
        request.FILES if request.method == "POST" else None,
        proposals=proposals,
        decisions=decisions,
        too_large=too_large_uploads(request),
        initial={"link": _asked_for(request)},
    )
    if form.is_bound and form.is_valid():
        proposal, decision = form.linked()
        run = _call_service(
            form,
            services.upload_dataset,
            request.organisation,
            actor=request.user,
            upload=form.cleaned_data["file"],
            proposal=proposal,
            decision=decision,
        )
        if run is not None:
            return redirect("anonymise:plan", org=request.organisation.slug, run=run.uuid)
    return render(request, "anonymise/new.html", {"form": form})


def _link_choices(request: OrganisationRequest) -> tuple[list[Any], list[Any]]:
    """The newest proposals and decisions the person sees, and the one the address names."""
    user, organisation = request.user, request.organisation
    proposals = list(services.linkable_proposals(user, organisation)[:LINK_CHOICES])
    decisions = list(
        services.linkable_decisions(user, organisation).select_related("recipient_organisation")[
            :LINK_CHOICES
        ]
    )
    named = request.GET.get("proposal") or request.POST.get("link", "").removeprefix("proposal:")
    if named and all(p.reference != named for p in proposals):
        proposals += list(services.linkable_proposals(user, organisation).filter(reference=named))
    named = request.GET.get("decision") or request.POST.get("link", "").removeprefix("decision:")
    if named and all(d.reference != named for d in decisions):
        decisions += list(
            services.linkable_decisions(user, organisation)
            .select_related("recipient_organisation")
            .filter(reference=named)
        )
    return proposals, decisions


def _asked_for(request: OrganisationRequest) -> str:
    if reference := request.GET.get("proposal"):
        return f"proposal:{reference}"
    if reference := request.GET.get("decision"):
        return f"decision:{reference}"
    return ""


@require_http_methods(["GET", "POST"])
@organisation_view(can_anonymise)
def plan(request: OrganisationRequest, run: uuid.UUID) -> HttpResponse:
    found = visible_run(request, run)
    if refused := refuse_unless_allowed(request, found, "plan"):
        return refused
    frame = services.load_input(found)
    findings = recognise_columns(frame)
    proposed = _plan_shown(found, frame)
    form = PlanForm(
        _posted(request),
        columns=found.columns,
        findings=findings,
        initial=plan_initial(proposed, found.columns),
    )
    if form.is_bound and form.is_valid() and _saved(form, found, request):
        if request.POST.get("action") != "apply":
            messages.success(request, "The plan is saved. The risk before it is applied is below.")
            return redirect("anonymise:plan", org=request.organisation.slug, run=found.uuid)
        return _apply(request, found)
    before = (
        services.report_from(found.risk_before)
        if found.risk_before is not None
        else services.report_for(frame, proposed)
    )
    return render(
        request,
        "anonymise/plan.html",
        {
            "run": found,
            "form": form,
            "before": before,
            "saved": found.risk_before is not None,
            "setting_hint": SETTING_HINT,
        },
    )


def _plan_shown(run: AnonymisationRun, frame: Any) -> Plan:
    """The saved plan once there is one; until then, the engine's suggestion."""
    if run.steps:
        return services.plan_of(run)
    return suggest_plan(frame)


def _saved(form: PlanForm, run: AnonymisationRun, request: OrganisationRequest) -> bool:
    try:
        services.save_plan(
            run, actor=request.user, plan=form.plan(), reference_date=form.age_reference_date()
        )
    except services.PlanRefused as error:
        for problem in error.problems:
            form.add_plan_error(problem)
        return False
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


def _apply(request: OrganisationRequest, run: AnonymisationRun) -> HttpResponse:
    try:
        applied = services.apply_run(run, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(run)
    if applied.status == Status.APPLIED:
        messages.success(request, "The plan is applied. Check the result, then download it.")
    return redirect(applied)


@require_GET
@organisation_view(can_anonymise)
def detail(request: OrganisationRequest, run: uuid.UUID) -> HttpResponse:
    found = visible_run(request, run)
    actions = services.actions_for(found, request.user)
    preview = services.load_output(found).head(PREVIEW_ROWS) if actions.download else None
    return render(
        request,
        "anonymise/detail.html",
        {
            "run": found,
            "actions": actions,
            "before": services.report_from(found.risk_before),
            "after": services.report_from(found.risk_after),
            "preview_columns": preview.columns if preview is not None else [],
            "preview_rows": preview.rows() if preview is not None else [],
            "operations": _operations_shown(found),
        },
    )


def _operations_shown(run: AnonymisationRun) -> list[tuple[str, str]]:
    labels = {
        "keep": "Kept",
        "drop": "Left out",
        "pseudonymise": "Pseudonymised",
        "generalise_date": "Date generalised",
        "generalise_postcode": "Postcode generalised",
        "band": "Banded",
        "mask": "Hidden but for the last characters",
        "group_rare": "Rare values grouped",
    }
    return [
        (column, labels.get(step["operation"], step["operation"]))
        for column, step in run.steps.items()
    ]


@organisation_view(can_anonymise)
def progress(request: OrganisationRequest, run: uuid.UUID) -> HttpResponse:
    """The progress bar's fragment, polled every second while a large file is applied."""
    found = visible_run(request, run)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if found.status != Status.APPLYING:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponseClientRedirect(found.get_absolute_url())
        return redirect(found)
    return render(request, "anonymise/partials/progress.html", {"run": found})


@require_POST
@organisation_view(can_anonymise)
def download(request: OrganisationRequest, run: uuid.UUID) -> HttpResponseBase:
    found = visible_run(request, run)
    if refused := refuse_unless_allowed(request, found, "download"):
        return refused
    form = DownloadForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose CSV or XLSX.")
        return redirect(found)
    try:
        result = services.download_result(
            found, actor=request.user, file_format=form.cleaned_data["file_format"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(found)
    response = FileResponse(
        result.handle,
        as_attachment=True,
        filename=result.filename,
        content_type=result.content_type,
    )
    response["Cache-Control"] = "no-store"
    return response
