"""The recipient's pages, with no account: the link from the email, the code from the second
email, the files and the reply; what they say once a transfer is locked, has ended, or was
never there; and the headers that keep the link's secret out of caches and referrers.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from infoshare.transfers import services
from infoshare.transfers.models import AccessEvent, AccessKind, Status, Transfer
from tests.transfers.support import (
    CONTENT,
    FILE_NAME,
    MESSAGE,
    RECIPIENT_EMAIL,
    RECIPIENT_NAME,
    blob_of,
    events,
    flip_byte,
    fresh,
    outgoing,
    send,
    upload,
)

pytestmark = pytest.mark.django_db

GONE_HEADING = "This transfer is no longer available"
GONE_TEXT = (
    "It has expired or the sender has withdrawn it. If you still need the files, "
    "contact the person who sent them."
)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) RecipientBrowser/2.0"
ADDRESS = "198.51.100.23"


@pytest.fixture
def sent(world, django_capture_on_commit_callbacks):
    """`sent(**changes)`: a transfer by the school's staff, and the path of its link (from the
    email, the only place the link is)."""

    def make(**changes: Any) -> tuple[Transfer, str]:
        with django_capture_on_commit_callbacks(execute=True):
            transfer = send(world, **changes)
        body = mail.outbox[-1].body
        found = re.search(r"https?://[^/\s]+(/t/[^\s]+/)", body)
        assert found, body
        return transfer, found.group(1)

    return make


@pytest.fixture
def recipient() -> Client:
    """The recipient's browser: no account, an address and a browser of its own."""
    return Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)


def page_of(link: str, name: str = "") -> str:
    """The address of one of the link's pages: "" (the landing), "code/", "files/", "reply/"."""
    return link + name


def ask_for_code(client: Client, link: str, captured: Any) -> str:
    """Press "Email me a code" and read the code from the second email."""
    with captured(execute=True):
        response = client.post(page_of(link, "code/"), {"action": "send"})
    assert response.status_code == 302
    body = mail.outbox[-1].body
    found = re.search(r"^(\d{6})$", body, re.M)
    assert found, body
    return found.group(1)


def open_files(client: Client, link: str, captured: Any) -> Any:
    code = ask_for_code(client, link, captured)
    response = client.post(page_of(link, "code/"), {"code": code, "action": "verify"})
    assert response.status_code == 302
    assert response["Location"] == page_of(link, "files/")
    return response


def assert_private(response: Any) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex"


# --- The whole way through --------------------------------------------------------------------


def test_the_recipient_opens_the_link_gets_a_code_and_downloads_the_file(
    world, sent, recipient, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    landing = recipient.get(link)
    assert landing.status_code == 200
    page = landing.content.decode()
    assert "Alder Primary School has sent you files securely" in page
    assert "To open them, we'll email a code to the address this link was sent to." in page
    assert "Email me a code" in page
    for secret in (RECIPIENT_NAME, MESSAGE, FILE_NAME):
        assert secret not in page  # nothing personal before the code
    assert 'class="govuk-service-navigation__text">Alder Primary School<' in page

    code = ask_for_code(recipient, link, django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == [RECIPIENT_EMAIL]
    page = recipient.get(page_of(link, "code/")).content.decode()
    assert "Enter the 6-digit code we emailed you. It works for 15 minutes." in page
    assert 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page
    assert "Send a new code" in page

    session_before = recipient.session.session_key
    response = recipient.post(page_of(link, "code/"), {"code": code, "action": "verify"})
    assert response["Location"] == page_of(link, "files/")
    assert recipient.session.session_key != session_before  # cycled, as at a sign-in
    assert fresh(transfer).status == Status.OPENED

    files = recipient.get(page_of(link, "files/"))
    assert_private(files)
    page = files.content.decode()
    assert MESSAGE.replace("'", "&#x27;") in page
    assert FILE_NAME in page
    file = outgoing(transfer)[0]
    download_path = reverse(
        "transfers_public:download", kwargs={"token": link.split("/")[2], "file": file.uuid}
    )
    assert f'href="{download_path}"' in page

    download = recipient.get(download_path)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == CONTENT
    assert download["Content-Length"] == str(len(CONTENT))
    assert download["Content-Disposition"] == f'attachment; filename="{FILE_NAME}"'
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert_private(download)
    assert fresh(transfer).status == Status.DOWNLOADED

    kinds = list(
        AccessEvent.objects.filter(transfer=transfer).values_list(
            "kind", "ip_address", "user_agent"
        )
    )
    assert [kind for kind, _, _ in kinds] == [
        AccessKind.LINK_OPENED,
        AccessKind.CODE_SENT,
        AccessKind.CODE_RIGHT,
        AccessKind.FILE_DOWNLOADED,
    ]
    assert {(address, browser) for _, address, browser in kinds} == {(ADDRESS, BROWSER)}


def test_having_entered_the_code_the_link_goes_straight_to_the_files(
    sent, recipient, django_capture_on_commit_callbacks
):
    _, link = sent()
    open_files(recipient, link, django_capture_on_commit_callbacks)
    response = recipient.get(link)
    assert response.status_code == 302
    assert response["Location"] == page_of(link, "files/")
    assert_private(response)


def test_every_page_keeps_the_link_private(
    world, sent, recipient, django_capture_on_commit_callbacks
):
    _, link = sent()
    for name in ("", "code/", "files/"):
        assert_private(recipient.get(page_of(link, name)))
    assert_private(recipient.post(page_of(link, "code/"), {"code": "12"}))
    assert_private(recipient.get("/t/not-a-real-token/"))
    assert_private(recipient.get("/t/not-a-real-token/files/"))


# --- The code ------------------------------------------------------------------------------------


def test_a_wrong_code_says_how_many_tries_are_left(
    sent, recipient, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    code = ask_for_code(recipient, link, django_capture_on_commit_callbacks)
    wrong = "000000" if code != "000000" else "111111"
    page = recipient.post(page_of(link, "code/"), {"code": wrong}).content.decode()
    assert (
        "The code is not right. Check the latest email and try again. You have 4 tries left."
    ) in page
    assert 'id="id_code_error"' in page
    page = recipient.post(page_of(link, "code/"), {"code": wrong}).content.decode()
    assert "You have 3 tries left." in page
    assert fresh(transfer).wrong_codes == 2


def test_a_code_that_is_not_six_digits_is_not_counted(
    sent, recipient, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    ask_for_code(recipient, link, django_capture_on_commit_callbacks)
    page = recipient.post(page_of(link, "code/"), {"code": "12ab"}).content.decode()
    assert "Enter the 6-digit code from the email" in page
    assert fresh(transfer).wrong_codes == 0


def test_five_wrong_codes_lock_the_transfer_and_tell_the_sender(
    world, sent, recipient, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    code = ask_for_code(recipient, link, django_capture_on_commit_callbacks)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        recipient.post(page_of(link, "code/"), {"code": wrong})
    with django_capture_on_commit_callbacks(execute=True):
        response = recipient.post(page_of(link, "code/"), {"code": wrong})
    assert response.status_code == 403
    assert_private(response)
    page = response.content.decode()
    assert "This transfer is locked" in page
    assert "Too many wrong codes were entered. The sender has been told and can unlock it." in page
    assert fresh(transfer).status == Status.LOCKED
    assert mail.outbox[-1].to == [world.school["staff"].email]
    # Locked: even the right code, and every page of the link, now say so.
    for response in (
        recipient.post(page_of(link, "code/"), {"code": code}),
        recipient.get(link),
        recipient.get(page_of(link, "files/")),
    ):
        assert response.status_code == 403
        assert "This transfer is locked" in response.content.decode()


def test_a_new_code_is_not_sent_twice_within_a_minute(
    sent, recipient, django_capture_on_commit_callbacks
):
    _, link = sent()
    ask_for_code(recipient, link, django_capture_on_commit_callbacks)
    sent_before = len(mail.outbox)
    response = recipient.post(page_of(link, "code/"), {"action": "send"}, follow=True)
    assert "Wait a minute before asking for another code." in response.content.decode()
    assert len(mail.outbox) == sent_before


# --- The files need the code ----------------------------------------------------------------------


def test_the_link_alone_opens_no_file(sent, recipient, django_capture_on_commit_callbacks):
    transfer, link = sent()
    file = outgoing(transfer)[0]
    download_path = page_of(link, f"files/{file.uuid}/")
    for address in (page_of(link, "files/"), download_path):
        response = Client().get(address)
        assert response.status_code == 302
        assert response["Location"] == link
    # A browser that entered the code is let in; another with only the link still is not.
    open_files(recipient, link, django_capture_on_commit_callbacks)
    assert recipient.get(download_path).status_code == 200
    response = Client().get(download_path)
    assert response["Location"] == link
    assert outgoing(transfer)[0].downloads == 1


def test_the_downloads_allowed_are_counted(sent, recipient, django_capture_on_commit_callbacks):
    transfer, link = sent(max_downloads=1)
    open_files(recipient, link, django_capture_on_commit_callbacks)
    download_path = page_of(link, f"files/{outgoing(transfer)[0].uuid}/")
    assert b"".join(recipient.get(download_path).streaming_content) == CONTENT
    page = recipient.get(page_of(link, "files/")).content.decode()
    assert "(no downloads left)" in page
    response = recipient.get(download_path, follow=True)
    assert response.redirect_chain[-1][0] == page_of(link, "files/")
    assert "There is a problem" in response.content.decode()
    assert outgoing(transfer)[0].downloads == 1
    assert AccessEvent.objects.filter(kind=AccessKind.DOWNLOAD_REFUSED).count() == 1


def test_a_damaged_file_is_refused_before_a_byte_goes(
    world, sent, recipient, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    open_files(recipient, link, django_capture_on_commit_callbacks)
    file = outgoing(transfer)[0]
    flip_byte(blob_of(file), 40)
    response = recipient.get(page_of(link, f"files/{file.uuid}/"))
    assert response.status_code == 422
    assert_private(response)
    assert "This file is damaged" in response.content.decode()
    assert CONTENT not in response.content
    assert outgoing(transfer)[0].downloads == 0


def test_a_file_of_another_transfer_is_not_found(
    world, sent, recipient, django_capture_on_commit_callbacks
):
    _, link = sent()
    other = send(world)
    open_files(recipient, link, django_capture_on_commit_callbacks)
    response = recipient.get(page_of(link, f"files/{outgoing(other)[0].uuid}/"))
    assert response.status_code == 404
    assert_private(response)
    assert outgoing(other)[0].downloads == 0


# --- Replying ------------------------------------------------------------------------------------


def test_a_reply_arrives_encrypted_and_the_sender_downloads_it_intact(
    world, sent, recipient, client_for, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    open_files(recipient, link, django_capture_on_commit_callbacks)
    reply = b"name,signed\r\nForm,yes\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = recipient.post(
            page_of(link, "reply/"),
            {"message": "Signed and returned.", "files": [upload("signed.csv", reply)]},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == page_of(link, "files/")
    assert (
        "Your files have been sent to Alder Primary School. They are encrypted like these."
    ) in response.content.decode()
    assert mail.outbox[-1].to == [world.school["staff"].email]
    stored = transfer.files.get(reply__isnull=False)
    assert reply not in blob_of(stored).read_bytes()

    sender = client_for(world.school["staff"])
    detail = sender.get(transfer.get_absolute_url()).content.decode()
    assert "Signed and returned." in detail
    reply_path = reverse(
        "transfers:reply_file",
        kwargs={"org": world.school.slug, "reference": transfer.reference, "file": stored.uuid},
    )
    assert f'href="{reply_path}"' in detail
    download = sender.get(reply_path)
    assert b"".join(download.streaming_content) == reply
    assert download["Content-Disposition"] == 'attachment; filename="signed.csv"'


def test_a_reply_needs_files_within_the_limit(
    sent, recipient, settings, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    open_files(recipient, link, django_capture_on_commit_callbacks)
    page = recipient.post(page_of(link, "reply/"), {"message": "Nothing attached"}).content.decode()
    assert "Choose the files to send back" in page
    settings.INFOSHARE_TRANSFER_MAX_BYTES = 1024
    response = recipient.post(page_of(link, "reply/"), {"files": [upload("big.csv", b"x" * 4096)]})
    page = response.content.decode()
    assert "Each file must be 1 KB or smaller." in page
    assert "Choose the files again: files are not kept until they are sent." in page
    assert_private(response)
    assert not transfer.files.filter(reply__isnull=False).exists()


def test_a_reply_needs_the_code_too(sent):
    transfer, link = sent()
    response = Client().post(page_of(link, "reply/"), {"files": [upload("x.csv", b"x")]})
    assert response["Location"] == link
    assert not transfer.files.filter(reply__isnull=False).exists()


# --- Ended, or never there ------------------------------------------------------------------------


def test_an_unknown_link_says_the_same_as_an_ended_one(recipient):
    response = recipient.get("/t/9xQ-this-link-was-never-sent/")
    assert response.status_code == 404
    page = response.content.decode()
    assert GONE_HEADING in page
    assert GONE_TEXT in page
    assert recipient.post("/t/9xQ-never-sent/code/", {"action": "send"}).status_code == 404


def test_a_revoked_transfer_is_gone_even_for_a_browser_that_had_the_code(
    world, sent, recipient, django_capture_on_commit_callbacks
):
    transfer, link = sent()
    open_files(recipient, link, django_capture_on_commit_callbacks)
    download_path = page_of(link, f"files/{outgoing(transfer)[0].uuid}/")
    with django_capture_on_commit_callbacks(execute=True):
        services.revoke_transfer(transfer, actor=world.school["dpo"], reason="Wrong recipient")
    for address in (link, page_of(link, "code/"), page_of(link, "files/"), download_path):
        response = recipient.get(address)
        assert response.status_code == 410, address
        assert_private(response)
        page = response.content.decode()
        assert GONE_HEADING in page
        assert GONE_TEXT in page
        assert "Alder Primary School" in page
    assert AccessEvent.objects.filter(transfer=transfer, kind=AccessKind.REFUSED).exists()


def test_a_transfer_past_its_expiry_is_gone_before_expire_transfers_runs(sent, recipient):
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        transfer, link = sent(expires_in_days=1)
    assert fresh(transfer).status == Status.SENT
    response = recipient.get(link)
    assert response.status_code == 410
    assert GONE_HEADING in response.content.decode()
    response = recipient.post(page_of(link, "code/"), {"action": "send"})
    assert response.status_code == 410
    assert events("transfer.opened") == []


def test_an_expired_transfer_is_gone(sent, recipient):
    transfer, link = sent()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert services.expire_due_transfers() == 1
    assert fresh(transfer).status == Status.EXPIRED
    response = recipient.get(link)
    assert response.status_code == 410
    assert GONE_TEXT in response.content.decode()


# --- Cross-site posts ------------------------------------------------------------------------


def test_the_recipients_forms_refuse_a_post_without_the_token_or_from_another_site(sent):
    """The recipient has no account, but their forms are protected as a member's are: the
    CSRF token must match, and a post from another site's page is refused."""
    transfer, link = sent()
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
    client.get(link)  # the landing page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    code_page = page_of(link, "code/")
    assert client.post(code_page, {"action": "send"}).status_code == 403
    elsewhere = client.post(
        code_page,
        {"action": "send", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="https://elsewhere.example",
    )
    assert elsewhere.status_code == 403
    assert fresh(transfer).code_sent_at is None
    own = client.post(
        code_page,
        {"action": "send", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://testserver",
    )
    assert own.status_code == 302
    assert fresh(transfer).code_sent_at is not None
