"""In-portal notices: each user reads and marks only their own, the menu bar
counts the unread ones; and the reviewers' list of the units that have not
started their self-assessment."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from commitments.organisation.models import UnitKind
from scoring.assessments import services
from scoring.context_processors import notices as notices_context
from scoring.models import (
    AssessmentState,
    DeadlineReminder,
    Framework,
    FrameworkState,
    Notice,
    Score,
)
from tests.conftest import PASSWORD
from tests.wording import vi

NOTICES_URL = reverse("notice_list")
READ_ALL_URL = reverse("notices_read_all")
NOT_STARTED_URL = reverse("assessments_not_started")
T0 = datetime(2025, 12, 31, 0, 0, tzinfo=UTC)


def notice(user, subject, *, minutes=0, read=False, url=""):
    return Notice.objects.create(
        user=user,
        subject=subject,
        body="Nội dung\nDòng hai",
        url=url,
        created_at=T0 + timedelta(minutes=minutes),
        read_at=T0 if read else None,
    )


def logged_in(client, user):
    client.force_login(user)
    return client


def read_url(n):
    return reverse("notice_read", kwargs={"pk": n.pk})


# --- the notices page --------------------------------------------------------------


def test_the_notices_page_lists_the_users_own_newest_first(
    client, commune_staff, other_commune_staff
):
    notice(commune_staff, "Cũ", minutes=0, read=True)
    notice(commune_staff, "Mới", minutes=5)
    notice(other_commune_staff, "Của người khác", minutes=10)

    response = logged_in(client, commune_staff).get(NOTICES_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Mới") < html.index("Cũ")
    assert "Của người khác" not in html
    assert "Dòng hai" in html
    assert '<html lang="vi">' in html
    assert vi("Notices") in html
    assert [n.subject for n in response.context["page"]] == ["Mới", "Cũ"]


def test_the_notices_page_needs_a_login(client, db):
    response = client.get(NOTICES_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_notice_is_marked_read_and_stays_read_at_its_first_reading(
    client, commune_staff
):
    mine = notice(commune_staff, "Nhắc hạn")
    client = logged_in(client, commune_staff)

    response = client.post(read_url(mine))

    assert response.status_code == 302
    assert response["Location"] == NOTICES_URL
    mine.refresh_from_db()
    first = mine.read_at
    assert first is not None
    client.post(read_url(mine))
    mine.refresh_from_db()
    assert mine.read_at == first


def test_another_users_notice_cannot_be_marked_read(
    client, commune_staff, other_commune_staff
):
    theirs = notice(other_commune_staff, "Nhắc hạn")

    response = logged_in(client, commune_staff).post(read_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notice_marks_it_read_and_follows_its_link(client, commune_staff):
    mine = notice(commune_staff, "Nhắc hạn", url="/assessments/1/")

    response = logged_in(client, commune_staff).post(
        read_url(mine), {"next": "/assessments/1/"}
    )

    assert response["Location"] == "/assessments/1/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_a_link_to_another_site_is_not_followed(client, commune_staff):
    mine = notice(commune_staff, "Nhắc hạn")

    response = logged_in(client, commune_staff).post(
        read_url(mine), {"next": "https://evil.example.com/"}
    )

    assert response["Location"] == NOTICES_URL


def test_all_read_marks_only_the_users_own(client, commune_staff, other_commune_staff):
    notice(commune_staff, "Một")
    notice(commune_staff, "Hai")
    theirs = notice(other_commune_staff, "Ba")

    response = logged_in(client, commune_staff).post(READ_ALL_URL, follow=True)

    assert not Notice.objects.filter(user=commune_staff, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert vi("All notices are marked as read.") in response.content.decode()


@pytest.mark.parametrize("url", [READ_ALL_URL, "/notices/1/read/"])
def test_marking_read_takes_a_post(client, commune_staff, url):
    assert logged_in(client, commune_staff).get(url).status_code == 405


# --- the badge ---------------------------------------------------------------------


def test_the_menu_bar_counts_the_unread_notices(client, commune_staff):
    notice(commune_staff, "Một")
    notice(commune_staff, "Hai")
    notice(commune_staff, "Đã đọc", read=True)
    client = logged_in(client, commune_staff)

    html = client.get(NOTICES_URL).content.decode()

    assert 'data-testid="notice-badge"' in html
    assert f'title="{vi("Unread notices")}">2</span>' in html
    client.post(READ_ALL_URL)
    html = client.get(NOTICES_URL).content.decode()
    assert 'data-testid="notices-link"' in html
    assert 'data-testid="notice-badge"' not in html


def test_the_count_costs_one_query_and_only_when_shown(
    commune_staff, other_commune_staff, django_assert_num_queries
):
    notice(commune_staff, "Một")
    notice(other_commune_staff, "Hai")
    request = RequestFactory().get("/")
    request.user = commune_staff

    with django_assert_num_queries(0):
        context = notices_context(request)
    with django_assert_num_queries(1):
        assert str(context["unread_notices"]) == "1"
        assert context["unread_notices"] == 1


def test_no_count_for_an_anonymous_visitor(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    with django_assert_num_queries(0):
        assert notices_context(request) == {}


def test_the_login_page_shows_no_notices_link(client, db):
    assert 'data-testid="notices-link"' not in client.get("/login/").content.decode()


# --- units that have not started ---------------------------------------------------


@pytest.fixture
def open_framework(framework):
    framework.state = FrameworkState.OPEN
    framework.save()
    return framework


@pytest.fixture
def two_communes(open_framework, org, commune_staff):
    """Commune A has entered a score, commune B nothing yet (and was reminded)."""
    a = services.assessment_open(framework=open_framework, unit=org.commune_a)
    b = services.assessment_open(framework=open_framework, unit=org.commune_b)
    leaf = Score.objects.get(assessment=a, node__code="1.1.1")
    services.score_self_save(
        user=commune_staff,
        score_id=leaf.pk,
        self_score="1",
        explanation="",
        version=leaf.version,
        today=date(2025, 12, 1),
    )
    DeadlineReminder.objects.create(
        assessment=b,
        days_before=7,
        sent_at=T0,
        situation="not_started",
        recipients=2,
    )
    return a, b


def units_listed(response):
    return [row.unit.code for row in response.context["rows"]]


@pytest.mark.parametrize("persona", ["city_reviewer", "reviewer", "superuser"])
def test_reviewers_see_the_units_that_have_not_started_and_their_reminders(
    client, request, persona, two_communes, open_framework
):
    user = request.getfixturevalue(persona)

    response = logged_in(client, user).get(
        NOT_STARTED_URL, {"framework": open_framework.pk}
    )

    assert response.status_code == 200
    assert units_listed(response) == ["CITY-B"]
    assert response.context["total"] == 2
    html = response.content.decode()
    assert "Xã B" in html
    assert "Phường A" not in html
    sent = vi("%(day)s: %(days)s days before the deadline (recipients: %(recipients)s)")
    assert sent % {"day": "31/12/2025 07:00", "days": 7, "recipients": 2} in html
    assert vi("Deadline: %(day)s.") % {"day": "07/01/2026"} in html


def test_without_a_framework_the_open_one_is_shown(
    client, city_reviewer, two_communes, open_framework
):
    response = logged_in(client, city_reviewer).get(NOT_STARTED_URL)

    assert response.context["framework"] == open_framework
    assert units_listed(response) == ["CITY-B"]


def test_a_returned_or_submitted_assessment_is_not_listed(
    client, city_reviewer, two_communes
):
    _a, b = two_communes
    for state in (AssessmentState.RETURNED, AssessmentState.SUBMITTED):
        b.state = state
        b.save()

        response = logged_in(client, city_reviewer).get(NOT_STARTED_URL)

        assert units_listed(response) == []


@pytest.mark.parametrize(
    "persona",
    ["commune_staff", "commune_head", "other_commune_staff", "leader", "no_unit_user"],
)
def test_only_reviewers_and_superusers_may_see_who_has_not_started(
    client, request, persona, two_communes, open_framework
):
    user = request.getfixturevalue(persona)

    response = logged_in(client, user).get(
        NOT_STARTED_URL, {"framework": open_framework.pk}
    )

    assert response.status_code == 404


def test_a_framework_outside_the_reviewers_scope_answers_404(
    client, city_reviewer, org, two_communes
):
    departments = Framework.objects.create(
        year=2025,
        unit_kind=UnitKind.DEPARTMENT,
        name="Chỉ số CCHC cấp sở",
        state=FrameworkState.OPEN,
    )
    services.assessment_open(framework=departments, unit=org.department)
    client = logged_in(client, city_reviewer)

    assert client.get(NOT_STARTED_URL, {"framework": departments.pk}).status_code == 404
    assert client.get(NOT_STARTED_URL, {"framework": "x"}).status_code == 404
    assert client.get(NOT_STARTED_URL, {"framework": 9999}).status_code == 404


def test_a_reviewer_does_not_see_their_own_unit_there(
    client, org, open_framework, two_communes
):
    """Nobody appraises their own unit: a commune's reviewer has nothing to
    follow."""
    from tests.conftest import member

    own = member("reviewer.b", org.commune_b, "reviewer")

    response = logged_in(client, own).get(NOT_STARTED_URL)

    assert response.status_code == 200
    assert response.context["framework"] is None
    assert vi("No assessment to follow yet.") in response.content.decode()


def test_a_reviewer_logs_in_with_a_password_and_reaches_the_page(
    client, city_reviewer, two_communes
):
    assert client.login(
        request=RequestFactory().get("/"),
        username=city_reviewer.username,
        password=PASSWORD,
    )

    assert client.get(NOT_STARTED_URL).status_code == 200
