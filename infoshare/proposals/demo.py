"""Demo sharing proposals for `seed_demo`: one at each stage a school will meet,
made through the services as the school's people would make them.

Every project, organisation and answer is made up; no real person appears.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infoshare.core.models import DataCategory, Organisation, Purpose, Role, User
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

if TYPE_CHECKING:
    from collections.abc import Mapping

# Who takes each step: a member of staff drafts, the DPO assesses and advises,
# the headteacher decides (never the author).
NEEDED_ROLES = (Role.STAFF, Role.DPO, Role.HEADTEACHER)


def seed_proposals(organisation: Organisation, people: Mapping[str, User] | None = None) -> None:
    """Five proposals at different stages, unless the organisation has proposals already.

    `people` maps a role to the person who takes its steps; by default the
    organisation's first active member holding each role.
    """
    if Proposal.objects.filter(organisation=organisation).exists():
        return
    people = people or members_by_role(organisation)
    recipients = _recipients(organisation)
    if any(role not in people for role in NEEDED_ROLES) or len(recipients) < 2:
        return
    author, dpo, head = people[Role.STAFF], people[Role.DPO], people[Role.HEADTEACHER]
    _not_needed(organisation, author)
    _draft(organisation, author, recipients[0])
    _awaiting_assessment(organisation, author, recipients[1])
    _pia_in_progress(organisation, author, dpo, recipients[0])
    _approved_against_advice(organisation, author, dpo, head, recipients[1])


def members_by_role(organisation: Organisation) -> dict[str, User]:
    """The first active member of `organisation` holding each role."""
    people: dict[str, User] = {}
    for role in Role:
        user = (
            User.objects.filter(
                memberships__organisation=organisation,
                memberships__ended_at__isnull=True,
                memberships__role_assignments__role=role,
            )
            .order_by("pk")
            .first()
        )
        if user is not None:
            people[role.value] = user
    return people


def _recipients(organisation: Organisation) -> list[Organisation]:
    """Organisations to share with: the council and the DfE of the demo, or any others."""
    others = Organisation.objects.exclude(pk=organisation.pk).order_by("pk")
    preferred = list(others.filter(slug__in=["eastmoor-council", "dfe"]).order_by("-slug"))
    return preferred if len(preferred) == 2 else list(others[:2])


def _category(code: str) -> DataCategory:
    return DataCategory.objects.get(code=code)


def _purpose(code: str) -> Purpose:
    return Purpose.objects.get(code=code)


def _start(organisation: Organisation, author: User, answers: StepOne) -> Proposal:
    proposal = services.create_proposal(organisation, actor=author, answers=answers)
    return services.answer_step_two(
        proposal,
        actor=author,
        answers=StepTwo(
            anonymisation=Anonymisation.PSEUDONYMISATION,
            reasons="The people who work with the pupils need to know who they are.",
            meets_goal=False,
        ),
    )


# --- The five proposals ----------------------------------------------------------------


def _not_needed(organisation: Organisation, author: User) -> None:
    """Closed at step 1: the goal is met without sharing personal data."""
    services.create_proposal(
        organisation,
        actor=author,
        answers=StepOne(
            name="Sports day results for the local newsletter",
            purpose=_purpose("family-news"),
            purpose_described="",
            why_personal_data="The newsletter asked for the winners of each race.",
            achievable_without=True,
            achievable_without_reasons=(
                "The newsletter can print the results by house, without naming any pupil."
            ),
        ),
    )


def _draft(organisation: Organisation, author: User, recipient: Organisation) -> None:
    """Steps 1 and 2 answered, the screening started and left for later."""
    proposal = _start(
        organisation,
        author,
        StepOne(
            name="Breakfast club places with the catering company",
            purpose=_purpose("pastoral-care"),
            purpose_described="",
            why_personal_data="The caterer needs to know who attends and any food allergies.",
            achievable_without=False,
        ),
    )
    services.answer_screening(
        proposal,
        actor=author,
        answers=Screening(
            information_shared="Names, year groups and food allergies of the pupils who attend.",
            categories=[_category("identity-contact"), _category("health")],
            special_category=True,
            special_category_details="Food allergies are health information.",
            recipients=[recipient],
        ),
    )


def _awaiting_assessment(organisation: Organisation, author: User, recipient: Organisation) -> None:
    proposal = _start(
        organisation,
        author,
        StepOne(
            name="Reading tutors from the literacy charity",
            purpose=_purpose("pupil-progress"),
            purpose_described="",
            why_personal_data="Tutors need each pupil's name, year group and reading age.",
            achievable_without=False,
        ),
    )
    services.answer_screening(proposal, actor=author, answers=_plain_screening(recipient))
    services.submit_screening(proposal, actor=author)


def _plain_screening(
    recipient: Organisation, *, new_systems: str = "", profiling: str = "", combines: str = ""
) -> Screening:
    """Screening answers with no special category data; each of the other questions that
    point to a full PIA is answered yes when its details are given."""
    return Screening(
        information_shared="Names, year groups and the latest assessment results.",
        categories=[_category("identity-contact"), _category("education")],
        special_category=False,
        privacy_notice=PrivacyNotice.YES,
        recipients=[recipient],
        new_systems=bool(new_systems),
        new_systems_details=new_systems,
        automated_decisions=False,
        profiling=bool(profiling),
        profiling_details=profiling,
        combines_sources=bool(combines),
        combines_sources_details=combines,
    )


def _screened_and_assessed(
    organisation: Organisation, author: User, dpo: User, answers: StepOne, screening: Screening
) -> Proposal:
    proposal = _start(organisation, author, answers)
    services.answer_screening(proposal, actor=author, answers=screening)
    services.submit_screening(proposal, actor=author)
    return services.assess_proposal(
        proposal,
        actor=dpo,
        requirement=PiaRequirement.MANDATORY,
        reasons="The answers show processing likely to be high risk: a full PIA is needed.",
    )


def _pia_in_progress(
    organisation: Organisation, author: User, dpo: User, recipient: Organisation
) -> None:
    """A mandatory full PIA under way: its description written and two risks recorded."""
    proposal = _screened_and_assessed(
        organisation,
        author,
        dpo,
        StepOne(
            name="Attendance dashboard shared with the council",
            purpose=_purpose("statutory-pupil-information"),
            purpose_described="",
            why_personal_data="The council follows up pupils whose attendance is falling.",
            achievable_without=False,
        ),
        _plain_screening(
            recipient,
            new_systems="A new dashboard hosted by the council.",
            combines="Attendance is matched with the council's early help records.",
        ),
    )
    services.save_pia(
        proposal,
        actor=author,
        answers=PiaAnswers(
            processing_description="Each night the register system sends attendance marks to "
            "the council's dashboard.",
            necessity="",
            consultation="",
        ),
    )
    services.add_risk(
        proposal,
        actor=author,
        answers=RiskAnswers(
            description="Council staff outside the attendance team could see pupils' records.",
            source="Access settings of the dashboard.",
            likelihood=Likelihood.POSSIBLE,
            severity=Severity.SIGNIFICANT,
            measures="Only the attendance team has accounts; access is reviewed each term.",
            effect=Effect.REDUCED,
            residual_likelihood=Likelihood.REMOTE,
            residual_severity=Severity.SIGNIFICANT,
        ),
    )
    services.add_risk(
        proposal,
        actor=dpo,
        answers=RiskAnswers(
            description="Matched records could suggest a family is known to early help.",
            source="Matching attendance with early help records.",
            likelihood=Likelihood.REMOTE,
            severity=Severity.SEVERE,
        ),
    )


def _approved_against_advice(
    organisation: Organisation, author: User, dpo: User, head: User, recipient: Organisation
) -> None:
    """A full PIA the DPO advised against, approved with conditions all the same."""
    proposal = _screened_and_assessed(
        organisation,
        author,
        dpo,
        StepOne(
            name="Wellbeing check-in app for Year 6",
            purpose=_purpose("pastoral-care"),
            purpose_described="",
            why_personal_data="Pupils answer a weekly mood check-in that staff follow up.",
            achievable_without=False,
        ),
        _plain_screening(
            recipient,
            new_systems="A wellbeing app run by an outside company.",
            profiling="The app flags pupils whose answers suggest low mood.",
        ),
    )
    services.save_pia(
        proposal,
        actor=author,
        answers=PiaAnswers(
            processing_description="Pupils answer five questions each week in the app; the "
            "pastoral lead sees the flagged answers.",
            necessity="Only Year 6 pupils, only the weekly answers, kept for one school year.",
            consultation="The pastoral lead, the school council and the parents' forum.",
        ),
    )
    services.add_risk(
        proposal,
        actor=author,
        answers=RiskAnswers(
            description="A pupil could be wrongly flagged as having low mood.",
            source="The app's flagging rules.",
            likelihood=Likelihood.PROBABLE,
            severity=Severity.SIGNIFICANT,
            measures="The pastoral lead checks every flag with the pupil before acting.",
            effect=Effect.REDUCED,
            residual_likelihood=Likelihood.POSSIBLE,
            residual_severity=Severity.MINIMAL,
        ),
    )
    services.add_risk(
        proposal,
        actor=author,
        answers=RiskAnswers(
            description="The company could use pupils' answers for its own purposes.",
            source="The company's terms of service.",
            likelihood=Likelihood.POSSIBLE,
            severity=Severity.SEVERE,
            measures="A contract limits the company to processing on the school's behalf.",
            effect=Effect.ACCEPTED,
        ),
    )
    services.submit_pia(proposal, actor=author)
    services.advise_on_pia(
        proposal,
        actor=dpo,
        advice=Advice.DO_NOT_PROCEED,
        text="The risk of the company reusing the answers stays high: do not proceed.",
    )
    services.decide_proposal(
        proposal,
        actor=head,
        decision=Decision(
            outcome=Outcome.APPROVED_WITH_CONDITIONS,
            reasons="Pupils asked for a private way to say how they feel.",
            conditions="The app goes ahead only once the company signs the school's contract.",
            override_reasons="The signed contract, a condition of approval, answers the DPO's "
            "remaining concern.",
        ),
    )
