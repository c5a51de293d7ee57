"""The serving benchmark (issue 7): the published ranking of a 3,321-unit
group over the API, and the dashboard page, served by gunicorn on the loopback
with PostgreSQL and Redis, each beside a twin measured in the same run.

    make bench-serve
    .venv/bin/python bench/serve.py --only api             # the API alone
    .venv/bin/python bench/serve.py --reuse --only api     # the load part again

It drops and recreates its own database (``cchc_bench_serve``, or
BENCH_SERVE_DATABASE_URL), empties its own Redis database (5 on 127.0.0.1, or
BENCH_SERVE_REDIS_URL) and writes under bench/out/serve/. The data are
bench/compute.py's, from its fixed seed, with every commune in one group.
It needs wrk on the PATH (make bench-serve installs Debian's). See
bench/README.md for what each figure means."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from compute import (
    NOW,
    SEED,
    SINCE,
    YEAR,
    assess,
    build_framework,
    build_units,
    recreate_database,
    setup_django,
)
from run import Report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "serve"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cchc_bench_serve"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
# Not a secret: the server answers on the loopback for the length of the run.
# The builder and the server must share it, since it signs the session.
SECRET_KEY = "bench-serve-on-the-loopback-only-not-a-secret"
GROUP = "XA"
PAGE_SIZE = 50
CONNECTIONS = 20
WRK_THREADS = 1
THROUGHPUT_TARGET = 0.5
# The twin (the portal's middleware and authentication around bytes from
# memory) against a Django view with no middleware answering the same bytes.
STACK_TARGET = 0.5
# wrk's scheduling priority: the lowest, below the server's.
LOAD_NICENESS = 19
P99_TARGET_MS = 50.0
# A page smaller than this is an error page or a stub, not the dashboard.
SMALLEST_PAGE = 2_000
TARGETS = ("api", "dashboard")


class Unfit(Exception):
    """The server or one of its answers is not what can be measured."""


@dataclass(frozen=True)
class Target:
    """A real URL, the headers a caller sends it, and the twin's URL (the
    same query, answered by serve_urls from the captured bytes)."""

    name: str
    label: str
    path: str
    headers: dict[str, str]

    @property
    def twin(self) -> str:
        _, _, query = self.path.partition("?")
        return f"/bench/twin/{self.name}/?{query}"

    @property
    def bare(self) -> str:
        """The same bytes from a Django view with no middleware
        (serve_wsgi)."""
        return f"/bench/bare/{self.name}/"


class Answer(NamedTuple):
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Load:
    """What wrk measured over one run."""

    per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # answers other than 2xx and 3xx
    socket_errors: int
    # The CPU wrk itself used, in cores (1.0: one core the whole run).
    load_cores: float = 0.0


# --- the data ------------------------------------------------------------------


def database_url() -> str:
    return os.environ.get("BENCH_SERVE_DATABASE_URL", DEFAULT_URL)


def redis_url() -> str:
    return os.environ.get("BENCH_SERVE_REDIS_URL", DEFAULT_REDIS_URL)


def already_built(units: int) -> bool:
    """Does the database hold a previous run's published year, as many
    communes as asked?"""
    from django.db import DatabaseError, connection

    from commitments.organisation.models import Unit, UnitKind
    from scoring.models import Publication

    try:
        return (
            Publication.objects.filter(year=YEAR).exists()
            and Unit.objects.filter(kind=UnitKind.COMMUNE).count() == units
        )
    except DatabaseError:  # no such database, or not migrated
        connection.close()
        return False


def build(units: int) -> None:
    """bench/compute.py's province with every commune in one ranking group:
    two years assessed, computed and published, the later one the year
    measured (its rows carry the change of rank since the earlier one)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from commitments.organisation.models import RankingGroup, Unit, UnitKind
    from scoring.results import computation, publication

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    Unit.objects.create(
        code="P", name="Cả nước", kind=UnitKind.PROVINCE, valid_from=SINCE
    )
    group = RankingGroup.objects.create(code=GROUP, name="Xã")
    frameworks = [build_framework(YEAR - 1), build_framework(YEAR)]
    communes = build_units(0, units, [group])
    for framework in frameworks:
        assess(framework, communes, rng)
    admin = get_user_model().objects.create_superuser("bench", password=None)
    for framework in frameworks:
        run = computation.compute_now(framework.year)
        if run.state != "succeeded":
            raise Unfit(f"the computation of {framework.year} failed: {run.error}")
        publication.publish(user=admin, year=framework.year, run_id=run.pk, now=NOW)
    # The bulk inserts leave work to autovacuum and the checkpointer, which
    # would otherwise take CPU from the first measured rounds.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def credentials() -> tuple[str, str]:
    """A Home Affairs reviewer of the province, the dashboard's reader: a
    token for the API and a signed-in session (in the database, as in
    production) for the page."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from commitments.organisation.models import Membership, Role, Unit

    user, _ = get_user_model().objects.get_or_create(username="bench.reviewer")
    Membership.objects.get_or_create(
        user=user, unit=Unit.objects.get(code="P"), role=Role.REVIEWER
    )
    token, _ = Token.objects.get_or_create(user=user)
    client = Client()
    # As a sign-in on the page leaves it: the backend that authenticated
    # (cchc_portal.accounts, the session's user read through the cache).
    client.force_login(user, backend="cchc_portal.accounts.CachedModelBackend")
    return token.key, client.cookies[settings.SESSION_COOKIE_NAME].value


def machine(redis: str) -> str:
    import django
    import gunicorn
    import redis as redis_client
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"gunicorn {gunicorn.__version__}, PostgreSQL {postgres.split()[0]}, "
        f"Redis {redis_client.Redis.from_url(redis).info()['redis_version']}, "
        f"{' '.join(wrk.split()[:2])}; load average {os.getloadavg()[0]:.2f}"
    )


# --- the server ----------------------------------------------------------------


def server_environment(url: str, redis: str) -> dict[str, str]:
    """Production's settings: DEBUG off (so the secret key and the hosts
    come from here), PostgreSQL with persistent connections, Redis as the
    cache; plain HTTP on the loopback, so no redirect to HTTPS."""
    environment = dict(os.environ)
    environment.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=url,
        REDIS_URL=redis,
        DJANGO_SETTINGS_MODULE="serve_settings",
        PYTHONPATH=os.pathsep.join(
            p for p in (str(ROOT / "bench"), os.environ.get("PYTHONPATH")) if p
        ),
        BENCH_SERVE_BODIES=str(OUT),
        LOG_LEVEL="WARNING",
    )
    return environment


def collect_static(environment: dict[str, str]) -> None:
    """The base template names its stylesheet through the static manifest,
    which DEBUG off requires."""
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise Unfit(f"collectstatic failed, so DEBUG off cannot serve pages:\n{tail}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    environment: dict[str, str], port: int, workers: int, threads: int
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--chdir",
        str(ROOT),
        # Its log and Django's (errors and their tracebacks) in one file.
        "--error-logfile",
        "-",
        # gunicorn's control socket would sit in the home folder, shared
        # with any other gunicorn of the user's.
        "--no-control-socket",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    # The portal's application, and Django without middleware for the bare
    # views (bench/serve_wsgi.py).
    command.append("serve_wsgi:application")
    # Its own process group, so that the master and its workers stop together.
    with (OUT / "gunicorn.log").open("wb") as log:
        return subprocess.Popen(
            command,
            env=environment,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def log_tail() -> str:
    log = OUT / "gunicorn.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(lines[-20:])


def fetch(port: int, path: str, headers: dict[str, str]) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return Answer(
            response.status, response.getheader("Content-Type", ""), response.read()
        )
    finally:
        connection.close()


def wait_for(server: subprocess.Popen[bytes], port: int) -> str:
    """Wait until the sign-in page answers; its CSRF cookie, which a
    browser would send with every later request."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Unfit(f"gunicorn stopped (code {server.returncode}):\n{log_tail()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/login/")
            response = connection.getresponse()
            response.read()
            cookies = response.msg.get_all("Set-Cookie") or []
            connection.close()
        except OSError:
            time.sleep(0.2)
            continue
        if response.status != 200:
            raise Unfit(f"/login/ answered {response.status}:\n{log_tail()}")
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            if name.strip() == "csrftoken":
                return rest.split(";")[0]
        raise Unfit("/login/ set no CSRF cookie")
    raise Unfit(f"gunicorn did not answer within 60 s:\n{log_tail()}")


# --- the answers, and their twins ----------------------------------------------


def check(target: Target, answer: Answer, units: int) -> str:
    """What is wrong with the real answer, if anything: it must be the page
    itself, whole, not an error, a redirect to the sign-in or a stub."""
    hint = ""
    if target.name == "dashboard":
        hint = " (if the page is not written yet, run with --only api)"
    if answer.status != 200:
        return (
            f"{target.path} answered {answer.status}{hint}; the server's log is "
            f"{(OUT / 'gunicorn.log').relative_to(ROOT)}"
        )
    if target.name == "api":
        page = json.loads(answer.body)
        groups = {row["ranking_group"] for row in page["results"]}
        if page["count"] != units or len(page["results"]) != min(units, PAGE_SIZE):
            return (
                f"{target.path}: {page['count']} units, {len(page['results'])} "
                f"rows on the page; expected {units} and {min(units, PAGE_SIZE)}"
            )
        if groups != {GROUP}:
            return f"{target.path}: rows of the groups {sorted(groups)}"
        return ""
    if not answer.content_type.startswith("text/html"):
        return f"{target.path} answered {answer.content_type}{hint}"
    if len(answer.body) < SMALLEST_PAGE:
        return f"{target.path} answered only {len(answer.body)} bytes{hint}"
    return ""


def capture(port: int, target: Target, units: int) -> int:
    """Fetch the real answer, check it, keep it for the twin and check the
    twin answers the same bytes; the size of the body."""
    answer = fetch(port, target.path, target.headers)
    problem = check(target, answer, units)
    if problem:
        raise Unfit(problem)
    (OUT / f"{target.name}.body").write_bytes(answer.body)
    (OUT / f"{target.name}.type").write_text(answer.content_type)
    twin = fetch(port, target.twin, target.headers)
    if twin.status != 200 or twin.body != answer.body:
        raise Unfit(f"the twin of {target.path} answered {twin.status}, other bytes")
    bare = fetch(port, target.bare, target.headers)
    if bare.status != 200 or bare.body != answer.body:
        raise Unfit(f"the bare view answered {bare.status}, other bytes")
    return len(answer.body)


# --- the load ------------------------------------------------------------------

LATENCY_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def found(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise Unfit(f"no {pattern!r} in wrk's output:\n{text}")
    return match


def parse_wrk(text: str) -> Load:
    percentiles = {
        int(p): float(value) * LATENCY_UNITS[unit]
        for p, value, unit in re.findall(
            r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE
        )
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return Load(
        per_second=float(found(r"Requests/sec:\s+([\d.]+)", text)[1]),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        requests=int(found(r"(\d+) requests in", text)[1]),
        bad=int(bad[1]) if bad else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def wrk(port: int, path: str, headers: dict[str, str], seconds: int) -> Load:
    """One run of wrk, at the lowest scheduling priority (nice 19): when
    both want a core, the server's workers have it first, so the load
    generator takes from the server only what the server leaves idle."""
    command = [
        "nice",
        "-n",
        str(LOAD_NICENESS),
        "wrk",
        "--threads",
        str(WRK_THREADS),
        "--connections",
        str(CONNECTIONS),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return replace(parse_wrk(done.stdout), load_cores=used / elapsed)


class Loads(NamedTuple):
    bare: list[Load]
    twin: list[Load]
    real: list[Load]


def measure(
    port: int, target: Target, *, seconds: int, warmup: int, rounds: int
) -> Loads:
    """The bare view, the twin and the real URL in turns, after a warm-up of
    each (every worker has imported its code, opened its database
    connection and read the captured bytes)."""
    for path in (target.bare, target.twin, target.path):
        wrk(port, path, target.headers, warmup)
    loads = Loads([], [], [])
    for number in range(1, rounds + 1):
        for kind, path, found_loads in (
            ("bare Django view", target.bare, loads.bare),
            ("twin (the stack)", target.twin, loads.twin),
            (target.label, target.path, loads.real),
        ):
            load = wrk(port, path, target.headers, seconds)
            found_loads.append(load)
            print(
                f"     {target.name} round {number}: {kind[:20]:<20} "
                f"{load.per_second:8,.0f} req/s  p50 {load.p50_ms:5.1f} ms  "
                f"p99 {load.p99_ms:5.1f} ms  ({load.requests:,} requests, "
                f"{load.bad} not 2xx/3xx, {load.socket_errors} socket errors; "
                f"wrk {load.load_cores:.2f} core)",
                flush=True,
            )
    return loads


def judge(report: Report, target: Target, size: int, loads: Loads) -> None:
    real = statistics.mean(load.per_second for load in loads.real)
    twin = statistics.mean(load.per_second for load in loads.twin)
    bare = statistics.mean(load.per_second for load in loads.bare)
    ratio = real / twin
    report.add(
        f"{target.label}: throughput vs its twin",
        f"{ratio:.2f} ({real:,.0f} / {twin:,.0f} req/s)",
        f">= {THROUGHPUT_TARGET}",
        ratio >= THROUGHPUT_TARGET,
    )
    stack = twin / bare
    report.add(
        "  the twin vs a bare Django view",
        f"{stack:.2f} ({twin:,.0f} / {bare:,.0f} req/s)",
        f">= {STACK_TARGET}",
        stack >= STACK_TARGET,
    )
    worst = max(load.p99_ms for load in loads.real)
    p50 = statistics.median(load.p50_ms for load in loads.real)
    report.add(
        f"  p99 at {CONNECTIONS} connections, every round",
        f"{worst:.1f} ms (p50 {p50:.1f} ms)",
        f"< {P99_TARGET_MS:.0f} ms; twin's {max(t.p99_ms for t in loads.twin):.1f} ms",
        worst < P99_TARGET_MS,
    )
    everything = loads.real + loads.twin + loads.bare
    bad = sum(load.bad for load in everything)
    report.add(
        "  answers other than 2xx/3xx",
        f"{bad} of {sum(load.requests for load in everything):,}",
        f"none; {size:,} bytes a body",
        bad == 0,
    )
    cores = max(load.load_cores for load in loads.real)
    report.add(
        "  wrk's own CPU (nice 19)",
        f"{cores:.2f} core",
        "reported",
        True,
    )


# --- the run -------------------------------------------------------------------


def serve_and_measure(
    args: argparse.Namespace, url: str, redis: str, *, token: str, session: str
) -> Report:
    """Start gunicorn, check and capture each target's answer, load it and
    its twin in turns; gunicorn is stopped whatever happens."""
    import redis as redis_client

    environment = server_environment(url, redis)
    collect_static(environment)
    report = Report()
    port = free_port()
    server = start_server(environment, port, args.workers, args.threads)
    try:
        csrf = wait_for(server, port)
        print(
            f"gunicorn on 127.0.0.1:{port}: {args.workers} workers x {args.threads} "
            f"thread(s), DEBUG off, cache {redis}; wrk {WRK_THREADS} thread(s), "
            f"{CONNECTIONS} connections, {args.rounds} x {args.seconds} s a URL",
            flush=True,
        )
        targets = [
            Target(
                "api",
                f"ranking API, {args.units:,} units",
                f"/api/v1/results/{YEAR}/?group={GROUP}",
                {"Authorization": f"Token {token}"},
            ),
            Target(
                "dashboard",
                "dashboard page",
                f"/dashboard/?year={YEAR}&group={GROUP}",
                {"Cookie": f"sessionid={session}; csrftoken={csrf}"},
            ),
        ]
        chosen = [t for t in targets if args.only in (None, t.name)]
        sizes = {target.name: capture(port, target, args.units) for target in chosen}
        cached = redis_client.Redis.from_url(redis).keys("*ranking:*")
        if "api" in sizes and not cached:
            raise Unfit("the published ranking is not in the Redis cache")
        for target in chosen:
            print(f"{target.label}: GET {target.path}", flush=True)
            loads = measure(
                port,
                target,
                seconds=args.seconds,
                warmup=args.warmup,
                rounds=args.rounds,
            )
            judge(report, target, sizes[target.name], loads)
        # Other work on the machine takes CPU from the server and from wrk.
        print(f"load average after the load {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        stop_server(server)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=3321, help="communes")
    parser.add_argument("--only", choices=TARGETS, help="measure only this target")
    parser.add_argument("--seconds", type=int, default=12, help="each measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds, each URL")
    parser.add_argument(
        "--rounds", type=int, default=2, help="turns of bare, twin, real"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads a worker")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database if it holds a previous run's published year",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not on the PATH: make bench-serve installs it", file=sys.stderr)
        return 2
    url, redis = database_url(), redis_url()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["SECRET_KEY"] = SECRET_KEY
    setup_django(url)
    import redis as redis_client
    from django.db import connections

    if args.reuse and already_built(args.units):
        print(f"database {url}: reused", flush=True)
    else:
        print(f"database {url}: recreating", flush=True)
        connections.close_all()
        recreate_database(url)
        started = time.perf_counter()
        build(args.units)
        print(
            f"  {args.units:,} communes in group {GROUP}, {YEAR - 1} and {YEAR} "
            f"computed and published in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    print(f"machine: {machine(redis)}", flush=True)
    token, session = credentials()
    connections.close_all()
    redis_client.Redis.from_url(redis).flushdb()
    try:
        report = serve_and_measure(args, url, redis, token=token, session=session)
    except Unfit as problem:
        print(f"cannot measure: {problem}", file=sys.stderr)
        return 2
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
