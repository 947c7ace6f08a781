"""Every change to the returns calendar (DESIGN.md rule 1): the returns a school makes to the
DfE and others, on the days they fall due (policy 5.1).

The DfE's three school census returns are added a year at a time
(`add_census_returns`), on the days `calendar.census_days` gives; any other
return the school makes is added by hand (`add_return`). While a return is
open a keeper (the headteacher or the information manager, `can_keep_returns`)
may correct it, mark it submitted or withdraw it; a submitted or withdrawn
return is kept as it is. Each service locks the return, checks who is acting
and the return's status, checks the answers, saves and writes the audit event
in one transaction. Bad answers raise one ValidationError keyed by the form's
field names, and change nothing.

What a person may do with one return is answered by `actions_for`, which the
pages use to offer only what the services accept.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from infoshare.audit import services as audit
from infoshare.core.checks import raise_if, require
from infoshare.statutory import calendar
from infoshare.statutory.models import (
    CENSUS_KINDS,
    ReturnKind,
    ReturnStatus,
    StatutoryReturn,
)
from infoshare.statutory.rules import can_keep_returns, can_view_statutory

if TYPE_CHECKING:
    from collections.abc import Callable

    from infoshare.core.models import Organisation, User

DFE = "Department for Education"
# A due date further off than this is taken for a mistyped year.
YEARS_AHEAD = 5
YEARS_BEHIND = 2
# A return marked submitted more than this long before it falls due is taken for a mistyped date.
EARLIEST_SUBMISSION = datetime.timedelta(days=366)
TITLE_LENGTH = StatutoryReturn._meta.get_field("title").max_length or 200
RECIPIENT_LENGTH = StatutoryReturn._meta.get_field("recipient").max_length or 200
REFERENCE_LENGTH = StatutoryReturn._meta.get_field("submission_reference").max_length or 100
EXPORT_LABEL = "Returns calendar"


# --- What people answer ----------------------------------------------------------------


@dataclass(frozen=True)
class ReturnAnswers:
    """A return as typed: field names as in the forms."""

    title: str
    due_on: datetime.date | None
    recipient: str
    notes: str = ""
    # Only for a census (the DfE may move the day); ignored for any other return.
    census_day: datetime.date | None = None


@dataclass(frozen=True)
class CensusAdded:
    """What `add_census_returns` did: the returns it added and those already on the calendar."""

    academic_year: str
    added: list[StatutoryReturn] = field(default_factory=list)
    already: list[StatutoryReturn] = field(default_factory=list)


# --- What a person may do with a return ------------------------------------------------


@dataclass(frozen=True)
class Actions:
    """What `user` may do with a return now; the pages offer only these."""

    edit: bool = False
    submit: bool = False
    withdraw: bool = False

    @property
    def any(self) -> bool:
        return self.edit or self.submit or self.withdraw


def actions_for(statutory_return: StatutoryReturn, user: User) -> Actions:
    keeps = can_keep_returns(user, statutory_return.organisation)
    is_open = statutory_return.status == ReturnStatus.OPEN
    return Actions(edit=keeps and is_open, submit=keeps and is_open, withdraw=keeps and is_open)


REFUSALS = {
    "edit": "Only the headteacher or the information manager changes a return.",
    "submit": "Only the headteacher or the information manager marks a return as submitted.",
    "withdraw": "Only the headteacher or the information manager withdraws a return.",
}


def may_ever_take(statutory_return: StatutoryReturn, user: User, action: str) -> bool:
    """Whether `user`'s roles allow `action` on a return in some status (all are keepers')."""
    return action in REFUSALS and can_keep_returns(user, statutory_return.organisation)


def out_of_order_message(statutory_return: StatutoryReturn) -> str:
    return (
        f"That cannot be done now: {statutory_return.title} is "
        f"\u201c{statutory_return.get_status_display().lower()}\u201d."
    )


# --- Adding returns --------------------------------------------------------------------


def census_title(kind: str, academic_year: str) -> str:
    """ "Autumn school census 2026/27"."""
    return f"{ReturnKind(kind).label} {academic_year}"


def census_years_offered(today: datetime.date) -> list[int]:
    """The academic years whose census days may be added: the current one and the next."""
    current = calendar.academic_year_of(today)
    return [current, current + 1]


def add_census_returns(
    organisation: Organisation, *, actor: User, academic_year_start: int
) -> CensusAdded:
    """Add the autumn, spring and summer census returns of one academic year.

    Each is due on its census day and goes to the DfE. A census already on the
    calendar (whatever its status) is left alone: the unique constraint on
    (school, kind, year) makes adding twice add nothing, even when two keepers
    press the button at once.
    """
    with transaction.atomic():
        require(
            can_keep_returns(actor, organisation),
            "Only the headteacher or the information manager adds the census days.",
        )
        today = timezone.localdate()
        earliest = calendar.academic_year_of(today) - 1
        if not earliest <= academic_year_start <= earliest + 2:
            raise ValidationError(
                {
                    "academic_year": "Choose the current academic year, the next or the last "
                    f"({calendar.academic_year_label(earliest)} to "
                    f"{calendar.academic_year_label(earliest + 2)})"
                }
            )
        year = calendar.academic_year_label(academic_year_start)
        result = CensusAdded(academic_year=year)
        existing = {
            r.kind: r
            for r in StatutoryReturn.objects.filter(
                organisation=organisation, kind__in=CENSUS_KINDS, academic_year=year
            )
        }
        for kind, day in calendar.census_days(academic_year_start).items():
            if kind in existing:
                result.already.append(existing[kind])
                continue
            added = _add_census(organisation, actor=actor, kind=kind, year=year, day=day)
            if added is None:  # another keeper added it a moment ago
                result.already.append(
                    StatutoryReturn.objects.get(
                        organisation=organisation, kind=kind, academic_year=year
                    )
                )
                continue
            audit.record(
                actor,
                "statutory_return.census_added",
                added,
                {"kind": kind, "academic_year": year, "due_on": added.due_on.isoformat()},
            )
            result.added.append(added)
    return result


def _add_census(
    organisation: Organisation, *, actor: User, kind: str, year: str, day: datetime.date
) -> StatutoryReturn | None:
    """One census return, or None when the constraint says it exists already."""
    try:
        with transaction.atomic():  # a savepoint: a clash leaves the rest of the work intact
            return StatutoryReturn.objects.create(
                organisation=organisation,
                kind=kind,
                title=census_title(kind, year),
                academic_year=year,
                census_day=day,
                due_on=day,
                recipient=DFE,
                created_by=actor,
            )
    except IntegrityError:
        return None


def add_return(
    organisation: Organisation, *, actor: User, answers: ReturnAnswers
) -> StatutoryReturn:
    """Add a return other than a census, e.g. the school workforce census or a local authority's."""
    with transaction.atomic():
        require(
            can_keep_returns(actor, organisation),
            "Only the headteacher or the information manager adds a return.",
        )
        raise_if(_answer_errors(answers, census=False))
        assert answers.due_on is not None  # checked above
        added = StatutoryReturn.objects.create(
            organisation=organisation,
            kind=ReturnKind.OTHER,
            title=answers.title.strip(),
            due_on=answers.due_on,
            recipient=answers.recipient.strip(),
            notes=answers.notes.strip(),
            created_by=actor,
        )
        audit.record(
            actor,
            "statutory_return.added",
            added,
            {"kind": added.kind, "due_on": added.due_on.isoformat(), "recipient": added.recipient},
        )
    return added


# --- Changing one return ---------------------------------------------------------------


def edit_return(
    statutory_return: StatutoryReturn, *, actor: User, answers: ReturnAnswers
) -> StatutoryReturn:
    """Correct an open return: its title, due date, recipient and notes, and a census's day.

    A census keeps its kind and academic year; its census day must stay within
    that year. Nothing changed, nothing recorded.
    """
    with transaction.atomic():
        locked = lock_for(statutory_return, actor, "edit")
        census = locked.kind != ReturnKind.OTHER
        raise_if(_answer_errors(answers, census=census, academic_year=locked.academic_year))
        assert answers.due_on is not None  # checked above
        before = _editable(locked)
        locked.title = answers.title.strip()
        locked.due_on = answers.due_on
        locked.recipient = answers.recipient.strip()
        locked.notes = answers.notes.strip()
        if census:
            locked.census_day = answers.census_day
        changes = _changes(before, _editable(locked))
        if changes:
            locked.save()
            audit.record(actor, "statutory_return.edited", locked, changes)
    return locked


def mark_return_submitted(
    statutory_return: StatutoryReturn,
    *,
    actor: User,
    submitted_on: datetime.date | None,
    reference: str = "",
) -> StatutoryReturn:
    """Record that the return was made: on which day (today or earlier), by the actor.

    The day may not be in the future, nor before a census's census day (its
    data are those of that day), nor, for another return, more than a year
    before it fell due (a mistyped year).
    """
    with transaction.atomic():
        locked = lock_for(statutory_return, actor, "submit")
        raise_if(_submission_errors(locked, submitted_on, reference))
        _apply(locked, locked.mark_submitted)
        locked.submitted_on = submitted_on
        locked.submitted_by = actor
        locked.submitted_at = timezone.now()
        locked.submission_reference = reference.strip()
        locked.save()
        assert submitted_on is not None  # checked above
        audit.record(
            actor,
            "statutory_return.submitted",
            locked,
            {
                "status": locked.status,
                "submitted_on": submitted_on.isoformat(),
                "late": submitted_on > locked.due_on,
                "submission_reference": locked.submission_reference,
            },
        )
    return locked


def withdraw_return(
    statutory_return: StatutoryReturn, *, actor: User, reason: str
) -> StatutoryReturn:
    """An open return that is not needed after all: kept, with who withdrew it and why."""
    with transaction.atomic():
        locked = lock_for(statutory_return, actor, "withdraw")
        if not reason.strip():
            raise ValidationError({"reason": "Say why the return is not needed"})
        _apply(locked, locked.withdraw)
        locked.withdrawn_by = actor
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_reason = reason.strip()
        locked.save()
        audit.record(actor, "statutory_return.withdrawn", locked, {"status": locked.status})
    return locked


def note_returns_exported(
    organisation: Organisation, *, actor: User, changes: dict[str, Any]
) -> None:
    """Record that `actor` downloaded the calendar (`changes`: format, rows, filters)."""
    with transaction.atomic():
        if not can_view_statutory(actor, organisation):
            raise PermissionDenied("Only those who may see the returns calendar export it.")
        audit.record(actor, "statutory_returns.exported", organisation, changes, label=EXPORT_LABEL)


# --- Helpers ---------------------------------------------------------------------------


def lock_for(statutory_return: StatutoryReturn, actor: User, action: str) -> StatutoryReturn:
    """The return, locked, if `actor` may take `action` on it now."""
    locked = (
        StatutoryReturn.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=statutory_return.pk)
    )
    if getattr(actions_for(locked, actor), action):
        return locked
    if not may_ever_take(locked, actor, action):
        raise PermissionDenied(REFUSALS[action])
    raise ValidationError(out_of_order_message(locked))


def _apply(statutory_return: StatutoryReturn, method: Callable[[], None]) -> None:
    if not can_proceed(method):
        raise ValidationError(out_of_order_message(statutory_return))
    method()


def _answer_errors(
    answers: ReturnAnswers, *, census: bool, academic_year: str = ""
) -> dict[str, str]:
    errors: dict[str, str] = {}
    title = answers.title.strip()
    if not title:
        errors["title"] = "Enter the name of the return, like School workforce census"
    elif len(title) > TITLE_LENGTH:
        errors["title"] = f"The name must be {TITLE_LENGTH} characters or fewer"
    recipient = answers.recipient.strip()
    if not recipient:
        errors["recipient"] = "Enter who the return goes to, like Department for Education"
    elif len(recipient) > RECIPIENT_LENGTH:
        errors["recipient"] = f"Who it goes to must be {RECIPIENT_LENGTH} characters or fewer"
    if due_error := _due_error(answers.due_on):
        errors["due_on"] = due_error
    if census:
        for name, message in _census_day_errors(answers, academic_year).items():
            errors.setdefault(name, message)
    return errors


def _due_error(due_on: datetime.date | None) -> str:
    if due_on is None:
        return "Enter the date the return is due"
    today = timezone.localdate()
    if due_on.year < today.year - YEARS_BEHIND:
        return f"Enter a due date no earlier than {today.year - YEARS_BEHIND}"
    if due_on.year > today.year + YEARS_AHEAD:
        return f"Enter a due date no later than {today.year + YEARS_AHEAD}"
    return ""


def _census_day_errors(answers: ReturnAnswers, academic_year: str) -> dict[str, str]:
    """A census day inside the census's academic year, and not after the return is due."""
    day = answers.census_day
    if day is None:
        return {"census_day": "Enter the census day"}
    start = calendar.academic_year_from_label(academic_year)
    assert start is not None  # a census always has its year (a constraint of the model)
    first, last = calendar.academic_year_bounds(start)
    if not first <= day <= last:
        return {
            "census_day": f"The census day must be in the academic year {academic_year}, "
            f"from {first:%-d %B %Y} to {last:%-d %B %Y}"
        }
    if answers.due_on is not None and answers.due_on < day:
        return {"due_on": "The return cannot be due before its census day"}
    return {}


def _submission_errors(
    statutory_return: StatutoryReturn, submitted_on: datetime.date | None, reference: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(reference.strip()) > REFERENCE_LENGTH:
        errors["submission_reference"] = (
            f"The reference must be {REFERENCE_LENGTH} characters or fewer"
        )
    census_day = statutory_return.census_day
    if submitted_on is None:
        errors["submitted_on"] = "Enter the date the return was submitted"
    elif submitted_on > timezone.localdate():
        errors["submitted_on"] = "The date it was submitted cannot be in the future"
    elif census_day is not None and submitted_on < census_day:
        errors["submitted_on"] = (
            f"A census is submitted on or after its census day, {census_day:%-d %B %Y}"
        )
    elif submitted_on < statutory_return.due_on - EARLIEST_SUBMISSION:
        errors["submitted_on"] = (
            "That is more than a year before the return was due: check the year"
        )
    return errors


def _editable(statutory_return: StatutoryReturn) -> dict[str, Any]:
    return {
        "title": statutory_return.title,
        "due_on": statutory_return.due_on,
        "census_day": statutory_return.census_day,
        "recipient": statutory_return.recipient,
        "notes": statutory_return.notes,
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """[before, after] of each changed field; notes (free text) only as having changed."""
    changes: dict[str, Any] = {}
    for name, old in before.items():
        new = after[name]
        if old == new:
            continue
        if name == "notes":
            changes[name] = "changed"
        else:
            changes[name] = [_plain(old), _plain(new)]
    return changes


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value
