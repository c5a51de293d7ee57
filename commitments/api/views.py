"""Commitments over REST, read only: the indicator catalogue (any signed-in
caller), the commitments of the units the caller sees with their targets,
and the targets across units with their progress during the year. Signing,
reporting and checking are done on the pages.

Progress is computed, not stored (commitments.progress, as of today's local
date): for a page of commitments or targets in one read of the figures,
whatever the number of rows."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cchc_portal.api_filters import FilterSet, IntegerFilter
from commitments.api.loading import commitments_visible, count_progress, with_progress
from commitments.api.serializers import (
    PROGRESS_STATES,
    CommitmentDetailSerializer,
    CommitmentSerializer,
    IndicatorSerializer,
    TargetRowSerializer,
)
from commitments.models import (
    Commitment,
    CommitmentState,
    Indicator,
    IndicatorKind,
    Target,
)
from commitments.organisation.access import scope_queryset

TAGS = ["commitments"]
NOT_FOUND = OpenApiResponse(
    description=_("No such commitment among those the caller sees.")
)


class StableOrderingFilter(OrderingFilter):
    """Ordering with the id as the last key, so that pages neither repeat nor
    skip rows that tie on the field asked for."""

    def get_ordering(
        self, request: Request, queryset: QuerySet[Any], view: APIView
    ) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(key.lstrip("-") in ("pk", "id") for key in ordering):
            ordering.append("pk")
        return ordering


# --- indicators ---------------------------------------------------------------------


class IndicatorFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=IndicatorKind.choices)

    class Meta:
        model = Indicator
        fields = ["kind"]


@extend_schema_view(
    get=extend_schema(
        operation_id="indicators_list",
        tags=TAGS,
        summary=_("List the indicators"),
        description=_(
            "The catalogue of what targets measure, in its order: indicators "
            "read from the case-record figures (with the rate they read) and "
            "those reported by the unit and checked by a reviewer. For every "
            "signed-in caller."
        ),
    )
)
class IndicatorListView(generics.ListAPIView[Indicator]):
    serializer_class = IndicatorSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = IndicatorFilter
    # (position, code), code unique: a total order.
    queryset = Indicator.objects.order_by("position", "code")


# --- commitments --------------------------------------------------------------------


class CommitmentFilter(FilterSet):
    year = IntegerFilter()
    unit = django_filters.CharFilter(
        field_name="unit__code", label=_("Unit code (exactly that unit).")
    )
    state = django_filters.ChoiceFilter(choices=CommitmentState.choices)
    met = django_filters.BooleanFilter(
        label=_("Judged met (true) or missed (false) after the year.")
    )

    class Meta:
        model = Commitment
        fields: list[str] = []


class CommitmentReadView(generics.GenericAPIView[Commitment]):
    def get_queryset(self) -> QuerySet[Commitment]:
        return commitments_visible(self.request.user)


@extend_schema_view(
    get=extend_schema(
        operation_id="commitments_list",
        tags=TAGS,
        summary=_("List commitments"),
        description=_(
            "The commitments of the units the caller sees (staff and heads "
            "their own unit's, reviewers and leaders those of their "
            "jurisdiction), 50 a page, newest year first, then by unit. Each "
            "with who signed and counter-signed it, whether it was met after "
            "the year, and how many of its targets are on track, at risk, met, "
            "missed or without data today."
        ),
    )
)
class CommitmentListView(CommitmentReadView, generics.ListAPIView[Commitment]):
    serializer_class = CommitmentSerializer
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_class = CommitmentFilter
    ordering_fields = ["year", "signed_on", "countersigned_on", "evaluated_at"]
    # (unit, year) is unique: a total order.
    ordering = ["-year", "unit__path"]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # PAGE_SIZE is set
        count_progress(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="commitments_retrieve",
        tags=TAGS,
        summary=_("One commitment with its targets"),
        description=_(
            "The commitment and each of its targets: the indicator, what was "
            "committed and by when, last year's own result, what the unit "
            "reported and the reviewer's check, the judgement after the year, "
            "and its progress today (value, where the value comes from, "
            "state). Another unit's commitment answers 404."
        ),
        responses={200: CommitmentDetailSerializer, 404: NOT_FOUND},
    )
)
class CommitmentDetailView(CommitmentReadView, generics.RetrieveAPIView[Commitment]):
    serializer_class = CommitmentDetailSerializer
    filter_backends: list[Any] = []

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        commitment = self.get_object()
        count_progress([commitment])
        return Response(self.get_serializer(commitment).data)


# --- targets across units -----------------------------------------------------------


class TargetFilter(FilterSet):
    year = IntegerFilter(
        field_name="commitment__year",
        label=_("Year of the commitment; this year when left out."),
    )
    unit = django_filters.CharFilter(
        field_name="commitment__unit__code", label=_("Unit code (exactly that unit).")
    )
    indicator = django_filters.CharFilter(
        field_name="indicator__code", label=_("Indicator code.")
    )
    # Computed, not stored: validated here, applied by the view.
    progress = django_filters.ChoiceFilter(
        choices=PROGRESS_STATES,
        method="filter_progress",
        label=_("Progress today."),
    )

    class Meta:
        model = Target
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # Progress is followed year by year: without a year, this year's (an
        # empty year is refused by the form, not read as this one).
        if data is not None and "year" not in data:
            data = data.copy()
            data["year"] = str(timezone.localdate().year)
        super().__init__(data, *args, **kwargs)

    def filter_progress(
        self, queryset: QuerySet[Target], name: str, value: str
    ) -> QuerySet[Target]:
        return queryset


@extend_schema_view(
    get=extend_schema(
        operation_id="targets_list",
        tags=TAGS,
        summary=_("List targets across units"),
        description=_(
            "The targets of one year's commitments (this year unless year is "
            "given) of the units the caller sees, for reviewers following "
            "their jurisdiction: each with its commitment, unit and progress "
            "today. progress=at_risk lists those not due yet whose value "
            "today falls short of what was committed. 50 a page, by unit, "
            "then in the commitment's order."
        ),
    )
)
class TargetListView(generics.ListAPIView[Target]):
    serializer_class = TargetRowSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = TargetFilter

    def get_queryset(self) -> QuerySet[Target]:
        return scope_queryset(
            self.request.user,
            Target.objects.select_related("indicator", "commitment__unit").order_by(
                "commitment__unit__path", "position", "pk"
            ),
            unit_field="commitment__unit",
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        wanted = request.query_params.get("progress")
        if wanted:
            # The state is known only once computed: the whole year in scope
            # is read (one query, one read of the figures), then paginated.
            found = with_progress(list(queryset))
            rows = [item.target for item in found if item.progress == wanted]
            page = self.paginate_queryset(rows)
        else:
            page = self.paginate_queryset(queryset)
            if page is not None:
                with_progress(page)
        assert page is not None  # PAGE_SIZE is set
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
