"""The record as the Appendix B "Internal Information Sharing Form": what the page and the PDF show.

Each of the form's two declarations is shown with its signature: the name
as typed, when, how the signer proved it was them, and whether the stored
hash still matches what was declared. Nothing here changes a record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infoshare.core.security import Confirmation
from infoshare.safeguarding.models import DECLARATIONS, Part

if TYPE_CHECKING:
    import datetime

    from infoshare.core.models import User
    from infoshare.safeguarding.models import Share, Signature

FORM_TITLE = "Internal Information Sharing Form"
# How much of a declaration's hash the printed form shows: enough to match it to the record.
HASH_SHOWN = 16


def confirmed_with(signature: Signature) -> str:
    """How the signer proved it was them, as a person would say it."""
    if signature.confirmed_with == Confirmation.AUTHENTICATOR:
        return "confirmed with their authenticator code"
    return "confirmed with their password"


def signed_parts(share: Share) -> list[dict[str, Any]]:
    """Each declaration of the form, in its order, with its signature (None while unsigned)."""
    parts = []
    for part in (Part.DSL, Part.RECIPIENT):
        signature = share.signature_of(part)
        parts.append(
            {
                "part": part.value,
                "title": part.label,
                "declaration": DECLARATIONS[part],
                "signature": signature,
                "confirmed_with": confirmed_with(signature) if signature else "",
                "intact": signature.is_intact if signature else None,
                "hash_shown": signature.declaration_hash[:HASH_SHOWN] if signature else "",
            }
        )
    return parts


def form_context(share: Share, *, produced: datetime.datetime, produced_by: User) -> dict[str, Any]:
    """Everything `safeguarding/form_pdf.html` shows of `share`."""
    return {
        "share": share,
        "organisation": share.organisation,
        "title": FORM_TITLE,
        "parts": signed_parts(share),
        "produced": produced,
        "produced_by": produced_by,
    }
