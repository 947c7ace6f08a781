"""An agreement in force: signatures, the signed copy, review, termination, what became of the data.

HTTP glue only: every change goes through infoshare.agreements.lifecycle.
Each page loads the agreement (404 for another school's), then asks
`refuse_unless_allowed` whether its step may be taken now: a role that never
may gets 403, a step out of order goes back to the agreement with a message.
Uploads stop being received once they pass the size limit (see
`uploads_limited`), so a huge file is never stored whole.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods

from infoshare.agreements import lifecycle
from infoshare.agreements.forms.lifecycle import (
    DataFateForm,
    ReviewForm,
    SignatureForm,
    SignedCopyForm,
    TerminationForm,
)
from infoshare.agreements.models import (
    Agreement,
    AgreementReview,
    AgreementVersion,
    Party,
    ReviewOutcome,
)
from infoshare.agreements.rules import (
    can_keep_register,
    can_terminate_agreement,
    can_view_agreements,
)
from infoshare.agreements.services import open_review
from infoshare.agreements.views.common import refuse_unless_allowed, visible_agreement
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.uploads import too_large_uploads, uploads_limited
from infoshare.core.views import _call_service, _posted

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def _files(request: HttpRequest) -> Any:
    return request.FILES if request.method == "POST" else None


# --- Signatures and the signed copy ------------------------------------------------------


@require_http_methods(["GET", "POST"])
@organisation_view(can_view_agreements)
def record_signature(request: OrganisationRequest, reference: str, party: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    signatory = _party_of(agreement, party)
    if refused := refuse_unless_allowed(request, agreement, "record_signatures"):
        return refused
    form = SignatureForm(_posted(request), initial=SignatureForm.initial_for(signatory))
    if form.is_bound and form.is_valid():
        signed = _call_service(
            form,
            lifecycle.record_signature,
            signatory,
            actor=request.user,
            signature=form.signature(),
        )
        if signed is not None:
            messages.success(
                request,
                f"Signature recorded: {signed.signatory_name} signed for "
                f"{signed.organisation} on {_day(signed.signed_on)}.",
            )
            return redirect(_section(agreement, "signatures"))
    return render(
        request,
        "agreements/signature.html",
        {"agreement": agreement, "party": signatory, "form": form},
    )


def _party_of(agreement: Agreement, party: str) -> Party:
    """A party of this agreement only: any other is a 404."""
    return get_object_or_404(
        Party.objects.select_related("organisation"), agreement=agreement, uuid=party
    )


@require_http_methods(["GET", "POST"])
@uploads_limited
@organisation_view(can_view_agreements)
def upload_signed_copy(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "upload_signed_copy"):
        return refused
    form = SignedCopyForm(_posted(request), _files(request), too_large=too_large_uploads(request))
    if form.is_bound and form.is_valid():
        uploaded = _call_service(
            form,
            lifecycle.upload_signed_copy,
            agreement,
            actor=request.user,
            upload=form.cleaned_data["signed_copy"],
        )
        if uploaded is not None:
            messages.success(request, f"The signed copy of version {uploaded.version} is uploaded.")
            return redirect(_section(agreement, "signed-copy"))
    return render(
        request,
        "agreements/signed_copy.html",
        {"agreement": agreement, "form": form, "parties": _parties(agreement)},
    )


# --- Review -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@organisation_view(can_keep_register)
def start_review(request: OrganisationRequest, reference: str) -> HttpResponse:
    """A confirmation page; posting it opens the review and goes on to its questions."""
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "start_review"):
        return refused
    if request.method == "POST":
        try:
            lifecycle.start_review(agreement, actor=request.user)
        except ValidationError as error:
            # Someone else started it, or changed the agreement, meanwhile.
            messages.error(request, " ".join(error.messages))
            return redirect(agreement)
        messages.success(
            request,
            f"The review of {agreement.reference} has started. Answer the questions when you "
            "have checked the agreement with the other parties.",
        )
        return redirect(_url("complete_review", agreement))
    return render(
        request,
        "agreements/start_review.html",
        {"agreement": agreement, "today": timezone.localdate()},
    )


@require_http_methods(["GET", "POST"])
@organisation_view(can_keep_register)
def complete_review(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "complete_review"):
        return refused
    review = open_review(agreement)
    form = ReviewForm(_posted(request))
    if form.is_bound and form.is_valid():
        done = _call_service(
            form,
            lifecycle.complete_review,
            agreement,
            actor=request.user,
            answers=form.answers(),
        )
        if done is not None:
            messages.success(request, _reviewed_message(done))
            return redirect(agreement)
    return render(
        request,
        "agreements/review.html",
        {"agreement": agreement, "review": review, "form": form},
    )


def _reviewed_message(review: AgreementReview) -> str:
    agreement = review.agreement  # as the review left it: a new version, or a new period
    if review.outcome == ReviewOutcome.AMEND:
        return (
            f"Review recorded. Version {agreement.version} is now a draft for you to amend, "
            f"then send to the DPO for advice. Version {agreement.version - 1} stays in force "
            "until it is approved."
        )
    if review.outcome == ReviewOutcome.TERMINATE:
        return (
            "Review recorded: the agreement is to be terminated. The headteacher or the chair "
            "must now record the termination, with every party's agreement to it."
        )
    return f"Review recorded. The next review is due by {_day(agreement.review_due)}."


# --- Termination and what happened to the data -------------------------------------------


@require_http_methods(["GET", "POST"])
@organisation_view(can_terminate_agreement)
def terminate(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "terminate"):
        return refused
    parties = _parties(agreement)
    form = TerminationForm(
        _posted(request), parties=parties, initial=_termination_initial(agreement)
    )
    if form.is_bound and form.is_valid():
        ended = _call_service(
            form,
            lifecycle.terminate_agreement,
            agreement,
            actor=request.user,
            termination=form.termination(),
        )
        if ended is not None:
            messages.success(
                request,
                f"{ended.reference} is terminated. The information manager and the DPO have "
                "been emailed. Once the data is returned or destroyed, confirm what happened "
                "to it.",
            )
            return redirect(_section(agreement, "termination"))
    return render(request, "agreements/terminate.html", {"agreement": agreement, "form": form})


def _termination_initial(agreement: Agreement) -> dict[str, str]:
    """Start from the agreement's own disposal terms, and the reasons of a review that ended it."""
    latest = agreement.reviews.filter(completed_at__isnull=False).first()
    reasons = latest.outcome_reasons if latest and latest.outcome == "terminate" else ""
    return {"reasons": reasons, "disposal_arrangement": agreement.return_or_disposal}


@require_http_methods(["GET", "POST"])
@uploads_limited
@organisation_view(can_keep_register)
def confirm_data_fate(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "confirm_data_fate"):
        return refused
    form = DataFateForm(_posted(request), _files(request), too_large=too_large_uploads(request))
    if form.is_bound and form.is_valid():
        expired = _call_service(
            form, lifecycle.confirm_data_fate, agreement, actor=request.user, answers=form.answers()
        )
        if expired is not None:
            messages.success(
                request,
                f"{expired.reference} has expired and shows so on the register. The "
                "information manager and the DPO have been emailed.",
            )
            return redirect(_section(agreement, "termination"))
    return render(
        request,
        "agreements/data_fate.html",
        {"agreement": agreement, "form": form, "parties": _parties(agreement)},
    )


# --- Versions -----------------------------------------------------------------------------


@require_http_methods(["GET"])
@organisation_view(can_view_agreements)
def version_detail(request: OrganisationRequest, reference: str, number: int) -> HttpResponse:
    """Version `number` as approved, its signatures and signed copy, and what it changed."""
    agreement = visible_agreement(request, reference)
    version = get_object_or_404(
        AgreementVersion.objects.select_related("approved_by"), agreement=agreement, number=number
    )
    # Until a later version is drafted, the signatures of the latest approved
    # version are on the parties, and its signed copy on the agreement.
    current = version.number == agreement.version
    return render(
        request,
        "agreements/version.html",
        {
            "agreement": agreement,
            "version": version,
            "current": current,
            "in_force": version.number == agreement.version_in_force,
            "signatures": _current_signatures(agreement) if current else _filed_signatures(version),
            "has_signed_copy": bool(agreement.signed_copy if current else version.signed_copy),
        },
    )


def _current_signatures(agreement: Agreement) -> list[dict[str, Any]]:
    return [
        {
            "party": str(party.organisation),
            "name": party.signatory_name,
            "role": party.signatory_role,
            "signed_on": party.signed_on,
        }
        for party in _parties(agreement)
    ]


def _filed_signatures(version: AgreementVersion) -> list[dict[str, Any]]:
    """The signatures filed with a version, their dates as dates (they are kept as text)."""
    return [
        {
            **signature,
            "signed_on": datetime.date.fromisoformat(signature["signed_on"])
            if signature.get("signed_on")
            else None,
        }
        for signature in version.signatures
    ]


# --- helpers ------------------------------------------------------------------------------


def _parties(agreement: Agreement) -> list[Party]:
    return list(agreement.parties.select_related("organisation"))


def _day(day: datetime.date | None) -> str:
    """A date in a message as pages show it (the project's format: 22 November 2026)."""
    return date_format(day) if day else ""


def _url(name: str, agreement: Agreement) -> str:
    return reverse(
        f"agreements:{name}",
        kwargs={"org": agreement.organisation.slug, "reference": agreement.reference},
    )


def _section(agreement: Agreement, anchor: str) -> str:
    """The agreement's page at one of the sections of includes/in_force.html."""
    return f"{agreement.get_absolute_url()}#{anchor}"
