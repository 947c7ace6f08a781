"""Loaded by pytest before Django (`-p tests.environment`): test-only environment defaults.

Tests run with DEBUG off, as production does, so they need a secret key; the
second factor stays required, so privileged test users are given one.
"""

import os

# Explicit, so that a developer's .env (DEBUG=true) does not change the tests.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-" + "x" * 20)
# 32 bytes in base64: the master key that wraps each transfer's key (issue 9).
os.environ.setdefault("INFOSHARE_MASTER_KEY", "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMtLS0=")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("INFOSHARE_REQUIRE_MFA", "true")
# Playwright's sync API runs an event loop in the test thread, where the ORM
# is then used by the test itself; Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
