"""The results as documents (XLSX and PDF): who may download which, what the
workbook holds read back with openpyxl (heading, title, numbers as numbers,
signatures, print setup), formula injection, and the PDFs drawn and read
with pypdfium2.

The data are those of tests/scoring/results/test_views.py: 2024 published
(group "xa": Xã B 80,00 rank 1, Phường A 75,00 rank 2, …; group "phuong":
Phường D), 2025 computed, provisional."""

# The fixtures imported from results/test_views are named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from scoring.results import exports
from tests.scoring.results.test_views import (  # noqa: F401 - fixtures
    computed_2025,
    framework_2025,
    published_2024,
    units,
)
from tests.wording import vi

TITLE_2024 = "BẢNG XẾP HẠNG CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2024"
DATE_LINE = re.compile(r"ngày \d\d tháng \d{1,2} năm \d{4}$")


def ranking_url(year: int, kind: str, **query: str) -> str:
    url = reverse(f"results_export_{kind}", kwargs={"year": year})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def unit_url(year: int, code: str, kind: str, **query: str) -> str:
    url = reverse(f"results_unit_export_{kind}", kwargs={"year": year, "code": code})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def workbook(response):
    return load_workbook(BytesIO(response.content))


def texts(sheet) -> list[str]:
    return [
        cell.value
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def row_of(sheet, name: str):
    """The cells of the table row whose unit column reads ``name``."""
    for row in sheet.iter_rows():
        if row[1].value == name:
            return row
    raise AssertionError(f"{name} not in {sheet.title}")


def pdf_text_and_ink(content: bytes) -> tuple[str, float, bool]:
    """Page 1's text, the share of non-white pixels, and whether it is
    landscape."""
    import pypdfium2

    document = pypdfium2.PdfDocument(content)
    page = document[0]
    width, height = page.get_size()
    text = page.get_textpage().get_text_range()
    counts = page.render(scale=1).to_pil().convert("L").histogram()
    ink = sum(counts[:200]) / sum(counts)
    document.close()
    return unicodedata.normalize("NFC", text), ink, width > height


# --- access ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "pdf"])
def test_anonymous_is_sent_to_log_in(client, published_2024, kind):
    for url in (ranking_url(2024, kind), unit_url(2024, "CITY-A", kind)):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


@pytest.mark.parametrize("persona", ["leader", "commune_staff", "no_unit_user"])
def test_published_ranking_is_for_everyone_signed_in(
    client, request, persona, published_2024
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(ranking_url(2024, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == exports_xlsx_type()
    assert 'filename="bang-xep-hang-cchc-2024.xlsx"' in response["Content-Disposition"]
    response = client.get(ranking_url(2024, "pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def exports_xlsx_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize("persona", ["leader", "commune_staff", "commune_head"])
@pytest.mark.parametrize("kind", ["xlsx", "pdf"])
def test_provisional_exports_are_hidden_from_all_but_reviewers(
    client, request, persona, kind, computed_2025
):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(ranking_url(2025, kind, view="provisional")).status_code == 404
    # Nothing published for 2025 either.
    assert client.get(ranking_url(2025, kind)).status_code == 404
    assert (
        client.get(unit_url(2025, "CITY-A", kind, view="provisional")).status_code
        == 404
    )


def test_reviewers_export_the_provisional_results_of_their_units_only(
    client, city_reviewer, computed_2025
):
    client.force_login(city_reviewer)
    response = client.get(ranking_url(2025, "xlsx", view="provisional"))
    assert response.status_code == 200
    assert "tam-thoi" in response["Content-Disposition"]
    book = workbook(response)
    everything = [t for sheet in book.worksheets for t in texts(sheet)]
    assert "Xã F" in everything
    assert "Xã G" not in everything  # outside the city
    assert any(t.startswith("Kết quả tạm thời, chưa công bố") for t in everything)
    assert (
        client.get(unit_url(2025, "PROV-G", "xlsx", view="provisional")).status_code
        == 404
    )
    assert (
        client.get(unit_url(2025, "CITY-F", "pdf", view="provisional")).status_code
        == 200
    )


@pytest.mark.parametrize("kind", ["xlsx", "pdf"])
def test_another_units_result_answers_404(client, commune_staff, published_2024, kind):
    client.force_login(commune_staff)
    assert client.get(unit_url(2024, "CITY-A", kind)).status_code == 200
    assert client.get(unit_url(2024, "CITY-B", kind)).status_code == 404
    assert client.get(unit_url(2024, "NO-SUCH", kind)).status_code == 404


def test_leader_exports_any_units_result(client, leader, published_2024):
    client.force_login(leader)
    assert client.get(unit_url(2024, "CITY-B", "xlsx")).status_code == 200


def test_unknown_version_or_view_answers_404(client, leader, published_2024):
    client.force_login(leader)
    assert client.get(ranking_url(2024, "xlsx", version="1")).status_code == 200
    assert client.get(ranking_url(2024, "xlsx", version="9")).status_code == 404
    assert client.get(ranking_url(2024, "pdf", view="draft")).status_code == 404
    assert client.get(unit_url(2024, "CITY-A", "xlsx", version="x")).status_code == 404


# --- the ranking workbook -------------------------------------------------------------


def test_ranking_workbook_layout_and_numbers(client, commune_staff, published_2024):
    client.force_login(commune_staff)
    book = workbook(client.get(ranking_url(2024, "xlsx")))
    # One sheet per ranking group, each with its own ranks.
    assert book.sheetnames == ["Nhóm phường", "Nhóm xã"]
    sheet = book["Nhóm xã"]
    found = texts(sheet)
    # The heading block: issuing body left, national motto right.
    assert sheet["A1"].value == "UBND TỈNH"
    assert sheet["A2"].value == "SỞ NỘI VỤ"
    assert exports.NATION in found
    assert exports.MOTTO in found
    assert TITLE_2024 in found
    assert "Nhóm xếp hạng: Nhóm xã" in found
    assert any(t.startswith("Kết quả chính thức – công bố lần 1 ngày") for t in found)
    assert f"Mã kiểm tra: {published_2024.checksum}" in found
    # The header row: bold, bordered, frozen, repeated on every printed page.
    header = next(r for r in sheet.iter_rows() if r[0].value == "Hạng")
    labels = [c.value for c in header]
    assert labels == [
        "Hạng",
        "Đơn vị",
        "Chỉ số CCHC",
        "Xếp loại",
        "1. Mục 1",
        "2. Mục 2",
        "Thay đổi hạng",
        "Thay đổi chỉ số",
        "Ghi chú",
    ]
    assert all(c.font.b and c.border.left.style == "thin" for c in header)
    number = header[0].row
    assert sheet.freeze_panes == f"A{number + 1}"
    assert sheet.print_title_rows == f"${number}:${number}"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.column_dimensions["B"].width > 30
    # Xã B: rank 1, index 80.00 as a number with two decimals.
    rank, _name, index, tier, *rest = row_of(sheet, "Xã B")
    assert (rank.value, rank.data_type) == (1, "n")
    assert index.data_type == "n"
    assert Decimal(str(index.value)) == Decimal("80")
    assert index.number_format == "0.00"
    assert tier.value == "B – Tốt"
    field_1 = rest[0]
    assert field_1.data_type == "n"
    assert field_1.number_format == "0.00"
    assert [r[1].value for r in sheet.iter_rows() if isinstance(r[0].value, int)] == [
        "Xã B",
        "Phường A",
        "Xã C",
        "Xã F",
    ]
    # The signature block and the date line under the table.
    assert "NGƯỜI LẬP BIỂU" in found
    assert "GIÁM ĐỐC" in found
    dated = [t for t in found if DATE_LINE.search(t)]
    assert len(dated) == 1
    assert found.index(dated[0]) > found.index("Xã F")
    assert found.index("GIÁM ĐỐC") > found.index(dated[0])


def test_ranking_workbook_keeps_the_group_chosen(client, leader, published_2024):
    client.force_login(leader)
    response = client.get(ranking_url(2024, "xlsx", group="phuong"))
    assert "-phuong.xlsx" in response["Content-Disposition"]
    book = workbook(response)
    assert book.sheetnames == ["Nhóm phường"]
    assert row_of(book.active, "Phường D")[0].value == 1


def test_unit_names_never_become_formulas(client, leader, units, published_2024):
    """A unit named like a formula is written as text with a leading quote;
    its index stays a number."""
    names = {
        "C": '=HYPERLINK("http://evil.example","x")',
        "F": "+1",
        "A": "-2",
        "B": "@SUM(A1:A2)",
    }
    for key, name in names.items():
        units[key].name = name
        units[key].save(update_fields=["name"])
    client.force_login(leader)
    sheet = workbook(client.get(ranking_url(2024, "xlsx", group="xa"))).active
    for name in names.values():
        cells = row_of(sheet, "'" + name)
        assert cells[1].data_type == "s"
        assert cells[1].value == "'" + name
        assert cells[2].data_type == "n"
    book = workbook(client.get(unit_url(2024, "CITY-C", "xlsx")))
    assert f"Đơn vị: {names['C']}" in texts(book.active)  # not at a cell's start


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Xã B", "Xã B"),
        ("a=b", "a=b"),
    ],
)
def test_safe_text(value, written):
    assert exports.safe_text(value) == written


def test_builder_escapes_every_text_cell():
    heading = exports.Heading(
        "=CMD()", "SỞ NỘI VỤ", "Hải Dương, ngày 01 tháng 02 năm 2026"
    )
    ranking = exports.Ranking(
        year=2024,
        status="-status",
        checksum="",
        groups=[
            exports.TableGroup(
                name="@group",
                fields=[("1", "=field")],
                rows=[
                    exports.RankingRow(
                        rank=1,
                        unit_code="X",
                        unit_name='=HYPERLINK("x")',
                        approved=True,
                        index=Decimal("12.5"),
                        tier="A",
                        tier_label="Xuất sắc",
                        fields=[Decimal("-3.25")],
                        rank_change=-2,
                        index_change=Decimal("-1.5"),
                    )
                ],
            )
        ],
    )
    sheet = load_workbook(BytesIO(exports.ranking_xlsx(ranking, heading))).active
    cells = [
        cell for row in sheet.iter_rows() for cell in row if cell.value is not None
    ]
    assert not [c for c in cells if c.data_type == "f"]
    for cell in cells:
        if isinstance(cell.value, str):
            assert not cell.value.startswith(exports.FORMULA_STARTS), cell.value
    row = row_of(sheet, '\'=HYPERLINK("x")')
    # Negative numbers stay numbers.
    assert [c.value for c in row[4:7]] == [-3.25, -2, -1.5]
    assert all(c.data_type == "n" for c in row[4:7])


# --- a unit's workbook ----------------------------------------------------------------


def test_unit_workbook_holds_the_explanation_and_totals(
    client, commune_staff, published_2024
):
    client.force_login(commune_staff)
    response = client.get(unit_url(2024, "CITY-A", "xlsx"))
    assert 'filename="ket-qua-cchc-CITY-A-2024.xlsx"' in response["Content-Disposition"]
    sheet = workbook(response).active
    found = texts(sheet)
    assert sheet["A1"].value == "UBND TỈNH"
    assert "KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2024" in found
    assert "Đơn vị: Phường A" in found
    lines = {r[0].value: r for r in sheet.iter_rows() if r[0].value in {"1", "1.1.2"}}
    # 1.1.2: max 4, self 3.5, appraised 3.5, points 3.5 (75,00 in 2024).
    leaf = lines["1.1.2"]
    assert [c.value for c in (leaf[2], leaf[4], leaf[5], leaf[6])] == [4, 3.5, 3.5, 3.5]
    assert leaf[3].value  # the method, in words
    assert lines["1"][0].font.b
    totals = {
        r[0].value: r[6] for r in sheet.iter_rows() if isinstance(r[0].value, str)
    }
    assert totals["Chỉ số CCHC"].value == 75
    assert totals["Chỉ số CCHC"].data_type == "n"
    assert totals["Chỉ số CCHC"].number_format == "0.00"
    assert totals[vi("Totals")].value == 7.5
    assert totals["Xếp loại"].value == "C – Khá"
    assert totals["Xếp hạng"].value == "2/4 – Nhóm xã"
    assert "NGƯỜI LẬP BIỂU" in found
    assert "GIÁM ĐỐC" in found
    assert sheet.page_setup.orientation == "portrait"


# --- the PDFs -------------------------------------------------------------------------


def test_ranking_pdf_is_a_landscape_page_with_the_vietnamese_title(
    client, leader, published_2024
):
    client.force_login(leader)
    response = client.get(ranking_url(2024, "pdf"))
    text, ink, landscape = pdf_text_and_ink(response.content)
    assert landscape
    assert ink > 0.005  # something is drawn
    flat = " ".join(text.split())
    assert TITLE_2024 in flat
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat
    assert "Nhóm xếp hạng: Nhóm xã" in flat
    assert "Xã B" in flat
    assert "80,00" in flat


def test_unit_pdf_shows_the_units_result(client, commune_staff, published_2024):
    client.force_login(commune_staff)
    response = client.get(unit_url(2024, "CITY-A", "pdf"))
    assert response["Content-Type"] == "application/pdf"
    text, ink, landscape = pdf_text_and_ink(response.content)
    assert not landscape
    assert ink > 0.005
    flat = " ".join(text.split())
    assert "KẾT QUẢ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2024" in flat
    assert "Đơn vị: Phường A" in flat
    assert "75,00" in flat
    assert "NGƯỜI LẬP BIỂU" in flat


def test_a_pdf_is_laid_out_once_for_the_same_content(
    client, leader, published_2024, monkeypatch
):
    """The second download of the same table is the kept document; a table
    whose content changed (another group) is laid out anew."""
    import weasyprint

    laid_out = []
    original = weasyprint.HTML.write_pdf

    def counting(self, *args, **kwargs):
        laid_out.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", counting)
    client.force_login(leader)
    first = client.get(ranking_url(2024, "pdf")).content
    again = client.get(ranking_url(2024, "pdf")).content
    assert again == first
    assert len(laid_out) == 1
    unit = client.get(unit_url(2024, "CITY-A", "pdf")).content
    assert unit != first
    assert len(laid_out) == 2


# --- the links ------------------------------------------------------------------------


def test_pages_link_to_the_exports(client, commune_staff, published_2024):
    client.force_login(commune_staff)
    body = client.get(reverse("results_year", kwargs={"year": 2024}) + "?group=xa")
    body = body.content.decode()
    assert ranking_url(2024, "xlsx", group="xa") in body
    assert ranking_url(2024, "pdf", group="xa") in body
    body = client.get(
        reverse("results_unit", kwargs={"year": 2024, "code": "CITY-A"})
    ).content.decode()
    assert unit_url(2024, "CITY-A", "xlsx") in body
    assert unit_url(2024, "CITY-A", "pdf") in body


def test_a_real_spreadsheet_program_opens_both_workbooks(
    client, leader, units, published_2024, tmp_path
):
    """LibreOffice (headless) converts each workbook to CSV without error, and
    the ranking's unit names and indices come out as a spreadsheet user sees
    them: a formula-looking name stays text, not a computed value."""
    import csv
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    assert soffice, "make test installs LibreOffice (Debian's libreoffice-calc-nogui)"
    units["F"].name = "+1"
    units["F"].save(update_fields=["name"])
    client.force_login(leader)
    files = {
        "ranking.xlsx": client.get(ranking_url(2024, "xlsx", group="xa")).content,
        "unit.xlsx": client.get(
            reverse(
                "results_unit_export_xlsx",
                kwargs={"year": 2024, "code": units["B"].code},
            )
        ).content,
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path / "out"),
            *(str(tmp_path / name) for name in files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ranking = list(
        csv.reader((tmp_path / "out" / "ranking.csv").open(encoding="utf-8"))
    )
    cells = [cell for row in ranking for cell in row]
    # Escaped text, never evaluated (a formula "+1" would read "1").
    assert "'+1" in cells
    assert "1" not in [row[1] for row in ranking if len(row) > 1]
    xa_b = next(row for row in ranking if len(row) > 2 and row[1] == "Xã B")
    assert xa_b[2] in ("80.00", "80,00", "80")
    unit_rows = (tmp_path / "out" / "unit.csv").read_text(encoding="utf-8")
    assert units["B"].name in unit_rows


def test_published_documents_are_dated_on_the_day_of_publication(
    client, leader, published_2024, computed_2025, reviewer, monkeypatch
):
    """What was published does not change, nor its documents: dated the day
    of publication whenever downloaded (so laid out once per publication);
    provisional results are dated the day of download."""
    from datetime import timedelta

    from django.utils import timezone

    from commitments import printing

    published_on = timezone.localdate(published_2024.published_at)
    later = published_on + timedelta(days=40)
    real = timezone.localdate

    def forty_days_on(value=None, timezone=None):
        return real(value, timezone) if value is not None else later

    def day_of(line: str) -> str:
        return line.rsplit(", ", 1)[1]  # after the place

    monkeypatch.setattr(timezone, "localdate", forty_days_on)
    client.force_login(leader)
    found = texts(workbook(client.get(ranking_url(2024, "xlsx"))).active)
    (dated,) = [t for t in found if DATE_LINE.search(t)]
    assert day_of(dated) == day_of(printing.date_line("", published_on, 0))
    found = texts(workbook(client.get(unit_url(2024, "CITY-A", "xlsx"))).active)
    assert dated in found
    client.force_login(reviewer)
    response = client.get(ranking_url(2025, "xlsx", view="provisional"))
    found = texts(workbook(response).active)
    (dated,) = [t for t in found if DATE_LINE.search(t)]
    assert day_of(dated) == day_of(printing.date_line("", later, 0))


def test_a_published_ranking_pdf_is_found_without_rendering_its_page(
    client, leader, reviewer, computed_2025, monkeypatch
):
    """Kept under its publication, group and heading: the next download
    renders no page and queries no result; a provisional one is rendered
    each time (and kept by the digest of its page)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rendered = []
    original = exports.render_to_string

    def counting(*args, **kwargs):
        rendered.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(exports, "render_to_string", counting)
    client.force_login(leader)
    first = client.get(ranking_url(2024, "pdf", group="xa"))
    with CaptureQueriesContext(connection) as queries:
        again = client.get(ranking_url(2024, "pdf", group="xa"))
    assert again.content == first.content
    assert again["Content-Disposition"] == first["Content-Disposition"]
    assert rendered == [exports.RANKING_TEMPLATE]
    assert not any("publishedresult" in q["sql"] for q in queries)
    other = client.get(ranking_url(2024, "pdf", group="phuong"))
    assert other.content != first.content
    assert len(rendered) == 2
    client.force_login(reviewer)
    client.get(ranking_url(2025, "pdf", view="provisional"))
    client.get(ranking_url(2025, "pdf", view="provisional"))
    assert len(rendered) == 4


def test_a_published_ranking_workbook_is_kept_for_every_reader(
    client, leader, commune_staff, published_2024
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(leader)
    first = client.get(ranking_url(2024, "xlsx"))
    client.force_login(commune_staff)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(ranking_url(2024, "xlsx"))
    assert again.content == first.content
    assert not any("publishedresult" in q["sql"] for q in queries)
    assert texts(workbook(again).active) == texts(workbook(first).active)
