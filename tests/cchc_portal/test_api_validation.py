"""What the schema says of an input is what the API accepts: integer query
parameters refuse a fraction (400 naming the parameter, documented), and the
case push's records are a non-empty list in both."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

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
