"""A real Celery worker killed in the middle of an upload's import (issue 15,
defect 9).

As tests/scoring/results/test_worker.py: a scratch database shared by separate
processes (PostgreSQL when the suite runs on it, otherwise a SQLite file) and
a worker (Redis as the broker when REDIS_URL is set, kombu's filesystem
transport otherwise). The worker's child holds the import once its first
batch is committed (tests/procedures/held_worker.py) and is killed with
SIGKILL there. The worker's main process reports the lost child and the run
is marked interrupted at once, never "running"; importing the file again
finishes it, and every month of its rows is right although the first run
never recomputed them."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from pathlib import Path

from tests.scoring.results.test_worker import (
    CELERY,
    PYTHON,
    ROOT,
    Scratch,
    environment,
    manage,
    purge,
    scratch,  # noqa: F401 (a fixture)
    wait_for,
)
from tests.wording import vi

ROWS = 30
BATCH = 10
HEADER = "case_code,procedure_code,unit_code,received_at,due_at,status,channel"


def build_scenario(folder: str) -> None:
    """Run in a child process: a unit, its staff, a procedure, and an upload
    of ROWS dossiers stored on a pending run (as the upload page leaves it)."""
    from datetime import date

    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile

    from commitments.organisation.models import Membership, Role, Unit, UnitKind
    from procedures.models import ImportRun, ImportSource, Procedure

    unit = Unit.objects.create(
        code="X", name="Xã X", kind=UnitKind.COMMUNE, valid_from=date(2019, 1, 1)
    )
    user = User.objects.create(username="canbo.x")
    Membership.objects.create(user=user, unit=unit, role=Role.UNIT_STAFF)
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")
    lines = [HEADER] + [
        f"HS-{n:03d},P1,X,{1 + n % 28:02d}/{1 + n % 3:02d}/2025 08:00,"
        f"28/{1 + n % 3:02d}/2025 17:00,dang_xu_ly,truc_tiep"
        for n in range(ROWS)
    ]
    run = ImportRun(source=ImportSource.UPLOAD, user=user, file_name="x.csv")
    run.file.save("x.csv", ContentFile("\n".join(lines).encode()), save=True)
    Path(folder, "run").write_text(str(run.pk))
    Path(folder, "file").write_text(run.file.path)


def child_pids(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_killed_import_worker_leaves_its_run_interrupted_and_a_rerun_fixes_it(
    scratch: Scratch,  # noqa: F811
    tmp_path: Path,
) -> None:
    queue = f"cchc-test-{uuid.uuid4().hex[:8]}"
    env = environment(scratch, tmp_path, queue)
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    scratch.migrate()
    subprocess.run(
        [
            PYTHON,
            "-c",
            "import django; django.setup(); "
            "from tests.procedures.test_import_worker import build_scenario; "
            f"build_scenario({str(tmp_path)!r})",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    run_id = int((tmp_path / "run").read_text())

    def status() -> str:
        return scratch.query(
            f"SELECT status FROM procedures_importrun WHERE id = {run_id}"
        )[0][0]

    log = tmp_path / "worker.log"
    held = {**env, "TEST_IMPORT_BATCH": str(BATCH), "TEST_IMPORT_HOLD": "120"}
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                CELERY,
                "-A",
                "tests.procedures.held_worker",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
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
        subprocess.run(
            [
                PYTHON,
                "-c",
                "import django; django.setup(); "
                "from procedures.tasks import import_cases_task; "
                f"import_cases_task.delay({run_id})",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        # The first batch committed, the child held after it.
        wait_for(
            lambda: (
                scratch.query("SELECT count(*) FROM procedures_caserecord")[0][0]
                == BATCH
            ),
            90,
            "the worker did not commit its first batch",
            log,
        )
        assert status() == "running"
        children = child_pids(worker.pid)
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)
        # The main process reports the lost child: the run ends, interrupted.
        wait_for(
            lambda: status() == "interrupted", 60, "the run was not interrupted", log
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        purge(env, queue)

    ((error, finished),) = scratch.query(
        f"SELECT error, finished_at FROM procedures_importrun WHERE id = {run_id}"
    )
    assert error
    assert finished is not None
    assert scratch.query("SELECT count(*) FROM procedures_caserecord") == [(BATCH,)]
    # The first run never recomputed its months.
    assert scratch.query("SELECT count(*) FROM procedures_unitmetric") == [(0,)]

    # The file imported again: the committed rows are unchanged, the rest new,
    # and every month of the rows read is right.
    # With no broker the command recomputes in process, as the worker would.
    eager = {
        k: v for k, v in env.items() if k not in ("CELERY_BROKER_FOLDER", "REDIS_URL")
    }
    done = manage(eager, "import_cases", (tmp_path / "file").read_text())
    summary = vi(
        "%(file)s: %(total)s rows read, %(new)s new, %(updated)s updated, "
        "%(unchanged)s unchanged, %(rejected)s rejected in %(seconds)s s "
        "(import #%(id)s)"
    )
    counts = {"total": ROWS, "new": ROWS - BATCH, "updated": 0, "unchanged": BATCH}
    expected = summary.split("%(rejected)s")[0].split("%(total)s", 1)[1] % counts
    assert expected in done.stdout, done.stdout
    received = scratch.query(
        "SELECT number, received FROM procedures_unitmetric "
        "WHERE period_kind = 'month' AND year = 2025 AND number <= 3 ORDER BY number"
    )
    assert received == [(1, 10), (2, 10), (3, 10)]
