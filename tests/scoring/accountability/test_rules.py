"""scoring.accountability.rules, worked by hand: the two-year rule (across a
change of head and across a merger) and the head's rating."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from commitments.rules import Comparison, Outcome, Target, judge
from scoring.accountability.rules import (
    Rating,
    Tenure,
    YearVerdict,
    heads_to_rate,
    held_long_enough,
    not_completed_twice,
    pass_to_successors,
    rating_proposal,
    two_years_running,
)

GTE, LTE = Comparison.AT_LEAST, Comparison.AT_MOST


# --- two years running -------------------------------------------------------------


def verdict(unit, year, met, signed_by):
    return (unit, year), YearVerdict(unit, year, met, signed_by)


def test_missed_two_years_running_opens_a_case_naming_both_signatories():
    """The head changed between the years: the case names who signed each."""
    verdicts = dict(
        [
            verdict("SXD", 2024, False, "Nguyễn Văn A"),
            verdict("SXD", 2025, False, "Trần Thị B"),
            verdict("STP", 2024, False, "Lê Văn C"),  # missed once only
            verdict("STP", 2025, True, "Lê Văn C"),
            verdict("SYT", 2024, True, "Phạm D"),
            verdict("SYT", 2025, False, "Phạm D"),  # missed once only
        ]
    )
    cases = two_years_running(year=2025, verdicts=verdicts, predecessors={})
    assert list(cases) == ["SXD"]
    assert [(v.year, v.signed_by) for v in cases["SXD"]] == [
        (2024, "Nguyễn Văn A"),
        (2025, "Trần Thị B"),
    ]


@pytest.mark.parametrize(
    ("predecessors_met", "case"),
    [
        ((True, True, True), False),
        ((True, False, True), True),
        ((False, False, True), True),
    ],
)
def test_a_merged_unit_carries_its_predecessors_year(predecessors_met, case):
    """Phường Chí Linh (2025) from Sao Đỏ, Chí Minh, Thái Học (2024): any of
    them missed in 2024 makes 2024 missed for the merged ward."""
    old = ["SAODO", "CHIMINH", "THAIHOC"]
    verdicts = dict(
        [
            verdict(code, 2024, met, f"Head {code}")
            for code, met in zip(old, predecessors_met, strict=True)
        ]
        + [verdict("CHILINH", 2025, False, "Head CHILINH")]
    )
    cases = two_years_running(
        year=2025, verdicts=verdicts, predecessors={"CHILINH": old}
    )
    assert ("CHILINH" in cases) is case
    if case:
        named = [v.unit for v in cases["CHILINH"]]
        missed = [
            code for code, met in zip(old, predecessors_met, strict=True) if not met
        ]
        assert named == [*missed, "CHILINH"]


def test_no_commitment_the_year_before_no_case():
    verdicts = dict([verdict("NEW", 2025, False, "X")])
    assert two_years_running(year=2025, verdicts=verdicts, predecessors={}) == {}


def test_a_unit_that_existed_uses_its_own_year_not_its_predecessors():
    """A unit that absorbed another keeps its own record."""
    verdicts = dict(
        [
            verdict("BIG", 2024, True, "A"),
            verdict("SMALL", 2024, False, "B"),
            verdict("BIG", 2025, False, "A"),
        ]
    )
    assert (
        two_years_running(year=2025, verdicts=verdicts, predecessors={"BIG": ["SMALL"]})
        == {}
    )


# --- the head's rating ----------------------------------------------------------------


def outcomes(met: int, exceeded: int, total: int) -> list[Outcome]:
    """``total`` targets of which ``met`` met, ``exceeded`` of those exceeded."""
    found = []
    for i in range(total):
        target = Target(f"t{i}", GTE, D(50))
        value = D(60) if i < exceeded else D(50) if i < met else D(40)
        found.append(judge(target, value))
    return found


@pytest.mark.parametrize(
    ("met", "exceeded", "total", "tier", "late", "expected"),
    [
        (6, 3, 6, "A", False, Rating.EXCELLENT),  # all met, half exceeded, A
        (6, 2, 6, "A", False, Rating.GOOD),  # fewer than half exceeded
        (6, 6, 6, "B", False, Rating.GOOD),  # all exceeded but tier B
        (6, 0, 6, "C", False, Rating.COMPLETED),  # all met, tier C
        (3, 0, 6, "C", False, Rating.COMPLETED),  # half met
        (2, 0, 6, "A", False, Rating.NOT_COMPLETED),  # under half met
        (6, 6, 6, "D", False, Rating.NOT_COMPLETED),  # tier D
        # Repeatedly late after a reminder: at most "completed" (seed 003).
        (6, 3, 6, "A", True, Rating.COMPLETED),
        (6, 0, 6, "B", True, Rating.COMPLETED),
        (2, 0, 6, "A", True, Rating.NOT_COMPLETED),
        # No targets: the tier alone (nothing to exceed).
        (0, 0, 0, "A", False, Rating.GOOD),
        (0, 0, 0, "C", False, Rating.COMPLETED),
    ],
)
def test_the_rating_proposed_for_a_head(met, exceeded, total, tier, late, expected):
    proposed = rating_proposal(
        outcomes(met, exceeded, total), tier, repeatedly_late=late
    )
    assert proposed == expected


def test_not_completed_two_years_running_is_flagged():
    assert not_completed_twice(
        {2024: Rating.NOT_COMPLETED, 2025: Rating.NOT_COMPLETED}, 2025
    )
    assert not not_completed_twice(
        {2024: Rating.COMPLETED, 2025: Rating.NOT_COMPLETED}, 2025
    )
    assert not not_completed_twice({2025: Rating.NOT_COMPLETED}, 2025)


# --- issue 17, items 4–7 ---


def test_no_index_result_no_proposal_where_the_kind_has_an_index():
    """17 commune heads were proposed "excellent" with no PAR result: every
    level above "not completed" depends on the tier, so nothing is proposed."""
    perfect = outcomes(6, 6, 6)
    assert rating_proposal(perfect, None, repeatedly_late=False) is None
    assert rating_proposal(outcomes(0, 0, 6), None, repeatedly_late=True) is None
    # An office has no index: rated on its targets, as before.
    assert (
        rating_proposal(perfect, None, repeatedly_late=False, has_index=False)
        == Rating.EXCELLENT
    )
    # A tier is ignored for a kind without an index.
    assert (
        rating_proposal(perfect, "D", repeatedly_late=False, has_index=False)
        == Rating.EXCELLENT
    )


def test_the_thresholds_are_parameters_with_todays_values():
    three_of_six = outcomes(6, 3, 6)
    assert rating_proposal(three_of_six, "A", repeatedly_late=False) == (
        Rating.EXCELLENT
    )
    stricter = rating_proposal(
        three_of_six, "A", repeatedly_late=False, excellent_exceeded_share=D(75)
    )
    assert stricter == Rating.GOOD
    assert (
        rating_proposal(
            outcomes(6, 0, 6), "B", repeatedly_late=False, good_min_tier="A"
        )
        == Rating.COMPLETED
    )


def test_a_department_meeting_the_seeds_targets_exactly_can_be_excellent():
    """Seed 000's department targets: five of eight are 100%. Met exactly,
    those five are met at the best value they can take: exceeded."""
    from commitments.catalogue import DEPARTMENT

    judged = [
        judge(Target(code, GTE, D(value)), D(value))
        for code, (value, _month) in DEPARTMENT.items()
    ]
    assert sum(o.exceeded for o in judged) == 5
    assert rating_proposal(judged, "A", repeatedly_late=False) == Rating.EXCELLENT
    assert rating_proposal(judged, "B", repeatedly_late=False) == Rating.GOOD


def tenure(head, start, until=None):
    from datetime import date

    return Tenure(
        head,
        date.fromisoformat(start),
        None if until is None else date.fromisoformat(until),
    )


@pytest.mark.parametrize(
    ("tenures", "rated"),
    [
        # A change on 1 July: six months each, both rated.
        (
            [tenure("old", "2019-03-01", "2025-06-30"), tenure("new", "2025-07-01")],
            ["old", "new"],
        ),
        # A change on 15 July: the successor held five and a half months.
        (
            [tenure("old", "2019-03-01", "2025-07-14"), tenure("new", "2025-07-15")],
            ["old"],
        ),
        # A change on 1 June: the one who left held five months.
        (
            [tenure("old", "2019-03-01", "2025-05-31"), tenure("new", "2025-06-01")],
            ["new"],
        ),
        # Left the year before; appointed the year after: not rated.
        (
            [
                tenure("gone", "2019-03-01", "2024-12-31"),
                tenure("here", "2025-01-01"),
                tenure("next", "2026-01-01"),
            ],
            ["here"],
        ),
        # Three heads of four months each: the year is rated for one, the
        # longest in the post (the later on a tie).
        (
            [
                tenure("a", "2020-01-01", "2025-04-30"),
                tenure("b", "2025-05-01", "2025-08-31"),
                tenure("c", "2025-09-01"),
            ],
            ["b"],
        ),
    ],
)
def test_each_head_in_the_post_six_months_of_the_year_is_rated(tenures, rated):
    assert heads_to_rate(tenures, 2025) == rated


def test_six_months_counted_on_the_calendar():
    from datetime import date

    assert held_long_enough(tenure("x", "2025-01-01", "2025-06-30"), 2025)
    assert not held_long_enough(tenure("x", "2025-01-01", "2025-06-29"), 2025)
    assert held_long_enough(tenure("x", "2024-08-31", "2025-02-28"), 2025) is False
    assert held_long_enough(tenure("x", "2025-08-31"), 2025) is False
    assert held_long_enough(Tenure("x", date(2024, 2, 29), None), 2024)


def test_a_dissolved_wards_miss_passes_to_its_successor_once():
    """1 July 2025: wards W1 and W2 dissolved on 30/06, ward S formed from
    them on 01/07. W1 missed 2024 and its half of 2025."""
    verdicts = dict(
        [
            verdict("W1", 2024, False, "Head W1"),
            verdict("W2", 2024, True, "Head W2"),
            verdict("W1", 2025, False, "Head W1"),
            verdict("W2", 2025, True, "Head W2"),
            verdict("S", 2025, False, "Head S"),
        ]
    )
    found = two_years_running(
        year=2025, verdicts=verdicts, predecessors={"S": ["W1", "W2"]}
    )
    # Without the rule: one case for W1 (nobody heads it) and one for S.
    assert set(found) == {"W1", "S"}
    cases = pass_to_successors(
        found, dissolved=["W1", "W2"], successors={"W1": ["S"], "W2": ["S"]}
    )
    assert list(cases) == ["S"]
    assert [(v.unit, v.year, v.signed_by) for v in cases["S"]] == [
        ("W1", 2024, "Head W1"),
        ("S", 2025, "Head S"),
        ("W1", 2025, "Head W1"),
    ]


def test_the_successor_answers_even_when_its_own_half_year_was_met():
    verdicts = dict(
        [
            verdict("W1", 2024, False, "Head W1"),
            verdict("W1", 2025, False, "Head W1"),
            verdict("S", 2025, True, "Head S"),
        ]
    )
    found = two_years_running(year=2025, verdicts=verdicts, predecessors={"S": ["W1"]})
    cases = pass_to_successors(found, dissolved=["W1"], successors={"W1": ["S"]})
    assert [(v.unit, v.year) for v in cases["S"]] == [("W1", 2024), ("W1", 2025)]
    # No successor recorded: nobody to answer, no case.
    assert pass_to_successors(found, dissolved=["W1"], successors={}) == {}
