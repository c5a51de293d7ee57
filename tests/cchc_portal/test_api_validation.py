"""What the schema says of an input is what the API accepts: integer query
parameters refuse a fraction, every query parameter an empty value, booleans
anything but true/false, enums anything else, dates anything but an ISO date,
page anything but an integer (400 naming the parameter, documented); the
case push's records are a non-empty list of records with every required
property in both."""

import pytest
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from rest_framework.test import APIClient

from cchc_portal.api_filters import FilterSet, PageNumberPagination
from procedures.models import CaseRecord, ImportRun, Procedure
from tests.cchc_portal.api_data import RESULTS_YEAR, seed
from tests.cchc_portal.test_api_surface import concrete


@pytest.fixture(scope="module")
def document():
    return SchemaGenerator().get_schema(request=None, public=True)


def integer_parameters(document) -> list[tuple[str, str]]:
    return [
        (path, parameter["name"])
        for path, item in document["paths"].items()
        for parameter in item.get("get", {}).get("parameters", [])
        if parameter["in"] == "query"
        and parameter["schema"].get("type") == "integer"
        and parameter["name"] != "page"
    ]


def test_every_integer_query_parameter_refuses_a_fraction(document, reviewer):
    client = APIClient()
    client.force_authenticate(reviewer)
    found = integer_parameters(document)
    assert len(found) >= 8
    for path, name in found:
        response = client.get(concrete(path).replace("/1/", "/2025/"), {name: "0.5"})
        assert response.status_code == 400, (path, name, response.status_code)
        assert [e["field"] for e in response.json()["errors"]] == [name], path
        documented = document["paths"][path]["get"]["responses"]
        assert "400" in documented, path


def test_the_case_push_needs_a_record_in_the_schema_and_in_fact(
    document, commune_staff
):
    records = document["components"]["schemas"]["CasePush"]["properties"]["records"]
    assert records["minItems"] == 1
    client = APIClient()
    client.force_authenticate(commune_staff)
    response = client.post("/api/v1/cases/batch/", {"records": []}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["records"]
    responses = document["paths"]["/api/v1/cases/batch/"]["post"]["responses"]
    assert "400" in responses


# --- every query parameter: empty values, booleans, enums, dates, pages ---------------
#
# Each refused value answers 400 in the one error body, naming the parameter,
# and every operation taking a query documents 400 (schemathesis's negative
# mode found each of these accepted: tests/cchc_portal/test_api_fuzz.py).


def query_parameters(document) -> list[tuple[str, dict]]:
    """(path, parameter) for every query parameter of a GET, but ordering (an
    unknown ordering is ignored, as documented)."""
    return [
        (path, parameter)
        for path, item in document["paths"].items()
        for parameter in item.get("get", {}).get("parameters", [])
        if parameter["in"] == "query" and parameter["name"] != "ordering"
    ]


@pytest.fixture
def published(org, reviewer):
    """Something behind every path (published results included), so that a
    refused query is refused, not answered 404 for want of data."""
    return seed(org, reviewer)


def url_of(path: str, data) -> str:
    if data is None:
        return concrete(path)
    known = {
        "{year}": str(RESULTS_YEAR),
        "{code}": data.a.unit.code,
        "{id}": str(data.a.assessment.pk),
        "{version}": "1",
        "{run_id}": str(data.run.pk),
    }
    for name, value in known.items():
        path = path.replace(name, value)
    return concrete(path)


def assert_refused(client, document, path: str, name: str, value: str, data) -> None:
    response = client.get(url_of(path, data), {name: value})
    assert response.status_code == 400, (path, name, value, response.status_code)
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}, body
    assert [e["field"] for e in body["errors"]] == [name], (path, name, body)
    assert "400" in document["paths"][path]["get"]["responses"], path


@pytest.mark.parametrize("value", ["", " "])
def test_every_query_parameter_refuses_an_empty_value(
    document, reviewer, published, value
):
    client = APIClient()
    client.force_authenticate(reviewer)
    found = query_parameters(document)
    names = {parameter["name"] for _, parameter in found}
    # The findings: a date, an enum, an integer, a page, a code.
    assert {"received_to", "period_kind", "year", "page", "unit"} <= names
    for path, parameter in found:
        assert_refused(client, document, path, parameter["name"], value, published)


def test_every_boolean_query_parameter_takes_only_true_or_false(document, reviewer):
    client = APIClient()
    client.force_authenticate(reviewer)
    found = [
        (path, parameter["name"])
        for path, parameter in query_parameters(document)
        if parameter["schema"].get("type") == "boolean"
    ]
    assert {"not_started", "met", "flagged"} <= {name for _, name in found}
    for path, name in found:
        for value in ("null", "yes", "1", "True"):
            assert_refused(client, document, path, name, value, None)
        for value in ("true", "false"):
            assert client.get(path, {name: value}).status_code == 200, (path, name)


def test_every_enum_query_parameter_takes_only_its_values(document, reviewer):
    client = APIClient()
    client.force_authenticate(reviewer)
    found = [
        (path, parameter)
        for path, parameter in query_parameters(document)
        if "enum" in parameter["schema"] and "{" not in path
    ]
    assert "period_kind" in {parameter["name"] for _, parameter in found}
    for path, parameter in found:
        assert_refused(client, document, path, parameter["name"], "nope", None)
        for value in parameter["schema"]["enum"]:
            response = client.get(path, {parameter["name"]: value})
            assert response.status_code == 200, (path, parameter["name"], value)


def test_every_date_query_parameter_takes_only_an_iso_date(document, reviewer):
    client = APIClient()
    client.force_authenticate(reviewer)
    found = [
        (path, parameter["name"])
        for path, parameter in query_parameters(document)
        if parameter["schema"].get("format") == "date"
    ]
    assert {"received_from", "received_to"} <= {name for _, name in found}
    for path, name in found:
        # The portal's locale reads dd/mm/yyyy in forms; the schema says ISO.
        for value in ("25/12/2025", "2025-1-5", "2025-02-30", "null"):
            assert_refused(client, document, path, name, value, None)
        assert client.get(path, {name: "2025-12-25"}).status_code == 200


def test_every_string_query_parameter_says_it_needs_a_value(document):
    plain = [
        (path, parameter)
        for path, parameter in query_parameters(document)
        if parameter["schema"].get("type") == "string"
        and not {"enum", "format"} & set(parameter["schema"])
        and "{" not in path
    ]
    assert "unit" in {parameter["name"] for _, parameter in plain}
    for path, parameter in plain:
        assert parameter["schema"]["minLength"] == 1, (path, parameter)


def test_a_page_is_an_integer_and_a_page_out_of_range_is_not_found(
    document, reviewer, published
):
    client = APIClient()
    client.force_authenticate(reviewer)
    paged = [
        path
        for path, parameter in query_parameters(document)
        if parameter["name"] == "page"
    ]
    assert "/api/v1/frameworks/" in paged
    for path in paged:
        # DRF read ?page=abc as a missing page (404) and ?page=last as the last.
        for value in ("abc", "1.5", "last", "null"):
            assert_refused(client, document, path, "page", value, published)
        for value in ("0", "99"):
            response = client.get(url_of(path, published), {"page": value})
            assert response.status_code == 404, (path, value)
            assert "404" in document["paths"][path]["get"]["responses"], path
        assert client.get(url_of(path, published), {"page": "1"}).status_code == 200


def test_every_api_filterset_and_pagination_is_the_strict_one():
    """One mechanism: a view that pages or filters by a filterset uses the
    shared ones (cchc_portal.api_filters)."""
    checked = set()
    for path, _regex, _method, callback in EndpointEnumerator().get_api_endpoints():
        view = callback.cls
        filterset = getattr(view, "filterset_class", None)
        if filterset is not None:
            assert issubclass(filterset, FilterSet), (path, filterset)
            checked.add(filterset)
        pagination = getattr(view, "pagination_class", None)
        if pagination is not None:
            assert issubclass(pagination, PageNumberPagination), (path, pagination)
    assert len(checked) >= 8


# --- the case push: a record missing a required property ------------------------------


def push_record(code: str, **overrides) -> dict:
    record = {
        "case_code": code,
        "procedure_code": "P1",
        "unit_code": "CITY-A",
        "received_at": "2025-03-02T08:00:00+07:00",
        "due_at": "2025-03-10T17:00:00+07:00",
        "status": "dang_xu_ly",
        "channel": "truc_tiep",
    }
    record.update(overrides)
    return record


def test_a_pushed_record_missing_a_required_property_is_a_refused_request(
    document, commune_staff
):
    required = document["components"]["schemas"]["CasePushRecord"]["required"]
    assert "unit_code" in required
    first = push_record("H1")
    second = push_record("H2")
    del second["unit_code"], second["status"]
    client = APIClient()
    client.force_authenticate(commune_staff)

    response = client.post(
        "/api/v1/cases/batch/", {"records": [first, second]}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    # The error format's path: the index from 0, as in the JSON.
    assert [(e["field"], e["code"]) for e in errors] == [
        ("records.1.unit_code", "required"),
        ("records.1.status", "required"),
    ]
    assert "unit_code" in errors[0]["message"]
    assert not ImportRun.objects.exists()
    assert not CaseRecord.objects.exists()


def test_a_pushed_record_with_a_bad_value_is_still_a_row_error(commune_staff):
    Procedure.objects.create(code="P1", name="Đăng ký khai sinh")
    client = APIClient()
    client.force_authenticate(commune_staff)
    bad = push_record("H1", received_at="not a date", unit_code="NOWHERE")

    response = client.post("/api/v1/cases/batch/", {"records": [bad]}, format="json")

    assert response.status_code == 200
    assert response.json()["rows_rejected"] == 1
    assert {e["row"] for e in response.json()["errors"]} == {1}
