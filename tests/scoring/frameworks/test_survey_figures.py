"""A year's survey figures (issue 17, item 12): imported from a spreadsheet
(CSV or XLSX, all or nothing, every error by row and column) by whoever
manages the year's framework; stored per (year, unit, source); feeding the
survey leaves and the districts' commune-satisfaction bonus, the case
records' estimate (or the reviewer's entry) where none is imported, and the
explanation saying which was used."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from commitments.organisation.models import UnitKind
from scoring.frameworks import survey
from scoring.models import Adjustment, Framework, FrameworkState, Node, SurveyFigure
from scoring.results import computation
from scoring.results.selectors import explain
from tests.factories import UnitFactory
from tests.scoring.results_helpers import (
    add_tiers_and_catalogue,
    on_time,
    result_of,
    scored,
)

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
D = Decimal


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def load(user, text: str, year: int = 2025):
    return survey.survey_figures_import(user=user, year=year, stream=csv(text), now=NOW)


@pytest.fixture(autouse=True)
def english():
    """The messages are read in English here (the Vietnamese catalogue has
    them too: tests/cchc_portal/test_translations.py)."""
    with translation.override("en"):
        yield


def test_figures_are_stored_per_year_unit_and_source(year, org, reviewer):
    imported = load(
        reviewer,
        'unit_code,source,rate\nCITY-A,sipas,"87,5"\nCITY-A,portal,91\nCITY-B,SIPAS,80%\n',
    )
    assert (imported.created, imported.replaced) == (3, 0)
    assert set(SurveyFigure.objects.values_list("unit__code", "source", "rate")) == {
        ("CITY-A", "sipas", D("87.5")),
        ("CITY-A", "portal", D(91)),
        ("CITY-B", "sipas", D(80)),
    }
    again = load(reviewer, "mã đơn vị;nguồn;tỷ lệ\nCITY-A;sipas;70\n")
    assert (again.created, again.replaced) == (0, 1)
    assert SurveyFigure.objects.get(unit=org.commune_a, source="sipas").rate == 70


def test_an_xlsx_is_read_like_a_csv(year, org, reviewer):
    book = Workbook()
    sheet = book.active
    sheet.append(["unit_code", "source", "rate"])
    sheet.append(["CITY-A", "sipas", 88.25])
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    survey.survey_figures_import(
        user=reviewer, year=2025, stream=stream, file_name="x.xlsx", now=NOW
    )
    assert SurveyFigure.objects.get().rate == D("88.25")


def test_any_error_stores_nothing_and_each_is_named_by_row_and_column(
    year, org, reviewer
):
    with pytest.raises(ValidationError) as refused:
        load(
            reviewer,
            "unit_code,source,rate\n"
            "CITY-A,sipas,90\n"
            "NOPE,sipas,90\n"
            "CITY-B,survey,90\n"
            "CITY-B,portal,120\n"
            "CITY-A,sipas,91\n"
            "=HYPERLINK(1),sipas,90\n",
        )
    # Rows counted from 1 below the header (docs/decisions.md).
    assert refused.value.messages == [
        "Row 2, column unit_code “NOPE”: no unit has this code.",
        "Row 3, column source “survey”: neither sipas nor portal.",
        "Row 4, column rate “120”: A rate is from 0 to 100.",
        "Row 5: the same unit and source as row 1.",
        "Row 6, column unit_code “=HYPERLINK(1)”: a formula is not a value: "
        "type the value itself.",
        "Row 6, column unit_code “=HYPERLINK(1)”: no unit has this code.",
    ]
    assert not SurveyFigure.objects.exists()


def test_errors_name_the_columns_as_the_file_names_them(year, org, reviewer):
    with pytest.raises(ValidationError) as refused:
        load(reviewer, "Mã đơn vị;Nguồn;Tỷ lệ\nCITY-A;sipas;abc\n")
    assert refused.value.messages == [
        "Row 1, column Tỷ lệ “abc”: “abc” is not a number."
    ]


def test_a_file_without_the_columns_is_refused(year, org, reviewer):
    with pytest.raises(ValidationError) as refused:
        load(reviewer, "unit,rate\nCITY-A,90\n")
    assert refused.value.messages == [
        "The header row lacks the column(s) unit_code, source."
    ]


def test_only_who_manages_the_years_framework_imports(year, org, leader, commune_head):
    for user in (leader, commune_head):
        with pytest.raises(PermissionDenied):
            load(user, "unit_code,source,rate\nCITY-A,sipas,90\n")
    assert not SurveyFigure.objects.exists()


def test_a_published_year_takes_no_figures(year, org, reviewer):
    Framework.objects.filter(pk=year.pk).update(state=FrameworkState.PUBLISHED)
    with pytest.raises(ValidationError):
        load(reviewer, "unit_code,source,rate\nCITY-A,sipas,90\n")


def test_a_survey_leaf_earns_the_imported_rate_of_its_maximum(year, org, reviewer):
    """2.2 (survey, 2 points): SIPAS 87.50% → 1.75, whatever the reviewer
    entered (1.50); the portal's rating is used only without SIPAS."""
    scored(year, org.commune_a, {"2.2": (None, "1.50")})
    scored(year, org.commune_b, {"2.2": (None, "1.50")})
    load(
        reviewer,
        "unit_code,source,rate\nCITY-A,sipas,87.5\nCITY-A,portal,50\nCITY-B,portal,50\n",
    )
    run = computation.compute_now(2025)
    a, b = result_of(org.commune_a), result_of(org.commune_b)
    assert a.detail["leaves"]["2.2"]["p"] == "1.75"
    assert a.detail["leaves"]["2.2"]["sv"] == {"source": "sipas", "rate": "87.50"}
    assert b.detail["leaves"]["2.2"]["p"] == "1.00"
    line = next(line for line in explain(a, run.parameters).lines if line.code == "2.2")
    assert line.survey == {"source": "sipas", "rate": "87.50"}
    assert explain(a, run.parameters).problems() == []


def test_without_a_figure_the_reviewers_entry_counts_and_the_page_says_so(
    client, year, org, reviewer
):
    scored(year, org.commune_a, {"2.2": (None, "1.50")})
    computation.compute_now(2025)
    assert result_of(org.commune_a).detail["leaves"]["2.2"]["p"] == "1.50"
    client.force_login(reviewer)
    page = client.get(
        reverse("results_unit", args=[2025, org.commune_a.code]) + "?view=provisional"
    )
    assert b'data-testid="line-survey-entered"' in page.content


def test_the_district_bonus_uses_imported_figures_before_the_case_records(
    org, reviewer
):
    """The case records say 80% (below 85); the imported SIPAS rates say
    90% for A and 88% for B: mean 89%, the bonus is proposed and says so."""
    district = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DISTRICT, name="Chỉ số CCHC cấp huyện"
    )
    add_tiers_and_catalogue(district)
    Node.objects.create(
        framework=district, level="field", code="1", title="Lĩnh vực", max_points=10
    )
    scored(district, org.city, {"1": ("7", "7")})
    for unit in (org.commune_a, org.commune_b):
        on_time(unit, 2025, 90, 100, received=100, complaint_or_dissatisfied=10)
    computation.compute_now(2025)
    assert not Adjustment.objects.filter(unit=org.city).exists()
    Framework.objects.create(
        year=2025, unit_kind=UnitKind.COMMUNE, name="Chỉ số CCHC cấp xã"
    )
    load(reviewer, "unit_code,source,rate\nCITY-A,sipas,90\nCITY-B,sipas,88\n")
    computation.compute_now(2025)
    reason = Adjustment.objects.get(unit=org.city).reason
    assert "89.00%" in reason
    assert "survey figures: 2" in reason
    assert "case records: 0" in reason


def test_a_commune_without_a_figure_falls_back_to_its_case_records(org, reviewer):
    district = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DISTRICT, name="Chỉ số CCHC cấp huyện"
    )
    add_tiers_and_catalogue(district)
    Node.objects.create(
        framework=district, level="field", code="1", title="Lĩnh vực", max_points=10
    )
    scored(district, org.city, {"1": ("7", "7")})
    Framework.objects.create(
        year=2025, unit_kind=UnitKind.COMMUNE, name="Chỉ số CCHC cấp xã"
    )
    on_time(org.commune_b, 2025, 90, 100, received=100, complaint_or_dissatisfied=0)
    load(reviewer, "unit_code,source,rate\nCITY-A,portal,86\n")
    computation.compute_now(2025)
    reason = Adjustment.objects.get(unit=org.city).reason
    # A 86 (portal), B 90 (case records): mean 88.
    assert "88.00%" in reason
    assert "case records: 1" in reason


def test_a_reviewer_of_one_city_cannot_import_for_another(org, year, city_reviewer):
    town = UnitFactory(code="TOWN", kind=UnitKind.DISTRICT, parent=org.province)
    UnitFactory(code="TOWN-X", parent=town)
    with pytest.raises(PermissionDenied):
        load(city_reviewer, "unit_code,source,rate\nCITY-A,sipas,90\n")
