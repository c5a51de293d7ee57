"""The serving benchmark's WSGI entry (bench/serve.py): the portal's own
application, and beside it Django with no middleware at all for the paths
under /bench/bare/.

A bare view there answers the same captured bytes as the twins (serve_urls)
through nothing but Django's handler: the URL resolved, the view called, the
response sent. Beside it, a twin shows what the portal's stack costs a
request (security headers, sessions, the CSP, the language, authentication
and the rest of settings.MIDDLEWARE), as the twin beside the real answer
shows what the answer's own work costs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from cchc_portal.wsgi import application as portal

BARE_PREFIX = "/bench/bare/"

# Read when the handler is made: none.
with override_settings(MIDDLEWARE=[]):
    bare = WSGIHandler()


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(BARE_PREFIX):
        return bare(environ, start_response)
    return portal(environ, start_response)
