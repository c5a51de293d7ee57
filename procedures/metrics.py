"""The 766 counts per unit and period, by SQL aggregation into UnitMetric.

The conditions below are procedures.rules written as SQL filters; a test checks
that both give the same counts on the same cases. One query per period covers
every unit asked for (GROUP BY unit), so the work grows with the periods, not
with the units.

Every row is judged at a moment, its ``computed_at`` (the ``as_of`` it was
computed with): a period over by then is judged at its end, a running one at
that moment (rules.so_far). Nothing but time moves a running period's figures
between two imports, and only in two ways: an open dossier falls due, and a
month ends. The beat re-judges them (metrics_refresh, metrics_refresh_due)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q

from cchc_portal.generations import Generation
from commitments.organisation.models import Unit
from procedures import rules
from procedures.figures import COUNT_FIELDS
from procedures.models import CaseRecord, Channel, DossierStatus, PeriodKind, UnitMetric
from procedures.parsing import LOCAL_TZ

# (year, month)
Month = tuple[int, int]


@dataclass(frozen=True)
class MonthRange:
    """Whole months from ``first`` to ``last`` (year, month), both included:
    a month, a quarter, a year, or any range such as the year-to-date of a
    published 766 table (January to September)."""

    first: Month
    last: Month

    def __post_init__(self) -> None:
        for _year, month in (self.first, self.last):
            if not 1 <= month <= 12:
                raise ValueError(f"month must be 1 to 12, got {month}")
        if self.last < self.first:
            raise ValueError(f"{self.last} is before {self.first}")

    @property
    def period(self) -> rules.Period:
        return rules.Period.months(self.first, self.last, LOCAL_TZ)

    @property
    def months(self) -> list[Month]:
        found = []
        year, month = self.first
        while (year, month) <= self.last:
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


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

    @property
    def span(self) -> MonthRange:
        months = months_of(self)
        return MonthRange((self.year, months[0]), (self.year, months[-1]))


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
# The stored figures' generation: it changes once a recompute's rows commit
# (_store), so what is kept from them (selectors: a province's months
# combined) is never served after a change.
FIGURES = Generation("figures:generation")

RECEIVED_COUNTS = (
    "online",
    "online_full",
    "digitized",
    "fee_required",
    "paid_online",
    "complaint_or_dissatisfied",
)


def count_filters(period: rules.Period, *, as_of: datetime) -> dict[str, Q]:
    """rules.classify as SQL, judged at ``as_of`` as the rules judge it: one
    filter per count, each valid over any cases. Nothing matches in a period
    that has not begun by ``as_of``."""
    seen = rules.so_far(period, as_of)
    if seen is None:
        return {name: Q(pk__in=[]) for name in COUNT_FIELDS}
    return _count_filters(seen)


def _count_filters(period: rules.Period) -> dict[str, Q]:
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


def aggregate(
    unit_ids: Iterable[int], ref: PeriodRef, as_of: datetime | None = None
) -> dict[int, rules.Counts]:
    """Counts per unit for one period judged at ``as_of`` (None: at the
    period's end, as for a period over), in one query over the candidates.

    Among the candidates "in scope" is just "not withdrawn", and "late" is in
    scope but not on time: the query leaves both conditions out of its sums
    (a test checks the result against count_filters and procedures.rules)."""
    period = rules.so_far(ref.period, as_of) if as_of is not None else ref.period
    if period is None:
        return {}
    filters = _count_filters(period)
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

    Every period is judged at ``as_of`` (rules.so_far) and its rows carry it
    as ``computed_at``. Months are aggregated from the cases, one query each;
    quarters and years are then combined from the stored months
    (rules.combine), which gives the same counts as aggregating their cases
    and reads a few hundred rows instead of a year of dossiers. Combining
    needs each month as at its end and the running one as at ``as_of``: a
    month of theirs stored as judged earlier is judged again first."""
    unit_ids = sorted(set(unit_ids))
    asked = set(periods)
    combined = [ref for ref in asked if ref.kind != PeriodKind.MONTH]
    asked |= _months_judged_early(unit_ids, combined, as_of)
    ordered = sorted(
        asked,
        key=lambda ref: (ref.kind != PeriodKind.MONTH, ref.year, ref.number),
    )
    written = 0
    for ref in ordered:
        if ref.kind == PeriodKind.MONTH:
            counts = aggregate(unit_ids, ref, as_of)
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
        ).exclude(unit_id__in=[row.unit_id for row in rows]).delete()
        # An upsert, not delete-and-insert: the beat's refresh and an import's
        # recompute may write the same rows at once, and the later one must
        # not fail on the unique constraint.
        UnitMetric.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["unit", "period_kind", "year", "number"],
            update_fields=[*COUNT_FIELDS, "computed_at"],
        )
        FIGURES.advance()
    return len(rows)


def months_of(ref: PeriodRef) -> list[int]:
    if ref.kind == PeriodKind.MONTH:
        return [ref.number]
    if ref.kind == PeriodKind.QUARTER:
        return [3 * ref.number - 2, 3 * ref.number - 1, 3 * ref.number]
    return list(range(1, 13))


def begun(months: Iterable[Month], as_of: datetime) -> list[Month]:
    """The months that have begun by ``as_of``: a month not begun is not a
    month without dossiers, and rules.combine must not be handed one."""
    return [
        (year, month)
        for year, month in months
        if rules.Period.month(year, month, LOCAL_TZ).start < as_of
    ]


def _combined(
    unit_ids: list[int], ref: PeriodRef, as_of: datetime
) -> dict[int, rules.Counts]:
    """A quarter or year from its stored months. While it runs, its months up
    to the one containing ``as_of``, that one judged at ``as_of``: the figures
    so far."""
    months = [m for _, m in begun(((ref.year, m) for m in months_of(ref)), as_of)]
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


def _months_judged_early(
    unit_ids: list[int], refs: list[PeriodRef], as_of: datetime
) -> set[PeriodRef]:
    """The months of these quarters and years, begun by ``as_of``, whose rows
    for these units were judged before the month ended (or, for the running
    month, before ``as_of``). One query."""
    wanted = {(ref.year, m) for ref in refs for m in months_of(ref)}
    if not wanted:
        return set()
    rows = (
        UnitMetric.objects.filter(
            unit_id__in=unit_ids,
            period_kind=PeriodKind.MONTH,
            year__in={year for year, _ in wanted},
            computed_at__lt=as_of,
        )
        .values_list("year", "number")
        .annotate(oldest=Min("computed_at"))
        .order_by()
    )
    early = set()
    for year, number, oldest in rows:
        ref = PeriodRef(PeriodKind.MONTH, year, number)
        period = ref.period
        started = period.start < as_of
        if (year, number) in wanted and started and oldest < min(period.end, as_of):
            early.add(ref)
    return early


def first_month_judged_early(as_of: datetime) -> Month | None:
    """The first month over by ``as_of`` that some unit's row judged before
    it ended: the month that has just rolled over, until it is judged again.
    One grouped query over the month rows."""
    rows = (
        UnitMetric.objects.filter(period_kind=PeriodKind.MONTH, computed_at__lt=as_of)
        .values_list("year", "number")
        .annotate(oldest=Min("computed_at"))
        .order_by()
    )
    early = [
        (year, number)
        for year, number, oldest in rows
        if oldest < rules.Period.month(year, number, LOCAL_TZ).end <= as_of
    ]
    return min(early, default=None)


def metrics_refresh(*, as_of: datetime) -> int:
    """Every unit's figures of the month, quarter and year running at
    ``as_of``, judged again at ``as_of``, and those of any month judged before
    it ended (the month that has just rolled over): early every morning, by
    beat, so that figures age without an import. Returns the rows written."""
    local = as_of.astimezone(LOCAL_TZ)
    first = (local.year, local.month)
    early = first_month_judged_early(as_of)
    return metrics_recompute(
        unit_ids=Unit.objects.values_list("pk", flat=True),
        periods=periods_between(min(first, early or first), as_of),
        as_of=as_of,
    )


def metrics_refresh_due(*, as_of: datetime) -> int:
    """What time alone has changed since the running figures were judged,
    judged again at ``as_of``: every few minutes, by beat, so that the figures
    keep up with the late-dossier list.

    - A month judged before it ended has since ended: every unit, from that
      month (metrics_refresh).
    - Otherwise, the units with an open dossier that has fallen due since their
      running month was judged: their running month, quarter and year. One
      query for the month's rows, one grouped query over the open dossiers due
      since the month began.

    Returns the rows written."""
    if first_month_judged_early(as_of) is not None:
        return metrics_refresh(as_of=as_of)
    local = as_of.astimezone(LOCAL_TZ)
    month = rules.Period.month(local.year, local.month, LOCAL_TZ)
    judged = dict(
        UnitMetric.objects.filter(
            period_kind=PeriodKind.MONTH, year=local.year, number=local.month
        ).values_list("unit_id", "computed_at")
    )
    # Due since the month began, compared below with each unit's moment: a
    # unit with no row this month is taken as judged at its start.
    fallen_due = (
        CaseRecord.objects.filter(
            finished_at__isnull=True, due_at__gte=month.start, due_at__lt=as_of
        )
        .exclude(status=DossierStatus.WITHDRAWN)
        .values_list("unit_id")
        .annotate(last_due=Max("due_at"))
        .order_by()
    )
    unit_ids = [
        unit_id
        for unit_id, last_due in fallen_due
        if last_due >= judged.get(unit_id, month.start)
    ]
    if not unit_ids:
        return 0
    return metrics_recompute(
        unit_ids=unit_ids,
        periods=periods_between((local.year, local.month), as_of),
        as_of=as_of,
    )


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
