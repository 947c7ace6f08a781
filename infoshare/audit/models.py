"""The tamper-evident audit trail (DESIGN.md section 5, rule 5).

Each organisation has one chain of events; events that belong to no
organisation (a failed login for an unknown address) go to the "system"
chain. Event n stores the hash of event n-1, and its own hash is
sha256(prev_hash ‖ canonical JSON of the event), so changing, removing,
inserting or reordering a row breaks the chain where it happened.

Rows are append-only: the model refuses updates and deletes, and a database
trigger (migration 0002) refuses them from raw SQL too.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from infoshare.core.models import Organisation

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN_KEY = "system"


class AuditTrailIsAppendOnly(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditChain(models.Model):
    """The head of one chain: the last sequence number and hash written.

    Appending locks this row (SELECT … FOR UPDATE), so concurrent writers to
    one chain queue up and never fork it; different chains do not contend.
    """

    key = models.CharField(max_length=40, unique=True)
    organisation = models.OneToOneField(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_chain"
    )
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return str(self.organisation) if self.organisation_id else "System"

    @staticmethod
    def key_for(organisation: Organisation | None) -> str:
        return f"org-{organisation.pk}" if organisation is not None else SYSTEM_CHAIN_KEY


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def delete(self) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")

    def for_organisation(self, organisation: Organisation) -> AuditEventQuerySet:
        return self.filter(organisation=organisation)


class AuditEvent(models.Model):
    """One thing that happened: who did what to which record, and what changed.

    `changes` holds canonical JSON text (sorted keys, no spaces) so that the
    hash is computed over exactly the bytes stored. It never holds the
    sensitive content of a record, only field names, states and references.
    """

    chain = models.ForeignKey(AuditChain, on_delete=models.PROTECT, related_name="events")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    sequence = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="audit_events",
    )
    verb = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    changes = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "sequence"], name="audit_sequence_once_per_chain"
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="audit_org_recent"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.chain_id}#{self.sequence} {self.verb}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")
