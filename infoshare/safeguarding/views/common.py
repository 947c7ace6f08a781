"""What every safeguarding record page needs: the record of the URL, and whether a step is allowed.

The order of the checks is the protocol's (issue 6, item 7): a record the
person may not read does not exist for them (404), whatever they asked to do
with it; then a step their place never allows is refused (403); then a step
that is not possible in the record's present status sends them back to the
record with a message saying why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect

from infoshare.safeguarding import services
from infoshare.safeguarding.models import ReshareRequest, Share

if TYPE_CHECKING:
    import uuid

    from django.http import HttpResponse

    from infoshare.core.tenancy import OrganisationRequest


def visible_share(request: OrganisationRequest, reference: str) -> Share:
    """The record named in the URL if `Share.objects.for_user` finds it; otherwise 404."""
    return get_object_or_404(
        Share.objects.for_user(request.user, request.organisation)
        .select_related(
            "organisation",
            "pupil",
            "recipient",
            "shared_by",
            "withdrawn_by",
            "attached_by",
            "permitted_by_request__share",
        )
        .prefetch_related("signatures__signer"),
        reference=reference,
    )


def visible_request(share: Share, request_uuid: uuid.UUID) -> ReshareRequest:
    """A request about `share` (a record the person may read), or 404."""
    return get_object_or_404(
        share.reshare_requests.select_related(
            "organisation",
            "requested_by",
            "answered_by",
            "colleague",
            "outside_organisation",
            "decision",
            "resulting_share",
        ),
        uuid=request_uuid,
    )


def refuse_unless_allowed(
    request: OrganisationRequest, share: Share, action: str
) -> HttpResponse | None:
    """None when `request.user` may take `action` (an `Actions` field) on `share` now.

    Someone whose place never allows the step gets 403; someone who could
    take it, but not in the record's present status, is sent back to the
    record with a message saying why, rather than to an error page.
    """
    if getattr(services.actions_for(share, request.user), action):
        return None
    if not services.may_ever_take(share, request.user, action):
        raise PermissionDenied(services.REFUSALS[action])
    messages.error(request, services.out_of_order_message(share))
    return redirect(share)


def refuse_other_methods(request: OrganisationRequest, *allowed: str) -> HttpResponse | None:
    """405 for any other method; called once the record is found, so an unseen one stays 404."""
    if request.method in allowed:
        return None
    return HttpResponseNotAllowed(allowed)
