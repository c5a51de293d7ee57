"""Demo data of the procedures app: a procedure catalogue (TTHC), four years of
case records (2022–2025) and the running year's up to the last import of the
one-stop-shop systems (01/01–31/10/2026) for the demo province of
demo.organisation, with the 766 figures of every unit and period computed from
them.

The records are drawn from one seeded random stream, case after case, from
distributions that do not depend on how many are asked for: the first 3,000
cases of a 300,000-case demo are the 3,000 cases of a small demo, so every case
code always names the same dossier and running seed_demo again (with the same
or a smaller size) changes nothing. The size (settings.DEMO_CASES) counts the
2022–2025 records; the running year's come from a second stream of their own,
at the same daily demand (about a quarter more records: current_year_size), so
adding them left every 2022–2025 record as it was. The rows go through the
import engine (procedures.importer.import_rows), as an export of a
one-stop-shop system would.

Units differ by design (DESIGNED below) so that rankings, flags and reminders
have something to show: a land-registry branch and a department that are often
late and getting worse, with one officer carrying most of the lateness; units
that work mostly on paper, digitise little or rarely collect fees online; a
commune with complaints; dossiers sent back for documents twice; dossiers still
open and overdue at the end of 2025. In 2026 (CURRENT_YEAR_CHANGES) a
department's digitisation halves and two Chí Linh communes are late far more
often, so that their commitments are at risk while the others' are on track.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import accumulate, chain

from django.conf import settings
from django.core.management.base import OutputWrapper
from django.utils import timezone

from commitments.organisation.models import Unit
from demo import organisation as org
from procedures.importer import ImportResult, import_rows
from procedures.metrics import metrics_recompute, periods_between, periods_of_year
from procedures.models import (
    CaseRecord,
    Channel,
    DossierStatus,
    ImportRun,
    ImportSource,
    ImportStatus,
    OnlineLevel,
    Procedure,
    ProcedureLevel,
    Satisfaction,
    UnitMetric,
)
from procedures.parsing import COLUMNS, LOCAL_TZ

FIRST_YEAR, LAST_YEAR = 2022, 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
# The 2022–2025 records end here: a dossier that would finish later is still
# open in them. They are kept as they were before the running year was added,
# so those dossiers (about 0.7% of them, received in the last weeks of 2025)
# stay open, overdue in every period of the running year.
DATA_END = datetime(LAST_YEAR + 1, 1, 1)
SEED = 20_220_101
# The running year, received up to the last import of the one-stop-shop
# systems: a fixed day, so that the demo is the same whatever day it is built
# on. A dossier that would finish after it is still open.
CURRENT_YEAR = LAST_YEAR + 1
CURRENT_YEAR_UNTIL = date(CURRENT_YEAR, 10, 31)
CURRENT_DATA_END = datetime.combine(CURRENT_YEAR_UNTIL + timedelta(days=1), time())
# Its own random stream: the 2022–2025 records do not depend on it.
CURRENT_YEAR_SEED = 20_260_101
# The import run that loads the demo cases, recognised by this file name.
RUN_NAME = "seed_demo"

NONE, PART, FULL = OnlineLevel.NONE, OnlineLevel.PARTIAL, OnlineLevel.FULL
PROVINCE, DISTRICT, COMMUNE = (
    ProcedureLevel.PROVINCE,
    ProcedureLevel.DISTRICT,
    ProcedureLevel.COMMUNE,
)
CITY = ""  # handled by UBND thành phố Chí Linh itself, not one of its offices


# --- The procedure catalogue --------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One procedure as written in the catalogue below. ``days``: working days
    the unit has to resolve it (0: the same day); ``weight``: how often it is
    asked for, relative to the other procedures of the unit that handles it;
    ``handlers``: who handles it where the field's default does not (department
    suffixes at province level, Chí Linh office suffixes at district level)."""

    level: str
    name: str
    online: str
    fee: bool
    days: int
    weight: float
    handlers: tuple[str, ...] = ()
    listed: bool = True


@dataclass(frozen=True)
class Block:
    """Procedures of one field (lĩnh vực), with the department that handles its
    province-level ones and the Chí Linh office that handles its district-level
    ones (the other districts handle theirs themselves; communes theirs)."""

    field: str
    department: str
    office: str
    entries: tuple[Entry, ...]


def _p(name: str, online: str, fee: bool, days: int, weight: float, **kw) -> Entry:
    return Entry(PROVINCE, name, online, fee, days, weight, **kw)


def _d(name: str, online: str, fee: bool, days: int, weight: float, **kw) -> Entry:
    return Entry(DISTRICT, name, online, fee, days, weight, **kw)


def _c(name: str, online: str, fee: bool, days: int, weight: float, **kw) -> Entry:
    return Entry(COMMUNE, name, online, fee, days, weight, **kw)


def _licence(
    level: str,
    subject: str,
    actions: dict[str, tuple[int, float]],
    online: str = PART,
    fee: bool = True,
) -> tuple[Entry, ...]:
    """The family a licence comes in: "Cấp", "Cấp lại", "Điều chỉnh", "Gia hạn" …
    ``actions``: verb → (days, weight)."""
    return tuple(
        Entry(level, f"{verb} {subject}", online, fee, days, weight)
        for verb, (days, weight) in actions.items()
    )


WORK_PERMIT = ("SLDTBXH", "BQLKCN")

CATALOGUE: tuple[Block, ...] = (
    Block("Hộ tịch", "STP", "PTP", (
        _c("Đăng ký khai sinh", FULL, False, 0, 30),
        _c("Đăng ký khai tử", FULL, False, 0, 8),
        _c("Đăng ký kết hôn", PART, False, 0, 10),
        _c("Đăng ký nhận cha, mẹ, con", PART, True, 3, 1.5),
        _c("Đăng ký khai sinh kết hợp nhận cha, mẹ, con", PART, True, 3, 1),
        _c("Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch",
           FULL, True, 3, 5),
        _c("Cấp bản sao trích lục hộ tịch", FULL, True, 0, 12),
        _c("Cấp Giấy xác nhận tình trạng hôn nhân", FULL, True, 3, 14),
        _c("Đăng ký giám hộ", PART, False, 3, 0.4),
        _c("Đăng ký chấm dứt giám hộ", PART, False, 2, 0.2),
        _c("Đăng ký lại khai sinh", PART, True, 5, 1.5),
        _c("Đăng ký lại kết hôn", PART, True, 5, 0.3),
        _c("Đăng ký lại khai tử", PART, True, 5, 0.3),
        _c("Đăng ký khai sinh lưu động", NONE, False, 5, 0.2),
        _c("Liên thông thủ tục hành chính về đăng ký khai sinh, đăng ký thường "
           "trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", FULL, False, 5, 8),
        _c("Liên thông thủ tục hành chính về đăng ký khai tử, xóa đăng ký thường "
           "trú, hưởng chế độ tử tuất", FULL, False, 5, 1.5),
        _d("Đăng ký khai sinh có yếu tố nước ngoài", PART, True, 3, 1),
        _d("Đăng ký kết hôn có yếu tố nước ngoài", PART, True, 10, 1.2),
        _d("Đăng ký khai tử có yếu tố nước ngoài", PART, True, 3, 0.2),
        _d("Đăng ký nhận cha, mẹ, con có yếu tố nước ngoài", PART, True, 10, 0.3),
        _d("Ghi vào Sổ hộ tịch việc kết hôn của công dân Việt Nam đã được giải "
           "quyết tại cơ quan có thẩm quyền của nước ngoài", PART, True, 5, 0.5),
        _d("Ghi vào Sổ hộ tịch việc ly hôn, hủy việc kết hôn của công dân Việt "
           "Nam đã được giải quyết tại cơ quan có thẩm quyền của nước ngoài",
           PART, True, 5, 0.4),
        _d("Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại "
           "dân tộc", PART, True, 3, 1.5),
        _d("Cấp bản sao trích lục hộ tịch", FULL, True, 0, 1),
    )),
    Block("Lý lịch tư pháp", "STP", "PTP", (
        _p("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài "
           "đang cư trú tại Việt Nam", FULL, True, 10, 30),
        _p("Cấp Phiếu lý lịch tư pháp cho cơ quan nhà nước, cơ quan tiến hành tố "
           "tụng", PART, False, 10, 3),
    )),
    Block("Chứng thực", "STP", "PTP", (
        _c("Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức "
           "có thẩm quyền của Việt Nam cấp hoặc chứng nhận", PART, True, 0, 40),
        _c("Chứng thực chữ ký trong các giấy tờ, văn bản (áp dụng cho cả trường "
           "hợp chứng thực điểm chỉ)", NONE, True, 0, 10),
        _c("Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, "
           "quyền sử dụng đất và nhà ở", NONE, True, 2, 12),
        _c("Chứng thực di chúc", NONE, True, 2, 0.5),
        _c("Chứng thực văn bản thỏa thuận phân chia di sản mà di sản là động sản, "
           "quyền sử dụng đất, nhà ở", NONE, True, 2, 1.5),
        _c("Chứng thực văn bản khai nhận di sản mà di sản là động sản, quyền sử "
           "dụng đất, nhà ở", NONE, True, 2, 1.2),
        _c("Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch",
           NONE, True, 2, 0.6),
        _c("Sửa lỗi sai sót trong hợp đồng, giao dịch", NONE, True, 1, 0.2),
        _c("Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được "
           "chứng thực", NONE, True, 1, 0.6),
        _d("Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức "
           "có thẩm quyền của nước ngoài cấp hoặc chứng nhận", PART, True, 0, 3),
        _d("Chứng thực chữ ký người dịch mà người dịch là cộng tác viên dịch "
           "thuật của Phòng Tư pháp", NONE, True, 0, 3),
        _d("Chứng thực chữ ký người dịch mà người dịch không phải là cộng tác "
           "viên dịch thuật", NONE, True, 0, 1),
        _d("Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức "
           "có thẩm quyền của Việt Nam cấp hoặc chứng nhận", PART, True, 0, 6),
        _d("Chứng thực chữ ký trong các giấy tờ, văn bản", NONE, True, 0, 2),
        _d("Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
           NONE, True, 2, 1),
    )),
    Block("Công chứng", "STP", "PTP", (
        _p("Đăng ký hoạt động Văn phòng công chứng", PART, True, 10, 0.3),
        _p("Thay đổi nội dung đăng ký hoạt động của Văn phòng công chứng",
           PART, True, 5, 0.3),
        _p("Đăng ký hành nghề và cấp Thẻ công chứng viên", PART, True, 5, 0.4),
    )),
    Block("Luật sư", "STP", "PTP", (
        _p("Đăng ký hoạt động của tổ chức hành nghề luật sư", PART, True, 7, 0.4),
    )),
    Block("Đấu giá tài sản", "STP", "PTP", (
        _p("Đăng ký hoạt động của doanh nghiệp đấu giá tài sản", PART, True, 7, 0.2),
    )),
    Block("Hòa giải ở cơ sở", "STP", "PTP", (
        _c("Công nhận hòa giải viên", NONE, False, 5, 0.3),
        _c("Công nhận tổ trưởng tổ hòa giải", NONE, False, 5, 0.2),
        _c("Thanh toán thù lao cho hòa giải viên", NONE, False, 5, 0.3),
    )),
    Block("Bồi thường nhà nước", "STP", "PTP", (
        _d("Giải quyết yêu cầu bồi thường tại cơ quan trực tiếp quản lý người "
           "thi hành công vụ gây thiệt hại", NONE, False, 30, 0.05),
    )),
    Block("Đất đai", "STNMT", "VPDKDD", (
        _p("Giao đất, cho thuê đất không thông qua đấu giá quyền sử dụng đất đối "
           "với tổ chức", PART, True, 20, 1.5),
        _p("Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có "
           "thẩm quyền đối với tổ chức", PART, True, 15, 1),
        _p("Gia hạn sử dụng đất đối với tổ chức", PART, True, 10, 0.5),
        _p("Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận lần "
           "đầu đối với tổ chức", PART, True, 20, 1.5),
        _p("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền "
           "với đất đối với tổ chức", PART, True, 10, 3),
        _p("Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất đối với "
           "tổ chức", FULL, True, 3, 3),
        _p("Xóa đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất đối "
           "với tổ chức", FULL, True, 3, 2),
        _p("Thu hồi đất do chấm dứt việc sử dụng đất theo pháp luật, tự nguyện "
           "trả lại đất đối với tổ chức", NONE, False, 20, 0.3),
        _p("Cung cấp thông tin, dữ liệu đất đai", FULL, True, 3, 2),
        _d("Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền "
           "sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất lần "
           "đầu", PART, True, 20, 8),
        _d("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền "
           "với đất trong các trường hợp chuyển đổi, chuyển nhượng, cho thuê, cho "
           "thuê lại, thừa kế, tặng cho, góp vốn", PART, True, 10, 30),
        _d("Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất",
           FULL, True, 3, 15),
        _d("Xóa đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất",
           FULL, True, 3, 10),
        _d("Cấp đổi Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài "
           "sản khác gắn liền với đất", PART, True, 7, 5),
        _d("Cấp lại Giấy chứng nhận hoặc cấp lại Trang bổ sung của Giấy chứng "
           "nhận do bị mất", PART, True, 10, 1),
        _d("Tách thửa hoặc hợp thửa đất", PART, True, 15, 6),
        _d("Đính chính Giấy chứng nhận đã cấp", PART, True, 10, 1.5),
        _d("Đăng ký biến động do đổi tên, thay đổi thông tin về người sử dụng "
           "đất, giảm diện tích thửa đất do sạt lở tự nhiên", PART, True, 7, 2),
        _d("Đăng ký xác lập quyền sử dụng hạn chế thửa đất liền kề",
           PART, True, 10, 0.3),
        _d("Cung cấp thông tin, dữ liệu đất đai", FULL, True, 2, 3),
        _d("Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có "
           "thẩm quyền đối với hộ gia đình, cá nhân", PART, True, 15, 3,
           handlers=("PTNMT",)),
        _d("Gia hạn sử dụng đất nông nghiệp của hộ gia đình, cá nhân",
           PART, False, 7, 0.5, handlers=("PTNMT",)),
        _d("Giao đất, cho thuê đất cho hộ gia đình, cá nhân không thông qua đấu "
           "giá quyền sử dụng đất", PART, True, 20, 0.6, handlers=("PTNMT",)),
        _d("Thu hồi đất do chấm dứt việc sử dụng đất theo pháp luật, tự nguyện "
           "trả lại đất đối với hộ gia đình, cá nhân", NONE, False, 20, 0.2,
           handlers=("PTNMT",)),
        _d("Giải quyết tranh chấp đất đai thuộc thẩm quyền của Chủ tịch Ủy ban "
           "nhân dân cấp huyện", NONE, False, 30, 0.3, handlers=(CITY,)),
        _c("Hòa giải tranh chấp đất đai", NONE, False, 30, 0.4),
    )),
    Block("Hoạt động xây dựng", "SXD", "PQLDT", (
        *_licence(PROVINCE, "giấy phép xây dựng đối với công trình cấp I, cấp II", {
            "Cấp": (20, 2), "Điều chỉnh": (20, 0.5), "Gia hạn": (5, 0.4),
            "Cấp lại": (5, 0.2),
        }),
        _p("Cấp giấy phép xây dựng sửa chữa, cải tạo đối với công trình cấp I, "
           "cấp II", PART, True, 20, 0.5),
        _p("Cấp giấy phép di dời đối với công trình cấp I, cấp II",
           PART, True, 20, 0.1),
        _p("Thẩm định Báo cáo nghiên cứu khả thi đầu tư xây dựng",
           PART, True, 25, 1.2),
        _p("Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở",
           PART, True, 25, 1.5),
        _p("Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III",
           FULL, True, 20, 2.5),
        _p("Cấp chứng chỉ năng lực hoạt động xây dựng hạng II, hạng III",
           FULL, True, 20, 1.5),
        *_licence(DISTRICT, "giấy phép xây dựng đối với nhà ở riêng lẻ", {
            "Cấp": (15, 10), "Điều chỉnh": (15, 0.6), "Gia hạn": (5, 0.5),
            "Cấp lại": (5, 0.3),
        }),
        _d("Cấp giấy phép xây dựng sửa chữa, cải tạo đối với nhà ở riêng lẻ",
           PART, True, 15, 2),
        _d("Cấp giấy phép xây dựng có thời hạn đối với nhà ở riêng lẻ",
           PART, True, 15, 0.6),
        _d("Cấp giấy phép di dời đối với nhà ở riêng lẻ", NONE, True, 15, 0.05),
        _d("Thẩm định Báo cáo kinh tế - kỹ thuật đầu tư xây dựng",
           PART, True, 20, 1),
    )),
    Block("Quy hoạch xây dựng, kiến trúc", "SXD", "PQLDT", (
        _p("Thẩm định nhiệm vụ, đồ án quy hoạch chi tiết xây dựng thuộc thẩm "
           "quyền phê duyệt của Ủy ban nhân dân cấp tỉnh", PART, False, 25, 0.3),
        _d("Cung cấp thông tin về quy hoạch xây dựng thuộc thẩm quyền của Ủy ban "
           "nhân dân cấp huyện", FULL, False, 15, 1.5),
        _d("Thẩm định nhiệm vụ, đồ án quy hoạch chi tiết của dự án đầu tư xây "
           "dựng công trình theo hình thức kinh doanh", PART, True, 20, 0.2),
    )),
    Block("Nhà ở và kinh doanh bất động sản", "SXD", "PQLDT", (
        _p("Thông báo nhà ở hình thành trong tương lai đủ điều kiện được bán, cho "
           "thuê mua", PART, False, 15, 0.4),
        _p("Cấp chứng chỉ hành nghề môi giới bất động sản", PART, True, 10, 0.6),
    )),
    Block("Thành lập và hoạt động của doanh nghiệp", "SKHDT", "PTCKH", (
        _p("Đăng ký thành lập doanh nghiệp tư nhân", FULL, True, 3, 2),
        _p("Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên",
           FULL, True, 3, 6),
        _p("Đăng ký thành lập công ty trách nhiệm hữu hạn hai thành viên trở lên",
           FULL, True, 3, 3),
        _p("Đăng ký thành lập công ty cổ phần", FULL, True, 3, 2),
        _p("Đăng ký thay đổi người đại diện theo pháp luật của công ty",
           FULL, True, 3, 4),
        _p("Đăng ký thay đổi địa chỉ trụ sở chính của doanh nghiệp",
           FULL, True, 3, 4),
        _p("Đăng ký thay đổi vốn điều lệ, thay đổi tỷ lệ vốn góp",
           FULL, True, 3, 3),
        _p("Thông báo thay đổi ngành, nghề kinh doanh", FULL, True, 3, 4),
        _p("Thông báo tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn "
           "đã thông báo", FULL, False, 3, 3),
        _p("Giải thể doanh nghiệp", FULL, False, 5, 1),
        _p("Đăng ký hoạt động chi nhánh, văn phòng đại diện, địa điểm kinh doanh",
           FULL, True, 3, 3),
        _p("Cấp lại Giấy chứng nhận đăng ký doanh nghiệp", FULL, True, 3, 0.3),
    )),
    Block("Đầu tư tại Việt Nam", "SKHDT", "PTCKH", (
        _p("Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh",
           PART, False, 35, 0.6),
        _p("Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án không thuộc diện "
           "chấp thuận chủ trương đầu tư", PART, False, 15, 0.5),
        _p("Điều chỉnh Giấy chứng nhận đăng ký đầu tư", PART, False, 10, 0.8),
        _p("Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án trong khu công "
           "nghiệp", PART, False, 15, 0.5, handlers=("BQLKCN",)),
        _p("Điều chỉnh Giấy chứng nhận đăng ký đầu tư đối với dự án trong khu "
           "công nghiệp", PART, False, 10, 1, handlers=("BQLKCN",)),
        _p("Cấp giấy phép xây dựng đối với công trình trong khu công nghiệp",
           PART, True, 20, 0.6, handlers=("BQLKCN",)),
    )),
    Block("Thành lập và hoạt động của hộ kinh doanh", "SKHDT", "PTCKH", (
        _d("Đăng ký thành lập hộ kinh doanh", FULL, True, 3, 10),
        _d("Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", FULL, True, 3, 4),
        _d("Thông báo tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn "
           "đã thông báo của hộ kinh doanh", FULL, False, 3, 1.5),
        _d("Chấm dứt hoạt động hộ kinh doanh", FULL, False, 3, 1.5),
        _d("Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh", FULL, True, 3, 0.3),
    )),
    Block("Thành lập và hoạt động của hợp tác xã", "SKHDT", "PTCKH", (
        _d("Đăng ký thành lập hợp tác xã", PART, True, 5, 0.2),
        _d("Đăng ký thay đổi tên, địa chỉ trụ sở chính, ngành, nghề sản xuất, "
           "kinh doanh, vốn điều lệ, người đại diện theo pháp luật của hợp tác "
           "xã", PART, True, 5, 0.3),
        _d("Giải thể tự nguyện hợp tác xã", PART, False, 5, 0.05),
    )),
    Block("Việc làm", "SLDTBXH", "PLDTBXH", (
        _p("Giải quyết hưởng trợ cấp thất nghiệp", PART, False, 20, 12),
        _p("Tạm dừng hưởng trợ cấp thất nghiệp", PART, False, 3, 1.5),
        _p("Chuyển nơi hưởng trợ cấp thất nghiệp", PART, False, 3, 0.5),
        _p("Hỗ trợ học nghề cho người lao động đang hưởng trợ cấp thất nghiệp",
           PART, False, 15, 0.8),
        _p("Cấp giấy phép hoạt động dịch vụ việc làm của doanh nghiệp hoạt động "
           "dịch vụ việc làm", PART, True, 7, 0.1),
        *_licence(PROVINCE, "giấy phép lao động cho người lao động nước ngoài "
                  "làm việc tại Việt Nam", {
            "Cấp": (5, 3), "Cấp lại": (3, 0.8), "Gia hạn": (5, 1.2),
        }, online=FULL),
        _p("Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao "
           "động", FULL, False, 3, 0.8, handlers=WORK_PERMIT),
        _p("Báo cáo giải trình nhu cầu, thay đổi nhu cầu sử dụng người lao động "
           "nước ngoài", FULL, False, 10, 1.2, handlers=WORK_PERMIT),
    )),
    Block("Lao động", "SLDTBXH", "PLDTBXH", (
        _p("Đăng ký nội quy lao động của doanh nghiệp", PART, False, 7, 0.6,
           handlers=WORK_PERMIT),
        _p("Cấp giấy phép hoạt động cho thuê lại lao động", PART, True, 20, 0.05),
    )),
    Block("Người có công", "SLDTBXH", "PLDTBXH", (
        _p("Công nhận và giải quyết chế độ ưu đãi người hoạt động kháng chiến bị "
           "nhiễm chất độc hóa học", NONE, False, 40, 0.3),
        _p("Di chuyển hồ sơ khi người hưởng trợ cấp ưu đãi thay đổi nơi thường "
           "trú", PART, False, 5, 0.3),
        _p("Cấp giấy giới thiệu đi thăm viếng mộ liệt sĩ và hỗ trợ thăm viếng mộ "
           "liệt sĩ", PART, False, 5, 0.4),
        _d("Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", PART, False, 12, 0.6),
        _d("Giải quyết chế độ mai táng phí, trợ cấp một lần khi người có công "
           "với cách mạng từ trần", PART, False, 12, 1.2),
        _d("Cấp giấy xác nhận thân nhân của người có công", PART, False, 5, 0.8),
    )),
    Block("Bảo trợ xã hội", "SLDTBXH", "PLDTBXH", (
        _d("Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng, hỗ trợ "
           "kinh phí chăm sóc, nuôi dưỡng hàng tháng", PART, False, 20, 5),
        _d("Chi trả trợ cấp xã hội hàng tháng, hỗ trợ kinh phí chăm sóc, nuôi "
           "dưỡng hàng tháng khi đối tượng thay đổi nơi cư trú",
           PART, False, 10, 0.8),
        _d("Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở, sửa chữa nhà ở",
           NONE, False, 15, 0.3),
        _d("Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
           PART, False, 5, 1.5),
        _d("Tiếp nhận đối tượng cần bảo vệ khẩn cấp vào cơ sở trợ giúp xã hội",
           NONE, False, 3, 0.05),
        _c("Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết "
           "tật", PART, False, 20, 1.5),
        _c("Đổi, cấp lại Giấy xác nhận khuyết tật", PART, False, 5, 0.5),
        _c("Đăng ký hoạt động đối với cơ sở trợ giúp xã hội dưới 10 đối tượng có "
           "hoàn cảnh khó khăn", NONE, False, 5, 0.02),
    )),
    Block("Giảm nghèo", "SLDTBXH", "PLDTBXH", (
        _c("Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm",
           NONE, False, 10, 0.8),
        _c("Công nhận hộ thoát nghèo, hộ thoát cận nghèo trong năm",
           NONE, False, 10, 0.4),
        _c("Công nhận hộ làm nông nghiệp, lâm nghiệp, ngư nghiệp có mức sống "
           "trung bình", NONE, False, 10, 0.4),
    )),
    Block("Giáo dục và Đào tạo", "SGDDT", "PGDDT", (
        _p("Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", FULL, False, 3, 3),
        _p("Chỉnh sửa nội dung văn bằng, chứng chỉ", PART, False, 5, 0.5),
        _p("Công nhận văn bằng tốt nghiệp các cấp học phổ thông do cơ sở nước "
           "ngoài cấp", FULL, False, 10, 0.2),
        _p("Chuyển trường đối với học sinh trung học phổ thông", FULL, False, 3, 2),
        _p("Xin học lại tại trường khác đối với học sinh trung học",
           PART, False, 3, 0.3),
        _p("Cho phép trường trung học phổ thông hoạt động giáo dục",
           PART, False, 20, 0.05),
        _p("Cấp phép hoạt động giáo dục kỹ năng sống", PART, False, 15, 0.3),
        _p("Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục",
           PART, False, 20, 0.3),
        _p("Phúc khảo bài thi tốt nghiệp trung học phổ thông", FULL, False, 10, 2),
        _d("Chuyển trường đối với học sinh trung học cơ sở", FULL, False, 3, 3),
        _d("Chuyển trường đối với học sinh tiểu học", FULL, False, 3, 2),
        _d("Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", FULL, False, 3, 1),
        _d("Cho phép trường mầm non, trường mẫu giáo, nhà trẻ hoạt động giáo dục",
           PART, False, 20, 0.1),
        _d("Hỗ trợ ăn trưa đối với trẻ em mẫu giáo", PART, False, 10, 1),
        _d("Trợ cấp đối với giáo viên mầm non làm việc tại cơ sở giáo dục mầm non "
           "dân lập, tư thục ở địa bàn có khu công nghiệp", PART, False, 15, 0.3),
        _c("Cho phép nhóm trẻ, lớp mẫu giáo độc lập hoạt động giáo dục",
           PART, False, 20, 0.1),
        _c("Giải thể nhóm trẻ, lớp mẫu giáo độc lập", NONE, False, 20, 0.02),
    )),
    Block("Khám bệnh, chữa bệnh", "SYT", "PYT", (
        _p("Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh đối với người Việt Nam",
           PART, True, 20, 3),
        _p("Cấp lại chứng chỉ hành nghề khám bệnh, chữa bệnh", PART, True, 10, 0.6),
        _p("Điều chỉnh phạm vi hoạt động chuyên môn trong chứng chỉ hành nghề",
           PART, True, 10, 0.6),
        _p("Cấp giấy phép hoạt động đối với phòng khám chuyên khoa",
           PART, True, 30, 0.8),
        _p("Cấp giấy phép hoạt động đối với phòng khám đa khoa",
           PART, True, 30, 0.2),
        _p("Cấp giấy phép hoạt động đối với cơ sở dịch vụ thẩm mỹ",
           PART, True, 20, 0.3),
    )),
    Block("Dược phẩm", "SYT", "PYT", (
        _p("Cấp chứng chỉ hành nghề dược", FULL, True, 20, 2.5),
        _p("Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược cho cơ sở bán lẻ "
           "thuốc", FULL, True, 20, 4),
    )),
    Block("Trang thiết bị y tế", "SYT", "PYT", (
        _p("Công bố đủ điều kiện mua bán trang thiết bị y tế thuộc loại B, C, D",
           FULL, True, 3, 1.2),
    )),
    Block("An toàn thực phẩm và dinh dưỡng", "SYT", "PYT", (
        _p("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm thuộc thẩm "
           "quyền của Sở Y tế", PART, True, 20, 2),
        _p("Cấp giấy tiếp nhận đăng ký bản công bố sản phẩm đối với thực phẩm "
           "dinh dưỡng y học, thực phẩm dùng cho chế độ ăn đặc biệt",
           FULL, True, 7, 1.5),
        _p("Cấp giấy xác nhận nội dung quảng cáo thực phẩm", FULL, True, 10, 1),
        _d("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ "
           "sở kinh doanh dịch vụ ăn uống thuộc thẩm quyền cấp huyện",
           PART, True, 15, 1.5),
    )),
    Block("Môi trường", "STNMT", "PTNMT", (
        _p("Thẩm định báo cáo đánh giá tác động môi trường", PART, True, 30, 0.8),
        *_licence(PROVINCE, "giấy phép môi trường", {
            "Cấp": (30, 1.2), "Cấp điều chỉnh": (15, 0.4), "Cấp đổi": (10, 0.2),
        }),
        _d("Cấp giấy phép môi trường", PART, True, 15, 0.3),
        _c("Đăng ký môi trường", PART, False, 7, 0.3),
        _c("Tham vấn trong đánh giá tác động môi trường", NONE, False, 10, 0.1),
    )),
    Block("Tài nguyên nước", "STNMT", "PTNMT", (
        _p("Cấp giấy phép khai thác nước dưới đất", PART, True, 30, 0.4),
        _p("Cấp giấy phép khai thác, sử dụng nước mặt", PART, True, 30, 0.3),
        _p("Cấp giấy phép xả nước thải vào nguồn nước", PART, True, 30, 0.2),
        _d("Đăng ký khai thác nước dưới đất", NONE, False, 10, 0.15),
    )),
    Block("Địa chất và khoáng sản", "STNMT", "PTNMT", (
        _p("Cấp giấy phép thăm dò khoáng sản", PART, True, 60, 0.1),
        _p("Cấp giấy phép khai thác khoáng sản", PART, True, 60, 0.1),
        _p("Đóng cửa mỏ khoáng sản", NONE, True, 45, 0.03),
    )),
    Block("Đo đạc, bản đồ và thông tin địa lý", "STNMT", "PTNMT", (
        _p("Cung cấp thông tin, dữ liệu đo đạc và bản đồ", FULL, True, 5, 0.6),
    )),
    Block("Đường bộ", "SGTVT", "PQLDT", (
        _p("Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
           FULL, True, 5, 25),
        _p("Cấp lại giấy phép lái xe", PART, True, 10, 2),
        _p("Cấp giấy phép lái xe quốc tế", FULL, True, 5, 1.5),
        *_licence(PROVINCE, "Giấy phép kinh doanh vận tải bằng xe ô tô", {
            "Cấp": (5, 1.5), "Cấp lại": (3, 0.4),
        }, online=FULL),
        _p("Cấp phù hiệu xe ô tô kinh doanh vận tải", FULL, False, 2, 8),
        _p("Cấp lại phù hiệu xe ô tô kinh doanh vận tải", FULL, False, 2, 2),
        _p("Cấp giấy phép xe tập lái", PART, True, 3, 0.5),
        _p("Cấp giấy phép thi công công trình trên đường bộ đang khai thác",
           PART, True, 7, 1),
        _p("Chấp thuận xây dựng công trình thiết yếu trong phạm vi bảo vệ kết cấu "
           "hạ tầng giao thông đường bộ", PART, False, 10, 0.5),
        _p("Cấp giấy phép lưu hành xe quá tải trọng, xe quá khổ giới hạn, xe bánh "
           "xích trên đường bộ", FULL, False, 2, 1.5),
        _p("Cấp giấy phép đào tạo lái xe ô tô", PART, True, 20, 0.02),
        _d("Chấp thuận xây dựng công trình thiết yếu trong phạm vi bảo vệ kết cấu "
           "hạ tầng giao thông đường bộ của đường huyện", PART, False, 10, 0.2),
    )),
    Block("Đường thủy nội địa", "SGTVT", "PQLDT", (
        _p("Đăng ký phương tiện thủy nội địa lần đầu đối với phương tiện chưa "
           "khai thác", PART, True, 3, 0.3),
        _d("Đăng ký lần đầu đối với phương tiện đang khai thác trên đường thủy "
           "nội địa", PART, True, 3, 0.3),
        _d("Xóa Giấy chứng nhận đăng ký phương tiện thủy nội địa",
           PART, False, 3, 0.1),
    )),
    Block("Lưu thông hàng hóa trong nước", "SCT", "PKT", (
        _p("Cấp Giấy chứng nhận đủ điều kiện cửa hàng bán lẻ xăng dầu",
           PART, True, 15, 0.5),
        _p("Cấp Giấy phép bán buôn rượu trên địa bàn tỉnh", PART, True, 10, 0.3),
        _p("Cấp Giấy phép kinh doanh cho tổ chức kinh tế có vốn đầu tư nước ngoài "
           "để thực hiện quyền phân phối bán lẻ hàng hóa", PART, True, 15, 0.2),
        *_licence(DISTRICT, "Giấy phép bán lẻ rượu", {
            "Cấp": (10, 1), "Cấp lại": (10, 0.2), "Cấp sửa đổi, bổ sung": (10, 0.15),
        }),
        _d("Cấp Giấy phép sản xuất rượu thủ công nhằm mục đích kinh doanh",
           PART, True, 10, 0.2),
        _d("Cấp Giấy phép bán lẻ sản phẩm thuốc lá", PART, True, 10, 0.5),
    )),
    Block("Xúc tiến thương mại", "SCT", "PKT", (
        _p("Thông báo hoạt động khuyến mại", FULL, False, 1, 6),
        _p("Đăng ký thực hiện khuyến mại theo hình thức mang tính may rủi trên "
           "địa bàn 01 tỉnh", FULL, False, 5, 1.5),
        _p("Cấp giấy phép thành lập Văn phòng đại diện của thương nhân nước ngoài "
           "tại Việt Nam", PART, True, 7, 0.1),
    )),
    Block("Điện", "SCT", "PKT", (
        _p("Cấp Giấy phép hoạt động điện lực trong lĩnh vực phân phối, bán lẻ "
           "điện", PART, True, 15, 0.1),
    )),
    Block("Kinh doanh khí", "SCT", "PKT", (
        _p("Cấp Giấy chứng nhận đủ điều kiện thương nhân kinh doanh mua bán LPG",
           PART, True, 15, 0.2),
        _d("Cấp Giấy chứng nhận đủ điều kiện cửa hàng bán LPG chai",
           PART, True, 15, 0.1),
    )),
    Block("Vật liệu nổ công nghiệp", "SCT", "PKT", (
        _p("Cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn vật liệu nổ công "
           "nghiệp", PART, True, 7, 0.2),
    )),
    Block("Thú y", "SNN", "PKT", (
        _p("Cấp Giấy chứng nhận kiểm dịch động vật, sản phẩm động vật vận chuyển "
           "ra khỏi địa bàn cấp tỉnh", PART, True, 1, 6),
        _p("Cấp chứng chỉ hành nghề thú y", PART, True, 5, 0.4),
        _p("Cấp Giấy chứng nhận đủ điều kiện vệ sinh thú y", PART, True, 15, 0.3),
    )),
    Block("Bảo vệ thực vật", "SNN", "PKT", (
        _p("Cấp Giấy chứng nhận đủ điều kiện buôn bán thuốc bảo vệ thực vật",
           PART, True, 15, 1),
        _p("Cấp Giấy chứng nhận đủ điều kiện buôn bán phân bón", PART, True, 15, 0.8),
    )),
    Block("Quản lý chất lượng nông lâm sản và thủy sản", "SNN", "PKT", (
        _p("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ "
           "sở sản xuất, kinh doanh nông, lâm, thủy sản", PART, True, 15, 0.8),
    )),
    Block("Trồng trọt", "SNN", "PKT", (
        _p("Công nhận cây đầu dòng, vườn cây đầu dòng", NONE, True, 20, 0.05),
    )),
    Block("Thủy lợi", "SNN", "PKT", (
        _p("Cấp giấy phép cho các hoạt động trong phạm vi bảo vệ công trình thủy "
           "lợi", PART, True, 10, 0.3),
    )),
    Block("Phòng, chống thiên tai", "SNN", "PKT", (
        _d("Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai",
           NONE, False, 15, 0.3),
    )),
    Block("Nông nghiệp", "SNN", "PKT", (
        _d("Phê duyệt kế hoạch khuyến nông địa phương", NONE, False, 20, 0.02),
    )),
    Block("Xuất bản, in và phát hành", "STTTT", "PVHTT", (
        _p("Cấp giấy phép xuất bản bản tin", PART, False, 15, 0.2),
        _p("Cấp giấy phép nhập khẩu xuất bản phẩm không kinh doanh",
           FULL, False, 7, 0.6),
        _p("Cấp giấy phép hoạt động in", PART, False, 10, 0.1),
        _p("Đăng ký hoạt động cơ sở in", PART, False, 7, 0.2),
        _p("Cấp giấy phép tổ chức triển lãm, hội chợ xuất bản phẩm",
           PART, False, 5, 0.1),
        _p("Cấp giấy phép xuất bản tài liệu không kinh doanh", FULL, False, 10, 0.8),
        _d("Khai báo hoạt động cơ sở dịch vụ photocopy", PART, False, 5, 0.2),
    )),
    Block("Phát thanh, truyền hình và thông tin điện tử", "STTTT", "PVHTT", (
        _p("Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp",
           PART, True, 10, 0.4),
        *_licence(DISTRICT, "Giấy chứng nhận đủ điều kiện hoạt động điểm cung "
                  "cấp dịch vụ trò chơi điện tử công cộng", {
            "Cấp": (5, 0.3), "Gia hạn": (5, 0.1),
        }),
    )),
    Block("Du lịch", "SVHTTDL", "PVHTT", (
        _p("Cấp Giấy phép kinh doanh dịch vụ lữ hành nội địa", PART, True, 10, 0.3),
        _p("Cấp thẻ hướng dẫn viên du lịch nội địa", FULL, True, 15, 0.4),
        _p("Cấp đổi thẻ hướng dẫn viên du lịch", FULL, True, 10, 0.3),
        _p("Công nhận hạng cơ sở lưu trú du lịch hạng 1 sao, 2 sao",
           PART, True, 30, 0.2),
    )),
    Block("Thể dục thể thao", "SVHTTDL", "PVHTT", (
        _p("Cấp Giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao",
           PART, True, 7, 0.4),
    )),
    Block("Nghệ thuật biểu diễn", "SVHTTDL", "PVHTT", (
        _p("Thông báo tổ chức biểu diễn nghệ thuật", FULL, False, 5, 1),
    )),
    Block("Văn hóa cơ sở", "SVHTTDL", "PVHTT", (
        _p("Cấp giấy phép tổ chức triển lãm do tổ chức ở địa phương đưa ra nước "
           "ngoài", PART, False, 10, 0.05),
        *_licence(DISTRICT, "Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke", {
            "Cấp": (5, 0.5), "Cấp điều chỉnh": (4, 0.1),
        }),
        _d("Thông báo tổ chức lễ hội cấp huyện", PART, False, 5, 0.1),
        _d("Công nhận lần đầu “Cơ quan đạt chuẩn văn hóa”, “Đơn vị đạt chuẩn văn "
           "hóa”, “Doanh nghiệp đạt chuẩn văn hóa”", NONE, False, 10, 0.1),
        _c("Xét tặng danh hiệu “Gia đình văn hóa” hàng năm", NONE, False, 5, 0.8),
        _c("Xét tặng danh hiệu “Thôn văn hóa”, “Tổ dân phố văn hóa” hàng năm",
           NONE, False, 5, 0.2),
        _c("Thông báo tổ chức lễ hội", PART, False, 5, 0.15),
    )),
    Block("Hoạt động khoa học và công nghệ", "SKHCN", "PKT", (
        _p("Đăng ký hoạt động khoa học và công nghệ", PART, True, 15, 0.2),
        _p("Cấp Giấy chứng nhận đăng ký chuyển giao công nghệ", PART, True, 15, 0.05),
    )),
    Block("An toàn bức xạ và hạt nhân", "SKHCN", "PKT", (
        _p("Cấp giấy phép tiến hành công việc bức xạ sử dụng thiết bị X-quang chẩn "
           "đoán trong y tế", FULL, True, 15, 0.8),
        _p("Cấp chứng chỉ nhân viên bức xạ", FULL, True, 10, 0.6),
    )),
    Block("Tiêu chuẩn đo lường chất lượng", "SKHCN", "PKT", (
        _p("Đăng ký công bố hợp chuẩn dựa trên kết quả tự đánh giá của tổ chức, cá "
           "nhân sản xuất, kinh doanh", FULL, False, 5, 0.6),
        _p("Đăng ký công bố hợp quy đối với sản phẩm, hàng hóa", FULL, False, 5, 0.6),
        _p("Kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu", FULL, False, 1, 1.2),
    )),
    Block("Quản lý ngân sách nhà nước", "STC", "PTCKH", (
        _p("Đăng ký mã số đơn vị có quan hệ với ngân sách", FULL, False, 2, 1.2),
        _d("Đăng ký mã số đơn vị có quan hệ với ngân sách", FULL, False, 2, 0.4),
    )),
    Block("Quản lý giá", "STC", "PTCKH", (
        _p("Quyết định giá thuộc thẩm quyền của cấp tỉnh", PART, False, 15, 0.1),
    )),
    Block("Quản lý công sản", "STC", "PTCKH", (
        _p("Mua sắm tài sản công phục vụ hoạt động của cơ quan, tổ chức, đơn vị "
           "trong trường hợp không phải lập thành dự án đầu tư",
           NONE, False, 15, 0.2),
        _p("Thanh lý tài sản công", NONE, False, 15, 0.2),
        _d("Thanh lý tài sản công", NONE, False, 15, 0.1),
    )),
    Block("Tổ chức phi chính phủ", "SNV", "PNV", (
        _p("Công nhận ban vận động thành lập hội", PART, False, 30, 0.05),
        _p("Thành lập hội", PART, False, 30, 0.05),
        _p("Phê duyệt điều lệ hội", PART, False, 30, 0.1),
        _p("Cấp giấy phép thành lập và công nhận điều lệ quỹ", PART, False, 30, 0.03),
    )),
    Block("Thi đua, khen thưởng", "SNV", "PNV", (
        _p("Tặng Bằng khen của Chủ tịch Ủy ban nhân dân cấp tỉnh",
           PART, False, 20, 3),
        _p("Tặng danh hiệu Chiến sĩ thi đua cấp tỉnh", PART, False, 20, 0.8),
        _p("Tặng Cờ thi đua của Ủy ban nhân dân cấp tỉnh", PART, False, 20, 0.3),
        _d("Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp huyện",
           PART, False, 20, 1.5),
        _d("Tặng danh hiệu Lao động tiên tiến", PART, False, 20, 0.5),
        _d("Tặng danh hiệu Chiến sĩ thi đua cơ sở", PART, False, 20, 0.5),
        _c("Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã",
           NONE, False, 10, 0.4),
        _c("Xét tặng danh hiệu Lao động tiên tiến", NONE, False, 10, 0.2),
    )),
    Block("Tín ngưỡng, tôn giáo", "SNV", "PNV", (
        _p("Đăng ký thuyên chuyển chức sắc, chức việc, nhà tu hành",
           PART, False, 15, 0.05),
        _p("Đề nghị tổ chức đại hội của tổ chức tôn giáo có địa bàn hoạt động ở "
           "một tỉnh", PART, False, 30, 0.05),
        _d("Đề nghị tổ chức cuộc lễ ngoài cơ sở tôn giáo, địa điểm hợp pháp đã "
           "đăng ký có quy mô tổ chức ở một huyện", PART, False, 15, 0.05),
        _d("Thông báo danh mục hoạt động tôn giáo bổ sung đối với tổ chức có địa "
           "bàn hoạt động tôn giáo ở nhiều xã thuộc một huyện",
           PART, False, 7, 0.03),
        _c("Đăng ký hoạt động tín ngưỡng", NONE, False, 15, 0.05),
        _c("Thông báo danh mục hoạt động tín ngưỡng bổ sung", NONE, False, 5, 0.03),
        _c("Đăng ký sinh hoạt tôn giáo tập trung", NONE, False, 20, 0.02),
    )),
    Block("Văn thư và lưu trữ", "SNV", "PNV", (
        _p("Cấp chứng chỉ hành nghề lưu trữ", PART, False, 15, 0.1),
        _p("Phục vụ việc sử dụng tài liệu của độc giả tại phòng đọc",
           NONE, False, 1, 0.3),
    )),
    Block("Công chức, viên chức", "SNV", "PNV", (
        _p("Thi tuyển công chức", NONE, True, 60, 0.05, listed=False),
        _p("Xét tuyển viên chức", NONE, True, 60, 0.05, listed=False),
    )),
    Block("Giải quyết khiếu nại", "TTR", "TTR", (
        _p("Giải quyết khiếu nại lần đầu", NONE, False, 30, 0.5),
        _p("Giải quyết khiếu nại lần hai", NONE, False, 45, 0.4),
        _d("Giải quyết khiếu nại lần đầu", NONE, False, 30, 0.3),
        _d("Giải quyết khiếu nại lần hai", NONE, False, 45, 0.1),
        _c("Giải quyết khiếu nại lần đầu", NONE, False, 30, 0.05),
    )),
    Block("Giải quyết tố cáo", "TTR", "TTR", (
        _p("Giải quyết tố cáo", NONE, False, 30, 0.2),
        _d("Giải quyết tố cáo", NONE, False, 30, 0.1),
        _c("Giải quyết tố cáo", NONE, False, 30, 0.02),
    )),
    Block("Xử lý đơn thư", "TTR", "TTR", (
        _p("Xử lý đơn", NONE, False, 10, 0.5),
        _d("Xử lý đơn", NONE, False, 10, 0.3),
        _c("Xử lý đơn", NONE, False, 10, 0.1),
    )),
    Block("Phòng, chống tham nhũng", "TTR", "VP", (
        _d("Tiếp nhận yêu cầu giải trình", NONE, False, 5, 0.05, listed=False),
        _d("Thực hiện việc giải trình", NONE, False, 15, 0.05, listed=False),
    )),
    Block("Ngoại vụ", "VP", "VP", (
        _p("Cho phép sử dụng thẻ đi lại của doanh nhân APEC", PART, False, 10, 0.8),
        _p("Cho phép tổ chức hội nghị, hội thảo quốc tế thuộc thẩm quyền của Chủ "
           "tịch Ủy ban nhân dân cấp tỉnh", PART, False, 15, 0.2),
    )),
)  # fmt: skip


@dataclass(frozen=True)
class DemoProcedure:
    code: str
    name: str
    field: str
    level: str
    online_level: str
    fee_required: bool
    publicly_listed: bool
    days: int
    weight: float
    handlers: tuple[str, ...]  # unit code suffixes, see Block and Entry


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def procedure_catalogue() -> list[DemoProcedure]:
    """The catalogue with its codes. Codes are shaped like the national
    database's ("1.004512", "2.001873") and made from the level and the name,
    so adding a procedure never renames another; they are not the national
    database's real codes."""
    found: list[DemoProcedure] = []
    taken: set[str] = set()
    for block in CATALOGUE:
        for entry in block.entries:
            n = _digest(entry.level, entry.name)
            number = 1_000 + (n // 3) % 4_000
            code = f"{2 if n % 3 == 0 else 1}.{number:06d}"
            while code in taken:  # a clash of two hashes: take the next number
                number += 1
                code = f"{code[0]}.{number:06d}"
            taken.add(code)
            default = block.department if entry.level == PROVINCE else block.office
            found.append(
                DemoProcedure(
                    code=code,
                    name=entry.name,
                    field=block.field,
                    level=entry.level,
                    online_level=entry.online,
                    fee_required=entry.fee,
                    publicly_listed=entry.listed,
                    days=entry.days,
                    weight=entry.weight,
                    handlers=entry.handlers or (default,),
                )
            )
    return found


def build_catalogue(out: OutputWrapper) -> None:
    """Upsert the catalogue on the procedure code, writing only what differs."""
    catalogue = procedure_catalogue()
    existing = {
        p.code: p
        for p in Procedure.objects.filter(code__in=[c.code for c in catalogue])
    }
    fields = (
        "name",
        "field",
        "level",
        "online_level",
        "publicly_listed",
        "fee_required",
    )
    new, changed = [], []
    for item in catalogue:
        values = {
            "name": item.name,
            "field": item.field,
            "level": item.level,
            "online_level": item.online_level,
            "publicly_listed": item.publicly_listed,
            "fee_required": item.fee_required,
        }
        current = existing.get(item.code)
        if current is None:
            new.append(Procedure(code=item.code, **values))
        elif any(getattr(current, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            changed.append(current)
    Procedure.objects.bulk_create(new)
    Procedure.objects.bulk_update(changed, fields)
    out.write(
        f"  procedures: {len(catalogue)} in the catalogue, {len(new)} new, "
        f"{len(changed)} updated"
    )


# --- Units, their size and their habits ---------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How a unit works. ``late``: share of dossiers resolved late in 2022 (the
    procedure and the officer move it); ``trend``: its relative change per year
    (negative: improving); ``online``, ``digitised``, ``pay_online``,
    ``complaints``, ``supplements``: multipliers on the province's usual rates;
    ``stuck``: share of the dossiers received from May 2025 on that are never
    finished (still open, overdue at the end of 2025 and at the last import
    of 2026); ``late_officer``: one officer carries most of the lateness."""

    late: float = 0.015
    trend: float = -0.15
    online: float = 1.0
    digitised: float = 1.0
    pay_online: float = 1.0
    complaints: float = 1.0
    supplements: float = 1.0
    stuck: float = 0.0
    late_officer: bool = False


P, C = org.PROVINCE_CODE, org.CITY_CODE
# The units the demo is built around: the rankings, flags and reminders of the
# portal should find these (tests/procedures/test_demo.py checks that they do).
LATE_UNITS = (f"{C}-VPDKDD", f"{P}-SXD", f"{C}-HOANGTIEN")
GOOD_UNITS = (f"{P}-STP", f"{P}-SKHDT", f"{C}-PHALAI")
OFFLINE_UNITS = (f"{P}-TM", f"{C}-BACAN")
LOW_DIGITISATION_UNITS = (f"{C}-NHANHUE", f"{P}-NG")
LOW_ONLINE_PAYMENT_UNITS = (f"{C}-LELOI", f"{P}-BG")
DESIGNED: dict[str, Profile] = {
    # Land registration: slow, worse every year, complaints, dossiers stuck.
    f"{C}-VPDKDD": Profile(
        late=0.14, trend=0.15, complaints=4, supplements=2, stuck=0.04,
        late_officer=True, digitised=0.7,
    ),
    f"{P}-SXD": Profile(late=0.12, trend=0.12, supplements=2.5, late_officer=True),
    f"{C}-HOANGTIEN": Profile(late=0.1, trend=0.1, complaints=5, late_officer=True),
    f"{P}-STNMT": Profile(late=0.07, trend=0.0, supplements=1.8, stuck=0.015),
    f"{P}-STP": Profile(late=0.004, online=1.3, digitised=1.2, pay_online=1.2),
    f"{P}-SKHDT": Profile(late=0.005, online=1.3, digitised=1.15),
    f"{C}-PHALAI": Profile(late=0.006, online=1.25, digitised=1.15, pay_online=1.2),
    f"{P}-TM": Profile(online=0.3, digitised=0.8, pay_online=0.5),
    f"{C}-BACAN": Profile(online=0.25, digitised=0.6, pay_online=0.4),
    f"{C}-NHANHUE": Profile(digitised=0.3),
    f"{P}-NG": Profile(late=0.04, digitised=0.4),
    f"{C}-LELOI": Profile(pay_online=0.15),
    f"{P}-BG": Profile(pay_online=0.3),
    # A decent office with one officer who is late again and again.
    f"{C}-PTP": Profile(late=0.015, late_officer=True),
    # The ward formed by the 2025 merger, finding its feet (dossiers left open).
    f"{C}-{org.MERGED_WARD[0]}": Profile(late=0.05, trend=0.0, stuck=0.1),
    # Phả Lại's team leads the ward it went into.
    f"{C}-LEDAIHANH": Profile(late=0.006, online=1.25, digitised=1.15, pay_online=1.2),
}  # fmt: skip

# Relative case volume of each unit.
DEPARTMENT_SIZE = {
    "VP": 0.3, "SNV": 0.8, "STP": 2.2, "SKHDT": 2.0, "STC": 0.5, "SCT": 0.9,
    "SNN": 1.0, "SGTVT": 3.0, "SXD": 1.2, "STNMT": 1.3, "STTTT": 0.3,
    "SLDTBXH": 2.0, "SVHTTDL": 0.4, "SKHCN": 0.4, "SGDDT": 0.8, "SYT": 1.4,
    "TTR": 0.15, "BQLKCN": 1.0,
}  # fmt: skip
DISTRICT_SIZE = {
    "CL": 0.15, "HD": 3.0, "KM": 2.0, "NS": 1.5, "KT": 1.5, "TH": 1.6, "CG": 1.8,
    "BG": 1.3, "GL": 1.6, "TK": 1.8, "NG": 1.5, "TM": 1.4,
}  # fmt: skip
OFFICE_SIZE = {
    "VP": 0.05, "PNV": 0.3, "PTP": 0.9, "PTCKH": 0.7, "PTNMT": 0.4,
    "PLDTBXH": 0.6, "PVHTT": 0.2, "PGDDT": 0.4, "PYT": 0.15, "TTR": 0.1,
    "PKT": 0.3, "PQLDT": 0.6, org.LAND_BRANCH[0]: 2.0,
}  # fmt: skip
# A district's seat from 01/07/2025: its own commune-level dossiers on top of
# the district's.
SEAT_OWN_SIZE = 0.7


@dataclass(frozen=True)
class DemoUnit:
    code: str
    agency: str  # the agency part of its case codes
    size: float
    profile: Profile
    procedures: tuple[DemoProcedure, ...]
    officers: tuple[str, ...]
    valid_from: date | None = None
    valid_to: date | None = None


def _default_profile(code: str) -> Profile:
    n = _digest(code, "profile")
    return Profile(
        late=0.005 + (n % 31) / 1000,
        online=0.8 + (n // 61 % 36) / 100,
        digitised=0.8 + (n // 2196 % 31) / 100,
        pay_online=0.8 + (n // 68076 % 31) / 100,
    )


def _profile(code: str) -> Profile:
    return DESIGNED.get(code) or _default_profile(code)


# How units work differently in the running year (current_year_rows), so that
# their 2026 commitments are at risk (demo.accountability): the others
# carry on their trends and are on track.
DIGITISATION_FALLS = f"{P}-SGTVT"
LATE_IN_CURRENT_YEAR = (f"{C}-TRANHUNGDAO", f"{C}-NGUYENTRAI")
CURRENT_YEAR_CHANGES: dict[str, Profile] = {
    # The new vehicle-registration software keeps no scans of the dossiers:
    # digitisation halves.
    DIGITISATION_FALLS: replace(_profile(DIGITISATION_FALLS), digitised=0.45),
    # Officers moved to the province's departments and not yet replaced:
    # late again and again (Phường Trần Hưng Đạo, which missed its
    # commitment in 2025 after Xã Hưng Đạo missed 2024, among them).
    LATE_IN_CURRENT_YEAR[0]: replace(
        _profile(LATE_IN_CURRENT_YEAR[0]), late=0.1, trend=0.0
    ),
    LATE_IN_CURRENT_YEAR[1]: replace(
        _profile(LATE_IN_CURRENT_YEAR[1]), late=0.08, trend=0.0
    ),
}


FAMILY = (
    ("Nguyễn", 30), ("Trần", 9), ("Lê", 7), ("Phạm", 8), ("Vũ", 7), ("Hoàng", 4),
    ("Đỗ", 3), ("Bùi", 3), ("Đặng", 3), ("Ngô", 2), ("Dương", 2), ("Đinh", 2),
    ("Phan", 2), ("Lương", 1), ("Mạc", 1), ("Tạ", 1), ("Đào", 1), ("Trịnh", 1),
)  # fmt: skip
MALE = (
    ("Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Công", "Mạnh", "Tiến", "Duy",
     "Thành", "Việt", "Văn", "Văn"),
    ("Hùng", "Dũng", "Tuấn", "Sơn", "Nam", "Long", "Phong", "Cường", "Khánh",
     "Bình", "Hải", "Thắng", "Toàn", "Quân", "Huy", "Đạt", "Trung", "Hiếu",
     "Tùng", "Kiên", "Vinh", "Hưng", "Thịnh", "Chiến"),
)  # fmt: skip
FEMALE = (
    ("Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Phương", "Thùy", "Kim",
     "Thị", "Thị", "Thị"),
    ("Lan", "Hương", "Mai", "Hà", "Thảo", "Hạnh", "Yến", "Trang", "Linh", "Thủy",
     "Hằng", "Nga", "Huyền", "Nhung", "Loan", "Phượng", "Oanh", "Dung", "Hoa",
     "Ngân", "Vân", "Hiền", "Thúy", "Liên"),
)  # fmt: skip
_FAMILY_NAMES = [name for name, weight in FAMILY for _ in range(weight)]


def officer_names(code: str, count: int) -> tuple[str, ...]:
    """``count`` distinct officers of a unit, from a hash of its code (the same
    unit always has the same officers), women and men about equally."""
    names: list[str] = []
    attempt = 0
    while len(names) < count:
        n = _digest(code, "officer", str(attempt))
        attempt += 1
        middles, givens = FEMALE if n % 2 else MALE
        n //= 2
        name = " ".join(
            (
                _FAMILY_NAMES[n % len(_FAMILY_NAMES)],
                middles[n // 100 % len(middles)],
                givens[n // 10_000 % len(givens)],
            )
        )
        if name not in names:
            names.append(name)
    return tuple(names)


def _officers(code: str, size: float) -> tuple[str, ...]:
    return officer_names(code, max(2, min(9, round(2 + 2.2 * size))))


def demo_units(catalogue: list[DemoProcedure] | None = None) -> list[DemoUnit]:
    """The units of demo.organisation that handle dossiers, with what they
    handle: departments the province-level procedures of their fields, the
    districts their district-level ones (in Chí Linh the office of the field,
    or the city itself), the wards and communes the commune-level ones."""
    catalogue = catalogue if catalogue is not None else procedure_catalogue()

    def handled(level: str, suffix: str | None) -> tuple[DemoProcedure, ...]:
        return tuple(
            p
            for p in catalogue
            if p.level == level and (suffix is None or suffix in p.handlers)
        )

    def unit(code: str, agency: str, size: float, procedures, **kw) -> DemoUnit:
        return DemoUnit(
            code=code,
            agency=agency,
            size=size,
            profile=_profile(code),
            procedures=procedures,
            officers=kw.pop("officers", None) or _officers(code, size),
            **kw,
        )

    units = [
        unit(f"{P}-{suffix}", f"000.00.{11 + i:02d}.H23", DEPARTMENT_SIZE[suffix],
             handled(PROVINCE, suffix))
        for i, (suffix, _, _) in enumerate(org.DEPARTMENTS)
    ]  # fmt: skip
    ended = org.ENDED
    for i, (suffix, _, _) in enumerate(org.DISTRICTS):
        code = f"{P}-{suffix}"
        procedures = handled(DISTRICT, CITY if code == C else None)
        units.append(
            unit(code, f"000.{21 + i:02d}.00.H23", DISTRICT_SIZE[suffix], procedures,
                 valid_to=ended)
        )  # fmt: skip
    for i, (suffix, *_) in enumerate(org.CITY_OFFICES):
        units.append(
            unit(f"{C}-{suffix}", f"000.21.{11 + i:02d}.H23", OFFICE_SIZE[suffix],
                 handled(DISTRICT, suffix), valid_to=ended)
        )  # fmt: skip
    branch = org.LAND_BRANCH[0]
    units.append(
        unit(f"{C}-{branch}", f"000.21.{11 + len(org.CITY_OFFICES):02d}.H23",
             OFFICE_SIZE[branch], handled(DISTRICT, branch))
    )  # fmt: skip
    communes: dict[str, DemoUnit] = {}
    for i, (suffix, name) in enumerate(org.CITY_COMMUNES):
        n = _digest(suffix, "size")
        ward = name.startswith("Phường")
        size = (0.8 + n % 50 / 100) if ward else (0.5 + n % 25 / 100)
        communes[suffix] = unit(
            f"{C}-{suffix}",
            f"{i + 1:03d}.21.00.H23",
            size,
            handled(COMMUNE, None),
            valid_to=ended,
        )
    # From 01/07/2025 the communes handle the district-level procedures too
    # (the land registration stays with the branch): Chí Linh's city and
    # offices' share goes to its six wards by their size.
    transferred = tuple(p for p in handled(DISTRICT, None) if branch not in p.handlers)
    new_procedures = (*handled(COMMUNE, None), *transferred)
    city_share = DISTRICT_SIZE["CL"] + sum(
        OFFICE_SIZE[suffix] for suffix, *_ in org.CITY_OFFICES
    )
    old_size = sum(c.size for c in communes.values())
    wards = []
    for i, (suffix, _name, olds) in enumerate(org.NEW_WARDS):
        predecessors = [communes[old] for old in olds]
        size = sum(p.size for p in predecessors)
        wards.append(
            unit(
                f"{C}-{suffix}",
                f"{len(org.CITY_COMMUNES) + 1 + i:03d}.21.00.H23",
                size * (1 + city_share / old_size),
                new_procedures,
                valid_from=org.MERGER_DATE,
                # The new ward is staffed from those it replaces.
                officers=tuple(name for p in predecessors for name in p.officers[:2]),
            )
        )
    # Every other district's seat: the district's dossiers and its habits.
    for i, (suffix, _, _) in enumerate(org.DISTRICTS):
        if suffix not in org.DISTRICT_SEATS:
            continue
        code = org.seat_code(suffix)
        wards.append(
            DemoUnit(
                code=code,
                agency=f"100.{21 + i:02d}.00.H23",
                size=DISTRICT_SIZE[suffix] + SEAT_OWN_SIZE,
                profile=DESIGNED.get(code) or _profile(f"{P}-{suffix}"),
                procedures=new_procedures,
                officers=_officers(code, DISTRICT_SIZE[suffix] + SEAT_OWN_SIZE),
                valid_from=org.MERGER_DATE,
            )
        )
    return [*units, *communes.values(), *wards]


# --- The calendar -------------------------------------------------------------------

# Public holidays (days off that are not weekends), 2022–2026, as announced,
# and New Year's Day 2027 (the due dates of the running year's last dossiers).
HOLIDAYS: tuple[tuple[date, date], ...] = (
    (date(2022, 1, 3), date(2022, 1, 3)), (date(2022, 1, 31), date(2022, 2, 4)),
    (date(2022, 4, 11), date(2022, 4, 11)), (date(2022, 5, 2), date(2022, 5, 3)),
    (date(2022, 9, 1), date(2022, 9, 2)),
    (date(2023, 1, 2), date(2023, 1, 2)), (date(2023, 1, 20), date(2023, 1, 26)),
    (date(2023, 5, 1), date(2023, 5, 3)), (date(2023, 9, 1), date(2023, 9, 4)),
    (date(2024, 1, 1), date(2024, 1, 1)), (date(2024, 2, 8), date(2024, 2, 14)),
    (date(2024, 4, 18), date(2024, 4, 18)), (date(2024, 4, 29), date(2024, 5, 1)),
    (date(2024, 8, 30), date(2024, 9, 3)),
    (date(2025, 1, 1), date(2025, 1, 1)), (date(2025, 1, 27), date(2025, 1, 31)),
    (date(2025, 4, 7), date(2025, 4, 7)), (date(2025, 4, 30), date(2025, 5, 2)),
    (date(2025, 9, 1), date(2025, 9, 2)),
    (date(2026, 1, 1), date(2026, 1, 2)), (date(2026, 2, 16), date(2026, 2, 20)),
    (date(2026, 4, 27), date(2026, 4, 27)), (date(2026, 4, 30), date(2026, 5, 1)),
    (date(2026, 9, 1), date(2026, 9, 2)),
    (date(2027, 1, 1), date(2027, 1, 1)),
)  # fmt: skip
# Lunar new year's day: the weeks before it are the busiest of the year.
TET = (
    date(2022, 2, 1), date(2023, 1, 22), date(2024, 2, 10), date(2025, 1, 29),
    date(2026, 2, 17),
)  # fmt: skip
MONTH_FACTOR = (1.1, 0.85, 1.05, 1.0, 1.0, 1.0, 1.05, 1.05, 0.95, 1.0, 1.05, 1.15)
YEAR_FACTOR = {2022: 0.85, 2023: 0.95, 2024: 1.05, 2025: 1.15, 2026: 1.2}
# Non-working days: only online dossiers arrive, far fewer.
DAY_OFF_FACTOR = 0.12
# Fields whose demand follows the calendar: month → factor.
FIELD_SEASON = {
    "Giáo dục và Đào tạo": {6: 2.0, 7: 3.0, 8: 2.5},
    "Thi đua, khen thưởng": {12: 3.0, 1: 2.5},
    "Văn hóa cơ sở": {11: 1.5, 12: 2.5},
    "Đất đai": {12: 1.2, 1: 1.3},
}


class Calendar:
    """Working days (Monday to Friday, less the public holidays) from December
    2021 to the middle of 2027, and the demand of each day of 2022–2025
    (``days``, ``cumulative``) and of the running year up to
    CURRENT_YEAR_UNTIL (``current_days``, ``current_cumulative``)."""

    def __init__(self) -> None:
        first, last = date(2021, 12, 1), date(CURRENT_YEAR + 1, 6, 30)
        off = {
            start + timedelta(days=i)
            for start, end in HOLIDAYS
            for i in range((end - start).days + 1)
        }
        self.workdays: list[date] = []
        self.index: dict[date, int] = {}  # day → first working day on or after
        pending: list[date] = []
        day = first
        while day <= last:
            pending.append(day)
            if day.weekday() < 5 and day not in off:
                for waiting in pending:
                    self.index[waiting] = len(self.workdays)
                pending.clear()
                self.workdays.append(day)
            day += timedelta(days=1)
        self.working = frozenset(self.workdays)
        self.busy: set[date] = set()
        for tet in TET:
            # The ten working days before the holiday (which Tết falls in).
            eve = self.index[tet] - 1
            self.busy.update(self.workdays[eve - 9 : eve + 1])
        self.days, self.cumulative = self._demand(
            date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
        )
        self.current_days, self.current_cumulative = self._demand(
            date(CURRENT_YEAR, 1, 1), CURRENT_YEAR_UNTIL
        )

    def _demand(self, first: date, last: date) -> tuple[list[date], list[float]]:
        """Each day from ``first`` to ``last`` and the cumulative demand up to
        it, for bisect."""
        days: list[date] = []
        weights: list[float] = []
        day = first
        while day <= last:
            weight = MONTH_FACTOR[day.month - 1] * YEAR_FACTOR[day.year]
            if day not in self.working:
                weight *= DAY_OFF_FACTOR
            elif day in self.busy:
                weight *= 1.35
            days.append(day)
            weights.append(weight)
            day += timedelta(days=1)
        return days, list(accumulate(weights))

    def after(self, day: date, working_days: int) -> date:
        """The working day ``working_days`` after ``day`` (1: the next one)."""
        return self.workdays[self.index[day + timedelta(days=1)] + working_days - 1]


# --- The case records ---------------------------------------------------------------

ONLINE_TAKE_UP: dict[
    str, dict[int, float]
] = {  # share of dossiers sent online where the procedure allows
    FULL: {2022: 0.35, 2023: 0.5, 2024: 0.62, 2025: 0.72, 2026: 0.8},
    PART: {2022: 0.2, 2023: 0.3, 2024: 0.4, 2025: 0.5, 2026: 0.58},
}
FULLY_ONLINE_SHARE = {2022: 0.7, 2023: 0.75, 2024: 0.8, 2025: 0.85, 2026: 0.88}
DIGITISED = {2022: 0.3, 2023: 0.5, 2024: 0.7, 2025: 0.85, 2026: 0.92}
PAID_ONLINE = {  # share of fee-bearing dossiers paid online: sent online, or not
    True: {2022: 0.45, 2023: 0.6, 2024: 0.75, 2025: 0.85, 2026: 0.9},
    False: {2022: 0.03, 2023: 0.08, 2024: 0.15, 2025: 0.25, 2026: 0.32},
}
ONLINE_HOURS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 2.2, 2.2, 2.0,
    1.0, 1.6, 2.0, 2.0, 2.0, 1.4, 1.0, 1.0, 1.2, 1.2, 0.8, 0.4,
)  # fmt: skip
_HOUR_CUMULATIVE = list(accumulate(ONLINE_HOURS))
OFFICE_OPEN = (time(7, 30), time(13, 30))


@dataclass(frozen=True)
class _UnitPlan:
    unit: DemoUnit
    # per month of the year (0–11): the unit's procedures and their cumulative
    # demand, for bisect
    cumulative: tuple[list[float], ...]
    officer_factors: tuple[float, ...]


def _plan(unit: DemoUnit) -> _UnitPlan:
    cumulative = tuple(
        list(
            accumulate(
                p.weight * FIELD_SEASON.get(p.field, {}).get(month, 1.0)
                for p in unit.procedures
            )
        )
        for month in range(1, 13)
    )
    if unit.profile.late_officer:
        factors = (2.5,) + (0.7,) * (len(unit.officers) - 1)
    else:
        factors = tuple(
            0.7 + _digest(unit.code, name) % 61 / 100 for name in unit.officers
        )
    return _UnitPlan(unit, cumulative, factors)


def case_rows(size: int) -> Iterator[list[str]]:
    """``size`` case records of 2022–2025 in the interchange format's column
    order.

    One random stream, read case after case, from distributions that do not
    depend on ``size``: the first n cases are the same whatever size is asked.
    Plain Python, no database: the import engine may read it on its own
    thread."""
    calendar = Calendar()
    yield from _draw(
        random.Random(SEED),
        calendar,
        calendar.days,
        calendar.cumulative,
        demo_units(),
        size,
        DATA_END,
    )


def current_year_size(size: int) -> int:
    """How many records of the running year go with ``size`` records of
    2022–2025: as many as the same daily demand brings up to
    CURRENT_YEAR_UNTIL."""
    return _current_year_size(Calendar(), size)


def _current_year_size(calendar: Calendar, size: int) -> int:
    return round(size * calendar.current_cumulative[-1] / calendar.cumulative[-1])


def current_year_rows(size: int) -> Iterator[list[str]]:
    """The running year's records that go with ``size`` records of 2022–2025
    (current_year_size of them), received up to CURRENT_YEAR_UNTIL, in the
    interchange format's column order; a dossier that would finish later is
    still open. The units work as in 2022–2025, their trends carried on,
    except where CURRENT_YEAR_CHANGES says otherwise.

    A random stream of its own (the 2022–2025 records do not depend on it),
    from distributions that do not depend on ``size`` either: a larger demo
    extends a smaller one's running year too. Case codes carry the day of
    receipt, so they never meet a 2022–2025 code."""
    calendar = Calendar()
    units = [
        replace(unit, profile=CURRENT_YEAR_CHANGES.get(unit.code, unit.profile))
        for unit in demo_units()
    ]
    yield from _draw(
        random.Random(CURRENT_YEAR_SEED),
        calendar,
        calendar.current_days,
        calendar.current_cumulative,
        units,
        _current_year_size(calendar, size),
        CURRENT_DATA_END,
    )


def _draw(
    rng: random.Random,
    calendar: Calendar,
    days: list[date],
    day_cumulative: list[float],
    all_units: list[DemoUnit],
    count: int,
    data_end: datetime,
) -> Iterator[list[str]]:
    """``count`` records received on ``days`` (by their cumulative demand),
    read from ``rng`` case after case; ``data_end``: where the records end."""
    units = [u for u in all_units if u.procedures]
    plans = {u.code: _plan(u) for u in units}

    def choose_units(on: date) -> tuple[list[_UnitPlan], list[float]]:
        valid = [
            plans[u.code]
            for u in units
            if (u.valid_from is None or u.valid_from <= on)
            and (u.valid_to is None or on <= u.valid_to)
        ]
        return valid, list(accumulate(p.unit.size for p in valid))

    before = choose_units(org.MERGER_DATE - timedelta(days=1))
    after = choose_units(org.MERGER_DATE)
    total_demand = day_cumulative[-1]
    for index in range(count):
        day = days[bisect.bisect(day_cumulative, rng.random() * total_demand)]
        valid, unit_cumulative = before if day < org.MERGER_DATE else after
        plan = valid[bisect.bisect(unit_cumulative, rng.random() * unit_cumulative[-1])]
        month = plan.cumulative[day.month - 1]
        procedure = plan.unit.procedures[bisect.bisect(month, rng.random() * month[-1])]
        yield _case(rng, calendar, index, day, plan, procedure, data_end)


def _case(
    rng: random.Random,
    calendar: Calendar,
    index: int,
    day: date,
    plan: _UnitPlan,
    procedure: DemoProcedure,
    data_end: datetime,
) -> list[str]:
    unit, profile, year = plan.unit, plan.unit.profile, day.year
    random_ = rng.random

    # Channel and the moment of receipt.
    online = False
    if procedure.online_level != NONE:
        take_up = ONLINE_TAKE_UP[procedure.online_level][year] * profile.online
        online = day not in calendar.working or random_() < min(take_up, 0.97)
    if online:
        fully = procedure.online_level == FULL and (
            random_() < FULLY_ONLINE_SHARE[year]
        )
        channel = Channel.ONLINE_FULL if fully else Channel.ONLINE_PARTIAL
        hour = bisect.bisect(_HOUR_CUMULATIVE, random_() * _HOUR_CUMULATIVE[-1])
        received = datetime.combine(day, time(hour, rng.randrange(60)))
    else:
        if day not in calendar.working:
            day = calendar.workdays[calendar.index[day]]
        channel = Channel.POST if random_() < 0.03 else Channel.IN_PERSON
        opens = OFFICE_OPEN[0] if random_() < 0.6 else OFFICE_OPEN[1]
        received = datetime.combine(day, opens) + timedelta(minutes=rng.randrange(210))
    received += timedelta(seconds=rng.randrange(60))

    # Requests for more documents: the applicant's time is added to the due date.
    # Same-day procedures (a copy, a signature) rarely need more documents.
    supplements = 0
    draw = random_()
    asks = profile.supplements * (0.3 if procedure.days == 0 else 1.0)
    if draw < 0.006 * asks:
        supplements = 3 if random_() < 0.2 else 2
    elif draw < 0.07 * asks:
        supplements = 1
    waiting = sum(rng.randint(3, 10) for _ in range(supplements))

    # Due date: the same day (before 15:00, or the next morning), or n working
    # days counted from the next working day.
    if procedure.days == 0 and not waiting:
        if day in calendar.working and received.hour < 15:
            due = datetime.combine(day, time(17))
        else:
            due = datetime.combine(calendar.after(day, 1), time(11))
    else:
        due_day = calendar.after(day, max(procedure.days, 1) + waiting)
        due = datetime.combine(due_day, time(17))

    officer_number = rng.randrange(len(unit.officers))
    officer = unit.officers[officer_number]
    late_share = (
        profile.late
        * (1 + profile.trend) ** (year - FIRST_YEAR)
        * plan.officer_factors[officer_number]
        * (0.5 if procedure.days == 0 else 1.4 if procedure.days >= 15 else 1.0)
    )
    late = random_() < min(late_share, 0.6)

    # Outcome.
    outcome = random_()
    if outcome < 0.006:
        status = DossierStatus.WITHDRAWN
        finished: datetime | None = received + timedelta(hours=rng.uniform(2, 72))
        late = False
    else:
        status = DossierStatus.REJECTED if outcome < 0.018 else DossierStatus.RETURNED
        if status == DossierStatus.RETURNED and random_() < 0.12:
            status = DossierStatus.FINISHED  # resolved, result not yet collected
        if status == DossierStatus.REJECTED:
            late = False
        finished = _finish(rng, calendar, received, due, late, procedure.days)
        stuck = profile.stuck and day >= date(LAST_YEAR, 5, 1)
        if stuck and random_() < profile.stuck:
            finished = None
    if finished is not None and finished >= data_end:
        finished = None
    if finished is None and status != DossierStatus.WITHDRAWN:
        if supplements and random_() < 0.4:
            status = DossierStatus.WAITING
        elif received >= data_end - timedelta(days=2):
            status = DossierStatus.RECEIVED
        else:
            status = DossierStatus.PROCESSING

    digitised = random_() < min(
        DIGITISED[year] * profile.digitised + (0.1 if online else 0.0), 0.99
    )
    paid_online = procedure.fee_required and random_() < min(
        PAID_ONLINE[online][year] * profile.pay_online, 0.98
    )
    satisfaction = ""
    if random_() < (0.45 if online else 0.3):
        mood = random_()
        unhappy = 0.25 if late else 0.012 * profile.complaints
        if mood < unhappy:
            satisfaction = Satisfaction.DISSATISFIED.value
        elif mood < unhappy + 0.07:
            satisfaction = Satisfaction.NEUTRAL.value
        else:
            satisfaction = Satisfaction.SATISFIED.value
    complaint = random_() < 0.0015 * profile.complaints * (8 if late else 1)

    return [
        f"{unit.agency}-{received:%y%m%d}-{index + 1:06d}",
        procedure.code,
        unit.code,
        received.isoformat(sep=" "),
        due.isoformat(sep=" "),
        finished.isoformat(sep=" ") if finished else "",
        status.value,
        channel.value,
        "1" if digitised else "0",
        "1" if procedure.fee_required else "0",
        "1" if paid_online else "0",
        str(supplements),
        satisfaction,
        "1" if complaint else "0",
        officer,
    ]


def _finish(
    rng: random.Random,
    calendar: Calendar,
    received: datetime,
    due: datetime,
    late: bool,
    days: int,
) -> datetime:
    """When the dossier was resolved: after the due date by a few working days
    when late (long procedures by more), otherwise during office hours between
    receipt and the due date, more often towards its end."""
    start = calendar.index[received.date()]
    due_index = calendar.index[due.date()]
    if late:
        delay = 1 + int(rng.expovariate(1 / (2 + 0.3 * days)))
        on = calendar.workdays[min(due_index + delay, len(calendar.workdays) - 1)]
        return datetime.combine(on, time(8)) + timedelta(minutes=rng.randrange(510))
    span = due_index - start + 1
    on = calendar.workdays[start + min(int(span * rng.betavariate(2.2, 1.3)), span - 1)]
    finished = datetime.combine(on, time(8)) + timedelta(minutes=rng.randrange(525))
    if finished <= received:
        finished = received + timedelta(minutes=rng.randint(20, 120))
    if finished > due:
        finished = due - timedelta(minutes=rng.randint(5, 90))
        if finished <= received:
            finished = received + (due - received) / 2
    return finished.replace(microsecond=0)


# --- The seed_demo step -------------------------------------------------------------


def _figures(as_of: datetime) -> int:
    """The 766 figures of every demo unit: every period of 2022–2025, and the
    running year's periods up to the last import, as at its end (the quarter
    and the year so far); none for the months after it, which have no
    records."""
    unit_ids = list(
        Unit.objects.filter(code__in=[u.code for u in demo_units()]).values_list(
            "pk", flat=True
        )
    )
    written = metrics_recompute(
        unit_ids=unit_ids,
        periods=[ref for year in YEARS for ref in periods_of_year(year)],
        as_of=as_of,
    )
    imported = current_year_as_of()
    return written + metrics_recompute(
        unit_ids=unit_ids,
        periods=periods_between((CURRENT_YEAR, 1), imported),
        as_of=imported,
    )


def current_year_as_of() -> datetime:
    """The end of the last import's day, local time: the running year's
    figures are as at then, whatever day the demo is built on."""
    return datetime.combine(CURRENT_YEAR_UNTIL, time(23, 59, 59), tzinfo=LOCAL_TZ)


def build_cases(out: OutputWrapper) -> None:
    cases_load(size=settings.DEMO_CASES, out=out)


def cases_load(
    *, size: int, out: OutputWrapper | None = None, force: bool = False
) -> ImportRun | None:
    """Load ``size`` demo case records of 2022–2025 and the running year's
    that go with them (current_year_size) through the import engine, and
    compute the 766 figures of every demo unit for every period of 2022–2025
    and of the running year up to the last import.

    Skipped when the demo's cases are already there (a first ``size`` cases are
    the same whatever the size, so a larger load covers a smaller one): a
    second ``make run`` starts at once. ``force`` runs the import anyway, which
    then finds every row unchanged."""
    total = size + current_year_size(size)
    loaded = CaseRecord.objects.filter(
        last_import__source=ImportSource.COMMAND, last_import__file_name=RUN_NAME
    ).count()
    if loaded >= total and not force:
        if out:
            out.write(f"  case records: the demo's {loaded} are already loaded")
        if not UnitMetric.objects.exists():
            # The figures were dropped (a migration changed what they hold).
            written = _figures(timezone.now())
            if out:
                out.write(f"  {written} unit figures for {FIRST_YEAR}–{CURRENT_YEAR}")
        return None
    started = timezone.now()
    run = ImportRun.objects.create(
        source=ImportSource.COMMAND,
        file_name=RUN_NAME,
        status=ImportStatus.RUNNING,
        started_at=started,
    )
    positions = {column: i for i, column in enumerate(COLUMNS)}
    # A first load of 300,000 takes minutes: say how far it is. A terminal
    # gets one line rewritten in place; a log or a pipe (docker compose, CI)
    # a line at each tenth, so it is never silent for long.
    terminal = out is not None and out.isatty()
    reported = [0]

    def progress(rows: int) -> None:
        if out is None:
            return
        if terminal:
            out.write(f"  case records: {rows:,} of {total:,}…", ending="\r")
        elif rows * 10 // total > reported[0] * 10 // total:
            out.write(f"  case records: {rows:,} of {total:,}")
            reported[0] = rows

    result = import_rows(
        enumerate(chain(case_rows(size), current_year_rows(size)), start=2),
        positions,
        run=run,
        progress=progress,
        result=ImportResult(),
    )
    if result.rows_rejected:
        # The generator wrote a row the engine refuses: a bug here, not data.
        raise ValueError(f"demo case rows rejected: {result.errors[:5]}")
    run.status = ImportStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.rows_expected = run.rows_total = run.rows_done = result.rows_total
    run.rows_new = result.rows_new
    run.rows_updated = result.rows_updated
    run.rows_unchanged = result.rows_unchanged
    run.save()
    loaded_at = timezone.now()
    if out is not None:
        out.write(
            f"  case records: {total:,}; computing the unit figures…",
            ending="\r" if terminal else "\n",
        )
    written = _figures(loaded_at)
    if out:
        out.write(
            f"  case records: {result.rows_total} ({result.rows_new} new, "
            f"{result.rows_updated} updated, {result.rows_unchanged} unchanged; "
            f"{total - size} of them received in {CURRENT_YEAR} up to "
            f"{CURRENT_YEAR_UNTIL:%d/%m/%Y}) "
            f"in {(loaded_at - started).total_seconds():.1f} s; "
            f"{written} unit figures for {FIRST_YEAR}–{CURRENT_YEAR} in "
            f"{(timezone.now() - loaded_at).total_seconds():.1f} s"
        )
    return run
