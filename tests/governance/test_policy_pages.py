"""The policy's pages: who may open each (403 for a role, 404 for another school or an unseen
draft), errors beside the fields with nothing changed, uploads checked as they arrive,
audited downloads and exports, acknowledging, and a query count that does not grow."""

from __future__ import annotations

import csv
import datetime
import io
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from infoshare.core.models import Role
from infoshare.core.uploads import MAX_UPLOAD_BYTES
from infoshare.governance import policy
from infoshare.governance.models import (
    PolicyAcknowledgement,
    PolicyStatus,
    PolicyVersion,
    ReviewTrigger,
)
from infoshare.governance.policy_urls import urlpatterns as policy_urlpatterns
from tests.conftest import add_membership, make_user
from tests.core.support import changes_of, element_text, last_event
from tests.governance.test_policy_services import (
    PDF,
    TEXT,
    answers,
    approved,
    drafted,
    pdf_upload,
    policy_snapshot,
)

if TYPE_CHECKING:
    from django.http import HttpResponse

pytestmark = pytest.mark.django_db

ROLES = Role.values
ANSWERING = {"dpo", "headteacher", "chair"}  # who answers for the policy
DRAFT_READERS = {"dpo", "headteacher", "chair", "auditor"}


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def url(name: str, version: PolicyVersion | None = None, slug: str = "alder") -> str:
    """The path of the policy page `name` (of `version`, if it has one) in school `slug`."""
    kwargs: dict[str, object] = {"org": slug}
    if version is not None:
        kwargs["version"] = version.uuid
    return reverse(f"policy:{name}", kwargs=kwargs)


def in_force_and_draft(world) -> tuple[PolicyVersion, PolicyVersion]:
    return school_in_force_and_draft(world.school)


def school_in_force_and_draft(school) -> tuple[PolicyVersion, PolicyVersion]:
    """`school`'s version in force (a PDF) and a draft: what every policy URL needs."""
    organisation = school.organisation
    current = policy.current_version(organisation)
    if current is None:
        version = policy.draft_policy_version(
            organisation, actor=school["dpo"], answers=answers(text="", document=pdf_upload())
        )
        current = policy.approve_policy_version(
            version, actor=school["headteacher"], approved_on=timezone.localdate()
        )
    draft = policy.draft_in_making(organisation) or policy.draft_policy_version(
        organisation, actor=school["dpo"], answers=answers()
    )
    return current, draft


def policy_matrix_urls(school) -> list[tuple[str, str, str]]:
    """(name, method, path) of every policy page of `school`, for tests/core/test_tenancy.py
    (another school's member gets 404 on each). Creates a version in force and a draft."""
    current, draft = school_in_force_and_draft(school)
    slug = school.slug
    pages = [
        ("home", "get", url("home", slug=slug)),
        ("versions", "get", url("versions", slug=slug)),
        ("new", "get", url("new", slug=slug)),
        ("new_post", "post", url("new", slug=slug)),
        ("record_trigger", "get", url("record_trigger", slug=slug)),
        ("record_trigger_post", "post", url("record_trigger", slug=slug)),
        ("acknowledgements", "get", url("acknowledgements", slug=slug)),
        ("acknowledgements_csv", "get", url("acknowledgements", slug=slug) + "?format=csv"),
        ("version", "get", url("version", current, slug)),
        ("document", "get", url("document", current, slug)),
        ("acknowledge", "post", url("acknowledge", current, slug)),
        ("draft", "get", url("version", draft, slug)),
        ("edit", "get", url("edit", draft, slug)),
        ("edit_post", "post", url("edit", draft, slug)),
        ("approve", "get", url("approve", draft, slug)),
        ("approve_post", "post", url("approve", draft, slug)),
        ("discard", "get", url("discard", draft, slug)),
        ("discard_post", "post", url("discard", draft, slug)),
    ]
    return [(f"policy_{name}", method, path) for name, method, path in pages]


def policy_urls(world) -> list[str]:
    """Every policy URL of `world.school`. Creates a version in force and a draft."""
    return sorted({path for _, _, path in policy_matrix_urls(world.school)})


def messages_of(response: HttpResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Who may open what ----------------------------------------------------------------


# Who opens each page (200); anyone else gets 403, or 404 where the draft is unseen.
OPENS = {
    "home": set(ROLES),
    "versions": set(ROLES),
    "version": set(ROLES),
    "document": set(ROLES),
    "draft": DRAFT_READERS,
    "edit": {"dpo"},
    "approve": {"headteacher", "chair"},
    "discard": ANSWERING,
    "record_trigger": ANSWERING,
    "acknowledgements": DRAFT_READERS,
}


def expected_status(name: str, role: str) -> int:
    if name == "new":
        return 302 if role == "dpo" else 403  # a draft waits: the DPO is sent to it
    if role in OPENS[name]:
        return 200
    return 404 if name == "draft" else 403


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_what_it_may(world, client_for, role):
    current, draft = in_force_and_draft(world)
    pages = {
        "home": url("home"),
        "versions": url("versions"),
        "version": url("version", current),
        "document": url("document", current),
        "draft": url("version", draft),
        "new": url("new"),
        "edit": url("edit", draft),
        "approve": url("approve", draft),
        "discard": url("discard", draft),
        "record_trigger": url("record_trigger"),
        "acknowledgements": url("acknowledgements"),
    }
    client = client_for(world.school[role])
    statuses = {name: client.get(address).status_code for name, address in pages.items()}
    expected = {name: expected_status(name, role) for name in pages}
    assert statuses == expected


@pytest.mark.parametrize("role", ROLES)
def test_another_schools_member_gets_404_everywhere(world, client_for, role):
    client = client_for(world.other[role])
    for name, method, path in policy_matrix_urls(world.school):
        assert getattr(client, method)(path).status_code == 404, (role, name, path)


def test_policy_urls_cover_every_policy_route(world):
    routes = {str(pattern.pattern) for pattern in policy_urlpatterns}
    covered = {
        resolve(urlsplit(path).path).route.split("policy/", 1)[1] for path in policy_urls(world)
    }
    assert covered == routes


def test_another_schools_version_is_404_in_this_schools_address(world, client_for):
    theirs = approved(world, school=world.other)
    client = client_for(world.trust_dpo)  # a member of both schools
    assert client.get(url("version", theirs)).status_code == 404
    assert client.get(url("version", theirs, slug="birch")).status_code == 200


def test_the_drafter_who_is_also_headteacher_may_not_approve_it(world, client_for):
    head = world.school["headteacher"]
    head.memberships.get(organisation=world.school.organisation).set_roles(
        [Role.HEADTEACHER, Role.DPO]
    )
    version = drafted(world, by=head)
    client = client_for(head)
    assert client.get(url("approve", version)).status_code == 403
    assert client.post(url("approve", version), {"approved_on": "1/1/2026"}).status_code == 403
    assert PolicyVersion.objects.get(pk=version.pk).status == PolicyStatus.DRAFT


# --- The policy's home -----------------------------------------------------------------------


def test_home_without_a_policy_says_so_and_offers_the_dpo_a_draft(world, client_for):
    page = client_for(world.school["dpo"]).get(url("home")).content.decode()
    assert "No version of the policy has been approved here yet" in page
    assert url("new") in page
    staff_page = client_for(world.school["staff"]).get(url("home")).content.decode()
    assert url("new") not in staff_page
    assert url("acknowledgements") not in staff_page


def test_home_shows_the_version_in_force_its_review_and_the_button(world, client_for):
    on = timezone.localdate() - datetime.timedelta(days=10)
    version = approved(world, on=on)
    page = client_for(world.school["staff"]).get(url("home")).content.decode()
    assert f"By Headteacher of Alder Primary School on {on:%-d %B %Y}" in page
    due = policy.annual_review_on(on)
    assert f"The next review is due on {due:%-d %B %Y}" in page
    assert TEXT.split("\n")[1] in page
    assert "I have read and understood it" in page
    assert url("acknowledge", version) in page


def test_acknowledging_from_home_then_again(world, client_for):
    version = approved(world)
    client = client_for(world.school["staff"])
    response = client.post(url("acknowledge", version))
    assert response.status_code == 302
    assert messages_of(response) == ["Thank you. You acknowledged version 1."]
    page = client.get(url("home")).content.decode()
    assert "You acknowledged version 1 on" in page
    assert "I have read and understood it" not in page
    before = policy_snapshot()
    again = client.post(url("acknowledge", version))
    assert again.status_code == 302
    today = timezone.localdate()
    assert messages_of(again) == [f"You acknowledged version 1 already, on {today:%-d %B %Y}."]
    assert policy_snapshot() == before


def test_acknowledging_a_replaced_version_says_so(world, client_for):
    first = approved(world)
    approved(world)
    client = client_for(world.school["staff"])
    response = client.post(url("acknowledge", first))
    assert messages_of(response) == [
        "Version 1 has been replaced. Read and acknowledge the version in force."
    ]
    assert not PolicyAcknowledgement.objects.exists()


@pytest.mark.parametrize("role", ["dpo", "auditor"])
def test_those_who_oversee_have_no_button_and_may_not_acknowledge(world, client_for, role):
    version = approved(world)
    client = client_for(world.school[role])
    assert "I have read and understood it" not in client.get(url("home")).content.decode()
    assert client.post(url("acknowledge", version)).status_code == 403
    assert client.get(url("acknowledge", version)).status_code in {403, 405}


def test_home_shows_open_triggers_and_the_review_due_now(world, client_for):
    approved(world)
    policy.record_review_trigger(
        world.school.organisation,
        actor=world.school["chair"],
        answers=policy.TriggerAnswers(
            kind="new_threats",
            description="A phishing campaign aimed at school office staff.",
            occurred_on=timezone.localdate(),
        ),
    )
    page = client_for(world.school["dpo"]).get(url("home")).content.decode()
    assert "An early review is due now" in page
    assert "The identification of new threats or vulnerabilities" in page
    assert "A phishing campaign aimed at school office staff." in page


# --- Drafting, approving, discarding through the pages --------------------------------


def test_the_dpo_drafts_a_version_through_the_page(world, client_for, mailoutbox):
    client = client_for(world.school["dpo"])
    assert client.get(url("new")).status_code == 200
    response = client.post(
        url("new"),
        {"title": "Information sharing policy", "text": TEXT, "summary_of_changes": "First."},
    )
    version = PolicyVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url()
    assert version.text == TEXT
    assert last_event("policy.drafted").actor == world.school["dpo"]


def test_errors_show_beside_the_fields_and_nothing_is_saved(world, client_for):
    client = client_for(world.school["dpo"])
    before = policy_snapshot()
    response = client.post(url("new"), {"title": "", "text": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert element_text(page, "id_title_error") == "Error: Enter the policy's title"
    assert element_text(page, "id_text_error") == (
        "Error: Type the policy's text, or upload it as a PDF"
    )
    assert policy_snapshot() == before


def test_a_pdf_is_uploaded_through_the_page_and_downloaded_with_an_audit_event(world, client_for):
    dpo = client_for(world.school["dpo"])
    dpo.post(
        url("new"), {"title": "Information sharing policy", "text": "", "document": pdf_upload()}
    )
    version = PolicyVersion.objects.get()
    policy.approve_policy_version(
        version, actor=world.school["chair"], approved_on=timezone.localdate()
    )
    staff = client_for(world.school["staff"])
    response = staff.get(url("document", version))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert 'filename="alder-policy-v1.pdf"' in response["Content-Disposition"]
    event = last_event("policy.document_downloaded")
    assert (event.actor, event.object_id) == (world.school["staff"], str(version.uuid))


def test_a_text_version_has_no_document_to_download(world, client_for):
    version = approved(world)
    client = client_for(world.school["staff"])  # signing in is an audit event
    before = policy_snapshot()
    assert client.get(url("document", version)).status_code == 404
    assert policy_snapshot() == before


def test_a_draft_pdf_is_not_downloaded_by_staff(world, client_for):
    version = drafted(world, text="", document=pdf_upload())
    assert client_for(world.school["staff"]).get(url("document", version)).status_code == 404
    assert client_for(world.school["headteacher"]).get(url("document", version)).status_code == 200


def test_a_file_that_is_not_a_pdf_is_refused_beside_the_field(world, client_for):
    client = client_for(world.school["dpo"])
    fake = pdf_upload(b"MZ\x90\x00 not a pdf", name="policy.pdf")
    before = policy_snapshot()
    response = client.post(url("new"), {"title": "Policy", "text": "", "document": fake})
    assert response.status_code == 200
    assert element_text(response.content.decode(), "id_document_error") == (
        "Error: The file must be a PDF."
    )
    assert policy_snapshot() == before


def test_a_pdf_past_the_limit_is_stopped_as_it_arrives(world, client_for):
    client = client_for(world.school["dpo"])
    huge = pdf_upload(PDF + b"0" * MAX_UPLOAD_BYTES)
    before = policy_snapshot()
    response = client.post(url("new"), {"title": "Policy", "text": "", "document": huge})
    assert response.status_code == 200
    assert element_text(response.content.decode(), "id_document_error") == (
        "Error: The file must be smaller than 10 MB."
    )
    assert policy_snapshot() == before


def test_the_upload_page_still_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(
        world.school["dpo"], backend="allauth.account.auth_backends.AuthenticationBackend"
    )
    response = client.post(url("new"), {"title": "Policy", "text": TEXT})
    assert response.status_code == 403
    assert not PolicyVersion.objects.exists()


def test_the_drafter_changes_the_draft(world, client_for):
    version = drafted(world)
    client = client_for(world.school["dpo"])
    response = client.post(
        url("edit", version), {"title": "Our policy", "text": "New words", "summary_of_changes": ""}
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.title, version.text) == ("Our policy", "New words")


def test_an_approved_version_cannot_be_changed_and_the_page_says_why(world, client_for):
    version = approved(world)
    response = client_for(world.school["dpo"]).get(url("edit", version))
    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url()
    assert messages_of(response) == ["That cannot be done now: Version 1 is \u201cin force\u201d."]


def test_the_headteacher_approves_with_the_date(world, client_for, mailoutbox):
    version = drafted(world)
    client = client_for(world.school["headteacher"])
    page = client.get(url("approve", version)).content.decode()
    assert TEXT.split("\n")[1] in page
    response = client.post(url("approve", version), {"approved_on": "3/11/2026"})
    assert response.status_code == 302
    assert response["Location"] == url("home")
    version.refresh_from_db()
    assert (version.status, version.approved_on) == (
        PolicyStatus.APPROVED,
        datetime.date(2026, 11, 3),
    )
    assert changes_of(last_event("policy.approved"))["approved_on"] == "2026-11-03"


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ("", "Enter the date you approved it"),
        ("31/2/2026", "Enter the date you approved it as a real date, like 27/3/2015"),
        ("1/1/2099", "The date approved must be today or in the past"),
    ],
)
def test_the_approval_date_errors_show_beside_the_field(world, client_for, posted, message):
    version = drafted(world)
    client = client_for(world.school["chair"])
    before = policy_snapshot()
    response = client.post(url("approve", version), {"approved_on": posted})
    assert response.status_code == 200
    page = response.content.decode()
    assert element_text(page, "id_approved_on_error") == f"Error: {message}"
    assert policy_snapshot() == before


def test_a_draft_is_discarded_with_reasons(world, client_for):
    version = drafted(world)
    client = client_for(world.school["chair"])
    response = client.post(url("discard", version), {"reasons": ""})
    assert "Say why this draft is discarded" in response.content.decode()
    response = client.post(url("discard", version), {"reasons": "Section 8 is missing."})
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.status, version.discard_reasons) == (
        PolicyStatus.DISCARDED,
        "Section 8 is missing.",
    )
    page = client.get(url("version", version)).content.decode()
    assert "Section 8 is missing." in page


# --- Triggers -------------------------------------------------------------------------


def test_recording_a_trigger_through_the_page(world, client_for):
    client = client_for(world.school["headteacher"])
    before = policy_snapshot()
    response = client.post(
        url("record_trigger"), {"kind": "", "description": "", "occurred_on": ""}
    )
    page = response.content.decode()
    for message in ("Choose what happened", "Describe what happened", "Enter the date it happened"):
        assert message in page
    assert policy_snapshot() == before
    response = client.post(
        url("record_trigger"),
        {
            "kind": "restructuring",
            "description": "The school joins the trust's shared office.",
            "occurred_on": timezone.localdate().strftime("%d/%m/%Y"),
        },
    )
    assert response.status_code == 302
    assert ReviewTrigger.objects.get().kind == "restructuring"


# --- Acknowledgements -----------------------------------------------------------------


def test_the_dpo_sees_who_has_not_acknowledged(world, client_for):
    version = approved(world)
    for role in ("staff", "dsl"):
        policy.acknowledge_policy(version, actor=world.school[role])
    client = client_for(world.trust_dpo)
    page = client.get(url("acknowledgements")).content.decode()
    assert "2 of 7 people who work in the school have acknowledged version 1" in page
    assert "5 have not yet." in page
    assert "Staff of Alder Primary School" in page
    not_yet = client.get(url("acknowledgements") + "?show=not-yet").content.decode()
    assert "Staff of Alder Primary School" not in not_yet
    assert "Volunteer of Alder Primary School" in not_yet
    assert "Data protection officer of Alder" not in page  # the DPO does not acknowledge


def test_the_acknowledgements_export_is_audited(world, client_for):
    version = approved(world)
    policy.acknowledge_policy(version, actor=world.school["staff"])
    response = client_for(world.school["headteacher"]).get(
        url("acknowledgements") + "?show=not-yet&format=csv"
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Name", "Email", "Acknowledged on"]
    assert len(rows) == 1 + 6
    assert all(row[2] == "" for row in rows[1:])
    event = last_event("policy.acknowledgements_exported")
    assert changes_of(event) == {"rows": 6, "not_yet_only": True}


def test_the_acknowledgements_page_without_a_version(world, client_for):
    page = client_for(world.school["auditor"]).get(url("acknowledgements")).content.decode()
    assert "No version is in force yet" in page


@pytest.mark.parametrize("extra", [0, 12])
def test_the_acknowledgements_page_costs_the_same_whatever_the_number_of_people(
    world, client_for, extra, django_assert_num_queries
):
    version = approved(world)
    for number in range(extra):
        person = make_user(f"teacher{number}@alder.test", f"Teacher {number}")
        add_membership(person, world.school.organisation, Role.STAFF)
        if number % 2:
            policy.acknowledge_policy(version, actor=person)
    client = client_for(world.school["dpo"])
    # The session, the user and their second factor, the membership with its roles, the
    # navigation's questions; the version, the acknowledgements, the members with their
    # roles; the session saved.
    with django_assert_num_queries(14):
        response = client.get(url("acknowledgements"))
    assert response.status_code == 200


@pytest.mark.parametrize("extra", [0, 6])
def test_the_versions_list_costs_the_same_whatever_the_number_of_versions(
    world, client_for, extra, django_assert_num_queries
):
    for _ in range(extra + 1):
        approved(world)
    client = client_for(world.school["staff"])
    with django_assert_num_queries(10):
        assert client.get(url("versions")).status_code == 200
