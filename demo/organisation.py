"""Demo organisation: a province modelled on Hải Dương, with the city of Chí Linh
of seed 000 in full (its 12 specialised offices, the land-registry branch and its
19 wards and communes), the province's departments and district-level units,
and heads whose tenures change over the years.

Three tiers up to 30/06/2025, two from 01/07/2025 (DOMAIN.md section 3): the
district-level units and Chí Linh's offices end on 30/06/2025; Chí Linh's 19
wards and communes merge into six wards under the province, each with its
predecessors; every other district's area is represented by the one
commune-level unit named after it (its communes before 2025 are not in the
demo). From 2025 the province's commune-level units are one ranking group.

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
from commitments.organisation.models import OfficeFunction as OF

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PROVINCE_CODE = "HD"
CITY_CODE = "HD-CL"
# The two-tier local government (Law on Local Government 2025) from this day.
MERGER_DATE = date(2025, 7, 1)
ENDED = MERGER_DATE - timedelta(days=1)
ORGANISATION_START = date(2019, 1, 1)

RANKING_GROUPS = {
    "departments": "Sở, ban, ngành tỉnh",
    "districts": "UBND cấp huyện",
    "cl-offices": "Phòng chuyên môn và đơn vị thuộc UBND TP Chí Linh",
    "cl-communes": "UBND xã, phường TP Chí Linh",
    # The province's commune-level units from 01/07/2025: one group.
    "communes": "UBND xã, phường của tỉnh (từ 01/07/2025)",
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

# The 12 specialised offices of a provincial city (Decree 37/2014, as amended),
# each with its function (an index criterion's owner is named by function).
CITY_OFFICES = [
    ("VP", "Văn phòng HĐND và UBND thành phố", "Chánh Văn phòng", OF.OFFICE),
    ("PNV", "Phòng Nội vụ", "Trưởng phòng", OF.HOME_AFFAIRS),
    ("PTP", "Phòng Tư pháp", "Trưởng phòng", OF.JUSTICE),
    ("PTCKH", "Phòng Tài chính - Kế hoạch", "Trưởng phòng", OF.FINANCE),
    ("PTNMT", "Phòng Tài nguyên và Môi trường", "Trưởng phòng", OF.AGRICULTURE),
    (
        "PLDTBXH",
        "Phòng Lao động - Thương binh và Xã hội",
        "Trưởng phòng",
        OF.CULTURE,
    ),
    ("PVHTT", "Phòng Văn hóa và Thông tin", "Trưởng phòng", OF.CULTURE),
    ("PGDDT", "Phòng Giáo dục và Đào tạo", "Trưởng phòng", OF.EDUCATION),
    ("PYT", "Phòng Y tế", "Trưởng phòng", OF.HEALTH),
    ("TTR", "Thanh tra thành phố", "Chánh Thanh tra", OF.INSPECTORATE),
    ("PKT", "Phòng Kinh tế", "Trưởng phòng", OF.ECONOMY),
    ("PQLDT", "Phòng Quản lý đô thị", "Trưởng phòng", OF.ECONOMY),
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
# The 2025 arrangement of Chí Linh: six wards under the province from
# 01/07/2025 (real names; which old units went into which is the demo's,
# docs/decisions.md). Codes keep the area's prefix. (suffix, name, predecessors)
NEW_WARDS = [
    ("CHILINH", "Phường Chí Linh", ["SAODO", "CHIMINH", "THAIHOC"]),
    ("CHUVANAN", "Phường Chu Văn An", ["VANAN", "VANDUC", "ANLAC"]),
    ("NGUYENTRAI", "Phường Nguyễn Trãi", ["CONGHOA", "HOANGTIEN", "HOANGTAN"]),
    ("TRANHUNGDAO", "Phường Trần Hưng Đạo", ["HUNGDAO", "LELOI", "DONGLAC", "TANDAN"]),
    ("TRANNHANTONG", "Phường Trần Nhân Tông", ["HOANGHOATHAM", "BACAN", "BENTAM"]),
    ("LEDAIHANH", "Phường Lê Đại Hành", ["PHALAI", "COTHANH", "NHANHUE"]),
]
# The first of them, three wards into one (the demo's merger before issue 17).
MERGED_WARD = (NEW_WARDS[0][0], NEW_WARDS[0][1])
MERGED_FROM = NEW_WARDS[0][2]
# Old unit → the new ward it went into.
SUCCESSOR = {old: new for new, _name, olds in NEW_WARDS for old in olds}
# Every other district's area from 01/07/2025: the commune-level unit named
# after it, which took its seat and its district-level procedures (real names;
# its other new communes are not in the demo). district suffix → (code, name)
DISTRICT_SEATS = {
    "HD": ("HAIDUONG", "Phường Hải Dương"),
    "KM": ("KINHMON", "Phường Kinh Môn"),
    "NS": ("NAMSACH", "Xã Nam Sách"),
    "KT": ("KIMTHANH", "Xã Kim Thành"),
    "TH": ("THANHHA", "Xã Thanh Hà"),
    "CG": ("CAMGIANG", "Xã Cẩm Giàng"),
    "BG": ("BINHGIANG", "Xã Bình Giang"),
    "GL": ("GIALOC", "Xã Gia Lộc"),
    "TK": ("TUKY", "Xã Tứ Kỳ"),
    "NG": ("NINHGIANG", "Xã Ninh Giang"),
    "TM": ("THANHMIEN", "Xã Thanh Miện"),
}


def ward_code(suffix: str) -> str:
    """A Chí Linh ward's code, before or after the arrangement."""
    return f"{CITY_CODE}-{suffix}"


def seat_code(district: str) -> str:
    """The code of the commune-level unit that took a district's seat."""
    return f"{PROVINCE_CODE}-{DISTRICT_SEATS[district][0]}"


# The units of Chí Linh's area from 01/07/2025, for its logins.
CHI_LINH_WARDS = [ward_code(suffix) for suffix, _name, _olds in NEW_WARDS]

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
    # Further units of the same role: a Chí Linh login's new wards after
    # the city's units ended on 30/06/2025.
    also: tuple[str, ...] = ()


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
        unit = _child(
            province, suffix, name, UnitKind.DISTRICT, groups["districts"],
            valid_to=ENDED,
        )  # fmt: skip
        _appoint(
            unit,
            title,
            deputies=(title.replace("Chủ tịch", "Phó Chủ tịch"),),
            ends=ENDED,
        )

    city = _unit(CITY_CODE)
    for suffix, name, title, function in CITY_OFFICES:
        office = _child(
            city,
            suffix,
            name,
            UnitKind.OFFICE,
            groups["cl-offices"],
            valid_to=ENDED,
            office_function=function,
        )
        _appoint(office, title, ends=ENDED)
    # A branch of the province's land-registry office: it outlives the city.
    suffix, name, title = LAND_BRANCH
    branch = _in_area(province, suffix, name, UnitKind.BRANCH, groups["cl-offices"])
    _appoint(branch, title)

    for suffix, name in CITY_COMMUNES:
        unit = _child(
            city, suffix, name, UnitKind.COMMUNE, groups["cl-communes"], valid_to=ENDED
        )
        _appoint(unit, _chair(name), ends=unit.valid_to)

    for suffix, name, olds in NEW_WARDS:
        ward = _in_area(
            province,
            suffix,
            name,
            UnitKind.COMMUNE,
            groups["communes"],
            predecessors=[_unit(ward_code(old)) for old in olds],
        )
        _appoint(ward, _chair(name))
    for code, name in DISTRICT_SEATS.values():
        seat = _child(province, code, name, UnitKind.COMMUNE, groups["communes"])
        _appoint(seat, _chair(name))
    out.write(
        f"  organisation: {Unit.objects.count()} units, "
        f"{RankingGroup.objects.count()} ranking groups"
    )


def _in_area(
    province: Unit,
    suffix: str,
    name: str,
    kind: str,
    group: RankingGroup,
    *,
    predecessors: list[Unit] | None = None,
) -> Unit:
    """A unit of Chí Linh's area directly under the province, coded with the
    area's prefix: the land-registry branch (there since the demo begins) or
    a ward formed on 01/07/2025 from its predecessors."""
    return services.unit_upsert(
        code=ward_code(suffix),
        name=name,
        kind=kind,
        parent=province,
        ranking_group=group,
        valid_from=ORGANISATION_START if predecessors is None else MERGER_DATE,
        predecessors=predecessors or (),
    )


def _chair(name: str) -> str:
    return "Chủ tịch UBND phường" if name.startswith("Phường") else "Chủ tịch UBND xã"


def _child(
    parent: Unit,
    suffix: str,
    name: str,
    kind: str,
    group: RankingGroup,
    *,
    valid_to: date | None = None,
    office_function: str = "",
) -> Unit:
    """A unit below ``parent``, coded after it, there since the demo begins
    (a commune-level unit under the province: since the two tiers began)."""
    two_tier = kind == UnitKind.COMMUNE and parent.kind == UnitKind.PROVINCE
    return services.unit_upsert(
        code=f"{parent.code}-{suffix}",
        name=name,
        kind=kind,
        parent=parent,
        ranking_group=group,
        valid_from=MERGER_DATE if two_tier else ORGANISATION_START,
        valid_to=valid_to,
        office_function=office_function,
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
        "noivu.chilinh", "Phạm Văn Định", Role.REVIEWER, PROVINCE_CODE,
        "Phòng Nội vụ Chí Linh to 30/06/2025, now in Sở Nội vụ: appraises the "
        "Chí Linh area's wards (and may see the province's units)",
    ),
    DemoLogin(
        "chutich.tinh", "Lê Quang Vinh", Role.LEADER, PROVINCE_CODE,
        "Chairman of the province: rankings, ratings",
    ),
    DemoLogin(
        "chutich.chilinh", "Trần Đức Thắng", Role.LEADER, CITY_CODE,
        "Chairman of Chí Linh to 30/06/2025 (rated its units); sees the six "
        "wards of its area", also=tuple(CHI_LINH_WARDS),
    ),
    DemoLogin(
        "canbo.phalai", "Nguyễn Thị Thu", Role.UNIT_STAFF, ward_code("LEDAIHANH"),
        "CCHC focal point of Phường Lê Đại Hành (Phường Phả Lại to 30/06/2025)",
        also=(ward_code("PHALAI"),),
    ),
    DemoLogin(
        "truong.phalai", "", Role.UNIT_HEAD, ward_code("LEDAIHANH"),
        "Chairman of Phường Lê Đại Hành, formed from Phả Lại (the current head)",
    ),
    DemoLogin(
        "canbo.hungdao", "Vũ Minh Tâm", Role.UNIT_STAFF, ward_code("TRANHUNGDAO"),
        "CCHC focal point of Phường Trần Hưng Đạo (Xã Hưng Đạo to 30/06/2025)",
        also=(ward_code("HUNGDAO"),),
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
        for code in (login.unit_code, *login.also) if unit is not None else ():
            services.membership_grant(user=user, unit=_unit(code), role=login.role)
        if head is not None:
            head_login(head, user)
        rows.append((login.username, login.role or "admin", login.note))
    width = max(len(row[0]) for row in rows)
    out.write(f"  logins (password for all: {password}, as of {today:%d/%m/%Y}):")
    for username, role, note in rows:
        out.write(f"    {username.ljust(width)}  {role.ljust(10)}  {note}")
