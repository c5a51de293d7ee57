"""What the apps' REST endpoints say alike in the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.utils.functional import Promise
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

View = TypeVar("View", bound=Callable[..., Any])


def retrieve_schema(
    *,
    operation_id: str,
    tags: list[str],
    summary: str | Promise,
    description: str | Promise,
    serializer: Any,
    missing: str | Promise,
) -> Callable[[View], View]:
    """The schema of a GET of one object: the object, or 404 (``missing``
    says which) for one the caller does not see, as for one that does not
    exist: another unit's object is never confirmed to exist."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id,
            tags=tags,
            summary=summary,
            description=description,
            responses={200: serializer, 404: OpenApiResponse(description=missing)},
        )
    )
