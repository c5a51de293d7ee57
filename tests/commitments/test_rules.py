"""commitments.rules, worked by hand: targets, commitments and their progress."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from commitments.rules import (
    Comparison,
    Progress,
    Target,
    below_last_year,
    commitment_met,
    judge,
    progress,
)

GTE, LTE = Comparison.AT_LEAST, Comparison.AT_MOST
ON_TIME = Target("on_time", GTE, D(100))
DIGITISED = Target("digitisation", GTE, D(50), deadline=date(2025, 10, 31))
OVERDUE = Target("overdue", LTE, D(0))
PAYMENT = Target("payment", GTE, D(90), mandatory=False)
ON_TIME_95 = Target("on_time", GTE, D(95))
FEW_LATE = Target("late", LTE, D(2), percentage=False)
REVIEWED = Target("reviewed", GTE, D(20), percentage=False)
YEAR_END = date(2025, 12, 31)


@pytest.mark.parametrize(
    ("target", "value", "met", "exceeded"),
    [
        # Met at the best value it can take: exceeded (issue 17, item 5).
        (ON_TIME, D(100), True, True),
        (ON_TIME_95, D(100), True, True),
        (ON_TIME_95, D(95), True, False),
        (ON_TIME, D("99.99"), False, False),
        (DIGITISED, D(50), True, False),
        (DIGITISED, D("62.5"), True, True),
        (DIGITISED, D("49.99"), False, False),
        (OVERDUE, D(0), True, True),  # no late dossier: nobody does better
        (FEW_LATE, D(1), True, True),
        (FEW_LATE, D(2), True, False),
        # A count to reach has no ceiling: met exactly is only met.
        (REVIEWED, D(20), True, False),
        (REVIEWED, D(21), True, True),
        (OVERDUE, D(3), False, False),
        (ON_TIME, None, False, False),  # nothing reported: missed
    ],
)
def test_a_target_is_met_or_missed(target, value, met, exceeded):
    outcome = judge(target, value)
    assert (outcome.met, outcome.exceeded, outcome.value) == (met, exceeded, value)


@pytest.mark.parametrize(
    ("values", "met"),
    [
        ({"on_time": 100, "overdue": 0, "payment": 95}, True),
        # The optional target (payment) missed: still met.
        ({"on_time": 100, "overdue": 0, "payment": 40}, True),
        ({"on_time": 98, "overdue": 0, "payment": 95}, False),
        ({"on_time": 100, "overdue": None, "payment": 95}, False),
    ],
)
def test_a_commitment_is_met_when_every_mandatory_target_is(values, met):
    outcomes = [
        judge(t, None if values[t.code] is None else D(values[t.code]))
        for t in (ON_TIME, OVERDUE, PAYMENT)
    ]
    assert commitment_met(outcomes) is met


def test_a_commitment_without_mandatory_targets_cannot_be_judged():
    assert commitment_met([judge(PAYMENT, D(95))]) is None
    assert commitment_met([]) is None


@pytest.mark.parametrize(
    ("target", "value", "today", "expected"),
    [
        # Digitisation ≥ 50% by 31 October.
        (DIGITISED, D(42), date(2025, 6, 30), Progress.AT_RISK),
        (DIGITISED, D(55), date(2025, 6, 30), Progress.ON_TRACK),
        (DIGITISED, D(55), date(2025, 10, 31), Progress.ON_TRACK),  # due today
        (DIGITISED, D(55), date(2025, 11, 1), Progress.MET),
        (DIGITISED, D(42), date(2025, 11, 1), Progress.MISSED),
        (DIGITISED, None, date(2025, 6, 30), Progress.NO_DATA),
        (DIGITISED, None, date(2025, 11, 1), Progress.MISSED),
        # No deadline of its own: due at the end of the year.
        (ON_TIME, D("99.5"), date(2025, 11, 1), Progress.AT_RISK),
        (ON_TIME, D(100), date(2026, 1, 1), Progress.MET),
    ],
)
def test_progress_during_the_year(target, value, today, expected):
    assert progress(target, value, today=today, year_end=YEAR_END) == expected


@pytest.mark.parametrize(
    ("target", "last_year", "below"),
    [
        (DIGITISED, D(70), True),  # did 70% last year, commits to 50%
        (DIGITISED, D(50), False),
        (DIGITISED, D(30), False),
        (OVERDUE, D(0), False),
        (Target("overdue", LTE, D(5)), D(2), True),  # had 2, allows itself 5
        (DIGITISED, None, False),
    ],
)
def test_a_target_below_last_years_own_result_is_pointed_out(target, last_year, below):
    assert below_last_year(target, last_year) is below
