"""The public face of the REST API, endpoint by endpoint from the schema:
without credentials 401 with the scheme to use (in the one error format), the
schema and its readers served from the portal itself, to signed-in callers
only."""

import re

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def schema(commune_staff):
    """An integrator fetches the schema with their token."""
    token = Token.objects.create(user=commune_staff)
    client = APIClient(headers={"Authorization": f"Token {token.key}"})
    response = client.get(reverse("api_schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_answers_401_in_the_error_format_without_credentials(db):
    response = APIClient().get(reverse("api_schema"), {"format": "json"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert (body["status"], body["code"]) == (401, "not_authenticated")
    assert [e["field"] for e in body["errors"]] == [None]


def test_a_signed_in_session_reads_the_schema(client, commune_staff):
    client.force_login(commune_staff)
    response = client.get(reverse("api_schema"), {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/cases/batch/" in response.json()["paths"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/docs/",
        "/api/docs/?script=",  # Swagger UI's start-up script
        "/api/redoc/",
    ],
)
def test_the_readers_send_an_anonymous_visitor_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/api/")


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
def test_the_readers_come_from_the_portal_not_a_cdn(client, commune_staff, name):
    client.force_login(commune_staff)
    page = client.get(reverse(name)).content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()
    assert "googleapis" not in page
    script = client.get(reverse("api_docs"), {"script": ""}).content.decode()
    assert reverse("api_schema") in page + script
