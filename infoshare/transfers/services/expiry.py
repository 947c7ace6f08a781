"""Expiry and destruction: `expire_due_transfers`, destroying an ended transfer's key and
files (revocation uses it too, from `managing`), and sweeping the blobs left behind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.transfers import storage
from infoshare.transfers.models import ENDED, Reply, Transfer, TransferFile
from infoshare.transfers.services.common import STRAY_BLOBS_KEPT_FOR, logger

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

# --- Expiry and destruction ------------------------------------------------------------------


def expire_due_transfers(now: datetime | None = None) -> int:
    """Expire every live transfer past its expiry; returns how many.

    Each in a transaction of its own, its row locked and checked again, so a
    second run at the same time (or a revocation) skips what is no longer due.
    Then deletes the blobs any ended transfer still has (a deletion that failed
    before), and blobs no file refers to.
    """
    now = now or timezone.now()
    expired = 0
    for pk in Transfer.objects.due_to_expire(now).values_list("pk", flat=True):
        with transaction.atomic():
            locked = Transfer.objects.select_for_update().filter(pk=pk).due_to_expire(now).first()
            if locked is None:
                continue
            files = _destroy(locked, locked.expire)
            audit.record(
                None, "transfer.expired", locked, {"status": locked.status, "files_deleted": files}
            )
            expired += 1
    _sweep_ended_blobs()
    _sweep_stray_blobs(now)
    return expired


def _destroy(transfer: Transfer, end: Callable[[], object]) -> int:
    """End the locked `transfer` with `end` (revoke or expire), forgetting its key and everything
    sealed with it; its blobs are deleted once this commits. Returns how many files it had."""
    end()  # the transition empties the wrapped key and the sealed message
    transfer.save()
    files = TransferFile.objects.filter(transfer=transfer)
    blobs = [blob for blob in files.values_list("blob", flat=True) if blob]
    count = files.update(name_sealed=b"")
    Reply.objects.filter(transfer=transfer).update(message_sealed=b"")
    transaction.on_commit(lambda: _delete_blobs(blobs))
    return count


def _delete_blobs(blobs: Sequence[str]) -> None:
    """Delete each blob, then forget its name; one that cannot be deleted keeps its name,
    so the next `expire_transfers` tries again."""
    deleted = []
    for blob in blobs:
        try:
            storage.remove(blob)
        except OSError:
            logger.exception("Could not delete a transfer's blob; expire_transfers will retry")
            continue
        deleted.append(blob)
    if deleted:
        TransferFile.objects.filter(blob__in=deleted).update(blob="")


def _sweep_ended_blobs() -> None:
    left = list(
        TransferFile.objects.filter(transfer__status__in=ENDED)
        .exclude(blob="")
        .values_list("blob", flat=True)
    )
    if left:
        _delete_blobs(left)


def _sweep_stray_blobs(now: datetime) -> None:
    """Blobs on disk that no file refers to, old enough not to belong to a send in progress."""
    stray = list(storage.blobs_older_than(now - STRAY_BLOBS_KEPT_FOR))
    for start in range(0, len(stray), 500):
        batch = stray[start : start + 500]
        known = set(TransferFile.objects.filter(blob__in=batch).values_list("blob", flat=True))
        for blob in batch:
            if blob not in known:
                storage.remove(blob)
