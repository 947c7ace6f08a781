"""What every proposal page needs: the proposal of the URL, and whether its step may be taken."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect

from infoshare.proposals import services
from infoshare.proposals.models import Proposal

if TYPE_CHECKING:
    from django.http import HttpResponse

    from infoshare.core.tenancy import OrganisationRequest


def visible_proposal(request: OrganisationRequest, reference: str) -> Proposal:
    """The proposal named in the URL, or 404 (another school's proposal does not exist here)."""
    return get_object_or_404(
        Proposal.objects.for_user(request.user, request.organisation).select_related(
            "organisation", "created_by", "purpose"
        ),
        reference=reference,
    )


def refuse_unless_allowed(
    request: OrganisationRequest, proposal: Proposal, action: str
) -> HttpResponse | None:
    """None when `request.user` may take `action` (an `Actions` field) on `proposal` now.

    Someone whose role never allows the step gets 403; someone who could take
    it, but not in the proposal's present status, is sent back to the task list
    with a message saying why, rather than to an error page.
    """
    if getattr(services.actions_for(proposal, request.user), action):
        return None
    if not services.may_ever_take(proposal, request.user, action):
        raise PermissionDenied
    messages.error(request, services.out_of_order_message(proposal))
    return redirect(proposal)
