"""The second-factor gate: privileged roles are held at TOTP set-up until they have one."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from infoshare.core.models import Membership, Role
from tests.conftest import PASSWORD, add_membership, make_user

PRIVILEGED = ["headteacher", "chair", "dpo", "dsl", "deputy_dsl"]
UNPRIVILEGED = ["information_manager", "staff", "volunteer", "auditor"]
SETUP = "mfa_activate_totp"


def without_totp(user):
    Authenticator.objects.filter(user=user).delete()
    return user


def current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def organisation_pages(school):
    return [
        reverse("core:home"),
        reverse("core:organisations"),
        reverse("core:dashboard", kwargs={"org": school.slug}),
        reverse("core:members", kwargs={"org": school.slug}),
        reverse("audit:events", kwargs={"org": school.slug}),
        "/admin/",
    ]


def open_setup(client: Client):
    """Open the set-up page as a person would, confirming the password if asked."""
    response = client.get(reverse(SETUP), follow=True)  # a redirect loop raises here
    assert response.status_code == 200
    if response.resolver_match.url_name == "account_reauthenticate":
        response = client.post(
            response.request["PATH_INFO"] + "?next=" + reverse(SETUP),
            {"password": PASSWORD},
            follow=True,
        )
        assert response.status_code == 200
    assert response.resolver_match.url_name == SETUP
    return response


@pytest.mark.parametrize("role", PRIVILEGED)
def test_a_privileged_user_without_totp_is_held_at_set_up(world, client_for, role):
    client = client_for(without_totp(world.school[role]))
    for path in organisation_pages(world.school):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse(SETUP), path
    # Posting to a page does not slip past either.
    response = client.post(reverse("core:invite_member", kwargs={"org": world.school.slug}), {})
    assert response["Location"] == reverse(SETUP)


def test_the_gate_redirects_to_the_totp_set_up_address(world, client_for):
    client = client_for(without_totp(world.school["dsl"]))
    response = client.get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    assert response["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.parametrize("role", PRIVILEGED)
def test_the_set_up_page_can_be_reached(world, client_for, role):
    client = client_for(without_totp(world.school[role]))
    response = open_setup(client)
    assert client.session.get(SECRET_SESSION_KEY)
    assert b'name="code"' in response.content


def test_after_activating_totp_the_dashboard_opens(world, client_for):
    dsl = without_totp(world.school["dsl"])
    client = client_for(dsl)
    dashboard = reverse("core:dashboard", kwargs={"org": world.school.slug})
    assert client.get(dashboard).status_code == 302

    open_setup(client)
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse(SETUP), {"code": current_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=dsl, type=Authenticator.Type.TOTP).exists()

    response = client.get(dashboard)
    assert response.status_code == 200


def test_a_wrong_code_does_not_activate(world, client_for):
    dsl = without_totp(world.school["dsl"])
    client = client_for(dsl)
    open_setup(client)
    secret = client.session[SECRET_SESSION_KEY]
    wrong = f"{(int(current_code(secret)) + 1) % 1_000_000:06d}"
    response = client.post(reverse(SETUP), {"code": wrong})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=dsl).exists()
    assert client.get(reverse("core:dashboard", kwargs={"org": world.school.slug}))[
        "Location"
    ] == reverse(SETUP)


def test_a_held_user_can_sign_out(world, client_for):
    client = client_for(without_totp(world.school["headteacher"]))
    assert client.get(reverse("account_logout")).status_code == 200
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    # Signed out, the dashboard asks them to sign in, not to set up a second factor.
    response = client.get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    assert urlsplit(response["Location"]).path == reverse("account_login")


def test_a_held_user_can_reach_health_and_static_files(world, client_for):
    client = client_for(without_totp(world.school["chair"]))
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/no-such-file.css").status_code == 404  # not redirected


@pytest.mark.parametrize("role", UNPRIVILEGED)
def test_unprivileged_roles_are_not_held(world, client_for, role):
    user = world.school[role]
    assert not Authenticator.objects.filter(user=user).exists()
    response = client_for(user).get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    assert response.status_code == 200


def test_a_privileged_role_anywhere_holds_the_person_everywhere(world, client_for):
    person = make_user("two-schools@example.org", "Two Schools")
    add_membership(person, world.school.organisation, Role.STAFF)
    add_membership(person, world.other.organisation, Role.DSL)
    without_totp(person)
    response = client_for(person).get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    assert response["Location"] == reverse(SETUP)


def test_a_removed_privileged_membership_no_longer_holds(world, client_for):
    person = make_user("former-dsl@example.org", "Former DSL")
    add_membership(person, world.school.organisation, Role.STAFF)
    add_membership(person, world.other.organisation, Role.DSL)
    without_totp(person)
    Membership.objects.filter(user=person, organisation=world.other.organisation).update(
        ended_at=timezone.now()
    )
    response = client_for(person).get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    assert response.status_code == 200


def test_a_platform_operator_is_held_too(world, client_for):
    operator = make_user("operator@example.org", "Operator")
    operator.is_superuser = operator.is_staff = True
    operator.save()
    response = client_for(operator).get("/admin/")
    assert response["Location"] == reverse(SETUP)


@pytest.mark.parametrize("role", PRIVILEGED)
def test_nobody_is_held_when_the_setting_is_off(world, client_for, settings, role):
    settings.INFOSHARE_REQUIRE_MFA = False
    client = client_for(without_totp(world.school[role]))
    response = client.get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    assert response.status_code == 200


def test_the_setting_is_on_in_tests(settings):
    assert settings.INFOSHARE_REQUIRE_MFA is True


def test_anonymous_visitors_are_not_sent_to_set_up(db):
    response = Client().get(reverse("core:home"))
    assert urlsplit(response["Location"]).path == reverse("account_login")


def test_adding_and_removing_a_second_factor_is_audited(
    world, client_for, django_capture_on_commit_callbacks
):
    """Through allauth's own pages: each change lands in the person's school's trail.

    allauth announces an added authenticator once its transaction commits.
    """
    from infoshare.audit.models import AuditEvent

    staff = world.school["staff"]  # not held, so the factor can be taken away again
    client = client_for(staff)
    open_setup(client)
    secret = client.session[SECRET_SESSION_KEY]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse(SETUP), {"code": current_code(secret)}).status_code == 302

    added = AuditEvent.objects.filter(verb="account.mfa_added", actor=staff)
    # The authenticator app, and the recovery codes allauth makes with it.
    assert sorted(json.loads(e.changes)["type"] for e in added) == [
        "recovery_codes",
        "totp",
    ]
    assert {e.organisation for e in added} == {world.school.organisation}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_deactivate_totp"), follow=True)
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    removed = AuditEvent.objects.filter(verb="account.mfa_removed", actor=staff)
    assert removed.exists()
    assert {e.organisation for e in removed} == {world.school.organisation}
