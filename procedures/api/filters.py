"""Query-string filters and ordering for the case-record API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from cchc_portal.api_filters import FilterSet, IntegerFilter
from procedures.forms import (
    FIRST_YEAR,
    LAST_YEAR,
    MONTH_PATTERN,
    MonthField,
    clean_month_range,
)
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


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2026-01"})
class MonthFilter(django_filters.Filter):
    """A whole month, yyyy-mm. The figures list reads it from the form: a
    range of months is a row of its own, not a filter on stored rows."""

    field_class = MonthField

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return qs


RANGE_ALONE = _(
    "A range of months (from, to) is a period of its own: leave out year and "
    "period_kind."
)


class UnitMetricFilterForm(forms.Form):
    """``from`` and ``to`` come together, in order, and without ``year`` or
    ``period_kind``; each refusal names the parameter at fault."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        span = clean_month_range(self, ("from", "to"), blank_is_missing=False)
        if span is not None:
            for name in ("year", "period_kind"):
                if cleaned.get(name) not in (None, ""):
                    self.add_error(name, ValidationError(RANGE_ALONE, code="invalid"))
        cleaned["range"] = span
        return cleaned


class UnitMetricFilter(FilterSet):
    unit = django_filters.CharFilter(
        field_name="unit__code", help_text=_("Unit code (exactly that unit).")
    )
    year = IntegerFilter(
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        help_text=format_lazy(
            _(
                "The year ({first} to {last}): its months, quarters and the year. "
                "Without it (and without from and to), every year with figures."
            ),
            first=FIRST_YEAR,
            last=LAST_YEAR,
        ),
    )
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices)

    class Meta:
        model = UnitMetric
        fields = ["unit", "year", "period_kind"]
        form = UnitMetricFilterForm


# "from" is a Python keyword: these two are named here, not declared above.
UnitMetricFilter.base_filters["from"] = MonthFilter(
    field_name="from",
    help_text=_(
        "First month of a range of whole months (yyyy-mm), with to: one row per "
        "unit for the whole range, each dossier counted once as Decision 766 "
        "counts any period (January to September: a year-to-date 766 table)."
    ),
)
UnitMetricFilter.base_filters["to"] = MonthFilter(
    field_name="to",
    help_text=_("Last month of the range (yyyy-mm), with from."),
)
