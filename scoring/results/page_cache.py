"""Whole pages of published results, kept for their reader.

A page such as the dashboard shows published results (the same for all its
readers with the same memberships) inside the reader's own frame: the menu
of their roles, their name, the badge of their unread notices, forms
carrying a CSRF token. It is kept under the reader, the language, the
query and the CSRF cookie, with

- the generation of published results (scoring.results.generation), so that a new
  publication shows at once;
- the reader's stamp: a digest of their memberships, name and number of
  unread notices, itself kept READER_SECONDS and forgotten when the
  reader's notices or memberships change here (forget_readers), so that a
  kept page is served only while what it shows of the reader still holds.

The generation, the stamp and the page come in one round trip: a page read
again costs no query beyond the session and the user. A reader with
messages to show (a kept page would not have them), or without a CSRF
cookie yet (the page's forms would carry a token of another), is never
served from it.

What the stamp cannot see at once: a unit renamed or moved, a change made
outside this code (SQL); those show within READER_SECONDS."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import get_language

from commitments.organisation.access import memberships
from scoring.assessments.selectors import unread_notice_count
from scoring.results import generation

if TYPE_CHECKING:
    from django.contrib.auth.models import User

READER_SECONDS = 60


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:32]


def _reader_key(user_id: int) -> str:
    return f"page:reader:{user_id}"


def reader_stamp(user: User) -> str:
    """What a kept page shows of its reader, read from the database."""
    return _digest(
        user.is_superuser,
        sorted(memberships(user)),
        user.get_username(),
        user.get_full_name(),
        unread_notice_count(user),
    )


def forget_readers(user_ids: Iterable[int]) -> None:
    """Their notices or memberships changed: their kept pages are not served
    again (once the change commits)."""
    keys = [_reader_key(pk) for pk in set(user_ids)]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))


@dataclass(frozen=True)
class Kept:
    """The outcome of a lookup: the page, if one may be served, and what to
    keep a freshly rendered one with (key None: not to be kept)."""

    key: str | None
    token: str = ""
    reader: str = ""
    body: bytes | None = None


def lookup(request: HttpRequest, name: str) -> Kept:
    """The page ``name`` kept for this request's reader and query."""
    user: Any = request.user
    csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    if not user.is_authenticated or not csrf or len(get_messages(request)):
        return Kept(None)
    key = f"page:{name}:" + _digest(
        user.pk, get_language(), request.get_full_path(), csrf
    )
    reader_key = _reader_key(user.pk)
    found = cache.get_many([generation.KEY, reader_key, key])
    token = found.get(generation.KEY)
    if token is None:
        token = generation.current()
    reader = found.get(reader_key)
    if reader is None:
        reader = reader_stamp(user)
        cache.set(reader_key, reader, READER_SECONDS)
    entry = found.get(key)
    if entry is not None and entry[0] == token and entry[1] == reader:
        return Kept(key, token, reader, entry[2])
    return Kept(key, token, reader)


def keep(kept: Kept, body: bytes, timeout: int) -> None:
    """Keep a page rendered after ``kept`` was looked up (so with the
    generation and the stamp read before what it shows)."""
    if kept.key is not None:
        cache.set(kept.key, (kept.token, kept.reader, body), timeout)


def membership_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """A membership saved or deleted (connected in ScoringConfig.ready)."""
    forget_readers([instance.user_id])
