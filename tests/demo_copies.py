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

Where the rows live between tests: SQLite's rows as Python tuples, written
back with executemany; PostgreSQL's tables in COPY's text format, written back
with COPY FROM after a TRUNCATE (both transactional there, and TRUNCATE is
what the frozen snapshots' triggers let through), then each sequence moved
past the ids the copy holds. Foreign keys are checked at commit (Django
creates them deferred on both), so the order of the tables does not matter.

The copy must be taken before the test writes anything of its own: call it
first (the rows present when it is called are replaced)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.test import override_settings

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
    """The copies kept for the session, one per list of steps (and database,
    and demo size)."""

    def __init__(self) -> None:
        self._copies: dict[tuple[Any, ...], DemoCopy] = {}

    def seed(self) -> str:
        """The demo of settings.DEMO_STEPS in the test's database, as
        `seed_demo` would leave it; returns what the command wrote."""
        if connection.vendor not in ("sqlite", "postgresql"):
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            return out.getvalue()
        steps = tuple(settings.DEMO_STEPS)
        kept = self._copies.get(self._key(steps))
        if kept is not None:
            _load(kept)
            return kept.output
        start = self._longest_kept_prefix(steps)
        output, files = "", {}
        if start:
            earlier = self._copies[self._key(steps[:start])]
            _load(earlier)
            assert earlier.output.endswith(DONE), earlier.output
            output, files = earlier.output.removesuffix(DONE), dict(earlier.files)
        # Step by step, each kept: a later test asking for fewer steps (the
        # demo tests ask for 2, 4, 5, 6 or 7 of them, in any order) loads
        # its copy instead of seeding again.
        for end in range(start + 1, len(steps) + 1):
            before = _media_files()
            out = io.StringIO()
            with override_settings(DEMO_STEPS=[steps[end - 1]]):
                call_command("seed_demo", stdout=out)
            files.update(_read_new_files(before))
            output += out.getvalue().removesuffix(DONE)
            copy = DemoCopy(output + DONE, _dump(), dict(files))
            self._copies.setdefault(self._key(steps[:end]), copy)
        return self._copies[self._key(steps)].output

    def _longest_kept_prefix(self, steps: tuple[str, ...]) -> int:
        for length in range(len(steps) - 1, 0, -1):
            if self._key(steps[:length]) in self._copies:
                return length
        return 0

    @staticmethod
    def _key(steps: tuple[str, ...]) -> tuple[Any, ...]:
        return (
            connection.alias,
            connection.vendor,
            connection.settings_dict["NAME"],
            settings.DEMO_CASES,
            steps,
        )


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
