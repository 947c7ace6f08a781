"""Template context: the current organisation and the navigation each person sees."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from infoshare.core.models import Membership
from infoshare.core.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    organisation = getattr(request, "organisation", None)
    return {
        "organisation": organisation,
        "navigation": items_for(request, organisation) if organisation else [],
        # Lazy: evaluated only where the header asks, once per page.
        "several_organisations": lambda: Membership.objects.active().filter(user=user).count() > 1,
    }
