"""One safeguarding record: sharing it, reading it, acknowledging, withdrawing, filing the form.

HTTP glue only: every change goes through infoshare.safeguarding.services.
Each record page first finds the record among those the person may read
(404 otherwise), then asks `refuse_unless_allowed` whether its step may be
taken now. Reading a record and downloading its form are audit events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from infoshare.core.models import Person, PersonKind
from infoshare.core.pdf import render_pdf
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.safeguarding import documents, services
from infoshare.safeguarding.forms import ShareForm, SigningForm, WithdrawForm
from infoshare.safeguarding.models import Part, ReshareRequest, Share
from infoshare.safeguarding.rules import can_lead_safeguarding
from infoshare.safeguarding.views.common import (
    refuse_other_methods,
    refuse_unless_allowed,
    visible_share,
)

if TYPE_CHECKING:
    from infoshare.core.models import User


@organisation_view(can_lead_safeguarding)
def share_information(request: OrganisationRequest) -> HttpResponse:
    form = ShareForm(
        _posted(request),
        organisation=request.organisation,
        user=request.user,
        initial={"pupil": _pupil_asked_for(request)},
    )
    if form.is_bound and form.is_valid():
        share = _call_service(
            form,
            services.share_information,
            request.organisation,
            actor=request.user,
            answers=form.answers(),
            signing=form.signing(),
        )
        if share is not None:
            messages.success(request, _shared_message(share))
            return redirect(share)
    return render(request, "safeguarding/new.html", {"form": form})


@organisation_view()
def detail(request: OrganisationRequest, reference: str) -> HttpResponse:
    share = visible_share(request, reference)
    if refused := refuse_other_methods(request, "GET", "HEAD"):
        return refused
    services.note_view(share, actor=request.user)
    actions = services.actions_for(share, request.user)
    return render(
        request,
        "safeguarding/detail.html",
        {
            "share": share,
            "actions": actions,
            "parts": documents.signed_parts(share),
            "requests": _requests_shown(share, request.user, everyone=actions.see_access),
            "readers": _readers(share) if actions.see_access else [],
        },
    )


@organisation_view()
def acknowledge(request: OrganisationRequest, reference: str) -> HttpResponse:
    share = visible_share(request, reference)
    if refused := refuse_unless_allowed(request, share, "acknowledge"):
        return refused
    form = SigningForm(_posted(request), user=request.user, part=Part.RECIPIENT)
    if form.is_bound and form.is_valid():
        done = _call_service(
            form,
            services.acknowledge_share,
            share,
            actor=request.user,
            signing=form.signing(),
        )
        if done is not None:
            messages.success(
                request,
                f"You have acknowledged {share.reference}. Do not share it further "
                "without a designated safeguarding lead's permission.",
            )
            return redirect(share)
    # The page shows what was shared, before it is signed for: a read of the record
    # (recorded when it is opened, not again when it comes back with errors).
    if request.method == "GET":
        services.note_view(share, actor=request.user)
    return render(request, "safeguarding/acknowledge.html", {"share": share, "form": form})


@organisation_view()
def withdraw(request: OrganisationRequest, reference: str) -> HttpResponse:
    share = visible_share(request, reference)
    if refused := refuse_unless_allowed(request, share, "withdraw"):
        return refused
    form = WithdrawForm(_posted(request))
    if form.is_bound and form.is_valid():
        done = _call_service(
            form,
            services.withdraw_share,
            share,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        if done is not None:
            messages.success(
                request, f"{share.reference} is withdrawn. {share.recipient} has been told."
            )
            return redirect(share)
    return render(request, "safeguarding/withdraw.html", {"share": share, "form": form})


@organisation_view()
def record_attached(request: OrganisationRequest, reference: str) -> HttpResponse:
    share = visible_share(request, reference)
    if refused := refuse_other_methods(request, "POST"):
        return refused
    if refused := refuse_unless_allowed(request, share, "record_attached"):
        return refused
    try:
        services.record_attached_to_file(share, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(share)
    messages.success(request, f"{share.reference} is marked as attached to the child's file.")
    return redirect(share)


@organisation_view()
def form_pdf(request: OrganisationRequest, reference: str) -> HttpResponse:
    share = visible_share(request, reference)
    if refused := refuse_other_methods(request, "GET", "HEAD"):
        return refused
    if refused := refuse_unless_allowed(request, share, "print_form"):
        return refused
    context = documents.form_context(share, produced=timezone.localtime(), produced_by=request.user)
    pdf = render_pdf("safeguarding/form_pdf.html", context, request=request)
    services.note_form_downloaded(share, actor=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{share.reference}-sharing-form.pdf"'
    return response


# --- helpers ------------------------------------------------------------------------------


def _pupil_asked_for(request: OrganisationRequest) -> Person | None:
    """The pupil named by ?pupil=<uuid> (from the list by pupil), if one of this school's."""
    wanted = request.GET.get("pupil", "")
    try:
        return (
            Person.objects.in_organisation(request.organisation)
            .filter(kind=PersonKind.PUPIL, uuid=wanted)
            .first()
        )
    except ValidationError:
        return None


def _shared_message(share: Share) -> str:
    return (
        f"{share.reference} shared with {share.recipient}. They have been asked to acknowledge it."
    )


def _requests_shown(share: Share, user: User, *, everyone: bool) -> list[ReshareRequest]:
    """A DSL sees every request about the record; the recipient, the ones they made."""
    requests = share.reshare_requests.select_related(
        "requested_by",
        "answered_by",
        "colleague",
        "outside_organisation",
        "decision",
        "resulting_share",
    ).order_by("requested_at", "pk")
    return list(requests if everyone else requests.filter(requested_by=user))


def _readers(share: Share) -> list[dict[str, Any]]:
    return [
        {"who": event.actor, "what": services.READ_VERBS[event.verb], "when": event.created_at}
        for event in services.who_has_read(share)
    ]
