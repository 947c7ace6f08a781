"""Demo roll changes for `seed_demo`, made through the services as the school's information
manager would make them: a pupil joining still due, one overdue, a removal due and one
overdue, one notified to the local authority (with its decision in the log) and one
withdrawn. Pupils joining are new to the school, so they are added to its people list;
removals are of the school's demo pupils. Nothing is added to a school that has roll
changes already, so running the demo again changes nothing.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from infoshare.core.emails import members_holding
from infoshare.core.models import Organisation, OrganisationKind, Person, PersonKind, Role
from infoshare.statutory.models import ChangeKind, NotificationMethod, RemovalGround, RollChange
from infoshare.statutory.services import roll as services

if TYPE_CHECKING:
    from infoshare.core.models import User

DAYS = datetime.timedelta(days=1)


def seed_roll_changes(organisation: Organisation) -> None:
    """Six roll changes at every stage, unless the school has roll changes already."""
    if RollChange.objects.filter(organisation=organisation).exists():
        return
    keeper = _keeper(organisation)
    pupils = list(Person.objects.in_organisation(organisation).filter(kind=PersonKind.PUPIL)[6:8])
    if keeper is None or len(pupils) < 2:
        return
    today = timezone.localdate()

    def record(draft: services.RollChangeDraft) -> RollChange:
        return services.record_roll_change(organisation, actor=keeper, draft=draft)

    def joining(given: str, family: str, days_ago: int) -> services.RollChangeDraft:
        return services.RollChangeDraft(
            kind=ChangeKind.JOINED,
            change_date=today - days_ago * DAYS,
            given_name=given,
            family_name=family,
            date_of_birth=datetime.date(today.year - 8, 4, 17),
        )

    def removal(pupil: Person, days_from_now: int, ground: str) -> services.RollChangeDraft:
        return services.RollChangeDraft(
            kind=ChangeKind.REMOVED,
            change_date=today + days_from_now * DAYS,
            pupil=pupil,
            ground=RemovalGround.objects.get(code=ground),
        )

    record(joining("Amara", "Okafor", 2))
    record(joining("Tomasz", "Nowak", 9))
    record(removal(pupils[0], 7, "9-1-a-another-school"))
    record(removal(pupils[1], -3, "9-1-g-moved-away"))
    told = record(joining("Isla", "Fernandez", 20))
    authority = _local_authority(organisation)
    if authority is not None:
        services.notify_roll_changes(
            organisation,
            actor=keeper,
            changes=[told],
            notification=services.Notification(
                local_authority=authority,
                notified_on=today - 17 * DAYS,
                method=NotificationMethod.LA_PORTAL,
                reference="CME-2026-0412",
            ),
        )
    mistaken = record(joining("Ruby", "Chen", 4))
    services.withdraw_roll_change(
        mistaken, actor=keeper, reason="Recorded twice: the pupil's place was not taken up."
    )


def _keeper(organisation: Organisation) -> User | None:
    for role in (Role.INFORMATION_MANAGER, Role.HEADTEACHER):
        holders = members_holding(organisation, role)
        if holders:
            return holders[0]
    return None


def _local_authority(organisation: Organisation) -> Organisation | None:
    return services.default_local_authority(organisation) or (
        Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY).first()
    )
