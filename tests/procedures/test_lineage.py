"""A unit formed during the year by a merger: its year's 766 figures are its
area's whole year, its predecessors' dossiers added to its own, checked
against counting all those cases directly (issue 17, the 1 July 2025
arrangement)."""

from datetime import datetime

import pytest

from procedures import metrics, rules, selectors
from procedures.metrics import MonthRange, periods_between
from procedures.models import CaseRecord
from procedures.parsing import LOCAL_TZ
from tests.procedures.test_metrics import facts

LATER = datetime(2030, 1, 1, tzinfo=LOCAL_TZ)
RUNNING = datetime(2025, 10, 15, 9, 30, tzinfo=LOCAL_TZ)


def recompute(area, as_of):
    metrics.metrics_recompute(
        unit_ids=[unit.pk for unit in area.values()],
        periods=periods_between((2024, 11), as_of),
        as_of=as_of,
    )


def counted(area, codes, period, as_of):
    return rules.count(
        [
            facts(r)
            for r in CaseRecord.objects.filter(unit__code__in=codes).order_by("pk")
        ],
        period,
        as_of=as_of,
    )


def test_the_lineage_is_the_sole_heirs_predecessors_ended_in_the_year(area):
    found = selectors.lineage_units([area["N"].pk, area["M"].pk], 2025)
    assert found[area["N"].pk] == [
        area["N"].pk,
        area["A"].pk,
        area["B"].pk,
        area["Z"].pk,
    ]
    # The split commune has two heirs: its dossiers go to neither.
    assert found[area["M"].pk] == [area["M"].pk]
    # Before the new ward existed, nothing passes to it.
    assert selectors.lineage_units([area["N"].pk], 2024) == {
        area["N"].pk: [area["N"].pk]
    }


@pytest.mark.parametrize("as_of", [LATER, RUNNING])
def test_a_new_wards_year_counts_its_predecessors_dossiers(dossiers, as_of):
    recompute(dossiers, as_of)
    year = rules.Period.year(2025, LOCAL_TZ)
    n, m = dossiers["N"].pk, dossiers["M"].pk
    found = selectors.year_counts(2025, [n, m])
    assert found[n] == counted(dossiers, ["N", "A", "B", "Z"], year, as_of)
    assert found[m] == counted(dossiers, ["M"], year, as_of)
    # Every unit at once (the computation's read) gives the same.
    assert selectors.year_counts(2025)[n] == found[n]
    # A predecessor keeps its own figures.
    assert selectors.year_counts(2025, [dossiers["A"].pk])[dossiers["A"].pk] == (
        counted(dossiers, ["A", "Z"], year, as_of)
    )


@pytest.mark.parametrize(("as_of", "up_to"), [(LATER, 12), (LATER, 9), (RUNNING, 10)])
def test_a_new_wards_rates_to_a_month_count_its_predecessors_dossiers(
    dossiers, as_of, up_to
):
    """Commitments' progress reads January to a month the same way."""
    recompute(dossiers, as_of)
    n = dossiers["N"].pk
    rates = selectors.rates_up_to_month([(n, 2025, up_to)])[(n, 2025, up_to)]
    span = MonthRange((2025, 1), (2025, up_to))
    expected = rules.metrics(
        counted(dossiers, ["N", "A", "B", "Z"], span.period, as_of)
    )
    assert rates["on_time_rate"] == expected.on_time_rate
    assert rates["online_rate"] == expected.online_rate
    assert rates["satisfaction_rate"] == expected.satisfaction_rate


def test_a_new_wards_page_shows_its_whole_year_and_names_its_predecessors(
    client, dossiers, reviewer
):
    recompute(dossiers, LATER)
    client.force_login(reviewer)
    page = client.get(f"/units/{dossiers['N'].code}/metrics/?year=2025")
    body = page.content.decode()
    assert 'data-testid="lineage-row"' in body
    assert dossiers["A"].name in body
    assert dossiers["B"].name in body
    year = rules.Period.year(2025, LOCAL_TZ)
    whole = counted(dossiers, ["N", "A", "B", "Z"], year, LATER)
    row = body.split('data-testid="lineage-row"')[1].split("</tr>")[0]
    assert f">{whole.in_scope}<" in row
    # The split commune's heir has no such row.
    page = client.get(f"/units/{dossiers['M'].code}/metrics/?year=2025")
    assert 'data-testid="lineage-row"' not in page.content.decode()
