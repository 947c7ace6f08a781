"""Sharing further: the recipient asks, and a DSL refuses or permits (issue 6, item 4).

HTTP glue only: every change goes through infoshare.safeguarding.services.
A permitted internal share becomes a new record, signed by the permitting
DSL; a permitted external one is recorded in the decision log, with the
decision log's own form (and its person finder), filled in from the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone

from infoshare.core.models import DataCategory, Purpose, SpecialCategoryCondition
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.decisions.forms import DecisionForm
from infoshare.decisions.models import Outcome
from infoshare.decisions.views.records import decision_form_context, decision_form_for
from infoshare.safeguarding import services
from infoshare.safeguarding.forms import PermitInternalForm, RefuseForm, ReshareForm
from infoshare.safeguarding.models import (
    ReshareKind,
    ReshareRequest,
    ReshareStatus,
    Share,
    leads_safeguarding,
)
from infoshare.safeguarding.views.common import (
    refuse_unless_allowed,
    visible_request,
    visible_share,
)

if TYPE_CHECKING:
    import uuid

    from django.http import HttpResponse

# The decision log's reference items a safeguarding share outside the school starts from.
SAFEGUARDING_PURPOSE = "safety-and-protection"
SAFEGUARDING_CATEGORY = "safeguarding"
SAFEGUARDING_CONDITIONS = ("art9-g-substantial-public-interest", "sch1-18-safeguarding")


@organisation_view()
def request_reshare(request: OrganisationRequest, reference: str) -> HttpResponse:
    share = visible_share(request, reference)
    if refused := refuse_unless_allowed(request, share, "request_reshare"):
        return refused
    form = ReshareForm(_posted(request), share=share, user=request.user)
    if form.is_bound and form.is_valid():
        asked = _call_service(
            form, services.request_reshare, share, actor=request.user, answers=form.answers()
        )
        if asked is not None:
            messages.success(
                request, "Your request has been sent to the designated safeguarding leads."
            )
            return redirect(asked)
    return render(request, "safeguarding/request_reshare.html", {"share": share, "form": form})


@organisation_view()
def request_detail(
    request: OrganisationRequest, reference: str, request_uuid: uuid.UUID
) -> HttpResponse:
    share = visible_share(request, reference)
    asked = visible_request(share, request_uuid)
    is_lead = leads_safeguarding(request.user, request.organisation)
    if not is_lead and asked.requested_by_id != request.user.pk:
        raise PermissionDenied("Only the person who asked and the safeguarding leads see this.")
    may_answer = services.may_answer(asked, request.user)
    form = RefuseForm(_posted(request))
    if form.is_bound:
        if refused := _refuse_unless_may_answer(request, asked, may_answer):
            return refused
        if form.is_valid():
            answered = _call_service(
                form,
                services.refuse_reshare,
                asked,
                actor=request.user,
                reasons=form.cleaned_data["reasons"],
            )
            if answered is not None:
                messages.success(
                    request,
                    f"You refused the request to share {share.reference} further. "
                    f"{asked.requested_by} has been told.",
                )
                return redirect(asked)
    return render(
        request,
        "safeguarding/request.html",
        {
            "share": share,
            "asked": asked,
            "is_lead": is_lead,
            "may_answer": may_answer,
            "form": form,
        },
    )


@organisation_view()
def permit(request: OrganisationRequest, reference: str, request_uuid: uuid.UUID) -> HttpResponse:
    share = visible_share(request, reference)
    asked = visible_request(share, request_uuid)
    if refused := _refuse_unless_may_answer(
        request, asked, services.may_answer(asked, request.user)
    ):
        return refused
    if asked.kind == ReshareKind.INTERNAL:
        return _permit_internal(request, share, asked)
    return _permit_external(request, share, asked)


def _permit_internal(
    request: OrganisationRequest, share: Share, asked: ReshareRequest
) -> HttpResponse:
    form = PermitInternalForm(
        _posted(request), user=request.user, initial={"description": share.description}
    )
    if form.is_bound and form.is_valid():
        new_share = _call_service(
            form,
            services.permit_internal_reshare,
            asked,
            actor=request.user,
            reasons=form.cleaned_data["reasons"],
            description=form.cleaned_data["description"],
            signing=form.signing(),
        )
        if new_share is not None:
            messages.success(
                request,
                f"{new_share.reference} shared with {new_share.recipient}, as permitted on "
                f"{share.reference}. They have been asked to acknowledge it.",
            )
            return redirect(new_share)
    # The page shows what was shared (the description to cut down): a read of the record
    # (recorded when it is opened, not again when it comes back with errors).
    if request.method == "GET":
        services.note_view(share, actor=request.user)
    return render(
        request,
        "safeguarding/permit_internal.html",
        {"share": share, "asked": asked, "form": form},
    )


def _permit_external(
    request: OrganisationRequest, share: Share, asked: ReshareRequest
) -> HttpResponse:
    form = decision_form_for(
        request, DecisionForm, initial=_decision_initial(request, share, asked)
    )
    if form.is_bound and form.is_valid():
        decision = _call_service(
            form,
            services.permit_external_reshare,
            asked,
            actor=request.user,
            draft=form.draft(),
        )
        if decision is not None:
            messages.success(
                request,
                f"{decision.reference} recorded: sharing {share.reference} with "
                f"{asked.whom} is permitted. {asked.requested_by} has been told.",
            )
            return redirect(decision)
    context = decision_form_context(request, form)
    context.update({"share": share, "asked": asked})
    return render(request, "safeguarding/permit_external.html", context)


# --- helpers ------------------------------------------------------------------------------


def _refuse_unless_may_answer(
    request: OrganisationRequest, asked: ReshareRequest, may_answer: bool
) -> HttpResponse | None:
    """None when the person may answer the request now; 403 or back to it otherwise."""
    if may_answer:
        return None
    if not leads_safeguarding(request.user, request.organisation):
        raise PermissionDenied("Only a designated safeguarding lead answers these requests.")
    if asked.requested_by_id == request.user.pk:
        raise PermissionDenied(
            "You asked for this, so another designated safeguarding lead must answer it."
        )
    if asked.status != ReshareStatus.REQUESTED:
        messages.error(
            request,
            f"This request has been answered already: "
            f"\u201c{asked.get_status_display().lower()}\u201d.",
        )
    else:
        messages.error(request, services.out_of_order_message(asked.share))
    return redirect(asked)


def _decision_initial(
    request: OrganisationRequest, share: Share, asked: ReshareRequest
) -> dict[str, Any]:
    """The decision log's form as a safeguarding share outside the school starts it.

    The DSL finishes what the information is and checks the rest: the
    reasons they give are the reasons for permitting.
    """
    return {
        "people": [str(share.pupil.uuid)],
        "information": f"Information from safeguarding record {share.reference}: ",
        "categories": list(DataCategory.objects.filter(code=SAFEGUARDING_CATEGORY)),
        "recipient_organisation": asked.outside_organisation_id,
        "recipient_organisation_name": asked.outside_organisation_name,
        "recipient_person": asked.outside_person,
        "purpose": Purpose.objects.filter(code=SAFEGUARDING_PURPOSE).first(),
        "outcome": Outcome.SHARED,
        "conditions": list(
            SpecialCategoryCondition.objects.filter(code__in=SAFEGUARDING_CONDITIONS)
        ),
        "decided_by": request.user.pk,
        "decided_on": timezone.localdate(),
    }
