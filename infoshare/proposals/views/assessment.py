"""The DPO's assessment, the full PIA and its risk register, the DPO's advice and the decision.

HTTP glue only: every change goes through infoshare.proposals.services. Each
page loads the proposal (404 for another organisation's), then asks
`refuse_unless_allowed` whether its step may be taken now: a role that never
may gets 403, a step out of order goes back to the task list with a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.proposals import services
from infoshare.proposals.forms.assessment import (
    AdviceForm,
    AssessmentForm,
    DecisionForm,
    PiaChoiceForm,
    PiaForm,
    RiskForm,
    risk_initial,
)
from infoshare.proposals.models import (
    Outcome,
    PiaRequirement,
    Proposal,
    Risk,
    before_and_after,
    risk_matrix,
)
from infoshare.proposals.rules import (
    can_assess_proposal,
    can_decide_proposal,
    can_view_proposals,
)
from infoshare.proposals.views.common import refuse_unless_allowed, visible_proposal
from infoshare.proposals.views.drafting import screening_answers

if TYPE_CHECKING:
    from django.http import HttpResponse

# The button on the PIA page that saves the texts and goes on to add a risk,
# so that nothing typed is lost on the way.
SAVE_AND_ADD_RISK = "add-risk"
# Where each gap of a PIA is put right: the field on the PIA page, or its register.
GAP_ANCHORS = {
    "processing_description": "id_processing_description",
    "necessity": "id_necessity",
    "consultation": "id_consultation",
    "risks": "risks",
}


# --- The DPO's assessment, and the choice when a full PIA is only recommended ---------


@organisation_view(can_assess_proposal)
def assess(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    if refused := refuse_unless_allowed(request, proposal, "assess"):
        return refused
    form = AssessmentForm(_posted(request))
    if form.is_bound and form.is_valid():
        assessed = _call_service(
            form, services.assess_proposal, proposal, actor=request.user, **form.cleaned_data
        )
        if assessed is not None:
            messages.success(request, _assessed_message(assessed))
            return redirect(assessed)
    return render(
        request,
        "proposals/assess.html",
        {
            "proposal": proposal,
            "form": form,
            "screening_answers": screening_answers(proposal),
            "suggestions": proposal.suggests_full_pia(),
        },
    )


def _assessed_message(proposal: Proposal) -> str:
    author = proposal.created_by
    if proposal.pia_requirement == PiaRequirement.MANDATORY:
        return (
            f"Assessment saved. A full PIA is mandatory: {author} has been emailed to complete it."
        )
    if proposal.pia_requirement == PiaRequirement.RECOMMENDED:
        return (
            f"Assessment saved. A full PIA is recommended: {author}, the headteacher and "
            "the chair have been emailed to choose whether to carry it out."
        )
    return (
        "Assessment saved. No full PIA is needed: the headteacher and the chair have been "
        "emailed to make the decision."
    )


@organisation_view(can_view_proposals)
def choose_pia(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    if refused := refuse_unless_allowed(request, proposal, "choose_pia"):
        return refused
    form = PiaChoiceForm(_posted(request))
    if form.is_bound and form.is_valid():
        chosen = _call_service(
            form, services.choose_full_pia, proposal, actor=request.user, **form.cleaned_data
        )
        if chosen is not None:
            messages.success(request, _chosen_message(chosen))
            return redirect(chosen)
    return render(request, "proposals/choose_pia.html", {"proposal": proposal, "form": form})


def _chosen_message(proposal: Proposal) -> str:
    if proposal.pia_taken_up:
        return "The full PIA will be carried out. Complete it, then submit it for the DPO's advice."
    return (
        "Recorded: no full PIA. The headteacher and the chair have been emailed to make "
        "the decision."
    )


# --- The full PIA and its risk register ----------------------------------------------


@organisation_view(can_view_proposals)
def full_pia(request: OrganisationRequest, reference: str) -> HttpResponse:
    """The full PIA: editable by those who work on it now, read-only to every other member."""
    proposal = visible_proposal(request, reference)
    if request.method == "POST":
        if refused := refuse_unless_allowed(request, proposal, "work_on_pia"):
            return refused
    elif not proposal.needs_full_pia:
        messages.error(request, f"{proposal.reference} has no full PIA.")
        return redirect(proposal)
    actions = services.actions_for(proposal, request.user)
    form = PiaForm(_posted(request), initial=_pia_initial(proposal))
    if form.is_bound and form.is_valid():
        saved = _call_service(
            form, services.save_pia, proposal, actor=request.user, answers=form.answers()
        )
        if saved is not None:
            return _after_saving_pia(request, saved)
    return render(
        request,
        "proposals/pia.html",
        {**_pia_context(proposal), "form": form, "actions": actions},
    )


def _pia_initial(proposal: Proposal) -> dict[str, str]:
    return {name: getattr(proposal, name) for name in PiaForm.base_fields}


def _after_saving_pia(request: OrganisationRequest, proposal: Proposal) -> HttpResponse:
    if request.POST.get("action") == SAVE_AND_ADD_RISK:
        messages.success(request, "The PIA is saved. Now describe the risk.")
        return redirect(_url("add_risk", proposal))
    messages.success(
        request,
        "The PIA is saved. When every risk has its measures, submit the PIA for the DPO's advice.",
    )
    return redirect(_url("pia", proposal))


def _pia_context(proposal: Proposal) -> dict[str, Any]:
    """What any page showing the full PIA needs: the proposal, its risks and their matrices."""
    risks = list(proposal.risks.all())
    before, after = before_and_after(risks)
    return {
        "proposal": proposal,
        "risks": risks,
        "before_matrix": before,
        "after_matrix": after,
    }


@organisation_view(can_view_proposals)
def add_risk(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    if refused := refuse_unless_allowed(request, proposal, "work_on_pia"):
        return refused
    form = RiskForm(_posted(request))
    if form.is_bound and form.is_valid():
        risk = _call_service(
            form, services.add_risk, proposal, actor=request.user, answers=form.answers()
        )
        if risk is not None:
            messages.success(request, f"Risk {risk.position} ({risk.label}) added.")
            return redirect(_url("pia", proposal) + "#risks")
    return _risk_page(request, proposal, form, risk=None)


@organisation_view(can_view_proposals)
def change_risk(request: OrganisationRequest, reference: str, risk: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    record = _risk_of(proposal, risk)
    if refused := refuse_unless_allowed(request, proposal, "work_on_pia"):
        return refused
    form = RiskForm(_posted(request), initial=risk_initial(record))
    if form.is_bound and form.is_valid():
        changed = _call_service(
            form, services.change_risk, record, actor=request.user, answers=form.answers()
        )
        if changed is not None:
            messages.success(request, f"Risk {changed.position} ({changed.label}) saved.")
            return redirect(_url("pia", proposal) + "#risks")
    return _risk_page(request, proposal, form, risk=record)


def _risk_page(
    request: OrganisationRequest, proposal: Proposal, form: RiskForm, *, risk: Risk | None
) -> HttpResponse:
    return render(
        request,
        "proposals/risk.html",
        {
            "proposal": proposal,
            "form": form,
            "risk": risk,
            # The levels alone, no risks placed: how likelihood and severity combine.
            "levels_matrix": risk_matrix([]),
        },
    )


@organisation_view(can_view_proposals)
def remove_risk(request: OrganisationRequest, reference: str, risk: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    record = _risk_of(proposal, risk)
    if refused := refuse_unless_allowed(request, proposal, "work_on_pia"):
        return refused
    if request.method == "POST":
        try:
            services.remove_risk(record, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(proposal)
        messages.success(
            request,
            f"Risk {record.position} ({record.label}) removed. The other risks keep their numbers.",
        )
        return redirect(_url("pia", proposal) + "#risks")
    return render(
        request,
        "proposals/remove_risk.html",
        {"proposal": proposal, "risk": record, "risk_list": [record]},
    )


def _risk_of(proposal: Proposal, risk: str) -> Risk:
    """A risk of this proposal only: any other is a 404."""
    return get_object_or_404(Risk, proposal=proposal, uuid=risk)


@organisation_view(can_view_proposals)
def submit_pia(request: OrganisationRequest, reference: str) -> HttpResponse:
    """A check of what is still missing, then the PIA goes to the DPO for advice."""
    proposal = visible_proposal(request, reference)
    if refused := refuse_unless_allowed(request, proposal, "work_on_pia"):
        return refused
    refusals: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            submitted = services.submit_pia(proposal, actor=request.user)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                messages.error(request, " ".join(error.messages))
                return redirect(proposal)
            refusals = error.message_dict
        else:
            messages.success(
                request,
                "The PIA is submitted. The DPO has been emailed to give their advice.",
            )
            return redirect(submitted)
    gaps = refusals or {name: [text] for name, text in services.pia_gaps(proposal).items()}
    return render(
        request,
        "proposals/submit_pia.html",
        {
            **_pia_context(proposal),
            "gaps": _linked(proposal, gaps),
            "refused": bool(refusals),
        },
    )


def _linked(proposal: Proposal, gaps: dict[str, list[str]]) -> list[dict[str, str]]:
    """Each gap with a link to where it is put right."""
    page = _url("pia", proposal)
    return [
        {"text": text, "href": f"{page}#{GAP_ANCHORS.get(name, 'main-content')}"}
        for name, texts in gaps.items()
        for text in texts
    ]


# --- The DPO's advice, and the decision ----------------------------------------------


@organisation_view(can_assess_proposal)
def advise(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    if refused := refuse_unless_allowed(request, proposal, "advise"):
        return refused
    form = AdviceForm(_posted(request))
    if form.is_bound and form.is_valid():
        advised = _call_service(
            form, services.advise_on_pia, proposal, actor=request.user, **form.cleaned_data
        )
        if advised is not None:
            messages.success(
                request,
                "Your advice is recorded. The headteacher and the chair have been emailed "
                "to make the decision.",
            )
            return redirect(advised)
    return render(request, "proposals/advise.html", {**_pia_context(proposal), "form": form})


@organisation_view(can_decide_proposal)
def decide(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    because = services.actions_for(proposal, request.user).decide_refused_because
    if because:
        # The author is refused, but told why rather than shown a bare "no permission".
        return render(
            request,
            "proposals/decision_refused.html",
            {"proposal": proposal, "because": because},
            status=403,
        )
    if refused := refuse_unless_allowed(request, proposal, "decide"):
        return refused
    form = DecisionForm(_posted(request))
    if form.is_bound and form.is_valid():
        decided = _call_service(
            form,
            services.decide_proposal,
            proposal,
            actor=request.user,
            decision=form.decision(),
        )
        if decided is not None:
            messages.success(request, _decided_message(decided))
            return redirect(decided)
    return render(
        request,
        "proposals/decide.html",
        {
            **_pia_context(proposal),
            "form": form,
            "overriding": _overriding_outcomes(proposal),
        },
    )


def _overriding_outcomes(proposal: Proposal) -> list[str]:
    """The outcomes that would go against the DPO's advice (none when there is no advice)."""
    return [label for value, label in Outcome.choices if not proposal.follows_advice(value)]


def _decided_message(proposal: Proposal) -> str:
    decided = f"Decision recorded: {proposal.get_status_display().lower()}."
    if proposal.overrides_advice:
        decided += " It is recorded as overriding the DPO's advice."
    return f"{decided} The author and the DPO have been emailed."


def _url(name: str, proposal: Proposal) -> str:
    return reverse(
        f"proposals:{name}",
        kwargs={"org": proposal.organisation.slug, "reference": proposal.reference},
    )
