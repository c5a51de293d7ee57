"""A deduction through its four eyes, in the browser: Phòng Nội vụ Chí Linh
records a verified harassment complaint against Phường Phả Lại and cannot
approve its own entry; Sở Nội vụ approves it, and the list shows it approved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from commitments.organisation.models import Unit
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    Framework,
    FrameworkState,
)
from tests.browser.steps import click_and_wait
from tests.wording import vi, vi_n

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]
UNIT = "HD-CL-LEDAIHANH"  # Phường Phả Lại's successor from 01/07/2025
REASON = (
    "Công dân phản ánh công chức bộ phận một cửa gây phiền hà khi tiếp nhận hồ sơ "
    "đăng ký kinh doanh; đã xác minh đúng"
)
EVIDENCE = "Kết luận xác minh số 27/KL-UBND ngày 12/03/2026"


def test_a_deduction_entered_by_one_reviewer_is_approved_by_another(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    unit = Unit.objects.get(code=UNIT)
    # The latest year of the communes' index still open to records.
    framework = (
        Framework.objects.filter(unit_kind=unit.kind)
        .exclude(state=FrameworkState.PUBLISHED)
        .latest("year")
    )
    harassment = AdjustmentRule.objects.get(
        framework=framework, code="harassment_complaint"
    )

    # 1. Phòng Nội vụ Chí Linh enters the deduction.
    log_in("noivu.chilinh")
    page.goto(f"{live_server.url}/adjustments/")
    expect(page.get_by_test_id("adjustments-title")).to_have_text(
        vi("Deductions and bonuses")
    )
    click_and_wait(page, page.get_by_test_id("adjustment-new-link"))
    page.locator("#id_framework").select_option(str(framework.pk))
    click_and_wait(page, page.get_by_test_id("framework-choose"))
    expect(page.get_by_test_id("chosen-framework")).to_contain_text(framework.name)
    page.locator("#id_unit").select_option(UNIT)
    page.locator("#id_rule").select_option(str(harassment.pk))
    page.locator("#id_cases").fill("1")
    # Without a reason the form says so beside the field and keeps the rest.
    click_and_wait(page, page.get_by_test_id("adjustment-save"))
    expect(page.get_by_test_id("error-reason")).to_contain_text(
        vi(
            "Give the reason: what happened, and the decision or conclusion that "
            "established it."
        )
    )
    expect(page.locator("#id_unit")).to_have_value(UNIT)
    page.locator("#id_reason").fill(REASON)
    page.locator("#id_evidence").fill(EVIDENCE)
    screenshot("1-entered")
    click_and_wait(page, page.get_by_test_id("adjustment-save"))

    record = Adjustment.objects.get(unit=unit, reason=REASON)
    assert (record.points, record.state) == (-1, AdjustmentState.PROPOSED)
    assert record.entered_by is not None
    assert record.entered_by.username == "noivu.chilinh"
    recorded = vi("Recorded for %(unit)s: it counts once another reviewer approves it.")
    expect(page.locator(".messages")).to_contain_text(recorded % {"unit": unit.name})
    expect(page.get_by_test_id("adjustment-state")).to_have_text(
        vi("Awaiting approval")
    )
    expect(page.get_by_test_id("adjustment-points")).to_contain_text("-1")

    # 2. The entrant cannot approve their own entry, and is told why.
    expect(page.get_by_test_id("adjustment-approve")).to_have_count(0)
    expect(page.get_by_test_id("adjustment-why-not")).to_have_text(
        vi("You entered this record: another reviewer approves or rejects it.")
    )
    screenshot("2-entrant-cannot-decide")

    # 3. Sở Nội vụ finds it awaiting approval and approves it.
    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/adjustments/")
    page.locator("#id_state").select_option("proposed")
    page.locator("#id_unit").fill(UNIT)
    click_and_wait(page, page.get_by_test_id("adjustment-filter-submit"))
    row = page.locator(
        f"[data-testid=adjustment-row][data-unit='{UNIT}'][data-state=proposed]"
    ).filter(has_text=REASON[:40])
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("adjustment-points")).to_have_text("-1")
    click_and_wait(page, row.get_by_test_id("adjustment-open"))
    expect(page.get_by_test_id("adjustment-reason")).to_contain_text(REASON)
    click_and_wait(page, page.get_by_test_id("adjustment-approve"))
    expect(page.get_by_test_id("adjustment-state")).to_have_text(vi("Approved"))
    expect(page.get_by_test_id("adjustment-decided")).to_contain_text("Đỗ Thu Hằng")
    record.refresh_from_db()
    assert record.state == AdjustmentState.APPROVED
    assert record.decided_by is not None
    assert record.decided_by.username == "noivu.tinh"

    # 4. The list shows it approved, to both reviewers.
    for username in ("noivu.tinh", "noivu.chilinh"):
        log_in(username)
        page.goto(f"{live_server.url}/adjustments/?unit={UNIT}")
        row = page.locator(f"[data-testid=adjustment-row][data-unit='{UNIT}']").filter(
            has_text=REASON[:40]
        )
        expect(row.get_by_test_id("adjustment-state")).to_have_text(vi("Approved"))
    screenshot("3-approved")


def test_a_reviewer_approves_the_years_proposed_bonuses_together(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    """The computation's proposals have no entrant: Phòng Nội vụ Chí Linh ticks
    them all and approves them in one step, is told how many first, and its
    own entry is left for another reviewer (no box)."""
    unit = Unit.objects.get(code=UNIT)
    framework = (
        Framework.objects.filter(unit_kind=unit.kind)
        .exclude(state=FrameworkState.PUBLISHED)
        .latest("year")
    )
    rule = AdjustmentRule.objects.get(framework=framework, code="harassment_complaint")
    communes = list(
        Unit.objects.filter(kind=unit.kind, parent=unit.parent, valid_to__isnull=True)
        .exclude(pk=unit.pk)
        .order_by("code")[:3]
    )
    proposals = [
        Adjustment.objects.create(
            framework=framework,
            unit=commune,
            rule=rule,
            points=rule.points_per_case,
            reason=f"Đề xuất kiểm thử {commune.code}",
            proposed_by_computation=True,
            entered_at=framework.created_at,
        )
        for commune in communes
    ]
    chilinh = User.objects.get(username="noivu.chilinh")
    own = Adjustment.objects.create(
        framework=framework,
        unit=unit,
        rule=rule,
        points=rule.points_per_case,
        reason=REASON,
        entered_by=chilinh,
        entered_at=framework.created_at,
    )

    log_in("noivu.chilinh")
    page.goto(f"{live_server.url}/adjustments/?state=proposed")
    ticks = page.get_by_test_id("bulk-tick")
    for proposal in proposals:
        expect(page.locator(f"input[name=ids][value='{proposal.pk}']")).to_have_count(1)
    expect(page.locator(f"input[name=ids][value='{own.pk}']")).to_have_count(0)
    page.get_by_test_id("bulk-select-all").check()
    ticked = ticks.count()
    assert ticked >= len(proposals)
    expect(page.locator("input[name=ids]:checked")).to_have_count(ticked)
    screenshot("bulk-ticked")

    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    with page.expect_navigation():
        page.get_by_test_id("bulk-approve-submit").click()
    page.remove_listener("dialog", answer)
    assert asked == [
        vi(
            "Approve the ticked records ({n})? Each counts in the next computation; "
            "an approved record cannot be taken back here."
        ).replace("{n}", str(ticked))
    ]
    expect(page.locator(".messages")).to_contain_text(
        vi_n(
            "%(count)s record approved: it counts in the next computation.",
            "%(count)s records approved: they count in the next computation.",
            ticked,
        )
        % {"count": ticked}
    )
    # Back on the list as it was filtered: only the own entry is still waiting.
    assert "state=proposed" in page.url
    screenshot("bulk-approved")
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.state == AdjustmentState.APPROVED
        assert proposal.decided_by == chilinh
    own.refresh_from_db()
    assert own.state == AdjustmentState.PROPOSED
