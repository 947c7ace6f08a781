"""The drafting pages of an agreement, as people use them: starting one (from an approved
proposal or not), the page everyone reads, the content, parties, the DPA checklist, the
DPO's advice, approval and withdrawal.

Each step is taken through its page: the allowed person changes the agreement
(with its audit event) and goes back to it; a role that may never take the
step gets 403; a step out of order goes back to the agreement with a message
and changes nothing; another school's agreement does not exist (404); bad
answers come back beside their fields, with everything typed kept.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from infoshare.agreements import lifecycle, services
from infoshare.agreements.models import (
    Agreement,
    Article28,
    DpaClause,
    Kind,
    Party,
    PartyRole,
    Status,
)
from infoshare.agreements.services import PartyAnswers
from infoshare.audit.models import AuditEvent
from infoshare.core.models import DataCategory, LawfulBasis, Organisation, OrganisationKind
from infoshare.governance.models import InformationAsset
from infoshare.proposals import services as proposal_services
from infoshare.proposals.models import PiaRequirement, Proposal
from tests.agreements import drafts
from tests.core.support import changes_of, element_text, last_event, links_inside
from tests.proposals import drafts as proposal_drafts

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------


def url(name: str, agreement: Agreement, **kwargs: Any) -> str:
    return reverse(
        f"agreements:{name}",
        kwargs={"org": agreement.organisation.slug, "reference": agreement.reference, **kwargs},
    )


def start_url(slug: str = "alder", proposal: Proposal | None = None) -> str:
    address = reverse("agreements:start", kwargs={"org": slug})
    return f"{address}?proposal={proposal.reference}" if proposal is not None else address


def text(response: Any) -> str:
    return response.content.decode()


def plain(html: str) -> str:
    """The page's words, tags removed and spaces collapsed, entities as typed."""
    words = re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").replace("&quot;", '"')
    return " ".join(words.split())


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def error_beside(html: str, field: str) -> str:
    """The error message shown beside `field` (GOV.UK: <p id="id_<field>_error">)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return plain(match.group(1)).replace("Error: ", "")


def field_value(html: str, name: str) -> str | None:
    """What a text input or textarea named `name` comes back holding."""
    textarea = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    if textarea:
        return plain(textarea.group(1)) or textarea.group(1).strip()
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    if tag is None:
        return None
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def is_checked(html: str, name: str, value: str) -> bool:
    pattern = rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*\bchecked'
    return re.search(pattern, html) is not None


def agreement_events() -> int:
    """The agreements' audit events (signing in the test's client is an event too)."""
    return AuditEvent.objects.filter(verb__startswith="agreement.").count()


def assert_unchanged(agreement: Agreement, events_before: int) -> None:
    fresh = Agreement.objects.get(pk=agreement.pk)
    assert fresh.status == agreement.status
    assert fresh.updated_at == agreement.updated_at
    assert agreement_events() == events_before


def assert_sent_back(response: Any, agreement: Agreement) -> None:
    """Out of order: back to the agreement, told what stands in the way."""
    assert response.status_code == 302
    assert response["Location"] == agreement.get_absolute_url()
    assert messages_of(response)[-1] == services.out_of_order_message(agreement)


def drafted(world: Any, role: str = "staff", **changes: Any) -> Agreement:
    school = world.school
    return drafts.drafted(school.organisation, school[role], world.local_authority, **changes)


def advice_requested(world: Any, role: str = "staff") -> Agreement:
    return services.request_advice(drafted(world, role), actor=world.school[role])


def advised(world: Any, role: str = "staff") -> Agreement:
    school = world.school
    return services.advise_on_agreement(
        advice_requested(world, role), actor=school["dpo"], advice="Name the portal's retention."
    )


def approved(world: Any) -> Agreement:
    return services.approve_agreement(advised(world), actor=world.school["headteacher"])


def bare_draft(world: Any, kind: str = Kind.AGREEMENT, **changes: Any) -> Agreement:
    """A draft with only its title, as the start page leaves it."""
    return services.create_agreement(
        world.school.organisation,
        actor=world.school["staff"],
        kind=kind,
        content=services.Content(title="Catering system supplier", **changes),
    )


def dpa_without_checklist(world: Any) -> Agreement:
    """A DPA advised on before any Article 28(3) point was settled."""
    school = world.school
    supplier = Organisation.objects.create(
        name="Meals Online Ltd",
        slug="meals-online",
        kind=OrganisationKind.EXTERNAL,
        external_kind="supplier",
    )
    agreement = services.create_agreement(
        school.organisation,
        actor=school["staff"],
        kind=Kind.DPA,
        content=drafts.content(title="Catering system"),
        parties=[PartyAnswers(supplier, PartyRole.PROCESSOR)],
    )
    services.request_advice(agreement, actor=school["staff"])
    return services.advise_on_agreement(agreement, actor=school["dpo"], advice="Fine as it is.")


def approved_proposal(world: Any, people: Any = None) -> Proposal:
    school = people or world.school
    proposal = proposal_drafts.assessed(
        school.organisation, school["staff"], school["dpo"], world.dfe, PiaRequirement.NOT_REQUIRED
    )
    return proposal_services.decide_proposal(
        proposal, actor=school["headteacher"], decision=proposal_drafts.decision()
    )


def content_data(agreement: Agreement, **changes: Any) -> dict[str, Any]:
    """The content page's answers for `agreement`, as posted, with some changed."""
    data: dict[str, Any] = {
        "title": agreement.title,
        "purpose": "To let the inclusion team support pupils whose attendance falls.",
        "lawful_bases": [LawfulBasis.objects.get(code="public-task").pk],
        "legal_basis_details": "Education Act 1996, section 437.",
        "data_shared": "Names, UPNs and weekly attendance figures.",
        "categories": [DataCategory.objects.get(code="education").pk],
        "method": "Uploaded each week to the council's secure portal.",
        "frequency": "Weekly",
        "security_measures": "TLS and two-factor sign-in.",
        "retention": "Until the pupil leaves, then one year.",
        "return_or_disposal": "The council deletes the records and confirms in writing.",
        "start_date": "1/9/2026",
        "review_interval_months": "12",
        "review_interval_justification": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def checklist_data(**changes: str) -> dict[str, str]:
    """Every Article 28(3) point present at a clause, with some answers changed."""
    data: dict[str, str] = {}
    for number, point in enumerate(Article28.values, start=1):
        data[f"present_{point}"] = "yes"
        data[f"clause_{point}"] = f"Schedule 2, clause {number}"
        data[f"justification_{point}"] = ""
    data.update(changes)
    return data


def next_step_links(html: str) -> dict[str, str]:
    """The buttons and links of the "What happens next" panel, by their text."""
    return {link["text"]: link["href"] for link in links_inside(html, "div", "id", "next") or []}


# --- Starting an agreement ---------------------------------------------------------------


def test_a_member_starts_an_agreement_and_lands_on_its_page(world, client_for):
    client = client_for(world.school["staff"])
    response = client.post(start_url(), {"kind": "agreement", "title": "Attendance for the LA"})
    agreement = Agreement.objects.get(title="Attendance for the LA")
    assert response.status_code == 302
    assert response["Location"] == agreement.get_absolute_url()
    assert agreement.organisation == world.school.organisation
    assert agreement.kind == Kind.AGREEMENT
    assert agreement.status == Status.DRAFT
    assert agreement.drafted_by == world.school["staff"]
    # The school is always a party, as controller.
    assert [(p.organisation, p.role) for p in agreement.parties.all()] == [
        (world.school.organisation, PartyRole.CONTROLLER)
    ]
    event = last_event("agreement.created")
    assert event.actor == world.school["staff"]
    assert changes_of(event) == {"kind": "agreement", "title": "Attendance for the LA"}
    assert f"{agreement.reference} started as a draft" in messages_of(response)[-1]


def test_the_start_page_explains_each_tier_in_plain_words(world, client_for):
    html = text(client_for(world.school["staff"]).get(start_url()))
    page = plain(html)
    assert "What kind of agreement is it?" in page
    for label in (
        "Information sharing protocol",
        "Information sharing agreement",
        "Information sharing procedures",
        "Data processing agreement",
    ):
        assert label in page
    assert "The top tier." in page
    assert "The middle tier, and the most common." in page
    assert "They belong to an agreement." in page
    assert "processes personal data on the school's behalf" in page
    # The documents an agreement or procedures sit under show under their option, always
    # (GOV.UK's reveal would put aria-expanded on the radio, which ARIA does not allow).
    assert 'id="id_kind_1_reveals"' in html
    assert "data-aria-controls" not in html
    assert "govuk-radios__conditional--hidden" not in html
    assert 'id="id_protocol"' in html
    assert 'id="id_parent_agreement"' in html


def test_a_dpa_starts_with_its_eight_checklist_points_unsettled(world, client_for):
    client = client_for(world.school["staff"])
    client.post(start_url(), {"kind": "dpa", "title": "Catering system"})
    agreement = Agreement.objects.get(title="Catering system")
    assert agreement.reference.startswith("DPA-")
    assert sorted(agreement.clauses.values_list("point", flat=True)) == list(Article28.values)
    assert not any(clause.is_settled for clause in agreement.clauses.all())


def test_procedures_need_the_agreement_they_belong_to(world, client_for):
    client = client_for(world.school["staff"])
    before = Agreement.objects.count()
    response = client.post(start_url(), {"kind": "procedures", "title": "Weekly upload steps"})
    html = text(response)
    assert response.status_code == 200
    assert error_beside(html, "parent_agreement") == (
        "Choose the agreement these procedures belong to."
    )
    assert Agreement.objects.count() == before
    # What was typed comes back.
    assert field_value(html, "title") == "Weekly upload steps"
    assert is_checked(html, "kind", "procedures")


def test_procedures_start_under_the_agreement_chosen(world, client_for):
    parent = drafted(world)
    client = client_for(world.school["staff"])
    client.post(
        start_url(),
        {"kind": "procedures", "title": "Weekly upload steps", "parent_agreement": parent.uuid},
    )
    procedures = Agreement.objects.get(title="Weekly upload steps")
    assert procedures.kind == Kind.PROCEDURES
    assert procedures.parent == parent


def test_only_the_schools_documents_of_the_right_kind_are_offered_to_sit_under(world, client_for):
    offered = drafted(world, title="Offered agreement")
    withdrawn = drafted(world, title="Withdrawn agreement")
    services.withdraw_agreement(withdrawn, actor=world.school["staff"], reasons="Not needed.")
    other = world.other
    elsewhere = drafts.drafted(
        other.organisation, other["staff"], world.local_authority, title="Birch agreement"
    )
    client = client_for(world.school["staff"])
    html = text(client.get(start_url()))
    assert "Offered agreement" in html
    assert "Withdrawn agreement" not in html
    assert "Birch agreement" not in html
    # Posting another school's agreement anyway is refused beside the field.
    before = Agreement.objects.count()
    response = client.post(
        start_url(),
        {"kind": "procedures", "title": "Steps", "parent_agreement": elsewhere.uuid},
    )
    assert error_beside(text(response), "parent_agreement") == (
        "Choose an agreement from the list."
    )
    assert Agreement.objects.count() == before
    # Documents are posted by their UUID, never by a sequential id.
    assert f'value="{offered.uuid}"' in html


def test_a_start_without_title_or_kind_says_so_beside_each(world, client_for):
    response = client_for(world.school["staff"]).post(start_url(), {"title": ""})
    html = text(response)
    assert error_beside(html, "kind") == "Choose the kind of agreement."
    assert error_beside(html, "title") == "Give the agreement a title."
    assert 'href="#id_kind_0"' in html  # the error summary links to the first radio
    assert not Agreement.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_auditor_may_not_start_an_agreement(world, client_for, method):
    client = client_for(world.school["auditor"])
    response = getattr(client, method)(start_url(), {"kind": "agreement", "title": "No"})
    assert response.status_code == 403
    assert not Agreement.objects.exists()


def test_another_schools_member_finds_no_start_page_here(world, client_for):
    response = client_for(world.other["staff"]).get(start_url("alder"))
    assert response.status_code == 404


# --- Starting from an approved proposal ---------------------------------------------------


def test_an_approved_proposal_prefills_the_new_agreement(world, client_for):
    proposal = approved_proposal(world)
    client = client_for(world.school["staff"])
    html = text(client.get(start_url(proposal=proposal)))
    page = plain(html)
    assert f"Create the agreement for {proposal.reference}" in page
    assert field_value(html, "title") == proposal.name
    assert proposal.why_personal_data in page  # the purpose, carried over
    assert proposal.information_shared in page
    assert "Department for Education" in page  # the recipient, as a party

    response = client.post(
        start_url(proposal=proposal), {"kind": "agreement", "title": proposal.name}
    )
    agreement = Agreement.objects.get(proposal=proposal)
    assert response["Location"] == agreement.get_absolute_url()
    assert agreement.title == proposal.name
    assert proposal.why_personal_data in agreement.purpose
    assert agreement.data_shared == proposal.information_shared
    assert list(agreement.categories.all()) == list(proposal.categories.all())
    assert {p.organisation for p in agreement.parties.all()} == {
        world.school.organisation,
        world.dfe,
    }
    assert changes_of(last_event("agreement.created"))["proposal"] == proposal.reference
    assert f"What proposal {proposal.reference} says is filled in" in messages_of(response)[-1]


def test_a_proposal_not_yet_approved_gives_no_agreement(world, client_for):
    school = world.school
    proposal = proposal_drafts.screened(school.organisation, school["staff"], world.dfe)
    client = client_for(school["staff"])
    assert client.get(start_url(proposal=proposal)).status_code == 404
    response = client.post(start_url(proposal=proposal), {"kind": "agreement", "title": "X"})
    assert response.status_code == 404
    assert not Agreement.objects.exists()


def test_another_schools_proposal_or_an_unknown_one_is_not_found(world, client_for):
    elsewhere = approved_proposal(world, people=world.other)
    client = client_for(world.school["staff"])
    assert client.get(start_url(proposal=elsewhere)).status_code == 404
    assert client.get(start_url() + "?proposal=PRO-1999-0001").status_code == 404


def test_the_approved_proposal_offers_its_agreement_and_lists_those_made(world, client_for):
    proposal = approved_proposal(world)
    staff = client_for(world.school["staff"])
    html = text(staff.get(proposal.get_absolute_url()))
    inset = links_inside(html, "div", "id", "next-step") or []
    assert [(link["text"], link["href"]) for link in inset] == [
        ("Create the agreement", start_url(proposal=proposal))
    ]
    # An auditor reads the proposal but is not offered to draft.
    auditor_html = text(client_for(world.school["auditor"]).get(proposal.get_absolute_url()))
    assert links_inside(auditor_html, "div", "id", "next-step") == []

    staff.post(start_url(proposal=proposal), {"kind": "agreement", "title": proposal.name})
    agreement = Agreement.objects.get(proposal=proposal)
    links = links_inside(text(staff.get(proposal.get_absolute_url())), "div", "id", "next-step")
    assert [(link["text"], link["href"]) for link in links or []] == [
        (f"{agreement.reference}: {agreement.title}", agreement.get_absolute_url()),
        ("Create another agreement", start_url(proposal=proposal)),
    ]


# --- The agreement's page ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "auditor", "volunteer", "dpo", "headteacher"])
def test_every_member_reads_the_agreement(world, client_for, role):
    agreement = drafted(world)
    response = client_for(world.school[role]).get(agreement.get_absolute_url())
    page = plain(text(response))
    assert response.status_code == 200
    assert agreement.reference in page
    assert agreement.title in page
    assert "Information sharing agreement" in page
    assert "Version 1" in page
    assert element_text(text(response), "status").startswith("Draft")
    assert "Eastmoor Council" in page  # a party
    assert "Uploaded each week to the local authority's secure portal." in page


def test_another_schools_agreement_is_not_found(world, client_for):
    agreement = drafted(world)
    # Birch's staff: not a member of Alder, nor does Alder's agreement exist at Birch.
    other = client_for(world.other["staff"])
    assert other.get(agreement.get_absolute_url()).status_code == 404
    at_birch = reverse(
        "agreements:detail", kwargs={"org": "birch", "reference": agreement.reference}
    )
    assert other.get(at_birch).status_code == 404
    # The trust's DPO, a member of both, finds it only at Alder.
    trust_dpo = client_for(world.trust_dpo)
    assert trust_dpo.get(agreement.get_absolute_url()).status_code == 200
    assert trust_dpo.get(at_birch).status_code == 404


def test_the_drafter_is_told_what_is_missing_before_advice(world, client_for):
    agreement = bare_draft(world)
    html = text(client_for(world.school["staff"]).get(agreement.get_absolute_url()))
    links = next_step_links(html)
    assert "Ask the DPO for advice" not in links
    assert links["Say what the sharing is for."] == url("edit", agreement) + "#id_purpose"
    assert links["Add the other party or parties."] == url("add_party", agreement)
    assert links["Change the content"] == url("edit", agreement)
    # Each content row offers a change link; the parties, a way to add one.
    assert f'href="{url("edit", agreement)}#id_purpose"' in html
    assert "Add a party" in plain(html)


def test_a_complete_draft_offers_the_request_for_advice(world, client_for):
    agreement = drafted(world)
    links = next_step_links(
        text(client_for(world.school["staff"]).get(agreement.get_absolute_url()))
    )
    assert links == {
        "Ask the DPO for advice": url("request_advice", agreement),
        "Change the content": url("edit", agreement),
        "Withdraw this agreement": url("withdraw", agreement),
    }


def test_someone_else_reading_a_draft_is_offered_nothing(world, client_for):
    agreement = drafted(world)
    html = text(client_for(world.school["dsl"]).get(agreement.get_absolute_url()))
    assert next_step_links(html) == {}
    page = plain(html)
    assert f"{world.school['staff']} is drafting it." in page
    assert "Withdraw this agreement" not in page
    assert url("edit", agreement) not in html
    assert "Add a party" not in page


def test_an_advised_agreement_offers_approval_to_the_headteacher_and_revision_to_the_drafter(
    world, client_for
):
    agreement = advised(world)
    headteacher = text(client_for(world.school["headteacher"]).get(agreement.get_absolute_url()))
    assert next_step_links(headteacher) == {
        "Approve the agreement": url("approve", agreement),
        "Withdraw this agreement": url("withdraw", agreement),
    }
    drafter = text(client_for(world.school["staff"]).get(agreement.get_absolute_url()))
    assert next_step_links(drafter) == {
        "Take it back to draft": url("revise", agreement),
        "Withdraw this agreement": url("withdraw", agreement),
    }
    assert "Name the portal's retention." in plain(drafter)  # the DPO's advice
    dpo = text(client_for(world.school["dpo"]).get(agreement.get_absolute_url()))
    assert next_step_links(dpo) == {}


def test_a_headteacher_who_drafted_it_is_told_someone_else_approves(world, client_for):
    agreement = advised(world, role="headteacher")
    html = text(client_for(world.school["headteacher"]).get(agreement.get_absolute_url()))
    assert "Approve the agreement" not in next_step_links(html)
    assert element_text(html, "approve-refused") == (
        "You drafted this version, so someone else must approve it: nobody approves "
        "what they drafted themselves."
    )


def test_a_dpa_shows_which_checklist_points_are_unsettled(world, client_for):
    agreement = dpa_without_checklist(world)
    html = text(client_for(world.school["chair"]).get(agreement.get_absolute_url()))
    assert "Not settled yet: points (a), (b), (c), (d), (e), (f), (g), (h)." in plain(
        element_text(html, "unsettled") or ""
    )
    assert "Article 28(3) points (a), (b)" in (element_text(html, "approval-gaps") or "")


def test_an_approved_agreement_shows_its_approval_and_in_force_dates(world, client_for):
    agreement = approved(world)
    html = text(client_for(world.school["staff"]).get(agreement.get_absolute_url()))
    page = plain(html)
    today = timezone.localdate()
    assert element_text(html, "status").startswith("Active")
    assert f"Approved by {world.school['headteacher']} on {today:%-d %B %Y}" in page
    due = agreement.review_due
    assert f"Its next review is due by {due:%-d %B %Y}." in page
    assert url("edit", agreement) not in html  # the content is fixed once approved
    assert url("withdraw", agreement) not in html


def test_an_amendment_says_which_version_stays_in_force(world, client_for):
    agreement = approved(world)
    keeper = world.school["information_manager"]
    drafts.under_review(agreement, keeper)
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="The portal is changing."),
    )
    html = text(client_for(keeper).get(agreement.get_absolute_url()))
    assert element_text(html, "amendment") == (
        "Version 1 stays in force until version 2 is approved."
    )
    assert "Version 2" in plain(element_text(html, "status") or "")
    links = next_step_links(html)
    assert links["Change the content"] == url("edit", agreement)
    # Version 1 is in force: the amendment is not withdrawn, it is taken through or reviewed.
    assert "Withdraw this agreement" not in links


def test_the_page_links_the_proposal_the_parent_and_the_children(world, client_for):
    proposal = approved_proposal(world)
    staff = world.school["staff"]
    parent = services.create_agreement(
        world.school.organisation,
        actor=staff,
        kind=Kind.AGREEMENT,
        content=drafts.content(title="The agreement"),
        proposal=proposal,
    )
    child = services.create_agreement(
        world.school.organisation,
        actor=staff,
        kind=Kind.PROCEDURES,
        content=drafts.content(title="Its procedures", parent=parent),
    )
    client = client_for(staff)
    parent_html = text(client.get(parent.get_absolute_url()))
    assert (url("detail", child), f"{child.reference}: Its procedures") in [
        (link["href"], link["text"])
        for link in links_inside(parent_html, "table", "id", "children") or []
    ]
    related = links_inside(parent_html, "ul", "id", "related-documents") or []
    assert related[0]["href"] == proposal.get_absolute_url()
    child_html = text(client.get(child.get_absolute_url()))
    related = links_inside(child_html, "ul", "id", "related-documents") or []
    assert [link["href"] for link in related] == [parent.get_absolute_url()]
    assert "Belongs to the information sharing agreement" in plain(child_html)


def test_the_page_links_its_pdf(world, client_for):
    agreement = drafted(world)
    html = text(client_for(world.school["auditor"]).get(agreement.get_absolute_url()))
    links = links_inside(html, "ul", "id", "agreement-links") or []
    assert {"Download the agreement (PDF)": url("document", agreement)} == {
        link["text"]: link["href"] for link in links
    }


def test_the_page_reads_a_fixed_number_of_queries_however_many_parties(
    world, client_for, django_assert_max_num_queries
):
    """One other party or ten: the parties come in one query, their organisations with them."""
    agreement = drafted(world)
    client = client_for(world.school["staff"])
    with CaptureQueriesContext(connection) as one_other_party:
        assert client.get(agreement.get_absolute_url()).status_code == 200
    for number in range(9):
        organisation = Organisation.objects.create(
            name=f"Partner {number}", slug=f"partner-{number}", kind=OrganisationKind.EXTERNAL
        )
        services.add_party(
            agreement,
            actor=world.school["staff"],
            answers=PartyAnswers(organisation, PartyRole.CONTROLLER),
        )
    assert agreement.parties.exclude(organisation=world.school.organisation).count() == 10
    with django_assert_max_num_queries(len(one_other_party)):
        html = text(client.get(agreement.get_absolute_url()))
    assert "Partner 8" in html


def test_the_page_stays_within_its_query_budget(world, client_for, django_assert_max_num_queries):
    agreement = approved(world)
    client = client_for(world.school["headteacher"])
    # Sign-in, second factor, membership and roles, the session (7); the agreement with its
    # people, its four lists, clauses, parties, children, versions and reviews (10); the
    # open review (1); a little room for the sections of an agreement in force.
    with django_assert_max_num_queries(24):
        assert client.get(agreement.get_absolute_url()).status_code == 200


# --- The content ----------------------------------------------------------------------------


def test_the_drafter_saves_the_content(world, client_for):
    agreement = bare_draft(world)
    asset = InformationAsset.objects.create(
        organisation=world.school.organisation,
        name="Attendance records",
        owner="Business manager",
        system_or_location="MIS",
        retention_period="Date of birth + 25 years",
        created_by=world.school["information_manager"],
    )
    client = client_for(world.school["staff"])
    response = client.post(
        url("edit", agreement), content_data(agreement, assets=[str(asset.uuid)])
    )
    assert response.status_code == 302
    assert response["Location"] == agreement.get_absolute_url()
    agreement.refresh_from_db()
    assert agreement.status == Status.DRAFT
    assert agreement.method == "Uploaded each week to the council's secure portal."
    assert agreement.start_date == datetime.date(2026, 9, 1)
    assert list(agreement.lawful_bases.values_list("code", flat=True)) == ["public-task"]
    assert list(agreement.assets.all()) == [asset]
    assert changes_of(last_event("agreement.changed")) == {"version": 1}
    assert messages_of(response)[-1] == "The content is saved. The agreement is still a draft."


def test_the_content_page_starts_from_what_is_saved(world, client_for):
    agreement = drafted(world)
    html = text(client_for(world.school["staff"]).get(url("edit", agreement)))
    assert field_value(html, "method") == agreement.method
    assert field_value(html, "start_date") == f"{agreement.start_date:%d/%m/%Y}"
    assert field_value(html, "review_interval_months") == "12"
    basis = LawfulBasis.objects.get(code="public-task")
    assert is_checked(html, "lawful_bases", str(basis.pk))
    # Only a DPA asks about sub-processors; an agreement may sit under a protocol.
    assert 'name="subprocessors"' not in html
    assert "The protocol it sits under (optional)" in plain(html)


def test_a_dpas_content_asks_about_sub_processors_and_transfers(world, client_for):
    agreement = bare_draft(world, kind=Kind.DPA)
    client = client_for(world.school["staff"])
    html = text(client.get(url("edit", agreement)))
    assert 'name="subprocessors"' in html
    assert 'name="international_transfers"' in html
    assert 'name="parent"' not in html
    client.post(
        url("edit", agreement),
        content_data(
            agreement, subprocessors="Cloud host in London", international_transfers="None"
        ),
    )
    agreement.refresh_from_db()
    assert agreement.subprocessors == "Cloud host in London"


def test_a_longer_review_interval_needs_its_justification_beside_it(world, client_for):
    agreement = drafted(world)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(
        url("edit", agreement),
        content_data(agreement, review_interval_months="18", method="Typed, then refused."),
    )
    html = text(response)
    assert response.status_code == 200
    assert error_beside(html, "review_interval_justification") == (
        "A review interval longer than 12 months needs a justification (the policy asks for "
        "at least an annual review)."
    )
    assert_unchanged(agreement, events)
    fresh = Agreement.objects.get(pk=agreement.pk)
    assert fresh.review_interval_months == 12
    assert fresh.method == agreement.method
    # Nothing typed is lost.
    assert field_value(html, "method") == "Typed, then refused."
    assert field_value(html, "review_interval_months") == "18"


@pytest.mark.parametrize(
    ("field", "posted", "message"),
    [
        ("start_date", "31/2/2026", "Enter the start date as a real date, like 27/3/2015"),
        (
            "review_interval_months",
            "twelve",
            "Enter the number of months between reviews as a whole number, like 12.",
        ),
        ("review_interval_months", "40", "The review interval must be between 1 and 36 months."),
        ("title", "", "Give the agreement a title."),
    ],
)
def test_bad_content_is_refused_beside_its_field(world, client_for, field, posted, message):
    agreement = drafted(world)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(
        url("edit", agreement), content_data(agreement, **{field: posted})
    )
    assert response.status_code == 200
    assert error_beside(text(response), field) == message
    assert_unchanged(agreement, events)


@pytest.mark.parametrize("role", ["dsl", "dpo", "headteacher"])
def test_only_the_drafter_changes_the_content(world, client_for, role):
    agreement = drafted(world)
    events = agreement_events()
    client = client_for(world.school[role])
    assert client.get(url("edit", agreement)).status_code == 403
    response = client.post(url("edit", agreement), content_data(agreement, title="Changed"))
    assert response.status_code == 403
    assert_unchanged(agreement, events)


def test_an_auditor_gets_403_on_every_drafting_page(world, client_for):
    agreement = advised(world)
    party = agreement.parties.exclude(organisation=world.school.organisation).get()
    client = client_for(world.school["auditor"])
    for name in ("edit", "add_party", "request_advice", "advise", "revise", "approve", "withdraw"):
        assert client.get(url(name, agreement)).status_code == 403, name
    assert client.get(url("remove_party", agreement, party=party.uuid)).status_code == 403


def test_the_content_cannot_change_while_the_dpo_has_it(world, client_for):
    agreement = advice_requested(world)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(
        url("edit", agreement), content_data(agreement, title="Changed")
    )
    assert_sent_back(response, agreement)
    assert_unchanged(agreement, events)


@pytest.mark.parametrize(
    "name",
    ["detail", "edit", "add_party", "request_advice", "advise", "revise", "approve", "withdraw"],
)
@pytest.mark.parametrize("role", ["staff", "headteacher", "dpo"])
def test_another_schools_members_find_none_of_its_pages(world, client_for, name, role):
    agreement = drafted(world)
    client = client_for(world.other[role])
    assert client.get(url(name, agreement)).status_code == 404
    if name != "detail":  # the page everyone reads takes no POST at all (405)
        posted = client.post(url(name, agreement), {"reasons": "x", "advice": "x"})
        assert posted.status_code == 404
    assert Agreement.objects.get(pk=agreement.pk).status == Status.DRAFT


def test_another_schools_members_find_neither_its_checklist_nor_its_parties(world, client_for):
    agreement = bare_draft(world, kind=Kind.DPA)
    party = agreement.parties.get()
    client = client_for(world.other["staff"])
    assert client.get(url("checklist", agreement)).status_code == 404
    assert client.post(url("remove_party", agreement, party=party.uuid)).status_code == 404


# --- Parties ------------------------------------------------------------------------------


def test_the_drafter_adds_a_party_with_its_role(world, client_for):
    agreement = drafted(world)
    client = client_for(world.school["staff"])
    html = text(client.get(url("add_party", agreement)))
    assert "Uses the data only on the school's instructions" in plain(html)  # a role's hint
    assert f'value="{world.school.organisation.pk}"' not in html  # the school is one already
    response = client.post(
        url("add_party", agreement), {"organisation": world.dfe.pk, "role": "joint_controller"}
    )
    assert response["Location"] == agreement.get_absolute_url() + "#parties"
    party = agreement.parties.get(organisation=world.dfe)
    assert party.role == PartyRole.JOINT_CONTROLLER
    assert changes_of(last_event("agreement.party_added")) == {
        "party": "Department for Education",
        "role": "joint_controller",
    }


def test_a_party_added_twice_or_without_a_role_is_refused_beside_the_field(world, client_for):
    agreement = drafted(world)
    events = agreement_events()
    client = client_for(world.school["staff"])
    response = client.post(
        url("add_party", agreement), {"organisation": world.local_authority.pk, "role": "processor"}
    )
    assert error_beside(text(response), "organisation") == "Eastmoor Council is already a party."
    response = client.post(url("add_party", agreement), {"organisation": world.dfe.pk})
    html = text(response)
    assert error_beside(html, "role") == "Choose the party's role."
    assert f'<option value="{world.dfe.pk}" selected>' in html  # the choice is kept
    assert agreement.parties.count() == 2
    assert agreement_events() == events


def test_the_drafter_removes_a_party_after_confirming(world, client_for):
    agreement = drafted(world)
    party = agreement.parties.get(organisation=world.local_authority)
    client = client_for(world.school["staff"])
    page = plain(text(client.get(url("remove_party", agreement, party=party.uuid))))
    assert "Remove Eastmoor Council from the parties?" in page
    assert agreement.parties.filter(pk=party.pk).exists()  # GET changes nothing
    response = client.post(url("remove_party", agreement, party=party.uuid))
    assert response["Location"] == agreement.get_absolute_url() + "#parties"
    assert not agreement.parties.filter(pk=party.pk).exists()
    assert changes_of(last_event("agreement.party_removed")) == {"party": "Eastmoor Council"}


def test_the_school_stays_a_party_to_its_own_agreement(world, client_for):
    agreement = drafted(world)
    own = agreement.parties.get(organisation=world.school.organisation)
    client = client_for(world.school["staff"])
    assert url("remove_party", agreement, party=own.uuid) not in text(
        client.get(agreement.get_absolute_url())
    )
    response = client.post(url("remove_party", agreement, party=own.uuid))
    assert response.status_code == 302
    assert messages_of(response)[-1] == "The school is always a party to its own agreements."
    assert agreement.parties.filter(pk=own.pk).exists()


def test_a_party_of_another_agreement_is_not_found(world, client_for):
    agreement = drafted(world)
    another = drafted(world, title="Another")
    party = another.parties.get(organisation=world.local_authority)
    response = client_for(world.school["staff"]).post(
        url("remove_party", agreement, party=party.uuid)
    )
    assert response.status_code == 404
    assert Party.objects.filter(pk=party.pk).exists()


def test_parties_are_fixed_once_the_dpo_has_it(world, client_for):
    agreement = advice_requested(world)
    party = agreement.parties.get(organisation=world.local_authority)
    client = client_for(world.school["staff"])
    assert_sent_back(
        client.post(
            url("add_party", agreement), {"organisation": world.dfe.pk, "role": "controller"}
        ),
        agreement,
    )
    assert_sent_back(client.post(url("remove_party", agreement, party=party.uuid)), agreement)
    assert agreement.parties.count() == 2
    # Someone who never drafts it is refused outright.
    assert client_for(world.school["dsl"]).get(url("add_party", agreement)).status_code == 403


# --- The DPA checklist ---------------------------------------------------------------------


def test_the_drafter_settles_the_checklist_point_by_point(world, client_for):
    agreement = bare_draft(world, kind=Kind.DPA)
    client = client_for(world.school["staff"])
    html = text(client.get(url("checklist", agreement)))
    page = plain(html)
    for label in Article28.labels:
        assert label in page
    assert 'id="id_present_a_0_reveals"' in html  # the clause, under "present"
    assert "govuk-radios__conditional--hidden" not in html
    response = client.post(
        url("checklist", agreement),
        checklist_data(present_b="no", clause_b="", justification_b="Staff sign our code."),
    )
    assert response["Location"] == agreement.get_absolute_url() + "#checklist"
    clauses = {clause.point: clause for clause in agreement.clauses.all()}
    assert clauses["a"].present is True
    assert clauses["a"].clause_reference == "Schedule 2, clause 1"
    assert clauses["b"].present is False
    assert clauses["b"].justification == "Staff sign our code."
    assert all(clause.is_settled for clause in clauses.values())
    assert changes_of(last_event("agreement.checklist_changed")) == {
        "settled": list(Article28.values)
    }
    assert "Every Article 28(3) point is present or justified." in messages_of(response)[-1]


def test_the_checklist_can_be_saved_part_done(world, client_for):
    agreement = bare_draft(world, kind=Kind.DPA)
    response = client_for(world.school["staff"]).post(
        url("checklist", agreement), checklist_data(present_g="", clause_g="")
    )
    assert "Points (g) are still to be settled" in messages_of(response)[-1]
    assert agreement.clauses.get(point="g").present is None


def test_a_point_present_without_its_clause_is_refused_beside_it(world, client_for):
    agreement = bare_draft(world, kind=Kind.DPA)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(
        url("checklist", agreement),
        checklist_data(clause_c="", present_d="no", justification_d=""),
    )
    html = text(response)
    assert error_beside(html, "clause_c") == "Give the clause where point (c) is found."
    assert error_beside(html, "justification_d") == "Say why the contract does without point (d)."
    assert not DpaClause.objects.filter(agreement=agreement, present__isnull=False).exists()
    assert agreement_events() == events
    assert is_checked(html, "present_d", "no")
    assert field_value(html, "clause_a") == "Schedule 2, clause 1"


def test_the_checklist_is_fixed_once_the_dpo_has_it(world, client_for):
    agreement = dpa_without_checklist(world)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(url("checklist", agreement), checklist_data())
    assert_sent_back(response, agreement)
    assert_unchanged(agreement, events)
    assert not DpaClause.objects.filter(agreement=agreement, present__isnull=False).exists()


def test_only_a_dpa_has_a_checklist(world, client_for):
    agreement = drafted(world)
    assert client_for(world.school["staff"]).get(url("checklist", agreement)).status_code == 404


def test_only_the_drafter_of_a_draft_changes_the_checklist(world, client_for):
    agreement = bare_draft(world, kind=Kind.DPA)
    assert (
        client_for(world.school["dpo"])
        .post(url("checklist", agreement), checklist_data())
        .status_code
        == 403
    )
    assert not DpaClause.objects.filter(agreement=agreement, present__isnull=False).exists()


# --- Asking for and giving advice ------------------------------------------------------------


def test_the_request_for_advice_shows_what_is_missing_and_no_button(world, client_for):
    agreement = bare_draft(world)
    client = client_for(world.school["staff"])
    html = text(client.get(url("request_advice", agreement)))
    gaps = {link["text"]: link["href"] for link in links_inside(html, "ul", "id", "gaps") or []}
    edit = url("edit", agreement)
    assert gaps == {
        "Say what the sharing is for.": f"{edit}#id_purpose",
        "Say what data is shared.": f"{edit}#id_data_shared",
        "Say how the data is shared.": f"{edit}#id_method",
        "Describe the security measures.": f"{edit}#id_security_measures",
        "Say how long the data is kept.": f"{edit}#id_retention",
        "Say how the data is returned or disposed of at the end.": f"{edit}#id_return_or_disposal",
        "Choose the lawful basis for the sharing.": f"{edit}#id_lawful_bases_0",
        "Give the date the agreement starts.": f"{edit}#id_start_date",
        "Add the other party or parties.": url("add_party", agreement),
    }
    assert "<button" not in html.split('id="main-content"')[1]
    # Posting anyway is refused with the same list, as errors; nothing changes.
    events = agreement_events()
    response = client.post(url("request_advice", agreement))
    html = text(response)
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "Say what the sharing is for." in plain(html)
    assert_unchanged(agreement, events)


def test_the_drafter_asks_the_dpo_for_advice(world, client_for, django_capture_on_commit_callbacks):
    agreement = drafted(world)
    client = client_for(world.school["staff"])
    assert "Ask the DPO for advice" in plain(text(client.get(url("request_advice", agreement))))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("request_advice", agreement))
    assert response["Location"] == agreement.get_absolute_url()
    agreement.refresh_from_db()
    assert agreement.status == Status.ADVICE_REQUESTED
    assert agreement.advice_requested_by == world.school["staff"]
    assert changes_of(last_event("agreement.advice_requested")) == {"version": 1}
    assert {address for message in mail.outbox for address in message.to} >= {
        world.school["dpo"].email
    }


def test_advice_cannot_be_asked_twice(world, client_for):
    agreement = advice_requested(world)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(url("request_advice", agreement))
    assert_sent_back(response, agreement)
    assert_unchanged(agreement, events)


def test_only_the_drafter_asks_for_advice(world, client_for):
    agreement = drafted(world)
    events = agreement_events()
    response = client_for(world.school["headteacher"]).post(url("request_advice", agreement))
    assert response.status_code == 403
    assert_unchanged(agreement, events)


def test_the_dpo_reads_the_content_and_advises(world, client_for):
    agreement = advice_requested(world)
    client = client_for(world.school["dpo"])
    page = plain(text(client.get(url("advise", agreement))))
    assert "Uploaded each week to the local authority's secure portal." in page
    assert "You advise on its content but do not approve it" in page
    response = client.post(url("advise", agreement), {"advice": "Name the retention period."})
    assert response["Location"] == agreement.get_absolute_url()
    agreement.refresh_from_db()
    assert agreement.status == Status.ADVISED
    assert agreement.advice == "Name the retention period."
    assert agreement.advised_by == world.school["dpo"]
    assert changes_of(last_event("agreement.advised")) == {"version": 1}


def test_the_trusts_dpo_advises_too(world, client_for):
    agreement = advice_requested(world)
    client_for(world.trust_dpo).post(url("advise", agreement), {"advice": "Proportionate."})
    agreement.refresh_from_db()
    assert agreement.advised_by == world.trust_dpo


def test_advice_left_empty_is_refused_beside_it(world, client_for):
    agreement = advice_requested(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(url("advise", agreement), {"advice": "  "})
    assert error_beside(text(response), "advice") == "Write your advice on the agreement."
    assert_unchanged(agreement, events)


def test_only_the_dpo_advises_and_only_when_asked(world, client_for):
    agreement = advice_requested(world)
    events = agreement_events()
    for role in ("headteacher", "staff", "information_manager"):
        response = client_for(world.school[role]).post(url("advise", agreement), {"advice": "Go"})
        assert response.status_code == 403, role
    assert_unchanged(agreement, events)
    draft = drafted(world, title="Not asked yet")
    assert_sent_back(
        client_for(world.school["dpo"]).post(url("advise", draft), {"advice": "Early."}), draft
    )


def test_the_drafter_takes_the_advised_agreement_back_to_draft(world, client_for):
    agreement = advised(world)
    client = client_for(world.school["staff"])
    page = plain(text(client.get(url("revise", agreement))))
    assert "Take it back to draft?" in page
    assert "Name the portal's retention." in page
    assert Agreement.objects.get(pk=agreement.pk).status == Status.ADVISED  # GET changes nothing
    response = client.post(url("revise", agreement))
    assert response["Location"] == agreement.get_absolute_url()
    agreement.refresh_from_db()
    assert agreement.status == Status.DRAFT
    assert agreement.advice == "Name the portal's retention."  # kept until replaced
    assert changes_of(last_event("agreement.revised")) == {"version": 1}


def test_only_the_drafter_revises_and_only_once_advised(world, client_for):
    agreement = advised(world)
    events = agreement_events()
    assert client_for(world.school["headteacher"]).post(url("revise", agreement)).status_code == 403
    assert_unchanged(agreement, events)
    draft = drafted(world, title="Still a draft")
    assert_sent_back(client_for(world.school["staff"]).post(url("revise", draft)), draft)


# --- Approval -------------------------------------------------------------------------------


def test_the_headteacher_reads_the_advice_and_approves(world, client_for):
    agreement = advised(world)
    client = client_for(world.school["headteacher"])
    html = text(client.get(url("approve", agreement)))
    assert "Name the portal's retention." in (element_text(html, "dpo-advice") or "")
    assert "Uploaded each week to the local authority's secure portal." in plain(html)
    response = client.post(url("approve", agreement), {"notes": "Approved as advised."})
    assert response["Location"] == agreement.get_absolute_url()
    agreement.refresh_from_db()
    assert agreement.status == Status.APPROVED
    assert agreement.approved_by == world.school["headteacher"]
    assert agreement.approval_notes == "Approved as advised."
    assert agreement.review_period_starts == timezone.localdate()
    assert agreement.versions.get().number == 1
    assert changes_of(last_event("agreement.approved")) == {"version": 1, "changed": []}
    assert "is approved and on the register" in messages_of(response)[-1]


def test_the_chair_approves_too(world, client_for):
    agreement = advised(world)
    client_for(world.school["chair"]).post(url("approve", agreement), {"notes": ""})
    agreement.refresh_from_db()
    assert agreement.approved_by == world.school["chair"]


def test_the_drafter_cannot_approve_and_the_page_says_why(world, client_for):
    agreement = advised(world, role="headteacher")
    events = agreement_events()
    client = client_for(world.school["headteacher"])
    for response in (client.get(url("approve", agreement)), client.post(url("approve", agreement))):
        assert response.status_code == 403
        html = text(response)
        assert f"Someone else must approve {agreement.reference}" in plain(html)
        assert element_text(html, "refused-because") == (
            "You drafted this version, so someone else must approve it: nobody approves "
            "what they drafted themselves."
        )
    assert_unchanged(agreement, events)
    # The chair, who did not draft it, may.
    client_for(world.school["chair"]).post(url("approve", agreement), {"notes": ""})
    assert Agreement.objects.get(pk=agreement.pk).status == Status.APPROVED


@pytest.mark.parametrize("role", ["dpo", "staff", "information_manager"])
def test_only_the_headteacher_or_chair_approves(world, client_for, role):
    agreement = advised(world)
    events = agreement_events()
    response = client_for(world.school[role]).post(url("approve", agreement), {"notes": ""})
    assert response.status_code == 403
    assert_unchanged(agreement, events)


def test_an_agreement_is_approved_only_once_advised(world, client_for):
    agreement = advice_requested(world)
    events = agreement_events()
    response = client_for(world.school["headteacher"]).post(url("approve", agreement), {})
    assert_sent_back(response, agreement)
    assert_unchanged(agreement, events)


def test_another_schools_headteacher_cannot_approve(world, client_for):
    agreement = advised(world)
    response = client_for(world.other["headteacher"]).post(url("approve", agreement), {})
    assert response.status_code == 404
    assert Agreement.objects.get(pk=agreement.pk).status == Status.ADVISED


def test_a_dpa_is_approved_only_once_every_point_is_settled(world, client_for):
    agreement = dpa_without_checklist(world)
    events = agreement_events()
    headteacher = client_for(world.school["headteacher"])
    html = text(headteacher.get(url("approve", agreement)))
    expected = (
        "Article 28(3) points (a), (b), (c), (d), (e), (f), (g), (h) are neither present in "
        "the contract nor justified."
    )
    assert expected in (element_text(html, "approval-gaps") or "")
    response = headteacher.post(url("approve", agreement), {"notes": "Go ahead."})
    html = text(response)
    assert response.status_code == 200
    assert expected in (element_text(html, "approval_error") or "")
    assert field_value(html, "notes") == "Go ahead."
    assert_unchanged(agreement, events)

    # The drafter settles the checklist and it goes round again.
    staff = client_for(world.school["staff"])
    staff.post(url("revise", agreement))
    staff.post(url("checklist", agreement), checklist_data())
    staff.post(url("request_advice", agreement))
    client_for(world.school["dpo"]).post(url("advise", agreement), {"advice": "Now complete."})
    response = headteacher.post(url("approve", agreement), {"notes": ""})
    assert response.status_code == 302
    assert Agreement.objects.get(pk=agreement.pk).status == Status.APPROVED


# --- Withdrawal -------------------------------------------------------------------------------


def test_the_drafter_withdraws_a_draft_with_reasons(world, client_for):
    agreement = drafted(world)
    client = client_for(world.school["staff"])
    assert "Withdraw this agreement" in plain(text(client.get(url("withdraw", agreement))))
    response = client.post(
        url("withdraw", agreement), {"reasons": "The council found another way."}
    )
    assert response["Location"] == agreement.get_absolute_url()
    agreement.refresh_from_db()
    assert agreement.status == Status.WITHDRAWN
    assert agreement.withdrawn_reasons == "The council found another way."
    assert changes_of(last_event("agreement.withdrawn")) == {"from": "draft"}
    page = plain(text(client.get(agreement.get_absolute_url())))
    assert "The council found another way." in page
    assert "Withdrawn" in page


def test_a_withdrawal_needs_its_reason_beside_it(world, client_for):
    agreement = drafted(world)
    events = agreement_events()
    response = client_for(world.school["staff"]).post(url("withdraw", agreement), {"reasons": ""})
    assert (
        error_beside(text(response), "reasons") == "Give the reason for withdrawing the agreement."
    )
    assert_unchanged(agreement, events)


def test_the_headteacher_withdraws_but_the_dpo_may_not(world, client_for):
    agreement = advised(world)
    events = agreement_events()
    response = client_for(world.school["dpo"]).post(url("withdraw", agreement), {"reasons": "No."})
    assert response.status_code == 403
    assert_unchanged(agreement, events)
    client_for(world.school["headteacher"]).post(url("withdraw", agreement), {"reasons": "Stop."})
    assert Agreement.objects.get(pk=agreement.pk).status == Status.WITHDRAWN


def test_an_approved_agreement_is_not_withdrawn(world, client_for):
    agreement = approved(world)
    events = agreement_events()
    response = client_for(world.school["headteacher"]).post(
        url("withdraw", agreement), {"reasons": "Too late."}
    )
    assert_sent_back(response, agreement)
    assert_unchanged(agreement, events)
