"""Shapes of the commitments API: the indicator catalogue, each unit's
commitment of a year with its targets, and each target's progress during the
year. Values are decimal strings ("95.00"), as everywhere in the API; times
are ISO 8601 in local time (+07:00).

Progress is not stored: the views read it through commitments.progress for
the rows of a page and hand it over on the objects (``progress_counts`` on a
commitment, ``live`` on a target), so that these serializers never query."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_field
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cchc_portal.api_steps import text_field
from commitments import rules
from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    Comparison,
    Indicator,
    IndicatorKind,
    SignatureCheck,
    SignatureReason,
    SignatureStatus,
    Target,
)
from commitments.organisation.models import Head, Unit
from procedures.figures import Rate

# Where a target's value comes from (commitments.progress.TargetProgress).
PROGRESS_SOURCES = [
    ("metric", _("From the case-record figures")),
    ("reported", _("Reported by the unit, not checked yet")),
    ("accepted", _("Reported by the unit and accepted")),
    ("rejected", _("Reported by the unit and rejected")),
    ("judged", _("Judged after the year")),
]
PROGRESS_STATES = [
    (rules.Progress.ON_TRACK.value, _("On track")),
    (rules.Progress.AT_RISK.value, _("At risk")),
    (rules.Progress.MET.value, _("Met")),
    (rules.Progress.MISSED.value, _("Missed")),
    (rules.Progress.NO_DATA.value, _("No data")),
]


def _value(**kwargs: Any) -> serializers.DecimalField:
    """A target's value or a rate: two decimals, like the model's columns."""
    return serializers.DecimalField(
        max_digits=9, decimal_places=2, read_only=True, **kwargs
    )


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose set of choices is one named enum of the schema.

    Several components have a "kind", "state" or "metric" with different
    choices; left to itself the schema generator names them with a hash
    ("State829Enum") and warns. The name is given here rather than in
    SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"], next to the field."""

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        field: NamedChoiceField = self.target
        schema = build_choice_field(field)
        schema.pop("x-spec-enum-id", None)
        # As the generator shows other enums: an empty value, where allowed,
        # is the shared BlankEnum; nullability belongs to each use.
        schema["enum"] = [c for c in schema["enum"] if c not in ("", None)]
        enum = self._register(auto_schema, field.enum_name, schema)
        if not field.allow_blank:
            return enum
        return {
            "oneOf": [enum, self._register(auto_schema, "BlankEnum", {"enum": [""]})]
        }

    @staticmethod
    def _register(auto_schema: Any, name: str, schema: dict[str, Any]) -> Any:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


# --- small shapes shared with the accountability API --------------------------------


class UnitRefSerializer(serializers.ModelSerializer[Unit]):
    class Meta:
        model = Unit
        fields = ["code", "name"]
        read_only_fields = fields


class HeadRefSerializer(serializers.ModelSerializer[Head]):
    name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = Head
        fields = ["name", "title"]
        read_only_fields = fields


class UserRefSerializer(serializers.Serializer):
    username = serializers.CharField(read_only=True)
    full_name = serializers.CharField(
        source="get_full_name",
        read_only=True,
        help_text=_("First and last name; empty when the account has none."),
    )


# --- indicators ---------------------------------------------------------------------


def _indicator_kind() -> NamedChoiceField:
    return NamedChoiceField(
        enum_name="IndicatorKindEnum", choices=IndicatorKind.choices
    )


def _indicator_metric(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        enum_name="IndicatorMetricEnum",
        choices=Rate.choices,
        allow_blank=True,
        **kwargs,
    )


class IndicatorSerializer(serializers.ModelSerializer[Indicator]):
    kind = _indicator_kind()
    metric = _indicator_metric(
        help_text=_(
            "For an indicator read from the case records: the rate it "
            "reads. Empty for one reported by the unit."
        )
    )

    class Meta:
        model = Indicator
        fields = ["code", "name", "kind", "metric", "unit_label", "position"]
        read_only_fields = fields


class TargetIndicatorSerializer(serializers.ModelSerializer[Indicator]):
    kind = _indicator_kind()
    metric = _indicator_metric()

    class Meta:
        model = Indicator
        fields = ["code", "name", "kind", "metric"]
        read_only_fields = fields


# --- targets ------------------------------------------------------------------------


class TargetProgressSerializer(serializers.Serializer):
    """A commitments.progress.TargetProgress."""

    value = _value(
        allow_null=True,
        help_text=_(
            "The value now: the unit's rate from January to the current month "
            "(or to the target's deadline), its reported value, or after the "
            "year the value it was judged on. Null: no data."
        ),
    )
    # A field named like Field.source: the metaclass takes it out of the
    # class body, which the type checker does not know.
    source = NamedChoiceField(  # type: ignore[assignment]
        enum_name="ProgressSourceEnum",
        choices=PROGRESS_SOURCES,
        allow_blank=True,
        help_text=_("Where the value comes from; empty: no value."),
    )
    state = NamedChoiceField(
        enum_name="ProgressStateEnum",
        source="progress",
        choices=PROGRESS_STATES,
        help_text=_(
            "Before the deadline: on track, at risk or no data; after it: met "
            "or missed."
        ),
    )


class TargetSerializer(serializers.ModelSerializer[Target]):
    indicator = TargetIndicatorSerializer(read_only=True)
    value = _value(help_text=_("The committed value."))
    last_year_value = _value(
        allow_null=True,
        help_text=_("The unit's own result of the year before, as read at signing."),
    )
    reported_value = _value(allow_null=True)
    check_state = serializers.ChoiceField(
        choices=CheckState.choices,
        allow_blank=True,
        read_only=True,
        help_text=_(
            "The reviewer's check of a reported value; empty before anything "
            "is reported."
        ),
    )
    judged_value = _value(allow_null=True)
    progress = TargetProgressSerializer(
        source="live",
        read_only=True,
        help_text=_("Computed on each request, as of today."),
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "indicator",
            "comparison",
            "value",
            "deadline",
            "mandatory",
            "optional_reason",
            "last_year_value",
            "reported_value",
            "check_state",
            "judged_value",
            "met",
            "exceeded",
            "progress",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "deadline": {"help_text": _("Empty: by the end of the year.")},
            "optional_reason": {
                "help_text": _(
                    "Why Home Affairs made the target optional; empty for a "
                    "mandatory target."
                )
            },
            "met": {"help_text": _("After the year; null until judged.")},
            "exceeded": {"help_text": _("After the year; null until judged.")},
        }


def _commitment_state() -> NamedChoiceField:
    return NamedChoiceField(
        enum_name="CommitmentStateEnum", choices=CommitmentState.choices
    )


class TargetCommitmentSerializer(serializers.ModelSerializer[Commitment]):
    state = _commitment_state()

    class Meta:
        model = Commitment
        fields = ["id", "year", "state"]
        read_only_fields = fields


class TargetRowSerializer(TargetSerializer):
    """A target in the list across units: with its commitment and unit."""

    commitment = TargetCommitmentSerializer(read_only=True)
    unit = UnitRefSerializer(source="commitment.unit", read_only=True)

    class Meta(TargetSerializer.Meta):
        fields = ["commitment", "unit", *TargetSerializer.Meta.fields]
        read_only_fields = fields


# --- commitments --------------------------------------------------------------------


class CountersignatureSerializer(serializers.Serializer):
    name = serializers.CharField(source="countersigner_name", read_only=True)
    title = serializers.CharField(source="countersigner_title", read_only=True)
    date = serializers.DateField(source="countersigned_on", read_only=True)


class ProgressCountsSerializer(serializers.Serializer):
    """A commitments.progress.Tally."""

    on_track = serializers.IntegerField(read_only=True)
    at_risk = serializers.IntegerField(read_only=True)
    met = serializers.IntegerField(read_only=True)
    missed = serializers.IntegerField(read_only=True)
    no_data = serializers.IntegerField(read_only=True)


class CommitmentSerializer(serializers.ModelSerializer[Commitment]):
    unit = UnitRefSerializer(read_only=True)
    state = _commitment_state()
    head = HeadRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("The head who signed; null while a draft."),
    )
    countersigned = serializers.SerializerMethodField(
        help_text=_("By the level above; null until counter-signed.")
    )
    progress_counts = ProgressCountsSerializer(
        read_only=True,
        help_text=_("The number of its targets in each progress state, as of today."),
    )

    class Meta:
        model = Commitment
        fields = [
            "id",
            "unit",
            "year",
            "state",
            "head",
            "signed_on",
            "countersigned",
            "met",
            "evaluated_at",
            "progress_counts",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "met": {
                "help_text": _(
                    "After the year: every mandatory target met; null until judged."
                )
            }
        }

    @extend_schema_field(CountersignatureSerializer(allow_null=True))
    def get_countersigned(self, commitment: Commitment) -> dict[str, Any] | None:
        if commitment.countersigned_on is None:
            return None
        return CountersignatureSerializer(commitment).data


class SignatureCheckSerializer(serializers.ModelSerializer[SignatureCheck]):
    """What the digital signature of the signed PDF said when it was
    uploaded (commitments.signatures)."""

    status = NamedChoiceField(
        enum_name="SignatureStatusEnum",
        choices=SignatureStatus.choices,
        help_text=_(
            "valid: intact, covering the whole document, its certificate "
            "leading to a trust root of the portal; invalid: the certificate "
            "is revoked, expired or not meant for signing; chain_unverified: "
            "no trust root it leads to (or none configured)."
        ),
    )
    reason = NamedChoiceField(
        enum_name="SignatureReasonEnum",
        choices=SignatureReason.choices,
        allow_blank=True,
        help_text=_("Why it is not valid; empty when valid."),
    )
    head = HeadRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("The unit's head in office on the signing day."),
    )

    class Meta:
        model = SignatureCheck
        fields = [
            "status",
            "reason",
            "signer_name",
            "signer_organisation",
            "issuer_name",
            "signed_at",
            "head",
            "signer_is_head",
            "checked_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "signer_name": {"help_text": _("The name on the signer's certificate.")},
            "signed_at": {
                "help_text": _(
                    "From the signature's trusted timestamp, else as the signer "
                    "reported it; null when the signature does not say."
                )
            },
            "signer_is_head": {
                "help_text": _(
                    "The certificate names the unit's head in office on the "
                    "signing day."
                )
            },
        }


class CommitmentDetailSerializer(CommitmentSerializer):
    targets = TargetSerializer(many=True, read_only=True)
    signature = serializers.SerializerMethodField(
        help_text=_(
            "The digital signature of the signed PDF, as verified on upload; "
            "null for a plain scan or before signing."
        )
    )

    class Meta(CommitmentSerializer.Meta):
        fields = [*CommitmentSerializer.Meta.fields, "targets", "signature"]
        read_only_fields = fields

    @extend_schema_field(SignatureCheckSerializer(allow_null=True))
    def get_signature(self, commitment: Commitment) -> dict[str, Any] | None:
        check = getattr(commitment, "signature_check", None)
        return None if check is None else SignatureCheckSerializer(check).data


# --- the workflow's input (commitments.api.actions) ---------------------------------

# Dates as the API writes them (yyyy-mm-dd), or as the pages do (dd/mm/yyyy).
DATE_INPUT = ["iso-8601", "%d/%m/%Y"]


class TargetInputSerializer(serializers.Serializer):
    indicator = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Indicator.objects.all(),
        help_text=_("The indicator's code (GET /api/v1/indicators/)."),
    )
    comparison = serializers.ChoiceField(
        choices=Comparison.choices, default=Comparison.AT_LEAST
    )
    value = serializers.DecimalField(
        max_digits=9, decimal_places=2, help_text=_("The committed value.")
    )
    deadline = serializers.DateField(
        input_formats=DATE_INPUT,
        allow_null=True,
        required=False,
        help_text=_("Within the commitment's year; null: by the end of the year."),
    )
    mandatory = serializers.BooleanField(
        required=False,
        help_text=_(
            "Home Affairs of the unit's jurisdiction decides it (a new target "
            "is mandatory); making a target optional needs optional_reason."
        ),
    )
    optional_reason = text_field(required=False, allow_blank=True, max_length=2000)


class SignSerializer(serializers.Serializer):
    signed_on = serializers.DateField(
        input_formats=DATE_INPUT, help_text=_("The day the head signed.")
    )
    scan = serializers.FileField(
        help_text=_("The signed document: PDF (scanned or signed), PNG or JPEG.")
    )
    acknowledge = serializers.BooleanField(
        default=False,
        help_text=_(
            "true: the warnings about targets below last year's result were "
            "read (required when there are any)."
        ),
    )


class CountersignSerializer(serializers.Serializer):
    countersigned_on = serializers.DateField(input_formats=DATE_INPUT)
    signer_name = text_field(
        max_length=200, help_text=_("Who signed for the level above.")
    )
    signer_title = text_field(
        max_length=200, required=False, allow_blank=True, default=""
    )


class ReportSerializer(serializers.Serializer):
    value = serializers.DecimalField(
        max_digits=9, decimal_places=2, help_text=_("The value achieved.")
    )
    note = text_field(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("How it was achieved."),
    )


class CheckSerializer(serializers.Serializer):
    accept = serializers.BooleanField(
        help_text=_("true: the reported value is accepted; false: rejected.")
    )
    note = text_field(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required to reject: why."),
    )
