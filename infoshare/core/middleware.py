"""Request-wide policies: a strict Content-Security-Policy and the second-factor gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from infoshare.core.security import needs_second_factor_setup

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

# Everything a page uses is served by the application itself: no third party
# ever learns that a school's staff opened a page (a privacy product).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class RequireSecondFactorMiddleware:
    """Hold a privileged user at second-factor set-up until they have one.

    Only the set-up pages (with the password confirmation allauth asks first),
    signing out and static files stay reachable.
    """

    allowed_prefixes = (
        "/accounts/2fa/",
        "/accounts/reauthenticate/",  # allauth confirms the password before set-up
        "/accounts/logout/",
        "/healthz",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.INFOSHARE_REQUIRE_MFA
            and request.user.is_authenticated
            and not request.path.startswith((settings.STATIC_URL, *self.allowed_prefixes))
            and needs_second_factor_setup(request.user)
        ):
            messages.info(
                request,
                "Your role needs a second factor. Set up an authenticator app to continue.",
                fail_silently=True,
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
