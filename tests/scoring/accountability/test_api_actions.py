"""Accountability's workflow over the API (scoring.api.accountability_actions):
the head explains, the leader above decides and rates, each through the
page's service (its steps, its notices); the wrong role is refused (403),
another unit's case or rating is not found (404), bad input is a 400 naming
the field."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseStep,
    Decision,
    HeadRating,
    MitigationGround,
    Notice,
    RatingLevel,
    StepAction,
)
from tests.scoring.accountability.test_api import open_case, rate


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def post(user, path: str, body: dict):
    return api(user).post(path, body, format="json")


def explain_url(case: AccountabilityCase) -> str:
    return f"/api/v1/accountability-cases/{case.pk}/explanation/"


def decide_url(case: AccountabilityCase) -> str:
    return f"/api/v1/accountability-cases/{case.pk}/decision/"


def rate_url(rating: HeadRating) -> str:
    return f"/api/v1/head-ratings/{rating.pk}/decision/"


@pytest.fixture(autouse=True)
def _fresh_throttle(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def case(org, head_user):
    return open_case(org.commune_a)


@pytest.fixture
def other_case(org, heads):
    return open_case(org.commune_b)


def test_the_head_explains_and_the_leader_above_decides(case, head_user, city_leader):
    response = post(head_user, explain_url(case), {"explanation": "Mưa lũ kéo dài."})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == AccountabilityState.EXPLAINED
    assert body["explanation"] == "Mưa lũ kéo dài."
    assert [step["action"] for step in body["steps"]] == [
        StepAction.OPENED,
        StepAction.EXPLAINED,
    ]
    # The leaders above are told, as from the page.
    assert Notice.objects.filter(user=city_leader).exists()

    response = post(
        city_leader,
        decide_url(case),
        {
            "decision": Decision.MITIGATED,
            "ground": MitigationGround.OBJECTIVE,
            "reason": "Nguyên nhân khách quan.",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["decision"], body["ground"]) == (
        AccountabilityState.DECIDED,
        Decision.MITIGATED,
        MitigationGround.OBJECTIVE,
    )
    step = CaseStep.objects.get(case=case, action=StepAction.DECIDED)
    assert step.by == city_leader


def test_explaining_and_deciding_are_refused_to_the_wrong_role(
    case, head_user, commune_staff, city_leader, city_reviewer
):
    assert (
        post(commune_staff, explain_url(case), {"explanation": "x"}).status_code == 403
    )
    # Not explained yet: nothing to decide, even for the leader above.
    assert post(city_leader, decide_url(case), {}).status_code == 403
    post(head_user, explain_url(case), {"explanation": "Đã giải trình."})
    body = {"decision": Decision.HANDLED, "reason": "Đã xử lý."}
    for user in (head_user, city_reviewer):
        response = post(user, decide_url(case), body)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert AccountabilityCase.objects.get(pk=case.pk).decision == ""


def test_another_units_case_is_not_found(other_case, head_user, commune_staff):
    for path in (explain_url(other_case), decide_url(other_case)):
        response = post(head_user, path, {"explanation": "x"})
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert AccountabilityCase.objects.get(pk=other_case.pk).explanation == ""


def test_bad_input_names_the_field_and_changes_nothing(case, head_user, city_leader):
    refused = post(head_user, explain_url(case), {"explanation": "   "})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "explanation"
    post(head_user, explain_url(case), {"explanation": "Đã giải trình."})
    for body, field in (
        ({"decision": "lost", "reason": "x"}, "decision"),
        ({"decision": Decision.MITIGATED, "reason": "x"}, "ground"),
        ({"decision": Decision.DISMISSED}, "reason"),
    ):
        response = post(city_leader, decide_url(case), body)
        assert response.status_code == 400, response.json()
        assert response.json()["errors"][0]["field"] == field
    assert AccountabilityCase.objects.get(pk=case.pk).state == (
        AccountabilityState.EXPLAINED
    )


# --- ratings --------------------------------------------------------------------------


def test_the_leader_above_confirms_or_changes_a_rating_with_a_reason(
    org, head_user, city_leader
):
    rating = rate(org.commune_a, RatingLevel.GOOD)
    refused = post(city_leader, rate_url(rating), {"level": RatingLevel.COMPLETED})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "reason"

    response = post(
        city_leader,
        rate_url(rating),
        {"level": RatingLevel.COMPLETED, "reason": "Trễ hẹn nhiều."},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["final"]["value"] == RatingLevel.COMPLETED
    assert body["decided_proposal"]["value"] == RatingLevel.GOOD
    assert body["rated_by"]["username"] == city_leader.username


def test_rating_is_refused_to_the_wrong_role_and_out_of_scope(
    org, heads, head_user, commune_staff, city_reviewer, leader
):
    rating = rate(org.commune_a, RatingLevel.GOOD)
    body = {"level": RatingLevel.GOOD}
    # The head sees their own rating but does not rate themselves; the
    # reviewer is not the leader; the province's leader is not the level
    # directly above a commune.
    for user in (head_user, city_reviewer, leader):
        assert post(user, rate_url(rating), body).status_code == 403
    # Staff do not see their head's rating at all.
    assert post(commune_staff, rate_url(rating), body).status_code == 404
    other = rate(org.commune_b, RatingLevel.GOOD)
    assert post(head_user, rate_url(other), body).status_code == 404
    wrong = post(head_user, rate_url(rating), {"level": 7})
    assert wrong.status_code == 403
    assert HeadRating.objects.get(pk=rating.pk).final is None
