"""Fixtures for the agreements tests (the shared `world` lives in tests/conftest.py)."""

from __future__ import annotations

import pytest

# A real SMTP server, for the tests that check what goes over the wire.
from tests.smtp import smtp_server

__all__ = ["smtp_server"]


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    """Signed copies and certificates go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
