"""The portal's settings for the serving benchmark (bench/serve.py).

Everything is cchc_portal.settings, read from the same environment (the
benchmark sets DEBUG off, PostgreSQL and Redis): the same middleware, cache,
sessions and authentication. Two things differ: the URLs gain the twin views
(serve_urls), and collectstatic writes under bench/out/ rather than into the
checkout's staticfiles/."""

from cchc_portal.settings import *  # noqa: F403
from cchc_portal.settings import BASE_DIR

ROOT_URLCONF = "serve_urls"
STATIC_ROOT = BASE_DIR / "bench" / "out" / "serve" / "static"
