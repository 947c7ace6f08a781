"""The members' pages of secure transfers: who opens which (every role x every page), sending
under a decision of the log or one recorded with it, errors beside the fields, the detail
page and its access log, revoking, unlocking, and the files the recipient sent back.

tests/core/test_tenancy.py may take `transfer_urls` from here.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.decisions.models import Decision, Method, Outcome
from infoshare.transfers import services
from infoshare.transfers.models import Reply, Status, Transfer, TransferFile
from tests.decisions.drafts import form_data, pupil, share
from tests.decisions.factories import correct_decision, make_decision
from tests.transfers.support import (
    FILE_NAME,
    MESSAGE,
    RECIPIENT_EMAIL,
    RECIPIENT_NAME,
    RECIPIENT_ORGANISATION,
    VISIT,
    answers,
    blob_paths,
    events,
    fresh,
    give_code,
    open_transfer,
    send,
    upload,
)

pytestmark = pytest.mark.django_db

ALL_ROLES = [role.value for role in Role]
# Who sends transfers: every member but an auditor.
SENDERS = set(ALL_ROLES) - {"auditor"}


def url(school: Any, name: str, transfer: Transfer | None = None, **kwargs: Any) -> str:
    kwargs["org"] = school.slug
    if transfer is not None:
        kwargs["reference"] = transfer.reference
    return reverse(f"transfers:{name}", kwargs=kwargs)


def new_url(school: Any, **query: str) -> str:
    address = url(school, "new")
    return f"{address}?{'&'.join(f'{k}={v}' for k, v in query.items())}"


def with_reply(transfer: Transfer) -> Reply:
    """The recipient opens the transfer and sends a file back."""
    open_transfer(transfer)
    return services.receive_reply(
        transfer,
        message="The signed form is attached.",
        files=[upload("signed-form.pdf", b"%PDF-1.7 made-up reply\n")],
        visit=VISIT,
    )


def matrix_transfer(school: Any) -> Transfer:
    """The transfer the matrix names: the school's first, sent by its member of staff if
    made here, with a reply from the recipient."""
    transfer = Transfer.objects.filter(organisation=school.organisation).order_by("pk").first()
    if transfer is None:
        staff = school["staff"]
        # The staff member's share already there (the tenancy matrix records one), else one.
        decision = (
            Decision.objects.filter(organisation=school.organisation, recorded_by=staff)
            .exclude(outcome=Outcome.NOT_SHARED)
            .first()
        ) or make_decision(school.organisation, staff)
        transfer = services.send_transfer(
            school.organisation, actor=staff, answers=answers(), decision=decision
        )
    if not transfer.replies.exists():
        with_reply(transfer)
    return transfer


def transfer_urls(school: Any) -> list[tuple[str, str, str]]:
    """(name, method, path) of every members' page of `school` (e.g. `world.school`), naming
    a real transfer, for tests/core/test_tenancy.py's `all_urls`."""
    transfer = matrix_transfer(school)
    reply_file = TransferFile.objects.get(transfer=transfer, reply__isnull=False)
    decision = transfer.decision.reference
    return [
        ("transfers_list", "get", url(school, "list")),
        ("transfers_csv", "get", url(school, "list") + "?format=csv"),
        ("transfers_start", "get", url(school, "start")),
        ("transfers_new", "get", new_url(school, decision=decision)),
        ("transfers_new_record", "get", new_url(school, record="1")),
        ("transfers_detail", "get", url(school, "detail", transfer)),
        ("transfers_revoke", "get", url(school, "revoke", transfer)),
        ("transfers_unlock", "post", url(school, "unlock", transfer)),
        ("transfers_reply_file", "get", url(school, "reply_file", transfer, file=reply_file.uuid)),
    ]


def transfer_form(**changes: Any) -> dict[str, Any]:
    """The transfer form's POST (prefixed "transfer-"), with one file."""
    data: dict[str, Any] = {
        "recipient_name": RECIPIENT_NAME,
        "recipient_email": RECIPIENT_EMAIL,
        "recipient_organisation": RECIPIENT_ORGANISATION,
        "message": MESSAGE,
        "expires_in_days": "7",
        "max_downloads": "3",
        "files": [upload()],
    }
    data.update(changes)
    posted = {f"transfer-{name}": value for name, value in data.items() if value is not None}
    posted["action"] = "send"
    return posted


def errors_beside(page: str, field_id: str) -> str:
    """The error message shown beside the field whose id is `field_id`."""
    found = re.search(
        rf'<p id="{re.escape(field_id)}_error" class="govuk-error-message">(.*?)</p>', page, re.S
    )
    assert found, f"no error beside {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).replace("Error:", "").strip()


# --- Who opens which page ---------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_start_and_new_are_for_every_member_but_auditors(world, client_for, role):
    decision = make_decision(world.school.organisation, world.school[role])
    client = client_for(world.school[role])
    expected = 200 if role in SENDERS else 403
    for address in (
        url(world.school, "list"),
        url(world.school, "start"),
        new_url(world.school, decision=decision.reference),
        new_url(world.school, record="1"),
    ):
        assert client.get(address).status_code == expected, address


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_transfer_is_seen_by_its_sender_and_the_dpo_only(world, client_for, role):
    urls = transfer_urls(world.school)  # a transfer sent by staff
    client = client_for(world.school[role])
    for name, method, path in urls[5:]:
        response = getattr(client, method)(path)
        if role == "auditor":
            assert response.status_code == 403, name
        elif role in {"staff", "dpo"}:
            assert response.status_code in {200, 302}, name
        else:
            assert response.status_code == 404, name


def test_the_sender_and_the_dpo_open_each_page(world, client_for):
    for role in ("staff", "dpo"):
        client = client_for(world.school[role])
        for name, method, path in transfer_urls(world.school):
            response = getattr(client, method)(path)
            # Unlocking a transfer that is not locked goes back to it with a message.
            expected = 302 if name == "transfers_unlock" else 200
            assert response.status_code == expected, (role, name)


def test_another_schools_members_get_404_for_every_page(world, client_for):
    transfer = send(world)
    urls = transfer_urls(world.school)
    for role in ("staff", "dpo", "headteacher"):
        outsider = client_for(world.other[role])
        for name, method, path in urls:
            assert getattr(outsider, method)(path).status_code == 404, (role, name)
    # The trust's DPO, a DPO of both schools, sees it only under its own school.
    trust_dpo = client_for(world.trust_dpo)
    assert trust_dpo.get(url(world.school, "detail", transfer)).status_code == 200
    elsewhere = reverse(
        "transfers:detail", kwargs={"org": world.other.slug, "reference": transfer.reference}
    )
    assert trust_dpo.get(elsewhere).status_code == 404


def test_auditors_get_403_on_every_page(world, client_for):
    transfer = send(world)
    auditor = client_for(world.school["auditor"])
    for name, method, path in transfer_urls(world.school):
        assert getattr(auditor, method)(path).status_code == 403, name
    assert fresh(transfer).status == Status.OPENED  # nothing changed


def test_nobody_signed_out_reaches_a_members_page(world):
    for name, method, path in transfer_urls(world.school):
        response = getattr(Client(), method)(path)
        assert response.status_code == 302, name
        assert "/accounts/login/" in response["Location"], name


# --- Which decision ------------------------------------------------------------------------


def test_the_start_page_offers_the_persons_current_decisions_to_share(world, client_for):
    staff = world.school["staff"]
    organisation = world.school.organisation
    mine = make_decision(organisation, staff, recipient_organisation_name="Riverside Clinic")
    refused = make_decision(organisation, staff, outcome=Outcome.NOT_SHARED)
    corrected = make_decision(organisation, staff)
    correction = correct_decision(corrected)
    someone_elses = make_decision(organisation, world.school["dsl"])
    page = client_for(staff).get(url(world.school, "start")).content.decode()
    assert "Which decision is this sharing?" in page
    assert f"{mine.reference} \u2014 Riverside Clinic, " in page
    assert correction.reference in page
    for hidden in (refused, corrected, someone_elses):
        assert f'value="{hidden.reference}"' not in page
    # The DPO sees every decision without special category data, so may send under it.
    dpo_page = client_for(world.school["dpo"]).get(url(world.school, "start")).content.decode()
    assert f'value="{someone_elses.reference}"' in dpo_page


def test_the_start_page_says_what_is_missing(world, client_for):
    client = client_for(world.school["staff"])
    page = client.post(url(world.school, "start"), {}).content.decode()
    assert errors_beside(page, "id_choice") == (
        "Choose a decision already in the log, or record the decision now"
    )
    page = client.post(url(world.school, "start"), {"choice": "existing"}).content.decode()
    assert errors_beside(page, "id_decision") == "Choose the decision this transfer shares"
    other = make_decision(world.other.organisation, world.other["staff"])
    page = client.post(
        url(world.school, "start"), {"choice": "existing", "decision": other.reference}
    ).content.decode()
    assert errors_beside(page, "id_decision") == "Choose a decision from the list"


def test_the_start_page_leads_to_the_transfer_form(world, client_for):
    decision = make_decision(world.school.organisation, world.school["staff"])
    client = client_for(world.school["staff"])
    response = client.post(
        url(world.school, "start"), {"choice": "existing", "decision": decision.reference}
    )
    assert response["Location"] == new_url(world.school, decision=decision.reference)
    response = client.post(url(world.school, "start"), {"choice": "record"})
    assert response["Location"] == new_url(world.school, record="1")


# --- Sending under a decision of the log ------------------------------------------------------


def test_the_form_shows_the_decision_and_starts_from_its_recipient(world, client_for):
    decision = make_decision(
        world.school.organisation,
        world.school["staff"],
        recipient_person="Education welfare officer",
        recipient_organisation_name="Eastmoor Education Welfare Service",
    )
    page = (
        client_for(world.school["staff"])
        .get(new_url(world.school, decision=decision.reference))
        .content.decode()
    )
    summary = page[page.index('id="decision"') : page.index("</dl>", page.index('id="decision"'))]
    assert decision.reference in summary
    assert decision.information in summary
    assert "6(1)(e)" in summary  # the lawful basis
    assert 'value="Education welfare officer"' in page
    assert 'value="Eastmoor Education Welfare Service"' in page
    assert "encrypted before they are stored" in page
    assert "up to 100 MB" in page
    assert 'type="file" name="transfer-files"' in page
    assert "multiple" in page[page.index('name="transfer-files"') - 200 :][:400]
    assert "Choose the files again" not in page


def test_a_transfer_is_sent_under_the_chosen_decision(
    world, client_for, django_capture_on_commit_callbacks
):
    staff = world.school["staff"]
    decision = make_decision(world.school.organisation, staff)
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url(world.school, decision=decision.reference), transfer_form())
    transfer = Transfer.objects.get()
    assert response["Location"] == transfer.get_absolute_url()
    assert transfer.decision == decision
    assert transfer.sender == staff
    assert (transfer.recipient_name, transfer.recipient_email) == (RECIPIENT_NAME, RECIPIENT_EMAIL)
    assert transfer.max_downloads == 3
    assert services.message_of(transfer) == MESSAGE
    assert [view.name for view in services.recipient_files(transfer)] == [FILE_NAME]
    assert [message.to for message in mail.outbox] == [[RECIPIENT_EMAIL]]
    page = client.get(response["Location"]).content.decode()
    assert (
        f"{transfer.reference} sent. {RECIPIENT_NAME} has been emailed a link; "
        "they will ask for a code to open it."
    ) in page


def test_a_decision_not_to_share_or_corrected_cannot_be_sent(world, client_for):
    staff = world.school["staff"]
    refused = make_decision(world.school.organisation, staff, outcome=Outcome.NOT_SHARED)
    client = client_for(staff)
    response = client.get(new_url(world.school, decision=refused.reference), follow=True)
    assert response.redirect_chain[-1][0] == url(world.school, "start")
    assert f"{refused.reference} cannot be sent" in response.content.decode()
    response = client.post(new_url(world.school, decision=refused.reference), transfer_form())
    assert response.status_code == 302
    assert not Transfer.objects.exists()
    # Someone else's decision (not the DPO's to see) or another school's: 404.
    others = make_decision(world.school.organisation, world.school["dsl"])
    assert client.get(new_url(world.school, decision=others.reference)).status_code == 404
    elsewhere = make_decision(world.other.organisation, world.other["staff"])
    assert client.get(new_url(world.school, decision=elsewhere.reference)).status_code == 404


def test_a_bad_answer_is_shown_beside_its_field_and_nothing_is_sent(
    world, client_for, media, django_capture_on_commit_callbacks
):
    decision = make_decision(world.school.organisation, world.school["staff"])
    client = client_for(world.school["staff"])
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            new_url(world.school, decision=decision.reference),
            transfer_form(recipient_email="not an address", expires_in_days="31"),
        ).content.decode()
    assert errors_beside(page, "id_transfer-recipient_email") == (
        "Enter an email address in the correct format, like name@example.org"
    )
    assert errors_beside(page, "id_transfer-expires_in_days") == (
        "The link can work for at most 30 days"
    )
    assert "There is a problem" in page
    assert "Choose the files again: files are not kept until the transfer is sent." in page
    assert 'value="' + RECIPIENT_NAME + '"' in page  # what was typed stays
    assert not Transfer.objects.exists()
    assert AuditEvent.objects.count() == before
    assert mail.outbox == []
    assert blob_paths(media) == []


def test_no_file_or_no_message_is_refused(world, client_for):
    decision = make_decision(world.school.organisation, world.school["staff"])
    client = client_for(world.school["staff"])
    page = client.post(
        new_url(world.school, decision=decision.reference), transfer_form(files=None, message="")
    ).content.decode()
    assert errors_beside(page, "id_transfer-files") == "Choose the files to send"
    assert errors_beside(page, "id_transfer-message") == "Write a message to go with the files"
    assert not Transfer.objects.exists()


def test_a_file_over_the_limit_is_stopped_as_it_arrives(world, client_for, settings, media):
    settings.INFOSHARE_TRANSFER_MAX_BYTES = 1024
    decision = make_decision(world.school.organisation, world.school["staff"])
    client = client_for(world.school["staff"])
    page = client.get(new_url(world.school, decision=decision.reference)).content.decode()
    assert "up to 1 KB" in page
    page = client.post(
        new_url(world.school, decision=decision.reference),
        transfer_form(files=[upload("small.csv", b"a,b\r\n"), upload("big.csv", b"x" * 2048)]),
    ).content.decode()
    assert errors_beside(page, "id_transfer-files") == "Each file must be 1 KB or smaller."
    assert "Choose the files again" in page
    assert not Transfer.objects.exists()
    assert blob_paths(media) == []


def test_too_many_files_are_refused(world, client_for, settings):
    settings.INFOSHARE_TRANSFER_MAX_FILES = 2
    decision = make_decision(world.school.organisation, world.school["staff"])
    page = (
        client_for(world.school["staff"])
        .post(
            new_url(world.school, decision=decision.reference),
            transfer_form(files=[upload(f"part-{n}.csv") for n in range(3)]),
        )
        .content.decode()
    )
    assert errors_beside(page, "id_transfer-files") == "Send at most 2 files at a time."
    assert not Transfer.objects.exists()


def test_the_upload_still_needs_the_csrf_token(world):
    decision = make_decision(world.school.organisation, world.school["staff"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(
        world.school["staff"], backend="allauth.account.auth_backends.AuthenticationBackend"
    )
    response = client.post(new_url(world.school, decision=decision.reference), transfer_form())
    assert response.status_code == 403
    assert not Transfer.objects.exists()


# --- Recording the decision with the transfer ----------------------------------------------


def recorded_now(world: Any, **changes: Any) -> dict[str, Any]:
    staff = world.school["staff"]
    draft = share(staff, [pupil(world.school.organisation)], **changes)
    return {**form_data(draft), **transfer_form()}


def test_the_decision_form_comes_first_set_for_a_secure_transfer(world, client_for):
    page = client_for(world.school["staff"]).get(new_url(world.school, record="1")).content.decode()
    assert page.index("Who it concerns") < page.index("Recipient&#x27;s name")
    assert re.search(r'value="secure_transfer"[^>]*checked', page)
    assert re.search(r'value="shared"[^>]*checked', page)


def test_recording_the_decision_and_sending_in_one_step(world, client_for):
    staff = world.school["staff"]
    client = client_for(staff)
    response = client.post(new_url(world.school, record="1"), recorded_now(world))
    decision = Decision.objects.get()
    transfer = Transfer.objects.get()
    assert response["Location"] == transfer.get_absolute_url()
    assert transfer.decision == decision
    assert decision.recorded_by == staff
    assert decision.method == Method.SECURE_TRANSFER
    assert len(events("decision.recorded")) == 1
    assert len(events("transfer.sent", transfer)) == 1


def test_problems_of_both_forms_show_at_once_and_nothing_is_recorded(world, client_for, media):
    client = client_for(world.school["staff"])
    data = recorded_now(world)
    del data["reasons"]
    data["transfer-recipient_name"] = ""
    page = client.post(new_url(world.school, record="1"), data).content.decode()
    assert errors_beside(page, "id_reasons") == "Enter the reasons for your decision"
    assert errors_beside(page, "id_transfer-recipient_name") == "Enter the recipient's name"
    assert "Choose the files again" in page
    assert not Decision.objects.exists()
    assert not Transfer.objects.exists()
    assert blob_paths(media) == []


def test_the_services_refusal_goes_beside_the_decision_field_it_names(world, client_for):
    client = client_for(world.school["staff"])
    data = recorded_now(world, outcome=Outcome.NOT_SHARED)
    page = client.post(new_url(world.school, record="1"), data).content.decode()
    assert "A transfer shares information" in errors_beside(page, "id_outcome")
    assert not Decision.objects.exists()
    assert not Transfer.objects.exists()


def test_finding_people_keeps_the_transfer_answers_and_checks_nothing(world, client_for):
    client = client_for(world.school["staff"])
    data = {**recorded_now(world), "action": "find-people", "person_search": "Ada"}
    page = client.post(new_url(world.school, record="1"), data).content.decode()
    assert "There is a problem" not in page
    assert f'value="{RECIPIENT_NAME}"' in page
    assert "Choose the files again" in page
    assert not Transfer.objects.exists()


# --- One transfer ------------------------------------------------------------------------------


def test_the_detail_page_shows_the_transfer_and_its_access_log(world, client_for):
    transfer = send(world)
    open_transfer(transfer)
    client = client_for(world.school["staff"])
    page = client.get(url(world.school, "detail", transfer)).content.decode()
    assert f"Transfer {transfer.reference}" in page
    assert "Opened" in page
    for text in (RECIPIENT_NAME, RECIPIENT_ORGANISATION, RECIPIENT_EMAIL, MESSAGE, FILE_NAME):
        assert text.replace("'", "&#x27;") in page, text
    assert transfer.decision.reference in page
    assert "0 of 3" in page
    log = page[page.index('id="access-log"') :]
    assert "Asked for a code" in log
    assert "Entered the right code" in log
    assert "203.0.113.7" in log
    assert "Mozilla/5.0 (TestBrowser 1.0)" in log
    assert "Revoke" in page
    # Opening the page is an audit event (DESIGN.md rule 5).
    assert [event.actor for event in events("transfer.viewed", transfer)] == [world.school["staff"]]


def test_the_detail_page_names_a_member_in_the_log(world, client_for):
    transfer = send(world)
    reply = with_reply(transfer)
    client = client_for(world.school["dpo"])
    file = reply.files.get()
    client.get(url(world.school, "reply_file", transfer, file=file.uuid))
    page = client.get(url(world.school, "detail", transfer)).content.decode()
    log = page[page.index('id="access-log"') :]
    assert "Downloaded a reply" in log
    assert str(world.school["dpo"]) in log
    assert "signed-form.pdf" in log
    assert "The signed form is attached." in page


def test_the_reply_file_downloads_intact(world, client_for):
    transfer = send(world)
    reply = with_reply(transfer)
    file = reply.files.get()
    response = client_for(world.school["staff"]).get(
        url(world.school, "reply_file", transfer, file=file.uuid)
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 made-up reply\n"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="signed-form.pdf"'
    assert response["Content-Length"] == str(file.size)
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(events("transfer.reply_downloaded", transfer)) == 1


def test_an_outgoing_file_is_not_a_reply_file(world, client_for):
    transfer = send(world)
    sent = transfer.files.get()
    response = client_for(world.school["staff"]).get(
        url(world.school, "reply_file", transfer, file=sent.uuid)
    )
    assert response.status_code == 404


# --- Revoking and unlocking -----------------------------------------------------------------


def test_the_revoke_page_warns_and_needs_a_reason(world, client_for):
    transfer = send(world)
    client = client_for(world.school["staff"])
    page = client.get(url(world.school, "revoke", transfer)).content.decode()
    assert (
        "The files and the message are destroyed and cannot be recovered. "
        "The recipient's link stops working."
    ) in page
    page = client.post(url(world.school, "revoke", transfer), {"reason": " "}).content.decode()
    assert errors_beside(page, "id_reason") == "Enter why you are revoking the transfer"
    assert fresh(transfer).status == Status.SENT
    assert events("transfer.revoked") == []


@pytest.mark.parametrize("role", ["staff", "dpo"])
def test_the_sender_or_the_dpo_revokes(
    world, client_for, role, media, django_capture_on_commit_callbacks
):
    transfer = send(world)
    client = client_for(world.school[role])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(world.school, "revoke", transfer), {"reason": "Sent to the wrong service"}
        )
    assert response["Location"] == transfer.get_absolute_url()
    revoked = fresh(transfer)
    assert revoked.status == Status.REVOKED
    assert revoked.ended_by == world.school[role]
    assert blob_paths(media) == []
    page = client.get(response["Location"]).content.decode()
    assert f"{transfer.reference} is revoked." in page
    assert "Deleted when the transfer was revoked." in page
    assert "Sent to the wrong service" in page
    assert FILE_NAME not in page
    assert "File 1" in page
    assert 'href="' + url(world.school, "revoke", transfer) not in page


def test_a_member_who_did_not_send_it_cannot_revoke(world, client_for):
    transfer = send(world)
    client = client_for(world.school["dsl"])
    response = client.post(url(world.school, "revoke", transfer), {"reason": "Not mine"})
    assert response.status_code == 404
    assert fresh(transfer).status == Status.SENT


def test_an_ended_transfer_cannot_be_revoked_again(world, client_for):
    transfer = send(world)
    services.revoke_transfer(transfer, actor=world.school["staff"], reason="Wrong recipient")
    client = client_for(world.school["dpo"])
    response = client.post(url(world.school, "revoke", transfer), {"reason": "Again"}, follow=True)
    assert response.redirect_chain[-1][0] == transfer.get_absolute_url()
    assert "has already ended" in response.content.decode()
    assert len(events("transfer.revoked")) == 1


def lock(transfer: Transfer) -> None:
    give_code(transfer)
    for _ in range(4):
        assert not services.verify_code(transfer, "000000", VISIT)
    with pytest.raises(ValidationError, match="locked"):
        services.verify_code(transfer, "000000", VISIT)
    assert fresh(transfer).status == Status.LOCKED


def test_a_locked_transfer_is_unlocked_by_its_sender(world, client_for):
    transfer = send(world)
    lock(transfer)
    client = client_for(world.school["staff"])
    page = client.get(url(world.school, "detail", transfer)).content.decode()
    assert "Locked" in page
    assert "5 wrong codes were entered" in page
    assert f'action="{url(world.school, "unlock", transfer)}"' in page
    response = client.post(url(world.school, "unlock", transfer), follow=True)
    assert fresh(transfer).status == Status.SENT
    assert f"{transfer.reference} is unlocked." in response.content.decode()
    assert len(events("transfer.unlocked", transfer)) == 1


def test_unlocking_a_transfer_that_is_not_locked_says_so(world, client_for):
    transfer = send(world)
    client = client_for(world.school["dpo"])
    response = client.post(url(world.school, "unlock", transfer), follow=True)
    assert "is not locked" in response.content.decode()
    assert events("transfer.unlocked") == []
    assert client.get(url(world.school, "unlock", transfer)).status_code == 405


def test_others_cannot_unlock(world, client_for):
    transfer = send(world)
    lock(transfer)
    assert (
        client_for(world.school["dsl"]).post(url(world.school, "unlock", transfer)).status_code
        == 404
    )
    assert (
        client_for(world.other["dpo"]).post(url(world.school, "unlock", transfer)).status_code
        == 404
    )
    assert fresh(transfer).status == Status.LOCKED


# --- The decision's page leads here -----------------------------------------------------------


def test_a_current_share_offers_to_send_files_securely(world, client_for):
    staff = world.school["staff"]
    organisation = world.school.organisation
    decision = make_decision(organisation, staff)
    refused = make_decision(organisation, staff, outcome=Outcome.NOT_SHARED)
    corrected = make_decision(organisation, staff)
    correct_decision(corrected)
    client = client_for(staff)
    link = new_url(world.school, decision=decision.reference)
    page = client.get(decision.get_absolute_url()).content.decode()
    assert f'href="{link}">Send files securely</a>' in page
    for other in (refused, corrected):
        assert "Send files securely" not in client.get(other.get_absolute_url()).content.decode()
    # An auditor reads the decision but never sends.
    auditor_page = client_for(world.school["auditor"]).get(decision.get_absolute_url())
    assert "Send files securely" not in auditor_page.content.decode()
