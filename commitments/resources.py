"""Spreadsheet import and export of units and heads (django-import-export).

Rows refer to units by code, never by database id, so a file written by an
official in Excel round-trips. Every problem becomes a row error in the dry-run
preview: unknown parent or unit code, a code twice in one file, overlapping head
tenures, a date that cannot be read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, widgets

from cchc_portal.formats.vi.formats import DATE_INPUT_FORMATS as DATE_FORMATS
from cchc_portal.spreadsheets import SpreadsheetResource
from commitments.models import Head, RankingGroup, Unit

# Day first, as Vietnamese officials write; ISO as exported by other systems.
# Never Django's default list, which would read 01/02/2020 as 2 January.


class DayFirstDateWidget(widgets.DateWidget):
    def __init__(self) -> None:
        super().__init__()
        self.formats = DATE_FORMATS

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> date | None:
        if isinstance(value, datetime):  # an XLSX date cell
            return value.date()
        if isinstance(value, str):
            value = value.strip()
        try:
            return super().clean(value, row, **kwargs)
        except ValueError as exc:
            raise ValueError(
                _("“%(value)s” is not a date; write dd/mm/yyyy.") % {"value": value}
            ) from exc

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.strftime("%d/%m/%Y") if value else ""


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key written as the other row's code; an unknown code is a
    validation error on the field, not a crash of the row."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist as exc:
            raise ValueError(
                _("No %(model)s has the code “%(code)s”.")
                % {"model": self.model._meta.verbose_name, "code": value}
            ) from exc


class CodesWidget(widgets.ManyToManyWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        codes = [code.strip() for code in str(value or "").split(self.separator)]
        codes = [code for code in codes if code]
        found = self.model.objects.filter(**{f"{self.field}__in": codes})
        missing = sorted(set(codes) - {getattr(obj, self.field) for obj in found})
        if missing:
            raise ValueError(
                _("No unit has the code(s): %(codes)s.") % {"codes": ", ".join(missing)}
            )
        return found


class DuplicateCodeCheck:
    """Refuse a row whose key was already seen earlier in the same file: an
    import would otherwise let the last of them win without a word."""

    duplicate_key: tuple[str, ...] = ()

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._seen: dict[tuple[str, ...], int] = {}
        super().before_import(dataset, **kwargs)  # type: ignore[misc]

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        key = tuple(str(row.get(column) or "").strip() for column in self.duplicate_key)
        number = kwargs.get("row_number", 0)
        if all(key):
            first = self._seen.setdefault(key, number)
            if first != number:
                raise ValidationError(
                    {
                        self.duplicate_key[0]: _(
                            "“%(key)s” already appears in row %(row)s of this file."
                        )
                        % {"key": " / ".join(key), "row": first}
                    }
                )
        super().before_import_row(row, **kwargs)  # type: ignore[misc]


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
    valid_from = fields.Field(
        attribute="valid_from",
        column_name="valid_from",
        widget=DayFirstDateWidget(),
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
