"""What the decision log has waiting (reminders, issue 7): disclosures for the DPO to review.

See `infoshare.reminders.items` for the interface every app's `due.py` implements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from infoshare.decisions.models import Arrangement, Decision
from infoshare.decisions.rules import can_review_disclosures
from infoshare.reminders.items import DueItem

if TYPE_CHECKING:
    import datetime

    from infoshare.core.models import Organisation, User

REVIEW_KIND = "decision.review"
REVIEW_LABEL = "Disclosures awaiting your review"


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """Each one-off or emergency disclosure the DPO has yet to review, oldest first.

    The policy sets no deadline for the review ("then reviewed by the DPO"),
    so these items have no due date and are never overdue.
    """
    if not can_review_disclosures(user, organisation):
        return []
    awaiting = (
        Decision.objects.for_user(user, organisation)
        .needing_review()
        .only("reference", "arrangement")  # what the item says: never what was shared
        .order_by("decided_on", "recorded_at")
    )
    return [
        DueItem(
            kind=REVIEW_KIND,
            kind_label=REVIEW_LABEL,
            title=f"Review the {_arrangement(decision)} {decision.reference}",
            url=reverse(
                "decisions:review",
                kwargs={"org": organisation.slug, "reference": decision.reference},
            ),
            organisation=organisation,
        )
        for decision in awaiting
    ]


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    # A disclosure's review has no deadline, so nothing here is ever overdue.
    return []


def _arrangement(decision: Decision) -> str:
    if decision.arrangement == Arrangement.EMERGENCY:
        return "emergency disclosure"
    return "one-off disclosure"
