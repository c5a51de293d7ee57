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


# --- the index, ranks and their change ---------------------------------------


@pytest.mark.parametrize(
    ("obtained", "adjustments", "maximum", "expected"),
    [
        (D("72.50"), [], D(100), D("72.50")),
        (D("72.50"), [D(-1), D(-2)], D(100), D("69.50")),  # two deductions
        (D("72.50"), [D(-1), D("0.5")], D(100), D("72.00")),  # and a bonus
        (D("1.00"), [D(-2), D(-1)], D(100), D(0)),  # never below 0
        (D("99.50"), [D(2)], D(100), D(100)),  # nor above the maximum
    ],
)
def test_final_points_add_adjustments_within_zero_and_the_maximum(
    obtained, adjustments, maximum, expected
):
    assert (
        rules.final_points(obtained=obtained, adjustments=adjustments, maximum=maximum)
        == expected
    )


@pytest.mark.parametrize(
    ("obtained", "maximum", "expected"),
    [
        (D("85.25"), D(100), D("85.25")),
        # No survey: 56 of 70 appraised points is 80 on 100 (rescaled).
        (D(56), D(70), D("80.00")),
        # 2/3 of 100 = 66.666… → 66.67 (half up, once, at the index)
        (D("46.666"), D(70), D("66.67")),
        # A half exactly rounds up: 80.005 → 80.01
        (D("0.80005"), D(1), D("80.01")),
        (D(0), D(100), D("0.00")),
    ],
)
def test_index_is_points_over_maximum_rounded_half_up_once(obtained, maximum, expected):
    assert rules.index_of(obtained, maximum) == expected


def test_no_maximum_gives_no_index():
    assert rules.index_of(D(0), D(0)) is None


@pytest.mark.parametrize(
    ("indices", "expected"),
    [
        ({}, {}),  # an empty group
        ({"A": D("91.20")}, {"A": 1}),
        (
            {"A": D("91.20"), "B": D("88.00"), "C": D("88.00"), "D": D("75.10")},
            {"A": 1, "B": 2, "C": 2, "D": 4},
        ),
        (
            {"A": D(80), "B": D(80), "C": D(80)},
            {"A": 1, "B": 1, "C": 1},
        ),
        (
            {"A": D("70.01"), "B": D("70.00"), "C": D("95.5"), "D": D("95.50")},
            {"C": 1, "D": 1, "A": 3, "B": 4},
        ),
    ],
)
def test_equal_indices_share_a_rank_and_the_next_rank_skips(indices, expected):
    assert rules.ranks(indices) == expected


def test_change_against_last_year_for_a_unit_that_existed_then():
    got = rules.changes(
        current_ranks={"X": 3, "Y": 1},
        current_indices={"X": D("84.00"), "Y": D("90.10")},
        previous_ranks={"X": 1, "Y": 4},
        previous_indices={"X": D("90.00"), "Y": D("80.00")},
        predecessors={},
    )
    # Seed 000: "3rd, down from 1st" is a change of −2.
    assert got["X"] == rules.Change(1, D("90.00"), -2, D("-6.00"))
    assert got["Y"] == rules.Change(4, D("80.00"), 3, D("10.10"))


def test_a_unit_without_a_previous_year_has_no_change():
    got = rules.changes(
        current_ranks={"NEW": 2},
        current_indices={"NEW": D(85)},
        previous_ranks={"OLD": 1},
        previous_indices={"OLD": D(90)},
        predecessors={},
    )
    assert got["NEW"] == rules.Change(None, None, None, None)


def test_a_merged_unit_compares_with_its_predecessors():
    """Phường Chí Linh (2025) = Sao Đỏ + Chí Minh + Thái Học (2024): their mean
    index, their best rank."""
    got = rules.changes(
        current_ranks={"CHILINH": 2},
        current_indices={"CHILINH": D("86.00")},
        previous_ranks={"SAODO": 5, "CHIMINH": 3, "THAIHOC": 9},
        previous_indices={"SAODO": D("82.10"), "CHIMINH": D("85.00"), "THAIHOC": D(79)},
        predecessors={"CHILINH": ["SAODO", "CHIMINH", "THAIHOC"]},
    )
    # mean 246.10 / 3 = 82.0333… → 82.03; best rank 3 → now 2: +1
    assert got["CHILINH"] == rules.Change(3, D("82.03"), 1, D("3.97"))


def test_a_predecessor_missing_last_year_is_left_out_of_the_comparison():
    got = rules.changes(
        current_ranks={"M": 1},
        current_indices={"M": D(90)},
        previous_ranks={"A": 2},
        previous_indices={"A": D(88)},
        predecessors={"M": ["A", "B"]},
    )
    assert got["M"] == rules.Change(2, D("88.00"), 1, D("2.00"))


# --- deductions and bonuses ---------------------------------------------------

RULES = {rule.code: rule for rule in rules.DEFAULT_ADJUSTMENT_RULES}


@pytest.mark.parametrize(
    ("code", "cases", "kind", "expected"),
    [
        ("harassment_complaint", 3, "commune", D(-3)),
        ("head_disciplined", 1, "department", D(-2)),
        ("deputy_disciplined", 2, "district", D(-2)),
        ("press_poor_management", 0, "commune", D(0)),
        ("criterion_rank_improved", 3, "department", D("1.5")),
        ("criterion_rank_improved", 5, "department", D(2)),  # at most +2
        ("criterion_rank_improved", 3, "commune", D(0)),  # departments only
        ("communes_satisfaction_above_85", 1, "district", D(1)),
        ("communes_satisfaction_above_85", 1, "department", D(0)),
    ],
)
def test_adjustment_points_per_case_within_the_cap_for_the_kinds_it_applies_to(
    code, cases, kind, expected
):
    assert rules.adjustment_points(RULES[code], cases, kind) == expected


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        rules.adjustment_points(RULES["harassment_complaint"], -1, "commune")


@pytest.mark.parametrize(
    ("rates", "expected"),
    [
        ([D(90), D(84)], True),  # mean 87
        ([D(85), D(85)], False),  # not above 85
        ([D(95), None, D(76)], True),  # no data left out: mean 85.5
        ([None, None], False),
        ([], False),
    ],
)
def test_a_district_earns_the_satisfaction_bonus_above_85_percent(rates, expected):
    assert rules.communes_satisfaction_bonus(rates) is expected


def test_deductions_can_take_the_final_score_to_zero_but_not_below():
    deductions = [
        rules.adjustment_points(RULES["harassment_complaint"], 4, "commune"),
        rules.adjustment_points(RULES["head_disciplined"], 1, "commune"),
    ]
    assert rules.final_points(
        obtained=D("5.00"), adjustments=deductions, maximum=D(100)
    ) == D(0)
