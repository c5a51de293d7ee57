"""An import whose process dies never stays "running", and finishing an import
(or running it again) leaves every month of the rows it read correct (issue
15, defect 9). The real killed worker is tests/procedures/test_import_worker.py."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from billiard.exceptions import WorkerLostError
from celery.signals import task_failure
from django.utils import timezone

from procedures import importer
from procedures.importer import run_import
from procedures.models import (
    CaseRecord,
    ImportRun,
    ImportSource,
    ImportStatus,
    PeriodKind,
    Procedure,
    UnitMetric,
)
from procedures.tasks import import_cases_task, imports_interrupt_stale_task
from tests.procedures.test_importer import case, csv_bytes
from tests.wording import vi


@pytest.fixture
def catalogue(org):
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")


pytestmark = pytest.mark.usefixtures("catalogue")


def running(*, silent_for: timedelta, **fields) -> ImportRun:
    """A run its process left RUNNING, last heard from ``silent_for`` ago."""
    then = timezone.now() - silent_for
    return ImportRun.objects.create(
        source=ImportSource.UPLOAD,
        file_name="a.csv",
        status=ImportStatus.RUNNING,
        started_at=then - timedelta(minutes=1),
        heartbeat_at=then,
        **fields,
    )


def new_run(**fields) -> ImportRun:
    return ImportRun.objects.create(
        source=ImportSource.COMMAND, file_name="cases.csv", **fields
    )


def silent_since() -> tuple[str, str]:
    """The words of an interrupted run's error before and after its time."""
    before, after = vi(
        "No sign of life from the process running this import since %(time)s (it was "
        "stopped or ran out of memory). Rows of the batches committed before stay; "
        "importing the file again is safe."
    ).split("%(time)s")
    return before, after


def test_the_next_import_marks_a_silent_run_interrupted(settings):
    settings.IMPORT_RUN_STALE_SECONDS = 600
    dead = running(silent_for=timedelta(minutes=11))
    alive = running(silent_for=timedelta(minutes=2))
    run_import(new_run(), io.BytesIO(csv_bytes(case("HS-1"))))
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ImportStatus.INTERRUPTED
    assert dead.finished_at is not None
    before, after = silent_since()
    assert dead.error.startswith(before)
    assert dead.error.endswith(after)
    assert alive.status == ImportStatus.RUNNING


def test_the_beat_task_marks_a_silent_run_interrupted(settings):
    settings.IMPORT_RUN_STALE_SECONDS = 600
    dead = running(silent_for=timedelta(hours=3))
    assert imports_interrupt_stale_task.delay().get() == 1
    dead.refresh_from_db()
    assert dead.status == ImportStatus.INTERRUPTED


def test_the_progress_page_says_a_silent_run_is_interrupted(
    client, commune_staff, settings
):
    settings.IMPORT_RUN_STALE_SECONDS = 600
    dead = running(silent_for=timedelta(minutes=30), user=commune_staff)
    client.force_login(commune_staff)
    data = client.get(f"/imports/{dead.pk}/progress/").json()
    assert (data["status"], data["finished"]) == ("interrupted", True)
    page = client.get(f"/imports/{dead.pk}/")
    assert 'data-status="interrupted"' in page.content.decode()
    before, after = silent_since()
    assert before in page.content.decode()
    assert after in page.content.decode()


def test_a_run_that_beats_is_left_running(client, commune_staff, settings):
    settings.IMPORT_RUN_STALE_SECONDS = 600
    alive = running(silent_for=timedelta(seconds=5), user=commune_staff)
    client.force_login(commune_staff)
    data = client.get(f"/imports/{alive.pk}/progress/").json()
    assert (data["status"], data["finished"]) == ("running", False)


def test_a_run_beats_between_batches(monkeypatch):
    """The loading thread writes the sign of life and the rows read (SQLite;
    on PostgreSQL a thread of its own does)."""
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    monkeypatch.setattr(importer, "PULSE_SECONDS", 0)
    beats = []
    write = importer._Pulse.write

    def spy(pulse):
        write(pulse)
        beats.append(ImportRun.objects.get(pk=pulse.run_id).rows_done)

    monkeypatch.setattr(importer._Pulse, "write", spy)
    run = run_import(
        new_run(), io.BytesIO(csv_bytes(*(case(f"HS-{n}") for n in range(5))))
    )
    assert run.status == ImportStatus.SUCCEEDED
    assert beats == [2, 4, 5]
    assert run.heartbeat_at is not None


def test_an_import_stopped_from_outside_is_marked_interrupted(monkeypatch):
    """Ctrl-C on the command, or the worker shutting down: what was committed
    stays and the run says it was stopped."""
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    load = importer._load
    calls = []

    def stopping(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return load(*args, **kwargs)

    monkeypatch.setattr(importer, "_load", stopping)
    run = new_run()
    with pytest.raises(KeyboardInterrupt):
        run_import(run, io.BytesIO(csv_bytes(*(case(f"HS-{n}") for n in range(5)))))
    run.refresh_from_db()
    assert run.status == ImportStatus.INTERRUPTED
    assert run.rows_new == 2
    assert CaseRecord.objects.count() == 2


@pytest.mark.parametrize("status", [ImportStatus.PENDING, ImportStatus.RUNNING])
def test_a_lost_worker_marks_its_upload_interrupted_at_once(status):
    """Celery's main process reports a child that died (killed, out of
    memory) as a task failure with WorkerLostError."""
    run = ImportRun.objects.create(
        source=ImportSource.UPLOAD,
        file_name="a.csv",
        status=status,
        started_at=timezone.now() if status == ImportStatus.RUNNING else None,
    )
    task_failure.send(
        sender=import_cases_task,
        task_id="x",
        exception=WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)."),
        args=[run.pk],
        kwargs={},
    )
    run.refresh_from_db()
    assert run.status == ImportStatus.INTERRUPTED
    assert run.finished_at >= run.started_at


def test_a_failure_inside_the_task_is_left_as_the_run_recorded_it():
    run = ImportRun.objects.create(
        source=ImportSource.UPLOAD, file_name="a.csv", status=ImportStatus.FAILED
    )
    task_failure.send(
        sender=import_cases_task,
        task_id="x",
        exception=ValueError("bad"),
        args=[run.pk],
        kwargs={},
    )
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED


def test_a_redelivered_task_does_not_take_up_an_interrupted_run():
    """Its file may be older than what was imported since."""
    run = ImportRun.objects.create(
        source=ImportSource.UPLOAD,
        file_name="a.csv",
        status=ImportStatus.INTERRUPTED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    import_cases_task.delay(run.pk)
    run.refresh_from_db()
    assert run.status == ImportStatus.INTERRUPTED


# --- months --------------------------------------------------------------------


def month(unit, number):
    return UnitMetric.objects.filter(
        unit=unit, period_kind=PeriodKind.MONTH, year=2025, number=number
    ).first()


def test_a_rerun_of_unchanged_rows_puts_their_months_right(
    org, django_capture_on_commit_callbacks
):
    """The first run was killed between loading and recomputing (here: its
    figures lost): importing the same file again, every row unchanged, still
    recomputes the months of the rows it read."""
    data = csv_bytes(
        case("HS-1"),
        case("HS-2", received_at="05/03/2025 08:00"),
        case("HS-3", unit="CITY-B", received_at="15/01/2025 09:00"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_import(new_run(), io.BytesIO(data))
    assert month(org.commune_a, 3).received == 2
    UnitMetric.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        again = run_import(new_run(), io.BytesIO(data))
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    assert month(org.commune_a, 3).received == 2
    assert month(org.commune_b, 1).received == 1


def test_a_failed_run_still_recomputes_the_months_it_committed(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    load = importer._load
    calls = []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return load(*args, **kwargs)

    monkeypatch.setattr(importer, "_load", crashing)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        run_import(
            new_run(), io.BytesIO(csv_bytes(*(case(f"HS-{n}") for n in range(4))))
        )
    assert CaseRecord.objects.count() == 2
    assert month(org.commune_a, 3).received == 2
