"""The statutory statements and registers as pure functions on figures the books already hold.

Nothing here reads a database: the workflow gathers the ledger's and the register's figures and
these functions lay them out as the forms people file, so no figure is typed twice.

Cooperatives (农民专业合作社会计制度, 财会〔2021〕37号):
- 盈余及盈余分配表 (会农社02表), lines 1–20 (surplus_table). Lines 1–11 are the income-statement
  figures the accountant enters with the year's profit; line 12 (本年盈余) is computed from them
  and must equal the plan's profit_fen. Lines 13–20 come from the year's posted distribution:
  13 年初未分配盈余 is last year's 20, 15 提取盈余公积 the reserve fund, 17 盈余返还 the patronage
  refunds (221), 18 剩余盈余分配 the rest distributed (222), and
      16 可分配盈余 = 12 + 13 + 14 − 15        20 年末未分配盈余 = 16 − 17 − 18 − 19.
  14 其他转入 and 19 转为股金 are movements the service does not make, so they are 0.
- 成员权益变动表 (会农社03表, equity_rows): opening balance, the year's increases (with 其中
  lines), decreases and closing balance by 股金, 专项基金, 资本公积, 盈余公积, 未分配盈余 and 合计.
- 成员账户 (art. 43, account_book): a member's dated rows, opening and closing figures.

Companies: the 利润分配方案 (profit_steps) for the shareholders' meeting.

Registers by level (户有卡、村有册、乡镇有簿、县有档): register_rows sums household figures into
rows of households, villages or townships; income_bins places households' income per person
against the poverty and 小康 lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from service.core.errors import invalid_field
from service.core.money import BP_WHOLE, format_bp, format_yuan, round_half_up_div
from service.statements.rules import INCOME_KIND_ORDER, INCOME_KINDS, counted, line_kind

# ---- 会农社02表 盈余及盈余分配表 -------------------------------------------------------------------

SURPLUS_FORM = "会农社02表"
SURPLUS_TITLE = "盈余及盈余分配表"
SURPLUS_ITEMS: tuple[tuple[int, str], ...] = (
    (1, "一、经营收入"),
    (2, "加：投资收益"),
    (3, "减：经营支出"),
    (4, "税金及附加"),
    (5, "管理费用"),
    (6, "财务费用"),
    (7, "二、经营收益"),
    (8, "加：其他收入"),
    (9, "减：其他支出"),
    (10, "三、盈余总额"),
    (11, "减：所得税费用"),
    (12, "四、本年盈余"),
    (13, "加：年初未分配盈余"),
    (14, "其他转入"),
    (15, "减：提取盈余公积"),
    (16, "五、可分配盈余"),
    (17, "减：盈余返还"),
    (18, "剩余盈余分配"),
    (19, "转为股金"),
    (20, "六、年末未分配盈余"),
)
INCOME_LINES_MISSING = "本年度入账时未录入收入费用明细，第1至11行无数据；第12行本年盈余取自入账的分配方案。"
NOT_POSTED = "该年度没有已入账的分配方案，只列示结转的未分配盈余。"


@dataclass(frozen=True)
class IncomeFigures:
    """The income-statement figures entered with a year's profit (lines 1–6, 8, 9 and 11)."""

    operating_income_fen: int
    investment_income_fen: int
    operating_expense_fen: int
    taxes_fen: int
    admin_expense_fen: int
    finance_expense_fen: int
    other_income_fen: int
    other_expense_fen: int
    income_tax_fen: int


def income_lines(f: IncomeFigures) -> dict[int, int]:
    """Lines 1–12 of 会农社02表 from the entered figures, the subtotals 7, 10 and 12 computed."""
    line7 = (
        f.operating_income_fen
        + f.investment_income_fen
        - f.operating_expense_fen
        - f.taxes_fen
        - f.admin_expense_fen
        - f.finance_expense_fen
    )
    line10 = line7 + f.other_income_fen - f.other_expense_fen
    return {
        1: f.operating_income_fen,
        2: f.investment_income_fen,
        3: f.operating_expense_fen,
        4: f.taxes_fen,
        5: f.admin_expense_fen,
        6: f.finance_expense_fen,
        7: line7,
        8: f.other_income_fen,
        9: f.other_expense_fen,
        10: line10,
        11: f.income_tax_fen,
        12: line10 - f.income_tax_fen,
    }


def check_income_statement(figures: IncomeFigures, profit_fen: int) -> None:
    """Line 12 the figures yield must be the profit posted; else a 422 naming income_statement."""
    net = income_lines(figures)[12]
    if net != profit_fen:
        raise invalid_field(
            "income_statement",
            f"按所填收入费用计算的第12行本年盈余为 {format_yuan(net)} 元，"
            f"与本年利润（盈余）profit_fen {format_yuan(profit_fen)} 元不符",
        )


@dataclass(frozen=True)
class YearSurplus:
    """What a year's posted distribution entry wrote, read from its journal lines (fen)."""

    profit_fen: int  # 331 本年盈余 closed to 332 (a loss is negative)
    reserve_fen: int  # credited to 322 盈余公积
    patronage_fen: int  # credited to 221 应付盈余返还
    remaining_fen: int  # credited to 222 应付剩余盈余


def surplus_table(income: IncomeFigures | None, books: YearSurplus | None, opening_fen: int) -> dict[int, int | None]:
    """One column of 会农社02表. opening_fen is last year's line 20; without a posted year only
    13, 16 and 20 (the balance carried) have figures, and lines 1–11 need the entered figures."""
    lines: dict[int, int | None] = dict.fromkeys(range(1, 21))
    if income is not None:
        lines.update(income_lines(income))
    lines[13] = opening_fen
    if books is None:
        lines[16] = lines[20] = opening_fen
        lines[12] = None
        return lines
    if income is not None and lines[12] != books.profit_fen:
        raise ValueError("the entered income statement does not yield the posted profit")
    lines[12] = books.profit_fen
    lines[14], lines[19] = 0, 0
    lines[15], lines[17], lines[18] = books.reserve_fen, books.patronage_fen, books.remaining_fen
    distributable = books.profit_fen + opening_fen - books.reserve_fen
    lines[16] = distributable
    lines[20] = distributable - books.patronage_fen - books.remaining_fen
    return lines


# ---- 会农社03表 成员权益变动表 -------------------------------------------------------------------

EQUITY_FORM = "会农社03表"
EQUITY_TITLE = "成员权益变动表"
EQUITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("share_capital", "股金"),
    ("special_fund", "专项基金"),
    ("capital_reserve", "资本公积"),
    ("surplus_reserve", "盈余公积"),
    ("undistributed", "未分配盈余"),
)


@dataclass(frozen=True)
class EquityYear:
    """A cooperative's equity movements of one year, from the ledger (fen).

    Balances are credit balances read as positive; capital and subsidies count by the day they
    were posted, the distribution by its fiscal year (its entry is posted after the year ends)."""

    opening: Mapping[str, int]  # column → balance at the start of the year
    capital_in_fen: int = 0  # 301 credited: members' contributions
    capital_out_fen: int = 0  # 301 debited: shares redeemed
    subsidy_fen: int = 0  # 311 credited: state subsidies received
    donation_fen: int = 0  # 311 credited: donations (the service records none apart yet)
    reserve_fen: int = 0  # 322 credited from the year's surplus (line 15)
    profit_fen: int = 0  # the year's surplus (line 12; a loss is negative)
    patronage_fen: int = 0  # line 17
    remaining_fen: int = 0  # line 18


@dataclass(frozen=True)
class EquityRow:
    label: str
    kind: str  # balance | total | detail
    amounts: dict[str, int | None]
    total_fen: int | None


def _row(label: str, kind: str, amounts: Mapping[str, int | None]) -> EquityRow:
    full: dict[str, int | None] = {key: amounts.get(key) for key, _ in EQUITY_COLUMNS}
    figures = [v for v in full.values() if v is not None]
    return EquityRow(label, kind, full, sum(figures) if figures else None)


def equity_rows(y: EquityYear) -> list[EquityRow]:
    """年初余额, 本年增加数 and its 其中 lines, 本年减少数 and its 其中 lines, 年末余额."""
    increases = {
        "share_capital": y.capital_in_fen,
        "special_fund": y.subsidy_fen + y.donation_fen,
        "capital_reserve": 0,
        "surplus_reserve": y.reserve_fen,
        "undistributed": y.profit_fen,  # 本年实现盈余, a loss with a minus sign
    }
    decreases = {
        "share_capital": y.capital_out_fen,
        "special_fund": 0,
        "capital_reserve": 0,
        "surplus_reserve": 0,
        "undistributed": y.reserve_fen + y.patronage_fen + y.remaining_fen,
    }
    opening = {key: y.opening.get(key, 0) for key, _ in EQUITY_COLUMNS}
    closing = {key: opening[key] + increases[key] - decreases[key] for key in opening}
    return [
        _row("一、年初余额", "balance", opening),
        _row("二、本年增加数", "total", increases),
        _row("其中：成员增加出资", "detail", {"share_capital": y.capital_in_fen}),
        _row("　　　国家财政直接补助", "detail", {"special_fund": y.subsidy_fen}),
        _row("　　　接受捐赠", "detail", {"special_fund": y.donation_fen}),
        _row("　　　提取盈余公积", "detail", {"surplus_reserve": y.reserve_fen}),
        _row("　　　本年盈余", "detail", {"undistributed": y.profit_fen}),
        _row("三、本年减少数", "total", decreases),
        _row("其中：成员退股", "detail", {"share_capital": y.capital_out_fen}),
        _row("　　　提取盈余公积", "detail", {"undistributed": y.reserve_fen}),
        _row("　　　盈余返还", "detail", {"undistributed": y.patronage_fen}),
        _row("　　　剩余盈余分配", "detail", {"undistributed": y.remaining_fen}),
        _row("四、年末余额", "balance", closing),
    ]


# ---- 成员账户 --------------------------------------------------------------------------------------

ACCOUNT_FIGURES = (
    "capital_poverty_fen",
    "capital_other_fen",
    "reserve_share_fen",
    "subsidy_share_fen",
    "donation_share_fen",
)
ACCOUNT_COLUMN_WORDS = {
    "capital_poverty_fen": "出资额：来源于到户类扶贫项目资产",
    "capital_other_fen": "出资额：其他来源",
    "reserve_share_fen": "公积金份额",
    "subsidy_share_fen": "财政补助形成财产量化份额",
    "donation_share_fen": "捐赠形成财产量化份额",
    "patronage_fen": "盈余返还",
    "remaining_fen": "剩余盈余分配",
}


@dataclass(frozen=True)
class BookEntry:
    """One dated movement of a member's account, as the workflow read it."""

    date: dt.date
    order: int  # keeps movements of one day in the order they happened
    summary: str
    figures: Mapping[str, int] = field(default_factory=dict)  # keys of ACCOUNT_FIGURES
    product: str | None = None
    quantity_g: int = 0
    amount_fen: int = 0  # the trade's amount (交易额)
    patronage_fen: int = 0
    remaining_fen: int = 0


@dataclass(frozen=True)
class Book:
    opening: dict[str, int]
    rows: list[BookEntry]
    closing: dict[str, int]
    products: list[str]
    trade_totals: dict[str, tuple[int, int]]  # product → (quantity_g, amount_fen)
    patronage_fen: int
    remaining_fen: int


def account_book(opening: Mapping[str, int], entries: Iterable[BookEntry]) -> Book:
    """The year's rows in date order, and the closing figures: opening + the year's movements."""
    rows = sorted(entries, key=lambda e: (e.date, e.order))
    start = {key: opening.get(key, 0) for key in ACCOUNT_FIGURES}
    closing = dict(start)
    trades: dict[str, tuple[int, int]] = {}
    for row in rows:
        for key, amount in row.figures.items():
            closing[key] += amount
        if row.product is not None:
            quantity, amount = trades.get(row.product, (0, 0))
            trades[row.product] = (quantity + row.quantity_g, amount + row.amount_fen)
    return Book(
        opening=start,
        rows=rows,
        closing=closing,
        products=sorted(trades),
        trade_totals=trades,
        patronage_fen=sum(r.patronage_fen for r in rows),
        remaining_fen=sum(r.remaining_fen for r in rows),
    )


def format_weight(grams: int) -> str:
    """A weight in kilograms with three decimals, from integer grams: 1234567 → '1,234.567'."""
    whole, rest = divmod(abs(grams), 1000)
    return f"{'-' if grams < 0 else ''}{whole:,}.{rest:03d}"


# ---- 利润分配方案 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanFigures:
    """A stored plan: its waterfall, what it was handed and hands on, and the venture's terms."""

    model: str
    profit_fen: int
    registered_capital_fen: int
    reserve_bp: int
    discretionary_bp: int
    patronage_bp: int
    floor_mode: str
    floor_bp: int
    waterfall: Mapping[str, int]
    losses_carried_in_fen: int
    reserve_balance_in_fen: int
    losses_carried_out_fen: int
    reserve_balance_out_fen: int


@dataclass(frozen=True)
class Step:
    no: int
    item: str
    amount_fen: int
    note: str = ""


FLOOR_MODE_WORDS = {
    "none": "不设保底",
    "fixed": "固定保底收益（资产收益扶贫，计入财务费用）",
    "preferred": "优先分配，不足部分累积欠付",
    "minimum": "取保底与按股分配较高者",
}


def _yuan(fen: int) -> str:
    return format_yuan(fen, thousands=True)


def profit_steps(p: PlanFigures) -> list[Step]:
    """The waterfall in the order the law gives it, each step with the words that justify it."""
    w = p.waterfall
    if p.model == "cooperative":
        return _cooperative_steps(p)
    cap = p.registered_capital_fen * 5000 // BP_WHOLE
    rate = max(1000, p.reserve_bp)
    after_losses = max(0, p.profit_fen) - w["losses_covered_fen"]
    steps = [
        Step(1, "本年净利润（净亏损以“-”号填列）", p.profit_fen),
        Step(2, "年初未弥补亏损", p.losses_carried_in_fen),
        Step(3, "弥补以前年度亏损", w["losses_covered_fen"], "《公司法》第二百一十条：先弥补亏损"),
        Step(4, "弥补亏损后的利润", after_losses),
        Step(
            5,
            "提取法定公积金",
            w["statutory_reserve_fen"],
            f"按 {format_bp(rate)} 提取；年初余额 {_yuan(p.reserve_balance_in_fen)} 元，"
            f"提取后 {_yuan(p.reserve_balance_out_fen)} 元，上限为注册资本的50% {_yuan(cap)} 元"
            + ("（已达上限）" if p.reserve_balance_out_fen >= cap else ""),
        ),
        Step(6, "提取任意公积金", w["discretionary_reserve_fen"], f"股东会决议 {format_bp(p.discretionary_bp)}"),
        Step(7, "可供股东分配的利润", w["distributable_fen"]),
    ]
    return steps + _floor_steps(p, len(steps))


def _cooperative_steps(p: PlanFigures) -> list[Step]:
    w = p.waterfall
    steps = [
        Step(1, "本年盈余（亏损以“-”号填列）", p.profit_fen),
        Step(2, "年初未弥补亏损", p.losses_carried_in_fen),
        Step(3, "弥补亏损", w["losses_covered_fen"], "《农民专业合作社法》第四十四条"),
        Step(4, "提取公积金", w["reserve_fen"], f"按 {format_bp(p.reserve_bp)} 提取，按交易量量化到成员账户"),
        Step(5, "可分配盈余", w["distributable_fen"]),
        Step(6, "按交易量（额）返还", w["patronage_fen"], f"可分配盈余的 {format_bp(p.patronage_bp)}，不低于60%"),
        Step(7, "按成员账户分配", w["distributable_fen"] - w["patronage_fen"] - w["undistributed_fen"]),
    ]
    return steps + _floor_steps(p, len(steps))


def _floor_steps(p: PlanFigures, done: int) -> list[Step]:
    w = p.waterfall
    steps: list[Step] = []
    if p.floor_mode != "none":
        words = FLOOR_MODE_WORDS.get(p.floor_mode, p.floor_mode)
        steps.append(Step(0, "贫困户股保底", w["floor_paid_fen"], f"年保底 {format_bp(p.floor_bp)}，{words}"))
    if w["arrears_paid_fen"]:
        steps.append(Step(0, "补付以前年度欠付保底", w["arrears_paid_fen"]))
    if w["arrears_fen"]:
        steps.append(Step(0, "结转以后年度的欠付保底", w["arrears_fen"]))
    steps.append(Step(0, "未分配利润（盈余）", w["undistributed_fen"]))
    steps.append(Step(0, "结转以后年度弥补的亏损", p.losses_carried_out_fen))
    return [replace(s, no=done + n) for n, s in enumerate(steps, start=1)]


# ---- registers by level ------------------------------------------------------------------------

# payment states a register counts; "failed" is an unpaid payable the bank returned
PAYMENT_STATES = ("paid", "in_batch", "unpaid", "failed")
PAYMENT_STATE_WORDS = {"paid": "已发放", "in_batch": "发放中", "unpaid": "待发放", "failed": "发放失败待重发"}


@dataclass(frozen=True)
class PayableGroup:
    """Payables of one household and year summed by source, basis and payment state."""

    household_id: str
    source: str
    basis: str
    status: str  # a payable status
    failed: bool  # unpaid after the bank returned it
    amount_fen: int
    count: int


def payment_state(status: str, failed: bool) -> str | None:
    """A payable's state in a register; None for a cancelled one (its source was reversed)."""
    if not counted(status):
        return None
    if status == "unpaid" and failed:
        return "failed"
    return status


@dataclass
class Figures:
    """The figures of one register row (a household, a village, a township) or of their total."""

    households: int = 0
    people: int = 0
    ventures: int = 0
    shares: int = 0
    capital_fen: int = 0
    income: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INCOME_KIND_ORDER, 0))
    owed_fen: int = 0
    awards: int = 0
    awards_fen: int = 0
    payments: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PAYMENT_STATES, 0))

    def add(self, other: Figures) -> None:
        for name in ("households", "people", "ventures", "shares", "capital_fen", "owed_fen", "awards", "awards_fen"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, amount in other.income.items():
            self.income[kind] += amount
        for state, amount in other.payments.items():
            self.payments[state] += amount


@dataclass(frozen=True)
class HouseholdFacts:
    household_id: str
    village_code: str
    people: int
    ventures: int = 0
    shares: int = 0
    capital_fen: int = 0
    awards: int = 0
    awards_fen: int = 0


def household_figures(facts: HouseholdFacts, groups: Iterable[PayableGroup]) -> Figures:
    """A household's row: its holdings, the year's income by kind, awards and payment states."""
    f = Figures(
        households=1,
        people=facts.people,
        ventures=facts.ventures,
        shares=facts.shares,
        capital_fen=facts.capital_fen,
        awards=facts.awards,
        awards_fen=facts.awards_fen,
    )
    for g in groups:
        state = payment_state(g.status, g.failed)
        if state is None:
            continue
        f.income[INCOME_KINDS[line_kind(g.source, g.basis)]] += g.amount_fen
        f.owed_fen += g.amount_fen
        f.payments[state] += g.amount_fen
    return f


def rolled_up(rows: Mapping[str, Figures], key_of: Mapping[str, str]) -> dict[str, Figures]:
    """Household rows summed into the rows of a higher level (key_of: household → row key)."""
    out: dict[str, Figures] = {}
    for household, figures in rows.items():
        out.setdefault(key_of[household], Figures()).add(figures)
    return out


def total_of(rows: Iterable[Figures]) -> Figures:
    total = Figures()
    for row in rows:
        total.add(row)
    return total


def township_of(village_code: str) -> str:
    """The township a village belongs to: its first 9 digits padded with zeros."""
    return village_code[:9] + "000"


# ---- income per person against the lines ----------------------------------------------------------


@dataclass(frozen=True)
class IncomeBin:
    label: str
    low_fen: int
    high_fen: int | None  # None: no upper bound
    households: int


def per_person_fen(total_fen: int, people: int) -> int:
    """Income per person, rounded half up to the fen."""
    return round_half_up_div(total_fen, people) if people else 0


def income_bins(
    per_person: Sequence[int], poverty_line_fen: int | None, xiaokang_line_fen: int | None
) -> list[IncomeBin]:
    """Households counted by income per person, in bins whose edges are the poverty and 小康
    lines (half of each and twice the 小康 line around them); without lines, by 1,000 yuan."""
    if poverty_line_fen and xiaokang_line_fen and poverty_line_fen < xiaokang_line_fen:
        edges = sorted(
            {0, poverty_line_fen // 2, poverty_line_fen, (poverty_line_fen + xiaokang_line_fen) // 2, xiaokang_line_fen}
        ) + [2 * xiaokang_line_fen]
    else:
        edges = [n * 100_000 for n in range(0, 11)]
    bins = []
    for low, high in zip(edges, [*edges[1:], None]):
        count = sum(1 for v in per_person if v >= low and (high is None or v < high))
        label = (
            f"{format_yuan(low, thousands=True)}–{format_yuan(high, thousands=True)}"
            if high
            else f"≥{format_yuan(low, thousands=True)}"
        )
        bins.append(IncomeBin(label + " 元", low, high, count))
    return bins


def line_words(low_fen: int, poverty_line_fen: int | None, xiaokang_line_fen: int | None) -> str:
    """Where a bin starts against the lines, for a reader of the chart."""
    if xiaokang_line_fen and low_fen >= xiaokang_line_fen:
        return "达到小康线"
    if poverty_line_fen and low_fen >= poverty_line_fen:
        return "高于贫困线"
    return "低于贫困线" if poverty_line_fen else ""
