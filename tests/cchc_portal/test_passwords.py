"""Self-service password reset by e-mail (cchc_portal.passwords): the link
arrives, works once, sets a password that logs in, lifts a lockout, and the
form tells nobody whether an address has an account."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.wording import vi

NEW = "Mat-khau-moi-2026"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(commune_staff):
    commune_staff.email = "staff.a@example.vn"
    commune_staff.save(update_fields=["email"])
    return commune_staff


def _ask(client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def _link(message) -> str:
    found = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_the_login_page_offers_the_reset(client, db):
    response = client.get(reverse("login"))
    assert reverse("password_reset") in response.content.decode()
    assert vi("Forgot your password?") in response.content.decode()


def test_the_link_sets_a_new_password_once(client, staff):
    response = _ask(client, "Staff.A@example.vn")
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["staff.a@example.vn"]
    assert message.subject == vi("CCHC portal: choose a new password")
    assert "staff.a" in message.body  # the user name, in case it was forgotten too
    link = _link(message)

    # Opening the link moves the token into the session, off the address bar.
    response = client.get(link)
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url.endswith("/set-password/")
    response = client.get(form_url)
    assert response.context["validlink"]

    # A weak password is refused at its field, nothing is changed.
    response = client.post(form_url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)

    response = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == reverse("password_reset_complete")
    staff.refresh_from_db()
    assert staff.check_password(NEW)
    assert client.get(response["Location"]).status_code == 200

    # The new password logs in; the link does not work a second time.
    other = type(client)()
    response = other.post(reverse("login"), {"username": "staff.a", "password": NEW})
    assert response.status_code == 302
    again = type(client)()
    response = again.get(link, follow=True)
    assert not response.context["validlink"]
    assert (
        vi(
            "This link cannot be used: it was already used, it has expired, or it was "
            "copied incompletely."
        )
        in response.content.decode()
    )


def test_an_unknown_address_is_answered_alike_and_sends_nothing(client, staff):
    known = _ask(client, "staff.a@example.vn")
    mail.outbox.clear()
    cache.clear()
    unknown = _ask(client, "nobody@example.vn")
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    assert mail.outbox == []


def test_an_address_gets_one_link_per_period(client, staff, settings):
    _ask(client, "staff.a@example.vn")
    _ask(client, "staff.a@example.vn")
    _ask(client, "STAFF.A@example.vn")
    assert len(mail.outbox) == 1
    cache.clear()  # the period is over
    _ask(client, "staff.a@example.vn")
    assert len(mail.outbox) == 2


def test_a_bad_address_is_refused_at_its_field(client, db):
    response = _ask(client, "not an address")
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert 'aria-invalid="true"' in response.content.decode()
    assert mail.outbox == []


def test_the_sent_page_says_how_long_the_link_works(client, db, settings):
    response = client.get(reverse("password_reset_done"))
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    assert (
        vi(
            "If the address belongs to an account of the portal, a link to choose a "
            "new password is on its way. The link works once, for %(hours)s hours."
        )
        % {"hours": hours}
        in response.content.decode()
    )


def test_saving_the_new_password_lifts_a_lockout(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "staff.a", "password": "x"})
    locked = client.post(
        reverse("login"), {"username": "staff.a", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert reverse("password_reset") in locked.content.decode()

    _ask(client, "staff.a@example.vn")
    response = client.get(_link(mail.outbox[0]))
    client.post(response["Location"], {"new_password1": NEW, "new_password2": NEW})

    response = type(client)().post(
        reverse("login"), {"username": "staff.a", "password": NEW}
    )
    assert response.status_code == 302
