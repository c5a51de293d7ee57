"""Shapes of the organisation API: units and heads as they are read, the rows
of a bulk upsert (the columns of the admin's spreadsheets) and its report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from cchc_portal.api_steps import TextField
from commitments.organisation.models import Head, HeadPosition, Unit, UnitKind

# A province's whole organisation (a few thousand units) fits in one request.
MAX_ROWS = 5_000
DATE_HELP = gettext_lazy(
    "dd/mm/yyyy, as officials write it, or yyyy-mm-dd; checked on its row."
)


# --- read -------------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    """A unit by its codes, in the columns of the import: what is read back
    can be sent again."""

    parent_code: serializers.SlugRelatedField[Unit] = serializers.SlugRelatedField(
        source="parent", slug_field="code", read_only=True, allow_null=True
    )
    ranking_group: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    predecessor_codes: serializers.SlugRelatedField[Unit] = (
        serializers.SlugRelatedField(
            source="predecessors", slug_field="code", many=True, read_only=True
        )
    )

    class Meta:
        model = Unit
        fields = [
            "code",
            "name",
            "kind",
            "parent_code",
            "ranking_group",
            "valid_from",
            "valid_to",
            "predecessor_codes",
        ]
        read_only_fields = fields


class HeadSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)

    class Meta:
        model = Head
        fields = [
            "unit_code",
            "full_name",
            "title",
            "position",
            "tenure_from",
            "tenure_to",
        ]
        read_only_fields = fields


# --- the bulk upsert --------------------------------------------------------------


class QueryBoolean(serializers.BooleanField):
    """A query-string boolean as the API reads every one: true or false."""

    # A parameter left out reaches the field as False (DRF's empty form value).
    TRUE_VALUES = {"true"}
    FALSE_VALUES = {"false", False}
    NULL_VALUES: set[Any] = set()
    default_error_messages = {"invalid": gettext_lazy("Must be true or false.")}


class UpsertQuerySerializer(serializers.Serializer):
    dry_run = QueryBoolean(
        required=False,
        default=False,
        help_text=gettext_lazy(
            "true: check every row and answer the report, writing nothing."
        ),
    )


class RowSerializer(serializers.Serializer):
    """A row of the bulk upsert: unknown properties are refused (a misspelt
    column would otherwise be left out without a word)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                message = _("Unknown property; the properties are: %(known)s.") % {
                    "known": ", ".join(self.fields)
                }
                raise serializers.ValidationError(
                    {key: [ErrorDetail(message, code="unknown")] for key in unknown}
                )
        return super().to_internal_value(data)


def _optional(**kwargs: Any) -> TextField:
    return TextField(required=False, allow_null=True, allow_blank=True, **kwargs)


class UnitRowSerializer(RowSerializer):
    code = TextField(max_length=50)
    name = TextField(max_length=255)
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    parent_code = _optional(
        max_length=50,
        help_text=gettext_lazy(
            "The parent's code: a unit stored already, or one earlier in the list."
        ),
    )
    ranking_group = _optional(max_length=50)
    valid_from = _optional(
        help_text=gettext_lazy(
            "dd/mm/yyyy or yyyy-mm-dd. Required for a new unit; left out or "
            "empty, an existing unit keeps its own."
        )
    )
    valid_to = _optional(help_text=DATE_HELP)
    predecessor_codes = serializers.ListField(
        child=TextField(max_length=50),
        required=False,
        help_text=gettext_lazy("Codes of the units merged or split into this one."),
    )


class HeadRowSerializer(RowSerializer):
    unit_code = TextField(max_length=50)
    full_name = TextField(max_length=200)
    title = _optional(max_length=200)
    position = serializers.ChoiceField(choices=HeadPosition.choices)
    tenure_from = TextField(help_text=DATE_HELP)
    tenure_to = _optional(help_text=DATE_HELP)


def rows_field(
    row: type[RowSerializer], **kwargs: Any
) -> serializers.ListSerializer[Any]:
    """The list of rows a bulk upsert takes (``data=`` to validate one)."""
    return row(  # type: ignore[call-arg,return-value]
        **kwargs,
        many=True,
        allow_empty=False,
        max_length=MAX_ROWS,
        help_text=gettext_lazy("At most 5,000 rows."),
    )


class RowProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        help_text=gettext_lazy("The row's position in the list, counting from 1.")
    )
    column = serializers.CharField(
        help_text=gettext_lazy("The property at fault; empty for the row as a whole.")
    )
    value = serializers.CharField(help_text=gettext_lazy("The value as received."))
    message = serializers.CharField()


class UpsertReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    written = serializers.BooleanField(
        help_text=gettext_lazy(
            "Whether the rows were written: never on a dry run, never when a "
            "row is rejected (all rows or none)."
        )
    )
    rows_total = serializers.IntegerField()
    rows_new = serializers.IntegerField(
        help_text=gettext_lazy(
            "New rows (on a dry run, that would be); 0 when rows are rejected."
        )
    )
    rows_updated = serializers.IntegerField()
    rows_unchanged = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    errors = RowProblemSerializer(many=True)  # type: ignore[assignment]
