"""The index's arithmetic, without a database."""

from decimal import Decimal as D

import pytest

from scoring import rules
from scoring.rules import TreeNode


@pytest.mark.parametrize(
    ("rate", "full_at", "expected"),
    [
        (D(100), D(100), D("2.00")),
        (D(95), D(100), D("1.90")),
        (D(80), D(80), D("2.00")),  # digitisation: full marks from 80%
        (D(90), D(80), D("2.00")),  # never above the maximum
        (D(40), D(80), D("1.00")),
        (D(0), D(80), D("0.00")),
        (D("33.333"), D(100), D("0.67")),  # half up to two decimals
    ],
)
def test_linear_scoring_is_proportional_up_to_full_marks(rate, full_at, expected):
    assert rules.linear(rate, D(2), full_at=full_at) == expected


def test_no_data_gives_no_points_rather_than_zero():
    assert rules.linear(None, D(2), full_at=D(100)) is None
    assert rules.banded(None, D(2), bands=[(D(90), D(1))]) is None


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (D(100), D("3.00")),
        (D(95), D("3.00")),
        (D("94.99"), D("1.50")),
        (D(80), D("1.50")),
        (D(79), D("0.00")),
    ],
)
def test_banded_scoring_takes_the_highest_band_reached(rate, expected):
    bands = [(D(80), D("0.5")), (D(95), D(1))]
    assert rules.banded(rate, D(3), bands=bands) == expected


def test_metric_points_dispatches_on_the_leaf_settings():
    assert rules.metric_points("linear", {"full_at": 80}, D(60), D(4)) == D("3.00")
    assert rules.metric_points(
        "banded", {"bands": [[90, 1], [70, 0.5]]}, D(75), D(2)
    ) == D("1.00")
    with pytest.raises(rules.ScoringError):
        rules.metric_points("banded", {}, D(75), D(2))
    with pytest.raises(rules.ScoringError):
        rules.metric_points("stepwise", {}, D(75), D(2))
    with pytest.raises(rules.ScoringError):
        rules.metric_points("linear", {"full_at": 0}, D(75), D(2))


TREE = [
    TreeNode(1, None, D(6)),
    TreeNode(11, 1, D(6)),
    TreeNode(111, 11, D(2)),
    TreeNode(112, 11, D(4)),
    TreeNode(2, None, D(4)),
    TreeNode(21, 2, D(2)),
    TreeNode(22, 2, D(2)),
]


def test_totals_sum_children_and_treat_a_missing_score_as_zero():
    got = rules.totals(TREE, {111: D(2), 112: D("3.5"), 21: D("1.25")})
    assert got == {
        1: D("5.5"),
        11: D("5.5"),
        111: D(2),
        112: D("3.5"),
        2: D("1.25"),
        21: D("1.25"),
        22: D(0),
    }


def test_totals_cap_each_node_at_its_maximum():
    tree = [TreeNode(1, None, D(3)), TreeNode(11, 1, D(2)), TreeNode(12, 1, D(2))]
    assert rules.totals(tree, {11: D(2), 12: D(2)})[1] == D(3)
    assert rules.totals(tree, {11: D(5)})[11] == D(2)
    assert rules.totals(tree, {11: D(-1)})[11] == D(0)


def test_sum_mismatches_name_the_parent_and_both_sums():
    tree = [*TREE[:4], TreeNode(113, 11, D(1))]
    assert rules.sum_mismatches(tree) == [(11, D(6), D(7))]
    assert rules.sum_mismatches(TREE) == []


@pytest.mark.parametrize(
    ("index", "tier"),
    [
        (D(95), "A"),
        (D(90), "A"),
        (D("89.99"), "B"),
        (D(80), "B"),
        (D(70), "C"),
        (D("69.99"), "D"),
        (D(0), "D"),
    ],
)
def test_tiers_by_their_lower_bounds(index, tier):
    tiers = [("A", D(90)), ("B", D(80)), ("C", D(70)), ("D", D(0))]
    assert rules.tier_for(index, tiers) == tier


def test_points_round_half_up():
    assert rules.points("2.345") == D("2.35")
    assert rules.points("2.344") == D("2.34")
