"""Every unit's 766 figures, for any period (issue 17, items 2 and 3): every
unit the caller sees that is valid in the period is a row, with counts 0 and
no data where it has no dossier (never 0 % or 100 %), in the API and the
download; and any range of whole months is counted as Decision 766 counts a
period, each dossier once (DOMAIN.md section 7)."""

import csv
import io
from datetime import date, datetime

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from procedures import metrics, rules
from procedures.models import CaseRecord
from procedures.parsing import LOCAL_TZ
from tests.factories import UnitFactory
from tests.procedures.figure_data import dossier, dossiers, local

URL = "/api/v1/metrics/"
CSV_URL = "/metrics/export.csv"
JUDGED = datetime(2026, 1, 5, 1, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def figures(org):
    """Phường A's dossiers around the first quarter of 2025, one carried from
    December into January and still open; Xã B has none. Every period judged
    in January 2026, after they all ended."""
    dossiers(
        org.commune_a,
        [
            ("CARRIED", local(2024, 12, 20, 8), local(2024, 12, 27, 17), None),
            ("JAN", local(2025, 1, 6, 8), local(2025, 1, 10, 17), local(2025, 1, 9)),
            (
                "FEB-LATE",
                local(2025, 2, 3, 8),
                local(2025, 2, 6, 17),
                local(2025, 3, 3),
            ),
        ],
    )
    metrics.metrics_recompute(
        unit_ids=[org.commune_a.pk, org.commune_b.pk],
        periods=metrics.periods_between((2024, 12), JUDGED),
        as_of=JUDGED,
    )
    return org


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def facts(unit):
    return [
        rules.CaseFacts(
            received_at=r.received_at,
            due_at=r.due_at,
            finished_at=r.finished_at,
            status=r.status,
            channel=r.channel,
        )
        for r in CaseRecord.objects.filter(unit=unit)
    ]


def counted(unit, first, last, as_of=JUDGED):
    """Counting the unit's cases over the range directly, as the rules do."""
    period = rules.Period.months(first, last, LOCAL_TZ)
    return rules.count(facts(unit), period, as_of=as_of)


# --- item 2: a unit with no dossier is a row, with no data ----------------------------


def test_a_unit_with_no_dossier_is_a_row_with_zero_counts_and_null_rates(
    figures, city_reviewer
):
    body = api(city_reviewer).get(URL, {"year": 2025, "period_kind": "year"}).json()
    rows = {row["unit_code"]: row for row in body["results"]}
    assert set(rows) == {"CITY", "CITY-A", "CITY-B"}
    empty = rows["CITY-B"]
    assert {
        name: empty[name] for name in ("received", "in_scope", "late")
    } == dict.fromkeys(("received", "in_scope", "late"), 0)
    assert set(empty["rates"].values()) == {None}
    assert (empty["computed_at"], empty["as_of"]) == (None, None)
    assert rows["CITY-A"]["received"] == 2


def test_the_caller_sees_only_the_units_in_scope(figures, commune_staff, reviewer):
    own = api(commune_staff).get(URL, {"year": 2025, "period_kind": "year"}).json()
    assert [row["unit_code"] for row in own["results"]] == ["CITY-A"]
    everyone = api(reviewer).get(URL, {"year": 2025, "period_kind": "year"}).json()
    assert [row["unit_code"] for row in everyone["results"]] == [
        "CITY",
        "CITY-A",
        "CITY-B",
        "PROV",
        "PROV-DEP",
    ]


def test_a_unit_is_a_row_in_the_periods_it_was_valid_in(figures, city_reviewer):
    """A ward merged away at the end of June is a row up to June; the ward
    made from it from July; one closed earlier, only where its dossiers were
    still counted."""
    UnitFactory(code="CITY-OLD", parent=figures.city, valid_to=date(2025, 6, 30))
    UnitFactory(code="CITY-NEW", parent=figures.city, valid_from=date(2025, 7, 1))
    closed = UnitFactory(
        code="CITY-GONE", parent=figures.city, valid_to=date(2024, 12, 31)
    )
    dossier(
        closed, "LATE-RECORD", received=local(2024, 12, 30, 8), due=local(2025, 1, 8)
    )
    metrics.metrics_recompute(
        unit_ids=[closed.pk],
        periods=metrics.periods_between((2024, 12), JUDGED),
        as_of=JUDGED,
    )
    body = api(city_reviewer).get(URL, {"year": 2025, "period_kind": "quarter"}).json()
    quarters = {}
    for row in body["results"]:
        quarters.setdefault(row["unit_code"], []).append(row["number"])
    assert quarters["CITY-OLD"] == [1, 2]
    assert quarters["CITY-NEW"] == [3, 4]
    assert quarters["CITY-GONE"] == [1, 2, 3, 4]  # its open dossier still counts
    assert quarters["CITY-A"] == [1, 2, 3, 4]


def test_without_a_year_every_year_with_figures_is_listed(figures, commune_staff):
    body = api(commune_staff).get(URL, {"period_kind": "year"}).json()
    assert [(row["year"], row["number"]) for row in body["results"]] == [
        (2024, 1),
        (2025, 1),
        (2026, 1),
    ]


def test_the_list_pages_and_orders_like_the_other_lists(figures, reviewer):
    client = api(reviewer)
    first = client.get(URL, {"year": 2025}).json()
    assert first["count"] == 5 * 17
    assert len(first["results"]) == 50
    second = client.get(URL, {"year": 2025, "page": 2}).json()
    keys = [
        (r["unit_code"], r["period_kind"], r["number"])
        for r in first["results"] + second["results"]
    ]
    assert len(set(keys)) == 5 * 17
    newest = client.get(URL, {"period_kind": "year", "ordering": "-year"}).json()
    assert [row["year"] for row in newest["results"]][:5] == [2026] * 5


def test_the_list_costs_a_bounded_number_of_queries(
    figures, reviewer, django_assert_max_num_queries
):
    """Memberships, the years, the units, those not valid throughout, the
    page's figures: the same for five units as for forty."""
    client = api(reviewer)
    with django_assert_max_num_queries(5):
        client.get(URL)
    with django_assert_max_num_queries(5):
        client.get(URL, {"from": "2024-12", "to": "2025-09"})
    for n in range(35):
        unit = UnitFactory(code=f"CITY-{n:02d}", parent=figures.city)
        if n % 3 == 0:
            dossier(unit, f"N{n}", received=local(2025, 2, 3, 8), due=local(2025, 2, 9))
    UnitFactory(code="CITY-OLD", parent=figures.city, valid_to=date(2025, 6, 30))
    metrics.metrics_recompute(
        unit_ids=list(CaseRecord.objects.values_list("unit_id", flat=True)),
        periods=metrics.periods_between((2024, 12), JUDGED),
        as_of=JUDGED,
    )
    with django_assert_max_num_queries(5):
        body = client.get(URL).json()
    # 2024 to 2026, 17 periods each, for 40 units; the ward merged away at the
    # end of June 2025 has 2024's and half of 2025's (6 months, 2 quarters,
    # the year).
    assert body["count"] == 40 * 17 * 3 + 17 + 9
    with django_assert_max_num_queries(5):
        client.get(URL, {"from": "2024-12", "to": "2025-09", "page": 2})


# --- item 3: any range of whole months ------------------------------------------------


def test_a_range_is_one_row_per_unit_counted_as_the_rules_count_it(
    figures, city_reviewer
):
    body = api(city_reviewer).get(URL, {"from": "2024-12", "to": "2025-03"}).json()
    rows = {row["unit_code"]: row for row in body["results"]}
    assert set(rows) == {"CITY", "CITY-A", "CITY-B"}
    row = rows["CITY-A"]
    assert (row["period_kind"], row["year"], row["number"]) == ("range", None, None)
    assert (row["from"], row["to"]) == ("2024-12", "2025-03")
    expected = counted(figures.commune_a, (2024, 12), (2025, 3))
    assert {
        name: row[name] for name in ("received", "in_scope", "on_time", "late")
    } == {
        "received": expected.received,
        "in_scope": expected.in_scope,
        "on_time": expected.on_time,
        "late": expected.late,
    }
    # Each dossier once: three received, three in scope (not four, with the
    # December dossier carried into January).
    assert (row["received"], row["in_scope"], row["on_time"]) == (3, 3, 1)
    assert row["rates"]["on_time_rate"] == "33.33"
    assert row["as_of"] is None  # judged after the range ended
    assert set(rows["CITY-B"]["rates"].values()) == {None}


def test_a_year_to_date_range_is_the_year_so_far_not_the_sum_of_its_quarters(
    figures, commune_staff
):
    client = api(commune_staff)
    ranged = client.get(URL, {"from": "2025-01", "to": "2025-06"}).json()["results"][0]
    quarters = client.get(URL, {"year": 2025, "period_kind": "quarter"}).json()
    q1, q2 = quarters["results"][0], quarters["results"][1]
    # The open dossier carried from December is in scope in both quarters.
    assert q1["in_scope"] + q2["in_scope"] > ranged["in_scope"]
    assert (
        ranged["in_scope"] == counted(figures.commune_a, (2025, 1), (2025, 6)).in_scope
    )


def test_a_running_range_is_as_of_the_moment_its_last_month_was_judged(
    org, commune_staff
):
    dossier(
        org.commune_a,
        "DUE-20TH",
        received=local(2026, 12, 1, 8),
        due=local(2026, 12, 20, 17),
    )
    seventh = local(2026, 12, 7, 8, 0)
    metrics.metrics_refresh(as_of=seventh)
    body = api(commune_staff).get(URL, {"from": "2026-01", "to": "2026-12"}).json()
    row = body["results"][0]
    assert row["as_of"] == "2026-12-07T08:00:00+07:00"
    assert (row["late"], row["rates"]["on_time_rate"]) == (0, "100.00")
    expected = counted(org.commune_a, (2026, 1), (2026, 12), as_of=seventh)
    assert (row["in_scope"], row["on_time"]) == (expected.in_scope, expected.on_time)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2025-01"}, "to"),
        ({"to": "2025-03"}, "from"),
        ({"from": "2025-03", "to": "2025-01"}, "to"),
        ({"from": "2025-13", "to": "2025-12"}, "from"),
        ({"from": "2025-1", "to": "2025-02"}, "from"),
        ({"from": "1999-12", "to": "2025-02"}, "from"),
        ({"from": "2025-01", "to": "2025-03", "year": "2025"}, "year"),
        ({"from": "2025-01", "to": "2025-03", "period_kind": "month"}, "period_kind"),
        ({"year": "1999"}, "year"),
        ({"year": "20255"}, "year"),
    ],
)
def test_a_range_or_year_the_api_cannot_read_is_refused_naming_the_parameter(
    figures, commune_staff, query, field
):
    response = api(commune_staff).get(URL, query)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert [error["field"] for error in body["errors"]] == [field]


def test_the_schema_documents_the_range_and_the_moment(db):
    document = SchemaGenerator().get_schema(request=None, public=True)
    operation = document["paths"]["/api/v1/metrics/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    for name in ("from", "to"):
        assert parameters[name]["schema"]["pattern"] == "^([0-9]{4})-(0[1-9]|1[0-2])$"
    assert "400" in operation["responses"]
    row = document["components"]["schemas"]["UnitMetric"]["properties"]
    assert row["as_of"]["format"] == "date-time"
    assert row["as_of"]["nullable"] is True
    assert "tính đến" in row["as_of"]["description"]
    assert row["year"]["nullable"] is True
    schemas = document["components"]["schemas"]
    kinds = [
        schema["enum"]
        for schema in schemas.values()
        if {"month", "quarter", "year"} <= set(schema.get("enum", ()))
    ]
    assert ["month", "quarter", "year", "range"] in kinds


# --- the download ---------------------------------------------------------------------


def read_csv(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def test_the_download_lists_every_unit_in_scope_over_the_range(
    client, figures, city_reviewer
):
    client.force_login(city_reviewer)
    response = client.get(CSV_URL, {"from": "2024-12", "to": "2025-03"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = {row["unit_code"]: row for row in read_csv(response)}
    assert set(rows) == {"CITY", "CITY-A", "CITY-B"}
    a = rows["CITY-A"]
    assert (a["from"], a["to"], a["received"], a["in_scope"]) == (
        "2024-12",
        "2025-03",
        "3",
        "3",
    )
    assert a["on_time_rate"] == "33.33"
    assert a["as_of"] == ""
    b = rows["CITY-B"]
    assert (b["received"], b["on_time_rate"], b["satisfaction_score_766"]) == (
        "0",
        "",
        "",
    )


def test_the_download_of_one_unit_and_its_moment(client, org, commune_staff):
    dossier(
        org.commune_a,
        "DUE-20TH",
        received=local(2026, 12, 1, 8),
        due=local(2026, 12, 20, 17),
    )
    metrics.metrics_refresh(as_of=local(2026, 12, 7, 8, 0))
    client.force_login(commune_staff)
    response = client.get(
        CSV_URL, {"unit": "CITY-A", "from": "2026-01", "to": "2026-12"}
    )
    (row,) = read_csv(response)
    assert row["as_of"] == "07/12/2026 08:00"
    assert row["on_time_rate"] == "100.00"
    assert (
        client.get(
            CSV_URL, {"unit": "CITY-B", "from": "2026-01", "to": "2026-12"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2025-01"},
        {"from": "2025-03", "to": "2025-01"},
        {"from": "x", "to": "y"},
    ],
)
def test_the_download_needs_a_range_it_can_read(client, figures, commune_staff, query):
    client.force_login(commune_staff)
    assert client.get(CSV_URL, query).status_code == 400


# --- the page -------------------------------------------------------------------------


def test_the_figures_page_shows_a_range_as_the_rules_count_it(
    client, figures, commune_staff
):
    client.force_login(commune_staff)
    response = client.get(
        "/units/CITY-A/metrics/", {"year": 2025, "from": "2024-12", "to": "2025-03"}
    )
    span_row = response.context["span_row"]
    assert span_row.counts == counted(figures.commune_a, (2024, 12), (2025, 3))
    html = response.content.decode()
    assert "Từ 12/2024 đến 03/2025" in html
    assert 'data-testid="range-csv"' in html


def test_the_figures_page_offers_the_year_to_date_and_refuses_a_half_range(
    client, figures, commune_staff
):
    client.force_login(commune_staff)
    plain = client.get("/units/CITY-A/metrics/", {"year": 2025})
    form = plain.context["range_form"]
    assert (form["from"].value(), form["to"].value()) == ("2025-01", "2025-12")
    assert plain.context["span_row"] is None
    half = client.get(
        "/units/CITY-A/metrics/", {"year": 2025, "from": "2025-02", "to": ""}
    )
    assert half.context["span_row"] is None
    assert "to" in half.context["range_form"].errors
