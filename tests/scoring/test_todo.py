"""The to-do home (issue 18, item 1): what waits for each role, gathered from
each app's provider (settings.TODO_PROVIDERS), in a number of queries that
does not grow with the work; the menu's counts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import Commitment, CommitmentState
from commitments.organisation.todo import TOTAL, counts_of, todo_counts, todo_for
from procedures.models import ImportRun, ImportSource, ImportStatus
from scoring.assessments import services
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    Assessment,
    CaseKind,
    HeadRating,
    Notice,
)
from tests.commitments.helpers import signed
from tests.factories import HeadFactory, UnitFactory
from tests.scoring.assessments.test_queue import communes, open_for
from tests.scoring.assessments.test_views import (
    approve,
    fill_in,
    opened,
    score,
    submit,
)
from tests.wording import vi, vi_n


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_assessment(assessment, framework):
    return opened(assessment, framework)


def head_of(unit: Any) -> Any:
    return HeadFactory(unit=unit)


def keys(user) -> list[str]:
    return [item.key for item in todo_for(user, today=timezone.localdate())]


def item(user, key):
    (found,) = [i for i in todo_for(user, today=timezone.localdate()) if i.key == key]
    return found


def home(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response


# --- the unit's staff and head ------------------------------------------------------


def test_staff_see_their_draft_what_is_missing_and_the_deadline(
    open_assessment, commune_staff
):
    found = item(commune_staff, "assessment")
    assert found.waiting
    assert found.url == f"/assessments/{open_assessment.pk}/"
    assert found.due == open_assessment.framework.deadline
    assert "2" in str(found.detail)  # two leaves without a self score
    assert found.nav == "assessments"


def test_a_complete_draft_tells_the_head_to_submit_and_staff_the_head_submits(
    open_assessment, commune_staff, commune_head
):
    fill_in(open_assessment, commune_staff)
    assert str(item(commune_head, "assessment").detail) == vi(
        "Complete: submit it to Home Affairs."
    )
    assert str(item(commune_staff, "assessment").detail) == vi(
        "Complete: the head submits it."
    )


def test_comments_to_answer_are_counted(
    open_assessment, commune_staff, commune_head, city_reviewer
):
    submitted = submit(open_assessment, commune_staff, commune_head)
    services.assessment_return(
        user=city_reviewer,
        assessment=submitted,
        comments={
            score(submitted, "1.1.1").pk: "Bổ sung",
            score(submitted, "1.1.2").pk: "Thiếu",
        },
        now=timezone.now(),
    )
    found = item(commune_staff, "comments")
    assert found.waiting
    assert str(found.detail).startswith(
        vi_n(
            "%(n)d comment of Home Affairs to answer",
            "%(n)d comments of Home Affairs to answer",
            2,
        )
        % {"n": 2}
    )


def test_a_submitted_assessment_is_known_not_waiting(
    open_assessment, commune_staff, commune_head
):
    submit(open_assessment, commune_staff, commune_head)
    assert not item(commune_staff, "assessment").waiting


def test_a_case_to_explain_reaches_the_head_not_the_staff(
    org, commune_staff, commune_head
):
    AccountabilityCase.objects.create(
        unit=org.commune_a,
        year=2025,
        kind=CaseKind.TWO_YEARS,
        state=AccountabilityState.REQUESTED,
        opened_at=timezone.now(),
        updated_at=timezone.now(),
    )
    assert "cases_to_explain" in keys(commune_head)
    assert "cases_to_explain" not in keys(commune_staff)


def test_a_commitment_to_sign_and_a_rejected_report(org, commune_head, reviewer):
    this_year = timezone.localdate().year
    Commitment.objects.create(unit=org.commune_a, year=this_year)
    assert item(commune_head, "commitment_sign").waiting

    head = HeadFactory(unit=org.commune_b)
    other = signed(org.commune_b, this_year, head, [("nhiem-vu", "100", None)])
    assert "reports" not in keys(commune_head)  # another commune's target
    assert item(reviewer, "countersign").count == 1
    assert other.state == CommitmentState.SIGNED


def test_an_import_with_rejected_rows(commune_staff):
    ImportRun.objects.create(
        source=ImportSource.UPLOAD,
        user=commune_staff,
        file_name="thang-11.csv",
        status=ImportStatus.SUCCEEDED,
        rows_rejected=714,
    )
    found = item(commune_staff, "import_rejected")
    assert "714" in str(found.title)
    assert "thang-11.csv" in str(found.title)


# --- reviewers -------------------------------------------------------------------


def test_reviewers_see_the_assessments_waiting_oldest_first(
    open_assessment, org, city_reviewer, commune_staff
):
    later, earlier = open_for(open_assessment.framework, communes(org.city, 2))
    now = timezone.now()
    Assessment.objects.filter(pk=later.pk).update(
        state="submitted", submitted_at=now - timedelta(days=1)
    )
    Assessment.objects.filter(pk=earlier.pk).update(
        state="submitted", submitted_at=now - timedelta(days=5)
    )
    found = item(city_reviewer, "to_appraise")
    assert found.count == 2
    assert [line.url for line in found.lines] == [
        f"/assessments/{earlier.pk}/appraise/",
        f"/assessments/{later.pk}/appraise/",
    ]
    assert found.url == "/assessments/?state=submitted"
    # Not for the unit's staff.
    assert "to_appraise" not in keys(commune_staff)


def test_a_deduction_waits_for_the_other_reviewer_only(
    year, org, reviewer, city_reviewer
):
    from scoring.adjustments import services as adjustments
    from scoring.models import AdjustmentRule

    adjustments.adjustment_enter(
        user=reviewer,
        framework=year,
        unit=org.commune_a,
        rule=AdjustmentRule.objects.get(framework=year, code="harassment_complaint"),
        cases=1,
        reason="Đơn phản ánh đã xác minh",
        evidence="Kết luận 15/KL",
        now=timezone.now(),
    )
    assert item(city_reviewer, "adjustments").count == 1
    assert "adjustments" not in keys(reviewer)


# --- leaders ------------------------------------------------------------------------


def test_leaders_see_cases_to_decide_and_ratings_to_confirm(org, leader, commune_staff):
    case = AccountabilityCase.objects.create(
        unit=org.city,
        year=2025,
        kind=CaseKind.TWO_YEARS,
        state=AccountabilityState.EXPLAINED,
        opened_at=timezone.now(),
        updated_at=timezone.now(),
    )
    head = HeadFactory(unit=org.city)
    HeadRating.objects.create(
        unit=org.city,
        year=2025,
        head=head,
        proposed=2,
        flagged=True,
        proposed_at=timezone.now(),
    )
    found = item(leader, "cases_to_decide")
    assert found.lines[0].url == case.get_absolute_url()
    assert item(leader, "ratings").count == 1
    assert not item(leader, "flagged").waiting
    for key in ("cases_to_decide", "ratings", "flagged"):
        assert key not in keys(commune_staff)


# --- counts, the page, queries -------------------------------------------------------


def test_counts_per_menu_item_and_in_all(open_assessment, org, city_reviewer):
    open_for(open_assessment.framework, communes(org.city, 3))
    Assessment.objects.filter(framework=open_assessment.framework).update(
        state="submitted", submitted_at=timezone.now()
    )
    items = todo_for(city_reviewer, today=timezone.localdate())
    assert counts_of(items) == {"assessments": 4, TOTAL: 4}


def test_the_menus_counts_are_kept_and_forgotten_when_work_arrives(
    client,
    open_assessment,
    commune_staff,
    commune_head,
    city_reviewer,
    django_capture_on_commit_callbacks,
):
    client.force_login(city_reviewer)
    assert client.get("/todo/counts/").json() == {}
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/todo/counts/").json() == {}
    # Kept: the session and the user only.
    assert len(queries) <= 2
    with django_capture_on_commit_callbacks(execute=True):
        submit(open_assessment, commune_staff, commune_head)
    assert client.get("/todo/counts/").json() == {"assessments": 1, TOTAL: 1}


def test_the_home_lists_waiting_work_before_what_to_know(
    client, open_assessment, commune_staff, commune_head
):
    Notice.objects.create(
        user=commune_staff, subject="Hồ sơ được trả lại", created_at=timezone.now()
    )
    response = home(client, commune_staff)
    assert [i.key for i in response.context["waiting"]] == ["assessment"]
    assert "notices" in [i.key for i in response.context["known"]]
    html = response.content.decode()
    assert "Hồ sơ được trả lại" in html
    assert 'data-testid="todo-dashboard"' not in html


@pytest.mark.parametrize(
    "persona", ["commune_staff", "commune_head", "city_reviewer", "reviewer", "leader"]
)
def test_each_roles_home_costs_the_same_queries_for_3_or_30_units(
    client, request, open_assessment, org, persona
):
    user = request.getfixturevalue(persona)
    framework = open_assessment.framework

    def load() -> int:
        with CaptureQueriesContext(connection) as queries:
            home(client, user)
        return len(queries)

    def grow(start: int, count: int) -> None:
        units = communes(org.city, count, start=start)
        for assessment in open_for(framework, units):
            Assessment.objects.filter(pk=assessment.pk).update(
                state="submitted", submitted_at=timezone.now()
            )
        for unit in units:
            head = head_of(unit)
            HeadRating.objects.create(
                unit=unit,
                year=2025,
                head=head,
                proposed=2,
                proposed_at=timezone.now(),
            )
            AccountabilityCase.objects.create(
                unit=unit,
                year=2025,
                kind=CaseKind.TWO_YEARS,
                state=AccountabilityState.EXPLAINED,
                opened_at=timezone.now(),
                updated_at=timezone.now(),
            )
            Commitment.objects.create(
                unit=unit,
                year=timezone.localdate().year,
                state=CommitmentState.SIGNED,
                head=head,
                signed_on=date.today(),
            )

    grow(0, 3)
    load()
    few = load()
    grow(3, 27)
    many = load()
    assert many == few
    assert many <= 30


def test_the_provider_of_a_role_less_account_adds_nothing(no_unit_user):
    assert todo_for(no_unit_user, today=timezone.localdate()) == []
    assert todo_counts(no_unit_user, today=timezone.localdate()) == {}


def test_approved_the_unit_is_told_where_to_see_its_result(
    open_assessment, commune_staff, commune_head, city_reviewer
):
    approve(submit(open_assessment, commune_staff, commune_head), city_reviewer)
    found = item(commune_staff, "assessment")
    assert not found.waiting
    assert found.url == f"/assessments/{open_assessment.pk}/"


def test_another_units_draft_is_not_on_my_list(
    org, open_assessment, other_commune_staff
):
    UnitFactory(code="CITY-Z", parent=org.city)
    assert "assessment" not in keys(other_commune_staff)


def test_last_years_approved_result_stays_until_published(
    open_assessment, commune_staff, commune_head, city_reviewer
):
    """The unit fills in this year's and still finds last year's result
    (approved, not yet published) among what to know; once published, the
    results pages have it and the home leaves it out."""
    from scoring.models import Framework, FrameworkState

    approve(submit(open_assessment, commune_staff, commune_head), city_reviewer)
    next_year = Framework.objects.create(
        year=2026,
        unit_kind=open_assessment.framework.unit_kind,
        name="Chỉ số 2026",
        deadline=timezone.localdate() + timedelta(days=60),
        state=FrameworkState.OPEN,
    )
    this_year = Assessment.objects.create(
        framework=next_year, unit=open_assessment.unit
    )

    items = [
        i
        for i in todo_for(commune_staff, today=timezone.localdate())
        if i.key == "assessment"
    ]
    assert [(i.url, i.waiting) for i in items] == [
        (f"/assessments/{this_year.pk}/", True),
        (f"/assessments/{open_assessment.pk}/", False),
    ]

    open_assessment.framework.state = FrameworkState.PUBLISHED
    open_assessment.framework.save(update_fields=["state"])
    assert [
        i.url
        for i in todo_for(commune_staff, today=timezone.localdate())
        if i.key == "assessment"
    ] == [f"/assessments/{this_year.pk}/"]


def test_starting_is_offered_before_the_deadline_to_a_unit_there_at_years_end(
    framework, org, commune_staff
):
    from scoring.models import Framework, FrameworkState

    Framework.objects.filter(pk=framework.pk).update(
        state=FrameworkState.OPEN,
        deadline=timezone.localdate() + timedelta(days=30),
    )
    assert "assessment_start" in keys(commune_staff)

    # Merged away during the year: its successor is assessed.
    org.commune_a.valid_to = date(framework.year, 6, 30)
    org.commune_a.save(update_fields=["valid_to"])
    assert "assessment_start" not in keys(commune_staff)

    org.commune_a.valid_to = None
    org.commune_a.save(update_fields=["valid_to"])
    Framework.objects.filter(pk=framework.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    assert "assessment_start" not in keys(commune_staff)
