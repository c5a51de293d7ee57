"""The year's computation benchmark (issue 5): 3,321 communes (the country's
commune count) against a 100-leaf framework, computed end to end on
PostgreSQL, beside a reference measured in the same run.

    make bench-compute
    .venv/bin/python bench/compute.py --units 1000     # a quicker look

It drops and recreates its own database (``cchc_bench_compute``, or
BENCH_COMPUTE_DATABASE_URL). Everything is generated from a fixed seed. See
bench/README.md for what each figure means."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cchc_bench_compute"
SEED = 876
YEAR = 2025
SINCE = date(2019, 1, 1)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
# 10 fields × 2–3 criteria × 3–5 sub-criteria = 100 leaves.
FIELDS = 10
LEAVES = 100
SECONDS_TARGET = 3.0
PER_BATCH = 4


def database_url() -> str:
    return os.environ.get("BENCH_COMPUTE_DATABASE_URL", DEFAULT_URL)


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("REDIS_URL", None)  # tasks in process
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc_portal.settings")
    import django

    django.setup()


def build_framework(year: int):
    """A commune framework shaped like Hà Tĩnh's: 70 points scored and
    appraised, 30 from the survey; 100 leaves, 10 of them computed from the
    dossier figures and 10 from the survey."""
    from commitments.organisation.models import UnitKind
    from scoring.frameworks import catalogue
    from scoring.frameworks.services import DEFAULT_TIERS
    from scoring.models import Framework, Method, Node, NodeLevel, Tier

    framework = Framework.objects.create(
        year=year, unit_kind=UnitKind.COMMUNE, name=f"Chỉ số CCHC cấp xã {year}"
    )
    Tier.objects.bulk_create(
        Tier(framework=framework, code=c, label=label, min_index=floor)
        for c, label, floor in DEFAULT_TIERS
    )
    catalogue.defaults_create(framework)
    position = 0
    leaves = 0
    for f in range(1, FIELDS + 1):
        survey_field = f == FIELDS
        position += 1
        field = Node.objects.create(
            framework=framework,
            level=NodeLevel.FIELD,
            code=str(f),
            position=position,
            title=f"Lĩnh vực {f}",
            # 9 fields of 7 points scored and appraised, 37 from the survey.
            max_points=Decimal(37 if survey_field else 7),
        )
        field_max = field.max_points
        criteria = 2 if f % 2 else 3
        per_criterion = LEAVES // FIELDS // criteria
        extra = LEAVES // FIELDS - per_criterion * criteria
        for c in range(1, criteria + 1):
            position += 1
            count = per_criterion + (1 if c <= extra else 0)
            criterion_max = (field_max / criteria).quantize(Decimal("0.01"))
            criterion = Node.objects.create(
                framework=framework,
                parent=field,
                level=NodeLevel.CRITERION,
                code=f"{f}.{c}",
                position=position,
                title=f"Tiêu chí {f}.{c}",
                max_points=criterion_max,
            )
            for s in range(1, count + 1):
                position += 1
                leaves += 1
                method = Method.MANUAL
                extra_fields: dict = {}
                if survey_field:
                    method = Method.SURVEY
                elif s == 1 and c == 1:
                    method = Method.METRIC
                    extra_fields = {
                        "metric": "on_time_rate",
                        "scoring": "linear",
                        "scoring_params": {"full_at": 95},
                    }
                Node.objects.create(
                    framework=framework,
                    parent=criterion,
                    level=NodeLevel.SUBCRITERION,
                    code=f"{f}.{c}.{s}",
                    position=position,
                    title=f"Tiêu chí thành phần {f}.{c}.{s}",
                    max_points=(criterion_max / count).quantize(Decimal("0.01")),
                    method=method,
                    **extra_fields,
                )
    assert leaves == LEAVES, leaves
    return framework


def build_units(first: int, last: int, groups):
    from commitments.organisation.models import Unit, UnitKind

    province = Unit.objects.get(code="P")
    created = []
    for n in range(first, last):
        created.append(
            Unit.objects.create(
                code=f"X{n:05d}",
                name=f"Xã {n}",
                kind=UnitKind.COMMUNE,
                parent=province,
                ranking_group=groups[n % len(groups)],
                valid_from=SINCE,
            )
        )
    return created


def assess(framework, units, rng: random.Random) -> None:
    """Approved assessments with a self and an appraised score on every leaf
    (written in bulk: the benchmark measures the computation, not the
    appraisal), the year's dossier figures and a few deductions."""
    from procedures.models import PeriodKind, UnitMetric
    from scoring.models import (
        Adjustment,
        AdjustmentRule,
        Assessment,
        Method,
        Node,
        Score,
    )

    leaves = list(
        Node.objects.filter(framework=framework, children__isnull=True).exclude(
            method=Method.METRIC
        )
    )
    metric = list(Node.objects.filter(framework=framework, method=Method.METRIC))
    assessments = Assessment.objects.bulk_create(
        Assessment(framework=framework, unit=unit, state="approved", round=1)
        for unit in units
    )
    batch: list[Score] = []
    for assessment in assessments:
        quality = rng.uniform(0.55, 1.0)
        for node in leaves:
            # Steps of a quarter point: ties happen, as they do in real years.
            most = node.max_points
            got = min(most, Decimal(round(float(most) * quality * 4) / 4))
            appraised = got if rng.random() > 0.1 else max(Decimal(0), got - 1)
            batch.append(
                Score(
                    assessment=assessment,
                    node=node,
                    max_points=most,
                    self_score=got,
                    appraised_score=appraised,
                    appraisal_reason="" if appraised == got else "Thiếu tài liệu",
                )
            )
        for node in metric:
            batch.append(
                Score(assessment=assessment, node=node, max_points=node.max_points)
            )
        if len(batch) >= 20_000:
            Score.objects.bulk_create(batch)
            batch = []
    Score.objects.bulk_create(batch)
    UnitMetric.objects.bulk_create(
        UnitMetric(
            unit=unit,
            period_kind=PeriodKind.YEAR,
            year=framework.year,
            number=1,
            received=(received := rng.randint(200, 3000)),
            in_scope=received,
            on_time=(on_time := int(received * rng.uniform(0.8, 1.0))),
            late=received - on_time,
            online=int(received * 0.6),
            computed_at=NOW,
        )
        for unit in units
    )
    rule = AdjustmentRule.objects.get(framework=framework, code="harassment_complaint")
    Adjustment.objects.bulk_create(
        Adjustment(
            framework=framework,
            unit=unit,
            rule=rule,
            cases=1,
            points=rule.points_per_case,
            reason="Đơn phản ánh được xác minh",
            state="approved",
            entered_at=NOW,
            decided_at=NOW,
        )
        for unit in units[::20]
    )


def timed_compute(year: int) -> tuple[float, int, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scoring.results import computation

    # The log keeps the last 9,000 queries: full after building the data, it
    # would count none.
    connection.queries_log.clear()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        run = computation.compute_now(year, trigger="command")
    return time.perf_counter() - started, len(queries), run


def reference_read(year: int) -> float:
    """The least any computation must do: read every score of the year and
    write one row per unit, in plain SQL (no rules, no detail)."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_totals ON COMMIT DROP AS "
            "SELECT a.unit_id, SUM(COALESCE(s.appraised_score, 0)) AS points "
            "FROM scoring_score s JOIN scoring_assessment a ON a.id = s.assessment_id "
            "JOIN scoring_framework f ON f.id = a.framework_id WHERE f.year = %s "
            "GROUP BY a.unit_id",
            [year],
        )
        cursor.execute("SELECT * FROM bench_totals")
        cursor.fetchall()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=3321)
    parser.add_argument("--first", type=int, default=1000, help="units of pass 1")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = database_url()
    print(f"database {url}: recreating", flush=True)
    recreate_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from commitments.organisation.models import RankingGroup, Unit, UnitKind
    from scoring.models import ComputationRun, Result, Score
    from scoring.results import computation, publication

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    Unit.objects.create(
        code="P", name="Cả nước", kind=UnitKind.PROVINCE, valid_from=SINCE
    )
    groups = [
        RankingGroup.objects.create(code=f"g{g}", name=f"Nhóm {g}") for g in range(34)
    ]
    previous = build_framework(YEAR - 1)
    current = build_framework(YEAR)
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("bench", password="x")

    def grow(first: int, last: int) -> None:
        started = time.perf_counter()
        units = build_units(first, last, groups)
        assess(previous, units, rng)
        assess(current, units, rng)
        print(
            f"  {last - first} units assessed in {time.perf_counter() - started:.1f} s"
            f" ({Score.objects.count():,} scores)",
            flush=True,
        )

    def measure(units: int) -> tuple[float, int, float]:
        # Last year published: the change of rank and index reads it.
        run = computation.compute_now(YEAR - 1)
        publication.publish(user=admin, year=YEAR - 1, run_id=run.pk, now=NOW)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        times, counts = [], []
        for _ in range(args.repeat):
            seconds, queries, computed = timed_compute(YEAR)
            assert computed.state == "succeeded", computed.error
            times.append(seconds)
            counts.append(queries)
        reference = min(reference_read(YEAR) for _ in range(args.repeat))
        median = statistics.median(times)
        print(
            f"  {units:,} units: {median:.2f} s (median of {args.repeat}: "
            f"{', '.join(f'{t:.2f}' for t in times)}), {counts[0]} queries; "
            f"reference (one SQL read and GROUP BY of the scores) {reference:.2f} s, "
            f"ratio {median / reference:.1f}",
            flush=True,
        )
        assert len(set(counts)) == 1, counts
        return median, counts[0], reference

    print(f"pass 1: {args.first} units", flush=True)
    grow(0, args.first)
    _, small_queries, _ = measure(args.first)
    print(f"pass 2: {args.units} units", flush=True)
    grow(args.first, args.units)
    big_time, big_queries, reference = measure(args.units)

    results = Result.objects.filter(framework=current)
    ranked = results.exclude(rank__isnull=True).count()
    tied = (
        results.values("group_id", "rank")
        .order_by()
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    batches_small = -(-args.first // computation.BATCH)
    batches_big = -(-args.units // computation.BATCH)
    per_batch = (big_queries - small_queries) / (batches_big - batches_small)
    last = ComputationRun.objects.filter(year=YEAR).order_by("-pk").first()
    print("\n" + "=" * 78)
    print(f"units {args.units:,}, leaves {LEAVES}, scores {Score.objects.count():,}")
    print(f"ranked {ranked:,} in {len(groups)} groups, {tied} shared ranks")
    print(
        f"queries: {small_queries} for {args.first:,} units ({batches_small} "
        f"batches), {big_queries} for {args.units:,} ({batches_big} batches): "
        f"{per_batch:.1f} per batch of {computation.BATCH}"
    )
    # Per batch of units: its scores, its figures and a sign of life; and one
    # INSERT per 1,000 results.
    met = big_time < SECONDS_TARGET and per_batch <= PER_BATCH
    print(
        f"{'ok  ' if big_time < SECONDS_TARGET else 'MISS'} compute {args.units:,} "
        f"units: {big_time:.2f} s  [under {SECONDS_TARGET:.0f} s]; ratio to the "
        f"reference read {big_time / reference:.1f}"
    )
    print(
        f"{'ok  ' if per_batch <= PER_BATCH else 'MISS'} queries grow by "
        f"{per_batch:.1f} per batch, not per unit  [at most {PER_BATCH} per batch]"
    )
    if last is not None:
        print(f"last run #{last.pk}: {last.units} units, {last.state}")
    print("=" * 78)
    print("all targets met" if met else "target(s) missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
