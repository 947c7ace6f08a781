"""Who needs a second factor, and whether they have one."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.core.cache import cache

from infoshare.core.models import PRIVILEGED_ROLES, Membership


def holds_privileged_role(user: Any) -> bool:
    """Headteacher, chair, DPO, DSL or deputy DSL anywhere, or a platform operator."""
    return bool(user.is_superuser) or (
        Membership.objects.active()
        .filter(user=user, role_assignments__role__in=PRIVILEGED_ROLES)
        .exists()
    )


def has_second_factor(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def needs_second_factor_setup(user: Any) -> bool:
    return holds_privileged_role(user) and not has_second_factor(user)


# --- Confirming who is signing ---------------------------------------------------------

# Wrong codes or passwords allowed in a row before signing pauses, and for how long.
CONFIRMATION_ATTEMPTS = 5
CONFIRMATION_PAUSE_SECONDS = 300


class Confirmation:
    """How a signer proved it was them (kept with the signature)."""

    AUTHENTICATOR = "authenticator"
    PASSWORD = "password"


class TooManyAttempts(Exception):
    """Signing is paused for this person after repeated wrong codes or passwords."""


def confirm_identity(user: Any, secret: str) -> str | None:
    """Check a signer's proof: their authenticator's code if they have one, else their password.

    Returns how they were confirmed (`Confirmation`), or None when the code
    or password is wrong. A code is accepted once only (allauth remembers
    used codes), so a code seen over someone's shoulder cannot sign again.
    """
    failures_key = f"infoshare.confirmation-failures:{user.pk}"
    if cache.get(failures_key, 0) >= CONFIRMATION_ATTEMPTS:
        raise TooManyAttempts
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is not None:
        confirmed = authenticator.wrap().validate_code(secret.strip())
        method = Confirmation.AUTHENTICATOR
    else:
        confirmed = bool(secret) and user.check_password(secret)
        method = Confirmation.PASSWORD
    if confirmed:
        cache.delete(failures_key)
        return method
    cache.add(failures_key, 0, timeout=CONFIRMATION_PAUSE_SECONDS)
    cache.incr(failures_key)
    return None
