"""Valid decisions to start from: each test changes one answer and sees what happens."""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

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
from infoshare.core.upn import make_upn
from infoshare.decisions.models import Arrangement, Check, Consent, Method, Outcome
from infoshare.decisions.services import DecisionDraft

_serial = iter(range(100, 999))


def pupil(organisation: Organisation, given: str = "Ada", family: str = "Testpupil") -> Person:
    body = f"8012000{next(_serial):03d}01"[:12]
    return Person.objects.create(
        organisation=organisation,
        kind=PersonKind.PUPIL,
        given_name=given,
        family_name=family,
        upn=make_upn(body),
        year_group="Year 5",
    )


def category(code: str) -> DataCategory:
    return DataCategory.objects.get(code=code)


def condition(code: str) -> SpecialCategoryCondition:
    return SpecialCategoryCondition.objects.get(code=code)


def share(actor: User, people: list[Person], **changes: Any) -> DecisionDraft:
    """A share of attendance information with the council, under an agreement."""
    draft = DecisionDraft(
        people=people,
        information="Attendance for the autumn term",
        categories=[category("attendance")],
        recipient_organisation_name="Eastmoor Council education welfare service",
        recipient_person="Education welfare officer",
        purpose=Purpose.objects.get(code="pastoral-care"),
        outcome=Outcome.SHARED,
        lawful_basis=LawfulBasis.objects.get(code="public-task"),
        consent=Consent.NOT_SOUGHT_OTHER_BASIS,
        consent_explanation="Public task: the council's attendance duty.",
        checks=list(Check.values),
        reasons="Attendance below 90%; the council supports the family.",
        method=Method.SECURE_TRANSFER,
        arrangement=Arrangement.AGREEMENT,
        agreement_reference="ISA-2026-0003",
        decided_by=actor,
        decided_on=timezone.localdate(),
    )
    return replace(draft, **changes)


def safeguarding_share(actor: User, people: list[Person], **changes: Any) -> DecisionDraft:
    """An emergency disclosure of safeguarding information without consent."""
    answers: dict[str, Any] = {
        "information": "Concerns raised by the class teacher",
        "categories": [category("safeguarding"), category("health")],
        "recipient_person": "Duty social worker",
        "recipient_organisation_name": "Eastmoor children's social care",
        "purpose": Purpose.objects.get(code="safety-and-protection"),
        "consent": Consent.NOT_SOUGHT_UNSAFE,
        "consent_explanation": "Asking the parent could put the child at risk.",
        "conditions": [
            condition("art9-g-substantial-public-interest"),
            condition("sch1-18-safeguarding"),
        ],
        "arrangement": Arrangement.EMERGENCY,
        "agreement_reference": "",
    }
    return share(actor, people, **{**answers, **changes})


def refusal(actor: User, people: list[Person], **changes: Any) -> DecisionDraft:
    """A request for information that was refused."""
    answers: dict[str, Any] = {
        "information": "Home address asked for by a caller saying they are a relative",
        "categories": [category("identity-contact")],
        "recipient_organisation_name": "Unknown caller",
        "recipient_person": "Caller claiming to be an uncle",
        "outcome": Outcome.NOT_SHARED,
        "lawful_basis": None,
        "consent": Consent.REFUSED,
        "consent_explanation": "",
        "checks": [],
        "method": "",
        "arrangement": "",
        "agreement_reference": "",
        "reasons": "Identity could not be checked; the parent refused.",
    }
    return share(actor, people, **{**answers, **changes})


def form_data(draft: DecisionDraft, **overrides: Any) -> dict[str, Any]:
    """The POST a person makes on the record form for `draft`."""
    data: dict[str, Any] = {
        "action": "record",
        "people": [str(person.uuid) for person in draft.people],
        "people_described": draft.people_described,
        "information": draft.information,
        "categories": [str(c.pk) for c in draft.categories],
        "recipient_organisation": (
            str(draft.recipient_organisation.pk) if draft.recipient_organisation else ""
        ),
        "recipient_organisation_name": draft.recipient_organisation_name,
        "recipient_person": draft.recipient_person,
        "purpose": str(draft.purpose.pk),
        "purpose_described": draft.purpose_described,
        "outcome": draft.outcome,
        "consent": draft.consent,
        "consent_explanation": draft.consent_explanation,
        "checks": list(draft.checks),
        "reasons": draft.reasons,
        "method": draft.method,
        "arrangement": draft.arrangement,
        "agreement_reference": draft.agreement_reference,
        "decided_by": str(draft.decided_by.pk),
        "decided_on": draft.decided_on.strftime("%d/%m/%Y"),
        "conditions": [str(c.pk) for c in draft.conditions],
    }
    if draft.lawful_basis:
        data["lawful_basis"] = str(draft.lawful_basis.pk)
    data.update(overrides)
    return {key: value for key, value in data.items() if value not in ("", [], None)}


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)
