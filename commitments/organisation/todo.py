"""The to-do home ("Việc cần làm"): what waits for a user, gathered from each
app as the menu is (settings.TODO_PROVIDERS), so the organisation lists
scoring's work without importing scoring. Each provider reads its own
selectors in a fixed number of queries, whatever the number of units.

The menu's counts come from ``todo_counts``, kept a minute per user in the
cache and forgotten when work reaches them (``todo_forget``): the menu on
every page costs no query."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.functional import Promise
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

COUNTS_SECONDS = 60
# The menu's own item, which counts everything waiting.
TOTAL = "todo"


@dataclass(frozen=True)
class TodoLine:
    """One thing inside an item (an assessment waiting, the oldest first)."""

    label: str | Promise
    url: str
    note: str | Promise = ""


@dataclass(frozen=True)
class TodoItem:
    """Something waiting for the user, or (``count`` 0) a state they should
    know, such as their assessment submitted and waiting for Home Affairs.

    ``nav`` is the menu item whose count it adds to; ``key`` names the kind
    of work (for the page's anchors and the tests)."""

    key: str
    nav: str
    title: str | Promise
    url: str
    count: int = 1
    detail: str | Promise = ""
    due: date | None = None
    lines: tuple[TodoLine, ...] = field(default_factory=tuple)
    # Shown before the others: a deadline passed, a decision asked for.
    urgent: bool = False

    @property
    def waiting(self) -> bool:
        return self.count > 0


def todo_for(user: AnyUser, *, today: date) -> list[TodoItem]:
    """Every provider's items: the work waiting first (urgent, then by due
    date), then the states to know."""
    if not user.is_authenticated:
        return []
    items: list[TodoItem] = []
    for dotted in settings.TODO_PROVIDERS:
        items.extend(import_string(dotted)(user, today=today))
    return sorted(
        items,
        key=lambda item: (
            not item.waiting,
            not item.urgent,
            item.due or date.max,
        ),
    )


def counts_of(items: Iterable[TodoItem]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for item in items:
        if item.count:
            counts[item.nav] += item.count
            counts[TOTAL] += item.count
    return dict(counts)


def _key(user_id: int) -> str:
    return f"todo-counts:{user_id}"


def todo_counts(user: AnyUser, *, today: date) -> dict[str, int]:
    """The counts per menu item (and in all, under ``TOTAL``), from the
    cache when a page asked a minute ago."""
    if not user.is_authenticated:
        return {}
    found = cache.get(_key(user.pk))
    if found is None:
        found = counts_of(todo_for(user, today=today))
        cache.set(_key(user.pk), found, COUNTS_SECONDS)
    return found


def todo_remember(user: AnyUser, items: list[TodoItem]) -> None:
    """The home page has just read the items: the menu shows the same."""
    if user.is_authenticated:
        cache.set(_key(user.pk), counts_of(items), COUNTS_SECONDS)


def todo_forget(user_ids: Iterable[int | None]) -> None:
    """Work reached them, or they did some: counted again on the next page
    (once the change commits)."""
    keys = [_key(pk) for pk in set(user_ids) if pk is not None]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))
