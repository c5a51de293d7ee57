# ruff: noqa: F811 - the results fixtures imported from results/test_views
"""The leaders' dashboard and its unit page through the client: the ranking
by group with its charts' figures, the heat map, the procedure KPIs against
the committed targets, a unit's trend, what needs attention; who may open
them; the cache of the group section; queries that do not grow with the
units.

The data are those of results/test_views (2024 published, 2025 computed and,
where asked for, published): group "xa" ranks Phường A, Xã B, Xã C, Xã F,
Xã G (Xã E unranked in the provisional 2025), group "phuong" Phường D."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.organisation.models import (
    Head,
    HeadPosition,
    Membership,
    RankingGroup,
    Role,
)
from scoring.accountability import services as accountability
from scoring.assessments import reminders
from scoring.dashboard import selectors as dashboard
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    Publication,
)
from scoring.results import computation, publication
from tests.commitments.helpers import month, signed
from tests.conftest import member
from tests.factories import UnitFactory
from tests.scoring.results.test_views import (  # noqa: F401 - fixtures
    approve_all,
    computed_2025,
    framework_2025,
    published_2024,
    published_2025,
    settle,
    units,
)
from tests.scoring.results_helpers import on_time
from tests.wording import vi

URL = "/dashboard/"


def official(year: int, version: int) -> str:
    """The banner of a published version."""
    published = Publication.objects.get(year=year, version=version).published_at
    return vi("Official results, version %(version)s, published on %(day)s.") % {
        "version": version,
        "day": timezone.localtime(published).strftime("%d/%m/%Y"),
    }


def page(client, **query):
    response = client.get(URL, query)
    assert response.status_code == 200, response.status_code
    return response


def rows(response) -> list[tuple[str, str, str, str]]:
    """(unit code, rank, index, change) of each ranking row."""
    body = response.content.decode()
    found = []
    for match in re.finditer(
        r'<tr data-testid="dashboard-row" data-unit="([^"]+)"[^>]*>(.*?)</tr>',
        body,
        re.S,
    ):
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(2), re.S)
        ]
        change = cells[4].split(" ")[0] if cells[4] else ""
        found.append((match.group(1), cells[0], cells[2], change))
    return found


def script_data(response, name):
    body = response.content.decode()
    found = re.search(
        rf'<script id="{name}" type="application/json">(.*?)</script>', body, re.S
    )
    assert found, name
    return json.loads(found.group(1))


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def head_a(org):
    return Head.objects.create(
        unit=org.commune_a,
        full_name="Nguyễn Văn An",
        title="Chủ tịch UBND",
        position=HeadPosition.HEAD,
        tenure_from=date(2020, 1, 1),
    )


def open_case(unit, year, head, state) -> AccountabilityCase:
    now = timezone.now()
    return AccountabilityCase.objects.create(
        kind=CaseKind.TWO_YEARS,
        unit=unit,
        year=year,
        head=head,
        state=state,
        facts={},
        opened_at=now,
        updated_at=now,
    )


# --- the ranking ------------------------------------------------------------------


def test_leader_reads_the_published_ranking_of_a_group(client, leader, published_2025):
    client.force_login(leader)
    response = page(client, year=2025, group="xa")
    # Equal indices share a rank; the change of rank against 2024.
    assert rows(response) == [
        ("CITY-A", "1", "80,00", "▲1"),
        ("CITY-E", "1", "80,00", ""),
        ("CITY-B", "3", "70,00", "▼2"),
        ("CITY-C", "3", "70,00", "–"),
        ("CITY-F", "5", "50,00", "▼1"),
        ("PROV-G", "6", "30,00", ""),
    ]
    page_text = text(response)
    assert official(2025, 1) in page_text
    # The bar chart's figures: the page's rows, in the table's order.
    chart = script_data(response, "rank-data")
    assert chart["index"] == [80.0, 80.0, 70.0, 70.0, 50.0, 30.0]
    assert chart["tier"][:2] == ["B", "B"]
    # The tier and the change of rank are shown with their colour classes.
    body = response.content.decode()
    assert '<span class="tier tier-B">B</span>' in body
    assert 'class="res-up"' in body
    assert 'class="res-down"' in body


def test_year_and_group_pickers(client, leader, published_2025):
    client.force_login(leader)
    response = page(client, year=2024, group="phuong")
    assert [r[0] for r in rows(response)] == ["CITY-D"]
    body = response.content.decode()
    assert '<option value="2024" selected>2024</option>' in body
    assert re.search(
        r'<option value="phuong" selected>Nhóm phường \(1\)</option>', body
    )
    assert re.search(r'<option value="xa">Nhóm xã \(4\)</option>', body)
    # 2024: five units ranked, group "xa" holds four of them.
    assert [r[0] for r in rows(page(client, year=2024, group="xa"))] == [
        "CITY-B",
        "CITY-A",
        "CITY-C",
        "CITY-F",
    ]
    # An unknown group or year falls back to the defaults, not an error.
    assert rows(page(client, year=1999, group="nope"))


def test_default_group_is_the_users_own(client, leader, org, published_2025):
    """Without ?group, a leader of a ranked unit sees that unit's group;
    the province's leader sees the first group by name."""
    commune_leader = member("leader.a", org.commune_a, Role.LEADER)
    client.force_login(commune_leader)
    assert 'data-group="xa"' in page(client).content.decode()
    client.force_login(leader)
    assert 'data-group="phuong"' in page(client).content.decode()


def test_heat_map_colours_each_field_index(client, leader, published_2025):
    client.force_login(leader)
    body = page(client, year=2025, group="xa").content.decode()
    heat = body[body.index('data-testid="dashboard-heatmap"') :]
    # Phường A: field 1 at 100 (h5), field 2 at 50 (h1).
    a_row = re.search(r'title="Phường A">Phường A</th>(.*?)</tr>', heat, re.S)
    assert a_row
    assert re.findall(r'<td class="(h\d|hn)"', a_row.group(1)) == ["h5", "h1"]
    assert dashboard.heat_class(Decimal("89.99")) == "h4"
    assert dashboard.heat_class(Decimal("90")) == "h5"
    assert dashboard.heat_class(Decimal("49.99")) == "h0"
    assert dashboard.heat_class(None) == "hn"


def test_kpis_against_the_committed_targets(
    client, leader, org, units, head_a, published_2025
):
    """The group's rate adds up its units' stored counts; units reaching
    their signed target are counted, a draft's targets are not."""
    on_time(units["A"], 2025, on_time=95, in_scope=100)
    on_time(units["B"], 2025, on_time=45, in_scope=100)
    signed(units["A"], 2025, head_a, [("dung-han", "90", None)])
    head_b = Head.objects.create(
        unit=units["B"],
        full_name="Lê Thị Bình",
        title="Chủ tịch UBND",
        position=HeadPosition.HEAD,
        tenure_from=date(2020, 1, 1),
    )
    signed(units["B"], 2025, head_b, [("dung-han", "100", None)])
    client.force_login(leader)
    response = page(client, year=2025, group="xa")
    body = response.content.decode()
    on_time_row = re.search(r'data-kpi="on_time_rate">(.*?)</tr>', body, re.S).group(1)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", on_time_row, re.S)
    ]
    # 140 of 200 on time; targets 90 and 100 (median 95); only A reaches.
    assert cells[1:] == ["70,00%", "95%", "1 / 2"]
    kpi = script_data(response, "kpi-data")
    assert kpi["rate"][0] == 70.0
    assert kpi["target"][0] == 95.0
    online_row = re.search(r'data-kpi="online_rate">(.*?)</tr>', body, re.S).group(1)
    assert vi("no target") in online_row


def test_trend_of_a_unit(client, leader, published_2025):
    client.force_login(leader)
    response = page(client, year=2025, group="xa", unit="CITY-A")
    trend = script_data(response, "trend-data")
    assert trend == {"labels": ["2024", "2025"], "index": [75.0, 80.0], "rank": [2, 1]}
    assert vi("%(name)s over the years") % {"name": "Phường A"} in text(response)
    # Without ?unit: the first unit of the page.
    first = script_data(page(client, year=2025, group="phuong"), "trend-data")
    assert first["index"] == [50.0, 60.0]


def test_unit_links_only_where_the_user_may_look(client, city_reviewer, published_2025):
    """The city's reviewer drills into the city's communes, not into Xã G
    of the province; every name is still listed."""
    client.force_login(city_reviewer)
    body = page(client, year=2025, group="xa").content.decode()
    assert re.search(r'href="/dashboard/units/CITY-A/\?year=2025&amp;group=xa"', body)
    assert "/dashboard/units/PROV-G/" not in body
    assert "Xã G" in body


def test_provisional_view_for_reviewers_only(client, reviewer, leader, computed_2025):
    client.force_login(reviewer)
    response = page(client, year=2025, view="provisional", group="xa")
    at = timezone.localtime(computed_2025.finished_at).strftime("%d/%m/%Y %H:%M")
    provisional = vi(
        "Provisional results, computed at %(time)s: they change until the year is "
        "published."
    )
    assert provisional % {"time": at} in text(response)
    assert [r[0] for r in rows(response)][-1] == "CITY-E"
    client.force_login(leader)
    assert client.get(URL, {"year": 2025, "view": "provisional"}).status_code == 404
    # 2025 is not published: the leader sees 2024 by default.
    assert '<option value="2024" selected>' in page(client).content.decode()


def test_who_may_open_the_dashboard(
    client, commune_staff, commune_head, no_unit_user, published_2025
):
    assert client.get(URL).status_code == 302  # to the login page
    for user in (commune_staff, commune_head, no_unit_user):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.get("/dashboard/units/CITY-A/").status_code == 403


def test_menu_item(client, leader, commune_staff, published_2025):
    client.force_login(leader)
    assert 'data-nav="dashboard"' in page(client).content.decode()
    client.force_login(commune_staff)
    body = client.get(reverse("assessment_list")).content.decode()
    assert 'data-nav="dashboard"' not in body


def test_tables_without_javascript(client, leader, published_2025):
    """The charts are drawn by the script; the tables hold the same figures
    in the HTML, and the page says so where scripts do not run."""
    client.force_login(leader)
    body = page(client, year=2025, group="xa").content.decode()
    assert 'data-testid="dashboard-table"' in body
    assert 'data-testid="dashboard-heatmap"' in body
    assert 'class="dash-nojs"' in body
    assert "/static/vendor/chartjs/chart.umd" in body
    assert "cdn" not in body.lower()


def test_pages_of_a_large_group(client, leader, org, framework_2025, reviewer):
    xa = RankingGroup.objects.create(code="big", name="Nhóm lớn")
    for n in range(55):
        unit = UnitFactory(code=f"BIG-{n:02d}", parent=org.city, ranking_group=xa)
        settle(framework_2025, unit, ("2", str(n % 4), "1"))
    run = computation.compute_now(2025)
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=timezone.now())
    client.force_login(leader)
    first = page(client, year=2025, group="big")
    assert len(rows(first)) == 50
    of_total = vi("Units %(first)s–%(last)s of %(total)s")
    assert of_total % {"first": 1, "last": 50, "total": 55} in text(first)
    second = page(client, year=2025, group="big", page=2)
    assert len(rows(second)) == 5
    assert page(client, year=2025, group="big", page=99).status_code == 200


# --- what needs attention ------------------------------------------------------------


def test_watch_list_open_cases_and_targets_at_risk(
    client, leader, city_reviewer, org, head_a
):
    """Open cases (not decided ones) and this year's targets at risk, each
    within the user's units."""
    year = timezone.localdate().year
    open_case(org.commune_a, year - 1, head_a, AccountabilityState.REQUESTED)
    other = UnitFactory(code="PROV-H", name="Xã H", parent=org.province)
    head_h = Head.objects.create(
        unit=other,
        full_name="Phạm Văn Hùng",
        title="Chủ tịch UBND",
        position=HeadPosition.HEAD,
        tenure_from=date(2020, 1, 1),
    )
    for back, state in (
        (1, AccountabilityState.DECIDED),
        (2, AccountabilityState.EXPLAINED),
    ):
        open_case(other, year - back, head_h, state)
    signed(org.commune_a, year, head_a, [("dung-han", "100", None)])
    month(org.commune_a, year, 1, received=10, on_time=5, late=5)
    watch = dashboard.watch(leader, timezone.localdate())
    assert watch.cases_total == 2
    assert watch.at_risk_total == 1
    client.force_login(city_reviewer)
    # The provincial figures (none published): the empty page still lists
    # nothing; the watch list is read through dashboard.watch for the city.
    mine = dashboard.watch(city_reviewer, timezone.localdate())
    assert [case.unit.code for case in mine.cases] == ["CITY-A"]
    assert [row.target.commitment.unit.code for row in mine.at_risk] == ["CITY-A"]


def test_watch_list_on_the_page(client, leader, org, head_a, published_2025):
    open_case(org.commune_a, 2025, head_a, AccountabilityState.REQUESTED)
    client.force_login(leader)
    body = page(client, year=2025).content.decode()
    assert body.count('data-testid="watch-case"') == 1
    assert reverse("accountability_detail", args=[1]).rsplit("/", 2)[0] in body


# --- the unit page ---------------------------------------------------------------


def test_unit_page_gathers_everything(
    client, leader, org, units, head_a, published_2025
):
    on_time(units["A"], 2025, on_time=95, in_scope=100)
    signed(
        units["A"], 2025, head_a, [("dung-han", "90", None), ("so-hoa", "100", None)]
    )
    open_case(units["A"], 2025, head_a, AccountabilityState.REQUESTED)
    client.force_login(leader)
    response = client.get("/dashboard/units/CITY-A/", {"year": 2025})
    assert response.status_code == 200
    body = response.content.decode()
    page_text = text(response)
    assert re.search(r'data-testid="unit-index">80,00<', body)
    assert re.search(r'data-testid="unit-rank">1<', body)
    assert script_data(response, "trend-data")["rank"] == [2, 1]
    assert f'href="{reverse("results_unit", args=[2025, "CITY-A"])}"' in body
    assert reverse("results_unit_export_xlsx", args=[2025, "CITY-A"]) in body
    kpi = re.search(r'data-kpi="on_time_rate">(.*?)</tr>', body, re.S).group(1)
    assert "95,00%" in kpi
    assert "≥ 90%" in kpi
    assert "reach-yes" in kpi
    digit = re.search(r'data-kpi="digitization_rate">(.*?)</tr>', body, re.S).group(1)
    assert "≥ 100%" in digit
    assert body.count('data-testid="unit-commitment"') == 1
    assert body.count('data-testid="unit-case"') == 1
    assert "Nguyễn Văn An" in page_text
    # An earlier year reads its own publication.
    earlier = client.get("/dashboard/units/CITY-A/", {"year": 2024})
    assert re.search(r'data-testid="unit-index">75,00<', earlier.content.decode())


def test_unit_page_is_for_the_units_in_reach(client, city_reviewer, published_2025):
    client.force_login(city_reviewer)
    assert client.get("/dashboard/units/CITY-A/").status_code == 200
    assert client.get("/dashboard/units/PROV-G/").status_code == 404
    assert client.get("/dashboard/units/NOPE/").status_code == 404


# --- the cache and the queries ------------------------------------------------------


def test_group_section_is_cached_until_a_new_publication(
    client,
    leader,
    reviewer,
    framework_2025,
    units,
    published_2025,
    django_capture_on_commit_callbacks,
):
    client.force_login(leader)
    with CaptureQueriesContext(connection) as first:
        page(client, year=2025, group="xa")
    with CaptureQueriesContext(connection) as second:
        again = page(client, year=2025, group="xa")
    assert len(second) < len(first)
    assert rows(again)[0][2] == "80,00"
    # A new version: its rows, not the cached ones.
    settle(framework_2025, units["F"], ("2", "4", "2"))
    approve_all(2025)
    run = computation.compute_now(2025)
    with django_capture_on_commit_callbacks(execute=True):
        publication.publish(user=reviewer, year=2025, run_id=run.pk, now=timezone.now())
    after = page(client, year=2025, group="xa")
    assert official(2025, 2) in text(after)
    assert {c: i for c, _r, i, _ch in rows(after)}["CITY-F"] == "60,00"  # 8 of 10, −2


def test_queries_do_not_grow_with_the_units(
    client, leader, org, framework_2025, reviewer, published_2025, settings
):
    """The dashboard (nothing cached) and the unit page: the same number of
    queries with 6 units in the group as with 36."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    client.force_login(leader)
    client.get(URL)  # the CSRF cookie a browser has from its first page

    def count(url, **query):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, query).status_code == 200
        return len(queries)

    before = count(URL, year=2025, group="xa")
    unit_before = count("/dashboard/units/CITY-A/", year=2025)
    xa = RankingGroup.objects.get(code="xa")
    for n in range(30):
        unit = UnitFactory(code=f"CITY-Y{n:02d}", parent=org.city, ranking_group=xa)
        settle(framework_2025, unit, ("1", "2", str(n % 3)))
        on_time(unit, 2025, on_time=n, in_scope=30)
    run = computation.compute_now(2025)
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=timezone.now())
    assert count(URL, year=2025, group="xa") == before
    assert count("/dashboard/units/CITY-A/", year=2025) == unit_before
    response = client.get(URL, {"year": 2025, "group": "xa"})
    assert len(rows(response)) == 36


def test_leaders_land_on_their_to_do_with_the_dashboard_a_click_away(
    client, leader, city_reviewer
):
    """The to-do home comes first for every role (docs/decisions.md, issue
    18); a leader's holds a prominent link to the dashboard."""
    client.force_login(leader)
    html = client.get("/").content.decode()
    assert 'data-testid="todo-dashboard"' in html
    assert f'href="{URL}"' in html


# --- the page kept for its reader (scoring.results.page_cache) ---------------


def test_a_page_read_again_costs_only_the_session_and_the_user(
    client, leader, published_2025
):
    client.force_login(leader)
    first = page(client, year=2025, group="xa")  # sets the CSRF cookie
    second = page(client, year=2025, group="xa")
    with CaptureQueriesContext(connection) as queries:
        third = page(client, year=2025, group="xa")
    # The user, and the session unless the cache holds it (cached_db).
    tables = [re.search(r'FROM "(\w+)"', q["sql"])[1] for q in queries]
    assert sorted(tables) in (["auth_user"], ["auth_user", "django_session"])
    assert third.content == second.content
    assert rows(third) == rows(first)
    # Its forms still carry a token of the reader's CSRF cookie.
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', third.content)
    assert token is not None
    assert client.post(
        "/i18n/setlang/",
        {"language": "en", "csrfmiddlewaretoken": token[1].decode()},
    ).status_code in (200, 302)


def test_a_kept_page_is_its_readers_own(
    client, leader, reviewer, published_2025, django_assert_num_queries
):
    client.force_login(leader)
    page(client, year=2025, group="xa")
    page(client, year=2025, group="xa")
    client.force_login(reviewer)  # the same browser, the same CSRF cookie
    body = page(client, year=2025, group="xa").content.decode()
    assert reviewer.get_username() in body
    assert leader.get_username() not in body
    # In English, another page.
    client.cookies["django_language"] = "en"
    assert "Official results" in text(page(client, year=2025, group="xa"))


def test_new_notices_and_notices_read_show_at_once(
    client, leader, org, head_a, published_2025, django_capture_on_commit_callbacks
):
    # The publication told the leader; read, it leaves no badge.
    reminders.notices_mark_all_read(user=leader, now=timezone.now())
    client.force_login(leader)
    page(client, year=2025)
    assert 'data-testid="notice-badge"' not in page(client, year=2025).content.decode()
    case = open_case(org.commune_a, 2025, head_a, AccountabilityState.REQUESTED)
    with django_capture_on_commit_callbacks(execute=True):
        accountability.notify([leader], case, "Giải trình", timezone.now())
    body = page(client, year=2025).content.decode()
    assert re.search(r'data-testid="notice-badge"[^>]*>1<', body)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.notices_mark_all_read(user=leader, now=timezone.now())
    assert 'data-testid="notice-badge"' not in page(client, year=2025).content.decode()


def test_a_withdrawn_membership_closes_the_page_at_once(
    client, leader, published_2025, django_capture_on_commit_callbacks
):
    client.force_login(leader)
    page(client, year=2025)
    page(client, year=2025)
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(user=leader).delete()
    assert client.get(URL, {"year": 2025}).status_code == 403


def test_messages_and_provisional_pages_are_never_served_kept(
    client, leader, reviewer, computed_2025, published_2024
):
    client.force_login(leader)
    page(client, year=2024)
    page(client, year=2024)
    # A message waiting for the next page (as a view leaves one).
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(messages.SUCCESS, "Đã lưu.")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies["messages"] = carrier.cookies["messages"].value
    assert "Đã lưu." in page(client, year=2024).content.decode()

    client.force_login(reviewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as found:
            page(client, year=2025, view="provisional", group="xa")
        return len(found)

    queries()
    assert queries() == queries() > 2
