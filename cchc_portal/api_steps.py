"""What every workflow step of the API shares, whichever app it belongs to
(assessments, commitments, accountability, adjustments, reminders): the
throttle, a view that validates a small serializer and calls one service,
and a service's refusal turned into the one error body (cchc_portal.api_errors):
PermissionDenied is 403, a ValidationError 400 with its fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from cchc_portal.idempotency import KEY_REUSED

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise


class WorkflowThrottle(ScopedRateThrottle):
    """120 steps a minute per caller: a system driving a province's cycle,
    not a loop gone wrong (settings: DEFAULT_THROTTLE_RATES["workflow"])."""

    rate = "120/min"

    def get_rate(self) -> str:
        configured = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope or "")
        return str(configured or type(self).rate)


class Step(APIView):
    """A workflow step: throttled with the others, its body JSON (a form
    would read a boolean left out as false: "accept" or "approve" missing
    would reject). A step that takes a file says its own parser."""

    parser_classes: list[type[BaseParser]] = [JSONParser]
    throttle_classes = [WorkflowThrottle]
    throttle_scope = "workflow"


DENIED = OpenApiResponse(
    description=_("The caller may see the object but not take this step.")
)
THROTTLED = OpenApiResponse(description=_("Too many steps; retry later."))


def answers(
    ok: Any,
    code: int = 200,
    *,
    refused: OpenApiResponse,
    missing: OpenApiResponse | None,
    idempotent: bool = False,
) -> dict[int, Any]:
    """The step's answer when taken, and the refusals every step shares
    (422 for a reused Idempotency-Key where the step takes one)."""
    found: dict[int, Any] = {code: ok, 400: refused, 403: DENIED, 429: THROTTLED}
    if missing is not None:  # the step names an object
        found[404] = missing
    if idempotent:
        found[422] = KEY_REUSED
    return found


def path_id(name: str, description: StrOrPromise) -> OpenApiParameter:
    """An object's id in the path, besides the first (``id``)."""
    return OpenApiParameter(
        name, OpenApiTypes.INT, OpenApiParameter.PATH, description=description
    )


class TextField(serializers.CharField):
    """A JSON string, and nothing else: DRF's CharField takes a number or a
    boolean as its text, where the schema says string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


def text_field(**kwargs: Any) -> TextField:
    """A free text of a step's input, its length counted as sent: DRF would
    trim it first (control characters count as whitespace), accepting a text
    past max_length that the schema refuses. The services trim what they
    keep."""
    return TextField(trim_whitespace=False, **kwargs)


def user_of(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def valid(serializer_class: type[serializers.Serializer], request: Request) -> Any:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def refused(
    exc: DjangoValidationError, renamed: Mapping[str, str] | None = None
) -> serializers.ValidationError:
    """A service's refusal as DRF's, its fields named as the API names them
    (``renamed``: the service's name → the API's)."""
    detail = serializers.as_serializer_error(exc)
    # Django's "__all__" (a model's clean) is the input as a whole.
    names = {NON_FIELD_ERRORS: api_settings.NON_FIELD_ERRORS_KEY, **(renamed or {})}
    detail = {names.get(key, key): value for key, value in detail.items()}
    return serializers.ValidationError(detail)


def taken[T](call: Callable[[], T], renamed: Mapping[str, str] | None = None) -> T:
    """The service's result; its ValidationError becomes the API's 400."""
    try:
        return call()
    except DjangoValidationError as exc:
        raise refused(exc, renamed) from exc
