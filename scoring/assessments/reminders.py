"""Reminders of the self-assessment deadline, the in-portal notices they
leave, and which units have not started.

Before a framework's deadline (on each of its ``reminder_days``, *default* 7
and 2 days before), every unit whose assessment is still being filled in and
is incomplete gets a notice in the portal and an e-mail; the unit head is told
outright when nothing has been entered at all. The beat task runs this once a
day. A day the beat missed is caught up the next run; a unit reminded late
gets only the latest reminder it is due, not one per day missed. A
``DeadlineReminder`` row per (assessment, days before) is written first and its
unique key keeps a reminder from ever going out twice, whether the task runs
again the same day or on two workers at once."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from commitments.organisation.models import Membership, Role
from scoring import access
from scoring.assessments import services
from scoring.models import (
    Assessment,
    AssessmentState,
    ContestState,
    DeadlineReminder,
    Framework,
    FrameworkState,
    Notice,
    Score,
)
from scoring.results import page_cache

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from commitments.organisation.access import AnyUser

logger = logging.getLogger(__name__)

# Assessments the unit is still filling in: the only ones worth a reminder.
REMINDABLE_STATES = (AssessmentState.DRAFT, AssessmentState.RETURNED)
NOT_STARTED = "not_started"
INCOMPLETE = "incomplete"
# Leaf codes named in a reminder before the rest are only counted.
CODES_LISTED = 10


@dataclass(frozen=True)
class ReminderCounts:
    """What one run sent: reminders (one per assessment and reminder day),
    in-portal notices, and e-mails queued for after the commit."""

    reminders: int = 0
    notices: int = 0
    emails: int = 0

    def __add__(self, other: ReminderCounts) -> ReminderCounts:
        return ReminderCounts(
            self.reminders + other.reminders,
            self.notices + other.notices,
            self.emails + other.emails,
        )


NOTHING = ReminderCounts()


# --- rules (no database) ------------------------------------------------------


def reminder_days_of(value: object) -> list[int]:
    """The framework's reminder days as whole days ≥ 0, largest first; an
    administrator's stray value (text, a negative number) is ignored."""
    if not isinstance(value, list):
        return []
    days = {d for d in value if isinstance(d, int) and not isinstance(d, bool)}
    return sorted((d for d in days if d >= 0), reverse=True)


def reminder_due(
    *, deadline: date, reminder_days: Sequence[int], today: date
) -> int | None:
    """The reminder due on ``today``: the latest of the reminder days already
    reached (deadline − d ≤ today), up to the deadline itself; None when none.

    Only the latest is sent: a unit reminded late (the beat missed a day, or
    the framework opened six days before the deadline) gets one message, not
    one per reminder day it missed."""
    if today > deadline:
        return None
    reached = [d for d in reminder_days if deadline - timedelta(days=d) <= today]
    return min(reached) if reached else None


def already_sent(due: int, sent_days: Iterable[int]) -> bool:
    """A reminder counts as sent when it, or a later one (fewer days before
    the deadline), was: a later reminder supersedes the earlier ones."""
    return any(sent <= due for sent in sent_days)


# --- which units have not started ----------------------------------------------


def has_self_score() -> Exists:
    """True for an assessment with at least one self score entered."""
    return Exists(
        Score.objects.filter(assessment=OuterRef("pk"), self_score__isnull=False)
    )


def with_started(queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
    return queryset.annotate(started=has_self_score())


# Not started: a draft without any self score (as the reviewers' queue of
# scoring.assessments.selectors counts it). Needs with_started().
NOT_STARTED_Q = Q(state=AssessmentState.DRAFT, started=False)


def frameworks_reviewed(user: AnyUser) -> QuerySet[Framework]:
    """Frameworks with at least one assessment the user appraises."""
    reviewed = access.reviewable(user, Assessment.objects.all())
    return Framework.objects.filter(pk__in=reviewed.values("framework_id")).order_by(
        "-year", "unit_kind"
    )


def assessments_reviewed(
    *, user: AnyUser, framework: Framework
) -> QuerySet[Assessment]:
    return access.reviewable(user, Assessment.objects.filter(framework=framework))


def assessments_not_started(
    *, user: AnyUser, framework: Framework
) -> QuerySet[Assessment]:
    """The assessments of ``framework`` the user appraises that are drafts
    without any self score, with the deadline reminders sent to each."""
    return (
        with_started(assessments_reviewed(user=user, framework=framework))
        .filter(NOT_STARTED_Q)
        .select_related("unit")
        .prefetch_related("deadline_reminders")
        .order_by("unit__path")
    )


# --- sending --------------------------------------------------------------------


def deadline_reminders_send(*, today: date, now: datetime) -> ReminderCounts:
    """Remind every unit whose assessment of an open framework is incomplete
    as its deadline approaches (see the module docstring). Each assessment is
    its own transaction; running it again sends nothing new."""
    total = NOTHING
    frameworks = Framework.objects.filter(
        state=FrameworkState.OPEN, deadline__isnull=False
    ).order_by("pk")
    for framework in frameworks:
        days = reminder_days_of(framework.reminder_days)
        if not days:
            continue
        # An extension moves an assessment's own deadline (as in
        # services.is_locked): its reminders follow it.
        candidates = (
            Assessment.objects.filter(framework=framework, state__in=REMINDABLE_STATES)
            .annotate(own_deadline=Coalesce("extended_until", "framework__deadline"))
            .filter(
                own_deadline__gte=today,
                own_deadline__lte=today + timedelta(days=max(days)),
            )
            .select_related("framework", "unit")
            .order_by("unit__path")
        )
        sent: dict[int, set[int]] = defaultdict(set)
        for assessment_id, days_before in DeadlineReminder.objects.filter(
            assessment__framework=framework
        ).values_list("assessment_id", "days_before"):
            sent[assessment_id].add(days_before)
        for assessment in candidates:
            deadline = assessment.extended_until or framework.deadline
            assert deadline is not None  # filtered above
            due = reminder_due(deadline=deadline, reminder_days=days, today=today)
            if due is None or already_sent(due, sent[assessment.pk]):
                continue
            total += _remind(
                assessment, days_before=due, deadline=deadline, today=today, now=now
            )
    return total


def _remind(
    assessment: Assessment,
    *,
    days_before: int,
    deadline: date,
    today: date,
    now: datetime,
) -> ReminderCounts:
    with transaction.atomic():
        # Re-read under a lock: the unit may have submitted since the list was
        # read, and a submit waits for this reminder rather than cross it.
        locked = (
            Assessment.objects.select_for_update()
            .filter(pk=assessment.pk, state__in=REMINDABLE_STATES)
            .order_by("pk")  # no join: the lock is on this row alone
            .first()
        )
        if locked is None:
            return NOTHING
        gaps = services.completeness(locked)
        if not gaps["empty"] and not gaps["missing_evidence"]:
            return NOTHING
        started = Score.objects.filter(
            assessment=locked, self_score__isnull=False
        ).exists()
        try:
            # The row first: a second run (or worker) stops here.
            with transaction.atomic():
                reminder = DeadlineReminder.objects.create(
                    assessment=locked,
                    days_before=days_before,
                    sent_at=now,
                    situation=INCOMPLETE if started else NOT_STARTED,
                )
        except IntegrityError:
            return NOTHING
        context = {
            "unit": assessment.unit,
            "framework": assessment.framework,
            "deadline": deadline,
            "days_left": (deadline - today).days,
            "not_started": not started,
            "empty_count": len(gaps["empty"]),
            "empty_codes": _codes(gaps["empty"]),
            "missing_count": len(gaps["missing_evidence"]),
            "missing_codes": _codes(gaps["missing_evidence"]),
        }
        notices: list[Notice] = []
        emails: list[EmailMessage] = []
        for user, is_head in _recipients(locked):
            subject, body = _message(context, is_head=is_head)
            notices.append(
                Notice(
                    user=user,
                    assessment=locked,
                    subject=subject,
                    body=body,
                    url=reverse("assessment_detail", kwargs={"pk": locked.pk}),
                    created_at=now,
                    # E-mailed with the reminder: not again in the digest.
                    emailed_at=now if user.email else None,
                )
            )
            if user.email:
                emails.append(
                    EmailMessage(
                        subject=subject,
                        body=_email_body(body, user),
                        to=[user.email],
                    )
                )
        Notice.objects.bulk_create(notices)
        page_cache.forget_readers(notice.user_id for notice in notices)
        reminder.recipients = len(notices)
        reminder.save(update_fields=["recipients"])
        if emails:
            # After the commit: a rolled-back reminder sends nothing, and the
            # mail server is never waited for while the row is locked.
            transaction.on_commit(partial(_send, emails))
    return ReminderCounts(reminders=1, notices=len(notices), emails=len(emails))


def _codes(codes: list[str]) -> str:
    listed = ", ".join(codes[:CODES_LISTED])
    return f"{listed}, …" if len(codes) > CODES_LISTED else listed


def _recipients(assessment: Assessment) -> list[tuple[User, bool]]:
    """The unit's active staff and head, each once (head if either role is)."""
    heads: dict[int, bool] = {}
    users: dict[int, User] = {}
    for membership in (
        Membership.objects.filter(
            unit_id=assessment.unit_id,
            role__in=[Role.UNIT_STAFF, Role.UNIT_HEAD],
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__username")
    ):
        users[membership.user_id] = membership.user
        heads[membership.user_id] = (
            heads.get(membership.user_id, False) or membership.role == Role.UNIT_HEAD
        )
    return [(user, heads[pk]) for pk, user in users.items()]


def _message(context: dict[str, object], *, is_head: bool) -> tuple[str, str]:
    """Subject and text of the reminder, in the portal's language (the task
    has no request to take a language from)."""
    values = {**context, "is_head": is_head}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(
            "scoring/email/deadline_reminder_subject.txt", values
        )
        body = render_to_string("scoring/email/deadline_reminder.txt", values)
    return " ".join(subject.split()), body.strip()


def _email_body(text: str, user: User) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "scoring/email/deadline_reminder_email.txt",
            {"text": text, "name": user.get_full_name() or user.get_username()},
        ).strip()


def _send(emails: list[EmailMessage]) -> None:
    """One connection for a unit's messages. A failure is logged (the
    reminder stays recorded: an e-mail is never sent twice, at the price of
    one lost when the mail server is down)."""
    try:
        get_connection().send_messages(emails)
    except Exception:
        logger.exception(
            "Deadline reminder e-mail to %s not sent",
            ", ".join(address for email in emails for address in email.to),
        )


# --- the review window closing ---------------------------------------------------

# How far back a closed window is still announced: a beat missed for a few
# days catches up, a window closed long ago is not news.
WINDOW_CLOSED_LOOKBACK = timedelta(days=7)


def review_windows_closed_send(*, today: date, now: datetime) -> int:
    """Tell each unit whose window to ask for a review of its appraised
    scores has closed (and its reviewers, while requests wait for them).
    Each notice has a key: running again the same day, or the next, sends
    nothing twice. Returns the notices written."""
    from scoring.notices import handovers

    open_contests = Count(
        "scores__contests", filter=Q(scores__contests__state=ContestState.OPEN)
    )
    sent = 0
    for assessment in (
        Assessment.objects.filter(
            state=AssessmentState.APPROVED,
            contest_until__lt=today,
            contest_until__gte=today - WINDOW_CLOSED_LOOKBACK,
        )
        .select_related("unit", "framework")
        .annotate(open_contests=open_contests)
        .order_by("pk")
    ):
        with transaction.atomic():
            sent += handovers.window_closed(
                assessment, open_contests=assessment.open_contests, now=now
            )
    return sent


# --- notices --------------------------------------------------------------------


def notices_of(user: User) -> QuerySet[Notice]:
    """A user's own notices, newest first."""
    return Notice.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def notice_mark_read(*, user: User, notice_id: int, now: datetime) -> Notice:
    """Mark one of the user's notices read (404 for anyone else's); reading it
    again keeps the first time."""
    notice = get_object_or_404(Notice, pk=notice_id, user_id=user.pk)
    if notice.read_at is None:
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
        notice.refresh_from_db(fields=["read_at"])
        page_cache.forget_readers([user.pk])
    return notice


def notices_mark_all_read(*, user: User, now: datetime) -> int:
    page_cache.forget_readers([user.pk])
    return Notice.objects.filter(user_id=user.pk, read_at__isnull=True).update(
        read_at=now
    )
