"""Reads behind the assessment pages: the tree with its running totals, a
metric leaf's value and the figures it came from, what the unit is shown of
the appraisal, what the reviewer changed since the last submission, and a
fixed number of queries whatever the size of the tree."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from procedures.rules import Counts
from scoring.assessments import selectors, services
from scoring.models import Method, Node, NodeLevel, Score
from tests.scoring.assessments.test_views import (
    approve,
    opened,
    save_self,
    submit,
)
from tests.wording import vi


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_assessment(assessment, framework):
    return opened(assessment, framework)


def leaf(**extra) -> Node:
    defaults = {
        "code": "9.9",
        "title": "Tỷ lệ",
        "level": NodeLevel.CRITERION,
        "max_points": Decimal(2),
        "method": Method.METRIC,
        "metric": "on_time_rate",
        "scoring": "linear",
        "scoring_params": {"full_at": 100},
    }
    return Node(**{**defaults, **extra})


def test_no_figures_is_no_data_and_no_points():
    value = selectors.metric_value(leaf(), None, 2025)
    assert value.no_data
    assert value.points is None
    assert value.counts == []


def test_a_zero_denominator_is_no_data_too():
    value = selectors.metric_value(leaf(), Counts(received=0, in_scope=0), 2025)
    assert value.no_data
    assert value.points is None


def test_the_rate_gives_the_points_by_the_leafs_function():
    counts = Counts(received=50, in_scope=50, on_time=45, late=5)
    linear = selectors.metric_value(leaf(), counts, 2025)
    assert (linear.rate, linear.points) == (Decimal("90.00"), Decimal("1.80"))
    assert linear.counts == [(vi("On time"), 45), (vi("In scope"), 50)]
    assert linear.lists_late
    banded = selectors.metric_value(
        leaf(scoring="banded", scoring_params={"bands": [[95, 1], [80, 0.5]]}),
        counts,
        2025,
    )
    assert banded.points == Decimal("1.00")


def test_each_rate_shows_the_counts_it_is_made_of():
    counts = Counts(
        received=40, in_scope=40, on_time=40, digitized=30, complaint_or_dissatisfied=2
    )
    digitised = selectors.metric_value(leaf(metric="digitization_rate"), counts, 2025)
    assert digitised.rate == Decimal("75.00")
    assert [value for _label, value in digitised.counts] == [30, 40]
    assert not digitised.lists_late
    satisfaction = selectors.metric_value(
        leaf(metric="satisfaction_rate"), counts, 2025
    )
    assert [value for _label, value in satisfaction.counts] == [0, 40, 2, 40]
    assert satisfaction.lists_late


@pytest.mark.parametrize(
    ("scoring", "params"),
    [
        ("", {}),
        ("banded", {}),
        ("linear", {"full_at": 0}),
        ("linear", {"full_at": "x"}),
    ],
)
def test_unusable_scoring_parameters_are_flagged_not_raised(scoring, params):
    counts = Counts(received=10, in_scope=10, on_time=10)
    value = selectors.metric_value(
        leaf(scoring=scoring, scoring_params=params), counts, 2025
    )
    assert value.unusable
    assert value.points is None


def test_the_unit_sees_survey_points_and_appraisal_once_approved(
    open_assessment, commune_staff, commune_head, city_reviewer, leader
):
    """Not while Home Affairs is still appraising; once approved, the unit
    sees its result (issue 18, item 3), and still once the results are
    shown."""
    assessment = submit(open_assessment, commune_staff, commune_head)
    assert not selectors.shows_appraisal(commune_staff, assessment)
    assert selectors.shows_appraisal(city_reviewer, assessment)
    assert selectors.shows_appraisal(leader, assessment)
    survey = Score.objects.get(assessment=assessment, node__code="2.2")
    services.score_appraise(
        user=city_reviewer,
        score_id=survey.pk,
        appraised_score="1.5",
        reason="Điều tra xã hội học",
        version=survey.version,
    )
    during = selectors.assessment_sheet(assessment=assessment, user=commune_staff)
    # 2 + 3.5 self-scored; the survey's 1.5 not shown while appraising.
    assert during.self_total == Decimal("5.50")
    approved = approve(assessment, city_reviewer)
    own = selectors.assessment_sheet(assessment=approved, user=commune_staff)
    assert own.shows_appraisal
    assert own.self_total == Decimal("7.00")
    assert own.appraised_total == Decimal("7.00")
    services.provisional_results_open(
        user=city_reviewer, framework=approved.framework, today=timezone.localdate()
    )
    approved.refresh_from_db()
    shown = selectors.assessment_sheet(assessment=approved, user=commune_staff)
    assert shown.shows_appraisal
    assert shown.self_total == Decimal("7.00")
    assert shown.appraised_total == Decimal("7.00")


def test_totals_are_capped_at_each_nodes_maximum(open_assessment, commune_staff):
    # The field's maximum is below the sum of its leaves' maxima.
    Node.objects.filter(framework=open_assessment.framework, code="1.1").update(
        max_points=5
    )
    save_self(open_assessment, commune_staff, "1.1.1", "2")
    save_self(open_assessment, commune_staff, "1.1.2", "4")
    sheet = selectors.assessment_sheet(assessment=open_assessment, user=commune_staff)
    points = {row.node.code: row.self_points for row in sheet.rows}
    assert points["1.1"] == Decimal(5)
    assert points["1"] == Decimal(5)


def test_the_reviewers_changes_since_the_last_submission(
    open_assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submit(open_assessment, commune_staff, commune_head)
    assert selectors.reviewer_changes(assessment) == {}
    s = Score.objects.get(assessment=assessment, node__code="1.1.2")
    services.score_appraise(
        user=city_reviewer,
        score_id=s.pk,
        appraised_score="2",
        reason="Thiếu báo cáo quý IV",
        version=s.version,
    )
    changes = selectors.reviewer_changes(assessment)
    assert list(changes) == [s.pk]
    assert [(c.old, c.new) for c in changes[s.pk]] == [
        ("—", "2,00"),
        ("—", "Thiếu báo cáo quý IV"),
    ]


def test_the_sheet_runs_the_same_queries_for_4_or_44_leaves(
    open_assessment, commune_staff, framework
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            sheet = selectors.assessment_sheet(
                assessment=open_assessment, user=commune_staff
            )
            assert all(row.score for row in sheet.leaves)
        return len(queries)

    count()  # the first read also loads the user's memberships, once
    few = count()
    criterion = Node.objects.get(framework=framework, code="1.1")
    criterion.max_points = Decimal(46)
    criterion.save()
    for i in range(40):
        Node.objects.create(
            framework=framework,
            parent=criterion,
            level=NodeLevel.SUBCRITERION,
            code=f"1.1.{i + 10}",
            position=100 + i,
            title=f"Mục {i}",
            max_points=1,
            evidence_required=True,
        )
    services.assessment_open(framework=framework, unit=open_assessment.unit)
    for s in Score.objects.filter(assessment=open_assessment)[:20]:
        Score.objects.filter(pk=s.pk).update(self_score=0)
    assert (
        len(
            selectors.assessment_sheet(
                assessment=open_assessment, user=commune_staff
            ).leaves
        )
        == 44
    )
    assert count() == few
