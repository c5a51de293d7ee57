"""The printable commitment: the page, the PDF drawn from the same template
(rendered back to pixels and text to prove it is a real A4 page with Vietnamese
glyphs), and who may print it."""

from datetime import date
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from django.urls import reverse

from commitments.models import Commitment, CommitmentState, Indicator, Target
from commitments.organisation.models import Unit, UnitKind
from commitments.printing import (
    authority_of,
    commitment_pdf,
    date_line,
    format_value,
    place_name,
)
from tests.factories import HeadFactory

HEAD_NAME = "Nguyễn Thị Hương"
COUNTERSIGNER = "Trần Quang Phong"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
A4_POINTS = (595.28, 841.89)  # 210 × 297 mm
MM = 72 / 25.4  # points per millimetre
SCALE = 2  # pixels per point when rendering
OPTIONAL_REASON = "Phường chưa có hệ thống đo mức độ hài lòng năm 2024"


def _commitment(unit, *, state=CommitmentState.COUNTERSIGNED):
    head = HeadFactory(unit=unit, full_name=HEAD_NAME, title="Chủ tịch UBND phường")
    signed = state != CommitmentState.DRAFT
    commitment = Commitment.objects.create(
        unit=unit,
        year=2024,
        state=state,
        head=head if signed else None,
        signed_on=date(2024, 4, 14) if signed else None,
        countersigned_on=date(2024, 4, 20) if state == "countersigned" else None,
        countersigner_name=COUNTERSIGNER if state == "countersigned" else "",
        countersigner_title="Chủ tịch UBND thành phố"
        if state == "countersigned"
        else "",
    )
    for position, (code, comparison, value, deadline, mandatory) in enumerate(
        [
            ("dung-han", "gte", "100", None, True),
            ("so-hoa", "gte", "50", date(2024, 10, 31), True),
            ("hai-long", "gte", "95.5", None, False),
        ],
        start=1,
    ):
        Target.objects.create(
            commitment=commitment,
            indicator=Indicator.objects.get(code=code),
            comparison=comparison,
            value=Decimal(value),
            deadline=deadline,
            mandatory=mandatory,
            optional_reason="" if mandatory else OPTIONAL_REASON,
            position=position,
        )
    return commitment


@pytest.fixture
def commitment(org):
    return _commitment(org.commune_a)


@pytest.fixture
def draft(org):
    return _commitment(org.commune_a, state=CommitmentState.DRAFT)


def _print_url(commitment: Commitment) -> str:
    return reverse("commitment_print", kwargs={"pk": commitment.pk})


def _pdf_url(commitment: Commitment) -> str:
    return reverse("commitment_pdf", kwargs={"pk": commitment.pk})


# --- text rules (no database) -------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 4, 14), "Chí Linh, ngày 14 tháng 4 năm 2024"),
        (date(2024, 2, 5), "Chí Linh, ngày 05 tháng 02 năm 2024"),
        (date(2024, 1, 9), "Chí Linh, ngày 09 tháng 01 năm 2024"),
        (date(2024, 12, 31), "Chí Linh, ngày 31 tháng 12 năm 2024"),
        (None, "Chí Linh, ngày …… tháng …… năm 2024"),
    ],
)
def test_dates_are_written_as_the_decree_asks(day, expected):
    """Days below 10 and the months 1 and 2 take a leading zero; no date yet
    leaves blanks to fill by hand."""
    assert date_line("Chí Linh", day, 2024) == expected


@pytest.mark.parametrize(
    ("value", "label", "expected"),
    [
        ("100.00", "%", "100%"),
        ("95.50", "%", "95,5%"),
        ("0.00", "%", "0%"),
        ("3.00", "văn bản", "3 văn bản"),
        ("12.25", "", "12,25"),
    ],
)
def test_values_use_the_decimal_comma(value, label, expected):
    assert format_value(Decimal(value), label) == expected


def _tree() -> dict[str, Unit]:
    province = Unit(name="UBND tỉnh Hải Dương", kind=UnitKind.PROVINCE)
    city = Unit(name="UBND thành phố Chí Linh", kind=UnitKind.DISTRICT, parent=province)
    return {
        "province": province,
        "city": city,
        "ward": Unit(name="Phường Sao Đỏ", kind=UnitKind.COMMUNE, parent=city),
        "office": Unit(name="Phòng Nội vụ", kind=UnitKind.OFFICE, parent=city),
        "department": Unit(
            name="Sở Tư pháp", kind=UnitKind.DEPARTMENT, parent=province
        ),
    }


@pytest.mark.parametrize(
    ("unit", "place"),
    [
        ("ward", "Sao Đỏ"),
        ("city", "Chí Linh"),
        ("office", "Chí Linh"),
        ("department", "Hải Dương"),
        ("province", "Hải Dương"),
    ],
)
def test_a_document_is_dated_from_the_nearest_place(unit, place):
    assert place_name(_tree()[unit]) == place


def test_a_peoples_committee_judges_through_its_chairman():
    tree = _tree()
    assert authority_of(tree["city"]) == "Chủ tịch UBND thành phố Chí Linh"
    assert authority_of(Unit(name="Sở Tài nguyên và Môi trường")) == (
        "Sở Tài nguyên và Môi trường"
    )
    assert authority_of(None) == "cấp có thẩm quyền"


# --- the page -----------------------------------------------------------------------


def test_the_page_shows_heading_parties_targets_and_signatures(
    client, commune_staff, commitment
):
    client.force_login(commune_staff)
    response = client.get(_print_url(commitment))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        NATION,
        "Độc lập - Tự do - Hạnh phúc",
        "UBND TP",  # the level above, in capitals
        "PHƯỜNG A",  # the unit, in capitals
        "ngày 14 tháng 4 năm 2024",
        "BẢN CAM KẾT",
        "Thực hiện nhiệm vụ cải cách hành chính năm 2024",
        "Bên cam kết:</strong> Phường A",
        "Bên nhận cam kết:</strong> UBND TP",
        "Chủ tịch UBND phường",
        "CHỦ TỊCH UBND THÀNH PHỐ",
        "trong 02 năm liên tiếp Phường A không đạt được các nhiệm vụ",
        "Chủ tịch UBND TP sẽ xem xét xử lý trách nhiệm người đứng đầu",
    ]:
        assert text in html, text
    assert "DỰ THẢO" not in html
    rows = response.context["targets"]
    assert [(r.number, r.comparison, r.value, r.due, r.mandatory) for r in rows] == [
        (1, "≥", "100%", "31/12/2024", "Có"),
        (2, "≥", "50%", "31/10/2024", "Có"),
        (3, "≥", "95,5%", "31/12/2024", "Không"),
    ]
    for indicator in Indicator.objects.filter(
        code__in=["dung-han", "so-hoa", "hai-long"]
    ):
        assert indicator.name in html
    assert f'data-testid="pledger-name">{HEAD_NAME}<' in html
    assert f'data-testid="receiver-name">{COUNTERSIGNER}<' in html
    # The screen toolbar links the PDF of the same commitment.
    assert f'href="{_pdf_url(commitment)}"' in html


def test_an_optional_target_is_printed_with_its_reason(
    client, commune_staff, commitment
):
    """Issue 15, defect 7: the signed paper says which target Home Affairs
    made optional and why; a mandatory one carries no such note."""
    client.force_login(commune_staff)
    response = client.get(_print_url(commitment))
    reasons = [r.optional_reason for r in response.context["targets"]]
    assert reasons == ["", "", OPTIONAL_REASON]
    html = response.content.decode()
    assert html.count('data-testid="optional-reason"') == 1
    assert (
        f'data-testid="optional-reason">Không bắt buộc, lý do: {OPTIONAL_REASON}<'
        in html
    )


def test_the_pdf_prints_the_reason_of_an_optional_target(commitment):
    pdf = pdfium.PdfDocument(commitment_pdf(commitment, base_url="/"))
    try:
        text = "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()
    # Wrapped within its cell: compare without the line breaks.
    assert f"Không bắt buộc, lý do: {OPTIONAL_REASON}" in " ".join(text.split())


def test_a_draft_is_marked_and_names_the_head_in_office(client, commune_staff, draft):
    client.force_login(commune_staff)
    html = client.get(_print_url(draft)).content.decode()
    assert 'data-testid="draft-mark">DỰ THẢO<' in html
    assert "ngày …… tháng …… năm 2024" in html
    # Not signed yet: the head in office is named for the signing.
    assert f'data-testid="pledger-name">{HEAD_NAME}<' in html
    assert 'data-testid="receiver-name"><' in html


# --- the PDF ------------------------------------------------------------------------


def test_the_pdf_is_an_attachment(client, commune_staff, commitment):
    client.force_login(commune_staff)
    response = client.get(_pdf_url(commitment))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="cam-ket-CITY-A-2024.pdf"'
    )
    assert response.content.startswith(b"%PDF-")


def _ink(image, box_points: tuple[float, float, float, float]) -> int:
    """Dark pixels inside a box given in points from the page's top left."""
    left, top, right, bottom = (round(v * SCALE) for v in box_points)
    region = image.crop((left, top, right, bottom)).convert("L")
    return sum(region.histogram()[:128])


def test_the_pdf_is_an_a4_page_with_the_document_drawn(commitment):
    pdf = pdfium.PdfDocument(commitment_pdf(commitment, base_url="/"))
    try:
        page = pdf[0]
        width, height = page.get_size()
        assert (width, height) == pytest.approx(A4_POINTS, abs=0.5)
        image = page.render(scale=SCALE).to_pil()
        text = page.get_textpage()
        # The heading sits in the top band, under the 20 mm margin.
        assert _ink(image, (30 * MM, 20 * MM, width - 15 * MM, 45 * MM)) > 500
        assert _ink(image, (0, 0, width, 19 * MM)) == 0
        # Nothing is drawn in the 30 mm left margin (the binding edge).
        assert _ink(image, (0, 0, 29 * MM, height)) == 0
        # The targets table: its header and rows below it, ruled and written.
        found = text.search("STT", match_case=True).get_next()
        assert found is not None
        _, _, _, stt_top = text.get_charbox(found[0])
        table_top = height - stt_top  # PDF coordinates count from the bottom
        assert _ink(image, (30 * MM, table_top, width - 15 * MM, table_top + 60)) > 2000
        # Between the date line and the title the right column is white: the
        # heading and the title are apart, not drawn over each other.
        dated = text.search("ngày 14", match_case=True).get_next()
        title = text.search("BẢN CAM KẾT", match_case=True).get_next()
        assert dated is not None
        assert title is not None
        date_bottom = text.get_charbox(dated[0], loose=True)[1]
        title_top = text.get_charbox(title[0], loose=True)[3]
        right_column = (30 + 0.4 * 165) * MM
        # Capitals with two diacritics (Ế) rise above the font's ascent.
        gap = (
            right_column,
            height - date_bottom + 1,
            width - 15 * MM,
            height - title_top - 6,
        )
        assert gap[3] - gap[1] > 10
        assert _ink(image, gap) == 0
    finally:
        pdf.close()


def test_the_pdf_text_comes_back_with_its_diacritics(commitment):
    """The glyphs are mapped to Unicode: extraction gives the exact letters."""
    pdf = pdfium.PdfDocument(commitment_pdf(commitment, base_url="/"))
    try:
        text = "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()
    lines = [line.strip() for line in text.splitlines()]
    assert NATION in lines
    assert "Độc lập - Tự do - Hạnh phúc" in lines
    assert f"Ông (bà): {HEAD_NAME}" in lines
    assert HEAD_NAME in lines  # under the signature
    assert COUNTERSIGNER in lines
    assert "DỰ THẢO" not in text


def test_a_draft_pdf_says_so(draft):
    pdf = pdfium.PdfDocument(commitment_pdf(draft, base_url="/"))
    try:
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert "DỰ THẢO" in text


# --- who may print ------------------------------------------------------------------


@pytest.mark.parametrize("url", [_print_url, _pdf_url])
def test_another_units_staff_get_404(client, other_commune_staff, commitment, url):
    client.force_login(other_commune_staff)
    assert client.get(url(commitment)).status_code == 404


@pytest.mark.parametrize("url", [_print_url, _pdf_url])
def test_anonymous_visitors_are_sent_to_login(client, commitment, url):
    response = client.get(url(commitment))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_reviewer_above_may_print(client, city_reviewer, commitment):
    client.force_login(city_reviewer)
    assert client.get(_print_url(commitment)).status_code == 200


def test_an_unknown_commitment_is_404(client, commune_staff, commitment):
    client.force_login(commune_staff)
    response = client.get(
        reverse("commitment_print", kwargs={"pk": commitment.pk + 99})
    )
    assert response.status_code == 404
