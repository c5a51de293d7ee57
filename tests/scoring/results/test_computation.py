"""The year's computation over the small framework of tests/scoring/conftest.py:

1   field, 6 points             2   field, 4 points
└── 1.1   criterion, 6          ├── 2.1   metric: on-time rate, linear to 100%, 2
    ├── 1.1.1   manual, 2       └── 2.2   survey, 2
    └── 1.1.2   manual, 4

Every expected figure below is worked out by hand in the test's docstring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.organisation.models import Unit, UnitKind
from scoring import tasks
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    ComputationRun,
    CriterionRank,
    Framework,
    Node,
    Result,
    RunState,
    Score,
)
from scoring.results import computation
from tests.factories import UnitFactory
from tests.scoring.results_helpers import (
    GOOD,
    NOW,
    D,
    add_tiers_and_catalogue,
    approve,
    on_time,
    record,
    result_of,
    scored,
)
from tests.wording import vi

# --- one unit, by hand ----------------------------------------------------------------


def test_a_units_points_index_and_tier_worked_by_hand(year, org):
    """1.1.1 = 2, 1.1.2 appraised 3 (self 4), 2.1 = 2 × 45/50 = 1.80, 2.2 =
    1.50: field 1 = 5 of 6 (83.33), field 2 = 3.30 of 4 (82.50); 8.30 of 10 →
    index 83.00, tier B."""
    scored(year, org.commune_a, GOOD)
    on_time(org.commune_a, 2025, 45, 50)
    run = computation.compute_now(2025)
    assert run.state == RunState.SUCCEEDED
    assert (run.units, run.frameworks) == (1, 1)
    result = result_of(org.commune_a)
    assert result.obtained == D("8.30")
    assert result.final == D("8.30")
    assert result.maximum == D("10")
    assert result.index == D("83.00")
    assert result.field_indices == {"1": "83.33", "2": "82.50"}
    assert (result.tier, result.tier_label) == ("B", "Khá")
    assert result.rank == 1
    leaves = result.detail["leaves"]
    assert leaves["1.1.2"] == {
        "p": "3.00",
        "s": "4.00",
        "a": "3.00",
        "r": "Thiếu tài liệu",
    }
    assert leaves["2.1"]["m"] == {
        "name": "on_time_rate",
        "on_time": 45,
        "in_scope": 50,
        "rate": "90.00",
    }
    assert leaves["2.1"]["p"] == "1.80"
    assert result.detail["nodes"] == {"1": "5.00", "1.1": "5.00", "2": "3.30"}


def test_a_metric_leaf_without_figures_gets_no_points(year, org):
    """No dossier figures for the year: the rate is unknown and 2.1 counts 0."""
    scored(year, org.commune_a, GOOD)
    computation.compute_now(2025)
    result = result_of(org.commune_a)
    assert result.detail["leaves"]["2.1"] == {
        "p": "0.00",
        "m": {"name": "on_time_rate", "rate": None},
    }
    assert result.obtained == D("6.50")


def test_unappraised_leaves_count_nothing_and_unapproved_units_are_not_ranked(
    year, org
):
    """A submitted assessment still under appraisal: only appraised points
    count, and it is listed without a rank."""
    scored(
        year, org.commune_a, {"1.1.1": ("2", None), "2.2": (None, "2")}, approved=False
    )
    computation.compute_now(2025)
    result = result_of(org.commune_a)
    assert result.obtained == D("2.00")
    assert result.approved is False
    assert result.rank is None


# --- deductions and bonuses -----------------------------------------------------------


def test_only_approved_adjustments_count(year, org):
    """8.30 − 1 (an approved complaint) = 7.30 → index 73.00, tier C; the
    proposed and the rejected records change nothing."""
    scored(year, org.commune_a, GOOD)
    on_time(org.commune_a, 2025, 45, 50)
    record(year, org.commune_a, "harassment_complaint")
    record(year, org.commune_a, "press_poor_management", state=AdjustmentState.PROPOSED)
    record(year, org.commune_a, "head_disciplined", state=AdjustmentState.REJECTED)
    computation.compute_now(2025)
    result = result_of(org.commune_a)
    assert (result.obtained, result.adjustments, result.final) == (
        D("8.30"),
        D("-1.00"),
        D("7.30"),
    )
    assert (result.index, result.tier) == (D("73.00"), "C")
    assert [a["rule"] for a in result.detail["adjustments"]] == ["harassment_complaint"]
    assert result.detail["adjustments_by_rule"] == {
        "harassment_complaint": {"entered": "-1.00", "counted": "-1.00"}
    }


def test_a_rules_cap_limits_its_yearly_total(year, org):
    """Points per case −1 with a cap of 1.5: two records of one case each
    count −1.50, not −2."""
    AdjustmentRule.objects.filter(framework=year, code="harassment_complaint").update(
        cap=D("1.5")
    )
    scored(year, org.commune_a, GOOD)
    on_time(org.commune_a, 2025, 45, 50)
    record(year, org.commune_a, "harassment_complaint")
    record(year, org.commune_a, "harassment_complaint")
    computation.compute_now(2025)
    result = result_of(org.commune_a)
    assert result.detail["adjustments_by_rule"]["harassment_complaint"] == {
        "entered": "-2.00",
        "counted": "-1.50",
    }
    assert result.final == D("6.80")


def test_the_final_score_never_goes_below_0(year, org):
    """2 points obtained, 6 deducted: 0 points, index 0.00."""
    scored(year, org.commune_a, {"1.1.1": ("2", "2")})
    record(year, org.commune_a, "harassment_complaint", cases=6)
    computation.compute_now(2025)
    result = result_of(org.commune_a)
    assert (result.obtained, result.final, result.index) == (D("2"), D("0"), D("0"))
    assert result.adjustments == D("-2")
    assert result.detail["adjustments_entered"] == "-6.00"


# --- ranks and their change -----------------------------------------------------------


def test_equal_indices_share_a_rank_and_the_next_rank_skips(year, org):
    """A and B score the same (index 65.00), C less: ranks 1, 1, 3."""
    group_units = [org.commune_a, org.commune_b]
    commune_c = UnitFactory(code="CITY-C", name="Xã C", parent=org.city)
    for unit in [*group_units, commune_c]:
        Unit.objects.filter(pk=unit.pk).update(ranking_group=_group())
    same = {"1.1.1": ("2", "2"), "1.1.2": ("4", "3"), "2.2": (None, "1.50")}
    scored(year, org.commune_a, same)
    scored(year, org.commune_b, same)
    scored(year, commune_c, {"1.1.1": ("2", "1")})
    computation.compute_now(2025)
    ranks = dict(
        Result.objects.values_list("unit__code", "rank").order_by("unit__code")
    )
    assert ranks == {"CITY-A": 1, "CITY-B": 1, "CITY-C": 3}


def _group():
    from tests.factories import RankingGroupFactory

    return RankingGroupFactory(code="communes").pk


def test_change_against_the_previous_publication_and_through_a_merger(
    year, org, reviewer
):
    """2024 (published): A 1st (index 65.00), B 2nd (55.00). 2025: B climbs to
    1st (+1 place); M, formed from A and B, compares with their mean index
    (60.00) and their best rank (1)."""
    from scoring.frameworks import services as frameworks
    from scoring.results import publication

    group = _group()
    Unit.objects.filter(pk__in=[org.commune_a.pk, org.commune_b.pk]).update(
        ranking_group=group
    )
    previous = frameworks.framework_copy(user=reviewer, source=year, year=2024)
    scored(
        previous,
        org.commune_a,
        {"1.1.1": ("2", "2"), "1.1.2": ("4", "3"), "2.2": (None, "1.50")},
    )
    scored(
        previous,
        org.commune_b,
        {"1.1.1": ("2", "2"), "1.1.2": ("4", "3"), "2.2": (None, "0.50")},
    )
    run = computation.compute_now(2024)
    publication.publish(user=reviewer, year=2024, run_id=run.pk, now=NOW)

    merged = UnitFactory(
        code="CITY-M", name="Phường M", parent=org.city, ranking_group_id=group
    )
    merged.predecessors.set([org.commune_a, org.commune_b])
    scored(
        year,
        org.commune_b,
        {"1.1.1": ("2", "2"), "1.1.2": ("4", "4"), "2.2": (None, "2")},
    )
    scored(year, merged, {"1.1.1": ("2", "2"), "1.1.2": ("4", "2")})
    computation.compute_now(2025)

    b = result_of(org.commune_b)
    assert (b.rank, b.previous_rank, b.rank_change) == (1, 2, 1)
    assert (b.index, b.previous_index, b.index_change) == (
        D("80.00"),
        D("55.00"),
        D("25.00"),
    )
    m = result_of(merged)
    assert (m.rank, m.previous_rank, m.rank_change) == (2, 1, -1)
    assert (m.previous_index, m.index_change) == (D("60.00"), D("-20.00"))


def test_without_a_previous_publication_there_is_no_change(year, org):
    scored(year, org.commune_a, GOOD)
    computation.compute_now(2025)
    result = result_of(org.commune_a)
    assert (result.previous_rank, result.rank_change, result.index_change) == (
        None,
        None,
        None,
    )


# --- proposals from the data ----------------------------------------------------------


@pytest.fixture
def departments(org):
    framework = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DEPARTMENT, name="Chỉ số CCHC các sở"
    )
    add_tiers_and_catalogue(framework)
    Node.objects.create(
        framework=framework, level="field", code="1", title="Lĩnh vực 1", max_points=10
    )
    scored(framework, org.department, {"1": ("8", "8")})
    return framework


def ranks_of(org, year, **codes):
    for code, rank in codes.items():
        CriterionRank.objects.update_or_create(
            year=year,
            index="par",
            code=code,
            defaults={
                "title": f"Tiêu chí {code}",
                "rank": rank,
                "owner_unit": org.department,
            },
        )


def test_improved_criterion_ranks_are_proposed_for_the_responsible_department(
    departments, org
):
    """Criteria 2.1 (5th → 3rd) and 3.2 (10th → 8th) rose, 4.1 fell: two
    cases, +1 point, awaiting a reviewer; counted once approved."""
    ranks_of(org, 2024, **{"2.1": 5, "3.2": 10, "4.1": 7})
    ranks_of(org, 2025, **{"2.1": 3, "3.2": 8, "4.1": 9})
    run = computation.compute_now(2025)
    assert run.proposals == 1
    proposal = Adjustment.objects.get(unit=org.department)
    assert proposal.proposed_by_computation
    assert (proposal.state, proposal.cases, proposal.points) == (
        "proposed",
        2,
        D("1.00"),
    )
    assert "PAR 2.1" in proposal.reason
    assert "5 → 3" in proposal.reason
    assert result_of(org.department).final == D("8.00")

    computation.compute_now(2025)
    assert Adjustment.objects.filter(unit=org.department).count() == 1

    approve(proposal)
    computation.compute_now(2025)
    assert result_of(org.department).final == D("9.00")


def test_the_criterion_rank_bonus_stops_at_its_cap(departments, org):
    """Five criteria rose: 5 × 0.5 = 2.5 entered, the cap counts 2."""
    ranks_of(org, 2024, **{f"{i}.1": 10 for i in range(1, 6)})
    ranks_of(org, 2025, **{f"{i}.1": 9 for i in range(1, 6)})
    computation.compute_now(2025)
    approve(Adjustment.objects.get(unit=org.department))
    computation.compute_now(2025)
    result = result_of(org.department)
    assert result.detail["adjustments_by_rule"]["criterion_rank_improved"] == {
        "entered": "2.50",
        "counted": "2.00",
    }
    assert result.final == D("10.00")


def test_a_proposal_the_data_no_longer_supports_is_withdrawn_unless_decided(
    departments, org
):
    ranks_of(org, 2024, **{"2.1": 5})
    ranks_of(org, 2025, **{"2.1": 3})
    computation.compute_now(2025)
    ranks_of(org, 2025, **{"2.1": 6})
    computation.compute_now(2025)
    assert not Adjustment.objects.filter(unit=org.department).exists()

    ranks_of(org, 2025, **{"2.1": 3})
    computation.compute_now(2025)
    approve(Adjustment.objects.get(unit=org.department))
    ranks_of(org, 2025, **{"2.1": 6})
    computation.compute_now(2025)
    kept = Adjustment.objects.get(unit=org.department)
    assert kept.state == AdjustmentState.APPROVED


@pytest.mark.parametrize(
    ("late", "complaints", "proposed"),
    [(5, 5, True), (10, 5, False), (7, 8, False)],
)
def test_a_districts_communes_above_85_percent_satisfied_earn_a_proposal(
    org, late, complaints, proposed
):
    """Satisfaction = 100 − late % − complaint %: 90% is above 85%; 85% is
    not (the rule says above)."""
    framework = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DISTRICT, name="Chỉ số CCHC cấp huyện"
    )
    add_tiers_and_catalogue(framework)
    Node.objects.create(
        framework=framework, level="field", code="1", title="Lĩnh vực 1", max_points=10
    )
    scored(framework, org.city, {"1": ("7", "7")})
    for unit in (org.commune_a, org.commune_b):
        on_time(
            unit,
            2025,
            100 - late,
            100,
            received=100,
            complaint_or_dissatisfied=complaints,
        )
    computation.compute_now(2025)
    found = Adjustment.objects.filter(unit=org.city)
    assert found.exists() is proposed
    if proposed:
        assert found.get().rule.code == "communes_satisfaction_above_85"
        # Written in the portal's language when computed (Vietnamese here).
        assert "90,00%" in found.get().reason


# --- runs -----------------------------------------------------------------------------


def columns(year: int = 2025) -> list[dict]:
    return [
        computation.columns_of(r)
        for r in Result.objects.filter(framework__year=year).order_by("unit__code")
    ]


def test_running_twice_gives_identical_results(year, org):
    scored(year, org.commune_a, GOOD)
    scored(year, org.commune_b, {"1.1.1": ("2", "1")})
    on_time(org.commune_a, 2025, 45, 50)
    record(year, org.commune_b, "harassment_complaint")
    first_run = computation.compute_now(2025)
    first = columns()
    second_run = computation.compute_now(2025)
    assert columns() == first
    assert second_run.pk != first_run.pk
    assert second_run.parameters == first_run.parameters
    assert set(Result.objects.values_list("run", flat=True)) == {second_run.pk}


def test_a_failing_run_is_recorded_and_leaves_the_previous_results(year, org):
    scored(year, org.commune_a, GOOD)
    on_time(org.commune_a, 2025, 45, 50)
    computation.compute_now(2025)
    before = columns()
    Node.objects.filter(framework=year, code="2.1").update(
        scoring="banded", scoring_params={"bands": "95"}
    )
    with pytest.raises(computation.ComputationError):
        computation.compute_now(2025)
    failed = ComputationRun.objects.order_by("-pk").first()
    assert failed.state == RunState.FAILED
    assert "2.1" in failed.error
    assert "bands" in failed.error
    assert columns() == before


def test_a_run_that_dies_while_writing_leaves_the_previous_results(
    year, org, monkeypatch
):
    """The replacement is one transaction: an error after the old results
    were deleted brings them back."""
    scored(year, org.commune_a, GOOD)
    computation.compute_now(2025)
    before = columns()
    Score.objects.filter(node__code="1.1.1").update(appraised_score=1)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # The write of the new rows (a COPY on PostgreSQL, bulk_create on SQLite)
    # fails after the old rows were deleted.
    monkeypatch.setattr(computation, "results_insert", broken)
    with pytest.raises(RuntimeError):
        computation.compute_now(2025)
    assert columns() == before


def test_a_run_with_no_sign_of_life_is_marked_interrupted_by_the_next(year, org):
    scored(year, org.commune_a, GOOD)
    stale = ComputationRun.objects.create(
        year=2025,
        trigger="manual",
        state=RunState.RUNNING,
        created_at=timezone.now() - timedelta(hours=2),
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    run = computation.compute_now(2025)
    assert run.state == RunState.SUCCEEDED
    stale.refresh_from_db()
    assert stale.state == RunState.INTERRUPTED
    assert stale.finished_at is not None
    since = vi("No sign of life from its worker since %(time)s.").split("%(time)s")[0]
    assert "No sign of life" in stale.error or since in stale.error


def test_a_run_under_way_is_not_started_twice(year, org):
    alive = ComputationRun.objects.create(
        year=2025,
        trigger="manual",
        state=RunState.RUNNING,
        created_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    assert computation.run_request(year=2025, trigger="manual").pk == alive.pk


def test_a_run_asked_for_by_a_person_is_for_one_who_may_run_the_year(
    year, org, city_reviewer, leader, commune_head, reviewer
):
    """computation.run_request refuses on its own (not only the page and the
    API): a city's reviewer does not compute a year with departments."""
    departments = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DEPARTMENT, name="Chỉ số CCHC các sở"
    )
    scored(departments, org.department, {})
    for user in (city_reviewer, leader, commune_head):
        with pytest.raises(PermissionDenied):
            computation.run_request(year=2025, trigger="manual", user=user)
    assert not ComputationRun.objects.exists()
    run = computation.run_request(year=2025, trigger="manual", user=reviewer)
    assert run.requested_by == reviewer
    # The beat and the command ask without a person.
    assert computation.run_request(year=2025, trigger="schedule").pk == run.pk


def test_a_redelivered_task_of_a_finished_run_does_nothing(year, org):
    scored(year, org.commune_a, GOOD)
    run = computation.compute_now(2025)
    finished_at = run.finished_at
    again = computation.run(run.pk)
    assert again.finished_at == finished_at


def test_a_year_without_framework_fails_clearly(db):
    with pytest.raises(computation.ComputationError, match="2031"):
        computation.compute_now(2031)
    assert ComputationRun.objects.get(year=2031).state == RunState.FAILED


def test_the_queries_do_not_grow_with_the_number_of_units(year, org):
    """Units are read in batches with a fixed number of queries each."""
    for n in range(4):
        scored(year, UnitFactory(code=f"X{n}", parent=org.city), GOOD)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            computation.calculate(2025)
        return len(queries)

    few = count()
    for n in range(4, 40):
        scored(year, UnitFactory(code=f"X{n}", parent=org.city), GOOD)
    assert count() == few


def test_the_batches_cost_a_constant_number_of_queries_each(year, org, monkeypatch):
    monkeypatch.setattr(computation, "BATCH", 5)
    for n in range(5):
        scored(year, UnitFactory(code=f"X{n}", parent=org.city), GOOD)
    with CaptureQueriesContext(connection) as one_batch:
        computation.calculate(2025)
    for n in range(5, 15):
        scored(year, UnitFactory(code=f"X{n}", parent=org.city), GOOD)
    with CaptureQueriesContext(connection) as three_batches:
        computation.calculate(2025)
    per_batch = (len(three_batches) - len(one_batch)) / 2
    assert per_batch <= 2


# --- tasks and the command ------------------------------------------------------------


def test_queueing_runs_the_task_on_commit(
    year, org, django_capture_on_commit_callbacks
):
    scored(year, org.commune_a, GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.compute_queue(year=2025, trigger="manual")
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.trigger == "manual"


def test_the_nightly_task_refreshes_years_with_approved_assessments(
    year, org, django_capture_on_commit_callbacks
):
    scored(year, org.commune_a, GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.provisional_results_task() == [2025]
    assert ComputationRun.objects.get().state == RunState.SUCCEEDED


def test_the_command_computes_and_reports(year, org, capsys):
    scored(year, org.commune_a, GOOD)
    call_command("compute_year", "2025")
    assert "1 units in 1 frameworks" in capsys.readouterr().out
    with pytest.raises(CommandError, match="2030"):
        call_command("compute_year", "2030")


@pytest.mark.parametrize("seed", range(20))
def test_hundredths_add_up_exactly_as_the_rules_decimals(seed):
    """The computation's integer totals equal rules.totals on random trees
    with random (over- and under-range) leaf points."""
    import random

    from scoring import rules

    rng = random.Random(seed)
    nodes = [rules.TreeNode(0, None, D(rng.randint(0, 3000)) / 100)]
    for key in range(1, 40):
        nodes.append(
            rules.TreeNode(key, rng.randrange(key), D(rng.randint(0, 3000)) / 100)
        )
    children = {n.parent for n in nodes}
    leaf_points = {
        n.key: D(rng.randint(-500, 4000)) / 100 for n in nodes if n.key not in children
    }
    # Pre-order, as Node.position orders them.
    order: list[int] = []

    def visit(key: int) -> None:
        order.append(key)
        for n in nodes:
            if n.parent == key:
                visit(n.key)

    visit(0)
    place = {key: i for i, key in enumerate(order)}
    by_key = {n.key: n for n in nodes}
    tree = computation.Tree(
        params={},
        node_ids=order,
        codes=[str(k) for k in order],
        parents=[
            None if by_key[k].parent is None else place[by_key[k].parent] for k in order
        ],
        maxima=[by_key[k].max_points for k in order],
        maxima_cents=[int(by_key[k].max_points * 100) for k in order],
        leaves=[k not in children for k in order],
        leaf_indices=[i for i, k in enumerate(order) if k not in children],
        metric_nodes={},
        nodes_by_id={},
        maximum=D(0),
        tiers=[],
        tier_labels={},
        rules={},
        has_metrics=False,
    )
    got = tree.totals(
        [int(leaf_points.get(k, 0) * 100) if k not in children else 0 for k in order]
    )
    expected = rules.totals(nodes, leaf_points)
    assert {k: computation.decimal(got[place[k]]) for k in order} == expected


@pytest.mark.parametrize(
    ("written", "hundredths", "shown"),
    [
        ("2.50", 250, "2.50"),
        ("2.5", 250, "2.50"),
        ("2", 200, "2.00"),
        ("0", 0, "0.00"),
        ("-1.25", -125, "-1.25"),
        ("0.125", 13, "0.13"),
        ("12.345", 1235, "12.35"),
    ],
)
def test_points_written_as_text_read_as_hundredths(written, hundredths, shown):
    """PostgreSQL writes numeric(6, 2) as "2.50", SQLite its REAL as "2.5"."""
    assert computation.cents(written) == hundredths
    assert computation.shown(hundredths) == shown
