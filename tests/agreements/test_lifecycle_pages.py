"""The pages of an agreement in force: signatures, the signed copy, review, termination, the data.

Each step is taken as people take it, through the page: the allowed role
changes the agreement (with its audit event) and goes back to the agreement;
a role that may never take the step gets 403; a step out of order goes back
to the agreement with a message and changes nothing; another school's
agreement does not exist (404); bad answers come back beside their fields,
with everything typed kept and nothing changed.
"""

from __future__ import annotations

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from infoshare.agreements import lifecycle, services
from infoshare.agreements.models import (
    Agreement,
    AgreementReview,
    DataFate,
    Party,
    PartyRole,
    Status,
    add_months,
)
from infoshare.audit.models import AuditEvent
from infoshare.core.models import Organisation, OrganisationKind
from infoshare.core.uploads import MAX_UPLOAD_BYTES, too_large_uploads, uploads_limited
from tests.agreements import drafts
from tests.core.support import changes_of, last_event

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
KEEPERS = ["dpo", "information_manager", "headteacher", "chair"]
NOT_KEEPERS = ["staff", "auditor", "volunteer", "dsl"]


# --- helpers ----------------------------------------------------------------------------


def url(name: str, agreement: Agreement, **kwargs: Any) -> str:
    return reverse(
        f"agreements:{name}",
        kwargs={"org": agreement.organisation.slug, "reference": agreement.reference, **kwargs},
    )


def detail(agreement: Agreement) -> str:
    return url("detail", agreement)


def at_own_address(world: Any, name: str, theirs: Agreement, **kwargs: Any) -> str:
    """Another school's agreement at an address of Alder's: it must not exist there.

    References are numbered per school, so Alder must have no agreement of the same one.
    """
    mine = Agreement.objects.filter(organisation=world.school.organisation)
    assert not mine.filter(reference=theirs.reference).exists()
    return reverse(
        f"agreements:{name}",
        kwargs={"org": world.school.slug, "reference": theirs.reference, **kwargs},
    )


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def text_of(html: str) -> str:
    """The page's words, tags and extra spaces removed, entities as typed."""
    words = re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").replace("&quot;", '"')
    return " ".join(words.split())


def error_beside(html: str, field: str) -> str:
    """The error message shown beside `field` (GOV.UK: <p id="id_<field>_error">)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return text_of(match.group(1)).replace("Error: ", "")


def section(html: str, element_id: str) -> str:
    """The words from the element with `element_id` to the next heading of its level or above."""
    match = re.search(rf'id="{element_id}".*?(?=<h2|</main>)', html, re.S)
    assert match, f"no #{element_id} on the page"
    return text_of(match.group(0))


def is_checked(html: str, name: str, value: str) -> bool:
    pattern = rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*\bchecked'
    return re.search(pattern, html) is not None


def agreement_events() -> int:
    """The agreements' audit events (signing in the test's client is an event too)."""
    return AuditEvent.objects.filter(verb__startswith="agreement.").count()


def assert_unchanged(agreement: Agreement, events_before: int) -> None:
    fresh = Agreement.objects.get(pk=agreement.pk)
    assert fresh.status == agreement.status
    assert fresh.version == agreement.version
    assert fresh.updated_at == agreement.updated_at
    assert agreement_events() == events_before


def assert_sent_back(response: Any, agreement: Agreement) -> None:
    """Out of order: back to the agreement, told what stands in the way."""
    assert response.status_code == 302
    assert response["Location"] == detail(agreement)
    assert "cannot be taken now" in messages_of(response)[-1]


def stored_files(settings: Any) -> list[str]:
    """Every file kept in the uploads folder (the tests' own: tests/agreements/conftest.py)."""
    root = settings.MEDIA_ROOT
    return [str(path) for path in root.rglob("*") if path.is_file()] if root.exists() else []


def day(value: datetime.date) -> str:
    """A date as pages show it, and as forms take it."""
    return f"{value:%-d %B %Y}"


def typed(value: datetime.date) -> str:
    return f"{value:%d/%m/%Y}"


def at_noon(value: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(value, datetime.time(12), tzinfo=LONDON)


def approved(world: Any, **changes: Any) -> Agreement:
    """Alder's agreement with the local authority, drafted by staff, approved by the head."""
    school = world.school
    return drafts.approved(
        school.organisation,
        school["staff"],
        school["dpo"],
        school["headteacher"],
        world.local_authority,
        **changes,
    )


def of_other_school(world: Any) -> Agreement:
    other = world.other
    return drafts.approved(
        other.organisation,
        other["staff"],
        other["dpo"],
        other["headteacher"],
        world.local_authority,
    )


def draft(world: Any) -> Agreement:
    return drafts.drafted(world.school.organisation, world.school["staff"], world.local_authority)


def under_review(world: Any) -> Agreement:
    return drafts.under_review(approved(world), world.school["information_manager"])


def terminated(world: Any) -> Agreement:
    agreement = drafts.terminated(approved(world), world.school["headteacher"])
    agreement.refresh_from_db()
    return agreement


def other_party(agreement: Agreement) -> Party:
    return agreement.parties.exclude(organisation=agreement.organisation).get()


def review_form(**changes: str) -> dict[str, str]:
    """The review page's answers: drafts.review(), as posted, with some changed."""
    posted = {
        "scope_still_relevant": "yes",
        "scope_notes": "The team still uses the figures weekly.",
        "benefits_realised": "yes",
        "benefits_notes": "Attendance support reached 14 pupils this year.",
        "elements_complied": "yes",
        "compliance_notes": "",
        "law_or_practice_changed": "no",
        "law_notes": "",
        "outcome": "continue",
        "outcome_reasons": "",
        "next_interval_months": "12",
        "next_interval_justification": "",
    }
    return {**posted, **changes}


def termination_form(agreement: Agreement, **changes: str) -> dict[str, str]:
    """Every party's agreement given today, with reasons and the disposal arrangement."""
    posted = {
        "reasons": "The council's inclusion team has closed.",
        "disposal_arrangement": "The council deletes every record and sends a certificate.",
    }
    for party in agreement.parties.select_related("organisation"):
        posted[f"party_{party.uuid}"] = f"Signatory of {party.organisation}"
        posted[f"party_{party.uuid}_on"] = typed(timezone.localdate())
    return {**posted, **changes}


def amended_and_approved(world: Any) -> Agreement:
    """Signed, reviewed with "amend", its purpose changed, and version 2 approved by the chair."""
    school = world.school
    keeper = school["information_manager"]
    agreement = drafts.under_review(drafts.signed(approved(world), keeper), keeper)
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="The portal is being replaced."),
    )
    agreement.refresh_from_db()
    services.update_content(
        agreement,
        actor=keeper,
        content=drafts.content(method="Sent through the council's new data exchange."),
    )
    services.request_advice(agreement, actor=keeper)
    services.advise_on_agreement(agreement, actor=school["dpo"], advice="Fine as amended.")
    return services.approve_agreement(agreement, actor=school["chair"])


# --- Signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [*KEEPERS, "staff"])
def test_those_who_keep_the_register_or_the_drafter_record_a_signature(world, client_for, role):
    agreement = approved(world)
    party = other_party(agreement)
    client = client_for(world.school[role])
    page = text_of(client.get(url("signature", agreement, party=party.uuid)).content.decode())
    assert "Who signed for Eastmoor Council?" in page
    signed_on = timezone.localdate() - datetime.timedelta(days=2)
    response = client.post(
        url("signature", agreement, party=party.uuid),
        {
            "signatory_name": "Priya Shah",
            "signatory_role": "Director of Children's Services",
            "signed_on": typed(signed_on),
        },
    )
    party.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail(agreement) + "#signatures"
    assert (party.signatory_name, party.signatory_role, party.signed_on) == (
        "Priya Shah",
        "Director of Children's Services",
        signed_on,
    )
    event = last_event("agreement.signature_recorded")
    assert event.actor == world.school[role]
    assert changes_of(event) == {"party": "Eastmoor Council", "signed_on": signed_on.isoformat()}
    assert messages_of(response) == [
        f"Signature recorded: Priya Shah signed for Eastmoor Council on {day(signed_on)}."
    ]


def test_a_signature_already_recorded_comes_back_to_be_corrected(world, client_for):
    agreement = drafts.signed(approved(world), world.school["dpo"])
    party = other_party(agreement)
    html = (
        client_for(world.school["dpo"])
        .get(url("signature", agreement, party=party.uuid))
        .content.decode()
    )
    assert 'value="Signatory of Eastmoor Council"' in html
    assert f'value="{typed(timezone.localdate())}"' in html


@pytest.mark.parametrize("role", ["auditor", "volunteer", "dsl"])
def test_others_do_not_record_signatures(world, client_for, role):
    agreement = approved(world)
    party = other_party(agreement)
    events = agreement_events()
    client = client_for(world.school[role])
    path = url("signature", agreement, party=party.uuid)
    assert client.get(path).status_code == 403
    data = {"signatory_name": "A", "signatory_role": "B", "signed_on": typed(timezone.localdate())}
    assert client.post(path, data).status_code == 403
    assert_unchanged(agreement, events)
    assert Party.objects.get(pk=party.pk).signed_on is None


def test_a_party_of_another_agreement_is_not_found(world, client_for):
    mine, another = approved(world), approved(world)
    path = url("signature", mine, party=other_party(another).uuid)
    assert client_for(world.school["dpo"]).get(path).status_code == 404


def test_another_schools_agreement_has_no_signature_page(world, client_for):
    theirs = of_other_school(world)
    party = other_party(theirs)
    own_address = at_own_address(world, "signature", theirs, party=party.uuid)
    # The trust's DPO serves both schools, but each agreement only under its own school.
    assert client_for(world.trust_dpo).get(own_address).status_code == 404
    # Alder's DPO cannot reach Birch's address at all.
    path = url("signature", theirs, party=party.uuid)
    assert client_for(world.school["dpo"]).get(path).status_code == 404


def test_a_draft_is_not_signed_yet(world, client_for):
    agreement = draft(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(
        url("signature", agreement, party=other_party(agreement).uuid),
        {"signatory_name": "A", "signatory_role": "B", "signed_on": typed(timezone.localdate())},
    )
    assert_sent_back(response, agreement)
    assert "Draft" in messages_of(response)[-1]
    assert_unchanged(agreement, events)


def test_a_signing_date_in_the_future_is_refused_and_the_rest_kept(world, client_for):
    agreement = approved(world)
    party = other_party(agreement)
    events = agreement_events()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(world.school["dpo"]).post(
        url("signature", agreement, party=party.uuid),
        {
            "signatory_name": "Priya Shah",
            "signatory_role": "Director",
            "signed_on": typed(tomorrow),
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert error_beside(html, "signed_on") == "The date signed must be today or in the past."
    assert 'value="Priya Shah"' in html
    assert_unchanged(agreement, events)
    assert Party.objects.get(pk=party.pk).signed_on is None


def test_a_signature_needs_a_name_a_role_and_a_real_date(world, client_for):
    agreement = approved(world)
    party = other_party(agreement)
    client = client_for(world.school["dpo"])
    path = url("signature", agreement, party=party.uuid)
    html = client.post(path, {"signatory_name": " ", "signed_on": ""}).content.decode()
    assert error_beside(html, "signatory_name") == "Give the name of the person who signed."
    assert error_beside(html, "signatory_role") == "Give their role, like 'Headteacher'."
    assert error_beside(html, "signed_on") == "Give the date they signed."
    html = client.post(
        path, {"signatory_name": "Priya Shah", "signatory_role": "Director", "signed_on": "31/02"}
    ).content.decode()
    assert "Enter the date signed as a real date" in error_beside(html, "signed_on")
    assert Party.objects.get(pk=party.pk).signed_on is None


# --- The signed copy ---------------------------------------------------------------------


def test_the_upload_page_asks_for_a_pdf(world, client_for):
    agreement = approved(world)
    html = client_for(world.school["staff"]).get(url("upload_signed_copy", agreement)).content
    page = html.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'accept=".pdf"' in page
    assert "PDF, up to 10 MB." in text_of(page)
    assert "Eastmoor Council: not signed yet" in text_of(page)


@pytest.mark.parametrize("role", ["information_manager", "staff"])
def test_the_signed_copy_is_uploaded(world, client_for, role, settings):
    agreement = approved(world)
    response = client_for(world.school[role]).post(
        url("upload_signed_copy", agreement), {"signed_copy": drafts.pdf_upload("Scan 03.pdf")}
    )
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail(agreement) + "#signed-copy"
    assert agreement.signed_copy_uploaded_by == world.school[role]
    with agreement.signed_copy.open("rb") as stored:
        assert stored.read() == drafts.PDF
    # The uploaded name is never kept: the file is named at random.
    assert "Scan" not in agreement.signed_copy.name
    event = last_event("agreement.signed_copy_uploaded")
    assert event.actor == world.school[role]
    assert changes_of(event) == {"version": 1, "bytes": len(drafts.PDF)}
    assert messages_of(response) == ["The signed copy of version 1 is uploaded."]
    assert len(stored_files(settings)) == 1


def test_a_text_file_named_pdf_is_refused(world, client_for, settings):
    agreement = approved(world)
    events = agreement_events()
    fake = drafts.pdf_upload("signed.pdf", b"Signed by everyone, honestly.\n")
    response = client_for(world.school["dpo"]).post(
        url("upload_signed_copy", agreement), {"signed_copy": fake}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert error_beside(html, "signed_copy") == "The file must be a PDF."
    assert_unchanged(agreement, events)
    assert not Agreement.objects.get(pk=agreement.pk).signed_copy
    assert stored_files(settings) == []


def test_a_file_over_the_limit_is_refused_before_it_is_stored(world, client_for, settings):
    agreement = approved(world)
    events = agreement_events()
    huge = drafts.pdf_upload("signed.pdf", drafts.PDF + b"0" * (MAX_UPLOAD_BYTES))
    response = client_for(world.school["dpo"]).post(
        url("upload_signed_copy", agreement), {"signed_copy": huge}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert error_beside(html, "signed_copy") == "The file must be smaller than 10 MB."
    assert_unchanged(agreement, events)
    assert stored_files(settings) == []


def test_a_file_just_within_the_limit_is_taken(world, client_for):
    agreement = approved(world)
    content = drafts.PDF + b"%" * (MAX_UPLOAD_BYTES - len(drafts.PDF))
    response = client_for(world.school["dpo"]).post(
        url("upload_signed_copy", agreement), {"signed_copy": drafts.pdf_upload(content=content)}
    )
    assert response.status_code == 302
    assert Agreement.objects.get(pk=agreement.pk).signed_copy.size == MAX_UPLOAD_BYTES


def test_uploading_nothing_says_to_choose_a_file(world, client_for):
    agreement = approved(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(url("upload_signed_copy", agreement), {})
    assert error_beside(response.content.decode(), "signed_copy") == "Choose a PDF file to upload."
    assert_unchanged(agreement, events)


def test_the_upload_is_still_protected_from_forged_requests(world):
    """The page installs its size limit before the CSRF check, then checks the token itself."""
    agreement = approved(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(
        world.school["dpo"], backend="allauth.account.auth_backends.AuthenticationBackend"
    )
    events = agreement_events()
    path = url("upload_signed_copy", agreement)
    response = client.post(path, {"signed_copy": drafts.pdf_upload()})
    assert response.status_code == 403
    assert_unchanged(agreement, events)
    # With the token the page gives, it goes through.
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(path).content.decode()
    )
    assert token
    data = {"signed_copy": drafts.pdf_upload(), "csrfmiddlewaretoken": token.group(1)}
    assert client.post(path, data).status_code == 302


@pytest.mark.parametrize("role", ["auditor", "volunteer"])
def test_others_do_not_upload_the_signed_copy(world, client_for, role, settings):
    agreement = approved(world)
    events = agreement_events()
    client = client_for(world.school[role])
    assert client.get(url("upload_signed_copy", agreement)).status_code == 403
    response = client.post(
        url("upload_signed_copy", agreement), {"signed_copy": drafts.pdf_upload()}
    )
    assert response.status_code == 403
    assert_unchanged(agreement, events)
    assert stored_files(settings) == []


def test_a_draft_has_no_signed_copy_yet(world, client_for):
    agreement = draft(world)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(
        url("upload_signed_copy", agreement), {"signed_copy": drafts.pdf_upload()}
    )
    assert_sent_back(response, agreement)
    assert_unchanged(agreement, events)


def test_another_schools_signed_copy_is_not_uploaded_here(world, client_for, settings):
    theirs = of_other_school(world)
    own_address = at_own_address(world, "upload_signed_copy", theirs)
    client = client_for(world.trust_dpo)
    assert client.get(own_address).status_code == 404
    assert client.post(own_address, {"signed_copy": drafts.pdf_upload()}).status_code == 404
    assert stored_files(settings) == []


# --- Starting the review --------------------------------------------------------------------


@pytest.mark.parametrize("role", KEEPERS)
def test_those_who_keep_the_register_start_the_review(world, client_for, role):
    agreement = approved(world)
    client = client_for(world.school[role])
    page = text_of(client.get(url("start_review", agreement)).content.decode())
    assert "Are the benefits to the data subjects being realised?" in page
    assert f"is due by {day(agreement.review_due)}" in page
    response = client.post(url("start_review", agreement))
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == url("complete_review", agreement)
    assert agreement.status == Status.UNDER_REVIEW
    review = AgreementReview.objects.get(agreement=agreement)
    assert (review.started_by, review.version, review.is_complete) == (
        world.school[role],
        1,
        False,
    )
    event = last_event("agreement.review_started")
    assert event.actor == world.school[role]
    assert changes_of(event) == {"version": 1}


@pytest.mark.parametrize("role", NOT_KEEPERS)
def test_others_do_not_start_a_review(world, client_for, role):
    agreement = approved(world)
    events = agreement_events()
    client = client_for(world.school[role])
    assert client.get(url("start_review", agreement)).status_code == 403
    assert client.post(url("start_review", agreement)).status_code == 403
    assert_unchanged(agreement, events)


def test_a_review_already_under_way_is_not_started_again(world, client_for):
    agreement = under_review(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(url("start_review", agreement))
    assert_sent_back(response, agreement)
    assert "Under review" in messages_of(response)[-1]
    assert_unchanged(agreement, events)
    assert AgreementReview.objects.filter(agreement=agreement).count() == 1


def test_another_schools_review_is_not_found(world, client_for):
    theirs = of_other_school(world)
    assert (
        client_for(world.trust_dpo).get(at_own_address(world, "start_review", theirs)).status_code
        == 404
    )
    assert client_for(world.school["dpo"]).post(url("start_review", theirs)).status_code == 404
    assert Agreement.objects.get(pk=theirs.pk).status == Status.APPROVED


# --- Recording the review ----------------------------------------------------------------------


def test_the_review_page_asks_the_policys_questions(world, client_for):
    agreement = under_review(world)
    html = client_for(world.school["dpo"]).get(url("complete_review", agreement)).content.decode()
    page = text_of(html)
    for question in (
        "Are the scope and purpose still relevant, and has the scope not slipped?",
        "Are the benefits to the data subjects being realised?",
        "Has every element of the agreement been checked and complied with?",
        "Have legislation or practice in public sector data sharing changed?",
    ):
        assert question in page
    # Each yes/no question is a group of radios with its question as the legend.
    assert html.count("<legend") == 5  # the four questions and the outcome
    assert html.count('class="govuk-radios"') == 5
    # Each outcome says what follows from it.
    assert "A new version is drafted, goes to the DPO for advice and is approved again." in page
    assert "records every party's agreement to end it" in page
    assert re.search(r'name="next_interval_months"[^>]*value="12"', html)
    assert "started the review of version 1" in page


def test_a_review_that_continues_starts_a_new_period(world, client_for):
    with time_machine.travel(at_noon(datetime.date(2025, 3, 10)), tick=False):
        agreement = approved(world)
    reviewed_on = datetime.date(2026, 2, 20)  # inside the notice period of 10 March 2026
    with time_machine.travel(at_noon(reviewed_on), tick=False):
        keeper = world.school["information_manager"]
        drafts.under_review(agreement, keeper)
        response = client_for(keeper).post(url("complete_review", agreement), review_form())
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail(agreement)
    assert agreement.status == Status.APPROVED
    assert agreement.review_period_starts == reviewed_on
    assert agreement.review_due == datetime.date(2027, 2, 20)
    review = AgreementReview.objects.get(agreement=agreement)
    assert review.completed_by == keeper
    assert (review.scope_still_relevant, review.law_or_practice_changed) == (True, False)
    assert review.benefits_notes == "Attendance support reached 14 pupils this year."
    event = last_event("agreement.reviewed")
    assert event.actor == keeper
    assert changes_of(event) == {"outcome": "continue", "status": "approved"}
    assert (
        messages_of(response)[-1] == "Review recorded. The next review is due by 20 February 2027."
    )


def test_a_longer_interval_needs_its_justification(world, client_for):
    agreement = under_review(world)
    events = agreement_events()
    client = client_for(world.school["dpo"])
    posted = review_form(next_interval_months="18", scope_notes="Checked with the council.")
    html = client.post(url("complete_review", agreement), posted).content.decode()
    assert "needs a justification" in error_beside(html, "next_interval_justification")
    assert "Checked with the council." in html
    assert is_checked(html, "outcome", "continue")
    assert_unchanged(agreement, events)
    assert not AgreementReview.objects.get(agreement=agreement).is_complete

    justified = {**posted, "next_interval_justification": "The council reviews in September."}
    assert client.post(url("complete_review", agreement), justified).status_code == 302
    agreement.refresh_from_db()
    assert agreement.review_interval_months == 18
    assert agreement.review_due == add_months(timezone.localdate(), 18)


def test_unanswered_questions_are_each_pointed_out(world, client_for):
    agreement = under_review(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(
        url("complete_review", agreement), {"scope_notes": "Typed before answering."}
    )
    html = response.content.decode()
    assert "Say whether the scope and purpose" in error_beside(html, "scope_still_relevant")
    assert "benefits to the data subjects" in error_beside(html, "benefits_realised")
    assert "complied with" in error_beside(html, "elements_complied")
    assert "legislation or practice" in error_beside(html, "law_or_practice_changed")
    assert "continue, amend or terminate" in error_beside(html, "outcome")
    assert "Typed before answering." in html
    # The summary links to the first radio of each group.
    assert 'href="#id_scope_still_relevant_0"' in html
    assert_unchanged(agreement, events)


def test_amending_or_terminating_needs_reasons(world, client_for):
    agreement = under_review(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(
        url("complete_review", agreement), review_form(outcome="amend")
    )
    html = response.content.decode()
    assert "Give the reasons for amending or terminating it." in error_beside(
        html, "outcome_reasons"
    )
    assert is_checked(html, "outcome", "amend")
    assert_unchanged(agreement, events)


def test_a_review_that_amends_drafts_version_two(world, client_for):
    agreement = under_review(world)
    keeper = world.school["information_manager"]
    response = client_for(keeper).post(
        url("complete_review", agreement),
        review_form(outcome="amend", outcome_reasons="The portal is being replaced."),
    )
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail(agreement)
    assert (agreement.status, agreement.version, agreement.drafted_by) == (Status.DRAFT, 2, keeper)
    assert changes_of(last_event("agreement.reviewed")) == {"outcome": "amend", "status": "draft"}
    assert messages_of(response)[-1] == (
        "Review recorded. Version 2 is now a draft for you to amend, then send to the DPO for "
        "advice. Version 1 stays in force until it is approved."
    )


def test_a_review_that_terminates_waits_for_the_headteacher_or_chair(world, client_for):
    agreement = under_review(world)
    response = client_for(world.school["dpo"]).post(
        url("complete_review", agreement),
        review_form(outcome="terminate", outcome_reasons="The team has closed."),
    )
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert agreement.status == Status.UNDER_REVIEW
    assert (
        "The headteacher or the chair must now record the termination"
        in (messages_of(response)[-1])
    )
    # The page says whose turn it is, and offers the headteacher the termination.
    html = client_for(world.school["headteacher"]).get(detail(agreement)).content.decode()
    review = section(html, "review")
    assert "decided to terminate the agreement" in review
    assert "must now be recorded by the headteacher or the chair" in review
    assert url("terminate", agreement) in html
    # The termination page starts from the review's reasons.
    terminate_page = client_for(world.school["headteacher"]).get(url("terminate", agreement))
    assert "The team has closed." in terminate_page.content.decode()


@pytest.mark.parametrize("role", NOT_KEEPERS)
def test_others_do_not_record_the_review(world, client_for, role):
    agreement = under_review(world)
    events = agreement_events()
    client = client_for(world.school[role])
    assert client.get(url("complete_review", agreement)).status_code == 403
    assert client.post(url("complete_review", agreement), review_form()).status_code == 403
    assert_unchanged(agreement, events)


def test_no_review_is_recorded_before_it_is_started(world, client_for):
    agreement = approved(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(
        url("complete_review", agreement), review_form()
    )
    assert_sent_back(response, agreement)
    assert "Approved" in messages_of(response)[-1]
    assert_unchanged(agreement, events)


def test_another_schools_review_is_not_recorded_here(world, client_for):
    theirs = drafts.under_review(of_other_school(world), world.other["dpo"])
    own_address = at_own_address(world, "complete_review", theirs)
    assert client_for(world.trust_dpo).post(own_address, review_form()).status_code == 404
    assert Agreement.objects.get(pk=theirs.pk).status == Status.UNDER_REVIEW


# --- The review panel of the agreement's page, around the 12-month boundary ------------------


@pytest.fixture
def approved_on_10_march_2025(world):
    with time_machine.travel(at_noon(datetime.date(2025, 3, 10)), tick=False):
        return approved(world)


@pytest.mark.parametrize(
    ("today", "warning"),
    [
        (datetime.date(2026, 2, 7), None),  # the day before the 30 days' notice
        (datetime.date(2026, 2, 8), "The review is due by 10 March 2026."),
        (datetime.date(2026, 3, 10), "The review is due by 10 March 2026."),
        (datetime.date(2026, 3, 11), "The review is overdue: it was due by 10 March 2026."),
    ],
)
def test_the_agreement_warns_when_its_review_is_due(
    world, client_for, approved_on_10_march_2025, today, warning
):
    agreement = approved_on_10_march_2025
    with time_machine.travel(at_noon(today), tick=False):
        html = client_for(world.school["dpo"]).get(detail(agreement)).content.decode()
    review = section(html, "review")
    assert "Next review due 10 March 2026" in review
    assert "Reviewed every 12 months" in review
    if warning is None:
        assert 'id="review-warning"' not in html
    else:
        assert warning in review
    assert url("start_review", agreement) in html


def test_only_those_who_keep_the_register_are_offered_the_review(world, client_for):
    agreement = approved(world)
    staff_page = client_for(world.school["staff"]).get(detail(agreement)).content.decode()
    assert url("start_review", agreement) not in staff_page
    assert url("terminate", agreement) not in staff_page
    started = drafts.under_review(agreement, world.school["dpo"])
    html = client_for(world.school["chair"]).get(detail(started)).content.decode()
    assert "started the review of version 1" in section(html, "review")
    assert url("complete_review", started) in html


# --- Termination ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["headteacher", "chair"])
def test_the_headteacher_or_chair_terminates_with_every_partys_agreement(
    world, client_for, role, django_capture_on_commit_callbacks
):
    agreement = approved(world)
    client = client_for(world.school[role])
    html = client.get(url("terminate", agreement)).content.decode()
    page = text_of(html)
    assert "Alder Primary School (controller)" in page
    assert "Eastmoor Council (controller)" in page
    # It starts from the agreement's own terms for the data at the end.
    assert "The council deletes the records and confirms in writing." in html
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("terminate", agreement), termination_form(agreement))
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail(agreement) + "#termination"
    assert agreement.status == Status.TERMINATED
    assert agreement.termination_reasons == "The council's inclusion team has closed."
    assert agreement.terminated_by == world.school[role]
    for party in agreement.parties.select_related("organisation"):
        assert party.termination_agreed_by == f"Signatory of {party.organisation}"
        assert party.termination_agreed_on == timezone.localdate()
    event = last_event("agreement.terminated")
    assert event.actor == world.school[role]
    # The information management contact is told.
    told = {address for message in mail.outbox for address in message.to}
    assert world.school["information_manager"].email in told


def test_every_party_must_agree_to_terminate(world, client_for):
    agreement = approved(world)
    events = agreement_events()
    council = other_party(agreement)
    posted = termination_form(agreement, **{f"party_{council.uuid}": ""})
    response = client_for(world.school["headteacher"]).post(url("terminate", agreement), posted)
    html = response.content.decode()
    assert response.status_code == 200
    assert error_beside(html, f"party_{council.uuid}") == (
        "Record who agreed for Eastmoor Council, and when."
    )
    assert f'href="#id_party_{council.uuid}"' in html  # from the error summary
    assert "The council&#x27;s inclusion team has closed." in html
    assert_unchanged(agreement, events)
    assert not Party.objects.filter(agreement=agreement, termination_agreed_on__isnull=False)


def test_a_party_cannot_agree_in_the_future(world, client_for):
    agreement = approved(world)
    events = agreement_events()
    council = other_party(agreement)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    posted = termination_form(agreement, **{f"party_{council.uuid}_on": typed(tomorrow)})
    html = client_for(world.school["chair"]).post(url("terminate", agreement), posted)
    assert error_beside(html.content.decode(), f"party_{council.uuid}") == (
        "The date agreed must be today or in the past."
    )
    assert_unchanged(agreement, events)


def test_termination_needs_reasons_and_the_disposal_arrangement(world, client_for):
    agreement = approved(world)
    events = agreement_events()
    posted = termination_form(agreement, reasons="", disposal_arrangement=" ")
    html = client_for(world.school["chair"]).post(url("terminate", agreement), posted)
    page = html.content.decode()
    assert error_beside(page, "reasons") == "Give the reasons for terminating the agreement."
    assert "returned or securely disposed of" in error_beside(page, "disposal_arrangement")
    assert_unchanged(agreement, events)


@pytest.mark.parametrize("role", ["dpo", "information_manager", "staff", "auditor"])
def test_others_do_not_terminate(world, client_for, role):
    agreement = approved(world)
    events = agreement_events()
    client = client_for(world.school[role])
    assert client.get(url("terminate", agreement)).status_code == 403
    assert client.post(url("terminate", agreement), termination_form(agreement)).status_code == 403
    assert_unchanged(agreement, events)


def test_a_draft_or_a_terminated_agreement_is_not_terminated(world, client_for):
    client = client_for(world.school["headteacher"])
    for agreement in (draft(world), terminated(world)):
        events = agreement_events()
        response = client.post(url("terminate", agreement), termination_form(agreement))
        assert_sent_back(response, agreement)
        assert_unchanged(agreement, events)


def test_another_schools_agreement_is_not_terminated_here(world, client_for):
    theirs = of_other_school(world)
    own_address = at_own_address(world, "terminate", theirs)
    response = client_for(world.school["headteacher"]).post(own_address, termination_form(theirs))
    assert response.status_code == 404
    assert Agreement.objects.get(pk=theirs.pk).status == Status.APPROVED


def test_the_termination_page_reads_the_parties_in_a_fixed_number_of_queries(
    world, client_for, django_assert_max_num_queries
):
    school = world.school
    agreement = drafts.drafted(school.organisation, school["staff"], world.local_authority)
    for number in range(6):
        other = Organisation.objects.create(
            name=f"Partner {number}", slug=f"partner-{number}", kind=OrganisationKind.EXTERNAL
        )
        services.add_party(
            agreement,
            actor=school["staff"],
            answers=services.PartyAnswers(other, PartyRole.CONTROLLER),
        )
    services.request_advice(agreement, actor=school["staff"])
    services.advise_on_agreement(agreement, actor=school["dpo"], advice="Fine.")
    many = services.approve_agreement(agreement, actor=school["headteacher"])
    few = approved(world)
    client = client_for(school["headteacher"])

    def queries(agreement: Agreement) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("terminate", agreement)).status_code == 200
        return len(captured)

    baseline = queries(few)
    with django_assert_max_num_queries(baseline):
        client.get(url("terminate", many))


# --- What happened to the data ---------------------------------------------------------------


@pytest.mark.parametrize("role", KEEPERS)
def test_confirming_what_happened_to_the_data_expires_the_agreement(
    world, client_for, role, settings, django_capture_on_commit_callbacks
):
    agreement = terminated(world)
    client = client_for(world.school[role])
    html = client.get(url("data_fate", agreement)).content.decode()
    assert "The council deletes every record and sends a certificate." in html
    assert 'enctype="multipart/form-data"' in html
    destroyed_on = timezone.localdate() - datetime.timedelta(days=3)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("data_fate", agreement),
            {
                "fate": DataFate.DESTROYED,
                "on": typed(destroyed_on),
                "details": "Certificate 2291 from the council.",
                "evidence": drafts.pdf_upload("certificate.pdf"),
            },
        )
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail(agreement) + "#termination"
    assert agreement.status == Status.EXPIRED
    assert (agreement.data_fate, agreement.data_fate_on) == (DataFate.DESTROYED, destroyed_on)
    assert agreement.data_fate_details == "Certificate 2291 from the council."
    assert agreement.expired_by == world.school[role]
    with agreement.disposal_evidence.open("rb") as stored:
        assert stored.read() == drafts.PDF
    event = last_event("agreement.expired")
    assert event.actor == world.school[role]
    assert changes_of(event) == {"fate": "destroyed", "evidence": True}
    told = {address for message in mail.outbox for address in message.to}
    assert world.school["information_manager"].email in told
    assert "has expired" in messages_of(response)[-1]


def test_the_evidence_is_optional(world, client_for):
    agreement = terminated(world)
    response = client_for(world.school["dpo"]).post(
        url("data_fate", agreement),
        {"fate": DataFate.RETURNED, "on": typed(timezone.localdate()), "details": ""},
    )
    agreement.refresh_from_db()
    assert response.status_code == 302
    assert (agreement.status, agreement.data_fate) == (Status.EXPIRED, DataFate.RETURNED)
    assert not agreement.disposal_evidence
    assert changes_of(last_event("agreement.expired")) == {"fate": "returned", "evidence": False}


def test_evidence_that_is_not_a_pdf_is_refused_and_nothing_changes(world, client_for, settings):
    agreement = terminated(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(
        url("data_fate", agreement),
        {
            "fate": DataFate.RETURNED_AND_DESTROYED,
            "on": typed(timezone.localdate()),
            "details": "Half returned by courier.",
            "evidence": drafts.pdf_upload("certificate.pdf", b"GIF89a not a pdf"),
        },
    )
    html = response.content.decode()
    assert error_beside(html, "evidence") == "The file must be a PDF."
    assert is_checked(html, "fate", DataFate.RETURNED_AND_DESTROYED)
    assert "Half returned by courier." in html
    assert_unchanged(agreement, events)
    assert stored_files(settings) == []


def test_evidence_over_the_limit_is_refused(world, client_for, settings):
    agreement = terminated(world)
    events = agreement_events()
    huge = drafts.pdf_upload("certificate.pdf", drafts.PDF + b"0" * MAX_UPLOAD_BYTES)
    response = client_for(world.school["dpo"]).post(
        url("data_fate", agreement),
        {"fate": DataFate.DESTROYED, "on": typed(timezone.localdate()), "evidence": huge},
    )
    assert error_beside(response.content.decode(), "evidence") == (
        "The file must be smaller than 10 MB."
    )
    assert_unchanged(agreement, events)
    assert stored_files(settings) == []


def test_what_happened_and_when_must_be_said(world, client_for):
    agreement = terminated(world)
    events = agreement_events()
    client = client_for(world.school["dpo"])
    html = client.post(url("data_fate", agreement), {"details": "Typed first."}).content.decode()
    assert error_beside(html, "fate") == "Say whether the data was returned or destroyed."
    assert error_beside(html, "on") == "Give the date the data was returned or destroyed."
    assert "Typed first." in html
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    posted = {"fate": DataFate.RETURNED, "on": typed(tomorrow)}
    html = client.post(url("data_fate", agreement), posted).content.decode()
    assert error_beside(html, "on") == "The date must be today or in the past."
    assert_unchanged(agreement, events)


@pytest.mark.parametrize("role", NOT_KEEPERS)
def test_others_do_not_confirm_what_happened_to_the_data(world, client_for, role):
    agreement = terminated(world)
    events = agreement_events()
    client = client_for(world.school[role])
    assert client.get(url("data_fate", agreement)).status_code == 403
    posted = {"fate": DataFate.RETURNED, "on": typed(timezone.localdate())}
    assert client.post(url("data_fate", agreement), posted).status_code == 403
    assert_unchanged(agreement, events)


def test_the_data_is_confirmed_only_once_terminated(world, client_for):
    agreement = approved(world)
    events = agreement_events()
    posted = {"fate": DataFate.RETURNED, "on": typed(timezone.localdate())}
    response = client_for(world.school["dpo"]).post(url("data_fate", agreement), posted)
    assert_sent_back(response, agreement)
    assert_unchanged(agreement, events)


def test_another_schools_data_is_not_confirmed_here(world, client_for):
    posted = {"fate": DataFate.RETURNED, "on": typed(timezone.localdate())}
    theirs = drafts.terminated(of_other_school(world), world.other["headteacher"])
    own_address = at_own_address(world, "data_fate", theirs)
    assert client_for(world.trust_dpo).post(own_address, posted).status_code == 404
    assert Agreement.objects.get(pk=theirs.pk).status == Status.TERMINATED


# --- The agreement's page: what it shows once in force ---------------------------------------


def test_a_draft_shows_nothing_of_life_in_force(world, client_for):
    agreement = draft(world)
    html = client_for(world.school["staff"]).get(detail(agreement)).content.decode()
    assert 'id="signatures"' not in html
    assert 'id="versions"' not in html


def test_the_signatures_and_signed_copy_of_the_version_in_force(world, client_for):
    agreement = approved(world)
    party = other_party(agreement)
    keeper_page = client_for(world.school["dpo"]).get(detail(agreement)).content.decode()
    signatures = section(keeper_page, "signatures")
    assert "Eastmoor Council (controller) Not signed yet" in signatures
    assert "No signed copy has been uploaded yet." in signatures
    assert url("signature", agreement, party=party.uuid) in keeper_page
    assert url("upload_signed_copy", agreement) in keeper_page
    auditor_page = client_for(world.school["auditor"]).get(detail(agreement)).content.decode()
    assert url("signature", agreement, party=party.uuid) not in auditor_page
    assert url("upload_signed_copy", agreement) not in auditor_page

    drafts.signed(agreement, world.school["dpo"])
    html = client_for(world.school["auditor"]).get(detail(agreement)).content.decode()
    signatures = section(html, "signatures")
    today = day(timezone.localdate())
    assert f"Eastmoor Council (controller) Signatory of Eastmoor Council Headteacher {today}" in (
        signatures
    )
    assert f"Uploaded by {world.school['dpo']} on {today}." in signatures
    assert url("signed_copy", agreement) in html
    versions = section(html, "versions")
    assert f"1 In force {world.school['headteacher']} {today} View version 1" in versions
    assert url("version", agreement, number=1) in html


def test_past_reviews_show_the_answers_and_the_outcome(world, client_for):
    agreement = under_review(world)
    lifecycle.complete_review(
        agreement,
        actor=world.school["dpo"],
        answers=drafts.review(
            law_or_practice_changed=True,
            law_notes="The Data (Use and Access) Act 2025.",
            next_interval_months=6,
        ),
    )
    html = client_for(world.school["volunteer"]).get(detail(agreement)).content.decode()
    reviews = section(html, "past-reviews")
    assert f"Review of version 1, {day(timezone.localdate())}" in reviews
    assert (
        "Have legislation or practice in public sector data sharing changed? Yes "
        "The Data (Use and Access) Act 2025."
    ) in reviews
    assert "Outcome Continue as it is" in reviews
    assert "Next review in 6 months" in reviews
    assert f"Recorded by {world.school['dpo']}" in reviews


def test_an_amendment_in_draft_points_to_the_version_in_force(world, client_for):
    keeper = world.school["information_manager"]
    agreement = drafts.under_review(drafts.signed(approved(world), keeper), keeper)
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="New portal."),
    )
    html = client_for(world.school["staff"]).get(detail(agreement)).content.decode()
    signatures = section(html, "signatures")
    assert "Version 2 is signed once it is approved." in signatures
    assert "Until then version 1 stays in force" in signatures
    assert url("version", agreement, number=1) in html


def test_a_terminated_agreement_shows_its_termination_and_asks_for_the_data(world, client_for):
    agreement = terminated(world)
    keeper_page = client_for(world.school["information_manager"]).get(detail(agreement))
    html = keeper_page.content.decode()
    termination = section(html, "termination")
    assert "Reasons The council's inclusion team has closed." in termination
    assert "Eastmoor Council Signatory of Eastmoor Council" in termination
    assert "Not confirmed yet." in termination
    assert url("data_fate", agreement) in html
    assert 'id="review"' not in html
    staff_page = client_for(world.school["staff"]).get(detail(agreement)).content.decode()
    assert url("data_fate", agreement) not in staff_page


def test_an_expired_agreement_shows_what_happened_to_the_data(world, client_for):
    agreement = drafts.expired(terminated(world), world.school["dpo"])
    html = client_for(world.school["auditor"]).get(detail(agreement)).content.decode()
    termination = section(html, "termination")
    yesterday = day(timezone.localdate() - datetime.timedelta(days=1))
    assert f"The data was Destroyed On {yesterday}" in termination
    assert "Certificate of destruction received from the council." in termination
    assert url("evidence", agreement) in html
    assert url("data_fate", agreement) not in html


# --- Versions ----------------------------------------------------------------------------------


def test_version_two_shows_what_changed_from_version_one(world, client_for):
    agreement = amended_and_approved(world)
    html = client_for(world.school["auditor"]).get(url("version", agreement, number=2))
    page = text_of(html.content.decode())
    assert html.status_code == 200
    assert "Version 2 In force" in page
    assert f"Approved by {world.school['chair']} on {day(timezone.localdate())}." in page
    assert "Why it was amended The portal is being replaced." in page
    changes = section(html.content.decode(), "changes")
    assert (
        "How it is shared Uploaded each week to the local authority's secure portal. "
        "Sent through the council's new data exchange."
    ) in changes
    assert "Purpose" not in changes  # unchanged
    # The content as approved, and version 2 not yet signed.
    assert "How it is shared Sent through the council's new data exchange." in page
    assert "Eastmoor Council Not signed" in page
    assert "No signed copy was uploaded for this version." in page


def test_version_one_keeps_its_signatures_and_signed_copy(world, client_for):
    agreement = amended_and_approved(world)
    response = client_for(world.school["staff"]).get(url("version", agreement, number=1))
    html = response.content.decode()
    page = text_of(html)
    assert "Replaced by a later version" in page
    assert "This is the first version." in page
    assert "How it is shared Uploaded each week to the local authority's secure portal." in page
    today = day(timezone.localdate())
    assert f"Eastmoor Council Signatory of Eastmoor Council Headteacher {today}" in page
    assert url("version_signed_copy", agreement, number=1) in html
    # The agreement's page lists both, the second in force.
    detail_page = client_for(world.school["staff"]).get(detail(agreement)).content.decode()
    versions = section(detail_page, "versions")
    assert "2 In force" in versions
    assert "View version 1" in versions


def test_a_version_that_does_not_exist_is_not_found(world, client_for):
    agreement = approved(world)
    client = client_for(world.school["staff"])
    assert client.get(url("version", agreement, number=1)).status_code == 200
    assert client.get(url("version", agreement, number=2)).status_code == 404
    assert client.get(url("version", draft(world), number=1)).status_code == 404


def test_another_schools_version_is_not_found(world, client_for):
    theirs = of_other_school(world)
    own_address = at_own_address(world, "version", theirs, number=1)
    assert client_for(world.trust_dpo).get(own_address).status_code == 404
    assert client_for(world.school["dpo"]).get(url("version", theirs, number=1)).status_code == 404


# --- The upload limit, as the request arrives ----------------------------------------------


def test_a_file_past_the_limit_is_not_received_whole(rf):
    """The file is dropped while it arrives, and named; the other fields still come through."""
    seen: dict[str, Any] = {}

    @uploads_limited
    def view(request: Any) -> HttpResponse:
        seen.update(
            fields=dict(request.POST.items()),
            files=list(request.FILES),
            too_large=too_large_uploads(request),
        )
        return HttpResponse()

    small = drafts.pdf_upload("small.pdf")
    huge = drafts.pdf_upload("huge.pdf", drafts.PDF + b"0" * MAX_UPLOAD_BYTES)
    request = rf.post("/", {"details": "Kept.", "evidence": small, "signed_copy": huge})
    request._dont_enforce_csrf_checks = True
    view(request)
    assert seen == {
        "fields": {"details": "Kept."},
        "files": ["evidence"],
        "too_large": {"signed_copy"},
    }
