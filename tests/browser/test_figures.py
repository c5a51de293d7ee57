"""A unit's figures page in the browser (issue 17): the running year says
"tính đến" when it was judged, and the range form counts a range of months
as one period, each dossier once.

Driven like the other browser tests (the system Chromium through Playwright,
against the live server), with their browser and page fixtures."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from procedures import metrics
from tests.browser.conftest import SCREENSHOT_DIR
from tests.conftest import PASSWORD
from tests.procedures.figure_data import dossiers, local

pytestmark = pytest.mark.browser


def test_the_figures_page_says_as_of_when_and_counts_a_range(
    page: Page,
    live_server: LiveServer,
    transactional_db: None,
    org,
    commune_staff,
) -> None:
    dossiers(
        org.commune_a,
        [
            ("CARRIED", local(2026, 3, 28, 8), local(2026, 4, 20, 17), None),
            ("MAY", local(2026, 5, 4, 8), local(2026, 5, 8, 17), local(2026, 5, 7, 9)),
            ("DEC", local(2026, 12, 1, 8), local(2026, 12, 20, 17), None),
        ],
    )
    metrics.metrics_refresh(as_of=local(2026, 3, 30, 8, 0))
    metrics.metrics_refresh(as_of=local(2026, 12, 7, 8, 0))

    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(commune_staff.username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    page.goto(f"{live_server.url}/units/CITY-A/metrics/?year=2026")

    expect(page.get_by_test_id("metrics-as-of")).to_contain_text(
        "tính đến 07/12/2026 08:00"
    )
    expect(page.get_by_test_id("row-as-of").first).to_have_text(
        "tính đến 07/12/2026 08:00"
    )
    # Every month before December was judged after it ended.
    expect(page.get_by_test_id("row-as-of")).to_have_count(3)  # month, quarter, year

    form = page.get_by_test_id("range-form")
    form.locator("#id_from").fill("2026-04")
    form.locator("#id_to").fill("2026-06")
    with page.expect_navigation():
        page.get_by_test_id("range-submit").click()
    row = page.get_by_test_id("range-row")
    expect(row).to_contain_text("Từ 04/2026 đến 06/2026")
    cells = row.locator("td")
    # The dossier carried from March and May's: two in scope, each once.
    expect(cells.nth(0)).to_have_text("1")  # received
    expect(cells.nth(1)).to_have_text("2")  # in scope
    expect(cells.nth(2)).to_have_text("1")  # on time
    expect(cells.nth(3)).to_have_text("50,00%")
    expect(page.get_by_test_id("range-as-of")).to_have_count(0)  # over
    csv_link = page.get_by_test_id("range-csv")
    expect(csv_link).to_have_attribute(
        "href", "/metrics/export.csv?unit=CITY-A&from=2026-04&to=2026-06"
    )
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "figures-range.png"), full_page=True)
