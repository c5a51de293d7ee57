"""Handing tasks to the broker (cchc_portal.queue): kept in the database
with the work that makes them, deleted once the broker took them, kept
while it refuses and sent again by the beat; nothing of them when the work
rolls back."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from cchc_portal import queue
from cchc_portal.celery import app
from cchc_portal.models import PendingTask
from procedures.tasks import recompute_metrics_task
from tests.cchc_portal.broker import use_broker

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "procedures.tasks.recompute_metrics_task"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def eager_tasks(settings) -> Iterator[None]:
    """Overrides the suite's: a broker, not tasks run in process."""
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Run in process, a task runs in the request that sends it (on commit),
    # not on the quick start's background thread, where a test would race it.
    settings.TASKS_IN_BACKGROUND = False
    queue._broker_down_until = 0.0
    yield
    use_broker(previous[0], eager=previous[1])
    queue._broker_down_until = 0.0


@pytest.fixture
def broker_down(eager_tasks) -> None:
    use_broker(f"redis://127.0.0.1:{closed_port()}/0")


@pytest.fixture
def broker_up(eager_tasks) -> None:
    use_broker("memory://")


def test_a_task_the_broker_refuses_waits_in_the_database(broker_down, caplog):
    with transaction.atomic():
        queue.enqueue_on_commit(recompute_metrics_task, [[1, 2026, 3]])
    waiting = PendingTask.objects.get()
    # The task's arguments: one, the list of (unit, year, month).
    assert (waiting.task, waiting.args, waiting.attempts) == (
        TASK,
        [[[1, 2026, 3]]],
        1,
    )
    assert "Connection refused" in waiting.error
    assert "waits in the database" in caplog.text


def test_a_task_the_broker_took_leaves_no_row(broker_up):
    with transaction.atomic():
        queue.enqueue_on_commit(recompute_metrics_task, [[1, 2026, 3]])
        # Written with the work, in its transaction.
        assert PendingTask.objects.count() == 1
    assert not PendingTask.objects.exists()


def test_work_rolled_back_leaves_no_task(broker_down):
    def failed_import() -> None:
        with transaction.atomic():
            queue.enqueue_on_commit(recompute_metrics_task, [[1, 2026, 3]])
            raise RuntimeError("the import failed")

    with pytest.raises(RuntimeError):
        failed_import()
    assert not PendingTask.objects.exists()


def test_after_a_refusal_the_broker_is_not_tried_again_for_a_while(
    broker_down, monkeypatch
):
    published = []
    real = recompute_metrics_task.apply_async

    def counted(*args, **kwargs):
        published.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(recompute_metrics_task, "apply_async", counted)
    for month in range(1, 6):
        with transaction.atomic():
            queue.enqueue_on_commit(recompute_metrics_task, [[1, 2026, month]])
    assert len(published) == 1
    assert PendingTask.objects.count() == 5


def test_outside_a_transaction_a_refused_task_is_kept_too(broker_down):
    assert queue.enqueue(recompute_metrics_task, [[1, 2026, 3]]) is False
    assert PendingTask.objects.get().args == [[[1, 2026, 3]]]


def test_the_beat_sends_what_waited_once_the_broker_is_back(broker_down, settings):
    settings.QUEUE_PENDING_GRACE_SECONDS = 60
    for _ in range(2):  # asked twice while it waited: sent once
        queue.enqueue(recompute_metrics_task, [[1, 2026, 3]])
    queue.enqueue(recompute_metrics_task, [[2, 2026, 3]])
    later = timezone.now() + timedelta(minutes=2)
    assert queue.pending_send(now=later) == 0
    assert PendingTask.objects.count() == 3
    assert PendingTask.objects.filter(attempts=2).count() == 1

    use_broker("memory://")
    # Too young: its request may be sending it right now.
    assert queue.pending_send() == 0
    assert queue.pending_send(now=later) == 2
    assert not PendingTask.objects.exists()


def test_a_task_no_longer_known_is_kept_with_why(broker_up):
    PendingTask.objects.create(task="gone.tasks.old_task", args=[1])
    later = timezone.now() + timedelta(minutes=2)
    assert queue.pending_send(now=later) == 0
    assert PendingTask.objects.get().error == "no task named gone.tasks.old_task"


def test_running_in_process_the_task_runs_on_commit_with_no_row(eager_tasks):
    use_broker("memory://", eager=True)
    ran = []
    with transaction.atomic():
        task = SimpleNamespace(app=app, delay=lambda *a: ran.append(a), name="t")
        queue.enqueue_on_commit(task, 7)
        assert ran == []
    assert ran == [(7,)]
    assert not PendingTask.objects.exists()


def test_a_robust_task_that_fails_in_process_is_logged_by_its_name(eager_tasks, caplog):
    """Django logs a failed robust callback by its __qualname__ (a partial
    has none: the log line raised an AttributeError instead)."""
    use_broker("memory://", eager=True)

    def fail(*args):
        raise RuntimeError("the task failed")

    task = SimpleNamespace(app=app, delay=fail, name="scoring.tasks.some_task")
    with transaction.atomic():
        queue.enqueue_on_commit(task, 7, robust=True)
    failed = [r for r in caplog.records if "on_commit" in r.getMessage()]
    assert len(failed) == 1
    assert "enqueue_on_commit(scoring.tasks.some_task)" in failed[0].getMessage()
    assert "the task failed" in failed[0].getMessage()
