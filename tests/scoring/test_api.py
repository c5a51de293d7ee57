"""The index over REST: frameworks for any signed-in caller, assessments
scoped to the units the caller sees, and self scores saved by the unit's own
staff and head under the same rules as the form."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scoring.api.views import ScoreSaveThrottle
from scoring.assessments import services
from scoring.models import (
    Assessment,
    AssessmentState,
    Evidence,
    FrameworkState,
    Score,
    Tier,
)
from tests.wording import vi

LIST_URL = reverse("scoring_api:assessment-list")
FRAMEWORKS_URL = reverse("scoring_api:framework-list")


def detail_url(assessment):
    return reverse("scoring_api:assessment-detail", kwargs={"pk": assessment.pk})


def score_url(assessment, code):
    return reverse(
        "scoring_api:assessment-score", kwargs={"pk": assessment.pk, "node_code": code}
    )


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def leaf(assessment, code) -> Score:
    return Score.objects.get(assessment=assessment, node__code=code)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The throttle counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def open_framework(framework):
    """The fixture's framework, open, its deadline ten days from now (the
    view reads today's date)."""
    framework.state = FrameworkState.OPEN
    framework.deadline = timezone.localdate() + timedelta(days=10)
    framework.save()
    return framework


@pytest.fixture
def assessment_a(open_framework, org):
    return services.assessment_open(framework=open_framework, unit=org.commune_a)


@pytest.fixture
def assessment_b(open_framework, org):
    return services.assessment_open(framework=open_framework, unit=org.commune_b)


def save(user, assessment, code, body, **extra):
    return client_for(user).patch(
        score_url(assessment, code), body, format="json", **extra
    )


# --- frameworks --------------------------------------------------------------------


def test_frameworks_are_listed_and_filtered_by_year_kind_and_state(
    framework, commune_staff
):
    framework.state = FrameworkState.OPEN
    framework.save()

    def codes(query):
        response = client_for(commune_staff).get(FRAMEWORKS_URL, query)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert codes({}) == [framework.pk]
    assert codes({"year": 2025, "unit_kind": "commune", "state": "open"}) == [
        framework.pk
    ]
    assert codes({"year": 2024}) == []
    assert codes({"unit_kind": "department"}) == []
    assert codes({"state": "draft"}) == []


def test_a_framework_reads_with_its_settings_tiers_and_tree(
    framework, org, reviewer, django_assert_num_queries
):
    Tier.objects.create(framework=framework, code="A", label="Tốt", min_index=90)
    Tier.objects.create(framework=framework, code="B", label="Khá", min_index=80)
    criterion = framework.nodes.get(code="1.1")
    criterion.owner_unit = org.city
    criterion.save()
    client = client_for(reviewer)

    # Memberships, the framework, its tiers, its nodes (with owner units):
    # whatever the size of the tree.
    with django_assert_num_queries(4):
        response = client.get(
            reverse("scoring_api:framework-detail", kwargs={"pk": framework.pk})
        )

    assert response.status_code == 200
    body = response.json()
    assert body["year"] == 2025
    assert body["deadline"] == "2026-01-07"
    assert body["reminder_days"] == [7, 2]
    assert [(t["code"], t["min_index"]) for t in body["tiers"]] == [
        ("A", "90.00"),
        ("B", "80.00"),
    ]
    assert [n["code"] for n in body["nodes"]] == ["1", "2"]
    field_1 = body["nodes"][0]
    assert field_1["max_points"] == "6.00"
    assert field_1["level"] == "field"
    (criterion_1,) = field_1["children"]
    assert criterion_1["owner_unit"] == "CITY"
    assert [c["code"] for c in criterion_1["children"]] == ["1.1.1", "1.1.2"]
    assert criterion_1["children"][1]["evidence_required"] is True
    assert criterion_1["children"][1]["children"] == []
    metric = body["nodes"][1]["children"][0]
    assert metric["method"] == "metric"
    assert metric["metric"] == "on_time_rate"
    assert metric["scoring"] == "linear"
    assert metric["scoring_params"] == {"full_at": 100}


@pytest.mark.parametrize(
    ("persona", "draft", "opened"),
    [
        ("reviewer", True, True),
        ("superuser", True, True),
        ("commune_staff", False, True),
        ("leader", False, True),
        ("department_staff", False, False),
        ("no_unit_user", False, False),
    ],
)
def test_drafts_are_for_those_who_build_frameworks_others_see_their_kinds_once_open(
    request, framework, persona, draft, opened
):
    """As on the framework pages (scoring.frameworks.services.frameworks_visible)."""
    client = client_for(request.getfixturevalue(persona))
    url = reverse("scoring_api:framework-detail", kwargs={"pk": framework.pk})

    assert (client.get(url).status_code == 200) is draft
    assert (client.get(FRAMEWORKS_URL).json()["count"] == 1) is draft
    framework.state = FrameworkState.OPEN
    framework.save()
    assert (client.get(url).status_code == 200) is opened
    assert (client.get(FRAMEWORKS_URL).json()["count"] == 1) is opened


def test_an_unknown_framework_answers_404(commune_staff, db):
    response = client_for(commune_staff).get(
        reverse("scoring_api:framework-detail", kwargs={"pk": 999})
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    [FRAMEWORKS_URL, LIST_URL, reverse("scoring_api:assessment-detail", args=[1])],
)
def test_anonymous_callers_are_refused(url, db):
    # 401 and "WWW-Authenticate: Token": token authentication comes first.
    assert client_for().get(url).status_code == 401


# --- assessments: who sees which -------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("commune_staff", ["CITY-A"]),
        ("commune_head", ["CITY-A"]),
        ("other_commune_staff", ["CITY-B"]),
        ("department_staff", []),
        ("city_reviewer", ["CITY-A", "CITY-B"]),
        ("reviewer", ["CITY-A", "CITY-B"]),
        ("leader", ["CITY-A", "CITY-B"]),
        ("superuser", ["CITY-A", "CITY-B"]),
        ("no_unit_user", []),
    ],
)
def test_assessments_are_listed_only_within_the_callers_scope(
    request, persona, visible, assessment_a, assessment_b
):
    user = request.getfixturevalue(persona)

    response = client_for(user).get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(visible)
    assert [row["unit_code"] for row in body["results"]] == visible
    for assessment in (assessment_a, assessment_b):
        expected = 200 if assessment.unit.code in visible else 404
        assert client_for(user).get(detail_url(assessment)).status_code == expected


def test_assessments_filter_by_framework_year_unit_state_and_not_started(
    assessment_a, assessment_b, city_reviewer, commune_staff
):
    services.score_self_save(
        user=commune_staff,
        score_id=leaf(assessment_a, "1.1.1").pk,
        self_score="1",
        explanation="",
        version=1,
        today=timezone.localdate(),
    )
    client = client_for(city_reviewer)

    def units(**query):
        response = client.get(LIST_URL, query)
        assert response.status_code == 200
        return [row["unit_code"] for row in response.json()["results"]]

    assert units(framework=assessment_a.framework_id) == ["CITY-A", "CITY-B"]
    assert units(framework=assessment_a.framework_id + 1) == []
    assert units(year=2025) == ["CITY-A", "CITY-B"]
    assert units(year=2024) == []
    assert units(unit="CITY-B") == ["CITY-B"]
    assert units(not_started="true") == ["CITY-B"]
    assert units(not_started="false") == ["CITY-A"]
    rows = client.get(LIST_URL).json()["results"]
    assert [row["started"] for row in rows] == [True, False]
    # Not started means a draft without any self score, as in the queue.
    Assessment.objects.filter(pk=assessment_b.pk).update(state=AssessmentState.RETURNED)
    assert units(state="returned") == ["CITY-B"]
    assert units(not_started="true") == []
    assert units(not_started="false") == ["CITY-A", "CITY-B"]


def test_a_bad_filter_value_is_refused(assessment_a, city_reviewer):
    response = client_for(city_reviewer).get(LIST_URL, {"state": "lost"})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["state"]


def test_a_framework_id_beyond_64_bits_is_refused_not_a_500(
    assessment_a, city_reviewer
):
    # SQLite cannot compare an id with such an integer (found by the fuzz test).
    response = client_for(city_reviewer).get(LIST_URL, {"framework": 2**70})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["framework"]


def test_the_assessment_list_is_paginated_in_a_stable_order(
    assessment_a, assessment_b, reviewer, django_assert_num_queries
):
    client = client_for(reviewer)

    # Memberships, count, page (assessments with framework, unit, started).
    with django_assert_num_queries(3):
        response = client.get(LIST_URL)

    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    row = body["results"][0]
    assert row["framework"] == assessment_a.framework_id
    assert row["year"] == 2025
    assert row["unit_name"] == "Phường A"
    assert row["state"] == "draft"
    assert row["round"] == 0
    assert row["deadline"] == assessment_a.framework.deadline.isoformat()


def test_an_assessment_reads_leaf_by_leaf(
    assessment_a, commune_staff, django_assert_num_queries
):
    doc = Evidence.objects.create(
        assessment=assessment_a,
        token="00000000-0000-0000-0000-000000000001",
        extension=".pdf",
        file="evidence/x.pdf",
        original_name="quyết định 12.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    leaf_112 = leaf(assessment_a, "1.1.2")
    leaf_112.evidence.add(doc)
    services.score_self_save(
        user=commune_staff,
        score_id=leaf_112.pk,
        self_score="3,5",
        explanation="Đã ban hành kế hoạch",
        version=leaf_112.version,
        today=timezone.localdate(),
    )
    Assessment.objects.filter(pk=assessment_a.pk).update(
        extended_until=timezone.localdate() + timedelta(days=20)
    )
    # A fresh user object: memberships are cached on the one the service saw.
    client = client_for(type(commune_staff).objects.get(pk=commune_staff.pk))

    # Memberships, the assessment, its leaves, their documents.
    with django_assert_num_queries(4):
        response = client.get(detail_url(assessment_a))

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "draft"
    assert body["round"] == 0
    assert body["framework_name"] == "Chỉ số CCHC cấp xã"
    assert body["extended_until"] == body["deadline"]
    assert body["started"] is True
    assert [s["code"] for s in body["scores"]] == ["1.1.1", "1.1.2", "2.1", "2.2"]
    scored = body["scores"][1]
    assert scored == {
        "code": "1.1.2",
        "title": "Mục 1.1.2",
        "method": "manual",
        "max_points": "4.00",
        "self_score": "3.50",
        "explanation": "Đã ban hành kế hoạch",
        "appraised_score": None,
        "appraisal_reason": "",
        "evidence_required": True,
        "evidence": ["quyết định 12.pdf"],
        "version": 2,
        "updated_at": scored["updated_at"],
    }
    assert body["scores"][0]["self_score"] is None
    assert body["scores"][2]["method"] == "metric"


@pytest.mark.parametrize(
    ("state", "contest_until", "unit_sees"),
    [
        (AssessmentState.SUBMITTED, None, False),
        # Approved: the unit reads its result (issue 18, item 3).
        (AssessmentState.APPROVED, None, True),
        (AssessmentState.RETURNED, None, True),
        (AssessmentState.APPROVED, "2026-12-31", True),
    ],
)
def test_the_unit_sees_appraised_scores_once_returned_or_approved(
    assessment_a, commune_staff, city_reviewer, state, contest_until, unit_sees
):
    """As on the unit's page: during appraisal, the reviewer's scores and
    reasons are not the unit's to read yet."""
    Score.objects.filter(assessment=assessment_a, node__code="1.1.1").update(
        self_score=2, appraised_score=1, appraisal_reason="Thiếu văn bản"
    )
    Assessment.objects.filter(pk=assessment_a.pk).update(
        state=state, contest_until=contest_until
    )

    def first_leaf(user):
        return client_for(user).get(detail_url(assessment_a)).json()["scores"][0]

    assert first_leaf(city_reviewer)["appraised_score"] == "1.00"
    assert first_leaf(city_reviewer)["appraisal_reason"] == "Thiếu văn bản"
    seen = first_leaf(commune_staff)
    assert seen["self_score"] == "2.00"
    assert seen["appraised_score"] == ("1.00" if unit_sees else None)
    assert seen["appraisal_reason"] == ("Thiếu văn bản" if unit_sees else "")


# --- self scores -------------------------------------------------------------------


def test_staff_save_a_self_score_and_get_the_new_version(assessment_a, commune_staff):
    response = save(
        commune_staff,
        assessment_a,
        "1.1.1",
        {"self_score": "1.5", "explanation": " Đã thực hiện ", "version": 1},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["self_score"] == "1.50"
    assert body["explanation"] == "Đã thực hiện"
    assert body["version"] == 2
    saved = leaf(assessment_a, "1.1.1")
    assert saved.self_score == Decimal("1.5")
    assert saved.updated_by == commune_staff
    # The audit trail records who, as for the form.
    assert saved.history.latest().history_user == commune_staff


def test_the_head_may_save_too_and_a_number_or_a_decimal_comma_is_read(
    assessment_a, commune_head
):
    assert (
        save(
            commune_head, assessment_a, "1.1.2", {"self_score": 3.25, "version": 1}
        ).json()["self_score"]
        == "3.25"
    )
    assert (
        save(
            commune_head, assessment_a, "1.1.2", {"self_score": "2,5", "version": 2}
        ).json()["self_score"]
        == "2.50"
    )


def test_a_left_out_field_is_kept_and_null_clears_the_score(
    assessment_a, commune_staff
):
    save(
        commune_staff,
        assessment_a,
        "1.1.1",
        {"self_score": "2", "explanation": "Giải trình", "version": 1},
    )

    kept = save(commune_staff, assessment_a, "1.1.1", {"self_score": "1", "version": 2})
    assert kept.json()["explanation"] == "Giải trình"
    explained = save(
        commune_staff, assessment_a, "1.1.1", {"explanation": "Mới", "version": 3}
    )
    assert explained.json()["self_score"] == "1.00"
    cleared = save(
        commune_staff, assessment_a, "1.1.1", {"self_score": None, "version": 4}
    )
    assert cleared.status_code == 200
    assert cleared.json()["self_score"] is None
    assert cleared.json()["explanation"] == "Mới"


def test_a_save_with_an_api_token(assessment_a, commune_staff):
    token = Token.objects.create(user=commune_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.patch(
        score_url(assessment_a, "1.1.1"),
        {"self_score": "2", "version": 1},
        format="json",
    )

    assert response.status_code == 200
    assert client.get(detail_url(assessment_a)).json()["scores"][0]["version"] == 2


def test_a_save_with_a_session(assessment_a, commune_staff):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(commune_staff)

    # A session is a browser's: DRF asks it for the CSRF token.
    refused = client.patch(
        score_url(assessment_a, "1.1.1"),
        {"self_score": "2", "version": 1},
        format="json",
    )
    assert refused.status_code == 403
    client.get(reverse("notice_list"))  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.patch(
        score_url(assessment_a, "1.1.1"),
        {"self_score": "2", "version": 1},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 200
    assert leaf(assessment_a, "1.1.1").self_score == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2.01", "1.1.1"),
        ("-1", "1.1.1"),
        ("abc", "1.1.1"),
        ("1.234", "1.1.1"),
    ],
)
def test_a_bad_value_answers_400_naming_the_leaf(
    assessment_a, commune_staff, value, message
):
    response = save(
        commune_staff, assessment_a, "1.1.1", {"self_score": value, "version": 1}
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "self_score"
    assert message in error["message"]
    assert leaf(assessment_a, "1.1.1").version == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"self_score": "1"}, "version"),
        ({"self_score": "1", "version": "x"}, "version"),
        ({"self_score": True, "version": 1}, "self_score"),
        ({"self_score": ["1"], "version": 1}, "self_score"),
    ],
)
def test_a_malformed_body_is_refused(assessment_a, commune_staff, body, field):
    response = save(commune_staff, assessment_a, "1.1.1", body)

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_save_from_an_older_version_answers_409_with_the_current_leaf(
    assessment_a, commune_staff, commune_head
):
    commune_staff.first_name, commune_staff.last_name = "Lan", "Nguyễn Thị"
    commune_staff.save()
    save(commune_staff, assessment_a, "1.1.1", {"self_score": "2", "version": 1})

    response = save(
        commune_head, assessment_a, "1.1.1", {"self_score": "1", "version": 1}
    )

    assert response.status_code == 409
    body = response.json()
    assert (body["status"], body["code"]) == (409, "conflict")
    assert body["errors"] == [
        {"field": None, "code": "conflict", "message": body["detail"]}
    ]
    assert "1.1.1" in body["detail"]
    assert "Nguyễn Thị Lan" in body["detail"] or "Lan Nguyễn Thị" in body["detail"]
    assert body["current"]["self_score"] == "2.00"
    assert body["current"]["version"] == 2
    assert leaf(assessment_a, "1.1.1").self_score == 2


@pytest.mark.parametrize(
    "persona", ["city_reviewer", "reviewer", "leader", "superuser"]
)
def test_those_who_may_see_but_not_fill_in_get_403(request, persona, assessment_a):
    user = request.getfixturevalue(persona)

    response = save(user, assessment_a, "1.1.1", {"self_score": "1", "version": 1})

    assert response.status_code == 403
    assert leaf(assessment_a, "1.1.1").self_score is None


def test_a_stale_version_from_a_reader_still_gets_403(assessment_a, reviewer):
    response = save(reviewer, assessment_a, "1.1.1", {"self_score": "1", "version": 7})

    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["other_commune_staff", "department_staff"])
def test_another_units_assessment_answers_404(request, persona, assessment_a):
    user = request.getfixturevalue(persona)

    response = save(user, assessment_a, "1.1.1", {"self_score": "1", "version": 1})

    assert response.status_code == 404


@pytest.mark.parametrize("code", ["9.9.9", "1.1", "1"])
def test_an_unknown_code_or_a_node_that_is_not_a_leaf_answers_404(
    assessment_a, commune_staff, code
):
    response = save(
        commune_staff, assessment_a, code, {"self_score": "1", "version": 1}
    )

    assert response.status_code == 404


def test_an_unknown_assessment_answers_404(commune_staff, db):
    response = client_for(commune_staff).patch(
        "/api/v1/assessments/999/scores/1.1.1/", {"version": 1}, format="json"
    )

    assert response.status_code == 404


@pytest.mark.parametrize("code", ["2.1", "2.2"])
def test_metric_and_survey_leaves_are_refused_naming_the_leaf(
    assessment_a, commune_staff, code
):
    response = save(
        commune_staff, assessment_a, code, {"self_score": "1", "version": 1}
    )

    assert response.status_code == 400
    # Not about a field: about the request as a whole.
    (error,) = response.json()["errors"]
    assert error["field"] is None
    assert code in error["message"]


def test_after_the_deadline_the_save_is_refused_until_extended(
    assessment_a, commune_staff
):
    framework = assessment_a.framework
    framework.deadline = timezone.localdate() - timedelta(days=1)
    framework.save()

    locked = save(
        commune_staff, assessment_a, "1.1.1", {"self_score": "1", "version": 1}
    )

    assert locked.status_code == 400
    assert [e["field"] for e in locked.json()["errors"]] == [None]
    Assessment.objects.filter(pk=assessment_a.pk).update(
        extended_until=timezone.localdate()
    )
    extended = save(
        commune_staff, assessment_a, "1.1.1", {"self_score": "1", "version": 1}
    )
    assert extended.status_code == 200


def test_a_submitted_assessment_cannot_be_changed(assessment_a, commune_staff):
    Assessment.objects.filter(pk=assessment_a.pk).update(
        state=AssessmentState.SUBMITTED
    )

    response = save(
        commune_staff, assessment_a, "1.1.1", {"self_score": "1", "version": 1}
    )

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [None]


def test_messages_follow_the_callers_language(assessment_a, reviewer):
    body = {"self_score": "1", "version": 1}

    in_vi = save(reviewer, assessment_a, "1.1.1", body, HTTP_ACCEPT_LANGUAGE="vi")
    en = save(reviewer, assessment_a, "1.1.1", body, HTTP_ACCEPT_LANGUAGE="en")

    message = "Only the unit's staff and head may enter its self scores."
    assert en.json()["code"] == "permission_denied"
    assert en.json()["detail"] == message
    assert in_vi.json()["detail"] == vi(message)


def test_saves_are_throttled_per_user(assessment_a, commune_staff, monkeypatch):
    monkeypatch.setattr(ScoreSaveThrottle, "rate", "2/min")

    codes = [
        save(
            commune_staff, assessment_a, "1.1.1", {"self_score": "1", "version": v}
        ).status_code
        for v in (1, 2, 3)
    ]

    assert codes == [200, 200, 429]


# --- schema ------------------------------------------------------------------------


def test_the_openapi_schema_of_these_endpoints_has_no_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(urlconf="cchc_portal.urls")

    schema = generator.get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/v1/frameworks/",
        "/api/v1/frameworks/{id}/",
        "/api/v1/assessments/",
        "/api/v1/assessments/{id}/",
        "/api/v1/assessments/{id}/scores/{node_code}/",
    }
    components = schema["components"]["schemas"]
    # Points are decimal strings; the tree refers to itself.
    assert components["Score"]["properties"]["self_score"]["type"] == "string"
    assert components["Score"]["properties"]["self_score"]["format"] == "decimal"
    assert components["Node"]["properties"]["children"]["items"] == {
        "$ref": "#/components/schemas/Node"
    }
    assert components["SelfScoreSave"]["required"] == ["version"]
    # A node that reads no metric answers "" for metric and scoring: the
    # schema allows it (found by the fuzz test).
    blank = {"$ref": "#/components/schemas/BlankEnum"}
    assert blank in components["Node"]["properties"]["metric"]["oneOf"]
    assert blank in components["Node"]["properties"]["scoring"]["oneOf"]
    save_op = paths["/api/v1/assessments/{id}/scores/{node_code}/"]["patch"]
    assert set(save_op["responses"]) >= {"200", "400", "403", "404", "409"}
    assert "FrameworkStateEnum" in components
    assert "AssessmentStateEnum" in components
