"""What the agreements register reports outside the application: its exports.

A download of the register is recorded in the audit trail (DESIGN.md rule 1:
audit events come from services, not views), with its format, how many rows
it held and the filters used, never the words searched for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from infoshare.agreements.rules import can_view_agreements
from infoshare.audit import services as audit

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User

REGISTER_LABEL = "Agreements register"


def note_agreements_exported(
    organisation: Organisation, *, actor: User, changes: dict[str, Any]
) -> None:
    """Record that `actor` downloaded the register (`changes`: format, rows, filters)."""
    with transaction.atomic():
        if not can_view_agreements(actor, organisation):
            raise PermissionDenied("Only members of the organisation export its register.")
        audit.record(actor, "agreements.exported", organisation, changes, label=REGISTER_LABEL)
