"""Persona fixtures over a small province:

province (PROV)
├── department (PROV-DEP)
└── city (CITY)
    ├── commune A (CITY-A)
    └── commune B (CITY-B)
"""

import copy
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.test import override_settings
from django.utils.translation.reloader import translation_file_changed

from commitments.organisation.models import Role, Unit, UnitKind
from tests.demo_copies import DemoCopies
from tests.factories import MembershipFactory, UnitFactory, UserFactory
from tests.live_server import install as live_server_one_request_at_a_time
from tests.migrated import Migrated, migrated_template

PASSWORD = "correct-horse-42"

live_server_one_request_at_a_time()

# The longest tests that need no test database: real worker processes over a
# scratch database of their own. pytest-django puts every test without the
# database last, so pytest-xdist handed them out at the very end and the run
# waited for one of them while the other worker had nothing left to do.
START_FIRST = (
    "tests/scoring/results/test_worker.py::",
    "tests/procedures/test_import_worker.py::",
    "tests/cchc_portal/test_readme_commands.py::",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """START_FIRST before everything else (after pytest-django's order:
    they do not touch the test database, so the order of the database tests
    among themselves is kept)."""
    items.sort(key=lambda item: not item.nodeid.startswith(START_FIRST))


@dataclass
class Province:
    province: Unit
    department: Unit
    city: Unit
    commune_a: Unit
    commune_b: Unit


def build_province():
    """The small province above (the `org` fixture's, for a fixture that
    builds it once for a module: module_rows)."""
    province = UnitFactory(code="PROV", name="UBND tỉnh", kind=UnitKind.PROVINCE)
    department = UnitFactory(
        code="PROV-DEP", name="Sở Tư pháp", kind=UnitKind.DEPARTMENT, parent=province
    )
    city = UnitFactory(
        code="CITY", name="UBND TP", kind=UnitKind.DISTRICT, parent=province
    )
    commune_a = UnitFactory(code="CITY-A", name="Phường A", parent=city)
    commune_b = UnitFactory(code="CITY-B", name="Xã B", parent=city)
    return Province(province, department, city, commune_a, commune_b)


@pytest.fixture
def org(db):
    return build_province()


@contextmanager
def module_rows(django_db_blocker: Any) -> Iterator[None]:
    """For a module-scoped fixture that builds its rows once: inside, they
    are written in a transaction rolled back when the module ends; each
    test's own transaction (pytest-django's) is a savepoint within it, so
    what a test writes is gone before the next. Passwords are hashed fast,
    as the autouse fixture below does for a test."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
        ),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)


def member(username: str, unit: Unit, role: str):
    user = UserFactory(username=username)
    MembershipFactory(user=user, unit=unit, role=role)
    return user


@pytest.fixture
def commune_staff(org):
    return member("staff.a", org.commune_a, Role.UNIT_STAFF)


@pytest.fixture
def other_commune_staff(org):
    return member("staff.b", org.commune_b, Role.UNIT_STAFF)


@pytest.fixture
def commune_head(org):
    return member("head.a", org.commune_a, Role.UNIT_HEAD)


@pytest.fixture
def department_staff(org):
    return member("staff.dep", org.department, Role.UNIT_STAFF)


@pytest.fixture
def city_reviewer(org):
    """Phòng Nội vụ of the city: oversees the city and its communes."""
    return member("reviewer.city", org.city, Role.REVIEWER)


@pytest.fixture
def reviewer(org):
    """Sở Nội vụ: oversees the whole province."""
    return member("reviewer.prov", org.province, Role.REVIEWER)


@pytest.fixture
def leader(org):
    return member("leader.prov", org.province, Role.LEADER)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def no_unit_user(db):
    return UserFactory(username="nobody")


@pytest.fixture(autouse=True)
def _accounts_read_each_request(settings):
    # Who is asking is read from the database at every request, as the
    # query-count tests count it; tests/cchc_portal/test_accounts.py turns the
    # cache (cchc_portal.accounts) on.
    settings.ACCOUNT_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at full strength is most of the demo's run time; tests do not need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _media_outside_the_checkout(tmp_path_factory) -> Iterator[None]:
    """Uploads the tests store (evidence, scans, import files) go to a
    folder of the session's, not the checkout's media/."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """Compile each locale/*/LC_MESSAGES/django.po whose .mo is missing or stale.

    Users read Vietnamese, so tests assert the Vietnamese texts; a bare `pytest`
    on a fresh checkout (no `make messages` yet) must see them too."""
    changed = None
    for po in sorted((Path(settings.BASE_DIR) / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalogue = read_po(f)
        # Written beside the target and renamed: a parallel run never reads half.
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalogue)
            os.chmod(tmp, 0o644)
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        changed = mo
    if changed is not None:
        # Django caches catalogues per process; drop them as runserver does.
        translation_file_changed(None, changed)


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    """Run Celery tasks in process even where REDIS_URL is set (CI): the app
    read its configuration once, so the setting alone would not reach it. A
    test that needs a real worker says so by overriding this fixture."""
    from cchc_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    # In the request, so that the test reads the outcome after it.
    settings.TASKS_IN_BACKGROUND = False
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Each test its own cache keys: what one test cached (a dashboard
    section, a ranking page, a throttle count) never reaches another, nor a
    later run against the same Redis with ids counted from 1 again."""
    caches = copy.deepcopy(settings.CACHES)
    for alias in caches.values():
        alias["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
        alias["LOCATION"] = _worker_redis_db(alias.get("LOCATION"))
    settings.CACHES = caches


def _worker_redis_db(location: object) -> object:
    """Each pytest-xdist worker its own Redis database (the one given, then
    the ones below it): cache.clear() empties a whole database, and a test
    clearing its cache must not empty another worker's sessions between two
    of its requests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw") or 0)
    if not index or not isinstance(location, str):
        return location
    if not location.startswith(("redis://", "rediss://")):
        return location
    base, _, db = location.rpartition("/")
    if not db.isdigit() or base.endswith(":/"):
        return location
    return f"{base}/{(int(db) - index) % 16}"


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the session's pytest-xdist workers share (each worker's own
    temporary folder sits inside it)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base


@pytest.fixture(scope="session")
def migrated(shared_folder: Path) -> Migrated:
    """The session's database with every migration applied (tests/migrated.py)."""
    return migrated_template(shared_folder / "migrated")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
) -> None:
    """Django creates each test database from the models (a second), not by
    migrating (fifteen); django_db_setup then puts the migrated template in."""
    for alias in connections:
        connections[alias].settings_dict["TEST"]["MIGRATE"] = False


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None, django_db_blocker: Any, migrated: Migrated
) -> None:
    """pytest-django's test database, then the migrated template's content
    in it: exactly what `migrate` would have left."""
    with django_db_blocker.unblock():
        migrated.copy_into_test_database()


@pytest.fixture(scope="session")
def _demo_copies(shared_folder: Path) -> DemoCopies:
    """The session's demo copies, shared by its pytest-xdist workers."""
    return DemoCopies(shared=shared_folder / "demo-copies")


@pytest.fixture
def seed_demo(db, _demo_copies: DemoCopies) -> Iterator[Callable[[], str]]:
    """`seed_demo()` leaves the test's database as `manage.py seed_demo` with
    settings.DEMO_STEPS would, and returns what the command wrote; seeded once
    per session for each list of steps and copied in afterwards
    (tests/demo_copies.py). Call it before the test writes anything."""
    yield _demo_copies.seed
    # The copy's content-type ids go with the test's transaction.
    ContentType.objects.clear_cache()
