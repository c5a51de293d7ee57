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


def months_counted(target: Target, year: int, today: date | None) -> int:
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


def _manual_value(target: Target, *, judging: bool) -> tuple[Decimal | None, str]:
    if target.reported_value is None:
        return None, ""
    if target.check_state == CheckState.ACCEPTED:
        return target.reported_value, "accepted"
    if target.check_state == CheckState.REJECTED:
        return None, "rejected"
    # Awaiting the reviewer: shown during the year, not judged on.
    return (None if judging else target.reported_value), "reported"


def target_values(
    targets: Sequence[Target], *, today: date | None, judging: bool = False
) -> dict[int, tuple[Decimal | None, str]]:
    """Each target's value now (``today``) or, with ``today`` None, over the
    whole of its period. Metric values for all targets in one read.
    ``judging``: a manual value counts only once a reviewer accepted it."""
    keys: dict[int, MonthKey] = {}
    for target in targets:
        if target.indicator.kind == IndicatorKind.METRIC:
            year = target.commitment.year
            months = months_counted(target, year, today)
            if months:
                keys[target.pk] = (target.commitment.unit_id, year, months)
    read = rates_up_to_month(set(keys.values()))
    values: dict[int, tuple[Decimal | None, str]] = {}
    for target in targets:
        if target.indicator.kind == IndicatorKind.MANUAL:
            values[target.pk] = _manual_value(target, judging=judging)
            continue
        key = keys.get(target.pk)
        value = read.get(key, {}).get(target.indicator.metric) if key else None
        values[target.pk] = (value, "metric" if value is not None else "")
    return values


def year_end(year: int) -> date:
    return date(year, 12, 31)


def targets_progress(targets: Sequence[Target], *, today: date) -> list[TargetProgress]:
    """Each target as of ``today``: judged targets as judged; the others
    from their live value (rules.progress)."""
    live = target_values([t for t in targets if t.met is None], today=today)
    found = []
    for target in targets:
        year = target.commitment.year
        if target.met is not None:
            state = rules.Progress.MET if target.met else rules.Progress.MISSED
            found.append(TargetProgress(target, target.judged_value, "judged", state))
            continue
        value, source = live[target.pk]
        state = rules.progress(
            rule_target(target), value, today=today, year_end=year_end(year)
        )
        found.append(TargetProgress(target, value, source, state))
    return found


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
    counts = {state.value: 0 for state in rules.Progress}
    for item in progress:
        counts[item.progress.value] += 1
    return Tally(**counts)
