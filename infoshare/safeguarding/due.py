"""What safeguarding has waiting (reminders, issue 7): acknowledgements and re-share requests.

Items name a record by its reference only: never the child, the file or what
was shared, because the same words go into emails. See
`infoshare.reminders.items` for the interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from infoshare.reminders.items import DueItem
from infoshare.safeguarding import services
from infoshare.safeguarding.models import ReshareRequest, Share, leads_safeguarding

if TYPE_CHECKING:
    import datetime

    from infoshare.core.models import Organisation, User

ACKNOWLEDGE_KIND = "safeguarding.acknowledge"
ACKNOWLEDGE_LABEL = "Safeguarding information to acknowledge"
REQUEST_KIND = "safeguarding.request"
REQUEST_LABEL = "Requests to share safeguarding information further"


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """The records shared with `user` awaiting their signature, and, for a DSL or deputy,
    the requests to share further that they may answer (not their own). No deadlines."""
    return _to_acknowledge(user, organisation) + _to_answer(user, organisation)


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    # The protocol sets no deadline to acknowledge or to answer, so nothing is overdue.
    return []


def _to_acknowledge(user: User, organisation: Organisation) -> list[DueItem]:
    shares = (
        Share.objects.for_user(user, organisation)
        .outstanding()
        .filter(recipient=user)
        .select_related("organisation")
        .defer("description", "file_reference")  # never loaded for a reminder
        .order_by("shared_at", "pk")
    )
    return [
        DueItem(
            kind=ACKNOWLEDGE_KIND,
            kind_label=ACKNOWLEDGE_LABEL,
            title=f"Safeguarding information to acknowledge: {share.reference}",
            url=reverse(
                "safeguarding:acknowledge",
                kwargs={"org": organisation.slug, "reference": share.reference},
            ),
            organisation=organisation,
        )
        for share in shares
        if services.actions_for(share, user).acknowledge
    ]


def _to_answer(user: User, organisation: Organisation) -> list[DueItem]:
    if not leads_safeguarding(user, organisation):
        return []
    pending = (
        ReshareRequest.objects.for_user(user, organisation)
        .pending()
        .select_related("share", "organisation")
        .defer("reason", "share__description", "share__file_reference")
        .order_by("requested_at", "pk")
    )
    return [
        DueItem(
            kind=REQUEST_KIND,
            kind_label=REQUEST_LABEL,
            title=f"Request to share {request.share.reference} further",
            url=reverse(
                "safeguarding:request",
                kwargs={
                    "org": organisation.slug,
                    "reference": request.share.reference,
                    "request_uuid": request.uuid,
                },
            ),
            organisation=organisation,
        )
        for request in pending
        if services.may_answer(request, user)
    ]
