"""Shapes of the index API: frameworks with their tree, assessments leaf by
leaf, and the self-score a unit saves. Points are decimal strings ("3.50"),
never floats, as everywhere in DRF by default."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cchc_portal.api_errors import ErrorSerializer
from procedures.figures import Rate
from scoring.models import (
    Assessment,
    Comment,
    Contest,
    Evidence,
    Framework,
    Method,
    Node,
    Score,
    ScoringFunction,
    Tier,
)


class TierSerializer(serializers.ModelSerializer[Tier]):
    class Meta:
        model = Tier
        fields = ["code", "label", "min_index"]
        read_only_fields = fields


class NodeSerializer(serializers.ModelSerializer[Node]):
    """A field, criterion or sub-criterion with its children; a node without
    children is a leaf, what units score."""

    owner_unit = serializers.CharField(
        source="owner_unit.code",
        allow_null=True,
        read_only=True,
        help_text=_("Code of the unit that answers for this item, if any."),
    )
    # Empty for a node that reads no metric: declared, since a read-only model
    # field loses allow_blank and the schema's enum would leave "" out.
    metric = serializers.ChoiceField(
        choices=Rate.choices, allow_blank=True, read_only=True
    )
    scoring = serializers.ChoiceField(
        choices=ScoringFunction.choices, allow_blank=True, read_only=True
    )
    # "children" is set below: the class cannot name itself in its body.

    class Meta:
        model = Node
        fields = [
            "id",
            "code",
            "level",
            "position",
            "title",
            "max_points",
            "method",
            "metric",
            "scoring",
            "scoring_params",
            "evidence_required",
            "guidance",
            "owner_unit",
            "children",
        ]
        read_only_fields = fields


# Read from the attribute FrameworkDetailSerializer fills from one query, not
# from the reverse relation (a query per node).
NodeSerializer._declared_fields["children"] = NodeSerializer(
    many=True, read_only=True, source="tree_children"
)


class FrameworkSerializer(serializers.ModelSerializer[Framework]):
    # A JSONField is "any" to the schema generator; it is a list of days.
    reminder_days = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text=_("Days before the deadline on which incomplete units are reminded."),
    )

    class Meta:
        model = Framework
        fields = [
            "id",
            "year",
            "unit_kind",
            "name",
            "state",
            "deadline",
            "contest_days",
            "reminder_days",
            "copied_from",
            "created_at",
        ]
        read_only_fields = fields


class FrameworkDetailSerializer(FrameworkSerializer):
    tiers = TierSerializer(many=True, read_only=True)
    nodes = serializers.SerializerMethodField(
        help_text=_("The tree: the fields, each with its criteria, and so on down.")
    )

    class Meta(FrameworkSerializer.Meta):
        fields = [*FrameworkSerializer.Meta.fields, "tiers", "nodes"]
        read_only_fields = fields

    @extend_schema_field(NodeSerializer(many=True))
    def get_nodes(self, framework: Framework) -> list[dict[str, Any]]:
        nodes = list(
            Node.objects.filter(framework=framework)
            .select_related("owner_unit")
            .order_by("position", "pk")
        )
        roots: list[Node] = []
        by_pk = {node.pk: node for node in nodes}
        for node in nodes:
            node.tree_children = []  # type: ignore[attr-defined]
        for node in nodes:
            parent = by_pk.get(node.parent_id) if node.parent_id else None
            if parent is None:
                roots.append(node)
            else:
                parent.tree_children.append(node)  # type: ignore[attr-defined]
        return NodeSerializer(roots, many=True).data  # type: ignore[return-value]


class AssessmentSerializer(serializers.ModelSerializer[Assessment]):
    year = serializers.IntegerField(source="framework.year", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    deadline = serializers.SerializerMethodField(
        help_text=_(
            "The last day the unit may change its self-assessment: the "
            "extension if one was granted, otherwise the framework's deadline."
        )
    )
    started = serializers.BooleanField(
        read_only=True, help_text=_("At least one self score has been entered.")
    )
    late = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "Quá hạn: not submitted by the deadline; Home Affairs took it for "
            "appraisal as it stood when the cycle closed (closed_at)."
        ),
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "framework",
            "year",
            "unit_code",
            "unit_name",
            "state",
            "round",
            "deadline",
            "extended_until",
            "submitted_at",
            "late",
            "closed_at",
            "approved_at",
            "contest_until",
            "updated_at",
            "started",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_deadline(self, assessment: Assessment) -> str | None:
        day = assessment.extended_until or assessment.framework.deadline
        return day.isoformat() if day else None


class ScoreSerializer(serializers.ModelSerializer[Score]):
    """One leaf of an assessment. The appraised score and its reason are
    null and "" for the unit until they are shown to it, as on its page
    (context "shows_appraisal", see scoring.assessments.selectors.shows_appraisal)."""

    code = serializers.CharField(source="node.code", read_only=True)
    title = serializers.CharField(source="node.title", read_only=True)
    method = serializers.ChoiceField(
        source="node.method", choices=Method.choices, read_only=True
    )
    evidence_required = serializers.BooleanField(
        source="node.evidence_required", read_only=True
    )
    evidence: serializers.SlugRelatedField[Evidence] = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="original_name",
        help_text=_("File names of the evidence documents attached to this leaf."),
    )
    version = serializers.IntegerField(
        read_only=True,
        help_text=_(
            "Send it back with a change: a save from an older version is refused."
        ),
    )

    class Meta:
        model = Score
        fields = [
            "code",
            "title",
            "method",
            "max_points",
            "self_score",
            "explanation",
            "appraised_score",
            "appraisal_reason",
            "evidence_required",
            "evidence",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Score) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("shows_appraisal", False):
            data["appraised_score"] = None
            data["appraisal_reason"] = ""
        return data


class AssessmentDetailSerializer(AssessmentSerializer):
    framework_name = serializers.CharField(source="framework.name", read_only=True)
    scores = ScoreSerializer(many=True, read_only=True)

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "framework_name", "scores"]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^\d+([.,]\d{1,2})?$",
        "nullable": True,
        "example": "1.50",
    }
)
class PointsField(serializers.CharField):
    """Points as the form takes them ("1.5", "1,5", or a JSON number); null or
    "" clears the score. Checked by the service, whose errors name the leaf."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)


class SelfScoreSaveSerializer(serializers.Serializer):
    self_score = PointsField(
        required=False,
        help_text=_(
            'From 0 to the leaf\'s maximum, at most two decimals; null or "" '
            "clears it. Left out: unchanged."
        ),
    )
    explanation = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("The unit's explanation (giải trình). Left out: unchanged."),
    )
    version = serializers.IntegerField(
        min_value=1,
        help_text=_("The version of the leaf as read (GET); see 409."),
    )

    # Always read whole, PATCH or not: the version is required. The schema
    # generator marks a PATCH body partial (nothing required) through this
    # attribute; it stays False so that the schema says what the view does.
    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


class ConflictSerializer(ErrorSerializer):
    """The error body (code "conflict") with the leaf as it is now."""

    current = ScoreSerializer(help_text=_("The leaf as it is now."))


# --- the assessment's workflow (scoring.api.assessment_actions) -------------------


class LeafCommentSerializer(serializers.Serializer):
    node_code = serializers.CharField(
        max_length=50, help_text=_("The leaf's code, e.g. 1.2.3.")
    )
    text = serializers.CharField(
        max_length=5000, help_text=_("What the unit is to revise on this leaf.")
    )


class ReturnSerializer(serializers.Serializer):
    comments = LeafCommentSerializer(
        many=True,
        allow_empty=False,
        help_text=_("At least one leaf, each with what to revise."),
    )


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(
        max_length=5000, help_text=_("The unit's answer to the reviewer's comment.")
    )


class CommentSerializer(serializers.ModelSerializer[Comment]):
    node_code = serializers.CharField(source="score.node.code", read_only=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "node_code",
            "round",
            "text",
            "created_at",
            "answer",
            "answered_at",
        ]
        read_only_fields = fields


class AppraiseSerializer(serializers.Serializer):
    appraised_score = PointsField(
        help_text=_(
            'From 0 to the leaf\'s maximum, at most two decimals; null or "" clears it.'
        ),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text=_("Required when the appraised score differs from the self score."),
    )
    version = serializers.IntegerField(
        min_value=1, help_text=_("The version of the leaf as read (GET); see 409.")
    )

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


class LeafAppraisalSerializer(AppraiseSerializer):
    node_code = serializers.CharField(
        max_length=50, help_text=_("The leaf's code, e.g. 1.2.3.")
    )


class AppraiseManySerializer(serializers.Serializer):
    appraisals = serializers.ListField(
        child=LeafAppraisalSerializer(),
        allow_empty=False,
        max_length=500,
        help_text=_(
            "Each leaf once, with its score, the reason where it differs from "
            "the self score, and the version read."
        ),
    )


class AppraisalsSerializer(serializers.Serializer):
    appraisals = ScoreSerializer(many=True, help_text=_("The leaves as saved."))


class AcceptSelfSerializer(serializers.Serializer):
    node_codes = serializers.ListField(
        child=serializers.CharField(max_length=50),
        allow_empty=False,
        help_text=_(
            "The leaves whose self score the reviewer accepts. A leaf already "
            "appraised at another score, or with a reason, keeps its appraisal."
        ),
    )


class KeptLeafSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class AcceptanceSerializer(serializers.Serializer):
    changed = serializers.IntegerField(
        help_text=_("How many leaves took their self score.")
    )
    kept = KeptLeafSerializer(
        many=True, help_text=_("The leaves left as the reviewer had appraised them.")
    )


class ContestRaiseSerializer(serializers.Serializer):
    node_code = serializers.CharField(
        max_length=50, help_text=_("The leaf's code, e.g. 1.2.3.")
    )
    requested_score = PointsField(
        allow_null=False,
        allow_blank=False,
        help_text=_("The score the unit asks for."),
    )
    reason = serializers.CharField(max_length=5000)


class ContestDecideSerializer(serializers.Serializer):
    accept = serializers.BooleanField(
        help_text=_("true: the requested score becomes the appraised score.")
    )
    reason = serializers.CharField(max_length=5000)


class ContestSerializer(serializers.ModelSerializer[Contest]):
    node_code = serializers.CharField(source="score.node.code", read_only=True)

    class Meta:
        model = Contest
        fields = [
            "id",
            "node_code",
            "requested_score",
            "reason",
            "state",
            "raised_at",
            "decision_reason",
            "decided_at",
        ]
        read_only_fields = fields
