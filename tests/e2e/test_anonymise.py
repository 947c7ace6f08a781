"""A member of staff anonymises a pupil dataset in the browser: uploads it for a decision,
accepts the suggested plan after changing one column, sees the risk before and after,
and downloads the result, which deletes the files. A large file shows its progress,
polled by htmx. Every page passes axe-core.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from infoshare.anonymise import services
from infoshare.anonymise.engine import read_dataset
from infoshare.anonymise.models import AnonymisationRun, Status
from tests.anonymise.generate import pupil_rows
from tests.conftest import PASSWORD
from tests.decisions.factories import make_decision
from tests.e2e.conftest import assert_accessible, sign_in

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dataset(tmp_path: Path, settings) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INFOSHARE_ANONYMISE_THREADS = False
    buffer = io.BytesIO()
    pupil_rows(80, seed=21).write_csv(buffer)
    path = tmp_path / "year-10-pupils.csv"
    path.write_bytes(buffer.getvalue())
    return path


def upload(page: Page, base: str, slug: str, decision_reference: str, dataset: Path) -> None:
    page.goto(f"{base}/o/{slug}/anonymise/new/?decision={decision_reference}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload a dataset to anonymise")
    assert_accessible(page)
    page.get_by_label("The dataset").set_input_files(str(dataset))
    page.get_by_role("button", name="Upload and suggest a plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan the anonymisation")


def test_anonymising_a_dataset_in_the_browser(  # noqa: PLR0917
    page: Page, live_server, world, console_errors, dataset: Path, settings
):
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 1_000_000
    school = world.school
    decision = make_decision(school.organisation, school["staff"])
    sign_in(page, live_server.url, school["staff"], PASSWORD)
    page.goto(f"{live_server.url}/o/{school.slug}/anonymise/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anonymise a dataset")
    assert_accessible(page)

    upload(page, live_server.url, school.slug, decision.reference, dataset)
    expect(page.locator("#plan")).to_contain_text("Unique pupil numbers")
    expect(page.locator("#risk-before")).to_be_visible()
    assert_accessible(page)

    # One change to the suggestion: ethnicity codes rarer than k become "Other".
    page.get_by_label("What to do with “Ethnicity”").select_option("group_rare")
    page.get_by_role("button", name="Apply the plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Anonymisation for {decision.reference}"
    )
    expect(page.get_by_text("The plan is applied.")).to_be_visible()
    expect(page.locator("#risk-before")).to_be_visible()
    expect(page.locator("#risk-after")).to_be_visible()
    expect(page.locator("#preview tbody tr")).to_have_count(10)
    assert_accessible(page)
    run = AnonymisationRun.objects.get()
    assert run.steps["Ethnicity"]["operation"] == "group_rare"

    with page.expect_download() as arrived:
        page.get_by_role("button", name="Download CSV").click()
    download = arrived.value
    assert download.suggested_filename == f"{decision.reference}-anonymised.csv"
    result = read_dataset(download.path().read_bytes())
    original = read_dataset(dataset)
    assert not set(result["UPN"].drop_nulls().to_list()) & set(original["UPN"].to_list())
    assert "Legal surname" not in result.columns
    run.refresh_from_db()
    assert run.status == Status.DOWNLOADED
    assert run.files_deleted_at is not None
    assert not any((settings.MEDIA_ROOT / "anonymise").rglob("*.csv"))

    page.goto(f"{live_server.url}/o/{school.slug}/anonymise/{run.uuid}/")
    expect(page.locator("#run")).to_contain_text("Deleted")
    assert_accessible(page)
    assert console_errors == []


def test_a_large_file_shows_its_progress_then_the_result(  # noqa: PLR0917
    page: Page, live_server, world, console_errors, dataset: Path, settings, monkeypatch
):
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 10
    # The work waits until the progress is on screen; the test then does it itself.
    monkeypatch.setattr(services, "_start_background", lambda *args: None)
    school = world.school
    decision = make_decision(school.organisation, school["staff"])
    sign_in(page, live_server.url, school["staff"], PASSWORD)
    upload(page, live_server.url, school.slug, decision.reference, dataset)
    page.get_by_role("button", name="Apply the plan").click()
    expect(page.locator("#progress")).to_contain_text("0 of 15 columns done")
    assert_accessible(page)

    run = AnonymisationRun.objects.get()
    services.apply_in_background(run.pk, school["staff"].pk)
    expect(page.locator("#preview")).to_be_visible(timeout=10_000)
    expect(page).to_have_url(re.compile(rf"/anonymise/{run.uuid}/$"))
    assert_accessible(page)
    assert console_errors == []
