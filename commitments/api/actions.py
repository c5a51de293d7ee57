"""A commitment's workflow over the API: each step calls the same service as
its page (commitments.services), so the same person may take it, in the
same state, with the same history and notices; the caller's scope decides
what exists (another unit's commitment or target answers 404).

    POST   commitments/{id}/targets/                      add a target to the draft
    PATCH  commitments/{id}/targets/{target_id}/          change a target of the draft
    DELETE commitments/{id}/targets/{target_id}/?reason=  remove it
    POST   commitments/{id}/sign/                         the head's signature (a file)
    POST   commitments/{id}/countersign/                  the level above
    POST   commitments/{id}/targets/{target_id}/report/   the unit reports a value
    POST   commitments/{id}/targets/{target_id}/check/    a reviewer checks it

The POSTs that record something take an Idempotency-Key
(cchc_portal.idempotency)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cchc_portal.api_steps import Step, answers, path_id, taken, user_of, valid
from cchc_portal.idempotency import IDEMPOTENCY_KEY, idempotent
from commitments import access, progress, services
from commitments.api.loading import commitments_visible, count_progress, with_progress
from commitments.api.serializers import (
    CheckSerializer,
    CommitmentDetailSerializer,
    CountersignSerializer,
    ReportSerializer,
    SignSerializer,
    TargetInputSerializer,
    TargetSerializer,
)
from commitments.models import Commitment, Target

TAGS = ["commitments"]
REFUSED = OpenApiResponse(
    description=_(
        "Refused: the commitment or target is not in the state this step needs, "
        "or the input is wrong (the messages name the field)."
    )
)
NOT_FOUND = OpenApiResponse(
    description=_("No such commitment (or target) among those the caller sees.")
)
TARGET_ID = path_id("target_id", _("The target's id (GET the commitment)."))


def _answers(ok: Any, code: int = 200, *, idempotent: bool = False) -> dict[int, Any]:
    return answers(ok, code, refused=REFUSED, missing=NOT_FOUND, idempotent=idempotent)


def _commitment(request: Request, pk: int) -> Commitment:
    commitment = (
        commitments_visible(user_of(request))
        .select_related("unit__parent")
        .filter(pk=pk)
        .first()
    )
    if commitment is None:
        raise Http404
    return commitment


def _target(request: Request, pk: int, target_id: int) -> Target:
    commitment = _commitment(request, pk)
    target = (
        Target.objects.select_related("indicator", "commitment__unit__parent")
        .filter(commitment=commitment, pk=target_id)
        .first()
    )
    if target is None:
        raise Http404
    return target


def _commitment_answer(request: Request, pk: int) -> Response:
    commitment = _commitment(request, pk)
    count_progress([commitment])
    return Response(CommitmentDetailSerializer(commitment).data)


def _target_data(target_id: int) -> dict[str, Any]:
    target = Target.objects.select_related("indicator", "commitment").get(pk=target_id)
    with_progress([target])
    return TargetSerializer(target).data


# --- adjusting the draft ------------------------------------------------------------


class TargetAddView(Step):
    @extend_schema(
        operation_id="commitments_target_add",
        tags=TAGS,
        summary=_("Add a target to a draft commitment"),
        description=_(
            "The unit's people or the reviewers over it add a target, as on the "
            "page: one per indicator, a value within bounds, a deadline within "
            "the year. A new target is mandatory; only Home Affairs of the "
            "unit's jurisdiction makes it optional, with the reason."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=TargetInputSerializer,
        responses=_answers(TargetSerializer, 201, idempotent=True),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        commitment = _commitment(request, pk)
        if not access.may_prepare(user_of(request), commitment.unit):
            raise PermissionDenied
        data = valid(TargetInputSerializer, request)
        target = taken(
            lambda: services.target_save(
                commitment=commitment,
                user=user_of(request),
                indicator=data["indicator"],
                comparison=data["comparison"],
                value=data["value"],
                deadline=data.get("deadline"),
                mandatory=data.get("mandatory"),
                optional_reason=data.get("optional_reason", ""),
            )
        )
        return Response(_target_data(target.pk), status=status.HTTP_201_CREATED)


class TargetView(Step):
    @extend_schema(
        operation_id="commitments_target_change",
        tags=TAGS,
        summary=_("Change a target of a draft commitment"),
        description=_(
            "What is sent changes, the rest stays as stored. Its indicator or "
            "comparison, and whether it is mandatory, are Home Affairs' to "
            "change (the unit removes an optional target and adds another)."
        ),
        parameters=[TARGET_ID],
        request=TargetInputSerializer,
        responses=_answers(TargetSerializer),
    )
    def patch(self, request: Request, pk: int, target_id: int) -> Response:
        target = _target(request, pk, target_id)
        commitment = target.commitment
        if not access.may_prepare(user_of(request), commitment.unit):
            raise PermissionDenied
        serializer = TargetInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        taken(
            lambda: services.target_save(
                commitment=commitment,
                user=user_of(request),
                target=target,
                indicator=data.get("indicator", target.indicator),
                comparison=data.get("comparison", target.comparison),
                value=data.get("value", target.value),
                deadline=data.get("deadline", target.deadline),
                mandatory=data.get("mandatory"),
                optional_reason=data.get("optional_reason", target.optional_reason),
            )
        )
        return Response(_target_data(target.pk))

    @extend_schema(
        operation_id="commitments_target_remove",
        tags=TAGS,
        summary=_("Remove a target from a draft commitment"),
        description=_(
            "An optional target is removed by the unit's people or the "
            "reviewers over it; a mandatory one only by Home Affairs of the "
            "unit's jurisdiction, with the reason (kept in the history)."
        ),
        parameters=[
            TARGET_ID,
            OpenApiParameter(
                "reason",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description=_("Why a mandatory target is removed."),
            ),
        ],
        request=None,
        responses=_answers(OpenApiResponse(description=_("Removed.")), 204),
    )
    def delete(self, request: Request, pk: int, target_id: int) -> Response:
        target = _target(request, pk, target_id)
        taken(
            lambda: services.target_delete(
                target=target,
                user=user_of(request),
                reason=request.query_params.get("reason", ""),
            )
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- signing ------------------------------------------------------------------------


class SignView(Step):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="commitments_sign",
        tags=TAGS,
        summary=_("Record the head's signature"),
        description=_(
            "The unit's people or the reviewers over it record the signature "
            "of the head in office on the day, with the signed document (a "
            "scan, or the PDF signed digitally), as multipart/form-data. The "
            "same checks as the page: a date in the year or the one before and "
            "not in the future, a mandatory target, a PDF, PNG or JPEG of at "
            "most 20 MB; targets set below last year's own result need "
            "acknowledge=true."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": SignSerializer},
        responses=_answers(CommitmentDetailSerializer, idempotent=True),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        commitment = _commitment(request, pk)
        if not access.may_sign(user_of(request), commitment):
            raise PermissionDenied
        data = valid(SignSerializer, request)
        warnings = progress.below_last_year(commitment)
        if warnings and not data["acknowledge"]:
            raise serializers.ValidationError(
                {
                    "acknowledge": [
                        ngettext(
                            "%(count)d target is set below the unit's own result "
                            "of last year: read it and send acknowledge=true.",
                            "%(count)d targets are set below the unit's own "
                            "result of last year: read them and send "
                            "acknowledge=true.",
                            len(warnings),
                        )
                        % {"count": len(warnings)}
                    ]
                }
            )
        taken(
            lambda: services.commitment_sign(
                commitment=commitment,
                user=user_of(request),
                signed_on=data["signed_on"],
                scan=data["scan"],
            )
        )
        return _commitment_answer(request, pk)


class CountersignView(Step):
    @extend_schema(
        operation_id="commitments_countersign",
        tags=TAGS,
        summary=_("Counter-sign for the level above"),
        description=_(
            "A leader or reviewer over the unit's parent records the "
            "counter-signature of a signed commitment: never the account that "
            "recorded the head's signature, nor the signing head's."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=CountersignSerializer,
        responses=_answers(CommitmentDetailSerializer, idempotent=True),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        commitment = _commitment(request, pk)
        if not access.is_level_above(user_of(request), commitment):
            raise PermissionDenied
        data = valid(CountersignSerializer, request)
        taken(
            lambda: services.commitment_countersign(
                commitment=commitment, user=user_of(request), **data
            )
        )
        return _commitment_answer(request, pk)


# --- manual indicators --------------------------------------------------------------


class ReportView(Step):
    @extend_schema(
        operation_id="commitments_target_report",
        tags=TAGS,
        summary=_("Report a manual indicator's value"),
        description=_(
            "The unit's people report the value achieved on a manual target of "
            "a signed commitment, before it is judged; a new report waits for a "
            "reviewer's check again."
        ),
        parameters=[TARGET_ID, IDEMPOTENCY_KEY],
        request=ReportSerializer,
        responses=_answers(TargetSerializer, idempotent=True),
    )
    @idempotent
    def post(self, request: Request, pk: int, target_id: int) -> Response:
        target = _target(request, pk, target_id)
        if not access.may_report(user_of(request), target):
            raise PermissionDenied
        data = valid(ReportSerializer, request)
        taken(
            lambda: services.target_report(target=target, user=user_of(request), **data)
        )
        return Response(_target_data(target.pk))


class CheckView(Step):
    @extend_schema(
        operation_id="commitments_target_check",
        tags=TAGS,
        summary=_("Check a reported value"),
        description=_(
            "A reviewer over the unit accepts the reported value, or rejects "
            "it saying why (the unit is told)."
        ),
        parameters=[TARGET_ID],
        request=CheckSerializer,
        responses=_answers(TargetSerializer),
    )
    def post(self, request: Request, pk: int, target_id: int) -> Response:
        target = _target(request, pk, target_id)
        if not access.may_check(user_of(request), target):
            raise PermissionDenied
        data = valid(CheckSerializer, request)
        taken(
            lambda: services.target_check(
                target=target,
                user=user_of(request),
                accepted=data["accept"],
                note=data["note"],
            )
        )
        return Response(_target_data(target.pk))
