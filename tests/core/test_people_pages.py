"""The people pages and services: list, search, filters, export, details, add, change.

Every UPN here is generated with make_upn; every name is made up.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import date
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core import services
from infoshare.core.models import Person, PersonKind, Role
from infoshare.core.upn import make_upn
from tests.core.support import (
    assert_chain_intact,
    changes_of,
    element_text,
    last_event,
    links_inside,
)

ALL_ROLES = [role.value for role in Role]
MANAGERS = {"headteacher", "information_manager", "dpo"}


def upn(n: int) -> str:
    """A made-up, valid UPN: fake LA 801, establishment 0002, 2024, serial n."""
    return make_upn(f"801000224{n:03d}")


def url(name: str, school, **kwargs) -> str:
    return reverse(name, kwargs={"org": school.slug, **kwargs})


def text(response) -> str:
    return response.content.decode()


def add(school, *, actor_role="information_manager", **fields) -> Person:
    values = {"kind": PersonKind.PUPIL, "given_name": "Ada", "family_name": "Lane"}
    values.update(fields)
    return services.add_person(school.organisation, actor=school[actor_role], **values)


def add_pupils(school, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        add(
            school,
            given_name=f"Pupil{n:03d}",
            family_name=f"Family{n:03d}",
            upn=upn(n),
            year_group=f"Year {n % 6 + 1}",
            date_of_birth=date(2015, 1, 1),
        )


def form_data(**overrides) -> dict[str, str]:
    data = {
        "kind": "pupil",
        "given_name": "Ada",
        "family_name": "Lane",
        "upn": upn(1),
        "date_of_birth": "27/3/2015",
        "year_group": "Year 6",
        "on_roll_from": "1/9/2019",
        "on_roll_until": "",
        "details": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def people_count(school) -> int:
    return Person.objects.in_organisation(school.organisation).count()


@pytest.fixture
def pupil(world) -> Person:
    return add(world.school, upn=upn(1), year_group="Year 6", date_of_birth=date(2015, 3, 27))


@pytest.fixture
def theirs(world) -> Person:
    """A pupil of the other school."""
    return add(world.other, given_name="Otto", family_name="Other", upn=upn(99))


# --- who may open which page ---------------------------------------------------------------


def pages(school, person: Person) -> dict[str, tuple[str, str, dict]]:
    """name -> (method, path, data) of every people page of `school`, about `person`."""
    return {
        "people": ("get", url("core:people", school), {}),
        "people_csv": ("get", url("core:people", school), {"format": "csv"}),
        "person": ("get", url("core:person", school, person=person.uuid), {}),
        "add": ("get", url("core:add_person", school), {}),
        "add_post": ("post", url("core:add_person", school), {}),
        "edit": ("get", url("core:edit_person", school, person=person.uuid), {}),
        "edit_post": ("post", url("core:edit_person", school, person=person.uuid), {}),
        "import": ("get", url("core:import_pupils", school), {}),
    }


PAGE_NAMES = ["people", "people_csv", "person", "add", "add_post", "edit", "edit_post", "import"]
FOR_EVERY_MEMBER = {"people", "people_csv", "person"}


def expected_status(name: str, role: str) -> int:
    if name in FOR_EVERY_MEMBER or role in MANAGERS:
        return 200  # an empty form comes back with its errors
    return 403


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_permission_matrix(world, client_for, pupil, role, name):
    method, path, data = pages(world.school, pupil)[name]
    response = getattr(client_for(world.school[role]), method)(path, data)
    assert response.status_code == expected_status(name, role), (role, name)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_permission_matrix_for_the_trust_dpo(world, client_for, pupil, theirs, name):
    client = client_for(world.trust_dpo)
    for school, person in ((world.school, pupil), (world.other, theirs)):
        method, path, data = pages(school, person)[name]
        assert getattr(client, method)(path, data).status_code == 200, (name, path)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_other_schools_people_pages_are_404(world, client_for, theirs, role):
    client = client_for(world.school[role])
    for name, (method, path, data) in pages(world.other, theirs).items():
        assert getattr(client, method)(path, data).status_code == 404, (role, name)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_other_schools_person_through_ones_own_address_is_404(world, client_for, theirs, role):
    client = client_for(world.school[role])
    # The edit page refuses those without the role before looking anyone up,
    # so its 403 says nothing about whether the person exists.
    expected = {"person": 404, "edit_person": 404 if role in MANAGERS else 403}
    for name, status in expected.items():
        path = url(f"core:{name}", world.school, person=theirs.uuid)
        assert client.get(path).status_code == status
        assert client.post(path, form_data(given_name="Hijacked")).status_code == status
    theirs.refresh_from_db()
    assert theirs.given_name == "Otto"


def test_an_unknown_person_is_404(world, client_for):
    client = client_for(world.school["headteacher"])
    assert client.get(url("core:person", world.school, person=uuid.uuid4())).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world, client, pupil):
    for name, (method, path, data) in pages(world.school, pupil).items():
        response = getattr(client, method)(path, data)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("role", ALL_ROLES)
def test_everyone_finds_people_in_the_navigation(world, client_for, role):
    html = text(client_for(world.school[role]).get(url("core:dashboard", world.school)))
    links = links_inside(html, "nav", "aria-label", "Menu") or []
    assert {"text": "People", "href": url("core:people", world.school)} in [
        {"text": link["text"], "href": link["href"]} for link in links
    ]


# --- the list -----------------------------------------------------------------------------


def names_listed(response) -> list[str]:
    return re.findall(
        r'<a class="govuk-link" href="/o/[^/]+/people/[0-9a-f-]{36}/">([^<]+)</a>', text(response)
    )


def test_the_list_shows_the_schools_people_by_last_name(world, client_for, theirs):
    add(world.school, given_name="Zoe", family_name="Adams", upn=upn(1))
    add(world.school, given_name="Amy", family_name="Brown", kind=PersonKind.STAFF)
    add(world.school, given_name="Bea", family_name="Adams", kind=PersonKind.PARENT)
    response = client_for(world.school["volunteer"]).get(url("core:people", world.school))
    assert response.status_code == 200
    assert names_listed(response) == ["Adams, Bea", "Adams, Zoe", "Brown, Amy"]
    assert "Otto" not in text(response)
    assert "3 people." in text(response)


def test_the_list_can_be_sorted(world, client_for):
    add(world.school, given_name="Zoe", family_name="Adams", upn=upn(1))
    add(world.school, given_name="Amy", family_name="Brown", upn=upn(2))
    client = client_for(world.school["staff"])
    people = url("core:people", world.school)
    assert names_listed(client.get(people, {"sort": "-name"})) == ["Brown, Amy", "Adams, Zoe"]
    assert names_listed(client.get(people, {"sort": "given_name"})) == ["Brown, Amy", "Adams, Zoe"]
    assert names_listed(client.get(people, {"sort": "nonsense"})) == ["Adams, Zoe", "Brown, Amy"]


def test_search_by_name_or_upn(world, client_for):
    add(world.school, given_name="Zoe", family_name="Adams", upn=upn(1))
    add(world.school, given_name="Amy", family_name="Brown", upn=upn(2))
    add(world.other, given_name="Zoe", family_name="Adams", upn=upn(3))
    client = client_for(world.school["staff"])
    people = url("core:people", world.school)
    assert names_listed(client.get(people, {"q": "zoe"})) == ["Adams, Zoe"]
    assert names_listed(client.get(people, {"q": "amy brown"})) == ["Brown, Amy"]
    assert names_listed(client.get(people, {"q": upn(2).lower()})) == ["Brown, Amy"]
    assert names_listed(client.get(people, {"q": upn(3)})) == []
    nothing = client.get(people, {"q": "nobody"})
    assert "Nobody matches" in text(nothing)


def test_filter_by_kind_and_year_group(world, client_for):
    add(world.school, given_name="Ann", family_name="One", upn=upn(1), year_group="Year 10")
    add(world.school, given_name="Bob", family_name="Two", upn=upn(2), year_group="Year 2")
    add(world.school, given_name="Cat", family_name="Three", upn=upn(3), year_group="Reception")
    add(world.school, given_name="Dan", family_name="Four", kind=PersonKind.STAFF)
    client = client_for(world.school["staff"])
    people = url("core:people", world.school)
    assert names_listed(client.get(people, {"kind": "staff"})) == ["Four, Dan"]
    assert names_listed(client.get(people, {"year_group": "Year 2"})) == ["Two, Bob"]
    assert names_listed(client.get(people, {"kind": "pupil", "year_group": "Year 10"})) == [
        "One, Ann"
    ]
    assert len(names_listed(client.get(people, {"kind": "wizard"}))) == 4
    add(world.school, given_name="Eve", family_name="Five", upn=upn(5), year_group="Year 2")
    html = text(client.get(people))
    offered = re.findall(r'<option value="([^"]+)">\1</option>', html)
    assert offered == ["Reception", "Year 2", "Year 10"]  # each once, in school order


def test_the_list_is_paginated(world, client_for):
    add_pupils(world.school, 60)
    client = client_for(world.school["staff"])
    people = url("core:people", world.school)
    first = client.get(people)
    assert len(names_listed(first)) == 25
    assert "60 people." in text(first)
    third = client.get(people, {"page": 3})
    assert len(names_listed(third)) == 10
    everyone = set()
    for page in (1, 2, 3):
        everyone.update(names_listed(client.get(people, {"page": page})))
    assert len(everyone) == 60


def test_the_add_and_import_buttons_show_only_to_those_who_keep_the_lists(world, client_for):
    for role in ALL_ROLES:
        html = text(client_for(world.school[role]).get(url("core:people", world.school)))
        shown = url("core:add_person", world.school) in html
        assert shown == (role in MANAGERS), role
        assert (url("core:import_pupils", world.school) in html) == (role in MANAGERS), role


def rows_of_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_export_of_what_is_filtered(world, client_for):
    add(world.school, given_name="Ann", family_name="One", upn=upn(1), year_group="Year 1")
    add(
        world.school,
        given_name="=HYPERLINK(1)",
        family_name="Two",
        upn=upn(2),
        year_group="Year 1",
        date_of_birth=date(2019, 3, 27),
        on_roll_from=date(2023, 9, 1),
    )
    add(world.school, given_name="Cat", family_name="Three", upn=upn(3), year_group="Year 2")
    add(world.other, given_name="Otto", family_name="Other", upn=upn(4), year_group="Year 1")
    response = client_for(world.school["staff"]).get(
        url("core:people", world.school), {"format": "csv", "year_group": "Year 1"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="alder-people.csv"'
    rows = rows_of_csv(response)
    assert rows[0] == [
        "Last name",
        "First name",
        "Who",
        "UPN",
        "Date of birth",
        "Year group",
        "On roll from",
        "On roll until",
        "Details",
    ]
    assert rows[1:] == [
        ["One", "Ann", "Pupil", upn(1), "", "Year 1", "", "", ""],
        ["Two", "'=HYPERLINK(1)", "Pupil", upn(2), "2019-03-27", "Year 1", "2023-09-01", "", ""],
    ]


def count_queries(client, path, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "pupil"}, {"kind": "pupil", "year_group": "Year 1"}, {"format": "csv"}],
    ids=["all", "search", "filters", "csv"],
)
def test_the_list_query_count_does_not_grow_with_rows(
    world, client_for, django_assert_max_num_queries, params
):
    client = client_for(world.school["staff"])
    people = url("core:people", world.school)
    add_pupils(world.school, 5)
    few = count_queries(client, people, params)
    add_pupils(world.school, 55, start=5)
    assert people_count(world.school) == 60
    assert count_queries(client, people, params) == few
    # Session, user, second-factor gate, membership and roles (2), count, year groups,
    # organisations for the header, page, session saved (3); an export also writes
    # its audit event (chain head read, locked and moved on, event saved).
    with django_assert_max_num_queries(15 if params.get("format") == "csv" else 12):
        client.get(people, params)


# --- a person's page ------------------------------------------------------------------------


def test_the_details_page(world, client_for, pupil):
    response = client_for(world.school["volunteer"]).get(
        url("core:person", world.school, person=pupil.uuid)
    )
    assert response.status_code == 200
    html = text(response)
    assert "Ada Lane" in html
    assert upn(1) in html
    assert "27 March 2015" in html
    assert "Year 6" in html
    assert "Still on roll" in html
    history = reverse("decisions:person_history", kwargs={"org": "alder", "person": pupil.uuid})
    assert f'href="{history}"' in html
    assert "Disclosure history" in html
    record = reverse("decisions:record", kwargs={"org": "alder"}) + f"?person={pupil.uuid}"
    assert f'href="{record}"' in html
    assert "Record a decision about this person" in html
    # Only those who keep the lists are offered a change.
    assert url("core:edit_person", world.school, person=pupil.uuid) not in html


def test_the_details_page_offers_a_change_to_those_who_keep_the_lists(world, client_for, pupil):
    html = text(
        client_for(world.school["dpo"]).get(url("core:person", world.school, person=pupil.uuid))
    )
    assert url("core:edit_person", world.school, person=pupil.uuid) in html


# --- adding -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(MANAGERS))
def test_adding_through_the_page(world, client_for, role):
    client = client_for(world.school[role])
    page = client.get(url("core:add_person", world.school))
    for field in ("kind", "given_name", "family_name", "upn", "date_of_birth", "on_roll_until"):
        assert f'name="{field}"' in text(page)
    response = client.post(url("core:add_person", world.school), form_data(upn=upn(1).lower()))
    person = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("core:person", world.school, person=person.uuid)
    assert person.organisation == world.school.organisation
    assert (person.kind, person.given_name, person.family_name) == ("pupil", "Ada", "Lane")
    assert person.upn == upn(1)
    assert person.date_of_birth == date(2015, 3, 27)
    assert person.on_roll_from == date(2019, 9, 1)
    assert person.on_roll_until is None
    assert "Ada Lane added." in text(client.get(response["Location"]))
    event = last_event("person.added")
    assert event.actor == world.school[role]
    assert event.object_id == str(person.uuid)
    assert changes_of(event) == {
        "kind": "pupil",
        "fields": [
            "date_of_birth",
            "family_name",
            "given_name",
            "kind",
            "on_roll_from",
            "upn",
            "year_group",
        ],
    }


def test_the_audit_trail_never_copies_what_is_known_about_someone(world, client_for):
    client = client_for(world.school["headteacher"])
    client.post(url("core:add_person", world.school), form_data(details="Lives with grandmother"))
    person = Person.objects.get()
    client.post(
        url("core:edit_person", world.school, person=person.uuid),
        form_data(family_name="Lane-Smith", details="Moved house"),
    )
    for event in AuditEvent.objects.filter(verb__startswith="person."):
        stored = event.changes + event.object_label
        for secret in ("Ada", "Lane", upn(1), "grandmother", "Moved", "2015"):
            assert secret not in stored, (event.verb, secret)
        assert event.object_label == f"Pupil {person.uuid}"
    assert_chain_intact(world.school.organisation)


@pytest.mark.parametrize("typed", ["27/3/2015", "27/03/2015", "27 3 2015", "2015-03-27"])
def test_dates_can_be_typed_in_several_ways(world, client_for, typed):
    client = client_for(world.school["headteacher"])
    client.post(url("core:add_person", world.school), form_data(date_of_birth=typed))
    assert Person.objects.get().date_of_birth == date(2015, 3, 27)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "Enter their first name"),
        ({"family_name": None}, "family_name", "Enter their last name"),
        ({"kind": None}, "kind", "Select who they are"),
        ({"given_name": "x" * 101}, "given_name", "100 characters or fewer"),
        ({"upn": "A801200005001"}, "upn", "check letter does not match"),
        ({"upn": "12345"}, "upn", "Enter a UPN of 13 characters"),
        ({"kind": "staff"}, "upn", "Only pupils have a UPN"),
        ({"date_of_birth": "31/2/2015"}, "date_of_birth", "Enter their date of birth as a real"),
        ({"on_roll_until": "1/9/2018"}, "on_roll_until", "must be after they joined"),
        ({"upn": "TAKEN"}, "upn", "Another pupil in this school already has this UPN."),
    ],
    ids=[
        "no-first-name",
        "no-last-name",
        "no-kind",
        "long-name",
        "check-letter",
        "upn-shape",
        "upn-not-pupil",
        "bad-date",
        "left-before-joining",
        "upn-taken",
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(
    world, client_for, overrides, field, message
):
    overrides = dict(overrides)
    if overrides.get("upn") == "TAKEN":
        add(world.school, given_name="First", family_name="Holder", upn=upn(1))
        overrides["upn"] = f" {upn(1)[:6]} {upn(1)[6:].lower()} "
    client = client_for(world.school["headteacher"])
    people, events = people_count(world.school), AuditEvent.objects.count()
    response = client.post(url("core:add_person", world.school), form_data(**overrides))
    assert response.status_code == 200
    html = text(response)
    beside = element_text(html, f"id_{field}_error")
    assert beside is not None, f"no error beside {field}"
    assert message in beside
    assert "There is a problem" in html
    assert f'href="#id_{field}' in html
    assert people_count(world.school) == people
    assert AuditEvent.objects.count() == events


def test_the_same_upn_may_be_used_by_another_school(world):
    add(world.other, upn=upn(1))
    assert add(world.school, upn=upn(1)).upn == upn(1)


@pytest.mark.parametrize("role", sorted(set(ALL_ROLES) - MANAGERS))
def test_others_cannot_add_or_change_people(world, pupil, role):
    with pytest.raises(PermissionDenied):
        add(world.school, actor_role=role, given_name="Nope", upn=upn(2))
    with pytest.raises(PermissionDenied):
        services.change_person(pupil, actor=world.school[role], given_name="Nope")
    assert people_count(world.school) == 1
    pupil.refresh_from_db()
    assert pupil.given_name == "Ada"


def test_a_manager_of_the_other_school_cannot_add_or_change_here(world, pupil):
    with pytest.raises(PermissionDenied):
        services.add_person(
            world.school.organisation,
            actor=world.other["headteacher"],
            kind="staff",
            given_name="Nope",
            family_name="Nope",
        )
    with pytest.raises(PermissionDenied):
        services.change_person(pupil, actor=world.other["headteacher"], given_name="Nope")


def test_only_a_persons_fields_may_be_set(world):
    with pytest.raises(TypeError, match="organisation"):
        add(world.school, organisation=world.other.organisation)


# --- changing -----------------------------------------------------------------------------


def test_changing_through_the_page(world, client_for, pupil):
    client = client_for(world.school["information_manager"])
    edit = url("core:edit_person", world.school, person=pupil.uuid)
    page = text(client.get(edit))
    assert 'value="Ada"' in page
    assert 'value="27/03/2015"' in page
    assert re.search(r'value="pupil"[^>]*checked|checked[^>]*value="pupil"', page)
    response = client.post(
        edit,
        form_data(year_group="Year 7", on_roll_until="20/7/2026", date_of_birth="27/03/2015"),
    )
    assert response.status_code == 302
    assert response["Location"] == url("core:person", world.school, person=pupil.uuid)
    pupil.refresh_from_db()
    assert pupil.year_group == "Year 7"
    assert pupil.on_roll_until == date(2026, 7, 20)
    assert pupil.updated_at > pupil.created_at
    assert "Ada Lane's details saved." in unescape(text(client.get(response["Location"])))
    event = last_event("person.changed")
    assert event.actor == world.school["information_manager"]
    assert changes_of(event) == {"fields": ["on_roll_from", "on_roll_until", "year_group"]}


def test_saving_without_changes_leaves_no_audit_event(world, pupil):
    events = AuditEvent.objects.count()
    services.change_person(
        pupil, actor=world.school["headteacher"], given_name=" Ada ", upn=upn(1).lower()
    )
    assert AuditEvent.objects.count() == events


def test_a_change_is_refused_beside_the_field(world, client_for, pupil):
    add(world.school, given_name="Other", family_name="Pupil", upn=upn(2))
    client = client_for(world.school["headteacher"])
    events = AuditEvent.objects.count()
    response = client.post(
        url("core:edit_person", world.school, person=pupil.uuid), form_data(upn=upn(2))
    )
    assert response.status_code == 200
    assert "already has this UPN" in element_text(text(response), "id_upn_error")
    pupil.refresh_from_db()
    assert pupil.upn == upn(1)
    assert AuditEvent.objects.count() == events


def test_a_pupil_who_becomes_staff_must_lose_the_upn(world, pupil):
    head = world.school["headteacher"]
    with pytest.raises(ValidationError) as refused:
        services.change_person(pupil, actor=head, kind=PersonKind.STAFF)
    assert "Only pupils have a UPN" in refused.value.message_dict["upn"][0]
    changed = services.change_person(pupil, actor=head, kind=PersonKind.STAFF, upn="")
    assert (changed.kind, changed.upn) == ("staff", "")
    assert changes_of(last_event("person.changed")) == {"fields": ["kind", "upn"]}


def test_a_csv_export_is_audited_with_its_filters_and_size_but_no_names(world, client_for):
    add(world.school, given_name="Ann", family_name="Exported", upn=upn(5), year_group="Year 1")
    add(world.school, given_name="Bo", family_name="Notexported", upn=upn(6), year_group="Year 2")
    staff = world.school["staff"]
    client_for(staff).get(
        url("core:people", world.school), {"format": "csv", "year_group": "Year 1"}
    )
    event = AuditEvent.objects.filter(verb="people.exported").get()
    assert event.actor == staff
    assert event.organisation == world.school.organisation
    assert json.loads(event.changes) == {"rows": 1, "filters": {"year_group": "Year 1"}}
    assert "Exported" not in event.changes
