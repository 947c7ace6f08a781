"""Every change to the decision log (DESIGN.md rule 1): record, correct, review, and
the audited view of a special category record.

A decision is checked as a whole before anything is saved; what is wrong is
raised as one ValidationError keyed by the form fields it concerns, with a
message that says what to do. Decisions are never edited or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Membership,
    Organisation,
    Person,
    Purpose,
    SpecialCategoryCondition,
    User,
)
from infoshare.core.references import next_reference
from infoshare.decisions.models import (
    CONSENT_NOT_SOUGHT,
    Arrangement,
    Check,
    Consent,
    Decision,
    DisclosureReview,
    Outcome,
)
from infoshare.decisions.rules import (
    can_correct_any_decision,
    can_record_decision,
    can_review_disclosures,
)

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

# Article 9(2) conditions that apply only with a condition of DPA 2018 Schedule 1
# (section 10 of the Act): employment, substantial public interest, health and
# social care, public health, and archiving and research.
NEEDS_SCHEDULE_1 = frozenset(
    {
        "art9-b-employment",
        "art9-g-substantial-public-interest",
        "art9-h-health-social-care",
        "art9-i-public-health",
        "art9-j-archiving-research",
    }
)
CONSENT_BASIS = "consent"


@dataclass(frozen=True)
class DecisionDraft:
    """Everything a person answers when recording a decision."""

    information: str
    categories: Sequence[DataCategory]
    recipient_person: str
    purpose: Purpose
    outcome: str
    consent: str
    reasons: str
    decided_by: User
    decided_on: datetime.date
    people: Sequence[Person] = ()
    people_described: str = ""
    recipient_organisation: Organisation | None = None
    recipient_organisation_name: str = ""
    purpose_described: str = ""
    lawful_basis: LawfulBasis | None = None
    conditions: Sequence[SpecialCategoryCondition] = ()
    consent_explanation: str = ""
    checks: Sequence[str] = field(default_factory=tuple)
    method: str = ""
    arrangement: str = ""
    agreement_reference: str = ""

    @property
    def is_share(self) -> bool:
        return self.outcome != Outcome.NOT_SHARED

    @property
    def special_categories(self) -> list[DataCategory]:
        return [category for category in self.categories if category.is_special]


# --- Recording and correcting -------------------------------------------------------


def record_decision(organisation: Organisation, *, actor: User, draft: DecisionDraft) -> Decision:
    """Record a decision to share, share in part or not share."""
    with transaction.atomic():
        if not can_record_decision(actor, organisation):
            raise PermissionDenied("Only members of the organisation record its decisions.")
        decision = _create(organisation, actor=actor, draft=draft)
        audit.record(actor, "decision.recorded", decision, _audit_summary(decision))
    return decision


def correct_decision(
    decision: Decision, *, actor: User, draft: DecisionDraft, reason: str
) -> Decision:
    """Record a corrected version of `decision`, which it supersedes; both are kept."""
    with transaction.atomic():
        original = _lock(decision)
        _require_can_correct(original, actor)
        if not reason.strip():
            raise ValidationError(
                {"correction_reason": "Explain what was wrong with the original record"}
            )
        correction = _create(
            original.organisation,
            actor=actor,
            draft=draft,
            supersedes=original,
            correction_reason=reason.strip(),
        )
        audit.record(
            actor,
            "decision.corrected",
            correction,
            {**_audit_summary(correction), "supersedes": original.reference},
        )
    return correction


def can_correct(decision: Decision, user: User) -> bool:
    """Whether `user` may correct `decision` now (it is the current version)."""
    return not _is_superseded(decision) and (
        decision.recorded_by_id == user.pk or can_correct_any_decision(user, decision.organisation)
    )


def _require_can_correct(decision: Decision, actor: User) -> None:
    if not Decision.objects.for_user(actor, decision.organisation).filter(pk=decision.pk).exists():
        raise PermissionDenied("You cannot see this decision.")
    if _is_superseded(decision):
        raise ValidationError(
            f"{decision.reference} has already been corrected by "
            f"{decision.superseded_by.reference}. Correct the latest record instead."
        )
    if decision.recorded_by_id != actor.pk and not can_correct_any_decision(
        actor, decision.organisation
    ):
        raise PermissionDenied("Only the person who recorded it, the DPO or the headteacher can.")


def _is_superseded(decision: Decision) -> bool:
    return Decision.objects.filter(supersedes=decision).exists()


def _create(
    organisation: Organisation,
    *,
    actor: User,
    draft: DecisionDraft,
    supersedes: Decision | None = None,
    correction_reason: str = "",
) -> Decision:
    errors = decision_errors(organisation, draft)
    if errors:
        raise ValidationError(errors)
    share = draft.is_share
    decision = Decision.objects.create(
        organisation=organisation,
        reference=next_reference(organisation, "DEC"),
        people_described=draft.people_described.strip(),
        information=draft.information.strip(),
        has_special_category=bool(draft.special_categories),
        recipient_organisation=draft.recipient_organisation,
        recipient_organisation_name=(
            "" if draft.recipient_organisation else draft.recipient_organisation_name.strip()
        ),
        recipient_person=draft.recipient_person.strip(),
        purpose=draft.purpose,
        purpose_described=draft.purpose_described.strip()
        if draft.purpose.needs_description
        else "",
        outcome=draft.outcome,
        lawful_basis=draft.lawful_basis if share else None,
        consent=draft.consent,
        consent_explanation=draft.consent_explanation.strip(),
        # Checks, method and arrangement describe a share; a refusal has none.
        checks=[check for check in Check.values if check in draft.checks] if share else [],
        reasons=draft.reasons.strip(),
        method=draft.method if share else "",
        arrangement=draft.arrangement if share else "",
        agreement_reference=(
            draft.agreement_reference.strip()
            if share and draft.arrangement == Arrangement.AGREEMENT
            else ""
        ),
        decided_by=draft.decided_by,
        decided_on=draft.decided_on,
        recorded_by=actor,
        supersedes=supersedes,
        correction_reason=correction_reason,
    )
    decision.people.set(draft.people)
    decision.categories.set(draft.categories)
    if share and draft.special_categories:
        decision.conditions.set(draft.conditions)
    return decision


def _lock(decision: Decision) -> Decision:
    return Decision.objects.select_for_update(of=("self",)).get(pk=decision.pk)


def _audit_summary(decision: Decision) -> dict[str, object]:
    """What the audit trail keeps: the shape of the decision, never its content."""
    return {
        "outcome": decision.outcome,
        "arrangement": decision.arrangement,
        "special_category": decision.has_special_category,
        "people": len(decision.people.all()),
    }


# --- The rules a decision must meet ---------------------------------------------------


def decision_errors(organisation: Organisation, draft: DecisionDraft) -> dict[str, list[str]]:
    """Every way `draft` falls short, keyed by the field to fix."""
    errors: dict[str, list[str]] = {}
    for check in (
        _people_errors,
        _recipient_errors,
        _purpose_errors,
        _share_errors,
        _special_category_errors,
        _consent_errors,
        _date_and_decider_errors,
    ):
        for key, message in check(organisation, draft):
            errors.setdefault(key, []).append(message)
    return errors


Problems = list[tuple[str, str]]


def _people_errors(organisation: Organisation, draft: DecisionDraft) -> Problems:
    if not draft.people and not draft.people_described.strip():
        return [
            (
                "people",
                "Choose the people this decision is about, or describe them below if they "
                "are not on the people list",
            )
        ]
    if any(person.organisation_id != organisation.pk for person in draft.people):
        return [("people", "Choose people from this school's list only")]
    return []


def _recipient_errors(organisation: Organisation, draft: DecisionDraft) -> Problems:
    problems: Problems = []
    if draft.recipient_organisation is None and not draft.recipient_organisation_name.strip():
        problems.append(
            (
                "recipient_organisation_name",
                "Choose the organisation the information was for, or type its name",
            )
        )
    if draft.recipient_organisation == organisation:
        problems.append(
            (
                "recipient_organisation",
                "Sharing inside the school is recorded with the recipient's role. "
                "Choose the other organisation",
            )
        )
    if not draft.recipient_person.strip():
        problems.append(("recipient_person", "Enter the name or role of the person it was for"))
    return problems


def _purpose_errors(organisation: Organisation, draft: DecisionDraft) -> Problems:
    if draft.purpose.needs_description and not draft.purpose_described.strip():
        return [("purpose_described", "Describe the purpose, as you chose 'Other'")]
    return []


def _share_errors(organisation: Organisation, draft: DecisionDraft) -> Problems:
    """A share needs its lawful basis, the seven tests, a method and an arrangement."""
    if not draft.is_share:
        return []
    problems: Problems = []
    if draft.lawful_basis is None:
        problems.append(("lawful_basis", "Choose the lawful basis for sharing"))
    missing = [
        Check(check).label.split(":")[0] for check in Check.values if check not in draft.checks
    ]
    if missing:
        problems.append(
            (
                "checks",
                "Confirm each of the seven tests before you share. Not confirmed: "
                f"{', '.join(missing).lower()}. If you cannot confirm one, share only "
                "what passes every test, or record that you did not share",
            )
        )
    if not draft.method:
        problems.append(("method", "Choose how the information was shared"))
    if not draft.arrangement:
        problems.append(("arrangement", "Choose what the sharing was made under"))
    elif draft.arrangement == Arrangement.AGREEMENT and not draft.agreement_reference.strip():
        problems.append(("agreement_reference", "Enter the reference of the agreement"))
    return problems


def _special_category_errors(organisation: Organisation, draft: DecisionDraft) -> Problems:
    special = draft.special_categories
    if not draft.is_share or not special:
        return []
    names = ", ".join(category.name.lower() for category in special)
    article_9 = [
        c for c in draft.conditions if c.source == SpecialCategoryCondition.Source.ARTICLE_9
    ]
    schedule_1 = [
        c for c in draft.conditions if c.source == SpecialCategoryCondition.Source.SCHEDULE_1
    ]
    if not article_9:
        return [
            (
                "conditions",
                f"You are sharing special category data ({names}). Choose the Article 9 "
                "condition that allows it. To keep a child safe without consent, choose "
                "9(2)(g) with Schedule 1 paragraph 18",
            )
        ]
    needing = [c for c in article_9 if c.code in NEEDS_SCHEDULE_1]
    if needing and not schedule_1:
        articles = ", ".join(c.article for c in needing)
        return [
            (
                "conditions",
                f"Article {articles} applies only with a condition from DPA 2018 Schedule 1. "
                "Choose one too (for safeguarding, paragraph 18)",
            )
        ]
    return []


def _consent_errors(organisation: Organisation, draft: DecisionDraft) -> Problems:
    problems: Problems = []
    explained = bool(draft.consent_explanation.strip())
    if draft.consent in CONSENT_NOT_SOUGHT and not explained:
        problems.append(("consent_explanation", "Explain why consent was not sought"))
    if draft.consent == Consent.REFUSED and draft.is_share and not explained:
        problems.append(
            (
                "consent_explanation",
                "Consent was refused: explain the lawful reason for sharing anyway",
            )
        )
    basis = draft.lawful_basis
    if draft.is_share and basis and basis.code == CONSENT_BASIS and draft.consent != Consent.GIVEN:
        problems.append(
            (
                "lawful_basis",
                "Consent can be the lawful basis only when it was given. Choose another basis",
            )
        )
    return problems


def _date_and_decider_errors(organisation: Organisation, draft: DecisionDraft) -> Problems:
    problems: Problems = []
    if draft.decided_on > timezone.localdate():
        problems.append(("decided_on", "The date of the decision must be today or in the past"))
    is_member = Membership.objects.active().filter(organisation=organisation, user=draft.decided_by)
    if not is_member.exists():
        problems.append(("decided_by", "Choose a current member of the school"))
    return problems


# --- Viewing and reviewing ---------------------------------------------------------------


def note_view(decision: Decision, *, actor: User) -> None:
    """Every view of a special category record is an audit event (DESIGN.md rule 5)."""
    if not decision.has_special_category:
        return
    with transaction.atomic():
        audit.record(actor, "decision.viewed", decision)


def note_export(organisation: Organisation, *, actor: User, changes: dict[str, object]) -> None:
    """A download of the decision log: formats, counts and filter codes, never content."""
    with transaction.atomic():
        audit.record(actor, "decisions.exported", organisation, changes, label="Decision log")


def note_history_viewed(person: Person, *, actor: User, references: list[str]) -> None:
    """A history page that showed special category decisions: which ones, about whom
    (by UUID, never the name), not what they say."""
    if not references:
        return
    with transaction.atomic():
        audit.record(
            actor,
            "person.history_viewed",
            person,
            {"decisions": references},
            label=_person_label(person),
        )


def note_history_export(person: Person, *, actor: User, export_format: str, count: int) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            "person.history_exported",
            person,
            {"format": export_format, "count": count},
            label=_person_label(person),
        )


def _person_label(person: Person) -> str:
    return f"Person {person.uuid}"


def review_disclosure(
    decision: Decision,
    *,
    actor: User,
    justified: bool,
    agreement_needed: bool,
    notes: str = "",
) -> DisclosureReview:
    """The DPO's review of a one-off or emergency disclosure made without an agreement."""
    with transaction.atomic():
        decision = _lock(decision)
        if not can_review_disclosures(actor, decision.organisation):
            raise PermissionDenied("Only the DPO reviews disclosures.")
        _require_awaiting_review(decision)
        review = DisclosureReview.objects.create(
            decision=decision,
            justified=justified,
            agreement_needed=agreement_needed,
            notes=notes.strip(),
            reviewed_by=actor,
        )
        audit.record(
            actor,
            "decision.reviewed",
            decision,
            {"justified": justified, "agreement_needed": agreement_needed},
        )
    return review


def _require_awaiting_review(decision: Decision) -> None:
    if not decision.needs_review:
        raise ValidationError(
            "Only one-off and emergency disclosures made without an agreement are reviewed."
        )
    if _is_superseded(decision):
        raise ValidationError("This record has been corrected. Review the latest version instead.")
    if DisclosureReview.objects.filter(decision=decision).exists():
        raise ValidationError("This disclosure has already been reviewed.")
