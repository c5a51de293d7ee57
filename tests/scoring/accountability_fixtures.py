"""Fixtures of the accountability tests: commune A's change of head, the
new head's account, the city's chairman."""

from datetime import date

import pytest

from commitments.organisation.models import Role
from tests.factories import HeadFactory, MembershipFactory, UserFactory


@pytest.fixture
def heads(org):
    """Commune A changed head at the start of 2025."""
    old = HeadFactory(
        unit=org.commune_a,
        full_name="Nguyễn Văn Cũ",
        tenure_from=date(2020, 1, 1),
        tenure_to=date(2024, 12, 31),
    )
    new = HeadFactory(
        unit=org.commune_a, full_name="Trần Thị Mới", tenure_from=date(2025, 1, 1)
    )
    b = HeadFactory(unit=org.commune_b, full_name="Lê Văn Bình")
    return {"old": old, "new": new, "b": b}


@pytest.fixture
def head_user(org, heads):
    user = UserFactory(username="head.new")
    MembershipFactory(user=user, unit=org.commune_a, role=Role.UNIT_HEAD)
    heads["new"].user = user
    heads["new"].save()
    return user


@pytest.fixture
def city_leader(org):
    user = UserFactory(username="leader.city")
    MembershipFactory(user=user, unit=org.city, role=Role.LEADER)
    return user
