"""The life of an agreement in force: signatures, the signed copy, review, termination.

Like `services.py` (drafting, advice and approval), each function here locks
the agreement, checks who acts and in what status (`services.actions_for`),
checks the answers, saves and writes the audit event in one transaction.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from infoshare.agreements import emails
from infoshare.agreements.models import (
    DEFAULT_REVIEW_MONTHS,
    Agreement,
    AgreementReview,
    AgreementVersion,
    DataFate,
    Party,
    ReviewOutcome,
)
from infoshare.agreements.services import (
    apply_transition,
    email_on_commit,
    interval_errors,
    lock_for,
    open_review,
    save_agreement,
)
from infoshare.audit import services as audit
from infoshare.core.checks import raise_if
from infoshare.core.uploads import check_pdf

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.core.files.uploadedfile import UploadedFile

    from infoshare.core.models import User


@dataclass(frozen=True)
class Signature:
    signatory_name: str
    signatory_role: str
    signed_on: datetime.date | None


@dataclass(frozen=True)
class ReviewAnswers:
    """The policy's review questions, each a yes or no with notes, and the outcome."""

    scope_still_relevant: bool | None
    scope_notes: str
    benefits_realised: bool | None
    benefits_notes: str
    elements_complied: bool | None
    compliance_notes: str
    law_or_practice_changed: bool | None
    law_notes: str
    outcome: str
    outcome_reasons: str
    next_interval_months: int = DEFAULT_REVIEW_MONTHS
    next_interval_justification: str = ""


@dataclass(frozen=True)
class PartyConsent:
    """One party's agreement to terminate: who agreed for it, and when."""

    party: Party
    agreed_by: str
    agreed_on: datetime.date | None


@dataclass(frozen=True)
class Termination:
    reasons: str
    disposal_arrangement: str
    consents: Sequence[PartyConsent] = field(default_factory=tuple)


@dataclass(frozen=True)
class DataFateAnswers:
    fate: str
    on: datetime.date | None
    details: str
    evidence: UploadedFile | None = None


# --- In force: signatures, the signed copy ------------------------------------------


def record_signature(party: Party, *, actor: User, signature: Signature) -> Party:
    errors = {}
    if not signature.signatory_name.strip():
        errors["signatory_name"] = "Give the name of the person who signed."
    if not signature.signatory_role.strip():
        errors["signatory_role"] = "Give their role, like 'Headteacher'."
    if signature.signed_on is None:
        errors["signed_on"] = "Give the date they signed."
    elif signature.signed_on > timezone.localdate():
        errors["signed_on"] = "The date signed must be today or in the past."
    raise_if(errors)
    with transaction.atomic():
        agreement = lock_for(party.agreement, actor, "record_signatures")
        party = Party.objects.get(pk=party.pk, agreement=agreement)
        party.signatory_name = signature.signatory_name.strip()
        party.signatory_role = signature.signatory_role.strip()
        party.signed_on = signature.signed_on
        party.save()
        changes = {"party": party.organisation.name, "signed_on": str(party.signed_on)}
        audit.record(actor, "agreement.signature_recorded", agreement, changes)
    return party


def upload_signed_copy(agreement: Agreement, *, actor: User, upload: UploadedFile) -> Agreement:
    check_pdf(upload, "signed_copy")
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "upload_signed_copy")
        agreement.signed_copy.save("signed.pdf", upload, save=False)
        agreement.signed_copy_uploaded_by = actor
        agreement.signed_copy_uploaded_at = timezone.now()
        save_agreement(agreement)
        changes = {"version": agreement.version, "bytes": upload.size}
        audit.record(actor, "agreement.signed_copy_uploaded", agreement, changes)
    return agreement


# --- Review -------------------------------------------------------------------------


def start_review(agreement: Agreement, *, actor: User) -> AgreementReview:
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "start_review")
        apply_transition(agreement, agreement.start_review)
        save_agreement(agreement)
        review = AgreementReview.objects.create(
            agreement=agreement, version=agreement.version, started_by=actor
        )
        audit.record(actor, "agreement.review_started", agreement, {"version": agreement.version})
    return review


def complete_review(
    agreement: Agreement, *, actor: User, answers: ReviewAnswers
) -> AgreementReview:
    """Record the review; continue (a new review period), amend (a new version) or terminate."""
    _check_review(answers)
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "complete_review")
        review = open_review(agreement)
        assert review is not None  # actions_for offers this only with a review open
        _apply_review(review, answers)
        review.completed_by = actor
        review.completed_at = timezone.now()
        review.save()
        _follow_review(agreement, review, actor)
        save_agreement(agreement)
        changes = {"outcome": review.outcome, "status": agreement.status}
        audit.record(actor, "agreement.reviewed", agreement, changes)
    return review


def _check_review(answers: ReviewAnswers) -> None:
    errors: dict[str, str] = {}
    questions = {
        "scope_still_relevant": "Say whether the scope and purpose are still relevant.",
        "benefits_realised": "Say whether the benefits to the data subjects are being realised.",
        "elements_complied": "Say whether every element is being complied with.",
        "law_or_practice_changed": "Say whether legislation or practice have changed.",
    }
    for name, message in questions.items():
        if getattr(answers, name) is None:
            errors[name] = message
    if answers.outcome not in ReviewOutcome.values:
        errors["outcome"] = "Choose whether to continue, amend or terminate the agreement."
    elif answers.outcome != ReviewOutcome.CONTINUE and not answers.outcome_reasons.strip():
        errors["outcome_reasons"] = "Give the reasons for amending or terminating it."
    if answers.outcome == ReviewOutcome.CONTINUE:
        errors.update(
            interval_errors(
                answers.next_interval_months,
                answers.next_interval_justification,
                months_field="next_interval_months",
                justification_field="next_interval_justification",
            )
        )
    raise_if(errors)


def _apply_review(review: AgreementReview, answers: ReviewAnswers) -> None:
    for name in (
        "scope_still_relevant",
        "benefits_realised",
        "elements_complied",
        "law_or_practice_changed",
        "outcome",
    ):
        setattr(review, name, getattr(answers, name))
    review.scope_notes = answers.scope_notes.strip()
    review.benefits_notes = answers.benefits_notes.strip()
    review.compliance_notes = answers.compliance_notes.strip()
    review.law_notes = answers.law_notes.strip()
    review.outcome_reasons = answers.outcome_reasons.strip()
    if answers.outcome == ReviewOutcome.CONTINUE:
        review.next_interval_months = answers.next_interval_months
        review.next_interval_justification = answers.next_interval_justification.strip()


def _follow_review(agreement: Agreement, review: AgreementReview, actor: User) -> None:
    """Continue: a new review period. Amend: the next version, drafted by the reviewer.

    Terminate: the agreement stays under review until the headteacher or chair
    records every party's agreement to end it (terminate_agreement).
    """
    if review.outcome == ReviewOutcome.CONTINUE:
        apply_transition(agreement, agreement.continue_after_review)
        assert review.completed_at is not None
        assert review.next_interval_months is not None
        agreement.review_period_starts = timezone.localdate(review.completed_at)
        agreement.review_interval_months = review.next_interval_months
        agreement.review_interval_justification = review.next_interval_justification
    elif review.outcome == ReviewOutcome.AMEND:
        apply_transition(agreement, agreement.amend)
        # The version in force has just been reviewed: its next review counts from now.
        assert review.completed_at is not None
        agreement.review_period_starts = timezone.localdate(review.completed_at)
        agreement.drafted_by = actor
        agreement.advice = ""
        agreement.advised_by = None
        agreement.advised_at = None
        _file_signatures_with_version(agreement)


def _file_signatures_with_version(agreement: Agreement) -> None:
    """Keep the signatures and signed copy of the version in force on its version row.

    The next version is signed afresh; nothing of the earlier one is lost.
    """
    parties = agreement.parties.select_related("organisation")
    AgreementVersion.objects.filter(agreement=agreement, number=agreement.version - 1).update(
        signatures=[
            {
                "party": party.organisation.name,
                "name": party.signatory_name,
                "role": party.signatory_role,
                "signed_on": party.signed_on.isoformat() if party.signed_on else "",
            }
            for party in parties
        ],
        signed_copy=agreement.signed_copy.name or "",
    )
    agreement.signed_copy = ""
    agreement.signed_copy_uploaded_by = None
    agreement.signed_copy_uploaded_at = None
    parties.update(signatory_name="", signatory_role="", signed_on=None)


# --- Termination ---------------------------------------------------------------------


def terminate_agreement(
    agreement: Agreement, *, actor: User, termination: Termination
) -> Agreement:
    """End an agreement in force: every party agreed, and the data's return or disposal arranged."""
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "terminate")
        _check_termination(agreement, termination)
        apply_transition(agreement, agreement.terminate)
        for consent in termination.consents:
            Party.objects.filter(pk=consent.party.pk, agreement=agreement).update(
                termination_agreed_by=consent.agreed_by.strip(),
                termination_agreed_on=consent.agreed_on,
            )
        agreement.termination_reasons = termination.reasons.strip()
        agreement.disposal_arrangement = termination.disposal_arrangement.strip()
        agreement.terminated_by = actor
        agreement.terminated_at = timezone.now()
        save_agreement(agreement)
        audit.record(actor, "agreement.terminated", agreement, {"version": agreement.version})
        email_on_commit(emails.terminated, agreement)
    return agreement


def _check_termination(agreement: Agreement, termination: Termination) -> None:
    errors: dict[str, str] = {}
    if not termination.reasons.strip():
        errors["reasons"] = "Give the reasons for terminating the agreement."
    if not termination.disposal_arrangement.strip():
        errors["disposal_arrangement"] = (
            "Say how the data shared will be returned or securely disposed of."
        )
    consented = {consent.party.pk: consent for consent in termination.consents}
    today = timezone.localdate()
    for party in agreement.parties.select_related("organisation"):
        consent = consented.get(party.pk)
        name = f"party_{party.uuid}"
        if consent is None or not consent.agreed_by.strip() or consent.agreed_on is None:
            errors[name] = f"Record who agreed for {party.organisation}, and when."
        elif consent.agreed_on > today:
            errors[name] = "The date agreed must be today or in the past."
    raise_if(errors)


def confirm_data_fate(agreement: Agreement, *, actor: User, answers: DataFateAnswers) -> Agreement:
    """Confirm what happened to the data; the agreement expires and the contact is told."""
    errors: dict[str, str] = {}
    if answers.fate not in DataFate.values:
        errors["fate"] = "Say whether the data was returned or destroyed."
    if answers.on is None:
        errors["on"] = "Give the date the data was returned or destroyed."
    elif answers.on > timezone.localdate():
        errors["on"] = "The date must be today or in the past."
    raise_if(errors)
    if answers.evidence is not None:
        check_pdf(answers.evidence, "evidence")
    with transaction.atomic():
        agreement = lock_for(agreement, actor, "confirm_data_fate")
        apply_transition(agreement, agreement.expire)
        agreement.data_fate = answers.fate
        agreement.data_fate_on = answers.on
        agreement.data_fate_details = answers.details.strip()
        if answers.evidence is not None:
            agreement.disposal_evidence.save("evidence.pdf", answers.evidence, save=False)
        agreement.expired_by = actor
        agreement.expired_at = timezone.now()
        save_agreement(agreement)
        changes = {"fate": answers.fate, "evidence": answers.evidence is not None}
        audit.record(actor, "agreement.expired", agreement, changes)
        email_on_commit(emails.expired, agreement)
    return agreement
