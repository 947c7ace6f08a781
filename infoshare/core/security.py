"""Who needs a second factor, and whether they have one."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator

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
