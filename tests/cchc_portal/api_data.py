"""A small province with something behind every endpoint of the REST API, for
the tests that go over the whole API (the fuzz test and the scoping audit).

Communes A and B of the city each have a commitment of this year with a
target, a case record, a year's figures, an assessment of the 2025 commune
framework, an explanation request and a head's rating. The 2025 results of
A, B and a ward directly under the province (PROV-W, outside the city) are
computed and published; afterwards A's and B's assessments are drafts again,
with the framework open, so that their self scores may be saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from commitments.models import Commitment, CommitmentState, Indicator, Target
from commitments.organisation.models import Head, Role, Unit, UnitKind
from procedures.models import (
    CaseRecord,
    Channel,
    DossierStatus,
    PeriodKind,
    Procedure,
    Reminder,
    UnitMetric,
)
from scoring.assessments import services
from scoring.models import (
    AccountabilityCase,
    Adjustment,
    AdjustmentRule,
    Assessment,
    AssessmentState,
    CaseKind,
    CaseStep,
    ComputationRun,
    Framework,
    FrameworkState,
    HeadRating,
    Method,
    Node,
    NodeLevel,
    Publication,
    RatingLevel,
    RunState,
    Score,
    StepAction,
    Tier,
)
from scoring.results import computation, publication
from tests.factories import (
    HeadFactory,
    MembershipFactory,
    RankingGroupFactory,
    UnitFactory,
    UserFactory,
)

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
RESULTS_YEAR = 2025
OPENED = datetime(2026, 1, 10, 9, 0, tzinfo=LOCAL)


@dataclass
class UnitData:
    """One commune's objects, one per endpoint that lists or shows them."""

    unit: Unit
    head: Head
    commitment: Commitment
    target: Target
    case: CaseRecord
    metric: UnitMetric
    assessment: Assessment
    accountability_case: AccountabilityCase
    rating: HeadRating
    # Set once the results are published (seed).
    reminder: Reminder | None = None
    adjustment: Adjustment | None = None


@dataclass
class ApiData:
    a: UnitData
    b: UnitData
    # A commune under the province, outside the city: the city's reviewer
    # does not review it.
    ward: Unit
    framework: Framework
    run: ComputationRun
    publication: Publication
    rule: AdjustmentRule
    # The ward's deduction: outside the city reviewer's jurisdiction.
    ward_adjustment: Adjustment


def _framework() -> Framework:
    """2025's commune framework: one criterion of two manual leaves (2 and 4
    points) and a survey criterion (2 points); the national tiers."""
    framework = Framework.objects.create(
        year=RESULTS_YEAR,
        unit_kind=UnitKind.COMMUNE,
        name="Chỉ số CCHC cấp xã",
        deadline=date(2026, 1, 7),
    )
    field = Node.objects.create(
        framework=framework,
        level=NodeLevel.FIELD,
        code="1",
        position=0,
        title="Lĩnh vực 1",
        max_points=Decimal(8),
    )
    criterion = Node.objects.create(
        framework=framework,
        parent=field,
        level=NodeLevel.CRITERION,
        code="1.1",
        position=1,
        title="Tiêu chí 1.1",
        max_points=Decimal(6),
    )
    for position, (code, points) in enumerate((("1.1.1", 2), ("1.1.2", 4)), 2):
        Node.objects.create(
            framework=framework,
            parent=criterion,
            level=NodeLevel.SUBCRITERION,
            code=code,
            position=position,
            title=f"Tiêu chí {code}",
            max_points=Decimal(points),
        )
    Node.objects.create(
        framework=framework,
        parent=field,
        level=NodeLevel.CRITERION,
        code="1.2",
        position=4,
        title="Khảo sát",
        max_points=Decimal(2),
        method=Method.SURVEY,
    )
    for code, label, floor in (("A", "Tốt", 90), ("B", "Khá", 80), ("D", "Yếu", 0)):
        Tier.objects.create(
            framework=framework, code=code, label=label, min_index=floor
        )
    return framework


def _approved(framework: Framework, unit: Unit, points: tuple[int, int, int]):
    assessment = services.assessment_open(framework=framework, unit=unit)
    for code, value in zip(("1.1.1", "1.1.2", "1.2"), points, strict=True):
        Score.objects.filter(assessment=assessment, node__code=code).update(
            self_score=value, appraised_score=value
        )
    Assessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.APPROVED)
    return assessment


def _unit_data(unit, framework, procedure, points):
    """One commune's objects (not annotated, like the tests' other helpers
    that call factories: mypy does not see what factory_boy returns)."""
    year = timezone.localdate().year
    head = HeadFactory(unit=unit, full_name=f"Trần Văn {unit.code}", title="Chủ tịch")
    commitment = Commitment.objects.create(
        unit=unit,
        year=year,
        state=CommitmentState.SIGNED,
        head=head,
        signed_on=date(year, 1, 15),
    )
    target = Target.objects.create(
        commitment=commitment,
        indicator=Indicator.objects.get(code="dung-han"),
        value=Decimal(95),
        position=1,
    )
    case = CaseRecord.objects.create(
        case_code=f"{unit.code}/2025/1",
        unit=unit,
        procedure=procedure,
        received_at=datetime(2025, 3, 2, 8, 0, tzinfo=LOCAL),
        due_at=datetime(2025, 3, 10, 17, 0, tzinfo=LOCAL),
        status=DossierStatus.PROCESSING,
        channel=Channel.IN_PERSON,
    )
    metric = UnitMetric.objects.create(
        unit=unit,
        period_kind=PeriodKind.YEAR,
        year=RESULTS_YEAR,
        number=1,
        received=10,
        in_scope=10,
        on_time=9,
        late=1,
        computed_at=OPENED,
    )
    accountability_case = AccountabilityCase.objects.create(
        kind=CaseKind.TWO_YEARS,
        unit=unit,
        year=RESULTS_YEAR,
        head=head,
        opened_at=OPENED,
        updated_at=OPENED,
    )
    CaseStep.objects.create(
        case=accountability_case, action=StepAction.OPENED, at=OPENED
    )
    rating = HeadRating.objects.create(
        unit=unit,
        year=RESULTS_YEAR,
        head=head,
        proposed=RatingLevel.COMPLETED,
        proposed_at=OPENED,
        basis={
            "targets": 1,
            "met": 1,
            "exceeded": 0,
            "tier": "B",
            "repeatedly_late": False,
            "capped": False,
        },
    )
    return UnitData(
        unit=unit,
        head=head,
        commitment=commitment,
        target=target,
        case=case,
        metric=metric,
        assessment=_approved(framework, unit, points),
        accountability_case=accountability_case,
        rating=rating,
    )


def seed(org, reviewer):
    """Everything above, computed and published by the province's reviewer."""
    communes = RankingGroupFactory(code="xa", name="Cấp xã")
    for unit in (org.commune_a, org.commune_b):
        unit.ranking_group = communes
        unit.save()
    ward = UnitFactory(
        code="PROV-W", name="Phường W", parent=org.province, ranking_group=communes
    )
    framework = _framework()
    procedure = Procedure.objects.create(code="P1", name="Đăng ký khai sinh")
    a = _unit_data(org.commune_a, framework, procedure, (2, 3, 2))
    b = _unit_data(org.commune_b, framework, procedure, (1, 4, 2))
    _approved(framework, ward, (2, 4, 2))
    run = computation.compute_now(RESULTS_YEAR)
    assert run.state == RunState.SUCCEEDED, run.error
    published = publication.publish(
        user=reviewer, year=RESULTS_YEAR, run_id=run.pk, now=timezone.now()
    )
    # The computation withdraws an undecided proposal for a head it does not
    # rate (this year's commitment is not the results year's): the ratings
    # the endpoints are tried on are put back as they were made.
    for data in (a, b):
        data.rating.save()
    # A deduction of the catalogue waiting for approval, and a reminder, per
    # commune (and the ward's deduction): entered after the publication, so
    # that they change nothing published.
    rule = AdjustmentRule.objects.create(
        framework=framework,
        code="khieu-nai",
        title="Khiếu nại về nhũng nhiễu được xác minh",
        points_per_case=Decimal(-1),
        position=1,
    )
    for data in (a, b):
        data.reminder = Reminder.objects.create(
            unit=data.unit,
            issued_on=date(RESULTS_YEAR, 6, 2),
            year=RESULTS_YEAR,
            reason="Trễ hẹn",
        )
        data.adjustment = _deduction(framework, rule, data.unit)
    ward_adjustment = _deduction(framework, rule, ward)
    # Open again for self scores: published results are a snapshot.
    Framework.objects.filter(pk=framework.pk).update(
        state=FrameworkState.OPEN, deadline=timezone.localdate() + timedelta(days=10)
    )
    Assessment.objects.filter(pk__in=[a.assessment.pk, b.assessment.pk]).update(
        state=AssessmentState.DRAFT
    )
    return ApiData(
        a=a,
        b=b,
        ward=ward,
        framework=framework,
        run=run,
        publication=published,
        rule=rule,
        ward_adjustment=ward_adjustment,
    )


def _deduction(framework, rule, unit):
    return Adjustment.objects.create(
        framework=framework,
        unit=unit,
        rule=rule,
        points=rule.points_per_case,
        reason="Khiếu nại được xác minh",
        entered_at=OPENED,
    )


def unit_head(unit, head):
    """The account of the unit's head (a unit head sees their own unit's
    objects, their own rating included)."""
    user = UserFactory(username=f"head.{unit.code.lower()}")
    MembershipFactory(user=user, unit=unit, role=Role.UNIT_HEAD)
    head.user = user
    head.save()
    return user
