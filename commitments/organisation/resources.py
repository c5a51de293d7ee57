"""Spreadsheet import and export of units and heads (django-import-export).

Rows refer to units by code, never by database id, so a file written by an
official in Excel round-trips. Every problem becomes a row error in the dry-run
preview: unknown parent or unit code, a code twice in one file, overlapping head
tenures, a date that cannot be read."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from import_export import fields

from cchc_portal.spreadsheets import (
    CodesWidget,
    CodeWidget,
    DayFirstDateWidget,
    DuplicateCodeCheck,
    SpreadsheetResource,
)
from commitments.organisation.models import Head, RankingGroup, Unit


class UnitResource(DuplicateCodeCheck, SpreadsheetResource):
    duplicate_key = ("code",)

    parent = fields.Field(
        attribute="parent",
        column_name="parent_code",
        widget=CodeWidget(Unit, field="code"),
    )
    ranking_group = fields.Field(
        attribute="ranking_group",
        column_name="ranking_group",
        widget=CodeWidget(RankingGroup, field="code"),
    )
    # Required for a new unit; left out (or empty), an existing unit keeps its
    # own, so that a file of code, name and kind renames units.
    valid_from = fields.Field(
        attribute="valid_from",
        column_name="valid_from",
        widget=DayFirstDateWidget(),
        saves_null_values=False,
    )
    valid_to = fields.Field(
        attribute="valid_to",
        column_name="valid_to",
        widget=DayFirstDateWidget(),
    )
    predecessors = fields.Field(
        attribute="predecessors",
        column_name="predecessor_codes",
        widget=CodesWidget(Unit, field="code", separator=";"),
    )

    class Meta:
        model = Unit
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "kind",
            "parent",
            "ranking_group",
            "valid_from",
            "valid_to",
            "predecessors",
        )
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def validate_instance(
        self,
        instance: Unit,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        errors = dict(import_validation_errors or {})
        if instance.valid_from is None and "valid_from" not in errors:
            errors["valid_from"] = [
                _("A new unit needs the date it starts, valid_from (dd/mm/yyyy).")
            ]
        super().validate_instance(instance, errors, validate_unique)


class HeadResource(DuplicateCodeCheck, SpreadsheetResource):
    duplicate_key = ("unit_code", "full_name", "position", "tenure_from")

    unit = fields.Field(
        attribute="unit", column_name="unit_code", widget=CodeWidget(Unit, field="code")
    )
    tenure_from = fields.Field(
        attribute="tenure_from",
        column_name="tenure_from",
        widget=DayFirstDateWidget(),
    )
    tenure_to = fields.Field(
        attribute="tenure_to",
        column_name="tenure_to",
        widget=DayFirstDateWidget(),
    )

    class Meta:
        model = Head
        # A tenure is identified by who holds which position where since when.
        import_id_fields = ("unit", "full_name", "position", "tenure_from")
        fields = ("unit", "full_name", "title", "position", "tenure_from", "tenure_to")
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
