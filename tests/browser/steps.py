"""Steps the browser tests share."""

from __future__ import annotations

from playwright.sync_api import Dialog, Locator, Page


def click_and_wait(page: Page, target: Locator) -> None:
    """Click and wait for the page it leads to. A step that cannot be undone
    asks first (a data-confirm dialog, static/js/portal.js): the test says
    yes; a click that asks nothing is unaffected."""

    def accept(dialog: Dialog) -> None:
        dialog.accept()

    page.on("dialog", accept)
    try:
        with page.expect_navigation():
            target.click()
    finally:
        page.remove_listener("dialog", accept)
