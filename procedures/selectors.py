"""Reads of the procedures app."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from hashlib import md5
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from cchc_portal.lookups import AnyOf
from commitments.organisation.access import (
    RECORD_WRITE_ROLES,
    scope_queryset,
    units_q,
    units_visible_to,
    user_roles,
)
from commitments.organisation.models import SUBTREE_ROLES, Unit
from procedures import figures, rules
from procedures.metrics import (
    FIGURES,
    MonthRange,
    PeriodRef,
    count_filters,
    periods_of_year,
)
from procedures.models import (
    LATE_CANDIDATE,
    CaseRecord,
    DossierStatus,
    ImportRun,
    PeriodKind,
    Reminder,
    UnitMetric,
)
from procedures.parsing import LOCAL_TZ

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser


# --- Import runs -----------------------------------------------------------------

# Who may upload case records: the roles the import engine lets write rows
# (procedures.importer.run_import_by_id), each for its own units only.
IMPORT_ROLES = RECORD_WRITE_ROLES


def import_upload_allowed(*, user: AnyUser) -> bool:
    """Whether the user may upload case records for at least some unit."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(user_roles(user) & IMPORT_ROLES)


def import_runs_visible(*, user: AnyUser) -> QuerySet[ImportRun]:
    """The runs a user may open: a superuser every run, anyone else the runs
    they started. Any other run answers 404, as another unit's object does."""
    if not user.is_authenticated:
        return ImportRun.objects.none()
    if user.is_superuser:
        return ImportRun.objects.all()
    return ImportRun.objects.filter(user_id=user.pk)


def import_run_list(*, user: AnyUser) -> QuerySet[ImportRun]:
    """The user's runs, newest first, without the row errors (up to a thousand
    per run, and the list shows only their count)."""
    return (
        import_runs_visible(user=user)
        .select_related("user")
        .defer("errors")
        .order_by("-created_at", "-pk")
    )


def import_run_detail(*, user: AnyUser) -> QuerySet[ImportRun]:
    """The runs a user may open, with who started them and their row errors."""
    return import_runs_visible(user=user).select_related("user")


def import_run_progress(*, user: AnyUser) -> QuerySet[ImportRun]:
    """What the progress bar polls every second: the counts, not the errors."""
    return import_runs_visible(user=user).only(
        "status",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "rows_expected",
        "rows_done",
        "rows_total",
        "rows_new",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
    )


# --- Metrics -----------------------------------------------------------------------


def judged_as_of(computed_at: datetime | None, period: rules.Period) -> datetime | None:
    """The moment figures are "as of" (tính đến): when they were judged, if
    that was before the period ended; None for figures judged after it ended,
    which no longer move, and where nothing is stored."""
    if computed_at is None or computed_at >= period.end:
        return None
    return computed_at


@dataclass(frozen=True)
class MetricRow:
    """One period of a unit's 766 figures: the stored counts and the rates
    derived from them (rules.metrics), None where a denominator is zero;
    when they were judged, and the moment they are as of while the period
    had not ended then (judged_as_of)."""

    kind: str
    number: int
    counts: rules.Counts
    figures: rules.Metrics
    computed_at: datetime | None = None
    as_of: datetime | None = None


def unit_metric_rows(*, unit: Unit, year: int) -> list[MetricRow]:
    """The unit's months, quarters and year, in one query. A period without a
    stored row has no dossier at all: every rate is "no data"."""
    stored = {
        (m.period_kind, m.number): m
        for m in UnitMetric.objects.filter(unit=unit, year=year)
    }
    rows = []
    for ref in periods_of_year(year):
        metric = stored.get((ref.kind, ref.number))
        counts = figures.counts_from(metric) if metric else rules.Counts()
        computed_at = metric.computed_at if metric else None
        rows.append(
            MetricRow(
                ref.kind,
                ref.number,
                counts,
                rules.metrics(counts),
                computed_at,
                judged_as_of(computed_at, ref.period),
            )
        )
    return rows


def metric_years(*, unit: Unit) -> list[int]:
    return list(
        UnitMetric.objects.filter(unit=unit)
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


# --- Late and overdue dossiers -----------------------------------------------------


class LateKind:
    """Which late dossiers to list (the ``kind`` filter)."""

    ALL = ""
    FINISHED = "finished"
    OPEN = "open"

    choices = (
        (ALL, _("All late dossiers")),
        (FINISHED, _("Finished late")),
        (OPEN, _("Still open and overdue")),
    )


@dataclass(frozen=True)
class LateCaseFilters:
    """The late list's filters. Receipt bounds are aware datetimes, the start
    included and the end excluded (local calendar days and months, built by
    the filter form); ``late_in_year`` keeps the dossiers 766 counts late in
    that year (see year_so_far), and ``late_in_range`` those the figures of
    a range of whole months count late, both judged at ``late_as_of`` (the
    moment the figures linking here are as of) or else now."""

    unit: Unit | None = None
    procedure_code: str = ""
    officer: str = ""
    received_from: datetime | None = None
    received_before: datetime | None = None
    kind: str = LateKind.ALL
    channel: str = ""
    late_in_year: int | None = None
    late_in_range: MonthRange | None = None
    late_as_of: datetime | None = None


def year_so_far(year: int, as_of: datetime | None) -> rules.Period | None:
    """The local calendar year, ending at ``as_of`` while it runs
    (rules.so_far): an open dossier counts late only once past due. None for
    a year that has not begun; the whole year for ``as_of`` None."""
    period = rules.Period.year(year, LOCAL_TZ)
    return period if as_of is None else rules.so_far(period, as_of)


def late_in_period_q(period: rules.Period | None) -> Q:
    """In scope and not on time for the period, as procedures.metrics counts
    "late" (nothing for a period that has not begun)."""
    if period is None:
        return Q(pk__in=[])
    return count_filters(period, as_of=period.end)["late"]


def late_judged_at(filters: LateCaseFilters, now: datetime) -> datetime:
    """When the list judges "late in the year": the figures' moment it was
    opened from, never later than now. Late then is late now too (a dossier
    past due stays late however it ends), so the list holds exactly what
    those figures count."""
    return min(filters.late_as_of or now, now)


def late_or_overdue_q(*, now: datetime, kind: str = LateKind.ALL) -> Q:
    """Late as of ``now`` (procedures.rules): finished after the due time, or
    still open past it, or with more than MAX_SUPPLEMENT_REQUESTS requests for
    more documents whatever the dates. Withdrawn dossiers are never late."""
    too_many_requests = Q(supplement_requests__gt=rules.MAX_SUPPLEMENT_REQUESTS)
    finished = Q(finished_at__isnull=False) & (
        Q(finished_at__gt=F("due_at")) | too_many_requests
    )
    still_open = Q(finished_at__isnull=True) & (Q(due_at__lt=now) | too_many_requests)
    chosen = {
        LateKind.FINISHED: finished,
        LateKind.OPEN: still_open,
    }.get(kind, finished | still_open)
    return chosen & ~Q(status=DossierStatus.WITHDRAWN)


def late_cases(
    *, user: AnyUser, now: datetime, filters: LateCaseFilters
) -> QuerySet[CaseRecord]:
    """The late and open-overdue dossiers the user may see, with their unit and
    procedure in the same query.

    Open overdue dossiers are listed longest overdue first (the backlog to
    clear); otherwise the most recent due dates come first."""
    cases = scope_queryset(user, CaseRecord.objects.all()).filter(
        # Implied by the next: the partial indexes' condition, written out
        # so that PostgreSQL sees they hold every row it wants.
        LATE_CANDIDATE,
        late_or_overdue_q(now=now, kind=filters.kind),
    )
    if filters.late_in_year is not None:
        judged = late_judged_at(filters, now)
        cases = cases.filter(
            late_in_period_q(year_so_far(filters.late_in_year, judged))
        )
    if filters.late_in_range is not None:
        judged = late_judged_at(filters, now)
        cases = cases.filter(
            late_in_period_q(rules.so_far(filters.late_in_range.period, judged))
        )
    if filters.unit is not None:
        cases = cases.filter(unit=filters.unit)
    if filters.procedure_code:
        cases = cases.filter(procedure__code=filters.procedure_code)
    if filters.officer:
        cases = cases.filter(officer=filters.officer)
    if filters.received_from is not None:
        cases = cases.filter(received_at__gte=filters.received_from)
    if filters.received_before is not None:
        cases = cases.filter(received_at__lt=filters.received_before)
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    order = ("due_at", "pk") if filters.kind == LateKind.OPEN else ("-due_at", "-pk")
    return (
        cases.select_related("unit", "procedure")
        .only(
            "case_code",
            "received_at",
            "due_at",
            "finished_at",
            "status",
            "channel",
            "supplement_requests",
            "officer",
            "unit__code",
            "unit__name",
            "procedure__code",
            "procedure__name",
        )
        .order_by(*order)
    )


def days_late(case: CaseRecord, now: datetime) -> int:
    """Whole days (rounded up) past the due time: at the finish, or ``now`` for
    an open dossier. 0 for a dossier late only by its requests for more
    documents."""
    end = case.finished_at or now
    overdue = (end - case.due_at).total_seconds()
    return math.ceil(overdue / 86400) if overdue > 0 else 0


# --- Reminders and repeated lateness -----------------------------------------------

# Who records reminders (nhắc nhở): the reviewers and leaders whose
# jurisdiction the unit lies in; superusers anywhere. A unit's own staff and
# heads read theirs but do not issue them.
REMINDER_ROLES = SUBTREE_ROLES


def reminder_allowed(*, user: AnyUser) -> bool:
    """Whether the user may record reminders for at least some unit."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(user_roles(user) & REMINDER_ROLES)


def reminder_units(*, user: AnyUser) -> QuerySet[Unit]:
    """The units the user may record reminders for (withdrawing is for
    Home Affairs only: procedures.services.reminder_withdraw_allowed)."""
    return Unit.objects.filter(units_q(user, roles=REMINDER_ROLES))


def reminder_allowed_for(*, user: AnyUser, unit: Unit) -> bool:
    return reminder_units(user=user).filter(pk=unit.pk).exists()


def reminder_list(
    *, user: AnyUser, year: int | None = None, unit: Unit | None = None
) -> QuerySet[Reminder]:
    reminders = scope_queryset(user, Reminder.objects.all()).select_related(
        "unit", "issued_by"
    )
    if year is not None:
        reminders = reminders.filter(year=year)
    if unit is not None:
        reminders = reminders.filter(unit=unit)
    return reminders.order_by("-issued_on", "-pk")


def reminder_years(*, user: AnyUser) -> list[int]:
    return list(
        scope_queryset(user, Reminder.objects.all())
        .order_by("-year")
        .values_list("year", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class RepeatedLateness:
    """A unit (``officer`` empty) or one of its officers, reminded in the year
    before and late at least the threshold number of times this year."""

    unit: Unit
    officer: str
    late_count: int
    reminders: tuple[Reminder, ...]


def repeated_lateness(
    year: int,
    *,
    user: AnyUser | None,
    threshold: int = rules.REPEATED_LATENESS_THRESHOLD,
    as_of: datetime | None = None,
) -> list[RepeatedLateness]:
    """Seed 003: the units and officers reminded in ``year`` − 1 and late at
    least ``threshold`` times in ``year`` (rules.repeatedly_late), among those
    the user may see (every unit for ``user`` None: the year's evaluation).
    Three queries whatever the number of units: the reminders, then the late
    counts of the reminded units and of the reminded officers, each grouped
    in the database.

    A unit's count is all its late dossiers; an officer's, those of that unit
    that name them. A reminder to an officer is not one to the unit as a whole,
    nor the other way round. "Late" is counted as procedures.metrics counts it
    for the year, cut at ``as_of`` while the year runs (year_so_far)."""
    # A withdrawn reminder stays in the list but counts for nothing.
    reminded = Reminder.objects.filter(year=year - 1, withdrawn_at__isnull=True)
    reminders = (
        (reminded if user is None else scope_queryset(user, reminded))
        .select_related("unit", "issued_by")
        .order_by("unit__path", "officer", "issued_on", "pk")
    )
    by_target: dict[tuple[int, str], list[Reminder]] = defaultdict(list)
    for reminder in reminders:
        by_target[(reminder.unit_id, reminder.officer)].append(reminder)
    if not by_target:
        return []

    late = CaseRecord.objects.filter(late_in_period_q(year_so_far(year, as_of)))
    unit_ids = {unit_id for unit_id, officer in by_target if not officer}
    counts: dict[tuple[int, str], int] = {}
    if unit_ids:
        rows = (
            late.filter(unit_id__in=unit_ids)
            .values_list("unit_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts.update(((unit_id, ""), n) for unit_id, n in rows)
    officers = {key for key in by_target if key[1]}
    if officers:
        rows = (
            late.filter(
                unit_id__in={unit_id for unit_id, _officer in officers},
                officer__in={officer for _unit, officer in officers},
            )
            .values_list("unit_id", "officer")
            .annotate(n=Count("pk"))
            .order_by()
        )
        # The query pairs every unit with every officer asked; keep the pairs
        # that were reminded.
        counts.update(
            ((unit_id, officer), n)
            for unit_id, officer, n in rows
            if (unit_id, officer) in officers
        )

    flagged = []
    for key, issued in by_target.items():
        late_count = counts.get(key, 0)
        if rules.repeatedly_late(True, late_count, threshold):
            flagged.append(
                RepeatedLateness(issued[0].unit, key[1], late_count, tuple(issued))
            )
    return flagged


# --- The 766 figures: what other apps read of a unit's counts ----------------------
# (procedures.metrics writes them; procedures.figures names them.)

# (unit id, year, last month counted)
MonthKey = tuple[int, int, int]


def unit_counts(unit_id: int, ref: PeriodRef) -> rules.Counts | None:
    """One unit's stored counts for one period; None when nothing is stored."""
    row = UnitMetric.objects.filter(
        unit_id=unit_id, period_kind=ref.kind, year=ref.year, number=ref.number
    ).first()
    return None if row is None else figures.counts_from(row)


def _valid_in_year(valid_from: date, valid_to: date | None, year: int) -> bool:
    return valid_from <= date(year, 12, 31) and (
        valid_to is None or valid_to >= date(year, 1, 1)
    )


def lineage_units(unit_ids: Iterable[int], year: int) -> dict[int, list[int]]:
    """For each unit, the units whose dossiers its figures of ``year`` are
    made of: itself, then each predecessor (through the lineage, a merger's
    merger too) that ended before the year was over and has this unit as its
    only successor, while this unit exists in the year. A ward formed on
    01/07/2025 from three wards is its own dossiers and theirs: a whole year.
    A unit split into several has no single heir of its dossiers and is
    added to none. Two queries, and one more per generation of mergers."""
    asked = list(dict.fromkeys(unit_ids))
    found = {unit_id: [unit_id] for unit_id in asked}
    through = Unit.predecessors.through.objects
    # Each unit reached, with the asked units whose figures it adds to.
    frontier: dict[int, list[int]] = {unit_id: [unit_id] for unit_id in asked}
    while frontier:
        edges = list(
            through.filter(AnyOf(F("from_unit_id"), frontier)).values_list(
                "from_unit_id", "to_unit_id"
            )
        )
        if not edges:
            break
        before = {predecessor for _successor, predecessor in edges}
        heirs: dict[int, int] = defaultdict(int)
        for predecessor in through.filter(to_unit_id__in=list(before)).values_list(
            "to_unit_id", flat=True
        ):
            heirs[predecessor] += 1
        validity = {
            pk: (start, end)
            for pk, start, end in Unit.objects.filter(
                pk__in=[*before, *frontier]
            ).values_list("pk", "valid_from", "valid_to")
        }
        following: dict[int, list[int]] = defaultdict(list)
        for successor, predecessor in sorted(edges):
            start, end = validity[successor]
            _start, ended = validity[predecessor]
            if (
                heirs[predecessor] != 1
                or not _valid_in_year(start, end, year)
                or ended is None
                or ended >= date(year, 12, 31)
            ):
                continue
            for owner in frontier[successor]:
                if predecessor not in found[owner]:  # a loop in bad data
                    found[owner].append(predecessor)
                    following[predecessor].append(owner)
        frontier = following
    return found


def year_counts(
    year: int, unit_ids: Iterable[int] | None = None
) -> dict[int, rules.Counts]:
    """Each unit's counts of the year (every unit with figures when
    ``unit_ids`` is None; for the running year, to the last recompute), its
    predecessors' added (lineage_units: a ward merged in mid-year counts
    the whole year of its area). Counts of different units add exactly:
    each dossier belongs to one unit. A unit with nothing counted received
    nothing and is left out."""
    if unit_ids is None:
        asked = set(
            UnitMetric.objects.filter(period_kind=PeriodKind.YEAR, year=year)
            .order_by()
            .values_list("unit_id", flat=True)
        ) | set(
            Unit.predecessors.through.objects.order_by().values_list(
                "from_unit_id", flat=True
            )
        )
    else:
        asked = set(unit_ids)
    lineage = lineage_units(asked, year)
    wanted = {unit_id for units in lineage.values() for unit_id in units}
    rows = UnitMetric.objects.filter(
        AnyOf(F("unit_id"), wanted), period_kind=PeriodKind.YEAR, year=year, number=1
    )
    own = {
        unit_id: rules.Counts(**dict(zip(figures.COUNT_FIELDS, counts, strict=True)))
        for unit_id, *counts in rows.order_by().values_list(
            "unit_id", *figures.COUNT_FIELDS
        )
    }
    found = {}
    for unit_id, units in lineage.items():
        counted = [own[u] for u in units if u in own]
        if counted:
            found[unit_id] = sum(counted, rules.Counts())
    return found


def year_sources(unit: Unit, year: int) -> list[Unit]:
    """The predecessors whose dossiers a unit's figures of the year add to
    its own (lineage_units), for a page to name them."""
    ids = lineage_units([unit.pk], year)[unit.pk][1:]
    return list(Unit.objects.filter(pk__in=ids).order_by("name"))


# A month's number above a count, in one integer: the greatest of these over a
# unit's months is its last month's count (procedures' counts stay far below
# 2**40), so one grouped query reads the last month beside the sums, without
# sorting the months.
_MONTH_SHIFT = 2**40


def _last_month(name: str) -> Max:
    return Max(F("number") * Value(_MONTH_SHIFT) + F(name))


def _months_combined(
    year: int, up_to: int, unit_ids: Iterable[int] | None
) -> dict[int, rules.Counts]:
    """Each unit's months of ``year`` from January to its last month computed
    up to ``up_to``, combined as rules.combine does, by the database in one
    grouped query: the sums over its months, and its last month's on-time and
    overdue counts (a period's are its last month's own). Every unit with a
    month when ``unit_ids`` is None."""
    months = UnitMetric.objects.filter(
        period_kind=PeriodKind.MONTH, year=year, number__lte=up_to
    )
    if unit_ids is not None:
        months = months.filter(AnyOf(F("unit_id"), unit_ids))
    rows = (
        months.order_by()
        .values("unit_id")
        .annotate(
            last_on_time=_last_month("on_time"),
            last_finished=_last_month("finished_on_time"),
            last_overdue=_last_month("overdue_open"),
            first_carried_in=Sum(
                Case(When(number=1, then=F("carried_in")), default=Value(0))
            ),
            own_in_scope=Sum(F("in_scope") - F("carried_in")),
            finished=Sum("finished_on_time"),
            **{f"total_{name}": Sum(name) for name in rules.RECEIVED_FIELDS},
        )
        .values_list(
            "unit_id",
            "last_on_time",
            "last_finished",
            "last_overdue",
            "first_carried_in",
            "own_in_scope",
            "finished",
            *(f"total_{name}" for name in rules.RECEIVED_FIELDS),
        )
    )
    combined = {}
    for unit_id, *row in rows:
        last_on_time, last_finished, last_overdue, carried_in, own, finished = row[:6]
        in_scope = carried_in + own
        on_time = finished + last_on_time % _MONTH_SHIFT - last_finished % _MONTH_SHIFT
        combined[unit_id] = rules.Counts(
            **dict(zip(rules.RECEIVED_FIELDS, row[6:], strict=True)),
            in_scope=in_scope,
            on_time=on_time,
            late=in_scope - on_time,
            overdue_open=last_overdue % _MONTH_SHIFT,
            carried_in=carried_in,
            finished_on_time=finished,
        )
    return combined


# From this many units, a (year, up to month)'s months are combined for every
# unit once per generation of the figures (metrics.FIGURES) and kept: a
# province's target progress read them on every visit (about 50 ms for 3,321
# communes). Fewer are read directly: a commune's few rows cost less than
# unpacking a province.
KEPT_FROM_UNITS = 200
MONTHS_KEPT_SECONDS = 60 * 60
_COUNT_NAMES = tuple(field.name for field in fields(rules.Counts))
# What the kept tuples hold: a new figure changes the key.
_MONTHS_KEY = (
    "figures:months:{year}:{up_to}:"
    + md5(",".join(_COUNT_NAMES).encode(), usedforsecurity=False).hexdigest()[:8]
)


def _months_combined_kept(
    year: int, up_to: int, unit_ids: set[int]
) -> dict[int, rules.Counts]:
    """_months_combined of ``unit_ids``; for many units, from every unit's
    months combined once in the figures' current generation and kept."""
    if len(unit_ids) < KEPT_FROM_UNITS:
        return _months_combined(year, up_to, unit_ids)
    key = _MONTHS_KEY.format(year=year, up_to=up_to)
    token, kept = FIGURES.lookup(key)
    if kept is None:
        # Tuples, not Counts: a province's unpickle in a few milliseconds.
        kept = {
            unit_id: tuple(getattr(counts, name) for name in _COUNT_NAMES)
            for unit_id, counts in _months_combined(year, up_to, None).items()
        }
        FIGURES.keep(key, token, kept, MONTHS_KEPT_SECONDS)
    return {
        unit_id: rules.Counts(*kept[unit_id]) for unit_id in unit_ids if unit_id in kept
    }


def rates_up_to_month(
    keys: Iterable[MonthKey], names: Iterable[str] | None = None
) -> dict[MonthKey, dict[str, Decimal | None]]:
    """The rates of each (unit, year, up to month), over January to the last
    month computed up to it, its predecessors' months added (lineage_units):
    the figures of ``names`` (every figure when None). The months are
    combined by the database, one query for each (year, month) asked
    whatever the number of units, and the lineage's. A key with no month row
    at all has no values (every rate None: no data is not 0%).

    To the last month computed: a month not computed yet (no import since it
    began) is not a month without dossiers, and reading it as one would drop
    the dossiers still open and not yet due."""
    wanted = set(keys)
    if not wanted:
        return {}
    asked = figures.FIGURE_NAMES if names is None else tuple(dict.fromkeys(names))
    lineage: dict[tuple[int, int], list[int]] = {}
    for year in {year for _unit, year, _month in wanted}:
        units = {unit_id for unit_id, y, _month in wanted if y == year}
        for unit_id, members in lineage_units(units, year).items():
            lineage[(unit_id, year)] = members
    values: dict[MonthKey, dict[str, Decimal | None]] = {}
    for year, up_to in {(year, month) for _unit, year, month in wanted}:
        group = [key for key in wanted if key[1:] == (year, up_to)]
        months = _months_combined_kept(
            year,
            up_to,
            {member for unit_id, *_ in group for member in lineage[(unit_id, year)]},
        )
        for key in group:
            counted = [
                months[member] for member in lineage[(key[0], year)] if member in months
            ]
            if not counted:
                values[key] = dict.fromkeys(asked)
                continue
            # Most units are their own lineage: no addition to make.
            combined = counted[0] if len(counted) == 1 else sum(counted, rules.Counts())
            values[key] = {name: rules.figure(combined, name) for name in asked}
    return values


# --- Every unit's figures, for a list, a download or the API ------------------------

# The period kind of a range of whole months (PeriodKind names the stored ones).
RANGE = "range"


@dataclass(frozen=True)
class FigureSlot:
    """One row of a figures list: a unit and a period, stored (a month,
    quarter or year: ``year`` and ``number``) or a range of whole months."""

    unit_id: int
    unit_code: str
    unit_name: str
    kind: str
    year: int | None
    number: int | None
    span: MonthRange


@dataclass(frozen=True)
class FigureRow:
    """A slot's figures: zero counts and None rates where nothing is stored
    (no dossier: no data, never 0% or 100%)."""

    slot: FigureSlot
    counts: rules.Counts
    figures: rules.Metrics
    computed_at: datetime | None
    as_of: datetime | None


def _first_day(span: MonthRange) -> date:
    return date(*span.first, 1)


def _last_day(span: MonthRange) -> date:
    year, month = span.last
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def _valid_during(valid_from: date, valid_to: date | None, span: MonthRange) -> bool:
    """A unit valid on some day of the range (a merged unit is a row up to
    its last month)."""
    return valid_from <= _last_day(span) and (
        valid_to is None or valid_to >= _first_day(span)
    )


def _months_q(span: MonthRange) -> Q:
    """The month rows of the range's months, on (year, number)."""
    (first_year, first_month), (last_year, last_month) = span.first, span.last
    if first_year == last_year:
        return Q(year=first_year, number__gte=first_month, number__lte=last_month)
    return (
        Q(year=first_year, number__gte=first_month)
        | Q(year__gt=first_year, year__lt=last_year)
        | Q(year=last_year, number__lte=last_month)
    )


def figure_years(*, user: AnyUser, unit_code: str | None = None) -> list[int]:
    """The years with figures stored for the units the user sees."""
    rows = scope_queryset(user, UnitMetric.objects.all())
    if unit_code is not None:
        rows = rows.filter(unit__code=unit_code)
    return list(rows.order_by("year").values_list("year", flat=True).distinct())


def figure_slots(
    *,
    user: AnyUser,
    unit_code: str | None = None,
    years: Iterable[int] = (),
    kind: str | None = None,
    span: MonthRange | None = None,
) -> list[FigureSlot]:
    """Every unit the user sees (or the one of ``unit_code``), for every
    period asked, ordered by unit code, year, period kind and number: the
    units valid in the period, and any other with figures stored for it (a
    unit closed by a merger whose dossiers still count). The periods are one
    range of whole months (``span``), or the months, quarters and year (or
    the periods of one ``kind``) of ``years``. Two queries at most, whatever
    the number of units: the units, then the stored periods of those not
    valid throughout."""
    periods: list[tuple[str, int | None, int | None, MonthRange]]
    if span is not None:
        periods = [(RANGE, None, None, span)]
    else:
        periods = [
            (ref.kind, ref.year, ref.number, ref.span)
            for year in sorted(set(years))
            for ref in periods_of_year(year)
            if kind is None or ref.kind == kind
        ]
    if not periods:
        return []
    whole = MonthRange(periods[0][3].first, periods[-1][3].last)
    stored_in_range = (
        _months_q(whole) & Q(period_kind=PeriodKind.MONTH)
        if span is not None
        else Q(year__gte=whole.first[0], year__lte=whole.last[0])
    )
    units = units_visible_to(user).filter(
        Q(valid_from__lte=_last_day(whole))
        & (Q(valid_to__isnull=True) | Q(valid_to__gte=_first_day(whole)))
        | Exists(UnitMetric.objects.filter(stored_in_range, unit=OuterRef("pk")))
    )
    if unit_code is not None:
        units = units.filter(code=unit_code)
    found = list(
        units.order_by("code").values_list(
            "pk", "code", "name", "valid_from", "valid_to"
        )
    )
    partly = [
        pk
        for pk, _code, _name, valid_from, valid_to in found
        if not all(_valid_during(valid_from, valid_to, p[3]) for p in periods)
    ]
    stored: set[tuple[int, str, int | None, int | None]] = set()
    if partly:
        rows = UnitMetric.objects.filter(stored_in_range, unit_id__in=partly)
        for unit_id, period_kind, year, number in rows.values_list(
            "unit_id", "period_kind", "year", "number"
        ):
            if span is not None:
                stored.add((unit_id, RANGE, None, None))
            else:
                stored.add((unit_id, period_kind, year, number))
    return [
        FigureSlot(pk, code, name, period_kind, year, number, months)
        for pk, code, name, valid_from, valid_to in found
        for period_kind, year, number, months in periods
        if _valid_during(valid_from, valid_to, months)
        or (pk, period_kind, year, number) in stored
    ]


def range_counts(
    unit_ids: Iterable[int], span: MonthRange
) -> dict[int, tuple[rules.Counts, datetime]]:
    """Each unit's counts over a range of whole months, combined from its
    stored months (rules.combine, exactly as counting its cases over the
    range), with when the latest of them was judged. One query.

    Combined up to the unit's last month with a row: a month after it with no
    row either holds nothing of the unit's (nothing received, nothing open at
    its start: it would change nothing) or has not been judged yet (the figures
    are then as of the last month judged). A unit with no month row in the
    range is left out: no data."""
    rows = (
        UnitMetric.objects.filter(
            _months_q(span),
            AnyOf(F("unit_id"), unit_ids),
            period_kind=PeriodKind.MONTH,
        )
        .order_by()
        .values_list("unit_id", "year", "number", "computed_at", *figures.COUNT_FIELDS)
    )
    months: dict[int, dict[tuple[int, int], rules.Counts]] = defaultdict(dict)
    judged: dict[int, datetime] = {}
    for unit_id, year, number, computed_at, *counts in rows:
        months[unit_id][(year, number)] = rules.Counts(
            **dict(zip(figures.COUNT_FIELDS, counts, strict=True))
        )
        judged[unit_id] = max(computed_at, judged.get(unit_id, computed_at))
    found = {}
    for unit_id, stored in months.items():
        last = max(stored)
        combined = rules.combine(
            [
                stored.get(month, rules.Counts())
                for month in span.months
                if month <= last
            ]
        )
        found[unit_id] = (combined, judged[unit_id])
    return found


def figure_rows(slots: Sequence[FigureSlot]) -> list[FigureRow]:
    """The figures of these slots, in their order: stored months, quarters
    and years as stored, ranges combined from their stored months
    (range_counts). Two queries at most, whatever the number of slots."""
    stored_slots = [slot for slot in slots if slot.kind != RANGE]
    stored: dict[tuple[int, str, int | None, int | None], UnitMetric] = {}
    if stored_slots:
        for metric in UnitMetric.objects.filter(
            AnyOf(F("unit_id"), {slot.unit_id for slot in stored_slots}),
            year__in={slot.year for slot in stored_slots},
            period_kind__in={slot.kind for slot in stored_slots},
        ):
            key = (metric.unit_id, metric.period_kind, metric.year, metric.number)
            stored[key] = metric
    ranges: dict[MonthRange, dict[int, tuple[rules.Counts, datetime]]] = {}
    for span in {slot.span for slot in slots if slot.kind == RANGE}:
        units = {slot.unit_id for slot in slots if slot.kind == RANGE}
        ranges[span] = range_counts(units, span)
    found = []
    for slot in slots:
        counts, computed_at = rules.Counts(), None
        if slot.kind == RANGE:
            if slot.unit_id in ranges[slot.span]:
                counts, computed_at = ranges[slot.span][slot.unit_id]
        else:
            row = stored.get((slot.unit_id, slot.kind, slot.year, slot.number))
            if row is not None:
                counts, computed_at = figures.counts_from(row), row.computed_at
        found.append(
            FigureRow(
                slot,
                counts,
                rules.metrics(counts),
                computed_at,
                judged_as_of(computed_at, slot.span.period),
            )
        )
    return found


def unit_range_row(*, unit: Unit, span: MonthRange) -> FigureRow:
    """One unit's figures over a range of whole months (figure_rows)."""
    slot = FigureSlot(unit.pk, unit.code, unit.name, RANGE, None, None, span)
    return figure_rows([slot])[0]
