"""The portal's Redis cache (cchc_portal.cache): Redis out of reach is an
empty cache that keeps nothing, answered at once, and what was written
while it was away is not served stale once it is back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cchc_portal import cache as portal_cache
from cchc_portal.cache import ResilientRedisCache
from tests.cchc_portal.redis_server import URL, redis_server  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
PRINT_BACKEND = (
    "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
)


def closed_port() -> int:
    """A port nothing listens on: bound for a moment, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backend(location: str) -> ResilientRedisCache:
    return ResilientRedisCache(location, {"KEY_PREFIX": uuid.uuid4().hex})


def test_an_unreachable_redis_is_an_empty_cache_that_keeps_nothing(caplog):
    cache = backend(f"redis://127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    assert cache.get("k", "default") == "default"
    assert cache.set("k", "v", 60) is None
    assert cache.get("k") is None
    assert cache.add("k", "v", 60) is False
    assert cache.get_many(["k", "j"]) == {}
    assert cache.set_many({"k": 1, "j": 2}) == []
    assert cache.delete("k") is False
    assert cache.delete_many(["k", "j"]) is None
    assert cache.has_key("k") is False
    assert cache.touch("k", 60) is False
    assert cache.get_or_set("k", "computed", 60) == "computed"
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")
    assert time.monotonic() - started < 2
    assert "unreachable" in caplog.text


def test_after_a_failure_redis_is_not_tried_again_for_a_while(monkeypatch):
    """The circuit: one connection attempt, then misses at once."""
    cache = backend(f"redis://127.0.0.1:{closed_port()}/0")
    attempts = []
    real = cache._cache.get

    def counted(*args):
        attempts.append(args)
        return real(*args)

    monkeypatch.setattr(cache._cache, "get", counted)
    for _ in range(20):
        assert cache.get("k") is None
    assert len(attempts) == 1
    # Once the window has passed, Redis is tried again.
    monkeypatch.setattr(cache, "circuit_seconds", 0)
    cache._circuit.open_until = 0.0
    assert cache.get("k") is None
    assert len(attempts) == 2


def test_other_errors_are_not_taken_for_redis_down(monkeypatch):
    """A fault of the code (here a value that cannot be pickled) still raises."""
    cache = backend(f"redis://127.0.0.1:{closed_port()}/0")
    monkeypatch.setattr(
        cache._cache, "get", lambda *args: (_ for _ in ()).throw(TypeError("bad"))
    )
    with pytest.raises(TypeError):
        cache.get("k")


def test_what_was_written_while_redis_was_away_is_not_served_stale(
    redis_server,  # noqa: F811
    monkeypatch,
):
    """A session deleted (sign-out) or a generation advanced while Redis was
    unreachable left the old value in Redis: it is deleted once Redis answers
    again, before anything is read."""
    cache = backend(f"{URL}/0")
    cache.set("session", "signed in as A", 60)
    cache.set("generation", "old", None)
    cache.set("untouched", "kept", 60)

    def unreachable(*args, **kwargs):
        raise portal_cache.RedisConnectionError("Connection refused")

    for name in ("set", "delete", "get", "get_many"):
        monkeypatch.setattr(cache._cache, name, unreachable)
    cache.delete("session")
    cache.set("generation", "new", None)
    assert cache.get("generation") is None
    monkeypatch.undo()
    cache._circuit.open_until = 0.0  # the window has passed

    assert cache.get("session") is None
    assert cache.get("generation") is None
    assert cache.get("untouched") == "kept"
    assert cache._circuit.lost == set()


def test_the_portal_uses_it_whenever_redis_is_configured():
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(DEBUG="1", REDIS_URL=f"{URL}/0")
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT_BACKEND],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = shown.stdout.strip().splitlines()[-1:]
    assert last == ["cchc_portal.cache.ResilientRedisCache"], shown.stderr
