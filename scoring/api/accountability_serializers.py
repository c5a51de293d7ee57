"""Shapes of the accountability API: explanation requests (giải trình) with
their steps, and heads' completion ratings. Times are ISO 8601 in local time
(+07:00)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cchc_portal.api_steps import text_field
from commitments.api.serializers import (
    HeadRefSerializer,
    NamedChoiceField,
    UnitRefSerializer,
    UserRefSerializer,
)
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    CaseStep,
    Decision,
    HeadRating,
    MitigationGround,
    RatingLevel,
    StepAction,
)

# --- accountability cases -------------------------------------------------------------


def _decision() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=Decision.choices, allow_blank=True, read_only=True
    )


def _ground() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=MitigationGround.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("For a mitigation: its ground."),
    )


class CaseStepSerializer(serializers.ModelSerializer[CaseStep]):
    action = NamedChoiceField(enum_name="StepActionEnum", choices=StepAction.choices)
    decision = _decision()
    ground = _ground()
    by = UserRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("Who took the step; null for what the portal did itself."),
    )

    class Meta:
        model = CaseStep
        fields = ["action", "by", "at", "text", "decision", "ground"]
        read_only_fields = fields


class AccountabilityCaseSerializer(serializers.ModelSerializer[AccountabilityCase]):
    kind = NamedChoiceField(enum_name="CaseKindEnum", choices=CaseKind.choices)
    unit = UnitRefSerializer(read_only=True)
    state = NamedChoiceField(
        enum_name="CaseStateEnum", choices=AccountabilityState.choices
    )
    decision = _decision()
    head = HeadRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("The head asked to explain: the one in office when it was opened."),
    )

    class Meta:
        model = AccountabilityCase
        fields = [
            "id",
            "kind",
            "unit",
            "year",
            "subject",
            "head",
            "state",
            "decision",
            "opened_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "subject": {
                "help_text": _(
                    "The criterion's code for points lost on an owned "
                    "criterion; empty for two years running."
                )
            }
        }


@extend_schema_field(OpenApiTypes.OBJECT)
class FactsField(serializers.Field):
    """What opened the case, as stored: for two years running, "years", each
    with the unit, who signed and the targets missed; for a criterion, the
    city, publication version, criterion, its points and maximum."""

    def to_representation(self, value: Any) -> Any:
        return value


class AccountabilityCaseDetailSerializer(AccountabilityCaseSerializer):
    facts = FactsField(
        read_only=True,
        help_text=_(
            "What opened the case. Two years running: years, each with year, "
            "unit, unit_name, signed_by, signed_by_title and the missed "
            "targets (indicator, comparison, value, judged_value, deadline). "
            "A criterion: city, city_name, version, criterion, title, points, "
            "maximum, low."
        ),
    )
    ground = _ground()
    steps = CaseStepSerializer(many=True, read_only=True)

    class Meta(AccountabilityCaseSerializer.Meta):
        fields = [
            *AccountabilityCaseSerializer.Meta.fields,
            "facts",
            "explanation",
            "ground",
            "decision_reason",
            "steps",
        ]
        read_only_fields = fields


# --- head ratings ---------------------------------------------------------------------


class RatingLevelSerializer(serializers.Serializer):
    value = serializers.IntegerField(
        read_only=True,
        help_text=_(
            "0 not completed, 1 completed, 2 completed well, 3 completed excellently."
        ),
    )
    # Named like Field.label: the metaclass takes it out of the class body.
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]


@extend_schema_field(RatingLevelSerializer)
class RatingLevelField(serializers.Field):
    """A RatingLevel as its value and its label in the caller's language."""

    def to_representation(self, value: int) -> dict[str, Any]:
        return {"value": int(value), "label": str(RatingLevel(value).label)}


class RatingBasisSerializer(serializers.Serializer):
    """What the proposal was made from
    (scoring.accountability.services.propose_ratings)."""

    targets = serializers.IntegerField(read_only=True)
    met = serializers.IntegerField(read_only=True)
    exceeded = serializers.IntegerField(read_only=True)
    tier = serializers.CharField(
        read_only=True, help_text=_("The unit's tier of the year; empty: none.")
    )
    repeatedly_late = serializers.BooleanField(
        read_only=True,
        help_text=_("Late again after a reminder: rated at most completed."),
    )
    capped = serializers.BooleanField(
        read_only=True, help_text=_("The lateness lowered the proposal.")
    )
    no_result = serializers.BooleanField(
        read_only=True,
        default=False,
        help_text=_(
            "The unit's kind has an index and the year has no result for it: "
            "nothing proposed."
        ),
    )


class HeadRatingSerializer(serializers.ModelSerializer[HeadRating]):
    unit = UnitRefSerializer(read_only=True)
    head = HeadRefSerializer(read_only=True)
    proposed = RatingLevelField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "Proposed by the evaluation from the targets; null when nothing is "
            "proposed (no_proposal_reason says why): the leader rates."
        ),
    )
    no_proposal_reason = serializers.CharField(
        read_only=True,
        help_text=_(
            "Why nothing is proposed, in the caller's language (the year's "
            "index result is missing); empty when there is a proposal."
        ),
    )
    final = RatingLevelField(
        read_only=True,
        allow_null=True,
        help_text=_("As confirmed or changed by the level above; null until then."),
    )
    effective = RatingLevelField(
        read_only=True,
        allow_null=True,
        help_text=_("The final rating, or the proposal until then; null when neither."),
    )
    decided_proposal = RatingLevelField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "The proposal as it stood when the level above decided; null until "
            "then. Later computations may change proposed: the decision stands."
        ),
    )
    proposal_changed = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "Decided, and the proposal changed after the decision (proposed "
            "differs from decided_proposal)."
        ),
    )
    basis = RatingBasisSerializer(read_only=True)
    rated_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = HeadRating
        fields = [
            "id",
            "unit",
            "year",
            "head",
            "proposed",
            "no_proposal_reason",
            "final",
            "effective",
            "decided_proposal",
            "proposal_changed",
            "basis",
            "reason",
            "rated_by",
            "rated_at",
            "flagged",
            "proposed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "flagged": {
                "help_text": _(
                    "Not completed this year and the year before: flagged to "
                    "the leader."
                )
            }
        }


# --- the workflow's input (scoring.api.accountability_actions) ------------------------


class ExplainSerializer(serializers.Serializer):
    explanation = text_field(
        max_length=20000, help_text=_("The head's explanation (giải trình).")
    )


class CaseDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    ground = serializers.ChoiceField(
        choices=MitigationGround.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required for a mitigation: its ground."),
    )
    reason = text_field(max_length=5000, help_text=_("The reason for the decision."))


class RateSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=RatingLevel.choices,
        help_text=_(
            "0 not completed, 1 completed, 2 completed well, 3 completed excellently."
        ),
    )
    reason = text_field(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Required for a rating other than the proposal, or when nothing "
            "was proposed."
        ),
    )
