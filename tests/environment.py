"""Loaded by pytest before Django is configured (``-p tests.environment``).

Tests run with the development defaults unless the caller says otherwise: CI
sets DATABASE_URL and REDIS_URL itself and they are kept."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-use")
# Playwright's sync API runs an event loop in the test thread; the live server
# and the test's own database reads are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
