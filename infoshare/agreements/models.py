"""Information Sharing Agreements and Data Processing Agreements (policy 7, Appendix A 4-6).

An ISA is at one of three tiers: a protocol (principles between organisations
that share regularly), an agreement (purpose, legal basis, what is shared, how
and when) that may sit under a protocol, or procedures (day-to-day methods)
that belong to an agreement. A DPA covers a controller-processor relationship
and carries the Article 28(3) checklist.

The lifecycle (DESIGN.md section 6) is declared here with django-fsm-2;
`services.py` is the only caller of the transitions. An approved agreement's
content is kept as a numbered `AgreementVersion`; an amendment drafts the next
version while the approved one stays in force.
"""

from __future__ import annotations

import calendar
import datetime
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Organisation,
    SpecialCategoryCondition,
    User,
)
from infoshare.core.rules import roles_in
from infoshare.governance.models import InformationAsset

if TYPE_CHECKING:
    from collections.abc import Iterable

# The policy's review interval: "unless there is a justifiable reason for
# extension, this must be at least annually".
DEFAULT_REVIEW_MONTHS = 12
# The register shows "review due" for this long before the due date.
REVIEW_NOTICE = datetime.timedelta(days=30)


class Kind(models.TextChoices):
    PROTOCOL = "protocol", "Information sharing protocol"
    AGREEMENT = "agreement", "Information sharing agreement"
    PROCEDURES = "procedures", "Information sharing procedures"
    DPA = "dpa", "Data processing agreement"


ISA_KINDS = (Kind.PROTOCOL, Kind.AGREEMENT, Kind.PROCEDURES)
# The tier a document may sit under: an agreement under a protocol (optional),
# procedures under an agreement (required: they belong to one).
PARENT_KIND = {Kind.AGREEMENT: Kind.PROTOCOL, Kind.PROCEDURES: Kind.AGREEMENT}
PARENT_REQUIRED = {Kind.PROCEDURES}


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    ADVICE_REQUESTED = "advice_requested", "Awaiting DPO advice"
    ADVISED = "advised", "Awaiting approval"
    APPROVED = "approved", "Approved"
    UNDER_REVIEW = "under_review", "Under review"
    TERMINATED = "terminated", "Terminated"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Statuses in which an approved version is in force (the sharing goes on).
IN_FORCE_STATUSES = (Status.APPROVED, Status.UNDER_REVIEW)
DRAFTING_STATUSES = (Status.DRAFT, Status.ADVICE_REQUESTED, Status.ADVISED)


class Tag(models.TextChoices):
    """What the register shows of an agreement: its status, with the dates worked in."""

    DRAFT = "draft", "Draft"
    AWAITING_ADVICE = "awaiting_advice", "Awaiting advice"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    NOT_STARTED = "not_started", "Approved, not started"
    ACTIVE = "active", "Active"
    REVIEW_DUE = "review_due", "Review due"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"
    UNDER_REVIEW = "under_review", "Under review"
    TERMINATED = "terminated", "Terminated"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


# The tag of each status but approved (whose tag depends on the dates).
STATUS_TAGS = {
    Status.DRAFT: Tag.DRAFT,
    Status.ADVICE_REQUESTED: Tag.AWAITING_ADVICE,
    Status.ADVISED: Tag.AWAITING_APPROVAL,
    Status.UNDER_REVIEW: Tag.UNDER_REVIEW,
    Status.TERMINATED: Tag.TERMINATED,
    Status.EXPIRED: Tag.EXPIRED,
    Status.WITHDRAWN: Tag.WITHDRAWN,
}

# The GOV.UK tag colour of each (the class suffix of govuk-tag--<colour>).
TAG_COLOURS = {
    Tag.DRAFT: "grey",
    Tag.AWAITING_ADVICE: "light-blue",
    Tag.AWAITING_APPROVAL: "blue",
    Tag.NOT_STARTED: "turquoise",
    Tag.ACTIVE: "green",
    Tag.REVIEW_DUE: "yellow",
    Tag.REVIEW_OVERDUE: "red",
    Tag.UNDER_REVIEW: "purple",
    Tag.TERMINATED: "orange",
    Tag.EXPIRED: "grey",
    Tag.WITHDRAWN: "grey",
}


class PartyRole(models.TextChoices):
    CONTROLLER = "controller", "Controller"
    JOINT_CONTROLLER = "joint_controller", "Joint controller"
    PROCESSOR = "processor", "Processor"


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", "Continue as it is"
    AMEND = "amend", "Amend it"
    TERMINATE = "terminate", "Terminate it"


class DataFate(models.TextChoices):
    """What happened to the data shared, once an agreement is terminated."""

    RETURNED = "returned", "Returned"
    DESTROYED = "destroyed", "Destroyed"
    RETURNED_AND_DESTROYED = "returned_and_destroyed", "Partly returned, the rest destroyed"


# Article 28(3) UK GDPR: what a contract with a processor must require of it.
class Article28(models.TextChoices):
    A = "a", "(a) Processes the personal data only on documented instructions from the school"
    B = "b", "(b) Ensures that people authorised to process the data are bound to confidentiality"
    C = "c", "(c) Takes the security measures Article 32 requires"
    D = "d", "(d) Engages another processor only with the school's authorisation, on the same terms"
    E = "e", "(e) Helps the school answer requests from people exercising their rights"
    F = "f", "(f) Helps the school with security, breach notification and impact assessments"
    G = (
        "g",
        (
            "(g) Deletes or returns all the personal data at the end of the services, "
            "as the school chooses"
        ),
    )
    H = (
        "h",
        (
            "(h) Gives the school the information to show compliance, and allows audits "
            "and inspections"
        ),
    )


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` moved on by `months`, kept inside the month (31 January + 1 month is 28 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def for_user(self, user: User, organisation: Organisation) -> AgreementQuerySet:
        """Every agreement of `organisation`, to any of its members; nothing to anyone else.

        Agreements describe arrangements between organisations, not people, and
        the register is meant to be read.
        """
        if not roles_in(user, organisation):
            return self.none()
        return self.filter(organisation=organisation)

    def tagged(self, tag: str, today: datetime.date) -> AgreementQuerySet:
        """The agreements the register shows with `tag` on `today`, in two queries at most.

        The dates that decide between active, review due and review overdue are
        computed, not stored (DESIGN.md rule 9), so those three are worked out
        here from the review period of each agreement in force.
        """
        by_status = {tag: status for status, tag in STATUS_TAGS.items()}
        if tag in by_status:
            # Amendments in progress too: "awaiting approval" finds them all.
            return self.filter(status=by_status[Tag(tag)])
        in_force = Q(status=Status.APPROVED) | Q(status__in=DRAFTING_STATUSES, version__gt=1)
        approved = self.filter(in_force).values_list(
            "pk", "start_date", "review_period_starts", "review_interval_months"
        )
        matching = [
            pk
            for pk, start, period_starts, months in approved
            if approved_tag(start, period_starts, months, today) == tag
        ]
        return self.filter(pk__in=matching)


def review_due_on(period_starts: datetime.date | None, months: int) -> datetime.date | None:
    return add_months(period_starts, months) if period_starts else None


def approved_tag(
    start: datetime.date | None,
    period_starts: datetime.date | None,
    months: int,
    today: datetime.date,
) -> Tag:
    """The tag of an approved agreement on `today`: not started, active, review due or overdue."""
    if start and start > today:
        return Tag.NOT_STARTED
    due = review_due_on(period_starts, months)
    if due is None or today < due - REVIEW_NOTICE:
        return Tag.ACTIVE
    return Tag.REVIEW_DUE if today <= due else Tag.REVIEW_OVERDUE


def _upload_path(instance: Agreement | AgreementVersion, filename: str) -> str:
    """A random name under the organisation: the uploaded name is never trusted or shown."""
    agreement = instance if isinstance(instance, Agreement) else instance.agreement
    return f"agreements/{agreement.organisation_id}/{uuid.uuid4()}.pdf"


# Conditions of transitions (django-fsm passes the instance).
def _has_no_open_review(agreement: Any) -> bool:
    return not agreement.has_open_review


def _has_version_in_force(agreement: Any) -> bool:
    return agreement.version_in_force is not None


class Agreement(FSMModelMixin, models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="agreements"
    )
    reference = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The protocol an agreement sits under, or the agreement procedures belong to.",
    )
    proposal = models.ForeignKey(
        "proposals.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    status = FSMField(default=Status.DRAFT, choices=Status.choices, protected=True)
    # The version being drafted or in force; earlier ones are AgreementVersion rows.
    version = models.PositiveSmallIntegerField(default=1)
    # Whoever drafted the current version: they may not approve it.
    drafted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # The content (issue 5, item 2). Parties and signatories are Party rows.
    purpose = models.TextField(blank=True)
    lawful_bases = models.ManyToManyField(LawfulBasis, blank=True, related_name="+")
    legal_basis_details = models.TextField(
        "Legal basis: details",
        blank=True,
        help_text="The law or power that allows it, like 'Education Act 1996, section 537A'.",
    )
    data_shared = models.TextField("The data shared", blank=True)
    categories = models.ManyToManyField(DataCategory, blank=True, related_name="+")
    special_category_conditions = models.ManyToManyField(
        SpecialCategoryCondition, blank=True, related_name="+"
    )
    method = models.TextField("How it is shared", blank=True)
    frequency = models.CharField("How often", max_length=200, blank=True)
    security_measures = models.TextField(blank=True)
    retention = models.TextField("How long the data is kept", blank=True)
    return_or_disposal = models.TextField("Return or disposal of the data at the end", blank=True)
    start_date = models.DateField(null=True, blank=True)
    review_interval_months = models.PositiveSmallIntegerField(default=DEFAULT_REVIEW_MONTHS)
    review_interval_justification = models.TextField(blank=True)
    assets = models.ManyToManyField(InformationAsset, blank=True, related_name="agreements")
    # A DPA's further content (its Article 28(3) checklist is DpaClause rows).
    subprocessors = models.TextField("Sub-processors", blank=True)
    international_transfers = models.TextField(blank=True)

    # Step 5: the DPO advises, never approves; the headteacher or chair approves.
    advice_requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    advice_requested_at = models.DateTimeField(null=True, blank=True)
    advice = models.TextField("The DPO's advice", blank=True)
    advised_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    advised_at = models.DateTimeField(null=True, blank=True)
    approval_notes = models.TextField(blank=True)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # The date the review interval counts from: approval, then each review.
    review_period_starts = models.DateField(null=True, blank=True)

    # The signed copy of the version in force.
    signed_copy = models.FileField(upload_to=_upload_path, blank=True)
    signed_copy_uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_copy_uploaded_at = models.DateTimeField(null=True, blank=True)

    # Termination: every party agreed (on Party), the arrangement for the data,
    # then what happened to it.
    termination_reasons = models.TextField(blank=True)
    disposal_arrangement = models.TextField(blank=True)
    terminated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    terminated_at = models.DateTimeField(null=True, blank=True)
    data_fate = models.CharField(max_length=30, choices=DataFate.choices, blank=True)
    data_fate_on = models.DateField(null=True, blank=True)
    data_fate_details = models.TextField(blank=True)
    disposal_evidence = models.FileField(upload_to=_upload_path, blank=True)
    expired_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expired_at = models.DateTimeField(null=True, blank=True)

    withdrawn_reasons = models.TextField(blank=True)
    withdrawn_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["organisation", "status", "-updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="agreement_reference_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawn_reasons=""),
                name="agreement_withdrawal_has_reasons",
            ),
            models.CheckConstraint(
                condition=Q(review_interval_months__lte=DEFAULT_REVIEW_MONTHS)
                | ~Q(review_interval_justification=""),
                name="agreement_longer_interval_is_justified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse(
            "agreements:detail",
            kwargs={"org": self.organisation.slug, "reference": self.reference},
        )

    # --- Where it stands -----------------------------------------------------------

    @property
    def is_dpa(self) -> bool:
        return self.kind == Kind.DPA

    @property
    def is_amendment(self) -> bool:
        """A later version being drafted while the one before stays in force."""
        return self.version > 1 and self.status in DRAFTING_STATUSES

    @property
    def version_in_force(self) -> int | None:
        if self.status in IN_FORCE_STATUSES:
            return self.version
        if self.is_amendment:
            return self.version - 1
        return None

    @property
    def has_open_review(self) -> bool:
        return self.reviews.filter(completed_at__isnull=True).exists()

    @property
    def review_due(self) -> datetime.date | None:
        """When the next review falls due (computed: DESIGN.md rule 9)."""
        return review_due_on(self.review_period_starts, self.review_interval_months)

    def tag(self, today: datetime.date | None = None) -> Tag:
        """The register's tag. An amendment in progress shows the version in force: the
        sharing goes on under it (`amendment_tag` says where the amendment stands)."""
        today = today or timezone.localdate()
        if self.status == Status.APPROVED or self.is_amendment:
            return approved_tag(
                self.start_date, self.review_period_starts, self.review_interval_months, today
            )
        return STATUS_TAGS[Status(self.status)]

    @property
    def amendment_tag(self) -> Tag | None:
        """Where the next version stands, while the one before stays in force."""
        return STATUS_TAGS[Status(self.status)] if self.is_amendment else None

    @property
    def tag_colour(self) -> str:
        return TAG_COLOURS[self.tag()]

    # --- Transitions (called only by services.py) --------------------------------

    @transition(field=status, source=Status.DRAFT, target=Status.ADVICE_REQUESTED)
    def request_advice(self) -> None:
        pass

    @transition(field=status, source=Status.ADVICE_REQUESTED, target=Status.ADVISED)
    def give_advice(self) -> None:
        pass

    @transition(field=status, source=Status.ADVISED, target=Status.DRAFT)
    def revise(self) -> None:
        """The drafter takes the advice back into the draft (advice is kept until replaced)."""

    @transition(field=status, source=Status.ADVISED, target=Status.APPROVED)
    def approve(self) -> None:
        pass

    # Under review with no review open: the last review decided to terminate, but the
    # parties have not all agreed, so a new review is started to decide again.
    @transition(
        field=status,
        source=[Status.APPROVED, Status.UNDER_REVIEW],
        target=Status.UNDER_REVIEW,
        conditions=[_has_no_open_review],
    )
    def start_review(self) -> None:
        pass

    @transition(field=status, source=Status.UNDER_REVIEW, target=Status.APPROVED)
    def continue_after_review(self) -> None:
        pass

    @transition(field=status, source=[Status.APPROVED, Status.UNDER_REVIEW], target=Status.DRAFT)
    def amend(self) -> None:
        self.version += 1

    # An agreement in force ends; so does one whose amendment is being drafted.
    @transition(
        field=status,
        source=[*IN_FORCE_STATUSES, *DRAFTING_STATUSES],
        target=Status.TERMINATED,
        conditions=[_has_version_in_force],
    )
    def terminate(self) -> None:
        pass

    @transition(field=status, source=Status.TERMINATED, target=Status.EXPIRED)
    def expire(self) -> None:
        pass

    @transition(field=status, source=list(DRAFTING_STATUSES), target=Status.WITHDRAWN)
    def withdraw(self) -> None:
        pass


class Party(models.Model):
    """An organisation that is party to an agreement, its role, and its signatory."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=PartyRole.choices)
    position = models.PositiveSmallIntegerField(default=0)
    # Who signs for the party, and when (of the version in force).
    signatory_name = models.CharField(max_length=200, blank=True)
    signatory_role = models.CharField(max_length=200, blank=True)
    signed_on = models.DateField(null=True, blank=True)
    # Termination needs every party's agreement (Appendix A, "Termination").
    termination_agreed_by = models.CharField(max_length=200, blank=True)
    termination_agreed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organisation"], name="party_once_per_agreement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_role_display()})"

    @property
    def has_signed(self) -> bool:
        return self.signed_on is not None

    @property
    def agreed_to_terminate(self) -> bool:
        return self.termination_agreed_on is not None


class DpaClause(models.Model):
    """One point of Article 28(3) in a DPA: present at a clause, or why it is not."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="clauses")
    point = models.CharField(max_length=1, choices=Article28.choices)
    present = models.BooleanField(null=True, blank=True)
    clause_reference = models.CharField(max_length=100, blank=True)
    justification = models.TextField(blank=True)

    class Meta:
        ordering = ["point"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "point"], name="dpa_clause_once")
        ]

    def __str__(self) -> str:
        return f"Article 28(3){self.point}"

    @property
    def is_settled(self) -> bool:
        """Present at a named clause, or absent with a justification: approval needs all eight."""
        if self.present:
            return bool(self.clause_reference.strip())
        return self.present is False and bool(self.justification.strip())


def unsettled_points(clauses: Iterable[DpaClause]) -> list[str]:
    """The Article 28(3) points of a DPA not yet present or justified, like ['c', 'g']."""
    settled = {clause.point for clause in clauses if clause.is_settled}
    return [point for point in Article28.values if point not in settled]


class AgreementVersion(models.Model):
    """The content of an approved version, as approved, and what changed from the one before."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    # Label -> text of every field and party, as the PDF and the page show them.
    content = models.JSONField()
    # [{"field": label, "before": text, "after": text}] against the version before.
    changes = models.JSONField(default=list)
    amendment_reasons = models.TextField(blank=True)
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField()
    # Filed here from the agreement when the next version is drafted.
    signatures = models.JSONField(default=list)
    signed_copy = models.FileField(upload_to=_upload_path, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference} version {self.number}"


class AgreementReview(models.Model):
    """A review (Appendix A, "ISA Review"): the policy's questions, and what follows."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="reviews")
    version = models.PositiveSmallIntegerField()
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    scope_still_relevant = models.BooleanField(
        "Are the scope and purpose still relevant, without the scope slipping?",
        null=True,
        blank=True,
    )
    scope_notes = models.TextField(blank=True)
    benefits_realised = models.BooleanField(
        "Are the benefits to the data subjects being realised?", null=True, blank=True
    )
    benefits_notes = models.TextField(blank=True)
    elements_complied = models.BooleanField(
        "Is every element of the agreement being complied with?", null=True, blank=True
    )
    compliance_notes = models.TextField(blank=True)
    law_or_practice_changed = models.BooleanField(
        "Have legislation or practice in public sector data sharing changed?",
        null=True,
        blank=True,
    )
    law_notes = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices, blank=True)
    outcome_reasons = models.TextField(blank=True)
    next_interval_months = models.PositiveSmallIntegerField(null=True, blank=True)
    next_interval_justification = models.TextField(blank=True)
    completed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Review of {self.agreement.reference} started {self.started_at:%d %B %Y}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


@dataclass(frozen=True)
class ContentChange:
    field: str
    before: str
    after: str


def content_changes(before: dict[str, str], after: dict[str, str]) -> list[ContentChange]:
    """What changed between two versions' content, in the order of the later one."""
    labels = list(after) + [label for label in before if label not in after]
    return [
        ContentChange(label, before.get(label, ""), after.get(label, ""))
        for label in labels
        if before.get(label, "") != after.get(label, "")
    ]
