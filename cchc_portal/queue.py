"""Handing work to the workers so that none is lost when the broker is down.

A task is enqueued once the transaction that makes its work commits (a run
queued, an import's touched months). With Redis down, publishing it raises
after kombu's retries, after the commit: the request answered 500 and the
work was never done. Here, instead:

- enqueue_on_commit writes the task as a PendingTask row in that same
  transaction (nothing of it if the transaction rolls back), and once it
  commits hands the task to the broker and deletes the row;
- should the broker refuse, the row stays, a warning is logged, and the
  caller goes on: the run's page says "queued", as it is. For
  BROKER_CIRCUIT_SECONDS after a refusal the broker is not tried again by
  this process (each request would wait for kombu's retries again);
- the beat's pending_send (every minute) sends the rows older than
  QUEUE_PENDING_GRACE_SECONDS, oldest first, and stops at the first refusal.

A row sent may be sent again (the beat meeting a row whose request is still
sending it, a commit of the delete lost): every task may run twice already
(a run is claimed by compare-and-set, a recompute replaces rows).

Running in process (no broker, CELERY_TASK_ALWAYS_EAGER) there is no broker
to wait for and no row: once the transaction commits the task runs on this
process's one background thread (settings.TASKS_IN_BACKGROUND; tasks run one
after the other, as on one worker), so the request that handed it over answers
at once; with the setting off it runs in the request, on commit."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cchc_portal.celery import app
from cchc_portal.models import PendingTask

logger = logging.getLogger(__name__)

# What a broker out of reach raises through kombu (its retries spent), or
# straight from the client or the socket.
BROKER_DOWN: tuple[type[BaseException], ...] = (
    OperationalError,
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
)
BROKER_CIRCUIT_SECONDS = 10.0
SEND_BATCH = 500

_broker_down_until = 0.0


def _eager(task: Any) -> bool:
    return bool(task.app.conf.task_always_eager)


_background: ThreadPoolExecutor | None = None
_background_lock = threading.Lock()


def _in_background(task: Any, *args: Any) -> Future[None]:
    """Run ``task(*args)`` on the process's background thread."""
    global _background
    with _background_lock:
        if _background is None:
            _background = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="cchc-tasks"
            )
        return _background.submit(_run_in_background, task, args)


def _run_in_background(task: Any, args: tuple[Any, ...]) -> None:
    try:
        task.delay(*args)
    except Exception:
        # As a worker would: the task's own state (a run "failed") says it
        # to the user; the traceback goes to the log.
        logger.exception("Task %s%s failed.", task.name, args)
    finally:
        # The thread's own connections: none is left open between tasks.
        connections.close_all()


def background_wait(timeout: float = 60) -> None:
    """Wait until the tasks handed to the background thread so far are done
    (the tests; the quick start's shutdown)."""
    with _background_lock:
        executor = _background
    if executor is not None:
        executor.submit(lambda: None).result(timeout=timeout)


def _publish(task: Any, args: list[Any]) -> str:
    """Hand the task to the broker; '' once it took it, else why not."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return "broker refused a moment ago"
    try:
        task.apply_async(args)
    except BROKER_DOWN as error:
        _broker_down_until = time.monotonic() + BROKER_CIRCUIT_SECONDS
        logger.warning(
            "Broker unreachable (%s): %s%s waits in the database.",
            error,
            task.name,
            tuple(args),
        )
        return str(error) or error.__class__.__name__
    _broker_down_until = 0.0
    return ""


def _send_committed(task: Any, args: list[Any], pending_id: int | None) -> bool:
    """Publish a task whose work is committed: its row (written with the
    work, or now if it has none) kept while the broker refuses."""
    error = _publish(task, args)
    if pending_id is None:
        if error:
            PendingTask.objects.create(
                task=task.name, args=args, attempts=1, error=error
            )
    elif error:
        PendingTask.objects.filter(pk=pending_id).update(attempts=1, error=error)
    else:
        PendingTask.objects.filter(pk=pending_id).delete()
    return not error


def enqueue_on_commit(task: Any, *args: Any, robust: bool = False) -> None:
    """Send ``task(*args)`` to a worker once the current transaction commits
    (at once outside one); kept in the database until the broker takes it.
    ``args`` are JSON: ids and lists of them. ``robust``: as for
    transaction.on_commit, an error of the callback (in process: of the task
    itself) is logged instead of raised."""
    values = list(args)
    if _eager(task):
        run = _in_background if settings.TASKS_IN_BACKGROUND else _delay
        transaction.on_commit(_named(task, partial(run, task, *values)), robust=robust)
        return
    pending_id = None
    if transaction.get_connection().in_atomic_block:
        pending_id = PendingTask.objects.create(task=task.name, args=values).pk
    transaction.on_commit(
        _named(task, partial(_send_committed, task, values, pending_id)),
        robust=robust,
    )


def _named(task: Any, call: Callable[[], object]) -> Callable[[], None]:
    """The callback as a function named after the task: a robust callback
    that fails is logged by its __qualname__, which a partial has not (the
    log line itself then failed with an AttributeError)."""

    def callback() -> None:
        call()

    callback.__qualname__ = f"enqueue_on_commit({getattr(task, 'name', task)})"
    return callback


def _delay(task: Any, *args: Any) -> None:
    task.delay(*args)


def enqueue(task: Any, *args: Any) -> bool:
    """Send ``task(*args)`` to a worker now, outside any transaction of the
    work (a command); kept in the database if the broker refuses. True if
    the broker took it."""
    values = list(args)
    if _eager(task):
        task.delay(*values)
        return True
    return _send_committed(task, values, None)


def pending_send(*, now: Any = None) -> int:
    """Send the tasks the broker did not take in time, oldest first, each
    task with the same arguments once; stop at the first refusal (the rest
    wait for the next beat). The number sent."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.QUEUE_PENDING_GRACE_SECONDS)
    sent = 0
    with transaction.atomic():
        # Two beats (or a beat and a slow one) never send the same row.
        rows = list(
            PendingTask.objects.select_for_update(skip_locked=True).filter(
                created_at__lte=now - grace
            )[:SEND_BATCH]
        )
        done: set[str] = set()
        for row in rows:
            # A run requested again while its task waited is sent once.
            same = f"{row.task}:{json.dumps(row.args)}"
            if same in done:
                row.delete()
                continue
            task = app.tasks.get(row.task)
            if task is None:
                # A task renamed or removed since: kept for someone to look at.
                PendingTask.objects.filter(pk=row.pk).update(
                    attempts=row.attempts + 1, error=f"no task named {row.task}"
                )
                logger.error("Pending task #%s: no task named %s.", row.pk, row.task)
                continue
            try:
                task.apply_async(row.args)
            except BROKER_DOWN as error:
                PendingTask.objects.filter(pk=row.pk).update(
                    attempts=row.attempts + 1, error=str(error)
                )
                logger.warning("Broker still unreachable (%s).", error)
                break
            row.delete()
            done.add(same)
            sent += 1
    if sent:
        logger.info("%d pending task(s) sent to the broker.", sent)
    return sent
