"""A framework as an Excel workbook (XLSX), read and written in one layout:
the export of a framework is the template of the import.

Three sheets, found by name (Vietnamese, or the English alias):

- "Chỉ số" (index): one row per item, one column per attribute. The parent
  of an item is read from its code ("1.2.3" is below "1.2").
- "Xếp loại" (tiers): code, label, the index the tier starts from.
- "Thông tin chung" (settings): one row per setting, its name in the first
  column and its value in the second.

Headers and setting names are compared without case or diacritics, so
"Điểm tối đa", "diem toi da" and "max_points" are the same column. Columns
may come in any order; columns the portal does not know are ignored.

The import is all or nothing: every problem is collected as (sheet, row,
column, message) and nothing is saved while one remains."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cchc_portal import numbers
from cchc_portal.formats.vi.formats import DATE_INPUT_FORMATS as DATE_FORMATS
from commitments.organisation.models import OfficeFunction, Unit, UnitKind
from procedures.figures import Rate
from scoring import access
from scoring.frameworks import services as frameworks
from scoring.frameworks.services import FrameworkData, NodeData, TierData, normalise
from scoring.models import (
    Framework,
    FrameworkState,
    Method,
    ScoringFunction,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from commitments.organisation.access import AnyUser


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as exported
    aliases: tuple[str, ...]
    required: bool
    width: int


def _column(
    key: str, header: str, *aliases: str, required: bool = False, width: int = 14
) -> Column:
    return Column(key, header, (normalise(header), key, *aliases), required, width)


TREE_SHEET = "Chỉ số"
TIERS_SHEET = "Xếp loại"
SETTINGS_SHEET = "Thông tin chung"
SHEET_ALIASES = {
    TREE_SHEET: ("chi_so", "bo_chi_so", "index", "tree", "nodes", "framework"),
    TIERS_SHEET: ("xep_loai", "tiers"),
    SETTINGS_SHEET: ("thong_tin_chung", "thong_tin", "settings"),
}

TREE_COLUMNS = (
    _column("code", "Mã", "ma", "ma_so", required=True, width=9),
    _column("level", "Cấp", "cap", required=True, width=14),
    _column("title", "Nội dung", "noi_dung", "ten", required=True, width=60),
    _column("max_points", "Điểm tối đa", "max_points", "diem", required=True, width=11),
    _column(
        "method", "Phương pháp chấm", "method", "phuong_phap", required=True, width=12
    ),
    _column("metric", "Số liệu sử dụng", "metric", width=20),
    _column("scoring", "Hàm tính điểm", "scoring", "scoring_function", width=12),
    _column(
        "scoring_params", "Tham số tính điểm", "scoring_params", "parameters", width=18
    ),
    _column(
        "evidence_required",
        "Yêu cầu tài liệu kiểm chứng",
        "evidence_required",
        "evidence",
        width=12,
    ),
    _column("guidance", "Hướng dẫn", "guidance", width=60),
    _column(
        "owner_unit", "Mã đơn vị chủ trì", "owner_unit_code", "owner_unit", width=14
    ),
    _column(
        "owner_kind",
        "Phòng chủ trì (theo chức năng)",
        "owner_kind",
        "owner_office",
        "phong_chu_tri",
        "chuc_nang_chu_tri",
        width=16,
    ),
)
TIER_COLUMNS = (
    _column("code", "Mã xếp loại", "ma", "tier", required=True, width=12),
    _column("label", "Tên xếp loại", "ten", "label", required=True, width=20),
    _column(
        "min_index",
        "Từ chỉ số",
        "tu",
        "min_index",
        "from_index",
        required=True,
        width=12,
    ),
)
SETTING_HEADER = ("Thông tin", "Giá trị")
SETTINGS = (
    _column("year", "Năm", "nam", required=True),
    _column("unit_kind", "Loại đơn vị", "loai_don_vi", "unit_kind", required=True),
    _column("name", "Tên bộ chỉ số", "ten", "name", required=True),
    _column("deadline", "Hạn tự đánh giá", "han", "deadline", required=True),
    _column("contest_days", "Số ngày được khiếu nại", "contest_days", required=True),
    _column(
        "reminder_days",
        "Nhắc trước hạn (ngày)",
        "nhac_truoc_han",
        "reminder_days",
        required=True,
    ),
)

# Values as exported (the models' codes) and the Vietnamese ways to write them.
LEVEL_VALUES = {
    "field": "field", "linh_vuc": "field",
    "criterion": "criterion", "tieu_chi": "criterion", "tc": "criterion",
    "subcriterion": "subcriterion", "sub_criterion": "subcriterion",
    "tieu_chi_thanh_phan": "subcriterion", "tctp": "subcriterion",
}  # fmt: skip
METHOD_VALUES = {
    "manual": Method.MANUAL, "tu_cham": Method.MANUAL, "tu_danh_gia": Method.MANUAL,
    "metric": Method.METRIC, "so_lieu": Method.METRIC,
    "survey": Method.SURVEY, "dieu_tra": Method.SURVEY,
    "dieu_tra_xa_hoi_hoc": Method.SURVEY,
}  # fmt: skip
METRIC_VALUES = {
    **{metric.value: metric.value for metric in Rate},
    "ty_le_dung_han": Rate.ON_TIME,
    "ty_le_truc_tuyen": Rate.ONLINE,
    "ty_le_truc_tuyen_toan_trinh": Rate.ONLINE_FULL,
    "ty_le_so_hoa": Rate.DIGITIZATION,
    "ty_le_thanh_toan_truc_tuyen": Rate.ONLINE_PAYMENT,
    "ty_le_hai_long": Rate.SATISFACTION,
}
SCORING_VALUES = {
    "linear": ScoringFunction.LINEAR, "tuyen_tinh": ScoringFunction.LINEAR,
    "banded": ScoringFunction.BANDED, "theo_muc": ScoringFunction.BANDED,
    "theo_nguong": ScoringFunction.BANDED,
}  # fmt: skip
UNIT_KIND_VALUES = {
    **{kind.value: kind.value for kind in UnitKind},
    "tinh": UnitKind.PROVINCE, "ubnd_tinh": UnitKind.PROVINCE,
    "so": UnitKind.DEPARTMENT, "so_ban_nganh": UnitKind.DEPARTMENT,
    "huyen": UnitKind.DISTRICT, "cap_huyen": UnitKind.DISTRICT,
    "phong": UnitKind.OFFICE, "phong_chuyen_mon": UnitKind.OFFICE,
    "xa": UnitKind.COMMUNE, "cap_xa": UnitKind.COMMUNE,
    "xa_phuong_thi_tran": UnitKind.COMMUNE,
    "chi_nhanh": UnitKind.BRANCH,
}  # fmt: skip
TRUE_VALUES = frozenset({"1", "co", "true", "yes", "x"})
FALSE_VALUES = frozenset({"0", "khong", "false", "no", ""})
YES, NO = "có", "không"
# Nobody writes a framework of this many rows; a larger sheet is a wrong file.
MAX_ROWS = 5000


@dataclass(frozen=True)
class CellError:
    """A problem of the workbook: ``row`` is the sheet's row number as Excel
    shows it (None for the sheet as a whole), ``column`` the header."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.sheet,
                _("row %(row)s") % {"row": self.row} if self.row else "",
                self.column,
            )
            if part
        )
        return f"{where}: {self.message}"


class WorkbookInvalid(Exception):
    def __init__(self, errors: Sequence[CellError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = list(errors)


# --- reading -------------------------------------------------------------------


# An owner office named by its function (OfficeFunction), as exported (the
# code), or as officials name the office in every district or commune.
OWNER_KIND_VALUES = {
    **{kind.value: kind.value for kind in OfficeFunction},
    "van_phong": OfficeFunction.OFFICE,
    "van_phong_hdnd_va_ubnd": OfficeFunction.OFFICE,
    "van_phong_hoi_dong_nhan_dan_va_uy_ban_nhan_dan": OfficeFunction.OFFICE,
    "noi_vu": OfficeFunction.HOME_AFFAIRS,
    "phong_noi_vu": OfficeFunction.HOME_AFFAIRS,
    "tu_phap": OfficeFunction.JUSTICE,
    "phong_tu_phap": OfficeFunction.JUSTICE,
    "tai_chinh": OfficeFunction.FINANCE,
    "tai_chinh_ke_hoach": OfficeFunction.FINANCE,
    "phong_tai_chinh_ke_hoach": OfficeFunction.FINANCE,
    "kinh_te": OfficeFunction.ECONOMY,
    "phong_kinh_te": OfficeFunction.ECONOMY,
    "kinh_te_ha_tang_va_do_thi": OfficeFunction.ECONOMY,
    "phong_kinh_te_ha_tang_va_do_thi": OfficeFunction.ECONOMY,
    "quan_ly_do_thi": OfficeFunction.ECONOMY,
    "phong_quan_ly_do_thi": OfficeFunction.ECONOMY,
    "nong_nghiep_va_moi_truong": OfficeFunction.AGRICULTURE,
    "phong_nong_nghiep_va_moi_truong": OfficeFunction.AGRICULTURE,
    "tai_nguyen_va_moi_truong": OfficeFunction.AGRICULTURE,
    "phong_tai_nguyen_va_moi_truong": OfficeFunction.AGRICULTURE,
    "van_hoa_xa_hoi": OfficeFunction.CULTURE,
    "phong_van_hoa_xa_hoi": OfficeFunction.CULTURE,
    "van_hoa_va_thong_tin": OfficeFunction.CULTURE,
    "phong_van_hoa_va_thong_tin": OfficeFunction.CULTURE,
    "giao_duc_va_dao_tao": OfficeFunction.EDUCATION,
    "phong_giao_duc_va_dao_tao": OfficeFunction.EDUCATION,
    "y_te": OfficeFunction.HEALTH,
    "phong_y_te": OfficeFunction.HEALTH,
    "thanh_tra": OfficeFunction.INSPECTORATE,
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


@dataclass
class _Sheet:
    name: str
    # header text as written, per canonical key
    headers: dict[str, str]
    positions: dict[str, int]
    rows: list[tuple[int, tuple[Any, ...]]]

    def cell(self, values: tuple[Any, ...], key: str) -> Any:
        index = self.positions.get(key)
        if index is None or index >= len(values):
            return None
        return values[index]

    def header(self, key: str, columns: Sequence[Column]) -> str:
        return self.headers.get(key) or next(c.header for c in columns if c.key == key)


class _Reader:
    def __init__(self) -> None:
        self.errors: list[CellError] = []

    def error(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.errors.append(CellError(sheet, row, column, message))

    # sheets

    def sheet(
        self, workbook: Any, canonical: str, columns: Sequence[Column]
    ) -> _Sheet | None:
        found = None
        for worksheet in workbook.worksheets:
            key = normalise(worksheet.title)
            if key == normalise(canonical) or key in SHEET_ALIASES[canonical]:
                found = worksheet
                break
        if found is None:
            self.error(
                canonical,
                None,
                "",
                _("The workbook has no sheet “%(sheet)s”.") % {"sheet": canonical},
            )
            return None
        rows = _rows(found)
        name = found.title
        header_row = next(rows, None)
        headers: dict[str, str] = {}
        positions: dict[str, int] = {}
        aliases = {alias: column for column in columns for alias in column.aliases}
        for index, value in enumerate(header_row[1] if header_row else ()):
            column = aliases.get(normalise(value))
            if column is not None and column.key not in positions:
                positions[column.key] = index
                headers[column.key] = _text(value)
        missing = [c for c in columns if c.required and c.key not in positions]
        for column in missing:
            self.error(
                name,
                header_row[0] if header_row else 1,
                column.header,
                _(
                    "The column “%(column)s” is missing: the first row names the "
                    "columns."
                )
                % {"column": column.header},
            )
        body = []
        for number, values in rows:
            if number > MAX_ROWS:
                self.error(
                    name,
                    number,
                    "",
                    _("The sheet has more than %(rows)s rows.")
                    % {"rows": numbers.number(MAX_ROWS)},
                )
                break
            body.append((number, values))
        if missing:
            return None
        return _Sheet(name, headers, positions, body)

    # values

    def choice(
        self,
        sheet: _Sheet,
        number: int,
        key: str,
        columns: Sequence[Column],
        value: Any,
        values: Mapping[str, str],
        what: str,
    ) -> str | None:
        text = normalise(value)
        if not text:
            return ""
        if text in values:
            return values[text]
        self.error(
            sheet.name,
            number,
            sheet.header(key, columns),
            _("“%(value)s” is not a valid %(what)s; write one of: %(values)s.")
            % {
                "value": _text(value),
                "what": what,
                "values": ", ".join(sorted(set(values.values()))),
            },
        )
        return None


def _rows(worksheet: Worksheet) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values) of the rows that hold anything."""
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if any(_text(value) for value in values):
            yield number, values


def read_workbook(stream: IO[bytes]) -> FrameworkData:
    """The framework a workbook holds; WorkbookInvalid with every problem."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise WorkbookInvalid(
            [CellError("", None, "", _("The file is not an Excel workbook (XLSX)."))]
        ) from exc
    try:
        reader = _Reader()
        settings = _read_settings(reader, workbook)
        tiers = _read_tiers(reader, workbook)
        nodes = _read_tree(reader, workbook)
    finally:
        workbook.close()
    if reader.errors or settings is None or tiers is None or nodes is None:
        raise WorkbookInvalid(reader.errors)
    return FrameworkData(tiers=tiers, nodes=nodes, **settings)


def _read_settings(reader: _Reader, workbook: Any) -> dict[str, Any] | None:
    header = (
        Column("setting", SETTING_HEADER[0], ("thong_tin", "setting"), True, 0),
        Column("value", SETTING_HEADER[1], ("gia_tri", "value"), True, 0),
    )
    sheet = reader.sheet(workbook, SETTINGS_SHEET, header)
    if sheet is None:
        return None
    value_header = sheet.header("value", header)
    aliases = {alias: column for column in SETTINGS for alias in column.aliases}
    found: dict[str, tuple[int, Any]] = {}
    for number, values in sheet.rows:
        column = aliases.get(normalise(sheet.cell(values, "setting")))
        if column is None:
            continue  # a note the official added: not a setting
        if column.key in found:
            reader.error(
                sheet.name,
                number,
                sheet.header("setting", header),
                _("“%(setting)s” is given twice (rows %(first)s and %(row)s).")
                % {
                    "setting": column.header,
                    "first": found[column.key][0],
                    "row": number,
                },
            )
            continue
        found[column.key] = (number, sheet.cell(values, "value"))
    errors_before = len(reader.errors)
    for column in SETTINGS:
        if column.key not in found:
            reader.error(
                sheet.name,
                None,
                sheet.header("setting", header),
                _("The setting “%(setting)s” is missing.") % {"setting": column.header},
            )
    if len(reader.errors) > errors_before:
        return None
    result: dict[str, Any] = {}

    def bad(key: str, message: str) -> None:
        reader.error(sheet.name, found[key][0], value_header, message)

    def label(key: str) -> str:
        return next(c.header for c in SETTINGS if c.key == key)

    number, raw = found["year"]
    year_text = _text(raw)
    if not year_text.isdigit() or not (
        frameworks.FIRST_YEAR <= int(year_text) <= frameworks.LAST_YEAR
    ):
        bad(
            "year",
            _("%(setting)s: “%(value)s” is not a year from %(first)s to %(last)s.")
            % {
                "setting": label("year"),
                "value": year_text,
                "first": frameworks.FIRST_YEAR,
                "last": frameworks.LAST_YEAR,
            },
        )
    else:
        result["year"] = int(year_text)
    kind = normalise(found["unit_kind"][1])
    if kind in UNIT_KIND_VALUES:
        result["unit_kind"] = UNIT_KIND_VALUES[kind]
    else:
        bad(
            "unit_kind",
            _(
                "%(setting)s: “%(value)s” is not a kind of unit; write one of: "
                "%(values)s."
            )
            % {
                "setting": label("unit_kind"),
                "value": _text(found["unit_kind"][1]),
                "values": ", ".join(UnitKind.values),
            },
        )
    name = _text(found["name"][1])
    if not name:
        bad("name", _("%(setting)s: give the name.") % {"setting": label("name")})
    elif len(name) > frameworks.NAME_WIDTH:
        bad(
            "name",
            _("%(setting)s: longer than %(width)s characters.")
            % {"setting": label("name"), "width": frameworks.NAME_WIDTH},
        )
    result["name"] = name
    raw_deadline = found["deadline"][1]
    if isinstance(raw_deadline, datetime):
        result["deadline"] = raw_deadline.date()
    elif isinstance(raw_deadline, date):
        result["deadline"] = raw_deadline
    elif not _text(raw_deadline):
        result["deadline"] = None
    else:
        parsed = _parse_date(_text(raw_deadline))
        if parsed is None:
            bad(
                "deadline",
                _("%(setting)s: “%(value)s” is not a date; write dd/mm/yyyy.")
                % {"setting": label("deadline"), "value": _text(raw_deadline)},
            )
        result["deadline"] = parsed
    days_text = _text(found["contest_days"][1])
    if not days_text.isdigit() or int(days_text) > 365:
        bad(
            "contest_days",
            _("%(setting)s: “%(value)s” is not a number of days from 0 to 365.")
            % {"setting": label("contest_days"), "value": days_text},
        )
    else:
        result["contest_days"] = int(days_text)
    try:
        result["reminder_days"] = frameworks.parse_reminder_days(
            found["reminder_days"][1]
        )
    except ValueError as exc:
        bad("reminder_days", f"{label('reminder_days')}: {exc}")
    if len(reader.errors) > errors_before:
        return None
    return result


def _parse_date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.split(" ")[0], pattern).date()
        except ValueError:
            continue
    return None


def _read_tiers(reader: _Reader, workbook: Any) -> list[TierData] | None:
    sheet = reader.sheet(workbook, TIERS_SHEET, TIER_COLUMNS)
    if sheet is None:
        return None
    errors_before = len(reader.errors)
    tiers: list[TierData] = []
    numbers: list[int] = []
    for number, values in sheet.rows:
        raw = sheet.cell(values, "min_index")
        try:
            min_index = Decimal(_text(raw).replace(",", "."))
            if not min_index.is_finite():
                raise ValueError
        except (ArithmeticError, ValueError):
            reader.error(
                sheet.name,
                number,
                sheet.header("min_index", TIER_COLUMNS),
                _("“%(value)s” is not a number.") % {"value": _text(raw)},
            )
            continue
        tiers.append(
            TierData(
                code=_text(sheet.cell(values, "code")),
                label=_text(sheet.cell(values, "label")),
                min_index=min_index,
            )
        )
        numbers.append(number)
    for index, key, message in frameworks.tier_errors(tiers):
        reader.error(
            sheet.name,
            numbers[index] if numbers else None,
            sheet.header(key, TIER_COLUMNS),
            message,
        )
    return None if len(reader.errors) > errors_before else tiers


def _read_tree(reader: _Reader, workbook: Any) -> list[NodeData] | None:
    sheet = reader.sheet(workbook, TREE_SHEET, TREE_COLUMNS)
    if sheet is None:
        return None
    errors_before = len(reader.errors)

    def header(key: str) -> str:
        return sheet.header(key, TREE_COLUMNS)

    def error(number: int, key: str, message: str) -> None:
        reader.error(sheet.name, number, header(key), message)

    # First pass: codes, to know the leaves and the duplicates.
    rows: list[tuple[int, str, tuple[Any, ...]]] = []
    first_row: dict[str, int] = {}
    for number, values in sheet.rows:
        code = _text(sheet.cell(values, "code"))
        problem = frameworks.code_error(code)
        if problem:
            error(number, "code", problem)
            continue
        if code in first_row:
            error(
                number,
                "code",
                _("The code %(code)s appears twice: rows %(first)s and %(row)s.")
                % {"code": code, "first": first_row[code], "row": number},
            )
            continue
        first_row[code] = number
        rows.append((number, code, values))
    if not rows and not reader.errors[errors_before:]:
        reader.error(sheet.name, None, "", _("The sheet lists no item."))
    parents = {frameworks.parent_code(code) for _n, code, _v in rows}
    owner_codes = {_text(sheet.cell(v, "owner_unit")) for _n, _c, v in rows} - {""}
    owners = {unit.code: unit for unit in Unit.objects.filter(code__in=owner_codes)}

    nodes: list[NodeData] = []
    row_of: dict[str, int] = {}
    for number, code, values in rows:
        ok = True
        level = reader.choice(
            sheet,
            number,
            "level",
            TREE_COLUMNS,
            sheet.cell(values, "level"),
            LEVEL_VALUES,
            _("item level"),
        )
        expected = frameworks.level_of(code)
        if level is None:
            ok = False
        elif level and level != expected:
            error(
                number,
                "level",
                _("%(code)s is a %(expected)s by its code, not a %(level)s.")
                % {
                    "code": code,
                    "expected": _level_label(expected),
                    "level": _level_label(level),
                },
            )
            ok = False
        try:
            max_points = frameworks.parse_points(sheet.cell(values, "max_points"))
        except ValueError as exc:
            error(number, "max_points", f"{code}: {exc}")
            ok = False
            max_points = Decimal(0)
        method = reader.choice(
            sheet,
            number,
            "method",
            TREE_COLUMNS,
            sheet.cell(values, "method"),
            METHOD_VALUES,
            _("scoring method"),
        )
        metric = reader.choice(
            sheet,
            number,
            "metric",
            TREE_COLUMNS,
            sheet.cell(values, "metric"),
            METRIC_VALUES,
            _("metric"),
        )
        scoring = reader.choice(
            sheet,
            number,
            "scoring",
            TREE_COLUMNS,
            sheet.cell(values, "scoring"),
            SCORING_VALUES,
            _("scoring function"),
        )
        if method is None or metric is None or scoring is None:
            ok = False
        params: dict[str, Any] = {}
        if scoring:
            try:
                params = frameworks.parse_scoring_params(
                    scoring, sheet.cell(values, "scoring_params")
                )
            except ValueError as exc:
                error(number, "scoring_params", f"{code}: {exc}")
                ok = False
        evidence_text = normalise(sheet.cell(values, "evidence_required"))
        if evidence_text not in TRUE_VALUES | FALSE_VALUES:
            error(
                number,
                "evidence_required",
                _("%(code)s: “%(value)s” is neither yes (có, 1) nor no (không, 0).")
                % {
                    "code": code,
                    "value": _text(sheet.cell(values, "evidence_required")),
                },
            )
            ok = False
        owner_code = _text(sheet.cell(values, "owner_unit"))
        owner = owners.get(owner_code)
        if owner_code and owner is None:
            error(
                number,
                "owner_unit",
                _("%(code)s: no unit has the code “%(unit)s”.")
                % {"code": code, "unit": owner_code},
            )
            ok = False
        owner_kind = reader.choice(
            sheet,
            number,
            "owner_kind",
            TREE_COLUMNS,
            sheet.cell(values, "owner_kind"),
            OWNER_KIND_VALUES,
            _("office function"),
        )
        if owner_kind is None:
            ok = False
        if not ok:
            continue
        data = NodeData(
            code=code,
            title=_text(sheet.cell(values, "title")),
            max_points=max_points,
            method=method or Method.MANUAL,
            metric=metric or "",
            scoring=scoring or "",
            scoring_params=params,
            evidence_required=evidence_text in TRUE_VALUES,
            guidance=_text(sheet.cell(values, "guidance")),
            owner_unit=owner,
            owner_kind=owner_kind or "",
        )
        problems = frameworks.node_errors(data, is_leaf=code not in parents)
        for key, message in problems.items():
            error(number, key, message)
        if problems:
            continue
        nodes.append(data)
        row_of[code] = number
    if len(reader.errors) > errors_before:
        # The sums are checked on a sheet whose rows are each right: a wrong
        # number would only add an error about its parent.
        return None
    for code, key, message in frameworks.tree_errors(nodes):
        error(row_of[code], key, message)
    return None if len(reader.errors) > errors_before else nodes


def _level_label(level: str) -> str:
    from scoring.models import NodeLevel

    return str(NodeLevel(level).label).lower()


def framework_import(
    *, user: AnyUser, stream: IO[bytes], replace: bool = False
) -> Framework:
    """Read the workbook and save its framework, all or nothing. With
    ``replace``, a draft of the same year and kind of unit is replaced.
    PermissionDenied, with the reason, when the user does not manage the
    frameworks of the workbook's kind of unit."""
    data = read_workbook(stream)
    access.check_manage_framework(user, year=data.year, unit_kind=data.unit_kind)
    existing = Framework.objects.filter(
        year=data.year, unit_kind=data.unit_kind
    ).first()
    if existing is not None:
        if not replace:
            message = _(
                "There is already a framework for %(kind)s in %(year)s: "
                "%(name)s. Tick “replace” to replace that draft."
            )
        elif existing.state != FrameworkState.DRAFT or existing.assessments.exists():
            message = _(
                "The framework %(name)s is %(state)s: only a draft can be "
                "replaced by an import."
            )
        else:
            message = ""
        if message:
            raise WorkbookInvalid(
                [
                    CellError(
                        SETTINGS_SHEET,
                        None,
                        SETTINGS[0].header,
                        message
                        % {
                            "kind": UnitKind(data.unit_kind).label,
                            "year": data.year,
                            "name": existing.name,
                            "state": existing.get_state_display().lower(),
                        },
                    )
                ]
            )
    try:
        return frameworks.framework_load(user=user, data=data, replace=replace)
    except ValidationError as exc:
        raise WorkbookInvalid(
            [CellError("", None, "", message) for message in exc.messages]
        ) from exc


# --- writing -------------------------------------------------------------------


def workbook_export(framework: Framework) -> bytes:
    """The framework in the layout read_workbook reads."""
    parents = set(
        framework.nodes.filter(parent__isnull=False).values_list("parent_id", flat=True)
    )
    rows = []
    for node in framework.nodes.select_related("owner_unit").order_by("position"):
        leaf = node.pk not in parents
        rows.append(
            [
                node.code,
                node.level,
                node.title,
                node.max_points,
                node.method if leaf else "",
                node.metric if leaf else "",
                node.scoring if leaf else "",
                frameworks.scoring_params_text(node.scoring, node.scoring_params)
                if leaf and node.scoring
                else "",
                (YES if node.evidence_required else NO) if leaf else "",
                node.guidance,
                node.owner_unit.code if node.owner_unit else "",
                node.owner_kind,
            ]
        )
    return _write(
        settings=(
            framework.year,
            framework.unit_kind,
            framework.name,
            framework.deadline.strftime("%d/%m/%Y") if framework.deadline else "",
            framework.contest_days,
            frameworks.reminder_days_text(framework.reminder_days or []),
        ),
        tiers=[
            [tier.code, tier.label, tier.min_index]
            for tier in framework.tiers.order_by("-min_index")
        ],
        nodes=rows,
    )


def template_export(*, year: int) -> bytes:
    """An empty framework to fill in: the settings of a commune framework of
    ``year`` (deadline 7 January of the next year) and the national tiers."""
    return _write(
        settings=(
            year,
            UnitKind.COMMUNE.value,
            f"Bộ chỉ số cải cách hành chính năm {year}",
            f"07/01/{year + 1}",
            10,
            "7; 2",
        ),
        tiers=[[code, label, floor] for code, label, floor in frameworks.DEFAULT_TIERS],
        nodes=[],
    )


def _write(
    *,
    settings: Sequence[Any],
    tiers: Sequence[Sequence[Any]],
    nodes: Sequence[Sequence[Any]],
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF1F5")
    wrap = Alignment(wrap_text=True, vertical="top")

    def sheet(title: str, columns: Sequence[Column]) -> Any:
        worksheet = book.create_sheet(title)
        worksheet.append([column.header for column in columns])
        for i, column in enumerate(columns, start=1):
            cell = worksheet.cell(row=1, column=i)
            cell.font, cell.fill, cell.alignment = bold, fill, wrap
            worksheet.column_dimensions[get_column_letter(i)].width = column.width
        worksheet.freeze_panes = "A2"
        return worksheet

    def append(worksheet: Any, values: Sequence[Any]) -> None:
        worksheet.append(list(values))
        for cell in worksheet[worksheet.max_row]:
            # A text beginning with "=" is a formula to openpyxl (and Excel).
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
            cell.alignment = wrap

    book.remove(book.active)
    tree = sheet(TREE_SHEET, TREE_COLUMNS)
    # Codes are text: typed into a number column, "1.10" would become 1.1
    # and "1.2" a date in some locales.
    tree.column_dimensions["A"].number_format = "@"
    for row in nodes:
        append(tree, row)
        tree.cell(tree.max_row, 1).number_format = "@"
    tier_sheet = sheet(TIERS_SHEET, TIER_COLUMNS)
    for row in tiers:
        append(tier_sheet, row)
    settings_sheet = sheet(
        SETTINGS_SHEET,
        (
            Column("setting", SETTING_HEADER[0], (), True, 28),
            Column("value", SETTING_HEADER[1], (), True, 60),
        ),
    )
    for column, value in zip(SETTINGS, settings, strict=True):
        append(settings_sheet, [column.header, value])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_file_name(framework: Framework) -> str:
    return f"bo-chi-so-{framework.year}-{framework.unit_kind}.xlsx"
