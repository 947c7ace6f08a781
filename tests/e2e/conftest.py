"""Browser tests: Playwright drives Debian's Chromium against the live server.

axe-core comes from the npm registry (node_modules) and is evaluated through
the DevTools protocol, so the pages' Content-Security-Policy stays on and any
request it blocks shows up as a console error, which the tests refuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # This machine has no network beyond localhost: stop Chromium's own calls home.
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def console_errors(page: Any) -> list[str]:
    """Console errors of the page (a CSP violation or a missing asset appears here)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def serious_accessibility_violations(page: Any) -> list[str]:
    """Run axe-core (WCAG 2.x A and AA rules) and return serious or critical violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def current_totp_code(user: Any) -> str:
    """The code the person's authenticator app would show now."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )
    from allauth.mfa.utils import decrypt

    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def assert_accessible(page: Any) -> None:
    assert serious_accessibility_violations(page) == [], page.url


def sign_in(page: Any, base_url: str, user: Any, password: str) -> None:
    """Sign in through the login page, with the second factor when the person has one."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if "/accounts/2fa/authenticate/" in page.url:
        page.get_by_label("Code").fill(current_totp_code(user))
        page.get_by_role("button", name="Sign in").click()
