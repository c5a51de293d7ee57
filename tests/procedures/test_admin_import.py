"""Case records imported in the admin (django-import-export) from a small file:
preview with row errors, confirmation, updates by case code, and the figures
recomputed afterwards."""

from datetime import UTC, datetime
from functools import partial

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from procedures import resources
from procedures.models import (
    CaseRecord,
    DossierStatus,
    ImportRun,
    ImportSource,
    PeriodKind,
    Procedure,
    UnitMetric,
)
from procedures.parsing import LOCAL_TZ
from tests.procedures.test_importer import HEADER, VI_HEADER, case
from tests.wording import vi

IMPORT_URL = "/admin/procedures/caserecord/import/"
CONFIRM_URL = "/admin/procedures/caserecord/process_import/"


@pytest.fixture(autouse=True)
def catalogue(db):
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")


def csv_text(*lines, header=HEADER):
    return "\n".join([header, *lines]) + "\n"


def preview(client, text, name="sua_ho_so.csv"):
    return client.post(
        IMPORT_URL,
        {
            "resource": "0",
            "format": "0",  # CSV, the first of SpreadsheetAdmin.formats
            "import_file": SimpleUploadedFile(name, text.encode("utf-8-sig")),
        },
    )


def confirm(client, response, capture):
    """Confirm the previewed import and run what is enqueued on commit."""
    form = response.context["confirm_form"]
    assert form is not None, "the preview offers no confirmation"
    with capture(execute=True) as callbacks:
        answer = client.post(
            CONFIRM_URL, {name: form.initial[name] for name in form.fields}
        )
    assert answer.status_code == 302
    return callbacks


def row_errors(response):
    """Field → messages of every invalid row in the preview."""
    result = response.context["result"]
    return [
        {
            field: [str(m) for m in messages]
            for field, messages in row.error_dict.items()
        }
        for row in result.invalid_rows
    ]


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


def test_preview_then_confirm_imports_the_rows_and_recomputes_the_figures(
    client, org, superuser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    text = csv_text(
        case("HS-1"),
        case(
            "HS-2",
            unit="CITY-B",
            received_at="2025-01-01 06:00",
            due_at="2025-01-03T17:00:00+07:00",
            finished_at="",
            status="dang_xu_ly",
            officer=" Trần Thị B ",
        ),
    )
    response = preview(client, text)
    assert response.status_code == 200
    assert not response.context["result"].has_errors()
    assert not CaseRecord.objects.exists()  # the preview writes nothing

    callbacks = confirm(client, response, django_capture_on_commit_callbacks)
    # One recompute for the whole file (and the new generation of the
    # figures it stored, procedures.metrics.FIGURES).
    recomputes = [c for c in callbacks if "recompute_metrics" in c.__qualname__]
    assert len(recomputes) == 1

    first = CaseRecord.objects.select_related("unit", "procedure").get(case_code="HS-1")
    assert first.unit == org.commune_a
    assert first.procedure.code == "P1"
    assert first.received_at == local(2025, 3, 2, 8)
    assert first.finished_at == local(2025, 3, 9, 10)
    assert first.status == DossierStatus.RETURNED
    assert (first.digitized, first.fee_required, first.paid_online) == (True,) * 3
    second = CaseRecord.objects.get(case_code="HS-2")
    assert second.received_at == datetime(2024, 12, 31, 23, tzinfo=UTC)
    assert second.finished_at is None
    assert second.officer == "Trần Thị B"

    # The figures of the months touched, in local time: March for Phường A,
    # January 2025 (not December 2024) for Xã B.
    march = UnitMetric.objects.get(
        unit=org.commune_a, period_kind=PeriodKind.MONTH, year=2025, number=3
    )
    assert (march.received, march.on_time) == (1, 1)
    january = UnitMetric.objects.get(
        unit=org.commune_b, period_kind=PeriodKind.MONTH, year=2025, number=1
    )
    assert january.received == 1
    assert not UnitMetric.objects.filter(unit=org.commune_b, year=2024).exists()


def test_importing_the_same_file_again_changes_nothing(
    client, org, superuser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    text = csv_text(case("HS-1"), case("HS-2"))
    confirm(client, preview(client, text), django_capture_on_commit_callbacks)
    before = list(CaseRecord.objects.order_by("pk").values())

    response = preview(client, text)
    totals = response.context["result"].totals
    assert (totals["new"], totals["update"], totals["skip"]) == (0, 0, 2)
    callbacks = confirm(client, response, django_capture_on_commit_callbacks)
    assert callbacks == []  # nothing changed, nothing to recompute
    assert list(CaseRecord.objects.order_by("pk").values()) == before


def test_a_later_export_updates_the_dossier_and_both_months(
    client, org, superuser, django_capture_on_commit_callbacks, monkeypatch
):
    """A dossier moved from March to April: both months are recomputed, and the
    row no longer claims the engine run that last wrote it."""
    run = ImportRun.objects.create(source=ImportSource.COMMAND)
    client.force_login(superuser)
    confirm(
        client,
        preview(client, csv_text(case("HS-1"))),
        django_capture_on_commit_callbacks,
    )
    CaseRecord.objects.update(last_import=run)
    seen = []
    monkeypatch.setattr(
        "procedures.tasks.recompute_metrics_task.delay",
        lambda affected: seen.append(affected),
    )

    moved = case(
        "HS-1",
        received_at="02/04/2025 08:00",
        due_at="10/04/2025 17:00",
        finished_at="12/04/2025 10:00",
    )
    response = preview(client, csv_text(moved))
    assert response.context["result"].totals["update"] == 1
    confirm(client, response, django_capture_on_commit_callbacks)

    record = CaseRecord.objects.get(case_code="HS-1")
    assert record.received_at == local(2025, 4, 2, 8)
    assert record.last_import is None
    assert seen == [[[org.commune_a.pk, 2025, 3], [org.commune_a.pk, 2025, 4]]]


def test_a_bad_date_is_a_row_error_and_nothing_can_be_confirmed(client, org, superuser):
    client.force_login(superuser)
    response = preview(
        client, csv_text(case("HS-1"), case("HS-2", received_at="31/02/2025 08:00"))
    )
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    (errors,) = row_errors(response)
    assert "received_at" in errors
    assert "31/02/2025 08:00" in errors["received_at"][0]
    assert not CaseRecord.objects.exists()


def test_an_unknown_unit_is_a_row_error(client, org, superuser):
    client.force_login(superuser)
    response = preview(client, csv_text(case("HS-1", unit="NOWHERE")))
    assert response.context.get("confirm_form") is None
    (errors,) = row_errors(response)
    assert "NOWHERE" in errors["unit"][0]
    assert "NOWHERE" in response.content.decode()


# The catalogue's wording, read when the test runs rather than at collection.
DUE_BEFORE = partial(vi, "The due date is before the receipt date.")
FINISHED_BEFORE = partial(vi, "The finish date is before the receipt date.")
NO_FINISH = partial(vi, "A finished, returned or rejected case needs its finish date.")
BLANK = partial(vi, "This column is required.")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        # The database's check constraints, validated row by row.
        (
            {"due_at": "01/03/2025 08:00"},
            "__all__",
            DUE_BEFORE,
        ),
        (
            {"finished_at": "01/03/2025 08:00"},
            "__all__",
            FINISHED_BEFORE,
        ),
        ({"status": "da_tra_ket_qua", "finished_at": ""}, "finished_at", NO_FINISH),
        ({"status": "xong"}, "status", "xong"),
        ({"channel": ""}, "channel", BLANK),
        ({"digitized": "maybe"}, "digitized", "maybe"),
        ({"supplement_requests": "-1"}, "supplement_requests", "-1"),
        ({"procedure_code": "P9"}, "procedure", "P9"),
    ],
)
def test_invalid_values_are_row_errors(
    client, org, superuser, overrides, field, message
):
    client.force_login(superuser)
    response = preview(client, csv_text(case("HS-1", **overrides)))
    assert response.context.get("confirm_form") is None
    (errors,) = row_errors(response)
    assert field in errors, errors
    assert (message() if callable(message) else message) in " ".join(errors[field])
    assert not CaseRecord.objects.exists()


def test_a_case_code_twice_in_the_file_is_refused(client, org, superuser):
    client.force_login(superuser)
    response = preview(client, csv_text(case("HS-1"), case("HS-1", unit="CITY-B")))
    assert response.context.get("confirm_form") is None


def test_vietnamese_headers_and_values_are_read(
    client, org, superuser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    response = preview(
        client,
        csv_text(case("HS-1", digitized="có", complaint="không"), header=VI_HEADER),
    )
    confirm(client, response, django_capture_on_commit_callbacks)
    record = CaseRecord.objects.get()
    assert record.digitized is True
    assert record.complaint is False


def test_a_big_file_is_sent_to_the_import_page(client, org, superuser, monkeypatch):
    monkeypatch.setattr(resources, "ADMIN_IMPORT_MAX_ROWS", 2)
    client.force_login(superuser)
    response = preview(client, csv_text(case("HS-1"), case("HS-2"), case("HS-3")))
    result = response.context["result"]
    assert result.has_errors()
    assert result.totals["new"] == 0  # no row was even read
    assert "import_cases" in response.content.decode()
    assert response.context.get("confirm_form") is None
    assert not CaseRecord.objects.exists()


def test_the_import_page_says_it_is_for_small_files(client, org, superuser):
    client.force_login(superuser)
    html = client.get(IMPORT_URL).content.decode()
    assert 'data-testid="case-import-note"' in html
    assert "5000" in html.replace(".", "").replace(",", "")


def test_the_change_form_stays_read_only(
    client, org, superuser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    confirm(
        client,
        preview(client, csv_text(case("HS-1"))),
        django_capture_on_commit_callbacks,
    )
    record = CaseRecord.objects.get()
    page = client.get(f"/admin/procedures/caserecord/{record.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    changelist = client.get("/admin/procedures/caserecord/").content.decode()
    assert IMPORT_URL in changelist
    assert "/admin/procedures/caserecord/add/" not in changelist


def test_export_writes_the_interchange_columns(
    client, org, superuser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    text = csv_text(case("HS-1"))
    confirm(client, preview(client, text), django_capture_on_commit_callbacks)
    dataset = resources.CaseRecordResource().export()
    assert dataset.headers == HEADER.split(",")
    (row,) = dataset.dict
    assert row["unit_code"] == "CITY-A"
    assert row["received_at"] == "02/03/2025 08:00:00"
    assert row["digitized"] == "1"
    # What was exported imports back unchanged.
    response = preview(client, dataset.csv)
    assert response.context["result"].totals["skip"] == 1


def test_staff_accounts_cannot_import(client, commune_staff):
    client.force_login(commune_staff)
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def export(client):
    form = client.get("/admin/procedures/caserecord/export/").context["form"]
    data = {"format": "0", "resource": "0"}
    data.update({name: "on" for name in form.fields if name.startswith("caserecord")})
    return client.post("/admin/procedures/caserecord/export/", data)


def test_admin_export_of_a_filtered_list(
    client, org, superuser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    confirm(
        client,
        preview(client, csv_text(case("HS-1"), case("HS-2"))),
        django_capture_on_commit_callbacks,
    )
    response = export(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 3


def test_admin_export_refuses_a_list_too_long_for_memory(
    client, org, superuser, django_capture_on_commit_callbacks, monkeypatch
):
    from procedures import admin

    client.force_login(superuser)
    confirm(
        client,
        preview(client, csv_text(case("HS-1"), case("HS-2"))),
        django_capture_on_commit_callbacks,
    )
    monkeypatch.setattr(admin, "ADMIN_EXPORT_MAX_ROWS", 1)
    response = export(client)
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    messages = [str(m) for m in response.context["messages"]]
    too_many = vi(
        "The list holds %(rows)s case records; the administration exports at most "
        "%(limit)s. Filter the list first (date, status, channel, search)."
    )
    assert messages == [too_many % {"rows": 2, "limit": 1}]
