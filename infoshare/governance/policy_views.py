"""The information sharing policy's pages: the version in force and its review, versions,
drafting and approval, review triggers, and who has acknowledged it (issue 7, item 3).

HTTP glue only: every change goes through infoshare.governance.policy. Each
version page finds the version among those the person may see (404 otherwise:
another school's, or a draft for someone who does not deal with drafts), then
asks `refuse_unless_allowed` whether its step may be taken now: a role that
never may gets 403, a step out of order goes back to the version with a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods

from infoshare.agreements.views.documents import stored_pdf
from infoshare.core.exports import EXPORT_FORMATS, Column, export_response
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.uploads import too_large_uploads, uploads_limited
from infoshare.core.views import _call_service, _posted
from infoshare.governance import policy
from infoshare.governance.models import PolicyAcknowledgement, PolicyVersion
from infoshare.governance.policy_forms import (
    ApproveForm,
    DiscardForm,
    PolicyVersionForm,
    TriggerForm,
)
from infoshare.governance.rules import (
    can_acknowledge_policy,
    can_approve_policy,
    can_draft_policy,
    can_read_policy,
    can_record_policy_trigger,
    can_see_policy_drafts,
    can_view_acknowledgements,
)

if TYPE_CHECKING:
    import uuid

    from django.http import FileResponse, HttpResponse, HttpResponseBase

    from infoshare.core.models import User

NOT_YET = "not-yet"


# --- Finding a version ------------------------------------------------------------------


def visible_versions(request: OrganisationRequest) -> Any:
    """The school's versions the person may see: drafts only for those who deal with them."""
    versions = PolicyVersion.objects.filter(organisation=request.organisation)
    if can_see_policy_drafts(request.user, request.organisation):
        return versions
    return versions.published()


def visible_version(request: OrganisationRequest, version: uuid.UUID) -> PolicyVersion:
    return get_object_or_404(
        visible_versions(request).select_related(
            "organisation", "drafted_by", "approved_by", "discarded_by"
        ),
        uuid=version,
    )


def refuse_unless_allowed(
    request: OrganisationRequest, version: PolicyVersion, action: str
) -> HttpResponse | None:
    """None when the person may take `action` now; 403 when their place never allows it;
    otherwise back to the version with a message saying why not now."""
    refused = policy.refusal(version, request.user, action)
    if refused is None:
        return None
    if isinstance(refused, PermissionDenied):
        raise refused
    messages.error(request, " ".join(refused.messages))  # type: ignore[attr-defined]
    return redirect(version)


# --- The policy's home: the version in force and its review --------------------------------


@organisation_view(can_read_policy)
@require_GET
def home(request: OrganisationRequest) -> HttpResponse:
    organisation, user = request.organisation, request.user
    state = policy.review_state(organisation, timezone.localdate())
    current = state.current
    may_see_drafts = can_see_policy_drafts(user, organisation)
    return render(
        request,
        "governance/policy/home.html",
        {
            "state": state,
            "current": current,
            "acknowledgement": _acknowledgement_of(current, user),
            "may_acknowledge": current is not None and can_acknowledge_policy(user, organisation),
            "draft": policy.draft_in_making(organisation) if may_see_drafts else None,
            "may_draft": can_draft_policy(user, organisation),
            "may_record_trigger": can_record_policy_trigger(user, organisation),
            "may_view_acknowledgements": can_view_acknowledgements(user, organisation),
        },
    )


def _acknowledgement_of(version: PolicyVersion | None, user: User) -> PolicyAcknowledgement | None:
    if version is None:
        return None
    return PolicyAcknowledgement.objects.filter(version=version, user=user).first()


# --- Versions ---------------------------------------------------------------------------------


@organisation_view(can_read_policy)
@require_GET
def versions(request: OrganisationRequest) -> HttpResponse:
    return render(
        request,
        "governance/policy/versions.html",
        {
            "versions": visible_versions(request).select_related(
                "organisation", "approved_by", "drafted_by"
            ),
            "may_draft": can_draft_policy(request.user, request.organisation),
        },
    )


@organisation_view(can_read_policy)
@require_GET
def version_detail(request: OrganisationRequest, version: uuid.UUID) -> HttpResponse:
    found = visible_version(request, version)
    return render(
        request,
        "governance/policy/version.html",
        {
            "version": found,
            "actions": policy.actions_for(found, request.user),
            "acknowledgement": _acknowledgement_of(found, request.user),
        },
    )


@organisation_view(can_read_policy)
@require_GET
def document(request: OrganisationRequest, version: uuid.UUID) -> FileResponse:
    """The version's PDF, as an attachment named from its number; every download is audited."""
    found = visible_version(request, version)
    response = stored_pdf(
        found.document,
        f"{request.organisation.slug}-policy-v{found.number}.pdf",
    )
    policy.note_policy_document_downloaded(found, actor=request.user)
    return response


@require_http_methods(["GET", "POST"])
@uploads_limited
@organisation_view(can_draft_policy)
def new_version(request: OrganisationRequest) -> HttpResponse:
    draft = policy.draft_in_making(request.organisation)
    if draft is not None:
        messages.error(
            request,
            f"{draft.label} is already a draft awaiting approval. Change it, or discard it, "
            "rather than starting another.",
        )
        return redirect(draft)
    current = policy.current_version(request.organisation)
    initial = {"title": current.title, "text": current.text} if current is not None else {}
    form = PolicyVersionForm(
        _posted(request), _files(request), initial=initial, too_large=too_large_uploads(request)
    )
    if form.is_bound and form.is_valid():
        created = _call_service(
            form,
            policy.draft_policy_version,
            request.organisation,
            actor=request.user,
            answers=form.answers(),
        )
        if created is not None:
            messages.success(
                request,
                f"{created.label} is drafted. The headteacher and the chair of governors "
                "have been asked to approve it.",
            )
            return redirect(created)
    return render(
        request, "governance/policy/version_form.html", {"form": form, "current": current}
    )


@require_http_methods(["GET", "POST"])
@uploads_limited
@organisation_view(can_draft_policy)
def edit_version(request: OrganisationRequest, version: uuid.UUID) -> HttpResponse:
    found = visible_version(request, version)
    if refused := refuse_unless_allowed(request, found, "edit"):
        return refused
    initial = {
        "title": found.title,
        "text": found.text,
        "summary_of_changes": found.summary_of_changes,
    }
    form = PolicyVersionForm(
        _posted(request), _files(request), initial=initial, too_large=too_large_uploads(request)
    )
    if form.is_bound and form.is_valid():
        changed = _call_service(
            form, policy.edit_policy_draft, found, actor=request.user, answers=form.answers()
        )
        if changed is not None:
            messages.success(request, f"{changed.label} saved.")
            return redirect(changed)
    return render(request, "governance/policy/version_form.html", {"form": form, "version": found})


@organisation_view(can_approve_policy)
@require_http_methods(["GET", "POST"])
def approve_version(request: OrganisationRequest, version: uuid.UUID) -> HttpResponse:
    found = visible_version(request, version)
    if refused := refuse_unless_allowed(request, found, "approve"):
        return refused
    form = ApproveForm(_posted(request))
    if form.is_bound and form.is_valid():
        approved = _call_service(
            form,
            policy.approve_policy_version,
            found,
            actor=request.user,
            approved_on=form.cleaned_data["approved_on"],
        )
        if approved is not None:
            messages.success(
                request,
                f"{approved.label} is approved and in force. Staff have been asked to read "
                "and acknowledge it.",
            )
            return redirect("policy:home", org=request.organisation.slug)
    return render(
        request,
        "governance/policy/approve.html",
        {"version": found, "form": form, "current": policy.current_version(request.organisation)},
    )


@organisation_view(can_see_policy_drafts)
@require_http_methods(["GET", "POST"])
def discard_version(request: OrganisationRequest, version: uuid.UUID) -> HttpResponse:
    found = visible_version(request, version)
    if refused := refuse_unless_allowed(request, found, "discard"):
        return refused
    form = DiscardForm(_posted(request))
    if form.is_bound and form.is_valid():
        discarded = _call_service(
            form,
            policy.discard_policy_draft,
            found,
            actor=request.user,
            reasons=form.cleaned_data["reasons"],
        )
        if discarded is not None:
            messages.success(
                request, f"{discarded.label} is discarded. It is kept, with your reasons."
            )
            return redirect(discarded)
    return render(request, "governance/policy/discard.html", {"version": found, "form": form})


# --- Acknowledging ------------------------------------------------------------------------------


@organisation_view(can_acknowledge_policy)
def acknowledge(request: OrganisationRequest, version: uuid.UUID) -> HttpResponse:
    found = visible_version(request, version)  # first: an unseen version stays a 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        acknowledgement, created = policy.acknowledge_policy(found, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        when = date_format(timezone.localtime(acknowledgement.acknowledged_at), "j F Y")
        if created:
            messages.success(request, f"Thank you. You acknowledged {found.label.lower()}.")
        else:
            messages.info(request, f"You acknowledged {found.label.lower()} already, on {when}.")
    return redirect("policy:home", org=request.organisation.slug)


# --- Review triggers ------------------------------------------------------------------------------


@organisation_view(can_record_policy_trigger)
@require_http_methods(["GET", "POST"])
def record_trigger(request: OrganisationRequest) -> HttpResponse:
    form = TriggerForm(_posted(request))
    if form.is_bound and form.is_valid():
        trigger = _call_service(
            form,
            policy.record_review_trigger,
            request.organisation,
            actor=request.user,
            answers=form.answers(),
        )
        if trigger is not None:
            messages.success(
                request,
                "Recorded. The policy's review is due now, until a new version is approved.",
            )
            return redirect("policy:home", org=request.organisation.slug)
    return render(request, "governance/policy/trigger_form.html", {"form": form})


# --- Who has acknowledged the version in force ----------------------------------------------------


@organisation_view(can_view_acknowledgements)
@require_GET
def acknowledgements(request: OrganisationRequest) -> HttpResponseBase:
    """Everyone who must acknowledge the version in force, and whether and when they did.

    Three queries whatever the number of people: the version, the members with
    their roles, the acknowledgements.
    """
    current = policy.current_version(request.organisation)
    not_yet_only = request.GET.get("show") == NOT_YET
    rows = _acknowledgement_rows(request, current) if current is not None else []
    shown = [row for row in rows if row["acknowledged_at"] is None] if not_yet_only else rows
    export_format = request.GET.get("format")
    if current is not None and export_format in EXPORT_FORMATS:
        policy.note_acknowledgements_exported(
            current, actor=request.user, rows=len(shown), not_yet_only=not_yet_only
        )
        return export_response(
            export_format,
            shown,
            ACKNOWLEDGEMENT_COLUMNS,
            f"{request.organisation.slug}-policy-v{current.number}-acknowledgements",
            sheet="Acknowledgements",
        )
    done = sum(1 for row in rows if row["acknowledged_at"] is not None)
    return render(
        request,
        "governance/policy/acknowledgements.html",
        {
            "current": current,
            "rows": shown,
            "total": len(rows),
            "done": done,
            "not_yet": len(rows) - done,
            "not_yet_only": not_yet_only,
            "NOT_YET": NOT_YET,
        },
    )


def _acknowledgement_rows(
    request: OrganisationRequest, current: PolicyVersion
) -> list[dict[str, Any]]:
    when = dict(current.acknowledgements.values_list("user_id", "acknowledged_at"))
    return [
        {"user": user, "acknowledged_at": when.get(user.pk)}
        for user in policy.members_to_acknowledge(request.organisation)
    ]


def _acknowledged_on(row: dict[str, Any]) -> Any:
    moment = row["acknowledged_at"]
    return timezone.localdate(moment) if moment is not None else None


ACKNOWLEDGEMENT_COLUMNS: list[Column[dict[str, Any]]] = [
    Column("Name", lambda row: row["user"].name),
    Column("Email", lambda row: row["user"].email),
    Column("Acknowledged on", _acknowledged_on),
]


def _files(request: OrganisationRequest) -> Any:
    return request.FILES if request.method == "POST" else None
