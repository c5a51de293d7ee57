"""Generations: a token in the cache that changes once a change of some
rows has committed. Whatever is computed from those rows and kept in the
cache is kept with the generation it was read in, and served only while
that generation is the current one: a read from the cache needs no query to
know it is still the latest (the token and the entry come in one round
trip), and a change leaves every earlier entry behind at once. The
published results have one (scoring.results.generation), the stored
figures of the dossiers another (procedures.selectors).

Why it is never stale: the token changes only after the change's
transaction has committed (transaction.on_commit), so a reader that finds
the new token reads the new rows; a reader that found the old token may
store what it read with it, but that entry is never served again. When the
cache loses the token (a restart, an eviction), the next reader draws a
new random one, which no earlier entry carries. With the cache out of
reach (cchc_portal.cache: every read a miss, every write lost) each reader
has a token of its own, so nothing kept is served; a new generation that
could not be written is undone by the cache once it is back (the key is
deleted, so the next reader draws a new one)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import cache
from django.db import transaction


def _new() -> str:
    return secrets.token_hex(8)


class Generation:
    """The generation kept in the cache under ``key``."""

    def __init__(self, key: str) -> None:
        self.key = key

    def current(self) -> str:
        """The generation now: one cache read (two, and a write, when the
        cache has lost it). A cache that keeps nothing (Redis down: every read
        a miss) gives a new token each time, under which nothing was kept:
        its callers read afresh, never an entry of an earlier generation."""
        token = cache.get(self.key)
        if token is None:
            cache.add(self.key, _new(), timeout=None)
            token = cache.get(self.key)
            if token is None:
                return _new()
        return str(token)

    def advance(self) -> None:
        """A new generation once the current transaction commits (at once
        outside one)."""
        transaction.on_commit(self._advance_now)

    def _advance_now(self) -> None:
        cache.set(self.key, _new(), timeout=None)

    def lookup(self, key: str) -> tuple[str, Any]:
        """The generation now and the value kept under ``key`` in it (None if
        there is none, or only one of an earlier generation): one round trip.
        Read the generation before what is to be kept, and keep it with that."""
        found = cache.get_many([self.key, key])
        token = found.get(self.key)
        if token is None:
            return self.current(), None
        kept = found.get(key)
        if kept is None or kept[0] != token:
            return str(token), None
        return str(token), kept[1]

    def keep(self, key: str, token: str, value: Any, timeout: int) -> None:
        """Keep ``value``, read in generation ``token`` (from lookup)."""
        cache.set(key, (token, value), timeout)
