"""The reviewers' queue: what each role lists, the filters (framework, year,
state, "not started", unit search), the progress of each assessment, and a
fixed number of queries whether it lists 20 assessments or 200."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.organisation.models import Unit, UnitKind
from scoring.assessments import services
from scoring.assessments.selectors import NOT_STARTED, QueueFilters, assessment_queue
from scoring.models import (
    Assessment,
    AssessmentState,
    Contest,
    Framework,
    FrameworkState,
    Score,
)
from tests.factories import UnitFactory
from tests.scoring.assessments.test_views import (
    approve,
    opened,
    save_self,
    submit,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_assessment(assessment, framework):
    return opened(assessment, framework)


def communes(city: Unit, count: int, start: int = 0):
    return [
        UnitFactory(code=f"CITY-Q{i:03d}", name=f"Xã Thử {i:03d}", parent=city)
        for i in range(start, start + count)
    ]


def open_for(framework: Framework, units: list[Unit]) -> list[Assessment]:
    return [services.assessment_open(framework=framework, unit=unit) for unit in units]


def rows(response):
    return [assessment for assessment, _reviews in response.context["rows"]]


def test_the_queue_loads_in_the_same_number_of_queries_for_20_or_200(
    client, open_assessment, org, city_reviewer
):
    """Progress, contests and links come with the one queue query: the count
    of queries does not grow with the number of assessments."""
    framework = open_assessment.framework
    client.force_login(city_reviewer)

    def load() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/assessments/")
        assert response.status_code == 200
        return len(queries), len(rows(response))

    first = open_for(framework, communes(org.city, 19))
    # Some progress on some of them, so the annotations have rows to count.
    Score.objects.filter(assessment__in=first[:5], node__method="manual").update(
        self_score=1, appraised_score=1
    )
    # A first request fills what a process keeps between requests (the
    # session, the content types, the menu's figures kept for a moment),
    # depending on what the tests before it left: measure after it.
    load()
    few_queries, few = load()
    assert few == 20
    open_for(framework, communes(org.city, 180, start=19))
    many_queries, many = load()
    assert many == 200
    assert many_queries == few_queries
    assert many_queries <= 15


def test_the_queue_query_alone_is_one_query_for_any_number(
    open_assessment, org, city_reviewer, django_assert_num_queries
):
    open_for(open_assessment.framework, communes(org.city, 30))
    city_reviewer._cchc_memberships = [("reviewer", org.city.path)]
    with django_assert_num_queries(1):
        listed = list(assessment_queue(user=city_reviewer))
        assert len(listed) == 31
        assert {a.unit.code for a in listed} >= {"CITY-A", "CITY-Q000"}
        assert {a.framework.year for a in listed} == {2025}


def test_each_row_shows_the_progress_of_the_appraisal(
    client, open_assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submit(open_assessment, commune_staff, commune_head)
    services.scores_accept_self(
        user=city_reviewer,
        assessment=assessment,
        score_ids=list(assessment.scores.values_list("pk", flat=True)),
    )
    client.force_login(city_reviewer)
    response = client.get("/assessments/", follow=True)
    (row,) = rows(response)
    # Two manual leaves appraised of three to appraise (the survey leaf is
    # left; the metric leaf is computed, not appraised).
    assert (row.appraised, row.to_appraise, row.leaves) == (2, 3, 4)
    assert (row.self_scored, row.manual_leaves) == (2, 2)
    html = response.content.decode()
    assert f'href="/assessments/{assessment.pk}/appraise/"' in html
    assert "2 / 3" in html


def test_open_contests_are_counted(
    client, open_assessment, commune_staff, commune_head, city_reviewer
):
    assessment = submit(open_assessment, commune_staff, commune_head)
    approve(assessment, city_reviewer)
    services.provisional_results_open(
        user=city_reviewer,
        framework=assessment.framework,
        today=timezone.localdate(),
    )
    for code in ("1.1.1", "1.1.2"):
        services.contest_raise(
            user=commune_staff,
            score_id=Score.objects.get(assessment=assessment, node__code=code).pk,
            requested_score="1",
            reason="x",
            now=timezone.now(),
            today=timezone.localdate(),
        )
    Contest.objects.filter(score__node__code="1.1.1").update(
        state="rejected", decided_at=timezone.now(), decision_reason="Không đủ"
    )
    client.force_login(city_reviewer)
    (row,) = rows(client.get("/assessments/"))
    assert row.open_contests == 1


@pytest.fixture
def mixed(open_assessment, org, commune_staff, commune_head, framework):
    """Commune A submitted; three more communes: one draft with a self score,
    two not started; and one commune of another year's framework."""
    submit(open_assessment, commune_staff, commune_head)
    fw = open_assessment.framework
    started, idle, idle2 = open_for(fw, communes(org.city, 3))
    Score.objects.filter(assessment=started, node__code="1.1.1").update(self_score=1)
    older = Framework.objects.create(
        year=2024,
        unit_kind=UnitKind.COMMUNE,
        name="Chỉ số CCHC cấp xã 2024",
        state=FrameworkState.OPEN,
        deadline=timezone.localdate() + timedelta(days=5),
    )
    old = services.assessment_open(framework=older, unit=org.commune_b)
    return {
        "submitted": open_assessment,
        "started": started,
        "idle": {idle, idle2},
        "old": old,
        "framework": fw,
        "older": older,
    }


def listed(client, **params):
    return set(rows(client.get("/assessments/", params)))


def test_filters_by_state_and_not_started(client, mixed, city_reviewer):
    client.force_login(city_reviewer)
    assert listed(client, state=AssessmentState.SUBMITTED) == {mixed["submitted"]}
    assert listed(client, state=NOT_STARTED) == mixed["idle"] | {mixed["old"]}
    assert listed(client, state=AssessmentState.DRAFT) == (
        mixed["idle"] | {mixed["started"], mixed["old"]}
    )


def test_filters_by_framework_and_year(client, mixed, city_reviewer):
    client.force_login(city_reviewer)
    assert listed(client, framework=mixed["older"].pk) == {mixed["old"]}
    assert listed(client, year=2024) == {mixed["old"]}
    assert len(listed(client, year=2025)) == 4
    both = listed(client, year=2025, state=NOT_STARTED)
    assert both == mixed["idle"]


def test_filters_by_unit_name_or_code(client, mixed, city_reviewer):
    client.force_login(city_reviewer)
    assert listed(client, q="phường a") == {mixed["submitted"]}
    assert listed(client, q="CITY-Q001") == {
        a for a in mixed["idle"] | {mixed["started"]} if a.unit.code == "CITY-Q001"
    }


def test_a_framework_out_of_sight_is_not_a_filter_choice(
    client, mixed, department_staff
):
    client.force_login(department_staff)
    response = client.get("/assessments/", {"framework": mixed["framework"].pk})
    assert response.context["form"].errors
    assert rows(response) == []


def test_submitted_assessments_come_first(client, mixed, city_reviewer):
    client.force_login(city_reviewer)
    order = rows(client.get("/assessments/", {"year": 2025}))
    assert order[0] == mixed["submitted"]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("city_reviewer", {"CITY-A", "CITY-B", "CITY-Q000", "CITY-Q001", "CITY-Q002"}),
        ("reviewer", {"CITY-A", "CITY-B", "CITY-Q000", "CITY-Q001", "CITY-Q002"}),
        ("leader", {"CITY-A", "CITY-B", "CITY-Q000", "CITY-Q001", "CITY-Q002"}),
        ("commune_staff", {"CITY-A"}),
        ("other_commune_staff", {"CITY-B"}),
        ("department_staff", set()),
        ("no_unit_user", set()),
    ],
)
def test_each_role_lists_the_assessments_in_its_reach(
    client, request, mixed, persona, expected
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/assessments/", {"state": ""})
    assert response.status_code == 200
    assert {a.unit.code for a in rows(response)} == expected


@pytest.mark.parametrize("persona", ["city_reviewer", "reviewer"])
def test_a_reviewers_queue_opens_on_what_waits_oldest_first(
    client, request, mixed, persona
):
    """With assessments waiting for appraisal, the queue opens filtered to
    them, the longest waiting first; "All states" (an empty choice) keeps
    the whole list."""
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/assessments/", follow=True)
    assert response.redirect_chain == [("/assessments/?state=submitted", 302)]
    assert rows(response) == [mixed["submitted"]]


def test_others_open_the_whole_list(client, mixed, commune_staff, leader):
    for user in (commune_staff, leader):
        client.force_login(user)
        assert client.get("/assessments/").status_code == 200


def test_the_waiting_list_is_ordered_by_submission(
    client, open_assessment, org, commune_staff, commune_head, city_reviewer
):
    framework = open_assessment.framework
    later, earlier = open_for(framework, communes(org.city, 2))
    for assessment, day in ((later, 20), (earlier, 10)):
        Assessment.objects.filter(pk=assessment.pk).update(
            state="submitted",
            submitted_at=datetime(2025, 12, day, tzinfo=UTC),
        )
    client.force_login(city_reviewer)
    order = rows(client.get("/assessments/", {"state": "submitted"}))
    assert order == [earlier, later]


def test_leaders_open_the_units_page_not_the_appraisal(client, mixed, leader):
    client.force_login(leader)
    html = client.get("/assessments/", {"state": "submitted"}).content.decode()
    pk = mixed["submitted"].pk
    assert f'href="/assessments/{pk}/"' in html
    assert f'href="/assessments/{pk}/appraise/"' not in html


def test_a_unit_saving_a_score_leaves_not_started(open_assessment, commune_staff):
    save_self(open_assessment, commune_staff, "1.1.1", "1")
    queue = assessment_queue(
        user=commune_staff, filters=QueueFilters(state=NOT_STARTED)
    )
    assert not queue.exists()


def test_a_page_of_the_queue_holds_its_rows_in_order_with_their_progress(
    open_assessment, org, city_reviewer, django_assert_num_queries
):
    """The page is chosen without the progress, then read with it: the same
    rows, order and figures as the whole queue, in four queries for any
    page."""
    from scoring.assessments.selectors import queue_page

    framework = open_assessment.framework
    made = open_for(framework, communes(org.city, 7))
    Score.objects.filter(assessment__in=made[2:5], node__method="manual").update(
        self_score=1, appraised_score=1
    )
    city_reviewer._cchc_memberships = [("reviewer", org.city.path)]
    whole = list(assessment_queue(user=city_reviewer))
    progress = [
        (a.pk, a.leaves, a.self_scored, a.to_appraise, a.appraised) for a in whole
    ]
    shown = []
    for number in (1, 2, 3):
        with django_assert_num_queries(4):
            page = queue_page(
                user=city_reviewer, filters=QueueFilters(), number=number, per_page=3
            )
            shown += [
                (a.pk, a.leaves, a.self_scored, a.to_appraise, a.appraised)
                for a in page
            ]
        assert page.paginator.count == 8
    assert shown == progress
    assert any(appraised for *_rest, appraised in shown)
