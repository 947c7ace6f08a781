"""Sending: `send_transfer`, the checks of what the sender answered, and the size limits.

The file checks and `store_file` serve the recipient's replies too (`receiving`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.core.checks import require
from infoshare.core.references import next_reference
from infoshare.decisions import services as decisions
from infoshare.decisions.models import Decision, Method, Outcome
from infoshare.transfers import crypto, emails, storage
from infoshare.transfers.models import (
    MAX_DOWNLOADS,
    MAX_EXPIRY_DAYS,
    Reply,
    Transfer,
    TransferFile,
)
from infoshare.transfers.rules import can_send_transfers
from infoshare.transfers.services.common import (
    MAX_EMAIL_CHARS,
    MAX_FILE_NAME_CHARS,
    MAX_MESSAGE_CHARS,
    REFERENCE_PREFIX,
    TransferAnswers,
    logger,
)
from infoshare.transfers.services.keys import (
    hash_of_link,
    key_context,
    master_key,
    name_context,
    unwrap_key,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.core.files.uploadedfile import UploadedFile

    from infoshare.core.models import Organisation, User
    from infoshare.decisions.services import DecisionDraft

# --- Sending -----------------------------------------------------------------------------


def send_transfer(
    organisation: Organisation,
    *,
    actor: User,
    answers: TransferAnswers,
    decision: Decision | None = None,
    draft: DecisionDraft | None = None,
) -> Transfer:
    """Send files and a message to someone outside the school, as the share `decision` records
    (or the decision `draft` records now, in the same transaction).

    Everything is checked before anything is written; if the send fails after
    files were encrypted to disk, they are deleted again.
    """
    if (decision is None) == (draft is None):
        raise ValueError("send_transfer takes a decision or a draft of one, not both.")
    require(
        can_send_transfers(actor, organisation),
        "Only members who record decisions send secure transfers.",
    )
    errors = _answer_errors(answers)
    if decision is not None:
        errors.update(_decision_errors(organisation, actor, decision))
    elif draft is not None and not draft.is_share:
        errors["outcome"] = [
            "A transfer shares information: record a decision to share or to share in part"
        ]
    if errors:
        raise ValidationError(errors)
    written: list[str] = []
    try:
        with transaction.atomic():
            if draft is not None:
                decision = decisions.record_decision(
                    organisation, actor=actor, draft=_as_secure_transfer(draft)
                )
            assert decision is not None
            transfer, token = _new_transfer(organisation, actor, decision, answers)
            key = unwrap_key(transfer)
            stored = [store_file(transfer, key, upload, written) for upload in answers.files]
            audit.record(actor, "transfer.sent", transfer, _sent_summary(transfer, stored))
            transaction.on_commit(lambda: emails.send_link(transfer, token))
    except BaseException:
        remove_blobs(written)
        raise
    return transfer


def _as_secure_transfer(draft: DecisionDraft) -> DecisionDraft:
    return draft if draft.method else replace(draft, method=Method.SECURE_TRANSFER)


def _new_transfer(
    organisation: Organisation, actor: User, decision: Decision, answers: TransferAnswers
) -> tuple[Transfer, str]:
    """The transfer's row, its key wrapped and its message sealed; and the link's secret."""
    master = master_key()
    token = secrets.token_urlsafe(32)
    transfer = Transfer(
        organisation=organisation,
        reference=next_reference(organisation, REFERENCE_PREFIX),
        decision=decision,
        sender=actor,
        recipient_name=answers.recipient_name.strip(),
        recipient_email=answers.recipient_email.strip(),
        recipient_organisation=answers.recipient_organisation.strip(),
        expires_at=timezone.now() + timedelta(days=answers.expires_in_days),
        max_downloads=answers.max_downloads,
        master_key_id=master.key_id,
        link_hash=hash_of_link(token),
    )
    key = crypto.new_key()
    transfer.wrapped_key = master.wrap(key, context=key_context(transfer))
    transfer.message_sealed = crypto.seal(
        key, answers.message.strip().encode(), context=b"message:" + transfer.uuid.bytes
    )
    transfer.save()
    return transfer, token


def store_file(
    transfer: Transfer,
    key: bytes,
    upload: UploadedFile,
    written: list[str],
    reply: Reply | None = None,
) -> TransferFile:
    """Encrypt `upload` straight into a new blob: its bytes go nowhere else."""
    file = TransferFile(transfer=transfer, reply=reply, size=0)
    relative, path = storage.new_blob(transfer.organisation)
    written.append(relative)
    source = upload.open("rb")
    with path.open("wb") as sink:
        size = crypto.encrypt_stream(key, source, sink, context=b"file:" + file.uuid.bytes)
    name = _upload_name(upload)
    # The size was checked before; what was read is what counts (an upload may lie).
    if problem := _size_problem(name, size):
        raise ValidationError({"files": [problem]})
    file.size = size
    file.blob = relative
    file.name_sealed = crypto.seal(key, name.encode(), context=name_context(file))
    file.save()
    return file


def _sent_summary(transfer: Transfer, files: Sequence[TransferFile]) -> dict[str, object]:
    return {
        "reference": transfer.reference,
        "decision": transfer.decision.reference,
        "files": len(files),
        "bytes": sum(file.size for file in files),
        "expires": timezone.localtime(transfer.expires_at).date().isoformat(),
        "max_downloads": transfer.max_downloads,
    }


# --- Checking what the sender answered -----------------------------------------------------


def _answer_errors(answers: TransferAnswers) -> dict[str, list[str]]:
    """Every problem with the answers, keyed by the form field to fix."""
    errors: dict[str, list[str]] = {}
    checks: list[tuple[str, str | None]] = [
        ("recipient_name", _text_problem(answers.recipient_name, "the recipient's name", 200)),
        ("recipient_email", _email_problem(answers.recipient_email)),
        (
            "recipient_organisation",
            _text_problem(answers.recipient_organisation, "the recipient's organisation", 200),
        ),
        ("message", _message_problem(answers.message)),
        ("expires_in_days", _expiry_problem(answers.expires_in_days)),
        ("max_downloads", _downloads_problem(answers.max_downloads)),
    ]
    for field, problem in checks:
        if problem:
            errors[field] = [problem]
    if problems := files_problems(answers.files, "Choose the files to send"):
        errors["files"] = problems
    return errors


def _text_problem(value: str, what: str, longest: int) -> str | None:
    text = (value or "").strip()
    if not text:
        return f"Enter {what}"
    if len(text) > longest:
        return f"{what[0].upper()}{what[1:]} must be {longest} characters or fewer"
    return None


def _email_problem(value: str) -> str | None:
    email = (value or "").strip()
    if not email:
        return "Enter the recipient's email address"
    try:
        EmailValidator()(email)
    except ValidationError:
        return "Enter an email address in the correct format, like name@example.org"
    if len(email) > MAX_EMAIL_CHARS:
        return f"The email address must be {MAX_EMAIL_CHARS} characters or fewer"
    return None


def _message_problem(value: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return "Write a message to go with the files"
    if len(text) > MAX_MESSAGE_CHARS:
        return "The message must be 5,000 characters or fewer"
    return None


def _expiry_problem(days: int) -> str | None:
    if not isinstance(days, int) or not 1 <= days <= MAX_EXPIRY_DAYS:
        return f"The link must work for between 1 and {MAX_EXPIRY_DAYS} days"
    return None


def _downloads_problem(downloads: int) -> str | None:
    if not isinstance(downloads, int) or not 1 <= downloads <= MAX_DOWNLOADS:
        return f"Allow between 1 and {MAX_DOWNLOADS} downloads of each file"
    return None


def files_problems(files: Sequence[UploadedFile], none_chosen: str) -> list[str]:
    """What is wrong with the files: how many, and each one's size (read from the upload)."""
    if not files:
        return [none_chosen]
    problems = []
    most = max_files()
    if len(files) > most:
        problems.append(f"Send at most {most} files at a time")
    for upload in files:
        if problem := _size_problem(_upload_name(upload), upload.size or 0):
            problems.append(problem)
    return problems


def _size_problem(name: str, size: int) -> str | None:
    limit = max_file_bytes()
    if size > limit:
        return f"{name} is larger than the {size_label(limit)} a transfer takes."
    if size == 0:
        # An empty file is a mistake: a school never means to send nothing.
        return f"{name} is empty."
    return None


def _upload_name(upload: UploadedFile) -> str:
    """The file's own name, without any folder a browser sent, as the recipient will save it."""
    name = os.path.basename((upload.name or "").replace("\\", "/")).strip()
    return name[:MAX_FILE_NAME_CHARS] or "file"


def _decision_errors(
    organisation: Organisation, actor: User, decision: Decision
) -> dict[str, list[str]]:
    visible = Decision.objects.for_user(actor, organisation)
    if not visible.filter(pk=decision.pk).exists():
        return {"decision": ["Choose a decision of this school's decision log that you can see"]}
    if not visible.current().filter(pk=decision.pk).exists():
        return {"decision": [f"{decision.reference} has been corrected: choose its latest version"]}
    if decision.outcome == Outcome.NOT_SHARED:
        return {
            "decision": [
                f"{decision.reference} was a decision not to share: choose a decision to share, "
                "or record one"
            ]
        }
    return {}


def max_file_bytes() -> int:
    """Read when called, so that a test or a deployment may change it."""
    return int(settings.INFOSHARE_TRANSFER_MAX_BYTES)


def max_files() -> int:
    return int(settings.INFOSHARE_TRANSFER_MAX_FILES)


def size_label(size: int) -> str:
    """A limit as people read it: 100 MB, 512 KB, 900 bytes."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{size} bytes"


def remove_blobs(blobs: Sequence[str]) -> None:
    for blob in blobs:
        try:
            storage.remove(blob)
        except OSError:
            logger.exception("Could not remove a blob of a failed send")
