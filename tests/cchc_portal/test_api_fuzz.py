"""Schemathesis over every operation of the REST API, as the province's Home
Affairs reviewer (who sees every unit, provisional results included; commune
A's head for self scores) on a small province with something behind every
endpoint (tests/cchc_portal/api_data.py), built once for the module.

For each operation of the schema, one test: requests generated from the
schema (its examples, the coverage phase's boundary and invalid values, then
random ones), each sent as generated and again with commune A's object in the
path. Whatever the input, the answer is not a 5xx, its status is one the
operation documents, and its content type and body are the documented ones.
Writes happen too, inside the test's transaction. Bounded and repeatable:
derandomized, a few examples per operation, no deadline.

Nothing is loaded at collection: the tests are parametrized by the list of
operations below (test_the_fuzzed_operations_are_the_schemas checks it against
the schema), and each builds the schema the first time a test of the process
needs it (tests/cchc_portal/fuzz.py). Schemathesis's own pytest
parametrization builds every operation's test while collecting, some ten
seconds in every pytest run that collects this module; its fixture-based
loader (from_fixture) runs all operations inside one test. The data comes from
ordinary fixtures."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache as once
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from commitments.organisation.models import Role
from tests.cchc_portal.api_data import RESULTS_YEAR, ApiData, seed, unit_head
from tests.cchc_portal.fuzz import fuzz, operations_of
from tests.conftest import build_province, member, module_rows

# Every operation of the schema, as Schemathesis labels it.
OPERATIONS = (
    "GET /api/v1/accountability-cases/",
    "GET /api/v1/accountability-cases/{id}/",
    "POST /api/v1/accountability-cases/{id}/explanation/",
    "POST /api/v1/accountability-cases/{id}/decision/",
    "POST /api/v1/adjustments/",
    "POST /api/v1/adjustments/{id}/decision/",
    "GET /api/v1/assessments/",
    "GET /api/v1/assessments/{id}/",
    "PATCH /api/v1/assessments/{id}/scores/{node_code}/",
    "POST /api/v1/assessments/{id}/submit/",
    "POST /api/v1/assessments/{id}/return/",
    "POST /api/v1/assessments/{id}/approve/",
    "POST /api/v1/assessments/{id}/comments/{comment_id}/answer/",
    "POST /api/v1/assessments/{id}/appraisals/",
    "POST /api/v1/assessments/{id}/appraisals/accept-self/",
    "PATCH /api/v1/assessments/{id}/appraisals/{node_code}/",
    "POST /api/v1/assessments/{id}/contests/",
    "POST /api/v1/assessments/{id}/contests/{contest_id}/decision/",
    "GET /api/v1/cases/",
    "POST /api/v1/cases/batch/",
    "GET /api/v1/cases/{case_code}/",
    "GET /api/v1/commitments/",
    "GET /api/v1/commitments/{id}/",
    "POST /api/v1/commitments/{id}/targets/",
    "PATCH /api/v1/commitments/{id}/targets/{target_id}/",
    "DELETE /api/v1/commitments/{id}/targets/{target_id}/",
    "POST /api/v1/commitments/{id}/targets/{target_id}/report/",
    "POST /api/v1/commitments/{id}/targets/{target_id}/check/",
    "POST /api/v1/commitments/{id}/sign/",
    "POST /api/v1/commitments/{id}/countersign/",
    "GET /api/v1/frameworks/",
    "GET /api/v1/frameworks/{id}/",
    "GET /api/v1/head-ratings/",
    "GET /api/v1/head-ratings/{id}/",
    "POST /api/v1/head-ratings/{id}/decision/",
    "GET /api/v1/heads/",
    "POST /api/v1/heads/",
    "GET /api/v1/indicators/",
    "GET /api/v1/metrics/",
    "GET /api/v1/publications/{year}/{version}/",
    "POST /api/v1/reminders/",
    "POST /api/v1/reminders/{id}/withdraw/",
    "GET /api/v1/results/",
    "GET /api/v1/results/{year}/",
    "GET /api/v1/results/{year}/runs/",
    "POST /api/v1/results/{year}/runs/",
    "GET /api/v1/results/{year}/runs/{run_id}/",
    "POST /api/v1/results/{year}/publications/",
    "GET /api/v1/results/{year}/units/{code}/",
    "GET /api/v1/targets/",
    "GET /api/v1/units/",
    "POST /api/v1/units/",
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 10
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            # The token is the test's, not generated.
            "with-security-parameters": False,
        },
    }
)


@once
def _document() -> dict[str, Any]:
    """The schema the portal serves at /api/schema/ (the same generator),
    built the first time a test of the process asks for it."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


@once
def positive_schema() -> BaseSchema:
    return schemathesis.openapi.from_dict(_document(), config=CONFIG)


def test_the_fuzzed_operations_are_the_schemas():
    """A new operation of the API is fuzzed once it is added to OPERATIONS
    (and, when its path names an object, to ``known``)."""
    assert operations_of(positive_schema()) == sorted(OPERATIONS)
    assert operations_of(negative_schema()) == sorted(NEGATIVE_OPERATIONS)


@pytest.fixture
def app(settings) -> Iterator[WSGIHandler]:
    """Django's WSGI application, middleware and all, as a server runs it,
    but on the test's database connection: as Django's test client does, the
    signals that close the connection around each request are disconnected
    (they would close it in the middle of the test's transaction)."""
    # Schemathesis's client sends Host: localhost; throttles count in the cache.
    settings.ALLOWED_HOSTS = ["localhost"]
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass(frozen=True)
class World:
    data: ApiData
    # The reviewer's token for everything, but self scores: only the unit's
    # own people enter them (a reviewer would only ever get 403); and the
    # organisation's bulk upserts, an administrator's.
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The province and its published year, built once for the module (a
    hundred tests read it; what each one writes is rolled back after it)."""
    with module_rows(django_db_blocker):
        org = build_province()
        reviewer = member("reviewer.prov", org.province, Role.REVIEWER)
        superuser = User.objects.create(
            username="root", is_superuser=True, is_staff=True
        )
        data = seed(org, reviewer)
        head = unit_head(data.a.unit, data.a.head)
        tokens = {
            "reviewer": Token.objects.create(user=reviewer).key,
            "unit": Token.objects.create(user=head).key,
            "admin": Token.objects.create(user=superuser).key,
        }
        yield World(data, tokens)


@pytest.fixture
def data(world: World, db: None) -> ApiData:
    return world.data


@pytest.fixture
def tokens(world: World, db: None) -> dict[str, str]:
    return world.tokens


@pytest.fixture
def known(data) -> dict[str, dict[str, Any]]:
    """For each path with parameters, the values that name commune A's
    object (a random id finds nothing)."""
    a = data.a
    year = {"year": RESULTS_YEAR}
    return {
        "/api/v1/accountability-cases/{id}/": {"id": a.accountability_case.pk},
        "/api/v1/assessments/{id}/": {"id": a.assessment.pk},
        "/api/v1/assessments/{id}/scores/{node_code}/": {
            "id": a.assessment.pk,
            "node_code": "1.1.1",
        },
        **{
            f"/api/v1/assessments/{{id}}/{step}/": {"id": a.assessment.pk}
            for step in (
                "submit",
                "return",
                "approve",
                "appraisals",
                "appraisals/accept-self",
                "contests",
            )
        },
        # No comment or contest is seeded: the assessment is A's, the id none.
        "/api/v1/assessments/{id}/comments/{comment_id}/answer/": {
            "id": a.assessment.pk,
            "comment_id": 1,
        },
        "/api/v1/assessments/{id}/contests/{contest_id}/decision/": {
            "id": a.assessment.pk,
            "contest_id": 1,
        },
        "/api/v1/assessments/{id}/appraisals/{node_code}/": {
            "id": a.assessment.pk,
            "node_code": "1.1.1",
        },
        "/api/v1/cases/{case_code}/": {"case_code": a.case.case_code},
        **{
            f"/api/v1/commitments/{{id}}/{step}": {"id": a.commitment.pk}
            for step in ("", "targets/", "sign/", "countersign/")
        },
        **{
            f"/api/v1/commitments/{{id}}/targets/{{target_id}}/{step}": {
                "id": a.commitment.pk,
                "target_id": a.target.pk,
            }
            for step in ("", "report/", "check/")
        },
        **{
            f"/api/v1/accountability-cases/{{id}}/{step}/": {
                "id": a.accountability_case.pk
            }
            for step in ("explanation", "decision")
        },
        "/api/v1/adjustments/{id}/decision/": {"id": a.adjustment.pk},
        "/api/v1/head-ratings/{id}/decision/": {"id": a.rating.pk},
        "/api/v1/reminders/{id}/withdraw/": {"id": a.reminder.pk},
        "/api/v1/frameworks/{id}/": {"id": data.framework.pk},
        "/api/v1/head-ratings/{id}/": {"id": a.rating.pk},
        "/api/v1/publications/{year}/{version}/": {**year, "version": 1},
        "/api/v1/results/{year}/": year,
        "/api/v1/results/{year}/runs/": year,
        "/api/v1/results/{year}/publications/": year,
        "/api/v1/results/{year}/runs/{run_id}/": {**year, "run_id": data.run.pk},
        "/api/v1/results/{year}/units/{code}/": {**year, "code": a.unit.code},
    }


ORGANISATION_UPSERTS = ("/api/v1/units/", "/api/v1/heads/")
# What only the unit's own people do (a reviewer would only ever get 403).
UNIT_STEPS = (
    "/scores/{node_code}/",
    "/submit/",
    "/answer/",
    "/explanation/",
    "/report/",
)
# What the leader above decides: the administrator stands in for them (a
# reviewer would only ever get 403).
LEADER_STEPS = ("/accountability-cases/{id}/decision/", "/head-ratings/{id}/decision/")


def token_for(case: Any, tokens: dict[str, str]) -> dict[str, str]:
    """The Authorization header of the account the operation is for."""
    path = case.operation.path
    if path.endswith(UNIT_STEPS) or (
        case.method == "POST" and path.endswith("/contests/")
    ):
        who = "unit"
    elif (
        case.method == "POST" and case.operation.path in ORGANISATION_UPSERTS
    ) or path.endswith(LEADER_STEPS):
        who = "admin"
    else:
        who = "reviewer"
    return {"Authorization": f"Token {tokens[who]}"}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_answers_within_its_schema(operation, app, known, tokens):
    """Each generated request is sent twice when its path names an object:
    as generated (mostly nothing found), and with commune A's object in the
    path, so that the generated query and body reach real code."""
    fuzz(
        positive_schema(),
        operation,
        answers_within_its_schema,
        app=app,
        known=known,
        tokens=tokens,
    )


@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def answers_within_its_schema(case, app, known, tokens):
    headers = token_for(case, tokens)
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
    found = known.get(case.operation.path)
    # A new path naming an object needs its seeded values in ``known``.
    assert found or "{" not in case.operation.path, case.operation.path
    if found:
        case.path_parameters = {**(case.path_parameters or {}), **found}
        case.call_and_validate(app=app, headers=headers, checks=CHECKS)


# --- negative mode: what the schema refuses, the API refuses -----------------------
#
# Kept apart from the positive run above (its own schema object, config and
# test): requests generated to break the schema in one place (a missing
# required property, a value of another type, an empty or out-of-enum query
# value, ...). None may be accepted (schemathesis's ST201) or answered with an
# undocumented status (ST103). 414 (URI too long) cannot happen in-process:
# the server in front of Django answers it (docs/decisions.md).

NEGATIVE_EXAMPLES = 5
NEGATIVE_CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "negative",
            "max-examples": NEGATIVE_EXAMPLES,
            "deterministic": True,
            "with-security-parameters": False,
        },
    }
)
# Operations with no input their schema can refuse (no parameter; a case code
# is any text): nothing to make invalid, so they are not in this pass.
NOTHING_TO_REFUSE = ("/api/v1/results/", "/api/v1/cases/{case_code}/")
NEGATIVE_OPERATIONS = tuple(
    operation
    for operation in OPERATIONS
    if operation not in {f"GET {path}" for path in NOTHING_TO_REFUSE}
)
CASE_PUSH = "/api/v1/cases/batch/"


@once
def negative_schema() -> BaseSchema:
    return (
        schemathesis.openapi.from_dict(_document(), config=NEGATIVE_CONFIG)
        .exclude(path=NOTHING_TO_REFUSE[0], method="GET")
        .exclude(path=NOTHING_TO_REFUSE[1], method="GET")
    )


@once
def push_required() -> set[str]:
    components = negative_schema().raw_schema["components"]
    return set(components["schemas"]["CasePushRecord"]["required"])


def rejected_rows(response: Any, case: Any) -> bool:
    """Whether this is the case push's documented row-error contract: every
    record has the properties the schema requires (one left out is a 400),
    and those whose values are there but bad (a date the engine cannot
    read, an unknown unit) are rejected on their row in a 200 answer."""
    if case.method != "POST" or case.operation.path != CASE_PUSH:
        return False
    records = case.body.get("records") if isinstance(case.body, dict) else None
    if not isinstance(records, list) or response.status_code != 200:
        return False
    required = push_required()
    complete = all(
        isinstance(record, dict) and set(record) >= required for record in records
    )
    return complete and response.json()["rows_rejected"] > 0


def refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """ST201 (a schema-violating request accepted), but for rows the case
    push rejects one by one (rejected_rows)."""
    if rejected_rows(response, case):
        return True
    return negative_data_rejection(ctx, response, case)


NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, refused]


@pytest.mark.parametrize("operation", NEGATIVE_OPERATIONS)
def test_every_operation_refuses_what_its_schema_refuses(operation, app, known, tokens):
    """Sent as generated, and again with commune A's object in the path when
    the path is not what was made invalid (so the invalid query or body
    reaches the view rather than a 404)."""
    fuzz(
        negative_schema(),
        operation,
        refuses_what_its_schema_refuses,
        app=app,
        known=known,
        tokens=tokens,
    )


@settings(
    max_examples=NEGATIVE_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def refuses_what_its_schema_refuses(case, app, known, tokens):
    headers = token_for(case, tokens)
    case.call_and_validate(app=app, headers=headers, checks=NEGATIVE_CHECKS)
    found = known.get(case.operation.path)
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if found and (path is None or not path.mode.is_negative):
        case.path_parameters = {**(case.path_parameters or {}), **found}
        case.call_and_validate(app=app, headers=headers, checks=NEGATIVE_CHECKS)
