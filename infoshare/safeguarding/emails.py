"""The emails of the safeguarding protocol (issue 6, item 3).

They tell someone there is something for them, and link to it. They never
carry the child's name, the file or what was shared: an email can be read
over a shoulder, forwarded or kept in a mailbox the DSL does not control.
Each is sent after the transaction that made the change commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from infoshare.core.emails import absolute_url, members_holding, send_to_each
from infoshare.core.models import Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from infoshare.core.models import User
    from infoshare.safeguarding.models import ReshareRequest, Share

LEADS = (Role.DSL, Role.DEPUTY_DSL)


def send_to_acknowledge(share: Share) -> None:
    _send(share, [share.recipient], "Safeguarding information for you to acknowledge", "shared")


def send_acknowledged(share: Share) -> None:
    _send(share, [share.shared_by], f"{share.reference} has been acknowledged", "acknowledged")


def send_withdrawn(share: Share, was_acknowledged: bool) -> None:
    _send(
        share,
        [share.recipient],
        f"{share.reference} has been withdrawn",
        "withdrawn",
        extra={"was_acknowledged": was_acknowledged},
    )


def send_reshare_requested(request: ReshareRequest) -> None:
    leads = members_holding(request.organisation, *LEADS)
    _send(
        request.share,
        leads,
        f"{request.share.reference}: a request to share further needs your answer",
        "reshare_requested",
        extra={"request": request, "link": absolute_url(request.get_absolute_url())},
        exclude=request.requested_by,
    )


def send_reshare_answered(request: ReshareRequest) -> None:
    _send(
        request.share,
        [request.requested_by],
        f"{request.share.reference}: your request to share further has been "
        f"{request.get_status_display().lower()}",
        "reshare_answered",
        extra={"request": request},
    )


def _send(
    share: Share,
    people: Iterable[User],
    subject: str,
    template: str,
    *,
    extra: dict[str, object] | None = None,
    exclude: User | None = None,
) -> None:
    context = {
        "share": share,
        "organisation": share.organisation.name,
        "link": absolute_url(share.get_absolute_url()),
        **(extra or {}),
    }
    body = render_to_string(f"safeguarding/emails/{template}.txt", context)
    send_to_each(people, subject, body, exclude=exclude)
