"""The import engine: one engine behind the command, the page and the API."""

import io
from datetime import UTC, datetime
from functools import partial

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from openpyxl import Workbook

from commitments.organisation.models import Unit
from procedures import importer
from procedures.importer import run_import
from procedures.models import (
    CaseRecord,
    ImportRun,
    ImportSource,
    ImportStatus,
    Procedure,
)
from procedures.ownership import SYSTEM, ImportScope
from procedures.parsing import FileError
from tests.wording import vi

HEADER = (
    "case_code,procedure_code,unit_code,received_at,due_at,finished_at,status,"
    "channel,digitized,fee_required,paid_online,supplement_requests,satisfaction,"
    "complaint,officer"
)
VI_HEADER = (
    "ma_ho_so,ma_thu_tuc,ma_don_vi,ngay_tiep_nhan,ngay_hen_tra,ngay_hoan_thanh,"
    "trang_thai,kenh,so_hoa,co_phi,thanh_toan_truc_tuyen,so_lan_bo_sung,danh_gia,"
    "phan_anh,can_bo_xu_ly"
)


def case(code, unit="CITY-A", **overrides):
    values = {
        "procedure_code": "P1",
        "received_at": "02/03/2025 08:00",
        "due_at": "10/03/2025 17:00",
        "finished_at": "09/03/2025 10:00",
        "status": "da_tra_ket_qua",
        "channel": "truc_tuyen_toan_trinh",
        "digitized": "1",
        "fee_required": "1",
        "paid_online": "1",
        "supplement_requests": "0",
        "satisfaction": "hai_long",
        "complaint": "0",
        "officer": "Nguyễn Văn A",
    }
    values.update(overrides)
    return ",".join(
        [code, values["procedure_code"], unit]
        + [
            values[k]
            for k in (
                "received_at",
                "due_at",
                "finished_at",
                "status",
                "channel",
                "digitized",
                "fee_required",
                "paid_online",
                "supplement_requests",
                "satisfaction",
                "complaint",
                "officer",
            )
        ]
    )


def csv_bytes(*lines, header=HEADER, newline="\n", bom=False):
    text = newline.join([header, *lines]) + newline
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def do_import(data: bytes, *, atomic=False, allowed=None, name="cases.csv"):
    run = ImportRun.objects.create(
        source=ImportSource.COMMAND, file_name=name, atomic=atomic
    )
    scope = (
        SYSTEM
        if allowed is None
        else ImportScope(writable=frozenset(allowed), movable=frozenset())
    )
    return run_import(run, io.BytesIO(data), scope=scope)


def errors_by_row(run):
    return {e["row"]: (e["column"], e["message"]) for e in run.errors}


@pytest.fixture
def catalogue(org):
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")
    Procedure.objects.create(code="P2", name="Đăng ký kết hôn", fee_required=True)


pytestmark = pytest.mark.usefixtures("catalogue")


def test_clean_file_loads_every_row(org):
    run = do_import(csv_bytes(case("HS-1"), case("HS-2", unit="CITY-B")))
    assert run.status == ImportStatus.SUCCEEDED
    assert (run.rows_total, run.rows_new, run.rows_rejected) == (2, 2, 0)
    record = CaseRecord.objects.get(case_code="HS-1")
    assert record.unit == org.commune_a
    assert record.officer == "Nguyễn Văn A"
    assert record.satisfaction == "hai_long"
    assert record.digitized
    assert record.paid_online
    assert not record.complaint
    assert record.last_import_id == run.pk


def test_importing_the_same_file_twice_changes_nothing():
    data = csv_bytes(case("HS-1"), case("HS-2"))
    do_import(data)
    before = list(CaseRecord.objects.order_by("pk").values())
    again = do_import(data)
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    after = list(CaseRecord.objects.order_by("pk").values())
    assert after == before  # not even last_import moves


def test_a_newer_export_of_a_dossier_updates_it():
    do_import(csv_bytes(case("HS-1", finished_at="", status="dang_xu_ly")))
    run = do_import(csv_bytes(case("HS-1"), case("HS-3")))
    assert (run.rows_new, run.rows_updated, run.rows_unchanged) == (1, 1, 0)
    record = CaseRecord.objects.get(case_code="HS-1")
    assert record.status == "da_tra_ket_qua"
    assert record.last_import_id == run.pk


def test_vietnamese_headers_bom_crlf_and_semicolons_are_read():
    data = csv_bytes(
        case("HS-1").replace(",", ";"),
        header=VI_HEADER.replace(",", ";"),
        newline="\r\n",
        bom=True,
    )
    run = do_import(data)
    assert run.rows_new == 1, run.errors


def test_local_dates_are_vietnam_time_and_iso_is_accepted():
    """06:00 on 1 January local time is 23:00 UTC on 31 December."""
    do_import(
        csv_bytes(
            case("HS-1", received_at="01/01/2025 06:00", due_at="2025-01-05T17:00:00"),
            case("HS-2", received_at="2025-01-01 06:00:00+07:00", due_at="05/01/2025"),
        )
    )
    for code in ("HS-1", "HS-2"):
        record = CaseRecord.objects.get(case_code=code)
        assert record.received_at == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)


def test_affected_units_and_months_are_reported(org):
    run = do_import(
        csv_bytes(
            case("HS-1", received_at="01/01/2025 06:00", due_at="05/01/2025"),
            case("HS-2", unit="CITY-B"),
        )
    )
    assert run.affected == {(org.commune_a.pk, 2025, 1), (org.commune_b.pk, 2025, 3)}


def test_xlsx_export_is_read_by_content_not_name():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(VI_HEADER.split(","))
    sheet.append(
        [
            "HS-X",
            "P1",
            "CITY-A",
            datetime(2025, 3, 2, 8, 0),
            "10/03/2025 17:00",
            None,
            "dang_xu_ly",
            "truc_tiep",
            0,
            1,
            0,
            2,
            None,
            1,
            "Trần B",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    run = do_import(buffer.getvalue(), name="export.csv")
    assert run.rows_new == 1, run.errors
    record = CaseRecord.objects.get(case_code="HS-X")
    assert record.finished_at is None
    assert record.supplement_requests == 2
    assert record.complaint


# The catalogue's wording, read when the test runs rather than at collection.
FINISHED_BEFORE = partial(vi, "The finish date is before the receipt date.")
DUE_BEFORE = partial(vi, "The due date is before the receipt date.")


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        (case("HS-9", unit="NOWHERE"), "unit_code", "NOWHERE"),
        (case("HS-9", procedure_code="P404"), "procedure_code", "P404"),
        (case("HS-9", received_at="32/13/2025"), "received_at", "32/13/2025"),
        (case("HS-9", finished_at="01/03/2025 07:00"), "finished_at", FINISHED_BEFORE),
        (case("HS-9", due_at="01/03/2025"), "due_at", DUE_BEFORE),
        (case("HS-9", status="xong"), "status", "xong"),
        (case("HS-9", channel="zalo"), "channel", "zalo"),
        (case("HS-9", digitized="maybe"), "digitized", "maybe"),
        (case("HS-9", supplement_requests="-1"), "supplement_requests", "-1"),
        (case("HS-9", satisfaction="tuyet_voi"), "satisfaction", "tuyet_voi"),
        (case("HS-9", finished_at=""), "finished_at", ""),
        (case(""), "case_code", ""),
        (case("HS-9", officer="x" * 201), "officer", "200"),
        (case("H" * 101), "case_code", "100"),
    ],
)
def test_bad_rows_are_reported_by_row_and_column_and_the_rest_loads(
    line, column, words
):
    run = do_import(csv_bytes(case("HS-1"), line, case("HS-2")))
    assert run.status == ImportStatus.SUCCEEDED
    assert (run.rows_new, run.rows_rejected) == (2, 1)
    reported_column, message = errors_by_row(run)[2]  # row 1 is below the header
    assert reported_column == column
    assert (words() if callable(words) else words) in message
    assert not CaseRecord.objects.filter(case_code="HS-9").exists()


def test_a_code_repeated_in_one_file_is_rejected_after_its_first_row():
    run = do_import(csv_bytes(case("HS-1"), case("HS-2"), case("HS-1", officer="X")))
    column, message = errors_by_row(run)[3]
    assert column == "case_code"
    assert "HS-1" in message
    assert message.rstrip(".").endswith(" 1")  # the row it repeats
    assert CaseRecord.objects.get(case_code="HS-1").officer == "Nguyễn Văn A"
    assert run.rows_new == 2


@pytest.mark.parametrize("batch_size", [2, 3, 100])
def test_a_repeat_is_rejected_in_the_same_batch_or_a_later_one(monkeypatch, batch_size):
    """Rows 1–6: HS-1, HS-2, HS-1, HS-3, HS-2, HS-1. Whatever the batches, the
    first occurrence loads and each repeat names an earlier row of its code."""
    monkeypatch.setattr(importer, "BATCH_SIZE", batch_size)
    run = do_import(
        csv_bytes(
            case("HS-1"),
            case("HS-2"),
            case("HS-1", officer="X"),
            case("HS-3"),
            case("HS-2", officer="Y"),
            case("HS-1", officer="Z"),
        )
    )
    errors = errors_by_row(run)
    assert sorted(errors) == [3, 5, 6]
    firsts = {3: {"1"}, 5: {"2"}, 6: {"1", "3"}}
    for row, (column, message) in errors.items():
        assert column == "case_code"
        assert message.rstrip(".").rsplit(" ", 1)[-1] in firsts[row], message
    assert (run.rows_new, run.rows_rejected) == (3, 3)
    assert set(CaseRecord.objects.values_list("officer", flat=True)) == {"Nguyễn Văn A"}


def test_staff_may_import_only_for_their_own_unit(org):
    run = do_import(
        csv_bytes(case("HS-1"), case("HS-2", unit="CITY-B")),
        allowed={org.commune_a.pk},
    )
    assert run.rows_new == 1
    assert errors_by_row(run)[2][0] == "unit_code"
    assert not CaseRecord.objects.filter(unit=org.commune_b).exists()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00binary",
        b"just some words\nand more words\n",
        b"PK\x03\x04not really a workbook",
    ],
)
def test_empty_or_non_tabular_files_are_refused_whole(data):
    with pytest.raises(FileError):
        do_import(data)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert run.error
    assert not CaseRecord.objects.exists()


def test_missing_required_column_names_it():
    header = HEADER.replace("due_at,", "")
    with pytest.raises(FileError, match="due_at"):
        do_import(csv_bytes("HS-1", header=header))


def test_atomic_import_loads_nothing_when_a_row_is_bad():
    run = do_import(csv_bytes(case("HS-1"), case("HS-2", unit="NOWHERE")), atomic=True)
    assert run.status == ImportStatus.FAILED
    assert run.rows_rejected == 1
    assert not CaseRecord.objects.exists()


def test_a_crash_keeps_earlier_batches_and_undoes_the_current_one(monkeypatch):
    """A worker killed in the second batch: the first stays, the second is
    undone, and the run records the failure with what was committed."""
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    writes = []

    def killed_at_the_second(real):
        def write(*args, **kwargs):
            real(*args, **kwargs)
            writes.append(args)
            if len(writes) == 2:
                raise RuntimeError("worker killed")

        return write

    # Written by COPY (new dossiers only, PostgreSQL) or by the upsert.
    for name in ("_copy_new", "_upsert"):
        monkeypatch.setattr(
            importer, name, killed_at_the_second(getattr(importer, name))
        )
    with pytest.raises(RuntimeError):
        do_import(csv_bytes(*[case(f"HS-{n}") for n in range(1, 6)]))
    codes = sorted(CaseRecord.objects.values_list("case_code", flat=True))
    assert codes == ["HS-1", "HS-2"]
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "worker killed" in run.error
    # Rows read: those of the batches handed to the database, the failed one
    # included; the fifth row was never loaded.
    assert (run.rows_total, run.rows_new) == (4, 2)


def test_a_code_added_meanwhile_sends_the_batch_through_the_upsert(monkeypatch):
    """Between probing a batch of new dossiers and copying it, another import
    may add one of its codes: the copy fails on the unique code, is rolled
    back, and the batch is staged and upserted."""
    CaseRecord.objects.create(
        case_code="HS-2",
        procedure=Procedure.objects.get(code="P1"),
        unit=Unit.objects.get(code="CITY-A"),
        received_at=datetime(2025, 3, 2, 1, 0, tzinfo=UTC),
        due_at=datetime(2025, 3, 10, 10, 0, tzinfo=UTC),
        status="dang_xu_ly",
        channel="truc_tiep",
        officer="Người khác",
    )
    probes = []

    def added_after_the_probe(cursor, codes):
        probes.append(codes)
        return False  # as if HS-2 came after the probe

    monkeypatch.setattr(importer, "_any_known", added_after_the_probe)
    run = do_import(csv_bytes(case("HS-1"), case("HS-2")))
    assert run.status == ImportStatus.SUCCEEDED
    assert (run.rows_new, run.rows_updated, run.rows_unchanged) == (1, 1, 0)
    record = CaseRecord.objects.get(case_code="HS-2")
    assert record.officer == "Nguyễn Văn A"  # this import's version, upserted
    assert CaseRecord.objects.count() == 2
    assert len(probes) == (1 if connection.vendor == "postgresql" else 0)


def _table():
    return sorted(
        CaseRecord.objects.values_list(
            "case_code",
            "procedure__code",
            "unit__code",
            *importer.COMPARED[2:],  # received_at … officer
            "last_import__file_name",
        )
    )


def _counts(run):
    return (
        run.rows_total,
        run.rows_new,
        run.rows_updated,
        run.rows_unchanged,
        run.rows_rejected,
        sorted(errors_by_row(run).items()),
    )


@pytest.mark.parametrize("batch_size", [2, 3, 100])
def test_batches_of_new_dossiers_copied_or_staged_give_the_same_table(
    monkeypatch, batch_size
):
    """Batches of new dossiers only are copied straight in (PostgreSQL), the
    others staged: the table and the counts are those of staging every
    batch, with repeats, a change, an unchanged row and new rows between."""
    monkeypatch.setattr(importer, "BATCH_SIZE", batch_size)
    monkeypatch.setattr(importer, "FIRST_BATCH_SIZE", batch_size)
    first = csv_bytes(case("HS-1"), case("HS-2"))
    second = csv_bytes(
        case("HS-3"),
        case("HS-4"),
        case("HS-1", officer="Đổi"),  # changed
        case("HS-5"),
        case("HS-2"),  # unchanged
        case("HS-3", officer="X"),  # repeat of row 1
        case("HS-6"),
        case("HS-7"),
        case("HS-8", unit="NOWHERE"),  # bad row
        case("HS-9"),
    )
    outcomes = []
    for staged_always in (False, True):
        CaseRecord.objects.all().delete()
        with monkeypatch.context() as patch:
            if staged_always:
                patch.setattr(importer, "_load_new", lambda *args: False)
            do_import(first, name="first.csv")
            run = do_import(second, name="second.csv")
        outcomes.append((_table(), _counts(run), sorted(run.affected)))
    assert outcomes[0] == outcomes[1]
    table, counts, _ = outcomes[0]
    assert counts[:5] == (10, 6, 1, 1, 2)
    assert len(table) == 8


def test_batch_sizes_double_from_the_first_up_to_the_limit(monkeypatch):
    """A small first batch starts the loading; each next one is twice the
    last, so that the reader stays ahead, up to BATCH_SIZE."""
    monkeypatch.setattr(importer, "FIRST_BATCH_SIZE", 2)
    monkeypatch.setattr(importer, "BATCH_SIZE", 5)
    sizes = []
    load = importer._load

    def counted(batch, *args, **kwargs):
        sizes.append(batch.size)
        return load(batch, *args, **kwargs)

    monkeypatch.setattr(importer, "_load", counted)
    run = do_import(csv_bytes(*[case(f"HS-{n}") for n in range(1, 18)]))
    assert run.rows_new == 17
    assert sizes == [2, 4, 5, 5, 1]


def test_after_a_batch_of_new_dossiers_the_next_is_copied_without_a_probe(
    monkeypatch,
):
    """A first import probes its first batch only (PostgreSQL); a known code
    in a later batch fails that batch's copy, which is then staged, and the
    probing resumes."""
    monkeypatch.setattr(importer, "FIRST_BATCH_SIZE", 2)
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    probes = []
    any_known = importer._any_known

    def counted(cursor, codes):
        probes.append(list(codes))
        return any_known(cursor, codes)

    monkeypatch.setattr(importer, "_any_known", counted)
    run = do_import(csv_bytes(*[case(f"HS-{n}") for n in range(1, 7)]))
    assert run.rows_new == 6
    postgres = connection.vendor == "postgresql"
    assert probes == ([["HS-1", "HS-2"]] if postgres else [])
    probes.clear()
    run = do_import(
        csv_bytes(
            case("HS-7"),
            case("HS-8"),
            case("HS-9"),
            case("HS-1", officer="Đổi"),  # known: the copy fails, staged
            case("HS-10"),
            case("HS-11"),
        )
    )
    assert (run.rows_new, run.rows_updated, run.rows_rejected) == (5, 1, 0)
    assert CaseRecord.objects.get(case_code="HS-1").officer == "Đổi"
    assert CaseRecord.objects.count() == 11
    assert probes == ([["HS-7", "HS-8"], ["HS-10", "HS-11"]] if postgres else [])


@pytest.mark.django_db(transaction=True)  # foreign keys are checked at commit
@pytest.mark.parametrize("staged", [False, True])
def test_a_foreign_key_the_database_refuses_fails_the_run_and_writes_nothing(
    monkeypatch, staged
):
    """The reader resolves every code, so this should not happen; should a
    unit vanish meanwhile, the batch is refused whole by its foreign key,
    whether copied straight in or staged and upserted, and the run says why."""
    monkeypatch.setattr(
        importer._Resolver,
        "resolve",
        lambda self, case: (10**9, self.procedures[case.procedure_code]),
    )
    if staged:
        monkeypatch.setattr(importer, "_load_new", lambda *args: False)
    with pytest.raises(IntegrityError):
        do_import(csv_bytes(case("HS-1"), case("HS-2")))
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "foreign key" in run.error.lower()
    assert not CaseRecord.objects.exists()


def test_import_run_cannot_be_taken_twice():
    run = ImportRun.objects.create(source=ImportSource.COMMAND)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING)
    again = run_import(run, io.BytesIO(csv_bytes(case("HS-1"))))
    assert again.status == ImportStatus.RUNNING
    assert not CaseRecord.objects.exists()


def run_command(*args, stderr=None):
    """The command's output and exit status, as a shell would see them."""
    out = io.StringIO()
    try:
        call_command("import_cases", *args, stdout=out, stderr=stderr or io.StringIO())
    except SystemExit as exit:
        return out.getvalue(), exit.code
    return out.getvalue(), 0


def test_command_loads_every_row_with_exit_status_0(tmp_path):
    path = tmp_path / "mot_cua.csv"
    path.write_bytes(csv_bytes(case("HS-1"), case("HS-2")))
    text, status = run_command(str(path))
    assert status == 0
    assert CaseRecord.objects.count() == 2
    assert (
        vi(
            "%(file)s: %(total)s rows read, %(new)s new, %(updated)s updated, "
            "%(unchanged)s unchanged, %(rejected)s rejected in %(seconds)s s "
            "(import #%(id)s)"
        ).split("%(total)s")[0]
        % {"file": "mot_cua.csv"}
        in text
    )


def test_command_reports_rejected_rows_in_vietnamese_with_exit_status_2(tmp_path):
    """The valid row loads; the rejected one is named by its row (the second
    below the header is row 2), its column and its value, in Vietnamese from
    the first word to the last."""
    path = tmp_path / "mot_cua.csv"
    path.write_bytes(csv_bytes(case("HS-1"), case("HS-2", channel="fax")))
    text, status = run_command(str(path))
    assert status == 2
    assert CaseRecord.objects.count() == 1
    line = vi("Row %(row)s, column %(column)s “%(value)s”: %(message)s") % {
        "row": 2,
        "column": "channel",
        "value": "fax",
        "message": "",
    }
    assert line in text
    summary = vi(
        "%(file)s: %(total)s rows read, %(new)s new, %(updated)s updated, "
        "%(unchanged)s unchanged, %(rejected)s rejected in %(seconds)s s "
        "(import #%(id)s)"
    )
    assert (
        summary.split("%(seconds)s")[0]
        % {
            "file": "mot_cua.csv",
            "total": 2,
            "new": 1,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
        in text
    )
    assert "row" not in text.lower().replace("rows", "")  # no English left


def test_command_atomic_loads_nothing_and_exits_2(tmp_path):
    path = tmp_path / "mot_cua.csv"
    path.write_bytes(csv_bytes(case("HS-1"), case("HS-2", channel="fax")))
    text, status = run_command(str(path), "--atomic")
    assert status == 2
    assert not CaseRecord.objects.exists()
    assert (
        vi("Nothing was imported: %(count)s row(s) were rejected.") % {"count": 1}
        in text
    )


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_log_lines_do_not_print_over_the_progress_line(tmp_path, monkeypatch):
    """A record logged while the progress line is shown (Celery's "Task …
    succeeded" when tasks run in process) starts on a line of its own."""
    import logging

    terminal = Terminal()
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    root.addHandler(handler)
    monkeypatch.setattr(root, "level", logging.INFO)
    original = importer._load

    def load_and_log(*args, **kwargs):
        original(*args, **kwargs)
        logging.getLogger("celery.app.trace").info("Task succeeded")

    monkeypatch.setattr(importer, "_load", load_and_log)
    monkeypatch.setattr(importer, "BATCH_SIZE", 1)
    path = tmp_path / "mot_cua.csv"
    path.write_bytes(csv_bytes(case("HS-1"), case("HS-2")))
    try:
        _, status = run_command(str(path), stderr=terminal)
    finally:
        root.removeHandler(handler)
    assert status == 0
    written = terminal.getvalue()
    assert "\rTask succeeded" not in written
    assert written.count("Task succeeded\n") == 2
    for line in written.split("\n"):
        if "Task succeeded" in line:
            assert line == "Task succeeded", repr(line)
    # The progress line was shown and ended before each record.
    assert "\r" in written


def test_command_refuses_an_unreadable_file(tmp_path):
    path = tmp_path / "anh.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match=r"anh\.csv"):
        call_command(
            "import_cases", str(path), stdout=io.StringIO(), stderr=io.StringIO()
        )


@pytest.mark.parametrize(("batch_size", "processes"), [(2, 1), (100, 0)])
def test_a_reader_process_starts_only_when_rows_are_left_after_the_first_batch(
    monkeypatch, batch_size, processes
):
    """Three rows: batches of two leave one row for a reader process; one
    batch of a hundred holds them all and is read here. Either way every
    row loads."""
    monkeypatch.setattr(importer, "BATCH_SIZE", batch_size)
    started = []
    in_process = importer._in_process

    def counted(items, language):
        started.append(language)
        return in_process(items, language)

    monkeypatch.setattr(importer, "_in_process", counted)
    run = do_import(csv_bytes(case("HS-1"), case("HS-2"), case("HS-3")))
    assert (run.rows_total, run.rows_new) == (3, 3)
    assert len(started) == processes
