"""One operation of a Schemathesis schema run as one pytest test, with the
schema built at run time rather than at collection.

`schema.parametrize()` turns every operation into a test while pytest
collects, and building them (the coverage phase's cases among them) is most
of the time of collecting tests/cchc_portal/test_api_fuzz.py. Here the test
function is parametrized by the operations' labels instead, and `fuzz` builds
the operation's Hypothesis test when the test runs, as Schemathesis's own
collector does (schemathesis.pytest.plugin.SchemathesisCase._gen_items, which
calls the same build_operation_test): same phases, same settings, same
derived seed, so the same requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemathesis.checks import load_all_checks
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.core.result import Ok
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source
from schemathesis.schemas import BaseSchema


def operations_of(schema: BaseSchema) -> list[str]:
    """The labels ("GET /api/v1/...") of the schema's operations, sorted."""
    labels = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        labels.append(result.ok().label)
    return sorted(labels)


# One per schema (by identity: a schema is a Mapping, so not hashable), as
# the collector shares it between the schema's operations.
_feedback: dict[int, FeedbackSources] = {}


def feedback_of(schema: BaseSchema) -> FeedbackSources:
    if id(schema) not in _feedback:
        pool = make_constants_value_source(schema)
        _feedback[id(schema)] = FeedbackSources(constants_value_source=pool)
    return _feedback[id(schema)]


def fuzz(schema: BaseSchema, label: str, test: Callable[..., None], **fixtures: Any):
    """Run `test(case, **fixtures)` over the cases Schemathesis generates for
    the operation `label` of `schema`."""
    __tracebackhide__ = True
    load_all_checks()
    method, path = label.split(" ", 1)
    run = build_operation_test(
        config=schema.config,
        operation=schema[path][method],
        test_func=test,
        given_kwargs={},
        feedback=feedback_of(schema),
    )
    try:
        run(**fixtures)
    except FailureGroup as failures:
        raise as_reported_failure(failures) from None
