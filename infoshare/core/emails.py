"""Emails about accounts and membership, and what every workflow's emails share.

Plain text; links are absolute (BASE_URL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail, send_mass_mail
from django.template.loader import render_to_string

from infoshare.core.models import Membership

if TYPE_CHECKING:
    from collections.abc import Iterable

    from infoshare.core.models import Organisation, User


def absolute_url(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def send_invitation(to: str, path: str, context: dict[str, Any]) -> None:
    context = {
        **context,
        "link": absolute_url(path),
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    send_mail(
        subject=f"You have been invited to Infoshare for {context['organisation']}",
        message=render_to_string("core/emails/invitation.txt", context),
        from_email=None,
        recipient_list=[to],
    )


def send_added_to_organisation(to: str, context: dict[str, Any]) -> None:
    context = {**context, "link": absolute_url("/")}
    send_mail(
        subject=f"You can now use Infoshare for {context['organisation']}",
        message=render_to_string("core/emails/added.txt", context),
        from_email=None,
        recipient_list=[to],
    )


def members_holding(organisation: Organisation, *roles: str) -> list[User]:
    """The active people holding any of `roles` in `organisation`."""
    memberships = (
        Membership.objects.active()
        .holding(*roles)
        .filter(organisation=organisation, user__is_active=True)
        .select_related("user")
    )
    return [membership.user for membership in memberships]


def send_to_each(
    people: Iterable[User], subject: str, body: str, *, exclude: User | None = None
) -> None:
    """One message to each person (so nobody sees who else was told), once each."""
    addresses = sorted({user.email for user in people if exclude is None or user.pk != exclude.pk})
    if addresses:
        send_mass_mail([(subject, body, None, [address]) for address in addresses])
