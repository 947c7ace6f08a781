"""What the returns calendar has waiting (reminders, issue 7, item 4): returns to submit.

For those who make the returns (`can_keep_returns`: the headteacher and the
information manager), each open return from `RETURN_NOTICE` (30 days) before
its due date, overdue once the date has passed, as the calendar tags it. A
return's title names a collection ("Autumn school census 2026/27"), never a
pupil, so it may go into the digest's emails. See `infoshare.reminders.items`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import reverse

from infoshare.reminders.items import DueItem, is_overdue
from infoshare.statutory.models import RETURN_NOTICE, ReturnStatus, StatutoryReturn
from infoshare.statutory.rules import can_keep_returns

if TYPE_CHECKING:
    import datetime

    from infoshare.core.models import Organisation, User

SUBMIT_KIND = "statutory_return.submit"
SUBMIT_LABEL = "Returns to submit"


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """The open returns due within the notice period or overdue, for those who make them."""
    if not can_keep_returns(user, organisation):
        return []
    return _items(organisation, today, Q(due_on__lte=today + RETURN_NOTICE))


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """Every open return of `organisation` past its due date, whoever makes it."""
    return _items(organisation, today, Q(due_on__lt=today))


def _items(organisation: Organisation, today: datetime.date, due: Q) -> list[DueItem]:
    """The open returns of `organisation` due as `due` says: one query, however many."""
    returns = (
        StatutoryReturn.objects.filter(due, organisation=organisation, status=ReturnStatus.OPEN)
        .only("uuid", "title", "due_on")
        .order_by("due_on", "title", "pk")
    )
    return [
        DueItem(
            kind=SUBMIT_KIND,
            kind_label=SUBMIT_LABEL,
            title=f"Submit: {statutory_return.title}",
            url=reverse(
                "statutory:return_detail",
                kwargs={"org": organisation.slug, "return_id": statutory_return.uuid},
            ),
            organisation=organisation,
            due=statutory_return.due_on,
            overdue=is_overdue(statutory_return.due_on, today),
        )
        for statutory_return in returns
    ]
