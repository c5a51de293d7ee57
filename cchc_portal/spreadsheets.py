"""The one guard of every spreadsheet the portal writes: a text cell that a
spreadsheet would read as a formula (OWASP "CSV injection": = + - @, and a
tab or carriage return before one) gets a leading apostrophe, which makes
it text. The portal's own exports (rankings, results CSV, late dossiers)
and the admin's import-export downloads all go through formula_safe.

Numbers are never touched: -1 stored as a number stays the number -1."""

from __future__ import annotations

from typing import Any

from import_export import resources, widgets

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe[T](value: T) -> T | str:
    """``value``, or the text with a leading apostrophe when a spreadsheet
    would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class FormulaSafeExport:
    """An import-export Resource whose every exported cell is formula safe,
    in every format (CSV, XLSX) and through every door (the admin's export
    page and action, Resource.export). A number field rendered as text for
    CSV ("-1") is a number, not a formula, and is left as it is."""

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        value = super().export_field(field, instance, **kwargs)  # type: ignore[misc]
        if isinstance(field.widget, widgets.NumberWidget):
            return value
        return formula_safe(value)


class SpreadsheetResource(FormulaSafeExport, resources.ModelResource):
    """The base of the portal's admin spreadsheets."""
