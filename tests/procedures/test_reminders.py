"""Reminders (nhắc nhở) about late dossiers, and repeated lateness (seed 003):
a unit or officer reminded in year Y−1 and late again at least three times in
year Y."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from procedures import rules, services
from procedures.models import CaseRecord, Procedure, Reminder
from procedures.selectors import repeated_lateness, year_so_far
from tests.procedures.test_overdue import local, make_case
from tests.wording import vi

# After the end of 2025: every dossier of 2025 is judged on its dates alone.
AFTER_2025 = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def catalogue(db):
    Procedure.objects.create(code="P1", name="Cấp giấy khai sinh")


def late(unit, n=1, *, officer="", month=3):
    """``n`` dossiers of ``unit`` finished late in ``month`` of 2025."""
    return [
        make_case(
            unit,
            received=local(2025, month, 2 + i, 8),
            due=local(2025, month, 5 + i, 17),
            finished=local(2025, month, 9 + i, 9),
            officer=officer,
        )
        for i in range(n)
    ]


def on_time(unit, n=1, *, officer=""):
    return [
        make_case(
            unit,
            received=local(2025, 4, 2 + i, 8),
            due=local(2025, 4, 10 + i, 17),
            finished=local(2025, 4, 3 + i, 9),
            officer=officer,
        )
        for i in range(n)
    ]


def remind(unit, *, officer="", issued_on=date(2024, 10, 1), year=None, by=None):
    """A reminder as the service records it, by a superuser unless ``by``."""
    from django.contrib.auth.models import User

    user = (
        by
        or User.objects.get_or_create(
            username="root", defaults={"is_superuser": True, "is_staff": True}
        )[0]
    )
    return services.reminder_issue(
        user=user, unit=unit, officer=officer, issued_on=issued_on, year=year
    )


def flagged(user, year=2025, **kwargs):
    return {
        (row.unit.code, row.officer): row.late_count
        for row in repeated_lateness(year, user=user, as_of=AFTER_2025, **kwargs)
    }


# --- Repeated lateness ------------------------------------------------------------


def test_the_default_threshold_is_three():
    assert rules.REPEATED_LATENESS_THRESHOLD == 3


def test_reminded_unit_late_three_times_is_flagged_two_is_not(org, superuser):
    remind(org.commune_a)
    remind(org.commune_b)
    late(org.commune_a, 3)
    late(org.commune_b, 2)
    on_time(org.commune_b, 4)
    assert flagged(superuser) == {("CITY-A", ""): 3}


def test_the_threshold_can_be_lowered(org, superuser):
    remind(org.commune_b)
    late(org.commune_b, 2)
    assert flagged(superuser, threshold=2) == {("CITY-B", ""): 2}


def test_late_without_a_reminder_the_year_before_is_not_repeated(org, superuser):
    late(org.commune_a, 5)
    assert flagged(superuser) == {}


def test_a_reminder_in_the_same_year_does_not_count(org, superuser):
    """Reminded in 2025 about 2025: it counts for 2026, not for 2025."""
    remind(org.commune_a, issued_on=date(2025, 2, 1))
    late(org.commune_a, 4)
    assert flagged(superuser) == {}


def test_a_january_reminder_about_the_year_before_counts_for_that_year(org, superuser):
    remind(org.commune_a, issued_on=date(2025, 1, 10), year=2024)
    late(org.commune_a, 3)
    assert flagged(superuser) == {("CITY-A", ""): 3}


def test_the_row_carries_the_reminders_that_triggered_it(org, superuser):
    first = remind(org.commune_a, issued_on=date(2024, 5, 1))
    second = remind(org.commune_a, issued_on=date(2024, 11, 1))
    remind(org.commune_a, issued_on=date(2023, 5, 1))  # another year
    late(org.commune_a, 3)
    (row,) = repeated_lateness(2025, user=superuser, as_of=AFTER_2025)
    assert row.unit == org.commune_a
    assert row.officer == ""
    assert row.reminders == (first, second)


def test_an_officer_reminder_counts_only_that_officers_dossiers(org, superuser):
    """Nguyễn Văn A was reminded; the unit as a whole was not. His three late
    dossiers flag him; the fourth late dossier, another officer's, and the
    same name in another unit do not count for him."""
    late(org.commune_a, 3, officer="Nguyễn Văn A")
    remind(org.commune_a, officer="Nguyễn Văn A")
    on_time(org.commune_a, 2, officer="Nguyễn Văn A")
    late(org.commune_a, 1, officer="Trần Thị B")
    late(org.commune_b, 2, officer="Nguyễn Văn A")
    assert flagged(superuser) == {("CITY-A", "Nguyễn Văn A"): 3}


def test_an_officer_with_two_late_dossiers_in_a_unit_with_four_is_not_flagged(
    org, superuser
):
    late(org.commune_a, 2, officer="Nguyễn Văn A")
    remind(org.commune_a, officer="Nguyễn Văn A")
    remind(org.commune_a)
    late(org.commune_a, 2, officer="Trần Thị B")
    assert flagged(superuser) == {("CITY-A", ""): 4}


def test_late_is_counted_as_the_766_figures_count_it(org, superuser):
    """Withdrawn dossiers never count; more than one request for more documents
    counts late whatever the dates; a dossier of 2024 still open and overdue
    at the start of 2025 is late in 2025 too."""
    remind(org.commune_a)
    late(org.commune_a, 1)
    make_case(
        org.commune_a,
        received=local(2025, 5, 2, 8),
        due=local(2025, 5, 30, 17),
        finished=local(2025, 5, 3, 9),
        supplement_requests=2,
    )
    make_case(
        org.commune_a,
        received=local(2024, 12, 20, 8),
        due=local(2024, 12, 27, 17),
    )
    make_case(
        org.commune_a,
        received=local(2025, 5, 2, 8),
        due=local(2025, 5, 5, 17),
        status="rut_ho_so",
    )
    assert flagged(superuser) == {("CITY-A", ""): 3}


def test_the_year_is_the_local_year(org, superuser):
    """Received at 06:00 on 1 January 2025 local time, which is 23:00 UTC on 31
    December 2024: a dossier of 2025. Received, due and finished late on 31
    December 2024 local time: a dossier of 2024."""
    remind(org.commune_a)
    late(org.commune_a, 2)
    make_case(
        org.commune_a,
        received=local(2024, 12, 31, 8),
        due=local(2024, 12, 31, 17),
        finished=local(2024, 12, 31, 23, 30),
    )
    assert flagged(superuser) == {}
    new_year = make_case(
        org.commune_a,
        received=local(2025, 1, 1, 6),
        due=local(2025, 1, 2, 17),
        finished=local(2025, 1, 6, 9),
    )
    assert new_year.received_at.astimezone(UTC).day == 31  # still 2024 in UTC
    assert flagged(superuser) == {("CITY-A", ""): 3}


def test_while_the_year_runs_an_open_dossier_is_late_only_once_past_due(org, superuser):
    """On 15 June 2025 a dossier due on 30 June is not late yet; judged over
    the whole year (as the stored 766 figures are) it would be."""
    remind(org.commune_a)
    late(org.commune_a, 2)
    make_case(org.commune_a, received=local(2025, 6, 10, 8), due=local(2025, 6, 30, 17))
    mid_june = datetime(2025, 6, 15, tzinfo=UTC)
    assert repeated_lateness(2025, user=superuser, as_of=mid_june) == []
    assert flagged(superuser) == {("CITY-A", ""): 3}


def test_year_so_far():
    period = year_so_far(2025, datetime(2025, 6, 15, tzinfo=UTC))
    assert period is not None
    assert period.start == local(2025, 1, 1)
    assert period.end == datetime(2025, 6, 15, tzinfo=UTC)
    assert year_so_far(2025, AFTER_2025) == rules.Period.year(2025, period.start.tzinfo)
    assert year_so_far(2027, AFTER_2025) is None


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("commune_staff", {("CITY-A", ""): 3}),
        ("other_commune_staff", {}),
        ("department_staff", {}),
        ("city_reviewer", {("CITY-A", ""): 3}),
        ("leader", {("CITY-A", ""): 3}),
        ("no_unit_user", {}),
    ],
)
def test_repeated_lateness_is_scoped(org, request, persona, expected):
    remind(org.commune_a)
    late(org.commune_a, 3)
    assert flagged(request.getfixturevalue(persona)) == expected


def test_the_selector_costs_three_queries_whatever_the_units(
    org, superuser, django_assert_num_queries
):
    for unit in (org.commune_a, org.commune_b, org.department, org.city):
        late(unit, 3, officer="Cán bộ X")
        remind(unit)
        remind(unit, officer="Cán bộ X")
    with django_assert_num_queries(3):
        rows = repeated_lateness(2025, user=superuser, as_of=AFTER_2025)
    assert len(rows) == 8


# --- Recording and withdrawing reminders ------------------------------------------


def test_reviewer_records_a_reminder_in_the_jurisdiction(org, city_reviewer):
    reminder = services.reminder_issue(
        user=city_reviewer,
        unit=org.commune_a,
        issued_on=date(2024, 9, 12),
        reason="  Trễ hạn 12 hồ sơ quý III  ",
    )
    assert reminder.year == 2024
    assert reminder.officer == ""
    assert reminder.issued_by == city_reviewer
    assert reminder.reason == "Trễ hạn 12 hồ sơ quý III"


@pytest.mark.parametrize("persona", ["reviewer", "leader", "superuser"])
def test_reviewers_leaders_and_superusers_may_remind(org, request, persona):
    user = request.getfixturevalue(persona)
    services.reminder_issue(user=user, unit=org.department, issued_on=date(2024, 3, 1))
    assert Reminder.objects.filter(unit=org.department).count() == 1


@pytest.mark.parametrize(
    ("persona", "unit"),
    [
        ("commune_staff", "commune_a"),  # their own unit
        ("commune_head", "commune_a"),
        ("city_reviewer", "department"),  # outside the city
        ("no_unit_user", "commune_a"),
    ],
)
def test_others_may_not_remind(org, request, persona, unit):
    with pytest.raises(PermissionDenied):
        services.reminder_issue(
            user=request.getfixturevalue(persona),
            unit=getattr(org, unit),
            issued_on=date(2024, 3, 1),
        )
    assert not Reminder.objects.exists()


def test_the_officer_must_be_named_as_in_the_case_records(org, city_reviewer):
    late(org.commune_a, 1, officer="Nguyễn Văn A")
    with pytest.raises(ValidationError) as error:
        services.reminder_issue(
            user=city_reviewer,
            unit=org.commune_a,
            officer="Nguyen Van A",
            issued_on=date(2024, 3, 1),
        )
    assert "officer" in error.value.message_dict
    reminder = services.reminder_issue(
        user=city_reviewer,
        unit=org.commune_a,
        officer=" Nguyễn Văn A ",
        issued_on=date(2024, 3, 1),
    )
    assert reminder.officer == "Nguyễn Văn A"


@pytest.mark.parametrize("year", [2022, 2025])
def test_the_year_is_that_of_the_date_or_the_one_before(org, city_reviewer, year):
    with pytest.raises(ValidationError) as error:
        services.reminder_issue(
            user=city_reviewer,
            unit=org.commune_a,
            issued_on=date(2024, 1, 5),
            year=year,
        )
    assert error.value.messages == [
        vi("The year must be that of the date or the year before.")
    ]


def test_the_database_refuses_a_year_far_from_the_date(org):
    """The check constraint holds for writes that skip validation."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            unit=org.commune_a, issued_on=date(2024, 1, 5), year=2025
        )
    Reminder.objects.create(unit=org.commune_a, issued_on=date(2024, 1, 5), year=2023)
    Reminder.objects.create(unit=org.commune_a, issued_on=date(2024, 1, 6))
    assert sorted(Reminder.objects.values_list("year", flat=True)) == [2023, 2024]


def test_the_same_reminder_twice_is_refused(org, city_reviewer):
    services.reminder_issue(
        user=city_reviewer, unit=org.commune_a, issued_on=date(2024, 3, 1)
    )
    with pytest.raises(ValidationError) as error:
        services.reminder_issue(
            user=city_reviewer, unit=org.commune_a, issued_on=date(2024, 3, 1)
        )
    assert error.value.messages == [
        vi("This unit or officer already has a reminder on this date.")
    ]
    assert Reminder.objects.count() == 1


@pytest.fixture
def city_leader(org):
    """The city's chairman: rates the heads of its communes."""
    from commitments.organisation.models import Role
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username="leader.city")
    MembershipFactory(user=user, unit=org.city, role=Role.LEADER)
    return user


@pytest.mark.parametrize(
    "persona",
    [
        "commune_staff",
        "commune_head",
        # Issue 15, point 5: the leaders who rate the heads do not lift the
        # lateness cap by withdrawing a reviewer's reminder.
        "city_leader",
        "leader",
        "no_unit_user",
    ],
)
def test_only_home_affairs_withdraws_a_reminder(org, request, persona):
    reminder = remind(org.commune_a)
    with pytest.raises(PermissionDenied):
        services.reminder_withdraw(
            user=request.getfixturevalue(persona),
            reminder=reminder,
            reason="Ghi nhầm đơn vị",
        )
    reminder.refresh_from_db()
    assert reminder.withdrawn_at is None


def test_a_reviewer_outside_the_unit_may_not_withdraw(org, city_reviewer):
    reminder = remind(org.department)
    with pytest.raises(PermissionDenied):
        services.reminder_withdraw(
            user=city_reviewer, reminder=reminder, reason="Ghi nhầm đơn vị"
        )


@pytest.mark.parametrize("persona", ["city_reviewer", "reviewer", "superuser"])
def test_home_affairs_of_the_unit_withdraws_with_a_reason_kept_in_the_history(
    org, request, persona
):
    user = request.getfixturevalue(persona)
    reminder = remind(org.commune_a)
    now = datetime(2025, 3, 4, 2, 30, tzinfo=UTC)
    services.reminder_withdraw(
        user=user, reminder=reminder, reason="  Ghi nhầm đơn vị  ", now=now
    )
    # Kept, marked withdrawn with who, when and why.
    kept = Reminder.objects.get(pk=reminder.pk)
    assert (kept.withdrawn_at, kept.withdrawn_by, kept.withdrawal_reason) == (
        now,
        user,
        "Ghi nhầm đơn vị",
    )


def test_a_withdrawal_needs_a_reason(org, city_reviewer):
    reminder = remind(org.commune_a)
    with pytest.raises(ValidationError) as error:
        services.reminder_withdraw(user=city_reviewer, reminder=reminder, reason="  ")
    assert "withdrawal_reason" in error.value.message_dict
    reminder.refresh_from_db()
    assert reminder.withdrawn_at is None


def test_a_reminder_is_withdrawn_once(org, city_reviewer, reviewer):
    reminder = remind(org.commune_a)
    services.reminder_withdraw(
        user=city_reviewer,
        reminder=reminder,
        reason="Ghi nhầm đơn vị",
        now=datetime(2025, 3, 4, 2, 30, tzinfo=UTC),
    )
    with pytest.raises(ValidationError, match="04/03/2025"):
        services.reminder_withdraw(user=reviewer, reminder=reminder, reason="Lần nữa")
    reminder.refresh_from_db()
    assert (reminder.withdrawn_by, reminder.withdrawal_reason) == (
        city_reviewer,
        "Ghi nhầm đơn vị",
    )


def test_the_database_refuses_a_withdrawal_without_its_reason(org):
    reminder = remind(org.commune_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.filter(pk=reminder.pk).update(withdrawn_at=AFTER_2025)


def test_a_withdrawn_reminder_no_longer_counts_towards_repeated_lateness(
    org, superuser, city_reviewer
):
    reminder = remind(org.commune_a)
    late(org.commune_a, 3)
    assert flagged(superuser) == {("CITY-A", ""): 3}
    services.reminder_withdraw(
        user=city_reviewer, reminder=reminder, reason="Đã giải trình hợp lý"
    )
    assert flagged(superuser) == {}
    assert Reminder.objects.filter(pk=reminder.pk).exists()


def test_a_withdrawn_reminder_may_be_recorded_again_corrected(org, city_reviewer):
    first = remind(org.commune_a, issued_on=date(2024, 3, 1))
    services.reminder_withdraw(
        user=city_reviewer, reminder=first, reason="Sai năm liên quan"
    )
    again = services.reminder_issue(
        user=city_reviewer, unit=org.commune_a, issued_on=date(2024, 3, 1)
    )
    assert again.pk != first.pk
    assert Reminder.objects.filter(unit=org.commune_a).count() == 2


# --- Pages ------------------------------------------------------------------------


def test_reviewer_records_a_reminder_on_the_page(client, org, city_reviewer):
    client.force_login(city_reviewer)
    page = client.get("/reminders/")
    assert page.status_code == 200
    assert 'data-testid="reminder-form"' in page.content.decode()
    response = client.post(
        "/reminders/",
        {
            "unit": "CITY-A",
            "officer": "",
            "issued_on": "12/09/2024",
            "year": "",
            "reason": "Trễ hạn nhiều hồ sơ",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/reminders/?year=2024"
    reminder = Reminder.objects.get()
    assert (reminder.unit, reminder.issued_on, reminder.year) == (
        org.commune_a,
        date(2024, 9, 12),
        2024,
    )
    html = client.get(response["Location"]).content.decode()
    assert "Trễ hạn nhiều hồ sơ" in html
    assert "12/09/2024" in html


def test_the_form_offers_only_units_of_the_jurisdiction(client, org, city_reviewer):
    client.force_login(city_reviewer)
    response = client.post(
        "/reminders/", {"unit": "PROV-DEP", "issued_on": "12/09/2024"}
    )
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not Reminder.objects.exists()


def test_an_unknown_officer_is_explained_on_the_page(client, org, city_reviewer):
    client.force_login(city_reviewer)
    response = client.post(
        "/reminders/",
        {"unit": "CITY-A", "officer": "Ai đó", "issued_on": "12/09/2024"},
    )
    assert response.status_code == 200
    assert "officer" in response.context["form"].errors
    assert not Reminder.objects.exists()


def test_staff_read_their_units_reminders_but_may_not_add(client, org, commune_staff):
    remind(org.commune_a)
    remind(org.commune_b, issued_on=date(2024, 11, 2))
    client.force_login(commune_staff)
    page = client.get("/reminders/")
    assert page.status_code == 200
    assert page.context["form"] is None
    assert [r.unit.code for r in page.context["page"]] == ["CITY-A"]
    assert 'data-testid="reminder-delete"' not in page.content.decode()
    response = client.post("/reminders/", {"unit": "CITY-A", "issued_on": "01/03/2024"})
    assert response.status_code == 403
    assert Reminder.objects.count() == 2


def test_staff_of_another_unit_get_404_for_its_reminders(
    client, org, other_commune_staff
):
    reminder = remind(org.commune_a)
    client.force_login(other_commune_staff)
    assert client.get("/reminders/", {"unit": "CITY-A"}).status_code == 404
    assert list(client.get("/reminders/").context["page"]) == []
    response = client.post(f"/reminders/{reminder.pk}/delete/")
    assert response.status_code == 404
    assert Reminder.objects.filter(pk=reminder.pk).exists()


@pytest.mark.parametrize("persona", ["commune_staff", "city_leader"])
def test_staff_and_leaders_may_not_withdraw_on_the_page(client, org, request, persona):
    reminder = remind(org.commune_a)
    client.force_login(request.getfixturevalue(persona))
    page = client.get("/reminders/").content.decode()
    assert 'data-testid="reminder-withdraw-form"' not in page
    response = client.post(
        f"/reminders/{reminder.pk}/delete/", {"reason": "Ghi nhầm đơn vị"}
    )
    assert response.status_code == 403
    reminder.refresh_from_db()
    assert reminder.withdrawn_at is None


def test_reviewer_withdraws_a_mistaken_reminder_on_the_page(client, org, city_reviewer):
    reminder = remind(org.commune_a)
    client.force_login(city_reviewer)
    page = client.get("/reminders/").content.decode()
    assert 'data-testid="reminder-withdraw-form"' in page
    assert client.get(f"/reminders/{reminder.pk}/delete/").status_code == 405
    response = client.post(
        f"/reminders/{reminder.pk}/delete/", {"reason": "Ghi nhầm đơn vị"}
    )
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.withdrawn_by == city_reviewer
    # Still listed, marked withdrawn with who, when and why; no form any more.
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="reminder-withdrawn"' in html
    assert "Ghi nhầm đơn vị" in html
    assert timezone.localdate(reminder.withdrawn_at).strftime("%d/%m/%Y") in html
    assert 'data-testid="reminder-withdraw-form"' not in html


def test_a_withdrawal_without_a_reason_is_explained_on_the_page(
    client, org, city_reviewer
):
    reminder = remind(org.commune_a)
    client.force_login(city_reviewer)
    response = client.post(
        f"/reminders/{reminder.pk}/delete/", {"reason": ""}, follow=True
    )
    assert vi("Say why the reminder is withdrawn.") in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.withdrawn_at is None


def test_reminder_list_filters_by_year_and_unit(client, org, city_reviewer):
    remind(org.commune_a, issued_on=date(2024, 3, 1))
    remind(org.commune_a, issued_on=date(2023, 3, 1))
    remind(org.commune_b, issued_on=date(2024, 4, 1))
    client.force_login(city_reviewer)

    def shown(**params):
        page = client.get("/reminders/", params).context["page"]
        return sorted((r.unit.code, r.year) for r in page)

    assert shown(year=2024) == [("CITY-A", 2024), ("CITY-B", 2024)]
    assert shown(unit="CITY-A") == [("CITY-A", 2023), ("CITY-A", 2024)]
    assert shown(year=2024, unit="CITY-B") == [("CITY-B", 2024)]


def test_repeated_lateness_page_links_each_row_to_its_late_dossiers(
    client, org, city_reviewer, monkeypatch
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: AFTER_2025)
    remind(org.commune_a, officer="", issued_on=date(2024, 6, 1))
    late(org.commune_a, 3, officer="Nguyễn Văn A")
    remind(org.commune_a, officer="Nguyễn Văn A", issued_on=date(2024, 6, 2))
    late(org.commune_a, 1, officer="Trần Thị B")
    client.force_login(city_reviewer)

    response = client.get("/repeated-lateness/", {"year": 2025})
    assert response.status_code == 200
    rows = {(r.unit.code, r.officer): r.late_count for r in response.context["rows"]}
    assert rows == {("CITY-A", ""): 4, ("CITY-A", "Nguyễn Văn A"): 3}
    html = response.content.decode()
    link = (
        "/cases/late/?unit=CITY-A&amp;officer=Nguy%E1%BB%85n%20V%C4%83n%20A"
        "&amp;late_year=2025"
    )
    assert link in html
    assert "01/06/2024" in html  # the reminder behind the flag

    listed = client.get(link.replace("&amp;", "&"))
    assert listed.context["page"].paginator.count == 3
    unit_list = client.get("/cases/late/", {"unit": "CITY-A", "late_year": 2025})
    assert unit_list.context["page"].paginator.count == 4


def test_repeated_lateness_page_defaults_to_this_year(client, org, leader, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: AFTER_2025)
    client.force_login(leader)
    response = client.get("/repeated-lateness/")
    assert response.status_code == 200
    assert response.context["year"] == 2026
    assert response.context["threshold"] == 3


@pytest.mark.parametrize(
    "params",
    [{"year": "abc"}, {"year": "1900"}, {"threshold": "0"}, {"threshold": "x"}],
)
def test_repeated_lateness_page_refuses_nonsense(client, org, leader, params):
    client.force_login(leader)
    assert client.get("/repeated-lateness/", params).status_code == 404


def test_staff_of_another_unit_see_no_row(client, org, other_commune_staff):
    remind(org.commune_a)
    late(org.commune_a, 3)
    client.force_login(other_commune_staff)
    response = client.get("/repeated-lateness/", {"year": 2025})
    assert response.status_code == 200
    assert response.context["rows"] == []


@pytest.mark.parametrize(
    ("persona", "keys"),
    [
        ("commune_staff", {"late_cases"}),
        ("city_reviewer", {"late_cases", "reminders", "repeated_lateness"}),
        ("leader", {"late_cases", "reminders", "repeated_lateness"}),
        ("superuser", {"late_cases", "reminders", "repeated_lateness"}),
    ],
)
def test_the_menu(client, org, request, persona, keys):
    client.force_login(request.getfixturevalue(persona))
    nav = {item.key for item in client.get("/reminders/").context["nav_items"]}
    assert nav & {"late_cases", "reminders", "repeated_lateness"} == keys


def test_admin_lists_reminders_and_records_who_issued_one(client, org, superuser):
    client.force_login(superuser)
    assert client.get("/admin/procedures/reminder/").status_code == 200
    response = client.post(
        "/admin/procedures/reminder/add/",
        {
            "unit": org.commune_a.pk,
            "officer": "",
            "issued_on": "01/03/2024",
            "year": "",
            "reason": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].errors
    reminder = Reminder.objects.get()
    assert reminder.issued_by == superuser
    assert reminder.year == 2024
    assert CaseRecord.objects.count() == 0


def test_the_administration_never_deletes_a_reminder_nor_writes_its_withdrawal(
    client, org, superuser
):
    """A reminder leaves the count only by withdrawal on the page, with a
    reason; the administration cannot delete one or forge a withdrawal."""
    from django.contrib import admin as django_admin

    reminder = Reminder.objects.create(
        unit=org.commune_a, issued_on=date(2024, 1, 5), year=2023
    )
    model_admin = django_admin.site._registry[Reminder]
    client.force_login(superuser)
    response = client.post(
        f"/admin/procedures/reminder/{reminder.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Reminder.objects.filter(pk=reminder.pk).exists()
    assert {"withdrawn_at", "withdrawn_by", "withdrawal_reason"} <= set(
        model_admin.get_readonly_fields(None, reminder)
    )
