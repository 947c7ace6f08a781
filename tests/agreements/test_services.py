"""Drafting, advice, approval and withdrawal of agreements: allowed, refused, and audited.

Each service is taken by the person allowed to take it, by people who may
never take it (PermissionDenied), at a status where it cannot be taken (the
out-of-order message), and with bad answers (errors keyed by field). A
refused call changes nothing and leaves no audit event.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from infoshare.agreements import lifecycle, services
from infoshare.agreements.models import (
    Agreement,
    AgreementReview,
    AgreementVersion,
    Article28,
    DpaClause,
    Kind,
    Party,
    PartyRole,
    Status,
)
from infoshare.agreements.services import (
    ClauseAnswers,
    Content,
    PartyAnswers,
    actions_for,
    out_of_order_message,
)
from infoshare.audit.models import AuditEvent
from infoshare.core.models import LawfulBasis, SpecialCategoryCondition, User
from infoshare.governance.models import InformationAsset
from infoshare.proposals import services as proposal_services
from infoshare.proposals.models import Outcome
from tests.agreements import drafts
from tests.core.support import assert_chain_intact, changes_of, last_event
from tests.proposals import drafts as proposal_drafts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from infoshare.core.models import Organisation
    from tests.conftest import World

pytestmark = pytest.mark.django_db


# --- Helpers (the lifecycle tests use them too) ---------------------------------------


def stored(agreement: Agreement | None) -> dict[str, Any]:
    """Everything a refused call must leave as it was, read afresh from the database."""
    events = AuditEvent.objects.count()
    if agreement is None:
        return {
            "agreements": list(Agreement.objects.values_list("pk", flat=True)),
            "parties": Party.objects.count(),
            "events": events,
        }
    pk = agreement.pk
    row = Agreement.objects.get(pk=pk)
    return {
        "agreement": Agreement.objects.filter(pk=pk).values().get(),
        "parties": list(Party.objects.filter(agreement_id=pk).values()),
        "clauses": list(DpaClause.objects.filter(agreement_id=pk).values()),
        "versions": list(AgreementVersion.objects.filter(agreement_id=pk).values()),
        "reviews": list(AgreementReview.objects.filter(agreement_id=pk).values()),
        "lawful_bases": sorted(row.lawful_bases.values_list("pk", flat=True)),
        "categories": sorted(row.categories.values_list("pk", flat=True)),
        "conditions": sorted(row.special_category_conditions.values_list("pk", flat=True)),
        "assets": sorted(row.assets.values_list("pk", flat=True)),
        "agreements": Agreement.objects.count(),
        "events": events,
    }


@contextmanager
def unchanged(agreement: Agreement | None = None) -> Iterator[None]:
    before = stored(agreement)
    yield
    assert stored(agreement) == before


def forbidden(agreement: Agreement | None, call: Callable[[], object]) -> str:
    """`call` is refused as not this person's to take; returns the message."""
    with unchanged(agreement), pytest.raises(PermissionDenied) as refused:
        call()
    return str(refused.value)


def invalid(agreement: Agreement | None, call: Callable[[], object]) -> dict[str, list[str]]:
    """`call` is refused for its answers; returns the messages by field."""
    with unchanged(agreement), pytest.raises(ValidationError) as refused:
        call()
    if hasattr(refused.value, "error_dict"):
        return refused.value.message_dict
    return {NON_FIELD_ERRORS: refused.value.messages}


def out_of_order(agreement: Agreement, call: Callable[[], object]) -> None:
    """`call` is refused with the message naming where the agreement stands."""
    agreement = fresh(agreement)
    with unchanged(agreement), pytest.raises(ValidationError) as refused:
        call()
    assert refused.value.messages == [out_of_order_message(agreement)]
    assert agreement.get_status_display() in refused.value.messages[0]


def fresh(agreement: Agreement) -> Agreement:
    return Agreement.objects.get(pk=agreement.pk)


def assert_event(verb: str, agreement: Agreement, actor: User, changes: dict[str, Any]) -> None:
    event = last_event(verb)
    assert event.actor == actor
    assert event.organisation == agreement.organisation
    assert event.object_type == "agreements.agreement"
    assert event.object_id == agreement.reference
    assert changes_of(event) == changes
    assert_chain_intact(agreement.organisation)


def verbs_since(count: int) -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)[count:])


def person(world: World, who: str) -> User:
    """'staff' (the drafter in these tests), 'other:dpo' (in the other school), 'trust_dpo'."""
    if who == "trust_dpo":
        return world.trust_dpo
    if who.startswith("other:"):
        return world.other[who.removeprefix("other:")]
    return world.school[who]


def at(world: World, status: str, kind: str = Kind.AGREEMENT) -> Agreement:
    """An agreement of world.school with the local authority, drafted by staff, at `status`."""
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    head, keeper = world.school["headteacher"], world.school["information_manager"]
    la = world.local_authority
    match status:
        case Status.DRAFT:
            agreement = drafts.drafted(school, staff, la, kind=kind)
        case Status.ADVICE_REQUESTED:
            agreement = drafts.advice_requested(school, staff, la, kind=kind)
        case Status.ADVISED:
            agreement = drafts.advised(school, staff, dpo, la, kind=kind)
        case Status.APPROVED:
            agreement = drafts.approved(school, staff, dpo, head, la, kind=kind)
        case Status.UNDER_REVIEW:
            agreement = drafts.approved(school, staff, dpo, head, la, kind=kind)
            agreement = drafts.under_review(agreement, dpo)
        case Status.TERMINATED:
            agreement = drafts.approved(school, staff, dpo, head, la, kind=kind)
            agreement = drafts.terminated(agreement, head)
        case Status.EXPIRED:
            agreement = drafts.approved(school, staff, dpo, head, la, kind=kind)
            agreement = drafts.expired(drafts.terminated(agreement, head), keeper)
        case Status.WITHDRAWN:
            agreement = drafts.drafted(school, staff, la, kind=kind)
            agreement = services.withdraw_agreement(agreement, actor=staff, reasons="Not now.")
        case _:
            raise AssertionError(status)
    return fresh(agreement)


def amended(world: World) -> Agreement:
    """Version 1 approved, reviewed and sent for amendment: version 2 is a draft."""
    agreement = drafts.under_review(at(world, Status.APPROVED), world.school["dpo"])
    lifecycle.complete_review(
        agreement,
        actor=world.school["information_manager"],
        answers=drafts.review(outcome="amend", outcome_reasons="The portal is being replaced."),
    )
    return fresh(agreement)


# --- Each step, taken by someone, with valid answers ---------------------------------

STEPS: dict[str, Callable[[Agreement, User, World], object]] = {
    "update_content": lambda a, actor, w: services.update_content(
        a, actor=actor, content=drafts.content(title="Attendance figures, weekly")
    ),
    "add_party": lambda a, actor, w: services.add_party(
        a, actor=actor, answers=PartyAnswers(w.dfe, PartyRole.JOINT_CONTROLLER)
    ),
    "remove_party": lambda a, actor, w: services.remove_party(
        a.parties.get(organisation=w.local_authority), actor=actor
    ),
    "set_dpa_clauses": lambda a, actor, w: services.set_dpa_clauses(
        a, actor=actor, answers=drafts.clauses_all_present()
    ),
    "request_advice": lambda a, actor, w: services.request_advice(a, actor=actor),
    "advise": lambda a, actor, w: services.advise_on_agreement(
        a, actor=actor, advice="Name the portal's retention period."
    ),
    "revise": lambda a, actor, w: services.revise_agreement(a, actor=actor),
    "approve": lambda a, actor, w: services.approve_agreement(a, actor=actor),
    "withdraw": lambda a, actor, w: services.withdraw_agreement(
        a, actor=actor, reasons="The council found another way."
    ),
}


def take(step: str, agreement: Agreement, actor: User, world: World) -> object:
    return STEPS[step](agreement, actor, world)


def ready_for(world: World, step: str) -> Agreement:
    """An agreement at the status where `step` can be taken."""
    if step == "set_dpa_clauses":
        return at(world, Status.DRAFT, kind=Kind.DPA)
    status = {
        "update_content": Status.DRAFT,
        "add_party": Status.DRAFT,
        "remove_party": Status.DRAFT,
        "request_advice": Status.DRAFT,
        "advise": Status.ADVICE_REQUESTED,
        "revise": Status.ADVISED,
        "approve": Status.ADVISED,
        "withdraw": Status.ADVICE_REQUESTED,
    }[step]
    return at(world, status)


# Who may take each step ('staff' drafted the agreement), and who may never.
ALLOWED = {
    "update_content": ["staff"],
    "add_party": ["staff"],
    "remove_party": ["staff"],
    "set_dpa_clauses": ["staff"],
    "request_advice": ["staff"],
    "advise": ["dpo", "trust_dpo"],
    "revise": ["staff"],
    "approve": ["headteacher", "chair"],
    "withdraw": ["staff", "headteacher", "chair"],
}
REFUSED = {
    "update_content": ["dpo", "headteacher", "information_manager", "auditor", "other:staff"],
    "add_party": ["chair", "dpo", "volunteer", "other:staff"],
    "remove_party": ["headteacher", "trust_dpo", "other:staff"],
    "set_dpa_clauses": ["dpo", "information_manager", "other:staff"],
    "request_advice": ["dpo", "headteacher", "dsl", "auditor", "other:staff"],
    "advise": [
        "staff",
        "headteacher",
        "chair",
        "information_manager",
        "dsl",
        "auditor",
        "other:dpo",
    ],
    "revise": ["dpo", "headteacher", "auditor", "other:staff"],
    "approve": [
        "staff",
        "dpo",
        "trust_dpo",
        "information_manager",
        "dsl",
        "volunteer",
        "auditor",
        "other:headteacher",
        "other:chair",
    ],
    "withdraw": ["dpo", "trust_dpo", "information_manager", "auditor", "other:headteacher"],
}
# The `Actions` field behind each step, where it is named otherwise.
ACTION = {
    "update_content": "edit",
    "add_party": "edit",
    "remove_party": "edit",
    "set_dpa_clauses": "edit",
}
VERBS = {
    "update_content": "agreement.changed",
    "add_party": "agreement.party_added",
    "remove_party": "agreement.party_removed",
    "set_dpa_clauses": "agreement.checklist_changed",
    "request_advice": "agreement.advice_requested",
    "advise": "agreement.advised",
    "revise": "agreement.revised",
    "approve": "agreement.approved",
    "withdraw": "agreement.withdrawn",
}


@pytest.mark.parametrize(
    ("step", "who"), [(step, who) for step, people in ALLOWED.items() for who in people]
)
def test_a_step_is_taken_by_those_allowed_and_audited_under_their_name(world, step, who):
    agreement = ready_for(world, step)
    actor = person(world, who)
    before = AuditEvent.objects.count()
    take(step, agreement, actor, world)
    assert verbs_since(before) == [VERBS[step]]
    event = last_event(VERBS[step])
    assert event.actor == actor
    assert event.organisation == world.school.organisation
    assert event.object_id == agreement.reference
    assert_chain_intact(world.school.organisation)


@pytest.mark.parametrize("step", list(REFUSED))
def test_a_step_is_refused_to_anyone_else(world, step, subtests):
    # A refusal changes nothing, so one agreement serves every refused person.
    agreement = ready_for(world, step)
    for who in REFUSED[step]:
        with subtests.test(who=who):
            actor = person(world, who)
            message = forbidden(agreement, partial(take, step, fresh(agreement), actor, world))
            assert message == services.REFUSALS[ACTION.get(step, step)]


# The steps that can be taken at each status (by someone); every other one is out of order.
IN_ORDER: dict[str, set[str]] = {
    Status.DRAFT: {
        "update_content",
        "add_party",
        "remove_party",
        "set_dpa_clauses",
        "request_advice",
        "withdraw",
    },
    Status.ADVICE_REQUESTED: {"advise", "withdraw"},
    Status.ADVISED: {"revise", "approve", "withdraw"},
}
# Who would take the step at the right time: asked too early or too late, they are
# told where the agreement stands, not that the step is not theirs.
TAKER = {"advise": "dpo", "approve": "headteacher"}


@pytest.mark.parametrize("status", list(Status))
def test_every_step_out_of_order_is_refused_with_where_the_agreement_stands(
    world, status, subtests
):
    agreement = at(world, status)
    for step in STEPS:
        if step in IN_ORDER.get(status, set()):
            continue
        with subtests.test(step=step):
            actor = person(world, TAKER.get(step, "staff"))
            out_of_order(agreement, partial(take, step, fresh(agreement), actor, world))


# --- Drafting ------------------------------------------------------------------------


def test_a_member_drafts_an_agreement_with_the_school_as_controller(world):
    staff, school = world.school["staff"], world.school.organisation
    answers = drafts.content(title="  Attendance data  ", purpose=" To support pupils. ")
    agreement = services.create_agreement(
        school,
        actor=staff,
        kind=Kind.AGREEMENT,
        content=answers,
        parties=[PartyAnswers(world.local_authority, PartyRole.CONTROLLER)],
    )
    agreement = fresh(agreement)
    year = timezone.localdate().year
    assert agreement.reference == f"ISA-{year}-0001"
    assert agreement.status == Status.DRAFT
    assert agreement.version == 1
    assert agreement.drafted_by == staff
    assert agreement.title == "Attendance data"
    assert agreement.purpose == "To support pupils."
    assert agreement.method == answers.method
    assert agreement.start_date == answers.start_date
    assert list(agreement.lawful_bases.all()) == list(answers.lawful_bases)
    assert sorted(agreement.categories.values_list("pk", flat=True)) == sorted(
        c.pk for c in answers.categories
    )
    parties = [(p.organisation, p.role, p.position) for p in agreement.parties.all()]
    assert parties == [
        (school, PartyRole.CONTROLLER, 0),
        (world.local_authority, PartyRole.CONTROLLER, 1),
    ]
    # An ISA has no Article 28 checklist.
    assert not agreement.clauses.exists()
    assert services.approval_gaps(agreement) == {}
    assert_event(
        "agreement.created", agreement, staff, {"kind": "agreement", "title": "Attendance data"}
    )


def test_a_dpa_is_numbered_apart_and_starts_with_every_point_of_its_checklist_open(world):
    staff, school = world.school["staff"], world.school.organisation
    drafts.drafted(school, staff, world.local_authority)
    dpa = services.create_agreement(
        school,
        actor=staff,
        kind=Kind.DPA,
        content=drafts.content(title="Online payments"),
        parties=[PartyAnswers(world.dfe, PartyRole.PROCESSOR)],
    )
    assert dpa.reference == f"DPA-{timezone.localdate().year}-0001"
    assert [c.point for c in dpa.clauses.all()] == list(Article28.values)
    assert all(c.present is None for c in dpa.clauses.all())
    assert services.approval_gaps(dpa) == {
        "checklist": "Article 28(3) points (a), (b), (c), (d), (e), (f), (g), (h) are neither "
        "present in the contract nor justified."
    }


def test_the_school_is_named_once_even_when_listed_again(world):
    school = world.school.organisation
    agreement = services.create_agreement(
        school,
        actor=world.school["staff"],
        kind=Kind.AGREEMENT,
        content=drafts.content(),
        parties=[
            PartyAnswers(school, PartyRole.JOINT_CONTROLLER),
            PartyAnswers(world.dfe, PartyRole.CONTROLLER),
            PartyAnswers(world.dfe, PartyRole.PROCESSOR),
        ],
    )
    assert [(p.organisation, p.role) for p in agreement.parties.all()] == [
        (school, PartyRole.CONTROLLER),
        (world.dfe, PartyRole.CONTROLLER),
    ]


DRAFTERS = [
    "headteacher",
    "chair",
    "dpo",
    "dsl",
    "deputy_dsl",
    "information_manager",
    "staff",
    "volunteer",
    "trust_dpo",
]


def test_any_member_but_an_auditor_may_draft(world, subtests):
    for who in DRAFTERS:
        with subtests.test(who=who):
            actor = person(world, who)
            agreement = drafts.drafted(world.school.organisation, actor, world.dfe)
            assert agreement.drafted_by == actor
            assert last_event("agreement.created").actor == actor


def test_an_auditor_or_another_schools_member_may_not_draft(world, subtests):
    year = timezone.localdate().year
    for who in ["auditor", "other:staff", "other:headteacher", "other:dpo"]:
        with subtests.test(who=who):
            message = forbidden(
                None,
                partial(
                    services.create_agreement,
                    world.school.organisation,
                    actor=person(world, who),
                    kind=Kind.AGREEMENT,
                    content=drafts.content(),
                ),
            )
            assert message == "Only members of the organisation draft its agreements."
    # A refused draft used up no reference.
    agreement = drafts.drafted(world.school.organisation, world.school["staff"], world.dfe)
    assert agreement.reference == f"ISA-{year}-0001"


def bad_content(world: World) -> list[tuple[dict[str, Any], str, str]]:
    return [
        ({"title": "  "}, "title", "Give the agreement a title."),
        (
            {"review_interval_months": 0},
            "review_interval_months",
            "The review interval must be between 1 and 36 months.",
        ),
        (
            {"review_interval_months": 37},
            "review_interval_months",
            "The review interval must be between 1 and 36 months.",
        ),
        (
            {"review_interval_months": 13, "review_interval_justification": "  "},
            "review_interval_justification",
            "A review interval longer than 12 months needs a justification (the policy asks "
            "for at least an annual review).",
        ),
        (
            {"assets": [asset_of(world.other.organisation, world.other["dpo"])]},
            "assets",
            "Choose information assets of this school.",
        ),
    ]


def asset_of(organisation: Organisation, owner: User, name: str = "Pupil records") -> Any:
    return InformationAsset.objects.create(
        organisation=organisation,
        name=name,
        owner="Business manager",
        system_or_location="MIS",
        retention_period="Date of birth + 25 years",
        created_by=owner,
    )


def test_a_new_agreement_with_a_bad_answer_is_refused_beside_its_field(world, subtests):
    for changes, field, message in bad_content(world):
        with subtests.test(field=field, changes=changes):
            errors = invalid(
                None,
                partial(
                    services.create_agreement,
                    world.school.organisation,
                    actor=world.school["staff"],
                    kind=Kind.AGREEMENT,
                    content=drafts.content(**changes),
                ),
            )
            assert errors == {field: [message]}


def test_an_unknown_kind_is_refused(world):
    errors = invalid(
        None,
        lambda: services.create_agreement(
            world.school.organisation,
            actor=world.school["staff"],
            kind="contract",
            content=drafts.content(),
        ),
    )
    assert errors == {"kind": ["Choose the kind of agreement."]}


def test_changed_content_is_checked_too_and_changes_nothing_when_refused(world, subtests):
    agreement = at(world, Status.DRAFT)
    for changes, field, message in bad_content(world):
        with subtests.test(field=field, changes=changes):
            errors = invalid(
                agreement,
                partial(
                    services.update_content,
                    agreement,
                    actor=world.school["staff"],
                    content=drafts.content(**changes),
                ),
            )
            assert errors == {field: [message]}


def test_a_longer_review_interval_is_kept_with_its_justification(world):
    justification = "The data is shared once a year, at the census."
    agreement = services.create_agreement(
        world.school.organisation,
        actor=world.school["staff"],
        kind=Kind.AGREEMENT,
        content=drafts.content(
            review_interval_months=24, review_interval_justification=f" {justification} "
        ),
    )
    agreement = fresh(agreement)
    assert agreement.review_interval_months == 24
    assert agreement.review_interval_justification == justification
    # Back to 12 months, the justification no longer applies and is dropped.
    services.update_content(
        agreement,
        actor=world.school["staff"],
        content=drafts.content(review_interval_months=12, review_interval_justification="Old"),
    )
    agreement = fresh(agreement)
    assert agreement.review_interval_months == 12
    assert agreement.review_interval_justification == ""


def test_the_drafter_changes_the_content(world):
    staff = world.school["staff"]
    agreement = at(world, Status.DRAFT)
    condition = SpecialCategoryCondition.objects.get(code="sch1-18-safeguarding")
    asset = asset_of(world.school.organisation, staff)
    services.update_content(
        agreement,
        actor=staff,
        content=drafts.content(
            title=" Attendance, weekly ",
            frequency=" Every Monday ",
            lawful_bases=[LawfulBasis.objects.get(code="legal-obligation")],
            special_category_conditions=[condition],
            assets=[asset],
            # A DPA's fields mean nothing on an ISA, and are not kept.
            subprocessors="A hosting company",
        ),
    )
    agreement = fresh(agreement)
    assert agreement.title == "Attendance, weekly"
    assert agreement.frequency == "Every Monday"
    assert list(agreement.lawful_bases.values_list("code", flat=True)) == ["legal-obligation"]
    assert list(agreement.special_category_conditions.all()) == [condition]
    assert list(agreement.assets.all()) == [asset]
    assert list(asset.agreements.all()) == [agreement]
    assert agreement.subprocessors == ""
    assert agreement.status == Status.DRAFT
    assert_event("agreement.changed", agreement, staff, {"version": 1})


# --- The tiers: what sits under what ---------------------------------------------------


def test_the_tiers_sit_under_the_right_kind_of_document(world):
    school, staff, la = world.school.organisation, world.school["staff"], world.local_authority
    protocol = drafts.drafted(school, staff, la, kind=Kind.PROTOCOL)
    agreement = drafts.drafted(school, staff, la, kind=Kind.AGREEMENT, parent=protocol)
    procedures = drafts.drafted(school, staff, la, kind=Kind.PROCEDURES, parent=agreement)
    alone = drafts.drafted(school, staff, la, kind=Kind.AGREEMENT)
    assert fresh(agreement).parent == protocol
    assert fresh(procedures).parent == agreement
    assert fresh(alone).parent is None  # an agreement may stand on its own
    assert list(protocol.children.all()) == [agreement]
    assert list(agreement.children.all()) == [procedures]


def test_a_document_under_the_wrong_kind_or_another_schools_is_refused(world, subtests):
    school, staff, la = world.school.organisation, world.school["staff"], world.local_authority
    protocol = drafts.drafted(school, staff, la, kind=Kind.PROTOCOL)
    agreement = drafts.drafted(school, staff, la, kind=Kind.AGREEMENT)
    elsewhere = drafts.drafted(world.other.organisation, world.other["staff"], la)
    their_protocol = drafts.drafted(
        world.other.organisation, world.other["staff"], la, kind=Kind.PROTOCOL
    )
    cases = [
        (Kind.PROCEDURES, None, "Choose the agreement these procedures belong to."),
        (Kind.PROCEDURES, protocol, "Choose an information sharing agreement of this school."),
        (Kind.PROCEDURES, elsewhere, "Choose an information sharing agreement of this school."),
        (Kind.AGREEMENT, agreement, "Choose an information sharing protocol of this school."),
        (Kind.AGREEMENT, their_protocol, "Choose an information sharing protocol of this school."),
        (Kind.PROTOCOL, protocol, "Only an agreement or procedures sit under another document."),
        (Kind.DPA, agreement, "Only an agreement or procedures sit under another document."),
    ]
    for kind, parent, message in cases:
        with subtests.test(kind=kind, parent=str(parent)):
            errors = invalid(
                None,
                partial(
                    services.create_agreement,
                    school,
                    actor=staff,
                    kind=kind,
                    content=drafts.content(parent=parent),
                ),
            )
            assert errors == {"parent": [message]}


def test_an_agreement_cannot_sit_under_itself(world):
    school, staff, la = world.school.organisation, world.school["staff"], world.local_authority
    agreement = drafts.drafted(school, staff, la, kind=Kind.AGREEMENT)
    errors = invalid(
        agreement,
        lambda: services.update_content(
            agreement, actor=staff, content=drafts.content(parent=agreement)
        ),
    )
    assert errors == {"parent": ["Choose an information sharing protocol of this school."]}


# --- From an approved proposal -------------------------------------------------------


def approved_proposal(world: World, organisation: Organisation | None = None) -> Any:
    school = world.school if organisation is None else world.other
    proposal = proposal_drafts.assessed(
        school.organisation, school["staff"], school["dpo"], world.local_authority
    )
    return proposal_services.decide_proposal(
        proposal,
        actor=school["headteacher"],
        decision=proposal_drafts.decision(
            outcome=Outcome.APPROVED_WITH_CONDITIONS, conditions="Review the list each term."
        ),
    )


def test_an_agreement_from_an_approved_proposal_is_prefilled_and_linked(world):
    proposal = approved_proposal(world)
    content, parties = services.content_from_proposal(proposal)
    assert content.title == proposal.name
    assert content.purpose == f"{proposal.purpose_described}\n\n{proposal.why_personal_data}"
    assert content.data_shared == proposal.information_shared
    assert list(content.categories) == list(proposal.categories.all())
    assert content.security_measures == "Conditions of approval: Review the list each term."
    assert [(p.organisation, p.role) for p in parties] == [
        (world.school.organisation, PartyRole.CONTROLLER),
        (world.local_authority, PartyRole.CONTROLLER),
    ]
    staff = world.school["staff"]
    agreement = services.create_agreement(
        world.school.organisation,
        actor=staff,
        kind=Kind.AGREEMENT,
        content=content,
        parties=parties,
        proposal=proposal,
    )
    agreement = fresh(agreement)
    assert agreement.proposal == proposal
    assert list(proposal.agreements.all()) == [agreement]
    assert agreement.title == proposal.name
    assert agreement.data_shared == proposal.information_shared
    assert agreement.parties.count() == 2
    assert_event(
        "agreement.created",
        agreement,
        staff,
        {"kind": "agreement", "title": proposal.name, "proposal": proposal.reference},
    )


def test_an_unapproved_or_another_schools_proposal_gives_no_agreement(world, subtests):
    school = world.school
    undecided = proposal_drafts.assessed(
        school.organisation, school["staff"], school["dpo"], world.local_authority
    )
    cancelled = proposal_services.decide_proposal(
        proposal_drafts.assessed(
            school.organisation, school["staff"], school["dpo"], world.local_authority
        ),
        actor=school["headteacher"],
        decision=proposal_drafts.decision(outcome=Outcome.CANCELLED, reasons="Too risky."),
    )
    theirs = approved_proposal(world, world.other.organisation)
    for proposal in (undecided, cancelled, theirs):
        with subtests.test(proposal=proposal.reference, status=proposal.status):
            errors = invalid(
                None,
                partial(
                    services.create_agreement,
                    school.organisation,
                    actor=school["staff"],
                    kind=Kind.AGREEMENT,
                    content=drafts.content(),
                    proposal=proposal,
                ),
            )
            assert errors == {
                "proposal": ["Only an approved proposal of this school gives an agreement."]
            }


# --- Parties --------------------------------------------------------------------------


def test_the_drafter_adds_and_removes_parties(world):
    staff = world.school["staff"]
    agreement = at(world, Status.DRAFT)
    party = services.add_party(
        agreement, actor=staff, answers=PartyAnswers(world.dfe, PartyRole.JOINT_CONTROLLER)
    )
    assert (party.organisation, party.role, party.position) == (
        world.dfe,
        PartyRole.JOINT_CONTROLLER,
        2,
    )
    assert_event(
        "agreement.party_added",
        agreement,
        staff,
        {"party": "Department for Education", "role": "joint_controller"},
    )
    services.remove_party(party, actor=staff)
    assert not Party.objects.filter(pk=party.pk).exists()
    assert_event("agreement.party_removed", agreement, staff, {"party": "Department for Education"})


def test_a_party_twice_or_without_a_role_is_refused(world):
    staff = world.school["staff"]
    agreement = at(world, Status.DRAFT)
    errors = invalid(
        agreement,
        lambda: services.add_party(
            agreement, actor=staff, answers=PartyAnswers(world.local_authority, "processor")
        ),
    )
    assert errors == {"organisation": ["Eastmoor Council is already a party."]}
    errors = invalid(
        agreement,
        lambda: services.add_party(agreement, actor=staff, answers=PartyAnswers(world.dfe, "")),
    )
    assert errors == {"role": ["Choose the party's role."]}


def test_the_school_itself_cannot_be_removed(world):
    agreement = at(world, Status.DRAFT)
    own = agreement.parties.get(organisation=world.school.organisation)
    errors = invalid(agreement, lambda: services.remove_party(own, actor=world.school["staff"]))
    assert errors == {"party": ["The school is always a party to its own agreements."]}


# --- The Article 28(3) checklist -------------------------------------------------------


def test_the_drafter_marks_each_point_present_at_a_clause_or_justified(world):
    staff = world.school["staff"]
    dpa = at(world, Status.DRAFT, kind=Kind.DPA)  # every point present at a clause
    services.set_dpa_clauses(
        dpa,
        actor=staff,
        answers=[
            ClauseAnswers("c", False, clause_reference="ignored", justification=" Paper only. "),
            ClauseAnswers("g", True, clause_reference=" Clause 12 ", justification="ignored"),
            ClauseAnswers("h", None),
        ],
    )
    clauses = {clause.point: clause for clause in dpa.clauses.all()}
    assert (clauses["c"].present, clauses["c"].clause_reference, clauses["c"].justification) == (
        False,
        "",
        "Paper only.",
    )
    assert (clauses["g"].present, clauses["g"].clause_reference, clauses["g"].justification) == (
        True,
        "Clause 12",
        "",
    )
    assert clauses["h"].present is None
    # The points not answered this time keep their answers.
    assert clauses["a"].clause_reference == "Schedule 2, clause 1"
    assert_event(
        "agreement.checklist_changed",
        dpa,
        staff,
        {"settled": ["a", "b", "c", "d", "e", "f", "g"]},
    )


def test_a_point_present_without_a_clause_or_absent_without_a_reason_is_refused(world):
    dpa = at(world, Status.DRAFT, kind=Kind.DPA)
    errors = invalid(
        dpa,
        lambda: services.set_dpa_clauses(
            dpa,
            actor=world.school["staff"],
            answers=[
                ClauseAnswers("a", True, clause_reference="  "),
                ClauseAnswers("e", False, justification=" "),
                ClauseAnswers("f", True, clause_reference="Clause 6"),
            ],
        ),
    )
    assert errors == {
        "clause_a": ["Give the clause where point (a) is found."],
        "justification_e": ["Say why the contract does without point (e)."],
    }


def test_an_isa_has_no_checklist(world):
    agreement = at(world, Status.DRAFT)
    errors = invalid(
        agreement,
        lambda: services.set_dpa_clauses(
            agreement, actor=world.school["staff"], answers=drafts.clauses_all_present()
        ),
    )
    assert errors == {
        NON_FIELD_ERRORS: ["Only a data processing agreement has the Article 28 checklist."]
    }


def test_an_unknown_point_is_refused_as_bad_input(world):
    """There are eight points, (a) to (h); any other is a bad answer, not a crash."""
    dpa = at(world, Status.DRAFT, kind=Kind.DPA)
    with unchanged(dpa), pytest.raises(ValidationError):
        services.set_dpa_clauses(
            dpa, actor=world.school["staff"], answers=[ClauseAnswers("i", True, "Clause 9")]
        )


def dpa_advised_with(world: World, answers: list[ClauseAnswers]) -> Agreement:
    """A DPA whose checklist is answered as given, through the DPO's advice."""
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    dpa = services.create_agreement(
        school,
        actor=staff,
        kind=Kind.DPA,
        content=drafts.content(title="Online payments"),
        parties=[PartyAnswers(world.dfe, PartyRole.PROCESSOR)],
    )
    if answers:
        services.set_dpa_clauses(dpa, actor=staff, answers=answers)
    services.request_advice(dpa, actor=staff)
    return services.advise_on_agreement(dpa, actor=dpo, advice="Settle the checklist first.")


def test_a_dpa_is_not_approved_until_every_point_is_present_or_justified(world):
    head, staff = world.school["headteacher"], world.school["staff"]
    answers = drafts.clauses_all_present()
    answers[2] = ClauseAnswers("c", None)  # not answered
    dpa = dpa_advised_with(world, [a for a in answers if a.point != "g"])  # (g) left out
    errors = invalid(dpa, lambda: services.approve_agreement(dpa, actor=head))
    assert errors == {
        "checklist": [
            "Article 28(3) points (c), (g) are neither present in the contract nor justified."
        ]
    }
    # The drafter takes it back, settles (c) and justifies (g), and it goes round again.
    services.revise_agreement(dpa, actor=staff)
    services.set_dpa_clauses(
        dpa,
        actor=staff,
        answers=[
            ClauseAnswers("c", True, clause_reference="Clause 7"),
            ClauseAnswers("g", False, justification="The school keeps the only copy."),
        ],
    )
    services.request_advice(dpa, actor=staff)
    services.advise_on_agreement(dpa, actor=world.school["dpo"], advice="Settled now.")
    services.approve_agreement(dpa, actor=head)
    assert fresh(dpa).status == Status.APPROVED
    version = fresh(dpa).versions.get()
    assert version.content["Article 28(3)(c)"] == "Present at Clause 7"
    assert version.content["Article 28(3)(g)"] == "Not present: The school keeps the only copy."


def test_a_dpa_without_any_checklist_answer_is_refused_naming_every_point(world):
    dpa = dpa_advised_with(world, [])
    errors = invalid(
        dpa, lambda: services.approve_agreement(dpa, actor=world.school["headteacher"])
    )
    assert errors == {
        "checklist": [
            "Article 28(3) points (a), (b), (c), (d), (e), (f), (g), (h) are neither present "
            "in the contract nor justified."
        ]
    }


# --- Asking for advice ------------------------------------------------------------------


def test_the_drafter_asks_the_dpo_for_advice(world):
    staff = world.school["staff"]
    agreement = at(world, Status.DRAFT)
    services.request_advice(agreement, actor=staff)
    agreement = fresh(agreement)
    assert agreement.status == Status.ADVICE_REQUESTED
    assert agreement.advice_requested_by == staff
    assert agreement.advice_requested_at is not None
    assert_event("agreement.advice_requested", agreement, staff, {"version": 1})


def test_advice_is_not_asked_for_with_content_missing(world):
    staff = world.school["staff"]
    agreement = services.create_agreement(
        world.school.organisation,
        actor=staff,
        kind=Kind.AGREEMENT,
        content=Content(title="Attendance"),
    )
    errors = invalid(agreement, lambda: services.request_advice(agreement, actor=staff))
    assert errors == {
        "purpose": ["Say what the sharing is for."],
        "data_shared": ["Say what data is shared."],
        "method": ["Say how the data is shared."],
        "security_measures": ["Describe the security measures."],
        "retention": ["Say how long the data is kept."],
        "return_or_disposal": ["Say how the data is returned or disposed of at the end."],
        "lawful_bases": ["Choose the lawful basis for the sharing."],
        "start_date": ["Give the date the agreement starts."],
        "parties": ["Add the other party or parties."],
    }


def test_a_protocol_needs_only_its_principles_and_a_dpa_needs_its_processor(world):
    school, staff = world.school.organisation, world.school["staff"]
    protocol = services.create_agreement(
        school, actor=staff, kind=Kind.PROTOCOL, content=Content(title="Trust protocol")
    )
    assert services.content_gaps(protocol) == {
        "purpose": "Say what the sharing is for.",
        "security_measures": "Describe the security measures.",
        "start_date": "Give the date the agreement starts.",
        "parties": "Add the other party or parties.",
    }
    dpa = services.create_agreement(
        school,
        actor=staff,
        kind=Kind.DPA,
        content=drafts.content(),
        parties=[PartyAnswers(world.dfe, PartyRole.CONTROLLER)],
    )
    assert services.content_gaps(dpa) == {
        "parties": "A data processing agreement needs the processor as a party."
    }


# --- The DPO's advice -----------------------------------------------------------------


def test_the_dpo_advises_and_cannot_approve(world):
    dpo = world.trust_dpo
    agreement = at(world, Status.ADVICE_REQUESTED)
    services.advise_on_agreement(agreement, actor=dpo, advice="  Shorten the retention.  ")
    agreement = fresh(agreement)
    assert agreement.status == Status.ADVISED
    assert agreement.advice == "Shorten the retention."
    assert agreement.advised_by == dpo
    assert agreement.advised_at is not None
    assert_event("agreement.advised", agreement, dpo, {"version": 1})
    # Advice only: the DPO may never approve (Appendix A step 5).
    message = forbidden(agreement, lambda: services.approve_agreement(agreement, actor=dpo))
    assert message.startswith("Only the headteacher or the chair of governors approves")
    assert not actions_for(agreement, dpo).approve


def test_advice_must_be_written(world):
    agreement = at(world, Status.ADVICE_REQUESTED)
    errors = invalid(
        agreement,
        lambda: services.advise_on_agreement(agreement, actor=world.school["dpo"], advice="  "),
    )
    assert errors == {"advice": ["Write your advice on the agreement."]}


def test_the_drafter_takes_the_advice_back_into_the_draft(world):
    staff = world.school["staff"]
    agreement = at(world, Status.ADVISED)
    services.revise_agreement(agreement, actor=staff)
    agreement = fresh(agreement)
    assert agreement.status == Status.DRAFT
    assert agreement.advice  # kept to work from until new advice replaces it
    assert_event("agreement.revised", agreement, staff, {"version": 1})
    services.update_content(agreement, actor=staff, content=drafts.content(retention="1 year"))
    services.request_advice(agreement, actor=staff)
    assert fresh(agreement).status == Status.ADVICE_REQUESTED


# --- Approval -------------------------------------------------------------------------


def test_the_headteacher_approves_and_the_agreement_goes_on_the_register(world):
    head = world.school["headteacher"]
    agreement = at(world, Status.ADVISED)
    services.approve_agreement(agreement, actor=head, notes="  Approved as advised.  ")
    agreement = fresh(agreement)
    assert agreement.status == Status.APPROVED
    assert agreement.approved_by == head
    assert agreement.approved_at is not None
    assert agreement.approval_notes == "Approved as advised."
    assert agreement.review_period_starts == timezone.localdate()
    assert agreement.version == 1
    version = agreement.versions.get()
    assert version.number == 1
    assert version.approved_by == head
    assert version.changes == []
    assert version.content["Title"] == agreement.title
    assert version.content["Purpose"] == agreement.purpose
    assert version.content["Party 1"] == "Alder Primary School (Controller)"
    assert version.content["Party 2"] == "Eastmoor Council (Controller)"
    assert version.content["Review interval"] == "12 months"
    assert_event("agreement.approved", agreement, head, {"version": 1, "changed": []})


def test_nobody_approves_what_they_drafted(world):
    school, head, chair = (
        world.school.organisation,
        world.school["headteacher"],
        world.school["chair"],
    )
    agreement = drafts.advised(school, head, world.school["dpo"], world.local_authority)
    actions = actions_for(agreement, head)
    assert not actions.approve
    assert actions.approve_refused_because.startswith("You drafted this version")
    message = forbidden(agreement, lambda: services.approve_agreement(agreement, actor=head))
    assert message == services.REFUSALS["approve"]
    # The chair approves it instead.
    assert actions_for(agreement, chair).approve
    services.approve_agreement(agreement, actor=chair)
    assert fresh(agreement).approved_by == chair


# --- Withdrawal -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.DRAFT, Status.ADVICE_REQUESTED, Status.ADVISED])
def test_a_first_draft_is_withdrawn_with_its_reasons_and_kept(world, status):
    chair = world.school["chair"]
    agreement = at(world, status)
    services.withdraw_agreement(agreement, actor=chair, reasons="  The council said no.  ")
    agreement = fresh(agreement)
    assert agreement.status == Status.WITHDRAWN
    assert agreement.withdrawn_reasons == "The council said no."
    assert agreement.withdrawn_by == chair
    assert agreement.withdrawn_at is not None
    assert_event("agreement.withdrawn", agreement, chair, {"from": status})


def test_a_withdrawal_needs_reasons(world):
    agreement = at(world, Status.DRAFT)
    errors = invalid(
        agreement,
        lambda: services.withdraw_agreement(agreement, actor=world.school["staff"], reasons=" "),
    )
    assert errors == {"reasons": ["Give the reason for withdrawing the agreement."]}


def test_an_amendment_is_not_withdrawn(world):
    """Only first drafts are withdrawn: version 1 of an amended agreement is still in force."""
    agreement = amended(world)
    assert agreement.version == 2
    out_of_order(
        agreement,
        lambda: services.withdraw_agreement(
            agreement, actor=world.school["headteacher"], reasons="Keep version 1."
        ),
    )


# --- What each person is offered ------------------------------------------------------


def offered(agreement: Agreement, user: User) -> set[str]:
    """The names of the steps `actions_for` offers `user`."""
    actions = actions_for(agreement, user).__dict__
    return {name for name, value in actions.items() if value is True}


def test_the_actions_offered_follow_the_status_and_the_person(world):
    draft = at(world, Status.DRAFT)
    staff, dpo, head = world.school["staff"], world.school["dpo"], world.school["headteacher"]
    assert offered(draft, staff) == {"edit", "request_advice", "withdraw"}
    assert offered(draft, head) == {"withdraw"}
    assert offered(draft, dpo) == set()
    assert offered(draft, world.school["auditor"]) == set()
    approved = at(world, Status.APPROVED)
    assert offered(approved, staff) == {"record_signatures", "upload_signed_copy"}
    assert offered(approved, head) == {
        "record_signatures",
        "upload_signed_copy",
        "start_review",
        "terminate",
    }
    assert offered(approved, world.school["information_manager"]) == {
        "record_signatures",
        "upload_signed_copy",
        "start_review",
    }
    assert offered(approved, world.other["headteacher"]) == set()
    # A withdrawn or expired agreement offers nothing to anyone.
    for status in (Status.WITHDRAWN, Status.EXPIRED):
        agreement = at(world, status)
        for user in (staff, dpo, head):
            assert offered(agreement, user) == set(), (status, user)
