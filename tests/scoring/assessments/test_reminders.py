"""Reminders of the self-assessment deadline: on the 7th and the 2nd day
before it (the framework's reminder days), to the incomplete units only, a
notice and an e-mail to their staff and head, never twice, a missed day caught
up once; and the daily beat job that sends them."""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation
from django_celery_beat import schedulers
from django_celery_beat.models import PeriodicTask

from commitments.organisation.models import Role
from scoring.assessments import reminders, services
from scoring.assessments.reminders import ReminderCounts, deadline_reminders_send
from scoring.models import (
    Assessment,
    AssessmentState,
    DeadlineReminder,
    Evidence,
    FrameworkState,
    Notice,
    Score,
)
from scoring.tasks import deadline_reminders_task
from tests.factories import MembershipFactory, UserFactory
from tests.wording import vi, vi_n

DEADLINE = date(2026, 1, 7)
NOW = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
SEVEN_BEFORE = date(2025, 12, 31)
TWO_BEFORE = date(2026, 1, 5)


@pytest.fixture
def open_framework(framework):
    framework.state = FrameworkState.OPEN
    framework.save()
    return framework


@pytest.fixture
def staff(commune_staff):
    commune_staff.email = "staff.a@phuonga.gov.vn"
    commune_staff.first_name = "Trần Thị Lan"
    commune_staff.save()
    return commune_staff


@pytest.fixture
def head(commune_head):
    commune_head.email = "head.a@phuonga.gov.vn"
    commune_head.save()
    return commune_head


@pytest.fixture
def assessment_a(open_framework, org, staff, head):
    return services.assessment_open(framework=open_framework, unit=org.commune_a)


def nothing_entered(unit) -> str:
    """What the head alone is told when no self score is entered yet."""
    return vi(
        "Nothing has been entered yet in the self-assessment of %(unit)s: no "
        "criterion has a self score."
    ) % {"unit": unit.name}


def evidence_missing(codes: str) -> str:
    count = len(codes.split(", "))
    return vi_n(
        "%(counter)s criterion requires evidence that is not attached yet: %(codes)s.",
        "%(counter)s criteria require evidence that is not attached yet: %(codes)s.",
        count,
    ) % {"counter": count, "codes": codes}


def due_in(days: int) -> str:
    return vi_n(
        "The deadline is %(day)s, in %(days)s day.",
        "The deadline is %(day)s, in %(days)s days.",
        days,
    ) % {"day": "07/01/2026", "days": days}


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """The service as the beat task runs it, e-mails included (they leave
    after the commit)."""

    def run(today: date) -> ReminderCounts:
        with django_capture_on_commit_callbacks(execute=True):
            return deadline_reminders_send(
                today=today,
                now=datetime.combine(today, datetime.min.time(), tzinfo=UTC),
            )

    return run


def score_self(assessment, user, code, value, today=date(2025, 12, 1)):
    leaf = Score.objects.get(assessment=assessment, node__code=code)
    return services.score_self_save(
        user=user,
        score_id=leaf.pk,
        self_score=value,
        explanation="",
        version=leaf.version,
        today=today,
    )


def complete(assessment, user):
    score_self(assessment, user, "1.1.1", "2")
    score_self(assessment, user, "1.1.2", "3")
    doc = Evidence.objects.create(
        assessment=assessment,
        token="00000000-0000-0000-0000-000000000001",
        extension=".pdf",
        file="evidence/x.pdf",
        original_name="ke-hoach.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    services.score_evidence_set(
        user=user,
        score_id=Score.objects.get(assessment=assessment, node__code="1.1.2").pk,
        evidence_ids=[doc.pk],
        today=date(2025, 12, 1),
    )


# --- the rules (no database) -----------------------------------------------------


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2025, 12, 30), None),
        (SEVEN_BEFORE, 7),
        (date(2026, 1, 2), 7),
        (date(2026, 1, 4), 7),
        (TWO_BEFORE, 2),
        (date(2026, 1, 6), 2),
        (DEADLINE, 2),
        (date(2026, 1, 8), None),
    ],
)
def test_the_reminder_due_is_the_latest_reminder_day_reached(today, due):
    assert (
        reminders.reminder_due(deadline=DEADLINE, reminder_days=[7, 2], today=today)
        == due
    )


def test_a_reminder_on_the_deadline_day_itself():
    assert (
        reminders.reminder_due(deadline=DEADLINE, reminder_days=[0], today=DEADLINE)
        == 0
    )
    assert (
        reminders.reminder_due(
            deadline=DEADLINE, reminder_days=[0], today=date(2026, 1, 6)
        )
        is None
    )


@pytest.mark.parametrize(
    ("due", "sent", "expected"),
    [
        (7, set(), False),
        (7, {7}, True),
        (2, {7}, False),
        (2, {2}, True),
        # A later reminder went out: the earlier one is not sent afterwards.
        (7, {2}, True),
    ],
)
def test_a_later_reminder_supersedes_the_earlier_ones(due, sent, expected):
    assert reminders.already_sent(due, sent) is expected


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ([7, 2], [7, 2]),
        ([2, 7, 7], [7, 2]),
        ([14, "3", -1, True, 1.5, 0], [14, 0]),
        ("7,2", []),
        (None, []),
    ],
)
def test_stray_reminder_days_are_ignored(value, days):
    assert reminders.reminder_days_of(value) == days


# --- sending ----------------------------------------------------------------------


def test_reminders_go_out_on_the_7th_and_the_2nd_day_before(assessment_a, send):
    assert send(SEVEN_BEFORE - timedelta(days=1)) == ReminderCounts()

    first = send(SEVEN_BEFORE)

    assert first == ReminderCounts(reminders=1, notices=2, emails=2)
    reminder = DeadlineReminder.objects.get()
    assert (reminder.assessment, reminder.days_before) == (assessment_a, 7)
    assert reminder.recipients == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "head.a@phuonga.gov.vn",
        "staff.a@phuonga.gov.vn",
    ]
    for day in range(1, 5):
        assert send(SEVEN_BEFORE + timedelta(days=day)) == ReminderCounts()

    second = send(TWO_BEFORE)

    assert second == ReminderCounts(reminders=1, notices=2, emails=2)
    assert sorted(DeadlineReminder.objects.values_list("days_before", flat=True)) == [
        2,
        7,
    ]
    assert len(mail.outbox) == 4
    assert Notice.objects.count() == 4
    assert send(DEADLINE) == ReminderCounts()
    assert send(DEADLINE + timedelta(days=1)) == ReminderCounts()


def test_running_twice_sends_once(assessment_a, send):
    send(TWO_BEFORE)
    again = send(TWO_BEFORE)

    assert again == ReminderCounts()
    assert DeadlineReminder.objects.count() == 1
    assert len(mail.outbox) == 2
    assert Notice.objects.count() == 2


def test_a_reminder_recorded_by_another_worker_meanwhile_is_not_sent_again(
    assessment_a, send, monkeypatch
):
    """Two workers that both read "not sent yet": the unique key stops the
    second at the insert."""
    send(TWO_BEFORE)
    monkeypatch.setattr(reminders, "already_sent", lambda due, sent: False)

    assert send(TWO_BEFORE) == ReminderCounts()
    assert DeadlineReminder.objects.count() == 1
    assert Notice.objects.count() == 2
    assert len(mail.outbox) == 2


def test_a_missed_day_is_caught_up_once(assessment_a, send):
    # The beat did not run on 31/12: the 7-day reminder goes out on 02/01.
    assert send(date(2026, 1, 2)).reminders == 1
    assert send(date(2026, 1, 3)).reminders == 0
    assert send(TWO_BEFORE).reminders == 1
    assert sorted(DeadlineReminder.objects.values_list("days_before", flat=True)) == [
        2,
        7,
    ]


def test_a_unit_reminded_late_gets_one_message_not_one_per_missed_day(
    assessment_a, send
):
    counts = send(date(2026, 1, 6))

    assert counts == ReminderCounts(reminders=1, notices=2, emails=2)
    assert DeadlineReminder.objects.get().days_before == 2
    # Nor is the 7-day reminder sent the day after.
    assert send(DEADLINE) == ReminderCounts()


def test_complete_submitted_and_approved_assessments_are_not_reminded(
    assessment_a, open_framework, org, staff, head, send, other_commune_staff
):
    complete(assessment_a, staff)
    assessment_b = services.assessment_open(
        framework=open_framework, unit=org.commune_b
    )
    for state in (AssessmentState.SUBMITTED, AssessmentState.APPROVED):
        Assessment.objects.filter(pk=assessment_b.pk).update(state=state)

        assert send(TWO_BEFORE) == ReminderCounts()

    assert not DeadlineReminder.objects.exists()
    assert not Notice.objects.exists()
    assert mail.outbox == []


def test_missing_evidence_alone_makes_an_assessment_incomplete(
    assessment_a, staff, send
):
    score_self(assessment_a, staff, "1.1.1", "2")
    score_self(assessment_a, staff, "1.1.2", "3")

    send(TWO_BEFORE)

    reminder = DeadlineReminder.objects.get()
    assert reminder.situation == "incomplete"
    body = Notice.objects.filter(user=staff).get().body
    assert evidence_missing("1.1.2") in body


def test_a_returned_assessment_is_reminded(assessment_a, send):
    Assessment.objects.filter(pk=assessment_a.pk).update(state=AssessmentState.RETURNED)

    assert send(TWO_BEFORE).reminders == 1


@pytest.mark.parametrize(
    "change",
    [
        {"state": FrameworkState.DRAFT},
        {"state": FrameworkState.PUBLISHED},
        {"deadline": None},
        {"reminder_days": []},
    ],
)
def test_only_open_frameworks_with_a_deadline_and_reminder_days_remind(
    assessment_a, open_framework, send, change
):
    for field, value in change.items():
        setattr(open_framework, field, value)
    open_framework.save()

    assert send(TWO_BEFORE) == ReminderCounts()


def test_the_frameworks_own_reminder_days_are_used(assessment_a, open_framework, send):
    open_framework.reminder_days = [10]
    open_framework.save()

    assert send(SEVEN_BEFORE - timedelta(days=3)).reminders == 1
    assert send(TWO_BEFORE).reminders == 0


def test_an_extension_moves_the_reminders(assessment_a, send):
    Assessment.objects.filter(pk=assessment_a.pk).update(
        extended_until=date(2026, 1, 20)
    )

    assert send(TWO_BEFORE) == ReminderCounts()
    assert send(date(2026, 1, 13)).reminders == 1
    # The message gives the unit's own deadline.
    assert "20/01/2026" in mail.outbox[0].subject


def test_the_head_is_told_when_nothing_has_been_entered(
    assessment_a, staff, head, send
):
    send(SEVEN_BEFORE)

    assert DeadlineReminder.objects.get().situation == "not_started"
    to_head = Notice.objects.get(user=head)
    to_staff = Notice.objects.get(user=staff)
    subject = vi("Nothing entered yet: the %(year)s self-assessment is due on %(day)s")
    assert to_head.subject == subject % {"year": 2025, "day": "07/01/2026"}
    assert nothing_entered(assessment_a.unit) in to_head.body
    assert nothing_entered(assessment_a.unit) not in to_staff.body
    head_mail = next(m for m in mail.outbox if m.to == [head.email])
    assert head_mail.subject == to_head.subject
    assert nothing_entered(assessment_a.unit) in head_mail.body
    assert to_head.assessment == assessment_a
    # The notice opens the assessment's page.
    assert to_head.url == f"/assessments/{assessment_a.pk}/"


def test_once_something_is_entered_the_head_gets_the_ordinary_reminder(
    assessment_a, staff, head, send
):
    score_self(assessment_a, staff, "1.1.1", "1")

    send(SEVEN_BEFORE)

    assert DeadlineReminder.objects.get().situation == "incomplete"
    to_head = Notice.objects.get(user=head)
    assert nothing_entered(assessment_a.unit) not in to_head.body
    assert "1.1.2" in to_head.body
    assert "1.1.1" not in to_head.body


def test_the_email_is_in_vietnamese_with_the_deadline_as_dd_mm_yyyy(
    assessment_a, staff, send
):
    # The task has no request: whatever language is active, units read Vietnamese.
    with translation.override("en"):
        send(SEVEN_BEFORE)

    message = next(m for m in mail.outbox if m.to == [staff.email])
    subject = vi("Reminder: the %(year)s self-assessment is due on %(day)s")
    assert message.subject == subject % {"year": 2025, "day": "07/01/2026"}
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.body.startswith(vi("Dear %(name)s,") % {"name": "Trần Thị Lan"})
    not_complete = vi(
        "The self-assessment of %(unit)s against “%(name)s” (%(year)s) is not complete."
    )
    framework = assessment_a.framework
    assert (
        not_complete
        % {
            "unit": assessment_a.unit.name,
            "name": framework.name,
            "year": 2025,
        }
        in message.body
    )
    assert due_in(7) in message.body
    no_score = vi_n(
        "%(counter)s criterion has no self score yet: %(codes)s.",
        "%(counter)s criteria have no self score yet: %(codes)s.",
        2,
    )
    assert no_score % {"counter": 2, "codes": "1.1.1, 1.1.2"} in message.body
    assert evidence_missing("1.1.2") in message.body
    assert vi("CCHC portal") in message.body
    # Plain text: a name with an ampersand is not HTML-escaped.
    assert "&amp;" not in message.body


def test_the_days_left_count_from_the_day_it_is_sent(assessment_a, staff, send):
    send(date(2026, 1, 3))

    assert due_in(4) in mail.outbox[0].body


def test_on_the_deadline_day_the_message_says_today(assessment_a, open_framework, send):
    open_framework.reminder_days = [0]
    open_framework.save()

    send(DEADLINE)

    today = vi("The deadline is today, %(day)s.") % {"day": "07/01/2026"}
    assert today in mail.outbox[0].body


def test_only_the_units_active_staff_and_head_are_reminded(
    assessment_a, org, staff, head, city_reviewer, other_commune_staff, send
):
    gone = UserFactory(username="staff.a.old", email="old@phuonga.gov.vn")
    gone.is_active = False
    gone.save()
    MembershipFactory(user=gone, unit=org.commune_a, role=Role.UNIT_STAFF)
    no_address = UserFactory(username="staff.a.2")
    MembershipFactory(user=no_address, unit=org.commune_a, role=Role.UNIT_STAFF)
    # Staff and head at once: one notice, the head's.
    MembershipFactory(user=head, unit=org.commune_a, role=Role.UNIT_STAFF)
    MembershipFactory(user=city_reviewer, unit=org.commune_a, role=Role.REVIEWER)

    counts = send(TWO_BEFORE)

    assert counts == ReminderCounts(reminders=1, notices=3, emails=2)
    assert sorted(Notice.objects.values_list("user__username", flat=True)) == [
        "head.a",
        "staff.a",
        "staff.a.2",
    ]
    assert nothing_entered(org.commune_a) in Notice.objects.get(user=head).body
    assert DeadlineReminder.objects.get().recipients == 3


def test_a_mail_server_failure_is_logged_and_the_reminder_stays_sent(
    assessment_a, send, monkeypatch, caplog
):
    class Down:
        def send_messages(self, messages):
            raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(reminders, "get_connection", lambda: Down())

    with caplog.at_level(logging.ERROR, logger="scoring.assessments.reminders"):
        counts = send(TWO_BEFORE)

    assert counts.reminders == 1
    assert "head.a@phuonga.gov.vn" in caplog.text
    assert Notice.objects.count() == 2
    # Never twice: the next run does not retry.
    monkeypatch.undo()
    assert send(TWO_BEFORE) == ReminderCounts()


def test_no_email_leaves_before_the_commit(assessment_a):
    """Inside a transaction that is rolled back, nothing is sent."""
    deadline_reminders_send(today=TWO_BEFORE, now=NOW)

    assert mail.outbox == []


# --- the beat job -------------------------------------------------------------------


def test_the_task_sends_what_is_due_today_and_may_run_twice(
    assessment_a, open_framework, django_capture_on_commit_callbacks
):
    open_framework.deadline = timezone.localdate() + timedelta(days=2)
    open_framework.save()

    with django_capture_on_commit_callbacks(execute=True):
        first = deadline_reminders_task.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        second = deadline_reminders_task.delay().get()

    assert first == {"reminders": 1, "notices": 2, "emails": 2}
    assert second == {"reminders": 0, "notices": 0, "emails": 0}
    assert len(mail.outbox) == 2


def test_the_task_has_time_limits():
    assert deadline_reminders_task.time_limit
    assert deadline_reminders_task.soft_time_limit
    assert deadline_reminders_task.soft_time_limit < deadline_reminders_task.time_limit


def test_beat_runs_the_reminders_daily_at_seven_local_time(db, monkeypatch):
    from cchc_portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["scoring-deadline-reminders"]
    assert entry["task"] == deadline_reminders_task.name
    # Inside the test's transaction the scheduler's close_old_connections()
    # would close the connection the test runs in (PostgreSQL).
    monkeypatch.setattr(schedulers, "close_old_connections", lambda: None)

    # django-celery-beat's scheduler copies the entry into its tables.
    schedulers.DatabaseScheduler(app=app, lazy=True).setup_schedule()

    task = PeriodicTask.objects.get(name="scoring-deadline-reminders")
    assert task.task == "scoring.tasks.deadline_reminders_task"
    assert task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("7", "0")
    assert (task.crontab.day_of_month, task.crontab.day_of_week) == ("*", "*")
    assert str(task.crontab.timezone) == "Asia/Ho_Chi_Minh"
