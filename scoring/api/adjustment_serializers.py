"""Shapes of the deductions and bonuses API (scoring.api.adjustment_actions):
a record as entered and decided, and what entering and deciding take. Points
are decimal strings ("-1.00"); times ISO 8601 in local time (+07:00)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cchc_portal.api_steps import text_field
from commitments.api.serializers import (
    NamedChoiceField,
    UnitRefSerializer,
    UserRefSerializer,
)
from scoring.models import Adjustment, AdjustmentRule, AdjustmentState


class RuleRefSerializer(serializers.ModelSerializer[AdjustmentRule]):
    class Meta:
        model = AdjustmentRule
        fields = ["code", "title", "points_per_case"]
        read_only_fields = fields


class AdjustmentSerializer(serializers.ModelSerializer[Adjustment]):
    year = serializers.IntegerField(source="framework.year", read_only=True)
    unit = UnitRefSerializer(read_only=True)
    rule = RuleRefSerializer(read_only=True)
    # Named like Field.source: the metaclass takes it out of the class body.
    source = UnitRefSerializer(  # type: ignore[assignment]
        read_only=True,
        allow_null=True,
        help_text=_("The office or commune a deduction arose in; null: the unit."),
    )
    state = NamedChoiceField(
        enum_name="AdjustmentStateEnum", choices=AdjustmentState.choices
    )
    entered_by = UserRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("Null for a proposal of the computation."),
    )
    decided_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Adjustment
        fields = [
            "id",
            "framework",
            "year",
            "unit",
            "rule",
            "cases",
            "points",
            "reason",
            "evidence",
            "source",
            "proposed_by_computation",
            "state",
            "entered_by",
            "entered_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields


class AdjustmentEnterSerializer(serializers.Serializer):
    framework = serializers.IntegerField(
        min_value=1, help_text=_("The year's framework (GET /api/v1/frameworks/).")
    )
    unit = text_field(
        max_length=50, help_text=_("The code of a unit the caller reviews.")
    )
    rule = text_field(
        max_length=50, help_text=_("The code of a rule of the framework's catalogue.")
    )
    cases = serializers.IntegerField(
        min_value=1,
        max_value=100,
        default=1,
        help_text=_("The rule's points are counted once per case."),
    )
    reason = text_field(
        max_length=5000,
        help_text=_(
            "What happened, and the decision or conclusion that established it."
        ),
    )
    evidence = text_field(max_length=500, required=False, allow_blank=True, default="")
    source = text_field(  # type: ignore[assignment]
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "For a deduction against a city: the code of the office or commune "
            "it arose in."
        ),
    )


class AdjustmentDecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField(
        help_text=_("true: it counts in the next computation; false: rejected.")
    )
    reason = text_field(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required to reject: the entrant reads it."),
    )
