"""One full self-assessment cycle in the browser, as new users would go
through it: the staff of Phường Phả Lại fill in scores and explanations and
attach an evidence PDF, the head submits, Phòng Nội vụ Chí Linh returns one
leaf with a comment, the staff answer, the head submits again, the reviewer
accepts the self scores, enters the survey points and approves. Then what
keeps work from being lost: input typed just before a reload comes back, and
a leaf changed meanwhile by someone else is refused (409) and offered again."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone
from playwright.sync_api import Dialog, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from commitments.organisation.models import Unit
from scoring.assessments import services
from scoring.models import (
    Assessment,
    AssessmentState,
    Comment,
    Framework,
    FrameworkState,
    Method,
    Node,
    NodeLevel,
    Score,
)
from tests.browser.steps import click_and_wait
from tests.wording import vi

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]
UNIT = "HD-CL-LEDAIHANH"  # Phường Phả Lại's successor from 01/07/2025
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def saved_at() -> re.Pattern[str]:
    """The autosave's "saved at HH:MM", as the catalogue words it."""
    words = re.escape(vi("Saved at {time}")).replace(re.escape("{time}"), r"\d\d:\d\d")
    return re.compile(words)


@pytest.fixture
def assessment() -> Assessment:
    """An open framework for communes, a year after the demo's, with two
    self-scored leaves (one needing evidence), a metric leaf and a survey
    leaf; and Phả Lại's assessment against it."""
    unit = Unit.objects.get(code=UNIT)
    last = Framework.objects.filter(unit_kind=unit.kind).aggregate(Max("year"))
    year = (last["year__max"] or 2025) + 1
    framework = Framework.objects.create(
        year=year,
        unit_kind=unit.kind,
        name=f"Bộ chỉ số CCHC cấp xã năm {year}",
        state=FrameworkState.OPEN,
        deadline=timezone.localdate() + timedelta(days=30),
    )
    order = ["1", "1.1", "1.1.1", "1.1.2", "2", "2.1", "2.2"]

    def node(code, parent, level, points, title, **extra):
        return Node.objects.create(
            framework=framework,
            parent=parent,
            level=level,
            code=code,
            position=order.index(code),
            title=title,
            max_points=Decimal(points),
            **extra,
        )

    f1 = node("1", None, NodeLevel.FIELD, 6, "Công tác chỉ đạo, điều hành CCHC")
    c11 = node("1.1", f1, NodeLevel.CRITERION, 6, "Kế hoạch CCHC năm")
    node(
        "1.1.1",
        c11,
        NodeLevel.SUBCRITERION,
        2,
        "Ban hành kế hoạch CCHC năm đúng thời hạn",
        guidance="Ban hành trước ngày 31/12 năm trước: 2 điểm; chậm: 0 điểm.",
    )
    node(
        "1.1.2",
        c11,
        NodeLevel.SUBCRITERION,
        4,
        "Mức độ hoàn thành kế hoạch CCHC",
        evidence_required=True,
        guidance="Hoàn thành 100%: 4 điểm; từ 80%: 3 điểm; dưới 80%: 0 điểm.",
    )
    f2 = node("2", None, NodeLevel.FIELD, 4, "Cải cách thủ tục hành chính")
    node(
        "2.1",
        f2,
        NodeLevel.CRITERION,
        2,
        "Tỷ lệ hồ sơ giải quyết đúng hạn",
        method=Method.METRIC,
        metric="on_time_rate",
        scoring="linear",
        scoring_params={"full_at": 100},
    )
    node(
        "2.2",
        f2,
        NodeLevel.CRITERION,
        2,
        "Mức độ hài lòng của người dân",
        method=Method.SURVEY,
    )
    return services.assessment_open(framework=framework, unit=unit)


def leaf(page: Page, code: str) -> Locator:
    return page.locator(f"[data-testid=leaf][data-code='{code}']")


def open_from_the_menu(page: Page, assessment: Assessment) -> None:
    """Assessments in the menu, the framework in the filter, the unit's row."""
    with page.expect_navigation():
        page.locator("[data-testid=main-nav] a[data-nav=assessments]").click()
    page.locator("#id_framework").select_option(str(assessment.framework_id))
    with page.expect_navigation():
        page.get_by_test_id("queue-filter-submit").click()
    row = page.locator(f"[data-testid=queue-row][data-unit='{UNIT}']")
    expect(row).to_have_count(1)
    with page.expect_navigation():
        row.get_by_test_id("queue-open").click()


def fill_leaf(page: Page, code: str, value: str, explanation: str) -> None:
    box = leaf(page, code)
    box.get_by_test_id("self-score").fill(value)
    box.get_by_test_id("explanation").fill(explanation)
    expect(box.get_by_test_id("save-status")).to_have_text(saved_at())


def state(assessment: Assessment) -> str:
    return Assessment.objects.get(pk=assessment.pk).state


def test_a_full_cycle_fill_in_submit_return_answer_resubmit_approve(
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    assessment: Assessment,
    tmp_path: Path,
) -> None:
    # 1. The unit's staff fill in: scores, explanations, an evidence PDF.
    log_in("canbo.phalai")
    open_from_the_menu(page, assessment)
    expect(page.get_by_test_id("assessment-title")).to_contain_text(
        "Phường Lê Đại Hành"
    )
    expect(page.get_by_test_id("missing-evidence")).to_contain_text("1.1.2")
    fill_leaf(page, "1.1.1", "2", "Kế hoạch số 05/KH-UBND ngày 20/12")
    fill_leaf(page, "1.1.2", "3,5", "Hoàn thành 92% nhiệm vụ của kế hoạch")
    field_1 = Node.objects.get(framework=assessment.framework, code="1")
    expect(page.locator(f"[data-total-node='{field_1.pk}']")).to_have_text("5,50")
    expect(page.get_by_test_id("metric-value")).to_be_visible()

    pdf = tmp_path / "Báo cáo kết quả CCHC.pdf"
    pdf.write_bytes(PDF)
    evidence = leaf(page, "1.1.2")
    evidence.locator("details.attach summary").click()
    evidence.get_by_test_id("leaf-file").set_input_files(str(pdf))
    click_and_wait(page, evidence.get_by_test_id("leaf-upload"))
    expect(page.locator(".messages")).to_contain_text("1.1.2")
    expect(leaf(page, "1.1.2").get_by_test_id("leaf-document")).to_have_text(
        "Báo cáo kết quả CCHC.pdf"
    )
    expect(page.get_by_test_id("complete")).to_be_visible()
    screenshot("1-staff-filled-in")
    saved = Score.objects.get(assessment=assessment, node__code="1.1.2")
    assert saved.self_score == Decimal("3.5")
    assert [d.original_name for d in saved.evidence.all()] == [
        "Báo cáo kết quả CCHC.pdf"
    ]

    # 2. The head submits.
    log_in("truong.phalai")
    open_from_the_menu(page, assessment)
    click_and_wait(page, page.get_by_test_id("submit-assessment"))
    expect(page.get_by_test_id("assessment-state")).to_have_text(vi("Submitted"))
    expect(page.get_by_test_id("lock-reason")).to_be_visible()
    assert state(assessment) == AssessmentState.SUBMITTED

    # 3. The city's Home Affairs office returns 1.1.1 with a comment.
    log_in("noivu.chilinh")
    with page.expect_navigation():
        page.locator("[data-testid=main-nav] a[data-nav=assessments]").click()
    page.locator("#id_state").select_option("submitted")
    with page.expect_navigation():
        page.get_by_test_id("queue-filter-submit").click()
    expect(page.locator(f"[data-testid=queue-row][data-unit='{UNIT}']")).to_be_visible()
    screenshot("2-reviewer-queue")
    open_from_the_menu(page, assessment)
    expect(page.get_by_test_id("appraise-title")).to_contain_text("Phường Lê Đại Hành")
    expect(leaf(page, "1.1.2").get_by_test_id("leaf-document")).to_be_visible()
    leaf(page, "1.1.1").get_by_test_id("return-comment").fill(
        "Đề nghị bổ sung văn bản ban hành kế hoạch."
    )
    screenshot("3-reviewer-returns")
    click_and_wait(page, page.get_by_test_id("return-assessment"))
    expect(page.get_by_test_id("assessment-state")).to_have_text(
        vi("Returned for revision")
    )
    assert state(assessment) == AssessmentState.RETURNED

    # 4. The staff see the comment beside the leaf and answer it.
    log_in("canbo.phalai")
    open_from_the_menu(page, assessment)
    expect(page.get_by_test_id("returned-notice")).to_be_visible()
    returned = leaf(page, "1.1.1")
    expect(returned.get_by_test_id("comment")).to_contain_text(
        "Đề nghị bổ sung văn bản ban hành kế hoạch."
    )
    returned.get_by_test_id("answer-text").fill("Đã đính kèm Kế hoạch số 05/KH-UBND.")
    click_and_wait(page, returned.get_by_test_id("answer-save"))
    expect(leaf(page, "1.1.1").get_by_test_id("answer")).to_contain_text(
        "Đã đính kèm Kế hoạch số 05/KH-UBND."
    )
    screenshot("4-staff-answers")
    assert Comment.objects.get(score__assessment=assessment).answer

    # 5. The head submits again.
    log_in("truong.phalai")
    open_from_the_menu(page, assessment)
    click_and_wait(page, page.get_by_test_id("submit-assessment"))
    expect(page.get_by_test_id("assessment-state")).to_have_text(vi("Submitted"))

    # 6. The reviewer accepts the self scores, enters the survey, approves.
    log_in("noivu.chilinh")
    open_from_the_menu(page, assessment)
    page.locator("[data-check-all]").click()
    click_and_wait(page, page.get_by_test_id("accept-self"))
    expect(page.get_by_test_id("appraised-count")).to_have_text("2")
    survey = leaf(page, "2.2")
    survey.get_by_test_id("appraised-score").fill("1,5")
    survey.get_by_test_id("appraisal-reason").fill("Kết quả điều tra xã hội học")
    survey.get_by_test_id("appraise-save").click()
    expect(survey.get_by_test_id("save-status")).to_have_text(saved_at())
    expect(page.get_by_test_id("appraised-count")).to_have_text("3")
    click_and_wait(page, page.get_by_test_id("approve-assessment"))
    expect(page.get_by_test_id("assessment-state")).to_have_text(vi("Approved"))
    screenshot("5-reviewer-approved")

    done = Assessment.objects.get(pk=assessment.pk)
    assert (done.state, done.round) == (AssessmentState.APPROVED, 2)
    appraised = dict(
        Score.objects.filter(assessment=assessment).values_list(
            "node__code", "appraised_score"
        )
    )
    assert appraised == {
        "1.1.1": Decimal("2.00"),
        "1.1.2": Decimal("3.50"),
        "2.1": None,
        "2.2": Decimal("1.50"),
    }

    # The history tells the story.
    with page.expect_navigation():
        page.get_by_test_id("history-link").click()
    table = page.get_by_test_id("history-table")
    expect(table).to_contain_text(vi("Approved"))
    expect(table).to_contain_text("Báo cáo kết quả CCHC.pdf")
    screenshot("6-history")


def accept_leaving(dialog: Dialog) -> None:
    """The page warns before leaving with unsaved input: leave anyway."""
    assert dialog.type == "beforeunload"
    dialog.accept()


def test_input_typed_just_before_a_reload_comes_back_and_is_saved(
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    assessment: Assessment,
) -> None:
    log_in("canbo.phalai")
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    box = leaf(page, "1.1.1")
    box.get_by_test_id("self-score").fill("1,5")
    box.get_by_test_id("explanation").fill("Nhập rồi đóng trang ngay")
    warned: list[str] = []

    def leave(dialog: Dialog) -> None:
        warned.append(dialog.type)
        accept_leaving(dialog)

    page.on("dialog", leave)
    page.reload()  # before the autosave's pause is over
    assert warned == ["beforeunload"]
    box = leaf(page, "1.1.1")
    expect(box.get_by_test_id("self-score")).to_have_value("1,5")
    expect(box.get_by_test_id("save-status")).to_have_text(saved_at())
    screenshot("restored")
    saved = Score.objects.get(assessment=assessment, node__code="1.1.1")
    assert (saved.self_score, saved.explanation) == (
        Decimal("1.5"),
        "Nhập rồi đóng trang ngay",
    )


def test_a_leaf_changed_meanwhile_is_refused_and_the_input_offered_again(
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
    assessment: Assessment,
) -> None:
    log_in("canbo.phalai")
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    # The head saves the same leaf from another computer.
    head = get_user_model().objects.get(username="truong.phalai")
    score = Score.objects.get(assessment=assessment, node__code="1.1.1")
    services.score_self_save(
        user=head,
        score_id=score.pk,
        self_score="1",
        explanation="Bản của trưởng",
        version=score.version,
        today=timezone.localdate(),
    )
    box = leaf(page, "1.1.1")
    box.get_by_test_id("self-score").fill("2")
    error = box.get_by_test_id("leaf-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("1.1.1")
    changed = vi(
        "%(leaf)s was changed by %(user)s while you were editing it. Reload the page "
        "to see their version, then enter yours again."
    )
    expect(error).to_contain_text(changed.split("%(user)s")[-1])
    screenshot("conflict")
    assert Score.objects.get(pk=score.pk).self_score == Decimal(1)

    page.on("dialog", accept_leaving)
    page.reload()
    box = leaf(page, "1.1.1")
    # The other version is on the page; the user's input is offered beside it.
    expect(box.get_by_test_id("self-score")).to_have_value("1,00")
    expect(box.locator("[data-restore]")).to_be_visible()
    box.locator("[data-restore-use]").click()
    expect(box.get_by_test_id("save-status")).to_have_text(saved_at())
    assert Score.objects.get(pk=score.pk).self_score == Decimal(2)
