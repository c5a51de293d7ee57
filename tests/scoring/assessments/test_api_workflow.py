"""The self-assessment's workflow over the API (scoring.api.assessment_actions):
each step through the same service as its page, refused to the wrong role
(403), out of scope (404), in the wrong state or with wrong input (400, the
one error body naming the field)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from scoring.assessments import services
from scoring.models import (
    Assessment,
    AssessmentState,
    Comment,
    Contest,
    ContestState,
    FrameworkState,
    Score,
)
from tests.scoring.assessments.test_services import evidence


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def url(assessment: Assessment, rest: str) -> str:
    return f"/api/v1/assessments/{assessment.pk}/{rest}"


def leaf(assessment: Assessment, code: str) -> Score:
    return Score.objects.get(assessment=assessment, node__code=code)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def assessment(framework, org):
    framework.state = FrameworkState.OPEN
    framework.deadline = timezone.localdate() + timedelta(days=10)
    framework.save()
    return services.assessment_open(framework=framework, unit=org.commune_a)


@pytest.fixture
def filled(assessment, commune_staff):
    """Every self-scored leaf scored, the required evidence attached."""
    for code, value in (("1.1.1", "2"), ("1.1.2", "3")):
        response = api(commune_staff).patch(
            url(assessment, f"scores/{code}/"),
            {"self_score": value, "version": leaf(assessment, code).version},
            format="json",
        )
        assert response.status_code == 200, response.json()
    document = evidence(assessment, commune_staff)
    leaf(assessment, "1.1.2").evidence.add(document)
    return assessment


def test_a_whole_cycle_over_the_api(filled, commune_head, commune_staff, city_reviewer):
    assessment = filled
    # The head submits.
    response = api(commune_head).post(url(assessment, "submit/"))
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == AssessmentState.SUBMITTED

    # The reviewer returns it with a comment on 1.1.2 …
    response = api(city_reviewer).post(
        url(assessment, "return/"),
        {"comments": [{"node_code": "1.1.2", "text": "Bổ sung quyết định"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == AssessmentState.RETURNED
    comment = Comment.objects.get()
    assert comment.score.node.code == "1.1.2"

    # … the unit answers and submits again.
    response = api(commune_staff).post(
        url(assessment, f"comments/{comment.pk}/answer/"),
        {"answer": "Đã bổ sung"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["answer"] == "Đã bổ sung"
    assert api(commune_head).post(url(assessment, "submit/")).status_code == 200

    # Approval is refused while leaves are not appraised, and says which.
    response = api(city_reviewer).post(url(assessment, "approve/"))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "1.1.1" in body["detail"]
    assert "2.2" in body["detail"]

    # Many leaves at once, then one with a reason, then approval.
    response = api(city_reviewer).post(
        url(assessment, "appraisals/accept-self/"),
        {"node_codes": ["1.1.1", "1.1.2"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"changed": 2, "kept": []}
    survey = leaf(assessment, "2.2")
    response = api(city_reviewer).patch(
        url(assessment, "appraisals/2.2/"),
        {"appraised_score": "1.5", "reason": "Khảo sát", "version": survey.version},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["appraised_score"] == "1.50"
    response = api(city_reviewer).post(url(assessment, "approve/"))
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == AssessmentState.APPROVED

    # The window to contest opens; the unit contests, the reviewer accepts.
    services.provisional_results_open(
        user=city_reviewer, framework=assessment.framework, today=timezone.localdate()
    )
    response = api(commune_staff).post(
        url(assessment, "contests/"),
        {"node_code": "2.2", "requested_score": "2", "reason": "Đủ căn cứ"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    contest = Contest.objects.get()
    assert response.json()["id"] == contest.pk
    response = api(city_reviewer).post(
        url(assessment, f"contests/{contest.pk}/decision/"),
        {"accept": True, "reason": "Chấp nhận"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == ContestState.ACCEPTED
    assert str(leaf(assessment, "2.2").appraised_score) == "2.00"
    # The same history as the pages write: who did each step.
    history = assessment.history.order_by("history_date")
    approved_by = next(h.history_user for h in history if h.state == "approved")
    assert approved_by == city_reviewer


def test_each_step_is_refused_to_the_wrong_role(
    filled, commune_staff, commune_head, city_reviewer
):
    assessment = filled
    # Staff may fill in but only the head submits.
    response = api(commune_staff).post(url(assessment, "submit/"))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    api(commune_head).post(url(assessment, "submit/"))
    # The unit does not appraise, return or approve itself.
    for path, body, method in (
        ("approve/", {}, "post"),
        ("return/", {"comments": [{"node_code": "1.1.1", "text": "x"}]}, "post"),
        ("appraisals/accept-self/", {"node_codes": ["1.1.1"]}, "post"),
        ("appraisals/1.1.1/", {"appraised_score": "1", "version": 1}, "patch"),
    ):
        response = getattr(api(commune_head), method)(
            url(assessment, path), body, format="json"
        )
        assert response.status_code == 403, (path, response.json())
    assert Assessment.objects.get(pk=assessment.pk).state == AssessmentState.SUBMITTED
    assert leaf(assessment, "1.1.1").appraised_score is None
    # The reviewer does not contest for the unit.
    assessment.state = AssessmentState.APPROVED
    assessment.contest_until = timezone.localdate() + timedelta(days=5)
    assessment.save()
    response = api(city_reviewer).post(
        url(assessment, "contests/"),
        {"node_code": "1.1.1", "requested_score": "2", "reason": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert not Contest.objects.exists()


def test_out_of_scope_answers_404_and_anonymous_401(
    filled, other_commune_staff, commune_head
):
    assessment = filled
    for path in ("submit/", "approve/", "contests/"):
        assert api(other_commune_staff).post(url(assessment, path)).status_code == 404
        assert api().post(url(assessment, path)).status_code == 401
    # A leaf or a comment that is not there is not found either.
    response = api(commune_head).post(
        url(assessment, "comments/999/answer/"), {"answer": "x"}
    )
    assert response.status_code == 404


def test_wrong_state_and_wrong_input_are_400_naming_the_field(
    filled, commune_head, city_reviewer
):
    assessment = filled
    # Not submitted yet: nothing to approve.
    response = api(city_reviewer).post(url(assessment, "approve/"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Assessment.objects.get(pk=assessment.pk).state == AssessmentState.DRAFT
    api(commune_head).post(url(assessment, "submit/"))
    # A return without comments, or naming a leaf that is not there.
    response = api(city_reviewer).post(
        url(assessment, "return/"), {"comments": []}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "comments"
    response = api(city_reviewer).post(
        url(assessment, "return/"),
        {"comments": [{"node_code": "9.9", "text": "x"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "9.9" in response.json()["detail"]
    # An appraisal that differs from the self score needs its reason; a
    # score above the leaf's maximum is refused.
    version = leaf(assessment, "1.1.1").version
    for body in (
        {"appraised_score": "1", "version": version},
        {"appraised_score": "7", "reason": "x", "version": version},
    ):
        response = api(city_reviewer).patch(
            url(assessment, "appraisals/1.1.1/"), body, format="json"
        )
        assert response.status_code == 400, response.json()
        assert "1.1.1" in response.json()["detail"]
    assert leaf(assessment, "1.1.1").appraised_score is None
    # Sent from an older version: 409 with the leaf as it is now.
    response = api(city_reviewer).patch(
        url(assessment, "appraisals/1.1.1/"),
        {"appraised_score": "2", "version": version + 5},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["current"]["code"] == "1.1.1"


def test_a_step_answers_the_assessment_as_the_read_does(filled, commune_head):
    """The same fields as GET (found by the schema fuzzer: `started` was
    missing from the step's answer)."""
    assessment = filled
    read = api(commune_head).get(f"/api/v1/assessments/{assessment.pk}/").json()
    done = api(commune_head).post(url(assessment, "submit/")).json()
    assert set(done) == set(read) - {"framework_name", "scores"}
    assert done["started"] is True


# --- many leaves in one call ------------------------------------------------------


def appraisal(assessment, code, value, reason="", **extra):
    return {
        "node_code": code,
        "appraised_score": value,
        "reason": reason,
        "version": leaf(assessment, code).version,
        **extra,
    }


def test_many_leaves_are_appraised_in_one_call(filled, commune_head, city_reviewer):
    assessment = filled
    api(commune_head).post(url(assessment, "submit/"))

    response = api(city_reviewer).post(
        url(assessment, "appraisals/"),
        {
            "appraisals": [
                appraisal(assessment, "1.1.1", "2"),
                appraisal(assessment, "1.1.2", "2.5", "Thiếu một quyết định"),
                appraisal(assessment, "2.2", "1.5", "Khảo sát"),
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    saved = {
        row["code"]: row["appraised_score"] for row in response.json()["appraisals"]
    }
    assert saved == {"1.1.1": "2.00", "1.1.2": "2.50", "2.2": "1.50"}
    assert leaf(assessment, "1.1.2").appraisal_reason == "Thiếu một quyết định"
    # The same history rows as one leaf at a time: who appraised.
    assert leaf(assessment, "1.1.2").history.latest().history_user == city_reviewer
    response = api(city_reviewer).post(url(assessment, "approve/"))
    assert response.status_code == 200, response.json()


def test_many_leaves_are_all_or_none_and_the_refusal_names_the_position(
    filled, commune_head, city_reviewer
):
    assessment = filled
    api(commune_head).post(url(assessment, "submit/"))
    good = appraisal(assessment, "1.1.1", "2")
    for second, field in (
        # Differs from the self score (3) without a reason.
        (appraisal(assessment, "1.1.2", "1"), "appraisals.1.reason"),
        (appraisal(assessment, "1.1.2", "9", "x"), "appraisals.1.appraised_score"),
        (appraisal(assessment, "1.1.1", "2"), "appraisals.1.node_code"),
        ({**appraisal(assessment, "1.1.2", "1"), "node_code": "9.9"}, None),
    ):
        response = api(city_reviewer).post(
            url(assessment, "appraisals/"),
            {"appraisals": [good, second]},
            format="json",
        )
        assert response.status_code == 400, response.json()
        fields = [e["field"] for e in response.json()["errors"]]
        if field is not None:
            assert field in fields, response.json()
        else:
            assert fields == ["appraisals.1.node_code"]
            assert "9.9" in response.json()["detail"]
    # The first leaf was not kept either.
    assert leaf(assessment, "1.1.1").appraised_score is None


def test_a_stale_leaf_in_a_batch_answers_409_with_that_leaf(
    filled, commune_head, city_reviewer
):
    assessment = filled
    api(commune_head).post(url(assessment, "submit/"))
    stale = {**appraisal(assessment, "1.1.2", "3"), "version": 99}

    response = api(city_reviewer).post(
        url(assessment, "appraisals/"),
        {"appraisals": [appraisal(assessment, "1.1.1", "2"), stale]},
        format="json",
    )

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["current"]["code"]) == ("conflict", "1.1.2")
    assert leaf(assessment, "1.1.1").appraised_score is None


def test_many_leaves_are_refused_to_the_unit_and_out_of_scope(
    filled, commune_head, other_commune_staff, city_reviewer
):
    assessment = filled
    api(commune_head).post(url(assessment, "submit/"))
    body = {"appraisals": [appraisal(assessment, "1.1.1", "2")]}
    response = api(commune_head).post(
        url(assessment, "appraisals/"), body, format="json"
    )
    assert response.status_code == 403
    response = api(other_commune_staff).post(
        url(assessment, "appraisals/"), body, format="json"
    )
    assert response.status_code == 404
    assert leaf(assessment, "1.1.1").appraised_score is None
