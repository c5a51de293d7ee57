"""The public face of the REST API, endpoint by endpoint from the schema:
without credentials 401 with the scheme to use (in the one error format), the
schema and its readers served from the portal itself."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient


@pytest.fixture
def schema(db):
    """The schema holds no data: an integrator reads it before holding a
    token."""
    response = APIClient().get(reverse("api_schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def concrete(path: str) -> str:
    """A path of the schema with its parameters filled in."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_schema_names_token_and_session_authentication(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["type"] == "apiKey"
    assert schemes["tokenAuth"]["in"] == "header"
    assert "cookieAuth" in schemes


def test_every_endpoint_answers_401_and_names_the_scheme_without_credentials(
    schema,
):
    operations = [
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "put", "delete"}
    ]
    assert len(operations) >= 20
    anonymous = APIClient()
    for method, path in operations:
        response = getattr(anonymous, method)(concrete(path))
        assert response.status_code == 401, (method, path, response.status_code)
        assert response["WWW-Authenticate"] == "Token", (method, path)
        body = response.json()
        assert (body["status"], body["code"]) == (401, "not_authenticated"), path
        assert [e["field"] for e in body["errors"]] == [None], path


@pytest.mark.parametrize("name", ["api_docs", "api_redoc"])
def test_the_readers_come_from_the_portal_not_a_cdn(client, db, name):
    page = client.get(reverse(name)).content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()
    assert reverse("api_schema") in page
