"""Issue 15, "done when": a run of the year succeeds after any sequence of
the decisions, deductions, reminders and withdrawals the portal allows.

Seeded random sequences of what the people of a small city do after the
year (the leader confirms or changes ratings, Home Affairs enters deductions
that another reviewer approves or rejects, records and withdraws reminders,
the head explains and the leader decides), each step followed by the run the
results page, the API and the nightly beat start (scoring.tasks.compute_queue,
its task carried out on commit). After every step the run succeeds, every
approved deduction is in its unit's result, and every decided rating still
says what it was decided on. A failing seed is replayed with its steps in the
assertion message (seed and steps)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from commitments.organisation.models import Unit
from procedures import services as reminder_services
from procedures.models import Procedure, Reminder
from scoring import tasks
from scoring.accountability import services as accountability
from scoring.adjustments import services as adjustments
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    ComputationRun,
    Decision,
    Framework,
    HeadRating,
    MitigationGround,
    RatingLevel,
    Result,
    RunState,
)
from tests.commitments.helpers import signed
from tests.procedures.test_overdue import local, make_case
from tests.scoring.accountability.test_services import AFTER, NOW, good_year
from tests.scoring.results_helpers import on_time, scored

SEEDS = range(5)
STEPS = 24
FULL = {"1.1.1": ("2", "2"), "1.1.2": ("4", "4"), "2.2": (None, "2")}
PARTLY = {"1.1.1": ("2", "2"), "1.1.2": ("4", "3"), "2.2": (None, "1.50")}


@dataclass
class City:
    """Who acts, and what the steps have made so far."""

    framework: Framework
    units: list[Unit]
    head_user: User
    leader: User
    entrant: User
    approver: User
    rng: random.Random
    log: list[str] = field(default_factory=list)
    day: int = 0

    def now(self) -> datetime:
        # Every step a little later: the history reads in order.
        self.day += 1
        return datetime(2026, 2, 1, 3, 0, tzinfo=UTC).replace(
            minute=self.day % 60, hour=3 + self.day // 60
        )


@pytest.fixture
def city(year, org, heads, head_user, city_leader, city_reviewer, reviewer):
    """Commune A misses its commitment in 2024 and 2025 (digitisation) while
    on time: half its targets met, an accountability case for its new head.
    Commune B meets and exceeds its one target. Both full marks or nearly,
    three late dossiers each in 2025 (a reminder of 2024 caps them)."""
    Procedure.objects.get_or_create(code="P1")
    for unit, marks in ((org.commune_a, PARTLY), (org.commune_b, FULL)):
        scored(year, unit, marks)
        on_time(unit, 2025, 50, 50)
        for day in range(3):
            make_case(
                unit,
                received=local(2025, 3, 2 + day, 8),
                due=local(2025, 3, 5 + day, 17),
                finished=local(2025, 3, 9 + day, 9),
            )
    for y, head in ((2024, heads["old"]), (2025, heads["new"])):
        good_year(org.commune_a, y, on_time=9)
        signed(
            org.commune_a, y, head, [("dung-han", "90", None), ("so-hoa", "50", None)]
        )
    good_year(org.commune_b, 2025)
    signed(org.commune_b, 2025, heads["b"], [("dung-han", "90", None)])
    accountability.evaluate_year(2024, now=NOW, today=AFTER)
    # Province's reviewer enters, the city's approves (four eyes).
    return City(
        framework=year,
        units=[org.commune_a, org.commune_b],
        head_user=head_user,
        leader=city_leader,
        entrant=reviewer,
        approver=city_reviewer,
        rng=random.Random(),
    )


# --- the steps ------------------------------------------------------------------------


def confirm_ratings(c: City) -> str:
    ids = HeadRating.objects.filter(year=2025, final__isnull=True).values_list(
        "pk", flat=True
    )
    done = accountability.ratings_confirm(
        user=c.leader, year=2025, ids=list(ids), now=c.now()
    )
    return f"confirm {done} as proposed"


def rate_as_proposed(c: City) -> str:
    proposed = HeadRating.objects.filter(year=2025, proposed__isnull=False)
    if not proposed.exists():
        return "rate as proposed: nothing proposed (no approved result)"
    rating = c.rng.choice(list(proposed))
    assert rating.proposed is not None
    accountability.rating_decide(
        rating=rating, user=c.leader, level=rating.proposed, reason="", now=c.now()
    )
    return f"rate {rating.unit.code} as proposed ({rating.proposed})"


def change_rating(c: City) -> str:
    rating = c.rng.choice(list(HeadRating.objects.filter(year=2025)))
    level = c.rng.choice([v for v in RatingLevel.values if v != rating.proposed])
    accountability.rating_decide(
        rating=rating,
        user=c.leader,
        level=level,
        reason="Đánh giá tổng thể nhiệm vụ được giao.",
        now=c.now(),
    )
    return f"change {rating.unit.code} to {level} (proposed {rating.proposed})"


def _enter(c: City) -> Adjustment:
    unit = c.rng.choice(c.units)
    rule = c.rng.choice(list(AdjustmentRule.objects.filter(framework=c.framework)))
    return adjustments.adjustment_enter(
        user=c.entrant,
        framework=c.framework,
        unit=unit,
        rule=rule,
        cases=c.rng.randint(1, 2),
        reason="Kết luận thanh tra",
        evidence="Số 12/KL-TTr",
        now=c.now(),
    )


def approve_deduction(c: City) -> str:
    entered = _enter(c)
    adjustments.adjustment_decide(
        user=c.approver, adjustment=entered, approve=True, reason="", now=c.now()
    )
    return f"approve {entered.rule.code} x{entered.cases} for {entered.unit.code}"


def reject_deduction(c: City) -> str:
    entered = _enter(c)
    adjustments.adjustment_decide(
        user=c.approver,
        adjustment=entered,
        approve=False,
        reason="Chưa đủ căn cứ",
        now=c.now(),
    )
    return f"reject {entered.rule.code} for {entered.unit.code}"


def record_reminder(c: City) -> str:
    unit = c.rng.choice(c.units)
    issued_on = date(2024, c.rng.randint(1, 12), c.rng.randint(1, 28))
    try:
        reminder_services.reminder_issue(
            user=c.approver, unit=unit, issued_on=issued_on, reason="Trễ hẹn"
        )
    except ValidationError:
        return f"remind {unit.code} on {issued_on}: already reminded that day"
    return f"remind {unit.code} on {issued_on}"


def withdraw_reminder(c: City) -> str:
    in_force = list(Reminder.objects.filter(withdrawn_at__isnull=True).order_by("pk"))
    if not in_force:
        return "withdraw: no reminder in force"
    reminder = c.rng.choice(in_force)
    reminder_services.reminder_withdraw(
        user=c.approver, reminder=reminder, reason="Ghi nhầm", now=c.now()
    )
    return f"withdraw the reminder to {reminder.unit.code} of {reminder.issued_on}"


def explain_case(c: City) -> str:
    case = AccountabilityCase.objects.filter(
        state=AccountabilityState.REQUESTED
    ).first()
    if case is None:
        return "explain: nothing requested"
    accountability.case_explain(
        case=case, user=c.head_user, text="Hệ thống số hóa gián đoạn.", now=c.now()
    )
    return f"{case.unit.code} explains"


def decide_case(c: City) -> str:
    case = AccountabilityCase.objects.filter(
        state=AccountabilityState.EXPLAINED
    ).first()
    if case is None:
        return "decide: nothing explained"
    decision = c.rng.choice(Decision.values)
    accountability.case_decide(
        case=case,
        user=c.leader,
        decision=decision,
        reason="Đã xem xét giải trình.",
        ground=MitigationGround.OBJECTIVE if decision == Decision.MITIGATED else "",
        now=c.now(),
    )
    return f"decide {case.unit.code}: {decision}"


def compute_only(c: City) -> str:
    return "compute"


STEP_KINDS: list[Callable[[City], str]] = [
    confirm_ratings,
    rate_as_proposed,
    change_rating,
    approve_deduction,
    approve_deduction,
    reject_deduction,
    record_reminder,
    record_reminder,
    withdraw_reminder,
    withdraw_reminder,
    explain_case,
    decide_case,
    compute_only,
]


# --- after every step -----------------------------------------------------------------


def compute_year(capture) -> ComputationRun:
    """What the results page, the API and the nightly beat do."""
    with capture(execute=True):
        requested = tasks.compute_queue(year=2025, trigger="manual")
    requested.refresh_from_db()
    return requested


def problems_after(run: ComputationRun) -> list[str]:
    found = []
    if run.state != RunState.SUCCEEDED:
        found.append(f"run #{run.pk} {run.state}: {run.error_code} {run.cause}")
        return found
    results = {r.unit_id: r for r in Result.objects.filter(framework__year=2025)}
    for adjustment in Adjustment.objects.filter(
        framework__year=2025, state=AdjustmentState.APPROVED
    ):
        counted = [e["id"] for e in results[adjustment.unit_id].detail["adjustments"]]
        if adjustment.pk not in counted:
            found.append(f"approved adjustment {adjustment.pk} missing from the result")
    for rating in HeadRating.objects.filter(year=2025, final__isnull=False):
        if rating.decided_proposal is None and not rating.reason:
            found.append(f"{rating.unit_id}: decided on no proposal, no reason")
        elif rating.final != rating.decided_proposal and not rating.reason:
            found.append(f"{rating.unit_id}: changed without a reason")
    return found


def moved_and_capped() -> tuple[bool, bool]:
    ratings = HeadRating.objects.filter(year=2025)
    return (
        accountability.ratings_proposal_changed(ratings).exists(),
        any(rating.basis["capped"] for rating in ratings),
    )


def test_the_year_computes_after_any_sequence_of_steps(
    city, django_capture_on_commit_callbacks
):
    """Each seed's sequence from the same start (a savepoint rolled back
    after it). The last assertion checks the sequences did reach what the
    issue names, so that passing means something."""
    seen = {"proposal moved": 0, "capped": 0, "withdrawn": 0, "case decided": 0}
    for seed in SEEDS:
        city.rng.seed(seed)
        city.log = []
        with transaction.atomic():
            first = compute_year(django_capture_on_commit_callbacks)
            assert problems_after(first) == [], f"seed {seed}: first run"
            assert HeadRating.objects.filter(year=2025).count() == 2
            for number in range(1, STEPS + 1):
                step = city.rng.choice(STEP_KINDS)
                city.log.append(f"{number}. {step(city)}")
                found = problems_after(compute_year(django_capture_on_commit_callbacks))
                assert found == [], f"seed {seed}:\n" + "\n".join(city.log + found)
                moved, capped = moved_and_capped()
                seen["proposal moved"] += moved
                seen["capped"] += capped
            seen["withdrawn"] += Reminder.objects.exclude(withdrawn_at=None).count()
            seen["case decided"] += AccountabilityCase.objects.filter(
                state=AccountabilityState.DECIDED
            ).count()
            transaction.set_rollback(True)
    assert all(seen.values()), seen
