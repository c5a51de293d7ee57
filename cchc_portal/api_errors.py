"""One body for every error of the REST API, and its place in the schema.

Every 4xx answer raised through DRF (401, 403, 404, 405, 415, 429, a refused
filter or body, …) has the same shape, so that a client reads any error the
same way:

    {"status": 400, "code": "invalid", "detail": "…",
     "errors": [{"field": "targets.2.value", "code": "max_value",
                 "message": "…"}]}

``code`` names the kind of error (DRF's codes: not_authenticated,
permission_denied, not_found, invalid, throttled, …) and ``detail`` is a
message in the caller's language. ``errors`` always holds at least one entry:
one per message of a refused input, each with the field's path (nested
objects and list positions joined by dots, null for the input as a whole),
or a single entry with a null field for any other error. For a refused input
``detail`` repeats the first message. Headers DRF sets (WWW-Authenticate,
Retry-After) are kept.

The schema documents these bodies as the Error component: AutoSchema adds
the error answers every operation can give (401; 400 where it takes input;
404 where it names an object or a page; 403, 415 for writes; 429 where
throttled) and gives the Error body to every documented 4xx answer that has
no body of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

# --- the body -------------------------------------------------------------------------


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text=_(
            "The input at fault: a field, or a dotted path into nested objects "
            "and lists (targets.2.value); null for the request as a whole."
        ),
    )
    code = serializers.CharField(
        help_text=_("What is wrong, for programs (required, invalid_choice, …).")
    )
    message = serializers.CharField(help_text=_("What is wrong, for people."))


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (the Error component of the schema)."""

    status = serializers.IntegerField(help_text=_("The HTTP status code."))
    code = serializers.CharField(
        help_text=_(
            "The kind of error: not_authenticated, authentication_failed, "
            "permission_denied, not_found, invalid, parse_error, "
            "unsupported_media_type, method_not_allowed, throttled, …"
        )
    )
    detail = serializers.CharField(
        help_text=_(
            "A message in the caller's language; for refused input, the first "
            "of the messages in errors."
        )
    )
    # DRF's metaclass takes declared fields off the class, so this does not hide
    # Serializer.errors at run time; mypy only sees the class body.
    errors = ErrorItemSerializer(  # type: ignore[assignment]
        many=True,
        help_text=_("Every problem found, at least one."),
    )


def error_body(
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An error answer's body; without ``errors``, a single entry about the
    request as a whole repeats the code and message."""
    return {
        "status": status,
        "code": code,
        "detail": detail,
        "errors": errors or [{"field": None, "code": code, "message": detail}],
    }


def flatten(
    detail: Any, default_code: str, path: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """DRF's nested error details as a flat list: one entry per message, with
    its path joined by dots. A serializer's non-field errors belong to the
    object they are found in (null at the top)."""
    if isinstance(detail, Mapping):
        found: list[dict[str, Any]] = []
        for key, value in detail.items():
            own = str(key) == api_settings.NON_FIELD_ERRORS_KEY
            found += flatten(value, default_code, path if own else (*path, str(key)))
        return found
    if isinstance(detail, list):
        found = []
        for index, value in enumerate(detail):
            # A list of messages is about the field itself; a list of objects
            # or lists (a many=True serializer) is one entry per position.
            inner = (*path, str(index)) if isinstance(value, Mapping | list) else path
            found += flatten(value, default_code, inner)
        return found
    return [
        {
            "field": ".".join(path) or None,
            "code": getattr(detail, "code", None) or default_code,
            "message": str(detail),
        }
    ]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (Django's Http404 and PermissionDenied included, the
    transaction rolled back, its headers), with the body in the one error
    format. Anything else stays unhandled: a 500."""
    if isinstance(exc, Http404):
        # Not Django's text, which names the model in English ("No Commitment
        # matches the given query."): DRF's, translated. A view that has more
        # to say raises DRF's NotFound with its own message.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = str(exc.default_code)
    errors = flatten(exc.detail, code)
    if not errors:  # an empty ValidationError: still one entry
        errors = [{"field": None, "code": code, "message": str(exc.default_detail)}]
    response.data = error_body(
        status=response.status_code,
        code=code,
        detail=errors[0]["message"],
        errors=errors,
    )
    return response


# --- paths no view answers ------------------------------------------------------------


def _under_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 (handler404): a path under /api/ that no pattern matches
    (/api/v1/commitments/abc/, an unknown endpoint) answers the error format
    too, not the portal's HTML page."""
    if not _under_api(request):
        return defaults.page_not_found(request, exception)
    detail = str(exceptions.NotFound.default_detail)
    return JsonResponse(
        error_body(status=404, code="not_found", detail=detail), status=404
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 (handler500): under /api/, the error format."""
    if not _under_api(request):
        return defaults.server_error(request)
    detail = str(exceptions.APIException.default_detail)
    return JsonResponse(
        error_body(status=500, code="server_error", detail=detail), status=500
    )


# --- the schema -----------------------------------------------------------------------

# The error answers an operation may give, and why, unless the view documents
# its own (whose text is then kept, with the Error body added).
DEFAULT_DESCRIPTIONS = {
    "400": _("Refused input: errors names each field at fault and why."),
    "401": _("Not authenticated: no credentials, or a token that is not valid."),
    "403": _("Not allowed (with a session, also a missing CSRF token)."),
    "404": _("No such object among those the caller may see, or no such page."),
    "415": _("The body is not in a media type this operation reads."),
    "429": _("Too many requests: retry after the seconds in Retry-After."),
}
# Query parameters whose bad values are not refused with a 400: an unknown
# ordering is ignored. (An empty or non-integer page is a 400, a page out of
# range a 404: cchc_portal.api_filters.PageNumberPagination.)
NOT_VALIDATED = {"ordering"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the error answers each operation can
    give, all with the Error body."""

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        responses: dict[str, Any] = operation["responses"]
        for code in self._expected_errors(operation):
            responses.setdefault(code, {"description": DEFAULT_DESCRIPTIONS[code]})
        error = self.resolve_serializer(ErrorSerializer, "response")
        media_types = self.map_renderers("media_type") or ["application/json"]
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                response["content"] = {
                    media_type: {"schema": error.ref} for media_type in media_types
                }
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": _("Seconds to wait before the next request."),
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _expected_errors(self, operation: dict[str, Any]) -> list[str]:
        query = {
            parameter["name"]
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query"
        }
        has_body = "requestBody" in operation
        codes = []
        if any(not isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.append("401")
        if has_body or query - NOT_VALIDATED:
            codes.append("400")
        if "{" in self.path or "page" in query:
            codes.append("404")
        if self.method in WRITES:
            codes.append("403")
        if has_body:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes
