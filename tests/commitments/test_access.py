"""The scoping helper: which units each role reaches."""

import pytest
from django.http import Http404

from commitments.organisation.access import (
    access_unit,
    can_edit_unit,
    get_scoped_or_404,
    scope_queryset,
    units_visible_to,
)
from commitments.organisation.models import Head
from tests.factories import HeadFactory


def codes(user):
    return set(units_visible_to(user).values_list("code", flat=True))


def test_commune_staff_sees_only_their_commune(commune_staff):
    assert codes(commune_staff) == {"CITY-A"}


def test_commune_head_sees_only_their_commune(commune_head):
    assert codes(commune_head) == {"CITY-A"}


def test_department_staff_sees_only_their_department(department_staff):
    assert codes(department_staff) == {"PROV-DEP"}


def test_city_reviewer_sees_the_city_and_its_communes(city_reviewer):
    assert codes(city_reviewer) == {"CITY", "CITY-A", "CITY-B"}


def test_province_reviewer_and_leader_see_the_whole_province(reviewer, leader):
    everything = {"PROV", "PROV-DEP", "CITY", "CITY-A", "CITY-B"}
    assert codes(reviewer) == everything
    assert codes(leader) == everything


def test_superuser_sees_every_unit(superuser, org):
    assert len(codes(superuser)) == 5


def test_user_without_membership_sees_nothing(no_unit_user, org):
    assert codes(no_unit_user) == set()


def test_inactive_user_sees_nothing(commune_staff):
    commune_staff.is_active = False
    assert codes(commune_staff) == set()


def test_staff_get_404_for_another_communes_unit(commune_staff):
    with pytest.raises(Http404):
        access_unit(commune_staff, "CITY-B")
    assert access_unit(commune_staff, "CITY-A").code == "CITY-A"


def test_objects_of_another_unit_answer_404(org, commune_staff):
    own = HeadFactory(unit=org.commune_a)
    other = HeadFactory(unit=org.commune_b)
    assert list(scope_queryset(commune_staff, Head.objects.all())) == [own]
    with pytest.raises(Http404):
        get_scoped_or_404(commune_staff, Head.objects.all(), pk=other.pk)
    assert get_scoped_or_404(commune_staff, Head.objects.all(), pk=own.pk) == own


def test_scope_follows_a_unit_moved_to_another_parent(org, city_reviewer):
    """Moving a unit moves its subtree: the city's reviewer loses it."""
    org.commune_b.parent = org.province
    org.commune_b.save()
    assert codes(city_reviewer) == {"CITY", "CITY-A"}


def test_who_may_change_a_units_records(
    org, commune_staff, commune_head, city_reviewer, leader, superuser
):
    assert can_edit_unit(commune_staff, org.commune_a)
    assert can_edit_unit(commune_head, org.commune_a)
    assert not can_edit_unit(commune_staff, org.commune_b)
    assert can_edit_unit(city_reviewer, org.commune_b)
    assert not can_edit_unit(city_reviewer, org.department)
    # Leaders read; they do not edit a unit's records.
    assert not can_edit_unit(leader, org.commune_a)
    assert can_edit_unit(superuser, org.department)


def test_scope_costs_one_query_per_request(commune_staff, django_assert_num_queries):
    """Memberships are read once and reused for every scoped queryset."""
    with django_assert_num_queries(4):  # memberships once, then one per list
        list(units_visible_to(commune_staff))
        list(units_visible_to(commune_staff))
        list(units_visible_to(commune_staff))


def test_reaches_agrees_with_the_scoped_queries_without_a_query(
    org, commune_staff, city_reviewer, reviewer, leader, django_assert_num_queries
):
    from commitments.organisation.access import memberships, reaches, units_q
    from commitments.organisation.models import Unit

    units = list(Unit.objects.all())
    for user in (commune_staff, city_reviewer, reviewer, leader):
        memberships(user)  # read once, as a request does
        expected = set(Unit.objects.filter(units_q(user)).values_list("pk", flat=True))
        with django_assert_num_queries(0):
            found = {unit.pk for unit in units if reaches(user, unit)}
        assert found == expected
