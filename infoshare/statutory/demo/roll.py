from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infoshare.core.models import Organisation


def seed_roll_changes(organisation: Organisation) -> None:
    return None
