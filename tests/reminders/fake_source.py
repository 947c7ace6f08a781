"""A due-item source whose items the digest tests choose, person by person.

Tests patch `infoshare.reminders.items.SOURCES` to this module alone and say,
through `give`, what waits for whom where; `forget` clears it (the `fake_due`
fixture in test_send_reminders.py does both).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from infoshare.reminders.items import DueItem, is_overdue

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User

MODULE = "tests.reminders.fake_source"
KIND = "fake.task"
LABEL = "Tasks to do"

# (user id, organisation id) -> [(title, due)]
_waiting: dict[tuple[int, int], list[tuple[str, datetime.date | None]]] = {}


def give(
    user: User, organisation: Organisation, title: str, due: datetime.date | None = None
) -> None:
    """Make `title` wait for `user` in `organisation`, due on `due` if given."""
    _waiting.setdefault((user.pk, organisation.pk), []).append((title, due))


def forget() -> None:
    _waiting.clear()


def url(organisation: Organisation, title: str) -> str:
    return f"/o/{organisation.slug}/tasks/{title.replace(' ', '-').lower()}/"


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    return due_items_of(_waiting.get((user.pk, organisation.pk), []), organisation, today)


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    return [
        item
        for (_, organisation_id), waiting in _waiting.items()
        if organisation_id == organisation.pk
        for item in due_items_of(waiting, organisation, today)
        if item.overdue
    ]


def due_items_of(
    waiting: list[tuple[str, datetime.date | None]],
    organisation: Organisation,
    today: datetime.date,
) -> list[DueItem]:
    return [
        DueItem(
            KIND, LABEL, title, url(organisation, title), organisation, due, is_overdue(due, today)
        )
        for title, due in waiting
    ]
