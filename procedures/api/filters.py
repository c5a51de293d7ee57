"""Query-string filters and ordering for the case-record API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from cchc_portal.api_filters import FilterSet, IntegerFilter
from procedures.models import CaseRecord, Channel, DossierStatus, PeriodKind, UnitMetric


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in local time: dates in the query string are the
    days officials see, not UTC days."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


class CaseRecordFilter(FilterSet):
    unit = django_filters.CharFilter(
        field_name="unit__code", label=_("Unit code (exactly that unit).")
    )
    procedure = django_filters.CharFilter(
        field_name="procedure__code", label=_("Procedure code.")
    )
    status = django_filters.ChoiceFilter(choices=DossierStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    received_from = django_filters.DateFilter(
        method="filter_received_from",
        label=_("Received on or after this day (local date, yyyy-mm-dd)."),
    )
    received_to = django_filters.DateFilter(
        method="filter_received_to",
        label=_("Received on or before this day (local date, yyyy-mm-dd)."),
    )
    finished = django_filters.BooleanFilter(
        field_name="finished_at",
        lookup_expr="isnull",
        exclude=True,
        label=_("Has a finish date."),
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label=_(
            "Late: still open and past its due date, or finished after it. "
            "Withdrawn dossiers are never late."
        ),
    )

    class Meta:
        model = CaseRecord
        fields: list[str] = []

    # django-filter calls these methods only with a value (never with an empty
    # parameter), typed for the OpenAPI schema.

    def filter_received_from(
        self, queryset: QuerySet[CaseRecord], name: str, value: date
    ) -> QuerySet[CaseRecord]:
        return queryset.filter(received_at__gte=local_midnight(value))

    def filter_received_to(
        self, queryset: QuerySet[CaseRecord], name: str, value: date
    ) -> QuerySet[CaseRecord]:
        # Up to the end of that local day; a bound on the column keeps the
        # (unit, received_at) index usable, which a cast to date would not.
        return queryset.filter(
            received_at__lt=local_midnight(value + timedelta(days=1))
        )

    def filter_overdue(
        self, queryset: QuerySet[CaseRecord], name: str, value: bool
    ) -> QuerySet[CaseRecord]:
        # As in procedures.rules: a case is open while it has no finish date,
        # and 766 counts a withdrawn dossier neither for nor against the unit.
        late = (
            Q(finished_at__isnull=True, due_at__lt=timezone.now())
            | Q(finished_at__gt=F("due_at"))
        ) & ~Q(status=DossierStatus.WITHDRAWN)
        return queryset.filter(late) if value else queryset.exclude(late)


class StableOrderingFilter(OrderingFilter):
    """Ordering with the case code as the last key, so that pages do not
    repeat or skip cases that tie on a date."""

    def get_ordering(
        self, request: Request, queryset: QuerySet[Any], view: APIView
    ) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(key.lstrip("-") == "case_code" for key in ordering):
            ordering.append("case_code")
        return ordering


class UnitMetricFilter(FilterSet):
    unit = django_filters.CharFilter(
        field_name="unit__code", help_text=_("Unit code (exactly that unit).")
    )
    year = IntegerFilter()
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices)

    class Meta:
        model = UnitMetric
        fields = ["unit", "year", "period_kind"]
