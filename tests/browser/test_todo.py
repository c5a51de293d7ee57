"""The to-do home of every demo role, on a desktop and a phone, and a notice
reaching the next person at a handover (issue 18, items 1 and 2).

With DOCS_SCREENSHOTS=1 the homes are saved as docs/img/home-<login>-desktop.png
and -phone.png (the README's pictures); otherwise beside the other tests'
screenshots."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from commitments.organisation.models import Role, Unit
from demo.organisation import DEMO_LOGINS, DemoLogin
from scoring.models import Assessment, AssessmentState, Method, Node, Notice, Score
from tests.wording import vi

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
SHOTS = (
    Path(settings.BASE_DIR) / "docs" / "img"
    if os.environ.get("DOCS_SCREENSHOTS")
    else Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
)
# What each demo role finds waiting on the home the demo leaves (2026 open,
# 2025 computed and provisional, 2022-2024 published).
EXPECTED_KEYS: dict[str, set[str]] = {
    "canbo.phalai": {"assessment"},
    "truong.phalai": {"assessment"},
    "canbo.hungdao": {"assessment"},
    "canbo.sotuphap": {"assessment"},
}


def shoot(page: Page, login: str, kind: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"home-{login}-{kind}.png"), full_page=True)


def item_keys(page: Page) -> set[str]:
    return set(
        page.get_by_test_id("todo-item").evaluate_all(
            "items => items.map(li => li.dataset.key)"
        )
    )


def url(live_server: LiveServer, name: str, **kwargs: object) -> str:
    return f"{live_server.url}{reverse(name, kwargs=kwargs or None)}"


@pytest.mark.parametrize(
    "login",
    [login for login in DEMO_LOGINS if login.role],
    ids=lambda login: login.username,
)
def test_each_role_lands_on_its_to_do_home_on_desktop_and_phone(
    login: DemoLogin, page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    """Every demo account with a role lands on "Việc cần làm": the menu's
    first item, its items linked to where the work is done, the menu
    counting what waits; on a 390 px phone nothing is wider than the
    screen."""
    log_in(login.username)
    expect(page).to_have_url(url(live_server, "home"))
    expect(page.get_by_test_id("todo-title")).to_have_text(vi("To do"))
    expect(page.locator("[data-testid=main-nav] a[data-nav]").first).to_have_attribute(
        "data-nav", "todo"
    )
    keys = item_keys(page)
    assert EXPECTED_KEYS.get(login.username, set()) <= keys, keys
    if login.role in (Role.UNIT_STAFF, Role.UNIT_HEAD):
        own = page.locator("[data-testid=todo-item][data-key=assessment]").first
        unit = Unit.objects.get(code=login.unit_code)
        expect(own).to_contain_text(unit.name)
        expect(own).to_contain_text("07/01/2027")
    if login.role == Role.LEADER:
        expect(page.get_by_test_id("todo-dashboard")).to_be_visible()
    waiting = page.get_by_test_id("todo-waiting")
    if waiting.count():
        # Something waits: the menu's own item counts it once the page is drawn.
        expect(page.get_by_test_id("nav-count-todo")).to_be_visible()
    shoot(page, login.username, "desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.get_by_test_id("todo-title")).to_be_visible()
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('main *')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert overflow == [], overflow
    shoot(page, login.username, "phone")
    page.set_viewport_size(DESKTOP)


def test_the_administrator_goes_to_the_admin(
    page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    log_in("admin")
    expect(page).to_have_url(url(live_server, "admin:index"))


def _filled_in(unit_code: str) -> Assessment:
    """Phường Lê Đại Hành's 2026 assessment with every manual leaf scored, as
    if its staff had filled it in (the leaves' evidence is not what this test
    is about)."""
    assessment = Assessment.objects.get(
        unit__code=unit_code, framework__year=2026, state=AssessmentState.DRAFT
    )
    Node.objects.filter(framework=assessment.framework).update(evidence_required=False)
    for score in Score.objects.filter(
        assessment=assessment, node__method=Method.MANUAL
    ).select_related("node"):
        score.self_score = score.node.max_points
        score.explanation = "Đã thực hiện đầy đủ"
        score.save(update_fields=["self_score", "explanation"])
    return assessment


def test_a_submission_reaches_the_reviewer_as_a_notice_and_on_the_to_do_home(
    page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    """The head submits from their to-do home; Chí Linh's reviewer then finds
    the notice (the badge, the notices page) and the assessment waiting on
    their own to-do home, which opens the appraisal."""
    head = next(login for login in DEMO_LOGINS if login.username == "truong.phalai")
    assessment = _filled_in(head.unit_code)
    unit = Unit.objects.get(code=head.unit_code)

    log_in("truong.phalai")
    own = page.locator("[data-testid=todo-waiting] [data-key=assessment]")
    expect(own).to_contain_text(vi("Complete: submit it to Home Affairs."))
    own.locator("a.todo-title").click()
    expect(page).to_have_url(url(live_server, "assessment_detail", pk=assessment.pk))
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_test_id("submit-assessment").click()
    assessment.refresh_from_db()
    assert assessment.state == AssessmentState.SUBMITTED
    page.goto(url(live_server, "home"))
    # Submitted: known, waiting for Home Affairs, no longer to do.
    expect(
        page.locator("[data-testid=todo-known] [data-key=assessment]").filter(
            has_text="2026"
        )
    ).to_be_visible()
    expect(
        page.locator("[data-testid=todo-waiting] [data-key=assessment]")
    ).to_have_count(0)
    page.locator(f"form[action='{reverse('logout')}'] button").click()

    log_in("noivu.chilinh")
    assert Notice.objects.filter(
        user__username="noivu.chilinh", assessment=assessment
    ).exists()
    expect(page.get_by_test_id("notice-badge")).to_be_visible()
    waiting = page.locator("[data-testid=todo-waiting] [data-key=to_appraise]")
    expect(waiting).to_contain_text(unit.name)
    expect(page.get_by_test_id("nav-count-assessments")).to_be_visible()
    expect(page.locator("[data-testid=todo-known] [data-key=notices]")).to_contain_text(
        unit.name
    )
    page.get_by_test_id("notices-link").click()
    expect(page.get_by_test_id("notice-table")).to_contain_text(unit.name)
    page.goto(url(live_server, "home"))
    waiting.get_by_role("link", name=unit.name, exact=False).first.click()
    expect(page).to_have_url(url(live_server, "assessment_appraise", pk=assessment.pk))
