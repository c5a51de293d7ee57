"""Who may change which dossier, through every door of the import (issue 15,
defect 1): the command run as a named user, the upload page, the REST push
and the admin's spreadsheet import.

Property-style: for each actor, a seeded random batch of rows, each about a
dossier stored under a random unit (or not yet stored) and naming a random
unit. The expected outcome of each row comes from an oracle written here from
the rule itself (who reaches which unit by path), not from the code under
test: a row is applied iff the actor may write for the unit the dossier is
stored under and for the unit the row names and, when the two differ, the
actor is a reviewer over both (or a superuser); otherwise the row is a row
error on the unit and the dossier is left exactly as it was. Nothing else in
the batch is lost: every allowed row is applied in the same batch."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import tablib
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from commitments.organisation.models import Role, Unit
from procedures.models import (
    CaseMove,
    CaseRecord,
    Channel,
    DossierStatus,
    ImportRun,
    ImportStatus,
    Procedure,
)
from procedures.resources import CaseRecordResource
from tests.factories import MembershipFactory, UserFactory
from tests.wording import vi

HEADER = [
    "case_code",
    "procedure_code",
    "unit_code",
    "received_at",
    "due_at",
    "finished_at",
    "status",
    "channel",
    "officer",
]
UNITS = ["PROV", "PROV-DEP", "CITY", "CITY-A", "CITY-B"]
# (username, unit, role); a superuser besides.
ACTORS = [
    ("staff.a", "CITY-A", Role.UNIT_STAFF),
    ("head.b", "CITY-B", Role.UNIT_HEAD),
    ("staff.dep", "PROV-DEP", Role.UNIT_STAFF),
    ("reviewer.city", "CITY", Role.REVIEWER),
    ("reviewer.prov", "PROV", Role.REVIEWER),
    ("leader.prov", "PROV", Role.LEADER),
    ("root", None, None),
]
SEEDS = range(4)
ROWS = 14


@dataclass(frozen=True)
class Row:
    code: str
    stored: str | None  # the unit it is stored under, None: not stored yet
    target: str


def oracle(actor: tuple[str, str | None, str | None], row: Row) -> bool:
    """Applied or not, from units' paths as the organisation defines them."""
    _name, home, role = actor
    if home is None:
        return True  # the superuser
    path = {
        "PROV": "PROV/",
        "PROV-DEP": "PROV/PROV-DEP/",
        "CITY": "PROV/CITY/",
        "CITY-A": "PROV/CITY/CITY-A/",
        "CITY-B": "PROV/CITY/CITY-B/",
    }

    def writes(unit: str) -> bool:
        if role in (Role.UNIT_STAFF, Role.UNIT_HEAD):
            return unit == home
        if role == Role.REVIEWER:
            return path[unit].startswith(path[home])
        return False

    def reviews(unit: str) -> bool:
        return role == Role.REVIEWER and path[unit].startswith(path[home])

    if not writes(row.target):
        return False
    if row.stored is None or row.stored == row.target:
        return True
    return writes(row.stored) and reviews(row.stored) and reviews(row.target)


def scenario(seed: int) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    for n in range(ROWS):
        stored = rng.choice([None, *UNITS])
        # Half the time the row keeps its unit, so that updates in place are
        # tested as often as moves.
        target = stored if stored and rng.random() < 0.4 else rng.choice(UNITS)
        rows.append(Row(f"HS-{seed}-{n:02d}", stored, target))
    return rows


@pytest.fixture
def actors(org):
    users = {}
    for name, unit, role in ACTORS:
        if unit is None:
            users[name] = UserFactory(username=name, is_superuser=True, is_staff=True)
            continue
        user = UserFactory(username=name, is_staff=True)
        MembershipFactory(user=user, unit=Unit.objects.get(code=unit), role=role)
        # The admin's door asks for the model permissions first; the rule on
        # units is what is under test.
        user.user_permissions.add(
            *Permission.objects.filter(
                codename__in=["add_caserecord", "change_caserecord"]
            )
        )
        users[name] = user
    return users


@pytest.fixture
def stored(org):
    """Store the scenario's dossiers as they were before the import."""
    procedure = Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")

    def store(rows: list[Row]) -> None:
        units = {unit.code: unit for unit in Unit.objects.all()}
        CaseRecord.objects.bulk_create(
            CaseRecord(
                case_code=row.code,
                procedure=procedure,
                unit=units[row.stored],
                received_at=datetime(2025, 3, 2, 1, tzinfo=UTC),
                due_at=datetime(2025, 3, 10, 10, tzinfo=UTC),
                status=DossierStatus.PROCESSING,
                channel=Channel.IN_PERSON,
                officer="before",
            )
            for row in rows
            if row.stored is not None
        )

    return store


def cells(row: Row) -> list[str]:
    return [
        row.code,
        "P1",
        row.target,
        "02/03/2025 08:00",
        "10/03/2025 17:00",
        "09/03/2025 10:00",
        "da_tra_ket_qua",
        "truc_tuyen_toan_trinh",
        "after",
    ]


def csv_text(rows: list[Row]) -> str:
    return "\n".join(",".join(line) for line in [HEADER, *map(cells, rows)]) + "\n"


def check(actor, rows: list[Row], refused_rows: set[int]) -> None:
    """Every row as the oracle says: applied, or refused and left as stored;
    ``refused_rows`` are the 0-based rows the door reported as unit errors."""
    records = {r.case_code: r for r in CaseRecord.objects.select_related("unit").all()}
    moved = 0
    for index, row in enumerate(rows):
        record = records.get(row.code)
        if oracle(actor, row):
            assert index not in refused_rows, (actor[0], row)
            assert record is not None, row
            assert record.unit.code == row.target, row
            assert record.officer == "after", row
            moved += row.stored is not None and row.stored != row.target
        else:
            assert index in refused_rows, (actor[0], row)
            if row.stored is None:
                assert record is None, row
            else:
                assert record is not None, row
                assert (record.unit.code, record.officer) == (row.stored, "before")
    assert CaseMove.objects.count() == moved
    for move in CaseMove.objects.select_related("from_unit", "to_unit"):
        row = next(r for r in rows if r.code == move.case_code)
        assert (move.from_unit.code, move.to_unit.code) == (row.stored, row.target)


def engine_refusals(run: ImportRun, *, first_row: int) -> set[int]:
    """Rows (0-based) the engine refused on the unit; ``first_row`` is the
    number the door gives the first data row."""
    assert all(e["column"] == "unit_code" for e in run.errors), run.errors
    return {e["row"] - first_row for e in run.errors}


CASES = [(seed, actor) for seed in SEEDS for actor in ACTORS]
IDS = [f"seed{seed}-{actor[0]}" for seed, actor in CASES]


@pytest.mark.parametrize(("seed", "actor"), CASES, ids=IDS)
def test_command_as_a_user_applies_a_row_iff_the_rule_allows(
    actors, stored, tmp_path, seed, actor
):
    rows = scenario(seed)
    stored(rows)
    path = tmp_path / "cases.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    if actor[2] == Role.LEADER:
        # A leader writes for no unit: refused before any run is recorded.
        refused = vi("%(name)s may not import case records for any unit.") % {
            "name": actor[0]
        }
        with pytest.raises(CommandError, match=re.escape(refused)):
            call_command("import_cases", str(path), as_user=actor[0])
        check(actor, rows, set(range(len(rows))))
        return
    status = 0
    try:
        call_command("import_cases", str(path), as_user=actor[0])
    except SystemExit as exit:
        status = exit.code
    run = ImportRun.objects.get()
    # Rows refused are the command's status 2, every row loaded 0.
    assert status == (2 if run.rows_rejected else 0)
    assert run.user == actors[actor[0]]
    check(actor, rows, engine_refusals(run, first_row=1))


@pytest.mark.parametrize(("seed", "actor"), CASES, ids=IDS)
def test_upload_page_applies_a_row_iff_the_rule_allows(
    client, actors, stored, django_capture_on_commit_callbacks, seed, actor
):
    rows = scenario(seed)
    stored(rows)
    client.force_login(actors[actor[0]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/imports/new/",
            {
                "file": SimpleUploadedFile(
                    "cases.csv", csv_text(rows).encode(), content_type="text/csv"
                )
            },
        )
    if actor[2] == Role.LEADER:
        assert response.status_code == 404  # not an uploader at all
        check(actor, rows, set(range(len(rows))))
        return
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED
    check(actor, rows, engine_refusals(run, first_row=1))


@pytest.mark.parametrize(("seed", "actor"), CASES, ids=IDS)
def test_rest_push_applies_a_row_iff_the_rule_allows(
    actors, stored, django_capture_on_commit_callbacks, seed, actor
):
    rows = scenario(seed)
    stored(rows)
    api = APIClient()
    api.force_authenticate(actors[actor[0]])
    records = [dict(zip(HEADER, cells(row), strict=True)) for row in rows]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/cases/batch/",
            json.dumps({"records": records}),
            content_type="application/json",
        )
    if actor[2] == Role.LEADER:
        assert response.status_code == 403
        check(actor, rows, set(range(len(rows))))
        return
    assert response.status_code == 200, response.content
    run = ImportRun.objects.get()
    check(actor, rows, engine_refusals(run, first_row=1))


@pytest.mark.parametrize(("seed", "actor"), CASES, ids=IDS)
def test_admin_import_applies_a_row_iff_the_rule_allows(
    actors, stored, django_capture_on_commit_callbacks, seed, actor
):
    rows = scenario(seed)
    stored(rows)
    dataset = tablib.Dataset(*map(cells, rows), headers=HEADER)
    user = actors[actor[0]]
    # As the admin does (ImportMixin): a preview, then the import confirmed,
    # each passed the user; a preview with invalid rows offers no confirmation.
    preview = CaseRecordResource().import_data(
        dataset, dry_run=True, user=user, use_transactions=True
    )
    refused = set()
    for invalid in preview.invalid_rows:
        assert set(invalid.error_dict) == {"unit"}, invalid.error_dict
        refused.add(invalid.number - 1)
    assert refused == {i for i, r in enumerate(rows) if not oracle(actor, r)}
    if refused:
        # Nothing of the file is written: every dossier as it was.
        assert not CaseRecord.objects.filter(officer="after").exists()
        assert not CaseMove.objects.exists()
        return
    with django_capture_on_commit_callbacks(execute=True):
        result = CaseRecordResource().import_data(
            dataset, dry_run=False, user=user, use_transactions=True
        )
    assert not result.has_errors()
    assert not result.invalid_rows
    check(actor, rows, set())


# --- the cases of the issue, by name -------------------------------------------------


def push(user, records):
    api = APIClient()
    api.force_authenticate(user)
    return api.post(
        "/api/v1/cases/batch/",
        json.dumps({"records": records}),
        content_type="application/json",
    )


def record(code, unit, **extra):
    row = Row(code, None, unit)
    return {**dict(zip(HEADER, cells(row), strict=True)), **extra}


def test_staff_cannot_take_over_another_communes_dossier(actors, stored):
    """canbo.phalai pushing a Hưng Đạo case code with Phả Lại's unit code."""
    stored([Row("HD-1", "CITY-B", "CITY-B")])
    response = push(
        actors["staff.a"],
        [record("HD-1", "CITY-A", status="tu_choi"), record("PL-1", "CITY-A")],
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["rows_new"], body["rows_updated"], body["rows_rejected"]) == (1, 0, 1)
    (error,) = body["errors"]
    assert (error["row"], error["column"]) == (1, "unit_code")
    assert "HD-1" in error["message"]
    # Another unit's dossier is not named by its unit to an outsider.
    assert "CITY-B" not in error["message"]
    dossier = CaseRecord.objects.select_related("unit").get(case_code="HD-1")
    assert (dossier.unit.code, dossier.status) == ("CITY-B", DossierStatus.PROCESSING)


def test_a_city_reviewer_cannot_move_a_departments_dossier(actors, stored):
    stored([Row("DEP-1", "PROV-DEP", "PROV-DEP")])
    response = push(actors["reviewer.city"], [record("DEP-1", "CITY-A")])
    assert response.json()["rows_rejected"] == 1
    assert CaseRecord.objects.get(case_code="DEP-1").unit.code == "PROV-DEP"


def test_a_province_reviewer_moves_a_dossier_and_the_move_is_recorded(actors, stored):
    stored([Row("DEP-1", "PROV-DEP", "PROV-DEP")])
    response = push(actors["reviewer.prov"], [record("DEP-1", "CITY-A")])
    body = response.json()
    assert (body["rows_updated"], body["rows_rejected"], body["rows_moved"]) == (
        1,
        0,
        1,
    )
    run = ImportRun.objects.get()
    assert run.rows_moved == 1
    move = CaseMove.objects.select_related("from_unit", "to_unit").get()
    assert (move.case_code, move.from_unit.code, move.to_unit.code) == (
        "DEP-1",
        "PROV-DEP",
        "CITY-A",
    )
    assert (move.run, move.moved_by) == (run, actors["reviewer.prov"])


def test_staff_of_both_units_still_may_not_move_a_dossier(org, stored):
    """Writing for both units is not enough: moving is a reviewer's act."""
    user = UserFactory(username="staff.ab")
    MembershipFactory(user=user, unit=org.commune_a, role=Role.UNIT_STAFF)
    MembershipFactory(user=user, unit=org.commune_b, role=Role.UNIT_STAFF)
    stored([Row("B-1", "CITY-B", "CITY-B")])
    body = push(user, [record("B-1", "CITY-A")]).json()
    assert body["rows_rejected"] == 1
    message = body["errors"][0]["message"]
    # The user may see the dossier's unit: the message names it.
    assert message == vi(
        "This row would move dossier “%(code)s” from unit “%(unit)s” to another "
        "unit; only a reviewer over both units may move a dossier."
    ) % {"code": "B-1", "unit": "CITY-B"}
    assert CaseRecord.objects.get(case_code="B-1").unit == org.commune_b


def test_an_atomic_push_with_a_refused_row_writes_nothing(actors, stored):
    stored([Row("HD-1", "CITY-B", "CITY-B")])
    api = APIClient()
    api.force_authenticate(actors["staff.a"])
    response = api.post(
        "/api/v1/cases/batch/",
        json.dumps(
            {
                "records": [record("HD-1", "CITY-A"), record("PL-1", "CITY-A")],
                "atomic": True,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not CaseRecord.objects.filter(case_code="PL-1").exists()
    assert CaseRecord.objects.get(case_code="HD-1").unit.code == "CITY-B"


def test_the_command_without_a_user_is_the_administrators_act(stored, tmp_path, org):
    stored([Row("B-1", "CITY-B", "CITY-B")])
    path = tmp_path / "cases.csv"
    path.write_text(csv_text([Row("B-1", "CITY-B", "CITY-A")]), encoding="utf-8")
    call_command("import_cases", str(path))
    assert CaseRecord.objects.get(case_code="B-1").unit.code == "CITY-A"
    move = CaseMove.objects.get()
    assert move.moved_by is None
    assert move.run.user is None


def test_the_command_refuses_an_unknown_user(tmp_path, org):
    path = tmp_path / "cases.csv"
    path.write_text(csv_text([]), encoding="utf-8")
    unknown = vi("No active user “%(name)s”.") % {"name": "nobody-here"}
    with pytest.raises(CommandError, match=re.escape(unknown)):
        call_command("import_cases", str(path), as_user="nobody-here")
