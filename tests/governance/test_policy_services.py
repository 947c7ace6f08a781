"""The information sharing policy's services: drafting, approval, discarding, triggers and
acknowledgements, each allowed and refused (role, organisation, state, answers), with
the audit event it leaves and the emails it sends. Helpers here serve the other
tests/governance/test_policy_*.py files too."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core import uploads
from infoshare.core.models import Role
from infoshare.governance import policy
from infoshare.governance.models import (
    PolicyAcknowledgement,
    PolicyStatus,
    PolicyVersion,
    ReviewTrigger,
    TriggerKind,
)
from tests.conftest import add_membership, make_user
from tests.core.support import changes_of, last_event, told

if TYPE_CHECKING:
    from collections.abc import Callable

    from infoshare.core.models import User

pytestmark = pytest.mark.django_db

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
IN_FORCE = "That cannot be done now: Version 1 is \u201cin force\u201d."
TEXT = "1. Introduction\nThe school shares personal information only when it must."
# Who must acknowledge in `world.school`: everyone but the DPO and the auditor (oversight only).
READERS = [
    "headteacher",
    "chair",
    "dsl",
    "deputy_dsl",
    "information_manager",
    "staff",
    "volunteer",
]


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_upload(content: bytes = PDF, name: str = "policy.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def answers(**changes: Any) -> policy.PolicyAnswers:
    values: dict[str, Any] = {
        "title": "Information sharing policy",
        "text": TEXT,
        "summary_of_changes": "Section 10 now names the DPO.",
        **changes,
    }
    return policy.PolicyAnswers(**values)


def drafted(world, *, by: User | None = None, school=None, **changes: Any) -> PolicyVersion:
    school = school or world.school
    return policy.draft_policy_version(
        school.organisation, actor=by or school["dpo"], answers=answers(**changes)
    )


def approved(
    world, *, on: datetime.date | None = None, by: str = "headteacher", school=None
) -> PolicyVersion:
    school = school or world.school
    version = drafted(world, school=school)
    return policy.approve_policy_version(
        version, actor=school[by], approved_on=on or timezone.localdate()
    )


def trigger_answers(**changes: Any) -> policy.TriggerAnswers:
    values: dict[str, Any] = {
        "kind": TriggerKind.MAJOR_BREACH,
        "description": "Pupil records were emailed to the wrong school.",
        "occurred_on": timezone.localdate(),
        **changes,
    }
    return policy.TriggerAnswers(**values)


def fresh(version: PolicyVersion) -> PolicyVersion:
    return PolicyVersion.objects.get(pk=version.pk)


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def policy_snapshot() -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    return {
        "versions": sorted(
            PolicyVersion.objects.values_list(
                "number", "status", "title", "text", "document", "summary_of_changes"
            )
        ),
        "triggers": ReviewTrigger.objects.count(),
        "acknowledgements": PolicyAcknowledgement.objects.count(),
        "audit": AuditEvent.objects.count(),
        "files": stored_files(),
    }


def refused(error: type[Exception], call: Callable[[], object]) -> Exception:
    """`call` raises `error` and changes nothing."""
    before = policy_snapshot()
    with pytest.raises(error) as raised:
        call()
    assert policy_snapshot() == before
    return raised.value


def invalid(call: Callable[[], object]) -> dict[str, list[str]]:
    """`call` is refused for its answers, changing nothing; the messages by field."""
    error = refused(ValidationError, call)
    assert isinstance(error, ValidationError)
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {NON_FIELD_ERRORS: error.messages}


# --- Drafting -------------------------------------------------------------------------


def test_the_dpo_drafts_a_version_as_text_numbered_in_turn(
    world, django_capture_on_commit_callbacks
):
    school = world.school
    emails = told(django_capture_on_commit_callbacks, lambda: drafted(world))
    version = PolicyVersion.objects.get(organisation=school.organisation)
    assert (version.number, version.status, version.text, version.document.name) == (
        1,
        PolicyStatus.DRAFT,
        TEXT,
        "",
    )
    assert version.drafted_by == school["dpo"]
    event = last_event("policy.drafted")
    assert event.actor == school["dpo"]
    assert event.object_id == str(version.uuid)
    assert changes_of(event) == {"number": 1, "title": version.title, "form": "text"}
    assert TEXT not in event.changes
    assert emails == {
        "Version 1 of the information sharing policy is waiting for your approval": [
            "chair@alder.test",
            "headteacher@alder.test",
        ]
    }


def test_a_version_may_be_a_pdf_stored_under_a_random_name(world):
    version = drafted(world, text="", document=pdf_upload(name="../../etc/passwd.pdf"))
    assert version.text == ""
    name = version.document.name
    assert name.startswith(f"policy/{world.school.organisation.pk}/")
    assert name.endswith(".pdf")
    assert "passwd" not in name
    assert version.document.read() == PDF
    assert changes_of(last_event("policy.drafted"))["form"] == "PDF"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"text": ""}, {"text": ["Type the policy's text, or upload it as a PDF"]}),
        (
            {"document": "pdf"},
            {"document": ["Either type the text or upload a PDF, not both"]},
        ),
        ({"title": " "}, {"title": ["Enter the policy's title"]}),
        ({"title": "x" * 201}, {"title": ["The title must be 200 characters or fewer"]}),
        (
            {"text": "", "document": "not a pdf"},
            {"document": ["The file must be a PDF."]},
        ),
    ],
)
def test_a_draft_needs_a_title_and_the_text_or_a_pdf(world, changes, errors):
    if changes.get("document") == "pdf":
        changes["document"] = pdf_upload()
    elif changes.get("document") == "not a pdf":
        changes["document"] = pdf_upload(b"<html>Policy</html>", name="policy.pdf")
    assert invalid(lambda: drafted(world, **changes)) == errors


def test_a_pdf_over_the_size_limit_is_refused_and_not_stored(world, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1024 * 1024)
    too_big = pdf_upload(PDF + b"%" * (1024 * 1024))
    assert invalid(lambda: drafted(world, text="", document=too_big)) == {
        "document": ["The file must be smaller than 1 MB."]
    }
    at_limit = pdf_upload(PDF.ljust(1024 * 1024, b"%"))
    drafted(world, text="", document=at_limit)
    assert len(stored_files()) == 1


@pytest.mark.parametrize("role", [r for r in Role.values if r != "dpo"])
def test_only_the_dpo_drafts(world, role):
    error = refused(PermissionDenied, lambda: drafted(world, by=world.school[role]))
    assert str(error) == "Only the DPO drafts the policy."


def test_a_dpo_of_another_school_cannot_draft_here(world):
    refused(PermissionDenied, lambda: drafted(world, by=world.other["dpo"]))


def test_the_trust_dpo_drafts_for_either_school(world):
    drafted(world, by=world.trust_dpo)
    drafted(world, by=world.trust_dpo, school=world.other)
    assert PolicyVersion.objects.filter(drafted_by=world.trust_dpo).count() == 2


def test_one_draft_at_a_time(world):
    drafted(world)
    errors = invalid(lambda: drafted(world, by=world.trust_dpo))
    assert errors == {
        NON_FIELD_ERRORS: [
            "Version 1 is already a draft awaiting approval. Change it, or discard it, "
            "rather than starting another."
        ]
    }


def test_the_database_refuses_a_second_draft_or_a_version_without_content(world):
    version = drafted(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(
            organisation=version.organisation,
            number=2,
            text="Another",
            drafted_by=version.drafted_by,
        )
    policy.discard_policy_draft(version, actor=world.school["dpo"], reasons="Start again.")
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(
            organisation=version.organisation, number=2, drafted_by=version.drafted_by
        )


def test_the_drafter_edits_the_draft_and_may_switch_between_text_and_pdf(world):
    version = drafted(world)
    dpo = world.school["dpo"]
    version = policy.edit_policy_draft(
        version, actor=dpo, answers=answers(text="", document=pdf_upload())
    )
    assert (version.text, bool(version.document)) == ("", True)
    assert changes_of(last_event("policy.edited"))["form"] == "PDF"
    # Nothing new typed or uploaded: the PDF stays.
    version = policy.edit_policy_draft(version, actor=dpo, answers=answers(text="", title="Ours"))
    assert (fresh(version).title, bool(fresh(version).document)) == ("Ours", True)
    version = policy.edit_policy_draft(version, actor=dpo, answers=answers(text="New words"))
    assert (fresh(version).text, fresh(version).document.name) == ("New words", "")


@pytest.mark.parametrize("who", ["trust_dpo", "headteacher", "staff"])
def test_nobody_but_the_drafter_edits_it(world, who):
    version = drafted(world)
    person = world.trust_dpo if who == "trust_dpo" else world.school[who]
    error = refused(
        PermissionDenied,
        lambda: policy.edit_policy_draft(version, actor=person, answers=answers(text="Mine")),
    )
    assert str(error) == "Only the DPO who drafted this version changes it."


def test_an_approved_version_is_not_edited(world):
    version = approved(world)
    errors = invalid(
        lambda: policy.edit_policy_draft(
            version, actor=world.school["dpo"], answers=answers(text="Later")
        )
    )
    assert errors == {NON_FIELD_ERRORS: [IN_FORCE]}


# --- Discarding -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dpo", "headteacher", "chair"])
def test_the_drafter_or_an_approver_discards_a_draft_with_reasons_and_it_is_kept(
    world, who, django_capture_on_commit_callbacks
):
    version = drafted(world)
    person = world.school[who]
    emails = told(
        django_capture_on_commit_callbacks,
        lambda: policy.discard_policy_draft(version, actor=person, reasons="Not what we agreed."),
    )
    version = fresh(version)
    assert version.status == PolicyStatus.DISCARDED
    assert (version.discarded_by, version.discard_reasons) == (person, "Not what we agreed.")
    assert changes_of(last_event("policy.discarded", actor=person)) == {"status": "discarded"}
    expected = (
        {}
        if who == "dpo"
        else {"Version 1 of the information sharing policy has been discarded": ["dpo@alder.test"]}
    )
    assert emails == expected
    # The next draft takes the next number.
    assert drafted(world).number == 2


def test_discarding_needs_reasons_the_right_person_and_a_draft(world):
    version = drafted(world)
    assert invalid(
        lambda: policy.discard_policy_draft(version, actor=world.school["dpo"], reasons=" ")
    ) == {"reasons": ["Say why this draft is discarded"]}
    for person in (world.school["staff"], world.trust_dpo, world.other["headteacher"]):
        refused(
            PermissionDenied,
            lambda person=person: policy.discard_policy_draft(version, actor=person, reasons="No."),
        )
    approved_version = policy.approve_policy_version(
        version, actor=world.school["chair"], approved_on=timezone.localdate()
    )
    invalid(
        lambda: policy.discard_policy_draft(
            approved_version, actor=world.school["dpo"], reasons="Too late."
        )
    )


# --- Approval -------------------------------------------------------------------------


@pytest.mark.parametrize("approver", ["headteacher", "chair"])
def test_the_headteacher_or_chair_approves_with_the_date(
    world, approver, django_capture_on_commit_callbacks
):
    version = drafted(world)
    on = timezone.localdate() - datetime.timedelta(days=3)
    person = world.school[approver]
    emails = told(
        django_capture_on_commit_callbacks,
        lambda: policy.approve_policy_version(version, actor=person, approved_on=on),
    )
    version = fresh(version)
    assert version.status == PolicyStatus.APPROVED
    assert (version.approved_by, version.approved_on) == (person, on)
    assert version.approved_at is not None
    assert changes_of(last_event("policy.approved")) == {
        "status": "approved",
        "approved_on": on.isoformat(),
        "replaces": None,
    }
    subject = "A new version of the information sharing policy needs you to read and acknowledge it"
    assert emails == {
        subject: sorted(f"{role}@alder.test" for role in READERS),
        "Version 1 of the information sharing policy has been approved": ["dpo@alder.test"],
    }


def test_approving_replaces_the_version_in_force(world):
    first = approved(world, on=timezone.localdate() - datetime.timedelta(days=400))
    second = drafted(world)
    policy.approve_policy_version(
        second, actor=world.school["chair"], approved_on=timezone.localdate()
    )
    first, second = fresh(first), fresh(second)
    assert (first.status, second.status) == (PolicyStatus.SUPERSEDED, PolicyStatus.APPROVED)
    assert first.superseded_at is not None
    assert changes_of(last_event("policy.approved"))["replaces"] == "Version 1"
    assert policy.current_version(world.school.organisation) == second


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (None, "Enter the date you approved it"),
        (datetime.timedelta(days=1), "The date approved must be today or in the past"),
    ],
)
def test_the_approval_date_is_needed_and_not_in_the_future(world, on, message):
    version = drafted(world)
    day = timezone.localdate() + on if on is not None else None
    errors = invalid(
        lambda: policy.approve_policy_version(
            version, actor=world.school["headteacher"], approved_on=day
        )
    )
    assert errors == {"approved_on": [message]}


def test_a_version_is_not_approved_before_the_one_it_replaces(world):
    earlier = timezone.localdate() - datetime.timedelta(days=10)
    approved(world, on=earlier)
    version = drafted(world)
    errors = invalid(
        lambda: policy.approve_policy_version(
            version, actor=world.school["headteacher"], approved_on=earlier - datetime.timedelta(1)
        )
    )
    assert errors == {
        "approved_on": [
            f"The date approved must be on or after {earlier:%-d %B %Y}, "
            "when Version 1 was approved"
        ]
    }


@pytest.mark.parametrize("role", ["dpo", "dsl", "information_manager", "staff", "auditor"])
def test_only_the_headteacher_or_chair_approves(world, role):
    version = drafted(world)
    error = refused(
        PermissionDenied,
        lambda: policy.approve_policy_version(
            version, actor=world.school[role], approved_on=timezone.localdate()
        ),
    )
    assert str(error) == "Only the headteacher or the chair of governors approves the policy."


def test_another_schools_headteacher_cannot_approve(world):
    version = drafted(world)
    refused(
        PermissionDenied,
        lambda: policy.approve_policy_version(
            version, actor=world.other["headteacher"], approved_on=timezone.localdate()
        ),
    )


def test_nobody_approves_what_they_drafted(world):
    """Separation of duties (DESIGN.md section 1): a headteacher who is also the DPO."""
    head = world.school["headteacher"]
    membership = head.memberships.get(organisation=world.school.organisation)
    membership.set_roles([Role.HEADTEACHER, Role.DPO])
    version = drafted(world, by=head)
    error = refused(
        PermissionDenied,
        lambda: policy.approve_policy_version(
            version, actor=head, approved_on=timezone.localdate()
        ),
    )
    assert "You drafted this version" in str(error)
    policy.approve_policy_version(
        version, actor=world.school["chair"], approved_on=timezone.localdate()
    )


def test_an_approved_version_is_not_approved_again(world):
    version = approved(world)
    errors = invalid(
        lambda: policy.approve_policy_version(
            version, actor=world.school["chair"], approved_on=timezone.localdate()
        )
    )
    assert errors == {NON_FIELD_ERRORS: [IN_FORCE]}


def test_the_status_cannot_be_set_by_hand(world):
    version = drafted(world)
    with pytest.raises(AttributeError):
        version.status = PolicyStatus.APPROVED


# --- Triggers -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["dpo", "headteacher", "chair"])
def test_those_who_answer_for_the_policy_record_a_trigger(
    world, role, django_capture_on_commit_callbacks
):
    person = world.school[role]
    emails = told(
        django_capture_on_commit_callbacks,
        lambda: policy.record_review_trigger(
            world.school.organisation, actor=person, answers=trigger_answers()
        ),
    )
    trigger = ReviewTrigger.objects.get()
    assert (trigger.kind, trigger.recorded_by) == (TriggerKind.MAJOR_BREACH, person)
    event = last_event("policy.review_triggered")
    assert changes_of(event) == {"kind": "major_breach", "occurred_on": str(trigger.occurred_on)}
    assert "wrong school" not in event.changes
    dpos = ["dpo@alder.test", "dpo@northbridge.test"]
    expected = [d for d in dpos if d != person.email]
    assert emails == {"The information sharing policy needs an early review": expected}
    assert all("wrong school" not in message.body for message in mail.outbox)


@pytest.mark.parametrize("role", ["dsl", "information_manager", "staff", "volunteer", "auditor"])
def test_others_do_not_record_triggers(world, role):
    refused(
        PermissionDenied,
        lambda: policy.record_review_trigger(
            world.school.organisation, actor=world.school[role], answers=trigger_answers()
        ),
    )


def test_another_schools_dpo_does_not_record_a_trigger_here(world):
    refused(
        PermissionDenied,
        lambda: policy.record_review_trigger(
            world.school.organisation, actor=world.other["dpo"], answers=trigger_answers()
        ),
    )


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"kind": "flood"}, {"kind": ["Choose what happened"]}),
        ({"description": "  "}, {"description": ["Describe what happened"]}),
        ({"occurred_on": None}, {"occurred_on": ["Enter the date it happened"]}),
        (
            {"occurred_on": datetime.date.max},
            {"occurred_on": ["The date it happened must be today or in the past"]},
        ),
    ],
)
def test_a_trigger_needs_its_kind_what_happened_and_a_past_date(world, changes, errors):
    assert (
        invalid(
            lambda: policy.record_review_trigger(
                world.school.organisation,
                actor=world.school["dpo"],
                answers=trigger_answers(**changes),
            )
        )
        == errors
    )


# --- Acknowledgements -----------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_everyone_who_works_in_the_school_acknowledges_the_version_in_force(world, role):
    version = approved(world)
    person = world.school[role]
    acknowledgement, created = policy.acknowledge_policy(version, actor=person)
    assert created
    assert (acknowledgement.version, acknowledgement.user) == (version, person)
    event = last_event("policy.acknowledged")
    assert (event.actor, changes_of(event)) == (person, {"version": 1})


def test_acknowledging_twice_changes_nothing(world):
    version = approved(world)
    staff = world.school["staff"]
    first, _ = policy.acknowledge_policy(version, actor=staff)
    before = policy_snapshot()
    again, created = policy.acknowledge_policy(version, actor=staff)
    assert (again, created) == (first, False)
    assert policy_snapshot() == before


@pytest.mark.parametrize("who", ["dpo", "auditor", "trust_dpo", "other_staff"])
def test_those_who_only_oversee_the_school_or_belong_elsewhere_do_not_acknowledge(world, who):
    version = approved(world)
    person = {
        "trust_dpo": world.trust_dpo,
        "other_staff": world.other["staff"],
    }.get(who) or world.school[who]
    error = refused(PermissionDenied, lambda: policy.acknowledge_policy(version, actor=person))
    assert str(error) == "Only people who work in the school acknowledge the policy."


def test_only_the_version_in_force_is_acknowledged(world):
    draft = drafted(world)
    errors = invalid(lambda: policy.acknowledge_policy(draft, actor=world.school["staff"]))
    assert errors == {
        NON_FIELD_ERRORS: [
            "That cannot be done now: Version 1 is \u201cdraft, awaiting approval\u201d."
        ]
    }
    first = policy.approve_policy_version(
        draft, actor=world.school["headteacher"], approved_on=timezone.localdate()
    )
    second = drafted(world)
    policy.approve_policy_version(
        second, actor=world.school["headteacher"], approved_on=timezone.localdate()
    )
    errors = invalid(lambda: policy.acknowledge_policy(first, actor=world.school["staff"]))
    assert errors == {
        NON_FIELD_ERRORS: [
            "Version 1 has been replaced. Read and acknowledge the version in force."
        ]
    }


def test_a_new_version_must_be_acknowledged_afresh(world):
    first = approved(world)
    staff = world.school["staff"]
    policy.acknowledge_policy(first, actor=staff)
    second = drafted(world)
    policy.approve_policy_version(
        second, actor=world.school["headteacher"], approved_on=timezone.localdate()
    )
    assert not PolicyAcknowledgement.objects.filter(version=second, user=staff).exists()
    _, created = policy.acknowledge_policy(second, actor=staff)
    assert created


def test_who_must_acknowledge_is_everyone_working_there_who_is_active(world):
    school = world.school
    leaver = school["volunteer"]
    membership = leaver.memberships.get(organisation=school.organisation)
    membership.ended_at = timezone.now()
    membership.save()
    both = make_user("both@alder.test", "Dpo And Teacher")
    add_membership(both, school.organisation, Role.DPO, Role.STAFF)
    people = policy.members_to_acknowledge(school.organisation)
    emails = sorted(person.email for person in people)
    assert emails == sorted(
        [f"{role}@alder.test" for role in READERS if role != "volunteer"] + ["both@alder.test"]
    )


def test_the_document_download_is_an_audit_event(world):
    version = drafted(world, text="", document=pdf_upload())
    policy.note_policy_document_downloaded(version, actor=world.school["headteacher"])
    event = last_event("policy.document_downloaded")
    assert (event.actor, event.object_id) == (world.school["headteacher"], str(version.uuid))
