"""The emails that tell the next person a proposal is waiting for them (issue 4, item 8).

Each is sent after the transaction that changed the proposal commits. They
carry the reference, the name and a link; never the screening answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from infoshare.core.emails import absolute_url, members_holding, send_to_each
from infoshare.core.models import Role
from infoshare.proposals.models import PiaRequirement, Proposal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from infoshare.core.models import User

DECIDERS = (Role.HEADTEACHER, Role.CHAIR)


def screening_submitted(proposal: Proposal) -> None:
    _send(proposal, _holding(proposal, Role.DPO), "needs your assessment", "screening_submitted")


def assessed(proposal: Proposal) -> None:
    _send(proposal, [proposal.created_by], "has been assessed by the DPO", "assessed")
    if proposal.pia_requirement == PiaRequirement.NOT_REQUIRED:
        ready_for_decision(proposal)
    elif proposal.pia_requirement == PiaRequirement.RECOMMENDED:
        deciders = _deciders(proposal)
        _send(proposal, deciders, "has a full PIA recommended", "pia_recommended")


def pia_taken_up(proposal: Proposal) -> None:
    _send(proposal, [proposal.created_by], "needs its full PIA", "pia_taken_up")


def pia_submitted(proposal: Proposal) -> None:
    dpos = _holding(proposal, Role.DPO)
    _send(proposal, dpos, "needs your advice on its full PIA", "pia_submitted")


def ready_for_decision(proposal: Proposal) -> None:
    _send(proposal, _deciders(proposal), "is ready for your decision", "ready_for_decision")


def decided(proposal: Proposal) -> None:
    people = [proposal.created_by, *_holding(proposal, Role.DPO)]
    _send(proposal, people, f"has been decided: {proposal.get_status_display().lower()}", "decided")


def withdrawn(proposal: Proposal) -> None:
    people = [proposal.created_by, *_holding(proposal, Role.DPO)]
    _send(proposal, people, "has been withdrawn", "withdrawn", exclude=proposal.withdrawn_by)


def _holding(proposal: Proposal, *roles: str) -> list[User]:
    return members_holding(proposal.organisation, *roles)


def _deciders(proposal: Proposal) -> list[User]:
    # Nobody decides what they drafted, so the author is not asked to.
    return [user for user in _holding(proposal, *DECIDERS) if user.pk != proposal.created_by_id]


def _send(
    proposal: Proposal,
    people: Iterable[User],
    what: str,
    template: str,
    exclude: User | None = None,
) -> None:
    context = {
        "proposal": proposal,
        "organisation": proposal.organisation.name,
        "link": absolute_url(proposal.get_absolute_url()),
    }
    subject = f"Sharing proposal {proposal.reference} {what}"
    body = render_to_string(f"proposals/emails/{template}.txt", context)
    send_to_each(people, subject, body, exclude=exclude)
