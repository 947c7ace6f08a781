"""Each app's due-item source: who is waited for, where the item links, and by when.

Every source is asked through `items_for`/`overdue_in` (the one interface) and
directly, for each role of the school, and of the other school.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from infoshare.agreements import due as agreement_due
from infoshare.agreements import lifecycle
from infoshare.core.models import Role
from infoshare.decisions import due as decision_due
from infoshare.decisions import services as decision_services
from infoshare.decisions.models import Arrangement
from infoshare.proposals import due as proposal_due
from infoshare.proposals import services as proposal_services
from infoshare.proposals.models import PiaRequirement
from infoshare.reminders.items import DueItem, items_for, overdue_in
from infoshare.safeguarding import due as safeguarding_due
from infoshare.safeguarding import services as safeguarding_services
from tests.agreements import drafts as agreement_drafts
from tests.decisions import drafts as decision_drafts
from tests.proposals import drafts as proposal_drafts
from tests.reminders.support import approved_on, at_noon
from tests.safeguarding.support import DESCRIPTION, ask_to_share_with, make_share, signing_for

if TYPE_CHECKING:
    from infoshare.core.models import Organisation, User

ONE_DAY = datetime.timedelta(days=1)
EVERY_ROLE = [role.value for role in Role]


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def today() -> datetime.date:
    return timezone.localdate()


def items(user: User, organisation: Organisation, on: datetime.date | None = None) -> list[DueItem]:
    return items_for(user, organisation, on or today())


def kinds(user: User, organisation: Organisation, on: datetime.date | None = None) -> list[str]:
    return [item.kind for item in items(user, organisation, on)]


def who_is_waited_for(world, kind: str, on: datetime.date | None = None) -> set[str]:
    """The roles of the school (and "trust_dpo", "other:<role>") with an item of `kind`."""
    waited: set[str] = set()
    for role in EVERY_ROLE:
        if kind in kinds(world.school[role], world.school.organisation, on):
            waited.add(role)
        if kind in kinds(world.other[role], world.other.organisation, on):
            waited.add(f"other:{role}")
    if kind in kinds(world.trust_dpo, world.school.organisation, on):
        waited.add("trust_dpo")
    return waited


def only(found: list[DueItem], kind: str) -> DueItem:
    matching = [item for item in found if item.kind == kind]
    assert len(matching) == 1, matching
    return matching[0]


# --- Decisions: disclosures awaiting the DPO's review -----------------------------------


def test_an_emergency_disclosure_waits_for_the_dpo_only(world):
    staff = world.school["staff"]
    pupil = decision_drafts.pupil(world.school.organisation, "Robin", "Quigley")
    decision = decision_services.record_decision(
        world.school.organisation,
        actor=staff,
        draft=decision_drafts.safeguarding_share(staff, [pupil]),
    )
    assert who_is_waited_for(world, decision_due.REVIEW_KIND) == {"dpo", "trust_dpo"}
    item = only(items(world.school["dpo"], world.school.organisation), decision_due.REVIEW_KIND)
    assert item.url == reverse(
        "decisions:review", kwargs={"org": "alder", "reference": decision.reference}
    )
    assert item.title == f"Review the emergency disclosure {decision.reference}"
    assert item.due is None
    assert item.overdue is False
    assert item.organisation == world.school.organisation
    for sensitive in ("Robin", "Quigley", decision.information, decision.recipient_person):
        assert sensitive not in item.title
        assert sensitive not in item.kind_label


def test_a_one_off_disclosure_waits_but_shares_under_an_agreement_and_refusals_do_not(world):
    staff = world.school["staff"]
    organisation = world.school.organisation
    one_off = decision_services.record_decision(
        organisation,
        actor=staff,
        draft=decision_drafts.share(
            staff,
            [],
            people_described="A visitor",
            arrangement=Arrangement.ONE_OFF,
            agreement_reference="",
        ),
    )
    decision_services.record_decision(
        organisation, actor=staff, draft=decision_drafts.share(staff, [], people_described="A")
    )
    decision_services.record_decision(
        organisation, actor=staff, draft=decision_drafts.refusal(staff, [], people_described="B")
    )
    found = items(world.school["dpo"], organisation)
    assert [item.title for item in found] == [f"Review the one-off disclosure {one_off.reference}"]


def test_a_reviewed_disclosure_is_no_longer_waiting(world):
    staff, dpo = world.school["staff"], world.school["dpo"]
    decision = decision_services.record_decision(
        world.school.organisation,
        actor=staff,
        draft=decision_drafts.safeguarding_share(staff, [], people_described="A child"),
    )
    decision_services.review_disclosure(
        decision, actor=dpo, justified=True, agreement_needed=False, notes=""
    )
    assert kinds(dpo, world.school.organisation) == []


def test_decisions_have_nothing_overdue(world):
    staff = world.school["staff"]
    decision_services.record_decision(
        world.school.organisation,
        actor=staff,
        draft=decision_drafts.safeguarding_share(staff, [], people_described="A child"),
    )
    later = today() + datetime.timedelta(days=400)
    assert decision_due.overdue_items(world.school.organisation, later) == []


# --- Safeguarding: acknowledgements and re-share requests ------------------------------


def test_a_record_waits_for_its_recipient_to_acknowledge_it(world):
    recipient = world.school["staff"]
    share = make_share(world.school["dsl"], recipient)
    assert who_is_waited_for(world, safeguarding_due.ACKNOWLEDGE_KIND) == {"staff"}
    item = only(items(recipient, world.school.organisation), safeguarding_due.ACKNOWLEDGE_KIND)
    assert item.title == f"Safeguarding information to acknowledge: {share.reference}"
    assert item.url == reverse(
        "safeguarding:acknowledge", kwargs={"org": "alder", "reference": share.reference}
    )
    assert item.due is None
    pupil = share.pupil
    for sensitive in (pupil.given_name, pupil.family_name, DESCRIPTION, share.file_reference):
        assert sensitive not in item.title


def test_an_acknowledged_or_withdrawn_record_waits_for_nobody(world):
    dsl, staff, volunteer = world.school["dsl"], world.school["staff"], world.school["volunteer"]
    make_share(dsl, staff, acknowledged=True)
    withdrawn = make_share(dsl, volunteer)
    safeguarding_services.withdraw_share(withdrawn, actor=dsl, reason="Shared in error")
    assert who_is_waited_for(world, safeguarding_due.ACKNOWLEDGE_KIND) == set()


def test_a_request_to_share_further_waits_for_the_safeguarding_leads_who_may_answer(world):
    share = make_share(world.school["dsl"], world.school["staff"], acknowledged=True)
    request = ask_to_share_with(share, world.school["volunteer"])
    assert who_is_waited_for(world, safeguarding_due.REQUEST_KIND) == {"dsl", "deputy_dsl"}
    item = only(
        items(world.school["deputy_dsl"], world.school.organisation), "safeguarding.request"
    )
    assert item.title == f"Request to share {share.reference} further"
    assert item.url == reverse(
        "safeguarding:request",
        kwargs={"org": "alder", "reference": share.reference, "request_uuid": request.uuid},
    )
    assert "Volunteer" not in item.title
    assert "nurse" not in item.title


def test_a_lead_is_not_waited_for_on_their_own_request(world):
    """A deputy DSL who received a record asks to share it: only the DSL may answer."""
    share = make_share(world.school["dsl"], world.school["deputy_dsl"])
    safeguarding_services.acknowledge_share(
        share, actor=world.school["deputy_dsl"], signing=signing_for(world.school["deputy_dsl"])
    )
    ask_to_share_with(share, world.school["staff"])
    assert who_is_waited_for(world, safeguarding_due.REQUEST_KIND) == {"dsl"}


def test_an_answered_request_waits_for_nobody(world):
    share = make_share(world.school["dsl"], world.school["staff"], acknowledged=True)
    request = ask_to_share_with(share, world.school["volunteer"])
    safeguarding_services.refuse_reshare(
        request, actor=world.school["dsl"], reasons="Not needed for the volunteer's role"
    )
    assert who_is_waited_for(world, safeguarding_due.REQUEST_KIND) == set()
    assert safeguarding_due.overdue_items(world.school.organisation, today()) == []


# --- Proposals ---------------------------------------------------------------------------


def test_a_submitted_screening_waits_for_the_dpos(world):
    proposal = proposal_drafts.screened(
        world.school.organisation, world.school["staff"], world.local_authority
    )
    assert who_is_waited_for(world, "proposal.assess") == {"dpo", "trust_dpo"}
    item = only(items(world.trust_dpo, world.school.organisation), "proposal.assess")
    assert item.title == f"Assess the screening of {proposal.reference}: {proposal.name}"
    assert item.url == reverse(
        "proposals:assess", kwargs={"org": "alder", "reference": proposal.reference}
    )
    assert item.due is None


def test_a_proposal_assessed_as_not_needing_a_pia_waits_for_the_deciders(world):
    proposal = proposal_drafts.assessed(
        world.school.organisation, world.school["staff"], world.school["dpo"], world.local_authority
    )
    assert who_is_waited_for(world, "proposal.decide") == {"headteacher", "chair"}
    item = only(items(world.school["chair"], world.school.organisation), "proposal.decide")
    assert item.url == reverse(
        "proposals:decide", kwargs={"org": "alder", "reference": proposal.reference}
    )


def test_the_author_is_never_waited_for_to_decide_their_own_proposal(world):
    proposal_drafts.assessed(
        world.school.organisation,
        world.school["headteacher"],
        world.school["dpo"],
        world.local_authority,
    )
    assert who_is_waited_for(world, "proposal.decide") == {"chair"}


def test_a_recommended_pia_waits_for_the_authors_choice(world):
    proposal = proposal_drafts.assessed(
        world.school.organisation,
        world.school["staff"],
        world.school["dpo"],
        world.local_authority,
        PiaRequirement.RECOMMENDED,
    )
    assert who_is_waited_for(world, "proposal.choose_pia") == {"staff"}
    assert who_is_waited_for(world, "proposal.decide") == set()
    item = only(items(world.school["staff"], world.school.organisation), "proposal.choose_pia")
    assert item.url == reverse(
        "proposals:choose_pia", kwargs={"org": "alder", "reference": proposal.reference}
    )


def test_a_full_pia_in_progress_waits_for_its_author_then_the_dpo_advises(world):
    school = world.school
    proposal = proposal_drafts.assessed(
        school.organisation,
        school["staff"],
        school["dpo"],
        world.local_authority,
        PiaRequirement.MANDATORY,
    )
    assert who_is_waited_for(world, "proposal.work_on_pia") == {"staff"}
    item = only(items(school["staff"], school.organisation), "proposal.work_on_pia")
    assert item.url == reverse(
        "proposals:pia", kwargs={"org": "alder", "reference": proposal.reference}
    )

    proposal_drafts.pia_submitted(
        school.organisation, school["volunteer"], school["dpo"], world.local_authority
    )
    assert who_is_waited_for(world, "proposal.advise") == {"dpo", "trust_dpo"}


def test_an_advised_proposal_waits_for_a_decision_and_a_decided_one_for_nobody(world):
    school = world.school
    proposal = proposal_drafts.advised(
        school.organisation, school["staff"], school["dpo"], world.local_authority
    )
    assert who_is_waited_for(world, "proposal.decide") == {"headteacher", "chair"}
    proposal_services.decide_proposal(
        proposal, actor=school["chair"], decision=proposal_drafts.decision()
    )
    for role in EVERY_ROLE:
        assert kinds(school[role], school.organisation) == []
    assert proposal_due.overdue_items(school.organisation, today()) == []


def test_a_draft_waits_for_nobody(world):
    proposal_drafts.drafted(world.school.organisation, world.school["staff"])
    for role in EVERY_ROLE:
        assert kinds(world.school[role], world.school.organisation) == []


# --- Agreements: advice, approval, reviews ------------------------------------------------


def test_an_agreement_awaiting_advice_waits_for_the_dpos(world):
    agreement = agreement_drafts.advice_requested(
        world.school.organisation, world.school["staff"], world.local_authority
    )
    assert who_is_waited_for(world, agreement_due.ADVISE_KIND) == {"dpo", "trust_dpo"}
    item = only(items(world.school["dpo"], world.school.organisation), agreement_due.ADVISE_KIND)
    assert item.title == f"Advise on {agreement.reference}: {agreement.title}"
    assert item.url == reverse(
        "agreements:advise", kwargs={"org": "alder", "reference": agreement.reference}
    )


def test_an_advised_agreement_waits_for_approval_never_by_its_drafter(world):
    school = world.school
    agreement = agreement_drafts.advised(
        school.organisation, school["staff"], school["dpo"], world.local_authority
    )
    assert who_is_waited_for(world, agreement_due.APPROVE_KIND) == {"headteacher", "chair"}
    item = only(items(school["headteacher"], school.organisation), agreement_due.APPROVE_KIND)
    assert item.url == reverse(
        "agreements:approve", kwargs={"org": "alder", "reference": agreement.reference}
    )
    agreement_drafts.advised(
        world.other.organisation, world.other["chair"], world.trust_dpo, world.local_authority
    )
    assert "other:chair" not in who_is_waited_for(world, agreement_due.APPROVE_KIND)
    assert "other:headteacher" in who_is_waited_for(world, agreement_due.APPROVE_KIND)


def test_a_review_is_listed_from_30_days_before_it_falls_due_and_overdue_after(world):
    agreement = approved_on(world, datetime.date(2025, 3, 10))
    due = datetime.date(2026, 3, 10)
    assert agreement.review_due == due
    keepers = {"dpo", "trust_dpo", "information_manager", "headteacher", "chair"}

    with time_machine.travel(at_noon(due - datetime.timedelta(days=31)), tick=False):
        assert who_is_waited_for(world, agreement_due.REVIEW_KIND, today()) == set()
    with time_machine.travel(at_noon(due - datetime.timedelta(days=30)), tick=False):
        assert who_is_waited_for(world, agreement_due.REVIEW_KIND, today()) == keepers
        item = only(items(world.school["dpo"], world.school.organisation), "agreement.review")
        assert (item.due, item.overdue) == (due, False)
        assert overdue_in(world.school.organisation, today()) == []
    with time_machine.travel(at_noon(due), tick=False):
        item = only(items(world.school["dpo"], world.school.organisation), "agreement.review")
        assert (item.due, item.overdue) == (due, False)
        assert overdue_in(world.school.organisation, today()) == []
    with time_machine.travel(at_noon(due + ONE_DAY), tick=False):
        assert who_is_waited_for(world, agreement_due.REVIEW_KIND, today()) == keepers
        item = only(items(world.school["chair"], world.school.organisation), "agreement.review")
        assert (item.due, item.overdue) == (due, True)
        assert item.title == f"Review {agreement.reference}: {agreement.title}"
        assert item.url == reverse(
            "agreements:start_review", kwargs={"org": "alder", "reference": agreement.reference}
        )
        assert overdue_in(world.school.organisation, today()) == [item]
        assert overdue_in(world.other.organisation, today()) == []


def test_a_review_under_way_links_to_its_answers_until_completed(world):
    agreement = approved_on(world, datetime.date(2025, 3, 10))
    late = datetime.date(2026, 4, 1)
    with time_machine.travel(at_noon(late), tick=False):
        agreement = agreement_drafts.under_review(agreement, world.school["information_manager"])
        item = only(items(world.school["dpo"], world.school.organisation), "agreement.review")
        assert item.overdue is True
        assert item.url == reverse(
            "agreements:complete_review", kwargs={"org": "alder", "reference": agreement.reference}
        )
        assert [i.kind for i in agreement_due.overdue_items(world.school.organisation, late)] == [
            "agreement.review"
        ]
        lifecycle.complete_review(
            agreement, actor=world.school["dpo"], answers=agreement_drafts.review()
        )
        assert kinds(world.school["dpo"], world.school.organisation) == []
        assert overdue_in(world.school.organisation, late) == []


def test_an_agreement_approved_recently_has_no_review_waiting(world):
    approved_on(world, today() - datetime.timedelta(days=10))
    for role in EVERY_ROLE:
        assert kinds(world.school[role], world.school.organisation) == []


# --- Altogether --------------------------------------------------------------------------


def test_overdue_items_come_first_then_by_due_date(world):
    """The DPO: a screening and an advice request (no deadline), two reviews (one overdue)."""
    school = world.school
    approved_on(world, datetime.date(2025, 3, 10))  # review due 10 March 2026
    approved_on(world, datetime.date(2025, 4, 1))  # review due 1 April 2026
    on = datetime.date(2026, 3, 20)
    with time_machine.travel(at_noon(on), tick=False):
        proposal_drafts.screened(school.organisation, school["staff"], world.local_authority)
        agreement_drafts.advice_requested(
            school.organisation, school["staff"], world.local_authority
        )
        found = items(school["dpo"], school.organisation)
    assert [(item.kind, item.due, item.overdue) for item in found] == [
        ("agreement.review", datetime.date(2026, 3, 10), True),
        ("agreement.review", datetime.date(2026, 4, 1), False),
        ("proposal.assess", None, False),
        ("agreement.advise", None, False),
    ]


@pytest.mark.parametrize("source", [decision_due, safeguarding_due, proposal_due, agreement_due])
def test_a_source_asks_a_fixed_number_of_queries(world, django_assert_max_num_queries, source):
    """Each source asks at most two queries (and two for the roles), however many records wait."""
    school = world.school
    for _ in range(3):
        proposal_drafts.screened(school.organisation, school["staff"], world.local_authority)
        agreement_drafts.advice_requested(
            school.organisation, school["staff"], world.local_authority
        )
        decision_services.record_decision(
            school.organisation,
            actor=school["staff"],
            draft=decision_drafts.safeguarding_share(school["staff"], [], people_described="A"),
        )
        share = make_share(school["dsl"], school["staff"], acknowledged=True)
        ask_to_share_with(share, school["volunteer"])
        make_share(school["deputy_dsl"], school["dsl"])
    for user in (school["dpo"], school["dsl"], school["staff"], school["headteacher"]):
        fresh = type(user).objects.get(pk=user.pk)  # nothing cached: roles are asked too
        with django_assert_max_num_queries(4):
            source.due_items(fresh, school.organisation, today())
    with django_assert_max_num_queries(1):
        source.overdue_items(school.organisation, today())
