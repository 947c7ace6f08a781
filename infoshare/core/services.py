"""Every change to organisations, members, accounts and people (DESIGN.md rule 1).

Each function checks permission, checks the change is allowed, saves and
appends the audit event in one transaction; emails go out on commit.
Permission failures raise PermissionDenied; a change that is not allowed
raises ValidationError with a message a headteacher can act on, keyed by
the form field it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.core import emails
from infoshare.core.imports import RowError
from infoshare.core.models import (
    PRIVILEGED_ROLES,
    ROLES_HELD_ON_BEHALF,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
    Role,
    User,
)
from infoshare.core.rules import (
    can_grant_privileged_roles,
    can_manage_members,
    can_manage_people,
    forget_roles,
)
from infoshare.core.upn import normalise_upn

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from infoshare.core.imports import PupilRow


def invite_member(
    organisation: Organisation,
    *,
    actor: User,
    email: str,
    name: str,
    roles: Iterable[str],
    job_title: str = "",
    acting_for: Organisation | None = None,
) -> Membership:
    """Give a person roles in the organisation and email them an invitation.

    Someone new gets an account without a password and a link to set one;
    someone who already has an account (a DPO serving several schools) is
    told they can now open this organisation.
    """
    roles = _checked_roles(roles)
    email = User.objects.normalize_email(email).strip().lower()
    with transaction.atomic():
        _require_member_manager(actor, organisation, roles)
        _check_acting_for(acting_for, roles)
        if not organisation.can_have_members:
            raise ValidationError(
                "External parties have no members: they receive secure transfers."
            )
        user = User.objects.select_for_update().filter(email=email).first()
        if (
            user is not None
            and user.memberships.active().filter(organisation=organisation).exists()
        ):
            raise ValidationError({"email": f"{email} is already a member of {organisation}."})
        if user is None:
            user = User.objects.create_user(email=email, name=name.strip())
        membership = Membership.objects.create(
            user=user, organisation=organisation, acting_for=acting_for, job_title=job_title.strip()
        )
        membership.set_roles(roles)
        audit.record(
            actor,
            "membership.invited",
            membership,
            {
                "email": email,
                "roles": sorted(roles),
                "acting_for": acting_for.slug if acting_for else None,
            },
            label=_label(membership),
        )
        _send_invitation_on_commit(membership, invited_by=actor)
    return membership


def enrol_member(
    organisation: Organisation,
    *,
    user: User,
    roles: Iterable[str],
    acting_for: Organisation | None = None,
    job_title: str = "",
) -> Membership:
    """Add an existing account to an organisation without an invitation.

    For management commands run by the platform's operators (the demo data,
    an organisation's first headteacher); the audit event has no actor.
    """
    roles = _checked_roles(roles)
    with transaction.atomic():
        _check_acting_for(acting_for, roles)
        membership = Membership.objects.create(
            user=user, organisation=organisation, acting_for=acting_for, job_title=job_title
        )
        membership.set_roles(roles)
        audit.record(
            None,
            "membership.enrolled",
            membership,
            {
                "email": user.email,
                "roles": sorted(roles),
                "acting_for": acting_for.slug if acting_for else None,
            },
            label=_label(membership),
        )
    return membership


def resend_invitation(membership: Membership, *, actor: User) -> None:
    with transaction.atomic():
        membership = _lock(membership)
        _require_member_manager(actor, membership.organisation, ())
        _require_active(membership)
        if membership.user.has_usable_password():
            raise ValidationError(f"{membership.user} has already accepted their invitation.")
        audit.record(actor, "membership.invitation_resent", membership, label=_label(membership))
        _send_invitation_on_commit(membership, invited_by=actor)


def change_roles(membership: Membership, *, actor: User, roles: Iterable[str]) -> Membership:
    new_roles = _checked_roles(roles)
    with transaction.atomic():
        membership = _lock(membership)
        old_roles = set(membership.roles)
        _require_member_manager(actor, membership.organisation, old_roles ^ new_roles)
        _require_active(membership)
        _refuse_self(actor, membership, "change your own roles")
        _check_acting_for(membership.acting_for, new_roles)
        if new_roles == old_roles:
            return membership
        membership.set_roles(new_roles)
        audit.record(
            actor,
            "membership.roles_changed",
            membership,
            {"roles": [sorted(old_roles), sorted(new_roles)]},
            label=_label(membership),
        )
    forget_roles(membership.user)
    return membership


def remove_member(membership: Membership, *, actor: User, reason: str) -> Membership:
    """End the membership; the row and its history stay."""
    with transaction.atomic():
        membership = _lock(membership)
        _require_member_manager(actor, membership.organisation, membership.roles)
        _require_active(membership)
        _refuse_self(actor, membership, "remove yourself")
        if not reason.strip():
            raise ValidationError({"reason": "Enter why you are removing this member"})
        membership.ended_at = timezone.now()
        membership.save(update_fields=["ended_at"])
        audit.record(
            actor,
            "membership.removed",
            membership,
            {"roles": sorted(membership.roles), "reason": reason.strip()},
            label=_label(membership),
        )
    forget_roles(membership.user)
    return membership


def accept_invitation(user: User, *, password: str) -> None:
    """The invitee sets their password; recorded in each organisation they joined."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        for membership in user.memberships.active().select_related("organisation"):
            audit.record(
                user, "membership.invitation_accepted", membership, label=_label(membership)
            )


def create_organisation(
    *,
    actor: User | None,
    name: str,
    slug: str,
    kind: str,
    urn: str = "",
    external_kind: str = "",
    parent: Organisation | None = None,
) -> Organisation:
    """Used by the demo data and the platform operators' tools; audited in its own chain."""
    organisation = Organisation(
        name=name, slug=slug, kind=kind, urn=urn, external_kind=external_kind, parent=parent
    )
    organisation.full_clean()
    with transaction.atomic():
        organisation.save()
        audit.record(actor, "organisation.created", organisation, {"kind": kind, "urn": urn})
    return organisation


def invitation_path(user: User) -> str:
    """The link an invitee follows; names them by UUID and a one-use token."""
    from django.urls import reverse

    return reverse(
        "core:accept_invitation",
        kwargs={"user": user.uuid, "token": default_token_generator.make_token(user)},
    )


# --- checks shared by the services above ---------------------------------------------------


def _checked_roles(roles: Iterable[str]) -> set[str]:
    chosen = set(roles)
    if not chosen:
        raise ValidationError({"roles": "Select at least one role"})
    unknown = chosen - set(Role.values)
    if unknown:
        raise ValidationError({"roles": f"Unknown role: {', '.join(sorted(unknown))}"})
    return chosen


def _require_member_manager(actor: User, organisation: Organisation, roles: Iterable[str]) -> None:
    if not can_manage_members(actor, organisation):
        raise PermissionDenied("Only a headteacher or information manager manages members.")
    privileged = PRIVILEGED_ROLES.intersection(roles)
    if privileged and not can_grant_privileged_roles(actor, organisation):
        names = ", ".join(sorted(Role(r).label.lower() for r in privileged))
        raise ValidationError(
            {"roles": f"Only a headteacher can give or take away these roles: {names}."}
        )


def _check_acting_for(acting_for: Organisation | None, roles: Iterable[str]) -> None:
    if acting_for is None:
        return
    if acting_for.kind not in (OrganisationKind.TRUST, OrganisationKind.LOCAL_AUTHORITY):
        raise ValidationError({"acting_for": "Choose a trust or a local authority."})
    if set(roles) - ROLES_HELD_ON_BEHALF:
        raise ValidationError(
            {
                "roles": "Someone serving on behalf of a trust or local authority can only be "
                "a DPO or an auditor."
            }
        )


def _require_active(membership: Membership) -> None:
    if not membership.is_active:
        raise ValidationError(f"{membership.user} is no longer a member.")


def _refuse_self(actor: User, membership: Membership, what: str) -> None:
    if membership.user_id == actor.pk:
        raise ValidationError(f"You cannot {what}. Ask another headteacher or information manager.")


def _lock(membership: Membership) -> Membership:
    return (
        # of=("self",): PostgreSQL cannot lock the nullable side of the join to acting_for.
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "organisation", "acting_for")
        .get(pk=membership.pk)
    )


def _label(membership: Membership) -> str:
    return f"{membership.user.name} <{membership.user.email}>"


def _send_invitation_on_commit(membership: Membership, *, invited_by: User) -> None:
    user, organisation = membership.user, membership.organisation
    context: dict[str, Any] = {
        "name": user.name,
        "organisation": organisation.name,
        "invited_by": invited_by.name,
        "roles": membership.role_labels(),
    }
    if user.has_usable_password():
        transaction.on_commit(lambda: emails.send_added_to_organisation(user.email, context))
    else:
        path = invitation_path(user)
        transaction.on_commit(lambda: emails.send_invitation(user.email, path, context))


# --- people: the data subjects whose information is shared -------------------------------

# What a person's record holds that people may set; everything else is the system's.
PERSON_FIELDS = (
    "kind",
    "given_name",
    "family_name",
    "upn",
    "date_of_birth",
    "year_group",
    "on_roll_from",
    "on_roll_until",
    "details",
)
_TEXT_FIELDS = frozenset({"given_name", "family_name", "upn", "year_group", "details"})
_IMPORT_BATCH = 500


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


class ImportRefused(ValidationError):
    """Rows the database would not take; nothing was imported. `row_errors` lists them."""

    def __init__(self, row_errors: list[RowError]) -> None:
        super().__init__(f"{len(row_errors)} problems were found, so nothing was imported.")
        self.row_errors = row_errors


def add_person(organisation: Organisation, *, actor: User, **fields: Any) -> Person:
    """Add a pupil, member of staff, parent or other person the school holds information on."""
    person = Person(organisation=organisation)
    filled = _set_person_fields(person, fields)
    with transaction.atomic():
        _require_people_manager(actor, organisation)
        lock_people_of(organisation)
        _validate_person(person)
        person.save()
        # Field names only: the audit trail never copies what is known about someone.
        audit.record(
            actor,
            "person.added",
            person,
            {"kind": person.kind, "fields": sorted(filled)},
            label=_person_label(person),
        )
    return person


def change_person(person: Person, *, actor: User, **fields: Any) -> Person:
    """Change a person's details; the audit event names the fields that changed."""
    with transaction.atomic():
        _require_people_manager(actor, person.organisation)
        lock_people_of(person.organisation)
        person = Person.objects.select_for_update().select_related("organisation").get(pk=person.pk)
        before = {name: getattr(person, name) for name in PERSON_FIELDS}
        _set_person_fields(person, fields)
        changed = sorted(name for name in PERSON_FIELDS if getattr(person, name) != before[name])
        if not changed:
            return person
        _validate_person(person)
        person.updated_at = timezone.now()
        person.save()
        audit.record(
            actor, "person.changed", person, {"fields": changed}, label=_person_label(person)
        )
    return person


def import_pupils(
    organisation: Organisation, *, actor: User, rows: Sequence[PupilRow]
) -> ImportResult:
    """Add the pupils of a checked file, or update those whose UPN the school has already.

    All or nothing: one transaction, one audit event with the counts. Only the
    fields the file fills are changed on pupils already known.
    """
    if not rows:
        raise ValidationError("There are no pupils in the file.")
    with transaction.atomic():
        _require_people_manager(actor, organisation)
        lock_people_of(organisation)
        known = {
            p.upn: p
            for p in Person.objects.in_organisation(organisation).filter(
                upn__in=[normalise_upn(row.upn) for row in rows]
            )
        }
        new, changed, unchanged = _sort_imported_rows(organisation, rows, known)
        Person.objects.bulk_create(new, batch_size=_IMPORT_BATCH)
        _save_changed(changed)
        result = ImportResult(created=len(new), updated=len(changed), unchanged=unchanged)
        audit.record(
            actor,
            "people.imported",
            organisation,
            {"created": result.created, "updated": result.updated, "unchanged": unchanged},
            label="Pupil list",
        )
    return result


def note_people_export(
    organisation: Organisation, *, actor: User, rows: int, filters: dict[str, str]
) -> None:
    """A download of the people list is a copy of personal data leaving the service."""
    with transaction.atomic():
        audit.record(
            actor,
            "people.exported",
            organisation,
            {"rows": rows, "filters": filters},
            label="People list",
        )


def _sort_imported_rows(
    organisation: Organisation, rows: Sequence[PupilRow], known: dict[str, Person]
) -> tuple[list[Person], list[tuple[Person, list[str]]], int]:
    """(pupils to create, (pupil, changed fields) to update, how many are unchanged).

    Every row is checked before any is saved; ImportRefused lists all the problems.
    """
    new: list[Person] = []
    changed: list[tuple[Person, list[str]]] = []
    unchanged = 0
    errors: list[RowError] = []
    first_line_of_upn: dict[str, int] = {}
    now = timezone.now()
    for row in rows:
        upn = normalise_upn(row.upn)
        earlier = first_line_of_upn.setdefault(upn, row.line) if upn else row.line
        if earlier != row.line:
            errors.append(RowError(row.line, "UPN", f"Same UPN as line {earlier}."))
            continue
        person = known.get(upn)
        if person is None:
            person = Person(organisation=organisation, kind=PersonKind.PUPIL, created_at=now)
        before = {name: getattr(person, name) for name in row.values}
        _set_person_fields(person, row.values)
        problems = _row_problems(person, row)
        if problems:
            errors.extend(problems)
        elif person.pk is None:
            person.updated_at = now
            new.append(person)
        elif fields := [name for name in row.values if getattr(person, name) != before[name]]:
            person.updated_at = now
            changed.append((person, fields))
        else:
            unchanged += 1
    if errors:
        raise ImportRefused(errors)
    return new, changed, unchanged


def _row_problems(person: Person, row: PupilRow) -> list[RowError]:
    """What the model refuses in one imported row, as row errors.

    The file's check caught these already; this is the model having the last
    word, so a change to its rules cannot be skipped by the import.
    """
    if not person.upn:
        return [RowError(row.line, "UPN", "The UPN is missing.")]
    try:
        _validate_person(person, check_upn_is_free=False)
    except ValidationError as error:
        return [
            RowError(row.line, _field_label(name), message)
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return []


def _save_changed(changed: list[tuple[Person, list[str]]]) -> None:
    fields = sorted({name for _, names in changed for name in names} | {"updated_at"})
    Person.objects.bulk_update([p for p, _ in changed], fields, batch_size=_IMPORT_BATCH)


def _set_person_fields(person: Person, fields: dict[str, Any]) -> set[str]:
    """Put `fields` on the person, tidied as saved; returns the names of those filled in."""
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"Not a field people may set: {', '.join(sorted(unknown))}")
    tidied = {name: _tidy_person_value(name, value) for name, value in fields.items()}
    for name, value in tidied.items():
        setattr(person, name, value)
    return {name for name, value in tidied.items() if value not in (None, "")}


def _tidy_person_value(name: str, value: Any) -> Any:
    if name == "upn":
        return normalise_upn(value or "")
    if name in _TEXT_FIELDS:
        return (value or "").strip()
    return value


def _validate_person(person: Person, *, check_upn_is_free: bool = True) -> None:
    """The model's checks, with every error beside the field it concerns.

    The constraints are checked here rather than by full_clean, which would
    report them as errors of the whole form; the messages are the model's own.
    """
    errors: dict[str, list[str]] = {}
    try:
        # Not the organisation and uuid, which the service sets: checking them
        # would cost a query each, for every row of an import.
        person.full_clean(exclude=["organisation", "uuid"], validate_constraints=False)
    except ValidationError as error:
        errors = error.message_dict
    if person.upn and person.kind != PersonKind.PUPIL:
        errors.setdefault("upn", []).append("Only pupils have a UPN. Clear it, or choose pupil.")
    if check_upn_is_free and person.upn and "upn" not in errors and _upn_taken(person):
        errors["upn"] = [_constraint_message("person_upn_unique_in_organisation")]
    if (
        person.on_roll_from
        and person.on_roll_until
        and person.on_roll_until < person.on_roll_from
        and "on_roll_until" not in errors
    ):
        errors["on_roll_until"] = [_constraint_message("person_on_roll_dates_in_order")]
    if errors:
        raise ValidationError(errors)


def _upn_taken(person: Person) -> bool:
    return (
        Person.objects.in_organisation(person.organisation)
        .filter(upn=person.upn)
        .exclude(pk=person.pk)
        .exists()
    )


def _constraint_message(name: str) -> str:
    constraint = next(c for c in Person._meta.constraints if c.name == name)
    return str(constraint.violation_error_message)


def _field_label(name: str) -> str:
    if name not in PERSON_FIELDS:
        return "Row"
    label = str(getattr(Person._meta.get_field(name), "verbose_name", name))
    return label[:1].upper() + label[1:]


def _require_people_manager(actor: User, organisation: Organisation) -> None:
    if not can_manage_people(actor, organisation):
        raise PermissionDenied(
            "Only a headteacher, information manager or DPO keeps the school's people lists."
        )


def lock_people_of(organisation: Organisation) -> None:
    """Changes to one school's people queue here, so two of them cannot both take a UPN.

    Roll changes queue here too (`statutory.services`): a pupil's change and an
    import of changes wait for each other, so neither records the same change twice.
    """
    list(Organisation.objects.select_for_update().filter(pk=organisation.pk).values_list("pk"))


def _person_label(person: Person) -> str:
    """How the audit trail names a person: never their name or UPN, which it must not copy."""
    return f"{person.get_kind_display()} {person.uuid}"
