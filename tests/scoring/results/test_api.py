"""Results and rankings over REST: published rankings for every signed-in
caller, provisional ones for reviewers and only their units, a unit's
explanation for its own people and those above it, computation runs for
reviewers and started by those who manage frameworks, and publications with
their checksum verified."""

import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.core.cache import cache
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

from commitments.organisation.models import Role, Unit, UnitKind
from scoring.adjustments import services as adjustments
from scoring.api.results_views import RunRequestThrottle
from scoring.assessments import services
from scoring.models import (
    AdjustmentRule,
    Assessment,
    AssessmentState,
    ComputationRun,
    Framework,
    Node,
    NodeLevel,
    RunState,
    Score,
    Tier,
)
from scoring.results import computation, publication
from scoring.results import selectors as results
from tests.factories import (
    MembershipFactory,
    RankingGroupFactory,
    UnitFactory,
    UserFactory,
)
from tests.wording import vi

YEAR = 2025
PROVISIONAL_REFUSED = (
    "Provisional results are only for the Home Affairs reviewers; the published "
    "results are for everyone."
)
YEARS_URL = reverse("scoring_api:result-years")
RANKING_URL = reverse("scoring_api:result-ranking", kwargs={"year": YEAR})
RUNS_URL = reverse("scoring_api:result-runs", kwargs={"year": YEAR})

# Appraised points of leaves 1.1.1 (max 2), 1.1.2 (max 4) and survey 2.2
# (max 2); the metric leaf 2.1 has no figures and counts 0. Maximum 10.
POINTS = {
    "PROV-W": ("2", "4", "2"),  # 8, less a 1-point deduction: 70.00
    "CITY-A": ("2", "3", "2"),  # 7: 70.00
    "CITY-B": ("1", "4", "2"),  # 7: 70.00, tied with A
    "CITY-C": ("2", "4", "2"),  # 8: 80.00
    "CITY-D": ("1", "1", "1"),  # 3: 30.00
}


def url_of(name, **kwargs):
    return reverse(f"scoring_api:{name}", kwargs={"year": YEAR, **kwargs})


def client_for(user=None):
    client = APIClient()
    if user is not None:
        # A fresh object per client: memberships are cached on the user.
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def appraise(assessment, points):
    for code, value in zip(("1.1.1", "1.1.2", "2.2"), points, strict=True):
        Score.objects.filter(assessment=assessment, node__code=code).update(
            self_score=Decimal(value), appraised_score=Decimal(value)
        )
    Assessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.APPROVED)


def add_commune(framework, code, parent, group, points):
    unit = UnitFactory(code=code, name=f"Xã {code}", parent=parent, ranking_group=group)
    appraise(services.assessment_open(framework=framework, unit=unit), points)
    return unit


@pytest.fixture
def year_data(framework, org, reviewer):
    """Five communes in two ranking groups, every assessment approved, a
    deduction approved for PROV-W (entered by one reviewer, approved by
    another), computed once."""
    for code, label, floor in (("A", "Tốt", 90), ("B", "Khá", 80), ("C", "TB", 70)):
        Tier.objects.create(
            framework=framework, code=code, label=label, min_index=floor
        )
    communes = RankingGroupFactory(code="xa", name="Cấp xã")
    wards = RankingGroupFactory(code="phuong", name="Phường")
    for unit in (org.commune_a, org.commune_b):
        unit.ranking_group = communes
        unit.save()
        appraise(
            services.assessment_open(framework=framework, unit=unit), POINTS[unit.code]
        )
    add_commune(framework, "CITY-C", org.city, communes, POINTS["CITY-C"])
    add_commune(framework, "CITY-D", org.city, communes, POINTS["CITY-D"])
    ward = add_commune(framework, "PROV-W", org.province, wards, POINTS["PROV-W"])
    rule = AdjustmentRule.objects.create(
        framework=framework, code="nhung-nhieu", title="Nhũng nhiễu", points_per_case=-1
    )
    now = timezone.now()
    entered = adjustments.adjustment_enter(
        user=reviewer,
        framework=framework,
        unit=ward,
        rule=rule,
        cases=1,
        reason="Kết luận thanh tra số 12",
        evidence="KL-12",
        now=now,
    )
    adjustments.adjustment_decide(
        user=_other_reviewer(org),
        adjustment=entered,
        approve=True,
        reason="",
        now=now,
    )
    run = computation.compute_now(YEAR)
    assert run.state == RunState.SUCCEEDED, run.error
    return run


def _other_reviewer(org):
    """A second province reviewer: four eyes on the deduction."""
    user = UserFactory(username="reviewer.prov2")
    MembershipFactory(user=user, unit=org.province, role=Role.REVIEWER)
    return user


@pytest.fixture
def published(year_data, reviewer):
    return publication.publish(
        user=reviewer, year=YEAR, run_id=year_data.pk, now=timezone.now()
    )


def ranking(client, **query):
    response = client.get(RANKING_URL, query)
    assert response.status_code == 200, response.json()
    return response.json()


# --- published rankings ---------------------------------------------------------------


def test_published_rows_go_by_group_then_rank_then_unit_code_with_ties(
    published, commune_staff
):
    body = ranking(client_for(commune_staff))

    assert [
        (r["ranking_group"], r["unit_code"], r["rank"]) for r in body["results"]
    ] == [
        ("phuong", "PROV-W", 1),
        ("xa", "CITY-C", 1),
        ("xa", "CITY-A", 2),
        ("xa", "CITY-B", 2),
        ("xa", "CITY-D", 4),
    ]
    assert body["status"] == "published"
    assert body["year"] == YEAR
    assert body["version"] == 1
    assert body["checksum"] == published.checksum
    assert body["published_at"].endswith("+07:00")
    assert body["count"] == 5
    assert body["next"] is None
    ward, city_c = body["results"][0], body["results"][1]
    assert ward == {
        "unit_code": "PROV-W",
        "unit_name": "Xã PROV-W",
        "unit_kind": "commune",
        "ranking_group": "phuong",
        "ranking_group_name": "Phường",
        "approved": True,
        "rank": 1,
        "index": "70.00",
        "field_indices": {"1": "100.00", "2": "50.00"},
        "tier": "C",
        "tier_label": "TB",
        "obtained": "8.00",
        "adjustments": "-1.00",
        "final": "7.00",
        "maximum": "10.00",
        "previous_rank": None,
        "previous_index": None,
        "rank_change": None,
        "index_change": None,
    }
    assert (city_c["index"], city_c["tier"], city_c["tier_label"]) == (
        "80.00",
        "B",
        "Khá",
    )
    assert body["results"][4]["tier"] is None  # 30.00: below every tier


def test_rankings_filter_by_group_and_kind_of_unit(published, leader):
    client = client_for(leader)

    assert [r["unit_code"] for r in ranking(client, group="phuong")["results"]] == [
        "PROV-W"
    ]
    assert ranking(client, group="none")["count"] == 0
    assert ranking(client, unit_kind="commune")["count"] == 5
    assert ranking(client, unit_kind="department")["count"] == 0
    refused = client.get(RANKING_URL, {"unit_kind": "hamlet"})
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["unit_kind"]


def test_rankings_are_paginated_like_the_other_lists(published, leader, monkeypatch):
    # PAGE_SIZE (50) is read once, into the paginator's class.
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    client = client_for(leader)

    first = ranking(client)
    second = client.get(first["next"]).json()

    assert first["count"] == 5
    assert [r["unit_code"] for r in first["results"]] == ["PROV-W", "CITY-C"]
    assert [r["unit_code"] for r in second["results"]] == ["CITY-A", "CITY-B"]
    assert second["previous"] is not None
    assert second["version"] == 1
    assert client.get(RANKING_URL, {"page": 9}).status_code == 404


def test_version_1_stays_what_it_was_after_a_republish_as_version_2(
    published, org, reviewer, commune_staff
):
    appraise(Assessment.objects.get(unit=org.commune_b), ("2", "4", "2"))
    run = computation.compute_now(YEAR)
    second = publication.publish(
        user=reviewer, year=YEAR, run_id=run.pk, now=timezone.now()
    )
    client = client_for(commune_staff)

    def of(body, code):
        return next(r for r in body["results"] if r["unit_code"] == code)

    latest = ranking(client)
    first = ranking(client, version=1)

    assert latest["version"] == 2
    assert latest["checksum"] == second.checksum
    assert (of(latest, "CITY-B")["index"], of(latest, "CITY-B")["rank"]) == (
        "80.00",
        1,
    )
    assert first["version"] == 1
    assert first["checksum"] == published.checksum
    assert (of(first, "CITY-B")["index"], of(first, "CITY-B")["rank"]) == ("70.00", 2)
    assert ranking(client, version=2)["results"] == latest["results"]


@pytest.mark.parametrize(
    ("query", "code"),
    [({}, 404), ({"version": 2}, 404), ({"version": "x"}, 400), ({"version": 0}, 400)],
)
def test_an_unknown_year_or_version_answers_404_and_a_bad_one_400(
    published, commune_staff, query, code
):
    client = client_for(commune_staff)

    if query:
        response = client.get(RANKING_URL, query)
    else:
        response = client.get(url_of("result-ranking", year=2019))

    assert response.status_code == code
    assert response.json()["status"] == code
    assert response.json()["code"] == ("not_found" if code == 404 else "invalid")


def test_nothing_published_yet_answers_404(year_data, commune_staff):
    response = client_for(commune_staff).get(RANKING_URL)

    assert response.status_code == 404
    assert "2025" in response.json()["detail"]


# --- provisional rankings -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["leader", "commune_staff", "no_unit_user"])
def test_provisional_rankings_are_refused_to_non_reviewers(request, persona, published):
    client = client_for(request.getfixturevalue(persona))

    response = client.get(RANKING_URL, {"status": "provisional"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "results" not in response.json()


def test_the_refusal_speaks_the_callers_language(published, leader):
    client = client_for(leader)
    query = {"status": "provisional"}

    en = client.get(RANKING_URL, query, HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    in_vi = client.get(RANKING_URL, query, HTTP_ACCEPT_LANGUAGE="vi").json()["detail"]

    assert en == PROVISIONAL_REFUSED
    assert in_vi == vi(PROVISIONAL_REFUSED)


def test_provisional_rankings_show_the_reviewers_units_unapproved_last(
    published, org, reviewer, city_reviewer
):
    # CITY-D's assessment reopened after the publication, then recomputed.
    Assessment.objects.filter(unit__code="CITY-D").update(
        state=AssessmentState.SUBMITTED
    )
    run = computation.compute_now(YEAR)

    city = ranking(client_for(city_reviewer), status="provisional")
    province = ranking(client_for(reviewer), status="provisional")

    assert [(r["unit_code"], r["rank"], r["approved"]) for r in city["results"]] == [
        ("CITY-C", 1, True),
        ("CITY-A", 2, True),
        ("CITY-B", 2, True),
        ("CITY-D", None, False),
    ]
    assert city["status"] == "provisional"
    assert city["version"] is None
    assert city["checksum"] is None
    assert city["published_at"] is None
    assert (
        city["computed_at"]
        == timezone.localtime(
            ComputationRun.objects.get(pk=run.pk).finished_at
        ).isoformat()
    )
    assert [r["unit_code"] for r in province["results"]] == [
        "PROV-W",
        "CITY-C",
        "CITY-A",
        "CITY-B",
        "CITY-D",
    ]
    # The published version is untouched.
    assert ranking(client_for(reviewer))["results"][4]["rank"] == 4


def test_units_without_a_group_are_listed_framework_by_framework(
    year_data, framework, org, reviewer
):
    """Ranked within their framework, so ranks of two frameworks never
    interleave."""
    departments = Framework.objects.create(
        year=YEAR, unit_kind=UnitKind.DEPARTMENT, name="Chỉ số CCHC cấp sở"
    )
    field = Node.objects.create(
        framework=departments,
        level=NodeLevel.FIELD,
        code="1",
        position=0,
        title="Lĩnh vực 1",
        max_points=Decimal(10),
    )
    Node.objects.create(
        framework=departments,
        parent=field,
        level=NodeLevel.CRITERION,
        code="1.1",
        position=1,
        title="Tiêu chí 1.1",
        max_points=Decimal(10),
    )
    assessment = services.assessment_open(framework=departments, unit=org.department)
    Score.objects.filter(assessment=assessment).update(appraised_score=Decimal(5))
    Assessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.APPROVED)
    Unit.objects.update(ranking_group=None)
    computation.compute_now(YEAR)

    rows = ranking(client_for(reviewer), status="provisional")["results"]

    assert [(r["unit_kind"], r["unit_code"], r["rank"]) for r in rows] == [
        ("commune", "CITY-C", 1),
        ("commune", "CITY-A", 2),
        ("commune", "CITY-B", 2),
        ("commune", "PROV-W", 2),
        ("commune", "CITY-D", 5),
        ("department", "PROV-DEP", 1),
    ]
    assert {r["ranking_group"] for r in rows} == {None}


def test_provisional_results_have_no_version_and_need_a_computation(
    framework, reviewer
):
    client = client_for(reviewer)

    versioned = client.get(RANKING_URL, {"status": "provisional", "version": 1})
    never_computed = client.get(RANKING_URL, {"status": "provisional"})

    assert versioned.status_code == 400
    assert [e["field"] for e in versioned.json()["errors"]] == ["version"]
    assert never_computed.status_code == 404


# --- explanations ---------------------------------------------------------------------


def explanation_url(code):
    return url_of("result-explanation", code=code)


def test_a_unit_reads_its_published_explanation_and_it_adds_up(
    published, org, commune_staff
):
    response = client_for(commune_staff).get(explanation_url("CITY-A"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "published"
    assert body["version"] == 1
    assert body["checksum"] == published.checksum
    assert body["unit"] == {"code": "CITY-A", "name": "Phường A"}
    assert (body["index"], body["rank"], body["group_size"]) == ("70.00", 2, 4)
    fields = [line for line in body["lines"] if line["level"] == "field"]
    assert sum(Decimal(line["points"]) for line in fields) == Decimal(
        body["points_obtained"]
    )
    assert body["points_obtained"] == "7.00"
    leaf = next(line for line in body["lines"] if line["code"] == "1.1.2")
    assert (leaf["points"], leaf["appraised_score"], leaf["max_points"]) == (
        "3.00",
        "3.00",
        "4.00",
    )
    metric = next(line for line in body["lines"] if line["code"] == "2.1")
    assert metric["method"] == "metric"
    assert metric["metric"]["name"] == "on_time_rate"
    assert results.explanation_published(YEAR, org.commune_a).problems() == []


def test_the_explanation_shows_deductions_rule_by_rule(published, reviewer):
    body = client_for(reviewer).get(explanation_url("PROV-W")).json()

    assert (body["points_obtained"], body["adjustments_total"]) == ("8.00", "-1.00")
    assert body["final_points"] == "7.00"
    assert body["adjustments_by_rule"] == [
        {
            "rule": "nhung-nhieu",
            "title": "Nhũng nhiễu",
            "points_per_case": "-1.00",
            "cap": None,
            "entered": "-1.00",
            "counted": "-1.00",
        }
    ]
    (record,) = body["adjustments"]
    assert (record["rule"], record["cases"], record["points"]) == (
        "nhung-nhieu",
        1,
        "-1.00",
    )
    assert record["state"] == "approved"
    assert record["decided_by"] == "reviewer.prov2"


@pytest.mark.parametrize(
    ("persona", "code"),
    [
        ("commune_staff", "CITY-B"),
        ("commune_staff", "PROV-W"),
        ("other_commune_staff", "CITY-A"),
        ("department_staff", "CITY-A"),
        ("no_unit_user", "CITY-A"),
        ("commune_staff", "NO-SUCH-UNIT"),
    ],
)
def test_another_units_explanation_answers_404(request, published, persona, code):
    client = client_for(request.getfixturevalue(persona))

    response = client.get(explanation_url(code))

    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["leader", "city_reviewer", "reviewer"])
def test_those_above_the_unit_read_its_published_explanation(
    request, published, persona
):
    client = client_for(request.getfixturevalue(persona))

    assert client.get(explanation_url("CITY-B")).status_code == 200


def test_an_earlier_versions_explanation_and_an_unknown_one(
    published, org, reviewer, commune_head
):
    appraise(Assessment.objects.get(unit=org.commune_a), ("2", "4", "2"))
    run = computation.compute_now(YEAR)
    publication.publish(user=reviewer, year=YEAR, run_id=run.pk, now=timezone.now())
    client = client_for(commune_head)

    assert client.get(explanation_url("CITY-A")).json()["index"] == "80.00"
    first = client.get(explanation_url("CITY-A"), {"version": 1}).json()
    assert (first["version"], first["index"]) == (1, "70.00")
    assert client.get(explanation_url("CITY-A"), {"version": 3}).status_code == 404
    other_year = url_of("result-explanation", year=2024, code="CITY-A")
    assert client.get(other_year).status_code == 404


def test_a_provisional_explanation_is_for_a_reviewer_of_the_unit(
    year_data, org, city_reviewer, commune_staff
):
    query = {"status": "provisional"}
    reviewer_client = client_for(city_reviewer)

    own = reviewer_client.get(explanation_url("CITY-A"), query)
    outside = reviewer_client.get(explanation_url("PROV-W"), query)
    its_own_unit = reviewer_client.get(explanation_url("CITY"), query)
    staff = client_for(commune_staff).get(explanation_url("CITY-A"), query)

    assert own.status_code == 200
    body = own.json()
    assert body["status"] == "provisional"
    assert body["version"] is None
    assert body["checksum"] is None
    assert body["computed_at"] is not None
    assert results.explanation_provisional(YEAR, org.commune_a).problems() == []
    assert outside.status_code == 404
    assert its_own_unit.status_code == 404
    assert staff.status_code == 403


# --- the years ------------------------------------------------------------------------


def test_the_years_list_the_latest_publication_and_for_reviewers_the_latest_run(
    published, reviewer, city_reviewer, leader
):
    run = computation.compute_now(YEAR)

    for_leader = client_for(leader).get(YEARS_URL).json()
    for_city = client_for(city_reviewer).get(YEARS_URL).json()

    assert for_leader == [
        {
            "year": YEAR,
            "published": {
                "version": 1,
                "published_at": for_leader[0]["published"]["published_at"],
                "checksum": published.checksum,
                "units": 5,
            },
            "provisional": None,
        }
    ]
    (year,) = for_city
    assert year["published"] == for_leader[0]["published"]
    assert year["provisional"]["units"] == 4  # the city's communes
    latest = year["provisional"]["latest_run"]
    assert (latest["id"], latest["state"]) == (run.pk, "succeeded")
    assert latest["finished_at"].endswith("+07:00")


def test_a_computed_year_not_yet_published_is_listed_for_reviewers_only(
    year_data, reviewer, leader
):
    assert client_for(leader).get(YEARS_URL).json() == []
    (year,) = client_for(reviewer).get(YEARS_URL).json()
    assert year["published"] is None
    assert year["provisional"]["units"] == 5
    assert year["provisional"]["latest_run"]["id"] == year_data.pk


# --- runs -----------------------------------------------------------------------------


def test_a_manager_starts_a_run_and_it_succeeds(
    year_data, reviewer, django_capture_on_commit_callbacks
):
    client = client_for(reviewer)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(RUNS_URL)

    assert response.status_code == 202
    assert len(callbacks) == 1
    body = response.json()
    run = ComputationRun.objects.get(pk=body["id"])
    assert run.pk != year_data.pk
    assert run.trigger == "api"
    assert run.requested_by == reviewer
    assert run.state == RunState.SUCCEEDED
    assert body["state"] == "queued"  # handed to the worker after the answer
    assert response["Location"] == body["links"]["run"]
    followed = client.get(body["links"]["run"]).json()
    assert (followed["state"], followed["units"]) == ("succeeded", 5)
    assert followed["requested_by"] == "reviewer.prov"
    listed = client.get(RUNS_URL).json()
    assert [r["id"] for r in listed["results"]] == [run.pk, year_data.pk]
    assert listed["count"] == 2


def test_a_run_under_way_is_answered_instead_of_a_second_one(year_data, reviewer):
    under_way = computation.run_request(year=YEAR, trigger="manual")

    response = client_for(reviewer).post(RUNS_URL)

    assert response.status_code == 202
    assert response.json()["id"] == under_way.pk
    assert ComputationRun.objects.count() == 2


@pytest.mark.parametrize(
    "persona", ["commune_staff", "commune_head", "leader", "no_unit_user"]
)
def test_others_may_neither_start_nor_list_runs(request, persona, year_data):
    client = client_for(request.getfixturevalue(persona))

    started = client.post(RUNS_URL)
    listed = client.get(RUNS_URL)
    one = client.get(url_of("result-run", run_id=year_data.pk))

    assert started.status_code == 403
    assert (
        "Home Affairs"
        in client.post(RUNS_URL, HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    )
    assert listed.status_code == 403
    assert one.status_code == 403
    assert ComputationRun.objects.count() == 1


def test_a_run_for_a_year_without_a_framework_answers_404(framework, reviewer):
    client = client_for(reviewer)

    assert client.post(url_of("result-runs", year=2019)).status_code == 404
    assert client.get(url_of("result-runs", year=2019)).status_code == 404
    assert client.get(url_of("result-run", run_id=999)).status_code == 404
    assert not ComputationRun.objects.exists()


def test_run_requests_are_throttled_per_user(year_data, reviewer, monkeypatch):
    monkeypatch.setattr(RunRequestThrottle, "rate", "2/min")
    client = client_for(reviewer)

    codes = [client.post(RUNS_URL).status_code for _ in range(3)]

    assert codes == [202, 202, 429]
    # Reading is not throttled.
    assert client.get(RUNS_URL).status_code == 200


# --- publications ---------------------------------------------------------------------


def test_a_publication_reads_with_its_checksum_verified(published, leader):
    response = client_for(leader).get(url_of("publication-detail", version=1))

    assert response.status_code == 200
    body = response.json()
    assert body["checksum"] == published.checksum
    assert body["verified"] is True
    assert body["units"] == 5
    assert body["run"] == published.run_id
    assert body["published_by"] == "reviewer.prov"
    assert body["results"].endswith(f"{RANKING_URL}?version=1")
    assert body["verified"] == publication.verify(published)


def test_an_unknown_publication_answers_404(published, leader):
    client = client_for(leader)

    assert client.get(url_of("publication-detail", version=2)).status_code == 404
    assert (
        client.get(url_of("publication-detail", year=2024, version=1)).status_code
        == 404
    )


# --- who may call at all --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", YEARS_URL),
        ("get", RANKING_URL),
        ("get", reverse("scoring_api:result-explanation", args=[YEAR, "CITY-A"])),
        ("get", RUNS_URL),
        ("post", RUNS_URL),
        ("get", reverse("scoring_api:result-run", args=[YEAR, 1])),
        ("get", reverse("scoring_api:publication-detail", args=[YEAR, 1])),
    ],
)
def test_anonymous_callers_are_refused(published, method, url):
    response = getattr(APIClient(), method)(url)

    # 401 and "WWW-Authenticate: Token": token authentication comes first.
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) == {"status", "code", "detail", "errors"}
    assert not ComputationRun.objects.exclude(pk=published.run_id).exists()


def test_a_token_reads_the_rankings(published, commune_staff):
    token = Token.objects.create(user=commune_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get(RANKING_URL).json()["count"] == 5


# --- cost -----------------------------------------------------------------------------


def test_the_ranking_costs_the_same_few_queries_whatever_the_number_of_units(
    published, org, reviewer, django_assert_max_num_queries
):
    def measure(**query):
        # Uncached: what a first reader pays.
        cache.clear()
        client = client_for(reviewer)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(RANKING_URL, query).status_code == 200
        return len(queries)

    small = measure(), measure(status="provisional")
    communes = RankingGroupFactory(code="xa")
    framework = Assessment.objects.get(unit=org.commune_a).framework
    for n in range(40):
        add_commune(framework, f"CITY-N{n:02d}", org.city, communes, ("1", "2", "1"))
    run = computation.compute_now(YEAR)
    publication.publish(user=reviewer, year=YEAR, run_id=run.pk, now=timezone.now())

    client = client_for(reviewer)
    cache.clear()
    # The publication's stamp, its row, the count, the page.
    with django_assert_max_num_queries(4):
        body = client.get(RANKING_URL).json()
    assert len(body["results"]) == 45
    assert (measure(), measure(status="provisional")) == small


def test_the_years_cost_a_fixed_number_of_queries(
    published, org, reviewer, django_assert_max_num_queries
):
    computation.compute_now(YEAR)
    client = client_for(reviewer)

    # Memberships, latest publications, computed years, latest runs, units.
    with django_assert_max_num_queries(5):
        assert client.get(YEARS_URL).status_code == 200


# --- over HTTP ------------------------------------------------------------------------


def test_a_real_http_client_reads_the_ranking_with_a_token(
    live_server, published, commune_staff
):
    token = Token.objects.create(user=commune_staff)

    def fetch(path, language="en"):
        request = urllib.request.Request(
            f"{live_server.url}{path}",
            headers={
                "Authorization": f"Token {token.key}",
                "Accept": "application/json",
                "Accept-Language": language,
            },
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], json.load(answer)

    status, content_type, body = fetch(RANKING_URL)
    assert status == 200
    assert content_type == "application/json"
    assert [r["unit_code"] for r in body["results"]][:2] == ["PROV-W", "CITY-C"]
    assert fetch(explanation_url("CITY-A"))[2]["points_obtained"] == "7.00"
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(f"{RANKING_URL}?status=provisional", language="vi")
    assert refused.value.code == 403
    assert json.load(refused.value)["detail"] == vi(PROVISIONAL_REFUSED)


# --- schema ---------------------------------------------------------------------------


def test_the_openapi_schema_of_the_results_endpoints_is_typed_and_clean():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(urlconf="cchc_portal.urls")

    schema = generator.get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    paths = schema["paths"]
    operations = {
        "/api/v1/results/": ("get", "results_years_list"),
        "/api/v1/results/{year}/": ("get", "results_ranking_list"),
        "/api/v1/results/{year}/units/{code}/": (
            "get",
            "results_explanation_retrieve",
        ),
        "/api/v1/results/{year}/runs/": ("post", "results_runs_create"),
        "/api/v1/results/{year}/runs/{run_id}/": ("get", "results_runs_retrieve"),
        "/api/v1/publications/{year}/{version}/": ("get", "publications_retrieve"),
    }
    for path, (method, operation_id) in operations.items():
        operation = paths[path][method]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["results"]
    assert paths["/api/v1/results/{year}/runs/"]["get"]["operationId"] == (
        "results_runs_list"
    )
    components = schema["components"]["schemas"]
    page = components["RankingPage"]["properties"]
    assert page["results"]["items"] == {"$ref": "#/components/schemas/RankingRow"}
    row = components["RankingRow"]["properties"]
    assert (row["index"]["type"], row["index"]["format"]) == ("string", "decimal")
    assert components["ResultStatusEnum"]["enum"] == ["published", "provisional"]
    assert "ComputationRunStateEnum" in components
    lines = components["Explanation"]["properties"]["lines"]
    assert lines["items"] == {"$ref": "#/components/schemas/ExplanationLine"}
    created = paths["/api/v1/results/{year}/runs/"]["post"]["responses"]
    assert set(created) >= {"202", "403", "404"}
    ranking_params = {
        p["name"] for p in paths["/api/v1/results/{year}/"]["get"]["parameters"]
    }
    assert ranking_params == {"year", "status", "version", "group", "unit_kind", "page"}


# --- published rankings are cacheable ----------------------------------------------

CACHED_URL = f"/api/v1/results/{YEAR}/"


@pytest.fixture
def caller(leader):
    """The chairman reads the published rankings."""
    client = APIClient()
    client.force_authenticate(leader)
    return client


def test_a_published_ranking_carries_its_etag_and_date(caller, published):
    response = caller.get(CACHED_URL)
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert response["Cache-Control"] == "private, no-cache"
    # The same query gets the same tag; another query another one.
    assert caller.get(CACHED_URL)["ETag"] == response["ETag"]
    assert caller.get(CACHED_URL, {"group": "x"})["ETag"] != response["ETag"]


def test_a_caller_with_the_latest_gets_304(caller, published):
    etag = caller.get(CACHED_URL)["ETag"]
    again = caller.get(CACHED_URL, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    stale = caller.get(CACHED_URL, HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200
    since = caller.get(
        CACHED_URL, HTTP_IF_MODIFIED_SINCE=caller.get(CACHED_URL)["Last-Modified"]
    )
    assert since.status_code == 304


def test_the_second_read_comes_from_the_cache(
    caller, published, django_assert_num_queries
):
    first = caller.get(CACHED_URL).json()
    with django_assert_num_queries(0):
        # Not even the publication: the generation in the cache tells that
        # nothing was published since.
        second = caller.get(CACHED_URL).json()
    assert second == first


def test_json_is_cached_as_sent_and_the_browsable_page_apart(caller, published):
    sent = caller.get(CACHED_URL)
    again = caller.get(CACHED_URL)
    assert sent["Content-Type"] == again["Content-Type"] == "application/json"
    assert again.content == sent.content
    assert "Accept" in sent["Vary"]
    page = caller.get(CACHED_URL, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert page["ETag"] != sent["ETag"]


def test_a_new_version_is_a_new_etag_and_new_rows(
    caller, published, reviewer, django_capture_on_commit_callbacks
):
    before = caller.get(CACHED_URL)
    run = computation.compute_now(YEAR)
    with django_capture_on_commit_callbacks() as committing:
        publication.publish(user=reviewer, year=YEAR, run_id=run.pk, now=timezone.now())
    # Not committed yet: the cached version 1 is still the answer.
    pending = caller.get(CACHED_URL, HTTP_IF_NONE_MATCH=before["ETag"])
    assert pending.status_code == 304
    for callback in committing:  # the commit
        callback()
    after = caller.get(CACHED_URL, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after.json()["version"] == 2


def test_provisional_rows_are_not_cached(reviewer, year_data):
    client = APIClient()
    client.force_authenticate(reviewer)
    response = client.get(CACHED_URL, {"status": "provisional"})
    assert response.status_code == 200
    assert "ETag" not in response
