"""Building roll changes in tests, through the services as the pages do."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from infoshare.core.models import Organisation, OrganisationKind, Person, PersonKind, User
from infoshare.core.upn import make_upn
from infoshare.statutory.models import ChangeKind, NotificationMethod, RemovalGround, RollChange
from infoshare.statutory.services import roll as services

ANOTHER_SCHOOL = "9-1-a-another-school"


def make_pupil(
    organisation: Organisation,
    given: str = "Ellis",
    family: str = "Marsh",
    *,
    upn_body: str = "",
    **fields: Any,
) -> Person:
    return Person.objects.create(
        organisation=organisation,
        kind=PersonKind.PUPIL,
        given_name=given,
        family_name=family,
        upn=make_upn(upn_body) if upn_body else "",
        **fields,
    )


def ground(code: str = ANOTHER_SCHOOL) -> RemovalGround:
    return RemovalGround.objects.get(code=code)


def joining(pupil: Person | None = None, *, on: datetime.date | None = None, **fields: Any):
    """A draft of a pupil joining: `pupil`, or a new pupil when none is given."""
    defaults: dict[str, Any] = {} if pupil else {"given_name": "Noor", "family_name": "Ahmed"}
    return services.RollChangeDraft(
        kind=ChangeKind.JOINED,
        change_date=on or timezone.localdate(),
        pupil=pupil,
        **{**defaults, **fields},
    )


def removal(pupil: Person, *, on: datetime.date | None = None, **fields: Any):
    fields.setdefault("ground", ground())
    return services.RollChangeDraft(
        kind=ChangeKind.REMOVED, change_date=on or timezone.localdate(), pupil=pupil, **fields
    )


def record(organisation: Organisation, actor: User, draft: Any = None) -> RollChange:
    return services.record_roll_change(organisation, actor=actor, draft=draft or joining())


def notification(
    local_authority: Organisation, *, on: datetime.date | None = None, **fields: Any
) -> services.Notification:
    fields.setdefault("method", NotificationMethod.SECURE_EMAIL)
    return services.Notification(
        local_authority=local_authority, notified_on=on or timezone.localdate(), **fields
    )


def notify(organisation: Organisation, actor: User, changes: list[RollChange], la: Organisation):
    return services.notify_roll_changes(
        organisation, actor=actor, changes=changes, notification=notification(la)
    )


def second_council() -> Organisation:
    return Organisation.objects.create(
        name="Westdale Council", slug="westdale", kind=OrganisationKind.LOCAL_AUTHORITY
    )
