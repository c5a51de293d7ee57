"""Accountability as plain functions: no ORM, no clock (DOMAIN.md section 8;
seeds 000, 001, 003). It reads what commitments' rules judged (a target met,
missed or exceeded; a commitment met) and the year's index tier.

- Two years running: a unit whose commitment is missed in Y−1 and in Y gets an
  accountability case for its current head. A unit formed by a merger carries
  its predecessors' Y−1: missed if any of theirs was.
- The head's completion rating is proposed from the targets and the unit's
  tier, at most "completed" for a unit repeatedly late after a reminder.
- A head rated "not completed" two years running is flagged to the leader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from commitments.rules import Outcome

# --- two years running ----------------------------------------------------------


@dataclass(frozen=True)
class YearVerdict:
    """A unit's commitment in a year: met or missed, and who signed it."""

    unit: str
    year: int
    met: bool
    signed_by: str


def two_years_running[K](
    *,
    year: int,
    verdicts: Mapping[tuple[K, int], YearVerdict],
    predecessors: Mapping[K, Sequence[K]],
) -> dict[K, list[YearVerdict]]:
    """Units whose commitment is missed in ``year`` and in the year before,
    with the verdicts that make the case (the year before may be a
    predecessor's, for a unit formed by a merger: every missed one is named).
    A unit without a judged commitment in either year has no case."""
    cases: dict[K, list[YearVerdict]] = {}
    for (unit, verdict_year), verdict in verdicts.items():
        if verdict_year != year or verdict.met:
            continue
        before = verdicts.get((unit, year - 1))
        if before is not None:
            earlier = [before] if not before.met else []
        else:
            earlier = [
                found
                for p in predecessors.get(unit, ())
                if (found := verdicts.get((p, year - 1))) is not None and not found.met
            ]
        if earlier:
            cases[unit] = [*earlier, verdict]
    return cases


# --- the head's completion rating ------------------------------------------------


class Rating(IntEnum):
    """Ordered: a higher value is a better rating."""

    NOT_COMPLETED = 0  # Không hoàn thành
    COMPLETED = 1  # Hoàn thành
    GOOD = 2  # Hoàn thành tốt
    EXCELLENT = 3  # Hoàn thành xuất sắc


TIER_ORDER = {"A": 3, "B": 2, "C": 1, "D": 0}


def rating_proposal(
    outcomes: Sequence[Outcome],
    tier: str | None,
    *,
    repeatedly_late: bool,
    excellent_exceeded_share: Decimal = Decimal(50),
    completed_met_share: Decimal = Decimal(50),
    excellent_min_tier: str = "A",
    good_min_tier: str = "B",
    completed_min_tier: str = "C",
) -> Rating:
    """DOMAIN.md section 8's *default* rule:

    - excellent: every target met, at least half exceeded, and tier A;
    - good: every target met, and tier A or B;
    - completed: at least half the targets met, and tier C or better;
    - otherwise not completed;

    at most "completed" when the unit was repeatedly late after a reminder
    (seed 003). A unit whose kind has no index (``tier`` None) is rated on
    its targets alone; a unit with no target, on its tier alone. The shares
    (percent) and the lowest tiers are the year's framework's settings, with
    these defaults."""
    total = len(outcomes)
    met = sum(outcome.met for outcome in outcomes)
    exceeded = sum(outcome.exceeded for outcome in outcomes)
    all_met = met == total
    half_met = 100 * met >= completed_met_share * total
    half_exceeded = total > 0 and 100 * exceeded >= excellent_exceeded_share * total
    rank = TIER_ORDER.get(tier, -1) if tier is not None else None

    def tier_at_least(code: str) -> bool:
        return rank is None or rank >= TIER_ORDER[code]

    if all_met and half_exceeded and tier_at_least(excellent_min_tier):
        proposed = Rating.EXCELLENT
    elif all_met and tier_at_least(good_min_tier):
        proposed = Rating.GOOD
    elif half_met and tier_at_least(completed_min_tier):
        proposed = Rating.COMPLETED
    else:
        proposed = Rating.NOT_COMPLETED
    if repeatedly_late:
        proposed = min(proposed, Rating.COMPLETED)
    return proposed


def not_completed_twice(ratings: Mapping[int, Rating], year: int) -> bool:
    """Rated "not completed" in ``year`` and the year before: flagged to the
    leader (Law on Cadres and Civil Servants, 2019 amendment)."""
    return (
        ratings.get(year) == Rating.NOT_COMPLETED
        and ratings.get(year - 1) == Rating.NOT_COMPLETED
    )
