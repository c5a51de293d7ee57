"""The Content-Security-Policy in the browser, on the demo province: every
page of every role's menu, the API's Swagger UI and Redoc, load with no
violation of the policy (no securitypolicyviolation event, no CSP error in
the console), and what the inline handlers did, static/js/portal.js still
does: the confirm dialogs, the print button, the dashboard's select that
submits on its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from demo.organisation import DEMO_LOGINS, DemoLogin

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]

# Each document records the violations it meets, from its first script on.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`
  );
});
window.print = () => { window.__printed = (window.__printed || 0) + 1; };
"""


class Violations:
    """The CSP errors the console reported, and those the current document
    recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console.append(f"{self.page.url}: {text}")

    def of_page(self) -> list[str]:
        recorded = self.page.evaluate("window.__csp || []")
        return [f"{self.page.url}: {entry}" for entry in recorded]

    def forget_redocly_logo(self) -> None:
        """Redoc's logo asks Redocly's CDN, which the policy refuses on
        purpose (Redoc hides the logo then): that one refusal only."""
        self.page.evaluate(
            "window.__csp = window.__csp.filter("
            "v => v !== 'img-src https://cdn.redoc.ly/redoc/logo-mini.svg :0')"
        )
        self.console = [
            line for line in self.console if "cdn.redoc.ly/redoc/logo-mini" not in line
        ]

    def assert_none(self) -> None:
        found = self.of_page() + self.console
        assert found == [], "\n".join(found)


@pytest.fixture
def violations(page: Page) -> Iterator[Violations]:
    found = Violations(page)
    yield found
    found.assert_none()


def menu_urls(page: Page) -> list[str]:
    links = page.locator("[data-testid=main-nav] a[data-nav]")
    return list(dict.fromkeys(links.evaluate_all("links => links.map(a => a.href)")))


def first_page_link(page: Page) -> str | None:
    """The first link of the page's main table to another page (not a
    download)."""
    return page.locator("main table a[href^='/']").evaluate_all(
        """links => links.map(a => a.href)
             .find(href => !/export|[.](xlsx|pdf|csv)([?]|$)/.test(href)) || null"""
    )


def visit(page: Page, url: str, violations: Violations) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    violations.assert_none()


# The other demo logins' menus are walked by test_accessibility.py, which
# checks the policy on the same visit as axe-core and the phone's width.
WALKED_ELSEWHERE = {
    "canbo.phalai",
    "truong.phalai",
    "canbo.hungdao",
    "noivu.chilinh",
    "noivu.tinh",
    "chutich.tinh",
    "chutich.chilinh",
    "canbo.sotuphap",
}


@pytest.mark.parametrize(
    "login",
    [login for login in DEMO_LOGINS if login.username not in WALKED_ELSEWHERE],
    ids=lambda login: login.username,
)
def test_every_page_of_the_menu_loads_without_a_violation(
    login: DemoLogin,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    violations: Violations,
) -> None:
    """Each page of the role's menu, and the first page each one's table
    links to."""
    log_in(login.username)
    page.goto(f"{live_server.url}/")
    if login.username == "admin":
        # Lands on the Django admin: a list and an object there, then the
        # portal's pages from its unit list.
        violations.assert_none()
        visit(page, f"{live_server.url}/admin/commitments/unit/", violations)
        page.locator("#result_list tbody a").first.click()
        page.wait_for_load_state("load")
        violations.assert_none()
        page.goto(f"{live_server.url}/units/")
    urls = menu_urls(page)
    assert urls, login.username
    inner = []
    for url in urls:
        visit(page, url, violations)
        if (found := first_page_link(page)) is not None:
            inner.append(found)
    for url in dict.fromkeys(inner):
        visit(page, url, violations)


def test_swagger_ui_and_redoc_run_under_the_policy(
    page: Page, live_server: LiveServer, log_in: LogIn, violations: Violations
) -> None:
    log_in("canbo.phalai")
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CCHC portal API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    violations.assert_none()

    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.locator("#redoc-container h1").first).to_contain_text("CCHC portal API")
    expect(page.locator("#redoc-container .menu-content")).to_be_visible()
    # Its styles apply: the menu is laid out as Redoc's side panel.
    assert page.locator("#redoc-container .menu-content").evaluate(
        "node => getComputedStyle(node).position"
    ) in {"sticky", "fixed"}
    # Its search runs (in a worker made from a blob).
    page.locator("#redoc-container [role=search] input").fill("cases")
    expect(
        page.locator("#redoc-container [role=search] [role=menuitem]").first
    ).to_be_visible()
    violations.forget_redocly_logo()
    violations.assert_none()


def test_a_confirm_dialog_refused_keeps_the_row_accepted_deletes_it(
    page: Page, live_server: LiveServer, log_in: LogIn, violations: Violations
) -> None:
    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/criterion-ranks/")
    buttons = page.get_by_test_id("criterion-rank-delete")
    before = buttons.count()
    assert before > 0
    asked: list[str] = []

    def answer(accept: bool) -> Callable[[Dialog], None]:
        def handle(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    buttons.first.click()
    page.wait_for_timeout(300)
    assert len(asked) == 1
    assert asked[0]
    expect(buttons).to_have_count(before)

    page.once("dialog", answer(True))
    with page.expect_navigation():
        buttons.first.click()
    assert len(asked) == 2
    expect(page.get_by_test_id("criterion-rank-delete")).to_have_count(before - 1)


def test_the_print_button_prints_and_the_dashboard_select_submits(
    page: Page, live_server: LiveServer, log_in: LogIn, violations: Violations
) -> None:
    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/commitments/")
    page.locator("main table a[href^='/commitments/']").first.click()
    page.get_by_test_id("commitment-print").click()
    expect(page.get_by_test_id("commitment-document")).to_be_visible()
    page.get_by_test_id("print-button").click()
    assert page.evaluate("window.__printed") == 1
    # The document's own style applies (its nonce): a white sheet.
    background = page.get_by_test_id("commitment-document").evaluate(
        "node => getComputedStyle(node).backgroundColor"
    )
    assert background == "rgb(255, 255, 255)"
    violations.assert_none()

    page.goto(f"{live_server.url}/dashboard/")
    year = page.get_by_test_id("pick-year")
    other = year.locator("option").nth(1).get_attribute("value")
    assert other
    with page.expect_navigation():
        year.select_option(other)
    assert f"year={other}" in page.url
    violations.assert_none()
