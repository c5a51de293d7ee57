"""The results tests' own fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_published_documents(settings, tmp_path):
    """Each test its own media folder: a published ranking's documents are
    kept as files named by what they are made of (scoring.results.exports),
    and two tests publishing the same data under the same ids would find
    each other's, as they would each other's cache without its prefix."""
    settings.MEDIA_ROOT = tmp_path / "media"
