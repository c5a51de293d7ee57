"""The results pages in the browser, on the demo province (seed_demo
publishes 2022–2024 and leaves 2025 provisional, Phường Trần Nhân Tông (Xã
Bắc An's successor) not yet approved): Sở Nội vụ reads a published year and
a unit's explanation whose figures add up; recomputes 2025 and watches a run
finish; the chairman reads the published rankings but never the provisional
ones."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from scoring.models import ComputationRun, PublishedResult, RunState
from scoring.results import computation
from tests.wording import vi, vi_label

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo_province")]

LogIn = Callable[..., None]
Screenshot = Callable[[str], Path]
CENT = Decimal("0.01")


def number(text: str) -> Decimal:
    """A figure as the Vietnamese page writes it: 1,25 (no thousands here)."""
    return Decimal(text.strip().replace(",", "."))


def attribute(locator: Locator, name: str) -> str:
    value = locator.get_attribute(name)
    assert value is not None, name
    return value


def shown(page: Page, testid: str) -> Decimal:
    return number(page.get_by_test_id(testid).first.inner_text())


def test_reviewer_reads_a_published_year_and_an_explanation_that_adds_up(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    # A unit of 2024 with a deduction or bonus counted, to see them add up too.
    adjusted = (
        PublishedResult.objects.filter(publication__year=2024, rank__isnull=False)
        .exclude(adjustments=0)
        .select_related("unit")
        .order_by("unit__code")
        .first()
    )
    assert adjusted is not None, "the demo publishes 2024 with adjustments"
    code = adjusted.unit.code

    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/results/2024/")
    status = page.get_by_test_id("results-status")
    official = vi("Official results – publication %(version)s of %(day)s")
    expect(status).to_contain_text(
        official.split("%(day)s")[0].rstrip() % {"version": 1}
    )
    expect(status).to_contain_text("SHA-256")
    tables = page.get_by_test_id("results-table")
    expect(tables).to_have_count(2)  # departments, Chí Linh's communes
    # Ranks in each table never go down the page, and start at 1.
    for table in tables.all():
        ranks = [
            int(r)
            for r in table.get_by_test_id("rank").all_inner_texts()
            if r.strip().isdigit()
        ]
        assert ranks[0] == 1
        assert ranks == sorted(ranks)
    row = page.locator(f"tr[data-testid=results-row][data-unit='{code}']")
    index_in_table = number(row.get_by_test_id("index").inner_text())
    screenshot("table-2024")

    with page.expect_navigation():
        row.get_by_test_id("unit-link").click()
    expect(page.get_by_test_id("unit-title")).to_contain_text(code)
    expect(page.get_by_test_id("explanation-problems")).to_have_count(0)
    screenshot("explanation")
    # Each leaf's method label stays inside its column (it used to run over
    # the self score beside it).
    labels = page.locator("[data-testid=explanation-tree] td .method")
    assert labels.count() > 10
    for label in labels.all()[:30]:
        box, cell = label.bounding_box(), label.locator("xpath=..").bounding_box()
        assert box is not None
        assert cell is not None
        assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 0.5

    # The tree: every inner line is the sum of its children within its
    # maximum; every leaf within 0 and its maximum.
    lines = {}
    for line in page.get_by_test_id("explanation-line").all():
        lines[attribute(line, "data-code")] = (
            int(attribute(line, "data-depth")),
            attribute(line, "data-leaf") == "1",
            number(line.get_by_test_id("line-maximum").inner_text()),
            number(line.get_by_test_id("line-points").inner_text()),
        )
    assert len(lines) > 20
    for code_, (depth, leaf, maximum, points) in lines.items():
        assert Decimal(0) <= points <= maximum, code_
        if not leaf:
            children = [
                p
                for c, (d, _leaf, _max, p) in lines.items()
                if d == depth + 1 and c.rsplit(".", 1)[0] == code_
            ]
            assert children, code_
            assert points == min(maximum, sum(children)), code_
    obtained = shown(page, "unit-obtained")
    assert obtained == sum(p for d, _l, _m, p in lines.values() if d == 0)

    # Deductions and bonuses: what each rule counts adds up to the total.
    counted = [number(t) for t in page.get_by_test_id("rule-counted").all_inner_texts()]
    assert counted, "this unit has a deduction or bonus"
    adjustments = shown(page, "unit-adjustments")
    assert sum(counted) == adjustments == shown(page, "adjustments-total")

    # obtained + adjustments, kept within 0..maximum, ÷ maximum × 100.
    maximum = shown(page, "unit-maximum")
    assert shown(page, "unit-sum") == obtained + adjustments
    final = shown(page, "unit-final")
    assert final == min(maximum, max(Decimal(0), obtained + adjustments))
    index = shown(page, "unit-index")
    assert index == (final / maximum * 100).quantize(CENT, ROUND_HALF_UP)
    assert index == shown(page, "unit-index-formula") == index_in_table
    expect(page.get_by_test_id("unit-rank")).to_contain_text(f"{adjusted.rank}/")


def test_reviewer_recomputes_the_provisional_year_and_sees_the_run_finish(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    log_in("noivu.tinh")
    page.goto(f"{live_server.url}/results/")
    # Sở Nội vụ lands on the year under way: 2025, provisional.
    assert page.url.endswith("/results/2025/?view=provisional")
    provisional = vi("Provisional results – computed at %(time)s")
    expect(page.get_by_test_id("results-status")).to_contain_text(
        provisional.split("%(time)s")[0].rstrip()
    )
    # Phường Trần Nhân Tông is not approved: listed last, unranked, and it
    # holds up the publication.
    waiting = page.locator(
        "tr[data-testid=results-row][data-unit='HD-CL-TRANNHANTONG']"
    )
    expect(waiting.get_by_test_id("not-approved")).to_have_text(vi("not approved"))
    expect(page.get_by_test_id("publish-blocker")).to_contain_text(
        "Phường Trần Nhân Tông"
    )
    expect(page.get_by_test_id("results-publish")).to_be_disabled()
    before = int(attribute(page.get_by_test_id("run-box"), "data-run"))

    # "Tính lại kết quả": without a broker the run is carried out at once.
    with page.expect_navigation():
        page.get_by_test_id("results-compute").click()
    computed = vi("Results of %(year)d computed: %(units)d units.")
    expect(page.locator(".messages")).to_contain_text(
        computed.split("%(units)d")[0].rstrip() % {"year": 2025}
    )
    box = page.get_by_test_id("run-box")
    pressed = int(attribute(box, "data-run"))
    assert pressed > before
    expect(box.get_by_test_id("run-state")).to_have_text(
        vi_label(RunState.SUCCEEDED.label)
    )
    assert ComputationRun.objects.get(pk=pressed).trigger == "manual"

    # The nightly run queued for a worker: the page says so and reloads
    # itself until the run has finished.
    queued = computation.run_request(year=2025, trigger="schedule")
    page.goto(f"{live_server.url}/results/2025/?view=provisional")
    expect(box.get_by_test_id("run-state")).to_have_text(
        vi_label(RunState.QUEUED.label)
    )
    expect(page.get_by_test_id("run-refresh")).to_be_visible()
    expect(page.get_by_test_id("results-compute")).to_be_disabled()
    screenshot("queued")
    # The worker takes it (a tenth of a second, well between two reloads).
    assert computation.run(queued.pk).state == RunState.SUCCEEDED
    expect(page.get_by_test_id("run-box")).to_have_attribute(
        "data-state", "succeeded", timeout=15_000
    )
    expect(page.get_by_test_id("run-box")).to_have_attribute("data-run", str(queued.pk))
    expect(page.get_by_test_id("run-refresh")).to_have_count(0)
    screenshot("finished")

    page.get_by_test_id("results-runs-link").click()
    runs = page.get_by_test_id("run-row")
    expect(runs.first).to_have_attribute("data-run", str(queued.pk))
    expect(runs.nth(1)).to_have_attribute("data-run", str(pressed))


def test_chairman_reads_the_published_rankings_not_the_provisional_ones(
    page: Page, live_server: LiveServer, log_in: LogIn, screenshot: Screenshot
) -> None:
    log_in("chutich.tinh")
    page.goto(f"{live_server.url}/results/")
    # The latest published year, as published.
    assert page.url.endswith("/results/2024/")
    expect(page.get_by_test_id("results-status")).to_have_attribute(
        "data-status", "published"
    )
    expect(page.get_by_test_id("results-row").first).to_be_visible()
    expect(page.get_by_test_id("view-switcher")).to_have_count(0)
    years = page.get_by_test_id("year-switcher").locator("a")
    expect(years).to_have_text(["2024", "2023", "2022"])
    # An earlier year, and a unit's explanation (the chairman is above all).
    with page.expect_navigation():
        years.nth(2).click()
    official = vi("Official results – publication %(version)s of %(day)s")
    expect(page.get_by_test_id("results-status")).to_contain_text(
        official % {"version": 1, "day": "15/03/2023"}
    )
    with page.expect_navigation():
        page.get_by_test_id("unit-link").first.click()
    expect(page.get_by_test_id("unit-summary")).to_be_visible()
    screenshot("published")

    # The PDF takes a moment: the link says it is being prepared, then the
    # file arrives under the server's name and the words go.
    page.evaluate(
        """() => {
          window.statusSeen = [];
          new MutationObserver(() => {
            const box = document.querySelector(".download-status");
            if (box && box.textContent) window.statusSeen.push(box.textContent);
          }).observe(document.body,
                     {subtree: true, childList: true, characterData: true});
        }"""
    )
    with page.expect_download() as download_info:
        page.get_by_test_id("unit-pdf").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    saved = download.path()
    assert saved is not None
    assert Path(saved).read_bytes().startswith(b"%PDF")
    assert vi("Preparing the file…") in page.evaluate("window.statusSeen")
    expect(page.locator(".download-status")).to_have_text("")

    for url in ("/results/2025/?view=provisional", "/results/2025/"):
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None
        assert response.status == 404
        expect(page.get_by_test_id("not-found")).to_be_visible()
    response = page.goto(f"{live_server.url}/results/2025/units/HD-CL-LEDAIHANH/")
    assert response is not None
    assert response.status == 404
