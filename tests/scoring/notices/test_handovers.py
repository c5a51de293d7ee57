"""Every step that hands work to someone leaves a notice for the people who act
next, and for nobody else (issue 18, item 2): the assessment's steps, the review
window, deductions, ratings, publication, and the commitments' steps that reach
scoring's notices through the organisation's signal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from commitments import services as commitment_services
from commitments.models import Commitment, CommitmentTemplate
from commitments.organisation.models import Role, UnitKind
from scoring.assessments import reminders, services
from scoring.models import Comment, EmailMode, Notice, NoticeSettings
from tests.commitments.helpers import D, scan, signed
from tests.factories import HeadFactory, MembershipFactory, UserFactory
from tests.scoring.assessments.test_views import (
    approve,
    opened,
    score,
    submit,
    today,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_assessment(assessment, framework):
    return opened(assessment, framework)


def told(*users) -> dict[str, list[str]]:
    """Each user's notice subjects, oldest first."""
    return {
        user.username: list(
            Notice.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("subject", flat=True)
        )
        for user in users
    }


def received(user) -> int:
    return Notice.objects.filter(user=user).count()


@pytest.fixture
def everyone(
    commune_staff,
    commune_head,
    other_commune_staff,
    city_reviewer,
    reviewer,
    leader,
):
    return {
        "staff": commune_staff,
        "head": commune_head,
        "other": other_commune_staff,
        "city_reviewer": city_reviewer,
        "reviewer": reviewer,
        "leader": leader,
    }


def who_got_one(everyone) -> set[str]:
    return {name for name, user in everyone.items() if received(user)}


# --- the self-assessment ---------------------------------------------------------


def test_a_submission_reaches_the_units_reviewers_only(open_assessment, everyone):
    submit(open_assessment, everyone["staff"], everyone["head"])

    assert who_got_one(everyone) == {"city_reviewer", "reviewer"}
    notice = Notice.objects.get(user=everyone["city_reviewer"])
    assert notice.assessment_id == open_assessment.pk
    assert notice.url == f"/assessments/{open_assessment.pk}/appraise/"
    assert "Phường A" in notice.subject


def test_a_return_reaches_the_units_staff_and_head(open_assessment, everyone):
    submitted = submit(open_assessment, everyone["staff"], everyone["head"])
    Notice.objects.all().delete()

    services.assessment_return(
        user=everyone["city_reviewer"],
        assessment=submitted,
        comments={score(submitted, "1.1.1").pk: "Bổ sung kế hoạch"},
        now=timezone.now(),
    )

    assert who_got_one(everyone) == {"staff", "head"}
    assert Notice.objects.get(user=everyone["staff"]).url == (
        f"/assessments/{submitted.pk}/"
    )


def unread(user) -> list[str]:
    return list(
        Notice.objects.filter(user=user, read_at__isnull=True).values_list(
            "subject", flat=True
        )
    )


def test_acting_on_an_assessment_reads_the_actors_notices_about_it(
    open_assessment, everyone
):
    """The reviewer who returns the assessment has done what the submission
    asked of them: that notice is read. The other reviewer was not the one
    who acted, and still has theirs."""
    submitted = submit(open_assessment, everyone["staff"], everyone["head"])
    assert unread(everyone["city_reviewer"])
    assert unread(everyone["reviewer"])

    services.assessment_return(
        user=everyone["city_reviewer"],
        assessment=submitted,
        comments={score(submitted, "1.1.1").pk: "Bổ sung kế hoạch"},
        now=timezone.now(),
    )

    assert unread(everyone["city_reviewer"]) == []
    assert len(unread(everyone["reviewer"])) == 1
    assert len(unread(everyone["staff"])) == 1  # the return, theirs to answer


def test_signing_reads_the_notice_that_asked_for_the_signature(org, everyone, heads):
    """Commitments' notices carry no assessment: the same page tells."""
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    commitment_services.commitments_create(
        year=2026, template=template, units=[org.commune_a], user=everyone["reviewer"]
    )
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    other = Notice.objects.create(
        user=everyone["staff"],
        subject="Something else",
        url="/elsewhere/",
        created_at=timezone.now(),
    )
    assert len(unread(everyone["staff"])) == 2

    commitment_services.commitment_sign(
        commitment=commitment,
        user=everyone["staff"],
        signed_on=date(2026, 4, 14),
        scan=scan(),
        today=date(2026, 5, 20),
    )

    assert unread(everyone["staff"]) == [other.subject]
    assert len(unread(everyone["head"])) == 1  # the head did not act


def test_the_last_answer_of_a_return_reaches_the_reviewers_once(
    open_assessment, everyone
):
    submitted = submit(open_assessment, everyone["staff"], everyone["head"])
    services.assessment_return(
        user=everyone["city_reviewer"],
        assessment=submitted,
        comments={
            score(submitted, "1.1.1").pk: "Bổ sung kế hoạch",
            score(submitted, "1.1.2").pk: "Thiếu báo cáo",
        },
        now=timezone.now(),
    )
    Notice.objects.all().delete()
    first, second = Comment.objects.filter(score__assessment=submitted).order_by("pk")

    for comment in (first, second):
        services.comment_answer(
            user=everyone["staff"],
            comment_id=comment.pk,
            answer="Đã bổ sung",
            now=timezone.now(),
            today=today(),
        )
        if comment == first:
            assert who_got_one(everyone) == set()

    assert who_got_one(everyone) == {"city_reviewer", "reviewer"}
    assert received(everyone["city_reviewer"]) == 1


def test_an_approval_tells_the_unit_its_appraised_total(open_assessment, everyone):
    submitted = submit(open_assessment, everyone["staff"], everyone["head"])
    Notice.objects.all().delete()

    approve(submitted, everyone["city_reviewer"])

    # The reviewer who approved is not told what they did; the other
    # reviewer is not the one who acts next.
    assert who_got_one(everyone) == {"staff", "head"}
    subject = Notice.objects.get(user=everyone["head"]).subject
    # 2 + 3,5 accepted, the survey leaf 1,5; the metric leaf has no figures.
    assert "7,00" in subject


def test_the_review_window_opening_and_closing_reach_the_unit(
    open_assessment, everyone
):
    approved = approve(
        submit(open_assessment, everyone["staff"], everyone["head"]),
        everyone["city_reviewer"],
    )
    Notice.objects.all().delete()

    services.provisional_results_open(
        user=everyone["city_reviewer"], framework=approved.framework, today=today()
    )
    assert who_got_one(everyone) == {"staff", "head"}
    approved.refresh_from_db()
    assert approved.contest_until.strftime("%d/%m/%Y") in (
        Notice.objects.get(user=everyone["staff"]).subject
    )

    Notice.objects.all().delete()
    after = approved.contest_until + timedelta(days=1)
    assert reminders.review_windows_closed_send(today=after, now=timezone.now()) == 2
    # Run again (the beat twice, or the next day): nobody is told twice.
    assert reminders.review_windows_closed_send(today=after, now=timezone.now()) == 0
    assert (
        reminders.review_windows_closed_send(
            today=after + timedelta(days=1), now=timezone.now()
        )
        == 0
    )
    # No request waits for the reviewers: only the unit is told.
    assert who_got_one(everyone) == {"staff", "head"}


def test_a_request_for_review_reaches_the_reviewers_and_its_decision_the_unit(
    open_assessment, everyone
):
    approved = approve(
        submit(open_assessment, everyone["staff"], everyone["head"]),
        everyone["city_reviewer"],
    )
    services.provisional_results_open(
        user=everyone["city_reviewer"], framework=approved.framework, today=today()
    )
    Notice.objects.all().delete()

    contest = services.contest_raise(
        user=everyone["staff"],
        score_id=score(approved, "1.1.1").pk,
        requested_score="2",
        reason="Đã có kế hoạch",
        now=timezone.now(),
        today=today(),
    )
    assert who_got_one(everyone) == {"city_reviewer", "reviewer"}

    Notice.objects.all().delete()
    services.contest_decide(
        user=everyone["reviewer"],
        contest_id=contest.pk,
        accept=False,
        reason="Không đủ căn cứ",
        now=timezone.now(),
    )
    assert who_got_one(everyone) == {"staff", "head"}


# --- deductions, ratings, publication ---------------------------------------------


def test_a_deduction_waits_for_the_other_reviewers(year, org, everyone):
    from scoring.adjustments import services as adjustments
    from scoring.models import AdjustmentRule

    adjustments.adjustment_enter(
        user=everyone["reviewer"],
        framework=year,
        unit=org.commune_a,
        rule=AdjustmentRule.objects.get(framework=year, code="harassment_complaint"),
        cases=1,
        reason="Đơn phản ánh đã xác minh",
        evidence="Kết luận 15/KL",
        now=timezone.now(),
    )

    assert who_got_one(everyone) == {"city_reviewer"}
    assert Notice.objects.get(user=everyone["city_reviewer"]).url.startswith(
        "/adjustments/"
    )


# --- commitments (through the organisation's signal) ------------------------------


@pytest.fixture
def heads(org, commune_head):
    return {"a": HeadFactory(unit=org.commune_a, user=commune_head)}


def test_a_drafted_commitment_reaches_each_units_people(org, everyone):
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    commitment_services.commitments_create(
        year=2026, template=template, units=[org.commune_a], user=everyone["reviewer"]
    )

    assert who_got_one(everyone) == {"staff", "head"}
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    assert Notice.objects.get(user=everyone["head"]).url == (
        f"/commitments/{commitment.pk}/"
    )


def test_a_signature_reaches_the_level_above_and_the_counter_signature_the_unit(
    org, everyone, heads
):
    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)
    commitment_services.commitments_create(
        year=2026, template=template, units=[org.commune_a], user=everyone["reviewer"]
    )
    commitment = Commitment.objects.get(unit=org.commune_a, year=2026)
    Notice.objects.all().delete()

    signed_one = commitment_services.commitment_sign(
        commitment=commitment,
        user=everyone["staff"],
        signed_on=date(2026, 4, 14),
        scan=scan(),
        today=date(2026, 5, 20),
    )
    # Reviewers and leaders above the commune; not the head who signed.
    assert who_got_one(everyone) == {"city_reviewer", "reviewer", "leader"}

    Notice.objects.all().delete()
    commitment_services.commitment_countersign(
        commitment=signed_one,
        user=everyone["leader"],
        countersigned_on=date(2026, 4, 15),
        signer_name="Nguyễn Văn Chủ",
        signer_title="Chủ tịch",
        today=date(2026, 5, 20),
    )
    assert who_got_one(everyone) == {"staff", "head"}


def test_a_report_reaches_the_reviewers_and_its_rejection_the_unit(
    org, everyone, heads
):
    commitment = signed(org.commune_a, 2026, heads["a"], [("nhiem-vu", "100", None)])
    target = commitment.targets.get()
    reported = commitment_services.target_report(
        target=target, user=everyone["staff"], value=D("90"), note="18/20"
    )
    assert who_got_one(everyone) == {"city_reviewer", "reviewer"}

    Notice.objects.all().delete()
    commitment_services.target_check(
        target=reported,
        user=everyone["city_reviewer"],
        accepted=False,
        note="Thiếu danh sách nhiệm vụ",
    )
    assert who_got_one(everyone) == {"staff", "head"}
    assert Notice.objects.get(user=everyone["staff"]).body == (
        "Thiếu danh sách nhiệm vụ"
    )

    Notice.objects.all().delete()
    again = commitment_services.target_report(
        target=reported, user=everyone["staff"], value=D("100"), note=""
    )
    Notice.objects.all().delete()
    commitment_services.target_check(
        target=again, user=everyone["city_reviewer"], accepted=True, note=""
    )
    # An accepted report is nobody's work.
    assert who_got_one(everyone) == set()


def test_a_rolled_back_step_tells_nobody(org, everyone):
    from django.db import transaction

    template = CommitmentTemplate.objects.get(unit_kind=UnitKind.COMMUNE)

    def draft_then_fail() -> None:
        with transaction.atomic():
            commitment_services.commitments_create(
                year=2026,
                template=template,
                units=[org.commune_a],
                user=everyone["reviewer"],
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        draft_then_fail()
    assert Notice.objects.count() == 0


# --- e-mail at once -----------------------------------------------------------------


def test_who_chose_immediate_email_gets_one_per_notice_after_the_commit(
    open_assessment, everyone, mailoutbox, django_capture_on_commit_callbacks
):
    for name in ("city_reviewer", "reviewer"):
        user = everyone[name]
        user.email = f"{user.username}@example.gov.vn"
        user.save(update_fields=["email"])
    NoticeSettings.objects.create(
        user=everyone["city_reviewer"], email_mode=EmailMode.IMMEDIATE
    )

    with django_capture_on_commit_callbacks(execute=True):
        submit(open_assessment, everyone["staff"], everyone["head"])

    assert [mail.to for mail in mailoutbox] == [["reviewer.city@example.gov.vn"]]
    assert (
        mailoutbox[0].subject
        == Notice.objects.get(user=everyone["city_reviewer"]).subject
    )
    assert f"/assessments/{open_assessment.pk}/appraise/" in mailoutbox[0].body
    assert Notice.objects.get(user=everyone["city_reviewer"]).emailed_at is not None
    # The other reviewer waits for the day's digest.
    assert Notice.objects.get(user=everyone["reviewer"]).emailed_at is None


def test_a_user_with_a_role_in_two_units_gets_one_notice(org, open_assessment):
    both = UserFactory(username="reviewer.both")
    MembershipFactory(user=both, unit=org.city, role=Role.REVIEWER)
    MembershipFactory(user=both, unit=org.province, role=Role.REVIEWER)
    staff = UserFactory(username="s")
    head = UserFactory(username="h")
    MembershipFactory(user=staff, unit=org.commune_a, role=Role.UNIT_STAFF)
    MembershipFactory(user=head, unit=org.commune_a, role=Role.UNIT_HEAD)

    submit(open_assessment, staff, head)

    assert received(both) == 1


def test_a_rating_decided_reaches_the_head_rated_and_the_units_head(
    org, leader, reviewer, city_reviewer
):
    from scoring.accountability import services as accountability
    from scoring.models import HeadRating

    head_account = UserFactory(username="head.city")
    office_head = UserFactory(username="office.head.city")
    MembershipFactory(user=office_head, unit=org.city, role=Role.UNIT_HEAD)
    rating = HeadRating.objects.create(
        unit=org.city,
        year=2025,
        head=HeadFactory(unit=org.city, user=head_account),
        proposed=2,
        proposed_at=timezone.now(),
    )

    accountability.rating_decide(rating=rating, user=leader, level=2, reason="")

    assert received(head_account) == 1
    assert received(office_head) == 1
    for user in (leader, reviewer, city_reviewer):
        assert received(user) == 0
    assert Notice.objects.get(user=head_account).url.endswith(f"#rating-{rating.pk}")


def test_a_publication_reaches_everyone_with_a_role_but_who_published(
    year, org, everyone, no_unit_user
):
    from scoring.results import computation, publication
    from tests.scoring.results_helpers import GOOD, scored

    scored(year, org.commune_a, GOOD)
    scored(year, org.commune_b, GOOD)
    run = computation.compute_now(2025)
    Notice.objects.all().delete()

    publication.publish(
        user=everyone["reviewer"], year=2025, run_id=run.pk, now=timezone.now()
    )

    assert who_got_one(everyone) == set(everyone) - {"reviewer"}
    assert received(no_unit_user) == 0
    assert Notice.objects.get(user=everyone["staff"]).url == "/results/2025/"
