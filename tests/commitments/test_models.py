"""Organisation invariants: paths, tenures, lineage."""

import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from commitments.organisation import services
from commitments.organisation.models import HeadPosition, Unit, UnitKind
from tests.factories import HeadFactory, UnitFactory
from tests.wording import vi


def test_unit_path_is_its_ancestry(org):
    assert org.commune_a.path == (
        f"/{org.province.pk:08d}/{org.city.pk:08d}/{org.commune_a.pk:08d}/"
    )
    assert org.commune_a.is_descendant_of(org.city)
    assert not org.city.is_descendant_of(org.commune_a)


def test_moving_a_unit_rewrites_the_paths_below_it(org):
    org.city.parent = org.department
    org.city.save()
    org.commune_a.refresh_from_db()
    assert (
        org.commune_a.path
        == "".join(
            f"/{unit.pk:08d}"
            for unit in (org.province, org.department, org.city, org.commune_a)
        )
        + "/"
    )


def test_a_unit_cannot_end_before_it_starts(db):
    unit = Unit(code="X", name="X", kind=UnitKind.COMMUNE, valid_from=date(2024, 1, 1))
    unit.valid_to = date(2023, 1, 1)
    ends = re.escape(vi("A unit cannot end before it starts."))
    with pytest.raises(ValidationError, match=ends):
        unit.full_clean()


def test_head_tenures_of_the_same_unit_may_not_overlap(org):
    HeadFactory(
        unit=org.commune_a,
        full_name="Trần Văn Cũ",
        tenure_from=date(2020, 1, 1),
        tenure_to=date(2023, 6, 30),
    )
    with pytest.raises(ValidationError) as excinfo:
        services.head_upsert(
            unit=org.commune_a, full_name="Lê Thị Mới", tenure_from=date(2023, 6, 30)
        )
    assert "Trần Văn Cũ" in str(excinfo.value)
    # The day after the tenure ends is free.
    services.head_upsert(
        unit=org.commune_a, full_name="Lê Thị Mới", tenure_from=date(2023, 7, 1)
    )


def test_an_open_tenure_blocks_every_later_head(org):
    HeadFactory(unit=org.commune_a, tenure_from=date(2020, 1, 1), tenure_to=None)
    with pytest.raises(ValidationError):
        services.head_upsert(
            unit=org.commune_a, full_name="Lê Thị Mới", tenure_from=date(2026, 1, 1)
        )


def test_deputies_may_serve_side_by_side_with_the_head(org):
    HeadFactory(unit=org.commune_a, tenure_from=date(2020, 1, 1))
    for name in ("Phó Một", "Phó Hai"):
        services.head_upsert(
            unit=org.commune_a,
            full_name=name,
            position=HeadPosition.DEPUTY,
            tenure_from=date(2021, 1, 1),
        )


def test_heads_of_different_units_do_not_conflict(org):
    HeadFactory(unit=org.commune_a, tenure_from=date(2020, 1, 1))
    HeadFactory(unit=org.commune_b, tenure_from=date(2020, 1, 1))


def test_database_refuses_overlapping_heads_that_bypass_validation(org):
    HeadFactory(unit=org.commune_a, tenure_from=date(2020, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        HeadFactory(unit=org.commune_a, tenure_from=date(2022, 1, 1))
    late = HeadFactory(unit=org.commune_b, tenure_from=date(2020, 1, 1))
    late.unit = org.commune_a
    with pytest.raises(IntegrityError), transaction.atomic():
        late.save()


def test_merged_unit_keeps_its_lineage(org):
    merged = services.unit_upsert(
        code="CITY-AB",
        name="Phường AB",
        kind=UnitKind.COMMUNE,
        parent=org.city,
        valid_from=date(2025, 7, 1),
        predecessors=[org.commune_a, org.commune_b],
    )
    assert set(merged.predecessors.values_list("code", flat=True)) == {
        "CITY-A",
        "CITY-B",
    }
    assert list(org.commune_a.successors.all()) == [merged]


def test_unit_upsert_updates_by_code(org):
    services.unit_upsert(
        code="CITY-A",
        name="Phường A mới",
        kind=UnitKind.COMMUNE,
        parent=org.city,
        valid_from=date(2019, 1, 1),
    )
    assert Unit.objects.filter(code="CITY-A").get().name == "Phường A mới"
    assert Unit.objects.count() == 5


def test_a_unit_cannot_be_placed_under_its_own_descendant(org):
    org.city.parent = org.commune_a
    inside = re.escape(vi("A unit cannot be placed inside its own subtree."))
    with pytest.raises(ValidationError, match=inside):
        org.city.full_clean()


def test_tenure_cannot_end_before_it_starts(org):
    head = HeadFactory.build(
        unit=org.commune_a, tenure_from=date(2024, 1, 1), tenure_to=date(2023, 1, 1)
    )
    ends = re.escape(vi("A tenure cannot end before it starts."))
    with pytest.raises(ValidationError, match=ends):
        head.full_clean()


def test_factory_unit_has_a_path(db):
    unit = UnitFactory()
    assert unit.path == f"/{unit.pk:08d}/"


def test_units_sort_parent_first_and_siblings_in_creation_order(org):
    """Even past id 10, whose unpadded path would sort before id 2's."""
    for n in range(12):
        UnitFactory(code=f"CITY-X{n:02d}", parent=org.city)
    listed = [u.code for u in Unit.objects.filter(path__startswith=org.city.path)]
    assert listed == ["CITY", "CITY-A", "CITY-B"] + [
        f"CITY-X{n:02d}" for n in range(12)
    ]
