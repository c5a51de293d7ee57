"""Reading the case-record interchange format (DOMAIN.md section 7): CSV or XLSX,
English headers or the Vietnamese aliases, dates ISO or dd/mm/yyyy in local time.

Plain functions over strings: no ORM. The importer feeds them one row at a time,
so memory does not grow with the file."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from procedures.models import CaseStatus, Channel, Satisfaction

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# canonical column → accepted header names (compared case-insensitively)
COLUMNS: dict[str, tuple[str, ...]] = {
    "case_code": ("case_code", "ma_ho_so"),
    "procedure_code": ("procedure_code", "ma_thu_tuc"),
    "unit_code": ("unit_code", "ma_don_vi"),
    "received_at": ("received_at", "ngay_tiep_nhan"),
    "due_at": ("due_at", "ngay_hen_tra"),
    "finished_at": ("finished_at", "ngay_hoan_thanh"),
    "status": ("status", "trang_thai"),
    "channel": ("channel", "kenh"),
    "digitized": ("digitized", "so_hoa"),
    "fee_required": ("fee_required", "co_phi"),
    "paid_online": ("paid_online", "thanh_toan_truc_tuyen"),
    "supplement_requests": ("supplement_requests", "so_lan_bo_sung"),
    "satisfaction": ("satisfaction", "danh_gia"),
    "complaint": ("complaint", "phan_anh"),
    "officer": ("officer", "can_bo_xu_ly"),
}
# The widths of the text columns in the case table (procedures.models), checked
# here so that a long value is a row error, not a failed batch.
TEXT_WIDTHS = {"case_code": 100, "procedure_code": 50, "unit_code": 50, "officer": 200}
REQUIRED = (
    "case_code",
    "procedure_code",
    "unit_code",
    "received_at",
    "due_at",
    "status",
    "channel",
)
ALIASES = {alias: column for column, names in COLUMNS.items() for alias in names}

STATUS_VALUES = {
    **{status.value: status.value for status in CaseStatus},
    "received": CaseStatus.RECEIVED.value,
    "processing": CaseStatus.PROCESSING.value,
    "waiting": CaseStatus.WAITING.value,
    "finished": CaseStatus.FINISHED.value,
    "returned": CaseStatus.RETURNED.value,
    "rejected": CaseStatus.REJECTED.value,
    "withdrawn": CaseStatus.WITHDRAWN.value,
}
CHANNEL_VALUES = {channel.value: channel.value for channel in Channel}
SATISFACTION_VALUES = {"": "", **{s.value: s.value for s in Satisfaction}}
TRUE_VALUES = frozenset({"1", "có", "co", "true", "yes", "x"})
FALSE_VALUES = frozenset({"0", "không", "khong", "false", "no", ""})
CLOSED = frozenset({CaseStatus.FINISHED, CaseStatus.RETURNED, CaseStatus.REJECTED})


class FileError(ValueError):
    """The file as a whole cannot be read: nothing of it is imported."""


class CellError(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True, slots=True)
class ParsedCase:
    case_code: str
    procedure_code: str
    unit_code: str
    received_at: datetime
    due_at: datetime
    finished_at: datetime | None
    status: str
    channel: str
    digitized: bool
    fee_required: bool
    paid_online: bool
    supplement_requests: int
    satisfaction: str
    complaint: bool
    officer: str


def iter_table(stream: IO[bytes], file_name: str = "") -> Iterator[list[str]]:
    """Rows of a CSV or XLSX file as lists of strings, header first.

    XLSX is recognised by its content (a zip with a workbook), not its name."""
    head = stream.read(4)
    stream.seek(0)
    if head == b"PK\x03\x04":
        yield from _iter_xlsx(stream)
        return
    if not head:
        raise FileError(_("The file is empty."))
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        sample = text.read(64 * 1024)
    except UnicodeDecodeError as exc:
        raise FileError(
            _("The file is neither UTF-8 text (CSV) nor an Excel workbook (XLSX).")
        ) from exc
    delimiter = max(",;\t", key=lambda d: sample.split("\n", 1)[0].count(d))
    text.seek(0)
    try:
        yield from csv.reader(text, delimiter=delimiter)
    except UnicodeDecodeError as exc:
        raise FileError(_("The file is not valid UTF-8 text.")) from exc
    except csv.Error as exc:
        raise FileError(
            _("The CSV file cannot be read: %(error)s") % {"error": exc}
        ) from exc


def _iter_xlsx(stream: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileError(_("The Excel workbook cannot be opened.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def header_map(header: list[str]) -> dict[str, int]:
    """canonical column → index; refuses a header missing a required column."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        column = ALIASES.get(name.strip().lstrip("\ufeff").lower())
        if column is not None and column not in positions:
            positions[column] = index
    missing = [column for column in REQUIRED if column not in positions]
    if missing:
        raise FileError(
            _("Missing column(s): %(columns)s. The first row must name the columns.")
            % {"columns": ", ".join(f"{c} ({COLUMNS[c][1]})" for c in missing)}
        )
    return positions


def parse_datetime(value: str) -> datetime:
    """ISO 8601 (with or without offset) or dd/mm/yyyy[ HH:MM[:SS]], local time
    when no offset is given."""
    value = value.strip()
    if not value:
        raise ValueError("empty")
    if len(value) >= 10 and value[2] == "/" and value[5] == "/":
        day, month, year = int(value[0:2]), int(value[3:5]), int(value[6:10])
        clock = value[10:].strip()
        if clock:
            parts = [int(p) for p in clock.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError(value)
            hour, minute, second = (*parts, 0)[:3]
            moment = datetime(year, month, day, hour, minute, second)
        else:
            moment = datetime(year, month, day)
    else:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def parse_row(cells: list[str], positions: dict[str, int]) -> ParsedCase:
    """One data row → ParsedCase, or CellError naming the column at fault."""

    def cell(column: str) -> str:
        index = positions.get(column)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def required(column: str) -> str:
        value = cell(column)
        if not value:
            raise CellError(column, _("This column is required."))
        return value

    for column, width in TEXT_WIDTHS.items():
        if len(cell(column)) > width:
            raise CellError(
                column,
                _("At most %(width)s characters (this value has %(length)s).")
                % {"width": width, "length": len(cell(column))},
            )

    def when(column: str) -> datetime:
        value = required(column)
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise CellError(
                column,
                _("“%(value)s” is not a date; write dd/mm/yyyy HH:MM or ISO 8601.")
                % {"value": value},
            ) from exc

    def flag(column: str) -> bool:
        value = cell(column).lower()
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        raise CellError(
            column, _("“%(value)s” is not 1/0 (có/không).") % {"value": cell(column)}
        )

    def choice(column: str, values: dict[str, str]) -> str:
        value = cell(column)
        found = values.get(value.lower())
        if found is None:
            raise CellError(
                column,
                _("Unknown value “%(value)s”; expected one of: %(allowed)s.")
                % {"value": value, "allowed": ", ".join(sorted(set(values.values())))},
            )
        return found

    received_at = when("received_at")
    due_at = when("due_at")
    finished_at = when("finished_at") if cell("finished_at") else None
    status = choice("status", STATUS_VALUES) if cell("status") else required("status")
    if due_at < received_at:
        raise CellError("due_at", _("The due date is before the receipt date."))
    if finished_at is not None and finished_at < received_at:
        raise CellError("finished_at", _("The finish date is before the receipt date."))
    if status in CLOSED and finished_at is None:
        raise CellError(
            "finished_at",
            _("A finished, returned or rejected case needs its finish date."),
        )
    requests_text = cell("supplement_requests") or "0"
    try:
        supplement_requests = int(requests_text)
        if not 0 <= supplement_requests <= 32767:
            raise ValueError(requests_text)
    except ValueError as exc:
        raise CellError(
            "supplement_requests",
            _("“%(value)s” is not a whole number from 0 to 32767.")
            % {"value": requests_text},
        ) from exc
    return ParsedCase(
        case_code=required("case_code"),
        procedure_code=required("procedure_code"),
        unit_code=required("unit_code"),
        received_at=received_at,
        due_at=due_at,
        finished_at=finished_at,
        status=status,
        channel=choice("channel", CHANNEL_VALUES)
        if cell("channel")
        else required("channel"),
        digitized=flag("digitized"),
        fee_required=flag("fee_required"),
        paid_online=flag("paid_online"),
        supplement_requests=supplement_requests,
        satisfaction=choice("satisfaction", SATISFACTION_VALUES),
        complaint=flag("complaint"),
        officer=cell("officer"),
    )
