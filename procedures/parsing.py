"""Reading the case-record interchange format (DOMAIN.md section 7): CSV or XLSX,
English headers or the Vietnamese aliases, dates ISO or dd/mm/yyyy in local time.

Plain functions over strings: no ORM. The importer feeds them one row at a time,
so memory does not grow with the file."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from cchc_portal import numbers, spreadsheets
from cchc_portal.spreadsheets import WorkbookError, XlsxLimits, XlsxSize
from procedures.models import Channel, DossierStatus, Satisfaction

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
_CODE_WIDTH, _PROCEDURE_WIDTH, _UNIT_WIDTH, _OFFICER_WIDTH = TEXT_WIDTHS.values()
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
    **{status.value: status.value for status in DossierStatus},
    "received": DossierStatus.RECEIVED.value,
    "processing": DossierStatus.PROCESSING.value,
    "waiting": DossierStatus.WAITING.value,
    "finished": DossierStatus.FINISHED.value,
    "returned": DossierStatus.RETURNED.value,
    "rejected": DossierStatus.REJECTED.value,
    "withdrawn": DossierStatus.WITHDRAWN.value,
}
CHANNEL_VALUES = {channel.value: channel.value for channel in Channel}
SATISFACTION_VALUES = {"": "", **{s.value: s.value for s in Satisfaction}}
TRUE_VALUES = frozenset({"1", "có", "co", "true", "yes", "x"})
FALSE_VALUES = frozenset({"0", "không", "khong", "false", "no", ""})
CLOSED = frozenset(
    {DossierStatus.FINISHED, DossierStatus.RETURNED, DossierStatus.REJECTED}
)


class FileError(ValueError):
    """The file as a whole cannot be read: nothing of it is imported."""


class CellError(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


class ParsedCase(NamedTuple):
    case_code: str
    procedure_code: str
    unit_code: str
    # UTC text, see utc_text
    received_at: str
    due_at: str
    finished_at: str | None
    status: str
    channel: str
    digitized: bool
    fee_required: bool
    paid_online: bool
    supplement_requests: int
    satisfaction: str
    complaint: bool
    officer: str


def iter_table(
    stream: IO[bytes], file_name: str = "", *, limits: XlsxLimits | None = None
) -> Iterator[list[str]]:
    """Rows of a CSV or XLSX file as lists of strings, header first.

    XLSX is recognised by its content (a zip with a workbook), not its name,
    and read only when it stays within ``limits`` (by default the settings'),
    see xlsx_size."""
    head = stream.read(4)
    stream.seek(0)
    if head == b"PK\x03\x04":
        yield from _iter_xlsx(stream, limits)
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


def xlsx_size(stream: IO[bytes], limits: XlsxLimits) -> XlsxSize:
    """cchc_portal.spreadsheets.xlsx_size, refusing as a FileError."""
    try:
        return spreadsheets.xlsx_size(stream, limits)
    except WorkbookError as exc:
        raise FileError(str(exc)) from exc


def _iter_xlsx(
    stream: IO[bytes], limits: XlsxLimits | None = None
) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    limits = limits or XlsxLimits.from_settings()
    xlsx_size(stream, limits)
    stream.seek(0)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileError(_("The Excel workbook cannot be opened.")) from exc
    try:
        sheet = workbook.worksheets[0]
        # The declared dimension would pad every row to its width, or cut
        # cells beyond it: read the rows as they are written.
        sheet.reset_dimensions()
        longest = limits.max_cell_chars
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(value) for value in values]
            if any(len(cell) > longest for cell in cells):
                raise FileError(spreadsheets.long_cell_message(limits))
            yield cells
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


# --- UTC text -------------------------------------------------------------------
#
# The importer handles a million rows a minute, so a row's dates do not become
# datetime objects: they become the UTC text that both databases read
# ("YYYY-MM-DD HH:MM:SS", what Django stores on SQLite and what PostgreSQL reads
# in the connection's UTC time zone). Text in one form compares as the moments
# do, which is all the checks below need. Calendar days and clock times repeat
# across rows, so each is checked once and remembered. Vietnam has kept UTC+7
# without daylight saving since 1975; any other offset, an explicit offset or
# fractions of a second go through parse_datetime.

UTC_OFFSET_HOURS = 7
_FAST_SINCE_YEAR = 1976
_CACHE_LIMIT = 200_000
# local "YYYY-MM-DD" → (that day, the day before), or None: not a date.
_days: dict[str, tuple[str, str] | None] = {}
# "HH:MM[:SS]" → (on the day before in UTC?, "HH:MM:SS" in UTC), or None.
_clocks: dict[str, tuple[bool, str] | None] = {}


def _day(year: str, month: str, day: str) -> tuple[str, str] | None:
    key = f"{year}-{month}-{day}"
    if key in _days:
        return _days[key]
    found: tuple[str, str] | None = None
    if year.isdigit() and month.isdigit() and day.isdigit():
        try:
            local = date(int(year), int(month), int(day))
        except ValueError:
            local = None
        if local is not None and local.year >= _FAST_SINCE_YEAR:
            found = (local.isoformat(), (local - timedelta(days=1)).isoformat())
    if len(_days) > _CACHE_LIMIT:
        _days.clear()
    _days[key] = found
    return found


def _clock(text: str) -> tuple[bool, str] | None:
    if text in _clocks:
        return _clocks[text]
    found: tuple[bool, str] | None = None
    parts = text.split(":") if text else ["0", "0"]
    if len(parts) in (2, 3) and all(p.isdigit() and len(p) <= 2 for p in parts):
        hour, minute, second = (*(int(p) for p in parts), 0)[:3]
        if hour < 24 and minute < 60 and second < 60:
            utc_hour = hour - UTC_OFFSET_HOURS
            found = (
                utc_hour < 0,
                f"{utc_hour % 24:02d}:{minute:02d}:{second:02d}",
            )
    if len(_clocks) > _CACHE_LIMIT:
        _clocks.clear()
    _clocks[text] = found
    return found


def utc_text(value: str) -> str:
    """A date as the case table stores it in UTC: "YYYY-MM-DD HH:MM:SS" (with
    ".ffffff" when it has fractions of a second). ValueError if not a date."""
    value = value.strip()
    days = clock = None
    if len(value) >= 10 and value[2] == "/" and value[5] == "/":
        days = _day(value[6:10], value[3:5], value[0:2])
        rest = value[10:]
        if days is not None and (not rest or rest[0] == " "):
            clock = _clock(rest.strip())
    elif len(value) >= 10 and value[4] == "-" and value[7] == "-":
        days = _day(value[0:4], value[5:7], value[8:10])
        rest = value[10:]
        if days is not None and (not rest or rest[0] in " T"):
            clock = _clock(rest[1:])
    if days is not None and clock is not None:
        day_before, time_text = clock
        return f"{days[1] if day_before else days[0]} {time_text}"
    moment = parse_datetime(value).astimezone(UTC).replace(tzinfo=None)
    return str(moment)


class RowParser:
    """Data rows → ParsedCase, or CellError naming the column at fault. Built
    once per file from its header positions: a million rows go through parse."""

    def __init__(self, positions: dict[str, int]) -> None:
        self.positions = positions
        # Canonical column order; -1 for a column the file does not have.
        self.index = [positions.get(column, -1) for column in COLUMNS]

    def parse(self, cells: list[str]) -> ParsedCase:
        size = len(cells)
        (
            case_code,
            procedure_code,
            unit_code,
            received_text,
            due_text,
            finished_text,
            status_text,
            channel_text,
            digitized_text,
            fee_text,
            paid_text,
            requests_text,
            satisfaction_text,
            complaint_text,
            officer,
        ) = [cells[i].strip() if 0 <= i < size else "" for i in self.index]
        if not (case_code and procedure_code and unit_code):
            column = next(
                column
                for column, value in (
                    ("case_code", case_code),
                    ("procedure_code", procedure_code),
                    ("unit_code", unit_code),
                )
                if not value
            )
            raise CellError(column, _("This column is required."))
        if (
            len(case_code) > _CODE_WIDTH
            or len(procedure_code) > _PROCEDURE_WIDTH
            or len(unit_code) > _UNIT_WIDTH
            or len(officer) > _OFFICER_WIDTH
        ):
            for column, value in (
                ("case_code", case_code),
                ("procedure_code", procedure_code),
                ("unit_code", unit_code),
                ("officer", officer),
            ):
                if len(value) > TEXT_WIDTHS[column]:
                    raise CellError(
                        column,
                        _("At most %(width)s characters (this value has %(length)s).")
                        % {"width": TEXT_WIDTHS[column], "length": len(value)},
                    )
        received_at = _when("received_at", received_text)
        due_at = _when("due_at", due_text)
        finished_at = _when("finished_at", finished_text) if finished_text else None
        status = _choice("status", status_text, STATUS_VALUES)
        if due_at < received_at:
            raise CellError("due_at", _("The due date is before the receipt date."))
        if finished_at is not None and finished_at < received_at:
            raise CellError(
                "finished_at", _("The finish date is before the receipt date.")
            )
        if finished_at is None and status in CLOSED:
            raise CellError(
                "finished_at",
                _("A finished, returned or rejected case needs its finish date."),
            )
        requests_text = requests_text or "0"
        if not (requests_text.isdigit() and int(requests_text) <= 32767):
            raise CellError(
                "supplement_requests",
                _("“%(value)s” is not a whole number from 0 to %(max)s.")
                % {"value": requests_text, "max": numbers.number(32767)},
            )
        return ParsedCase(
            case_code,
            procedure_code,
            unit_code,
            received_at,
            due_at,
            finished_at,
            status,
            _choice("channel", channel_text, CHANNEL_VALUES),
            _flag("digitized", digitized_text),
            _flag("fee_required", fee_text),
            _flag("paid_online", paid_text),
            int(requests_text),
            _choice("satisfaction", satisfaction_text, SATISFACTION_VALUES),
            _flag("complaint", complaint_text),
            officer,
        )


_local_months: dict[str, tuple[int, int]] = {}


def local_month(utc: str) -> tuple[int, int]:
    """(year, month) in local time of a moment in UTC text (utc_text)."""
    hour = utc[:13]
    found = _local_months.get(hour)
    if found is None:
        moment = datetime.fromisoformat(hour + ":00").replace(tzinfo=UTC)
        local = moment.astimezone(LOCAL_TZ)
        found = (local.year, local.month)
        if len(_local_months) > _CACHE_LIMIT:
            _local_months.clear()
        _local_months[hour] = found
    return found


def parse_row(cells: list[str], positions: dict[str, int]) -> ParsedCase:
    """One data row → ParsedCase (RowParser for many rows)."""
    return RowParser(positions).parse(cells)


def _when(column: str, value: str) -> str:
    if not value:
        raise CellError(column, _("This column is required."))
    try:
        return utc_text(value)
    except ValueError as exc:
        raise CellError(
            column,
            _("“%(value)s” is not a date; write dd/mm/yyyy HH:MM or ISO 8601.")
            % {"value": value},
        ) from exc


def _flag(column: str, value: str) -> bool:
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    lowered = value.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise CellError(column, _("“%(value)s” is not 1/0 (có/không).") % {"value": value})


def _choice(column: str, value: str, values: dict[str, str]) -> str:
    found = values.get(value)
    if found is None:
        found = values.get(value.lower())
    if found is not None:
        return found
    if not value and "" not in values:
        raise CellError(column, _("This column is required."))
    raise CellError(
        column,
        _("Unknown value “%(value)s”; expected one of: %(allowed)s.")
        % {"value": value, "allowed": ", ".join(sorted(set(values.values())))},
    )
