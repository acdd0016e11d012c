"""Navigation, per role, named as the people who use it say things (经营主体, 股权登记, 成员账户,
交易记录, 年度分配, 订单收购, 账簿 …). A role sees only what it may reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.core.principal import Principal, Role


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str


HOME = NavItem("home", "工作台", "/console/")
VENTURES = NavItem("ventures", "经营主体", "/console/ventures")
APPROVALS = NavItem("approvals", "年度分配审批", "/console/approvals")
COUNTY_BOOKS = NavItem("books", "县级账簿", "/console/ledger")
REVIEWS = NavItem("reviews", "奖励审核", "/console/reviews")
NOTICES = NavItem("notices", "公示", "/console/notices")
AUDIT = NavItem("audit", "审计日志", "/console/audit")
VERIFY = NavItem("verify", "账簿核验", "/console/verify")
REPORTS = NavItem("reports", "报表", "/console/reports")
AWARDS = NavItem("awards", "奖励项目", "/console/award-programs")
PAYABLES = NavItem("payables", "应付款", "/console/payables")
BATCHES = NavItem("batches", "代发批次", "/console/payment-batches")
RECONCILIATION = NavItem("reconciliation", "对账", "/console/reconciliation")
HOUSEHOLDS = NavItem("households", "农户档案", "/console/households")
FINANCE = (AWARDS, PAYABLES, BATCHES, RECONCILIATION, HOUSEHOLDS)

# The main menu of each role, its own work first.
_MAIN: dict[str, tuple[NavItem, ...]] = {
    Role.ACCOUNTANT: (HOME, VENTURES),
    Role.VILLAGE_REVIEWER: (HOME, REVIEWS, NOTICES, VENTURES, REPORTS),
    Role.TOWNSHIP_APPROVER: (HOME, REVIEWS, APPROVALS, NOTICES, VENTURES, REPORTS),
    Role.FINANCE_OFFICER: (HOME, *FINANCE, NOTICES, VENTURES, COUNTY_BOOKS, REPORTS),
    Role.FINANCE_APPROVER: (HOME, *FINANCE, NOTICES, VENTURES, COUNTY_BOOKS, REPORTS),
    Role.AUDITOR: (HOME, AUDIT, VERIFY, REPORTS, NOTICES, VENTURES, COUNTY_BOOKS),
    Role.ADMIN: (HOME, VENTURES, APPROVALS, *FINANCE, NOTICES, COUNTY_BOOKS, AUDIT, VERIFY),
}

# Those who keep the registry (village and township) reach the households of their region too:
# they record status events, import the household sheet and correct a card for a re-issue.
for _keeper in (Role.VILLAGE_REVIEWER, Role.TOWNSHIP_APPROVER):
    _MAIN[_keeper] = (*_MAIN[_keeper], HOUSEHOLDS)

BUYING_MODELS = ("enterprise", "branch_company")


def main_nav(principal: Principal) -> list[NavItem]:
    return list(_MAIN.get(principal.role, (HOME,)))


def venture_nav(venture: Any) -> list[NavItem]:
    """The pages of one venture: a cooperative keeps member accounts and subsidies, a company or
    enterprise buys its households' harvest (订单收购)."""
    base = f"/console/ventures/{venture.id}"
    items = [
        NavItem("overview", "概况", base),
        NavItem("members", "成员", f"{base}/members"),
        NavItem("register", "股权登记", f"{base}/register"),
        NavItem("movements", "股权变动", f"{base}/movements"),
    ]
    if venture.model == "cooperative":
        items += [
            NavItem("accounts", "成员账户", f"{base}/accounts"),
            NavItem("subsidies", "财政补助", f"{base}/subsidies"),
        ]
    items += [
        NavItem("trades", "交易记录", f"{base}/trades"),
        NavItem("distributions", "年度分配", f"{base}/distributions"),
    ]
    if venture.model in BUYING_MODELS:
        items.append(NavItem("farming", "订单收购", f"{base}/contracts"))
    items += [
        NavItem("ledger", "科目余额表", f"{base}/ledger"),
        NavItem("journal", "凭证", f"{base}/journal"),
    ]
    return items
