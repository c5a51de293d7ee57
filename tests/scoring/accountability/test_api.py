"""Accountability over REST, read only: explanation requests with their
steps for the unit's people and those above it; heads' completion ratings for
the unit's head and the reviewers and leaders above it, never for plain unit
staff. Anything out of sight answers 404."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from commitments.organisation.models import Head
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    CaseStep,
    Decision,
    HeadRating,
    MitigationGround,
    RatingLevel,
    StepAction,
)
from tests.factories import HeadFactory, UnitFactory, UserFactory

YEAR = 2025
OPENED = datetime.fromisoformat("2026-01-10T09:00:00+07:00")

CASES_URL = reverse("scoring_api:accountability-case-list")
RATINGS_URL = reverse("scoring_api:head-rating-list")


def case_url(case):
    return reverse("scoring_api:accountability-case-detail", args=[case.pk])


def rating_url(rating):
    return reverse("scoring_api:head-rating-detail", args=[rating.pk])


def client_for(user=None):
    client = APIClient()
    if user is not None:
        # A fresh object per client: memberships are cached on the user.
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def listed(client, url, **query):
    response = client.get(url, query)
    assert response.status_code == 200, response.content
    return response.json()


def units_of(body):
    return [row["unit"]["code"] for row in body["results"]]


def head_of(unit):
    return Head.objects.filter(unit=unit).first() or HeadFactory(
        unit=unit, full_name=f"Trần Văn {unit.code}", title="Chủ tịch"
    )


def open_case(unit, *, kind=CaseKind.TWO_YEARS, year=YEAR, **fields):
    case = AccountabilityCase.objects.create(
        kind=kind,
        unit=unit,
        year=year,
        head=head_of(unit),
        opened_at=OPENED,
        updated_at=OPENED,
        **fields,
    )
    CaseStep.objects.create(case=case, action=StepAction.OPENED, at=OPENED)
    return case


def rate(unit, proposed, *, year=YEAR, **fields):
    """A rating as stored; a decided one (``final``) was decided on the
    proposal it has, unless ``decided_proposal`` says otherwise."""
    if fields.get("final") is not None:
        fields.setdefault("decided_proposal", proposed)
    return HeadRating.objects.create(
        unit=unit,
        year=year,
        head=head_of(unit),
        proposed=proposed,
        proposed_at=OPENED,
        **fields,
    )


@pytest.fixture
def chairman(db):
    return UserFactory(username="chairman", first_name="Lê Văn", last_name="Chủ")


@pytest.fixture
def cases(org, commune_head, chairman):
    """Commune A: two years running, explained and mitigated. Commune B:
    points lost on criterion 1.1, awaiting the explanation. The department:
    last year's, explained."""
    a = open_case(
        org.commune_a,
        state=AccountabilityState.DECIDED,
        facts={
            "years": [
                {
                    "year": YEAR - 1,
                    "unit": "CITY-A",
                    "unit_name": "Phường A",
                    "signed_by": "Trần Văn CITY-A",
                    "signed_by_title": "Chủ tịch",
                    "missed": [],
                }
            ]
        },
        explanation="Mưa lũ kéo dài.",
        decision=Decision.MITIGATED,
        ground=MitigationGround.OBJECTIVE,
        decision_reason="Nguyên nhân khách quan.",
    )
    CaseStep.objects.create(
        case=a,
        action=StepAction.EXPLAINED,
        by=commune_head,
        at=OPENED + timedelta(days=3),
        text="Mưa lũ kéo dài.",
    )
    CaseStep.objects.create(
        case=a,
        action=StepAction.DECIDED,
        by=chairman,
        at=OPENED + timedelta(days=9),
        text="Nguyên nhân khách quan.",
        decision=Decision.MITIGATED,
        ground=MitigationGround.OBJECTIVE,
    )
    b = open_case(
        org.commune_b,
        kind=CaseKind.CRITERION,
        subject="1.1",
        facts={"city": "CITY", "criterion": "1.1", "points": "1.50", "maximum": "3"},
    )
    dep = open_case(
        org.department,
        year=YEAR - 1,
        state=AccountabilityState.EXPLAINED,
        explanation="…",
    )
    return {"a": a, "b": b, "dep": dep}


@pytest.fixture
def ratings(org, chairman):
    """Commune A proposed completed, rated not completed (flagged: the year
    before as well); commune B proposed good, undecided; the department last
    year, excellent."""
    basis = {
        "targets": 8,
        "met": 5,
        "exceeded": 1,
        "tier": "C",
        "repeatedly_late": True,
        "capped": True,
    }
    a = rate(
        org.commune_a,
        RatingLevel.COMPLETED,
        basis=basis,
        final=RatingLevel.NOT_COMPLETED,
        reason="Không hoàn thành nhiệm vụ được giao.",
        rated_by=chairman,
        rated_at=OPENED + timedelta(days=20),
        flagged=True,
    )
    b = rate(org.commune_b, RatingLevel.GOOD, basis={**basis, "capped": False})
    dep = rate(
        org.department,
        RatingLevel.EXCELLENT,
        year=YEAR - 1,
        basis={**basis, "met": 8, "exceeded": 5, "tier": "A", "capped": False},
    )
    return {"a": a, "b": b, "dep": dep}


# --- who may call at all --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["case-list", "case", "rating-list", "rating"])
def test_anonymous_callers_are_refused(cases, ratings, kind):
    url = {
        "case-list": CASES_URL,
        "case": case_url(cases["a"]),
        "rating-list": RATINGS_URL,
        "rating": rating_url(ratings["a"]),
    }[kind]

    response = APIClient().get(url)

    # 401 and "WWW-Authenticate: Token": token authentication comes first.
    assert response.status_code == 401
    body = response.json()
    assert (body["status"], body["code"]) == (401, "not_authenticated")
    assert [e["field"] for e in body["errors"]] == [None]


def test_a_token_reads_the_cases(cases, commune_staff):
    token = Token.objects.create(user=commune_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert units_of(listed(client, CASES_URL)) == ["CITY-A"]


# --- accountability cases: scope ------------------------------------------------------


def test_unit_staff_see_only_their_own_units_cases(cases, commune_staff):
    client = client_for(commune_staff)

    assert units_of(listed(client, CASES_URL)) == ["CITY-A"]
    assert client.get(case_url(cases["a"])).status_code == 200
    assert client.get(case_url(cases["b"])).status_code == 404
    assert client.get(case_url(cases["dep"])).status_code == 404


def test_a_city_reviewer_sees_the_cases_of_the_city_and_its_communes(
    cases, city_reviewer
):
    client = client_for(city_reviewer)

    assert units_of(listed(client, CASES_URL)) == ["CITY-A", "CITY-B"]
    assert client.get(case_url(cases["b"])).status_code == 200
    assert client.get(case_url(cases["dep"])).status_code == 404


def test_a_leader_sees_every_case_newest_year_first(cases, leader):
    body = listed(client_for(leader), CASES_URL)

    assert [(r["unit"]["code"], r["year"]) for r in body["results"]] == [
        ("CITY-A", YEAR),
        ("CITY-B", YEAR),
        ("PROV-DEP", YEAR - 1),
    ]


def test_a_missing_case_answers_404(cases, leader):
    missing = reverse("scoring_api:accountability-case-detail", args=[999_999])

    assert client_for(leader).get(missing).status_code == 404


# --- accountability cases: what they show ---------------------------------------------


def test_the_case_list_shows_the_head_state_and_decision(cases, city_reviewer):
    a, b = listed(client_for(city_reviewer), CASES_URL)["results"]

    assert a == {
        "id": cases["a"].pk,
        "kind": "two_years",
        "unit": {"code": "CITY-A", "name": "Phường A"},
        "year": YEAR,
        "subject": "",
        "head": {"name": "Trần Văn CITY-A", "title": "Chủ tịch"},
        "state": "decided",
        "decision": "mitigated",
        "opened_at": "2026-01-10T09:00:00+07:00",
        "updated_at": "2026-01-10T09:00:00+07:00",
    }
    assert (b["kind"], b["subject"], b["state"], b["decision"]) == (
        "criterion",
        "1.1",
        "requested",
        "",
    )


def test_a_case_shows_its_facts_explanation_decision_and_steps(cases, commune_staff):
    body = client_for(commune_staff).get(case_url(cases["a"])).json()

    assert body["facts"]["years"][0]["signed_by"] == "Trần Văn CITY-A"
    assert body["explanation"] == "Mưa lũ kéo dài."
    assert (body["decision"], body["ground"]) == ("mitigated", "objective")
    assert body["decision_reason"] == "Nguyên nhân khách quan."
    assert body["head"] == {"name": "Trần Văn CITY-A", "title": "Chủ tịch"}
    opened, explained, decided = body["steps"]
    assert opened == {
        "action": "opened",
        "by": None,
        "at": "2026-01-10T09:00:00+07:00",
        "text": "",
        "decision": "",
        "ground": "",
    }
    assert explained["action"] == "explained"
    assert explained["by"] == {"username": "head.a", "full_name": ""}
    assert explained["at"] == "2026-01-13T09:00:00+07:00"
    assert decided["by"] == {"username": "chairman", "full_name": "Lê Văn Chủ"}
    assert (decided["decision"], decided["ground"]) == ("mitigated", "objective")
    assert decided["text"] == "Nguyên nhân khách quan."


def test_a_criterion_case_shows_the_criterion_and_its_points(cases, city_reviewer):
    body = client_for(city_reviewer).get(case_url(cases["b"])).json()

    assert body["facts"] == {
        "city": "CITY",
        "criterion": "1.1",
        "points": "1.50",
        "maximum": "3",
    }
    assert (body["explanation"], body["decision"], body["ground"]) == ("", "", "")
    assert [step["action"] for step in body["steps"]] == ["opened"]


# --- accountability cases: filters ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"year": YEAR}, ["CITY-A", "CITY-B"]),
        ({"year": YEAR - 1}, ["PROV-DEP"]),
        ({"kind": "criterion"}, ["CITY-B"]),
        ({"kind": "two_years"}, ["CITY-A", "PROV-DEP"]),
        ({"state": "explained"}, ["PROV-DEP"]),
        ({"state": "requested"}, ["CITY-B"]),
        ({"unit": "CITY-A"}, ["CITY-A"]),
        ({"unit": "CITY"}, []),  # exactly that unit, not its communes
        ({"year": YEAR, "kind": "two_years", "state": "decided"}, ["CITY-A"]),
    ],
)
def test_cases_filter_by_year_kind_state_and_unit(cases, leader, query, expected):
    assert units_of(listed(client_for(leader), CASES_URL, **query)) == expected


def test_a_bad_case_filter_value_answers_400(cases, leader):
    response = client_for(leader).get(CASES_URL, {"kind": "lateness"})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["kind"]


def test_a_case_with_many_steps_costs_a_fixed_number_of_queries(
    cases, chairman, leader, django_assert_max_num_queries
):
    for n in range(10):
        CaseStep.objects.create(
            case=cases["a"],
            action=StepAction.EXPLAINED,
            by=chairman,
            at=OPENED + timedelta(days=10 + n),
        )
    client = client_for(leader)

    # Memberships, the case with its unit and head, the steps with their users.
    with django_assert_max_num_queries(3):
        body = client.get(case_url(cases["a"])).json()
    assert len(body["steps"]) == 13


def test_the_case_list_costs_the_same_queries_for_one_or_many(
    cases, org, leader, django_assert_max_num_queries
):
    def measure(**query):
        client = client_for(leader)
        with CaptureQueriesContext(connection) as queries:
            listed(client, CASES_URL, **query)
        return len(queries)

    one = measure(unit="CITY-A")
    for n in range(10):
        open_case(UnitFactory(code=f"CITY-N{n}", parent=org.city))
    client = client_for(leader)

    with django_assert_max_num_queries(one):
        assert listed(client, CASES_URL)["count"] == 13


# --- head ratings: scope --------------------------------------------------------------


@pytest.mark.parametrize("persona", ["commune_staff", "department_staff"])
def test_plain_unit_staff_see_no_head_rating(request, ratings, persona):
    client = client_for(request.getfixturevalue(persona))

    assert listed(client, RATINGS_URL)["count"] == 0
    for rating in ratings.values():
        assert client.get(rating_url(rating)).status_code == 404


def test_a_unit_head_sees_only_their_own_units_rating(ratings, commune_head):
    client = client_for(commune_head)

    assert units_of(listed(client, RATINGS_URL)) == ["CITY-A"]
    assert client.get(rating_url(ratings["a"])).status_code == 200
    assert client.get(rating_url(ratings["b"])).status_code == 404


def test_a_city_reviewer_sees_the_ratings_of_the_city_and_its_communes(
    ratings, city_reviewer
):
    client = client_for(city_reviewer)

    assert units_of(listed(client, RATINGS_URL)) == ["CITY-A", "CITY-B"]
    assert client.get(rating_url(ratings["dep"])).status_code == 404


def test_a_leader_sees_every_rating_newest_year_first(ratings, leader):
    body = listed(client_for(leader), RATINGS_URL)

    assert [(r["unit"]["code"], r["year"]) for r in body["results"]] == [
        ("CITY-A", YEAR),
        ("CITY-B", YEAR),
        ("PROV-DEP", YEAR - 1),
    ]


# --- head ratings: what they show -----------------------------------------------------


def test_a_rating_shows_the_proposal_its_basis_and_the_decision(ratings, leader):
    client = client_for(leader)

    body = client.get(rating_url(ratings["a"]), HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["unit"] == {"code": "CITY-A", "name": "Phường A"}
    assert body["year"] == YEAR
    assert body["head"] == {"name": "Trần Văn CITY-A", "title": "Chủ tịch"}
    assert body["proposed"] == {"value": 1, "label": "Completed"}
    assert body["final"] == {"value": 0, "label": "Not completed"}
    assert body["effective"] == {"value": 0, "label": "Not completed"}
    assert body["basis"] == {
        "targets": 8,
        "met": 5,
        "exceeded": 1,
        "tier": "C",
        "repeatedly_late": True,
        "capped": True,
        "no_result": False,
    }
    assert body["no_proposal_reason"] == ""
    assert body["reason"] == "Không hoàn thành nhiệm vụ được giao."
    assert body["rated_by"] == {"username": "chairman", "full_name": "Lê Văn Chủ"}
    assert body["rated_at"] == "2026-01-30T09:00:00+07:00"
    assert body["flagged"] is True


def test_an_undecided_rating_is_effective_as_proposed(ratings, leader):
    client = client_for(leader)

    body = client.get(rating_url(ratings["b"]), HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["final"] is None
    assert (
        body["effective"]
        == body["proposed"]
        == {
            "value": 2,
            "label": "Completed well",
        }
    )
    assert (body["rated_by"], body["rated_at"], body["flagged"]) == (None, None, False)


# --- head ratings: filters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"year": YEAR}, ["CITY-A", "CITY-B"]),
        ({"year": YEAR - 1}, ["PROV-DEP"]),
        ({"unit": "CITY-B"}, ["CITY-B"]),
        ({"flagged": "true"}, ["CITY-A"]),
        ({"flagged": "false"}, ["CITY-B", "PROV-DEP"]),
        ({"year": YEAR - 1, "flagged": "true"}, []),
    ],
)
def test_ratings_filter_by_year_unit_and_flag(ratings, leader, query, expected):
    assert units_of(listed(client_for(leader), RATINGS_URL, **query)) == expected


def test_the_rating_list_costs_the_same_queries_for_one_or_many(
    ratings, org, leader, django_assert_max_num_queries
):
    def measure(**query):
        client = client_for(leader)
        with CaptureQueriesContext(connection) as queries:
            listed(client, RATINGS_URL, **query)
        return len(queries)

    one = measure(unit="CITY-A")
    for n in range(10):
        rate(UnitFactory(code=f"CITY-N{n}", parent=org.city), RatingLevel.COMPLETED)
    client = client_for(leader)

    with django_assert_max_num_queries(one):
        assert listed(client, RATINGS_URL)["count"] == 13


# --- schema ---------------------------------------------------------------------------


def test_the_openapi_schema_of_the_accountability_endpoints_is_typed_and_clean():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(urlconf="cchc_portal.urls")

    schema = generator.get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    paths = schema["paths"]
    operations = {
        "/api/v1/accountability-cases/": "accountability_cases_list",
        "/api/v1/accountability-cases/{id}/": "accountability_cases_retrieve",
        "/api/v1/head-ratings/": "head_ratings_list",
        "/api/v1/head-ratings/{id}/": "head_ratings_retrieve",
    }
    for path, operation_id in operations.items():
        assert set(paths[path]) == {"get"}
        assert paths[path]["get"]["operationId"] == operation_id
        assert paths[path]["get"]["tags"] == ["accountability"]
    case_params = {
        p["name"] for p in paths["/api/v1/accountability-cases/"]["get"]["parameters"]
    }
    assert case_params == {"year", "kind", "state", "unit", "page"}
    rating_params = {
        p["name"] for p in paths["/api/v1/head-ratings/"]["get"]["parameters"]
    }
    assert rating_params == {"year", "unit", "flagged", "proposal_changed", "page"}
    components = schema["components"]["schemas"]
    assert components["CaseKindEnum"]["enum"] == [
        "two_years",
        "criterion",
        "deduction",
    ]
    assert components["CaseStateEnum"]["enum"] == [
        "requested",
        "explained",
        "decided",
        "withdrawn",
    ]
    detail = components["AccountabilityCaseDetail"]["properties"]
    assert detail["steps"]["items"] == {"$ref": "#/components/schemas/CaseStep"}
    rating = components["HeadRating"]["properties"]
    assert rating["final"]["nullable"] is True
    assert rating["proposed"]["allOf"] == [{"$ref": "#/components/schemas/RatingLevel"}]
    assert set(components["RatingBasis"]["properties"]) == {
        "targets",
        "met",
        "exceeded",
        "tier",
        "repeatedly_late",
        "capped",
        "no_result",
    }
    # Nothing proposed without the year's index result (issue 17, item 4).
    assert rating["proposed"]["nullable"] is True
    assert rating["no_proposal_reason"]["type"] == "string"
