"""The cross-check list's sheet (比对名单): its columns as people title them, and the names they
give the lists (车辆, 工商/市场主体, 财政供养) as well as the API's."""

from __future__ import annotations

from service.core.identity import example_id_number
from service.core.tabular import Column, SheetSpec

SOURCE_WORDS = {
    "车辆": "vehicle",
    "车辆登记": "vehicle",
    "机动车": "vehicle",
    "机动车登记": "vehicle",
    "工商": "business",
    "工商登记": "business",
    "市场主体": "business",
    "工商/市场主体": "business",
    "市场主体登记": "business",
    "财政供养": "payroll",
    "财政供养人员": "payroll",
    "公职人员": "payroll",
    "vehicle": "vehicle",
    "business": "business",
    "business_registration": "business",
    "payroll": "payroll",
    "public_payroll": "payroll",
}

CROSS_CHECK_SHEET = SheetSpec(
    kind="cross_check",
    title="比对名单",
    columns=(
        Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), "identity", example=example_id_number()),
        Column(
            "source",
            ("来源", "名单类别", "比对类别", "类别", "名单"),
            "choice",
            example="车辆",
            aliases=SOURCE_WORDS,
            note="车辆、工商/市场主体 或 财政供养（也可写 vehicle、business、payroll）",
        ),
    ),
)
