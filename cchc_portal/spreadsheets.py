"""The one guard of every spreadsheet the portal writes: a text cell that a
spreadsheet would read as a formula (OWASP "CSV injection": = + - @, and a
tab or carriage return before one) gets a leading apostrophe, which makes
it text. The portal's own exports (rankings, results CSV, late dossiers)
and the admin's import-export downloads all go through formula_safe.

Numbers are never touched: -1 stored as a number stays the number -1.

And the one bound on every workbook the portal reads (the case-record
imports and the admin's spreadsheet imports): what it may expand to."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import forms as import_forms
from import_export import resources, widgets

from cchc_portal import numbers
from cchc_portal.formats.vi.formats import DATE_INPUT_FORMATS as DATE_FORMATS

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


class _LeftOut:
    def __repr__(self) -> str:
        return "LEFT_OUT"

    def __str__(self) -> str:
        return ""


# A cell of a row that did not give that column at all (an API row leaving a
# property out), as opposed to an empty one: like a column absent from a
# file, it leaves the stored value as it is.
LEFT_OUT = _LeftOut()


class SpreadsheetResource(FormulaSafeExport, resources.ModelResource):
    """The base of the portal's admin spreadsheets."""

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        for column in [column for column, value in row.items() if value is LEFT_OUT]:
            del row[column]
        # The key columns find the stored row before anything else is read,
        # outside the checks that name a column: an unknown code or a bad
        # date there would be an error of the row as a whole. Read here, each
        # is an error on its own column, like any other cell.
        errors: dict[str, list[str]] = {}
        for name in self._meta.import_id_fields:
            column = self.fields[name]
            if column.column_name not in row:
                continue
            try:
                column.clean(row, **kwargs)
            except ValueError as exc:
                errors[name] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        super().before_import_row(row, **kwargs)


class WorkbookError(ValueError):
    """A workbook refused before it is read; the message says which bound."""


# --- what a workbook may expand to ----------------------------------------------
#
# An XLSX is a zip of XML: a few hundred KB can unpack to gigabytes, held in
# memory where openpyxl keeps it (the shared strings, one cell's text). So the
# zip's directory and a streamed scan of its XML decide, before openpyxl reads
# anything, whether the workbook stays within these bounds.


@dataclass(frozen=True)
class XlsxLimits:
    # All parts together, unpacked.
    max_bytes: int
    # The shared-strings part, which openpyxl holds whole.
    max_shared_bytes: int
    # Cells written in the worksheets.
    max_cells: int
    # Characters of one cell (Excel's own limit is 32,767).
    max_cell_chars: int

    @classmethod
    def from_settings(cls) -> XlsxLimits:
        from django.conf import settings

        return cls(
            max_bytes=settings.CASE_IMPORT_XLSX_MAX_BYTES,
            max_shared_bytes=settings.CASE_IMPORT_XLSX_MAX_SHARED_BYTES,
            max_cells=settings.CASE_IMPORT_XLSX_MAX_CELLS,
            max_cell_chars=settings.CASE_IMPORT_MAX_CELL_CHARS,
        )

    @property
    def max_text_bytes(self) -> int:
        # A character is at most 4 bytes of UTF-8, or an entity of up to 8
        # (&#65535;): no cell Excel can hold is longer than this between tags.
        return self.max_cell_chars * 8


@dataclass(frozen=True)
class XlsxSize:
    bytes: int
    rows: int
    cells: int


SCAN_CHUNK = 1 << 20
SHARED_STRINGS = "xl/sharedStrings.xml"
# A cell reference of three letters is column 703 (AAA) or beyond; a row of
# openpyxl's read-only mode is as wide as its last cell, so one such cell per
# row would make every row thousands of values.
_FAR_COLUMN = re.compile(rb'<c r="[A-Z]{3}')


def xlsx_size(stream: IO[bytes], limits: XlsxLimits) -> XlsxSize:
    """Check what the workbook in ``stream`` expands to, reading its XML once
    in pieces (memory does not grow with the file); WorkbookError, saying which
    bound, when it goes beyond ``limits``."""
    try:
        archive = zipfile.ZipFile(stream)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WorkbookError(_("The Excel workbook cannot be opened.")) from exc
    # Sizes as the zip's directory declares them: zipfile never inflates a
    # part beyond its declared size (it stops there, and checks the CRC).
    total = sum(info.file_size for info in infos)
    if total > limits.max_bytes:
        raise WorkbookError(
            _(
                "The workbook unpacks to %(size)s MB; at most %(limit)s MB can be "
                "read. Save it as CSV, or split it."
            )
            % {
                "size": numbers.number(total // (1 << 20)),
                "limit": numbers.number(limits.max_bytes // (1 << 20)),
            }
        )
    for info in infos:
        if info.filename == SHARED_STRINGS and info.file_size > limits.max_shared_bytes:
            raise WorkbookError(
                _(
                    "The workbook's text table (sharedStrings.xml) unpacks to "
                    "%(size)s MB; at most %(limit)s MB can be read. Save it as CSV."
                )
                % {
                    "size": info.file_size // (1 << 20),
                    "limit": limits.max_shared_bytes // (1 << 20),
                }
            )
    rows = cells = 0
    for info in infos:
        if not info.filename.endswith((".xml", ".rels")):
            continue
        sheet = info.filename.startswith("xl/worksheets/")
        try:
            with archive.open(info) as part:
                for block in _xml_blocks(part, limits.max_text_bytes):
                    if b"<!DOCTYPE" in block or b"<!ENTITY" in block:
                        raise WorkbookError(
                            _("The workbook declares XML entities; it is refused.")
                        )
                    if max(map(len, block.split(b"<"))) > limits.max_text_bytes:
                        raise WorkbookError(long_cell_message(limits))
                    if sheet:
                        rows += block.count(b"<row ") + block.count(b"<row>")
                        cells += block.count(b"<c ") + block.count(b"<c>")
                        if _FAR_COLUMN.search(block):
                            raise WorkbookError(
                                _(
                                    "The worksheet has cells beyond column ZZ; "
                                    "no import of the portal has that many "
                                    "columns."
                                )
                            )
                    if cells > limits.max_cells:
                        raise WorkbookError(
                            _(
                                "The workbook has more than %(limit)s cells; save "
                                "it as CSV, or split it."
                            )
                            % {"limit": numbers.number(limits.max_cells)}
                        )
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise WorkbookError(_("The Excel workbook cannot be opened.")) from exc
    return XlsxSize(total, rows, cells)


def _xml_blocks(part: IO[bytes], longest: int) -> Iterator[bytes]:
    """The part in blocks of about SCAN_CHUNK bytes, each cut just before a
    ``<``: no tag is split between two blocks, so counting tags and measuring
    the text between them works block by block."""
    pending = b""
    while chunk := part.read(SCAN_CHUNK):
        buffer = pending + chunk
        cut = buffer.rfind(b"<")
        if cut <= 0:
            pending = buffer
            if len(pending) > longest:
                yield pending  # text longer than any cell: the caller refuses it
                pending = b""
            continue
        pending = buffer[cut:]
        yield buffer[:cut]
    if pending:
        yield pending


def long_cell_message(limits: XlsxLimits) -> str:
    return _(
        "A cell holds more than %(limit)s characters, the most a cell may "
        "hold; the file is refused."
    ) % {"limit": numbers.number(limits.max_cell_chars)}


class BoundedImportForm(import_forms.ImportForm):
    """The admin's import form: an XLSX is checked against the bounds before
    django-import-export hands it to openpyxl, which holds it whole."""

    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        if upload.read(4) == b"PK\x03\x04":
            upload.seek(0)
            try:
                xlsx_size(upload, XlsxLimits.from_settings())
            except WorkbookError as exc:
                raise forms.ValidationError(str(exc)) from exc
        upload.seek(0)
        return upload


# --- import-export widgets every spreadsheet import shares ---

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
