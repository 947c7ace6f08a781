"""Every change to the school's information sharing policy (DESIGN.md rule 1), and its review date.

Policy 10.1: "The Data Protection Officer is responsible for ensuring that this
policy remains up to date and accurate. This policy will be reviewed at least
annually. Reviews may also take place following: any major breaches of a
policy; the identification of new threats or vulnerabilities; significant
organisational restructuring; significant changes to the school's technical
infrastructure." Policy 9.1: the headteacher and the chair decide.

So the DPO drafts a version (its text, or a PDF); the headteacher or chair, never
the one who drafted it, approves it with the date they did; it replaces the
version in force. Its review falls due 12 months after that date, or at once
when a trigger of 10.1 is recorded after it. Everyone who works in the school
acknowledges the version in force. Each function locks what it changes, checks
who acts and in what state (`actions_for`), checks the answers, saves and writes
the audit event in one transaction; emails go once it commits.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_fsm import can_proceed

from infoshare.agreements.models import add_months
from infoshare.audit import services as audit
from infoshare.core.checks import raise_if, require
from infoshare.core.models import Organisation
from infoshare.core.uploads import check_pdf
from infoshare.governance import policy_emails as emails
from infoshare.governance.models import (
    PolicyAcknowledgement,
    PolicyStatus,
    PolicyVersion,
    ReviewTrigger,
    TriggerKind,
)
from infoshare.governance.rules import (
    can_acknowledge_policy,
    can_approve_policy,
    can_draft_policy,
    can_record_policy_trigger,
)
from infoshare.safeguarding.services import recipients_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.core.files.uploadedfile import UploadedFile

    from infoshare.core.models import User

# "Reviewed at least annually" (10.1).
REVIEW_MONTHS = 12
# The review is listed as due this long before its date, as agreements' reviews are.
REVIEW_NOTICE = datetime.timedelta(days=30)
TITLE_MAX_LENGTH = 200  # PolicyVersion.title


# --- When the review falls due (computed, never stored: rule 9) ------------------------


@dataclass(frozen=True)
class ReviewState:
    """The policy's review on `today`: the version in force, open triggers, and the due date.

    `due_on` is None only when no version was ever approved: then the school has
    no policy here, and recording one is due now.
    """

    current: PolicyVersion | None
    open_triggers: tuple[ReviewTrigger, ...]
    due_on: datetime.date | None
    today: datetime.date

    @property
    def missing(self) -> bool:
        return self.current is None

    @property
    def triggered(self) -> bool:
        return bool(self.open_triggers)

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < self.today

    @property
    def due(self) -> bool:
        """Due now, soon (within REVIEW_NOTICE) or overdue: someone should be reviewing it."""
        return self.missing or (
            self.due_on is not None and self.today >= self.due_on - REVIEW_NOTICE
        )


def annual_review_on(approved_on: datetime.date) -> datetime.date:
    """12 months after approval, kept inside the month (29 February + 12 months: 28 February)."""
    return add_months(approved_on, REVIEW_MONTHS)


def review_due_on(
    current: PolicyVersion | None, trigger_dates: Iterable[datetime.date]
) -> datetime.date | None:
    """The annual date, or the day the first open trigger was recorded if that is sooner."""
    if current is None or current.approved_on is None:
        return None
    return min([annual_review_on(current.approved_on), *trigger_dates])


def open_triggers(organisation: Organisation, current: PolicyVersion | None) -> list[ReviewTrigger]:
    """The triggers no approval has answered yet: those recorded after the version in force."""
    triggers = ReviewTrigger.objects.filter(organisation=organisation).select_related("recorded_by")
    if current is not None and current.approved_at is not None:
        triggers = triggers.filter(recorded_at__gt=current.approved_at)
    return list(triggers.order_by("recorded_at", "pk"))


def review_state(organisation: Organisation, today: datetime.date) -> ReviewState:
    current = current_version(organisation)
    triggers = open_triggers(organisation, current)
    due_on = review_due_on(current, (recorded_on(trigger) for trigger in triggers))
    return ReviewState(current, tuple(triggers), due_on, today)


def recorded_on(trigger: ReviewTrigger) -> datetime.date:
    return timezone.localdate(trigger.recorded_at)


def current_version(organisation: Organisation) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.in_force()
        .filter(organisation=organisation)
        .select_related("organisation", "approved_by", "drafted_by")
        .first()
    )


def draft_in_making(organisation: Organisation) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(organisation=organisation, status=PolicyStatus.DRAFT)
        .select_related("organisation", "drafted_by")
        .first()
    )


def members_to_acknowledge(organisation: Organisation) -> list[User]:
    """Everyone who works in the school, by name: not a DPO or auditor who only oversees it."""
    return recipients_for(organisation)


# --- What people answer -----------------------------------------------------------------


@dataclass(frozen=True)
class PolicyAnswers:
    """A version as drafted: its text or its PDF (one of them), and what changed."""

    title: str
    text: str = ""
    document: UploadedFile | None = None
    summary_of_changes: str = ""


@dataclass(frozen=True)
class TriggerAnswers:
    kind: str
    description: str
    occurred_on: datetime.date | None


# --- What a person may do with a version ---------------------------------------------


@dataclass(frozen=True)
class Actions:
    """What `user` may do with a version now; the pages offer only these."""

    edit: bool = False
    approve: bool = False
    discard: bool = False
    acknowledge: bool = False


def actions_for(version: PolicyVersion, user: User) -> Actions:
    organisation = version.organisation
    is_draft = version.status == PolicyStatus.DRAFT
    drafted_it = version.drafted_by_id == user.pk
    approver = can_approve_policy(user, organisation)
    return Actions(
        edit=is_draft and drafted_it and can_draft_policy(user, organisation),
        approve=is_draft and approver and not drafted_it,
        discard=is_draft and (drafted_it or approver),
        acknowledge=version.status == PolicyStatus.APPROVED
        and can_acknowledge_policy(user, organisation),
    )


REFUSALS = {
    "edit": "Only the DPO who drafted this version changes it.",
    "approve": "Only the headteacher or the chair of governors approves the policy.",
    "discard": "Only the DPO who drafted this version, the headteacher or the chair discards it.",
    "acknowledge": "Only people who work in the school acknowledge the policy.",
}


def may_ever_take(version: PolicyVersion, user: User, action: str) -> bool:
    """Whether `user`'s roles (and part in this version) allow `action` in some status."""
    organisation = version.organisation
    drafted_it = version.drafted_by_id == user.pk
    if action == "edit":
        return drafted_it and can_draft_policy(user, organisation)
    if action == "approve":
        return can_approve_policy(user, organisation) and not drafted_it
    if action == "discard":
        return drafted_it or can_approve_policy(user, organisation)
    return can_acknowledge_policy(user, organisation)


def out_of_order_message(version: PolicyVersion) -> str:
    return (
        f"That cannot be done now: {version.label} is "
        f"\u201c{version.get_status_display().lower()}\u201d."
    )


def refusal(version: PolicyVersion, actor: User, action: str) -> Exception | None:
    """Why `actor` may not take `action` on `version` now: PermissionDenied for who they
    are (a 403), ValidationError for the version's state (a message); None if they may."""
    if getattr(actions_for(version, actor), action):
        return None
    drafted_it = version.drafted_by_id == actor.pk
    if action == "approve" and drafted_it and can_approve_policy(actor, version.organisation):
        return PermissionDenied(
            "You drafted this version, so the other of the headteacher and the chair "
            "of governors must approve it."
        )
    if not may_ever_take(version, actor, action):
        return PermissionDenied(REFUSALS[action])
    if action == "acknowledge" and version.status == PolicyStatus.SUPERSEDED:
        return ValidationError(
            f"{version.label} has been replaced. Read and acknowledge the version in force."
        )
    return ValidationError(out_of_order_message(version))


def lock_for(version: PolicyVersion, actor: User, action: str) -> PolicyVersion:
    """The version, locked, if `actor` may take `action` on it now."""
    locked = (
        PolicyVersion.objects.select_for_update()
        .select_related("organisation", "drafted_by")
        .get(pk=version.pk)
    )
    refused = refusal(locked, actor, action)
    if refused is not None:
        raise refused
    return locked


# --- Drafting -----------------------------------------------------------------------------


def draft_policy_version(
    organisation: Organisation, *, actor: User, answers: PolicyAnswers
) -> PolicyVersion:
    """The DPO drafts the next version; the headteacher and chair are asked to approve it."""
    with transaction.atomic():
        require(can_draft_policy(actor, organisation), "Only the DPO drafts the policy.")
        raise_if(_answer_errors(answers, has_document=False))
        # One draft at a time, numbered in turn: the school's row is the lock.
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        waiting = draft_in_making(organisation)
        if waiting is not None:
            raise ValidationError(
                f"{waiting.label} is already a draft awaiting approval. Change it, or "
                "discard it, rather than starting another."
            )
        version = PolicyVersion(
            organisation=organisation,
            number=_next_number(organisation),
            drafted_by=actor,
        )
        _apply_answers(version, answers)
        version.save()
        audit.record(actor, "policy.drafted", version, _summary(version))
        transaction.on_commit(lambda: emails.send_awaiting_approval(version))
    return version


def edit_policy_draft(
    version: PolicyVersion, *, actor: User, answers: PolicyAnswers
) -> PolicyVersion:
    with transaction.atomic():
        version = lock_for(version, actor, "edit")
        raise_if(_answer_errors(answers, has_document=version.is_document))
        _apply_answers(version, answers)
        version.updated_at = timezone.now()
        version.save()
        audit.record(actor, "policy.edited", version, _summary(version))
    return version


def discard_policy_draft(version: PolicyVersion, *, actor: User, reasons: str) -> PolicyVersion:
    """A draft that will not be approved is discarded, with reasons, and kept (rule 7)."""
    with transaction.atomic():
        version = lock_for(version, actor, "discard")
        if not reasons.strip():
            raise ValidationError({"reasons": "Say why this draft is discarded"})
        _transition(version, version.discard)
        version.discarded_by = actor
        version.discarded_at = timezone.now()
        version.discard_reasons = reasons.strip()
        version.save()
        audit.record(actor, "policy.discarded", version, {"status": version.status})
        if version.drafted_by_id != actor.pk:
            transaction.on_commit(lambda: emails.send_discarded(version))
    return version


def _answer_errors(answers: PolicyAnswers, *, has_document: bool) -> dict[str, str]:
    """The text or a PDF, not both; a PDF checked by its content. `has_document`: a
    draft already has a PDF, which stays unless text or another PDF replaces it."""
    errors: dict[str, str] = {}
    if not answers.title.strip():
        errors["title"] = "Enter the policy's title"
    elif len(answers.title.strip()) > TITLE_MAX_LENGTH:
        errors["title"] = f"The title must be {TITLE_MAX_LENGTH} characters or fewer"
    text, upload = answers.text.strip(), answers.document
    if text and upload is not None:
        errors["document"] = "Either type the text or upload a PDF, not both"
    elif not text and upload is None and not has_document:
        errors["text"] = "Type the policy's text, or upload it as a PDF"
    elif upload is not None:
        try:
            check_pdf(upload, "document")
        except ValidationError as error:
            errors["document"] = error.message_dict["document"][0]
    return errors


def _apply_answers(version: PolicyVersion, answers: PolicyAnswers) -> None:
    version.title = answers.title.strip()
    version.summary_of_changes = answers.summary_of_changes.strip()
    text = answers.text.strip()
    if answers.document is not None:
        version.text = ""
        version.document.save("policy.pdf", answers.document, save=False)
    elif text:
        # Typed text replaces a PDF uploaded earlier to the draft.
        version.text = text
        version.document = ""


def _next_number(organisation: Organisation) -> int:
    highest = PolicyVersion.objects.filter(organisation=organisation).aggregate(
        highest=Max("number")
    )["highest"]
    return (highest or 0) + 1


# --- Approval -----------------------------------------------------------------------------


def approve_policy_version(
    version: PolicyVersion, *, actor: User, approved_on: datetime.date | None
) -> PolicyVersion:
    """The headteacher or chair approves a draft on the date they give; it replaces the
    version in force, answers every trigger recorded so far, and staff are asked to read it."""
    with transaction.atomic():
        version = lock_for(version, actor, "approve")
        previous = (
            PolicyVersion.objects.select_for_update()
            .in_force()
            .filter(organisation=version.organisation)
            .first()
        )
        raise_if(_approval_date_errors(approved_on, previous))
        if previous is not None:
            _transition(previous, previous.supersede)
            previous.superseded_at = timezone.now()
            previous.save()
        _transition(version, version.approve)
        version.approved_by = actor
        version.approved_on = approved_on
        version.approved_at = timezone.now()
        version.save()
        changes: dict[str, object] = {
            "status": version.status,
            "approved_on": str(approved_on),
            "replaces": previous.label if previous is not None else None,
        }
        audit.record(actor, "policy.approved", version, changes)
        transaction.on_commit(lambda: emails.send_approved(version))
    return version


def _approval_date_errors(
    approved_on: datetime.date | None, previous: PolicyVersion | None
) -> dict[str, str]:
    if approved_on is None:
        return {"approved_on": "Enter the date you approved it"}
    if approved_on > timezone.localdate():
        return {"approved_on": "The date approved must be today or in the past"}
    if previous is not None and previous.approved_on and approved_on < previous.approved_on:
        return {
            "approved_on": f"The date approved must be on or after "
            f"{previous.approved_on:%-d %B %Y}, when {previous.label} was approved"
        }
    return {}


# --- Early review triggers ------------------------------------------------------------------


def record_review_trigger(
    organisation: Organisation, *, actor: User, answers: TriggerAnswers
) -> ReviewTrigger:
    """Something of 10.1 happened: the review is due now, until the next approval."""
    with transaction.atomic():
        require(
            can_record_policy_trigger(actor, organisation),
            "Only the DPO, the headteacher or the chair of governors records a review trigger.",
        )
        raise_if(_trigger_errors(answers))
        assert answers.occurred_on is not None  # refused above when missing
        trigger = ReviewTrigger.objects.create(
            organisation=organisation,
            kind=answers.kind,
            description=answers.description.strip(),
            occurred_on=answers.occurred_on,
            recorded_by=actor,
        )
        # The description may name what happened; the audit trail keeps the kind and date.
        changes = {"kind": trigger.kind, "occurred_on": str(trigger.occurred_on)}
        audit.record(actor, "policy.review_triggered", trigger, changes)
        transaction.on_commit(lambda: emails.send_review_triggered(trigger))
    return trigger


def _trigger_errors(answers: TriggerAnswers) -> dict[str, str]:
    errors: dict[str, str] = {}
    if answers.kind not in TriggerKind.values:
        errors["kind"] = "Choose what happened"
    if not answers.description.strip():
        errors["description"] = "Describe what happened"
    if answers.occurred_on is None:
        errors["occurred_on"] = "Enter the date it happened"
    elif answers.occurred_on > timezone.localdate():
        errors["occurred_on"] = "The date it happened must be today or in the past"
    return errors


# --- Acknowledging ---------------------------------------------------------------------------


def acknowledge_policy(
    version: PolicyVersion, *, actor: User
) -> tuple[PolicyAcknowledgement, bool]:
    """ "I have read and understood it", for the version in force; True when new.

    Acknowledging again changes nothing and is not an error: the page says when
    they did.
    """
    with transaction.atomic():
        version = lock_for(version, actor, "acknowledge")
        acknowledgement, created = PolicyAcknowledgement.objects.get_or_create(
            version=version, user=actor
        )
        if created:
            audit.record(actor, "policy.acknowledged", version, {"version": version.number})
    return acknowledgement, created


# --- Reads that are audit events -----------------------------------------------------------


def note_policy_document_downloaded(version: PolicyVersion, *, actor: User) -> None:
    with transaction.atomic():
        audit.record(actor, "policy.document_downloaded", version)


def note_acknowledgements_exported(
    version: PolicyVersion, *, actor: User, rows: int, not_yet_only: bool
) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            "policy.acknowledgements_exported",
            version,
            {"rows": rows, "not_yet_only": not_yet_only},
        )


# --- Helpers ---------------------------------------------------------------------------------


def _transition(version: PolicyVersion, method: Callable[[], None]) -> None:
    if not can_proceed(method):
        raise ValidationError(out_of_order_message(version))
    method()


def _summary(version: PolicyVersion) -> dict[str, object]:
    """What the audit trail keeps of a version: its form and number, not its words."""
    return {
        "number": version.number,
        "title": version.title,
        "form": "PDF" if version.is_document else "text",
    }
