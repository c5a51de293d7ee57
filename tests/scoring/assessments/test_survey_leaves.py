"""Survey leaves and the year's imported survey figures (issue 17, item 12):
a unit with an imported figure has its survey leaves scored from it, so
nobody enters, appraises or contests them and approval does not wait for
them; a unit without one keeps the reviewer's entry, which approval asks
for, with the case records' satisfaction rate shown as a guide. The same
for every kind of unit that has a framework."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from commitments.organisation.models import UnitKind
from scoring.assessments import selectors, services
from scoring.models import (
    Assessment,
    AssessmentState,
    Score,
    SurveyFigure,
    SurveySource,
)
from scoring.results import computation
from tests.scoring.results_helpers import on_time, result_of
from tests.wording import vi

NOW = datetime(2026, 2, 2, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def figure(unit, rate, source=SurveySource.SIPAS, year=2025):
    return SurveyFigure.objects.create(
        year=year, unit=unit, source=source, rate=Decimal(rate), imported_at=NOW
    )


def submitted(framework, unit) -> Assessment:
    """The unit's assessment submitted, its manual leaves appraised as
    self-scored: only the survey leaf (2.2) is left to the reviewer."""
    assessment = services.assessment_open(framework=framework, unit=unit)
    Score.objects.filter(assessment=assessment, node__code="1.1.1").update(
        self_score=2, appraised_score=2
    )
    Score.objects.filter(assessment=assessment, node__code="1.1.2").update(
        self_score=3, appraised_score=3
    )
    Assessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.SUBMITTED)
    assessment.refresh_from_db()
    return assessment


def survey_leaf(assessment) -> Score:
    return Score.objects.get(assessment=assessment, node__code="2.2")


KINDS = [
    (UnitKind.COMMUNE, "commune_a"),
    (UnitKind.DISTRICT, "city"),
    (UnitKind.DEPARTMENT, "department"),
]


@pytest.mark.parametrize(("kind", "unit_name"), KINDS)
def test_with_a_figure_approval_does_not_wait_for_the_survey_leaves(
    framework, org, reviewer, kind, unit_name
):
    framework.unit_kind = kind
    framework.save()
    unit = getattr(org, unit_name)
    assessment = submitted(framework, unit)
    figure(unit, "87.50")
    approved = services.assessment_approve(
        user=reviewer, assessment=assessment, now=NOW
    )
    assert approved.state == AssessmentState.APPROVED
    assert survey_leaf(assessment).appraised_score is None


@pytest.mark.parametrize(("kind", "unit_name"), KINDS)
def test_without_a_figure_approval_asks_for_the_reviewers_entry(
    framework, org, reviewer, kind, unit_name
):
    framework.unit_kind = kind
    framework.save()
    unit = getattr(org, unit_name)
    assessment = submitted(framework, unit)
    figure(unit, "90", year=2024)  # another year's figure feeds nothing here
    with pytest.raises(ValidationError) as refused:
        services.assessment_approve(user=reviewer, assessment=assessment, now=NOW)
    assert refused.value.messages == ["Not yet appraised: 2.2."]
    leaf = survey_leaf(assessment)
    services.score_appraise(
        user=reviewer,
        score_id=leaf.pk,
        appraised_score="1.5",
        reason="Kết quả điều tra xã hội học",
        version=leaf.version,
    )
    approved = services.assessment_approve(
        user=reviewer, assessment=assessment, now=NOW
    )
    assert approved.state == AssessmentState.APPROVED


@pytest.mark.parametrize(("kind", "unit_name"), KINDS)
def test_the_index_takes_the_figure_or_else_the_reviewers_entry(
    year, org, reviewer, kind, unit_name
):
    """Same rule for every kind: SIPAS 80% of 2 points → 1.60 whatever was
    entered; without a figure, the entry (1.50)."""
    year.unit_kind = kind
    year.save()
    unit = getattr(org, unit_name)
    assessment = submitted(year, unit)
    Score.objects.filter(pk=survey_leaf(assessment).pk).update(appraised_score="1.5")
    Assessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.APPROVED)
    computation.compute_now(2025)
    result = result_of(unit)
    assert result.detail["leaves"]["2.2"]["p"] == "1.50"
    assert "sv" not in result.detail["leaves"]["2.2"]
    figure(unit, "80")
    computation.compute_now(2025)
    result = result_of(unit)
    assert result.detail["leaves"]["2.2"]["p"] == "1.60"
    assert result.detail["leaves"]["2.2"]["sv"]["source"] == "sipas"


def test_a_survey_leaf_fed_by_a_figure_is_not_appraised_by_hand(
    framework, org, reviewer
):
    assessment = submitted(framework, org.commune_a)
    figure(org.commune_a, "70", source=SurveySource.PORTAL)
    leaf = survey_leaf(assessment)
    with pytest.raises(ValidationError) as refused:
        services.score_appraise(
            user=reviewer,
            score_id=leaf.pk,
            appraised_score="1",
            reason="",
            version=leaf.version,
        )
    assert "imported survey figure" in refused.value.messages[0]
    assert survey_leaf(assessment).appraised_score is None


def test_the_unit_contests_neither_a_figure_nor_a_computed_leaf(
    framework, org, commune_staff
):
    assessment = submitted(framework, org.commune_a)
    Assessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.APPROVED, contest_until=date(2026, 3, 1)
    )
    figure(org.commune_a, "70")
    for code in ("2.2", "2.1"):
        leaf = Score.objects.get(assessment=assessment, node__code=code)
        with pytest.raises(ValidationError):
            services.contest_raise(
                user=commune_staff,
                score_id=leaf.pk,
                requested_score="2",
                reason="Chưa đúng",
                now=NOW,
                today=date(2026, 2, 20),
            )
    manual = Score.objects.get(assessment=assessment, node__code="1.1.2")
    contest = services.contest_raise(
        user=commune_staff,
        score_id=manual.pk,
        requested_score="4",
        reason="Đủ tài liệu",
        now=NOW,
        today=date(2026, 2, 20),
    )
    assert contest.pk is not None


def test_the_sheet_counts_only_leaves_appraised_by_hand(framework, org, reviewer):
    """Two manual leaves and the survey leaf without a figure (3 to
    appraise); with SIPAS 75%, the survey leaf gives 1.50 of 2 and only
    the two manual leaves are left to appraise."""
    assessment = submitted(framework, org.commune_a)
    sheet = selectors.assessment_sheet(assessment=assessment, user=reviewer)
    assert (sheet.to_appraise, sheet.appraised) == (3, 2)
    figure(org.commune_a, "75")
    sheet = selectors.assessment_sheet(assessment=assessment, user=reviewer)
    assert (sheet.to_appraise, sheet.appraised) == (2, 2)
    row = next(row for row in sheet.leaves if row.node.code == "2.2")
    assert row.survey is not None
    assert row.survey_points == Decimal("1.50")
    # 2 + 3 appraised, 1.50 from the figure; the metric leaf has no data.
    assert sheet.appraised_total == Decimal("6.50")


def test_the_queue_counts_only_leaves_appraised_by_hand(framework, org, reviewer):
    a = submitted(framework, org.commune_a)
    b = submitted(framework, org.commune_b)
    figure(org.commune_a, "75")
    queue = {x.pk: x for x in selectors.assessment_queue(user=reviewer)}
    assert (queue[a.pk].to_appraise, queue[a.pk].appraised) == (2, 2)
    assert (queue[b.pk].to_appraise, queue[b.pk].appraised) == (3, 2)
    # A page of the queue counts its scores apart (selectors.queue_page):
    # the same figures.
    page = selectors.queue_page(
        user=reviewer, filters=selectors.QueueFilters(), number=1, per_page=10
    )
    shown = {x.pk: x for x in page}
    for pk in (a.pk, b.pk):
        assert [
            (x.leaves, x.manual_leaves, x.self_scored, x.to_appraise, x.appraised)
            for x in (shown[pk], queue[pk])
        ] == [
            (
                queue[pk].leaves,
                queue[pk].manual_leaves,
                queue[pk].self_scored,
                queue[pk].to_appraise,
                queue[pk].appraised,
            )
        ] * 2


def test_the_appraisal_page_says_where_the_survey_points_come_from(
    client, framework, org, reviewer
):
    with_figure = submitted(framework, org.commune_a)
    without = submitted(framework, org.commune_b)
    figure(org.commune_a, "75")
    # The case records of B: 95 of 100 dossiers without a complaint, none
    # overdue: 95% satisfaction, 1.90 of the leaf's 2 points.
    on_time(org.commune_b, 2025, 100, 100, received=100, complaint_or_dissatisfied=5)
    client.force_login(reviewer)
    page = client.get(reverse("assessment_appraise", args=[with_figure.pk]))
    leaf = page.content.decode().split('data-code="2.2"')[1].split("</section>")[0]
    assert 'data-testid="survey-not-appraised"' in leaf
    assert 'name="appraised_score"' not in leaf
    page = client.get(reverse("assessment_appraise", args=[without.pk]))
    leaf = page.content.decode().split('data-code="2.2"')[1].split("</section>")[0]
    assert 'name="appraised_score"' in leaf
    assert 'data-testid="survey-estimate"' in leaf
    assert "95,00%" in leaf
    assert "1,90" in leaf


def test_the_appraisal_page_in_vietnamese(client, framework, org, reviewer):
    assessment = submitted(framework, org.commune_a)
    figure(org.commune_a, "75")
    client.force_login(reviewer)
    page = client.get(reverse("assessment_appraise", args=[assessment.pk]))
    expected = vi(
        "%(points)s points from the imported survey figure: not appraised by hand."
    )
    assert expected.replace("%(points)s", "1,50") in page.content.decode()
