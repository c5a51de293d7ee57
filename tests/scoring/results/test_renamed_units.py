# ruff: noqa: F811 - the results fixtures imported from results/test_views
"""A unit or ranking group renamed (in /admin/ or anywhere) shows at once in
what is kept from published results: the rankings over the API, the
dashboard's page and its group section (scoring.signals starts a new
generation once the change commits)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from rest_framework.test import APIClient

from commitments.organisation.models import RankingGroup, Unit
from scoring.results import generation
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

RANKING = "/api/v1/results/2025/"
DASHBOARD = "/dashboard/"


class _Form(HTMLParser):
    """The fields of the admin's change form as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button"}:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[name] = a.get("value") or "on"
            else:
                self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            if "multiple" not in a:  # a multiple select sends nothing if empty
                self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def rename_in_admin(client, unit: Unit, name: str) -> None:
    url = f"/admin/commitments/unit/{unit.pk}/change/"
    form = _Form()
    form.feed(client.get(url).content.decode())
    # The inlines' empty template form is not posted by a browser either.
    data = {k: v for k, v in form.data.items() if "__prefix__" not in k}
    response = client.post(url, {**data, "name": name})
    assert response.status_code == 302, re.findall(
        r'<ul class="errorlist[^"]*"[^>]*>.*?</ul>', response.content.decode()
    )


def ranked_names(client) -> dict[str, str]:
    response = client.get(RANKING)
    assert response.status_code == 200
    return {row["unit_code"]: row["unit_name"] for row in response.json()["results"]}


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    """The test's transaction never commits: run what waits for it."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def reader(leader):
    api = APIClient()
    api.force_authenticate(leader)
    return api


def test_a_unit_renamed_in_the_admin_shows_in_the_cached_rankings_at_once(
    client, superuser, reader, units, published_2025, capture
):
    assert ranked_names(reader)["CITY-C"] == "Xã C"
    etag = reader.get(RANKING)["ETag"]
    # Kept: the next read is the cache's.
    assert ranked_names(reader)["CITY-C"] == "Xã C"

    client.force_login(superuser)
    with capture(execute=True):  # the admin's transaction commits
        rename_in_admin(client, units["C"], "Xã C mới")

    assert ranked_names(reader)["CITY-C"] == "Xã C mới"
    # A client holding the earlier answer is not told it still has the latest.
    again = reader.get(RANKING, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert again["ETag"] != etag


def test_a_renamed_unit_shows_on_the_kept_dashboard_page_at_once(
    client, leader, units, published_2025, capture
):
    client.force_login(leader)
    client.get(DASHBOARD)  # the CSRF cookie a browser has from its first page
    query = {"year": 2025, "group": "xa"}
    assert "Xã C" in client.get(DASHBOARD, query).content.decode()
    assert "Xã C" in client.get(DASHBOARD, query).content.decode()  # kept

    unit = Unit.objects.get(code="CITY-C")
    unit.name = "Xã Cẩm Thượng"
    with capture(execute=True):
        unit.save()

    assert "Xã Cẩm Thượng" in client.get(DASHBOARD, query).content.decode()


def test_a_renamed_group_shows_in_the_dashboard_pickers_at_once(
    client, leader, units, published_2025, capture
):
    client.force_login(leader)
    client.get(DASHBOARD)
    assert "Nhóm xã" in client.get(DASHBOARD, {"year": 2025}).content.decode()
    group = RankingGroup.objects.get(code="xa")
    group.name = "Các xã"
    with capture(execute=True):
        group.save()
    assert "Các xã" in client.get(DASHBOARD, {"year": 2025}).content.decode()


def test_a_save_that_changes_nothing_shown_keeps_the_generation(
    units, django_capture_on_commit_callbacks
):
    before = generation.current()
    unit = Unit.objects.get(code="CITY-C")
    with django_capture_on_commit_callbacks(execute=True):
        unit.save()
        unit.valid_to = None
        unit.save(update_fields=["valid_to"])
    assert generation.current() == before
    with django_capture_on_commit_callbacks(execute=True):
        unit.code = "CITY-C2"
        unit.save()
    assert generation.current() != before


def test_a_deleted_unit_starts_a_new_generation(
    org, django_capture_on_commit_callbacks
):
    unit = UnitFactory(code="GONE", name="Xã cũ", parent=org.city)
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        unit.delete()
    assert generation.current() != before
