"""Tenancy and the permission matrix: every role x every core URL.

Another organisation's pages and records are 404, exactly as if they did not
exist (DESIGN.md rule 2); a member whose roles do not allow a page gets 403.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import get_resolver, resolve, reverse

from infoshare.core.models import Membership, Organisation, Person, Role
from infoshare.decisions import services as decision_services
from infoshare.decisions.models import Decision
from infoshare.proposals import services as proposal_services
from infoshare.proposals.models import PiaRequirement, Proposal, Status
from tests.agreements.test_permission_matrix import register_urls
from tests.anonymise.test_web_pages import anonymise_urls
from tests.anonymise.test_web_services import media  # noqa: F401  (files in a temporary folder)
from tests.decisions.drafts import pupil, share
from tests.governance.test_policy_pages import policy_matrix_urls
from tests.proposals import drafts as proposal_drafts
from tests.safeguarding.test_access import safeguarding_urls
from tests.statutory.test_import_pages import import_paths
from tests.statutory.test_returns_pages import returns_matrix_urls
from tests.statutory.test_roll_access import roll_urls
from tests.transfers.test_pages import transfer_urls

ALL_ROLES = [role.value for role in Role]
MANAGERS = {"headteacher", "information_manager"}
AUDIT_READERS = {"dpo", "headteacher", "chair", "auditor"}
PEOPLE_KEEPERS = {"headteacher", "information_manager", "dpo"}
# Who may open a decision recorded by a member of staff (no special category data).
DECISION_READERS = {"staff", "dpo", "headteacher", "chair", "information_manager", "auditor"}
DECISION_CORRECTORS = {"staff", "dpo", "headteacher"}


def member_uuid(school, role="volunteer"):
    return Membership.objects.get(user=school[role], organisation=school.organisation).uuid


def matrix_pupil(school) -> Person:
    """The pupil every person-page row of the matrix opens, one per school."""
    existing = Person.objects.filter(organisation=school.organisation, given_name="Matrix")
    return existing.first() or pupil(school.organisation, "Matrix", "Pupil")


def matrix_decision(school) -> Decision:
    """A decision recorded by the school's member of staff, without special category data."""
    existing = Decision.objects.filter(organisation=school.organisation).first()
    if existing:
        return existing
    staff = school["staff"]
    return decision_services.record_decision(
        school.organisation, actor=staff, draft=share(staff, [matrix_pupil(school)])
    )


def people_urls(school):
    slug, person = school.slug, matrix_pupil(school).uuid
    return [
        ("people", "get", reverse("core:people", kwargs={"org": slug})),
        ("people_csv", "get", reverse("core:people", kwargs={"org": slug}) + "?format=csv"),
        ("add_person", "get", reverse("core:add_person", kwargs={"org": slug})),
        ("import_pupils", "get", reverse("core:import_pupils", kwargs={"org": slug})),
        ("person", "get", reverse("core:person", kwargs={"org": slug, "person": person})),
        ("edit_person", "get", reverse("core:edit_person", kwargs={"org": slug, "person": person})),
    ]


def decision_urls(school):
    slug, reference = school.slug, matrix_decision(school).reference
    on_record = {"org": slug, "reference": reference}
    history = reverse(
        "decisions:person_history", kwargs={"org": slug, "person": matrix_pupil(school).uuid}
    )
    listing = reverse("decisions:list", kwargs={"org": slug})
    return [
        ("decisions", "get", listing),
        ("decisions_csv", "get", listing + "?format=csv"),
        ("decisions_xlsx", "get", listing + "?format=xlsx"),
        ("record", "get", reverse("decisions:record", kwargs={"org": slug})),
        ("record_post", "post", reverse("decisions:record", kwargs={"org": slug})),
        ("decision", "get", reverse("decisions:detail", kwargs=on_record)),
        ("correct", "get", reverse("decisions:correct", kwargs=on_record)),
        ("review_queue", "get", reverse("decisions:review_queue", kwargs={"org": slug})),
        ("review", "get", reverse("decisions:review", kwargs=on_record)),
        ("history", "get", history),
        ("history_csv", "get", history + "?format=csv"),
    ]


def core_urls(school):
    """(name, method, path) of every organisation page, for `school`."""
    return organisation_urls(school) + people_urls(school) + decision_urls(school)


def all_urls(school):
    """Every organisation page, with the proposals', agreements', assets', safeguarding
    records', statutory sharing's, the policy's, anonymisation's and secure transfers'. Each
    has a matrix of its own: below, tests/agreements/test_permission_matrix.py,
    tests/safeguarding/test_access.py, tests/statutory/test_{roll_access,import_pages,
    returns_pages}.py, tests/governance/test_policy_pages.py,
    tests/anonymise/test_web_pages.py and tests/transfers/test_pages.py."""
    return (
        core_urls(school)
        + proposal_urls(school)
        + register_urls(school)
        + safeguarding_urls(school)
        + roll_urls(school)
        + [(f"statutory_import_{i}", "get", path) for i, path in enumerate(import_paths(school))]
        + returns_matrix_urls(school)
        + policy_matrix_urls(school)
        + anonymise_urls(school)
        + transfer_urls(school)
    )


def organisation_urls(school):
    slug, member = school.slug, member_uuid(school)
    return [
        ("dashboard", "get", reverse("core:dashboard", kwargs={"org": slug})),
        ("members", "get", reverse("core:members", kwargs={"org": slug})),
        ("members_csv", "get", reverse("core:members", kwargs={"org": slug}) + "?format=csv"),
        ("invite", "get", reverse("core:invite_member", kwargs={"org": slug})),
        ("invite_post", "post", reverse("core:invite_member", kwargs={"org": slug})),
        ("member", "get", reverse("core:member", kwargs={"org": slug, "member": member})),
        ("member_post", "post", reverse("core:member", kwargs={"org": slug, "member": member})),
        ("remove", "get", reverse("core:remove_member", kwargs={"org": slug, "member": member})),
        (
            "remove_post",
            "post",
            reverse("core:remove_member", kwargs={"org": slug, "member": member}),
        ),
        (
            "resend",
            "post",
            reverse("core:resend_invitation", kwargs={"org": slug, "member": member}),
        ),
        ("audit", "get", reverse("audit:events", kwargs={"org": slug})),
    ]


URL_NAMES = [
    "dashboard",
    "members",
    "members_csv",
    "invite",
    "invite_post",
    "member",
    "member_post",
    "remove",
    "remove_post",
    "resend",
    "audit",
    "people",
    "people_csv",
    "add_person",
    "import_pupils",
    "person",
    "edit_person",
    "decisions",
    "decisions_csv",
    "decisions_xlsx",
    "record",
    "record_post",
    "decision",
    "correct",
    "review_queue",
    "review",
    "history",
    "history_csv",
]
# Pages every member opens.
FOR_EVERY_MEMBER = {
    "dashboard",
    "people",
    "people_csv",
    "person",
    "decisions",
    "decisions_csv",
    "decisions_xlsx",
    "history",
    "history_csv",
}


# --- Sharing proposals -------------------------------------------------------------------
#
# Each proposal page is opened on a proposal in the status where its step may be
# taken, so that the answer depends on the role alone. The school's member of
# staff drafts every one of them; the proposals are built only when a row needs
# them, one per status and school.


def _matrix_recipient() -> Organisation:
    return Organisation.objects.get(slug="dfe")


def _recommended(school) -> Proposal:
    return proposal_drafts.assessed(
        school.organisation,
        school["staff"],
        school["dpo"],
        _matrix_recipient(),
        PiaRequirement.RECOMMENDED,
    )


def _pia_in_progress(school) -> Proposal:
    proposal = proposal_drafts.assessed(
        school.organisation,
        school["staff"],
        school["dpo"],
        _matrix_recipient(),
        PiaRequirement.MANDATORY,
    )
    proposal_services.add_risk(proposal, actor=school["staff"], answers=proposal_drafts.risk())
    return proposal


def _closed(school) -> Proposal:
    answers = proposal_drafts.step_one(
        achievable_without=True, achievable_without_reasons="Counts by class are enough."
    )
    return proposal_services.create_proposal(
        school.organisation, actor=school["staff"], answers=answers
    )


# Stage -> (the status it stands at, how to bring a new proposal there).
PROPOSAL_STAGES = {
    "draft": (
        Status.DRAFT,
        lambda school: proposal_drafts.drafted(school.organisation, school["staff"]),
    ),
    "screened": (
        Status.SCREENING_SUBMITTED,
        lambda school: proposal_drafts.screened(
            school.organisation, school["staff"], _matrix_recipient()
        ),
    ),
    "recommended": (Status.ASSESSED, _recommended),
    "pia": (Status.PIA_IN_PROGRESS, _pia_in_progress),
    "pia_submitted": (
        Status.PIA_SUBMITTED,
        lambda school: proposal_drafts.pia_submitted(
            school.organisation, school["staff"], school["dpo"], _matrix_recipient()
        ),
    ),
    "advised": (
        Status.ADVISED,
        lambda school: proposal_drafts.advised(
            school.organisation, school["staff"], school["dpo"], _matrix_recipient()
        ),
    ),
    "closed": (Status.NOT_NEEDED, _closed),
}


def matrix_proposal(school, stage: str) -> Proposal:
    """The school's proposal at `stage`, made the first time it is asked for."""
    status, make = PROPOSAL_STAGES[stage]
    existing = Proposal.objects.filter(organisation=school.organisation, status=status).first()
    return existing or make(school)


# Name -> (URL name, the stage of the proposal it opens, None for none, whether it names a risk).
PROPOSAL_PAGES = {
    "proposals": ("list", None, False),
    "proposals_csv": ("list", None, False),
    "proposals_xlsx": ("list", None, False),
    "proposal_start": ("start", None, False),
    "proposal": ("detail", "draft", False),
    "proposal_step_one": ("step_one", "draft", False),
    "proposal_step_two": ("step_two", "draft", False),
    "proposal_screening": ("screening", "draft", False),
    "proposal_submit_screening": ("submit_screening", "draft", False),
    "proposal_withdraw": ("withdraw", "draft", False),
    "proposal_assess": ("assess", "screened", False),
    "proposal_choose_pia": ("choose_pia", "recommended", False),
    "proposal_pia": ("pia", "pia", False),
    "proposal_add_risk": ("add_risk", "pia", False),
    "proposal_change_risk": ("change_risk", "pia", True),
    "proposal_remove_risk": ("remove_risk", "pia", True),
    "proposal_submit_pia": ("submit_pia", "pia", False),
    "proposal_advise": ("advise", "pia_submitted", False),
    "proposal_decide": ("decide", "advised", False),
    "proposal_report": ("report", "draft", False),
}
PROPOSAL_URL_NAMES = list(PROPOSAL_PAGES)
PROPOSAL_EXPORTS = {"proposals_csv": "?format=csv", "proposals_xlsx": "?format=xlsx"}


def proposal_path(school, name: str, stage: str | None = None) -> str:
    """The path of proposal page `name` for `school`, on a proposal at its stage (or `stage`)."""
    url_name, own_stage, names_risk = PROPOSAL_PAGES[name]
    kwargs = {"org": school.slug}
    stage = stage or own_stage
    if stage is not None:
        proposal = matrix_proposal(school, stage)
        kwargs["reference"] = proposal.reference
        if names_risk:
            kwargs["risk"] = str(proposal.risks.get().uuid)
    return reverse(f"proposals:{url_name}", kwargs=kwargs) + PROPOSAL_EXPORTS.get(name, "")


def proposal_urls(school):
    """(name, method, path) of every proposal page, for `school` (all pages are GETs)."""
    return [(name, "get", proposal_path(school, name)) for name in PROPOSAL_URL_NAMES]


PROPOSALS_FOR_EVERY_MEMBER = {
    "proposals",
    "proposals_csv",
    "proposals_xlsx",
    "proposal",
    "proposal_pia",
    "proposal_report",
}
AUTHOR = "staff"  # the role of whoever drafted the matrix proposals
DECIDERS = {"headteacher", "chair"}
# Who may take each step, on a proposal at the stage for it.
PROPOSAL_STEP_TAKERS = {
    "proposal_start": set(ALL_ROLES) - {"auditor"},
    "proposal_step_one": {AUTHOR},
    "proposal_step_two": {AUTHOR},
    "proposal_screening": {AUTHOR},
    "proposal_submit_screening": {AUTHOR},
    "proposal_withdraw": {AUTHOR} | DECIDERS,
    "proposal_assess": {"dpo"},
    "proposal_choose_pia": {AUTHOR} | DECIDERS,
    "proposal_add_risk": {AUTHOR, "dpo"},
    "proposal_change_risk": {AUTHOR, "dpo"},
    "proposal_remove_risk": {AUTHOR, "dpo"},
    "proposal_submit_pia": {AUTHOR, "dpo"},
    "proposal_advise": {"dpo"},
    "proposal_decide": DECIDERS,  # never the author, who is not one here anyway
}


def proposal_page_status(name: str, role: str) -> int:
    """Reading is for every member; a step is for the roles that take it, anyone else 403."""
    if name in PROPOSALS_FOR_EVERY_MEMBER:
        return 200
    return 200 if role in PROPOSAL_STEP_TAKERS[name] else 403


def test_every_proposal_page_has_an_expected_status():
    assert set(PROPOSAL_URL_NAMES) == PROPOSALS_FOR_EVERY_MEMBER | set(PROPOSAL_STEP_TAKERS)


@pytest.fixture
def _no_pdf_rendering(monkeypatch):
    """The matrix asks who may download the report, not what it says (see
    tests/proposals/test_report.py): rendering it for every role would take most of
    the matrix's time."""
    monkeypatch.setattr(
        "infoshare.proposals.views.report.render_pdf", lambda *args, **kwargs: b"%PDF-1.7"
    )


@pytest.mark.usefixtures("_no_pdf_rendering")
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", PROPOSAL_URL_NAMES)
def test_proposal_permission_matrix(world, client_for, role, name):
    path = proposal_path(world.school, name)
    response = client_for(world.school[role]).get(path)
    assert response.status_code == proposal_page_status(name, role), (role, name, path)


@pytest.mark.usefixtures("_no_pdf_rendering")
@pytest.mark.parametrize("name", PROPOSAL_URL_NAMES)
def test_proposal_permission_matrix_for_the_trust_dpo(world, client_for, name):
    client = client_for(world.trust_dpo)
    for school in (world.school, world.other):
        path = proposal_path(school, name)
        assert client.get(path).status_code == proposal_page_status(name, "dpo"), path


# A step whose taker comes at the wrong moment: (page, role, the stage it is opened at).
OUT_OF_ORDER = [
    ("proposal_step_one", AUTHOR, "screened"),
    ("proposal_step_two", AUTHOR, "screened"),
    ("proposal_screening", AUTHOR, "screened"),
    ("proposal_submit_screening", AUTHOR, "closed"),
    ("proposal_withdraw", "headteacher", "closed"),
    ("proposal_assess", "dpo", "draft"),
    ("proposal_choose_pia", "chair", "pia"),
    ("proposal_add_risk", "dpo", "draft"),
    ("proposal_change_risk", AUTHOR, "pia_submitted"),
    ("proposal_remove_risk", "dpo", "pia_submitted"),
    ("proposal_submit_pia", AUTHOR, "pia_submitted"),
    ("proposal_advise", "dpo", "pia"),
    ("proposal_decide", "headteacher", "pia_submitted"),
]


@pytest.mark.parametrize(("name", "role", "stage"), OUT_OF_ORDER)
def test_a_step_out_of_order_goes_back_to_the_task_list(world, client_for, name, role, stage):
    path = proposal_path(world.school, name, stage)
    response = client_for(world.school[role]).get(path)
    assert response.status_code == 302, (name, role, stage)
    assert response["Location"] == matrix_proposal(world.school, stage).get_absolute_url()


def test_the_author_may_not_decide_their_own_proposal(world, client_for):
    """A headteacher who drafted a proposal is refused its decision (403, not a redirect)."""
    school, head = world.school, world.school["headteacher"]
    proposal = proposal_services.create_proposal(
        school.organisation, actor=head, answers=proposal_drafts.step_one()
    )
    proposal_services.answer_step_two(proposal, actor=head, answers=proposal_drafts.step_two())
    proposal_services.answer_screening(
        proposal, actor=head, answers=proposal_drafts.screening(_matrix_recipient())
    )
    proposal_services.submit_screening(proposal, actor=head)
    proposal_services.assess_proposal(
        proposal, actor=school["dpo"], requirement=PiaRequirement.NOT_REQUIRED, reasons="Low."
    )
    path = reverse("proposals:decide", kwargs={"org": school.slug, "reference": proposal.reference})
    assert client_for(head).get(path).status_code == 403
    assert client_for(school["chair"]).get(path).status_code == 200


def test_another_schools_proposal_through_ones_own_address_is_404(world, client_for):
    """Birch's proposals do not exist at Alder's address, to anyone who may open the page.

    (Someone whose role never opens a page gets its 403 first, whatever the reference:
    that tells them nothing about which proposals exist.)"""
    on_a_proposal = [name for name in PROPOSAL_URL_NAMES if PROPOSAL_PAGES[name][1]]
    foreign = {name: proposal_path(world.other, name) for name in on_a_proposal}
    for role in ALL_ROLES:
        client = client_for(world.school[role])
        for name, path in foreign.items():
            if proposal_page_status(name, role) != 200:
                continue
            own_address = path.replace(f"/o/{world.other.slug}/", f"/o/{world.school.slug}/", 1)
            assert client.get(own_address).status_code == 404, (role, own_address)


def test_url_names_match_core_urls(world):
    assert [name for name, _, _ in core_urls(world.school)] == URL_NAMES


def expected_status(name: str, role: str) -> int:
    if name in FOR_EVERY_MEMBER:
        return 200
    if name == "audit":
        return 200 if role in AUDIT_READERS else 403
    if name in {"add_person", "import_pupils", "edit_person"}:
        return 200 if role in PEOPLE_KEEPERS else 403
    if name in {"record", "record_post", "decision", "correct", "review_queue", "review"}:
        return decision_page_status(name, role)
    if role not in MANAGERS:
        return 403
    # An empty form comes back with its errors; resending to someone who has
    # accepted is refused with a message on the member's page.
    return {"resend": 302}.get(name, 200)


def decision_page_status(name: str, role: str) -> int:
    """Recording is for everyone but auditors; reading a record follows who may see it
    (anyone else gets 404); correcting is for its maker, the DPO and the headteacher;
    reviewing is the DPO's."""
    if name in {"review_queue", "review"}:
        return 200 if role == "dpo" else 403
    if name == "decision":
        return 200 if role in DECISION_READERS else 404
    if role == "auditor":
        return 403
    if name == "correct":
        if role not in DECISION_READERS:
            return 404
        return 200 if role in DECISION_CORRECTORS else 403
    return 200  # the form, or the form with its errors


def request(client: Client, method: str, path: str):
    return getattr(client, method)(path)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", URL_NAMES)
def test_permission_matrix(world, client_for, role, name):
    urls = {n: (m, p) for n, m, p in core_urls(world.school)}
    method, path = urls[name]
    response = request(client_for(world.school[role]), method, path)
    assert response.status_code == expected_status(name, role), (role, name, path)


@pytest.mark.parametrize("name", URL_NAMES)
def test_permission_matrix_for_the_trust_dpo(world, client_for, name):
    client = client_for(world.trust_dpo)
    for school in (world.school, world.other):
        urls = {n: (m, p) for n, m, p in core_urls(school)}
        method, path = urls[name]
        assert request(client, method, path).status_code == expected_status(name, "dpo"), path


def test_every_organisation_url_is_in_the_matrix(world):
    """A new URL under /o/<org>/ must be added to the matrix above."""
    covered = {resolve(urlsplit(p).path).route for _, _, p in all_urls(world.school)}
    routes = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, route)
            elif route.startswith("o/<slug:org>/"):
                routes.append(route)

    walk(get_resolver().url_patterns)
    assert routes
    for route in routes:
        assert route in covered, f"{route} is not in the permission matrix"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_other_schools_pages_are_404(world, client_for, role):
    client = client_for(world.school[role])
    for name, method, path in all_urls(world.other):
        response = request(client, method, path)
        assert response.status_code == 404, (role, name, path)


@pytest.mark.parametrize("role", sorted(MANAGERS))
def test_a_membership_of_the_other_school_through_ones_own_url_is_404(world, client_for, role):
    client = client_for(world.school[role])
    slug = world.school.slug
    for target_role in ("staff", "headteacher"):
        foreign = member_uuid(world.other, target_role)
        kwargs = {"org": slug, "member": foreign}
        assert client.get(reverse("core:member", kwargs=kwargs)).status_code == 404
        assert (
            client.post(reverse("core:member", kwargs=kwargs), {"roles": ["staff"]}).status_code
            == 404
        )
        assert client.get(reverse("core:remove_member", kwargs=kwargs)).status_code == 404
        assert (
            client.post(reverse("core:remove_member", kwargs=kwargs), {"reason": "x"}).status_code
            == 404
        )
        assert client.post(reverse("core:resend_invitation", kwargs=kwargs)).status_code == 404
    # And nothing happened to them.
    assert (
        Membership.objects.filter(
            organisation=world.other.organisation, ended_at__isnull=False
        ).count()
        == 0
    )


def test_an_unknown_membership_uuid_is_404(world, client_for):
    client = client_for(world.school["headteacher"])
    kwargs = {"org": world.school.slug, "member": "00000000-0000-0000-0000-000000000000"}
    assert client.get(reverse("core:member", kwargs=kwargs)).status_code == 404


@pytest.mark.parametrize("slug", ["no-such-school", "dfe", "northbridge", "eastmoor"])
def test_organisations_one_is_not_a_member_of_are_404(world, client_for, slug):
    client = client_for(world.school["headteacher"])
    assert client.get(reverse("core:dashboard", kwargs={"org": slug})).status_code == 404
    assert client.get(reverse("core:members", kwargs={"org": slug})).status_code == 404


def test_a_removed_member_gets_404(world, client_for):
    staff = world.school["staff"]
    Membership.objects.filter(user=staff, organisation=world.school.organisation).update(
        ended_at="2026-01-01T00:00:00Z"
    )
    client = client_for(staff)
    assert (
        client.get(reverse("core:dashboard", kwargs={"org": world.school.slug})).status_code == 404
    )


def test_the_404_for_another_school_looks_like_a_missing_page(world, client_for):
    client = client_for(world.school["headteacher"])
    foreign = client.get(reverse("core:dashboard", kwargs={"org": world.other.slug}))
    missing = client.get(reverse("core:dashboard", kwargs={"org": "no-such-school"}))
    assert foreign.status_code == missing.status_code == 404
    csrf = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
    assert csrf.sub(b"", foreign.content) == csrf.sub(b"", missing.content)
    assert b"Birch" not in foreign.content


def test_anonymous_users_are_sent_to_sign_in(world):
    client = Client()
    login = reverse(settings.LOGIN_URL)
    for name, method, path in all_urls(world.school):
        response = request(client, method, path)
        assert response.status_code == 302, (name, path)
        location = urlsplit(response["Location"])
        assert location.path == login, (name, path)
        assert urlsplit(path).path in response["Location"].replace("%2F", "/")
    for path in (reverse("core:home"), reverse("core:organisations")):
        response = client.get(path)
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == login


def test_anonymous_users_learn_nothing_about_which_organisations_exist(world):
    client = Client()
    real = client.get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    made_up = client.get(reverse("core:dashboard", kwargs={"org": "no-such-school"}))
    assert real.status_code == made_up.status_code == 302


def test_home_goes_to_ones_only_organisation(world, client_for):
    response = client_for(world.school["staff"]).get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard", kwargs={"org": world.school.slug})


def test_home_asks_someone_in_several_organisations_to_choose(world, client_for):
    client = client_for(world.trust_dpo)
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:organisations")
    page = client.get(reverse("core:organisations"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Alder Primary School" in content
    assert "Birch Academy" in content
    assert reverse("core:dashboard", kwargs={"org": "alder"}) in content
    assert reverse("core:dashboard", kwargs={"org": "birch"}) in content


def test_the_organisation_list_shows_only_ones_own(world, client_for):
    content = client_for(world.school["staff"]).get(reverse("core:organisations")).content.decode()
    assert "Alder Primary School" in content
    assert "Birch Academy" not in content
