import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _forget_used_codes_and_failures():
    """Used TOTP codes and failed signing attempts live in the cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _codes_good_across_a_step(settings):
    """A code worked out just before its 30-second step ends is still good just after.

    Tests compute a code, then sign with it: without this, now and then the
    step would end in between and the code be refused. A code still signs once.
    """
    settings.MFA_TOTP_TOLERANCE = 1
