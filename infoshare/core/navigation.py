"""The service navigation. Each entry shows only to the roles whose predicate allows it.

Later apps add their entry here, in the order a school would look for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from infoshare.core import rules as core_rules

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest

    from infoshare.core.models import Organisation


@dataclass(frozen=True)
class NavigationEntry:
    label: str
    url_name: str
    allowed: Callable[[Any, Organisation], bool]


ENTRIES = [
    NavigationEntry("Dashboard", "core:dashboard", core_rules.can_view_organisation),
    NavigationEntry("Members", "core:members", core_rules.can_manage_members),
    NavigationEntry("Audit trail", "audit:events", core_rules.can_view_audit),
]


def items_for(request: HttpRequest, organisation: Organisation) -> list[dict[str, Any]]:
    items = []
    for entry in ENTRIES:
        if not entry.allowed(request.user, organisation):
            continue
        href = reverse(entry.url_name, kwargs={"org": organisation.slug})
        current = request.path == href or (
            entry.url_name != "core:dashboard" and request.path.startswith(href)
        )
        items.append({"text": entry.label, "href": href, "current": current})
    return items
