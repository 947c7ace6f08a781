"""The emails that tell the next person an agreement is waiting for them.

Each is sent after the transaction that changed the agreement commits. They
carry the reference, the title and a link; never the agreement's content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from infoshare.core.emails import absolute_url, members_holding, send_to_each
from infoshare.core.models import Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from infoshare.agreements.models import Agreement
    from infoshare.core.models import User


def advice_requested(agreement: Agreement) -> None:
    dpos = members_holding(agreement.organisation, Role.DPO)
    _send(agreement, dpos, "needs your advice", "advice_requested")


def advised(agreement: Agreement) -> None:
    _send(agreement, [agreement.drafted_by], "has the DPO's advice", "advised")
    # Nobody approves what they drafted, so the drafter is not asked to.
    approvers = [
        user
        for user in members_holding(agreement.organisation, Role.HEADTEACHER, Role.CHAIR)
        if user.pk != agreement.drafted_by_id
    ]
    _send(agreement, approvers, "is ready for your approval", "ready_for_approval")


def approved(agreement: Agreement) -> None:
    people = [agreement.drafted_by, *members_holding(agreement.organisation, Role.DPO)]
    _send(agreement, people, "has been approved", "approved", exclude=agreement.approved_by)


def terminated(agreement: Agreement) -> None:
    _send(
        agreement,
        _information_management(agreement),
        "has been terminated: confirm what happens to the data",
        "terminated",
        exclude=agreement.terminated_by,
    )


def expired(agreement: Agreement) -> None:
    """Appendix A: "advise the Information Management Team that the ISA is no longer"."""
    _send(agreement, _information_management(agreement), "has expired", "expired")


def _information_management(agreement: Agreement) -> list[User]:
    """The school's information management contact: its information managers and DPOs."""
    return members_holding(agreement.organisation, Role.INFORMATION_MANAGER, Role.DPO)


def _send(
    agreement: Agreement,
    people: Iterable[User],
    what: str,
    template: str,
    exclude: User | None = None,
) -> None:
    context = {
        "agreement": agreement,
        "organisation": agreement.organisation.name,
        "link": absolute_url(agreement.get_absolute_url()),
    }
    subject = f"{agreement.get_kind_display()} {agreement.reference} {what}"
    body = render_to_string(f"agreements/emails/{template}.txt", context)
    send_to_each(people, subject, body, exclude=exclude)
