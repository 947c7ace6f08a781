"""What needs doing: the one interface through which every app says what is waiting, for whom.

Each app that has things falling due provides a `due.py` with two functions,

    def due_items(user: User, organisation: Organisation, today: date) -> list[DueItem]
    def overdue_items(organisation: Organisation, today: date) -> list[DueItem]

the first listing what `user` must do in `organisation` now, the second
everything in `organisation` past its deadline whoever must do it (for
oversight); the module is named in `SOURCES` below. The dashboard, the daily
digest (`send_reminders`) and the oversight table read every source through
`items_for` and `overdue_in` and nothing else, so a new app adds its items
by adding one module.

An item says what is to be done and where, never the sensitive content: its
title names a record by reference and its kind ("Safeguarding information
to acknowledge: SG-2026-0004"), never a child, nor what was shared, because
the same words go into emails.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from collections.abc import Callable

    from infoshare.core.models import Organisation, User

# Where each app's items come from, in the order the dashboard lists kinds.
SOURCES = (
    "infoshare.decisions.due",
    "infoshare.safeguarding.due",
    "infoshare.proposals.due",
    "infoshare.agreements.due",
    "infoshare.statutory.due.roll",
    "infoshare.statutory.due.returns",
    "infoshare.governance.due",
)


@dataclass(frozen=True)
class DueItem:
    """One thing waiting for someone: what, where to do it, and by when if there is a deadline."""

    kind: str  # a stable code, e.g. "proposal.assess": the oversight table counts by it
    kind_label: str  # how the kind reads, e.g. "Screenings awaiting your assessment"
    title: str  # what to do, naming the record by reference; never sensitive content
    url: str  # the page where it is done (a path)
    organisation: Organisation
    due: datetime.date | None = None  # None: no deadline, but still waiting
    overdue: bool = False  # past its deadline on the day it was gathered (`is_overdue`)


def is_overdue(due: datetime.date | None, today: datetime.date) -> bool:
    return due is not None and due < today


def _functions(name: str) -> list[Callable[..., list[DueItem]]]:
    return [import_string(f"{module}.{name}") for module in SOURCES]


def items_for(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """Everything waiting for `user` in `organisation`: overdue first, then by due date."""
    items = [
        item for source in _functions("due_items") for item in source(user, organisation, today)
    ]
    return sorted(items, key=_urgency)


def overdue_in(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """Everything in `organisation` past its deadline, whoever must act (for oversight)."""
    items = [item for source in _functions("overdue_items") for item in source(organisation, today)]
    return sorted(items, key=_urgency)


def _urgency(item: DueItem) -> tuple[bool, datetime.date]:
    return (not item.overdue, item.due or datetime.date.max)
