"""The production docker-compose.yml agrees with the settings it configures.

Read as YAML (merge keys resolved), without Docker and without a database.
"""

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
BACKING_SERVICES = ("postgres", "redis")


@pytest.fixture(scope="module")
def services() -> dict:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


def settings_variables() -> set[str]:
    """Names that settings.py reads: env.<cast>("NAME", ...) and env("NAME")."""
    tree = ast.parse((ROOT / "cchc_portal" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env_call = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if (
            is_env_call
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
        ):
            names.add(first.value)
    return names


def environment(service: dict) -> dict:
    """A service's environment as a mapping, whichever form the file uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def command_line(command) -> str:
    """A compose command or healthcheck test, list or string, as one string."""
    if command is None:
        return ""
    if isinstance(command, list):
        words = command[1:] if command[0] in {"CMD", "CMD-SHELL"} else command
        return " ".join(words)
    return " ".join(command.split())


def app_services(services: dict) -> dict:
    """Every service that runs the portal's code: built from the Dockerfile."""
    return {name: s for name, s in services.items() if "build" in s}


def test_settings_parser_finds_the_variables_settings_read():
    """The AST scan sees both env.<cast>() calls and reads behind conditions."""
    names = settings_variables()
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    assert "SECURE_SSL_REDIRECT" in names  # read only when DEBUG is off


def test_web_worker_and_beat_run_the_app_image(services):
    """web, worker and beat are all built from the project's Dockerfile."""
    assert set(APP_SERVICES) <= set(app_services(services))


def test_app_services_receive_the_same_environment(services):
    """web, worker, beat (and any one-shot app service) get identical variables."""
    envs = {name: environment(s) for name, s in app_services(services).items()}
    first = envs["web"]
    for name, env in envs.items():
        assert env == first, f"{name} has a different environment from web"


def test_every_variable_passed_is_read_by_settings(services):
    """No variable reaches the app that settings.py would silently ignore."""
    known = settings_variables()
    for name, service in app_services(services).items():
        unknown = set(environment(service)) - known
        assert not unknown, f"{name} gets variables settings.py never reads"


@pytest.mark.parametrize(
    "variable", ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"]
)
def test_essential_variables_are_passed(services, variable):
    """The database, the broker, the key, the mode and the hosts are all set."""
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env.get(variable), f"{name} lacks a value for {variable}"


def test_debug_is_off(services):
    """Production runs with DEBUG off in every app service."""
    for name, service in app_services(services).items():
        assert str(environment(service)["DEBUG"]).lower() in {"0", "false", "off"}, name


def test_secret_key_has_no_default(services):
    """SECRET_KEY must come from the operator: compose refuses to start without."""
    assert environment(services["web"])["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_database_and_broker_point_at_the_backing_services(services):
    """DATABASE_URL names the postgres service, REDIS_URL the redis service."""
    env = environment(services["web"])
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")


def test_exactly_one_beat(services):
    """One service runs celery beat, and it is not replicated."""
    beats = [
        name
        for name, s in services.items()
        if " beat" in command_line(s.get("command"))
    ]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert services["beat"].get("scale", 1) == 1


def test_worker_runs_celery_with_the_settings_time_limits(services):
    """The worker runs Celery and leaves the task time limits to settings.py."""
    command = command_line(services["worker"].get("command"))
    assert command.startswith("celery -A cchc_portal worker")
    assert "time-limit" not in command


@pytest.mark.parametrize("name", BACKING_SERVICES)
def test_backing_services_have_healthchecks(services, name):
    """postgres and redis each say when they are ready to serve."""
    test = services[name]["healthcheck"]["test"]
    expected = {"postgres": "pg_isready", "redis": "redis-cli ping"}[name]
    assert expected in command_line(test)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_backing_services(services, name):
    """web, worker and beat start only once postgres and redis are healthy."""
    depends_on = services[name]["depends_on"]
    for backing in BACKING_SERVICES:
        assert depends_on[backing]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_migrations(services, name):
    """web, worker and beat start only after the one-shot migrate has succeeded."""
    assert "migrate" in command_line(services["migrate"]["command"])
    condition = services[name]["depends_on"]["migrate"]["condition"]
    assert condition == "service_completed_successfully"


def test_web_healthcheck_requests_the_login_page(services):
    """web is healthy when /login/ answers, fetched with Python's urllib."""
    test = command_line(services["web"]["healthcheck"]["test"])
    assert "urllib" in test
    assert "/login/" in test
