"""Decisions made straight through the ORM, for tests and the benchmark.

The service (`decisions.services`) is how the application records a decision,
with its checks and audit event; these factories skip all that to set up a
log of any shape quickly. Reference data (purposes, categories, lawful bases,
conditions) is loaded by migrations and looked up here by its `code`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import count
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
from infoshare.decisions.models import (
    Arrangement,
    Check,
    Consent,
    Decision,
    DisclosureReview,
    Method,
    Outcome,
)

# Unique within a test database: each decision gets the next number of its year.
_numbers = count(1)


def data_categories(*codes: str) -> list[DataCategory]:
    found = {category.code: category for category in DataCategory.objects.filter(code__in=codes)}
    missing = set(codes) - set(found)
    assert not missing, f"no data categories {sorted(missing)}"
    return [found[code] for code in codes]


def special_conditions(*codes: str) -> list[SpecialCategoryCondition]:
    found = {c.code: c for c in SpecialCategoryCondition.objects.filter(code__in=codes)}
    assert len(found) == len(set(codes)), f"unknown conditions among {codes}"
    return [found[code] for code in codes]


def make_decision(
    organisation: Organisation,
    recorded_by: User,
    *,
    people: Iterable[Person] = (),
    categories: Sequence[str] = ("education",),
    outcome: str = Outcome.SHARED,
    arrangement: str = Arrangement.AGREEMENT,
    purpose: str = "pupil-progress",
    lawful_basis: str | None = "public-task",
    conditions: Sequence[str] | None = None,
    **overrides: Any,
) -> Decision:
    """One decision, complete enough to show everywhere. `overrides` sets any other field.

    `has_special_category` follows the categories, as the service sets it;
    special category decisions get the safeguarding condition unless told.
    """
    chosen = data_categories(*categories)
    special = any(category.is_special for category in chosen)
    recorded_at = overrides.pop("recorded_at", None) or timezone.now()
    fields: dict[str, Any] = {
        "organisation": organisation,
        "reference": _reference(organisation, recorded_at),
        "information": "Attendance and attainment for the autumn term",
        "recipient_organisation_name": "Eastmoor Education Welfare Service",
        "recipient_person": "Education welfare officer",
        "purpose": Purpose.objects.get(code=purpose),
        "outcome": outcome,
        "arrangement": arrangement,
        "lawful_basis": LawfulBasis.objects.get(code=lawful_basis) if lawful_basis else None,
        "consent": Consent.NOT_SOUGHT_OTHER_BASIS,
        "consent_explanation": "Shared under the local authority's statutory duty.",
        "checks": list(Check.values),
        "reasons": "Needed to support the pupil's attendance plan.",
        "method": Method.SECURE_TRANSFER if outcome != Outcome.NOT_SHARED else "",
        "decided_by": recorded_by,
        "decided_on": timezone.localdate(),
        "recorded_by": recorded_by,
        "recorded_at": recorded_at,
        **overrides,
    }
    decision = Decision(**fields)
    decision.has_special_category = special
    decision.save()
    decision.people.set(people)
    decision.categories.set(chosen)
    if special:
        wanted = ("sch1-18-safeguarding",) if conditions is None else conditions
        decision.conditions.set(special_conditions(*wanted))
    return decision


def _reference(organisation: Organisation, recorded_at: datetime) -> str:
    """A reference no decision of `organisation` has yet: unique across schools too, and
    never one that `record_decision` already gave in the same test."""
    year = timezone.localtime(recorded_at).year
    while True:
        reference = f"DEC-{year}-{next(_numbers):04d}"
        if not Decision.objects.filter(organisation=organisation, reference=reference).exists():
            return reference


def correct_decision(
    original: Decision,
    recorded_by: User | None = None,
    *,
    reason: str = "Wrong date",
    **fields: Any,
) -> Decision:
    """A correction superseding `original`, with the same people and categories unless told."""
    overrides: dict[str, Any] = {
        "people": fields.pop("people", list(original.people.all())),
        "categories": fields.pop(
            "categories", [category.code for category in original.categories.all()]
        ),
        "outcome": fields.pop("outcome", original.outcome),
        "arrangement": fields.pop("arrangement", original.arrangement),
        "purpose": fields.pop("purpose", original.purpose.code),
        "decided_on": fields.pop("decided_on", original.decided_on),
        "information": fields.pop("information", original.information),
        "recipient_organisation": fields.pop(
            "recipient_organisation", original.recipient_organisation
        ),
        "recipient_organisation_name": fields.pop(
            "recipient_organisation_name", original.recipient_organisation_name
        ),
    }
    return make_decision(
        original.organisation,
        recorded_by or original.recorded_by,
        supersedes=original,
        correction_reason=reason,
        **overrides,
        **fields,
    )


def review(decision: Decision, reviewer: User, *, justified: bool = True) -> DisclosureReview:
    return DisclosureReview.objects.create(
        decision=decision, justified=justified, agreement_needed=False, reviewed_by=reviewer
    )


def make_person(
    organisation: Organisation, given_name: str, family_name: str, **fields: Any
) -> Person:
    return Person.objects.create(
        organisation=organisation,
        kind=fields.pop("kind", PersonKind.PUPIL),
        given_name=given_name,
        family_name=family_name,
        **fields,
    )


# --- Bulk, for the benchmark ----------------------------------------------------------------


@dataclass(frozen=True)
class Mix:
    """The shape of a generated log: what share of decisions is which."""

    special_share: float = 0.10
    not_shared_share: float = 0.12
    shared_in_part_share: float = 0.08
    one_off_share: float = 0.06
    emergency_share: float = 0.02
    statutory_share: float = 0.15
    free_text_recipient_share: float = 0.10
    corrected_share: float = 0.01
    days: int = 3 * 365


INFORMATION = (
    "Attendance record for the last two terms",
    "Key stage 2 assessment results and teacher comments",
    "Behaviour log and exclusion letters",
    "Education, health and care plan and annual review notes",
    "Medical care plan for asthma",
    "Child protection chronology and referral form",
    "Contact details of parents and carers",
    "Free school meals eligibility",
)
REASONS = (
    "The recipient needs it to plan support before the pupil moves school.",
    "Requested under the local authority's statutory duty to monitor attendance.",
    "Needed to keep the pupil safe: the DSL judged a referral necessary.",
    "Not necessary for the stated purpose; the request was refused.",
    "The parent asked for the information to be shared with the clinic.",
)
FREE_TEXT_RECIPIENTS = (
    "Riverside Tutoring Ltd",
    "St Anne's Primary School",
    "Youth Offending Team",
    "Hillside Dental Practice",
)
PLAIN_CATEGORIES = ("education", "attendance", "behaviour", "identity-contact")
SPECIAL_CATEGORIES = ("health", "safeguarding", "send")
PURPOSES = (
    "pupil-progress",
    "pastoral-care",
    "safety-and-protection",
    "statutory-pupil-information",
    "admissions",
    "send-provision",
    "integrated-health",
)


def bulk_decisions(
    organisation: Organisation,
    recorders: Sequence[User],
    people: Sequence[Person],
    recipients: Sequence[Organisation],
    total: int,
    *,
    mix: Mix | None = None,
    end: date | None = None,
    seed: int = 42,
    batch_size: int = 5000,
) -> int:
    """`total` decisions of a realistic mix, written with bulk_create (rows and M2M rows).

    Decisions are spread over `mix.days` days up to `end`, each naming one to
    three of `people`; references run in recording order per year. Returns
    the number created.
    """
    mix = mix or Mix()
    end = end or timezone.localdate()
    randomiser = random.Random(seed)
    lookups = _Lookups.load()
    made = 0
    for batch in _batches(range(total), batch_size):
        specs = [_random_spec(randomiser, mix, end, lookups, people) for _ in batch]
        _write_batch(
            organisation,
            recorders=recorders,
            recipients=recipients,
            specs=specs,
            randomiser=randomiser,
            mix=mix,
            lookups=lookups,
        )
        made += len(specs)
    _correct_some(organisation, mix, randomiser)
    return made


@dataclass
class _Lookups:
    purposes: dict[str, Purpose]
    categories: dict[str, DataCategory]
    lawful_bases: dict[str, LawfulBasis]
    safeguarding: SpecialCategoryCondition

    @classmethod
    def load(cls) -> _Lookups:
        return cls(
            purposes={p.code: p for p in Purpose.objects.filter(code__in=PURPOSES)},
            categories={c.code: c for c in DataCategory.objects.all()},
            lawful_bases={b.code: b for b in LawfulBasis.objects.all()},
            safeguarding=SpecialCategoryCondition.objects.get(code="sch1-18-safeguarding"),
        )


@dataclass
class _Spec:
    decided_on: date
    special: bool
    category_codes: tuple[str, ...]
    outcome: str
    arrangement: str
    purpose: str
    people: tuple[Person, ...]


def _random_spec(
    randomiser: random.Random, mix: Mix, end: date, lookups: _Lookups, people: Sequence[Person]
) -> _Spec:
    special = randomiser.random() < mix.special_share
    codes = (
        (randomiser.choice(SPECIAL_CATEGORIES), randomiser.choice(PLAIN_CATEGORIES))
        if special
        else tuple(sorted(set(randomiser.sample(PLAIN_CATEGORIES, randomiser.randint(1, 2)))))
    )
    draw = randomiser.random()
    outcome = (
        Outcome.NOT_SHARED
        if draw < mix.not_shared_share
        else Outcome.SHARED_IN_PART
        if draw < mix.not_shared_share + mix.shared_in_part_share
        else Outcome.SHARED
    )
    draw = randomiser.random()
    arrangement = (
        Arrangement.ONE_OFF
        if draw < mix.one_off_share
        else Arrangement.EMERGENCY
        if draw < mix.one_off_share + mix.emergency_share
        else Arrangement.STATUTORY
        if draw < mix.one_off_share + mix.emergency_share + mix.statutory_share
        else Arrangement.AGREEMENT
    )
    return _Spec(
        decided_on=end - timedelta(days=randomiser.randrange(mix.days)),
        special=special,
        category_codes=codes,
        outcome=outcome,
        arrangement=arrangement,
        purpose=randomiser.choice(PURPOSES),
        people=tuple(randomiser.sample(people, randomiser.choice((1, 1, 1, 2, 3)))),
    )


def _write_batch(
    organisation: Organisation,
    *,
    recorders: Sequence[User],
    recipients: Sequence[Organisation],
    specs: list[_Spec],
    randomiser: random.Random,
    mix: Mix,
    lookups: _Lookups,
) -> None:
    rows = [
        _decision_row(
            organisation,
            spec=spec,
            recorders=recorders,
            recipients=recipients,
            randomiser=randomiser,
            mix=mix,
            lookups=lookups,
        )
        for spec in specs
    ]
    Decision.objects.bulk_create(rows)
    people_through = Decision.people.through
    categories_through = Decision.categories.through
    conditions_through = Decision.conditions.through
    people_through.objects.bulk_create(
        people_through(decision_id=row.pk, person_id=person.pk)
        for row, spec in zip(rows, specs, strict=True)
        for person in spec.people
    )
    categories_through.objects.bulk_create(
        categories_through(decision_id=row.pk, datacategory_id=lookups.categories[code].pk)
        for row, spec in zip(rows, specs, strict=True)
        for code in spec.category_codes
    )
    conditions_through.objects.bulk_create(
        conditions_through(decision_id=row.pk, specialcategorycondition_id=lookups.safeguarding.pk)
        for row, spec in zip(rows, specs, strict=True)
        if spec.special
    )


def _decision_row(
    organisation: Organisation,
    *,
    spec: _Spec,
    recorders: Sequence[User],
    recipients: Sequence[Organisation],
    randomiser: random.Random,
    mix: Mix,
    lookups: _Lookups,
) -> Decision:
    recorder = randomiser.choice(recorders)
    # Recorded the day of the decision or a few days after, during the school day.
    recorded_day = spec.decided_on + timedelta(days=randomiser.choice((0, 0, 0, 1, 2)))
    recorded_at = timezone.make_aware(
        datetime.combine(recorded_day, time(8)) + timedelta(seconds=randomiser.randrange(36_000))
    )
    free_text = randomiser.random() < mix.free_text_recipient_share
    return Decision(
        organisation=organisation,
        reference=_next_reference(organisation, recorded_at),
        information=randomiser.choice(INFORMATION),
        has_special_category=spec.special,
        recipient_organisation=None if free_text else randomiser.choice(recipients),
        recipient_organisation_name=randomiser.choice(FREE_TEXT_RECIPIENTS) if free_text else "",
        recipient_person=randomiser.choice(("Head of year", "Caseworker", "SENCO", "Nurse")),
        purpose=lookups.purposes[spec.purpose],
        outcome=spec.outcome,
        arrangement=spec.arrangement,
        lawful_basis=lookups.lawful_bases[
            "legal-obligation" if spec.arrangement == Arrangement.STATUTORY else "public-task"
        ],
        consent=Consent.NOT_SOUGHT_OTHER_BASIS,
        checks=list(Check.values),
        reasons=randomiser.choice(REASONS),
        method="" if spec.outcome == Outcome.NOT_SHARED else Method.SECURE_TRANSFER,
        decided_by=recorder,
        decided_on=spec.decided_on,
        recorded_by=recorder,
        recorded_at=recorded_at,
    )


# Numbers per organisation and year, as the service gives them; for an organisation
# whose log is made here only (its numbers would clash with make_decision's).
_bulk_numbers: dict[tuple[int, int], Iterator[int]] = {}


def _next_reference(organisation: Organisation, recorded_at: datetime) -> str:
    year = timezone.localtime(recorded_at).year
    numbers = _bulk_numbers.setdefault((organisation.pk, year), count(1))
    return f"DEC-{year}-{next(numbers):04d}"


def _correct_some(organisation: Organisation, mix: Mix, randomiser: random.Random) -> None:
    """Supersede a share of the generated decisions by a correction each (bulk)."""
    ids = list(
        Decision.objects.filter(organisation=organisation, supersedes__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    chosen = randomiser.sample(ids, int(len(ids) * mix.corrected_share))
    originals = Decision.objects.filter(pk__in=chosen).prefetch_related(
        "people", "categories", "conditions"
    )
    corrections = []
    links: list[tuple[Decision, Decision]] = []
    for original in originals:
        correction = Decision(
            **{
                field.attname: getattr(original, field.attname)
                for field in Decision._meta.concrete_fields
                if field.attname
                not in {"id", "uuid", "reference", "supersedes_id", "correction_reason"}
            },
            reference=_next_reference(organisation, original.recorded_at),
            supersedes=original,
            correction_reason="The date of the decision was wrong.",
        )
        corrections.append(correction)
        links.append((original, correction))
    Decision.objects.bulk_create(corrections)
    people_through = Decision.people.through
    people_through.objects.bulk_create(
        people_through(decision_id=correction.pk, person_id=person.pk)
        for original, correction in links
        for person in original.people.all()
    )
    categories_through = Decision.categories.through
    categories_through.objects.bulk_create(
        categories_through(decision_id=correction.pk, datacategory_id=category.pk)
        for original, correction in links
        for category in original.categories.all()
    )
    conditions_through = Decision.conditions.through
    conditions_through.objects.bulk_create(
        conditions_through(decision_id=correction.pk, specialcategorycondition_id=condition.pk)
        for original, correction in links
        for condition in original.conditions.all()
    )


def _batches(items: range, size: int) -> Iterator[range]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
