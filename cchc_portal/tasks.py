"""Celery wrappers of what the portal itself runs: one call each."""

from celery import shared_task

from cchc_portal.idempotency import keys_expire
from cchc_portal.queue import pending_send


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60, acks_late=True)
def pending_send_task() -> int:
    """Every minute (celery beat): send the tasks the broker did not take
    when their work was committed. A second run finds them sent (or
    locked by the first) and sends nothing twice."""
    return pending_send()


@shared_task(time_limit=5 * 60, soft_time_limit=4 * 60, acks_late=True)
def idempotency_keys_expire_task() -> int:
    """Every hour (celery beat): forget the API's idempotency keys older than
    IDEMPOTENCY_KEY_HOURS. Running twice deletes nothing more."""
    return keys_expire()
