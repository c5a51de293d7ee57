"""A small province with something to change behind every write of the
portal, for the write-path authorization matrix (test_write_matrix.py).

province PROV (the province's reviewer and leader)
├── city CITY (the city's reviewer and leader)
│   ├── commune A: CITY-A (its staff and its head)
│   └── commune B: CITY-B
└── town TOWN
    └── commune C: TOWN-C

A, B and C each hold the same objects (``Place``): a draft commitment of the
year with a metric and a manual target, a case record, a reminder, an
assessment of the open framework with a document, a deduction entered by a
third reviewer, an accountability case and a head's rating. Each write of
the matrix puts the object in the state it needs inside the attempt's own
savepoint (``prepare``), so one data set serves every attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import uuid4

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone

from commitments.models import Commitment, Indicator, IndicatorKind, Target
from commitments.organisation.models import Head, Role, Unit, UnitKind
from procedures.models import CaseRecord, Channel, DossierStatus, Procedure, Reminder
from scoring.assessments import services
from scoring.frameworks import services as frameworks
from scoring.models import (
    AccountabilityCase,
    Adjustment,
    AdjustmentRule,
    Assessment,
    CaseKind,
    CaseStep,
    CriterionRank,
    Evidence,
    Framework,
    FrameworkState,
    HeadRating,
    Notice,
    RatingLevel,
    StepAction,
)
from tests.cchc_portal.api_data import _framework
from tests.factories import HeadFactory, MembershipFactory, UnitFactory, UserFactory

PASSWORD = "correct-horse-42"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
# The year of the open framework, of the accountability cases and ratings.
FRAMEWORK_YEAR = 2025
# Who acts, by the name the matrix's tables use; "anonymous" has no account.
ROLES = (
    "anonymous",
    "unit_staff",
    "unit_head",
    "city_reviewer",
    "province_reviewer",
    "city_leader",
    "province_leader",
    "superuser",
)


@dataclass
class Place:
    """One commune's objects."""

    unit: Unit
    head: Head
    commitment: Commitment
    metric_target: Target
    manual_target: Target
    case: CaseRecord
    reminder: Reminder
    assessment: Assessment
    document: Evidence
    adjustment: Adjustment
    accountability_case: AccountabilityCase
    rating: HeadRating


@dataclass
class World:
    a: Place
    b: Place
    c: Place
    province: Unit
    department: Unit
    users: dict[str, Any]
    # A reviewer of the province besides the actors: enters the deductions
    # the actors decide (four eyes).
    entrant: User
    framework: Framework
    rule: AdjustmentRule
    draft: Framework
    draft_rule: AdjustmentRule
    rank: CriterionRank
    procedure: Procedure

    def place(self, name: str) -> Place:
        return getattr(self, name)


# factory_boy's calls return the model's instance; mypy does not see it.
def _unit(**values: Any) -> Unit:
    return cast(Unit, UnitFactory(**values))


def _user(**values: Any) -> User:
    return cast(User, UserFactory(**values))


def _member(username: str, unit: Unit, role: str) -> User:
    user = _user(username=username)
    MembershipFactory(user=user, unit=unit, role=role)
    return user


def _place(unit, framework, rule, procedure, entrant, head_user=None) -> Place:
    year = timezone.localdate().year
    head = cast(
        Head, HeadFactory(unit=unit, full_name=f"Trần Văn {unit.code}", user=head_user)
    )
    commitment = Commitment.objects.create(unit=unit, year=year)
    metric_target = Target.objects.create(
        commitment=commitment,
        indicator=Indicator.objects.get(code="dung-han"),
        value=Decimal(95),
        position=1,
    )
    manual_target = Target.objects.create(
        commitment=commitment,
        indicator=Indicator.objects.filter(kind=IndicatorKind.MANUAL).order_by("code")[
            0
        ],
        value=Decimal(100),
        position=2,
    )
    case = CaseRecord.objects.create(
        case_code=f"{unit.code}/1",
        unit=unit,
        procedure=procedure,
        received_at=datetime(2025, 3, 2, 8, 0, tzinfo=timezone.get_current_timezone()),
        due_at=datetime(2025, 3, 10, 17, 0, tzinfo=timezone.get_current_timezone()),
        status=DossierStatus.PROCESSING,
        channel=Channel.IN_PERSON,
    )
    reminder = Reminder.objects.create(
        unit=unit,
        issued_on=date(2025, 6, 2),
        year=2025,
        reason="Trễ hẹn",
        issued_by=entrant,
    )
    assessment = services.assessment_open(framework=framework, unit=unit)
    document = Evidence.objects.create(
        assessment=assessment,
        token=uuid4(),
        extension=".pdf",
        file=ContentFile(PDF, name="bien-ban.pdf"),
        original_name="bien-ban.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
    )
    adjustment = Adjustment.objects.create(
        framework=framework,
        unit=unit,
        rule=rule,
        points=rule.points_per_case,
        reason="Khiếu nại được xác minh",
        entered_by=entrant,
        entered_at=timezone.now(),
    )
    opened = timezone.now()
    accountability_case = AccountabilityCase.objects.create(
        kind=CaseKind.TWO_YEARS,
        unit=unit,
        year=FRAMEWORK_YEAR,
        head=head,
        opened_at=opened,
        updated_at=opened,
    )
    CaseStep.objects.create(
        case=accountability_case, action=StepAction.OPENED, at=opened
    )
    rating = HeadRating.objects.create(
        unit=unit,
        year=FRAMEWORK_YEAR,
        head=head,
        proposed=RatingLevel.COMPLETED,
        proposed_at=opened,
        basis={
            "targets": 1,
            "met": 1,
            "exceeded": 0,
            "tier": "B",
            "repeatedly_late": False,
            "capped": False,
        },
    )
    return Place(
        unit=unit,
        head=head,
        commitment=commitment,
        metric_target=metric_target,
        manual_target=manual_target,
        case=case,
        reminder=reminder,
        assessment=assessment,
        document=document,
        adjustment=adjustment,
        accountability_case=accountability_case,
        rating=rating,
    )


def build() -> World:
    province = _unit(code="PROV", name="UBND tỉnh", kind=UnitKind.PROVINCE)
    department = _unit(
        code="PROV-DEP", name="Sở Tư pháp", kind=UnitKind.DEPARTMENT, parent=province
    )
    city = _unit(code="CITY", name="UBND TP", kind=UnitKind.DISTRICT, parent=province)
    town = _unit(
        code="TOWN", name="UBND thị xã", kind=UnitKind.DISTRICT, parent=province
    )
    units = {
        "a": _unit(code="CITY-A", name="Phường A", parent=city),
        "b": _unit(code="CITY-B", name="Xã B", parent=city),
        "c": _unit(code="TOWN-C", name="Xã C", parent=town),
    }
    users: dict[str, Any] = {
        "anonymous": None,
        "unit_staff": _member("staff.a", units["a"], Role.UNIT_STAFF),
        "unit_head": _member("head.a", units["a"], Role.UNIT_HEAD),
        "city_reviewer": _member("reviewer.city", city, Role.REVIEWER),
        "province_reviewer": _member("reviewer.prov", province, Role.REVIEWER),
        "city_leader": _member("leader.city", city, Role.LEADER),
        "province_leader": _member("leader.prov", province, Role.LEADER),
        "superuser": _user(username="root", is_superuser=True, is_staff=True),
    }
    entrant = _member("reviewer.prov2", province, Role.REVIEWER)
    for user in users.values():
        if user is not None:
            Notice.objects.create(
                user=user, subject=f"Thông báo cho {user}", created_at=timezone.now()
            )

    framework = _framework()
    Framework.objects.filter(pk=framework.pk).update(
        state=FrameworkState.OPEN,
        deadline=timezone.localdate() + timedelta(days=30),
        contest_days=10,
    )
    framework.refresh_from_db()
    rule = AdjustmentRule.objects.create(
        framework=framework,
        code="khieu-nai",
        title="Khiếu nại về nhũng nhiễu được xác minh",
        points_per_case=Decimal(-1),
        position=1,
    )
    procedure = Procedure.objects.create(code="P1", name="Đăng ký khai sinh")
    places = {
        name: _place(
            unit,
            framework,
            rule,
            procedure,
            entrant,
            head_user=users["unit_head"] if name == "a" else None,
        )
        for name, unit in units.items()
    }
    # Next year's framework, a draft copied from this one: what Home Affairs
    # manages (settings, tiers, items, catalogue, opening, copying).
    draft = frameworks.framework_copy(
        user=users["superuser"], source=framework, year=FRAMEWORK_YEAR + 1
    )
    draft_rule = draft.adjustment_rules.get(code=rule.code)
    rank = CriterionRank.objects.create(
        year=FRAMEWORK_YEAR,
        index=CriterionRank.IndexName.choices[0][0],
        code="1.1",
        title="Công khai thủ tục",
        rank=20,
        owner_unit=department,
    )
    return World(
        a=places["a"],
        b=places["b"],
        c=places["c"],
        province=province,
        department=department,
        users=users,
        entrant=entrant,
        framework=framework,
        rule=rule,
        draft=draft,
        draft_rule=draft_rule,
        rank=rank,
        procedure=procedure,
    )
