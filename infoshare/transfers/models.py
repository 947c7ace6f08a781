"""Secure transfers: personal data sent to someone outside the school, encrypted (issue 9).

The safeguarding policy's egress clause: personal information sent outside the
school is encrypted. A transfer is a package of files and a message for one
named recipient, who has no account: they open it with a link and a one-time
code sent in a separate email. Every transfer belongs to a decision in the
decision log, so sending is also the record of the share.

What is secret is never stored in the clear:
- the files, the message, the file names and any reply are encrypted under a
  key of the transfer's own (AES-256-GCM, `crypto.py`);
- that key is stored only wrapped by the master key (`INFOSHARE_MASTER_KEY`);
- the link and the code are stored only as hashes.
Revoking or expiring a transfer destroys its key and deletes the ciphertext,
so nothing of it can be recovered; the record of who sent what to whom, and
its access log, stay.

The statuses and their transitions are declared here; `services.py` is their
only caller.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from infoshare.core.models import Organisation, Role, User
from infoshare.core.rules import roles_in
from infoshare.decisions.models import Decision

if TYPE_CHECKING:
    from datetime import datetime

# Who sees every transfer of the school and its access log, not only their own.
ROLES_SEEING_EVERY_TRANSFER = frozenset({Role.DPO})
DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 30
DEFAULT_MAX_DOWNLOADS = 3
MAX_DOWNLOADS = 10
# Wrong codes in a row that lock a transfer (issue 9, item 3).
WRONG_CODES_BEFORE_LOCK = 5


class Status(models.TextChoices):
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    DOWNLOADED = "downloaded", "Downloaded"
    LOCKED = "locked", "Locked"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


# A live transfer still has its key and files; an ended one has neither.
LIVE = (Status.SENT, Status.OPENED, Status.DOWNLOADED, Status.LOCKED)
ENDED = (Status.EXPIRED, Status.REVOKED)
# Where the recipient may use the link: a locked transfer waits for its sender.
OPEN_TO_RECIPIENT = (Status.SENT, Status.OPENED, Status.DOWNLOADED)


class TransferQuerySet(models.QuerySet["Transfer"]):
    def for_user(self, user: User, organisation: Organisation) -> TransferQuerySet:
        """The transfers of `organisation` that `user` may see: those they sent, or all
        of them for the DPO (issue 9, item 4: "visible to the sender and the DPO")."""
        roles = roles_in(user, organisation)
        if not roles:
            return self.none()
        mine = self.filter(organisation=organisation)
        if roles & ROLES_SEEING_EVERY_TRANSFER:
            return mine
        return mine.filter(sender=user)

    def live(self) -> TransferQuerySet:
        return self.filter(status__in=LIVE)

    def due_to_expire(self, now: datetime) -> TransferQuerySet:
        return self.live().filter(expires_at__lte=now)


class Transfer(FSMModelMixin, models.Model):
    """One package of files and a message, sent to one named recipient outside the school."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="transfers"
    )
    reference = models.CharField(max_length=20)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="transfers")
    sender = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = FSMField(default=Status.SENT, choices=Status.choices, protected=True)

    recipient_name = models.CharField("Recipient's name", max_length=200)
    recipient_email = models.EmailField("Recipient's email address")
    recipient_organisation = models.CharField("Recipient's organisation", max_length=200)

    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    max_downloads = models.PositiveSmallIntegerField(
        "Downloads allowed for each file", default=DEFAULT_MAX_DOWNLOADS
    )

    # The transfer's key, wrapped by the master key; empty once destroyed.
    wrapped_key = models.BinaryField(null=True, editable=False)
    # Which master key wrapped it (a fingerprint, never the key): a changed
    # master key is then named as the reason a transfer cannot be opened.
    master_key_id = models.CharField(max_length=16, editable=False)
    # The message, sealed with the transfer's key; empty once destroyed.
    message_sealed = models.BinaryField(default=b"", editable=False)

    # SHA-256 (hex) of the secret in the recipient's link; the link itself is only in the email.
    link_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The current one-time code: a keyed hash of it, when it was sent, and whether it was used.
    code_hash = models.CharField(max_length=128, blank=True, editable=False)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_used = models.BooleanField(default=False)
    wrong_codes = models.PositiveSmallIntegerField(
        default=0, help_text="Wrong codes since the last right one."
    )

    opened_at = models.DateTimeField(null=True, blank=True)
    first_downloaded_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.TextField(blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="transfer_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(max_downloads__gte=1) & Q(max_downloads__lte=MAX_DOWNLOADS),
                name="transfer_downloads_within_limits",
            ),
            # An ended transfer keeps no key: nothing of it can be decrypted.
            models.CheckConstraint(
                condition=~Q(status__in=ENDED) | Q(wrapped_key__isnull=True),
                name="ended_transfer_has_no_key",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "sender", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse(
            "transfers:detail",
            kwargs={"org": self.organisation.slug, "reference": self.reference},
        )

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    def has_expired_by(self, now: datetime) -> bool:
        """Past its expiry time, whether or not `expire_transfers` has run since."""
        return now >= self.expires_at

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    # --- Transitions (services.py calls these, inside its transaction) -------------------

    @transition(field=status, source=Status.SENT, target=Status.OPENED)
    def open(self) -> None:
        self.opened_at = timezone.now()

    @transition(field=status, source=Status.OPENED, target=Status.DOWNLOADED)
    def mark_downloaded(self) -> None:
        self.first_downloaded_at = timezone.now()

    @transition(field=status, source=list(OPEN_TO_RECIPIENT), target=Status.LOCKED)
    def lock(self) -> None:
        self.locked_at = timezone.now()

    @transition(
        field=status,
        source=Status.LOCKED,
        target=RETURN_VALUE(Status.SENT, Status.OPENED, Status.DOWNLOADED),
    )
    def unlock(self) -> str:
        """Back to where it was before it was locked, with a fresh count of wrong codes."""
        self.wrong_codes = 0
        self.locked_at = None
        if self.first_downloaded_at is not None:
            return Status.DOWNLOADED
        return Status.OPENED if self.opened_at is not None else Status.SENT

    @transition(field=status, source=list(LIVE), target=Status.REVOKED)
    def revoke(self, actor: User, reason: str) -> None:
        self._end(actor, reason)

    @transition(field=status, source=list(LIVE), target=Status.EXPIRED)
    def expire(self) -> None:
        self._end(None, "")

    def _end(self, actor: User | None, reason: str) -> None:
        """Forget the key and the sealed message; services delete the files' ciphertext."""
        self.wrapped_key = None
        self.message_sealed = b""
        self.code_hash = ""
        self.ended_at = timezone.now()
        self.ended_by = actor
        self.end_reason = reason


class Reply(models.Model):
    """Files the recipient sent back through the transfer, with an optional note."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="replies")
    received_at = models.DateTimeField(default=timezone.now)
    # The note, sealed with the transfer's key; empty once the transfer ends.
    message_sealed = models.BinaryField(default=b"", editable=False)

    class Meta:
        ordering = ["received_at"]
        verbose_name_plural = "replies"

    def __str__(self) -> str:
        return f"Reply to {self.transfer.reference}"


class TransferFile(models.Model):
    """One encrypted file: sent with the transfer, or part of a reply (`reply` set)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="files")
    reply = models.ForeignKey(
        Reply, null=True, blank=True, on_delete=models.PROTECT, related_name="files"
    )
    # The file's name can say whom it is about, so it is sealed too; empty once ended.
    name_sealed = models.BinaryField(default=b"", editable=False)
    size = models.PositiveBigIntegerField(help_text="Bytes before encryption.")
    # Where the ciphertext is, relative to MEDIA_ROOT (`storage.py`); empty once deleted.
    blob = models.CharField(max_length=200, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"File {self.uuid} of {self.transfer.reference}"

    @property
    def is_reply(self) -> bool:
        return self.reply_id is not None


class AccessKind(models.TextChoices):
    LINK_OPENED = "link_opened", "Opened the link"
    CODE_SENT = "code_sent", "Asked for a code"
    CODE_WRONG = "code_wrong", "Entered a wrong code"
    CODE_RIGHT = "code_right", "Entered the right code"
    LOCKED = "locked", "Locked after too many wrong codes"
    FILE_DOWNLOADED = "file_downloaded", "Downloaded a file"
    DOWNLOAD_REFUSED = "download_refused", "Was refused a download"
    REPLIED = "replied", "Replied with files"
    REPLY_DOWNLOADED = "reply_downloaded", "Downloaded a reply"
    REFUSED = "refused", "Was told the transfer is no longer available"


class AccessEvent(models.Model):
    """One line of a transfer's access log (issue 9, item 4): what, when, from where.

    Append-only: an event is never changed once written. `actor` is set when
    a signed-in member (the sender or the DPO) did it; otherwise it was
    whoever held the link.
    """

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="access_log")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=AccessKind.choices)
    file = models.ForeignKey(
        TransferFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField("Browser", max_length=400, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["transfer", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.transfer.reference})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("An access log entry is never changed once written.")
        super().save(*args, **kwargs)
