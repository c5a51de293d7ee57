"""Browser fixtures: Debian's Chromium driven by Playwright's sync API against
pytest-django's live server.

Playwright never downloads a browser here: the system Chromium is launched from
$CHROMIUM (default /usr/bin/chromium). Screenshots land in
test-artifacts/screenshots/ (gitignored), one file per test and user name."""

from __future__ import annotations

import io
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling home, and the
# sandbox needs user namespaces a container rarely has.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# Every wait is on the local live server: anything slower than this is a bug.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The system Chromium, launched once for the session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install chromium, or set "
            "CHROMIUM=/path/to/chromium (make test installs it when run as root)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own context: no cookies or session carried over."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="vi-VN"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def _demo_snapshot() -> Iterator[dict[str, Any]]:
    """A copy of the seeded test database, kept for the session: a SQLite
    connection, or PostgreSQL's tables as COPY data."""
    snapshots: dict[str, Any] = {}
    yield snapshots
    for snapshot in snapshots.values():
        if isinstance(snapshot, sqlite3.Connection):
            snapshot.close()


@pytest.fixture
def demo_province(
    live_server: LiveServer,
    transactional_db: None,
    _demo_snapshot: dict[str, Any],
) -> None:
    """The demo province and its logins, in the database the live server reads.

    seed_demo runs some thousands of validated queries and computes four years
    of results, and a transactional test empties the database when it ends.
    The first test seeds and keeps a copy, the later ones copy it back: SQLite's
    backup API, or on PostgreSQL every table COPYed out and back in (in a
    second or so, where seeding takes some twenty)."""
    if connection.vendor == "postgresql":
        tables = _demo_snapshot.get("postgresql")
        if tables is None:
            call_command("seed_demo", stdout=io.StringIO())
            _demo_snapshot["postgresql"] = _copy_out()
        else:
            _copy_in(tables)
            ContentType.objects.clear_cache()
        return
    if connection.vendor != "sqlite":
        call_command("seed_demo", stdout=io.StringIO())
        return
    connection.ensure_connection()
    database = connection.connection
    snapshot = _demo_snapshot.get(connection.alias)
    if snapshot is None:
        call_command("seed_demo", stdout=io.StringIO())
        snapshot = sqlite3.connect(":memory:", check_same_thread=False)
        database.backup(snapshot)
        _demo_snapshot[connection.alias] = snapshot
    else:
        snapshot.backup(database)
        # Content-type ids come from the copy, not from the flush that emptied
        # the database; forget any the process has cached.
        ContentType.objects.clear_cache()


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return [name for name in names if name != "django_migrations"]


def _copy_out() -> dict[str, bytes]:
    """Every table's rows in PostgreSQL's COPY text format."""
    found = {}
    with connection.cursor() as cursor:
        for table in _tables():
            buffer = io.BytesIO()
            cursor.copy_expert(f'COPY "{table}" TO STDOUT', buffer)
            found[table] = buffer.getvalue()
    return found


def _copy_in(tables: dict[str, bytes]) -> None:
    """Empty the tables and load the copy back in one transaction (Django's
    foreign keys are checked at its end), then move every sequence past the
    ids it holds."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        names = ", ".join(f'"{table}"' for table in tables)
        cursor.execute(f"TRUNCATE {names} CASCADE")
        for table, rows in tables.items():
            if rows:
                cursor.copy_expert(f'COPY "{table}" FROM STDIN', io.BytesIO(rows))
        for statement in connection.ops.sequence_reset_sql(
            no_style(), apps.get_models(include_auto_created=True)
        ):
            cursor.execute(statement)


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save a full-page screenshot as <test>-<label>.png and return its path."""

    def take(label: str) -> Path:
        name = re.sub(r"[^\w.-]+", "_", f"{request.node.originalname}-{label}")
        path = SCREENSHOT_DIR / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in(page: Page, live_server: LiveServer) -> Callable[..., None]:
    """Open /login/, fill in the form and submit it; returns once the answer to
    the POST (and its redirects) has loaded, whatever page that is."""

    def submit(username: str, password: str | None = None) -> None:
        page.goto(f"{live_server.url}/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password or settings.DEMO_PASSWORD)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()

    return submit
