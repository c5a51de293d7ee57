"""A real Celery worker killed in the middle of writing a year's results.

The test builds a scratch database of its own (PostgreSQL when the suite runs
on PostgreSQL, as in CI; otherwise a SQLite file) so that separate processes
share it: a worker process (Redis as the broker when REDIS_URL is set, kombu's
filesystem transport otherwise) takes the queued run, is held inside the
transaction that replaces the results (settings.SCORING_COMPUTE_PAUSE), and is
killed with SIGKILL there. The previous results must be intact, and the next
run must complete.

The scratch database starts as a copy of the session's migrated template
(tests/migrated.py): `migrate` from nothing is some fifteen seconds."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.migrated import Migrated

ROOT = Path(settings.BASE_DIR)
PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))
UNITS = 40
RESULTS = 'SELECT unit_id, final, "index", "rank" FROM scoring_result ORDER BY 1'


def build_scenario() -> None:
    """Run in a child process: 40 communes with approved assessments, and
    their first results."""
    from datetime import date

    from commitments.organisation.models import Unit, UnitKind
    from scoring.assessments import services
    from scoring.frameworks import catalogue
    from scoring.models import Assessment, Framework, Node, Score, Tier
    from scoring.results import computation

    province = Unit.objects.create(
        code="P", name="UBND tỉnh", kind=UnitKind.PROVINCE, valid_from=date(2019, 1, 1)
    )
    framework = Framework.objects.create(
        year=2025, unit_kind=UnitKind.COMMUNE, name="Chỉ số CCHC cấp xã", state="open"
    )
    Tier.objects.create(framework=framework, code="A", label="Tốt", min_index=90)
    Tier.objects.create(framework=framework, code="B", label="Khá", min_index=0)
    catalogue.defaults_create(framework)
    field = Node.objects.create(
        framework=framework, level="field", code="1", title="Lĩnh vực", max_points=10
    )
    for position, code in enumerate(["1.1", "1.2"], start=1):
        Node.objects.create(
            framework=framework,
            parent=field,
            level="criterion",
            code=code,
            position=position,
            title=f"Tiêu chí {code}",
            max_points=5,
        )
    for n in range(UNITS):
        unit = Unit.objects.create(
            code=f"X{n:02d}",
            name=f"Xã {n}",
            kind=UnitKind.COMMUNE,
            parent=province,
            valid_from=date(2019, 1, 1),
        )
        assessment = services.assessment_open(framework=framework, unit=unit)
        Score.objects.filter(assessment=assessment).update(
            self_score=5, appraised_score=n % 5
        )
    Assessment.objects.update(state="approved")
    computation.compute_now(2025)
    # New appraisals since: the next run's results differ from these.
    Score.objects.filter(node__code="1.2").update(appraised_score=5)


@dataclass
class Scratch:
    url: str
    vendor: str
    name: str
    # The session's migrated template (tests/migrated.py).
    migrated: Migrated

    def migrate(self) -> None:
        """The scratch database with every migration applied: a copy of the
        session's template."""
        if self.vendor == "sqlite":
            shutil.copyfile(self.migrated.name, self.name)
        else:
            self.migrated.create_database(self.name)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.vendor == "sqlite":
            with closing(sqlite3.connect(self.name, timeout=30)) as db:
                return db.execute(sql).fetchall()
        import psycopg2

        with closing(psycopg2.connect(self.url)) as db, db.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
            db.rollback()
            return rows

    def in_transaction(self) -> bool:
        """Is a writer holding an open transaction at this moment?"""
        if self.vendor == "sqlite":
            return Path(f"{self.name}-journal").exists()
        return bool(
            self.query(
                "SELECT 1 FROM pg_stat_activity WHERE datname = "
                f"'{self.name}' AND state LIKE 'idle in transaction%'"
            )
        )


@pytest.fixture
def scratch(tmp_path: Path, migrated: Migrated) -> Iterator[Scratch]:
    if migrated.vendor == "postgresql":
        import psycopg2

        name = f"cchc_worker_{uuid.uuid4().hex[:10]}"
        try:
            yield Scratch(f"{migrated.server}/{name}", "postgresql", name, migrated)
        finally:
            with closing(psycopg2.connect(f"{migrated.server}/postgres")) as admin:
                admin.autocommit = True
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "worker.sqlite3"
        yield Scratch(f"sqlite:///{path}", "sqlite", str(path), migrated)


def environment(scratch: Scratch, tmp_path: Path, queue: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "SCORING_"))
    }
    env.update(
        DEBUG="1",
        DATABASE_URL=scratch.url,
        CELERY_QUEUE=queue,
        DJANGO_SETTINGS_MODULE="cchc_portal.settings",
    )
    if not env.get("REDIS_URL"):
        folder = tmp_path / "broker"
        folder.mkdir()
        env["CELERY_BROKER_FOLDER"] = str(folder)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def purge(env: dict[str, str], queue: str) -> None:
    if env.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        client.delete(queue)


def wait_for(condition, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s; worker log:\n{log.read_text()[-3000:]}")


def test_a_worker_killed_while_writing_leaves_the_previous_results(
    scratch: Scratch, tmp_path: Path
) -> None:
    queue = f"cchc-test-{uuid.uuid4().hex[:8]}"
    env = environment(scratch, tmp_path, queue)
    scratch.migrate()
    subprocess.run(
        [
            PYTHON,
            "-c",
            "import django; django.setup(); "
            "from tests.scoring.results.test_worker import build_scenario; "
            "build_scenario()",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    before = scratch.query(RESULTS)
    assert len(before) == UNITS

    log = tmp_path / "worker.log"
    held = {**env, "SCORING_COMPUTE_PAUSE": json.dumps({"writing": 120})}
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                CELERY,
                "-A",
                "cchc_portal",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=held,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        manage(env, "compute_year", "2025", "--queue")
        # The first run was the scenario's own; this one is the newest.
        ((run_id,),) = scratch.query("SELECT max(id) FROM scoring_computationrun")
        wait_for(
            lambda: (
                scratch.query(
                    f"SELECT stage FROM scoring_computationrun WHERE id = {run_id}"
                )[0][0]
                == "writing"
            ),
            60,
            "the worker did not reach the writing stage",
            log,
        )
        # Inside the transaction: the old results are deleted, not yet replaced.
        wait_for(scratch.in_transaction, 30, "no open transaction of the worker", log)
        time.sleep(0.5)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        purge(env, queue)

    assert scratch.query(RESULTS) == before
    assert scratch.query(
        f"SELECT state FROM scoring_computationrun WHERE id = {run_id}"
    ) == [("running",)]

    # The next run: the dead one is marked interrupted, the new one completes.
    done = manage({**env, "SCORING_RUN_STALE_SECONDS": "0"}, "compute_year", "2025")
    assert f"{UNITS} units" in done.stdout
    assert scratch.query(
        f"SELECT state FROM scoring_computationrun WHERE id = {run_id}"
    ) == [("interrupted",)]
    after = scratch.query("SELECT unit_id, final FROM scoring_result ORDER BY unit_id")
    assert len(after) == UNITS
    # Every unit gained the 5 points of leaf 1.2 (it had n % 5 before).
    assert [str(final) for _unit, final in after] != [str(r[1]) for r in before]
    assert {float(final) for _unit, final in after} == {5.0, 6.0, 7.0, 8.0, 9.0}
