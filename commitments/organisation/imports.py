"""Units and heads in bulk, outside the admin: the import_units and
import_heads commands and the bulk upsert of /api/v1/units/ and /api/v1/heads/.

One path for the three doors and the admin's: the rows go through the admin's
own resources (resources.py), so the columns and the checks are the same
(unknown parent or unit code, a code twice in the file, overlapping tenures of
two heads, a date that is not dd/mm/yyyy or ISO). A file is all or nothing:
one transaction, rolled back when any row is rejected, and always on a dry
run. Rows are numbered from the first row below the header (row 1), as in
every import door (docs/decisions.md)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from import_export.formats import base_formats
from import_export.resources import ModelResource
from import_export.results import RowResult

from cchc_portal.spreadsheets import LEFT_OUT, WorkbookError, XlsxLimits, xlsx_size
from commitments.organisation.access import may_write_organisation
from commitments.organisation.resources import HeadResource, UnitResource

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of file, as the admin exports them."""

    resource: type[ModelResource]
    columns: tuple[str, ...]
    required: tuple[str, ...]


UNITS = Layout(
    UnitResource,
    columns=(
        "code",
        "name",
        "kind",
        "parent_code",
        "ranking_group",
        "valid_from",
        "valid_to",
        "predecessor_codes",
    ),
    # valid_from too for a new unit, checked on its row (resources.py).
    required=("code", "name", "kind"),
)
HEADS = Layout(
    HeadResource,
    columns=("unit_code", "full_name", "title", "position", "tenure_from", "tenure_to"),
    required=("unit_code", "full_name", "position", "tenure_from"),
)


class FileRefused(ValueError):
    """Nothing could be read: the file, its header or its format is at fault."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ImportReport:
    dry_run: bool
    rows_total: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    errors: list[RowProblem] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len({error.row for error in self.errors})

    @property
    def written(self) -> bool:
        return not self.dry_run and not self.errors


# --- reading ---------------------------------------------------------------------


def dataset_from_file(content: bytes, *, layout: Layout) -> tablib.Dataset:
    """A CSV (UTF-8, with or without BOM) or XLSX file as a dataset, its
    header checked against the layout; FileRefused saying why."""
    try:
        if content.startswith(XLSX_MAGIC):
            try:
                xlsx_size(io.BytesIO(content), XlsxLimits.from_settings())
            except WorkbookError as exc:
                raise FileRefused(str(exc)) from exc
            dataset = base_formats.XLSX().create_dataset(content)
        else:
            text = content.decode("utf-8-sig")
            if not text.strip():
                raise FileRefused(_("The file is empty."))
            dataset = base_formats.CSV().create_dataset(text)
    except UnicodeDecodeError as exc:
        raise FileRefused(
            _("The file is neither an Excel workbook nor a UTF-8 CSV file.")
        ) from exc
    except FileRefused:
        raise
    except Exception as exc:  # tablib and openpyxl raise what they meet
        raise FileRefused(
            _("The file cannot be read as CSV or XLSX: %(error)s") % {"error": exc}
        ) from exc
    dataset.headers = [str(name or "").strip() for name in dataset.headers or []]
    while len(dataset) and all(_blank(value) for value in dataset[-1]):
        del dataset[-1]  # trailing empty rows, as a workbook often has
    check_columns(dataset.headers, layout=layout)
    return dataset


def dataset_from_records(
    records: Sequence[Mapping[str, Any]], *, layout: Layout
) -> tablib.Dataset:
    """Records (the API's rows, already typed by its serializer) as the
    cells a file would hold: every column of the layout, in its order. A
    property a record leaves out is LEFT_OUT, which keeps the stored value
    as a column absent from a file does; null or "" empties it."""
    dataset = tablib.Dataset(headers=list(layout.columns))
    for record in records:
        dataset.append(
            [
                _cell(record[column]) if column in record else LEFT_OUT
                for column in layout.columns
            ]
        )
    return dataset


def check_columns(headers: Iterable[str], *, layout: Layout) -> None:
    present = [name for name in headers if name]
    unknown = [name for name in present if name not in layout.columns]
    if unknown:
        raise FileRefused(
            _("Unknown column(s): %(unknown)s. The columns are: %(columns)s.")
            % {"unknown": ", ".join(unknown), "columns": ", ".join(layout.columns)}
        )
    missing = [name for name in layout.required if name not in present]
    if missing:
        raise FileRefused(
            _("Missing column(s): %(columns)s. The first row must name the columns.")
            % {"columns": ", ".join(missing)}
        )
    repeated = sorted({name for name in present if present.count(name) > 1})
    if repeated:
        raise FileRefused(
            _("Column(s) named twice: %(columns)s.") % {"columns": ", ".join(repeated)}
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- writing ---------------------------------------------------------------------


def units_import(
    *, user: AnyUser | None, dataset: tablib.Dataset, dry_run: bool
) -> ImportReport:
    """Create or update the units of ``dataset`` (keyed by code), all or none.
    ``user`` None is the command's own act (the server's administrator)."""
    return _import(user=user, dataset=dataset, dry_run=dry_run, layout=UNITS)


def heads_import(
    *, user: AnyUser | None, dataset: tablib.Dataset, dry_run: bool
) -> ImportReport:
    """Record the tenures of ``dataset`` (keyed by unit, person, position and
    start), all or none."""
    return _import(user=user, dataset=dataset, dry_run=dry_run, layout=HEADS)


def _import(
    *,
    user: AnyUser | None,
    dataset: tablib.Dataset,
    dry_run: bool,
    layout: Layout,
) -> ImportReport:
    if user is not None and not may_write_organisation(user):
        raise PermissionDenied(_("Only administrators may change units and heads."))
    check_columns(dataset.headers or [], layout=layout)
    resource = layout.resource()
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        result = resource.import_data(
            dataset, dry_run=dry_run, raise_errors=False, use_transactions=True
        )
        report.rows_total = result.total_rows
        report.errors = _problems(result, resource, dataset)
        if result.base_errors:
            raise FileRefused("; ".join(str(e.error) for e in result.base_errors))
        if not report.errors:
            report.rows_new = result.totals[RowResult.IMPORT_TYPE_NEW]
            report.rows_updated = result.totals[RowResult.IMPORT_TYPE_UPDATE]
            report.rows_unchanged = result.totals[RowResult.IMPORT_TYPE_SKIP]
        if dry_run or report.errors:
            transaction.set_rollback(True)
    return report


def _problems(
    result: Any, resource: ModelResource, dataset: tablib.Dataset
) -> list[RowProblem]:
    """Every rejected row's problems, by row and then column: a field's
    error under its column's name, a row's own under an empty column."""
    columns = {name: field.column_name for name, field in resource.fields.items()} | {
        NON_FIELD_ERRORS: ""
    }
    headers = list(dataset.headers or [])
    problems: list[RowProblem] = []
    for invalid in result.invalid_rows:
        cells = dataset[invalid.number - 1]
        for name, messages in invalid.error_dict.items():
            column = columns.get(name, name)
            value = cells[headers.index(column)] if column in headers else ""
            problems.extend(
                RowProblem(invalid.number, column, _text(value), str(message))
                for message in messages
            )
    for number, errors in result.row_errors():
        problems.extend(
            RowProblem(number, "", "", str(error.error)) for error in errors
        )
    return sorted(problems, key=lambda problem: (problem.row, problem.column))


def _text(value: Any) -> str:
    if value is None or value is LEFT_OUT:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)
