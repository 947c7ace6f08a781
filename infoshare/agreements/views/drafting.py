"""Starting an agreement, the page everyone reads, and the drafting steps up to approval.

HTTP glue only: every change goes through infoshare.agreements.services, and
what a person may do with an agreement is `services.actions_for`, so that a
page offers only the steps the services will accept. Each step's page loads
the agreement (404 for another school's), then asks `refuse_unless_allowed`:
a role that never may gets 403, a step out of order goes back to the
agreement with a message. A step that only confirms shows its page on GET and
acts on POST.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from infoshare.agreements import services
from infoshare.agreements.forms.drafting import (
    AdviceForm,
    ApprovalForm,
    ChecklistForm,
    ConfirmForm,
    ContentForm,
    PartyForm,
    StartForm,
    WithdrawForm,
    checklist_initial,
    content_initial,
    start_initial,
)
from infoshare.agreements.models import (
    Agreement,
    AgreementReview,
    AgreementVersion,
    Article28,
    Party,
    unsettled_points,
)
from infoshare.agreements.rules import (
    can_advise_on_agreement,
    can_approve_agreement,
    can_draft_agreement,
    can_view_agreements,
)
from infoshare.agreements.views.common import refuse_unless_allowed, visible_agreement
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.proposals.models import Proposal

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.forms import Form
    from django.http import HttpResponse

GET_AND_POST = ["GET", "POST"]
# The people an agreement names at its steps, read with it rather than one query each.
PEOPLE_OF_AN_AGREEMENT = (
    "drafted_by",
    "advice_requested_by",
    "advised_by",
    "approved_by",
    "signed_copy_uploaded_by",
    "terminated_by",
    "expired_by",
    "withdrawn_by",
)
# Where each gap before advice is put right: the field of the content page, or the parties.
GAP_ANCHORS = {
    "purpose": "id_purpose",
    "data_shared": "id_data_shared",
    "method": "id_method",
    "security_measures": "id_security_measures",
    "retention": "id_retention",
    "return_or_disposal": "id_return_or_disposal",
    "lawful_bases": "id_lawful_bases_0",
    "start_date": "id_start_date",
}


# --- Starting an agreement ----------------------------------------------------------------


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def start_agreement(request: OrganisationRequest) -> HttpResponse:
    proposal = _proposal_to_start_from(request)
    prefill, parties = (
        services.content_from_proposal(proposal) if proposal is not None else (None, [])
    )
    form = StartForm(
        _posted(request), organisation=request.organisation, initial=start_initial(prefill)
    )
    if form.is_bound and form.is_valid():
        agreement = _call_service(
            form,
            _errors_renamed(services.create_agreement, {"parent": form.parent_field}),
            request.organisation,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            content=form.content(prefill),
            parties=parties,
            proposal=proposal,
        )
        if agreement is not None:
            messages.success(request, _started_message(agreement, proposal))
            return redirect(agreement)
    return render(
        request,
        "agreements/start.html",
        {
            "form": form,
            "kind_options": form.kind_options(),
            "proposal": proposal,
            "prefill": prefill,
            "prefill_parties": [party.organisation for party in parties],
        },
    )


def _proposal_to_start_from(request: OrganisationRequest) -> Proposal | None:
    """The approved proposal of `?proposal=`: any other (unapproved, another school's) is 404."""
    reference = request.GET.get("proposal", "").strip()
    if not reference:
        return None
    proposal = get_object_or_404(
        Proposal.objects.for_user(request.user, request.organisation)
        .select_related("organisation")
        .prefetch_related("categories", "recipients"),
        reference=reference,
    )
    if not proposal.is_approved:
        raise Http404("Only an approved proposal gives an agreement.")
    return proposal


def _errors_renamed(service: Callable[..., Any], names: dict[str, str]) -> Callable[..., Any]:
    """`service`, its refusals moved to the fields the page names differently."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return service(*args, **kwargs)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                raise
            raise ValidationError(
                {names.get(name, name): errors for name, errors in error.error_dict.items()}
            ) from error

    return call


def _started_message(agreement: Agreement, proposal: Proposal | None) -> str:
    started = f"{agreement.reference} started as a draft."
    if proposal is not None:
        started += f" What proposal {proposal.reference} says is filled in: check it."
    return f"{started} Complete its content, then ask the DPO for advice."


# --- The agreement ------------------------------------------------------------------------


@require_GET
@organisation_view(can_view_agreements)
def agreement_detail(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = _agreement_in_full(request, reference)
    actions = services.actions_for(agreement, request.user)
    parties = list(agreement.parties.all())
    clauses = list(agreement.clauses.all())
    return render(
        request,
        "agreements/detail.html",
        {
            "agreement": agreement,
            "actions": actions,
            "parties": parties,
            "clauses": clauses,
            "unsettled": unsettled_points(clauses) if agreement.is_dpa else [],
            "gaps": _linked_gaps(agreement) if actions.request_advice else [],
            "approval_gaps": services.approval_gaps(agreement) if actions.approve else {},
            "children": list(agreement.children.all()),
            "versions": list(agreement.versions.all()),
            "reviews": list(agreement.reviews.all()),
            "open_review": services.open_review(agreement),
            "today": timezone.localdate(),
        },
    )


def _agreement_in_full(request: OrganisationRequest, reference: str) -> Agreement:
    """As `visible_agreement` (another school's is a 404), with everything the page shows,
    in a fixed number of queries however many parties, clauses or versions it has."""
    return get_object_or_404(
        Agreement.objects.for_user(request.user, request.organisation)
        .select_related("organisation", "parent", "proposal", *PEOPLE_OF_AN_AGREEMENT)
        .prefetch_related(
            "lawful_bases",
            "categories",
            "special_category_conditions",
            "assets",
            "clauses",
            Prefetch("parties", queryset=Party.objects.select_related("organisation")),
            Prefetch("children", queryset=Agreement.objects.order_by("reference")),
            Prefetch("versions", queryset=AgreementVersion.objects.select_related("approved_by")),
            Prefetch(
                "reviews",
                queryset=AgreementReview.objects.select_related("started_by", "completed_by"),
            ),
        ),
        reference=reference,
    )


def _linked_gaps(agreement: Agreement) -> list[dict[str, str]]:
    """What must be filled in before advice, each with a link to where it is put right."""
    edit = _url("edit", agreement)
    links = {name: f"{edit}#{anchor}" for name, anchor in GAP_ANCHORS.items()}
    links["parties"] = _url("add_party", agreement)
    gaps = services.content_gaps(agreement)
    return [
        {"text": text, "href": links.get(name, _url("detail", agreement))}
        for name, text in gaps.items()
    ]


# --- The content, the parties and the checklist --------------------------------------------


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def edit_content(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "edit"):
        return refused
    form = ContentForm(_posted(request), agreement=agreement, initial=content_initial(agreement))
    if form.is_bound and form.is_valid():
        saved = _call_service(
            form, services.update_content, agreement, actor=request.user, content=form.content()
        )
        if saved is not None:
            messages.success(request, "The content is saved. The agreement is still a draft.")
            return redirect(saved)
    return render(request, "agreements/edit.html", {"form": form, "agreement": agreement})


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def add_party(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "edit"):
        return refused
    form = PartyForm(_posted(request), agreement=agreement)
    if form.is_bound and form.is_valid():
        party = _call_service(
            form, services.add_party, agreement, actor=request.user, answers=form.answers()
        )
        if party is not None:
            messages.success(request, f"{party.organisation} added as a party.")
            return redirect(_url("detail", agreement) + "#parties")
    return render(
        request,
        "agreements/add_party.html",
        {"form": form, "agreement": agreement, "role_options": form.role_options()},
    )


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def remove_party(request: OrganisationRequest, reference: str, party: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    record = get_object_or_404(
        Party.objects.select_related("organisation"), agreement=agreement, uuid=party
    )
    if refused := refuse_unless_allowed(request, agreement, "edit"):
        return refused
    if request.method == "POST":
        try:
            services.remove_party(record, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(agreement)
        messages.success(request, f"{record.organisation} is no longer a party.")
        return redirect(_url("detail", agreement) + "#parties")
    return render(
        request, "agreements/remove_party.html", {"agreement": agreement, "party": record}
    )


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def dpa_checklist(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if not agreement.is_dpa:
        raise Http404("Only a data processing agreement has the Article 28 checklist.")
    if refused := refuse_unless_allowed(request, agreement, "edit"):
        return refused
    form = ChecklistForm(_posted(request), initial=checklist_initial(agreement))
    if form.is_bound and form.is_valid():
        saved = _call_service(
            form, services.set_dpa_clauses, agreement, actor=request.user, answers=form.answers()
        )
        if saved is not None:
            messages.success(request, _checklist_message(saved))
            return redirect(_url("detail", saved) + "#checklist")
    return render(
        request,
        "agreements/checklist.html",
        {"form": form, "agreement": agreement, "points": form.points()},
    )


def _checklist_message(agreement: Agreement) -> str:
    unsettled = unsettled_points(agreement.clauses.all())
    if not unsettled:
        return "The checklist is saved. Every Article 28(3) point is present or justified."
    listed = ", ".join(f"({point})" for point in unsettled)
    return (
        f"The checklist is saved. Points {listed} are still to be settled before it can "
        "be approved."
    )


# --- Advice -----------------------------------------------------------------------------


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def request_advice(request: OrganisationRequest, reference: str) -> HttpResponse:
    """A check of what is still missing, then the agreement goes to the DPO for advice."""
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "request_advice"):
        return refused
    refusals: list[str] = []
    if request.method == "POST":
        try:
            requested = services.request_advice(agreement, actor=request.user)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                messages.error(request, " ".join(error.messages))
                return redirect(agreement)
            refusals = error.messages
        else:
            messages.success(
                request, f"{requested.reference} is with the DPO, who has been emailed for advice."
            )
            return redirect(requested)
    return render(
        request,
        "agreements/request_advice.html",
        {"agreement": agreement, "gaps": _linked_gaps(agreement), "refused": bool(refusals)},
    )


@require_http_methods(GET_AND_POST)
@organisation_view(can_advise_on_agreement)
def advise(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = _agreement_in_full(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "advise"):
        return refused
    form = AdviceForm(_posted(request))
    if form.is_bound and form.is_valid():
        advised = _call_service(
            form,
            services.advise_on_agreement,
            agreement,
            actor=request.user,
            advice=form.cleaned_data["advice"],
        )
        if advised is not None:
            messages.success(
                request,
                f"Your advice is recorded. {advised.drafted_by}, the headteacher and the chair "
                "have been emailed.",
            )
            return redirect(advised)
    return render(request, "agreements/advise.html", _reading_context(agreement, form))


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def revise(request: OrganisationRequest, reference: str) -> HttpResponse:
    """The drafter takes the advised agreement back to draft, to act on the advice."""
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "revise"):
        return refused
    form = ConfirmForm(_posted(request))
    if form.is_bound and form.is_valid():
        revised = _call_service(form, services.revise_agreement, agreement, actor=request.user)
        if revised is not None:
            messages.success(
                request,
                f"{revised.reference} is back in draft. Make your changes, then ask the DPO "
                "for advice again.",
            )
            return redirect(revised)
    return render(
        request,
        "agreements/revise.html",
        {"form": form, "agreement": agreement},
    )


# --- Approval and withdrawal --------------------------------------------------------------


@require_http_methods(GET_AND_POST)
@organisation_view(can_approve_agreement)
def approve(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = _agreement_in_full(request, reference)
    because = services.actions_for(agreement, request.user).approve_refused_because
    if because:
        # The drafter is refused, but told why rather than shown a bare "no permission".
        return render(
            request,
            "agreements/approve.html",
            {"agreement": agreement, "because": because},
            status=403,
        )
    if refused := refuse_unless_allowed(request, agreement, "approve"):
        return refused
    form = ApprovalForm(_posted(request))
    if form.is_bound and form.is_valid():
        approved = _call_service(
            form,
            services.approve_agreement,
            agreement,
            actor=request.user,
            notes=form.cleaned_data["notes"],
        )
        if approved is not None:
            messages.success(request, _approved_message(approved))
            return redirect(approved)
    return render(
        request,
        "agreements/approve.html",
        {
            **_reading_context(agreement, form),
            "approval_gaps": services.approval_gaps(agreement),
        },
    )


def _approved_message(agreement: Agreement) -> str:
    start = agreement.start_date
    when = f"from {start:%-d %B %Y}" if start and start > timezone.localdate() else "now"
    return (
        f"{agreement.reference} is approved and on the register. It is in force {when}. "
        "Record the signatures and upload the signed copy."
    )


@require_http_methods(GET_AND_POST)
@organisation_view(can_draft_agreement)
def withdraw(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    if refused := refuse_unless_allowed(request, agreement, "withdraw"):
        return refused
    form = WithdrawForm(_posted(request))
    if form.is_bound and form.is_valid():
        withdrawn = _call_service(
            form,
            services.withdraw_agreement,
            agreement,
            actor=request.user,
            reasons=form.cleaned_data["reasons"],
        )
        if withdrawn is not None:
            messages.success(
                request, f"{withdrawn.reference} is withdrawn. It is kept, with your reason."
            )
            return redirect(withdrawn)
    return render(request, "agreements/withdraw.html", {"form": form, "agreement": agreement})


# --- Shared -------------------------------------------------------------------------------


def _reading_context(agreement: Agreement, form: Form) -> dict[str, Any]:
    """What a page that shows the whole content before a step needs."""
    clauses = list(agreement.clauses.all())
    return {
        "agreement": agreement,
        "form": form,
        "parties": list(agreement.parties.all()),
        "clauses": clauses,
        "unsettled": unsettled_points(clauses) if agreement.is_dpa else [],
        "article_28": dict(Article28.choices),
    }


def _url(name: str, agreement: Agreement) -> str:
    return reverse(
        f"agreements:{name}",
        kwargs={"org": agreement.organisation.slug, "reference": agreement.reference},
    )
