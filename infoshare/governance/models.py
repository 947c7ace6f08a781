"""The information asset register (Appendix A step 6, policy 9.9), and the policy's versions.

An information asset is a body of personal data the school holds: the pupil
records in the MIS, the safeguarding files, the catering system. The register
says who owns each, where it is, what it holds, on what lawful basis and for
how long; the agreements and processors that touch it come from the
agreements register (`Agreement.assets`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from infoshare.core.models import DataCategory, LawfulBasis, Organisation, User
from infoshare.core.rules import roles_in


class InformationAssetQuerySet(models.QuerySet["InformationAsset"]):
    def for_user(self, user: User, organisation: Organisation) -> InformationAssetQuerySet:
        """Every asset of `organisation`, to any of its members; nothing to anyone else."""
        if not roles_in(user, organisation):
            return self.none()
        return self.filter(organisation=organisation)

    def current(self) -> InformationAssetQuerySet:
        return self.filter(retired_at__isnull=True)


class InformationAsset(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="information_assets"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.CharField(
        "Information asset owner",
        max_length=200,
        help_text="The person or role responsible for the asset, like 'Business manager'.",
    )
    system_or_location = models.CharField(
        "System or location",
        max_length=200,
        help_text="Where the information is kept, like 'MIS' or 'Locked cabinet, main office'.",
    )
    categories = models.ManyToManyField(DataCategory, blank=True, related_name="+")
    special_category = models.BooleanField("Holds special category data", default=False)
    lawful_basis = models.ForeignKey(
        LawfulBasis, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retention_period = models.CharField(
        max_length=200,
        help_text="How long it is kept, and from when, like 'Date of birth + 25 years'.",
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Assets are retired, never deleted: old agreements still name them (rule 7).
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reasons = models.TextField(blank=True)

    objects = InformationAssetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "governance:asset", kwargs={"org": self.organisation.slug, "asset": self.uuid}
        )

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


# --- The information sharing policy itself (policy section 10, issue 7 item 3) ------------
#
# The school's policy is kept as versions: the DPO drafts one (its text, or a PDF),
# the headteacher or chair approves it with the date they did (9.1), and it stays
# in force until the next is approved. Early review triggers (10.1) are recorded
# against the school; the next approval answers them. Staff acknowledge the version
# in force. When the review falls due is computed, never stored (DESIGN.md rule 9).

POLICY_TITLE = "Information sharing policy"


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", "Draft, awaiting approval"
    APPROVED = "approved", "In force"
    SUPERSEDED = "superseded", "Replaced by a later version"
    DISCARDED = "discarded", "Discarded"


class TriggerKind(models.TextChoices):
    """The events after which policy 10.1 says a review may take place, as worded there."""

    MAJOR_BREACH = "major_breach", "A major breach of a policy"
    NEW_THREATS = "new_threats", "The identification of new threats or vulnerabilities"
    RESTRUCTURING = "restructuring", "Significant organisational restructuring"
    INFRASTRUCTURE = (
        "infrastructure",
        "Significant changes to the school's technical infrastructure",
    )


def _policy_document_path(instance: PolicyVersion, filename: str) -> str:
    """A random name under the organisation: the uploaded name is never trusted or shown."""
    return f"policy/{instance.organisation_id}/{uuid.uuid4()}.pdf"


class PolicyVersionQuerySet(models.QuerySet["PolicyVersion"]):
    def in_force(self) -> PolicyVersionQuerySet:
        return self.filter(status=PolicyStatus.APPROVED)

    def published(self) -> PolicyVersionQuerySet:
        """Versions that were in force at some time: what every member may read."""
        return self.filter(status__in=[PolicyStatus.APPROVED, PolicyStatus.SUPERSEDED])


class PolicyVersion(FSMModelMixin, models.Model):
    """One version of the school's information sharing policy: its text or its PDF."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="policy_versions"
    )
    # Numbered per school in the order drafted; a discarded draft keeps its number.
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200, default=POLICY_TITLE)
    text = models.TextField(blank=True)
    document = models.FileField(upload_to=_policy_document_path, blank=True)
    summary_of_changes = models.TextField(blank=True)
    status = FSMField(default=PolicyStatus.DRAFT, choices=PolicyStatus.choices, protected=True)
    drafted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The day the approver says they approved it (a governors' meeting, say): the
    # yearly review runs from it. `approved_at` is when it was recorded here.
    approved_on = models.DateField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    discarded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discarded_at = models.DateTimeField(null=True, blank=True)
    discard_reasons = models.TextField(blank=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="policy_version_number_unique"
            ),
            models.CheckConstraint(
                condition=(Q(text="") & ~Q(document="")) | (~Q(text="") & Q(document="")),
                name="policy_version_text_or_document",
            ),
            # Only one version in force, and one draft in the making, at a time.
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status="approved"),
                name="policy_one_version_in_force",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status="draft"),
                name="policy_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "discarded"])
                | (
                    Q(approved_by__isnull=False)
                    & Q(approved_on__isnull=False)
                    & Q(approved_at__isnull=False)
                ),
                name="policy_approved_has_approval",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse(
            "policy:version", kwargs={"org": self.organisation.slug, "version": self.uuid}
        )

    @property
    def label(self) -> str:
        return f"Version {self.number}"

    @property
    def is_document(self) -> bool:
        return bool(self.document)

    # --- Declared transitions (governance.policy calls them) ---

    @transition(status, source=PolicyStatus.DRAFT, target=PolicyStatus.APPROVED)
    def approve(self) -> None:
        pass

    @transition(status, source=PolicyStatus.APPROVED, target=PolicyStatus.SUPERSEDED)
    def supersede(self) -> None:
        pass

    @transition(status, source=PolicyStatus.DRAFT, target=PolicyStatus.DISCARDED)
    def discard(self) -> None:
        pass


class ReviewTrigger(models.Model):
    """An event after which the policy is reviewed early (10.1); the next approval answers it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="policy_review_triggers"
    )
    kind = models.CharField(max_length=20, choices=TriggerKind.choices)
    description = models.TextField()
    occurred_on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["organisation", "recorded_at"])]

    def __str__(self) -> str:
        return f"Review trigger: {self.get_kind_display()}"


class PolicyAcknowledgement(models.Model):
    """A member's "I have read and understood it" for one version in force."""

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["acknowledged_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="policy_acknowledged_once")
        ]

    def __str__(self) -> str:
        return f"{self.version.label} acknowledged"
