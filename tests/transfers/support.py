"""Building secure transfers in tests, through the services, and looking at what they left.

Other test files of `tests/transfers` may import these helpers. Every name,
address and file here is made up.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from infoshare.audit.models import AuditEvent
from infoshare.transfers import services
from infoshare.transfers.models import Transfer, TransferFile
from tests.decisions.factories import make_decision

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User
    from infoshare.decisions.models import Decision
    from tests.conftest import World

# Made up, and distinctive, so a test can look for them anywhere they must not be.
RECIPIENT_NAME = "Wilhelmina Quarrington"
RECIPIENT_EMAIL = "w.quarrington@eastmoor-welfare.example.org"
RECIPIENT_ORGANISATION = "Eastmoor Education Welfare Service"
MESSAGE = "Here are Jocasta Pennywhistle's attendance figures; call me about the autumn plan."
FILE_NAME = "jocasta-pennywhistle-attendance.csv"
CONTENT = b"pupil,sessions,attended\r\nPupil A,142,121\r\n"
VISIT = services.Visit(ip_address="203.0.113.7", user_agent="Mozilla/5.0 (TestBrowser 1.0)")
OTHER_VISIT = services.Visit(ip_address="2001:db8::5", user_agent="curl/8.5.0")
MiB = 1024 * 1024


def upload(name: str = FILE_NAME, content: bytes = CONTENT) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def answers(**changes: Any) -> services.TransferAnswers:
    """Valid answers; each test changes the one it is about."""
    base = services.TransferAnswers(
        recipient_name=RECIPIENT_NAME,
        recipient_email=RECIPIENT_EMAIL,
        recipient_organisation=RECIPIENT_ORGANISATION,
        message=MESSAGE,
        expires_in_days=7,
        max_downloads=3,
        files=[upload()],
    )
    return replace(base, **changes)


def shared_decision(organisation: Organisation, recorded_by: User, **fields: Any) -> Decision:
    return make_decision(organisation, recorded_by, **fields)


def send(
    world: World, *, sender: str = "staff", decision: Decision | None = None, **changes: Any
) -> Transfer:
    """A transfer sent by the school's `sender` (a role) under a decision they recorded."""
    actor = world.school[sender]
    organisation = world.school.organisation
    decision = decision or shared_decision(organisation, actor)
    return services.send_transfer(
        organisation, actor=actor, answers=answers(**changes), decision=decision
    )


def fresh(transfer: Transfer) -> Transfer:
    return Transfer.objects.get(pk=transfer.pk)


def give_code(transfer: Transfer, visit: services.Visit = VISIT) -> str:
    """Ask for a code as the recipient does, and read it as they would from the email."""
    return services.issue_code(transfer, visit)


def open_transfer(transfer: Transfer, visit: services.Visit = VISIT) -> None:
    """The recipient asks for a code and enters it."""
    assert services.verify_code(transfer, give_code(transfer, visit), visit)


def read(download: services.Download) -> bytes:
    return b"".join(download.chunks)


def outgoing(transfer: Transfer) -> list[TransferFile]:
    return list(TransferFile.objects.filter(transfer=transfer, reply__isnull=True))


def blob_paths(media: Path) -> list[Path]:
    """Every file under the transfers folder."""
    folder = media / "transfers"
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def blob_of(file: TransferFile) -> Path:
    return Path(settings.MEDIA_ROOT) / file.blob


def flip_byte(path: Path, position: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(position)
        byte = handle.read(1)
        handle.seek(position)
        handle.write(bytes([byte[0] ^ 0x01]))


def truncate(path: Path, by: int) -> None:
    os.truncate(path, path.stat().st_size - by)


def events(verb: str, transfer: Transfer | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(verb=verb)
    if transfer is not None:
        found = found.filter(object_id=transfer.reference)
    return list(found.order_by("sequence"))


def changes_of(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.changes)


SECRETS = (RECIPIENT_NAME, RECIPIENT_EMAIL, "Quarrington", "Jocasta", "Pennywhistle", "autumn plan")


def assert_no_secrets_in_audit() -> None:
    """No audit event names the recipient, the pupil in the message, the message or a file."""
    for event in AuditEvent.objects.all():
        text = f"{event.object_label} {event.changes}"
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (event.verb, secret)
