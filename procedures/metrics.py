"""The 766 counts per unit and period, by SQL aggregation into UnitMetric.

The conditions below are procedures.rules written as SQL filters; a test checks
that both give the same counts on the same cases. One query per period covers
every unit asked for (GROUP BY unit), so the work grows with the periods, not
with the units."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Q

from procedures import rules
from procedures.figures import COUNT_FIELDS
from procedures.models import CaseRecord, Channel, DossierStatus, PeriodKind, UnitMetric
from procedures.parsing import LOCAL_TZ


@dataclass(frozen=True)
class PeriodRef:
    kind: str
    year: int
    number: int

    @property
    def period(self) -> rules.Period:
        if self.kind == PeriodKind.MONTH:
            return rules.Period.month(self.year, self.number, LOCAL_TZ)
        if self.kind == PeriodKind.QUARTER:
            return rules.Period.quarter(self.year, self.number, LOCAL_TZ)
        return rules.Period.year(self.year, LOCAL_TZ)


def periods_of_year(year: int) -> list[PeriodRef]:
    return [
        *(PeriodRef(PeriodKind.MONTH, year, m) for m in range(1, 13)),
        *(PeriodRef(PeriodKind.QUARTER, year, q) for q in range(1, 5)),
        PeriodRef(PeriodKind.YEAR, year, 1),
    ]


def periods_between(first: tuple[int, int], as_of: datetime) -> list[PeriodRef]:
    """Every month, quarter and year from ``first`` (year, month) up to the one
    containing ``as_of``: a dossier stays in scope in every later period while
    it is open, so a change to it can move all of them."""
    local = as_of.astimezone(LOCAL_TZ)
    first_year, first_month = first
    refs = []
    for year in range(first_year, local.year + 1):
        for ref in periods_of_year(year):
            start_month: int = {
                PeriodKind.MONTH: ref.number,
                PeriodKind.QUARTER: 3 * ref.number - 2,
                PeriodKind.YEAR: 1,
            }[PeriodKind(ref.kind)]
            end_month: int = {
                PeriodKind.MONTH: ref.number,
                PeriodKind.QUARTER: 3 * ref.number,
                PeriodKind.YEAR: 12,
            }[PeriodKind(ref.kind)]
            if (year, end_month) < (first_year, first_month):
                continue
            if (year, start_month) > (local.year, local.month):
                continue
            refs.append(ref)
    return refs


def timely(period: rules.Period) -> Q:
    """Finished by the due date within the period, or open at its end and not
    yet due; more than MAX_SUPPLEMENT_REQUESTS requests is never timely."""
    end = period.end
    open_at_end = Q(finished_at__isnull=True) | Q(finished_at__gte=end)
    return Q(supplement_requests__lte=rules.MAX_SUPPLEMENT_REQUESTS) & (
        open_at_end & Q(due_at__gte=end)
        | Q(finished_at__lt=end, finished_at__lte=F("due_at"))
    )


def open_overdue_at_end(period: rules.Period) -> Q:
    end = period.end
    return (Q(finished_at__isnull=True) | Q(finished_at__gte=end)) & Q(due_at__lt=end)


# Counts over the dossiers received in the period.
RECEIVED_COUNTS = (
    "online",
    "online_full",
    "digitized",
    "fee_required",
    "paid_online",
    "complaint_or_dissatisfied",
)


def count_filters(period: rules.Period) -> dict[str, Q]:
    """rules.classify as SQL: one filter per count, each valid over any cases."""
    start, end = period.start, period.end
    received = Q(received_at__gte=start, received_at__lt=end)
    in_scope = ~Q(status=DossierStatus.WITHDRAWN) & (
        received
        | Q(received_at__lt=start)
        & (Q(finished_at__isnull=True) | Q(finished_at__gte=start))
    )
    on_time = timely(period)
    online = Q(channel__in=[Channel.ONLINE_PARTIAL, Channel.ONLINE_FULL])
    return {
        "received": received,
        "in_scope": in_scope,
        "on_time": in_scope & on_time,
        "late": in_scope & ~on_time,
        "overdue_open": in_scope & open_overdue_at_end(period),
        "online": received & online,
        "online_full": received & Q(channel=Channel.ONLINE_FULL),
        "digitized": received & Q(digitized=True),
        "fee_required": received & Q(fee_required=True),
        "paid_online": received & Q(fee_required=True, paid_online=True),
        "complaint_or_dissatisfied": received
        & (Q(complaint=True) | Q(satisfaction="khong_hai_long")),
        "carried_in": in_scope & ~received,
        "finished_on_time": in_scope & finished_by_due(period),
    }


def finished_by_due(period: rules.Period) -> Q:
    """Finished within the period's end and by the due time, with at most
    MAX_SUPPLEMENT_REQUESTS requests: the part of "on time" that no later
    period can change."""
    return Q(
        supplement_requests__lte=rules.MAX_SUPPLEMENT_REQUESTS,
        finished_at__lt=period.end,
        finished_at__lte=F("due_at"),
    )


def candidates(period: rules.Period) -> Q:
    """The only cases that can count in a period: received in it, or received
    before it and still open at its start."""
    return Q(received_at__lt=period.end) & (
        Q(received_at__gte=period.start)
        | Q(finished_at__isnull=True)
        | Q(finished_at__gte=period.start)
    )


def aggregate(unit_ids: Iterable[int], ref: PeriodRef) -> dict[int, rules.Counts]:
    """Counts per unit for one period, in one query over the candidates.

    Among the candidates "in scope" is just "not withdrawn", and "late" is in
    scope but not on time: the query leaves both conditions out of its sums
    (a test checks the result against count_filters and procedures.rules)."""
    period = ref.period
    filters = count_filters(period)
    not_withdrawn = ~Q(status=DossierStatus.WITHDRAWN)
    sums = {
        "received": filters["received"],
        "in_scope": not_withdrawn,
        "on_time": not_withdrawn & timely(period),
        "overdue_open": not_withdrawn & open_overdue_at_end(period),
        **{name: filters[name] for name in RECEIVED_COUNTS},
        "carried_in": not_withdrawn & Q(received_at__lt=period.start),
        "finished_on_time": not_withdrawn & finished_by_due(period),
    }
    rows = (
        CaseRecord.objects.filter(candidates(period), unit_id__in=list(unit_ids))
        .values_list("unit_id")
        # Prefixed: an annotation named like a field ("digitized") would shadow
        # the field inside its own filter.
        .annotate(**{f"n_{name}": Count("pk", filter=q) for name, q in sums.items()})
    )
    found = {}
    for unit_id, *numbers in rows:
        values = dict(zip(sums, numbers, strict=True))
        values["late"] = values["in_scope"] - values["on_time"]
        found[unit_id] = rules.Counts(**values)
    return found


def metrics_recompute(
    *, unit_ids: Iterable[int], periods: Iterable[PeriodRef], as_of: datetime
) -> int:
    """Replace the stored counts of these units for these periods. Returns the
    number of rows written. Safe to run twice: it replaces, never adds.

    Months are aggregated from the cases, one query each; quarters and years
    are then combined from the stored months (rules.combine), which gives the
    same counts as aggregating their cases and reads a few hundred rows
    instead of a year of dossiers."""
    unit_ids = sorted(set(unit_ids))
    periods = sorted(
        set(periods),
        key=lambda ref: (ref.kind != PeriodKind.MONTH, ref.year, ref.number),
    )
    written = 0
    for ref in periods:
        if ref.kind == PeriodKind.MONTH:
            counts = aggregate(unit_ids, ref)
        else:
            counts = _combined(unit_ids, ref, as_of)
        written += _store(unit_ids, ref, counts, as_of)
    return written


def _store(
    unit_ids: list[int],
    ref: PeriodRef,
    counts: dict[int, rules.Counts],
    as_of: datetime,
) -> int:
    rows = [
        UnitMetric(
            unit_id=unit_id,
            period_kind=ref.kind,
            year=ref.year,
            number=ref.number,
            computed_at=as_of,
            **{name: getattr(c, name) for name in COUNT_FIELDS},
        )
        for unit_id, c in counts.items()
        if c.received or c.in_scope
    ]
    with transaction.atomic():
        UnitMetric.objects.filter(
            unit_id__in=unit_ids,
            period_kind=ref.kind,
            year=ref.year,
            number=ref.number,
        ).delete()
        UnitMetric.objects.bulk_create(rows)
    return len(rows)


def months_of(ref: PeriodRef) -> list[int]:
    if ref.kind == PeriodKind.MONTH:
        return [ref.number]
    if ref.kind == PeriodKind.QUARTER:
        return [3 * ref.number - 2, 3 * ref.number - 1, 3 * ref.number]
    return list(range(1, 13))


def _combined(
    unit_ids: list[int], ref: PeriodRef, as_of: datetime
) -> dict[int, rules.Counts]:
    """A quarter or year from its stored months. While it runs, its months up
    to the one containing ``as_of``: the figures so far, as at that month's end."""
    local = as_of.astimezone(LOCAL_TZ)
    months = [m for m in months_of(ref) if (ref.year, m) <= (local.year, local.month)]
    stored: dict[tuple[int, int], rules.Counts] = {
        (row["unit_id"], row["number"]): rules.Counts(
            **{name: row[name] for name in COUNT_FIELDS}
        )
        for row in UnitMetric.objects.filter(
            unit_id__in=unit_ids,
            period_kind=PeriodKind.MONTH,
            year=ref.year,
            number__in=months,
        ).values("unit_id", "number", *COUNT_FIELDS)
    }
    units = {unit for unit, _ in stored}
    return {
        unit: rules.combine(
            [stored.get((unit, month), rules.Counts()) for month in months]
        )
        for unit in units
    }


def metrics_recompute_affected(
    *, affected: Iterable[tuple[int, int, int]], as_of: datetime
) -> int:
    """After an import: the units it touched, from the earliest month it touched
    up to now."""
    affected = list(affected)
    if not affected:
        return 0
    first = min((year, month) for _, year, month in affected)
    return metrics_recompute(
        unit_ids={unit for unit, _, _ in affected},
        periods=periods_between(first, as_of),
        as_of=as_of,
    )
