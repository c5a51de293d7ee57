"""Each framework's catalogue of deductions and bonuses starts from the
default rules of DOMAIN.md section 6 (scoring.rules.DEFAULT_ADJUSTMENT_RULES)
and is copied with the framework into the next year."""

from __future__ import annotations

from scoring import rules
from scoring.models import AdjustmentRule, Framework

# The default catalogue's wording (seed 004, Cần Thơ).
DEFAULT_TITLES = {
    "harassment_complaint": "Có đơn thư phản ánh, tố cáo cán bộ, công chức của cơ "
    "quan, đơn vị nhũng nhiễu, gây phiền hà được xác minh là đúng (mỗi trường hợp)",
    "head_disciplined": "Người đứng đầu bị xử lý kỷ luật từ hình thức khiển trách "
    "trở lên",
    "deputy_disciplined": "Cấp phó của người đứng đầu bị xử lý kỷ luật từ hình "
    "thức khiển trách trở lên",
    "press_poor_management": "Báo chí phản ánh yếu kém trong quản lý, được xác "
    "minh là đúng (mỗi phản ánh)",
    "criterion_rank_improved": "Thứ hạng tiêu chí thuộc Chỉ số PAR INDEX, PCI do "
    "cơ quan, đơn vị phụ trách tăng so với năm trước (mỗi tiêu chí)",
    "communes_satisfaction_above_85": "Mức độ hài lòng của các xã, phường, thị "
    "trấn trên địa bàn đạt trên 85%",
    "late_submission": "Không hoàn thành tự đánh giá, chấm điểm đúng thời hạn "
    "(quá hạn, Sở Nội vụ khóa kỳ đánh giá)",
}


def defaults_create(framework: Framework) -> list[AdjustmentRule]:
    """A new framework's catalogue: the default rules that apply to its kind
    of unit, with their default points."""
    return AdjustmentRule.objects.bulk_create(
        AdjustmentRule(
            framework=framework,
            code=rule.code,
            title=DEFAULT_TITLES[rule.code],
            points_per_case=rule.points_per_case,
            cap=rule.cap,
            position=position,
        )
        for position, rule in enumerate(
            (
                r
                for r in rules.DEFAULT_ADJUSTMENT_RULES
                if r.applies_to(framework.unit_kind)
            ),
            start=1,
        )
    )


def copy_catalogue(source: Framework, target: Framework) -> None:
    AdjustmentRule.objects.bulk_create(
        AdjustmentRule(
            framework=target,
            code=rule.code,
            title=rule.title,
            points_per_case=rule.points_per_case,
            cap=rule.cap,
            position=rule.position,
        )
        for rule in source.adjustment_rules.all()
    )
