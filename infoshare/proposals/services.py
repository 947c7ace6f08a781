"""Every change to a sharing proposal (DESIGN.md rule 1), one function a step.

Each service locks the proposal, checks who is acting, checks the step is
allowed in the proposal's status (the transitions are declared on the model),
checks the answers, saves, and writes the audit event, in one transaction.
The email to whoever acts next goes out when the transaction commits.

What a person may do with one proposal is answered by `actions_for`, which
the pages use to offer only what the services will accept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from infoshare.audit import services as audit
from infoshare.core.checks import raise_if, require
from infoshare.core.models import DataCategory, Organisation, Purpose, User
from infoshare.core.references import next_reference
from infoshare.proposals import emails
from infoshare.proposals.models import (
    Advice,
    Anonymisation,
    Effect,
    Likelihood,
    Outcome,
    PiaRequirement,
    PrivacyNotice,
    Proposal,
    Risk,
    Severity,
    Status,
    screening_gaps,
)
from infoshare.proposals.rules import (
    can_assess_proposal,
    can_decide_proposal,
    can_draft_proposal,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

REFERENCE_PREFIX = "PROP"


# --- What people answer --------------------------------------------------------------


@dataclass(frozen=True)
class StepOne:
    """Step 1, deciding to share; it also answers screening questions 1 and 2."""

    name: str
    purpose: Purpose | None
    purpose_described: str
    why_personal_data: str
    achievable_without: bool
    achievable_without_reasons: str = ""


@dataclass(frozen=True)
class StepTwo:
    """Step 2, anonymisation or pseudonymisation considered."""

    anonymisation: str
    reasons: str
    meets_goal: bool


@dataclass(frozen=True)
class Screening:
    """Screening questions 3 to 10. None is a question not answered yet."""

    information_shared: str = ""
    categories: Sequence[DataCategory] = ()
    special_category: bool | None = None
    special_category_details: str = ""
    privacy_notice: str = ""
    privacy_notice_details: str = ""
    recipients: Sequence[Organisation] = ()
    recipients_details: str = ""
    new_systems: bool | None = None
    new_systems_details: str = ""
    automated_decisions: bool | None = None
    automated_decisions_details: str = ""
    profiling: bool | None = None
    profiling_details: str = ""
    combines_sources: bool | None = None
    combines_sources_details: str = ""


@dataclass(frozen=True)
class PiaAnswers:
    processing_description: str
    necessity: str
    consultation: str


@dataclass(frozen=True)
class RiskAnswers:
    description: str
    source: str
    likelihood: int
    severity: int
    measures: str = ""
    effect: str = ""
    residual_likelihood: int | None = None
    residual_severity: int | None = None


@dataclass(frozen=True)
class Decision:
    outcome: str
    reasons: str
    conditions: str = ""
    override_reasons: str = ""


# --- What a person may do with a proposal ------------------------------------------


@dataclass(frozen=True)
class Actions:
    """The steps `user` may take on a proposal now; the pages offer only these."""

    edit_draft: bool = False
    assess: bool = False
    choose_pia: bool = False
    work_on_pia: bool = False
    advise: bool = False
    decide: bool = False
    withdraw: bool = False
    # Why a decider may not decide this one (they wrote it), to say so on the page.
    decide_refused_because: str = ""


def actions_for(proposal: Proposal, user: User) -> Actions:
    organisation = proposal.organisation
    is_author = proposal.created_by_id == user.pk
    is_decider = can_decide_proposal(user, organisation)
    is_dpo = can_assess_proposal(user, organisation)
    status = proposal.status
    decide_open = proposal.awaits_decision and is_decider
    return Actions(
        edit_draft=status == Status.DRAFT and is_author,
        assess=status == Status.SCREENING_SUBMITTED and is_dpo,
        choose_pia=proposal.awaits_pia_choice and (is_author or is_decider),
        work_on_pia=status == Status.PIA_IN_PROGRESS and (is_author or is_dpo),
        advise=status == Status.PIA_SUBMITTED and is_dpo,
        decide=decide_open and not is_author,
        withdraw=proposal.is_open and (is_author or is_decider),
        decide_refused_because=(
            "You wrote this proposal, so someone else must decide it: nobody approves "
            "what they drafted themselves."
            if decide_open and is_author
            else ""
        ),
    )


# --- Drafting: steps 1 to 3 ----------------------------------------------------------


def create_proposal(organisation: Organisation, *, actor: User, answers: StepOne) -> Proposal:
    """Start a proposal with step 1; it closes at once as not needed if the goal is met without."""
    _check_step_one(answers)
    with transaction.atomic():
        require(
            can_draft_proposal(actor, organisation),
            "Only members of the organisation draft its sharing proposals.",
        )
        proposal = Proposal(
            organisation=organisation,
            reference=next_reference(organisation, REFERENCE_PREFIX),
            created_by=actor,
        )
        _apply_step_one(proposal, answers)
        _transition(proposal, proposal.answer_step_one)
        proposal.save()
        audit.record(actor, "proposal.created", proposal, {"name": proposal.name})
        _record_if_closed_as_not_needed(proposal, actor)
    return proposal


def answer_step_one(proposal: Proposal, *, actor: User, answers: StepOne) -> Proposal:
    _check_step_one(answers)
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "edit_draft", "Only the author changes a draft.")
        _apply_step_one(proposal, answers)
        _transition(proposal, proposal.answer_step_one)
        _save(proposal)
        audit.record(actor, "proposal.step_one_answered", proposal)
        _record_if_closed_as_not_needed(proposal, actor)
    return proposal


def _check_step_one(answers: StepOne) -> None:
    errors: dict[str, str] = {}
    if not answers.name.strip():
        errors["name"] = "Enter the name of the project or activity."
    if answers.purpose is None:
        errors["purpose"] = "Choose the purpose of the sharing."
    elif answers.purpose.needs_description and not answers.purpose_described.strip():
        errors["purpose_described"] = "Describe the purpose."
    if not answers.why_personal_data.strip():
        errors["why_personal_data"] = "Explain why personal data needs to be shared."
    if answers.achievable_without and not answers.achievable_without_reasons.strip():
        errors["achievable_without_reasons"] = (
            "Explain how the goal can be achieved without sharing personal data."
        )
    raise_if(errors)


def _apply_step_one(proposal: Proposal, answers: StepOne) -> None:
    proposal.name = answers.name.strip()
    proposal.purpose = answers.purpose
    proposal.purpose_described = answers.purpose_described.strip()
    proposal.why_personal_data = answers.why_personal_data.strip()
    proposal.achievable_without = answers.achievable_without
    proposal.achievable_without_reasons = (
        answers.achievable_without_reasons.strip() if answers.achievable_without else ""
    )


def _record_if_closed_as_not_needed(proposal: Proposal, actor: User) -> None:
    if proposal.status == Status.NOT_NEEDED:
        audit.record(actor, "proposal.closed_not_needed", proposal, {"status": proposal.status})


def answer_step_two(proposal: Proposal, *, actor: User, answers: StepTwo) -> Proposal:
    """Record what anonymisation was considered; if it meets the goal, close the proposal."""
    _check_step_two(answers)
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "edit_draft", "Only the author changes a draft.")
        proposal.anonymisation = answers.anonymisation
        proposal.anonymisation_reasons = answers.reasons.strip()
        proposal.anonymisation_meets_goal = answers.meets_goal
        _transition(proposal, proposal.answer_step_two, "Answer step 1, deciding to share, first.")
        _save(proposal)
        audit.record(
            actor,
            "proposal.step_two_answered",
            proposal,
            {"anonymisation": answers.anonymisation, "meets_goal": answers.meets_goal},
        )
        if proposal.status == Status.NO_PERSONAL_DATA:
            audit.record(
                actor, "proposal.closed_no_personal_data", proposal, {"status": proposal.status}
            )
    return proposal


def _check_step_two(answers: StepTwo) -> None:
    errors: dict[str, str] = {}
    if answers.anonymisation not in Anonymisation.values:
        errors["anonymisation"] = "Choose which kind of anonymisation was considered."
    if not answers.reasons.strip():
        errors["reasons"] = "Explain what was considered and why."
    if answers.anonymisation == Anonymisation.NONE_FEASIBLE and answers.meets_goal:
        errors["meets_goal"] = (
            "If no anonymisation is feasible, it cannot meet the goal: answer no, "
            "or choose what was considered."
        )
    raise_if(errors)


def answer_screening(proposal: Proposal, *, actor: User, answers: Screening) -> Proposal:
    """Save the screening answers; questions may be left for later, but not half-answered."""
    _check_screening(proposal, answers)
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "edit_draft", "Only the author changes a draft.")
        _transition(
            proposal,
            proposal.answer_screening,
            "Answer steps 1 and 2 before the screening questions.",
        )
        _apply_screening(proposal, answers)
        _save(proposal)
        proposal.categories.set(answers.categories)
        proposal.recipients.set(answers.recipients)
        audit.record(
            actor,
            "proposal.screening_answered",
            proposal,
            {"unanswered": sorted(screening_gaps(proposal))},
        )
    return proposal


_YES_NEEDS_DETAILS = {
    "special_category": "Say which special category data will be shared.",
    "new_systems": "Describe the new systems or technology.",
    "automated_decisions": "Describe the automated decisions and their effect on people.",
    "profiling": "Describe the profiling.",
    "combines_sources": "Say which sources are combined or matched.",
}


def _check_screening(proposal: Proposal, answers: Screening) -> None:
    errors = {
        f"{question}_details": message
        for question, message in _YES_NEEDS_DETAILS.items()
        if getattr(answers, question) and not getattr(answers, f"{question}_details").strip()
    }
    if answers.privacy_notice and answers.privacy_notice not in PrivacyNotice.values:
        errors["privacy_notice"] = "Choose yes, partly or no."
    if any(recipient.pk == proposal.organisation_id for recipient in answers.recipients):
        errors["recipients"] = "Choose the organisations you will share with, not your own."
    if answers.special_category is False and any(c.is_special for c in answers.categories):
        errors["special_category"] = (
            "You chose a special category of data in question 3: answer yes to question 4."
        )
    raise_if(errors)


def _apply_screening(proposal: Proposal, answers: Screening) -> None:
    for name in Screening.__dataclass_fields__:
        if name in {"categories", "recipients"}:
            continue
        value = getattr(answers, name)
        setattr(proposal, name, value.strip() if isinstance(value, str) else value)


def submit_screening(proposal: Proposal, *, actor: User) -> Proposal:
    """Send the completed screening to the DPO, who decides whether a full PIA is needed."""
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "edit_draft", "Only the author submits a draft.")
        gaps = screening_gaps(proposal)
        if not proposal.step_two_done:
            gaps = {"__all__": "Answer steps 1 and 2 before submitting the screening.", **gaps}
        raise_if(gaps)
        _transition(proposal, proposal.submit_screening)
        proposal.screening_submitted_by = actor
        proposal.screening_submitted_at = timezone.now()
        _save(proposal)
        audit.record(actor, "proposal.screening_submitted", proposal, {"status": proposal.status})
        _email_on_commit(emails.screening_submitted, proposal)
    return proposal


# --- The DPO's assessment and the full PIA -----------------------------------------


def assess_proposal(proposal: Proposal, *, actor: User, requirement: str, reasons: str) -> Proposal:
    """The DPO's assessment: a full PIA mandatory, recommended or not required, and why."""
    errors: dict[str, str] = {}
    if requirement not in PiaRequirement.values:
        errors["requirement"] = (
            "Choose whether a full PIA is mandatory, recommended or not required."
        )
    if not reasons.strip():
        errors["reasons"] = "Give the reasons for your assessment."
    raise_if(errors)
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "assess", "Only the DPO assesses the screening.")
        proposal.pia_requirement = requirement
        proposal.assessment_reasons = reasons.strip()
        proposal.assessed_by = actor
        proposal.assessed_at = timezone.now()
        _transition(proposal, proposal.assess)
        _save(proposal)
        audit.record(
            actor,
            "proposal.assessed",
            proposal,
            {"pia_requirement": requirement, "status": proposal.status},
        )
        _email_on_commit(emails.assessed, proposal)
    return proposal


def choose_full_pia(
    proposal: Proposal, *, actor: User, take_up: bool, reasons: str = ""
) -> Proposal:
    """When the DPO only recommends a full PIA: carry it out, or go on without (with reasons)."""
    if not take_up and not reasons.strip():
        raise_if({"reasons": "Explain why the recommended full PIA will not be carried out."})
    with transaction.atomic():
        proposal = _lock_for(
            proposal,
            actor,
            "choose_pia",
            "Only the author, the headteacher or the chair chooses whether to carry out "
            "a recommended PIA.",
        )
        _transition(proposal, proposal.choose_pia, take_up=take_up)
        proposal.pia_declined_reasons = "" if take_up else reasons.strip()
        proposal.pia_choice_by = actor
        _save(proposal)
        audit.record(
            actor,
            "proposal.pia_taken_up" if take_up else "proposal.pia_declined",
            proposal,
            {"status": proposal.status},
        )
        if not take_up:
            _email_on_commit(emails.ready_for_decision, proposal)
        elif actor.pk != proposal.created_by_id:
            # The headteacher or chair chose it: the author, who writes it, must hear.
            _email_on_commit(emails.pia_taken_up, proposal)
    return proposal


_WORK_ON_PIA = "Only the author or the DPO works on the full PIA."


def save_pia(proposal: Proposal, *, actor: User, answers: PiaAnswers) -> Proposal:
    """Save the PIA's description, necessity and consultation; they may be finished later."""
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "work_on_pia", _WORK_ON_PIA)
        _transition(proposal, proposal.work_on_pia)
        proposal.processing_description = answers.processing_description.strip()
        proposal.necessity = answers.necessity.strip()
        proposal.consultation = answers.consultation.strip()
        _save(proposal)
        audit.record(actor, "proposal.pia_saved", proposal)
    return proposal


def add_risk(proposal: Proposal, *, actor: User, answers: RiskAnswers) -> Risk:
    answers = _checked_risk(answers)
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "work_on_pia", _WORK_ON_PIA)
        _transition(proposal, proposal.work_on_pia)
        last = proposal.risks.aggregate(last=Max("position"))["last"] or 0
        risk = Risk(proposal=proposal, position=last + 1)
        _apply_risk(risk, answers)
        risk.save()
        _save(proposal)
        audit.record(actor, "proposal.risk_added", risk, _risk_summary(risk), label=str(risk))
    return risk


def change_risk(risk: Risk, *, actor: User, answers: RiskAnswers) -> Risk:
    answers = _checked_risk(answers)
    with transaction.atomic():
        proposal = _lock_for(risk.proposal, actor, "work_on_pia", _WORK_ON_PIA)
        _transition(proposal, proposal.work_on_pia)
        risk = Risk.objects.select_for_update().get(pk=risk.pk, proposal=proposal)
        _apply_risk(risk, answers)
        risk.save()
        _save(proposal)
        audit.record(actor, "proposal.risk_changed", risk, _risk_summary(risk), label=str(risk))
    return risk


def remove_risk(risk: Risk, *, actor: User) -> None:
    """Take a risk out of a PIA still in progress (a submitted PIA keeps all of its risks)."""
    with transaction.atomic():
        proposal = _lock_for(risk.proposal, actor, "work_on_pia", _WORK_ON_PIA)
        _transition(proposal, proposal.work_on_pia)
        label = str(risk)
        audit.record(actor, "proposal.risk_removed", risk, _risk_summary(risk), label=label)
        Risk.objects.filter(pk=risk.pk, proposal=proposal).delete()
        _save(proposal)


def _checked_risk(answers: RiskAnswers) -> RiskAnswers:
    errors: dict[str, str] = {}
    if answers.likelihood not in Likelihood.values:
        errors["likelihood"] = "Choose how likely the harm is: remote, possible or probable."
    if answers.severity not in Severity.values:
        errors["severity"] = "Choose how severe the harm would be: minimal, significant or severe."
    if answers.effect and answers.effect not in Effect.values:
        errors["effect"] = "Choose whether the measures eliminate, reduce or accept the risk."
    if not answers.description.strip():
        errors["description"] = "Describe the risk to individuals."
    if not answers.source.strip():
        errors["source"] = "Say where the risk comes from."
    if answers.effect and not answers.measures.strip():
        errors["measures"] = "Describe the measures before saying what they do to the risk."
    if answers.effect == Effect.REDUCED:
        errors.update(_residual_errors(answers))
    raise_if(errors)
    if answers.effect == Effect.ACCEPTED:
        # An accepted risk is left as it was assessed.
        return _with_residual(answers, answers.likelihood, answers.severity)
    if answers.effect != Effect.REDUCED:
        return _with_residual(answers, None, None)
    return answers


def _residual_errors(answers: RiskAnswers) -> dict[str, str]:
    if answers.residual_likelihood is None or answers.residual_severity is None:
        return {"residual_likelihood": "Give the likelihood and severity left after the measures."}
    if (
        answers.residual_likelihood not in Likelihood.values
        or answers.residual_severity not in Severity.values
    ):
        return {"residual_likelihood": "Choose the likelihood and severity from the lists."}
    before = answers.likelihood * answers.severity
    after = answers.residual_likelihood * answers.residual_severity
    if after >= before:
        return {
            "residual_likelihood": (
                "A reduced risk must be lower after the measures than before: lower its "
                "likelihood or severity, or choose 'accepted'."
            )
        }
    return {}


def _with_residual(
    answers: RiskAnswers, likelihood: int | None, severity: int | None
) -> RiskAnswers:
    return dataclasses.replace(answers, residual_likelihood=likelihood, residual_severity=severity)


def _apply_risk(risk: Risk, answers: RiskAnswers) -> None:
    for name, value in answers.__dict__.items():
        setattr(risk, name, value.strip() if isinstance(value, str) else value)


def _risk_summary(risk: Risk) -> dict[str, Any]:
    return {
        "level": risk.level,
        "effect": risk.effect,
        "residual_level": risk.residual_level or "",
    }


def submit_pia(proposal: Proposal, *, actor: User) -> Proposal:
    """Send the finished full PIA to the DPO for advice."""
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "work_on_pia", _WORK_ON_PIA)
        raise_if(pia_gaps(proposal))
        _transition(proposal, proposal.submit_pia)
        proposal.pia_submitted_by = actor
        proposal.pia_submitted_at = timezone.now()
        _save(proposal)
        audit.record(
            actor,
            "proposal.pia_submitted",
            proposal,
            {"risks": proposal.risks.count(), "status": proposal.status},
        )
        _email_on_commit(emails.pia_submitted, proposal)
    return proposal


def pia_gaps(proposal: Proposal) -> dict[str, str]:
    """What the full PIA still lacks before it can go to the DPO."""
    gaps: dict[str, str] = {}
    if not proposal.processing_description:
        gaps["processing_description"] = "Describe the processing."
    if not proposal.necessity:
        gaps["necessity"] = "Explain why the sharing is necessary and proportionate."
    if not proposal.consultation:
        gaps["consultation"] = "Say who was consulted."
    risks = list(proposal.risks.all())
    if not risks:
        gaps["risks"] = "Add at least one risk to the risk register."
    unfinished = [risk.label for risk in risks if not risk.is_complete]
    if unfinished:
        gaps["risks"] = (
            f"Record the measures, their effect and the residual risk for {', '.join(unfinished)}."
        )
    return gaps


def advise_on_pia(proposal: Proposal, *, actor: User, advice: str, text: str) -> Proposal:
    """The DPO's written advice on the full PIA, including whether to proceed (policy 9.7)."""
    errors: dict[str, str] = {}
    if advice not in Advice.values:
        errors["advice"] = "Choose whether you advise proceeding."
    if not text.strip():
        errors["text"] = "Write your advice."
    raise_if(errors)
    with transaction.atomic():
        proposal = _lock_for(proposal, actor, "advise", "Only the DPO advises on a full PIA.")
        proposal.advice = advice
        proposal.advice_text = text.strip()
        proposal.advised_by = actor
        proposal.advised_at = timezone.now()
        _transition(proposal, proposal.give_advice)
        _save(proposal)
        audit.record(actor, "proposal.advised", proposal, {"advice": advice})
        _email_on_commit(emails.ready_for_decision, proposal)
    return proposal


# --- The decision, and withdrawal -------------------------------------------------


def decide_proposal(proposal: Proposal, *, actor: User, decision: Decision) -> Proposal:
    """The headteacher's or chair's decision; going against the DPO's advice needs its reasons."""
    with transaction.atomic():
        proposal = _lock(proposal)
        _require_may_decide(proposal, actor)
        if not proposal.awaits_decision:
            raise ValidationError(out_of_order_message(proposal))
        overrides = not proposal.follows_advice(decision.outcome)
        _check_decision(decision, overrides=overrides)
        proposal.decision_reasons = decision.reasons.strip()
        proposal.conditions = (
            decision.conditions.strip()
            if decision.outcome == Outcome.APPROVED_WITH_CONDITIONS
            else ""
        )
        proposal.overrides_advice = overrides
        proposal.override_reasons = decision.override_reasons.strip() if overrides else ""
        proposal.decided_by = actor
        proposal.decided_at = timezone.now()
        _transition(proposal, proposal.decide, outcome=decision.outcome)
        _save(proposal)
        audit.record(
            actor,
            "proposal.decided",
            proposal,
            {"status": proposal.status, "overrides_advice": overrides},
        )
        _email_on_commit(emails.decided, proposal)
    return proposal


def _require_may_decide(proposal: Proposal, actor: User) -> None:
    require(
        can_decide_proposal(actor, proposal.organisation),
        "Only the headteacher or the chair of governors decides a proposal.",
    )
    require(
        proposal.created_by_id != actor.pk,
        "You wrote this proposal, so someone else must decide it.",
    )


def _check_decision(decision: Decision, *, overrides: bool) -> None:
    errors: dict[str, str] = {}
    if decision.outcome not in Outcome.values:
        errors["outcome"] = "Choose approve, approve with conditions, or cancel."
    if not decision.reasons.strip():
        errors["reasons"] = "Give the reasons for your decision."
    if decision.outcome == Outcome.APPROVED_WITH_CONDITIONS and not decision.conditions.strip():
        errors["conditions"] = "Set out the conditions."
    if overrides and not decision.override_reasons.strip() and "outcome" not in errors:
        errors["override_reasons"] = (
            "Your decision goes against the DPO's advice: give your reasons for overriding it."
        )
    raise_if(errors)


def withdraw_proposal(proposal: Proposal, *, actor: User, reasons: str) -> Proposal:
    """Withdraw an open proposal. It is kept, with the reasons."""
    if not reasons.strip():
        raise_if({"reasons": "Give the reason for withdrawing the proposal."})
    with transaction.atomic():
        proposal = _lock_for(
            proposal,
            actor,
            "withdraw",
            "Only the author, the headteacher or the chair withdraws a proposal.",
        )
        was = proposal.status
        _transition(proposal, proposal.withdraw)
        proposal.withdrawn_reasons = reasons.strip()
        proposal.withdrawn_by = actor
        proposal.withdrawn_at = timezone.now()
        _save(proposal)
        changes = {"from": was, "status": proposal.status}
        audit.record(actor, "proposal.withdrawn", proposal, changes)
        if was != Status.DRAFT:
            _email_on_commit(emails.withdrawn, proposal)
    return proposal


# --- Shared steps ------------------------------------------------------------------


def _lock(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().select_related("organisation").get(pk=proposal.pk)


def _lock_for(proposal: Proposal, actor: User, action: str, refusal: str) -> Proposal:
    """The proposal, locked, if `actor` may take `action` on it now.

    A person who may never take the step is refused (PermissionDenied); one
    who might, but not in this status, is told what stands in the way.
    """
    locked = _lock(proposal)
    if getattr(actions_for(locked, actor), action):
        return locked
    if not may_ever_take(locked, actor, action):
        raise PermissionDenied(refusal)
    raise ValidationError(out_of_order_message(locked))


def may_ever_take(proposal: Proposal, actor: User, action: str) -> bool:
    """Whether `actor`'s roles (and authorship) allow `action` on this proposal in some status."""
    organisation = proposal.organisation
    is_author = proposal.created_by_id == actor.pk
    is_dpo = can_assess_proposal(actor, organisation)
    is_decider = can_decide_proposal(actor, organisation)
    allowed = {
        "edit_draft": is_author,
        "assess": is_dpo,
        "advise": is_dpo,
        "choose_pia": is_author or is_decider,
        "work_on_pia": is_author or is_dpo,
        "withdraw": is_author or is_decider,
        "decide": is_decider and not is_author,
    }
    return allowed[action]


def out_of_order_message(proposal: Proposal) -> str:
    return (
        f"That step cannot be taken now: {proposal.reference} stands at "
        f"\u201c{proposal.get_status_display()}\u201d."
    )


def _transition(
    proposal: Proposal, method: Callable[..., Any], refusal: str = "", **kwargs: Any
) -> None:
    if not can_proceed(method):
        raise ValidationError(refusal or out_of_order_message(proposal))
    try:
        method(**kwargs)
    except TransitionNotAllowed as error:
        raise ValidationError(refusal or out_of_order_message(proposal)) from error


def _save(proposal: Proposal) -> None:
    proposal.updated_at = timezone.now()
    proposal.save()


def _email_on_commit(send: Callable[[Proposal], None], proposal: Proposal) -> None:
    transaction.on_commit(lambda: send(proposal))
