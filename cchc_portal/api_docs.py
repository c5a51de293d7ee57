"""The API's description for its callers: the OpenAPI schema and its two
readers, Swagger UI and Redoc, served from the portal's static files
(drf-spectacular-sidecar).

Signed-in callers only, as every endpoint: the schema answers a caller
without credentials 401 in the API's error format (an integrator fetches it
with their token, SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]); the readers
are pages for people in a browser, so an anonymous visitor is sent to the
login page and back.

Both readers run under the portal's Content-Security-Policy: no inline
script (Swagger UI's start-up script is fetched from the same view,
drf-spectacular's split view; Redoc's from static/cchc_portal/redoc.js) and
no stylesheet from elsewhere (drf-spectacular's Redoc page asks Google
Fonts). Redoc alone needs more, on its page only (REDOC_CSP)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

# Redoc writes its styles into <style> elements, some as its bundle loads,
# before it could be given a nonce, and runs its search in a worker made
# from a blob. Its page shows nothing but our schema, so inline styles there
# are little risk; scripts stay the portal's own. Its Redocly logo, from
# Redocly's CDN, stays refused: Redoc hides it when it does not load.
REDOC_CSP: dict[str, Any] = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
}


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"


class RedocView(SpectacularRedocView):
    template_name = "api/redoc.html"


schema = SpectacularAPIView.as_view()
swagger = login_required(SwaggerView.as_view(url_name="api_schema"))
redoc = csp_override(REDOC_CSP)(
    login_required(RedocView.as_view(url_name="api_schema"))
)
