"""AnyOf: many ids as one array parameter on PostgreSQL, an IN list
elsewhere, the same rows either way (cchc_portal.lookups)."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from cchc_portal.lookups import AnyOf
from commitments.organisation.models import Unit, UnitKind

pytestmark = pytest.mark.django_db

SINCE = date(2020, 1, 1)


@pytest.fixture
def units():
    province = Unit.objects.create(
        code="P", name="Tỉnh", kind=UnitKind.PROVINCE, valid_from=SINCE
    )
    return [province] + [
        Unit.objects.create(
            code=f"X{n:03}",
            name=f"Xã {n}",
            kind=UnitKind.COMMUNE,
            parent=province,
            valid_from=SINCE,
        )
        for n in range(5)
    ]


def test_the_same_rows_as_an_in_list(units):
    wanted = {units[1].pk, units[3].pk, units[5].pk}
    found = set(
        Unit.objects.filter(AnyOf(F("pk"), wanted)).values_list("pk", flat=True)
    )
    assert (
        found
        == wanted
        == set(Unit.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    )
    # With other conditions, and on a foreign key.
    assert set(
        Unit.objects.filter(
            AnyOf(F("parent_id"), [units[0].pk]), code__gt="X001"
        ).values_list("code", flat=True)
    ) == {"X002", "X003", "X004"}


def test_no_ids_match_nothing_without_a_query(units, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert list(Unit.objects.filter(AnyOf(F("pk"), []))) == []


def test_one_parameter_on_postgresql_an_in_list_elsewhere(units):
    ids = [unit.pk for unit in units]
    with CaptureQueriesContext(connection) as queries:
        list(Unit.objects.filter(AnyOf(F("pk"), ids)))
    (sql,) = [query["sql"] for query in queries.captured_queries]
    if connection.vendor == "postgresql":
        # The column's own type (bigint), from one literal.
        assert "= ANY('{" + ",".join(map(str, ids)) + "}'::bigint[])" in sql
    else:
        assert f"IN ({', '.join(map(str, ids))})" in sql


def test_only_integers_reach_the_literal(units):
    with pytest.raises(ValueError, match="invalid literal for int"):
        list(Unit.objects.filter(AnyOf(F("pk"), ["1}'); DROP TABLE x; --"])))
