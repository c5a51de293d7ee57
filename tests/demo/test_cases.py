"""The demo's procedure catalogue and case records: realistic, deterministic,
repeatable, and different from unit to unit in the ways the demo promises;
the running year's records added without changing any of 2022–2025."""

import hashlib
import io
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Max, Min

from commitments.organisation.models import UnitKind
from demo import cases as demo
from procedures.figures import COUNT_FIELDS
from procedures.metrics import aggregate, periods_of_year
from procedures.models import (
    CaseRecord,
    DossierStatus,
    ImportRun,
    PeriodKind,
    Procedure,
    ProcedureLevel,
    UnitMetric,
)
from procedures.parsing import LOCAL_TZ

# Columns of demo.case_rows (the interchange format's order).
CODE, PROCEDURE, UNIT, RECEIVED, DUE, FINISHED, STATUS, CHANNEL = range(8)
DIGITIZED, FEE, PAID, SUPPLEMENTS, SATISFACTION, COMPLAINT, OFFICER = range(8, 15)
DATA_END = "2026-01-01"
# The running year's records end at the last import (31/10/2026).
CURRENT_END = "2026-11-01"
CLOSED = {DossierStatus.FINISHED, DossierStatus.RETURNED, DossierStatus.REJECTED}


@pytest.fixture(autouse=True)
def organisation_and_cases_only(settings):
    """Up to the case records: the index's steps have tests of their own."""
    settings.DEMO_STEPS = [
        step
        for step in settings.DEMO_STEPS
        if step.startswith(("demo.organisation.", "demo.cases."))
    ]


def seed() -> None:
    """The command itself (the tests' first seeding is the `seed_demo`
    fixture's copy)."""
    call_command("seed_demo", stdout=io.StringIO())


CASE_FIELDS = (
    "case_code",
    "procedure__code",
    "unit__code",
    "received_at",
    "due_at",
    "finished_at",
    "status",
    "channel",
    "digitized",
    "fee_required",
    "paid_online",
    "supplement_requests",
    "satisfaction",
    "complaint",
    "officer",
)


def case_snapshot():
    return sorted(CaseRecord.objects.values_list(*CASE_FIELDS))


def metric_snapshot():
    return sorted(
        UnitMetric.objects.values_list(
            "unit__code",
            "period_kind",
            "year",
            "number",
            "received",
            "in_scope",
            "on_time",
            "late",
            "overdue_open",
            "online",
            "digitized",
            "paid_online",
            "complaint_or_dissatisfied",
        )
    )


def totals(code: str) -> dict[str, int]:
    """A unit's yearly counts added up over 2022–2025."""
    rows = UnitMetric.objects.filter(
        unit__code=code, period_kind=PeriodKind.YEAR, year__in=demo.YEARS
    ).values()
    return {
        name: sum(row[name] for row in rows)
        for name in ("received", "in_scope", "on_time", "online", "digitized")
    }


def is_late(row: list[str], end: str = DATA_END) -> bool:
    """rules' lateness for a row read at the end of its data."""
    if int(row[SUPPLEMENTS]) > 1:
        return True
    if row[FINISHED]:
        return row[FINISHED] > row[DUE]
    return row[DUE] < end


@pytest.fixture(scope="module")
def sample() -> list[list[str]]:
    """30,000 rows: enough for every designed unit to show its habits."""
    return list(demo.case_rows(30_000))


@pytest.fixture(scope="module")
def running() -> list[list[str]]:
    """The running year's rows that go with the 30,000 of 2022–2025."""
    return list(demo.current_year_rows(30_000))


def by_unit(rows):
    grouped = defaultdict(list)
    for row in rows:
        grouped[row[UNIT]].append(row)
    return grouped


def share(rows, test) -> float:
    return sum(1 for row in rows if test(row)) / len(rows)


# --- the catalogue (no database) ----------------------------------------------------


def test_catalogue_reads_like_the_national_database():
    catalogue = demo.procedure_catalogue()
    assert 150 <= len(catalogue) <= 320
    codes = [p.code for p in catalogue]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[12]\.\d{6}", code) for code in codes)
    names = {p.name for p in catalogue}
    for name in (
        "Đăng ký khai sinh",
        "Cấp bản sao trích lục hộ tịch",
        "Cấp giấy phép xây dựng đối với nhà ở riêng lẻ",
        "Đăng ký thành lập hộ kinh doanh",
    ):
        assert name in names
    fields = {p.field for p in catalogue}
    assert len(fields) >= 30
    assert {"Hộ tịch", "Chứng thực", "Đất đai", "Hoạt động xây dựng"} <= fields
    assert Counter(p.level for p in catalogue).keys() == {
        ProcedureLevel.PROVINCE,
        ProcedureLevel.DISTRICT,
        ProcedureLevel.COMMUNE,
    }
    assert Counter(p.online_level for p in catalogue).keys() == {
        "none",
        "partial",
        "full",
    }
    assert any(p.fee_required for p in catalogue)
    assert any(not p.fee_required for p in catalogue)
    assert any(not p.publicly_listed for p in catalogue)


def test_every_demo_unit_handles_procedures_of_its_own_level():
    levels = {
        UnitKind.DEPARTMENT: ProcedureLevel.PROVINCE,
        UnitKind.DISTRICT: ProcedureLevel.DISTRICT,
        UnitKind.OFFICE: ProcedureLevel.DISTRICT,
        UnitKind.BRANCH: ProcedureLevel.DISTRICT,
        UnitKind.COMMUNE: ProcedureLevel.COMMUNE,
    }
    kinds = dict(_organisation_kinds())
    for unit in demo.demo_units():
        assert unit.procedures, unit.code
        found = {p.level for p in unit.procedures}
        if unit.valid_from is not None and kinds[unit.code] == UnitKind.COMMUNE:
            # From 01/07/2025 the communes took the district level's work
            # (but land registration, which stays with the branch).
            assert found == {ProcedureLevel.COMMUNE, ProcedureLevel.DISTRICT}
            assert not [
                p
                for p in unit.procedures
                if p.level == ProcedureLevel.DISTRICT and "VPDKDD" in p.handlers
            ]
        else:
            assert found == {levels[kinds[unit.code]]}, unit.code


def _organisation_kinds():
    from demo import organisation as org

    for suffix, *_ in org.DEPARTMENTS:
        yield f"{org.PROVINCE_CODE}-{suffix}", UnitKind.DEPARTMENT
    for suffix, *_ in org.DISTRICTS:
        yield f"{org.PROVINCE_CODE}-{suffix}", UnitKind.DISTRICT
    for suffix, *_ in org.CITY_OFFICES:
        yield f"{org.CITY_CODE}-{suffix}", UnitKind.OFFICE
    yield f"{org.CITY_CODE}-{org.LAND_BRANCH[0]}", UnitKind.BRANCH
    for suffix, _ in org.CITY_COMMUNES:
        yield f"{org.CITY_CODE}-{suffix}", UnitKind.COMMUNE
    for suffix, _name, _olds in org.NEW_WARDS:
        yield org.ward_code(suffix), UnitKind.COMMUNE
    for district in org.DISTRICT_SEATS:
        yield org.seat_code(district), UnitKind.COMMUNE


def test_officers_have_vietnamese_names_distinct_within_a_unit():
    for unit in demo.demo_units():
        assert len(set(unit.officers)) == len(unit.officers) >= 2
        for name in unit.officers:
            family, _, _ = name.split()
            assert family in dict(demo.FAMILY)
    women = sum(" Thị " in f" {n} " for u in demo.demo_units() for n in u.officers)
    assert women > 20


# --- the case rows (no database) ----------------------------------------------------


def test_case_rows_are_the_same_every_time_and_a_larger_demo_extends_a_smaller():
    small = list(demo.case_rows(500))
    assert small == list(demo.case_rows(500))
    assert list(demo.case_rows(1_000))[:500] == small


def test_case_rows_span_2022_to_2025_with_valid_dates(sample):
    years = Counter(row[RECEIVED][:4] for row in sample)
    assert set(years) == {"2022", "2023", "2024", "2025"}
    # Volumes grow year on year.
    assert years["2022"] < years["2023"] < years["2024"] < years["2025"]
    for row in sample:
        assert row[RECEIVED] <= row[DUE]
        assert not row[FINISHED] or row[RECEIVED] <= row[FINISHED] < DATA_END
        if row[STATUS] in CLOSED:
            assert row[FINISHED]
    assert len({row[CODE] for row in sample}) == len(sample)


def test_case_rows_follow_the_seasons_and_the_office_week(sample):
    months = Counter(int(row[RECEIVED][5:7]) for row in sample)
    assert months[2] < months[1]  # Tết: the rush before it, the holiday
    assert months[2] < months[12]
    in_person = [r for r in sample if r[CHANNEL] == "truc_tiep"]
    weekdays = Counter(
        date.fromisoformat(r[RECEIVED][:10]).weekday() for r in in_person
    )
    assert set(weekdays) <= {0, 1, 2, 3, 4}
    hours = Counter(int(r[RECEIVED][11:13]) for r in in_person)
    assert set(hours) <= set(range(7, 18))


def test_cases_belong_to_units_that_exist_on_the_day_they_are_received(sample):
    from demo import organisation as org

    kinds = dict(_organisation_kinds())
    units = {unit.code: unit for unit in demo.demo_units()}
    merger = org.MERGER_DATE.isoformat()
    after = set()
    for row in sample:
        unit = units[row[UNIT]]
        day = date.fromisoformat(row[RECEIVED][:10])
        assert unit.valid_from is None or unit.valid_from <= day, row[CODE]
        assert unit.valid_to is None or day <= unit.valid_to, row[CODE]
        if row[RECEIVED] >= merger:
            after.add(row[UNIT])
    # From 01/07/2025 the dossiers go to the two tiers' units: departments,
    # the branch and every new commune-level unit; none to a district.
    assert {kinds[code] for code in after} == {
        UnitKind.DEPARTMENT,
        UnitKind.BRANCH,
        UnitKind.COMMUNE,
    }
    assert {c for c in after if kinds[c] == UnitKind.COMMUNE} == {
        *(org.ward_code(suffix) for suffix, _name, _olds in org.NEW_WARDS),
        *(org.seat_code(district) for district in org.DISTRICT_SEATS),
    }


def test_designed_units_show_their_habits(sample):
    units = by_unit(sample)

    def late(code):
        return share(units[code], is_late)

    def online(code):
        return share(units[code], lambda r: r[CHANNEL].startswith("truc_tuyen"))

    def digitised(code):
        return share(units[code], lambda r: r[DIGITIZED] == "1")

    def paid_online(code):
        fee = [r for r in units[code] if r[FEE] == "1"]
        return share(fee, lambda r: r[PAID] == "1")

    def unhappy(code):
        return share(
            units[code],
            lambda r: r[COMPLAINT] == "1" or r[SATISFACTION] == "khong_hai_long",
        )

    handles = {u.code: u.procedures for u in demo.demo_units()}
    typical = [code for code in units if code not in demo.DESIGNED]

    def peers(code):
        """The typical units that handle the same procedures."""
        found = [c for c in typical if handles[c] == handles[code]]
        assert len(found) >= 5
        return found

    median_late = sorted(late(code) for code in typical)[len(typical) // 2]
    for code in demo.LATE_UNITS:
        assert late(code) > 3 * median_late, code
    for code in demo.GOOD_UNITS:
        assert late(code) < median_late, code
    for code in demo.OFFLINE_UNITS:
        assert online(code) < 0.6 * min(map(online, peers(code))), code
    for code in demo.LOW_DIGITISATION_UNITS:
        assert digitised(code) < 0.6 * min(map(digitised, peers(code))), code
    for code in demo.LOW_ONLINE_PAYMENT_UNITS:
        assert paid_online(code) < 0.5 * min(map(paid_online, peers(code))), code
    assert unhappy("HD-CL-HOANGTIEN") > 2 * max(unhappy(c) for c in demo.GOOD_UNITS)


def test_late_units_get_worse_and_one_officer_is_late_again_and_again(sample):
    units = by_unit(sample)
    for code in ("HD-CL-VPDKDD", "HD-SXD"):
        by_year = {
            year: share([r for r in units[code] if r[RECEIVED][:4] == year], is_late)
            for year in ("2022", "2025")
        }
        assert by_year["2025"] > by_year["2022"], code
        late_by_officer = Counter(r[OFFICER] for r in units[code] if is_late(r))
        (worst, most), (_, next_most) = late_by_officer.most_common(2)
        assert most > 2 * next_most, code
        for year in ("2024", "2025"):
            late_that_year = [
                r
                for r in units[code]
                if r[OFFICER] == worst and r[RECEIVED][:4] == year
            ]
            assert sum(map(is_late, late_that_year)) >= 3


def test_some_dossiers_are_asked_twice_for_documents_and_some_stay_open(sample):
    supplements = Counter(min(int(row[SUPPLEMENTS]), 2) for row in sample)
    assert supplements[1] > supplements[2] > 0
    open_overdue = [r for r in sample if not r[FINISHED] and r[DUE] < DATA_END]
    assert any(r[UNIT] == "HD-CL-VPDKDD" for r in open_overdue)
    statuses = Counter(row[STATUS] for row in sample)
    for status in DossierStatus:
        assert statuses[status] > 0, status


# --- the running year (no database) -------------------------------------------------

# sha256 of demo.case_rows(3_000), one tab-separated line a row: 2022–2025
# do not move with the running year. (Changed once on purpose, by the two
# tiers from 01/07/2025: issue 17, item 13.)
ROWS_3000_BEFORE_2026 = (
    "cfc231dad6dba81a418bd547a6d801ee3852e44425dde613894162b246f9f339"
)


def test_the_2022_to_2025_rows_are_those_from_before_the_running_year():
    digest = hashlib.sha256()
    for row in demo.case_rows(3_000):
        digest.update("\t".join(row).encode() + b"\n")
    assert digest.hexdigest() == ROWS_3000_BEFORE_2026


def test_the_running_year_is_the_same_every_time_and_grows_with_the_demo():
    small = list(demo.current_year_rows(2_000))
    assert len(small) == demo.current_year_size(2_000)
    assert small == list(demo.current_year_rows(2_000))
    assert list(demo.current_year_rows(4_000))[: len(small)] == small


def test_the_running_year_runs_to_the_last_import_at_the_same_demand(sample, running):
    assert len(running) == demo.current_year_size(30_000)
    # Ten months at 2025's daily demand and a little more.
    per_month_2025 = sum(row[RECEIVED][:4] == "2025" for row in sample) / 12
    assert 0.95 < len(running) / 10 / per_month_2025 < 1.2
    months = Counter(int(row[RECEIVED][5:7]) for row in running)
    assert set(months) == set(range(1, 11))
    assert months[2] < months[1]  # Tết 2026
    for row in running:
        assert "2026-01-01" <= row[RECEIVED] < CURRENT_END
        assert row[RECEIVED] <= row[DUE]
        assert not row[FINISHED] or row[RECEIVED] <= row[FINISHED] < CURRENT_END
        if row[STATUS] in CLOSED:
            assert row[FINISHED]
    codes = [row[CODE] for row in running]
    assert len(set(codes)) == len(codes)
    assert not set(codes) & {row[CODE] for row in sample}
    # Still open at the last import, some not yet due.
    still_open = [row for row in running if not row[FINISHED]]
    assert any(row[DUE] >= CURRENT_END for row in still_open)
    assert any(row[STATUS] == DossierStatus.RECEIVED for row in still_open)


def test_the_running_year_carries_on_the_trends_but_for_the_units_it_changes(
    sample, running
):
    last_year = by_unit(r for r in sample if r[RECEIVED][:4] == "2025")
    this_year = by_unit(running)

    def digitised(rows):
        return share(rows, lambda r: r[DIGITIZED] == "1")

    def online(rows):
        return share(rows, lambda r: r[CHANNEL].startswith("truc_tuyen"))

    def late(rows, end):
        return share(rows, lambda r: is_late(r, end))

    changed = set(demo.CURRENT_YEAR_CHANGES)
    others_2025 = [r for c, rows in last_year.items() if c not in changed for r in rows]
    others_2026 = [r for c, rows in this_year.items() if c not in changed for r in rows]
    assert online(others_2026) > online(others_2025)
    assert digitised(others_2026) > digitised(others_2025)
    falls = demo.DIGITISATION_FALLS
    assert digitised(this_year[falls]) < 0.6 * digitised(last_year[falls])
    for code in demo.LATE_IN_CURRENT_YEAR:
        assert late(this_year[code], CURRENT_END) > 2 * late(
            last_year[code], DATA_END
        ), code


# --- seed_demo (database) -----------------------------------------------------------


def test_seed_demo_loads_the_asked_number_of_cases_and_the_running_years(seed_demo):
    seed_demo()
    assert settings.DEMO_CASES == 3_000  # pyproject.toml keeps the tests small
    running = demo.current_year_size(settings.DEMO_CASES)
    assert 600 < running < 900  # the same daily demand, to 31/10/2026
    total = settings.DEMO_CASES + running
    assert CaseRecord.objects.count() == total
    new_year = datetime(2026, 1, 1, tzinfo=LOCAL_TZ)
    assert (
        CaseRecord.objects.filter(received_at__lt=new_year).count()
        == settings.DEMO_CASES
    )
    assert Procedure.objects.count() == len(demo.procedure_catalogue())
    span = CaseRecord.objects.aggregate(
        first=Min("received_at"), last=Max("received_at")
    )
    assert span["first"] >= datetime(2022, 1, 1, tzinfo=LOCAL_TZ)
    assert span["last"] < datetime(2026, 11, 1, tzinfo=LOCAL_TZ)
    assert not CaseRecord.objects.filter(
        finished_at__gte=datetime(2026, 11, 1, tzinfo=LOCAL_TZ)
    ).exists()
    # Units handle their own level; from 01/07/2025 the communes also the
    # district level's (there is no district level left).
    kinds = set(
        CaseRecord.objects.values_list("unit__kind", "procedure__level").distinct()
    )
    assert kinds == {
        (UnitKind.DEPARTMENT, ProcedureLevel.PROVINCE),
        (UnitKind.DISTRICT, ProcedureLevel.DISTRICT),
        (UnitKind.OFFICE, ProcedureLevel.DISTRICT),
        (UnitKind.BRANCH, ProcedureLevel.DISTRICT),
        (UnitKind.COMMUNE, ProcedureLevel.COMMUNE),
        (UnitKind.COMMUNE, ProcedureLevel.DISTRICT),
    }
    two_tier = datetime(2025, 7, 1, tzinfo=LOCAL_TZ)
    assert not CaseRecord.objects.filter(
        unit__kind=UnitKind.COMMUNE,
        procedure__level=ProcedureLevel.DISTRICT,
        received_at__lt=two_tier,
    ).exists()
    assert not CaseRecord.objects.filter(
        unit__kind__in=[UnitKind.DISTRICT, UnitKind.OFFICE], received_at__gte=two_tier
    ).exists()
    run = ImportRun.objects.get(file_name=demo.RUN_NAME)
    assert (run.status, run.rows_new, run.rows_rejected) == ("succeeded", total, 0)


def test_seed_demo_again_changes_nothing(seed_demo):
    seed_demo()
    cases, metrics = case_snapshot(), metric_snapshot()
    runs = ImportRun.objects.count()
    seed()
    assert (case_snapshot(), metric_snapshot()) == (cases, metrics)
    assert ImportRun.objects.count() == runs
    # Run through the engine anyway: it finds every row unchanged.
    run = demo.cases_load(size=settings.DEMO_CASES, force=True)
    assert run is not None
    total = settings.DEMO_CASES + demo.current_year_size(settings.DEMO_CASES)
    assert (run.rows_new, run.rows_updated, run.rows_unchanged) == (0, 0, total)
    assert (case_snapshot(), metric_snapshot()) == (cases, metrics)


def test_a_larger_demo_keeps_the_smaller_ones_cases(seed_demo):
    seed_demo()
    before = case_snapshot()
    small, large = settings.DEMO_CASES, settings.DEMO_CASES + 500
    run = demo.cases_load(size=large)
    assert run is not None
    more_running = demo.current_year_size(large) - demo.current_year_size(small)
    assert more_running > 0
    assert (run.rows_new, run.rows_updated, run.rows_unchanged) == (
        500 + more_running,
        0,
        small + demo.current_year_size(small),
    )
    assert set(before) <= set(case_snapshot())
    # Back to the smaller size: already loaded, nothing to do.
    assert demo.cases_load(size=settings.DEMO_CASES) is None


def test_metrics_are_computed_for_every_demo_unit_and_period(seed_demo):
    seed_demo()
    with_cases = set(CaseRecord.objects.values_list("unit_id", flat=True))
    # A few thousand cases reach nearly every unit (the smallest get a handful).
    assert len(with_cases) >= 0.9 * len(demo.demo_units())
    yearly = UnitMetric.objects.filter(period_kind=PeriodKind.YEAR)
    assert set(yearly.values_list("unit_id", flat=True)) == with_cases
    assert set(yearly.values_list("year", flat=True)) == {*demo.YEARS, 2026}
    # 2026 up to the last import: its months to October, its four quarters
    # (the fourth so far) and the year so far; nothing for the months after.
    running = UnitMetric.objects.filter(year=2026)
    assert set(running.values_list("period_kind", "number").distinct()) == {
        *((PeriodKind.MONTH, month) for month in range(1, 11)),
        *((PeriodKind.QUARTER, quarter) for quarter in range(1, 5)),
        (PeriodKind.YEAR, 1),
    }
    october = periods_of_year(2026)[9]
    for ref in [periods_of_year(2022)[0], periods_of_year(2025)[-1], october]:
        stored = {
            m.unit_id: (m.received, m.in_scope, m.on_time, m.overdue_open)
            for m in UnitMetric.objects.filter(
                period_kind=ref.kind, year=ref.year, number=ref.number
            )
        }
        fresh = {
            unit_id: (c.received, c.in_scope, c.on_time, c.overdue_open)
            for unit_id, c in aggregate(with_cases, ref).items()
            if c.received or c.in_scope
        }
        assert stored == fresh


def test_seeded_figures_rank_the_designed_units_apart(seed_demo):
    seed_demo()

    def on_time(code):
        t = totals(code)
        return t["on_time"] / t["in_scope"]

    def online(code):
        t = totals(code)
        return t["online"] / t["received"]

    for late in demo.LATE_UNITS[:2]:
        for good in demo.GOOD_UNITS[:2]:
            assert on_time(late) < on_time(good) - 0.1
    assert online("HD-TM") < 0.6 * online("HD-HD")
    # Dossiers still open past their due date at the end of 2025.
    assert UnitMetric.objects.filter(
        period_kind=PeriodKind.YEAR, year=2025, overdue_open__gt=0
    ).exists()


# What the 3,000-case demo held of 2022–2025 before the running year was added:
# its cases, and its figures (count, sha256 of the sorted rows; see digest).
# (Changed once on purpose, by the two tiers from 01/07/2025: issue 17.)
BEFORE_2026 = (
    3_000,
    "a470c19f5ae97972261c68a05ea7bfe0949ac32585c90b09bf9f46c96cd23ba3",
    2_836,
    "09e6416ffb46623f013c229dda23d3a4d9ec90a937b5b568091afb636ec064bb",
)


def digest(rows) -> str:
    """sha256 of the rows sorted, one tab-separated line each; times in UTC,
    so that SQLite and PostgreSQL give the same text."""

    def text(value) -> str:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return str(value)

    found = hashlib.sha256()
    for row in sorted(tuple(map(text, row)) for row in rows):
        found.update("\t".join(row).encode() + b"\n")
    return found.hexdigest()


def test_the_running_year_leaves_2022_to_2025_as_they_were(seed_demo):
    seed_demo()
    cases = CaseRecord.objects.filter(
        received_at__lt=datetime(2026, 1, 1, tzinfo=LOCAL_TZ)
    ).values_list(*CASE_FIELDS)
    figures = UnitMetric.objects.filter(year__lte=2025).values_list(
        "unit__code", "period_kind", "year", "number", *COUNT_FIELDS
    )
    assert (
        cases.count(),
        digest(cases),
        figures.count(),
        digest(figures),
    ) == BEFORE_2026
