"""The portal's URLs plus the serving benchmark's twin views (bench/serve.py).

A twin answers, from memory, the bytes and content type that its real page
answered once before the load (files in BENCH_SERVE_BODIES, read on a
process's first request and kept). It sits behind the same middleware and
authenticates the same way, so that beside the real page it shows what the
page's own work costs: the twin of the API is a DRF view with the API's
token authentication and permission, the twin of a page requires a signed-in
session as the page does.

A bare view answers the same bytes with nothing around it: serve_wsgi sends
the paths under /bench/bare/ to a Django handler without middleware."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.views import APIView

from cchc_portal.urls import urlpatterns as portal_urlpatterns


@cache
def captured(name: str) -> tuple[bytes, str]:
    """The body and content type the real ``name`` answered."""
    folder = Path(os.environ["BENCH_SERVE_BODIES"])
    return (
        (folder / f"{name}.body").read_bytes(),
        (folder / f"{name}.type").read_text(),
    )


class ApiTwin(APIView):
    """The API's default authentication (token) and permission (signed in),
    then the captured answer of the rankings."""

    def get(self, request: Request) -> HttpResponse:
        body, content_type = captured("api")
        return HttpResponse(body, content_type=content_type)


@login_required
def dashboard_twin(request: HttpRequest) -> HttpResponse:
    body, content_type = captured("dashboard")
    return HttpResponse(body, content_type=content_type)


def bare(request: HttpRequest, name: str) -> HttpResponse:
    body, content_type = captured(name)
    return HttpResponse(body, content_type=content_type)


urlpatterns = [
    path("bench/bare/<str:name>/", bare),
    path("bench/twin/api/", ApiTwin.as_view()),
    path("bench/twin/dashboard/", dashboard_twin),
    *portal_urlpatterns,
]
