"""Reminders over the API (procedures.api.reminders): recorded by reviewers
and leaders for the units of their jurisdiction, withdrawn only by Home
Affairs with the reason, through the reminders page's services; the wrong
role is refused (403), another unit's reminder is not found (404), bad input
is a 400 naming the field."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from procedures.models import Reminder

RECORD = "/api/v1/reminders/"


def post(user, path: str, body: dict):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client.post(path, body, format="json")


def withdraw_url(reminder: Reminder) -> str:
    return f"/api/v1/reminders/{reminder.pk}/withdraw/"


@pytest.fixture(autouse=True)
def _fresh_throttle(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    yield
    cache.clear()


def test_a_leader_records_and_home_affairs_withdraws_with_the_reason(
    org, leader, city_reviewer
):
    response = post(
        leader,
        RECORD,
        {"unit": org.commune_a.code, "issued_on": "02/06/2025", "reason": "Trễ hẹn"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["unit_code"], body["issued_on"], body["year"]) == (
        org.commune_a.code,
        "2025-06-02",
        2025,
    )
    reminder = Reminder.objects.get(pk=body["id"])
    assert reminder.issued_by == leader

    # A leader never withdraws; Home Affairs does, saying why.
    assert post(leader, withdraw_url(reminder), {"reason": "x"}).status_code == 403
    refused = post(city_reviewer, withdraw_url(reminder), {"reason": "  "})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "reason"
    response = post(city_reviewer, withdraw_url(reminder), {"reason": "Ghi nhầm"})
    assert response.status_code == 200, response.json()
    assert response.json()["withdrawn_by"] == city_reviewer.username
    assert response.json()["withdrawal_reason"] == "Ghi nhầm"
    again = post(city_reviewer, withdraw_url(reminder), {"reason": "Lần nữa"})
    assert again.status_code == 400


def test_the_units_people_neither_record_nor_withdraw(
    org, commune_staff, commune_head, reviewer
):
    reminder = Reminder.objects.create(
        unit=org.commune_a, issued_on=date(2025, 6, 2), year=2025, issued_by=reviewer
    )
    for user in (commune_staff, commune_head):
        body = {"unit": org.commune_a.code, "issued_on": "2025-07-01"}
        assert post(user, RECORD, body).status_code == 403
        response = post(user, withdraw_url(reminder), {"reason": "x"})
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert Reminder.objects.count() == 1


def test_another_units_reminder_is_not_found_and_not_offered(
    org, other_commune_staff, city_reviewer, reviewer
):
    reminder = Reminder.objects.create(
        unit=org.commune_a, issued_on=date(2025, 6, 2), year=2025, issued_by=reviewer
    )
    response = post(other_commune_staff, withdraw_url(reminder), {"reason": "x"})
    assert response.status_code == 404
    # The department is not the city's: refused on the field, as unknown.
    outside = post(
        city_reviewer, RECORD, {"unit": org.department.code, "issued_on": "2025-07-01"}
    )
    assert outside.status_code == 400
    assert outside.json()["errors"][0]["field"] == "unit"


def test_bad_input_names_the_field(org, city_reviewer, reviewer):
    Reminder.objects.create(
        unit=org.commune_a, issued_on=date(2025, 6, 2), year=2025, issued_by=reviewer
    )
    for body, field in (
        ({"unit": org.commune_a.code}, "issued_on"),
        ({"unit": org.commune_a.code, "issued_on": "31/02/2025"}, "issued_on"),
        # The model's own check, about the reminder as a whole.
        ({"unit": org.commune_a.code, "issued_on": "2025-07-01", "year": 2020}, None),
    ):
        response = post(city_reviewer, RECORD, body)
        assert response.status_code == 400, response.json()
        assert response.json()["errors"][0]["field"] == field, response.json()
    # The same unit and day twice: refused as a whole.
    twice = post(
        city_reviewer, RECORD, {"unit": org.commune_a.code, "issued_on": "2025-06-02"}
    )
    assert twice.status_code == 400
    assert "already has a reminder" in twice.json()["detail"]
    assert Reminder.objects.count() == 1
