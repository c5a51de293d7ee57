"""Units and heads without the admin: the import_units and import_heads
commands, with the admin import's columns and checks, all rows or none, and
the exit statuses of every import command (0 loaded, 2 rows rejected, 1
failed)."""

import io
import re
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from commitments.organisation.models import Head, Unit
from tests.factories import HeadFactory, RankingGroupFactory
from tests.wording import vi

UNITS = "code,name,kind,parent_code,ranking_group,valid_from,valid_to,predecessor_codes"
HEADS = "unit_code,full_name,title,position,tenure_from,tenure_to"


def run(command, path, *args):
    """(output, exit status) as a shell would see them."""
    out = io.StringIO()
    try:
        call_command(command, str(path), *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exit:
        return out.getvalue(), exit.code
    return out.getvalue(), 0


def write(tmp_path, name, *lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def row_line(row, column, value, message):
    return vi("Row %(row)s, column %(column)s “%(value)s”: %(message)s") % {
        "row": row,
        "column": column,
        "value": value,
        "message": message,
    }


def test_a_units_file_loads_parents_groups_and_predecessors(org, tmp_path):
    RankingGroupFactory(code="xa")
    path = write(
        tmp_path,
        "units.csv",
        UNITS,
        "NEW-W,Phường Mới,commune,CITY,xa,01/07/2025,,CITY-A;CITY-B",
        "NEW-O,Văn phòng,office,NEW-W,,2025-07-01,31/12/2030,",
    )
    text, status = run("import_units", path)
    assert status == 0, text
    ward = Unit.objects.get(code="NEW-W")
    assert (ward.parent, ward.ranking_group.code) == (org.city, "xa")
    assert ward.valid_from == date(2025, 7, 1)
    assert set(ward.predecessors.values_list("code", flat=True)) == {
        "CITY-A",
        "CITY-B",
    }
    office = Unit.objects.get(code="NEW-O")
    assert (office.parent, office.valid_to) == (ward, date(2030, 12, 31))
    assert office.is_descendant_of(org.province)


def test_a_dry_run_checks_and_writes_nothing(org, tmp_path):
    path = write(
        tmp_path, "units.csv", UNITS, "NEW-W,Phường Mới,commune,CITY,,01/07/2025,,"
    )
    text, status = run("import_units", path, "--dry-run")
    assert status == 0
    assert not Unit.objects.filter(code="NEW-W").exists()
    assert "NEW-W" not in text  # no row problem
    dry = vi(
        "%(file)s: %(total)s rows read, all valid: %(new)s would be new, "
        "%(updated)s updated, %(unchanged)s unchanged (dry run: nothing was "
        "written)."
    )
    assert (
        dry
        % {
            "file": "units.csv",
            "total": 1,
            "new": 1,
            "updated": 0,
            "unchanged": 0,
        }
        in text
    )


def test_one_bad_row_writes_nothing_and_names_each_row_and_column(org, tmp_path):
    """Rows are counted from the first row below the header; the valid rows
    are not written either (one transaction), and the status is 2."""
    path = write(
        tmp_path,
        "units.csv",
        UNITS,
        "NEW-1,Xã Một,commune,CITY,,01/01/2020,,",
        "NEW-2,Xã Hai,commune,NOWHERE,,01/01/2020,,",
        "NEW-1,Xã Một lặp,commune,CITY,,01/01/2020,,",
        "NEW-3,Xã Ba,commune,CITY,,31/02/2020,,",
    )
    text, status = run("import_units", path)
    assert status == 2
    assert not Unit.objects.filter(code__startswith="NEW-").exists()
    assert (
        row_line(
            2,
            "parent_code",
            "NOWHERE",
            vi("No %(model)s has the code “%(code)s”.")
            % {"model": vi("unit"), "code": "NOWHERE"},
        )
        in text
    )
    assert row_line(3, "code", "NEW-1", "") in text  # repeats row 1
    assert (
        vi("“%(key)s” already appears in row %(row)s of this file.")
        % {
            "key": "NEW-1",
            "row": 1,
        }
        in text
    )
    assert row_line(4, "valid_from", "31/02/2020", "") in text
    # Vietnamese throughout, not only the reasons.
    assert "Row" not in text
    assert "column" not in text


def test_valid_from_is_required_for_a_new_unit_only(org, tmp_path):
    """A file of code, name and kind renames a stored unit (which keeps its
    dates) and refuses a new one, which needs the day it starts."""
    start = org.commune_a.valid_from
    path = write(tmp_path, "units.csv", "code,name,kind", "CITY-A,Phường A mới,commune")
    assert run("import_units", path)[1] == 0
    org.commune_a.refresh_from_db()
    assert (org.commune_a.name, org.commune_a.valid_from) == ("Phường A mới", start)

    path = write(tmp_path, "new.csv", "code,name,kind", "NEW-1,Xã Một,commune")
    text, status = run("import_units", path)
    assert status == 2
    assert vi("A new unit needs the date it starts, valid_from (dd/mm/yyyy).") in text
    assert not Unit.objects.filter(code="NEW-1").exists()


def test_an_xlsx_file_with_date_cells_loads(org, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(UNITS.split(","))
    sheet.append(["NEW-X", "Xã X", "commune", "CITY", None, date(2024, 1, 1)])
    sheet.append([None] * 8)  # a trailing empty row, as workbooks have
    path = tmp_path / "units.xlsx"
    book.save(path)
    text, status = run("import_units", path)
    assert status == 0, text
    assert Unit.objects.get(code="NEW-X").valid_from == date(2024, 1, 1)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "code,name",
            "Missing column(s): %(columns)s. The first row must name the columns.",
        ),
        (
            "code,name,kind,parent",
            "Unknown column(s): %(unknown)s. The columns are: %(columns)s.",
        ),
    ],
)
def test_a_file_without_the_columns_fails_with_status_1(org, tmp_path, header, message):
    path = write(
        tmp_path, "units.csv", header, ",".join(["X"] * header.count(",")) + ",X"
    )
    first = vi(message).split("%(")[0]
    with pytest.raises(CommandError, match=re.escape(first)) as raised:
        call_command("import_units", str(path), stdout=io.StringIO())
    assert raised.value.returncode == 1
    assert Unit.objects.count() == 5


def test_a_missing_file_fails(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("import_units", str(tmp_path / "none.csv"))
    assert raised.value.returncode == 1


def test_heads_load_and_an_overlap_or_a_bad_date_writes_nothing(org, tmp_path):
    HeadFactory(
        unit=org.commune_a,
        full_name="Nguyễn Văn Cũ",
        tenure_from=date(2020, 1, 1),
        tenure_to=date(2024, 12, 31),
    )
    good = write(
        tmp_path,
        "heads.csv",
        HEADS,
        "CITY-A,Trần Thị Mới,Chủ tịch UBND,head,01/01/2025,",
        "CITY-A,Lê Phó,Phó Chủ tịch,deputy,2025-01-01,",
    )
    assert run("import_heads", good)[1] == 0
    assert Head.objects.filter(unit=org.commune_a).count() == 3

    bad = write(
        tmp_path,
        "bad.csv",
        HEADS,
        "CITY-B,Phạm Hợp Lệ,Chủ tịch UBND,head,01/01/2025,",
        "CITY-A,Đỗ Trùng,Chủ tịch UBND,head,01/06/2024,",
        "NOWHERE,Vũ Không,,head,01/01/2025,",
        "CITY-B,Hồ Phó,,deputy,2025-13-01,",
    )
    text, status = run("import_heads", bad)
    assert status == 2
    assert not Head.objects.filter(unit=org.commune_b).exists()
    assert not Head.objects.filter(full_name="Đỗ Trùng").exists()
    assert row_line(2, "tenure_from", "01/06/2024", "") in text  # the overlap
    assert "Nguyễn Văn Cũ" in text
    assert row_line(3, "unit_code", "NOWHERE", "") in text
    assert row_line(4, "tenure_from", "2025-13-01", "") in text


def test_heads_dry_run_writes_nothing(org, tmp_path):
    path = write(tmp_path, "heads.csv", HEADS, "CITY-A,Trần Mới,,head,01/01/2025,")
    _, status = run("import_heads", path, "--dry-run")
    assert status == 0
    assert not Head.objects.exists()
