"""Closing the cycle after the deadline (issue 17, item 9; DOMAIN.md section
5): a unit that never submits no longer blocks the province. Written from
the rule: after the deadline Home Affairs (or the beat, the day after) takes
every assessment not submitted as it stands, marks the never-submitted ones
late ("quá hạn"), sends them to appraisal; the lateness is a deduction the
computation proposes; once appraised and approved the year publishes."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from commitments.organisation.models import UnitKind
from scoring import tasks
from scoring.assessments import closing, services
from scoring.frameworks import services as frameworks
from scoring.models import (
    Adjustment,
    AdjustmentState,
    Assessment,
    AssessmentState,
    Framework,
    FrameworkState,
    Score,
)
from scoring.results import computation, publication
from tests.factories import UnitFactory
from tests.scoring.results_helpers import approve, scored

DEADLINE = date(2026, 1, 7)
ON_DEADLINE = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 1, 8, 2, 0, tzinfo=UTC)
DAY_AFTER = date(2026, 1, 8)


@pytest.fixture
def open_year(year):
    Framework.objects.filter(pk=year.pk).update(state=FrameworkState.OPEN)
    year.refresh_from_db()
    return year


def close(user, framework, when=AFTER, today=DAY_AFTER):
    return closing.cycle_close(user=user, framework=framework, now=when, today=today)


def test_a_new_frameworks_deadline_is_7_january_of_the_next_year(reviewer, org):
    created = frameworks.framework_create(
        user=reviewer,
        year=2026,
        unit_kind=UnitKind.COMMUNE,
        name="Chỉ số CCHC cấp xã 2026",
        deadline=None,
    )
    assert created.deadline == date(2027, 1, 7)


def test_the_new_framework_page_offers_7_january_of_the_next_year(client, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("framework_new"))
    year = page.context["form"].initial["year"]
    assert page.context["form"].initial["deadline"] == date(year + 1, 1, 7)


def test_a_draft_never_submitted_is_taken_late_to_appraisal(open_year, org, reviewer):
    """Staff entered one leaf and the head never submitted: taken as it
    stands, marked late, submitted (so the reviewer appraises it)."""
    assessment = services.assessment_open(framework=open_year, unit=org.commune_a)
    Score.objects.filter(assessment=assessment, node__code="1.1.1").update(self_score=1)
    outcome = close(reviewer, open_year)
    assessment.refresh_from_db()
    assert (assessment.state, assessment.late) == (AssessmentState.SUBMITTED, True)
    assert assessment.closed_at == AFTER
    assert assessment.closed_by == reviewer
    assert assessment.round == 1
    # As it stood: nothing entered is changed, nothing missing is filled.
    assert Score.objects.get(assessment=assessment, node__code="1.1.1").self_score == 1
    assert (
        Score.objects.get(assessment=assessment, node__code="1.1.2").self_score is None
    )
    # Commune B, which never started, is taken too.
    assert (outcome.late, outcome.returned, outcome.created) == (2, 0, 1)
    open_year.refresh_from_db()
    assert open_year.closed_at == AFTER


def test_a_unit_that_never_started_gets_an_empty_assessment_taken_late(
    open_year, org, reviewer
):
    """Commune B has no assessment at all (it appeared after opening)."""
    services.assessment_open(framework=open_year, unit=org.commune_a)
    outcome = close(reviewer, open_year)
    b = Assessment.objects.get(framework=open_year, unit=org.commune_b)
    assert (b.state, b.late) == (AssessmentState.SUBMITTED, True)
    assert b.scores.count() == 4
    assert not b.scores.filter(self_score__isnull=False)
    assert outcome.created == 1
    assert outcome.late == 2


def test_a_returned_assessment_goes_back_to_appraisal_without_the_late_mark(
    open_year, org, reviewer
):
    """It was submitted by the deadline; the return was not answered."""
    assessment = scored(open_year, org.commune_a, {}, approved=False)
    Assessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.RETURNED, round=1
    )
    outcome = close(reviewer, open_year)
    assessment.refresh_from_db()
    assert (assessment.state, assessment.late, assessment.round) == (
        AssessmentState.SUBMITTED,
        False,
        2,
    )
    assert outcome.returned == 1


def test_submitted_and_approved_assessments_are_left_as_they_are(
    open_year, org, reviewer
):
    submitted = scored(open_year, org.commune_a, {}, approved=False)
    Assessment.objects.filter(pk=submitted.pk).update(
        state=AssessmentState.SUBMITTED, round=1
    )
    approved = scored(open_year, org.commune_b, {})
    close(reviewer, open_year)
    for assessment, state in (
        (submitted, AssessmentState.SUBMITTED),
        (approved, AssessmentState.APPROVED),
    ):
        assessment.refresh_from_db()
        assert (assessment.state, assessment.late, assessment.closed_at) == (
            state,
            False,
            None,
        )


def test_a_running_extension_is_respected_and_taken_after_it_ends(
    open_year, org, reviewer
):
    assessment = services.assessment_open(framework=open_year, unit=org.commune_a)
    Assessment.objects.filter(pk=assessment.pk).update(extended_until=date(2026, 1, 12))
    services.assessment_open(framework=open_year, unit=org.commune_b)
    outcome = close(reviewer, open_year)
    assert outcome.waiting == [org.commune_a.name]
    assessment.refresh_from_db()
    assert assessment.state == AssessmentState.DRAFT
    # The day after the extension the beat takes it.
    assert closing.frameworks_due(date(2026, 1, 13)) == [open_year.pk]
    close(None, open_year, today=date(2026, 1, 13))
    assessment.refresh_from_db()
    assert (assessment.state, assessment.late, assessment.closed_by) == (
        AssessmentState.SUBMITTED,
        True,
        None,
    )


def test_the_cycle_is_not_closed_before_the_deadline_has_passed(
    open_year, org, reviewer
):
    """Seed 004: "chậm nhất là ngày 7/1": the 7th is still the units' day."""
    services.assessment_open(framework=open_year, unit=org.commune_a)
    with pytest.raises(ValidationError):
        close(reviewer, open_year, when=ON_DEADLINE, today=DEADLINE)
    assert not Assessment.objects.filter(late=True).exists()


def test_a_draft_or_published_framework_is_not_closed(year, org, reviewer):
    with pytest.raises(ValidationError):
        close(reviewer, year)
    Framework.objects.filter(pk=year.pk).update(state=FrameworkState.PUBLISHED)
    year.refresh_from_db()
    with pytest.raises(ValidationError):
        close(reviewer, year)


def test_only_who_manages_the_framework_closes_it(
    open_year, org, city_reviewer, leader, commune_head
):
    """A city's Phòng Nội vụ does not manage the province's commune
    framework once a commune lies outside the city; nor does a leader or a
    unit's head."""
    town = UnitFactory(code="TOWN", kind=UnitKind.DISTRICT, parent=org.province)
    UnitFactory(code="TOWN-X", parent=town)
    services.assessment_open(framework=open_year, unit=org.commune_a)
    for user in (city_reviewer, leader, commune_head):
        with pytest.raises(PermissionDenied):
            close(user, open_year)
    assert not Assessment.objects.filter(late=True).exists()


def test_closing_twice_changes_nothing_the_second_time(open_year, org, reviewer):
    services.assessment_open(framework=open_year, unit=org.commune_a)
    close(reviewer, open_year)
    history = Assessment.history.count()
    again = close(reviewer, open_year, when=datetime(2026, 1, 9, tzinfo=UTC))
    assert (again.late, again.returned, again.created) == (0, 0, 0)
    assert Assessment.history.count() == history
    assert Assessment.objects.get(unit=org.commune_a).closed_at == AFTER


def test_the_beat_closes_every_framework_due_the_day_after_its_deadline(
    open_year, org, eager_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    services.assessment_open(framework=open_year, unit=org.commune_a)
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: datetime(2026, 1, 7, 16, 0, tzinfo=UTC)
    )
    # 23:00 on the 7th, Vietnam time: still the deadline day.
    assert tasks.cycles_close_task.delay().get() == []
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: datetime(2026, 1, 7, 17, 30, tzinfo=UTC)
    )
    # 00:30 on the 8th: due, closed through the queue once committed.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.cycles_close_task.delay().get() == [open_year.pk]
    assessment = Assessment.objects.get(unit=org.commune_a)
    assert (assessment.state, assessment.late) == (AssessmentState.SUBMITTED, True)
    # Run again (a redelivery), nothing more.
    assert tasks.cycle_close_task.delay(open_year.pk).get() == {
        "late": 0,
        "returned": 0,
        "created": 0,
    }


def test_the_beat_schedule_closes_cycles_daily_before_the_nights_computation(
    settings,
):
    entry = settings.CELERY_BEAT_SCHEDULE["scoring-close-cycles"]
    assert entry["task"] == "scoring.tasks.cycles_close_task"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {30})


def test_lateness_is_proposed_as_a_deduction_and_counts_once_approved(
    open_year, org, reviewer, superuser
):
    """The catalogue's late_submission rule (−1 by default): proposed by the
    computation for the late unit, counted after four-eyes approval."""
    on_time_unit = scored(open_year, org.commune_b, {"1.1.1": ("2", "2")})
    late = services.assessment_open(framework=open_year, unit=org.commune_a)
    close(reviewer, open_year)
    Score.objects.filter(assessment=late).update(appraised_score=1)
    Assessment.objects.filter(pk=late.pk).update(state=AssessmentState.APPROVED)
    computation.compute_now(2025)
    proposal = Adjustment.objects.get(unit=org.commune_a)
    assert (proposal.rule.code, proposal.points, proposal.state) == (
        "late_submission",
        -1,
        AdjustmentState.PROPOSED,
    )
    assert proposal.proposed_by_computation
    assert "07/01/2026" in proposal.reason
    assert not Adjustment.objects.filter(unit=on_time_unit.unit).exists()
    approve(proposal)
    computation.compute_now(2025)
    result = computation.Result.objects.get(unit=org.commune_a)
    assert result.adjustments == -1


def test_a_year_with_a_unit_that_never_submitted_publishes_once_closed_and_appraised(
    open_year, org, reviewer
):
    scored(open_year, org.commune_b, {"1.1.1": ("2", "2")})
    services.assessment_open(framework=open_year, unit=org.commune_a)
    run = computation.compute_now(2025)
    with pytest.raises(ValidationError):
        publication.publish(user=reviewer, year=2025, run_id=run.pk, now=AFTER)
    close(reviewer, open_year)
    late = Assessment.objects.get(unit=org.commune_a)
    for leaf in Score.objects.filter(assessment=late).exclude(node__method="metric"):
        services.score_appraise(
            user=reviewer,
            score_id=leaf.pk,
            appraised_score="0",
            reason="",
            version=leaf.version,
        )
    services.assessment_approve(user=reviewer, assessment=late, now=AFTER)
    Adjustment.objects.all().delete()
    run = computation.compute_now(2025)
    published = publication.publish(user=reviewer, year=2025, run_id=run.pk, now=AFTER)
    assert published.version == 1


def test_the_page_button_closes_with_a_confirmation(client, open_year, org, reviewer):
    services.assessment_open(framework=open_year, unit=org.commune_a)
    client.force_login(reviewer)
    page = client.get(reverse("framework_detail", args=[open_year.pk]))
    button = page.content.decode()
    assert 'data-testid="framework-close"' in button
    assert "data-confirm" in button
    client.post(reverse("framework_close", args=[open_year.pk]))
    assert Assessment.objects.get(unit=org.commune_a).late
    detail = client.get(
        reverse(
            "assessment_detail", args=[Assessment.objects.get(unit=org.commune_a).pk]
        )
    )
    assert 'data-testid="assessment-late"' in detail.content.decode()


def test_the_api_says_an_assessment_is_late(open_year, org, reviewer):
    services.assessment_open(framework=open_year, unit=org.commune_a)
    close(reviewer, open_year)
    api = APIClient()
    api.force_authenticate(reviewer)
    found = api.get("/api/v1/assessments/").json()["results"]
    assert [(row["unit_code"], row["late"]) for row in found] == [
        (org.commune_a.code, True),
        (org.commune_b.code, True),
    ]
    assert found[0]["closed_at"]


def test_a_unit_created_today_in_another_kind_is_not_taken(open_year, org, reviewer):
    department = UnitFactory(
        code="DEP-2", kind=UnitKind.DEPARTMENT, parent=org.province
    )
    close(reviewer, open_year)
    assert not Assessment.objects.filter(unit=department).exists()
