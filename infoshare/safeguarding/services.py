"""Every change to a safeguarding record (DESIGN.md rule 1), and every read of one.

A DSL shares information with a named member of staff and signs the DSL's
declaration; the recipient signs theirs to acknowledge it; the recipient may
ask to share it further and a DSL permits or refuses, with reasons. Signing is
an authenticated action: the signer types their name, confirms the
declaration and proves it is them again (their authenticator's code, which a
DSL must have wherever privileged roles need a second factor, or else their
password). Reading a record, listing records and
printing the form are audit events too (issue 6, item 7); those events name
records by reference only, never the child or what was shared.

What a person may do with one record is answered by `actions_for`, which the
pages use to offer only what the services accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from infoshare.audit import services as audit
from infoshare.audit.models import AuditEvent
from infoshare.core.checks import raise_if, require
from infoshare.core.models import Membership, Organisation, Person, PersonKind, User
from infoshare.core.references import next_reference
from infoshare.core.rules import roles_in
from infoshare.core.security import TooManyAttempts, confirm_identity, has_second_factor
from infoshare.decisions import services as decisions
from infoshare.safeguarding import emails
from infoshare.safeguarding.models import (
    FileKind,
    Part,
    ReshareKind,
    ReshareRequest,
    ReshareStatus,
    Share,
    Signature,
    Status,
    declaration_hash,
    leads_safeguarding,
    may_receive_safeguarding,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from infoshare.decisions.models import Decision
    from infoshare.decisions.services import DecisionDraft

REFERENCE_PREFIX = "SG"
# What reading a record is called in the audit trail, and how it is listed for the DSL.
READ_VERBS = {
    "safeguarding.viewed": "Opened the record",
    "safeguarding.form_downloaded": "Downloaded the form (PDF)",
    "safeguarding.listed": "Saw it in a list",
}


# --- What people answer ----------------------------------------------------------------


@dataclass(frozen=True)
class Signing:
    """A signature as typed: the printed name, the declaration confirmed, and the proof."""

    name: str
    confirmed: bool
    secret: str  # the authenticator's current code, or the password of someone without one


@dataclass(frozen=True)
class ShareAnswers:
    pupil: Person | None
    file_kind: str
    file_reference: str
    description: str
    recipient: User | None


@dataclass(frozen=True)
class ReshareAnswers:
    kind: str
    reason: str
    colleague: User | None = None
    outside_organisation: Organisation | None = None
    outside_organisation_name: str = ""
    outside_person: str = ""


# --- What a person may do with a record -----------------------------------------------


@dataclass(frozen=True)
class Actions:
    """What `user` may do with a record now; the pages offer only these."""

    acknowledge: bool = False
    withdraw: bool = False
    record_attached: bool = False
    print_form: bool = False
    request_reshare: bool = False
    see_access: bool = False
    # Whether the description may be read: not by a recipient once it is withdrawn.
    read_description: bool = False


def actions_for(share: Share, user: User) -> Actions:
    is_lead = leads_safeguarding(user, share.organisation)
    is_recipient = _is_recipient(share, user)
    status = share.status
    complete = status != Status.AWAITING_ACKNOWLEDGEMENT and share.is_complete
    return Actions(
        acknowledge=status == Status.AWAITING_ACKNOWLEDGEMENT and is_recipient,
        withdraw=status != Status.WITHDRAWN and is_lead,
        record_attached=complete and is_lead and share.attached_at is None,
        print_form=complete and is_lead,
        request_reshare=status == Status.ACKNOWLEDGED and is_recipient,
        see_access=is_lead,
        read_description=is_lead or (is_recipient and status != Status.WITHDRAWN),
    )


REFUSALS = {
    "acknowledge": "Only the person it was shared with acknowledges it.",
    "withdraw": "Only a designated safeguarding lead withdraws a record.",
    "record_attached": "Only a designated safeguarding lead files the form.",
    "print_form": "Only a designated safeguarding lead prints the form for the child's file.",
    "request_reshare": "Only the person it was shared with asks to share it further.",
    "see_access": "Only a designated safeguarding lead sees who has read a record.",
}


def may_ever_take(share: Share, user: User, action: str) -> bool:
    """Whether `user`'s place (a lead, or the recipient) allows `action` in some status."""
    if action in {"acknowledge", "request_reshare"}:
        return _is_recipient(share, user)
    return leads_safeguarding(user, share.organisation)


def _is_recipient(share: Share, user: User) -> bool:
    """The person it was shared with, while they still work in the school."""
    return share.recipient_id == user.pk and may_receive_safeguarding(
        roles_in(user, share.organisation)
    )


def out_of_order_message(share: Share) -> str:
    return (
        f"That cannot be done now: {share.reference} is "
        f"\u201c{share.get_status_display().lower()}\u201d."
    )


def recipients_for(organisation: Organisation, *, excluding: User | None = None) -> list[User]:
    """Who a DSL may share with: people who work in the school, not those who only oversee it."""
    memberships = (
        Membership.objects.active()
        .with_roles()
        .filter(organisation=organisation, user__is_active=True)
        .select_related("user")
        .order_by("user__name")
    )
    return [
        membership.user
        for membership in memberships
        if may_receive_safeguarding(membership.roles)
        and (excluding is None or membership.user_id != excluding.pk)
    ]


# --- Sharing and acknowledging ---------------------------------------------------------


def share_information(
    organisation: Organisation, *, actor: User, answers: ShareAnswers, signing: Signing
) -> Share:
    """A DSL shares information with a named colleague, signing the DSL's declaration."""
    with transaction.atomic():
        require(
            leads_safeguarding(actor, organisation),
            "Only a designated safeguarding lead shares safeguarding information.",
        )
        share = _new_share(organisation, actor=actor, answers=answers, signing=signing)
        audit.record(actor, "safeguarding.shared", share, _share_summary(share))
        transaction.on_commit(lambda: emails.send_to_acknowledge(share))
    return share


def acknowledge_share(share: Share, *, actor: User, signing: Signing) -> Share:
    """The recipient signs the recipient's declaration."""
    with transaction.atomic():
        share = lock_for(share, actor, "acknowledge")
        method = _confirm_signer(actor, signing, needs_second_factor=False)
        _apply(share, share.acknowledge)
        share.save()
        _sign(share, Part.RECIPIENT, actor=actor, name=signing.name, method=method)
        audit.record(actor, "safeguarding.acknowledged", share, {"status": share.status})
        transaction.on_commit(lambda: emails.send_acknowledged(share))
    return share


def withdraw_share(share: Share, *, actor: User, reason: str) -> Share:
    """A DSL withdraws a record; it stays, with the reason, and open requests on it close."""
    with transaction.atomic():
        share = lock_for(share, actor, "withdraw")
        if not reason.strip():
            raise ValidationError({"reason": "Say why the record is withdrawn"})
        was_acknowledged = share.status == Status.ACKNOWLEDGED
        _apply(share, share.withdraw)
        share.withdrawn_by = actor
        share.withdrawn_at = timezone.now()
        share.withdrawal_reason = reason.strip()
        share.save()
        audit.record(actor, "safeguarding.withdrawn", share, {"status": share.status})
        for request in share.reshare_requests.select_for_update().pending():
            _close_with_share(request, actor=actor)
        transaction.on_commit(lambda: emails.send_withdrawn(share, was_acknowledged))
    return share


def record_attached_to_file(share: Share, *, actor: User) -> Share:
    """A DSL notes that the printed form is on the child's file (Appendix B)."""
    with transaction.atomic():
        share = lock_for(share, actor, "record_attached")
        share.attached_by = actor
        share.attached_at = timezone.now()
        share.save()
        audit.record(actor, "safeguarding.attached_to_file", share, {"file_kind": share.file_kind})
    return share


# --- Reading: every read is an audit event -------------------------------------------


def note_view(share: Share, *, actor: User) -> None:
    with transaction.atomic():
        audit.record(actor, "safeguarding.viewed", share)


def note_form_downloaded(share: Share, *, actor: User) -> None:
    with transaction.atomic():
        audit.record(actor, "safeguarding.form_downloaded", share)


def note_listed(organisation: Organisation, *, actor: User, shares: Sequence[Share]) -> None:
    """A list showed these records: which ones, by reference, so each one's readers are known."""
    if not shares:
        return
    with transaction.atomic():
        audit.record(
            actor,
            "safeguarding.listed",
            None,
            {"references": [share.reference for share in shares]},
            organisation=organisation,
            label="Safeguarding records",
        )


def who_has_read(share: Share) -> list[AuditEvent]:
    """Every opening, download and listing of `share`, newest first (for the DSL)."""
    opened = Q(object_type=share._meta.label_lower, object_id=share.reference)
    listed = Q(verb="safeguarding.listed", changes__contains=f'"{share.reference}"')
    return list(
        AuditEvent.objects.filter(organisation=share.organisation, verb__in=READ_VERBS)
        .filter(opened | listed)
        .select_related("actor")
        .order_by("-sequence")
    )


# --- Sharing further ---------------------------------------------------------------------


def request_reshare(share: Share, *, actor: User, answers: ReshareAnswers) -> ReshareRequest:
    """The recipient asks a DSL's permission to share the information further."""
    with transaction.atomic():
        share = lock_for(share, actor, "request_reshare")
        _check_reshare_answers(share, actor, answers)
        request = ReshareRequest(
            organisation=share.organisation,
            share=share,
            kind=answers.kind,
            reason=answers.reason.strip(),
            requested_by=actor,
        )
        if answers.kind == ReshareKind.INTERNAL:
            request.colleague = answers.colleague
        else:
            request.outside_organisation = answers.outside_organisation
            request.outside_organisation_name = answers.outside_organisation_name.strip()
            request.outside_person = answers.outside_person.strip()
        request.save()
        audit.record(actor, "safeguarding.reshare_requested", share, _request_summary(request))
        transaction.on_commit(lambda: emails.send_reshare_requested(request))
    return request


def may_answer(request: ReshareRequest, user: User) -> bool:
    """A DSL answers a pending request, but never one they made themselves."""
    return (
        request.status == ReshareStatus.REQUESTED
        and request.share.status == Status.ACKNOWLEDGED
        and leads_safeguarding(user, request.organisation)
        and request.requested_by_id != user.pk
    )


def refuse_reshare(request: ReshareRequest, *, actor: User, reasons: str) -> ReshareRequest:
    with transaction.atomic():
        request = _lock_request(request, actor)
        if not reasons.strip():
            raise ValidationError({"reasons": "Say why the information may not be shared further"})
        _apply_request(request, request.refuse)
        _answer(request, actor=actor, reasons=reasons)
        audit.record(
            actor, "safeguarding.reshare_refused", request.share, _request_summary(request)
        )
        transaction.on_commit(lambda: emails.send_reshare_answered(request))
    return request


def permit_internal_reshare(
    request: ReshareRequest,
    *,
    actor: User,
    reasons: str,
    description: str,
    signing: Signing,
) -> Share:
    """Permit sharing with a colleague: a new record, signed by the permitting DSL."""
    with transaction.atomic():
        request = _lock_request(request, actor)
        if request.kind != ReshareKind.INTERNAL:
            raise ValidationError("This request is to share outside the school.")
        if not reasons.strip():
            raise ValidationError({"reasons": "Say why sharing further is permitted"})
        original = request.share
        answers = ShareAnswers(
            pupil=original.pupil,
            file_kind=original.file_kind,
            file_reference=original.file_reference,
            description=description,
            recipient=request.colleague,
        )
        share = _new_share(
            request.organisation, actor=actor, answers=answers, signing=signing, request=request
        )
        _apply_request(request, request.permit)
        _answer(request, actor=actor, reasons=reasons)
        audit.record(actor, "safeguarding.reshare_permitted", original, _request_summary(request))
        audit.record(actor, "safeguarding.shared", share, _share_summary(share))
        transaction.on_commit(lambda: emails.send_reshare_answered(request))
        transaction.on_commit(lambda: emails.send_to_acknowledge(share))
    return share


def permit_external_reshare(
    request: ReshareRequest, *, actor: User, draft: DecisionDraft
) -> Decision:
    """Permit sharing outside the school: the DSL records it in the decision log, linked.

    The decision's reasons are the DSL's reasons for permitting, and the
    decision log checks the lawful basis and conditions as for any share.
    """
    with transaction.atomic():
        request = _lock_request(request, actor)
        if request.kind != ReshareKind.EXTERNAL:
            raise ValidationError("This request is to share with a colleague.")
        if not draft.is_share:
            raise ValidationError(
                {
                    "outcome": "Permitting is a decision to share or share in part. "
                    "To say no, refuse the request instead"
                }
            )
        decision = decisions.record_decision(request.organisation, actor=actor, draft=draft)
        request.decision = decision
        _apply_request(request, request.permit)
        _answer(request, actor=actor, reasons=draft.reasons)
        audit.record(
            actor,
            "safeguarding.reshare_permitted",
            request.share,
            {**_request_summary(request), "decision": decision.reference},
        )
        transaction.on_commit(lambda: emails.send_reshare_answered(request))
    return decision


# --- Helpers ---------------------------------------------------------------------------


def lock_for(share: Share, actor: User, action: str) -> Share:
    """The record, locked, if `actor` may take `action` on it now."""
    locked = (
        Share.objects.select_for_update()
        .select_related("organisation", "pupil", "recipient", "shared_by")
        .get(pk=share.pk)
    )
    if getattr(actions_for(locked, actor), action):
        return locked
    if not may_ever_take(locked, actor, action):
        raise PermissionDenied(REFUSALS[action])
    if action == "record_attached" and locked.attached_at is not None:
        attached_on = timezone.localtime(locked.attached_at)
        raise ValidationError(
            f"{locked.reference} was marked as attached to the child's file "
            f"on {attached_on:%-d %B %Y}."
        )
    raise ValidationError(out_of_order_message(locked))


def _lock_request(request: ReshareRequest, actor: User) -> ReshareRequest:
    # Lock the request row only: PostgreSQL refuses FOR UPDATE across the
    # nullable join to the colleague.
    locked = (
        ReshareRequest.objects.select_for_update(of=("self",))
        .select_related("organisation", "share", "share__organisation", "colleague")
        .get(pk=request.pk)
    )
    if may_answer(locked, actor):
        return locked
    if not leads_safeguarding(actor, locked.organisation):
        raise PermissionDenied("Only a designated safeguarding lead answers these requests.")
    if locked.requested_by_id == actor.pk:
        raise PermissionDenied(
            "You asked for this, so another designated safeguarding lead must answer it."
        )
    raise ValidationError(
        f"This request has been answered already: "
        f"\u201c{locked.get_status_display().lower()}\u201d."
        if locked.status != ReshareStatus.REQUESTED
        else out_of_order_message(locked.share)
    )


def _new_share(
    organisation: Organisation,
    *,
    actor: User,
    answers: ShareAnswers,
    signing: Signing,
    request: ReshareRequest | None = None,
) -> Share:
    """Check the answers and the DSL's signature together, then save the record signed."""
    errors = _share_errors(organisation, actor, answers)
    signing_errors = _signing_errors(signing)
    raise_if({**errors, **signing_errors})
    method = _confirm_signer(actor, signing, needs_second_factor=True)
    share = Share(
        organisation=organisation,
        reference=next_reference(organisation, REFERENCE_PREFIX),
        pupil=answers.pupil,
        file_kind=answers.file_kind,
        file_reference=answers.file_reference.strip(),
        description=answers.description.strip(),
        recipient=answers.recipient,
        shared_by=actor,
        permitted_by_request=request,
    )
    share.save()
    _sign(share, Part.DSL, actor=actor, name=signing.name, method=method)
    return share


def _share_errors(organisation: Organisation, actor: User, answers: ShareAnswers) -> dict[str, str]:
    errors: dict[str, str] = {}
    pupil = answers.pupil
    if pupil is None:
        errors["pupil"] = "Choose the pupil the information is about"
    elif pupil.organisation_id != organisation.pk or pupil.kind != PersonKind.PUPIL:
        errors["pupil"] = "Choose a pupil of this school"
    if answers.file_kind not in FileKind.values:
        errors["file_kind"] = "Choose which of the child's files the form goes on"
    if not answers.file_reference.strip():
        errors["file_reference"] = "Enter the reference of the child's file"
    if not answers.description.strip():
        errors["description"] = "Describe briefly the information being shared"
    recipient = answers.recipient
    if recipient is None:
        errors["recipient"] = "Choose the member of staff you are sharing with"
    elif recipient.pk == actor.pk:
        errors["recipient"] = "Choose someone else: you already hold this information"
    elif recipient not in recipients_for(organisation):
        errors["recipient"] = "Choose a member of staff of this school"
    return errors


def _signing_errors(signing: Signing) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not signing.name.strip():
        errors["signed_name"] = "Type your name to sign"
    if not signing.confirmed:
        errors["confirmed"] = "Confirm the declaration to sign it"
    if not signing.secret.strip():
        errors["secret"] = "Enter the code from your authenticator app, or your password"
    return errors


def _confirm_signer(actor: User, signing: Signing, *, needs_second_factor: bool) -> str:
    """Prove the signer is who is signed in; a DSL must do so with a second factor."""
    raise_if(_signing_errors(signing))
    # The same setting that makes privileged people set up a second factor at sign-in.
    if needs_second_factor and settings.INFOSHARE_REQUIRE_MFA and not has_second_factor(actor):
        raise ValidationError(
            {"secret": "Set up an authenticator app for your account before you sign as a DSL"}
        )
    try:
        method = confirm_identity(actor, signing.secret)
    except TooManyAttempts:
        raise ValidationError(
            {"secret": "Too many wrong attempts. Wait five minutes, then try again"}
        ) from None
    if method is None:
        raise ValidationError(
            {
                "secret": "That code is wrong or has been used already. Enter the code "
                "your authenticator app shows now"
                if has_second_factor(actor)
                else "That password is wrong"
            }
        )
    return method


def _sign(share: Share, part: str, *, actor: User, name: str, method: str) -> Signature:
    signed_at = timezone.now()
    printed = name.strip()
    return Signature.objects.create(
        share=share,
        part=part,
        signer=actor,
        name=printed,
        signed_at=signed_at,
        confirmed_with=method,
        declaration_hash=declaration_hash(
            share, part, signer=actor, name=printed, signed_at=signed_at
        ),
    )


def _check_reshare_answers(share: Share, actor: User, answers: ReshareAnswers) -> None:
    errors: dict[str, str] = {}
    if answers.kind not in ReshareKind.values:
        errors["kind"] = "Choose whether you want to share with a colleague or an organisation"
    elif answers.kind == ReshareKind.INTERNAL:
        colleague = answers.colleague
        if colleague is None:
            errors["colleague"] = "Choose the member of staff"
        elif colleague.pk in {actor.pk, share.shared_by_id}:
            errors["colleague"] = "Choose someone who does not already hold this information"
        elif colleague not in recipients_for(share.organisation):
            errors["colleague"] = "Choose a member of staff of this school"
    elif answers.outside_organisation is None and not answers.outside_organisation_name.strip():
        errors["outside_organisation"] = "Choose the organisation, or type its name"
    if not answers.reason.strip():
        errors["reason"] = "Say why the information needs to be shared further"
    raise_if(errors)


def _answer(request: ReshareRequest, *, actor: User, reasons: str) -> None:
    request.answered_by = actor
    request.answered_at = timezone.now()
    request.answer_reasons = reasons.strip()
    request.save()


def _close_with_share(request: ReshareRequest, *, actor: User) -> None:
    """A withdrawn record's open request is refused with it (the information is withdrawn)."""
    request.refuse()
    _answer(request, actor=actor, reasons="The record was withdrawn.")
    audit.record(actor, "safeguarding.reshare_refused", request.share, _request_summary(request))
    transaction.on_commit(lambda: emails.send_reshare_answered(request))


def _apply(share: Share, method: Callable[[], None]) -> None:
    if not can_proceed(method):
        raise ValidationError(out_of_order_message(share))
    try:
        method()
    except TransitionNotAllowed as error:
        raise ValidationError(out_of_order_message(share)) from error


def _apply_request(request: ReshareRequest, method: Callable[[], None]) -> None:
    if not can_proceed(method):
        raise ValidationError("This request has been answered already.")
    method()


def _share_summary(share: Share) -> dict[str, object]:
    """What the audit trail keeps of a record: states and references, never its content."""
    summary: dict[str, object] = {"status": share.status, "file_kind": share.file_kind}
    if share.permitted_by_request_id is not None:
        summary["request"] = str(share.permitted_by_request.uuid)  # type: ignore[union-attr]
    return summary


def _request_summary(request: ReshareRequest) -> dict[str, object]:
    return {"request": str(request.uuid), "kind": request.kind, "status": request.status}
