"""Issue 17, item 11: a criterion's owner named by office function (Phòng Tư
pháp) is found inside each city whose published index lost the points; a
deduction against a city that arose in one of its offices or communes asks
that unit's head to explain it too (seed 000)."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from commitments.organisation.models import OfficeFunction, UnitKind
from scoring.adjustments import services as adjustments
from scoring.models import (
    AccountabilityCase,
    AdjustmentRule,
    CaseKind,
    Node,
    NodeLevel,
)
from scoring.results import computation, publication
from tests.factories import HeadFactory, UnitFactory
from tests.scoring.accountability.test_services import city_framework
from tests.scoring.results_helpers import add_tiers_and_catalogue, record, scored

NOW = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def province_of_two_cities(org):
    """Two cities on one framework, each with its Phòng Tư pháp and Phòng
    Nội vụ; the criterion 1.1 is owned by "justice", 1.2 by "home affairs"."""
    other = UnitFactory(
        code="CITY2", name="UBND TP Hai", kind=UnitKind.DISTRICT, parent=org.province
    )
    offices = {}
    for city in (org.city, other):
        for function, name in (
            (OfficeFunction.JUSTICE, "Phòng Tư pháp"),
            (OfficeFunction.HOME_AFFAIRS, "Phòng Nội vụ"),
        ):
            office = UnitFactory(
                code=f"{city.code}-{function}",
                name=f"{name} {city.name}",
                kind=UnitKind.OFFICE,
                office_function=function,
                parent=city,
            )
            HeadFactory(unit=office, full_name=f"Trưởng {office.name}")
            offices[(city.code, function)] = office
    HeadFactory(unit=org.commune_a, full_name="Chủ tịch Phường A")
    framework, field = city_framework()
    for position, (code, title, maximum, kind) in enumerate(
        (
            ("1.1", "Kiểm soát TTHC", "4", OfficeFunction.JUSTICE),
            ("1.2", "Tổ chức bộ máy", "6", OfficeFunction.HOME_AFFAIRS),
        ),
        start=1,
    ):
        Node.objects.create(
            framework=framework,
            parent=field,
            code=code,
            title=title,
            level=NodeLevel.CRITERION,
            max_points=D(maximum),
            position=position,
            owner_kind=kind,
        )
    add_tiers_and_catalogue(framework)
    return framework, other, offices


def test_an_owner_by_function_is_asked_in_each_city_that_lost_the_points(
    org, reviewer, province_of_two_cities
):
    framework, other, offices = province_of_two_cities
    # The city lost points on 1.1 (justice); the other city on 1.2 only.
    scored(framework, org.city, {"1.1": ("4", "2"), "1.2": ("6", "6")})
    scored(framework, other, {"1.1": ("4", "4"), "1.2": ("6", "5")})
    run = computation.compute_now(2025)
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=NOW)

    asked = sorted(
        (case.unit.code, case.subject, case.facts["city"])
        for case in AccountabilityCase.objects.filter(kind=CaseKind.CRITERION)
    )
    assert asked == [
        ("CITY-justice", "1.1", "CITY"),
        ("CITY2-home_affairs", "1.2", "CITY2"),
    ]
    case = AccountabilityCase.objects.get(unit=offices[("CITY", "justice")])
    assert case.head.full_name == "Trưởng Phòng Tư pháp UBND TP"


def test_a_deduction_names_where_it_arose_and_that_head_explains(
    org, reviewer, province_of_two_cities
):
    framework, _other, _offices = province_of_two_cities
    scored(framework, org.city, {"1.1": ("4", "4"), "1.2": ("6", "6")})
    complaint = record(framework, org.city, "harassment_complaint")
    complaint.source = org.commune_a
    complaint.save()
    run = computation.compute_now(2025)
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=NOW)

    [case] = AccountabilityCase.objects.filter(kind=CaseKind.DEDUCTION)
    assert (case.unit, case.head.full_name) == (org.commune_a, "Chủ tịch Phường A")
    assert case.facts["points"] == str(complaint.points)
    assert case.facts["city"] == "CITY"
    # Published again: still one.
    run = computation.compute_now(2025)
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=NOW)
    assert AccountabilityCase.objects.filter(kind=CaseKind.DEDUCTION).count() == 1


def test_only_a_deduction_names_a_unit_of_the_city_it_arose_in(
    org, reviewer, province_of_two_cities
):
    framework, _other, offices = province_of_two_cities
    rule = AdjustmentRule.objects.get(framework=framework, code="harassment_complaint")
    kwargs = {
        "user": reviewer,
        "framework": framework,
        "unit": org.city,
        "rule": rule,
        "cases": "1",
        "reason": "Kết luận thanh tra số 12/KL-TTr",
        "evidence": "",
        "now": NOW,
    }
    with pytest.raises(ValidationError) as elsewhere:
        adjustments.adjustment_enter(
            **kwargs, source=offices[("CITY2", OfficeFunction.JUSTICE)]
        )
    assert "source" in elsewhere.value.message_dict
    entered = adjustments.adjustment_enter(
        **kwargs, source=offices[("CITY", OfficeFunction.JUSTICE)]
    )
    assert entered.source == offices[("CITY", OfficeFunction.JUSTICE)]
    bonus = AdjustmentRule.objects.filter(framework=framework, points_per_case__gt=0)
    with pytest.raises(ValidationError):
        adjustments.adjustment_enter(
            **{**kwargs, "rule": bonus.first()}, source=org.commune_a
        )
