"""Reads about commitments: each target's value (live from the case-record
figures, or reported by the unit), its progress during the year, and the
unit's own result of the year before (a target set below it is said at
signing).

The figures are procedures' (`procedures.selectors.rates_up_to_month`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from commitments import rules
from commitments.models import (
    CheckState,
    Commitment,
    IndicatorKind,
    Target,
)
from procedures.selectors import MonthKey, rates_up_to_month


def rule_target(target: Target) -> rules.Target:
    return rules.Target(
        code=target.indicator.code,
        comparison=rules.Comparison(target.comparison),
        committed=target.value,
        mandatory=target.mandatory,
        deadline=target.deadline,
        percentage=target.indicator.unit_label.strip() == "%",
    )


def judged_outcome(target: Target) -> rules.Outcome:
    """A target as judged after the year (commitments_judge stored it)."""
    return rules.Outcome(
        rule_target(target),
        target.judged_value,
        bool(target.met),
        bool(target.exceeded),
    )


def months_counted(target: rules.Target | Target, year: int, today: date | None) -> int:
    """The months a metric target is read over: January to its due month,
    and while the year runs, to the current month."""
    due_month = target.deadline.month if target.deadline else 12
    if today is None or today.year > year:
        return due_month
    if today.year < year:
        return 0
    return min(due_month, today.month)


@dataclass(frozen=True)
class TargetProgress:
    target: Target
    value: Decimal | None
    # Where the value comes from: "metric", "reported" (not yet checked),
    # "accepted", "rejected", "judged" (after the year), or "" (none).
    source: str
    progress: rules.Progress


class TargetFacts(NamedTuple):
    """What a target's value and progress are worked out from, without its
    models: a page over thousands of targets reads these (FACT_FIELDS) and
    builds the models of the targets it shows only. (A named tuple: built
    ten thousand times for a province's page.)"""

    pk: int
    unit_id: int
    year: int
    kind: str
    metric: str
    rule: rules.Target
    met: bool | None
    judged_value: Decimal | None
    reported_value: Decimal | None
    check_state: str


# The columns TargetFacts are read from, in facts_from_row's order.
FACT_FIELDS = (
    "pk",
    "commitment__unit_id",
    "commitment__year",
    "indicator__kind",
    "indicator__metric",
    "met",
    "judged_value",
    "reported_value",
    "check_state",
    "indicator__code",
    "comparison",
    "value",
    "mandatory",
    "deadline",
    "indicator__unit_label",
)


@lru_cache(maxsize=1024)
def _rule(
    code: str,
    comparison: str,
    committed: Decimal,
    mandatory: bool,
    deadline: date | None,
    unit_label: str,
) -> rules.Target:
    # Targets drafted from one template share their terms: one rules.Target
    # each, not one per unit.
    return rules.Target(
        code=code,
        comparison=rules.Comparison(comparison),
        committed=committed,
        mandatory=mandatory,
        deadline=deadline,
        percentage=unit_label.strip() == "%",
    )


def facts_from_row(row: Sequence[Any]) -> TargetFacts:
    """A target's facts from a ``values_list(*FACT_FIELDS)`` row."""
    pk, unit_id, year, kind, metric, met, judged, reported, state, *terms = row
    return TargetFacts(
        pk, unit_id, year, kind, metric, _rule(*terms), met, judged, reported, state
    )


def facts_of(target: Target) -> TargetFacts:
    return TargetFacts(
        pk=target.pk,
        unit_id=target.commitment.unit_id,
        year=target.commitment.year,
        kind=target.indicator.kind,
        metric=target.indicator.metric,
        rule=rule_target(target),
        met=target.met,
        judged_value=target.judged_value,
        reported_value=target.reported_value,
        check_state=target.check_state,
    )


def _manual_value(target: TargetFacts, *, judging: bool) -> tuple[Decimal | None, str]:
    if target.reported_value is None:
        return None, ""
    if target.check_state == CheckState.ACCEPTED:
        return target.reported_value, "accepted"
    if target.check_state == CheckState.REJECTED:
        return None, "rejected"
    # Awaiting the reviewer: shown during the year, not judged on.
    return (None if judging else target.reported_value), "reported"


def facts_values(
    targets: Sequence[TargetFacts], *, today: date | None, judging: bool = False
) -> dict[int, tuple[Decimal | None, str]]:
    """target_values over facts: the metric values of all targets in one
    read, of the figures they are set on only."""
    keys: dict[int, MonthKey] = {}
    for target in targets:
        if target.kind == IndicatorKind.METRIC:
            months = months_counted(target.rule, target.year, today)
            if months:
                keys[target.pk] = (target.unit_id, target.year, months)
    read = rates_up_to_month(
        set(keys.values()),
        {target.metric for target in targets if target.pk in keys},
    )
    values: dict[int, tuple[Decimal | None, str]] = {}
    for target in targets:
        if target.kind == IndicatorKind.MANUAL:
            values[target.pk] = _manual_value(target, judging=judging)
            continue
        key = keys.get(target.pk)
        value = read.get(key, {}).get(target.metric) if key else None
        values[target.pk] = (value, "metric" if value is not None else "")
    return values


def target_values(
    targets: Sequence[Target], *, today: date | None, judging: bool = False
) -> dict[int, tuple[Decimal | None, str]]:
    """Each target's value now (``today``) or, with ``today`` None, over the
    whole of its period. Metric values for all targets in one read.
    ``judging``: a manual value counts only once a reviewer accepted it."""
    return facts_values([facts_of(t) for t in targets], today=today, judging=judging)


def year_end(year: int) -> date:
    return date(year, 12, 31)


# A target's value, where it comes from, and its progress (TargetProgress).
State = tuple[Decimal | None, str, rules.Progress]


def facts_progress(targets: Sequence[TargetFacts], *, today: date) -> dict[int, State]:
    """Each target as of ``today``, by its pk: judged targets as judged; the
    others from their live value (rules.progress)."""
    live = facts_values([t for t in targets if t.met is None], today=today)
    found: dict[int, State] = {}
    for target in targets:
        if target.met is not None:
            state = rules.Progress.MET if target.met else rules.Progress.MISSED
            found[target.pk] = (target.judged_value, "judged", state)
            continue
        value, source = live[target.pk]
        state = rules.progress(
            target.rule, value, today=today, year_end=year_end(target.year)
        )
        found[target.pk] = (value, source, state)
    return found


def targets_progress(targets: Sequence[Target], *, today: date) -> list[TargetProgress]:
    """Each target as of ``today`` (facts_progress)."""
    states = facts_progress([facts_of(t) for t in targets], today=today)
    return [TargetProgress(target, *states[target.pk]) for target in targets]


def last_year_values(commitment: Commitment) -> dict[int, Decimal | None]:
    """Each target's indicator as the unit achieved it the year before, over
    the same months: from the figures for a metric indicator, from last
    year's accepted report for a manual one."""
    targets = list(commitment.targets.select_related("indicator"))
    keys = {
        target.pk: (
            commitment.unit_id,
            commitment.year - 1,
            target.deadline.month if target.deadline else 12,
        )
        for target in targets
        if target.indicator.kind == IndicatorKind.METRIC
    }
    read = rates_up_to_month(set(keys.values()))
    reported = dict(
        Target.objects.filter(
            commitment__unit_id=commitment.unit_id,
            commitment__year=commitment.year - 1,
            indicator__kind=IndicatorKind.MANUAL,
            check_state=CheckState.ACCEPTED,
        ).values_list("indicator_id", "reported_value")
    )
    values: dict[int, Decimal | None] = {}
    for target in targets:
        if target.pk in keys:
            values[target.pk] = read.get(keys[target.pk], {}).get(
                target.indicator.metric
            )
        else:
            values[target.pk] = reported.get(target.indicator_id)
    return values


def below_last_year(commitment: Commitment) -> list[tuple[Target, Decimal]]:
    """The targets set below the unit's own result of the year before, with
    that result (rules.below_last_year)."""
    last = last_year_values(commitment)
    found = []
    for target in commitment.targets.select_related("indicator"):
        value = last.get(target.pk)
        if value is not None and rules.below_last_year(rule_target(target), value):
            found.append((target, value))
    return found


@dataclass(frozen=True)
class Tally:
    met: int = 0
    missed: int = 0
    on_track: int = 0
    at_risk: int = 0
    no_data: int = 0


def tally(progress: Iterable[TargetProgress]) -> Tally:
    return tally_of(item.progress for item in progress)


def tally_of(states: Iterable[rules.Progress]) -> Tally:
    counts = {state.value: 0 for state in rules.Progress}
    for state in states:
        counts[state.value] += 1
    return Tally(**counts)


# The targets across units: those at risk first.
PAGE_ORDER = {
    rules.Progress.AT_RISK: 0,
    rules.Progress.MISSED: 1,
    rules.Progress.NO_DATA: 2,
    rules.Progress.ON_TRACK: 3,
    rules.Progress.MET: 4,
}


def progress_page(
    targets: QuerySet[Target],
    *,
    today: date,
    wanted: str = "",
    number: str | int | None = None,
    per_page: int = 100,
) -> tuple[Page[TargetProgress], Tally]:
    """One page of ``targets`` with their progress as of ``today``, those at
    risk first, then by unit and position, only those in the ``wanted``
    progress if one is named; and the tally of all of them. Every target's
    progress is worked out to order and count them, from its facts (a few
    columns each); the models are built for the page's targets only. A fixed
    number of queries however many targets and units."""
    rows = targets.order_by().values_list(
        *FACT_FIELDS, "commitment__unit__path", "position"
    )
    facts, places = [], {}
    for *row, path, position in rows:
        target = facts_from_row(row)
        facts.append(target)
        places[target.pk] = (path, position, target.pk)
    states = facts_progress(facts, today=today)
    chosen = sorted(
        (
            (PAGE_ORDER[state], *places[pk])
            for pk, (_value, _source, state) in states.items()
            if not wanted or state == wanted
        ),
    )
    paginator: Paginator[Any] = Paginator([key[-1] for key in chosen], per_page)
    page = paginator.get_page(number)
    shown = Target.objects.select_related("indicator", "commitment__unit").in_bulk(
        list(page.object_list)
    )
    rows_shown = [TargetProgress(shown[pk], *states[pk]) for pk in page.object_list]
    return (
        Page(rows_shown, page.number, paginator),
        tally_of(state for _value, _source, state in states.values()),
    )
