"""The case-record metrics of Decision 766/QĐ-TTg (DOMAIN.md section 7) as plain
functions over frozen dataclasses.

These rules are the reference semantics: the SQL aggregation that computes the
same numbers over millions of rows must agree with them case by case, so every
rule is a small, separate step. No ORM and no clock here: periods and the
moment the figures are judged at (``as_of``) are passed in; a dossier's state at
that moment is read from its dates alone.

A period over by ``as_of`` is judged at its end, whatever ``as_of``; a period
still running is judged at ``as_of`` (``so_far``): an open dossier not yet due
then is neither late nor overdue, however soon it falls due.

Pipeline: ``classify`` one case for one period → ``count`` many cases into
``Counts`` (which add up across units or batches) → ``metrics`` turns counts
into rates and 766 scores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo


class DossierStatus(StrEnum):
    """Values of the interchange format's ``status`` column; the model's
    TextChoices carry the same values (checked by a test)."""

    RECEIVED = "da_tiep_nhan"
    PROCESSING = "dang_xu_ly"
    WAITING = "cho_bo_sung"
    FINISHED = "da_xu_ly_xong"
    RETURNED = "da_tra_ket_qua"
    REJECTED = "tu_choi"
    WITHDRAWN = "rut_ho_so"


class Channel(StrEnum):
    """Values of the ``channel`` column (the old "mức độ 3 / 4" are the two
    online ones)."""

    IN_PERSON = "truc_tiep"
    POST = "buu_chinh"
    ONLINE_PARTIAL = "truc_tuyen_mot_phan"
    ONLINE_FULL = "truc_tuyen_toan_trinh"


class Satisfaction(StrEnum):
    """Values of the ``satisfaction`` column; an unrated dossier has ""."""

    SATISFIED = "hai_long"
    NEUTRAL = "binh_thuong"
    DISSATISFIED = "khong_hai_long"


ONLINE_CHANNELS = frozenset({Channel.ONLINE_PARTIAL, Channel.ONLINE_FULL})

# 766: a dossier whose applicant was asked for more documents more than once is
# counted late whatever its dates say (the unit should have asked for
# everything at once).
MAX_SUPPLEMENT_REQUESTS = 1

# 766 scoring constants.
PROGRESS_POINTS = 20  # on-time criterion: 20 × on-time ratio
DIGITIZATION_FULL_MARKS_FROM = 80  # percent
SATISFACTION_POINTS = 6  # criterion 5.4: min(6, 6 × rate ÷ 90)
SATISFACTION_FULL_MARKS_FROM = 90  # percent

REPEATED_LATENESS_THRESHOLD = 3  # seed 003, a *default*


def _require_aware(name: str, value: datetime | None) -> None:
    # A naive datetime would be compared as if it were UTC by nobody in
    # particular; refuse it rather than misplace a dossier across midnight.
    if value is not None and (
        value.tzinfo is None or value.tzinfo.utcoffset(value) is None
    ):
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True)
class CaseFacts:
    """What the metrics need to know about one dossier.

    ``finished_at`` is the first of finished, result returned, or
    rejected/stopped (the importer guarantees a finished status carries it);
    it is None while the dossier is open. The rules read whether a dossier is
    finished from ``finished_at`` alone, never from ``status``, so that the SQL
    aggregation can do the same with a single column; ``status`` only matters
    for withdrawal.

    ``status``, ``channel`` and ``satisfaction`` are plain strings so that
    values read from the models' TextChoices fit; unknown values are refused.
    """

    received_at: datetime
    due_at: datetime
    finished_at: datetime | None
    status: str
    channel: str
    digitized: bool = False
    fee_required: bool = False
    paid_online: bool = False
    supplement_requests: int = 0
    satisfaction: str = ""
    complaint: bool = False

    def __post_init__(self) -> None:
        _require_aware("received_at", self.received_at)
        _require_aware("due_at", self.due_at)
        _require_aware("finished_at", self.finished_at)
        if self.status not in DossierStatus.__members__.values():
            raise ValueError(f"unknown status {self.status!r}")
        if self.channel not in Channel.__members__.values():
            raise ValueError(f"unknown channel {self.channel!r}")
        if self.satisfaction and (
            self.satisfaction not in Satisfaction.__members__.values()
        ):
            raise ValueError(f"unknown satisfaction {self.satisfaction!r}")
        if self.supplement_requests < 0:
            raise ValueError("supplement_requests cannot be negative")


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware datetimes.

    The constructors build local-time calendar periods (the portal passes
    Asia/Ho_Chi_Minh): a dossier received at 06:00 on 1 January local time,
    which is 23:00 UTC on 31 December, belongs to the new year.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        if not self.start < self.end:
            raise ValueError("a period must end after it starts")

    @classmethod
    def month(cls, year: int, month: int, tz: ZoneInfo) -> Period:
        start = datetime(year, month, 1, tzinfo=tz)
        end = (
            datetime(year + 1, 1, 1, tzinfo=tz)
            if month == 12
            else datetime(year, month + 1, 1, tzinfo=tz)
        )
        return cls(start, end)

    @classmethod
    def quarter(cls, year: int, q: int, tz: ZoneInfo) -> Period:
        if q not in (1, 2, 3, 4):
            raise ValueError(f"quarter must be 1 to 4, got {q}")
        first_month = 3 * (q - 1) + 1
        return cls(
            Period.month(year, first_month, tz).start,
            Period.month(year, first_month + 2, tz).end,
        )

    @classmethod
    def year(cls, year: int, tz: ZoneInfo) -> Period:
        return cls(datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz))

    @classmethod
    def months(
        cls, first: tuple[int, int], last: tuple[int, int], tz: ZoneInfo
    ) -> Period:
        """Whole months from ``first`` to ``last`` (year, month), both included:
        January to September is a year-to-date 766 table."""
        if last < first:
            raise ValueError(
                f"a range of months ends before it starts: {first}, {last}"
            )
        return cls(Period.month(*first, tz).start, Period.month(*last, tz).end)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class CaseClass:
    """How one dossier counts in one period. Every flag is False for a dossier
    that the period does not concern."""

    received_in_period: bool
    in_scope: bool
    on_time: bool
    late: bool
    overdue_open: bool
    online: bool
    online_full: bool
    digitized: bool
    fee_required: bool
    paid_online: bool
    complaint_or_dissatisfied: bool
    rated: bool
    # The parts that let a quarter or a year be counted from its months
    # (see combine): in scope because open at the start, and on time because
    # finished by the due time within the period.
    carried_in: bool = False
    finished_on_time: bool = False


def so_far(period: Period, as_of: datetime) -> Period | None:
    """What of ``period`` has happened by ``as_of``: all of it once it has
    ended, [start, as_of) while it runs, None before it begins. Every rule
    judges a period at its end, so a running period is judged at ``as_of``."""
    _require_aware("as_of", as_of)
    if as_of >= period.end:
        return period
    if as_of <= period.start:
        return None
    return Period(period.start, as_of)


def is_open_at(case: CaseFacts, moment: datetime) -> bool:
    """Not yet finished at ``moment``. A dossier finished exactly at a
    period's start was still open during the instant the period began, which
    is what makes it in scope (``finished_at >= start``); the same comparison
    at the end keeps the half-open convention."""
    return case.finished_at is None or case.finished_at >= moment


def is_in_scope(case: CaseFacts, period: Period) -> bool:
    """In scope for the on-time rate: received in the period, or received
    earlier and still open at its start.

    Withdrawn dossiers (``rut_ho_so``) are out of scope: 766 does not count a
    dossier the applicant withdrew, neither for nor against the unit. They
    still count as received for the channel, digitisation, payment and
    satisfaction rates, which describe what was submitted."""
    if case.status == DossierStatus.WITHDRAWN:
        return False
    if case.received_at in period:
        return True
    return case.received_at < period.start and is_open_at(case, period.start)


def is_on_time(case: CaseFacts, period: Period) -> bool:
    """On time as seen at the period's end, for an in-scope dossier.

    - More than one request for more documents is late, whatever the dates.
    - Finished before the period's end: on time iff finished at or before the
      due time (finished exactly at ``due_at`` is on time).
    - Still open at the period's end: on time iff not yet due then
      (``due_at >= end``); a later finish does not change this period.

    Time the applicant spends supplementing the dossier is not counted against
    the unit by trusting ``due_at``: the one-stop system moves the promised
    date when it restarts the clock, and the case record has no other trace of
    the pause.
    """
    if case.supplement_requests > MAX_SUPPLEMENT_REQUESTS:
        return False
    if is_open_at(case, period.end):
        return case.due_at >= period.end
    assert case.finished_at is not None  # not open at the end ⇒ finished
    return case.finished_at <= case.due_at


NOTHING = CaseClass(
    received_in_period=False,
    in_scope=False,
    on_time=False,
    late=False,
    overdue_open=False,
    online=False,
    online_full=False,
    digitized=False,
    fee_required=False,
    paid_online=False,
    complaint_or_dissatisfied=False,
    rated=False,
)


def classify(case: CaseFacts, period: Period, *, as_of: datetime) -> CaseClass:
    """Classify one dossier for one period, as judged at ``as_of`` (see the
    functions above for each rule). ``late`` is exactly "in scope and not on
    time"; ``overdue_open`` is the part of ``late`` still open and past due at
    the period's end, or at ``as_of`` while the period runs (``so_far``).
    Nothing counts in a period that has not begun by ``as_of``."""
    seen = so_far(period, as_of)
    if seen is None:
        return NOTHING
    return _classify(case, seen)


def _classify(case: CaseFacts, period: Period) -> CaseClass:
    received = case.received_at in period
    in_scope = is_in_scope(case, period)
    on_time = in_scope and is_on_time(case, period)
    overdue_open = (
        in_scope and is_open_at(case, period.end) and case.due_at < period.end
    )
    online = received and case.channel in ONLINE_CHANNELS
    return CaseClass(
        received_in_period=received,
        in_scope=in_scope,
        on_time=on_time,
        late=in_scope and not on_time,
        overdue_open=overdue_open,
        online=online,
        online_full=received and case.channel == Channel.ONLINE_FULL,
        digitized=received and case.digitized,
        fee_required=received and case.fee_required,
        # Paying online only means something for a fee-bearing dossier; a
        # stray flag on a free one must not inflate the numerator.
        paid_online=received and case.fee_required and case.paid_online,
        complaint_or_dissatisfied=received
        and (case.complaint or case.satisfaction == Satisfaction.DISSATISFIED),
        rated=received and case.satisfaction != "",
        carried_in=in_scope and not received,
        finished_on_time=on_time and not is_open_at(case, period.end),
    )


@dataclass(frozen=True)
class Counts:
    """The numerators and denominators of one unit's (or many units')
    metrics for one period. ``Counts()`` is zero; counts add field by field,
    so per-unit or per-batch counts sum to the total."""

    received: int = 0
    in_scope: int = 0
    on_time: int = 0
    late: int = 0
    overdue_open: int = 0
    online: int = 0
    online_full: int = 0
    digitized: int = 0
    fee_required: int = 0
    paid_online: int = 0
    complaint_or_dissatisfied: int = 0
    carried_in: int = 0
    finished_on_time: int = 0

    def __add__(self, other: Counts) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(
            **{
                field.name: getattr(self, field.name) + getattr(other, field.name)
                for field in fields(self)
            }
        )


def count(cases: Iterable[CaseFacts], period: Period, *, as_of: datetime) -> Counts:
    """Count the dossiers of ``cases`` for ``period`` as judged at ``as_of``
    (see classify). One pass, constant memory: ``cases`` may be a generator
    over a large export."""
    tally = dict.fromkeys((field.name for field in fields(Counts)), 0)
    for case in cases:
        kind = classify(case, period, as_of=as_of)
        tally["received"] += kind.received_in_period
        tally["in_scope"] += kind.in_scope
        tally["on_time"] += kind.on_time
        tally["late"] += kind.late
        tally["overdue_open"] += kind.overdue_open
        tally["online"] += kind.online
        tally["online_full"] += kind.online_full
        tally["digitized"] += kind.digitized
        tally["fee_required"] += kind.fee_required
        tally["paid_online"] += kind.paid_online
        tally["complaint_or_dissatisfied"] += kind.complaint_or_dissatisfied
        tally["carried_in"] += kind.carried_in
        tally["finished_on_time"] += kind.finished_on_time
    return Counts(**tally)


# Counts over the dossiers received in the period: they add across its months.
RECEIVED_FIELDS = (
    "received",
    "online",
    "online_full",
    "digitized",
    "fee_required",
    "paid_online",
    "complaint_or_dissatisfied",
)


def combine(months: Sequence[Counts]) -> Counts:
    """The counts of a quarter, a year or any range of months from those of
    its consecutive months, exactly as ``count`` would give them over the
    cases. The months up to the last are over; the last may be running, judged
    at some ``as_of``, and the whole is then judged at that ``as_of``:

    - what was received adds up;
    - in scope: each month's own receipts (in scope minus carried in) plus what
      was carried into the first month;
    - on time: every dossier finished by its due time within the period, plus
      the dossiers still open and not yet due at the end of the last month;
    - still open past due at the end: the last month's.

    A month with no row is ``Counts()``. A month that has not begun is not a
    month without dossiers: leave it out, or the dossiers still open and not yet
    due at the end of the one before are lost."""
    if not months:
        return Counts()
    first, last = months[0], months[-1]
    total = {name: sum(getattr(m, name) for m in months) for name in RECEIVED_FIELDS}
    in_scope = first.carried_in + sum(m.in_scope - m.carried_in for m in months)
    finished_on_time = sum(m.finished_on_time for m in months)
    on_time = finished_on_time + (last.on_time - last.finished_on_time)
    return Counts(
        **total,
        in_scope=in_scope,
        on_time=on_time,
        late=in_scope - on_time,
        overdue_open=last.overdue_open,
        carried_in=first.carried_in,
        finished_on_time=finished_on_time,
    )


@dataclass(frozen=True)
class Metrics:
    """Rates are percentages (Decimal, 2 decimals) and scores are 766 points
    (Decimal, 2 decimals). None means "no data": the denominator was zero,
    which is neither 0% nor 100%."""

    on_time_rate: Decimal | None
    progress_score_766: Decimal | None
    online_rate: Decimal | None
    online_full_rate: Decimal | None
    digitization_rate: Decimal | None
    digitization_meets_766: bool | None
    online_payment_rate: Decimal | None
    satisfaction_rate: Decimal | None
    satisfaction_score_766: Decimal | None


# Rounding happens once, at the end, on each published number: ratios,
# differences, clamps and scores are computed on exact Fractions, and only the
# final percentage or score is rounded. A score is therefore computed from the
# exact rate, not from the rounded one shown next to it.


def round_half_up(value: Fraction) -> Decimal:
    """Round an exact non-negative value to 2 decimals, halves up (what
    Decimal's ROUND_HALF_UP and PostgreSQL's ``round(numeric, 2)`` do), without
    going through a float or a finite-precision division first."""
    numerator, denominator = value.numerator, value.denominator
    if numerator < 0:
        raise ValueError("metrics are never negative")
    # floor(n/d × 100 + 1/2) in integers (a Fraction's denominator is > 0).
    hundredths = (200 * numerator + denominator) // (2 * denominator)
    return Decimal(hundredths).scaleb(-2)


def _percent(numerator: int, denominator: int) -> Fraction | None:
    if denominator == 0:
        return None
    return Fraction(100 * numerator, denominator)


def _rounded(value: Fraction | None) -> Decimal | None:
    return None if value is None else round_half_up(value)


def satisfaction_percent(counts: Counts) -> Fraction | None:
    """766 criterion 5.4, exact: 100% − (late rate + complaint rate), clamped
    to [0, 100].

    The "overdue rate" is late ÷ in scope (the on-time rule's complement,
    including dossiers finished late, not only those still open); the
    complaint rate is dossiers with a complaint or a dissatisfied rating ÷
    received. With either denominator zero there is no data."""
    late = _percent(counts.late, counts.in_scope)
    complained = _percent(counts.complaint_or_dissatisfied, counts.received)
    if late is None or complained is None:
        return None
    return min(Fraction(100), max(Fraction(0), 100 - late - complained))


def _rate(numerator: int, denominator: int) -> Decimal | None:
    """``_rounded(_percent(numerator, denominator))`` in integers: 100·n/d
    to 2 decimals, halves up, is ⌊(20000·n + d) / 2d⌋ hundredths (a page
    works out thousands of these)."""
    if denominator == 0:
        return None
    if numerator < 0:
        raise ValueError("metrics are never negative")
    hundredths = (20000 * numerator + denominator) // (2 * denominator)
    return Decimal(hundredths).scaleb(-2)


def _progress_score(counts: Counts) -> Decimal | None:
    # PROGRESS_POINTS × on-time % ÷ 100, in integers as _rate.
    if counts.in_scope == 0:
        return None
    return _rate(PROGRESS_POINTS * counts.on_time, 100 * counts.in_scope)


def _digitization_meets(counts: Counts) -> bool | None:
    # Compared on the exact ratio: 79.996% shows as 80.00 but is not 80%.
    if counts.received == 0:
        return None
    return 100 * counts.digitized >= DIGITIZATION_FULL_MARKS_FROM * counts.received


def _satisfaction_score(counts: Counts) -> Decimal | None:
    satisfaction = satisfaction_percent(counts)
    if satisfaction is None:
        return None
    return round_half_up(
        min(
            Fraction(SATISFACTION_POINTS),
            SATISFACTION_POINTS * satisfaction / SATISFACTION_FULL_MARKS_FROM,
        )
    )


# How each field of Metrics is derived from counts, so that one figure can be
# worked out alone (a page of thousands of targets reads one rate each).
_FIGURES: dict[str, Callable[[Counts], Decimal | bool | None]] = {
    "on_time_rate": lambda c: _rate(c.on_time, c.in_scope),
    "progress_score_766": _progress_score,
    "online_rate": lambda c: _rate(c.online, c.received),
    "online_full_rate": lambda c: _rate(c.online_full, c.received),
    "digitization_rate": lambda c: _rate(c.digitized, c.received),
    "digitization_meets_766": _digitization_meets,
    "online_payment_rate": lambda c: _rate(c.paid_online, c.fee_required),
    "satisfaction_rate": lambda c: _rounded(satisfaction_percent(c)),
    "satisfaction_score_766": _satisfaction_score,
}


def figure(counts: Counts, name: str) -> Any:
    """One field of ``metrics(counts)``, worked out alone: a Decimal, or a
    bool for the digitisation test (None: no data)."""
    return _FIGURES[name](counts)


def metrics(counts: Counts) -> Metrics:
    """Rates and 766 scores from counts."""
    derived: dict[str, Any] = {
        name: derive(counts) for name, derive in _FIGURES.items()
    }
    return Metrics(**derived)


def repeatedly_late(
    reminded_in_previous_year: bool,
    late_count_this_year: int,
    threshold: int = REPEATED_LATENESS_THRESHOLD,
) -> bool:
    """Seed 003: a unit or officer reminded (nhắc nhở) about late dossiers in
    year Y−1 and late again at least ``threshold`` times in year Y. Without a
    reminder there is nothing to repeat, however many late dossiers."""
    return reminded_in_previous_year and late_count_this_year >= threshold
