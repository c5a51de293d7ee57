"""A framework as an Excel workbook: the export is the import's template (a
round trip gives the same framework), headers in Vietnamese or English, and
every bad workbook refused as a whole with each problem at its sheet, row and
column."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from openpyxl import Workbook, load_workbook

from commitments.organisation.models import UnitKind
from scoring.frameworks import services as frameworks
from scoring.frameworks import workbook
from scoring.frameworks.services import TierData
from scoring.frameworks.workbook import CellError, WorkbookInvalid
from scoring.models import Framework, FrameworkState, Node

TREE, TIERS, SETTINGS = "Chỉ số", "Xếp loại", "Thông tin chung"


@pytest.fixture(autouse=True)
def english():
    """Messages in English here; the import page's test reads them in
    Vietnamese."""
    with translation.override("en"):
        yield


@pytest.fixture
def ready(framework, reviewer, org):
    """The conftest framework with tiers, a banded metric leaf, an owner unit
    and guidance an official might write."""
    frameworks.tiers_set(
        user=reviewer,
        framework=framework,
        tiers=[TierData(*tier) for tier in frameworks.DEFAULT_TIERS],
    )
    Node.objects.filter(framework=framework, code="2.1").update(
        scoring="banded", scoring_params={"bands": [[95, 1], [80, 0.5]]}
    )
    Node.objects.filter(framework=framework, code="1").update(
        owner_unit=org.city, guidance="Do Phòng Nội vụ theo dõi.\nCó hai dòng."
    )
    # An owner named by office function: each city's Phòng Tư pháp.
    Node.objects.filter(framework=framework, code="1.1").update(owner_kind="justice")
    # A text a spreadsheet would take for a formula stays text.
    Node.objects.filter(framework=framework, code="1.1.1").update(
        guidance="=1+1 là chữ, không phải công thức"
    )
    framework.reminder_days = [10, 3]
    framework.save()
    return framework


def tree(framework):
    return list(
        Node.objects.filter(framework=framework)
        .order_by("position")
        .values_list(
            "code",
            "parent__code",
            "level",
            "position",
            "title",
            "max_points",
            "method",
            "metric",
            "scoring",
            "scoring_params",
            "evidence_required",
            "guidance",
            "owner_unit__code",
            "owner_kind",
        )
    )


def settings_of(framework):
    return (
        framework.year,
        framework.unit_kind,
        framework.name,
        framework.deadline,
        framework.contest_days,
        framework.reminder_days,
        sorted(framework.tiers.values_list("code", "label", "min_index")),
    )


def exported(framework):
    return load_workbook(io.BytesIO(workbook.workbook_export(framework)))


def as_file(book) -> io.BytesIO:
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def errors_of(book) -> list[CellError]:
    with pytest.raises(WorkbookInvalid) as refused:
        workbook.read_workbook(as_file(book))
    return refused.value.errors


def row_of(sheet, code) -> int:
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == code:
            return row[0].row
    raise AssertionError(code)


def column_of(sheet, header) -> int:
    return next(cell.column for cell in sheet[1] if cell.value == header)


# --- the export is the import's layout ------------------------------------------------


def test_the_export_has_the_three_sheets_with_vietnamese_headers(ready):
    book = exported(ready)
    assert book.sheetnames == [TREE, TIERS, SETTINGS]
    assert [cell.value for cell in book[TREE][1]] == [
        "Mã",
        "Cấp",
        "Nội dung",
        "Điểm tối đa",
        "Phương pháp chấm",
        "Số liệu sử dụng",
        "Hàm tính điểm",
        "Tham số tính điểm",
        "Yêu cầu tài liệu kiểm chứng",
        "Hướng dẫn",
        "Mã đơn vị chủ trì",
        "Phòng chủ trì (theo chức năng)",
    ]
    assert [c.value for c in book[TREE][row_of(book[TREE], "1.1")]][10:] == [
        None,
        "justice",
    ]
    assert [c.value for c in book[TREE][row_of(book[TREE], "2.1")]][:9] == [
        "2.1",
        "criterion",
        "Mục 2.1",
        2,
        "metric",
        "on_time_rate",
        "banded",
        "95:1; 80:0.5",
        "không",
    ]
    assert [[c.value for c in row] for row in book[SETTINGS].iter_rows()] == [
        ["Thông tin", "Giá trị"],
        ["Năm", 2025],
        ["Loại đơn vị", "commune"],
        ["Tên bộ chỉ số", "Chỉ số CCHC cấp xã"],
        ["Hạn tự đánh giá", "07/01/2026"],
        ["Số ngày được khiếu nại", 10],
        ["Nhắc trước hạn (ngày)", "10; 3"],
    ]
    formula_cell = book[TREE].cell(row_of(book[TREE], "1.1.1"), 10)
    assert formula_cell.data_type == "s"


def test_a_round_trip_gives_the_same_framework(ready, reviewer):
    before_tree, before_settings = tree(ready), settings_of(ready)
    content = workbook.workbook_export(ready)
    ready.delete()
    imported = workbook.framework_import(user=reviewer, stream=io.BytesIO(content))
    assert tree(imported) == before_tree
    assert settings_of(imported) == before_settings
    assert imported.state == FrameworkState.DRAFT
    # …and exporting it again gives the same workbook contents.
    again = exported(imported)
    original = load_workbook(io.BytesIO(content))
    for name in original.sheetnames:
        assert [[c.value for c in r] for r in again[name].iter_rows()] == [
            [c.value for c in r] for r in original[name].iter_rows()
        ]


def test_the_demo_frameworks_round_trip(reviewer, org):
    from demo import frameworks as demo

    for kind in (UnitKind.DEPARTMENT, UnitKind.COMMUNE):
        loaded = frameworks.framework_load(
            user=reviewer, data=demo.framework_data(kind, 2024)
        )
        before = tree(loaded)
        content = workbook.workbook_export(loaded)
        again = workbook.framework_import(
            user=reviewer, stream=io.BytesIO(content), replace=True
        )
        assert again.pk == loaded.pk
        assert tree(again) == before


def test_english_headers_in_any_order_and_vietnamese_values_are_read(ready, reviewer):
    book = exported(ready)
    sheet = book[TREE]
    english = {
        "Mã": "code",
        "Cấp": "level",
        "Nội dung": "title",
        "Điểm tối đa": "max points",
        "Phương pháp chấm": "method",
        "Số liệu sử dụng": "metric",
        "Hàm tính điểm": "scoring_function",
        "Tham số tính điểm": "scoring_params",
        "Yêu cầu tài liệu kiểm chứng": "evidence_required",
        "Hướng dẫn": "guidance",
        "Mã đơn vị chủ trì": "owner_unit_code",
        "Phòng chủ trì (theo chức năng)": "owner_kind",
    }
    for cell in sheet[1]:
        cell.value = english[cell.value]
    sheet.move_range("A1:A8", cols=12)  # the code column last
    sheet.delete_cols(1)
    leaf = row_of_by_column(sheet, "1.1.2", column=12)
    sheet.cell(leaf, 11).value = "Phòng Tư pháp"  # the office, as officials name it
    sheet.cell(leaf, 1).value = "Tiêu chí thành phần"
    sheet.cell(leaf, 4).value = "Tự chấm"
    sheet.cell(leaf, 8).value = "Có"
    book[TIERS].title = "tiers"
    book[SETTINGS].title = "settings"
    book["settings"]["B3"] = "Cấp xã"
    ready.delete()
    imported = workbook.framework_import(user=reviewer, stream=as_file(book))
    assert Node.objects.get(framework=imported, code="1.1.2").evidence_required
    assert Node.objects.get(framework=imported, code="1.1.2").owner_kind == "justice"
    assert imported.unit_kind == UnitKind.COMMUNE
    assert len(tree(imported)) == 7


def row_of_by_column(sheet, code, *, column):
    for row in sheet.iter_rows(min_row=2):
        if row[column - 1].value == code:
            return row[0].row
    raise AssertionError(code)


def test_the_empty_template_asks_only_for_the_items(reviewer):
    book = load_workbook(io.BytesIO(workbook.template_export(year=2026)))
    assert book.sheetnames == [TREE, TIERS, SETTINGS]
    assert errors_of(book) == [CellError(TREE, None, "", "The sheet lists no item.")]


# --- bad workbooks -----------------------------------------------------------------


def test_a_missing_column_is_named(ready):
    book = exported(ready)
    book[TREE].delete_cols(column_of(book[TREE], "Điểm tối đa"))
    assert errors_of(book) == [
        CellError(
            TREE,
            1,
            "Điểm tối đa",
            "The column “Điểm tối đa” is missing: the first row names the columns.",
        )
    ]


def test_a_missing_sheet_and_a_missing_setting_are_named(ready):
    book = exported(ready)
    del book[TIERS]
    book[SETTINGS].delete_rows(5)  # the deadline
    errors = errors_of(book)
    assert CellError(TIERS, None, "", "The workbook has no sheet “Xếp loại”.") in (
        errors
    )
    assert (
        CellError(
            SETTINGS, None, "Thông tin", "The setting “Hạn tự đánh giá” is missing."
        )
        in errors
    )


def test_a_duplicate_code_names_both_rows(ready):
    book = exported(ready)
    sheet = book[TREE]
    sheet.cell(row_of(sheet, "2.2"), 1).value = "2.1"
    errors = errors_of(book)
    assert errors[0] == CellError(
        TREE, 8, "Mã", "The code 2.1 appears twice: rows 7 and 8."
    )


def test_a_missing_parent_is_named(ready):
    book = exported(ready)
    sheet = book[TREE]
    sheet.append(["3.1", "criterion", "Mồ côi", 1, "manual"])
    assert errors_of(book) == [
        CellError(TREE, 9, "Mã", "3.1 has no parent: there is no item 3.")
    ]


def test_maxima_that_do_not_add_up_are_refused_at_the_parents_row(ready):
    book = exported(ready)
    sheet = book[TREE]
    sheet.cell(row_of(sheet, "1.1.2"), column_of(sheet, "Điểm tối đa")).value = 3.5
    assert errors_of(book) == [
        CellError(
            TREE,
            row_of(sheet, "1.1"),
            "Điểm tối đa",
            "1.1 has a maximum of 6.00 points but its items 1.1.1, 1.1.2 add up "
            "to 5.50.",
        )
    ]


@pytest.mark.parametrize(
    ("header", "code", "value", "message"),
    [
        ("Điểm tối đa", "1.1.1", "hai", "1.1.1: “hai” is not a number."),
        ("Điểm tối đa", "1.1.1", "1.555", "1.1.1: At most two decimals."),
        ("Điểm tối đa", "1.1.1", -2, "1.1.1: The maximum must be above 0."),
        (
            "Phương pháp chấm",
            "1.1.1",
            "bốc thăm",
            "“bốc thăm” is not a valid scoring method; write one of: manual, metric, "
            "survey.",
        ),
        (
            "Số liệu sử dụng",
            "2.1",
            "tỷ lệ may mắn",
            "“tỷ lệ may mắn” is not a valid metric; write one of: digitization_rate, "
            "on_time_rate, online_full_rate, online_payment_rate, online_rate, "
            "satisfaction_rate.",
        ),
        (
            "Hàm tính điểm",
            "2.1",
            "bậc thang",
            "“bậc thang” is not a valid scoring function; write one of: banded, "
            "linear.",
        ),
        (
            "Tham số tính điểm",
            "2.1",
            "95:3",
            "2.1: A band's share is from 0 to 1.",
        ),
        (
            "Cấp",
            "1.1",
            "subcriterion",
            "1.1 is a criterion by its code, not a sub-criterion.",
        ),
        (
            "Cấp",
            "1.1",
            "tầng",
            "“tầng” is not a valid item level; write one of: criterion, field, "
            "subcriterion.",
        ),
        (
            "Yêu cầu tài liệu kiểm chứng",
            "1.1.1",
            "có lẽ",
            "1.1.1: “có lẽ” is neither yes (có, 1) nor no (không, 0).",
        ),
        (
            "Mã đơn vị chủ trì",
            "1.1.1",
            "PHONG-X",
            "1.1.1: no unit has the code “PHONG-X”.",
        ),
        (
            "Phòng chủ trì (theo chức năng)",
            "1.1",
            "Phòng Ngoại giao",
            "“Phòng Ngoại giao” is not a valid office function; write one of: "
            "agriculture, culture, economy, education, finance, health, "
            "home_affairs, inspectorate, justice, office.",
        ),
        ("Nội dung", "1.1.1", None, "1.1.1: give the title."),
        (
            "Phương pháp chấm",
            "1.1",
            "survey",
            "1.1 has items below it: only its leaves are scored, so the scoring "
            "method belongs on them.",
        ),
        ("Mã", "1.1.1", "1.1.x.9", "“1.1.x.9” is deeper than a sub-criterion"),
    ],
)
def test_a_bad_cell_is_named_by_sheet_row_and_column(
    ready, header, code, value, message
):
    book = exported(ready)
    sheet = book[TREE]
    row = row_of(sheet, code)
    sheet.cell(row, column_of(sheet, header)).value = value
    errors = errors_of(book)
    assert errors[0].sheet == TREE
    assert errors[0].row == row
    assert errors[0].column == header
    assert errors[0].message.startswith(message)


def test_a_metric_on_a_leaf_not_scored_from_the_figures_is_named(ready):
    book = exported(ready)
    sheet = book[TREE]
    sheet.cell(
        row_of(sheet, "2.1"), column_of(sheet, "Phương pháp chấm")
    ).value = "manual"
    assert errors_of(book) == [
        CellError(
            TREE,
            row_of(sheet, "2.1"),
            "Số liệu sử dụng",
            "2.1: only a leaf scored from the dossier figures reads a metric; "
            "choose that method or leave the metric empty.",
        )
    ]


@pytest.mark.parametrize(
    ("setting_row", "value", "message"),
    [
        (5, "31/02/2026", "Hạn tự đánh giá: “31/02/2026” is not a date; write "),
        (5, "mùng 7 tết", "Hạn tự đánh giá: “mùng 7 tết” is not a date"),
        (2, "năm nay", "Năm: “năm nay” is not a year from 2000 to 2100."),
        (3, "tỉnh thành", "Loại đơn vị: “tỉnh thành” is not a kind of unit"),
        (6, "mười", "Số ngày được khiếu nại: “mười” is not a number of days"),
        (7, "7; hai", "Nhắc trước hạn (ngày): “hai” is not a number of days"),
    ],
)
def test_a_bad_setting_is_named_by_its_row(ready, setting_row, value, message):
    book = exported(ready)
    book[SETTINGS].cell(setting_row, 2).value = value
    errors = errors_of(book)
    assert [(e.sheet, e.row, e.column) for e in errors] == [
        (SETTINGS, setting_row, "Giá trị")
    ]
    assert errors[0].message.startswith(message)


def test_a_date_cell_is_read_as_the_deadline(ready):
    book = exported(ready)
    book[SETTINGS]["B5"] = date(2026, 1, 10)
    assert workbook.read_workbook(as_file(book)).deadline == date(2026, 1, 10)


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (2, 3, "chín mươi", "“chín mươi” is not a number."),
        (3, 1, "A", "The tier A appears twice."),
        (5, 3, 10, "The lowest tier (D) must start at 0"),
    ],
)
def test_a_bad_tier_is_named_by_its_row(ready, row, column, value, message):
    book = exported(ready)
    book[TIERS].cell(row, column).value = value
    errors = errors_of(book)
    assert (errors[0].sheet, errors[0].row) == (TIERS, row)
    assert errors[0].message.startswith(message)


def test_every_problem_is_listed_and_nothing_is_saved(ready, reviewer):
    book = exported(ready)
    sheet = book[TREE]
    sheet.cell(row_of(sheet, "1.1.1"), 4).value = "x"
    sheet.cell(row_of(sheet, "2.1"), 6).value = "?"
    book[SETTINGS]["B5"] = "hôm qua"
    before = tree(ready)
    with pytest.raises(WorkbookInvalid) as refused:
        workbook.framework_import(user=reviewer, stream=as_file(book), replace=True)
    assert [(e.sheet, e.row) for e in refused.value.errors] == [
        (SETTINGS, 5),
        (TREE, row_of(sheet, "1.1.1")),
        (TREE, row_of(sheet, "2.1")),
    ]
    assert tree(ready) == before


def test_a_file_that_is_not_a_workbook_is_refused(reviewer):
    with pytest.raises(WorkbookInvalid) as refused:
        workbook.framework_import(user=reviewer, stream=io.BytesIO(b"ma,ten\n1,x\n"))
    assert refused.value.errors == [
        CellError("", None, "", "The file is not an Excel workbook (XLSX).")
    ]


def test_an_empty_workbook_names_its_missing_sheets(reviewer):
    assert [e.message for e in errors_of(Workbook())] == [
        "The workbook has no sheet “Thông tin chung”.",
        "The workbook has no sheet “Xếp loại”.",
        "The workbook has no sheet “Chỉ số”.",
    ]


# --- an existing framework ---------------------------------------------------------


def test_an_existing_framework_is_replaced_only_when_asked(ready, reviewer):
    book = exported(ready)
    book[TREE].cell(row_of(book[TREE], "1.1.1"), 3).value = "Tiêu đề mới"
    with pytest.raises(WorkbookInvalid) as refused:
        workbook.framework_import(user=reviewer, stream=as_file(book))
    assert "Tick “replace”" in refused.value.errors[0].message
    replaced = workbook.framework_import(
        user=reviewer, stream=as_file(book), replace=True
    )
    assert replaced.pk == ready.pk
    assert Node.objects.get(framework=ready, code="1.1.1").title == "Tiêu đề mới"


def test_an_open_framework_is_never_replaced(ready, reviewer):
    frameworks.framework_open(user=reviewer, framework=ready, today=date(2025, 3, 1))
    with pytest.raises(WorkbookInvalid) as refused:
        workbook.framework_import(
            user=reviewer, stream=as_file(exported(ready)), replace=True
        )
    assert refused.value.errors[0].message == (
        "The framework Chỉ số CCHC cấp xã is open for self-assessment: only a "
        "draft can be replaced by an import."
    )


def test_a_workbook_for_another_year_is_a_new_framework(ready, reviewer):
    book = exported(ready)
    book[SETTINGS]["B2"] = 2026
    book[SETTINGS]["B3"] = "department"
    created = workbook.framework_import(user=reviewer, stream=as_file(book))
    assert (created.year, created.unit_kind) == (2026, UnitKind.DEPARTMENT)
    assert Framework.objects.count() == 2
    assert created.tiers.get(code="A").min_index == Decimal(90)


def test_only_reviewers_import(ready, commune_staff):
    book = exported(ready)
    book[SETTINGS]["B2"] = 2026
    with pytest.raises(PermissionDenied):
        workbook.framework_import(user=commune_staff, stream=as_file(book))
