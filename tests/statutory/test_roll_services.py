"""Roll changes: recording, withdrawing and notifying, allowed and refused (policy 5.1)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Person, PersonKind
from infoshare.core.upn import make_upn
from infoshare.decisions.models import Arrangement, Check, Consent, Decision, Method, Outcome
from infoshare.statutory.models import (
    ChangeKind,
    NotificationMethod,
    NotificationStatus,
    RollChange,
    RollState,
)
from infoshare.statutory.services import roll as services
from tests.core.support import changes_of, last_event
from tests.reminders.support import at_noon
from tests.statutory.support import (
    ground,
    joining,
    make_pupil,
    notification,
    notify,
    record,
    removal,
    second_council,
)

pytestmark = pytest.mark.django_db

KEEPERS = ["headteacher", "information_manager"]
NOT_KEEPERS = ["chair", "dpo", "dsl", "deputy_dsl", "staff", "volunteer", "auditor"]


def counts() -> dict[str, int]:
    """What a refused call must leave as it was."""
    return {
        "changes": RollChange.objects.count(),
        "people": Person.objects.count(),
        "decisions": Decision.objects.count(),
        "events": AuditEvent.objects.count(),
    }


# --- Recording ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", KEEPERS)
def test_recording_a_new_pupil_joining_puts_them_on_the_people_list(world, role):
    school = world.school
    day = timezone.localdate()
    change = record(school.organisation, school[role], joining(on=day))

    pupil = change.pupil
    assert (pupil.kind, pupil.given_name, pupil.family_name) == (PersonKind.PUPIL, "Noor", "Ahmed")
    assert pupil.organisation == school.organisation
    assert pupil.on_roll_from == day
    assert change.reference == f"RC-{day.year}-0001"
    assert change.status == NotificationStatus.TO_NOTIFY
    assert change.deadline == day + datetime.timedelta(days=5)
    assert change.recorded_by == school[role]
    event = last_event("roll_change.recorded")
    assert event.object_label == change.reference
    assert changes_of(event) == {
        "kind": "joined",
        "change_date": day.isoformat(),
        "ground": None,
        "pupil": str(pupil.uuid),
        "source": "form",
    }
    # The pupil's name never enters the audit trail.
    assert "Noor" not in event.changes
    assert "Ahmed" not in event.object_label
    assert last_event("person.added").organisation == school.organisation


def test_a_new_pupil_keeps_the_upn_and_date_of_birth_given(world):
    school = world.school
    upn = make_upn("123456789013")
    change = record(
        school.organisation,
        school["information_manager"],
        joining(upn=f" {upn[:4].lower()} {upn[4:]} ", date_of_birth=datetime.date(2019, 5, 1)),
    )
    assert change.pupil.upn == upn
    assert change.pupil.date_of_birth == datetime.date(2019, 5, 1)


def test_an_existing_pupil_joining_gets_the_date_only_when_the_list_has_none(world):
    school = world.school
    day = timezone.localdate()
    without = make_pupil(school.organisation)
    known = make_pupil(school.organisation, "Sam", "Oak", on_roll_from=datetime.date(2020, 9, 1))

    record(school.organisation, school["headteacher"], joining(without, on=day))
    record(school.organisation, school["headteacher"], joining(known, on=day))

    without.refresh_from_db()
    known.refresh_from_db()
    assert without.on_roll_from == day
    assert known.on_roll_from == datetime.date(2020, 9, 1)


def test_a_removal_names_its_ground_and_fills_in_the_leaving_date(world):
    school = world.school
    pupil = make_pupil(school.organisation, on_roll_from=datetime.date(2022, 9, 1))
    day = timezone.localdate() + datetime.timedelta(days=10)

    change = record(school.organisation, school["information_manager"], removal(pupil, on=day))

    assert change.kind == ChangeKind.REMOVED
    assert change.ground == ground()
    assert change.deadline == day
    pupil.refresh_from_db()
    assert pupil.on_roll_until == day
    assert changes_of(last_event("roll_change.recorded"))["ground"] == "9-1-a-another-school"


@pytest.mark.parametrize("role", NOT_KEEPERS)
def test_only_the_headteacher_and_information_manager_record(world, role):
    school = world.school
    before = counts()
    with pytest.raises(PermissionDenied):
        record(school.organisation, school[role])
    assert counts() == before


def test_a_member_of_another_school_cannot_record_here(world):
    before = counts()
    with pytest.raises(PermissionDenied):
        record(world.school.organisation, world.other["headteacher"])
    assert counts() == before


def _refused(world, draft) -> dict[str, list[str]]:
    before = counts()
    with pytest.raises(ValidationError) as refused:
        record(world.school.organisation, world.school["headteacher"], draft)
    assert counts() == before
    return refused.value.message_dict


def test_a_new_pupil_needs_both_names(world):
    errors = _refused(world, joining(given_name=" ", family_name=""))
    assert errors == {
        "given_name": ["Enter the pupil's first name"],
        "family_name": ["Enter the pupil's last name"],
    }


def test_a_removal_is_of_a_pupil_already_on_the_list(world):
    draft = services.RollChangeDraft(
        kind=ChangeKind.REMOVED,
        change_date=timezone.localdate(),
        given_name="Noor",
        family_name="Ahmed",
        ground=ground(),
    )
    assert _refused(world, draft) == {"pupil": ["Choose the pupil being removed from the roll"]}


def test_the_pupil_must_be_a_pupil_of_this_school(world):
    elsewhere = make_pupil(world.other.organisation)
    assert _refused(world, joining(elsewhere)) == {"pupil": ["Choose a pupil of this school"]}
    parent = Person.objects.create(
        organisation=world.school.organisation,
        kind=PersonKind.PARENT,
        given_name="Morgan",
        family_name="Marsh",
    )
    assert _refused(world, joining(parent)) == {"pupil": ["Choose a pupil of this school"]}


def test_a_removal_needs_a_ground_and_a_joining_has_none(world):
    pupil = make_pupil(world.school.organisation)
    assert _refused(world, removal(pupil, ground=None)) == {
        "ground": ["Choose the ground on which the pupil is removed from the roll"]
    }
    assert _refused(world, joining(pupil, ground=ground())) == {
        "ground": ["A pupil joining the roll has no ground for removal"]
    }


def test_a_retired_ground_is_refused(world):
    retired = ground()
    retired.is_active = False
    retired.save()
    pupil = make_pupil(world.school.organisation)
    assert "ground" in _refused(world, removal(pupil, ground=retired))


def test_a_bad_or_taken_upn_is_refused_beside_the_field(world):
    taken = make_pupil(world.school.organisation, upn_body="123456789013").upn
    wrong_letter = ("B" if taken[0] != "B" else "C") + taken[1:]
    assert "check letter" in _refused(world, joining(upn=wrong_letter))["upn"][0]
    assert _refused(world, joining(upn=taken)) == {
        "upn": [
            "A pupil of this school already has this UPN. Choose them from the list of "
            "pupils instead"
        ]
    }


def test_dates_must_be_within_a_year_ahead_and_five_years_back(world):
    today = timezone.localdate()
    ahead = _refused(world, joining(on=today + datetime.timedelta(days=367)))
    assert ahead == {"change_date": ["The date must be no more than a year from today"]}
    behind = _refused(world, joining(on=today - datetime.timedelta(days=5 * 366 + 1)))
    assert behind == {"change_date": ["The date must be within the last five years"]}
    # A year ahead exactly is still a plausible admission for September.
    record(
        world.school.organisation,
        world.school["headteacher"],
        joining(on=today + datetime.timedelta(days=366)),
    )


def test_a_date_of_birth_after_the_change_is_refused(world):
    today = timezone.localdate()
    assert _refused(world, joining(date_of_birth=today)) == {
        "date_of_birth": ["The date of birth must be before the date of the change"]
    }


def test_a_removal_before_the_pupil_joined_is_refused(world):
    pupil = make_pupil(world.school.organisation, on_roll_from=timezone.localdate())
    errors = _refused(world, removal(pupil, on=timezone.localdate() - datetime.timedelta(days=1)))
    assert errors["change_date"][0].startswith("The pupil joined the roll on ")


def test_the_same_change_is_not_recorded_twice_unless_withdrawn(world):
    school = world.school
    pupil = make_pupil(school.organisation)
    first = record(school.organisation, school["headteacher"], joining(pupil))
    assert _refused(world, joining(pupil)) == {
        "change_date": [
            f"This is already recorded as {first.reference}. Withdraw that one first if it is wrong"
        ]
    }
    services.withdraw_roll_change(first, actor=school["headteacher"], reason="Typed twice")
    again = record(school.organisation, school["headteacher"], joining(pupil))
    assert again.reference != first.reference


def test_roll_change_errors_is_empty_for_a_good_draft(world):
    assert (
        services.roll_change_errors(
            world.school.organisation, joining(), today=timezone.localdate()
        )
        == {}
    )


# --- Several at once (the import) ------------------------------------------------------------


def test_several_changes_are_recorded_together_each_audited(world):
    school = world.school
    pupil = make_pupil(school.organisation)
    recorded = services.record_roll_changes(
        school.organisation,
        actor=school["information_manager"],
        drafts=[joining(), removal(pupil)],
        source="import",
    )
    assert [c.kind for c in recorded] == ["joined", "removed"]
    events = AuditEvent.objects.filter(verb="roll_change.recorded").order_by("sequence")
    assert [changes_of(e)["source"] for e in events] == ["import", "import"]


def test_one_bad_draft_records_none_and_each_problem_is_keyed_by_position(world):
    school = world.school
    pupil = make_pupil(school.organisation)
    before = counts()
    with pytest.raises(services.RollChangesRefused) as refused:
        services.record_roll_changes(
            school.organisation,
            actor=school["information_manager"],
            drafts=[
                joining(),
                removal(pupil, ground=None),
                joining(),
                joining(given_name="", family_name=""),
            ],
            source="import",
        )
    assert counts() == before
    assert refused.value.draft_errors == {
        1: {"ground": "Choose the ground on which the pupil is removed from the roll"},
        2: {"change_date": "The same change as number 1 of this batch"},
        3: {
            "given_name": "Enter the pupil's first name",
            "family_name": "Enter the pupil's last name",
        },
    }
    assert refused.value.message_dict[1] == [
        "Ground: Choose the ground on which the pupil is removed from the roll"
    ]
    assert refused.value.message_dict[3] == [
        "First name: Enter the pupil's first name",
        "Last name: Enter the pupil's last name",
    ]


def test_an_empty_batch_and_a_refused_role_change_nothing(world):
    school = world.school
    with pytest.raises(ValidationError):
        services.record_roll_changes(
            school.organisation, actor=school["headteacher"], drafts=[], source="import"
        )
    before = counts()
    with pytest.raises(PermissionDenied):
        services.record_roll_changes(
            school.organisation, actor=school["dpo"], drafts=[joining()], source="import"
        )
    assert counts() == before


# --- Deadlines, with the clock moved -----------------------------------------------------------


def test_a_joining_is_due_through_the_fifth_day_and_overdue_on_the_sixth(world):
    day = datetime.date(2026, 3, 2)
    with time_machine.travel(at_noon(day), tick=False):
        change = record(world.school.organisation, world.school["headteacher"], joining(on=day))
    assert change.deadline == datetime.date(2026, 3, 7)
    assert change.state_on(day) == RollState.DUE
    assert change.state_on(datetime.date(2026, 3, 7)) == RollState.DUE
    assert change.state_on(datetime.date(2026, 3, 8)) == RollState.OVERDUE


def test_a_removal_is_overdue_the_day_after_its_date(world):
    day = datetime.date(2026, 3, 2)
    pupil = make_pupil(world.school.organisation)
    with time_machine.travel(at_noon(day - datetime.timedelta(days=3)), tick=False):
        change = record(
            world.school.organisation, world.school["headteacher"], removal(pupil, on=day)
        )
    assert change.deadline == day
    assert change.state_on(day) == RollState.DUE
    assert change.state_on(day + datetime.timedelta(days=1)) == RollState.OVERDUE


# --- Withdrawing ---------------------------------------------------------------------------


def test_withdrawing_keeps_the_change_with_who_and_why(world):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    services.withdraw_roll_change(
        change, actor=school["information_manager"], reason=" Wrong child "
    )
    change.refresh_from_db()
    assert change.status == NotificationStatus.WITHDRAWN
    assert change.withdrawn_by == school["information_manager"]
    assert change.withdrawn_reason == "Wrong child"
    assert change.state_on(timezone.localdate()) == RollState.WITHDRAWN
    assert changes_of(last_event("roll_change.withdrawn")) == {"status": "withdrawn"}


def test_withdrawing_needs_a_reason_a_keeper_and_a_change_to_notify(world):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.withdraw_roll_change(change, actor=school["headteacher"], reason=" ")
    assert refused.value.message_dict == {"reason": ["Say why the roll change is withdrawn"]}
    with pytest.raises(PermissionDenied):
        services.withdraw_roll_change(change, actor=school["dpo"], reason="No")
    assert counts() == before
    notify(school.organisation, school["headteacher"], [change], world.local_authority)
    with pytest.raises(ValidationError) as late:
        services.withdraw_roll_change(change, actor=school["headteacher"], reason="No")
    assert "was notified to the local authority on" in late.value.messages[0]


# --- Notifying ---------------------------------------------------------------------------------


def test_notifying_marks_each_change_and_records_one_statutory_decision(world):
    school = world.school
    actor = school["information_manager"]
    pupil = make_pupil(school.organisation)
    joined = record(school.organisation, actor)
    removed = record(school.organisation, actor, removal(pupil))
    today = timezone.localdate()

    decision = services.notify_roll_changes(
        school.organisation,
        actor=actor,
        changes=[joined, removed],
        notification=notification(
            world.local_authority, method=NotificationMethod.LA_PORTAL, reference=" CME-881 "
        ),
    )

    for change in (joined, removed):
        change.refresh_from_db()
        assert change.status == NotificationStatus.NOTIFIED
        assert change.notified_to == world.local_authority
        assert change.notified_on == today
        assert change.notified_by == actor
        assert change.notification_method == NotificationMethod.LA_PORTAL
        assert change.notification_reference == "CME-881"
        assert change.decision == decision
        assert change.state_on(today) == RollState.NOTIFIED
    assert decision.organisation == school.organisation
    assert set(decision.people.all()) == {joined.pupil, pupil}
    assert decision.recipient_organisation == world.local_authority
    assert decision.purpose.code == "roll-change"
    assert decision.lawful_basis.code == "legal-obligation"
    assert {c.code for c in decision.categories.all()} == {"identity-contact", "education"}
    assert decision.outcome == Outcome.SHARED
    assert decision.consent == Consent.NOT_SOUGHT_OTHER_BASIS
    assert "regulation 13" in decision.consent_explanation
    assert decision.method == Method.STATUTORY_SYSTEM
    assert decision.arrangement == Arrangement.STATUTORY
    assert decision.checks == list(Check.values)
    assert (decision.decided_by, decision.decided_on) == (actor, today)
    assert joined.reference in decision.information
    assert removed.reference in decision.information
    events = AuditEvent.objects.filter(verb="roll_change.notified").order_by("sequence")
    assert [e.object_label for e in events] == [joined.reference, removed.reference]
    assert changes_of(events[0])["decision"] == decision.reference
    assert last_event("decision.recorded").object_label == decision.reference


@pytest.mark.parametrize(
    ("method", "logged"),
    [
        (NotificationMethod.SECURE_EMAIL, Method.ENCRYPTED_EMAIL),
        (NotificationMethod.SECURE_TRANSFER, Method.SECURE_TRANSFER),
        (NotificationMethod.LETTER, Method.POST),
    ],
)
def test_the_method_is_named_in_the_decision_log_s_terms(world, method, logged):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    decision = services.notify_roll_changes(
        school.organisation,
        actor=school["headteacher"],
        changes=[change],
        notification=notification(world.local_authority, method=method),
    )
    assert decision.method == logged


def test_a_bad_notification_is_refused_beside_its_fields_and_changes_nothing(world):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.notify_roll_changes(
            school.organisation,
            actor=school["headteacher"],
            changes=[change],
            notification=services.Notification(
                local_authority=world.trust,
                notified_on=timezone.localdate() + datetime.timedelta(days=1),
                method="pigeon",
                reference="x" * 101,
            ),
        )
    assert set(refused.value.message_dict) == {
        "local_authority",
        "notified_on",
        "method",
        "reference",
    }
    assert refused.value.message_dict["notified_on"] == [
        "The date you told the local authority must be today or earlier"
    ]
    assert counts() == before
    change.refresh_from_db()
    assert change.status == NotificationStatus.TO_NOTIFY


def test_notifying_is_refused_for_other_roles_schools_and_states(world):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    before = counts()
    for actor in (school["dpo"], school["auditor"], world.other["headteacher"]):
        with pytest.raises(PermissionDenied):
            notify(school.organisation, actor, [change], world.local_authority)
    # Another school's change, named through this school: refused, not marked.
    theirs = record(world.other.organisation, world.other["headteacher"])
    before = counts()
    with pytest.raises(PermissionDenied):
        notify(school.organisation, school["headteacher"], [theirs], world.local_authority)
    assert counts() == before
    with pytest.raises(ValidationError):
        notify(school.organisation, school["headteacher"], [], world.local_authority)
    notify(school.organisation, school["headteacher"], [change], world.local_authority)
    before = counts()
    with pytest.raises(ValidationError) as again:
        notify(school.organisation, school["headteacher"], [change], world.local_authority)
    assert "was notified to the local authority on" in again.value.messages[0]
    assert counts() == before


def test_a_withdrawn_change_cannot_be_notified(world):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    services.withdraw_roll_change(change, actor=school["headteacher"], reason="Error")
    with pytest.raises(ValidationError) as refused:
        notify(school.organisation, school["headteacher"], [change], world.local_authority)
    assert refused.value.messages == [
        f"That cannot be done now: {change.reference} is “withdrawn”."
    ]


def test_the_default_local_authority_is_the_last_told_else_the_maintaining_one(world):
    school = world.school
    assert services.default_local_authority(school.organisation) is None
    council = second_council()
    school.organisation.parent = council
    school.organisation.save()
    assert services.default_local_authority(school.organisation) == council
    change = record(school.organisation, school["headteacher"])
    notify(school.organisation, school["headteacher"], [change], world.local_authority)
    assert services.default_local_authority(school.organisation) == world.local_authority


# --- Actions ---------------------------------------------------------------------------------


def test_actions_follow_role_and_status(world):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    assert services.actions_for(change, school["headteacher"]) == services.Actions(
        notify=True, withdraw=True, export=True
    )
    assert services.actions_for(change, school["dpo"]) == services.Actions()
    notify(school.organisation, school["headteacher"], [change], world.local_authority)
    change.refresh_from_db()
    assert services.actions_for(change, school["information_manager"]) == services.Actions(
        export=True
    )
