"""The accountability and rating pages: scoped lists, the forms of each
step for the right person only, errors on the field."""

from datetime import date

import pytest
from django.urls import reverse

from scoring.accountability import services as accountability
from scoring.models import AccountabilityCase, AccountabilityState, HeadRating
from tests.scoring.accountability.test_services import AFTER, NOW, two_bad_years
from tests.wording import vi


@pytest.fixture
def case(org, heads, monkeypatch):
    # Both communes have an approved result of tier C.
    monkeypatch.setattr(
        accountability,
        "tiers_of",
        lambda year: {org.commune_a.pk: "C", org.commune_b.pk: "C"},
    )
    two_bad_years(org, heads)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    return AccountabilityCase.objects.get()


def login(client, user):
    client.force_login(user)


def test_the_list_is_scoped(client, case, commune_staff, other_commune_staff):
    login(client, commune_staff)
    assert (
        'data-unit="CITY-A"'
        in client.get(reverse("accountability_list")).content.decode()
    )
    assert client.get(case.get_absolute_url()).status_code == 200
    client.logout()
    login(client, other_commune_staff)
    assert (
        'data-unit="CITY-A"'
        not in client.get(reverse("accountability_list")).content.decode()
    )
    assert client.get(case.get_absolute_url()).status_code == 404


def test_the_head_explains_and_the_leader_decides_through_the_pages(
    client, case, head_user, city_leader, commune_staff
):
    login(client, commune_staff)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Nguyễn Văn Cũ" in page
    assert "Trần Thị Mới" in page
    assert 'data-testid="explain-form"' not in page
    assert (
        client.post(
            reverse("accountability_explain", args=[case.pk]), {"explanation": "x"}
        ).status_code
        == 403
    )
    client.logout()
    login(client, head_user)
    empty = client.post(
        reverse("accountability_explain", args=[case.pk]), {"explanation": ""}
    )
    assert 'data-testid="error-explanation"' in empty.content.decode()
    sent = client.post(
        reverse("accountability_explain", args=[case.pk]),
        {"explanation": "Hệ thống gián đoạn."},
    )
    assert sent.status_code == 302
    client.logout()
    login(client, city_leader)
    decide = reverse("accountability_decide", args=[case.pk])
    no_ground = client.post(decide, {"decision": "mitigated", "reason": "Khách quan"})
    assert 'data-testid="error-ground"' in no_ground.content.decode()
    done = client.post(
        decide, {"decision": "mitigated", "ground": "objective", "reason": "Khách quan"}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.state == AccountabilityState.DECIDED
    page = client.get(case.get_absolute_url()).content.decode()
    assert page.count('data-testid="case-step"') == 3


def test_ratings_page_and_form_for_the_level_above(
    client, case, city_leader, commune_staff, head_user
):
    rating = HeadRating.objects.get(unit__code="CITY-A", year=2025)
    login(client, commune_staff)
    assert (
        'data-testid="rating-row"'
        not in client.get(reverse("rating_list")).content.decode()
    )
    client.logout()
    login(client, head_user)
    page = client.get(reverse("rating_list"), {"year": 2025}).content.decode()
    assert 'data-testid="rating-row"' in page
    assert 'data-testid="rate-form"' not in page
    assert (
        client.post(
            reverse("rating_decide", args=[rating.pk]), {f"r{rating.pk}-level": 1}
        ).status_code
        == 403
    )
    client.logout()
    login(client, city_leader)
    page = client.get(reverse("rating_list"), {"year": 2025}).content.decode()
    assert 'data-testid="rate-form"' in page
    client.post(
        reverse("rating_decide", args=[rating.pk]),
        {f"r{rating.pk}-level": rating.proposed, f"r{rating.pk}-reason": ""},
    )
    rating.refresh_from_db()
    assert rating.final == rating.proposed
    assert date.today() >= rating.rated_at.date()


def test_a_refused_rating_is_shown_at_its_row_with_what_was_typed(
    client, case, city_leader
):
    """A rating other than the proposal without a reason: the page comes back
    (400) with the error in the rating's row, the chosen level kept, the
    reason box labelled and focused, and the filters of the list kept."""
    rating = HeadRating.objects.get(unit__code="CITY-A", year=2025)
    other = next(level for level in (1, 2, 3, 4) if level != rating.proposed)
    login(client, city_leader)
    page = client.get(reverse("rating_list"), {"year": 2025}).content.decode()
    reason_id = f"id_r{rating.pk}-reason"
    assert f'<label for="{reason_id}">' in page
    assert f'<label for="id_r{rating.pk}-level">' in page
    answer = client.post(
        reverse("rating_decide", args=[rating.pk]),
        {
            f"r{rating.pk}-level": other,
            f"r{rating.pk}-reason": "",
            "next": f"{reverse('rating_list')}?year=2025&undecided=1",
        },
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    row = html[html.index(f'id="rating-{rating.pk}"') :]
    row = row[: row.index("</tr>")]
    wanted = vi("A rating other than the proposal needs a reason.")
    assert 'data-testid="rate-errors"' in row
    assert wanted in row
    assert f'<option value="{other}" selected>' in row
    assert 'aria-invalid="true"' in row
    assert "autofocus" in row
    # The list's filters stay as they were.
    assert 'name="undecided" value="1" checked' in html
    assert wanted not in html[: html.index('data-testid="rating-table"')]
    rating.refresh_from_db()
    assert rating.final is None


def test_a_recorded_rating_goes_back_to_the_list_as_it_was_filtered(
    client, case, city_leader
):
    rating = HeadRating.objects.get(unit__code="CITY-A", year=2025)
    login(client, city_leader)
    answer = client.post(
        reverse("rating_decide", args=[rating.pk]),
        {
            f"r{rating.pk}-level": rating.proposed,
            "next": f"{reverse('rating_list')}?year=2025&flagged=1",
        },
    )
    assert answer.status_code == 302
    assert answer["Location"] == (
        f"{reverse('rating_list')}?year=2025&flagged=1#rating-{rating.pk}"
    )
    # Somewhere else than the list is not followed.
    rating.final = None
    rating.save()
    answer = client.post(
        reverse("rating_decide", args=[rating.pk]),
        {f"r{rating.pk}-level": rating.proposed, "next": "https://example.org/"},
    )
    assert answer["Location"] == (
        f"{reverse('rating_list')}?year=2025#rating-{rating.pk}"
    )


def test_the_leader_confirms_the_proposals_of_the_page_at_once(
    client, case, city_leader, leader, org, heads
):
    # Commune B's head is rated as well in 2025.
    ratings = HeadRating.objects.filter(year=2025)
    assert ratings.count() == 2
    login(client, leader)
    page = client.get(reverse("rating_list"), {"year": 2025}).content.decode()
    # The province's chairman rates no commune head: nothing to confirm.
    assert 'data-testid="confirm-all-form"' not in page
    client.post(
        reverse("ratings_confirm"),
        {"year": 2025, "rating": [r.pk for r in ratings]},
    )
    assert not ratings.filter(final__isnull=False).exists()
    client.logout()
    login(client, city_leader)
    page = client.get(reverse("rating_list"), {"year": 2025}).content.decode()
    assert 'data-testid="confirm-all-form"' in page
    client.post(
        reverse("ratings_confirm"),
        {"year": 2025, "rating": [r.pk for r in ratings]},
    )
    for rating in HeadRating.objects.filter(year=2025):
        assert rating.final == rating.proposed
        assert rating.rated_by == city_leader
