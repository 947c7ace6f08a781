"""The Appendix B form as a PDF (issue 6, item 6): what the child's file receives.

A DSL downloads the form of a record both people have signed; it reads like
the policy's "Internal Information Sharing Form", with each declaration, the
printed name and the date of each signer. Downloading it is an audit event.
A record still awaiting acknowledgement has no form yet. The DSL then notes
when the printed form went on the child's file, and the record shows it.
"""

from __future__ import annotations

import datetime
import html
import io
import re

import pypdf
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from infoshare.audit.models import AuditEvent
from infoshare.core.models import User
from infoshare.safeguarding import services
from infoshare.safeguarding.models import (
    DSL_DECLARATION,
    RECIPIENT_DECLARATION,
    FileKind,
    Part,
    Share,
)
from tests.core.support import last_event
from tests.safeguarding.support import DESCRIPTION, make_pupil, make_share

SCHOOL = "Alder Primary School"
SIGNED_DAYS_AGO = 3


@pytest.fixture
def people(world) -> tuple[User, User]:
    """The DSL and the teacher, with names of their own: a user's default name would
    carry the school's, which the form must print by itself."""
    dsl, teacher = world.school["dsl"], world.school["staff"]
    User.objects.filter(pk=dsl.pk).update(name="Jo Hartley")
    User.objects.filter(pk=teacher.pk).update(name="Sam Reed")
    dsl.refresh_from_db()
    teacher.refresh_from_db()
    return dsl, teacher


def url(name: str, share: Share) -> str:
    return reverse(
        f"safeguarding:{name}",
        kwargs={"org": share.organisation.slug, "reference": share.reference},
    )


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    """`text` without whitespace: lines of the PDF break wherever the cell is full."""
    return "".join(text.split())


def visible_text(response) -> str:
    """What a reader of the page sees: its text without tags, spaces run together."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return " ".join(text.split())


def day(moment) -> str:
    """A date as the school reads it: 22 November 2026, in London."""
    return date_format(timezone.localtime(moment).date())


def test_the_form_reads_like_appendix_b(world, client_for, people):
    dsl, teacher = people
    pupil = make_pupil(world.school.organisation, "Ellis", "Marsh")
    share = make_share(dsl, teacher, pupil=pupil, acknowledged=True)

    response = client_for(dsl).get(url("form_pdf", share))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    assert re.search(rf'filename="?[^"]*{share.reference}[^"]*\.pdf"?', disposition), disposition
    assert response.content.startswith(b"%PDF")
    text = squeezed(pdf_text(response.content))
    for expected in (
        "Internal Information Sharing Form",
        SCHOOL,
        share.reference,
        FileKind.CHILD_PROTECTION.label,
        "CP-0193",
        DESCRIPTION,
    ):
        assert squeezed(expected) in text, expected
    assert squeezed(pupil.full_name) in text or squeezed(pupil.sort_name) in text

    # The two parts of the form, in the policy's order, each signed and dated.
    dsl_part = text.index(squeezed(Part.DSL.label))
    recipient_part = text.index(squeezed(Part.RECIPIENT.label), dsl_part)
    for declaration, signer, (start, end) in (
        (DSL_DECLARATION, Part.DSL, (dsl_part, recipient_part)),
        (RECIPIENT_DECLARATION, Part.RECIPIENT, (recipient_part, len(text))),
    ):
        part = text[start:end]
        signature = share.signature_of(signer)
        assert signature is not None
        assert squeezed(declaration) in part, signer
        assert re.search(rf"Name\(printed\):?{re.escape(squeezed(signature.name))}", part), signer
        assert re.search(rf"Dated:?{re.escape(squeezed(day(signature.signed_at)))}", part), signer
    assert "Jo Hartley" in pdf_text(response.content)
    assert "Sam Reed" in pdf_text(response.content)


def test_downloading_the_form_is_an_audit_event_the_dsl_can_see(world, client_for, people):
    dsl, teacher = people
    share = make_share(dsl, teacher, acknowledged=True)
    deputy = world.school["deputy_dsl"]

    assert client_for(deputy).get(url("form_pdf", share)).status_code == 200

    event = last_event("safeguarding.form_downloaded")
    assert (event.actor, event.object_id) == (deputy, share.reference)
    assert event.organisation == world.school.organisation
    # What it names: the reference only, never the child or what was shared.
    assert event.changes == "{}"
    detail = client_for(dsl).get(url("detail", share)).content.decode()
    assert services.READ_VERBS["safeguarding.form_downloaded"] in detail


def test_a_record_awaiting_acknowledgement_has_no_form_yet(world, client_for, people):
    dsl, teacher = people
    share = make_share(dsl, teacher)

    response = client_for(dsl).get(url("form_pdf", share), follow=True)

    assert response.redirect_chain == [(url("detail", share), 302)]
    assert response["Content-Type"].startswith("text/html")
    assert services.out_of_order_message(share) in response.content.decode()
    assert not AuditEvent.objects.filter(verb="safeguarding.form_downloaded").exists()


def test_the_dsl_records_when_the_form_was_attached_to_the_childs_file(world, client_for, people):
    dsl, teacher = people
    # Signed some days ago, so the date the page gives beside "attached" is not a signature's.
    with time_machine.travel(timezone.now() - datetime.timedelta(days=SIGNED_DAYS_AGO)):
        share = make_share(dsl, teacher, acknowledged=True)
    client = client_for(dsl)
    attached_on = re.compile(
        rf"Attached to the child.s file\D{{0,20}}{date_format(timezone.localdate())}"
    )
    assert not attached_on.search(visible_text(client.get(url("detail", share))))

    response = client.post(url("attached", share), follow=True)

    assert response.redirect_chain == [(url("detail", share), 302)]
    share.refresh_from_db()
    assert share.attached_by == dsl
    assert share.attached_at is not None
    event = last_event("safeguarding.attached_to_file")
    assert (event.actor, event.object_id) == (dsl, share.reference)
    assert attached_on.search(visible_text(response)), visible_text(response)

    # Once is enough: the second time is out of order, and nothing changes.
    attached_at = share.attached_at
    again = client.post(url("attached", share), follow=True)
    assert again.redirect_chain == [(url("detail", share), 302)]
    share.refresh_from_db()
    assert share.attached_at == attached_at
    assert AuditEvent.objects.filter(verb="safeguarding.attached_to_file").count() == 1


def test_a_form_not_yet_signed_by_the_recipient_cannot_be_attached(world, client_for, people):
    dsl, teacher = people
    share = make_share(dsl, teacher)

    response = client_for(dsl).post(url("attached", share), follow=True)

    assert response.redirect_chain == [(url("detail", share), 302)]
    assert services.out_of_order_message(share) in response.content.decode()
    share.refresh_from_db()
    assert share.attached_at is None
    assert not AuditEvent.objects.filter(verb="safeguarding.attached_to_file").exists()


def test_the_form_dates_each_signature_as_in_london(world, client_for, people):
    """Signed at 23:30 on 30 June by the clock of the world (UTC): 1 July at the school."""
    dsl, teacher = people
    late_in_june = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)
    with time_machine.travel(late_in_june):
        share = make_share(dsl, teacher, acknowledged=True)

    text = squeezed(pdf_text(client_for(dsl).get(url("form_pdf", share)).content))

    assert text.count("Dated:1July2026") == 2
    assert "30June" not in text


def test_a_withdrawn_records_form_says_so(world, client_for, people):
    dsl, teacher = people
    share = make_share(dsl, teacher, acknowledged=True)
    services.withdraw_share(share, actor=dsl, reason="Shared with the wrong teacher")

    response = client_for(dsl).get(url("form_pdf", share))

    assert response.status_code == 200
    text = squeezed(pdf_text(response.content))
    assert squeezed(f"Withdrawn on {day(timezone.now())}") in text
    assert squeezed("Shared with the wrong teacher") in text


def test_a_form_whose_record_was_changed_since_signing_says_so(world, client_for, people):
    """Changed behind the application's back: the form does not pass it off as signed."""
    dsl, teacher = people
    share = make_share(dsl, teacher, acknowledged=True)
    Share.objects.filter(pk=share.pk).update(description="Nothing of concern")

    text = squeezed(pdf_text(client_for(dsl).get(url("form_pdf", share)).content))

    assert text.count(squeezed("does not match the record as it stands")) == 2
