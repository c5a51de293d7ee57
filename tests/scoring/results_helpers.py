"""Building blocks for the results tests: assessments scored and approved in
one call, a year's dossier figures, deduction and bonus records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from commitments.organisation.models import Unit
from procedures.models import PeriodKind, UnitMetric
from scoring.assessments import services
from scoring.frameworks import catalogue
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    Assessment,
    AssessmentState,
    Framework,
    Result,
    Score,
    Tier,
)

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
D = Decimal


def add_tiers_and_catalogue(framework: Framework) -> None:
    for code, label, floor in (("A", "Tốt", 90), ("B", "Khá", 80), ("C", "TB", 70)):
        Tier.objects.create(
            framework=framework, code=code, label=label, min_index=floor
        )
    Tier.objects.create(framework=framework, code="D", label="Yếu", min_index=0)
    catalogue.defaults_create(framework)


def scored(
    framework: Framework,
    unit: Unit,
    marks: dict[str, tuple[str | None, str | None]],
    *,
    approved: bool = True,
) -> Assessment:
    """An assessment with (self, appraised) per leaf code, approved."""
    assessment = services.assessment_open(framework=framework, unit=unit)
    for code, (self_score, appraised) in marks.items():
        Score.objects.filter(assessment=assessment, node__code=code).update(
            self_score=self_score,
            appraised_score=appraised,
            appraisal_reason="" if self_score == appraised else "Thiếu tài liệu",
        )
    if approved:
        Assessment.objects.filter(pk=assessment.pk).update(
            state=AssessmentState.APPROVED
        )
    return assessment


def on_time(unit: Unit, year: int, on_time: int, in_scope: int, **counts) -> None:
    UnitMetric.objects.create(
        unit=unit,
        period_kind=PeriodKind.YEAR,
        year=year,
        number=1,
        in_scope=in_scope,
        on_time=on_time,
        late=in_scope - on_time,
        computed_at=NOW,
        **counts,
    )


GOOD = {"1.1.1": ("2", "2"), "1.1.2": ("4", "3"), "2.2": (None, "1.50")}


def result_of(unit: Unit, year: int = 2025) -> Result:
    return Result.objects.get(unit=unit, framework__year=year)


def approve(adjustment: Adjustment) -> None:
    Adjustment.objects.filter(pk=adjustment.pk).update(
        state=AdjustmentState.APPROVED, decided_at=NOW
    )


def record(framework, unit, code, cases=1, state=AdjustmentState.APPROVED):
    rule = AdjustmentRule.objects.get(framework=framework, code=code)
    return Adjustment.objects.create(
        framework=framework,
        unit=unit,
        rule=rule,
        cases=cases,
        points=rule.points_per_case * cases,
        reason="Kết luận thanh tra số 12/KL-TTr",
        state=state,
        entered_at=NOW,
        decided_at=None if state == AdjustmentState.PROPOSED else NOW,
    )
