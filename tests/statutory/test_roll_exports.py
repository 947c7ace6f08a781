"""The notifications as the local authority gets them: the CSV and the PDF letter, each
audited by reference only (regulation 13(5) and (7))."""

from __future__ import annotations

import csv
import datetime
import io

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Membership, User
from infoshare.statutory.services import roll as services
from tests.core.support import changes_of, last_event
from tests.statutory.support import joining, make_pupil, record, removal, second_council

pytestmark = pytest.mark.django_db


def url(name: str, school, *changes) -> str:
    path = reverse(f"statutory:{name}", kwargs={"org": school.slug})
    return path + "?" + "&".join(f"change={change.uuid}" for change in changes)


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    """Without whitespace: lines of the PDF break wherever a cell is full."""
    return "".join(text.split())


@pytest.fixture
def changes(world):
    school = world.school
    keeper = school["information_manager"]
    today = timezone.localdate()
    joined = record(
        school.organisation,
        keeper,
        joining(upn="", date_of_birth=datetime.date(2019, 5, 4), on=today),
    )
    leaving = make_pupil(
        school.organisation, "Ellis", "=Marsh", upn_body="123456789013", date_of_birth=None
    )
    removed = record(school.organisation, keeper, removal(leaving, on=today))
    return joined, removed


def test_the_csv_has_what_the_local_authority_needs(world, client_for, changes):
    joined, removed = changes
    school = world.school
    response = client_for(school["information_manager"]).get(
        url("roll_changes_csv", school, joined, removed)
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate()
    assert f"alder-roll-changes-{today.isoformat()}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "Reference",
        "Change",
        "First name",
        "Last name",
        "UPN",
        "Date of birth",
        "Date",
        "Ground (regulation)",
        "Ground",
        "Deadline",
    ]
    deadline = (today + datetime.timedelta(days=5)).isoformat()
    assert rows[1] == [
        joined.reference,
        "Joined",
        "Noor",
        "Ahmed",
        "",
        "2019-05-04",
        today.isoformat(),
        "",
        "",
        deadline,
    ]
    assert rows[2] == [
        removed.reference,
        "Removed",
        "Ellis",
        "'=Marsh",  # a spreadsheet must not run it as a formula
        removed.pupil.upn,
        "",
        today.isoformat(),
        "9(1)(a)",
        "The pupil has been registered at another school",
        today.isoformat(),
    ]
    event = last_event("roll_change.exported")
    assert changes_of(event) == {
        "format": "csv",
        "references": [joined.reference, removed.reference],
        "local_authority": None,
    }
    assert "Noor" not in event.changes
    assert "Marsh" not in event.changes


def test_the_letter_is_addressed_dated_and_signed_off(world, client_for, changes):
    joined, removed = changes
    school = world.school
    manager = school["information_manager"]
    User.objects.filter(pk=manager.pk).update(name="Priya Shah")
    Membership.objects.filter(user=manager, organisation=school.organisation).update(
        job_title="Data manager"
    )
    response = client_for(manager).get(
        url("roll_changes_letter", school, joined, removed)
        + f"&local_authority={world.local_authority.slug}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    flat = squeezed(text)
    for expected in (
        "Eastmoor Council",
        "Alder Primary School",
        f"{timezone.localdate():%-d %B %Y}",
        "regulation 13",
        "Pupils joining the roll",
        "Pupils to be removed from the roll",
        joined.reference,
        removed.reference,
        "Noor",
        "Ahmed",
        "4 May 2019",
        "9(1)(a) — The pupil has been registered at another school",
        "Yours faithfully",
        "Priya Shah",
        "Data manager",
    ):
        assert squeezed(expected) in flat, expected
    assert changes_of(last_event("roll_change.exported")) == {
        "format": "pdf",
        "references": [joined.reference, removed.reference],
        "local_authority": "eastmoor",
    }


def test_without_a_choice_the_letter_goes_to_the_usual_local_authority(world, client_for):
    school = world.school
    council = second_council()
    school.organisation.parent = council
    school.organisation.save()
    change = record(school.organisation, school["headteacher"])
    response = client_for(school["headteacher"]).get(url("roll_changes_letter", school, change))
    assert "Westdale Council" in pdf_text(response.content)


def test_a_withdrawn_change_is_not_exported(world, client_for, changes):
    joined, _ = changes
    school = world.school
    services.withdraw_roll_change(joined, actor=school["headteacher"], reason="Error")
    client = client_for(school["headteacher"])
    events = AuditEvent.objects.count()
    response = client.get(url("roll_changes_csv", school, joined))
    assert response.status_code == 302
    assert AuditEvent.objects.count() == events


def test_an_export_needs_a_selection(world, client_for):
    school = world.school
    response = client_for(school["headteacher"]).get(url("roll_changes_letter", school))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(verb="roll_change.exported").exists()


def test_a_notified_change_can_be_exported_again(world, client_for, changes):
    joined, _ = changes
    school = world.school
    services.notify_roll_changes(
        school.organisation,
        actor=school["headteacher"],
        changes=[joined],
        notification=services.Notification(
            local_authority=world.local_authority,
            notified_on=timezone.localdate(),
            method="letter",
        ),
    )
    response = client_for(school["headteacher"]).get(url("roll_changes_csv", school, joined))
    assert response.status_code == 200
