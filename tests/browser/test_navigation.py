"""Logging in as each demo account lands on that role's work, with that role's
menu and nothing outside its jurisdiction."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from commitments.organisation.models import Role
from demo.organisation import DEMO_LOGINS, DemoLogin

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

UNIT_ROLES = {Role.UNIT_STAFF, Role.UNIT_HEAD}
OVERSIGHT_ROLES = {Role.REVIEWER, Role.LEADER}

LogIn = Callable[..., None]  # the log_in fixture: (username, password=demo)
Screenshot = Callable[[str], Path]  # the screenshot fixture: (label) -> file


def expected_nav(login: DemoLogin) -> set[str]:
    """Staff, heads and reviewers import case records; leaders only read.
    Everyone lists late dossiers and the assessments in their reach; reviewers
    and leaders record reminders and read repeated lateness; everyone reads the
    results, the commitments and the accountability cases in their reach;
    reviewers (and the superuser) define the frameworks and enter deductions
    and bonuses. Heads read their rating, reviewers and leaders all ratings in
    their reach; staff do not see their head's."""
    everyone = {"assessments", "results", "commitments", "accountability"}
    oversight = {
        "late_cases",
        "reminders",
        "repeated_lateness",
        "dashboard",
        "ratings",
        *everyone,
    }
    home_affairs = {"frameworks", "adjustments"}
    if login.role == Role.UNIT_HEAD:
        return {
            "todo",
            "my_unit",
            "metrics",
            "late_cases",
            "imports",
            "ratings",
            *everyone,
        }
    if login.role in UNIT_ROLES:
        return {"todo", "my_unit", "metrics", "late_cases", "imports", *everyone}
    if login.role == Role.REVIEWER:
        return {"todo", "units", "heads", "imports", *home_affairs, *oversight}
    if login.role == Role.LEADER:
        return {"todo", "units", "heads", *oversight}
    # the superuser
    return {"units", "heads", "imports", *home_affairs, "admin", *oversight}


def nav_keys(page: Page) -> set[str]:
    links = page.locator("[data-testid=main-nav] a[data-nav]")
    return set(links.evaluate_all("links => links.map(a => a.dataset.nav)"))


def url_of(live_server: LiveServer, name: str, **kwargs: str) -> str:
    return f"{live_server.url}{reverse(name, kwargs=kwargs or None)}"


@pytest.mark.parametrize("login", DEMO_LOGINS, ids=lambda login: login.username)
def test_demo_login_lands_on_role_work(
    login: DemoLogin,
    page: Page,
    live_server: LiveServer,
    log_in: LogIn,
    screenshot: Screenshot,
) -> None:
    """Each demo account with a role lands on its to-do home ("Việc cần
    làm", issue 18), leaders with the dashboard a click away; the superuser
    (who has no unit) on the Django admin index; the portal's main menu then
    holds exactly the role's items."""
    log_in(login.username)
    screenshot(login.username)

    if login.role:
        expect(page).to_have_url(url_of(live_server, "home"))
        expect(page.get_by_test_id("todo-title")).to_be_visible()
        dashboard = page.get_by_test_id("todo-dashboard")
        if login.role == Role.LEADER:
            expect(dashboard).to_have_attribute("href", reverse("dashboard"))
            dashboard.click()
            expect(page.get_by_test_id("dashboard-table")).to_be_visible()
            page.goto(url_of(live_server, "home"))
        elif login.role in UNIT_ROLES:
            expect(dashboard).to_have_count(0)
    else:
        expect(page).to_have_url(url_of(live_server, "admin:index"))
        expect(page.locator("body.dashboard")).to_be_visible()
        # The admin has its own layout; the portal menu is on the portal's pages.
        page.goto(url_of(live_server, "unit_list"))

    assert nav_keys(page) == expected_nav(login)


def test_city_leader_sees_only_the_city_and_its_area(
    page: Page, live_server: LiveServer, log_in: LogIn
) -> None:
    """Chí Linh's chairman (the city ended on 30/06/2025) lists the units of
    today in its area, the six wards its wards and communes merged into, and
    no unit of the rest of the province."""
    log_in("chutich.chilinh")
    page.goto(url_of(live_server, "unit_list"))

    table = page.get_by_test_id("unit-table")
    for name in (
        "Phường Chí Linh",
        "Phường Chu Văn An",
        "Phường Nguyễn Trãi",
        "Phường Trần Hưng Đạo",
        "Phường Trần Nhân Tông",
        "Phường Lê Đại Hành",
    ):
        expect(table).to_contain_text(name)
    for name in ("Sở Tư pháp", "UBND tỉnh Hải Dương", "Phường Hải Dương"):
        expect(table).not_to_contain_text(name)
    codes = table.locator("tbody td.code").all_inner_texts()
    assert len(codes) == 6, codes
    assert all(code.strip().startswith("HD-CL") for code in codes), codes


def test_commune_staff_gets_404_for_another_commune(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    """Staff of Phường Phả Lại get a 404 page for Xã Hưng Đạo's unit page: another
    commune's unit is not even confirmed to exist."""
    log_in("canbo.phalai")

    response = page.goto(url_of(live_server, "unit_detail", code="HD-CL-HUNGDAO"))
    screenshot("canbo.phalai")

    assert response is not None
    assert response.status == 404
    expect(page.get_by_test_id("unit-name")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Hưng Đạo")


def test_wrong_password_shows_error(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    """A wrong password keeps the browser on /login/ with an error, the user name
    still filled in, and no portal menu."""
    log_in("noivu.chilinh", "not-the-password")
    screenshot("noivu.chilinh")

    expect(page).to_have_url(url_of(live_server, "login"))
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).not_to_have_text(re.compile(r"^\s*$"))
    expect(page.locator("#id_username")).to_have_value("noivu.chilinh")
    expect(page.get_by_test_id("main-nav")).to_have_count(0)


def test_logout_returns_to_login(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    """Logging out from the top bar lands on the login page, and the portal then
    asks for a login again."""
    log_in("canbo.phalai")
    expect(page.get_by_test_id("main-nav")).to_be_visible()

    with page.expect_navigation():
        page.locator(f"form[action='{reverse('logout')}'] button").click()
    screenshot("canbo.phalai")

    expect(page).to_have_url(url_of(live_server, "login"))
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.get_by_test_id("main-nav")).to_have_count(0)
    page.goto(url_of(live_server, "home"))
    expect(page).to_have_url(re.compile(re.escape(reverse("login")) + r"\?next="))
