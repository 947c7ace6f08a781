"""Building safeguarding records in tests, signed as the services require."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.core.cache import cache
from django.utils import timezone

from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Organisation,
    Person,
    PersonKind,
    Purpose,
    SpecialCategoryCondition,
    User,
)
from infoshare.decisions.models import Arrangement, Check, Consent, Method, Outcome
from infoshare.decisions.services import DecisionDraft
from infoshare.safeguarding import services
from infoshare.safeguarding.models import FileKind, ReshareKind, ReshareRequest, Share
from tests.conftest import PASSWORD

DESCRIPTION = "Disclosure made to the class teacher on Monday; referral made to children's services"


def current_code(user: User) -> str:
    """The code `user`'s authenticator app shows now."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def proof_for(user: User) -> str:
    """What `user` types to sign: their code, or their password if they have no authenticator.

    A code signs once only, so the record of used codes is forgotten first:
    a test may sign several times within one 30-second step.
    """
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        cache.clear()
        return current_code(user)
    return PASSWORD


def signing_for(user: User, *, name: str | None = None) -> services.Signing:
    return services.Signing(
        name=user.name if name is None else name, confirmed=True, secret=proof_for(user)
    )


def make_pupil(organisation: Organisation, given: str = "Ellis", family: str = "Marsh") -> Person:
    return Person.objects.create(
        organisation=organisation, kind=PersonKind.PUPIL, given_name=given, family_name=family
    )


def answers(
    pupil: Person, recipient: User, *, description: str = DESCRIPTION
) -> services.ShareAnswers:
    return services.ShareAnswers(
        pupil=pupil,
        file_kind=FileKind.CHILD_PROTECTION,
        file_reference="CP-0193",
        description=description,
        recipient=recipient,
    )


def make_share(
    dsl: User,
    recipient: User,
    *,
    pupil: Person | None = None,
    acknowledged: bool = False,
    description: str = DESCRIPTION,
) -> Share:
    """A record shared by `dsl` (a DSL or deputy) with `recipient`, acknowledged if asked."""
    organisation = dsl.memberships.active().get().organisation
    pupil = pupil or make_pupil(organisation)
    share = services.share_information(
        organisation,
        actor=dsl,
        answers=answers(pupil, recipient, description=description),
        signing=signing_for(dsl),
    )
    if acknowledged:
        share = services.acknowledge_share(share, actor=recipient, signing=signing_for(recipient))
    return share


def ask_to_share_with(share: Share, colleague: User) -> ReshareRequest:
    return services.request_reshare(
        share,
        actor=share.recipient,
        answers=services.ReshareAnswers(
            kind=ReshareKind.INTERNAL,
            colleague=colleague,
            reason="The school nurse sees the pupil daily and needs to know",
        ),
    )


def ask_to_share_outside(share: Share, organisation_name: str = "Eastmoor CAMHS") -> ReshareRequest:
    return services.request_reshare(
        share,
        actor=share.recipient,
        answers=services.ReshareAnswers(
            kind=ReshareKind.EXTERNAL,
            outside_organisation_name=organisation_name,
            outside_person="Duty clinician",
            reason="The pupil has been referred and the clinician asked for the background",
        ),
    )


# --- Added for the service tests (part B) -----------------------------------------------


def wrong_code(user: User) -> str:
    """A six-digit code that is not the one `user`'s authenticator shows now."""
    return f"{(int(current_code(user)) + 1) % 1_000_000:06d}"


def decision_draft_for(request: ReshareRequest, actor: User, **changes: Any) -> DecisionDraft:
    """What a DSL records in the decision log to permit `request` outside the school."""
    draft = DecisionDraft(
        people=[request.share.pupil],
        information="The background the clinician asked for, and the referral",
        categories=[DataCategory.objects.get(code="safeguarding")],
        recipient_organisation=request.outside_organisation,
        recipient_organisation_name=request.outside_organisation_name,
        recipient_person=request.outside_person,
        purpose=Purpose.objects.get(code="safety-and-protection"),
        outcome=Outcome.SHARED,
        lawful_basis=LawfulBasis.objects.get(code="public-task"),
        conditions=list(
            SpecialCategoryCondition.objects.filter(
                code__in=["art9-g-substantial-public-interest", "sch1-18-safeguarding"]
            )
        ),
        consent=Consent.NOT_SOUGHT_UNSAFE,
        consent_explanation="Asking the parent could put the child at risk.",
        checks=list(Check.values),
        reasons="The clinician needs the background to assess the referral safely.",
        method=Method.SECURE_TRANSFER,
        arrangement=Arrangement.ONE_OFF,
        decided_by=actor,
        decided_on=timezone.localdate(),
    )
    return replace(draft, **changes)
