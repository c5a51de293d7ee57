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
from demo.organisation import CITY_CODE, CITY_COMMUNES, CITY_OFFICES, DEMO_LOGINS


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
    assert children.filter(kind=UnitKind.BRANCH).count() == 1
    before_merger = children.filter(kind=UnitKind.COMMUNE, valid_from__year__lt=2025)
    assert before_merger.count() == len(CITY_COMMUNES) == 19


def test_demo_has_a_2025_merger_with_lineage(seed_demo):
    seed_demo()
    merged = Unit.objects.get(code=f"{CITY_CODE}-CHILINH")
    predecessors = merged.predecessors.all()
    assert predecessors.count() == 3
    assert {p.valid_to.isoformat() for p in predecessors} == {"2025-06-30"}
    # The predecessors' heads leave office when their ward ends.
    assert not Head.objects.filter(unit__in=predecessors, tenure_to=None).exists()


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
    assert head.unit.code == f"{CITY_CODE}-PHALAI"
