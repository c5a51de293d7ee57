"""The year's cycle in the browser (issue 17, items 9 and 10): Sở Nội vụ
edits a rule setting of the year (*Tham số của năm*) and the computation
reads it; after the deadline it closes the cycle, and a unit's
self-assessment never submitted is taken as it stands, marked "Quá hạn",
and can be appraised."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from commitments.organisation.models import UnitKind
from scoring.models import (
    Assessment,
    AssessmentState,
    Framework,
    HeadRating,
    RatingLevel,
)
from tests.browser.steps import click_and_wait
from tests.wording import vi, vi_n

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]
WARD = "HD-CL-LEDAIHANH"  # Phường Lê Đại Hành, canbo.phalai's unit


def test_a_rule_setting_edited_on_its_page_is_read_by_the_computation(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    """“Completed well” from tier B to tier A for the communes' 2025
    framework: after computing again, the heads of communes with tier B who
    met every target are proposed "completed", no longer "completed well"."""
    framework = Framework.objects.get(year=2025, unit_kind=UnitKind.COMMUNE)
    assert framework.good_min_tier == "B"
    good_on_b = [
        rating.pk
        for rating in HeadRating.objects.filter(
            year=2025, unit__kind=UnitKind.COMMUNE, proposed=RatingLevel.GOOD
        )
        if rating.basis.get("tier") == "B"
    ]
    assert good_on_b, "the demo has a tier-B commune rated well"

    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/frameworks/{framework.pk}/")
    click_and_wait(page, page.get_by_test_id("framework-thresholds-link"))
    # A lesser rating asking for a better tier than a better one is refused,
    # beside the field, and nothing is saved.
    page.locator("#id_good_min_tier").select_option("A")
    page.locator("#id_excellent_min_tier").select_option("B")
    click_and_wait(page, page.get_by_test_id("framework-save"))
    expect(page.get_by_role("alert").first).to_contain_text(
        vi(
            "A better rating cannot ask for a lower tier than a lesser one "
            "(excellent ≥ good ≥ completed)."
        )
    )
    framework.refresh_from_db()
    assert framework.good_min_tier == "B"
    page.locator("#id_excellent_min_tier").select_option("A")
    page.locator("#id_good_min_tier").select_option("A")
    screenshot("1-settings")
    click_and_wait(page, page.get_by_test_id("framework-save"))
    expect(page.locator(".messages")).to_contain_text(
        vi("The year's rule settings saved.")
    )
    framework.refresh_from_db()
    assert framework.good_min_tier == "A"
    page.goto(f"{live_server.url}/frameworks/{framework.pk}/")
    expect(page.get_by_test_id("framework-rating-thresholds")).to_contain_text(
        vi("good: every target met, tier %(tier)s or better") % {"tier": "A"}
    )

    # Computed again from the results page: the proposals follow the setting.
    page.goto(f"{live_server.url}/results/2025/")
    click_and_wait(page, page.get_by_test_id("results-compute"))
    screenshot("2-computed")
    after = HeadRating.objects.filter(pk__in=good_on_b)
    assert {rating.proposed for rating in after} == {RatingLevel.COMPLETED}


def test_closing_the_cycle_takes_a_draft_as_late_and_appraisable(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    """The communes' 2026 deadline moved to yesterday: Sở Nội vụ closes the
    cycle from the framework's page (after confirming); Phường Lê Đại
    Hành's draft is taken "Quá hạn", its staff can no longer change it, and
    the reviewer appraises and approves it."""
    framework = Framework.objects.get(year=2026, unit_kind=UnitKind.COMMUNE)
    today = timezone.localdate()
    Framework.objects.filter(pk=framework.pk).update(deadline=today - timedelta(days=1))
    drafts = Assessment.objects.filter(
        framework=framework, state=AssessmentState.DRAFT
    ).count()
    assessment = Assessment.objects.get(framework=framework, unit__code=WARD)
    assert assessment.state == AssessmentState.DRAFT

    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/frameworks/{framework.pk}/")
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    click_and_wait(page, page.get_by_test_id("framework-close"))
    assert asked == [
        vi(
            "Close the cycle? Every assessment not submitted is taken for "
            "appraisal as it stands and marked late (quá hạn); units can no "
            "longer change it."
        )
    ]
    expect(page.get_by_test_id("framework-closed")).to_contain_text(
        vi_n(
            "%(counter)s assessment late (quá hạn)",
            "%(counter)s assessments late (quá hạn)",
            drafts,
        )
        % {"counter": drafts}
    )
    screenshot("1-closed")
    assessment.refresh_from_db()
    assert assessment.state == AssessmentState.SUBMITTED
    assert assessment.late
    assert assessment.closed_by is not None
    assert assessment.closed_by.username == "noivu.tinh"

    # The unit sees it late and can no longer change it.
    log_in("canbo.phalai")
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    expect(page.get_by_test_id("assessment-late")).to_have_text(vi("Late (quá hạn)"))
    expect(page.get_by_test_id("assessment-closed")).to_be_visible()
    expect(page.locator("form[data-autosave]")).to_have_count(0)
    screenshot("2-unit")

    # The reviewer appraises it as it stands and approves it.
    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/appraise/")
    expect(page.get_by_test_id("assessment-late")).to_be_visible()
    forms = page.locator("form[data-appraise]")
    expect(forms.first).to_be_visible()
    # Approval waits for the leaves still to appraise, listed beside it.
    approve = page.get_by_test_id("approve-assessment")
    pending = page.get_by_test_id("approve-pending")
    expect(approve).to_be_disabled()
    expect(pending).to_be_visible()
    expect(pending.locator("a")).to_have_count(forms.count())
    for i in range(forms.count()):
        form = forms.nth(i)
        form.get_by_test_id("appraised-score").fill("0")
        form.get_by_test_id("appraisal-reason").fill(
            "Không tự chấm trước hạn: lấy theo hiện trạng"
        )
        with page.expect_response(lambda r: "/appraise" in r.url):
            form.get_by_test_id("appraise-save").click()
    # The last leaf appraised: the list goes and the button is offered,
    # without reloading the page.
    expect(pending).to_be_hidden()
    expect(approve).to_be_enabled()
    # It asks first, saying what approval changes; refused, nothing does.
    questions: list[str] = []

    def refuse(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    approve.click()
    expect(approve).to_be_enabled()
    assert len(questions) == 1
    assert assessment.unit.name in questions[0]
    assessment.refresh_from_db()
    assert assessment.state == AssessmentState.SUBMITTED
    click_and_wait(page, approve)
    screenshot("3-approved")
    assessment.refresh_from_db()
    assert assessment.state == AssessmentState.APPROVED
