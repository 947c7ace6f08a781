"""Every membership service: the allowed path, the refused paths, the audit event, the email."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import resolve

from infoshare.audit.models import AuditEvent
from infoshare.core import rules as core_rules
from infoshare.core import services
from infoshare.core.models import Membership, Organisation, OrganisationKind, Role, User
from tests.conftest import PASSWORD, add_membership, make_user
from tests.core.support import assert_chain_intact, changes_of, last_event, snapshot

MANAGERS = ["headteacher", "information_manager"]
NOT_MANAGERS = [r.value for r in Role if r.value not in MANAGERS]
PRIVILEGED = ["headteacher", "chair", "dpo", "dsl", "deputy_dsl"]
UNPRIVILEGED = ["information_manager", "staff", "volunteer", "auditor"]
NEW_PASSWORD = "a new and long enough passphrase"


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def membership_of(user: User, organisation: Organisation) -> Membership:
    return Membership.objects.with_roles().get(user=user, organisation=organisation)


def invite(world, actor_role="headteacher", **overrides):
    arguments = {
        "actor": world.school[actor_role],
        "email": "new.teacher@example.org",
        "name": "Nina New",
        "roles": ["staff"],
        "job_title": "Year 3 teacher",
    }
    arguments.update(overrides)
    return services.invite_member(world.school.organisation, **arguments)


def link_in(body: str) -> str:
    match = re.search(r"https?://\S+", body)
    assert match, body
    return match.group(0)


# --- invite_member ----------------------------------------------------------------------


@pytest.mark.parametrize("actor_role", MANAGERS)
def test_a_manager_invites_a_new_person(world, actor_role, django_capture_on_commit_callbacks):
    actor = world.school[actor_role]
    users_before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        membership = invite(world, actor_role)
    assert len(callbacks) == 1

    assert User.objects.count() == users_before + 1
    user = membership.user
    assert user.email == "new.teacher@example.org"
    assert user.name == "Nina New"
    assert not user.has_usable_password()
    assert membership.organisation == world.school.organisation
    assert membership.is_active
    assert membership.job_title == "Year 3 teacher"
    assert membership.acting_for is None
    assert membership_of(user, world.school.organisation).roles == {"staff"}

    event = last_event("membership.invited")
    assert event.actor == actor
    assert event.organisation == world.school.organisation
    assert event.object_type == "core.membership"
    assert event.object_id == str(membership.uuid)
    assert event.object_label == "Nina New <new.teacher@example.org>"
    assert changes_of(event) == {
        "email": "new.teacher@example.org",
        "roles": ["staff"],
        "acting_for": None,
    }
    assert_chain_intact(world.school.organisation)


def test_invitation_email_has_a_working_link(world, settings, django_capture_on_commit_callbacks):
    settings.BASE_URL = "https://infoshare.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        membership = invite(world, roles=["staff", "volunteer"])

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.teacher@example.org"]
    assert "Alder Primary School" in message.subject
    assert "invited" in message.subject.lower()
    assert "Dear Nina New" in message.body
    assert world.school["headteacher"].name in message.body
    assert "Staff" in message.body
    assert "Volunteer" in message.body
    assert "7 days" in message.body

    link = link_in(message.body)
    assert link.startswith("https://infoshare.example.org/invitation/")
    path = link.removeprefix("https://infoshare.example.org")
    match = resolve(path)
    assert match.view_name == "core:accept_invitation"
    assert match.kwargs["user"] == str(membership.user.uuid)
    assert default_token_generator.check_token(membership.user, match.kwargs["token"])
    assert path == services.invitation_path(membership.user)


def test_no_email_leaves_before_the_transaction_commits(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(world)
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_an_existing_account_gets_the_added_email_and_no_new_user(
    world, django_capture_on_commit_callbacks
):
    existing = world.other["staff"]
    users_before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        membership = invite(world, email=existing.email.upper(), name="Ignored Name")
    assert User.objects.count() == users_before
    assert membership.user == existing
    assert fresh(existing).name == existing.name  # the name typed does not rename them
    assert fresh(existing).check_password(PASSWORD)  # their password is untouched

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [existing.email]
    assert "can now use" in message.subject
    assert "Alder Primary School" in message.subject
    assert "/invitation/" not in message.body
    assert "Sign in" in message.body
    # They now hold roles in both schools.
    assert core_rules.is_member(fresh(existing), world.school.organisation)
    assert core_rules.is_member(fresh(existing), world.other.organisation)


def test_someone_invited_elsewhere_who_never_accepted_gets_an_invitation_link(
    world, django_capture_on_commit_callbacks
):
    pending = services.invite_member(
        world.other.organisation,
        actor=world.other["headteacher"],
        email="pending@example.org",
        name="Pat Pending",
        roles=["staff"],
    ).user
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invite(world, email="pending@example.org")
    assert len(mail.outbox) == 1
    assert link_in(mail.outbox[0].body).endswith(services.invitation_path(pending))


def test_the_email_address_is_normalised(world):
    membership = invite(world, email="  Nina.New@Example.ORG ")
    assert membership.user.email == "nina.new@example.org"


def test_a_headteacher_grants_privileged_roles(world):
    membership = invite(world, roles=["dsl", "staff"])
    assert membership_of(membership.user, world.school.organisation).roles == {"dsl", "staff"}
    assert changes_of(last_event("membership.invited"))["roles"] == ["dsl", "staff"]


@pytest.mark.parametrize("privileged", PRIVILEGED)
def test_an_information_manager_cannot_grant_a_privileged_role(world, privileged):
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        invite(world, "information_manager", roles=["staff", privileged])
    assert "roles" in refused.value.message_dict
    assert "Only a headteacher" in refused.value.message_dict["roles"][0]
    assert snapshot() == before


@pytest.mark.parametrize("actor_role", NOT_MANAGERS)
def test_other_roles_cannot_invite(world, actor_role, django_capture_on_commit_callbacks):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        invite(world, actor_role)
    assert snapshot() == before


@pytest.mark.parametrize("actor_role", MANAGERS)
def test_a_manager_of_the_other_school_cannot_invite_here(world, actor_role):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        invite(world, actor=world.other[actor_role])
    assert snapshot() == before


def test_the_trust_dpo_cannot_invite(world):
    with pytest.raises(PermissionDenied):
        invite(world, actor=world.trust_dpo)


@pytest.mark.parametrize(
    ("roles", "message"),
    [([], "Select at least one role"), (["staff", "wizard"], "Unknown role: wizard")],
)
def test_roles_must_be_chosen_and_known(world, roles, message):
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        invite(world, roles=roles)
    assert refused.value.message_dict == {"roles": [message]}
    assert snapshot() == before


@pytest.mark.parametrize("email", ["staff@alder.test", "STAFF@Alder.Test", " staff@alder.test "])
def test_inviting_a_current_member_again_is_refused(
    world, email, django_capture_on_commit_callbacks
):
    before = snapshot()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        invite(world, email=email)
    assert "email" in refused.value.message_dict
    assert "already a member" in refused.value.message_dict["email"][0]
    assert snapshot() == before


def test_a_removed_member_can_be_invited_again(world, django_capture_on_commit_callbacks):
    staff = world.school["staff"]
    old = membership_of(staff, world.school.organisation)
    services.remove_member(old, actor=world.school["headteacher"], reason="Left")
    with django_capture_on_commit_callbacks(execute=True):
        new = invite(world, email=staff.email, roles=["volunteer"])
    assert new.pk != old.pk
    assert new.user == staff
    assert (
        Membership.objects.filter(user=staff, organisation=world.school.organisation).count() == 2
    )
    assert core_rules.roles_in(fresh(staff), world.school.organisation) == {"volunteer"}
    assert "can now use" in mail.outbox[-1].subject


@pytest.mark.parametrize(
    ("roles", "acting_for"), [(["dpo"], "trust"), (["auditor"], "local_authority")]
)
def test_serving_on_behalf_of_a_trust_or_local_authority(world, roles, acting_for):
    organisation = getattr(world, acting_for)
    membership = invite(world, roles=roles, acting_for=organisation)
    assert membership.acting_for == organisation
    assert changes_of(last_event("membership.invited"))["acting_for"] == organisation.slug


@pytest.mark.parametrize("roles", [["staff"], ["dpo", "staff"], ["headteacher"], ["dsl"]])
def test_only_a_dpo_or_auditor_serves_on_behalf(world, roles):
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        invite(world, roles=roles, acting_for=world.trust)
    assert "roles" in refused.value.message_dict
    assert snapshot() == before


@pytest.mark.parametrize("target", ["school", "other", "dfe"])
def test_acting_for_must_be_a_trust_or_local_authority(world, target):
    acting_for = {
        "school": world.school.organisation,
        "other": world.other.organisation,
        "dfe": world.dfe,
    }[target]
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        invite(world, roles=["dpo"], acting_for=acting_for)
    assert "acting_for" in refused.value.message_dict
    assert snapshot() == before


def test_nobody_from_a_school_can_invite_into_an_external_party(world):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.invite_member(
            world.dfe,
            actor=world.school["headteacher"],
            email="x@dfe.example",
            name="X",
            roles=["staff"],
        )
    assert snapshot() == before


def test_an_external_party_has_no_members(world):
    # Even someone wrongly placed as its headteacher cannot add people to it.
    wrongly_placed = make_user("ht@dfe.example", "Wrongly Placed")
    add_membership(wrongly_placed, world.dfe, Role.HEADTEACHER)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.invite_member(
            world.dfe,
            actor=wrongly_placed,
            email="x@dfe.example",
            name="X",
            roles=["staff"],
        )
    assert "External parties have no members" in " ".join(refused.value.messages)
    assert snapshot() == before


# --- resend_invitation --------------------------------------------------------------------


@pytest.mark.parametrize("actor_role", MANAGERS)
def test_a_manager_resends_an_invitation(world, actor_role, django_capture_on_commit_callbacks):
    membership = invite(world, roles=["dsl"])  # the information manager may resend to a DSL too
    actor = world.school[actor_role]
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_invitation(membership, actor=actor)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.teacher@example.org"]
    assert link_in(mail.outbox[0].body).endswith(services.invitation_path(membership.user))
    event = last_event("membership.invitation_resent")
    assert event.actor == actor
    assert event.organisation == world.school.organisation
    assert event.object_id == str(membership.uuid)
    assert changes_of(event) == {}


@pytest.mark.parametrize("actor_role", NOT_MANAGERS)
def test_other_roles_cannot_resend(world, actor_role, django_capture_on_commit_callbacks):
    membership = invite(world)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        services.resend_invitation(membership, actor=world.school[actor_role])
    assert snapshot() == before


def test_the_other_schools_headteacher_cannot_resend(world):
    membership = invite(world)
    with pytest.raises(PermissionDenied):
        services.resend_invitation(membership, actor=world.other["headteacher"])


def test_an_accepted_invitation_is_not_resent(world, django_capture_on_commit_callbacks):
    membership = membership_of(world.school["staff"], world.school.organisation)
    before = snapshot()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        services.resend_invitation(membership, actor=world.school["headteacher"])
    assert "already accepted" in " ".join(refused.value.messages)
    assert snapshot() == before


def test_no_invitation_is_resent_to_a_removed_member(world, django_capture_on_commit_callbacks):
    membership = invite(world)
    services.remove_member(membership, actor=world.school["headteacher"], reason="Mistake")
    membership = Membership.objects.get(pk=membership.pk)
    before = snapshot()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        services.resend_invitation(membership, actor=world.school["headteacher"])
    assert "no longer a member" in " ".join(refused.value.messages)
    assert snapshot() == before


def test_resend_checks_the_membership_as_stored_not_a_stale_copy(
    world, django_capture_on_commit_callbacks
):
    # change_roles and remove_member re-read (and lock) the membership; resending
    # must too, or a member removed meanwhile (another request, another tab) is
    # sent a fresh invitation link.
    membership = invite(world)
    stale = Membership.objects.get(pk=membership.pk)
    services.remove_member(membership, actor=world.school["headteacher"], reason="Mistake")
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.resend_invitation(stale, actor=world.school["headteacher"])
    assert snapshot() == before


# --- change_roles ---------------------------------------------------------------------------


def test_a_headteacher_changes_roles(world):
    staff = world.school["staff"]
    membership = membership_of(staff, world.school.organisation)
    changed = services.change_roles(
        membership, actor=world.school["headteacher"], roles=["staff", "deputy_dsl"]
    )
    assert changed.roles == {"staff", "deputy_dsl"}
    assert membership_of(staff, world.school.organisation).roles == {"staff", "deputy_dsl"}
    assert core_rules.is_deputy_dsl(fresh(staff), world.school.organisation)

    event = last_event("membership.roles_changed")
    assert event.actor == world.school["headteacher"]
    assert event.organisation == world.school.organisation
    assert event.object_id == str(membership.uuid)
    assert event.object_label == f"{staff.name} <{staff.email}>"
    assert changes_of(event) == {"roles": [["staff"], ["deputy_dsl", "staff"]]}
    assert_chain_intact(world.school.organisation)


@pytest.mark.parametrize("privileged", PRIVILEGED)
def test_a_headteacher_takes_a_privileged_role_away(world, privileged):
    holder = world.school[privileged] if privileged != "headteacher" else None
    if holder is None:  # a second headteacher, since nobody changes their own roles
        holder = make_user("second-ht@alder.test", "Second Head")
        add_membership(holder, world.school.organisation, Role.HEADTEACHER)
    membership = membership_of(holder, world.school.organisation)
    services.change_roles(membership, actor=world.school["headteacher"], roles=["staff"])
    assert membership_of(holder, world.school.organisation).roles == {"staff"}
    assert changes_of(last_event("membership.roles_changed")) == {
        "roles": [[privileged], ["staff"]]
    }


def test_an_information_manager_changes_unprivileged_roles(world):
    volunteer = world.school["volunteer"]
    membership = membership_of(volunteer, world.school.organisation)
    services.change_roles(
        membership, actor=world.school["information_manager"], roles=["staff", "auditor"]
    )
    assert membership_of(volunteer, world.school.organisation).roles == {"staff", "auditor"}
    event = last_event("membership.roles_changed")
    assert event.actor == world.school["information_manager"]
    assert changes_of(event) == {"roles": [["volunteer"], ["auditor", "staff"]]}


def test_an_information_manager_may_add_an_ordinary_role_to_a_dsl(world):
    # Only giving or taking away a privileged role needs the headteacher.
    dsl = world.school["dsl"]
    membership = membership_of(dsl, world.school.organisation)
    services.change_roles(
        membership, actor=world.school["information_manager"], roles=["dsl", "staff"]
    )
    assert membership_of(dsl, world.school.organisation).roles == {"dsl", "staff"}


@pytest.mark.parametrize("privileged", PRIVILEGED)
def test_an_information_manager_cannot_grant_a_privileged_role_by_changing_roles(world, privileged):
    membership = membership_of(world.school["staff"], world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.change_roles(
            membership, actor=world.school["information_manager"], roles=["staff", privileged]
        )
    assert "roles" in refused.value.message_dict
    assert snapshot() == before


@pytest.mark.parametrize("privileged", ["chair", "dpo", "dsl", "deputy_dsl"])
def test_an_information_manager_cannot_take_a_privileged_role_away(world, privileged):
    membership = membership_of(world.school[privileged], world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.change_roles(
            membership, actor=world.school["information_manager"], roles=["staff"]
        )
    assert "roles" in refused.value.message_dict
    assert snapshot() == before


@pytest.mark.parametrize("actor_role", NOT_MANAGERS)
def test_other_roles_cannot_change_roles(world, actor_role):
    membership = membership_of(world.school["volunteer"], world.school.organisation)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.change_roles(membership, actor=world.school[actor_role], roles=["staff"])
    assert snapshot() == before


def test_the_other_schools_headteacher_cannot_change_roles(world):
    membership = membership_of(world.school["staff"], world.school.organisation)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.change_roles(membership, actor=world.other["headteacher"], roles=["volunteer"])
    assert snapshot() == before


@pytest.mark.parametrize(
    ("actor_role", "roles"),
    [
        ("headteacher", ["headteacher", "staff"]),
        ("headteacher", ["staff"]),
        ("information_manager", ["information_manager", "staff"]),
        ("information_manager", ["staff"]),
    ],
)
def test_nobody_changes_their_own_roles(world, actor_role, roles):
    actor = world.school[actor_role]
    membership = membership_of(actor, world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.change_roles(membership, actor=actor, roles=roles)
    assert "cannot change your own roles" in " ".join(refused.value.messages)
    assert snapshot() == before


def test_an_information_manager_cannot_make_themself_headteacher(world):
    actor = world.school["information_manager"]
    membership = membership_of(actor, world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError):
        services.change_roles(membership, actor=actor, roles=["information_manager", "headteacher"])
    assert snapshot() == before
    assert not core_rules.is_headteacher(fresh(actor), world.school.organisation)


def test_a_removed_membership_cannot_be_changed(world):
    membership = membership_of(world.school["staff"], world.school.organisation)
    services.remove_member(membership, actor=world.school["headteacher"], reason="Left")
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.change_roles(membership, actor=world.school["headteacher"], roles=["volunteer"])
    assert "no longer a member" in " ".join(refused.value.messages)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("roles", "message"),
    [([], "Select at least one role"), (["staff", "wizard"], "Unknown role: wizard")],
)
def test_changed_roles_must_be_chosen_and_known(world, roles, message):
    membership = membership_of(world.school["staff"], world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.change_roles(membership, actor=world.school["headteacher"], roles=roles)
    assert refused.value.message_dict == {"roles": [message]}
    assert snapshot() == before


def test_the_same_roles_again_change_nothing_and_leave_no_event(world):
    membership = membership_of(world.school["staff"], world.school.organisation)
    before = snapshot()
    services.change_roles(membership, actor=world.school["headteacher"], roles=["staff"])
    assert snapshot() == before


def test_someone_serving_on_behalf_stays_a_dpo_or_auditor(world):
    membership = membership_of(world.trust_dpo, world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.change_roles(membership, actor=world.school["headteacher"], roles=["staff"])
    assert "roles" in refused.value.message_dict
    assert snapshot() == before
    services.change_roles(membership, actor=world.school["headteacher"], roles=["auditor"])
    assert membership_of(world.trust_dpo, world.school.organisation).roles == {"auditor"}
    # Their place in the other school is untouched.
    assert membership_of(world.trust_dpo, world.other.organisation).roles == {"dpo"}


# --- remove_member --------------------------------------------------------------------------


@pytest.mark.parametrize("actor_role", MANAGERS)
def test_a_manager_removes_a_member(world, actor_role):
    actor = world.school[actor_role]
    staff = world.school["staff"]
    membership = membership_of(staff, world.school.organisation)
    memberships_before = Membership.objects.count()
    removed = services.remove_member(membership, actor=actor, reason="  Left the school  ")

    assert removed.ended_at is not None
    assert not removed.is_active
    assert Membership.objects.count() == memberships_before  # the row stays
    reloaded = Membership.objects.get(pk=membership.pk)
    assert reloaded.ended_at is not None
    assert not core_rules.is_member(fresh(staff), world.school.organisation)
    assert User.objects.get(pk=staff.pk).is_active  # the account itself stays

    event = last_event("membership.removed")
    assert event.actor == actor
    assert event.organisation == world.school.organisation
    assert event.object_id == str(membership.uuid)
    assert changes_of(event) == {"roles": ["staff"], "reason": "Left the school"}
    assert_chain_intact(world.school.organisation)


@pytest.mark.parametrize("reason", ["", "   "])
def test_removal_needs_a_reason(world, reason):
    membership = membership_of(world.school["staff"], world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.remove_member(membership, actor=world.school["headteacher"], reason=reason)
    assert refused.value.message_dict == {"reason": ["Enter why you are removing this member"]}
    assert snapshot() == before


@pytest.mark.parametrize("privileged", ["chair", "dpo", "dsl", "deputy_dsl"])
def test_an_information_manager_cannot_remove_a_privileged_member(world, privileged):
    membership = membership_of(world.school[privileged], world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.remove_member(membership, actor=world.school["information_manager"], reason="x")
    assert "roles" in refused.value.message_dict
    assert snapshot() == before


def test_an_information_manager_cannot_remove_the_headteacher(world):
    membership = membership_of(world.school["headteacher"], world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError):
        services.remove_member(membership, actor=world.school["information_manager"], reason="x")
    assert snapshot() == before


def test_a_headteacher_removes_a_privileged_member(world):
    membership = membership_of(world.school["dsl"], world.school.organisation)
    services.remove_member(membership, actor=world.school["headteacher"], reason="Retired")
    assert not core_rules.is_dsl(fresh(world.school["dsl"]), world.school.organisation)
    assert changes_of(last_event("membership.removed")) == {"roles": ["dsl"], "reason": "Retired"}


@pytest.mark.parametrize("actor_role", MANAGERS)
def test_nobody_removes_themself(world, actor_role):
    actor = world.school[actor_role]
    membership = membership_of(actor, world.school.organisation)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.remove_member(membership, actor=actor, reason="Leaving")
    assert "cannot remove yourself" in " ".join(refused.value.messages)
    assert snapshot() == before


def test_a_removed_member_cannot_be_removed_again(world):
    membership = membership_of(world.school["staff"], world.school.organisation)
    services.remove_member(membership, actor=world.school["headteacher"], reason="Left")
    ended_at = Membership.objects.get(pk=membership.pk).ended_at
    before = snapshot()
    with pytest.raises(ValidationError):
        services.remove_member(membership, actor=world.school["headteacher"], reason="Again")
    assert snapshot() == before
    assert Membership.objects.get(pk=membership.pk).ended_at == ended_at


@pytest.mark.parametrize("actor_role", NOT_MANAGERS)
def test_other_roles_cannot_remove_members(world, actor_role):
    membership = membership_of(world.school["volunteer"], world.school.organisation)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.remove_member(membership, actor=world.school[actor_role], reason="x")
    assert snapshot() == before


def test_the_other_schools_headteacher_cannot_remove_members(world):
    membership = membership_of(world.school["staff"], world.school.organisation)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.remove_member(membership, actor=world.other["headteacher"], reason="x")
    assert snapshot() == before


def test_removing_the_trust_dpo_from_one_school_keeps_them_in_the_other(world):
    membership = membership_of(world.trust_dpo, world.school.organisation)
    services.remove_member(membership, actor=world.school["headteacher"], reason="New DPO")
    dpo = fresh(world.trust_dpo)
    assert not core_rules.is_dpo(dpo, world.school.organisation)
    assert core_rules.is_dpo(dpo, world.other.organisation)


# --- accept_invitation ---------------------------------------------------------------------


def test_accepting_sets_the_password_and_is_audited(world):
    user = invite(world).user
    services.accept_invitation(user, password=NEW_PASSWORD)
    user = fresh(user)
    assert user.has_usable_password()
    assert user.check_password(NEW_PASSWORD)
    event = last_event("membership.invitation_accepted")
    assert event.actor == user
    assert event.organisation == world.school.organisation
    assert event.object_id == str(membership_of(user, world.school.organisation).uuid)
    assert_chain_intact(world.school.organisation)


def test_accepting_is_recorded_in_every_organisation_joined(world):
    user = invite(world).user
    services.invite_member(
        world.other.organisation,
        actor=world.other["headteacher"],
        email=user.email,
        name=user.name,
        roles=["volunteer"],
    )
    services.accept_invitation(user, password=NEW_PASSWORD)
    events = AuditEvent.objects.filter(verb="membership.invitation_accepted", actor=user)
    assert {e.organisation for e in events} == {world.school.organisation, world.other.organisation}


def test_accepting_makes_the_invitation_link_invalid(world):
    user = invite(world).user
    token = default_token_generator.make_token(user)
    services.accept_invitation(user, password=NEW_PASSWORD)
    assert not default_token_generator.check_token(fresh(user), token)


# --- create_organisation -------------------------------------------------------------------


def test_create_organisation_is_audited_in_its_own_chain(world):
    actor = world.school["headteacher"]
    organisation = services.create_organisation(
        actor=actor,
        name="Cedar Junior School",
        slug="cedar",
        kind=OrganisationKind.SCHOOL,
        urn="100003",
        parent=world.trust,
    )
    organisation.refresh_from_db()
    assert organisation.parent == world.trust
    assert organisation.urn == "100003"
    event = last_event("organisation.created")
    assert event.organisation == organisation
    assert event.actor == actor
    assert event.object_type == "core.organisation"
    assert event.object_id == "cedar"
    assert event.sequence == 1
    assert changes_of(event) == {"kind": "school", "urn": "100003"}


def test_create_organisation_without_an_actor(db):
    organisation = services.create_organisation(
        actor=None, name="Westfield Trust", slug="westfield", kind=OrganisationKind.TRUST
    )
    event = last_event("organisation.created", organisation=organisation)
    assert event.actor is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "school", "urn": "12345"}, "urn"),
        ({"kind": "school", "urn": "100001"}, None),  # Alder's URN: a conditional constraint
        ({"kind": "school", "slug": "alder"}, "slug"),
        ({"kind": "trust", "urn": "123456"}, None),
        ({"kind": "school", "external_kind": "police"}, None),
        ({"kind": "castle"}, "kind"),
    ],
)
def test_create_organisation_refuses_bad_data(world, fields, field):
    arguments = {"actor": None, "name": "Bad", "slug": "bad", "urn": "", **fields}
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.create_organisation(**arguments)
    if field is not None:
        assert field in refused.value.message_dict
    assert snapshot() == before
