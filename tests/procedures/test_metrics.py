"""Metrics by SQL aggregation agree with the plain rules, per unit and period."""

import io
import random
from datetime import UTC, datetime, timedelta

import pytest

from procedures import figures, metrics, rules, selectors
from procedures.importer import run_import
from procedures.metrics import PeriodRef, periods_between, periods_of_year
from procedures.models import (
    CaseRecord,
    Channel,
    DossierStatus,
    ImportRun,
    ImportSource,
    PeriodKind,
    Procedure,
    UnitMetric,
)
from procedures.parsing import LOCAL_TZ

STATUSES = list(DossierStatus)
CHANNELS = list(Channel)


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.fixture
def cases(org):
    """A deterministic spread of dossiers around the first quarter of 2025:
    open and finished, early and late, withdrawn, several supplements, at the
    month and year boundaries."""
    procedure = Procedure.objects.create(code="P1", name="Thủ tục 1")
    records = []
    base = local(2024, 12, 20, 8, 0)
    for n in range(240):
        unit = org.commune_a if n % 3 else org.commune_b
        received = base + timedelta(hours=7 * n + (n % 5) * 13)
        due = received + timedelta(days=(n % 7) + 1, hours=n % 4)
        finished = None if n % 6 == 0 else received + timedelta(days=(n % 9), hours=3)
        status = (
            DossierStatus.PROCESSING if finished is None else DossierStatus.RETURNED
        )
        if n % 17 == 0:
            status = DossierStatus.WITHDRAWN
        records.append(
            CaseRecord(
                case_code=f"HS-{n:04d}",
                procedure=procedure,
                unit=unit,
                received_at=received,
                due_at=due,
                finished_at=finished,
                status=status,
                channel=CHANNELS[n % 4],
                digitized=n % 2 == 0,
                fee_required=n % 3 == 0,
                paid_online=n % 5 == 0,
                supplement_requests=(0, 0, 1, 2)[n % 4],
                satisfaction=("", "hai_long", "binh_thuong", "khong_hai_long")[n % 4],
                complaint=n % 11 == 0,
            )
        )
    # The year boundary: 06:00 on 1 January local is 23:00 UTC on 31 December.
    records.append(
        CaseRecord(
            case_code="HS-NEWYEAR",
            procedure=procedure,
            unit=org.commune_a,
            received_at=datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
            due_at=local(2025, 1, 3, 17, 0),
            status=DossierStatus.RECEIVED,
            channel=Channel.IN_PERSON,
        )
    )
    CaseRecord.objects.bulk_create(records)
    return org


def facts(record):
    return rules.CaseFacts(
        received_at=record.received_at,
        due_at=record.due_at,
        finished_at=record.finished_at,
        status=record.status,
        channel=record.channel,
        digitized=record.digitized,
        fee_required=record.fee_required,
        paid_online=record.paid_online,
        supplement_requests=record.supplement_requests,
        satisfaction=record.satisfaction,
        complaint=record.complaint,
    )


# Judged long after the periods below (each over, as at its end), or at a
# moment inside one of them while it runs.
LATER = local(2030, 1, 1)
RUNNING = [
    (PeriodRef(PeriodKind.MONTH, 2024, 12), local(2024, 12, 27, 12, 0)),
    (PeriodRef(PeriodKind.MONTH, 2025, 1), local(2025, 1, 17, 13, 30)),
    (PeriodRef(PeriodKind.MONTH, 2025, 2), local(2025, 2, 9, 9, 15)),
    (PeriodRef(PeriodKind.QUARTER, 2025, 1), local(2025, 2, 9, 9, 15)),
    (PeriodRef(PeriodKind.YEAR, 2025, 1), local(2025, 3, 3, 10, 0)),
]
REFS_AND_MOMENTS = [
    *((ref, LATER) for ref, _moment in RUNNING),
    (PeriodRef(PeriodKind.YEAR, 2024, 1), LATER),
    *RUNNING,
]


@pytest.mark.parametrize(("ref", "as_of"), REFS_AND_MOMENTS)
def test_sql_counts_equal_the_rules_for_every_unit(cases, ref, as_of):
    by_sql = metrics.aggregate([cases.commune_a.pk, cases.commune_b.pk], ref, as_of)
    for unit in (cases.commune_a, cases.commune_b):
        expected = rules.count(
            (facts(r) for r in CaseRecord.objects.filter(unit=unit)),
            ref.period,
            as_of=as_of,
        )
        assert by_sql.get(unit.pk, rules.Counts()) == expected, unit.code


def test_a_running_month_has_open_dossiers_not_yet_due_that_its_end_would_count_late(
    cases,
):
    """The case these tests would miss if every moment gave the same counts."""
    ref, moment = RUNNING[2]
    unit = [cases.commune_a.pk]
    running, ended = metrics.aggregate(unit, ref, moment), metrics.aggregate(unit, ref)
    assert running[unit[0]].late < ended[unit[0]].late


@pytest.mark.parametrize(("ref", "as_of"), REFS_AND_MOMENTS)
def test_count_filters_alone_agree_with_the_rules_over_all_cases(cases, ref, as_of):
    """aggregate narrows to the candidates first; each filter must also hold
    over the whole table (the late-dossier list and lateness counts use them)."""
    unit = cases.commune_a
    expected = rules.count(
        (facts(r) for r in CaseRecord.objects.filter(unit=unit)),
        ref.period,
        as_of=as_of,
    )
    for name, condition in metrics.count_filters(ref.period, as_of=as_of).items():
        by_filter = CaseRecord.objects.filter(condition, unit=unit).count()
        assert by_filter == getattr(expected, name), name


def test_nothing_counts_in_a_period_not_begun(cases):
    ref = PeriodRef(PeriodKind.MONTH, 2025, 3)
    before = local(2025, 3, 1)
    assert metrics.aggregate([cases.commune_a.pk], ref, before) == {}
    for condition in metrics.count_filters(ref.period, as_of=before).values():
        assert not CaseRecord.objects.filter(condition).exists()


@pytest.mark.parametrize(
    ("ref", "as_of"),
    [
        (PeriodRef(PeriodKind.QUARTER, 2025, 1), LATER),
        (PeriodRef(PeriodKind.QUARTER, 2024, 4), LATER),
        (PeriodRef(PeriodKind.YEAR, 2025, 1), LATER),
        (PeriodRef(PeriodKind.YEAR, 2024, 1), LATER),
        (PeriodRef(PeriodKind.QUARTER, 2025, 1), local(2025, 2, 9, 9, 15)),
        (PeriodRef(PeriodKind.YEAR, 2025, 1), local(2025, 3, 3, 10, 0)),
        (PeriodRef(PeriodKind.QUARTER, 2024, 4), local(2024, 12, 27, 12, 0)),
    ],
)
def test_quarters_and_years_combined_from_months_equal_the_rules(cases, ref, as_of):
    """rules.combine over the months begun by ``as_of`` (the last judged at
    ``as_of``) gives what counting the cases over the whole quarter or year
    gives, field by field."""
    for unit in (cases.commune_a, cases.commune_b):
        facts_of = [facts(r) for r in CaseRecord.objects.filter(unit=unit)]
        months = [
            rules.count(
                facts_of, PeriodRef(PeriodKind.MONTH, year, m).period, as_of=as_of
            )
            for year, m in metrics.begun(
                ((ref.year, m) for m in metrics.months_of(ref)), as_of
            )
        ]
        expected = rules.count(facts_of, ref.period, as_of=as_of)
        assert rules.combine(months) == expected, unit.code


@pytest.mark.parametrize("as_of", [local(2026, 3, 1), local(2025, 2, 14, 10, 0)])
def test_recompute_stores_quarters_and_years_equal_to_direct_aggregation(cases, as_of):
    """Stored quarters and years (combined from stored months) agree with one
    aggregate query over the cases, judged at the same moment, and carry it."""
    units = [cases.commune_a.pk, cases.commune_b.pk]
    metrics.metrics_recompute(
        unit_ids=units,
        periods=[*periods_of_year(2024), *periods_of_year(2025)],
        as_of=as_of,
    )
    for ref in (
        PeriodRef(PeriodKind.QUARTER, 2025, 1),
        PeriodRef(PeriodKind.QUARTER, 2025, 2),
        PeriodRef(PeriodKind.YEAR, 2025, 1),
        PeriodRef(PeriodKind.YEAR, 2024, 1),
    ):
        direct = metrics.aggregate(units, ref, as_of)
        for unit in units:
            stored = selectors.unit_counts(unit, ref) or rules.Counts()
            assert stored == direct.get(unit, rules.Counts()), (ref, unit)
    assert set(UnitMetric.objects.values_list("computed_at", flat=True)) == {as_of}


def test_a_month_judged_before_it_ended_is_judged_again_before_a_quarter_is_combined(
    cases,
):
    """January stored as at 17 January (say, the beat missed the month's
    end): recomputing the quarter alone, on 9 February, judges January again
    first, or the quarter would count late what was not yet due then."""
    units = [cases.commune_a.pk, cases.commune_b.pk]
    january = PeriodRef(PeriodKind.MONTH, 2025, 1)
    quarter = PeriodRef(PeriodKind.QUARTER, 2025, 1)
    metrics.metrics_recompute(
        unit_ids=units, periods=[january], as_of=local(2025, 1, 17, 13, 30)
    )
    february = PeriodRef(PeriodKind.MONTH, 2025, 2)
    moment = local(2025, 2, 9, 9, 15)
    metrics.metrics_recompute(unit_ids=units, periods=[february, quarter], as_of=moment)
    for unit in units:
        assert selectors.unit_counts(unit, quarter) == metrics.aggregate(
            units, quarter, moment
        ).get(unit), unit
    assert set(
        UnitMetric.objects.filter(period_kind="month", number=1).values_list(
            "computed_at", flat=True
        )
    ) == {moment}


def test_combine_of_no_months_is_zero_and_one_month_is_itself():
    month = rules.Counts(
        received=3,
        in_scope=4,
        on_time=2,
        late=2,
        carried_in=1,
        finished_on_time=1,
        overdue_open=1,
    )
    assert rules.combine([]) == rules.Counts()
    assert rules.combine([month]) == month


def test_a_dossier_received_at_six_on_new_years_morning_counts_in_january(cases):
    jan = metrics.aggregate([cases.commune_a.pk], PeriodRef(PeriodKind.MONTH, 2025, 1))
    dec = metrics.aggregate([cases.commune_a.pk], PeriodRef(PeriodKind.MONTH, 2024, 12))
    newyear = CaseRecord.objects.get(case_code="HS-NEWYEAR")
    jan_period = PeriodRef("month", 2025, 1).period
    in_jan = rules.classify(facts(newyear), jan_period, as_of=LATER)
    dec_period = PeriodRef("month", 2024, 12).period
    in_dec = rules.classify(facts(newyear), dec_period, as_of=LATER)
    assert in_jan.received_in_period
    assert not in_dec.received_in_period
    assert jan[cases.commune_a.pk].received >= 1
    assert dec[cases.commune_a.pk].received >= 1


def test_recompute_stores_counts_and_is_idempotent(cases):
    as_of = local(2025, 3, 31, 23, 0)
    periods = periods_of_year(2025)
    first = metrics.metrics_recompute(
        unit_ids=[cases.commune_a.pk, cases.commune_b.pk], periods=periods, as_of=as_of
    )
    snapshot = sorted(UnitMetric.objects.values_list(*figures.COUNT_FIELDS, "year"))
    second = metrics.metrics_recompute(
        unit_ids=[cases.commune_a.pk, cases.commune_b.pk], periods=periods, as_of=as_of
    )
    assert first == second > 0
    assert (
        sorted(UnitMetric.objects.values_list(*figures.COUNT_FIELDS, "year"))
        == snapshot
    )
    quarter = selectors.unit_counts(
        cases.commune_a.pk, PeriodRef(PeriodKind.QUARTER, 2025, 1)
    )
    assert (
        quarter
        == metrics.aggregate(
            [cases.commune_a.pk], PeriodRef(PeriodKind.QUARTER, 2025, 1), as_of
        )[cases.commune_a.pk]
    )


def test_recompute_after_an_import_covers_the_touched_units_up_to_now(
    org, django_capture_on_commit_callbacks
):
    Procedure.objects.create(code="P1", name="Thủ tục 1")
    header = (
        "case_code,procedure_code,unit_code,received_at,due_at,finished_at,status,"
        "channel,digitized,fee_required,paid_online,supplement_requests,"
        "satisfaction,complaint,officer"
    )
    line = (
        "HS-1,P1,CITY-A,05/11/2026 08:00,10/11/2026 17:00,,dang_xu_ly,truc_tiep,"
        "1,0,0,0,,0,"
    )
    run = ImportRun.objects.create(source=ImportSource.COMMAND)
    with django_capture_on_commit_callbacks(execute=True):
        run_import(run, io.BytesIO(f"{header}\n{line}\n".encode()))
    stored = UnitMetric.objects.filter(unit=org.commune_a, year=2026)
    kinds = {(m.period_kind, m.number) for m in stored}
    assert ("month", 11) in kinds
    assert ("quarter", 4) in kinds
    assert ("year", 1) in kinds
    november = stored.get(period_kind="month", number=11)
    assert (november.received, november.in_scope) == (1, 1)
    assert not UnitMetric.objects.filter(unit=org.commune_b).exists()


def test_periods_between_runs_from_the_first_touched_month_to_now():
    refs = periods_between((2025, 11), local(2026, 2, 10, 9, 0))
    months = [(r.year, r.number) for r in refs if r.kind == "month"]
    assert months == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    quarters = [(r.year, r.number) for r in refs if r.kind == "quarter"]
    assert quarters == [(2025, 4), (2026, 1)]
    years = [r.year for r in refs if r.kind == "year"]
    assert years == [2025, 2026]


# --- any range of whole months (a year-to-date 766 table) --------------------------


def ranges(seed: int, n: int) -> list[metrics.MonthRange]:
    """``n`` random ranges within November 2024 to May 2025, the months of
    the cases and some without any, across the new year."""
    months = metrics.MonthRange((2024, 11), (2025, 5)).months
    rng = random.Random(seed)
    found = []
    for _ in range(n):
        first, last = sorted(rng.sample(range(len(months)), 2))
        found.append(metrics.MonthRange(months[first], months[last]))
    # A single month, the whole span, and the quarter with the year's turn.
    return [
        *found,
        metrics.MonthRange((2025, 2), (2025, 2)),
        metrics.MonthRange((2024, 11), (2025, 5)),
        metrics.MonthRange((2024, 12), (2025, 2)),
    ]


@pytest.mark.parametrize(
    "as_of",
    [LATER, local(2025, 2, 9, 9, 15), local(2025, 1, 1, 0, 0), local(2024, 12, 3, 7)],
)
def test_a_range_of_stored_months_counts_each_dossier_once_as_the_rules_do(
    cases, as_of
):
    """Any range of whole months, built from the months stored at ``as_of``,
    gives what counting its cases over the whole range gives: each dossier
    once, carried in counted as such, a running range judged at ``as_of``."""
    units = [cases.commune_a.pk, cases.commune_b.pk]
    metrics.metrics_recompute(
        unit_ids=units,
        periods=periods_between((2024, 11), local(2025, 6, 1, 12)),
        as_of=as_of,
    )
    facts_of = {
        unit: [facts(r) for r in CaseRecord.objects.filter(unit_id=unit)]
        for unit in units
    }
    for span in ranges(seed=766, n=12):
        stored = selectors.range_counts(units, span)
        for unit in units:
            expected = rules.count(facts_of[unit], span.period, as_of=as_of)
            found = stored[unit][0] if unit in stored else rules.Counts()
            assert found == expected, (span, unit)


def test_adding_up_quarters_counts_twice_what_a_range_counts_once(cases):
    """Why a year-to-date table is a range: dossiers carried from one quarter
    into the next are in scope in both."""
    units = [cases.commune_a.pk]
    metrics.metrics_recompute(
        unit_ids=units, periods=periods_between((2024, 10), LATER), as_of=LATER
    )
    span = metrics.MonthRange((2024, 10), (2025, 3))
    whole = selectors.range_counts(units, span)[units[0]][0]
    quarters = [
        selectors.unit_counts(units[0], PeriodRef(PeriodKind.QUARTER, 2024, 4)),
        selectors.unit_counts(units[0], PeriodRef(PeriodKind.QUARTER, 2025, 1)),
    ]
    added = sum((q for q in quarters if q), rules.Counts())
    assert whole.received == added.received
    assert whole.in_scope < added.in_scope


def test_a_month_range_lists_its_months_across_the_year():
    span = metrics.MonthRange((2025, 11), (2026, 2))
    assert span.months == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    with pytest.raises(ValueError, match="is before"):
        metrics.MonthRange((2026, 2), (2025, 11))
    with pytest.raises(ValueError, match="month must be 1 to 12"):
        metrics.MonthRange((2026, 0), (2026, 2))
