"""Shapes of the results API: the years, the ranking rows of a publication or
of the provisional results, a unit's explanation leaf by leaf, computation
runs and publications. Points and indices are decimal strings ("87.50"), as
everywhere in the API; times are ISO 8601 in local time (+07:00)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cchc_portal.api_filters import QuerySerializer
from cchc_portal.api_steps import text_field
from commitments.api.serializers import NamedChoiceField
from commitments.organisation.models import UnitKind
from scoring.models import (
    AdjustmentState,
    ComputationRun,
    Publication,
    PublishedResult,
    RunError,
)

PUBLISHED = "published"
PROVISIONAL = "provisional"
RESULT_STATUSES = [
    (PUBLISHED, _("Published")),
    (PROVISIONAL, _("Provisional")),
]


def _points(**kwargs: Any) -> serializers.DecimalField:
    """Points or an index as the explanation stores them: two decimals."""
    kwargs.setdefault("read_only", True)
    return serializers.DecimalField(max_digits=8, decimal_places=2, **kwargs)


def _points_or_null(**kwargs: Any) -> serializers.DecimalField:
    return _points(allow_null=True, **kwargs)


class ResultStatusField(serializers.ChoiceField):
    """ "published" or "provisional": one enum in the schema (ResultStatusEnum)
    wherever it appears, rather than one per component."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["choices"] = RESULT_STATUSES
        super().__init__(**kwargs)


class ResultStatusFieldExtension(OpenApiSerializerFieldExtension):
    # Several components of the API already have a "status" enum of their
    # own; a shared component keeps this one from being renamed with a hash.
    target_class = ResultStatusField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        component = ResolvedComponent(
            name="ResultStatusEnum",
            type=ResolvedComponent.SCHEMA,
            object="ResultStatusEnum",
            schema={
                "type": "string",
                "enum": [PUBLISHED, PROVISIONAL],
                "description": (
                    "* `published` - the latest (or the named) published "
                    "version\n* `provisional` - the latest computation, "
                    "for reviewers"
                ),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


def _absolute(request: Any, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


# --- computation runs -----------------------------------------------------------------


class RunLinksSerializer(serializers.Serializer):
    run = serializers.URLField(help_text=_("This run, to follow its state."))
    results = serializers.URLField(
        help_text=_("The year's provisional results (the latest successful run's).")
    )


class ComputationRunSerializer(serializers.ModelSerializer[ComputationRun]):
    requested_by = serializers.SerializerMethodField(
        help_text=_("Who asked for the run; null for the nightly schedule.")
    )
    links = serializers.SerializerMethodField()
    error_code = NamedChoiceField(
        enum_name="RunErrorEnum",
        choices=RunError.choices,
        allow_blank=True,
        help_text=_("Why the run failed or was interrupted; empty otherwise."),
    )
    error = serializers.CharField(
        source="cause",
        read_only=True,
        help_text=_(
            "The cause in the caller's language; empty unless the run failed "
            "or was interrupted. Never the server's own error text."
        ),
    )

    class Meta:
        model = ComputationRun
        fields = [
            "id",
            "year",
            "state",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
            "stage",
            "frameworks",
            "units",
            "proposals",
            "error_code",
            "error",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_requested_by(self, run: ComputationRun) -> str | None:
        user = run.requested_by
        if user is None:
            return None
        return user.get_full_name() or user.get_username()

    @extend_schema_field(RunLinksSerializer)
    def get_links(self, run: ComputationRun) -> dict[str, str]:
        request = self.context.get("request")
        path = reverse(
            "scoring_api:result-run", kwargs={"year": run.year, "run_id": run.pk}
        )
        results = reverse("scoring_api:result-ranking", kwargs={"year": run.year})
        return {
            "run": _absolute(request, path),
            "results": _absolute(request, f"{results}?status={PROVISIONAL}"),
        }


class ComputationRunPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Rows on all pages."))
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ComputationRunSerializer(many=True)


# --- the years ------------------------------------------------------------------------


class PublishedSummarySerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=_("The latest version."))
    published_at = serializers.DateTimeField()
    checksum = serializers.CharField(help_text=_("SHA-256 of the published snapshot."))
    units = serializers.IntegerField(help_text=_("Units in the published results."))


class ProvisionalSummarySerializer(serializers.Serializer):
    units = serializers.IntegerField(
        help_text=_("Units with provisional results among those the caller reviews.")
    )
    latest_run = ComputationRunSerializer(
        allow_null=True,
        help_text=_(
            "The year's most recent computation, whatever its state (it may "
            "still be running, or have failed)."
        ),
    )


class ResultYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    published = PublishedSummarySerializer(
        allow_null=True, help_text=_("Null until the year's results are published.")
    )
    provisional = ProvisionalSummarySerializer(
        allow_null=True,
        help_text=_(
            "Only for reviewers, and only once the year has been computed; "
            "null otherwise."
        ),
    )


# --- rankings -------------------------------------------------------------------------


class RankingQuerySerializer(QuerySerializer):
    """The query string of the rankings (and, without the filters, of an
    explanation)."""

    status = ResultStatusField(
        required=False,
        default=PUBLISHED,
        help_text=_("provisional: only for reviewers, and only their units."),
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("An earlier published version; the latest when left out."),
    )
    group = serializers.CharField(
        required=False, max_length=50, help_text=_("A ranking group's code.")
    )
    unit_kind = serializers.ChoiceField(
        required=False,
        choices=UnitKind.choices,
        help_text=_("The kind of unit (the framework's)."),
    )


class ExplanationQuerySerializer(QuerySerializer):
    status = ResultStatusField(
        required=False,
        default=PUBLISHED,
        help_text=_("provisional: only for a reviewer of the unit."),
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("An earlier published version; the latest when left out."),
    )


class RankingRowSerializer(serializers.ModelSerializer[PublishedResult]):
    """One unit's line of the ranking, published or provisional (the same
    columns)."""

    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    unit_kind = serializers.ChoiceField(
        source="framework.unit_kind", choices=UnitKind.choices, read_only=True
    )
    ranking_group = serializers.CharField(
        source="group.code",
        allow_null=True,
        read_only=True,
        help_text=_(
            "Code of the unit's ranking group; null: ranked among the units of "
            "its framework."
        ),
    )
    ranking_group_name = serializers.CharField(
        source="group.name", allow_null=True, read_only=True
    )
    approved = serializers.BooleanField(
        read_only=True,
        help_text=_("Only approved assessments are ranked; the others have no rank."),
    )
    field_indices = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True),
        read_only=True,
        help_text=_("Each field's index, by field code."),
    )
    tier = serializers.CharField(allow_null=True, read_only=True)
    tier_label = serializers.CharField(allow_null=True, read_only=True)
    rank_change = serializers.IntegerField(
        allow_null=True,
        read_only=True,
        help_text=_("Places climbed since last year (negative: places lost)."),
    )

    class Meta:
        model = PublishedResult
        fields = [
            "unit_code",
            "unit_name",
            "unit_kind",
            "ranking_group",
            "ranking_group_name",
            "approved",
            "rank",
            "index",
            "field_indices",
            "tier",
            "tier_label",
            "obtained",
            "adjustments",
            "final",
            "maximum",
            "previous_rank",
            "previous_index",
            "rank_change",
            "index_change",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        # As in the explanation: no tier is null, not "".
        data["tier"] = data["tier"] or None
        data["tier_label"] = data["tier_label"] or None
        return data


class RankingPageSerializer(serializers.Serializer):
    status = ResultStatusField()
    year = serializers.IntegerField()
    version = serializers.IntegerField(
        allow_null=True, help_text=_("The published version; null if provisional.")
    )
    published_at = serializers.DateTimeField(allow_null=True)
    checksum = serializers.CharField(
        allow_null=True,
        help_text=_("SHA-256 of the published snapshot; null if provisional."),
    )
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the results were computed.")
    )
    count = serializers.IntegerField(help_text=_("Rows on all pages."))
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RankingRowSerializer(many=True)


# --- the explanation ------------------------------------------------------------------


class ExplanationUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ExplanationLineSerializer(serializers.Serializer):
    """A field, criterion or sub-criterion of the framework the results were
    computed with, in the tree's order."""

    code = serializers.CharField()
    title = serializers.CharField()
    level = serializers.CharField(help_text=_("field, criterion or subcriterion."))
    max_points = _points()
    points = _points(
        help_text=_(
            "Points counted: a leaf's, or the sum of the children within the maximum."
        )
    )
    is_leaf = serializers.BooleanField()
    depth = serializers.IntegerField(help_text=_("0 for a field, 1 below it, …"))
    children = serializers.ListField(
        child=serializers.CharField(), help_text=_("The codes of its children.")
    )
    method = serializers.CharField(
        allow_null=True, help_text=_("manual, metric or survey; null above leaves.")
    )
    self_score = _points_or_null()
    appraised_score = _points_or_null()
    appraisal_reason = serializers.CharField(allow_blank=True)
    metric = serializers.DictField(
        allow_null=True,
        help_text=_(
            "Metric leaves: the metric's name, the yearly counts it is computed "
            "from and the rate."
        ),
    )
    survey = serializers.DictField(
        allow_null=True,
        required=False,
        help_text=_(
            "Survey leaves fed by an imported survey figure: its source (sipas "
            "or portal) and rate (%); null where the reviewer's entry counts."
        ),
    )
    scoring = serializers.CharField(allow_null=True)
    scoring_params = serializers.DictField(allow_null=True)
    children_sum = _points_or_null(
        help_text=_("The children's points before the maximum (above leaves).")
    )


class ExplanationAdjustmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    title = serializers.CharField()
    cases = serializers.IntegerField()
    points = _points()
    reason = serializers.CharField(allow_blank=True)
    evidence = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(choices=AdjustmentState.choices)
    computed = serializers.BooleanField(
        help_text=_("Proposed by the computation rather than entered by a reviewer.")
    )
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.CharField(
        allow_null=True, help_text=_("The day of the decision, dd/mm/yyyy.")
    )


class ExplanationRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    title = serializers.CharField()
    points_per_case = _points_or_null()
    cap = _points_or_null()
    entered = _points_or_null(help_text=_("The sum of the rule's records."))
    counted = _points_or_null(help_text=_("What counts after the rule's cap."))


class ExplanationSerializer(serializers.Serializer):
    """scoring.results.selectors.Explanation.as_json(), typed."""

    year = serializers.IntegerField()
    unit = ExplanationUnitSerializer()
    framework = serializers.CharField(help_text=_("The framework's name."))
    status = ResultStatusField()
    version = serializers.IntegerField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    checksum = serializers.CharField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    approved = serializers.BooleanField()
    points_obtained = _points(
        help_text=_("Appraised, metric and survey points: the fields' sum.")
    )
    adjustments = ExplanationAdjustmentSerializer(
        many=True, help_text=_("The approved deductions and bonuses.")
    )
    adjustments_by_rule = ExplanationRuleSerializer(many=True)
    adjustments_total = _points()
    final_points = _points()
    max_points = _points()
    index = _points_or_null()
    field_indices = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    )
    tier = serializers.CharField(allow_null=True)
    tier_label = serializers.CharField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    ranking_group = serializers.CharField(
        allow_null=True, help_text=_("The ranking group's name.")
    )
    group_size = serializers.IntegerField(help_text=_("Units ranked in the group."))
    previous_rank = serializers.IntegerField(allow_null=True)
    previous_index = _points_or_null()
    rank_change = serializers.IntegerField(allow_null=True)
    index_change = _points_or_null()
    lines = ExplanationLineSerializer(many=True)


# --- publications ---------------------------------------------------------------------


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


class PublicationSerializer(serializers.ModelSerializer[Publication]):
    published_by = serializers.SerializerMethodField()
    run = serializers.IntegerField(source="run_id", read_only=True)
    units = serializers.IntegerField(
        read_only=True, help_text=_("Units in the snapshot.")
    )
    verified = serializers.BooleanField(
        read_only=True,
        help_text=_("The stored snapshot still matches its checksum (recomputed now)."),
    )
    results = serializers.SerializerMethodField(
        help_text=_("The ranking rows of this version.")
    )

    class Meta:
        model = Publication
        fields = [
            "year",
            "version",
            "published_at",
            "published_by",
            "note",
            "run",
            "checksum",
            "units",
            "verified",
            "results",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_published_by(self, publication: Publication) -> str | None:
        user = publication.published_by
        if user is None:
            return None
        return user.get_full_name() or user.get_username()

    @extend_schema_field(serializers.URLField())
    def get_results(self, publication: Publication) -> str:
        path = reverse("scoring_api:result-ranking", kwargs={"year": publication.year})
        return _absolute(
            self.context.get("request"), f"{path}?version={publication.version}"
        )
