"""Every change to a roll change (DESIGN.md rule 1): recording, withdrawing, notifying the
local authority, and the audited exports of the notifications.

A school tells its local authority when a pupil joins the roll, by the end of
the fifth day after the day the pupil is entered in the admission register,
and when a pupil's name is to be deleted from it, on one of the grounds of
regulation 9, no later than the deletion (School Attendance (Pupil
Registration) (England) Regulations 2024, regulation 13; policy 5.1). Marking
changes notified records one statutory decision in the decision log, so the
log holds every disclosure the school makes, statutory ones included.

What a person may do with one change is answered by `actions_for`, which the
pages use to offer only what the services accept. The audit trail names
changes by reference and pupils by UUID, never by name.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from infoshare.audit import services as audit
from infoshare.core import services as people
from infoshare.core.checks import raise_if, require
from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
    Purpose,
    User,
)
from infoshare.core.references import next_reference
from infoshare.core.upn import normalise_upn, validate_upn
from infoshare.decisions import services as decisions
from infoshare.decisions.models import Arrangement, Check, Consent, Method, Outcome
from infoshare.statutory.models import (
    DAYS_TO_NOTIFY_JOINING,
    ChangeKind,
    NotificationMethod,
    NotificationStatus,
    RemovalGround,
    RollChange,
)
from infoshare.statutory.rules import can_keep_roll

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from infoshare.decisions.models import Decision

REFERENCE_PREFIX = "RC"
# How far from today a change may be dated. Schools record admissions ahead of
# the start of the school year (in the spring for September), and a removal
# can be known months before it takes effect, so a year ahead is allowed; a
# change is recorded as it happens, or late when a notification was missed,
# so five years back covers every pupil of compulsory school age still
# relevant. Anything beyond is a typing mistake (2062 for 2026).
MOST_AHEAD = datetime.timedelta(days=366)
MOST_BEHIND = datetime.timedelta(days=5 * 366)
# Where a change comes from, kept in its audit event.
SOURCES = frozenset({"form", "import", "demo"})
# The longest reference of the local authority's that a notification keeps (the model's field).
REFERENCE_LENGTH = 100

# The decision every notification records (policy 5.1): always the same legal duty.
DECISION_PURPOSE = "roll-change"
DECISION_BASIS = "legal-obligation"
DECISION_CATEGORIES = ("identity-contact", "education")
DECISION_RECIPIENT = "The local authority's children missing education team"
DECISION_REASONS = (
    "A legal duty: regulation 13 of the School Attendance (Pupil Registration) (England) "
    "Regulations 2024 requires the school to tell the local authority when a pupil joins the "
    "roll (within five days) and when a pupil's name is to be deleted from it (no later than "
    "the deletion), so that children missing education can be found."
)
DECISION_CONSENT_EXPLANATION = (
    "Consent is not the basis: the school must tell the local authority by law "
    "(regulation 13 of the School Attendance (Pupil Registration) (England) Regulations 2024)."
)
# How each way of telling the local authority is named in the decision log.
DECISION_METHODS = {
    NotificationMethod.LA_PORTAL: Method.STATUTORY_SYSTEM,
    NotificationMethod.SECURE_EMAIL: Method.ENCRYPTED_EMAIL,
    NotificationMethod.SECURE_TRANSFER: Method.SECURE_TRANSFER,
    NotificationMethod.LETTER: Method.POST,
}


# --- What people answer ------------------------------------------------------------------


@dataclass(frozen=True)
class RollChangeDraft:
    """One change as recorded on the form or read from an import, before it is checked."""

    kind: str  # ChangeKind value
    change_date: datetime.date
    pupil: Person | None = None  # an existing pupil of the organisation, or None for a new one
    given_name: str = ""  # for a new pupil (a pupil joining who is not yet on the list)
    family_name: str = ""
    upn: str = ""  # optional; validated with infoshare.core.upn if given
    date_of_birth: datetime.date | None = None
    ground: RemovalGround | None = None  # required for a removal, refused for a joining
    notes: str = ""

    @property
    def is_new_pupil(self) -> bool:
        return self.pupil is None


@dataclass(frozen=True)
class Notification:
    """How the local authority was told: to whom, on which day, how, and its reference."""

    local_authority: Organisation | None
    notified_on: datetime.date | None
    method: str
    reference: str = ""


class RollChangesRefused(ValidationError):
    """Drafts of a batch that cannot be recorded; nothing was. Keyed by each draft's position.

    `draft_errors` keeps each draft's problems by field, for an import to show
    beside its rows.
    """

    def __init__(self, draft_errors: dict[int, dict[str, str]]) -> None:
        # Keyed by position (an int), which Django's stubs do not foresee but it takes.
        by_position: dict[Any, list[str]] = {
            position: [
                f"{_FIELD_LABELS.get(name, name)}: {message}" for name, message in errors.items()
            ]
            for position, errors in draft_errors.items()
        }
        super().__init__(by_position)
        self.draft_errors = draft_errors


_FIELD_LABELS = {
    "kind": "Change",
    "change_date": "Date",
    "pupil": "Pupil",
    "given_name": "First name",
    "family_name": "Last name",
    "upn": "UPN",
    "date_of_birth": "Date of birth",
    "ground": "Ground",
    "notes": "Notes",
}


# --- What a person may do with a change ---------------------------------------------------


@dataclass(frozen=True)
class Actions:
    """What `user` may do with a change now; the pages offer only these."""

    notify: bool = False
    withdraw: bool = False
    export: bool = False


def actions_for(change: RollChange, user: User) -> Actions:
    keeps = can_keep_roll(user, change.organisation)
    to_notify = change.status == NotificationStatus.TO_NOTIFY
    return Actions(
        notify=keeps and to_notify,
        withdraw=keeps and to_notify,
        export=keeps and change.status != NotificationStatus.WITHDRAWN,
    )


REFUSALS = {
    "notify": "Only the headteacher or an information manager tells the local authority.",
    "withdraw": "Only the headteacher or an information manager withdraws a roll change.",
    "export": "Only the headteacher or an information manager exports roll changes.",
    "record": "Only the headteacher or an information manager records roll changes.",
}


def may_ever_take(change: RollChange, user: User, action: str) -> bool:
    """Whether `user`'s roles allow `action` on a change in some status."""
    return bool(can_keep_roll(user, change.organisation))


def out_of_order_message(change: RollChange) -> str:
    if change.status == NotificationStatus.NOTIFIED and change.notified_on:
        return (
            f"{change.reference} was notified to the local authority on "
            f"{change.notified_on:%-d %B %Y}, so that cannot be done now."
        )
    return (
        f"That cannot be done now: {change.reference} is "
        f"\u201c{change.get_status_display().lower()}\u201d."
    )


def in_time(today: datetime.date) -> Q:
    """Changes whose deadline is today or later (`RollChange.deadline`, as a filter)."""
    joining_from = today - datetime.timedelta(days=DAYS_TO_NOTIFY_JOINING)
    return Q(kind=ChangeKind.JOINED, change_date__gte=joining_from) | Q(
        kind=ChangeKind.REMOVED, change_date__gte=today
    )


# --- Recording ----------------------------------------------------------------------------


def roll_change_errors(
    organisation: Organisation, draft: RollChangeDraft, *, today: datetime.date
) -> dict[str, str]:
    """Every way `draft` cannot be recorded, keyed by its field; {} when it can."""
    errors = {
        **_pupil_errors(organisation, draft),
        **_ground_errors(draft),
        **_date_errors(draft, today),
    }
    if not errors and (earlier := _same_change(organisation, draft)) is not None:
        errors["change_date"] = (
            f"This is already recorded as {earlier.reference}. Withdraw that one first "
            "if it is wrong"
        )
    return errors


def record_roll_change(
    organisation: Organisation, *, actor: User, draft: RollChangeDraft
) -> RollChange:
    """Record that a pupil joined the roll, or is to be removed from it (policy 5.1)."""
    with transaction.atomic():
        _require_keeper(actor, organisation)
        # Behind any other change to the school's pupils, so the duplicate check sees it.
        people.lock_people_of(organisation)
        raise_if(roll_change_errors(organisation, draft, today=timezone.localdate()))
        return _record(organisation, actor=actor, draft=draft, source="form")


def record_roll_changes(
    organisation: Organisation,
    *,
    actor: User,
    drafts: Sequence[RollChangeDraft],
    source: str,
) -> list[RollChange]:
    """Record several changes, all or none (an import).

    Every draft is checked before any is saved, against the records and against
    the other drafts, so one file cannot record the same change twice.
    Raises `RollChangesRefused` (keyed by position) listing every problem.
    """
    if source not in SOURCES:
        raise ValueError(f"Unknown source of roll changes: {source!r}")
    if not drafts:
        raise ValidationError("There are no roll changes to record.")
    today = timezone.localdate()
    with transaction.atomic():
        _require_keeper(actor, organisation)
        people.lock_people_of(organisation)
        draft_errors = _batch_errors(organisation, drafts, today)
        if draft_errors:
            raise RollChangesRefused(draft_errors)
        recorded = []
        for position, draft in enumerate(drafts):
            try:
                recorded.append(_record(organisation, actor=actor, draft=draft, source=source))
            except ValidationError as error:
                # The people list's own checks (a name too long): refused like the others.
                raise RollChangesRefused(
                    {position: {name: " ".join(m) for name, m in _by_field(error).items()}}
                ) from error
    return recorded


def _batch_errors(
    organisation: Organisation, drafts: Sequence[RollChangeDraft], today: datetime.date
) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    first_of: dict[tuple[object, ...], int] = {}
    for position, draft in enumerate(drafts):
        errors = roll_change_errors(organisation, draft, today=today)
        earlier = first_of.setdefault(_identity(draft), position)
        if earlier != position and not errors:
            errors["change_date"] = f"The same change as number {earlier + 1} of this batch"
        if errors:
            found[position] = errors
    return found


def _identity(draft: RollChangeDraft) -> tuple[object, ...]:
    """What makes two drafts the same change: the pupil (or new pupil), kind and date."""
    who: object = (
        draft.pupil.pk
        if draft.pupil is not None
        else normalise_upn(draft.upn)
        or (
            draft.given_name.strip().lower(),
            draft.family_name.strip().lower(),
            draft.date_of_birth,
        )
    )
    return (who, draft.kind, draft.change_date)


def _record(
    organisation: Organisation, *, actor: User, draft: RollChangeDraft, source: str
) -> RollChange:
    pupil = draft.pupil or _add_new_pupil(organisation, actor=actor, draft=draft)
    if draft.pupil is not None:
        _note_on_roll_dates(pupil, actor=actor, draft=draft)
    change = RollChange(
        organisation=organisation,
        reference=next_reference(organisation, REFERENCE_PREFIX),
        pupil=pupil,
        kind=draft.kind,
        change_date=draft.change_date,
        ground=draft.ground if draft.kind == ChangeKind.REMOVED else None,
        notes=draft.notes.strip(),
        recorded_by=actor,
    )
    change.save()
    audit.record(
        actor,
        "roll_change.recorded",
        change,
        {
            "kind": change.kind,
            "change_date": change.change_date.isoformat(),
            "ground": change.ground.code if change.ground else None,
            "pupil": str(pupil.uuid),
            "source": source,
        },
    )
    return change


def _add_new_pupil(organisation: Organisation, *, actor: User, draft: RollChangeDraft) -> Person:
    """A pupil joining who is not on the people list yet goes on it, through its own service."""
    return people.add_person(
        organisation,
        actor=actor,
        kind=PersonKind.PUPIL,
        given_name=draft.given_name,
        family_name=draft.family_name,
        upn=draft.upn,
        date_of_birth=draft.date_of_birth,
        on_roll_from=draft.change_date,
    )


def _note_on_roll_dates(pupil: Person, *, actor: User, draft: RollChangeDraft) -> None:
    """Fill in the pupil's date on or off the roll when the people list has none.

    Only when empty: the people list is usually imported from the school's
    information system, whose dates are the register's own, and a pupil who
    left and came back keeps the dates the school chose to keep. A date that
    would put the pupil's leaving before their joining is left alone too.
    """
    if draft.kind == ChangeKind.JOINED:
        fits = pupil.on_roll_until is None or draft.change_date <= pupil.on_roll_until
        if pupil.on_roll_from is None and fits:
            people.change_person(pupil, actor=actor, on_roll_from=draft.change_date)
    else:
        fits = pupil.on_roll_from is None or draft.change_date >= pupil.on_roll_from
        if pupil.on_roll_until is None and fits:
            people.change_person(pupil, actor=actor, on_roll_until=draft.change_date)


def _pupil_errors(organisation: Organisation, draft: RollChangeDraft) -> dict[str, str]:
    if draft.kind not in ChangeKind.values:
        return {"kind": "Choose whether the pupil joined or is being removed from the roll"}
    pupil = draft.pupil
    if pupil is not None:
        if pupil.organisation_id != organisation.pk or pupil.kind != PersonKind.PUPIL:
            return {"pupil": "Choose a pupil of this school"}
        return {}
    if draft.kind == ChangeKind.REMOVED:
        return {"pupil": "Choose the pupil being removed from the roll"}
    return _new_pupil_errors(organisation, draft)


def _new_pupil_errors(organisation: Organisation, draft: RollChangeDraft) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not draft.given_name.strip():
        errors["given_name"] = "Enter the pupil's first name"
    if not draft.family_name.strip():
        errors["family_name"] = "Enter the pupil's last name"
    upn = normalise_upn(draft.upn)
    if upn:
        try:
            validate_upn(upn)
        except ValidationError as error:
            errors["upn"] = error.messages[0]
        else:
            if Person.objects.in_organisation(organisation).filter(upn=upn).exists():
                errors["upn"] = (
                    "A pupil of this school already has this UPN. Choose them from the "
                    "list of pupils instead"
                )
    return errors


def _ground_errors(draft: RollChangeDraft) -> dict[str, str]:
    if draft.kind == ChangeKind.REMOVED and draft.ground is None:
        return {"ground": "Choose the ground on which the pupil is removed from the roll"}
    if draft.kind == ChangeKind.REMOVED and draft.ground and not draft.ground.is_active:
        return {"ground": "That ground is no longer in use. Choose another"}
    if draft.kind == ChangeKind.JOINED and draft.ground is not None:
        return {"ground": "A pupil joining the roll has no ground for removal"}
    return {}


def _date_errors(draft: RollChangeDraft, today: datetime.date) -> dict[str, str]:
    date = draft.change_date
    if date > today + MOST_AHEAD:
        return {"change_date": "The date must be no more than a year from today"}
    if date < today - MOST_BEHIND:
        return {"change_date": "The date must be within the last five years"}
    born = draft.date_of_birth if draft.pupil is None else draft.pupil.date_of_birth
    if born is not None and born >= date:
        field = "date_of_birth" if draft.pupil is None else "change_date"
        return {field: "The date of birth must be before the date of the change"}
    pupil = draft.pupil
    if (
        draft.kind == ChangeKind.REMOVED
        and pupil is not None
        and pupil.on_roll_from is not None
        and date < pupil.on_roll_from
    ):
        return {
            "change_date": f"The pupil joined the roll on {pupil.on_roll_from:%-d %B %Y}: "
            "the removal must be on or after that day"
        }
    return {}


def _same_change(organisation: Organisation, draft: RollChangeDraft) -> RollChange | None:
    if draft.pupil is None:
        return None
    return (
        RollChange.objects.filter(
            organisation=organisation,
            pupil=draft.pupil,
            kind=draft.kind,
            change_date=draft.change_date,
        )
        .exclude(status=NotificationStatus.WITHDRAWN)
        .first()
    )


# --- Withdrawing --------------------------------------------------------------------------


def withdraw_roll_change(change: RollChange, *, actor: User, reason: str) -> RollChange:
    """A change recorded in error is withdrawn, with the reason; it is never deleted.

    The pupil stays on the people list, with any date the change filled in: the
    list is corrected there, by those who keep it.
    """
    with transaction.atomic():
        change = lock_for(change, actor, "withdraw")
        raise_if({"reason": "Say why the roll change is withdrawn"} if not reason.strip() else {})
        _apply(change, change.withdraw)
        change.withdrawn_by = actor
        change.withdrawn_at = timezone.now()
        change.withdrawn_reason = reason.strip()
        change.save()
        audit.record(actor, "roll_change.withdrawn", change, {"status": change.status})
    return change


# --- Notifying the local authority --------------------------------------------------------


def local_authorities() -> list[Organisation]:
    return list(Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY))


def default_local_authority(organisation: Organisation) -> Organisation | None:
    """The local authority the school told last, else the one that maintains it."""
    last = (
        RollChange.objects.filter(organisation=organisation, notified_to__isnull=False)
        .select_related("notified_to")
        .order_by("-notified_at", "-pk")
        .first()
    )
    if last is not None and last.notified_to is not None:
        return last.notified_to
    parent = organisation.parent
    if parent is not None and parent.kind == OrganisationKind.LOCAL_AUTHORITY:
        return parent
    return None


def notification_errors(notification: Notification, *, today: datetime.date) -> dict[str, str]:
    errors: dict[str, str] = {}
    authority = notification.local_authority
    if authority is None:
        errors["local_authority"] = "Choose the local authority you told"
    elif authority.kind != OrganisationKind.LOCAL_AUTHORITY:
        errors["local_authority"] = "Choose a local authority"
    if notification.notified_on is None:
        errors["notified_on"] = "Enter the date you told the local authority"
    elif notification.notified_on > today:
        errors["notified_on"] = "The date you told the local authority must be today or earlier"
    elif notification.notified_on < today - MOST_BEHIND:
        errors["notified_on"] = "The date must be within the last five years"
    if notification.method not in NotificationMethod.values:
        errors["method"] = "Choose how you told the local authority"
    if len(notification.reference.strip()) > REFERENCE_LENGTH:
        errors["reference"] = f"The reference must be {REFERENCE_LENGTH} characters or fewer"
    return errors


def notify_roll_changes(
    organisation: Organisation,
    *,
    actor: User,
    changes: Iterable[RollChange],
    notification: Notification,
) -> Decision:
    """Mark the changes notified, and record the statutory decision to share in the log.

    One transaction: either every change is marked and linked to the one
    decision, or nothing is.
    """
    with transaction.atomic():
        _require_keeper(actor, organisation)
        locked = _lock_all(organisation, changes, actor, "notify")
        raise_if(notification_errors(notification, today=timezone.localdate()))
        decision = decisions.record_decision(
            organisation, actor=actor, draft=_decision_draft(locked, actor, notification)
        )
        now = timezone.now()
        for change in locked:
            _apply(change, change.mark_notified)
            change.notified_to = notification.local_authority
            change.notified_on = notification.notified_on
            change.notified_by = actor
            change.notified_at = now
            change.notification_method = notification.method
            change.notification_reference = notification.reference.strip()
            change.decision = decision
            change.save()
            audit.record(
                actor,
                "roll_change.notified",
                change,
                {
                    "status": change.status,
                    "notified_to": notification.local_authority.slug,  # type: ignore[union-attr]
                    "notified_on": notification.notified_on.isoformat(),  # type: ignore[union-attr]
                    "method": notification.method,
                    "decision": decision.reference,
                },
            )
    return decision


def _decision_draft(
    changes: Sequence[RollChange], actor: User, notification: Notification
) -> decisions.DecisionDraft:
    """The decision log's record of the notification: a statutory share under a legal duty."""
    pupils = list({change.pupil_id: change.pupil for change in changes}.values())
    particulars = sorted(
        {"removal ground" if c.kind == ChangeKind.REMOVED else "admission" for c in changes}
    )
    return decisions.DecisionDraft(
        information=(
            "Roll change notifications "
            + ", ".join(change.reference for change in changes)
            + f" ({' and '.join(particulars)} particulars from the admission register)"
        ),
        categories=list(DataCategory.objects.filter(code__in=DECISION_CATEGORIES)),
        recipient_person=DECISION_RECIPIENT,
        recipient_organisation=notification.local_authority,
        purpose=Purpose.objects.get(code=DECISION_PURPOSE),
        outcome=Outcome.SHARED,
        consent=Consent.NOT_SOUGHT_OTHER_BASIS,
        consent_explanation=DECISION_CONSENT_EXPLANATION,
        reasons=DECISION_REASONS,
        lawful_basis=LawfulBasis.objects.get(code=DECISION_BASIS),
        checks=tuple(Check.values),
        method=DECISION_METHODS[NotificationMethod(notification.method)],
        arrangement=Arrangement.STATUTORY,
        decided_by=actor,
        decided_on=notification.notified_on,  # type: ignore[arg-type]
        people=pupils,
    )


# --- Exporting ------------------------------------------------------------------------------


def exportable(
    organisation: Organisation, *, actor: User, changes: Iterable[RollChange]
) -> list[RollChange]:
    """The changes, if `actor` may export every one of them (not withdrawn ones)."""
    chosen = list(changes)
    _require_keeper(actor, organisation)
    if not chosen:
        raise ValidationError("Select the roll changes to export.")
    for change in chosen:
        if change.organisation_id != organisation.pk:
            raise PermissionDenied("That roll change is not this school's.")
        if not actions_for(change, actor).export:
            raise ValidationError(
                f"{change.reference} is withdrawn, so it is not sent to the local authority."
            )
    return chosen


def note_exported(
    organisation: Organisation,
    *,
    actor: User,
    changes: Sequence[RollChange],
    export_format: str,
    local_authority: Organisation | None = None,
) -> None:
    """An export is a copy of pupils' details leaving the service: references only here."""
    with transaction.atomic():
        audit.record(
            actor,
            "roll_change.exported",
            None,
            {
                "format": export_format,
                "references": [change.reference for change in changes],
                "local_authority": local_authority.slug if local_authority else None,
            },
            organisation=organisation,
            label="Roll change notifications",
        )


# --- Helpers --------------------------------------------------------------------------------


def lock_for(change: RollChange, actor: User, action: str) -> RollChange:
    """The change, locked, if `actor` may take `action` on it now."""
    locked = (
        RollChange.objects.select_for_update(of=("self",))
        .select_related("organisation", "pupil")
        .get(pk=change.pk)
    )
    _check_allowed(locked, actor, action)
    return locked


def _lock_all(
    organisation: Organisation, changes: Iterable[RollChange], actor: User, action: str
) -> list[RollChange]:
    wanted = {change.pk for change in changes}
    if not wanted:
        raise ValidationError("Select the roll changes the local authority was told of.")
    locked = list(
        RollChange.objects.select_for_update(of=("self",))
        .select_related("organisation", "pupil")
        .filter(pk__in=wanted)
        .order_by("change_date", "pk")
    )
    for change in locked:
        if change.organisation_id != organisation.pk:
            raise PermissionDenied("That roll change is not this school's.")
        _check_allowed(change, actor, action)
    return locked


def _check_allowed(change: RollChange, actor: User, action: str) -> None:
    if getattr(actions_for(change, actor), action):
        return
    if not may_ever_take(change, actor, action):
        raise PermissionDenied(REFUSALS[action])
    raise ValidationError(out_of_order_message(change))


def _require_keeper(actor: User, organisation: Organisation) -> None:
    require(can_keep_roll(actor, organisation), REFUSALS["record"])


def _apply(change: RollChange, method: Callable[[], None]) -> None:
    if not can_proceed(method):
        raise ValidationError(out_of_order_message(change))
    method()


def _by_field(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
    return {"__all__": list(error.messages)}
