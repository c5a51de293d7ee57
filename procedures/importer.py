"""The one import engine behind the command, the upload page and the REST endpoint.

1. A reader thread streams the rows, validates each (procedures.parsing),
   resolves unit and procedure codes, checks that the importing user may write
   for the unit, and hands over batches of valid rows with their row errors.
   It never touches the database; Python holds a few batches at a time.
2. This thread loads each batch, in its own transaction: stage it in a
   temporary table (PostgreSQL COPY, batched inserts on SQLite); reject the
   rows whose case code came earlier in the file (first occurrence wins);
   compare with the case table to count new, updated and unchanged rows and
   find the months they touch; upsert on case_code, writing only rows that
   differ. A crash leaves the database as it was before that batch.
3. With ``atomic`` the whole import is one transaction, rolled back if any row
   was rejected.

Importing the same file twice writes nothing and reports every row unchanged.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from queue import Full, Queue
from typing import IO, Any

import psycopg2
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from commitments.models import Unit
from procedures.models import CaseRecord, ImportRun, ImportStatus, Procedure
from procedures.parsing import (
    COLUMNS,
    CellError,
    FileError,
    ParsedCase,
    RowParser,
    header_map,
    iter_table,
    local_month,
)

BATCH_SIZE = 25_000
COPY_CHUNK = 4 << 20
ERROR_LIMIT = 1_000
STAGING = "procedures_case_staging"

# Columns written from staging to the case table, in order.
CASE_COLUMNS = (
    "case_code",
    "procedure_id",
    "unit_id",
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
# What decides "unchanged": every column but the key.
COMPARED = CASE_COLUMNS[1:]


@dataclass
class RowError:
    row: int
    column: str
    message: str
    value: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ImportResult:
    rows_total: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    # (unit id, local year, local month) touched by new or updated rows.
    affected: set[tuple[int, int, int]] = field(default_factory=set)

    def reject(self, error: RowError) -> None:
        self.rows_rejected += 1
        if len(self.errors) < ERROR_LIMIT:
            self.errors.append(error)


Progress = Callable[[int], None]


class _Resolver:
    """Codes → ids, loaded once: a province has thousands of units and a few
    thousand procedures, far fewer than the rows of one file."""

    def __init__(self, allowed_unit_ids: set[int] | None) -> None:
        self.units = dict(Unit.objects.values_list("code", "pk"))
        self.procedures = dict(Procedure.objects.values_list("code", "pk"))
        self.allowed = allowed_unit_ids

    def resolve(self, case: ParsedCase) -> tuple[int, int]:
        unit_id = self.units.get(case.unit_code)
        if unit_id is None:
            raise CellError(
                "unit_code",
                _("No unit has the code “%(code)s”.") % {"code": case.unit_code},
            )
        if self.allowed is not None and unit_id not in self.allowed:
            raise CellError(
                "unit_code",
                _("You may not import case records for unit “%(code)s”.")
                % {"code": case.unit_code},
            )
        procedure_id = self.procedures.get(case.procedure_code)
        if procedure_id is None:
            raise CellError(
                "procedure_code",
                _("No procedure has the code “%(code)s”.")
                % {"code": case.procedure_code},
            )
        return unit_id, procedure_id


def import_rows(
    rows: Iterable[tuple[int, list[str]]] | Iterator[tuple[int, list[str]]],
    positions: dict[str, int],
    *,
    run: ImportRun,
    allowed_unit_ids: set[int] | None = None,
    progress: Progress | None = None,
    result: ImportResult | None = None,
) -> ImportResult:
    """Validate, stage and upsert numbered rows (row number as the official
    counts it in the file, header = 1).

    Two threads share the work: one reads and validates rows (Python), the
    other, this one, stages and upserts the previous batch (the database). The
    reader never touches the database; it hands over whole batches through a
    short queue, so memory holds at most a few batches."""
    result = result if result is not None else ImportResult()
    resolver = _Resolver(allowed_unit_ids)
    batches = _in_background(
        _read_batches(rows, positions, resolver, as_text=_postgres(), run_id=run.pk),
        translation.get_language(),
    )
    _create_staging()
    analyzed = False
    try:
        with transaction.atomic() if run.atomic else nullcontext():
            for batch in batches:
                result.rows_total += batch.read
                for error in batch.errors:
                    result.reject(error)
                if run.atomic and result.rows_rejected:
                    continue  # nothing will be written; read on for the report
                _load(batch, result, run, first=not analyzed)
                analyzed = analyzed or batch.size > 0
                if progress:
                    progress(result.rows_total)
            if run.atomic and result.rows_rejected:
                raise _Rejected
    except _Rejected:
        result.rows_new = result.rows_updated = result.rows_unchanged = 0
        result.affected.clear()
    finally:
        batches.close()
        _drop_staging()
    return result


def import_file(
    stream: IO[bytes],
    *,
    run: ImportRun,
    allowed_unit_ids: set[int] | None = None,
    progress: Progress | None = None,
    result: ImportResult | None = None,
) -> ImportResult:
    table = iter_table(stream, run.file_name)
    header = next(table, None)
    if header is None:
        raise FileError(_("The file is empty."))
    positions = header_map(header)
    numbered = ((number, cells) for number, cells in enumerate(table, start=2))
    return import_rows(
        numbered,
        positions,
        run=run,
        allowed_unit_ids=allowed_unit_ids,
        progress=progress,
        result=result,
    )


class _Rejected(Exception):
    """An all-or-nothing import with rejected rows: roll everything back."""


# --- reading (the background thread) -------------------------------------------


@dataclass
class _Batch:
    # Valid rows in staging column order: as COPY csv in UTF-8 for PostgreSQL, as
    # tuples for SQLite.
    rows: bytes | list[tuple[Any, ...]]
    size: int
    read: int
    errors: list[RowError]
    # (unit, local year, month) of every row
    months: set[tuple[int, int, int]]
    # PostgreSQL: the rows in the case table's own columns, see _write.
    direct: bytes | None = None


def _read_batches(
    rows: Iterable[tuple[int, list[str]]],
    positions: dict[str, int],
    resolver: _Resolver,
    *,
    as_text: bool,
    run_id: int,
) -> Iterator[_Batch]:
    parse = RowParser(positions).parse
    resolve = resolver.resolve
    staged: list[tuple[Any, ...]] = []
    errors: list[RowError] = []
    # This batch's codes (a repeat inside it is rejected here; one of an
    # earlier batch in SQL, see _repeats) and the (unit, month)s it touches.
    first_rows: dict[str, int] = {}
    months: set[tuple[int, int, int]] = set()
    read = 0
    for number, cells in rows:
        if not cells or not (cells[0].strip() or "".join(cells).strip()):
            continue  # blank line
        read += 1
        try:
            case = parse(cells)
            unit_id, procedure_id = resolve(case)
        except CellError as error:
            index = positions.get(error.column)
            value = cells[index] if index is not None and index < len(cells) else ""
            errors.append(RowError(number, error.column, error.message, value))
            continue
        code = case[0]
        first = first_rows.setdefault(code, number)
        if first != number:
            errors.append(_repeat_error(number, code, first))
            continue
        months.add((unit_id, *local_month(case.received_at)))
        staged.append((number, code, procedure_id, unit_id, *case[3:]))
        if len(staged) >= BATCH_SIZE:
            yield _batch(staged, read, errors, months, as_text=as_text, run_id=run_id)
            staged, errors, read = [], [], 0
            first_rows, months = {}, set()
    if staged or errors or read:
        yield _batch(staged, read, errors, months, as_text=as_text, run_id=run_id)


def _repeat_error(number: int, code: str, first: int) -> RowError:
    return RowError(
        number,
        "case_code",
        _("The case code “%(code)s” already appears in row %(row)s.")
        % {"code": code, "row": first},
        code,
    )


def _batch(
    staged: list[tuple[Any, ...]],
    read: int,
    errors: list[RowError],
    months: set[tuple[int, int, int]],
    *,
    as_text: bool,
    run_id: int,
) -> _Batch:
    if not as_text:
        return _Batch(staged, len(staged), read, errors, months)
    # Quoted empty is an empty string, unquoted empty is NULL in COPY csv.
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NOTNULL).writerows(staged)
    # The same rows as the case table takes them (no row number, this run as
    # their last import), for a batch of new dossiers only.
    direct = io.StringIO()
    csv.writer(direct, quoting=csv.QUOTE_NOTNULL).writerows(
        (*row[1:], run_id) for row in staged
    )
    return _Batch(
        buffer.getvalue().encode(),
        len(staged),
        read,
        errors,
        months,
        direct.getvalue().encode(),
    )


_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _in_background(items: Iterator[_Batch], language: str | None) -> Generator[_Batch]:
    """Run ``items`` in a thread, a couple of items ahead of the consumer.
    Closing the generator stops the thread; its exceptions surface here."""
    queue: Queue[object] = Queue(maxsize=2)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def work() -> None:
        if language:
            translation.activate(language)
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # handed to the consumer
            put(_Failed(error))

    thread = threading.Thread(target=work, name="case-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


# --- staging and upsert (this thread) -------------------------------------------
#
# Two temporary tables live for one import: BATCH holds the batch being loaded,
# SEEN every case code loaded so far with its row, to reject a code repeated in
# the file after its first row (the first occurrence wins).

STAGING_COLUMNS = ("row_number", *CASE_COLUMNS)
SEEN = "procedures_case_seen"
PLANNER_SETTINGS = ("enable_hashjoin", "enable_mergejoin")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _create_staging() -> None:
    timestamp = "timestamptz" if _postgres() else "datetime"
    boolean = "boolean" if _postgres() else "bool"
    _drop_staging()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE TEMPORARY TABLE {STAGING} (
                row_number integer NOT NULL,
                case_code varchar(100) NOT NULL,
                procedure_id bigint NOT NULL,
                unit_id bigint NOT NULL,
                received_at {timestamp} NOT NULL,
                due_at {timestamp} NOT NULL,
                finished_at {timestamp},
                status varchar(20) NOT NULL,
                channel varchar(30) NOT NULL,
                digitized {boolean} NOT NULL,
                fee_required {boolean} NOT NULL,
                paid_online {boolean} NOT NULL,
                supplement_requests integer NOT NULL,
                satisfaction varchar(20) NOT NULL,
                complaint {boolean} NOT NULL,
                officer varchar(200) NOT NULL
            )"""
        )
        cursor.execute(
            f"""CREATE TEMPORARY TABLE {SEEN} (
                case_code varchar(100) PRIMARY KEY,
                row_number integer NOT NULL
            )"""
        )
        if _postgres():
            # A batch meets the case table and the codes seen so far through
            # their unique indexes; without fresh statistics after a big load
            # the planner would hash-join by reading those tables whole.
            cursor.execute("; ".join(f"SET {name} = off" for name in PLANNER_SETTINGS))


def _drop_staging() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(f"DROP TABLE IF EXISTS {SEEN}")
        if _postgres():
            cursor.execute(f"RESET {PLANNER_SETTINGS[0]}; RESET {PLANNER_SETTINGS[1]}")


def _load(batch: _Batch, result: ImportResult, run: ImportRun, *, first: bool) -> None:
    """Stage one batch and upsert it, in one transaction: a crash leaves the
    database as it was before the batch."""
    if not batch.size:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _stage(cursor, batch, analyze=first)
        repeats = _repeats(cursor)
        for number, code, first_row in repeats:
            result.reject(_repeat_error(number, code, first_row))
        remember = (
            f"INSERT INTO {SEEN} (case_code, row_number) "
            f"SELECT case_code, row_number FROM {STAGING}"
        )
        if run.atomic and result.rows_rejected:
            cursor.execute(remember)
            return
        staged = batch.size - len(repeats)
        new, updated, affected = _changes(cursor, before=remember, batch=batch)
        _write(cursor, batch, run, all_new=new == staged)
    # Counted only once the batch is committed: a crash undoes both.
    result.rows_new += new
    result.rows_updated += updated
    result.rows_unchanged += batch.size - len(repeats) - new - updated
    result.affected.update(affected)


def _stage(cursor: Any, batch: _Batch, *, analyze: bool) -> None:
    # TRUNCATE leaves no dead rows behind for the next batch to scan.
    cursor.execute(f"{'TRUNCATE' if _postgres() else 'DELETE FROM'} {STAGING}")
    if isinstance(batch.rows, bytes):
        # Datetimes are UTC text; Django keeps the connection's time zone UTC.
        cursor.cursor.copy_expert(
            f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN "
            "WITH (FORMAT csv)",
            io.BytesIO(batch.rows),
            # In large pieces: each read from the buffer waits for the reader
            # thread to let go of the interpreter lock.
            size=COPY_CHUNK,
        )
        if analyze:
            # Without statistics the planner may join a batch to the case
            # table by scanning all of it.
            cursor.execute(f"ANALYZE {STAGING}")
    else:
        placeholders = ", ".join(["%s"] * len(STAGING_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {STAGING} ({', '.join(STAGING_COLUMNS)}) "
            f"VALUES ({placeholders})",
            batch.rows,
        )


def _repeats(cursor: Any) -> list[tuple[int, str, int]]:
    """(row, code, first row) for every row of the batch whose code an earlier
    batch had; they leave the batch. (Repeats inside the batch were already
    rejected while reading.)"""
    cursor.execute(
        f"""SELECT s.row_number, s.case_code, p.row_number
            FROM {STAGING} s JOIN {SEEN} p ON p.case_code = s.case_code
            ORDER BY s.row_number"""
    )
    found = [(number, code, first) for number, code, first in cursor.fetchall()]
    if found:
        cursor.execute(
            f"DELETE FROM {STAGING} WHERE case_code IN (SELECT case_code FROM {SEEN})"
        )
    return found


def _local_month(alias: str) -> str:
    if _postgres():
        zoned = f"{alias}.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh'"
        return f"EXTRACT(YEAR FROM {zoned})::int, EXTRACT(MONTH FROM {zoned})::int"
    return (
        f"CAST(strftime('%%Y', {alias}.received_at, '+7 hours') AS integer), "
        f"CAST(strftime('%%m', {alias}.received_at, '+7 hours') AS integer)"
    )


def _differs(old: str, new: str) -> str:
    distinct = "IS DISTINCT FROM" if _postgres() else "IS NOT"
    return (
        f"({', '.join(f'{old}.{c}' for c in COMPARED)}) {distinct} "
        f"({', '.join(f'{new}.{c}' for c in COMPARED)})"
    )


def _changes(
    cursor: Any, *, before: str, batch: _Batch
) -> tuple[int, int, set[tuple[int, int, int]]]:
    """New and changed rows of the batch against the table as it is, and the
    (unit, local year, month) they touch: the new values' and, for a changed
    row, the old ones' (a dossier moved to another unit or month). ``before``
    is run first, in the same round trip where the database allows it."""
    table = CaseRecord._meta.db_table
    if _postgres():
        before += ";"
    else:
        cursor.execute(before)
        before = ""
    # Most batches are new dossiers only: one probe per row that stops at the
    # first known code, and the months from the batch alone.
    cursor.execute(
        f"""{before} SELECT EXISTS (
                SELECT 1 FROM {STAGING} s JOIN {table} t ON t.case_code = s.case_code
            )"""
    )
    if not cursor.fetchone()[0]:
        cursor.execute(f"SELECT COUNT(*) FROM {STAGING}")
        return cursor.fetchone()[0], 0, set(batch.months)
    cursor.execute(
        f"""SELECT t.id IS NULL, s.unit_id, {_local_month("s")},
                t.unit_id, {_local_month("t")}, COUNT(*)
            FROM {STAGING} s LEFT JOIN {table} t ON t.case_code = s.case_code
            WHERE t.id IS NULL OR {_differs("t", "s")}
            GROUP BY 1, 2, 3, 4, 5, 6, 7""",
        [],  # with parameters, "%%" reaches SQLite as "%"
    )
    new = updated = 0
    affected: set[tuple[int, int, int]] = set()
    for (
        is_new,
        unit,
        year,
        month,
        old_unit,
        old_year,
        old_month,
        count,
    ) in cursor.fetchall():
        affected.add((unit, year, month))
        if is_new:
            new += count
        else:
            updated += count
            affected.add((old_unit, old_year, old_month))
    return new, updated, affected


def _write(cursor: Any, batch: _Batch, run: ImportRun, *, all_new: bool) -> None:
    """Write the staged batch to the case table.

    A batch of new dossiers only (a first import, a day's new export) is copied
    straight into the table: COPY inserts rows many at a time, which an INSERT
    … SELECT does not, and this is most of an import's time. Should another
    import have added one of these codes since they were compared, the copy
    fails on the unique code and the batch goes through the upsert instead."""
    if all_new and batch.direct is not None:
        try:
            with transaction.atomic():
                cursor.cursor.copy_expert(
                    f"COPY {CaseRecord._meta.db_table} "
                    f"({', '.join(CASE_COLUMNS)}, last_import_id) FROM STDIN "
                    "WITH (FORMAT csv)",
                    io.BytesIO(batch.direct),
                    size=COPY_CHUNK,
                )
            return
        except (IntegrityError, psycopg2.IntegrityError):
            pass  # the copy went through the driver alone: its own error class
    _upsert(cursor, run)


def _upsert(cursor: Any, run: ImportRun) -> None:
    table = CaseRecord._meta.db_table
    columns = ", ".join(CASE_COLUMNS)
    conflict_differs = _differs(table, "excluded")
    cursor.execute(
        f"""INSERT INTO {table} ({columns}, last_import_id)
            SELECT {", ".join(f"s.{c}" for c in CASE_COLUMNS)}, %s
            FROM {STAGING} s WHERE true
            ON CONFLICT (case_code) DO UPDATE SET
            {", ".join(f"{c} = excluded.{c}" for c in COMPARED)},
            last_import_id = excluded.last_import_id
            WHERE {conflict_differs}""",
        [run.pk],
    )


def run_import(
    run: ImportRun,
    stream: IO[bytes] | None = None,
    *,
    allowed_unit_ids: set[int] | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Import a file (``stream``, or the file stored on the run) and record the
    outcome on ``run``. A file-level error or a crash marks the run failed; rows
    already committed stay (not with atomic)."""

    def load(result: ImportResult) -> None:
        options = {
            "run": run,
            "allowed_unit_ids": allowed_unit_ids,
            "progress": progress,
            "result": result,
        }
        if stream is None:
            with run.file.open("rb") as handle:
                import_file(handle, **options)  # type: ignore[arg-type]
        else:
            import_file(stream, **options)  # type: ignore[arg-type]

    return _run(run, load)


def run_import_records(
    run: ImportRun,
    rows: Iterable[tuple[int, list[str]]],
    *,
    allowed_unit_ids: set[int] | None = None,
) -> ImportRun:
    """Import numbered rows laid out in the canonical column order (the REST
    door) and record the outcome on ``run``, as run_import does for a file."""
    positions = {column: index for index, column in enumerate(COLUMNS)}

    def load(result: ImportResult) -> None:
        import_rows(
            rows,
            positions,
            run=run,
            allowed_unit_ids=allowed_unit_ids,
            result=result,
        )

    return _run(run, load)


def _run(run: ImportRun, load: Callable[[ImportResult], None]) -> ImportRun:
    """The life of an import run, whichever door it came through: claim it
    (compare-and-set, so a second delivery does nothing), load, record the
    outcome, and have the touched metrics recomputed once committed."""
    started = ImportRun.objects.filter(pk=run.pk, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    if not started:
        run.refresh_from_db()
        return run  # already taken by another worker
    run.refresh_from_db()
    result = ImportResult()
    try:
        load(result)
    except FileError as error:
        _finish(run, ImportStatus.FAILED, result, str(error))
        raise
    except Exception as error:
        # Batches committed before the failure stay, and their counts with them.
        _finish(run, ImportStatus.FAILED, result, repr(error))
        raise
    failed = run.atomic and result.rows_rejected > 0
    _finish(
        run,
        ImportStatus.FAILED if failed else ImportStatus.SUCCEEDED,
        result,
        _("Nothing was imported: %(count)s row(s) were rejected.")
        % {"count": result.rows_rejected}
        if failed
        else "",
    )
    run.affected = result.affected  # type: ignore[attr-defined]
    if result.affected:
        # Imported here: tasks import this module.
        from cchc_portal.queue import enqueue_on_commit
        from procedures.tasks import recompute_metrics_task

        affected = sorted([list(key) for key in result.affected])
        enqueue_on_commit(recompute_metrics_task, affected)
    return run


def run_import_by_id(run_id: int) -> ImportRun | None:
    """The upload door: the file is stored on the run, and the rows a user may
    import are decided by the user recorded on it."""
    from commitments.access import unit_ids_writable_by

    run = ImportRun.objects.select_related("user").filter(pk=run_id).first()
    if run is None:
        return None
    # A run without a user (its account deleted) imports for no unit.
    allowed = unit_ids_writable_by(run.user) if run.user is not None else set()
    if run.file and not run.rows_expected:
        ImportRun.objects.filter(pk=run.pk).update(rows_expected=_count_rows(run))

    def progress(rows: int) -> None:
        ImportRun.objects.filter(pk=run.pk).update(rows_done=rows)

    try:
        return run_import(run, allowed_unit_ids=allowed, progress=progress)
    except FileError:
        return run  # recorded on the run as failed


def _count_rows(run: ImportRun) -> int:
    """Rows in the stored file, for the progress bar (a quick pass over it)."""
    with run.file.open("rb") as handle:
        if handle.read(4) == b"PK\x03\x04":
            from openpyxl import load_workbook

            handle.seek(0)
            try:
                workbook = load_workbook(handle, read_only=True)
                rows = workbook.worksheets[0].max_row or 0
                workbook.close()
            except Exception:  # unreadable: the import itself will say why
                return 0
            return max(rows - 1, 0)
        handle.seek(0)
        lines = sum(
            chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")
        )
        return max(lines - 1, 0)


def _finish(run: ImportRun, status: str, result: ImportResult, error: str) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.rows_total = result.rows_total
    run.rows_done = result.rows_total
    run.rows_new = result.rows_new
    run.rows_updated = result.rows_updated
    run.rows_unchanged = result.rows_unchanged
    run.rows_rejected = result.rows_rejected
    # Repeated codes are found after every row is read: sort so that the
    # report reads in the file's order.
    run.errors = [
        e.as_dict() for e in sorted(result.errors, key=lambda e: (e.row, e.column))
    ]
    run.error = error
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "rows_total",
            "rows_done",
            "rows_new",
            "rows_updated",
            "rows_unchanged",
            "rows_rejected",
            "errors",
            "error",
        ]
    )
