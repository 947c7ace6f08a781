"""The safeguarding pages as people use them: sharing, signing, lists, requests to share further.

Who may open which page (every role against every address) and the PDF's
text are tested elsewhere; these tests follow each form through the page,
its refusals included, and check what the pages tell the audit trail.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import (
    DataCategory,
    Membership,
    Organisation,
    OrganisationKind,
    Purpose,
    SpecialCategoryCondition,
)
from infoshare.decisions.models import Decision
from infoshare.safeguarding import services
from infoshare.safeguarding.models import (
    DSL_DECLARATION,
    RECIPIENT_DECLARATION,
    FileKind,
    Part,
    ReshareKind,
    ReshareRequest,
    ReshareStatus,
    Share,
    Signature,
    Status,
)
from tests.core.support import changes_of, last_event
from tests.decisions.drafts import form_data, safeguarding_share
from tests.decisions.drafts import pupil as pupil_with_upn
from tests.safeguarding.support import (
    DESCRIPTION,
    ask_to_share_outside,
    ask_to_share_with,
    make_pupil,
    make_share,
    proof_for,
    signing_for,
)

pytestmark = pytest.mark.django_db


def url(name: str, school: Any, **kwargs: Any) -> str:
    return reverse(f"safeguarding:{name}", kwargs={"org": school.slug, **kwargs})


def record_url(name: str, share: Share, **kwargs: Any) -> str:
    return reverse(
        f"safeguarding:{name}",
        kwargs={"org": share.organisation.slug, "reference": share.reference, **kwargs},
    )


def request_url(name: str, asked: ReshareRequest) -> str:
    return record_url(name, asked.share, request_uuid=asked.uuid)


def error_beside(html: str, field: str) -> str:
    """The error message shown beside `field` (GOV.UK: <p id="id_<field>_error">)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def page_of(response: Any) -> str:
    """The page as its reader sees the words (character references resolved)."""
    return unescape(response.content.decode())


def flashed(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def counts() -> dict[str, int]:
    """What a refused form must leave as it was."""
    return {
        "shares": Share.objects.count(),
        "signatures": Signature.objects.count(),
        "requests": ReshareRequest.objects.count(),
        "decisions": Decision.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def sharing_form(pupil: Any, recipient: Any, signer: Any, /, **overrides: Any) -> dict[str, Any]:
    data = {
        "pupil": str(pupil.uuid),
        "file_kind": FileKind.CHILD_PROTECTION,
        "file_reference": "CP-0193",
        "description": DESCRIPTION,
        "recipient": str(recipient.uuid),
        "signed_name": signer.name,
        "confirmed": "on",
        "secret": proof_for(signer),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def signing_form(signer: Any, **overrides: Any) -> dict[str, Any]:
    data = {"signed_name": signer.name, "confirmed": "on", "secret": proof_for(signer)}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


WRONG_CODE = "000000"


# --- Sharing ---------------------------------------------------------------------------------


def test_a_dsl_shares_information_through_the_page(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    pupil = make_pupil(world.school.organisation, "Ellis", "Marsh")
    client = client_for(dsl)
    response = client.post(url("new", world.school), sharing_form(pupil, teacher, dsl))
    share = Share.objects.get()
    assert response.status_code == 302
    assert response["Location"] == share.get_absolute_url()
    assert flashed(response) == [
        f"{share.reference} shared with {teacher.name}. They have been asked to acknowledge it."
    ]
    assert (share.pupil, share.recipient, share.shared_by) == (pupil, teacher, dsl)
    assert share.status == Status.AWAITING_ACKNOWLEDGEMENT
    signature = share.signature_of(Part.DSL)
    assert signature is not None
    assert signature.is_intact
    assert signature.confirmed_with == "authenticator"
    assert last_event("safeguarding.shared").actor == dsl


def test_the_sharing_page_shows_the_dsl_declaration_and_asks_for_the_code(world, client_for):
    dsl = world.school["dsl"]
    html = page_of(client_for(dsl).get(url("new", world.school)))
    assert DSL_DECLARATION in html
    assert "Code from your authenticator app" in html
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    assert f'value="{dsl.name}"' in html  # the name is filled in, to be confirmed


def test_the_sharing_page_offers_the_schools_pupils_and_staff_only(world, client_for):
    dsl = world.school["dsl"]
    ours = pupil_with_upn(world.school.organisation, "Ola", "Ours")
    theirs = pupil_with_upn(world.other.organisation, "Tom", "Theirs")
    html = page_of(client_for(dsl).get(url("new", world.school)))
    assert f"Ours, Ola, UPN {ours.upn}" in html
    assert str(theirs.uuid) not in html
    recipients = re.search(r'<select name="recipient".*?</select>', html, re.S)
    assert recipients
    offered = recipients.group(0)
    assert str(world.school["staff"].uuid) in offered
    assert "Staff of Alder Primary School (Staff)" in offered
    assert str(world.school["deputy_dsl"].uuid) in offered
    for not_offered in ("dsl", "dpo", "auditor"):  # oneself, and those who only oversee
        assert str(world.school[not_offered].uuid) not in offered
    assert str(world.other["staff"].uuid) not in offered


def test_a_pupil_named_in_the_address_is_chosen_already(world, client_for):
    pupil = make_pupil(world.school.organisation)
    html = (
        client_for(world.school["dsl"])
        .get(url("new", world.school), {"pupil": str(pupil.uuid)})
        .content.decode()
    )
    assert f'<option value="{pupil.uuid}" selected>' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pupil": ""}, "pupil", "Choose the pupil the information is about"),
        ({"pupil": "not-a-pupil"}, "pupil", "Choose a pupil of this school from the list"),
        ({"file_kind": None}, "file_kind", "Choose which of the child's files"),
        ({"file_reference": "  "}, "file_reference", "Enter the reference of the child's file"),
        ({"description": ""}, "description", "Describe briefly the information being shared"),
        ({"recipient": ""}, "recipient", "Choose the member of staff you are sharing with"),
        ({"signed_name": ""}, "signed_name", "Type your name to sign"),
        ({"confirmed": None}, "confirmed", "Confirm the declaration to sign it"),
        ({"secret": ""}, "secret", "Enter the code from your authenticator app"),
        ({"secret": WRONG_CODE}, "secret", "That code is wrong or has been used already"),
    ],
)
def test_bad_answers_show_beside_their_field_and_nothing_is_shared(
    world, client_for, overrides, field, message
):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    pupil = make_pupil(world.school.organisation)
    data = sharing_form(pupil, teacher, dsl, **{"description": "Kept as typed", **overrides})
    client = client_for(dsl)  # signing in is an audit event of its own
    before = counts()
    response = client.post(url("new", world.school), data)
    html = page_of(response)
    assert response.status_code == 200
    assert message in error_beside(html, field)
    assert "There is a problem" in html
    assert counts() == before
    # What was typed comes back; the code or password does not.
    if field != "description":
        assert "Kept as typed" in html
    if field != "pupil":
        assert f'<option value="{pupil.uuid}" selected>' in html
    assert 'name="secret" value' not in html


def test_every_missing_answer_shows_at_once(world, client_for):
    dsl = world.school["dsl"]
    response = client_for(dsl).post(url("new", world.school), {})
    html = page_of(response)
    for field in ("pupil", "file_kind", "file_reference", "description", "recipient"):
        assert error_beside(html, field)
    for field in ("confirmed", "secret"):
        assert error_beside(html, field)
    assert Share.objects.count() == 0


def test_a_code_signs_once_only(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    pupil = make_pupil(world.school.organisation)
    client = client_for(dsl)
    data = sharing_form(pupil, teacher, dsl)
    assert client.post(url("new", world.school), data).status_code == 302
    again = client.post(url("new", world.school), data)
    assert "has been used already" in error_beside(page_of(again), "secret")
    assert Share.objects.count() == 1


# --- Reading a record ------------------------------------------------------------------------


def test_opening_a_record_is_an_audit_event_and_shows_it(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    share = make_share(dsl, teacher)
    before = AuditEvent.objects.filter(verb="safeguarding.viewed").count()
    response = client_for(teacher).get(share.get_absolute_url())
    html = page_of(response)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(verb="safeguarding.viewed").count() == before + 1
    event = last_event("safeguarding.viewed")
    assert (event.actor, event.object_id) == (teacher, share.reference)
    assert DESCRIPTION in html
    assert "Ellis Marsh" in html
    assert DSL_DECLARATION in html
    assert RECIPIENT_DECLARATION in html
    assert "The signature matches the record" in html
    assert "confirmed with their authenticator code" in html
    assert "Awaiting acknowledgement" in html
    # The recipient acknowledges; they do not see who has read it, nor withdraw it.
    assert record_url("acknowledge", share) in html
    assert "Who has read this record" not in html
    assert record_url("withdraw", share) not in html


def test_the_dsl_sees_who_has_read_a_record(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    share = make_share(dsl, teacher)
    client_for(teacher).get(share.get_absolute_url())
    html = page_of(client_for(world.school["deputy_dsl"]).get(share.get_absolute_url()))
    readers = html[html.index('id="readers"') :]
    assert teacher.name in readers
    assert world.school["deputy_dsl"].name in readers
    assert services.READ_VERBS["safeguarding.viewed"] in readers
    assert record_url("withdraw", share) in html
    assert record_url("acknowledge", share) not in html


def test_a_withdrawn_record_no_longer_shows_its_description_to_the_recipient(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    share = make_share(dsl, teacher, acknowledged=True)
    services.withdraw_share(share, actor=dsl, reason="Shared with the wrong member of staff")
    html = page_of(client_for(teacher).get(share.get_absolute_url()))
    assert "Withdrawn: no longer available to you" in html
    assert DESCRIPTION not in html
    assert "Shared with the wrong member of staff" not in html  # the reason is the DSLs'
    assert record_url("request_reshare", share) not in html
    lead_html = page_of(client_for(dsl).get(share.get_absolute_url()))
    assert DESCRIPTION in lead_html
    assert "Shared with the wrong member of staff" in lead_html


def test_a_record_that_cannot_be_seen_is_not_found(world, client_for):
    share = make_share(world.school["dsl"], world.school["staff"])
    for person in (world.school["headteacher"], world.school["volunteer"], world.other["dsl"]):
        assert client_for(person).get(share.get_absolute_url()).status_code == 404


# --- Acknowledging ---------------------------------------------------------------------------


def test_the_recipient_acknowledges_with_their_password(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    share = make_share(dsl, teacher)
    client = client_for(teacher)
    page = page_of(client.get(record_url("acknowledge", share)))
    assert RECIPIENT_DECLARATION in page
    assert DESCRIPTION in page
    assert "Your password" in page
    assert 'type="password"' in page
    assert 'autocomplete="current-password"' in page
    response = client.post(record_url("acknowledge", share), signing_form(teacher))
    share.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == share.get_absolute_url()
    assert share.status == Status.ACKNOWLEDGED
    signature = share.signature_of(Part.RECIPIENT)
    assert signature is not None
    assert (signature.signer, signature.confirmed_with) == (teacher, "password")
    assert flashed(response)[0].startswith(f"You have acknowledged {share.reference}.")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"secret": "not my password"}, "secret", "That password is wrong"),
        ({"confirmed": None}, "confirmed", "Confirm the declaration to sign it"),
        ({"signed_name": " "}, "signed_name", "Type your name to sign"),
    ],
)
def test_a_failed_acknowledgement_changes_nothing(world, client_for, overrides, field, message):
    share = make_share(world.school["dsl"], world.school["staff"])
    client = client_for(world.school["staff"])  # signing in is an audit event of its own
    before = counts()
    response = client.post(
        record_url("acknowledge", share), signing_form(world.school["staff"], **overrides)
    )
    assert response.status_code == 200
    assert message in error_beside(page_of(response), field)
    share.refresh_from_db()
    assert share.status == Status.AWAITING_ACKNOWLEDGEMENT
    assert counts() == before


def test_acknowledging_twice_goes_back_to_the_record_with_a_message(world, client_for):
    teacher = world.school["staff"]
    share = make_share(world.school["dsl"], teacher, acknowledged=True)
    response = client_for(teacher).post(record_url("acknowledge", share), signing_form(teacher))
    assert response.status_code == 302
    assert response["Location"] == share.get_absolute_url()
    assert flashed(response) == [services.out_of_order_message(share)]


def test_only_the_recipient_acknowledges(world, client_for):
    share = make_share(world.school["dsl"], world.school["staff"])
    response = client_for(world.school["deputy_dsl"]).get(record_url("acknowledge", share))
    assert response.status_code == 403


# --- Withdrawing, filing the form ------------------------------------------------------------


def test_a_dsl_withdraws_a_record_with_a_reason(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    share = make_share(dsl, teacher)
    response = client_for(dsl).post(record_url("withdraw", share), {"reason": "Wrong pupil"})
    share.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == share.get_absolute_url()
    assert (share.status, share.withdrawal_reason, share.withdrawn_by) == (
        Status.WITHDRAWN,
        "Wrong pupil",
        dsl,
    )
    assert flashed(response) == [f"{share.reference} is withdrawn. {teacher.name} has been told."]


def test_withdrawing_without_a_reason_is_refused_beside_the_field(world, client_for):
    dsl = world.school["dsl"]
    share = make_share(dsl, world.school["staff"])
    client = client_for(dsl)  # signing in is an audit event of its own
    before = counts()
    response = client.post(record_url("withdraw", share), {"reason": "  "})
    assert response.status_code == 200
    assert "Say why the record is withdrawn" in error_beside(page_of(response), "reason")
    share.refresh_from_db()
    assert share.status == Status.AWAITING_ACKNOWLEDGEMENT
    assert counts() == before


def test_the_recipient_may_not_withdraw(world, client_for):
    share = make_share(world.school["dsl"], world.school["staff"])
    response = client_for(world.school["staff"]).post(
        record_url("withdraw", share), {"reason": "I would rather not know"}
    )
    assert response.status_code == 403
    share.refresh_from_db()
    assert share.status == Status.AWAITING_ACKNOWLEDGEMENT


def test_marking_as_attached_is_a_post_only(world, client_for):
    dsl = world.school["dsl"]
    share = make_share(dsl, world.school["staff"], acknowledged=True)
    client = client_for(dsl)
    assert client.get(record_url("attached", share)).status_code == 405
    share.refresh_from_db()
    assert share.attached_at is None
    response = client.post(record_url("attached", share))
    share.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == share.get_absolute_url()
    assert share.attached_by == dsl
    assert share.attached_at is not None
    assert flashed(response) == [f"{share.reference} is marked as attached to the child's file."]
    html = page_of(client.get(share.get_absolute_url()))
    assert re.search(
        r"Attached to the child's file</dt>\s*<dd[^>]*><time[^>]*>\d+ \w+ \d{4}</time>, by "
        + dsl.name,
        html,
    )
    assert record_url("attached", share) not in html


def test_a_record_not_yet_acknowledged_cannot_be_filed_or_printed(world, client_for):
    dsl = world.school["dsl"]
    share = make_share(dsl, world.school["staff"])
    client = client_for(dsl)
    html = page_of(client.get(share.get_absolute_url()))
    assert record_url("form_pdf", share) not in html
    assert record_url("attached", share) not in html
    for response in (
        client.post(record_url("attached", share)),
        client.get(record_url("form_pdf", share)),
    ):
        assert response.status_code == 302
        assert response["Location"] == share.get_absolute_url()
        assert flashed(response)[-1] == services.out_of_order_message(share)
    share.refresh_from_db()
    assert share.attached_at is None
    assert not AuditEvent.objects.filter(verb="safeguarding.form_downloaded").exists()


def test_the_form_downloads_as_a_pdf_and_the_download_is_recorded(world, client_for):
    dsl = world.school["dsl"]
    share = make_share(dsl, world.school["staff"], acknowledged=True)
    client = client_for(dsl)
    html = page_of(client.get(share.get_absolute_url()))
    assert record_url("form_pdf", share) in html
    response = client.get(record_url("form_pdf", share))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{share.reference}-sharing-form.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    event = last_event("safeguarding.form_downloaded")
    assert (event.actor, event.object_id) == (dsl, share.reference)


# --- The lists -------------------------------------------------------------------------------


def make_records(world: Any, number: int) -> list[Share]:
    """`number` records of the school, shared with two members of staff in turn."""
    dsl = world.school["dsl"]
    staff = [world.school["staff"], world.school["volunteer"]]
    return [
        make_share(
            dsl,
            staff[index % 2],
            pupil=make_pupil(world.school.organisation, f"Pupil{index:02d}", f"Family{index:02d}"),
        )
        for index in range(number)
    ]


def references_in(html: str) -> list[str]:
    return re.findall(r">(SG-\d{4}-\d{4})</a>", html)


def test_the_list_shows_every_record_and_notes_them_as_listed(world, client_for):
    records = make_records(world, 3)
    dsl = world.school["deputy_dsl"]
    response = client_for(dsl).get(url("list", world.school))
    html = page_of(response)
    assert references_in(html) == [share.reference for share in reversed(records)]
    assert "Family00" in html
    assert "Child protection file" in html
    event = last_event("safeguarding.listed")
    assert event.actor == dsl
    assert sorted(changes_of(event)["references"]) == sorted(s.reference for s in records)
    assert "format=csv" not in html  # no export, deliberately


def test_the_list_filters_and_sorts(world, client_for):
    records = make_records(world, 4)
    client = client_for(world.school["dsl"])

    def shown(**params: str) -> list[str]:
        response = client.get(url("list", world.school), params)
        assert response.status_code == 200
        return references_in(page_of(response))

    first, second, third, fourth = (share.reference for share in records)
    assert shown(q="pupil02") == [third]
    assert shown(q=second) == [second]
    assert shown(recipient=str(world.school["volunteer"].uuid)) == [fourth, second]
    assert shown(pupil=str(records[0].pupil.uuid)) == [first]
    services.acknowledge_share(
        records[0], actor=world.school["staff"], signing=signing_for(world.school["staff"])
    )
    assert shown(status=Status.ACKNOWLEDGED) == [first]
    assert shown(status=Status.AWAITING_ACKNOWLEDGEMENT, sort="oldest") == [second, third, fourth]
    assert shown(sort="oldest") == [first, second, third, fourth]
    assert shown(sort="pupil") == [first, second, third, fourth]
    assert shown(sort="recipient")[:2] == [third, first]  # "Staff of…" before "Volunteer of…"
    assert shown(q="nobody-at-all") == []


def test_a_filter_that_is_not_a_choice_says_so_and_filters_nothing(world, client_for):
    make_records(world, 2)
    response = client_for(world.school["dsl"]).get(
        url("list", world.school), {"recipient": "not-a-person"}
    )
    html = page_of(response)
    assert "Choose a person from the list" in error_beside(html, "recipient")
    assert len(references_in(html)) == 2


def test_the_list_pages_by_25(world, client_for):
    make_records(world, 26)
    client = client_for(world.school["dsl"])
    first = page_of(client.get(url("list", world.school)))
    second = page_of(client.get(url("list", world.school), {"page": "2"}))
    assert len(references_in(first)) == 25
    assert len(references_in(second)) == 1
    assert "Showing 1 to 25 of 26 records" in first


# Each list page, and who opens it; the staff's overview is a list of their own records.
LIST_PAGES = [
    ("list", "dsl"),
    ("home", "dsl"),
    ("home", "staff"),
    ("by_pupil", "dsl"),
    ("by_recipient", "dsl"),
    ("requests", "dsl"),
]
# However few the rows: signing in, the membership, the rows, the audit event, the layout.
FEW_QUERIES = 25


@pytest.mark.parametrize(("name", "role"), LIST_PAGES)
def test_a_list_page_asks_the_database_as_often_for_30_records_as_for_3(
    world, client_for, django_assert_max_num_queries, name, role
):
    client = client_for(world.school[role])
    _acknowledge_and_ask(world, make_records(world, 3))
    client.get(url(name, world.school))  # the session settled
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(name, world.school)).status_code == 200
    bound = len(few.captured_queries)
    assert bound <= FEW_QUERIES
    _acknowledge_and_ask(world, make_records(world, 27))
    with django_assert_max_num_queries(bound):
        response = client.get(url(name, world.school))
    assert response.status_code == 200
    if name in ("list", "home") and role == "dsl":
        assert len(references_in(page_of(response))) >= 10  # the rows are there to be read


def _acknowledge_and_ask(world: Any, records: list[Share]) -> None:
    """The first record of each batch acknowledged and asked about, so every list has rows."""
    share = records[0]
    recipient = share.recipient
    services.acknowledge_share(share, actor=recipient, signing=signing_for(recipient))
    ask_to_share_outside(share)


def test_the_staff_home_shows_what_was_shared_with_them_unsigned_first(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    acknowledged = make_share(dsl, teacher, acknowledged=True)
    awaiting = make_share(dsl, teacher)
    make_share(dsl, world.school["volunteer"])  # someone else's: not shown
    response = client_for(teacher).get(url("home", world.school))
    html = page_of(response)
    assert references_in(html) == [awaiting.reference, acknowledged.reference]
    assert record_url("acknowledge", awaiting) in html
    assert record_url("acknowledge", acknowledged) not in html
    event = last_event("safeguarding.listed")
    assert event.actor == teacher
    assert sorted(changes_of(event)["references"]) == sorted(
        [awaiting.reference, acknowledged.reference]
    )


def test_the_staff_home_says_when_nothing_is_shared(world, client_for):
    html = page_of(client_for(world.school["volunteer"]).get(url("home", world.school)))
    assert "Nothing has been shared with you" in html
    assert not AuditEvent.objects.filter(verb="safeguarding.listed").exists()


def test_the_dsl_home_shows_what_is_outstanding_oldest_first(world, client_for):
    records = make_records(world, 3)
    teacher = world.school["staff"]
    services.acknowledge_share(records[0], actor=teacher, signing=signing_for(teacher))
    asked = ask_to_share_with(records[0], world.school["volunteer"])
    response = client_for(world.school["deputy_dsl"]).get(url("home", world.school))
    html = page_of(response)
    outstanding = html[html.index('id="outstanding"') : html.index('id="pending-heading"')]
    assert references_in(outstanding) == [records[1].reference, records[2].reference]
    assert "Awaiting acknowledgement: 2" in html
    assert "Requests to share further: 1" in html
    assert request_url("request", asked) in html
    assert url("new", world.school) in html
    for name in ("list", "by_pupil", "by_recipient", "requests"):
        assert url(name, world.school) in html
    listed = changes_of(last_event("safeguarding.listed"))["references"]
    assert sorted(listed) == sorted(share.reference for share in records)


def test_the_dsl_home_says_when_nothing_is_outstanding(world, client_for):
    html = page_of(client_for(world.school["dsl"]).get(url("home", world.school)))
    assert "Everyone has acknowledged what was shared with them" in html
    assert "No requests to share information further are waiting" in html


def test_records_by_pupil_and_by_recipient_count_and_link_to_the_list(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    pupil = make_pupil(world.school.organisation, "Rae", "Counted")
    make_share(dsl, teacher, pupil=pupil, acknowledged=True)
    make_share(dsl, teacher, pupil=pupil)
    make_share(dsl, world.school["volunteer"], pupil=pupil)
    client = client_for(dsl)
    by_pupil = page_of(client.get(url("by_pupil", world.school)))
    row = re.search(r"Counted, Rae</a>.*?</tr>", by_pupil, re.S)
    assert row
    assert re.findall(r"numeric\">(\d+)<", row.group(0)) == ["3", "2"]
    assert f"{url('list', world.school)}?pupil={pupil.uuid}" in by_pupil
    by_recipient = page_of(client.get(url("by_recipient", world.school)))
    row = re.search(rf"{teacher.name}</a>.*?</tr>", by_recipient, re.S)
    assert row
    assert re.findall(r"numeric\">(\d+)<", row.group(0)) == ["2", "1"]
    assert f"{url('list', world.school)}?recipient={teacher.uuid}" in by_recipient


def test_the_requests_page_lists_pending_requests_oldest_first(world, client_for):
    dsl = world.school["dsl"]
    first = make_share(dsl, world.school["staff"], acknowledged=True)
    second = make_share(dsl, world.school["volunteer"], acknowledged=True)
    older = ask_to_share_outside(first)
    newer = ask_to_share_with(second, world.school["staff"])
    answered = ask_to_share_with(first, world.school["volunteer"])
    services.refuse_reshare(answered, actor=dsl, reasons="Not needed")
    html = page_of(client_for(dsl).get(url("requests", world.school)))
    assert request_url("request", older) in html
    assert request_url("request", newer) in html
    assert request_url("request", answered) not in html
    assert html.index(str(older.uuid)) < html.index(str(newer.uuid))
    assert "Duty clinician, Eastmoor CAMHS" in html
    listed = changes_of(last_event("safeguarding.listed", actor=dsl))["references"]
    assert sorted(listed) == sorted([first.reference, second.reference])


# --- Asking to share further -----------------------------------------------------------------


def test_the_recipient_asks_to_share_with_a_colleague(world, client_for):
    dsl, teacher, nurse = world.school["dsl"], world.school["staff"], world.school["volunteer"]
    share = make_share(dsl, teacher, acknowledged=True)
    client = client_for(teacher)
    page = page_of(client.get(record_url("request_reshare", share)))
    colleagues = re.search(r'<select name="colleague".*?</select>', page, re.S)
    assert colleagues
    assert str(nurse.uuid) in colleagues.group(0)
    for holder in (teacher, dsl):  # they hold it already
        assert str(holder.uuid) not in colleagues.group(0)
    response = client.post(
        record_url("request_reshare", share),
        {"kind": ReshareKind.INTERNAL, "colleague": str(nurse.uuid), "reason": "Sees the pupil"},
    )
    asked = ReshareRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == asked.get_absolute_url()
    assert flashed(response) == ["Your request has been sent to the designated safeguarding leads."]
    assert (asked.kind, asked.colleague, asked.requested_by) == (
        ReshareKind.INTERNAL,
        nurse,
        teacher,
    )


def test_the_recipient_asks_to_share_outside_the_school(world, client_for):
    teacher = world.school["staff"]
    share = make_share(world.school["dsl"], teacher, acknowledged=True)
    nhs = Organisation.objects.create(
        name="Eastmoor NHS Trust", slug="eastmoor-nhs", kind=OrganisationKind.EXTERNAL
    )
    response = client_for(teacher).post(
        record_url("request_reshare", share),
        {
            "kind": ReshareKind.EXTERNAL,
            # Picked, then "an organisation" chosen instead: not part of the request.
            "colleague": str(world.school["volunteer"].uuid),
            "outside_organisation": str(nhs.pk),
            "outside_person": "Community paediatrician",
            "reason": "Referral for assessment",
        },
    )
    asked = ReshareRequest.objects.get()
    assert response.status_code == 302
    assert (asked.kind, asked.colleague, asked.outside_organisation) == (
        ReshareKind.EXTERNAL,
        None,
        nhs,
    )
    assert asked.whom == "Community paediatrician, Eastmoor NHS Trust"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": "Because"}, "kind", "Choose whether you want to share with a colleague"),
        ({"kind": ReshareKind.INTERNAL, "reason": "Because"}, "colleague", "Choose the member"),
        (
            {"kind": ReshareKind.EXTERNAL, "reason": "Because"},
            "outside_organisation",
            "Choose the organisation, or type its name",
        ),
        (
            {"kind": ReshareKind.EXTERNAL, "outside_organisation_name": "CAMHS"},
            "reason",
            "Say why the information needs to be shared further",
        ),
    ],
)
def test_a_request_missing_an_answer_is_not_sent(world, client_for, data, field, message):
    teacher = world.school["staff"]
    share = make_share(world.school["dsl"], teacher, acknowledged=True)
    client = client_for(teacher)  # signing in is an audit event of its own
    before = counts()
    response = client.post(record_url("request_reshare", share), data)
    assert response.status_code == 200
    assert message in error_beside(page_of(response), field)
    assert counts() == before


def test_a_record_not_yet_acknowledged_cannot_be_asked_about(world, client_for):
    teacher = world.school["staff"]
    share = make_share(world.school["dsl"], teacher)
    response = client_for(teacher).get(record_url("request_reshare", share))
    assert response.status_code == 302
    assert response["Location"] == share.get_absolute_url()


# --- Answering a request ---------------------------------------------------------------------


def test_a_dsl_refuses_a_request_with_reasons(world, client_for):
    dsl, teacher = world.school["dsl"], world.school["staff"]
    share = make_share(dsl, teacher, acknowledged=True)
    asked = ask_to_share_with(share, world.school["volunteer"])
    client = client_for(world.school["deputy_dsl"])
    page = page_of(client.get(request_url("request", asked)))
    assert request_url("permit", asked) in page
    assert 'id="refuse"' in page
    response = client.post(request_url("request", asked), {"reasons": "The nurse is told already"})
    asked.refresh_from_db()
    assert response.status_code == 302
    assert asked.status == ReshareStatus.REFUSED
    assert asked.answer_reasons == "The nurse is told already"
    assert flashed(response) == [
        f"You refused the request to share {share.reference} further. {teacher.name} has been told."
    ]


def test_refusing_without_reasons_is_refused_beside_the_field(world, client_for):
    share = make_share(world.school["dsl"], world.school["staff"], acknowledged=True)
    asked = ask_to_share_with(share, world.school["volunteer"])
    client = client_for(world.school["dsl"])  # signing in is an audit event of its own
    before = counts()
    response = client.post(request_url("request", asked), {"reasons": ""})
    assert response.status_code == 200
    assert "Say why" in error_beside(page_of(response), "reasons")
    asked.refresh_from_db()
    assert asked.status == ReshareStatus.REQUESTED
    assert counts() == before


def test_the_requester_reads_their_request_but_cannot_answer_it(world, client_for):
    teacher = world.school["staff"]
    share = make_share(world.school["dsl"], teacher, acknowledged=True)
    asked = ask_to_share_outside(share)
    client = client_for(teacher)
    page = page_of(client.get(request_url("request", asked)))
    assert "Eastmoor CAMHS" in page
    assert "A designated safeguarding lead will answer" in page
    assert request_url("permit", asked) not in page
    assert 'id="refuse"' not in page
    assert client.post(request_url("request", asked), {"reasons": "No"}).status_code == 403
    assert client.get(request_url("permit", asked)).status_code == 403


def test_a_dsl_who_asked_is_told_another_must_answer(world, client_for):
    dsl, deputy = world.school["dsl"], world.school["deputy_dsl"]
    share = make_share(dsl, deputy, acknowledged=True)
    asked = ask_to_share_with(share, world.school["staff"])
    client = client_for(deputy)
    page = page_of(client.get(request_url("request", asked)))
    assert "another designated safeguarding lead must answer it" in page
    assert request_url("permit", asked) not in page
    assert client.get(request_url("permit", asked)).status_code == 403
    assert client.post(request_url("request", asked), {"reasons": "No"}).status_code == 403


def test_an_answered_request_goes_back_to_itself_with_a_message(world, client_for):
    dsl = world.school["dsl"]
    share = make_share(dsl, world.school["staff"], acknowledged=True)
    asked = ask_to_share_with(share, world.school["volunteer"])
    services.refuse_reshare(asked, actor=dsl, reasons="Not needed")
    response = client_for(world.school["deputy_dsl"]).get(request_url("permit", asked))
    assert response.status_code == 302
    assert response["Location"] == asked.get_absolute_url()
    assert "answered already" in flashed(response)[0]


def test_a_dsl_permits_sharing_with_a_colleague_as_a_new_signed_record(world, client_for):
    dsl, teacher, nurse = world.school["dsl"], world.school["staff"], world.school["volunteer"]
    deputy = world.school["deputy_dsl"]
    share = make_share(dsl, teacher, acknowledged=True)
    asked = ask_to_share_with(share, nurse)
    client = client_for(deputy)
    page = page_of(client.get(request_url("permit", asked)))
    assert DESCRIPTION in page  # the description starts as the original's
    assert DSL_DECLARATION in page
    response = client.post(
        request_url("permit", asked),
        {**signing_form(deputy), "reasons": "The nurse needs to know", "description": "Cut down"},
    )
    new_share = Share.objects.get(permitted_by_request=asked)
    assert response.status_code == 302
    assert response["Location"] == new_share.get_absolute_url()
    assert (new_share.recipient, new_share.shared_by, new_share.description) == (
        nurse,
        deputy,
        "Cut down",
    )
    assert new_share.pupil == share.pupil
    assert new_share.signature_of(Part.DSL) is not None
    asked.refresh_from_db()
    assert asked.status == ReshareStatus.PERMITTED
    assert new_share.reference in flashed(response)[0]
    assert share.reference in flashed(response)[0]
    html = page_of(client.get(new_share.get_absolute_url()))
    assert record_url("detail", share) in html  # back to the record it came from


def test_permitting_with_a_wrong_code_changes_nothing(world, client_for):
    deputy = world.school["deputy_dsl"]
    share = make_share(world.school["dsl"], world.school["staff"], acknowledged=True)
    asked = ask_to_share_with(share, world.school["volunteer"])
    client = client_for(deputy)  # signing in is an audit event of its own
    before = counts()
    response = client.post(
        request_url("permit", asked),
        {**signing_form(deputy, secret=WRONG_CODE), "reasons": "Kept", "description": "Short"},
    )
    html = page_of(response)
    assert response.status_code == 200
    assert "That code is wrong" in error_beside(html, "secret")
    assert "Kept" in html
    assert counts() == before
    asked.refresh_from_db()
    assert asked.status == ReshareStatus.REQUESTED


def test_the_external_permit_page_starts_the_decision_from_the_request(world, client_for):
    dsl = world.school["dsl"]
    share = make_share(dsl, world.school["staff"], acknowledged=True)
    asked = ask_to_share_outside(share)
    html = page_of(client_for(world.school["deputy_dsl"]).get(request_url("permit", asked)))
    assert f"Information from safeguarding record {share.reference}: " in html
    assert 'value="Eastmoor CAMHS"' in html
    assert 'value="Duty clinician"' in html
    assert f'value="{share.pupil.uuid}" checked' in html
    purpose = Purpose.objects.get(code="safety-and-protection")
    assert f'<option value="{purpose.pk}" selected>' in html
    for checked in ("safeguarding", "art9-g-substantial-public-interest", "sch1-18-safeguarding"):
        assert _is_checked(html, checked), checked
    assert 'value="shared"' in html


def _is_checked(html: str, code: str) -> bool:
    item = (
        DataCategory.objects.filter(code=code).first()
        or SpecialCategoryCondition.objects.filter(code=code).first()
    )
    assert item is not None
    return re.search(rf'value="{item.pk}"[^>]*checked', html) is not None


def test_finding_people_on_the_external_permit_page_keeps_what_was_typed(world, client_for):
    deputy = world.school["deputy_dsl"]
    share = make_share(world.school["dsl"], world.school["staff"], acknowledged=True)
    sibling = make_pupil(world.school.organisation, "Sam", "Findable")
    asked = ask_to_share_outside(share)
    data = form_data(
        safeguarding_share(deputy, [share.pupil]),
        action="find-people",
        person_search="findable",
        reasons="Typed before searching",
    )
    client = client_for(deputy)  # signing in is an audit event of its own
    before = counts()
    response = client.post(request_url("permit", asked), data)
    html = page_of(response)
    assert response.status_code == 200
    assert "There is a problem" not in html
    assert "Typed before searching" in html
    assert f'value="{share.pupil.uuid}" checked' in html
    assert f'value="{sibling.uuid}"' in html
    assert "Sam Findable" in html
    assert counts() == before


def test_a_dsl_permits_sharing_outside_as_a_decision(world, client_for):
    deputy = world.school["deputy_dsl"]
    share = make_share(world.school["dsl"], world.school["staff"], acknowledged=True)
    asked = ask_to_share_outside(share)
    data = form_data(
        safeguarding_share(deputy, [share.pupil]),
        action="permit",
        information=f"Information from safeguarding record {share.reference}: the disclosure",
        reasons="The clinician needs the background to assess safely",
    )
    response = client_for(deputy).post(request_url("permit", asked), data)
    decision = Decision.objects.get()
    asked.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == decision.get_absolute_url()
    assert (asked.status, asked.decision) == (ReshareStatus.PERMITTED, decision)
    assert asked.answer_reasons == "The clinician needs the background to assess safely"
    message = flashed(response)[0]
    assert decision.reference in message
    assert share.reference in message
    html = page_of(client_for(deputy).get(share.get_absolute_url()))
    assert (
        reverse(
            "decisions:detail", kwargs={"org": world.school.slug, "reference": decision.reference}
        )
        in html
    )


def test_a_decision_missing_an_answer_permits_nothing(world, client_for):
    deputy = world.school["deputy_dsl"]
    share = make_share(world.school["dsl"], world.school["staff"], acknowledged=True)
    asked = ask_to_share_outside(share)
    data = form_data(safeguarding_share(deputy, [share.pupil]), action="permit", reasons="")
    client = client_for(deputy)  # signing in is an audit event of its own
    before = counts()
    response = client.post(request_url("permit", asked), data)
    assert response.status_code == 200
    assert "Enter the reasons" in error_beside(page_of(response), "reasons")
    assert counts() == before
    asked.refresh_from_db()
    assert asked.status == ReshareStatus.REQUESTED


def test_sharing_is_for_leads_and_the_staff_page_for_those_who_work_in_the_school(
    world, client_for
):
    assert client_for(world.school["staff"]).get(url("new", world.school)).status_code == 403
    only_dpo = world.school["dpo"]
    assert Membership.objects.get(user=only_dpo).roles == {"dpo"}
    assert client_for(only_dpo).get(url("home", world.school)).status_code == 403
