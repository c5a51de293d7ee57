"""Celery wrappers: ids in, one service call, time limits on each."""

from typing import Any

from billiard.exceptions import TimeLimitExceeded, WorkerLostError
from celery import shared_task
from celery.signals import task_failure

from procedures.importer import run_import_by_id, run_worker_lost


@shared_task(time_limit=60 * 60, soft_time_limit=55 * 60, acks_late=True)
def import_cases_task(run_id: int) -> None:
    """Run a pending import (upload page). Runs once: a second delivery finds
    the run no longer pending and does nothing (a run whose worker died is
    marked interrupted, never taken up again: its file may be older than what
    was imported since)."""
    run_import_by_id(run_id)


@task_failure.connect
def _import_worker_lost(
    sender: Any = None,
    exception: BaseException | None = None,
    args: Any = None,
    **kwargs: Any,
) -> None:
    """The process running an import died (killed, out of memory) or went past
    its hard time limit: the worker's main process reports it here, and the
    run is marked interrupted at once rather than when found silent. An
    exception raised inside the task has already been recorded on the run."""
    if getattr(sender, "name", None) != import_cases_task.name:
        return
    if not isinstance(exception, WorkerLostError | TimeLimitExceeded):
        return
    if args:
        run_worker_lost(int(args[0]))


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60)
def imports_interrupt_stale_task() -> int:
    """Every few minutes (beat): mark interrupted the import runs silent for
    IMPORT_RUN_STALE_SECONDS, whichever door started them."""
    from django.utils import timezone

    from procedures.importer import runs_interrupt_stale

    return runs_interrupt_stale(now=timezone.now())


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60, acks_late=True)
def recompute_metrics_task(affected: list[list[int]]) -> int:
    """Recompute the counts an import touched: [[unit id, year, month], …].
    Replaces rows, so running it twice is harmless."""
    from django.utils import timezone

    from procedures.metrics import metrics_recompute_affected

    return metrics_recompute_affected(
        affected=[(unit, year, month) for unit, year, month in affected],
        as_of=timezone.now(),
    )


@shared_task(time_limit=30 * 60, soft_time_limit=25 * 60, acks_late=True)
def metrics_refresh_task() -> int:
    """Early every morning (beat): judge every unit's running month, quarter
    and year again as of now, and any month judged before it ended, so that
    figures age without an import. Replaces rows: running twice is harmless."""
    from django.utils import timezone

    from procedures.metrics import metrics_refresh

    return metrics_refresh(as_of=timezone.now())


@shared_task(time_limit=9 * 60, soft_time_limit=8 * 60, acks_late=True)
def metrics_refresh_due_task() -> int:
    """Every ten minutes (beat): judge again the running figures of the units
    with a dossier fallen due since they were judged (and every unit's after
    a month has ended), so that the figures keep up with the late-dossier list."""
    from django.utils import timezone

    from procedures.metrics import metrics_refresh_due

    return metrics_refresh_due(as_of=timezone.now())
