"""Case records over REST: other systems push them in batches, any role reads
those of the units it sees."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from cchc_portal.api_errors import ErrorSerializer
from commitments.organisation.access import scope_queryset
from procedures.api.filters import (
    CaseRecordFilter,
    StableOrderingFilter,
    UnitMetricFilter,
)
from procedures.api.serializers import (
    MAX_PUSH_RECORDS,
    CasePushResultSerializer,
    CasePushSerializer,
    CaseRecordSerializer,
    UnitMetricSerializer,
)
from procedures.api.services import cases_push, may_push_cases
from procedures.models import CaseRecord, ImportStatus, UnitMetric
from procedures.selectors import (
    FigureSlot,
    figure_rows,
    figure_slots,
    figure_years,
)

# A full batch of MAX_PUSH_RECORDS is some 4 MB of JSON; this leaves room for
# long names and pretty-printing (about 1.6 KB a record).
MAX_PUSH_BYTES = 16 * 1024 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class CasePushParser(BaseParser):
    """JSON with this endpoint's own size limit.

    DRF's JSONParser reads the body through request.body, which refuses more
    than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): less than a full batch. Not a
    JSONParser subclass, so DRF hands it the stream instead, bounded here."""

    media_type = "application/json"

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return {}
        body = stream.read(MAX_PUSH_BYTES + 1)
        if len(body) > MAX_PUSH_BYTES:
            raise PayloadTooLarge(
                _(
                    "The request is larger than %(size)s MB; send fewer records "
                    "per request."
                )
                % {"size": MAX_PUSH_BYTES // (1024 * 1024)}
            )
        try:
            # bytes: json detects UTF-8 (RFC 8259), whatever charset is claimed.
            return json.loads(body)
        except ValueError as exc:
            raise ParseError(
                _("The body is not valid JSON: %(error)s") % {"error": exc}
            ) from exc


class CasePushThrottle(ScopedRateThrottle):
    """120 pushes a minute per user. The rate lives here because the settings
    do not name this scope; DEFAULT_THROTTLE_RATES["case_push"] overrides it."""

    rate = "120/min"

    def get_rate(self) -> str:
        configured = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope or "")
        return str(configured or type(self).rate)


class CanPushCases(BasePermission):
    message = _(
        "Only unit staff, unit heads and reviewers may push case records, for "
        "the units they work for."
    )

    def has_permission(self, request: Request, view: APIView) -> bool:
        return may_push_cases(request.user)


PUSH_DESCRIPTION = format_lazy(
    _(
        "Push case records (hồ sơ) from a one-stop-shop system: at most "
        "{limit} records per request. Each record is upserted on its "
        "case_code, through the same engine as a file import, and recorded as an "
        "import run.\n\n"
        "Rows are numbered by the record's position in `records`, counting from 1: "
        "an error with `row` 3 is about `records[2]`.\n\n"
        "A rejected record (unknown unit or procedure, a unit the caller may not "
        "write for, a bad date or value, a case code repeated in the batch) does not "
        "stop the others: the answer is 200 with the record listed in `errors`. With "
        "`atomic` true, any rejected record means nothing is written and the answer "
        "is 400 with the same body. Pushing the same records again reports them "
        "unchanged."
    ),
    limit=MAX_PUSH_RECORDS,
)


class CasePushView(APIView):
    # JSON only: a list of objects has no form encoding.
    parser_classes = [CasePushParser]
    permission_classes = [IsAuthenticated, CanPushCases]
    throttle_classes = [CasePushThrottle]
    throttle_scope = "case_push"

    @extend_schema(
        operation_id="cases_push",
        tags=["cases"],
        summary=_("Push case records"),
        description=PUSH_DESCRIPTION,
        request=CasePushSerializer,
        responses={
            200: CasePushResultSerializer,
            400: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="CasePushRefusal",
                    serializers=[CasePushResultSerializer, ErrorSerializer],
                    resource_type_field_name=None,
                ),
                description=_(
                    "Atomic push with rejected records: nothing was written, the "
                    "push's report says why (CasePushResult). A malformed envelope "
                    "(not a list of objects, unknown fields, a required property "
                    "left out, more than the limit) answers an Error instead, "
                    "atomic or not, with each field at fault: a record's missing "
                    "property as records.<index>.<property>, the index from 0."
                ),
            ),
            401: OpenApiResponse(description=_("Not authenticated.")),
            403: OpenApiResponse(
                description=_("The caller may not push case records for any unit.")
            ),
            413: OpenApiResponse(description=_("The request body is too large.")),
            429: OpenApiResponse(description=_("Too many pushes; retry later.")),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = CasePushSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = cases_push(
            user=request.user,
            records=serializer.validated_data["records"],
            atomic=serializer.validated_data["atomic"],
        )
        return Response(
            CasePushResultSerializer(run).data,
            status=status.HTTP_400_BAD_REQUEST
            if run.status == ImportStatus.FAILED
            else status.HTTP_200_OK,
        )


class CaseReadView(generics.GenericAPIView[CaseRecord]):
    def get_queryset(self) -> QuerySet[CaseRecord]:
        # One query for a page however many units and procedures it shows.
        return scope_queryset(
            self.request.user,
            CaseRecord.objects.select_related("unit", "procedure"),
            unit_field="unit",
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="cases_list",
        tags=["cases"],
        summary=_("List case records"),
        description=_(
            "The case records of the units the caller sees, 50 a page. Times are "
            "ISO 8601 in local time (+07:00)."
        ),
    )
)
class CaseListView(CaseReadView, generics.ListAPIView[CaseRecord]):
    serializer_class = CaseRecordSerializer
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_class = CaseRecordFilter
    ordering_fields = ["received_at", "due_at", "finished_at"]
    ordering = ["-received_at"]


@extend_schema_view(
    get=extend_schema(
        operation_id="cases_retrieve",
        tags=["cases"],
        summary=_("One case record"),
        description=_(
            "A case record of a unit the caller sees; any other answers 404, "
            "whether it exists or not."
        ),
        responses={
            200: CaseRecordSerializer,
            404: OpenApiResponse(description=_("No such case in the caller's units.")),
        },
    )
)
class CaseDetailView(CaseReadView, generics.RetrieveAPIView[CaseRecord]):
    serializer_class = CaseRecordSerializer
    lookup_field = "case_code"
    # Query-string filters narrow lists only.
    filter_backends: list[Any] = []


ORDER_KEYS = {
    "unit__code": lambda slot: slot.unit_code,
    "year": lambda slot: -1 if slot.year is None else slot.year,
    "period_kind": lambda slot: slot.kind,
    "number": lambda slot: -1 if slot.number is None else slot.number,
}


def _ordered(slots: list[FigureSlot], terms: Sequence[str]) -> list[FigureSlot]:
    """The slots in the order asked, then by unit code, year, period kind and
    number (the default): successive stable sorts, last key first."""
    keys: dict[str, bool] = {}
    for term in [*terms, *UnitMetricListView.ordering]:
        keys.setdefault(term.lstrip("-"), term.startswith("-"))
    ordered = list(slots)
    for name, descending in reversed(keys.items()):
        ordered.sort(key=ORDER_KEYS[name], reverse=descending)
    return ordered


@extend_schema_view(
    get=extend_schema(
        operation_id="metrics_list",
        tags=["metrics"],
        summary="766 figures per unit and period",
        description=(
            "Counts per unit and month, quarter or year (local time), or over a "
            "range of whole months (from, to), with the rates derived from them. "
            "Every unit the caller may see that is valid in the period is a row: "
            "a unit with no dossier has counts 0 and null rates and scores (no "
            "data, never 0 % or 100 %). A range counts each dossier once, as "
            "Decision 766 counts any period (a dossier carried over is counted "
            "as carried in), so January to September is the year-to-date 766 "
            "table; adding up quarters would count twice what they carry over. "
            "Figures of a period not over when they were judged are as of that "
            "moment (as_of, shown as tính đến dd/mm/yyyy HH:MM): the running "
            "month, quarter and year are judged again every morning and "
            "whenever a dossier falls due or is imported."
        ),
    )
)
class UnitMetricListView(generics.ListAPIView[UnitMetric]):
    serializer_class = UnitMetricSerializer
    # The filterset and ordering are read in list(): a row is a unit and a
    # period, stored or not, not a UnitMetric row.
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = UnitMetricFilter
    ordering_fields = ["year", "number", "period_kind"]
    ordering = ["unit__code", "year", "period_kind", "number"]

    def get_queryset(self) -> QuerySet[UnitMetric]:
        # The model the schema and the filters' form are built from.
        return UnitMetric.objects.none()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filterset = DjangoFilterBackend().get_filterset(
            request, self.get_queryset(), self
        )
        assert filterset is not None  # filterset_class is set
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        query = filterset.form.cleaned_data
        unit_code = query.get("unit") or None
        span = query.get("range")
        years: list[int] = []
        if span is None:
            years = (
                [query["year"]]
                if query.get("year") is not None
                else figure_years(user=request.user, unit_code=unit_code)
            )
        slots = figure_slots(
            user=request.user,
            unit_code=unit_code,
            years=years,
            kind=query.get("period_kind") or None,
            span=span,
        )
        terms = OrderingFilter().get_ordering(request, self.get_queryset(), self)
        page = self.paginate_queryset(_ordered(slots, terms or []))
        assert page is not None  # PAGE_SIZE is set
        serializer = self.get_serializer(figure_rows(page), many=True)
        return self.get_paginated_response(serializer.data)
