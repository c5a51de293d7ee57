"""Deductions and bonuses over the API: entered and decided through the same
service as their pages (scoring.adjustments.services), with the same four
eyes (whoever entered a record never decides it) and history. Home Affairs'
records: anyone else is refused (403) whatever the record; a record of a unit
the reviewer does not review answers 404.

    POST adjustments/                 a reviewer enters (proposes) a record
    POST adjustments/{id}/decision/   another reviewer approves or rejects it"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cchc_portal.api_steps import Step, answers, taken, user_of, valid
from cchc_portal.idempotency import IDEMPOTENCY_KEY, idempotent
from scoring import access
from scoring.adjustments import services
from scoring.api.adjustment_serializers import (
    AdjustmentDecideSerializer,
    AdjustmentEnterSerializer,
    AdjustmentSerializer,
)
from scoring.models import Adjustment

TAGS = ["adjustments"]
REFUSED = OpenApiResponse(
    description=_(
        "Refused: the input is wrong (the messages name the field), the record "
        "was already decided, or the caller entered it (four eyes)."
    )
)
NOT_FOUND = OpenApiResponse(
    description=_("No such record among those of the units the caller reviews.")
)


def _reviewer(request: Request) -> None:
    """Home Affairs' records: 403 for anyone but a reviewer, before anything
    is looked up (nothing is disclosed)."""
    if not access.is_reviewer(user_of(request)):
        raise PermissionDenied


def _answer(pk: int, code: int = status.HTTP_200_OK) -> Response:
    record = Adjustment.objects.select_related(
        "framework", "unit", "rule", "source", "entered_by", "decided_by"
    ).get(pk=pk)
    return Response(AdjustmentSerializer(record).data, status=code)


def _unknown(field: str, code: str) -> serializers.ValidationError:
    return serializers.ValidationError(
        {field: [_("No “%(code)s” among those you may choose.") % {"code": code}]}
    )


class AdjustmentEnterView(Step):
    @extend_schema(
        operation_id="adjustments_enter",
        tags=TAGS,
        summary=_("Enter a deduction or bonus"),
        description=_(
            "A reviewer of the unit records a deduction or bonus of the "
            "framework's catalogue, as on the page: the number of cases, the "
            "reason and where to find the evidence. It counts once another "
            "reviewer approves it."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=AdjustmentEnterSerializer,
        responses=answers(
            AdjustmentSerializer,
            201,
            refused=REFUSED,
            missing=None,
            idempotent=True,
        ),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        _reviewer(request)
        user = user_of(request)
        data = valid(AdjustmentEnterSerializer, request)
        framework = services.frameworks_for(user).filter(pk=data["framework"]).first()
        if framework is None:
            raise _unknown("framework", str(data["framework"]))
        units = services.units_for(user, framework)
        unit = units.filter(code=data["unit"]).first()
        if unit is None:
            raise _unknown("unit", data["unit"])
        rule = framework.adjustment_rules.filter(code=data["rule"]).first()
        if rule is None:
            raise _unknown("rule", data["rule"])
        source = None
        if data["source"]:
            source = services.sources_for(units).filter(code=data["source"]).first()
            if source is None:
                raise _unknown("source", data["source"])
        record = taken(
            lambda: services.adjustment_enter(
                user=user,
                framework=framework,
                unit=unit,
                rule=rule,
                cases=data["cases"],
                reason=data["reason"],
                evidence=data["evidence"],
                source=source,
                now=timezone.now(),
            )
        )
        return _answer(record.pk, status.HTTP_201_CREATED)


class AdjustmentDecideView(Step):
    @extend_schema(
        operation_id="adjustments_decide",
        tags=TAGS,
        summary=_("Approve or reject a deduction or bonus"),
        description=_(
            "Another reviewer of the unit than the one who entered it (four "
            "eyes) approves a record awaiting approval, or rejects it saying why."
        ),
        request=AdjustmentDecideSerializer,
        responses=answers(AdjustmentSerializer, refused=REFUSED, missing=NOT_FOUND),
    )
    def post(self, request: Request, pk: int) -> Response:
        _reviewer(request)
        user = user_of(request)
        record = services.adjustments_visible(user).filter(pk=pk).first()
        if record is None:
            raise Http404
        data = valid(AdjustmentDecideSerializer, request)
        taken(
            lambda: services.adjustment_decide(
                user=user,
                adjustment=record,
                approve=data["approve"],
                reason=data["reason"],
                now=timezone.now(),
            ),
            renamed={"decision_reason": "reason"},
        )
        return _answer(record.pk)
