"""An agreement in force: signatures, the signed copy, review, amendment, termination, expiry.

As in test_services.py, each step is taken by those allowed, refused to those
who may never take it, refused out of order with the message naming where the
agreement stands, and refused with bad answers, changing nothing.
"""

from __future__ import annotations

import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from infoshare.agreements import lifecycle, services
from infoshare.agreements.lifecycle import (
    DataFateAnswers,
    PartyConsent,
    Signature,
    Termination,
)
from infoshare.agreements.models import (
    REVIEW_NOTICE,
    Agreement,
    DataFate,
    Kind,
    ReviewOutcome,
    Status,
    Tag,
    add_months,
)
from infoshare.audit.models import AuditEvent
from infoshare.core import uploads
from tests.agreements import drafts
from tests.agreements.test_services import (
    assert_event,
    at,
    forbidden,
    fresh,
    invalid,
    out_of_order,
    person,
    verbs_since,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from infoshare.core.models import User
    from tests.conftest import World

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = timezone.localdate
ONE_DAY = datetime.timedelta(days=1)
NOT_A_PDF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def signature(**changes: Any) -> Signature:
    values = {
        "signatory_name": "Priya Shah",
        "signatory_role": "Director of Children's Services",
        "signed_on": TODAY(),
        **changes,
    }
    return Signature(**values)


def consents(agreement: Agreement, on: datetime.date | None = None) -> list[PartyConsent]:
    on = on or TODAY()
    return [
        PartyConsent(party, agreed_by=f"For {party.organisation}", agreed_on=on)
        for party in agreement.parties.select_related("organisation")
    ]


def termination(agreement: Agreement, **changes: Any) -> Termination:
    values = {
        "reasons": "The inclusion team has closed.",
        "disposal_arrangement": "The council deletes every record and sends a certificate.",
        "consents": consents(agreement),
        **changes,
    }
    return Termination(**values)


def fate(**changes: Any) -> DataFateAnswers:
    values = {
        "fate": DataFate.DESTROYED,
        "on": TODAY(),
        "details": "Certificate received.",
        "evidence": drafts.pdf_upload("certificate.pdf"),
        **changes,
    }
    return DataFateAnswers(**values)


# --- Each step, taken by someone, with valid answers ---------------------------------

STEPS: dict[str, Callable[[Agreement, User], object]] = {
    "record_signature": lambda a, actor: lifecycle.record_signature(
        a.parties.all()[1], actor=actor, signature=signature()
    ),
    "upload_signed_copy": lambda a, actor: lifecycle.upload_signed_copy(
        a, actor=actor, upload=drafts.pdf_upload()
    ),
    "start_review": lambda a, actor: lifecycle.start_review(a, actor=actor),
    "complete_review": lambda a, actor: lifecycle.complete_review(
        a, actor=actor, answers=drafts.review()
    ),
    "terminate": lambda a, actor: lifecycle.terminate_agreement(
        a, actor=actor, termination=termination(a)
    ),
    "confirm_data_fate": lambda a, actor: lifecycle.confirm_data_fate(
        a, actor=actor, answers=fate()
    ),
}
READY_AT = {
    "record_signature": Status.APPROVED,
    "upload_signed_copy": Status.APPROVED,
    "start_review": Status.APPROVED,
    "complete_review": Status.UNDER_REVIEW,
    "terminate": Status.APPROVED,
    "confirm_data_fate": Status.TERMINATED,
}
VERBS = {
    "record_signature": "agreement.signature_recorded",
    "upload_signed_copy": "agreement.signed_copy_uploaded",
    "start_review": "agreement.review_started",
    "complete_review": "agreement.reviewed",
    "terminate": "agreement.terminated",
    "confirm_data_fate": "agreement.expired",
}
ACTION = {"record_signature": "record_signatures"}
# 'staff' drafted the agreement; the register's keepers are the DPO, the information
# manager, the headteacher and the chair.
KEEPERS = ["dpo", "trust_dpo", "information_manager", "headteacher", "chair"]
ALLOWED = {
    "record_signature": [*KEEPERS, "staff"],
    "upload_signed_copy": [*KEEPERS, "staff"],
    "start_review": KEEPERS,
    "complete_review": KEEPERS,
    "terminate": ["headteacher", "chair"],
    "confirm_data_fate": KEEPERS,
}
REFUSED = {
    "record_signature": ["volunteer", "dsl", "auditor", "other:information_manager"],
    "upload_signed_copy": ["volunteer", "auditor", "other:dpo"],
    "start_review": ["staff", "dsl", "volunteer", "auditor", "other:headteacher"],
    "complete_review": ["staff", "deputy_dsl", "auditor", "other:dpo"],
    "terminate": [
        "staff",
        "dpo",
        "trust_dpo",
        "information_manager",
        "auditor",
        "other:headteacher",
    ],
    "confirm_data_fate": ["staff", "volunteer", "auditor", "other:information_manager"],
}


def ready_for(world: World, step: str) -> Agreement:
    return at(world, READY_AT[step])


@pytest.mark.parametrize(
    ("step", "who"), [(step, who) for step, people in ALLOWED.items() for who in people]
)
def test_a_step_is_taken_by_those_allowed_and_audited_under_their_name(world, step, who):
    agreement = ready_for(world, step)
    actor = person(world, who)
    before = AuditEvent.objects.count()
    STEPS[step](agreement, actor)
    assert verbs_since(before) == [VERBS[step]]
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert event.actor == actor
    assert event.object_id == agreement.reference


@pytest.mark.parametrize("step", list(REFUSED))
def test_a_step_is_refused_to_anyone_else(world, step, subtests):
    agreement = ready_for(world, step)
    for who in REFUSED[step]:
        with subtests.test(who=who):
            message = forbidden(
                agreement, partial(STEPS[step], fresh(agreement), person(world, who))
            )
            assert message == services.REFUSALS[ACTION.get(step, step)]


IN_ORDER: dict[str, set[str]] = {
    Status.APPROVED: {"record_signature", "upload_signed_copy", "start_review", "terminate"},
    Status.UNDER_REVIEW: {"record_signature", "upload_signed_copy", "complete_review", "terminate"},
    Status.TERMINATED: {"confirm_data_fate"},
}


@pytest.mark.parametrize("status", list(Status))
def test_every_step_out_of_order_is_refused_with_where_the_agreement_stands(
    world, status, subtests
):
    agreement = at(world, status)
    head = world.school["headteacher"]  # who may take every one of these steps in time
    for step, call in STEPS.items():
        if step in IN_ORDER.get(status, set()):
            continue
        with subtests.test(step=step):
            out_of_order(agreement, partial(call, fresh(agreement), head))


def test_a_completed_review_cannot_be_completed_again(world):
    agreement = at(world, Status.UNDER_REVIEW)
    keeper = world.school["information_manager"]
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="terminate", outcome_reasons="Not needed any more."),
    )
    # It waits under review for the termination, with no review open.
    assert fresh(agreement).status == Status.UNDER_REVIEW
    out_of_order(
        agreement,
        lambda: lifecycle.complete_review(agreement, actor=keeper, answers=drafts.review()),
    )


def test_when_the_parties_do_not_agree_to_terminate_a_new_review_may_continue_it(world):
    """A review that decided to terminate is not a dead end: a new review decides again."""
    agreement = at(world, Status.UNDER_REVIEW)
    keeper = world.school["information_manager"]
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="terminate", outcome_reasons="Not needed any more."),
    )
    assert services.actions_for(fresh(agreement), keeper).start_review
    review = lifecycle.start_review(fresh(agreement), actor=keeper)
    assert not review.is_complete
    out_of_order(agreement, lambda: lifecycle.start_review(fresh(agreement), actor=keeper))
    lifecycle.complete_review(fresh(agreement), actor=keeper, answers=drafts.review())
    assert fresh(agreement).status == Status.APPROVED


# --- Signatures and the signed copy ------------------------------------------------------


def test_a_keeper_records_a_partys_signature(world):
    keeper = world.school["information_manager"]
    agreement = at(world, Status.APPROVED)
    party = agreement.parties.get(organisation=world.local_authority)
    signed_on = TODAY() - ONE_DAY
    lifecycle.record_signature(
        party,
        actor=keeper,
        signature=signature(signatory_name="  Priya Shah ", signed_on=signed_on),
    )
    party.refresh_from_db()
    assert (party.signatory_name, party.signatory_role, party.signed_on) == (
        "Priya Shah",
        "Director of Children's Services",
        signed_on,
    )
    assert party.has_signed
    assert_event(
        "agreement.signature_recorded",
        agreement,
        keeper,
        {"party": "Eastmoor Council", "signed_on": signed_on.isoformat()},
    )


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"signatory_name": " "}, {"signatory_name": ["Give the name of the person who signed."]}),
        ({"signatory_role": ""}, {"signatory_role": ["Give their role, like 'Headteacher'."]}),
        ({"signed_on": None}, {"signed_on": ["Give the date they signed."]}),
        (
            {"signed_on": datetime.date.today() + datetime.timedelta(days=2)},
            {"signed_on": ["The date signed must be today or in the past."]},
        ),
    ],
)
def test_a_signature_with_a_bad_answer_is_refused(world, changes, errors):
    agreement = at(world, Status.APPROVED)
    party = agreement.parties.get(organisation=world.local_authority)
    assert (
        invalid(
            agreement,
            lambda: lifecycle.record_signature(
                party, actor=world.school["dpo"], signature=signature(**changes)
            ),
        )
        == errors
    )


def test_the_signed_copy_is_stored_under_a_name_of_its_own(world):
    keeper = world.school["dpo"]
    agreement = at(world, Status.APPROVED)
    upload = drafts.pdf_upload("Signed by all ../../etc.pdf")
    lifecycle.upload_signed_copy(agreement, actor=keeper, upload=upload)
    agreement = fresh(agreement)
    name = agreement.signed_copy.name
    assert name.startswith(f"agreements/{agreement.organisation_id}/")
    assert name.endswith(".pdf")
    assert "Signed" not in name
    with agreement.signed_copy.open("rb") as stored:
        assert stored.read() == drafts.PDF
    assert agreement.signed_copy_uploaded_by == keeper
    assert agreement.signed_copy_uploaded_at is not None
    assert_event(
        "agreement.signed_copy_uploaded",
        agreement,
        keeper,
        {"version": 1, "bytes": len(drafts.PDF)},
    )


def test_a_signed_copy_that_is_not_a_pdf_is_refused_and_not_stored(world):
    agreement = at(world, Status.APPROVED)
    upload = SimpleUploadedFile("signed.pdf", NOT_A_PDF, content_type="application/pdf")
    errors = invalid(
        agreement,
        lambda: lifecycle.upload_signed_copy(agreement, actor=world.school["dpo"], upload=upload),
    )
    assert errors == {"signed_copy": ["The file must be a PDF."]}
    assert stored_files() == []


def test_a_missing_signed_copy_is_refused(world):
    agreement = at(world, Status.APPROVED)
    errors = invalid(
        agreement,
        lambda: lifecycle.upload_signed_copy(
            agreement,
            actor=world.school["dpo"],
            upload=None,  # type: ignore[arg-type]
        ),
    )
    assert errors == {"signed_copy": ["Choose a PDF file to upload."]}


def test_a_signed_copy_over_the_size_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1024 * 1024)
    agreement = at(world, Status.APPROVED)
    too_big = drafts.pdf_upload(content=drafts.PDF + b"%" * (1024 * 1024))
    errors = invalid(
        agreement,
        lambda: lifecycle.upload_signed_copy(agreement, actor=world.school["dpo"], upload=too_big),
    )
    assert errors == {"signed_copy": ["The file must be smaller than 1 MB."]}
    assert stored_files() == []
    # Exactly at the limit is allowed.
    at_limit = drafts.pdf_upload(content=drafts.PDF.ljust(1024 * 1024, b"%"))
    lifecycle.upload_signed_copy(agreement, actor=world.school["dpo"], upload=at_limit)
    assert len(stored_files()) == 1


# --- Review ----------------------------------------------------------------------------


def test_a_keeper_starts_a_review_of_the_version_in_force(world):
    dpo = world.trust_dpo
    agreement = at(world, Status.APPROVED)
    review = lifecycle.start_review(agreement, actor=dpo)
    assert fresh(agreement).status == Status.UNDER_REVIEW
    assert fresh(agreement).tag() == Tag.UNDER_REVIEW
    assert review.version == 1
    assert review.started_by == dpo
    assert not review.is_complete
    assert services.open_review(agreement) == review
    assert_event("agreement.review_started", agreement, dpo, {"version": 1})


def test_a_review_records_the_policys_questions_and_continues_the_agreement(world):
    keeper = world.school["information_manager"]
    agreement = at(world, Status.UNDER_REVIEW)
    answers = drafts.review(
        scope_notes="  Still weekly.  ",
        elements_complied=False,
        compliance_notes="One upload was late in March.",
        law_or_practice_changed=True,
        law_notes="New attendance guidance from August.",
    )
    review = lifecycle.complete_review(agreement, actor=keeper, answers=answers)
    review.refresh_from_db()
    assert review.is_complete
    assert review.completed_by == keeper
    assert (
        review.scope_still_relevant,
        review.benefits_realised,
        review.elements_complied,
        review.law_or_practice_changed,
    ) == (True, True, False, True)
    assert review.scope_notes == "Still weekly."
    assert review.compliance_notes == "One upload was late in March."
    assert review.law_notes == "New attendance guidance from August."
    assert review.outcome == ReviewOutcome.CONTINUE
    assert review.next_interval_months == 12
    agreement = fresh(agreement)
    assert agreement.status == Status.APPROVED
    assert agreement.version == 1
    assert_event(
        "agreement.reviewed", agreement, keeper, {"outcome": "continue", "status": "approved"}
    )


def test_continuing_restarts_the_review_period_from_the_review_date(world):
    """Approved 10 March 2025, reviewed 20 February 2026 (in its notice period), continued
    for 12 months: the next review falls due 20 February 2027, not 10 March."""
    school = world.school
    with time_machine.travel(at_noon(datetime.date(2025, 3, 10)), tick=False):
        agreement = at(world, Status.APPROVED)
    assert agreement.review_due == datetime.date(2026, 3, 10)
    reviewed_on = datetime.date(2026, 2, 20)
    with time_machine.travel(at_noon(reviewed_on), tick=False):
        assert fresh(agreement).tag() == Tag.REVIEW_DUE
        lifecycle.start_review(agreement, actor=school["dpo"])
        lifecycle.complete_review(agreement, actor=school["dpo"], answers=drafts.review())
    agreement = fresh(agreement)
    assert agreement.review_period_starts == reviewed_on
    due = datetime.date(2027, 2, 20)
    assert agreement.review_due == due
    assert agreement.tag(datetime.date(2026, 3, 11)) == Tag.ACTIVE  # no longer overdue
    assert agreement.tag(due - REVIEW_NOTICE - ONE_DAY) == Tag.ACTIVE
    assert agreement.tag(due - REVIEW_NOTICE) == Tag.REVIEW_DUE
    assert agreement.tag(due) == Tag.REVIEW_DUE
    assert agreement.tag(due + ONE_DAY) == Tag.REVIEW_OVERDUE


def test_an_overdue_agreement_reviewed_late_counts_from_the_review(world):
    with time_machine.travel(at_noon(datetime.date(2025, 3, 10)), tick=False):
        agreement = at(world, Status.APPROVED)
    late = datetime.date(2026, 5, 4)
    with time_machine.travel(at_noon(late), tick=False):
        assert fresh(agreement).tag() == Tag.REVIEW_OVERDUE
        lifecycle.start_review(agreement, actor=world.school["chair"])
        lifecycle.complete_review(
            agreement,
            actor=world.school["chair"],
            answers=drafts.review(next_interval_months=6),
        )
        assert fresh(agreement).tag() == Tag.ACTIVE
    agreement = fresh(agreement)
    assert agreement.review_interval_months == 6
    assert agreement.review_due == datetime.date(2026, 11, 4)


def test_a_longer_interval_after_review_needs_a_justification(world):
    agreement = at(world, Status.UNDER_REVIEW)
    dpo = world.school["dpo"]
    errors = invalid(
        agreement,
        lambda: lifecycle.complete_review(
            agreement, actor=dpo, answers=drafts.review(next_interval_months=18)
        ),
    )
    assert errors == {
        "next_interval_justification": [
            "A review interval longer than 12 months needs a justification (the policy asks "
            "for at least an annual review)."
        ]
    }
    for months in (0, 37):
        errors = invalid(
            agreement,
            partial(
                lifecycle.complete_review,
                agreement,
                actor=dpo,
                answers=drafts.review(next_interval_months=months),
            ),
        )
        assert errors == {
            "next_interval_months": ["The review interval must be between 1 and 36 months."]
        }
    justification = "The census data is shared once a year; the next census is in 18 months."
    lifecycle.complete_review(
        agreement,
        actor=dpo,
        answers=drafts.review(next_interval_months=18, next_interval_justification=justification),
    )
    agreement = fresh(agreement)
    assert agreement.review_interval_months == 18
    assert agreement.review_interval_justification == justification
    assert agreement.review_due == add_months(TODAY(), 18)


def test_a_review_with_questions_unanswered_is_refused_naming_each(world):
    agreement = at(world, Status.UNDER_REVIEW)
    answers = drafts.review(
        scope_still_relevant=None,
        benefits_realised=None,
        elements_complied=None,
        law_or_practice_changed=None,
        outcome="",
    )
    errors = invalid(
        agreement,
        lambda: lifecycle.complete_review(agreement, actor=world.school["dpo"], answers=answers),
    )
    assert errors == {
        "scope_still_relevant": ["Say whether the scope and purpose are still relevant."],
        "benefits_realised": ["Say whether the benefits to the data subjects are being realised."],
        "elements_complied": ["Say whether every element is being complied with."],
        "law_or_practice_changed": ["Say whether legislation or practice have changed."],
        "outcome": ["Choose whether to continue, amend or terminate the agreement."],
    }
    assert services.open_review(agreement) is not None


@pytest.mark.parametrize("outcome", [ReviewOutcome.AMEND, ReviewOutcome.TERMINATE])
def test_amending_or_terminating_after_review_needs_reasons(world, outcome):
    agreement = at(world, Status.UNDER_REVIEW)
    errors = invalid(
        agreement,
        lambda: lifecycle.complete_review(
            agreement,
            actor=world.school["dpo"],
            answers=drafts.review(outcome=outcome, outcome_reasons="  "),
        ),
    )
    assert errors == {"outcome_reasons": ["Give the reasons for amending or terminating it."]}


# --- Amendment: a new version, the old one kept ------------------------------------------


def signed_and_amended(world: World) -> Agreement:
    """Version 1 approved, signed by both parties with a signed copy, then sent for amendment."""
    keeper = world.school["information_manager"]
    agreement = drafts.signed(at(world, Status.APPROVED), keeper)
    agreement = drafts.under_review(agreement, keeper)
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="  The portal is replaced.  "),
    )
    return fresh(agreement)


def test_amending_drafts_version_2_by_the_reviewer_and_files_version_1s_signatures(world):
    keeper = world.school["information_manager"]
    before = fresh(drafts.signed(at(world, Status.APPROVED), keeper))
    signed_copy = before.signed_copy.name
    agreement = drafts.under_review(before, keeper)
    lifecycle.complete_review(
        agreement,
        actor=keeper,
        answers=drafts.review(outcome="amend", outcome_reasons="The portal is replaced."),
    )
    agreement = fresh(agreement)
    assert agreement.status == Status.DRAFT
    assert agreement.version == 2
    assert agreement.is_amendment
    assert agreement.version_in_force == 1
    assert agreement.drafted_by == keeper
    assert (agreement.advice, agreement.advised_by, agreement.advised_at) == ("", None, None)
    # Version 2 is signed afresh; version 1 keeps its signatures and signed copy.
    assert not agreement.signed_copy
    assert agreement.signed_copy_uploaded_by is None
    assert not any(party.has_signed for party in agreement.parties.all())
    first = agreement.versions.get(number=1)
    assert first.signed_copy.name == signed_copy
    with first.signed_copy.open("rb") as stored:
        assert stored.read() == drafts.PDF
    assert first.signatures == [
        {
            "party": "Alder Primary School",
            "name": "Signatory of Alder Primary School",
            "role": "Headteacher",
            "signed_on": TODAY().isoformat(),
        },
        {
            "party": "Eastmoor Council",
            "name": "Signatory of Eastmoor Council",
            "role": "Headteacher",
            "signed_on": TODAY().isoformat(),
        },
    ]
    assert_event("agreement.reviewed", agreement, keeper, {"outcome": "amend", "status": "draft"})


def test_version_2_is_approved_with_what_changed_and_version_1_stays_readable(world):
    keeper, staff = world.school["information_manager"], world.school["staff"]
    agreement = signed_and_amended(world)
    first_content = dict(agreement.versions.get(number=1).content)
    # The reviewer drafts version 2; the original drafter may no longer change it.
    forbidden(
        agreement,
        lambda: services.update_content(agreement, actor=staff, content=drafts.content()),
    )
    services.update_content(
        agreement,
        actor=keeper,
        content=drafts.content(
            method="Sent through the council's new data exchange.", frequency="Fortnightly"
        ),
    )
    services.request_advice(agreement, actor=keeper)
    services.advise_on_agreement(agreement, actor=world.school["dpo"], advice="Fine.")
    head = world.school["headteacher"]
    services.approve_agreement(agreement, actor=head)
    agreement = fresh(agreement)
    assert agreement.status == Status.APPROVED
    assert agreement.version == 2
    assert agreement.version_in_force == 2
    second = agreement.versions.get(number=2)
    assert second.changes == [
        {
            "field": "How it is shared",
            "before": "Uploaded each week to the local authority's secure portal.",
            "after": "Sent through the council's new data exchange.",
        },
        {"field": "How often", "before": "Weekly", "after": "Fortnightly"},
    ]
    assert second.amendment_reasons == "The portal is replaced."
    assert second.content["How it is shared"] == "Sent through the council's new data exchange."
    # Version 1 is as it was approved.
    first = agreement.versions.get(number=1)
    assert first.content == first_content
    assert first.content["How it is shared"] == (
        "Uploaded each week to the local authority's secure portal."
    )
    assert first.changes == []
    assert [v.number for v in agreement.versions.all()] == [2, 1]
    assert_event(
        "agreement.approved",
        agreement,
        head,
        {"version": 2, "changed": ["How it is shared", "How often"]},
    )


def test_while_version_2_is_drafted_the_register_shows_version_1_in_force(world):
    agreement = signed_and_amended(world)
    today = TODAY()
    # The review that sent it for amendment restarted the review period.
    assert agreement.review_period_starts == today
    assert agreement.tag(today) == Tag.ACTIVE
    assert agreement.amendment_tag == Tag.DRAFT
    in_force = Agreement.objects.tagged(Tag.ACTIVE, today)
    assert list(in_force) == [agreement]
    assert list(Agreement.objects.tagged(Tag.DRAFT, today)) == [agreement]
    a_year_on = add_months(today, 12)
    assert agreement.tag(a_year_on) == Tag.REVIEW_DUE
    assert list(Agreement.objects.tagged(Tag.REVIEW_DUE, a_year_on)) == [agreement]


def test_an_agreement_whose_amendment_is_being_drafted_may_be_terminated(world):
    agreement = signed_and_amended(world)
    head = world.school["headteacher"]
    assert services.actions_for(agreement, head).terminate
    lifecycle.terminate_agreement(agreement, actor=head, termination=termination(agreement))
    assert fresh(agreement).status == Status.TERMINATED


def test_a_first_draft_is_withdrawn_not_terminated(world):
    agreement = at(world, Status.DRAFT)
    head = world.school["headteacher"]
    assert not services.actions_for(agreement, head).terminate
    out_of_order(
        agreement,
        lambda: lifecycle.terminate_agreement(
            fresh(agreement), actor=head, termination=termination(agreement)
        ),
    )


def test_the_reviewer_who_drafted_version_2_may_not_approve_it(world):
    head = world.school["headteacher"]
    agreement = drafts.under_review(at(world, Status.APPROVED), head)
    lifecycle.complete_review(
        agreement, actor=head, answers=drafts.review(outcome="amend", outcome_reasons="Update.")
    )
    services.request_advice(agreement, actor=head)
    services.advise_on_agreement(agreement, actor=world.school["dpo"], advice="Fine.")
    forbidden(agreement, lambda: services.approve_agreement(agreement, actor=head))
    services.approve_agreement(agreement, actor=world.school["chair"])
    assert fresh(agreement).version_in_force == 2


# --- Termination ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.APPROVED, Status.UNDER_REVIEW])
def test_every_party_agrees_and_the_headteacher_terminates(world, status):
    head = world.school["headteacher"]
    agreement = at(world, status)
    agreed_on = TODAY() - datetime.timedelta(days=3)
    lifecycle.terminate_agreement(
        agreement,
        actor=head,
        termination=termination(
            agreement,
            reasons="  The team has closed. ",
            consents=consents(agreement, agreed_on),
        ),
    )
    agreement = fresh(agreement)
    assert agreement.status == Status.TERMINATED
    assert agreement.tag() == Tag.TERMINATED
    assert agreement.termination_reasons == "The team has closed."
    assert agreement.disposal_arrangement.startswith("The council deletes")
    assert agreement.terminated_by == head
    assert agreement.terminated_at is not None
    assert [
        (p.termination_agreed_by, p.termination_agreed_on) for p in agreement.parties.all()
    ] == [
        ("For Alder Primary School", agreed_on),
        ("For Eastmoor Council", agreed_on),
    ]
    assert all(party.agreed_to_terminate for party in agreement.parties.all())
    assert_event("agreement.terminated", agreement, head, {"version": 1})


def test_termination_without_one_partys_agreement_is_refused_on_that_party(world):
    agreement = at(world, Status.APPROVED)
    council = agreement.parties.get(organisation=world.local_authority)
    school_party = agreement.parties.get(organisation=world.school.organisation)
    only_the_school = [c for c in consents(agreement) if c.party == school_party]
    errors = invalid(
        agreement,
        lambda: lifecycle.terminate_agreement(
            agreement,
            actor=world.school["chair"],
            termination=termination(agreement, consents=only_the_school),
        ),
    )
    assert errors == {
        f"party_{council.uuid}": ["Record who agreed for Eastmoor Council, and when."]
    }


@pytest.mark.parametrize(
    ("agreed_by", "agreed_on", "message"),
    [
        ("  ", "today", "Record who agreed for Eastmoor Council, and when."),
        ("Priya Shah", None, "Record who agreed for Eastmoor Council, and when."),
        ("Priya Shah", "tomorrow", "The date agreed must be today or in the past."),
    ],
)
def test_a_partys_agreement_needs_a_name_and_a_date_not_in_the_future(
    world, agreed_by, agreed_on, message
):
    agreement = at(world, Status.APPROVED)
    council = agreement.parties.get(organisation=world.local_authority)
    day = {"today": TODAY(), "tomorrow": TODAY() + ONE_DAY, None: None}[agreed_on]
    given = [
        c if c.party != council else PartyConsent(council, agreed_by, day)
        for c in consents(agreement)
    ]
    errors = invalid(
        agreement,
        lambda: lifecycle.terminate_agreement(
            agreement,
            actor=world.school["headteacher"],
            termination=termination(agreement, consents=given),
        ),
    )
    assert errors == {f"party_{council.uuid}": [message]}


def test_termination_needs_reasons_and_the_arrangement_for_the_data(world):
    agreement = at(world, Status.APPROVED)
    errors = invalid(
        agreement,
        lambda: lifecycle.terminate_agreement(
            agreement,
            actor=world.school["headteacher"],
            termination=termination(agreement, reasons=" ", disposal_arrangement=""),
        ),
    )
    assert errors == {
        "reasons": ["Give the reasons for terminating the agreement."],
        "disposal_arrangement": [
            "Say how the data shared will be returned or securely disposed of."
        ],
    }


# --- What happened to the data: the agreement expires ----------------------------------------


def test_confirming_the_data_destroyed_with_a_certificate_expires_the_agreement(world):
    keeper = world.school["information_manager"]
    agreement = at(world, Status.TERMINATED)
    on = TODAY() - ONE_DAY
    lifecycle.confirm_data_fate(
        agreement, actor=keeper, answers=fate(on=on, details="  Certificate 42.  ")
    )
    agreement = fresh(agreement)
    assert agreement.status == Status.EXPIRED
    assert agreement.tag() == Tag.EXPIRED
    assert list(Agreement.objects.tagged(Tag.EXPIRED, TODAY())) == [agreement]
    assert agreement.data_fate == DataFate.DESTROYED
    assert agreement.data_fate_on == on
    assert agreement.data_fate_details == "Certificate 42."
    assert agreement.expired_by == keeper
    assert agreement.expired_at is not None
    assert agreement.disposal_evidence.name.startswith(f"agreements/{agreement.organisation_id}/")
    with agreement.disposal_evidence.open("rb") as stored:
        assert stored.read() == drafts.PDF
    assert_event("agreement.expired", agreement, keeper, {"fate": "destroyed", "evidence": True})


def test_the_data_fate_may_be_confirmed_without_evidence(world):
    dpo = world.school["dpo"]
    agreement = at(world, Status.TERMINATED)
    lifecycle.confirm_data_fate(
        agreement, actor=dpo, answers=fate(fate=DataFate.RETURNED, evidence=None)
    )
    agreement = fresh(agreement)
    assert agreement.status == Status.EXPIRED
    assert agreement.data_fate == DataFate.RETURNED
    assert not agreement.disposal_evidence
    assert stored_files() == []
    assert_event("agreement.expired", agreement, dpo, {"fate": "returned", "evidence": False})


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"fate": "lost"}, {"fate": ["Say whether the data was returned or destroyed."]}),
        ({"on": None}, {"on": ["Give the date the data was returned or destroyed."]}),
        (
            {"on": datetime.date.today() + datetime.timedelta(days=2)},
            {"on": ["The date must be today or in the past."]},
        ),
        (
            {"evidence": SimpleUploadedFile("certificate.pdf", NOT_A_PDF)},
            {"evidence": ["The file must be a PDF."]},
        ),
    ],
)
def test_a_data_fate_with_a_bad_answer_is_refused_and_nothing_stored(world, changes, errors):
    agreement = at(world, Status.TERMINATED)
    assert (
        invalid(
            agreement,
            lambda: lifecycle.confirm_data_fate(
                agreement, actor=world.school["dpo"], answers=fate(**changes)
            ),
        )
        == errors
    )
    assert stored_files() == []
    assert fresh(agreement).status == Status.TERMINATED


def test_evidence_over_the_size_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1024 * 1024)
    agreement = at(world, Status.TERMINATED)
    too_big = drafts.pdf_upload(content=drafts.PDF + b"%" * (1024 * 1024))
    errors = invalid(
        agreement,
        lambda: lifecycle.confirm_data_fate(
            agreement, actor=world.school["dpo"], answers=fate(evidence=too_big)
        ),
    )
    assert errors == {"evidence": ["The file must be smaller than 1 MB."]}
    assert stored_files() == []


def test_the_whole_life_of_an_agreement_is_in_its_audit_trail(world):
    school, staff, dpo = world.school.organisation, world.school["staff"], world.school["dpo"]
    head, keeper = world.school["headteacher"], world.school["information_manager"]
    before = AuditEvent.objects.count()
    agreement = drafts.approved(school, staff, dpo, head, world.local_authority, kind=Kind.DPA)
    agreement = drafts.signed(agreement, keeper)
    agreement = drafts.under_review(agreement, keeper)
    lifecycle.complete_review(agreement, actor=keeper, answers=drafts.review())
    drafts.expired(drafts.terminated(fresh(agreement), head), keeper)
    assert verbs_since(before) == [
        "agreement.created",
        "agreement.checklist_changed",
        "agreement.advice_requested",
        "agreement.advised",
        "agreement.approved",
        "agreement.signature_recorded",
        "agreement.signature_recorded",
        "agreement.signed_copy_uploaded",
        "agreement.review_started",
        "agreement.reviewed",
        "agreement.terminated",
        "agreement.expired",
    ]
