"""The organisation over REST: every signed-in caller reads the units and the
heads within their scope (organisation.access); administrators (superusers)
upsert them in bulk, through the same path as the admin's spreadsheets and
the import_units and import_heads commands (organisation.imports), so that a
province can keep its organisation in step with its personnel system."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from cchc_portal.api_errors import ErrorSerializer
from cchc_portal.api_filters import FilterSet
from commitments.organisation.access import (
    may_write_organisation,
    scope_queryset,
    units_visible_to,
)
from commitments.organisation.api.serializers import (
    HeadRowSerializer,
    HeadSerializer,
    RowSerializer,
    UnitRowSerializer,
    UnitSerializer,
    UpsertQuerySerializer,
    UpsertReportSerializer,
    rows_field,
)
from commitments.organisation.imports import (
    HEADS,
    UNITS,
    FileRefused,
    ImportReport,
    Layout,
    dataset_from_records,
    heads_import,
    units_import,
)
from commitments.organisation.models import Head, HeadPosition, Unit, UnitKind

TAGS = ["organisation"]


class UpsertThrottle(ScopedRateThrottle):
    """30 bulk upserts a minute per administrator; DEFAULT_THROTTLE_RATES
    ["organisation_upsert"] overrides it."""

    rate = "30/min"

    def get_rate(self) -> str:
        configured = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope or "")
        return str(configured or type(self).rate)


class ReadsForAllWritesForAdministrators(BasePermission):
    message = _("Only administrators may change units and heads.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method == "POST":
            return may_write_organisation(request.user)
        return True


UPSERT_RULES = _(
    "The columns and the checks of the admin's spreadsheet import and of the "
    "command line. All rows or none: when a row is rejected nothing is written "
    "and the answer is 400 with the report, each problem naming the row (its "
    "position in the list, from 1) and the property. With dry_run=true every "
    "row is checked and the report answered with 200, nothing written. A "
    "malformed list (not a list of objects, an unknown property, a required "
    "one left out, a value of another type or outside its enum) answers an "
    "Error instead. For administrators (superusers)."
)


@extend_schema_field(OpenApiTypes.DATE)
class DayFilter(django_filters.DateFilter):
    """A date read by the filter's own method, typed for the schema."""


UPSERT_RESPONSES = {
    200: UpsertReportSerializer,
    400: OpenApiResponse(
        PolymorphicProxySerializer(
            component_name="OrganisationUpsertRefusal",
            serializers=[UpsertReportSerializer, ErrorSerializer],
            resource_type_field_name=None,
        ),
        description=_(
            "Rows rejected: nothing was written, the report says why "
            "(UpsertReport). A malformed request answers an Error instead."
        ),
    ),
    403: OpenApiResponse(description=_("The caller is not an administrator.")),
    429: OpenApiResponse(description=_("Too many upserts; retry later.")),
}


class OrganisationView(generics.ListAPIView[Any]):
    """A list for every signed-in caller, a bulk upsert for administrators."""

    permission_classes = [IsAuthenticated, ReadsForAllWritesForAdministrators]
    filter_backends = [DjangoFilterBackend]
    # A list of objects has no form encoding.
    parser_classes = [JSONParser]
    throttle_scope = "organisation_upsert"
    row_serializer: type[RowSerializer]
    layout: Layout

    def get_throttles(self) -> list[BaseThrottle]:
        return [UpsertThrottle()] if self.request.method == "POST" else []

    def upsert(
        self, request: Request, importer: Callable[..., ImportReport]
    ) -> Response:
        """Validate the posted rows and hand them to ``importer`` (the
        spreadsheet import's service), dry run or not."""
        query = UpsertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = rows_field(self.row_serializer, data=request.data)
        rows.is_valid(raise_exception=True)
        records = rows.validated_data
        dry_run = query.validated_data["dry_run"]
        dataset = dataset_from_records(records, layout=self.layout)
        try:
            report = importer(user=request.user, dataset=dataset, dry_run=dry_run)
        except FileRefused as exc:
            raise ValidationError(str(exc)) from exc
        return Response(
            _report(report),
            status=status.HTTP_400_BAD_REQUEST
            if report.errors and not dry_run
            else status.HTTP_200_OK,
        )


def _report(report: ImportReport) -> dict[str, Any]:
    return UpsertReportSerializer(
        {
            "dry_run": report.dry_run,
            "written": report.written,
            "rows_total": report.rows_total,
            "rows_new": report.rows_new,
            "rows_updated": report.rows_updated,
            "rows_unchanged": report.rows_unchanged,
            "rows_rejected": report.rows_rejected,
            "errors": [problem.as_dict() for problem in report.errors],
        }
    ).data


# --- units ------------------------------------------------------------------------


class UnitFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices)
    ranking_group = django_filters.CharFilter(
        field_name="ranking_group__code", label=_("Ranking group code.")
    )
    parent = django_filters.CharFilter(
        field_name="parent__code", label=_("The parent unit's code.")
    )
    valid_on = DayFilter(
        method="filter_valid_on", label=_("Only the units valid on this day.")
    )

    class Meta:
        model = Unit
        fields: list[str] = []

    def filter_valid_on(self, queryset: QuerySet[Unit], name: str, value: Any):
        return queryset.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=value), valid_from__lte=value
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="units_list",
        tags=TAGS,
        summary=_("List units"),
        description=_(
            "The units the caller sees (staff and heads their own unit, "
            "reviewers and leaders their jurisdiction, administrators all), "
            "50 a page, parents before their children, in the columns of the "
            "spreadsheet import: what is read can be sent again."
        ),
    ),
    post=extend_schema(
        operation_id="units_upsert",
        tags=TAGS,
        summary=_("Create or update units"),
        description=format_lazy(
            "{}\n\n{}",
            _(
                "Create or update units from a list of rows (at most 5,000), "
                "keyed by code. A parent is a stored unit or one earlier in the "
                "list."
            ),
            UPSERT_RULES,
        ),
        parameters=[UpsertQuerySerializer],
        request=rows_field(UnitRowSerializer),
        responses=UPSERT_RESPONSES,
    ),
)
class UnitListView(OrganisationView):
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    row_serializer = UnitRowSerializer
    layout = UNITS

    def get_queryset(self) -> QuerySet[Unit]:
        # The path is unique: a total order, parents first.
        return (
            units_visible_to(self.request.user)
            .select_related("parent", "ranking_group")
            .prefetch_related("predecessors")
            .order_by("path")
        )

    def post(self, request: Request) -> Response:
        return self.upsert(request, units_import)


# --- heads ------------------------------------------------------------------------


class HeadFilter(FilterSet):
    unit = django_filters.CharFilter(
        field_name="unit__code", label=_("Unit code (exactly that unit).")
    )
    position = django_filters.ChoiceFilter(choices=HeadPosition.choices)
    on = DayFilter(
        method="filter_on", label=_("Only the tenures that include this day.")
    )

    class Meta:
        model = Head
        fields: list[str] = []

    def filter_on(self, queryset: QuerySet[Head], name: str, value: Any):
        return queryset.filter(
            Q(tenure_to__isnull=True) | Q(tenure_to__gte=value), tenure_from__lte=value
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="heads_list",
        tags=TAGS,
        summary=_("List heads and deputies"),
        description=_(
            "The heads and deputies of the units the caller sees, with their "
            "tenures, 50 a page, by unit, position and latest tenure first, in "
            "the columns of the spreadsheet import."
        ),
    ),
    post=extend_schema(
        operation_id="heads_upsert",
        tags=TAGS,
        summary=_("Record heads and deputies"),
        description=format_lazy(
            "{}\n\n{}",
            _(
                "Record heads' and deputies' tenures from a list of rows (at "
                "most 5,000), keyed by unit_code, full_name, position and "
                "tenure_from. Two heads of a unit may not overlap."
            ),
            UPSERT_RULES,
        ),
        parameters=[UpsertQuerySerializer],
        request=rows_field(HeadRowSerializer),
        responses=UPSERT_RESPONSES,
    ),
)
class HeadListView(OrganisationView):
    serializer_class = HeadSerializer
    filterset_class = HeadFilter
    row_serializer = HeadRowSerializer
    layout = HEADS

    def get_queryset(self) -> QuerySet[Head]:
        # (unit, position, tenure_from) with the id: a total order.
        return scope_queryset(
            self.request.user, Head.objects.select_related("unit")
        ).order_by("unit__path", "position", "-tenure_from", "pk")

    def post(self, request: Request) -> Response:
        return self.upsert(request, heads_import)
