"""The recipient's side: the link, the one-time code, what the recipient (and the sender)
read, downloads, and the replies the recipient sends back.

A refused attempt is an access log entry committed before the refusal is
raised or returned (see the package's docstring).
"""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING, BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from infoshare.audit import services as audit
from infoshare.core.checks import require
from infoshare.transfers import crypto, emails, storage
from infoshare.transfers.models import (
    WRONG_CODES_BEFORE_LOCK,
    AccessKind,
    Reply,
    Status,
    Transfer,
    TransferFile,
)
from infoshare.transfers.services.common import (
    CODE_DIGITS,
    CODE_FIRST_MESSAGE,
    CODE_RESEND_AFTER,
    CODE_VALID_FOR,
    ENDED_STATE,
    LOCKED_MESSAGE,
    MAX_MESSAGE_CHARS,
    WAIT_MESSAGE,
    DamagedFile,
    Download,
    FileView,
    ReplyView,
    Visit,
    lock_transfer,
    log_access,
    logger,
    raise_refusal,
    recipient_refusal,
    recipient_state,
)
from infoshare.transfers.services.keys import (
    hash_of_code,
    hash_of_link,
    key_for_reading,
    name_context,
    reply_context,
    unwrap_key,
    unwrap_key_for_download,
)
from infoshare.transfers.services.managing import may_manage
from infoshare.transfers.services.sending import files_problems, remove_blobs, store_file

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from django.core.files.uploadedfile import UploadedFile
    from django.db.models import QuerySet

    from infoshare.core.models import User
    from infoshare.transfers.models import AccessEvent

# --- The link and the recipient's view of it ---------------------------------------------


def link_path(token: str) -> str:
    return reverse("transfers_public:landing", kwargs={"token": token})


def find_by_token(token: str) -> Transfer | None:
    """The transfer whose link holds `token`; None for any other text."""
    if not token or len(token) > 200:
        return None
    return (
        Transfer.objects.select_related("organisation", "sender")
        .filter(link_hash=hash_of_link(token))
        .first()
    )


def note_link_opened(transfer: Transfer, visit: Visit) -> None:
    with transaction.atomic():
        ended = recipient_state(transfer) == ENDED_STATE
        log_access(transfer, AccessKind.REFUSED if ended else AccessKind.LINK_OPENED, visit)


def send_code(transfer: Transfer, visit: Visit) -> None:
    """Email the recipient a new one-time code (the old one stops working)."""
    issue_code(transfer, visit)


def issue_code(transfer: Transfer, visit: Visit) -> str:
    """What `send_code` does, returning the code too: for the demo, which plays the recipient
    reading their email. Only a keyed hash of the code is stored."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        locked = lock_transfer(transfer)
        refusal = recipient_refusal(locked, visit, field="code")
        if refusal is None:
            now = timezone.now()
            if locked.code_sent_at is not None and now - locked.code_sent_at < CODE_RESEND_AFTER:
                raise ValidationError({"code": [WAIT_MESSAGE]})
            locked.code_hash = hash_of_code(locked, code)
            locked.code_sent_at = now
            locked.code_used = False
            locked.save(update_fields=["code_hash", "code_sent_at", "code_used"])
            log_access(locked, AccessKind.CODE_SENT, visit)
            transaction.on_commit(lambda: emails.send_code(locked, code))
    raise_refusal(refusal)
    transfer.refresh_from_db()
    return code


def verify_code(transfer: Transfer, code: str, visit: Visit) -> bool:
    """Whether `code` is the recipient's current code: right, unused and under 15 minutes old.

    A right code opens the transfer. A wrong (or expired, or used) one is
    counted, and committed, before False comes back; the fifth in a row locks
    the transfer, tells the sender, and raises ValidationError.
    """
    typed = "".join(ch for ch in code if ch not in " -\t")
    if not typed:
        raise ValidationError({"code": ["Enter the 6-digit code from the email"]})
    with transaction.atomic():
        locked = lock_transfer(transfer)
        refusal = recipient_refusal(locked, visit, field="code")
        right = refusal is None and _code_is_right(locked, typed)
        if right:
            _accept_code(locked, visit)
        elif refusal is None and _count_wrong_code(locked, visit):
            refusal = ValidationError({"code": [LOCKED_MESSAGE]})
    raise_refusal(refusal)
    transfer.refresh_from_db()
    return right


def _code_is_right(transfer: Transfer, typed: str) -> bool:
    sent_at = transfer.code_sent_at
    if not transfer.code_hash or transfer.code_used or sent_at is None:
        return False
    if timezone.now() - sent_at >= CODE_VALID_FOR:
        return False
    return constant_time_compare(hash_of_code(transfer, typed), transfer.code_hash)


def _accept_code(transfer: Transfer, visit: Visit) -> None:
    first_opening = transfer.status == Status.SENT
    transfer.code_used = True
    transfer.wrong_codes = 0
    if first_opening:
        transfer.open()
    transfer.save()
    log_access(transfer, AccessKind.CODE_RIGHT, visit)
    if first_opening:
        audit.record(None, "transfer.opened", transfer, {"status": transfer.status})


def _count_wrong_code(transfer: Transfer, visit: Visit) -> bool:
    """Count one wrong code; lock the transfer at the limit. Whether it locked it."""
    transfer.wrong_codes += 1
    log_access(transfer, AccessKind.CODE_WRONG, visit)
    locks = transfer.wrong_codes >= WRONG_CODES_BEFORE_LOCK
    if locks:
        transfer.lock()
        log_access(transfer, AccessKind.LOCKED, visit)
        audit.record(
            None,
            "transfer.locked",
            transfer,
            {"status": transfer.status, "wrong_codes": transfer.wrong_codes},
        )
        transaction.on_commit(lambda: emails.send_locked(transfer))
    transfer.save()
    return locks


# --- What the recipient and the sender read -------------------------------------------------


def files_of(transfer: Transfer) -> list[FileView]:
    """The files sent, names decrypted (or "" once the transfer has ended and they are gone)."""
    key = key_for_reading(transfer)
    outgoing = transfer.files.filter(reply__isnull=True).order_by("uploaded_at", "pk")
    return [
        FileView(
            file=file,
            name=_file_name(key, file),
            size=file.size,
            downloads_left=max(0, transfer.max_downloads - file.downloads),
        )
        for file in outgoing
    ]


def recipient_files(transfer: Transfer) -> list[FileView]:
    """The files sent, with their names, while the transfer is live (none once it has ended).

    Whether the recipient may see them now is `recipient_state`'s answer, which
    their pages ask first.
    """
    return files_of(transfer) if transfer.is_live else []


def message_of(transfer: Transfer) -> str:
    """The sender's message, decrypted; "" once the transfer has ended."""
    key = key_for_reading(transfer)
    if key is None or not transfer.message_sealed:
        return ""
    return _open_text(key, transfer.message_sealed, b"message:" + transfer.uuid.bytes)


def replies_of(transfer: Transfer) -> list[ReplyView]:
    """The recipient's replies, oldest first, notes and file names decrypted while live."""
    key = key_for_reading(transfer)
    views = []
    for reply in transfer.replies.prefetch_related("files").order_by("received_at", "pk"):
        message = ""
        if key is not None and reply.message_sealed:
            message = _open_text(key, reply.message_sealed, reply_context(reply))
        files = [
            FileView(file=file, name=_file_name(key, file), size=file.size, downloads_left=0)
            for file in reply.files.all()
        ]
        views.append(ReplyView(reply=reply, message=message, files=files))
    return views


def access_log_of(transfer: Transfer) -> QuerySet[AccessEvent]:
    """The transfer's access log, oldest first (newest last)."""
    return transfer.access_log.select_related("file", "actor").order_by("at", "pk")


def _file_name(key: bytes | None, file: TransferFile) -> str:
    if key is None or not file.name_sealed:
        return ""
    return _open_text(key, file.name_sealed, name_context(file))


def _open_text(key: bytes, sealed: bytes | memoryview, context: bytes) -> str:
    try:
        return crypto.open_sealed(key, bytes(sealed), context=context).decode()
    except crypto.DecryptionError:
        logger.error("A sealed value failed authentication (context %s)", context[:12])
        return ""


# --- Downloads --------------------------------------------------------------------------


def download_for_recipient(
    transfer: Transfer, file_uuid: uuid.UUID | str, visit: Visit
) -> Download:
    """One of the files sent, decrypted on the fly, counted against its limit.

    The first chunk is decrypted before anything is counted or returned, so a
    damaged file is refused (and the sender told) before a byte goes out.
    """
    file = _file_of(transfer, file_uuid, reply=False)
    with transaction.atomic():
        refusal = _download_refusal(lock_transfer(transfer), file, visit)
    raise_refusal(refusal)
    key = unwrap_key_for_download(transfer)
    opened = _open_checked(transfer, file, key, visit)
    try:
        with transaction.atomic():
            locked = lock_transfer(transfer)
            refusal = _download_refusal(locked, file, visit)
            if refusal is None:
                _count_download(locked, file, visit)
        raise_refusal(refusal)
    except BaseException:
        opened.close()
        raise
    transfer.refresh_from_db()
    return Download(name=_file_name(key, file), size=file.size, chunks=opened)


def download_reply(transfer: Transfer, file_uuid: uuid.UUID | str, *, actor: User) -> Download:
    """A file the recipient sent back, for the sender or the DPO, while the transfer is live."""
    require(may_manage(transfer, actor), "Only the sender or the DPO downloads a reply.")
    if not transfer.is_live:
        raise ValidationError({"file": [f"{transfer.reference} has ended: its files are deleted."]})
    file = _file_of(transfer, file_uuid, reply=True)
    key = unwrap_key_for_download(transfer)
    opened = _open_checked(transfer, file, key, None, tell_sender=False)
    try:
        with transaction.atomic():
            audit.record(actor, "transfer.reply_downloaded", transfer, {"file": str(file.uuid)})
            log_access(transfer, AccessKind.REPLY_DOWNLOADED, None, file=file, actor=actor)
    except BaseException:
        opened.close()
        raise
    return Download(name=_file_name(key, file), size=file.size, chunks=opened)


def _file_of(transfer: Transfer, file_uuid: uuid.UUID | str, *, reply: bool) -> TransferFile:
    try:
        wanted = file_uuid if isinstance(file_uuid, uuid.UUID) else uuid.UUID(str(file_uuid))
    except ValueError:
        raise Http404("No such file in this transfer.") from None
    file = (
        TransferFile.objects.filter(transfer=transfer, uuid=wanted, reply__isnull=not reply)
        .select_related("reply")
        .first()
    )
    if file is None:
        raise Http404("No such file in this transfer.")
    return file


def _download_refusal(
    transfer: Transfer, file: TransferFile, visit: Visit
) -> ValidationError | None:
    """Why the recipient may not download `file` now (logged), or None."""
    refusal = recipient_refusal(transfer, visit, field="file")
    if refusal is not None:
        return refusal
    if transfer.status == Status.SENT:
        log_access(transfer, AccessKind.DOWNLOAD_REFUSED, visit, file=file)
        return ValidationError({"file": [CODE_FIRST_MESSAGE]})
    downloads = TransferFile.objects.filter(pk=file.pk).values_list("downloads", flat=True).get()
    if downloads >= transfer.max_downloads:
        log_access(transfer, AccessKind.DOWNLOAD_REFUSED, visit, file=file)
        times = "once" if transfer.max_downloads == 1 else f"{transfer.max_downloads} times"
        return ValidationError(
            {
                "file": [
                    f"This file has been downloaded the {times} allowed. "
                    "Ask the sender to send it again if you need it."
                ]
            }
        )
    return None


def _count_download(transfer: Transfer, file: TransferFile, visit: Visit) -> None:
    counted = TransferFile.objects.select_for_update().get(pk=file.pk)
    counted.downloads += 1
    counted.save(update_fields=["downloads"])
    file.downloads = counted.downloads
    if transfer.status == Status.OPENED:
        transfer.mark_downloaded()
        transfer.save()
    log_access(transfer, AccessKind.FILE_DOWNLOADED, visit, file=file)
    audit.record(
        None,
        "transfer.downloaded",
        transfer,
        {
            "status": transfer.status,
            "file": str(file.uuid),
            "downloads": counted.downloads,
            "max_downloads": transfer.max_downloads,
        },
    )


class _Chunks:
    """The decrypted chunks of a blob: the first one already checked, the rest on demand.

    It closes the blob when it is exhausted, fails, or is closed (Django's
    StreamingHttpResponse closes it at the end of the response), even if it
    was never iterated.
    """

    def __init__(self, first: bytes, rest: Iterator[bytes], handle: BinaryIO) -> None:
        self._first: bytes | None = first
        self._rest = rest
        self._handle = handle

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            if first:
                return first
        try:
            return next(self._rest)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._handle.close()


def _open_checked(
    transfer: Transfer,
    file: TransferFile,
    key: bytes,
    visit: Visit | None,
    *,
    tell_sender: bool = True,
) -> _Chunks:
    """The file's plaintext as chunks, the first decrypted now: DamagedFile if it fails."""
    handle: BinaryIO | None = None
    try:
        handle = storage.open_blob(file.blob) if file.blob else None
        if handle is None:
            raise crypto.DecryptionError("The file's ciphertext is missing.")
        rest = crypto.decrypt_stream(key, handle, context=b"file:" + file.uuid.bytes)
        first = next(rest, b"")
    except (crypto.DecryptionError, OSError):
        if handle is not None:
            handle.close()
        logger.error("File %s of %s failed authentication", file.uuid, transfer.reference)
        _note_damaged(transfer, file, visit, tell_sender=tell_sender)
        raise DamagedFile() from None
    return _Chunks(first, rest, handle)


def _note_damaged(
    transfer: Transfer, file: TransferFile, visit: Visit | None, *, tell_sender: bool
) -> None:
    with transaction.atomic():
        audit.record(None, "transfer.damaged_file", transfer, {"file": str(file.uuid)})
        if tell_sender:
            log_access(transfer, AccessKind.DOWNLOAD_REFUSED, visit, file=file)
            transaction.on_commit(lambda: emails.send_damaged_file(transfer))


# --- Replies ------------------------------------------------------------------------------


def receive_reply(
    transfer: Transfer, *, message: str, files: Sequence[UploadedFile], visit: Visit
) -> Reply:
    """The recipient sends files back (and a note), encrypted like the files sent."""
    errors: dict[str, list[str]] = {}
    if len((message or "").strip()) > MAX_MESSAGE_CHARS:
        errors["message"] = ["The note must be 5,000 characters or fewer"]
    if problems := files_problems(files, "Choose the files to send back"):
        errors["files"] = problems
    if errors:
        raise ValidationError(errors)
    written: list[str] = []
    reply: Reply | None = None
    try:
        with transaction.atomic():
            locked = lock_transfer(transfer)
            refusal = recipient_refusal(locked, visit, field="files")
            if refusal is None and locked.status == Status.SENT:
                refusal = ValidationError({"files": [CODE_FIRST_MESSAGE]})
            if refusal is None:
                reply = _new_reply(locked, message, files, written, visit)
        raise_refusal(refusal)
    except BaseException:
        remove_blobs(written)
        raise
    assert reply is not None
    return reply


def _new_reply(
    transfer: Transfer,
    message: str,
    files: Sequence[UploadedFile],
    written: list[str],
    visit: Visit,
) -> Reply:
    key = unwrap_key(transfer)
    reply = Reply(transfer=transfer)
    reply.message_sealed = crypto.seal(
        key, (message or "").strip().encode(), context=reply_context(reply)
    )
    reply.save()
    stored = [store_file(transfer, key, upload, written, reply=reply) for upload in files]
    log_access(transfer, AccessKind.REPLIED, visit)
    audit.record(
        None,
        "transfer.reply_received",
        transfer,
        {"files": len(stored), "bytes": sum(file.size for file in stored)},
    )
    transaction.on_commit(lambda: emails.send_reply_received(transfer))
    return reply
