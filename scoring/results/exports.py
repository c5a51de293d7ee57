"""The results as documents to send upward: the ranking table and a unit's
result, as an XLSX workbook laid out as Home Affairs files them and as PDF.

Builders: they take plain dataclasses (filled by scoring.results.export_views
from what the results pages show) and return bytes; no query and no clock.
A PDF is kept in the cache by the digest of its page (the same page, the same
document), so the same table is laid out once, not at every download.
Like the printable commitment (commitments.printing) the documents are
Vietnamese whatever the reader's language: issuing body and national motto
at the top (Nghị định 30/2020/NĐ-CP), title, table, place and date,
signatures.

Every text cell of a workbook that a spreadsheet would read as a formula
(it begins with = + - @, a tab or a carriage return) is written with a
leading apostrophe (OWASP "CSV injection"): unit names and rule titles come
from users."""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.crypto import salted_hmac

# The one guard of every spreadsheet (FORMULA_STARTS is read by the tests).
from cchc_portal.spreadsheets import FORMULA_STARTS as FORMULA_STARTS
from cchc_portal.spreadsheets import formula_safe

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

RANKING_TEMPLATE = "scoring/exports/ranking.html"
UNIT_TEMPLATE = "scoring/exports/unit.html"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
PREPARER = "NGƯỜI LẬP BIỂU"
DIRECTOR = "GIÁM ĐỐC"
PREPARER_NOTE = "(Ký, ghi rõ họ tên)"
DIRECTOR_NOTE = "(Ký tên, đóng dấu)"
# Empty rows left for the handwritten signatures.
SIGNATURE_ROWS = 4
TWO_DECIMALS = "0.00"
SIGNED_DECIMALS = "+0.00;-0.00;0.00"
SIGNED_INTEGER = "+0;-0;0"


@dataclass(frozen=True)
class Heading:
    """Who issues the document and where and when it is dated."""

    issuer_parent: str  # "UBND TỈNH HẢI DƯƠNG"
    issuer: str  # "SỞ NỘI VỤ"
    date_line: str  # "Hải Dương, ngày 05 tháng 02 năm 2026"


@dataclass(frozen=True)
class RankingRow:
    rank: int | None
    unit_code: str
    unit_name: str
    approved: bool
    index: Decimal | None
    tier: str
    tier_label: str
    fields: list[Decimal | None]
    rank_change: int | None
    index_change: Decimal | None

    @property
    def tier_text(self) -> str:
        return tier_text(self.tier, self.tier_label)


@dataclass(frozen=True)
class TableGroup:
    """One ranking group: its own ranks and field columns (code, title)."""

    name: str
    fields: list[tuple[str, str]]
    rows: list[RankingRow]

    @property
    def widths(self) -> list[str]:
        """The PDF table's column widths, in percent (ranking_pdf)."""
        return column_widths(self)


@dataclass(frozen=True)
class Ranking:
    year: int
    # "Kết quả chính thức – công bố lần 1 ngày 05/02/2026", or provisional.
    status: str
    checksum: str
    groups: list[TableGroup]
    provisional: bool = False
    # The day a published ranking was published: its documents are dated
    # then, so that they are the same whenever downloaded (laid out once
    # per publication, _pdf). None: provisional, dated the day of download.
    published_on: date | None = None

    @property
    def title(self) -> str:
        return f"BẢNG XẾP HẠNG CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {self.year}"


@dataclass(frozen=True)
class UnitLine:
    code: str
    title: str
    depth: int
    is_leaf: bool
    maximum: Decimal
    method: str
    self_score: Decimal | None
    appraised: Decimal | None
    points: Decimal


@dataclass(frozen=True)
class UnitResult:
    year: int
    unit_code: str
    unit_name: str
    framework_name: str
    status: str
    checksum: str
    lines: list[UnitLine]
    # (rule title, points counted) for each deduction or bonus rule.
    adjustments: list[tuple[str, Decimal]]
    obtained: Decimal
    adjustments_total: Decimal
    final: Decimal
    maximum: Decimal
    index: Decimal | None
    tier: str
    tier_label: str
    rank: int | None
    group: str
    group_size: int
    approved: bool = True
    provisional: bool = False
    published_on: date | None = None

    @property
    def title(self) -> str:
        return f"KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {self.year}"

    @property
    def tier_text(self) -> str:
        return tier_text(self.tier, self.tier_label)

    @property
    def rank_text(self) -> str:
        if self.rank is None:
            return "Chưa xếp hạng" + ("" if self.approved else " (chưa phê duyệt)")
        return f"{self.rank}/{self.group_size}" + (
            f" – {self.group}" if self.group else ""
        )

    def total_lines(self) -> list[tuple[str, Decimal | None, str]]:
        """(label, value, number format) of the lines under the table."""
        return [
            ("Điểm đạt được", self.obtained, TWO_DECIMALS),
            *[
                (f"Điểm cộng/trừ: {title}", points, SIGNED_DECIMALS)
                for title, points in self.adjustments
            ],
            ("Tổng điểm cộng/trừ", self.adjustments_total, SIGNED_DECIMALS),
            ("Tổng điểm", self.final, TWO_DECIMALS),
            ("Điểm tối đa", self.maximum, TWO_DECIMALS),
            ("Chỉ số CCHC", self.index, TWO_DECIMALS),
        ]


# The ranking PDF's table is laid out with fixed column widths (CSS
# table-layout: fixed): WeasyPrint's automatic layout measures every cell of
# a table before its first page (its narrowest and widest content), which at
# province scale is a tenth to a quarter of the document's time. The rank,
# unit, index and tier columns keep the widths the template always gave
# them; the rest (the fields, the changes, the note) share what is left as
# the automatic layout shared it: each as wide as its widest value or the
# longest word of its header. Lengths in em of the table's 11pt Times: a
# digit about 0.52 em, a bold header letter 0.6 (a capital 0.75); a cell's
# padding is 8pt.
FIRST_WIDTHS = ["5", "24", "8", "11"]
DIGIT_EM = 0.52
PADDING_EM = 0.85


def _header_em(word: str) -> float:
    return sum(0.75 if letter.isupper() else 0.6 for letter in word)


def _number_text(value: object, signed: bool = False) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}" if isinstance(value, Decimal) else str(value)
    return f"+{text}" if signed and value > 0 else text  # type: ignore[operator]


def column_widths(group: TableGroup) -> list[str]:
    """Percent widths of the ranking table's columns: rank, unit, index,
    tier, each field, rank change, index change, note."""

    def needed(label: str, values: list[str]) -> float:
        header = max((_header_em(word) for word in label.split()), default=0.0)
        widest = max((len(value) for value in values), default=0) * DIGIT_EM
        return max(header, widest) + PADDING_EM

    rows = group.rows
    rest = [
        *[
            needed(f"{code}. {title}", [_number_text(r.fields[n]) for r in rows])
            for n, (code, title) in enumerate(group.fields)
        ],
        needed("Thay đổi hạng", [_number_text(r.rank_change, True) for r in rows]),
        needed("Thay đổi chỉ số", [_number_text(r.index_change, True) for r in rows]),
        needed("Ghi chú", ["duyệt" for r in rows if not r.approved]),
    ]
    left = 100 - sum(map(float, FIRST_WIDTHS))
    return [*FIRST_WIDTHS, *(f"{left * width / sum(rest):.2f}" for width in rest)]


def tier_text(tier: str, label: str) -> str:
    if not tier:
        return ""
    return f"{tier} – {label}" if label else tier


def safe_text(value: str) -> str:
    """A text a spreadsheet shows as text, never runs as a formula."""
    return formula_safe(value)


# --- XLSX ------------------------------------------------------------------------


class _Sheet:
    """Writes one worksheet top to bottom: the heading block, the title, a
    bordered table, the signature block; sets widths and print setup."""

    def __init__(self, sheet: Worksheet, width: int) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.ws = sheet
        self.width = max(width, 4)
        self.row = 1
        thin = Side(style="thin")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.fill = PatternFill("solid", fgColor="D9D9D9")
        self.font = Font
        self.align = Alignment
        # The issuing body takes the left ~2/5, the motto the rest.
        self.split = max(2, (self.width * 2) // 5)

    def put(
        self,
        column: int,
        value: object,
        *,
        bold: bool = False,
        italic: bool = False,
        underline: bool = False,
        size: float = 12,
        align: str = "left",
        wrap: bool = False,
        indent: int = 0,
        number_format: str | None = None,
        bordered: bool = False,
    ) -> None:
        if isinstance(value, str):
            value = safe_text(value)
        cell = self.ws.cell(row=self.row, column=column, value=value)
        cell.font = self.font(
            name="Times New Roman",
            size=size,
            bold=bold,
            italic=italic,
            underline="single" if underline else None,
        )
        cell.alignment = self.align(
            horizontal=align, vertical="center", wrap_text=wrap, indent=indent
        )
        if number_format:
            cell.number_format = number_format
        if bordered:
            cell.border = self.border

    def span(self, first: int, last: int, value: str, **style: object) -> None:
        """A text across columns ``first``..``last`` of the current row."""
        self.put(first, value, **style)  # type: ignore[arg-type]
        if last > first:
            self.ws.merge_cells(
                start_row=self.row,
                start_column=first,
                end_row=self.row,
                end_column=last,
            )

    def next(self, rows: int = 1) -> None:
        self.row += rows

    def heading(self, heading: Heading) -> None:
        left, right = (1, self.split), (self.split + 1, self.width)
        self.span(*left, heading.issuer_parent, align="center")
        self.span(*right, NATION, bold=True, align="center")
        self.next()
        self.span(*left, heading.issuer, bold=True, underline=True, align="center")
        self.span(*right, MOTTO, bold=True, underline=True, align="center", size=13)
        self.next(2)

    def title(self, lines: list[str]) -> None:
        first, *rest = lines
        self.span(1, self.width, first, bold=True, size=14, align="center")
        self.ws.row_dimensions[self.row].height = 22
        for line in rest:
            self.next()
            self.span(1, self.width, line, italic=True, align="center")
        self.next(2)

    def header(self, labels: list[str]) -> int:
        for column, label in enumerate(labels, start=1):
            self.put(column, label, bold=True, align="center", wrap=True, bordered=True)
            self.ws.cell(row=self.row, column=column).fill = self.fill
        self.ws.row_dimensions[self.row].height = 45
        header = self.row
        self.next()
        return header

    def signatures(self, heading: Heading) -> None:
        self.next()
        left, right = (1, self.split), (self.split + 1, self.width)
        self.span(*right, heading.date_line, italic=True, align="center")
        self.next()
        self.span(*left, PREPARER, bold=True, align="center")
        self.span(*right, DIRECTOR, bold=True, align="center")
        self.next()
        self.span(*left, PREPARER_NOTE, italic=True, align="center")
        self.span(*right, DIRECTOR_NOTE, italic=True, align="center")
        self.next(SIGNATURE_ROWS + 1)

    def finish(self, widths: list[float], header: int, *, landscape: bool) -> None:
        from openpyxl.utils import get_column_letter

        for column, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(column)].width = width
        self.ws.freeze_panes = self.ws.cell(row=header + 1, column=1)
        self.ws.print_title_rows = f"{header}:{header}"
        setup = self.ws.page_setup
        setup.paperSize = self.ws.PAPERSIZE_A4
        setup.orientation = "landscape" if landscape else "portrait"
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_options.horizontalCentered = True
        margins = self.ws.page_margins
        margins.left, margins.right, margins.top, margins.bottom = 0.6, 0.4, 0.6, 0.6


def _sheet_title(name: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of
    []:*?/\\, unique in the workbook."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in name).strip("' ")
    base = (cleaned or "Bảng")[:28]
    title, n = base, 1
    while title.lower() in taken:
        n += 1
        title = f"{base[:26]} {n}"
    taken.add(title.lower())
    return title


def _workbook_bytes(workbook: object) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def ranking_xlsx(ranking: Ranking, heading: Heading) -> bytes:
    """One worksheet per ranking group (each its own ranks and fields), so
    that every sheet prints with its own repeated header row."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    groups = ranking.groups or [TableGroup("", [], [])]
    for group in groups:
        sheet = _Sheet(
            workbook.create_sheet(_sheet_title(group.name, taken)),
            width=7 + len(group.fields),
        )
        sheet.heading(heading)
        sheet.title(
            [
                ranking.title,
                *([f"Nhóm xếp hạng: {group.name}"] if group.name else []),
                ranking.status,
                *([f"Mã kiểm tra: {ranking.checksum}"] if ranking.checksum else []),
            ]
        )
        labels = [
            "Hạng",
            "Đơn vị",
            "Chỉ số CCHC",
            "Xếp loại",
            *[f"{code}. {title}" for code, title in group.fields],
            "Thay đổi hạng",
            "Thay đổi chỉ số",
            "Ghi chú",
        ]
        header = sheet.header(labels)
        for row in group.rows:
            cells: list[tuple[object, str | None, str]] = [
                (row.rank, "0", "center"),
                (row.unit_name, None, "left"),
                (row.index, TWO_DECIMALS, "right"),
                (row.tier_text, None, "left"),
                *[(value, TWO_DECIMALS, "right") for value in row.fields],
                (row.rank_change, SIGNED_INTEGER, "right"),
                (row.index_change, SIGNED_DECIMALS, "right"),
                ("" if row.approved else "Chưa phê duyệt", None, "left"),
            ]
            for column, (value, number_format, align) in enumerate(cells, start=1):
                sheet.put(
                    column,
                    value,
                    number_format=number_format,
                    align=align,
                    wrap=column == 2,
                    bordered=True,
                )
            sheet.next()
        sheet.signatures(heading)
        sheet.finish(
            [7, 38, 11, 16, *[13] * len(group.fields), 10, 11, 15],
            header,
            landscape=True,
        )
    return _workbook_bytes(workbook)


def unit_result_xlsx(result: UnitResult, heading: Heading) -> bytes:
    """The unit's explanation line by line, then the totals, index, tier
    and rank."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = _Sheet(workbook.active, width=7)
    sheet.ws.title = _sheet_title(result.unit_code, set())
    sheet.heading(heading)
    sheet.title(
        [
            result.title,
            f"Đơn vị: {result.unit_name}",
            f"Bộ chỉ số: {result.framework_name}",
            result.status,
            *([f"Mã kiểm tra: {result.checksum}"] if result.checksum else []),
        ]
    )
    header = sheet.header(
        [
            "Mã",
            "Nội dung",
            "Điểm tối đa",
            "Phương pháp",
            "Điểm tự chấm",
            "Điểm thẩm định",
            "Điểm đạt",
        ]
    )
    for line in result.lines:
        inner = not line.is_leaf
        cells: list[tuple[object, str | None, str]] = [
            (line.code, None, "left"),
            (line.title, None, "left"),
            (line.maximum, TWO_DECIMALS, "right"),
            (line.method if line.is_leaf else "", None, "left"),
            (line.self_score, TWO_DECIMALS, "right"),
            (line.appraised, TWO_DECIMALS, "right"),
            (line.points, TWO_DECIMALS, "right"),
        ]
        for column, (value, number_format, align) in enumerate(cells, start=1):
            sheet.put(
                column,
                value,
                bold=inner and line.depth == 0,
                number_format=number_format,
                align=align,
                wrap=column == 2,
                indent=line.depth if column == 2 else 0,
                bordered=True,
            )
        sheet.next()
    for label, value, number_format in result.total_lines():
        sheet.span(1, 6, label, bold=True, align="right", bordered=True)
        sheet.put(7, value, bold=True, number_format=number_format, bordered=True)
        sheet.next()
    for label, text in (("Xếp loại", result.tier_text), ("Xếp hạng", result.rank_text)):
        sheet.span(1, 6, label, bold=True, align="right", bordered=True)
        sheet.put(7, text, bold=True, align="right", bordered=True)
        sheet.next()
    sheet.signatures(heading)
    sheet.finish([9, 50, 10, 16, 10, 11, 10], header, landscape=False)
    return _workbook_bytes(workbook)


# --- PDF -------------------------------------------------------------------------


# A PDF is kept by the digest of the page it lays out: laying out a province's
# ranking takes WeasyPrint seconds, rendering the page a few milliseconds. The
# same content (the same results, heading and date, template and wording)
# gives the same document, so a kept one is never stale.
PDF_KEY = "exports:pdf:{}"
PDF_SECONDS = 30 * 24 * 3600


def _pdf(template: str, context: dict[str, object]) -> bytes:
    # floatformat writes a decimal comma in Vietnamese, whoever downloads.
    with translation.override("vi"):
        html = render_to_string(template, context)
    key = PDF_KEY.format(hashlib.sha256(html.encode()).hexdigest())
    kept = cache.get(key)
    if isinstance(kept, bytes):
        return kept
    # Imported here: WeasyPrint loads pango and its fonts, which only the PDF needs.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    cache.set(key, pdf, timeout=PDF_SECONDS)
    return pdf


PUBLISHED_KEY = "exports:published:{}"


@functools.cache
def _documents_digest() -> str:
    """The templates of the documents and this module (their wording): a
    change of either, deployed, is a new document."""
    # The Django backend's template knows the file it was read from.
    origin = get_template(RANKING_TEMPLATE).origin  # type: ignore[attr-defined]
    folder = Path(origin.name).parent
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(folder.glob("*.html")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def published_key(*made_of: object) -> str:
    """Where a published ranking's document (XLSX or PDF) is kept: under
    what it is made of (the publication, never changed; the group; the
    heading) and the documents' templates and wording, so that a download
    finds it before reading and laying out a province's rows (a PDF is also
    kept by the digest of its page, _pdf)."""
    parts = ":".join(map(str, (_documents_digest(), *made_of)))
    return PUBLISHED_KEY.format(hashlib.sha256(parts.encode()).hexdigest())


# The published documents are kept as files too (the default storage, under
# MEDIA_ROOT): the cache may evict a 2 MB PDF, or lose it with Redis, and
# laying it out again costs the next reader a minute and a half at province
# scale (scoring.results.documents lays them out at publication). A file is
# named by its key and never changes: the key is what it is made of. The name
# is keyed with SECRET_KEY too: what the key is made of is mostly printed on
# the document, and a media folder served as files (DEBUG's /media/, a proxy)
# must not hand it to someone not signed in who worked the name out.
PUBLISHED_FOLDER = "exports/published"


def _published_name(key: str) -> str:
    name = salted_hmac("exports.published", key, algorithm="sha256").hexdigest()
    return f"{PUBLISHED_FOLDER}/{name}"


def published_document(key: str) -> bytes | None:
    """The kept document, from the cache or else its file (put back in the
    cache for the next reader); None if it was never kept."""
    kept = cache.get(key)
    if isinstance(kept, bytes):
        return kept
    name = _published_name(key)
    try:
        with default_storage.open(name, "rb") as file:
            content: bytes = file.read()
    except FileNotFoundError:
        return None
    cache.set(key, content, timeout=PDF_SECONDS)
    return content


def published_document_kept(key: str) -> bool:
    """Is the document kept (its file written)? Without reading it."""
    return default_storage.exists(_published_name(key))


def published_document_keep(key: str, content: bytes) -> None:
    """Keep the document in the cache and as a file. The file is written
    whole under another name and then renamed, so that a reader never opens
    half of it (a download meeting the task laying out the same document);
    two writers write the same bytes."""
    cache.set(key, content, timeout=PDF_SECONDS)
    name = _published_name(key)
    try:
        path = Path(default_storage.path(name))
    except NotImplementedError:
        # A storage without local paths (an object store) writes an object
        # whole or not at all.
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(content))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        partial.write_bytes(content)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def ranking_pdf(ranking: Ranking, heading: Heading) -> bytes:
    """The table on A4 landscape, each group its own table (the header row
    repeats on every page)."""
    return _pdf(
        RANKING_TEMPLATE,
        {
            "ranking": ranking,
            "heading": heading,
            "signatures": _signature_context(),
        },
    )


def unit_result_pdf(result: UnitResult, heading: Heading) -> bytes:
    return _pdf(
        UNIT_TEMPLATE,
        {"result": result, "heading": heading, "signatures": _signature_context()},
    )


def _signature_context() -> dict[str, str]:
    return {
        "nation": NATION,
        "motto": MOTTO,
        "preparer": PREPARER,
        "preparer_note": PREPARER_NOTE,
        "director": DIRECTOR,
        "director_note": DIRECTOR_NOTE,
    }
