"""Figures of a period still running are judged as of the moment they are
computed (issue 17, item 1; DOMAIN.md section 7): an open dossier not yet due
is neither late nor overdue; every page and answer says "tính đến"; the beat
re-judges the running month, quarter and year, so that figures age without
an import and agree with the late-dossier list."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from celery.schedules import crontab
from django.conf import settings
from rest_framework.test import APIClient

from procedures import metrics, tasks
from procedures.models import UnitMetric
from tests.procedures.figure_data import dossier, dossiers, local

SEVENTH = local(2026, 12, 7, 8, 0)
TWENTY_FIRST = local(2026, 12, 21, 9, 0)
DUE_20TH = local(2026, 12, 20, 17)


def stored(unit, kind="month", year=2026, number=12):
    return UnitMetric.objects.get(unit=unit, period_kind=kind, year=year, number=number)


@pytest.fixture
def december(org):
    """The issue's dossier in Phường A: received on 1 December, due on the
    20th, still open; and one finished on time in Xã B."""
    dossiers(org.commune_a, [("HS-20", local(2026, 12, 1, 8), DUE_20TH, None)])
    dossiers(
        org.commune_b,
        [("HS-B", local(2026, 12, 2, 8), local(2026, 12, 4, 17), local(2026, 12, 3))],
    )
    return org


# --- the rows as judged ---------------------------------------------------------------


def test_on_the_seventh_the_issues_dossier_is_on_time_not_late(december):
    metrics.metrics_refresh(as_of=SEVENTH)
    for kind, number in (("month", 12), ("quarter", 4), ("year", 1)):
        row = stored(december.commune_a, kind, number=number)
        assert (row.in_scope, row.on_time, row.late, row.overdue_open) == (1, 1, 0, 0)
        assert row.computed_at == SEVENTH


def test_past_its_due_time_the_beat_judges_it_late_and_overdue(december):
    metrics.metrics_refresh(as_of=SEVENTH)
    metrics.metrics_refresh_due(as_of=TWENTY_FIRST)
    for kind, number in (("month", 12), ("quarter", 4), ("year", 1)):
        row = stored(december.commune_a, kind, number=number)
        assert (row.in_scope, row.on_time, row.late, row.overdue_open) == (1, 0, 1, 1)
        assert row.computed_at == TWENTY_FIRST


def test_the_frequent_refresh_judges_again_only_units_with_a_dossier_fallen_due(
    december,
):
    metrics.metrics_refresh(as_of=SEVENTH)
    # Nothing has fallen due since the seventh in the morning: nothing to do.
    assert metrics.metrics_refresh_due(as_of=local(2026, 12, 7, 8, 10)) == 0
    metrics.metrics_refresh_due(as_of=TWENTY_FIRST)
    assert stored(december.commune_a).computed_at == TWENTY_FIRST
    # Xã B's dossier was finished before its due time: nothing changed there.
    assert stored(december.commune_b).computed_at == SEVENTH


def test_the_daily_refresh_judges_every_units_running_periods_again(december):
    metrics.metrics_refresh(as_of=SEVENTH)
    later = local(2026, 12, 8, 1, 0)
    metrics.metrics_refresh(as_of=later)
    for unit in (december.commune_a, december.commune_b):
        assert stored(unit).computed_at == later
        assert stored(unit, "year", number=1).computed_at == later
    # A unit without a dossier has no row: no data.
    assert not UnitMetric.objects.filter(unit=december.department).exists()


def test_the_month_that_rolled_over_is_judged_again_at_its_end(org):
    """November judged on the 20th; the first refresh after midnight on
    1 December judges November to its end and starts December, carried in."""
    dossier(
        org.commune_a,
        "HS-NOV",
        received=local(2026, 11, 18, 8),
        due=local(2026, 11, 25, 17),
    )
    metrics.metrics_refresh(as_of=local(2026, 11, 20, 10))
    november = stored(org.commune_a, number=11)
    assert (november.late, november.overdue_open) == (0, 0)

    after_midnight = local(2026, 12, 1, 0, 5)
    assert metrics.first_month_judged_early(after_midnight) == (2026, 11)
    metrics.metrics_refresh_due(as_of=after_midnight)
    november = stored(org.commune_a, number=11)
    assert (november.late, november.overdue_open) == (1, 1)
    assert november.computed_at == after_midnight
    first_of_december = stored(org.commune_a, number=12)
    assert (first_of_december.carried_in, first_of_december.late) == (1, 1)
    assert metrics.first_month_judged_early(after_midnight) is None


def test_rows_written_twice_at_once_are_upserted_not_duplicated(december):
    metrics.metrics_refresh(as_of=SEVENTH)
    metrics.metrics_recompute(
        unit_ids=[december.commune_a.pk],
        periods=metrics.periods_between((2026, 12), SEVENTH),
        as_of=SEVENTH,
    )
    assert UnitMetric.objects.filter(unit=december.commune_a, year=2026).count() == 3


# --- the beat -------------------------------------------------------------------------


def test_the_beat_runs_the_refresh_early_every_morning_and_the_catch_up_often():
    by_task = {
        entry["task"]: entry["schedule"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    daily = by_task["procedures.tasks.metrics_refresh_task"]
    assert isinstance(daily, crontab)
    # 01:00 local time (CELERY_TIMEZONE).
    assert (daily.hour, daily.minute) == ({1}, {0})
    assert settings.CELERY_TIMEZONE == "Asia/Ho_Chi_Minh"
    often = by_task["procedures.tasks.metrics_refresh_due_task"]
    assert isinstance(often, crontab)
    # Every ten minutes, off the hour the daily refresh runs at.
    assert often.minute == {5, 15, 25, 35, 45, 55}
    for name in by_task:
        if name.startswith("procedures.tasks."):
            assert hasattr(tasks, name.rsplit(".", 1)[1]), name


def test_the_tasks_judge_at_the_moment_they_run(december, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: SEVENTH)
    tasks.metrics_refresh_task.delay()
    assert stored(december.commune_a).computed_at == SEVENTH
    monkeypatch.setattr("django.utils.timezone.now", lambda: TWENTY_FIRST)
    assert tasks.metrics_refresh_due_task.delay().get() == 3  # month, quarter, year
    assert stored(december.commune_a).late == 1


# --- what the pages and the API say ---------------------------------------------------


def test_the_figures_page_says_as_of_when_for_the_running_periods(
    client, december, commune_staff, monkeypatch
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: SEVENTH)
    metrics.metrics_refresh(as_of=SEVENTH)
    client.force_login(commune_staff)
    response = client.get("/units/CITY-A/metrics/", {"year": 2026})
    html = response.content.decode()
    assert "tính đến 07/12/2026 08:00" in html
    rows = {(r.kind, r.number): r for r in response.context["rows"]}
    assert rows[("month", 12)].as_of == SEVENTH
    assert rows[("year", 1)].as_of == SEVENTH
    assert rows[("month", 11)].as_of is None  # no row: nothing to judge
    assert str(rows[("month", 12)].figures.on_time_rate) == "100.00"


def test_a_period_judged_after_its_end_says_no_as_of(client, december, commune_staff):
    metrics.metrics_refresh(as_of=local(2027, 1, 2, 1, 0))
    client.force_login(commune_staff)
    response = client.get("/units/CITY-A/metrics/", {"year": 2026})
    assert "tính đến" not in response.content.decode()
    assert all(row.as_of is None for row in response.context["rows"])


def test_the_api_gives_the_moment_of_a_running_period_and_null_once_over(
    december, commune_staff
):
    metrics.metrics_refresh(as_of=SEVENTH)
    client = APIClient()
    client.force_authenticate(commune_staff)
    body = client.get("/api/v1/metrics/", {"year": 2026}).json()
    rows = {(r["period_kind"], r["number"]): r for r in body["results"]}
    assert rows[("month", 12)]["as_of"] == "2026-12-07T08:00:00+07:00"
    assert rows[("month", 12)]["computed_at"] == "2026-12-07T08:00:00+07:00"
    assert rows[("month", 12)]["rates"]["on_time_rate"] == "100.00"
    metrics.metrics_refresh(as_of=local(2027, 1, 2, 1, 0))
    body = client.get("/api/v1/metrics/", {"year": 2026}).json()
    rows = {(r["period_kind"], r["number"]): r for r in body["results"]}
    assert rows[("month", 12)]["as_of"] is None
    assert rows[("month", 12)]["late"] == 1


# --- the late list and the figures agree ----------------------------------------------


def test_the_late_list_opened_from_the_figures_holds_what_they_count(
    client, org, commune_staff, monkeypatch
):
    """Figures judged on the 7th count one dossier late; by the 21st a second
    has fallen due. Opened from the figures, the list holds the one they
    count, as of their moment; up to now, both; and once the beat has caught
    up, the figures count both too."""
    dossiers(
        org.commune_a,
        [
            ("LATE-BY-7TH", local(2026, 12, 1, 8), local(2026, 12, 4, 17), None),
            ("DUE-20TH", local(2026, 12, 1, 8), DUE_20TH, None),
        ],
    )
    metrics.metrics_refresh(as_of=SEVENTH)
    monkeypatch.setattr("django.utils.timezone.now", lambda: TWENTY_FIRST)
    client.force_login(commune_staff)

    page = client.get("/units/CITY-A/metrics/", {"year": 2026})
    year_row = page.context["year_row"]
    assert year_row.counts.late == 1
    link = page.context["year_row"].as_of
    assert link == SEVENTH
    href = next(
        line.split('href="', 1)[1].split('"', 1)[0]
        for line in page.content.decode().splitlines()
        if 'data-testid="metrics-late-link"' in line
    ).replace("&amp;", "&")
    query = parse_qs(urlsplit(href).query)
    assert query["late_year"] == ["2026"]
    assert datetime.fromisoformat(query["as_of"][0]) == SEVENTH

    listed = client.get(href)
    codes = [row[0].case_code for row in listed.context["rows"]]
    assert codes == ["LATE-BY-7TH"]
    assert len(codes) == year_row.counts.late
    assert "tính đến 07/12/2026 08:00" in listed.content.decode()

    now = client.get("/cases/late/", {"unit": "CITY-A", "late_year": 2026})
    assert now.context["page"].paginator.count == 2
    metrics.metrics_refresh_due(as_of=TWENTY_FIRST)
    assert stored(org.commune_a, "year", number=1).late == 2


def test_a_moment_after_now_on_the_late_list_is_now(client, org, commune_staff):
    dossier(
        org.commune_a,
        "DUE-SOON",
        received=local(2026, 12, 1, 8),
        due=local(2099, 12, 20, 17),
    )
    client.force_login(commune_staff)
    response = client.get(
        "/cases/late/",
        {"unit": "CITY-A", "late_year": 2026, "as_of": "2099-12-31T00:00:00+07:00"},
    )
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0


def test_a_moment_the_late_list_cannot_read_is_a_filter_error(
    client, org, commune_staff
):
    client.force_login(commune_staff)
    response = client.get("/cases/late/", {"late_year": 2026, "as_of": "yesterday"})
    assert response.status_code == 200
    assert "as_of" in response.context["form"].errors
    assert "Số liệu tính đến" in response.content.decode()
