"""Pages as each role sees them, through the test client."""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import HeadFactory
from tests.wording import vi, vi_n


def nav_keys(response):
    return [item.key for item in response.context["nav_items"]]


def test_anonymous_visitors_are_sent_to_login(client, org):
    for url in ("/", "/units/", "/units/CITY-A/", "/heads/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_staff_land_on_their_to_do_home(client, commune_staff):
    client.force_login(commune_staff)
    response = client.get("/")
    assert response.status_code == 200
    assert "core/home.html" in [t.name for t in response.templates]
    assert nav_keys(response) == [
        "todo",
        "my_unit",
        "metrics",
        "late_cases",
        "imports",
        "assessments",
        "results",
        "commitments",
        "accountability",
    ]


def test_reviewer_lands_on_the_to_do_home(client, city_reviewer):
    client.force_login(city_reviewer)
    response = client.get("/")
    assert "core/home.html" in [t.name for t in response.templates]
    assert nav_keys(response) == [
        "todo",
        "units",
        "heads",
        "late_cases",
        "reminders",
        "repeated_lateness",
        "imports",
        "dashboard",
        "assessments",
        "results",
        "commitments",
        "accountability",
        "ratings",
        "frameworks",
        "adjustments",
    ]
    response = client.get("/units/")
    listed = {unit.code for unit in response.context["page"]}
    assert listed == {"CITY", "CITY-A", "CITY-B"}


def test_superuser_without_unit_lands_in_the_admin(client, superuser):
    client.force_login(superuser)
    response = client.get("/")
    assert response["Location"] == "/admin/"
    assert nav_keys(client.get("/units/")) == [
        "units",
        "heads",
        "late_cases",
        "reminders",
        "repeated_lateness",
        "imports",
        "dashboard",
        "assessments",
        "results",
        "commitments",
        "accountability",
        "ratings",
        "frameworks",
        "adjustments",
        "admin",
    ]


def test_account_without_unit_gets_an_explanation(client, no_unit_user):
    client.force_login(no_unit_user)
    response = client.get("/")
    assert response.status_code == 200
    assert "core/no_unit.html" in [t.name for t in response.templates]


@pytest.mark.parametrize("url", ["/units/CITY-B/", "/units/NO-SUCH-UNIT/"])
def test_staff_get_404_for_another_or_missing_unit(client, commune_staff, url):
    client.force_login(commune_staff)
    assert client.get(url).status_code == 404


def test_staff_may_not_list_units_or_heads(client, commune_staff):
    client.force_login(commune_staff)
    assert client.get("/units/").status_code == 404
    assert client.get("/heads/").status_code == 404


def test_unit_page_lists_heads_and_only_visible_children(client, org, commune_staff):
    HeadFactory(unit=org.city, full_name="Chủ tịch Thành phố")
    HeadFactory(unit=org.commune_a, full_name="Chủ tịch Phường A")
    client.force_login(commune_staff)
    page = client.get("/units/CITY-A/").content.decode()
    assert "Chủ tịch Phường A" in page
    assert "Chủ tịch Thành phố" not in page


def test_unit_list_links_each_unit_to_its_dossier_figures(client, city_reviewer):
    client.force_login(city_reviewer)
    page = client.get("/units/").content.decode()
    for code in ("CITY", "CITY-A", "CITY-B"):
        assert f'href="/units/{code}/metrics/"' in page
    assert 'href="/units/PROV-DEP/metrics/"' not in page  # out of the reviewer's scope
    assert client.get("/units/CITY-B/metrics/").status_code == 200


@pytest.mark.parametrize("persona", ["commune_staff", "leader"])
def test_unit_page_links_to_the_units_dossier_figures(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    page = client.get("/units/CITY-A/").content.decode()
    assert 'href="/units/CITY-A/metrics/"' in page
    assert vi("Dossier figures") in page
    assert client.get("/units/CITY-A/metrics/").status_code == 200


def test_unit_list_filters_by_kind_and_search(client, reviewer):
    client.force_login(reviewer)
    by_kind = client.get("/units/", {"kind": "commune"}).context["page"]
    assert {u.code for u in by_kind} == {"CITY-A", "CITY-B"}
    by_name = client.get("/units/", {"q": "Tư pháp"}).context["page"]
    assert [u.code for u in by_name] == ["PROV-DEP"]


def test_unit_list_query_count_does_not_grow_with_units(
    client, reviewer, org, django_assert_max_num_queries
):
    for n in range(30):
        HeadFactory(unit__parent=org.city, unit__code=f"EXTRA-{n}")
    client.force_login(reviewer)
    with django_assert_max_num_queries(12):
        response = client.get("/units/")
    assert response.status_code == 200


def test_head_list_shows_the_heads_in_office_in_scope(client, org, city_reviewer):
    HeadFactory(unit=org.commune_a, full_name="Đương Nhiệm")
    HeadFactory(
        unit=org.commune_b,
        full_name="Đã Nghỉ",
        tenure_from="2019-01-01",
        tenure_to="2020-01-01",
    )
    HeadFactory(unit=org.department, full_name="Ngoài Phạm Vi")
    client.force_login(city_reviewer)
    names = {h.full_name for h in client.get("/heads/").context["page"]}
    assert names == {"Đương Nhiệm"}


def test_login_with_the_right_password_goes_to_work(client, commune_staff):
    response = client.post(
        reverse("login"), {"username": "staff.a", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "core/home.html" in [t.name for t in response.templates]


def test_repeated_failed_logins_lock_the_account_out(client, commune_staff, settings):
    """After AXES_FAILURE_LIMIT wrong passwords even the right one is refused."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            reverse("login"), {"username": "staff.a", "password": "x"}
        )
        assert response.status_code == 200  # the form again, with its error
    response = client.post(reverse("login"), {"username": "staff.a", "password": "x"})
    assert response.status_code == 429
    response = client.post(
        reverse("login"), {"username": "staff.a", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session
    # The page says how long the lock lasts.
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    said = vi_n(
        "After %(limit)s wrong passwords this account is locked for %(counter)s "
        "minute, for logins from this address. Try again after that, or ask an "
        "administrator to unlock it.",
        "After %(limit)s wrong passwords this account is locked for %(counter)s "
        "minutes, for logins from this address. Try again after that, or ask an "
        "administrator to unlock it.",
        minutes,
    ) % {"limit": settings.AXES_FAILURE_LIMIT, "counter": minutes}
    assert said in response.content.decode()


def test_lockout_of_one_account_spares_another(
    client, commune_staff, other_commune_staff, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "staff.a", "password": "x"})
    response = client.post(
        reverse("login"), {"username": "staff.b", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_password_change_requires_the_old_password(client, commune_staff):
    client.force_login(commune_staff)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "Mat-khau-moi-2026",
            "new_password2": "Mat-khau-moi-2026",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Mat-khau-moi-2026",
            "new_password2": "Mat-khau-moi-2026",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    commune_staff.refresh_from_db()
    assert commune_staff.check_password("Mat-khau-moi-2026")


def test_logout_is_a_post_and_ends_the_session(client, commune_staff):
    client.force_login(commune_staff)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_dates_are_shown_day_first(client, org, commune_staff):
    HeadFactory(unit=org.commune_a, tenure_from="2023-07-01")
    client.force_login(commune_staff)
    assert "01/07/2023" in client.get("/units/CITY-A/").content.decode()


def test_not_found_page_is_the_portals_in_vietnamese(client, commune_staff):
    client.force_login(commune_staff)
    response = client.get("/units/CITY-B/")
    assert response.status_code == 404
    page = response.content.decode()
    assert vi("Page not found") in page
    assert 'data-nav="my_unit"' in page  # the portal's own layout and menu


def test_full_name_reads_family_name_first(db):
    from commitments.organisation import services

    user = services.user_upsert(
        username="thu", full_name="Nguyễn Thị Thu", password="Mat-khau-2026"
    )
    assert user.get_full_name() == "Nguyễn Thị Thu"
