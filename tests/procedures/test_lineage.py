"""A unit formed during the year by a merger: its year's 766 figures are its
area's whole year, its predecessors' dossiers added to its own, checked
against counting all those cases directly (issue 17, the 1 July 2025
arrangement)."""

import random
from datetime import date, datetime, timedelta

import pytest

from procedures import metrics, rules, selectors
from procedures.metrics import MonthRange, periods_between
from procedures.models import CaseRecord, Channel, DossierStatus, Procedure
from procedures.parsing import LOCAL_TZ
from tests.factories import UnitFactory
from tests.procedures.test_metrics import facts

ENDED = date(2025, 6, 30)
FORMED = date(2025, 7, 1)
LATER = datetime(2030, 1, 1, tzinfo=LOCAL_TZ)
RUNNING = datetime(2025, 10, 15, 9, 30, tzinfo=LOCAL_TZ)


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.fixture
def area(org):
    """Two wards (A, B) and a commune split in two (S) end on 30/06/2025;
    a ward (Z) merged into A on 31/03/2025. New ward N is formed on
    01/07/2025 from A and B; the split commune's halves are N and M."""
    z = UnitFactory(code="Z", parent=org.city, valid_to=date(2025, 3, 31))
    a = UnitFactory(code="A", parent=org.city, valid_to=ENDED)
    a.predecessors.set([z])
    b = UnitFactory(code="B", parent=org.city, valid_to=ENDED)
    s = UnitFactory(code="S", parent=org.city, valid_to=ENDED)
    n = UnitFactory(code="N", parent=org.province, valid_from=FORMED)
    n.predecessors.set([a, b, s])
    m = UnitFactory(code="M", parent=org.province, valid_from=FORMED)
    m.predecessors.set([s])
    return {unit.code: unit for unit in (z, a, b, s, n, m)}


@pytest.fixture
def dossiers(area):
    """Each unit's dossiers while it exists, some left open past its end
    (they stay its own) and some late, deterministic."""
    procedure = Procedure.objects.create(code="P1", name="Thủ tục 1")
    rng = random.Random(766)
    spans = {
        "Z": (local(2024, 11, 1), local(2025, 3, 31)),
        "A": (local(2024, 12, 1), local(2025, 6, 30)),
        "B": (local(2025, 1, 1), local(2025, 6, 30)),
        "S": (local(2025, 1, 1), local(2025, 6, 30)),
        "N": (local(2025, 7, 1), local(2025, 12, 31)),
        "M": (local(2025, 7, 1), local(2025, 12, 31)),
    }
    records = []
    for code, (start, end) in spans.items():
        hours = int((end - start).total_seconds() // 3600)
        for i in range(60):
            received = start + timedelta(hours=rng.randrange(hours))
            due = received + timedelta(days=rng.randrange(1, 15))
            finished = (
                None
                if rng.random() < 0.15
                else received + timedelta(days=rng.randrange(0, 20))
            )
            records.append(
                CaseRecord(
                    case_code=f"{code}-{i:03d}",
                    procedure=procedure,
                    unit=area[code],
                    received_at=received,
                    due_at=due,
                    finished_at=finished,
                    status=(
                        DossierStatus.PROCESSING
                        if finished is None
                        else DossierStatus.RETURNED
                    ),
                    channel=Channel.ONLINE_FULL if i % 3 else Channel.IN_PERSON,
                    complaint=i % 9 == 0,
                )
            )
    CaseRecord.objects.bulk_create(records)
    return area


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
