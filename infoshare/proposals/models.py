"""Sharing proposals: Appendix A steps 1-3 of the school policy, up to the decision.

A proposal starts with "why do we need to share?" (step 1), considers
anonymisation (step 2), answers the ten privacy impact screening questions
(step 3), is assessed by the DPO (full PIA mandatory, recommended or not
required), may go through a full PIA with a risk register and the DPO's
advice, and ends with the headteacher's or chair's decision (policy 9.6-9.8).

The statuses and the transitions between them are declared here, on the
model, with django-fsm-2; `services.py` is the only caller of the
transitions and adds the permission checks, the audit event and the emails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from infoshare.core.models import DataCategory, Organisation, Purpose, User
from infoshare.core.rules import roles_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    NOT_NEEDED = "not_needed", "Closed: sharing not needed"
    NO_PERSONAL_DATA = "no_personal_data", "Closed: no personal data to be shared"
    SCREENING_SUBMITTED = "screening_submitted", "Awaiting DPO assessment"
    ASSESSED = "assessed", "Assessed by the DPO"
    PIA_IN_PROGRESS = "pia_in_progress", "Full PIA in progress"
    PIA_SUBMITTED = "pia_submitted", "Awaiting DPO advice"
    ADVISED = "advised", "Advised by the DPO"
    APPROVED = "approved", "Approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", "Approved with conditions"
    CANCELLED = "cancelled", "Cancelled"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = (
    Status.DRAFT,
    Status.SCREENING_SUBMITTED,
    Status.ASSESSED,
    Status.PIA_IN_PROGRESS,
    Status.PIA_SUBMITTED,
    Status.ADVISED,
)
CLOSED_STATUSES = tuple(status for status in Status if status not in OPEN_STATUSES)
DECIDED_STATUSES = (Status.APPROVED, Status.APPROVED_WITH_CONDITIONS, Status.CANCELLED)
APPROVED_STATUSES = (Status.APPROVED, Status.APPROVED_WITH_CONDITIONS)


class Anonymisation(models.TextChoices):
    """Step 2: what was considered instead of sharing personal data."""

    FULL = "full", "Full anonymisation"
    PSEUDONYMISATION = "pseudonymisation", "Pseudonymisation"
    PARTIAL = "partial", "Partial anonymisation or pseudonymisation"
    NONE_FEASIBLE = "none_feasible", "None is feasible"


class PrivacyNotice(models.TextChoices):
    """Screening question 5."""

    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class PiaRequirement(models.TextChoices):
    """The DPO's assessment of the screening answers."""

    MANDATORY = "mandatory", "Full PIA mandatory"
    RECOMMENDED = "recommended", "Full PIA recommended"
    NOT_REQUIRED = "not_required", "Full PIA not required"


class Advice(models.TextChoices):
    """The DPO's advice after a full PIA: advice, never approval (policy 9.7)."""

    PROCEED = "proceed", "Proceed"
    PROCEED_WITH_CONDITIONS = "proceed_with_conditions", "Proceed only with conditions"
    DO_NOT_PROCEED = "do_not_proceed", "Do not proceed"


class Outcome(models.TextChoices):
    """The headteacher's or chair's decision (Appendix A step 3, policy 9.8)."""

    APPROVED = Status.APPROVED.value, "Approve"
    APPROVED_WITH_CONDITIONS = Status.APPROVED_WITH_CONDITIONS.value, "Approve with conditions"
    CANCELLED = Status.CANCELLED.value, "Cancel the proposal"


# The decisions that follow each piece of advice; any other overrides it (policy 9.8).
OUTCOMES_FOLLOWING_ADVICE = {
    Advice.PROCEED: {Outcome.APPROVED, Outcome.APPROVED_WITH_CONDITIONS},
    Advice.PROCEED_WITH_CONDITIONS: {Outcome.APPROVED_WITH_CONDITIONS},
    Advice.DO_NOT_PROCEED: {Outcome.CANCELLED},
}


# Screening answers that point to a full PIA when yes (policy 9.6 and the ICO's
# list of processing likely to result in a high risk).
PIA_SIGNALS = (
    ("special_category", "It shares special category data (question 4)."),
    ("new_systems", "It involves new systems or technology (question 7, policy 9.6)."),
    ("automated_decisions", "It involves automated decision-making (question 8)."),
    ("profiling", "It involves profiling (question 9)."),
    ("combines_sources", "It combines or matches data from several sources (question 10)."),
)


# --- Risk scoring --------------------------------------------------------------------


class Likelihood(models.IntegerChoices):
    REMOTE = 1, "Remote"
    POSSIBLE = 2, "Possible"
    PROBABLE = 3, "Probable"


class Severity(models.IntegerChoices):
    MINIMAL = 1, "Minimal"
    SIGNIFICANT = 2, "Significant"
    SEVERE = 3, "Severe"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Effect(models.TextChoices):
    """What the measures do to a risk."""

    ELIMINATED = "eliminated", "Eliminated"
    REDUCED = "reduced", "Reduced"
    ACCEPTED = "accepted", "Accepted"


def risk_level(likelihood: int, severity: int) -> RiskLevel:
    """The overall risk of a likelihood and a severity, as in the ICO's DPIA template.

    The product of the two (each 1-3): 1-2 low, 3-4 medium, 6-9 high. So a
    remote but severe harm is medium, and a probable significant one is high.
    """
    score = Likelihood(likelihood) * Severity(severity)
    if score <= 2:
        return RiskLevel.LOW
    if score <= 4:
        return RiskLevel.MEDIUM
    return RiskLevel.HIGH


@dataclass(frozen=True)
class MatrixCell:
    likelihood: Likelihood
    severity: Severity
    level: RiskLevel
    risks: tuple[str, ...]  # the labels of the risks that fall here, like "R1"


@dataclass(frozen=True)
class MatrixRow:
    severity: Severity
    cells: tuple[MatrixCell, ...]


def risk_matrix(placed: Iterable[tuple[str, int, int]]) -> list[MatrixRow]:
    """The 3 x 3 matrix, severe at the top, with each (label, likelihood, severity) placed."""
    by_cell: dict[tuple[int, int], list[str]] = {}
    for label, likelihood, severity in placed:
        by_cell.setdefault((likelihood, severity), []).append(label)
    return [
        MatrixRow(
            severity=severity,
            cells=tuple(
                MatrixCell(
                    likelihood=likelihood,
                    severity=severity,
                    level=risk_level(likelihood, severity),
                    risks=tuple(by_cell.get((likelihood, severity), ())),
                )
                for likelihood in Likelihood
            ),
        )
        for severity in reversed(Severity)
    ]


def before_and_after(risks: Iterable[Risk]) -> tuple[list[MatrixRow], list[MatrixRow]]:
    """Where the risks fall before the measures, and where those left fall after them."""
    risks = list(risks)
    before = risk_matrix((risk.label, risk.likelihood, risk.severity) for risk in risks)
    after = risk_matrix(
        (risk.label, risk.residual_likelihood, risk.residual_severity)
        for risk in risks
        if risk.residual_level is not None
        and risk.residual_likelihood is not None
        and risk.residual_severity is not None
    )
    return before, after


# --- The proposal --------------------------------------------------------------------


def _has(condition: str) -> Callable[[Any], bool]:
    """A transition's condition: the proposal's property named `condition` is true."""

    def check(proposal: Any) -> bool:
        return bool(getattr(proposal, condition))

    check.__name__ = condition
    return check


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def for_user(self, user: User, organisation: Organisation) -> ProposalQuerySet:
        """The proposals of `organisation` that `user` may see: all of them, to any member.

        Proposals describe projects, not people, and anyone in the school should
        be able to see where one stands.
        """
        if not roles_in(user, organisation):
            return self.none()
        return self.filter(organisation=organisation)

    def open(self) -> ProposalQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Proposal(FSMModelMixin, models.Model):
    """A new information sharing arrangement, from its purpose to an accountable decision."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="proposals"
    )
    reference = models.CharField(max_length=20)
    status = FSMField(default=Status.DRAFT, choices=Status.choices, protected=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # Step 1: deciding to share (and screening questions 1 and 2).
    name = models.CharField("Name of the project or activity", max_length=200)
    purpose = models.ForeignKey(
        Purpose, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purpose_described = models.TextField("The purpose of the project", blank=True)
    why_personal_data = models.TextField("Why personal data needs to be shared", blank=True)
    achievable_without = models.BooleanField(
        "Could the goal be achieved without sharing personal data?", null=True, blank=True
    )
    achievable_without_reasons = models.TextField(blank=True)

    # Step 2: anonymisation or pseudonymisation considered.
    anonymisation = models.CharField(max_length=20, choices=Anonymisation.choices, blank=True)
    anonymisation_reasons = models.TextField(blank=True)
    anonymisation_meets_goal = models.BooleanField(null=True, blank=True)

    # Step 3: the screening questions 3 to 10 (1 and 2 are answered in step 1).
    information_shared = models.TextField("What information will be shared", blank=True)
    categories = models.ManyToManyField(DataCategory, blank=True, related_name="+")
    special_category = models.BooleanField(null=True, blank=True)
    special_category_details = models.TextField(blank=True)
    privacy_notice = models.CharField(max_length=10, choices=PrivacyNotice.choices, blank=True)
    privacy_notice_details = models.TextField(blank=True)
    recipients = models.ManyToManyField(Organisation, blank=True, related_name="+")
    recipients_details = models.TextField(blank=True)
    new_systems = models.BooleanField(null=True, blank=True)
    new_systems_details = models.TextField(blank=True)
    automated_decisions = models.BooleanField(null=True, blank=True)
    automated_decisions_details = models.TextField(blank=True)
    profiling = models.BooleanField(null=True, blank=True)
    profiling_details = models.TextField(blank=True)
    combines_sources = models.BooleanField(null=True, blank=True)
    combines_sources_details = models.TextField(blank=True)
    screening_submitted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screening_submitted_at = models.DateTimeField(null=True, blank=True)

    # The DPO's assessment of the screening.
    pia_requirement = models.CharField(max_length=20, choices=PiaRequirement.choices, blank=True)
    assessment_reasons = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    # When a full PIA is only recommended: whether it was taken up, and why not.
    pia_taken_up = models.BooleanField(null=True, blank=True)
    pia_declined_reasons = models.TextField(blank=True)
    pia_choice_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # The full PIA (its risks are Risk rows).
    processing_description = models.TextField("Description of the processing", blank=True)
    necessity = models.TextField("Necessity and proportionality", blank=True)
    consultation = models.TextField("Who was consulted", blank=True)
    pia_submitted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pia_submitted_at = models.DateTimeField(null=True, blank=True)

    # The DPO's advice on the full PIA.
    advice = models.CharField(max_length=30, choices=Advice.choices, blank=True)
    advice_text = models.TextField("The DPO's advice", blank=True)
    advised_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    advised_at = models.DateTimeField(null=True, blank=True)

    # The headteacher's or chair's decision.
    decision_reasons = models.TextField(blank=True)
    conditions = models.TextField(blank=True)
    overrides_advice = models.BooleanField(default=False)
    override_reasons = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    # Withdrawal, from any open status.
    withdrawn_reasons = models.TextField(blank=True)
    withdrawn_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["organisation", "status", "-updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="proposal_reference_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawn_reasons=""),
                name="proposal_withdrawal_has_reasons",
            ),
            models.CheckConstraint(
                condition=Q(overrides_advice=False) | ~Q(override_reasons=""),
                name="proposal_override_has_reasons",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse(
            "proposals:detail", kwargs={"org": self.organisation.slug, "reference": self.reference}
        )

    # --- Where it stands -----------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_approved(self) -> bool:
        return self.status in APPROVED_STATUSES

    @property
    def step_one_done(self) -> bool:
        return self.achievable_without is not None

    @property
    def step_two_done(self) -> bool:
        return self.anonymisation_meets_goal is not None

    @property
    def screening_done(self) -> bool:
        return not screening_gaps(self)

    @property
    def needs_full_pia(self) -> bool:
        return self.pia_requirement == PiaRequirement.MANDATORY or bool(self.pia_taken_up)

    @property
    def awaits_pia_choice(self) -> bool:
        return (
            self.status == Status.ASSESSED
            and self.pia_requirement == PiaRequirement.RECOMMENDED
            and self.pia_taken_up is None
        )

    @property
    def awaits_decision(self) -> bool:
        return self.status == Status.ADVISED or (
            self.status == Status.ASSESSED and not self.awaits_pia_choice
        )

    def suggests_full_pia(self) -> list[str]:
        """What in the screening answers points to a full PIA (the DPO still decides)."""
        reasons = [reason for field, reason in PIA_SIGNALS if getattr(self, field)]
        if self.privacy_notice == PrivacyNotice.NO:
            reasons.append("The privacy notice does not describe the purposes (question 5).")
        return reasons

    def follows_advice(self, outcome: str) -> bool:
        """Whether deciding `outcome` follows the DPO's advice (always, if none was given)."""
        if not self.advice:
            return True
        return outcome in OUTCOMES_FOLLOWING_ADVICE[Advice(self.advice)]

    # --- Transitions (called only by services.py) ----------------------------------

    @transition(
        field=status, source=Status.DRAFT, target=RETURN_VALUE(Status.DRAFT, Status.NOT_NEEDED)
    )
    def answer_step_one(self) -> str:
        return Status.NOT_NEEDED if self.achievable_without else Status.DRAFT

    @transition(
        field=status,
        source=Status.DRAFT,
        target=RETURN_VALUE(Status.DRAFT, Status.NO_PERSONAL_DATA),
        conditions=[_has("step_one_done")],
    )
    def answer_step_two(self) -> str:
        return Status.NO_PERSONAL_DATA if self.anonymisation_meets_goal else Status.DRAFT

    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.DRAFT,
        conditions=[_has("step_one_done"), _has("step_two_done")],
    )
    def answer_screening(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.SCREENING_SUBMITTED,
        conditions=[_has("step_two_done"), _has("screening_done")],
    )
    def submit_screening(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.SCREENING_SUBMITTED,
        target=RETURN_VALUE(Status.PIA_IN_PROGRESS, Status.ASSESSED),
    )
    def assess(self) -> str:
        if self.pia_requirement == PiaRequirement.MANDATORY:
            return Status.PIA_IN_PROGRESS
        return Status.ASSESSED

    @transition(
        field=status,
        source=Status.ASSESSED,
        target=RETURN_VALUE(Status.PIA_IN_PROGRESS, Status.ASSESSED),
        conditions=[_has("awaits_pia_choice")],
    )
    def choose_pia(self, take_up: bool) -> str:
        self.pia_taken_up = take_up
        return Status.PIA_IN_PROGRESS if take_up else Status.ASSESSED

    @transition(field=status, source=Status.PIA_IN_PROGRESS, target=Status.PIA_IN_PROGRESS)
    def work_on_pia(self) -> None:
        pass

    @transition(field=status, source=Status.PIA_IN_PROGRESS, target=Status.PIA_SUBMITTED)
    def submit_pia(self) -> None:
        pass

    @transition(field=status, source=Status.PIA_SUBMITTED, target=Status.ADVISED)
    def give_advice(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.ASSESSED, Status.ADVISED],
        target=RETURN_VALUE(*DECIDED_STATUSES),
        conditions=[_has("awaits_decision")],
    )
    def decide(self, outcome: str) -> str:
        return Status(outcome)

    @transition(field=status, source=list(OPEN_STATUSES), target=Status.WITHDRAWN)
    def withdraw(self) -> None:
        pass


def screening_gaps(proposal: Proposal) -> dict[str, str]:
    """The screening questions not yet answered, keyed by field, with what to do."""
    gaps: dict[str, str] = {}
    if not proposal.information_shared.strip():
        gaps["information_shared"] = "Say what information will be shared (question 3)."
    for field, question in (
        ("special_category", 4),
        ("new_systems", 7),
        ("automated_decisions", 8),
        ("profiling", 9),
        ("combines_sources", 10),
    ):
        if getattr(proposal, field) is None:
            gaps[field] = f"Answer yes or no to question {question}."
    if not proposal.privacy_notice:
        gaps["privacy_notice"] = (
            "Say whether the privacy notice describes the purposes (question 5)."
        )
    named = proposal.pk is not None and proposal.recipients.exists()
    if not named and not proposal.recipients_details.strip():
        gaps["recipients"] = "Choose who the information will be shared with (question 6)."
    return gaps


class Risk(models.Model):
    """One risk in a full PIA's register: before and after the measures taken."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="risks")
    position = models.PositiveIntegerField()
    description = models.TextField("The risk to individuals")
    source = models.TextField("Source of the risk")
    likelihood = models.PositiveSmallIntegerField(choices=Likelihood.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    measures = models.TextField("Measures to reduce or eliminate the risk", blank=True)
    effect = models.CharField(max_length=20, choices=Effect.choices, blank=True)
    residual_likelihood = models.PositiveSmallIntegerField(
        choices=Likelihood.choices, null=True, blank=True
    )
    residual_severity = models.PositiveSmallIntegerField(
        choices=Severity.choices, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "position"], name="risk_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal.reference} risk {self.position}"

    @property
    def organisation(self) -> Organisation:
        return self.proposal.organisation

    @property
    def label(self) -> str:
        return f"R{self.position}"

    @property
    def level(self) -> RiskLevel:
        return risk_level(self.likelihood, self.severity)

    @property
    def residual_level(self) -> RiskLevel | None:
        """The risk left after the measures; None when they eliminate it or are not yet set."""
        if self.effect == Effect.ELIMINATED or self.residual_likelihood is None:
            return None
        if self.residual_severity is None:
            return None
        return risk_level(self.residual_likelihood, self.residual_severity)

    @property
    def is_complete(self) -> bool:
        """Measures and their effect recorded, with the residual risk unless eliminated."""
        if not self.measures.strip() or not self.effect:
            return False
        return self.effect == Effect.ELIMINATED or self.residual_level is not None
