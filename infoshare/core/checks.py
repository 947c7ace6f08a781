"""What every service does before it changes anything: refuse who may not, and say what is wrong.

A refusal for who someone is raises PermissionDenied (a 403 on a page); a
problem with the answers raises one ValidationError keyed by the form fields
concerned, so a page puts each message beside its field (DESIGN.md rule 8).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError


def require(allowed: bool, message: str) -> None:
    """Refuse with `message` unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message)


def raise_if(errors: dict[str, str]) -> None:
    """Raise every problem found at once, each under its field's name."""
    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
