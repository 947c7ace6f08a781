"""The agreement's rules that need no service: dates, tags, the register's filter, the states.

The review dates are computed, not stored (DESIGN.md rule 9), so they are
checked here day by day around the 12-month boundary, with the clock moved.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from hypothesis import given
from hypothesis import strategies as st

from infoshare.agreements import lifecycle, services
from infoshare.agreements.models import (
    REVIEW_NOTICE,
    TAG_COLOURS,
    Agreement,
    Article28,
    DpaClause,
    Party,
    PartyRole,
    Status,
    Tag,
    add_months,
    approved_tag,
    content_changes,
    review_due_on,
    unsettled_points,
)
from tests.agreements import drafts

LONDON = ZoneInfo("Europe/London")
D = datetime.date


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


# --- add_months -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),  # kept inside February
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # a leap year's February
        (D(2028, 2, 29), 12, D(2029, 2, 28)),  # a leap day a year on
        (D(2028, 2, 29), 48, D(2032, 2, 29)),  # four years on: a leap day again
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 11, 15), 2, D(2027, 1, 15)),  # across the year end
        (D(2026, 3, 15), 12, D(2027, 3, 15)),
        (D(2026, 3, 15), 0, D(2026, 3, 15)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),  # backwards too
        (D(2026, 1, 10), -13, D(2024, 12, 10)),
    ],
)
def test_add_months_keeps_the_day_inside_the_month(day, months, expected):
    assert add_months(day, months) == expected


@given(
    day=st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 12, 31)),
    months=st.integers(min_value=-36, max_value=36),
)
def test_add_months_lands_in_the_right_month_on_the_same_day_or_its_end(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or (
        moved.day < day.day and (moved + datetime.timedelta(1)).day == 1
    )


# --- The tag of an approved agreement ----------------------------------------------------

PERIOD_STARTS = D(2025, 3, 10)
DUE = D(2026, 3, 10)  # 12 months on
NOTICE_STARTS = DUE - REVIEW_NOTICE  # 8 February 2026


def test_the_review_falls_due_twelve_months_after_the_period_starts():
    assert review_due_on(PERIOD_STARTS, 12) == DUE
    assert review_due_on(PERIOD_STARTS, 18) == D(2026, 9, 10)
    assert review_due_on(None, 12) is None
    assert D(2026, 2, 8) == NOTICE_STARTS


@pytest.mark.parametrize(
    ("today", "tag"),
    [
        (PERIOD_STARTS, Tag.ACTIVE),
        (NOTICE_STARTS - datetime.timedelta(days=1), Tag.ACTIVE),  # the day before the notice
        (NOTICE_STARTS, Tag.REVIEW_DUE),  # the first day of notice
        (DUE - datetime.timedelta(days=1), Tag.REVIEW_DUE),
        (DUE, Tag.REVIEW_DUE),  # the due date itself
        (DUE + datetime.timedelta(days=1), Tag.REVIEW_OVERDUE),  # the day after
        (D(2027, 3, 10), Tag.REVIEW_OVERDUE),
    ],
)
def test_an_approved_agreement_is_active_then_due_then_overdue(today, tag):
    assert approved_tag(PERIOD_STARTS, PERIOD_STARTS, 12, today) == tag


def test_an_agreement_is_not_started_before_its_start_date():
    start = D(2025, 4, 1)
    assert approved_tag(start, PERIOD_STARTS, 12, D(2025, 3, 31)) == Tag.NOT_STARTED
    assert approved_tag(start, PERIOD_STARTS, 12, start) == Tag.ACTIVE
    # Without a start date it is in force from its approval.
    assert approved_tag(None, PERIOD_STARTS, 12, PERIOD_STARTS) == Tag.ACTIVE


def test_a_longer_interval_moves_the_notice_and_the_due_date():
    due = D(2026, 9, 10)  # 18 months on
    assert approved_tag(PERIOD_STARTS, PERIOD_STARTS, 18, DUE + datetime.timedelta(1)) == Tag.ACTIVE
    assert approved_tag(PERIOD_STARTS, PERIOD_STARTS, 18, due - REVIEW_NOTICE) == Tag.REVIEW_DUE
    assert approved_tag(PERIOD_STARTS, PERIOD_STARTS, 18, due + datetime.timedelta(1)) == (
        Tag.REVIEW_OVERDUE
    )


# --- The same, on real agreements, with the clock moved -----------------------------------


@pytest.fixture
def approved_on_10_march_2025(world):
    """An agreement approved at noon on 10 March 2025, starting that day."""
    with time_machine.travel(at_noon(PERIOD_STARTS), tick=False):
        agreement = approved(world)
    agreement.refresh_from_db()
    assert agreement.review_period_starts == PERIOD_STARTS
    assert agreement.start_date == PERIOD_STARTS
    return agreement


def approved(world, **changes):
    school = world.school
    return drafts.approved(
        school.organisation,
        school["staff"],
        school["dpo"],
        school["headteacher"],
        world.local_authority,
        **changes,
    )


ALL_TAGS = list(Tag)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("today", "tag"),
    [
        (NOTICE_STARTS - datetime.timedelta(days=1), Tag.ACTIVE),
        (NOTICE_STARTS, Tag.REVIEW_DUE),
        (DUE, Tag.REVIEW_DUE),
        (DUE + datetime.timedelta(days=1), Tag.REVIEW_OVERDUE),
    ],
)
def test_the_register_tags_an_agreement_by_the_day_it_is_read(
    approved_on_10_march_2025, today, tag
):
    agreement = approved_on_10_march_2025
    assert agreement.review_due == DUE
    with time_machine.travel(at_noon(today), tick=False):
        assert agreement.tag() == tag
        assert agreement.tag_colour == TAG_COLOURS[tag]
        # The register's filter finds it under that tag, and under no other.
        found = {
            candidate
            for candidate in ALL_TAGS
            if Agreement.objects.tagged(candidate, timezone.localdate()).filter(pk=agreement.pk)
        }
    assert found == {tag}


@pytest.mark.django_db
def test_the_day_is_the_day_in_london_not_in_utc(world):
    # In summer London is an hour ahead: at 00:30 on 11 July it is still 10 July in UTC.
    with time_machine.travel(at_noon(D(2025, 7, 10)), tick=False):
        agreement = approved(world)
    assert agreement.review_due == D(2026, 7, 10)
    with time_machine.travel(datetime.datetime(2026, 7, 10, 23, 30, tzinfo=LONDON), tick=False):
        assert agreement.tag() == Tag.REVIEW_DUE
    with time_machine.travel(datetime.datetime(2026, 7, 11, 0, 30, tzinfo=LONDON), tick=False):
        assert agreement.tag() == Tag.REVIEW_OVERDUE


@pytest.mark.django_db
def test_an_agreement_approved_before_its_start_date_is_not_started_until_then(world):
    start = D(2025, 4, 1)
    with time_machine.travel(at_noon(PERIOD_STARTS), tick=False):
        agreement = approved(world, start_date=start)
    assert agreement.tag(D(2025, 3, 31)) == Tag.NOT_STARTED
    assert list(Agreement.objects.tagged(Tag.NOT_STARTED, D(2025, 3, 31))) == [agreement]
    assert not Agreement.objects.tagged(Tag.ACTIVE, D(2025, 3, 31)).exists()
    assert agreement.tag(start) == Tag.ACTIVE
    assert list(Agreement.objects.tagged(Tag.ACTIVE, start)) == [agreement]
    # The review still falls due 12 months after the approval, not the start.
    assert agreement.review_due == DUE


@pytest.mark.django_db
def test_the_register_filter_sorts_many_agreements_in_two_queries(
    world, django_assert_max_num_queries
):
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    head = world.school["headteacher"]
    la = world.local_authority
    with time_machine.travel(at_noon(PERIOD_STARTS), tick=False):
        old = [drafts.approved(school, staff, dpo, head, la) for _ in range(3)]
    recent = drafts.approved(school, staff, dpo, head, la)
    draft = drafts.drafted(school, staff, la)
    today = timezone.localdate()
    with django_assert_max_num_queries(2):
        overdue = list(Agreement.objects.tagged(Tag.REVIEW_OVERDUE, today))
    assert sorted(a.pk for a in overdue) == sorted(a.pk for a in old)
    with django_assert_max_num_queries(2):
        active = list(Agreement.objects.tagged(Tag.ACTIVE, today))
    assert active == [recent]
    with django_assert_max_num_queries(1):
        drafted = list(Agreement.objects.tagged(Tag.DRAFT, today))
    assert drafted == [draft]


# --- Tags of the other statuses -------------------------------------------------------


@pytest.mark.django_db
def test_each_stage_has_its_tag_and_the_register_filter_agrees(world):
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    head, keeper, la = world.school["headteacher"], world.school["information_manager"], world.dfe
    at_stage = {
        Tag.DRAFT: drafts.drafted(school, staff, la),
        Tag.AWAITING_ADVICE: drafts.advice_requested(school, staff, la),
        Tag.AWAITING_APPROVAL: drafts.advised(school, staff, dpo, la),
        Tag.ACTIVE: drafts.approved(school, staff, dpo, head, la),
        Tag.UNDER_REVIEW: drafts.under_review(drafts.approved(school, staff, dpo, head, la), dpo),
        Tag.TERMINATED: drafts.terminated(drafts.approved(school, staff, dpo, head, la), head),
        Tag.EXPIRED: drafts.expired(
            drafts.terminated(drafts.approved(school, staff, dpo, head, la), head), keeper
        ),
        Tag.WITHDRAWN: services.withdraw_agreement(
            drafts.drafted(school, staff, la), actor=staff, reasons="Not needed."
        ),
    }
    today = timezone.localdate()
    for tag, made in at_stage.items():
        agreement = Agreement.objects.get(pk=made.pk)
        assert agreement.tag() == tag, tag
        assert list(Agreement.objects.tagged(tag, today)) == [agreement], tag
    assert {tag for tag in Tag if Agreement.objects.tagged(tag, today).exists()} == set(at_stage)


# --- What the database itself refuses --------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_a_longer_interval_without_a_justification(world):
    agreement = drafts.drafted(world.school.organisation, world.school["staff"], world.dfe)
    rows = Agreement.objects.filter(pk=agreement.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(review_interval_months=13)
    assert rows.get().review_interval_months == 12
    rows.update(review_interval_months=13, review_interval_justification="Termly reports.")
    assert rows.get().review_interval_months == 13
    # Twelve months or fewer needs no justification.
    rows.update(review_interval_months=6, review_interval_justification="")


@pytest.mark.django_db
def test_the_database_refuses_a_withdrawal_without_reasons(world):
    agreement = drafts.drafted(world.school.organisation, world.school["staff"], world.dfe)
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(status=Status.WITHDRAWN)
    assert Agreement.objects.get(pk=agreement.pk).status == Status.DRAFT


@pytest.mark.django_db
def test_an_organisation_is_a_party_once_and_references_are_unique(world):
    agreement = drafts.drafted(world.school.organisation, world.school["staff"], world.dfe)
    with pytest.raises(IntegrityError), transaction.atomic():
        Party.objects.create(agreement=agreement, organisation=world.dfe, role=PartyRole.PROCESSOR)
    other = drafts.drafted(world.school.organisation, world.school["staff"], world.dfe)
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.filter(pk=other.pk).update(reference=agreement.reference)


# --- The states -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_status_is_changed_only_by_declared_transitions(world):
    agreement = drafts.drafted(world.school.organisation, world.school["staff"], world.dfe)
    agreement = Agreement.objects.get(pk=agreement.pk)
    with pytest.raises(AttributeError):
        agreement.status = Status.APPROVED  # protected: only a transition moves it
    for undeclared in (agreement.approve, agreement.give_advice, agreement.terminate):
        with pytest.raises(TransitionNotAllowed):
            undeclared()
    assert agreement.status == Status.DRAFT


@pytest.mark.django_db
def test_an_amendment_is_a_later_version_while_the_one_before_is_in_force(world):
    school = world.school
    agreement = approved(world)
    assert agreement.version_in_force == 1
    assert not agreement.is_amendment
    agreement = drafts.under_review(agreement, school["dpo"])
    assert agreement.version_in_force == 1
    lifecycle.complete_review(
        agreement,
        actor=school["dpo"],
        answers=drafts.review(outcome="amend", outcome_reasons="The portal changes."),
    )
    agreement.refresh_from_db()
    assert agreement.version == 2
    assert agreement.status == Status.DRAFT
    assert agreement.is_amendment
    assert agreement.version_in_force == 1
    first = drafts.drafted(school.organisation, school["staff"], world.dfe)
    assert first.version_in_force is None
    assert not first.is_amendment


@pytest.mark.django_db
def test_every_member_of_the_school_sees_its_agreements_and_nobody_else(world):
    agreement = drafts.drafted(world.school.organisation, world.school["staff"], world.dfe)
    school = world.school.organisation
    for role in ("volunteer", "auditor", "dsl", "staff"):
        assert list(Agreement.objects.for_user(world.school[role], school)) == [agreement]
    assert list(Agreement.objects.for_user(world.trust_dpo, school)) == [agreement]
    assert not Agreement.objects.for_user(world.other["headteacher"], school).exists()
    # Asked about their own school, they see only its agreements.
    assert not Agreement.objects.for_user(world.trust_dpo, world.other.organisation).exists()


# --- The Article 28(3) checklist and what changed between versions ------------------------


@pytest.mark.parametrize(
    ("present", "clause", "justification", "settled"),
    [
        (None, "", "", False),  # not answered
        (True, "Clause 4.2", "", True),
        (True, "  ", "", False),  # present, but where?
        (False, "", "No staff of the processor see the data.", True),
        (False, "", "   ", False),  # absent without a reason
        (False, "Clause 4.2", "", False),
    ],
)
def test_a_point_is_settled_when_present_at_a_clause_or_justified(
    present, clause, justification, settled
):
    point = DpaClause(
        point="c", present=present, clause_reference=clause, justification=justification
    )
    assert point.is_settled is settled


def test_the_unsettled_points_are_listed_in_order():
    clauses = [
        DpaClause(point=point, present=True, clause_reference=f"Clause {point}")
        for point in Article28.values
        if point not in {"c", "g"}
    ]
    clauses.append(DpaClause(point="g", present=False, justification=""))
    assert unsettled_points(clauses) == ["c", "g"]
    clauses.append(DpaClause(point="c", present=False, justification="Paper only."))
    clauses.append(DpaClause(point="g", present=True, clause_reference="Clause 9"))
    assert unsettled_points(clauses) == []
    assert unsettled_points([]) == list(Article28.values)


def test_content_changes_lists_what_changed_in_the_later_versions_order():
    before = {"Title": "Attendance", "Purpose": "Support", "Party 3": "Old council"}
    after = {"Title": "Attendance", "Purpose": "Support pupils", "How often": "Weekly"}
    changes = content_changes(before, after)
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("Purpose", "Support", "Support pupils"),
        ("How often", "", "Weekly"),
        ("Party 3", "Old council", ""),
    ]
    assert content_changes(after, after) == []
