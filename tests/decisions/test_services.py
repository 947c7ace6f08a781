"""Recording, correcting and reviewing decisions: the rules, the refusals and the audit trail."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core.models import LawfulBasis, Purpose
from infoshare.decisions import services
from infoshare.decisions.models import Arrangement, Check, Consent, Decision, DisclosureReview
from tests.core.support import assert_chain_intact, changes_of, last_event
from tests.decisions.drafts import (
    category,
    condition,
    pupil,
    refusal,
    safeguarding_share,
    share,
    tomorrow,
)

pytestmark = pytest.mark.django_db


def nothing_saved(before_events: int) -> bool:
    return Decision.objects.count() == 0 and AuditEvent.objects.count() == before_events


def refused_fields(organisation, actor, draft) -> dict[str, list[str]]:
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.record_decision(organisation, actor=actor, draft=draft)
    assert nothing_saved(before)
    return refused.value.message_dict


# --- Recording -----------------------------------------------------------------------------


def test_a_share_is_recorded_with_a_yearly_reference_and_an_audit_event(world):
    staff = world.school["staff"]
    child = pupil(world.school.organisation)
    decision = services.record_decision(
        world.school.organisation, actor=staff, draft=share(staff, [child])
    )
    year = timezone.localdate().year
    assert decision.reference == f"DEC-{year}-0001"
    assert list(decision.people.all()) == [child]
    assert decision.recorded_by == staff
    assert decision.has_special_category is False
    event = last_event("decision.recorded")
    assert event.object_id == decision.reference
    assert changes_of(event) == {
        "outcome": "shared",
        "arrangement": "agreement",
        "special_category": False,
        "people": 1,
    }
    # The audit trail names the record, never what it says.
    assert "Attendance" not in event.changes
    assert_chain_intact(world.school.organisation)


def test_references_count_up_within_an_organisation_and_restart_in_another(world):
    staff, other_staff = world.school["staff"], world.other["staff"]
    about = {"people_described": "A visitor"}
    first = services.record_decision(
        world.school.organisation, actor=staff, draft=share(staff, [], **about)
    )
    second = services.record_decision(
        world.school.organisation, actor=staff, draft=refusal(staff, [], **about)
    )
    elsewhere = services.record_decision(
        world.other.organisation, actor=other_staff, draft=share(other_staff, [], **about)
    )
    assert first.reference.endswith("-0001")
    assert second.reference.endswith("-0002")
    assert elsewhere.reference.endswith("-0001")


def test_a_refusal_needs_no_basis_tests_or_method_and_keeps_none(world):
    staff = world.school["staff"]
    decision = services.record_decision(
        world.school.organisation,
        actor=staff,
        # Answers left over from a share are dropped: a refusal made under nothing.
        draft=refusal(
            staff, [], people_described="A parent", checks=[Check.NECESSARY], method="phone"
        ),
    )
    assert decision.outcome == "not_shared"
    assert decision.lawful_basis is None
    assert decision.checks == []
    assert decision.method == ""
    assert decision.arrangement == ""


def test_a_special_category_share_is_marked_and_keeps_its_conditions(world):
    dsl = world.school["dsl"]
    decision = services.record_decision(
        world.school.organisation,
        actor=dsl,
        draft=safeguarding_share(dsl, [], people_described="A pupil"),
    )
    assert decision.has_special_category is True
    assert {c.code for c in decision.conditions.all()} == {
        "art9-g-substantial-public-interest",
        "sch1-18-safeguarding",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"conditions": []},
            "conditions",
            "Choose the Article 9 condition",
        ),
        (
            {"conditions": ["art9-g-substantial-public-interest"]},
            "conditions",
            "applies only with a condition from DPA 2018 Schedule 1",
        ),
        ({"checks": [c for c in Check.values if c != "timely"]}, "checks", "Not confirmed: timely"),
        ({"consent_explanation": ""}, "consent_explanation", "Explain why consent was not sought"),
        (
            {"decided_on": tomorrow()},
            "decided_on",
            "must be today or in the past",
        ),
        ({"method": ""}, "method", "Choose how the information was shared"),
        ({"arrangement": ""}, "arrangement", "Choose what the sharing was made under"),
        ({"lawful_basis": None}, "lawful_basis", "Choose the lawful basis"),
        (
            {"recipient_organisation_name": ""},
            "recipient_organisation_name",
            "Choose the organisation",
        ),
        ({}, "people", "Choose the people this decision is about"),
    ],
)
def test_a_share_missing_an_answer_is_refused_beside_its_field(world, changes, field, message):
    dsl = world.school["dsl"]
    if "conditions" in changes:
        changes = {**changes, "conditions": [condition(code) for code in changes["conditions"]]}
    described = "" if field == "people" else "A pupil's sibling"
    draft = safeguarding_share(dsl, [], **{"people_described": described, **changes})
    fields = refused_fields(world.school.organisation, dsl, draft)
    assert any(message in text for text in fields[field]), fields


def test_every_problem_is_reported_at_once(world):
    staff = world.school["staff"]
    draft = share(staff, [], checks=[], method="", decided_on=tomorrow())
    fields = refused_fields(world.school.organisation, staff, draft)
    assert {"people", "checks", "method", "decided_on"} <= set(fields)


def test_other_purpose_must_be_described(world):
    staff = world.school["staff"]
    draft = share(
        staff, [], people_described="A visitor", purpose=Purpose.objects.get(code="other")
    )
    fields = refused_fields(world.school.organisation, staff, draft)
    assert fields["purpose_described"] == ["Describe the purpose, as you chose 'Other'"]


def test_an_agreement_share_names_its_agreement(world):
    staff = world.school["staff"]
    draft = share(staff, [], people_described="A visitor", agreement_reference="")
    fields = refused_fields(world.school.organisation, staff, draft)
    assert fields["agreement_reference"] == ["Enter the reference of the agreement"]


def test_consent_is_the_basis_only_when_given(world):
    staff = world.school["staff"]
    draft = share(
        staff,
        [],
        people_described="A visitor",
        lawful_basis=LawfulBasis.objects.get(code="consent"),
        consent=Consent.REFUSED,
        consent_explanation="",
    )
    fields = refused_fields(world.school.organisation, staff, draft)
    assert any("only when it was given" in text for text in fields["lawful_basis"])
    assert any("explain the lawful reason" in text for text in fields["consent_explanation"])


def test_a_special_category_refusal_needs_no_condition(world):
    dsl = world.school["dsl"]
    draft = refusal(dsl, [], categories=[category("health")], people_described="A parent")
    decision = services.record_decision(world.school.organisation, actor=dsl, draft=draft)
    assert decision.has_special_category is True
    assert decision.conditions.count() == 0


def test_people_of_another_school_are_refused(world):
    staff = world.school["staff"]
    stranger = pupil(world.other.organisation)
    fields = refused_fields(world.school.organisation, staff, share(staff, [stranger]))
    assert fields["people"] == ["Choose people from this school's list only"]


def test_the_decider_must_be_a_current_member(world):
    staff = world.school["staff"]
    outsider = world.other["headteacher"]
    draft = share(staff, [], people_described="A visitor", decided_by=outsider)
    fields = refused_fields(world.school.organisation, staff, draft)
    assert fields["decided_by"] == ["Choose a current member of the school"]


def test_a_past_date_is_accepted(world):
    staff = world.school["staff"]
    last_week = timezone.localdate() - datetime.timedelta(days=7)
    draft = share(staff, [], people_described="A visitor", decided_on=last_week)
    decision = services.record_decision(world.school.organisation, actor=staff, draft=draft)
    assert decision.decided_on == last_week


def test_an_auditor_only_cannot_record(world):
    auditor = world.school["auditor"]
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.record_decision(world.school.organisation, actor=auditor, draft=share(auditor, []))
    assert nothing_saved(before)


def test_a_non_member_cannot_record(world):
    stranger = world.other["staff"]
    with pytest.raises(PermissionDenied):
        services.record_decision(
            world.school.organisation, actor=stranger, draft=share(stranger, [])
        )


# --- Correcting ----------------------------------------------------------------------------


def recorded(world, role="staff", draft_maker=share):
    actor = world.school[role]
    child = pupil(world.school.organisation)
    return services.record_decision(
        world.school.organisation, actor=actor, draft=draft_maker(actor, [child])
    )


def test_a_correction_supersedes_and_both_are_kept(world):
    original = recorded(world)
    staff = world.school["staff"]
    draft = share(staff, list(original.people.all()), information="Attendance, spring term")
    correction = services.correct_decision(
        original, actor=staff, draft=draft, reason="Wrong term recorded."
    )
    original.refresh_from_db()
    assert correction.supersedes == original
    assert original.superseded_by == correction
    assert original.information == "Attendance for the autumn term"  # unchanged
    assert correction.correction_reason == "Wrong term recorded."
    assert list(Decision.objects.current()) == [correction]
    event = last_event("decision.corrected")
    assert changes_of(event)["supersedes"] == original.reference
    assert event.object_id == correction.reference


def test_a_correction_needs_a_reason(world):
    original = recorded(world)
    staff = world.school["staff"]
    with pytest.raises(ValidationError) as refused:
        services.correct_decision(
            original, actor=staff, draft=share(staff, [], people_described="x"), reason="  "
        )
    assert "correction_reason" in refused.value.message_dict
    assert Decision.objects.count() == 1


def test_a_corrected_record_cannot_be_corrected_again(world):
    original = recorded(world)
    staff = world.school["staff"]
    draft = share(staff, list(original.people.all()))
    services.correct_decision(original, actor=staff, draft=draft, reason="Typo.")
    with pytest.raises(ValidationError, match="already been corrected by"):
        services.correct_decision(original, actor=staff, draft=draft, reason="Again.")
    assert Decision.objects.count() == 2


@pytest.mark.parametrize("role", ["dpo", "headteacher"])
def test_the_dpo_or_headteacher_may_correct_someone_elses_record(world, role):
    original = recorded(world)
    corrector = world.school[role]
    draft = share(corrector, list(original.people.all()))
    correction = services.correct_decision(original, actor=corrector, draft=draft, reason="x")
    assert correction.recorded_by == corrector


@pytest.mark.parametrize("role", ["chair", "information_manager", "volunteer", "dsl"])
def test_others_may_not_correct_someone_elses_record(world, role):
    original = recorded(world)
    actor = world.school[role]
    with pytest.raises(PermissionDenied):
        services.correct_decision(
            original, actor=actor, draft=share(actor, [], people_described="x"), reason="x"
        )
    assert Decision.objects.count() == 1


# --- Reviewing -----------------------------------------------------------------------------


def test_the_dpo_reviews_an_emergency_disclosure(world):
    decision = recorded(world, "dsl", safeguarding_share)
    assert list(Decision.objects.needing_review()) == [decision]
    dpo = world.school["dpo"]
    review = services.review_disclosure(
        decision, actor=dpo, justified=True, agreement_needed=False, notes="Right call."
    )
    assert review.reviewed_by == dpo
    assert list(Decision.objects.needing_review()) == []
    assert changes_of(last_event("decision.reviewed")) == {
        "justified": True,
        "agreement_needed": False,
    }


def test_one_off_disclosures_are_reviewed_too_but_agreement_shares_are_not(world):
    one_off = recorded(world, "staff", lambda a, p: share(a, p, arrangement=Arrangement.ONE_OFF))
    under_agreement = recorded(world)
    not_shared = recorded(world, "staff", refusal)
    assert list(Decision.objects.needing_review()) == [one_off]
    for decision in (under_agreement, not_shared):
        with pytest.raises(ValidationError, match="Only one-off and emergency"):
            services.review_disclosure(
                decision, actor=world.school["dpo"], justified=True, agreement_needed=False
            )


def test_a_disclosure_is_reviewed_once(world):
    decision = recorded(world, "dsl", safeguarding_share)
    dpo = world.school["dpo"]
    services.review_disclosure(decision, actor=dpo, justified=True, agreement_needed=True)
    with pytest.raises(ValidationError, match="already been reviewed"):
        services.review_disclosure(decision, actor=dpo, justified=False, agreement_needed=True)
    assert DisclosureReview.objects.count() == 1


def test_a_corrected_disclosure_is_reviewed_in_its_latest_version(world):
    original = recorded(world, "dsl", safeguarding_share)
    dsl = world.school["dsl"]
    correction = services.correct_decision(
        original, actor=dsl, draft=safeguarding_share(dsl, list(original.people.all())), reason="x"
    )
    assert list(Decision.objects.needing_review()) == [correction]
    with pytest.raises(ValidationError, match="has been corrected"):
        services.review_disclosure(
            original, actor=world.school["dpo"], justified=True, agreement_needed=False
        )


@pytest.mark.parametrize("role", ["headteacher", "dsl", "staff", "chair"])
def test_only_the_dpo_reviews(world, role):
    decision = recorded(world, "dsl", safeguarding_share)
    with pytest.raises(PermissionDenied):
        services.review_disclosure(
            decision, actor=world.school[role], justified=True, agreement_needed=False
        )
    assert DisclosureReview.objects.count() == 0


# --- Viewing -------------------------------------------------------------------------------


def test_viewing_a_special_category_record_is_audited_and_an_ordinary_one_is_not(world):
    special = recorded(world, "dsl", safeguarding_share)
    ordinary = recorded(world)
    dpo = world.school["dpo"]
    before = AuditEvent.objects.filter(verb="decision.viewed").count()
    services.note_view(ordinary, actor=dpo)
    assert AuditEvent.objects.filter(verb="decision.viewed").count() == before
    services.note_view(special, actor=dpo)
    event = last_event("decision.viewed")
    assert event.actor == dpo
    assert event.object_id == special.reference
