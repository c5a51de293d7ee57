"""The scoping audit of the REST API, in one place: for every path of the
schema, either what a user of commune A may and may not reach (A's object
is listed and answers 200; commune B's is not listed and answers 404, as if
it did not exist), or why the path is not per unit.

The two tables below must cover the schema's paths between them: a new
endpoint fails test_every_path_is_audited until it gets its row."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from commitments.organisation.models import Head, Role, Unit
from procedures.models import CaseRecord, Reminder
from scoring.models import Adjustment
from tests.cchc_portal.api_data import (
    RESULTS_YEAR,
    ApiData,
    UnitData,
    seed,
    unit_head,
)
from tests.conftest import build_province, member, module_rows

Clients = dict[str, APIClient]


@dataclass(frozen=True)
class Listed:
    """The list, as the persona, holds A's object and not B's; ``key`` is the
    row's field that names the object."""

    key: str
    a: Callable[[ApiData], Any]
    b: Callable[[ApiData], Any]
    query: dict[str, Any] = field(default_factory=dict)
    persona: str = "unit"
    params: dict[str, Any] = field(default_factory=dict)

    def __call__(self, path: str, clients: Clients, data: ApiData) -> None:
        response = clients[self.persona].get(path.format(**self.params), self.query)
        assert response.status_code == 200, (path, response.content)
        listed = [row[self.key] for row in response.json()["results"]]
        assert self.a(data) in listed, (path, listed)
        assert self.b(data) not in listed, (path, listed)


@dataclass(frozen=True)
class Shown:
    """A's object answers 200, B's 404 (the error format's not_found); ``a``
    and ``b`` give the path's parameters."""

    a: Callable[[ApiData], dict[str, Any]]
    b: Callable[[ApiData], dict[str, Any]]
    query: dict[str, Any] = field(default_factory=dict)
    persona: str = "unit"

    def __call__(self, path: str, clients: Clients, data: ApiData) -> None:
        client = clients[self.persona]
        own = client.get(path.format(**self.a(data)), self.query)
        other = client.get(path.format(**self.b(data)), self.query)
        assert own.status_code == 200, (path, own.content)
        assert other.status_code == 404, (path, other.status_code)
        assert other.json()["code"] == "not_found"


def self_scores_are_saved_for_the_own_unit_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    body = {"self_score": "1", "version": 1}
    own = clients["unit"].patch(
        path.format(id=data.a.assessment.pk, node_code="1.1.1"), body, format="json"
    )
    other = clients["unit"].patch(
        path.format(id=data.b.assessment.pk, node_code="1.1.1"), body, format="json"
    )
    assert own.status_code == 200, own.content
    assert other.status_code == 404


def workflow_steps_reach_the_own_units_assessment_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    """A step on another unit's assessment is not found; on its own it is
    answered (taken, or refused for the role or the state). No comment or
    contest is seeded: those steps are not found for either (the write
    matrix tries them on real ones)."""
    method = "patch" if path.endswith("{node_code}/") else "post"
    names = {"node_code": "1.1.1", "comment_id": 1, "contest_id": 1}
    for unit, expected_found in ((data.a, True), (data.b, False)):
        url = path.format(id=unit.assessment.pk, **names)
        answer = getattr(clients["unit"], method)(url, {}, format="json")
        if expected_found and "_id}" not in path:
            assert answer.status_code in (200, 400, 403), (url, answer.content)
        else:
            assert answer.status_code == 404, (url, answer.content)


# The unit's objects a step names, by path (commitments, accountability,
# reminders); and the methods of each.
STEP_OBJECTS: dict[str, Callable[[UnitData], dict[str, Any]]] = {
    "/api/v1/commitments/{id}/targets/": lambda u: {"id": u.commitment.pk},
    "/api/v1/commitments/{id}/sign/": lambda u: {"id": u.commitment.pk},
    "/api/v1/commitments/{id}/countersign/": lambda u: {"id": u.commitment.pk},
    **{
        f"/api/v1/commitments/{{id}}/targets/{{target_id}}/{step}": (
            lambda u: {"id": u.commitment.pk, "target_id": u.target.pk}
        )
        for step in ("", "report/", "check/")
    },
    **{
        f"/api/v1/accountability-cases/{{id}}/{step}/": (
            lambda u: {"id": u.accountability_case.pk}
        )
        for step in ("explanation", "decision")
    },
    "/api/v1/head-ratings/{id}/decision/": lambda u: {"id": u.rating.pk},
    "/api/v1/reminders/{id}/withdraw/": lambda u: {"id": u.reminder.pk},  # type: ignore[union-attr]
}
STEP_METHODS = {"/api/v1/commitments/{id}/targets/{target_id}/": ("patch", "delete")}


def steps_reach_the_own_units_objects_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    """A step on another unit's object is not found; on its own it is
    answered (taken, or refused for the role or the state)."""
    for method in STEP_METHODS.get(path, ("post",)):
        for unit, own in ((data.a, True), (data.b, False)):
            url = path.format(**STEP_OBJECTS[path](unit))
            answer = getattr(clients["unit"], method)(url, {}, format="json")
            if own:
                assert answer.status_code in (200, 201, 400, 403), (url, answer)
            else:
                assert answer.status_code == 404, (url, answer.content)


def adjustments_are_decided_within_the_jurisdiction_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    """Home Affairs' records: the city's reviewer decides A's, and the ward's
    (outside the city) is not found."""
    client = clients["city_reviewer"]
    own = client.post(
        path.format(id=data.a.adjustment.pk),  # type: ignore[union-attr]
        {"approve": True},
        format="json",
    )
    other = client.post(
        path.format(id=data.ward_adjustment.pk), {"approve": True}, format="json"
    )
    assert own.status_code == 200, own.content
    assert other.status_code == 404, other.content


def adjustments_are_entered_within_the_jurisdiction_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    """The body names the unit: the city's reviewer enters for A; the ward
    (outside the city) is refused on the field, as one that does not exist."""

    def enter(unit_code: str) -> Any:
        body = {
            "framework": data.framework.pk,
            "unit": unit_code,
            "rule": data.rule.code,
            "reason": "Báo chí phản ánh",
        }
        return clients["city_reviewer"].post(path, body, format="json")

    assert enter(data.a.unit.code).status_code == 201
    refused = enter(data.ward.code)
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"][0]["field"] == "unit"
    assert (
        enter("NO-SUCH-UNIT").json()["detail"].replace("NO-SUCH-UNIT", data.ward.code)
        == refused.json()["detail"]
    )
    assert not Adjustment.objects.filter(unit=data.ward, reason="Báo chí phản ánh")


def reminders_are_recorded_within_the_jurisdiction_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    def remind(unit_code: str, persona: str = "city_reviewer") -> Any:
        body = {"unit": unit_code, "issued_on": "2025-07-01"}
        return clients[persona].post(path, body, format="json")

    assert remind(data.a.unit.code).status_code == 201
    assert remind(data.ward.code).status_code == 400
    # A unit's head does not remind, even their own unit.
    assert remind(data.a.unit.code, persona="unit").status_code == 403
    assert not Reminder.objects.filter(unit=data.ward, issued_on="2025-07-01")


def cases_are_pushed_for_the_own_unit_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    def push(code: str, unit_code: str) -> dict[str, Any]:
        record = {
            "case_code": code,
            "procedure_code": "P1",
            "unit_code": unit_code,
            "received_at": "2025-03-02T08:00:00+07:00",
            "due_at": "2025-03-10T17:00:00+07:00",
            "status": "dang_xu_ly",
            "channel": "truc_tiep",
        }
        response = clients["unit"].post(path, {"records": [record]}, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    assert push("SCOPE-A", data.a.unit.code)["rows_new"] == 1
    # Another unit's record is rejected, row by row, and nothing is written.
    assert push("SCOPE-B", data.b.unit.code)["rows_rejected"] == 1
    assert not CaseRecord.objects.filter(case_code="SCOPE-B").exists()


def by_id(name: str) -> tuple[Callable[[ApiData], Any], Callable[[ApiData], Any]]:
    """A's and B's object named ``name`` (an attribute of UnitData), by id."""
    return (
        lambda data: getattr(data.a, name).pk,
        lambda data: getattr(data.b, name).pk,
    )


def ids(name: str) -> tuple[Callable[[ApiData], Any], Callable[[ApiData], Any]]:
    """The same as path parameters: {"id": …}."""
    a, b = by_id(name)
    return (lambda data: {"id": a(data)}, lambda data: {"id": b(data)})


YEAR = {"year": RESULTS_YEAR}


# Per-unit paths: what commune A's head (persona "unit") or the city's
# reviewer (persona "city_reviewer": commune A is in the city, PROV-W is not)
# reaches and does not.
def units_are_upserted_by_administrators_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    """Not per unit for writing: nobody but an administrator upserts, not even
    their own unit (its listing is checked on GET by the Listed rows)."""
    Listed("code", lambda d: d.a.unit.code, lambda d: d.b.unit.code)(
        path, clients, data
    )
    row = {"code": data.a.unit.code, "name": "Đổi tên", "kind": "commune"}
    response = clients["unit"].post(path, [row], format="json")
    assert response.status_code == 403, response.content
    assert not Unit.objects.filter(name="Đổi tên").exists()


def heads_are_upserted_by_administrators_only(
    path: str, clients: Clients, data: ApiData
) -> None:
    Listed("full_name", lambda d: d.a.head.full_name, lambda d: d.b.head.full_name)(
        path, clients, data
    )
    row = {
        "unit_code": data.a.unit.code,
        "full_name": "Người Mới",
        "position": "deputy",
        "tenure_from": "01/01/2025",
    }
    response = clients["unit"].post(path, [row], format="json")
    assert response.status_code == 403, response.content
    assert not Head.objects.filter(full_name="Người Mới").exists()


SCOPED: dict[str, list[Callable[[str, Clients, ApiData], None]]] = {
    "/api/v1/units/": [
        units_are_upserted_by_administrators_only,
        Listed(
            "code",
            lambda d: d.a.unit.code,
            lambda d: d.ward.code,
            persona="city_reviewer",
        ),
    ],
    "/api/v1/heads/": [heads_are_upserted_by_administrators_only],
    "/api/v1/commitments/": [Listed("id", *by_id("commitment"))],
    "/api/v1/commitments/{id}/": [Shown(*ids("commitment"))],
    "/api/v1/targets/": [Listed("id", *by_id("target"))],
    "/api/v1/cases/": [
        Listed("case_code", lambda d: d.a.case.case_code, lambda d: d.b.case.case_code)
    ],
    "/api/v1/cases/{case_code}/": [
        Shown(
            lambda d: {"case_code": d.a.case.case_code},
            lambda d: {"case_code": d.b.case.case_code},
        )
    ],
    "/api/v1/cases/batch/": [cases_are_pushed_for_the_own_unit_only],
    "/api/v1/metrics/": [
        Listed("unit_code", lambda d: d.a.unit.code, lambda d: d.b.unit.code)
    ],
    "/api/v1/assessments/": [Listed("id", *by_id("assessment"))],
    "/api/v1/assessments/{id}/": [Shown(*ids("assessment"))],
    "/api/v1/assessments/{id}/scores/{node_code}/": [
        self_scores_are_saved_for_the_own_unit_only
    ],
    **{
        f"/api/v1/assessments/{{id}}/{step}/": [
            workflow_steps_reach_the_own_units_assessment_only
        ]
        for step in (
            "submit",
            "return",
            "approve",
            "comments/{comment_id}/answer",
            "appraisals",
            "appraisals/accept-self",
            "appraisals/{node_code}",
            "contests",
            "contests/{contest_id}/decision",
        )
    },
    **{path: [steps_reach_the_own_units_objects_only] for path in STEP_OBJECTS},
    "/api/v1/adjustments/": [adjustments_are_entered_within_the_jurisdiction_only],
    "/api/v1/adjustments/{id}/decision/": [
        adjustments_are_decided_within_the_jurisdiction_only
    ],
    "/api/v1/reminders/": [reminders_are_recorded_within_the_jurisdiction_only],
    "/api/v1/accountability-cases/": [Listed("id", *by_id("accountability_case"))],
    "/api/v1/accountability-cases/{id}/": [Shown(*ids("accountability_case"))],
    "/api/v1/head-ratings/": [Listed("id", *by_id("rating"))],
    "/api/v1/head-ratings/{id}/": [Shown(*ids("rating"))],
    # Published rows are the province's public ranking, every signed-in
    # caller's; provisional rows only the reviewer's own units'.
    "/api/v1/results/{year}/": [
        Listed(
            "unit_code",
            lambda d: d.a.unit.code,
            lambda d: d.ward.code,
            query={"status": "provisional"},
            persona="city_reviewer",
            params=YEAR,
        )
    ],
    "/api/v1/results/{year}/units/{code}/": [
        Shown(
            lambda d: {**YEAR, "code": d.a.unit.code},
            lambda d: {**YEAR, "code": d.b.unit.code},
        ),
        Shown(
            lambda d: {**YEAR, "code": d.a.unit.code},
            lambda d: {**YEAR, "code": d.ward.code},
            query={"status": "provisional"},
            persona="city_reviewer",
        ),
    ],
}


@dataclass(frozen=True)
class NotScoped:
    reason: str
    params: Callable[[ApiData], dict[str, Any]] = lambda data: {}


# Paths that are not per unit, and why; commune A's and commune B's people get
# the same answer from them.
NOT_SCOPED: dict[str, NotScoped] = {
    "/api/v1/indicators/": NotScoped(
        "the catalogue of what targets measure, the same for every caller"
    ),
    "/api/v1/frameworks/": NotScoped(
        "a framework is per year and kind of unit: seen by kind and state"
    ),
    "/api/v1/frameworks/{id}/": NotScoped(
        "a framework is per year and kind of unit: seen by kind and state",
        lambda data: {"id": data.framework.pk},
    ),
    "/api/v1/results/": NotScoped(
        "the years with results: published ones for everyone, computed ones "
        "for reviewers"
    ),
    "/api/v1/results/{year}/runs/": NotScoped(
        "a computation covers the whole year; for reviewers only (403)",
        lambda data: YEAR,
    ),
    "/api/v1/results/{year}/runs/{run_id}/": NotScoped(
        "a computation covers the whole year; for reviewers only (403)",
        lambda data: {**YEAR, "run_id": data.run.pk},
    ),
    "/api/v1/results/{year}/publications/": NotScoped(
        "publishing covers the whole year; for those who compute it (403)",
        lambda data: YEAR,
    ),
    "/api/v1/publications/{year}/{version}/": NotScoped(
        "a published version is the whole province's, every signed-in caller's",
        lambda data: {**YEAR, "version": data.publication.version},
    ),
}


@pytest.fixture(scope="module")
def schema_paths() -> set[str]:
    return set(SchemaGenerator().get_schema(request=None, public=True)["paths"])


@pytest.fixture(scope="module")
def world(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[ApiData, dict[str, User]]]:
    """The province, its published year and the callers, built once for the
    module (every test only reads)."""
    with module_rows(django_db_blocker):
        org = build_province()
        data = seed(org, member("reviewer.prov", org.province, Role.REVIEWER))
        users = {
            "unit": unit_head(data.a.unit, data.a.head),
            "other_unit": unit_head(data.b.unit, data.b.head),
            "city_reviewer": member("reviewer.city", org.city, Role.REVIEWER),
        }
        yield data, users


@pytest.fixture
def data(world: tuple[ApiData, dict[str, User]], db: None) -> ApiData:
    return world[0]


@pytest.fixture
def clients(world: tuple[ApiData, dict[str, User]], db: None) -> Clients:
    def client(user: User) -> APIClient:
        api = APIClient()
        # A fresh object per client: memberships are cached on the user.
        api.force_authenticate(type(user).objects.get(pk=user.pk))
        return api

    return {role: client(user) for role, user in world[1].items()}


def test_every_path_is_audited_or_said_not_to_be_per_unit(schema_paths):
    assert not set(SCOPED) & set(NOT_SCOPED)
    assert set(SCOPED) | set(NOT_SCOPED) == schema_paths


@pytest.mark.parametrize("path", sorted(SCOPED))
def test_a_unit_reaches_its_own_objects_and_not_another_units(path, data, clients):
    for check in SCOPED[path]:
        check(path, clients, data)


@pytest.mark.parametrize("path", sorted(NOT_SCOPED))
def test_what_is_not_per_unit_is_the_same_for_both_units(path, data, clients):
    url = path.format(**NOT_SCOPED[path].params(data))

    own = clients["unit"].get(url)
    other = clients["other_unit"].get(url)

    assert own.status_code == other.status_code, path
    assert own.json() == other.json(), path
