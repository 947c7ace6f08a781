"""Statutory sharing (policy section 5): roll changes the local authority must be told of,
and the returns a school makes to the DfE and others on a calendar.

A school tells its local authority when a pupil joins the roll, by the end of
the fifth day after the day the pupil's details are entered in the admission
register, and when a pupil's name is to be deleted, no later than the deletion
(School Attendance (Pupil Registration) (England) Regulations 2024,
regulation 13; policy 5.1). Deadlines are computed from the dates recorded,
never stored. The statuses and their transitions are declared here;
`services.py` is their only caller.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from infoshare.core.models import Organisation, Person, ReferenceItem, User

if TYPE_CHECKING:
    from infoshare.decisions.models import Decision  # noqa: F401

# "By the end of the fifth day after the day on which the particulars of the
# pupil are entered in the admission register" (regulation 13(3)).
DAYS_TO_NOTIFY_JOINING = 5


class RemovalGround(ReferenceItem):
    """A ground on which a pupil's name is deleted from the admission register (regulation 9)."""

    regulation = models.CharField(max_length=20, help_text="For example 9(1)(a).")

    class Meta(ReferenceItem.Meta):
        verbose_name = "ground for removal from the roll"


class ChangeKind(models.TextChoices):
    JOINED = "joined", "Joined the roll"
    REMOVED = "removed", "Removed from the roll"


class NotificationStatus(models.TextChoices):
    TO_NOTIFY = "to_notify", "To notify"
    NOTIFIED = "notified", "Notified"
    WITHDRAWN = "withdrawn", "Withdrawn"


class NotificationMethod(models.TextChoices):
    LA_PORTAL = "la_portal", "The local authority's online form or portal"
    SECURE_EMAIL = "secure_email", "Secure or encrypted email"
    SECURE_TRANSFER = "secure_transfer", "Secure file transfer"
    LETTER = "letter", "Letter"


class RollState(models.TextChoices):
    """How a roll change stands on a given day: what the lists and the dashboard show."""

    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    NOTIFIED = "notified", "Notified"
    WITHDRAWN = "withdrawn", "Withdrawn"


def notification_deadline(kind: str, change_date: datetime.date) -> datetime.date:
    """The last day on which the local authority may be told of the change."""
    if kind == ChangeKind.JOINED:
        return change_date + datetime.timedelta(days=DAYS_TO_NOTIFY_JOINING)
    return change_date


class RollChange(FSMModelMixin, models.Model):
    """A pupil joining the roll, or being removed from it, and the notification it needs."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="roll_changes"
    )
    reference = models.CharField(max_length=20)
    pupil = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="roll_changes")
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    change_date = models.DateField(
        help_text="The day the pupil was entered in the admission register, or is to be deleted."
    )
    ground = models.ForeignKey(
        RemovalGround, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    status = FSMField(
        max_length=12,
        choices=NotificationStatus.choices,
        default=NotificationStatus.TO_NOTIFY,
        protected=True,
    )
    # The notification, once made.
    notified_to = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notified_on = models.DateField(null=True, blank=True)
    notified_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    notification_method = models.CharField(
        max_length=20, choices=NotificationMethod.choices, blank=True
    )
    notification_reference = models.CharField(max_length=100, blank=True)
    decision = models.ForeignKey(
        "decisions.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A change recorded in error is withdrawn, never deleted.
    withdrawn_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-change_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="roll_change_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind="removed", ground__isnull=False)
                | Q(kind="joined", ground__isnull=True),
                name="roll_change_ground_only_and_always_for_removal",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status", "change_date"])]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse(
            "statutory:roll_change",
            kwargs={"org": self.organisation.slug, "reference": self.reference},
        )

    @property
    def deadline(self) -> datetime.date:
        return notification_deadline(self.kind, self.change_date)

    def state_on(self, today: datetime.date) -> RollState:
        if self.status == NotificationStatus.NOTIFIED:
            return RollState.NOTIFIED
        if self.status == NotificationStatus.WITHDRAWN:
            return RollState.WITHDRAWN
        return RollState.OVERDUE if self.deadline < today else RollState.DUE

    @transition(
        field=status, source=NotificationStatus.TO_NOTIFY, target=NotificationStatus.NOTIFIED
    )
    def mark_notified(self) -> None:
        """The local authority has been told (services fill in how, when and by whom)."""

    @transition(
        field=status, source=NotificationStatus.TO_NOTIFY, target=NotificationStatus.WITHDRAWN
    )
    def withdraw(self) -> None:
        """Recorded in error: kept, with who withdrew it and why."""


class ReturnKind(models.TextChoices):
    AUTUMN_CENSUS = "autumn_census", "Autumn school census"
    SPRING_CENSUS = "spring_census", "Spring school census"
    SUMMER_CENSUS = "summer_census", "Summer school census"
    OTHER = "other", "Other return"


CENSUS_KINDS = (ReturnKind.AUTUMN_CENSUS, ReturnKind.SPRING_CENSUS, ReturnKind.SUMMER_CENSUS)


class ReturnStatus(models.TextChoices):
    OPEN = "open", "Not yet submitted"
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ReturnState(models.TextChoices):
    """How a return stands on a given day."""

    UPCOMING = "upcoming", "Upcoming"
    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class StatutoryReturn(FSMModelMixin, models.Model):
    """A return the school makes on a date: a DfE census, or any other it adds."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="statutory_returns"
    )
    kind = models.CharField(max_length=20, choices=ReturnKind.choices)
    title = models.CharField(max_length=200)
    # For a census, the academic year it belongs to, written "2026/27"; blank otherwise.
    academic_year = models.CharField(max_length=7, blank=True)
    census_day = models.DateField(null=True, blank=True)
    due_on = models.DateField()
    recipient = models.CharField(
        max_length=200, blank=True, help_text="Who receives it, like 'Department for Education'."
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = FSMField(
        max_length=12, choices=ReturnStatus.choices, default=ReturnStatus.OPEN, protected=True
    )
    submitted_on = models.DateField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submission_reference = models.CharField(max_length=100, blank=True)
    withdrawn_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            # One of each census a year: adding the calendar twice adds nothing.
            models.UniqueConstraint(
                fields=["organisation", "kind", "academic_year"],
                condition=~Q(kind="other"),
                name="statutory_return_one_census_a_year",
            ),
            models.CheckConstraint(
                condition=Q(kind="other") | ~Q(academic_year=""),
                name="statutory_return_census_has_year",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def state_on(self, today: datetime.date) -> ReturnState:
        if self.status == ReturnStatus.SUBMITTED:
            return ReturnState.SUBMITTED
        if self.status == ReturnStatus.WITHDRAWN:
            return ReturnState.WITHDRAWN
        if self.due_on < today:
            return ReturnState.OVERDUE
        return ReturnState.DUE if self.due_on <= today + RETURN_NOTICE else ReturnState.UPCOMING

    @transition(field=status, source=ReturnStatus.OPEN, target=ReturnStatus.SUBMITTED)
    def mark_submitted(self) -> None:
        """Made (services fill in when, by whom and any reference)."""

    @transition(field=status, source=ReturnStatus.OPEN, target=ReturnStatus.WITHDRAWN)
    def withdraw(self) -> None:
        """Not needed after all: kept, with who withdrew it and why."""


# A return is listed as due (on the dashboard, in the digest) from this long before.
RETURN_NOTICE = datetime.timedelta(days=30)
