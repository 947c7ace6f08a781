"""The proposal list, the task list of one proposal, and the drafting steps 1 to 3.

HTTP glue only: every change goes through infoshare.proposals.services, and
what a person may do with a proposal is `services.actions_for`, so that a page
offers only the steps the services will accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from infoshare.agreements.models import Agreement
from infoshare.agreements.rules import can_draft_agreement
from infoshare.core.exports import EXPORT_FORMATS, Column, export_response
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.core.views import _call_service, _posted
from infoshare.proposals import services
from infoshare.proposals.forms.drafting import (
    SCREENING_QUESTIONS,
    SORTS,
    SORTS_NEWEST_FIRST,
    YES_NO_QUESTIONS,
    ProposalFilterForm,
    ScreeningForm,
    StepOneForm,
    StepTwoForm,
    SubmitScreeningForm,
    WithdrawForm,
    screening_initial,
    step_one_initial,
    step_two_initial,
)
from infoshare.proposals.models import (
    PiaRequirement,
    Proposal,
    Risk,
    Status,
    before_and_after,
    screening_gaps,
)
from infoshare.proposals.rules import can_draft_proposal, can_view_proposals
from infoshare.proposals.views.common import refuse_unless_allowed, visible_proposal

if TYPE_CHECKING:
    from django.http import HttpResponse

    from infoshare.proposals.models import ProposalQuerySet

PAGE_SIZE = 25
# The people a proposal names at its steps, read with it rather than one query each.
PEOPLE_OF_A_PROPOSAL = (
    "created_by",
    "screening_submitted_by",
    "assessed_by",
    "pia_choice_by",
    "pia_submitted_by",
    "advised_by",
    "decided_by",
    "withdrawn_by",
)
# The buttons of the screening page.
SAVE_FOR_LATER, SAVE_AND_CONTINUE = "later", "continue"


# --- The list ---------------------------------------------------------------------------


@organisation_view(can_view_proposals)
def proposal_list(request: OrganisationRequest) -> HttpResponseBase:
    visible = Proposal.objects.for_user(request.user, request.organisation)
    form = ProposalFilterForm(request.GET or None)
    export_format = request.GET.get("format")
    # A list narrowed by filters that did not apply would export the wrong rows.
    if export_format in EXPORTERS and (not form.is_bound or form.is_valid()):
        return _export(request, form.filter(visible), export_format)
    page = Paginator(form.filter(visible).select_related("created_by"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "proposals/proposal_list.html",
        {
            "form": form,
            "page": page,
            "filtering": form.is_filtering,
            "sorting": sort_headers(form.sort),
            "may_start": can_draft_proposal(request.user, request.organisation),
        },
    )


def sort_headers(current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the `?sort=` its header link asks for, and its aria-sort."""
    headers = {}
    for key, (label, _ascending, _descending) in SORTS.items():
        if current.lstrip("-") == key:
            direction = "descending" if current.startswith("-") else "ascending"
            wanted = key if direction == "descending" else f"-{key}"
        else:
            direction = "none"
            wanted = f"-{key}" if key in SORTS_NEWEST_FIRST else key
        headers[key] = {"label": label, "sort": wanted, "aria_sort": direction}
    return headers


# --- Exports (proposals describe projects, not people: no audit event) --------------------


def _person(user: Any) -> str:
    return str(user) if user is not None else ""


def _day(moment: Any) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


EXPORT_COLUMNS: list[Column[Proposal]] = [
    Column("Reference", lambda p: p.reference),
    Column("Name", lambda p: p.name),
    Column("Status", lambda p: p.get_status_display()),
    Column("Purpose", lambda p: str(p.purpose or "")),
    Column("Started by", lambda p: _person(p.created_by)),
    Column("Started on", lambda p: _day(p.created_at)),
    Column("Last updated", lambda p: _day(p.updated_at)),
    Column("DPO assessment", lambda p: p.get_pia_requirement_display()),
    Column("DPO advice", lambda p: p.get_advice_display()),
    Column("Decided by", lambda p: _person(p.decided_by)),
    Column("Decided on", lambda p: _day(p.decided_at)),
    Column("Overrides the DPO's advice", lambda p: "Yes" if p.overrides_advice else ""),
]
# The `?format=` values the list answers with a file (core/exports.py writes it).
EXPORTERS = EXPORT_FORMATS


def _export(
    request: OrganisationRequest, proposals: ProposalQuerySet, export_format: str
) -> HttpResponseBase:
    filename = f"proposals-{request.organisation.slug}-{timezone.localdate():%Y-%m-%d}"
    rows = proposals.select_related("purpose", "created_by", "decided_by")
    return export_response(export_format, rows, EXPORT_COLUMNS, filename, sheet="Proposals")


# --- The task list ----------------------------------------------------------------------


@organisation_view(can_view_proposals)
def proposal_detail(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = _proposal_in_full(request, reference)
    actions = services.actions_for(proposal, request.user)
    risks = list(proposal.risks.all())
    gaps = screening_gaps(proposal) if proposal.status == Status.DRAFT else {}
    before, after = before_and_after(risks)
    return render(
        request,
        "proposals/detail.html",
        {
            "proposal": proposal,
            "actions": actions,
            "task_groups": task_groups(proposal, actions, gaps=gaps, risks=risks),
            "screening_answers": screening_answers(proposal),
            "risks": risks,
            "before_matrix": before,
            "after_matrix": after,
            "suggestions": proposal.suggests_full_pia() if actions.assess else [],
            # Step 4 follows an approval: the agreements made from it, and whether to offer one.
            "agreements": list(Agreement.objects.filter(proposal=proposal).order_by("created_at"))
            if proposal.is_approved
            else [],
            "may_draft_agreement": can_draft_agreement(request.user, request.organisation),
        },
    )


def _proposal_in_full(request: OrganisationRequest, reference: str) -> Proposal:
    """As `visible_proposal` (another organisation's is a 404), with all the task list
    shows, in a fixed number of queries."""
    return get_object_or_404(
        Proposal.objects.for_user(request.user, request.organisation)
        .select_related("organisation", "purpose", *PEOPLE_OF_A_PROPOSAL)
        .prefetch_related("categories", "recipients", "risks"),
        reference=reference,
    )


@dataclass(frozen=True)
class Task:
    title: str
    # completed, not_started, in_progress, cannot_start, not_needed or withdrawn
    state: str
    href: str = ""
    hint: str = ""


@dataclass(frozen=True)
class TaskGroup:
    heading: str
    tasks: list[Task]


def task_groups(
    proposal: Proposal, actions: services.Actions, *, gaps: dict[str, str], risks: list[Risk]
) -> list[TaskGroup]:
    return [
        TaskGroup(
            "Prepare the proposal",
            [
                _step_one_task(proposal, actions),
                _step_two_task(proposal, actions),
                _screening_task(proposal, actions),
                _submit_task(proposal, actions, gaps),
            ],
        ),
        TaskGroup(
            "Assess the privacy risks",
            [
                _assessment_task(proposal, actions),
                _pia_task(proposal, actions, risks),
                _advice_task(proposal, actions),
            ],
        ),
        TaskGroup("Decide", [_decision_task(proposal, actions)]),
    ]


def url_of(name: str, proposal: Proposal) -> str:
    return reverse(
        f"proposals:{name}",
        kwargs={"org": proposal.organisation.slug, "reference": proposal.reference},
    )


def _unreached(proposal: Proposal, title: str, hint: str = "") -> Task:
    """A task the proposal has not come to: later, or never, if it has closed."""
    if proposal.status in (Status.NOT_NEEDED, Status.NO_PERSONAL_DATA):
        return Task(title, "not_needed")
    if proposal.status == Status.WITHDRAWN:
        return Task(title, "withdrawn")
    if proposal.is_open:
        return Task(title, "cannot_start", hint=hint)
    return Task(title, "not_needed")


def _author_acts(proposal: Proposal, actions: services.Actions) -> str:
    return "" if actions.edit_draft else f"{proposal.created_by}, who started it, answers this."


def _step_one_task(proposal: Proposal, actions: services.Actions) -> Task:
    href = url_of("step_one", proposal) if actions.edit_draft else ""
    return Task("Deciding to share", "completed", href)


def _step_two_task(proposal: Proposal, actions: services.Actions) -> Task:
    title = "Anonymisation or pseudonymisation considered"
    href = url_of("step_two", proposal) if actions.edit_draft else ""
    if proposal.step_two_done:
        return Task(title, "completed", href)
    if proposal.status == Status.DRAFT:
        return Task(title, "not_started", href, _author_acts(proposal, actions))
    return _unreached(proposal, title)


def _screening_task(proposal: Proposal, actions: services.Actions) -> Task:
    title = "Privacy impact screening questions"
    if proposal.screening_submitted_at is not None:
        return Task(title, "completed")
    if proposal.status == Status.DRAFT and proposal.step_two_done:
        href = url_of("screening", proposal) if actions.edit_draft else ""
        state = "in_progress" if _screening_started(proposal) else "not_started"
        return Task(title, state, href, _author_acts(proposal, actions))
    return _unreached(proposal, title, "Consider anonymisation first.")


def _screening_started(proposal: Proposal) -> bool:
    """Whether any of questions 3 to 10 has an answer (categories and recipients prefetched)."""
    typed = (proposal.information_shared, proposal.privacy_notice, proposal.recipients_details)
    chosen = (proposal.categories.all(), proposal.recipients.all())
    yes_no = (getattr(proposal, name) is not None for name in YES_NO_QUESTIONS)
    return any(typed) or any(chosen) or any(yes_no)


def _submit_task(proposal: Proposal, actions: services.Actions, gaps: dict[str, str]) -> Task:
    title = "Check and send the screening to the DPO"
    if proposal.screening_submitted_at is not None:
        return Task(title, "completed")
    if proposal.status == Status.DRAFT and proposal.step_two_done and not gaps:
        href = url_of("submit_screening", proposal) if actions.edit_draft else ""
        return Task(title, "not_started", href, _author_acts(proposal, actions))
    return _unreached(proposal, title, "Answer every screening question first.")


def _assessment_task(proposal: Proposal, actions: services.Actions) -> Task:
    title = "DPO assessment: is a full PIA needed?"
    if proposal.assessed_at is not None:
        return Task(title, "completed")
    if proposal.status == Status.SCREENING_SUBMITTED:
        if actions.assess:
            return Task(title, "not_started", url_of("assess", proposal))
        return Task(title, "not_started", hint="The DPO assesses the screening.")
    return _unreached(proposal, title, "The screening must be sent to the DPO first.")


def _pia_task(proposal: Proposal, actions: services.Actions, risks: list[Risk]) -> Task:
    title = "Full privacy impact assessment (PIA)"
    if proposal.pia_submitted_at is not None:
        return Task(title, "completed")
    if proposal.pia_requirement == PiaRequirement.NOT_REQUIRED:
        return Task(title, "not_needed", hint="The DPO assessed a full PIA as not required.")
    if proposal.pia_taken_up is False:
        return Task(title, "not_needed", hint="Recommended by the DPO, but not carried out.")
    if proposal.awaits_pia_choice:
        return _pia_choice_task(proposal, actions, title)
    if proposal.status == Status.PIA_IN_PROGRESS:
        return _pia_in_progress_task(proposal, actions, title, risks)
    return _unreached(proposal, title, "The DPO first assesses whether one is needed.")


def _pia_choice_task(proposal: Proposal, actions: services.Actions, title: str) -> Task:
    if actions.choose_pia:
        hint = "The DPO recommends a full PIA: choose whether to carry it out."
        return Task(title, "not_started", url_of("choose_pia", proposal), hint)
    hint = (
        "The DPO recommends a full PIA. The author, the headteacher or the chair "
        "chooses whether to carry it out."
    )
    return Task(title, "not_started", hint=hint)


def _pia_in_progress_task(
    proposal: Proposal, actions: services.Actions, title: str, risks: list[Risk]
) -> Task:
    answered = (proposal.processing_description, proposal.necessity, proposal.consultation)
    state = "in_progress" if risks or any(answered) else "not_started"
    if actions.work_on_pia:
        return Task(title, state, url_of("pia", proposal))
    return Task(title, state, hint="The author or the DPO completes the full PIA.")


def _advice_task(proposal: Proposal, actions: services.Actions) -> Task:
    title = "DPO advice on the full PIA"
    if proposal.advised_at is not None:
        return Task(title, "completed")
    no_pia = proposal.pia_requirement == PiaRequirement.NOT_REQUIRED or (
        proposal.pia_taken_up is False
    )
    if no_pia:
        return Task(title, "not_needed", hint="There is no full PIA to advise on.")
    if proposal.status == Status.PIA_SUBMITTED:
        if actions.advise:
            return Task(title, "not_started", url_of("advise", proposal))
        return Task(title, "not_started", hint="The DPO advises on the full PIA.")
    return _unreached(proposal, title, "The full PIA must be finished first.")


def _decision_task(proposal: Proposal, actions: services.Actions) -> Task:
    title = "Decision by the headteacher or chair"
    if proposal.decided_at is not None:
        return Task(title, "completed")
    if proposal.awaits_decision:
        if actions.decide:
            return Task(title, "not_started", url_of("decide", proposal))
        hint = actions.decide_refused_because or "The headteacher or chair decides."
        return Task(title, "not_started", hint=hint)
    return _unreached(proposal, title, "The DPO must assess, and advise on any full PIA, first.")


# --- The screening answers, as the task list and the check page show them -------------


@dataclass(frozen=True)
class AnswerRow:
    number: int
    question: str
    paragraphs: list[str]
    items: list[str]
    change_url: str = ""


# Where each question is answered: the step's URL name and the field to jump to.
_ANSWERED_AT = {
    1: ("step_one", "id_name"),
    2: ("step_one", "id_purpose"),
    3: ("screening", "id_information_shared"),
    4: ("screening", "id_special_category_0"),
    5: ("screening", "id_privacy_notice_0"),
    6: ("screening", "id_recipients_0"),
    7: ("screening", "id_new_systems_0"),
    8: ("screening", "id_automated_decisions_0"),
    9: ("screening", "id_profiling_0"),
    10: ("screening", "id_combines_sources_0"),
}


def screening_answers(proposal: Proposal, *, change_links: bool = False) -> list[AnswerRow]:
    """The ten questions, worded as in the policy, each with its answer (1 and 2 from step 1)."""
    answers = _answers_by_question(proposal)
    rows = []
    for number, question in SCREENING_QUESTIONS.items():
        paragraphs, items = answers[number]
        change_url = ""
        if change_links:
            step, anchor = _ANSWERED_AT[number]
            change_url = f"{url_of(step, proposal)}#{anchor}"
        rows.append(AnswerRow(number, question, paragraphs, items, change_url))
    return rows


def _answers_by_question(proposal: Proposal) -> dict[int, tuple[list[str], list[str]]]:
    purpose = [str(proposal.purpose)] if proposal.purpose else []
    categories = [
        f"{category.name} (special category)" if category.is_special else category.name
        for category in proposal.categories.all()
    ]
    return {
        1: (_given(proposal.name), []),
        2: (
            purpose + _given(proposal.purpose_described) + _given(proposal.why_personal_data),
            [],
        ),
        3: (_given(proposal.information_shared), categories),
        4: _yes_no(proposal.special_category, proposal.special_category_details),
        5: (
            _given(proposal.get_privacy_notice_display()) + _given(proposal.privacy_notice_details),
            [],
        ),
        6: (
            _given(proposal.recipients_details),
            [recipient.name for recipient in proposal.recipients.all()],
        ),
        7: _yes_no(proposal.new_systems, proposal.new_systems_details),
        8: _yes_no(proposal.automated_decisions, proposal.automated_decisions_details),
        9: _yes_no(proposal.profiling, proposal.profiling_details),
        10: _yes_no(proposal.combines_sources, proposal.combines_sources_details),
    }


def _given(text: str) -> list[str]:
    return [text] if text else []


def _yes_no(answer: bool | None, details: str) -> tuple[list[str], list[str]]:
    if answer is None:
        return _given(details), []
    return ["Yes" if answer else "No", *_given(details)], []


# --- Step 1: starting a proposal, and changing its first step ---------------------------


@organisation_view(can_draft_proposal)
def start_proposal(request: OrganisationRequest) -> HttpResponse:
    form = StepOneForm(_posted(request))
    if form.is_bound and form.is_valid():
        proposal = _call_service(
            form,
            services.create_proposal,
            request.organisation,
            actor=request.user,
            answers=form.answers(),
        )
        if proposal is not None:
            messages.success(request, _step_one_message(proposal, started=True))
            return redirect(proposal)
    return render(request, "proposals/start.html", {"form": form})


@organisation_view(can_draft_proposal)
def step_one(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    refused = refuse_unless_allowed(request, proposal, "edit_draft")
    if refused is not None:
        return refused
    form = StepOneForm(_posted(request), initial=step_one_initial(proposal))
    if form.is_bound and form.is_valid():
        changed = _call_service(
            form, services.answer_step_one, proposal, actor=request.user, answers=form.answers()
        )
        if changed is not None:
            messages.success(request, _step_one_message(changed, started=False))
            return redirect(changed)
    return render(request, "proposals/step_one.html", {"form": form, "proposal": proposal})


def _step_one_message(proposal: Proposal, *, started: bool) -> str:
    if proposal.status == Status.NOT_NEEDED:
        return (
            f"{proposal.reference} is closed as not needed: the goal can be achieved without "
            "sharing personal data. Your reasons are kept with the proposal."
        )
    if started:
        return f"{proposal.reference} started. Next, consider anonymisation or pseudonymisation."
    return "Step 1, deciding to share, is saved."


# --- Step 2: anonymisation or pseudonymisation ------------------------------------------


@organisation_view(can_draft_proposal)
def step_two(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    refused = refuse_unless_allowed(request, proposal, "edit_draft")
    if refused is not None:
        return refused
    form = StepTwoForm(_posted(request), initial=step_two_initial(proposal))
    if form.is_bound and form.is_valid():
        changed = _call_service(
            form, services.answer_step_two, proposal, actor=request.user, answers=form.answers()
        )
        if changed is not None:
            messages.success(request, _step_two_message(changed))
            return redirect(changed)
    return render(request, "proposals/step_two.html", {"form": form, "proposal": proposal})


def _step_two_message(proposal: Proposal) -> str:
    if proposal.status == Status.NO_PERSONAL_DATA:
        return (
            f"{proposal.reference} is closed: "
            f"{proposal.get_anonymisation_display().lower()} meets the goal, so no personal "
            "data will be shared. Your reasons are kept with the proposal."
        )
    return "Step 2 is saved. Next, answer the privacy impact screening questions."


# --- Step 3: the screening questions, checked and sent to the DPO -----------------------


@organisation_view(can_draft_proposal)
def screening(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    refused = refuse_unless_allowed(request, proposal, "edit_draft") or _step_two_first(
        request, proposal
    )
    if refused is not None:
        return refused
    form = ScreeningForm(
        _posted(request), organisation=request.organisation, initial=screening_initial(proposal)
    )
    if form.is_bound and form.is_valid():
        saved = _call_service(
            form, services.answer_screening, proposal, actor=request.user, answers=form.answers()
        )
        if saved is not None:
            if request.POST.get("action") == SAVE_AND_CONTINUE:
                return redirect(url_of("submit_screening", saved))
            messages.success(
                request, "Your answers are saved. You can come back to them at any time."
            )
            return redirect(saved)
    return render(
        request,
        "proposals/screening.html",
        {
            "form": form,
            "proposal": proposal,
            "step_one_answers": screening_answers(proposal, change_links=True)[:2],
            "save_for_later": SAVE_FOR_LATER,
            "save_and_continue": SAVE_AND_CONTINUE,
        },
    )


def _step_two_first(request: OrganisationRequest, proposal: Proposal) -> HttpResponse | None:
    """The screening follows steps 1 and 2: before them, back to the task list."""
    if proposal.step_two_done:
        return None
    messages.error(
        request, "Consider anonymisation or pseudonymisation (step 2) before the screening."
    )
    return redirect(proposal)


@organisation_view(can_draft_proposal)
def submit_screening(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = _proposal_in_full(request, reference)
    refused = refuse_unless_allowed(request, proposal, "edit_draft") or _step_two_first(
        request, proposal
    )
    if refused is not None:
        return refused
    form = SubmitScreeningForm(_posted(request))
    if form.is_bound and form.is_valid():
        submitted = _call_service(form, services.submit_screening, proposal, actor=request.user)
        if submitted is not None:
            messages.success(request, "Screening submitted. The DPO has been emailed to assess it.")
            return redirect(submitted)
    return render(
        request,
        "proposals/check_screening.html",
        {
            "form": form,
            "proposal": proposal,
            "screening_answers": screening_answers(proposal, change_links=True),
            "gaps": _in_question_order(screening_gaps(proposal)),
            "change_links": True,
        },
    )


def _in_question_order(gaps: dict[str, str]) -> dict[str, str]:
    """The unanswered questions in the order the form asks them."""
    order = list(ScreeningForm.base_fields)
    return dict(sorted(gaps.items(), key=lambda gap: order.index(gap[0])))


# --- Withdrawing ------------------------------------------------------------------------


@organisation_view(can_draft_proposal)
def withdraw(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    refused = refuse_unless_allowed(request, proposal, "withdraw")
    if refused is not None:
        return refused
    form = WithdrawForm(_posted(request))
    if form.is_bound and form.is_valid():
        withdrawn = _call_service(
            form,
            services.withdraw_proposal,
            proposal,
            actor=request.user,
            reasons=form.cleaned_data["reasons"],
        )
        if withdrawn is not None:
            messages.success(
                request, f"{withdrawn.reference} is withdrawn. It is kept, with your reason."
            )
            return redirect(withdrawn)
    return render(request, "proposals/withdraw.html", {"form": form, "proposal": proposal})
