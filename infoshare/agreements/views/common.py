"""What every agreement page needs: the agreement of the URL, and whether its step may be taken."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect

from infoshare.agreements import services
from infoshare.agreements.models import Agreement

if TYPE_CHECKING:
    from django.http import HttpResponse

    from infoshare.core.tenancy import OrganisationRequest


def visible_agreement(request: OrganisationRequest, reference: str) -> Agreement:
    """The agreement named in the URL, or 404 (another school's does not exist here)."""
    return get_object_or_404(
        Agreement.objects.for_user(request.user, request.organisation).select_related(
            "organisation", "drafted_by", "parent", "proposal"
        ),
        reference=reference,
    )


def refuse_unless_allowed(
    request: OrganisationRequest, agreement: Agreement, action: str
) -> HttpResponse | None:
    """None when `request.user` may take `action` (an `Actions` field) on `agreement` now.

    Someone whose role never allows the step gets 403; someone who could take
    it, but not in the agreement's present status, is sent back to the
    agreement with a message saying why, rather than to an error page.
    """
    if getattr(services.actions_for(agreement, request.user), action):
        return None
    if not services.may_ever_take(agreement, request.user, action):
        raise PermissionDenied
    messages.error(request, services.out_of_order_message(agreement))
    return redirect(agreement)
