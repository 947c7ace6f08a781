"""Who sees what, strictly (issue 6, item 7): every role of both schools x every page.

A school's DSLs and deputy DSLs see every record; a recipient sees only the
records shared with them; nobody else sees any, whatever their other roles:
a record they may not see is 404, before anything else. Someone who sees a
record but whose place never allows a step gets 403. Pages of the whole
protocol are for the leads (403 to other members), except the home page,
which everyone who works in the school opens for what was shared with them.
Another school's people get 404 from the URL's organisation.

Every opening, listing and download of a record is an audit event; a refusal
is not a read. tests/core/test_tenancy.py takes `safeguarding_urls` from here.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.safeguarding import services
from infoshare.safeguarding.models import ReshareRequest, Share
from tests.core.support import changes_of, last_event
from tests.safeguarding.support import (
    ask_to_share_outside,
    ask_to_share_with,
    make_pupil,
    make_share,
)

if TYPE_CHECKING:
    from django.test import Client

ALL_ROLES = [role.value for role in Role]
LEADS = {"dsl", "deputy_dsl"}
# Everyone but those who only oversee the school (a DPO, an auditor).
WORKS_IN_SCHOOL = set(ALL_ROLES) - {"dpo", "auditor"}
RECIPIENT = "staff"  # of the acknowledged record; they ask to share it further
WAITING_RECIPIENT = "volunteer"  # of the record awaiting acknowledgement
COLLEAGUE = "information_manager"  # whom the recipient asks to share it with
OTHER_DESCRIPTION = "Pupil said a parent hit them; police informed"


@dataclass
class Records:
    acknowledged: Share
    awaiting: Share
    request: ReshareRequest  # to share with a colleague
    outside: ReshareRequest  # to share with an outside organisation


def matrix_records(school) -> Records:
    """The school's matrix records, made the first time a test asks for them."""
    made = school.__dict__.get("_safeguarding_records")
    if made is None:
        dsl, organisation = school["dsl"], school.organisation
        acknowledged = make_share(dsl, school[RECIPIENT], acknowledged=True)
        awaiting = make_share(
            dsl,
            school[WAITING_RECIPIENT],
            pupil=make_pupil(organisation, "Robin", "Vale"),
            description=OTHER_DESCRIPTION,
        )
        made = Records(
            acknowledged,
            awaiting,
            ask_to_share_with(acknowledged, school[COLLEAGUE]),
            ask_to_share_outside(acknowledged),
        )
        school.__dict__["_safeguarding_records"] = made
    return made


# Name -> (URL name, method, what it names: None, or a field of `Records`).
# A page that is a form is sent empty too: whoever may use it sees it again with its errors.
PAGES = {
    "home": ("home", "get", None),
    "list": ("list", "get", None),
    "by_pupil": ("by_pupil", "get", None),
    "by_recipient": ("by_recipient", "get", None),
    "requests": ("requests", "get", None),
    "new": ("new", "get", None),
    "new_post": ("new", "post", None),
    "detail": ("detail", "get", "acknowledged"),
    "detail_awaiting": ("detail", "get", "awaiting"),
    "acknowledge": ("acknowledge", "get", "awaiting"),
    "acknowledge_post": ("acknowledge", "post", "awaiting"),
    "withdraw": ("withdraw", "get", "acknowledged"),
    "withdraw_post": ("withdraw", "post", "acknowledged"),
    "attached": ("attached", "post", "acknowledged"),
    "form_pdf": ("form_pdf", "get", "acknowledged"),
    "request_reshare": ("request_reshare", "get", "acknowledged"),
    "request_reshare_post": ("request_reshare", "post", "acknowledged"),
    "request": ("request", "get", "request"),
    "request_post": ("request", "post", "request"),
    "permit": ("permit", "get", "request"),
    "permit_post": ("permit", "post", "request"),
    "permit_outside": ("permit", "get", "outside"),  # the decision log's form
    "permit_outside_post": ("permit", "post", "outside"),
}
SCHOOL_PAGES = {"home": WORKS_IN_SCHOOL} | dict.fromkeys(
    ("list", "by_pupil", "by_recipient", "requests", "new", "new_post"), LEADS
)
# A record page: who may take its step (the rest of those who see the record get 403),
# and the status they get: the page, or (marking it attached) back to the record.
LEAD_STEP, RECIPIENT_STEP, BOTH = "lead", "recipient", "both"
RECORD_PAGES = {
    "detail": (BOTH, 200),
    "detail_awaiting": (BOTH, 200),
    "acknowledge": (RECIPIENT_STEP, 200),
    "acknowledge_post": (RECIPIENT_STEP, 200),
    "withdraw": (LEAD_STEP, 200),
    "withdraw_post": (LEAD_STEP, 200),
    "attached": (LEAD_STEP, 302),
    "form_pdf": (LEAD_STEP, 200),
    "request_reshare": (RECIPIENT_STEP, 200),
    "request_reshare_post": (RECIPIENT_STEP, 200),
    "request": (BOTH, 200),  # the requester reads its status and answer
    "request_post": (LEAD_STEP, 200),  # refusing
    "permit": (LEAD_STEP, 200),
    "permit_post": (LEAD_STEP, 200),
    "permit_outside": (LEAD_STEP, 200),
    "permit_outside_post": (LEAD_STEP, 200),
}


def text_of(response) -> str:
    """The page as text, entities decoded: "children's" is sent as "children&#x27;s"."""
    return html.unescape(response.content.decode())


def recipient_role(name: str) -> str:
    return WAITING_RECIPIENT if PAGES[name][2] == "awaiting" else RECIPIENT


def expected_status(name: str, role: str) -> int:
    if name in SCHOOL_PAGES:
        return 200 if role in SCHOOL_PAGES[name] else 403
    taker, allowed = RECORD_PAGES[name]
    is_recipient = role == recipient_role(name)
    if role not in LEADS and not is_recipient:
        return 404  # as if the record did not exist
    takes_it = taker == BOTH or (taker == LEAD_STEP) == (role in LEADS)
    return allowed if takes_it else 403


def page_path(school, name: str) -> str:
    url_name, _, names = PAGES[name]
    kwargs: dict[str, object] = {"org": school.slug}
    if names is not None:
        records = matrix_records(school)
        if names in {"request", "outside"}:
            asked = getattr(records, names)
            kwargs["reference"] = asked.share.reference
            kwargs["request_uuid"] = asked.uuid
        else:
            kwargs["reference"] = getattr(records, names).reference
    return reverse(f"safeguarding:{url_name}", kwargs=kwargs)


def safeguarding_urls(school) -> list[tuple[str, str, str]]:
    """(name, method, path) of every safeguarding page, for tests/core/test_tenancy.py."""
    return [(f"safeguarding_{name}", PAGES[name][1], page_path(school, name)) for name in PAGES]


def send(client: Client, name: str, path: str):
    return getattr(client, PAGES[name][1])(path)


def test_every_page_has_an_expected_status():
    assert set(PAGES) == set(SCHOOL_PAGES) | set(RECORD_PAGES)


@pytest.mark.parametrize("name", list(PAGES))
def test_safeguarding_access_matrix(world, client_for, name):
    path = page_path(world.school, name)
    got = {role: send(client_for(world.school[role]), name, path).status_code for role in ALL_ROLES}
    assert got == {role: expected_status(name, role) for role in ALL_ROLES}, path


@pytest.mark.parametrize("name", list(PAGES))
def test_the_trust_dpo_is_a_dpo_in_both_schools(world, client_for, name):
    client = client_for(world.trust_dpo)
    for school in (world.school, world.other):
        path = page_path(school, name)
        assert send(client, name, path).status_code == expected_status(name, "dpo"), path


@pytest.mark.parametrize("name", list(PAGES))
def test_another_schools_people_get_404(world, client_for, name):
    """Their DSL included: being a DSL somewhere opens nothing here."""
    path = page_path(world.school, name)
    got = {role: send(client_for(world.other[role]), name, path).status_code for role in ALL_ROLES}
    assert got == dict.fromkeys(ALL_ROLES, 404), path


def test_another_schools_record_at_ones_own_address_is_404(world, client_for):
    """References are numbered per school: Birch's third record has no twin at Alder."""
    matrix_records(world.school)
    matrix_records(world.other)
    foreign = make_share(world.other["dsl"], world.other[RECIPIENT])
    assert not Share.objects.filter(
        organisation=world.school.organisation, reference=foreign.reference
    ).exists()
    for role in ("dsl", "deputy_dsl"):
        path = reverse(
            "safeguarding:detail", kwargs={"org": world.school.slug, "reference": foreign.reference}
        )
        assert client_for(world.school[role]).get(path).status_code == 404, role


def test_marking_attached_is_never_a_page(world, client_for):
    response = client_for(world.school["dsl"]).get(page_path(world.school, "attached"))
    assert response.status_code == 405
    assert matrix_records(world.school).acknowledged.attached_at is None


# --- What each person's pages show -----------------------------------------------------


def test_the_headteachers_home_shows_no_record(world, client_for):
    records = matrix_records(world.school)
    response = client_for(world.school["headteacher"]).get(page_path(world.school, "home"))
    assert response.status_code == 200
    content = text_of(response)
    for share in (records.acknowledged, records.awaiting):
        assert share.reference not in content
        assert share.pupil.family_name not in content
        assert share.description not in content


@pytest.mark.parametrize(("role", "mine", "not_mine"), [
    (RECIPIENT, "acknowledged", "awaiting"),
    (WAITING_RECIPIENT, "awaiting", "acknowledged"),
])  # fmt: skip
def test_a_recipients_home_shows_only_their_records(world, client_for, role, mine, not_mine):
    records = matrix_records(world.school)
    content = text_of(client_for(world.school[role]).get(page_path(world.school, "home")))
    assert getattr(records, mine).reference in content
    other = getattr(records, not_mine)
    assert other.reference not in content
    assert other.pupil.family_name not in content


def test_the_lists_show_the_leads_every_record(world, client_for):
    records = matrix_records(world.school)
    content = text_of(client_for(world.school["deputy_dsl"]).get(page_path(world.school, "list")))
    for share in (records.acknowledged, records.awaiting):
        assert share.reference in content


# --- Every read is an audit event; a refusal is not a read --------------------------------

READS = list(services.READ_VERBS)


def safeguarding_changes() -> int:
    return (
        AuditEvent.objects.filter(verb__startswith="safeguarding.").exclude(verb__in=READS).count()
    )


def read_events() -> int:
    return AuditEvent.objects.filter(verb__in=READS).count()


@pytest.mark.parametrize("role", ["dsl", "deputy_dsl", RECIPIENT])
def test_opening_a_record_is_recorded(world, client_for, role):
    share = matrix_records(world.school).acknowledged
    user = world.school[role]
    before = AuditEvent.objects.filter(verb="safeguarding.viewed").count()
    assert client_for(user).get(page_path(world.school, "detail")).status_code == 200
    assert AuditEvent.objects.filter(verb="safeguarding.viewed").count() == before + 1
    event = last_event("safeguarding.viewed")
    assert event.actor == user
    assert event.object_id == share.reference
    assert event.organisation == world.school.organisation


@pytest.mark.parametrize(("role", "name"), [
    (WAITING_RECIPIENT, "acknowledge"),  # the pupil and the description, above the declaration
    ("dsl", "permit"),  # the description, to cut down for the colleague
])  # fmt: skip
def test_every_page_showing_what_was_shared_is_a_read(world, client_for, role, name):
    """Not only the record's own page: whoever reads the description is on its readers' list."""
    records = matrix_records(world.school)
    share = records.awaiting if name == "acknowledge" else records.acknowledged
    user = world.school[role]
    response = client_for(user).get(page_path(world.school, name))
    assert response.status_code == 200
    assert share.description in text_of(response)
    readers = [(event.actor, event.verb) for event in services.who_has_read(share)]
    assert any(actor == user for actor, _ in readers), readers


def test_downloading_the_form_is_recorded(world, client_for):
    share = matrix_records(world.school).acknowledged
    dsl = world.school["dsl"]
    response = client_for(dsl).get(page_path(world.school, "form_pdf"))
    assert response.status_code == 200
    event = last_event("safeguarding.form_downloaded")
    assert (event.actor, event.object_id) == (dsl, share.reference)


def test_the_dsls_list_records_which_records_it_showed(world, client_for):
    records = matrix_records(world.school)
    dsl = world.school["dsl"]
    assert client_for(dsl).get(page_path(world.school, "list")).status_code == 200
    event = last_event("safeguarding.listed", actor=dsl)
    assert sorted(changes_of(event)["references"]) == sorted(
        [records.acknowledged.reference, records.awaiting.reference]
    )
    assert event.organisation == world.school.organisation


REFERENCE = re.compile(r"SG-\d{4}-\d{4}")


@pytest.mark.parametrize(("role", "name"), [
    ("dsl", "home"),
    ("dsl", "list"),
    ("dsl", "by_pupil"),
    ("dsl", "by_recipient"),
    ("dsl", "requests"),
    ("deputy_dsl", "home"),
    (RECIPIENT, "home"),
    (WAITING_RECIPIENT, "home"),
])  # fmt: skip
def test_a_page_listing_records_records_exactly_those_it_showed(world, client_for, role, name):
    """Whatever page names records, someone can later learn who saw each of them there."""
    matrix_records(world.school)
    user = world.school[role]
    before = set(AuditEvent.objects.filter(verb="safeguarding.listed").values_list("pk", flat=True))
    response = client_for(user).get(page_path(world.school, name))
    assert response.status_code == 200
    shown = set(REFERENCE.findall(response.content.decode()))
    new_events = AuditEvent.objects.filter(verb="safeguarding.listed").exclude(pk__in=before)
    named = {ref for event in new_events for ref in changes_of(event)["references"]}
    assert named == shown, (role, name)
    assert all(event.actor == user for event in new_events)


@pytest.mark.parametrize("role", ["headteacher", "chair", "dpo", "auditor", WAITING_RECIPIENT])
def test_a_record_refused_with_404_leaves_no_read(world, client_for, role):
    matrix_records(world.school)
    before = read_events()
    client = client_for(world.school[role])
    for name in ("detail", "form_pdf", "request"):
        assert client.get(page_path(world.school, name)).status_code == 404, name
    assert read_events() == before


def test_a_form_refused_with_403_is_not_downloaded(world, client_for):
    matrix_records(world.school)
    before = read_events()
    response = client_for(world.school[RECIPIENT]).get(page_path(world.school, "form_pdf"))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert read_events() == before


@pytest.mark.parametrize("role", ["headteacher", "dpo", WAITING_RECIPIENT])
def test_a_refused_record_looks_like_one_that_does_not_exist(world, client_for, role):
    share = matrix_records(world.school).acknowledged
    client = client_for(world.school[role])
    refused = client.get(page_path(world.school, "detail"))
    missing = client.get(
        reverse(
            "safeguarding:detail", kwargs={"org": world.school.slug, "reference": "SG-1999-9999"}
        )
    )
    assert refused.status_code == missing.status_code == 404
    content = text_of(refused)
    for secret in (
        share.pupil.full_name,
        share.pupil.family_name,
        share.description,
        share.reference,
    ):
        assert secret not in content
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    assert csrf.sub("", content) == csrf.sub("", text_of(missing))


# --- A step at the wrong moment goes back, with a message -----------------------------------


def _withdrawn(school) -> Share:
    share = matrix_records(school).awaiting
    return services.withdraw_share(share, actor=school["dsl"], reason="Shared in error")


def _refused(school) -> ReshareRequest:
    request = matrix_records(school).request
    return services.refuse_reshare(request, actor=school["dsl"], reasons="Not needed")


# (URL name, method, role, what it is opened on) -> sent back to the record (or request).
OUT_OF_ORDER = [
    ("acknowledge", "get", RECIPIENT, lambda s: matrix_records(s).acknowledged),
    ("acknowledge", "post", RECIPIENT, lambda s: matrix_records(s).acknowledged),
    ("request_reshare", "get", WAITING_RECIPIENT, lambda s: matrix_records(s).awaiting),
    ("withdraw", "get", "dsl", _withdrawn),
    ("attached", "post", "deputy_dsl", lambda s: matrix_records(s).awaiting),
    ("form_pdf", "get", "dsl", lambda s: matrix_records(s).awaiting),
    ("permit", "get", "dsl", _refused),
    ("permit", "post", "deputy_dsl", _refused),
    ("request", "post", "dsl", _refused),
]


@pytest.mark.parametrize("case", OUT_OF_ORDER, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in OUT_OF_ORDER])
def test_a_step_out_of_order_goes_back_with_a_message(world, client_for, case):
    url_name, method, role, opened_on = case
    target = opened_on(world.school)
    kwargs: dict[str, object] = {"org": world.school.slug}
    if isinstance(target, ReshareRequest):
        kwargs.update(reference=target.share.reference, request_uuid=target.uuid)
    else:
        kwargs["reference"] = target.reference
    before = safeguarding_changes()

    response = getattr(client_for(world.school[role]), method)(
        reverse(f"safeguarding:{url_name}", kwargs=kwargs), follow=True
    )

    assert response.redirect_chain == [(target.get_absolute_url(), 302)], url_name
    assert response.status_code == 200
    assert list(response.context["messages"]), "no message says why"
    assert safeguarding_changes() == before, "something changed"


def test_a_dsl_who_asked_does_not_answer_their_own_request(world, client_for):
    """A deputy DSL who received a record asks to share it; only another lead answers."""
    school = world.school
    deputy = school["deputy_dsl"]
    share = make_share(school["dsl"], deputy, acknowledged=True)
    asked = ask_to_share_with(share, school[RECIPIENT])
    path = reverse(
        "safeguarding:permit",
        kwargs={"org": school.slug, "reference": share.reference, "request_uuid": asked.uuid},
    )
    assert client_for(deputy).get(path).status_code == 403
    assert client_for(deputy).post(asked.get_absolute_url(), {"reasons": "No"}).status_code == 403
    assert client_for(school["dsl"]).get(path).status_code == 200
    asked.refresh_from_db()
    assert asked.status == "requested"


def test_the_recipient_of_a_withdrawn_record_no_longer_reads_what_was_shared(world, client_for):
    share = _withdrawn(world.school)
    recipient = client_for(world.school[WAITING_RECIPIENT])
    response = recipient.get(share.get_absolute_url())
    assert response.status_code == 200
    assert share.reference in text_of(response)
    assert share.description not in text_of(response)
    lead = client_for(world.school["deputy_dsl"]).get(share.get_absolute_url())
    assert share.description in text_of(lead)


def test_an_unseen_record_is_404_whatever_the_method(world, client_for):
    """405 would say the address exists: it comes only once the record is found."""
    path = page_path(world.school, "attached")
    assert client_for(world.school["headteacher"]).get(path).status_code == 404
    assert client_for(world.school[WAITING_RECIPIENT]).get(path).status_code == 404
