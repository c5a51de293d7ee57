"""Issue 15, points 2 and 5: a leader's decision on a head's rating never
jams the year's computation. A later run (an approved deduction, a
withdrawn reminder, corrected figures) records its new proposal beside the
decision, which stands as taken, and tells the leader who decided, once per
change. Only Home Affairs withdraws a reminder, and only reminders in force
cap a rating."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from procedures import services as reminder_services
from procedures.models import Procedure
from scoring.accountability import services as accountability
from scoring.models import (
    HeadRating,
    Notice,
    RatingLevel,
    RunState,
    Score,
)
from scoring.results import computation
from tests.commitments.helpers import signed
from tests.procedures.test_overdue import local, make_case
from tests.scoring.accountability.test_services import good_year
from tests.scoring.results_helpers import GOOD, on_time, record, result_of, scored
from tests.wording import vi, vi_label


@pytest.fixture
def rated_year(year, org, heads):
    """Commune A, 2025: every target met and exceeded, 8.50 of 10 points
    (tier B): proposed "completed well". A harassment complaint (-1) would
    bring it to tier C, "completed"."""
    scored(year, org.commune_a, GOOD)
    on_time(org.commune_a, 2025, 50, 50)
    good_year(org.commune_a, 2025)
    signed(org.commune_a, 2025, heads["new"], [("dung-han", "90", None)])
    run = computation.compute_now(2025)
    assert run.state == RunState.SUCCEEDED
    rating = HeadRating.objects.get(unit=org.commune_a, year=2025)
    assert (rating.proposed, rating.basis["tier"]) == (RatingLevel.GOOD, "B")
    return year


def rating_of(org) -> HeadRating:
    return HeadRating.objects.get(unit=org.commune_a, year=2025)


def changed_notices(user) -> list[Notice]:
    return list(Notice.objects.filter(user=user, url__startswith="/ratings/"))


def test_a_run_after_a_confirmed_rating_succeeds_and_the_decision_stands(
    rated_year, org, city_leader
):
    """The issue's sequence: confirmed as proposed, then an approved
    deduction changes the proposal; every later run used to fail on
    head_rating_change_has_reason."""
    accountability.ratings_confirm(user=city_leader, year=2025, ids=[rating_of(org).pk])
    deduction = record(rated_year, org.commune_a, "harassment_complaint")

    first = computation.compute_now(2025)
    again = computation.compute_now(2025)

    assert (first.state, again.state) == (RunState.SUCCEEDED, RunState.SUCCEEDED)
    result = result_of(org.commune_a)
    assert [entry["id"] for entry in result.detail["adjustments"]] == [deduction.pk]
    assert result.tier == "C"
    rating = rating_of(org)
    assert (rating.final, rating.decided_proposal, rating.proposed) == (
        RatingLevel.GOOD,
        RatingLevel.GOOD,
        RatingLevel.COMPLETED,
    )
    assert rating.reason == ""
    assert rating.rated_by == city_leader
    assert rating.proposal_changed


def test_a_rating_changed_with_a_reason_also_stands(rated_year, org, city_leader):
    accountability.rating_decide(
        rating=rating_of(org),
        user=city_leader,
        level=RatingLevel.EXCELLENT,
        reason="Dẫn đầu chuyển đổi số của thành phố.",
    )
    record(rated_year, org.commune_a, "harassment_complaint")

    assert computation.compute_now(2025).state == RunState.SUCCEEDED
    rating = rating_of(org)
    assert (rating.final, rating.decided_proposal, rating.proposed) == (
        RatingLevel.EXCELLENT,
        RatingLevel.GOOD,
        RatingLevel.COMPLETED,
    )


def test_the_deciding_leader_is_told_once_per_change_of_the_proposal(
    rated_year, org, city_leader, leader
):
    accountability.ratings_confirm(user=city_leader, year=2025, ids=[rating_of(org).pk])
    computation.compute_now(2025)
    assert changed_notices(city_leader) == []

    record(rated_year, org.commune_a, "harassment_complaint")
    computation.compute_now(2025)
    computation.compute_now(2025)

    [notice] = changed_notices(city_leader)
    rating = rating_of(org)
    assert notice.url == f"/ratings/?year=2025#rating-{rating.pk}"
    # In the portal's language, with both proposals and the decision.
    assert "Trần Thị Mới" in notice.subject
    assert "Phường A" in notice.subject
    changed = vi(
        "Proposed when you decided: %(decided)s. Proposed before this computation: "
        "%(before)s. Proposed now: %(after)s. Your rating, %(final)s, stands until "
        "you rate again."
    )
    good = vi_label(RatingLevel.GOOD.label)
    completed = vi_label(RatingLevel.COMPLETED.label)
    assert notice.body == changed % {
        "decided": good,
        "before": good,
        "after": completed,
        "final": good,
    }
    # Nobody else is told: the leader above the city did not decide.
    assert changed_notices(leader) == []

    # Another change (the appraisal of a leaf lowered): a second notice.
    Score.objects.filter(assessment__unit=org.commune_a, node__code="1.1.2").update(
        appraised_score=0
    )
    computation.compute_now(2025)
    assert len(changed_notices(city_leader)) == 2
    assert rating_of(org).proposed == RatingLevel.NOT_COMPLETED


def test_rating_again_decides_on_the_current_proposal(rated_year, org, city_leader):
    accountability.ratings_confirm(user=city_leader, year=2025, ids=[rating_of(org).pk])
    record(rated_year, org.commune_a, "harassment_complaint")
    computation.compute_now(2025)

    accountability.rating_decide(
        rating=rating_of(org), user=city_leader, level=RatingLevel.COMPLETED, reason=""
    )

    rating = rating_of(org)
    assert (rating.final, rating.decided_proposal) == (
        RatingLevel.COMPLETED,
        RatingLevel.COMPLETED,
    )
    assert not rating.proposal_changed


def test_the_database_checks_a_change_against_the_proposal_decided_on(
    rated_year, org, city_leader
):
    rating = rating_of(org)
    ratings = HeadRating.objects.filter(pk=rating.pk)
    # A final other than the proposal decided on, without a reason.
    with pytest.raises(IntegrityError), transaction.atomic():
        ratings.update(
            final=RatingLevel.EXCELLENT, decided_proposal=RatingLevel.GOOD, reason=""
        )
    # A decision that does not say what it was decided on.
    with pytest.raises(IntegrityError), transaction.atomic():
        ratings.update(final=RatingLevel.GOOD, decided_proposal=None)
    # The proposal itself moves freely under a decision.
    ratings.update(final=RatingLevel.GOOD, decided_proposal=RatingLevel.GOOD)
    ratings.update(proposed=RatingLevel.NOT_COMPLETED)


@pytest.fixture
def capped_year(rated_year, org, city_reviewer):
    """Commune A was reminded in 2024 and was late three times in 2025: its
    head is proposed at most "completed" (seed 003)."""
    Procedure.objects.get_or_create(code="P1")
    reminder = reminder_services.reminder_issue(
        user=city_reviewer,
        unit=org.commune_a,
        issued_on=date(2024, 10, 1),
        reason="Trễ hẹn nhiều hồ sơ quý III",
    )
    for day in range(3):
        make_case(
            org.commune_a,
            received=local(2025, 3, 2 + day, 8),
            due=local(2025, 3, 5 + day, 17),
            finished=local(2025, 3, 9 + day, 9),
        )
    computation.compute_now(2025)
    rating = rating_of(org)
    assert (rating.proposed, rating.basis["capped"]) == (RatingLevel.COMPLETED, True)
    return reminder


def test_the_leader_who_rates_may_not_lift_the_cap_by_withdrawing_the_reminder(
    capped_year, org, city_leader
):
    with pytest.raises(PermissionDenied):
        reminder_services.reminder_withdraw(
            user=city_leader, reminder=capped_year, reason="Đơn vị đã khắc phục"
        )
    computation.compute_now(2025)
    assert rating_of(org).basis["capped"] is True


def test_a_reminder_withdrawn_by_home_affairs_lifts_the_cap_beside_the_decision(
    capped_year, org, city_leader, city_reviewer
):
    accountability.ratings_confirm(user=city_leader, year=2025, ids=[rating_of(org).pk])
    reminder_services.reminder_withdraw(
        user=city_reviewer, reminder=capped_year, reason="Ghi nhầm năm liên quan"
    )

    run = computation.compute_now(2025)

    assert run.state == RunState.SUCCEEDED
    rating = rating_of(org)
    assert (rating.final, rating.decided_proposal, rating.proposed) == (
        RatingLevel.COMPLETED,
        RatingLevel.COMPLETED,
        RatingLevel.GOOD,
    )
    assert rating.basis["capped"] is False
    assert len(changed_notices(city_leader)) == 1


def test_the_ratings_page_and_the_api_show_both_proposals(
    client, rated_year, org, city_leader
):
    accountability.ratings_confirm(user=city_leader, year=2025, ids=[rating_of(org).pk])
    record(rated_year, org.commune_a, "harassment_complaint")
    computation.compute_now(2025)
    rating = rating_of(org)
    client.force_login(city_leader)

    page = client.get(reverse("rating_list"), {"year": 2025}).content.decode()
    changed = client.get(
        reverse("rating_list"), {"year": 2025, "changed": "1"}
    ).content.decode()
    body = client.get(f"/api/v1/head-ratings/{rating.pk}/").json()
    listed = client.get("/api/v1/head-ratings/", {"proposal_changed": "true"}).json()

    assert 'data-testid="rating-proposal-changed"' in page
    assert f'data-decided="{RatingLevel.GOOD}"' in page
    assert f'data-proposed="{RatingLevel.COMPLETED}"' in page
    assert 'data-testid="rating-row"' in changed
    assert body["proposed"]["value"] == RatingLevel.COMPLETED
    assert body["decided_proposal"]["value"] == RatingLevel.GOOD
    assert body["final"]["value"] == RatingLevel.GOOD
    assert body["proposal_changed"] is True
    assert [row["id"] for row in listed["results"]] == [rating.pk]


def test_an_undecided_rating_has_no_decided_proposal_over_the_api(
    client, rated_year, org, city_leader
):
    rating = rating_of(org)
    client.force_login(city_leader)
    body = client.get(f"/api/v1/head-ratings/{rating.pk}/").json()
    unchanged = client.get("/api/v1/head-ratings/", {"proposal_changed": "true"})
    assert (body["decided_proposal"], body["proposal_changed"]) == (None, False)
    assert unchanged.json()["results"] == []
