"""Permission predicates for organisations and members, named for the question they answer.

Predicates take (user, organisation). A user's roles in an organisation are
read once per request and kept on the user object, so checking many
predicates (the navigation does) costs one query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rules

from infoshare.core.models import Membership, Organisation, Role

if TYPE_CHECKING:
    from collections.abc import Callable

_CACHE_ATTRIBUTE = "_infoshare_roles_by_organisation"


def roles_in(user: Any, organisation: Organisation | None) -> frozenset[str]:
    """The roles `user` holds in `organisation` through an active membership."""
    if organisation is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cache: dict[int, frozenset[str]] = user.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    if organisation.pk not in cache:
        membership = (
            Membership.objects.active()
            .with_roles()
            .filter(user=user, organisation=organisation)
            .first()
        )
        cache[organisation.pk] = membership.roles if membership else frozenset()
    return cache[organisation.pk]


def remember_membership(user: Any, membership: Membership) -> None:
    """Seed the per-request cache from a membership the view already loaded."""
    user.__dict__.setdefault(_CACHE_ATTRIBUTE, {})[membership.organisation_id] = membership.roles


def forget_roles(user: Any) -> None:
    user.__dict__.pop(_CACHE_ATTRIBUTE, None)


def _holds(role: Role) -> Callable[[Any, Organisation | None], bool]:
    def check(user: Any, organisation: Organisation | None) -> bool:
        return role in roles_in(user, organisation)

    check.__name__ = f"is_{role.value}"
    return check


is_member = rules.predicate(
    lambda user, organisation: bool(roles_in(user, organisation)), name="is_member"
)
is_headteacher = rules.predicate(_holds(Role.HEADTEACHER))
is_chair = rules.predicate(_holds(Role.CHAIR))
is_dpo = rules.predicate(_holds(Role.DPO))
is_dsl = rules.predicate(_holds(Role.DSL))
is_deputy_dsl = rules.predicate(_holds(Role.DEPUTY_DSL))
is_information_manager = rules.predicate(_holds(Role.INFORMATION_MANAGER))
is_staff_member = rules.predicate(_holds(Role.STAFF))
is_volunteer = rules.predicate(_holds(Role.VOLUNTEER))
is_auditor = rules.predicate(_holds(Role.AUDITOR))

# The questions the application asks.
can_view_organisation = is_member
can_manage_members = is_headteacher | is_information_manager
# Only a headteacher grants or removes the roles that approve, advise on or
# own sensitive information, so an information manager cannot raise anyone
# (or themselves, through an accomplice) to those roles.
can_grant_privileged_roles = is_headteacher
can_view_audit = is_dpo | is_headteacher | is_chair | is_auditor

rules.add_perm("core.view_organisation", can_view_organisation)
rules.add_perm("core.manage_members", can_manage_members)
rules.add_perm("core.grant_privileged_roles", can_grant_privileged_roles)
rules.add_perm("audit.view_audit", can_view_audit)

# People (data subjects): everyone may look someone up to record a decision
# about them; the lists are kept by those who keep the school's records.
can_view_people = is_member
can_manage_people = is_headteacher | is_information_manager | is_dpo

rules.add_perm("core.view_people", can_view_people)
rules.add_perm("core.manage_people", can_manage_people)
