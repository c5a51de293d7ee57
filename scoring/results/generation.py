"""The generation of the published results (cchc_portal.generations): a
token in the cache that changes once a new version is committed. Whatever
is cached from published results (the rankings over the API, the
dashboard's pages) is kept with the generation it was read in, and served
only while that generation is the current one; scoring.signals advances it
when a publication or a unit's name changes."""

from __future__ import annotations

from cchc_portal.generations import Generation

KEY = "published:generation"

PUBLISHED = Generation(KEY)
current = PUBLISHED.current
advance = PUBLISHED.advance
lookup = PUBLISHED.lookup
keep = PUBLISHED.keep
