"""The sender's and the DPO's actions on a transfer: who may, noting views and exports,
revoking and unlocking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from infoshare.audit import services as audit
from infoshare.core.checks import require
from infoshare.core.models import Role
from infoshare.core.rules import roles_in
from infoshare.transfers.models import Status
from infoshare.transfers.services.common import _status_quoted, ended_message, lock_transfer
from infoshare.transfers.services.expiry import _destroy

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User
    from infoshare.transfers.models import Transfer

# --- The sender's and the DPO's page --------------------------------------------------------


def may_manage(transfer: Transfer, user: User) -> bool:
    """The sender (while still a member of the school) or a DPO of the school."""
    roles = roles_in(user, transfer.organisation)
    return bool(roles) and (transfer.sender_id == user.pk or Role.DPO in roles)


def note_view(transfer: Transfer, *, actor: User) -> None:
    """Opening a transfer's page is an audit event (DESIGN.md rule 5)."""
    with transaction.atomic():
        audit.record(actor, "transfer.viewed", transfer)


def note_export(organisation: Organisation, *, actor: User, count: int) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            "transfer.exported",
            organisation,
            {"count": count},
            label="Secure transfers",
        )


def revoke_transfer(transfer: Transfer, *, actor: User, reason: str) -> Transfer:
    """The sender or the DPO ends a transfer now: its key and files are destroyed."""
    with transaction.atomic():
        locked = lock_transfer(transfer)
        require(may_manage(locked, actor), "Only the sender or the DPO revokes a transfer.")
        if not locked.is_live:
            raise ValidationError(ended_message(locked))
        if not (reason or "").strip():
            raise ValidationError({"reason": ["Enter why you are revoking the transfer"]})
        files = _destroy(locked, lambda: locked.revoke(actor, reason.strip()))
        audit.record(
            actor, "transfer.revoked", locked, {"status": locked.status, "files_deleted": files}
        )
    transfer.refresh_from_db()
    return locked


def unlock_transfer(transfer: Transfer, *, actor: User) -> Transfer:
    """The sender or the DPO lets the recipient try again after five wrong codes."""
    with transaction.atomic():
        locked = lock_transfer(transfer)
        require(may_manage(locked, actor), "Only the sender or the DPO unlocks a transfer.")
        if locked.status != Status.LOCKED:
            raise ValidationError(
                f"{locked.reference} is not locked: it is {_status_quoted(locked)}."
            )
        locked.unlock()
        # The recipient asks for a fresh code: whoever tried five wrong ones may hold the link.
        locked.code_hash = ""
        locked.code_sent_at = None
        locked.code_used = False
        locked.save()
        audit.record(actor, "transfer.unlocked", locked, {"status": locked.status})
    transfer.refresh_from_db()
    return locked
