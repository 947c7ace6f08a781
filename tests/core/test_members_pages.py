"""The members pages: invite, change roles, remove, resend, accept, list, search, export."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core import services
from infoshare.core.models import Membership, Role, User
from tests.conftest import add_membership, make_user
from tests.core.support import assert_chain_intact, element_text, last_event, snapshot

NEW_PASSWORD = "a long and unusual passphrase 42"


def url(name, school, **kwargs):
    return reverse(name, kwargs={"org": school.slug, **kwargs})


def membership_of(user, school):
    return Membership.objects.with_roles().get(user=user, organisation=school.organisation)


def member_url(name, school, user):
    return url(name, school, member=membership_of(user, school).uuid)


def invitation_data(**overrides):
    data = {
        "name": "Nina New",
        "email": "nina.new@example.org",
        "job_title": "Teaching assistant",
        "roles": ["staff"],
        "acting_for": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response) -> str:
    return response.content.decode()


# --- invite -------------------------------------------------------------------------------


def test_the_invite_page_shows_the_form(world, client_for):
    response = client_for(world.school["headteacher"]).get(url("core:invite_member", world.school))
    assert response.status_code == 200
    content = text(response)
    for field in ("name", "email", "job_title", "roles", "acting_for"):
        assert f'name="{field}"' in content
    for role in Role:
        assert f'value="{role.value}"' in content


@pytest.mark.parametrize("role", ["headteacher", "information_manager"])
def test_inviting_through_the_page(world, client_for, role, django_capture_on_commit_callbacks):
    client = client_for(world.school[role])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("core:invite_member", world.school), invitation_data())
    membership = Membership.objects.get(user__email="nina.new@example.org")
    assert response.status_code == 302
    assert response["Location"] == url("core:member", world.school, member=membership.uuid)
    assert membership.organisation == world.school.organisation
    assert membership.job_title == "Teaching assistant"
    assert membership.roles == {"staff"}
    assert last_event("membership.invited").actor == world.school[role]
    assert len(mail.outbox) == 1
    assert "/invitation/" in mail.outbox[0].body

    page = client.get(response["Location"])
    assert "Invitation sent to nina.new@example.org" in text(page)
    assert "Invited" in text(page)  # status tag


def test_inviting_a_dpo_for_the_trust_through_the_page(world, client_for):
    client = client_for(world.school["headteacher"])
    response = client.post(
        url("core:invite_member", world.school),
        invitation_data(roles=["dpo"], acting_for=str(world.trust.pk)),
    )
    assert response.status_code == 302
    assert Membership.objects.get(user__email="nina.new@example.org").acting_for == world.trust


@pytest.mark.parametrize(
    "case",
    [
        ({"name": ""}, "name", "Enter the person's full name"),
        ({"name": None}, "name", "Enter the person's full name"),
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format"),
        ({"email": ""}, "email", "Enter the person's email address"),
        ({"roles": None}, "roles", "Select at least one role"),
        ({"roles": ["wizard"]}, "roles", "Select a valid choice"),
        (
            {"roles": ["staff"], "acting_for": "TRUST"},
            "acting_for",
            "Only a DPO or an auditor can serve on behalf",
        ),
    ],
    ids=[
        "empty-name",
        "no-name",
        "bad-email",
        "no-email",
        "no-roles",
        "unknown-role",
        "staff-on-behalf",
    ],
)
def test_invite_form_errors_are_shown_beside_the_field(
    world, client_for, case, django_capture_on_commit_callbacks
):
    overrides, field, message = case
    overrides = dict(overrides)
    if overrides.get("acting_for") == "TRUST":
        overrides["acting_for"] = str(world.trust.pk)
    client = client_for(world.school["headteacher"])  # signing in is audited: before the snapshot
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("core:invite_member", world.school), invitation_data(**overrides)
        )
    assert response.status_code == 200
    content = text(response)
    beside = element_text(content, f"id_{field}_error")
    assert beside is not None, f"no error beside {field}"
    assert message in beside
    assert "There is a problem" in content  # the error summary
    assert f'href="#id_{field}' in content  # which links to the field
    assert "<title>Error:" in content
    assert snapshot() == before


def test_an_information_manager_inviting_a_dsl_sees_the_error_beside_roles(
    world, client_for, django_capture_on_commit_callbacks
):
    client = client_for(world.school["information_manager"])
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("core:invite_member", world.school), invitation_data(roles=["dsl"])
        )
    assert response.status_code == 200
    assert "Only a headteacher" in element_text(text(response), "id_roles_error")
    assert snapshot() == before


def test_inviting_a_current_member_shows_the_error_beside_email(
    world, client_for, django_capture_on_commit_callbacks
):
    client = client_for(world.school["headteacher"])
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("core:invite_member", world.school),
            invitation_data(email=world.school["staff"].email.upper()),
        )
    assert response.status_code == 200
    assert "already a member" in element_text(text(response), "id_email_error")
    assert snapshot() == before


def test_the_form_keeps_what_was_typed(world, client_for):
    response = client_for(world.school["headteacher"]).post(
        url("core:invite_member", world.school), invitation_data(email="bad")
    )
    assert 'value="Nina New"' in text(response)
    assert 'value="Teaching assistant"' in text(response)


# --- change roles -------------------------------------------------------------------------


def test_changing_roles_through_the_page(world, client_for):
    staff = world.school["staff"]
    client = client_for(world.school["headteacher"])
    page = client.get(member_url("core:member", world.school, staff))
    assert page.status_code == 200
    assert staff.email in text(page)
    assert re.search(r'value="staff"[^>]*checked|checked[^>]*value="staff"', text(page))

    response = client.post(
        member_url("core:member", world.school, staff), {"roles": ["staff", "dsl"]}
    )
    assert response.status_code == 302
    assert response["Location"] == member_url("core:member", world.school, staff)
    assert membership_of(staff, world.school).roles == {"staff", "dsl"}
    assert last_event("membership.roles_changed").actor == world.school["headteacher"]
    assert f"Roles of {staff.name} saved" in text(client.get(response["Location"]))


def test_a_refused_role_change_shows_the_error_beside_roles(world, client_for):
    staff = world.school["staff"]
    client = client_for(world.school["information_manager"])
    before = snapshot()
    response = client.post(
        member_url("core:member", world.school, staff), {"roles": ["staff", "dsl"]}
    )
    assert response.status_code == 200
    assert "Only a headteacher" in element_text(text(response), "id_roles_error")
    assert snapshot() == before


def test_no_roles_is_an_error_beside_roles(world, client_for):
    staff = world.school["staff"]
    client = client_for(world.school["headteacher"])
    before = snapshot()
    # A browser always sends the CSRF token, even with every box unticked.
    response = client.post(
        member_url("core:member", world.school, staff), {"csrfmiddlewaretoken": "x"}
    )
    assert response.status_code == 200
    assert "Select at least one role" in element_text(text(response), "id_roles_error")
    assert snapshot() == before


def test_ones_own_page_offers_no_role_change(world, client_for):
    head = world.school["headteacher"]
    client = client_for(head)
    page = client.get(member_url("core:member", world.school, head))
    assert page.status_code == 200
    assert "This is you" in text(page)
    assert "Save roles" not in text(page)
    before = snapshot()
    response = client.post(member_url("core:member", world.school, head), {"roles": ["staff"]})
    assert response.status_code == 200
    assert "cannot change your own roles" in text(response)
    assert snapshot() == before


def test_a_removed_members_page_shows_removed_and_offers_no_changes(world, client_for):
    staff = world.school["staff"]
    head = world.school["headteacher"]
    services.remove_member(membership_of(staff, world.school), actor=head, reason="Left")
    client = client_for(head)
    page = client.get(member_url("core:member", world.school, staff))
    assert page.status_code == 200
    assert "Removed" in text(page)
    assert "Save roles" not in text(page)
    before = snapshot()
    response = client.post(member_url("core:member", world.school, staff), {"roles": ["volunteer"]})
    assert response.status_code == 200
    assert "no longer a member" in text(response)
    assert snapshot() == before


# --- remove -------------------------------------------------------------------------------


def test_removing_through_the_page(world, client_for):
    staff = world.school["staff"]
    client = client_for(world.school["headteacher"])
    page = client.get(member_url("core:remove_member", world.school, staff))
    assert page.status_code == 200
    assert f"Remove {staff.name}" in text(page)

    response = client.post(
        member_url("core:remove_member", world.school, staff), {"reason": "Left the school"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("core:members", world.school)
    membership = Membership.objects.get(user=staff, organisation=world.school.organisation)
    assert membership.ended_at is not None
    event = last_event("membership.removed")
    assert event.actor == world.school["headteacher"]
    assert '"reason":"Left the school"' in event.changes
    listing = client.get(response["Location"])
    assert f"{staff.name} is no longer a member" in text(listing)
    # The removed person can no longer open the school.
    assert client_for(staff).get(url("core:dashboard", world.school)).status_code == 404


def test_removing_needs_a_reason(world, client_for):
    staff = world.school["staff"]
    client = client_for(world.school["headteacher"])
    before = snapshot()
    response = client.post(member_url("core:remove_member", world.school, staff), {"reason": ""})
    assert response.status_code == 200
    assert "Enter why you are removing this member" in element_text(
        text(response), "id_reason_error"
    )
    assert snapshot() == before


def test_removing_oneself_through_the_page_is_refused(world, client_for):
    head = world.school["headteacher"]
    client = client_for(head)
    before = snapshot()
    response = client.post(
        member_url("core:remove_member", world.school, head), {"reason": "Leaving"}
    )
    assert response.status_code == 200
    assert "cannot remove yourself" in text(response)
    assert snapshot() == before


def test_an_information_manager_cannot_remove_a_dsl_through_the_page(world, client_for):
    client = client_for(world.school["information_manager"])
    before = snapshot()
    response = client.post(
        member_url("core:remove_member", world.school, world.school["dsl"]), {"reason": "x"}
    )
    assert response.status_code == 200
    assert "Only a headteacher" in text(response)
    assert snapshot() == before


# --- resend -------------------------------------------------------------------------------


def test_resending_an_invitation_through_the_page(
    world, client_for, django_capture_on_commit_callbacks
):
    membership = services.invite_member(
        world.school.organisation,
        actor=world.school["headteacher"],
        email="pending@example.org",
        name="Pat Pending",
        roles=["staff"],
    )
    client = client_for(world.school["information_manager"])
    page = client.get(url("core:member", world.school, member=membership.uuid))
    assert "Send the invitation again" in text(page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("core:resend_invitation", world.school, member=membership.uuid))
    assert response.status_code == 302
    assert response["Location"] == url("core:member", world.school, member=membership.uuid)
    assert [m.to for m in mail.outbox] == [["pending@example.org"]]
    assert last_event("membership.invitation_resent").actor == world.school["information_manager"]
    assert "Invitation sent again to pending@example.org" in text(client.get(response["Location"]))


def test_resending_to_someone_who_accepted_says_so(world, client_for):
    staff = world.school["staff"]
    client = client_for(world.school["headteacher"])
    assert "Send the invitation again" not in text(
        client.get(member_url("core:member", world.school, staff))
    )
    before = snapshot()
    response = client.post(member_url("core:resend_invitation", world.school, staff))
    assert response.status_code == 302
    assert "already accepted" in text(client.get(response["Location"]))
    assert snapshot() == before


def test_resend_only_answers_post(world, client_for):
    response = client_for(world.school["headteacher"]).get(
        member_url("core:resend_invitation", world.school, world.school["staff"])
    )
    assert response.status_code == 405


# --- accepting an invitation ---------------------------------------------------------------


@pytest.fixture
def invitee(world):
    membership = services.invite_member(
        world.school.organisation,
        actor=world.school["headteacher"],
        email="invitee@example.org",
        name="Ivy Invitee",
        roles=["staff"],
    )
    return membership.user


def test_a_valid_link_sets_the_password_and_signs_in(world, invitee):
    client = Client()
    path = services.invitation_path(invitee)
    page = client.get(path)
    assert page.status_code == 200
    assert "Ivy Invitee" in text(page)
    assert 'name="new_password1"' in text(page)

    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    invitee.refresh_from_db()
    assert invitee.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(invitee.pk)
    event = last_event("membership.invitation_accepted")
    assert event.actor == invitee
    assert event.organisation == world.school.organisation
    # And in they go.
    response = client.get(reverse("core:home"))
    assert response["Location"] == url("core:dashboard", world.school)
    assert client.get(response["Location"]).status_code == 200


def test_a_used_link_shows_the_invalid_page(world, invitee):
    path = services.invitation_path(invitee)
    Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    for method in ("get", "post"):
        response = getattr(Client(), method)(
            path, {"new_password1": "another password 123", "new_password2": "another password 123"}
        )
        assert response.status_code == 404
        assert "This invitation link does not work" in text(response)
    invitee.refresh_from_db()
    assert invitee.check_password(NEW_PASSWORD)


def test_the_link_of_an_existing_account_does_not_work(world):
    staff = world.school["staff"]
    token = default_token_generator.make_token(staff)
    response = Client().get(f"/invitation/{staff.uuid}/{token}/")
    assert response.status_code == 404


@pytest.mark.parametrize("tamper", ["token", "unknown_user", "garbage_user", "other_user"])
def test_a_tampered_link_shows_the_invalid_page(world, invitee, tamper):
    other = services.invite_member(
        world.school.organisation,
        actor=world.school["headteacher"],
        email="other-invitee@example.org",
        name="Otto Other",
        roles=["staff"],
    ).user
    user = str(invitee.uuid)
    token = default_token_generator.make_token(invitee)
    if tamper == "token":
        token = token[:-1] + ("a" if token[-1] != "a" else "b")
    elif tamper == "unknown_user":
        user = str(uuid.uuid4())
    elif tamper == "garbage_user":
        user = "not-a-uuid"
    elif tamper == "other_user":  # the invitee's token on someone else's account
        user = str(other.uuid)
    before = snapshot()
    path = f"/invitation/{user}/{token}/"
    response = Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 404
    assert "This invitation link does not work" in text(response)
    assert snapshot() == before


def test_a_link_works_for_seven_days(world, invitee):
    path = services.invitation_path(invitee)
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert Client().get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = Client().get(path)
    assert response.status_code == 404
    assert "This invitation link does not work" in text(response)


def test_mismatched_or_weak_passwords_are_refused_beside_the_field(world, invitee):
    path = services.invitation_path(invitee)
    before = snapshot()
    response = Client().post(
        path, {"new_password1": NEW_PASSWORD, "new_password2": "different one 99"}
    )
    assert response.status_code == 200
    assert element_text(text(response), "id_new_password2_error")
    response = Client().post(path, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert "at least 12 characters" in element_text(text(response), "id_new_password2_error")
    assert snapshot() == before
    invitee.refresh_from_db()
    assert not invitee.has_usable_password()


def test_a_privileged_invitee_goes_on_to_set_up_a_second_factor(world):
    membership = services.invite_member(
        world.school.organisation,
        actor=world.school["headteacher"],
        email="new-dsl@example.org",
        name="Dee Esel",
        roles=["dsl"],
    )
    client = Client()
    path = services.invitation_path(membership.user)
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = client.get(url("core:dashboard", world.school))
    assert response["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("mfa_activate_totp"), follow=True).status_code == 200


# --- the members list ---------------------------------------------------------------------


def names_listed(response) -> list[str]:
    """Names in the members table, in order (the links to each member's page)."""
    return re.findall(
        r'<a class="govuk-link" href="/o/[^/]+/members/[0-9a-f-]{36}/">([^<]+)</a>', text(response)
    )


def test_the_list_shows_current_members(world, client_for):
    response = client_for(world.school["headteacher"]).get(url("core:members", world.school))
    assert response.status_code == 200
    names = names_listed(response)
    expected = sorted([world.school[r.value].name for r in Role] + [world.trust_dpo.name])
    assert names == expected
    assert world.other["staff"].name not in text(response)
    assert "for Northbridge Learning Trust" in text(response)


def test_search_by_name_email_or_job_title(world, client_for):
    client = client_for(world.school["headteacher"])
    membership = membership_of(world.school["volunteer"], world.school)
    Membership.objects.filter(pk=membership.pk).update(job_title="Reading helper")
    members = url("core:members", world.school)
    assert names_listed(client.get(members, {"q": "deputy"})) == [world.school["deputy_dsl"].name]
    assert names_listed(client.get(members, {"q": "INFORMATION_MANAGER@"})) == [
        world.school["information_manager"].name
    ]
    assert names_listed(client.get(members, {"q": "reading"})) == [world.school["volunteer"].name]
    nothing = client.get(members, {"q": "zzzz"})
    assert names_listed(nothing) == []
    assert "No members match" in text(nothing)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_filter_by_role(world, client_for, role):
    response = client_for(world.school["headteacher"]).get(
        url("core:members", world.school), {"role": role}
    )
    expected = [world.school[role].name]
    if role == "dpo":
        expected = sorted([*expected, world.trust_dpo.name])
    assert names_listed(response) == expected


def test_filter_by_status(world, client_for):
    head = world.school["headteacher"]
    services.remove_member(
        membership_of(world.school["staff"], world.school), actor=head, reason="Left"
    )
    client = client_for(head)
    members = url("core:members", world.school)
    assert names_listed(client.get(members, {"status": "removed"})) == [world.school["staff"].name]
    assert world.school["staff"].name not in names_listed(client.get(members))
    assert world.school["staff"].name not in names_listed(client.get(members, {"status": "active"}))


def test_an_unknown_role_filter_is_ignored(world, client_for):
    response = client_for(world.school["headteacher"]).get(
        url("core:members", world.school), {"role": "wizard"}
    )
    assert response.status_code == 200
    assert len(names_listed(response)) == 10


def test_csv_export(world, client_for):
    head = world.school["headteacher"]
    services.remove_member(
        membership_of(world.school["volunteer"], world.school), actor=head, reason="x"
    )
    response = client_for(head).get(url("core:members", world.school), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="alder-members.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Name", "Email", "Job title", "Roles", "On behalf of", "Since", "Removed"]
    by_email = {row[1]: row for row in rows[1:]}
    assert len(by_email) == 9  # the volunteer was removed
    assert world.school["volunteer"].email not in by_email
    assert world.other["staff"].email not in by_email
    assert by_email[world.trust_dpo.email][3] == "Data protection officer"
    assert by_email[world.trust_dpo.email][4] == "Northbridge Learning Trust"
    assert by_email[world.school["staff"].email][6] == ""


def test_csv_export_follows_the_filters(world, client_for):
    head = world.school["headteacher"]
    client = client_for(head)
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    url("core:members", world.school), {"format": "csv", "role": "dpo"}
                ).content.decode()
            )
        )
    )
    assert sorted(row[1] for row in rows[1:]) == sorted(
        [world.school["dpo"].email, world.trust_dpo.email]
    )
    services.remove_member(
        membership_of(world.school["staff"], world.school), actor=head, reason="x"
    )
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    url("core:members", world.school), {"format": "csv", "status": "removed"}
                ).content.decode()
            )
        )
    )
    assert [row[1] for row in rows[1:]] == [world.school["staff"].email]
    assert rows[1][6]  # the removal date


def add_members(world, count):
    for n in range(count):
        user = make_user(f"extra{n:03d}@alder.test", f"Extra Member {n:03d}")
        add_membership(user, world.school.organisation, Role.STAFF, Role.VOLUNTEER)


def count_queries(client, path, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"q": "extra"}, {"role": "staff"}, {"format": "csv"}])
def test_the_members_list_query_count_does_not_grow_with_rows(
    world, client_for, django_assert_max_num_queries, params
):
    client = client_for(world.school["headteacher"])
    members = url("core:members", world.school)
    add_members(world, 5)
    few = count_queries(client, members, params)
    add_members_from = Membership.objects.count()
    for n in range(5, 60):
        user = make_user(f"extra{n:03d}@alder.test", f"Extra Member {n:03d}")
        add_membership(user, world.school.organisation, Role.STAFF, Role.VOLUNTEER)
    assert Membership.objects.count() == add_members_from + 55
    many = count_queries(client, members, params)
    assert many == few
    with django_assert_max_num_queries(
        13
    ):  # session, user, gate (2), membership (2), counts (2), page (2), session save (3)
        client.get(members, params)


def test_the_list_is_paginated(world, client_for):
    add_members(world, 60)  # 70 members in all
    client = client_for(world.school["headteacher"])
    members = url("core:members", world.school)
    first = client.get(members)
    assert len(names_listed(first)) == 25
    assert "70 members" in text(first)
    third = client.get(members, {"page": 3})
    assert len(names_listed(third)) == 20
    everyone = set()
    for page in (1, 2, 3):
        everyone.update(names_listed(client.get(members, {"page": page})))
    assert len(everyone) == 70
    # A page past the end shows the last page.
    assert names_listed(client.get(members, {"page": 99})) == names_listed(third)


def test_the_audit_trail_of_page_actions_is_unbroken(world, client_for):
    client = client_for(world.school["headteacher"])
    client.post(url("core:invite_member", world.school), invitation_data())
    staff = world.school["staff"]
    client.post(member_url("core:member", world.school, staff), {"roles": ["volunteer"]})
    client.post(member_url("core:remove_member", world.school, staff), {"reason": "Left"})
    verbs = list(
        AuditEvent.objects.filter(organisation=world.school.organisation)
        .order_by("sequence")
        .values_list("verb", flat=True)
    )
    assert verbs[-3:] == ["membership.invited", "membership.roles_changed", "membership.removed"]
    assert_chain_intact(world.school.organisation)
    assert AuditEvent.objects.filter(organisation=world.school.organisation).aggregate(
        Max("sequence")
    )["sequence__max"] == len(verbs)


def test_user_count_unchanged_by_failed_invitations(world, client_for):
    before = User.objects.count()
    client_for(world.school["staff"]).post(
        url("core:invite_member", world.school), invitation_data()
    )
    assert User.objects.count() == before
