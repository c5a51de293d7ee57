"""Issue 17, items 4, 6, 7 and 8, through the evaluation of a real year: no
proposal without the index result, a rating for each head who held the post
six months, the 1 July 2025 merger (a dissolved ward has no case, its
successor exactly one), and "not completed" twice reaching the leader who
rates the head, on the dashboard too."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from commitments.organisation.models import Role, UnitKind
from scoring.accountability import services as accountability
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    HeadRating,
    Notice,
    RatingLevel,
)
from tests.commitments.helpers import signed
from tests.factories import HeadFactory, MembershipFactory, UnitFactory, UserFactory
from tests.scoring.accountability.test_services import good_year

NOW = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)
AFTER = date(2026, 2, 1)
ON_TIME = [("dung-han", "90", None)]


def tiers(monkeypatch, found):
    monkeypatch.setattr(accountability, "tiers_of", lambda year: found)


# --- item 4: no index result, no proposal ---


def test_a_commune_without_an_index_result_gets_no_proposal_and_the_reason(
    org, heads, city_leader, leader
):
    """Every target met and exceeded, no PAR result: nothing is proposed."""
    office = UnitFactory(
        code="CITY-TP", name="Phòng Tư pháp", kind=UnitKind.OFFICE, parent=org.city
    )
    office_head = HeadFactory(unit=office, full_name="Vũ Văn Phòng")
    for unit, head in ((org.commune_a, heads["new"]), (office, office_head)):
        good_year(unit, 2025)
        signed(unit, 2025, head, ON_TIME)

    accountability.evaluate_year(2025, now=NOW, today=AFTER)

    commune = HeadRating.objects.get(unit=org.commune_a)
    assert (commune.proposed, commune.basis["no_result"]) == (None, True)
    assert (commune.basis["met"], commune.basis["exceeded"]) == (1, 1)
    with translation.override("vi"):
        assert commune.no_proposal_reason == "Chưa có kết quả Chỉ số CCHC năm 2025"
    # The office has no index: rated on its targets.
    assert HeadRating.objects.get(unit=office).proposed == RatingLevel.EXCELLENT

    # Nothing to confirm: "confirm as proposed" leaves it to the leader.
    assert (
        accountability.ratings_confirm(user=city_leader, year=2025, ids=[commune.pk])
        == 0
    )
    with pytest.raises(ValidationError) as no_reason:
        accountability.rating_decide(
            rating=commune, user=city_leader, level=RatingLevel.GOOD, reason=""
        )
    assert "reason" in no_reason.value.message_dict
    decided = accountability.rating_decide(
        rating=commune,
        user=city_leader,
        level=RatingLevel.GOOD,
        reason="Đạt mọi chỉ tiêu; Chỉ số chưa công bố.",
    )
    assert (decided.final, decided.decided_proposal) == (RatingLevel.GOOD, None)
    assert not decided.proposal_changed

    page = _client(city_leader).get(
        reverse("rating_list") + "?year=2025", HTTP_ACCEPT_LANGUAGE="vi"
    )
    assert "Chưa có kết quả Chỉ số CCHC năm 2025" in page.content.decode()
    body = _client(leader).get(
        reverse("scoring_api:head-rating-detail", args=[commune.pk]),
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert body.status_code == 200
    assert body.json()["proposed"] is None
    assert body.json()["no_proposal_reason"] == "Chưa có kết quả Chỉ số CCHC năm 2025"
    assert body.json()["basis"]["no_result"] is True


def test_a_result_published_after_a_decision_shows_as_a_changed_proposal(
    org, heads, city_leader, monkeypatch
):
    good_year(org.commune_a, 2025)
    signed(org.commune_a, 2025, heads["new"], ON_TIME)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    rating = HeadRating.objects.get()
    accountability.rating_decide(
        rating=rating, user=city_leader, level=RatingLevel.GOOD, reason="Tạm xếp."
    )
    tiers(monkeypatch, {org.commune_a.pk: "A"})

    accountability.evaluate_year(2025, now=NOW, today=AFTER)

    rating.refresh_from_db()
    assert (rating.final, rating.decided_proposal, rating.proposed) == (
        RatingLevel.GOOD,
        None,
        RatingLevel.EXCELLENT,
    )
    assert rating.proposal_changed
    changed = accountability.ratings_proposal_changed(HeadRating.objects.all())
    assert list(changed) == [rating]
    [notice] = Notice.objects.filter(user=city_leader, url__startswith="/ratings/")
    assert "không đề xuất" in notice.body


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- item 6: each head who held the post six months ---


def change_of_head(org, on):
    """Commune B's head left the day before ``on``; the new one came that day."""
    old = HeadFactory(
        unit=org.commune_b,
        full_name="Lê Văn Đi",
        tenure_from=date(2019, 5, 1),
        tenure_to=date.fromordinal(on.toordinal() - 1),
    )
    new = HeadFactory(unit=org.commune_b, full_name="Phan Thị Đến", tenure_from=on)
    good_year(org.commune_b, 2025)
    signed(org.commune_b, 2025, old, ON_TIME)
    return old, new


def test_both_heads_are_rated_when_the_head_changes_on_1_july(org, monkeypatch):
    tiers(monkeypatch, {org.commune_b.pk: "B"})
    old, new = change_of_head(org, date(2025, 7, 1))

    accountability.evaluate_year(2025, now=NOW, today=AFTER)

    rated = HeadRating.objects.filter(unit=org.commune_b, year=2025).order_by("pk")
    assert [(r.head, r.proposed) for r in rated] == [
        (old, RatingLevel.GOOD),
        (new, RatingLevel.GOOD),
    ]
    assert rated[0].basis == rated[1].basis
    # Idempotent.
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert HeadRating.objects.filter(unit=org.commune_b).count() == 2


def test_a_head_in_the_post_under_six_months_is_not_rated(org, monkeypatch):
    """The signer left on 30 September: only they are rated; the successor
    held three months."""
    tiers(monkeypatch, {org.commune_b.pk: "B"})
    old, _new = change_of_head(org, date(2025, 10, 1))

    accountability.evaluate_year(2025, now=NOW, today=AFTER)

    assert [r.head for r in HeadRating.objects.filter(unit=org.commune_b)] == [old]


def test_each_head_is_decided_and_flagged_apart(org, city_leader, monkeypatch):
    tiers(monkeypatch, {org.commune_b.pk: "B"})
    old, new = change_of_head(org, date(2025, 7, 1))
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    first = HeadRating.objects.get(head=old)

    accountability.rating_decide(
        rating=first,
        user=city_leader,
        level=RatingLevel.COMPLETED,
        reason="Nửa năm đầu chậm triển khai.",
    )

    assert HeadRating.objects.get(head=old).final == RatingLevel.COMPLETED
    assert HeadRating.objects.get(head=new).final is None
    page = _client(city_leader).get(reverse("rating_list") + "?year=2025")
    assert page.content.decode().count('data-unit="CITY-B"') == 2


# --- item 7: the 1 July 2025 merger ---


@pytest.fixture
def merger(org):
    """Phường W1 and W2 dissolved on 30/06/2025; Phường S formed from them
    on 01/07/2025. W1 missed 2024 and its half of 2025."""
    end, start = date(2025, 6, 30), date(2025, 7, 1)
    w1 = UnitFactory(code="W1", name="Phường Một", parent=org.city, valid_to=end)
    w2 = UnitFactory(code="W2", name="Phường Hai", parent=org.city, valid_to=end)
    s = UnitFactory(code="S", name="Phường Hợp", parent=org.city, valid_from=start)
    s.predecessors.set([w1, w2])
    head_w1 = HeadFactory(unit=w1, full_name="Ngô Văn Một", tenure_to=end)
    head_w2 = HeadFactory(unit=w2, full_name="Đinh Thị Hai", tenure_to=end)
    head_s = HeadFactory(unit=s, full_name="Hà Văn Hợp", tenure_from=start)
    good_year(w1, 2024, on_time=8)
    good_year(w2, 2024)
    for number in range(1, 7):
        from tests.commitments.helpers import month

        month(w1, 2025, number, received=10, on_time=8)
        month(w2, 2025, number, received=10, on_time=10)
    for unit, head in ((w1, head_w1), (w2, head_w2)):
        signed(unit, 2024, head, [("dung-han", "100", None)])
        signed(unit, 2025, head, [("dung-han", "100", None)])
    return {"w1": w1, "w2": w2, "s": s, "head_w1": head_w1, "head_s": head_s}


def successor_year(merger, on_time):
    for number in range(7, 13):
        from tests.commitments.helpers import month

        month(merger["s"], 2025, number, received=10, on_time=on_time)
    signed(merger["s"], 2025, merger["head_s"], [("dung-han", "100", None)])


@pytest.mark.parametrize("successor_on_time", [10, 7])
def test_a_dissolved_ward_has_no_case_and_its_successor_exactly_one(
    merger, successor_on_time
):
    """Whether or not the new ward kept its own half-year, the miss of W1 is
    answered once, by the head of S, naming who signed for W1. S's 2025 is
    its area's whole year (procedures.selectors.lineage_units): W1's late
    first half makes it missed too, whatever S's own second half."""
    successor_year(merger, successor_on_time)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)

    done = accountability.evaluate_year(2025, now=NOW, today=AFTER)

    [case] = AccountabilityCase.objects.all()
    assert done.cases_opened == 1
    assert (case.unit, case.head) == (merger["s"], merger["head_s"])
    named = [(y["unit"], y["year"], y["signed_by"]) for y in case.facts["years"]]
    assert named == [
        ("W1", 2024, "Ngô Văn Một"),
        ("S", 2025, "Hà Văn Hợp"),
        ("W1", 2025, "Ngô Văn Một"),
    ]
    # Again: still one.
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert AccountabilityCase.objects.count() == 1


def test_a_headless_case_left_by_the_old_rule_is_withdrawn(merger):
    """A case opened for the dissolved ward before this rule: nobody can
    answer it; the next evaluation withdraws it, saying why."""
    successor_year(merger, 10)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    stale = AccountabilityCase.objects.create(
        kind=CaseKind.TWO_YEARS,
        unit=merger["w1"],
        year=2025,
        head=None,
        opened_at=NOW,
        updated_at=NOW,
    )

    accountability.evaluate_year(2025, now=NOW, today=AFTER)

    stale.refresh_from_db()
    assert stale.state == AccountabilityState.WITHDRAWN
    assert "đơn vị kế thừa" in stale.steps.get(action="withdrawn").text
    assert AccountabilityCase.objects.filter(unit=merger["s"]).count() == 1


def test_no_case_is_opened_without_a_head_to_answer_it(org):
    """Commune B missed twice but no head is recorded: the case waits."""
    nobody = HeadFactory(unit=org.commune_b, tenure_to=date(2023, 12, 31))
    for year in (2024, 2025):
        good_year(org.commune_b, year, on_time=5)
        signed(org.commune_b, year, nobody, [("dung-han", "100", None)])
    accountability.evaluate_year(2024, now=NOW, today=AFTER)

    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert not AccountabilityCase.objects.exists()

    HeadFactory(unit=org.commune_b, tenure_from=date(2026, 1, 15))
    assert accountability.evaluate_year(2025, now=NOW, today=AFTER).cases_opened == 1
    assert AccountabilityCase.objects.get().head is not None


# --- item 8: not completed twice reaches the leader who rates ---


def test_not_completed_twice_is_a_notice_to_the_leader_above_once_and_on_the_dashboard(
    org, heads, city_leader, leader, monkeypatch
):
    tiers(monkeypatch, {org.commune_b.pk: "D"})
    other_city = UnitFactory(code="CITY2", kind=UnitKind.DISTRICT, parent=org.province)
    other_leader = UserFactory(username="leader.other")
    MembershipFactory(user=other_leader, unit=other_city, role=Role.LEADER)
    for year in (2024, 2025):
        good_year(org.commune_b, year)
        signed(org.commune_b, year, heads["b"], ON_TIME)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    assert not Notice.objects.exists()

    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)

    rating = HeadRating.objects.get(year=2025)
    assert rating.flagged
    # The district chairman rates commune heads (seed 001): told once.
    [notice] = Notice.objects.all()
    assert notice.user == city_leader
    assert "Lê Văn Bình" in notice.subject
    assert "Không hoàn thành nhiệm vụ" in notice.subject
    assert notice.url == f"/ratings/?year=2025#rating-{rating.pk}"

    # The dashboard's attention list, as its section renders it.
    from django.template.loader import render_to_string

    from scoring.dashboard import selectors as dashboard

    watch = dashboard.watch(city_leader, AFTER)
    assert (watch.flagged, watch.flagged_total) == ([rating], 1)
    with translation.override("vi"):
        html = render_to_string(
            "scoring/dashboard/_watch.html", {"watch": watch, "today": AFTER}
        )
    assert 'data-testid="watch-flagged-head"' in html
    assert "Lê Văn Bình" in html
    assert dashboard.watch(other_leader, AFTER).flagged_total == 0
