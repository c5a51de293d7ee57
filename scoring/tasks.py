"""Celery wrappers: one service call each, with time limits."""

import logging
from dataclasses import asdict

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from cchc_portal.queue import enqueue_on_commit
from scoring.assessments import closing
from scoring.assessments.reminders import (
    deadline_reminders_send,
    review_windows_closed_send,
)
from scoring.models import ComputationRun, Framework, RunState
from scoring.notices.services import notices_digest_send, notices_email
from scoring.results import computation, documents

logger = logging.getLogger(__name__)


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60, acks_late=True)
def deadline_reminders_task() -> dict[str, int]:
    """Daily (celery beat, settings.CELERY_BEAT_SCHEDULE): remind incomplete
    units of the self-assessment deadline. Each reminder is recorded once, so
    a second run, a redelivery after a lost worker or a run cut short by the
    time limit sends only what is still due."""
    now = timezone.now()
    counts = deadline_reminders_send(today=timezone.localdate(now), now=now)
    return asdict(counts)


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60, acks_late=True)
def cycles_close_task() -> list[int]:
    """Daily (celery beat), the day after a deadline: hand the closing of
    every open framework whose deadline has passed to a worker, one task
    each, through the queue that keeps them while the broker is down.
    Returns the frameworks queued."""
    due = closing.frameworks_due(timezone.localdate())
    with transaction.atomic():
        for framework_id in due:
            enqueue_on_commit(cycle_close_task, framework_id)
    return due


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60, acks_late=True)
def cycle_close_task(framework_id: int) -> dict[str, int]:
    """Close one framework's cycle (scoring.assessments.closing.cycle_close)
    as the beat: the assessments not submitted by the deadline are taken for
    appraisal. Run twice, the second finds nothing left to take."""
    now = timezone.now()
    framework = Framework.objects.get(pk=framework_id)
    today = timezone.localdate(now)
    if not closing.closable(framework, today):
        return {"late": 0, "returned": 0, "created": 0}
    outcome = closing.cycle_close(user=None, framework=framework, now=now, today=today)
    return {
        "late": outcome.late,
        "returned": outcome.returned,
        "created": outcome.created,
    }


@shared_task(
    time_limit=60 * 60,
    soft_time_limit=55 * 60,
    acks_late=True,
    # A worker killed halfway: the message goes back to the queue and the
    # run starts again (its results were never half-written).
    reject_on_worker_lost=True,
)
def compute_year_task(run_id: int) -> dict[str, object]:
    """Carry out a queued ComputationRun (scoring.results.computation.run). A run
    that fails is recorded as failed, with its cause for readers and the
    traceback in the log; it is not raised again, since nothing retries it
    and the results page and the API read the run (in the quick start the
    task runs inside their request). Anything that failed before the run
    could record it is raised."""
    try:
        run = computation.run(run_id)
    except Exception:
        recorded = ComputationRun.objects.filter(pk=run_id).first()
        if recorded is None or recorded.state != RunState.FAILED:
            raise
        run = recorded
    return {"run": run.pk, "state": run.state, "units": run.units}


@shared_task(time_limit=60 * 60, soft_time_limit=55 * 60, acks_late=True)
def provisional_results_task() -> list[int]:
    """Nightly (celery beat): recompute the provisional results of every year
    whose frameworks are not all published and that has approved
    assessments. Returns the years queued."""
    years = computation.years_to_refresh()
    for year in years:
        compute_queue(year=year, trigger="schedule")
    return years


def compute_queue(*, year: int, trigger: str, user: object = None) -> ComputationRun:
    """Request a run of the year and hand it to a worker once the request is
    committed (in the quick start the task runs in process right then). A
    run already queued or under way is returned instead of a second one."""
    requested = computation.run_request(year=year, trigger=trigger, user=user)
    if requested.state == RunState.QUEUED:
        # Kept in the database until the broker takes it (cchc_portal.queue).
        enqueue_on_commit(compute_year_task, requested.pk)
    return requested


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60, acks_late=True)
def notices_digest_task() -> int:
    """Daily (celery beat): each person's notices not yet e-mailed, in one
    e-mail. A second run the same day sends nothing (the day is claimed per
    person first). Returns the e-mails sent."""
    now = timezone.now()
    return notices_digest_send(today=timezone.localdate(now), now=now)


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60, acks_late=True)
def notices_email_task(notice_ids: list[int]) -> int:
    """The e-mail of each notice to someone who chose them at once; a notice
    already e-mailed is skipped, so a redelivery sends nothing twice."""
    return notices_email(notice_ids=notice_ids, now=timezone.now())


@shared_task(time_limit=10 * 60, soft_time_limit=9 * 60, acks_late=True)
def review_windows_task() -> int:
    """Daily (celery beat): units whose window to ask for a review closed
    are told, once. Returns the notices written."""
    now = timezone.now()
    return review_windows_closed_send(today=timezone.localdate(now), now=now)


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60, acks_late=True)
def published_documents_task(publication_id: int) -> dict[str, float]:
    """Lay out and keep the published ranking's documents (PDF and XLSX, the
    province's and each group's: scoring.results.documents), so that no
    reader waits for one at a download. Run twice (a redelivery), the
    second finds them kept and lays out nothing. A failure is logged and
    goes no further: the publication committed before, and the downloads
    lay out what is missing (running in process, the task runs in the
    request that published, once it commits)."""
    try:
        return documents.published_documents_make(publication_id)
    except Exception:
        logger.exception(
            "The documents of publication %s were not laid out.", publication_id
        )
        return {}


def published_documents_queue(publication_id: int) -> None:
    """Hand the publication's documents to a worker once the publication
    commits (documents.at_publication: not when tasks run in process)."""
    if documents.at_publication():
        enqueue_on_commit(published_documents_task, publication_id)
