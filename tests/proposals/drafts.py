"""Valid answers to start from, and a way to bring a proposal to any step through the services.

Each test changes one answer, or takes one step, and sees what happens.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from infoshare.core.models import DataCategory, Organisation, Purpose, User
from infoshare.proposals import services
from infoshare.proposals.models import (
    Advice,
    Anonymisation,
    Effect,
    Likelihood,
    Outcome,
    PiaRequirement,
    PrivacyNotice,
    Proposal,
    Severity,
)
from infoshare.proposals.services import (
    Decision,
    PiaAnswers,
    RiskAnswers,
    Screening,
    StepOne,
    StepTwo,
)


def step_one(**changes: Any) -> StepOne:
    answers = StepOne(
        name="Reading intervention with the literacy charity",
        purpose=Purpose.objects.get(code="other"),
        purpose_described="Give pupils who are behind in reading a weekly tutor.",
        why_personal_data="The tutors need each pupil's name, year group and reading age.",
        achievable_without=False,
    )
    return replace(answers, **changes)


def step_two(**changes: Any) -> StepTwo:
    answers = StepTwo(
        anonymisation=Anonymisation.PSEUDONYMISATION,
        reasons="Tutors meet the pupils in person, so they must know who they are.",
        meets_goal=False,
    )
    return replace(answers, **changes)


def screening(recipient: Organisation, **changes: Any) -> Screening:
    """Answers to questions 3 to 10 that raise nothing pointing to a full PIA."""
    answers = Screening(
        information_shared="Name, year group and latest reading age.",
        categories=[DataCategory.objects.get(code="education")],
        special_category=False,
        privacy_notice=PrivacyNotice.YES,
        recipients=[recipient],
        new_systems=False,
        automated_decisions=False,
        profiling=False,
        combines_sources=False,
    )
    return replace(answers, **changes)


def pia(**changes: Any) -> PiaAnswers:
    answers = PiaAnswers(
        processing_description="The school sends a termly list to the charity by secure transfer.",
        necessity="Only pupils in the programme, and only what the tutors need.",
        consultation="The literacy lead, the charity's safeguarding lead and parents' forum.",
    )
    return replace(answers, **changes)


def risk(**changes: Any) -> RiskAnswers:
    """A probable, significant risk (high), reduced to remote and significant (low)."""
    answers = RiskAnswers(
        description="A tutor could take the list home and lose it.",
        source="Paper copies of the list.",
        likelihood=Likelihood.PROBABLE,
        severity=Severity.SIGNIFICANT,
        measures="The list is shared only through the secure transfer, never printed.",
        effect=Effect.REDUCED,
        residual_likelihood=Likelihood.REMOTE,
        residual_severity=Severity.SIGNIFICANT,
    )
    return replace(answers, **changes)


def decision(**changes: Any) -> Decision:
    answers = Decision(outcome=Outcome.APPROVED, reasons="The benefit to pupils is clear.")
    return replace(answers, **changes)


# The steps, in order, each bringing a proposal one status further.
def drafted(organisation: Organisation, author: User) -> Proposal:
    proposal = services.create_proposal(organisation, actor=author, answers=step_one())
    return services.answer_step_two(proposal, actor=author, answers=step_two())


def screened(organisation: Organisation, author: User, recipient: Organisation) -> Proposal:
    proposal = drafted(organisation, author)
    services.answer_screening(proposal, actor=author, answers=screening(recipient))
    return services.submit_screening(proposal, actor=author)


def assessed(
    organisation: Organisation,
    author: User,
    dpo: User,
    recipient: Organisation,
    requirement: str = PiaRequirement.NOT_REQUIRED,
) -> Proposal:
    proposal = screened(organisation, author, recipient)
    return services.assess_proposal(
        proposal, actor=dpo, requirement=requirement, reasons="Assessed against the answers."
    )


def pia_submitted(
    organisation: Organisation, author: User, dpo: User, recipient: Organisation
) -> Proposal:
    proposal = assessed(organisation, author, dpo, recipient, PiaRequirement.MANDATORY)
    services.save_pia(proposal, actor=author, answers=pia())
    services.add_risk(proposal, actor=author, answers=risk())
    return services.submit_pia(proposal, actor=author)


def advised(
    organisation: Organisation,
    author: User,
    dpo: User,
    recipient: Organisation,
    advice: str = Advice.PROCEED,
) -> Proposal:
    proposal = pia_submitted(organisation, author, dpo, recipient)
    return services.advise_on_pia(
        proposal, actor=dpo, advice=advice, text="The measures bring the risk down enough."
    )
