"""The anonymisation pages: who opens which (every role x every page), errors beside the
fields, another school's run a 404, the walk from upload to download.

tests/core/test_tenancy.py may take `anonymise_urls` from here.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.urls import reverse

from infoshare.anonymise import services, storage
from infoshare.anonymise.models import AnonymisationRun, Status
from infoshare.audit.models import AuditEvent
from infoshare.core.models import Role
from tests.anonymise.test_web_services import (
    applied,
    csv_upload,
    decision_of,
    files_on_disk,
    media,  # noqa: F401 (the autouse fixture, for these tests too)
    planned,
    pupils,
    uploaded,
)

pytestmark = pytest.mark.django_db

ALL_ROLES = [role.value for role in Role]
USERS = set(ALL_ROLES) - {"auditor"}


def url(school: Any, name: str, run: AnonymisationRun | None = None) -> str:
    kwargs: dict[str, Any] = {"org": school.slug}
    if run is not None:
        kwargs["run"] = run.uuid
    return reverse(f"anonymise:{name}", kwargs=kwargs)


def matrix_run(school: Any) -> AnonymisationRun:
    """The run the matrix names: staff's, planned and applied, made the first time."""
    existing = AnonymisationRun.objects.filter(organisation=school.organisation).first()
    return existing or applied(uploaded(school))


def anonymise_urls(school: Any) -> list[tuple[str, str, str]]:
    """(name, method, path) of every anonymisation page of `school` (e.g. `world.school`),
    naming a real run, for tests/core/test_tenancy.py's `all_urls`."""
    run = matrix_run(school)
    return [
        ("anonymise_list", "get", url(school, "list")),
        ("anonymise_new", "get", url(school, "new")),
        ("anonymise_detail", "get", url(school, "detail", run)),
        ("anonymise_plan", "get", url(school, "plan", run)),
        ("anonymise_progress", "get", url(school, "progress", run)),
        ("anonymise_download", "post", url(school, "download", run)),
    ]


# --- Who opens which page ------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_list_and_the_upload_page_are_for_everyone_but_auditors(world, client_for, role):
    client = client_for(world.school[role])
    for name in ("list", "new"):
        expected = 200 if role in USERS else 403
        assert client.get(url(world.school, name)).status_code == expected, name


@pytest.mark.parametrize("role", ALL_ROLES)
def test_a_run_is_seen_by_its_maker_the_dpo_and_the_headteacher(world, client_for, role):
    run = matrix_run(world.school)
    client = client_for(world.school[role])
    response = client.get(url(world.school, "detail", run))
    if role == "auditor":
        assert response.status_code == 403
    elif role in {"staff", "dpo", "headteacher"}:
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ["dpo", "headteacher"])
def test_those_who_see_a_run_do_not_change_or_download_it(world, client_for, role):
    run = matrix_run(world.school)
    client = client_for(world.school[role])
    assert client.get(url(world.school, "plan", run)).status_code == 403
    response = client.post(url(world.school, "download", run), {"file_format": "csv"})
    assert response.status_code == 403
    assert storage.absolute(run.output_path).exists()
    detail = client.get(url(world.school, "detail", run)).content.decode()
    assert 'id="preview"' not in detail
    assert "Download CSV" not in detail


def test_another_schools_people_get_404_for_every_page(world, client_for):
    run = matrix_run(world.school)
    outsider = client_for(world.other["dpo"])
    for name, method, path in anonymise_urls(world.school):
        response = getattr(outsider, method)(path)
        assert response.status_code == 404, name
    # The trust's DPO, a member of both, sees the run only under its own school.
    trust_dpo = client_for(world.trust_dpo)
    assert trust_dpo.get(url(world.school, "detail", run)).status_code == 200
    elsewhere = reverse("anonymise:detail", kwargs={"org": world.other.slug, "run": run.uuid})
    assert trust_dpo.get(elsewhere).status_code == 404


def test_the_list_shows_ones_own_runs_and_all_to_the_dpo(
    world, client_for, django_assert_max_num_queries
):
    mine = uploaded(world.school)
    theirs = uploaded(world.school, "information_manager")
    staff_page = client_for(world.school["staff"]).get(url(world.school, "list")).content.decode()
    assert mine.decision.reference in staff_page
    assert theirs.decision.reference not in staff_page
    dpo = client_for(world.school["dpo"])
    for _ in range(3):
        uploaded(world.school)
    with django_assert_max_num_queries(12):
        page = dpo.get(url(world.school, "list")).content.decode()
    assert mine.decision.reference in page
    assert theirs.decision.reference in page


# --- Uploading -----------------------------------------------------------------------


def test_the_upload_offers_the_decision_named_in_the_address(world, client_for):
    decision = decision_of(world.school)
    page = client_for(world.school["staff"]).get(
        url(world.school, "new") + f"?decision={decision.reference}"
    )
    assert re.search(
        rf'<option value="decision:{decision.reference}" selected>', page.content.decode()
    )


def test_an_upload_without_a_file_or_purpose_shows_errors_beside_the_fields(world, client_for):
    response = client_for(world.school["staff"]).post(url(world.school, "new"), {"link": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_link_error"' in html
    assert 'id="id_file_error"' in html
    assert "Choose the proposal or the decision" in html
    assert AnonymisationRun.objects.count() == 0


def test_an_unreadable_file_is_refused_beside_the_file(world, client_for, media):  # noqa: F811
    decision = decision_of(world.school)
    response = client_for(world.school["staff"]).post(
        url(world.school, "new"),
        {"link": f"decision:{decision.reference}", "file": _named("x.csv", b"%PDF-1.4 no")},
    )
    html = response.content.decode()
    assert 'id="id_file_error"' in html
    assert "PDF" in html
    assert AnonymisationRun.objects.count() == 0
    assert files_on_disk(media) == []


def _named(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_an_upload_goes_on_to_the_suggested_plan_with_the_risk(world, client_for):
    decision = decision_of(world.school)
    client = client_for(world.school["staff"])
    response = client.post(
        url(world.school, "new"),
        {"link": f"decision:{decision.reference}", "file": csv_upload()},
    )
    run = AnonymisationRun.objects.get()
    assert response.status_code == 302
    assert response.url == url(world.school, "plan", run)
    html = client.get(response.url).content.decode()
    assert "Unique pupil numbers" in html  # recognised from the values
    assert 'id="risk-before"' in html
    # The suggestion: UPN pseudonymised, names left out.
    index = run.columns.index("UPN")
    assert re.search(
        rf'<select name="operation_{index}"[^>]*>.*?<option value="pseudonymise" selected>',
        html,
        re.S,
    )


# --- Planning and applying -----------------------------------------------------------


def plan_data(run: AnonymisationRun, action: str = "apply", **changes: Any) -> dict[str, Any]:
    """What the plan page posts back when accepted as suggested, with `changes`."""
    from infoshare.anonymise.engine import suggest_plan
    from infoshare.anonymise.forms import plan_initial

    initial = plan_initial(suggest_plan(services.load_input(run)), run.columns)
    data: dict[str, Any] = {"action": action}
    for name, value in initial.items():
        if value is None or value is False:
            continue
        data[name] = value.strftime("%d/%m/%Y") if isinstance(value, datetime.date) else value
    data.update(changes)
    return data


def test_a_band_without_a_width_is_refused_beside_the_column(world, client_for):
    run = uploaded(world.school)
    index = run.columns.index("Year group")
    client = client_for(world.school["staff"])
    response = client.post(
        url(world.school, "plan", run), plan_data(run, **{f"operation_{index}": "band"})
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_setting_{index}_error"' in html
    assert "Enter the width of the bands for “Year group”" in html
    run.refresh_from_db()
    assert run.status == Status.UPLOADED
    assert not AuditEvent.objects.filter(verb="anonymise.planned").exists()


def test_the_engines_refusal_shows_beside_the_risk_settings(world, client_for):
    run = uploaded(world.school)
    index = run.columns.index("Gender")
    data = plan_data(run, **{f"operation_{index}": "drop"})
    data["quasi_identifiers"] = ["Gender"]
    response = client_for(world.school["staff"]).post(url(world.school, "plan", run), data)
    html = response.content.decode()
    assert 'id="id_quasi_identifiers_error"' in html
    assert "Gender" in html
    assert "dropped" in html
    run.refresh_from_db()
    assert run.status == Status.UPLOADED


def test_age_bands_are_counted_on_the_date_typed(world, client_for):
    run = uploaded(world.school)
    index = run.columns.index("Date of birth")
    data = plan_data(
        run,
        action="check",
        reference_date="31/8/2026",
        **{f"operation_{index}": "generalise_date:age_band", f"setting_{index}": "2"},
    )
    client_for(world.school["staff"]).post(url(world.school, "plan", run), data)
    run.refresh_from_db()
    assert run.steps["Date of birth"] == {
        "operation": "generalise_date",
        "options": {"to": "age_band", "reference_date": "2026-08-31", "width": 2},
    }
    assert run.reference_date == datetime.date(2026, 8, 31)


def test_checking_the_risk_saves_the_plan_without_applying(world, client_for):
    run = uploaded(world.school)
    client = client_for(world.school["staff"])
    response = client.post(url(world.school, "plan", run), plan_data(run, action="check"))
    assert response.status_code == 302
    assert response.url == url(world.school, "plan", run)
    run.refresh_from_db()
    assert run.status == Status.PLANNED
    assert run.risk_before is not None
    assert "This is the plan you saved" in client.get(response.url).content.decode()


def test_applying_shows_the_preview_and_the_risk_before_and_after(world, client_for):
    run = uploaded(world.school)
    client = client_for(world.school["staff"])
    response = client.post(url(world.school, "plan", run), plan_data(run))
    assert response.status_code == 302
    assert response.url == url(world.school, "detail", run)
    run.refresh_from_db()
    assert run.status == Status.APPLIED
    html = client.get(response.url).content.decode()
    assert 'id="preview"' in html
    assert html.count('<tr class="govuk-table__row">') >= 10
    assert 'id="risk-before"' in html
    assert 'id="risk-after"' in html
    assert "Download CSV" in html
    assert "Download XLSX" in html
    original = pupils()["UPN"].to_list()
    assert not any(upn in html for upn in original)


def test_a_large_file_shows_progress_until_done(world, client_for, settings, monkeypatch):
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 10
    monkeypatch.setattr(services, "_start_background", lambda *args: None)
    run = uploaded(world.school)
    client = client_for(world.school["staff"])
    client.post(url(world.school, "plan", run), plan_data(run))
    run.refresh_from_db()
    assert run.status == Status.APPLYING
    page = client.get(url(world.school, "detail", run)).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "htmx.min.js" in page
    fragment = client.get(url(world.school, "progress", run), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "0 of 15 columns done" in fragment.content.decode()
    services.apply_in_background(run.pk, world.school["staff"].pk)
    done = client.get(url(world.school, "progress", run), headers={"HX-Request": "true"})
    assert done.headers["HX-Redirect"] == url(world.school, "detail", run)
    # Without JavaScript, the refresh link lands on the run.
    assert client.get(url(world.school, "progress", run)).status_code == 302


def test_the_download_streams_the_file_and_deletes_both(world, client_for, media):  # noqa: F811
    run = applied(uploaded(world.school))
    client = client_for(world.school["staff"])
    response = client.post(url(world.school, "download", run), {"file_format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "no-store"
    content = b"".join(response.streaming_content)
    assert content.removeprefix(b"\xef\xbb\xbf").startswith(b"UPN,")
    assert files_on_disk(media) == []
    run.refresh_from_db()
    assert run.status == Status.DOWNLOADED
    again = client.post(url(world.school, "download", run), {"file_format": "csv"})
    assert again.status_code == 302
    assert again.url == url(world.school, "detail", run)
    assert "deleted" in client.get(again.url).content.decode()


def test_downloading_is_post_only(world, client_for):
    run = applied(uploaded(world.school))
    response = client_for(world.school["staff"]).get(url(world.school, "download", run))
    assert response.status_code == 405
    assert storage.absolute(run.output_path).exists()


def test_a_planned_run_can_still_be_replanned_from_its_page(world, client_for):
    run = planned(uploaded(world.school))
    html = client_for(world.school["staff"]).get(url(world.school, "detail", run)).content
    assert b"Change the plan" in html


def test_anonymise_urls_names_every_page_of_the_app(world):
    """What tests/core/test_tenancy.py's check of every organisation URL will need."""
    from urllib.parse import urlsplit

    from django.urls import resolve

    from infoshare.anonymise import urls

    covered = {resolve(urlsplit(path).path).url_name for _, _, path in anonymise_urls(world.school)}
    assert covered == {pattern.name for pattern in urls.urlpatterns}


def test_another_schools_people_are_refused_every_page_whatever_their_role(world, client_for):
    paths = anonymise_urls(world.school)
    for role in ALL_ROLES:
        client = client_for(world.other[role])
        for name, method, path in paths:
            assert getattr(client, method)(path).status_code == 404, (role, name)
