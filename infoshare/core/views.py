"""Pages for choosing an organisation, its dashboard, its members and people, and errors.

HTTP glue only: every change goes through infoshare.core.services.
"""

from __future__ import annotations

import csv
import re
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
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from infoshare.core import imports, services
from infoshare.core.exports import spreadsheet_safe
from infoshare.core.forms import (
    ChangeRolesForm,
    ColumnMappingForm,
    InviteMemberForm,
    PersonForm,
    PupilFileForm,
    RemoveMemberForm,
)
from infoshare.core.models import Membership, Person, PersonKind, Role, User
from infoshare.core.rules import (
    can_manage_members,
    can_manage_people,
    can_view_people,
    is_auditor,
    is_dpo,
)
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.reminders.items import DueItem, items_for
from infoshare.reminders.rules import can_view_oversight
from infoshare.safeguarding.rules import can_lead_safeguarding

if TYPE_CHECKING:
    from datetime import date

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
        request,
        "core/choose_organisation.html",
        {
            "memberships": _memberships_of(request.user),
            # A DPO or auditor of any school is offered the oversight table.
            "may_oversee": can_view_oversight(request.user),
        },
    )


@organisation_view()
def dashboard(request: OrganisationRequest) -> HttpResponse:
    """What needs doing: every app's items waiting for this person, grouped by kind.

    The groups come in the order of their most urgent item (overdue first, then by
    due date), and each group's items keep that order.
    """
    due_items = items_for(request.user, request.organisation, timezone.localdate())
    groups: dict[str, list[DueItem]] = {}
    for item in due_items:
        groups.setdefault(item.kind_label, []).append(item)
    return render(
        request,
        "core/dashboard.html",
        {
            "due_items": due_items,
            "overdue_count": sum(item.overdue for item in due_items),
            "due_groups": [{"label": label, "items": items} for label, items in groups.items()],
            # A DPO or auditor here oversees this school, and any others, from one table.
            "may_oversee": is_dpo(request.user, request.organisation)
            or is_auditor(request.user, request.organisation),
        },
    )


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


# --- people: the data subjects whose information is shared ---------------------------------

PEOPLE_PER_PAGE = 25
# The list's sort orders: what the page offers, and the ordering each means.
PEOPLE_SORTS = {
    "name": ("Last name, A to Z", ("family_name", "given_name", "pk")),
    "-name": ("Last name, Z to A", ("-family_name", "-given_name", "-pk")),
    "given_name": ("First name, A to Z", ("given_name", "family_name", "pk")),
}
# Where the import keeps the uploaded file's text between its steps. The
# session (not a file or a table) so that nothing about the pupils outlives
# the import: it is cleared on import or cancel, and expires with the session.
IMPORT_SESSION_KEY = "pupil_import"


@require_GET
@organisation_view(can_view_people)
def person_list(request: OrganisationRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    year_group = request.GET.get("year_group", "")
    sort = request.GET.get("sort", "name")
    sort = sort if sort in PEOPLE_SORTS else "name"
    people = _filtered_people(request, query=query, kind=kind, year_group=year_group, sort=sort)
    if request.GET.get("format") == "csv":
        filters = {"q": query, "kind": kind, "year_group": year_group}
        services.note_people_export(
            request.organisation,
            actor=request.user,
            rows=people.count(),
            filters={name: value for name, value in filters.items() if value},
        )
        return _people_csv(request, people)
    page = Paginator(people, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/people_list.html",
        {
            "page": page,
            "query": query,
            "kind": kind,
            "year_group": year_group,
            "sort": sort,
            "kinds": PersonKind.choices,
            "year_groups": _year_groups(request),
            "sorts": [(value, label) for value, (label, _) in PEOPLE_SORTS.items()],
            "filtered": bool(query or kind or year_group),
            "can_manage": can_manage_people(request.user, request.organisation),
        },
    )


@organisation_view(can_view_people)
def person_detail(request: OrganisationRequest, person: str) -> HttpResponse:
    record = _person_in(request, person)
    return render(
        request,
        "core/person_detail.html",
        {
            "person": record,
            "can_manage": can_manage_people(request.user, request.organisation),
            # Only a DSL learns from this page that safeguarding records exist.
            "safeguarding": record.kind == PersonKind.PUPIL
            and can_lead_safeguarding(request.user, request.organisation),
        },
    )


@organisation_view(can_manage_people)
def add_person(request: OrganisationRequest) -> HttpResponse:
    form = PersonForm(_posted(request))
    if form.is_bound and form.is_valid():
        person = _call_service(
            form, services.add_person, request.organisation, actor=request.user, **form.cleaned_data
        )
        if person is not None:
            messages.success(request, f"{person.full_name} added.")
            return redirect("core:person", org=request.organisation.slug, person=person.uuid)
    return render(request, "core/person_form.html", {"form": form, "person": None})


@organisation_view(can_manage_people)
def edit_person(request: OrganisationRequest, person: str) -> HttpResponse:
    record = _person_in(request, person)
    form = PersonForm(_posted(request), initial=PersonForm.initial_for(record))
    if form.is_bound and form.is_valid():
        changed = _call_service(
            form, services.change_person, record, actor=request.user, **form.cleaned_data
        )
        if changed is not None:
            messages.success(request, f"{changed.full_name}'s details saved.")
            return redirect("core:person", org=request.organisation.slug, person=changed.uuid)
    return render(request, "core/person_form.html", {"form": form, "person": record})


@organisation_view(can_manage_people)
def import_pupils(request: OrganisationRequest) -> HttpResponse:
    """The three steps: upload the file, choose its columns, check and import.

    Which step shows depends on what the session holds: no file yet (upload),
    a file whose columns are not yet checked (columns), or a checked one (confirm).
    """
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "cancel":
        _forget_import(request)
        return redirect("core:people", org=request.organisation.slug)
    pending = _pending_import(request)
    if action == "upload" or (pending is None and not action):
        return _import_upload_step(request)
    if pending is None:
        # The session ended, or the import was finished in another tab, between steps.
        messages.error(request, "Upload the file again: the one you uploaded has gone.")
        return redirect("core:import_pupils", org=request.organisation.slug)
    return _import_later_step(request, pending, action)


def _import_later_step(
    request: OrganisationRequest, pending: dict[str, Any], action: str
) -> HttpResponse:
    table = imports.read_table(pending["text"])  # read once already, when it was uploaded
    if action == "import" and pending["checked"]:
        return _import_confirmed(request, pending, table)
    if action in ("preview", "check"):
        return _import_columns_step(request, pending, table, action=action)
    if not pending["checked"] or request.GET.get("step") == "columns":
        return _import_columns_step(request, pending, table, action="")
    return _import_confirm_step(request, pending, table)


def _import_upload_step(request: OrganisationRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = PupilFileForm(request.POST if posted else None, request.FILES if posted else None)
    if form.is_bound and form.is_valid():
        _keep_import(
            request,
            {
                "organisation": request.organisation.pk,
                "filename": form.filename,
                "text": form.cleaned_data["file"],
                "mapping": None,
                "checked": False,
            },
        )
        return redirect("core:import_pupils", org=request.organisation.slug)
    return render(request, "core/import_upload.html", {"form": form})


def _import_columns_step(
    request: OrganisationRequest, pending: dict[str, Any], table: imports.PupilTable, *, action: str
) -> HttpResponse:
    """Choose the columns, with a preview of the first rows; "check" reads every row."""
    mapping = pending["mapping"] or imports.guess_mapping(table.headings)
    form = ColumnMappingForm(
        request.POST if action else None,
        columns=[table.column_label(i) for i in range(len(table.headings))],
        initial=ColumnMappingForm.initial_from(mapping),
    )
    if form.is_bound:
        valid = form.is_valid()
        mapping = form.mapping()
        if valid and action == "check":
            checked = imports.check_rows(table, mapping, today=timezone.localdate())
            _keep_import(request, {**pending, "mapping": mapping, "checked": not checked.errors})
            if checked.errors:
                return _import_errors(request, pending, checked.errors)
            return redirect("core:import_pupils", org=request.organisation.slug)
    return render(
        request,
        "core/import_columns.html",
        {
            "form": form,
            "filename": pending["filename"],
            "row_count": sum(1 for _ in table.numbered_rows()),
            "preview_fields": imports.mapped_fields(mapping),
            "preview_rows": imports.preview(table, mapping, today=timezone.localdate()),
        },
    )


def _import_confirm_step(
    request: OrganisationRequest, pending: dict[str, Any], table: imports.PupilTable
) -> HttpResponse:
    mapping = pending["mapping"]
    checked = imports.check_rows(table, mapping, today=timezone.localdate())
    if checked.errors:
        return _import_errors(request, pending, checked.errors)
    upns = [row.upn for row in checked.rows]
    known = Person.objects.in_organisation(request.organisation).filter(upn__in=upns).count()
    return render(
        request,
        "core/import_confirm.html",
        {
            "filename": pending["filename"],
            "to_add": len(upns) - known,
            "to_update": known,
            "preview_fields": imports.mapped_fields(mapping),
            "preview_rows": imports.preview(table, mapping, today=timezone.localdate()),
        },
    )


def _import_confirmed(
    request: OrganisationRequest, pending: dict[str, Any], table: imports.PupilTable
) -> HttpResponse:
    checked = imports.check_rows(table, pending["mapping"], today=timezone.localdate())
    if checked.errors:
        return _import_errors(request, pending, checked.errors)
    try:
        result = services.import_pupils(request.organisation, actor=request.user, rows=checked.rows)
    except services.ImportRefused as refused:
        return _import_errors(request, pending, refused.row_errors)
    _forget_import(request)
    messages.success(request, _imported_message(result))
    return redirect("core:people", org=request.organisation.slug)


def _import_errors(
    request: OrganisationRequest, pending: dict[str, Any], errors: list[imports.RowError]
) -> HttpResponse:
    """Every bad row, so the file can be put right in one go; nothing was imported."""
    return render(
        request,
        "core/import_errors.html",
        {
            "filename": pending["filename"],
            "errors": errors,
            "line_count": len({error.line for error in errors}),
            "form": PupilFileForm(),
        },
    )


def _imported_message(result: services.ImportResult) -> str:
    message = (
        f"{result.created} pupil{pluralize(result.created)} added and {result.updated} updated."
    )
    if result.unchanged:
        message += f" {result.unchanged} already had these details."
    return message


def _pending_import(request: OrganisationRequest) -> dict[str, Any] | None:
    """The file uploaded for this organisation's import, if there is one."""
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not pending or pending.get("organisation") != request.organisation.pk:
        return None
    return dict(pending)


def _keep_import(request: OrganisationRequest, pending: dict[str, Any]) -> None:
    request.session[IMPORT_SESSION_KEY] = pending


def _forget_import(request: OrganisationRequest) -> None:
    request.session.pop(IMPORT_SESSION_KEY, None)


def _person_in(request: OrganisationRequest, person: str) -> Person:
    """A person of the request's organisation only: another's is a 404."""
    return get_object_or_404(Person.objects.in_organisation(request.organisation), uuid=person)


def _filtered_people(
    request: OrganisationRequest, *, query: str, kind: str, year_group: str, sort: str
) -> Any:
    people = Person.objects.in_organisation(request.organisation)
    if query:
        people = people.search(query)
    if kind in PersonKind.values:
        people = people.filter(kind=kind)
    if year_group:
        people = people.filter(year_group=year_group)
    return people.order_by(*PEOPLE_SORTS[sort][1])


def _year_groups(request: OrganisationRequest) -> list[str]:
    """The year groups the school's people are in, Reception before Year 1 before Year 10."""
    groups = (
        Person.objects.in_organisation(request.organisation)
        .exclude(year_group="")
        .order_by()  # without the default ordering by name, which would defeat DISTINCT
        .values_list("year_group", flat=True)
        .distinct()
    )
    return sorted(groups, key=_natural_key)


def _natural_key(text: str) -> tuple[Any, ...]:
    """Sorts "Year 2" before "Year 10": numbers within the text compare as numbers."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", text)
        if part
    )


def _people_csv(request: OrganisationRequest, people: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{request.organisation.slug}-people.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "Last name",
            "First name",
            "Who",
            "UPN",
            "Date of birth",
            "Year group",
            "On roll from",
            "On roll until",
            "Details",
        ]
    )
    for p in people:
        writer.writerow(
            spreadsheet_safe(cell)
            for cell in [
                p.family_name,
                p.given_name,
                p.get_kind_display(),
                p.upn,
                _iso(p.date_of_birth),
                p.year_group,
                _iso(p.on_roll_from),
                _iso(p.on_roll_until),
                p.details,
            ]
        )
    return response


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""
