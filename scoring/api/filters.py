"""Query-string filters of the index API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cchc_portal.api_filters import FilterSet, IntegerFilter
from commitments.organisation.models import UnitKind
from scoring.assessments.reminders import NOT_STARTED_Q
from scoring.models import Assessment, AssessmentState, Framework, FrameworkState

# The largest id the database holds (a 64-bit signed integer).
MAX_ID = 2**63 - 1


class FrameworkFilter(FilterSet):
    year = IntegerFilter()
    unit_kind = django_filters.ChoiceFilter(choices=UnitKind.choices)
    state = django_filters.ChoiceFilter(choices=FrameworkState.choices)

    class Meta:
        model = Framework
        fields = ["year", "unit_kind", "state"]


class AssessmentFilter(FilterSet):
    # Bounded: SQLite cannot even compare an id with an integer beyond 64
    # bits (a 500 before, found by tests/cchc_portal/test_api_fuzz.py).
    framework = IntegerFilter(
        field_name="framework", label=_("Framework id."), min_value=1, max_value=MAX_ID
    )
    year = IntegerFilter(
        field_name="framework__year", label=_("Year of the framework.")
    )
    unit = django_filters.CharFilter(
        field_name="unit__code", label=_("Unit code (exactly that unit).")
    )
    state = django_filters.ChoiceFilter(choices=AssessmentState.choices)
    not_started = django_filters.BooleanFilter(
        method="filter_not_started",
        label=_(
            "A draft without any self score (true), or any other assessment (false)."
        ),
    )

    class Meta:
        model = Assessment
        fields: list[str] = []

    def filter_not_started(
        self, queryset: QuerySet[Assessment], name: str, value: bool
    ) -> QuerySet[Assessment]:
        # The view annotates "started" (scoring.assessments.reminders.with_started).
        if value:
            return queryset.filter(NOT_STARTED_Q)
        return queryset.exclude(NOT_STARTED_Q)
