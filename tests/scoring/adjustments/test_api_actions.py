"""Deductions and bonuses over the API (scoring.api.adjustment_actions):
entered by a reviewer of the unit, decided by another (four eyes), through
the page's service and history; anyone but a reviewer is refused (403), a
record of a unit the reviewer does not review is not found (404), bad input
is a 400 naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from commitments.organisation.models import Role
from scoring.models import Adjustment, AdjustmentRule, AdjustmentState
from tests.conftest import member

ENTER = "/api/v1/adjustments/"


def post(user, path: str, body: dict):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client.post(path, body, format="json")


def decide_url(record: Adjustment) -> str:
    return f"/api/v1/adjustments/{record.pk}/decision/"


@pytest.fixture(autouse=True)
def _fresh_throttle(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rule(framework):
    return AdjustmentRule.objects.create(
        framework=framework,
        code="bao-chi",
        title="Báo chí phản ánh đúng sự thật",
        points_per_case=Decimal(-1),
        position=1,
    )


@pytest.fixture
def second_reviewer(org):
    return member("reviewer.city2", org.city, Role.REVIEWER)


def entry(framework, unit, **extra):
    return {
        "framework": framework.pk,
        "unit": unit.code,
        "rule": "bao-chi",
        "cases": 2,
        "reason": "Báo Cần Thơ phản ánh, đã xác minh",
        **extra,
    }


def test_one_reviewer_enters_and_another_decides(
    framework, rule, org, city_reviewer, second_reviewer
):
    response = post(city_reviewer, ENTER, entry(framework, org.commune_a))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["points"], body["state"]) == ("-2.00", AdjustmentState.PROPOSED)
    assert body["entered_by"]["username"] == city_reviewer.username
    record = Adjustment.objects.get(pk=body["id"])

    # Four eyes: whoever entered it does not decide it.
    own = post(city_reviewer, decide_url(record), {"approve": True})
    assert own.status_code == 400
    assert "another reviewer" in own.json()["detail"]

    refused = post(second_reviewer, decide_url(record), {"approve": False})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "reason"
    response = post(second_reviewer, decide_url(record), {"approve": True})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == AdjustmentState.APPROVED
    record.refresh_from_db()
    assert record.decided_by == second_reviewer
    assert record.history.latest().history_user == second_reviewer
    # Decided once: not again.
    again = post(second_reviewer, decide_url(record), {"approve": False})
    assert again.status_code == 400


def test_only_reviewers_enter_and_decide(
    framework, rule, org, commune_head, leader, city_reviewer
):
    record = Adjustment.objects.create(
        framework=framework,
        unit=org.commune_a,
        rule=rule,
        points=Decimal(-1),
        reason="x",
        entered_at=timezone.now(),
    )
    for user in (commune_head, leader):
        assert post(user, ENTER, entry(framework, org.commune_a)).status_code == 403
        response = post(user, decide_url(record), {"approve": True})
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert Adjustment.objects.count() == 1


def test_a_unit_outside_the_jurisdiction_is_neither_offered_nor_found(
    framework, rule, org, city_reviewer
):
    outside = org.department
    refused = post(city_reviewer, ENTER, entry(framework, outside))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "unit"
    record = Adjustment.objects.create(
        framework=framework,
        unit=outside,
        rule=rule,
        points=Decimal(-1),
        reason="x",
        entered_at=timezone.now(),
    )
    response = post(city_reviewer, decide_url(record), {"approve": True})
    assert response.status_code == 404
    assert Adjustment.objects.get(pk=record.pk).state == AdjustmentState.PROPOSED


def test_bad_input_names_the_field(framework, rule, org, city_reviewer):
    for body, field in (
        (entry(framework, org.commune_a, rule="no-such"), "rule"),
        (entry(framework, org.commune_a, cases=0), "cases"),
        (entry(framework, org.commune_a, reason=" "), "reason"),
        ({**entry(framework, org.commune_a), "framework": 999}, "framework"),
        (entry(framework, org.commune_a, source=org.commune_b.code), "source"),
    ):
        response = post(city_reviewer, ENTER, body)
        assert response.status_code == 400, response.json()
        assert response.json()["errors"][0]["field"] == field, response.json()
    assert not Adjustment.objects.exists()
