"""What every statutory page needs: the record of the URL, the selection, and whether a step
is allowed.

The order of the checks is the same as safeguarding's: a record of another
organisation does not exist for the person (404), whatever they asked to do
with it; then a step their roles never allow is refused (403); then a step
that is not possible in the record's present status sends them back to the
record with a message saying why. Any part of statutory sharing may import
these.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect

from infoshare.statutory.models import RollChange
from infoshare.statutory.services import roll as services

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpResponse

    from infoshare.core.tenancy import OrganisationRequest

# How many changes one export or notification may name: a term's changes, with room to spare.
MOST_SELECTED = 500


def roll_changes_of(request: OrganisationRequest) -> QuerySet[RollChange]:
    """The roll changes of the request's organisation: the only way pages read them."""
    return RollChange.objects.filter(organisation=request.organisation)


def visible_roll_change(request: OrganisationRequest, reference: str) -> RollChange:
    """The change named in the URL, if it is this organisation's; otherwise 404."""
    return get_object_or_404(
        roll_changes_of(request).select_related(
            "organisation",
            "pupil",
            "ground",
            "recorded_by",
            "notified_to",
            "notified_by",
            "decision",
            "withdrawn_by",
        ),
        reference=reference,
    )


def selected_roll_changes(request: OrganisationRequest) -> list[RollChange]:
    """The changes ticked on the list (`change=<uuid>`, repeated), by date of the change.

    A UUID that is not one of this organisation's changes is a 404, as its
    address would be: the page must not act on part of what was ticked.
    """
    # A form posts its selection; a page reached by a link carries it in the address.
    ticked = request.POST.getlist("change") or request.GET.getlist("change")
    wanted: set[uuid.UUID] = set()
    for value in ticked[: MOST_SELECTED + 1]:
        try:
            wanted.add(uuid.UUID(value))
        except ValueError:
            raise Http404("No roll change with that identifier.") from None
    if len(wanted) > MOST_SELECTED:
        raise PermissionDenied(f"Select at most {MOST_SELECTED} roll changes at a time.")
    changes = list(
        roll_changes_of(request)
        .filter(uuid__in=wanted)
        .select_related("organisation", "pupil", "ground")
        .order_by("change_date", "pk")
    )
    if len(changes) != len(wanted):
        raise Http404("No roll change with that identifier.")
    return changes


def refuse_unless_allowed(
    request: OrganisationRequest, change: RollChange, action: str
) -> HttpResponse | None:
    """None when `request.user` may take `action` (an `Actions` field) on `change` now."""
    if getattr(services.actions_for(change, request.user), action):
        return None
    if not services.may_ever_take(change, request.user, action):
        raise PermissionDenied(services.REFUSALS[action])
    messages.error(request, services.out_of_order_message(change))
    return redirect(change)
