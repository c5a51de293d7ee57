"""A commitment's workflow over the API (commitments.api.actions): each step
through the same service as its page, refused to the wrong role (403), out
of scope (404), in the wrong state or with wrong input (400, the one error
body naming the field)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    Indicator,
    IndicatorKind,
    Target,
)
from commitments.organisation.models import Role
from scoring.models import Notice
from tests.commitments.helpers import PDF, indicator, scan
from tests.conftest import member
from tests.factories import HeadFactory


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def url(commitment: Commitment, rest: str = "") -> str:
    return f"/api/v1/commitments/{commitment.pk}/{rest}"


def post(user, path: str, body: dict):
    return api(user).post(path, body, format="json")


def sign(user, commitment: Commitment, body: dict):
    return api(user).post(url(commitment, "sign/"), body, format="multipart")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def _draft(unit) -> Commitment:
    commitment = Commitment.objects.create(unit=unit, year=timezone.localdate().year)
    Target.objects.create(
        commitment=commitment,
        indicator=indicator("dung-han"),
        value=Decimal(95),
        position=1,
    )
    Target.objects.create(
        commitment=commitment,
        indicator=_manual(),
        value=Decimal(100),
        position=2,
    )
    return commitment


def _manual():
    return Indicator.objects.filter(kind=IndicatorKind.MANUAL).order_by("code")[0]


@pytest.fixture
def draft(org):
    HeadFactory(unit=org.commune_a, full_name="Trần Văn A")
    return _draft(org.commune_a)


@pytest.fixture
def other_draft(org):
    HeadFactory(unit=org.commune_b)
    return _draft(org.commune_b)


def _signed(commitment: Commitment, recorded_by=None) -> Commitment:
    Commitment.objects.filter(pk=commitment.pk).update(
        state=CommitmentState.SIGNED,
        head=commitment.unit.heads.first(),
        signed_on=date(timezone.localdate().year, 1, 2),
        signing_recorded_by=recorded_by,
    )
    commitment.refresh_from_db()
    return commitment


def manual_target(commitment: Commitment) -> Target:
    return commitment.targets.get(indicator__kind=IndicatorKind.MANUAL)


def metric_target(commitment: Commitment) -> Target:
    return commitment.targets.get(indicator__code="dung-han")


def sign_body(**extra):
    return {
        "signed_on": date(timezone.localdate().year, 1, 2).isoformat(),
        "scan": scan(),
        **extra,
    }


# --- adjusting the draft ------------------------------------------------------------


def test_the_unit_adds_changes_and_removes_targets_of_its_draft(draft, commune_staff):
    other = "so-hoa"
    response = api(commune_staff).post(
        url(draft, "targets/"),
        {"indicator": other, "value": "80", "deadline": "30/09/" + str(draft.year)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["indicator"]["code"] == other
    assert (body["value"], body["mandatory"]) == ("80.00", True)
    target = Target.objects.get(pk=body["id"])
    assert target.deadline == date(draft.year, 9, 30)
    # Who changed it, in the history, as the page writes it.
    assert target.history.latest().history_user == commune_staff

    response = api(commune_staff).patch(
        url(draft, f"targets/{target.pk}/"), {"value": "85"}, format="json"
    )
    assert response.status_code == 200, response.json()
    target.refresh_from_db()
    assert (target.value, target.deadline) == (Decimal(85), date(draft.year, 9, 30))

    # A mandatory target is Home Affairs' to remove, with the reason.
    response = api(commune_staff).delete(url(draft, f"targets/{target.pk}/"))
    assert response.status_code == 400
    assert Target.objects.filter(pk=target.pk).exists()


def test_home_affairs_removes_a_mandatory_target_saying_why(draft, city_reviewer):
    target = metric_target(draft)

    refused = api(city_reviewer).delete(url(draft, f"targets/{target.pk}/"))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "reason"

    response = api(city_reviewer).delete(
        url(draft, f"targets/{target.pk}/") + "?reason=Không phù hợp"
    )
    assert response.status_code == 204
    assert not Target.objects.filter(pk=target.pk).exists()
    removal = Target.history.filter(id=target.pk, history_type="-").get()
    assert removal.history_change_reason == "Không phù hợp"


def test_only_home_affairs_makes_a_target_optional(draft, commune_staff, city_reviewer):
    body = {
        "indicator": "so-hoa",
        "value": "50",
        "mandatory": False,
        "optional_reason": "Chưa có phần mềm",
    }
    refused = api(commune_staff).post(url(draft, "targets/"), body, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    taken = api(city_reviewer).post(url(draft, "targets/"), body, format="json")
    assert taken.status_code == 201, taken.json()
    assert taken.json()["optional_reason"] == "Chưa có phần mềm"


def test_adjusting_names_the_field_at_fault_and_writes_nothing(draft, commune_staff):
    before = list(draft.targets.values_list("pk", "value"))
    for body, field in (
        ({"indicator": "no-such", "value": "80"}, "indicator"),
        ({"indicator": "so-hoa", "value": "101"}, "value"),
        ({"indicator": "dung-han", "value": "80"}, "indicator"),
        ({"indicator": "so-hoa", "value": "80", "deadline": "2001-01-01"}, "deadline"),
    ):
        response = api(commune_staff).post(url(draft, "targets/"), body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert response.json()["errors"][0]["field"] == field, response.json()
    assert list(draft.targets.values_list("pk", "value")) == before


def test_leaders_do_not_adjust_and_another_unit_is_not_found(
    draft, other_draft, leader, commune_staff
):
    target = metric_target(draft)
    response = api(leader).patch(
        url(draft, f"targets/{target.pk}/"), {"value": "1"}, format="json"
    )
    assert response.status_code == 403
    other = metric_target(other_draft)
    for response in (
        api(commune_staff).post(
            url(other_draft, "targets/"),
            {"indicator": "so-hoa", "value": "1"},
            format="json",
        ),
        api(commune_staff).patch(
            url(other_draft, f"targets/{other.pk}/"), {"value": "1"}, format="json"
        ),
        api(commune_staff).delete(url(other_draft, f"targets/{other.pk}/")),
        # A's commitment, B's target: not found either.
        api(commune_staff).patch(
            url(draft, f"targets/{other.pk}/"), {"value": "1"}, format="json"
        ),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert metric_target(other_draft).value == Decimal(95)


# --- signing ------------------------------------------------------------------------


def test_the_unit_records_the_heads_signature_with_the_scan(draft, commune_staff):
    response = api(commune_staff).post(
        url(draft, "sign/"), sign_body(), format="multipart"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == CommitmentState.SIGNED
    assert body["head"]["name"] == "Trần Văn A"
    draft.refresh_from_db()
    assert draft.scan.read() == PDF
    assert draft.signing_recorded_by == commune_staff


def test_signing_refuses_a_bad_scan_and_a_date_in_the_future(draft, commune_staff):
    for body, field in (
        (sign_body(scan=scan("x.pdf", b"not a pdf at all")), "scan"),
        (sign_body(signed_on=date(draft.year + 1, 1, 2).isoformat()), "signed_on"),
        ({"signed_on": "02/01/2020"}, "scan"),
    ):
        response = api(commune_staff).post(
            url(draft, "sign/"), body, format="multipart"
        )
        assert response.status_code == 400, response.json()
        assert field in {e["field"] for e in response.json()["errors"]}
    assert Commitment.objects.get(pk=draft.pk).state == CommitmentState.DRAFT


def test_signing_below_last_years_result_needs_acknowledging(
    draft, commune_staff, monkeypatch
):
    target = metric_target(draft)
    monkeypatch.setattr(
        "commitments.progress.below_last_year",
        lambda commitment: [(target, Decimal(99))],
    )
    refused = api(commune_staff).post(
        url(draft, "sign/"), sign_body(), format="multipart"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "acknowledge"
    taken = api(commune_staff).post(
        url(draft, "sign/"), sign_body(acknowledge="true"), format="multipart"
    )
    assert taken.status_code == 200, taken.json()


def test_signing_is_refused_to_leaders_and_out_of_scope(
    draft, other_draft, leader, commune_staff
):
    assert (
        api(leader)
        .post(url(draft, "sign/"), sign_body(), format="multipart")
        .status_code
        == 403
    )
    response = api(commune_staff).post(
        url(other_draft, "sign/"), sign_body(), format="multipart"
    )
    assert response.status_code == 404
    assert Commitment.objects.get(pk=other_draft.pk).state == CommitmentState.DRAFT


def test_the_level_above_countersigns_never_the_signer(
    draft, commune_staff, city_reviewer, leader
):
    _signed(draft, recorded_by=city_reviewer)
    body = {
        "countersigned_on": timezone.localdate().isoformat(),
        "signer_name": "Lê Văn Trên",
    }
    assert (
        api(commune_staff)
        .post(url(draft, "countersign/"), body, format="json")
        .status_code
        == 403
    )
    own = api(city_reviewer).post(url(draft, "countersign/"), body, format="json")
    assert own.status_code == 400
    assert "another account" in own.json()["detail"]
    missing = api(leader).post(
        url(draft, "countersign/"), {"countersigned_on": "2000-01-01"}, format="json"
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "signer_name"
    response = api(leader).post(url(draft, "countersign/"), body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == CommitmentState.COUNTERSIGNED
    assert response.json()["countersigned"]["name"] == "Lê Văn Trên"
    # The unit is told, as the page's counter-signature tells it.
    assert Notice.objects.filter(user=commune_staff).exists()


def test_countersigning_another_jurisdiction_is_not_found(org, other_draft):

    outsider = member("reviewer.dep", org.department, Role.REVIEWER)
    _signed(other_draft)
    response = api(outsider).post(
        url(other_draft, "countersign/"),
        {"countersigned_on": timezone.localdate().isoformat(), "signer_name": "X"},
        format="json",
    )
    assert response.status_code == 404


# --- manual indicators --------------------------------------------------------------


def test_the_unit_reports_and_a_reviewer_checks(draft, commune_staff, city_reviewer):
    _signed(draft)
    target = manual_target(draft)
    response = api(commune_staff).post(
        url(draft, f"targets/{target.pk}/report/"),
        {"value": "90", "note": "Đã làm"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["reported_value"] == "90.00"
    assert response.json()["check_state"] == CheckState.PENDING

    refused = api(city_reviewer).post(
        url(draft, f"targets/{target.pk}/check/"), {"accept": False}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "note"
    response = api(city_reviewer).post(
        url(draft, f"targets/{target.pk}/check/"), {"accept": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    target.refresh_from_db()
    assert (target.check_state, target.checked_by) == (
        CheckState.ACCEPTED,
        city_reviewer,
    )


def test_reporting_and_checking_are_refused_to_the_wrong_role_and_scope(
    draft, other_draft, commune_staff, city_reviewer, other_commune_staff
):
    _signed(draft)
    target = manual_target(draft)
    report = url(draft, f"targets/{target.pk}/report/")
    check = url(draft, f"targets/{target.pk}/check/")
    assert (
        api(city_reviewer).post(report, {"value": "1"}, format="json").status_code
        == 403
    )
    Target.objects.filter(pk=target.pk).update(
        reported_value=Decimal(80), check_state=CheckState.PENDING
    )
    assert (
        api(commune_staff).post(check, {"accept": True}, format="json").status_code
        == 403
    )
    assert (
        api(other_commune_staff).post(report, {"value": "1"}, format="json").status_code
        == 404
    )
    bad = api(commune_staff).post(report, {"value": "-1"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "value"
    assert Target.objects.get(pk=target.pk).reported_value == Decimal(80)
