"""Roll changes the local authority is still to be told of (reminders, issue 7).

For those who keep the roll (the headteacher and the information manager):
one item per change to notify, from the day it is recorded, because it is
due at once; due on its deadline (a joining, the fifth day after it;
a removal, the removal date, regulation 13) and overdue the day after. A
title names the change by reference and kind, never the pupil, because the
same words go into emails. See `infoshare.reminders.items` for the interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from infoshare.reminders.items import DueItem, is_overdue
from infoshare.statutory.models import ChangeKind, NotificationStatus, RollChange
from infoshare.statutory.rules import can_keep_roll
from infoshare.statutory.services.roll import in_time

if TYPE_CHECKING:
    import datetime

    from django.db.models import QuerySet

    from infoshare.core.models import Organisation, User

NOTIFY_KIND = "roll_change.notify"
NOTIFY_LABEL = "Roll changes to notify the local authority of"
KIND_WORDS = {ChangeKind.JOINED: "pupil joined", ChangeKind.REMOVED: "pupil removed"}


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """Every change to notify, for those who keep the roll; nothing for anyone else."""
    if not can_keep_roll(user, organisation):
        return []
    return [_item(change, today) for change in _to_notify(organisation)]


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """The changes of `organisation` still to notify past their deadline."""
    return [_item(change, today) for change in _to_notify(organisation).exclude(in_time(today))]


def _to_notify(organisation: Organisation) -> QuerySet[RollChange]:
    # Only what a title needs: the pupil is never loaded for a reminder.
    return (
        RollChange.objects.filter(organisation=organisation, status=NotificationStatus.TO_NOTIFY)
        .select_related("organisation")
        .only("reference", "kind", "change_date", "status", "organisation")
        .order_by("change_date", "pk")
    )


def _item(change: RollChange, today: datetime.date) -> DueItem:
    organisation = change.organisation
    return DueItem(
        kind=NOTIFY_KIND,
        kind_label=NOTIFY_LABEL,
        title=f"Notify the local authority: {change.reference} ({KIND_WORDS[change.kind]})",  # type: ignore[index]
        url=reverse(
            "statutory:roll_change",
            kwargs={"org": organisation.slug, "reference": change.reference},
        ),
        organisation=organisation,
        due=change.deadline,
        overdue=is_overdue(change.deadline, today),
    )
