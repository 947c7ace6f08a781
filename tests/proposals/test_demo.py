"""`seed_demo` gives each school sharing proposals at different stages, once; the admin
shows them and changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.audit.verify import verify_chains
from infoshare.core.models import Organisation
from infoshare.proposals.demo import seed_proposals
from infoshare.proposals.models import Proposal, Status
from tests.conftest import give_totp, make_user

pytestmark = pytest.mark.django_db

SCHOOLS = ("alder-primary", "birch-academy")


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)


def test_each_school_has_a_proposal_at_each_stage(seeded):
    for slug in SCHOOLS:
        proposals = Proposal.objects.filter(organisation__slug=slug)
        assert sorted(proposals.values_list("status", flat=True)) == sorted(
            [
                Status.DRAFT,
                Status.SCREENING_SUBMITTED,
                Status.PIA_IN_PROGRESS,
                Status.APPROVED_WITH_CONDITIONS,
                Status.NOT_NEEDED,
            ]
        )
        in_progress = proposals.get(status=Status.PIA_IN_PROGRESS)
        assert in_progress.risks.count() == 2
        approved = proposals.get(status=Status.APPROVED_WITH_CONDITIONS)
        assert approved.overrides_advice
        assert approved.override_reasons
        assert approved.decided_by != approved.created_by
        assert proposals.get(status=Status.NOT_NEEDED).achievable_without_reasons
    assert verify_chains().intact


def test_running_it_again_adds_nothing(seeded, settings):
    before = list(Proposal.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    call_command("seed_demo", stdout=None)
    after = list(Proposal.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    assert after == before
    assert verify_chains().intact


# The last event about each demo proposal, for where it stands.
LAST_STEP = {
    Status.DRAFT: "proposal.screening_answered",
    Status.SCREENING_SUBMITTED: "proposal.screening_submitted",
    Status.PIA_IN_PROGRESS: "proposal.pia_saved",  # then its risks, events of their own
    Status.APPROVED_WITH_CONDITIONS: "proposal.decided",
    Status.NOT_NEEDED: "proposal.closed_not_needed",
}


def test_every_proposal_was_made_through_the_services(seeded):
    """Each proposal's story is in the audit trail, from its start to where it stands."""
    for proposal in Proposal.objects.all():
        verbs = list(
            AuditEvent.objects.filter(
                organisation=proposal.organisation,
                object_type="proposals.proposal",
                object_id=proposal.reference,
            )
            .order_by("sequence")
            .values_list("verb", flat=True)
        )
        assert verbs[0] == "proposal.created", proposal.reference
        assert verbs[-1] == LAST_STEP[proposal.status], proposal.reference


def test_a_school_without_the_people_to_take_the_steps_gets_none(world):
    # The world's trust has no members: nobody could draft, assess or decide.
    seed_proposals(world.trust)
    assert not Proposal.objects.filter(organisation=world.trust).exists()


def test_it_works_with_the_people_given(world):
    school = world.school
    people = {role: school[role] for role in ("staff", "dpo", "headteacher")}
    seed_proposals(school.organisation, people)
    proposals = Proposal.objects.filter(organisation=school.organisation)
    assert proposals.count() == 5
    assert set(proposals.values_list("created_by", flat=True)) == {school["staff"].pk}
    decided = proposals.get(status=Status.APPROVED_WITH_CONDITIONS)
    assert decided.decided_by == school["headteacher"]
    assert decided.advised_by == school["dpo"]
    # The recipients are other organisations, never the school itself.
    for proposal in proposals:
        assert school.organisation not in proposal.recipients.all()


# --- The admin: read-only ----------------------------------------------------------------


@pytest.fixture
def operator(client):
    user = make_user("operator@example.org", "Platform Operator")
    user.is_superuser = user.is_staff = True
    user.save()
    give_totp(user)
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client


def test_the_admin_lists_and_shows_proposals_and_risks(seeded, operator):
    proposal = Proposal.objects.get(
        organisation__slug="alder-primary", status=Status.PIA_IN_PROGRESS
    )
    listing = operator.get(reverse("admin:proposals_proposal_changelist"))
    assert listing.status_code == 200
    assert proposal.reference in listing.content.decode()
    page = operator.get(reverse("admin:proposals_proposal_change", args=[proposal.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert proposal.name in content
    assert 'name="_save"' not in content  # shown, not offered to change
    risk = proposal.risks.first()
    assert operator.get(reverse("admin:proposals_risk_change", args=[risk.pk])).status_code == 200


def test_the_admin_changes_nothing(seeded, operator):
    proposal = Proposal.objects.get(
        organisation__slug="alder-primary", status=Status.SCREENING_SUBMITTED
    )
    before = Proposal.objects.values().get(pk=proposal.pk)
    assert operator.get(reverse("admin:proposals_proposal_add")).status_code == 403
    assert operator.get(reverse("admin:proposals_risk_add")).status_code == 403
    change = reverse("admin:proposals_proposal_change", args=[proposal.pk])
    assert operator.post(change, {"status": "approved", "name": "Changed"}).status_code == 403
    delete = reverse("admin:proposals_proposal_delete", args=[proposal.pk])
    assert operator.post(delete, {"post": "yes"}).status_code == 403
    assert Proposal.objects.values().get(pk=proposal.pk) == before
    assert Organisation.objects.filter(slug="alder-primary").exists()
