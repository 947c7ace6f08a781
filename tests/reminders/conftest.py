"""The reminders tests are about what each source has waiting; the schools' policies are
in good standing, so the policy's own items (tested in tests/governance/test_policy_review.py
and tests/e2e/test_policy.py) do not join every list: a version approved today, that every
member who must has acknowledged, has nothing waiting until its review nears."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from infoshare.governance import policy


@pytest.fixture(autouse=True)
def _policies_in_force_and_read(request):
    if "world" not in request.fixturenames:
        return
    world = request.getfixturevalue("world")
    for school in (world.school, world.other):
        version = policy.draft_policy_version(
            school.organisation,
            actor=school["dpo"],
            answers=policy.PolicyAnswers(
                title="Information sharing policy", text="Section 1. Scope of the policy."
            ),
        )
        version = policy.approve_policy_version(
            version, actor=school["headteacher"], approved_on=timezone.localdate()
        )
        for member in policy.members_to_acknowledge(school.organisation):
            policy.acknowledge_policy(version, actor=member)
    mail.outbox.clear()
