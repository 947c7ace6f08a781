"""The emails of secure transfers (issue 9, item 3).

The recipient gets two separate messages: the link, and (when they ask for
it on the page) a one-time code, so whoever reads one mailbox, or one
message forwarded by mistake, cannot open the transfer. The sender is told
when the transfer is locked after wrong codes, when the recipient replies
and when a file is found damaged.

No email carries personal data: never the name of the recipient, the sender
or a pupil, nor the message or the names of the files. The school's name,
the transfer's reference and the expiry date are all they say. Each is sent
after the transaction that made the change commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from infoshare.core.emails import absolute_url

if TYPE_CHECKING:
    from datetime import datetime

    from infoshare.transfers.models import Transfer


def format_expiry(moment: datetime) -> str:
    """A time as people read it in the school, like "22 November 2026 at 5:00pm" (London)."""
    local = timezone.localtime(moment)
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{half}"


# --- To the recipient ------------------------------------------------------------------


def send_link(transfer: Transfer, token: str) -> None:
    """The link to the transfer; the code comes separately, when the recipient asks for it."""
    from infoshare.transfers.services import link_path

    school = transfer.organisation.name
    _send(
        transfer.recipient_email,
        f"{school} has sent you files securely",
        "link",
        transfer,
        link=absolute_url(link_path(token)),
    )


def send_code(transfer: Transfer, code: str) -> None:
    school = transfer.organisation.name
    _send(
        transfer.recipient_email,
        f"Your code for a secure transfer from {school}",
        "code",
        transfer,
        code=code,
    )


# --- To the sender ---------------------------------------------------------------------


def send_locked(transfer: Transfer) -> None:
    _to_sender(transfer, f"{transfer.reference} is locked after five wrong codes", "locked")


def send_reply_received(transfer: Transfer) -> None:
    _to_sender(transfer, f"{transfer.reference}: the recipient has replied with files", "reply")


def send_damaged_file(transfer: Transfer) -> None:
    _to_sender(transfer, f"{transfer.reference}: a file could not be opened safely", "damaged")


def _to_sender(transfer: Transfer, subject: str, template: str) -> None:
    _send(
        transfer.sender.email,
        subject,
        template,
        transfer,
        link=absolute_url(transfer.get_absolute_url()),
    )


def _send(to: str, subject: str, template: str, transfer: Transfer, **extra: object) -> None:
    # Only what may be read by anyone: never the transfer object itself, so a
    # template cannot reach a name or the message by mistake.
    context = {
        "school": transfer.organisation.name,
        "reference": transfer.reference,
        "expires": format_expiry(transfer.expires_at),
        **extra,
    }
    body = render_to_string(f"transfers/emails/{template}.txt", context)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
