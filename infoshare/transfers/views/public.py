"""The recipient's pages, with no account: the link, the one-time code, the files, a reply.

HTTP glue only: every change goes through infoshare.transfers.services. The
link's token is the only key to the transfer, so every response keeps it out
of caches, referrers and search engines. The state is checked on every
request: a transfer that ended or was locked stops working at once, whatever
the browser's session holds. The code, once right, is remembered in the
session (whose key is cycled, as at a sign-in) for an hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from infoshare.core.signals import client_address
from infoshare.core.uploads import too_large_uploads, uploads_limited_to
from infoshare.transfers import services
from infoshare.transfers.forms import CodeForm, ReplyForm
from infoshare.transfers.models import WRONG_CODES_BEFORE_LOCK
from infoshare.transfers.views.common import file_response

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse
    from django.http.response import HttpResponseBase

    from infoshare.transfers.models import Transfer

    RecipientView = Callable[..., HttpResponseBase]

# Where the session remembers the transfers whose code was right: {uuid: ISO time}.
GRANTS = "transfers_opened"
GRANT_LASTS = timedelta(hours=1)
# The link is a secret: never cached, never indexed, and sent as a referrer only to this
# site itself ("same-origin"). Not "no-referrer": under it a browser posts the page's
# forms with `Origin: null`, which Django's CSRF check rightly refuses.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex",
}
AVAILABLE, LOCKED, ENDED = "available", "locked", "ended"


def private(response: HttpResponseBase) -> HttpResponseBase:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


def visit(request: HttpRequest) -> services.Visit:
    return services.Visit(
        ip_address=client_address(request) or None,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def recipient_view(view: RecipientView) -> Callable[..., HttpResponseBase]:
    """The transfer of the link, if it is open to the recipient now; otherwise the page that
    says why not (404 unknown, 410 ended, 403 locked). `view(request, transfer, token, ...)`."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        transfer = services.find_by_token(token)
        if transfer is None:
            return private(unavailable(request, None))
        try:
            response = refused(request, transfer) or view(request, transfer, token, *args, **kwargs)
        except Http404:
            response = _problem(
                request,
                transfer,
                status=404,
                heading="File not found",
                lines=[
                    "This file is not part of the transfer. Go back to the files and try again."
                ],
                back=token,
            )
        return private(response)

    return wrapper


def refused(request: HttpRequest, transfer: Transfer) -> HttpResponse | None:
    """The page for a transfer the recipient cannot use now; None when they can."""
    state = services.recipient_state(transfer)
    if state == ENDED:
        return unavailable(request, transfer)
    if state == LOCKED:
        return locked(request, transfer)
    return None


def unavailable(request: HttpRequest, transfer: Transfer | None) -> HttpResponse:
    """Ended (410) or unknown (404): the same words, so a guessed link learns nothing."""
    return render(
        request,
        "transfers/public/unavailable.html",
        {"school": transfer.organisation if transfer else None},
        status=404 if transfer is None else 410,
    )


def locked(request: HttpRequest, transfer: Transfer) -> HttpResponse:
    return _problem(
        request,
        transfer,
        status=403,
        heading="This transfer is locked",
        lines=["Too many wrong codes were entered. The sender has been told and can unlock it."],
    )


def _problem(
    request: HttpRequest,
    transfer: Transfer,
    *,
    status: int,
    heading: str,
    lines: list[str],
    back: str | None = None,
) -> HttpResponse:
    return render(
        request,
        "transfers/public/problem.html",
        {"school": transfer.organisation, "heading": heading, "lines": lines, "token": back},
        status=status,
    )


# --- The pages ---------------------------------------------------------------------------


@require_GET
def landing(request: HttpRequest, token: str) -> HttpResponseBase:
    """Where the email's link leads. Every opening is in the access log, refused ones too."""
    transfer = services.find_by_token(token)
    if transfer is None:
        return private(unavailable(request, None))
    services.note_link_opened(transfer, visit(request))
    if stopped := refused(request, transfer):
        return private(stopped)
    if has_grant(request, transfer):
        return private(redirect("transfers_public:files", token=token))
    return private(
        render(
            request,
            "transfers/public/landing.html",
            {"school": transfer.organisation, "transfer": transfer, "token": token},
        )
    )


@require_http_methods(["GET", "POST"])
@recipient_view
def code(request: HttpRequest, transfer: Transfer, token: str) -> HttpResponseBase:
    if request.method == "POST" and request.POST.get("action") == "send":
        return _send_code(request, transfer, token)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            right = services.verify_code(transfer, form.cleaned_data["code"], visit(request))
        except ValidationError as problem:
            transfer.refresh_from_db()
            if stopped := refused(request, transfer):
                return stopped
            form.add_error("code", problem.messages)
        else:
            if right:
                give_grant(request, transfer)
                return redirect("transfers_public:files", token=token)
            form.add_error("code", _wrong_code_message(transfer))
    return render(
        request,
        "transfers/public/code.html",
        {"school": transfer.organisation, "form": form, "token": token},
    )


def _send_code(request: HttpRequest, transfer: Transfer, token: str) -> HttpResponseBase:
    try:
        services.send_code(transfer, visit(request))
    except ValidationError as problem:
        messages.error(request, " ".join(problem.messages))
    else:
        messages.success(
            request,
            "We have emailed you a code, to the address this link was sent to. "
            "It works for 15 minutes.",
        )
    return redirect("transfers_public:code", token=token)


def _wrong_code_message(transfer: Transfer) -> str:
    transfer.refresh_from_db(fields=["wrong_codes"])
    left = max(WRONG_CODES_BEFORE_LOCK - transfer.wrong_codes, 0)
    tries = "try" if left == 1 else "tries"
    return (
        "The code is not right. Check the latest email and try again. "
        f"You have {left} {tries} left."
    )


@require_GET
@recipient_view
def files(request: HttpRequest, transfer: Transfer, token: str) -> HttpResponseBase:
    if not has_grant(request, transfer):
        return redirect("transfers_public:landing", token=token)
    return _files_page(request, transfer, token, ReplyForm())


@require_POST
@uploads_limited_to(services.max_file_bytes)
@recipient_view
def reply(request: HttpRequest, transfer: Transfer, token: str) -> HttpResponseBase:
    if not has_grant(request, transfer):
        return redirect("transfers_public:landing", token=token)
    form = ReplyForm(request.POST, request.FILES, too_large=too_large_uploads(request))
    if form.is_valid():
        try:
            services.receive_reply(
                transfer,
                message=form.cleaned_data["message"],
                files=form.cleaned_data["files"],
                visit=visit(request),
            )
        except ValidationError as problem:
            transfer.refresh_from_db()
            if stopped := refused(request, transfer):
                return stopped
            _add_errors(form, problem)
        else:
            messages.success(
                request,
                f"Your files have been sent to {transfer.organisation.name}. "
                "They are encrypted like these.",
            )
            return redirect("transfers_public:files", token=token)
    return _files_page(request, transfer, token, form)


def _add_errors(form: ReplyForm, problem: ValidationError) -> None:
    if not hasattr(problem, "error_dict"):
        form.add_error(None, problem)
        return
    for field, errors in problem.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _files_page(
    request: HttpRequest, transfer: Transfer, token: str, form: ReplyForm
) -> HttpResponse:
    return render(
        request,
        "transfers/public/files.html",
        {
            "school": transfer.organisation,
            "transfer": transfer,
            "token": token,
            "message": services.message_of(transfer),
            "files": services.recipient_files(transfer),
            "form": form,
            "choose_again": request.method == "POST",
            "max_size": services.size_label(services.max_file_bytes()),
        },
    )


@require_GET
@recipient_view
def download(
    request: HttpRequest, transfer: Transfer, token: str, file: uuid.UUID
) -> HttpResponseBase:
    """One file, decrypted as it goes; counted against the downloads allowed."""
    if not has_grant(request, transfer):
        return redirect("transfers_public:landing", token=token)
    try:
        got = services.download_for_recipient(transfer, file, visit(request))
    except services.DamagedFile:
        return _problem(
            request,
            transfer,
            status=422,
            heading="This file is damaged",
            lines=[
                "This file is damaged and cannot be opened safely, so it was not sent to you. "
                "The sender has been told.",
                "Contact the person who sent it if you still need it.",
            ],
            back=token,
        )
    except ValidationError as problem:
        messages.error(request, " ".join(problem.messages))
        return redirect("transfers_public:files", token=token)
    return file_response(got)


# --- The session's grant -----------------------------------------------------------------


def has_grant(request: HttpRequest, transfer: Transfer) -> bool:
    """Whether this browser entered the right code for `transfer` within the last hour."""
    granted = request.session.get(GRANTS, {}).get(str(transfer.uuid))
    return isinstance(granted, str) and _fresh(granted)


def give_grant(request: HttpRequest, transfer: Transfer) -> None:
    """Remember the right code; a new session key, as at a sign-in, so a key someone
    planted in the browser beforehand (session fixation) opens nothing."""
    grants = {
        key: value
        for key, value in request.session.get(GRANTS, {}).items()
        if isinstance(value, str) and _fresh(value)
    }
    grants[str(transfer.uuid)] = timezone.now().isoformat()
    request.session.cycle_key()
    request.session[GRANTS] = grants


def _fresh(granted_at: str) -> bool:
    try:
        when = datetime.fromisoformat(granted_at)
    except ValueError:
        return False
    return timezone.now() - when < GRANT_LASTS
