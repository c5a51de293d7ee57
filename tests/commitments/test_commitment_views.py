"""The commitment pages through the test client: who sees which, the sign
form's warnings and errors, drafting from a template, targets across units."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import Commitment, CommitmentState, CommitmentTemplate
from tests.commitments.helpers import month, scan, signed
from tests.factories import HeadFactory, UnitFactory


@pytest.fixture
def head_a(org):
    return HeadFactory(unit=org.commune_a, full_name="Trần Thị Hoa")


@pytest.fixture
def current(org, head_a):
    year = date.today().year
    return signed(org.commune_a, year, head_a, [("dung-han", "100", None)])


def login(client, user):
    client.force_login(user)
    return client


def test_the_list_and_the_page_are_scoped(
    client, org, current, commune_staff, other_commune_staff, city_reviewer
):
    login(client, commune_staff)
    listed = client.get(reverse("commitment_list"))
    assert listed.status_code == 200
    assert "Trần Thị Hoa" in listed.content.decode()
    assert client.get(current.get_absolute_url()).status_code == 200
    client.logout()
    login(client, other_commune_staff)
    assert client.get(current.get_absolute_url()).status_code == 404
    assert client.get(reverse("commitment_pdf", args=[current.pk])).status_code == 404
    assert "Trần Thị Hoa" not in client.get(reverse("commitment_list")).content.decode()
    client.logout()
    login(client, city_reviewer)
    assert client.get(current.get_absolute_url()).status_code == 200


def test_anonymous_is_sent_to_log_in(client, current):
    response = client.get(current.get_absolute_url())
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_unit_page_shows_this_years_targets(client, org, current, commune_staff):
    month(org.commune_a, current.year, 1, received=10, on_time=9)
    login(client, commune_staff)
    page = client.get(org.commune_a.get_absolute_url()).content.decode()
    assert 'data-testid="unit-target-row" data-indicator="dung-han"' in page
    assert 'data-progress="at_risk"' in page


def test_signing_through_the_page_asks_to_confirm_targets_below_last_year(
    client, org, reviewer, head_a, commune_head
):
    year = date.today().year
    template = CommitmentTemplate.objects.get(unit_kind="commune")
    from commitments.services import commitments_create

    commitments_create(
        year=year, template=template, units=[org.commune_a], user=reviewer
    )
    commitment = Commitment.objects.get(unit=org.commune_a, year=year)
    for number in range(1, 13):
        month(org.commune_a, year - 1, number, received=10, on_time=10, digitized=9)
    login(client, commune_head)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert 'data-testid="below-last-year-item"' in page
    url = reverse("commitment_sign", args=[commitment.pk])
    signed_on = date.today().strftime("%d/%m/%Y")
    refused = client.post(url, {"signed_on": signed_on, "scan": scan()})
    assert refused.status_code == 400
    assert 'data-testid="error-acknowledge"' in refused.content.decode()
    bad_date = client.post(
        url, {"signed_on": "31/02/2026", "scan": scan(), "acknowledge": "on"}
    )
    assert 'data-testid="error-signed_on"' in bad_date.content.decode()
    done = client.post(
        url, {"signed_on": signed_on, "scan": scan(), "acknowledge": "on"}
    )
    assert done.status_code == 302
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.SIGNED
    assert commitment.head == head_a
    scan_response = client.get(reverse("commitment_scan", args=[commitment.pk]))
    assert b"".join(scan_response.streaming_content).startswith(b"%PDF")


def test_signing_is_refused_to_another_units_people(
    client, org, reviewer, other_commune_staff, head_a
):
    year = date.today().year
    template = CommitmentTemplate.objects.get(unit_kind="commune")
    from commitments.services import commitments_create

    commitments_create(
        year=year, template=template, units=[org.commune_a], user=reviewer
    )
    commitment = Commitment.objects.get(unit=org.commune_a, year=year)
    login(client, other_commune_staff)
    response = client.post(
        reverse("commitment_sign", args=[commitment.pk]),
        {"signed_on": "01/01/2026", "scan": scan()},
    )
    assert response.status_code == 404


def test_drafting_from_a_template_page(client, org, city_reviewer, commune_staff):
    year = date.today().year
    template = CommitmentTemplate.objects.get(unit_kind="commune")
    login(client, commune_staff)
    assert client.get(reverse("commitment_create")).status_code == 403
    client.logout()
    login(client, city_reviewer)
    form = client.get(
        reverse("commitment_create"), {"template": template.pk, "year": year}
    )
    assert "Phường A" in form.content.decode()
    done = client.post(
        reverse("commitment_create"),
        {
            "template": template.pk,
            "year": year,
            "units": [org.commune_a.pk, org.commune_b.pk],
        },
    )
    assert done.status_code == 200
    assert 'data-testid="create-report"' in done.content.decode()
    assert Commitment.objects.filter(year=year).count() == 2


def test_targets_across_units_for_reviewers_only(
    client, org, current, city_reviewer, commune_staff
):
    month(org.commune_a, current.year, 1, received=10, on_time=9)
    login(client, commune_staff)
    assert client.get(reverse("target_progress")).status_code == 404
    client.logout()
    login(client, city_reviewer)
    page = client.get(
        reverse("target_progress"), {"progress": "at_risk"}
    ).content.decode()
    assert (
        'data-unit="CITY-A" data-indicator="dung-han" data-progress="at_risk"' in page
    )


def test_a_manual_value_is_reported_and_checked_through_the_pages(
    client, org, head_a, commune_staff, city_reviewer
):
    commitment = signed(
        org.commune_a, date.today().year, head_a, [("nhiem-vu", "100", None)]
    )
    target = commitment.targets.get()
    login(client, commune_staff)
    url = reverse("target_report", args=[commitment.pk, target.pk])
    assert client.post(url, {"value": "150", "note": ""}).status_code == 400
    assert client.post(url, {"value": "100", "note": "20/20"}).status_code == 302
    assert (
        client.get(reverse("target_check", args=[commitment.pk, target.pk])).status_code
        == 403
    )
    client.logout()
    login(client, city_reviewer)
    check = reverse("target_check", args=[commitment.pk, target.pk])
    refused = client.post(check, {"decision": "reject", "note": ""})
    assert 'data-testid="error-note"' in refused.content.decode()
    assert client.post(check, {"decision": "accept", "note": ""}).status_code == 302
    target.refresh_from_db()
    assert target.check_state == "accepted"


def test_the_history_writes_target_values_as_the_language_does(
    client, current, commune_staff
):
    """A target of 100 (two decimals stored) reads "≥ 100,00" in Vietnamese
    and "≥ 100.00" in English."""
    login(client, commune_staff)
    page = client.get(current.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="vi")
    rows = [
        line for line in page.content.decode().splitlines() if "history-row" in line
    ]
    assert "≥ 100,00" in "".join(rows)
    client.cookies["django_language"] = "en"
    page = client.get(current.get_absolute_url())
    rows = [
        line for line in page.content.decode().splitlines() if "history-row" in line
    ]
    assert "≥ 100.00" in "".join(rows)


def _progress_rows(page: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'data-testid="progress-row" data-unit="([^"]+)" '
        r'data-indicator="([^"]+)" data-progress="([^"]+)"',
        page,
    )


def test_targets_across_units_cost_the_same_queries_for_one_unit_or_many(
    client, org, current, city_reviewer, django_assert_max_num_queries
):
    """The page reads every target's progress in a fixed number of queries:
    the figures of all units are combined by one query, not per unit."""
    month(org.commune_a, current.year, 1, received=10, on_time=9)
    login(client, city_reviewer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("target_progress")).status_code == 200
    one = len(queries)
    for n in range(20):
        unit = UnitFactory(code=f"CITY-N{n:02d}", parent=org.city)
        for number in (1, 2):
            month(unit, current.year, number, received=10, on_time=10 - n % 3)
        signed(
            unit,
            current.year,
            HeadFactory(unit=unit),
            [("dung-han", "95", None), ("nhiem-vu", "100", None)],
        )
    with django_assert_max_num_queries(one):
        page = client.get(reverse("target_progress")).content.decode()
    assert len(_progress_rows(page)) == 41


def test_targets_across_units_are_paged_at_risk_first_and_counted_whole(
    client, org, head_a, city_reviewer
):
    """A hundred targets a page, those at risk first then by unit; the tally
    counts every target of the year, and the chosen progress keeps to the
    following pages."""
    year = date.today().year
    signed(org.commune_a, year, head_a, [("dung-han", "100", None)])
    month(org.commune_a, year, 1, received=10, on_time=9)
    for n in range(160):
        unit = UnitFactory(code=f"CITY-N{n:03d}", parent=org.city)
        month(unit, year, 1, received=10, on_time=8 if n % 4 == 0 else 10)
        signed(unit, year, HeadFactory(unit=unit), [("dung-han", "90", None)])
    login(client, city_reviewer)
    url = reverse("target_progress")
    page = client.get(url).content.decode()
    rows = _progress_rows(page)
    assert [state for *_, state in rows] == ["at_risk"] * 41 + ["on_track"] * 59
    assert rows[0][0] == "CITY-A"
    at_risk = [unit for unit, _code, state in rows if state == "at_risk"]
    assert at_risk[1:] == [f"CITY-N{n:03d}" for n in range(0, 160, 4)]
    assert 'data-testid="tally-at-risk">41' in page
    rest = _progress_rows(client.get(url, {"page": 2}).content.decode())
    assert [state for *_, state in rest] == ["on_track"] * 61
    assert {unit for unit, *_ in rows} & {unit for unit, *_ in rest} == set()
    on_track = client.get(url, {"progress": "on_track"}).content.decode()
    assert len(_progress_rows(on_track)) == 100
    assert "progress=on_track&amp;page=2" in on_track
    assert 'data-testid="tally-at-risk">41' in on_track
    second = client.get(url, {"progress": "on_track", "page": 2}).content.decode()
    assert [state for *_, state in _progress_rows(second)] == ["on_track"] * 20
