"""The value of a metric indicator for commitments (settings.
COMMITMENTS_METRIC_VALUES): a unit's rate over the months of a year up to a
given month, combined exactly from the stored month counts (rules.combine),
so "digitisation ≥ 50% by October" reads January to October and a target due
at the end of the year reads the whole year."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import fields
from decimal import Decimal

from procedures import rules
from procedures.metrics import COUNT_FIELDS
from procedures.models import PeriodKind, UnitMetric

# (unit id, year, last month counted) -> {metric name: rate or None}
Key = tuple[int, int, int]

METRIC_NAMES = tuple(f.name for f in fields(rules.Metrics))


def metric_values(keys: Iterable[Key]) -> dict[Key, dict[str, Decimal | None]]:
    """The rates of each (unit, year, up to month), over January to the last
    month computed up to it. One query for all the keys: their units' month
    rows of those years. A key with no month row at all has no values (every
    rate None: no data is not 0%)."""
    wanted = set(keys)
    if not wanted:
        return {}
    unit_ids = {unit_id for unit_id, _year, _month in wanted}
    years = {year for _unit, year, _month in wanted}
    months: dict[tuple[int, int], dict[int, rules.Counts]] = defaultdict(dict)
    rows = (
        UnitMetric.objects.filter(
            period_kind=PeriodKind.MONTH, unit_id__in=unit_ids, year__in=years
        )
        .order_by()
        .values_list("unit_id", "year", "number", *COUNT_FIELDS)
    )
    for unit_id, year, number, *counts in rows:
        months[(unit_id, year)][number] = rules.Counts(
            **dict(zip(COUNT_FIELDS, counts, strict=True))
        )
    values: dict[Key, dict[str, Decimal | None]] = {}
    for key in wanted:
        unit_id, year, up_to = key
        stored = months.get((unit_id, year), {})
        computed_months = [number for number in stored if number <= up_to]
        if not computed_months:
            values[key] = dict.fromkeys(METRIC_NAMES)
            continue
        # To the last month computed: a month not computed yet (no import
        # since it began) is not a month without dossiers, and reading it as
        # one would drop the dossiers still open and not yet due.
        last = max(computed_months)
        combined = rules.combine(
            [stored.get(number, rules.Counts()) for number in range(1, last + 1)]
        )
        computed = rules.metrics(combined)
        values[key] = {name: getattr(computed, name) for name in METRIC_NAMES}
    return values
