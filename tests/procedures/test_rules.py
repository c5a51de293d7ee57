"""The 766 case-record metrics as pure rules: no database, tables worked out by
hand (DOMAIN.md section 7)."""

from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from procedures.rules import (
    CaseFacts,
    Channel,
    Counts,
    DossierStatus,
    Metrics,
    Period,
    Satisfaction,
    classify,
    count,
    figure,
    metrics,
    repeatedly_late,
    round_half_up,
    so_far,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7 all year, no daylight saving
MARCH = Period.month(2025, 3, VN)
# Judged long after every period of these tables: each is over, as at its end.
LATER = datetime(2030, 1, 1, tzinfo=VN)


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2025):
    """A local (Asia/Ho_Chi_Minh) moment."""
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def case(received, due, finished=None, **overrides) -> CaseFacts:
    values: dict[str, Any] = {
        "status": DossierStatus.PROCESSING
        if finished is None
        else DossierStatus.RETURNED,
        "channel": Channel.IN_PERSON,
    }
    values.update(overrides)
    return CaseFacts(received_at=received, due_at=due, finished_at=finished, **values)


# --- constants -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (
            DossierStatus,
            {
                "da_tiep_nhan",
                "dang_xu_ly",
                "cho_bo_sung",
                "da_xu_ly_xong",
                "da_tra_ket_qua",
                "tu_choi",
                "rut_ho_so",
            },
        ),
        (
            Channel,
            {"truc_tiep", "buu_chinh", "truc_tuyen_mot_phan", "truc_tuyen_toan_trinh"},
        ),
        (Satisfaction, {"hai_long", "binh_thuong", "khong_hai_long"}),
    ],
)
def test_constants_use_the_interchange_format_values(enum, values):
    assert {member.value for member in enum} == values


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "closed"}, "unknown status"),
        ({"channel": "email"}, "unknown channel"),
        ({"satisfaction": "rat_hai_long"}, "unknown satisfaction"),
        ({"supplement_requests": -1}, "cannot be negative"),
        ({"received": datetime(2025, 3, 3, 8, 0)}, "timezone-aware"),  # naive
    ],
)
def test_case_facts_refuse_values_the_rules_cannot_place(overrides, message):
    overrides = dict(overrides)
    received = overrides.pop("received", at(3, 3, 8))
    with pytest.raises(ValueError, match=message):
        case(received, at(3, 10), **overrides)


# --- periods in local time -----------------------------------------------------


@pytest.mark.parametrize(
    ("received", "year"),
    [
        # 06:00 on 1 January local is 23:00 UTC on 31 December: the new year.
        (at(1, 1, 6, year=2025), 2025),
        (datetime(2024, 12, 31, 23, 0, tzinfo=UTC), 2025),
        # 06:00 on 31 December local is still the old year.
        (at(12, 31, 6, year=2024), 2024),
        # Midnight local starts the year; one minute before it ends the last.
        (at(1, 1, 0, 0, year=2025), 2025),
        (at(12, 31, 23, 59, year=2024), 2024),
    ],
)
def test_a_dossier_belongs_to_the_local_calendar_year_it_was_received_in(
    received, year
):
    dossier = case(received, at(1, 10, year=2025))
    for candidate in (2024, 2025):
        period = Period.year(candidate, VN)
        assert classify(dossier, period, as_of=LATER).received_in_period is (
            candidate == year
        )


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Period.month(2025, 3, VN), at(3, 1), at(4, 1)),
        (Period.month(2025, 12, VN), at(12, 1), at(1, 1, year=2026)),
        (Period.month(2024, 2, VN), at(2, 1, year=2024), at(3, 1, year=2024)),
        (Period.quarter(2025, 1, VN), at(1, 1), at(4, 1)),
        (Period.quarter(2025, 2, VN), at(4, 1), at(7, 1)),
        (Period.quarter(2025, 4, VN), at(10, 1), at(1, 1, year=2026)),
        (Period.year(2025, VN), at(1, 1), at(1, 1, year=2026)),
    ],
)
def test_periods_are_half_open_local_calendar_periods(period, start, end):
    assert (period.start, period.end) == (start, end)


def test_quarter_starts_at_local_midnight_which_is_the_previous_day_in_utc():
    q1, q2 = Period.quarter(2025, 1, VN), Period.quarter(2025, 2, VN)
    assert q2.start == datetime(2025, 3, 31, 17, 0, tzinfo=UTC)
    # 31 March 17:00 UTC is 1 April 00:00 local: the second quarter.
    dossier = case(datetime(2025, 3, 31, 17, 0, tzinfo=UTC), at(4, 10))
    assert not classify(dossier, q1, as_of=LATER).received_in_period
    assert classify(dossier, q2, as_of=LATER).received_in_period
    # A minute earlier it is 23:59 on 31 March local: the first quarter.
    earlier = case(datetime(2025, 3, 31, 16, 59, tzinfo=UTC), at(4, 10))
    assert classify(earlier, q1, as_of=LATER).received_in_period
    assert not classify(earlier, q2, as_of=LATER).received_in_period


@pytest.mark.parametrize("q", [0, 5])
def test_a_quarter_is_numbered_one_to_four(q):
    with pytest.raises(ValueError, match="quarter must be 1 to 4"):
        Period.quarter(2025, q, VN)


def test_a_period_must_end_after_it_starts():
    with pytest.raises(ValueError, match="must end after it starts"):
        Period(at(4, 1), at(3, 1))


# --- scope and on time, one dossier at a time --------------------------------------


@pytest.mark.parametrize(
    ("dossier", "in_scope", "on_time", "overdue_open"),
    [
        pytest.param(
            case(at(3, 3, 8), at(3, 10, 17), at(3, 9, 10)),
            True,
            True,
            False,
            id="received-and-finished-before-due",
        ),
        pytest.param(
            case(at(3, 3, 8), at(3, 10, 17), at(3, 10, 17)),
            True,
            True,
            False,
            id="finished-exactly-at-the-due-time-is-on-time",
        ),
        pytest.param(
            case(at(3, 3, 8), at(3, 10, 17), at(3, 10, 17, 1)),
            True,
            False,
            False,
            id="finished-a-minute-after-due-is-late",
        ),
        pytest.param(
            case(at(3, 20), at(4, 10)),
            True,
            True,
            False,
            id="open-at-period-end-and-not-yet-due-is-on-time",
        ),
        pytest.param(
            case(at(3, 20), at(4, 1)),
            True,
            True,
            False,
            id="open-and-due-exactly-at-period-end-is-not-yet-due",
        ),
        pytest.param(
            case(at(3, 15), at(3, 25)),
            True,
            False,
            True,
            id="open-at-period-end-and-past-due-is-late-and-overdue",
        ),
        pytest.param(
            case(at(3, 15), at(3, 25), at(4, 2)),
            True,
            False,
            True,
            id="finished-after-period-end-counts-as-open-at-the-end",
        ),
        pytest.param(
            case(at(3, 15), at(4, 10), at(4, 2)),
            True,
            True,
            False,
            id="finished-after-period-end-not-yet-due-at-the-end",
        ),
        pytest.param(
            case(at(2, 20), at(3, 5), at(3, 4)),
            True,
            True,
            False,
            id="received-last-month-still-open-at-start-is-in-scope",
        ),
        pytest.param(
            case(at(2, 20), at(3, 5)),
            True,
            False,
            True,
            id="received-last-month-and-still-open-past-due",
        ),
        pytest.param(
            case(at(2, 20), at(3, 5), at(3, 1)),
            True,
            True,
            False,
            id="finished-exactly-at-the-start-was-open-at-the-start",
        ),
        pytest.param(
            case(at(2, 10), at(2, 20), at(2, 25)),
            False,
            False,
            False,
            id="received-last-month-finished-before-the-start-is-out-of-scope",
        ),
        pytest.param(
            case(at(4, 1), at(4, 10)),
            False,
            False,
            False,
            id="received-after-the-period-is-out-of-scope",
        ),
        pytest.param(
            case(at(3, 3), at(3, 10), at(3, 5), supplement_requests=2),
            True,
            False,
            False,
            id="two-supplement-requests-are-late-even-if-finished-before-due",
        ),
        pytest.param(
            case(at(3, 3), at(4, 10), supplement_requests=2),
            True,
            False,
            False,
            id="two-supplement-requests-are-late-even-if-not-yet-due",
        ),
        pytest.param(
            case(at(3, 3), at(3, 10), at(3, 5), supplement_requests=1),
            True,
            True,
            False,
            id="one-supplement-request-is-allowed",
        ),
        pytest.param(
            case(at(3, 3), at(3, 10), at(3, 5), status=DossierStatus.REJECTED),
            True,
            True,
            False,
            id="rejected-in-time-is-finished-in-time",
        ),
        pytest.param(
            case(at(3, 3), at(3, 10), at(3, 5), status=DossierStatus.WITHDRAWN),
            False,
            False,
            False,
            id="withdrawn-is-out-of-scope",
        ),
        pytest.param(
            case(at(3, 3), at(3, 10), status=DossierStatus.WITHDRAWN),
            False,
            False,
            False,
            id="withdrawn-without-a-finish-is-out-of-scope-not-overdue",
        ),
    ],
)
def test_scope_and_on_time_for_march(dossier, in_scope, on_time, overdue_open):
    kind = classify(dossier, MARCH, as_of=LATER)
    assert (kind.in_scope, kind.on_time, kind.overdue_open) == (
        in_scope,
        on_time,
        overdue_open,
    )
    assert kind.late is (in_scope and not on_time)


def test_a_late_finish_in_a_later_period_does_not_change_an_earlier_one():
    # Received 20 March, due 10 April, finished late on 15 April: on time as
    # seen at the end of March, late in April.
    dossier = case(at(3, 20), at(4, 10), at(4, 15))
    assert classify(dossier, MARCH, as_of=LATER).on_time
    april = classify(dossier, Period.month(2025, 4, VN), as_of=LATER)
    assert april.in_scope
    assert april.late
    assert not april.received_in_period


def test_withdrawn_dossiers_still_count_as_received():
    dossier = case(
        at(3, 3),
        at(3, 10),
        status=DossierStatus.WITHDRAWN,
        channel=Channel.ONLINE_FULL,
        digitized=True,
    )
    kind = classify(dossier, MARCH, as_of=LATER)
    assert (kind.received_in_period, kind.online_full, kind.digitized) == (
        True,
        True,
        True,
    )
    assert not kind.in_scope


# --- received-based flags --------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "flag", "expected"),
    [
        ({"channel": Channel.ONLINE_PARTIAL}, "online", True),
        ({"channel": Channel.ONLINE_PARTIAL}, "online_full", False),
        ({"channel": Channel.ONLINE_FULL}, "online", True),
        ({"channel": Channel.ONLINE_FULL}, "online_full", True),
        ({"channel": Channel.POST}, "online", False),
        ({"channel": Channel.IN_PERSON}, "online", False),
        ({"fee_required": True, "paid_online": True}, "paid_online", True),
        ({"fee_required": True, "paid_online": False}, "paid_online", False),
        # Paying online is meaningless for a free dossier: a stray flag is ignored.
        ({"fee_required": False, "paid_online": True}, "paid_online", False),
        ({"complaint": True}, "complaint_or_dissatisfied", True),
        (
            {"satisfaction": Satisfaction.DISSATISFIED},
            "complaint_or_dissatisfied",
            True,
        ),
        ({"satisfaction": Satisfaction.NEUTRAL}, "complaint_or_dissatisfied", False),
        ({"satisfaction": Satisfaction.NEUTRAL}, "rated", True),
        ({"satisfaction": ""}, "rated", False),
    ],
)
def test_received_based_flags(overrides, flag, expected):
    dossier = case(at(3, 3), at(3, 10), **overrides)
    assert getattr(classify(dossier, MARCH, as_of=LATER), flag) is expected


def test_a_dossier_received_earlier_adds_nothing_to_received_based_flags():
    dossier = case(
        at(2, 20),
        at(3, 5),
        channel=Channel.ONLINE_FULL,
        digitized=True,
        fee_required=True,
        paid_online=True,
        complaint=True,
        satisfaction=Satisfaction.DISSATISFIED,
    )
    kind = classify(dossier, MARCH, as_of=LATER)
    assert kind.in_scope
    assert not any(
        (
            kind.received_in_period,
            kind.online,
            kind.online_full,
            kind.digitized,
            kind.fee_required,
            kind.paid_online,
            kind.complaint_or_dissatisfied,
            kind.rated,
        )
    )


# --- a running period, judged as of a moment (DOMAIN.md section 7) ----------------

DECEMBER = Period.month(2026, 12, VN)
# The issue's dossier: received on 1 December, due on the 20th, still open.
OPEN_DUE_20TH = case(at(12, 1, 8, year=2026), at(12, 20, 17, year=2026))


def in_december(month: int, day: int, hour: int = 0, minute: int = 0):
    return at(month, day, hour, minute, year=2026)


@pytest.mark.parametrize(
    ("as_of", "in_scope", "on_time", "late", "overdue_open"),
    [
        # On 7 December it is not yet due: on time, neither late nor overdue.
        (in_december(12, 7, 8), True, True, False, False),
        # At the due time itself it is still not late.
        (in_december(12, 20, 17), True, True, False, False),
        # A minute past due, while the month runs: late and overdue.
        (in_december(12, 20, 17, 1), True, False, True, True),
        # The month over, judged at its end whenever asked.
        (at(1, 1, year=2027), True, False, True, True),
        (LATER, True, False, True, True),
    ],
)
def test_a_running_month_is_judged_as_of_the_moment_asked(
    as_of, in_scope, on_time, late, overdue_open
):
    kind = classify(OPEN_DUE_20TH, DECEMBER, as_of=as_of)
    assert (kind.in_scope, kind.on_time, kind.late, kind.overdue_open) == (
        in_scope,
        on_time,
        late,
        overdue_open,
    )


def test_the_issues_dossier_gives_a_full_on_time_rate_on_the_seventh():
    counts = count([OPEN_DUE_20TH], DECEMBER, as_of=in_december(12, 7, 8))
    assert (counts.in_scope, counts.on_time, counts.late) == (1, 1, 0)
    assert counts.overdue_open == 0
    assert metrics(counts).on_time_rate == Decimal("100.00")


@pytest.mark.parametrize(
    ("dossier", "counted"),
    [
        pytest.param(
            case(in_december(12, 8), in_december(12, 12)),
            False,
            id="received-after-the-moment-is-not-counted-yet",
        ),
        pytest.param(
            case(in_december(12, 1), in_december(12, 5), in_december(12, 9)),
            True,
            id="finished-after-the-moment-was-open-then-and-past-due",
        ),
    ],
)
def test_what_happens_after_the_moment_is_not_known_then(dossier, counted):
    kind = classify(dossier, DECEMBER, as_of=in_december(12, 7, 8))
    assert kind.received_in_period is counted
    if counted:
        # Open on the 7th and due on the 5th: late and overdue then, though
        # finished later.
        assert (kind.late, kind.overdue_open) == (True, True)


def test_a_period_over_is_the_same_whenever_it_is_judged():
    for dossier in MARCH_CASES.values():
        judged = {
            classify(dossier, MARCH, as_of=moment)
            for moment in (at(4, 1), at(4, 2, 9), LATER)
        }
        assert len(judged) == 1


def test_nothing_counts_in_a_period_not_begun():
    kind = classify(OPEN_DUE_20TH, DECEMBER, as_of=in_december(11, 30, 23))
    assert not any(getattr(kind, flag.name) for flag in fields(kind))
    assert count([OPEN_DUE_20TH], DECEMBER, as_of=in_december(12, 1)) == Counts()


def test_a_running_period_is_judged_as_the_part_of_it_so_far():
    so_far_ = so_far(DECEMBER, in_december(12, 7, 8))
    assert so_far_ == Period(in_december(12, 1), in_december(12, 7, 8))
    assert so_far(DECEMBER, LATER) == DECEMBER
    assert so_far(DECEMBER, in_december(12, 1)) is None


def test_as_of_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        classify(OPEN_DUE_20TH, DECEMBER, as_of=datetime(2026, 12, 7, 8))


def test_a_range_of_months_runs_from_the_first_months_start_to_the_last_ones_end():
    year_to_date = Period.months((2026, 1), (2026, 9), VN)
    assert (year_to_date.start, year_to_date.end) == (
        at(1, 1, year=2026),
        at(10, 1, year=2026),
    )
    across = Period.months((2025, 11), (2026, 2), VN)
    assert (across.start, across.end) == (at(11, 1), at(3, 1, year=2026))
    with pytest.raises(ValueError, match="ends before it starts"):
        Period.months((2026, 3), (2026, 2), VN)


# --- a hand-counted month --------------------------------------------------------

# March 2025, Asia/Ho_Chi_Minh.  R = received in March, S = in scope,
# OT = on time, L = late, OO = overdue and open at the end of March.
#
#     R S  OT L OO  online  full  digit  fee  paid  compl/dissat
# A   1 1  1  0 0   .       .     1      1    1     .      finished before due
# B   1 1  0  1 0   1       .     1      1    .     1      finished late; dissatisfied
# C   1 1  0  1 0   1       1     1      1    1     .      two supplement requests
# D   1 1  1  0 0   1       1     .      .    .     .      open, due in April
#                                                          (stray paid flag, no fee)
# E   1 1  0  1 1   .       .     .      .    .     1      open past due; complaint
# F   . 1  1  0 0   .       .     .      .    .     .      Feb, finished in March in
#                                                          time (its flags don't count)
# G   . .  .  . .   .       .     .      .    .     .      Feb, finished in Feb
# H   . 1  0  1 1   .       .     .      .    .     .      Feb, waiting, past due
# I   1 .  .  . .   1       .     1      .    .     .      withdrawn
# J   1 1  1  0 0   .       .     .      1    .     .      31 Mar 23:30, due April
# K   . .  .  . .   .       .     .      .    .     .      1 Apr 00:00: next month
# sum 7 8  4  4 2   4       2     4      4    2     2
#
# on-time rate        4/8                 = 50.00 %   progress score 20×4/8 = 10.00
# online rate         4/7 = 57.1428…      = 57.14 %
# full-online rate    2/7 = 28.5714…      = 28.57 %
# digitisation rate   4/7                 = 57.14 %   < 80 %: does not meet 766
# online payment rate 2/4                 = 50.00 %
# satisfaction rate   100 − 4/8·100 − 2/7·100 = 50 − 200/7 = 150/7 = 21.4285… = 21.43 %
# satisfaction score  6 × (150/7) ÷ 90 = 10/7 = 1.4285…    = 1.43
MARCH_CASES = {
    "A": case(
        at(3, 3, 8),
        at(3, 10, 17),
        at(3, 9, 10),
        digitized=True,
        fee_required=True,
        paid_online=True,
        satisfaction=Satisfaction.SATISFIED,
    ),
    "B": case(
        at(3, 5, 9),
        at(3, 12, 17),
        at(3, 14, 10),
        status=DossierStatus.FINISHED,
        channel=Channel.ONLINE_PARTIAL,
        digitized=True,
        fee_required=True,
        satisfaction=Satisfaction.DISSATISFIED,
    ),
    "C": case(
        at(3, 10, 8),
        at(3, 20, 17),
        at(3, 18, 15),
        channel=Channel.ONLINE_FULL,
        digitized=True,
        fee_required=True,
        paid_online=True,
        supplement_requests=2,
        satisfaction=Satisfaction.NEUTRAL,
    ),
    "D": case(
        at(3, 20, 10),
        at(4, 10, 17),
        channel=Channel.ONLINE_FULL,
        paid_online=True,
    ),
    "E": case(at(3, 15, 14), at(3, 25, 17), complaint=True),
    "F": case(
        at(2, 20, 8),
        at(3, 5, 17),
        at(3, 4, 9),
        channel=Channel.ONLINE_FULL,
        digitized=True,
    ),
    "G": case(at(2, 10, 8), at(2, 20, 17), at(2, 25, 9)),
    "H": case(
        at(2, 25, 8),
        at(3, 3, 17),
        status=DossierStatus.WAITING,
        supplement_requests=1,
    ),
    "I": case(
        at(3, 12, 8),
        at(3, 19, 17),
        at(3, 13, 8),
        status=DossierStatus.WITHDRAWN,
        channel=Channel.ONLINE_PARTIAL,
        digitized=True,
    ),
    "J": case(
        at(3, 31, 23, 30),
        at(4, 3, 17),
        status=DossierStatus.RECEIVED,
        channel=Channel.POST,
        fee_required=True,
    ),
    "K": case(at(4, 1, 0, 0), at(4, 8, 17), channel=Channel.ONLINE_FULL),
}
MARCH_COUNTS = Counts(
    received=7,
    in_scope=8,
    on_time=4,
    late=4,
    overdue_open=2,
    online=4,
    online_full=2,
    digitized=4,
    fee_required=4,
    paid_online=2,
    complaint_or_dissatisfied=2,
    # F and H came in from February; A and F were finished by their due time
    # (D and J are the other half of "on time": open, not yet due).
    carried_in=2,
    finished_on_time=2,
)


def test_a_hand_counted_month_gives_every_count():
    assert count(MARCH_CASES.values(), MARCH, as_of=LATER) == MARCH_COUNTS


def test_a_hand_counted_month_gives_every_rate_and_score():
    assert metrics(MARCH_COUNTS) == Metrics(
        on_time_rate=Decimal("50.00"),
        progress_score_766=Decimal("10.00"),
        online_rate=Decimal("57.14"),
        online_full_rate=Decimal("28.57"),
        digitization_rate=Decimal("57.14"),
        digitization_meets_766=False,
        online_payment_rate=Decimal("50.00"),
        satisfaction_rate=Decimal("21.43"),
        satisfaction_score_766=Decimal("1.43"),
    )


def test_count_accepts_a_generator_and_an_empty_input():
    assert count((c for c in MARCH_CASES.values()), MARCH, as_of=LATER) == MARCH_COUNTS
    assert count([], MARCH, as_of=LATER) == Counts()


# --- counts add up ------------------------------------------------------------------


def test_counts_add_field_by_field():
    one = Counts(received=1, in_scope=2, on_time=3, late=4, overdue_open=5)
    other = Counts(received=10, online=1, paid_online=7, complaint_or_dissatisfied=2)
    assert one + other == Counts(
        received=11,
        in_scope=2,
        on_time=3,
        late=4,
        overdue_open=5,
        online=1,
        paid_online=7,
        complaint_or_dissatisfied=2,
    )


def test_counts_of_parts_sum_to_counts_of_the_whole():
    names = sorted(MARCH_CASES)
    first = [MARCH_CASES[name] for name in names[:5]]
    rest = [MARCH_CASES[name] for name in names[5:]]
    assert (
        count(first, MARCH, as_of=LATER) + count(rest, MARCH, as_of=LATER)
        == MARCH_COUNTS
    )
    assert sum(
        (count([c], MARCH, as_of=LATER) for c in MARCH_CASES.values()), Counts()
    ) == (MARCH_COUNTS)


def test_zero_counts_are_the_identity_for_addition():
    assert Counts() + MARCH_COUNTS == MARCH_COUNTS == MARCH_COUNTS + Counts()


# --- rates: no data, rounding, 766 scores -----------------------------------------


def test_zero_denominators_give_no_data_everywhere():
    result = metrics(Counts())
    assert all(getattr(result, field.name) is None for field in fields(result))


@pytest.mark.parametrize(
    ("counts", "no_data"),
    [
        # Every dossier withdrawn: received but nothing in scope.
        (
            Counts(received=2, online=1, digitized=2, fee_required=1),
            {"on_time_rate", "progress_score_766", "satisfaction_rate"}
            | {"satisfaction_score_766"},
        ),
        # Only dossiers carried over from earlier: in scope, nothing received.
        (
            Counts(in_scope=3, on_time=3),
            {"online_rate", "online_full_rate", "digitization_rate"}
            | {"digitization_meets_766", "online_payment_rate"}
            | {"satisfaction_rate", "satisfaction_score_766"},
        ),
        # Dossiers received but none fee-bearing.
        (Counts(received=4, in_scope=4, on_time=4), {"online_payment_rate"}),
    ],
)
def test_only_rates_with_a_zero_denominator_have_no_data(counts, no_data):
    result = metrics(counts)
    missing = {f.name for f in fields(result) if getattr(result, f.name) is None}
    assert missing == no_data


def test_no_dossier_on_time_is_zero_percent_not_no_data():
    result = metrics(Counts(received=2, in_scope=2, late=2, overdue_open=2))
    assert result.on_time_rate == Decimal("0.00")
    assert result.progress_score_766 == Decimal("0.00")
    assert result.online_rate == Decimal("0.00")


@pytest.mark.parametrize(
    ("online", "received", "rate"),
    [
        (2, 3, "66.67"),  # 66.666…
        (1, 3, "33.33"),  # 33.333…
        (1, 8, "12.50"),  # exactly 12.5, shown with two decimals
        (1, 20000, "0.01"),  # 0.005 exactly: half rounds up (not to even)
        (5, 20000, "0.03"),  # 0.025 exactly: half up, where half-even gives 0.02
        (3, 20000, "0.02"),  # 0.015
        (1, 30000, "0.00"),  # 0.00333…
        (7, 7, "100.00"),
    ],
)
def test_rates_round_half_up_to_two_decimals(online, received, rate):
    result = metrics(Counts(received=received, online=online))
    assert result.online_rate == Decimal(rate)
    assert str(result.online_rate) == rate


def test_a_rate_in_integers_is_the_exact_rate_rounded_half_up():
    """The rates are worked out in integers; they are the exact ratio
    rounded once, halves up, for every numerator and denominator tried."""
    pairs = [(n, d) for d in range(1, 81) for n in range(d + 1)]
    pairs += [(1, 20000), (5, 20000), (3, 20000), (123457, 987654), (10**9, 10**9 + 7)]
    for numerator, denominator in pairs:
        exact = round_half_up(Fraction(100 * numerator, denominator))
        found = metrics(Counts(received=denominator, online=numerator)).online_rate
        assert (found, str(found)) == (exact, str(exact)), (numerator, denominator)


def test_each_figure_alone_is_the_one_of_all_figures():
    samples = [
        Counts(),
        Counts(received=7, in_scope=6, on_time=5, late=1, online=3, digitized=6),
        Counts(
            received=90,
            in_scope=80,
            on_time=71,
            late=9,
            online=40,
            online_full=20,
            digitized=72,
            fee_required=30,
            paid_online=11,
            complaint_or_dissatisfied=2,
        ),
    ]
    for counts in samples:
        together = metrics(counts)
        for field in fields(Metrics):
            assert figure(counts, field.name) == getattr(together, field.name)


@pytest.mark.parametrize(
    ("on_time", "in_scope", "score"),
    [
        (8, 8, "20.00"),
        (4, 8, "10.00"),
        (1, 3, "6.67"),  # 6.666…
        (1, 8, "2.50"),
        (1, 800, "0.03"),  # 0.025: half up
        (0, 5, "0.00"),
    ],
)
def test_progress_score_is_twenty_times_the_on_time_ratio(on_time, in_scope, score):
    counts = Counts(in_scope=in_scope, on_time=on_time, late=in_scope - on_time)
    assert metrics(counts).progress_score_766 == Decimal(score)


@pytest.mark.parametrize(
    ("late", "complained", "rate", "score"),
    [
        # 100 received, 100 in scope throughout.
        (0, 0, "100.00", "6.00"),
        (5, 0, "95.00", "6.00"),  # 6 × 95 ÷ 90 = 6.33…, capped at 6
        (3, 2, "95.00", "6.00"),
        (10, 0, "90.00", "6.00"),  # exactly full marks
        (11, 0, "89.00", "5.93"),  # 6 × 89 ÷ 90 = 5.933…
        (40, 15, "45.00", "3.00"),
        (60, 50, "0.00", "0.00"),  # 100 − 110 clamps to 0
    ],
)
def test_satisfaction_rate_and_its_766_score(late, complained, rate, score):
    counts = Counts(
        received=100,
        in_scope=100,
        on_time=100 - late,
        late=late,
        complaint_or_dissatisfied=complained,
    )
    result = metrics(counts)
    assert (result.satisfaction_rate, result.satisfaction_score_766) == (
        Decimal(rate),
        Decimal(score),
    )


def test_satisfaction_rate_is_rounded_once_not_part_by_part():
    # 1 late of 3 in scope, 1 complaint of 3 received:
    # exact 100 − 33.333… − 33.333… = 33.333… → 33.33; rounding each part first
    # would give 100 − 33.33 − 33.33 = 33.34. Score 6 × (100/3) ÷ 90 = 2.222… → 2.22.
    counts = Counts(
        received=3, in_scope=3, on_time=2, late=1, complaint_or_dissatisfied=1
    )
    result = metrics(counts)
    assert result.satisfaction_rate == Decimal("33.33")
    assert result.satisfaction_score_766 == Decimal("2.22")


@pytest.mark.parametrize(
    ("digitized", "received", "meets"),
    [
        (80, 100, True),
        (100, 100, True),
        (79, 100, False),
        # 79.995 % is displayed as 80.00 but is below 80 %: the threshold is
        # compared on the exact ratio.
        (15999, 20000, False),
        (0, 0, None),
    ],
)
def test_digitisation_meets_766_from_eighty_percent(digitized, received, meets):
    result = metrics(Counts(received=received, digitized=digitized))
    assert result.digitization_meets_766 is meets


def test_online_payment_rate_counts_only_fee_bearing_dossiers():
    result = metrics(Counts(received=10, fee_required=4, paid_online=3))
    assert result.online_payment_rate == Decimal("75.00")


# --- repeated lateness (seed 003) ------------------------------------------------


@pytest.mark.parametrize(
    ("reminded", "late", "threshold", "expected"),
    [
        (True, 3, 3, True),
        (True, 10, 3, True),
        (True, 2, 3, False),
        (False, 10, 3, False),  # no reminder, nothing to repeat
        (True, 1, 1, True),
        (True, 4, 5, False),
    ],
)
def test_repeated_lateness_needs_a_reminder_and_enough_late_dossiers(
    reminded, late, threshold, expected
):
    assert repeatedly_late(reminded, late, threshold) is expected


def test_repeated_lateness_defaults_to_three():
    assert repeatedly_late(True, 3)
    assert not repeatedly_late(True, 2)
