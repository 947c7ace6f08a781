"""Every change to an anonymisation run (DESIGN.md rule 1): upload, plan, apply, download, expire.

Appendix A step 2 of the information sharing policy: "If your objective can be
met in a privacy friendly way then personal data should not be shared." The
web page is a thin front on the engine (`engine.py`, no Django); these
services add who may do what, the state of a run, and its audit events. The
database and the audit trail keep the plan (which operation on which column)
and the risk figures, never a cell of the data: the files live on disk
(`storage.py`) until they are downloaded, and at most 24 hours.

What a person may do with one run is answered by `actions_for`, which the
pages use to offer only what the services accept.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, fields
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from infoshare.anonymise import storage
from infoshare.anonymise.engine import (
    ColumnStep,
    Plan,
    PlanError,
    RiskReport,
    UnreadableDataset,
    apply_plan,
    check_plan,
    read_dataset,
    risk_report,
    write_dataset,
)
from infoshare.anonymise.models import (
    FILES_KEPT_FOR,
    AnonymisationRun,
    Status,
)
from infoshare.anonymise.rules import can_anonymise
from infoshare.audit import services as audit
from infoshare.core import uploads
from infoshare.core.checks import raise_if, require
from infoshare.decisions.models import Decision
from infoshare.proposals.models import Proposal

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import polars as pl
    from django.core.files.uploadedfile import UploadedFile

    from infoshare.core.models import Organisation, User

logger = logging.getLogger(__name__)

# Files with more rows than this are applied in a background thread, with a progress
# bar; smaller ones while the person waits. `INFOSHARE_ANONYMISE_BACKGROUND_ROWS`
# changes it (tests force either path).
BACKGROUND_ROWS = 50_000
# The HKDF salt: fixed, so one agreement's key is the same on every run.
_KEY_SALT = b"infoshare anonymise pseudonymisation v1"
FAILED_MESSAGE = (
    "The plan could not be applied to this file. Check the plan and try again; "
    "if it happens again, ask your DPO."
)


# --- What a person may do with a run --------------------------------------------------


@dataclass(frozen=True)
class Actions:
    """What `user` may do with a run now; the pages offer only these."""

    plan: bool = False
    apply: bool = False
    download: bool = False


def actions_for(run: AnonymisationRun, user: User) -> Actions:
    """Only the person who uploaded the file works on it; the DPO and headteacher see it."""
    mine = run.created_by_id == user.pk and can_anonymise(user, run.organisation)
    files = run.has_files
    return Actions(
        plan=mine and files and run.status in (Status.UPLOADED, Status.PLANNED, Status.APPLIED),
        apply=mine and files and run.status == Status.PLANNED,
        download=mine and files and run.status == Status.APPLIED,
    )


REFUSALS = {
    "plan": "Only the person who uploaded the file plans its anonymisation.",
    "apply": "Only the person who uploaded the file applies the plan.",
    "download": "Only the person who uploaded the file downloads the result.",
}


def may_ever_take(run: AnonymisationRun, user: User, action: str) -> bool:
    return run.created_by_id == user.pk and can_anonymise(user, run.organisation)


def out_of_order_message(run: AnonymisationRun) -> str:
    if not run.has_files:
        return (
            "The files of this anonymisation have been deleted (they are kept until they "
            "are downloaded, and 24 hours at most). Upload the file again to start anew."
        )
    status = run.get_status_display().lower()
    return f"That cannot be done now: this anonymisation is \u201c{status}\u201d."


def lock_for(run: AnonymisationRun, actor: User, action: str) -> AnonymisationRun:
    """The run, locked, if `actor` may take `action` on it now."""
    locked = (
        AnonymisationRun.objects.select_for_update(of=("self",))
        .select_related("organisation", "proposal", "decision", "created_by")
        .get(pk=run.pk)
    )
    if getattr(actions_for(locked, actor), action):
        return locked
    if not may_ever_take(locked, actor, action):
        raise PermissionDenied(REFUSALS[action])
    raise ValidationError(out_of_order_message(locked))


# --- The key ------------------------------------------------------------------------


def pseudonymisation_key(run: AnonymisationRun) -> bytes:
    """The run's key: HKDF-SHA256 of the application's secret, for the school and the
    proposal or decision the data is for.

    Two runs for the same proposal (one agreement) give the same tokens, so the
    recipient can link its exports; any other run gives unrelated ones. The key is
    derived when needed, never stored or shown.
    """
    secret = getattr(settings, "INFOSHARE_ANONYMISE_SECRET", "") or settings.SECRET_KEY
    info = f"organisation:{run.organisation_id}|{run.linked_kind}:{run.linked_reference}"
    derivation = HKDF(algorithm=hashes.SHA256(), length=32, salt=_KEY_SALT, info=info.encode())
    return derivation.derive(secret.encode("utf-8"))


# --- Uploading -----------------------------------------------------------------------


def linkable_proposals(user: User, organisation: Organisation) -> Any:
    return Proposal.objects.for_user(user, organisation).order_by("-created_at")


def linkable_decisions(user: User, organisation: Organisation) -> Any:
    return Decision.objects.for_user(user, organisation).current().order_by("-recorded_at")


def upload_dataset(
    organisation: Organisation,
    *,
    actor: User,
    upload: UploadedFile | None,
    proposal: Proposal | None = None,
    decision: Decision | None = None,
) -> AnonymisationRun:
    """Keep an uploaded dataset for anonymising, for one proposal or decision the person sees.

    The file is read whole here (so a file that cannot be used is refused at
    once, with the engine's reason); only its headings and row count are saved.
    """
    require(
        can_anonymise(actor, organisation),
        "Only members who record decisions or proposals anonymise data.",
    )
    # Every problem at once: the purpose and the file are checked before either refuses.
    link_problem = _link_problem(organisation, actor, proposal, decision)
    try:
        content, frame = _read_upload(upload)
    except ValidationError as error:
        if link_problem:
            raise ValidationError({"link": [link_problem], **error.error_dict}) from None
        raise
    if link_problem:
        raise_if({"link": link_problem})
    extension = "xlsx" if content.startswith(b"PK\x03\x04") else "csv"
    relative = storage.save_bytes(organisation, content, extension)
    try:
        with transaction.atomic():
            run = AnonymisationRun.objects.create(
                organisation=organisation,
                created_by=actor,
                proposal=proposal,
                decision=decision,
                file_format=extension,
                columns=list(frame.columns),
                rows_in=frame.height,
                input_path=relative,
            )
            audit.record(
                actor,
                "anonymise.uploaded",
                run,
                {
                    "format": extension,
                    "rows": frame.height,
                    "columns": len(frame.columns),
                    run.linked_kind: run.linked_reference,
                },
            )
    except BaseException:
        storage.remove(relative)
        raise
    return run


def _link_problem(
    organisation: Organisation, actor: User, proposal: Proposal | None, decision: Decision | None
) -> str | None:
    if (proposal is None) == (decision is None):
        return "Choose the proposal or the decision the anonymised data is for."
    if proposal is not None:
        visible = Proposal.objects.for_user(actor, organisation).filter(pk=proposal.pk).exists()
    else:
        assert decision is not None
        visible = Decision.objects.for_user(actor, organisation).filter(pk=decision.pk).exists()
    if not visible:
        return "Choose a proposal or a decision of this school that you can see."
    return None


def _read_upload(upload: UploadedFile | None) -> tuple[bytes, pl.DataFrame]:
    if upload is None:
        raise_if({"file": "Choose a CSV or Excel (.xlsx) file to upload."})
    assert upload is not None
    if upload.size is not None and upload.size > uploads.MAX_UPLOAD_BYTES:
        raise_if({"file": uploads.too_large_message()})
    upload.seek(0)
    content = upload.read()
    try:
        frame = read_dataset(content, filename=upload.name or "")
    except UnreadableDataset as error:
        raise ValidationError({"file": [str(error)]}) from None
    if frame.height == 0:
        raise_if({"file": "The file has headings but no rows."})
    return content, frame


# --- Reading a run's files -----------------------------------------------------------


def load_input(run: AnonymisationRun) -> pl.DataFrame:
    """The uploaded dataset (read again from its file: the database never holds it)."""
    return read_dataset(storage.absolute(run.input_path))


def load_output(run: AnonymisationRun) -> pl.DataFrame:
    return read_dataset(storage.absolute(run.output_path))


def plan_of(run: AnonymisationRun) -> Plan:
    """The run's saved plan as the engine takes it."""
    return Plan(
        steps=tuple(
            ColumnStep(column, step["operation"], dict(step.get("options", {})))
            for column, step in run.steps.items()
        ),
        quasi_identifiers=tuple(run.quasi_identifiers),
        sensitive=tuple(run.sensitive),
        k=run.k,
        suppress_below_k=run.suppress_below_k,
    )


def report_from(stored: dict[str, Any] | None) -> RiskReport | None:
    """A stored `RiskReport.as_dict()` back as a report (to put it in words again)."""
    if stored is None:
        return None
    names = {field.name for field in fields(RiskReport)}
    values = {name: value for name, value in stored.items() if name in names}
    values["quasi_identifiers"] = tuple(values.get("quasi_identifiers", ()))
    return RiskReport(**values)


def report_for(frame: pl.DataFrame, plan: Plan) -> RiskReport:
    return risk_report(frame, quasi=plan.quasi_identifiers, sensitive=plan.sensitive, k=plan.k)


# --- Planning ------------------------------------------------------------------------


def save_plan(
    run: AnonymisationRun, *, actor: User, plan: Plan, reference_date: date | None = None
) -> AnonymisationRun:
    """Check a plan against the file and keep it, with the risk before it is applied.

    A plan saved after the result was made throws that result away: the
    result must always be what the saved plan makes.
    """
    with transaction.atomic():
        run = lock_for(run, actor, "plan")
        frame = load_input(run)
        try:
            check_plan(plan, frame.columns, key=pseudonymisation_key(run))
        except PlanError as error:
            raise PlanRefused(error) from None
        before = report_for(frame, plan)
        storage.remove(run.output_path)
        run.output_path = ""
        run.steps = {
            step.column: {"operation": step.operation, "options": dict(step.options)}
            for step in plan.steps
        }
        run.quasi_identifiers = list(plan.quasi_identifiers)
        run.sensitive = list(plan.sensitive)
        run.k = plan.k
        run.suppress_below_k = plan.suppress_below_k
        run.reference_date = reference_date
        run.risk_before = before.as_dict()
        run.risk_after = None
        run.rows_out = run.rows_suppressed = None
        run.steps_done, run.steps_total, run.failure = 0, len(plan.steps), ""
        _transition(run, run.plan)
        run.save()
        audit.record(
            actor,
            "anonymise.planned",
            run,
            {
                "operations": run.operations(),
                "quasi_identifiers": run.quasi_identifiers,
                "sensitive": run.sensitive,
                "k": run.k,
                "suppress_below_k": run.suppress_below_k,
                "risk_before": run.risk_figures()["risk_before"],
            },
        )
    return run


class PlanRefused(ValidationError):
    """check_plan refused the plan; `problems` are its sentences, one problem each."""

    def __init__(self, error: PlanError) -> None:
        self.problems: tuple[str, ...] = tuple(getattr(error, "problems", ())) or (str(error),)
        super().__init__(list(self.problems))


# --- Applying ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    output_path: str
    rows_out: int
    rows_suppressed: int
    risk_after: dict[str, Any]


def apply_run(run: AnonymisationRun, *, actor: User) -> AnonymisationRun:
    """Apply the saved plan: while the person waits, or in the background for a large file."""
    with transaction.atomic():
        run = lock_for(run, actor, "apply")
        if run.rows_in > background_rows():
            run.steps_done, run.steps_total, run.failure = 0, len(run.steps), ""
            _transition(run, run.start_applying)
            run.save()
            run_pk, actor_pk = run.pk, actor.pk
            transaction.on_commit(lambda: _start_background(run_pk, actor_pk))
            return run
    result = _compute(run)
    return _finish(run, actor, result)


def background_rows() -> int:
    return int(getattr(settings, "INFOSHARE_ANONYMISE_BACKGROUND_ROWS", BACKGROUND_ROWS))


def _compute(run: AnonymisationRun, progress: Callable[[int, int], None] | None = None) -> Result:
    """The engine's work, outside any transaction: read, apply, write, measure."""
    frame = load_input(run)
    plan = plan_of(run)
    applied = apply_plan(frame, plan, key=pseudonymisation_key(run), progress=progress)
    relative, path = storage.prepare(run.organisation, "csv")
    try:
        write_dataset(applied.frame, path)
        after = report_for(applied.frame, plan)
    except BaseException:
        storage.remove(relative)
        raise
    return Result(relative, applied.frame.height, applied.rows_suppressed, after.as_dict())


def _finish(run: AnonymisationRun, actor: User, result: Result) -> AnonymisationRun:
    with transaction.atomic():
        locked = (
            AnonymisationRun.objects.select_for_update(of=("self",))
            .select_related("organisation", "proposal", "decision")
            .get(pk=run.pk)
        )
        if not can_proceed(locked.finish_applying) or not locked.has_files:
            # Planned again, or expired, while this was applied: the result is stale.
            storage.remove(result.output_path)
            raise ValidationError(out_of_order_message(locked))
        storage.remove(locked.output_path)
        locked.output_path = result.output_path
        locked.rows_out = result.rows_out
        locked.rows_suppressed = result.rows_suppressed
        locked.risk_after = result.risk_after
        locked.steps_done = locked.steps_total
        locked.finish_applying()
        locked.save()
        audit.record(
            actor,
            "anonymise.applied",
            locked,
            {
                "operations": locked.operations(),
                "rows_in": locked.rows_in,
                "rows_out": locked.rows_out,
                "rows_suppressed": locked.rows_suppressed,
                **locked.risk_figures(),
            },
        )
    return locked


# Background threads still running, so tests (and a graceful shutdown) can wait for them.
_threads: list[threading.Thread] = []


def _start_background(run_pk: int, actor_pk: int) -> None:
    if not getattr(settings, "INFOSHARE_ANONYMISE_THREADS", True):
        apply_in_background(run_pk, actor_pk)
        return
    thread = threading.Thread(
        target=_in_thread, args=(run_pk, actor_pk), name=f"anonymise-{run_pk}", daemon=True
    )
    _threads.append(thread)
    thread.start()


def _in_thread(run_pk: int, actor_pk: int) -> None:
    try:
        apply_in_background(run_pk, actor_pk)
    finally:
        connection.close()  # the thread's own connection


def wait_for_background_work(timeout: float = 60) -> None:
    """Wait for the background applications started so far (tests, shutdown)."""
    while _threads:
        _threads.pop().join(timeout)


def apply_in_background(run_pk: int, actor_pk: int) -> None:
    """Apply a run's plan, noting progress after each column; a failure puts it back to planned."""
    from infoshare.core.models import User

    run = AnonymisationRun.objects.select_related("organisation", "proposal", "decision").get(
        pk=run_pk
    )
    actor = User.objects.get(pk=actor_pk)

    def progress(done: int, total: int) -> None:
        note_progress(run_pk, done, total)

    try:
        result = _compute(run, progress)
    except Exception as error:  # noqa: BLE001  (a background thread: nothing may escape it)
        # Neither the page nor the log keeps the engine's message or traceback: either
        # could quote a value of the file. The kind of error is enough to look into it.
        logger.error("Applying anonymisation run %s failed: %s", run.uuid, type(error).__name__)
        _fail(run_pk, actor)
        return
    try:
        _finish(run, actor, result)
    except ValidationError:
        logger.info("Anonymisation run %s changed while it was applied", run.uuid)


def note_progress(run_pk: int, done: int, total: int) -> None:
    """How far the background work has got (not a change of state: no audit event)."""
    AnonymisationRun.objects.filter(pk=run_pk, status=Status.APPLYING).update(
        steps_done=done, steps_total=total
    )


def _fail(run_pk: int, actor: User) -> None:
    with transaction.atomic():
        run = AnonymisationRun.objects.select_for_update(of=("self",)).get(pk=run_pk)
        if not can_proceed(run.fail_applying):
            return
        run.fail_applying()
        run.failure = FAILED_MESSAGE
        run.save()
        audit.record(actor, "anonymise.failed", run, {"status": run.status})


# --- Downloading ---------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    handle: IO[bytes]
    filename: str
    content_type: str


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download_result(run: AnonymisationRun, *, actor: User, file_format: str) -> Download:
    """The anonymised file, opened; both files are deleted from the disk before it is sent.

    The open handle keeps the content readable while the response streams, and
    nothing is left behind even if the download is interrupted.
    """
    if file_format not in CONTENT_TYPES:
        raise ValidationError("Choose CSV or XLSX.")
    with transaction.atomic():
        run = lock_for(run, actor, "download")
        handle = _open_result(run, file_format)
        removed = _remove_files(run)
        run.download()
        run.save()
        audit.record(
            actor,
            "anonymise.downloaded",
            run,
            {"format": file_format, "rows": run.rows_out, "files_deleted": removed},
        )
    filename = f"{run.linked_reference}-anonymised.{file_format}"
    return Download(handle, filename, CONTENT_TYPES[file_format])


def _open_result(run: AnonymisationRun, file_format: str) -> IO[bytes]:
    path = storage.absolute(run.output_path)
    if file_format == "csv":
        return path.open("rb")
    relative, workbook = storage.prepare(run.organisation, "xlsx")
    try:
        write_dataset(read_dataset(path), workbook)
        return workbook.open("rb")
    finally:
        storage.remove(relative)


def _remove_files(run: AnonymisationRun) -> int:
    removed = sum(storage.remove(path) for path in (run.input_path, run.output_path))
    run.input_path = run.output_path = ""
    run.files_deleted_at = timezone.now()
    return removed


# --- Cleaning up ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cleanup:
    runs_expired: int
    files_deleted: int
    orphans_deleted: int


def delete_expired_files(now: datetime | None = None) -> Cleanup:
    """Delete the files of runs older than FILES_KEPT_FOR, and stray files as old; idempotent.

    Each run whose files go is marked expired (unless it was downloaded) with
    an audit event; files no run refers to (left by a crash) are removed too.
    """
    now = now or timezone.now()
    cutoff = now - FILES_KEPT_FOR
    expired = deleted = 0
    for pk in AnonymisationRun.objects.with_files_older_than(cutoff).values_list("pk", flat=True):
        removed = _expire_run(pk, cutoff)
        if removed is not None:
            expired += 1
            deleted += removed
    return Cleanup(expired, deleted, _delete_orphans(cutoff))


def _expire_run(pk: int, cutoff: datetime) -> int | None:
    with transaction.atomic():
        run = (
            AnonymisationRun.objects.select_for_update(of=("self",))
            .select_related("organisation", "proposal", "decision")
            .with_files_older_than(cutoff)
            .filter(pk=pk)
            .first()
        )
        if run is None:
            return None
        removed = _remove_files(run)
        if can_proceed(run.expire):
            run.expire()
        run.save()
        audit.record(
            None,
            "anonymise.files_deleted",
            run,
            {"files_deleted": removed, "status": run.status, "kept_hours": _kept_hours()},
        )
    return removed


def _delete_orphans(cutoff: datetime) -> int:
    kept = set(
        AnonymisationRun.objects.filter(files_deleted_at__isnull=True)
        .values_list("input_path", "output_path")
        .iterator()
    )
    referenced = {path for pair in kept for path in pair if path}
    return sum(
        storage.remove(path) for path in storage.files_older_than(cutoff) if path not in referenced
    )


def _kept_hours() -> int:
    return int(FILES_KEPT_FOR.total_seconds() // 3600)


def _transition(run: AnonymisationRun, method: Callable[[], None]) -> None:
    if not can_proceed(method):
        raise ValidationError(out_of_order_message(run))
    try:
        method()
    except TransitionNotAllowed as error:
        raise ValidationError(out_of_order_message(run)) from error
