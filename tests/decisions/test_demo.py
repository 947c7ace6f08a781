"""`seed_demo` (what `make run` loads) gives each school pupils and three decisions, once."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from infoshare.audit.verify import verify_chains
from infoshare.core.models import Organisation
from infoshare.decisions.models import Decision

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_share_a_refusal_and_an_emergency_disclosure_per_school(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # idempotent
    for slug in ("alder-primary", "birch-academy"):
        school = Organisation.objects.get(slug=slug)
        # The roll changes' notification adds a statutory decision (tests/statutory).
        statutory = Decision.objects.filter(organisation=school, arrangement="statutory")
        assert statutory.count() == 1
        decisions = Decision.objects.filter(organisation=school).exclude(arrangement="statutory")
        assert sorted(decisions.values_list("outcome", flat=True)) == [
            "not_shared",
            "shared",
            "shared",
        ]
        assert list(decisions.needing_review().values_list("arrangement", flat=True)) == [
            "emergency"
        ]
        assert all(decision.people.exists() for decision in decisions)
    assert verify_chains().intact
