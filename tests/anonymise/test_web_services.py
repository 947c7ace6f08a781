"""The anonymisation services: upload, plan, apply, download, clean up — allowed and refused.

Every refusal leaves nothing changed (no run, no file, no audit event), and
nothing the database or the audit trail holds is a cell of the data.
"""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import time_machine
from django.core import serializers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from infoshare.anonymise import services, storage
from infoshare.anonymise.engine import ColumnStep, Plan, read_dataset, suggest_plan
from infoshare.anonymise.models import FILES_KEPT_FOR, AnonymisationRun, Status
from infoshare.audit.models import AuditEvent
from infoshare.core import uploads
from tests.anonymise.generate import pupil_rows
from tests.core.support import changes_of, last_event
from tests.decisions.factories import make_decision

pytestmark = pytest.mark.django_db

# Values that identify a pupil, from the generated data: none may reach the database.
IDENTIFYING = ("UPN", "ULN", "Legal forename", "Legal surname", "Email", "Phone", "Postcode",
               "NHS number", "Notes")  # fmt: skip


# --- Helpers the page tests share ----------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Each test's files in its own folder, applied inline unless a test says otherwise."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 1_000_000
    settings.INFOSHARE_ANONYMISE_THREADS = False
    return settings.MEDIA_ROOT


def pupils(rows: int = 60, seed: int = 8) -> pl.DataFrame:
    return pupil_rows(rows, seed=seed)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def csv_upload(frame: pl.DataFrame | None = None, name: str = "pupils.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(pupils() if frame is None else frame), "text/csv")


def decision_of(school: Any, role: str = "staff") -> Any:
    return make_decision(school.organisation, school[role])


def uploaded(school: Any, role: str = "staff", frame: pl.DataFrame | None = None, **link: Any):
    if not link:
        link = {"decision": decision_of(school, role)}
    return services.upload_dataset(
        school.organisation, actor=school[role], upload=csv_upload(frame), **link
    )


def planned(run: AnonymisationRun, plan: Plan | None = None) -> AnonymisationRun:
    plan = plan or suggest_plan(services.load_input(run))
    return services.save_plan(run, actor=run.created_by, plan=plan)


def applied(run: AnonymisationRun) -> AnonymisationRun:
    return services.apply_run(planned(run), actor=run.created_by)


def files_on_disk(media: Path) -> list[Path]:
    folder = media / "anonymise"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def nothing_changed(media: Path, runs: int = 0, events: int = 0) -> None:
    assert AnonymisationRun.objects.count() == runs
    assert AuditEvent.objects.filter(verb__startswith="anonymise.").count() == events
    assert files_on_disk(media) == [] if runs == 0 else True


# --- Uploading -----------------------------------------------------------------------


def test_a_member_of_staff_uploads_a_dataset_for_a_decision(world, media):
    decision = decision_of(world.school)
    run = uploaded(world.school, decision=decision)
    assert run.status == Status.UPLOADED
    assert run.decision == decision
    assert run.proposal is None
    assert run.columns == list(pupils().columns)
    assert run.rows_in == 60
    assert run.file_format == "csv"
    stored = files_on_disk(media)
    assert stored == [storage.absolute(run.input_path)]
    assert stored[0].parent == media / "anonymise" / str(world.school.organisation.pk)
    assert stored[0].stat().st_mode & 0o777 == 0o600
    event = last_event("anonymise.uploaded")
    assert changes_of(event) == {"format": "csv", "rows": 60, "columns": 15,
                                 "decision": decision.reference}  # fmt: skip
    assert event.actor == world.school["staff"]


def test_an_xlsx_upload_is_kept_as_xlsx(world, media):
    buffer = io.BytesIO()
    pupils(12).write_excel(buffer)
    run = services.upload_dataset(
        world.school.organisation,
        actor=world.school["staff"],
        upload=SimpleUploadedFile("pupils.xlsx", buffer.getvalue()),
        decision=decision_of(world.school),
    )
    assert run.file_format == "xlsx"
    assert run.rows_in == 12
    assert run.input_path.endswith(".xlsx")


def test_a_proposal_can_be_the_purpose(world, media):
    from tests.proposals.drafts import drafted

    proposal = drafted(world.school.organisation, world.school["headteacher"])
    run = uploaded(world.school, proposal=proposal)
    assert run.proposal == proposal
    assert changes_of(last_event("anonymise.uploaded"))["proposal"] == proposal.reference


def test_an_auditor_may_not_upload(world, media):
    decision = decision_of(world.school)
    with pytest.raises(PermissionDenied):
        uploaded(world.school, "auditor", decision=decision)
    nothing_changed(media)


def test_another_schools_decision_is_refused_beside_the_choice(world, media):
    with pytest.raises(ValidationError) as refused:
        uploaded(world.school, decision=decision_of(world.other))
    assert "link" in refused.value.error_dict
    nothing_changed(media)


def test_a_decision_the_person_cannot_see_is_refused(world, media):
    # Special category decisions are seen by the DPO, headteacher and DSLs, not other staff.
    hidden = make_decision(
        world.school.organisation, world.school["dsl"], categories=("safeguarding",)
    )
    with pytest.raises(ValidationError) as refused:
        uploaded(world.school, decision=hidden)
    assert "link" in refused.value.error_dict
    nothing_changed(media)


def test_neither_or_both_purposes_are_refused(world, media):
    from tests.proposals.drafts import drafted

    proposal = drafted(world.school.organisation, world.school["headteacher"])
    for link in ({}, {"proposal": proposal, "decision": decision_of(world.school)}):
        with pytest.raises(ValidationError) as refused:
            services.upload_dataset(
                world.school.organisation,
                actor=world.school["staff"],
                upload=csv_upload(),
                **link,
            )
        assert "link" in refused.value.error_dict
    nothing_changed(media)


@pytest.mark.parametrize(
    ("content", "name", "said"),
    [
        (b"%PDF-1.7 not a spreadsheet", "pupils.csv", "PDF"),
        (b"", "pupils.csv", "empty"),
        (b"UPN,Name\n", "pupils.csv", "no rows"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_the_reason(world, media, content, name, said):
    decision = decision_of(world.school)
    with pytest.raises(ValidationError) as refused:
        services.upload_dataset(
            world.school.organisation,
            actor=world.school["staff"],
            upload=SimpleUploadedFile(name, content),
            decision=decision,
        )
    assert said in " ".join(refused.value.error_dict["file"][0].messages)
    nothing_changed(media)


def test_a_file_over_the_limit_is_refused(world, media, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    decision = decision_of(world.school)
    with pytest.raises(ValidationError) as refused:
        uploaded(world.school, decision=decision)
    assert "smaller than" in refused.value.error_dict["file"][0].messages[0]
    nothing_changed(media)


# --- Planning ------------------------------------------------------------------------


def test_the_uploader_saves_a_plan_with_the_risk_before(world, media):
    run = planned(uploaded(world.school))
    assert run.status == Status.PLANNED
    assert set(run.steps) == set(run.columns)
    assert run.risk_before["rows"] == 60
    assert {"k", "groups", "records_below_k", "l_diversity"} <= set(run.risk_before)
    changes = changes_of(last_event("anonymise.planned"))
    assert changes["operations"] == run.operations()
    assert changes["quasi_identifiers"] == run.quasi_identifiers
    assert changes["risk_before"]["rows"] == 60


def test_someone_else_may_not_plan_even_the_dpo(world, media):
    run = uploaded(world.school)
    events = AuditEvent.objects.count()
    for role in ("dpo", "headteacher", "information_manager"):
        with pytest.raises(PermissionDenied):
            services.save_plan(
                run, actor=world.school[role], plan=suggest_plan(services.load_input(run))
            )
    run.refresh_from_db()
    assert run.status == Status.UPLOADED
    assert run.steps == {}
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "broken",
    [
        lambda plan: Plan(
            steps=(*plan.steps, ColumnStep("Shoe size", "keep", {})), k=plan.k
        ),  # a column the file does not have
        lambda plan: Plan(
            steps=tuple(
                ColumnStep(s.column, "scramble" if s.column == "Gender" else s.operation, s.options)
                for s in plan.steps
            ),
            k=plan.k,
        ),
        lambda plan: Plan(steps=plan.steps[1:], k=plan.k),  # a column without a step
    ],
    ids=["unknown column", "unknown operation", "column left without a step"],
)
def test_a_bad_plan_is_refused_with_a_message_and_changes_nothing(world, media, broken):
    run = uploaded(world.school)
    events = AuditEvent.objects.count()
    plan = broken(suggest_plan(services.load_input(run)))
    with pytest.raises(services.PlanRefused) as refused:
        services.save_plan(run, actor=world.school["staff"], plan=plan)
    assert refused.value.messages[0]
    run.refresh_from_db()
    assert run.status == Status.UPLOADED
    assert run.steps == {}
    assert run.risk_before is None
    assert AuditEvent.objects.count() == events


def test_planning_again_after_applying_throws_the_result_away(world, media):
    run = applied(uploaded(world.school))
    output = storage.absolute(run.output_path)
    assert output.exists()
    run = planned(run)
    assert run.status == Status.PLANNED
    assert run.output_path == ""
    assert run.risk_after is None
    assert not output.exists()


# --- Applying ------------------------------------------------------------------------


def test_a_small_file_is_applied_at_once(world, media):
    run = applied(uploaded(world.school))
    assert run.status == Status.APPLIED
    assert run.rows_out == 60 - run.rows_suppressed
    assert run.risk_after["rows"] == run.rows_out
    result = read_dataset(storage.absolute(run.output_path))
    dropped = [c for c, step in run.steps.items() if step["operation"] == "drop"]
    assert dropped
    assert not set(dropped) & set(result.columns)
    changes = changes_of(last_event("anonymise.applied"))
    assert changes["rows_in"] == 60
    assert changes["rows_out"] == run.rows_out
    assert changes["risk_after"]["rows"] == run.rows_out


def test_applying_before_planning_is_refused(world, media):
    run = uploaded(world.school)
    with pytest.raises(ValidationError, match="uploaded"):
        services.apply_run(run, actor=world.school["staff"])
    run.refresh_from_db()
    assert run.status == Status.UPLOADED


def test_a_large_file_is_applied_in_the_background(
    world, media, settings, django_capture_on_commit_callbacks
):
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 10
    run = planned(uploaded(world.school))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = services.apply_run(run, actor=world.school["staff"])
    assert started.status == Status.APPLYING
    assert started.steps_total == 15
    assert started.steps_done == 0
    assert not AuditEvent.objects.filter(verb="anonymise.applied").exists()
    for callback in callbacks:
        callback()
    run.refresh_from_db()
    assert run.status == Status.APPLIED
    assert run.steps_done == run.steps_total == 15
    assert storage.absolute(run.output_path).exists()


def test_progress_is_noted_for_each_column(world, media, settings, monkeypatch):
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 10
    run = planned(uploaded(world.school))
    seen: list[tuple[int, int]] = []
    noted = services.note_progress

    def spy(run_pk: int, done: int, total: int) -> None:
        noted(run_pk, done, total)
        seen.append((done, total))
        assert AnonymisationRun.objects.get(pk=run_pk).steps_done == done

    monkeypatch.setattr(services, "note_progress", spy)
    monkeypatch.setattr(services, "_start_background", lambda *args: None)
    services.apply_run(run, actor=world.school["staff"])
    services.apply_in_background(run.pk, world.school["staff"].pk)
    assert seen
    assert seen[-1][0] == seen[-1][1]


def test_a_failure_in_the_background_puts_the_run_back_to_planned(
    world, media, settings, monkeypatch, caplog
):
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 10
    run = planned(uploaded(world.school))
    monkeypatch.setattr(services, "_start_background", lambda *args: None)
    services.apply_run(run, actor=world.school["staff"])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a value from the file: A123456789012")

    monkeypatch.setattr(services, "apply_plan", broken)
    services.apply_in_background(run.pk, world.school["staff"].pk)
    run.refresh_from_db()
    assert run.status == Status.PLANNED
    assert run.failure == services.FAILED_MESSAGE
    assert "A123456789012" not in AuditEvent.objects.filter(verb="anonymise.failed").get().changes
    # The log says what kind of error it was, never the engine's words.
    assert "RuntimeError" in caplog.text
    assert "A123456789012" not in caplog.text
    assert [p.name for p in files_on_disk(media)] == [Path(run.input_path).name]


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_applies_and_closes_its_connection(world, media, settings):
    settings.INFOSHARE_ANONYMISE_BACKGROUND_ROWS = 10
    settings.INFOSHARE_ANONYMISE_THREADS = True
    run = planned(uploaded(world.school))
    assert services.apply_run(run, actor=world.school["staff"]).status == Status.APPLYING
    services.wait_for_background_work(timeout=60)
    run.refresh_from_db()
    assert run.status == Status.APPLIED
    assert run.steps_done == 15


# --- The key -------------------------------------------------------------------------


def test_runs_for_one_decision_share_a_key_and_others_do_not(world, media, settings):
    decision, other = decision_of(world.school), decision_of(world.school)
    first = uploaded(world.school, decision=decision)
    again = uploaded(world.school, decision=decision)
    elsewhere = uploaded(world.school, decision=other)
    key = services.pseudonymisation_key(first)
    assert len(key) == 32
    assert services.pseudonymisation_key(again) == key
    assert services.pseudonymisation_key(elsewhere) != key
    settings.INFOSHARE_ANONYMISE_SECRET = "a dedicated secret for pseudonyms"
    assert services.pseudonymisation_key(first) != key


def test_pseudonyms_link_across_runs_for_one_decision(world, media):
    decision = decision_of(world.school)
    frame = pupils(20)
    tokens = []
    for _ in range(2):
        run = applied(uploaded(world.school, frame=frame, decision=decision))
        tokens.append(read_dataset(storage.absolute(run.output_path))["UPN"].to_list())
    assert tokens[0] == tokens[1]
    assert not set(tokens[0]) & set(frame["UPN"].to_list())


# --- Downloading ---------------------------------------------------------------------


def test_the_download_is_the_result_and_deletes_both_files(world, media):
    run = applied(uploaded(world.school))
    expected = read_dataset(storage.absolute(run.output_path))
    download = services.download_result(run, actor=world.school["staff"], file_format="csv")
    assert files_on_disk(media) == []
    content = download.handle.read()
    download.handle.close()
    assert read_dataset(content).equals(expected)
    assert download.filename == f"{run.decision.reference}-anonymised.csv"
    run.refresh_from_db()
    assert run.status == Status.DOWNLOADED
    assert run.input_path == run.output_path == ""
    assert run.files_deleted_at is not None
    assert changes_of(last_event("anonymise.downloaded")) == {
        "format": "csv", "rows": run.rows_out, "files_deleted": 2}  # fmt: skip


def test_the_xlsx_download_reads_back(world, media):
    run = applied(uploaded(world.school))
    expected = read_dataset(storage.absolute(run.output_path))
    download = services.download_result(run, actor=world.school["staff"], file_format="xlsx")
    content = download.handle.read()
    download.handle.close()
    assert content.startswith(b"PK")
    assert read_dataset(content, filename="x.xlsx").equals(expected)
    assert files_on_disk(media) == []


def test_a_second_download_and_others_downloads_are_refused(world, media):
    run = applied(uploaded(world.school))
    with pytest.raises(PermissionDenied):
        services.download_result(run, actor=world.school["dpo"], file_format="csv")
    assert run.output_path
    assert storage.absolute(run.output_path).exists()
    services.download_result(run, actor=world.school["staff"], file_format="csv").handle.close()
    with pytest.raises(ValidationError, match="deleted"):
        services.download_result(run, actor=world.school["staff"], file_format="csv")


# --- Nothing of the data in the database or the audit trail --------------------------


def test_no_cell_value_reaches_the_database_or_the_audit_trail(world, media):
    frame = pupils(40, seed=3)
    run = applied(uploaded(world.school, frame=frame))
    services.download_result(run, actor=world.school["staff"], file_format="csv").handle.close()
    stored = serializers.serialize("json", AnonymisationRun.objects.all())
    trail = serializers.serialize("json", AuditEvent.objects.all())
    values = {
        value
        for column in IDENTIFYING
        for value in frame[column].drop_nulls().to_list()
        if len(value) >= 6
    }
    assert values  # the test looks for something
    assert [v for v in values if v in stored or v in trail] == []


# --- Cleaning up ---------------------------------------------------------------------


def test_cleanup_deletes_the_files_of_runs_past_their_time_and_only_those(world, media):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old = planned(uploaded(world.school))
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        recent = uploaded(world.school)
    with time_machine.travel(start + FILES_KEPT_FOR - timedelta(seconds=1), tick=False):
        assert services.delete_expired_files() == services.Cleanup(0, 0, 0)
    assert storage.absolute(old.input_path).exists()
    with time_machine.travel(start + FILES_KEPT_FOR + timedelta(seconds=1), tick=False):
        assert services.delete_expired_files() == services.Cleanup(1, 1, 0)
        # Idempotent: a second run finds nothing to do.
        assert services.delete_expired_files() == services.Cleanup(0, 0, 0)
    old.refresh_from_db()
    assert old.status == Status.EXPIRED
    assert old.files_deleted_at is not None
    assert old.input_path == ""
    assert [p.name for p in files_on_disk(media)] == [Path(recent.input_path).name]
    event = last_event("anonymise.files_deleted")
    assert event.actor is None
    assert changes_of(event) == {"files_deleted": 1, "status": "expired", "kept_hours": 23}
    # Once expired, nothing more can be done with it.
    with pytest.raises(ValidationError, match="deleted"):
        services.apply_run(old, actor=world.school["staff"])


def test_past_its_time_a_run_cannot_be_downloaded_even_before_the_cleanup(world, media):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        run = applied(uploaded(world.school))
    with (
        time_machine.travel(start + FILES_KEPT_FOR, tick=False),
        pytest.raises(ValidationError, match="deleted"),
    ):
        services.download_result(run, actor=world.school["staff"], file_format="csv")
    run.refresh_from_db()
    assert run.status == Status.APPLIED


def test_cleanup_leaves_a_downloaded_run_as_it_is(world, media):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        run = applied(uploaded(world.school))
        services.download_result(run, actor=world.school["staff"], file_format="csv")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert services.delete_expired_files() == services.Cleanup(0, 0, 0)
    run.refresh_from_db()
    assert run.status == Status.DOWNLOADED


def test_cleanup_deletes_stray_files_as_old_as_that(world, media):
    folder = media / "anonymise" / "999"
    folder.mkdir(parents=True)
    stray, fresh = folder / "left-by-a-crash.csv", folder / "being-written.csv"
    stray.write_text("x")
    fresh.write_text("y")
    long_ago = time.time() - FILES_KEPT_FOR.total_seconds() - 60
    os.utime(stray, (long_ago, long_ago))
    assert services.delete_expired_files() == services.Cleanup(0, 0, 1)
    assert not stray.exists()
    assert fresh.exists()


def test_the_cleanup_command_says_what_it_did(world, media):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        uploaded(world.school)
    out = io.StringIO()
    with time_machine.travel(start + timedelta(hours=24), tick=False):
        call_command("anonymise_cleanup", stdout=out)
        call_command("anonymise_cleanup", stdout=out)
    assert out.getvalue().splitlines() == [
        "Runs expired: 1; files deleted: 1; stray files deleted: 0.",
        "Runs expired: 0; files deleted: 0; stray files deleted: 0.",
    ]
