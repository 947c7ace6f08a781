"""What agreements have waiting (reminders, issue 7): advice, approval and reviews.

The DPO advises on an agreement awaiting advice; the headteacher or chair,
never the drafter, approves one awaiting approval; those who keep the
register review each agreement in force when its review falls due (from
`REVIEW_NOTICE` before the due date; overdue after it, as the register tags
it). Reviews are the only items with a deadline. An agreement's reference and
title describe an arrangement between organisations, not people, so titles may
carry them. See `infoshare.reminders.items` for the interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef
from django.urls import reverse

from infoshare.agreements import services
from infoshare.agreements.models import (
    Agreement,
    AgreementReview,
    Status,
    Tag,
    approved_tag,
)
from infoshare.agreements.rules import (
    can_advise_on_agreement,
    can_approve_agreement,
    can_keep_register,
)
from infoshare.reminders.items import DueItem, is_overdue

if TYPE_CHECKING:
    import datetime

    from django.db.models import QuerySet

    from infoshare.core.models import Organisation, User

ADVISE_KIND = "agreement.advise"
ADVISE_LABEL = "Agreements awaiting your advice"
APPROVE_KIND = "agreement.approve"
APPROVE_LABEL = "Agreements awaiting your approval"
REVIEW_KIND = "agreement.review"
REVIEW_LABEL = "Agreement reviews due"

# The statuses in which an agreement's review may be started or is under way.
REVIEWABLE = (Status.APPROVED, Status.UNDER_REVIEW)
REVIEW_TAGS = (Tag.REVIEW_DUE, Tag.REVIEW_OVERDUE)


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """Agreements waiting for `user`'s advice or approval, and reviews due or overdue."""
    statuses: list[str] = []
    if can_advise_on_agreement(user, organisation):
        statuses.append(Status.ADVICE_REQUESTED)
    if can_approve_agreement(user, organisation):
        statuses.append(Status.ADVISED)
    if can_keep_register(user, organisation):
        statuses.extend(REVIEWABLE)
    if not statuses:
        return []
    agreements = _with_review_state(
        Agreement.objects.for_user(user, organisation).filter(status__in=statuses)
    )
    advise: list[DueItem] = []
    approve: list[DueItem] = []
    reviews: list[DueItem] = []
    for agreement in agreements:
        if agreement.status == Status.ADVICE_REQUESTED:
            if services.actions_for(agreement, user).advise:
                advise.append(
                    _item(agreement, ADVISE_KIND, ADVISE_LABEL, "Advise on", "agreements:advise")
                )
        elif agreement.status == Status.ADVISED:
            if services.actions_for(agreement, user).approve:
                approve.append(
                    _item(agreement, APPROVE_KIND, APPROVE_LABEL, "Approve", "agreements:approve")
                )
        elif services.may_ever_take(agreement, user, "start_review"):
            reviews.extend(_review(agreement, today))
    return advise + approve + reviews


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """Every agreement of `organisation` whose review is past its due date."""
    agreements = _with_review_state(
        Agreement.objects.filter(organisation=organisation, status__in=REVIEWABLE)
    )
    return [item for agreement in agreements for item in _review(agreement, today) if item.overdue]


def _with_review_state(agreements: QuerySet[Agreement]) -> list[Agreement]:
    """In one query, with whether a review is open (no query per agreement afterwards)."""
    open_review = AgreementReview.objects.filter(
        agreement=OuterRef("pk"), completed_at__isnull=True
    )
    return list(
        agreements.select_related("organisation")
        .annotate(review_open=Exists(open_review))
        .order_by("updated_at", "pk")
    )


def _review(agreement: Agreement, today: datetime.date) -> list[DueItem]:
    """The agreement's review, if the register shows it due or overdue on `today`."""
    tag = approved_tag(
        agreement.start_date,
        agreement.review_period_starts,
        agreement.review_interval_months,
        today,
    )
    if tag not in REVIEW_TAGS:
        return []
    due = agreement.review_due
    # A review already open is completed; otherwise one is started (`actions_for`).
    if agreement.review_open:  # type: ignore[attr-defined]
        verb, url_name = "Complete the review of", "agreements:complete_review"
    else:
        verb, url_name = "Review", "agreements:start_review"
    return [_item(agreement, REVIEW_KIND, REVIEW_LABEL, verb, url_name, due=due, today=today)]


def _item(
    agreement: Agreement,
    kind: str,
    label: str,
    verb: str,
    url_name: str,
    *,
    due: datetime.date | None = None,
    today: datetime.date | None = None,
) -> DueItem:
    organisation = agreement.organisation
    return DueItem(
        kind=kind,
        kind_label=label,
        title=f"{verb} {agreement.reference}: {agreement.title}",
        url=reverse(url_name, kwargs={"org": organisation.slug, "reference": agreement.reference}),
        organisation=organisation,
        due=due,
        overdue=today is not None and is_overdue(due, today),
    )
