"""scoring.accountability.rules, worked by hand: the two-year rule (across a
change of head and across a merger) and the head's rating."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from commitments.rules import Comparison, Outcome, Target, judge
from scoring.accountability.rules import (
    Rating,
    YearVerdict,
    not_completed_twice,
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
        # No index for its kind: the targets alone.
        (6, 3, 6, None, False, Rating.EXCELLENT),
        (4, 0, 6, None, False, Rating.COMPLETED),
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
