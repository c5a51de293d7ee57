"""The self-assessment's workflow over the API: each step calls the same
service as its page (scoring.assessments.services), so the same person may
take it, in the same state, with the same history; the caller's scope decides
what exists (an assessment the caller does not see answers 404).

    POST  assessments/{id}/submit/                       the unit's head
    POST  assessments/{id}/return/                       a reviewer, with comments
    POST  assessments/{id}/comments/{comment_id}/answer/ the unit's people
    PATCH assessments/{id}/appraisals/{node_code}/       a reviewer, one leaf
    POST  assessments/{id}/appraisals/                   a reviewer, many leaves
    POST  assessments/{id}/appraisals/accept-self/       a reviewer, their self scores
    POST  assessments/{id}/approve/                      a reviewer
    POST  assessments/{id}/contests/                     the unit's people
    POST  assessments/{id}/contests/{contest_id}/decision/ a reviewer

A service's refusal is the one error body: 403 for who the caller is, 400 for
what the assessment or the input is (its messages name the leaf), 409 for a
leaf saved by someone else since the version sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cchc_portal.api_errors import error_body
from cchc_portal.api_steps import (
    DENIED,
    THROTTLED,
    Step,
    answers,
    path_id,
    refused,
    user_of,
    valid,
)
from cchc_portal.idempotency import IDEMPOTENCY_KEY, idempotent
from scoring import access
from scoring.api.serializers import (
    AcceptanceSerializer,
    AcceptSelfSerializer,
    AnswerSerializer,
    AppraisalsSerializer,
    AppraiseManySerializer,
    AppraiseSerializer,
    AssessmentSerializer,
    CommentSerializer,
    ConflictSerializer,
    ContestDecideSerializer,
    ContestRaiseSerializer,
    ContestSerializer,
    ReturnSerializer,
    ScoreSerializer,
)
from scoring.assessments import selectors, services
from scoring.assessments.reminders import with_started
from scoring.models import Assessment, Comment, Contest, Score

if TYPE_CHECKING:
    from django.contrib.auth.models import User


REFUSED = OpenApiResponse(
    description=_(
        "Refused: the assessment is not in the state this step needs, or the "
        "input is wrong (the messages name the field and the leaf)."
    )
)
NOT_FOUND = OpenApiResponse(
    description=_(
        "No such assessment (or leaf, comment, contest) among those the caller sees."
    )
)


def _answers(
    ok: type[serializers.Serializer], code: int = 200, *, idempotent: bool = False
) -> dict[int, Any]:
    return answers(ok, code, refused=REFUSED, missing=NOT_FOUND, idempotent=idempotent)


NODE_CODE = OpenApiParameter(
    "node_code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=_("The leaf's code, e.g. 1.2.3."),
)


def _visible(request: Request, pk: int) -> Assessment:
    assessment = (
        access.assessments_visible(
            user_of(request),
            with_started(Assessment.objects.select_related("unit", "framework")),
        )
        .filter(pk=pk)
        .first()
    )
    if assessment is None:
        raise Http404
    return assessment


def _leaf(assessment: Assessment, node_code: str) -> Score:
    score = (
        Score.objects.select_related("node")
        .filter(assessment=assessment, node__code=node_code)
        .first()
    )
    if score is None:
        raise Http404
    score.assessment = assessment
    return score


def _assessment_answer(request: Request, pk: int) -> Response:
    return Response(AssessmentSerializer(_visible(request, pk)).data)


class SubmitView(Step):
    @extend_schema(
        operation_id="assessments_submit",
        tags=["assessments"],
        summary=_("Submit the self-assessment"),
        description=_(
            "The unit's head sends the self-assessment to Home Affairs, as the "
            "page's button does: every self-scored leaf has a score and its "
            "required evidence, the comments of a return are answered, and the "
            "deadline (or the extension) has not passed."
        ),
        request=None,
        responses=_answers(AssessmentSerializer),
    )
    def post(self, request: Request, pk: int) -> Response:
        assessment = _visible(request, pk)
        try:
            services.assessment_submit(
                user=user_of(request),
                assessment=assessment,
                now=timezone.now(),
                today=timezone.localdate(),
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return _assessment_answer(request, pk)


class ReturnView(Step):
    @extend_schema(
        operation_id="assessments_return",
        tags=["assessments"],
        summary=_("Return the assessment to the unit with comments"),
        description=_(
            "A reviewer of the unit returns a submitted assessment, with a "
            "comment on each leaf to revise."
        ),
        request=ReturnSerializer,
        responses=_answers(AssessmentSerializer),
    )
    def post(self, request: Request, pk: int) -> Response:
        assessment = _visible(request, pk)
        data = valid(ReturnSerializer, request)
        comments: dict[int, str] = {}
        for position, item in enumerate(data["comments"]):
            score = (
                Score.objects.filter(
                    assessment=assessment, node__code=item["node_code"]
                )
                .values_list("pk", flat=True)
                .first()
            )
            if score is None:
                raise serializers.ValidationError(
                    {
                        "comments": {
                            str(position): {
                                "node_code": [
                                    _("No leaf %(code)s in this assessment.")
                                    % {"code": item["node_code"]}
                                ]
                            }
                        }
                    }
                )
            comments[score] = item["text"]
        try:
            services.assessment_return(
                user=user_of(request),
                assessment=assessment,
                comments=comments,
                now=timezone.now(),
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return _assessment_answer(request, pk)


class ApproveView(Step):
    @extend_schema(
        operation_id="assessments_approve",
        tags=["assessments"],
        summary=_("Approve the appraised assessment"),
        description=_(
            "A reviewer of the unit approves a submitted assessment once every "
            "self-scored and survey leaf is appraised (the refusal lists those "
            "still to appraise)."
        ),
        request=None,
        responses=_answers(AssessmentSerializer),
    )
    def post(self, request: Request, pk: int) -> Response:
        assessment = _visible(request, pk)
        try:
            services.assessment_approve(
                user=user_of(request), assessment=assessment, now=timezone.now()
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return _assessment_answer(request, pk)


class AnswerView(Step):
    @extend_schema(
        operation_id="assessments_comment_answer",
        tags=["assessments"],
        summary=_("Answer a reviewer's comment"),
        description=_(
            "The unit's staff or head answers a comment of the current return."
        ),
        parameters=[
            path_id(
                "comment_id", _("The comment's id (GET the assessment's comments).")
            )
        ],
        request=AnswerSerializer,
        responses=_answers(CommentSerializer),
    )
    def post(self, request: Request, pk: int, comment_id: int) -> Response:
        assessment = _visible(request, pk)
        if not Comment.objects.filter(
            pk=comment_id, score__assessment=assessment
        ).exists():
            raise Http404
        data = valid(AnswerSerializer, request)
        try:
            comment = services.comment_answer(
                user=user_of(request),
                comment_id=comment_id,
                answer=data["answer"],
                now=timezone.now(),
                today=timezone.localdate(),
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(CommentSerializer(comment).data)


class AppraiseView(Step):
    @extend_schema(
        operation_id="assessments_appraise",
        tags=["assessments"],
        summary=_("Appraise one leaf"),
        description=_(
            "A reviewer's score for one leaf of a submitted assessment, with the "
            "reason whenever it differs from the self score (survey leaves too). "
            "Send the version read with GET: if someone saved the leaf since, "
            "the answer is 409 with the leaf as it is now."
        ),
        parameters=[NODE_CODE],
        request=AppraiseSerializer,
        responses={
            200: ScoreSerializer,
            400: REFUSED,
            403: DENIED,
            404: NOT_FOUND,
            409: OpenApiResponse(
                ConflictSerializer,
                description=_("The leaf was saved by someone else since this version."),
            ),
            429: THROTTLED,
        },
    )
    def patch(self, request: Request, pk: int, node_code: str) -> Response:
        user = user_of(request)
        assessment = _visible(request, pk)
        score = _leaf(assessment, node_code)
        if not access.may_review(user, assessment):
            raise PermissionDenied
        data = valid(AppraiseSerializer, request)
        try:
            saved = services.score_appraise(
                user=user,
                score_id=score.pk,
                appraised_score=data["appraised_score"],
                reason=data.get("reason", ""),
                version=data["version"],
            )
        except services.StaleVersion as exc:
            return Response(
                {
                    **error_body(
                        status=status.HTTP_409_CONFLICT,
                        code="conflict",
                        detail=" ".join(exc.messages),
                    ),
                    "current": _leaf_data(user, _leaf(assessment, node_code)),
                },
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(_leaf_data(user, _leaf(assessment, saved.node.code)))


class _Stale(Exception):
    """A leaf of a batch saved by someone else since its version."""

    def __init__(self, code: str, error: services.StaleVersion) -> None:
        self.code = code
        self.error = error


class AppraiseManyView(Step):
    @extend_schema(
        operation_id="assessments_appraise_many",
        tags=["assessments"],
        summary=_("Appraise many leaves"),
        description=_(
            "A reviewer's scores for many leaves of a submitted assessment in "
            "one call, each as PATCH appraisals/{node_code}/ takes it (with the "
            "reason where it differs from the self score, and the version "
            "read): all or none. A refusal names the leaf's position "
            "(appraisals.2.reason); a leaf saved by someone else since its "
            "version answers 409 with that leaf as it is now."
        ),
        request=AppraiseManySerializer,
        responses={
            200: AppraisalsSerializer,
            400: REFUSED,
            403: DENIED,
            404: NOT_FOUND,
            409: OpenApiResponse(
                ConflictSerializer,
                description=_("A leaf was saved by someone else since its version."),
            ),
            429: THROTTLED,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        user = user_of(request)
        assessment = _visible(request, pk)
        if not access.may_review(user, assessment):
            raise PermissionDenied
        items = valid(AppraiseManySerializer, request)["appraisals"]
        codes = [item["node_code"] for item in items]
        ids = dict(
            Score.objects.filter(
                assessment=assessment, node__code__in=codes
            ).values_list("node__code", "pk")
        )
        seen: set[str] = set()
        for position, code in enumerate(codes):
            if code not in ids or code in seen:
                message = (
                    _("%(code)s is named twice.")
                    if code in seen
                    else _("No leaf %(code)s in this assessment.")
                )
                raise serializers.ValidationError(
                    {
                        "appraisals": {
                            str(position): {"node_code": [message % {"code": code}]}
                        }
                    }
                )
            seen.add(code)
        try:
            with transaction.atomic():
                for position, item in enumerate(items):
                    _appraise(user, ids[item["node_code"]], item, position)
        except _Stale as stale:
            return Response(
                {
                    **error_body(
                        status=status.HTTP_409_CONFLICT,
                        code="conflict",
                        detail=" ".join(stale.error.messages),
                    ),
                    "current": _leaf_data(user, _leaf(assessment, stale.code)),
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {"appraisals": [_leaf_data(user, _leaf(assessment, c)) for c in codes]}
        )


def _appraise(user: User, score_id: int, item: dict[str, Any], position: int) -> None:
    """One leaf of a batch; its refusal under the leaf's position."""
    try:
        services.score_appraise(
            user=user,
            score_id=score_id,
            appraised_score=item["appraised_score"],
            reason=item.get("reason", ""),
            version=item["version"],
        )
    except services.StaleVersion as exc:
        raise _Stale(item["node_code"], exc) from exc
    except DjangoValidationError as exc:
        detail = refused(exc, renamed={"appraisal_reason": "reason"}).detail
        raise serializers.ValidationError(
            {"appraisals": {str(position): detail}}
        ) from exc


def _leaf_data(user: User, score: Score) -> dict[str, Any]:
    context = {"shows_appraisal": selectors.shows_appraisal(user, score.assessment)}
    return ScoreSerializer(score, context=context).data


class AcceptSelfView(Step):
    @extend_schema(
        operation_id="assessments_accept_self",
        tags=["assessments"],
        summary=_("Accept the self scores of many leaves"),
        description=_(
            "The appraised score becomes the self score on the leaves named, "
            "those not yet appraised; a leaf already appraised at another score "
            "or with a reason keeps its appraisal (listed in kept)."
        ),
        request=AcceptSelfSerializer,
        responses=_answers(AcceptanceSerializer),
    )
    def post(self, request: Request, pk: int) -> Response:
        assessment = _visible(request, pk)
        data = valid(AcceptSelfSerializer, request)
        codes = set(data["node_codes"])
        ids = dict(
            Score.objects.filter(
                assessment=assessment, node__code__in=codes
            ).values_list("node__code", "pk")
        )
        unknown = sorted(codes - set(ids))
        if unknown:
            raise serializers.ValidationError(
                {
                    "node_codes": [
                        _("No leaf %(code)s in this assessment.")
                        % {"code": ", ".join(unknown)}
                    ]
                }
            )
        try:
            acceptance = services.scores_accept_self(
                user=user_of(request),
                assessment=assessment,
                score_ids=list(ids.values()),
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(
            {
                "changed": acceptance.changed,
                "kept": [
                    {"code": code, "title": title} for code, title in acceptance.kept
                ],
            }
        )


class ContestRaiseView(Step):
    @extend_schema(
        operation_id="assessments_contest_raise",
        tags=["assessments"],
        summary=_("Contest an appraised score"),
        description=_(
            "The unit's staff or head asks for another score on one leaf while "
            "the window to contest is open (after the provisional results are "
            "shown). One open contest per leaf."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=ContestRaiseSerializer,
        responses=_answers(ContestSerializer, 201, idempotent=True),
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        assessment = _visible(request, pk)
        data = valid(ContestRaiseSerializer, request)
        score = _leaf(assessment, data["node_code"])
        try:
            contest = services.contest_raise(
                user=user_of(request),
                score_id=score.pk,
                requested_score=data["requested_score"],
                reason=data["reason"],
                now=timezone.now(),
                today=timezone.localdate(),
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(ContestSerializer(contest).data, status=status.HTTP_201_CREATED)


class ContestDecideView(Step):
    @extend_schema(
        operation_id="assessments_contest_decide",
        tags=["assessments"],
        summary=_("Decide a contest"),
        description=_(
            "A reviewer of the unit accepts (the requested score becomes the "
            "appraised score) or rejects an open contest, with the reason."
        ),
        parameters=[path_id("contest_id", _("The contest's id."))],
        request=ContestDecideSerializer,
        responses=_answers(ContestSerializer),
    )
    def post(self, request: Request, pk: int, contest_id: int) -> Response:
        assessment = _visible(request, pk)
        if not Contest.objects.filter(
            pk=contest_id, score__assessment=assessment
        ).exists():
            raise Http404
        data = valid(ContestDecideSerializer, request)
        try:
            contest = services.contest_decide(
                user=user_of(request),
                contest_id=contest_id,
                accept=data["accept"],
                reason=data["reason"],
                now=timezone.now(),
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(ContestSerializer(contest).data)
