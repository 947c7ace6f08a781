"""The decision list /o/<org>/decisions/: who sees what, columns, filters, sorting, pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.core.models import Organisation, OrganisationKind, Role
from infoshare.decisions import filters
from infoshare.decisions.models import Arrangement, Outcome
from tests.decisions.factories import correct_decision, make_decision, make_person, review

# What each role sees of the `log` fixture's decisions (DESIGN.md section 1, issue 3):
# "staff" and "dsl" recorded some themselves; the special ones hold health or safeguarding data.
SEES = {
    Role.HEADTEACHER: {"staff_plain", "dsl_plain", "dsl_special", "staff_special"},
    Role.DPO: {"staff_plain", "dsl_plain", "dsl_special", "staff_special"},
    Role.CHAIR: {"staff_plain", "dsl_plain"},
    Role.INFORMATION_MANAGER: {"staff_plain", "dsl_plain"},
    Role.AUDITOR: {"staff_plain", "dsl_plain"},
    Role.DSL: {"dsl_plain", "dsl_special", "staff_special"},
    Role.DEPUTY_DSL: {"dsl_special", "staff_special"},
    Role.STAFF: {"staff_plain", "staff_special"},
    Role.VOLUNTEER: set(),
}


def list_url(slug: str = "alder", **query: str) -> str:
    url = reverse("decisions:list", kwargs={"org": slug})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def text(response) -> str:
    return response.content.decode()


def table_rows(response) -> list[str]:
    """The text of each row of the decisions table, tags removed."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', text(response), re.S)
    if body is None:
        return []
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', body.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def references(response) -> list[str]:
    """The references in the table, in the order shown."""
    return [row.split()[0] for row in table_rows(response)]


@pytest.fixture
def ada(world):
    return make_person(world.school.organisation, "Ada", "Lovelace", upn="")


@pytest.fixture
def log(world, ada):
    """Four decisions about Ada in Alder, two of them special category, and one in Birch."""
    school = world.school.organisation
    made = {
        "staff_plain": make_decision(school, world.school["staff"], people=[ada]),
        "dsl_plain": make_decision(
            school, world.school["dsl"], people=[ada], categories=("attendance",)
        ),
        "dsl_special": make_decision(
            school, world.school["dsl"], people=[ada], categories=("safeguarding",)
        ),
        "staff_special": make_decision(
            school, world.school["staff"], people=[ada], categories=("health", "education")
        ),
    }
    birch_pupil = make_person(world.other.organisation, "Bea", "Birch")
    made["birch"] = make_decision(
        world.other.organisation, world.other["staff"], people=[birch_pupil]
    )
    return made


# --- Who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_exactly_the_decisions_their_role_allows(world, client_for, log, role):
    response = client_for(world.school[role]).get(list_url())
    assert response.status_code == 200
    expected = {log[name].reference for name in SEES[role]}
    assert set(references(response)) == expected
    assert log["birch"].reference not in text(response)


@pytest.mark.parametrize("role", list(Role))
def test_another_schools_members_get_not_found(world, client_for, role):
    assert client_for(world.other[role]).get(list_url()).status_code == 404


def test_a_dpo_serving_two_schools_sees_each_schools_own(world, client_for, log):
    client = client_for(world.trust_dpo)
    assert log["birch"].reference not in text(client.get(list_url()))
    assert references(client.get(list_url("birch"))) == [log["birch"].reference]


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(world):
    response = Client().get(list_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_special_category_filter_cannot_reveal_hidden_decisions(world, client_for, log):
    client = client_for(world.school["chair"])
    assert references(client.get(list_url(special="yes"))) == []
    assert "No decisions match these filters" in text(client.get(list_url(special="yes")))


# --- The table ---------------------------------------------------------------------------


def test_a_row_shows_reference_date_people_recipient_purpose_and_outcome(world, client_for, ada):
    decision = make_decision(
        world.school.organisation,
        world.school["staff"],
        people=[ada, make_person(world.school.organisation, "Alan", "Turing")],
        categories=("health",),
        purpose="integrated-health",
        decided_on=date(2026, 11, 2),
        recipient_person="School nurse",
        recipient_organisation_name="Eastmoor Health Trust",
    )
    response = client_for(world.school["dpo"]).get(list_url())
    (row,) = table_rows(response)
    assert row == (
        f"{decision.reference} 2 November 2026 Ada Lovelace, Alan Turing School nurse "
        "Eastmoor Health Trust Support integrated health services Shared Special category"
    )
    detail = reverse("decisions:detail", kwargs={"org": "alder", "reference": decision.reference})
    assert f'<a class="govuk-link" href="{detail}">{decision.reference}</a>' in text(response)
    assert '<time datetime="2026-11-02">2 November 2026</time>' in text(response)


def test_a_decision_about_many_people_names_the_first_three(world, client_for):
    school = world.school.organisation
    people = [make_person(school, f"Pupil{n}", "Class") for n in range(5)]
    make_decision(school, world.school["dpo"], people=people)
    (row,) = table_rows(client_for(world.school["dpo"]).get(list_url()))
    assert "Pupil0 Class, Pupil1 Class, Pupil2 Class and 2 others" in row


def test_the_recipient_is_an_organisation_on_the_list_or_a_name_typed_in(world, client_for):
    school = world.school.organisation
    make_decision(
        school,
        world.school["dpo"],
        recipient_organisation=world.local_authority,
        recipient_organisation_name="",
        recipient_person="Admissions team",
    )
    (row,) = table_rows(client_for(world.school["dpo"]).get(list_url()))
    assert "Admissions team Eastmoor Council" in row


def test_one_off_and_emergency_shares_await_the_dpos_review(world, client_for):
    school, staff = world.school.organisation, world.school["staff"]
    one_off = make_decision(school, staff, arrangement=Arrangement.ONE_OFF)
    emergency = make_decision(school, staff, arrangement=Arrangement.EMERGENCY)
    reviewed = make_decision(school, staff, arrangement=Arrangement.ONE_OFF)
    review(reviewed, world.school["dpo"])
    refused = make_decision(
        school, staff, arrangement=Arrangement.ONE_OFF, outcome=Outcome.NOT_SHARED
    )
    agreed = make_decision(school, staff, arrangement=Arrangement.AGREEMENT)
    rows = dict(
        zip(
            references(client_for(staff).get(list_url())),
            table_rows(client_for(staff).get(list_url())),
            strict=True,
        )
    )
    assert "Awaiting DPO review" in rows[one_off.reference]
    assert "Awaiting DPO review" in rows[emergency.reference]
    for settled in (reviewed, refused, agreed):
        assert "Awaiting DPO review" not in rows[settled.reference]
    assert "Not shared" in rows[refused.reference]


def test_corrected_records_are_hidden_until_asked_for_then_marked(world, client_for, ada):
    school = world.school.organisation
    original = make_decision(school, world.school["staff"], people=[ada])
    correction = correct_decision(original)
    client = client_for(world.school["dpo"])
    assert references(client.get(list_url())) == [correction.reference]
    response = client.get(list_url(include_corrected="on"))
    rows = dict(zip(references(response), table_rows(response), strict=True))
    assert set(rows) == {original.reference, correction.reference}
    assert f"Corrected by {correction.reference}" in rows[original.reference]
    assert "Corrected by" not in rows[correction.reference]
    assert 'name="include_corrected"' in text(response)
    assert "Include corrected records" in text(response)


def test_an_empty_log_says_so_and_offers_to_record(world, client_for):
    response = client_for(world.school["staff"]).get(list_url())
    assert "No decisions to show" in text(response)
    assert "<table" not in text(response)
    assert reverse("decisions:record", kwargs={"org": "alder"}) in text(response)
    auditor_page = text(client_for(world.school["auditor"]).get(list_url()))
    assert reverse("decisions:record", kwargs={"org": "alder"}) not in auditor_page


# --- Filters -----------------------------------------------------------------------------


@pytest.fixture
def varied(world, ada):
    """Decisions differing in one thing each, all visible to the DPO."""
    school, dpo = world.school.organisation, world.school["dpo"]
    grace = make_person(school, "Grace", "Hopper")
    health_trust = Organisation.objects.create(
        name="Eastmoor Health Trust",
        slug="eastmoor-health",
        kind=OrganisationKind.EXTERNAL,
        external_kind="health",
    )
    return {
        "health_trust": make_decision(
            school,
            dpo,
            people=[grace],
            categories=("health",),
            purpose="integrated-health",
            information="Asthma care plan",
            recipient_organisation=health_trust,
            recipient_organisation_name="",
            recipient_person="School nurse",
            arrangement=Arrangement.ONE_OFF,
            decided_on=date(2026, 3, 10),
        ),
        "council": make_decision(
            school,
            dpo,
            people=[ada],
            purpose="statutory-pupil-information",
            information="Census return",
            recipient_organisation=world.local_authority,
            recipient_organisation_name="",
            recipient_person="Data team",
            arrangement=Arrangement.STATUTORY,
            decided_on=date(2026, 5, 1),
        ),
        "refused": make_decision(
            school,
            dpo,
            people=[ada, grace],
            outcome=Outcome.NOT_SHARED,
            information="Home address",
            reasons="Caller's identity could not be verified",
            recipient_organisation_name="Unknown caller",
            recipient_person="Someone saying they are an uncle",
            arrangement="",
            lawful_basis=None,
            decided_on=date(2026, 6, 15),
        ),
        "described": make_decision(
            school,
            dpo,
            people_described="A visiting sibling, Tom Brown",
            information="Emergency contact details",
            recipient_organisation_name="Riverside Tutoring Ltd",
            decided_on=date(2026, 9, 30),
        ),
    }


def found(client, **query) -> set[str]:
    return set(references(client.get(list_url(**query))))


def refs(varied, *names) -> set[str]:
    return {varied[name].reference for name in names}


def test_search_looks_in_references_information_reasons_recipients_and_names(
    world, client_for, varied
):
    client = client_for(world.school["dpo"])
    assert found(client, q=varied["council"].reference) == refs(varied, "council")
    assert found(client, q="asthma") == refs(varied, "health_trust")
    assert found(client, q="verified") == refs(varied, "refused")
    assert found(client, q="uncle") == refs(varied, "refused")
    assert found(client, q="riverside") == refs(varied, "described")
    assert found(client, q="eastmoor+council") == refs(varied, "council")
    assert found(client, q="lovelace") == refs(varied, "council", "refused")
    assert found(client, q="Grace+Hopper") == refs(varied, "health_trust", "refused")
    assert found(client, q="tom+brown") == refs(varied, "described")
    # Every word must appear somewhere.
    assert found(client, q="lovelace+census") == refs(varied, "council")
    assert found(client, q="lovelace+asthma") == set()


def test_search_does_not_find_people_of_another_school(world, client_for, varied):
    make_person(world.other.organisation, "Zebedee", "Lovelace")
    client = client_for(world.school["dpo"])
    assert found(client, q="zebedee") == set()


def test_filter_by_outcome(world, client_for, varied):
    client = client_for(world.school["dpo"])
    assert found(client, outcome="not_shared") == refs(varied, "refused")
    assert found(client, outcome="shared") == refs(varied, "health_trust", "council", "described")


def test_filter_by_purpose(world, client_for, varied):
    client = client_for(world.school["dpo"])
    assert found(client, purpose="integrated-health") == refs(varied, "health_trust")
    response = client.get(list_url(purpose="no-such-purpose"))
    assert "Select a purpose from the list" in text(response)


def test_filter_by_recipient_chosen_or_typed(world, client_for, varied):
    client = client_for(world.school["dpo"])
    assert found(client, recipient="Eastmoor+Council") == refs(varied, "council")
    assert found(client, recipient="eastmoor") == refs(varied, "health_trust", "council")
    assert found(client, recipient="Unknown+caller") == refs(varied, "refused")


def test_the_recipient_box_offers_the_organisations_the_viewer_may_see(world, client_for, varied):
    def offered(user) -> list[str]:
        content = text(client_for(user).get(list_url()))
        datalist = re.search(r'<datalist id="recipient-names">(.*?)</datalist>', content, re.S)
        return re.findall(r'<option value="([^"]+)">', datalist.group(1)) if datalist else []

    # Organisations on the list that received a decision; names typed in are found by typing.
    assert offered(world.school["dpo"]) == ["Eastmoor Council", "Eastmoor Health Trust"]
    # The chair does not see the health trust's special category decision, nor its recipient.
    assert offered(world.school["chair"]) == ["Eastmoor Council"]
    assert 'list="recipient-names"' in text(client_for(world.school["dpo"]).get(list_url()))


def test_filter_by_kind_of_sharing(world, client_for, varied):
    client = client_for(world.school["dpo"])
    assert found(client, kind="statutory") == refs(varied, "council")
    assert found(client, kind="one_off") == refs(varied, "health_trust")


def test_filter_by_special_category(world, client_for, varied):
    client = client_for(world.school["dpo"])
    assert found(client, special="yes") == refs(varied, "health_trust")
    assert found(client, special="no") == refs(varied, "council", "refused", "described")


def test_filter_by_person_shows_them_by_name(world, client_for, varied, ada):
    client = client_for(world.school["dpo"])
    response = client.get(list_url(person=str(ada.uuid)))
    assert set(references(response)) == refs(varied, "council", "refused")
    content = text(response)
    assert "Showing decisions about <strong>Ada Lovelace</strong>" in content
    history = reverse("decisions:person_history", kwargs={"org": "alder", "person": ada.uuid})
    assert history in content
    assert f'<input type="hidden" name="person" value="{ada.uuid}"' in content


def test_a_person_of_another_school_or_unknown_is_an_error_not_a_filter(world, client_for, varied):
    client = client_for(world.school["dpo"])
    stranger = make_person(world.other.organisation, "Bea", "Birch")
    for wanted in (str(stranger.uuid), "not-a-uuid"):
        response = client.get(list_url(person=wanted))
        assert "That person is not on this school&#x27;s people list" in text(response)
        assert "Bea Birch" not in text(response)


def test_filter_by_date_range_includes_both_ends(world, client_for, varied):
    client = client_for(world.school["dpo"])
    assert found(client, date_from="2026-05-01", date_to="2026-06-15") == refs(
        varied, "council", "refused"
    )
    assert found(client, date_from="2026-06-16") == refs(varied, "described")
    assert found(client, date_to="2026-03-10") == refs(varied, "health_trust")


def test_a_to_date_before_the_from_date_is_an_error_beside_the_field(world, client_for, varied):
    client = client_for(world.school["dpo"])
    response = client.get(list_url(date_from="2026-06-01", date_to="2026-05-01"))
    content = text(response)
    assert response.status_code == 200
    assert "There is a problem" in content
    assert re.search(
        r'<p id="id_date_to_error" class="govuk-error-message">.*'
        r"The &#x27;to&#x27; date must be the same as or after the &#x27;from&#x27; date",
        content,
        re.S,
    )
    assert "<title>Error: Decisions" in content
    # No filter applies rather than some of them.
    assert found(client, date_from="2026-06-01", date_to="2026-05-01") == found(client)


def test_an_impossible_date_is_an_error(world, client_for, varied):
    response = client_for(world.school["dpo"]).get(list_url(date_from="2026-02-30"))
    assert "The &#x27;from&#x27; date must be a real date" in text(response)


def test_filters_combine(world, client_for, varied):
    client = client_for(world.school["dpo"])
    assert found(client, q="lovelace", outcome="shared", date_from="2026-01-01") == refs(
        varied, "council"
    )


def test_filters_that_match_nothing_say_so_and_offer_to_clear_them(world, client_for, varied):
    response = client_for(world.school["dpo"]).get(list_url(q="no-such-words"))
    assert "No decisions match these filters" in text(response)
    assert f'href="{list_url()}">clear the filters</a>' in text(response)


# --- Sorting -----------------------------------------------------------------------------


def test_newest_decision_first_by_default(world, client_for, varied):
    client = client_for(world.school["dpo"])
    expected = [varied[name].reference for name in ("described", "refused", "council")]
    assert references(client.get(list_url()))[:3] == expected


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        ("decided", ["health_trust", "council", "refused", "described"]),
        ("-decided", ["described", "refused", "council", "health_trust"]),
        ("recipient", ["council", "health_trust", "described", "refused"]),
        ("-recipient", ["refused", "described", "health_trust", "council"]),
        ("outcome", ["refused", "described", "council", "health_trust"]),
        ("-outcome", ["described", "council", "health_trust", "refused"]),
        ("nonsense", ["described", "refused", "council", "health_trust"]),
    ],
)
def test_sorting(world, client_for, varied, sort, names):
    client = client_for(world.school["dpo"])
    assert references(client.get(list_url(sort=sort))) == [varied[name].reference for name in names]


def test_sorting_by_reference(world, client_for):
    school, dpo = world.school.organisation, world.school["dpo"]
    for reference in ("DEC-2026-0002", "DEC-2025-0007", "DEC-2026-0010"):
        make_decision(school, dpo, reference=reference)
    client = client_for(dpo)
    ascending = ["DEC-2025-0007", "DEC-2026-0002", "DEC-2026-0010"]
    assert references(client.get(list_url(sort="reference"))) == ascending
    assert references(client.get(list_url(sort="-reference"))) == ascending[::-1]


def test_the_headers_link_to_the_other_direction_and_say_how_the_list_is_sorted(
    world, client_for, varied
):
    client = client_for(world.school["dpo"])
    content = text(client.get(list_url(outcome="shared")))
    assert 'aria-sort="descending"' in content
    assert 'href="?outcome=shared&amp;sort=decided"' in content  # newest first: next is oldest
    assert 'href="?outcome=shared&amp;sort=reference"' in content
    content = text(client.get(list_url(sort="reference")))
    assert 'aria-sort="ascending"' in content
    assert 'href="?sort=-reference"' in content
    # Filtering keeps the order chosen.
    assert '<input type="hidden" name="sort" value="reference">' in content


# --- Pages and queries -------------------------------------------------------------------


def many(world, count: int, *, recorded_by=None, start=date(2026, 1, 1)) -> list:
    school = world.school.organisation
    recorder = recorded_by or world.school["dpo"]
    people = [make_person(school, f"Pupil{n}", "Many") for n in range(3)]
    return [
        make_decision(
            school,
            recorder,
            people=people[: 1 + n % 3],
            categories=("health",) if n % 4 == 0 else ("education",),
            decided_on=start + timedelta(days=n),
            arrangement=Arrangement.ONE_OFF if n % 5 == 0 else Arrangement.AGREEMENT,
        )
        for n in range(count)
    ]


def test_pages_hold_twenty_five_decisions(world, client_for):
    made = many(world, 60)
    client = client_for(world.school["dpo"])
    first = client.get(list_url())
    assert len(table_rows(first)) == 25
    assert "Showing 1 to 25 of 60 decisions" in text(first)
    assert references(first)[0] == made[-1].reference
    assert 'class="govuk-pagination"' in text(first)
    last = client.get(list_url(page="3"))
    assert len(table_rows(last)) == 10
    assert references(last)[-1] == made[0].reference
    shown = [ref for n in (1, 2, 3) for ref in references(client.get(list_url(page=str(n))))]
    assert sorted(shown) == sorted(decision.reference for decision in made)


@pytest.mark.parametrize("listed", [True, False], ids=["ids-listed", "counted-in-sql"])
def test_the_count_leaves_out_corrected_records_unless_they_are_shown(
    world, client_for, monkeypatch, listed
):
    if not listed:  # as in a school with more corrections than one query can list
        monkeypatch.setattr(filters, "MAX_SUPERSEDED_LISTED", 2)
    made = many(world, 30)
    for original in made[:6]:
        correct_decision(original)
    client = client_for(world.school["dpo"])
    assert "Showing 1 to 25 of 30 decisions" in text(client.get(list_url()))
    assert "Showing 1 to 25 of 36 decisions" in text(client.get(list_url(include_corrected="on")))
    # Filters apply to the corrected records counted out, too.
    assert "Showing 1 to 25 of 30 decisions" in text(client.get(list_url(q="pupil0")))
    assert "5 decisions" in text(client.get(list_url(date_to="2026-01-05")))
    # Another school's corrections do not change this school's count.
    other = make_decision(world.other.organisation, world.other["staff"])
    correct_decision(other)
    assert "Showing 1 to 25 of 30 decisions" in text(client.get(list_url()))


def test_the_number_of_queries_does_not_grow_with_the_rows(
    world, client_for, django_assert_max_num_queries
):
    """People, purpose, recipient, review and correction come with the page's queries."""
    client = client_for(world.school["dpo"])

    def queries_for(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    made = many(world, 3)
    correct_decision(made[0])
    few = queries_for(list_url(include_corrected="on"))
    few_current = queries_for(list_url())
    more = many(world, 40, start=date(2025, 1, 1))
    review(more[5], world.school["dpo"])
    correct_decision(more[1])
    assert queries_for(list_url(include_corrected="on")) == few
    assert queries_for(list_url()) == few_current
    person = made[0].people.first()
    # Sign-in and second factor (6), the person and their decisions' ids, count, page,
    # people, corrections, recipients, purposes, the header's organisations, the session (3).
    with django_assert_max_num_queries(18):
        client.get(list_url(q="pupil0", person=str(person.uuid), include_corrected="on"))


def test_an_organisation_with_no_members_of_its_own_is_not_found(world, client_for):
    Organisation.objects.create(
        name="Riverside Tutoring Ltd", slug="riverside", kind=OrganisationKind.EXTERNAL
    )
    assert client_for(world.school["dpo"]).get(list_url("riverside")).status_code == 404
