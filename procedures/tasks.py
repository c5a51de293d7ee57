"""Celery wrappers: ids in, one service call, time limits on each."""

from celery import shared_task

from procedures.importer import run_import_by_id


@shared_task(time_limit=60 * 60, soft_time_limit=55 * 60, acks_late=True)
def import_cases_task(run_id: int) -> None:
    """Run a pending import (upload page). Runs once: a second delivery finds
    the run no longer pending and does nothing."""
    run_import_by_id(run_id)


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
