from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static as static_url
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import set_language

from cchc_portal import api_docs
from cchc_portal.passwords import urlpatterns as password_urls
from commitments import unit_views as commitment_views

# Under one prefix, so that an API request is not matched against every page
# first, nor a page against the API.
api_urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include("commitments.organisation.api.urls")),
    path("v1/", include("commitments.api.urls")),
    path("v1/", include("procedures.api.urls")),
    path("v1/", include("scoring.api.urls")),
    # The OpenAPI 3 schema and its readers, for signed-in callers only
    # (cchc_portal.api_docs).
    path("schema/", api_docs.schema, name="api_schema"),
    path("docs/", api_docs.swagger, name="api_docs"),
    path("redoc/", api_docs.redoc, name="api_redoc"),
]


def favicon(request: HttpRequest) -> HttpResponse:
    """Pages that do not link the icon (the admin, the API's readers), and
    browsers that ask for it anyway, find it where they look first."""
    return HttpResponsePermanentRedirect(static_url("favicon.ico"))


urlpatterns = [
    path("api/", include(api_urlpatterns)),
    path("favicon.ico", favicon),
    path("i18n/setlang/", set_language, name="set_language"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", include(password_urls)),
    path("admin/", admin.site.urls),
    path("", commitment_views.home, name="home"),
    path("", include("commitments.urls")),
    path("", include("procedures.urls")),
    path("", include("scoring.urls")),
]

handler404 = "cchc_portal.api_errors.page_not_found"
handler500 = "cchc_portal.api_errors.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
