"""The Idempotency-Key header of the POSTs that create (cchc_portal.idempotency):
a retry answers the first answer and writes nothing again; the same key with
another request is a 422 in the one error format; a refusal keeps nothing;
keys are the caller's own and forgotten after a day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from cchc_portal import idempotency
from cchc_portal.models import IdempotencyKey
from cchc_portal.tasks import idempotency_keys_expire_task
from commitments.models import Commitment, CommitmentState, Target
from commitments.organisation.models import UnitKind
from procedures.models import Reminder
from scoring.models import Adjustment, AdjustmentRule, Framework
from tests.commitments.helpers import indicator, scan
from tests.factories import HeadFactory

RECORD = "/api/v1/reminders/"
ENTER = "/api/v1/adjustments/"


def post(user, path, body, key=None, format="json"):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(path, body, format=format, **headers)


@pytest.fixture(autouse=True)
def _fresh_throttle(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    yield
    cache.clear()


def reminder_body(unit, day="2025-06-02"):
    return {"unit": unit.code, "issued_on": day, "reason": "Trễ hẹn"}


def test_a_retry_answers_the_first_answer_and_writes_nothing_again(org, city_reviewer):
    first = post(city_reviewer, RECORD, reminder_body(org.commune_a), key="k-1")
    again = post(city_reviewer, RECORD, reminder_body(org.commune_a), key="k-1")

    assert first.status_code == 201, first.json()
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Reminder.objects.count() == 1
    # Without a key, the same request is a new one (here: the same day twice).
    assert post(city_reviewer, RECORD, reminder_body(org.commune_a)).status_code == 400


def test_the_same_key_for_another_request_is_refused_with_422(org, city_reviewer):
    post(city_reviewer, RECORD, reminder_body(org.commune_a), key="k-1")

    other = post(city_reviewer, RECORD, reminder_body(org.commune_b), key="k-1")

    assert other.status_code == 422
    body = other.json()
    assert body["code"] == "idempotency_key_reused"
    assert set(body) == {"status", "code", "detail", "errors"}
    assert body["errors"] == [
        {"field": None, "code": "idempotency_key_reused", "message": body["detail"]}
    ]
    assert not Reminder.objects.filter(unit=org.commune_b).exists()


def test_a_refusal_keeps_nothing_so_the_corrected_request_may_use_the_key(
    org, city_reviewer
):
    refused = post(city_reviewer, RECORD, {"unit": org.commune_a.code}, key="k-1")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()

    taken = post(city_reviewer, RECORD, reminder_body(org.commune_a), key="k-1")
    assert taken.status_code == 201


def test_keys_are_each_callers_own(org, city_reviewer, leader):
    post(city_reviewer, RECORD, reminder_body(org.commune_a), key="k-1")

    response = post(leader, RECORD, reminder_body(org.commune_b), key="k-1")

    assert response.status_code == 201, response.json()
    assert Reminder.objects.count() == 2


def test_a_key_is_forgotten_after_a_day(org, city_reviewer):
    framework = Framework.objects.create(
        year=2025, unit_kind=UnitKind.COMMUNE, name="Chỉ số", deadline=date(2026, 1, 7)
    )
    AdjustmentRule.objects.create(
        framework=framework,
        code="bao-chi",
        title="Báo chí",
        points_per_case=Decimal(-1),
        position=1,
    )
    body = {
        "framework": framework.pk,
        "unit": org.commune_a.code,
        "rule": "bao-chi",
        "reason": "Đã xác minh",
    }
    assert post(city_reviewer, ENTER, body, key="k-1").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    assert post(city_reviewer, ENTER, body, key="k-1").status_code == 201
    assert Adjustment.objects.count() == 2
    # The fresh key replaced the expired one.
    assert IdempotencyKey.objects.count() == 1


def test_the_beat_deletes_expired_keys(org, city_reviewer):
    post(city_reviewer, RECORD, reminder_body(org.commune_a), key="old")
    post(city_reviewer, RECORD, reminder_body(org.commune_a, "2025-06-03"), key="new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    assert idempotency_keys_expire_task() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "dấu"])
def test_a_malformed_key_is_a_400_naming_the_header(org, city_reviewer, key):
    client = APIClient()
    client.force_authenticate(city_reviewer)
    response = client.post(
        RECORD,
        reminder_body(org.commune_a),
        format="json",
        headers={"Idempotency-Key": key},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Reminder.objects.exists()


def test_a_signature_sent_twice_with_its_file_is_recorded_once(org, commune_staff):
    HeadFactory(unit=org.commune_a)
    commitment = Commitment.objects.create(
        unit=org.commune_a, year=timezone.localdate().year
    )
    Target.objects.create(
        commitment=commitment, indicator=indicator("dung-han"), value=95, position=1
    )
    path = f"/api/v1/commitments/{commitment.pk}/sign/"
    signed_on = date(commitment.year, 1, 2).isoformat()

    def sign(content=b"%PDF-1.4\n%%EOF\n", key="sign-1"):
        body = {"signed_on": signed_on, "scan": scan(content=content)}
        return post(commune_staff, path, body, key=key, format="multipart")

    first = sign()
    assert first.status_code == 200, first.json()
    again = sign()
    assert (again.status_code, again.json()) == (200, first.json())
    # Another file under the same key is another request.
    assert sign(content=b"%PDF-1.4\n% other\n%%EOF\n").status_code == 422
    assert Commitment.objects.get(pk=commitment.pk).state == CommitmentState.SIGNED


def test_two_requests_at_once_write_once(org, city_reviewer, monkeypatch):
    """The second to commit meets the first one's key: its write is rolled
    back and it answers the first answer (as when a request with the same
    key committed between this one's look-up and its own write)."""
    first = post(city_reviewer, RECORD, reminder_body(org.commune_a), key="k-1")
    stored = idempotency._stored
    calls = []

    def not_yet_then_found(*args):
        calls.append(args)
        return None if len(calls) == 1 else stored(*args)

    monkeypatch.setattr(idempotency, "_stored", not_yet_then_found)
    # The first reminder gone, the write would succeed but for the key.
    Reminder.objects.all().delete()
    second = post(city_reviewer, RECORD, reminder_body(org.commune_a), key="k-1")

    assert (second.status_code, second.json()) == (201, first.json())
    assert len(calls) == 2
    assert not Reminder.objects.exists()


def test_the_schema_lists_the_header_and_the_422_on_the_posts_that_create():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    creating = {
        "/api/v1/reminders/",
        "/api/v1/adjustments/",
        "/api/v1/assessments/{id}/contests/",
        "/api/v1/commitments/{id}/targets/",
        "/api/v1/commitments/{id}/sign/",
        "/api/v1/commitments/{id}/countersign/",
        "/api/v1/commitments/{id}/targets/{target_id}/report/",
        "/api/v1/results/{year}/publications/",
    }
    found = {
        path
        for path, item in paths.items()
        if any(
            p["name"] == "Idempotency-Key" and p["in"] == "header"
            for p in item.get("post", {}).get("parameters", [])
        )
    }
    assert found == creating
    for path in creating:
        answer = paths[path]["post"]["responses"]["422"]
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith(
            "/Error"
        )
