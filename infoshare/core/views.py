"""Pages for choosing an organisation, its dashboard, its members, and the error pages.

HTTP glue only: every change goes through infoshare.core.services.
"""

from __future__ import annotations

import csv
import uuid
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from infoshare.core import services
from infoshare.core.exports import spreadsheet_safe
from infoshare.core.forms import ChangeRolesForm, InviteMemberForm, RemoveMemberForm
from infoshare.core.models import Membership, Role, User
from infoshare.core.rules import can_manage_members
from infoshare.core.tenancy import OrganisationRequest, organisation_view

if TYPE_CHECKING:
    from django.forms import Form

MEMBERS_PER_PAGE = 25


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Straight to the dashboard of one's only organisation; otherwise, choose."""
    memberships = list(_memberships_of(request.user))
    if len(memberships) == 1:
        return redirect(memberships[0].organisation)
    return redirect("core:organisations")


@login_required
def choose_organisation(request: HttpRequest) -> HttpResponse:
    return render(
        request, "core/choose_organisation.html", {"memberships": _memberships_of(request.user)}
    )


@organisation_view()
def dashboard(request: OrganisationRequest) -> HttpResponse:
    # "What needs doing" is gathered from every app by the reminders issue; empty for now.
    return render(request, "core/dashboard.html", {"due_items": []})


@require_GET
@organisation_view(can_manage_members)
def member_list(request: OrganisationRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    status = request.GET.get("status", "active")
    members = _filtered_members(request, query=query, role=role, status=status)
    if request.GET.get("format") == "csv":
        return _members_csv(request, members)
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/member_list.html",
        {
            "page": page,
            "query": query,
            "role": role,
            "status": status,
            "roles": Role.choices,
            "filtered": bool(query or role or status != "active"),
        },
    )


@organisation_view(can_manage_members)
def invite_member(request: OrganisationRequest) -> HttpResponse:
    form = InviteMemberForm(_posted(request))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        membership = _call_service(
            form,
            services.invite_member,
            request.organisation,
            actor=request.user,
            email=data["email"],
            name=data["name"],
            roles=data["roles"],
            job_title=data["job_title"],
            acting_for=data["acting_for"],
        )
        if membership is not None:
            messages.success(request, f"Invitation sent to {membership.user.email}.")
            return redirect("core:member", org=request.organisation.slug, member=membership.uuid)
    return render(request, "core/invite_member.html", {"form": form})


@organisation_view(can_manage_members)
def member_detail(request: OrganisationRequest, member: str) -> HttpResponse:
    membership = _membership_in(request, member)
    form = ChangeRolesForm(_posted(request), initial={"roles": sorted(membership.roles)})
    if form.is_bound and form.is_valid():
        changed = _call_service(
            form,
            services.change_roles,
            membership,
            actor=request.user,
            roles=form.cleaned_data["roles"],
        )
        if changed is not None:
            messages.success(request, f"Roles of {membership.user} saved.")
            return redirect("core:member", org=request.organisation.slug, member=membership.uuid)
    return render(request, "core/member_detail.html", {"member": membership, "form": form})


@organisation_view(can_manage_members)
def remove_member(request: OrganisationRequest, member: str) -> HttpResponse:
    membership = _membership_in(request, member)
    form = RemoveMemberForm(_posted(request))
    if form.is_bound and form.is_valid():
        removed = _call_service(
            form,
            services.remove_member,
            membership,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if removed is not None:
            messages.success(request, f"{membership.user} is no longer a member.")
            return redirect("core:members", org=request.organisation.slug)
    return render(request, "core/remove_member.html", {"member": membership, "form": form})


@require_POST
@organisation_view(can_manage_members)
def resend_invitation(request: OrganisationRequest, member: str) -> HttpResponse:
    membership = _membership_in(request, member)
    try:
        services.resend_invitation(membership, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation sent again to {membership.user.email}.")
    return redirect("core:member", org=request.organisation.slug, member=membership.uuid)


def accept_invitation(request: HttpRequest, user: str, token: str) -> HttpResponse:
    """The link from an invitation email: choose a password, then go in."""
    invitee = _user_from_link(user, token)
    if invitee is None:
        return render(request, "core/invitation_invalid.html", status=404)
    form = SetPasswordForm(invitee, _posted(request))
    if form.is_bound and form.is_valid():
        services.accept_invitation(invitee, password=form.cleaned_data["new_password1"])
        login(request, invitee, backend="allauth.account.auth_backends.AuthenticationBackend")
        messages.success(request, "Your password is set. Welcome to Infoshare.")
        return redirect("core:home")
    return render(request, "core/accept_invitation.html", {"form": form, "invitee": invitee})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: whatever broke the page may break them too.
    from django.template.loader import get_template

    return HttpResponse(get_template("500.html").render({}), status=500)


# --- helpers -----------------------------------------------------------------------------


def _memberships_of(user: Any) -> Any:
    return (
        Membership.objects.active()
        .with_roles()
        .select_related("organisation", "acting_for")
        .filter(user=user)
        .order_by("organisation__name")
    )


def _membership_in(request: OrganisationRequest, member: str) -> Membership:
    """A membership of the request's organisation only: another's is a 404."""
    return get_object_or_404(
        Membership.objects.with_roles().select_related("user", "acting_for"),
        organisation=request.organisation,
        uuid=member,
    )


def _filtered_members(request: OrganisationRequest, *, query: str, role: str, status: str) -> Any:
    members = (
        Membership.objects.filter(organisation=request.organisation)
        .with_roles()
        .select_related("user", "acting_for")
        .order_by("user__name", "user__email")
    )
    members = members.active() if status != "removed" else members.filter(ended_at__isnull=False)
    if query:
        members = members.filter(
            Q(user__name__icontains=query)
            | Q(user__email__icontains=query)
            | Q(job_title__icontains=query)
        )
    if role in Role.values:
        members = members.holding(role)
    return members


def _members_csv(request: OrganisationRequest, members: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{request.organisation.slug}-members.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["Name", "Email", "Job title", "Roles", "On behalf of", "Since", "Removed"])
    for m in members:
        writer.writerow(
            spreadsheet_safe(cell)
            for cell in [
                m.user.name,
                m.user.email,
                m.job_title,
                "; ".join(m.role_labels()),
                m.acting_for.name if m.acting_for else "",
                m.created_at.date().isoformat(),
                m.ended_at.date().isoformat() if m.ended_at else "",
            ]
        )
    return response


def _call_service(form: Form, service: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service; put what it refuses beside the form's fields. None when refused."""
    try:
        return service(*args, **kwargs)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return None


def _user_from_link(user_uuid: str, token: str) -> User | None:
    """The invitee named by a link, if the link is whole, unused and in date."""
    try:
        invitee = User.objects.filter(uuid=uuid.UUID(user_uuid), is_active=True).first()
    except ValueError:
        return None
    if invitee is None or invitee.has_usable_password():
        return None
    return invitee if default_token_generator.check_token(invitee, token) else None


def _posted(request: HttpRequest) -> Any:
    """The submitted data on POST, even if empty; None (an unbound form) otherwise."""
    return request.POST if request.method == "POST" else None
