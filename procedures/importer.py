"""The one import engine behind the command, the upload page and the REST endpoint.

1. Stream the rows, validate each (procedures.parsing), resolve unit and procedure
   codes, and check that the importing user may write for the unit.
2. Stage the valid rows in a temporary table: PostgreSQL COPY, or batched inserts
   on SQLite. Python holds one batch at a time.
3. Reject the later occurrences of a case code repeated inside the file (in SQL,
   so no set of a million codes is kept in memory).
4. Upsert staged rows on case_code, batch by batch, each batch in its own
   transaction: a crash leaves the database as it was before that batch. With
   ``atomic`` any rejected row means nothing is written, and the whole upsert is
   one transaction.

New, updated and unchanged rows are counted by comparing with the table before
each batch is written, so importing the same file twice reports it unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.models import Unit
from procedures.models import CaseRecord, ImportRun, ImportStatus, Procedure
from procedures.parsing import (
    COLUMNS,
    CellError,
    FileError,
    ParsedCase,
    header_map,
    iter_table,
    parse_row,
)

BATCH_SIZE = 20_000
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
    counts it in the file, header = 1)."""
    result = result if result is not None else ImportResult()
    resolver = _Resolver(allowed_unit_ids)
    _create_staging()
    try:
        batch: list[tuple[Any, ...]] = []
        for number, cells in rows:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            result.rows_total += 1
            try:
                case = parse_row(cells, positions)
                unit_id, procedure_id = resolver.resolve(case)
            except CellError as error:
                index = positions.get(error.column)
                value = cells[index] if index is not None and index < len(cells) else ""
                result.reject(RowError(number, error.column, error.message, value))
                continue
            batch.append(_staging_row(number, case, unit_id, procedure_id))
            if len(batch) >= BATCH_SIZE:
                _stage(batch)
                batch.clear()
                if progress:
                    progress(result.rows_total)
        _stage(batch)
        for number, code, first in _duplicates():
            result.reject(
                RowError(
                    number,
                    "case_code",
                    _("The case code “%(code)s” already appears in row %(row)s.")
                    % {"code": code, "row": first},
                    code,
                )
            )
        if run.atomic and result.rows_rejected:
            return result
        _upsert(result, run, progress)
        return result
    finally:
        _drop_staging()


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


# --- staging -------------------------------------------------------------------

STAGING_COLUMNS = ("row_number", *CASE_COLUMNS)


def _staging_row(
    number: int, case: ParsedCase, unit_id: int, procedure_id: int
) -> tuple[Any, ...]:
    return (
        number,
        case.case_code,
        procedure_id,
        unit_id,
        case.received_at,
        case.due_at,
        case.finished_at,
        case.status,
        case.channel,
        case.digitized,
        case.fee_required,
        case.paid_online,
        case.supplement_requests,
        case.satisfaction,
        case.complaint,
        case.officer,
    )


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _create_staging() -> None:
    timestamp = "timestamptz" if _postgres() else "datetime"
    boolean = "boolean" if _postgres() else "bool"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
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


def _drop_staging() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")


def _stage(batch: list[tuple[Any, ...]]) -> None:
    if not batch:
        return
    with connection.cursor() as cursor:
        if _postgres():
            buffer = io.StringIO()
            # Quoted empty is an empty string, unquoted empty is NULL in COPY csv.
            writer = csv.writer(buffer, quoting=csv.QUOTE_NOTNULL)
            for row in batch:
                writer.writerow(
                    value.isoformat() if isinstance(value, datetime) else value
                    for value in row
                )
            buffer.seek(0)
            cursor.cursor.copy_expert(
                f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN "
                "WITH (FORMAT csv)",
                buffer,
            )
        else:
            # Stored the way Django stores datetimes on SQLite (UTC text), or
            # comparisons with the case table would be between different forms.
            adapt = connection.ops.adapt_datetimefield_value
            placeholders = ", ".join(["%s"] * len(STAGING_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {STAGING} ({', '.join(STAGING_COLUMNS)}) "
                f"VALUES ({placeholders})",
                [
                    tuple(adapt(v) if isinstance(v, datetime) else v for v in row)
                    for row in batch
                ],
            )


def _duplicates() -> list[tuple[int, str, int]]:
    """(row, code, first row) for every repeat of a code after its first row;
    the repeats are removed from staging."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.row_number, s.case_code, f.first_row
                FROM {STAGING} s JOIN (
                    SELECT case_code, MIN(row_number) AS first_row FROM {STAGING}
                    GROUP BY case_code HAVING COUNT(*) > 1
                ) f ON f.case_code = s.case_code AND s.row_number > f.first_row
                ORDER BY s.row_number"""
        )
        repeats = cursor.fetchall()
        if repeats:
            cursor.execute(
                f"""DELETE FROM {STAGING} WHERE row_number IN (
                    SELECT s.row_number FROM {STAGING} s JOIN (
                        SELECT case_code, MIN(row_number) AS first_row
                        FROM {STAGING} GROUP BY case_code HAVING COUNT(*) > 1
                    ) f ON f.case_code = s.case_code AND s.row_number > f.first_row
                )"""
            )
    return [(row, code, first) for row, code, first in repeats]


# --- upsert ----------------------------------------------------------------------


def _upsert(result: ImportResult, run: ImportRun, progress: Progress | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(row_number), MAX(row_number) FROM {STAGING}")
        low, high = cursor.fetchone()
    if low is None:
        return
    distinct = "IS DISTINCT FROM" if _postgres() else "IS NOT"
    table = CaseRecord._meta.db_table
    differs = (
        f"({', '.join(f't.{c}' for c in COMPARED)}) {distinct} "
        f"({', '.join(f's.{c}' for c in COMPARED)})"
    )
    conflict_differs = (
        f"({', '.join(f'{table}.{c}' for c in COMPARED)}) {distinct} "
        f"({', '.join(f'excluded.{c}' for c in COMPARED)})"
    )
    local_month = (
        "EXTRACT(YEAR FROM s.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int, "
        "EXTRACT(MONTH FROM s.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int"
        if _postgres()
        else "CAST(strftime('%%Y', s.received_at, '+7 hours') AS integer), "
        "CAST(strftime('%%m', s.received_at, '+7 hours') AS integer)"
    )
    context = transaction.atomic() if run.atomic else _NoTransaction()
    with context:
        start = low
        while start <= high:
            end = start + BATCH_SIZE
            with transaction.atomic(), connection.cursor() as cursor:
                window = f"s.row_number >= {int(start)} AND s.row_number < {int(end)}"
                cursor.execute(
                    f"""SELECT
                        SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END),
                        SUM(CASE WHEN t.id IS NOT NULL AND {differs}
                            THEN 1 ELSE 0 END),
                        COUNT(*)
                        FROM {STAGING} s
                        LEFT JOIN {table} t ON t.case_code = s.case_code
                        WHERE {window}"""
                )
                new, updated, total = (value or 0 for value in cursor.fetchone())
                # The months a new or changed row touches, for the metrics.
                cursor.execute(
                    f"""SELECT DISTINCT s.unit_id, {local_month}
                        FROM {STAGING} s
                        LEFT JOIN {table} t ON t.case_code = s.case_code
                        WHERE {window} AND (t.id IS NULL OR {differs})""",
                    [],  # with parameters, "%%" reaches SQLite as "%"
                )
                affected = cursor.fetchall()
                columns = ", ".join(CASE_COLUMNS)
                cursor.execute(
                    f"""INSERT INTO {table} ({columns}, last_import_id)
                        SELECT {", ".join(f"s.{c}" for c in CASE_COLUMNS)}, %s
                        FROM {STAGING} s WHERE {window}
                        ON CONFLICT (case_code) DO UPDATE SET
                        {", ".join(f"{c} = excluded.{c}" for c in COMPARED)},
                        last_import_id = excluded.last_import_id
                        WHERE {conflict_differs}""",
                    [run.pk],
                )
            # Counted only once the batch is committed: a crash undoes both.
            result.rows_new += new
            result.rows_updated += updated
            result.rows_unchanged += total - new - updated
            result.affected.update(affected)
            start = end


class _NoTransaction:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


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
        from procedures.tasks import recompute_metrics_task

        affected = sorted([list(key) for key in result.affected])
        transaction.on_commit(lambda: recompute_metrics_task.delay(affected))
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
