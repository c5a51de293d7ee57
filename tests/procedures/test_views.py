"""The upload page of the case-record import, the run's page, its progress and
its error report, through the client as each role sees them."""

import csv
import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

import procedures.tasks
from cchc_portal import queue
from procedures.models import (
    CaseRecord,
    ImportRun,
    ImportSource,
    ImportStatus,
    Procedure,
)
from tests.procedures.test_importer import case, csv_bytes
from tests.wording import vi, vi_n


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def catalogue(db):
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")


def upload(client, data, *, name="mot_cua.csv", atomic=False, capture):
    """POST the file to /imports/new/ and run what is enqueued on commit."""
    payload = {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
    if atomic:
        payload["atomic"] = "on"
    with capture(execute=True):
        return client.post("/imports/new/", payload)


def counts(run):
    return (run.rows_total, run.rows_new, run.rows_rejected)


def test_staff_upload_runs_the_import_and_the_page_shows_the_counts(
    client, commune_staff, django_capture_on_commit_callbacks
):
    client.force_login(commune_staff)
    response = upload(
        client,
        csv_bytes(case("HS-1"), case("HS-2")),
        capture=django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{run.pk}/"
    assert run.source == ImportSource.UPLOAD
    assert run.user == commune_staff
    assert run.file_name == "mot_cua.csv"
    assert run.status == ImportStatus.SUCCEEDED
    assert counts(run) == (2, 2, 0)
    assert CaseRecord.objects.filter(last_import=run).count() == 2

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="import-summary"' in html
    assert '<td data-count="total">2</td>' in html
    assert '<td data-count="new">2</td>' in html
    assert '<td data-count="rejected">0</td>' in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing
    assert "import_progress.js" not in html


def test_the_task_is_enqueued_only_once_the_run_is_committed(
    client, commune_staff, django_capture_on_commit_callbacks
):
    """Until the transaction commits, the run is pending and its page shows a
    progress bar that refreshes itself (JavaScript or not)."""
    client.force_login(commune_staff)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            "/imports/new/",
            {"file": SimpleUploadedFile("a.csv", csv_bytes(case("HS-1")))},
        )
    assert len(callbacks) == 1
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.PENDING
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert f'data-progress-url="/imports/{run.pk}/progress/"' in html
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "import_progress.js" in html
    assert 'data-testid="import-summary"' not in html

    callbacks[0]()
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED


def test_a_row_for_another_unit_is_rejected_and_reported(
    client, commune_staff, django_capture_on_commit_callbacks
):
    """Staff import only for their own unit: commune B's row is rejected, with
    the row number, the column and the code in the run's page."""
    client.force_login(commune_staff)
    upload(
        client,
        csv_bytes(case("HS-1"), case("HS-2", unit="CITY-B")),
        capture=django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    assert counts(run) == (2, 1, 1)
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [
        (2, "unit_code", "CITY-B")
    ]
    assert not CaseRecord.objects.filter(unit__code="CITY-B").exists()
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert 'data-testid="import-errors"' in html
    assert '<td class="code">unit_code</td><td>CITY-B</td>' in html
    # The rows are counted as in every import door: from 1 below the header.
    assert (
        vi(
            "Rows are counted from the first row below the header: row 1 is the first "
            "record."
        )
        in html
    )
    assert f'href="/imports/{run.pk}/errors.csv"' in html


def test_a_city_reviewer_may_import_for_both_communes(
    client, city_reviewer, django_capture_on_commit_callbacks
):
    client.force_login(city_reviewer)
    upload(
        client,
        csv_bytes(case("HS-1"), case("HS-2", unit="CITY-B"), case("HS-3", "PROV")),
        capture=django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    assert counts(run) == (3, 2, 1)
    assert set(CaseRecord.objects.values_list("unit__code", flat=True)) == {
        "CITY-A",
        "CITY-B",
    }
    assert run.errors[0]["value"] == "PROV"  # above the city: not its jurisdiction


def test_all_or_nothing_imports_nothing_when_a_row_is_rejected(
    client, commune_staff, django_capture_on_commit_callbacks
):
    client.force_login(commune_staff)
    upload(
        client,
        csv_bytes(case("HS-1"), case("HS-2", unit="CITY-B")),
        atomic=True,
        capture=django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    assert run.atomic
    assert run.status == ImportStatus.FAILED
    assert not CaseRecord.objects.exists()
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert 'role="alert"' in html  # why nothing was imported


def test_an_unreadable_file_fails_the_run_and_says_why(
    client, commune_staff, django_capture_on_commit_callbacks
):
    client.force_login(commune_staff)
    upload(
        client,
        b"just some words\n",
        capture=django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert run.error
    assert run.error in client.get(f"/imports/{run.pk}/").content.decode()


@pytest.mark.parametrize("persona", ["leader", "no_unit_user"])
@pytest.mark.parametrize("url", ["/imports/new/", "/imports/"])
def test_leaders_and_accounts_without_a_unit_role_get_404(
    client, request, persona, url
):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == 404
    response = client.post("/imports/new/", {"file": SimpleUploadedFile("a.csv", b"x")})
    assert response.status_code == 404
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    "persona", ["commune_staff", "commune_head", "city_reviewer", "superuser"]
)
def test_the_upload_form_explains_the_columns_and_who_may_import(
    client, request, persona
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/imports/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    for header in ("case_code", "ma_ho_so", "unit_code", "ma_don_vi", "can_bo_xu_ly"):
        assert f'<td class="code">{header}</td>' in html
    assert 'name="atomic"' in html


def test_anonymous_visitors_are_sent_to_login(client, org):
    for url in (
        "/imports/",
        "/imports/new/",
        "/imports/1/",
        "/imports/1/progress/",
        "/imports/1/errors.csv",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


@pytest.fixture
def staff_run(commune_staff):
    return ImportRun.objects.create(
        source=ImportSource.UPLOAD,
        user=commune_staff,
        file_name="a.csv",
        status=ImportStatus.SUCCEEDED,
        rows_total=1,
        rows_rejected=1,
        errors=[{"row": 2, "column": "unit_code", "value": "CITY-B", "message": "No."}],
    )


@pytest.mark.parametrize(
    "suffix", ["", "progress/", "errors.csv"], ids=["detail", "progress", "errors"]
)
def test_another_users_run_answers_404(client, other_commune_staff, staff_run, suffix):
    client.force_login(other_commune_staff)
    assert client.get(f"/imports/{staff_run.pk}/{suffix}").status_code == 404
    assert client.get(f"/imports/{staff_run.pk + 1}/{suffix}").status_code == 404


@pytest.mark.parametrize(
    "suffix", ["", "progress/", "errors.csv"], ids=["detail", "progress", "errors"]
)
def test_a_superuser_may_open_any_run(client, superuser, staff_run, suffix):
    client.force_login(superuser)
    assert client.get(f"/imports/{staff_run.pk}/{suffix}").status_code == 200


def test_the_list_shows_only_the_users_own_runs(
    client, commune_staff, other_commune_staff, superuser, staff_run
):
    other = ImportRun.objects.create(
        source=ImportSource.UPLOAD, user=other_commune_staff, file_name="b.csv"
    )
    client.force_login(commune_staff)
    assert list(client.get("/imports/").context["page"]) == [staff_run]
    client.force_login(superuser)
    assert list(client.get("/imports/").context["page"]) == [other, staff_run]


def test_the_list_query_count_does_not_grow_with_runs(
    client, commune_staff, django_assert_max_num_queries
):
    for n in range(30):
        ImportRun.objects.create(
            source=ImportSource.UPLOAD, user=commune_staff, file_name=f"{n}.csv"
        )
    client.force_login(commune_staff)
    with django_assert_max_num_queries(8):
        response = client.get("/imports/")
    assert len(response.context["page"]) == 30


def test_errors_csv_has_a_bom_the_header_and_defuses_formulas(
    client, commune_staff, django_capture_on_commit_callbacks
):
    """Excel opens it as UTF-8, and a value that would be a formula is text."""
    client.force_login(commune_staff)
    upload(
        client,
        csv_bytes(case("HS-1", unit="=1+2"), case("HS-2", unit="Hưng Đạo")),
        capture=django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    response = client.get(f"/imports/{run.pk}/errors.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "value", "message"]
    assert rows[1][:3] == ["1", "unit_code", "'=1+2"]
    assert rows[2][:3] == ["2", "unit_code", "Hưng Đạo"]
    assert "Hưng Đạo" in rows[2][3]


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_every_formula_start_is_quoted_in_the_error_report(
    client, commune_staff, staff_run, start
):
    staff_run.errors = [
        {"row": 2, "column": "officer", "value": f"{start}X", "message": f"{start}Y"}
    ]
    staff_run.save(update_fields=["errors"])
    client.force_login(commune_staff)
    body = client.get(f"/imports/{staff_run.pk}/errors.csv").content.decode()
    assert body.splitlines()[1] == f"2,officer,'{start}X,'{start}Y"


def test_an_oversized_file_is_refused_with_a_form_error(
    client, commune_staff, settings, django_capture_on_commit_callbacks
):
    settings.CASE_IMPORT_MAX_UPLOAD_BYTES = 100
    client.force_login(commune_staff)
    response = upload(
        client,
        csv_bytes(case("HS-1")),
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportRun.objects.exists()


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(
    client, commune_staff, django_capture_on_commit_callbacks
):
    client.force_login(commune_staff)
    response = upload(
        client,
        b"%PDF-1.7",
        name="scan.pdf",
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportRun.objects.exists()


def test_progress_json_has_the_fields(client, commune_staff):
    run = ImportRun.objects.create(
        source=ImportSource.UPLOAD,
        user=commune_staff,
        file_name="a.csv",
        status=ImportStatus.RUNNING,
        rows_expected=40_000,
        rows_done=20_000,
    )
    client.force_login(commune_staff)
    response = client.get(f"/imports/{run.pk}/progress/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    data = response.json()
    assert data["status"] == "running"
    assert data["status_label"]
    assert (data["rows_done"], data["rows_expected"]) == (20_000, 40_000)
    assert data["counts"] == {
        "total": 0,
        "new": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert data["finished"] is False


def test_progress_json_of_a_finished_run(client, commune_staff, staff_run):
    client.force_login(commune_staff)
    data = client.get(f"/imports/{staff_run.pk}/progress/").json()
    assert data["finished"] is True
    assert data["counts"]["rejected"] == 1


@pytest.mark.parametrize(
    ("persona", "listed"),
    [
        ("commune_staff", True),
        ("commune_head", True),
        ("city_reviewer", True),
        ("superuser", True),
        ("leader", False),
    ],
)
def test_the_menu_offers_imports_to_those_who_may_upload(
    client, request, persona, listed
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/imports/new/" if listed else "/units/")
    keys = [item.key for item in response.context["nav_items"]]
    assert ("imports" in keys) is listed


@pytest.mark.django_db(transaction=True)
def test_in_process_the_upload_answers_before_the_import_runs(
    client, commune_staff, settings, monkeypatch, request
):
    """The quick start (no broker): the import runs on the process's
    background thread after the upload's commit, not inside the request,
    so the page answers at once and shows the progress."""
    settings.TASKS_IN_BACKGROUND = True
    started, release = threading.Event(), threading.Event()
    # A failing test does not leave the import waiting.
    request.addfinalizer(release.set)
    ran_on = []
    real = procedures.tasks.run_import_by_id

    def held(run_id):
        ran_on.append(threading.current_thread().name)
        started.set()
        assert release.wait(30)
        real(run_id)

    monkeypatch.setattr(procedures.tasks, "run_import_by_id", held)
    client.force_login(commune_staff)
    response = client.post(
        "/imports/new/",
        {"file": SimpleUploadedFile("a.csv", csv_bytes(case("HS-1")), "text/csv")},
    )
    assert response.status_code == 302
    assert started.wait(10)
    run = ImportRun.objects.get()
    # The request has answered while the import still waits to start.
    assert run.status == ImportStatus.PENDING
    assert client.get(f"/imports/{run.pk}/progress/").status_code == 200
    release.set()
    queue.background_wait()
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED
    assert ran_on[0].startswith("cchc-tasks")


VIETNAMESE_HEADER = (
    "ma_ho_so,ma_thu_tuc,ma_don_vi,ngay_tiep_nhan,ngay_hen_tra,ngay_hoan_thanh,"
    "trang_thai,kenh,so_hoa,co_phi,thanh_toan_truc_tuyen,so_lan_bo_sung,danh_gia,"
    "phan_anh,can_bo_xu_ly"
)


def test_a_finished_import_with_rejected_rows_says_so_and_names_the_files_columns(
    client, commune_staff, django_capture_on_commit_callbacks
):
    """ "Hoàn thành, 2 dòng bị từ chối" on the run's page, the list and the
    progress; each rejected column named as the file's header named it."""
    client.force_login(commune_staff)
    upload(
        client,
        csv_bytes(
            case("HS-1"),
            case("HS-2", finished_at="31/02/2025 10:00"),
            case("HS-3", unit="CITY-B"),
            header=VIETNAMESE_HEADER,
        ),
        capture=django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED
    assert [(e["row"], e["column"]) for e in run.errors] == [
        (2, "ngay_hoan_thanh"),
        (3, "ma_don_vi"),
    ]
    label = vi_n(
        "Completed, %(count)s row rejected", "Completed, %(count)s rows rejected", 2
    ) % {"count": 2}
    assert label.startswith("Hoàn thành, 2 ")
    detail = client.get(f"/imports/{run.pk}/").content.decode()
    assert f'class="warning">{label}</dd>' in detail
    assert '<td class="code">ngay_hoan_thanh</td>' in detail
    assert label in client.get("/imports/").content.decode()
    progress = client.get(f"/imports/{run.pk}/progress/").json()
    assert progress["status_label"] == label
    report = client.get(f"/imports/{run.pk}/errors.csv").content.decode("utf-8-sig")
    assert "ma_don_vi" in report
    assert "ngay_hoan_thanh" in report
    # Nothing rejected: the plain status.
    run.rows_rejected = 0
    with translation.override("vi"):
        assert run.status_label == vi("Completed")
