"""The PIA report /o/<org>/proposals/<ref>/report.pdf: what a reader finds in it, at any stage."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pypdf
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from infoshare.proposals import services
from infoshare.proposals.models import (
    Advice,
    Effect,
    Likelihood,
    Outcome,
    PiaRequirement,
    Severity,
)
from infoshare.proposals.reporting import SCREENING_QUESTIONS
from tests.core.support import assert_chain_intact, last_event
from tests.proposals.drafts import (
    advised,
    assessed,
    decision,
    drafted,
    pia,
    risk,
    screening,
    step_one,
)

pytestmark = pytest.mark.django_db

# Questions 1 to 10 exactly as Appendix A of the policy words them.
POLICY_QUESTIONS = [
    "What is the name of the project or activity this information sharing relates to?",
    "What is the purpose(s) of the project and why does the personal data need to be shared "
    "in order to achieve it?",
    "What information will be shared?",
    "Does the project/data processing activity require sharing any special category data?",
    "Are the purposes described in response to question 2 described or referred to in the "
    "Privacy Notice?",
    "Which individuals or organisations will the personal information be shared with?",
    "Does the project/data processing activity involve any new systems/technology?",
    "Does this project/data processing activity involve automated decision making processes "
    "(i.e. using algorithms or profiling to make decisions that will affect the individuals to "
    "whom the data relates)?",
    "Does the project/data processing relate to profiling of citizens (e.g. gang membership)?",
    "Does the project/data processing combine or match personal data from multiple sources?",
]


def report_url(proposal, slug: str | None = None) -> str:
    return reverse(
        "proposals:report",
        kwargs={"org": slug or proposal.organisation.slug, "reference": proposal.reference},
    )


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    """`text` without whitespace: lines of the PDF break wherever the page is full."""
    return "".join(text.split())


def contains(text: str, phrase: str) -> bool:
    return squeezed(phrase) in squeezed(text)


def download(client: Client, proposal) -> str:
    response = client.get(report_url(proposal))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return pdf_text(response.content)


@pytest.fixture
def decided_against_advice(world):
    """A full PIA with two risks; the DPO advises not to proceed, the headteacher approves
    with conditions all the same."""
    school, author, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    proposal = drafted(school, author)
    services.answer_screening(
        proposal,
        actor=author,
        answers=screening(
            world.local_authority,
            profiling=True,
            profiling_details="Pupils are grouped by predicted reading progress.",
            recipients_details="The charity's volunteer tutors.",
        ),
    )
    services.submit_screening(proposal, actor=author)
    services.assess_proposal(
        proposal,
        actor=dpo,
        requirement=PiaRequirement.MANDATORY,
        reasons="Profiling of pupils needs a full assessment.",
    )
    services.save_pia(proposal, actor=author, answers=pia())
    services.add_risk(proposal, actor=author, answers=risk())
    services.add_risk(
        proposal,
        actor=author,
        answers=risk(
            description="Predicted progress could label a pupil unfairly.",
            source="The grouping model.",
            likelihood=Likelihood.POSSIBLE,
            severity=Severity.SEVERE,
            measures="Teachers review every grouping before it is used.",
            effect=Effect.ACCEPTED,
            residual_likelihood=None,
            residual_severity=None,
        ),
    )
    services.submit_pia(proposal, actor=author)
    services.advise_on_pia(
        proposal,
        actor=dpo,
        advice=Advice.DO_NOT_PROCEED,
        text="The grouping risk stays high: do not proceed.",
    )
    return services.decide_proposal(
        proposal,
        actor=world.school["headteacher"],
        decision=decision(
            outcome=Outcome.APPROVED_WITH_CONDITIONS,
            reasons="The tutoring helps the pupils furthest behind.",
            conditions="Groupings are reviewed by the literacy lead each half term.",
            override_reasons="Teachers review every grouping, which the DPO did not weigh.",
        ),
    )


# --- What the reader finds --------------------------------------------------------------


def test_a_draft_shows_step_one_and_says_what_is_not_reached_yet(world, client_for):
    proposal = drafted(world.school.organisation, world.school["staff"])
    text = download(client_for(world.school["staff"]), proposal)
    assert contains(text, "Privacy impact assessment: Reading intervention with the literacy")
    assert contains(text, proposal.reference)
    assert contains(text, "Alder Primary School")
    assert contains(text, "Status Draft")
    assert contains(text, "Give pupils who are behind in reading a weekly tutor.")
    assert contains(text, "The tutors need each pupil's name, year group and reading age.")
    assert contains(text, "Pseudonymisation")
    assert contains(text, "No: personal data needs to be shared")
    # Questions 1 and 2 are answered in step 1, the others not yet.
    assert contains(text, POLICY_QUESTIONS[0] + "Reading intervention with the literacy charity")
    assert contains(text, POLICY_QUESTIONS[3] + "Not answered yet")
    assert contains(text, "Not yet submitted to the DPO.")
    assert text.count("Not reached yet.") == 4  # assessment, full PIA, advice, decision
    assert "Withdrawal" not in text


def test_every_screening_question_is_worded_as_in_the_policy(world, client_for):
    assert list(SCREENING_QUESTIONS) == POLICY_QUESTIONS
    school, author = world.school.organisation, world.school["staff"]
    proposal = services.submit_screening(
        services.answer_screening(
            drafted(school, author), actor=author, answers=screening(world.dfe)
        ),
        actor=author,
    )
    text = download(client_for(world.school["auditor"]), proposal)
    for number, question in enumerate(POLICY_QUESTIONS, start=1):
        assert contains(text, f"{number}. {question}"), number
    assert contains(text, POLICY_QUESTIONS[2] + "Name, year group and latest reading age.")
    assert contains(text, POLICY_QUESTIONS[4] + "Yes")
    assert contains(text, POLICY_QUESTIONS[5] + "Department for Education")
    assert contains(text, "Nothing in the answers points to a full privacy impact assessment")


def test_a_full_pia_decided_against_the_advice_shows_every_step(
    world, client_for, decided_against_advice
):
    text = download(client_for(world.school["chair"]), decided_against_advice)
    assert contains(text, "Status Approved with conditions")
    # The screening answers, with details and recipients by name.
    assert contains(text, POLICY_QUESTIONS[8] + "Yes")
    assert contains(text, "Pupils are grouped by predicted reading progress.")
    assert contains(text, POLICY_QUESTIONS[5] + "Eastmoor Council")
    assert contains(text, "The charity's volunteer tutors.")
    # The DPO's assessment and what the answers suggested.
    assert contains(text, "It involves profiling (question 9).")
    assert contains(text, "Full PIA mandatory")
    assert contains(text, "Profiling of pupils needs a full assessment.")
    assert contains(text, "Data protection officer of Alder Primary School")
    # The full PIA.
    assert contains(text, "The school sends a termly list to the charity by secure transfer.")
    assert contains(text, "Only pupils in the programme, and only what the tutors need.")
    assert contains(text, "The literacy lead, the charity's safeguarding lead and parents' forum.")


def test_the_risk_register_gives_each_risk_its_levels_before_and_after(
    world, client_for, decided_against_advice
):
    text = download(client_for(world.school["staff"]), decided_against_advice)
    # R1: probable and significant (high), reduced to remote and significant (low).
    assert contains(
        text,
        "R1: A tutor could take the list home and lose it. Paper copies of the list. "
        "Probable Significant High",
    )
    assert contains(text, "The list is shared only through the secure transfer, never printed.")
    assert contains(text, "Reduced Low (Remote likelihood, significant severity)")
    # R2: possible and severe (high), accepted as it is.
    assert contains(text, "R2: Predicted progress could label a pupil unfairly.")
    assert contains(text, "Possible Severe High")
    assert contains(text, "Accepted High (Possible likelihood, severe severity)")


def test_the_matrices_place_the_risks_before_and_after_the_measures(
    world, client_for, decided_against_advice
):
    text = download(client_for(world.school["staff"]), decided_against_advice)
    before = squeezed(text).index(squeezed("Before the measures"))
    after = squeezed(text).index(squeezed("After the measures"))
    before_matrix = squeezed(text)[before:after]
    after_matrix = squeezed(text)[after:]
    # Each matrix: the axes, and every cell's level written out, colour or not.
    for matrix in (before_matrix, after_matrix):
        assert "RemotePossibleProbable" in matrix
        assert matrix.count("High") >= 3
        assert matrix.count("Medium") >= 3
        assert matrix.count("Low") >= 3
    # Rows severe to minimal, columns remote to probable. Before: R2 possible and
    # severe, R1 probable and significant. After: R2 where it was (accepted), R1
    # down to remote and significant.
    assert "SevereMediumHighR2High" in before_matrix
    assert "SignificantLowMediumHighR1Minimal" in before_matrix
    assert "SevereMediumHighR2High" in after_matrix
    assert "SignificantLowR1MediumHighMinimal" in after_matrix


def test_the_advice_and_the_decision_overriding_it(world, client_for, decided_against_advice):
    text = download(client_for(world.school["dpo"]), decided_against_advice)
    assert contains(text, "Advice Do not proceed")
    assert contains(text, "The grouping risk stays high: do not proceed.")
    assert contains(text, "Decision Approved with conditions")
    assert contains(text, "The tutoring helps the pupils furthest behind.")
    assert contains(text, "Groupings are reviewed by the literacy lead each half term.")
    assert contains(text, "Headteacher of Alder Primary School")
    assert contains(text, "This decision overrides the DPO's advice (Do not proceed)")
    assert contains(
        text,
        "Reasons for overriding the advice: Teachers review every grouping, which the "
        "DPO did not weigh.",
    )


def test_a_decision_following_the_advice_says_so(world, client_for):
    school = world.school
    proposal = advised(school.organisation, school["staff"], school["dpo"], world.dfe)
    services.decide_proposal(proposal, actor=school["chair"], decision=decision())
    text = download(client_for(school["staff"]), proposal)
    assert contains(text, "This decision follows the DPO's advice.")
    assert "overrides" not in text


def test_a_recommended_pia_not_taken_up_says_why(world, client_for):
    school = world.school
    proposal = assessed(
        school.organisation,
        school["staff"],
        school["dpo"],
        world.dfe,
        PiaRequirement.RECOMMENDED,
    )
    services.choose_full_pia(
        proposal, actor=school["staff"], take_up=False, reasons="The data is already public."
    )
    text = download(client_for(school["staff"]), proposal)
    assert contains(text, "Full PIA recommended")
    assert contains(text, "The full PIA is not carried out")
    assert contains(text, "The data is already public.")
    assert contains(text, "Not carried out: the recommended full PIA was not taken up.")
    assert contains(text, "No advice: the DPO advises on a full PIA, and there was none.")
    assert contains(text, "The decision Not reached yet.")


def test_a_withdrawn_proposal_keeps_its_reason(world, client_for):
    school = world.school
    proposal = drafted(school.organisation, school["staff"])
    services.withdraw_proposal(
        proposal, actor=school["staff"], reasons="The charity closed its local branch."
    )
    text = download(client_for(school["headteacher"]), proposal)
    assert contains(text, "Status Withdrawn")
    assert contains(text, "Reason for withdrawing The charity closed its local branch.")
    assert contains(text, "Not reached: the proposal closed before this step.")
    assert contains(text, POLICY_QUESTIONS[3] + "Not answered 5.")
    assert contains(text, "Not submitted to the DPO.")
    assert "yet" not in text


def test_a_proposal_closed_as_not_needed_keeps_its_reasons(world, client_for):
    proposal = services.create_proposal(
        world.school.organisation,
        actor=world.school["staff"],
        answers=step_one(
            achievable_without=True,
            achievable_without_reasons="Class teachers can run the sessions themselves.",
        ),
    )
    text = download(client_for(world.school["staff"]), proposal)
    assert contains(text, "Status Closed: sharing not needed")
    assert contains(text, "Class teachers can run the sessions themselves.")


# --- The response and its audit event ----------------------------------------------------


def test_the_report_is_an_attachment_named_after_the_reference(world, client_for):
    proposal = drafted(world.school.organisation, world.school["staff"])
    response = client_for(world.school["volunteer"]).get(report_url(proposal))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{proposal.reference}-pia-report.pdf"'
    )


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_member_may_download_it_and_leaves_an_audit_event(
    world, client_for, monkeypatch, role
):
    # Who may download it, not what it says: the document is checked above.
    monkeypatch.setattr(
        "infoshare.proposals.views.report.render_pdf", lambda *args, **kwargs: b"%PDF-1.7"
    )
    proposal = drafted(world.school.organisation, world.school["staff"])
    response = client_for(world.school[role]).get(report_url(proposal))
    assert response.status_code == 200
    event = last_event("proposal.report_downloaded")
    assert event.actor == world.school[role]
    assert event.organisation == world.school.organisation
    assert event.object_type == "proposals.proposal"
    assert event.object_label == proposal.reference
    assert_chain_intact(world.school.organisation)


def test_another_schools_proposal_is_404_and_leaves_no_event(world, client_for):
    proposal = drafted(world.other.organisation, world.other["staff"])
    client = client_for(world.school["headteacher"])
    before = AuditEvent.objects.filter(verb="proposal.report_downloaded").count()
    # Through the other school's address (not a member) and through one's own.
    assert client.get(report_url(proposal)).status_code == 404
    assert client.get(report_url(proposal, slug=world.school.slug)).status_code == 404
    assert AuditEvent.objects.filter(verb="proposal.report_downloaded").count() == before


def test_someone_not_signed_in_is_sent_to_sign_in(world):
    proposal = drafted(world.school.organisation, world.school["staff"])
    response = Client().get(report_url(proposal))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse(settings.LOGIN_URL)
    assert not AuditEvent.objects.filter(verb="proposal.report_downloaded").exists()
