"""What the information sharing policy has waiting (reminders, issue 7): its review, a draft
to approve, the version in force to acknowledge.

- The DPO (who keeps the policy up to date, 10.1) reviews it from 30 days before
  its yearly date, at once when a trigger of 10.1 was recorded after the version
  in force, and at once when the school has no approved version at all; not
  while a draft is already waiting for approval.
- The headteacher or chair, never its drafter, approves a draft (9.1).
- Everyone who works in the school acknowledges the version in force, once.

Only the review has a deadline; overdue the day after it. One query a call,
whatever the number of versions or triggers. See `infoshare.reminders.items`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from infoshare.governance.models import (
    PolicyAcknowledgement,
    PolicyStatus,
    PolicyVersion,
    ReviewTrigger,
)
from infoshare.governance.policy import REVIEW_NOTICE, review_due_on
from infoshare.governance.rules import (
    can_acknowledge_policy,
    can_approve_policy,
    can_draft_policy,
)
from infoshare.reminders.items import DueItem, is_overdue

if TYPE_CHECKING:
    import datetime

    from infoshare.core.models import Organisation, User

REVIEW_KIND = "policy.review"
REVIEW_LABEL = "Policy review"
APPROVE_KIND = "policy.approve"
APPROVE_LABEL = "Policy awaiting your approval"
ACKNOWLEDGE_KIND = "policy.acknowledge"
ACKNOWLEDGE_LABEL = "Policy to read and acknowledge"


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    drafter = can_draft_policy(user, organisation)
    approver = can_approve_policy(user, organisation)
    reader = can_acknowledge_policy(user, organisation)
    if not (drafter or approver or reader):
        return []
    current, draft = _versions(organisation, user)
    items: list[DueItem] = []
    if drafter and draft is None:
        items.extend(_review(organisation, current, today, only_overdue=False))
    if approver and draft is not None and draft.drafted_by_id != user.pk:
        items.append(
            _item(
                organisation,
                APPROVE_KIND,
                APPROVE_LABEL,
                f"Approve {draft.label.lower()} of the information sharing policy",
                reverse("policy:approve", kwargs={"org": organisation.slug, "version": draft.uuid}),
            )
        )
    if reader and current is not None and not current.acknowledged_by_user:  # type: ignore[attr-defined]
        items.append(
            _item(
                organisation,
                ACKNOWLEDGE_KIND,
                ACKNOWLEDGE_LABEL,
                f"Read and acknowledge the information sharing policy ({current.label.lower()})",
                _home(organisation),
            )
        )
    return items


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """The policy's review when it is past its date (yearly, or a trigger's)."""
    current, _ = _versions(organisation, None)
    return _review(organisation, current, today, only_overdue=True)


def _versions(
    organisation: Organisation, user: User | None
) -> tuple[PolicyVersion | None, PolicyVersion | None]:
    """The version in force and the draft, in one query, with the first trigger recorded
    since the approval and whether `user` acknowledged it."""
    first_trigger = (
        ReviewTrigger.objects.filter(
            organisation=OuterRef("organisation"), recorded_at__gt=OuterRef("approved_at")
        )
        .order_by("recorded_at")
        .values("recorded_at")[:1]
    )
    acknowledged = PolicyAcknowledgement.objects.filter(version=OuterRef("pk"), user=user)
    versions = PolicyVersion.objects.filter(
        organisation=organisation, status__in=[PolicyStatus.APPROVED, PolicyStatus.DRAFT]
    ).annotate(first_trigger_at=Subquery(first_trigger))
    if user is not None:
        versions = versions.annotate(acknowledged_by_user=Exists(acknowledged))
    found = {version.status: version for version in versions}
    return found.get(PolicyStatus.APPROVED), found.get(PolicyStatus.DRAFT)


def _review(
    organisation: Organisation,
    current: PolicyVersion | None,
    today: datetime.date,
    *,
    only_overdue: bool,
) -> list[DueItem]:
    url = reverse("policy:new", kwargs={"org": organisation.slug})
    if current is None:
        # No approved version: not overdue (there is no date it fell due), but waiting.
        if only_overdue:
            return []
        title = "Draft the school's information sharing policy and have it approved"
        return [_item(organisation, REVIEW_KIND, REVIEW_LABEL, title, url)]
    triggered_at = current.first_trigger_at  # type: ignore[attr-defined]
    triggered = [timezone.localdate(triggered_at)] if triggered_at else []
    due = review_due_on(current, triggered)
    if due is None or today < due - REVIEW_NOTICE or (only_overdue and not is_overdue(due, today)):
        return []
    title = (
        f"Review the information sharing policy ({current.label.lower()}): an early review "
        "was called for"
        if triggered and due == triggered[0]
        else f"Review the information sharing policy ({current.label.lower()})"
    )
    return [_item(organisation, REVIEW_KIND, REVIEW_LABEL, title, url, due=due, today=today)]


def _home(organisation: Organisation) -> str:
    return reverse("policy:home", kwargs={"org": organisation.slug})


def _item(
    organisation: Organisation,
    kind: str,
    label: str,
    title: str,
    url: str,
    *,
    due: datetime.date | None = None,
    today: datetime.date | None = None,
) -> DueItem:
    return DueItem(
        kind=kind,
        kind_label=label,
        title=title,
        url=url,
        organisation=organisation,
        due=due,
        overdue=today is not None and is_overdue(due, today),
    )
