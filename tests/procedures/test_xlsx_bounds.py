"""What a spreadsheet of case records may expand to (issue 15, defect 10): the
zip's directory and a streamed scan of its XML decide before openpyxl reads
anything; beyond the bounds the file is refused with a message saying which."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from procedures.importer import run_import
from procedures.models import (
    CaseRecord,
    ImportRun,
    ImportSource,
    ImportStatus,
    Procedure,
)
from procedures.parsing import FileError, XlsxLimits, iter_table, xlsx_size
from tests.procedures.test_importer import HEADER, case
from tests.wording import vi

SHEET = "xl/worksheets/sheet1.xml"


def workbook(rows: int = 3) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for n in range(rows):
        sheet.append(case(f"HS-{n}").split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewritten(data: bytes, name: str, write) -> bytes:
    """The workbook with part ``name`` written anew by ``write(handle)``,
    streamed: the part may be far larger than memory should hold."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == name:
                continue
            target.writestr(info, source.read(info))
        with target.open(name, "w", force_zip64=True) as handle:
            write(handle)
    return out.getvalue()


def long_cell(limit: str) -> str:
    """The refusal of a cell longer than the limit, as the catalogue words it."""
    return vi(
        "A cell holds more than %(limit)s characters, the most a cell may hold; the "
        "file is refused."
    ) % {"limit": limit}


def bomb(megabytes: int) -> bytes:
    """A valid workbook whose one cell is ``megabytes`` MB of the letter a:
    a few hundred KB of zip."""

    def write(handle):
        handle.write(
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            b'2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        )
        chunk = b"a" * (1 << 20)
        for _ in range(megabytes):
            handle.write(chunk)
        handle.write(b"</t></is></c></row></sheetData></worksheet>")

    return rewritten(workbook(), SHEET, write)


@pytest.fixture
def no_openpyxl(monkeypatch):
    """openpyxl must not be asked to read a refused workbook."""

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl read a workbook beyond the bounds")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def read(data: bytes) -> list[list[str]]:
    return list(iter_table(io.BytesIO(data), "cases.xlsx"))


def test_a_zip_bomb_is_refused_before_it_is_read_and_in_bounded_memory(
    no_openpyxl,
):
    data = bomb(200)
    assert len(data) < 400_000  # the 0.4 MB
    tracemalloc.start()
    try:
        with pytest.raises(FileError, match="ký tự"):
            read(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024


def test_a_workbook_that_unpacks_too_large_is_refused(settings, no_openpyxl):
    settings.CASE_IMPORT_XLSX_MAX_BYTES = 1 << 20
    with pytest.raises(FileError, match=r"khi giải nén chiếm 2 MB.*tối đa 1 MB"):
        read(bomb(2))


def test_a_text_table_too_large_is_refused(settings, no_openpyxl):
    settings.CASE_IMPORT_XLSX_MAX_SHARED_BYTES = 1 << 20

    def write(handle):
        handle.write(b'<?xml version="1.0"?><sst>')
        for _ in range(200_000):
            handle.write(b"<si><t>ab</t></si>")
        handle.write(b"</sst>")

    data = rewritten(workbook(), "xl/sharedStrings.xml", write)
    with pytest.raises(FileError, match="sharedStrings"):
        read(data)


def test_too_many_cells_are_refused(settings, no_openpyxl):
    settings.CASE_IMPORT_XLSX_MAX_CELLS = 100
    with pytest.raises(FileError, match="hơn 100 ô"):
        read(workbook(rows=10))  # 11 rows of 15 cells


def test_cells_far_to_the_right_are_refused(no_openpyxl):
    def write(handle):
        handle.write(
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            b'2006/main"><sheetData>'
        )
        for row in range(1, 4):
            handle.write(f'<row r="{row}"><c r="XFD{row}"><v>1</v></c></row>'.encode())
        handle.write(b"</sheetData></worksheet>")

    with pytest.raises(FileError, match="cột ZZ"):
        read(rewritten(workbook(), SHEET, write))


def test_entity_declarations_are_refused(no_openpyxl):
    def write(handle):
        handle.write(
            b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]>'
            b"<worksheet><sheetData/></worksheet>"
        )

    with pytest.raises(FileError, match="XML"):
        read(rewritten(workbook(), SHEET, write))


def test_a_workbook_within_the_bounds_is_read_whole():
    data = workbook(rows=40)
    size = xlsx_size(io.BytesIO(data), XlsxLimits.from_settings())
    assert (size.rows, size.cells) == (41, 41 * 15)
    rows = read(data)
    assert len(rows) == 41
    assert rows[1][0] == "HS-0"


def test_a_lying_dimension_neither_pads_nor_cuts_the_rows():
    data = workbook(rows=2)
    part = zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    # A dimension of one column, then of the whole sheet: rows come as written.
    for ref in (b"A1:A3", b"A1:XFD1048576"):
        lying = part.replace(b'ref="A1:O3"', b'ref="' + ref + b'"')
        assert lying != part
        rows = read(rewritten(data, SHEET, lambda handle, x=lying: handle.write(x)))
        assert [len(row) for row in rows] == [15, 15, 15]


def test_a_cell_longer_than_the_setting_is_refused_while_reading(settings):
    """Between the byte bound of the scan and the characters of a cell."""
    settings.CASE_IMPORT_MAX_CELL_CHARS = 50
    book = openpyxl.Workbook()
    book.active.append(["case_code", "x" * 60])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(FileError, match=re.escape(long_cell("50"))):
        read(buffer.getvalue())


@pytest.mark.django_db
def test_the_upload_page_reports_a_refused_workbook(
    client, commune_staff, settings, django_capture_on_commit_callbacks
):
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")
    client.force_login(commune_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/imports/new/",
            {"file": SimpleUploadedFile("ho_so.xlsx", bomb(50))},
        )
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    refused = long_cell(f"{settings.CASE_IMPORT_MAX_CELL_CHARS:,}".replace(",", "."))
    assert run.error == refused
    page = client.get(f"/imports/{run.pk}/").content.decode()
    assert refused in page


@pytest.mark.django_db
def test_the_command_door_refuses_it_too(org):
    run = ImportRun.objects.create(source=ImportSource.COMMAND, file_name="b.xlsx")
    with pytest.raises(FileError):
        run_import(run, io.BytesIO(bomb(5)))
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED


@pytest.mark.parametrize(
    "url",
    ["/admin/procedures/caserecord/import/", "/admin/commitments/unit/import/"],
)
def test_the_admins_spreadsheet_import_refuses_a_bomb_before_reading_it(
    client, superuser, no_openpyxl, url
):
    """Every admin spreadsheet import is a door for workbooks too: the bounds
    are checked on the form, with the message, before tablib or openpyxl
    read the file."""
    client.force_login(superuser)
    response = client.post(
        url,
        {
            "resource": "0",
            "format": "1",  # XLSX, the second of SpreadsheetAdmin.formats
            "import_file": SimpleUploadedFile("bom.xlsx", bomb(40)),
        },
    )
    assert response.status_code == 200
    (error,) = response.context["form"].errors["import_file"]
    assert "32.767" in error  # the bound it met, in the reader's language
    assert not CaseRecord.objects.exists()


def test_the_admins_spreadsheet_import_still_reads_a_workbook_within_bounds(
    client, superuser
):
    client.force_login(superuser)
    response = client.post(
        "/admin/procedures/caserecord/import/",
        {
            "resource": "0",
            "format": "1",
            "import_file": SimpleUploadedFile("ho_so.xlsx", workbook(2)),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {}
    assert response.context["result"] is not None
