"""Who a user may be: a role's region scope is a region of the role's own level (API.md, Auth)."""

from __future__ import annotations

from service.core.errors import invalid_field
from service.core.principal import REGION_SCOPED_ROLES, region_prefix

# Scopes are those of API.md: a reviewer a village, an approver a township, finance and auditors
# a county — a finance officer scoped below a county would otherwise reach the county's money.
ROLE_REGION_LEVEL = {
    "village_reviewer": "village",
    "township_approver": "township",
    "finance_officer": "county",
    "finance_approver": "county",
    "auditor": "county",
}
REGION_PREFIX_LENGTH = {"county": 6, "township": 9, "village": 12}
REGION_LEVEL_WORDS = {"county": "县", "township": "乡镇", "village": "村"}


def check_role_region(role: str, region_code: str | None) -> None:
    """A region-scoped role names its region, and the region is of the role's level."""
    if role in REGION_SCOPED_ROLES and not region_code:
        raise invalid_field("region_code", f"角色 {role} 必须指定管辖区域")
    level = ROLE_REGION_LEVEL.get(role)
    if level and region_code and len(region_prefix(region_code)) != REGION_PREFIX_LENGTH[level]:
        raise invalid_field("region_code", f"角色 {role} 的管辖区域应为{REGION_LEVEL_WORDS[level]}级区域代码")
