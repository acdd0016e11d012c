"""Charts of accounts: the codes an accountant expects to read.

Cooperatives follow 农民专业合作社会计制度 (财会〔2021〕37号); companies the enterprise chart.
Codes that are the service's own (bank, funding by budget level) are named here too.
"""

from __future__ import annotations

COOPERATIVE = {
    "102": "银行存款",
    "114": "成员往来",
    "211": "应付款",
    "221": "应付盈余返还",
    "222": "应付剩余盈余",
    "301": "股金",
    "311": "专项基金",
    "322": "盈余公积",
    "331": "本年盈余",
    "332": "盈余分配",
    "524": "财务费用",
}

COMPANY = {
    "1002": "银行存款",
    "1221": "其他应收款",
    "1403": "原材料",
    "2202": "应付账款",
    "2231": "应付利息",
    "2232": "应付股利",
    "4001": "实收资本",
    "4101": "盈余公积",
    "4103": "本年利润",
    "4104": "利润分配",
    "6603": "财务费用",
}

# Accounts of award programmes and of the county treasury.
PUBLIC_FUNDS = {
    "funding.province": "省级奖补资金",
    "funding.city": "市级奖补资金",
    "funding.county": "县级奖补资金",
    "award_payable": "应付奖励款",
    "treasury": "县财政专户",
}

BANK_CODE = {"cooperative": "102", "branch_company": "1002", "enterprise": "1002"}
CAPITAL_CODE = {"cooperative": "301", "branch_company": "4001", "enterprise": "4001"}


def chart_for(model: str) -> dict[str, str]:
    return COOPERATIVE if model == "cooperative" else COMPANY


def account_name(model_or_kind: str, code: str) -> str:
    for chart in (chart_for(model_or_kind), PUBLIC_FUNDS):
        if code in chart:
            return chart[code]
    raise KeyError(f"no account {code} in the chart of {model_or_kind}")
