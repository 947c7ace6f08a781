"""The demo policy: version 1 approved 11 months ago by the headteacher, acknowledged by
some of the staff but not all; seeding again adds nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from infoshare.agreements.models import add_months
from infoshare.governance import due, policy
from infoshare.governance.demo import seed_policy
from infoshare.governance.models import PolicyAcknowledgement, PolicyStatus, PolicyVersion

pytestmark = pytest.mark.django_db


def test_the_demo_policy_is_in_force_partly_acknowledged_and_seeded_once(world):
    school = world.school
    version = seed_policy(school.organisation)
    assert version is not None
    assert version.status == PolicyStatus.APPROVED
    assert (version.drafted_by, version.approved_by) == (school["dpo"], school["headteacher"])
    assert version.approved_on == add_months(timezone.localdate(), -11)
    acknowledged = set(
        PolicyAcknowledgement.objects.filter(version=version).values_list("user__email", flat=True)
    )
    must = {person.email for person in policy.members_to_acknowledge(school.organisation)}
    assert acknowledged
    assert acknowledged < must
    # Staff still see it waiting for them.
    kinds = [
        i.kind for i in due.due_items(school["staff"], school.organisation, timezone.localdate())
    ]
    assert kinds == [due.ACKNOWLEDGE_KIND]
    assert seed_policy(school.organisation) == version
    assert PolicyVersion.objects.count() == 1
    assert PolicyAcknowledgement.objects.count() == len(acknowledged)
