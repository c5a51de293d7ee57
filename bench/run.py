"""The case-record benchmark (issue 3): the import engine and the metrics at
province scale, each figure against a reference measured in the same run.

    make bench                   # 1,000,000 rows and 5,000,000 cases
    make bench BENCH_ARGS="--rows 200000 --cases 1000000"   # a quicker look

It needs PostgreSQL and psql. It drops and recreates its own database
(``cchc_bench``, or BENCH_DATABASE_URL) and writes its files under bench/out/.
Everything is generated from a fixed seed, so two runs import the same rows.
See bench/README.md for what each figure means."""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cchc_bench"
SEED = 766
FIRST_YEAR, LAST_YEAR = 2021, 2025
# The moment the benchmark's province stands at: the end of its last year.
SINCE = date(2000, 1, 1)
AS_OF = datetime(LAST_YEAR, 12, 31, 23, 0, tzinfo=LOCAL)

HEADER = [
    "ma_ho_so",
    "ma_thu_tuc",
    "ma_don_vi",
    "ngay_tiep_nhan",
    "ngay_hen_tra",
    "ngay_hoan_thanh",
    "trang_thai",
    "kenh",
    "so_hoa",
    "co_phi",
    "thanh_toan_truc_tuyen",
    "so_lan_bo_sung",
    "danh_gia",
    "phan_anh",
    "can_bo_xu_ly",
]
CHANNELS = ["truc_tiep", "buu_chinh", "truc_tuyen_mot_phan", "truc_tuyen_toan_trinh"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ"]
GIVEN = ["Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thu Hà", "Đức Huy"]


# --- the province and its files ---------------------------------------------------


def unit_codes() -> list[str]:
    """A province of 273 units: 20 departments, 12 districts of 20 communes."""
    codes = [f"BT-S{n:02d}" for n in range(1, 21)]
    for d in range(1, 13):
        codes.append(f"BT-H{d:02d}")
        codes.extend(f"BT-H{d:02d}-X{c:02d}" for c in range(1, 21))
    return codes


PROCEDURES = [f"1.{n:06d}" for n in range(1, 501)]


def local_text(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")


def case_row(
    rng: random.Random,
    code: str,
    units: list[str],
    received: datetime,
    as_of: datetime = AS_OF,
):
    """One dossier as a one-stop-shop export writes it (Vietnamese headers,
    dd/mm/yyyy local time). About 1 in 8 late; still open at ``as_of`` (the
    end of 2025): a third of the last month's, fewer of older ones, a few
    stuck for years."""
    due = received + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
    age = (as_of - received).days
    open_share = 0.35 if age < 30 else 0.08 if age < 90 else 0.003
    roll = rng.random()
    if roll < open_share:
        finished, status = None, rng.choice(["dang_xu_ly", "cho_bo_sung"])
    else:
        late = rng.random() > 0.88
        span = (due - received).total_seconds()
        offset = span * rng.uniform(0.2, 1.0) + (
            rng.uniform(3600, 20 * 86400) if late else 0
        )
        finished = received + timedelta(seconds=offset)
        status = rng.choice(["da_tra_ket_qua", "da_xu_ly_xong", "tu_choi"])
    fee = rng.random() < 0.4
    return [
        code,
        rng.choice(PROCEDURES),
        rng.choice(units),
        local_text(received),
        local_text(due),
        local_text(finished) if finished else "",
        status,
        rng.choices(CHANNELS, weights=[45, 5, 30, 20])[0],
        "1" if rng.random() < 0.7 else "0",
        "1" if fee else "0",
        "1" if fee and rng.random() < 0.5 else "0",
        str(rng.choices([0, 1, 2, 3], weights=[80, 14, 4, 2])[0]),
        rng.choices(["", "hai_long", "binh_thuong", "khong_hai_long"], [50, 40, 8, 2])[
            0
        ],
        "1" if rng.random() < 0.01 else "0",
        f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
    ]


def write_cases(
    path: Path, rows: int, *, prefix: str, first: datetime, last: datetime, seed: int
) -> Path:
    if path.exists():
        return path  # same seed, same rows
    rng = random.Random(seed)
    units = unit_codes()
    span = (last - first).total_seconds()
    partial = path.with_suffix(".part")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            received = first + timedelta(seconds=int(rng.random() * span))
            writer.writerow(case_row(rng, f"{prefix}{n:09d}", units, received))
    partial.rename(path)
    return path


def head(source: Path, target: Path, rows: int) -> Path:
    if not target.exists():
        with (
            source.open(encoding="utf-8") as src,
            target.open("w", encoding="utf-8") as dst,
        ):
            for n, line in enumerate(src):
                if n > rows:
                    break
                dst.write(line)
    return target


# --- the database -------------------------------------------------------------------


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("REDIS_URL", None)  # tasks in process
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc_portal.settings")
    import django

    django.setup()


def build_province() -> None:
    from django.core.management import call_command

    from commitments.organisation.models import Unit, UnitKind
    from procedures.models import Procedure

    call_command("migrate", verbosity=0)
    province = Unit.objects.create(
        code="BT", name="UBND tỉnh", kind=UnitKind.PROVINCE, valid_from=SINCE
    )
    parents: dict[str, Unit] = {}
    for code in unit_codes():
        if "-X" in code:
            kind, parent = UnitKind.COMMUNE, parents[code.rsplit("-", 1)[0]]
        elif "-H" in code:
            kind, parent = UnitKind.DISTRICT, province
        else:
            kind, parent = UnitKind.DEPARTMENT, province
        parents[code] = Unit.objects.create(
            code=code, name=code, kind=kind, parent=parent, valid_from=SINCE
        )
    Procedure.objects.bulk_create(
        Procedure(code=code, name=f"Thủ tục {code}") for code in PROCEDURES
    )


def sql(statement: str, params: Any = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def fresh_start() -> None:
    """An empty case table and a checkpoint behind it."""
    sql("TRUNCATE procedures_caserecord CASCADE")
    sql("CHECKPOINT")


def psql(command: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["psql", database_url(), "-v", "ON_ERROR_STOP=1", "-q", "-c", command],
        check=True,
    )
    return time.perf_counter() - started


# --- one import, in a child process (its own peak memory) -----------------------------


def import_child(path: str) -> None:
    """Import one file through the engine's command-line door and print what
    it took. Metrics are left out here (they are measured on their own)."""
    from unittest import mock

    from procedures.importer import run_import
    from procedures.models import ImportRun, ImportSource

    at_rest = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = ImportRun.objects.create(
        source=ImportSource.COMMAND, file_name=Path(path).name
    )
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        # The importer and its reader process together: proportional set
        # sizes, so that the pages the forked reader shares with its parent
        # count once (the sum of the two peak RSS would count them twice).
        while not stop.wait(0.05):
            peak[0] = max(peak[0], sum(map(_pss_kb, [os.getpid(), *_children()])))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with mock.patch("procedures.tasks.recompute_metrics_task.delay") as recompute:
        started = time.perf_counter()
        with open(path, "rb") as stream:
            run = run_import(run, stream)
        seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    affected = recompute.call_args.args[0] if recompute.called else []
    print(
        json.dumps(
            {
                "seconds": seconds,
                "read": run.rows_total,
                "new": run.rows_new,
                "updated": run.rows_updated,
                "unchanged": run.rows_unchanged,
                "rejected": run.rows_rejected,
                "at_rest_kb": at_rest,
                # The importer's own peak (read from the kernel), or the
                # importer and its reader sampled together if more.
                "peak_kb": max(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, peak[0]
                ),
                "affected": affected,
            }
        )
    )


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:  # ended meanwhile
        pass
    return 0


def _children() -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with suppress(OSError):
            found += [int(pid) for pid in (task / "children").read_text().split()]
    return found


def run_import_child(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "import-child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": database_url()},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the metrics by hand -------------------------------------------------------

# The columns of HAND_SQL, in order.
HAND_FIELDS = (
    "received",
    "in_scope",
    "on_time",
    "late",
    "overdue_open",
    "online",
    "online_full",
    "digitized",
    "fee_required",
    "paid_online",
    "complaint_or_dissatisfied",
    "carried_in",
    "finished_on_time",
)
HAND_SQL = """
SELECT unit_id,
  COUNT(*) FILTER (WHERE received_at >= %(start)s AND received_at < %(end)s),
  COUNT(*) FILTER (WHERE in_scope),
  COUNT(*) FILTER (WHERE in_scope AND timely),
  COUNT(*) FILTER (WHERE in_scope AND NOT timely),
  COUNT(*) FILTER (WHERE in_scope AND (finished_at IS NULL OR finished_at >= %(end)s)
                   AND due_at < %(end)s),
  COUNT(*) FILTER (WHERE received AND channel IN
                   ('truc_tuyen_mot_phan', 'truc_tuyen_toan_trinh')),
  COUNT(*) FILTER (WHERE received AND channel = 'truc_tuyen_toan_trinh'),
  COUNT(*) FILTER (WHERE received AND digitized),
  COUNT(*) FILTER (WHERE received AND fee_required),
  COUNT(*) FILTER (WHERE received AND fee_required AND paid_online),
  COUNT(*) FILTER (WHERE received AND (complaint OR satisfaction = 'khong_hai_long')),
  COUNT(*) FILTER (WHERE in_scope AND NOT received),
  COUNT(*) FILTER (WHERE in_scope AND supplement_requests <= 1
                   AND finished_at < %(end)s AND finished_at <= due_at)
FROM (
  SELECT c.*,
    received_at >= %(start)s AND received_at < %(end)s AS received,
    status <> 'rut_ho_so' AS in_scope,
    supplement_requests <= 1 AND (
      (finished_at IS NULL OR finished_at >= %(end)s) AND due_at >= %(end)s
      OR finished_at IS NOT NULL AND finished_at < %(end)s
         AND finished_at <= due_at) AS timely
  FROM procedures_caserecord c
  WHERE received_at < %(end)s
    AND (received_at >= %(start)s OR finished_at IS NULL OR finished_at >= %(start)s)
) cases
GROUP BY unit_id
"""


def best_of[T](times: int, work: Callable[[], T]) -> tuple[float, T]:
    results = []
    for _ in range(times):
        started = time.perf_counter()
        value = work()
        results.append((time.perf_counter() - started, value))
    return min(results, key=lambda r: r[0])


def grow_to(
    total: int,
    *,
    first: datetime = datetime(FIRST_YEAR, 1, 1, tzinfo=LOCAL),
    last: datetime = datetime(LAST_YEAR, 12, 1, tzinfo=LOCAL),
) -> None:
    """More history by SQL, so that the table holds ``total`` cases: copies of
    the imported cases shifted by up to seven weeks, kept between ``first``
    and ``last`` (the same five years), under new codes."""
    have = sql("SELECT COUNT(*) FROM procedures_caserecord")[0][0]
    rounds = 0
    while have < total:
        rounds += 1
        take = min(have, total - have)
        sql(
            """INSERT INTO procedures_caserecord (case_code, procedure_id, unit_id,
                received_at, due_at, finished_at, status, channel, digitized,
                fee_required, paid_online, supplement_requests, satisfaction,
                complaint, officer)
            SELECT 'G' || %s || '-' || case_code, procedure_id, unit_id,
                received_at + d, due_at + d, finished_at + d, status, channel,
                digitized, fee_required, paid_online, supplement_requests,
                satisfaction, complaint, officer
            FROM (SELECT *, ((id %% 97) - 48) * interval '1 day' AS d
                  FROM procedures_caserecord ORDER BY id LIMIT %s) c
            WHERE received_at + d >= %s AND received_at + d < %s""",
            [rounds, take, first, last],
        )
        have = sql("SELECT COUNT(*) FROM procedures_caserecord")[0][0]
    sql("ANALYZE procedures_caserecord")


# --- the run -------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str, bool | None]] = []

    def add(self, what: str, figure: str, target: str, met: bool | None) -> None:
        self.lines.append((what, figure, target, met))
        mark = {True: "ok  ", False: "MISS", None: "    "}[met]
        print(f"{mark} {what}: {figure}  [{target}]", flush=True)

    def summary(self) -> int:
        print("\n" + "=" * 78)
        for what, figure, target, met in self.lines:
            mark = {True: "ok  ", False: "MISS", None: "    "}[met]
            print(f"{mark} {what:<44} {figure:<30} {target}")
        missed = [line for line in self.lines if line[3] is False]
        print("=" * 78)
        print("all targets met" if not missed else f"{len(missed)} target(s) missed")
        return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows of the big file"
    )
    parser.add_argument(
        "--small", type=int, default=100_000, help="rows of the small file"
    )
    parser.add_argument(
        "--cases", type=int, default=5_000_000, help="cases for the metrics"
    )
    parser.add_argument(
        "--ie-rows", type=int, default=10_000, help="rows through import-export"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each big load (the median)"
    )
    args = parser.parse_args()

    url = database_url()
    OUT.mkdir(parents=True, exist_ok=True)
    report = Report()
    print(f"database {url}; files in {OUT}", flush=True)
    recreate_database(url)
    setup_django(url)
    build_province()

    first = datetime(FIRST_YEAR, 1, 1, tzinfo=LOCAL)
    end = datetime(LAST_YEAR + 1, 1, 1, tzinfo=LOCAL)
    started = time.perf_counter()
    big = write_cases(
        OUT / f"cases-{args.rows}.csv",
        args.rows,
        prefix="HS",
        first=first,
        last=end,
        seed=SEED,
    )
    small = head(big, OUT / f"cases-{args.rows}-head-{args.small}.csv", args.small)
    fresh = write_cases(
        OUT / f"cases-new-{args.ie_rows}.csv",
        args.ie_rows,
        prefix="MOI",
        first=datetime(LAST_YEAR, 12, 1, tzinfo=LOCAL),
        last=datetime(LAST_YEAR, 12, 31, 12, tzinfo=LOCAL),
        seed=SEED + 1,
    )
    print(f"files ready in {time.perf_counter() - started:.0f} s", flush=True)

    # 1. Memory: the small file into an empty table.
    fresh_start()
    small_run = run_import_child(small)

    # 2. The big file, and the reference: psql \copy of the same rows, already
    #    in the table's own form, into the same table (its indexes, checks and
    #    foreign keys). Each from an empty table after a checkpoint, taking
    #    turns, the median of --repeat runs each: a load's time swings by a
    #    quarter from run to run with the checkpoints that fall inside it.
    converted = OUT / f"cases-{args.rows}-table.csv"
    columns = (
        "case_code, procedure_id, unit_id, received_at, due_at, finished_at, status, "
        "channel, digitized, fee_required, paid_online, supplement_requests, "
        "satisfaction, complaint, officer"
    )
    engine_runs, copy_times = [], []
    for attempt in range(args.repeat):
        fresh_start()
        big_run = run_import_child(big)
        if big_run["new"] != args.rows or big_run["rejected"]:
            raise SystemExit(f"the first import did not load every row: {big_run}")
        engine_runs.append(big_run)
        if attempt == 0:
            psql(
                f"\\copy (SELECT {columns} FROM procedures_caserecord) "
                f"TO '{converted}' csv"
            )
        fresh_start()
        copy_times.append(
            psql(f"\\copy procedures_caserecord ({columns}) FROM '{converted}' csv")
        )
        print(
            f"     run {attempt + 1}: engine {big_run['seconds']:.1f} s, "
            f"\\copy {copy_times[-1]:.1f} s",
            flush=True,
        )
    big_run = sorted(engine_runs, key=lambda run: run["seconds"])[len(engine_runs) // 2]
    big_run["peak_kb"] = max(run["peak_kb"] for run in engine_runs)
    copy_seconds = statistics.median(copy_times)
    engine_rate = args.rows / big_run["seconds"]
    copy_rate = args.rows / copy_seconds

    # 3. Re-import over the engine's own load: nothing new, nothing duplicated.
    fresh_start()
    run_import_child(big)
    again = run_import_child(big)
    count, distinct = sql(
        "SELECT COUNT(*), COUNT(DISTINCT case_code) FROM procedures_caserecord"
    )[0]

    report.add(
        f"import {args.rows:,} rows (engine)",
        f"{big_run['seconds']:.1f} s, {engine_rate:,.0f} rows/s",
        "",
        None,
    )
    report.add(
        "  vs psql \\copy of the same rows",
        f"{copy_seconds:.1f} s; ratio {engine_rate / copy_rate:.2f} "
        f"(medians of {args.repeat})",
        ">= 0.70",
        engine_rate / copy_rate >= 0.7,
    )
    report.add(
        "re-import the same file",
        f"{again['seconds']:.1f} s = "
        f"{again['seconds'] / big_run['seconds']:.2f}x first; "
        f"{again['unchanged']:,} unchanged",
        "<= 1.5x, no duplicates",
        again["seconds"] <= 1.5 * big_run["seconds"]
        and again["unchanged"] == args.rows
        and again["new"] == again["updated"] == 0
        and count == distinct == args.rows,
    )
    mb = 1024
    report.add(
        f"peak memory, {args.rows:,} rows",
        f"{big_run['peak_kb'] / mb:.0f} MB "
        f"(at rest {big_run['at_rest_kb'] / mb:.0f} MB)",
        "<= 300 MB",
        big_run["peak_kb"] / mb <= 300,
    )
    report.add(
        f"peak memory, {args.small:,} rows",
        f"{small_run['peak_kb'] / mb:.0f} MB; big/small "
        f"{big_run['peak_kb'] / small_run['peak_kb']:.2f}",
        "about the same (<= 1.25x)",
        big_run["peak_kb"] <= 1.25 * small_run["peak_kb"],
    )

    # 4. django-import-export's default import of a slice, rows per second.
    ie_seconds = import_export_seconds(fresh)
    ie_rate = args.ie_rows / ie_seconds
    report.add(
        f"django-import-export, {args.ie_rows:,} rows",
        f"{ie_seconds:.1f} s, {ie_rate:,.0f} rows/s; "
        f"engine {engine_rate / ie_rate:.0f}x",
        ">= 50x",
        engine_rate / ie_rate >= 50,
    )
    sql("DELETE FROM procedures_caserecord WHERE case_code LIKE 'MOI%%'")

    # 5. Yearly metrics over the big table vs a hand-written GROUP BY.
    print(f"growing the table to {args.cases:,} cases", flush=True)
    grow_to(args.cases)
    total = sql("SELECT COUNT(*) FROM procedures_caserecord")[0][0]
    from commitments.organisation.models import Unit
    from procedures.metrics import (
        PeriodRef,
        aggregate,
        metrics_recompute,
        periods_of_year,
    )
    from procedures.models import PeriodKind

    unit_ids = list(Unit.objects.values_list("pk", flat=True))
    year = PeriodRef(PeriodKind.YEAR, LAST_YEAR, 1)
    period = year.period
    ours_seconds, ours = best_of(3, lambda: aggregate(unit_ids, year))
    hand_seconds, hand = best_of(
        3, lambda: sql(HAND_SQL, {"start": period.start, "end": period.end})
    )
    same = {
        unit: tuple(getattr(c, name) for name in HAND_FIELDS)
        for unit, c in ours.items()
    } == {unit: tuple(numbers) for unit, *numbers in hand}
    report.add(
        f"yearly metrics over {total:,} cases",
        f"{ours_seconds:.2f} s vs hand SQL {hand_seconds:.2f} s = "
        f"{ours_seconds / hand_seconds:.2f}x",
        "<= 1.3x",
        ours_seconds <= 1.3 * hand_seconds,
    )
    report.add(
        "  the same figures as the hand-written SQL",
        "yes" if same else "NO: they differ",
        "same",
        same,
    )

    # 6. Recompute after importing new rows into that table.
    metrics_recompute(
        unit_ids=unit_ids, periods=periods_of_year(LAST_YEAR), as_of=AS_OF
    )
    new_run = run_import_child(fresh)
    from procedures.metrics import metrics_recompute_affected

    affected = [tuple(key) for key in new_run["affected"]]
    started = time.perf_counter()
    written = metrics_recompute_affected(affected=affected, as_of=AS_OF)
    recompute_seconds = time.perf_counter() - started
    units_touched = len({unit for unit, _, _ in affected})
    report.add(
        f"recompute after {new_run['new']:,} new rows",
        f"{recompute_seconds:.2f} s ({units_touched} units, {written} rows)",
        "< 1 s",
        recompute_seconds < 1,
    )
    return report.summary()


def import_export_seconds(path: Path) -> float:
    """The admin's import (django-import-export, row by row with its checks),
    without the admin's cap on the rows of one file."""
    from unittest import mock

    import tablib

    from procedures.resources import CaseRecordResource

    with path.open(encoding="utf-8") as handle:
        dataset = tablib.Dataset().load(handle.read(), format="csv")
    started = time.perf_counter()
    with mock.patch("procedures.resources.ADMIN_IMPORT_MAX_ROWS", len(dataset)):
        result = CaseRecordResource().import_data(
            dataset, dry_run=False, raise_errors=True
        )
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit("django-import-export rejected rows of the slice")
    return seconds


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "import-child":
        setup_django(os.environ["DATABASE_URL"])
        import_child(sys.argv[2])
    else:
        sys.exit(main())
