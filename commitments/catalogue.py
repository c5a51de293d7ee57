"""The indicator catalogue and the commitment templates every portal starts
with (seeds 000 and 001): departments and communes commit to different
digitisation targets. Written by migration 0006 and, idempotently, by
``ensure`` (the demo calls it: a test database emptied by a flush loses what
migrations wrote)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# code, name, kind, metric
INDICATORS = [
    (
        "dung-han",
        "Hồ sơ TTHC giải quyết, trả kết quả đúng hẹn",
        "metric",
        "on_time_rate",
    ),
    (
        "truc-tuyen",
        "Hồ sơ TTHC tiếp nhận, giải quyết trực tuyến (mức độ 3, 4)",
        "metric",
        "online_rate",
    ),
    (
        "so-hoa",
        "Hồ sơ TTHC được số hóa thành phần hồ sơ, kết quả giải quyết",
        "metric",
        "digitization_rate",
    ),
    (
        "thanh-toan",
        "Hồ sơ có phí, lệ phí được thanh toán trực tuyến",
        "metric",
        "online_payment_rate",
    ),
    (
        "hai-long",
        "Mức độ hài lòng của người dân, tổ chức, doanh nghiệp",
        "metric",
        "satisfaction_rate",
    ),
    (
        "van-ban-dien-tu",
        "Văn bản giữa các cơ quan hành chính trao đổi dưới dạng điện tử",
        "manual",
        "",
    ),
    (
        "nhiem-vu",
        "Nhiệm vụ được UBND, Chủ tịch UBND cấp trên giao hoàn thành đúng tiến độ",
        "manual",
        "",
    ),
    (
        "niem-yet",
        "TTHC được rà soát, cập nhật, niêm yết công khai đầy đủ, kịp thời",
        "manual",
        "",
    ),
]

# indicator code -> (value, due month) per kind; every target ≥ and mandatory.
DEPARTMENT: dict[str, tuple[str, int | None]] = {
    "dung-han": ("100", None),
    "truc-tuyen": ("100", None),
    "so-hoa": ("100", None),
    "thanh-toan": ("90", None),
    "hai-long": ("95", None),
    "van-ban-dien-tu": ("95", None),
    "nhiem-vu": ("100", None),
    "niem-yet": ("100", None),
}
COMMUNE: dict[str, tuple[str, int | None]] = {**DEPARTMENT, "so-hoa": ("50", 10)}
TEMPLATES: list[tuple[str, str, dict[str, tuple[str, int | None]]]] = [
    ("Cam kết của sở, ban, ngành", "department", DEPARTMENT),
    ("Cam kết của UBND cấp huyện", "district", DEPARTMENT),
    ("Cam kết của phòng chuyên môn", "office", DEPARTMENT),
    ("Cam kết của UBND cấp xã", "commune", COMMUNE),
    # Branches (the land-registry office's) handle dossiers like an office.
    ("Cam kết của chi nhánh, đơn vị trực thuộc", "branch", DEPARTMENT),
]


def ensure(registry: Any = None) -> None:
    """Create what is missing of the catalogue and the templates.
    ``registry``: a migration's apps (its historical models), else the
    installed ones."""
    if registry is None:
        from django.apps import apps as registry
    Indicator = registry.get_model("commitments", "Indicator")
    CommitmentTemplate = registry.get_model("commitments", "CommitmentTemplate")
    TemplateTarget = registry.get_model("commitments", "TemplateTarget")
    by_code = {}
    for position, (code, name, kind, metric) in enumerate(INDICATORS, start=1):
        by_code[code], _ = Indicator.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "metric": metric,
                "position": position,
            },
        )
    for name, kind, targets in TEMPLATES:
        template, created = CommitmentTemplate.objects.get_or_create(
            unit_kind=kind, name=name
        )
        if not created:
            continue
        for position, (code, (value, month)) in enumerate(targets.items(), start=1):
            TemplateTarget.objects.create(
                template=template,
                indicator=by_code[code],
                comparison="gte",
                value=Decimal(value),
                due_month=month,
                mandatory=True,
                position=position,
            )
