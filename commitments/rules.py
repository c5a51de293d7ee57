"""Commitments and accountability as plain functions: no ORM, no clock
(DOMAIN.md section 8; seeds 000, 001, 003).

- A target compares a value with what the head committed to (≥ or ≤) and is
  met, or missed; a target with no value at the end of the year is missed
  (nothing reported is nothing achieved).
- A commitment is met when every mandatory target is met.
- Two years running: a unit whose commitment is missed in Y−1 and in Y gets an
  accountability case for its current head. A unit formed by a merger carries
  its predecessors' Y−1: missed if any of theirs was.
- The head's completion rating is proposed from the targets and the unit's
  tier, at most "completed" for a unit repeatedly late after a reminder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum


class Comparison(StrEnum):
    AT_LEAST = "gte"  # ≥: on-time rate ≥ 100%
    AT_MOST = "lte"  # ≤: overdue dossiers ≤ 0


def meets(comparison: Comparison, committed: Decimal, value: Decimal) -> bool:
    if comparison == Comparison.AT_LEAST:
        return value >= committed
    return value <= committed


def exceeds(comparison: Comparison, committed: Decimal, value: Decimal) -> bool:
    """Strictly better than committed (a target of 100% cannot be exceeded)."""
    if comparison == Comparison.AT_LEAST:
        return value > committed
    return value < committed


@dataclass(frozen=True)
class Target:
    code: str
    comparison: Comparison
    committed: Decimal
    mandatory: bool = True
    # Within the year: e.g. digitisation ≥ 50% by October (31/10).
    deadline: date | None = None


@dataclass(frozen=True)
class Outcome:
    """A target judged after the year: the value it was judged on (None:
    nothing reported or no data), met, exceeded."""

    target: Target
    value: Decimal | None
    met: bool
    exceeded: bool


def judge(target: Target, value: Decimal | None) -> Outcome:
    if value is None:
        return Outcome(target, None, met=False, exceeded=False)
    return Outcome(
        target,
        value,
        met=meets(target.comparison, target.committed, value),
        exceeded=exceeds(target.comparison, target.committed, value),
    )


def commitment_met(outcomes: Iterable[Outcome]) -> bool | None:
    """Every mandatory target met. A commitment without a mandatory target
    cannot be judged (None)."""
    mandatory = [outcome for outcome in outcomes if outcome.target.mandatory]
    if not mandatory:
        return None
    return all(outcome.met for outcome in mandatory)


class Progress(StrEnum):
    MET = "met"  # its deadline passed and it was met
    MISSED = "missed"  # its deadline passed and it was not
    ON_TRACK = "on_track"  # not due yet and the value meets it today
    AT_RISK = "at_risk"  # not due yet and the value does not meet it today
    NO_DATA = "no_data"  # not due yet and nothing to compare


def progress(
    target: Target, value: Decimal | None, *, today: date, year_end: date
) -> Progress:
    """A target during the year, as of ``today``: due at its own deadline or
    at the end of the year."""
    due = target.deadline or year_end
    if today > due:
        if value is not None and meets(target.comparison, target.committed, value):
            return Progress.MET
        return Progress.MISSED
    if value is None:
        return Progress.NO_DATA
    if meets(target.comparison, target.committed, value):
        return Progress.ON_TRACK
    return Progress.AT_RISK


def below_last_year(target: Target, last_year_value: Decimal | None) -> bool:
    """A target the unit already did better than last year: said at signing
    (committing to less than one has achieved is no commitment)."""
    if last_year_value is None:
        return False
    return exceeds(target.comparison, target.committed, last_year_value)


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
) -> Rating:
    """DOMAIN.md section 8's *default* rule:

    - excellent: every target met, at least half exceeded, and tier A;
    - good: every target met, and tier A or B;
    - completed: at least half the targets met, and tier C or better;
    - otherwise not completed;

    at most "completed" when the unit was repeatedly late after a reminder
    (seed 003). A unit whose kind has no index (``tier`` None) is rated on
    its targets alone; a unit with no target, on its tier alone."""
    total = len(outcomes)
    met = sum(outcome.met for outcome in outcomes)
    exceeded = sum(outcome.exceeded for outcome in outcomes)
    all_met = met == total
    half_met = 2 * met >= total
    half_exceeded = total > 0 and 2 * exceeded >= total
    rank = TIER_ORDER.get(tier, -1) if tier is not None else None

    def tier_at_least(code: str) -> bool:
        return rank is None or rank >= TIER_ORDER[code]

    if all_met and half_exceeded and tier_at_least("A"):
        proposed = Rating.EXCELLENT
    elif all_met and tier_at_least("B"):
        proposed = Rating.GOOD
    elif half_met and tier_at_least("C"):
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
