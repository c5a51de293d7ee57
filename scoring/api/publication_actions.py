"""Publishing a year's results over the API: the same service as the results
page's button (scoring.results.publication.publish), for the same people
(those who compute the year), with the same refusals (an assessment not
approved, a contest open, a newer run, inputs changed since the run).

    POST results/{year}/publications/   freeze the run's results as version N"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cchc_portal.api_steps import Step, answers, taken, text_field, user_of, valid
from cchc_portal.idempotency import IDEMPOTENCY_KEY, idempotent
from scoring import access
from scoring.api.results_serializers import PublicationSerializer
from scoring.api.results_views import TAGS, YEAR
from scoring.models import Framework, Publication
from scoring.results import publication
from scoring.results import selectors as results


class PublishSerializer(serializers.Serializer):
    run = serializers.IntegerField(
        min_value=1,
        help_text=_(
            "The run whose results are published: the year's latest succeeded "
            "run (GET results/{year}/runs/)."
        ),
    )
    note = text_field(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Kept with the version (a decision's number, what changed)."),
    )


class PublishView(Step):
    @extend_schema(
        operation_id="results_publish",
        tags=TAGS,
        summary=_("Publish a year's results"),
        description=_(
            "Freeze the results of the year's latest run as its next published "
            "version, as the results page's button does: refused while an "
            "assessment is not approved or a contest is open, when a newer run "
            "exists, or when today's inputs give other results than the run. "
            "For those who compute the year."
        ),
        parameters=[YEAR, IDEMPOTENCY_KEY],
        request=PublishSerializer,
        responses=answers(
            PublicationSerializer,
            201,
            refused=OpenApiResponse(
                description=_("Refused: the messages say what stands in the way.")
            ),
            missing=OpenApiResponse(description=_("No index framework for the year.")),
            idempotent=True,
        ),
    )
    @idempotent
    def post(self, request: Request, year: int) -> Response:
        user = user_of(request)
        if not access.may_run(user, year):
            raise PermissionDenied
        if not Framework.objects.filter(year=year).exists():
            raise Http404
        data = valid(PublishSerializer, request)
        published = taken(
            lambda: publication.publish(
                user=user,
                year=year,
                run_id=data["run"],
                now=timezone.now(),
                note=data["note"],
            )
        )
        found = (
            Publication.objects.filter(pk=published.pk)
            .select_related("published_by")
            .annotate(units=results.units_in(OuterRef("pk")))
            .get()
        )
        found.verified = publication.verify(found)  # type: ignore[attr-defined]
        return Response(
            PublicationSerializer(found, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
