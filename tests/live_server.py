"""The live server's requests one at a time when its database is SQLite in
memory.

pytest-django's live server is Django's threaded server: a thread per
browser connection. With SQLite in memory there is one database connection,
which every thread is handed (connections_override), and two requests at
once (a page and a script's fetch, a second tab) use it at the same time:
sqlite3 then fails ("bad parameter or other API misuse") or a query reads
nothing, and a signed-in page answers 500 or sends its reader to sign in.
The application is wrapped in a lock held from the call until the response
is closed (a streamed body reads the database while it is sent). PostgreSQL
gives each thread its own connection and is left as it is."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.servers.basehttp import ThreadedWSGIServer
from django.test import testcases

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication


class _Released:
    """The response's body, the lock released when the server closes it."""

    def __init__(self, body: Iterable[bytes], lock: threading.Lock) -> None:
        self._body = body
        self._lock = lock

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._lock.release()


class OneRequestAtATimeServer(ThreadedWSGIServer):
    def set_app(self, application: WSGIApplication | None) -> None:
        if not self.connections_override or application is None:
            super().set_app(application)
            return
        lock = threading.Lock()

        def serialised(environ: dict[str, Any], start_response: Any) -> _Released:
            lock.acquire()
            try:
                return _Released(application(environ, start_response), lock)
            except BaseException:
                lock.release()
                raise

        super().set_app(serialised)


def install() -> None:
    """Before the session's live server is made (tests/conftest.py)."""
    testcases.LiveServerThread.server_class = OneRequestAtATimeServer
