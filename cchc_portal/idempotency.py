"""The Idempotency-Key header of the API's POSTs that create something (sign,
report a value, open a contest, propose an adjustment, record a reminder, …).

A client that lost the answer to such a POST (a timeout, a dropped
connection) cannot tell whether it was written; sent again blindly it may
write twice. With a key of its choosing in the header, the retry is safe:

- the first request with the key is taken as usual; when it succeeds (2xx),
  the key, the request's digest and the answer are stored in the same
  transaction as the write, so the key is kept exactly when the write is;
- a request from the same caller with the same key and the same method, path
  and body answers the stored status and body again (with
  ``Idempotent-Replayed: true``) and writes nothing;
- the same key with another method, path or body is refused with 422
  (code ``idempotency_key_reused``) in the one error format;
- a refusal (4xx) keeps nothing: the client corrects the request and sends it
  again, with the same key or another;
- two requests with the same key at once: the second to commit fails on the
  key's unique constraint, its write is rolled back, and it answers the
  first one's answer;
- keys are forgotten after IDEMPOTENCY_KEY_HOURS (24): met expired, a key is
  deleted and the request taken afresh; the beat deletes the rest hourly.

A view's handler takes it with ``@idempotent``; its schema lists the header
(``IDEMPOTENCY_KEY``) and the 422 answer (``KEY_REUSED``)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cchc_portal.models import IdempotencyKey

HEADER = "Idempotency-Key"
# Visible ASCII, as a header value can carry it whole (a UUID, a document
# number with its slashes).
KEY_PATTERN = r"^[!-~]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
REPLAYED = "Idempotent-Replayed"

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    OpenApiParameter.HEADER,
    required=False,
    description=_(
        "A key of the caller's choosing (a UUID) that makes a retry safe: the "
        "same caller sending the same request with the same key within 24 hours "
        "gets the first answer again, with Idempotent-Replayed: true, and "
        "nothing is written twice. The same key with another request is "
        "refused (422)."
    ),
)
KEY_REUSED = OpenApiResponse(
    description=_(
        "The Idempotency-Key was used by this caller for another request "
        "(another path or body) within 24 hours."
    )
)


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = _(
        "This Idempotency-Key was already used for another request: use a new "
        "key for a new request."
    )


def _expiry() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def _canonical(value: Any) -> Any:
    """The parsed body as plain JSON values: a form's lists as they came, an
    uploaded file as the SHA-256 of its content (read, then rewound)."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": digest.hexdigest()}
    if hasattr(value, "lists"):  # a QueryDict (a form, a multipart body)
        return {key: [_canonical(v) for v in values] for key, values in value.lists()}
    if isinstance(value, dict):
        return {str(key): _canonical(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def request_digest(request: Request) -> str:
    """SHA-256 over the method, the path with its query and the body."""
    text = json.dumps(
        [request.method, request.get_full_path(), _canonical(request.data)],
        sort_keys=True,
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _stored(user_id: int, key: str, now: datetime) -> IdempotencyKey | None:
    """The caller's key if still kept; an expired one is deleted."""
    found = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
    if found is not None and found.created_at < now - _expiry():
        found.delete()
        return None
    return found


def _replay(found: IdempotencyKey, request: Request, digest: str) -> Response:
    if (found.method, found.path, found.digest) != (
        request.method,
        request.path,
        digest,
    ):
        raise KeyReused
    return Response(found.body, status=found.status, headers={REPLAYED: "true"})


Handler = Callable[..., Response]


def idempotent(handler: Handler) -> Handler:
    """Honour the Idempotency-Key header on a view's handler (see above).
    Without the header, the handler runs as it is."""

    @wraps(handler)
    def wrapped(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            raise serializers.ValidationError(
                {
                    HEADER: [
                        _(
                            "An Idempotency-Key is 1 to 255 visible ASCII "
                            "characters, without spaces."
                        )
                    ]
                }
            )
        # Behind the view's authentication: a signed-in caller.
        user_id = request.user.pk
        assert user_id is not None
        digest = request_digest(request)
        now = timezone.now()
        found = _stored(user_id, key, now)
        if found is not None:
            return _replay(found, request, digest)
        try:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
                if status.is_success(response.status_code):
                    IdempotencyKey.objects.create(
                        user_id=user_id,
                        key=key,
                        method=str(request.method),
                        path=request.path,
                        digest=digest,
                        status=response.status_code,
                        body=response.data,
                        created_at=now,
                    )
        except IntegrityError:
            # The same key committed meanwhile by a request sent at the same
            # time: this one's write is rolled back, the first one answers.
            found = _stored(user_id, key, now)
            if found is None:
                raise
            return _replay(found, request, digest)
        return response

    return wrapped


def keys_expire(now: datetime | None = None) -> int:
    """Delete the keys older than the expiry (the beat, hourly); how many."""
    cutoff = (now or timezone.now()) - _expiry()
    deleted, _rows = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
