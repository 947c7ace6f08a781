"""Every change to an agreement (DESIGN.md rule 1), one function a step.

Each service locks the agreement, checks who is acting, checks the step is
allowed in the agreement's status (the transitions are declared on the model),
checks the answers, saves, and writes the audit event, in one transaction.
The email to whoever acts next goes out when the transaction commits.

What a person may do with one agreement is answered by `actions_for`, which
the pages use to offer only what the services will accept. Bad answers raise
ValidationError with a message per field name (the form's field names), and
change nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from infoshare.agreements import emails
from infoshare.agreements.models import (
    DEFAULT_REVIEW_MONTHS,
    PARENT_KIND,
    PARENT_REQUIRED,
    Agreement,
    AgreementReview,
    AgreementVersion,
    Article28,
    DpaClause,
    Kind,
    Party,
    PartyRole,
    ReviewOutcome,
    Status,
    content_changes,
    unsettled_points,
)
from infoshare.agreements.rules import (
    can_advise_on_agreement,
    can_approve_agreement,
    can_draft_agreement,
    can_keep_register,
    can_terminate_agreement,
)
from infoshare.audit import services as audit
from infoshare.core.checks import raise_if, require
from infoshare.core.references import next_reference

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from infoshare.core.models import (
        DataCategory,
        LawfulBasis,
        Organisation,
        SpecialCategoryCondition,
        User,
    )
    from infoshare.governance.models import InformationAsset
    from infoshare.proposals.models import Proposal


# --- What people answer --------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """The content of an agreement (issue 5, item 2), but for its parties and checklist."""

    title: str
    purpose: str = ""
    lawful_bases: Sequence[LawfulBasis] = ()
    legal_basis_details: str = ""
    data_shared: str = ""
    categories: Sequence[DataCategory] = ()
    special_category_conditions: Sequence[SpecialCategoryCondition] = ()
    method: str = ""
    frequency: str = ""
    security_measures: str = ""
    retention: str = ""
    return_or_disposal: str = ""
    start_date: datetime.date | None = None
    review_interval_months: int = DEFAULT_REVIEW_MONTHS
    review_interval_justification: str = ""
    assets: Sequence[InformationAsset] = ()
    parent: Agreement | None = None
    subprocessors: str = ""
    international_transfers: str = ""


@dataclass(frozen=True)
class PartyAnswers:
    organisation: Organisation
    role: str


@dataclass(frozen=True)
class ClauseAnswers:
    """One Article 28(3) point: present at a clause, or not present with a justification."""

    point: str
    present: bool | None
    clause_reference: str = ""
    justification: str = ""


# --- What a person may do with an agreement --------------------------------------------


@dataclass(frozen=True)
class Actions:
    """The steps `user` may take on an agreement now; the pages offer only these."""

    edit: bool = False
    request_advice: bool = False
    advise: bool = False
    revise: bool = False
    approve: bool = False
    record_signatures: bool = False
    upload_signed_copy: bool = False
    start_review: bool = False
    complete_review: bool = False
    terminate: bool = False
    confirm_data_fate: bool = False
    withdraw: bool = False
    # Why an approver may not approve this one (they drafted it), to say so on the page.
    approve_refused_because: str = ""


def actions_for(agreement: Agreement, user: User) -> Actions:
    organisation = agreement.organisation
    is_drafter = agreement.drafted_by_id == user.pk
    is_approver = can_approve_agreement(user, organisation)
    keeps_register = can_keep_register(user, organisation)
    status = agreement.status
    in_force = status in (Status.APPROVED, Status.UNDER_REVIEW)
    approve_open = status == Status.ADVISED and is_approver
    reviewing = status == Status.UNDER_REVIEW and open_review(agreement) is not None
    return Actions(
        edit=status == Status.DRAFT and is_drafter,
        request_advice=status == Status.DRAFT and is_drafter,
        advise=status == Status.ADVICE_REQUESTED and can_advise_on_agreement(user, organisation),
        revise=status == Status.ADVISED and is_drafter,
        approve=approve_open and not is_drafter,
        record_signatures=in_force and (keeps_register or is_drafter),
        upload_signed_copy=in_force and (keeps_register or is_drafter),
        start_review=keeps_register
        and (status == Status.APPROVED or (status == Status.UNDER_REVIEW and not reviewing)),
        complete_review=reviewing and keeps_register,
        terminate=agreement.version_in_force is not None
        and can_terminate_agreement(user, organisation),
        confirm_data_fate=status == Status.TERMINATED and keeps_register,
        withdraw=agreement.status in (Status.DRAFT, Status.ADVICE_REQUESTED, Status.ADVISED)
        and agreement.version == 1
        and (is_drafter or is_approver),
        approve_refused_because=(
            "You drafted this version, so someone else must approve it: nobody approves "
            "what they drafted themselves."
            if approve_open and is_drafter
            else ""
        ),
    )


def open_review(agreement: Agreement) -> AgreementReview | None:
    return agreement.reviews.filter(completed_at__isnull=True).first()


# (action name, the refusal for someone whose roles never allow it)
REFUSALS = {
    "edit": "Only the person who drafted this version changes it.",
    "request_advice": "Only the person who drafted this version asks for the DPO's advice.",
    "advise": "Only the DPO advises on an agreement.",
    "revise": "Only the person who drafted this version takes it back to draft.",
    "approve": "Only the headteacher or the chair of governors approves an agreement, "
    "and never one they drafted.",
    "record_signatures": "Only those who keep the register, or the drafter, record signatures.",
    "upload_signed_copy": "Only those who keep the register, or the drafter, upload the "
    "signed copy.",
    "start_review": "Only the DPO, the information manager, the headteacher or the chair "
    "reviews an agreement.",
    "complete_review": "Only the DPO, the information manager, the headteacher or the chair "
    "reviews an agreement.",
    "terminate": "Only the headteacher or the chair of governors terminates an agreement.",
    "confirm_data_fate": "Only the DPO, the information manager, the headteacher or the chair "
    "confirms what happened to the data.",
    "withdraw": "Only the drafter, the headteacher or the chair withdraws a draft agreement.",
}


def may_ever_take(agreement: Agreement, actor: User, action: str) -> bool:
    """Whether `actor`'s roles (and being the drafter) allow `action` in some status."""
    organisation = agreement.organisation
    is_drafter = agreement.drafted_by_id == actor.pk
    keeps_register = can_keep_register(actor, organisation)
    is_approver = can_approve_agreement(actor, organisation)
    allowed = {
        "edit": is_drafter,
        "request_advice": is_drafter,
        "advise": can_advise_on_agreement(actor, organisation),
        "revise": is_drafter,
        "approve": is_approver and not is_drafter,
        "record_signatures": keeps_register or is_drafter,
        "upload_signed_copy": keeps_register or is_drafter,
        "start_review": keeps_register,
        "complete_review": keeps_register,
        "terminate": can_terminate_agreement(actor, organisation),
        "confirm_data_fate": keeps_register,
        "withdraw": is_drafter or is_approver,
    }
    return bool(allowed[action])


def out_of_order_message(agreement: Agreement) -> str:
    return (
        f"That step cannot be taken now: {agreement.reference} stands at "
        f"\u201c{agreement.get_status_display()}\u201d."
    )


# --- Drafting --------------------------------------------------------------------------


def content_from_proposal(proposal: Proposal) -> tuple[Content, list[PartyAnswers]]:
    """What an approved proposal already says, to prefill an agreement (issue 5, item 4)."""
    purpose = "\n\n".join(
        text for text in (proposal.purpose_described, proposal.why_personal_data) if text
    )
    conditions = f"Conditions of approval: {proposal.conditions}" if proposal.conditions else ""
    content = Content(
        title=proposal.name,
        purpose=purpose,
        data_shared=proposal.information_shared,
        categories=list(proposal.categories.all()),
        security_measures=conditions,
    )
    parties = [PartyAnswers(proposal.organisation, PartyRole.CONTROLLER)] + [
        PartyAnswers(recipient, PartyRole.CONTROLLER) for recipient in proposal.recipients.all()
    ]
    return content, parties


def create_agreement(
    organisation: Organisation,
    *,
    actor: User,
    kind: str,
    content: Content,
    parties: Sequence[PartyAnswers] = (),
    proposal: Proposal | None = None,
) -> Agreement:
    """Start a draft. The school itself is always a party, as controller."""
    _check_kind(kind)
    _check_content(organisation, kind, content)
    if proposal is not None and (
        proposal.organisation_id != organisation.pk or not proposal.is_approved
    ):
        raise_if({"proposal": "Only an approved proposal of this school gives an agreement."})
    with transaction.atomic():
        require(
            can_draft_agreement(actor, organisation),
            "Only members of the organisation draft its agreements.",
        )
        prefix = "DPA" if kind == Kind.DPA else "ISA"
        agreement = Agreement(
            organisation=organisation,
            reference=next_reference(organisation, prefix),
            kind=kind,
            proposal=proposal,
            drafted_by=actor,
        )
        _apply_content(agreement, content)
        _add_parties(agreement, [PartyAnswers(organisation, PartyRole.CONTROLLER), *parties])
        if kind == Kind.DPA:
            DpaClause.objects.bulk_create(
                DpaClause(agreement=agreement, point=point) for point in Article28.values
            )
        changes = {"kind": kind, "title": agreement.title}
        if proposal is not None:
            changes["proposal"] = proposal.reference
        audit.record(actor, "agreement.created", agreement, changes)
    return agreement


def update_content(agreement: Agreement, *, actor: User, content: Content) -> Agreement:
    _check_content(agreement.organisation, agreement.kind, content)
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "edit")
        _apply_content(agreement, content)
        audit.record(actor, "agreement.changed", agreement, {"version": agreement.version})
    return agreement


def add_party(agreement: Agreement, *, actor: User, answers: PartyAnswers) -> Party:
    _check_role(answers.role)
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "edit")
        if agreement.parties.filter(organisation=answers.organisation).exists():
            raise_if({"organisation": f"{answers.organisation} is already a party."})
        (party,) = _add_parties(agreement, [answers])
        changes = {"party": answers.organisation.name, "role": answers.role}
        audit.record(actor, "agreement.party_added", agreement, changes)
    return party


def remove_party(party: Party, *, actor: User) -> None:
    with transaction.atomic():
        agreement = lock_for(party.agreement, actor, "edit")
        if party.organisation_id == agreement.organisation_id:
            raise_if({"party": "The school is always a party to its own agreements."})
        party.delete()
        audit.record(
            actor, "agreement.party_removed", agreement, {"party": party.organisation.name}
        )


def set_dpa_clauses(
    agreement: Agreement, *, actor: User, answers: Sequence[ClauseAnswers]
) -> Agreement:
    """Mark each Article 28(3) point present at a clause, or absent with a justification."""
    errors: dict[str, str] = {}
    for answer in answers:
        if answer.point not in Article28.values:
            errors["checklist"] = f"There is no point ({answer.point}) in Article 28(3)."
            continue
        if answer.present and not answer.clause_reference.strip():
            errors[f"clause_{answer.point}"] = (
                f"Give the clause where point ({answer.point}) is found."
            )
        if answer.present is False and not answer.justification.strip():
            errors[f"justification_{answer.point}"] = (
                f"Say why the contract does without point ({answer.point})."
            )
    raise_if(errors)
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "edit")
        if not agreement.is_dpa:
            raise_if({"__all__": "Only a data processing agreement has the Article 28 checklist."})
        by_point = {clause.point: clause for clause in agreement.clauses.all()}
        for answer in answers:
            clause = by_point[answer.point]
            clause.present = answer.present
            clause.clause_reference = answer.clause_reference.strip() if answer.present else ""
            clause.justification = answer.justification.strip() if answer.present is False else ""
            clause.save()
        settled = [point for point in Article28.values if by_point[point].is_settled]
        audit.record(actor, "agreement.checklist_changed", agreement, {"settled": settled})
    return agreement


def content_gaps(agreement: Agreement) -> dict[str, str]:
    """What must be filled in before the DPO is asked for advice, by field name."""
    required = {
        "purpose": "Say what the sharing is for.",
        "data_shared": "Say what data is shared.",
        "method": "Say how the data is shared.",
        "security_measures": "Describe the security measures.",
        "retention": "Say how long the data is kept.",
        "return_or_disposal": "Say how the data is returned or disposed of at the end.",
    }
    if agreement.kind == Kind.PROTOCOL:
        # A protocol sets principles between organisations, not one exchange.
        required = {name: required[name] for name in ("purpose", "security_measures")}
    gaps = {name: message for name, message in required.items() if not getattr(agreement, name)}
    if agreement.kind != Kind.PROTOCOL and not agreement.lawful_bases.exists():
        gaps["lawful_bases"] = "Choose the lawful basis for the sharing."
    if agreement.start_date is None:
        gaps["start_date"] = "Give the date the agreement starts."
    if agreement.parties.count() < 2:
        gaps["parties"] = "Add the other party or parties."
    if agreement.is_dpa and not agreement.parties.filter(role=PartyRole.PROCESSOR).exists():
        gaps["parties"] = "A data processing agreement needs the processor as a party."
    return gaps


def approval_gaps(agreement: Agreement) -> dict[str, str]:
    """What stands in the way of approval: for a DPA, each point not present or justified."""
    if not agreement.is_dpa:
        return {}
    points = unsettled_points(agreement.clauses.all())
    if not points:
        return {}
    listed = ", ".join(f"({point})" for point in points)
    return {
        "checklist": f"Article 28(3) points {listed} are neither present in the contract "
        "nor justified."
    }


# --- Advice and approval ------------------------------------------------------------


def request_advice(agreement: Agreement, *, actor: User) -> Agreement:
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "request_advice")
        raise_if(content_gaps(agreement))
        apply_transition(agreement, agreement.request_advice)
        agreement.advice_requested_by = actor
        agreement.advice_requested_at = timezone.now()
        save_agreement(agreement)
        audit.record(actor, "agreement.advice_requested", agreement, {"version": agreement.version})
        email_on_commit(emails.advice_requested, agreement)
    return agreement


def advise_on_agreement(agreement: Agreement, *, actor: User, advice: str) -> Agreement:
    """The DPO's advice on the content: advice only; the DPO cannot approve (step 5)."""
    if not advice.strip():
        raise_if({"advice": "Write your advice on the agreement."})
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "advise")
        apply_transition(agreement, agreement.give_advice)
        agreement.advice = advice.strip()
        agreement.advised_by = actor
        agreement.advised_at = timezone.now()
        save_agreement(agreement)
        audit.record(actor, "agreement.advised", agreement, {"version": agreement.version})
        email_on_commit(emails.advised, agreement)
    return agreement


def revise_agreement(agreement: Agreement, *, actor: User) -> Agreement:
    """Take an advised agreement back to draft, to act on the advice; it is asked for again."""
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "revise")
        apply_transition(agreement, agreement.revise)
        save_agreement(agreement)
        audit.record(actor, "agreement.revised", agreement, {"version": agreement.version})
    return agreement


def approve_agreement(agreement: Agreement, *, actor: User, notes: str = "") -> Agreement:
    """Approve the version; it goes on the register and its review period starts today."""
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "approve")
        raise_if(approval_gaps(agreement))
        apply_transition(agreement, agreement.approve)
        now = timezone.now()
        agreement.approval_notes = notes.strip()
        agreement.approved_by = actor
        agreement.approved_at = now
        agreement.review_period_starts = timezone.localdate(now)
        save_agreement(agreement)
        version = _keep_version(agreement, actor, now)
        changes = {"version": version.number, "changed": [c["field"] for c in version.changes]}
        audit.record(actor, "agreement.approved", agreement, changes)
        email_on_commit(emails.approved, agreement)
    return agreement


def _keep_version(agreement: Agreement, actor: User, now: datetime.datetime) -> AgreementVersion:
    content = content_snapshot(agreement)
    previous = agreement.versions.filter(number=agreement.version - 1).first()
    changes = content_changes(previous.content, content) if previous else []
    reasons = ""
    if previous is not None:
        review = agreement.reviews.filter(outcome=ReviewOutcome.AMEND).first()
        reasons = review.outcome_reasons if review else ""
    return AgreementVersion.objects.create(
        agreement=agreement,
        number=agreement.version,
        content=content,
        changes=[change.__dict__ for change in changes],
        amendment_reasons=reasons,
        approved_by=actor,
        approved_at=now,
    )


def content_snapshot(agreement: Agreement) -> dict[str, str]:
    """The content as people read it, label -> text: what a version keeps and compares."""

    def names(items: Any) -> str:
        return ", ".join(str(item) for item in items.all())

    snapshot = {
        "Title": agreement.title,
        "Sits under": str(agreement.parent or ""),
        "Purpose": agreement.purpose,
        "Lawful basis": names(agreement.lawful_bases),
        "Legal basis: details": agreement.legal_basis_details,
        "The data shared": agreement.data_shared,
        "Categories of data": names(agreement.categories),
        "Special category conditions": names(agreement.special_category_conditions),
        "How it is shared": agreement.method,
        "How often": agreement.frequency,
        "Security measures": agreement.security_measures,
        "How long the data is kept": agreement.retention,
        "Return or disposal of the data at the end": agreement.return_or_disposal,
        "Start date": agreement.start_date.strftime("%-d %B %Y") if agreement.start_date else "",
        "Review interval": f"{agreement.review_interval_months} months",
        "Why the review interval is longer than 12 months": (
            agreement.review_interval_justification
        ),
        "Information assets": names(agreement.assets),
    }
    for number, party in enumerate(agreement.parties.select_related("organisation"), start=1):
        snapshot[f"Party {number}"] = str(party)
    if agreement.is_dpa:
        snapshot["Sub-processors"] = agreement.subprocessors
        snapshot["International transfers"] = agreement.international_transfers
        for clause in agreement.clauses.all():
            snapshot[f"Article 28(3)({clause.point})"] = _clause_text(clause)
    return snapshot


def _clause_text(clause: DpaClause) -> str:
    if clause.present:
        return f"Present at {clause.clause_reference}"
    if clause.present is False:
        return f"Not present: {clause.justification}"
    return ""


def withdraw_agreement(agreement: Agreement, *, actor: User, reasons: str) -> Agreement:
    """Withdraw a first draft that will not go ahead. It is kept, with the reasons."""
    if not reasons.strip():
        raise_if({"reasons": "Give the reason for withdrawing the agreement."})
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "withdraw")
        was = agreement.status
        apply_transition(agreement, agreement.withdraw)
        agreement.withdrawn_reasons = reasons.strip()
        agreement.withdrawn_by = actor
        agreement.withdrawn_at = timezone.now()
        save_agreement(agreement)
        audit.record(actor, "agreement.withdrawn", agreement, {"from": was})
    return agreement


# --- Shared steps ------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in Kind.values:
        raise_if({"kind": "Choose the kind of agreement."})


def _check_role(role: str) -> None:
    if role not in PartyRole.values:
        raise_if({"role": "Choose the party's role."})


def _check_content(
    organisation: Organisation,
    kind: str,
    content: Content,
) -> None:
    errors: dict[str, str] = {}
    if not content.title.strip():
        errors["title"] = "Give the agreement a title."
    errors.update(_parent_errors(organisation, kind, content.parent))
    errors.update(
        interval_errors(
            content.review_interval_months,
            content.review_interval_justification,
            months_field="review_interval_months",
            justification_field="review_interval_justification",
        )
    )
    foreign = [asset for asset in content.assets if asset.organisation_id != organisation.pk]
    if foreign:
        errors["assets"] = "Choose information assets of this school."
    raise_if(errors)


def _parent_errors(
    organisation: Organisation,
    kind: str,
    parent: Agreement | None,
) -> dict[str, str]:
    expected = PARENT_KIND.get(Kind(kind)) if kind in Kind.values else None
    if parent is None:
        if kind in PARENT_REQUIRED:
            return {"parent": "Choose the agreement these procedures belong to."}
        return {}
    if expected is None:
        return {"parent": "Only an agreement or procedures sit under another document."}
    if parent.organisation_id != organisation.pk or parent.kind != expected:
        return {"parent": f"Choose an {Kind(expected).label.lower()} of this school."}
    return {}


def interval_errors(
    months: int | None, justification: str, *, months_field: str, justification_field: str
) -> dict[str, str]:
    if months is None or not 1 <= months <= 36:
        return {months_field: "The review interval must be between 1 and 36 months."}
    if months > DEFAULT_REVIEW_MONTHS and not justification.strip():
        return {
            justification_field: "A review interval longer than 12 months needs a "
            "justification (the policy asks for at least an annual review)."
        }
    return {}


def _apply_content(agreement: Agreement, content: Content) -> None:
    for name in (
        "title",
        "purpose",
        "legal_basis_details",
        "data_shared",
        "method",
        "frequency",
        "security_measures",
        "retention",
        "return_or_disposal",
        "review_interval_justification",
        "subprocessors",
        "international_transfers",
    ):
        setattr(agreement, name, str(getattr(content, name)).strip())
    agreement.start_date = content.start_date
    agreement.review_interval_months = content.review_interval_months
    if content.review_interval_months <= DEFAULT_REVIEW_MONTHS:
        agreement.review_interval_justification = ""
    agreement.parent = content.parent
    if not agreement.is_dpa:
        agreement.subprocessors = agreement.international_transfers = ""
    save_agreement(agreement)
    agreement.lawful_bases.set(content.lawful_bases)
    agreement.categories.set(content.categories)
    agreement.special_category_conditions.set(content.special_category_conditions)
    agreement.assets.set(content.assets)


def _add_parties(agreement: Agreement, parties: Sequence[PartyAnswers]) -> list[Party]:
    start = agreement.parties.count()
    seen: set[int] = set(agreement.parties.values_list("organisation_id", flat=True))
    made: list[Party] = []
    for answers in parties:
        if answers.organisation.pk in seen:
            continue
        seen.add(answers.organisation.pk)
        made.append(
            Party.objects.create(
                agreement=agreement,
                organisation=answers.organisation,
                role=answers.role,
                position=start + len(made),
            )
        )
    return made


def _lock(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_for_update().select_related("organisation").get(pk=agreement.pk)


def lock_for(agreement: Agreement, actor: User, action: str) -> Agreement:
    """The agreement, locked, if `actor` may take `action` on it now.

    A person who may never take the step is refused (PermissionDenied); one
    who might, but not in this status, is told what stands in the way.
    """
    locked = _lock(agreement)
    if getattr(actions_for(locked, actor), action):
        return locked
    if not may_ever_take(locked, actor, action):
        raise PermissionDenied(REFUSALS[action])
    raise ValidationError(out_of_order_message(locked))


def apply_transition(agreement: Agreement, method: Callable[[], None]) -> None:
    if not can_proceed(method):
        raise ValidationError(out_of_order_message(agreement))
    try:
        method()
    except TransitionNotAllowed as error:
        raise ValidationError(out_of_order_message(agreement)) from error


def save_agreement(agreement: Agreement) -> None:
    agreement.updated_at = timezone.now()
    agreement.save()


def email_on_commit(send: Callable[[Agreement], None], agreement: Agreement) -> None:
    transaction.on_commit(lambda: send(agreement))
