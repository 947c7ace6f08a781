"""`manage.py expire_transfers`: what is due expires, once, and nothing of it can be decrypted.

Run hourly from cron; running it again, or twice at once, expires nothing
more. It also deletes ciphertext an ended transfer left behind (a deletion
that failed) and blobs that no file refers to.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from infoshare.transfers import services, storage
from infoshare.transfers.models import Status, TransferFile
from infoshare.transfers.services import keys
from tests.transfers.support import (
    VISIT,
    blob_of,
    blob_paths,
    changes_of,
    events,
    fresh,
    give_code,
    open_transfer,
    outgoing,
    send,
    upload,
)

if TYPE_CHECKING:
    from tests.conftest import World

pytestmark = pytest.mark.django_db


def expire_command() -> str:
    out = StringIO()
    call_command("expire_transfers", stdout=out)
    return out.getvalue().strip()


def test_due_transfers_expire_once_and_leave_nothing_to_decrypt(world: World, media: Path):
    due = send(world, expires_in_days=1, files=[upload(), upload("second.csv")])
    open_transfer(due)
    services.receive_reply(due, message="Thanks", files=[upload()], visit=VISIT)
    later = send(world, expires_in_days=3)
    assert len(blob_paths(media)) == 4
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert expire_command() == "Expired 1 transfer."
        assert expire_command() == "Nothing to expire."
    due = fresh(due)
    assert due.status == Status.EXPIRED
    assert due.ended_at is not None
    assert due.ended_by is None
    assert due.wrapped_key is None
    assert bytes(due.message_sealed) == b""
    assert all(bytes(f.name_sealed) == b"" and f.blob == "" for f in due.files.all())
    assert all(bytes(reply.message_sealed) == b"" for reply in due.replies.all())
    assert blob_paths(media) == [blob_of(outgoing(later)[0])]
    with pytest.raises(ValidationError):
        keys.unwrap_key(due)  # nothing left to unwrap
    assert services.message_of(due) == ""
    assert services.recipient_state(due) == services.ENDED_STATE
    [event] = events("transfer.expired", due)
    assert event.actor is None
    assert changes_of(event) == {"status": "expired", "files_deleted": 3}
    assert fresh(later).status == Status.SENT


def test_an_expired_transfer_refuses_codes_and_downloads(world: World):
    transfer = send(world, expires_in_days=1)
    open_transfer(transfer)
    [file] = outgoing(transfer)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        services.expire_due_transfers()
        with pytest.raises(ValidationError) as refused:
            services.send_code(transfer, VISIT)
        assert refused.value.messages == ["This transfer is no longer available."]
        with pytest.raises(ValidationError):
            services.download_for_recipient(transfer, file.uuid, VISIT)


def test_a_locked_transfer_expires_too(world: World):
    transfer = send(world, expires_in_days=1)
    give_code(transfer)
    for _ in range(4):
        services.verify_code(transfer, "1", VISIT)
    with pytest.raises(ValidationError):
        services.verify_code(transfer, "1", VISIT)
    assert fresh(transfer).status == Status.LOCKED
    assert services.expire_due_transfers(timezone.now() + timedelta(days=1)) == 1
    assert fresh(transfer).status == Status.EXPIRED


def test_a_revoked_transfer_is_not_expired_again(world: World):
    transfer = send(world, expires_in_days=1)
    services.revoke_transfer(transfer, actor=world.school["staff"], reason="Wrong address")
    assert services.expire_due_transfers(timezone.now() + timedelta(days=2)) == 0
    assert fresh(transfer).status == Status.REVOKED
    assert events("transfer.expired") == []


def test_ciphertext_an_ended_transfer_left_behind_is_deleted(world: World, media: Path):
    """Revoking deletes the files once it commits; if that failed, the next run deletes them."""
    transfer = send(world)
    # The test's transaction never commits, so the deletion after the commit never ran.
    services.revoke_transfer(transfer, actor=world.school["staff"], reason="Wrong address")
    [file] = outgoing(transfer)
    assert file.blob
    assert blob_paths(media) == [blob_of(file)]
    assert services.expire_due_transfers() == 0
    assert blob_paths(media) == []
    assert TransferFile.objects.get(pk=file.pk).blob == ""


def test_blobs_no_file_refers_to_are_deleted_once_a_day_old(world: World, media: Path):
    transfer = send(world)
    kept = blob_of(outgoing(transfer)[0])
    _, stray = storage.new_blob(world.school.organisation)
    _, recent = storage.new_blob(world.school.organisation)
    two_days_ago = time.time() - 2 * 86400
    for path in (stray, kept):
        os.utime(path, (two_days_ago, two_days_ago))
    services.expire_due_transfers()
    assert blob_paths(media) == sorted([kept, recent])


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_expire_each_transfer_once(world: World):
    transfers = [send(world, expires_in_days=1) for _ in range(4)]
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)
    moment = timezone.now() + timedelta(days=2)

    def run() -> None:
        try:
            start.wait()
            results.append(services.expire_due_transfers(moment))
        except BaseException as error:  # noqa: BLE001 (reported below, in the test's thread)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 4
    for transfer in transfers:
        assert fresh(transfer).status == Status.EXPIRED
        assert len(events("transfer.expired", transfer)) == 1
