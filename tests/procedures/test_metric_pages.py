"""A unit's 766 figures: the page and the read endpoint, scoped by role."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from commitments.organisation.models import Role
from procedures.models import PeriodKind, UnitMetric
from tests.factories import MembershipFactory
from tests.wording import vi

NOW = datetime(2025, 4, 1, tzinfo=UTC)


def store(unit, kind, number, **counts):
    return UnitMetric.objects.create(
        unit=unit,
        period_kind=kind,
        year=2025,
        number=number,
        computed_at=NOW,
        **counts,
    )


@pytest.fixture
def march(org):
    """Phường A in March 2025: 3 in scope, 2 on time; 4 received, 1 online."""
    store(
        org.commune_a,
        PeriodKind.MONTH,
        3,
        received=4,
        in_scope=3,
        on_time=2,
        late=1,
        online=1,
        overdue_open=1,
    )
    store(org.commune_b, PeriodKind.MONTH, 3, received=9, in_scope=9, on_time=9)
    return org


def test_staff_see_their_units_figures_with_rates_and_no_data(
    client, march, commune_staff
):
    client.force_login(commune_staff)
    response = client.get("/units/CITY-A/metrics/", {"year": 2025})
    assert response.status_code == 200
    rows = {(r.kind, r.number): r for r in response.context["rows"]}
    assert len(rows) == 17  # 12 months, 4 quarters, the year
    figures = rows[("month", 3)].figures
    assert str(figures.on_time_rate) == "66.67"
    assert str(figures.progress_score_766) == "13.33"
    assert str(figures.online_rate) == "25.00"
    assert figures.online_payment_rate is None  # no fee-bearing dossier
    assert rows[("month", 4)].figures.on_time_rate is None  # nothing in April
    page = response.content.decode()
    assert "66,67%" in page  # Vietnamese decimal comma
    assert "—" in page


def test_staff_get_404_for_another_units_figures(client, march, commune_staff):
    client.force_login(commune_staff)
    assert client.get("/units/CITY-B/metrics/").status_code == 404


def test_staff_menu_leads_to_their_figures(client, march, commune_staff):
    client.force_login(commune_staff)
    response = client.get("/units/CITY-A/")
    urls = {item.key: item.url for item in response.context["nav_items"]}
    assert urls["metrics"] == "/units/CITY-A/metrics/"


def test_someone_of_two_units_tells_their_figures_apart_in_the_menu(
    client, march, org, commune_staff
):
    """A merged ward's staff who also served its predecessor: one item per
    unit, each named."""
    MembershipFactory(user=commune_staff, unit=org.commune_b, role=Role.UNIT_STAFF)
    client.force_login(commune_staff)
    items = [
        item
        for item in client.get("/units/CITY-A/").context["nav_items"]
        if item.key == "metrics"
    ]
    assert [item.url for item in items] == [
        "/units/CITY-A/metrics/",
        "/units/CITY-B/metrics/",
    ]
    assert [str(item.label) for item in items] == [
        vi("Dossier figures: %(unit)s") % {"unit": org.commune_a.name},
        vi("Dossier figures: %(unit)s") % {"unit": org.commune_b.name},
    ]


def test_reviewer_reads_any_unit_of_the_jurisdiction(client, march, city_reviewer):
    client.force_login(city_reviewer)
    assert client.get("/units/CITY-B/metrics/", {"year": 2025}).status_code == 200
    assert client.get("/units/PROV-DEP/metrics/").status_code == 404


def test_page_costs_a_fixed_number_of_queries(
    client, march, commune_staff, django_assert_max_num_queries
):
    client.force_login(commune_staff)
    with django_assert_max_num_queries(10):
        client.get("/units/CITY-A/metrics/", {"year": 2025})


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def rows_of(body):
    return {(r["unit_code"], r["period_kind"], r["number"]): r for r in body["results"]}


def test_metrics_endpoint_returns_counts_and_rates_in_scope(march, commune_staff):
    """Every period of the year is a row for the staff's unit: March with its
    figures, the other periods with counts 0 and no data."""
    body = api(commune_staff).get("/api/v1/metrics/", {"year": 2025}).json()
    assert body["count"] == 17  # 12 months, 4 quarters, the year
    rows = rows_of(body)
    assert {code for code, _kind, _number in rows} == {"CITY-A"}
    result = rows[("CITY-A", "month", 3)]
    assert (result["in_scope"], result["on_time"]) == (3, 2)
    assert result["rates"]["on_time_rate"] == "66.67"
    assert result["rates"]["online_payment_rate"] is None
    april = rows[("CITY-A", "month", 4)]
    assert (april["received"], april["in_scope"]) == (0, 0)
    assert set(april["rates"].values()) == {None}


def test_metrics_endpoint_filters_by_unit_for_a_reviewer(march, city_reviewer):
    client = api(city_reviewer)
    # The city and its two communes, every period of the year with figures.
    assert client.get("/api/v1/metrics/").json()["count"] == 3 * 17
    only_b = client.get("/api/v1/metrics/", {"unit": "CITY-B", "period_kind": "month"})
    rows = rows_of(only_b.json())
    assert {code for code, _kind, _number in rows} == {"CITY-B"}
    assert rows[("CITY-B", "month", 3)]["rates"]["on_time_rate"] == "100.00"


def test_metrics_endpoint_needs_a_login(march):
    assert APIClient().get("/api/v1/metrics/").status_code == 401
