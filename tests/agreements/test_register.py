"""The agreements register /o/<org>/agreements/: who sees it, each row, tags around the
review date, filters, search, sorting, pages, exports and their audit event."""

from __future__ import annotations

import csv
import datetime
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import fastexcel
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from infoshare.agreements.models import TAG_COLOURS, Agreement, Kind, Tag
from infoshare.audit.models import AuditEvent
from infoshare.core.models import Organisation, OrganisationKind, Role
from infoshare.governance.models import InformationAsset
from tests.agreements import drafts
from tests.core.support import changes_of, last_event

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
D = datetime.date
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_HEADER = [
    "Reference",
    "Title",
    "Kind",
    "Status",
    "Version",
    "Parties",
    "Start date",
    "Review due",
    "Information assets",
    "Sits under",
    "From proposal",
    "Approved by",
    "Approved on",
    "Last updated",
]


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


def register_url(slug: str = "alder", **query: str) -> str:
    url = reverse("agreements:register", kwargs={"org": slug})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def text(response: Any) -> str:
    return response.content.decode()


def table_rows(response: Any) -> list[str]:
    """The text of each row of the register, tags removed."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', text(response), re.S)
    if body is None:
        return []
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', body.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def references(response: Any) -> list[str]:
    return [row.split()[0] for row in table_rows(response)]


def row_of(response: Any, agreement: Agreement) -> str:
    return next(row for row in table_rows(response) if row.startswith(agreement.reference))


def make_asset(school, name: str, **fields: Any) -> InformationAsset:
    return InformationAsset.objects.create(
        organisation=school.organisation,
        name=name,
        owner=fields.pop("owner", "Business manager"),
        system_or_location=fields.pop("system_or_location", "MIS"),
        retention_period=fields.pop("retention_period", "Date of birth + 25 years"),
        created_by=school["dpo"],
        **fields,
    )


def supplier(name: str = "Kestrel School Software Ltd") -> Organisation:
    return Organisation.objects.create(
        name=name, slug=name.lower().replace(" ", "-")[:60], kind=OrganisationKind.EXTERNAL
    )


def drafted(world, title: str, other: Organisation | None = None, **changes: Any) -> Agreement:
    school = world.school
    return drafts.drafted(
        school.organisation, school["staff"], other or world.local_authority, title=title, **changes
    )


def approved(world, title: str, other: Organisation | None = None, **changes: Any) -> Agreement:
    school = world.school
    return drafts.approved(
        school.organisation,
        school["staff"],
        school["dpo"],
        school["headteacher"],
        other or world.local_authority,
        title=title,
        **changes,
    )


@pytest.fixture
def register(world) -> dict[str, Any]:
    """Alder's agreements at several stages, its two assets, and one of Birch's agreements."""
    school = world.school
    mis = make_asset(school, "Pupil records in the MIS")
    catering = make_asset(school, "Cashless catering")
    processor = supplier()
    made: dict[str, Any] = {
        "draft": drafted(world, "Attendance figures for the inclusion team", assets=[mis]),
        "awaiting_advice": drafts.advice_requested(
            school.organisation, school["staff"], world.dfe, title="School census returns"
        ),
        "dpa": drafted(
            world, "Hosting of the catering system", processor, kind=Kind.DPA, assets=[catering]
        ),
        "active": approved(world, "Youth service referrals", assets=[mis, catering]),
        "birch": drafts.drafted(
            world.other.organisation,
            world.other["staff"],
            world.local_authority,
            title="Birch orchestra tour",
        ),
    }
    made.update(mis=mis, catering=catering, processor=processor)
    return made


ALDER = ("draft", "awaiting_advice", "dpa", "active")


# --- Who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_every_agreement_of_the_school(world, client_for, register, role):
    response = client_for(world.school[role]).get(register_url())
    assert response.status_code == 200
    assert set(references(response)) == {register[name].reference for name in ALDER}
    # Birch numbers its own agreements (its reference may be one of Alder's too): by title.
    assert "Birch orchestra tour" not in text(response)


@pytest.mark.parametrize("role", list(Role))
def test_another_schools_members_get_not_found(world, client_for, role):
    assert client_for(world.other[role]).get(register_url()).status_code == 404
    assert client_for(world.other[role]).get(register_url(format="csv")).status_code == 404


def test_a_dpo_of_two_schools_sees_each_schools_own_register(world, client_for, register):
    client = client_for(world.trust_dpo)
    assert set(references(client.get(register_url()))) == {register[n].reference for n in ALDER}
    birch = table_rows(client.get(register_url(slug=world.other.slug)))
    assert len(birch) == 1
    assert "Birch orchestra tour" in birch[0]


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(world):
    response = Client().get(register_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_register_only_answers_get(world, client_for):
    assert client_for(world.school["dpo"]).post(register_url()).status_code == 405


@pytest.mark.parametrize("role", list(Role))
def test_the_draft_button_is_for_those_who_may_draft(world, client_for, role):
    html = text(client_for(world.school[role]).get(register_url()))
    start_link = reverse("agreements:start", kwargs={"org": "alder"})
    assert (f'href="{start_link}"' in html) == (role != Role.AUDITOR)
    assert ("Draft a new agreement" in html) == (role != Role.AUDITOR)


def test_an_empty_register_says_how_to_start(world, client_for):
    html = text(client_for(world.school["staff"]).get(register_url()))
    assert "No agreements yet" in html
    assert "draft a new agreement" in html


# --- Each row ----------------------------------------------------------------------------


def test_a_row_shows_what_the_register_records(world, client_for, register):
    response = client_for(world.school["auditor"]).get(register_url())
    html = text(response)
    active = register["active"]
    row = row_of(response, active)
    assert "Youth service referrals" in row
    assert "Information sharing agreement" in row
    assert "Eastmoor Council" in row
    assert "Alder Primary School" not in row  # the school itself is not an "other party"
    assert "Active" in row
    today = timezone.localdate()
    assert f"{today:%-d %B %Y}" in row  # its start date
    assert f"{today.replace(year=today.year + 1):%-d %B %Y}" in row  # review due
    assert "Cashless catering" in row
    assert "Pupil records in the MIS" in row
    assert f'href="{active.get_absolute_url()}"' in html
    for asset in (register["mis"], register["catering"]):
        assert f'href="{asset.get_absolute_url()}"' in html
    assert 'class="govuk-tag govuk-tag--green">Active' in html


def test_tags_show_each_stage_in_its_colour(world, client_for, register):
    response = client_for(world.school["staff"]).get(register_url())
    html = text(response)
    assert 'class="govuk-tag govuk-tag--grey">Draft' in html
    assert 'class="govuk-tag govuk-tag--light-blue">Awaiting advice' in html
    dpa = row_of(response, register["dpa"])
    assert "Data processing agreement" in dpa
    assert "Kestrel School Software Ltd" in dpa
    # A draft has no review to come.
    assert "—" in row_of(response, register["draft"])


PERIOD_STARTS = D(2025, 3, 10)
DUE = D(2026, 3, 10)


@pytest.fixture
def approved_on_10_march_2025(world):
    with time_machine.travel(at_noon(PERIOD_STARTS), tick=False):
        return approved(world, "Youth service referrals")


@pytest.mark.parametrize(
    ("today", "tag"),
    [
        (D(2026, 2, 7), Tag.ACTIVE),  # 31 days before
        (D(2026, 2, 8), Tag.REVIEW_DUE),  # 30 days before
        (DUE, Tag.REVIEW_DUE),
        (D(2026, 3, 11), Tag.REVIEW_OVERDUE),  # the day after
    ],
)
def test_the_tag_moves_to_review_due_and_overdue_around_twelve_months(
    world, client_for, approved_on_10_march_2025, today, tag
):
    label, colour = tag.label, TAG_COLOURS[tag]
    agreement = approved_on_10_march_2025
    client = client_for(world.school["dpo"])
    with time_machine.travel(at_noon(today), tick=False):
        response = client.get(register_url())
        filtered = client.get(register_url(tag=tag.value))
        others = [
            other for other in (Tag.ACTIVE, Tag.REVIEW_DUE, Tag.REVIEW_OVERDUE) if other != tag
        ]
        elsewhere = [references(client.get(register_url(tag=other.value))) for other in others]
    row = row_of(response, agreement)
    assert label in row
    assert "10 March 2026" in row  # review due
    assert f'class="govuk-tag govuk-tag--{colour}">{label}' in text(response)
    assert references(filtered) == [agreement.reference]
    assert elsewhere == [[], []]


def test_an_agreement_under_review_or_terminated_shows_so(world, client_for):
    school = world.school
    reviewed = drafts.under_review(approved(world, "Under review"), school["dpo"])
    ended = drafts.terminated(approved(world, "Ended"), school["headteacher"])
    expired = drafts.expired(
        drafts.terminated(approved(world, "Expired"), school["headteacher"]), school["dpo"]
    )
    response = client_for(school["staff"]).get(register_url())
    assert "Under review" in row_of(response, reviewed)
    assert "Terminated" in row_of(response, ended)
    assert "Expired" in row_of(response, expired)
    assert references(client_for(school["staff"]).get(register_url(tag="expired"))) == [
        expired.reference
    ]


# --- Search and filters ----------------------------------------------------------------


def test_search_finds_a_title_a_reference_or_a_party(world, client_for, register):
    client = client_for(world.school["staff"])
    assert references(client.get(register_url(q="CENSUS"))) == [
        register["awaiting_advice"].reference
    ]
    wanted = register["dpa"].reference
    assert references(client.get(register_url(q=wanted.lower()))) == [wanted]
    assert references(client.get(register_url(q="kestrel+software"))) == [wanted]
    by_party = set(references(client.get(register_url(q="department+education"))))
    assert by_party == {register["awaiting_advice"].reference}


def test_a_search_matching_nothing_says_so(world, client_for, register):
    html = text(client_for(world.school["staff"]).get(register_url(q="nothing-like-this")))
    assert "No agreements match these filters" in html
    assert "Clear filters" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"tag": "draft"}, {"draft", "dpa"}),
        ({"tag": "awaiting_advice"}, {"awaiting_advice"}),
        ({"tag": "active"}, {"active"}),
        ({"tag": "terminated"}, set()),
        ({"kind": "dpa"}, {"dpa"}),
        ({"kind": "agreement"}, {"draft", "awaiting_advice", "active"}),
        ({"party": "dfe"}, {"awaiting_advice"}),
        ({"party": "eastmoor"}, {"draft", "active"}),
        ({"kind": "agreement", "tag": "draft", "party": "eastmoor"}, {"draft"}),
        ({}, set(ALDER)),
    ],
)
def test_the_filters(world, client_for, register, query, expected):
    response = client_for(world.school["staff"]).get(register_url(**query))
    assert set(references(response)) == {register[name].reference for name in expected}


def test_the_asset_filter_lists_the_agreements_that_concern_it(world, client_for, register):
    client = client_for(world.school["staff"])
    mis, catering = register["mis"], register["catering"]
    assert set(references(client.get(register_url(asset=str(mis.uuid))))) == {
        register["draft"].reference,
        register["active"].reference,
    }
    assert set(references(client.get(register_url(asset=str(catering.uuid))))) == {
        register["dpa"].reference,
        register["active"].reference,
    }


def test_the_filters_offer_the_schools_parties_and_assets_only(world, client_for, register):
    stranger = make_asset(world.other, "Birch pupil records")
    html = text(client_for(world.school["staff"]).get(register_url()))
    party_select = re.search(r'<select name="party".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', party_select) == [
        "",
        "dfe",
        "eastmoor",
        "kestrel-school-software-ltd",
    ]
    asset_select = re.search(r'<select name="asset".*?</select>', html, re.S).group(0)
    assert "Birch pupil records" not in asset_select
    assert f'value="{register["mis"].uuid}"' in asset_select
    # Another school's asset is not a choice: the filter says so and hides nothing.
    response = client_for(world.school["staff"]).get(register_url(asset=str(stranger.uuid)))
    assert "Select an information asset from the list" in text(response)
    assert len(references(response)) == 4


def test_each_status_shows_how_many_it_would_list(world, client_for, register):
    html = text(client_for(world.school["staff"]).get(register_url(kind="agreement")))
    assert ">Draft (1)</option>" in html  # the DPA draft is left out by the kind filter
    assert ">Awaiting advice (1)</option>" in html
    assert ">Active (1)</option>" in html
    assert ">Review overdue (0)</option>" in html


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (("tag", "lost"), "Select a status from the list"),
        (("kind", "memo"), "Select a kind of agreement from the list"),
        (("party", "nowhere"), "Select a party from the list"),
        (("asset", "not-a-uuid"), "Select an information asset from the list"),
    ],
)
def test_a_bad_filter_is_shown_beside_it_and_hides_nothing(
    world, client_for, register, bad, message
):
    field, value = bad
    query = {field: value}
    response = client_for(world.school["staff"]).get(register_url(**query))
    html = text(response)
    assert response.status_code == 200
    assert re.search(rf'id="id_{field}_error"[^>]*>.*?{message}', html, re.S)
    assert f'href="#id_{field}"' in html  # the error summary links to the field
    assert len(references(response)) == 4


# --- Sorting and pages -----------------------------------------------------------------


def test_the_newest_change_comes_first_by_default(world, client_for, register):
    client = client_for(world.school["staff"])
    newest = drafted(world, "Speech therapy referrals")
    assert references(client.get(register_url()))[0] == newest.reference
    assert references(client.get(register_url(sort="updated")))[-1] == newest.reference


def test_sorting_by_title_and_reference(world, client_for, register):
    client = client_for(world.school["staff"])
    rows = table_rows(client.get(register_url(sort="title")))
    titles = [row.split(" ", 1)[1] for row in rows]
    assert titles == sorted(titles)
    descending = references(client.get(register_url(sort="-reference")))
    assert descending == sorted(descending, reverse=True)
    html = text(client.get(register_url(sort="reference")))
    assert 'aria-sort="ascending"' in html
    assert "sort=-reference" in html


def test_sorting_by_review_due_puts_the_soonest_first_and_drafts_last(world, client_for):
    with time_machine.travel(at_noon(D(2025, 1, 10)), tick=False):
        a_year = approved(world, "A year from January")  # due 10 January 2026
    with time_machine.travel(at_noon(D(2025, 3, 1)), tick=False):
        six_months = approved(world, "Six months", review_interval_months=6)  # 1 September 2025
    with time_machine.travel(at_noon(D(2024, 12, 31)), tick=False):
        # 31 December + 2 months is 28 February (kept inside the month).
        two_months = approved(world, "Two months", review_interval_months=2)
    with time_machine.travel(at_noon(D(2025, 2, 15)), tick=False):
        later = approved(world, "February", start_date=D(2025, 2, 15))  # 15 February 2026
    draft = drafted(world, "Not approved yet")
    with time_machine.travel(at_noon(D(2025, 6, 1)), tick=False):
        client = client_for(world.school["dpo"])
        soonest_first = references(client.get(register_url(sort="review_due")))
        latest_first = references(client.get(register_url(sort="-review_due")))
    expected = [two_months, six_months, a_year, later]
    assert soonest_first == [a.reference for a in expected] + [draft.reference]
    assert latest_first == [a.reference for a in reversed(expected)] + [draft.reference]


def test_an_unknown_sort_is_the_default_order(world, client_for, register):
    client = client_for(world.school["staff"])
    assert references(client.get(register_url(sort="evil"))) == references(
        client.get(register_url())
    )


def test_pages_of_25_keep_the_filters(world, client_for):
    for number in range(30):
        drafted(world, f"Trip {number:02d}")
    client = client_for(world.school["staff"])
    first = client.get(register_url(q="trip", sort="title"))
    assert "Showing 1 to 25 of 30 agreements" in text(first)
    assert "page=2" in text(first)
    assert "q=trip" in text(first)
    second = client.get(register_url(q="trip", sort="title", page="2"))
    assert len(table_rows(second)) == 5
    assert table_rows(second)[0].split(" ", 1)[1].startswith("Trip 25")


def test_the_number_of_queries_does_not_grow_with_the_rows(
    world, client_for, django_assert_max_num_queries
):
    school = world.school
    assets = [make_asset(school, f"Asset {n}") for n in range(3)]
    parties = [world.local_authority, world.dfe, supplier("Larkspur Catering Ltd")]
    client = client_for(school["dpo"])

    def make(count: int) -> None:
        """`count` drafts and a few approved agreements, with parties and assets."""
        for number in range(count):
            drafted(world, f"Visit {number}", parties[number % 3], assets=assets[: number % 3 + 1])
            if number % 5 == 0:
                approved(world, f"Approved {number}", parties[number % 3], assets=assets[:2])

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    make(2)
    urls = [
        register_url(),
        register_url(q="visit", tag="active", party="eastmoor", sort="review_due"),
        register_url(asset=str(assets[0].uuid), kind="agreement", sort="title", page="2"),
    ]
    few = {url: queries(url) for url in urls}
    make(30)
    assert Agreement.objects.count() > 30
    assert queries(urls[0]) == few[urls[0]]
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            assert client.get(url).status_code == 200


# --- Exports ---------------------------------------------------------------------------


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.streaming  # written as it is read, not held in memory
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def xlsx_rows(response: Any) -> list[dict[str, object]]:
    content = b"".join(response.streaming_content)
    return fastexcel.read_excel(content).load_sheet(0).to_polars().to_dicts()


def test_the_csv_holds_every_column_of_the_filtered_register(world, client_for, register):
    response = client_for(world.school["staff"]).get(register_url(party="eastmoor", format="csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="agreements-alder-\d{4}-\d{2}-\d{2}\.csv"',
        response["Content-Disposition"],
    )
    rows = {row["Reference"]: row for row in csv_rows(response)}
    assert set(rows) == {register["draft"].reference, register["active"].reference}
    today = timezone.localdate()
    assert rows[register["active"].reference] == {
        "Reference": register["active"].reference,
        "Title": "Youth service referrals",
        "Kind": "Information sharing agreement",
        "Status": "Active",
        "Version": "1",
        "Parties": "Alder Primary School (Controller); Eastmoor Council (Controller)",
        "Start date": today.isoformat(),
        "Review due": today.replace(year=today.year + 1).isoformat(),
        "Information assets": "Cashless catering; Pupil records in the MIS",
        "Sits under": "",
        "From proposal": "",
        "Approved by": "Headteacher of Alder Primary School",
        "Approved on": today.isoformat(),
        "Last updated": today.isoformat(),
    }
    assert rows[register["draft"].reference]["Status"] == "Draft"
    assert rows[register["draft"].reference]["Review due"] == ""
    assert list(csv_rows(client_for(world.school["staff"]).get(register_url(format="csv")))[0]) == (
        EXPORT_HEADER
    )


def test_the_export_holds_every_page_not_just_one(world, client_for):
    for number in range(30):
        drafted(world, f"Trip {number:02d}")
    response = client_for(world.school["staff"]).get(register_url(format="csv", page="2"))
    assert len(csv_rows(response)) == 30


def test_the_csv_defuses_spreadsheet_formulas(world, client_for):
    drafted(world, '=HYPERLINK("http://evil.example","Click")')
    drafted(world, "@SUM(A1)", supplier("+44 Evil Ltd"))
    rows = csv_rows(client_for(world.school["staff"]).get(register_url(format="csv")))
    titles = {row["Title"] for row in rows}
    assert titles == {'\'=HYPERLINK("http://evil.example","Click")', "'@SUM(A1)"}
    # Only a cell that starts like a formula is defused: the party list starts with the school.
    assert any("+44 Evil Ltd (Controller)" in row["Parties"] for row in rows)


def test_the_xlsx_reads_back_with_real_dates_and_text_as_typed(world, client_for, register):
    drafted(world, "=1+1")
    response = client_for(world.school["auditor"]).get(register_url(format="xlsx", sort="title"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert re.fullmatch(
        r'attachment; filename="agreements-alder-\d{4}-\d{2}-\d{2}\.xlsx"',
        response["Content-Disposition"],
    )
    rows = xlsx_rows(response)
    assert list(rows[0]) == EXPORT_HEADER
    assert len(rows) == 5
    assert rows[0]["Title"] == "=1+1"  # kept exactly as typed: a spreadsheet never runs it
    active = next(row for row in rows if row["Reference"] == register["active"].reference)
    today = timezone.localdate()
    assert active["Start date"] == datetime.datetime(today.year, today.month, today.day)
    assert active["Status"] == "Active"


def test_an_export_is_recorded_with_its_filters_and_count_but_no_words(world, client_for, register):
    response = client_for(world.school["auditor"]).get(
        register_url(format="csv", q="youth", tag="active", kind="agreement", party="eastmoor")
    )
    assert [row["Reference"] for row in csv_rows(response)] == [register["active"].reference]
    event = last_event("agreements.exported")
    assert event.actor == world.school["auditor"]
    assert event.organisation == world.school.organisation
    assert event.object_label == "Agreements register"
    assert changes_of(event) == {
        "format": "csv",
        "rows": 1,
        "filters": {
            "sort": "-updated",
            "tag": "active",
            "kind": "agreement",
            "party": "eastmoor",
            "search": "words withheld",
        },
    }
    assert "youth" not in event.changes.lower()


def test_an_xlsx_export_is_recorded_too(world, client_for, register):
    client_for(world.school["dpo"]).get(register_url(format="xlsx", asset=register["mis"].uuid))
    event = last_event("agreements.exported")
    assert changes_of(event) == {
        "format": "xlsx",
        "rows": 2,
        "filters": {"sort": "-updated", "asset": str(register["mis"].uuid)},
    }


def test_an_export_with_a_bad_filter_is_the_page_with_the_error(world, client_for, register):
    response = client_for(world.school["staff"]).get(register_url(tag="lost", format="csv"))
    assert not response.streaming
    assert response["Content-Type"].startswith("text/html")
    assert "Select a status from the list" in text(response)
    assert not AuditEvent.objects.filter(verb="agreements.exported").exists()
