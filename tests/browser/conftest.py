"""Browser fixtures: Debian's Chromium driven by Playwright's sync API against
pytest-django's live server.

Playwright never downloads a browser here: the system Chromium is launched from
$CHROMIUM (default /usr/bin/chromium). Screenshots land in
test-artifacts/screenshots/ (gitignored), one file per test and user name."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.demo_copies import DemoCopies

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


@pytest.fixture
def demo_province(
    live_server: LiveServer,
    transactional_db: None,
    _demo_copies: DemoCopies,
) -> None:
    """The demo province and its logins, in the database the live server reads.

    seed_demo runs some thousands of validated queries and computes four years
    of results, and a transactional test empties the database when it ends:
    the session's demo copy (tests/demo_copies.py, the one the other demo
    tests load) is put in and committed instead (on SQLite the whole
    database from a file, DemoCopies.restore), seeded first if no test of
    the session has yet."""
    _demo_copies.restore()
    ContentType.objects.clear_cache()


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
