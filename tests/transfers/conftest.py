"""Fixtures for the secure transfers tests (the shared `world` lives in tests/conftest.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

# A real SMTP server, for the tests that check what goes over the wire.
from tests.smtp import smtp_server

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["smtp_server"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Each test's ciphertext goes to a folder of its own, looked at by the tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
