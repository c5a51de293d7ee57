"""Uploading a one-stop-shop export in the browser: the run's page follows the
import to its end, then shows the summary and the rejected rows, whose report
downloads as CSV."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

import procedures.tasks
from cchc_portal import queue
from procedures.models import ImportRun, ImportSource, ImportStatus, Procedure
from tests.procedures.test_importer import case, csv_bytes
from tests.wording import vi_n

pytestmark = pytest.mark.browser

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]


@pytest.fixture(autouse=True)
def eager_tasks(settings) -> Iterator[None]:
    """The import runs in the live server's process even where REDIS_URL is set
    (CI): the Celery app read its configuration once, so set it there too."""
    from cchc_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_staff_upload_shows_progress_summary_and_error_report(
    demo_province: None,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    """Phường Phả Lại's staff upload a file with a row of their own ward and one
    of Xã Hưng Đạo: the first is imported, the second rejected and reported."""
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")
    export = tmp_path / "mot_cua_thang_3.csv"
    export.write_bytes(
        csv_bytes(
            case("HS-PL-1", unit="HD-CL-PHALAI"),
            case("HS-HD-1", unit="HD-CL-HUNGDAO"),
        )
    )
    log_in("canbo.phalai")
    expect(page.locator("[data-testid=main-nav] [data-nav=imports]")).to_be_visible()

    page.goto(f"{live_server.url}/imports/new/")
    expect(page.get_by_test_id("import-columns")).to_contain_text("ma_ho_so")
    page.locator("#id_file").set_input_files(export)
    screenshot("canbo.phalai-form")
    with page.expect_navigation():
        page.get_by_test_id("import-form").locator("button[type=submit]").click()

    run = ImportRun.objects.get(source=ImportSource.UPLOAD)
    expect(page).to_have_url(f"{live_server.url}/imports/{run.pk}/")
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("[data-count=new]")).to_have_text("1")
    expect(summary.locator("[data-count=rejected]")).to_have_text("1")
    bar = page.get_by_test_id("import-progress").locator("progress")
    expect(bar).to_have_attribute("max", "2")
    expect(bar).to_have_attribute("value", "2")
    errors = page.get_by_test_id("import-errors")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr")).to_contain_text("HD-CL-HUNGDAO")
    screenshot("canbo.phalai-run")

    with page.expect_download() as download_info:
        page.get_by_test_id("import-errors-download").click()
    download = download_info.value
    assert download.suggested_filename == f"import-{run.pk}-errors.csv"
    report = Path(download.path()).read_bytes()
    assert report.startswith(b"\xef\xbb\xbf")
    assert "HD-CL-HUNGDAO" in report.decode("utf-8-sig")

    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED
    assert (run.rows_new, run.rows_rejected) == (1, 1)

    page.locator("[data-testid=main-nav] [data-nav=imports]").click()
    expect(page.get_by_test_id("import-list")).to_contain_text("mot_cua_thang_3.csv")
    screenshot("canbo.phalai-list")


def test_the_progress_bar_follows_a_running_import(
    demo_province: None,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
) -> None:
    """While the worker runs, the page polls the run and moves the bar; when
    the run ends the page reloads with the summary."""
    log_in("canbo.phalai")
    run = ImportRun.objects.create(
        source=ImportSource.UPLOAD,
        user=get_user_model().objects.get(username="canbo.phalai"),
        file_name="lon.csv",
        status=ImportStatus.RUNNING,
        rows_expected=40_000,
        rows_done=0,
    )
    page.goto(f"{live_server.url}/imports/{run.pk}/")
    bar = page.get_by_test_id("import-progress").locator("progress")
    expect(bar).to_have_attribute("value", "0")
    expect(page.get_by_test_id("import-summary")).to_have_count(0)

    ImportRun.objects.filter(pk=run.pk).update(rows_done=20_000)
    expect(bar).to_have_js_property("value", 20_000)
    # The counts as Vietnamese writes them, while the bar moves.
    progress = page.get_by_test_id("import-progress")
    expect(progress.locator("[data-field=rows_done]")).to_have_text("20.000")
    expect(progress.locator("[data-field=rows_expected]")).to_have_text("40.000")
    screenshot("canbo.phalai-running")

    run.refresh_from_db()
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.SUCCEEDED,
        started_at=run.created_at,
        finished_at=run.created_at,
        rows_done=40_000,
        rows_total=40_000,
        rows_new=40_000,
    )
    expect(page.get_by_test_id("import-summary")).to_be_visible()
    expect(page.locator("[data-count=new]")).to_have_text("40.000")


def test_in_the_quick_start_the_upload_answers_at_once_and_follows_the_import(
    demo_province: None,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """No broker (the quick start): the import runs on the background thread,
    so the upload lands on the run's page while the import is still to run;
    the page follows it and ends on the summary, labelled with the rows it
    rejected."""
    settings.TASKS_IN_BACKGROUND = True
    release = threading.Event()
    # A failing test does not leave the import waiting.
    request.addfinalizer(release.set)
    real = procedures.tasks.run_import_by_id

    def held(run_id: int) -> None:
        assert release.wait(30)
        real(run_id)

    monkeypatch.setattr(procedures.tasks, "run_import_by_id", held)
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")
    export = tmp_path / "mot_cua_thang_4.csv"
    export.write_bytes(
        csv_bytes(
            case("HS-PL-2", unit="HD-CL-PHALAI"),
            case("HS-HD-2", unit="HD-CL-HUNGDAO"),
        )
    )
    log_in("canbo.phalai")
    page.goto(f"{live_server.url}/imports/new/")
    page.locator("#id_file").set_input_files(export)
    with page.expect_navigation():
        page.get_by_test_id("import-form").locator("button[type=submit]").click()

    run = ImportRun.objects.get(source=ImportSource.UPLOAD)
    expect(page).to_have_url(f"{live_server.url}/imports/{run.pk}/")
    # Answered before the import ran: the page waits with its progress bar.
    status = page.get_by_test_id("import-status")
    expect(status).to_have_attribute("data-status", ImportStatus.PENDING)
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    expect(page.get_by_test_id("import-summary")).to_have_count(0)

    release.set()
    expect(page.get_by_test_id("import-summary")).to_be_visible()
    label = vi_n(
        "Completed, %(count)s row rejected", "Completed, %(count)s rows rejected", 1
    ) % {"count": 1}
    expect(page.get_by_test_id("import-status")).to_have_text(label)
    queue.background_wait()
