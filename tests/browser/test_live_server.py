"""The live server answers one request at a time over SQLite in memory
(tests/live_server.py), and still in parallel when each thread has its own
connection."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIRequestHandler

from tests.live_server import OneRequestAtATimeServer


def overlapping(server: OneRequestAtATimeServer) -> int:
    """Four requests from four threads to a slow application; how many ran
    at once at most."""
    running = 0
    most = 0
    guard = threading.Lock()

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with guard:
            running -= 1
        start_response("200 OK", [])
        return [b"ok"]

    server.set_app(application)

    answered = []

    def request() -> None:
        app: Any = server.get_app()
        body = app({}, lambda *args: None)
        answered.append(list(body))
        getattr(body, "close", lambda: None)()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answered == [[b"ok"]] * 4
    return most


@pytest.fixture
def make_server():
    made = []

    def make(connections_override):
        server = OneRequestAtATimeServer(
            ("127.0.0.1", 0),
            WSGIRequestHandler,
            connections_override=connections_override,
        )
        made.append(server)
        return server

    yield make
    for server in made:
        server.server_close()


def test_a_shared_connection_serves_one_request_at_a_time(make_server):
    assert overlapping(make_server({"default": object()})) == 1


def test_connections_of_their_own_serve_in_parallel(make_server):
    assert overlapping(make_server(None)) > 1


def test_a_failing_application_releases_the_lock(make_server):
    server = make_server({"default": object()})

    def failing(environ, start_response):
        raise RuntimeError("boom")

    server.set_app(failing)
    for _ in range(2):  # the second call would wait for ever on a held lock
        with pytest.raises(RuntimeError):
            server.get_app()({}, lambda *args: None)
