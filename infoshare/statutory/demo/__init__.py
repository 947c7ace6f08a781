"""Demo statutory sharing for `seed_demo`: roll changes at every stage and a returns calendar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infoshare.statutory.demo.returns import seed_returns
from infoshare.statutory.demo.roll import seed_roll_changes

if TYPE_CHECKING:
    from infoshare.core.models import Organisation


def seed_statutory(organisation: Organisation) -> None:
    seed_roll_changes(organisation)
    seed_returns(organisation)
