"""Who may see the oversight table (issue 7 item 6), and of which schools.

Oversight spans organisations, so its predicate takes the user alone: a
person oversees every school where they hold an active membership as DPO or
auditor (a trust's DPO serving twenty schools oversees twenty; a school's own
DPO, one). Anyone holding neither role in any school may not open the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rules

from infoshare.core.models import Membership, Organisation, OrganisationKind, Role

if TYPE_CHECKING:
    from django.db.models import QuerySet

OVERSIGHT_ROLES = (Role.DPO, Role.AUDITOR)


def overseen_schools(user: Any) -> QuerySet[Organisation]:
    """The schools `user` oversees, by name: one query when evaluated."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    memberships = Membership.objects.active().holding(*OVERSIGHT_ROLES).filter(user=user)
    return Organisation.objects.filter(
        kind=OrganisationKind.SCHOOL,
        pk__in=memberships.values("organisation"),
    ).order_by("name")


@rules.predicate
def oversees_schools(user: Any) -> bool:
    return overseen_schools(user).exists()


can_view_oversight = oversees_schools

rules.add_perm("reminders.view_oversight", can_view_oversight)
