"""Spreadsheet import of units and heads: every problem is a row error in the
dry run, and nothing is written until the file is clean."""

import tablib

from commitments.organisation.models import Head, Unit
from commitments.organisation.resources import HeadResource, UnitResource
from tests.factories import HeadFactory, RankingGroupFactory
from tests.wording import vi

UNIT_HEADERS = [
    "code",
    "name",
    "kind",
    "parent_code",
    "ranking_group",
    "valid_from",
    "valid_to",
    "predecessor_codes",
]
HEAD_HEADERS = [
    "unit_code",
    "full_name",
    "title",
    "position",
    "tenure_from",
    "tenure_to",
]


def dry_run(resource, headers, rows):
    return resource().import_data(tablib.Dataset(*rows, headers=headers), dry_run=True)


def row_errors(result):
    """{row number: {field: [messages]}} for every invalid or failed row."""
    errors = {}
    for invalid in result.invalid_rows:
        errors[invalid.number] = invalid.error_dict
    for number, row_errs in result.row_errors():
        errors[number] = {"__all__": [str(err.error) for err in row_errs]}
    return errors


def test_clean_unit_file_imports_with_parents_and_groups(org):
    RankingGroupFactory(code="communes")
    rows = [
        ("CITY-C", "Phường C", "commune", "CITY", "communes", "01/01/2020", "", ""),
        (
            "CITY-D",
            "Phường D",
            "commune",
            "CITY",
            "",
            "2025-07-01",
            "",
            "CITY-A;CITY-B",
        ),
    ]
    result = UnitResource().import_data(
        tablib.Dataset(*rows, headers=UNIT_HEADERS), dry_run=False
    )
    assert not result.has_errors()
    assert not result.has_validation_errors()
    merged = Unit.objects.get(code="CITY-D")
    assert merged.parent == org.city
    assert set(merged.predecessors.values_list("code", flat=True)) == {
        "CITY-A",
        "CITY-B",
    }
    assert Unit.objects.get(code="CITY-C").ranking_group.code == "communes"


def test_unknown_parent_is_reported_on_its_row_and_field(org):
    rows = [
        ("CITY-C", "Phường C", "commune", "CITY", "", "01/01/2020", "", ""),
        ("CITY-E", "Phường E", "commune", "NOWHERE", "", "01/01/2020", "", ""),
    ]
    errors = row_errors(dry_run(UnitResource, UNIT_HEADERS, rows))
    assert list(errors) == [2]
    assert "NOWHERE" in errors[2]["parent"][0]


def test_duplicate_code_in_one_file_is_reported_on_the_second_row(org):
    rows = [
        ("CITY-C", "Phường C", "commune", "CITY", "", "01/01/2020", "", ""),
        ("CITY-D", "Phường D", "commune", "CITY", "", "01/01/2020", "", ""),
        ("CITY-C", "Phường C bis", "commune", "CITY", "", "01/01/2020", "", ""),
    ]
    errors = row_errors(dry_run(UnitResource, UNIT_HEADERS, rows))
    assert list(errors) == [3]
    repeated = vi("“%(key)s” already appears in row %(row)s of this file.")
    assert errors[3]["code"] == [repeated % {"key": "CITY-C", "row": 1}]


def test_bad_kind_date_and_predecessor_are_row_errors(org):
    rows = [
        ("CITY-F", "F", "village", "CITY", "", "01/01/2020", "", ""),
        ("CITY-G", "G", "commune", "CITY", "", "31/02/2020", "", ""),
        ("CITY-H", "H", "commune", "CITY", "", "01/01/2020", "", "CITY-A;GHOST"),
        ("CITY-I", "I", "commune", "CITY", "", "01/01/2020", "01/01/2019", ""),
    ]
    errors = row_errors(dry_run(UnitResource, UNIT_HEADERS, rows))
    assert set(errors) == {1, 2, 3, 4}
    assert "kind" in errors[1]
    assert "valid_from" in errors[2]
    assert "GHOST" in str(errors[3])
    assert vi("A unit cannot end before it starts.") in str(errors[4])


def test_dry_run_writes_nothing(org):
    rows = [("CITY-C", "Phường C", "commune", "CITY", "", "01/01/2020", "", "")]
    result = dry_run(UnitResource, UNIT_HEADERS, rows)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert not Unit.objects.filter(code="CITY-C").exists()


def test_export_round_trips_through_import(org):
    exported = UnitResource().export()
    result = UnitResource().import_data(exported, dry_run=True)
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert {row.import_type for row in result.rows} == {"skip"}


def test_overlapping_head_tenure_is_a_row_error(org):
    HeadFactory(unit=org.commune_a, full_name="Trần Văn Cũ", tenure_from="2020-01-01")
    rows = [
        (
            "CITY-B",
            "Lê Văn Một",
            "Chủ tịch UBND xã",
            "head",
            "01/01/2020",
            "31/12/2022",
        ),
        ("CITY-B", "Lê Văn Hai", "Chủ tịch UBND xã", "head", "01/01/2022", ""),
        ("CITY-A", "Phạm Văn Ba", "Chủ tịch UBND phường", "head", "01/01/2024", ""),
        ("CITY-Z", "Ai Đó", "", "head", "01/01/2024", ""),
    ]
    errors = row_errors(dry_run(HeadResource, HEAD_HEADERS, rows))
    assert set(errors) == {2, 3, 4}
    assert "Lê Văn Một" in str(errors[2])  # overlaps a row earlier in the file
    assert "Trần Văn Cũ" in str(errors[3])  # overlaps a head already recorded
    assert "CITY-Z" in str(errors[4])
    assert Head.objects.count() == 1
