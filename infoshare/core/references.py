"""Human references for records, like DEC-2026-0042: a prefix, the year, a number.

Numbers run from 1 each year within an organisation, without gaps between
committed records: the counter row is locked until the record is saved.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from infoshare.core.models import Organisation, ReferenceCounter


def next_reference(organisation: Organisation, prefix: str) -> str:
    """The next reference of `prefix` this year. Call inside the transaction that saves it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_reference must run inside the transaction that uses it.")
    year = timezone.localdate().year
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(
        organisation=organisation, prefix=prefix, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:04d}"
