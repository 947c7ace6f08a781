"""Signing in through allauth: password, second factor, audit, rate limit, idle expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.test import Client
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from tests.conftest import PASSWORD, add_membership, give_totp, make_user
from tests.core.support import assert_chain_intact, changes_of

LOGIN = "/accounts/login/"
WRONG = "not the right password at all"


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def current_totp_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def signed_in_as(client: Client):
    return client.session.get("_auth_user_id")


@pytest.fixture
def alder_staff(world):
    return world.school["staff"]


def test_the_login_page_opens(db):
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert b'name="login"' in response.content
    assert b'name="password"' in response.content


def test_there_is_no_sign_up(db):
    response = Client().get(reverse("account_signup"))
    assert response.status_code == 200
    assert b'name="password1"' not in response.content


def test_a_staff_member_signs_in(world, alder_staff):
    client = Client()
    response = sign_in(client, alder_staff.email)
    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert signed_in_as(client) == str(alder_staff.pk)
    response = client.get(response["Location"])
    assert response["Location"] == reverse("core:dashboard", kwargs={"org": world.school.slug})
    assert client.get(response["Location"]).status_code == 200


def test_the_email_address_is_not_case_sensitive(world, alder_staff):
    client = Client()
    sign_in(client, alder_staff.email.upper())
    assert signed_in_as(client) == str(alder_staff.pk)


@pytest.mark.parametrize("role", ["headteacher", "chair", "dpo", "dsl", "deputy_dsl"])
def test_a_privileged_user_is_asked_for_a_code(world, role):
    user = make_user(f"second-{role}@alder.test", f"Second {role}")
    add_membership(user, world.school.organisation, role)
    user.authenticator_set.all().delete()
    secret = give_totp(user)

    client = Client()
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_as(client) is None  # not in yet
    assert (
        client.get(reverse("core:dashboard", kwargs={"org": world.school.slug})).status_code == 302
    )

    page = client.get(reverse("mfa_authenticate"))
    assert page.status_code == 200
    assert b'name="code"' in page.content

    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert signed_in_as(client) == str(user.pk)
    dashboard = client.get(reverse("core:dashboard", kwargs={"org": world.school.slug}))
    assert dashboard.status_code == 200


def test_the_code_from_the_first_counter_is_accepted(world):
    user = make_user("ht2@alder.test", "Second Head")
    add_membership(user, world.school.organisation, Role.HEADTEACHER)
    user.authenticator_set.all().delete()
    secret = give_totp(user)
    client = Client()
    sign_in(client, user.email)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert signed_in_as(client) == str(user.pk)


def test_a_wrong_code_keeps_them_out(world):
    user = make_user("ht3@alder.test", "Third Head")
    add_membership(user, world.school.organisation, Role.HEADTEACHER)
    user.authenticator_set.all().delete()
    secret = give_totp(user)
    client = Client()
    sign_in(client, user.email)
    valid = {
        format_hotp_value(hotp_value(secret, counter))
        for counter in yield_hotp_counters_from_time()
    }
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert signed_in_as(client) is None


def test_a_code_cannot_be_used_twice(world):
    user = make_user("ht4@alder.test", "Fourth Head")
    add_membership(user, world.school.organisation, Role.HEADTEACHER)
    user.authenticator_set.all().delete()
    secret = give_totp(user)
    code = current_totp_code(secret)
    first = Client()
    sign_in(first, user.email)
    first.post(reverse("mfa_authenticate"), {"code": code})
    assert signed_in_as(first) == str(user.pk)
    second = Client()
    sign_in(second, user.email)
    second.post(reverse("mfa_authenticate"), {"code": code})
    assert signed_in_as(second) is None


def test_a_wrong_password_keeps_them_out(world, alder_staff):
    client = Client()
    response = sign_in(client, alder_staff.email, WRONG)
    assert response.status_code == 200
    assert signed_in_as(client) is None
    assert b"govuk-error" in response.content


# --- the audit of signing in ---------------------------------------------------------------


def test_a_wrong_password_is_audited_in_the_persons_organisations(world, alder_staff):
    sign_in(Client(), alder_staff.email, WRONG)
    events = AuditEvent.objects.filter(verb="account.login_failed")
    assert [e.organisation for e in events] == [world.school.organisation]
    event = events.get()
    assert event.actor is None  # nobody proved who they were
    assert event.object_label == alder_staff.email
    assert changes_of(event)["address"] == "127.0.0.1"
    assert WRONG not in event.changes  # the typed password is never kept
    assert_chain_intact(world.school.organisation)


def test_a_wrong_password_for_the_trust_dpo_is_audited_in_both_schools(world):
    sign_in(Client(), world.trust_dpo.email, WRONG)
    organisations = set(
        AuditEvent.objects.filter(verb="account.login_failed").values_list(
            "organisation__slug", flat=True
        )
    )
    assert organisations == {"alder", "birch"}


def test_an_unknown_address_is_audited_in_the_system_chain(world):
    sign_in(Client(), "nobody@nowhere.example", WRONG)
    event = AuditEvent.objects.get(verb="account.login_failed")
    assert event.organisation is None
    assert event.actor is None
    assert changes_of(event)["email"] == "nobody@nowhere.example"
    assert WRONG not in event.changes


def test_signing_in_is_audited_in_each_of_the_persons_organisations(world, alder_staff):
    client = Client()
    sign_in(client, alder_staff.email)
    assert signed_in_as(client)
    event = AuditEvent.objects.get(verb="account.logged_in")
    assert event.organisation == world.school.organisation
    assert event.actor == alder_staff
    assert changes_of(event)["address"] == "127.0.0.1"


def test_the_trust_dpo_signing_in_is_audited_in_both_schools(world):
    dpo = world.trust_dpo
    dpo.authenticator_set.all().delete()
    secret = give_totp(dpo)
    client = Client()
    sign_in(client, dpo.email)
    assert not AuditEvent.objects.filter(verb="account.logged_in").exists()  # not in yet
    client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert signed_in_as(client) == str(dpo.pk)
    events = AuditEvent.objects.filter(verb="account.logged_in")
    assert sorted(e.organisation.slug for e in events) == ["alder", "birch"]
    assert {e.actor for e in events} == {dpo}
    for organisation in (world.school.organisation, world.other.organisation):
        assert_chain_intact(organisation)


def test_signing_out_is_audited(world, alder_staff):
    client = Client()
    sign_in(client, alder_staff.email)
    client.post(reverse("account_logout"))
    assert signed_in_as(client) is None
    event = AuditEvent.objects.get(verb="account.logged_out")
    assert event.organisation == world.school.organisation
    assert event.actor == alder_staff


# --- rate limit -----------------------------------------------------------------------------


def assert_refused_for_too_many_attempts(response, client):
    assert signed_in_as(client) is None
    assert response.status_code == 429 or (b"Too many failed login attempts" in response.content), (
        response.content
    )


def test_five_failures_for_one_address_lock_it(world, alder_staff):
    client = Client()
    for _ in range(5):
        response = sign_in(client, alder_staff.email, WRONG)
        assert response.status_code == 200
        assert b"Too many failed login attempts" not in response.content
    # Even the right password is refused now.
    response = sign_in(client, alder_staff.email)
    assert_refused_for_too_many_attempts(response, client)
    # From another browser too: the limit is on the address.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert_refused_for_too_many_attempts(sign_in(other, alder_staff.email), other)


def test_the_limit_on_one_address_does_not_lock_another(world, alder_staff):
    client = Client()
    for _ in range(5):
        sign_in(client, alder_staff.email, WRONG)
    volunteer = world.school["volunteer"]
    sign_in(client, volunteer.email)
    assert signed_in_as(client) == str(volunteer.pk)


def test_four_failures_do_not_lock(world, alder_staff):
    client = Client()
    for _ in range(4):
        sign_in(client, alder_staff.email, WRONG)
    sign_in(client, alder_staff.email)
    assert signed_in_as(client) == str(alder_staff.pk)


def test_ten_failures_from_one_ip_lock_that_ip(world, alder_staff):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for n in range(10):
        sign_in(client, f"guess{n}@alder.test", WRONG)
    response = sign_in(client, alder_staff.email)
    assert_refused_for_too_many_attempts(response, client)
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    sign_in(elsewhere, alder_staff.email)
    assert signed_in_as(elsewhere) == str(alder_staff.pk)


def test_the_lock_lifts_after_five_minutes(world, alder_staff):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        client = Client()
        for _ in range(5):
            sign_in(client, alder_staff.email, WRONG)
        assert_refused_for_too_many_attempts(sign_in(client, alder_staff.email), client)
        clock.shift(timedelta(minutes=5, seconds=1))
        sign_in(client, alder_staff.email)
        assert signed_in_as(client) == str(alder_staff.pk)


# --- idle sessions ----------------------------------------------------------------------------


def test_the_idle_timeout_is_thirty_minutes():
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_a_session_survives_29_idle_minutes(world, alder_staff):
    dashboard = reverse("core:dashboard", kwargs={"org": world.school.slug})
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        client = Client()
        sign_in(client, alder_staff.email)
        assert client.get(dashboard).status_code == 200
        # Each request restarts the count: 3 x 29 minutes is fine.
        for _ in range(3):
            clock.shift(timedelta(minutes=29))
            assert client.get(dashboard).status_code == 200


def test_a_session_expires_after_30_idle_minutes(world, alder_staff):
    dashboard = reverse("core:dashboard", kwargs={"org": world.school.slug})
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        client = Client()
        sign_in(client, alder_staff.email)
        assert client.get(dashboard).status_code == 200
        clock.shift(timedelta(minutes=30, seconds=1))
        response = client.get(dashboard)
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("account_login")
        assert dashboard in response["Location"].replace("%2F", "/")
