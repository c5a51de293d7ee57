"""The deduction and bonus services (scoring.adjustments.services) and the province's
criterion ranks (scoring.adjustments.criterion_ranks): who enters, four eyes on every
decision, a rejection says why, the catalogue frozen once the year is
published, a rule in use is never deleted, one rank per criterion and year."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from commitments.organisation.models import UnitKind
from scoring.adjustments import criterion_ranks
from scoring.adjustments import services as adjustments
from scoring.frameworks import catalogue
from scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentState,
    CriterionRank,
    Framework,
    FrameworkState,
)
from scoring.results import computation, publication
from tests.scoring.results_helpers import GOOD, record, scored
from tests.wording import vi

# The messages, as English msgids (and their values) read through the catalogue.
Message = str | tuple[str, dict[str, object]]
CASES = "The number of cases is a whole number from 1 to 100."
REASON_NEEDED = (
    "Give the reason: what happened, and the decision or conclusion that "
    "established it."
)
POINTS_NOT_ZERO = (
    "Points per case cannot be 0: negative for a deduction, positive for a bonus."
)
NOT_A_NUMBER_MOT = ("“%(value)s” is not a number.", {"value": "một"})
TWO_DECIMALS = "Use at most two decimals and less than 1000 points."
RANK = "The rank is a whole number, 1 or more."
YEAR_2000_2100 = (
    "The year is a whole number from %(low)d to %(high)d.",
    {"low": 2000, "high": 2100},
)
CRITERION_CODE = "Give the criterion's code, as the national results write it."


def wording(message: Message) -> str:
    if isinstance(message, tuple):
        msgid, values = message
        return vi(msgid) % values
    return vi(message)


NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
D = Decimal


@pytest.fixture
def departments(db):
    """The departments' framework of 2025 with its default catalogue."""
    framework = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DEPARTMENT, name="Chỉ số CCHC các sở"
    )
    catalogue.defaults_create(framework)
    return framework


def rule(framework, code="harassment_complaint"):
    return AdjustmentRule.objects.get(framework=framework, code=code)


def enter(user, framework, unit, code="harassment_complaint", **given):
    values = {
        "cases": 2,
        "reason": "Đơn phản ánh cán bộ một cửa gây phiền hà, đã xác minh đúng",
        "evidence": "Kết luận số 15/KL-UBND ngày 10/02/2026",
    }
    values.update(given)
    return adjustments.adjustment_enter(
        user=user,
        framework=framework,
        unit=unit,
        rule=rule(framework, code),
        now=NOW,
        **values,
    )


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- entering -------------------------------------------------------------------------


def test_a_reviewer_above_the_unit_enters_a_record_awaiting_approval(
    year, org, city_reviewer
):
    entered = enter(city_reviewer, year, org.commune_a, cases=2)
    entered.refresh_from_db()
    assert entered.state == AdjustmentState.PROPOSED
    assert entered.points == D(-2)  # -1 per case, two cases
    assert (entered.entered_by, entered.entered_at) == (city_reviewer, NOW)
    assert entered.decided_by is None
    assert not entered.proposed_by_computation
    created = entered.history.get()
    assert (created.history_type, created.history_user) == ("+", city_reviewer)


def test_the_points_are_the_rules_points_when_entered(year, org, city_reviewer):
    """Changing the catalogue later never changes what was recorded."""
    entered = enter(city_reviewer, year, org.commune_a, cases=1)
    adjustments.rule_update(
        user=city_reviewer,
        rule=rule(year),
        title=rule(year).title,
        points_per_case="-1,5",
        cap="",
    )
    entered.refresh_from_db()
    assert entered.points == D(-1)
    assert enter(city_reviewer, year, org.commune_a, cases=2).points == D(-3)


@pytest.mark.parametrize(
    "who",
    ["commune_staff", "commune_head", "leader", "department_staff", "no_unit_user"],
)
def test_only_reviewers_enter_records(request, year, org, who):
    with pytest.raises(PermissionDenied):
        enter(request.getfixturevalue(who), year, org.commune_a)
    assert not Adjustment.objects.exists()


def test_a_reviewer_enters_only_below_their_own_unit(
    year, departments, org, city_reviewer, reviewer
):
    with pytest.raises(PermissionDenied):  # outside the city
        enter(city_reviewer, departments, org.department)
    city_kind = Framework.objects.create(
        year=2025, unit_kind=UnitKind.DISTRICT, name="Chỉ số CCHC cấp huyện"
    )
    catalogue.defaults_create(city_kind)
    with pytest.raises(PermissionDenied):  # nobody rates their own unit
        enter(city_reviewer, city_kind, org.city)
    assert enter(reviewer, city_kind, org.city).unit == org.city
    assert enter(reviewer, departments, org.department).unit == org.department


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"cases": 0}, "cases", CASES),
        ({"cases": "hai"}, "cases", CASES),
        ({"cases": 101}, "cases", CASES),
        ({"reason": "   "}, "reason", REASON_NEEDED),
    ],
)
def test_entering_says_what_is_wrong_with_each_field(
    year, org, city_reviewer, given, field, message
):
    with pytest.raises(ValidationError) as exc:
        enter(city_reviewer, year, org.commune_a, **given)
    assert errors(exc)[field] == [wording(message)]
    assert not Adjustment.objects.exists()


def test_the_rule_and_the_unit_must_belong_to_the_framework(
    year, departments, org, reviewer
):
    with pytest.raises(ValidationError) as exc:
        adjustments.adjustment_enter(
            user=reviewer,
            framework=year,
            unit=org.department,  # a department, against the communes' index
            rule=rule(departments),  # the departments' catalogue
            cases=1,
            reason="Báo chí phản ánh",
            evidence="",
            now=NOW,
        )
    found = errors(exc)
    assert (
        vi("Choose a rule of the %(year)d catalogue.") % {"year": 2025} in found["rule"]
    )
    assert found["unit"] == [
        vi("%(unit)s is not assessed against %(framework)s.")
        % {"unit": org.department.name, "framework": year.name}
    ]


# --- seeing ---------------------------------------------------------------------------


def test_a_reviewer_sees_the_records_of_the_units_below_them(
    year, departments, org, reviewer, city_reviewer, commune_staff, leader, superuser
):
    commune = enter(city_reviewer, year, org.commune_a)
    department = enter(reviewer, departments, org.department)

    def seen(user):
        return set(adjustments.adjustments_visible(user))

    assert seen(city_reviewer) == {commune}
    assert seen(reviewer) == seen(superuser) == {commune, department}
    assert seen(commune_staff) == seen(leader) == set()


# --- deciding (four eyes) -------------------------------------------------------------


def test_whoever_entered_a_record_cannot_decide_on_it(year, org, city_reviewer):
    entered = enter(city_reviewer, year, org.commune_a)
    for approve in (True, False):
        with pytest.raises(ValidationError) as exc:
            adjustments.adjustment_decide(
                user=city_reviewer,
                adjustment=entered,
                approve=approve,
                reason="Đồng ý",
                now=LATER,
            )
        assert exc.value.messages == [
            vi("You entered this record: another reviewer approves or rejects it.")
        ]
    entered.refresh_from_db()
    assert entered.state == AdjustmentState.PROPOSED


def test_another_reviewer_approves_it(year, org, city_reviewer, reviewer):
    entered = enter(city_reviewer, year, org.commune_a)
    decided = adjustments.adjustment_decide(
        user=reviewer, adjustment=entered, approve=True, reason="", now=LATER
    )
    entered.refresh_from_db()
    assert entered.state == decided.state == AdjustmentState.APPROVED
    assert (entered.decided_by, entered.decided_at) == (reviewer, LATER)
    latest = entered.history.latest()
    assert (latest.history_user, latest.state) == (reviewer, "approved")


def test_a_rejection_needs_a_reason(year, org, city_reviewer, reviewer):
    entered = enter(city_reviewer, year, org.commune_a)
    with pytest.raises(ValidationError) as exc:
        adjustments.adjustment_decide(
            user=reviewer, adjustment=entered, approve=False, reason="  ", now=LATER
        )
    assert errors(exc) == {"decision_reason": [vi("Say why it is rejected.")]}
    adjustments.adjustment_decide(
        user=reviewer,
        adjustment=entered,
        approve=False,
        reason="Đơn thư nặc danh, chưa được xác minh",
        now=LATER,
    )
    entered.refresh_from_db()
    assert entered.state == AdjustmentState.REJECTED
    assert entered.decision_reason == "Đơn thư nặc danh, chưa được xác minh"


def test_a_decided_record_is_not_decided_again(year, org, city_reviewer, reviewer):
    entered = enter(city_reviewer, year, org.commune_a)
    adjustments.adjustment_decide(
        user=reviewer, adjustment=entered, approve=True, reason="", now=LATER
    )
    with pytest.raises(ValidationError) as exc:
        adjustments.adjustment_decide(
            user=reviewer,
            adjustment=entered,
            approve=False,
            reason="Nhầm",
            now=LATER,
        )
    already = vi("This record was already %(state)s.")
    assert exc.value.messages == [already % {"state": vi("Approved").lower()}]


def test_a_reviewer_decides_only_on_units_below_them(
    year, departments, org, reviewer, city_reviewer, leader
):
    department = enter(reviewer, departments, org.department)
    for user in (city_reviewer, leader):
        with pytest.raises(PermissionDenied):
            adjustments.adjustment_decide(
                user=user, adjustment=department, approve=True, reason="", now=LATER
            )


def test_any_reviewer_of_the_unit_decides_on_a_computed_proposal(
    year, org, city_reviewer
):
    proposed = record(year, org.commune_a, "press_poor_management")
    Adjustment.objects.filter(pk=proposed.pk).update(
        state=AdjustmentState.PROPOSED, decided_at=None, proposed_by_computation=True
    )
    decided = adjustments.adjustment_decide(
        user=city_reviewer, adjustment=proposed, approve=True, reason="", now=LATER
    )
    assert decided.state == AdjustmentState.APPROVED
    assert decided.entered_by is None


# --- the catalogue --------------------------------------------------------------------


def test_a_manager_changes_a_rules_wording_points_and_cap(year, city_reviewer):
    changed = adjustments.rule_update(
        user=city_reviewer,
        rule=rule(year),
        title="Nhũng nhiễu, gây phiền hà (mỗi trường hợp)",
        points_per_case="-0,75",
        cap="3",
    )
    changed.refresh_from_db()
    assert (changed.title, changed.points_per_case, changed.cap) == (
        "Nhũng nhiễu, gây phiền hà (mỗi trường hợp)",
        D("-0.75"),
        D(3),
    )


@pytest.mark.parametrize(
    ("title", "points", "cap", "field", "message"),
    [
        ("", "-1", "", "title", "Name the rule."),
        ("Quy tắc", "0", "", "points_per_case", POINTS_NOT_ZERO),
        ("Quy tắc", "một", "", "points_per_case", NOT_A_NUMBER_MOT),
        ("Quy tắc", "-1.234", "", "points_per_case", TWO_DECIMALS),
        (
            "Quy tắc",
            "-1",
            "-2",
            "cap",
            "A cap is a positive number of points, or empty.",
        ),
    ],
)
def test_a_rule_is_checked_field_by_field(
    year, reviewer, title, points, cap, field, message
):
    with pytest.raises(ValidationError) as exc:
        adjustments.rule_update(
            user=reviewer,
            rule=rule(year),
            title=title,
            points_per_case=points,
            cap=cap,
        )
    assert errors(exc)[field] == [wording(message)]
    assert rule(year).points_per_case == D(-1)


def test_a_rule_is_added_with_a_new_code(year, reviewer):
    added = adjustments.rule_add(
        user=reviewer,
        framework=year,
        code="Late_Reports",
        title="Chậm gửi báo cáo CCHC định kỳ",
        points_per_case="-0.25",
        cap="1",
    )
    assert added.code == "late_reports"
    assert added.position == year.adjustment_rules.count()
    with pytest.raises(ValidationError) as exc:
        adjustments.rule_add(
            user=reviewer,
            framework=year,
            code="late_reports",
            title="Lặp lại",
            points_per_case="-1",
            cap="",
        )
    taken = vi("The catalogue already has a rule %(code)s.")
    assert errors(exc)["code"] == [taken % {"code": "late_reports"}]
    with pytest.raises(ValidationError) as exc:
        adjustments.rule_add(
            user=reviewer,
            framework=year,
            code="có dấu cách",
            title="Mã sai",
            points_per_case="-1",
            cap="",
        )
    assert errors(exc)["code"] == [
        vi("A code is letters, digits, hyphens and underscores, without spaces.")
    ]


def test_only_managers_change_the_catalogue(year, org, leader, commune_staff):
    for user in (leader, commune_staff):
        with pytest.raises(PermissionDenied):
            adjustments.rule_update(
                user=user, rule=rule(year), title="X", points_per_case="-5", cap=""
            )
        with pytest.raises(PermissionDenied):
            adjustments.rule_delete(user=user, rule=rule(year))
    assert rule(year).points_per_case == D(-1)


def test_a_rule_with_records_is_never_deleted(year, org, city_reviewer, reviewer):
    enter(city_reviewer, year, org.commune_a, code="press_poor_management")
    with pytest.raises(ValidationError) as exc:
        adjustments.rule_delete(user=reviewer, rule=rule(year, "press_poor_management"))
    in_use = vi(
        "Records were entered under “%(rule)s”: change its points instead of "
        "deleting it."
    )
    assert exc.value.messages == [
        in_use % {"rule": rule(year, "press_poor_management").title}
    ]
    assert year.adjustment_rules.filter(code="press_poor_management").exists()
    adjustments.rule_delete(user=reviewer, rule=rule(year, "deputy_disciplined"))
    assert not year.adjustment_rules.filter(code="deputy_disciplined").exists()


def test_the_catalogue_is_frozen_once_the_year_is_published(year, org, reviewer):
    scored(year, org.commune_a, GOOD)
    scored(year, org.commune_b, GOOD)
    run = computation.compute_now(2025)
    publication.publish(user=reviewer, year=2025, run_id=run.pk, now=NOW)
    year.refresh_from_db()
    assert year.state == FrameworkState.PUBLISHED
    frozen = vi("The results of %(year)d are published: its catalogue is frozen.") % {
        "year": 2025
    }
    attempts = [
        lambda: adjustments.rule_update(
            user=reviewer, rule=rule(year), title="X", points_per_case="-3", cap=""
        ),
        lambda: adjustments.rule_add(
            user=reviewer,
            framework=year,
            code="new_rule",
            title="Mới",
            points_per_case="-1",
            cap="",
        ),
        lambda: adjustments.rule_delete(user=reviewer, rule=rule(year)),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert exc.value.messages[0] == frozen
    assert rule(year).points_per_case == D(-1)
    assert not year.adjustment_rules.filter(code="new_rule").exists()


# --- the province's criterion ranks ---------------------------------------------------


def rank_values(owner, **given):
    values = {
        "instance": None,
        "year": 2025,
        "index": CriterionRank.IndexName.PAR,
        "code": "2.3",
        "title": "Kiểm soát thủ tục hành chính",
        "rank": 12,
        "owner_unit": owner,
    }
    values.update(given)
    return values


def test_a_manager_enters_and_corrects_a_criterions_rank(org, reviewer):
    saved = criterion_ranks.criterion_rank_upsert(
        user=reviewer, **rank_values(org.department, code=" cstp5 ", rank="7")
    )
    saved.refresh_from_db()
    assert (saved.year, saved.index, saved.code, saved.rank, saved.owner_unit) == (
        2025,
        "par",
        "CSTP5",
        7,
        org.department,
    )
    corrected = criterion_ranks.criterion_rank_upsert(
        user=reviewer, **rank_values(org.department, instance=saved, code="CSTP5")
    )
    assert corrected.pk == saved.pk
    assert CriterionRank.objects.get().rank == 12


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"rank": 0}, "rank", RANK),
        ({"rank": "ba"}, "rank", RANK),
        ({"year": 1999}, "year", YEAR_2000_2100),
        ({"index": "hdi"}, "index", "Choose PAR INDEX or PCI."),
        ({"code": " "}, "code", CRITERION_CODE),
        ({"title": ""}, "title", "Name the criterion."),
        (
            {"owner_unit": None},
            "owner_unit",
            "Choose the department responsible for it.",
        ),
    ],
)
def test_a_rank_is_checked_field_by_field(org, reviewer, given, field, message):
    with pytest.raises(ValidationError) as exc:
        criterion_ranks.criterion_rank_upsert(
            user=reviewer, **rank_values(org.department, **given)
        )
    assert errors(exc)[field] == [wording(message)]
    assert not CriterionRank.objects.exists()


def test_the_responsible_unit_is_a_department(org, reviewer):
    with pytest.raises(ValidationError) as exc:
        criterion_ranks.criterion_rank_upsert(
            user=reviewer, **rank_values(org.commune_a)
        )
    not_a_department = vi(
        "%(unit)s is not a department: a criterion's rank belongs to the "
        "department responsible for it."
    )
    assert errors(exc)["owner_unit"] == [
        not_a_department % {"unit": org.commune_a.name}
    ]


def test_a_criterion_has_one_rank_a_year(org, reviewer):
    criterion_ranks.criterion_rank_upsert(user=reviewer, **rank_values(org.department))
    with pytest.raises(ValidationError) as exc:
        criterion_ranks.criterion_rank_upsert(
            user=reviewer, **rank_values(org.department, rank=3)
        )
    held = vi("The %(index)s ranks of %(year)d already hold criterion %(code)s.")
    assert errors(exc)["code"] == [
        held % {"index": "PAR INDEX", "year": 2025, "code": "2.3"}
    ]
    # The same code of the other index, or of another year, is another row.
    criterion_ranks.criterion_rank_upsert(
        user=reviewer, **rank_values(org.department, index="pci")
    )
    criterion_ranks.criterion_rank_upsert(
        user=reviewer, **rank_values(org.department, year=2024)
    )
    assert CriterionRank.objects.count() == 3


def test_only_managers_of_the_department_write_ranks(
    org, reviewer, city_reviewer, leader
):
    with pytest.raises(PermissionDenied):
        criterion_ranks.criterion_rank_upsert(
            user=leader, **rank_values(org.department)
        )
    with pytest.raises(PermissionDenied):  # the city does not review departments
        criterion_ranks.criterion_rank_upsert(
            user=city_reviewer, **rank_values(org.department)
        )
    saved = criterion_ranks.criterion_rank_upsert(
        user=reviewer, **rank_values(org.department)
    )
    for user in (leader, city_reviewer):
        with pytest.raises(PermissionDenied):
            criterion_ranks.criterion_rank_delete(user=user, rank=saved)
    criterion_ranks.criterion_rank_delete(user=reviewer, rank=saved)
    assert not CriterionRank.objects.exists()


def test_rank_rows_compare_with_last_year(org, reviewer, city_reviewer):
    for year, code, rank in [
        (2024, "2.3", 12),
        (2025, "2.3", 9),
        (2024, "4.1", 3),
        (2025, "4.1", 5),
        (2025, "6.2", 20),
    ]:
        criterion_ranks.criterion_rank_upsert(
            user=reviewer,
            **rank_values(org.department, year=year, code=code, rank=rank),
        )
    rows = {row.rank.code: row for row in criterion_ranks.rank_rows(reviewer, 2025)}
    assert {code: (r.previous, r.change, r.improved) for code, r in rows.items()} == {
        "2.3": (12, 3, True),
        "4.1": (3, -2, False),
        "6.2": (None, None, False),
    }
    assert rows["4.1"].fall == 2
    assert criterion_ranks.rank_years(reviewer) == [2025, 2024]
    assert criterion_ranks.rank_rows(city_reviewer, 2025) == []
