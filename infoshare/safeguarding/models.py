"""Safeguarding internal sharing (policy section 8, Appendix B).

Safeguarding information belongs to the Designated Safeguarding Lead. A DSL
shares it with a named member of staff and signs the DSL's declaration; the
recipient signs theirs to acknowledge it; neither can pass it further without
a DSL's permission. Each record is the Appendix B "Internal Information
Sharing Form" for the child's child-protection or child-in-need file.

Who may read a record is answered by `Share.objects.for_user` alone: the
school's DSLs and deputy DSLs see every record, a recipient sees the records
shared with them, and nobody else sees any, whatever their other roles.
The statuses and their transitions are declared here; `services.py` is
their only caller.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import orjson
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from infoshare.core.models import Organisation, Person, Role, User
from infoshare.core.rules import roles_in

if TYPE_CHECKING:
    from collections.abc import Iterable

# Who owns safeguarding information in a school (policy 8.2, Appendix B).
SAFEGUARDING_LEADS = frozenset({Role.DSL, Role.DEPUTY_DSL})
# Roles held for an outside body's oversight, never as a member of staff: their
# holders never receive safeguarding information (DESIGN.md section 1).
OVERSIGHT_ONLY_ROLES = frozenset({Role.DPO, Role.AUDITOR})

# The declarations of the Appendix B form, word for word: what a signature signs.
DSL_DECLARATION = (
    "I am sharing this information with the colleague specified below in order to "
    "effectively discharge our statutory responsibility to safeguard and promote the "
    "welfare of children and young people in our care."
)
RECIPIENT_DECLARATION = (
    "I receive this information in the knowledge that I am unable to share this further, "
    "without the expressed permission of the Designated Safeguarding Lead. I acknowledge "
    "that this information is privileged and is shared with me with the intention of "
    "ensuring children are protected from harm and that their safety and welfare is promoted."
)


def leads_safeguarding(user: Any, organisation: Organisation | None) -> bool:
    """Whether `user` is a DSL or deputy DSL of `organisation`."""
    return bool(roles_in(user, organisation) & SAFEGUARDING_LEADS)


def may_receive_safeguarding(roles: Iterable[str]) -> bool:
    """Whether someone holding `roles` in a school works there (not only oversees it)."""
    held = set(roles)
    return bool(held - OVERSIGHT_ONLY_ROLES)


class FileKind(models.TextChoices):
    """The child's file the form is attached to (Appendix B)."""

    CHILD_PROTECTION = "child_protection", "Child protection file"
    CHILD_IN_NEED = "child_in_need", "Child in need file"


class Status(models.TextChoices):
    AWAITING_ACKNOWLEDGEMENT = "awaiting", "Awaiting acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ShareQuerySet(models.QuerySet["Share"]):
    def for_user(self, user: User, organisation: Organisation) -> ShareQuerySet:
        """The records of `organisation` that `user` may read: strictly (issue 6, item 7).

        A DSL or deputy DSL sees all of them; anyone else only those shared
        with them. A headteacher, DPO or auditor sees none by their role.
        """
        roles = roles_in(user, organisation)
        if not roles:
            return self.none()
        mine = self.filter(organisation=organisation)
        if roles & SAFEGUARDING_LEADS:
            return mine
        return mine.filter(recipient=user)

    def outstanding(self) -> ShareQuerySet:
        return self.filter(status=Status.AWAITING_ACKNOWLEDGEMENT)


class Share(FSMModelMixin, models.Model):
    """One sharing of safeguarding information by a DSL with one named member of staff."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="safeguarding_shares"
    )
    reference = models.CharField(max_length=20)
    status = FSMField(
        default=Status.AWAITING_ACKNOWLEDGEMENT, choices=Status.choices, protected=True
    )
    pupil = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    file_kind = models.CharField(max_length=20, choices=FileKind.choices)
    file_reference = models.CharField(
        "Reference of the child's file",
        max_length=100,
        help_text="As it is known where the file is kept: another system or the paper file.",
    )
    description = models.TextField("Description of the information being shared")
    recipient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    shared_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    shared_at = models.DateTimeField(default=timezone.now)
    # The re-share request a DSL permitted, when this record passes information further.
    permitted_by_request = models.OneToOneField(
        "ReshareRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resulting_share",
    )
    withdrawn_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    attached_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attached_at = models.DateTimeField("Attached to the child's file", null=True, blank=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ["-shared_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="safeguarding_reference_unique"
            ),
            models.CheckConstraint(
                condition=~Q(recipient=models.F("shared_by")),
                name="safeguarding_not_shared_with_oneself",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "recipient", "status"]),
            models.Index(fields=["organisation", "pupil"]),
        ]

    def __str__(self) -> str:
        # Only the reference: this is how audit events and emails name a record.
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse(
            "safeguarding:detail",
            kwargs={"org": self.organisation.slug, "reference": self.reference},
        )

    @property
    def is_complete(self) -> bool:
        """Both declarations signed: the form can be printed and filed."""
        return any(signature.part == Part.RECIPIENT for signature in self.signatures.all())

    def signature_of(self, part: str) -> Signature | None:
        return next((s for s in self.signatures.all() if s.part == part), None)

    # --- Declared transitions (services.py calls them) ---

    @transition(status, source=Status.AWAITING_ACKNOWLEDGEMENT, target=Status.ACKNOWLEDGED)
    def acknowledge(self) -> None:
        pass

    @transition(
        status,
        source=[Status.AWAITING_ACKNOWLEDGEMENT, Status.ACKNOWLEDGED],
        target=Status.WITHDRAWN,
    )
    def withdraw(self) -> None:
        pass


class Part(models.TextChoices):
    """The two declarations of the form."""

    DSL = "dsl", "Designated Safeguarding Lead"
    RECIPIENT = "recipient", "Staff member (recipient)"


DECLARATIONS = {Part.DSL: DSL_DECLARATION, Part.RECIPIENT: RECIPIENT_DECLARATION}


class Signature(models.Model):
    """A signed declaration: who, the name they typed, when, and a hash of what they declared.

    The hash covers the declaration's words and the record as it stood, so a
    change to either afterwards shows (`is_intact`).
    """

    share = models.ForeignKey(Share, on_delete=models.PROTECT, related_name="signatures")
    part = models.CharField(max_length=10, choices=Part.choices)
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("Name (printed)", max_length=150)
    signed_at = models.DateTimeField()
    # How the signer proved it was them: their authenticator's code, or their password.
    confirmed_with = models.CharField(max_length=20)
    declaration_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["share", "part"], name="one_signature_per_part")
        ]

    def __str__(self) -> str:
        return f"{self.get_part_display()}: {self.name}"

    @property
    def is_intact(self) -> bool:
        return self.declaration_hash == declaration_hash(
            self.share, self.part, signer=self.signer, name=self.name, signed_at=self.signed_at
        )


def declaration_hash(share: Share, part: str, *, signer: User, name: str, signed_at: Any) -> str:
    """SHA-256 of what a signer declares: the words, the record they sign, who and when."""
    declared = {
        "declaration": DECLARATIONS[Part(part)],
        "part": part,
        "organisation": share.organisation.slug,
        "reference": share.reference,
        "pupil": str(share.pupil.uuid),
        "file_kind": share.file_kind,
        "file_reference": share.file_reference,
        "description": share.description,
        "shared_by": str(share.shared_by.uuid),
        "recipient": str(share.recipient.uuid),
        "signer": str(signer.uuid),
        "name": name,
        "signed_at": signed_at.astimezone(datetime.UTC).isoformat(),
    }
    return hashlib.sha256(orjson.dumps(declared, option=orjson.OPT_SORT_KEYS)).hexdigest()


# --- Asking to share further ----------------------------------------------------------


class ReshareKind(models.TextChoices):
    INTERNAL = "internal", "Another member of staff"
    EXTERNAL = "external", "An outside organisation"


class ReshareStatus(models.TextChoices):
    REQUESTED = "requested", "Awaiting a DSL's answer"
    PERMITTED = "permitted", "Permitted"
    REFUSED = "refused", "Refused"


class ReshareRequestQuerySet(models.QuerySet["ReshareRequest"]):
    def for_user(self, user: User, organisation: Organisation) -> ReshareRequestQuerySet:
        """Requests about records `user` may read (the same rule as the records)."""
        return self.filter(share__in=Share.objects.for_user(user, organisation))

    def pending(self) -> ReshareRequestQuerySet:
        return self.filter(status=ReshareStatus.REQUESTED)


class ReshareRequest(FSMModelMixin, models.Model):
    """A recipient's request to pass a record's information further, and a DSL's answer."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    share = models.ForeignKey(Share, on_delete=models.PROTECT, related_name="reshare_requests")
    status = FSMField(
        default=ReshareStatus.REQUESTED, choices=ReshareStatus.choices, protected=True
    )
    kind = models.CharField(max_length=10, choices=ReshareKind.choices)
    # Internal: the member of staff. External: the organisation and who there.
    colleague = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outside_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outside_organisation_name = models.CharField(max_length=200, blank=True)
    outside_person = models.CharField("Person or role there", max_length=200, blank=True)
    reason = models.TextField()
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    answered_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_reasons = models.TextField(blank=True)
    # A permitted external share is recorded in the decision log.
    decision = models.OneToOneField(
        "decisions.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safeguarding_request",
    )

    objects = ReshareRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=ReshareKind.INTERNAL, colleague__isnull=False)
                    | (
                        Q(kind=ReshareKind.EXTERNAL, colleague__isnull=True)
                        & (Q(outside_organisation__isnull=False) | ~Q(outside_organisation_name=""))
                    )
                ),
                name="reshare_names_whom",
            ),
        ]

    def __str__(self) -> str:
        return f"Request to share {self.share.reference} further"

    def get_absolute_url(self) -> str:
        return reverse(
            "safeguarding:request",
            kwargs={
                "org": self.organisation.slug,
                "reference": self.share.reference,
                "request_uuid": self.uuid,
            },
        )

    @property
    def whom(self) -> str:
        """Who the information would go to, as a person would say it."""
        if self.kind == ReshareKind.INTERNAL and self.colleague is not None:
            return self.colleague.name
        organisation = (
            self.outside_organisation.name
            if self.outside_organisation is not None
            else self.outside_organisation_name
        )
        return f"{self.outside_person}, {organisation}" if self.outside_person else organisation

    @transition(status, source=ReshareStatus.REQUESTED, target=ReshareStatus.PERMITTED)
    def permit(self) -> None:
        pass

    @transition(status, source=ReshareStatus.REQUESTED, target=ReshareStatus.REFUSED)
    def refuse(self) -> None:
        pass
