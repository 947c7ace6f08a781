"""What sharing proposals have waiting (reminders, issue 7).

The DPO assesses screenings and advises on full PIAs; the headteacher or chair
(never the author) decides; the author chooses whether to carry out a
recommended PIA and completes a PIA in progress. Who may take which step is
`services.actions_for`, so the dashboard offers what the pages allow. A
proposal's name describes a project, not a person, so titles may carry it.
See `infoshare.reminders.items` for the interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import reverse

from infoshare.proposals import services
from infoshare.proposals.models import Proposal, Status
from infoshare.proposals.rules import can_assess_proposal, can_decide_proposal
from infoshare.reminders.items import DueItem

if TYPE_CHECKING:
    import datetime

    from infoshare.core.models import Organisation, User

# (action in `services.Actions`, kind, kind label, title's verb phrase, URL name)
STEPS = (
    (
        "assess",
        "proposal.assess",
        "Screenings awaiting your assessment",
        "Assess the screening of",
        "proposals:assess",
    ),
    (
        "advise",
        "proposal.advise",
        "Full PIAs awaiting your advice",
        "Advise on the full PIA of",
        "proposals:advise",
    ),
    ("decide", "proposal.decide", "Proposals awaiting your decision", "Decide", "proposals:decide"),
    (
        "choose_pia",
        "proposal.choose_pia",
        "Recommended PIAs to take up or decline",
        "Choose whether to carry out the recommended PIA for",
        "proposals:choose_pia",
    ),
    (
        "work_on_pia",
        "proposal.work_on_pia",
        "Full PIAs to complete",
        "Complete the full PIA for",
        "proposals:pia",
    ),
)
# The statuses in which a proposal waits for one of those steps.
WAITING = (
    Status.SCREENING_SUBMITTED,
    Status.ASSESSED,
    Status.PIA_IN_PROGRESS,
    Status.PIA_SUBMITTED,
    Status.ADVISED,
)
# Steps listed only for the proposal's author: the DPO may work on a PIA, and the
# headteacher or chair may choose whether to take one up, but the author is the one
# who is waited for.
AUTHOR_ONLY = frozenset({"choose_pia", "work_on_pia"})


def due_items(user: User, organisation: Organisation, today: datetime.date) -> list[DueItem]:
    """The proposals waiting for `user`'s step, in the order of STEPS; no deadlines."""
    mine = Q(created_by=user)
    if can_assess_proposal(user, organisation) or can_decide_proposal(user, organisation):
        mine = Q()  # they may be waited for on anyone's proposal
    proposals = (
        Proposal.objects.for_user(user, organisation)
        .filter(mine, status__in=WAITING)
        .select_related("organisation")
        .order_by("updated_at", "pk")
    )
    waiting: dict[str, list[Proposal]] = {step[0]: [] for step in STEPS}
    for proposal in proposals:
        actions = services.actions_for(proposal, user)
        is_author = proposal.created_by_id == user.pk
        for action, proposals_waiting in waiting.items():
            if getattr(actions, action) and (action not in AUTHOR_ONLY or is_author):
                proposals_waiting.append(proposal)
    return [
        DueItem(
            kind=kind,
            kind_label=label,
            title=f"{verb} {proposal.reference}: {proposal.name}",
            url=reverse(
                url_name, kwargs={"org": organisation.slug, "reference": proposal.reference}
            ),
            organisation=organisation,
        )
        for action, kind, label, verb, url_name in STEPS
        for proposal in waiting[action]
    ]


def overdue_items(organisation: Organisation, today: datetime.date) -> list[DueItem]:
    # The policy sets no deadline for any step of a proposal, so nothing is overdue.
    return []
