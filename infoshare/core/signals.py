"""Audit of sign-in events.

allauth and Django own the sign-in flow, so these events cannot come from a
service of ours; these receivers record them instead (the one exception to
DESIGN.md rule 1, noted there). An event about a person goes into the chain
of every organisation they belong to, so each school's DPO sees it; a failed
attempt for an unknown address goes into the system chain.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from infoshare.audit import services as audit
from infoshare.core.models import Membership, Organisation, User


def client_address(request: HttpRequest | None) -> str:
    """REMOTE_ADDR; behind a proxy that the settings trust, the client it forwarded for."""
    if request is None:
        return ""
    from django.conf import settings

    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and getattr(settings, "USE_X_FORWARDED_HOST", False):
        return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def record_account_event(
    verb: str,
    user: User,
    *,
    actor: Any,
    request: HttpRequest | None,
    details: dict[str, Any] | None = None,
) -> None:
    changes = {"address": client_address(request), **(details or {})}
    memberships = Membership.objects.active().filter(user=user).select_related("organisation")
    organisations: list[Organisation | None] = [m.organisation for m in memberships] or [None]
    with transaction.atomic():
        for organisation in organisations:
            audit.record(actor, verb, user, changes, organisation=organisation, label=user.email)


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    record_account_event("account.logged_in", user, actor=user, request=request)


@receiver(user_logged_out)
def audit_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        record_account_event("account.logged_out", user, actor=user, request=request)


@receiver(user_login_failed)
def audit_failed_login(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    typed = str(credentials.get("email") or credentials.get("username") or "").strip().lower()
    user = User.objects.filter(email=typed).first() if typed else None
    if user is not None:
        record_account_event("account.login_failed", user, actor=None, request=request)
        return
    with transaction.atomic():
        audit.record(
            None,
            "account.login_failed",
            None,
            {"address": client_address(request), "email": typed[:254]},
            label=typed[:200],
        )


_SECOND_FACTOR_VERBS = {
    authenticator_added: "account.mfa_added",
    authenticator_removed: "account.mfa_removed",
}


@receiver(authenticator_added)
@receiver(authenticator_removed)
def audit_second_factor_change(
    sender: Any, signal: Any, request: HttpRequest, authenticator: Any, **kwargs: Any
) -> None:
    record_account_event(
        _SECOND_FACTOR_VERBS[signal],
        authenticator.user,
        actor=request.user,
        request=request,
        details={"type": authenticator.type},
    )


@receiver(password_changed)
@receiver(password_reset)
def audit_password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    record_account_event("account.password_changed", user, actor=user, request=request)
