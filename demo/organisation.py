"""Demo organisation: a province modelled on Hải Dương, with the city of Chí Linh
of seed 000 in full (its 12 specialised offices, the land-registry branch and its
19 wards and communes), the province's departments and district-level units,
heads whose tenures change over the years, and one 2025 merger of wards.

Every step is deterministic (names come from a hash of the unit code, not from a
random seed that shifts when a unit is added) and keyed on natural codes, so
running it again changes nothing. seed_demo runs the steps listed in
settings.DEMO_STEPS; later parts of the portal append their own."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.management.base import OutputWrapper
from django.utils import timezone

from commitments import catalogue
from commitments.organisation import services
from commitments.organisation.models import (
    Head,
    HeadPosition,
    RankingGroup,
    Role,
    Unit,
    UnitKind,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PROVINCE_CODE = "HD"
CITY_CODE = "HD-CL"
MERGER_DATE = date(2025, 7, 1)
ORGANISATION_START = date(2019, 1, 1)

RANKING_GROUPS = {
    "departments": "Sở, ban, ngành tỉnh",
    "districts": "UBND cấp huyện",
    "cl-offices": "Phòng chuyên môn và đơn vị thuộc UBND TP Chí Linh",
    "cl-communes": "UBND xã, phường TP Chí Linh",
}

# (code suffix, name, head's title)
DEPARTMENTS = [
    ("VP", "Văn phòng UBND tỉnh", "Chánh Văn phòng"),
    ("SNV", "Sở Nội vụ", "Giám đốc Sở"),
    ("STP", "Sở Tư pháp", "Giám đốc Sở"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư", "Giám đốc Sở"),
    ("STC", "Sở Tài chính", "Giám đốc Sở"),
    ("SCT", "Sở Công Thương", "Giám đốc Sở"),
    ("SNN", "Sở Nông nghiệp và Phát triển nông thôn", "Giám đốc Sở"),
    ("SGTVT", "Sở Giao thông vận tải", "Giám đốc Sở"),
    ("SXD", "Sở Xây dựng", "Giám đốc Sở"),
    ("STNMT", "Sở Tài nguyên và Môi trường", "Giám đốc Sở"),
    ("STTTT", "Sở Thông tin và Truyền thông", "Giám đốc Sở"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội", "Giám đốc Sở"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Giám đốc Sở"),
    ("SKHCN", "Sở Khoa học và Công nghệ", "Giám đốc Sở"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Giám đốc Sở"),
    ("SYT", "Sở Y tế", "Giám đốc Sở"),
    ("TTR", "Thanh tra tỉnh", "Chánh Thanh tra"),
    ("BQLKCN", "Ban Quản lý các khu công nghiệp tỉnh", "Trưởng ban"),
]

# (code suffix, name, head's title); Chí Linh first: it is the city of seed 000.
DISTRICTS = [
    ("CL", "UBND thành phố Chí Linh", "Chủ tịch UBND thành phố"),
    ("HD", "UBND thành phố Hải Dương", "Chủ tịch UBND thành phố"),
    ("KM", "UBND thị xã Kinh Môn", "Chủ tịch UBND thị xã"),
    ("NS", "UBND huyện Nam Sách", "Chủ tịch UBND huyện"),
    ("KT", "UBND huyện Kim Thành", "Chủ tịch UBND huyện"),
    ("TH", "UBND huyện Thanh Hà", "Chủ tịch UBND huyện"),
    ("CG", "UBND huyện Cẩm Giàng", "Chủ tịch UBND huyện"),
    ("BG", "UBND huyện Bình Giang", "Chủ tịch UBND huyện"),
    ("GL", "UBND huyện Gia Lộc", "Chủ tịch UBND huyện"),
    ("TK", "UBND huyện Tứ Kỳ", "Chủ tịch UBND huyện"),
    ("NG", "UBND huyện Ninh Giang", "Chủ tịch UBND huyện"),
    ("TM", "UBND huyện Thanh Miện", "Chủ tịch UBND huyện"),
]

# The 12 specialised offices of a provincial city (Decree 37/2014, as amended).
CITY_OFFICES = [
    ("VP", "Văn phòng HĐND và UBND thành phố", "Chánh Văn phòng"),
    ("PNV", "Phòng Nội vụ", "Trưởng phòng"),
    ("PTP", "Phòng Tư pháp", "Trưởng phòng"),
    ("PTCKH", "Phòng Tài chính - Kế hoạch", "Trưởng phòng"),
    ("PTNMT", "Phòng Tài nguyên và Môi trường", "Trưởng phòng"),
    ("PLDTBXH", "Phòng Lao động - Thương binh và Xã hội", "Trưởng phòng"),
    ("PVHTT", "Phòng Văn hóa và Thông tin", "Trưởng phòng"),
    ("PGDDT", "Phòng Giáo dục và Đào tạo", "Trưởng phòng"),
    ("PYT", "Phòng Y tế", "Trưởng phòng"),
    ("TTR", "Thanh tra thành phố", "Chánh Thanh tra"),
    ("PKT", "Phòng Kinh tế", "Trưởng phòng"),
    ("PQLDT", "Phòng Quản lý đô thị", "Trưởng phòng"),
]
LAND_BRANCH = (
    "VPDKDD",
    "Văn phòng Đăng ký đất đai tỉnh - Chi nhánh Chí Linh",
    "Giám đốc chi nhánh",
)

# The 14 wards and 5 communes of Chí Linh before the 2025 arrangement.
CITY_COMMUNES = [
    ("SAODO", "Phường Sao Đỏ"),
    ("PHALAI", "Phường Phả Lại"),
    ("CONGHOA", "Phường Cộng Hòa"),
    ("CHIMINH", "Phường Chí Minh"),
    ("THAIHOC", "Phường Thái Học"),
    ("VANAN", "Phường Văn An"),
    ("VANDUC", "Phường Văn Đức"),
    ("BENTAM", "Phường Bến Tắm"),
    ("HOANGTAN", "Phường Hoàng Tân"),
    ("COTHANH", "Phường Cổ Thành"),
    ("HOANGTIEN", "Phường Hoàng Tiến"),
    ("ANLAC", "Phường An Lạc"),
    ("DONGLAC", "Phường Đồng Lạc"),
    ("TANDAN", "Phường Tân Dân"),
    ("HUNGDAO", "Xã Hưng Đạo"),
    ("LELOI", "Xã Lê Lợi"),
    ("NHANHUE", "Xã Nhân Huệ"),
    ("HOANGHOATHAM", "Xã Hoàng Hoa Thám"),
    ("BACAN", "Xã Bắc An"),
]
# One merger, shaped like the 2025 arrangement: three wards become one.
MERGED_WARD = ("CHILINH", "Phường Chí Linh")
MERGED_FROM = ["SAODO", "CHIMINH", "THAIHOC"]

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Quang", "Thanh", "Hữu", "Ngọc", "Xuân", "Công"]
GIVEN = [
    "Hùng", "Lan", "Dũng", "Hương", "Tuấn", "Mai", "Sơn", "Hà", "Nam", "Thảo",
    "Long", "Hạnh", "Phong", "Yến", "Cường", "Trang", "Khánh", "Linh", "Bình", "Thủy",
]  # fmt: skip


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def person_name(*seed: str) -> str:
    n = _digest(*seed)
    return " ".join(
        (
            FAMILY[n % len(FAMILY)],
            MIDDLE[(n // 10) % len(MIDDLE)],
            GIVEN[(n // 100) % len(GIVEN)],
        )
    )


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: str
    unit_code: str
    note: str


def _unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def build_organisation(out: OutputWrapper) -> None:
    # Written by a migration, lost when a test database is flushed.
    catalogue.ensure()
    groups = {
        code: services.ranking_group_upsert(code=code, name=name)
        for code, name in RANKING_GROUPS.items()
    }
    province = services.unit_upsert(
        code=PROVINCE_CODE,
        name="UBND tỉnh Hải Dương",
        kind=UnitKind.PROVINCE,
        valid_from=ORGANISATION_START,
    )
    _appoint(province, "Chủ tịch UBND tỉnh", deputies=("Phó Chủ tịch UBND tỉnh",))

    departments = groups["departments"]
    for suffix, name, title in DEPARTMENTS:
        unit = _child(province, suffix, name, UnitKind.DEPARTMENT, departments)
        _appoint(unit, title, deputies=(f"Phó {title[0].lower()}{title[1:]}",))

    for suffix, name, title in DISTRICTS:
        unit = _child(province, suffix, name, UnitKind.DISTRICT, groups["districts"])
        _appoint(unit, title, deputies=(title.replace("Chủ tịch", "Phó Chủ tịch"),))

    city = _unit(CITY_CODE)
    for suffix, name, title in [*CITY_OFFICES, LAND_BRANCH]:
        kind = UnitKind.BRANCH if suffix == LAND_BRANCH[0] else UnitKind.OFFICE
        _appoint(_child(city, suffix, name, kind, groups["cl-offices"]), title)

    merged_to = MERGER_DATE - timedelta(days=1)
    for suffix, name in CITY_COMMUNES:
        unit = _child(
            city,
            suffix,
            name,
            UnitKind.COMMUNE,
            groups["cl-communes"],
            valid_to=merged_to if suffix in MERGED_FROM else None,
        )
        title = (
            "Chủ tịch UBND phường" if name.startswith("Phường") else "Chủ tịch UBND xã"
        )
        _appoint(unit, title, ends=unit.valid_to)

    merged = services.unit_upsert(
        code=f"{CITY_CODE}-{MERGED_WARD[0]}",
        name=MERGED_WARD[1],
        kind=UnitKind.COMMUNE,
        parent=city,
        ranking_group=groups["cl-communes"],
        valid_from=MERGER_DATE,
        predecessors=[_unit(f"{CITY_CODE}-{suffix}") for suffix in MERGED_FROM],
    )
    _appoint(merged, "Chủ tịch UBND phường")
    out.write(
        f"  organisation: {Unit.objects.count()} units, "
        f"{RankingGroup.objects.count()} ranking groups"
    )


def _child(
    parent: Unit,
    suffix: str,
    name: str,
    kind: str,
    group: RankingGroup,
    *,
    valid_to: date | None = None,
) -> Unit:
    """A unit below ``parent``, coded after it, there since the demo begins."""
    return services.unit_upsert(
        code=f"{parent.code}-{suffix}",
        name=name,
        kind=kind,
        parent=parent,
        ranking_group=group,
        valid_from=ORGANISATION_START,
        valid_to=valid_to,
    )


def _appoint(
    unit: Unit, title: str, *, deputies: tuple[str, ...] = (), ends: date | None = None
) -> None:
    """Give the unit a head from its start; about a third of the units change
    head at a date in 2023 or 2024, so that later years have a head change."""
    n = _digest(unit.code, "tenure")
    change = None
    if n % 3 == 0 and unit.valid_from < date(2023, 1, 1):
        change = date(2023 + (n // 3) % 2, 1 + (n // 7) % 12, 1)
    first_end = change - timedelta(days=1) if change else ends
    services.head_upsert(
        unit=unit,
        full_name=person_name(unit.code, "head", "1"),
        title=title,
        tenure_from=unit.valid_from,
        tenure_to=first_end,
    )
    if change:
        services.head_upsert(
            unit=unit,
            full_name=person_name(unit.code, "head", "2"),
            title=title,
            tenure_from=change,
            tenure_to=ends,
        )
    for index, deputy_title in enumerate(deputies):
        services.head_upsert(
            unit=unit,
            full_name=person_name(unit.code, "deputy", str(index)),
            title=deputy_title,
            position=HeadPosition.DEPUTY,
            tenure_from=unit.valid_from,
            tenure_to=ends,
        )


DEMO_LOGINS = [
    DemoLogin("admin", "Quản trị Hệ thống", "", "", "superuser: units, heads, logins"),
    DemoLogin(
        "noivu.tinh", "Đỗ Thu Hằng", Role.REVIEWER, PROVINCE_CODE,
        "Sở Nội vụ: appraises the whole province",
    ),
    DemoLogin(
        "noivu.chilinh", "Phạm Văn Định", Role.REVIEWER, CITY_CODE,
        "Phòng Nội vụ Chí Linh: appraises the city's offices and communes",
    ),
    DemoLogin(
        "chutich.tinh", "Lê Quang Vinh", Role.LEADER, PROVINCE_CODE,
        "Chairman of the province: rankings, ratings",
    ),
    DemoLogin(
        "chutich.chilinh", "Trần Đức Thắng", Role.LEADER, CITY_CODE,
        "Chairman of Chí Linh: rates its offices and communes",
    ),
    DemoLogin(
        "canbo.phalai", "Nguyễn Thị Thu", Role.UNIT_STAFF, f"{CITY_CODE}-PHALAI",
        "CCHC focal point of Phường Phả Lại",
    ),
    DemoLogin(
        "truong.phalai", "", Role.UNIT_HEAD, f"{CITY_CODE}-PHALAI",
        "Chairman of Phường Phả Lại (the current head)",
    ),
    DemoLogin(
        "canbo.hungdao", "Vũ Minh Tâm", Role.UNIT_STAFF, f"{CITY_CODE}-HUNGDAO",
        "CCHC focal point of Xã Hưng Đạo",
    ),
    DemoLogin(
        "canbo.sotuphap", "Bùi Ngọc Anh", Role.UNIT_STAFF, f"{PROVINCE_CODE}-STP",
        "CCHC focal point of Sở Tư pháp",
    ),
]  # fmt: skip


def head_login(head: Head, user: User) -> None:
    """``user`` is the login of ``head`` (its tenure as it stands)."""
    services.head_upsert(
        unit=head.unit,
        full_name=head.full_name,
        title=head.title,
        position=head.position,
        tenure_from=head.tenure_from,
        tenure_to=head.tenure_to,
        user=user,
    )


def build_accounts(out: OutputWrapper) -> None:
    password = settings.DEMO_PASSWORD
    today = timezone.localdate()
    rows = []
    for login in DEMO_LOGINS:
        unit = _unit(login.unit_code) if login.unit_code else None
        head = None
        full_name = login.full_name
        if login.role == Role.UNIT_HEAD and unit is not None:
            # The head's login belongs to whoever holds the post today.
            head = unit.heads.filter(position=HeadPosition.HEAD, tenure_to=None).first()
            full_name = head.full_name if head else unit.name
        user = services.user_upsert(
            username=login.username,
            full_name=full_name,
            password=password,
            email=f"{login.username}@cchc.demo",
            is_superuser=login.role == "",
        )
        if unit is not None:
            services.membership_grant(user=user, unit=unit, role=login.role)
        if head is not None:
            head_login(head, user)
        rows.append((login.username, login.role or "admin", login.note))
    width = max(len(row[0]) for row in rows)
    out.write(f"  logins (password for all: {password}, as of {today:%d/%m/%Y}):")
    for username, role, note in rows:
        out.write(f"    {username.ljust(width)}  {role.ljust(10)}  {note}")
