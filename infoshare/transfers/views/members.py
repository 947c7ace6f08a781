"""The members' pages: the list, sending (choosing or recording the decision), one transfer
with its access log, revoking, unlocking, and the files the recipient sent back.

HTTP glue only: every change goes through infoshare.transfers.services. A
transfer is seen by its sender and the DPO (`Transfer.objects.for_user`);
anyone else gets 404, as for another school's. Auditors, who never handle
the data, get 403 on every page (`can_send_transfers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from infoshare.core.exports import csv_response
from infoshare.core.models import Role
from infoshare.core.rules import roles_in
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.uploads import too_large_uploads, uploads_limited_to
from infoshare.core.views import _call_service, _posted
from infoshare.decisions.forms import DecisionForm, initial_for_new
from infoshare.decisions.models import Decision, Method, Outcome
from infoshare.decisions.views.records import (
    FIND_PEOPLE,
    decision_form_context,
    decision_form_for,
)
from infoshare.transfers import exports, services
from infoshare.transfers.forms import (
    DECISION_CHOICES,
    RECORD,
    RevokeForm,
    StartForm,
    TransferFilterForm,
    TransferForm,
    shown_status,
    transfer_initial,
)
from infoshare.transfers.models import (
    WRONG_CODES_BEFORE_LOCK,
    Status,
    Transfer,
    TransferFile,
)
from infoshare.transfers.rules import can_send_transfers
from infoshare.transfers.views.common import file_response, london_time

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    from django.http import HttpResponse
    from django.http.response import HttpResponseBase

    from infoshare.decisions.models import DecisionQuerySet

PAGE_SIZE = 25
# The transfer form's answers a refusal may name; anything else belongs to the decision.
TRANSFER_KEYS = frozenset(
    {
        "recipient_name",
        "recipient_email",
        "recipient_organisation",
        "message",
        "expires_in_days",
        "max_downloads",
        "files",
        "decision",
    }
)
# What each status means, for the sender (the detail page says it under the tag).
MEANINGS = {
    Status.SENT: "The recipient has been emailed the link but has not opened the files yet.",
    Status.OPENED: "The recipient entered the code and has seen the files, "
    "but has not downloaded any yet.",
    Status.DOWNLOADED: "The recipient has downloaded at least one file.",
    Status.LOCKED: f"{WRONG_CODES_BEFORE_LOCK} wrong codes were entered, so nobody can open it "
    "until you unlock it.",
    Status.EXPIRED: "The link stopped working. The files and the message were destroyed.",
    Status.REVOKED: "It was revoked. The files and the message were destroyed.",
}


# --- The list ----------------------------------------------------------------------------


@require_GET
@organisation_view(can_send_transfers)
def transfer_list(request: OrganisationRequest) -> HttpResponseBase:
    form = TransferFilterForm(request.GET or None)
    transfers = form.filter(_listed(request))
    now = timezone.now()
    if request.GET.get("format") == "csv":
        services.note_export(request.organisation, actor=request.user, count=transfers.count())
        return csv_response(
            transfers, exports.columns(now), exports.filename(request.organisation.slug, now)
        )
    page = Paginator(transfers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "transfers/list.html",
        {
            "form": form,
            "filtering": form.is_filtering,
            "page": page,
            "rows": [_row(t, now) for t in page],
            "sees_everyone": Role.DPO in roles_in(request.user, request.organisation),
            "export_query": _export_query(request),
        },
    )


def _export_query(request: OrganisationRequest) -> str:
    """The list's filters and sort, for its CSV export: every row they match, not a page."""
    kept = {name: value for name, value in request.GET.items() if name not in {"page", "format"}}
    return urlencode({**kept, "format": "csv"})


def _row(transfer: Transfer, now: datetime) -> dict[str, Any]:
    status = shown_status(transfer, now)
    return {"transfer": transfer, "status": status, "status_label": Status(status).label}


def _listed(request: OrganisationRequest) -> Any:
    """The person's transfers (all of the school's for the DPO), with what a row shows."""
    return (
        Transfer.objects.for_user(request.user, request.organisation)
        .select_related("decision", "sender")
        .defer("wrapped_key", "message_sealed")
        .annotate(file_count=Coalesce(Subquery(_files_sent_count()), 0))
    )


def _files_sent_count() -> Any:
    """How many files a transfer sent (not replies): a subquery, so that counting the
    list's rows for the pages needs no join or grouping."""
    return (
        TransferFile.objects.filter(transfer=OuterRef("pk"), reply__isnull=True)
        .order_by()
        .values("transfer")
        .annotate(count=Count("pk"))
        .values("count")
    )


# --- Sending -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@organisation_view(can_send_transfers)
def start(request: OrganisationRequest) -> HttpResponse:
    """Which decision the transfer shares: one in the log, or one recorded with it."""
    decisions = list(_shareable_decisions(request)[:DECISION_CHOICES])
    form = StartForm(_posted(request), decisions=decisions)
    if form.is_bound and form.is_valid():
        if form.cleaned_data["choice"] == RECORD:
            return _to_new(request, record="1")
        return _to_new(request, decision=form.cleaned_data["decision"])
    return render(request, "transfers/start.html", {"form": form})


@require_http_methods(["GET", "POST"])
@uploads_limited_to(services.max_file_bytes)
@organisation_view(can_send_transfers)
def new_transfer(request: OrganisationRequest) -> HttpResponse:
    """The transfer form, under the decision it shares or the decision log's own form."""
    if request.GET.get("record") == "1":
        return _new_with_decision_recorded(request)
    reference = request.GET.get("decision", "")
    if not reference:
        return redirect("transfers:start", org=request.organisation.slug)
    return _new_for_decision(request, reference)


def _new_for_decision(request: OrganisationRequest, reference: str) -> HttpResponse:
    decision = get_object_or_404(
        Decision.objects.for_user(request.user, request.organisation).select_related(
            "purpose", "lawful_basis", "recipient_organisation", "organisation"
        ),
        reference=reference,
    )
    if not decision.is_share or Decision.objects.filter(supersedes=decision).exists():
        messages.error(
            request,
            f"{decision.reference} cannot be sent: only a current decision to share can. "
            "Choose another, or record the decision now.",
        )
        return redirect("transfers:start", org=request.organisation.slug)
    form = _transfer_form(request, initial=transfer_initial(decision))
    if form.is_bound and form.is_valid():
        transfer = _call_service(
            form,
            services.send_transfer,
            request.organisation,
            actor=request.user,
            answers=form.answers(),
            decision=decision,
        )
        if transfer is not None:
            return _sent(request, transfer)
    return render(
        request, "transfers/new.html", {**_new_context(request, form), "decision": decision}
    )


def _new_with_decision_recorded(request: OrganisationRequest) -> HttpResponse:
    """The decision log's form, then the transfer's: one submission records and sends."""
    initial = {
        **initial_for_new(actor=request.user, person=None),
        "method": Method.SECURE_TRANSFER,
        "outcome": Outcome.SHARED,
    }
    decision_form = decision_form_for(request, DecisionForm, initial=initial)
    finding = request.method == "POST" and request.POST.get("action") == FIND_PEOPLE
    if finding:
        # "Find" searches the people list; it keeps what was typed and checks nothing yet.
        form = TransferForm(initial=_typed_transfer_answers(request))
    else:
        form = _transfer_form(request, initial=transfer_initial(None))
    if form.is_bound and _both_valid(decision_form, form):
        transfer = _send_with_draft(request, decision_form, form)
        if transfer is not None:
            return _sent(request, transfer)
    context = decision_form_context(request, decision_form)
    context["decision_form"] = context.pop("form")
    context.update(_new_context(request, form, decision_form=decision_form))
    return render(request, "transfers/new.html", context)


def _transfer_form(request: OrganisationRequest, *, initial: dict[str, Any]) -> TransferForm:
    posted = request.method == "POST"
    return TransferForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        too_large=too_large_uploads(request),
        initial=initial,
    )


def _typed_transfer_answers(request: OrganisationRequest) -> dict[str, Any]:
    prefix = TransferForm().add_prefix("")
    return {
        name.removeprefix(prefix): value
        for name, value in request.POST.items()
        if name.startswith(prefix) and name != f"{prefix}files"
    }


def _both_valid(decision_form: DecisionForm, form: TransferForm) -> bool:
    # Both are checked, so every problem of the page shows at once.
    decision_ok = decision_form.is_valid()
    transfer_ok = form.is_valid()
    return decision_ok and transfer_ok


def _send_with_draft(
    request: OrganisationRequest, decision_form: DecisionForm, form: TransferForm
) -> Transfer | None:
    try:
        return services.send_transfer(
            request.organisation,
            actor=request.user,
            answers=form.answers(),
            draft=decision_form.draft(),
        )
    except ValidationError as refused:
        _put_beside_fields(refused, decision_form, form)
        return None


def _put_beside_fields(
    refused: ValidationError, decision_form: DecisionForm, form: TransferForm
) -> None:
    """One refusal for two forms: each problem beside the field it names.

    Both forms have a recipient's organisation; the decision log's is a choice
    among organisations other than the school (so the form already refuses what
    its check would), and a problem with that name is the transfer's.
    """
    if not hasattr(refused, "error_dict"):
        form.add_error(None, refused)
        return
    for field, errors in refused.error_dict.items():
        if field in TRANSFER_KEYS:
            form.add_error(field if field in form.fields else None, errors)
        else:
            decision_form.add_error(field if field in decision_form.fields else None, errors)


def _new_context(
    request: OrganisationRequest, form: TransferForm, *, decision_form: Any = None
) -> dict[str, Any]:
    return {
        "form": decision_form if decision_form is not None and decision_form.errors else form,
        "transfer_form": form,
        "forms": [f for f in (decision_form, form) if f is not None],
        # Browsers never keep chosen files: after any submission, they must be chosen again.
        "choose_again": request.method == "POST",
        "max_size": services.size_label(services.max_file_bytes()),
        "max_files": services.max_files(),
    }


def _sent(request: OrganisationRequest, transfer: Transfer) -> HttpResponse:
    messages.success(
        request,
        f"{transfer.reference} sent. {transfer.recipient_name} has been emailed a link; "
        "they will ask for a code to open it.",
    )
    return redirect(transfer)


def _shareable_decisions(request: OrganisationRequest) -> DecisionQuerySet:
    """The person's visible, current decisions to share, newest first."""
    return (
        Decision.objects.for_user(request.user, request.organisation)
        .current()
        .exclude(outcome=Outcome.NOT_SHARED)
        .select_related("recipient_organisation")
        .order_by("-decided_on", "-recorded_at")
    )


def _to_new(request: OrganisationRequest, **query: str) -> HttpResponse:
    address = reverse("transfers:new", kwargs={"org": request.organisation.slug})
    return redirect(f"{address}?{urlencode(query)}")


# --- One transfer ------------------------------------------------------------------------


def visible_transfer(request: OrganisationRequest, reference: str) -> Transfer:
    """The transfer named in the URL if `Transfer.objects.for_user` finds it; otherwise 404."""
    return get_object_or_404(
        Transfer.objects.for_user(request.user, request.organisation).select_related(
            "organisation", "decision", "sender", "ended_by"
        ),
        reference=reference,
    )


@require_GET
@organisation_view(can_send_transfers)
def detail(request: OrganisationRequest, reference: str) -> HttpResponse:
    transfer = visible_transfer(request, reference)
    services.note_view(transfer, actor=request.user)
    status = shown_status(transfer, timezone.now())
    files, replies, names = _contents(transfer)
    return render(
        request,
        "transfers/detail.html",
        {
            "transfer": transfer,
            "status": status,
            "status_label": Status(status).label,
            "meaning": _meaning(transfer, status),
            "message": services.message_of(transfer) if transfer.is_live else "",
            "files": files,
            "replies": replies,
            "log": _access_log(transfer, names),
            "sent_at": london_time(transfer.created_at),
            "expires_at": london_time(transfer.expires_at),
            "ended_at": london_time(transfer.ended_at) if transfer.ended_at else "",
            "may_revoke": transfer.is_live,
            "may_unlock": transfer.status == Status.LOCKED,
        },
    )


def _meaning(transfer: Transfer, status: str) -> str:
    if status == Status.EXPIRED and transfer.is_live:
        return "The link has stopped working. The files and the message will be destroyed shortly."
    return MEANINGS[Status(status)]


def _contents(transfer: Transfer) -> tuple[list[Any], list[Any], dict[int, str]]:
    """The files sent and the replies, with their names while the transfer is live; and
    each file's name by its id, for the access log."""
    if not transfer.is_live:
        return _ended_contents(transfer)
    files = services.recipient_files(transfer)
    replies = services.replies_of(transfer)
    names = {view.file.pk: view.name for view in files}
    names.update({view.file.pk: view.name for reply in replies for view in reply.files})
    return files, replies, names


def _ended_contents(transfer: Transfer) -> tuple[list[Any], list[Any], dict[int, str]]:
    """Once it has ended the names are destroyed with the key: the files are numbered,
    in the order they came, so the access log can still say which was downloaded."""
    sent: list[TransferFile] = []
    replied: list[TransferFile] = []
    for file in TransferFile.objects.filter(transfer=transfer).defer("name_sealed"):
        (replied if file.is_reply else sent).append(file)
    names = {file.pk: f"File {number}" for number, file in enumerate(sent, start=1)}
    names.update({file.pk: f"Reply file {n}" for n, file in enumerate(replied, start=1)})
    rows = [{"file": file, "name": names[file.pk], "size": file.size} for file in sent]
    return rows, [], names


def _access_log(transfer: Transfer, names: dict[int, str]) -> list[dict[str, Any]]:
    events = services.access_log_of(transfer)
    return [
        {
            "event": event,
            "when": london_time(event.at),
            "at": event.at,
            "what": event.get_kind_display(),
            "file": names.get(event.file_id, "") if event.file_id else "",
        }
        for event in events
    ]


@require_http_methods(["GET", "POST"])
@organisation_view(can_send_transfers)
def revoke(request: OrganisationRequest, reference: str) -> HttpResponse:
    transfer = visible_transfer(request, reference)
    if not transfer.is_live:
        messages.error(
            request,
            f"{transfer.reference} has already ended "
            f"(\u201c{transfer.status_label.lower()}\u201d): there is nothing left to revoke.",
        )
        return redirect(transfer)
    form = RevokeForm(_posted(request))
    if form.is_bound and form.is_valid():
        revoked = _call_service(
            form,
            services.revoke_transfer,
            transfer,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if revoked is not None:
            messages.success(
                request,
                f"{transfer.reference} is revoked. The files and the message are destroyed, "
                "and the link no longer works.",
            )
            return redirect(transfer)
        if form.non_field_errors():
            # Not a problem with the reason: the transfer changed meanwhile (it ended).
            messages.error(request, " ".join(str(error) for error in form.non_field_errors()))
            return redirect(transfer)
    return render(request, "transfers/revoke.html", {"transfer": transfer, "form": form})


@require_POST
@organisation_view(can_send_transfers)
def unlock(request: OrganisationRequest, reference: str) -> HttpResponse:
    transfer = visible_transfer(request, reference)
    try:
        services.unlock_transfer(transfer, actor=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(
            request,
            f"{transfer.reference} is unlocked. The recipient can ask for a new code.",
        )
    return redirect(transfer)


@require_GET
@organisation_view(can_send_transfers)
def reply_file(request: OrganisationRequest, reference: str, file: uuid.UUID) -> HttpResponseBase:
    """A file the recipient sent back, decrypted as it downloads (audited by the service)."""
    transfer = visible_transfer(request, reference)
    try:
        download = services.download_reply(transfer, file, actor=request.user)
    except services.DamagedFile:
        return render(
            request,
            "transfers/damaged.html",
            {"transfer": transfer, "back": transfer.get_absolute_url()},
            status=422,
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect(transfer)
    return file_response(download)
