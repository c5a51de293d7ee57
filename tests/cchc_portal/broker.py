"""Pointing the Celery app at another broker inside a test."""

from typing import Any

from cchc_portal.celery import app


def use_broker(url: str, *, eager: bool = False) -> None:
    """Point the Celery app at ``url`` (it read its settings once) and drop
    the connections it holds to the previous broker."""
    celery: Any = app  # the pools are private attributes the stubs don't know
    celery.conf.broker_url = url
    celery.conf.task_always_eager = eager
    celery._pool = None
    if "amqp" in celery.__dict__:
        celery.amqp._producer_pool = None
