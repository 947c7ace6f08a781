"""Sending, revoking and unlocking secure transfers: allowed, refused, audited (issue 9).

Each service is taken by whoever may take it, refused for those who may not
(PermissionDenied), refused in the wrong state, and refused with bad answers
(errors keyed by the form's field names, each message checked). A refused
call writes nothing: no transfer, no ciphertext on disk, no decision, no
audit event, no email.
"""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.decisions.models import Decision, Method, Outcome
from infoshare.transfers import crypto, services, storage
from infoshare.transfers.models import AccessEvent, Reply, Status, Transfer, TransferFile
from infoshare.transfers.services import keys
from tests.decisions import drafts
from tests.decisions.factories import correct_decision
from tests.transfers.support import (
    CONTENT,
    FILE_NAME,
    MESSAGE,
    RECIPIENT_EMAIL,
    RECIPIENT_NAME,
    RECIPIENT_ORGANISATION,
    VISIT,
    MiB,
    answers,
    assert_no_secrets_in_audit,
    blob_of,
    blob_paths,
    changes_of,
    events,
    fresh,
    open_transfer,
    outgoing,
    read,
    send,
    shared_decision,
    upload,
)

if TYPE_CHECKING:
    from tests.conftest import World

pytestmark = pytest.mark.django_db


def snapshot(media: Path | None = None) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    media = media or Path(settings.MEDIA_ROOT)
    return {
        "transfers": Transfer.objects.count(),
        "files": TransferFile.objects.count(),
        "replies": Reply.objects.count(),
        "access": AccessEvent.objects.count(),
        "decisions": Decision.objects.count(),
        "audit": AuditEvent.objects.count(),
        "blobs": blob_paths(media),
        "emails": len(mail.outbox),
    }


@pytest.fixture
def decision(world: World) -> Decision:
    """A share recorded by the school's member of staff, who sends in these tests."""
    return shared_decision(world.school.organisation, world.school["staff"])


def refused_with(call, field: str | None = None) -> list[str]:
    """The messages `call` was refused with (under `field`, when given)."""
    with pytest.raises(ValidationError) as refused:
        call()
    if field is None:
        return refused.value.messages
    assert field in refused.value.message_dict, refused.value.message_dict
    return refused.value.message_dict[field]


# --- Sending -----------------------------------------------------------------------------


def test_staff_send_a_transfer_under_a_decision_they_recorded(
    world: World, media: Path, django_capture_on_commit_callbacks
):
    staff = world.school["staff"]
    decision = shared_decision(world.school.organisation, staff)
    at = timezone.now().replace(microsecond=0)
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        transfer = services.send_transfer(
            world.school.organisation,
            actor=staff,
            answers=answers(expires_in_days=10, max_downloads=2),
            decision=decision,
        )
    transfer = fresh(transfer)
    assert transfer.reference == f"TR-{timezone.localdate().year}-0001"
    assert transfer.status == Status.SENT
    assert transfer.decision == decision
    assert transfer.sender == staff
    assert (transfer.recipient_name, transfer.recipient_email, transfer.recipient_organisation) == (
        RECIPIENT_NAME,
        RECIPIENT_EMAIL,
        RECIPIENT_ORGANISATION,
    )
    assert transfer.expires_at == at + timedelta(days=10)
    assert transfer.max_downloads == 2
    assert transfer.wrapped_key is not None
    assert transfer.master_key_id == services.master_key().key_id
    assert len(transfer.link_hash) == 64
    [file] = outgoing(transfer)
    assert file.size == len(CONTENT)
    assert blob_paths(media) == [blob_of(file)]
    assert services.message_of(transfer) == MESSAGE
    assert [view.name for view in services.files_of(transfer)] == [FILE_NAME]
    [event] = events("transfer.sent")
    assert event.actor == staff
    assert event.object_label == transfer.reference
    assert changes_of(event) == {
        "reference": transfer.reference,
        "decision": decision.reference,
        "files": 1,
        "bytes": len(CONTENT),
        "expires": timezone.localtime(at + timedelta(days=10)).date().isoformat(),
        "max_downloads": 2,
    }
    assert [message.to for message in mail.outbox] == [[RECIPIENT_EMAIL]]


def test_sending_with_a_draft_records_the_decision_in_the_same_transaction(world: World):
    staff = world.school["staff"]
    organisation = world.school.organisation
    draft = drafts.share(staff, [drafts.pupil(organisation)], method="")
    transfer = services.send_transfer(organisation, actor=staff, answers=answers(), draft=draft)
    decision = Decision.objects.get(organisation=organisation)
    assert transfer.decision == decision
    assert decision.method == Method.SECURE_TRANSFER
    assert decision.recorded_by == staff
    assert [event.verb for event in AuditEvent.objects.order_by("sequence")][-2:] == [
        "decision.recorded",
        "transfer.sent",
    ]


def test_a_draft_keeps_the_method_it_names(world: World):
    staff = world.school["staff"]
    organisation = world.school.organisation
    draft = drafts.share(staff, [drafts.pupil(organisation)], method=Method.ENCRYPTED_EMAIL)
    transfer = services.send_transfer(organisation, actor=staff, answers=answers(), draft=draft)
    assert transfer.decision.method == Method.ENCRYPTED_EMAIL


def test_a_draft_not_to_share_is_refused_and_nothing_is_recorded(world: World, media: Path):
    staff = world.school["staff"]
    organisation = world.school.organisation
    draft = drafts.refusal(staff, [drafts.pupil(organisation)])
    before = snapshot(media)
    messages = refused_with(
        lambda: services.send_transfer(organisation, actor=staff, answers=answers(), draft=draft),
        "outcome",
    )
    assert messages == [
        "A transfer shares information: record a decision to share or to share in part"
    ]
    assert snapshot(media) == before


def test_a_draft_is_not_recorded_when_the_transfer_answers_are_wrong(world: World, media: Path):
    staff = world.school["staff"]
    organisation = world.school.organisation
    draft = drafts.share(staff, [drafts.pupil(organisation)])
    before = snapshot(media)
    refused_with(
        lambda: services.send_transfer(
            organisation, actor=staff, answers=answers(recipient_name=" "), draft=draft
        ),
        "recipient_name",
    )
    assert snapshot(media) == before


def test_a_draft_the_decision_log_refuses_records_nothing(world: World, media: Path):
    staff = world.school["staff"]
    organisation = world.school.organisation
    draft = drafts.share(staff, [drafts.pupil(organisation)], lawful_basis=None)
    before = snapshot(media)
    messages = refused_with(
        lambda: services.send_transfer(organisation, actor=staff, answers=answers(), draft=draft),
        "lawful_basis",
    )
    assert messages == ["Choose the lawful basis for sharing"]
    assert snapshot(media) == before


@pytest.mark.parametrize("role", ["auditor"])
def test_an_auditor_may_not_send(world: World, media: Path, role: str):
    auditor = world.school[role]
    decision = shared_decision(world.school.organisation, world.school["staff"])
    before = snapshot(media)
    with pytest.raises(PermissionDenied):
        services.send_transfer(
            world.school.organisation, actor=auditor, answers=answers(), decision=decision
        )
    assert snapshot(media) == before


def test_a_member_of_another_school_may_not_send_for_this_one(world: World, media: Path):
    decision = shared_decision(world.school.organisation, world.school["staff"])
    before = snapshot(media)
    with pytest.raises(PermissionDenied):
        services.send_transfer(
            world.school.organisation,
            actor=world.other["staff"],
            answers=answers(),
            decision=decision,
        )
    assert snapshot(media) == before


@pytest.mark.parametrize("role", ["staff", "volunteer", "dsl", "headteacher", "dpo"])
def test_every_member_who_records_decisions_may_send(world: World, role: str):
    transfer = send(world, sender=role)
    assert transfer.sender == world.school[role]


def _other_schools_decision(world: World) -> Decision:
    return shared_decision(world.other.organisation, world.other["staff"])


def _someone_elses_decision(world: World) -> Decision:
    # Staff see only the decisions they recorded themselves.
    return shared_decision(world.school.organisation, world.school["volunteer"])


def _not_shared(world: World) -> Decision:
    return shared_decision(
        world.school.organisation, world.school["staff"], outcome=Outcome.NOT_SHARED
    )


def _corrected(world: World) -> Decision:
    original = shared_decision(world.school.organisation, world.school["staff"])
    correct_decision(original)
    return original


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            _other_schools_decision,
            "Choose a decision of this school's decision log that you can see",
        ),
        (
            _someone_elses_decision,
            "Choose a decision of this school's decision log that you can see",
        ),
        (_not_shared, "was a decision not to share: choose a decision to share, or record one"),
        (_corrected, "has been corrected: choose its latest version"),
    ],
)
def test_a_decision_that_cannot_be_shared_from_is_refused(world: World, media: Path, make, message):
    decision = make(world)
    before = snapshot(media)
    [refusal] = refused_with(
        lambda: services.send_transfer(
            world.school.organisation,
            actor=world.school["staff"],
            answers=answers(),
            decision=decision,
        ),
        "decision",
    )
    assert message in refusal
    assert snapshot(media) == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"recipient_name": ""}, "recipient_name", "Enter the recipient's name"),
        ({"recipient_name": "  "}, "recipient_name", "Enter the recipient's name"),
        (
            {"recipient_name": "N" * 201},
            "recipient_name",
            "The recipient's name must be 200 characters or fewer",
        ),
        ({"recipient_email": ""}, "recipient_email", "Enter the recipient's email address"),
        (
            {"recipient_email": "quarrington at example.org"},
            "recipient_email",
            "Enter an email address in the correct format, like name@example.org",
        ),
        (
            {"recipient_organisation": ""},
            "recipient_organisation",
            "Enter the recipient's organisation",
        ),
        (
            {"recipient_organisation": "O" * 201},
            "recipient_organisation",
            "The recipient's organisation must be 200 characters or fewer",
        ),
        ({"message": " "}, "message", "Write a message to go with the files"),
        ({"message": "m" * 5001}, "message", "The message must be 5,000 characters or fewer"),
        ({"expires_in_days": 0}, "expires_in_days", "The link must work for between 1 and 30 days"),
        (
            {"expires_in_days": 31},
            "expires_in_days",
            "The link must work for between 1 and 30 days",
        ),
        ({"max_downloads": 0}, "max_downloads", "Allow between 1 and 10 downloads of each file"),
        ({"max_downloads": 11}, "max_downloads", "Allow between 1 and 10 downloads of each file"),
        ({"files": []}, "files", "Choose the files to send"),
        ({"files": [upload("empty.csv", b"")]}, "files", "empty.csv is empty."),
    ],
)
def test_each_bad_answer_is_refused_beside_its_field_and_nothing_is_written(
    world: World, decision: Decision, changes: dict[str, Any], field: str, message: str
):
    before = snapshot()
    assert refused_with(lambda: send(world, decision=decision, **changes), field) == [message]
    assert snapshot() == before


def test_too_many_files_are_refused(world: World, media: Path, decision: Decision, settings):
    settings.INFOSHARE_TRANSFER_MAX_FILES = 2
    before = snapshot(media)
    files = [upload(f"part-{n}.csv") for n in range(3)]
    assert refused_with(lambda: send(world, decision=decision, files=files), "files") == [
        "Send at most 2 files at a time"
    ]
    assert snapshot(media) == before


def test_a_file_over_the_configured_size_is_refused_with_the_figure(
    world: World, media: Path, decision: Decision, settings
):
    settings.INFOSHARE_TRANSFER_MAX_BYTES = MiB
    before = snapshot(media)
    files = [upload("small.csv"), upload("big.csv", b"x" * (MiB + 1))]
    assert refused_with(lambda: send(world, decision=decision, files=files), "files") == [
        "big.csv is larger than the 1 MB a transfer takes."
    ]
    assert snapshot(media) == before
    settings.INFOSHARE_TRANSFER_MAX_BYTES = MiB + 1
    assert send(world, decision=decision, files=files).files.count() == 2


def test_the_default_limit_is_named_as_people_read_it(settings):
    settings.INFOSHARE_TRANSFER_MAX_BYTES = 100 * MiB
    assert services.size_label(services.max_file_bytes()) == "100 MB"
    assert services.size_label(1536) == "1.5 KB"


def test_every_problem_is_reported_at_once(world: World, media: Path):
    not_shared = _not_shared(world)
    before = snapshot(media)
    with pytest.raises(ValidationError) as refused:
        send(
            world,
            recipient_name="",
            recipient_email="nobody",
            message="",
            expires_in_days=40,
            files=[],
            decision=not_shared,
        )
    assert set(refused.value.message_dict) == {
        "recipient_name",
        "recipient_email",
        "message",
        "expires_in_days",
        "files",
        "decision",
    }
    assert snapshot(media) == before


def test_a_send_that_fails_after_encrypting_leaves_no_ciphertext(
    world: World, media: Path, decision: Decision
):
    """The second upload says it has bytes but gives none: refused once the first is on disk."""
    liar = upload("liar.csv", b"")
    liar.size = 10
    before = snapshot(media)
    assert refused_with(
        lambda: send(world, decision=decision, files=[upload(), liar]), "files"
    ) == ["liar.csv is empty."]
    assert snapshot(media) == before


def test_only_the_file_name_is_kept_not_the_folder_the_browser_sent(world: World):
    transfer = send(world, files=[upload("C:\\Users\\office\\Desktop\\termly.csv")])
    assert [view.name for view in services.files_of(transfer)] == ["termly.csv"]


# --- What is stored ---------------------------------------------------------------------


def test_nothing_secret_is_stored_in_the_clear(world: World, media: Path):
    content = bytes(range(256)) * 256  # 64 KiB, every 32-byte window distinct enough to find
    transfer = fresh(send(world, files=[upload(FILE_NAME, content)]))
    [file] = outgoing(transfer)
    ciphertext = blob_of(file).read_bytes()
    assert len(ciphertext) == crypto.encrypted_size(len(content))
    windows = {ciphertext[i : i + 32] for i in range(len(ciphertext) - 31)}
    assert not any(content[i : i + 32] in windows for i in range(len(content) - 31))
    stored = b"".join(
        bytes(value or b"")
        for value in (transfer.wrapped_key, transfer.message_sealed, file.name_sealed)
    )
    for secret in (MESSAGE.encode(), FILE_NAME.encode(), b"Pennywhistle"):
        assert secret not in stored
    assert b"Pennywhistle" not in file.blob.encode()


def test_blobs_are_private_and_named_at_random(world: World, media: Path):
    transfer = send(world, files=[upload(), upload("second.csv")])
    paths = [blob_of(file) for file in outgoing(transfer)]
    assert len(set(paths)) == 2
    for path in paths:
        assert path.parent == media / "transfers" / str(world.school.organisation.pk)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert len(path.stem) == 32
        assert path.suffix == ".bin"


def test_a_blob_name_may_not_leave_the_transfers_folder(media: Path):
    with pytest.raises(ValueError, match="inside the transfers folder"):
        storage.absolute("transfers/../anonymise/1/secret.csv")
    with pytest.raises(ValueError, match="inside the transfers folder"):
        storage.open_blob("/etc/passwd")


def test_a_changed_master_key_is_named_as_the_reason(world: World, settings):
    transfer = send(world)
    open_transfer(transfer)
    settings.INFOSHARE_MASTER_KEY = "b3RoZXItbWFzdGVyLWtleS0zMi1ieXRlcy0tLS0tLS0="
    [file] = outgoing(transfer)
    [message] = refused_with(
        lambda: services.download_for_recipient(transfer, file.uuid, VISIT), "file"
    )
    assert message.startswith("This transfer was encrypted under a different master key")
    assert services.message_of(transfer) == ""


# --- Revoking ----------------------------------------------------------------------------


@pytest.mark.parametrize("revoker", ["sender", "dpo", "trust_dpo"])
def test_the_sender_or_the_dpo_revokes_and_nothing_is_left_to_decrypt(
    world: World, media: Path, revoker: str, django_capture_on_commit_callbacks
):
    transfer = send(world)
    open_transfer(transfer)
    services.receive_reply(transfer, message="Received, thanks", files=[upload()], visit=VISIT)
    key_before = keys.unwrap_key(fresh(transfer))
    actor = {
        "sender": world.school["staff"],
        "dpo": world.school["dpo"],
        "trust_dpo": world.trust_dpo,
    }[revoker]
    with django_capture_on_commit_callbacks(execute=True):
        returned = services.revoke_transfer(transfer, actor=actor, reason="Sent to the wrong team")
    assert returned.status == Status.REVOKED
    transfer = fresh(transfer)
    assert transfer.status == Status.REVOKED
    assert (transfer.ended_by, transfer.end_reason) == (actor, "Sent to the wrong team")
    assert transfer.ended_at is not None
    assert transfer.wrapped_key is None
    assert bytes(transfer.message_sealed) == b""
    assert transfer.code_hash == ""
    assert all(bytes(file.name_sealed) == b"" and file.blob == "" for file in transfer.files.all())
    assert all(bytes(reply.message_sealed) == b"" for reply in transfer.replies.all())
    assert blob_paths(media) == []
    # The master key has nothing left to unwrap; and the old key (it was in memory) would
    # find nothing to decrypt: the sealed values are empty and the ciphertext is gone.
    with pytest.raises(ValidationError):
        keys.unwrap_key(transfer)
    assert len(key_before) == crypto.KEY_BYTES
    assert services.message_of(transfer) == ""
    assert [view.name for view in services.files_of(transfer)] == [""]
    assert services.recipient_files(transfer) == []
    assert services.recipient_state(transfer) == services.ENDED_STATE
    [event] = events("transfer.revoked", transfer)
    assert event.actor == actor
    assert changes_of(event) == {"status": "revoked", "files_deleted": 2}


def test_after_revocation_codes_and_downloads_are_refused(
    world: World, django_capture_on_commit_callbacks
):
    transfer = send(world)
    open_transfer(transfer)
    [file] = outgoing(transfer)
    with django_capture_on_commit_callbacks(execute=True):
        services.revoke_transfer(transfer, actor=world.school["staff"], reason="No longer needed")
    unavailable = ["This transfer is no longer available."]
    assert refused_with(lambda: services.send_code(transfer, VISIT), "code") == unavailable
    assert refused_with(lambda: services.verify_code(transfer, "123456", VISIT), "code") == (
        unavailable
    )
    assert (
        refused_with(lambda: services.download_for_recipient(transfer, file.uuid, VISIT), "file")
        == unavailable
    )
    assert (
        refused_with(
            lambda: services.receive_reply(transfer, message="", files=[upload()], visit=VISIT),
            "files",
        )
        == unavailable
    )


@pytest.mark.parametrize("role", ["dsl", "headteacher", "auditor", "volunteer"])
def test_nobody_else_in_the_school_revokes(world: World, media: Path, role: str):
    transfer = send(world)
    before = snapshot(media)
    with pytest.raises(PermissionDenied):
        services.revoke_transfer(transfer, actor=world.school[role], reason="Because")
    assert snapshot(media) == before
    assert fresh(transfer).status == Status.SENT


def test_another_schools_dpo_may_not_revoke(world: World, media: Path):
    transfer = send(world)
    before = snapshot(media)
    with pytest.raises(PermissionDenied):
        services.revoke_transfer(transfer, actor=world.other["dpo"], reason="Because")
    assert snapshot(media) == before


def test_revoking_needs_a_reason(world: World, media: Path):
    transfer = send(world)
    before = snapshot(media)
    assert refused_with(
        lambda: services.revoke_transfer(transfer, actor=world.school["staff"], reason="  "),
        "reason",
    ) == ["Enter why you are revoking the transfer"]
    assert snapshot(media) == before


def test_an_ended_transfer_cannot_be_revoked_again(world: World, media: Path):
    transfer = send(world)
    services.revoke_transfer(transfer, actor=world.school["staff"], reason="Wrong recipient")
    before = snapshot(media)
    [message] = refused_with(
        lambda: services.revoke_transfer(transfer, actor=world.school["dpo"], reason="Again")
    )
    assert message == f"{transfer.reference} has already ended: it is \u201crevoked\u201d."
    assert snapshot(media) == before


# --- Unlocking ---------------------------------------------------------------------------


def lock(transfer: Transfer) -> None:
    for _ in range(4):
        assert not services.verify_code(transfer, "000000", VISIT)
    with pytest.raises(ValidationError):
        services.verify_code(transfer, "000000", VISIT)
    assert fresh(transfer).status == Status.LOCKED


@pytest.mark.parametrize("who", ["staff", "dpo"])
def test_the_sender_or_the_dpo_unlocks_and_the_recipient_starts_afresh(world: World, who: str):
    transfer = send(world)
    services.send_code(transfer, VISIT)
    lock(transfer)
    services.unlock_transfer(transfer, actor=world.school[who])
    transfer = fresh(transfer)
    assert transfer.status == Status.SENT
    assert transfer.wrong_codes == 0
    assert transfer.code_hash == ""
    assert services.recipient_state(transfer) == services.AVAILABLE
    open_transfer(transfer)  # a new code at once, and it works
    [event] = events("transfer.unlocked", transfer)
    assert event.actor == world.school[who]
    assert changes_of(event) == {"status": "sent"}


def test_unlocking_returns_a_transfer_to_where_it_was(world: World):
    transfer = send(world)
    open_transfer(transfer)
    [file] = outgoing(transfer)
    read(services.download_for_recipient(transfer, file.uuid, VISIT))
    lock(transfer)
    assert services.unlock_transfer(transfer, actor=world.school["staff"]).status == (
        Status.DOWNLOADED
    )


def test_only_a_locked_transfer_is_unlocked(world: World, media: Path):
    transfer = send(world)
    before = snapshot(media)
    [message] = refused_with(
        lambda: services.unlock_transfer(transfer, actor=world.school["staff"])
    )
    assert message == f"{transfer.reference} is not locked: it is \u201csent\u201d."
    assert snapshot(media) == before


@pytest.mark.parametrize("who", ["school_dsl", "other_dpo"])
def test_nobody_else_unlocks(world: World, media: Path, who: str):
    transfer = send(world)
    lock(transfer)
    before = snapshot(media)
    actor = world.school["dsl"] if who == "school_dsl" else world.other["dpo"]
    with pytest.raises(PermissionDenied):
        services.unlock_transfer(transfer, actor=actor)
    assert snapshot(media) == before


# --- Who manages, and what the audit trail says ----------------------------------------


def test_who_may_manage_a_transfer(world: World):
    transfer = send(world)
    allowed = {
        role for role in world.school.people if services.may_manage(transfer, world.school[role])
    }
    assert allowed == {"staff", "dpo"}
    assert services.may_manage(transfer, world.trust_dpo)
    assert not services.may_manage(transfer, world.other["dpo"])
    assert not services.may_manage(transfer, world.other["staff"])


def test_a_sender_who_has_left_the_school_no_longer_manages(world: World):
    transfer = send(world)
    sender = world.school["staff"]
    sender.memberships.update(ended_at=timezone.now())
    sender = type(sender).objects.get(pk=sender.pk)  # roles are cached per object
    assert not services.may_manage(transfer, sender)


def test_viewing_and_exporting_are_audited(world: World):
    transfer = send(world)
    dpo = world.school["dpo"]
    services.note_view(transfer, actor=dpo)
    services.note_export(world.school.organisation, actor=dpo, count=4)
    [viewed] = events("transfer.viewed", transfer)
    assert (viewed.actor, viewed.object_label) == (dpo, transfer.reference)
    [exported] = events("transfer.exported")
    assert changes_of(exported) == {"count": 4}
    assert exported.organisation == world.school.organisation


def test_no_audit_event_of_a_whole_life_names_anyone_or_says_what_was_sent(
    world: World, django_capture_on_commit_callbacks
):
    organisation = world.school.organisation
    staff = world.school["staff"]
    draft = drafts.share(staff, [drafts.pupil(organisation, "Jocasta", "Pennywhistle")])
    with django_capture_on_commit_callbacks(execute=True):
        transfer = services.send_transfer(organisation, actor=staff, answers=answers(), draft=draft)
        services.note_link_opened(transfer, VISIT)
        lock(transfer)
        services.unlock_transfer(transfer, actor=staff)
        open_transfer(transfer)
        [file] = outgoing(transfer)
        read(services.download_for_recipient(transfer, file.uuid, VISIT))
        reply = services.receive_reply(
            transfer, message="For Jocasta Pennywhistle", files=[upload()], visit=VISIT
        )
        read(services.download_reply(transfer, reply.files.get().uuid, actor=staff))
        services.note_view(transfer, actor=staff)
        services.revoke_transfer(transfer, actor=staff, reason="Quarrington has it already")
    verbs = [
        event.verb
        for event in AuditEvent.objects.filter(verb__startswith="transfer.").order_by("sequence")
    ]
    assert verbs == [
        "transfer.sent",
        "transfer.locked",
        "transfer.unlocked",
        "transfer.opened",
        "transfer.downloaded",
        "transfer.reply_received",
        "transfer.reply_downloaded",
        "transfer.viewed",
        "transfer.revoked",
    ]
    assert_no_secrets_in_audit()
