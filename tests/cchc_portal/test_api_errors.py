"""The one error format of the REST API: every error body is {"status",
"code", "detail", "errors": [{"field", "code", "message"}]}, nested input
errors flattened to dotted paths, and the schema documents the error answers
with the Error component."""

from pathlib import Path

import pytest
import rest_framework
from babel.messages.mofile import read_mo
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.test import APIClient

from cchc_portal import api_messages
from cchc_portal.api_errors import exception_handler, flatten
from tests.wording import vi

COMMITMENTS_URL = reverse("commitments_api:commitment-list")


class TargetInput(serializers.Serializer):
    value = serializers.DecimalField(max_digits=5, decimal_places=2, max_value=100)
    indicator = serializers.CharField()


class CommitmentInput(serializers.Serializer):
    year = serializers.IntegerField()
    targets = TargetInput(many=True)

    def validate(self, attrs):
        raise serializers.ValidationError("Refused as a whole.", code="whole")


def client_for(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- the body, without a request -----------------------------------------------------


def test_nested_errors_are_flattened_to_dotted_paths():
    refused = CommitmentInput(
        data={
            "year": "x",
            "targets": [
                {"value": "50", "indicator": "a"},
                {"value": "50", "indicator": "b"},
                {"value": "101"},
            ],
        }
    )
    assert not refused.is_valid()

    errors = flatten(refused.errors, "invalid")

    assert [(e["field"], e["code"]) for e in errors] == [
        ("year", "invalid"),
        ("targets.2.value", "max_value"),
        ("targets.2.indicator", "required"),
    ]


def test_non_field_errors_belong_to_the_request_or_the_object_they_are_in():
    detail = ValidationError(
        {
            "non_field_errors": ["Bad as a whole."],
            "targets": [{}, {"non_field_errors": ["Bad target."]}],
        }
    ).detail

    errors = flatten(detail, "invalid")

    assert [(e["field"], e["message"]) for e in errors] == [
        (None, "Bad as a whole."),
        ("targets.1", "Bad target."),
    ]


def test_a_refused_input_answers_every_message_and_the_first_as_detail():
    refused = CommitmentInput(data={"year": 2025, "targets": []})
    assert not refused.is_valid()

    response = exception_handler(ValidationError(refused.errors), {})

    assert response is not None
    assert response.status_code == 400
    assert response.data == {
        "status": 400,
        "code": "invalid",
        "detail": "Refused as a whole.",
        "errors": [{"field": None, "code": "whole", "message": "Refused as a whole."}],
    }


def test_djangos_404_takes_the_same_format():
    response = exception_handler(Http404(), {})

    assert response is not None
    assert response.status_code == 404
    assert response.data["code"] == "not_found"
    assert response.data["errors"] == [
        {"field": None, "code": "not_found", "message": response.data["detail"]}
    ]


def test_a_throttled_answer_keeps_retry_after():
    response = exception_handler(Throttled(wait=42), {})

    assert response is not None
    assert response["Retry-After"] == "42"
    assert (response.data["status"], response.data["code"]) == (429, "throttled")


def test_anything_else_is_left_to_django_as_a_500():
    assert exception_handler(ValueError("boom"), {}) is None


# --- through the client --------------------------------------------------------------


def test_a_wrong_token_answers_401_authentication_failed(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(COMMITMENTS_URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "authentication_failed"


def test_a_method_the_endpoint_does_not_have_answers_405(reviewer):
    response = client_for(reviewer).delete(COMMITMENTS_URL)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"]


def test_the_detail_is_in_the_callers_language_and_names_no_model(reviewer):
    url = reverse("commitments_api:commitment-detail", args=[999])

    in_vi = client_for(reviewer).get(url, HTTP_ACCEPT_LANGUAGE="vi").json()
    en = client_for(reviewer).get(url, HTTP_ACCEPT_LANGUAGE="en").json()

    assert (in_vi["code"], en["code"]) == ("not_found", "not_found")
    # Not Django's "No Commitment matches the given query.".
    assert en["detail"] == "Not found."
    assert in_vi["detail"] == vi("Not found.")


def test_drfs_own_messages_reach_a_vietnamese_caller_in_vietnamese(db, reviewer):
    anonymous = APIClient().get(COMMITMENTS_URL, HTTP_ACCEPT_LANGUAGE="vi").json()
    assert anonymous["detail"] == vi("Authentication credentials were not provided.")
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert wrong.get(COMMITMENTS_URL).json()["detail"] == vi("Invalid token.")
    refused = client_for(reviewer).get(
        reverse("scoring_api:result-ranking", args=[2025]), {"version": "x"}
    )
    assert refused.json()["errors"] == [
        {
            "field": "version",
            "code": "invalid",
            "message": vi("A valid integer is required."),
        }
    ]
    english = client_for(reviewer).get(
        reverse("scoring_api:result-ranking", args=[2025]),
        {"version": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.json()["detail"] == "A valid integer is required."


def test_the_listed_messages_are_drfs_own():
    """cchc_portal.api_messages names DRF's messages for the catalogue: each
    must be one of DRF's (its French catalogue holds them all), or it
    translates nothing."""
    french = Path(rest_framework.__file__).parent / "locale/fr/LC_MESSAGES/django.mo"
    with french.open("rb") as catalogue:
        ids = [message.id for message in read_mo(catalogue) if message.id]
    # A plural message's id is its two forms.
    drf = {one for id in ids for one in ((id,) if isinstance(id, str) else id)}
    listed = [str(m) for m in api_messages.MESSAGES]
    assert len(listed) > 50
    assert set(listed) <= drf, set(listed) - drf
    with translation.override("en"):
        (plural,) = api_messages.PLURAL_MESSAGES
        forms = (str(plural % {"wait": 1}), str(plural % {"wait": 2}))
    assert set(forms) <= drf


# --- the schema ----------------------------------------------------------------------

# 4xx answers with a body of their own, which carries the error's fields too
# (Conflict) or is the push's report (CasePushRefusal: the report or an Error).
OWN_BODIES = {
    ("patch", "/api/v1/assessments/{id}/scores/{node_code}/", "409"): "Conflict",
    ("patch", "/api/v1/assessments/{id}/appraisals/{node_code}/", "409"): "Conflict",
    ("post", "/api/v1/assessments/{id}/appraisals/", "409"): "Conflict",
    ("post", "/api/v1/cases/batch/", "400"): "CasePushRefusal",
    # The bulk upsert's report when rows are rejected, or an Error.
    ("post", "/api/v1/units/", "400"): "OrganisationUpsertRefusal",
    ("post", "/api/v1/heads/", "400"): "OrganisationUpsertRefusal",
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_error_answer_is_documented_with_the_error_body(schema):
    found = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    found[(method, path, code)] = ref.rsplit("/", 1)[-1]

    assert {key for key, name in found.items() if name != "Error"} == set(OWN_BODIES)
    assert {key: found[key] for key in OWN_BODIES} == OWN_BODIES
    conflict = schema["components"]["schemas"]["Conflict"]
    assert set(conflict["required"]) >= {"status", "code", "detail", "errors"}


def test_every_operation_documents_401_and_its_other_error_answers(schema):
    operations = {
        (method, path): set(operation["responses"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }

    assert all("401" in codes for codes in operations.values())
    # Filters answer 400 for a bad value, lists 404 past the last page.
    assert operations[("get", "/api/v1/commitments/")] >= {"400", "404"}
    # An object by its id: 404; nothing to validate: no 400.
    assert "400" not in operations[("get", "/api/v1/commitments/{id}/")]
    assert "404" in operations[("get", "/api/v1/commitments/{id}/")]
    # A throttled write: 403 (CSRF), 415, 429 with Retry-After.
    push = schema["paths"]["/api/v1/cases/batch/"]["post"]["responses"]
    assert {"403", "415", "429"} <= set(push)
    assert "Retry-After" in push["429"]["headers"]


def test_the_error_component_requires_all_four_keys(schema):
    error = schema["components"]["schemas"]["Error"]
    item = schema["components"]["schemas"]["ErrorItem"]

    assert sorted(error["required"]) == ["code", "detail", "errors", "status"]
    assert item["properties"]["field"]["nullable"] is True


# --- paths no view answers, and server errors ----------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/commitments/abc/", "/api/v1/no-such-endpoint/", "/api/"]
)
def test_an_api_path_no_view_answers_is_a_404_in_the_error_format(reviewer, path):
    response = client_for(reviewer).get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": 404,
        "code": "not_found",
        "detail": "Not found.",
        "errors": [{"field": None, "code": "not_found", "message": "Not found."}],
    }


def test_a_page_no_view_answers_is_still_the_portals_page(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_server_error_under_api_answers_the_error_format(reviewer, monkeypatch):
    def broken(user):
        raise RuntimeError("boom")

    monkeypatch.setattr("scoring.results.selectors.result_years", broken)
    client = client_for(reviewer)
    client.raise_request_exception = False

    response = client.get(reverse("scoring_api:result-years"))

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert response.json()["status"] == 500
