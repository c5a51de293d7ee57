# ruff: noqa: F811 - the results fixtures imported from the scoring tests
"""Redis down (issue 15, defect 11): signed-in pages and the API keep
answering from the database, and work queued meanwhile is sent once Redis
is back.

A redis-server of the test's own (tests.cchc_portal.redis_server, port
6391) is the cache (sessions read through it, the generation of published
results, kept pages, throttles) and the Celery broker, as in production.
Signed in and served with it up, then killed: every request, the sign-in
itself and a request that queues a computation answer 2xx or 3xx. Started
again (empty, as a Redis that lost its data), the queued computation
reaches the broker's queue."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from cchc_portal import queue
from cchc_portal.cache import ResilientRedisCache
from cchc_portal.celery import app
from cchc_portal.models import PendingTask
from scoring.models import ComputationRun, RunState
from tests.cchc_portal.broker import use_broker
from tests.cchc_portal.redis_server import URL, RedisServer, redis_server  # noqa: F401
from tests.conftest import PASSWORD
from tests.scoring.conftest import framework  # noqa: F401 - fixture
from tests.scoring.results.test_views import (  # noqa: F401 - fixtures
    computed_2025,
    framework_2025,
    published_2024,
    published_2025,
    units,
)

# Requests go through real commits: the computation is handed over on commit.
pytestmark = pytest.mark.django_db(transaction=True)

CACHE_DB, BROKER_DB = 0, 1
QUEUE_NAME = "redis-down-test"


@pytest.fixture
def eager_tasks(settings, redis_server) -> Iterator[None]:
    """Overrides the suite's: tasks go to the test's Redis, not in process."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.QUEUE_PENDING_GRACE_SECONDS = 0
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = QUEUE_NAME
    use_broker(f"{URL}/{BROKER_DB}", eager=False)
    queue._broker_down_until = 0.0
    yield
    app.conf.task_default_queue = previous_queue
    use_broker(previous[0], eager=previous[1])
    queue._broker_down_until = 0.0


@pytest.fixture
def redis_cache(settings, eager_tasks, monkeypatch):
    # Redis is tried again every second (each request of the loop below may
    # be the one that does), instead of every five.
    monkeypatch.setattr(ResilientRedisCache, "circuit_seconds", 1.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "cchc_portal.cache.ResilientRedisCache",
            "LOCATION": f"{URL}/{CACHE_DB}",
            "KEY_PREFIX": "redis-down-test",
        }
    }


def signed_in(username: str) -> Client:
    client = Client()
    response = client.post(
        reverse("login"), {"username": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def queued_messages(server: RedisServer) -> list[dict]:
    raw = server.client(BROKER_DB).lrange(QUEUE_NAME, 0, -1)
    return [json.loads(message) for message in raw]


def test_with_redis_down_pages_and_the_api_answer_and_queued_work_is_sent_after(
    redis_server,
    redis_cache,
    published_2025,
    leader,
    reviewer,
):
    ranking = reverse("scoring_api:result-ranking", kwargs={"year": 2025})
    runs = reverse("scoring_api:result-runs", kwargs={"year": 2025})
    pages = [
        (leader, "/dashboard/"),
        (leader, ranking),
        (leader, reverse("results_year", kwargs={"year": 2025})),
        (leader, reverse("notice_list")),
        (reviewer, reverse("assessment_list")),
        (reviewer, ranking + "?format=json"),
    ]
    clients = {user.username: signed_in(user.username) for user in (leader, reviewer)}
    for user, url in pages:
        response = clients[user.username].get(url)
        assert response.status_code == 200, (url, response.status_code)
    # Served from Redis: the sessions and the kept pages are there.
    assert redis_server.client(CACHE_DB).dbsize() > 0

    redis_server.stop()
    answers: list[tuple[str, int]] = []
    started = time.monotonic()
    for _ in range(3):
        for user, url in pages:
            response = clients[user.username].get(url)
            answers.append((url, response.status_code))
        answers.append(("login", signed_in(leader.username) and 302))
        response = clients[reviewer.username].post(runs)
        answers.append((runs, response.status_code))
    took = time.monotonic() - started
    assert [a for a in answers if not 200 <= a[1] < 400] == []
    # Pages are not held up by timeouts for every call to the cache.
    assert took < 30, took
    # One run, queued (each request found it queued and asked again), its
    # task waiting in the database for the broker.
    run = ComputationRun.objects.get(state=RunState.QUEUED)
    waiting = {(t.task, tuple(t.args)) for t in PendingTask.objects.all()}
    assert waiting == {("scoring.tasks.compute_year_task", (run.pk,))}

    redis_server.start()
    assert queued_messages(redis_server) == []
    assert queue.pending_send() == 1
    sent = queued_messages(redis_server)
    assert [m["headers"]["task"] for m in sent] == ["scoring.tasks.compute_year_task"]
    assert sent[0]["headers"]["argsrepr"] == f"[{run.pk}]"
    assert not PendingTask.objects.exists()
    # Pages are read from Redis again, once the circuit's second is over.
    time.sleep(1.1)
    assert clients[leader.username].get("/dashboard/").status_code == 200
    assert redis_server.client(CACHE_DB).dbsize() > 0
