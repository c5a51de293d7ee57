"""Accessibility and phones on the demo province, role by role: the main pages
of each role's menu (and the first page each one's table links to) have no
critical or serious axe-core violation, and at 390 px wide none of them
scrolls sideways. One browser context per role: the pages are visited once,
checked at 1280 px, then narrowed to a phone's width.

Colour contrast, four fifths of axe-core's time, is checked once per menu
page: by the first role of ROLES whose menu has it (the province's reviewer,
first, has nearly all of them). The other roles' visits of that page run
every other rule. Who owns which page is read from the menus
(navigation_for), not from the order the tests happen to run in, so each
role's test checks the same things alone as in the whole run. The pages a
role's tables link to are found as the test goes: the first test of the
session to reach a page of a URL pattern (an assessment's appraisal, a
unit's result, …) checks its contrast, the others skip that rule there
(a claim in the session's shared folder, across pytest-xdist workers).

axe-core is the one axe-playwright-python ships (a dev dependency): nothing is
fetched at run time."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.urls import resolve
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from commitments.organisation.navigation import navigation_for
from tests.browser.test_csp import WALKED_ELSEWHERE, Violations

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]

# In the order the menus' pages are owned for colour contrast (above).
ROLES = [
    "noivu.tinh",
    "noivu.chilinh",
    "canbo.phalai",
    "truong.phalai",
    "canbo.hungdao",
    "chutich.tinh",
    "chutich.chilinh",
    "canbo.sotuphap",
]
BLOCKING = {"critical", "serious"}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# Downloads, and pages that change something when opened, are not visited.
NOT_A_PAGE = re.compile(r"export|[.](xlsx|pdf|csv)([?]|$)|/print/?$|logout")

AXE = Axe()


def menu_urls(page: Page) -> list[str]:
    links = page.locator("[data-testid=main-nav] a[data-nav]")
    return list(dict.fromkeys(links.evaluate_all("links => links.map(a => a.href)")))


def first_inner_link(page: Page) -> str | None:
    """The first link of the page's main table to another portal page."""
    hrefs = page.locator("main table a[href^='/']").evaluate_all(
        "links => links.map(a => a.href)"
    )
    return next((href for href in hrefs if not NOT_A_PAGE.search(href)), None)


# A long table's rows past the twentieth repeat the first rows' template:
# axe-core checks those twenty (its colour-contrast rule takes seconds on a
# queue of two hundred rows), the rest of the page whole.
AXE_CONTEXT = {"exclude": [["tbody > tr:nth-child(n+21)"]]}
AXE_OPTIONS = {"resultTypes": ["violations"]}
WITHOUT_CONTRAST = {**AXE_OPTIONS, "rules": {"color-contrast": {"enabled": False}}}


def contrast_owned_by_earlier_roles(username: str) -> set[str]:
    """The menu pages (paths) whose colour contrast a role before this one in
    ROLES checks."""
    users = get_user_model().objects.in_bulk(ROLES, field_name="username")
    owned: set[str] = set()
    for role in ROLES[: ROLES.index(username)]:
        owned.update(item.url for item in navigation_for(users[role]))
    return owned


def first_to_claim(folder: Path, url: str) -> bool:
    """Whether this is the session's first visit of the URL's pattern (its
    route, "results/<int:year>/units/<str:code>/"), across workers."""
    route = resolve(urlsplit(url).path).route
    folder.mkdir(parents=True, exist_ok=True)
    claim = folder / hashlib.sha256(route.encode()).hexdigest()[:24]
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def blocking_violations(page: Page, *, contrast: bool = True) -> list[str]:
    """Each critical or serious rule axe-core finds, with the first few
    elements it names."""
    options = AXE_OPTIONS if contrast else WITHOUT_CONTRAST
    results = AXE.run(page, context=AXE_CONTEXT, options=options)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(
                f"{page.url}: {violation['impact']} {violation['id']} "
                f"({len(violation['nodes'])}): {targets}"
            )
    return found


def sideways_overflow(page: Page, width: int) -> str | None:
    """The page wider than the window, with the widest element that sticks
    out (for the message)."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll <= width:
        return None
    culprit = page.evaluate(
        """width => {
          let worst = null, right = width;
          for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.right > right + 1) { right = box.right; worst = el; }
          }
          if (!worst) return '';
          const id = worst.id ? '#' + worst.id : '';
          const cls = worst.className && typeof worst.className === 'string'
            ? '.' + worst.className.trim().split(/\\s+/).join('.') : '';
          return worst.tagName.toLowerCase() + id + cls + ' to ' + Math.round(right);
        }""",
        width,
    )
    return f"{page.url}: {scroll} px wide at {width} ({culprit})"


@pytest.mark.parametrize("username", ROLES)
def test_main_pages_have_no_serious_violation_and_fit_a_phone(
    username: str,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    shared_folder: Path,
) -> None:
    """The role's menu, and the first page each one's table links to, each
    visited once: at 1280 px no critical or serious axe-core violation and no
    violation of the Content-Security-Policy (test_csp.py's check, made on
    the same visit), then narrowed to 390 px, no sideways scroll. Colour
    contrast is left to the role that owns the page (the module's note)."""
    checked_elsewhere = contrast_owned_by_earlier_roles(username)
    csp = Violations(page)
    log_in(username)
    page.goto(f"{live_server.url}/")
    urls = menu_urls(page)
    assert urls
    menu = len(urls)
    violations: list[str] = []
    overflows: list[str] = []
    index = 0
    while index < len(urls):
        page.set_viewport_size(DESKTOP)
        page.goto(urls[index])
        page.wait_for_load_state("load")
        violations += csp.of_page() + csp.console
        csp.console.clear()
        if index < menu:
            contrast = urlsplit(urls[index]).path not in checked_elsewhere
        else:
            contrast = first_to_claim(shared_folder / "contrast-checked", urls[index])
        violations += blocking_violations(page, contrast=contrast)
        if index < menu:
            found = first_inner_link(page)
            if found is not None and found not in urls:
                urls.append(found)
        page.set_viewport_size(PHONE)
        if (wide := sideways_overflow(page, PHONE["width"])) is not None:
            overflows.append(wide)
        index += 1
    assert violations == [], "\n".join(violations)
    assert overflows == [], "\n".join(overflows)


def test_the_first_tab_offers_the_way_past_the_menu(
    page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    """The skip link is the first stop of the keyboard; past it, the
    self-assessment's first link goes to the scores: the first score is
    five presses away, not the 53 it took through the menu and the list of
    empty leaves."""
    log_in("canbo.phalai")
    page.goto(f"{live_server.url}/assessments/")
    page.locator("main table a[href^='/assessments/']").first.click()
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("jump-to-tree")).to_be_focused()
    page.keyboard.press("Enter")
    presses = 0
    while presses < 10:
        page.keyboard.press("Tab")
        presses += 1
        if page.evaluate("document.activeElement.matches('[data-testid=self-score]')"):
            break
    assert page.evaluate("document.activeElement.matches('[data-testid=self-score]')")
    # The leaf's guidance, then its score.
    assert presses <= 3, presses


def test_the_menu_folds_behind_one_button_on_a_phone(
    page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    page.set_viewport_size(PHONE)
    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/results/")
    toggle = page.get_by_test_id("menu-toggle")
    menu = page.get_by_test_id("main-nav")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    expect(menu.locator("a[data-nav=ratings]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    toggle.click()
    expect(menu).to_be_hidden()
    # On a desktop the menu is always there and the button is not.
    page.set_viewport_size(DESKTOP)
    expect(toggle).to_be_hidden()
    expect(menu).to_be_visible()


def test_results_and_dashboard_tables_fit_a_1366_screen(
    page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    """The rankings, the dashboard's tables and its KPI table are no wider
    than their box on a 1366×768 laptop: nothing scrolls sideways."""
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in("noivu.tinh")
    wider = """() => [...document.querySelectorAll('main table')]
        .filter(t => t.getBoundingClientRect().right
                     > t.parentElement.getBoundingClientRect().right + 1)
        .map(t => (t.className || 'table') + ' ' + Math.round(t.scrollWidth))"""
    for path in ("/results/", "/results/2024/", "/dashboard/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path
        assert page.evaluate(wider) == [], path


def test_the_pages_before_signing_in_have_no_serious_violation_and_fit_a_phone(
    page: Page, live_server: LiveServer
) -> None:
    """Signing in and the forgotten-password pages, as someone not signed in
    sees them: the same checks as the roles' pages."""
    csp = Violations(page)
    violations: list[str] = []
    overflows: list[str] = []
    for path in ("/login/", "/password/reset/", "/password/reset/sent/"):
        page.set_viewport_size(DESKTOP)
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        violations += csp.of_page() + csp.console
        csp.console.clear()
        violations += blocking_violations(page)
        page.set_viewport_size(PHONE)
        if (wide := sideways_overflow(page, PHONE["width"])) is not None:
            overflows.append(wide)
    assert violations == [], "\n".join(violations)
    assert overflows == [], "\n".join(overflows)


def test_the_csp_walk_leaves_these_roles_to_this_one() -> None:
    """test_csp.py walks only the menus this file does not."""
    assert set(ROLES) == WALKED_ELSEWHERE
