"""Celery wrappers: one service call each, with time limits."""

from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from scoring.reminders import deadline_reminders_send


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60, acks_late=True)
def deadline_reminders_task() -> dict[str, int]:
    """Daily (celery beat, settings.CELERY_BEAT_SCHEDULE): remind incomplete
    units of the self-assessment deadline. Each reminder is recorded once, so
    a second run, a redelivery after a lost worker or a run cut short by the
    time limit sends only what is still due."""
    now = timezone.now()
    counts = deadline_reminders_send(today=timezone.localdate(now), now=now)
    return asdict(counts)
