"""The service navigation. Each entry shows only to the roles whose predicate allows it.

Later apps add their entry here, in the order a school would look for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from infoshare.agreements import rules as agreement_rules
from infoshare.anonymise import rules as anonymise_rules
from infoshare.core import rules as core_rules
from infoshare.decisions import rules as decision_rules
from infoshare.governance import rules as governance_rules
from infoshare.proposals import rules as proposal_rules
from infoshare.safeguarding import rules as safeguarding_rules
from infoshare.statutory import rules as statutory_rules
from infoshare.transfers import rules as transfer_rules

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
    NavigationEntry("People", "core:people", core_rules.can_view_people),
    NavigationEntry("Decisions", "decisions:list", decision_rules.can_view_decisions),
    NavigationEntry(
        "Disclosures to review", "decisions:review_queue", decision_rules.can_review_disclosures
    ),
    # Everyone who works in the school: it is where staff acknowledge what a DSL shared.
    NavigationEntry("Safeguarding", "safeguarding:home", safeguarding_rules.can_open_safeguarding),
    NavigationEntry("Proposals", "proposals:list", proposal_rules.can_view_proposals),
    NavigationEntry("Agreements", "agreements:register", agreement_rules.can_view_agreements),
    # Appendix A step 2: anonymise a dataset before sharing it, the privacy-friendly way.
    NavigationEntry("Anonymise", "anonymise:list", anonymise_rules.can_anonymise),
    # The egress clause: personal data leaves the school encrypted, and the sending is recorded.
    NavigationEntry("Secure transfers", "transfers:list", transfer_rules.can_send_transfers),
    NavigationEntry("Information assets", "governance:assets", governance_rules.can_view_assets),
    # Roll changes for the local authority and returns to the DfE (policy section 5).
    NavigationEntry(
        "Statutory sharing", "statutory:roll_changes", statutory_rules.can_view_statutory
    ),
    # Everyone reads the policy; those who work in the school acknowledge it (policy 10).
    NavigationEntry("Policy", "policy:home", governance_rules.can_read_policy),
    NavigationEntry("Members", "core:members", core_rules.can_manage_members),
    NavigationEntry("Audit trail", "audit:events", core_rules.can_view_audit),
]


def items_for(request: HttpRequest, organisation: Organisation) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"text": entry.label, "href": reverse(entry.url_name, kwargs={"org": organisation.slug})}
        for entry in ENTRIES
        if entry.allowed(request.user, organisation)
    ]
    dashboard = reverse("core:dashboard", kwargs={"org": organisation.slug})
    current = _current_href(request.path, [item["href"] for item in items], dashboard)
    for item in items:
        item["current"] = item["href"] == current
    return items


def _current_href(path: str, hrefs: list[str], dashboard: str) -> str | None:
    """The entry the page belongs to: the longest address the path starts with.

    The dashboard (the organisation's root) counts only for itself, and
    /decisions/reviews/ belongs to its own entry, not to /decisions/.
    """
    matching = [h for h in hrefs if path == h or (h != dashboard and path.startswith(h))]
    return max(matching, key=len) if matching else None
