"""`seed_demo` gives each school agreements at different stages, once, made through the
services and linked to its information assets; the admin shows them and changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from infoshare.agreements.demo import SUPPLIER_SLUG, seed_agreements
from infoshare.agreements.models import Agreement, AgreementReview, Kind, Status, Tag
from infoshare.audit.models import AuditEvent
from infoshare.audit.verify import verify_chains
from infoshare.core.models import ExternalKind, Organisation, OrganisationKind
from infoshare.governance.demo import seed_assets
from infoshare.proposals.demo import seed_proposals
from infoshare.proposals.models import APPROVED_STATUSES
from tests.agreements import drafts
from tests.conftest import give_totp, make_user

pytestmark = pytest.mark.django_db

SCHOOLS = ("alder-primary", "birch-academy")


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)


def agreements_of(slug: str) -> dict[str, Agreement]:
    """The school's demo agreements by what the register shows of them, but for the two
    active ones (the protocol and the agreement under it: told apart by their kind)."""
    found: dict[str, Agreement] = {}
    for agreement in Agreement.objects.filter(organisation__slug=slug):
        tag = agreement.tag()
        if tag != Tag.ACTIVE:
            assert tag not in found, f"two demo agreements tagged {tag}"
            found[tag] = agreement
    return found


def test_each_school_has_an_agreement_at_each_stage(seeded):
    for slug in SCHOOLS:
        agreements = Agreement.objects.filter(organisation__slug=slug)
        assert sorted(a.tag() for a in agreements) == sorted(
            [
                Tag.ACTIVE,  # the protocol
                Tag.ACTIVE,  # the agreement under it
                Tag.DRAFT,  # procedures belonging to that agreement
                Tag.AWAITING_ADVICE,  # from the approved proposal
                Tag.AWAITING_APPROVAL,  # the DPA
                Tag.REVIEW_OVERDUE,
                Tag.EXPIRED,
            ]
        )
    assert verify_chains().intact


def test_the_tiers_sit_one_under_another_signed_where_in_force(seeded):
    for slug in SCHOOLS:
        school = Organisation.objects.get(slug=slug)
        protocol = Agreement.objects.get(organisation=school, kind=Kind.PROTOCOL)
        # The protocol is between the trust's schools.
        partners = {p.organisation.slug for p in protocol.parties.all()}
        assert partners == set(SCHOOLS)
        agreement = protocol.children.get()
        assert agreement.kind == Kind.AGREEMENT
        assert agreement.parties.filter(
            organisation__kind=OrganisationKind.LOCAL_AUTHORITY
        ).exists()
        procedures = agreement.children.get()
        assert (procedures.kind, procedures.status) == (Kind.PROCEDURES, Status.DRAFT)
        for in_force in (protocol, agreement):
            assert in_force.status == Status.APPROVED
            assert in_force.signed_copy
            assert all(party.has_signed for party in in_force.parties.all())
            with in_force.signed_copy.open("rb") as stored:
                assert stored.read(5) == b"%PDF-"


def test_the_agreement_from_the_approved_proposal_waits_for_advice(seeded):
    for slug in SCHOOLS:
        waiting = agreements_of(slug)[Tag.AWAITING_ADVICE]
        assert waiting.proposal is not None
        assert waiting.proposal.status in APPROVED_STATUSES
        assert waiting.title == waiting.proposal.name
        # The conditions of approval were carried into the agreement.
        assert waiting.proposal.conditions in waiting.security_measures


def test_the_dpa_with_the_supplier_has_its_checklist_settled_and_waits_for_approval(seeded):
    supplier = Organisation.objects.get(slug=SUPPLIER_SLUG)
    assert supplier.external_kind == ExternalKind.SUPPLIER
    for slug in SCHOOLS:
        dpa = agreements_of(slug)[Tag.AWAITING_APPROVAL]
        assert dpa.kind == Kind.DPA
        assert dpa.parties.get(organisation=supplier).role == "processor"
        assert all(clause.is_settled for clause in dpa.clauses.all())
        assert dpa.clauses.count() == 8
        assert dpa.subprocessors
        assert dpa.international_transfers
        assert dpa.advice


def test_an_overdue_review_and_an_expired_agreement_with_its_certificate(seeded):
    for slug in SCHOOLS:
        agreements = agreements_of(slug)
        overdue = agreements[Tag.REVIEW_OVERDUE]
        assert overdue.review_due is not None
        assert overdue.review_due < timezone.localdate()
        assert overdue in Agreement.objects.tagged(Tag.REVIEW_OVERDUE, timezone.localdate())
        expired = agreements[Tag.EXPIRED]
        assert expired.data_fate == "destroyed"
        assert expired.disposal_evidence
        assert all(party.agreed_to_terminate for party in expired.parties.all())


def test_the_agreements_name_the_information_assets_they_draw_on(seeded):
    for slug in SCHOOLS:
        for agreement in Agreement.objects.filter(organisation__slug=slug):
            assets = list(agreement.assets.all())
            if agreement.kind == Kind.PROTOCOL:
                assert assets == []  # principles, not one body of data
                continue
            assert assets, agreement.reference
            assert {asset.organisation.slug for asset in assets} == {slug}
        dpa = agreements_of(slug)[Tag.AWAITING_APPROVAL]
        assert [asset.name for asset in dpa.assets.all()] == [
            "Catering and cashless payment system"
        ]


def test_running_it_again_adds_nothing(seeded, settings):
    before = list(Agreement.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    suppliers = Organisation.objects.filter(external_kind=ExternalKind.SUPPLIER).count()
    call_command("seed_demo", stdout=None)
    after = list(Agreement.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    assert after == before
    assert Organisation.objects.filter(external_kind=ExternalKind.SUPPLIER).count() == suppliers
    assert verify_chains().intact


# The last event about each demo agreement, for where it stands.
LAST_STEP = {
    Tag.DRAFT: "agreement.created",
    Tag.AWAITING_ADVICE: "agreement.advice_requested",
    Tag.AWAITING_APPROVAL: "agreement.advised",
    Tag.REVIEW_OVERDUE: "agreement.approved",
    Tag.EXPIRED: "agreement.expired",
}


def test_every_agreement_was_made_through_the_services(seeded):
    """Each agreement's story is in the audit trail, from its drafting to where it stands."""
    for agreement in Agreement.objects.all():
        verbs = list(
            AuditEvent.objects.filter(
                organisation=agreement.organisation,
                object_type="agreements.agreement",
                object_id=agreement.reference,
            )
            .order_by("sequence")
            .values_list("verb", flat=True)
        )
        assert verbs[0] == "agreement.created", agreement.reference
        tag = agreement.tag()
        expected = LAST_STEP.get(tag, "agreement.signed_copy_uploaded")  # active: signed
        assert verbs[-1] == expected, (agreement.reference, verbs)
    assert not AgreementReview.objects.exists()


def test_a_school_without_the_people_to_take_the_steps_gets_none(world):
    # The world's trust has no members: nobody could draft, advise or approve.
    seed_agreements(world.trust)
    assert not Agreement.objects.filter(organisation=world.trust).exists()


def test_it_works_with_the_people_given_and_makes_the_supplier_once(world):
    school = world.school
    people = {role: school[role] for role in ("staff", "dpo", "headteacher", "information_manager")}
    seed_proposals(school.organisation, people)
    seed_assets(school.organisation, people)
    seed_agreements(school.organisation, people)
    agreements = Agreement.objects.filter(organisation=school.organisation)
    assert agreements.count() == 7
    assert set(agreements.values_list("drafted_by", flat=True)) == {school["staff"].pk}
    approved = agreements.exclude(approved_by=None)
    assert set(approved.values_list("approved_by", flat=True)) == {school["headteacher"].pk}
    assert set(agreements.exclude(advised_by=None).values_list("advised_by", flat=True)) == {
        school["dpo"].pk
    }
    expired = agreements.get(status=Status.EXPIRED)
    assert expired.expired_by == school["information_manager"]
    # Without the demo's schools, the protocol is with the trust's other school.
    protocol = agreements.get(kind=Kind.PROTOCOL)
    assert world.other.organisation in [p.organisation for p in protocol.parties.all()]
    # The other school gets its own, with the same supplier; it has no approved
    # proposal, so no agreement made from one.
    seed_agreements(world.other.organisation)
    assert Organisation.objects.filter(slug=SUPPLIER_SLUG).count() == 1
    assert Agreement.objects.filter(organisation=world.other.organisation).count() == 6
    assert verify_chains().intact


def test_a_school_with_agreements_gets_no_more(world):
    school = world.school
    drafts.drafted(school.organisation, school["staff"], world.local_authority)
    seed_agreements(school.organisation)
    assert Agreement.objects.filter(organisation=school.organisation).count() == 1


# --- The admin: read-only ----------------------------------------------------------------


@pytest.fixture
def operator(client):
    user = make_user("operator@example.org", "Platform Operator")
    user.is_superuser = user.is_staff = True
    user.save()
    give_totp(user)
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client


def test_the_admin_lists_and_shows_agreements_versions_and_reviews(seeded, operator):
    agreement = Agreement.objects.get(organisation__slug="alder-primary", kind=Kind.DPA)
    listing = operator.get(reverse("admin:agreements_agreement_changelist"))
    assert listing.status_code == 200
    assert agreement.reference in listing.content.decode()
    page = operator.get(reverse("admin:agreements_agreement_change", args=[agreement.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert agreement.title in content
    assert "Schedule 2, clause 1" in content  # the checklist, inline
    assert 'name="_save"' not in content  # shown, not offered to change
    version = Agreement.objects.get(
        organisation__slug="alder-primary", kind=Kind.PROTOCOL
    ).versions.get()
    page = operator.get(reverse("admin:agreements_agreementversion_change", args=[version.pk]))
    assert page.status_code == 200
    assert operator.get(reverse("admin:agreements_agreementreview_changelist")).status_code == 200


def test_the_admin_changes_nothing(seeded, operator):
    agreement = Agreement.objects.get(organisation__slug="alder-primary", kind=Kind.DPA)
    before = Agreement.objects.values().get(pk=agreement.pk)
    assert operator.get(reverse("admin:agreements_agreement_add")).status_code == 403
    assert operator.get(reverse("admin:agreements_agreementversion_add")).status_code == 403
    assert operator.get(reverse("admin:agreements_agreementreview_add")).status_code == 403
    change = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    assert operator.post(change, {"status": "approved", "title": "Changed"}).status_code == 403
    delete = reverse("admin:agreements_agreement_delete", args=[agreement.pk])
    assert operator.post(delete, {"post": "yes"}).status_code == 403
    assert Agreement.objects.values().get(pk=agreement.pk) == before
