"""The printable commitment: one template, shown as a page to print from the
browser and rendered to PDF by WeasyPrint, laid out as an administrative
document (Nghị định 30/2020/NĐ-CP: issuing body and national motto at the top,
place and date, title, body, signatures).

The document is Vietnamese whatever the reader's language: it is the paper the
head signs, so its wording, dates and numbers never go through translation or
locale formatting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone, translation

from commitments import signatures
from commitments.models import Commitment
from commitments.organisation.models import Head, Unit, UnitKind
from commitments.services import head_in_office

TEMPLATE = "commitments/commitment_print.html"
# Left for the hand that fills in what the system does not know yet.
BLANK = "……………………………"
# The units whose name is a place: a department's document is dated from its
# province, an office's from its city.
PLACE_KINDS = frozenset({UnitKind.COMMUNE, UnitKind.DISTRICT, UnitKind.PROVINCE})
_AUTHORITY_PREFIX = re.compile(r"^(ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+", re.I)
_PLACE_PREFIX = re.compile(
    r"^(tỉnh|thành phố|tp\.?|huyện|quận|thị xã|thị trấn|xã|phường)\s+", re.I
)


@dataclass(frozen=True)
class Party:
    """One side of the commitment: the unit, and who signs for it (blank
    until known)."""

    unit_name: str
    person: str
    title: str
    # The signature block's heading, in capitals.
    signs_as: str


@dataclass(frozen=True)
class TargetRow:
    number: int
    indicator: str
    comparison: str
    value: str
    due: str
    mandatory: str
    # Why Home Affairs made it optional; empty for a mandatory target.
    optional_reason: str


def document_context(commitment: Commitment) -> dict[str, object]:
    """Everything the document shows, as text ready to print (names,
    capitals, dates in the decree's form, numbers with a decimal comma)."""
    unit = commitment.unit
    parent = unit.parent
    year = commitment.year
    draft = not commitment.signed
    head = commitment.head
    if head is None:
        # A draft is printed for the signing: name the head in office.
        head = head_in_office(unit, timezone.localdate())
    authority = authority_of(parent)
    pledger = Party(
        unit_name=unit.name,
        person=head.full_name if head else BLANK,
        title=head.title if head and head.title else BLANK,
        signs_as=_signs_as(head, unit),
    )
    receiver = Party(
        unit_name=parent.name if parent else BLANK,
        person=commitment.countersigner_name or BLANK,
        title=commitment.countersigner_title or BLANK,
        signs_as=(
            commitment.countersigner_title or (parent.name if parent else "")
        ).upper(),
    )
    place = place_name(unit)
    targets = [
        TargetRow(
            number=number,
            indicator=target.indicator.name,
            comparison=target.get_comparison_display(),
            value=format_value(target.value, target.indicator.unit_label),
            due=target.due.strftime("%d/%m/%Y"),
            mandatory="Có" if target.mandatory else "Không",
            optional_reason="" if target.mandatory else target.optional_reason,
        )
        for number, target in enumerate(
            commitment.targets.select_related("indicator").order_by("position", "pk"),
            start=1,
        )
    ]
    return {
        "commitment": commitment,
        "draft": draft,
        "year": year,
        "document_title": f"Bản cam kết CCHC năm {year} – {unit.name}",
        "issuer_parent": parent.name.upper() if parent else "",
        "issuer": unit.name.upper(),
        "date_line": date_line(place, commitment.signed_on, year),
        "title": "BẢN CAM KẾT",
        "subject": f"Thực hiện nhiệm vụ cải cách hành chính năm {year}",
        "pledger": pledger,
        "receiver": receiver,
        "intro": (
            f"Người đứng đầu {unit.name} cam kết với {receiver.unit_name} tổ chức "
            f"thực hiện và hoàn thành các chỉ tiêu cải cách hành chính năm {year} "
            "sau đây:"
        ),
        "targets": targets,
        "clauses": accountability_clauses(unit.name, authority),
        "signature_lines": signature_lines(commitment),
        "filename": pdf_filename(commitment),
        "blank": BLANK,
    }


def signature_lines(commitment: Commitment) -> list[str]:
    """Under the head's signature: what the digital signature of the signed
    PDF said, or that the signed document is a scan. In Vietnamese, as the
    whole document, through the same wording as the commitment page."""
    with translation.override("vi"):
        return signatures.described(
            getattr(commitment, "signature_check", None),
            scanned=bool(commitment.scan),
        )


def commitment_pdf(commitment: Commitment, base_url: str) -> bytes:
    """The same document as the print page, as PDF (WeasyPrint lays out for
    print media, so the page's screen-only toolbar is not drawn)."""
    # Imported here: WeasyPrint loads pango and its fonts, which only the PDF needs.
    from weasyprint import HTML

    html = render_to_string(TEMPLATE, {**document_context(commitment), "pdf": True})
    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf


def pdf_filename(commitment: Commitment) -> str:
    return f"cam-ket-{commitment.unit.code}-{commitment.year}.pdf"


def authority_of(parent: Unit | None) -> str:
    """Who judges the head (seed 000: "Chủ tịch UBND thành phố sẽ xem xét xử
    lý trách nhiệm người đứng đầu"): a People's Committee's chairman, or the
    level above itself."""
    if parent is None:
        return "cấp có thẩm quyền"
    if _AUTHORITY_PREFIX.match(parent.name):
        return f"Chủ tịch {parent.name}"
    return parent.name


def accountability_clauses(unit_name: str, authority: str) -> list[str]:
    """The head's responsibility, as the commitments of seed 000 word it."""
    return [
        f"Người đứng đầu {unit_name} chịu trách nhiệm trước {authority} về kết quả "
        "thực hiện các chỉ tiêu đã cam kết và các nội dung khác có liên quan về cải "
        "cách hành chính.",
        "Chỉ số cải cách hành chính sau khi được công bố nếu bị trừ điểm hoặc điểm "
        f"thấp thuộc nội dung của {unit_name} thì người đứng đầu đơn vị phải chịu "
        "trách nhiệm giải trình.",
        "Bản cam kết được đánh giá là hoàn thành khi tất cả các chỉ tiêu bắt buộc "
        "đều đạt.",
        f"Nếu trong 02 năm liên tiếp {unit_name} không đạt được các nhiệm vụ, chỉ "
        f"tiêu đã cam kết, {authority} sẽ xem xét xử lý trách nhiệm người đứng đầu "
        "theo quy định.",
    ]


def place_name(unit: Unit) -> str:
    """The place a document is dated from: the nearest commune, district or
    province up the tree, without its administrative prefix ("UBND thành phố
    Chí Linh" → "Chí Linh", "Phường Sao Đỏ" → "Sao Đỏ")."""
    current: Unit | None = unit
    while current is not None and current.kind not in PLACE_KINDS:
        current = current.parent
    if current is None:
        return BLANK
    name = _AUTHORITY_PREFIX.sub("", current.name.strip())
    return _PLACE_PREFIX.sub("", name) or BLANK


def date_line(place: str, day: date | None, year: int) -> str:
    """ "Chí Linh, ngày 05 tháng 02 năm 2024": a day below 10 and the months 1
    and 2 take a leading zero (Nghị định 30/2020, Phụ lục I), so that no digit
    can be written in front later. No date yet: blanks to fill by hand."""
    if day is None:
        return f"{place}, ngày …… tháng …… năm {year}"
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def format_value(value: Decimal, unit_label: str) -> str:
    """100.00 and "%" → "100%"; 95.50 → "95,5%"; a count keeps a space before
    its unit ("3 văn bản")."""
    number = f"{value.normalize():f}".replace(".", ",")
    if not unit_label:
        return number
    return f"{number}{unit_label}" if unit_label == "%" else f"{number} {unit_label}"


def _signs_as(head: Head | None, unit: Unit) -> str:
    return (head.title if head and head.title else unit.name).upper()
