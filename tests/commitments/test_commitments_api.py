"""Commitments over REST, read only: the indicator catalogue for every
signed-in caller; commitments and targets only of the units the caller sees
(another unit's commitment answers 404), each target with its progress
computed as of today."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination
from rest_framework.test import APIClient

from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    Indicator,
    Target,
)
from commitments.organisation.models import Head
from procedures.models import PeriodKind, UnitMetric
from tests.factories import HeadFactory, UnitFactory

# This year's targets without a deadline are due on 31 December: whatever the
# day the tests run, they are followed as progress (on track, at risk, no
# data), never met or missed yet.
YEAR = timezone.localdate().year
LAST_YEAR = YEAR - 1

INDICATORS_URL = reverse("commitments_api:indicator-list")
COMMITMENTS_URL = reverse("commitments_api:commitment-list")
TARGETS_URL = reverse("commitments_api:target-list")


def detail_url(commitment):
    return reverse("commitments_api:commitment-detail", args=[commitment.pk])


def client_for(user=None):
    client = APIClient()
    if user is not None:
        # A fresh object per client: memberships are cached on the user.
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def make_commitment(unit, year=YEAR, *, signed=False, **fields):
    if signed:
        # One head per unit: tenures may not overlap (a constraint on PostgreSQL).
        head = Head.objects.filter(unit=unit).first() or HeadFactory(
            unit=unit, full_name=f"Trần Văn {unit.code}", title="Chủ tịch"
        )
        fields = {
            "state": CommitmentState.SIGNED,
            "head": head,
            "signed_on": date(year, 1, 15),
            **fields,
        }
    return Commitment.objects.create(unit=unit, year=year, **fields)


def add_target(commitment, code, value, position=0, **fields):
    return Target.objects.create(
        commitment=commitment,
        indicator=Indicator.objects.get(code=code),
        value=Decimal(value),
        position=position,
        **fields,
    )


def january_figures(unit, year=YEAR, *, in_scope=10, on_time=8):
    """January's counts: this year's rate so far, whatever month it is."""
    UnitMetric.objects.create(
        unit=unit,
        period_kind=PeriodKind.MONTH,
        year=year,
        number=1,
        received=in_scope,
        in_scope=in_scope,
        on_time=on_time,
        late=in_scope - on_time,
        # All settled in January: the rate holds whichever month it is now.
        finished_on_time=on_time,
        computed_at=timezone.now(),
    )


@pytest.fixture
def data(org):
    """This year: commune A signed and counter-signed, one target at risk
    (on time 80% of 100%), one on track (reported 97 of 95, not checked
    yet), one without data; commune B a draft with a target at risk
    (accepted 90 of 95); the department a draft whose report was rejected.
    Last year: commune A judged, missed."""
    a = make_commitment(
        org.commune_a,
        signed=True,
        state=CommitmentState.COUNTERSIGNED,
        countersigned_on=date(YEAR, 1, 20),
        countersigner_name="Lê Thị Cấp Trên",
        countersigner_title="Chủ tịch UBND TP",
    )
    january_figures(org.commune_a)
    add_target(a, "dung-han", "100", 1, last_year_value=Decimal("92.5"))
    add_target(
        a,
        "van-ban-dien-tu",
        "95",
        2,
        reported_value=Decimal("97"),
        check_state=CheckState.PENDING,
    )
    add_target(a, "nhiem-vu", "100", 3)
    b = make_commitment(org.commune_b)
    add_target(
        b,
        "van-ban-dien-tu",
        "95",
        1,
        reported_value=Decimal("90"),
        check_state=CheckState.ACCEPTED,
    )
    dep = make_commitment(org.department)
    add_target(
        dep,
        "niem-yet",
        "100",
        1,
        reported_value=Decimal("100"),
        check_state=CheckState.REJECTED,
    )
    old = make_commitment(
        org.commune_a,
        LAST_YEAR,
        signed=True,
        met=False,
        evaluated_at=timezone.now(),
    )
    add_target(old, "dung-han", "100", 1, judged_value=Decimal("80"), met=False)
    add_target(
        old, "nhiem-vu", "100", 2, judged_value=Decimal("100"), met=True, exceeded=False
    )
    return {"a": a, "b": b, "dep": dep, "old": old}


def listed(client, url, **query):
    response = client.get(url, query)
    assert response.status_code == 200, response.content
    return response.json()


def units_of(body):
    return [(row["unit"]["code"], row["year"]) for row in body["results"]]


# --- who may call ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [INDICATORS_URL, COMMITMENTS_URL, TARGETS_URL])
def test_anonymous_callers_are_refused(data, url):
    response = APIClient().get(url)

    # 401 and "WWW-Authenticate: Token": token authentication comes first.
    assert response.status_code == 401
    body = response.json()
    assert (body["status"], body["code"]) == (401, "not_authenticated")
    assert body["errors"] == [
        {"field": None, "code": "not_authenticated", "message": body["detail"]}
    ]


def test_anonymous_callers_cannot_read_a_commitment(data):
    assert APIClient().get(detail_url(data["a"])).status_code == 401


def test_a_token_reads_the_commitments(data, commune_staff):
    token = Token.objects.create(user=commune_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert listed(client, COMMITMENTS_URL)["count"] == 2


# --- indicators -----------------------------------------------------------------------


def test_every_signed_in_caller_reads_the_indicator_catalogue(no_unit_user):
    body = listed(client_for(no_unit_user), INDICATORS_URL)

    codes = [row["code"] for row in body["results"]]
    assert codes[:2] == ["dung-han", "truc-tuyen"]
    assert body["count"] == Indicator.objects.count() == len(codes)
    first = body["results"][0]
    assert first["kind"] == "metric"
    assert first["metric"] == "on_time_rate"
    assert first["unit_label"] == "%"


def test_indicators_filter_by_kind(no_unit_user):
    body = listed(client_for(no_unit_user), INDICATORS_URL, kind="manual")

    assert {row["code"] for row in body["results"]} == {
        "van-ban-dien-tu",
        "nhiem-vu",
        "niem-yet",
    }
    assert {row["metric"] for row in body["results"]} == {""}


# --- commitments: scope ---------------------------------------------------------------


def test_unit_staff_list_only_their_own_units_commitments(data, commune_staff):
    body = listed(client_for(commune_staff), COMMITMENTS_URL)

    assert units_of(body) == [("CITY-A", YEAR), ("CITY-A", LAST_YEAR)]


@pytest.mark.parametrize(
    ("persona", "hidden"),
    [("commune_staff", "b"), ("other_commune_staff", "a"), ("department_staff", "a")],
)
def test_another_units_commitment_answers_404(request, data, persona, hidden):
    client = client_for(request.getfixturevalue(persona))

    response = client.get(detail_url(data[hidden]))

    assert response.status_code == 404


def test_a_missing_commitment_answers_404_like_a_hidden_one(data, reviewer):
    missing = reverse("commitments_api:commitment-detail", args=[999_999])

    assert client_for(reviewer).get(missing).status_code == 404


def test_a_city_reviewer_sees_the_city_and_its_communes_only(data, city_reviewer):
    client = client_for(city_reviewer)

    body = listed(client, COMMITMENTS_URL)

    assert units_of(body) == [
        ("CITY-A", YEAR),
        ("CITY-B", YEAR),
        ("CITY-A", LAST_YEAR),
    ]
    assert client.get(detail_url(data["b"])).status_code == 200
    assert client.get(detail_url(data["dep"])).status_code == 404


def test_a_provincial_reviewer_sees_every_unit(data, reviewer):
    body = listed(client_for(reviewer), COMMITMENTS_URL)

    assert body["count"] == 4


def test_a_user_without_a_unit_sees_no_commitment(data, no_unit_user):
    client = client_for(no_unit_user)

    assert listed(client, COMMITMENTS_URL)["count"] == 0
    assert listed(client, TARGETS_URL)["count"] == 0
    assert client.get(detail_url(data["a"])).status_code == 404


# --- commitments: what they show ------------------------------------------------------


def test_a_commitment_shows_who_signed_and_its_targets_by_progress(data, city_reviewer):
    body = listed(client_for(city_reviewer), COMMITMENTS_URL, year=YEAR)
    a, b = body["results"]

    assert a["id"] == data["a"].pk
    assert a["unit"] == {"code": "CITY-A", "name": "Phường A"}
    assert a["state"] == "countersigned"
    assert a["head"] == {"name": "Trần Văn CITY-A", "title": "Chủ tịch"}
    assert a["signed_on"] == f"{YEAR}-01-15"
    assert a["countersigned"] == {
        "name": "Lê Thị Cấp Trên",
        "title": "Chủ tịch UBND TP",
        "date": f"{YEAR}-01-20",
    }
    assert a["met"] is None
    assert a["evaluated_at"] is None
    assert a["progress_counts"] == {
        "on_track": 1,
        "at_risk": 1,
        "met": 0,
        "missed": 0,
        "no_data": 1,
    }
    assert "targets" not in a
    assert b["state"] == "draft"
    assert b["head"] is None
    assert b["countersigned"] is None
    assert b["progress_counts"]["at_risk"] == 1


def test_a_commitment_lists_its_targets_with_their_progress_today(data, commune_staff):
    body = client_for(commune_staff).get(detail_url(data["a"])).json()

    assert body["progress_counts"]["at_risk"] == 1
    on_time, documents, tasks = body["targets"]
    assert on_time["indicator"] == {
        "code": "dung-han",
        "name": "Hồ sơ TTHC giải quyết, trả kết quả đúng hẹn",
        "kind": "metric",
        "metric": "on_time_rate",
    }
    assert on_time["comparison"] == "gte"
    assert on_time["value"] == "100.00"
    assert on_time["deadline"] is None
    assert on_time["mandatory"] is True
    assert on_time["last_year_value"] == "92.50"
    assert on_time["progress"] == {
        "value": "80.00",
        "source": "metric",
        "state": "at_risk",
    }
    assert documents["reported_value"] == "97.00"
    assert documents["check_state"] == "pending"
    assert documents["progress"] == {
        "value": "97.00",
        "source": "reported",
        "state": "on_track",
    }
    assert tasks["check_state"] == ""
    assert tasks["progress"] == {"value": None, "source": "", "state": "no_data"}
    assert (tasks["judged_value"], tasks["met"], tasks["exceeded"]) == (
        None,
        None,
        None,
    )


def test_a_judged_commitment_shows_each_targets_judgement(data, commune_staff):
    body = client_for(commune_staff).get(detail_url(data["old"])).json()

    assert body["met"] is False
    assert body["evaluated_at"] is not None
    assert body["progress_counts"]["missed"] == 1
    assert body["progress_counts"]["met"] == 1
    missed, met = body["targets"]
    assert (missed["judged_value"], missed["met"]) == ("80.00", False)
    assert missed["progress"] == {
        "value": "80.00",
        "source": "judged",
        "state": "missed",
    }
    assert (met["met"], met["exceeded"]) == (True, False)
    assert met["progress"]["state"] == "met"


# --- commitments: filters and order ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"year": LAST_YEAR}, [("CITY-A", LAST_YEAR)]),
        ({"unit": "CITY-B"}, [("CITY-B", YEAR)]),
        ({"unit": "CITY"}, []),  # exactly that unit, not its communes
        ({"state": "draft"}, [("PROV-DEP", YEAR), ("CITY-B", YEAR)]),
        ({"state": "countersigned"}, [("CITY-A", YEAR)]),
        ({"met": "false"}, [("CITY-A", LAST_YEAR)]),
        ({"met": "true"}, []),
        ({"year": YEAR, "state": "signed"}, []),
    ],
)
def test_commitments_filter_by_year_unit_state_and_met(data, reviewer, query, expected):
    body = listed(client_for(reviewer), COMMITMENTS_URL, **query)

    assert sorted(units_of(body)) == sorted(expected)


def test_commitments_come_newest_year_first_then_by_unit(data, reviewer):
    body = listed(client_for(reviewer), COMMITMENTS_URL)

    # Unit paths follow creation: the department was created before the city.
    assert units_of(body) == [
        ("PROV-DEP", YEAR),
        ("CITY-A", YEAR),
        ("CITY-B", YEAR),
        ("CITY-A", LAST_YEAR),
    ]


def test_commitments_order_by_year_then_id_on_ties(data, reviewer):
    body = listed(client_for(reviewer), COMMITMENTS_URL, ordering="year")

    ids = [row["id"] for row in body["results"]]
    assert ids == [
        data["old"].pk,
        *sorted([data["a"].pk, data["b"].pk, data["dep"].pk]),
    ]


def test_a_bad_filter_value_answers_400(data, reviewer):
    response = client_for(reviewer).get(COMMITMENTS_URL, {"state": "lost"})

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("state", "invalid_choice")
    ]
    assert body["detail"] == body["errors"][0]["message"]


# --- commitments: cost ----------------------------------------------------------------


def test_the_commitment_list_costs_the_same_queries_for_one_or_many(
    data, org, reviewer, django_assert_max_num_queries
):
    def measure():
        client = client_for(reviewer)
        with CaptureQueriesContext(connection) as queries:
            body = listed(client, COMMITMENTS_URL, year=YEAR, unit="CITY-A")
        assert body["count"] == 1
        return len(queries)

    one = measure()
    for n in range(15):
        unit = UnitFactory(code=f"CITY-N{n:02d}", parent=org.city)
        january_figures(unit)
        extra = make_commitment(unit, signed=True)
        add_target(extra, "dung-han", "100", 1)
        add_target(extra, "hai-long", "95", 2)
        add_target(extra, "nhiem-vu", "100", 3, reported_value=Decimal("100"))

    client = client_for(reviewer)
    # Memberships, count, page, targets with their indicators, the units'
    # predecessors (procedures.selectors.lineage_units), the figures.
    with django_assert_max_num_queries(one):
        body = listed(client, COMMITMENTS_URL, year=YEAR)
    assert body["count"] == 18
    assert one <= 6


# --- targets across units -------------------------------------------------------------


def test_targets_are_this_years_of_the_units_the_caller_sees(data, city_reviewer):
    body = listed(client_for(city_reviewer), TARGETS_URL)

    rows = [(r["unit"]["code"], r["indicator"]["code"]) for r in body["results"]]
    assert rows == [
        ("CITY-A", "dung-han"),
        ("CITY-A", "van-ban-dien-tu"),
        ("CITY-A", "nhiem-vu"),
        ("CITY-B", "van-ban-dien-tu"),
    ]
    first = body["results"][0]
    assert first["commitment"] == {
        "id": data["a"].pk,
        "year": YEAR,
        "state": "countersigned",
    }
    assert first["progress"]["state"] == "at_risk"


def test_unit_staff_see_only_their_own_units_targets(data, other_commune_staff):
    body = listed(client_for(other_commune_staff), TARGETS_URL)

    assert [r["unit"]["code"] for r in body["results"]] == ["CITY-B"]
    assert body["results"][0]["progress"] == {
        "value": "90.00",
        "source": "accepted",
        "state": "at_risk",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"progress": "at_risk"},
            {("CITY-A", "dung-han"), ("CITY-B", "van-ban-dien-tu")},
        ),
        ({"progress": "on_track"}, {("CITY-A", "van-ban-dien-tu")}),
        (
            {"progress": "no_data"},
            {("CITY-A", "nhiem-vu"), ("PROV-DEP", "niem-yet")},
        ),
        ({"progress": "met"}, set()),
        ({"year": LAST_YEAR, "progress": "missed"}, {("CITY-A", "dung-han")}),
        ({"year": LAST_YEAR, "progress": "met"}, {("CITY-A", "nhiem-vu")}),
        ({"unit": "CITY-B"}, {("CITY-B", "van-ban-dien-tu")}),
        (
            {"indicator": "van-ban-dien-tu"},
            {("CITY-A", "van-ban-dien-tu"), ("CITY-B", "van-ban-dien-tu")},
        ),
        (
            {"indicator": "van-ban-dien-tu", "progress": "at_risk"},
            {("CITY-B", "van-ban-dien-tu")},
        ),
    ],
)
def test_targets_filter_by_year_unit_indicator_and_progress(
    data, reviewer, query, expected
):
    body = listed(client_for(reviewer), TARGETS_URL, **query)

    rows = {(r["unit"]["code"], r["indicator"]["code"]) for r in body["results"]}
    assert rows == expected
    assert body["count"] == len(expected)


def test_a_rejected_report_counts_as_no_value(data, reviewer):
    body = listed(client_for(reviewer), TARGETS_URL, unit="PROV-DEP")

    assert body["results"][0]["check_state"] == "rejected"
    assert body["results"][0]["progress"] == {
        "value": None,
        "source": "rejected",
        "state": "no_data",
    }


def test_targets_are_paginated_after_the_progress_filter(
    data, org, reviewer, monkeypatch
):
    # PAGE_SIZE (50) is read once, into the paginator's class.
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    for n in range(3):
        unit = UnitFactory(code=f"CITY-N{n}", parent=org.city)
        extra = make_commitment(unit)
        add_target(extra, "nhiem-vu", "100", 1, reported_value=Decimal("50"))
        add_target(extra, "niem-yet", "100", 2, reported_value=Decimal("100"))
    client = client_for(reviewer)

    first = listed(client, TARGETS_URL, progress="at_risk")
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    # A's and B's at-risk targets and one of each new commune's: 5, on 3 pages.
    assert first["count"] == 5
    pages = [first["results"], second["results"], third["results"]]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert {row["progress"]["state"] for page in pages for row in page} == {"at_risk"}
    assert third["next"] is None
    assert (
        client.get(TARGETS_URL, {"progress": "at_risk", "page": 4}).status_code == 404
    )


def test_a_bad_progress_state_answers_400(data, reviewer):
    response = client_for(reviewer).get(TARGETS_URL, {"progress": "late"})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["progress"]


def test_the_target_list_costs_a_few_queries_however_many_targets(
    data, org, reviewer, django_assert_max_num_queries
):
    for n in range(10):
        unit = UnitFactory(code=f"CITY-N{n:02d}", parent=org.city)
        january_figures(unit)
        extra = make_commitment(unit)
        add_target(extra, "dung-han", "100", 1)
        add_target(extra, "nhiem-vu", "100", 2, reported_value=Decimal("10"))

    paged, filtered = client_for(reviewer), client_for(reviewer)
    # Memberships, the count, the page's targets, the units' predecessors
    # (procedures.selectors.lineage_units), the figures.
    with django_assert_max_num_queries(5):
        assert listed(paged, TARGETS_URL)["count"] == 25
    # Memberships, the year's targets, the predecessors, the figures.
    with django_assert_max_num_queries(4):
        assert listed(filtered, TARGETS_URL, progress="at_risk")["count"] == 22


# --- schema ---------------------------------------------------------------------------


def test_the_openapi_schema_of_the_commitment_endpoints_is_typed_and_clean():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(urlconf="cchc_portal.urls")

    schema = generator.get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    paths = schema["paths"]
    operations = {
        "/api/v1/indicators/": "indicators_list",
        "/api/v1/commitments/": "commitments_list",
        "/api/v1/commitments/{id}/": "commitments_retrieve",
        "/api/v1/targets/": "targets_list",
    }
    for path, operation_id in operations.items():
        assert set(paths[path]) == {"get"}
        assert paths[path]["get"]["operationId"] == operation_id
        assert paths[path]["get"]["tags"] == ["commitments"]
    parameters = {p["name"] for p in paths["/api/v1/targets/"]["get"]["parameters"]}
    assert parameters == {"year", "unit", "indicator", "progress", "page"}
    components = schema["components"]["schemas"]
    assert components["ProgressStateEnum"]["enum"] == [
        "on_track",
        "at_risk",
        "met",
        "missed",
        "no_data",
    ]
    assert components["CommitmentStateEnum"]["enum"] == [
        "draft",
        "signed",
        "countersigned",
    ]
    target = components["Target"]["properties"]
    assert target["progress"]["allOf"] == [
        {"$ref": "#/components/schemas/TargetProgress"}
    ]
    assert (target["value"]["type"], target["value"]["format"]) == ("string", "decimal")
    detail = components["CommitmentDetail"]["properties"]
    assert detail["targets"]["items"] == {"$ref": "#/components/schemas/Target"}
