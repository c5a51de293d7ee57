"""Demo commitments, accountability and head ratings (DOMAIN.md section 8),
the last seed_demo step: it needs the organisation, the case records' figures
and the results of 2024 and 2025 (for the tiers).

Every department, the land-registry branch, and in 2024 every Chí Linh
office, ward and commune, from 2025 every commune-level unit of the
province (the districts are left out, to keep the step short, and ended on
30/06/2025 with the offices) has a commitment for 2024, 2025 and 2026,
drafted from the template of its kind by Home Affairs, adjusted, signed by
the head in office (a one-page PDF stands in for the scan) and counter-signed
by the level above, all through commitments.services, on dates in
the past. Targets are set from the unit's own figures, so that what is met
and missed comes from the data, whatever the number of demo case records:
most units commit to what they achieve (the official value where they reach
it, else a round figure below their result) and meet their commitment;
the units of the story keep official targets their figures miss, or have a
report rejected:

- Xã Hưng Đạo misses in 2024 and ends on 30/06/2025; Phường Trần Hưng Đạo,
  which it went into, misses 2025: a case for the successor's current head
  naming both signers, left at "explanation requested" for the head's
  login (truong.hungdao);
- Sở Tài nguyên và Môi trường misses twice: explained by its head
  (truong.sotnmt), mitigated by the chairman (objective cause);
- Sở Xây dựng keeps every official target and misses most of them twice:
  explained (truong.soxaydung), awaiting the chairman's decision; its head
  is rated "not completed" two years running and flagged;
- Sở Nông nghiệp misses only in 2025 (a report rejected) and the land
  registry branch only in 2024: no case;
- the branch was reminded about its late dossiers in 2024 and is late again
  in 2025: it meets every 2025 target, yet its head's proposal is capped at
  "Hoàn thành" (seed 003).

Manual indicators are reported by the unit's login where the demo has one,
otherwise by the administrator from the unit's written report, and checked
by the reviewer. 2024 and 2025 are evaluated (accountability.evaluate_year);
the leaders confirm the 2024 ratings and part of 2025's, and change one with
a reason. 2026 runs: its commitments are signed, Phường Lê Đại Hành's left as
a draft for its staff to sign and Phường Chu Văn An's awaiting the
counter-signature;
its metric targets show their progress from the 2026 case records (up to the
last import, demo.cases.CURRENT_YEAR_UNTIL; read the same on any day
after it) and a few manual reports show theirs:

- most units commit to what their 2026 figures reach (commit_to): on track;
- Sở Xây dựng keeps every official target, as its head promised when
  explaining 2025: at risk on most of them;
- Sở Giao thông vận tải (digitisation halves), Phường Trần Hưng Đạo and
  Phường Nguyễn Trãi (late far more often) commit to keep their 2025 results
  (demo.cases.CURRENT_YEAR_CHANGES): at risk where their figures fell.

The services date reports, checks, explanations, decisions and ratings
with the clock (they take no ``now``); signatures, counter-signatures,
reminders and the evaluations carry their own dates.

Running the step again changes nothing: each stage acts only on what is
still to do (a draft to sign, a signature to counter-sign, a report not yet
made or checked, a year not yet evaluated, a case or rating not yet
decided)."""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.management.base import OutputWrapper
from django.db.models import Prefetch, Q
from django.utils import timezone

from commitments import progress
from commitments import services as commitment_services
from commitments.models import (
    CheckState,
    Commitment,
    CommitmentState,
    CommitmentTemplate,
    IndicatorKind,
    Target,
)
from commitments.organisation import services
from commitments.organisation.models import (
    HeadPosition,
    Membership,
    Role,
    Unit,
    UnitKind,
)
from demo import cases as cases_demo
from demo import organisation as org
from procedures import services as procedure_services
from procedures.models import Reminder
from scoring.accountability import services as accountability
from scoring.models import (
    AccountabilityCase,
    AccountabilityState,
    Decision,
    HeadRating,
    MitigationGround,
    Notice,
    Publication,
)

JUDGED_YEARS = (2024, 2025)
RUNNING_YEAR = 2026
P, C = org.PROVINCE_CODE, org.CITY_CODE
ADMIN = "admin"
PROVINCE_REVIEWER, CITY_REVIEWER = "noivu.tinh", "noivu.chilinh"
PROVINCE_LEADER, CITY_LEADER = "chutich.tinh", "chutich.chilinh"

# Evaluated after each year, once the year's results were out (2024's
# published on 15/03/2025; 2025's provisional).
EVALUATED_AT = {2024: (2025, 3, 20), 2025: (2026, 3, 1)}


class Plan(StrEnum):
    """How a unit's year turns out."""

    # Targets at what the unit achieves (commit_to): met.
    MEET = "meet"
    # One official target its figures miss (else a report rejected): missed.
    MISS_ONE = "miss_one"
    # Every official target kept: most missed.
    MISS_MOST = "miss_most"
    # A manual report rejected by the reviewer: missed.
    REJECTED = "rejected"
    # The running year: last year's results kept (the official value where
    # reached): at risk where this year's figures fall below them.
    HOLD = "hold"


# Xã Hưng Đạo misses 2024 (its head changed on 01/11/2024) and ends on
# 30/06/2025; Phường Trần Hưng Đạo, which it went into, misses 2025: the case
# is the successor's, carrying its predecessor's year (the two-year rule
# across the merger).
OPEN_CASE = f"{C}-TRANHUNGDAO"
OPEN_CASE_BEFORE = f"{C}-HUNGDAO"
MITIGATED_CASE = f"{P}-STNMT"
EXPLAINED_CASE = f"{P}-SXD"  # and "not completed" two years running
MISSED_ONCE = {(f"{P}-SNN", 2025), (f"{C}-VPDKDD", 2024)}
CAPPED = f"{C}-VPDKDD"
PLANS: dict[tuple[str, int], Plan] = {
    (OPEN_CASE_BEFORE, 2024): Plan.MISS_ONE,
    (OPEN_CASE, 2025): Plan.MISS_ONE,
    (MITIGATED_CASE, 2024): Plan.MISS_ONE,
    (MITIGATED_CASE, 2025): Plan.MISS_ONE,
    (EXPLAINED_CASE, 2024): Plan.MISS_MOST,
    (EXPLAINED_CASE, 2025): Plan.MISS_MOST,
    (f"{P}-SNN", 2025): Plan.REJECTED,
    (f"{C}-VPDKDD", 2024): Plan.MISS_ONE,
    (EXPLAINED_CASE, RUNNING_YEAR): Plan.MISS_MOST,
    **{
        (code, RUNNING_YEAR): Plan.HOLD
        for code in (
            cases_demo.DIGITISATION_FALLS,
            *cases_demo.LATE_IN_CURRENT_YEAR,
        )
    },
}
# The official target a MISS_ONE unit keeps: the first of these its figures miss.
MISS_ORDER = ("dung-han", "hai-long", "so-hoa", "thanh-toan", "truc-tuyen")
REJECTED_INDICATOR = "niem-yet"

# Reminded about their late dossiers in 2024 (seed 003): by whom, when.
REMINDERS_2024 = {
    f"{P}-SXD": (PROVINCE_REVIEWER, date(2024, 10, 15)),
    # The branch is the province's land-registry office's.
    f"{C}-VPDKDD": (PROVINCE_REVIEWER, date(2024, 9, 20)),
    f"{C}-HOANGTIEN": (CITY_REVIEWER, date(2024, 9, 20)),
}
REMINDER_REASON = (
    "Tỷ lệ hồ sơ giải quyết trễ hạn trong 9 tháng đầu năm {year} cao hơn mức "
    "bình quân; yêu cầu rà soát, khắc phục và báo cáo kết quả trước ngày "
    "15/12/{year}."
)

# Logins for heads who explain in the demo (the organisation step has one for
# Phường Phả Lại): username → unit.
HEAD_LOGINS = {
    "truong.hungdao": OPEN_CASE,
    "truong.sotnmt": MITIGATED_CASE,
    "truong.soxaydung": EXPLAINED_CASE,
}
EXPLANATIONS = {
    MITIGATED_CASE: (
        "Năm 2024 và 2025 Luật Đất đai năm 2024 và các nghị định hướng dẫn có "
        "hiệu lực, số hồ sơ đất đai tăng gần gấp đôi trong khi biên chế không "
        "đổi; cơ sở dữ liệu đất đai chuyển sang hệ thống mới nên nhiều hồ sơ "
        "phải xử lý thủ công. Sở đã bố trí làm thêm giờ, tăng cường công chức "
        "từ các phòng chuyên môn và báo cáo UBND tỉnh từ quý III/2024."
    ),
    EXPLAINED_CASE: (
        "Số hồ sơ cấp phép xây dựng và thẩm định thiết kế tăng mạnh; một số "
        "công chức thụ lý để hồ sơ quá hạn và chưa số hóa đầy đủ. Sở đã kiểm "
        "điểm các công chức liên quan, điều chuyển vị trí việc làm và cam kết "
        "hoàn thành các chỉ tiêu trong năm 2026."
    ),
}
MITIGATION_REASON = (
    "Nguyên nhân chủ yếu là khách quan (thay đổi chính sách pháp luật về đất "
    "đai, chuyển đổi hệ thống cơ sở dữ liệu); Sở đã chủ động báo cáo và có "
    "biện pháp khắc phục. Giảm nhẹ trách nhiệm, yêu cầu hoàn thành các chỉ "
    "tiêu cam kết năm 2026."
)
# A rating the leader changes, with the reason: Phòng Tư pháp's 2024, by
# Chí Linh's chairman in April 2025 (the office ended on 30/06/2025).
RATING_CHANGED = f"{C}-PTP"
RATING_CHANGED_YEAR = 2024
RATING_CHANGE_REASON = (
    "Phòng còn công chức để hồ sơ trễ hạn nhiều lần sau khi đã được nhắc nhở; "
    "hạ một mức so với đề xuất."
)

# 2026: left for the demo logins.
DRAFT_2026 = f"{C}-LEDAIHANH"  # canbo.phalai signs it
SIGNED_ONLY_2026 = f"{C}-CHUVANAN"  # chutich.tinh counter-signs it
# 2026 manual reports during the year (not yet checked): unit → {indicator: value}.
# The targets are raised to last year's accepted results: Sở Tư pháp's
# documents on track, its tasks and Phường Trần Hưng Đạo's documents at risk.
REPORTS_2026 = {
    f"{P}-STP": {"van-ban-dien-tu": Decimal("98.5"), "nhiem-vu": Decimal("92")},
    OPEN_CASE: {"van-ban-dien-tu": Decimal("93"), "niem-yet": Decimal("100")},
}


# --- small pieces -----------------------------------------------------------------


def _digest(*parts: object) -> int:
    return int.from_bytes(
        hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big"
    )


def _working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(
        datetime(day.year, day.month, day.day, hour), timezone.get_default_timezone()
    )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return (
        "".join(c for c in folded if not unicodedata.combining(c))
        .encode("ascii", "replace")
        .decode()
    )


def scan_pdf(lines: Sequence[str]) -> bytes:
    """A one-page PDF standing in for a signed scan: the lines in Helvetica
    (unaccented: the standard fonts have no Vietnamese), with a valid cross
    reference table, so that the scan check (filetype) and any PDF reader
    accept it."""

    def escaped(line: str) -> str:
        return (
            _ascii(line).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        )

    text = " ".join(f"({escaped(line)}) Tj T*" for line in lines)
    content = f"BT /F1 12 Tf 16 TL 72 770 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


# Coarse to fine: a commitment is a round figure where one will do.
STEPS = (Decimal(5), Decimal(1), Decimal("0.5"), Decimal("0.1"))


def _floor(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def commit_to(
    official: Decimal, value: Decimal | None, before: Decimal | None
) -> Decimal | None:
    """What a unit that means to meet its commitment commits to (≥), from
    what it achieves (``value``) and achieved the year before (``before``):
    the official value where it reaches it, else the roundest figure it
    reaches that is not below last year's (a commitment below last year's
    result is said at signing), last year's result itself if no round one
    fits between; where its figures fell below last year's, a round figure
    it reaches. None: no figures (no such dossiers), nothing to commit to."""
    if value is None:
        return None
    if value >= official and (before is None or official >= before):
        return official
    for step in STEPS:
        committed = _floor(value, step)
        if before is None or committed >= before:
            break
    else:
        if before is not None and before <= value:
            committed = before
        elif value >= official:
            committed = official
        else:
            committed = _floor(value, STEPS[0 if value < 90 else 1])
    return committed if committed > 0 else None


# --- who does what ----------------------------------------------------------------


@dataclass
class People:
    users: dict[str, User]
    city: Unit
    # A unit's own login (staff first, else its head), for its reports.
    own: dict[int, User]

    @classmethod
    def load(cls) -> People:
        users = {
            user.username: user
            for user in get_user_model().objects.filter(
                username__in=[
                    ADMIN,
                    PROVINCE_REVIEWER,
                    CITY_REVIEWER,
                    PROVINCE_LEADER,
                    CITY_LEADER,
                    *HEAD_LOGINS,
                ]
            )
        }
        own: dict[int, User] = {}
        for membership in (
            Membership.objects.filter(role__in=[Role.UNIT_STAFF, Role.UNIT_HEAD])
            .select_related("user")
            .order_by("-role", "user__username")  # unit_staff before unit_head
        ):
            own.setdefault(membership.unit_id, membership.user)
        return cls(users, Unit.objects.get(code=C), own)

    def in_city(self, unit: Unit) -> bool:
        return unit.is_descendant_of(self.city)

    def reviewer(self, unit: Unit) -> User:
        """Chí Linh's Home Affairs reviewer for the city's units and, from
        01/07/2025, the six wards of its area; Sở Nội vụ for the rest."""
        area = self.in_city(unit) or unit.code in org.CHI_LINH_WARDS
        return self.users[CITY_REVIEWER if area else PROVINCE_REVIEWER]

    def leader(self, unit: Unit) -> User:
        """The leader of the level above: the one who counter-signs, decides
        cases and rates."""
        return self.users[CITY_LEADER if self.in_city(unit) else PROVINCE_LEADER]

    def reporter(self, unit: Unit) -> User:
        return self.own.get(unit.pk) or self.users[ADMIN]

    def recorder(self, unit: Unit) -> User:
        """Who records the signature: the unit's staff, else Home Affairs."""
        return self.own.get(unit.pk) or self.reviewer(unit)


def head_logins() -> list[str]:
    """A login for the current head of each unit whose head explains a case
    in the demo, as the organisation step makes one for Phường Phả Lại."""
    made = []
    for username, code in HEAD_LOGINS.items():
        unit = Unit.objects.get(code=code)
        head = unit.heads.filter(position=HeadPosition.HEAD, tenure_to=None).first()
        if head is None:
            continue
        # Hashing a password takes about a second: an existing login is kept.
        user = get_user_model().objects.filter(
            username=username
        ).first() or services.user_upsert(
            username=username,
            full_name=head.full_name,
            password=settings.DEMO_PASSWORD,
            email=f"{username}@cchc.demo",
        )
        services.membership_grant(user=user, unit=unit, role=Role.UNIT_HEAD)
        org.head_login(head, user)
        made.append(f"{username} ({head.full_name}, {head.title}, {unit.name})")
    return made


def units_of(year: int) -> list[Unit]:
    """The units that commit: the departments, the land-registry branch,
    Chí Linh's offices, wards and communes to 2024 and, from 2025, the
    province's commune-level units (the city's units ended on 30/06/2025 and
    hand over to their successors), in existence at the end of the year."""
    end = date(year, 12, 31)
    city = Unit.objects.get(code=C)
    below_province = [UnitKind.DEPARTMENT, UnitKind.BRANCH, UnitKind.COMMUNE]
    return [
        unit
        for unit in Unit.objects.filter(
            Q(parent_id=city.parent_id, kind__in=below_province) | Q(parent=city)
        )
        .select_related("parent")
        .order_by("path")
        if unit.valid_from <= end and (unit.valid_to is None or unit.valid_to >= end)
    ]


# --- a year's commitments ---------------------------------------------------------


def _targets(commitments: Iterable[Commitment]) -> list[Target]:
    return [target for c in commitments for target in c.targets.all()]


def _load(year: int, units: Sequence[Unit]) -> list[Commitment]:
    return list(
        Commitment.objects.filter(year=year, unit__in=units)
        .select_related("unit__parent", "head")
        .prefetch_related(
            Prefetch(
                "targets",
                queryset=Target.objects.select_related(
                    "indicator", "commitment__unit"
                ).order_by("position", "pk"),
            )
        )
        .order_by("unit__path")
    )


def commitments_draft(year: int, units: Sequence[Unit], people: People) -> None:
    """Home Affairs drafts the year's commitments from the template of each
    kind (the province's reviewer for the departments, the city's for its
    own units); the service leaves out the units that have one."""
    templates: dict[str, CommitmentTemplate] = {}
    for template in CommitmentTemplate.objects.order_by("pk"):
        templates.setdefault(template.unit_kind, template)
    groups: dict[tuple[str, str], list[Unit]] = {}
    for unit in units:
        reviewer = people.reviewer(unit).username
        groups.setdefault((reviewer, unit.kind), []).append(unit)
    for (reviewer, kind), members in groups.items():
        commitment_services.commitments_create(
            year=year,
            template=templates[kind],
            units=members,
            user=people.users[reviewer],
        )


def _adjust(
    commitment: Commitment,
    plan: Plan,
    values: dict[int, tuple[Decimal | None, str]],
    user: User,
    reviewer: User,
) -> str:
    """Set the draft's targets from the unit's figures (commit_to), except
    the official ones the story keeps: every one for MISS_MOST, for MISS_ONE
    the first in MISS_ORDER its figures miss; HOLD sets each metric target
    at last year's result where it is below the official value. A metric
    target without figures is dropped (by ``reviewer``, Home Affairs over
    the unit, saying why); a manual one is raised to last
    year's accepted result. Returns the code of the official target kept to
    be missed."""
    before = progress.last_year_values(commitment)
    targets = list(commitment.targets.all())
    if plan == Plan.MISS_MOST:
        return ""
    missed = ""
    if plan == Plan.MISS_ONE:
        short = {
            t.indicator.code: t
            for t in targets
            if t.indicator.kind == IndicatorKind.METRIC
            and (value := values[t.pk][0]) is not None
            and value < t.value
        }
        missed = next((code for code in MISS_ORDER if code in short), "")
    for target in targets:
        if target.indicator.code == missed:
            continue
        last = before.get(target.pk)
        if target.indicator.kind == IndicatorKind.MANUAL:
            committed: Decimal | None = max(target.value, last or target.value)
        elif plan == Plan.HOLD and last is not None:
            committed = min(target.value, last)
        else:
            committed = commit_to(target.value, values[target.pk][0], last)
        if committed is None:
            # Removing a mandatory target is Home Affairs' act, saying why.
            commitment_services.target_delete(
                target=target,
                user=reviewer,
                reason="Đơn vị chưa có số liệu hồ sơ cho chỉ tiêu này.",
            )
        elif committed != target.value:
            commitment_services.target_save(
                commitment=commitment,
                user=user,
                indicator=target.indicator,
                comparison=target.comparison,
                value=committed,
                deadline=target.deadline,
                mandatory=target.mandatory,
                target=target,
            )
    return missed


def _signing_day(unit: Unit, year: int) -> date:
    """Signed between late January and late April of the year, or a fortnight
    after a unit formed during the year starts."""
    day = date(year, 1, 25) + timedelta(days=_digest(unit.code, year, "sign") % 90)
    if unit.valid_from > day:
        day = unit.valid_from + timedelta(days=14)
    return _working_day(day)


def _sign(commitment: Commitment, user: User, today: date) -> Commitment:
    unit = commitment.unit
    signed_on = min(_signing_day(unit, commitment.year), today)
    head = commitment_services.head_in_office(unit, signed_on)
    lines = [
        f"BAN CAM KET THUC HIEN NHIEM VU CAI CACH HANH CHINH NAM {commitment.year}",
        unit.name,
        f"Ngay {signed_on:%d/%m/%Y}",
        f"{head.title if head else ''}: {head.full_name if head else ''} (da ky)",
    ]
    scan = ContentFile(
        scan_pdf(lines), name=f"cam-ket-{commitment.year}-{unit.code.lower()}.pdf"
    )
    signed = commitment_services.commitment_sign(
        commitment=commitment, user=user, signed_on=signed_on, scan=scan, today=today
    )
    signed.unit = unit
    return signed


def _countersign(commitment: Commitment, user: User, today: date) -> None:
    assert commitment.signed_on is not None
    assert commitment.unit.parent is not None
    day = _working_day(
        commitment.signed_on
        + timedelta(days=3 + _digest(commitment.unit.code, commitment.year) % 8)
    )
    day = max(commitment.signed_on, min(day, today))
    above = commitment_services.head_in_office(commitment.unit.parent, day)
    commitment_services.commitment_countersign(
        commitment=commitment,
        user=user,
        countersigned_on=day,
        signer_name=above.full_name if above else commitment.unit.parent.name,
        signer_title=above.title if above else "",
        today=today,
    )


def _report_value(target: Target, plan: Plan) -> Decimal:
    code = target.indicator.code
    if plan == Plan.MISS_MOST and code == "van-ban-dien-tu":
        return Decimal("91.5")
    if plan == Plan.MISS_MOST and code == "nhiem-vu":
        return Decimal("87.5")
    if code == "van-ban-dien-tu":
        above = Decimal(_digest(target.commitment.unit.code, code) % 9) / 2
        return min(Decimal(100), target.value + above)
    return Decimal(100)


def _reports(
    year: int,
    commitments: Sequence[Commitment],
    plans: dict[int, Plan],
    rejected: set[int],
    people: People,
) -> None:
    """The unit reports its manual indicators after the year and the
    reviewer checks them: accepted, or for ``rejected`` commitments the
    publicly-listed procedures rejected."""
    for commitment in commitments:
        unit = commitment.unit
        plan = plans[commitment.pk]
        number = 10 + _digest(unit.code, year, "report") % 180
        note = (
            f"Theo Báo cáo số {number}/BC ngày 10/01/{year + 1} của {unit.name} "
            f"về kết quả thực hiện nhiệm vụ cải cách hành chính năm {year}."
        )
        for target in commitment.targets.all():
            if target.indicator.kind != IndicatorKind.MANUAL:
                continue
            if target.reported_value is None:
                commitment_services.target_report(
                    target=target,
                    user=people.reporter(unit),
                    value=_report_value(target, plan),
                    note=note,
                    now=_at(date(year + 1, 1, 10)),
                )
            if target.check_state != CheckState.PENDING:
                continue
            reject = (
                commitment.pk in rejected
                and target.indicator.code == REJECTED_INDICATOR
            )
            commitment_services.target_check(
                target=target,
                user=people.reviewer(unit),
                accepted=not reject,
                note=(
                    f"Kiểm tra thực tế ngày 22/01/{year + 1}: còn 04 thủ tục "
                    "hành chính chưa được niêm yết công khai tại Bộ phận Một cửa; "
                    "không công nhận kết quả báo cáo."
                    if reject
                    else "Đối chiếu tài liệu kiểm chứng: đạt."
                ),
                now=_at(date(year + 1, 1, 22)),
            )


@dataclass
class YearDone:
    commitments: list[Commitment]
    drafts_left: int


def year_commitments(
    year: int,
    people: People,
    *,
    today: date,
    leave_draft: Iterable[str] = (),
    leave_signed: Iterable[str] = (),
) -> YearDone:
    """Draft, adjust, sign and counter-sign the year's commitments; after
    the year, report and check the manual indicators."""
    units = units_of(year)
    commitments_draft(year, units, people)
    commitments = _load(year, units)
    leave_draft, leave_signed = set(leave_draft), set(leave_signed)
    plans = {c.pk: PLANS.get((c.unit.code, year), Plan.MEET) for c in commitments}
    drafts = [
        c
        for c in commitments
        if c.state == CommitmentState.DRAFT and c.unit.code not in leave_draft
    ]
    rejected = {c.pk for c in commitments if plans[c.pk] == Plan.REJECTED}
    # The year's figures over each target's months. The running year's end
    # at the last import of its records: every month after it is empty, so
    # its progress reads the same values on any day from the next month on.
    values = progress.target_values(_targets(drafts), today=None, judging=True)
    for commitment in drafts:
        user = people.recorder(commitment.unit)
        missed = _adjust(
            commitment,
            plans[commitment.pk],
            values,
            user,
            people.reviewer(commitment.unit),
        )
        if plans[commitment.pk] == Plan.MISS_ONE and not missed:
            # The figures reach every official value: the miss is a
            # report the reviewer does not accept.
            rejected.add(commitment.pk)
    signed = [_sign(c, people.recorder(c.unit), today) for c in drafts]
    signed += [c for c in commitments if c.state == CommitmentState.SIGNED]
    for commitment in signed:
        if commitment.unit.code not in leave_signed:
            _countersign(commitment, people.leader(commitment.unit), today)
    commitments = _load(year, units)
    if year < RUNNING_YEAR:
        _reports(year, [c for c in commitments if c.signed], plans, rejected, people)
    else:
        running_reports(commitments, people)
    return YearDone(commitments, sum(1 for c in commitments if not c.signed))


def running_reports(commitments: Sequence[Commitment], people: People) -> None:
    """A few manual indicators reported during the running year: their
    progress is on track or at risk until the year ends."""
    for commitment in commitments:
        wanted = REPORTS_2026.get(commitment.unit.code, {})
        if not commitment.signed:
            continue
        for target in commitment.targets.all():
            value = wanted.get(target.indicator.code)
            if value is not None and target.reported_value is None:
                commitment_services.target_report(
                    target=target,
                    user=people.reporter(commitment.unit),
                    value=value,
                    note=f"Kết quả đến hết tháng 10/{commitment.year}.",
                    now=_at(date(commitment.year, 11, 5)),
                )


# --- after the year -----------------------------------------------------------------


def reminders_issue(people: People) -> int:
    """Reminders about late dossiers in 2024 (none in the case records'
    demo): with lateness again in 2025 they cap the head's rating."""
    issued = 0
    for code, (username, day) in REMINDERS_2024.items():
        unit = Unit.objects.get(code=code)
        if Reminder.objects.filter(unit=unit, officer="", issued_on=day).exists():
            continue
        procedure_services.reminder_issue(
            user=people.users[username],
            unit=unit,
            issued_on=day,
            reason=REMINDER_REASON.format(year=day.year),
        )
        issued += 1
    return issued


def evaluate(year: int) -> accountability.Evaluation | None:
    """The year's evaluation, once: not again when every signed commitment
    was judged."""
    waiting = (
        Commitment.objects.filter(year=year, evaluated_at__isnull=True)
        .exclude(state=CommitmentState.DRAFT)
        .exists()
    )
    if not waiting:
        return None
    day = date(*EVALUATED_AT[year])
    return accountability.evaluate_year(year, now=_at(day), today=day)


def cases_walk(people: People) -> None:
    """The mitigated case explained and decided; Sở Xây dựng's explained and
    awaiting the decision; Phường Trần Hưng Đạo's left for its head."""
    cases = AccountabilityCase.objects.filter(
        year=2025, unit__code__in=[MITIGATED_CASE, EXPLAINED_CASE]
    ).select_related("unit", "head")
    logins = {code: username for username, code in HEAD_LOGINS.items()}
    for case in cases:
        code = case.unit.code
        if case.state == AccountabilityState.REQUESTED:
            case = accountability.case_explain(
                case=case,
                user=people.users[logins[code]],
                text=EXPLANATIONS[code],
                now=_at(date(2026, 3, 16)),
            )
        if code == MITIGATED_CASE and case.state == AccountabilityState.EXPLAINED:
            accountability.case_decide(
                case=case,
                user=people.leader(case.unit),
                decision=Decision.MITIGATED,
                ground=MitigationGround.OBJECTIVE,
                reason=MITIGATION_REASON,
                now=_at(date(2026, 4, 10)),
            )


def ratings_decide(people: People) -> int:
    """The leaders confirm every 2024 rating (Chí Linh's chairman lowers
    Phòng Tư pháp's, with a reason) and in 2025 the chairman those of the
    departments and the branch; the wards' and communes' 2025 ratings await
    the province's chairman (their level above since 01/07/2025)."""
    decided = 0
    pending = HeadRating.objects.filter(final__isnull=True).select_related("unit")
    for rating in pending.order_by("year", "unit__path"):
        unit = rating.unit
        if rating.year == 2025 and unit.kind == UnitKind.COMMUNE:
            continue
        if rating.proposed is None:
            # No index result of the year: nothing proposed, the leader rates
            # with a reason (issue 17, item 4); left for the demo's leader.
            continue
        level, reason = rating.proposed, ""
        if rating.year == RATING_CHANGED_YEAR and unit.code == RATING_CHANGED:
            level = rating.proposed - 1 if rating.proposed > 0 else rating.proposed + 1
            reason = RATING_CHANGE_REASON
        accountability.rating_decide(
            rating=rating,
            user=people.leader(unit),
            level=level,
            reason=reason,
            now=_at(date(rating.year + 1, 4, 20)),
        )
        decided += 1
    return decided


def criterion_requests() -> int:
    """Explanation requests for owned criteria of every publication (publish
    makes them for a new one; the results step published before this step
    existed). The demo's frameworks name no owner units and have no index
    for the city itself, so none are opened today."""
    return sum(
        accountability.criterion_cases(
            publication,
            publication.published_at,
            timezone.localdate(publication.published_at),
        )
        for publication in Publication.objects.order_by("year", "version")
    )


# --- the step -------------------------------------------------------------------------


def seeding_since(started: float) -> datetime:
    """The moment this load of the demo began, give or take: the results
    step before this one takes a few minutes at most."""
    elapsed = time.monotonic() - started
    return timezone.now() - timedelta(seconds=elapsed) - timedelta(minutes=30)


def build_accountability(out: OutputWrapper) -> None:
    started = time.monotonic()
    logins = head_logins()
    people = People.load()
    today = timezone.localdate()
    reminders = reminders_issue(people)
    counts = []
    for year in JUDGED_YEARS:
        done = year_commitments(year, people, today=today)
        evaluation = evaluate(year)
        judged = Counter(
            Commitment.objects.filter(year=year, met__isnull=False).values_list(
                "met", flat=True
            )
        )
        counts.append(
            f"{year}: {len(done.commitments)} ({judged[True]} met, "
            f"{judged[False]} missed"
            f"{'' if evaluation else ', already evaluated'})"
        )
    # What the seed just replayed of the years before (here and in
    # demo.results, the step before) is history its logins have read: their
    # unread notices start with the running year's handovers and the cases
    # walked below. Only this load's: a later run leaves what people have not
    # read alone.
    # The publications of 2022-2024 are dated when they happened.
    running_from = timezone.make_aware(datetime(RUNNING_YEAR, 1, 1))
    Notice.objects.filter(
        Q(created_at__gte=seeding_since(started)) | Q(created_at__lt=running_from),
        read_at__isnull=True,
    ).update(read_at=timezone.now())
    running = year_commitments(
        RUNNING_YEAR,
        people,
        today=today,
        leave_draft=[DRAFT_2026],
        leave_signed=[SIGNED_ONLY_2026],
    )
    counts.append(
        f"{RUNNING_YEAR}: {len(running.commitments)} ({running.drafts_left} draft)"
    )
    cases_walk(people)
    decided = ratings_decide(people)
    criterion = criterion_requests()
    states = Counter(AccountabilityCase.objects.values_list("state", flat=True))
    ratings = HeadRating.objects.all()
    out.write(
        f"  commitments {'; '.join(counts)}; {reminders} reminders issued; "
        f"cases: {', '.join(f'{n} {s}' for s, n in sorted(states.items())) or 'none'} "
        f"({criterion} new on criteria); ratings: {ratings.count()} "
        f"({ratings.filter(final__isnull=False).count()} decided, {decided} now, "
        f"{ratings.filter(flagged=True).count()} flagged) "
        f"in {time.monotonic() - started:.1f} s"
    )
    for login in logins:
        out.write(f"    head login {login}")
