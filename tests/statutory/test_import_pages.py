"""The roll changes import's pages: who may, upload, problems, confirm, import, cancel, template.

Every test runs on 20 November 2026 (TODAY), so the rows' dates are in range.
"""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from infoshare.audit.models import AuditEvent
from infoshare.core.imports import MAX_UPLOAD_BYTES
from infoshare.core.models import Person, Role
from infoshare.statutory.imports import TEMPLATE_HEADINGS
from infoshare.statutory.models import RollChange
from infoshare.statutory.views.imports import SESSION_KEY
from tests.conftest import add_membership
from tests.core.support import element_text, last_event
from tests.reminders.support import at_noon
from tests.statutory.import_support import (
    FILES,
    TODAY,
    csv_bytes,
    joining,
    leaving,
    pupil_on_list,
    upn,
)

KEEPERS = {"headteacher", "information_manager"}


@pytest.fixture(autouse=True)
def _on_today():
    with time_machine.travel(at_noon(TODAY), tick=False):
        yield


def import_urls(world) -> list[str]:
    """Every address of the import, for `world.school` (for the lead's permission matrix)."""
    return import_paths(world.school)


def import_paths(school) -> list[str]:
    """Every address of the import, for any school (`world.other` too); all GET pages,
    200 for the headteacher and the information manager, 403 for every other role."""
    return [
        reverse("statutory:import_roll_changes", kwargs={"org": school.slug}),
        reverse("statutory:import_template", kwargs={"org": school.slug}),
    ]


def import_url(school) -> str:
    return reverse("statutory:import_roll_changes", kwargs={"org": school.slug})


def roll_changes_url(school) -> str:
    return reverse("statutory:roll_changes", kwargs={"org": school.slug})


def upload(client, school, data: bytes, name: str = "changes.csv"):
    return client.post(
        import_url(school),
        {"action": "upload", "file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def text(response) -> str:
    return response.content.decode()


def pending(client):
    return client.session.get(SESSION_KEY)


def problem_rows(html: str) -> list[tuple[int, str, str]]:
    table = re.search(r'<table class="govuk-table" id="problems">.*?</table>', html, re.S)
    assert table, "no table of problems"
    cells = re.findall(
        r'<td class="govuk-table__cell">(\d+)</td>\s*'
        r'<td class="govuk-table__cell">([^<]+)</td>\s*'
        r'<td class="govuk-table__cell">([^<]+)</td>',
        table.group(0),
    )
    return [(int(line), column, reason.replace("&#x27;", "'")) for line, column, reason in cells]


def nothing_recorded() -> bool:
    return (
        not RollChange.objects.exists()
        and not AuditEvent.objects.filter(
            verb__in=["roll_changes.imported", "roll_change.recorded", "person.added"]
        ).exists()
    )


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_only_those_who_keep_the_roll_open_the_import(world, client_for, role):
    client = client_for(world.school[role])
    expected = 200 if role in KEEPERS else 403
    for url in import_urls(world):
        assert client.get(url).status_code == expected, url
    response = upload(client, world.school, csv_bytes([joining(1)]))
    assert response.status_code == (302 if role in KEEPERS else 403)
    assert nothing_recorded()


@pytest.mark.parametrize("role", sorted(KEEPERS))
def test_another_schools_address_is_not_found_for_someone_not_its_member(world, client_for, role):
    client = client_for(world.other[role])
    for url in import_urls(world):
        assert client.get(url).status_code == 404, url
    assert upload(client, world.school, csv_bytes([joining(1)])).status_code == 404
    assert nothing_recorded()


def test_the_trust_dpo_of_both_schools_may_not_import(world, client_for):
    client = client_for(world.trust_dpo)
    for url in import_urls(world):
        assert client.get(url).status_code == 403, url


def test_signed_out_people_are_sent_to_sign_in(world, client):
    for url in import_urls(world):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


# --- the whole flow -----------------------------------------------------------------------


def test_importing_through_the_pages(world, client_for):
    school = world.school
    pupil_on_list(school.organisation, 12)
    client = client_for(school["information_manager"])
    start = client.get(import_url(school))
    assert 'enctype="multipart/form-data"' in text(start)
    assert "Download a template CSV file" in text(start)

    response = upload(client, school, (FILES / "sims_roll_changes.csv").read_bytes())
    assert response.status_code == 302
    assert response["Location"] == import_url(school)
    assert nothing_recorded()

    confirm = text(client.get(import_url(school)))
    assert "Record these 3 roll changes?" in confirm
    assert element_text(confirm, "joining") == "2"
    assert element_text(confirm, "removed") == "1"
    assert element_text(confirm, "new-pupils") == "2"
    assert "Zoë Quinn" in confirm
    assert "13 November 2026" in confirm
    assert "9(1)(g): The pupil no longer ordinarily lives within a reasonable distance" in confirm
    assert nothing_recorded()

    response = client.post(import_url(school), {"action": "import"})
    assert response.status_code == 302
    assert response["Location"] == roll_changes_url(school)
    assert RollChange.objects.filter(organisation=school.organisation).count() == 3
    assert Person.objects.filter(organisation=school.organisation).count() == 3
    shown = text(client.get(response["Location"]))
    assert (
        "3 roll changes imported: 2 joining and 1 removed from the roll. "
        "2 new pupils added to the school&#x27;s list." in shown
    )
    assert last_event("roll_changes.imported").actor == school["information_manager"]
    # The file is gone from the session: the import starts again.
    assert pending(client) is None
    assert "Upload the roll changes" in text(client.get(import_url(school)))


def test_the_confirmation_shows_the_first_ten_changes_of_a_long_file(world, client_for):
    client = client_for(world.school["headteacher"])
    upload(client, world.school, csv_bytes([joining(n) for n in range(1, 13)]))
    confirm = text(client.get(import_url(world.school)))
    assert "The first 10 of 12 changes, as they will be recorded" in confirm
    assert confirm.count("New to the list") == 10
    assert element_text(confirm, "joining") == "12"


def test_a_file_with_bad_rows_records_nothing_and_lists_every_problem(world, client_for):
    school = world.school
    client = client_for(school["headteacher"])
    rows = [
        joining(1),
        leaving(2),  # line 3: not on the school's list
        joining(3, Change="Sideways"),  # line 4
        joining(4, Date="31/02/2026", Removal_ground="a"),  # line 5: two problems
        joining(1),  # line 6: the same as line 2
    ]
    response = upload(client, school, csv_bytes(rows))
    assert response.status_code == 200
    html = text(response)
    assert "4 rows of changes.csv need putting right. Nothing has been recorded." in html
    assert [(line, column) for line, column, _ in problem_rows(html)] == [
        (3, "UPN"),
        (4, "Change"),
        (5, "Date"),
        (5, "Removal ground"),
        (6, "UPN"),
    ]
    reasons = [reason for _, _, reason in problem_rows(html)]
    assert reasons[0] == f"No pupil with UPN {upn(2)} is on the school's list."
    assert reasons[4] == "This pupil's joining is on line 2 too."
    assert nothing_recorded()
    assert pending(client) is None
    # Nothing to import: the import step is not reachable with that file.
    response = client.post(import_url(school), {"action": "import"})
    assert response.status_code == 302
    assert nothing_recorded()


def test_a_corrected_file_can_be_uploaded_from_the_problems_page(world, client_for):
    school = world.school
    client = client_for(school["headteacher"])
    problems = upload(client, school, csv_bytes([joining(1, Change="")]))
    assert 'name="action" value="upload"' in text(problems)
    response = upload(client, school, csv_bytes([joining(1)]), name="corrected.csv")
    assert response.status_code == 302
    assert "Every row of corrected.csv has been checked" in text(client.get(import_url(school)))


def test_importing_the_same_file_again_lists_each_row_as_already_recorded(world, client_for):
    school = world.school
    pupil_on_list(school.organisation, 2)
    client = client_for(school["headteacher"])
    data = csv_bytes([joining(1), leaving(2)])
    upload(client, school, data)
    client.post(import_url(school), {"action": "import"})
    references = list(RollChange.objects.order_by("pk").values_list("reference", flat=True))
    events = AuditEvent.objects.count()

    response = upload(client, school, data)
    assert response.status_code == 200
    assert problem_rows(text(response)) == [
        (
            2,
            "Date",
            f"This is already recorded as {references[0]}. Withdraw that one first if it is wrong.",
        ),
        (
            3,
            "Date",
            f"This is already recorded as {references[1]}. Withdraw that one first if it is wrong.",
        ),
    ]
    assert RollChange.objects.count() == 2
    assert AuditEvent.objects.count() == events


def test_the_file_is_checked_again_when_imported(world, client_for):
    """Recorded in between (another tab, a colleague): the import refuses, nothing twice."""
    school = world.school
    first = client_for(school["headteacher"])
    second = client_for(school["information_manager"])
    data = csv_bytes([joining(1)])
    upload(first, school, data)
    upload(second, school, data)
    second.post(import_url(school), {"action": "import"})
    assert RollChange.objects.count() == 1

    response = first.post(import_url(school), {"action": "import"})
    assert response.status_code == 200
    assert "already recorded as" in problem_rows(text(response))[0][2]
    assert RollChange.objects.count() == 1
    assert AuditEvent.objects.filter(verb="roll_changes.imported").count() == 1
    assert pending(first) is None


# --- files that cannot be used ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("changes.xlsx", b"PK\x03\x04", "The file must be a CSV file"),
        ("changes.csv", b"PK\x03\x04rest of a workbook", "is not a CSV file"),
        ("changes.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "The file must be smaller than 2 MB"),
        ("changes.csv", b"   ", "The file is empty"),
        ("changes.csv", csv_bytes([]), "no roll changes under it"),
        ("changes.csv", b"Name,Date\r\nAnn,1/1/2026\r\n", "no column headed Change"),
    ],
    ids=["not-csv", "binary", "too-big", "empty", "headings-only", "wrong-columns"],
)
def test_an_unusable_file_is_refused_beside_the_field(world, client_for, name, data, message):
    client = client_for(world.school["headteacher"])
    response = upload(client, world.school, data, name=name)
    assert response.status_code == 200
    html = text(response)
    assert message in element_text(html, "id_file_error")
    assert "There is a problem" in html
    assert 'href="#id_file"' in html
    assert pending(client) is None
    assert nothing_recorded()


def test_no_file_chosen_is_an_error_beside_the_field(world, client_for):
    client = client_for(world.school["headteacher"])
    response = client.post(import_url(world.school), {"action": "upload"})
    assert response.status_code == 200
    assert "Select a CSV file" in element_text(text(response), "id_file_error")


@pytest.mark.parametrize("filename", ["windows_1252.csv", "sims_roll_changes.csv"])
def test_files_saved_by_excel_in_either_encoding_are_read(world, client_for, filename):
    pupil_on_list(world.school.organisation, 12)
    client = client_for(world.school["headteacher"])
    assert upload(client, world.school, (FILES / filename).read_bytes()).status_code == 302
    client.post(import_url(world.school), {"action": "import"})
    assert Person.objects.filter(given_name="Zoë").count() == 1


# --- leaving the import -------------------------------------------------------------------


def test_cancelling_forgets_the_file(world, client_for):
    client = client_for(world.school["headteacher"])
    upload(client, world.school, csv_bytes([joining(1)]))
    assert pending(client) is not None
    response = client.post(import_url(world.school), {"action": "cancel"}, follow=True)
    assert response.redirect_chain[-1][0] == roll_changes_url(world.school)
    assert "The import was cancelled. Nothing was recorded." in text(response)
    assert pending(client) is None
    assert nothing_recorded()


def test_importing_without_a_file_asks_for_it_again(world, client_for):
    client = client_for(world.school["headteacher"])
    response = client.post(import_url(world.school), {"action": "import"}, follow=True)
    assert "Upload the file again: the one you uploaded has gone." in text(response)
    assert nothing_recorded()


def test_a_file_uploaded_for_one_school_is_not_imported_into_another(world, client_for):
    head = world.school["headteacher"]
    add_membership(head, world.other.organisation, Role.HEADTEACHER)
    client = client_for(head)
    upload(client, world.school, csv_bytes([joining(1)]))
    response = client.post(import_url(world.other), {"action": "import"}, follow=True)
    assert "Upload the file again" in text(response)
    assert nothing_recorded()
    assert "Record this roll change?" not in text(client.get(import_url(world.other)))
    assert "Record this roll change?" in text(client.get(import_url(world.school)))


# --- the template -------------------------------------------------------------------------


def test_the_template_is_a_csv_of_the_headings_the_import_reads(world, client_for):
    client = client_for(world.school["information_manager"])
    response = client.get(reverse("statutory:import_template", kwargs={"org": world.school.slug}))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="roll-changes-template.csv"' in response["Content-Disposition"]
    assert response.content.decode() == ",".join(TEMPLATE_HEADINGS) + "\r\n"
    filled = response.content + ",".join(joining(1).values()).encode() + b"\r\n"
    assert upload(client, world.school, filled).status_code == 302


def test_the_template_is_only_read(world, client_for):
    client = client_for(world.school["headteacher"])
    url = reverse("statutory:import_template", kwargs={"org": world.school.slug})
    assert client.post(url).status_code == 405
