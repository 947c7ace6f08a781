"""A pupil's page leads a DSL to the pupil's safeguarding records; nobody else learns of them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from infoshare.core.models import Person, PersonKind
from tests.safeguarding.support import make_pupil

pytestmark = pytest.mark.django_db

LINK_TEXT = "Safeguarding records about"


def page_of(client, person: Person) -> str:
    url = reverse("core:person", kwargs={"org": person.organisation.slug, "person": person.uuid})
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", ["dsl", "deputy_dsl"])
def test_a_lead_sees_the_way_to_a_pupils_records(world, client_for, role):
    pupil = make_pupil(world.school.organisation)
    html = page_of(client_for(world.school[role]), pupil)
    assert f"{LINK_TEXT} {pupil.full_name}" in html
    assert f"?pupil={pupil.uuid}" in html


@pytest.mark.parametrize("role", ["headteacher", "staff", "information_manager", "dpo"])
def test_nobody_else_is_shown_it(world, client_for, role):
    pupil = make_pupil(world.school.organisation)
    assert LINK_TEXT not in page_of(client_for(world.school[role]), pupil)


def test_not_offered_for_someone_who_is_not_a_pupil(world, client_for):
    parent = Person.objects.create(
        organisation=world.school.organisation,
        kind=PersonKind.PARENT,
        given_name="Robin",
        family_name="Marsh",
    )
    assert LINK_TEXT not in page_of(client_for(world.school["dsl"]), parent)
