"""The words the console shows for the service's keys, as accountants and officials say them."""

from __future__ import annotations

ROLE_WORDS = {
    "admin": "系统管理员",
    "accountant": "会计",
    "village_reviewer": "村级审核",
    "township_approver": "乡镇审批",
    "finance_officer": "县财政经办",
    "finance_approver": "县财政审批",
    "auditor": "审计",
}

MODEL_WORDS = {
    "cooperative": "农民专业合作社",
    "branch_company": "支部控股公司",
    "enterprise": "企业",
}

PLAN_STATUS_WORDS = {
    "draft": "草稿",
    "submitted": "待乡镇审批",
    "in_notice": "公示中",
    "posted": "已入账",
    "reversed": "已冲销",
}

BASIS_WORDS = {
    "patronage": "按交易量返还",
    "capital": "按成员账户分配",
    "shares": "按股分红",
    "floor": "保底收益",
    "arrears": "补付以前年度保底",
}

MOVEMENT_WORDS = {"subscribe": "认购入股", "allocate": "配股", "transfer": "转让", "redeem": "退股"}
CLASS_WORDS = {"ordinary": "普通股", "poverty": "贫困户股"}
MEMBER_KIND_WORDS = {"collective": "村集体", "household": "农户", "person": "个人", "organization": "单位"}
FLOOR_WORDS = {
    "none": "不设保底",
    "fixed": "固定收益（资产收益扶贫，无论盈亏每年照付，计入财务费用）",
    "preferred": "优先分配（先从可分配利润中支付，不足部分结转以后年度补付）",
    "minimum": "保底分红（按股分得不足保底的，补足到保底，差额由其余股份按股分担）",
}
WEIGHTING_WORDS = {
    "record_date": "按股权登记日的持股计算",
    "share_days": "按全年持股天数计算（股数 × 持有天数）",
}
SETTLEMENT_STATUS_WORDS = {"settled": "已结算", "reversed": "已冲销"}
SOURCE_WORDS = {
    "distribution": "收益分配",
    "settlement": "收购结算",
    "award": "奖励",
    "batch": "发放批次",
    "bank_return": "银行回盘",
    "share_capital": "股金",
    "subsidy": "财政补助",
    "manual": "手工",
    "reversal": "冲销",
    "advance": "赊销农资",
}

# What a field of a form is called next to it, when a workflow names it in an error.
FIELD_WORDS = {
    "name": "名称",
    "model": "类型",
    "village_code": "所在村",
    "registered_capital_fen": "注册资本",
    "record_date_mmdd": "股权登记日",
    "kind": "类别",
    "household_id": "农户",
    "household_no": "户号",
    "member_id": "成员",
    "member_no": "成员编号",
    "from_member_id": "转出成员",
    "to_member_id": "转入成员",
    "share_class": "股份类别",
    "shares": "股数",
    "capital_fen": "股金",
    "effective_date": "生效日期",
    "amount_fen": "金额",
    "source": "来源",
    "received_on": "收到日期",
    "traded_on": "交易日期",
    "product": "品名",
    "quantity_g": "数量",
    "fiscal_year": "年度",
    "profit_fen": "税后利润（本年盈余）",
    "reason": "理由",
    "file": "文件",
    "crop": "作物",
    "season_year": "产季年度",
    "contracted_g": "合同数量",
    "floor_price_fen_per_kg": "保护价",
    "premium_bp": "溢价比例",
    "given_on": "赊销日期",
    "item": "农资名称",
    "bought_on": "收购日期",
    "grade": "等级",
    "weight_g": "重量",
    "market_price_fen_per_kg": "市场价",
    "contract_id": "合同",
    "notice_days": "公示天数",
}
