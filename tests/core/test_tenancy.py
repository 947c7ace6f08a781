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
from django.urls import get_resolver, reverse

from infoshare.core.models import Membership, Person, Role
from infoshare.decisions import services as decision_services
from infoshare.decisions.models import Decision
from tests.decisions.drafts import pupil, share

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
    covered = {urlsplit(p).path for _, _, p in core_urls(world.school)}
    slug, member = world.school.slug, member_uuid(world.school)
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
        path = "/" + (
            route.replace("<slug:org>", slug)
            .replace("<uuid:member>", str(member))
            .replace("<uuid:person>", str(matrix_pupil(world.school).uuid))
            .replace("<str:reference>", matrix_decision(world.school).reference)
        )
        assert path in covered, f"{route} is not in the permission matrix"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_other_schools_pages_are_404(world, client_for, role):
    client = client_for(world.school[role])
    for name, method, path in core_urls(world.other):
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
    for name, method, path in core_urls(world.school):
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
