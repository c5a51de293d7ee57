"""The self-assessment and appraisal cycle: every transition by role, the lock
and the extension, the refusal of a stale save, and the audit trail."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from commitments.organisation.models import UnitKind
from scoring.assessments import services
from scoring.models import (
    Assessment,
    AssessmentState,
    Comment,
    ContestState,
    Evidence,
    Framework,
    FrameworkState,
    Score,
)

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
TODAY = date(2026, 1, 5)
DEADLINE = date(2026, 1, 7)
LATER = datetime(2026, 2, 12, 3, 0, tzinfo=UTC)


def score(assessment, code) -> Score:
    return Score.objects.get(assessment=assessment, node__code=code)


def evidence(assessment, user, name="quyet-dinh.pdf"):
    return Evidence.objects.create(
        assessment=assessment,
        token=f"00000000-0000-0000-0000-{Evidence.objects.count() + 1:012d}",
        extension=".pdf",
        file="evidence/x.pdf",
        original_name=name,
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        uploaded_by=user,
    )


def fill_in(assessment, user):
    for code, value in (("1.1.1", "2"), ("1.1.2", "3.5")):
        s = score(assessment, code)
        services.score_self_save(
            user=user,
            score_id=s.pk,
            self_score=value,
            explanation="Đã thực hiện",
            version=s.version,
            today=TODAY,
        )
    doc = evidence(assessment, user)
    services.score_evidence_set(
        user=user,
        score_id=score(assessment, "1.1.2").pk,
        evidence_ids=[doc.pk],
        today=TODAY,
    )


def submitted(assessment, staff, head):
    fill_in(assessment, staff)
    return services.assessment_submit(
        user=head, assessment=assessment, now=NOW, today=TODAY
    )


def test_opening_creates_one_score_per_leaf_and_is_repeatable(
    assessment, framework, org
):
    again = services.assessment_open(framework=framework, unit=org.commune_a)
    assert again.pk == assessment.pk
    codes = sorted(assessment.scores.values_list("node__code", flat=True))
    assert codes == ["1.1.1", "1.1.2", "2.1", "2.2"]


def test_a_framework_for_another_kind_of_unit_is_refused(framework, org):
    with pytest.raises(ValidationError):
        services.assessment_open(framework=framework, unit=org.department)


def test_only_the_units_staff_and_head_start_its_assessment(
    framework, org, commune_head, other_commune_staff, city_reviewer, leader
):
    """The service refuses on its own, whoever calls it (not only the page)."""
    Framework.objects.filter(pk=framework.pk).update(state=FrameworkState.OPEN)
    for user in (other_commune_staff, city_reviewer, leader):
        with pytest.raises(PermissionDenied):
            services.assessment_start(
                user=user, framework=framework, unit=org.commune_a
            )
    assert not Assessment.objects.exists()
    started = services.assessment_start(
        user=commune_head, framework=framework, unit=org.commune_a
    )
    assert started.unit == org.commune_a
    assert started.scores.count() == 4


def test_an_assessment_starts_only_against_a_framework_open_as_stored(
    framework, org, commune_staff
):
    framework.state = FrameworkState.OPEN  # the caller's copy; stored: a draft
    with pytest.raises(ValidationError, match="chưa mở"):
        services.assessment_start(
            user=commune_staff, framework=framework, unit=org.commune_a
        )
    assert not Assessment.objects.exists()


def test_only_reviewers_show_provisional_results(
    assessment, commune_head, leader, city_reviewer
):
    Assessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.APPROVED)
    for user in (commune_head, leader):
        with pytest.raises(PermissionDenied):
            services.provisional_results_open(
                user=user, framework=assessment.framework, today=TODAY
            )
    assessment.refresh_from_db()
    assert assessment.contest_until is None
    assert (
        services.provisional_results_open(
            user=city_reviewer, framework=assessment.framework, today=TODAY
        )
        == 1
    )


@pytest.mark.parametrize("value", ["-1", "2.01", "abc", "1.234"])
def test_a_score_outside_zero_and_the_maximum_is_refused_naming_the_leaf(
    assessment, commune_staff, value
):
    s = score(assessment, "1.1.1")
    with pytest.raises(ValidationError) as error:
        services.score_self_save(
            user=commune_staff,
            score_id=s.pk,
            self_score=value,
            explanation="",
            version=s.version,
            today=TODAY,
        )
    assert "1.1.1" in str(error.value)


def test_the_database_refuses_a_score_above_the_maximum(assessment):
    s = score(assessment, "1.1.1")
    s.self_score = Decimal("2.5")
    with pytest.raises(IntegrityError), transaction.atomic():
        s.save()


def test_a_decimal_comma_is_read(assessment, commune_staff):
    s = score(assessment, "1.1.2")
    saved = services.score_self_save(
        user=commune_staff,
        score_id=s.pk,
        self_score="3,5",
        explanation="",
        version=s.version,
        today=TODAY,
    )
    assert saved.self_score == Decimal("3.5")


def test_staff_of_another_unit_and_reviewers_cannot_fill_in(
    assessment, other_commune_staff, city_reviewer, leader
):
    s = score(assessment, "1.1.1")
    for user in (other_commune_staff, city_reviewer, leader):
        with pytest.raises(PermissionDenied):
            services.score_self_save(
                user=user,
                score_id=s.pk,
                self_score="1",
                explanation="",
                version=s.version,
                today=TODAY,
            )


def test_metric_and_survey_leaves_take_no_self_score(assessment, commune_staff):
    for code in ("2.1", "2.2"):
        s = score(assessment, code)
        with pytest.raises(ValidationError):
            services.score_self_save(
                user=commune_staff,
                score_id=s.pk,
                self_score="1",
                explanation="",
                version=s.version,
                today=TODAY,
            )


def test_a_second_save_from_an_older_copy_is_refused(
    assessment, commune_staff, commune_head
):
    s = score(assessment, "1.1.1")
    read_version = s.version
    services.score_self_save(
        user=commune_staff,
        score_id=s.pk,
        self_score="1",
        explanation="",
        version=read_version,
        today=TODAY,
    )
    with pytest.raises(services.StaleVersion) as error:
        services.score_self_save(
            user=commune_head,
            score_id=s.pk,
            self_score="2",
            explanation="",
            version=read_version,
            today=TODAY,
        )
    assert "staff.a" in str(error.value)
    assert score(assessment, "1.1.1").self_score == Decimal(1)


def test_staff_cannot_submit_only_the_head_can(assessment, commune_staff, commune_head):
    fill_in(assessment, commune_staff)
    with pytest.raises(PermissionDenied):
        services.assessment_submit(
            user=commune_staff, assessment=assessment, now=NOW, today=TODAY
        )
    done = services.assessment_submit(
        user=commune_head, assessment=assessment, now=NOW, today=TODAY
    )
    assert (done.state, done.round, done.submitted_by) == (
        AssessmentState.SUBMITTED,
        1,
        commune_head,
    )


def test_submit_lists_empty_leaves_and_missing_evidence(
    assessment, commune_staff, commune_head
):
    s = score(assessment, "1.1.2")
    services.score_self_save(
        user=commune_staff,
        score_id=s.pk,
        self_score="4",
        explanation="",
        version=s.version,
        today=TODAY,
    )
    with pytest.raises(ValidationError) as error:
        services.assessment_submit(
            user=commune_head, assessment=assessment, now=NOW, today=TODAY
        )
    text = " ".join(error.value.messages)
    assert "1.1.1" in text  # no self score
    assert "1.1.2" in text  # evidence required
    assert Assessment.objects.get(pk=assessment.pk).state == AssessmentState.DRAFT


def test_after_the_deadline_the_draft_is_locked_until_extended(
    assessment, commune_staff, commune_head, city_reviewer
):
    late = date(2026, 1, 8)
    s = score(assessment, "1.1.1")
    with pytest.raises(ValidationError):
        services.score_self_save(
            user=commune_staff,
            score_id=s.pk,
            self_score="1",
            explanation="",
            version=s.version,
            today=late,
        )
    with pytest.raises(PermissionDenied):
        services.extension_grant(
            user=commune_head,
            assessment=assessment,
            until=date(2026, 1, 10),
            today=late,
        )
    services.extension_grant(
        user=city_reviewer, assessment=assessment, until=date(2026, 1, 10), today=late
    )
    assessment.refresh_from_db()
    services.score_self_save(
        user=commune_staff,
        score_id=s.pk,
        self_score="1",
        explanation="",
        version=s.version,
        today=late,
    )
    assert not services.is_locked(assessment, date(2026, 1, 10))
    assert services.is_locked(assessment, date(2026, 1, 11))


def test_the_full_cycle_return_answer_resubmit_approve(
    assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submitted(assessment, commune_staff, commune_head)
    # Nothing can be filled in while it is with the reviewer.
    s = score(assessment, "1.1.1")
    with pytest.raises(ValidationError):
        services.score_self_save(
            user=commune_staff,
            score_id=s.pk,
            self_score="1",
            explanation="",
            version=s.version,
            today=TODAY,
        )
    returned = services.assessment_return(
        user=city_reviewer,
        assessment=assessment,
        comments={s.pk: "Bổ sung quyết định ban hành kế hoạch"},
        now=NOW,
    )
    assert returned.state == AssessmentState.RETURNED
    comment = Comment.objects.get(score=s)
    assert comment.round == 1
    # Resubmitting before answering is refused.
    with pytest.raises(ValidationError):
        services.assessment_submit(
            user=commune_head, assessment=returned, now=NOW, today=TODAY
        )
    services.comment_answer(
        user=commune_staff,
        comment_id=comment.pk,
        answer="Đã bổ sung",
        now=NOW,
        today=TODAY,
    )
    again = services.assessment_submit(
        user=commune_head, assessment=returned, now=NOW, today=TODAY
    )
    assert (again.state, again.round) == (AssessmentState.SUBMITTED, 2)
    with pytest.raises(ValidationError):  # leaves not yet appraised
        services.assessment_approve(user=city_reviewer, assessment=again, now=NOW)
    accepted = services.scores_accept_self(
        user=city_reviewer,
        assessment=again,
        score_ids=list(again.scores.values_list("pk", flat=True)),
    )
    assert (accepted.changed, accepted.kept) == (2, [])
    survey = score(again, "2.2")
    services.score_appraise(
        user=city_reviewer,
        score_id=survey.pk,
        appraised_score="1.5",
        reason="Kết quả điều tra xã hội học",
        version=survey.version,
    )
    approved = services.assessment_approve(
        user=city_reviewer, assessment=again, now=NOW
    )
    assert approved.state == AssessmentState.APPROVED
    assert approved.approved_by == city_reviewer


def test_an_appraised_score_that_differs_needs_a_reason(
    assessment, commune_staff, commune_head, city_reviewer
):
    submitted(assessment, commune_staff, commune_head)
    s = score(assessment, "1.1.2")
    with pytest.raises(ValidationError) as error:
        services.score_appraise(
            user=city_reviewer,
            score_id=s.pk,
            appraised_score="2",
            reason="",
            version=s.version,
        )
    assert "1.1.2" in str(error.value)
    services.score_appraise(
        user=city_reviewer,
        score_id=s.pk,
        appraised_score="2",
        reason="Thiếu báo cáo quý IV",
        version=s.version,
    )
    assert score(assessment, "1.1.2").appraised_score == Decimal(2)


def test_who_may_return_and_approve(
    assessment, commune_staff, commune_head, city_reviewer, leader, other_commune_staff
):
    submitted(assessment, commune_staff, commune_head)
    s = score(assessment, "1.1.1")
    for user in (commune_staff, commune_head, leader, other_commune_staff):
        with pytest.raises(PermissionDenied):
            services.assessment_return(
                user=user, assessment=assessment, comments={s.pk: "x"}, now=NOW
            )
        with pytest.raises(PermissionDenied):
            services.assessment_approve(user=user, assessment=assessment, now=NOW)


def test_a_reviewer_does_not_appraise_their_own_unit(framework, org, city_reviewer):
    framework.unit_kind = UnitKind.DISTRICT
    framework.save()
    own = services.assessment_open(framework=framework, unit=org.city)
    from scoring import access

    assert not access.may_review(city_reviewer, own)


@pytest.mark.parametrize(
    ("state", "step"),
    [
        (AssessmentState.DRAFT, "return"),
        (AssessmentState.DRAFT, "approve"),
        (AssessmentState.APPROVED, "return"),
        (AssessmentState.APPROVED, "submit"),
        (AssessmentState.RETURNED, "approve"),
    ],
)
def test_refused_transitions(
    assessment, commune_staff, commune_head, city_reviewer, state, step
):
    fill_in(assessment, commune_staff)
    Assessment.objects.filter(pk=assessment.pk).update(state=state)
    assessment.refresh_from_db()
    s = score(assessment, "1.1.1")
    Score.objects.filter(assessment=assessment).update(appraised_score=0)
    steps = {
        "return": lambda: services.assessment_return(
            user=city_reviewer, assessment=assessment, comments={s.pk: "x"}, now=NOW
        ),
        "approve": lambda: services.assessment_approve(
            user=city_reviewer, assessment=assessment, now=NOW
        ),
        "submit": lambda: services.assessment_submit(
            user=commune_head, assessment=assessment, now=NOW, today=TODAY
        ),
    }
    with pytest.raises(ValidationError):
        steps[step]()


def test_contest_within_the_window_accepted_changes_the_appraised_score(
    assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submitted(assessment, commune_staff, commune_head)
    services.scores_accept_self(
        user=city_reviewer,
        assessment=assessment,
        score_ids=list(assessment.scores.values_list("pk", flat=True)),
    )
    s = score(assessment, "1.1.2")
    services.score_appraise(
        user=city_reviewer,
        score_id=s.pk,
        appraised_score="2",
        reason="Thiếu minh chứng",
        version=score(assessment, "1.1.2").version,
    )
    survey = score(assessment, "2.2")
    services.score_appraise(
        user=city_reviewer,
        score_id=survey.pk,
        appraised_score="2",
        reason="",
        version=survey.version,
    )
    services.assessment_approve(user=city_reviewer, assessment=assessment, now=NOW)
    # Not before the provisional results are shown.
    with pytest.raises(ValidationError):
        services.contest_raise(
            user=commune_staff,
            score_id=s.pk,
            requested_score="3.5",
            reason="x",
            now=NOW,
            today=TODAY,
        )
    assert (
        services.provisional_results_open(
            user=city_reviewer, framework=assessment.framework, today=date(2026, 2, 1)
        )
        == 1
    )
    contest = services.contest_raise(
        user=commune_staff,
        score_id=s.pk,
        requested_score="3.5",
        reason="Đã nộp báo cáo quý IV ngày 20/12",
        now=datetime(2026, 2, 11, 2, tzinfo=UTC),
        today=date(2026, 2, 11),
    )
    with pytest.raises(ValidationError):  # one open contest per leaf
        services.contest_raise(
            user=commune_staff,
            score_id=s.pk,
            requested_score="3",
            reason="y",
            now=datetime(2026, 2, 11, 2, tzinfo=UTC),
            today=date(2026, 2, 11),
        )
    with pytest.raises(ValidationError):
        services.contest_decide(
            user=city_reviewer, contest_id=contest.pk, accept=True, reason="", now=LATER
        )
    decided = services.contest_decide(
        user=city_reviewer, contest_id=contest.pk, accept=True, reason="Đúng", now=LATER
    )
    assert decided.state == ContestState.ACCEPTED
    assert score(assessment, "1.1.2").appraised_score == Decimal("3.5")


def test_a_contest_after_the_window_is_refused(
    assessment, commune_staff, commune_head, city_reviewer
):
    Assessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.APPROVED, contest_until=date(2026, 2, 11)
    )
    s = score(assessment, "1.1.1")
    Score.objects.filter(pk=s.pk).update(appraised_score=1)
    with pytest.raises(ValidationError) as error:
        services.contest_raise(
            user=commune_staff,
            score_id=s.pk,
            requested_score="2",
            reason="x",
            now=datetime(2026, 2, 12, 2, tzinfo=UTC),
            today=date(2026, 2, 12),
        )
    assert "11/02/2026" in str(error.value)


def test_every_change_is_in_the_history_with_who_and_the_values(
    assessment, commune_staff, commune_head
):
    s = score(assessment, "1.1.1")
    services.score_self_save(
        user=commune_staff,
        score_id=s.pk,
        self_score="1",
        explanation="a",
        version=s.version,
        today=TODAY,
    )
    s = score(assessment, "1.1.1")
    services.score_self_save(
        user=commune_head,
        score_id=s.pk,
        self_score="2",
        explanation="b",
        version=s.version,
        today=TODAY,
    )
    records = list(s.history.order_by("history_date"))
    latest, before = records[-1], records[-2]
    assert latest.history_user == commune_head
    delta = latest.diff_against(before)
    changes = {c.field: (c.old, c.new) for c in delta.changes}
    assert changes["self_score"] == (Decimal(1), Decimal(2))
    assert changes["explanation"] == ("a", "b")


def test_someone_who_may_not_fill_in_gets_no_name_from_a_stale_version(
    assessment, commune_staff, other_commune_staff
):
    s = score(assessment, "1.1.1")
    services.score_self_save(
        user=commune_staff,
        score_id=s.pk,
        self_score="1",
        explanation="",
        version=s.version,
        today=TODAY,
    )
    with pytest.raises(PermissionDenied):
        services.score_self_save(
            user=other_commune_staff,
            score_id=s.pk,
            self_score="2",
            explanation="",
            version=s.version,  # stale, and not theirs to change
            today=TODAY,
        )


def test_only_the_comments_of_the_current_return_can_be_answered(
    assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submitted(assessment, commune_staff, commune_head)
    s = score(assessment, "1.1.1")
    services.assessment_return(
        user=city_reviewer, assessment=assessment, comments={s.pk: "Vòng 1"}, now=NOW
    )
    first = Comment.objects.get(score=s)
    services.comment_answer(
        user=commune_staff, comment_id=first.pk, answer="Đã sửa", now=NOW, today=TODAY
    )
    again = services.assessment_submit(
        user=commune_head, assessment=assessment, now=NOW, today=TODAY
    )
    services.assessment_return(
        user=city_reviewer, assessment=again, comments={s.pk: "Vòng 2"}, now=NOW
    )
    with pytest.raises(ValidationError):
        services.comment_answer(
            user=commune_staff, comment_id=first.pk, answer="x", now=NOW, today=TODAY
        )


def test_an_extension_is_only_for_an_assessment_the_unit_can_still_change(
    assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submitted(assessment, commune_staff, commune_head)
    with pytest.raises(ValidationError):
        services.extension_grant(
            user=city_reviewer,
            assessment=assessment,
            until=date(2026, 1, 20),
            today=TODAY,
        )


def test_showing_provisional_results_again_keeps_the_announced_window(
    assessment, city_reviewer
):
    Assessment.objects.filter(pk=assessment.pk).update(state=AssessmentState.APPROVED)
    framework = assessment.framework
    assert (
        services.provisional_results_open(
            user=city_reviewer, framework=framework, today=date(2026, 2, 1)
        )
        == 1
    )
    assert (
        services.provisional_results_open(
            user=city_reviewer, framework=framework, today=date(2026, 2, 5)
        )
        == 0
    )
    assessment.refresh_from_db()
    assert assessment.contest_until == date(2026, 2, 11)


def test_opening_for_many_units_is_a_fixed_number_of_queries_and_keeps_history(
    framework, org, django_assert_max_num_queries
):
    """Every unit gets its assessment (with its history row, as one opened
    alone) and a score per leaf; opening again adds nothing."""
    from scoring.models import Assessment
    from tests.factories import UnitFactory

    units = [org.commune_a, org.commune_b] + [
        UnitFactory(code=f"CITY-X{n}", parent=org.city) for n in range(30)
    ]
    with django_assert_max_num_queries(12):
        assert services.assessments_open(framework=framework, units=units) == 32
    assert Assessment.objects.filter(framework=framework).count() == 32
    assert (
        Assessment.history.filter(framework=framework, history_type="+").count() == 32
    )
    assert Score.objects.filter(assessment__framework=framework).count() == 32 * 4
    assert services.assessments_open(framework=framework, units=units) == 0
    assert Score.objects.filter(assessment__framework=framework).count() == 32 * 4
    with pytest.raises(ValidationError):
        services.assessments_open(framework=framework, units=[org.department])


# --- accepting the self scores in bulk --------------------------------------------


def appraise(user, assessment, code, value, reason=""):
    s = score(assessment, code)
    return services.score_appraise(
        user=user,
        score_id=s.pk,
        appraised_score=value,
        reason=reason,
        version=s.version,
    )


def accept_all(user, assessment):
    return services.scores_accept_self(
        user=user,
        assessment=assessment,
        score_ids=list(assessment.scores.values_list("pk", flat=True)),
    )


def test_accepting_every_leaf_keeps_a_leaf_the_reviewer_appraised_otherwise(
    assessment, commune_staff, commune_head, city_reviewer
):
    """Issue 15, defect 6: 1.1.2 appraised at 0,5 with a reason stays so when
    the reviewer then ticks every leaf and accepts the self scores."""
    assessment = submitted(assessment, commune_staff, commune_head)
    appraise(city_reviewer, assessment, "1.1.2", "0,5", "Thiếu quyết định ban hành")
    before = score(assessment, "1.1.2")
    accepted = accept_all(city_reviewer, assessment)
    assert accepted.changed == 1
    assert accepted.kept == [("1.1.2", "Mục 1.1.2")]
    kept = score(assessment, "1.1.2")
    assert (kept.appraised_score, kept.appraisal_reason, kept.version) == (
        Decimal("0.5"),
        "Thiếu quyết định ban hành",
        before.version,
    )
    assert score(assessment, "1.1.1").appraised_score == Decimal(2)


def test_a_leaf_appraised_at_its_self_score_with_a_reason_keeps_the_reason(
    assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submitted(assessment, commune_staff, commune_head)
    appraise(city_reviewer, assessment, "1.1.1", "2", "Đã đối chiếu hồ sơ gốc")
    accepted = accept_all(city_reviewer, assessment)
    assert (accepted.changed, accepted.kept) == (1, [("1.1.1", "Mục 1.1.1")])
    assert score(assessment, "1.1.1").appraisal_reason == "Đã đối chiếu hồ sơ gốc"
    assert score(assessment, "1.1.2").appraised_score == Decimal("3.5")


def test_accepting_again_changes_nothing_and_keeps_nothing_back(
    assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submitted(assessment, commune_staff, commune_head)
    accept_all(city_reviewer, assessment)
    versions = dict(assessment.scores.values_list("pk", "version"))
    again = accept_all(city_reviewer, assessment)
    assert (again.changed, again.kept) == (0, [])
    assert dict(assessment.scores.values_list("pk", "version")) == versions
