"""The list of secure transfers: whose it shows, its filters, search and sort, 25 a page,
the CSV export (audited, without the message or the files' names), and a fixed number
of queries whatever the rows.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from infoshare.transfers import services
from infoshare.transfers.models import Transfer, TransferFile
from tests.decisions.factories import make_decision
from tests.transfers.support import (
    FILE_NAME,
    MESSAGE,
    RECIPIENT_NAME,
    changes_of,
    events,
    open_transfer,
    send,
)

pytestmark = pytest.mark.django_db


def list_url(school: Any, **query: str) -> str:
    address = reverse("transfers:list", kwargs={"org": school.slug})
    if not query:
        return address
    return address + "?" + "&".join(f"{name}={value}" for name, value in query.items())


def references(page: str) -> list[str]:
    """The references in the table, in its order."""
    table = page[page.index('id="transfers"') :]
    found = []
    for part in table.split('class="govuk-link" href="')[1:]:
        text = part.split(">", 1)[1].split("<", 1)[0]
        if text.startswith("TR-"):
            found.append(text)
    return found


def many(world: Any, count: int, *, sender: str = "staff", start: int = 0) -> list[Transfer]:
    """`count` transfers made straight in the database (the list reads only their rows)."""
    actor = world.school[sender]
    decision = make_decision(world.school.organisation, actor)
    now = timezone.now()
    made = []
    for number in range(start, start + count):
        transfer = Transfer.objects.create(
            organisation=world.school.organisation,
            reference=f"TR-1999-{number + 1:04d}",
            decision=decision,
            sender=actor,
            recipient_name=f"Recipient {number}",
            recipient_email=f"recipient{number}@example.org",
            recipient_organisation="Eastmoor Council",
            created_at=now - timedelta(minutes=number),
            expires_at=now + timedelta(days=7),
            link_hash=secrets.token_hex(32),
            master_key_id="0" * 16,
        )
        TransferFile.objects.create(transfer=transfer, size=10)
        made.append(transfer)
    return made


def test_staff_see_their_own_and_the_dpo_sees_everyones(world, client_for):
    mine = send(world)
    theirs = send(world, sender="dsl", recipient_name="Other Recipient")
    staff_page = client_for(world.school["staff"]).get(list_url(world.school)).content.decode()
    assert references(staff_page) == [mine.reference]
    dpo_page = client_for(world.school["dpo"]).get(list_url(world.school)).content.decode()
    assert set(references(dpo_page)) == {mine.reference, theirs.reference}
    assert "by " + str(world.school["dsl"]) in dpo_page
    assert "As the DPO you see every transfer" in dpo_page
    other_page = client_for(world.other["dpo"]).get(list_url(world.other)).content.decode()
    assert 'id="transfers"' not in other_page


def test_a_row_says_who_what_when_and_how_it_stands(world, client_for):
    transfer = send(world)
    page = client_for(world.school["staff"]).get(list_url(world.school)).content.decode()
    row = page[page.index('id="transfers"') :]
    assert RECIPIENT_NAME in row
    assert "Eastmoor Education Welfare Service" in row
    assert transfer.decision.reference in row
    assert f"{timezone.localdate(transfer.created_at):%-d %B %Y}" in row
    assert f"{timezone.localdate(transfer.expires_at):%-d %B %Y}" in row
    assert "govuk-tag--blue" in row
    assert ">Sent</strong>" in row
    assert MESSAGE not in page
    assert FILE_NAME not in page
    assert 'href="' + reverse("transfers:start", kwargs={"org": world.school.slug}) in page


def test_the_empty_list_says_what_a_transfer_is_for(world, client_for):
    page = client_for(world.school["staff"]).get(list_url(world.school)).content.decode()
    assert "No transfers yet" in page
    assert "send personal information to someone outside the school" in page
    assert "Send files securely" in page


def test_the_status_filter_matches_the_status_shown(world, client_for):
    sent = send(world, recipient_name="Recipient Sent")
    opened = send(world, recipient_name="Recipient Opened")
    open_transfer(opened)
    revoked = send(world, recipient_name="Recipient Revoked")
    services.revoke_transfer(revoked, actor=world.school["staff"], reason="Wrong address")
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        due = send(world, recipient_name="Recipient Due", expires_in_days=1)
    client = client_for(world.school["staff"])
    # Past its expiry, before expire_transfers runs: shown (and filtered) as expired.
    page = client.get(list_url(world.school, status="expired")).content.decode()
    assert references(page) == [due.reference]
    assert ">Expired</strong>" in page
    assert references(client.get(list_url(world.school, status="revoked")).content.decode()) == [
        revoked.reference
    ]
    assert references(client.get(list_url(world.school, status="opened")).content.decode()) == [
        opened.reference
    ]
    page = client.get(list_url(world.school, status="sent")).content.decode()
    assert references(page) == [sent.reference]
    assert "matching the filters" in page
    page = client.get(list_url(world.school, status="nonsense")).content.decode()
    assert "Choose a status from the list" in page
    assert len(references(page)) == 4  # an invalid filter narrows nothing


def test_the_search_finds_reference_recipient_email_and_organisation(world, client_for):
    first = send(
        world, recipient_name="Harriet Brackenbury", recipient_email="hb@clinic.example.org"
    )
    second = send(world, recipient_organisation="Westfold Youth Service")
    client = client_for(world.school["staff"])
    for words, expected in (
        ("brackenbury", [first]),
        ("clinic.example", [first]),
        ("westfold youth", [second]),
        (second.reference, [second]),
        ("nobody-like-this", []),
    ):
        page = client.get(list_url(world.school, q=words)).content.decode()
        if expected:
            assert references(page) == [t.reference for t in expected], words
        else:
            assert "No transfers match these filters" in page


def test_the_list_sorts_by_sent_and_by_expiry(world, client_for):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=3)):
        oldest = send(world, expires_in_days=20)
    with time_machine.travel(now - timedelta(days=2)):
        middle = send(world, expires_in_days=2)
    newest = send(world, expires_in_days=10)
    client = client_for(world.school["staff"])
    order = {
        "": [newest, middle, oldest],
        "sent": [oldest, middle, newest],
        "expires": [middle, newest, oldest],
        "-expires": [oldest, newest, middle],
    }
    for sort, expected in order.items():
        query = {"sort": sort} if sort else {}
        page = client.get(list_url(world.school, **query)).content.decode()
        assert references(page) == [t.reference for t in expected], sort


def test_25_a_page(world, client_for):
    many(world, 30)
    client = client_for(world.school["staff"])
    first = client.get(list_url(world.school)).content.decode()
    assert len(references(first)) == 25
    assert "Showing 1 to 25 of 30 transfers" in first
    second = client.get(list_url(world.school, page="2", sort="sent")).content.decode()
    assert len(references(second)) == 5
    # The export takes every row the filters match, not the page.
    assert 'href="?sort=sent&amp;format=csv"' in second


def test_the_csv_export_is_audited_and_holds_no_message_or_file_names(world, client_for):
    transfer = send(world)
    send(world, recipient_organisation="Westfold Youth Service")
    client = client_for(world.school["staff"])
    response = client.get(list_url(world.school, q="education", format="csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{world.school.slug}-')
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["Reference"] for row in rows] == [transfer.reference]
    row = rows[0]
    assert row["Recipient"] == RECIPIENT_NAME
    assert row["Decision"] == transfer.decision.reference
    assert row["Status"] == "Sent"
    assert row["Files"] == "1"
    assert MESSAGE not in text
    assert FILE_NAME not in text
    exported = events("transfer.exported")
    assert len(exported) == 1
    assert exported[0].actor == world.school["staff"]
    assert changes_of(exported[0]) == {"count": 1}
    assert "education" not in exported[0].changes.lower()


def test_an_auditor_cannot_export(world, client_for):
    send(world)
    response = client_for(world.school["auditor"]).get(list_url(world.school, format="csv"))
    assert response.status_code == 403
    assert events("transfer.exported") == []


# The session, the person, the membership and its roles, the second factor's check (a
# privileged role), the count, the page, and the header's count of memberships; and the
# session's save. The same for 1 row as for 60.
LIST_QUERIES = 12


@pytest.mark.parametrize("sender", ["staff", "dpo"])
def test_the_list_takes_as_many_queries_for_1_row_as_for_60(
    world, client_for, django_assert_max_num_queries, sender
):
    many(world, 1, sender=sender)
    client = client_for(world.school[sender])
    with django_assert_max_num_queries(LIST_QUERIES):
        page = client.get(list_url(world.school))
    assert len(references(page.content.decode())) == 1
    many(world, 59, sender=sender, start=1)
    with django_assert_max_num_queries(LIST_QUERIES):
        page = client.get(list_url(world.school))
    assert len(references(page.content.decode())) == 25
    with django_assert_max_num_queries(LIST_QUERIES):
        page = client.get(list_url(world.school, status="sent", sort="expires", q="recipient"))
    assert len(references(page.content.decode())) == 25
