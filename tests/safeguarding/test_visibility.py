"""Who sees which safeguarding record, strictly (issue 6, item 7), and who has read one.

`Share.objects.for_user` is the one rule: the school's DSL and deputy DSL see
every record of the school; a recipient sees the records shared with them;
nobody else sees any, whatever their role: not the headteacher, not the DPO,
not an auditor, not the platform's operators through the admin site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Membership, Role, User
from infoshare.core.rules import forget_roles
from infoshare.safeguarding import services
from infoshare.safeguarding.models import ReshareRequest, Share, Signature
from tests.conftest import give_totp, make_user
from tests.core.support import changes_of
from tests.safeguarding.support import ask_to_share_with, make_share, signing_for

if TYPE_CHECKING:
    from django.test import Client

    from tests.conftest import World

pytestmark = pytest.mark.django_db


@dataclass
class Records:
    taught: Share  # shared by the DSL with the teacher, acknowledged, with a request on it
    nursed: Share  # shared by the deputy with the volunteer, awaiting acknowledgement
    elsewhere: Share  # the other school's, shared with its teacher
    request: ReshareRequest  # the teacher asks to share with the information manager


@pytest.fixture
def records(world: World) -> Records:
    school, other = world.school, world.other
    taught = make_share(school["dsl"], school["staff"], acknowledged=True)
    nursed = make_share(school["deputy_dsl"], school["volunteer"])
    elsewhere = make_share(other["dsl"], other["staff"], acknowledged=True)
    request = ask_to_share_with(taught, school["information_manager"])
    ask_to_share_with(elsewhere, other["volunteer"])
    return Records(taught, nursed, elsewhere, request)


# What each person of the school sees of the school's records.
SEES_IN_SCHOOL = {
    Role.DSL: {"taught", "nursed"},
    Role.DEPUTY_DSL: {"taught", "nursed"},
    Role.STAFF: {"taught"},
    Role.VOLUNTEER: {"nursed"},
    Role.HEADTEACHER: set(),
    Role.CHAIR: set(),
    Role.DPO: set(),
    # Named in a pending request to share further: still nothing until a DSL permits it.
    Role.INFORMATION_MANAGER: set(),
    Role.AUDITOR: set(),
}
# What each person of the other school sees of their own school's records.
SEES_IN_OTHER = {role: set() for role in Role} | {
    Role.DSL: {"elsewhere"},
    Role.DEPUTY_DSL: {"elsewhere"},
    Role.STAFF: {"elsewhere"},
}


def seen(records: Records, names: set[str]) -> set[Share]:
    return {getattr(records, name) for name in names}


@pytest.mark.parametrize("role", list(Role))
def test_each_person_of_the_school_sees_only_what_their_place_allows(
    world: World, records: Records, role: Role
):
    user = world.school[role]
    school, other = world.school.organisation, world.other.organisation
    expected = seen(records, SEES_IN_SCHOOL[role])
    assert set(Share.objects.for_user(user, school)) == expected
    # Nothing of the other school, whose records name the same references.
    assert not Share.objects.for_user(user, other).exists()
    requests = set(ReshareRequest.objects.for_user(user, school))
    assert requests == ({records.request} if records.taught in expected else set())


@pytest.mark.parametrize("role", list(Role))
def test_nobody_of_the_other_school_sees_this_schools_records(
    world: World, records: Records, role: Role
):
    user = world.other[role]
    school, other = world.school.organisation, world.other.organisation
    assert not Share.objects.for_user(user, school).exists()
    assert not ReshareRequest.objects.for_user(user, school).exists()
    assert set(Share.objects.for_user(user, other)) == seen(records, SEES_IN_OTHER[role])


def test_the_trusts_dpo_sees_no_record_of_either_school(world: World, records: Records):
    for school in (world.school, world.other):
        assert not Share.objects.for_user(world.trust_dpo, school.organisation).exists()
        assert not ReshareRequest.objects.for_user(world.trust_dpo, school.organisation).exists()


def test_the_references_repeat_across_schools_but_the_records_do_not_mix(records: Records):
    # Each school numbers its own: the rule must never match records by reference alone.
    assert records.taught.reference == records.elsewhere.reference


def test_a_headteacher_who_is_a_recipient_sees_only_that_record(world: World, records: Records):
    school = world.school
    theirs = make_share(school["dsl"], school["headteacher"])
    assert set(Share.objects.for_user(school["headteacher"], school.organisation)) == {theirs}


def test_a_recipient_still_sees_a_withdrawn_record(world: World, records: Records):
    school = world.school
    services.withdraw_share(records.taught, actor=school["dsl"], reason="Retracted")
    assert set(Share.objects.for_user(school["staff"], school.organisation)) == {records.taught}
    # ...but may no longer read what was shared.
    withdrawn = Share.objects.get(pk=records.taught.pk)
    assert not services.actions_for(withdrawn, school["staff"]).read_description


@pytest.mark.parametrize("role", ["staff", "dsl"])
def test_someone_who_has_left_sees_nothing(world: World, records: Records, role: str):
    school = world.school
    user = school[role]
    Membership.objects.filter(user=user, organisation=school.organisation).update(
        ended_at=records.taught.shared_at
    )
    forget_roles(user)
    assert not Share.objects.for_user(User.objects.get(pk=user.pk), school.organisation).exists()


def test_nobody_signed_out_and_no_operator_sees_a_record(world: World, records: Records):
    operator = make_user("operator@example.org", "Platform Operator")
    operator.is_superuser = operator.is_staff = True
    operator.save()
    school = world.school.organisation
    assert not Share.objects.for_user(AnonymousUser(), school).exists()  # type: ignore[arg-type]
    assert not Share.objects.for_user(operator, school).exists()


def test_a_permitted_colleague_sees_the_new_record_only(world: World, records: Records):
    school = world.school
    manager = school["information_manager"]
    new = services.permit_internal_reshare(
        records.request,
        actor=school["deputy_dsl"],
        reasons="Needed for the attendance meeting",
        description="Only that the family is supported",
        signing=signing_for(school["deputy_dsl"]),
    )
    assert set(Share.objects.for_user(manager, school.organisation)) == {new}


# --- The admin site does not show them -------------------------------------------------


@pytest.fixture
def operator(client: Client) -> Client:
    user = make_user("operator@example.org", "Platform Operator")
    user.is_superuser = user.is_staff = True
    user.save()
    give_totp(user)
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client


@pytest.mark.parametrize("model", [Share, Signature, ReshareRequest])
def test_no_safeguarding_model_is_registered_in_the_admin(model: type):
    assert not admin.site.is_registered(model)


def test_the_admin_index_lists_no_safeguarding_app(records: Records, operator: Client):
    response = operator.get(reverse("admin:index"))
    assert response.status_code == 200
    labels = {app["app_label"] for app in response.context["app_list"]}
    assert "decisions" in labels or "core" in labels  # the operator does see an index
    assert "safeguarding" not in labels
    assert b"safeguarding" not in response.content.lower()
    assert operator.get("/admin/safeguarding/").status_code == 404
    assert operator.get("/admin/safeguarding/share/").status_code == 404


# --- Who has read a record ----------------------------------------------------------------


def test_opening_downloading_and_listing_are_kept_for_the_record_newest_first(
    world: World, records: Records
):
    school = world.school
    dsl, teacher = school["dsl"], school["staff"]
    services.note_view(records.taught, actor=teacher)
    services.note_listed(school.organisation, actor=dsl, shares=[records.taught, records.nursed])
    services.note_form_downloaded(records.taught, actor=school["deputy_dsl"])
    services.note_view(records.nursed, actor=school["volunteer"])
    read = services.who_has_read(records.taught)
    assert [(event.verb, event.actor) for event in read] == [
        ("safeguarding.form_downloaded", school["deputy_dsl"]),
        ("safeguarding.listed", dsl),
        ("safeguarding.viewed", teacher),
    ]
    assert [(event.verb, event.actor) for event in services.who_has_read(records.nursed)] == [
        ("safeguarding.viewed", school["volunteer"]),
        ("safeguarding.listed", dsl),
    ]
    assert set(services.READ_VERBS) == {event.verb for event in read}


def test_a_listing_names_the_records_by_reference_only(world: World, records: Records):
    school = world.school
    services.note_listed(school.organisation, actor=school["dsl"], shares=[records.nursed])
    event = AuditEvent.objects.get(verb="safeguarding.listed")
    assert event.organisation == school.organisation
    assert event.object_label == "Safeguarding records"
    assert changes_of(event) == {"references": [records.nursed.reference]}


def test_an_empty_list_is_no_reading(world: World, records: Records):
    services.note_listed(world.school.organisation, actor=world.school["dsl"], shares=[])
    assert not AuditEvent.objects.filter(verb="safeguarding.listed").exists()


def test_listing_one_record_is_not_reading_another_whose_reference_it_contains(world: World):
    school = world.school
    shares = [make_share(school["dsl"], school["staff"]) for _ in range(11)]
    first, eleventh = shares[0], shares[10]
    assert first.reference.endswith("-0001")
    assert eleventh.reference.endswith("-0011")
    services.note_listed(school.organisation, actor=school["dsl"], shares=[eleventh])
    assert services.who_has_read(first) == []
    assert [event.verb for event in services.who_has_read(eleventh)] == ["safeguarding.listed"]


def test_reading_the_other_schools_record_of_the_same_reference_is_not_counted(
    world: World, records: Records
):
    other = world.other
    services.note_view(records.elsewhere, actor=other["staff"])
    services.note_listed(other.organisation, actor=other["dsl"], shares=[records.elsewhere])
    assert services.who_has_read(records.taught) == []
    assert len(services.who_has_read(records.elsewhere)) == 2
