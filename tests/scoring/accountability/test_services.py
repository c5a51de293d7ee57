"""After the year: targets judged on the stored figures, two years running
(across a change of head and a merger), rating proposals and their cap,
explanation requests from a publication, and the workflow's allowed and
refused steps by role."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from commitments.models import Commitment
from scoring.accountability import services as accountability
from scoring.frameworks import thresholds
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    CaseKind,
    Decision,
    Framework,
    HeadRating,
    MitigationGround,
    Node,
    NodeLevel,
    RatingLevel,
    Result,
)
from scoring.results import computation, publication
from tests.commitments.helpers import D, month, signed
from tests.factories import HeadFactory, UnitFactory
from tests.scoring.results_helpers import add_tiers_and_catalogue, scored

NOW = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)
AFTER = date(2026, 2, 1)


def good_year(unit, year, on_time=10, received=10):
    for number in range(1, 13):
        month(unit, year, number, received=received, on_time=on_time)


def two_bad_years(org, heads):
    """Commune A: on time 90% in 2024 (old head) and 80% in 2025 (new head)
    against 100%; commune B misses only 2025."""
    good_year(org.commune_a, 2024, on_time=9)
    good_year(org.commune_a, 2025, on_time=8)
    good_year(org.commune_b, 2024)
    good_year(org.commune_b, 2025, on_time=9)
    for year, head in ((2024, heads["old"]), (2025, heads["new"])):
        signed(org.commune_a, year, head, [("dung-han", "100", None)])
    for year in (2024, 2025):
        signed(org.commune_b, year, heads["b"], [("dung-han", "100", None)])


def test_nothing_is_judged_while_the_year_runs(org, heads):
    signed(org.commune_a, 2026, heads["new"], [("dung-han", "100", None)])
    done = accountability.evaluate_year(2026, now=NOW, today=date(2026, 12, 31))
    assert done.skipped
    assert Commitment.objects.get(year=2026).met is None


def test_targets_are_judged_on_the_figures_and_the_commitment_on_the_mandatory(
    org, heads
):
    good_year(org.commune_a, 2025, on_time=9)
    commitment = signed(
        org.commune_a,
        2025,
        heads["new"],
        [("dung-han", "90", None), ("so-hoa", "50", "2025-10-31")],
    )
    # Digitised: 6 of 10 a month January–October, none afterwards.
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    commitment.refresh_from_db()
    dung_han = commitment.targets.get(indicator__code="dung-han")
    so_hoa = commitment.targets.get(indicator__code="so-hoa")
    assert (dung_han.judged_value, dung_han.met, dung_han.exceeded) == (
        D("90.00"),
        True,
        False,
    )
    # No dossier was digitised: 0% by October.
    assert (so_hoa.judged_value, so_hoa.met) == (D("0.00"), False)
    assert commitment.met is False
    # Not mandatory: the commitment is met on the rest.
    so_hoa.mandatory = False
    so_hoa.optional_reason = "Chưa có hệ thống số hóa hồ sơ."
    so_hoa.save()
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    commitment.refresh_from_db()
    assert commitment.met is True


def test_two_years_running_across_a_change_of_head(org, heads):
    two_bad_years(org, heads)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    done = accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert (done.commitments, done.missed, done.cases_opened) == (2, 2, 1)
    case = AccountabilityCase.objects.get()
    assert (case.kind, case.unit, case.year, case.head) == (
        CaseKind.TWO_YEARS,
        org.commune_a,
        2025,
        heads["new"],
    )
    assert [(y["year"], y["signed_by"]) for y in case.facts["years"]] == [
        (2024, "Nguyễn Văn Cũ"),
        (2025, "Trần Thị Mới"),
    ]
    assert case.facts["years"][1]["missed"][0]["judged_value"] == "80.00"
    assert list(case.steps.values_list("action", flat=True)) == ["opened"]
    # Idempotent: a second evaluation opens nothing more.
    again = accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert again.cases_opened == 0
    assert AccountabilityCase.objects.count() == 1


def test_a_case_still_waiting_is_withdrawn_when_the_facts_change(org, heads):
    two_bad_years(org, heads)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    # The figures of 2025 are corrected: on time after all.
    from procedures.models import UnitMetric

    UnitMetric.objects.filter(unit=org.commune_a, year=2025).update(
        on_time=10, finished_on_time=10
    )
    done = accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert done.cases_withdrawn == 1
    case = AccountabilityCase.objects.get()
    assert case.state == AccountabilityState.WITHDRAWN
    assert list(case.steps.values_list("action", flat=True)) == ["opened", "withdrawn"]


def test_two_years_running_through_a_merger(org, heads):
    """Commune M formed in 2025 from commune B (missed 2024) and another."""
    merged = UnitFactory(
        code="CITY-M", name="Phường Mới", parent=org.city, valid_from=date(2025, 1, 1)
    )
    merged.predecessors.set([org.commune_b, org.commune_a])
    head_m = HeadFactory(
        unit=merged, full_name="Đỗ Thị Hợp", tenure_from=date(2025, 1, 1)
    )
    good_year(org.commune_a, 2024)
    good_year(org.commune_b, 2024, on_time=5)
    good_year(merged, 2025, on_time=9)
    signed(org.commune_a, 2024, heads["old"], [("dung-han", "100", None)])
    signed(org.commune_b, 2024, heads["b"], [("dung-han", "100", None)])
    signed(merged, 2025, head_m, [("dung-han", "100", None)])
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    case = AccountabilityCase.objects.get()
    assert case.unit == merged
    assert [(y["unit"], y["signed_by"]) for y in case.facts["years"]] == [
        ("CITY-B", "Lê Văn Bình"),
        ("CITY-M", "Đỗ Thị Hợp"),
    ]


def test_ratings_are_proposed_from_targets_tier_and_the_lateness_cap(
    org, heads, monkeypatch
):
    good_year(org.commune_a, 2025)
    good_year(org.commune_b, 2025)
    signed(org.commune_a, 2025, heads["new"], [("dung-han", "90", None)])
    signed(org.commune_b, 2025, heads["b"], [("dung-han", "90", None)])

    class Flag:
        def __init__(self, unit):
            self.unit, self.officer, self.late_count = unit, "", 3

    # Commune B was reminded in 2024 and late again in 2025 (seed 003).
    monkeypatch.setattr(
        thresholds,
        "repeated_lateness",
        lambda year, user, as_of, threshold: [Flag(org.commune_b)],
    )
    monkeypatch.setattr(
        accountability,
        "tiers_of",
        lambda year: {org.commune_a.pk: "A", org.commune_b.pk: "A"},
    )
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    a = HeadRating.objects.get(unit=org.commune_a)
    b = HeadRating.objects.get(unit=org.commune_b)
    # Every target met and exceeded (100% against 90%), tier A.
    assert (a.head, a.proposed, a.basis["capped"]) == (
        heads["new"],
        RatingLevel.EXCELLENT,
        False,
    )
    assert (b.proposed, b.basis["capped"], b.basis["repeatedly_late"]) == (
        RatingLevel.COMPLETED,
        True,
        True,
    )


def test_the_level_above_rates_and_a_change_needs_a_reason(
    org, heads, city_leader, leader, city_reviewer, head_user, monkeypatch
):
    monkeypatch.setattr(
        accountability, "tiers_of", lambda year: {org.commune_a.pk: "C"}
    )
    good_year(org.commune_a, 2025, on_time=5)
    signed(org.commune_a, 2025, heads["new"], [("dung-han", "100", None)])
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    rating = HeadRating.objects.get()
    assert rating.proposed == RatingLevel.NOT_COMPLETED
    for refused in (city_reviewer, head_user, leader):
        # The province's chairman rates departments and districts, not communes.
        assert not accountability.may_rate(refused, rating)
        with pytest.raises(PermissionDenied):
            accountability.rating_decide(
                rating=rating, user=refused, level=rating.proposed, reason=""
            )
    with pytest.raises(ValidationError) as no_reason:
        accountability.rating_decide(
            rating=rating, user=city_leader, level=RatingLevel.COMPLETED, reason=""
        )
    assert "reason" in no_reason.value.message_dict
    done = accountability.rating_decide(
        rating=rating,
        user=city_leader,
        level=RatingLevel.COMPLETED,
        reason="Bão lũ tháng 9 làm gián đoạn tiếp nhận hồ sơ.",
    )
    assert (done.final, done.effective, done.rated_by) == (
        RatingLevel.COMPLETED,
        RatingLevel.COMPLETED,
        city_leader,
    )


def test_not_completed_two_years_running_is_flagged(
    org, heads, city_leader, monkeypatch
):
    monkeypatch.setattr(
        accountability, "tiers_of", lambda year: {org.commune_b.pk: "C"}
    )
    good_year(org.commune_b, 2024, on_time=5)
    good_year(org.commune_b, 2025, on_time=5)
    for year in (2024, 2025):
        signed(org.commune_b, year, heads["b"], [("dung-han", "100", None)])
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert HeadRating.objects.get(year=2025).flagged
    assert not HeadRating.objects.get(year=2024).flagged
    # The leader rates 2024 "completed": no longer two years running.
    accountability.rating_decide(
        rating=HeadRating.objects.get(year=2024),
        user=city_leader,
        level=RatingLevel.COMPLETED,
        reason="Hoàn thành các nhiệm vụ trọng tâm.",
    )
    assert not HeadRating.objects.get(year=2025).flagged


def test_the_workflow_head_explains_then_the_leader_above_decides(
    org, heads, head_user, city_leader, city_reviewer, commune_staff, leader
):
    two_bad_years(org, heads)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    case = AccountabilityCase.objects.get()
    # Nobody decides before the head has explained.
    assert not accountability.may_decide(city_leader, case)
    for refused in (commune_staff, city_reviewer, city_leader):
        with pytest.raises(PermissionDenied):
            accountability.case_explain(case=case, user=refused, text="…")
    with pytest.raises(ValidationError):
        accountability.case_explain(case=case, user=head_user, text="  ")
    case = accountability.case_explain(
        case=case, user=head_user, text="Hệ thống một cửa gián đoạn 3 tháng."
    )
    assert case.state == AccountabilityState.EXPLAINED
    for refused in (head_user, commune_staff, city_reviewer):
        with pytest.raises(PermissionDenied):
            accountability.case_decide(
                case=case, user=refused, decision=Decision.DISMISSED, reason="x"
            )
    with pytest.raises(ValidationError) as no_ground:
        accountability.case_decide(
            case=case,
            user=city_leader,
            decision=Decision.MITIGATED,
            reason="Nguyên nhân khách quan",
        )
    assert "ground" in no_ground.value.message_dict
    with pytest.raises(ValidationError) as no_reason:
        accountability.case_decide(
            case=case, user=city_leader, decision=Decision.HANDLED, reason=""
        )
    assert "reason" in no_reason.value.message_dict
    case = accountability.case_decide(
        case=case,
        user=city_leader,
        decision=Decision.MITIGATED,
        ground=MitigationGround.OBJECTIVE,
        reason="Sự cố hệ thống do tỉnh quản lý.",
    )
    assert (case.state, case.decision, case.ground) == (
        AccountabilityState.DECIDED,
        Decision.MITIGATED,
        MitigationGround.OBJECTIVE,
    )
    steps = list(case.steps.order_by("at", "pk").values_list("action", "by__username"))
    assert steps == [
        ("opened", None),
        ("explained", "head.new"),
        ("decided", "leader.city"),
    ]
    # Decided: no further step; the province's leader could have decided too.
    assert not accountability.may_explain(head_user, case)
    assert not accountability.may_decide(leader, case)


def test_cases_are_seen_within_scope(org, heads, commune_staff, other_commune_staff):
    two_bad_years(org, heads)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    assert accountability.cases_visible(commune_staff).count() == 1
    assert accountability.cases_visible(other_commune_staff).count() == 0
    # Staff do not see their head's rating; the head does.
    assert accountability.ratings_visible(commune_staff).count() == 0


def city_framework():
    """The districts' framework of 2025 with its first field (10 points)."""
    framework = Framework.objects.create(
        year=2025,
        unit_kind="district",
        name="Chỉ số CCHC cấp huyện",
        deadline=date(2026, 1, 7),
    )
    field = Node.objects.create(
        framework=framework,
        code="1",
        title="Lĩnh vực 1",
        level=NodeLevel.FIELD,
        max_points=D("10"),
        position=0,
    )
    return framework, field


def test_a_published_city_index_losing_points_on_an_owned_criterion(
    org, heads, reviewer
):
    framework, field = city_framework()
    Node.objects.create(
        framework=framework,
        parent=field,
        code="1.1",
        title="Niêm yết TTHC",
        level=NodeLevel.CRITERION,
        max_points=D("4"),
        position=1,
        owner_unit=org.commune_a,
    )
    Node.objects.create(
        framework=framework,
        parent=field,
        code="1.2",
        title="Một cửa",
        level=NodeLevel.CRITERION,
        max_points=D("6"),
        position=2,
        owner_unit=org.commune_b,
    )
    add_tiers_and_catalogue(framework)
    scored(framework, org.city, {"1.1": ("4", "1.5"), "1.2": ("6", "6")})
    run = computation.compute_now(2025)
    assert Result.objects.filter(run=run).count() == 1
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=NOW)
    case = AccountabilityCase.objects.get(kind=CaseKind.CRITERION)
    assert (case.unit, case.subject, case.head) == (org.commune_a, "1.1", heads["new"])
    assert (case.facts["points"], case.facts["maximum"], case.facts["low"]) == (
        "1.50",
        "4.00",
        True,
    )
    assert list(case.steps.values_list("action", flat=True)) == ["opened"]


def test_each_step_reaches_who_acts_next_as_a_notice(
    org, heads, head_user, city_leader, leader, commune_staff
):
    from scoring.models import Notice

    two_bad_years(org, heads)
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    accountability.evaluate_year(2025, now=NOW, today=AFTER)
    case = AccountabilityCase.objects.get()

    def notices(user):
        return list(Notice.objects.filter(user=user).values_list("subject", "url"))

    # Opened: the head is asked, in the portal's language; staff are not.
    [(subject, url)] = notices(head_user)
    assert "Phường A" in subject
    assert "2024" in subject
    assert url == case.get_absolute_url()
    assert notices(commune_staff) == []
    # Explained: the leaders above (the city's and the province's).
    accountability.case_explain(case=case, user=head_user, text="Giải trình.")
    assert len(notices(city_leader)) == 1
    assert len(notices(leader)) == 1
    # Decided: back to the head.
    accountability.case_decide(
        case=case, user=city_leader, decision=Decision.DISMISSED, reason="Đủ căn cứ."
    )
    assert len(notices(head_user)) == 2
