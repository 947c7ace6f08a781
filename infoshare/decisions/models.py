"""The decision log: every decision to share personal information or not, with its reasons.

The golden rule of both policies: "Keep a record of your decision and the
reasons for it - whether it is to share information or not. If you decide to
share, then record what you have shared, with whom and for what purpose."

A Decision is immutable once recorded. A correction is a new Decision that
`supersedes` the old one; both stay. One-off and emergency disclosures made
without an agreement are reviewed by the DPO afterwards (DisclosureReview).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Organisation,
    Person,
    Purpose,
    Role,
    SpecialCategoryCondition,
    User,
)
from infoshare.core.rules import roles_in

if TYPE_CHECKING:
    from collections.abc import Iterable


class Outcome(models.TextChoices):
    SHARED = "shared", "Shared"
    SHARED_IN_PART = "shared_in_part", "Shared in part"
    NOT_SHARED = "not_shared", "Not shared"


class Consent(models.TextChoices):
    GIVEN = "given", "Consent given"
    REFUSED = "refused", "Consent sought and refused"
    NOT_SOUGHT_UNSAFE = "not_sought_unsafe", "Not sought: it would be unsafe or inappropriate"
    NOT_SOUGHT_OTHER_BASIS = "not_sought_other_basis", "Not sought: another lawful reason applies"


# Consent answers that need an explanation of why consent was not asked for.
CONSENT_NOT_SOUGHT = frozenset({Consent.NOT_SOUGHT_UNSAFE, Consent.NOT_SOUGHT_OTHER_BASIS})


class Method(models.TextChoices):
    SECURE_TRANSFER = "secure_transfer", "Secure transfer"
    ENCRYPTED_EMAIL = "encrypted_email", "Encrypted email"
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    POST = "post", "Post"
    STATUTORY_SYSTEM = "statutory_system", "Statutory system (for example, DfE COLLECT)"


class Arrangement(models.TextChoices):
    """What the sharing was made under."""

    AGREEMENT = "agreement", "An information sharing agreement"
    ONE_OFF = "one_off", "One-off disclosure (no agreement)"
    EMERGENCY = "emergency", "Emergency disclosure (no agreement)"
    STATUTORY = "statutory", "A statutory duty"


# Disclosures without an agreement, which the DPO reviews afterwards (policy App. A).
ARRANGEMENTS_REVIEWED = frozenset({Arrangement.ONE_OFF, Arrangement.EMERGENCY})


class Check(models.TextChoices):
    """The golden rule's seven tests, each confirmed before a share."""

    NECESSARY = "necessary", "Necessary for the purpose"
    PROPORTIONATE = "proportionate", "Proportionate: no more than the purpose needs"
    RELEVANT = "relevant", "Relevant to the purpose"
    ADEQUATE = "adequate", "Adequate: enough to be understood and relied on"
    ACCURATE = "accurate", "Accurate and up to date"
    TIMELY = "timely", "Timely: shared when it is needed"
    SECURE = "secure", "Secure: sent in a way that protects it"


# Roles that see every decision of their organisation that holds no special category data.
ROLES_SEEING_ALL = frozenset(
    {Role.DPO, Role.HEADTEACHER, Role.CHAIR, Role.INFORMATION_MANAGER, Role.AUDITOR}
)
# Roles that see every decision holding special category data (and the maker sees theirs).
ROLES_SEEING_SPECIAL = frozenset({Role.DPO, Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL})


def visibility_filter(roles: Iterable[str], user: User) -> Q:
    """Which decisions someone with `roles` may read: their own, and what their roles allow."""
    held = set(roles)
    if held & ROLES_SEEING_ALL and held & ROLES_SEEING_SPECIAL:
        # Everything: an empty filter, so counts over a long log stay index-only.
        return Q()
    allowed = Q(recorded_by=user)
    if held & ROLES_SEEING_ALL:
        allowed |= Q(has_special_category=False)
    if held & ROLES_SEEING_SPECIAL:
        allowed |= Q(has_special_category=True)
    return allowed


class DecisionQuerySet(models.QuerySet["Decision"]):
    def for_user(self, user: User, organisation: Organisation) -> DecisionQuerySet:
        """The decisions of `organisation` that `user` may see (DESIGN.md rule 2)."""
        roles = roles_in(user, organisation)
        if not roles:
            return self.none()
        return self.filter(organisation=organisation).filter(visibility_filter(roles, user))

    def current(self) -> DecisionQuerySet:
        """Decisions not superseded by a correction."""
        # NOT EXISTS, not a LEFT JOIN ... IS NULL, which PostgreSQL misjudges on a
        # long log and answers by sorting all of it for one page.
        return self.filter(~Exists(Decision.objects.filter(supersedes=OuterRef("pk"))))

    def needing_review(self) -> DecisionQuerySet:
        """One-off and emergency disclosures the DPO has not reviewed yet."""
        return (
            self.current()
            .filter(arrangement__in=ARRANGEMENTS_REVIEWED)
            .exclude(outcome=Outcome.NOT_SHARED)
            .filter(~Exists(DisclosureReview.objects.filter(decision=OuterRef("pk"))))
        )


class Decision(models.Model):
    """One decision to share, share in part, or not share. Never edited once saved."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="decisions"
    )
    reference = models.CharField(max_length=20)

    # Whom it concerns.
    people = models.ManyToManyField(Person, blank=True, related_name="decisions")
    people_described = models.TextField(
        "People not in the system",
        blank=True,
        help_text="Describe anyone it concerns who is not on the people list.",
    )
    # What.
    information = models.TextField("What information")
    categories = models.ManyToManyField(DataCategory, related_name="decisions")
    has_special_category = models.BooleanField(default=False, editable=False)
    # With whom.
    recipient_organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions_received",
    )
    recipient_organisation_name = models.CharField(max_length=200, blank=True)
    recipient_person = models.CharField("Recipient person or role", max_length=200)
    # Why, and on what basis.
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    purpose_described = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    lawful_basis = models.ForeignKey(
        LawfulBasis, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    conditions = models.ManyToManyField(SpecialCategoryCondition, blank=True, related_name="+")
    consent = models.CharField(max_length=30, choices=Consent.choices)
    consent_explanation = models.TextField(blank=True)
    checks = models.JSONField(default=list, blank=True)
    reasons = models.TextField()
    method = models.CharField(max_length=20, choices=Method.choices, blank=True)
    arrangement = models.CharField(max_length=20, choices=Arrangement.choices, blank=True)
    # Until the agreements register exists (issue 5), the agreement is named by its reference.
    agreement_reference = models.CharField(max_length=50, blank=True)
    # Who and when.
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # Corrections.
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    correction_reason = models.TextField(blank=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_on", "-recorded_at"]
        indexes = [
            models.Index(fields=["organisation", "-decided_on", "-recorded_at"]),
            models.Index(fields=["organisation", "has_special_category", "-decided_on"]),
            models.Index(fields=["organisation", "recorded_by", "-decided_on"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="decision_reference_unique"
            ),
            models.CheckConstraint(
                condition=~Q(recipient_organisation__isnull=True, recipient_organisation_name=""),
                name="decision_names_its_recipient",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse(
            "decisions:detail", kwargs={"org": self.organisation.slug, "reference": self.reference}
        )

    @property
    def is_share(self) -> bool:
        return self.outcome != Outcome.NOT_SHARED

    @property
    def needs_review(self) -> bool:
        return self.is_share and self.arrangement in ARRANGEMENTS_REVIEWED

    @property
    def recipient(self) -> str:
        organisation = self.recipient_organisation or self.recipient_organisation_name
        return f"{self.recipient_person}, {organisation}"

    @property
    def recipient_organisation_label(self) -> str:
        return str(self.recipient_organisation or self.recipient_organisation_name)

    @property
    def purpose_label(self) -> str:
        if self.purpose.needs_description and self.purpose_described:
            return f"Other: {self.purpose_described}"
        return self.purpose.name

    def check_labels(self) -> list[str]:
        return [Check(check).label for check in Check.values if check in self.checks]


class DisclosureReview(models.Model):
    """The DPO's review after a one-off or emergency disclosure made without an agreement."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="review")
    justified = models.BooleanField("The sharing was justified")
    agreement_needed = models.BooleanField("An agreement is now needed")
    notes = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Review of {self.decision}"

    @property
    def organisation(self) -> Organisation:
        return self.decision.organisation
