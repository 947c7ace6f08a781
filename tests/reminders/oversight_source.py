"""A due-item source whose overdue items the oversight tests choose.

Tests patch `infoshare.reminders.items.SOURCES` to this module alone and say,
through `set_overdue`, how many items of which kinds each school has overdue.
It makes no query, so the page's query count measures the page alone.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from infoshare.reminders.items import DueItem

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User

MODULE = "tests.reminders.oversight_source"

# Kind code -> kind label, as a real source would label them.
LABELS = {
    "fake.review": "Reviews overdue",
    "fake.notify": "Notifications overdue",
    "fake.return": "Returns overdue",
}

# School slug -> {kind code: how many overdue}.
_overdue: dict[str, dict[str, int]] = {}


def set_overdue(overdue: dict[str, dict[str, int]]) -> None:
    _overdue.clear()
    _overdue.update(overdue)


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    return []


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    due = today - datetime.timedelta(days=1)
    return [
        DueItem(
            kind=kind,
            kind_label=LABELS[kind],
            title=f"{LABELS[kind]} {number}",
            url=organisation.get_absolute_url(),
            organisation=organisation,
            due=due,
            overdue=True,
        )
        for kind, count in _overdue.get(organisation.slug, {}).items()
        for number in range(1, count + 1)
    ]
