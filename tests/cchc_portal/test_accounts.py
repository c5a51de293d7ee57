"""Who is asking, read through the cache (cchc_portal.accounts): the API's
token and the session's user cost no query once cached, and every change to
an account or a token is seen at the next request."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

URL = "/api/v1/units/"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.ACCOUNT_CACHE_SECONDS = 300  # the suite's conftest turns it off
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(commune_staff):
    token = Token.objects.create(user=commune_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, token


def queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured.captured_queries]


def sign_in(client) -> None:
    """Through the login page, as a browser does (the session then names
    the backend that authenticated it)."""
    response = client.post(
        reverse("login"), {"username": "staff.a", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_a_token_is_looked_up_once(api):
    client, _token = api
    first = queries(client, URL)
    assert any("authtoken_token" in sql for sql in first)
    again = queries(client, URL)
    assert not any("authtoken_token" in sql or "auth_user" in sql for sql in again)
    assert len(again) == len(first) - 1


def test_a_deleted_token_is_refused_at_the_next_request(api):
    client, token = api
    assert client.get(URL).status_code == 200
    token.delete()
    response = client.get(URL)
    assert response.status_code == 401


def test_a_deactivated_account_is_refused_at_the_next_request(api, commune_staff):
    client, _token = api
    assert client.get(URL).status_code == 200
    commune_staff.is_active = False
    commune_staff.save()
    assert client.get(URL).status_code == 401


def test_a_session_reads_its_user_once(client, commune_staff):
    sign_in(client)
    page = reverse("notice_list")
    first = queries(client, page)
    assert any('FROM "auth_user"' in sql for sql in first)
    again = queries(client, page)
    assert not any('FROM "auth_user" WHERE' in sql for sql in again[:2])
    assert len(again) < len(first)


def test_a_password_changed_elsewhere_ends_the_other_sessions(client, commune_staff):
    """Django's check of the session against the password hash still holds
    with the user read from the cache."""
    sign_in(client)
    page = reverse("notice_list")
    assert client.get(page).status_code == 200
    commune_staff.set_password("Mat-khau-moi-2026")
    commune_staff.save()
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_deactivated_account_is_signed_out(client, commune_staff):
    sign_in(client)
    page = reverse("notice_list")
    assert client.get(page).status_code == 200
    commune_staff.is_active = False
    commune_staff.save()
    assert client.get(page).status_code == 302
