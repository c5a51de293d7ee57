"""The index's arithmetic as plain functions: no ORM, no clock.

Points are Decimals with two places. A metric leaf's points come from a rate
(procedures.rules.Metrics) through its scoring function; a tree's totals are
the sums of its children, each capped at its own maximum."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def points(value: Decimal | int | float | str) -> Decimal:
    """Two decimals, half up (as officials round by hand)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def survey_points(maximum: Decimal, rate: Decimal) -> Decimal:
    """A survey leaf fed by an imported satisfaction rate (percent): that
    share of the leaf's maximum, two decimals half up."""
    return points(maximum * rate / HUNDRED)


# --- metric scoring functions -----------------------------------------------------


class ScoringError(ValueError):
    """The parameters of a scoring function are not usable."""


def linear(
    rate: Decimal | None, maximum: Decimal, *, full_at: Decimal
) -> Decimal | None:
    """Full points from ``full_at`` percent, proportionally below it; no data
    (None) gives no points to show rather than 0."""
    if rate is None:
        return None
    if full_at <= 0:
        raise ScoringError("full_at must be above 0")
    share = min(Decimal(1), max(ZERO, Decimal(rate) / Decimal(full_at)))
    return points(maximum * share)


def banded(
    rate: Decimal | None,
    maximum: Decimal,
    *,
    bands: Sequence[tuple[Decimal, Decimal]],
) -> Decimal | None:
    """The share of the maximum of the highest band the rate reaches:
    bands [(95, 1), (80, 0.5)] give full points from 95%, half from 80%, else 0."""
    if rate is None:
        return None
    for threshold, share in sorted(bands, key=lambda band: band[0], reverse=True):
        if not ZERO <= Decimal(share) <= 1:
            raise ScoringError("a band's share must be between 0 and 1")
        if Decimal(rate) >= Decimal(threshold):
            return points(maximum * Decimal(share))
    return points(ZERO)


def metric_points(
    function: str, params: Mapping[str, object], rate: Decimal | None, maximum: Decimal
) -> Decimal | None:
    """Dispatch on the leaf's scoring function and its JSON parameters."""
    if function == "linear":
        full_at = params.get("full_at", 100)
        return linear(rate, maximum, full_at=Decimal(str(full_at)))
    if function == "banded":
        raw = params.get("bands")
        if not isinstance(raw, list) or not raw:
            raise ScoringError("banded scoring needs a list of [rate, share] bands")
        bands = [(Decimal(str(t)), Decimal(str(s))) for t, s in raw]
        return banded(rate, maximum, bands=bands)
    raise ScoringError(f"unknown scoring function {function!r}")


# --- the tree ------------------------------------------------------------------


@dataclass(frozen=True)
class TreeNode:
    key: int
    parent: int | None
    max_points: Decimal


def totals(
    nodes: Iterable[TreeNode], leaf_points: Mapping[int, Decimal | None]
) -> dict[int, Decimal]:
    """Points of every node: a leaf's own (capped to its maximum, never below
    0; no score counts 0), an inner node the capped sum of its children."""
    nodes = list(nodes)
    children: dict[int | None, list[TreeNode]] = {}
    for node in nodes:
        children.setdefault(node.parent, []).append(node)
    result: dict[int, Decimal] = {}

    def visit(node: TreeNode) -> Decimal:
        kids = children.get(node.key, [])
        if kids:
            raw = sum((visit(kid) for kid in kids), ZERO)
        else:
            raw = leaf_points.get(node.key) or ZERO
        value = min(node.max_points, max(ZERO, raw))
        result[node.key] = value
        return value

    for root in children.get(None, []):
        visit(root)
    return result


def sum_mismatches(nodes: Iterable[TreeNode]) -> list[tuple[int, Decimal, Decimal]]:
    """(node, its maximum, the sum of its children's) wherever they differ."""
    nodes = list(nodes)
    sums: dict[int, Decimal] = {}
    for node in nodes:
        if node.parent is not None:
            sums[node.parent] = sums.get(node.parent, ZERO) + node.max_points
    return [
        (node.key, node.max_points, sums[node.key])
        for node in nodes
        if node.key in sums and sums[node.key] != node.max_points
    ]


# --- tiers ---------------------------------------------------------------------


def tier_for(index: Decimal, tiers: Iterable[tuple[str, Decimal]]) -> str | None:
    """The code of the highest tier whose lower bound the index reaches."""
    for code, floor in sorted(tiers, key=lambda tier: tier[1], reverse=True):
        if index >= floor:
            return code
    return None


# --- the index, ranks and their change -------------------------------------------
#
# Points stay exact Decimals until the index: each index (and field index) is
# rounded once, half up to two decimals, and ranks compare those rounded values
# (DOMAIN.md: equal indices to two decimals share a rank).


def final_points(
    *, obtained: Decimal, adjustments: Iterable[Decimal], maximum: Decimal
) -> Decimal:
    """Appraised and survey points plus bonuses minus deductions (adjustments
    carry their sign), never below 0 nor above the framework's maximum."""
    total = obtained + sum(adjustments, ZERO)
    return min(maximum, max(ZERO, total))


def index_of(points_obtained: Decimal, maximum: Decimal) -> Decimal | None:
    """Points ÷ maximum × 100, two decimals half up. A framework without a
    survey has a smaller maximum, so its points are rescaled to 100 by the
    same division (Hà Nội practice). No maximum, no index."""
    if maximum <= 0:
        return None
    return points(points_obtained * HUNDRED / maximum)


def ranks[K](indices: Mapping[K, Decimal]) -> dict[K, int]:
    """Competition ranking within a group: highest index first; equal indices
    share a rank and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(indices.values(), reverse=True)
    first_place: dict[Decimal, int] = {}
    for place, value in enumerate(ordered, start=1):
        first_place.setdefault(value, place)
    return {key: first_place[value] for key, value in indices.items()}


@dataclass(frozen=True)
class Change:
    """Against the previous year: a positive rank change is a climb (rank 5 →
    rank 3 is +2). None where there is nothing to compare with."""

    previous_rank: int | None
    previous_index: Decimal | None
    rank_change: int | None
    index_change: Decimal | None


def changes[K](
    *,
    current_ranks: Mapping[K, int],
    current_indices: Mapping[K, Decimal],
    previous_ranks: Mapping[K, int],
    previous_indices: Mapping[K, Decimal],
    predecessors: Mapping[K, Sequence[K]],
) -> dict[K, Change]:
    """Each unit's change of rank and index against the previous year. A unit
    that existed then compares with itself; a unit formed from others (a
    merger, a split) with its predecessors: their mean index (two decimals
    half up) and their best rank. A unit with neither has no change."""
    found: dict[K, Change] = {}
    for unit, rank in current_ranks.items():
        if unit in previous_ranks:
            before = [unit]
        else:
            before = [p for p in predecessors.get(unit, ()) if p in previous_ranks]
        if not before:
            found[unit] = Change(None, None, None, None)
            continue
        previous_rank = min(previous_ranks[p] for p in before)
        known = [previous_indices[p] for p in before if p in previous_indices]
        previous_index = points(sum(known, ZERO) / len(known)) if known else None
        index = current_indices.get(unit)
        found[unit] = Change(
            previous_rank=previous_rank,
            previous_index=previous_index,
            rank_change=previous_rank - rank,
            index_change=(
                None
                if index is None or previous_index is None
                else index - previous_index
            ),
        )
    return found


# --- deductions and bonuses (DOMAIN.md section 6, seed 004) ------------------------


@dataclass(frozen=True)
class AdjustmentRule:
    """One rule of a framework's catalogue: points per case (negative for a
    deduction), an optional cap on the total it may add or take away in a
    year, and the kinds of unit it applies to (empty: every kind)."""

    code: str
    points_per_case: Decimal
    cap: Decimal | None = None
    unit_kinds: frozenset[str] = frozenset()

    def applies_to(self, unit_kind: str) -> bool:
        return not self.unit_kinds or unit_kind in self.unit_kinds


# The default catalogue; a framework copies it and may change any points.
DEFAULT_ADJUSTMENT_RULES = (
    AdjustmentRule("harassment_complaint", Decimal(-1)),
    AdjustmentRule("head_disciplined", Decimal(-2)),
    AdjustmentRule("deputy_disciplined", Decimal(-1)),
    AdjustmentRule("press_poor_management", Decimal(-1)),
    AdjustmentRule(
        "criterion_rank_improved",
        Decimal("0.5"),
        cap=Decimal(2),
        unit_kinds=frozenset({"department"}),
    ),
    AdjustmentRule(
        "communes_satisfaction_above_85",
        Decimal(1),
        cap=Decimal(1),
        unit_kinds=frozenset({"district"}),
    ),
    # Issue 17, item 9: the self-assessment not submitted by the deadline and
    # taken as it stood when Home Affairs closed the cycle.
    AdjustmentRule("late_submission", Decimal(-1), cap=Decimal(1)),
)
COMMUNES_SATISFACTION_THRESHOLD = Decimal(85)  # percent, *default*


def adjustment_points(rule: AdjustmentRule, cases: int, unit_kind: str) -> Decimal:
    """What ``cases`` cases of ``rule`` add (or take away) for one unit in a
    year: points per case, within the rule's cap; nothing where the rule does
    not apply to the unit's kind."""
    if cases < 0:
        raise ValueError("a count of cases cannot be negative")
    if not rule.applies_to(unit_kind):
        return ZERO
    total = rule.points_per_case * cases
    if rule.cap is not None:
        total = max(-rule.cap, min(rule.cap, total))
    return total


def communes_satisfaction_bonus(
    satisfaction_rates: Iterable[Decimal | None],
    threshold: Decimal = COMMUNES_SATISFACTION_THRESHOLD,
) -> bool:
    """A district earns the bonus when the satisfaction of its communes,
    taken together (their mean rate), is above the threshold. Communes without
    data are left out; none with data, no bonus."""
    known = [rate for rate in satisfaction_rates if rate is not None]
    if not known:
        return False
    return sum(known, ZERO) / len(known) > threshold
