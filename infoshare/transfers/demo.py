"""Demo secure transfers for `seed_demo`, made through the services as a school's staff and
an outside recipient would make them: one just sent, one opened and downloaded, one revoked
by the DPO.

The files are small made-up CSV tables ("Pupil A", invented figures) and the
recipients invented people at example.org addresses, so no real person
appears. The recipient's side is played honestly: the code is issued and
emailed as for any recipient, then entered, and the file is downloaded and
decrypted in full.
"""

from __future__ import annotations

from collections import deque

from django.core.files.uploadedfile import SimpleUploadedFile

from infoshare.core.emails import members_holding
from infoshare.core.models import Organisation, Role, User
from infoshare.decisions.models import Decision, Outcome
from infoshare.transfers import services
from infoshare.transfers.models import Transfer

# An address from the range set aside for documentation (RFC 5737), and a plain browser.
DEMO_VISIT = services.Visit(
    ip_address="192.0.2.10",
    user_agent="Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
)
ATTENDANCE = (
    b"pupil,sessions_possible,sessions_attended,authorised_absence,unauthorised_absence\r\n"
    b"Pupil A,142,121,9,12\r\n"
)
SUPPORT_PLAN = (
    b"pupil,support,started,review_due\r\n"
    b"Pupil A,Attendance mentor weekly,2026-09-14,2026-12-07\r\n"
    b"Pupil A,Breakfast club place,2026-09-21,2026-12-07\r\n"
)


def seed_transfers(school: Organisation) -> None:
    """Three transfers of the school's first shared decision, unless it has transfers already."""
    if Transfer.objects.filter(organisation=school).exists():
        return
    staff = next(iter(members_holding(school, Role.STAFF)), None)
    dpo = next(iter(members_holding(school, Role.DPO)), None)
    if staff is None or dpo is None:
        return
    decision = (
        Decision.objects.for_user(staff, school)
        .current()
        .filter(outcome=Outcome.SHARED)
        .order_by("pk")
        .first()
    )
    if decision is None:
        return
    _send(school, staff, decision, "Morgan Fairweather", "Figures for this term, as agreed.")
    downloaded = _send(
        school, staff, decision, "Rowan Ellery", "The attendance figures and the support plan."
    )
    _open_and_download(downloaded)
    mistaken = _send(school, staff, decision, "Sam Okonkwo", "Figures for this term.")
    services.revoke_transfer(
        mistaken, actor=dpo, reason="Sent to the wrong person at the council; sent again."
    )


def _send(
    school: Organisation, staff: User, decision: Decision, name: str, message: str
) -> Transfer:
    address = name.lower().replace(" ", ".")
    answers = services.TransferAnswers(
        recipient_name=name,
        recipient_email=f"{address}@eastmoor-council.example.org",
        recipient_organisation="Eastmoor Council education welfare service",
        message=message,
        expires_in_days=7,
        max_downloads=3,
        files=[
            SimpleUploadedFile("attendance-autumn-term.csv", ATTENDANCE, "text/csv"),
            SimpleUploadedFile("support-plan.csv", SUPPORT_PLAN, "text/csv"),
        ],
    )
    return services.send_transfer(school, actor=staff, answers=answers, decision=decision)


def _open_and_download(transfer: Transfer) -> None:
    """What the recipient does: ask for a code, type it in, download the first file."""
    code = services.issue_code(transfer, DEMO_VISIT)
    services.verify_code(transfer, code, DEMO_VISIT)
    first = services.recipient_files(transfer)[0]
    download = services.download_for_recipient(transfer, first.file.uuid, DEMO_VISIT)
    deque(download.chunks, maxlen=0)  # read to the end (which closes the file), kept nowhere
