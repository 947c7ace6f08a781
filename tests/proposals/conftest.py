"""Fixtures for the proposals tests (the shared `world` lives in tests/conftest.py)."""

from __future__ import annotations

# A real SMTP server, for the tests that check what goes over the wire.
from tests.smtp import smtp_server

__all__ = ["smtp_server"]
