"""Every change to organisations, members and accounts (DESIGN.md rule 1).

Each function checks permission, checks the change is allowed, saves and
appends the audit event in one transaction; emails go out on commit.
Permission failures raise PermissionDenied; a change that is not allowed
raises ValidationError with a message a headteacher can act on, keyed by
the form field it concerns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from infoshare.audit import services as audit
from infoshare.core import emails
from infoshare.core.models import (
    PRIVILEGED_ROLES,
    ROLES_HELD_ON_BEHALF,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from infoshare.core.rules import can_grant_privileged_roles, can_manage_members, forget_roles

if TYPE_CHECKING:
    from collections.abc import Iterable


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
