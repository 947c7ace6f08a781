"""Importing roll changes from a CSV export of the school's information system (issue 7, item 1).

HTTP glue only. Two steps: upload the file (its every row is checked at once:
any problem and the page lists them all, nothing recorded), then confirm what
will be recorded, and import. The file's text waits in the session between
the steps, never in a table or on disk, and is checked again at each step, as
the school's records may have changed in between; the import itself goes
through `services.importing.import_roll_changes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_GET

from infoshare.core.imports import PREVIEW_ROWS, RowError
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.statutory import imports
from infoshare.statutory.forms.imports import RollChangeFileForm
from infoshare.statutory.rules import can_keep_roll
from infoshare.statutory.services import importing

if TYPE_CHECKING:
    from infoshare.statutory.imports import RollChangeRow

# The session (not a file or a table) so that nothing about the pupils outlives
# the import: it is cleared on import or cancel, and expires with the session.
SESSION_KEY = "roll_change_import"
TEMPLATE_FILENAME = "roll-changes-template.csv"


@dataclass
class _Checked:
    """The pending file read again: its rows, what they would record, every problem."""

    rows: list[RollChangeRow] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    plan: importing.ImportPlan = field(default_factory=importing.ImportPlan)
    errors: list[RowError] = field(default_factory=list)


@organisation_view(can_keep_roll)
def import_roll_changes(request: OrganisationRequest) -> HttpResponse:
    """Upload, then confirm and import; which step shows depends on what the session holds."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "cancel":
        _forget(request)
        messages.info(request, "The import was cancelled. Nothing was recorded.")
        return redirect("statutory:roll_changes", org=request.organisation.slug)
    if action == "upload":
        return _uploaded(request)
    return _pending_step(request, action)


def _pending_step(request: OrganisationRequest, action: str) -> HttpResponse:
    """The uploaded file's step: confirm it, or import it; or upload one if there is none."""
    pending = _pending(request)
    if pending is None:
        if action:
            # The session ended, or the import was finished in another tab, between steps.
            messages.error(request, "Upload the file again: the one you uploaded has gone.")
            return redirect("statutory:import_roll_changes", org=request.organisation.slug)
        return _upload_page(request, RollChangeFileForm())
    checked = _check(request, pending["text"])
    if checked.errors:
        _forget(request)
        return _errors_page(request, pending["filename"], checked.errors)
    if action == "import":
        return _import(request, pending, checked)
    return _confirm_page(request, pending["filename"], checked)


@require_GET
@organisation_view(can_keep_roll)
def template_csv(request: OrganisationRequest) -> HttpResponse:
    """An empty file with the headings the import reads, to fill in or to copy."""
    response = HttpResponse(
        ",".join(imports.TEMPLATE_HEADINGS) + "\r\n", content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_FILENAME}"'
    return response


def _uploaded(request: OrganisationRequest) -> HttpResponse:
    form = RollChangeFileForm(request.POST, request.FILES)
    _forget(request)
    if not form.is_valid():
        return _upload_page(request, form)
    text = form.cleaned_data["file"]
    checked = _check(request, text)
    if checked.errors:
        return _errors_page(request, form.filename, checked.errors)
    request.session[SESSION_KEY] = {
        "organisation": request.organisation.pk,
        "filename": form.filename,
        "text": text,
    }
    return redirect("statutory:import_roll_changes", org=request.organisation.slug)


def _check(request: OrganisationRequest, text: str) -> _Checked:
    """Every row read, matched and checked; the problems of all of them, by line."""
    table, mapping = imports.read_table(text)  # read once already, when it was uploaded
    today = timezone.localdate()
    read = imports.check_rows(table, mapping, today=today, grounds=importing.grounds_by_text())
    columns = imports.column_labels(table, mapping)
    plan = importing.plan_import(request.organisation, read.rows, today=today, columns=columns)
    errors = sorted([*read.errors, *plan.errors], key=lambda error: error.line)
    return _Checked(rows=read.rows, columns=columns, plan=plan, errors=errors)


def _import(
    request: OrganisationRequest, pending: dict[str, Any], checked: _Checked
) -> HttpResponse:
    try:
        result = importing.import_roll_changes(
            request.organisation, actor=request.user, rows=checked.rows, columns=checked.columns
        )
    except importing.ImportRefused as refused:
        _forget(request)
        return _errors_page(request, pending["filename"], refused.row_errors)
    _forget(request)
    messages.success(request, _imported_message(result))
    return redirect("statutory:roll_changes", org=request.organisation.slug)


def _upload_page(request: OrganisationRequest, form: RollChangeFileForm) -> HttpResponse:
    return render(
        request,
        "statutory/import/upload.html",
        {"form": form, "headings": imports.TEMPLATE_HEADINGS, "template_name": TEMPLATE_FILENAME},
    )


def _errors_page(
    request: OrganisationRequest, filename: str, errors: list[RowError]
) -> HttpResponse:
    """Every bad row, so the file can be put right in one go; nothing was recorded."""
    return render(
        request,
        "statutory/import/errors.html",
        {
            "filename": filename,
            "errors": errors,
            "line_count": len({error.line for error in errors}),
            "form": RollChangeFileForm(),
        },
    )


def _confirm_page(request: OrganisationRequest, filename: str, checked: _Checked) -> HttpResponse:
    plan = checked.plan
    return render(
        request,
        "statutory/import/confirm.html",
        {
            "filename": filename,
            "plan": plan,
            "total": len(plan.changes),
            "shown": plan.changes[:PREVIEW_ROWS],
        },
    )


def _imported_message(result: importing.ImportResult) -> str:
    total = len(result.changes)
    message = (
        f"{total} roll change{pluralize(total)} imported: {result.joining} joining and "
        f"{result.removed} removed from the roll."
    )
    if result.new_pupils:
        message += (
            f" {result.new_pupils} new pupil{pluralize(result.new_pupils)} added to the "
            "school's list."
        )
    return message


def _pending(request: OrganisationRequest) -> dict[str, Any] | None:
    """The file uploaded for this organisation's import, if there is one."""
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("organisation") != request.organisation.pk:
        return None
    return dict(pending)


def _forget(request: OrganisationRequest) -> None:
    request.session.pop(SESSION_KEY, None)
