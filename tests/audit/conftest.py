"""Fixtures for the audit tests (the shared `world` lives in tests/conftest.py)."""
