"""Accountability's workflow over the API: each step calls the same service
as its page (scoring.accountability.services), with the same permission,
steps and notices; the caller's scope decides what exists (a case or a
rating the caller does not see answers 404).

    POST accountability-cases/{id}/explanation/  the unit's head explains
    POST accountability-cases/{id}/decision/     the leader above decides
    POST head-ratings/{id}/decision/             the leader above rates"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from cchc_portal.api_steps import Step, answers, taken, user_of, valid
from scoring.accountability import services
from scoring.api.accountability_serializers import (
    AccountabilityCaseDetailSerializer,
    CaseDecideSerializer,
    ExplainSerializer,
    HeadRatingSerializer,
    RateSerializer,
)
from scoring.models import AccountabilityCase, CaseStep, HeadRating

TAGS = ["accountability"]
REFUSED = OpenApiResponse(
    description=_(
        "Refused: the input is wrong (the messages name the field), or the "
        "case is no longer open."
    )
)
CASE_NOT_FOUND = OpenApiResponse(
    description=_("No such case among those the caller sees.")
)
# A step on a case answers the case as it is afterwards, with its steps.
CASE_ANSWERS = answers(
    AccountabilityCaseDetailSerializer, refused=REFUSED, missing=CASE_NOT_FOUND
)
RATING_NOT_FOUND = OpenApiResponse(
    description=_("No such rating among those the caller sees.")
)


def _case(request: Request, pk: int) -> AccountabilityCase:
    case = (
        services.cases_visible(user_of(request))
        .select_related("unit__parent", "head")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def _case_answer(request: Request, pk: int) -> Response:
    steps = CaseStep.objects.select_related("by").order_by("at", "pk")
    case = (
        services.cases_visible(user_of(request))
        .select_related("unit", "head")
        .prefetch_related(Prefetch("steps", steps))
        .get(pk=pk)
    )
    return Response(AccountabilityCaseDetailSerializer(case).data)


class CaseExplainView(Step):
    @extend_schema(
        operation_id="accountability_cases_explain",
        tags=TAGS,
        summary=_("Explain an accountability case"),
        description=_(
            "The head of the unit (giải trình) while the case is open; "
            "explaining again replaces the explanation until the decision. The "
            "leaders above are told."
        ),
        request=ExplainSerializer,
        responses=CASE_ANSWERS,
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case(request, pk)
        if not services.may_explain(user_of(request), case):
            raise PermissionDenied
        data = valid(ExplainSerializer, request)
        taken(
            lambda: services.case_explain(
                case=case, user=user_of(request), text=data["explanation"]
            )
        )
        return _case_answer(request, pk)


class CaseDecideView(Step):
    @extend_schema(
        operation_id="accountability_cases_decide",
        tags=TAGS,
        summary=_("Decide an explained accountability case"),
        description=_(
            "A leader whose jurisdiction holds the unit's parent decides an "
            "explained case: handled, mitigated (with its ground) or "
            "dismissed, with the reason. The head is told."
        ),
        request=CaseDecideSerializer,
        responses=CASE_ANSWERS,
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case(request, pk)
        if not services.may_decide(user_of(request), case):
            raise PermissionDenied
        data = valid(CaseDecideSerializer, request)
        taken(lambda: services.case_decide(case=case, user=user_of(request), **data))
        return _case_answer(request, pk)


def _rating(request: Request, pk: int) -> HeadRating:
    rating = (
        services.ratings_visible(user_of(request))
        .select_related("unit__parent", "head", "rated_by")
        .filter(pk=pk)
        .first()
    )
    if rating is None:
        raise Http404
    return rating


class RatingDecideView(Step):
    @extend_schema(
        operation_id="head_ratings_decide",
        tags=TAGS,
        summary=_("Rate a unit's head"),
        description=_(
            "A leader attached to the unit's parent confirms the proposal or "
            "changes it with a reason (a reason too when nothing was "
            "proposed). The proposal it was taken on is kept."
        ),
        request=RateSerializer,
        responses=answers(
            HeadRatingSerializer, refused=REFUSED, missing=RATING_NOT_FOUND
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        rating = _rating(request, pk)
        if not services.may_rate(user_of(request), rating):
            raise PermissionDenied
        data: dict[str, Any] = valid(RateSerializer, request)
        taken(
            lambda: services.rating_decide(rating=rating, user=user_of(request), **data)
        )
        return Response(HeadRatingSerializer(_rating(request, pk)).data)
