"""The assessment pages through the client, as each role uses them: the
unit's self-assessment (autosave endpoint with its 409, completeness, submit,
answers, contests), the appraisal page and its actions, and who may open or
post what (404 out of sight, 403 for a forbidden action on a visible
assessment)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from procedures.models import PeriodKind, UnitMetric
from scoring.assessments import services
from scoring.models import (
    Assessment,
    AssessmentState,
    Comment,
    Contest,
    ContestState,
    Evidence,
    Framework,
    FrameworkState,
    Score,
)
from tests.wording import vi

JSON = {"HTTP_ACCEPT": "application/json"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PERSONAS = (
    "commune_staff",
    "commune_head",
    "other_commune_staff",
    "department_staff",
    "city_reviewer",
    "reviewer",
    "leader",
    "superuser",
    "no_unit_user",
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


def opened(assessment, framework) -> Assessment:
    """The commune's assessment, its framework open with the deadline a month
    ahead (the pages take today from the clock)."""
    Framework.objects.filter(pk=framework.pk).update(
        deadline=timezone.localdate() + timedelta(days=30), state=FrameworkState.OPEN
    )
    return Assessment.objects.select_related("framework", "unit").get(pk=assessment.pk)


@pytest.fixture
def open_assessment(assessment, framework):
    return opened(assessment, framework)


def score(assessment, code) -> Score:
    return Score.objects.select_related("node").get(
        assessment=assessment, node__code=code
    )


def today():
    return timezone.localdate()


def save_self(assessment, user, code, value, explanation="Đã thực hiện"):
    s = score(assessment, code)
    return services.score_self_save(
        user=user,
        score_id=s.pk,
        self_score=value,
        explanation=explanation,
        version=s.version,
        today=today(),
    )


def add_document(assessment, user, name="ke-hoach.pdf", data=PDF):
    from scoring.assessments import evidence

    return evidence.evidence_add(
        user=user,
        assessment=assessment,
        upload=SimpleUploadedFile(name, data, content_type="application/pdf"),
        today=today(),
    )


def fill_in(assessment, user):
    """Both manual leaves scored, the evidence 1.1.2 requires attached."""
    save_self(assessment, user, "1.1.1", "2")
    save_self(assessment, user, "1.1.2", "3.5")
    doc = add_document(assessment, user)
    services.score_evidence_set(
        user=user,
        score_id=score(assessment, "1.1.2").pk,
        evidence_ids=[doc.pk],
        today=today(),
    )
    return doc


def submit(assessment, staff, head):
    fill_in(assessment, staff)
    return services.assessment_submit(
        user=head, assessment=assessment, now=timezone.now(), today=today()
    )


def approve(assessment, reviewer):
    services.scores_accept_self(
        user=reviewer,
        assessment=assessment,
        score_ids=list(assessment.scores.values_list("pk", flat=True)),
    )
    survey = score(assessment, "2.2")
    services.score_appraise(
        user=reviewer,
        score_id=survey.pk,
        appraised_score="1.5",
        reason="Điều tra xã hội học",
        version=survey.version,
    )
    return services.assessment_approve(
        user=reviewer, assessment=assessment, now=timezone.now()
    )


def login(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    return user


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Who may open what ----------------------------------------------------------------


DETAIL_STATUS = {
    "commune_staff": 200,
    "commune_head": 200,
    "other_commune_staff": 404,
    "department_staff": 404,
    "city_reviewer": 200,
    "reviewer": 200,
    "leader": 200,
    "superuser": 200,
    "no_unit_user": 404,
}
APPRAISE_STATUS = {
    **DETAIL_STATUS,
    "commune_staff": 403,
    "commune_head": 403,
    "leader": 403,
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", ["", "history/"])
def test_the_assessment_and_its_history_open_only_for_those_who_see_the_unit(
    client, request, open_assessment, persona, page
):
    login(client, request, persona)
    response = client.get(f"/assessments/{open_assessment.pk}/{page}")
    assert response.status_code == DETAIL_STATUS[persona]
    if response.status_code == 404:
        assert "Phường A" not in response.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_appraisal_page_opens_only_for_reviewers_of_the_unit(
    client, request, open_assessment, persona
):
    login(client, request, persona)
    response = client.get(f"/assessments/{open_assessment.pk}/appraise/")
    assert response.status_code == APPRAISE_STATUS[persona]


def test_pages_ask_an_anonymous_visitor_to_log_in(client, open_assessment):
    for url in (
        "/assessments/",
        f"/assessments/{open_assessment.pk}/",
        f"/assessments/{open_assessment.pk}/appraise/",
        f"/assessments/{open_assessment.pk}/history/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    s = score(open_assessment, "1.1.1")
    response = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "1", "explanation": "", "version": s.version},
    )
    assert response.status_code == 302
    assert score(open_assessment, "1.1.1").self_score is None


def test_a_reviewer_does_not_appraise_their_own_units_assessment(
    client, framework, org, city_reviewer
):
    """The city's own assessment is in the city reviewer's sight but is
    appraised by the province: 403, not 404."""
    framework.unit_kind = org.city.kind
    framework.save()
    own = services.assessment_open(framework=framework, unit=org.city)
    client.force_login(city_reviewer)
    assert client.get(f"/assessments/{own.pk}/").status_code == 200
    assert client.get(f"/assessments/{own.pk}/appraise/").status_code == 403


# --- The self-assessment page ---------------------------------------------------------


def test_the_page_shows_the_tree_with_maxima_guidance_and_inputs_for_manual_leaves(
    client, open_assessment, commune_staff, framework
):
    framework.nodes.filter(code="1.1.1").update(
        guidance="Kế hoạch CCHC năm ban hành trước 31/12"
    )
    client.force_login(commune_staff)
    response = client.get(f"/assessments/{open_assessment.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    sheet = response.context["sheet"]
    assert [row.node.code for row in sheet.rows] == [
        "1",
        "1.1",
        "1.1.1",
        "1.1.2",
        "2",
        "2.1",
        "2.2",
    ]
    assert sheet.max_total == Decimal(10)
    assert "Kế hoạch CCHC năm ban hành trước 31/12" in html
    # Inputs for the two manual leaves only, each with its version.
    assert html.count('data-testid="self-score"') == 2
    s = score(open_assessment, "1.1.1")
    assert f'action="/assessments/{open_assessment.pk}/scores/{s.pk}/"' in html
    assert f'name="version" value="{s.version}"' in html
    assert "assessment.js" in html
    # The metric leaf shows "no data", no input; the survey leaf says who enters it.
    assert 'data-testid="metric-no-data"' in html
    assert vi("No data") in html
    assert vi("Points from the sociological survey, entered by Home Affairs.") in html


def test_a_metric_leaf_shows_its_rate_points_and_the_figures_it_came_from(
    client, open_assessment, commune_staff, org
):
    UnitMetric.objects.create(
        unit=org.commune_a,
        period_kind=PeriodKind.YEAR,
        year=2025,
        number=1,
        received=40,
        in_scope=40,
        on_time=30,
        late=10,
        computed_at=timezone.now(),
    )
    client.force_login(commune_staff)
    response = client.get(f"/assessments/{open_assessment.pk}/")
    row = next(r for r in response.context["sheet"].rows if r.node.code == "2.1")
    assert row.metric.rate == Decimal("75.00")
    assert row.metric.points == Decimal("1.50")  # linear to 100%, max 2
    html = response.content.decode()
    assert 'data-testid="metric-rate">75,00%' in html
    assert 'data-testid="metric-points">1,50' in html
    assert 'href="/units/CITY-A/metrics/?year=2025"' in html
    assert 'href="/cases/late/?unit=CITY-A&amp;late_year=2025"' in html
    # The computed points count in the unit's running total.
    assert response.context["sheet"].self_total == Decimal("1.50")


def test_the_running_totals_add_the_self_scores_per_field_and_overall(
    client, open_assessment, commune_staff
):
    save_self(open_assessment, commune_staff, "1.1.1", "2")
    save_self(open_assessment, commune_staff, "1.1.2", "3.25")
    client.force_login(commune_staff)
    sheet = client.get(f"/assessments/{open_assessment.pk}/").context["sheet"]
    totals = {row.node.code: row.self_points for row in sheet.rows}
    assert totals["1.1"] == Decimal("5.25")
    assert totals["1"] == Decimal("5.25")
    assert totals["2"] == Decimal(0)
    assert sheet.self_total == Decimal("5.25")


def test_autosave_saves_a_leaf_and_answers_the_new_version_and_totals(
    client, open_assessment, commune_staff
):
    client.force_login(commune_staff)
    s = score(open_assessment, "1.1.2")
    response = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "3,5", "explanation": " Đã ban hành ", "version": s.version},
        **JSON,
    )
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True
    assert data["version"] == s.version + 1
    assert data["self_score"] == "3,50"
    f1 = open_assessment.framework.nodes.get(code="1")
    assert data["self_totals"][str(f1.pk)] == "3,50"
    assert data["self_total"] == "3,50"
    assert data["completeness"] == {
        "empty": ["1.1.1"],
        "missing_evidence": ["1.1.2"],
    }
    saved = score(open_assessment, "1.1.2")
    assert (saved.self_score, saved.explanation) == (Decimal("3.5"), "Đã ban hành")
    assert saved.updated_by == commune_staff


def test_a_save_from_an_older_version_answers_409_with_the_services_message(
    client, open_assessment, commune_staff, commune_head
):
    """Two people on the same leaf: the second save, made from the version
    both read, is refused instead of overwriting the first."""
    s = score(open_assessment, "1.1.1")
    read = s.version
    client.force_login(commune_head)
    first = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "1", "explanation": "", "version": read},
        **JSON,
    )
    assert first.status_code == 200
    client.force_login(commune_staff)
    second = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "2", "explanation": "", "version": read},
        **JSON,
    )
    assert second.status_code == 409
    data = second.json()
    assert data["stale"] is True
    assert data["version"] == read + 1
    assert "1.1.1" in data["error"]
    assert "head.a" in data["error"]  # who changed it
    assert score(open_assessment, "1.1.1").self_score == Decimal(1)


def test_an_invalid_score_answers_400_naming_the_leaf(
    client, open_assessment, commune_staff
):
    client.force_login(commune_staff)
    s = score(open_assessment, "1.1.1")
    response = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "2.5", "explanation": "", "version": s.version},
        **JSON,
    )
    assert response.status_code == 400
    assert "1.1.1" in response.json()["error"]
    assert "2,00" in response.json()["error"]  # the maximum, as Vietnamese writes it


def test_without_script_a_save_redirects_to_the_leaf_with_a_message(
    client, open_assessment, commune_staff
):
    client.force_login(commune_staff)
    s = score(open_assessment, "1.1.1")
    response = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "9", "explanation": "", "version": s.version},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(
        f"/assessments/{open_assessment.pk}/#leaf-1.1.1"
    )
    assert any("1.1.1" in m for m in messages_of(response))


SAVE_STATUS = {
    "commune_staff": 200,
    "commune_head": 200,
    "other_commune_staff": 404,
    "department_staff": 404,
    "city_reviewer": 403,
    "reviewer": 403,
    "leader": 403,
    "superuser": 403,
    "no_unit_user": 404,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_units_staff_and_head_save_a_leaf(
    client, request, open_assessment, persona
):
    login(client, request, persona)
    s = score(open_assessment, "1.1.1")
    response = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "1", "explanation": "", "version": s.version},
        **JSON,
    )
    assert response.status_code == SAVE_STATUS[persona]
    expected = Decimal(1) if response.status_code == 200 else None
    assert score(open_assessment, "1.1.1").self_score == expected


def test_a_score_of_another_assessment_answers_404(
    client, open_assessment, commune_staff, other_commune_staff, framework, org
):
    other = services.assessment_open(framework=framework, unit=org.commune_b)
    foreign = score(other, "1.1.1")
    client.force_login(commune_staff)
    response = client.post(
        f"/assessments/{open_assessment.pk}/scores/{foreign.pk}/",
        {"self_score": "1", "explanation": "", "version": foreign.version},
        **JSON,
    )
    assert response.status_code == 404


def test_after_the_deadline_the_page_is_read_only_with_the_reason(
    client, open_assessment, commune_staff, framework
):
    past = today() - timedelta(days=1)
    Framework.objects.filter(pk=framework.pk).update(deadline=past)
    client.force_login(commune_staff)
    response = client.get(f"/assessments/{open_assessment.pk}/")
    html = response.content.decode()
    assert 'data-testid="self-score"' not in html
    assert 'data-testid="lock-reason"' in html
    passed = vi(
        "The deadline of %(day)s has passed: the self-assessment can no longer be "
        "changed. Ask Home Affairs for an extension."
    )
    assert passed % {"day": past.strftime("%d/%m/%Y")} in html
    s = score(open_assessment, "1.1.1")
    refused = client.post(
        f"/assessments/{open_assessment.pk}/scores/{s.pk}/",
        {"self_score": "1", "explanation": "", "version": s.version},
        **JSON,
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == vi(
        "The deadline has passed; ask Home Affairs for an extension."
    )


def test_an_extension_reopens_the_page(
    client, open_assessment, commune_staff, city_reviewer, framework
):
    Framework.objects.filter(pk=framework.pk).update(
        deadline=today() - timedelta(days=1)
    )
    until = today() + timedelta(days=3)
    client.force_login(city_reviewer)
    response = client.post(
        f"/assessments/{open_assessment.pk}/extend/",
        {"until": until.strftime("%d/%m/%Y")},
        follow=True,
    )
    assert until.strftime("%d/%m/%Y") in " ".join(messages_of(response))
    assert Assessment.objects.get(pk=open_assessment.pk).extended_until == until
    client.force_login(commune_staff)
    html = client.get(f"/assessments/{open_assessment.pk}/").content.decode()
    assert 'data-testid="self-score"' in html
    assert 'data-testid="lock-reason"' not in html


def test_an_extension_needs_a_date_written_dd_mm_yyyy(
    client, open_assessment, city_reviewer
):
    client.force_login(city_reviewer)
    response = client.post(
        f"/assessments/{open_assessment.pk}/extend/",
        {"until": "2026-13-45"},
        follow=True,
    )
    assert "dd/mm/yyyy" in " ".join(messages_of(response))
    assert Assessment.objects.get(pk=open_assessment.pk).extended_until is None


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("commune_staff", 403),
        ("commune_head", 403),
        ("leader", 403),
        ("other_commune_staff", 404),
    ],
)
def test_only_reviewers_grant_extensions(
    client, request, open_assessment, persona, status
):
    login(client, request, persona)
    response = client.post(
        f"/assessments/{open_assessment.pk}/extend/",
        {"until": (today() + timedelta(days=3)).strftime("%d/%m/%Y")},
    )
    assert response.status_code == status
    assert Assessment.objects.get(pk=open_assessment.pk).extended_until is None


def test_completeness_is_shown_before_submit(client, open_assessment, commune_head):
    client.force_login(commune_head)
    html = client.get(f"/assessments/{open_assessment.pk}/").content.decode()
    assert 'data-testid="empty-leaves"' in html
    assert 'href="#leaf-1.1.1"' in html
    assert 'data-testid="missing-evidence"' in html
    assert 'data-testid="submit-assessment"' in html


def test_staff_are_told_the_head_submits(client, open_assessment, commune_staff):
    client.force_login(commune_staff)
    html = client.get(f"/assessments/{open_assessment.pk}/").content.decode()
    assert 'data-testid="submit-assessment"' not in html
    assert vi("head") in html.lower()


def test_submitting_an_incomplete_assessment_lists_the_gaps(
    client, open_assessment, commune_head
):
    client.force_login(commune_head)
    response = client.post(f"/assessments/{open_assessment.pk}/submit/", follow=True)
    text = " ".join(messages_of(response))
    assert "1.1.1" in text
    assert "1.1.2" in text
    assert Assessment.objects.get(pk=open_assessment.pk).state == AssessmentState.DRAFT


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("commune_staff", 403),
        ("city_reviewer", 403),
        ("leader", 403),
        ("other_commune_staff", 404),
        ("commune_head", 302),
    ],
)
def test_only_the_head_submits(
    client, request, open_assessment, commune_staff, persona, status
):
    fill_in(open_assessment, commune_staff)
    login(client, request, persona)
    response = client.post(f"/assessments/{open_assessment.pk}/submit/")
    assert response.status_code == status
    expected = AssessmentState.SUBMITTED if status == 302 else AssessmentState.DRAFT
    assert Assessment.objects.get(pk=open_assessment.pk).state == expected


def test_a_submitted_assessment_is_read_only_for_the_unit(
    client, open_assessment, commune_staff, commune_head
):
    submit(open_assessment, commune_staff, commune_head)
    client.force_login(commune_staff)
    html = client.get(f"/assessments/{open_assessment.pk}/").content.decode()
    assert 'data-testid="self-score"' not in html
    assert 'data-testid="lock-reason"' in html
    assert 'data-testid="self-score-value">2,00' in html
    # The appraisal in progress is not shown to the unit.
    assert 'data-testid="leaf-appraisal"' not in html


# --- Appraisal ------------------------------------------------------------------------


@pytest.fixture
def submitted(open_assessment, commune_staff, commune_head):
    submit(open_assessment, commune_staff, commune_head)
    return Assessment.objects.select_related("framework", "unit").get(
        pk=open_assessment.pk
    )


def test_the_appraisal_page_shows_self_score_evidence_and_explanation_beside_inputs(
    client, submitted, city_reviewer
):
    client.force_login(city_reviewer)
    response = client.get(f"/assessments/{submitted.pk}/appraise/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="self-score-value">3,50' in html
    assert "ke-hoach.pdf" in html
    assert "Đã thực hiện" in html
    # Manual and survey leaves are appraised; the metric leaf is computed.
    assert html.count('data-testid="appraised-score"') == 3
    assert html.count('data-testid="accept-check"') == 2
    assert html.count('data-testid="return-comment"') == 3
    assert response.context["sheet"].to_appraise == 3


def test_an_appraised_score_that_differs_needs_the_reason_the_service_asks_for(
    client, submitted, city_reviewer
):
    client.force_login(city_reviewer)
    s = score(submitted, "1.1.2")
    url = f"/assessments/{submitted.pk}/scores/{s.pk}/appraise/"
    refused = client.post(
        url,
        {"appraised_score": "2", "appraisal_reason": "", "version": s.version},
        **JSON,
    )
    assert refused.status_code == 400
    assert "1.1.2" in refused.json()["error"]
    saved = client.post(
        url,
        {
            "appraised_score": "2",
            "appraisal_reason": "Thiếu báo cáo quý IV",
            "version": s.version,
        },
        **JSON,
    )
    assert saved.status_code == 200
    assert saved.json()["appraised"] == 1
    assert saved.json()["appraised_score"] == "2,00"
    assert score(submitted, "1.1.2").appraised_score == Decimal(2)


def test_a_stale_appraisal_answers_409(client, submitted, city_reviewer, reviewer):
    s = score(submitted, "1.1.1")
    url = f"/assessments/{submitted.pk}/scores/{s.pk}/appraise/"
    client.force_login(reviewer)
    client.post(
        url,
        {"appraised_score": "2", "appraisal_reason": "", "version": s.version},
        **JSON,
    )
    client.force_login(city_reviewer)
    response = client.post(
        url,
        {"appraised_score": "1", "appraisal_reason": "Thiếu", "version": s.version},
        **JSON,
    )
    assert response.status_code == 409
    assert "1.1.1" in response.json()["error"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("commune_staff", 403),
        ("commune_head", 403),
        ("leader", 403),
        ("other_commune_staff", 404),
        ("department_staff", 404),
        ("city_reviewer", 200),
        ("reviewer", 200),
        ("superuser", 200),
    ],
)
def test_only_reviewers_of_the_unit_appraise(
    client, request, submitted, persona, status
):
    login(client, request, persona)
    s = score(submitted, "1.1.1")
    response = client.post(
        f"/assessments/{submitted.pk}/scores/{s.pk}/appraise/",
        {"appraised_score": "2", "appraisal_reason": "", "version": s.version},
        **JSON,
    )
    assert response.status_code == status
    expected = Decimal(2) if status == 200 else None
    assert score(submitted, "1.1.1").appraised_score == expected


def test_bulk_accept_sets_the_appraised_score_to_the_self_score_on_checked_leaves(
    client, submitted, city_reviewer
):
    client.force_login(city_reviewer)
    checked = score(submitted, "1.1.2")
    response = client.post(
        f"/assessments/{submitted.pk}/accept/", {"score": [checked.pk]}, follow=True
    )
    assert any("1" in m for m in messages_of(response))
    assert score(submitted, "1.1.2").appraised_score == Decimal("3.5")
    assert score(submitted, "1.1.1").appraised_score is None


def test_bulk_accept_of_every_leaf_says_what_it_changed_and_which_it_left(
    client, submitted, city_reviewer
):
    """Issue 15, defect 6: a leaf appraised at 0,5 with a reason is not reset
    by "accept the self score" on every leaf, and the page names it."""
    client.force_login(city_reviewer)
    appraised = score(submitted, "1.1.2")
    services.score_appraise(
        user=city_reviewer,
        score_id=appraised.pk,
        appraised_score="0,5",
        reason="Thiếu quyết định ban hành",
        version=appraised.version,
    )
    every = list(submitted.scores.values_list("pk", flat=True))
    response = client.post(
        f"/assessments/{submitted.pk}/accept/", {"score": every}, follow=True
    )
    kept = vi("Left as you appraised them (another score or a reason): %(leaves)s.")
    assert messages_of(response) == [
        vi("Self score accepted on %(count)s leaves.") % {"count": 1},
        kept % {"leaves": "1.1.2 Mục 1.1.2"},
    ]
    kept = score(submitted, "1.1.2")
    assert (kept.appraised_score, kept.appraisal_reason) == (
        Decimal("0.5"),
        "Thiếu quyết định ban hành",
    )
    assert score(submitted, "1.1.1").appraised_score == Decimal(2)


def test_bulk_accept_without_a_checked_leaf_says_so(client, submitted, city_reviewer):
    client.force_login(city_reviewer)
    response = client.post(f"/assessments/{submitted.pk}/accept/", {}, follow=True)
    assert messages_of(response)
    assert not Score.objects.filter(
        assessment=submitted, appraised_score__isnull=False
    ).exists()


def test_return_with_comments_then_the_unit_sees_them_answers_and_resubmits(
    client, submitted, city_reviewer, commune_staff, commune_head
):
    s = score(submitted, "1.1.1")
    other = score(submitted, "1.1.2")
    client.force_login(city_reviewer)
    # The reviewer had already appraised 1.1.2 before returning.
    client.post(
        f"/assessments/{submitted.pk}/scores/{other.pk}/appraise/",
        {"appraised_score": "3", "appraisal_reason": "Thiếu", "version": other.version},
        **JSON,
    )
    response = client.post(
        f"/assessments/{submitted.pk}/return/",
        {
            f"comment-{s.pk}": "Bổ sung quyết định ban hành kế hoạch",
            f"comment-{other.pk}": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Assessment.objects.get(pk=submitted.pk).state == AssessmentState.RETURNED
    comment = Comment.objects.get()
    assert (comment.score_id, comment.round) == (s.pk, 1)

    client.force_login(commune_staff)
    page = client.get(f"/assessments/{submitted.pk}/")
    html = page.content.decode()
    assert 'data-testid="returned-notice"' in html
    assert "Bổ sung quyết định ban hành kế hoạch" in html
    assert 'data-testid="answer-text"' in html
    # What the reviewer changed since the submission, old → new.
    row = next(r for r in page.context["sheet"].rows if r.node.code == "1.1.2")
    assert next((c.old, c.new) for c in row.changes) == ("—", "3,00")
    assert 'data-testid="leaf-changes"' in html
    # The leaves are editable again.
    assert 'data-testid="self-score"' in html

    # Resubmitting before answering is refused, with the service's message.
    client.force_login(commune_head)
    refused = client.post(f"/assessments/{submitted.pk}/submit/", follow=True)
    assert any("1.1.1" in m for m in messages_of(refused))

    client.force_login(commune_staff)
    answered = client.post(
        f"/assessments/{submitted.pk}/comments/{comment.pk}/answer/",
        {"answer": "Đã bổ sung Quyết định số 12/QĐ-UBND"},
        follow=True,
    )
    assert any("1.1.1" in m for m in messages_of(answered))
    client.force_login(commune_head)
    client.post(f"/assessments/{submitted.pk}/submit/")
    again = Assessment.objects.get(pk=submitted.pk)
    assert (again.state, again.round) == (AssessmentState.SUBMITTED, 2)


def test_a_return_without_any_comment_is_refused(client, submitted, city_reviewer):
    client.force_login(city_reviewer)
    response = client.post(f"/assessments/{submitted.pk}/return/", {}, follow=True)
    assert messages_of(response)
    assert Assessment.objects.get(pk=submitted.pk).state == AssessmentState.SUBMITTED


@pytest.mark.parametrize(
    ("persona", "status"),
    [("commune_staff", 403), ("leader", 403), ("other_commune_staff", 404)],
)
def test_only_reviewers_return_accept_and_approve(
    client, request, submitted, persona, status
):
    login(client, request, persona)
    s = score(submitted, "1.1.1")
    for url, data in (
        ("return/", {f"comment-{s.pk}": "x"}),
        ("accept/", {"score": [s.pk]}),
        ("approve/", {}),
    ):
        assert client.post(f"/assessments/{submitted.pk}/{url}", data).status_code == (
            status
        )
    assert Assessment.objects.get(pk=submitted.pk).state == AssessmentState.SUBMITTED
    assert not Comment.objects.exists()


@pytest.mark.parametrize("persona", ["city_reviewer", "commune_head"])
def test_answering_a_comment_is_for_the_unit(
    client, request, submitted, city_reviewer, persona
):
    s = score(submitted, "1.1.1")
    services.assessment_return(
        user=city_reviewer,
        assessment=submitted,
        comments={s.pk: "x"},
        now=timezone.now(),
    )
    comment = Comment.objects.get()
    login(client, request, persona)
    response = client.post(
        f"/assessments/{submitted.pk}/comments/{comment.pk}/answer/", {"answer": "y"}
    )
    if persona == "city_reviewer":
        assert response.status_code == 403
        assert Comment.objects.get().answer == ""
    else:
        assert response.status_code == 302
        assert Comment.objects.get().answer == "y"


def test_another_units_comment_answers_404(
    client, submitted, city_reviewer, other_commune_staff, framework, org
):
    s = score(submitted, "1.1.1")
    services.assessment_return(
        user=city_reviewer,
        assessment=submitted,
        comments={s.pk: "x"},
        now=timezone.now(),
    )
    comment = Comment.objects.get()
    client.force_login(other_commune_staff)
    other = services.assessment_open(framework=framework, unit=org.commune_b)
    # Neither through its own assessment nor through commune A's.
    for pk in (other.pk, submitted.pk):
        response = client.post(
            f"/assessments/{pk}/comments/{comment.pk}/answer/", {"answer": "y"}
        )
        assert response.status_code == 404


def test_approve_needs_every_leaf_appraised_and_then_closes_the_appraisal(
    client, submitted, city_reviewer
):
    client.force_login(city_reviewer)
    refused = client.post(f"/assessments/{submitted.pk}/approve/", follow=True)
    assert any("1.1.1" in m for m in messages_of(refused))
    approve(submitted, city_reviewer)
    html = client.get(f"/assessments/{submitted.pk}/appraise/").content.decode()
    assert 'data-testid="not-appraising"' in html
    assert 'data-testid="appraised-score"' not in html


# --- Provisional results and contests -------------------------------------------------


@pytest.fixture
def approved(submitted, city_reviewer):
    return approve(submitted, city_reviewer)


def test_once_approved_the_unit_sees_its_result_beside_its_own_scores(
    client, submitted, city_reviewer, commune_staff
):
    """Issue 18, item 3: the appraised total, and each leaf's appraised score
    and the reviewer's reason beside the unit's own, as soon as it is
    approved; the request for a review waits for its window."""
    s = score(submitted, "1.1.2")
    services.score_appraise(
        user=city_reviewer,
        score_id=s.pk,
        appraised_score="3",
        reason="Thiếu báo cáo quý IV",
        version=s.version,
    )
    approved = approve(submitted, city_reviewer)
    client.force_login(commune_staff)
    html = client.get(f"/assessments/{approved.pk}/").content.decode()
    assert vi("Appraised total") in html
    # 2 accepted + 3 appraised + 1,5 survey.
    assert "<strong>6,50</strong>" in html
    assert html.count('data-testid="leaf-appraisal"') == 3  # two manual, the survey
    assert 'data-testid="appraisal-reason">Thiếu báo cáo quý IV' in html
    assert 'class="side-by-side"' in html
    assert "contest-form" not in html  # no window open yet


@pytest.mark.parametrize(
    ("persona", "status"),
    [("commune_staff", 403), ("leader", 403), ("no_unit_user", 403)],
)
def test_only_reviewers_open_provisional_results(
    client, request, approved, persona, status
):
    login(client, request, persona)
    response = client.post(f"/assessments/provisional/{approved.framework_id}/")
    assert response.status_code == status
    assert Assessment.objects.get(pk=approved.pk).contest_until is None


def test_provisional_results_open_the_contest_window_and_the_unit_contests(
    client, approved, city_reviewer, commune_staff
):
    client.force_login(city_reviewer)
    queue = client.get("/assessments/", {"framework": approved.framework_id})
    assert 'data-testid="provisional-open"' in queue.content.decode()
    response = client.post(
        f"/assessments/provisional/{approved.framework_id}/", follow=True
    )
    assert response.status_code == 200
    until = Assessment.objects.get(pk=approved.pk).contest_until
    assert until == today() + timedelta(days=10)

    client.force_login(commune_staff)
    html = client.get(f"/assessments/{approved.pk}/").content.decode()
    assert 'data-testid="leaf-appraisal"' in html  # the results are shown now
    assert vi("Review requests") in html
    s = score(approved, "1.1.2")
    client.post(
        f"/assessments/{approved.pk}/scores/{s.pk}/contest/",
        {"requested_score": "4", "reason": "Đã nộp báo cáo quý IV ngày 20/12"},
    )
    contest = Contest.objects.get()
    assert (contest.score_id, contest.requested_score) == (s.pk, Decimal(4))

    client.force_login(city_reviewer)
    page = client.get(f"/assessments/{approved.pk}/appraise/").content.decode()
    assert "Đã nộp báo cáo quý IV ngày 20/12" in page
    refused = client.post(
        f"/assessments/{approved.pk}/contests/{contest.pk}/decide/",
        {"decision": "accept", "reason": ""},
        follow=True,
    )
    assert any("1.1.2" in m for m in messages_of(refused))
    client.post(
        f"/assessments/{approved.pk}/contests/{contest.pk}/decide/",
        {"decision": "accept", "reason": "Đúng, có báo cáo"},
    )
    assert Contest.objects.get().state == ContestState.ACCEPTED
    assert score(approved, "1.1.2").appraised_score == Decimal(4)


def test_a_contest_before_the_results_are_shown_is_refused(
    client, approved, commune_staff
):
    client.force_login(commune_staff)
    s = score(approved, "1.1.2")
    response = client.post(
        f"/assessments/{approved.pk}/scores/{s.pk}/contest/",
        {"requested_score": "4", "reason": "x"},
        follow=True,
    )
    assert messages_of(response)
    assert not Contest.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("commune_staff", 403), ("leader", 403), ("other_commune_staff", 404)],
)
def test_only_reviewers_decide_contests(
    client, request, approved, city_reviewer, commune_staff, persona, status
):
    services.provisional_results_open(
        user=city_reviewer, framework=approved.framework, today=today()
    )
    s = score(approved, "1.1.2")
    contest = services.contest_raise(
        user=commune_staff,
        score_id=s.pk,
        requested_score="4",
        reason="x",
        now=timezone.now(),
        today=today(),
    )
    login(client, request, persona)
    response = client.post(
        f"/assessments/{approved.pk}/contests/{contest.pk}/decide/",
        {"decision": "accept", "reason": "ok"},
    )
    assert response.status_code == status
    assert Contest.objects.get().state == ContestState.OPEN


def test_contesting_is_for_the_unit(client, approved, city_reviewer, leader):
    services.provisional_results_open(
        user=city_reviewer, framework=approved.framework, today=today()
    )
    s = score(approved, "1.1.2")
    for user, status in ((city_reviewer, 403), (leader, 403)):
        client.force_login(user)
        response = client.post(
            f"/assessments/{approved.pk}/scores/{s.pk}/contest/",
            {"requested_score": "4", "reason": "x"},
        )
        assert response.status_code == status
    assert not Contest.objects.exists()


# --- The list, and starting an assessment ---------------------------------------------


def test_staff_list_their_own_assessments_only(
    client, open_assessment, other_commune_staff, framework, org
):
    other = services.assessment_open(framework=framework, unit=org.commune_b)
    client.force_login(other_commune_staff)
    response = client.get("/assessments/")
    listed = [a.pk for a, _reviews in response.context["rows"]]
    assert listed == [other.pk]


def test_staff_start_the_assessment_of_an_open_framework(
    client, framework, org, commune_staff
):
    Framework.objects.filter(pk=framework.pk).update(
        state=FrameworkState.OPEN, deadline=today() + timedelta(days=30)
    )
    client.force_login(commune_staff)
    page = client.get("/assessments/").content.decode()
    assert 'data-testid="assessment-start"' in page
    response = client.post(f"/assessments/start/{framework.pk}/CITY-A/")
    created = Assessment.objects.get(unit=org.commune_a)
    assert response["Location"] == f"/assessments/{created.pk}/"
    assert created.scores.count() == 4


@pytest.mark.parametrize(
    ("persona", "status"),
    [("city_reviewer", 403), ("leader", 403), ("other_commune_staff", 404)],
)
def test_only_the_units_people_start_its_assessment(
    client, request, framework, persona, status
):
    Framework.objects.filter(pk=framework.pk).update(state=FrameworkState.OPEN)
    login(client, request, persona)
    response = client.post(f"/assessments/start/{framework.pk}/CITY-A/")
    assert response.status_code == status
    assert not Assessment.objects.exists()


def test_a_framework_being_prepared_cannot_be_started(
    client, framework, org, commune_staff
):
    client.force_login(commune_staff)
    client.post(f"/assessments/start/{framework.pk}/CITY-A/")
    assert not Assessment.objects.exists()


def test_the_deadline_and_a_document_count_in_the_page_are_in_local_dates(
    client, open_assessment, commune_staff
):
    add_document(open_assessment, commune_staff)
    client.force_login(commune_staff)
    html = client.get(f"/assessments/{open_assessment.pk}/").content.decode()
    deadline = open_assessment.framework.deadline.strftime("%d/%m/%Y")
    assert deadline in html
    uploaded = timezone.localtime(Evidence.objects.get().uploaded_at)
    assert uploaded.strftime("%d/%m/%Y %H:%M") in html
