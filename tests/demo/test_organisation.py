"""seed_demo builds the demo province, and running it again changes nothing."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from commitments.organisation.models import (
    Head,
    HeadPosition,
    Membership,
    Unit,
    UnitKind,
)
from demo.organisation import (
    CITY_CODE,
    CITY_COMMUNES,
    CITY_OFFICES,
    DEMO_LOGINS,
    MERGER_DATE,
    NEW_WARDS,
    PROVINCE_CODE,
)

ENDED = "2025-06-30"


@pytest.fixture(autouse=True)
def organisation_only(settings):
    """The organisation's steps: the later ones (cases, frameworks, results)
    have tests of their own and would only make these slow."""
    settings.DEMO_STEPS = [
        step for step in settings.DEMO_STEPS if step.startswith("demo.organisation.")
    ]


def snapshot():
    return (
        sorted(Unit.objects.values_list("code", "name", "path", "valid_to")),
        sorted(
            Head.objects.values_list(
                "unit__code", "full_name", "tenure_from", "tenure_to"
            )
        ),
        sorted(Membership.objects.values_list("user__username", "unit__code", "role")),
        get_user_model().objects.count(),
    )


def test_seed_demo_is_repeatable(seed_demo):
    out = seed_demo()
    first = snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert snapshot() == first
    for login in DEMO_LOGINS:
        assert login.username in out


def test_demo_city_matches_seed_000(seed_demo):
    """12 specialised offices, the land-registry branch, 19 wards and communes."""
    seed_demo()
    city = Unit.objects.get(code=CITY_CODE)
    children = city.children.all()
    assert children.filter(kind=UnitKind.OFFICE).count() == len(CITY_OFFICES) == 12
    # Each office says what it does: Phòng Tư pháp answers for "justice" items.
    functions = dict(
        children.filter(kind=UnitKind.OFFICE).values_list("name", "office_function")
    )
    assert functions["Phòng Tư pháp"] == "justice"
    assert functions["Phòng Nội vụ"] == "home_affairs"
    assert "" not in functions.values()
    assert not Unit.objects.exclude(kind=UnitKind.OFFICE).exclude(office_function="")
    before_merger = children.filter(kind=UnitKind.COMMUNE, valid_from__year__lt=2025)
    assert before_merger.count() == len(CITY_COMMUNES) == 19
    # The branch is the province's land-registry office's: it outlives the city.
    branch = Unit.objects.get(kind=UnitKind.BRANCH)
    assert branch.parent.code == PROVINCE_CODE
    assert branch.valid_to is None


def test_demo_is_two_tier_from_1_july_2025(seed_demo):
    """The district level and its offices end on 30/06/2025; from 01/07/2025
    every commune-level unit is directly under the province, in one ranking
    group, and no unit of 2026 lies under a district."""
    seed_demo()
    districts = Unit.objects.filter(kind=UnitKind.DISTRICT)
    assert districts.count() == 12
    for unit in Unit.objects.filter(
        kind__in=[UnitKind.DISTRICT, UnitKind.OFFICE, UnitKind.COMMUNE],
        valid_from__lt=MERGER_DATE,
    ):
        assert unit.valid_to.isoformat() == ENDED, unit.code
        # Their heads and deputies leave office when the unit ends.
        assert not unit.heads.filter(tenure_to=None).exists(), unit.code
    later = Unit.objects.filter(valid_to=None)
    assert not later.filter(kind__in=[UnitKind.DISTRICT, UnitKind.OFFICE]).exists()
    communes = later.filter(kind=UnitKind.COMMUNE)
    assert communes.count() == len(NEW_WARDS) + 11
    assert {c.parent.code for c in communes} == {PROVINCE_CODE}
    assert {c.valid_from for c in communes} == {MERGER_DATE}
    assert len({c.ranking_group_id for c in communes}) == 1
    assert not Unit.objects.filter(
        valid_from__lt=MERGER_DATE, ranking_group=communes[0].ranking_group
    ).exists()
    assert not later.filter(parent__kind=UnitKind.DISTRICT).exists()


def test_demo_chi_linh_merges_into_six_wards_with_their_lineage(seed_demo):
    seed_demo()
    old = set(
        Unit.objects.filter(parent__code=CITY_CODE, kind=UnitKind.COMMUNE)
        .filter(valid_from__lt=MERGER_DATE)
        .values_list("code", flat=True)
    )
    seen = []
    for suffix, name, olds in NEW_WARDS:
        ward = Unit.objects.get(code=f"{CITY_CODE}-{suffix}")
        assert ward.name == name
        predecessors = set(ward.predecessors.values_list("code", flat=True))
        assert predecessors == {f"{CITY_CODE}-{o}" for o in olds}
        seen += predecessors
    # Every old ward and commune went into exactly one new ward.
    assert sorted(seen) == sorted(old)
    assert len(NEW_WARDS) == 6
    assert Unit.objects.get(code=f"{CITY_CODE}-CHILINH").predecessors.count() == 3


def test_demo_heads_change_over_the_years(seed_demo):
    seed_demo()
    changed = set(
        Head.objects.filter(
            position=HeadPosition.HEAD, tenure_from__year__in=[2023, 2024]
        ).values_list("unit__code", flat=True)
    )
    assert len(changed) >= 10
    assert Unit.objects.filter(heads__isnull=True).count() == 0


def test_demo_head_login_is_linked_to_the_head_in_office(seed_demo):
    seed_demo()
    head = Head.objects.get(user__username="truong.phalai")
    assert head.tenure_to is None
    # Phường Phả Lại ended on 30/06/2025: the login is the head of the ward
    # it went into.
    assert head.unit.code == f"{CITY_CODE}-LEDAIHANH"
    assert head.unit.predecessors.filter(code=f"{CITY_CODE}-PHALAI").exists()


def test_demo_logins_of_ended_units_moved_on(seed_demo):
    """A login whose unit ended on 30/06/2025 belongs to a unit of today
    (its successor, or the province)."""
    seed_demo()
    for login in DEMO_LOGINS:
        if login.unit_code:
            current = Membership.objects.filter(
                user__username=login.username, unit__valid_to=None
            )
            assert current.exists(), login.username
    assert Membership.objects.get(user__username="noivu.chilinh").unit.code == (
        PROVINCE_CODE
    )
