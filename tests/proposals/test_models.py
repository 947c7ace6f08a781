"""The proposal's rules that need no service: risk scoring, the matrix, the signals, the states."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django_fsm import TransitionNotAllowed
from hypothesis import given
from hypothesis import strategies as st

from infoshare.proposals import services
from infoshare.proposals.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Advice,
    Effect,
    Likelihood,
    MatrixRow,
    Outcome,
    PiaRequirement,
    PrivacyNotice,
    Proposal,
    Risk,
    RiskLevel,
    Severity,
    Status,
    before_and_after,
    risk_level,
    risk_matrix,
    screening_gaps,
)
from tests.proposals import drafts

L, S = Likelihood, Severity
LOW, MEDIUM, HIGH = RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH
ORDER = {LOW: 0, MEDIUM: 1, HIGH: 2}


# --- Risk scoring ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("likelihood", "severity", "level"),
    [
        # The product of the two: 1-2 low, 3-4 medium, 6-9 high.
        (L.REMOTE, S.MINIMAL, LOW),  # 1
        (L.REMOTE, S.SIGNIFICANT, LOW),  # 2
        (L.POSSIBLE, S.MINIMAL, LOW),  # 2
        (L.REMOTE, S.SEVERE, MEDIUM),  # 3: remote but severe is medium
        (L.PROBABLE, S.MINIMAL, MEDIUM),  # 3
        (L.POSSIBLE, S.SIGNIFICANT, MEDIUM),  # 4
        (L.POSSIBLE, S.SEVERE, HIGH),  # 6
        (L.PROBABLE, S.SIGNIFICANT, HIGH),  # 6: probable and significant is high
        (L.PROBABLE, S.SEVERE, HIGH),  # 9
    ],
)
def test_risk_level_of_every_likelihood_and_severity(likelihood, severity, level):
    assert risk_level(likelihood, severity) == level
    # Plain integers, as stored in the database, score the same.
    assert risk_level(int(likelihood), int(severity)) == level


@pytest.mark.parametrize(("likelihood", "severity"), [(0, 1), (1, 4), (4, 3)])
def test_risk_level_refuses_a_score_outside_the_scale(likelihood, severity):
    with pytest.raises(ValueError, match="is not a valid"):
        risk_level(likelihood, severity)


likelihoods = st.sampled_from(list(Likelihood))
severities = st.sampled_from(list(Severity))


@given(likelihoods, severities, likelihoods, severities)
def test_risk_level_never_falls_as_likelihood_or_severity_rises(l1, s1, l2, s2):
    low, high = (min(l1, l2), min(s1, s2)), (max(l1, l2), max(s1, s2))
    assert ORDER[risk_level(*low)] <= ORDER[risk_level(*high)]


@given(st.sampled_from([1, 2, 3]), st.sampled_from([1, 2, 3]))
def test_likelihood_and_severity_weigh_the_same(a, b):
    assert risk_level(a, b) == risk_level(b, a)


# --- The matrix ----------------------------------------------------------------------


def levels(matrix: list[MatrixRow]) -> list[list[str]]:
    return [[cell.level for cell in row.cells] for row in matrix]


def placed(matrix: list[MatrixRow]) -> dict[tuple[int, int], tuple[str, ...]]:
    return {
        (cell.likelihood, cell.severity): cell.risks
        for row in matrix
        for cell in row.cells
        if cell.risks
    }


def test_the_empty_matrix_has_severe_at_the_top_and_likelihood_rising_to_the_right():
    matrix = risk_matrix([])
    assert [row.severity for row in matrix] == [S.SEVERE, S.SIGNIFICANT, S.MINIMAL]
    for row in matrix:
        assert [cell.likelihood for cell in row.cells] == [L.REMOTE, L.POSSIBLE, L.PROBABLE]
        assert all(cell.severity == row.severity for cell in row.cells)
    assert levels(matrix) == [
        [MEDIUM, HIGH, HIGH],  # severe
        [LOW, MEDIUM, HIGH],  # significant
        [LOW, LOW, MEDIUM],  # minimal
    ]
    assert placed(matrix) == {}


def test_the_matrix_puts_each_label_in_its_cell_in_the_order_given():
    matrix = risk_matrix([("R1", 3, 2), ("R2", 1, 3), ("R3", 3, 2), ("R4", 1, 1)])
    assert placed(matrix) == {(3, 2): ("R1", "R3"), (1, 3): ("R2",), (1, 1): ("R4",)}
    # Severe is the first row, remote the first cell: R2 is top left, R4 bottom left.
    assert matrix[0].cells[0].risks == ("R2",)
    assert matrix[2].cells[0].risks == ("R4",)
    assert matrix[1].cells[2].risks == ("R1", "R3")


def make_risk(position: int, likelihood: int, severity: int, **changes: Any) -> Risk:
    return Risk(
        position=position,
        description="A risk",
        source="Somewhere",
        likelihood=likelihood,
        severity=severity,
        **changes,
    )


def test_before_and_after_moves_reduced_risks_keeps_accepted_ones_and_drops_eliminated():
    risks = [
        make_risk(1, 3, 2, measures="m", effect=Effect.REDUCED, residual_likelihood=1,
                  residual_severity=2),
        # Left-over residual numbers do not bring an eliminated risk back.
        make_risk(2, 2, 3, measures="m", effect=Effect.ELIMINATED, residual_likelihood=2,
                  residual_severity=3),
        make_risk(3, 1, 1, measures="m", effect=Effect.ACCEPTED, residual_likelihood=1,
                  residual_severity=1),
        make_risk(4, 2, 2),  # not yet assessed: before only
    ]  # fmt: skip
    before, after = before_and_after(risks)
    assert placed(before) == {(3, 2): ("R1",), (2, 3): ("R2",), (1, 1): ("R3",), (2, 2): ("R4",)}
    assert placed(after) == {(1, 2): ("R1",), (1, 1): ("R3",)}
    assert levels(after) == levels(before) == levels(risk_matrix([]))


def test_before_and_after_of_no_risks_are_two_empty_matrices():
    before, after = before_and_after([])
    assert placed(before) == placed(after) == {}
    assert len(before) == len(after) == 3


# --- One risk ------------------------------------------------------------------------


def test_a_risk_is_labelled_by_its_position_and_scored():
    risk = make_risk(7, L.PROBABLE, S.SEVERE)
    assert risk.label == "R7"
    assert risk.level == HIGH
    assert risk.residual_level is None


@pytest.mark.parametrize(
    ("changes", "residual", "complete"),
    [
        ({}, None, False),
        ({"measures": "Encrypt it"}, None, False),
        ({"effect": Effect.ELIMINATED}, None, False),  # no measures
        ({"measures": "Encrypt it", "effect": Effect.ELIMINATED}, None, True),
        ({"measures": "Encrypt it", "effect": Effect.REDUCED}, None, False),
        (
            {"measures": "m", "effect": Effect.REDUCED, "residual_likelihood": 1},
            None,
            False,
        ),
        (
            {
                "measures": "m",
                "effect": Effect.REDUCED,
                "residual_likelihood": 1,
                "residual_severity": 3,
            },
            MEDIUM,
            True,
        ),
        (
            {
                "measures": "  ",
                "effect": Effect.ACCEPTED,
                "residual_likelihood": 3,
                "residual_severity": 3,
            },
            HIGH,
            False,
        ),
    ],
)
def test_a_risk_is_complete_with_measures_an_effect_and_what_is_left(changes, residual, complete):
    risk = make_risk(1, L.PROBABLE, S.SEVERE, **changes)
    assert risk.residual_level == residual
    assert risk.is_complete is complete


# --- What the screening suggests -----------------------------------------------------


SIGNALS = {
    "special_category": "special category data (question 4)",
    "new_systems": "new systems or technology (question 7",
    "automated_decisions": "automated decision-making (question 8)",
    "profiling": "profiling (question 9)",
    "combines_sources": "several sources (question 10)",
}


def test_answers_that_raise_nothing_suggest_no_full_pia():
    proposal = Proposal(
        special_category=False,
        new_systems=False,
        automated_decisions=False,
        profiling=False,
        combines_sources=False,
        privacy_notice=PrivacyNotice.YES,
    )
    assert proposal.suggests_full_pia() == []
    # Questions not answered yet suggest nothing either.
    assert Proposal().suggests_full_pia() == []


@pytest.mark.parametrize("question", list(SIGNALS))
def test_each_yes_that_points_to_a_full_pia_is_named(question):
    proposal = Proposal(**{question: True})
    reasons = proposal.suggests_full_pia()
    assert len(reasons) == 1
    assert SIGNALS[question] in reasons[0]


@pytest.mark.parametrize(
    ("notice", "suggested"),
    [(PrivacyNotice.NO, True), (PrivacyNotice.PARTLY, False), (PrivacyNotice.YES, False)],
)
def test_a_privacy_notice_that_does_not_describe_the_purposes_points_to_a_full_pia(
    notice, suggested
):
    reasons = Proposal(privacy_notice=notice).suggests_full_pia()
    assert reasons == (
        ["The privacy notice does not describe the purposes (question 5)."] if suggested else []
    )


def test_every_signal_at_once_is_listed_in_question_order():
    proposal = Proposal(privacy_notice=PrivacyNotice.NO, **dict.fromkeys(SIGNALS, True))
    reasons = proposal.suggests_full_pia()
    assert len(reasons) == 6
    for reason, expected in zip(reasons, SIGNALS.values(), strict=False):
        assert expected in reason


# --- Following the DPO's advice ------------------------------------------------------


FOLLOWS = {
    (Advice.PROCEED, Outcome.APPROVED): True,
    (Advice.PROCEED, Outcome.APPROVED_WITH_CONDITIONS): True,
    (Advice.PROCEED, Outcome.CANCELLED): False,
    (Advice.PROCEED_WITH_CONDITIONS, Outcome.APPROVED): False,
    (Advice.PROCEED_WITH_CONDITIONS, Outcome.APPROVED_WITH_CONDITIONS): True,
    (Advice.PROCEED_WITH_CONDITIONS, Outcome.CANCELLED): False,
    (Advice.DO_NOT_PROCEED, Outcome.APPROVED): False,
    (Advice.DO_NOT_PROCEED, Outcome.APPROVED_WITH_CONDITIONS): False,
    (Advice.DO_NOT_PROCEED, Outcome.CANCELLED): True,
}


@pytest.mark.parametrize(("advice", "outcome"), list(FOLLOWS))
def test_which_decisions_follow_which_advice(advice, outcome):
    assert Proposal(advice=advice).follows_advice(outcome) is FOLLOWS[advice, outcome]


@pytest.mark.parametrize("outcome", list(Outcome))
def test_without_advice_every_decision_follows_it(outcome):
    assert Proposal().follows_advice(outcome) is True


# --- Where a proposal stands ---------------------------------------------------------


def test_open_and_closed_statuses_cover_every_status_once():
    assert set(OPEN_STATUSES) | set(CLOSED_STATUSES) == set(Status)
    assert not set(OPEN_STATUSES) & set(CLOSED_STATUSES)


@pytest.mark.parametrize(
    ("status", "requirement", "taken_up", "awaits_choice", "awaits_decision"),
    [
        (Status.ASSESSED, PiaRequirement.NOT_REQUIRED, None, False, True),
        (Status.ASSESSED, PiaRequirement.RECOMMENDED, None, True, False),
        (Status.ASSESSED, PiaRequirement.RECOMMENDED, False, False, True),
        (Status.PIA_IN_PROGRESS, PiaRequirement.RECOMMENDED, True, False, False),
        (Status.PIA_IN_PROGRESS, PiaRequirement.MANDATORY, None, False, False),
        (Status.PIA_SUBMITTED, PiaRequirement.MANDATORY, None, False, False),
        (Status.ADVISED, PiaRequirement.MANDATORY, None, False, True),
        (Status.SCREENING_SUBMITTED, "", None, False, False),
        (Status.APPROVED, PiaRequirement.NOT_REQUIRED, None, False, False),
    ],
)
def test_whether_a_proposal_awaits_a_pia_choice_or_a_decision(
    status, requirement, taken_up, awaits_choice, awaits_decision
):
    proposal = Proposal(status=status, pia_requirement=requirement, pia_taken_up=taken_up)
    assert proposal.awaits_pia_choice is awaits_choice
    assert proposal.awaits_decision is awaits_decision


@pytest.mark.parametrize(
    ("requirement", "taken_up", "needed"),
    [
        (PiaRequirement.MANDATORY, None, True),
        (PiaRequirement.RECOMMENDED, True, True),
        (PiaRequirement.RECOMMENDED, False, False),
        (PiaRequirement.RECOMMENDED, None, False),
        (PiaRequirement.NOT_REQUIRED, None, False),
    ],
)
def test_a_full_pia_is_needed_when_mandatory_or_taken_up(requirement, taken_up, needed):
    proposal = Proposal(pia_requirement=requirement, pia_taken_up=taken_up)
    assert proposal.needs_full_pia is needed


def test_an_unanswered_screening_lists_every_question_left():
    assert set(screening_gaps(Proposal())) == {
        "information_shared",
        "special_category",
        "privacy_notice",
        "recipients",
        "new_systems",
        "automated_decisions",
        "profiling",
        "combines_sources",
    }


def test_recipients_described_in_words_answer_question_6_and_blank_text_does_not():
    proposal = Proposal(information_shared="   ", recipients_details="The charity's tutors")
    gaps = screening_gaps(proposal)
    assert "recipients" not in gaps
    assert gaps["information_shared"] == "Say what information will be shared (question 3)."


# --- The state machine ---------------------------------------------------------------


def test_the_status_cannot_be_set_directly():
    proposal = Proposal()
    with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
        proposal.status = Status.APPROVED
    assert proposal.status == Status.DRAFT


def test_a_stored_proposals_status_cannot_be_set_directly_but_reloads(world):
    proposal = drafts.drafted(world.school.organisation, world.school["staff"])
    with pytest.raises(AttributeError):
        proposal.status = Status.APPROVED
    proposal.refresh_from_db()
    assert proposal.status == Status.DRAFT


@pytest.mark.parametrize(
    ("status", "transition", "kwargs"),
    [
        (Status.DRAFT, "give_advice", {}),
        (Status.DRAFT, "assess", {}),
        (Status.DRAFT, "decide", {"outcome": Outcome.APPROVED}),
        (Status.DRAFT, "submit_pia", {}),
        (Status.SCREENING_SUBMITTED, "answer_screening", {}),
        (Status.PIA_IN_PROGRESS, "decide", {"outcome": Outcome.APPROVED}),
        (Status.PIA_SUBMITTED, "work_on_pia", {}),
        (Status.APPROVED, "withdraw", {}),
        (Status.WITHDRAWN, "withdraw", {}),
        (Status.NOT_NEEDED, "answer_step_one", {}),
    ],
)
def test_a_transition_not_declared_from_a_status_is_not_allowed(status, transition, kwargs):
    proposal = Proposal(status=status)
    with pytest.raises(TransitionNotAllowed):
        getattr(proposal, transition)(**kwargs)
    assert proposal.status == status


def test_a_transition_whose_conditions_fail_is_not_allowed():
    # Submitting the screening needs steps 1 and 2 and every question answered.
    proposal = Proposal(achievable_without=False, anonymisation_meets_goal=False)
    with pytest.raises(TransitionNotAllowed):
        proposal.submit_screening()
    assert proposal.status == Status.DRAFT


@pytest.mark.parametrize(
    ("changes", "transition", "target"),
    [
        ({"achievable_without": True}, "answer_step_one", Status.NOT_NEEDED),
        ({"achievable_without": False}, "answer_step_one", Status.DRAFT),
        (
            {"achievable_without": False, "anonymisation_meets_goal": True},
            "answer_step_two",
            Status.NO_PERSONAL_DATA,
        ),
    ],
)
def test_the_first_steps_may_close_a_draft(changes, transition, target):
    proposal = Proposal(**changes)
    getattr(proposal, transition)()
    assert proposal.status == target


def test_the_database_refuses_a_withdrawal_without_reasons(world):
    proposal = drafts.drafted(world.school.organisation, world.school["staff"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(status=Status.WITHDRAWN)


def test_the_database_refuses_an_override_without_reasons(world):
    proposal = drafts.drafted(world.school.organisation, world.school["staff"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(overrides_advice=True)


# --- Who sees which proposals --------------------------------------------------------


def test_every_member_sees_the_schools_proposals_and_nobody_elses(world):
    mine = drafts.drafted(world.school.organisation, world.school["staff"])
    theirs = drafts.drafted(world.other.organisation, world.other["staff"])
    school = world.school.organisation
    for role in ("auditor", "volunteer", "headteacher"):
        assert list(Proposal.objects.for_user(world.school[role], school)) == [mine]
    assert list(Proposal.objects.for_user(world.trust_dpo, school)) == [mine]
    assert not Proposal.objects.for_user(world.other["staff"], school).exists()
    assert list(Proposal.objects.for_user(world.other["staff"], world.other.organisation)) == [
        theirs
    ]


def test_open_proposals_leave_out_the_closed_ones(world):
    staff = world.school["staff"]
    draft = drafts.drafted(world.school.organisation, staff)
    services.create_proposal(
        world.school.organisation,
        actor=staff,
        answers=drafts.step_one(
            achievable_without=True, achievable_without_reasons="Counts will do."
        ),
    )
    assert list(Proposal.objects.open()) == [draft]


def test_a_proposal_links_to_its_page(world):
    proposal = drafts.drafted(world.school.organisation, world.school["staff"])
    assert proposal.get_absolute_url() == f"/o/alder/proposals/{proposal.reference}/"
    assert str(proposal) == proposal.reference
