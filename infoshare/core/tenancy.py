"""Organisation-scoped views: /o/<org>/… resolves to the request's organisation.

A signed-in person who is not an active member of the organisation in the URL
gets 404, exactly as if it did not exist (DESIGN.md rule 2). A member whose
roles do not allow the page gets 403.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from infoshare.core.models import Membership, Organisation
from infoshare.core.rules import remember_membership

if TYPE_CHECKING:
    from collections.abc import Callable

    from infoshare.core.models import User

    # HttpResponseBase: a view may stream (CSV exports) as well as render.
    View = Callable[..., HttpResponseBase]


class OrganisationRequest(HttpRequest):
    """What an organisation view receives (for type checkers)."""

    user: User
    organisation: Organisation
    membership: Membership


def organisation_view(
    predicate: Callable[[Any, Organisation], bool] | None = None,
) -> Callable[[View], View]:
    """Decorate a view taking `org` (a slug) from the URL.

    Sets `request.organisation` and `request.membership`, then checks
    `predicate(user, organisation)` when one is given.
    """

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, org: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = active_membership(request.user, org)
            request.organisation = membership.organisation  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if predicate is not None and not predicate(request.user, membership.organisation):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def active_membership(user: Any, slug: str) -> Membership:
    membership = (
        Membership.objects.active()
        .with_roles()
        .select_related("organisation")
        .filter(user=user, organisation__slug=slug)
        .first()
    )
    if membership is None:
        raise Http404("No organisation with that address.")
    remember_membership(user, membership)
    return membership
