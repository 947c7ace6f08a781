"""A run of the anonymisation engine from the web page, recorded without the data.

Appendix A step 2 of the information sharing policy: "If your objective can be
met in a privacy friendly way then personal data should not be shared." A run
records that a dataset was anonymised for a proposal or a decision: which
operation was applied to which column, and the re-identification risk before
and after. It never holds a cell of the dataset: the uploaded and produced
files live on disk under random names (`storage.py`) and are deleted after
the download, and in any case within 24 hours (`anonymise_cleanup`).

The statuses and their transitions are declared here; `services.py` is their
only caller.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from infoshare.core.models import Organisation, Role, User
from infoshare.core.rules import roles_in
from infoshare.decisions.models import Decision
from infoshare.proposals.models import Proposal

if TYPE_CHECKING:
    from datetime import datetime

# Who sees every run of the school, not only their own: those accountable for its data.
ROLES_SEEING_EVERY_RUN = frozenset({Role.DPO, Role.HEADTEACHER})
# How long the files of a run are kept at most: the cleanup runs hourly and takes
# files older than FILES_KEPT_FOR, so none outlives 24 hours (see storage.py).
FILES_KEPT_FOR = timedelta(hours=23)


class Status(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    PLANNED = "planned", "Planned"
    APPLYING = "applying", "Being applied"
    APPLIED = "applied", "Ready to download"
    DOWNLOADED = "downloaded", "Downloaded"
    EXPIRED = "expired", "Expired"


# A plan may be changed until the file is downloaded (changing it after applying
# throws the result away); the files are gone once downloaded or expired.
PLANNABLE = (Status.UPLOADED, Status.PLANNED, Status.APPLIED)
WITH_FILES = (Status.UPLOADED, Status.PLANNED, Status.APPLYING, Status.APPLIED)


class RunQuerySet(models.QuerySet["AnonymisationRun"]):
    def for_user(self, user: User, organisation: Organisation) -> RunQuerySet:
        """The runs of `organisation` that `user` may see: their own, or all for the DPO
        and the headteacher (who answer for the school's data protection)."""
        roles = roles_in(user, organisation)
        if not roles:
            return self.none()
        mine = self.filter(organisation=organisation)
        if roles & ROLES_SEEING_EVERY_RUN:
            return mine
        return mine.filter(created_by=user)

    def with_files_older_than(self, cutoff: datetime) -> RunQuerySet:
        return self.filter(created_at__lt=cutoff, files_deleted_at__isnull=True)


class AnonymisationRun(FSMModelMixin, models.Model):
    """One dataset anonymised for a proposal or a decision: the plan and the risk, no data."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="anonymisation_runs"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # What the anonymised data is for: exactly one of the two (a constraint below).
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(default=Status.UPLOADED, choices=Status.choices, protected=True)

    # The dataset's shape: its headings (not personal data) and how many rows.
    file_format = models.CharField(max_length=4)  # "csv" or "xlsx"
    columns = models.JSONField(default=list)
    rows_in = models.PositiveIntegerField(default=0)
    rows_out = models.PositiveIntegerField(null=True, blank=True)
    rows_suppressed = models.PositiveIntegerField(null=True, blank=True)

    # The plan: column -> {"operation": ..., "options": {...}}, and the risk settings.
    steps = models.JSONField(default=dict)
    quasi_identifiers = models.JSONField(default=list)
    sensitive = models.JSONField(default=list)
    k = models.PositiveSmallIntegerField(default=5)
    suppress_below_k = models.BooleanField(default=False)
    reference_date = models.DateField(null=True, blank=True)

    # RiskReport.as_dict(): counts and column names only.
    risk_before = models.JSONField(null=True, blank=True)
    risk_after = models.JSONField(null=True, blank=True)

    # Progress of a large file applied in the background.
    steps_done = models.PositiveIntegerField(default=0)
    steps_total = models.PositiveIntegerField(default=0)
    failure = models.CharField(max_length=300, blank=True)

    # Relative to MEDIA_ROOT, random names (storage.py); emptied when the files go.
    input_path = models.CharField(max_length=200, blank=True)
    output_path = models.CharField(max_length=200, blank=True)
    files_deleted_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(proposal__isnull=False) & Q(decision__isnull=True))
                | (Q(proposal__isnull=True) & Q(decision__isnull=False)),
                name="anonymise_run_for_a_proposal_or_a_decision",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "created_by", "created_at"])]

    def __str__(self) -> str:
        # How audit events name a run: what it was for, never what it held.
        return f"Anonymisation for {self.linked_reference}"

    def get_absolute_url(self) -> str:
        return reverse("anonymise:detail", kwargs={"org": self.organisation.slug, "run": self.uuid})

    @property
    def linked(self) -> Proposal | Decision:
        linked = self.proposal if self.proposal_id is not None else self.decision
        assert linked is not None  # the check constraint
        return linked

    @property
    def linked_kind(self) -> str:
        return "proposal" if self.proposal_id is not None else "decision"

    @property
    def linked_reference(self) -> str:
        return self.linked.reference

    @property
    def files_expire_at(self) -> datetime:
        return self.created_at + FILES_KEPT_FOR

    @property
    def has_files(self) -> bool:
        """Whether the files are still there to work on: not deleted, and not past their time
        (between FILES_KEPT_FOR and the next cleanup they are as good as gone)."""
        return (
            self.files_deleted_at is None
            and self.status in WITH_FILES
            and timezone.now() < self.files_expire_at
        )

    @property
    def progress_percent(self) -> int:
        if not self.steps_total:
            return 0
        return min(100, round(100 * self.steps_done / self.steps_total))

    def operations(self) -> dict[str, str]:
        """Column -> operation: what the audit trail and the list show of a plan."""
        return {column: step["operation"] for column, step in self.steps.items()}

    def risk_figures(self) -> dict[str, Any]:
        """The figures of the risk before and after, for the audit trail."""
        return {
            "risk_before": _figures(self.risk_before),
            "risk_after": _figures(self.risk_after),
        }

    # --- Declared transitions (services.py calls them) ---

    @transition(status, source=list(PLANNABLE), target=Status.PLANNED)
    def plan(self) -> None:
        pass

    @transition(status, source=Status.PLANNED, target=Status.APPLYING)
    def start_applying(self) -> None:
        pass

    @transition(status, source=[Status.PLANNED, Status.APPLYING], target=Status.APPLIED)
    def finish_applying(self) -> None:
        pass

    @transition(status, source=Status.APPLYING, target=Status.PLANNED)
    def fail_applying(self) -> None:
        pass

    @transition(status, source=Status.APPLIED, target=Status.DOWNLOADED)
    def download(self) -> None:
        pass

    @transition(status, source=list(WITH_FILES), target=Status.EXPIRED)
    def expire(self) -> None:
        pass


def _figures(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    keys = ("rows", "k", "groups", "records_below_k", "l_diversity", "small_cells")
    return {key: report.get(key) for key in keys}
