"""Shapes of the case-record API: the push envelope and its result, and case
records as they are read back."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings

from cchc_portal.api_steps import text_field
from procedures import rules
from procedures.figures import COUNT_FIELDS
from procedures.importer import ERROR_LIMIT
from procedures.models import (
    CaseRecord,
    Channel,
    ImportRun,
    PeriodKind,
    Reminder,
    Satisfaction,
)
from procedures.parsing import COLUMNS, STATUS_VALUES
from procedures.selectors import RANGE, FigureRow

MAX_PUSH_RECORDS = 10_000
# Envelope errors listed before the rest are summed up in one line.
MAX_RECORD_ERRORS = 20
SCALARS = (str, int, float, bool, type(None))


class CasePushRecordSerializer(serializers.Serializer):
    """One pushed record, for the OpenAPI schema only. Records are not validated
    by this serializer but row by row by the import engine, which reports each
    bad value with its row and column instead of refusing the whole batch."""

    case_code = serializers.CharField(max_length=100)
    procedure_code = serializers.CharField(max_length=50)
    unit_code = serializers.CharField(max_length=50)
    received_at = serializers.DateTimeField(
        help_text=gettext_lazy(
            "ISO 8601; without an offset, local time (+07:00). dd/mm/yyyy HH:MM is "
            "accepted too."
        )
    )
    due_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "Required when the status is da_xu_ly_xong, da_tra_ket_qua or tu_choi."
        ),
    )
    # A string rather than an enum: the English aliases are accepted as well.
    status = serializers.CharField(
        help_text=format_lazy(
            gettext_lazy("One of: {values}."), values=", ".join(sorted(STATUS_VALUES))
        )
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    digitized = serializers.BooleanField(required=False, default=False)
    fee_required = serializers.BooleanField(required=False, default=False)
    paid_online = serializers.BooleanField(required=False, default=False)
    supplement_requests = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=32767
    )
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_blank=True, default=""
    )
    complaint = serializers.BooleanField(required=False, default=False)
    officer = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )


# The properties a pushed record must have (required in the schema): one left
# out is a malformed request (400), not a row error.
REQUIRED = [
    name for name, field in CasePushRecordSerializer().fields.items() if field.required
]


@extend_schema_field(CasePushRecordSerializer(many=True))
class CasePushRecordsField(serializers.ListField):
    """A list of JSON objects, documented as CasePushRecord items."""


class CasePushSerializer(serializers.Serializer):
    atomic = serializers.BooleanField(
        default=False,
        help_text=gettext_lazy(
            "All or nothing: if any record is rejected, none is written."
        ),
    )
    records = CasePushRecordsField(
        child=serializers.DictField(),
        allow_empty=False,
        # As the schema says it (minItems: 1): an empty push is refused.
        min_length=1,
        max_length=MAX_PUSH_RECORDS,
        error_messages={
            "max_length": gettext_lazy(
                "At most {max_length} records may be pushed in one request; "
                "send the rest in further requests."
            )
        },
        help_text=format_lazy(
            gettext_lazy(
                "At most {limit} records. Errors name a record by its position in "
                "this list, counting from 1."
            ),
            limit=MAX_PUSH_RECORDS,
        ),
    )

    def validate_records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Refuse what is not a case record at all (unknown fields, nested values,
        an empty object, a property the schema requires left out). Bad values
        are left to the engine, row by row.

        A missing property is named by its path, records.<index>.<property>
        (the index from 0, as in the JSON; the message counts from 1, as rows
        do); anything else about a record is an error on records."""
        known = set(COLUMNS)
        messages: list[str] = []
        missing: dict[str, dict[str, list[ErrorDetail]]] = {}
        count = shown = 0
        for index, record in enumerate(records):
            number = index + 1
            message = self._record_error(record, known)
            absent = [] if message else [c for c in REQUIRED if c not in record]
            if message is None and not absent:
                continue
            count += 1
            if shown == MAX_RECORD_ERRORS:
                continue
            shown += 1
            if message is not None:
                messages.append(
                    _("Record %(row)s: %(message)s")
                    % {"row": number, "message": message}
                )
                continue
            missing[str(index)] = {
                column: [
                    ErrorDetail(
                        _("Record %(row)s: %(message)s")
                        % {
                            "row": number,
                            "message": _("“%(field)s” is required.")
                            % {"field": column},
                        },
                        code="required",
                    )
                ]
                for column in absent
            }
        if count > shown:
            messages.append(
                _("… and %(count)s more record(s) like these.")
                % {"count": count - shown}
            )
        if missing:
            raise serializers.ValidationError(
                {**missing, api_settings.NON_FIELD_ERRORS_KEY: messages}
                if messages
                else missing
            )
        if messages:
            raise serializers.ValidationError(messages)
        return records

    @staticmethod
    def _record_error(record: dict[str, Any], known: set[str]) -> str | None:
        unknown = sorted(key for key in record if key not in known)
        if unknown:
            return _("unknown field(s) %(fields)s; the fields are: %(known)s.") % {
                "fields": ", ".join(f"“{key}”" for key in unknown),
                "known": ", ".join(COLUMNS),
            }
        nested = sorted(
            key for key, value in record.items() if not isinstance(value, SCALARS)
        )
        if nested:
            return _("%(fields)s must be a string, a number, true/false or null.") % {
                "fields": ", ".join(f"“{key}”" for key in nested)
            }
        if all(value is None or value == "" for value in record.values()):
            return _("the record is empty.")
        return None


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        help_text=gettext_lazy("The record's position in records, counting from 1.")
    )
    column = serializers.CharField(help_text=gettext_lazy("The field at fault."))
    value = serializers.CharField(help_text=gettext_lazy("The value as received."))
    message = serializers.CharField()


class CasePushResultSerializer(serializers.ModelSerializer):
    import_id = serializers.IntegerField(
        source="pk", help_text=gettext_lazy("The import run recording this push.")
    )
    # DRF's metaclass takes declared fields off the class, so this does not hide
    # Serializer.errors at run time; mypy only sees the class body.
    errors = RowErrorSerializer(  # type: ignore[assignment]
        many=True,
        help_text=format_lazy(
            gettext_lazy(
                "The rejected records (the first {limit}; rows_rejected counts "
                "them all)."
            ),
            limit=ERROR_LIMIT,
        ),
    )

    class Meta:
        model = ImportRun
        fields = [
            "import_id",
            "status",
            "rows_total",
            "rows_new",
            "rows_updated",
            "rows_unchanged",
            "rows_rejected",
            "rows_moved",
            "errors",
        ]
        read_only_fields = fields


class CaseRecordSerializer(serializers.ModelSerializer):
    """A case record as its source system knows it: by codes, not ids."""

    procedure_code = serializers.CharField(source="procedure.code", read_only=True)
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    # Declared so that the schema lets it be blank (no rating given).
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = CaseRecord
        # The interchange columns: a case reads back as it is pushed.
        fields = list(COLUMNS)
        read_only_fields = fields


PERIOD_KINDS = [*PeriodKind.choices, (RANGE, gettext_lazy("Range of months"))]


def _month(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


class UnitMetricSerializer(serializers.Serializer):
    """One unit's 766 counts for one period (a month, quarter or year, or a
    range of whole months), with the rates derived from them: null where a
    denominator is zero, as for a unit with no dossier at all (its counts 0):
    no data, never 0 % or 100 %."""

    unit_code = serializers.CharField(source="slot.unit_code", read_only=True)
    unit_name = serializers.CharField(source="slot.unit_name", read_only=True)
    period_kind = serializers.ChoiceField(
        choices=PERIOD_KINDS, source="slot.kind", read_only=True
    )
    year = serializers.IntegerField(
        source="slot.year",
        allow_null=True,
        read_only=True,
        help_text=gettext_lazy("Null for a range of months."),
    )
    number = serializers.IntegerField(
        source="slot.number",
        allow_null=True,
        read_only=True,
        help_text=gettext_lazy(
            "Month 1–12, quarter 1–4, or 1 for the year; null for a range."
        ),
    )
    rates = serializers.SerializerMethodField()
    computed_at = serializers.DateTimeField(
        allow_null=True,
        read_only=True,
        help_text=gettext_lazy(
            "When these figures were judged; null where nothing is stored (no "
            "dossier in the period)."
        ),
    )
    as_of = serializers.DateTimeField(
        allow_null=True,
        read_only=True,
        help_text=gettext_lazy(
            "The moment the figures are as of (tính đến), for a period that had "
            "not ended when they were judged: an open dossier not yet due then "
            "is neither late nor overdue. Null once the period was judged after "
            "its end, and where there is no data."
        ),
    )

    def get_fields(self) -> dict[str, Any]:
        found = super().get_fields()
        # "from" is a Python keyword: these are named here, not declared.
        extra: dict[str, Any] = {
            "from": serializers.SerializerMethodField(
                method_name="get_first",
                help_text=gettext_lazy("First month of the period (yyyy-mm)."),
            ),
            "to": serializers.SerializerMethodField(
                method_name="get_last",
                help_text=gettext_lazy("Last month of the period (yyyy-mm)."),
            ),
            **{
                name: serializers.IntegerField(source=f"counts.{name}", read_only=True)
                for name in COUNT_FIELDS
            },
        }
        order = ["unit_code", "unit_name", "period_kind", "year", "number"]
        fields = {name: found[name] for name in order}
        fields.update(extra)
        fields.update({name: found[name] for name in ("rates", "computed_at", "as_of")})
        return fields

    @extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})
    def get_first(self, row: FigureRow) -> str:
        return _month(row.slot.span.first)

    @extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})
    def get_last(self, row: FigureRow) -> str:
        return _month(row.slot.span.last)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                name: {
                    "type": "boolean" if name == "digitization_meets_766" else "string",
                    "nullable": True,
                }
                for name in (f.name for f in dataclass_fields(rules.Metrics))
            },
        }
    )
    def get_rates(self, row: FigureRow) -> dict[str, object]:
        return {
            f.name: (
                str(value)
                if (value := getattr(row.figures, f.name)) is not None
                and not isinstance(value, bool)
                else value
            )
            for f in dataclass_fields(rules.Metrics)
        }


# --- reminders (procedures.api.reminders) -------------------------------------------


class ReminderSerializer(serializers.ModelSerializer[Reminder]):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    issued_by = serializers.CharField(
        source="issued_by.username", read_only=True, allow_null=True, default=None
    )
    withdrawn_by = serializers.CharField(
        source="withdrawn_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Reminder
        fields = [
            "id",
            "unit_code",
            "unit_name",
            "officer",
            "issued_on",
            "year",
            "reason",
            "issued_by",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawal_reason",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "officer": {"help_text": gettext_lazy("Empty: the unit as a whole.")},
            "year": {
                "help_text": gettext_lazy("The year whose late dossiers it concerns.")
            },
            "withdrawn_at": {
                "help_text": gettext_lazy(
                    "Null while it counts towards repeated lateness."
                )
            },
        }


class ReminderIssueSerializer(serializers.Serializer):
    unit = text_field(
        max_length=50,
        help_text=gettext_lazy("The code of a unit the caller may remind."),
    )
    officer = text_field(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy(
            "Empty for the unit as a whole; otherwise the officer's name or code "
            "exactly as in the case records."
        ),
    )
    issued_on = serializers.DateField(input_formats=["iso-8601", "%d/%m/%Y"])
    year = serializers.IntegerField(
        min_value=2000,
        max_value=2100,
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy(
            "The year whose late dossiers it concerns: that of issued_on or the "
            "one before; left out, that of issued_on."
        ),
    )
    reason = text_field(max_length=5000, required=False, allow_blank=True, default="")


class ReminderWithdrawSerializer(serializers.Serializer):
    reason = text_field(
        max_length=5000,
        help_text=gettext_lazy("Why it is withdrawn (kept with the reminder)."),
    )
