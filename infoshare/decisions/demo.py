"""Demo decisions for `seed_demo`: a share, a refusal and an emergency disclosure per school,
recorded through the services as the school's staff would record them."""

from __future__ import annotations

import datetime

from django.utils import timezone

from infoshare.core.models import (
    DataCategory,
    LawfulBasis,
    Organisation,
    Person,
    PersonKind,
    Purpose,
    Role,
    SpecialCategoryCondition,
    User,
)
from infoshare.decisions import services
from infoshare.decisions.models import Arrangement, Check, Consent, Decision, Method, Outcome
from infoshare.decisions.services import DecisionDraft


def seed_decisions(school: Organisation) -> None:
    """Three decisions about the school's first pupils, unless it has decisions already."""
    if Decision.objects.filter(organisation=school).exists():
        return
    pupils = list(Person.objects.in_organisation(school).filter(kind=PersonKind.PUPIL)[:3])
    staff, dsl = _member(school, Role.STAFF), _member(school, Role.DSL)
    if len(pupils) < 3 or staff is None or dsl is None:
        return
    today = timezone.localdate()
    services.record_decision(school, actor=staff, draft=_share(staff, pupils[0], today))
    services.record_decision(school, actor=staff, draft=_refusal(staff, pupils[1], today))
    services.record_decision(school, actor=dsl, draft=_emergency(dsl, pupils[2], today))


def _member(school: Organisation, role: Role) -> User | None:
    return User.objects.filter(
        memberships__organisation=school,
        memberships__ended_at__isnull=True,
        memberships__role_assignments__role=role,
    ).first()


def _share(actor: User, pupil: Person, today: datetime.date) -> DecisionDraft:
    return DecisionDraft(
        people=[pupil],
        information="Attendance for this term and the support already offered",
        categories=[DataCategory.objects.get(code="attendance")],
        recipient_organisation=Organisation.objects.filter(slug="eastmoor-council").first(),
        recipient_organisation_name="Eastmoor Council",
        recipient_person="Education welfare officer",
        purpose=Purpose.objects.get(code="pastoral-care"),
        outcome=Outcome.SHARED,
        lawful_basis=LawfulBasis.objects.get(code="public-task"),
        consent=Consent.NOT_SOUGHT_OTHER_BASIS,
        consent_explanation="The council's attendance duty is a public task.",
        checks=list(Check.values),
        reasons="Attendance has fallen below 90%; the council can support the family.",
        method=Method.SECURE_TRANSFER,
        arrangement=Arrangement.AGREEMENT,
        agreement_reference="ISA-DEMO-0001",
        decided_by=actor,
        decided_on=today - datetime.timedelta(days=14),
    )


def _refusal(actor: User, pupil: Person, today: datetime.date) -> DecisionDraft:
    return DecisionDraft(
        people=[pupil],
        information="Home address, asked for by telephone",
        categories=[DataCategory.objects.get(code="identity-contact")],
        recipient_organisation_name="Unknown caller",
        recipient_person="Caller who said they were an uncle",
        purpose=Purpose.objects.get(code="family-news"),
        outcome=Outcome.NOT_SHARED,
        consent=Consent.REFUSED,
        reasons="The caller's identity could not be checked and the parent did not agree.",
        decided_by=actor,
        decided_on=today - datetime.timedelta(days=7),
    )


def _emergency(actor: User, pupil: Person, today: datetime.date) -> DecisionDraft:
    return DecisionDraft(
        people=[pupil],
        information="An injury seen this morning and what the pupil said about it",
        categories=[
            DataCategory.objects.get(code="safeguarding"),
            DataCategory.objects.get(code="health"),
        ],
        recipient_organisation_name="Eastmoor children's social care",
        recipient_person="Duty social worker",
        purpose=Purpose.objects.get(code="safety-and-protection"),
        outcome=Outcome.SHARED,
        lawful_basis=LawfulBasis.objects.get(code="public-task"),
        conditions=list(
            SpecialCategoryCondition.objects.filter(
                code__in=["art9-g-substantial-public-interest", "sch1-18-safeguarding"]
            )
        ),
        consent=Consent.NOT_SOUGHT_UNSAFE,
        consent_explanation="Telling the parent first could have put the child at risk.",
        checks=list(Check.values),
        reasons="Risk of significant harm; the referral could not wait.",
        method=Method.PHONE,
        arrangement=Arrangement.EMERGENCY,
        decided_by=actor,
        decided_on=today - datetime.timedelta(days=1),
    )
