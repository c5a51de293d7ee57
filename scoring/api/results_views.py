"""Results and rankings over REST.

Published results are the province's public rankings: every signed-in caller
reads them. Their explanation, leaf by leaf, is for the unit's own people and
those above it. Provisional results and the computation runs are the
reviewers' working figures (scoring.results.selectors); starting a run is for those who
manage the frameworks. Every answer is read through scoring.results.selectors and
scoring.results.publication, so the API shows exactly what the pages show."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import (
    OuterRef,
    QuerySet,
)
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from cchc_portal.api_filters import PageNumberPagination
from cchc_portal.api_steps import Step, answers, taken, user_of, valid
from cchc_portal.idempotency import IDEMPOTENCY_KEY, idempotent
from commitments.organisation.models import Unit
from scoring import access, tasks
from scoring.api.results_serializers import (
    PROVISIONAL,
    ComputationRunPageSerializer,
    ComputationRunSerializer,
    ExplanationQuerySerializer,
    ExplanationSerializer,
    PublicationSerializer,
    PublishSerializer,
    RankingPageSerializer,
    RankingQuerySerializer,
    ResultYearSerializer,
)
from scoring.models import (
    ComputationRun,
    Framework,
    Publication,
)
from scoring.results import generation, publication
from scoring.results import selectors as results

if TYPE_CHECKING:
    pass

TAGS = ["results"]


def _in_path(name: str, kind: OpenApiTypes, description: Promise) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.PATH, description=description)


YEAR = _in_path("year", OpenApiTypes.INT, gettext_lazy("Year."))
RUN_ID = _in_path("run_id", OpenApiTypes.INT, gettext_lazy("The run's id."))
VERSION = _in_path("version", OpenApiTypes.INT, gettext_lazy("The version, from 1."))
UNIT_CODE = _in_path("code", OpenApiTypes.STR, gettext_lazy("The unit's code."))
PAGE = OpenApiParameter(
    "page",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description=gettext_lazy("Page number, from 1 (50 rows a page)."),
)


def _provisional_refused() -> PermissionDenied:
    return PermissionDenied(
        _(
            "Provisional results are only for the Home Affairs reviewers; the "
            "published results are for everyone."
        )
    )


def _no_version_for_provisional() -> serializers.ValidationError:
    return serializers.ValidationError(
        {
            "version": [
                _(
                    "Provisional results have no version: leave out version, "
                    "or ask for the published results."
                )
            ]
        }
    )


def _no_framework(year: int) -> NotFound:
    return NotFound(_("There is no index framework for %(year)d.") % {"year": year})


def _paginate(
    view: APIView, request: Request, rows: QuerySet[Any]
) -> tuple[list[Any], dict[str, Any]]:
    """A page of rows as the other list endpoints give it (PAGE_SIZE a page,
    ?page=N), and its count and links."""
    paginator = PageNumberPagination()
    rows_of_page = paginator.paginate_queryset(rows, request, view=view)
    page = paginator.page
    if rows_of_page is None or page is None:
        raise ImproperlyConfigured("REST_FRAMEWORK['PAGE_SIZE'] is not set.")
    return list(rows_of_page), {
        "count": page.paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
    }


# --- views ----------------------------------------------------------------------------


class ResultYearsView(APIView):
    @extend_schema(
        operation_id="results_years_list",
        tags=TAGS,
        summary=gettext_lazy("Years with results"),
        description=gettext_lazy(
            "Every year whose results are published, newest first, with its "
            "latest version, checksum and number of units. Reviewers also see "
            "the years computed but not yet published, with the number of "
            "their units and the latest computation run. Not paginated: one "
            "entry per year."
        ),
        responses={200: ResultYearSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        years = results.result_years(request.user)
        return Response(
            ResultYearSerializer(years, many=True, context={"request": request}).data
        )


class RankingView(APIView):
    @extend_schema(
        operation_id="results_ranking_list",
        tags=TAGS,
        summary=gettext_lazy("The ranking of a year"),
        description=gettext_lazy(
            "The rows of the year's latest published version (version=N for an "
            "earlier one), by ranking group, then rank (equal indices share a "
            "rank; units not approved have none and come last), then unit "
            "code; 50 a page. status=provisional gives the latest computation "
            "instead: only for reviewers, and only the units they review."
        ),
        parameters=[YEAR, RankingQuerySerializer, PAGE],
        responses={
            200: RankingPageSerializer,
            304: OpenApiResponse(
                description=gettext_lazy(
                    "Published rows: the caller's copy (If-None-Match with the "
                    "ETag, or If-Modified-Since) is still the latest."
                )
            ),
            400: OpenApiResponse(
                description=gettext_lazy(
                    "A bad query value, or version with status=provisional: "
                    "errors names the parameter."
                )
            ),
            403: OpenApiResponse(
                description=gettext_lazy(
                    "Provisional results asked for by someone who is not a reviewer."
                )
            ),
            404: OpenApiResponse(
                description=gettext_lazy(
                    "Nothing published for the year (or no such version); "
                    "provisional: the year has not been computed, or no such page."
                )
            ),
        },
    )
    def get(self, request: Request, year: int) -> HttpResponseBase:
        # Only the answers of valid published queries are ever kept, so a
        # query found in the cache needs no checking again.
        key = published_key(request, year)
        token, entry = generation.lookup(key)
        if entry is None:
            query = RankingQuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            wanted = query.validated_data
            if wanted["status"] == PROVISIONAL:
                # A reviewer's own rows, never cached.
                return Response(self._provisional(request, year, wanted))
            stamp = results.publication_stamp(year, wanted.get("version"))
            if stamp is None:
                raise NotFound(
                    _("No results are published for %(year)d.") % {"year": year}
                    if "version" not in wanted
                    else _("%(year)d has no published version %(version)d.")
                    % {"year": year, "version": wanted["version"]}
                )
            data = self._published(request, stamp, wanted)
            entry = published_entry(self, request, stamp, data, token)
            generation.keep(key, token, entry, PUBLISHED_CACHE_SECONDS)
        return published_response(request, entry)

    def _provisional(
        self, request: Request, year: int, wanted: dict[str, Any]
    ) -> dict[str, Any]:
        if not access.may_see_provisional(request.user):
            raise _provisional_refused()
        if "version" in wanted:
            raise _no_version_for_provisional()
        run = publication.latest_run(year)
        if run is None:
            raise NotFound(_("%(year)d has not been computed yet.") % {"year": year})
        rows = results.provisional_results(request.user, year)
        meta = {
            "version": None,
            "published_at": None,
            "checksum": None,
            "computed_at": run.finished_at,
        }
        return self._page(request, year, wanted, rows, meta)

    def _published(
        self, request: Request, stamp: results.Stamp, wanted: dict[str, Any]
    ) -> dict[str, Any]:
        """Read on a miss of the cache only: the publication's every column
        and the page of its rows."""
        found = results.publication_of(stamp.year, stamp.version, with_parameters=False)
        if found is None:  # published versions are never deleted
            raise NotFound()
        meta = {
            "version": found.version,
            "published_at": found.published_at,
            "checksum": found.checksum,
            "computed_at": found.run.finished_at,
        }
        rows = results.published_results(found)
        return self._page(request, stamp.year, wanted, rows, meta)

    def _page(
        self,
        request: Request,
        year: int,
        wanted: dict[str, Any],
        rows: QuerySet[Any],
        meta: dict[str, Any],
    ) -> dict[str, Any]:
        ranked = results.ranking_rows(
            rows, group=wanted.get("group"), unit_kind=wanted.get("unit_kind")
        )
        page, links = _paginate(self, request, ranked)
        body = {
            "status": wanted["status"],
            "year": year,
            **meta,
            **links,
            "results": page,
        }
        return RankingPageSerializer(body).data


class ExplanationView(APIView):
    @extend_schema(
        operation_id="results_explanation_retrieve",
        tags=TAGS,
        summary=gettext_lazy("How a unit's result adds up"),
        description=gettext_lazy(
            "The unit's result node by node as it was computed: each leaf's "
            "self, appraised or metric points, each field's and criterion's "
            "total within its maximum, the deductions and bonuses rule by rule, "
            "the index, tier and rank. Published (the latest version, or "
            "version=N): for the unit's own people and those above it. "
            "status=provisional: for a reviewer of the unit. Anyone else gets "
            "404, as for a unit that does not exist."
        ),
        parameters=[
            YEAR,
            UNIT_CODE,
            ExplanationQuerySerializer,
        ],
        responses={
            200: ExplanationSerializer,
            400: OpenApiResponse(description=gettext_lazy("A bad query value.")),
            403: OpenApiResponse(
                description=gettext_lazy(
                    "Provisional results asked for by someone who is not a reviewer."
                )
            ),
            404: OpenApiResponse(
                description=gettext_lazy(
                    "No such unit among those the caller may see, or no result "
                    "of it for the year (or version)."
                )
            ),
        },
    )
    def get(self, request: Request, year: int, code: str) -> Response:
        query = ExplanationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        user = request.user
        unit = Unit.objects.filter(code=code).first()
        hidden = NotFound(_("No such unit among those whose results you may see."))
        if wanted["status"] == PROVISIONAL:
            if not access.may_see_provisional(user):
                raise _provisional_refused()
            if "version" in wanted:
                raise _no_version_for_provisional()
            if unit is None or not access.may_explain_provisional(user, unit):
                raise hidden
            explanation = results.explanation_provisional(year, unit)
        else:
            if unit is None or not access.may_explain_published(user, unit):
                raise hidden
            explanation = results.explanation_published(
                year, unit, wanted.get("version")
            )
        if explanation is None:
            raise NotFound(
                _("%(unit)s has no results for %(year)d.")
                % {"unit": code, "year": year}
            )
        return Response(ExplanationSerializer(explanation.as_json()).data)


class RunRequestThrottle(ScopedRateThrottle):
    """Ten requests a minute per user: a run reads the whole year. A run
    already queued or under way is returned rather than started twice, so
    this only bounds the polling of a runaway client. The settings may
    override it with DEFAULT_THROTTLE_RATES["results_compute"]."""

    rate = "10/min"

    def get_rate(self) -> str:
        configured = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope or "")
        return str(configured or type(self).rate)


def _runs_readable(request: Request) -> None:
    if not access.may_see_provisional(request.user):
        raise PermissionDenied(
            _("Computation runs are only for the Home Affairs reviewers.")
        )


class RunListView(APIView):
    throttle_scope = "results_compute"

    def get_throttles(self) -> list[BaseThrottle]:
        # Reading the list is not throttled; asking for a run is.
        return [RunRequestThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        operation_id="results_runs_list",
        tags=TAGS,
        summary=gettext_lazy("Computation runs of a year"),
        description=gettext_lazy(
            "The year's computations, newest first, 50 a page: state, stage, "
            "times, counts and the error of a failed one. For reviewers."
        ),
        parameters=[YEAR, PAGE],
        responses={
            200: ComputationRunPageSerializer,
            403: OpenApiResponse(description=gettext_lazy("Not a reviewer.")),
            404: OpenApiResponse(
                description=gettext_lazy("No index framework for the year.")
            ),
        },
    )
    def get(self, request: Request, year: int) -> Response:
        _runs_readable(request)
        if not Framework.objects.filter(year=year).exists():
            raise _no_framework(year)
        runs = (
            ComputationRun.objects.filter(year=year)
            .select_related("requested_by")
            .defer("parameters")
            .order_by("-created_at", "-pk")
        )
        page, links = _paginate(self, request, runs)
        return Response(
            ComputationRunPageSerializer(
                {**links, "results": page}, context={"request": request}
            ).data
        )

    @extend_schema(
        operation_id="results_runs_create",
        tags=TAGS,
        summary=gettext_lazy("Compute a year's results again"),
        description=gettext_lazy(
            "Queue a computation of the year's provisional results and answer "
            "202 with the run; follow links.run until its state is succeeded "
            "or failed. A run already queued or under way is answered instead "
            "of a second one. Published results never change: publish the new "
            "ones with POST results/{year}/publications/. For those who manage "
            "the frameworks."
        ),
        parameters=[YEAR],
        request=None,
        responses={
            202: ComputationRunSerializer,
            403: OpenApiResponse(
                description=gettext_lazy("Not allowed to start a computation.")
            ),
            404: OpenApiResponse(
                description=gettext_lazy("No index framework for the year.")
            ),
            429: OpenApiResponse(description=gettext_lazy("Too many requests.")),
        },
    )
    def post(self, request: Request, year: int) -> Response:
        if not access.may_run(request.user, year):
            raise PermissionDenied(
                _("Only Home Affairs reviewers may start a computation of the results.")
            )
        if not Framework.objects.filter(year=year).exists():
            raise _no_framework(year)
        # The task is handed over once the run is committed (in the quick
        # start it runs right then, in this process).
        with transaction.atomic():
            run = tasks.compute_queue(year=year, trigger="api", user=request.user)
        run.refresh_from_db()
        data = ComputationRunSerializer(run, context={"request": request}).data
        return Response(
            data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": data["links"]["run"]},
        )


class RunDetailView(APIView):
    @extend_schema(
        operation_id="results_runs_retrieve",
        tags=TAGS,
        summary=gettext_lazy("One computation run"),
        description=gettext_lazy("A run's state, to follow it. For reviewers."),
        parameters=[YEAR, RUN_ID],
        responses={
            200: ComputationRunSerializer,
            403: OpenApiResponse(description=gettext_lazy("Not a reviewer.")),
            404: OpenApiResponse(description=gettext_lazy("No such run of the year.")),
        },
    )
    def get(self, request: Request, year: int, run_id: int) -> Response:
        _runs_readable(request)
        run = (
            ComputationRun.objects.filter(year=year, pk=run_id)
            .select_related("requested_by")
            .defer("parameters")
            .first()
        )
        if run is None:
            raise NotFound(_("No such computation run of %(year)d.") % {"year": year})
        return Response(
            ComputationRunSerializer(run, context={"request": request}).data
        )


class PublishView(Step):
    @extend_schema(
        operation_id="results_publish",
        tags=TAGS,
        summary=gettext_lazy("Publish a year's results"),
        description=gettext_lazy(
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
                description=gettext_lazy(
                    "Refused: the messages say what stands in the way."
                )
            ),
            missing=OpenApiResponse(
                description=gettext_lazy("No index framework for the year.")
            ),
            idempotent=True,
        ),
    )
    @idempotent
    def post(self, request: Request, year: int) -> Response:
        user = user_of(request)
        if not access.may_run(user, year):
            raise PermissionDenied
        if not Framework.objects.filter(year=year).exists():
            raise _no_framework(year)
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


class PublicationView(APIView):
    @extend_schema(
        operation_id="publications_retrieve",
        tags=TAGS,
        summary=gettext_lazy("One published version"),
        description=gettext_lazy(
            "Who published the version and when, its note, the SHA-256 "
            "checksum over its parameters and every unit's result, and whether "
            "the stored snapshot still matches it (verified, recomputed on "
            "each request)."
        ),
        parameters=[YEAR, VERSION],
        responses={
            200: PublicationSerializer,
            404: OpenApiResponse(description=gettext_lazy("No such version.")),
        },
    )
    def get(self, request: Request, year: int, version: int) -> Response:
        found = (
            Publication.objects.filter(year=year, version=version)
            .select_related("published_by")
            .annotate(units=results.units_in(OuterRef("pk")))
            .first()
        )
        if found is None:
            raise NotFound(
                _("%(year)d has no published version %(version)d.")
                % {"year": year, "version": version}
            )
        found.verified = publication.verify(found)  # type: ignore[attr-defined]
        return Response(PublicationSerializer(found, context={"request": request}).data)


# --- published rankings: conditional GET and a shared cache -----------------------

PUBLISHED_CACHE_SECONDS = 24 * 60 * 60


class Published(NamedTuple):
    """A published ranking's answer as kept in the cache: its validators,
    and the JSON as sent (or, for the browsable API, the data it renders)."""

    etag: str
    published_at: float
    body: bytes | None
    data: Any


def _request_source(request: Request) -> str:
    """What, besides the publication, the answer depends on: the query, the
    language and the format asked for (not the caller: published results
    are every signed-in user's to read)."""
    query = sorted(request.query_params.lists())
    return f"{query}:{get_language()}:{request.accepted_media_type}"


def published_key(request: Request, year: int) -> str:
    """The cache key of a published ranking's answer. It is kept with the
    generation of published results it was read in (scoring.results.generation): a
    new publication leaves every earlier entry behind, with no query needed
    to tell."""
    digest = hashlib.sha256(_request_source(request).encode()).hexdigest()[:32]
    return f"ranking:{year}:{digest}"


def published_entry(
    view: APIView, request: Request, stamp: results.Stamp, data: Any, token: str
) -> Published:
    """The ETag changes with the publication (a new version is a new id and
    checksum), with the request's source and with the generation it was
    read in: a unit renamed since (scoring.signals) changes the answer, so a
    client's copy is not confirmed as the latest."""
    source = f"{stamp.pk}:{stamp.checksum}:{token}:{_request_source(request)}"
    etag = '"' + hashlib.sha256(source.encode()).hexdigest()[:32] + '"'
    renderer = request.accepted_renderer
    if isinstance(renderer, JSONRenderer):
        context = view.get_renderer_context()
        body = renderer.render(data, request.accepted_media_type, context)
        return Published(etag, stamp.published_at.timestamp(), body, None)
    return Published(etag, stamp.published_at.timestamp(), None, data)


def published_response(request: Request, entry: Published) -> HttpResponseBase:
    """304 to a caller that has the answer (If-None-Match, or
    If-Modified-Since without one); otherwise the JSON bytes as kept, or the
    browsable API's page rendered from the kept data."""
    headers = {
        "ETag": entry.etag,
        "Last-Modified": http_date(entry.published_at),
        # Signed-in content: browsers and clients revalidate, proxies keep out.
        "Cache-Control": "private, no-cache",
        "Vary": "Accept, Authorization, Cookie, Accept-Language",
    }
    match = request.headers.get("If-None-Match")
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    if (match is not None and entry.etag in [t.strip() for t in match.split(",")]) or (
        match is None and since is not None and int(entry.published_at) <= since
    ):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    if entry.body is not None:
        content_type = request.accepted_renderer.media_type
        return HttpResponse(entry.body, content_type=content_type, headers=headers)
    return Response(entry.data, headers=headers)
