"""Production settings are secure by default: `check --deploy` is clean, secrets are required."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY_VARIABLES = {
    "SECRET_KEY",
    "INFOSHARE_MASTER_KEY",
    "DEBUG",
    "STATIC_MANIFEST",
    "SECURE_SSL_REDIRECT",
    "INFOSHARE_REQUIRE_MFA",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "-production-like-secret-key-for-the-check-0123456789",
    "ALLOWED_HOSTS": "infoshare.example.org",
    "INFOSHARE_MASTER_KEY": "cHJvZHVjdGlvbi1saWtlLW1hc3Rlci1rZXktMzJieXQ=",
}


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    # Start from the real environment without what tests/environment.py adds.
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="false", ALLOWED_HOSTS="infoshare.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_a_master_key():
    without = {k: v for k, v in PRODUCTION.items() if k != "INFOSHARE_MASTER_KEY"}
    result = manage("check", **without)
    assert result.returncode != 0
    assert "INFOSHARE_MASTER_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_a_master_key_that_is_not_32_bytes():
    result = manage("check", **{**PRODUCTION, "INFOSHARE_MASTER_KEY": "c2hvcnQ="})
    assert result.returncode != 0
    assert "INFOSHARE_MASTER_KEY: the key must be 32 bytes; this one is 5." in result.stderr


def test_seed_demo_refuses_to_run_in_production():
    result = manage("seed_demo", **PRODUCTION)
    assert result.returncode != 0
    assert "runs only with DEBUG on" in result.stderr
