"""The demo province seeded once per session and copied into each test.

seed_demo runs thousands of validated queries and computes four years of
results; a dozen tests seed it, each in its own transaction, and seeding it
there again and again was most of the suite's time. Here the first test that
asks for a list of steps (settings.DEMO_STEPS as the test set it) seeds it,
one step after the other, and keeps every table's rows after each step, with
what the command wrote and the files the steps stored. A later test asking for
the same list, or for the first steps of it, gets the rows loaded into its own
transaction instead (the tables emptied first), so it is rolled back at its
end as before and every test sees a fresh copy. A list that starts with a list
already kept starts from that copy and runs only the steps after it, as
seed_demo does: each step in its own transaction, in order, after the ones
before it.

The copies are shared by the session's pytest-xdist workers: each one kept
is also pickled into a folder of the session's, and a worker that needs one
another worker kept loads it from there. Seeding holds a lock on that folder,
so a worker that needs a copy another is seeding waits for it rather than
seeding the same again; the whole run seeds each list of steps once.

Seeding inside a test's transaction runs each step's on-commit callbacks
when the step ends (as its commit would), so the copy is the same whether a
test or a transactional (browser) test made it.

Where the rows live between tests: SQLite's rows as Python tuples, written
back with executemany; PostgreSQL's tables in COPY's text format, written back
with COPY FROM after a TRUNCATE (both transactional there, and TRUNCATE is
what the frozen snapshots' triggers let through), then each sequence moved
past the ids the copy holds. Foreign keys are checked at commit (Django
creates them deferred on both), so the order of the tables does not matter.

The copy must be taken before the test writes anything of its own: call it
first (the rows present when it is called are replaced)."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import pickle
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import TestCase, override_settings

DONE = "Demo data ready.\n"


@dataclass(frozen=True)
class DemoCopy:
    # What seed_demo wrote, its last line ("Demo data ready.") included.
    output: str
    # Table name -> rows (SQLite: a list of tuples; PostgreSQL: COPY bytes).
    tables: dict[str, Any]
    # Files the steps stored under MEDIA_ROOT: relative path -> content.
    files: dict[str, bytes] = field(default_factory=dict)


class DemoCopies:
    """The copies kept for the session, one per list of steps (and database
    vendor, and demo size); `shared` is the folder the session's workers
    share them in (None: this process only)."""

    def __init__(self, shared: Path | None = None) -> None:
        self._copies: dict[tuple[Any, ...], DemoCopy] = {}
        self._shared = shared
        if shared is not None:
            shared.mkdir(parents=True, exist_ok=True)

    def seed(self) -> str:
        """The demo of settings.DEMO_STEPS in the test's database, as
        `seed_demo` would leave it; returns what the command wrote."""
        if connection.vendor not in ("sqlite", "postgresql"):
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            return out.getvalue()
        steps = tuple(settings.DEMO_STEPS)
        kept = self._kept(steps)
        if kept is None:
            with self._seeding():
                # Another worker may have kept it while this one waited.
                kept = self._kept(steps)
                if kept is None:
                    # Seeded here: the database holds it already.
                    return self._seed(steps).output
        _load(kept)
        return kept.output

    def restore(self) -> str:
        """seed() for a test whose writes are committed (a browser test: its
        live server reads them), called outside any transaction. On SQLite
        the whole database is replaced from a file in one step (the backup
        API, as the migrated template is put in) instead of row by row: the
        file is written the first time a process of the session needs it."""
        if connection.vendor != "sqlite" or self._shared is None:
            with transaction.atomic():
                return self.seed()
        steps = tuple(settings.DEMO_STEPS)
        path = self._path(self._key(steps))
        assert path is not None
        snapshot = path.with_suffix(".sqlite3")
        connection.ensure_connection()
        if not snapshot.exists():
            with transaction.atomic():
                output = self.seed()
            partial = snapshot.with_suffix(f".{os.getpid()}.part")
            with closing(sqlite3.connect(partial)) as target:
                connection.connection.backup(target)
            os.replace(partial, snapshot)
            return output
        kept = self._kept(steps)
        assert kept is not None
        ContentType.objects.clear_cache()
        with closing(sqlite3.connect(snapshot)) as source:
            source.backup(connection.connection)
        ContentType.objects.clear_cache()
        _put_files(kept)
        return kept.output

    def _seed(self, steps: tuple[str, ...]) -> DemoCopy:
        start = self._longest_kept_prefix(steps)
        output, files = "", {}
        if start:
            earlier = self._kept(steps[:start])
            assert earlier is not None
            assert earlier.output.endswith(DONE), earlier.output
            _load(earlier)
            output, files = earlier.output.removesuffix(DONE), dict(earlier.files)
        # Step by step, each kept: a later test asking for fewer steps (the
        # demo tests ask for 2, 4, 5, 6 or 7 of them, in any order) loads
        # its copy instead of seeding again.
        copy = None
        for end in range(start + 1, len(steps) + 1):
            before = _media_files()
            out = io.StringIO()
            with override_settings(DEMO_STEPS=[steps[end - 1]]), _on_commit_run():
                call_command("seed_demo", stdout=out)
            files.update(_read_new_files(before))
            output += out.getvalue().removesuffix(DONE)
            copy = DemoCopy(output + DONE, _dump(), dict(files))
            self._keep(steps[:end], copy)
        assert copy is not None
        return copy

    def _kept(self, steps: tuple[str, ...]) -> DemoCopy | None:
        key = self._key(steps)
        if key not in self._copies:
            path = self._path(key)
            if path is None or not path.exists():
                return None
            with path.open("rb") as f:
                self._copies[key] = pickle.load(f)
        return self._copies[key]

    def _keep(self, steps: tuple[str, ...], copy: DemoCopy) -> None:
        key = self._key(steps)
        self._copies[key] = copy
        path = self._path(key)
        if path is not None:
            # Written beside and renamed: another worker never reads half.
            partial = path.with_suffix(".part")
            with partial.open("wb") as f:
                pickle.dump(copy, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial, path)

    def _longest_kept_prefix(self, steps: tuple[str, ...]) -> int:
        for length in range(len(steps) - 1, 0, -1):
            if self._kept(steps[:length]) is not None:
                return length
        return 0

    @contextmanager
    def _seeding(self) -> Iterator[None]:
        if self._shared is None:
            yield
            return
        with (self._shared / "seeding.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _path(self, key: tuple[Any, ...]) -> Path | None:
        if self._shared is None:
            return None
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
        return self._shared / f"{digest}.pickle"

    @staticmethod
    def _key(steps: tuple[str, ...]) -> tuple[Any, ...]:
        # Not the database's name: the workers' test databases differ in
        # name only, their schema is the session's.
        return (connection.alias, connection.vendor, settings.DEMO_CASES, steps)


@contextmanager
def _on_commit_run() -> Iterator[None]:
    """Inside a test's transaction, the step's on-commit callbacks run when
    it ends, as they would when it commits; outside one they run at its
    commit anyway."""
    if not connection.in_atomic_block:
        yield
        return
    with TestCase.captureOnCommitCallbacks(using=connection.alias, execute=True):
        yield


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(name for name in names if name != "django_migrations")


def _dump() -> dict[str, Any]:
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for table in _tables():
            if connection.vendor == "postgresql":
                buffer = io.BytesIO()
                cursor.copy_expert(f'COPY "{table}" TO STDOUT', buffer)
                found[table] = buffer.getvalue()
            else:
                found[table] = _sqlite_rows(table)
    return found


def _sqlite_rows(table: str) -> list[tuple[Any, ...]]:
    """The rows as SQLite stores them. `+column` is the value unchanged but
    no longer a column, so the connection's converters (Django's, by declared
    type: dates, booleans) do not turn it into Python objects and back."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f'PRAGMA table_info("{table}")')
        columns = ", ".join(f'+"{row[1]}"' for row in cursor.fetchall())
        cursor.execute(f'SELECT {columns} FROM "{table}"')
        return cursor.fetchall()
    finally:
        cursor.close()


def _load(kept: DemoCopy) -> None:
    """Replace every table's rows by the copy's, inside the test's
    transaction, and put back the files the steps stored."""
    ContentType.objects.clear_cache()
    if connection.vendor == "postgresql":
        _load_postgresql(kept.tables)
    else:
        _load_sqlite(kept.tables)
    # Content-type ids come from the copy; forget any the process has cached.
    ContentType.objects.clear_cache()
    _put_files(kept)


def _put_files(kept: DemoCopy) -> None:
    media = Path(settings.MEDIA_ROOT)
    for name, content in kept.files.items():
        path = media / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def _load_sqlite(tables: dict[str, list[tuple[Any, ...]]]) -> None:
    # The raw sqlite3 cursor: Django's would format every row of the copy
    # for its query log.
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        for table in tables:
            cursor.execute(f'DELETE FROM "{table}"')
        for table, rows in tables.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                cursor.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
    finally:
        cursor.close()


def _load_postgresql(tables: dict[str, bytes]) -> None:
    with connection.cursor() as cursor:
        names = ", ".join(f'"{table}"' for table in tables)
        cursor.execute(f"TRUNCATE {names}")
        for table, rows in tables.items():
            if rows:
                cursor.copy_expert(f'COPY "{table}" FROM STDIN', io.BytesIO(rows))
        for statement in connection.ops.sequence_reset_sql(
            no_style(), apps.get_models(include_auto_created=True)
        ):
            cursor.execute(statement)


def _media_files() -> set[str]:
    media = Path(settings.MEDIA_ROOT)
    if not media.is_dir():
        return set()
    return {
        str((Path(root) / name).relative_to(media))
        for root, _dirs, names in os.walk(media)
        for name in names
    }


def _read_new_files(before: set[str]) -> dict[str, bytes]:
    media = Path(settings.MEDIA_ROOT)
    return {name: (media / name).read_bytes() for name in _media_files() - before}
