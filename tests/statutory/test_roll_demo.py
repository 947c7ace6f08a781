"""The demo's roll changes: one at every stage in each school, made once, through the services."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from infoshare.audit.verify import verify_chains
from infoshare.core.models import Organisation
from infoshare.statutory.demo.roll import seed_roll_changes
from infoshare.statutory.models import RollChange, RollState

pytestmark = pytest.mark.django_db

SCHOOLS = ("alder-primary", "birch-academy")


def test_each_school_has_a_roll_change_at_every_stage(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)
    today = timezone.localdate()
    for slug in SCHOOLS:
        school = Organisation.objects.get(slug=slug)
        seed_roll_changes(school)
        changes = RollChange.objects.filter(organisation=school)
        states = sorted(change.state_on(today) for change in changes)
        assert states == sorted(
            [
                RollState.DUE,
                RollState.DUE,
                RollState.OVERDUE,
                RollState.OVERDUE,
                RollState.NOTIFIED,
                RollState.WITHDRAWN,
            ]
        )
        assert sorted(changes.values_list("kind", flat=True)) == ["joined"] * 4 + ["removed"] * 2
        told = changes.get(status="notified")
        assert told.decision is not None
        assert told.decision.recipient_organisation.slug == "eastmoor-council"
    assert verify_chains().intact

    for slug in SCHOOLS:  # a second run adds nothing
        seed_roll_changes(Organisation.objects.get(slug=slug))
    assert RollChange.objects.count() == 12
