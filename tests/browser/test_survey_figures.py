"""The survey figures' import in the browser (issue 19, item 5): Sở Nội vụ
uploads the year's survey spreadsheet, reads the preview of each row (a row
error named by its row and the file's own column), uploads the corrected
file and confirms; nothing is written before the confirmation."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from scoring.models import SurveyFigure
from tests.browser.steps import click_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]
WARD = "HD-CL-LEDAIHANH"  # Phường Lê Đại Hành
YEAR = 2026  # the running cycle, not published


def test_the_survey_file_is_previewed_then_confirmed(
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    tmp_path: Path,
) -> None:
    before = set(SurveyFigure.objects.values_list("unit__code", "source", "rate"))
    stored = SurveyFigure.objects.filter(year=YEAR, unit__code=WARD, source="sipas")
    expected_change = "replaced" if stored.exists() else "new"
    with_error = tmp_path / "dieu-tra-loi.csv"
    with_error.write_text(
        f'mã đơn vị,nguồn,tỷ lệ\n{WARD},sipas,"88,5"\nKHONG-CO,sipas,90\n'
    )
    corrected = tmp_path / "dieu-tra.csv"
    corrected.write_text(f'mã đơn vị,nguồn,tỷ lệ\n{WARD},sipas,"88,5"\n')

    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/frameworks/survey-figures/?year={YEAR}")
    form = page.get_by_test_id("survey-import-form")
    form.locator("#id_year").fill(str(YEAR))
    form.locator("#id_file").set_input_files(with_error)
    click_and_wait(page, page.get_by_test_id("survey-import-submit"))

    rows = page.get_by_test_id("survey-preview-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-change", expected_change)
    expect(rows.nth(1)).to_have_attribute("data-change", "error")
    expect(rows.nth(1).get_by_test_id("survey-row-error")).to_have_text(
        "cột mã đơn vị “KHONG-CO”: không có đơn vị nào mang mã này."
    )
    expect(page.get_by_test_id("survey-preview-errors")).to_be_visible()
    expect(page.get_by_test_id("survey-confirm")).to_have_count(0)
    screenshot("1-preview-with-an-error")

    form = page.get_by_test_id("survey-import-form")
    form.locator("#id_file").set_input_files(corrected)
    click_and_wait(page, page.get_by_test_id("survey-import-submit"))
    expect(page.get_by_test_id("survey-preview-row")).to_have_count(1)
    screenshot("2-preview")
    # Previewed twice, written never.
    assert set(SurveyFigure.objects.values_list("unit__code", "source", "rate")) == (
        before
    )

    click_and_wait(page, page.get_by_test_id("survey-confirm"))
    expect(page).to_have_url(
        f"{live_server.url}/frameworks/survey-figures/?year={YEAR}"
    )
    figure = page.locator(f"[data-testid=survey-figure][data-unit='{WARD}']")
    expect(figure).to_contain_text("88,50%")
    screenshot("3-imported")
    assert stored.get().rate == Decimal("88.5")
