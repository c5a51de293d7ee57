"""A year's survey figures (issue 17, item 12): each unit's satisfaction rate
from the sociological survey (SIPAS) or the national public service portal's
rating, imported by Home Affairs from a spreadsheet.

The file (CSV or XLSX, read through procedures.parsing.iter_table: the
shared bounds on what a workbook may expand to) has a header row naming
three columns: the unit's code, the source (``sipas`` or ``portal``; the
Vietnamese names are accepted too) and the rate in percent (0–100, "87,5" or
"87.5"). The import is all or nothing: every error is named by row and
column and nothing is stored while one remains. A figure is stored once per
(year, unit, source); importing again replaces it.

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
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cchc_portal import numbers, spreadsheets
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


def _header(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        column = ALIASES.get(name.strip().lstrip("\ufeff").lower())
        if column is not None and column not in positions:
            positions[column] = index
    missing = [column for column in COLUMNS if column not in positions]
    if missing:
        raise ValidationError(
            _("Row 1: missing column(s) %(columns)s.") % {"columns": ", ".join(missing)}
        )
    return positions


def parse(stream: IO[bytes], file_name: str = "") -> list[tuple[int, str, str, str]]:
    """(row number, unit code, source, rate text) of every filled row; the
    file's own problems as a ValidationError."""
    try:
        rows = iter_table(stream, file_name)
        header = next(rows, None)
        if header is None:
            raise ValidationError(_("The file is empty."))
        positions = _header(header)
        found: list[tuple[int, str, str, str]] = []
        for number, cells in enumerate(rows, start=2):
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

            found.append((number, cell("unit_code"), cell("source"), cell("rate")))
    except FileError as exc:
        raise ValidationError(str(exc)) from exc
    return found


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
    module)."""
    if not access.is_reviewer(user):
        raise PermissionDenied
    rows = parse(stream, file_name)
    if not rows:
        raise ValidationError(_("The file has no figure."))
    units = {
        unit.code: unit
        for unit in Unit.objects.filter(code__in={code for _n, code, _s, _r in rows})
    }
    frameworks = {
        framework.unit_kind: framework
        for framework in Framework.objects.select_for_update().filter(year=year)
    }
    errors: list[str] = []
    seen: dict[tuple[int, str], int] = {}
    wanted: dict[tuple[int, str], Decimal] = {}
    refused_kinds: set[str] = set()
    for number, code, source_text, rate_text in rows:
        unit = units.get(code)
        source = SOURCES.get(source_text.lower())
        problems = []
        if any(
            text.startswith(FORMULA_STARTS) for text in (code, source_text, rate_text)
        ):
            problems.append(_("a formula is not a value: type the value itself."))
        if unit is None:
            problems.append(
                _("column unit_code: no unit has the code “%(code)s”.") % {"code": code}
            )
        if source is None:
            problems.append(
                _("column source: “%(value)s” is neither sipas nor portal.")
                % {"value": source_text}
            )
        try:
            rate = _rate(rate_text)
        except ValueError as exc:
            problems.append(_("column rate: %(error)s") % {"error": exc})
        if unit is not None:
            framework = frameworks.get(unit.kind)
            if framework is None:
                problems.append(
                    _(
                        "column unit_code: there is no %(year)d framework for "
                        "%(unit)s's kind."
                    )
                    % {"year": year, "unit": unit.name}
                )
            elif framework.state == FrameworkState.PUBLISHED:
                problems.append(
                    _(
                        "column unit_code: the %(year)d results of %(unit)s's "
                        "kind are published."
                    )
                    % {"year": year, "unit": unit.name}
                )
            elif not access.may_manage_framework(user, framework):
                refused_kinds.add(unit.kind)
        if unit is not None and source is not None:
            key = (unit.pk, source)
            if key in seen:
                problems.append(
                    _("the same unit and source as row %(row)d.") % {"row": seen[key]}
                )
            seen[key] = number
        if problems:
            errors += [
                _("Row %(row)d: %(problem)s") % {"row": number, "problem": problem}
                for problem in problems
            ]
        else:
            assert unit is not None
            assert source is not None
            wanted[(unit.pk, source)] = rate
    if refused_kinds:
        raise PermissionDenied(access.framework_refusal(sorted(refused_kinds)[0]))
    if errors:
        raise ValidationError(errors)
    existing = {
        (figure.unit_id, figure.source): figure
        for figure in SurveyFigure.objects.select_for_update().filter(
            year=year, unit_id__in={unit_id for unit_id, _s in wanted}
        )
    }
    created = replaced = 0
    for (unit_id, named), rate in wanted.items():
        figure = existing.get((unit_id, named))
        if figure is None:
            SurveyFigure.objects.create(
                year=year,
                unit_id=unit_id,
                source=named,
                rate=rate,
                imported_at=now,
                imported_by_id=user.pk,
            )
            created += 1
        else:
            figure.rate, figure.imported_at = rate, now
            figure.imported_by_id = user.pk
            figure.save(update_fields=["rate", "imported_at", "imported_by"])
            replaced += 1
    return Imported(created=created, replaced=replaced)
