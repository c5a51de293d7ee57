"""The one import engine behind the command, the upload page and the REST endpoint.

1. A reader process streams the rows, validates each (procedures.parsing),
   resolves unit and procedure codes, checks that the importing user may write
   for the unit, and hands over batches of valid rows with their row errors.
   It never touches the database; Python holds a few batches at a time. A
   process of its own (forked), so that reading and loading each have a core.
2. This process loads each batch, in its own transaction. A batch of new
   dossiers only (a first import, a day's new export: none of its codes in
   the case table or earlier in the file) is copied straight into the case
   table (PostgreSQL). Any other is staged in a
   temporary table (PostgreSQL COPY, batched inserts on SQLite); reject the
   rows whose case code came earlier in the file (first occurrence wins);
   reject the rows that would change a dossier the actor may not change as it
   is stored (procedures.ownership: another unit's dossier, or a move by
   someone who is not a reviewer over both units), read in one query per
   batch; compare with the case table to count new, updated and unchanged
   rows and find the months they touch; record the moves (CaseMove); upsert on
   case_code, writing only rows that differ. A crash leaves the database as it
   was before that batch.
3. With ``atomic`` the whole import is one transaction, rolled back if any row
   was rejected.

Importing the same file twice writes nothing and reports every row unchanged;
the months of every row read are recomputed all the same, so a rerun repairs
figures an earlier run never got to recompute (killed after loading).

A run sends signs of life while it works (``heartbeat_at``, from a thread of
its own on PostgreSQL so that an all-or-nothing transaction does not hide
them); one silent for IMPORT_RUN_STALE_SECONDS is marked interrupted.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import pickle
import signal
import threading
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from queue import Empty, Full, Queue
from typing import IO, TYPE_CHECKING, Any

import psycopg2
import psycopg2.errors
from django.conf import settings
from django.db import (
    DatabaseError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cchc_portal import numbers
from commitments.organisation.models import Role, Unit
from procedures.models import CaseMove, CaseRecord, ImportRun, ImportStatus, Procedure
from procedures.ownership import SYSTEM, ImportScope, Refusal, refusal
from procedures.parsing import (
    COLUMNS,
    CellError,
    FileError,
    ParsedCase,
    RowParser,
    XlsxLimits,
    header_map,
    iter_table,
    local_month,
    xlsx_size,
)

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

BATCH_SIZE = 25_000
FIRST_BATCH_SIZE = 2_500
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
    rows_moved: int = 0
    errors: list[RowError] = field(default_factory=list)
    # A file's own name of each column it has (canonical → "ngay_hoan_thanh"):
    # the report names a column as the file did.
    column_names: dict[str, str] = field(default_factory=dict)
    # (unit id, local year, local month) of every row loaded, whether it
    # changed or not (see the module's docstring), and the old place of every
    # dossier moved.
    affected: set[tuple[int, int, int]] = field(default_factory=set)

    def reject(self, error: RowError) -> None:
        self.rows_rejected += 1
        if len(self.errors) < ERROR_LIMIT:
            self.errors.append(error)


Progress = Callable[[int], None]


class _Resolver:
    """Codes → ids, loaded once: a province has thousands of units and a few
    thousand procedures, far fewer than the rows of one file."""

    def __init__(self, scope: ImportScope) -> None:
        self.units = dict(Unit.objects.values_list("code", "pk"))
        self.procedures = dict(Procedure.objects.values_list("code", "pk"))
        self.scope = scope

    def resolve(self, case: ParsedCase) -> tuple[int, int]:
        unit_id = self.units.get(case.unit_code)
        if unit_id is None:
            raise CellError(
                "unit_code",
                _("No unit has the code “%(code)s”.") % {"code": case.unit_code},
            )
        if refusal(self.scope, stored=None, new=unit_id) is Refusal.TARGET:
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
    scope: ImportScope = SYSTEM,
    progress: Progress | None = None,
    result: ImportResult | None = None,
) -> ImportResult:
    """Validate, stage and upsert numbered rows (the n-th row below the header
    is row n, as in every import door: docs/decisions.md), as ``scope``
    allows (by default the administrator's own act: every unit).

    Two processes share the work, each on its own core: a child reads and
    validates rows (Python), this one stages and upserts the previous batch
    (the database). The reader never touches the database; it hands over
    whole batches through a short queue, so memory holds at most a few
    batches."""
    result = result if result is not None else ImportResult()
    resolver = _Resolver(scope)
    source = _Peekable(rows)
    batches = _reading(
        _read_batches(source, positions, resolver, as_text=_postgres(), run_id=run.pk),
        translation.get_language(),
        ended=source.ended,
    )
    _create_staging()
    loading = _Loading()
    try:
        with transaction.atomic() if run.atomic else nullcontext():
            for batch in batches:
                result.rows_total += batch.read
                for error in batch.errors:
                    result.reject(error)
                if run.atomic and result.rows_rejected:
                    continue  # nothing will be written; read on for the report
                _load(batch, result, run, scope, loading)
                _beat()
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
    scope: ImportScope = SYSTEM,
    progress: Progress | None = None,
    result: ImportResult | None = None,
) -> ImportResult:
    table = iter_table(stream, run.file_name)
    header = next(table, None)
    if header is None:
        raise FileError(_("The file is empty."))
    positions = header_map(header)
    result = result if result is not None else ImportResult()
    result.column_names = {
        column: header[index].strip().lstrip("\ufeff")
        for column, index in positions.items()
    }
    # Row 1 is the first row below the header, as in the API and the admin.
    numbered = ((number, cells) for number, cells in enumerate(table, start=1))
    return import_rows(
        numbered, positions, run=run, scope=scope, progress=progress, result=result
    )


class _Rejected(Exception):
    """An all-or-nothing import with rejected rows: roll everything back."""


# --- reading (the reader process) -------------------------------------------


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
    # PostgreSQL, for a batch of new dossiers only (_load_new): the rows in the
    # case table's own columns, their codes, and the codes with their rows as
    # SEEN takes them.
    direct: bytes | None = None
    codes: list[str] | None = None
    seen: bytes | None = None


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
    # The loading waits for the first batch: a small one starts it sooner.
    # Then each is twice the last, up to BATCH_SIZE: the reader reads the
    # next batch while the previous one loads, and a batch of BATCH_SIZE
    # right after a small first one kept the loading waiting for it.
    size = min(FIRST_BATCH_SIZE, BATCH_SIZE)
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
        if len(staged) >= size:
            yield _batch(staged, read, errors, months, as_text=as_text, run_id=run_id)
            size = min(2 * size, BATCH_SIZE)
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
    seen = io.StringIO()
    csv.writer(seen, quoting=csv.QUOTE_NOTNULL).writerows(
        (row[1], row[0]) for row in staged
    )
    return _Batch(
        buffer.getvalue().encode(),
        len(staged),
        read,
        errors,
        months,
        direct.getvalue().encode(),
        [row[1] for row in staged],
        seen.getvalue().encode(),
    )


# Batches read ahead of the loading: enough to keep both sides busy, few
# enough that memory stays flat whatever the file's size.
READ_AHEAD = 2


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _handed(item: object) -> _Batch | None:
    """What a reader handed over: a batch, or None after the last; its
    failure is raised here."""
    if isinstance(item, _Failed):
        raise item.error
    return item  # type: ignore[return-value]


class _Peekable:
    """The rows, with a look one row ahead: whether any is left."""

    def __init__(self, rows: Iterable[tuple[int, list[str]]]) -> None:
        self._rows = iter(rows)
        self._ahead: list[tuple[int, list[str]]] = []

    def __iter__(self) -> _Peekable:
        return self

    def __next__(self) -> tuple[int, list[str]]:
        if self._ahead:
            return self._ahead.pop()
        return next(self._rows)

    def ended(self) -> bool:
        if not self._ahead:
            try:
                self._ahead.append(next(self._rows))
            except StopIteration:
                return True
        return False


def _reading(
    items: Iterator[_Batch], language: str | None, *, ended: Callable[[], bool]
) -> Generator[_Batch]:
    """The first batch is read here (the loading waits for it anyway). When
    rows are left after it, the rest is read ahead of the consumer in a
    process of its own, forked from this one, so that reading (Python) and
    loading (this process, waiting on the database) use both cores instead
    of taking turns at one interpreter lock. The child inherits the file
    being read, the codes resolved and the rows iterator as they are; it
    never touches the database. Where a process cannot be forked (no fork on
    the platform, or a daemonic process, which may have no children) a
    thread reads instead. A file of one batch (an API push, most uploads)
    starts neither: forking costs more than such a file takes to read."""
    first = next(items, None)
    if first is None:
        return _handing_over(None, iter(()))
    if ended():
        return _handing_over(first, items)
    if (
        "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon
    ):
        return _handing_over(first, _in_background(items, language))
    return _handing_over(first, _in_process(items, language))


def _handing_over(first: _Batch | None, rest: Iterator[_Batch]) -> Generator[_Batch]:
    """``first``, then ``rest``; closing this closes ``rest`` (a reader's
    generator stops its process or thread)."""
    try:
        if first is not None:
            yield first
        yield from rest
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()


def _in_process(items: Iterator[_Batch], language: str | None) -> Generator[_Batch]:
    """Closing the generator stops the child; its exceptions surface here,
    and so does its death (killed, out of memory)."""
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = context.Queue(maxsize=READ_AHEAD)
    with warnings.catch_warnings():
        # Python warns that a thread of this process (the run's pulse, a
        # server's) may hold a lock the child then waits for; the child takes
        # none of theirs: it reads the file and validates rows.
        warnings.filterwarnings("ignore", "This process .* is multi-threaded")
        reader = context.Process(
            target=_produce,
            args=(items, language, queue),
            name="case-import-reader",
            daemon=True,
        )
        reader.start()
    try:
        while True:
            try:
                item = queue.get(timeout=1.0)
            except Empty:
                if reader.is_alive():
                    continue
                try:  # what it sent just before it ended
                    item = queue.get_nowait()
                except Empty:
                    raise RuntimeError(
                        f"the reader process ended with code {reader.exitcode}"
                    ) from None
            batch = _handed(item)
            if batch is None:
                return
            yield batch
    finally:
        if reader.is_alive():
            reader.terminate()
            reader.join(timeout=5)
            if reader.is_alive():
                reader.kill()
        reader.join()
        queue.close()


def _produce(items: Iterator[_Batch], language: str | None, queue: Any) -> None:
    """The child: every batch into the queue, then None; or the failure."""
    # Stopped by its parent, whatever handlers the parent had (a worker's).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if language:
        translation.activate(language)
    try:
        for item in items:
            queue.put(item)
        queue.put(None)
    except BaseException as error:  # handed to the parent
        try:
            pickle.dumps(error)
        except Exception:
            error = RuntimeError(repr(error))
        queue.put(_Failed(error))
    # The queue's own thread sends what was put before the process ends.
    queue.close()
    queue.join_thread()


def _in_background(items: Iterator[_Batch], language: str | None) -> Generator[_Batch]:
    """Run ``items`` in a thread, a couple of items ahead of the consumer.
    Closing the generator stops the thread; its exceptions surface here."""
    queue: Queue[object] = Queue(maxsize=READ_AHEAD)
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
            put(None)
        except BaseException as error:  # handed to the consumer
            put(_Failed(error))

    thread = threading.Thread(target=work, name="case-import-reader", daemon=True)
    thread.start()
    try:
        while True:
            batch = _handed(queue.get())
            if batch is None:
                return
            yield batch
    finally:
        stop.set()
        thread.join()


# --- staging and upsert (this process) -------------------------------------------
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


def _load(
    batch: _Batch,
    result: ImportResult,
    run: ImportRun,
    scope: ImportScope,
    loading: _Loading,
) -> None:
    """Stage one batch and upsert it, in one transaction: a crash leaves the
    database as it was before the batch. A batch of new dossiers only is not
    staged (_load_new)."""
    if not batch.size:
        return
    if _load_new(batch, result, loading):
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _stage(cursor, batch, analyze=not loading.analyzed)
        loading.analyzed = True
        repeats = _repeats(cursor)
        for number, code, first_row in repeats:
            result.reject(_repeat_error(number, code, first_row))
        refused = _refused(cursor, scope)
        for error in refused:
            result.reject(error)
        remember = (
            f"INSERT INTO {SEEN} (case_code, row_number) "
            f"SELECT case_code, row_number FROM {STAGING}"
        )
        if run.atomic and result.rows_rejected:
            cursor.execute(remember)
            return
        staged = batch.size - len(repeats) - len(refused)
        new, updated, affected = _changes(cursor, before=remember, batch=batch)
        moved = _record_moves(cursor, run) if updated else 0
        _upsert(cursor, run, scope)
    # Counted only once the batch is committed: a crash undoes both.
    result.rows_new += new
    result.rows_updated += updated
    result.rows_moved += moved
    result.rows_unchanged += staged - new - updated
    # Every month the batch's rows fall in, changed or not: figures left
    # stale by an earlier run (killed between loading and recomputing) are
    # put right by importing the file again.
    result.affected.update(batch.months)
    result.affected.update(affected)


@dataclass
class _Loading:
    """What the loading of one import carries from batch to batch."""

    # Whether a staged batch was analysed (the first one staged is).
    analyzed: bool = False
    # Whether to probe the case table before copying a batch straight in:
    # not after a batch of new dossiers only (the next is most likely new
    # too, as in a first import), where a known code fails the copy instead.
    probe: bool = True


class _NotNew(Exception):
    """A batch holds a code already in the case table: staged after all."""


def _load_new(batch: _Batch, result: ImportResult, loading: _Loading) -> bool:
    """Load a batch of new dossiers only without staging it: one probe of the
    case table's unique index finds none of its codes there, they go into
    SEEN (a code of an earlier batch fails SEEN's key: a repeat), and the rows
    are copied straight into the case table: COPY inserts rows many at a
    time, which an INSERT … SELECT does not, and this is most of a first
    import's time. Such a batch has no repeats, nothing to refuse
    (procedures.ownership only refuses changes to stored dossiers), no moves
    and no changes: every row is new, and its months are the batch's own.
    Anything else (a repeat, a known dossier, one another import added since
    the probe) rolls back to where it began and returns False, and the batch
    is staged as usual. After a batch of new dossiers the next is copied
    without the probe: a known code then fails the copy's unique key, which
    costs a part of one batch's copy once, and probing resumes. PostgreSQL
    only."""
    if batch.direct is None or batch.codes is None or batch.seen is None:
        return False
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if loading.probe and _any_known(cursor, batch.codes):
                raise _NotNew
            cursor.cursor.copy_expert(
                f"COPY {SEEN} (case_code, row_number) FROM STDIN WITH (FORMAT csv)",
                io.BytesIO(batch.seen),
                size=COPY_CHUNK,
            )
            _copy_new(cursor, batch.direct)
    except (_NotNew, psycopg2.errors.UniqueViolation):
        # Through the driver alone: its own error class.
        loading.probe = True
        return False
    loading.probe = False
    result.rows_new += batch.size
    result.affected.update(batch.months)
    return True


def _any_known(cursor: Any, codes: list[str]) -> bool:
    """Whether any of ``codes`` is in the case table (its unique index)."""
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {CaseRecord._meta.db_table} "
        "WHERE case_code = ANY(%s))",
        [codes],
    )
    return bool(cursor.fetchone()[0])


def _copy_new(cursor: Any, rows: bytes) -> None:
    """COPY rows in the case table's own columns into it. Its foreign keys
    are checked when the batch commits, as for the upsert (the reader has
    resolved every code, so none should fail)."""
    cursor.cursor.copy_expert(
        f"COPY {CaseRecord._meta.db_table} ({', '.join(CASE_COLUMNS)}, "
        "last_import_id) FROM STDIN WITH (FORMAT csv)",
        io.BytesIO(rows),
        size=COPY_CHUNK,
    )


def _refused(cursor: Any, scope: ImportScope) -> list[RowError]:
    """Rows that would change a dossier as stored in a way the actor may not
    (procedures.ownership), as row errors; they leave the batch.

    The reader has already refused a row naming a unit the actor may not
    write for, so a row keeping its dossier's unit is allowed: only the rows
    that move a dossier are read, in one query for the batch."""
    if scope.unlimited:
        return []
    table = CaseRecord._meta.db_table
    units = Unit._meta.db_table
    cursor.execute(
        f"""SELECT s.row_number, s.case_code, t.unit_id, s.unit_id,
                old.code, new.code
            FROM {STAGING} s
            JOIN {table} t ON t.case_code = s.case_code
            JOIN {units} old ON old.id = t.unit_id
            JOIN {units} new ON new.id = s.unit_id
            WHERE t.unit_id <> s.unit_id
            ORDER BY s.row_number"""
    )
    errors = []
    for number, code, stored, new, stored_code, new_code in cursor.fetchall():
        reason = refusal(scope, stored=stored, new=new)
        if reason is None:
            continue
        errors.append(
            RowError(
                number,
                "unit_code",
                refusal_message(reason, code, stored_code),
                new_code,
            )
        )
    if errors:
        numbers = [error.row for error in errors]
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            cursor.execute(
                f"DELETE FROM {STAGING} WHERE row_number IN "
                f"({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
    return errors


def refusal_message(reason: Refusal, code: str, stored_unit: str) -> str:
    """Why a row is refused, for its row error. A dossier of a unit the actor
    may not write for is not named by its unit: the actor may not see it."""
    if reason is Refusal.STORED:
        return _(
            "The case code “%(code)s” belongs to a dossier of a unit you may not "
            "write for; it is left unchanged."
        ) % {"code": code}
    if reason is Refusal.MOVE:
        return _(
            "This row would move dossier “%(code)s” from unit “%(unit)s” to "
            "another unit; only a reviewer over both units may move a dossier."
        ) % {"code": code, "unit": stored_unit}
    return _("You may not import case records for this unit.")


def _record_moves(cursor: Any, run: ImportRun) -> int:
    """Record each dossier of the batch that changes unit (CaseMove), before
    the upsert writes the new unit over the old."""
    table = CaseRecord._meta.db_table
    cursor.execute(
        f"""INSERT INTO {CaseMove._meta.db_table}
                (case_code, from_unit_id, to_unit_id, run_id, moved_by_id, moved_at)
            SELECT s.case_code, t.unit_id, s.unit_id, %s, %s, %s
            FROM {STAGING} s JOIN {table} t ON t.case_code = s.case_code
            WHERE t.unit_id <> s.unit_id""",
        [
            run.pk,
            run.user_id,
            connection.ops.adapt_datetimefield_value(timezone.now()),
        ],
    )
    return max(cursor.rowcount, 0)


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


def _upsert(cursor: Any, run: ImportRun, scope: ImportScope) -> None:
    table = CaseRecord._meta.db_table
    columns = ", ".join(CASE_COLUMNS)
    conflict_differs = _differs(table, "excluded")
    if scope.movable is not None and not scope.movable:
        # An actor who may move nothing never moves a dossier, even one
        # another import moved since this batch was checked.
        conflict_differs += f" AND {table}.unit_id = excluded.unit_id"
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


def import_scope_for(user: AnyUser | None) -> ImportScope:
    """What ``user`` may do to case records through an import: write for the
    units reached as staff, head or reviewer, move dossiers between the units
    reached as a reviewer. None is the administrator's own act (the command
    run without --as-user): every unit."""
    from commitments.organisation.access import unit_ids_writable_by, units_q

    if user is None:
        return SYSTEM
    writable = unit_ids_writable_by(user)
    if writable is None:
        return SYSTEM
    movable = Unit.objects.filter(
        units_q(user, roles=frozenset({Role.REVIEWER}))
    ).values_list("pk", flat=True)
    return ImportScope(writable=frozenset(writable), movable=frozenset(movable))


def run_import(
    run: ImportRun,
    stream: IO[bytes] | None = None,
    *,
    scope: ImportScope = SYSTEM,
    progress: Progress | None = None,
) -> ImportRun:
    """Import a file (``stream``, or the file stored on the run) and record the
    outcome on ``run``. A file-level error or a crash marks the run failed; rows
    already committed stay (not with atomic)."""

    def load(result: ImportResult) -> None:
        options = {"run": run, "scope": scope, "progress": progress, "result": result}
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
    scope: ImportScope = SYSTEM,
) -> ImportRun:
    """Import numbered rows laid out in the canonical column order (the REST
    door) and record the outcome on ``run``, as run_import does for a file."""
    positions = {column: index for index, column in enumerate(COLUMNS)}

    def load(result: ImportResult) -> None:
        import_rows(rows, positions, run=run, scope=scope, result=result)

    return _run(run, load)


def _run(run: ImportRun, load: Callable[[ImportResult], None]) -> ImportRun:
    """The life of an import run, whichever door it came through: claim it
    (compare-and-set, so a second delivery does nothing), load while sending
    signs of life, record the outcome, and have the months of the rows read
    recomputed once committed."""
    now = timezone.now()
    # Whatever door: a run whose process died is found here at the latest.
    runs_interrupt_stale(now=now, exclude=run.pk)
    started = ImportRun.objects.filter(pk=run.pk, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    if not started:
        run.refresh_from_db()
        return run  # already taken by another worker
    run.refresh_from_db()
    result = ImportResult()
    try:
        with _Pulse(run.pk, result):
            load(result)
    except FileError as error:
        _finish(run, ImportStatus.FAILED, result, str(error))
        _recompute_later(result)
        raise
    except Exception as error:
        # Batches committed before the failure stay, and their counts with them.
        _finish(run, ImportStatus.FAILED, result, repr(error))
        _recompute_later(result)
        raise
    except BaseException:
        # Stopped from outside (Ctrl-C on the command, the worker's shutdown):
        # what was committed stays, as when the process is killed.
        _finish(run, ImportStatus.INTERRUPTED, result, _interrupted_message())
        raise
    failed = run.atomic and result.rows_rejected > 0
    _finish(
        run,
        ImportStatus.FAILED if failed else ImportStatus.SUCCEEDED,
        result,
        _("Nothing was imported: %(count)s row(s) were rejected.")
        % {"count": numbers.number(result.rows_rejected)}
        if failed
        else "",
    )
    run.affected = result.affected  # type: ignore[attr-defined]
    _recompute_later(result)
    return run


def run_import_by_id(run_id: int) -> ImportRun | None:
    """The upload door: the file is stored on the run, and the rows a user may
    import are decided by the user recorded on it."""
    run = ImportRun.objects.select_related("user").filter(pk=run_id).first()
    if run is None:
        return None
    # A run without a user (its account deleted) imports for no unit.
    scope = (
        import_scope_for(run.user)
        if run.user is not None
        else ImportScope(writable=frozenset(), movable=frozenset())
    )
    if run.file and not run.rows_expected and run.status == ImportStatus.PENDING:
        ImportRun.objects.filter(pk=run.pk).update(rows_expected=_count_rows(run))
    try:
        return run_import(run, scope=scope)
    except FileError:
        return run  # recorded on the run as failed


def _count_rows(run: ImportRun) -> int:
    """Rows in the stored file, for the progress bar (a quick pass over it)."""
    with run.file.open("rb") as handle:
        if handle.read(4) == b"PK\x03\x04":
            handle.seek(0)
            try:
                size = xlsx_size(handle, XlsxLimits.from_settings())
            except FileError:  # the import itself will say why
                return 0
            return max(size.rows - 1, 0)
        handle.seek(0)
        lines = sum(
            chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")
        )
        return max(lines - 1, 0)


# --- signs of life ----------------------------------------------------------------

# How often a run writes its sign of life and its progress.
PULSE_SECONDS = 2.0


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "IMPORT_RUN_STALE_SECONDS", 600))


class _Pulse:
    """While a run loads, write its sign of life and the rows read so far
    every PULSE_SECONDS.

    On PostgreSQL from a thread of its own, on its own connection: the load
    may be one long transaction (atomic), whose writes nobody else sees and
    which would hold the run's row locked. SQLite has one writer at a time,
    so there the loading thread writes them between batches (_Pulse.beat)."""

    def __init__(self, run_id: int, result: ImportResult) -> None:
        self.run_id = run_id
        self.result = result
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.last = 0.0

    def __enter__(self) -> _Pulse:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.thread = threading.Thread(
                target=self._work, name="case-import-pulse", daemon=True
            )
            self.thread.start()
        else:
            _beating.pulse = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        elif getattr(_beating, "pulse", None) is self:
            _beating.pulse = None

    def write(self) -> None:
        ImportRun.objects.filter(pk=self.run_id, status=ImportStatus.RUNNING).update(
            heartbeat_at=timezone.now(), rows_done=self.result.rows_total
        )

    def beat(self) -> None:
        now = timezone.now().timestamp()
        if now - self.last >= PULSE_SECONDS:
            self.last = now
            self.write()

    def _work(self) -> None:
        try:
            while not self.stop.wait(PULSE_SECONDS):
                # The database busy or gone: the next beat may pass.
                with suppress(DatabaseError):
                    self.write()
        finally:
            connections.close_all()  # this thread's own connection


# The pulse the loading thread beats itself, between batches (SQLite).
_beating = threading.local()


def _beat() -> None:
    pulse: _Pulse | None = getattr(_beating, "pulse", None)
    if pulse is not None:
        pulse.beat()


def _interrupted_message(since: datetime | None = None) -> str:
    if since is None:
        return _(
            "The import was stopped before it ended. Rows of the batches "
            "committed before stay; importing the file again is safe."
        )
    return _(
        "No sign of life from the process running this import since %(time)s "
        "(it was stopped or ran out of memory). Rows of the batches committed "
        "before stay; importing the file again is safe."
    ) % {"time": timezone.localtime(since).strftime("%d/%m/%Y %H:%M")}


def runs_interrupt_stale(*, now: datetime, exclude: int | None = None) -> int:
    """Mark interrupted the runs silent for IMPORT_RUN_STALE_SECONDS: their
    process died (killed, out of memory) without a word. Compare-and-set, run
    by run: one that beats meanwhile is left running."""
    cutoff = now - stale_after()
    stale = ImportRun.objects.filter(status=ImportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    if exclude is not None:
        stale = stale.exclude(pk=exclude)
    marked = 0
    for pk, heartbeat, started in stale.values_list("pk", "heartbeat_at", "started_at"):
        last = heartbeat or started
        marked += ImportRun.objects.filter(
            pk=pk, status=ImportStatus.RUNNING, heartbeat_at=heartbeat
        ).update(
            status=ImportStatus.INTERRUPTED,
            finished_at=now,
            error=_interrupted_message(last),
        )
    return marked


def run_interrupt_if_stale(run: ImportRun, *, now: datetime) -> ImportRun:
    """The run as it is, marked interrupted first if it is running and silent
    for too long (its page asked)."""
    if run.status != ImportStatus.RUNNING:
        return run
    last = run.heartbeat_at or run.started_at
    if last is None or last >= now - stale_after():
        return run
    if ImportRun.objects.filter(
        pk=run.pk, status=ImportStatus.RUNNING, heartbeat_at=run.heartbeat_at
    ).update(
        status=ImportStatus.INTERRUPTED,
        finished_at=now,
        error=_interrupted_message(last),
    ):
        run.refresh_from_db()
    return run


def run_worker_lost(run_id: int) -> bool:
    """The worker process running ``run_id`` died (Celery reports it to the
    worker's main process): mark the run interrupted, unless it ended."""
    now = timezone.now()
    return bool(
        ImportRun.objects.filter(
            pk=run_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]
        ).update(
            status=ImportStatus.INTERRUPTED,
            started_at=Coalesce(F("started_at"), Value(now)),
            finished_at=now,
            error=_interrupted_message(now),
        )
    )


def _finish(run: ImportRun, status: str, result: ImportResult, error: str) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.rows_total = result.rows_total
    run.rows_done = result.rows_total
    run.rows_new = result.rows_new
    run.rows_updated = result.rows_updated
    run.rows_unchanged = result.rows_unchanged
    run.rows_rejected = result.rows_rejected
    run.rows_moved = result.rows_moved
    # Repeated codes are found after every row is read: sort so that the
    # report reads in the file's order.
    names = result.column_names
    run.errors = [
        {**e.as_dict(), "column": names.get(e.column, e.column)}
        for e in sorted(result.errors, key=lambda e: (e.row, e.column))
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
            "rows_moved",
            "errors",
            "error",
        ]
    )


def _recompute_later(result: ImportResult) -> None:
    """Have the months of the rows loaded recomputed once committed, whether
    the run ended well or not: batches committed before a failure stay."""
    if not result.affected:
        return
    # Imported here: tasks import this module.
    from procedures.tasks import recompute_metrics_task

    affected = sorted([list(key) for key in result.affected])
    transaction.on_commit(lambda: recompute_metrics_task.delay(affected))
