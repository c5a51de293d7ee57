"""scoring.access, the one place of scoring's may_*: the reviewer tests the
others are made of, and the query and the Python form of "appraises this
unit" agreeing for every persona and unit."""

import pytest
from django.contrib.auth.models import AnonymousUser

from commitments.organisation.models import Unit
from scoring import access

PERSONAS = [
    "commune_staff",
    "commune_head",
    "department_staff",
    "city_reviewer",
    "reviewer",
    "leader",
    "superuser",
    "no_unit_user",
]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("commune_staff", False),
        ("commune_head", False),
        ("department_staff", False),
        ("city_reviewer", True),
        ("reviewer", True),
        ("leader", False),
        ("superuser", True),
        ("no_unit_user", False),
    ],
)
def test_a_reviewer_of_any_unit_or_a_superuser_is_a_reviewer(
    request, persona, expected
):
    assert access.is_reviewer(request.getfixturevalue(persona)) is expected


@pytest.mark.parametrize(
    ("persona", "reviewed"),
    [
        ("city_reviewer", {"CITY-A", "CITY-B"}),
        ("reviewer", {"PROV-DEP", "CITY", "CITY-A", "CITY-B"}),
        ("superuser", {"PROV", "PROV-DEP", "CITY", "CITY-A", "CITY-B"}),
        ("leader", set()),
        ("commune_head", set()),
    ],
)
def test_a_reviewer_appraises_the_units_strictly_below_their_own(
    request, org, persona, reviewed
):
    user = request.getfixturevalue(persona)
    units = Unit.objects.all()
    assert {u.code for u in units if access.reviews_unit(user, u)} == reviewed
    in_query = units.filter(access.reviewer_q(user, prefix=""))
    assert set(in_query.values_list("code", flat=True)) == reviewed


@pytest.mark.parametrize("persona", PERSONAS)
def test_an_inactive_user_passes_no_test(request, org, persona):
    user = request.getfixturevalue(persona)
    user.is_active = False
    assert not access.is_reviewer(user)
    assert not any(access.reviews_unit(user, unit) for unit in Unit.objects.all())
    assert not access.may_start(user, org.commune_a)


def test_an_anonymous_visitor_passes_no_test(org):
    visitor = AnonymousUser()
    assert not access.is_reviewer(visitor)
    assert not access.reviews_unit(visitor, org.commune_a)
    assert not access.may_start(visitor, org.commune_a)
    assert not access.may_use_dashboard(visitor)
