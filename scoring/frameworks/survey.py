"""A year's survey figures (issue 17, item 12): each unit's satisfaction rate
from the sociological survey (SIPAS) or the national public service portal's
rating, imported by Home Affairs from a spreadsheet.

The file (CSV or XLSX, read through procedures.parsing.iter_table: the
shared bounds on what a workbook may expand to) has a header row naming
three columns: the unit's code, the source (``sipas`` or ``portal``; the
Vietnamese names are accepted too) and the rate in percent (0–100, "87,5" or
"87.5"). The import goes in two steps, as the other imports: the upload
shows a preview (``survey_figures_preview``: per row, the figure it adds or
the stored rate it replaces, or its errors, each named by its row, counted
from 1 below the header, and by the column as the file names it), the file
kept meanwhile (``upload_keep``); the confirmation imports it all or nothing
(``survey_figures_import``, which judges every row again against what is
stored then). A figure is stored once per (year, unit, source); importing
again replaces it, and a row with the rate already stored changes nothing.

Who: for every unit named, a reviewer who manages that year's framework of
its kind (access.may_manage_frameworks_of), and that framework not published
(its year's inputs are frozen with it).

The computation reads them (scoring.results.computation.survey_figures):
a unit's survey leaves earn its rate as a share of their maximum, SIPAS
before the portal; a commune's rate counts towards its district's
satisfaction bonus; without a figure the case records' estimate (the bonus)
or the reviewer's entry (the survey leaves) is used, and the explanation
says which."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import IO, TYPE_CHECKING
from uuid import uuid4

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from cchc_portal import numbers, spreadsheets
from cchc_portal.commands import row_error_line
from commitments.organisation.models import Unit
from procedures.parsing import FileError, iter_table
from scoring import access, rules
from scoring.models import Framework, FrameworkState, SurveyFigure, SurveySource

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

COLUMNS = {
    "unit_code": ("unit_code", "ma_don_vi", "mã đơn vị", "don_vi", "đơn vị"),
    "source": ("source", "nguon", "nguồn"),
    "rate": ("rate", "ty_le", "tỷ lệ", "tỷ lệ hài lòng", "ty_le_hai_long"),
}
ALIASES = {alias: column for column, names in COLUMNS.items() for alias in names}
SOURCES = {
    "sipas": SurveySource.SIPAS,
    "portal": SurveySource.PORTAL,
    "cong_dvc": SurveySource.PORTAL,
    "cổng dvc": SurveySource.PORTAL,
    "cổng dịch vụ công": SurveySource.PORTAL,
}
MAX_ROWS = 10_000
# What a spreadsheet runs as a formula (cchc_portal.spreadsheets), but for
# the signs a number may start with: a rate's range refuses those.
FORMULA_STARTS = tuple(
    start for start in spreadsheets.FORMULA_STARTS if start not in "+-"
)


@dataclass(frozen=True)
class Imported:
    created: int
    replaced: int
    # Rows naming a figure already stored with the same rate: left as stored.
    unchanged: int = 0


# The figure that feeds a unit's survey leaves when it has both.
PREFERENCE = (SurveySource.SIPAS, SurveySource.PORTAL)


@dataclass(frozen=True)
class Figure:
    """The imported figure a unit's survey leaves take their points from."""

    source: str
    rate: Decimal

    @property
    def source_label(self) -> str:
        return str(SurveySource(self.source).label)

    def points(self, maximum: Decimal) -> Decimal:
        return rules.survey_points(maximum, self.rate)


def figures_in_use(
    year: int, unit_ids: Iterable[int] | None = None
) -> dict[int, Figure]:
    """Each unit's figure of the year that feeds its survey leaves, SIPAS
    before the portal's rating (every unit with one, or those of
    ``unit_ids``). One query. A unit without one keeps the reviewer's entry
    on its survey leaves, which approval then asks for."""
    rows = SurveyFigure.objects.filter(year=year)
    if unit_ids is not None:
        rows = rows.filter(unit_id__in=list(unit_ids))
    found: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for unit_id, source, rate in rows.values_list("unit_id", "source", "rate"):
        found[unit_id][source] = rate
    return {
        unit_id: next(Figure(s, by[s]) for s in PREFERENCE if s in by)
        for unit_id, by in found.items()
    }


def figure_in_use(*, year: int, unit_id: int) -> Figure | None:
    return figures_in_use(year, [unit_id]).get(unit_id)


def _rate(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().rstrip("%").strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(_("“%(value)s” is not a number.") % {"value": text}) from exc
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ValueError(_("A rate is from 0 to 100."))
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(_("At most two decimals."))
    return value


def _header(header: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Each column's position, and its name as the file writes it."""
    positions: dict[str, int] = {}
    names: dict[str, str] = {}
    for index, name in enumerate(header):
        written = name.strip().lstrip("\ufeff")
        column = ALIASES.get(written.lower())
        if column is not None and column not in positions:
            positions[column] = index
            names[column] = written
    missing = [column for column in COLUMNS if column not in positions]
    if missing:
        raise ValidationError(
            _("The header row lacks the column(s) %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    return positions, names


@dataclass(frozen=True)
class Row:
    """A filled row of the file: its number (the n-th below the header,
    docs/decisions.md) and its cells as text."""

    number: int
    unit_code: str
    source: str
    rate: str


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    # Each column's name as the file writes it ("mã đơn vị" or "unit_code").
    names: dict[str, str]


def parse(stream: IO[bytes], file_name: str = "") -> Table:
    """Every filled row of the file; the file's own problems (unreadable, no
    header, a column missing, too many rows) as a ValidationError."""
    try:
        lines = iter_table(stream, file_name)
        header = next(lines, None)
        if header is None:
            raise ValidationError(_("The file is empty."))
        positions, names = _header(header)
        found: list[Row] = []
        for number, cells in enumerate(lines, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            if len(found) >= MAX_ROWS:
                raise ValidationError(
                    _("At most %(count)s rows in one file.")
                    % {"count": numbers.number(MAX_ROWS)}
                )

            def cell(column: str, cells: list[str] = cells) -> str:
                index = positions[column]
                return cells[index].strip() if index < len(cells) else ""

            found.append(Row(number, cell("unit_code"), cell("source"), cell("rate")))
    except FileError as exc:
        raise ValidationError(str(exc)) from exc
    if not found:
        raise ValidationError(_("The file has no figure."))
    return Table(found, names)


# --- the preview and the import ---------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    # The column at fault as the file names it; empty for the row as a whole.
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return row_error_line(
            row=self.row, column=self.column, value=self.value, message=self.message
        )


class Change(StrEnum):
    """What a row does to the stored figures."""

    NEW = "new"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PreviewRow:
    """What a row of the file would do: a new figure, one replacing the
    stored rate (``current``), or nothing new; or its errors."""

    number: int
    unit_code: str
    unit_name: str
    # The source's label (or the cell as written when it names none).
    source: str
    rate: Decimal | None
    change: Change | None
    current: Decimal | None
    errors: tuple[RowError, ...]
    # What the import writes: the unit and the source (a SurveySource).
    key: tuple[int, str] | None = None


@dataclass(frozen=True)
class Preview:
    year: int
    rows: list[PreviewRow]

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    def count(self, change: Change) -> int:
        return sum(1 for row in self.rows if row.change == change)

    @property
    def created(self) -> int:
        return self.count(Change.NEW)

    @property
    def replaced(self) -> int:
        return self.count(Change.REPLACED)

    @property
    def unchanged(self) -> int:
        return self.count(Change.UNCHANGED)


@dataclass
class _Judge:
    """Judges the rows of one file against what is stored, in order (a
    repeated unit and source names the first row that had it)."""

    user: AnyUser
    year: int
    names: dict[str, str]
    units: dict[str, Unit]
    frameworks: dict[str, Framework]
    existing: dict[tuple[int, str], SurveyFigure]
    seen: dict[tuple[int, str], int] = field(default_factory=dict)
    refused_kinds: set[str] = field(default_factory=set)

    def row(self, row: Row) -> PreviewRow:
        unit = self.units.get(row.unit_code)
        source = SOURCES.get(row.source.lower())
        errors: list[RowError] = []

        def error(name: str, value: str, message: str) -> None:
            errors.append(
                RowError(row.number, self.names.get(name, ""), value, message)
            )

        for name, value in (
            ("unit_code", row.unit_code),
            ("source", row.source),
            ("rate", row.rate),
        ):
            if value.startswith(FORMULA_STARTS):
                error(
                    name, value, _("a formula is not a value: type the value itself.")
                )
        if unit is None:
            error(
                "unit_code",
                row.unit_code,
                _("no unit has this code.")
                if row.unit_code
                else _("the code is empty."),
            )
        else:
            problem = self._framework_problem(unit)
            if problem:
                error("unit_code", row.unit_code, problem)
        if source is None:
            error("source", row.source, _("neither sipas nor portal."))
        rate: Decimal | None = None
        try:
            rate = _rate(row.rate)
        except ValueError as exc:
            error("rate", row.rate, str(exc))
        key = (unit.pk, source) if unit is not None and source is not None else None
        if key is not None:
            if key in self.seen:
                error(
                    "",
                    "",
                    _("the same unit and source as row %(row)d.")
                    % {"row": self.seen[key]},
                )
            self.seen.setdefault(key, row.number)
        figure = self.existing.get(key) if key is not None else None
        change = None
        if key is not None and not errors:
            change = (
                Change.NEW
                if figure is None
                else Change.UNCHANGED
                if figure.rate == rate
                else Change.REPLACED
            )
        return PreviewRow(
            number=row.number,
            unit_code=row.unit_code,
            unit_name=unit.name if unit is not None else "",
            source=str(SurveySource(source).label) if source else row.source,
            rate=rate,
            change=change,
            current=figure.rate if figure is not None else None,
            errors=tuple(errors),
            key=key if change is not None else None,
        )

    def _framework_problem(self, unit: Unit) -> str:
        """Why the unit's figure cannot be taken this year; a kind the user
        does not manage is noted, to refuse the whole file."""
        framework = self.frameworks.get(unit.kind)
        if framework is None:
            return _("there is no %(year)d framework for %(unit)s's kind.") % {
                "year": self.year,
                "unit": unit.name,
            }
        if framework.state == FrameworkState.PUBLISHED:
            return _("the %(year)d results of %(unit)s's kind are published.") % {
                "year": self.year,
                "unit": unit.name,
            }
        if not access.may_manage_framework(self.user, framework):
            self.refused_kinds.add(unit.kind)
        return ""


def _check(
    user: AnyUser, year: int, table: Table, *, lock: bool
) -> tuple[Preview, dict[tuple[int, str], SurveyFigure]]:
    """Every row judged against the stored units, frameworks and figures
    (locked for the import): the preview, and the stored figures the rows
    name. Refuses (PermissionDenied) a file naming a unit whose kind's
    framework the user does not manage."""
    if not access.is_reviewer(user):
        raise PermissionDenied
    units = {
        unit.code: unit
        for unit in Unit.objects.filter(code__in={row.unit_code for row in table.rows})
    }
    frameworks = Framework.objects.filter(year=year)
    stored = SurveyFigure.objects.filter(
        year=year, unit_id__in=[unit.pk for unit in units.values()]
    )
    if lock:
        frameworks = frameworks.select_for_update()
        stored = stored.select_for_update()
    judge = _Judge(
        user=user,
        year=year,
        names=table.names,
        units=units,
        frameworks={framework.unit_kind: framework for framework in frameworks},
        existing={(figure.unit_id, figure.source): figure for figure in stored},
    )
    judged = [judge.row(row) for row in table.rows]
    if judge.refused_kinds:
        raise PermissionDenied(access.framework_refusal(sorted(judge.refused_kinds)[0]))
    return Preview(year, judged), judge.existing


def survey_figures_preview(
    *, user: AnyUser, year: int, stream: IO[bytes], file_name: str = ""
) -> Preview:
    """What importing the file would do, row by row, with every row's
    errors; nothing is written. The file's own problems and the refusal of
    a unit's kind are raised as for the import."""
    return _check(user, year, parse(stream, file_name), lock=False)[0]


@transaction.atomic
def survey_figures_import(
    *,
    user: AnyUser,
    year: int,
    stream: IO[bytes],
    file_name: str = "",
    now: datetime,
) -> Imported:
    """Store the file's figures for ``year``, all or nothing (see the
    module): judged again as the preview does, against what is stored now,
    and refused whole (every row error) while one row has an error."""
    preview, existing = _check(user, year, parse(stream, file_name), lock=True)
    if preview.errors:
        raise ValidationError([str(error) for error in preview.errors])
    for row in preview.rows:
        assert row.rate is not None
        assert row.key is not None
        unit_id, source = row.key
        if row.change == Change.NEW:
            SurveyFigure.objects.create(
                year=year,
                unit_id=unit_id,
                source=source,
                rate=row.rate,
                imported_at=now,
                imported_by_id=user.pk,
            )
        elif row.change == Change.REPLACED:
            figure = existing[(unit_id, source)]
            figure.rate, figure.imported_at = row.rate, now
            figure.imported_by_id = user.pk
            figure.save(update_fields=["rate", "imported_at", "imported_by"])
    return Imported(
        created=preview.created,
        replaced=preview.replaced,
        unchanged=preview.unchanged,
    )


# --- the upload kept between the preview and the confirmation ---------------------

# Kept as the case import page keeps its uploads: in the portal's storage,
# under a name the server makes. The confirmation form carries a token
# signed with the portal's key that names the file, its year and who
# uploaded it, so no one else confirms it and no name can be forged.
UPLOAD_FOLDER = "survey-uploads"
UPLOAD_MAX_AGE = timedelta(days=1)
_SALT = "scoring.frameworks.survey.upload"


@dataclass(frozen=True)
class Kept:
    path: str
    year: int
    file_name: str

    def open(self) -> IO[bytes]:
        return default_storage.open(self.path, "rb")


def upload_keep(upload: File, *, user: AnyUser, year: int, now: datetime) -> str:
    """Keep the uploaded file until it is confirmed (or a day at most) and
    return the token that names it. Uploads left unconfirmed for longer are
    removed now."""
    _remove_stale(now)
    name = upload.name or ""
    extension = ".xlsx" if name.lower().endswith(".xlsx") else ".csv"
    upload.seek(0)
    path = default_storage.save(f"{UPLOAD_FOLDER}/{uuid4().hex}{extension}", upload)
    return signing.dumps(
        {"path": path, "year": year, "user": user.pk, "name": name[:255]}, salt=_SALT
    )


def upload_kept(token: str, *, user: AnyUser) -> Kept | None:
    """The upload the token names, when it is the user's, not older than a
    day and still kept; else None."""
    try:
        kept = signing.loads(token, salt=_SALT, max_age=UPLOAD_MAX_AGE)
    except signing.BadSignature:
        return None
    if kept.get("user") != user.pk or not default_storage.exists(kept["path"]):
        return None
    return Kept(path=kept["path"], year=kept["year"], file_name=kept["name"])


def upload_forget(kept: Kept) -> None:
    default_storage.delete(kept.path)


def _remove_stale(now: datetime) -> None:
    try:
        _folders, files = default_storage.listdir(UPLOAD_FOLDER)
    except FileNotFoundError:
        return
    for name in files:
        path = f"{UPLOAD_FOLDER}/{name}"
        if default_storage.get_modified_time(path) < now - UPLOAD_MAX_AGE:
            default_storage.delete(path)
