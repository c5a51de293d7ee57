"""The generation of the published results (scoring.results.generation): what is
cached from published results is kept under it."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from scoring.results import generation

# The commit hooks need a database connection.
pytestmark = pytest.mark.django_db


def test_the_generation_holds_until_advanced_and_moves_on_commit(
    django_capture_on_commit_callbacks,
):
    first = generation.current()
    assert generation.current() == first
    with django_capture_on_commit_callbacks() as committing:
        generation.advance()
    # Not before the publication's transaction commits.
    assert generation.current() == first
    for callback in committing:
        callback()
    assert generation.current() != first


def test_a_lost_generation_is_a_new_one():
    first = generation.current()
    cache.delete(generation.KEY)
    second = generation.current()
    assert second != first
    assert generation.current() == second


def test_a_value_is_served_only_in_the_generation_it_was_read_in(
    django_capture_on_commit_callbacks,
):
    token, value = generation.lookup("k")
    assert value is None
    generation.keep("k", token, "v1", 60)
    assert generation.lookup("k") == (token, "v1")
    with django_capture_on_commit_callbacks(execute=True):
        generation.advance()
    newer, value = generation.lookup("k")
    assert (newer, value) == (generation.current(), None)
    # Kept late by a reader that had read the earlier generation: never served.
    generation.keep("k", token, "v1", 60)
    assert generation.lookup("k") == (newer, None)


def test_a_cache_that_keeps_nothing_never_serves_a_kept_value(settings):
    """Redis down (cchc_portal.cache answers as an empty cache): each reader
    gets a generation of its own, under which nothing was kept, and renders
    afresh; none shares a token an earlier entry could carry."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    tokens = {generation.current() for _ in range(3)}
    token, value = generation.lookup("k")
    assert value is None
    generation.keep("k", token, "v1", 60)
    assert generation.lookup("k")[1] is None
    tokens.add(token)
    assert len(tokens) == 4
    assert "None" not in tokens
