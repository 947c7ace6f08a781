from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime

    from infoshare.core.models import Organisation, User
    from infoshare.reminders.items import DueItem


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    return []


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    return []
