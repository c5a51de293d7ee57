"""Commitments as plain functions: no ORM, no clock (DOMAIN.md section 8;
seeds 000, 001).

- A target compares a value with what the head committed to (≥ or ≤) and is
  met, or missed; a target with no value at the end of the year is missed
  (nothing reported is nothing achieved).
- A target is exceeded when its value is strictly better than committed, or
  when it is met at the best value it can take (100% for a percentage, 0 for
  what is counted or measured "at most"): nobody can do better than 100% on
  time, so a commitment of 100% kept is a commitment exceeded (issue 17, item 5).
- A commitment is met when every mandatory target is met.

What follows from a missed commitment (two years running, the head's rating)
is accountability's: `scoring/accountability/rules.py`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Comparison(StrEnum):
    AT_LEAST = "gte"  # ≥: on-time rate ≥ 100%
    AT_MOST = "lte"  # ≤: overdue dossiers ≤ 0


def meets(comparison: Comparison, committed: Decimal, value: Decimal) -> bool:
    if comparison == Comparison.AT_LEAST:
        return value >= committed
    return value <= committed


def exceeds(comparison: Comparison, committed: Decimal, value: Decimal) -> bool:
    """Strictly better than committed (see ``best_value`` for a target
    committed at the best value it can take)."""
    if comparison == Comparison.AT_LEAST:
        return value > committed
    return value < committed


PERCENT_CEILING = Decimal(100)
FLOOR = Decimal(0)


def best_value(comparison: Comparison, *, percentage: bool) -> Decimal | None:
    """The best value a target can take: 100 for a percentage to reach "at
    least", 0 for anything "at most" (no count or rate is negative); None
    for an unbounded quantity (a count to reach "at least")."""
    if comparison == Comparison.AT_MOST:
        return FLOOR
    return PERCENT_CEILING if percentage else None


def at_best(comparison: Comparison, value: Decimal, *, percentage: bool) -> bool:
    best = best_value(comparison, percentage=percentage)
    return best is not None and meets(comparison, best, value)


@dataclass(frozen=True)
class Target:
    code: str
    comparison: Comparison
    committed: Decimal
    mandatory: bool = True
    # Within the year: e.g. digitisation ≥ 50% by October (31/10).
    deadline: date | None = None
    # Measured in % (the indicator's unit): 100 is the best it can take.
    percentage: bool = True


@dataclass(frozen=True)
class Outcome:
    """A target judged after the year: the value it was judged on (None:
    nothing reported or no data), met, exceeded."""

    target: Target
    value: Decimal | None
    met: bool
    exceeded: bool


def judge(target: Target, value: Decimal | None) -> Outcome:
    """Met, and exceeded: strictly better than committed, or met at the
    best value the target can take (100%, 0 late dossiers)."""
    if value is None:
        return Outcome(target, None, met=False, exceeded=False)
    met = meets(target.comparison, target.committed, value)
    return Outcome(
        target,
        value,
        met=met,
        exceeded=met
        and (
            exceeds(target.comparison, target.committed, value)
            or at_best(target.comparison, value, percentage=target.percentage)
        ),
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
