"""The late and overdue dossier list in the browser: a reviewer opens it from
the menu, filters it, and reads dates and statuses in Vietnamese."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from commitments.organisation.models import Unit
from procedures.models import CaseRecord, Channel, DossierStatus, Procedure
from tests.wording import vi, vi_label

pytestmark = pytest.mark.browser

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]

# A procedure code of this test's own, so that whatever dossiers the demo
# province carries, the filtered list holds exactly the ones made here.
PROCEDURE = "P-TRE-HAN-UI"


def dossier(code: str, unit: str, *, days_ago: int, late_by: int, open_: bool):
    """Received ``days_ago`` days ago (less an hour, so that whole days late
    do not tick over during the test) with five days to answer; finished
    ``late_by`` days after the due date, or still open."""
    now = timezone.now()
    received = now - timedelta(days=days_ago) + timedelta(hours=1)
    due = received + timedelta(days=5)
    return CaseRecord.objects.create(
        case_code=code,
        procedure=Procedure.objects.get(code=PROCEDURE),
        unit=Unit.objects.get(code=unit),
        received_at=received,
        due_at=due,
        finished_at=None if open_ else due + timedelta(days=late_by),
        status=DossierStatus.PROCESSING if open_ else DossierStatus.RETURNED,
        channel=Channel.ONLINE_FULL,
        officer="Nguyễn Văn Lâm",
    )


def test_reviewer_filters_the_late_list_to_one_communes_open_dossiers(
    demo_province: None,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
) -> None:
    """Chí Linh's chairman (whose city ended on 30/06/2025) sees the late
    dossiers of its area's wards, not those of a provincial department;
    filtered to Phường Lê Đại Hành's open ones, the list holds exactly that
    ward's overdue dossier."""
    Procedure.objects.create(code=PROCEDURE, name="Cấp giấy phép xây dựng")
    dossier("PL-OPEN", "HD-CL-LEDAIHANH", days_ago=20, late_by=0, open_=True)
    dossier("PL-DONE", "HD-CL-LEDAIHANH", days_ago=30, late_by=3, open_=False)
    dossier("HD-OPEN", "HD-CL-TRANHUNGDAO", days_ago=15, late_by=0, open_=True)
    dossier("STP-OPEN", "HD-STP", days_ago=15, late_by=0, open_=True)

    log_in("chutich.chilinh")
    page.locator("[data-testid=main-nav] [data-nav=late_cases]").click()
    expect(page.get_by_test_id("late-title")).to_have_text(
        vi("Late and overdue dossiers")
    )

    filters = page.get_by_test_id("late-filters")
    filters.locator("#id_procedure").fill(PROCEDURE)
    with page.expect_navigation():
        page.get_by_test_id("late-filter-submit").click()
    rows = page.get_by_test_id("late-row")
    expect(rows).to_have_count(3)
    codes = set(rows.evaluate_all("rows => rows.map(r => r.dataset.case)"))
    assert codes == {"PL-OPEN", "PL-DONE", "HD-OPEN"}  # not the department's

    filters.locator("#id_unit").select_option("HD-CL-LEDAIHANH")
    filters.locator("#id_kind").select_option("open")
    with page.expect_navigation():
        page.get_by_test_id("late-filter-submit").click()
    screenshot("chutich.chilinh")

    query = parse_qs(urlsplit(page.url).query)
    assert query["unit"] == ["HD-CL-LEDAIHANH"]
    assert query["kind"] == ["open"]
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-case", "PL-OPEN")
    expect(row).to_contain_text("Phường Lê Đại Hành")
    expect(row).to_contain_text("Nguyễn Văn Lâm")
    expect(row).to_contain_text(vi_label(DossierStatus.PROCESSING.label))
    received = CaseRecord.objects.get(case_code="PL-OPEN").received_at
    expect(row).to_contain_text(timezone.localtime(received).strftime("%d/%m/%Y %H:%M"))
    expect(row.locator("td.days-late")).to_have_text("15")
    # The filters stay chosen, and the download carries them.
    expect(filters.locator("#id_unit")).to_have_value("HD-CL-LEDAIHANH")
    csv_link = page.get_by_test_id("late-csv")
    expect(csv_link).to_have_attribute("href", _contains("kind=open"))
    expect(csv_link).to_have_attribute("href", _contains("unit=HD-CL-LEDAIHANH"))


def _contains(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))
