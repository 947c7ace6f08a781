"""The PIA report: what it shows of a proposal, and the audit event of downloading it.

The report may be downloaded at any stage, so everything here copes with a
proposal that has not reached a step yet. Nothing here changes a proposal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from infoshare.audit import services as audit
from infoshare.proposals.forms.drafting import SCREENING_QUESTIONS as QUESTIONS
from infoshare.proposals.models import PiaRequirement, Status, before_and_after

if TYPE_CHECKING:
    from datetime import datetime

    from infoshare.core.models import User
    from infoshare.proposals.models import Proposal

# The screening questions, worded exactly as in Appendix A of the policy (the
# report is read against it), in order: the same wording as the screening page.
SCREENING_QUESTIONS = tuple(QUESTIONS[number] for number in sorted(QUESTIONS))

NOT_ANSWERED = "Not answered yet"
# On a closed proposal, nothing more will be answered.
NEVER_ANSWERED = "Not answered"

# Questions 4 and 7 to 10: a yes or no, with details.
_YES_NO_QUESTIONS = {
    4: "special_category",
    7: "new_systems",
    8: "automated_decisions",
    9: "profiling",
    10: "combines_sources",
}


@dataclass(frozen=True)
class ScreeningAnswer:
    number: int
    question: str
    answer: str
    details: str = ""


def screening_answers(proposal: Proposal) -> list[ScreeningAnswer]:
    """The ten screening questions with the proposal's answers (1 and 2 come from step 1)."""
    unanswered = NOT_ANSWERED if proposal.is_open else NEVER_ANSWERED
    answers = {
        1: (proposal.name, ""),
        2: (_purpose(proposal), proposal.why_personal_data),
        3: (proposal.information_shared or unanswered, _categories(proposal)),
        5: (
            proposal.get_privacy_notice_display() or unanswered,
            proposal.privacy_notice_details,
        ),
        6: _recipients(proposal, unanswered),
    }
    for number, field in _YES_NO_QUESTIONS.items():
        value = getattr(proposal, field)
        answer = unanswered if value is None else ("Yes" if value else "No")
        answers[number] = (answer, getattr(proposal, f"{field}_details"))
    return [
        ScreeningAnswer(number, question, *answers[number])
        for number, question in enumerate(SCREENING_QUESTIONS, start=1)
    ]


def _purpose(proposal: Proposal) -> str:
    purpose = proposal.purpose.name if proposal.purpose else ""
    described = proposal.purpose_described
    if purpose and described:
        return f"{purpose}: {described}"
    return purpose or described


def _categories(proposal: Proposal) -> str:
    names = [category.name for category in proposal.categories.all()]
    return f"Categories: {', '.join(names)}." if names else ""


def _recipients(proposal: Proposal, unanswered: str) -> tuple[str, str]:
    """The organisations chosen, by name, and any others described in the details."""
    names = ", ".join(organisation.name for organisation in proposal.recipients.all())
    details = proposal.recipients_details
    if names:
        return names, details
    return (details, "") if details else (unanswered, "")


def report_context(proposal: Proposal, *, produced: datetime, produced_by: User) -> dict[str, Any]:
    """Everything the report template shows, worked out once."""
    risks = list(proposal.risks.all())
    before, after = before_and_after(risks)
    return {
        "proposal": proposal,
        "organisation": proposal.organisation,
        "produced": produced,
        "produced_by": produced_by,
        "not_reached": _not_reached(proposal),
        "screening_reached": proposal.step_two_done and not proposal.anonymisation_meets_goal,
        "screening": screening_answers(proposal),
        "suggestions": proposal.suggests_full_pia(),
        "is_recommended": proposal.pia_requirement == PiaRequirement.RECOMMENDED,
        "no_full_pia": _why_no_full_pia(proposal),
        "risks": risks,
        "before": before,
        "after": after,
        "is_withdrawn": proposal.status == Status.WITHDRAWN,
    }


def _not_reached(proposal: Proposal) -> str:
    """What a section the proposal has not got to says: it may still, or it never will."""
    if proposal.is_open:
        return "Not reached yet."
    return "Not reached: the proposal closed before this step."


def _why_no_full_pia(proposal: Proposal) -> str:
    """Why there is no full PIA, once that is settled; empty while it may still come."""
    if proposal.pia_requirement == PiaRequirement.NOT_REQUIRED:
        return "Not carried out: the DPO assessed that a full PIA is not required."
    if proposal.pia_taken_up is False:
        return "Not carried out: the recommended full PIA was not taken up."
    return ""


def note_report_downloaded(proposal: Proposal, *, actor: User) -> None:
    """Downloading the report is recorded: it holds the whole assessment."""
    with transaction.atomic():
        audit.record(actor, "proposal.report_downloaded", proposal)
