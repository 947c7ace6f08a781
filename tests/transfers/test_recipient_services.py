"""The recipient's side of a secure transfer: the code, the downloads, replies, the access log.

The recipient has no account: the link finds the transfer, a one-time code
opens it, and every opening, code attempt and download is in the access log
with the time, the address and the browser. Files come back intact, and a
file whose ciphertext was changed or cut short is refused.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from infoshare.transfers import crypto, services
from infoshare.transfers.models import AccessKind, Status, TransferFile
from tests.transfers.support import (
    CONTENT,
    FILE_NAME,
    MESSAGE,
    OTHER_VISIT,
    VISIT,
    MiB,
    blob_of,
    changes_of,
    events,
    flip_byte,
    fresh,
    give_code,
    open_transfer,
    outgoing,
    read,
    send,
    truncate,
    upload,
)

if TYPE_CHECKING:
    from infoshare.transfers.models import Transfer
    from tests.conftest import World

pytestmark = pytest.mark.django_db

LOCKED = [
    "Too many wrong codes: this transfer is locked. The sender has been told and can unlock it."
]


def kinds(transfer: Transfer) -> list[str]:
    return [event.kind for event in services.access_log_of(transfer)]


def refused(call, field: str) -> list[str]:
    with pytest.raises(ValidationError) as refusal:
        call()
    return refusal.value.message_dict[field]


# --- Finding the transfer and what the link shows ----------------------------------------


def test_the_link_finds_its_transfer_and_nothing_else(
    world: World, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        transfer = send(world)
    [email] = mail.outbox
    token = email.body.split("/t/")[1].split("/")[0]
    assert services.find_by_token(token) == transfer
    assert services.link_path(token) == f"/t/{token}/"
    assert transfer.link_hash not in email.body  # only the hash is stored, only the token sent
    assert services.find_by_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert services.find_by_token("") is None
    assert services.find_by_token(transfer.link_hash) is None


def test_a_transfer_past_its_expiry_reads_as_ended_before_the_command_runs(world: World):
    transfer = send(world, expires_in_days=1)
    assert services.recipient_state(transfer) == services.AVAILABLE
    later = timezone.now() + timedelta(days=1, seconds=1)
    assert services.recipient_state(transfer, later) == services.ENDED_STATE
    with time_machine.travel(later, tick=False):
        assert refused(lambda: services.send_code(transfer, VISIT), "code") == [
            "This transfer is no longer available."
        ]
        assert fresh(transfer).status == Status.SENT  # not expired yet: the command does that
        assert kinds(transfer) == [AccessKind.REFUSED]


def test_opening_the_link_is_logged_with_the_address_and_browser(world: World):
    transfer = send(world)
    long_browser = services.Visit(ip_address="198.51.100.23", user_agent="B" * 900)
    services.note_link_opened(transfer, long_browser)
    services.note_link_opened(transfer, services.Visit(ip_address="not an address", user_agent=""))
    first, second = services.access_log_of(transfer)
    assert (first.kind, first.ip_address, first.user_agent) == (
        AccessKind.LINK_OPENED,
        "198.51.100.23",
        "B" * 400,
    )
    assert first.at is not None
    assert (second.ip_address, second.user_agent) == (None, "")


def test_opening_the_link_of_an_ended_transfer_is_logged_as_refused(world: World):
    transfer = send(world)
    services.revoke_transfer(transfer, actor=world.school["staff"], reason="Wrong recipient")
    services.note_link_opened(fresh(transfer), VISIT)
    assert kinds(transfer) == [AccessKind.REFUSED]


# --- The code -------------------------------------------------------------------------------


def test_the_right_code_opens_the_transfer_once(world: World):
    transfer = send(world)
    code = give_code(transfer)
    assert len(code) == 6
    assert code.isdigit()
    stored = fresh(transfer)
    assert code not in stored.code_hash
    assert stored.code_sent_at is not None
    assert services.verify_code(transfer, f"{code[:3]} {code[3:]}", VISIT)  # typed with a space
    transfer = fresh(transfer)
    assert transfer.status == Status.OPENED
    assert transfer.opened_at is not None
    assert transfer.code_used
    assert kinds(transfer) == [AccessKind.CODE_SENT, AccessKind.CODE_RIGHT]
    [opened] = events("transfer.opened", transfer)
    assert opened.actor is None
    assert changes_of(opened) == {"status": "opened"}
    # Used once: the same code again is wrong, and a new code does not open it "again".
    assert not services.verify_code(transfer, code, VISIT)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        open_transfer(transfer)
    assert len(events("transfer.opened", transfer)) == 1


def test_a_code_typed_with_a_dash_is_accepted(world: World):
    transfer = send(world)
    code = give_code(transfer)
    assert services.verify_code(transfer, f"{code[:3]}-{code[3:]}", VISIT)


def test_an_empty_code_is_refused_without_counting(world: World):
    transfer = send(world)
    give_code(transfer)
    assert refused(lambda: services.verify_code(transfer, " ", VISIT), "code") == [
        "Enter the 6-digit code from the email"
    ]
    assert fresh(transfer).wrong_codes == 0


def test_a_code_works_for_15_minutes(world: World):
    transfer = send(world)
    sent_at = timezone.now()
    with time_machine.travel(sent_at, tick=False):
        code = give_code(transfer)
    with time_machine.travel(sent_at + timedelta(minutes=15), tick=False):
        assert not services.verify_code(transfer, code, VISIT)
    assert fresh(transfer).wrong_codes == 1
    assert fresh(transfer).status == Status.SENT
    with time_machine.travel(sent_at + timedelta(minutes=16), tick=False):
        code = give_code(transfer)
    with time_machine.travel(sent_at + timedelta(minutes=30, seconds=59), tick=False):
        assert services.verify_code(transfer, code, VISIT)
    assert fresh(transfer).wrong_codes == 0


def test_no_code_is_right_before_one_was_asked_for(world: World):
    transfer = send(world)
    assert not services.verify_code(transfer, "000000", VISIT)
    assert fresh(transfer).wrong_codes == 1


def test_a_new_code_waits_a_minute_and_replaces_the_old_one(world: World):
    transfer = send(world)
    sent_at = timezone.now()
    with time_machine.travel(sent_at, tick=False):
        first = give_code(transfer)
    with time_machine.travel(sent_at + timedelta(seconds=59), tick=False):
        assert refused(lambda: services.send_code(transfer, VISIT), "code") == [
            "Wait a minute before asking for another code."
        ]
    with time_machine.travel(sent_at + timedelta(seconds=60), tick=False):
        second = give_code(transfer)
        if first != second:
            assert not services.verify_code(transfer, first, VISIT)
        assert services.verify_code(transfer, second, VISIT)
    assert kinds(transfer).count(AccessKind.CODE_SENT) == 2


def test_five_wrong_codes_lock_the_transfer_and_tell_the_sender(
    world: World, django_capture_on_commit_callbacks
):
    transfer = send(world)
    code = give_code(transfer)
    wrong = "000000" if code != "000000" else "111111"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for attempt in range(1, 5):
            assert not services.verify_code(transfer, wrong, VISIT)
            assert fresh(transfer).wrong_codes == attempt  # counted, though only False came back
        assert callbacks == []
        assert refused(lambda: services.verify_code(transfer, wrong, OTHER_VISIT), "code") == LOCKED
    transfer = fresh(transfer)
    assert transfer.status == Status.LOCKED
    assert transfer.locked_at is not None
    assert [message.to for message in mail.outbox] == [[world.school["staff"].email]]
    assert mail.outbox[0].subject == f"{transfer.reference} is locked after five wrong codes"
    [locked] = events("transfer.locked", transfer)
    assert changes_of(locked) == {"status": "locked", "wrong_codes": 5}
    assert services.recipient_state(transfer) == services.LOCKED
    # A sixth attempt, even the right code, is refused and logged; nothing more is counted.
    assert refused(lambda: services.verify_code(transfer, code, VISIT), "code") == LOCKED
    assert refused(lambda: services.send_code(transfer, VISIT), "code") == LOCKED
    assert fresh(transfer).wrong_codes == 5
    assert kinds(transfer) == [
        AccessKind.CODE_SENT,
        *[AccessKind.CODE_WRONG] * 5,
        AccessKind.LOCKED,
        AccessKind.REFUSED,
        AccessKind.REFUSED,
    ]
    assert len(events("transfer.locked", transfer)) == 1


def test_a_right_code_clears_the_count_of_wrong_ones(world: World):
    transfer = send(world)
    code = give_code(transfer)
    for _ in range(4):
        assert not services.verify_code(transfer, "99999", VISIT)
    assert services.verify_code(transfer, code, VISIT)
    assert fresh(transfer).wrong_codes == 0


# --- Downloads ------------------------------------------------------------------------------


def test_a_file_of_several_chunks_comes_back_intact(world: World):
    content = os.urandom(3 * MiB + 12345)
    transfer = send(world, files=[upload("records.bin", content)])
    open_transfer(transfer)
    [file] = outgoing(transfer)
    ciphertext = blob_of(file).read_bytes()
    assert len(ciphertext) == crypto.encrypted_size(len(content))
    # No piece of the plaintext is in the ciphertext (checked at 48 places through it).
    for start in range(0, len(content) - 32, len(content) // 48):
        assert content[start : start + 32] not in ciphertext
    download = services.download_for_recipient(transfer, file.uuid, VISIT)
    assert (download.name, download.size) == ("records.bin", len(content))
    assert read(download) == content
    transfer = fresh(transfer)
    assert transfer.status == Status.DOWNLOADED
    assert transfer.first_downloaded_at is not None
    assert TransferFile.objects.get(pk=file.pk).downloads == 1
    [downloaded] = events("transfer.downloaded", transfer)
    assert downloaded.actor is None
    assert changes_of(downloaded) == {
        "status": "downloaded",
        "file": str(file.uuid),
        "downloads": 1,
        "max_downloads": 3,
    }
    last = services.access_log_of(transfer).last()
    assert last is not None
    assert (last.kind, last.file, last.ip_address, last.user_agent) == (
        AccessKind.FILE_DOWNLOADED,
        file,
        VISIT.ip_address,
        VISIT.user_agent,
    )


def test_the_recipient_sees_the_message_and_the_files(world: World):
    transfer = send(world, files=[upload(), upload("second.csv", b"a,b\r\n1,2\r\n")])
    open_transfer(transfer)
    assert services.message_of(transfer) == MESSAGE
    views = services.recipient_files(transfer)
    assert [(view.name, view.size, view.downloads_left) for view in views] == [
        (FILE_NAME, len(CONTENT), 3),
        ("second.csv", 10, 3),
    ]


def test_each_file_may_be_downloaded_as_often_as_the_sender_allowed(world: World):
    transfer = send(world, max_downloads=2)
    open_transfer(transfer)
    [file] = outgoing(transfer)
    for _ in range(2):
        assert read(services.download_for_recipient(transfer, file.uuid, VISIT)) == CONTENT
    assert services.recipient_files(transfer)[0].downloads_left == 0
    assert refused(lambda: services.download_for_recipient(transfer, file.uuid, VISIT), "file") == [
        "This file has been downloaded the 2 times allowed. "
        "Ask the sender to send it again if you need it."
    ]
    assert TransferFile.objects.get(pk=file.pk).downloads == 2
    assert kinds(transfer)[-1] == AccessKind.DOWNLOAD_REFUSED
    assert len(events("transfer.downloaded", transfer)) == 2


def test_nothing_is_downloaded_before_a_right_code(world: World):
    transfer = send(world)
    [file] = outgoing(transfer)
    assert refused(lambda: services.download_for_recipient(transfer, file.uuid, VISIT), "file") == [
        "Enter the code from the email first."
    ]
    assert TransferFile.objects.get(pk=file.pk).downloads == 0
    assert kinds(transfer) == [AccessKind.DOWNLOAD_REFUSED]


def test_a_file_of_another_transfer_or_a_reply_is_not_found(world: World):
    transfer = send(world)
    other = send(world)
    open_transfer(transfer)
    reply = services.receive_reply(transfer, message="", files=[upload()], visit=VISIT)
    for file_uuid in (outgoing(other)[0].uuid, reply.files.get().uuid, "not-a-file"):
        with pytest.raises(Http404):
            services.download_for_recipient(transfer, file_uuid, VISIT)


def test_a_changed_byte_in_the_ciphertext_is_refused_and_the_sender_told(
    world: World, django_capture_on_commit_callbacks
):
    transfer = send(world, files=[upload("records.bin", os.urandom(2 * MiB))])
    open_transfer(transfer)
    [file] = outgoing(transfer)
    path = blob_of(file)
    flip_byte(path, path.stat().st_size // 4)  # inside the first chunk
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.DamagedFile) as damaged,
    ):
        services.download_for_recipient(transfer, file.uuid, VISIT)
    assert damaged.value.messages == [
        "This file is damaged and cannot be opened safely. The sender has been told."
    ]
    assert TransferFile.objects.get(pk=file.pk).downloads == 0  # not counted
    assert fresh(transfer).status == Status.OPENED
    assert kinds(transfer)[-1] == AccessKind.DOWNLOAD_REFUSED
    assert changes_of(events("transfer.damaged_file", transfer)[0]) == {"file": str(file.uuid)}
    [email] = mail.outbox
    assert email.to == [world.school["staff"].email]
    assert email.subject == f"{transfer.reference}: a file could not be opened safely"


def test_a_change_past_the_first_chunk_stops_the_download_there(world: World):
    content = os.urandom(3 * MiB)
    transfer = send(world, files=[upload("records.bin", content)])
    open_transfer(transfer)
    [file] = outgoing(transfer)
    path = blob_of(file)
    flip_byte(path, path.stat().st_size - 100)  # in the last chunk
    download = services.download_for_recipient(transfer, file.uuid, VISIT)
    received: list[bytes] = []

    def take_all() -> None:
        received.extend(download.chunks)

    with pytest.raises(crypto.DecryptionError):
        take_all()
    # What came before the changed chunk was authentic, and the rest never came.
    assert len(received) == 2
    assert b"".join(received) == content[: 2 * crypto.CHUNK_BYTES]


@pytest.mark.parametrize("cut", [1, 16, crypto.CHUNK_BYTES + crypto.TAG_BYTES])
def test_a_truncated_ciphertext_is_refused_at_the_end_of_the_stream(world: World, cut: int):
    content = os.urandom(3 * MiB)
    transfer = send(world, files=[upload("records.bin", content)])
    open_transfer(transfer)
    [file] = outgoing(transfer)
    truncate(blob_of(file), cut)
    download = services.download_for_recipient(transfer, file.uuid, VISIT)
    with pytest.raises(crypto.DecryptionError):
        read(download)


def test_a_truncated_one_chunk_file_is_refused_before_any_byte(world: World):
    transfer = send(world)
    open_transfer(transfer)
    [file] = outgoing(transfer)
    truncate(blob_of(file), 1)
    with pytest.raises(services.DamagedFile):
        services.download_for_recipient(transfer, file.uuid, VISIT)


def test_a_missing_ciphertext_is_refused_as_damaged(world: World):
    transfer = send(world)
    open_transfer(transfer)
    [file] = outgoing(transfer)
    blob_of(file).unlink()
    with pytest.raises(services.DamagedFile):
        services.download_for_recipient(transfer, file.uuid, VISIT)


def test_a_download_left_unread_closes_its_file(world: World):
    transfer = send(world)
    open_transfer(transfer)
    [file] = outgoing(transfer)
    download = services.download_for_recipient(transfer, file.uuid, VISIT)
    download.chunks.close()  # type: ignore[attr-defined]  # as StreamingHttpResponse does
    assert download.chunks._handle.closed  # type: ignore[attr-defined]


# --- Replies -------------------------------------------------------------------------------


def test_the_recipient_replies_with_files_encrypted_like_the_others(
    world: World, django_capture_on_commit_callbacks
):
    transfer = send(world)
    open_transfer(transfer)
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.receive_reply(
            transfer,
            message="The signed form is attached.",
            files=[upload("signed-form.pdf", b"%PDF-1.7 made up")],
            visit=OTHER_VISIT,
        )
    [file] = reply.files.all()
    assert b"made up" not in blob_of(file).read_bytes()
    assert b"The signed form" not in bytes(reply.message_sealed)
    [view] = services.replies_of(transfer)
    assert view.message == "The signed form is attached."
    assert [(f.name, f.size, f.downloads_left) for f in view.files] == [("signed-form.pdf", 16, 0)]
    assert kinds(transfer)[-1] == AccessKind.REPLIED
    assert changes_of(events("transfer.reply_received", transfer)[0]) == {"files": 1, "bytes": 16}
    [email] = mail.outbox
    assert email.to == [world.school["staff"].email]
    # The sender and the DPO download it; the access log names who.
    for actor in (world.school["staff"], world.school["dpo"]):
        download = services.download_reply(transfer, file.uuid, actor=actor)
        assert (download.name, read(download)) == ("signed-form.pdf", b"%PDF-1.7 made up")
    log = [e for e in services.access_log_of(transfer) if e.kind == AccessKind.REPLY_DOWNLOADED]
    assert [event.actor for event in log] == [world.school["staff"], world.school["dpo"]]
    assert len(events("transfer.reply_downloaded", transfer)) == 2


def test_a_reply_needs_files_within_the_limits(world: World, settings):
    transfer = send(world)
    open_transfer(transfer)
    settings.INFOSHARE_TRANSFER_MAX_BYTES = 20
    assert refused(
        lambda: services.receive_reply(transfer, message="", files=[], visit=VISIT), "files"
    ) == ["Choose the files to send back"]
    too_big = upload("scan.pdf", b"x" * 21)
    assert refused(
        lambda: services.receive_reply(transfer, message="", files=[too_big], visit=VISIT),
        "files",
    ) == ["scan.pdf is larger than the 20 bytes a transfer takes."]
    assert refused(
        lambda: services.receive_reply(
            transfer, message="n" * 5001, files=[upload("a.csv", b"1")], visit=VISIT
        ),
        "message",
    ) == ["The note must be 5,000 characters or fewer"]
    assert services.replies_of(transfer) == []


def test_no_reply_before_a_right_code(world: World, media):
    transfer = send(world)
    assert refused(
        lambda: services.receive_reply(transfer, message="", files=[upload()], visit=VISIT),
        "files",
    ) == ["Enter the code from the email first."]
    assert services.replies_of(transfer) == []
    assert len(list((media / "transfers").rglob("*.bin"))) == 1  # the file sent, nothing more


def test_only_the_sender_and_the_dpo_download_a_reply(world: World):
    transfer = send(world)
    open_transfer(transfer)
    reply = services.receive_reply(transfer, message="", files=[upload()], visit=VISIT)
    file = reply.files.get()
    for actor in (world.school["dsl"], world.school["headteacher"], world.other["dpo"]):
        with pytest.raises(PermissionDenied):
            services.download_reply(transfer, file.uuid, actor=actor)
    with pytest.raises(Http404):
        services.download_reply(transfer, outgoing(transfer)[0].uuid, actor=world.school["staff"])
    services.revoke_transfer(transfer, actor=world.school["staff"], reason="Done")
    assert refused(
        lambda: services.download_reply(fresh(transfer), file.uuid, actor=world.school["staff"]),
        "file",
    ) == [f"{transfer.reference} has ended: its files are deleted."]


# --- The access log -----------------------------------------------------------------------


def test_every_step_is_in_the_access_log_with_time_address_and_browser(world: World):
    transfer = send(world, max_downloads=1)
    services.note_link_opened(transfer, VISIT)
    code = give_code(transfer, OTHER_VISIT)
    assert not services.verify_code(transfer, "000001" if code != "000001" else "000002", VISIT)
    assert services.verify_code(transfer, code, VISIT)
    [file] = outgoing(transfer)
    read(services.download_for_recipient(transfer, file.uuid, VISIT))
    with pytest.raises(ValidationError):
        services.download_for_recipient(transfer, file.uuid, OTHER_VISIT)
    services.receive_reply(transfer, message="", files=[upload()], visit=VISIT)
    log = list(services.access_log_of(transfer))
    assert [(event.kind, event.ip_address) for event in log] == [
        (AccessKind.LINK_OPENED, "203.0.113.7"),
        (AccessKind.CODE_SENT, "2001:db8::5"),
        (AccessKind.CODE_WRONG, "203.0.113.7"),
        (AccessKind.CODE_RIGHT, "203.0.113.7"),
        (AccessKind.FILE_DOWNLOADED, "203.0.113.7"),
        (AccessKind.DOWNLOAD_REFUSED, "2001:db8::5"),
        (AccessKind.REPLIED, "203.0.113.7"),
    ]
    assert all(event.user_agent and event.at and event.actor is None for event in log)
    assert [event.at for event in log] == sorted(event.at for event in log)
