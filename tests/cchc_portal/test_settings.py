"""Production settings: refuse to start without a secret, and pass check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "cchc.example.gov.vn",
    "DATABASE_URL": "sqlite:////tmp/cchc-deploy-check.sqlite3",
}


def manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_quick_start_needs_no_environment():
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def database_options(**env):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))",
        DEBUG="1",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_postgresql_connections_turn_jit_off():
    """A page's short query must not pay PostgreSQL's JIT compile (issue 20);
    DATABASE_JIT=1 gives the server's setting back, and options the URL
    carries are kept."""
    url = "postgres://cchc@db.example.gov.vn:5432/cchc"
    assert database_options(DATABASE_URL=url) == "-c jit=off"
    assert database_options(DATABASE_URL=url, DATABASE_JIT="1") == "None"
    with_options = f"{url}?options=-c%20statement_timeout%3D5000"
    assert (
        database_options(DATABASE_URL=with_options)
        == "-c statement_timeout=5000 -c jit=off"
    )
    # SQLite has no such setting.
    assert database_options() == "None"
