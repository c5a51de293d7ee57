"""A Redis cache that the portal outlives: Redis down is a cache that misses.

Everything the portal keeps in the cache can be read again from the
database: sessions (cached_db reads the database on a miss), the generation
of published results (a miss draws a token nothing was kept under), kept
pages and rankings, throttle counts. So when Redis cannot be reached, this
backend logs a warning and answers as an empty cache that keeps nothing:
get gives the default, get_many {}, add False (whoever needs the key to be
absent and theirs never gets it), incr ValueError (the key is not there),
set and delete do nothing. Pages and the API keep answering, slower.

Two things make that safe and quick:

- After a failure the circuit stays open for CIRCUIT_SECONDS: every call in
  that window misses at once instead of waiting for a connect timeout again,
  and connect and read timeouts are short (OPTIONS below).
- A write that did not reach Redis (a session saved or deleted, a new
  generation, a reader's stamp forgotten) leaves whatever Redis held before,
  which would be served, stale, once Redis is back. The keys of those writes
  are remembered and deleted before anything else is done once Redis
  answers again: deleting is always safe for a cache. They are remembered
  per process (what a process that ends before Redis is back remembered is
  lost with it) and up to LOST_KEYS_MAX keys.

Errors other than an unreachable server (a wrong command, a value that
cannot be pickled) are not swallowed: they are faults of the code."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The failures of a server that cannot be reached (redis-py's own, which are
# not the builtin ones, and the socket's, should one come through).
UNREACHABLE: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
)
# A local Redis answers in well under a millisecond; one that takes longer
# than these is as good as down for a page.
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
CIRCUIT_SECONDS = 5.0
LOST_KEYS_MAX = 50_000
REPAIR_BATCH = 1_000


@dataclass
class _Circuit:
    """One server's state, shared by every thread of the process (Django
    gives each thread its own backend object)."""

    open_until: float = 0.0
    lost: set[str] = field(default_factory=set)
    overflowed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, keys: Iterable[str]) -> None:
        with self.lock:
            for key in keys:
                if len(self.lost) >= LOST_KEYS_MAX:
                    if not self.overflowed:
                        self.overflowed = True
                        logger.error(
                            "Cache unreachable: more than %d writes lost; "
                            "the later ones will not be undone when it is back.",
                            LOST_KEYS_MAX,
                        )
                    return
                self.lost.add(key)

    def take(self) -> list[str]:
        with self.lock:
            keys, self.lost, self.overflowed = list(self.lost), set(), False
            return keys


_circuits: dict[str, _Circuit] = {}
_circuits_lock = threading.Lock()


def _circuit(location: str) -> _Circuit:
    with _circuits_lock:
        return _circuits.setdefault(location, _Circuit())


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, answering as an empty cache while Redis is
    unreachable (see the module's docstring)."""

    circuit_seconds = CIRCUIT_SECONDS

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        params = dict(params)
        params["OPTIONS"] = {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self._circuit = _circuit(self._location)

    def _guarded(
        self, call: Callable[[], T], fallback: T, written: Iterable[str] = ()
    ) -> T:
        """``call`` against Redis, or ``fallback`` when Redis is out of reach
        (``written``: the keys the call writes, to be deleted once it is
        back if the call did not reach it)."""
        circuit = self._circuit
        if time.monotonic() < circuit.open_until:
            circuit.remember(written)
            return fallback
        try:
            self._repair()
            return call()
        except UNREACHABLE as error:
            circuit.remember(written)
            if time.monotonic() >= circuit.open_until:
                logger.warning(
                    "Cache %s unreachable (%s): answering as an empty cache for "
                    "%.0f s.",
                    self._location,
                    error,
                    self.circuit_seconds,
                )
            circuit.open_until = time.monotonic() + self.circuit_seconds
            return fallback

    def _repair(self) -> None:
        """Delete what writes lost while Redis was out of reach left behind."""
        if not self._circuit.lost:  # the usual case: no lock taken
            return
        keys = self._circuit.take()
        try:
            for start in range(0, len(keys), REPAIR_BATCH):
                self._client.delete_many(keys[start : start + REPAIR_BATCH])
        except BaseException:
            self._circuit.remember(keys)
            raise
        if keys:
            logger.warning(
                "Cache back: %d keys written while it was away deleted.", len(keys)
            )

    @property
    def _client(self) -> Any:
        """Django's RedisCacheClient (typed loosely: its stubs want the
        timeouts as ints, which get_backend_timeout gives)."""
        return self._cache

    def _key(self, key: Any, version: int | None) -> str:
        return self.make_and_validate_key(key, version=version)

    def add(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        made = self._key(key, version)
        return self._guarded(
            lambda: bool(
                self._client.add(made, value, self.get_backend_timeout(timeout))
            ),
            False,
            [made],
        )

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        made = self._key(key, version)
        return self._guarded(lambda: self._client.get(made, default), default)

    def set(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        made = self._key(key, version)
        self._guarded(
            lambda: self._client.set(made, value, self.get_backend_timeout(timeout)),
            None,
            [made],
        )

    def touch(
        self,
        key: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        made = self._key(key, version)
        return self._guarded(
            lambda: bool(self._client.touch(made, self.get_backend_timeout(timeout))),
            False,
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        made = self._key(key, version)
        return self._guarded(lambda: bool(self._client.delete(made)), False, [made])

    def get_many(
        self, keys: Iterable[Any], version: int | None = None
    ) -> dict[Any, Any]:
        made = {self._key(key, version): key for key in keys}

        def call() -> dict[Any, Any]:
            found = self._client.get_many(made.keys())
            return {made[k]: v for k, v in found.items()}

        return self._guarded(call, {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        made = self._key(key, version)
        return self._guarded(lambda: bool(self._client.has_key(made)), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        made = self._key(key, version)
        missing: Any = object()
        found = self._guarded(lambda: self._client.incr(made, delta), missing, [made])
        if found is missing:
            # As for any key the cache does not hold.
            raise ValueError(f"Key '{key}' not found.")
        return int(found)

    def set_many(
        self,
        data: dict[Any, Any],
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> list[Any]:
        if not data:
            return []
        made = {self._key(key, version): value for key, value in data.items()}
        self._guarded(
            lambda: self._client.set_many(made, self.get_backend_timeout(timeout)),
            None,
            made.keys(),
        )
        # Django's contract: the keys that failed to be set. A lost write is
        # a cache that did not keep them, not a failure the caller must handle.
        return []

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        made = [self._key(key, version) for key in keys]
        if made:
            self._guarded(lambda: self._client.delete_many(made), None, made)

    def clear(self) -> None:
        self._guarded(lambda: self._client.clear(), None)
