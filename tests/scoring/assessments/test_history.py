"""The history of an assessment (/assessments/<pk>/history/): every recorded
change of the assessment, its leaves (with the documents attached to each),
its documents, comments and contests, merged newest first, each with who,
when (local time, dd/mm/yyyy HH:MM) and old → new per field."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scoring.assessments import evidence, selectors, services
from scoring.models import Assessment, Comment, Contest, Evidence, Score
from tests.scoring.assessments.test_views import (
    add_document,
    approve,
    fill_in,
    opened,
    save_self,
    score,
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


def entries(client, assessment):
    response = client.get(f"/assessments/{assessment.pk}/history/")
    assert response.status_code == 200
    return response, response.context["entries"]


def changes_of(entry):
    return {change.label: (change.old, change.new) for change in entry.changes}


def leaf(code: str) -> str:
    return vi("Leaf %(code)s") % {"code": code}


def document_subject(name: str) -> str:
    return vi("Document “%(name)s”") % {"name": name}


@pytest.fixture
def cycle(open_assessment, commune_staff, commune_head, city_reviewer):
    """Filled in, submitted, returned with a comment, answered, resubmitted,
    appraised, approved, shown, contested and decided."""
    save_self(open_assessment, commune_staff, "1.1.1", "1", "Bản đầu")
    assessment = submit(open_assessment, commune_staff, commune_head)
    s = score(assessment, "1.1.1")
    returned = services.assessment_return(
        user=city_reviewer,
        assessment=assessment,
        comments={s.pk: "Bổ sung quyết định"},
        now=timezone.now(),
    )
    comment = Comment.objects.get()
    services.comment_answer(
        user=commune_staff,
        comment_id=comment.pk,
        answer="Đã bổ sung",
        now=timezone.now(),
        today=timezone.localdate(),
    )
    again = services.assessment_submit(
        user=commune_head,
        assessment=returned,
        now=timezone.now(),
        today=timezone.localdate(),
    )
    approved = approve(again, city_reviewer)
    services.provisional_results_open(
        user=city_reviewer, framework=approved.framework, today=timezone.localdate()
    )
    contest = services.contest_raise(
        user=commune_staff,
        score_id=score(approved, "1.1.2").pk,
        requested_score="4",
        reason="Có báo cáo quý IV",
        now=timezone.now(),
        today=timezone.localdate(),
    )
    services.contest_decide(
        user=city_reviewer,
        contest_id=contest.pk,
        accept=False,
        reason="Báo cáo nộp muộn",
        now=timezone.now(),
    )
    return Assessment.objects.get(pk=open_assessment.pk)


def test_a_self_score_change_shows_who_and_old_to_new(
    client, open_assessment, commune_staff, commune_head
):
    save_self(open_assessment, commune_staff, "1.1.1", "1", "Bản đầu")
    save_self(open_assessment, commune_head, "1.1.1", "2", "Bản sửa")
    client.force_login(commune_staff)
    _response, found = entries(client, open_assessment)
    latest, first = found[0], found[1]
    assert (latest.subject, latest.who, latest.action) == (
        leaf("1.1.1"),
        "head.a",
        vi("changed"),
    )
    assert changes_of(latest) == {
        vi("self score"): ("1,00", "2,00"),
        vi("explanation"): ("Bản đầu", "Bản sửa"),
    }
    # The first save is shown from nothing.
    assert first.who == "staff.a"
    assert changes_of(first)[vi("self score")] == ("—", "1,00")


def test_uploading_and_attaching_a_document_is_recorded(
    client, open_assessment, commune_staff
):
    fill_in(open_assessment, commune_staff)
    client.force_login(commune_staff)
    _response, found = entries(client, open_assessment)
    uploaded = next(e for e in found if e.subject == document_subject("ke-hoach.pdf"))
    assert uploaded.action == vi("created")
    assert changes_of(uploaded)[vi("file name")] == ("—", "ke-hoach.pdf")
    attached = next(e for e in found if vi("evidence") in changes_of(e))
    assert attached.subject == leaf("1.1.2")
    assert changes_of(attached)[vi("evidence")] == ("—", "ke-hoach.pdf")


def test_the_whole_cycle_is_in_the_history_newest_first(client, cycle, commune_staff):
    client.force_login(commune_staff)
    response, found = entries(client, cycle)
    whens = [entry.when for entry in found]
    assert whens == sorted(whens, reverse=True)
    state = vi("state")
    states = [
        changes_of(e)[state]
        for e in reversed(found)
        if e.subject == vi("Assessment") and state in changes_of(e)
    ]
    draft, submitted = vi("Draft"), vi("Submitted")
    returned, approved = vi("Returned for revision"), vi("Approved")
    assert states == [
        ("—", draft),  # opened
        (draft, submitted),
        (submitted, returned),
        (returned, submitted),
        (submitted, approved),
    ]
    on_leaf = vi("Comment on %(code)s (round %(round)s)") % {
        "code": "1.1.1",
        "round": 1,
    }
    comment = [e for e in found if e.subject == on_leaf]
    assert [e.who for e in reversed(comment)] == ["reviewer.city", "staff.a"]
    assert changes_of(comment[0])[vi("answer")] == ("—", "Đã bổ sung")
    contested = vi("Contest of %(code)s") % {"code": "1.1.2"}
    contest = [e for e in found if e.subject == contested]
    assert changes_of(contest[0])[state] == (
        vi("Awaiting decision"),
        vi("Rejected"),
    )
    assert changes_of(contest[0])[vi("reason for the decision")] == (
        "—",
        "Báo cáo nộp muộn",
    )
    appraised = [
        e
        for e in found
        if e.subject == leaf("1.1.2") and vi("appraised score") in changes_of(e)
    ]
    assert changes_of(appraised[0])[vi("appraised score")] == ("—", "3,50")
    assert appraised[0].who == "reviewer.city"
    html = response.content.decode()
    assert "Báo cáo nộp muộn" in html
    change = f"<del>{vi('Awaiting decision')}</del> → <ins>{vi('Rejected')}</ins>"
    assert change in html


def test_times_are_shown_in_local_time(client, open_assessment, commune_staff):
    save_self(open_assessment, commune_staff, "1.1.1", "1")
    record = Score.history.filter(assessment_id=open_assessment.pk).get()
    # 23:30 UTC is 06:30 the next day in Vietnam.
    Score.history.filter(history_id=record.history_id).update(
        history_date=datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    )
    client.force_login(commune_staff)
    response, _found = entries(client, open_assessment)
    assert "01/01/2026 06:30" in response.content.decode()


def test_the_history_runs_the_same_queries_for_few_or_many_changes(
    open_assessment, commune_staff
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            selectors.assessment_history(assessment=open_assessment)
        return len(queries)

    save_self(open_assessment, commune_staff, "1.1.1", "1")
    few = count()
    for i in range(15):
        save_self(open_assessment, commune_staff, "1.1.2", str(i % 4), f"Lần {i}")
    assert count() == few


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("commune_staff", 200),
        ("city_reviewer", 200),
        ("leader", 200),
        ("other_commune_staff", 404),
        ("department_staff", 404),
    ],
)
def test_the_history_is_for_those_who_see_the_assessment(
    client, request, cycle, persona, status
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(f"/assessments/{cycle.pk}/history/")
    assert response.status_code == status
    if status == 404:
        assert "Bổ sung quyết định" not in response.content.decode()


def test_a_deleted_document_stays_in_the_history(
    client, open_assessment, commune_staff
):
    document = add_document(open_assessment, commune_staff)
    evidence.evidence_remove(
        user=commune_staff,
        assessment=open_assessment,
        document=document,
        today=timezone.localdate(),
    )
    assert not Evidence.objects.exists()
    client.force_login(commune_staff)
    _response, found = entries(client, open_assessment)
    subject = document_subject("ke-hoach.pdf")
    assert [e.action for e in found if e.subject == subject] == [
        vi("deleted"),
        vi("created"),
    ]
    assert Contest.objects.count() == 0
