"""Accountability over REST, read only: explanation requests (giải trình) and
heads' completion ratings, scoped as on the pages (scoring.accountability.services:
cases_visible, ratings_visible). Explaining, deciding and rating are done on
the pages."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from cchc_portal.api_filters import FilterSet, IntegerFilter
from cchc_portal.api_schema import retrieve_schema
from scoring.accountability.services import (
    cases_visible,
    ratings_proposal_changed,
    ratings_visible,
)
from scoring.api.accountability_serializers import (
    AccountabilityCaseDetailSerializer,
    AccountabilityCaseSerializer,
    HeadRatingSerializer,
)
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    CaseStep,
    HeadRating,
)

TAGS = ["accountability"]
UNIT_CODE = _("Unit code (exactly that unit).")

# --- accountability cases -------------------------------------------------------------


class AccountabilityCaseFilter(FilterSet):
    year = IntegerFilter()
    kind = django_filters.ChoiceFilter(choices=CaseKind.choices)
    state = django_filters.ChoiceFilter(choices=AccountabilityState.choices)
    unit = django_filters.CharFilter(field_name="unit__code", label=UNIT_CODE)

    class Meta:
        model = AccountabilityCase
        fields: list[str] = []


class CaseReadView(generics.GenericAPIView[AccountabilityCase]):
    def get_queryset(self) -> QuerySet[AccountabilityCase]:
        # (kind, unit, year, subject) is unique: the model's order is total.
        return cases_visible(self.request.user).select_related("unit", "head")


@extend_schema_view(
    get=extend_schema(
        operation_id="accountability_cases_list",
        tags=TAGS,
        summary=_("List explanation requests"),
        description=_(
            "The accountability cases of the units the caller sees: a "
            "commitment missed two years running, or points lost on a "
            "criterion the unit owns. 50 a page, newest year first, then by "
            "unit. Each with the head asked to explain, its state and the "
            "decision."
        ),
    )
)
class AccountabilityCaseListView(
    CaseReadView, generics.ListAPIView[AccountabilityCase]
):
    serializer_class = AccountabilityCaseSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AccountabilityCaseFilter


@retrieve_schema(
    operation_id="accountability_cases_retrieve",
    tags=TAGS,
    summary=_("One explanation request with its steps"),
    description=_(
        "What opened the case, the head's explanation, the decision with "
        "its ground and reason, and every step with who took it and when. "
        "Another unit's case answers 404."
    ),
    serializer=AccountabilityCaseDetailSerializer,
    missing=_("No such case among those the caller sees."),
)
class AccountabilityCaseDetailView(
    CaseReadView, generics.RetrieveAPIView[AccountabilityCase]
):
    serializer_class = AccountabilityCaseDetailSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[AccountabilityCase]:
        steps = CaseStep.objects.select_related("by").order_by("at", "pk")
        return super().get_queryset().prefetch_related(Prefetch("steps", steps))


# --- head ratings ---------------------------------------------------------------------


class HeadRatingFilter(FilterSet):
    year = IntegerFilter()
    unit = django_filters.CharFilter(field_name="unit__code", label=UNIT_CODE)
    flagged = django_filters.BooleanFilter(
        label=_("Rated not completed this year and the year before.")
    )
    proposal_changed = django_filters.BooleanFilter(
        method="filter_proposal_changed",
        label=_("Decided, and the proposal changed after the decision."),
    )

    class Meta:
        model = HeadRating
        fields: list[str] = []

    def filter_proposal_changed(
        self, queryset: QuerySet[HeadRating], name: str, value: bool | None
    ) -> QuerySet[HeadRating]:
        if value is None:
            return queryset
        changed = ratings_proposal_changed(queryset)
        return changed if value else queryset.exclude(pk__in=changed.values("pk"))


class RatingReadView(generics.GenericAPIView[HeadRating]):
    def get_queryset(self) -> QuerySet[HeadRating]:
        # (unit, year, head) is unique: by unit, then its heads in the order
        # they took the post, is total.
        return (
            ratings_visible(self.request.user)
            .select_related("unit", "head", "rated_by")
            .order_by("-year", "unit__path", "head__tenure_from", "pk")
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="head_ratings_list",
        tags=TAGS,
        summary=_("List heads' completion ratings"),
        description=_(
            "The heads' ratings for the year: proposed from the targets, the "
            "tier and repeated lateness, then confirmed or changed by the level "
            "above. A unit's head sees their own; reviewers and leaders those "
            "of their jurisdiction; unit staff none. 50 a page, newest year "
            "first, then by unit."
        ),
    )
)
class HeadRatingListView(RatingReadView, generics.ListAPIView[HeadRating]):
    serializer_class = HeadRatingSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = HeadRatingFilter


@retrieve_schema(
    operation_id="head_ratings_retrieve",
    tags=TAGS,
    summary=_("One head's completion rating"),
    description=_(
        "The proposal and what it was made from, the final rating with "
        "who gave it, when and why. A rating the caller may not see "
        "answers 404."
    ),
    serializer=HeadRatingSerializer,
    missing=_("No such rating among those the caller sees."),
)
class HeadRatingDetailView(RatingReadView, generics.RetrieveAPIView[HeadRating]):
    serializer_class = HeadRatingSerializer
    filter_backends: list[Any] = []
