"""Accountability as plain functions: no ORM, no clock (DOMAIN.md section 8;
seeds 000, 001, 003). It reads what commitments' rules judged (a target met,
missed or exceeded; a commitment met) and the year's index tier.

- Two years running: a unit whose commitment is missed in Y−1 and in Y gets an
  accountability case for its current head. A unit formed by a merger carries
  its predecessors' Y−1: missed if any of theirs was.
- The head's completion rating is proposed from the targets and the unit's
  tier, at most "completed" for a unit repeatedly late after a reminder. A
  unit whose kind has an index but has no result for the year gets no
  proposal: the leader rates (issue 17, item 4).
- Each head who held the post for at least six months of the year is rated,
  on the same year's facts (issue 17, item 6).
- A head rated "not completed" two years running is flagged to the leader."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
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


def pass_to_successors[K](
    cases: Mapping[K, Sequence[YearVerdict]],
    *,
    dissolved: Iterable[K],
    successors: Mapping[K, Sequence[K]],
) -> dict[K, list[YearVerdict]]:
    """No case for a unit that no longer exists at the end of the year (a
    ward dissolved on 30/06/2025): nobody heads it to explain. Its miss
    passes to its successor, whose head answers for the area now: once, in
    the successor's own case when it has one (which may already carry the
    same predecessor's Y−1 through ``two_years_running``), each verdict
    named once, oldest first. A dissolved unit with no successor recorded
    opens nothing."""
    gone = set(dissolved)
    merged: dict[K, list[YearVerdict]] = {
        unit: list(made_of) for unit, made_of in cases.items() if unit not in gone
    }
    for unit, made_of in cases.items():
        if unit not in gone:
            continue
        for successor in successors.get(unit, ()):
            if successor in gone:
                continue
            into = merged.setdefault(successor, [])
            into.extend(v for v in made_of if v not in into)
    for made_of in merged.values():
        made_of.sort(key=lambda v: (v.year, v.unit))
    return merged


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
    has_index: bool = True,
    excellent_exceeded_share: Decimal = Decimal(50),
    completed_met_share: Decimal = Decimal(50),
    excellent_min_tier: str = "A",
    good_min_tier: str = "B",
    completed_min_tier: str = "C",
) -> Rating | None:
    """DOMAIN.md section 8's *default* rule (the shares, in percent, and the
    lowest tiers are the year's framework's settings, with these defaults):

    - excellent: every target met, at least half exceeded, and tier A;
    - good: every target met, and tier A or B;
    - completed: at least half the targets met, and tier C or better;
    - otherwise not completed;

    at most "completed" when the unit was repeatedly late after a reminder
    (seed 003). A unit whose kind has no index (``has_index`` False) is
    rated on its targets alone; a unit with no target, on its tier alone.
    A unit whose kind has an index but has no result for the year
    (``tier`` None) gets no proposal (None): every level above "not
    completed" depends on the tier, and the head's responsibility is judged
    through the year's index (seed 001), so the leader rates, with a reason."""
    if has_index and tier is None:
        return None
    total = len(outcomes)
    met = sum(outcome.met for outcome in outcomes)
    exceeded = sum(outcome.exceeded for outcome in outcomes)
    all_met = met == total
    half_met = 100 * met >= completed_met_share * total
    half_exceeded = total > 0 and 100 * exceeded >= excellent_exceeded_share * total
    rank = TIER_ORDER.get(tier, -1) if has_index and tier is not None else None

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


# --- who is rated for the year ----------------------------------------------------

# Nghị định 90/2020/NĐ-CP (amended by 48/2023/NĐ-CP): someone who worked less
# than six months of the year is not rated for it.
MIN_MONTHS = 6


@dataclass(frozen=True)
class Tenure[K]:
    """A head's time in the post: ``until`` None while still in it."""

    head: K
    start: date
    until: date | None


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    # The 31st six months on is the last day of that month.
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def months_held(tenure: Tenure[object], year: int) -> tuple[date, date] | None:
    """The part of the year the tenure covers, or None."""
    start = max(tenure.start, date(year, 1, 1))
    end = min(tenure.until or date(year, 12, 31), date(year, 12, 31))
    return (start, end) if start <= end else None


def held_long_enough(
    tenure: Tenure[object], year: int, *, min_months: int = MIN_MONTHS
) -> bool:
    """At least ``min_months`` whole months of the year in the post: from
    1 January to 30 June is six months, so is 1 July to 31 December."""
    held = months_held(tenure, year)
    if held is None:
        return False
    start, end = held
    return _months_later(start, min_months) - timedelta(days=1) <= end


def heads_to_rate[K](
    tenures: Sequence[Tenure[K]], year: int, *, min_months: int = MIN_MONTHS
) -> list[K]:
    """Each head who held the post for at least ``min_months`` of the year,
    in the order they took it. When nobody did (three heads in one year),
    the one who held it longest, so that the year is rated for someone."""
    ordered = sorted(tenures, key=lambda t: t.start)
    chosen = [
        t.head for t in ordered if held_long_enough(t, year, min_months=min_months)
    ]
    if chosen:
        return chosen
    spans = [
        (held[1] - held[0], t.start, t.head)
        for t in ordered
        if (held := months_held(t, year)) is not None
    ]
    if not spans:
        return []
    longest = max(span for span, _start, _head in spans)
    return [next(head for span, _s, head in reversed(spans) if span == longest)]


def not_completed_twice(ratings: Mapping[int, Rating], year: int) -> bool:
    """Rated "not completed" in ``year`` and the year before: flagged to the
    leader (Law on Cadres and Civil Servants, 2019 amendment)."""
    return (
        ratings.get(year) == Rating.NOT_COMPLETED
        and ratings.get(year - 1) == Rating.NOT_COMPLETED
    )
