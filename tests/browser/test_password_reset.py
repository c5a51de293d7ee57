"""A forgotten password, in the browser: from the login page to a new
password by the e-mailed link, as a Nội vụ reviewer would do it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.steps import click_and_wait
from tests.wording import vi

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]
NEW = "Mat-khau-moi-2026!"


def test_a_reviewer_chooses_a_new_password_by_the_emailed_link(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    user = User.objects.get(username="noivu.chilinh")
    mail.outbox.clear()

    page.goto(f"{live_server.url}/login/")
    click_and_wait(page, page.get_by_test_id("forgot-password"))
    expect(page.locator("h1")).to_have_text(vi("Forgotten password"))
    page.locator("#id_email").fill(user.email.upper())
    screenshot("1-ask")
    click_and_wait(page, page.get_by_test_id("password-reset-send"))
    expect(page.get_by_test_id("password-reset-sent")).to_be_visible()
    screenshot("2-sent")

    assert len(mail.outbox) == 1
    found = re.search(r"https?://\S+/password/reset/\S+/", str(mail.outbox[0].body))
    assert found, mail.outbox[0].body
    page.goto(found.group(0))
    expect(page.get_by_test_id("password-reset-confirm")).to_be_visible()
    page.locator("#id_new_password1").fill(NEW)
    page.locator("#id_new_password2").fill(NEW)
    screenshot("3-choose")
    click_and_wait(page, page.get_by_test_id("password-reset-save"))
    expect(page.get_by_test_id("password-reset-complete")).to_be_visible()

    log_in("noivu.chilinh", NEW)
    expect(page.locator("header")).to_contain_text(user.get_full_name())
    # The link was used: opening it again says so.
    page.goto(found.group(0))
    expect(page.get_by_test_id("password-reset-invalid")).to_be_visible()
