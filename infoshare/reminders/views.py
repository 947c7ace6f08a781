"""The oversight table (issue 7 item 6): the schools one oversees and their overdue items.

Read-only and without sensitive content (counts by kind, never titles), so
opening it records no audit event. Not organisation-scoped: it spans every
school where the person is DPO or auditor (`rules.overseen_schools`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from infoshare.reminders.items import overdue_in
from infoshare.reminders.rules import overseen_schools

if TYPE_CHECKING:
    import datetime

    from django.http import HttpRequest, HttpResponse

    from infoshare.core.models import Organisation


@dataclass
class SchoolRow:
    """One school of the table: its overdue items counted by kind code."""

    school: Organisation
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def cells(self, kinds: list[str]) -> list[int]:
        """The counts in the order of the table's columns (0 for a kind the school lacks)."""
        return [self.counts.get(kind, 0) for kind in kinds]


@dataclass
class Oversight:
    rows: list[SchoolRow]
    kinds: list[tuple[str, str]]  # (kind code, kind label): the columns, by label

    @property
    def with_overdue(self) -> int:
        return sum(1 for row in self.rows if row.total)

    @property
    def summary(self) -> str:
        """Like "3 of 20 schools have overdue items"."""
        schools = len(self.rows)
        verb = "has" if self.with_overdue == 1 or schools == 1 else "have"
        plural = "" if schools == 1 else "s"
        return f"{self.with_overdue} of {schools} school{plural} {verb} overdue items"


def gather(schools: list[Organisation], today: datetime.date) -> Oversight:
    """Count each school's overdue items by kind; most overdue first, then by name.

    Queries: `overdue_in` once per school, each source a bounded number of
    queries for the school (no query per item), so the page costs a constant
    number of queries per school shown, plus one to find the schools (pinned in
    tests/reminders/test_oversight.py).
    """
    rows: list[SchoolRow] = []
    labels: dict[str, str] = {}
    for school in schools:
        row = SchoolRow(school)
        for item in overdue_in(school, today):
            row.counts[item.kind] = row.counts.get(item.kind, 0) + 1
            labels.setdefault(item.kind, item.kind_label)
        rows.append(row)
    rows.sort(key=lambda row: (-row.total, row.school.name.casefold(), row.school.pk))
    kinds = sorted(labels.items(), key=lambda kind: (kind[1].casefold(), kind[0]))
    return Oversight(rows=rows, kinds=kinds)


@require_GET
@login_required
def oversight(request: HttpRequest) -> HttpResponse:
    # The schools overseen, in one query; none means `can_view_oversight` is false.
    schools = list(overseen_schools(request.user))
    if not schools:
        raise PermissionDenied
    today = timezone.localdate()
    table = gather(schools, today)
    kind_codes = [code for code, _ in table.kinds]
    return render(
        request,
        "reminders/oversight.html",
        {
            "oversight": table,
            "today": today,
            "rows": [{"row": row, "cells": row.cells(kind_codes)} for row in table.rows],
            "column_count": len(table.kinds) + 1,
        },
    )
