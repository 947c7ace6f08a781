"""The roll change pages as people use them: recording, the list, one change, withdrawing,
marking notified. Who may open which page is tested in test_roll_access; the CSV and the
letter in test_roll_exports."""

from __future__ import annotations

import datetime
import re
from html import unescape
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from infoshare.audit.models import AuditEvent
from infoshare.core.models import Person
from infoshare.decisions.models import Decision
from infoshare.statutory.models import (
    ChangeKind,
    NotificationMethod,
    NotificationStatus,
    RollChange,
)
from infoshare.statutory.services import roll as services
from tests.core.support import element_text
from tests.statutory.support import (
    ground,
    joining,
    make_pupil,
    notify,
    record,
    removal,
    second_council,
)

pytestmark = pytest.mark.django_db


def url(name: str, school: Any, **kwargs: Any) -> str:
    return reverse(f"statutory:{name}", kwargs={"org": school.slug, **kwargs})


def change_url(name: str, change: RollChange) -> str:
    return reverse(
        f"statutory:{name}",
        kwargs={"org": change.organisation.slug, "reference": change.reference},
    )


def error_beside(html: str, field: str) -> str:
    """The error message shown beside `field` (GOV.UK: <p id="id_<field>_error">)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no error shown beside {field}"
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def told(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def today_typed(days: int = 0) -> str:
    return f"{timezone.localdate() + datetime.timedelta(days=days):%d/%m/%Y}"


# --- Recording -----------------------------------------------------------------------------


def test_recording_a_new_pupil_joining(world, client_for):
    school = world.school
    client = client_for(school["information_manager"])
    assert client.get(url("record_joining", school)).status_code == 200

    response = client.post(
        url("record_joining", school),
        {
            "pupil": "",
            "given_name": "Noor",
            "family_name": "Ahmed",
            "upn": "",
            "date_of_birth": "4/5/2019",
            "change_date": today_typed(),
            "notes": "Moved from Leeds",
        },
    )

    change = RollChange.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url("roll_change", change)
    assert change.kind == ChangeKind.JOINED
    assert change.pupil.full_name == "Noor Ahmed"
    assert change.pupil.date_of_birth == datetime.date(2019, 5, 4)
    assert change.notes == "Moved from Leeds"
    deadline = timezone.localdate() + datetime.timedelta(days=5)
    assert told(response) == [
        f"{change.reference} recorded. Tell the local authority by {deadline:%-d %B %Y}."
    ]


def test_recording_an_existing_pupil_joining(world, client_for):
    school = world.school
    pupil = make_pupil(school.organisation)
    client = client_for(school["headteacher"])
    response = client.post(
        url("record_joining", school), {"pupil": str(pupil.uuid), "change_date": today_typed()}
    )
    assert response.status_code == 302
    assert RollChange.objects.get().pupil == pupil
    assert Person.objects.count() == 1


def test_joining_errors_show_beside_the_fields_and_keep_what_was_typed(world, client_for):
    school = world.school
    pupil = make_pupil(school.organisation)
    client = client_for(school["information_manager"])
    events = AuditEvent.objects.count()

    missing = client.post(
        url("record_joining", school),
        {"pupil": "", "given_name": "Noor", "family_name": "", "change_date": ""},
    )
    html = missing.content.decode()
    assert missing.status_code == 200
    assert error_beside(html, "family_name") == "Error: Enter the pupil's last name"
    assert error_beside(html, "change_date") == (
        "Error: Enter the date the pupil was entered in the admission register"
    )
    assert 'value="Noor"' in html
    assert "There is a problem" in html

    both = client.post(
        url("record_joining", school),
        {"pupil": str(pupil.uuid), "given_name": "Noor", "change_date": today_typed()},
    )
    assert "not both" in error_beside(both.content.decode(), "pupil")

    bad_date = client.post(
        url("record_joining", school),
        {"given_name": "Noor", "family_name": "Ahmed", "change_date": "31/02/2026"},
    )
    assert "as a real date" in error_beside(bad_date.content.decode(), "change_date")

    far = client.post(
        url("record_joining", school),
        {"given_name": "Noor", "family_name": "Ahmed", "change_date": today_typed(400)},
    )
    assert error_beside(far.content.decode(), "change_date") == (
        "Error: The date must be no more than a year from today"
    )
    assert RollChange.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_pupil_of_another_school_cannot_be_chosen(world, client_for):
    school = world.school
    theirs = make_pupil(world.other.organisation)
    response = client_for(school["headteacher"]).post(
        url("record_joining", school), {"pupil": str(theirs.uuid), "change_date": today_typed()}
    )
    assert error_beside(response.content.decode(), "pupil") == (
        "Error: Choose a pupil of this school from the list"
    )
    assert not RollChange.objects.exists()


def test_recording_a_removal_with_its_ground(world, client_for):
    school = world.school
    pupil = make_pupil(school.organisation)
    client = client_for(school["information_manager"])
    page = client.get(url("record_removal", school)).content.decode()
    assert "9(1)(a) \u2014 The pupil has been registered at another school" in page

    response = client.post(
        url("record_removal", school),
        {"pupil": str(pupil.uuid), "change_date": today_typed(3), "ground": str(ground().pk)},
    )
    change = RollChange.objects.get()
    assert response.status_code == 302
    assert (change.kind, change.ground, change.pupil) == (ChangeKind.REMOVED, ground(), pupil)


def test_a_removal_without_pupil_or_ground_is_refused_beside_them(world, client_for):
    school = world.school
    response = client_for(school["information_manager"]).post(
        url("record_removal", school), {"pupil": "", "change_date": today_typed(), "ground": ""}
    )
    html = response.content.decode()
    assert error_beside(html, "pupil") == "Error: Choose the pupil being removed from the roll"
    assert error_beside(html, "ground") == (
        "Error: Choose the ground on which the pupil is removed from the roll"
    )
    assert not RollChange.objects.exists()


# --- The list ------------------------------------------------------------------------------------


def _rows(html: str) -> list[str]:
    return re.findall(r">(RC-\d{4}-\d{4})</a>", html)


def test_the_list_shows_changes_to_notify_with_their_state(world, client_for):
    school = world.school
    keeper = school["headteacher"]
    today = timezone.localdate()
    due = record(school.organisation, keeper, joining(on=today))
    late = record(
        school.organisation, keeper, joining(on=today - datetime.timedelta(days=6), given_name="Al")
    )
    told_ = record(school.organisation, keeper, joining(given_name="Bo"))
    notify(school.organisation, keeper, [told_], world.local_authority)
    withdrawn = record(school.organisation, keeper, joining(given_name="Cy"))
    services.withdraw_roll_change(withdrawn, actor=keeper, reason="Error")
    client = client_for(school["information_manager"])

    html = client.get(url("roll_changes", school)).content.decode()
    assert _rows(html) == [late.reference, due.reference]  # soonest deadline first
    assert 'govuk-tag--red">Overdue' in html
    assert 'govuk-tag--yellow">Due' in html
    assert f'value="{due.uuid}"' in html
    assert "Export CSV" in html
    assert "Mark as notified" in html

    def shown(**query: str) -> list[str]:
        return _rows(client.get(url("roll_changes", school), query).content.decode())

    assert shown(state="overdue") == [late.reference]
    assert shown(state="due") == [due.reference]
    assert shown(state="notified") == [told_.reference]
    assert shown(state="withdrawn") == [withdrawn.reference]
    assert set(shown(state="all")) == {
        due.reference,
        late.reference,
        told_.reference,
        withdrawn.reference,
    }
    assert shown(state="all", q="Al") == [late.reference]
    assert shown(state="all", q=due.reference) == [due.reference]
    assert shown(state="all", kind="removed") == []
    assert shown(state="all", sort="reference") == sorted(
        [due.reference, late.reference, told_.reference, withdrawn.reference]
    )


def test_a_bad_filter_is_shown_beside_it(world, client_for):
    school = world.school
    response = client_for(school["headteacher"]).get(url("roll_changes", school), {"state": "x"})
    assert error_beside(response.content.decode(), "state") == "Error: Choose a state from the list"


def test_those_who_oversee_read_the_list_without_selecting(world, client_for):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    html = client_for(school["dpo"]).get(url("roll_changes", school)).content.decode()
    assert change.reference in html
    assert f'value="{change.uuid}"' not in html
    assert "Mark as notified" not in html
    assert "Record a pupil joining" not in html


def test_the_list_query_count_does_not_grow_with_rows(world, client_for, django_assert_num_queries):
    school = world.school
    keeper = school["headteacher"]
    client = client_for(school["information_manager"])

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("roll_changes", school)).status_code == 200
        return len(captured.captured_queries)

    record(school.organisation, keeper)
    one = count_queries()
    for n in range(30):
        record(school.organisation, keeper, joining(given_name=f"P{n}"))
    with django_assert_num_queries(one):
        client.get(url("roll_changes", school))


# --- One change -------------------------------------------------------------------------------


def test_the_change_page_shows_the_change_and_its_notification(world, client_for):
    school = world.school
    keeper = school["information_manager"]
    pupil = make_pupil(school.organisation)
    change = record(school.organisation, keeper, removal(pupil))
    client = client_for(school["chair"])

    html = client.get(change_url("roll_change", change)).content.decode()
    assert "9(1)(a) \u2014 The pupil has been registered at another school" in html
    assert element_text(html, "state") == "Due"
    assert "Withdraw" not in html  # the chair reads, does not keep

    decision = notify(school.organisation, keeper, [change], world.local_authority)
    html = client.get(change_url("roll_change", change)).content.decode()
    notification = element_text(html, "notification")
    assert "Eastmoor Council" in notification
    assert "Secure or encrypted email" in notification
    assert decision.reference in notification
    assert (
        reverse("decisions:detail", kwargs={"org": school.slug, "reference": decision.reference})
        in html
    )


# --- Withdrawing ---------------------------------------------------------------------------------


def test_withdrawing_from_its_page(world, client_for):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    client = client_for(school["information_manager"])
    assert client.get(change_url("withdraw_roll_change", change)).status_code == 200

    empty = client.post(change_url("withdraw_roll_change", change), {"reason": " "})
    assert error_beside(empty.content.decode(), "reason") == (
        "Error: Say why the roll change is withdrawn"
    )
    response = client.post(change_url("withdraw_roll_change", change), {"reason": "Wrong pupil"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == NotificationStatus.WITHDRAWN

    again = client.get(change_url("withdraw_roll_change", change))
    assert again.status_code == 302
    assert told(again)[-1] == f"That cannot be done now: {change.reference} is “withdrawn”."


# --- Marking notified -----------------------------------------------------------------------------


def test_marking_the_selected_changes_notified(world, client_for):
    school = world.school
    keeper = school["information_manager"]
    first = record(school.organisation, keeper)
    second = record(school.organisation, keeper, joining(given_name="Sam"))
    client = client_for(keeper)
    query = f"?change={first.uuid}&change={second.uuid}"

    page = client.get(url("notify_roll_changes", school) + query)
    assert page.status_code == 200
    assert first.reference in page.content.decode()
    assert second.reference in page.content.decode()

    response = client.post(
        url("notify_roll_changes", school),
        {
            "change": [str(first.uuid), str(second.uuid)],
            "local_authority": world.local_authority.slug,
            "notified_on": today_typed(),
            "method": NotificationMethod.LETTER,
            "reference": "",
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert told(response) == [
        f"{first.reference}, {second.reference} marked as notified. The notification is "
        f"recorded in the decision log as {decision.reference}."
    ]
    for change in (first, second):
        change.refresh_from_db()
        assert change.status == NotificationStatus.NOTIFIED
        assert change.decision == decision


def test_a_bad_notification_shows_errors_beside_fields_and_keeps_the_selection(world, client_for):
    school = world.school
    change = record(school.organisation, school["headteacher"])
    client = client_for(school["headteacher"])
    events = AuditEvent.objects.count()
    response = client.post(
        url("notify_roll_changes", school),
        {"change": [str(change.uuid)], "local_authority": "", "notified_on": today_typed(1)},
    )
    html = response.content.decode()
    assert error_beside(html, "local_authority") == "Error: Choose the local authority you told"
    assert error_beside(html, "notified_on") == (
        "Error: The date you told the local authority must be today or earlier"
    )
    assert error_beside(html, "method") == "Error: Choose how you told the local authority"
    assert f'name="change" value="{change.uuid}"' in html
    assert AuditEvent.objects.count() == events
    assert not Decision.objects.exists()


def test_the_usual_local_authority_is_offered_first(world, client_for):
    school = world.school
    keeper = school["headteacher"]
    notify(
        school.organisation, keeper, [record(school.organisation, keeper)], world.local_authority
    )
    change = record(school.organisation, keeper, joining(given_name="Sam"))
    html = (
        client_for(keeper)
        .get(url("notify_roll_changes", school) + f"?change={change.uuid}")
        .content.decode()
    )
    assert re.search(rf'<option value="{world.local_authority.slug}" selected>', html)


def test_nothing_selected_goes_back_to_the_list_with_a_message(world, client_for):
    school = world.school
    response = client_for(school["headteacher"]).get(url("notify_roll_changes", school))
    assert response.status_code == 302
    assert told(response) == ["Select the roll changes the local authority was told of."]


def test_a_change_already_notified_cannot_be_notified_again(world, client_for):
    school = world.school
    keeper = school["headteacher"]
    change = record(school.organisation, keeper)
    notify(school.organisation, keeper, [change], world.local_authority)
    response = client_for(keeper).post(
        url("notify_roll_changes", school),
        {
            "change": [str(change.uuid)],
            "local_authority": world.local_authority.slug,
            "notified_on": today_typed(),
            "method": NotificationMethod.LETTER,
        },
    )
    assert response.status_code == 200
    assert "was notified to the local authority on" in response.content.decode()
    assert Decision.objects.count() == 1


def test_another_school_s_change_in_the_selection_is_404(world, client_for):
    theirs = record(world.other.organisation, world.other["headteacher"])
    school = world.school
    response = client_for(school["headteacher"]).get(
        url("notify_roll_changes", school) + f"?change={theirs.uuid}"
    )
    assert response.status_code == 404
    garbage = client_for(school["headteacher"]).get(
        url("notify_roll_changes", school) + "?change=x"
    )
    assert garbage.status_code == 404


def test_the_local_authority_picked_on_the_list_is_offered(world, client_for):
    school = world.school
    council = second_council()
    change = record(school.organisation, school["headteacher"])
    html = (
        client_for(school["headteacher"])
        .get(
            url("notify_roll_changes", school)
            + f"?change={change.uuid}&local_authority={council.slug}"
        )
        .content.decode()
    )
    assert re.search(rf'<option value="{council.slug}" selected>', html)
