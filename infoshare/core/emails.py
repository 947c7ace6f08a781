"""Emails about accounts and membership. Plain text; links are absolute (BASE_URL)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string


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
