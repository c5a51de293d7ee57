"""Demo frameworks: the PAR index of the demo province (demo.organisation) for
its departments and for its communes, every year from 2022 to 2026.

They are shaped like the provincial indices of DOMAIN.md section 4: the
departments' has 8 fields, 80 points scored by the unit and appraised plus 20
from the survey, split like the 2017 province index; the communes' has 9
fields, 70 points plus 30 from the survey (Hà Tĩnh 2019). Some leaves are
computed from the dossier figures (on-time rate, online payment, satisfaction,
online rate, digitisation), some require evidence, every one has guidance.

2022 is built from the tables below; each later year is "copy last year's" of
the one before (its deadline moved to 7 January of the year after it), and
every year is opened, so that each department and commune valid at the end
of the year (or today, for 2026) has its assessment. Running the step again
changes nothing: a framework that exists is left as it is, a published one is
not even opened again.

The results built on them (demo.results, the next step of
seed_demo):

- 2022, 2023 and 2024 are published (version 1 each, by noivu.tinh, in March
  of the year after), their frameworks frozen: every assessment self-scored,
  appraised (sometimes lower than the self score, with a reason), given its
  survey points and approved; deductions and criterion-rank bonuses decided;
  ranks within each group, and from 2023 the change against last year's
  publication.
- 2025 is computed but provisional, for the units of 31/12/2025 (two
  tiers: the province's commune-level units in one group): every
  assessment is appraised and all but Phường Trần Nhân Tông's approved (it
  is listed, unranked, and holds the publication back); its criterion-rank
  bonuses and a harassment complaint against Phường Chí Linh await a
  decision. Each ward merged on 01/07/2025 (Phường Chí Linh from Sao Đỏ, Chí
  Minh and Thái Học, …) is compared with its predecessors.
- Sở Xây dựng slides to the bottom of the departments and stays there (late
  dossiers, press reports deducted, extensions to submit); Sở Tư pháp, Sở Kế
  hoạch và Đầu tư and Phường Phả Lại lead; Phường Hoàng Tiến slides with harassment
  complaints; Sở Tài nguyên và Môi trường loses a point for a disciplined
  deputy director; a complaint against Phường Cộng Hòa is rejected.
- Each year two units share a rank exactly (demo.results.TIES):
  Sở Công Thương and Sở Y tế in 2022, Phường Văn An and Phường Văn Đức in
  2023, Sở Tài chính and Sở Giao thông vận tải in 2024, Phường Chu Văn An
  and Phường Nguyễn Trãi in 2025.
- 2026, the cycle under way, stays open for the demo logins to fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import OutputWrapper
from django.utils import timezone

from commitments.organisation.models import UnitKind
from procedures.figures import Rate
from scoring.frameworks import services as frameworks
from scoring.frameworks.services import FrameworkData, NodeData, TierData
from scoring.models import Assessment, Framework, FrameworkState, Method

# The first year of the demo's index (its results: demo.results), and
# last year's cycle, appraised but not yet published.
FIRST_YEAR, OPEN_YEAR = 2022, 2025
# The cycle under way (self-assessments due on 7 January of the next year):
# the demo's logins can fill it in today.
CURRENT_YEAR = 2026
# Sở Nội vụ: the demo reviewer who builds the province's frameworks.
BUILDER = "noivu.tinh"

ON_TIME, ONLINE, ONLINE_FULL = Rate.ON_TIME, Rate.ONLINE, Rate.ONLINE_FULL
DIGITIZATION, PAYMENT, SATISFACTION = (
    Rate.DIGITIZATION,
    Rate.ONLINE_PAYMENT,
    Rate.SATISFACTION,
)


@dataclass(frozen=True)
class Item:
    code: str
    title: str
    points: str
    guidance: str = ""
    evidence: bool = False
    method: str = Method.MANUAL
    metric: str = ""
    scoring: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def linear(full_at: int) -> dict[str, Any]:
    return {"scoring": "linear", "params": {"full_at": full_at}}


def banded(*bands: tuple[int, float]) -> dict[str, Any]:
    return {"scoring": "banded", "params": {"bands": [list(b) for b in bands]}}


def metric(
    code: str, title: str, points: str, name: str, scoring: dict, guidance: str
) -> Item:
    return Item(
        code, title, points, guidance, method=Method.METRIC, metric=name, **scoring
    )


def survey(code: str, title: str, points: str) -> Item:
    return Item(
        code,
        title,
        points,
        "Điểm do Sở Nội vụ nhập theo kết quả điều tra xã hội học đo lường sự hài "
        "lòng của người dân, tổ chức; đơn vị không tự chấm.",
        method=Method.SURVEY,
    )


PLAN_ISSUED = (
    "Kế hoạch CCHC năm ban hành trước ngày 31/12 của năm trước năm đánh giá: "
    "điểm tối đa; ban hành trong tháng 01: một nửa số điểm; sau đó: 0 điểm.\n"
    "Tài liệu kiểm chứng: quyết định ban hành kế hoạch."
)
PLAN_DONE = (
    "Hoàn thành 100% nhiệm vụ của kế hoạch: điểm tối đa; từ 80% đến dưới 100%: "
    "một nửa số điểm; dưới 80%: 0 điểm.\n"
    "Tài liệu kiểm chứng: báo cáo kết quả thực hiện kế hoạch kèm danh mục nhiệm vụ."
)
REPORTS = (
    "Đủ các báo cáo quý I, 6 tháng, quý III và năm, đúng thời hạn: điểm tối đa; "
    "thiếu hoặc chậm một báo cáo: 0 điểm."
)
ON_TIME_GUIDE = (
    "Tính tự động từ dữ liệu Hệ thống thông tin giải quyết TTHC: 100% hồ sơ "
    "đúng hạn đạt điểm tối đa, dưới 100% tính theo tỷ lệ."
)
PAYMENT_GUIDE = (
    "Tỷ lệ hồ sơ có phí, lệ phí được thanh toán trực tuyến: từ 90% đạt điểm tối "
    "đa; từ 70%: một nửa; từ 50%: một phần tư; dưới 50%: 0 điểm."
)
SATISFACTION_GUIDE = (
    "Chỉ số 5.4 của Quyết định 766/QĐ-TTg: tỷ lệ từ 90% trở lên đạt điểm tối đa, "
    "dưới 90% tính theo tỷ lệ."
)
DIGITIZATION_GUIDE = (
    "Tỷ lệ hồ sơ được số hóa thành phần hồ sơ và kết quả giải quyết (Quyết định "
    "766/QĐ-TTg): từ 80% đạt điểm tối đa, dưới 80% tính theo tỷ lệ."
)
APOLOGY = (
    "100% hồ sơ quá hạn có văn bản xin lỗi gửi người dân, tổ chức, hẹn lại ngày "
    "trả kết quả: điểm tối đa; có hồ sơ quá hạn không xin lỗi: 0 điểm.\n"
    "Tài liệu kiểm chứng: danh sách hồ sơ quá hạn và phiếu xin lỗi."
)
# The usual wording where a province writes nothing more specific.
DEFAULT_GUIDANCE = (
    "Thực hiện đầy đủ, đúng quy định: điểm tối đa; thực hiện chưa đầy đủ: tối đa "
    "một nửa số điểm; không thực hiện: 0 điểm. Đơn vị giải trình kết quả và đính "
    "kèm tài liệu kiểm chứng (nếu có)."
)
DISCIPLINE = (
    "Không có cán bộ, công chức, viên chức bị kỷ luật từ khiển trách trở lên "
    "trong năm: điểm tối đa; có trường hợp bị kỷ luật: 0 điểm."
)

DEPARTMENT_ITEMS = [
    Item("1", "Công tác chỉ đạo, điều hành cải cách hành chính", "10"),
    Item("1.1", "Kế hoạch cải cách hành chính năm", "3"),
    Item("1.1.1", "Ban hành kế hoạch CCHC năm đúng thời hạn", "1", PLAN_ISSUED, True),
    Item("1.1.2", "Mức độ hoàn thành kế hoạch CCHC", "2", PLAN_DONE, True),
    Item(
        "1.2",
        "Thực hiện chế độ báo cáo CCHC định kỳ đầy đủ, đúng thời hạn",
        "1",
        REPORTS,
        True,
    ),
    Item(
        "1.3",
        "Kiểm tra công tác CCHC đối với các đơn vị trực thuộc",
        "2",
        "Có kế hoạch kiểm tra và kiểm tra ít nhất 30% đơn vị trực thuộc: 1 điểm; "
        "xử lý dứt điểm các tồn tại phát hiện qua kiểm tra: 1 điểm.",
        True,
    ),
    Item(
        "1.4",
        "Công tác thông tin, tuyên truyền về CCHC",
        "2",
        "Có kế hoạch tuyên truyền: 0,5 điểm; thực hiện đa dạng hình thức (cổng "
        "thông tin điện tử, hội nghị, cuộc thi): 1,5 điểm.",
    ),
    Item(
        "1.5",
        "Sáng kiến, giải pháp mới trong CCHC được công nhận và áp dụng",
        "2",
        "Có ít nhất một sáng kiến, giải pháp được cấp có thẩm quyền công nhận: "
        "2 điểm.\nTài liệu kiểm chứng: quyết định công nhận.",
        True,
    ),
    Item("2", "Xây dựng và tổ chức thực hiện văn bản quy phạm pháp luật", "8"),
    Item(
        "2.1",
        "Tham mưu xây dựng văn bản QPPL thuộc thẩm quyền của HĐND, UBND tỉnh",
        "3",
        "Hoàn thành 100% văn bản theo chương trình được giao, đúng quy trình: "
        "3 điểm; mỗi văn bản chậm hoặc sai quy trình trừ 0,5 điểm.",
    ),
    Item(
        "2.2",
        "Rà soát, hệ thống hóa văn bản QPPL thuộc lĩnh vực quản lý",
        "2",
        "Tài liệu kiểm chứng: quyết định công bố kết quả rà soát, hệ thống hóa.",
        True,
    ),
    Item("2.3", "Theo dõi tình hình thi hành pháp luật", "1.5"),
    Item(
        "2.4",
        "Xử lý văn bản trái pháp luật, không còn phù hợp sau rà soát",
        "1.5",
        "Xử lý hoặc kiến nghị xử lý 100% văn bản phát hiện qua rà soát: 1,5 điểm.",
    ),
    Item("3", "Cải cách thủ tục hành chính", "15"),
    Item(
        "3.1",
        "Công bố, công khai thủ tục hành chính",
        "2",
        "Tham mưu công bố danh mục TTHC đúng thời hạn và công khai đầy đủ trên "
        "Cổng Dịch vụ công và tại Bộ phận Một cửa: 2 điểm.",
        True,
    ),
    Item(
        "3.2",
        "Rà soát, đơn giản hóa thủ tục hành chính",
        "2",
        "Có kế hoạch rà soát và phương án đơn giản hóa được phê duyệt: 2 điểm.",
        True,
    ),
    Item("3.3", "Kết quả giải quyết thủ tục hành chính", "8"),
    metric(
        "3.3.1",
        "Tỷ lệ hồ sơ TTHC giải quyết đúng hạn",
        "4",
        ON_TIME,
        linear(100),
        ON_TIME_GUIDE,
    ),
    metric(
        "3.3.2",
        "Thanh toán trực tuyến phí, lệ phí",
        "2",
        PAYMENT,
        banded((90, 1), (70, 0.5), (50, 0.25)),
        PAYMENT_GUIDE,
    ),
    metric(
        "3.3.3",
        "Mức độ hài lòng trong giải quyết TTHC trên hệ thống một cửa điện tử",
        "2",
        SATISFACTION,
        linear(90),
        SATISFACTION_GUIDE,
    ),
    Item(
        "3.4",
        "Tiếp nhận, xử lý phản ánh, kiến nghị về quy định hành chính",
        "1.5",
        "Xử lý 100% phản ánh, kiến nghị đúng thời hạn: 1,5 điểm.",
    ),
    Item(
        "3.5",
        "Thực hiện xin lỗi người dân, tổ chức khi để hồ sơ quá hạn",
        "1.5",
        APOLOGY,
        True,
    ),
    Item("4", "Cải cách tổ chức bộ máy hành chính", "9"),
    Item(
        "4.1",
        "Sắp xếp, kiện toàn tổ chức bộ máy theo quy định",
        "3",
        "Tài liệu kiểm chứng: quyết định quy định chức năng, nhiệm vụ, cơ cấu tổ "
        "chức và các quyết định sắp xếp.",
        True,
    ),
    Item("4.2", "Thực hiện quy định về quản lý biên chế được giao", "3"),
    Item("4.3", "Thực hiện phân cấp, ủy quyền quản lý nhà nước", "3"),
    Item("5", "Xây dựng và nâng cao chất lượng đội ngũ công chức, viên chức", "13"),
    Item(
        "5.1",
        "Thực hiện vị trí việc làm và cơ cấu ngạch công chức",
        "3",
        "Tài liệu kiểm chứng: quyết định phê duyệt vị trí việc làm.",
        True,
    ),
    Item("5.2", "Tuyển dụng, bố trí, sử dụng công chức, viên chức đúng quy định", "3"),
    Item("5.3", "Đánh giá, xếp loại chất lượng công chức, viên chức", "2"),
    Item("5.4", "Đào tạo, bồi dưỡng công chức, viên chức", "2"),
    Item("5.5", "Chấp hành kỷ luật, kỷ cương hành chính", "3", DISCIPLINE),
    Item("6", "Cải cách tài chính công", "7"),
    Item("6.1", "Thực hiện dự toán ngân sách và giải ngân vốn đầu tư công", "2.5"),
    Item(
        "6.2",
        "Thực hiện cơ chế tự chủ tài chính tại đơn vị sự nghiệp công lập trực thuộc",
        "2.5",
        "Tài liệu kiểm chứng: quyết định giao quyền tự chủ tài chính.",
        True,
    ),
    Item(
        "6.3",
        "Quản lý, sử dụng tài sản công; thực hiện kiến nghị sau thanh tra, kiểm toán",
        "2",
    ),
    Item("7", "Xây dựng và phát triển Chính quyền điện tử, Chính quyền số", "18"),
    Item(
        "7.1",
        "Ứng dụng công nghệ thông tin trong quản lý, điều hành",
        "4",
        "100% văn bản (trừ văn bản mật) trao đổi dưới dạng điện tử, có chữ ký số: "
        "4 điểm; từ 90%: 2 điểm.",
    ),
    Item("7.2", "Cung cấp dịch vụ công trực tuyến", "6"),
    metric(
        "7.2.1",
        "Tỷ lệ hồ sơ trực tuyến",
        "3",
        ONLINE,
        linear(80),
        "Hồ sơ tiếp nhận trực tuyến (một phần và toàn trình) trên tổng số hồ sơ "
        "tiếp nhận: từ 80% đạt điểm tối đa, dưới 80% tính theo tỷ lệ.",
    ),
    metric(
        "7.2.2",
        "Tỷ lệ hồ sơ trực tuyến toàn trình",
        "3",
        ONLINE_FULL,
        banded((50, 1), (30, 0.5)),
        "Từ 50% hồ sơ trực tuyến toàn trình: 3 điểm; từ 30%: 1,5 điểm.",
    ),
    metric(
        "7.3",
        "Số hóa hồ sơ, kết quả giải quyết TTHC",
        "4",
        DIGITIZATION,
        linear(80),
        DIGITIZATION_GUIDE,
    ),
    Item(
        "7.4",
        "Duy trì, áp dụng Hệ thống quản lý chất lượng theo TCVN ISO 9001:2015",
        "2",
        "Tài liệu kiểm chứng: quyết định công bố hệ thống phù hợp tiêu chuẩn.",
        True,
    ),
    Item("7.5", "Bảo đảm an toàn thông tin mạng", "2"),
    Item("8", "Tác động của cải cách hành chính đến người dân, tổ chức", "20"),
    survey("8.1", "Mức độ hài lòng về tiếp cận dịch vụ", "5"),
    survey("8.2", "Mức độ hài lòng về thủ tục hành chính", "5"),
    survey("8.3", "Mức độ hài lòng về công chức trực tiếp giải quyết công việc", "5"),
    survey("8.4", "Mức độ hài lòng về kết quả giải quyết công việc", "5"),
]

COMMUNE_ITEMS = [
    Item("1", "Công tác chỉ đạo, điều hành cải cách hành chính", "8"),
    Item("1.1", "Ban hành kế hoạch CCHC năm", "2", PLAN_ISSUED, True),
    Item("1.2", "Mức độ hoàn thành kế hoạch CCHC", "2", PLAN_DONE, True),
    Item("1.3", "Thực hiện chế độ báo cáo CCHC định kỳ", "1", REPORTS),
    Item("1.4", "Công tác tuyên truyền CCHC", "1.5"),
    Item(
        "1.5",
        "Đối thoại của Chủ tịch UBND với người dân, tổ chức về CCHC",
        "1.5",
        "Tổ chức ít nhất một buổi đối thoại trong năm: 1,5 điểm.\n"
        "Tài liệu kiểm chứng: thông báo và biên bản đối thoại.",
        True,
    ),
    Item("2", "Xây dựng và tổ chức thực hiện văn bản quy phạm pháp luật", "5"),
    Item("2.1", "Ban hành văn bản QPPL đúng thẩm quyền, trình tự, thủ tục", "2"),
    Item("2.2", "Rà soát, tự kiểm tra văn bản QPPL do UBND ban hành", "1.5"),
    Item(
        "2.3",
        "Xây dựng xã, phường đạt chuẩn tiếp cận pháp luật",
        "1.5",
        "Được công nhận đạt chuẩn tiếp cận pháp luật trong năm: 1,5 điểm.",
        True,
    ),
    Item("3", "Cải cách thủ tục hành chính", "18"),
    Item(
        "3.1",
        "Công khai TTHC tại Bộ phận Một cửa và trên Cổng Dịch vụ công",
        "2",
        "Công khai đầy đủ, đúng quy định 100% TTHC thuộc thẩm quyền: 2 điểm.",
        True,
    ),
    Item("3.2", "Kết quả giải quyết thủ tục hành chính", "12"),
    metric(
        "3.2.1",
        "Tỷ lệ hồ sơ TTHC giải quyết đúng hạn",
        "6",
        ON_TIME,
        linear(100),
        ON_TIME_GUIDE,
    ),
    metric(
        "3.2.2",
        "Thanh toán trực tuyến",
        "3",
        PAYMENT,
        banded((90, 1), (70, 0.5), (50, 0.25)),
        PAYMENT_GUIDE,
    ),
    metric(
        "3.2.3",
        "Mức độ hài lòng trong giải quyết TTHC",
        "3",
        SATISFACTION,
        linear(90),
        SATISFACTION_GUIDE,
    ),
    Item("3.3", "Xin lỗi người dân, tổ chức khi để hồ sơ quá hạn", "2", APOLOGY, True),
    Item("3.4", "Tiếp nhận, xử lý phản ánh, kiến nghị của người dân, tổ chức", "2"),
    Item("4", "Cải cách tổ chức bộ máy hành chính", "5"),
    Item("4.1", "Thực hiện quy chế làm việc của UBND", "2"),
    Item("4.2", "Bố trí cán bộ, công chức đúng số lượng, chức danh được giao", "3"),
    Item("5", "Xây dựng đội ngũ cán bộ, công chức cấp xã", "9"),
    Item("5.1", "Cán bộ, công chức đạt chuẩn theo quy định", "2"),
    Item("5.2", "Đánh giá, xếp loại cán bộ, công chức", "2"),
    Item("5.3", "Đào tạo, bồi dưỡng cán bộ, công chức", "2"),
    Item("5.4", "Kỷ luật, kỷ cương hành chính", "3"),
    Item(
        "5.4.1",
        "Thực hiện văn hóa công sở",
        "1.5",
        "Thực hiện đúng quy định về trang phục, thẻ công chức, giờ làm việc: 1,5 điểm.",
    ),
    Item("5.4.2", "Không có cán bộ, công chức bị kỷ luật", "1.5", DISCIPLINE),
    Item("6", "Cải cách tài chính công", "5"),
    Item(
        "6.1",
        "Công khai dự toán, quyết toán ngân sách xã",
        "2",
        "Tài liệu kiểm chứng: quyết định công bố công khai và biên bản niêm yết.",
        True,
    ),
    Item("6.2", "Thực hiện quy chế chi tiêu nội bộ", "1.5"),
    Item("6.3", "Thực hiện kiến nghị sau thanh tra, kiểm toán", "1.5"),
    Item("7", "Xây dựng chính quyền điện tử, chính quyền số", "14"),
    metric(
        "7.1",
        "Tỷ lệ hồ sơ trực tuyến",
        "4",
        ONLINE,
        linear(50),
        "Hồ sơ tiếp nhận trực tuyến trên tổng số hồ sơ tiếp nhận: từ 50% đạt "
        "điểm tối đa, dưới 50% tính theo tỷ lệ.",
    ),
    metric(
        "7.2",
        "Số hóa hồ sơ, kết quả giải quyết TTHC",
        "4",
        DIGITIZATION,
        linear(80),
        DIGITIZATION_GUIDE,
    ),
    Item("7.3", "Trao đổi văn bản điện tử và sử dụng chữ ký số", "3"),
    Item("7.4", "Sử dụng hệ thống quản lý văn bản và điều hành", "3"),
    Item("8", "Thực hiện cơ chế một cửa, một cửa liên thông", "6"),
    Item(
        "8.1",
        "Bộ phận Một cửa được bố trí đúng quy định",
        "2",
        "Tài liệu kiểm chứng: quyết định thành lập, quy chế hoạt động.",
        True,
    ),
    Item("8.2", "Cập nhật đầy đủ hồ sơ lên Hệ thống thông tin giải quyết TTHC", "2"),
    Item(
        "8.3",
        "Thực hiện liên thông TTHC khai sinh, thường trú, cấp thẻ BHYT cho trẻ em "
        "dưới 6 tuổi",
        "2",
    ),
    Item("9", "Mức độ hài lòng của người dân, tổ chức", "30"),
    survey("9.1", "Mức độ hài lòng về tiếp cận dịch vụ", "8"),
    survey("9.2", "Mức độ hài lòng về thủ tục hành chính", "7"),
    survey("9.3", "Mức độ hài lòng về công chức giải quyết công việc", "8"),
    survey("9.4", "Mức độ hài lòng về kết quả giải quyết công việc", "7"),
]

FRAMEWORKS = {
    UnitKind.DEPARTMENT: (
        "Bộ chỉ số CCHC các sở, ban, ngành tỉnh Hải Dương năm {year}",
        DEPARTMENT_ITEMS,
    ),
    UnitKind.COMMUNE: (
        "Bộ chỉ số CCHC UBND xã, phường, thị trấn tỉnh Hải Dương năm {year}",
        COMMUNE_ITEMS,
    ),
}


def framework_data(kind: str, year: int) -> FrameworkData:
    name, items = FRAMEWORKS[UnitKind(kind)]
    parents = {frameworks.parent_code(item.code) for item in items}
    return FrameworkData(
        year=year,
        unit_kind=kind,
        name=name.format(year=year),
        deadline=date(year + 1, 1, 7),
        contest_days=10,
        reminder_days=[7, 2],
        tiers=[TierData(*tier) for tier in frameworks.DEFAULT_TIERS],
        nodes=[
            NodeData(
                code=item.code,
                title=item.title,
                max_points=Decimal(item.points),
                # Only leaves are scored.
                method=item.method if item.code not in parents else Method.MANUAL,
                metric=item.metric,
                scoring=item.scoring,
                scoring_params=item.params,
                evidence_required=item.evidence,
                guidance=item.guidance
                or (DEFAULT_GUIDANCE if item.code not in parents else ""),
            )
            for item in items
        ],
    )


def build_frameworks(out: OutputWrapper) -> None:
    """Every year's framework for departments and communes, 2022 to 2026:
    2022 from the tables above, each later year copied from the one before
    (its deadline moved a year), each opened for the units valid at the end
    of its year (or today). A published framework is left as it is."""
    builder = get_user_model().objects.get(username=BUILDER)
    today = timezone.localdate()
    for kind in FRAMEWORKS:
        previous: Framework | None = None
        for year in range(FIRST_YEAR, CURRENT_YEAR + 1):
            framework = Framework.objects.filter(year=year, unit_kind=kind).first()
            if framework is None:
                framework = (
                    frameworks.framework_load(
                        user=builder, data=framework_data(kind, year)
                    )
                    if previous is None
                    else frameworks.framework_copy(
                        user=builder, source=previous, year=year
                    )
                )
            if framework.state != FrameworkState.PUBLISHED:
                frameworks.framework_open(
                    user=builder, framework=framework, today=today
                )
            previous = framework
    states = ", ".join(
        f"{f.year} {f.unit_kind} {f.state}"
        for f in Framework.objects.order_by("year", "unit_kind")
    )
    counts = ", ".join(
        f"{Assessment.objects.filter(framework__year=year).count()} for {year}"
        for year in range(FIRST_YEAR, CURRENT_YEAR + 1)
    )
    out.write(f"  frameworks: {states}; assessments: {counts}")
