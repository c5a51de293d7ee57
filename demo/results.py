"""Demo results: four years of the demo province's index (demo.frameworks)
self-assessed, appraised, adjusted, computed and, for 2022–2024, published.

For every year from 2022 to 2025 each department and commune fills in its
manual leaves, Home Affairs appraises them (sometimes lower, with a reason)
and enters the survey points, and approves. Scores come from a hash of (unit,
year, leaf) and a quality level per unit that drifts from year to year, so
ranks change; the units demo.cases singles out keep their character:
Sở Xây dựng is late and slides to the bottom of the departments, Sở Tư
pháp, Sở Kế hoạch và Đầu tư and Phường Phả Lại are the good examples,
Phường Hoàng Tiến slides. Every year two named units of one group end on
exactly the same points (TIES): they share a rank and the next rank is
skipped.

Deductions (a press report on Sở Xây dựng, harassment complaints at Phường
Hoàng Tiến, a disciplined deputy director) are entered and decided through
scoring.adjustments.services with four eyes; one is rejected and one still awaits
approval in 2025. The province's ranks on PAR INDEX and PCI criteria
(CriterionRank, 2021–2025) make the computation propose criterion-rank
bonuses for the departments responsible; Sở Nội vụ approves those of
2022–2024 (but one) and leaves 2025's for the demo to decide.

Each year is computed (scoring.results.computation.compute_now), the proposals
decided, computed again, and 2022, 2023, 2024 are published in that order
(a year's change of rank reads the previous year's publication); 2025 stays
provisional, Phường Trần Nhân Tông's assessment still awaiting approval.
The wards formed on 01/07/2025 (Phường Chí Linh from three wards, …) have
their 2025 change of rank through their predecessors. Dates follow each
year's cycle: self-assessments submitted in early January (Sở Xây dựng
later, with an extension), appraised in January, approved and adjustments
decided in February, published on 15 March; a published year's runs are
dated then too, so that "computed at" never comes after "published at".

Why the assessments are written directly rather than leaf by leaf through
scoring.assessments.services: those services act for the unit's own staff and head,
and the demo has logins for four units out of some forty; the years are
past their deadline (the services lock them); and some six thousand
leaf saves with their locks and history would make every seed_demo (and
every test that seeds it) many seconds slower. The writes below keep the
same rules instead: scores within 0 and the leaf's maximum and to two
decimals (the database checks), a reason whenever an appraised score differs
from the self score, survey points entered by the reviewer, every manual and
survey leaf appraised before approval, states moved draft → submitted →
approved with their dates and users, and history rows (who, when) for every
change. Deductions, bonuses, computations and publications go through their
services.

Running the step again changes nothing: a published year is left alone, an
assessment is filled only while it is an untouched draft, a record is
entered once, and 2025 is computed again only when its inputs changed."""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import OutputWrapper
from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone

from commitments.organisation.models import (
    Head,
    HeadPosition,
    Membership,
    Role,
    Unit,
    UnitKind,
)
from demo import organisation as org
from demo.frameworks import FIRST_YEAR, OPEN_YEAR
from scoring import rules
from scoring.adjustments import services as adjustments
from scoring.assessments import closing
from scoring.models import (
    Adjustment,
    AdjustmentState,
    Assessment,
    AssessmentState,
    ComputationRun,
    CriterionRank,
    Framework,
    Method,
    PublishedResult,
    Result,
    Score,
)
from scoring.results import computation, publication

YEARS = range(FIRST_YEAR, OPEN_YEAR + 1)
PUBLISHED_YEARS = range(FIRST_YEAR, OPEN_YEAR)
P, C = org.PROVINCE_CODE, org.CITY_CODE
PROVINCE_REVIEWER, CITY_REVIEWER, ADMIN = "noivu.tinh", "noivu.chilinh", "admin"
ZERO, HALF, ONE = Decimal(0), Decimal("0.5"), Decimal(1)


def _fraction(*parts: object) -> float:
    """A number in [0, 1) from a hash: the same for the same parts, whatever
    else the demo holds."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A local date and time (Asia/Ho_Chi_Minh), as an aware datetime."""
    return timezone.make_aware(
        datetime(year, month, day, hour, minute), timezone.get_default_timezone()
    )


# --- how good each unit is, year by year ----------------------------------------------

# Quality levels (about the share of the manual points a unit earns) for
# 2022, 2023, 2024, 2025; the other units get theirs from a hash.
DESIGNED_QUALITY: dict[str, tuple[float, ...]] = {
    f"{P}-STP": (0.93, 0.95, 0.96, 0.97),
    f"{P}-SKHDT": (0.95, 0.93, 0.96, 0.95),
    f"{C}-PHALAI": (0.92, 0.94, 0.95, 0.97),
    # Phả Lại's successor from 01/07/2025 (2025 only) keeps its lead.
    f"{C}-LEDAIHANH": (0.97,) * 4,
    # Late with its dossiers and getting worse (demo.cases.LATE_UNITS).
    f"{P}-SXD": (0.84, 0.76, 0.68, 0.58),
    f"{C}-HOANGTIEN": (0.82, 0.77, 0.72, 0.68),
    f"{P}-STNMT": (0.80, 0.78, 0.79, 0.77),
    # The ward formed by the 2025 merger, finding its feet (2025 only).
    f"{C}-{org.MERGED_WARD[0]}": (0.80,) * 4,
}
# Two units of one ranking group that end each year on the same points: the
# second one's survey points (and, if need be, the first one's) are set so.
TIES: dict[int, tuple[str, str]] = {
    2022: (f"{P}-SCT", f"{P}-SYT"),
    2023: (f"{C}-VANAN", f"{C}-VANDUC"),
    2024: (f"{P}-STC", f"{P}-SGTVT"),
    # The province's one commune-level group of the two-tier year.
    2025: (f"{C}-CHUVANAN", f"{C}-NGUYENTRAI"),
}
# Units that needed an extension to submit, and when they submitted.
LATE_SUBMISSIONS = {
    (f"{P}-SXD", 2023): date(2024, 1, 12),
    (f"{P}-SXD", 2024): date(2025, 1, 14),
    (f"{P}-SXD", 2025): date(2026, 1, 16),
    (f"{C}-TRANHUNGDAO", 2025): date(2026, 1, 13),
}
# Never submitted: left half filled in, taken as it stood and marked "quá
# hạn" when Sở Nội vụ closed the communes' cycle the day after the deadline
# (issue 17, item 9); then appraised and approved like the others, the
# late-submission deduction proposed by the computation.
CLOSED_LATE = {(f"{P}-THANHMIEN", 2025)}
# The share of its manual leaves such a unit had self-scored.
CLOSED_LATE_FILLED = 0.6
CLOSED_LATE_REASON = (
    "Đơn vị không tự chấm mục này trước hạn; hồ sơ được lấy theo hiện trạng "
    "khi khóa kỳ đánh giá."
)
# Appraised but not yet approved: why 2025 is still provisional.
# (Phường Trần Nhân Tông: Xã Bắc An's successor.)
NOT_YET_APPROVED = {(f"{C}-TRANNHANTONG", 2025)}


@functools.cache
def quality(code: str, year: int) -> float:
    pair = TIES.get(year)
    if pair is not None and code == pair[1]:
        code = pair[0]  # a tie starts from two units of the same quality
    designed = DESIGNED_QUALITY.get(code)
    if designed is not None:
        return designed[year - FIRST_YEAR]
    base = 0.76 + int(_fraction(code, "quality") * 17) / 100
    drift = (int(_fraction(code, year, "drift") * 11) - 5) / 100
    return min(0.97, max(0.6, base + drift))


# --- the assessments ------------------------------------------------------------------

SELF_FULL = (
    "Đã thực hiện đầy đủ, đúng quy định trong năm {year}. Tài liệu kiểm chứng: "
    "báo cáo số {number}/BC-{agency} ngày {day}/12/{year} và các văn bản kèm theo."
)
SELF_HALF = (
    "Thực hiện chưa đầy đủ: một số nhiệm vụ chuyển sang năm {next}; đơn vị tự "
    "chấm một nửa số điểm. Tài liệu kiểm chứng: báo cáo số {number}/BC-{agency}."
)
SELF_NONE = "Chưa thực hiện được trong năm {year}; đơn vị tự chấm 0 điểm."
APPRAISAL_REASONS = (
    "Tài liệu kiểm chứng chưa chứng minh đầy đủ kết quả đơn vị tự chấm; chấm "
    "lại theo hồ sơ thực tế.",
    "Văn bản được ban hành sau thời hạn quy định, chỉ đạt một phần số điểm.",
    "Báo cáo gửi {reviewer} chậm so với thời hạn; chấm theo hướng dẫn.",
    "Đoàn kiểm tra CCHC kiểm tra thực tế: nội dung này thực hiện chưa đầy đủ.",
    "Thiếu tài liệu kiểm chứng cho một phần nội dung đã tự chấm.",
)


def _half_steps(maximum: Decimal, share: Decimal) -> Decimal:
    return rules.points(maximum * share)


def self_share(code: str, year: int, leaf: str) -> Decimal:
    """Full, half or no points, more often full the better the unit."""
    full = min(0.99, quality(code, year) + 0.08)
    x = _fraction(code, year, leaf, "self")
    if x < full:
        return ONE
    if x < full + (1 - full) * 0.7:
        return HALF
    return ZERO


def appraisal_cut(code: str, year: int, leaf: str) -> bool:
    """Does the reviewer lower this self score by a step?"""
    return _fraction(code, year, leaf, "appraisal") < (1 - quality(code, year)) * 0.8


def survey_points(code: str, year: int, leaf: str, maximum: Decimal) -> Decimal:
    noise = (_fraction(code, year, leaf, "survey") - 0.5) * 0.1
    share = min(1.0, max(0.3, 0.55 + 0.42 * quality(code, year) + noise))
    return min(maximum, rules.points(maximum * Decimal(str(round(share, 4)))))


@dataclass(frozen=True)
class Timeline:
    """When a unit's assessment of the year moved."""

    submitted: datetime
    appraised: datetime
    approved: datetime
    extended_until: date | None


@functools.cache
def timeline(code: str, year: int) -> Timeline:
    late = LATE_SUBMISSIONS.get((code, year))
    if late is not None:
        submitted = _at(late.year, late.month, late.day, 16, 40)
    else:
        day = 2 + int(_fraction(code, year, "submitted") * 6)  # 2–7 January
        submitted = _at(year + 1, 1, day, 8 + day, 15)
    appraised_day = max(submitted.day + 3, 18 + int(_fraction(code, year, "a") * 8))
    return Timeline(
        submitted=submitted,
        appraised=_at(year + 1, 1, min(appraised_day, 28), 15, 30),
        approved=_at(year + 1, 2, 10 + int(_fraction(code, year, "ok") * 5), 10),
        extended_until=late.replace(day=late.day + 2) if late else None,
    )


def _agency(unit: Unit) -> str:
    return unit.code.rsplit("-", 1)[-1] if unit.kind == UnitKind.DEPARTMENT else "UBND"


def _reviewer_of(unit: Unit, users: dict[str, User]) -> User:
    """Chí Linh's Home Affairs office appraises its wards and communes; the
    province's Sở Nội vụ the departments."""
    city = unit.code.startswith(f"{C}-")
    return users[CITY_REVIEWER if city else PROVINCE_REVIEWER]


@dataclass(frozen=True)
class People:
    """The demo logins of each unit: its staff, and its heads with their
    tenures, for who entered and who submitted an assessment."""

    staff: dict[int, User]
    heads: list[Head]

    @classmethod
    def load(cls) -> People:
        staff: dict[int, User] = {}
        for membership in (
            Membership.objects.filter(role=Role.UNIT_STAFF)
            .select_related("user")
            .order_by("user__username")
        ):
            staff.setdefault(membership.unit_id, membership.user)
        heads = list(
            Head.objects.filter(
                user__isnull=False, position=HeadPosition.HEAD
            ).select_related("user")
        )
        return cls(staff, heads)

    def head(self, unit: Unit, on: date) -> User | None:
        for head in self.heads:
            if (
                head.unit_id == unit.pk
                and head.tenure_from <= on
                and (head.tenure_to is None or on <= head.tenure_to)
            ):
                return head.user
        return None


def _fillable(year: int) -> list[Assessment]:
    """The year's drafts nobody has touched yet."""
    return list(
        Assessment.objects.filter(framework__year=year, state=AssessmentState.DRAFT)
        .exclude(scores__self_score__isnull=False)
        .exclude(scores__appraised_score__isnull=False)
        .select_related("unit", "framework")
        .order_by("unit__code")
    )


SCORE_FIELDS = (
    "id",
    "assessment_id",
    "node_id",
    "max_points",
    "self_score",
    "explanation",
    "appraised_score",
    "appraisal_reason",
    "version",
    "updated_by_id",
    "node__code",
    "node__method",
    "node__max_points",
)
WRITTEN = [
    "self_score",
    "explanation",
    "appraised_score",
    "appraisal_reason",
    "version",
    "updated_by",
    "updated_at",
]


def _stamp(obj: Model, user: User | None, at: datetime) -> None:
    """Who changed the row and when, for its history row."""
    obj._history_user = user  # type: ignore[attr-defined]
    obj._history_date = at  # type: ignore[attr-defined]
    if isinstance(obj, Score):
        obj.version += 1
        obj.updated_by = user
    obj.updated_at = at  # type: ignore[attr-defined]


def self_assess(score: Score, unit: Unit, year: int) -> None:
    """A manual leaf's self score and the unit's explanation."""
    node = score.node
    share = self_share(unit.code, year, node.code)
    number = 100 + int(_fraction(unit.code, year, node.code, "n") * 800)
    text = SELF_FULL if share == ONE else SELF_HALF if share else SELF_NONE
    score.self_score = _half_steps(node.max_points, share)
    score.explanation = text.format(
        year=year,
        next=year + 1,
        number=number,
        agency=_agency(unit),
        day=10 + number % 19,
    )


def appraise(score: Score, unit: Unit, year: int) -> None:
    """The reviewer's score: the self score, or a step lower with a reason;
    the survey's points on a survey leaf."""
    node = score.node
    score.appraisal_reason = ""
    if node.method == Method.SURVEY:
        score.appraised_score = survey_points(
            unit.code, year, node.code, node.max_points
        )
    else:
        share = self_share(unit.code, year, node.code)
        score.appraised_score = score.self_score
        if share > 0 and appraisal_cut(unit.code, year, node.code):
            score.appraised_score = _half_steps(node.max_points, share - HALF)
            pick = int(_fraction(unit.code, year, node.code, "why") * 5)
            score.appraisal_reason = APPRAISAL_REASONS[pick].format(
                reviewer="Sở Nội vụ"
                if unit.kind == UnitKind.DEPARTMENT
                else "Phòng Nội vụ thành phố"
            )
    _check_appraisal(score)


def assessments_fill(year: int, users: dict[str, User]) -> list[Assessment]:
    """Self scores and their explanations, submission, appraisal and survey
    points for the year's untouched drafts; returns them, submitted. Each
    leaf is written once, with a history row for the unit's self score
    (when it submitted) and one for the reviewer's (when it appraised)."""
    found = _fillable(year)
    if not found:
        return []
    by_id = {a.pk: a for a in found}
    # Opened in November of the year, not when the demo was seeded: the
    # history reads in order.
    Assessment.history.filter(id__in=list(by_id), history_type="+").update(
        history_date=_at(year, 11, 14, 8)
    )
    scores = [
        score
        for score in Score.objects.filter(assessment__in=found)
        .select_related("node")
        .only(*SCORE_FIELDS)
        .order_by("assessment_id", "node__position")
        # Metric leaves are computed from the dossier figures.
        if score.node.method != Method.METRIC
    ]
    people = People.load()
    left = _left_empty(found, scores, year)
    self_rows = []
    for score in scores:
        unit = by_id[score.assessment_id].unit
        if score.node.method == Method.MANUAL and score.pk not in left:
            submitted = timeline(unit.code, year).submitted
            self_assess(score, unit, year)
            # Entered by the unit's staff (where the demo has a login for
            # them) or its head.
            entrant = people.staff.get(unit.pk) or people.head(unit, submitted.date())
            _stamp(score, entrant, submitted)
            self_rows.append(score)
    _history(self_rows)
    late = [a for a in found if (a.unit.code, year) in CLOSED_LATE]
    for assessment in found:
        if assessment in late:
            continue  # never submitted: taken when the cycle is closed
        when = timeline(assessment.unit.code, year)
        head = people.head(assessment.unit, when.submitted.date())
        assessment.state = AssessmentState.SUBMITTED
        assessment.round = 1
        assessment.submitted_at = when.submitted
        assessment.submitted_by = head
        assessment.extended_until = when.extended_until
        _stamp(assessment, head, when.submitted)
    _update(
        [assessment for assessment in found if assessment not in late],
        [
            "state",
            "round",
            "submitted_at",
            "submitted_by",
            "extended_until",
            "updated_at",
        ],
    )
    if late:
        _close_cycle(late, year, users)
    for score in scores:
        unit = by_id[score.assessment_id].unit
        if score.pk in left:
            score.appraised_score = ZERO
            score.appraisal_reason = CLOSED_LATE_REASON
            _check_appraisal(score)
        else:
            appraise(score, unit, year)
        _stamp(score, _reviewer_of(unit, users), timeline(unit.code, year).appraised)
    _history(scores)
    _update(scores, WRITTEN, history=False)
    return found


def _left_empty(
    found: Sequence[Assessment], scores: Sequence[Score], year: int
) -> set[int]:
    """The manual leaves a unit of CLOSED_LATE never self-scored: those
    after the first CLOSED_LATE_FILLED of its tree."""
    late = {a.pk for a in found if (a.unit.code, year) in CLOSED_LATE}
    left: set[int] = set()
    for assessment_id in late:
        manual = [
            s
            for s in scores
            if s.assessment_id == assessment_id and s.node.method == Method.MANUAL
        ]
        left |= {s.pk for s in manual[int(len(manual) * CLOSED_LATE_FILLED) :]}
    return left


def _close_cycle(late: Sequence[Assessment], year: int, users: dict[str, User]) -> None:
    """Sở Nội vụ closes the cycle of each framework holding a CLOSED_LATE
    assessment on the day after its deadline, through the closing service:
    the draft is taken as it stands and marked late."""
    closed_on, closed_at = date(year + 1, 1, 8), _at(year + 1, 1, 8, 8, 30)
    for framework in {assessment.framework for assessment in late}:
        outcome = closing.cycle_close(
            user=users[PROVINCE_REVIEWER],
            framework=framework,
            now=closed_at,
            today=closed_on,
        )
        assert outcome.late == len(
            [a for a in late if a.framework_id == framework.pk]
        ), outcome
    # The history reads in order: closed on the 8th, not when seeded.
    Assessment.history.filter(
        id__in=[a.pk for a in late], history_change_reason="cycle closed"
    ).update(history_date=closed_at)
    for assessment in late:
        assessment.refresh_from_db()


def _check_appraisal(score: Score) -> None:
    """scoring.assessments.services' rules for an appraised score, kept by the direct
    writes: within the leaf's maximum, two decimals, a reason when it
    differs from the self score."""
    value = score.appraised_score
    assert value is not None
    assert ZERO <= value <= score.node.max_points
    assert value == rules.points(value)
    differs = score.self_score is not None and value != score.self_score
    assert score.appraisal_reason or not differs, score.node.code


def _converter(field: Field) -> Callable[[Any], Any]:
    """What Field.get_db_prep_save does for the fields written here, without
    its layers (which, over tens of thousands of values, cost seconds)."""
    ops = connection.ops
    kind = field.get_internal_type()
    if kind == "DecimalField":
        return lambda value: ops.adapt_decimalfield_value(
            value,
            field.max_digits,  # type: ignore[attr-defined]
            field.decimal_places,  # type: ignore[attr-defined]
        )
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DateField":
        return ops.adapt_datefield_value
    if kind in PLAIN_FIELDS:
        return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


PLAIN_FIELDS = {
    "AutoField",
    "BigAutoField",
    "CharField",
    "TextField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
}


def _executemany(sql: str, rows: list[list[Any]]) -> None:
    """One statement over many rows. psycopg2's executemany makes a round
    trip per row (seconds for the demo's twenty thousand); its execute_batch
    sends them a page at a time. SQLite runs in process."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from django.db.backends.postgresql.psycopg_any import is_psycopg3

            if not is_psycopg3:
                from psycopg2.extras import execute_batch

                execute_batch(cursor.cursor, sql, rows, page_size=500)
                return
        cursor.executemany(sql, rows)


def _update(objs: Sequence[Model], fields: list[str], *, history: bool = True) -> None:
    """Write ``fields`` of each object in one statement run over every row
    (Django's bulk_update builds a CASE per field and row: seconds for a few
    thousand leaves), and its history row unless ``history`` is False."""
    if not objs:
        return
    quote = connection.ops.quote_name
    meta = type(objs[0])._meta
    columns = [meta.get_field(name) for name in fields]
    assert all(isinstance(f, Field) for f in columns)
    written = [f for f in columns if isinstance(f, Field)]
    convert = [(f.attname, _converter(f)) for f in written]
    assert meta.pk is not None
    _executemany(
        "UPDATE {} SET {} WHERE {} = %s".format(
            quote(meta.db_table),
            ", ".join(f"{quote(str(f.column))} = %s" for f in written),
            quote(str(meta.pk.column)),
        ),
        [[*(c(getattr(obj, name)) for name, c in convert), obj.pk] for obj in objs],
    )
    if history:
        _history(objs)


def _history(objs: Sequence[Model]) -> None:
    """A history row per object, as django-simple-history writes one on
    save: the row's values now, its ``_history_user`` and
    ``_history_date``."""
    if not objs:
        return
    quote = connection.ops.quote_name
    table = type(objs[0]).history.model  # type: ignore[attr-defined]
    fields = [f for f in table._meta.concrete_fields if f.attname != "history_id"]
    special: dict[str, Callable[[Any], Any]] = {
        "history_date": lambda obj: obj._history_date,
        "history_user_id": lambda obj: (
            obj._history_user.pk if obj._history_user is not None else None
        ),
        "history_type": lambda obj: "~",
        "history_change_reason": lambda obj: None,
    }
    getters = [
        (
            special.get(f.attname) or operator.attrgetter(f.attname),
            _converter(f),
        )
        for f in fields
    ]
    _executemany(
        "INSERT INTO {} ({}) VALUES ({})".format(
            quote(table._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        ),
        [[convert(get(obj)) for get, convert in getters] for obj in objs],
    )


def assessments_approve(
    assessments: Sequence[Assessment], year: int, users: dict[str, User]
) -> int:
    """Approve the submitted assessments (all of them appraised), but those
    NOT_YET_APPROVED."""
    approving = []
    for assessment in assessments:
        code = assessment.unit.code
        if (code, year) in NOT_YET_APPROVED:
            continue
        assert not Score.objects.filter(
            assessment=assessment,
            node__method__in=[Method.MANUAL, Method.SURVEY],
            appraised_score__isnull=True,
        ).exists()
        when = timeline(code, year)
        reviewer = _reviewer_of(assessment.unit, users)
        assessment.state = AssessmentState.APPROVED
        assessment.approved_at = when.approved
        assessment.approved_by = reviewer
        _stamp(assessment, reviewer, when.approved)
        approving.append(assessment)
    _update(approving, ["state", "approved_at", "approved_by", "updated_at"])
    return len(approving)


# --- ties -----------------------------------------------------------------------------


def _survey_scores(assessment_id: int) -> list[Score]:
    return list(
        Score.objects.filter(assessment_id=assessment_id, node__method=Method.SURVEY)
        .select_related("node")
        .only(*SCORE_FIELDS)
        .order_by("node__position")
    )


def _shift(scores: Sequence[Score], amount: Decimal) -> Decimal:
    """Raise (or lower) survey points by up to ``amount`` in all, leaf by leaf
    within 0 and each maximum; returns what was shifted."""
    left = amount
    for score in scores:
        if left == 0:
            break
        current = score.appraised_score or ZERO
        target = min(score.node.max_points, max(ZERO, current + left))
        left -= target - current
        score.appraised_score = target
    return amount - left


def _room(scores: Sequence[Score], up: bool) -> Decimal:
    return sum(
        (
            (s.node.max_points - (s.appraised_score or ZERO))
            if up
            else (s.appraised_score or ZERO)
            for s in scores
        ),
        ZERO,
    )


def tie_make(year: int, users: dict[str, User]) -> tuple[str, str] | None:
    """Give the year's TIES pair the same final points: the second unit's
    survey points move by the difference (the first unit's take what they
    cannot). Falls back on the closest pair of its group should the
    difference not fit in the survey points. Returns the pair's codes."""
    rows = {
        row.unit_code: row
        for row in computation.calculate(year).rows
        if (row.unit_code, year) not in NOT_YET_APPROVED
    }
    first, second = TIES[year]
    if first not in rows or second not in rows:
        return None
    group = rows[first].group_id
    ordered = sorted(
        (r for r in rows.values() if r.group_id == group),
        key=lambda r: (-r.final, r.unit_code),
    )
    candidates = [
        (rows[first], rows[second]),
        *sorted(
            itertools.pairwise(ordered),
            key=lambda pair: (pair[0].final - pair[1].final, pair[0].unit_code),
        ),
    ]
    for a, b in candidates:
        delta = a.final - b.final
        mine = _survey_scores(b.detail["assessment"])
        theirs = _survey_scores(a.detail["assessment"])
        up = delta > 0
        if abs(delta) > _room(mine, up) + _room(theirs, not up):
            continue
        before = {s.pk: s.appraised_score for s in [*mine, *theirs]}
        shifted = _shift(mine, delta)
        _shift(theirs, shifted - delta)
        changed = []
        for row, scores in ((b, mine), (a, theirs)):
            unit = Unit.objects.get(pk=row.unit_id)
            when = timeline(unit.code, year)
            reviewer = _reviewer_of(unit, users)
            for score in scores:
                if score.appraised_score == before[score.pk]:
                    continue
                _stamp(score, reviewer, when.appraised)
                changed.append(score)
        _update(changed, WRITTEN)
        return a.unit_code, b.unit_code
    return None


# --- deductions and bonuses -----------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """A deduction entered by a reviewer and decided by another."""

    year: int
    unit: str
    rule: str
    cases: int
    reason: str
    evidence: str
    entered_by: str
    entered_on: date
    decided_by: str | None = None  # None: still awaiting approval
    approve: bool = True
    decision: str = ""


def _deputy(code: str) -> str:
    deputy = (
        Head.objects.filter(unit__code=code, position=HeadPosition.DEPUTY)
        .order_by("tenure_from")
        .first()
    )
    return deputy.full_name if deputy else ""


def records() -> list[Record]:
    return [
        Record(
            2022, f"{P}-SXD", "press_poor_management", 1,
            "Báo Hải Dương phản ánh việc chậm thẩm định thiết kế xây dựng và cấp "
            "giấy phép xây dựng công trình cấp II; Đoàn kiểm tra của UBND tỉnh xác "
            "minh phản ánh là đúng.",
            "Báo Hải Dương ngày 14/09/2022; Kết luận kiểm tra số 112/KL-UBND ngày "
            "28/10/2022",
            PROVINCE_REVIEWER, date(2023, 1, 16), ADMIN,
            decision="Đúng theo kết luận kiểm tra.",
        ),
        Record(
            2023, f"{P}-SXD", "press_poor_management", 2,
            "Hai phản ánh trên báo chí về hồ sơ cấp chứng chỉ hành nghề xây dựng "
            "quá hạn nhiều tháng không có văn bản xin lỗi; Thanh tra tỉnh xác minh "
            "là đúng.",
            "Báo Lao động ngày 06/06/2023, Báo Hải Dương ngày 21/08/2023; Kết luận "
            "thanh tra số 35/KL-TTr ngày 30/11/2023",
            PROVINCE_REVIEWER, date(2024, 1, 15), ADMIN,
            decision="Đúng theo kết luận thanh tra.",
        ),
        Record(
            2023, f"{P}-STNMT", "deputy_disciplined", 1,
            f"Đồng chí {_deputy(f'{P}-STNMT')}, Phó Giám đốc Sở, bị kỷ luật khiển "
            "trách do thiếu trách nhiệm trong chỉ đạo giải quyết hồ sơ đất đai.",
            "Quyết định kỷ luật số 2456/QĐ-UBND ngày 12/10/2023",
            PROVINCE_REVIEWER, date(2024, 1, 15), ADMIN,
        ),
        Record(
            2023, f"{C}-HOANGTIEN", "harassment_complaint", 1,
            "Công dân phản ánh công chức địa chính - xây dựng gây phiền hà, yêu cầu "
            "bổ sung giấy tờ không đúng quy định; Thanh tra thành phố xác minh là "
            "đúng.",
            "Kết luận xác minh số 18/KL-TTr ngày 09/11/2023",
            CITY_REVIEWER, date(2024, 1, 17), PROVINCE_REVIEWER,
        ),
        Record(
            2024, f"{P}-SXD", "press_poor_management", 2,
            "Báo chí phản ánh tình trạng hồ sơ cấp giấy phép xây dựng bị trả lại "
            "nhiều lần và quá hạn; Đoàn kiểm tra của UBND tỉnh xác minh là đúng.",
            "Báo Hải Dương ngày 03/04/2024 và ngày 17/09/2024; Kết luận kiểm tra số "
            "87/KL-UBND ngày 25/10/2024",
            PROVINCE_REVIEWER, date(2025, 1, 15), ADMIN,
            decision="Đúng theo kết luận kiểm tra.",
        ),
        Record(
            2024, f"{C}-HOANGTIEN", "harassment_complaint", 2,
            "Hai đơn phản ánh công chức Bộ phận Một cửa gây phiền hà khi tiếp nhận "
            "hồ sơ chứng thực và đất đai; Thanh tra thành phố xác minh là đúng.",
            "Kết luận xác minh số 07/KL-TTr ngày 20/05/2024 và số 29/KL-TTr ngày "
            "14/10/2024",
            CITY_REVIEWER, date(2025, 1, 16), PROVINCE_REVIEWER,
        ),
        Record(
            2024, f"{C}-CONGHOA", "harassment_complaint", 1,
            "Đơn phản ánh công chức tư pháp - hộ tịch gây khó khăn khi đăng ký "
            "khai sinh.",
            "Đơn của công dân ngày 02/08/2024",
            CITY_REVIEWER, date(2025, 1, 16), PROVINCE_REVIEWER,
            approve=False,
            decision="Thanh tra thành phố xác minh nội dung phản ánh không đúng "
            "(Kết luận số 24/KL-TTr ngày 18/09/2024): không trừ điểm.",
        ),
        Record(
            2025, f"{P}-SXD", "press_poor_management", 1,
            "Báo chí phản ánh việc chậm giải quyết hồ sơ thẩm định dự án đầu tư "
            "xây dựng; Đoàn kiểm tra của UBND tỉnh xác minh là đúng.",
            "Báo Hải Dương ngày 11/07/2025; Kết luận kiểm tra số 64/KL-UBND ngày "
            "22/09/2025",
            PROVINCE_REVIEWER, date(2026, 1, 15), ADMIN,
            decision="Đúng theo kết luận kiểm tra.",
        ),
        Record(
            2025, f"{C}-{org.MERGED_WARD[0]}", "harassment_complaint", 1,
            "Công dân phản ánh công chức văn hóa - xã hội của phường gây phiền hà "
            "khi giải quyết hồ sơ trợ cấp; đang chờ kết luận xác minh.",
            "Đơn của công dân ngày 10/11/2025; Phiếu chuyển đơn số 41/PC-TTr",
            CITY_REVIEWER, date(2026, 1, 20),
        ),
    ]  # fmt: skip


def records_enter(year: int, users: dict[str, User]) -> int:
    """The year's RECORDS through scoring.adjustments.services, each once."""
    entered = 0
    for record in (r for r in records() if r.year == year):
        unit = Unit.objects.get(code=record.unit)
        framework = Framework.objects.get(year=year, unit_kind=unit.kind)
        rule = framework.adjustment_rules.get(code=record.rule)
        if Adjustment.objects.filter(
            framework=framework, unit=unit, rule=rule, reason=record.reason
        ).exists():
            continue
        on, decided = record.entered_on, record.entered_on + timedelta(days=21)
        adjustment = adjustments.adjustment_enter(
            user=users[record.entered_by],
            framework=framework,
            unit=unit,
            rule=rule,
            cases=record.cases,
            reason=record.reason,
            evidence=record.evidence,
            now=_at(on.year, on.month, on.day, 10),
        )
        if record.decided_by is not None:
            adjustments.adjustment_decide(
                user=users[record.decided_by],
                adjustment=adjustment,
                approve=record.approve,
                reason=record.decision,
                now=_at(decided.year, decided.month, decided.day, 14),
            )
        entered += 1
    return entered


# The province's rank on criteria of the PAR INDEX and the PCI, 2021–2025, and
# the department responsible: (index, code, title, owner, ranks).
CRITERIA: tuple[tuple[str, str, str, str, tuple[int, ...]], ...] = (
    ("par", "1", "Công tác chỉ đạo, điều hành cải cách hành chính", "SNV",
     (21, 15, 12, 14, 9)),
    ("par", "2", "Xây dựng và tổ chức thực hiện văn bản quy phạm pháp luật tại "
     "tỉnh", "STP", (30, 22, 17, 11, 6)),
    ("par", "3", "Cải cách thủ tục hành chính", "VP", (25, 27, 19, 20, 12)),
    ("par", "4", "Cải cách tổ chức bộ máy hành chính nhà nước", "SNV",
     (18, 14, 16, 9, 7)),
    ("par", "5", "Cải cách chế độ công vụ", "SNV", (33, 28, 24, 25, 15)),
    ("par", "6", "Cải cách tài chính công", "STC", (30, 31, 26, 22, 18)),
    ("par", "7", "Xây dựng và phát triển Chính quyền điện tử, Chính quyền số",
     "STTTT", (19, 12, 13, 8, 5)),
    ("pci", "1", "Chi phí gia nhập thị trường", "SKHDT", (28, 20, 15, 10, 6)),
    ("pci", "2", "Tiếp cận đất đai và sự ổn định trong sử dụng đất", "STNMT",
     (24, 26, 29, 31, 33)),
    ("pci", "3", "Tính minh bạch và tiếp cận thông tin", "SKHDT",
     (22, 18, 16, 17, 9)),
    ("pci", "4", "Chi phí thời gian để thực hiện các quy định của Nhà nước",
     "SKHDT", (34, 30, 26, 21, 11)),
    ("pci", "5", "Chi phí không chính thức", "TTR", (17, 19, 14, 15, 10)),
    ("pci", "6", "Cạnh tranh bình đẳng", "SKHDT", (33, 32, 27, 27, 16)),
    ("pci", "7", "Tính năng động và tiên phong của chính quyền tỉnh", "SNV",
     (24, 20, 21, 17, 13)),
    ("pci", "8", "Dịch vụ hỗ trợ doanh nghiệp", "SKHDT", (26, 29, 23, 24, 14)),
    ("pci", "9", "Đào tạo lao động", "SLDTBXH", (12, 10, 11, 7, 4)),
    ("pci", "10", "Thiết chế pháp lý và an ninh trật tự", "STP",
     (31, 25, 27, 19, 12)),
)  # fmt: skip
RANK_YEARS = range(FIRST_YEAR - 1, OPEN_YEAR + 1)
# A proposal Sở Nội vụ rejects: (year, department) and why.
PROPOSAL_REJECTED = {
    (2023, f"{P}-VP"): "Thứ hạng tiêu chí tăng chủ yếu do Bộ Nội vụ điều chỉnh "
    "phương pháp chấm điểm năm 2023, không phải do kết quả của đơn vị.",
}


def criterion_ranks_upsert() -> int:
    """CRITERIA as CriterionRank rows; returns how many were written."""
    owners = {
        unit.code: unit
        for unit in Unit.objects.filter(code__in={f"{P}-{c[3]}" for c in CRITERIA})
    }
    existing = {
        (row.year, row.index, row.code): row for row in CriterionRank.objects.all()
    }
    written = 0
    for index, code, title, owner, ranks in CRITERIA:
        for year, rank in zip(RANK_YEARS, ranks, strict=True):
            unit = owners[f"{P}-{owner}"]
            row = existing.get((year, index, code))
            if row is None:
                CriterionRank.objects.create(
                    year=year,
                    index=index,
                    code=code,
                    title=title,
                    rank=rank,
                    owner_unit=unit,
                )
            elif (row.title, row.rank, row.owner_unit_id) != (title, rank, unit.pk):
                row.title, row.rank, row.owner_unit = title, rank, unit
                row.save()
            else:
                continue
            written += 1
    return written


def proposals_decide(year: int, users: dict[str, User]) -> int:
    """Sở Nội vụ decides the computation's proposals (they have no entrant,
    so the province's reviewer may): all approved but PROPOSAL_REJECTED."""
    decided = 0
    for proposal in Adjustment.objects.filter(
        framework__year=year,
        proposed_by_computation=True,
        state=AdjustmentState.PROPOSED,
    ).select_related("unit"):
        why = PROPOSAL_REJECTED.get((year, proposal.unit.code), "")
        adjustments.adjustment_decide(
            user=users[PROVINCE_REVIEWER],
            adjustment=proposal,
            approve=not why,
            reason=why,
            now=_at(year + 1, 2, 20, 10),
        )
        decided += 1
    return decided


# --- the years ------------------------------------------------------------------------


def _backdate(run: ComputationRun, at: datetime) -> None:
    """A past year's run is shown as computed when it was, not when the demo
    was seeded (the publication's date follows it)."""
    ComputationRun.objects.filter(pk=run.pk).update(
        created_at=at, started_at=at, heartbeat_at=at, finished_at=at
    )


def _stale(year: int) -> bool:
    """Would a computation today give other results than the latest run's?"""
    run = publication.latest_run(year)
    if run is None:
        return True
    fresh = computation.calculate(year)
    stored = {
        result.unit_id: computation.columns_of(result)
        for result in Result.objects.filter(framework__year=year, run=run)
    }
    return fresh.parameters != run.parameters or stored != {
        row.unit_id: row.columns() for row in fresh.rows
    }


def year_build(year: int, users: dict[str, User]) -> None:
    """One year from its drafts to its results (and, for 2022–2024, its
    publication)."""
    filled = assessments_fill(year, users)
    past = year in PUBLISHED_YEARS
    if filled:
        records_enter(year, users)
        if past:
            # The proposals to decide before the final computation.
            first = computation.compute_now(year, trigger="command")
            _backdate(first, _at(year + 1, 2, 18, 16))
            proposals_decide(year, users)
        tie_make(year, users)
        assessments_approve(filled, year, users)
    if filled or _stale(year):
        run = computation.compute_now(year, trigger="command")
        if past:
            _backdate(run, _at(year + 1, 3, 10, 16))
    latest = publication.latest_run(year)
    if past and publication.latest_publication(year) is None:
        assert latest is not None
        publication.publish(
            user=users[PROVINCE_REVIEWER],
            year=year,
            run_id=latest.pk,
            now=_at(year + 1, 3, 15, 9),
            note=f"Công bố kết quả Chỉ số cải cách hành chính năm {year} của các "
            "sở, ban, ngành và UBND xã, phường (Quyết định số "
            f"{500 + year % 100}/QĐ-UBND ngày 15/03/{year + 1}).",
        )


def ties(results: Sequence[Result | PublishedResult]) -> list[list[str]]:
    """Groups of ranked units sharing a rank: [[code, code, …], …]."""
    shared: dict[tuple[int | None, int], list[str]] = {}
    for result in results:
        if result.rank is not None:
            key = (result.group_id, result.rank)
            shared.setdefault(key, []).append(result.unit.code)
    return [sorted(codes) for codes in shared.values() if len(codes) > 1]


def build_results(out: OutputWrapper) -> None:
    users = {
        user.username: user
        for user in get_user_model().objects.filter(
            username__in=[PROVINCE_REVIEWER, CITY_REVIEWER, ADMIN]
        )
    }
    criterion_ranks_upsert()
    for year in YEARS:
        if publication.latest_publication(year) is None:
            year_build(year, users)
    parts = []
    ranked = 0
    tied = 0
    for year in YEARS:
        published = publication.latest_publication(year)
        rows: Sequence[Result | PublishedResult]
        if published is not None:
            rows = list(
                PublishedResult.objects.filter(publication=published).select_related(
                    "unit"
                )
            )
            label = f"{year} v{published.version}"
        else:
            rows = list(
                Result.objects.filter(framework__year=year).select_related("unit")
            )
            label = f"{year} provisional"
        ranked += sum(1 for row in rows if row.rank is not None)
        found = ties(rows)
        tied += len(found)
        parts.append(
            f"{label} ({', '.join(' = '.join(codes) for codes in found) or 'no tie'})"
        )
    out.write(f"  results: {'; '.join(parts)}; {ranked} units ranked, {tied} ties")
