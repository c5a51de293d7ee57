"""One database migrated for the whole session, copied wherever the suite
needs a database with every migration applied.

`migrate` from nothing renders the models' state some hundreds of times (about
fifteen seconds of one core), and the suite needed it once per pytest-xdist
worker for its test database, plus once more for the tests that run real
worker processes over a scratch database. Now the first process to need it
migrates a template under a lock in the session's shared temporary folder,
in a child process as `manage.py migrate` would, and the others copy it:

- SQLite: a file; a worker's in-memory test database receives it through
  SQLite's backup API, a scratch database is a copy of the file.
- PostgreSQL: a database named after the test databases with `_migrated`;
  a test database or a scratch database is `CREATE DATABASE … TEMPLATE` it.

Django still creates each test database itself (with TEST["MIGRATE"] off, so
from the models, in a second), and the template's content then replaces it
whole: schema, triggers, constraints, the data migrations' rows and the
`django_migrations` table, exactly as `migrate` leaves them."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

ROOT = Path(settings.BASE_DIR)


@dataclass(frozen=True)
class Migrated:
    vendor: str
    # SQLite: the migrated file; PostgreSQL: the template database's name.
    name: str
    # The session's shared folder (its lock serialises the copies).
    shared: Path
    # PostgreSQL: the server's URL without a database ("postgres://…:5432").
    server: str = ""

    def copy_into_test_database(self) -> None:
        """Replace the test database Django just created by the template."""
        if self.vendor == "sqlite":
            connection.ensure_connection()
            with closing(sqlite3.connect(self.name)) as source:
                source.backup(connection.connection)
            return
        name = connection.settings_dict["NAME"]
        connections.close_all()
        self.create_database(name, replace=True)

    def create_database(self, name: str, *, replace: bool = False) -> None:
        """PostgreSQL: a new database `name` as a copy of the template."""
        import psycopg2

        with closing(psycopg2.connect(f"{self.server}/postgres")) as admin:
            admin.autocommit = True
            with admin.cursor() as cursor, _locked(self.shared):
                if replace:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')


def migrated_template(shared: Path) -> Migrated:
    """The session's template, migrated by the first process to ask."""
    shared.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "postgresql":
        return _postgresql_template(shared)
    return _sqlite_template(shared)


def _sqlite_template(shared: Path) -> Migrated:
    migrated = shared / "migrated.sqlite3"
    with _locked(shared):
        if not migrated.exists():
            building = shared / f"migrating-{uuid.uuid4().hex[:8]}.sqlite3"
            _migrate(f"sqlite:///{building}")
            building.rename(migrated)
    return Migrated("sqlite", str(migrated), shared)


def _postgresql_template(shared: Path) -> Migrated:
    import psycopg2

    server, _, base = os.environ["DATABASE_URL"].partition("?")[0].rpartition("/")
    # Beside the workers' test databases (test_<name>_gw0, test_<name>_gw1, …).
    name = f"test_{base}_migrated"
    marker = shared / "migrated.postgresql"
    with _locked(shared):
        if not marker.exists():
            with closing(psycopg2.connect(f"{server}/postgres")) as admin:
                admin.autocommit = True
                with admin.cursor() as cursor:
                    # A template left by an earlier run is rebuilt: the
                    # migrations may have changed since.
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    cursor.execute(f'CREATE DATABASE "{name}"')
            _migrate(f"{server}/{name}")
            marker.write_text(name)
    return Migrated("postgresql", name, shared, server)


def _migrate(url: str) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "SCORING_"))
    }
    env.update(
        DEBUG="1",
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="cchc_portal.settings",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


class _locked:
    """An exclusive lock on the shared folder, across the session's
    processes."""

    def __init__(self, shared: Path) -> None:
        self._path = shared / "migrated.lock"

    def __enter__(self) -> None:
        self._file = self._path.open("w")
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
