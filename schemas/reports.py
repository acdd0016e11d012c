"""Reports and registers (API.md, Reports and registers): the statutory statements of 财会〔2021〕37号,
the company's 利润分配方案 and 股东名册, the printable notice, and the registers by level.

Every amount is integer fen; a figure a form leaves blank is null. The same Structs feed the JSON,
the xlsx and the PDF (service/reports/renderers.py), so the three cannot disagree.
"""

from __future__ import annotations

import datetime as dt

import msgspec


class LedgerCheck(msgspec.Struct):
    """A figure of the report against the ledger's own sum for the same thing."""

    name: str
    report_fen: int
    ledger_fen: int
    agrees: bool


# ---- 会农社02表 -----------------------------------------------------------------------------------


class SurplusLine(msgspec.Struct):
    line_no: int
    item: str
    this_year_fen: int | None
    last_year_fen: int | None


class SurplusDistribution(msgspec.Struct):
    form: str
    title: str
    venture_id: str
    venture_name: str
    year: int
    lines: list[SurplusLine]
    income_lines_entered: bool
    last_year_income_lines_entered: bool
    notes: list[str]
    checks: list[LedgerCheck]
    unit: str = "元"


# ---- 会农社03表 -----------------------------------------------------------------------------------


class EquityColumn(msgspec.Struct):
    key: str
    name: str


class EquityRowOut(msgspec.Struct):
    label: str
    kind: str  # balance | total | detail
    amounts: dict[str, int | None]
    total_fen: int | None


class MemberEquity(msgspec.Struct):
    form: str
    title: str
    venture_id: str
    venture_name: str
    year: int
    columns: list[EquityColumn]
    rows: list[EquityRowOut]
    checks: list[LedgerCheck]
    unit: str = "元"


# ---- 成员账户 --------------------------------------------------------------------------------------


class AccountFigures(msgspec.Struct):
    capital_poverty_fen: int  # 出资额：来源于到户类扶贫项目资产
    capital_other_fen: int  # 出资额：其他来源
    reserve_share_fen: int  # 公积金份额
    subsidy_share_fen: int  # 财政补助形成财产量化份额
    donation_share_fen: int  # 捐赠形成财产量化份额


class TradeFigures(msgspec.Struct):
    product: str
    quantity_g: int  # 交易量
    amount_fen: int  # 交易额


class AccountBookRow(msgspec.Struct):
    date: dt.date
    summary: str
    capital_poverty_fen: int = 0
    capital_other_fen: int = 0
    reserve_share_fen: int = 0
    subsidy_share_fen: int = 0
    donation_share_fen: int = 0
    product: str | None = None
    quantity_g: int = 0
    amount_fen: int = 0
    patronage_fen: int = 0  # 盈余返还
    remaining_fen: int = 0  # 剩余盈余分配


class AccountClosing(msgspec.Struct):
    """The closing figures; capital_fen, reserve_share_fen, subsidy_share_fen and
    transaction_volume_fen are those GET /ventures/{id}/members/{m}/account answers."""

    capital_poverty_fen: int
    capital_other_fen: int
    reserve_share_fen: int
    subsidy_share_fen: int
    donation_share_fen: int
    capital_fen: int
    transaction_volume_fen: int
    trades: list[TradeFigures]
    patronage_fen: int
    remaining_fen: int


class AccountBook(msgspec.Struct):
    title: str
    venture_id: str
    venture_name: str
    member_id: str
    member_no: int
    member_name: str
    year: int
    products: list[str]
    opening: AccountFigures
    rows: list[AccountBookRow]
    closing: AccountClosing


class AccountBooks(msgspec.Struct):
    venture_id: str
    venture_name: str
    year: int
    items: list[AccountBook]


# ---- companies: 利润分配方案, 股东名册, 股权证 ----------------------------------------------------------


class PlanStep(msgspec.Struct):
    no: int
    item: str
    amount_fen: int
    note: str


class HolderLine(msgspec.Struct):
    basis: str
    basis_words: str
    weight: int
    amount_fen: int
    explanation: str


class HolderAmount(msgspec.Struct):
    member_id: str
    member_no: int
    name: str
    kind: str
    household_no: str | None
    lines: list[HolderLine]
    total_fen: int


class ProfitDistribution(msgspec.Struct):
    title: str
    venture_id: str
    venture_name: str
    model: str
    year: int
    distribution_id: str
    status: str
    status_words: str
    registered_capital_fen: int
    steps: list[PlanStep]
    holders: list[HolderAmount]
    lines_total_fen: int
    unit: str = "元"


class Shareholder(msgspec.Struct):
    member_id: str
    member_no: int
    name: str
    kind: str
    household_no: str | None
    id_number_masked: str | None
    share_class: str
    share_class_words: str
    shares: int
    capital_fen: int
    share_bp: int  # of all shares
    certificate_no: str


class ShareholderRegister(msgspec.Struct):
    title: str
    venture_id: str
    venture_name: str
    as_of: dt.date
    registered_capital_fen: int
    items: list[Shareholder]
    total_shares: int
    total_capital_fen: int


class ShareCertificate(msgspec.Struct):
    title: str
    certificate_no: str
    venture_id: str
    venture_name: str
    village_name: str
    holder: Shareholder
    as_of: dt.date
    registered_capital_fen: int


# ---- the printable notice ---------------------------------------------------------------------------


class NoticeSubject(msgspec.Struct):
    subject_id: str
    village_name: str
    name_masked: str
    id_number_masked: str
    amount_fen: int | None


class NoticePrint(msgspec.Struct):
    notice_id: str
    title: str
    kind: str
    kind_words: str
    source_name: str
    county_name: str
    starts_on: dt.date
    ends_on: dt.date
    subjects: list[NoticeSubject]
    total_fen: int
    how_to_object: str
    public_url: str
    objection_url: str
    issuer: str
    issued_on: dt.date


# ---- registers by level -----------------------------------------------------------------------------


class RegisterFigures(msgspec.Struct):
    households: int
    people: int
    ventures: int
    shares: int
    capital_fen: int
    income_by_kind: dict[str, int]
    owed_fen: int
    awards: int
    awards_fen: int
    paid_fen: int
    in_batch_fen: int
    unpaid_fen: int
    failed_fen: int


class RegisterRow(msgspec.Struct):
    code: str  # the household's number, or the village's or township's code
    name: str  # the head of household, or the region's name
    figures: RegisterFigures
    household_id: str | None = None
    id_number_masked: str | None = None
    status: str | None = None


class LevelBudget(msgspec.Struct):
    level: str
    level_words: str
    budget_fen: int
    committed_fen: int


class ProgramBudget(msgspec.Struct):
    program_id: str
    name: str
    kind: str
    budget_fen: int
    committed_fen: int
    by_level: list[LevelBudget]


class IncomeBinOut(msgspec.Struct):
    label: str
    low_fen: int
    high_fen: int | None
    against_lines: str
    recorded_households: int
    declared_households: int


class Register(msgspec.Struct):
    """村有册 (a village: one row per household), 乡镇有簿 (a township: per village) or 县有档
    (a county: per township), for one year."""

    title: str
    region_code: str
    region_name: str
    level: str
    year: int
    row_kind: str  # household | village | township
    rows: list[RegisterRow]
    total: RegisterFigures
    checks: list[LedgerCheck]
    agrees_with_ledger: bool


class YearReport(msgspec.Struct):
    """The county's year report (县有档): its register by township, the award budgets committed by
    level, payments by status, and households' income per person against the lines."""

    title: str
    register: Register
    programs: list[ProgramBudget]
    poverty_line_fen: int | None
    xiaokang_line_fen: int | None
    income_bins: list[IncomeBinOut]
    charts: list[str]


# ---- 户有卡 -------------------------------------------------------------------------------------------


class CardHolding(msgspec.Struct):
    venture_id: str
    venture_name: str
    share_class: str
    share_class_words: str
    shares: int
    capital_fen: int
    certificate_no: str | None


class CardLine(msgspec.Struct):
    payable_id: str
    source_type: str
    source_name: str
    kind: str
    income_kind: str
    amount_fen: int
    explanation: str
    payment_status: str
    payment_words: str
    paid_on: dt.date | None
    batch_id: str | None
    failure_reason: str | None


class CardAward(msgspec.Struct):
    kind: str
    program_name: str
    serial: str
    amount_fen: int
    granted_on: dt.date


class CardYear(msgspec.Struct):
    year: int
    holdings: list[CardHolding]
    lines: list[CardLine]
    awards: list[CardAward]
    income_by_kind: dict[str, int]
    total_fen: int
    paid_fen: int
    in_batch_fen: int
    unpaid_fen: int
    failed_fen: int
    income_per_person_fen: int


class HouseholdCard(msgspec.Struct):
    title: str
    household_id: str
    household_no: str
    head_name: str
    id_number_masked: str
    village_name: str
    township_name: str
    people: int
    status: str
    years: list[CardYear]
