"""The 766 counts per unit and period, by SQL aggregation into UnitMetric.

The conditions below are procedures.rules written as SQL filters; a test checks
that both give the same counts on the same cases. One query per period covers
every unit asked for (GROUP BY unit), so the work grows with the periods, not
with the units."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Q

from procedures import rules
from procedures.models import CaseRecord, CaseStatus, Channel, PeriodKind, UnitMetric
from procedures.parsing import LOCAL_TZ

COUNT_FIELDS = tuple(f.name for f in fields(rules.Counts))


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
    in_scope = ~Q(status=CaseStatus.WITHDRAWN) & (
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
    }


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
    not_withdrawn = ~Q(status=CaseStatus.WITHDRAWN)
    sums = {
        "received": filters["received"],
        "in_scope": not_withdrawn,
        "on_time": not_withdrawn & timely(period),
        "overdue_open": not_withdrawn & open_overdue_at_end(period),
        **{name: filters[name] for name in RECEIVED_COUNTS},
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
    number of rows written. Safe to run twice: it replaces, never adds."""
    unit_ids = sorted(set(unit_ids))
    written = 0
    for ref in periods:
        counts = aggregate(unit_ids, ref)
        with transaction.atomic():
            UnitMetric.objects.filter(
                unit_id__in=unit_ids,
                period_kind=ref.kind,
                year=ref.year,
                number=ref.number,
            ).delete()
            UnitMetric.objects.bulk_create(
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
            )
        written += sum(1 for c in counts.values() if c.received or c.in_scope)
    return written


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


def unit_counts(unit_id: int, ref: PeriodRef) -> rules.Counts | None:
    row = UnitMetric.objects.filter(
        unit_id=unit_id, period_kind=ref.kind, year=ref.year, number=ref.number
    ).first()
    if row is None:
        return None
    return rules.Counts(**{name: getattr(row, name) for name in COUNT_FIELDS})
