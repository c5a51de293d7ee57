"""A whole year's cycle driven over the REST API alone, as another system
(a province's document-management or scoring tool) would drive it: every
workflow step is an HTTP call with a token, through DRF's APIClient. Only the
setting up is done with factories: the units, people and their tokens, the
year's framework opened with the commune's assessment, and the commune's
commitment of the year before, judged missed.

    commitment adjusted, signed (the scan), counter-signed
    → self-assessment (leaves answered) → submitted → appraised → approved
    → a deduction entered and approved by another reviewer
    → the manual target reported and checked
    → computation (the commitments judged: missed two years running opens
      a case) → publication
    → the case explained and decided → the head's rating decided"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from commitments.models import Commitment, CommitmentState, Indicator, IndicatorKind
from commitments.organisation.models import Role
from scoring.assessments import services as assessments
from scoring.models import (
    AccountabilityState,
    AdjustmentRule,
    AssessmentState,
    CaseStep,
    Framework,
    FrameworkState,
    HeadRating,
    RatingLevel,
    StepAction,
)
from tests.cchc_portal.api_data import RESULTS_YEAR, _framework
from tests.commitments.helpers import scan
from tests.conftest import member
from tests.factories import HeadFactory, RankingGroupFactory

YEAR = RESULTS_YEAR


def caller(user) -> APIClient:
    """A client with the user's token, as an outside system holds it."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user)}")
    return client


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    return response.json() if response.content else {}


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def province(org, commune_staff, commune_head, city_reviewer, reviewer):
    """The commune's head in office since 2020 (the commune head's login),
    the city's chairman, the year's framework open with commune A's
    assessment, a deduction in its catalogue, and A's commitment of the year
    before: judged missed."""
    communes = RankingGroupFactory(code="xa", name="Cấp xã")
    for unit in (org.commune_a, org.commune_b):
        unit.ranking_group = communes
        unit.save()
    head = HeadFactory(unit=org.commune_a, full_name="Trần Văn Đứng", user=commune_head)
    framework = _framework()
    Framework.objects.filter(pk=framework.pk).update(
        state=FrameworkState.OPEN,
        deadline=timezone.localdate() + timedelta(days=10),
        contest_days=10,
    )
    assessment = assessments.assessment_open(framework=framework, unit=org.commune_a)
    AdjustmentRule.objects.create(
        framework=framework,
        code="bao-chi",
        title="Báo chí phản ánh đúng sự thật",
        points_per_case=-1,
        position=1,
    )
    Commitment.objects.create(
        unit=org.commune_a,
        year=YEAR - 1,
        state=CommitmentState.COUNTERSIGNED,
        head=head,
        signed_on=date(YEAR - 1, 1, 10),
        met=False,
        evaluated_at=timezone.now(),
    )
    draft = Commitment.objects.create(unit=org.commune_a, year=YEAR)
    return {
        "staff": caller(commune_staff),
        "head": caller(commune_head),
        "city_reviewer": caller(city_reviewer),
        "province_reviewer": caller(reviewer),
        "city_leader": caller(member("leader.city", org.city, Role.LEADER)),
        "assessment": assessment.pk,
        "commitment": draft.pk,
    }


def test_a_whole_cycle_over_the_api_alone(province, django_capture_on_commit_callbacks):
    p = province
    staff, head = p["staff"], p["head"]
    city_reviewer, province_reviewer = p["city_reviewer"], p["province_reviewer"]
    leader = p["city_leader"]
    commitment = f"/api/v1/commitments/{p['commitment']}/"
    assessment = f"/api/v1/assessments/{p['assessment']}/"

    # --- the commitment: adjusted, signed with the scan, counter-signed ----------
    manual = Indicator.objects.filter(kind=IndicatorKind.MANUAL).order_by("code")[0]
    target = ok(
        staff.post(
            commitment + "targets/",
            {"indicator": manual.code, "value": "100"},
            format="json",
        ),
        201,
    )
    ok(
        staff.post(
            commitment + "sign/",
            {"signed_on": f"{YEAR}-01-15", "scan": scan()},
            format="multipart",
        )
    )
    signed = ok(
        leader.post(
            commitment + "countersign/",
            {"countersigned_on": f"{YEAR}-01-20", "signer_name": "Lê Văn Trên"},
            format="json",
        )
    )
    assert signed["state"] == CommitmentState.COUNTERSIGNED

    # --- the self-assessment: every self-scored leaf answered, then submitted ----
    sheet = ok(staff.get(assessment))
    versions = {leaf["code"]: leaf["version"] for leaf in sheet["scores"]}
    for code, value in (("1.1.1", "2"), ("1.1.2", "3")):
        ok(
            staff.patch(
                assessment + f"scores/{code}/",
                {"self_score": value, "version": versions[code]},
                format="json",
            )
        )
    assert ok(head.post(assessment + "submit/"))["state"] == AssessmentState.SUBMITTED

    # --- appraisal and approval -------------------------------------------------
    accepted = ok(
        city_reviewer.post(
            assessment + "appraisals/accept-self/",
            {"node_codes": ["1.1.1", "1.1.2"]},
            format="json",
        )
    )
    assert accepted == {"changed": 2, "kept": []}
    survey = next(
        leaf
        for leaf in ok(city_reviewer.get(assessment))["scores"]
        if leaf["code"] == "1.2"
    )
    ok(
        city_reviewer.patch(
            assessment + "appraisals/1.2/",
            {
                "appraised_score": "1.5",
                "reason": "Khảo sát",
                "version": survey["version"],
            },
            format="json",
        )
    )
    approved = ok(city_reviewer.post(assessment + "approve/"))
    assert approved["state"] == AssessmentState.APPROVED

    # --- a deduction: entered by one reviewer, approved by another ----------------
    framework_id = ok(staff.get(assessment))["framework"]
    entered = ok(
        city_reviewer.post(
            "/api/v1/adjustments/",
            {
                "framework": framework_id,
                "unit": "CITY-A",
                "rule": "bao-chi",
                "reason": "Báo chí phản ánh, đã xác minh",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="deduction-cyc-1",
        ),
        201,
    )
    decided = ok(
        province_reviewer.post(
            f"/api/v1/adjustments/{entered['id']}/decision/",
            {"approve": True},
            format="json",
        )
    )
    assert decided["state"] == "approved"

    # --- the manual target: reported by the unit, checked by the reviewer ---------
    target_path = commitment + f"targets/{target['id']}/"
    ok(staff.post(target_path + "report/", {"value": "80"}, format="json"))
    checked = ok(
        city_reviewer.post(target_path + "check/", {"accept": True}, format="json")
    )
    assert checked["check_state"] == "accepted"

    # --- computation and publication ----------------------------------------------
    with django_capture_on_commit_callbacks(execute=True):
        run = ok(province_reviewer.post(f"/api/v1/results/{YEAR}/runs/"), 202)
    run = ok(province_reviewer.get(run["links"]["run"]))
    assert run["state"] == "succeeded", run
    published = ok(
        province_reviewer.post(
            f"/api/v1/results/{YEAR}/publications/",
            {"run": run["id"], "note": "Quyết định công bố"},
            format="json",
        ),
        201,
    )
    assert (published["version"], published["verified"]) == (1, True)
    ranking = ok(staff.get(f"/api/v1/results/{YEAR}/"))
    row = next(r for r in ranking["results"] if r["unit_code"] == "CITY-A")
    # (2 + 3 + 1.5 − 1) of 8 points.
    assert row["index"] == "68.75"

    # --- the commitments judged: missed two years running opens a case ------------
    judged = ok(staff.get(commitment))
    assert judged["met"] is False
    cases = ok(head.get("/api/v1/accountability-cases/", {"year": YEAR}))["results"]
    assert [case["kind"] for case in cases] == ["two_years"]
    case = f"/api/v1/accountability-cases/{cases[0]['id']}/"
    explained = ok(
        head.post(
            case + "explanation/",
            {"explanation": "Chưa có phần mềm một cửa."},
            format="json",
        )
    )
    assert explained["state"] == AccountabilityState.EXPLAINED
    decided = ok(
        leader.post(
            case + "decision/",
            {
                "decision": "mitigated",
                "ground": "objective",
                "reason": "Nguyên nhân khách quan.",
            },
            format="json",
        )
    )
    assert decided["state"] == AccountabilityState.DECIDED
    assert [step["action"] for step in decided["steps"]] == [
        StepAction.OPENED,
        StepAction.EXPLAINED,
        StepAction.DECIDED,
    ]

    # --- the head's rating --------------------------------------------------------
    ratings = ok(leader.get("/api/v1/head-ratings/", {"year": YEAR}))["results"]
    (rating,) = ratings
    assert rating["proposed"]["value"] == RatingLevel.NOT_COMPLETED
    rated = ok(
        leader.post(
            f"/api/v1/head-ratings/{rating['id']}/decision/",
            {"level": RatingLevel.NOT_COMPLETED},
            format="json",
        )
    )
    assert rated["final"]["value"] == RatingLevel.NOT_COMPLETED

    # Every step was taken by the person the pages would have asked.
    assert CaseStep.objects.get(action=StepAction.DECIDED).by.username == "leader.city"
    assert HeadRating.objects.get().rated_by.username == "leader.city"
