"""Recording a decision, reading one, correcting it, and the DPO's reviews.

HTTP glue only: every change goes through infoshare.decisions.services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from infoshare.core.models import Person
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.decisions import services
from infoshare.decisions.forms import (
    CorrectionForm,
    DecisionForm,
    ReviewForm,
    initial_for_new,
    initial_from,
)
from infoshare.decisions.models import Decision
from infoshare.decisions.rules import (
    can_record_decision,
    can_review_disclosures,
    can_view_decisions,
)
from infoshare.transfers.rules import can_send_transfers

if TYPE_CHECKING:
    from django.http import HttpResponse

    from infoshare.decisions.models import DecisionQuerySet

REVIEWS_PER_PAGE = 25
# The button that searches for people inside the form, without recording anything.
FIND_PEOPLE = "find-people"


@organisation_view(can_record_decision)
def record_decision(request: OrganisationRequest) -> HttpResponse:
    initial = initial_for_new(actor=request.user, person=_person_asked_for(request))
    form = decision_form_for(request, DecisionForm, initial=initial)
    if form.is_bound and form.is_valid():
        decision = _call_service(
            form,
            services.record_decision,
            request.organisation,
            actor=request.user,
            draft=form.draft(),
        )
        if decision is not None:
            messages.success(request, _recorded_message(decision))
            return redirect(decision)
    return render(request, "decisions/record.html", decision_form_context(request, form))


@organisation_view(can_view_decisions)
def decision_detail(request: OrganisationRequest, reference: str) -> HttpResponse:
    decision = _visible_decision(request, reference)
    services.note_view(decision, actor=request.user)
    superseded_by = Decision.objects.filter(supersedes=decision).only("reference").first()
    review = getattr(decision, "review", None) if decision.needs_review else None
    return render(
        request,
        "decisions/detail.html",
        {
            "decision": decision,
            "superseded_by": superseded_by,
            "review": review,
            "may_correct": services.can_correct(decision, request.user),
            # A current share may be sent from here as a secure transfer (issue 9).
            "may_send_securely": (
                superseded_by is None
                and decision.is_share
                and can_send_transfers(request.user, request.organisation)
            ),
            "may_review": (
                superseded_by is None
                and review is None
                and decision.needs_review
                and can_review_disclosures(request.user, request.organisation)
            ),
        },
    )


@organisation_view(can_record_decision)
def correct_decision(request: OrganisationRequest, reference: str) -> HttpResponse:
    original = _visible_decision(request, reference)
    if not services.can_correct(original, request.user):
        return _refuse_correction(request, original)
    form = decision_form_for(request, CorrectionForm, initial=initial_from(original))
    if form.is_bound and form.is_valid():
        correction = _call_service(
            form,
            services.correct_decision,
            original,
            actor=request.user,
            draft=form.draft(),
            reason=form.cleaned_data["correction_reason"],
        )
        if correction is not None:
            messages.success(
                request, f"{correction.reference} recorded. It corrects {original.reference}."
            )
            return redirect(correction)
    context = decision_form_context(request, form)
    context["original"] = original
    return render(request, "decisions/correct.html", context)


@organisation_view(can_review_disclosures)
def review_queue(request: OrganisationRequest) -> HttpResponse:
    awaiting: DecisionQuerySet = (
        Decision.objects.for_user(request.user, request.organisation)
        .needing_review()
        .select_related("purpose", "recipient_organisation", "recorded_by")
        .order_by("decided_on", "recorded_at")
    )
    page = Paginator(awaiting, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "decisions/review_queue.html", {"page": page})


@organisation_view(can_review_disclosures)
def review_disclosure(request: OrganisationRequest, reference: str) -> HttpResponse:
    decision = _visible_decision(request, reference)
    form = ReviewForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            services.review_disclosure(decision, actor=request.user, **form.answers())
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
            return redirect(decision)
        messages.success(request, f"Your review of {decision.reference} is recorded.")
        return redirect("decisions:review_queue", org=request.organisation.slug)
    services.note_view(decision, actor=request.user)
    return render(request, "decisions/review.html", {"decision": decision, "form": form})


# --- helpers ------------------------------------------------------------------------------


def _visible_decision(request: OrganisationRequest, reference: str) -> Decision:
    """A decision of this organisation the user may see; any other is a 404."""
    return get_object_or_404(
        Decision.objects.for_user(request.user, request.organisation).select_related(
            "purpose",
            "lawful_basis",
            "recipient_organisation",
            "decided_by",
            "recorded_by",
            "supersedes",
            "organisation",
        ),
        reference=reference,
    )


def _person_asked_for(request: OrganisationRequest) -> Person | None:
    """The person named by ?person=<uuid> (from their page), if they are in this school."""
    wanted = request.GET.get("person", "")
    try:
        return Person.objects.in_organisation(request.organisation).filter(uuid=wanted).first()
    except ValidationError:
        return None


def decision_form_for(
    request: OrganisationRequest, form_class: type[DecisionForm], *, initial: Any
) -> Any:
    """The form as submitted; after "Find", as typed so far but without error messages.

    Public, with `decision_form_context`: any page that records a decision
    (the safeguarding "permit sharing outside the school" page too) uses them.
    """
    if request.method == "POST" and request.POST.get("action") == FIND_PEOPLE:
        return form_class(organisation=request.organisation, initial=_as_initial(request))
    return form_class(_posted(request), organisation=request.organisation, initial=initial)


def _as_initial(request: OrganisationRequest) -> dict[str, Any]:
    """Submitted answers as a form's starting values, so a search loses nothing typed."""
    data = request.POST
    multiple = {"people", "categories", "conditions", "checks"}
    return {
        name: data.getlist(name) if name in multiple else data.get(name)
        for name in data
        if name not in {"csrfmiddlewaretoken", "action"}
    }


def decision_form_context(request: OrganisationRequest, form: DecisionForm) -> dict[str, Any]:
    """What `decisions/partials/decision_fields.html` needs besides the form: the person finder."""
    search = request.POST.get("person_search", "") if request.method == "POST" else ""
    return {
        "form": form,
        "chosen_people": form.chosen_people(),
        "found_people": form.found_people(search),
        "searched": request.POST.get("action") == FIND_PEOPLE,
        "find_action": FIND_PEOPLE,
    }


def _recorded_message(decision: Decision) -> str:
    if decision.needs_review:
        return f"{decision.reference} recorded. The DPO will review this disclosure."
    return f"{decision.reference} recorded."


def _refuse_correction(request: OrganisationRequest, decision: Decision) -> HttpResponse:
    latest = Decision.objects.filter(supersedes=decision).only("reference").first()
    if latest is None:
        raise PermissionDenied("Only the person who recorded it, the DPO or the headteacher can.")
    messages.error(
        request,
        f"{decision.reference} has already been corrected by {latest.reference}. "
        "Correct the latest record instead.",
    )
    return redirect(latest)
