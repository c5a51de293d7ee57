"""The index over REST: frameworks (any signed-in caller), assessments (only
those of the units the caller sees), and a unit's self scores written through
the same service, and so the same rules, as the form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from cchc_portal.api_errors import error_body
from cchc_portal.api_schema import retrieve_schema
from scoring import access
from scoring.api.filters import AssessmentFilter, FrameworkFilter
from scoring.api.serializers import (
    AssessmentDetailSerializer,
    AssessmentSerializer,
    ConflictSerializer,
    FrameworkDetailSerializer,
    FrameworkSerializer,
    ScoreSerializer,
    SelfScoreSaveSerializer,
)
from scoring.assessments import selectors, services
from scoring.assessments.reminders import with_started
from scoring.frameworks import services as frameworks
from scoring.models import Assessment, Evidence, Framework, Score

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

# --- frameworks -------------------------------------------------------------------


class FrameworkReadView(generics.GenericAPIView[Framework]):
    def get_queryset(self) -> QuerySet[Framework]:
        # As on the framework pages: drafts only for those who build them.
        return frameworks.frameworks_visible(self.request.user)


@extend_schema_view(
    get=extend_schema(
        operation_id="frameworks_list",
        tags=["frameworks"],
        summary=_("List index frameworks"),
        description=_(
            "The PAR-index frameworks, one per year and kind of unit, newest "
            "first, 50 a page; the tree is in the detail. Reviewers and "
            "superusers see them all; anyone else those of the kinds of unit "
            "they reach, once open."
        ),
    )
)
class FrameworkListView(FrameworkReadView, generics.ListAPIView[Framework]):
    serializer_class = FrameworkSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = FrameworkFilter
    ordering_fields = ["year"]
    # (year, unit kind) is unique: pages neither repeat nor skip a framework.
    ordering = ["-year", "unit_kind"]


@retrieve_schema(
    operation_id="frameworks_retrieve",
    tags=["frameworks"],
    summary=_("One index framework with its tree"),
    description=_(
        "Settings, tiers, and the tree of fields, criteria and sub-criteria "
        "with every attribute. Points are decimal strings."
    ),
    serializer=FrameworkDetailSerializer,
    missing=_("No such framework among those the caller sees."),
)
class FrameworkDetailView(FrameworkReadView, generics.RetrieveAPIView[Framework]):
    serializer_class = FrameworkDetailSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Framework]:
        return super().get_queryset().prefetch_related("tiers")


# --- assessments ------------------------------------------------------------------


class AssessmentReadView(generics.GenericAPIView[Assessment]):
    def get_queryset(self) -> QuerySet[Assessment]:
        return with_started(
            access.assessments_visible(
                self.request.user,
                Assessment.objects.select_related("framework", "unit"),
            )
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="assessments_list",
        tags=["assessments"],
        summary=_("List assessments"),
        description=_(
            "The self-assessments the caller may see: staff and heads their "
            "own unit's, reviewers and leaders those of their jurisdiction. "
            "50 a page, by year (newest first), kind of unit and unit. "
            "not_started=true lists the units that have not entered any self "
            "score yet."
        ),
    )
)
class AssessmentListView(AssessmentReadView, generics.ListAPIView[Assessment]):
    serializer_class = AssessmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AssessmentFilter

    def get_queryset(self) -> QuerySet[Assessment]:
        # One assessment per unit and framework, one framework per year and
        # kind, one path per unit: the order is total.
        return (
            super()
            .get_queryset()
            .order_by("-framework__year", "framework__unit_kind", "unit__path")
        )


@retrieve_schema(
    operation_id="assessments_retrieve",
    tags=["assessments"],
    summary=_("One assessment, leaf by leaf"),
    description=_(
        "State, round and dates, and for each leaf its maximum, self score "
        "and explanation, appraised score and reason, evidence file names "
        "and version. Another unit's assessment answers 404."
    ),
    serializer=AssessmentDetailSerializer,
    missing=_("No such assessment among those the caller sees."),
)
class AssessmentDetailView(AssessmentReadView, generics.RetrieveAPIView[Assessment]):
    serializer_class = AssessmentDetailSerializer
    filter_backends: list[Any] = []

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        assessment = self.get_object()
        context = {
            **self.get_serializer_context(),
            "shows_appraisal": selectors.shows_appraisal(request.user, assessment),
        }
        return Response(AssessmentDetailSerializer(assessment, context=context).data)

    def get_queryset(self) -> QuerySet[Assessment]:
        # Three queries whatever the number of leaves and documents.
        scores = (
            Score.objects.select_related("node")
            .prefetch_related(
                Prefetch(
                    "evidence",
                    queryset=Evidence.objects.only("pk", "original_name").order_by(
                        "original_name", "pk"
                    ),
                )
            )
            .order_by("node__position")
        )
        return super().get_queryset().prefetch_related(Prefetch("scores", scores))


# --- self scores ------------------------------------------------------------------


class ScoreSaveThrottle(ScopedRateThrottle):
    """300 saves a minute per user: a client filling in a whole framework
    (about 90 leaves) at once, not a loop gone wrong. The settings may
    override it with DEFAULT_THROTTLE_RATES["score_save"]."""

    rate = "300/min"

    def get_rate(self) -> str:
        configured = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope or "")
        return str(configured or type(self).rate)


def _leaf(assessment: Assessment, node_code: str) -> Score:
    score = (
        Score.objects.select_related("node")
        .prefetch_related("evidence")
        .filter(assessment=assessment, node__code=node_code)
        .first()
    )
    if score is None:
        raise Http404
    score.assessment = assessment  # with its unit, for the access checks
    return score


def _leaf_data(user: AnyUser, score: Score) -> dict[str, Any]:
    context = {"shows_appraisal": selectors.shows_appraisal(user, score.assessment)}
    return ScoreSerializer(score, context=context).data


class SelfScoreSaveView(APIView):
    throttle_classes = [ScoreSaveThrottle]
    throttle_scope = "score_save"

    @extend_schema(
        operation_id="assessments_score_self_save",
        tags=["assessments"],
        summary=_("Save a self score"),
        description=_(
            "The unit's self score and explanation for one manual leaf, named by "
            "its code, with the same rules as the form: from 0 to the leaf's "
            "maximum with at most two decimals, only while the assessment is a "
            "draft or returned, and not after the deadline unless extended. "
            "Send the version read with GET: if someone saved the leaf since, "
            "the answer is 409 with the leaf as it is now."
        ),
        parameters=[
            OpenApiParameter(
                "node_code",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description=_("The leaf's code, e.g. 1.2.3."),
            )
        ],
        request=SelfScoreSaveSerializer,
        responses={
            200: ScoreSerializer,
            400: OpenApiResponse(
                description=_(
                    "Refused: an error on the field self_score for a bad value (the "
                    "message names the leaf), an error on the request as a whole "
                    "(field null) when the assessment cannot be changed now "
                    "(submitted, past the deadline) or the leaf is not self-scored."
                )
            ),
            403: OpenApiResponse(
                description=_(
                    "The caller may see the assessment but not fill it in (only "
                    "the unit's staff and head do)."
                )
            ),
            404: OpenApiResponse(
                description=_(
                    "No such assessment among those the caller sees, or no leaf "
                    "with this code."
                )
            ),
            409: OpenApiResponse(
                ConflictSerializer,
                description=_("The leaf was saved by someone else since this version."),
            ),
            429: OpenApiResponse(description=_("Too many saves; retry later.")),
        },
    )
    def patch(self, request: Request, pk: int, node_code: str) -> Response:
        user = request.user
        assessment = (
            access.assessments_visible(
                user, Assessment.objects.select_related("unit", "framework")
            )
            .filter(pk=pk)
            .first()
        )
        if assessment is None:
            raise Http404
        score = _leaf(assessment, node_code)
        # Checked here as well as by the service, so that a reader learns
        # nothing (not even a stale version) about a leaf they may not change.
        if not access.may_fill_in(user, assessment):
            raise PermissionDenied(
                _("Only the unit's staff and head may enter its self scores.")
            )
        serializer = SelfScoreSaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            saved = services.score_self_save(
                user=user,  # type: ignore[arg-type]
                score_id=score.pk,
                # Left out: unchanged. Safe, as the version check refuses the
                # save if the leaf changed since these values were read.
                self_score=data.get("self_score", score.self_score),
                explanation=data.get("explanation", score.explanation),
                version=data["version"],
                today=timezone.localdate(),
            )
        except services.StaleVersion as exc:
            current = _leaf(assessment, node_code)
            return Response(
                {
                    **error_body(
                        status=status.HTTP_409_CONFLICT,
                        code="conflict",
                        detail=" ".join(exc.messages),
                    ),
                    "current": _leaf_data(user, current),
                },
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                serializers.as_serializer_error(exc)
            ) from exc
        return Response(_leaf_data(user, _leaf(assessment, saved.node.code)))
