"""A rate limit for the portal's downloads (spreadsheets, PDFs, CSV): each
export renders a whole table or document, so one signed-in user may ask for
EXPORT_RATE of them, after which the page answers 429 with Retry-After.

DRF's throttles already guard the API's writes; this reuses its
UserRateThrottle (the same cache, the same counting) for plain Django views.
The rate is DEFAULT_THROTTLE_RATES["export"] when the settings name it."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

View = Callable[..., HttpResponse]


class ExportThrottle(UserRateThrottle):
    scope = "export"
    # Not "rate": SimpleRateThrottle calls get_rate only when that is unset.
    default_rate = "30/min"

    def get_rate(self) -> str:
        configured = (api_settings.DEFAULT_THROTTLE_RATES or {}).get("export")
        return str(configured or self.default_rate)


def export_throttled(view: View) -> View:
    """Count the request against the user's export rate; 429 beyond it."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = ExportThrottle()
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            wait = math.ceil(throttle.wait() or 1)
            response = render(request, "429.html", {"seconds": wait}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return view(request, *args, **kwargs)

    return wrapped
