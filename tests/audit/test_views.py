"""The audit page /o/<org>/audit/: who may see it, filters, table, pagination, CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from infoshare.audit import services as audit
from infoshare.audit.models import AuditEvent
from infoshare.core.models import Membership, Organisation, OrganisationKind, Role
from tests.audit.support import record_events
from tests.conftest import add_membership, make_user

ALLOWED = {Role.DPO, Role.HEADTEACHER, Role.CHAIR, Role.AUDITOR}


def audit_url(slug: str, **query: str) -> str:
    url = reverse("audit:events", kwargs={"org": slug})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def text(response) -> str:
    return response.content.decode()


def table_rows(response) -> list[str]:
    """The text of each row of the events table, tags removed."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', text(response), re.S)
    if body is None:
        return []
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def at(moment: datetime, actor, verb, obj, changes=None, *, organisation, label=None):
    with time_machine.travel(moment, tick=False), transaction.atomic():
        return audit.record(actor, verb, obj, changes, organisation=organisation, label=label)


@pytest.fixture
def history(world):
    """Three events in Alder's trail at known times, and one in Birch's."""
    school = world.school.organisation
    staff = Membership.objects.get(user=world.school["staff"], organisation=school)
    at(datetime(2025, 6, 30, 23, 30, tzinfo=UTC), world.school["dpo"], "membership.invited", staff,
       {"email": "staff@alder.test", "roles": ["staff"]}, organisation=school,
       label="Sam Staff at Alder")
    at(datetime(2025, 11, 22, 14, 5, tzinfo=UTC), world.school["headteacher"],
       "membership.roles_changed", staff, {"roles": [["staff"], ["dpo", "staff"]]},
       organisation=school, label="Dee Deputy at Alder")
    at(datetime(2025, 11, 23, 9, 0, tzinfo=UTC), None, "agreement.review_started", None,
       {"reference": "ISA-0042", "urgent": True}, organisation=school, label="ISA-0042")
    at(datetime(2025, 11, 22, 10, 0, tzinfo=UTC), world.other["dpo"], "membership.removed", None,
       {"reason": "Left"}, organisation=world.other.organisation, label="Birch secret")
    return world


# --- Who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_the_audit_page_is_for_the_dpo_headteacher_chair_and_auditors(world, client_for, role):
    response = client_for(world.school[role]).get(audit_url("alder"))
    assert response.status_code == (200 if role in ALLOWED else 403)


@pytest.mark.parametrize("role", list(Role))
def test_another_schools_members_get_not_found(world, client_for, role):
    assert client_for(world.other[role]).get(audit_url("alder")).status_code == 404


def test_a_dpo_serving_several_schools_sees_each(world, client_for):
    client = client_for(world.trust_dpo)
    assert client.get(audit_url("alder")).status_code == 200
    assert client.get(audit_url("birch")).status_code == 200


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(world):
    response = Client().get(audit_url("alder"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_csv_export_has_the_same_guard(world, client_for):
    csv_url = audit_url("alder", format="csv")
    assert client_for(world.school["staff"]).get(csv_url).status_code == 403
    assert client_for(world.other["dpo"]).get(csv_url).status_code == 404


# --- The table -----------------------------------------------------------------------------


def test_the_table_shows_when_who_action_record_and_details_newest_first(history, client_for):
    client = client_for(history.school["dpo"])
    response = client.get(audit_url("alder", action="membership.invited"))
    assert response.status_code == 200
    (invited,) = table_rows(response)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    assert invited.startswith("1 July 2025, 00:30 Data protection officer of Alder Primary School")
    assert "dpo@alder.test Member invited Sam Staff at Alder" in invited
    assert "Email: staff@alder.test Roles: Staff" in invited

    rows = table_rows(client.get(audit_url("alder")))
    ours = [row for row in rows if "2025" in row]
    assert [row.split(",")[0] for row in ours] == [
        "23 November 2025", "22 November 2025", "1 July 2025",
    ]
    review, changed = ours[0], ours[1]
    assert review.startswith("23 November 2025, 09:00 System Agreement: review started ISA-0042")
    assert "Reference: ISA-0042 Urgent: yes" in review
    assert changed.startswith("22 November 2025, 14:05 Headteacher of Alder Primary School")
    assert "Roles changed" in changed
    assert "Roles: Staff → Data protection officer, Staff" in changed


def test_another_schools_events_never_show(history, client_for):
    content = text(client_for(history.trust_dpo).get(audit_url("alder")))
    assert "Birch secret" not in content


def test_the_page_extends_the_layout_and_offers_the_filters(history, client_for):
    content = text(client_for(history.school["chair"]).get(audit_url("alder")))
    assert "<title>Audit trail" in content
    assert 'class="govuk-table' in content
    for name in ("person", "action", "record", "date_from", "date_to"):
        assert f'name="{name}"' in content
    assert 'type="date"' in content


def test_an_empty_trail_says_so(world, client_for):
    newcomer = make_user("dpo@hazel.test", "Hal DPO")
    client = client_for(newcomer)  # signing in is recorded before the membership exists
    hazel = Organisation.objects.create(
        name="Hazel School", slug="hazel", kind=OrganisationKind.SCHOOL
    )
    add_membership(newcomer, hazel, Role.DPO)
    response = client.get(audit_url("hazel"))
    assert response.status_code == 200
    assert "No events yet" in text(response)
    assert "<table" not in text(response)
    assert "Download" not in text(response)


# --- Filters -------------------------------------------------------------------------------


def test_filter_by_person(history, client_for):
    headteacher = history.school["headteacher"]
    client = client_for(history.school["dpo"])
    response = client.get(audit_url("alder", person=str(headteacher.uuid)))
    rows = table_rows(response)
    assert rows
    assert all("Headteacher of Alder" in row for row in rows)
    assert any("Roles changed" in row for row in rows)


def test_the_person_list_has_members_who_acted_and_no_one_else(history, client_for):
    content = text(client_for(history.school["dpo"]).get(audit_url("alder")))
    person_select = re.search(r'<select name="person".*?</select>', content, re.S).group(0)
    assert str(history.school["headteacher"].uuid) in person_select
    assert str(history.school["dpo"].uuid) in person_select
    assert str(history.other["dpo"].uuid) not in person_select  # acted only in Birch
    assert str(history.school["volunteer"].uuid) not in person_select  # never acted


def test_filter_by_action_lists_the_verbs_present_by_name(history, client_for):
    client = client_for(history.school["dpo"])
    content = text(client.get(audit_url("alder")))
    action_select = re.search(r'<select name="action".*?</select>', content, re.S).group(0)
    assert '<option value="membership.roles_changed">Roles changed</option>' in action_select
    assert (
        '<option value="agreement.review_started">Agreement: review started</option>'
        in action_select
    )
    assert "membership.removed" not in action_select  # only in Birch's trail
    rows = table_rows(client.get(audit_url("alder", action="agreement.review_started")))
    assert len(rows) == 1
    assert "ISA-0042" in rows[0]


def test_filter_by_record_searches_labels_and_references(history, client_for):
    client = client_for(history.school["dpo"])
    rows = table_rows(client.get(audit_url("alder", record="sam+staff")))
    assert len(rows) == 1
    assert "Member invited" in rows[0]
    staff = Membership.objects.get(user=history.school["staff"])
    rows = table_rows(client.get(audit_url("alder", record=str(staff.uuid)[:8])))
    assert len(rows) == 2  # invited and roles changed: both about that membership


def test_filter_by_dates_uses_london_days(history, client_for):
    client = client_for(history.school["dpo"])
    rows = table_rows(client.get(audit_url("alder", date_from="2025-07-01", date_to="2025-07-01")))
    assert [row.split(",")[0] for row in rows] == ["1 July 2025"]
    rows = table_rows(client.get(audit_url("alder", date_from="2025-11-22", date_to="2025-11-23")))
    assert [row.split(",")[0] for row in rows] == ["23 November 2025", "22 November 2025"]
    rows = table_rows(client.get(audit_url("alder", date_to="2025-06-30")))
    assert rows == []


def test_an_invalid_date_shows_an_error_beside_the_field_and_filters_nothing(history, client_for):
    client = client_for(history.school["dpo"])
    unfiltered = table_rows(client.get(audit_url("alder")))
    response = client.get(audit_url("alder", date_from="2025-02-30", action="membership.invited"))
    content = text(response)
    assert response.status_code == 200
    assert "There is a problem" in content
    assert re.search(
        r'<p id="id_date_from_error" class="govuk-error-message">.*'
        r"The date from must be a real date",
        content, re.S,
    )
    assert "govuk-form-group--error" in content
    assert "<title>Error: Audit trail" in content
    assert table_rows(response) == unfiltered


def test_a_date_to_before_the_date_from_is_an_error(history, client_for):
    response = client_for(history.school["dpo"]).get(
        audit_url("alder", date_from="2025-11-23", date_to="2025-11-01")
    )
    assert "The date to must be the same as or after the date from" in text(response)


def test_filters_that_match_nothing_say_so_and_offer_to_clear_them(history, client_for):
    response = client_for(history.school["dpo"]).get(audit_url("alder", record="no-such-record"))
    content = text(response)
    assert "No events match these filters" in content
    assert f'href="{audit_url("alder")}">clear the filters</a>' in content
    assert table_rows(response) == []


# --- Pagination and queries -------------------------------------------------------------


def test_pages_hold_fifty_events_newest_first(world, client_for):
    record_events(world.school.organisation, world.school["dpo"], 120, verb="test.bulk")
    client = client_for(world.school["dpo"])
    first = client.get(audit_url("alder", action="test.bulk"))
    assert len(table_rows(first)) == 50
    assert "Showing 1 to 50 of 120 events" in text(first)
    assert "Record 120" in table_rows(first)[0]
    assert 'class="govuk-pagination"' in text(first)
    last = client.get(audit_url("alder", action="test.bulk", page="3"))
    assert len(table_rows(last)) == 20
    assert "Record 1 " in table_rows(last)[-1] + " "


def test_the_number_of_queries_does_not_grow_with_the_rows(
    world, client_for, django_assert_max_num_queries
):
    """Each actor and details come with the page's one query (select_related)."""
    school = world.school.organisation
    actors = [world.school[role] for role in ("dpo", "headteacher", "chair", "staff")]
    client = client_for(world.school["dpo"])

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(audit_url("alder")).status_code == 200
        return len(captured)

    for actor in actors[:2]:
        record_events(school, actor, 2)
    few = queries_for_page()
    for actor in actors:
        record_events(school, actor, 30)
    assert queries_for_page() == few
    with django_assert_max_num_queries(16):
        client.get(audit_url("alder", person=str(actors[0].uuid), record="Record"))


# --- CSV -----------------------------------------------------------------------------------


def csv_rows(response) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def test_the_csv_export_holds_every_matching_event_not_one_page(world, client_for):
    record_events(world.school.organisation, world.school["dpo"], 60, verb="test.bulk")
    client = client_for(world.school["auditor"])
    response = client.get(audit_url("alder", action="test.bulk", format="csv"))
    assert response.status_code == 200
    assert response.streaming  # rows are written as they are read, not held in memory
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="audit-alder-\d{4}-\d{2}-\d{2}\.csv"',
        response["Content-Disposition"],
    )
    rows = csv_rows(response)
    assert len(rows) == 60
    assert [int(row["sequence"]) for row in rows] == sorted(
        (int(row["sequence"]) for row in rows), reverse=True
    )


def test_the_csv_columns(history, client_for):
    response = client_for(history.school["dpo"]).get(
        audit_url("alder", action="membership.roles_changed", format="csv")
    )
    (row,) = csv_rows(response)
    stored = AuditEvent.objects.get(verb="membership.roles_changed")
    assert list(row) == [
        "sequence", "time (UTC)", "actor email", "action", "record type", "record id",
        "record label", "changes", "hash",
    ]
    assert row == {
        "sequence": str(stored.sequence),
        "time (UTC)": "2025-11-22T14:05:00Z",
        "actor email": "headteacher@alder.test",
        "action": "membership.roles_changed",
        "record type": "core.membership",
        "record id": stored.object_id,
        "record label": "Dee Deputy at Alder",
        "changes": '{"roles":[["staff"],["dpo","staff"]]}',
        "hash": stored.hash,
    }


def test_the_csv_export_applies_every_filter(history, client_for):
    response = client_for(history.school["dpo"]).get(
        audit_url("alder", date_from="2025-11-22", date_to="2025-11-23", record="ISA", format="csv")
    )
    assert [row["record label"] for row in csv_rows(response)] == ["ISA-0042"]


def test_the_csv_export_defuses_spreadsheet_formulas(world, client_for):
    with transaction.atomic():
        audit.record(
            None, "test.event", None, organisation=world.school.organisation,
            label="=HYPERLINK(\"http://evil.test\")",
        )
    client = client_for(world.school["dpo"])
    response = client.get(audit_url("alder", action="test.event", format="csv"))
    (row,) = csv_rows(response)
    assert row["record label"] == "'=HYPERLINK(\"http://evil.test\")"
