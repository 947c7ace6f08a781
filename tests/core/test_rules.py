"""Each permission predicate, for each role, in one's own school and in the other."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from infoshare.core import rules as core_rules
from infoshare.core.models import Membership, Role, User
from tests.conftest import add_membership, make_user

ALL_ROLES = [role.value for role in Role]

ROLE_PREDICATES = {
    Role.HEADTEACHER: core_rules.is_headteacher,
    Role.CHAIR: core_rules.is_chair,
    Role.DPO: core_rules.is_dpo,
    Role.DSL: core_rules.is_dsl,
    Role.DEPUTY_DSL: core_rules.is_deputy_dsl,
    Role.INFORMATION_MANAGER: core_rules.is_information_manager,
    Role.STAFF: core_rules.is_staff_member,
    Role.VOLUNTEER: core_rules.is_volunteer,
    Role.AUDITOR: core_rules.is_auditor,
}

# The questions the application asks, and the roles for which the answer is yes.
QUESTIONS = {
    "can_view_organisation": (core_rules.can_view_organisation, set(ALL_ROLES)),
    "can_manage_members": (core_rules.can_manage_members, {"headteacher", "information_manager"}),
    "can_grant_privileged_roles": (core_rules.can_grant_privileged_roles, {"headteacher"}),
    "can_view_audit": (core_rules.can_view_audit, {"dpo", "headteacher", "chair", "auditor"}),
    "is_member": (core_rules.is_member, set(ALL_ROLES)),
}

PERMISSIONS = {
    "core.view_organisation": set(ALL_ROLES),
    "core.manage_members": {"headteacher", "information_manager"},
    "core.grant_privileged_roles": {"headteacher"},
    "audit.view_audit": {"dpo", "headteacher", "chair", "auditor"},
}


def fresh(user: User) -> User:
    """The same person without the per-request role cache."""
    return User.objects.get(pk=user.pk)


def test_every_role_has_a_predicate():
    assert set(ROLE_PREDICATES) == set(Role)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_question_for_each_role_in_own_school(world, role, question):
    predicate, allowed = QUESTIONS[question]
    user = world.school[role]
    assert predicate(user, world.school.organisation) is (role in allowed)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_question_for_a_member_of_the_other_school_is_always_no(world, role, question):
    predicate, _allowed = QUESTIONS[question]
    assert predicate(world.other[role], world.school.organisation) is False
    assert predicate(world.school[role], world.other.organisation) is False


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("holder_role", ALL_ROLES)
def test_role_predicates(world, role, holder_role):
    predicate = ROLE_PREDICATES[Role(role)]
    assert predicate(world.school[holder_role], world.school.organisation) is (role == holder_role)
    # The same role in the other school says nothing about this one.
    assert predicate(world.other[holder_role], world.school.organisation) is False


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("permission", sorted(PERMISSIONS))
def test_permissions_through_has_perm(world, role, permission):
    allowed = PERMISSIONS[permission]
    organisation = world.school.organisation
    assert world.school[role].has_perm(permission, organisation) is (role in allowed)
    assert world.other[role].has_perm(permission, organisation) is False


@pytest.mark.parametrize(
    "predicate",
    [*ROLE_PREDICATES.values(), *(p for p, _ in QUESTIONS.values())],
    ids=lambda p: p.name,
)
def test_anonymous_users_are_refused_everything(world, predicate):
    assert predicate(AnonymousUser(), world.school.organisation) is False


@pytest.mark.parametrize("permission", sorted(PERMISSIONS))
def test_anonymous_has_no_permission(world, permission):
    assert AnonymousUser().has_perm(permission, world.school.organisation) is False


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_no_organisation_means_no(world, question):
    predicate, _ = QUESTIONS[question]
    assert predicate(world.school["headteacher"], None) is False


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_removed_member_loses_every_permission(world, role):
    user = world.school[role]
    Membership.objects.filter(user=user, organisation=world.school.organisation).update(
        ended_at=timezone.now()
    )
    user = fresh(user)
    for question, (predicate, _) in QUESTIONS.items():
        assert predicate(user, world.school.organisation) is False, question
    assert ROLE_PREDICATES[Role(role)](user, world.school.organisation) is False


def test_roles_held_together_add_up(world):
    user = make_user("two-hats@alder.test", "Two Hats")
    add_membership(user, world.school.organisation, Role.INFORMATION_MANAGER, Role.DPO)
    organisation = world.school.organisation
    assert core_rules.can_manage_members(user, organisation)
    assert core_rules.can_view_audit(user, organisation)
    assert not core_rules.can_grant_privileged_roles(user, organisation)
    assert core_rules.roles_in(user, organisation) == {"information_manager", "dpo"}


def test_trust_dpo_is_dpo_in_both_schools_but_nothing_in_the_trust(world):
    dpo = world.trust_dpo
    for school in (world.school, world.other):
        assert core_rules.is_dpo(dpo, school.organisation)
        assert core_rules.can_view_audit(dpo, school.organisation)
        assert not core_rules.can_manage_members(dpo, school.organisation)
    assert not core_rules.is_member(dpo, world.trust)
    assert not core_rules.can_view_audit(dpo, world.trust)


def test_nobody_is_a_member_of_an_external_party(world):
    for role in ALL_ROLES:
        assert not core_rules.is_member(world.school[role], world.dfe)


def test_roles_are_read_once_per_user_object(world, django_assert_num_queries):
    user = fresh(world.school["headteacher"])
    organisation = world.school.organisation
    with django_assert_num_queries(2):  # the membership, then its roles
        for predicate, _ in QUESTIONS.values():
            predicate(user, organisation)
        for predicate in ROLE_PREDICATES.values():
            predicate(user, organisation)
    core_rules.forget_roles(user)
    with django_assert_num_queries(2):
        core_rules.can_manage_members(user, organisation)
