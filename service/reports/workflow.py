"""The use cases of reports and registers: each reads the books in the caller's transaction, checks
the caller's access through service.core.policy (scoped like the object it describes), and answers
the Struct of schemas/reports.py that the JSON, the xlsx and the PDF are all made from
(service/reports/renderers.py). Nothing here writes.

- surplus_distribution  盈余及盈余分配表 (会农社02表) of a cooperative and year
- member_equity         成员权益变动表 (会农社03表)
- member_account_book   成员账户 of one member; member_account_books: every member of a venture
- profit_distribution   利润分配方案 (盈余分配方案 for a cooperative) of a year's plan
- shareholders          股东名册 as of a day; share_certificate: 股权证 of one holding
- notice_print          the A4 公示 for the village board (public, masked)
- household_card        户有卡, year by year
- region_register       村有册 / 乡镇有簿 / 县有档 by the region's level
- county_year_report    县有档's year report, with the figures its charts draw
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from db import notices as notices_q
from db import registry as registry_q
from db import reports as q
from db import statements as statements_q
from db import ventures as ventures_q
from schemas.reports import (
    AccountBook,
    AccountBookRow,
    AccountBooks,
    AccountClosing,
    AccountFigures,
    CardAward,
    CardHolding,
    CardLine,
    CardYear,
    EquityColumn,
    EquityRowOut,
    HolderAmount,
    HolderLine,
    HouseholdCard,
    IncomeBinOut,
    LedgerCheck,
    LevelBudget,
    MemberEquity,
    NoticePrint,
    NoticeSubject,
    PlanStep,
    ProfitDistribution,
    ProgramBudget,
    Register,
    RegisterFigures,
    RegisterRow,
    ShareCertificate,
    Shareholder,
    ShareholderRegister,
    SurplusDistribution,
    SurplusLine,
    TradeFigures,
    YearReport,
)
from service.awards.workflow import program_out
from service.core.errors import conflict, invalid_field, not_found
from service.core.money import BP_WHOLE, round_half_up_div
from service.core.policy import household_or_404, venture_for
from service.core.principal import Principal, county_of, region_prefix
from service.core.settings import Settings
from service.distributions.rules import STATUS_WORDS
from service.notices.rules import how_to_object
from service.reports import rules
from service.reports.rules import (
    ACCOUNT_FIGURES,
    BookEntry,
    Figures,
    HouseholdFacts,
    IncomeFigures,
    PayableGroup,
    YearSurplus,
)
from service.statements.rules import INCOME_KINDS, line_kind
from service.ventures.rules import holdings_as_of, register_rows

SHARE_CLASS_WORDS = {"ordinary": "普通股", "poverty": "贫困户股"}
BASIS_WORDS = {
    "patronage": "按交易额返还",
    "capital": "按成员账户分配",
    "shares": "按股分红",
    "floor": "保底收益",
    "arrears": "补付欠付保底",
}
MOVEMENT_WORDS = {"subscribe": "认购", "allocate": "配股", "transfer": "转让", "redeem": "退股"}
NOTICE_KIND_WORDS = {"award": "奖励名单", "distribution": "收益分配方案"}
LEVEL_WORDS = {"province": "省级", "city": "市级", "county": "县级"}
REGISTER_TITLES = {"village": "村有册", "township": "乡镇有簿", "county": "县有档"}
ROW_KIND = {"village": "household", "township": "village", "county": "township"}
YEARS = (2000, 2100)


def _check_year(year: int) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise invalid_field("year", "年度应在2000至2100之间")


async def _cooperative(conn: asyncpg.Connection, principal: Principal, venture_id: str) -> asyncpg.Record:
    v = await venture_for(conn, principal, venture_id)
    if v["model"] != "cooperative":
        raise conflict("cooperatives-only", "该报表只适用于农民专业合作社")
    return v


def _check(name: str, report_fen: int, ledger_fen: int) -> LedgerCheck:
    return LedgerCheck(name, report_fen, ledger_fen, report_fen == ledger_fen)


# ---- the books of a cooperative's years -------------------------------------------------------------


class _Years:
    """What each posted plan's entry wrote, by fiscal year and account code (debit positive)."""

    def __init__(self, books: Sequence[asyncpg.Record], plans: Sequence[asyncpg.Record]) -> None:
        self.by_year: dict[int, dict[str, int]] = {}
        for r in books:
            self.by_year.setdefault(r["fiscal_year"], {})[r["code"]] = r["amount"]
        self.plans = {p["fiscal_year"]: p for p in plans}

    def surplus(self, year: int) -> YearSurplus | None:
        if year not in self.plans:
            return None
        codes = self.by_year.get(year, {})
        return YearSurplus(
            profit_fen=codes.get("331", 0),
            reserve_fen=-codes.get("322", 0),
            patronage_fen=-codes.get("221", 0),
            remaining_fen=-codes.get("222", 0),
        )

    def before(self, year: int, code: str) -> int:
        """The credit balance the plans of earlier years left on an account."""
        return -sum(codes.get(code, 0) for y, codes in self.by_year.items() if y < year)

    def income(self, year: int) -> IncomeFigures | None:
        plan = self.plans.get(year)
        if plan is None or not plan["has_income_statement"]:
            return None
        return IncomeFigures(**{name: plan[name] for name in IncomeFigures.__dataclass_fields__})


async def _years(conn: asyncpg.Connection, venture: asyncpg.Record) -> _Years:
    return _Years(await q.distribution_books(conn, venture), await q.posted_plans(conn, venture))


# ---- 会农社02表 ------------------------------------------------------------------------------------


async def surplus_distribution(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, year: int
) -> SurplusDistribution:
    """盈余及盈余分配表 of a posted year, with last year's column beside it."""
    _check_year(year)
    v = await _cooperative(conn, principal, venture_id)
    years = await _years(conn, v)
    books = years.surplus(year)
    if books is None:
        raise conflict("year-not-posted", f"{year} 年度的盈余分配方案尚未入账，不能编制盈余及盈余分配表")
    this = rules.surplus_table(years.income(year), books, years.before(year, "332"))
    last = rules.surplus_table(years.income(year - 1), years.surplus(year - 1), years.before(year - 1, "332"))
    notes = []
    if years.income(year) is None:
        notes.append(rules.INCOME_LINES_MISSING)
    if years.surplus(year - 1) is None:
        notes.append("上年金额栏：" + rules.NOT_POSTED)
    line_20 = this[20]
    assert line_20 is not None  # a posted year always has its closing balance
    checks = [
        _check("第12行本年盈余 = 入账方案的本年盈余", books.profit_fen, years.plans[year]["profit_fen"]),
        _check(
            "第20行年末未分配盈余 = 332 盈余分配科目贷方余额",
            line_20,
            -await q.appropriation_balance(conn, v, "332", year),
        ),
    ]
    return SurplusDistribution(
        form=rules.SURPLUS_FORM,
        title=rules.SURPLUS_TITLE,
        venture_id=str(v["id"]),
        venture_name=v["name"],
        year=year,
        lines=[SurplusLine(no, item, this[no], last[no]) for no, item in rules.SURPLUS_ITEMS],
        income_lines_entered=years.income(year) is not None,
        last_year_income_lines_entered=years.income(year - 1) is not None,
        notes=notes,
        checks=checks,
    )


# ---- 会农社03表 ------------------------------------------------------------------------------------


async def member_equity(conn: asyncpg.Connection, principal: Principal, venture_id: str, year: int) -> MemberEquity:
    """成员权益变动表 of a year from the ledger's movements; its closing row is checked against the
    register (share capital, subsidies received) and the appropriation accounts."""
    _check_year(year)
    v = await _cooperative(conn, principal, venture_id)
    years = await _years(conn, v)
    capital = {r["code"]: r for r in await q.capital_movements(conn, v, year)}
    shares, funds = capital.get("301"), capital.get("311")
    books = years.surplus(year) or YearSurplus(0, 0, 0, 0)
    equity = rules.EquityYear(
        opening={
            "share_capital": -shares["opening"] if shares else 0,
            "special_fund": -funds["opening"] if funds else 0,
            "surplus_reserve": years.before(year, "322"),
            "undistributed": years.before(year, "332"),
        },
        capital_in_fen=shares["credits"] if shares else 0,
        capital_out_fen=shares["debits"] if shares else 0,
        subsidy_fen=funds["credits"] if funds else 0,
        reserve_fen=books.reserve_fen,
        profit_fen=books.profit_fen,
        patronage_fen=books.patronage_fen,
        remaining_fen=books.remaining_fen,
    )
    rows = rules.equity_rows(equity)
    return MemberEquity(
        form=rules.EQUITY_FORM,
        title=rules.EQUITY_TITLE,
        venture_id=str(v["id"]),
        venture_name=v["name"],
        year=year,
        columns=[EquityColumn(key, name) for key, name in rules.EQUITY_COLUMNS],
        rows=[EquityRowOut(r.label, r.kind, r.amounts, r.total_fen) for r in rows],
        checks=await _equity_checks(conn, v, year, rows[-1].amounts),
    )


async def _equity_checks(
    conn: asyncpg.Connection, v: asyncpg.Record, year: int, closing: Mapping[str, int | None]
) -> list[LedgerCheck]:
    end = dt.date(year, 12, 31)
    held = holdings_as_of(await ventures_q.movements(conn, v["id"], until=end), end)
    subsidies = await q.subsidies_received(conn, v, year)
    return [
        _check(
            "股金年末余额 = 股权登记簿实收股金",
            closing["share_capital"] or 0,
            sum(h.capital_fen for h in held.values()),
        ),
        _check("专项基金年末余额 = 收到的财政补助", closing["special_fund"] or 0, subsidies),
        _check(
            "盈余公积年末余额 = 322 科目贷方余额",
            closing["surplus_reserve"] or 0,
            -await q.appropriation_balance(conn, v, "322", year),
        ),
        _check(
            "未分配盈余年末余额 = 332 科目贷方余额",
            closing["undistributed"] or 0,
            -await q.appropriation_balance(conn, v, "332", year),
        ),
    ]


# ---- 成员账户 --------------------------------------------------------------------------------------


async def member_account_book(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, member_id: str, year: int
) -> AccountBook:
    """One member's 成员账户 for a year; its closing figures are GET …/account's for that year."""
    _check_year(year)
    v = await _cooperative(conn, principal, venture_id)
    member = await ventures_q.member(conn, v["id"], member_id)
    if member is None:
        raise not_found("成员")
    (book,) = await _books(conn, v, [member], year)
    return book


async def member_account_books(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, year: int
) -> AccountBooks:
    """Every member's 成员账户 for a year, in member order (one PDF for the whole venture)."""
    _check_year(year)
    v = await _cooperative(conn, principal, venture_id)
    members = await ventures_q.members(conn, v["id"])
    return AccountBooks(str(v["id"]), v["name"], year, await _books(conn, v, members, year))


async def _books(
    conn: asyncpg.Connection, v: asyncpg.Record, members: Sequence[asyncpg.Record], year: int
) -> list[AccountBook]:
    ids = [m["id"] for m in members]
    by_member: dict[uuid.UUID, list[BookEntry]] = {i: [] for i in ids}
    opening: dict[uuid.UUID, dict[str, int]] = {i: dict.fromkeys(ACCOUNT_FIGURES, 0) for i in ids}
    for n, r in enumerate(await q.account_movements(conn, v, ids, year)):
        key, entry = _movement_entry(r, n)
        if r["year"] < year:
            opening[r["member_id"]][key] += r["amount_fen"]
        else:
            by_member[r["member_id"]].append(entry)
    for n, r in enumerate(await q.member_trades(conn, v, ids, year)):
        by_member[r["member_id"]].append(
            BookEntry(
                r["traded_on"],
                n,
                f"交易：{r['product']}",
                product=r["product"],
                quantity_g=r["quantity_g"],
                amount_fen=r["amount_fen"],
            )
        )
    fixed_floors = v["charter"].get("floor_mode") == "fixed"
    for n, r in enumerate(await q.member_distribution_lines(conn, v, ids, year)):
        line = _distribution_entry(r, n, fixed_floors)
        if line is not None:
            by_member[r["member_id"]].append(line)
    return [_book_out(v, m, year, rules.account_book(opening[m["id"]], by_member[m["id"]])) for m in members]


def _movement_entry(r: asyncpg.Record, order: int) -> tuple[str, BookEntry]:
    """The account column a member-account movement moves, and its dated row."""
    if r["kind"] == "capital":
        key = "capital_poverty_fen" if r["share_class"] == "poverty" else "capital_other_fen"
        words = MOVEMENT_WORDS.get(r["movement_kind"], "股金变动")
        if r["movement_kind"] in ("transfer", "allocate"):
            words += "转出" if r["amount_fen"] < 0 else "转入"
        summary = f"{words} {r['shares']} 股（{SHARE_CLASS_WORDS.get(r['share_class'], r['share_class'])}）"
        day = r["effective_date"]
    elif r["kind"] == "subsidy":
        key, summary, day = "subsidy_share_fen", f"财政补助量化：{r['subsidy_source']}", r["received_on"]
    else:
        key, summary, day = "reserve_share_fen", f"{r['fiscal_year']} 年度公积金量化", r["posted_on"]
    return key, BookEntry(day, order, summary, figures={key: r["amount_fen"]})


def _distribution_entry(r: asyncpg.Record, order: int, fixed_floors: bool) -> BookEntry | None:
    """A plan line as a row: patronage is 盈余返还, the rest 剩余盈余分配. A fixed guaranteed
    return is a finance cost of the year, not a distribution of its surplus: it has no column."""
    if r["basis"] == "floor" and fixed_floors:
        return None
    year = r["fiscal_year"]
    if r["basis"] == "patronage":
        return BookEntry(r["posted_on"], 10_000 + order, f"{year} 年度盈余返还", patronage_fen=r["amount_fen"])
    words = BASIS_WORDS.get(r["basis"], r["basis"])
    return BookEntry(
        r["posted_on"], 10_000 + order, f"{year} 年度剩余盈余分配（{words}）", remaining_fen=r["amount_fen"]
    )


def _book_out(v: asyncpg.Record, m: asyncpg.Record, year: int, book: rules.Book) -> AccountBook:
    c = book.closing
    return AccountBook(
        title="成员账户",
        venture_id=str(v["id"]),
        venture_name=v["name"],
        member_id=str(m["id"]),
        member_no=m["member_no"],
        member_name=m["name"],
        year=year,
        products=book.products,
        opening=AccountFigures(**book.opening),
        rows=[
            AccountBookRow(
                date=e.date,
                summary=e.summary,
                **{key: e.figures.get(key, 0) for key in ACCOUNT_FIGURES},
                product=e.product,
                quantity_g=e.quantity_g,
                amount_fen=e.amount_fen,
                patronage_fen=e.patronage_fen,
                remaining_fen=e.remaining_fen,
            )
            for e in book.rows
        ],
        closing=AccountClosing(
            **c,
            capital_fen=c["capital_poverty_fen"] + c["capital_other_fen"],
            transaction_volume_fen=sum(amount for _, amount in book.trade_totals.values()),
            trades=[TradeFigures(p, *book.trade_totals[p]) for p in book.products],
            patronage_fen=book.patronage_fen,
            remaining_fen=book.remaining_fen,
        ),
    )


# ---- 利润分配方案 ------------------------------------------------------------------------------------


async def profit_distribution(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, year: int
) -> ProfitDistribution:
    """The year's plan as the shareholders' meeting reads it: the waterfall step by step, and
    every holder's amount with its explanation (a draft too: the meeting adopts it)."""
    _check_year(year)
    v = await venture_for(conn, principal, venture_id)
    plan = await q.year_plan(conn, v, year)
    if plan is None:
        raise not_found(f"{year} 年度分配方案")
    charter = v["charter"]
    figures = rules.PlanFigures(
        model=v["model"],
        profit_fen=plan["profit_fen"],
        registered_capital_fen=v["registered_capital_fen"],
        reserve_bp=charter["reserve_bp"],
        discretionary_bp=charter["discretionary_bp"],
        patronage_bp=charter["patronage_bp"],
        floor_mode=charter["floor_mode"],
        floor_bp=charter["floor_bp"],
        waterfall=plan["waterfall"],
        losses_carried_in_fen=plan["carried_in"]["losses_carried_fen"],
        reserve_balance_in_fen=plan["carried_in"]["statutory_reserve_balance_fen"],
        losses_carried_out_fen=plan["carried_out"]["losses_carried_fen"],
        reserve_balance_out_fen=plan["carried_out"]["statutory_reserve_balance_fen"],
    )
    return ProfitDistribution(
        title="盈余分配方案" if v["model"] == "cooperative" else "利润分配方案",
        venture_id=str(v["id"]),
        venture_name=v["name"],
        model=v["model"],
        year=year,
        distribution_id=str(plan["id"]),
        status=plan["status"],
        status_words="方案" + STATUS_WORDS[plan["status"]],
        registered_capital_fen=v["registered_capital_fen"],
        steps=[PlanStep(s.no, s.item, s.amount_fen, s.note) for s in rules.profit_steps(figures)],
        holders=_holders(await q.plan_lines(conn, plan)),
        lines_total_fen=plan["lines_total_fen"],
    )


def _holders(lines: Sequence[asyncpg.Record]) -> list[HolderAmount]:
    holders: dict[uuid.UUID, HolderAmount] = {}
    for r in lines:
        h = holders.get(r["member_id"])
        if h is None:
            h = holders[r["member_id"]] = HolderAmount(
                str(r["member_id"]), r["member_no"], r["name"], r["kind"], r["household_no"], [], 0
            )
        h.lines.append(
            HolderLine(
                r["basis"], BASIS_WORDS.get(r["basis"], r["basis"]), r["weight"], r["amount_fen"], r["explanation"]
            )
        )
        h.total_fen += r["amount_fen"]
    return list(holders.values())


# ---- 股东名册, 股权证 ---------------------------------------------------------------------------------


async def shareholders(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, as_of: dt.date | None, today: dt.date
) -> ShareholderRegister:
    """股东名册 as of a day (today when none is given): every holding with its certificate number."""
    v = await venture_for(conn, principal, venture_id)
    return await _register_of(conn, v, as_of or today)


async def _register_of(conn: asyncpg.Connection, v: asyncpg.Record, day: dt.date) -> ShareholderRegister:
    held = holdings_as_of(await ventures_q.movements(conn, v["id"], until=day), day)
    members = {str(m["id"]): m for m in await q.members_with_households(conn, v)}
    certs = await ventures_q.certificates(conn, v["id"])
    rows = register_rows(held, {mid: m["member_no"] for mid, m in members.items()})
    total = sum(h.shares for _, h in rows)
    items = [
        Shareholder(
            member_id=mid,
            member_no=members[mid]["member_no"],
            name=members[mid]["head_name"] or members[mid]["name"],
            kind=members[mid]["kind"],
            household_no=members[mid]["household_no"],
            id_number_masked=members[mid]["head_id_masked"],
            share_class=cls,
            share_class_words=SHARE_CLASS_WORDS.get(cls, cls),
            shares=h.shares,
            capital_fen=h.capital_fen,
            share_bp=round_half_up_div(h.shares * BP_WHOLE, total) if total else 0,
            certificate_no=certs.get((mid, cls), ""),
        )
        for (mid, cls), h in rows
    ]
    return ShareholderRegister(
        title="股东名册" if v["model"] != "cooperative" else "成员出资名册",
        venture_id=str(v["id"]),
        venture_name=v["name"],
        as_of=day,
        registered_capital_fen=v["registered_capital_fen"],
        items=items,
        total_shares=total,
        total_capital_fen=sum(i.capital_fen for i in items),
    )


async def share_certificate(
    conn: asyncpg.Connection,
    principal: Principal,
    venture_id: str,
    certificate_no: str,
    as_of: dt.date | None,
    today: dt.date,
) -> ShareCertificate:
    """股权证 of one holding as it stands on a day."""
    v = await venture_for(conn, principal, venture_id)
    holding = await q.certificate_holding(conn, v, certificate_no)
    if holding is None:
        raise not_found("股权证")
    day = as_of or today
    register = await _register_of(conn, v, day)
    line = next(
        (
            i
            for i in register.items
            if i.member_id == str(holding["member_id"]) and i.share_class == holding["share_class"]
        ),
        None,
    )
    if line is None:
        raise conflict("holding-empty", f"截至 {day.isoformat()} 该股权证下已无持股")
    village = await registry_q.region_names(conn, [v["village_code"]])
    return ShareCertificate(
        title="股权证",
        certificate_no=certificate_no,
        venture_id=str(v["id"]),
        venture_name=v["name"],
        village_name=village.get(v["village_code"], ""),
        holder=line,
        as_of=day,
        registered_capital_fen=v["registered_capital_fen"],
    )


# ---- the printable notice ----------------------------------------------------------------------------


async def notice_print(conn: asyncpg.Connection, settings: Settings, notice_id: str) -> NoticePrint:
    """Everything the A4 notice for the village board prints: public, and every name masked."""
    n = await notices_q.notice(conn, notice_id)
    if n is None:
        raise not_found("公示")
    source = await q.notice_source(conn, n)
    subjects = [
        NoticeSubject(r["subject_id"], r["village_name"], r["head_name_masked"], r["head_id_masked"], r["amount_fen"])
        for r in await q.notice_subjects(conn, n)
    ]
    base = settings.public_base_url.rstrip("/")
    county = n["county_name"] or ""
    if n["kind"] == "distribution" and source is not None:
        township = (await registry_q.region_names(conn, [rules.township_of(source["village_code"])])).values()
        issuer = f"{source['name']}（审核：{next(iter(township), '')}人民政府）"
    else:
        issuer = f"{county}人民政府"
    return NoticePrint(
        notice_id=str(n["id"]),
        title=n["title"],
        kind=n["kind"],
        kind_words=NOTICE_KIND_WORDS.get(n["kind"], n["kind"]),
        source_name=source["name"] if source else "",
        county_name=county,
        starts_on=n["starts_on"],
        ends_on=n["ends_on"],
        subjects=subjects,
        total_fen=sum(s.amount_fen or 0 for s in subjects),
        how_to_object=how_to_object(n["starts_on"], n["ends_on"]),
        public_url=f"{base}/p/notices/{n['id']}",
        objection_url=f"{base}/notices/{n['id']}/objections",
        issuer=issuer,
        issued_on=n["starts_on"],
    )


# ---- 户有卡 -------------------------------------------------------------------------------------------


async def household_card(
    conn: asyncpg.Connection, principal: Principal, household_id: str, year: int | None, today: dt.date
) -> HouseholdCard:
    """户有卡: a household's holdings, what it was owed and paid (when, in which batch) and its
    income by kind, year by year (one year when asked); the head is named in full."""
    household = await household_or_404(conn, principal, household_id)
    if year is not None:
        _check_year(year)
    county, village = household["county_code"], household["village_code"]
    (h,) = await q.households_of(conn, county, village, household["id"])
    years = [year] if year is not None else await q.household_years(conn, household, YEARS[0], today.year)
    names = await registry_q.region_names(conn, [village, rules.township_of(village)])
    return HouseholdCard(
        title="户有卡",
        household_id=str(h["id"]),
        household_no=h["household_no"],
        head_name=h["head_name"],
        id_number_masked=h["head_id_masked"],
        village_name=names.get(village, ""),
        township_name=names.get(rules.township_of(village), ""),
        people=h["members"],
        status=h["status"],
        years=[await _card_year(conn, h, county, y) for y in years],
    )


async def _card_year(conn: asyncpg.Connection, h: asyncpg.Record, county: str, year: int) -> CardYear:
    village = h["village_code"]
    holdings = await q.holdings_at_year_end(conn, county, village, year, h["id"])
    rows = await statements_q.statement_rows(conn, county, h["id"], year)
    batches = await q.payable_batches(conn, county, [r["id"] for r in rows])
    awards = await q.awards_granted(conn, county, village, year, h["id"])
    lines = [_card_line(r, batches.get(str(r["id"]))) for r in rows]
    groups = [
        PayableGroup(str(h["id"]), r["source"], r["basis"], r["status"], bool(r["failure_reason"]), r["amount_fen"], 1)
        for r in rows
    ]
    f = rules.household_figures(HouseholdFacts(str(h["id"]), village, h["members"]), groups)
    return CardYear(
        year=year,
        holdings=[
            CardHolding(
                str(r["venture_id"]),
                r["venture_name"],
                r["share_class"],
                SHARE_CLASS_WORDS.get(r["share_class"], r["share_class"]),
                r["shares"],
                r["capital"],
                r["certificate_no"],
            )
            for r in holdings
        ],
        lines=lines,
        awards=[CardAward(a["kind"], a["program_name"], a["serial"], a["amount_fen"], a["granted_on"]) for a in awards],
        income_by_kind=f.income,
        total_fen=f.owed_fen,
        paid_fen=f.payments["paid"],
        in_batch_fen=f.payments["in_batch"],
        unpaid_fen=f.payments["unpaid"],
        failed_fen=f.payments["failed"],
        income_per_person_fen=rules.per_person_fen(f.owed_fen, h["members"]),
    )


def _card_line(r: asyncpg.Record, batch_id: str | None) -> CardLine:
    kind = line_kind(r["source"], r["basis"])
    state = rules.payment_state(r["status"], bool(r["failure_reason"]))
    return CardLine(
        payable_id=str(r["id"]),
        source_type=r["source"],
        source_name=r["source_name"],
        kind=kind,
        income_kind=INCOME_KINDS[kind],
        amount_fen=r["amount_fen"],
        explanation=r["explanation"],
        payment_status=r["status"],
        payment_words=rules.PAYMENT_STATE_WORDS[state] if state else "已冲销（不计入合计）",
        paid_on=r["paid_on"],
        batch_id=batch_id,
        failure_reason=r["failure_reason"] if state == "failed" else None,
    )


# ---- registers by level ------------------------------------------------------------------------------


class _Scope:
    """A region a register covers, and its households' figures for one year."""

    def __init__(self, region: asyncpg.Record, year: int) -> None:
        self.region = region
        self.year = year
        self.county = county_of(region["code"])
        self.prefix = region_prefix(region["code"])
        self.households: list[asyncpg.Record] = []
        self.figures: dict[str, Figures] = {}


async def _scope(conn: asyncpg.Connection, principal: Principal, code: str, year: int) -> _Scope:
    _check_year(year)
    region = await registry_q.region(conn, code)
    if region is None or not principal.covers_region(code):
        raise not_found("地区")
    if region["level"] not in REGISTER_TITLES:
        raise invalid_field("code", "登记册按村、乡镇、县编制，请选择村、乡镇或县")
    scope = _Scope(region, year)
    scope.households = await q.households_of(conn, scope.county, scope.prefix)
    groups: dict[str, list[PayableGroup]] = {}
    for r in await q.payable_groups(conn, scope.county, scope.prefix, year):
        hid = str(r["household_id"])
        groups.setdefault(hid, []).append(
            PayableGroup(hid, r["source"], r["basis"], r["status"], r["failed"], r["amount"], r["n"])
        )
    holdings: dict[str, list[Any]] = {}
    for r in await q.holdings_at_year_end(conn, scope.county, scope.prefix, year):
        holdings.setdefault(str(r["household_id"]), []).append(r)
    awards: dict[str, list[Any]] = {}
    for r in await q.awards_granted(conn, scope.county, scope.prefix, year):
        awards.setdefault(str(r["household_id"]), []).append(r)
    for h in scope.households:
        hid = str(h["id"])
        held, won = holdings.get(hid, []), awards.get(hid, [])
        facts = HouseholdFacts(
            household_id=hid,
            village_code=h["village_code"],
            people=h["members"],
            ventures=len({r["venture_id"] for r in held}),
            shares=sum(r["shares"] for r in held),
            capital_fen=sum(r["capital"] for r in held),
            awards=len(won),
            awards_fen=sum(r["amount_fen"] for r in won),
        )
        scope.figures[hid] = rules.household_figures(facts, groups.get(hid, []))
    return scope


def _figures_out(f: Figures) -> RegisterFigures:
    return RegisterFigures(
        households=f.households,
        people=f.people,
        ventures=f.ventures,
        shares=f.shares,
        capital_fen=f.capital_fen,
        income_by_kind=dict(f.income),
        owed_fen=f.owed_fen,
        awards=f.awards,
        awards_fen=f.awards_fen,
        paid_fen=f.payments["paid"],
        in_batch_fen=f.payments["in_batch"],
        unpaid_fen=f.payments["unpaid"],
        failed_fen=f.payments["failed"],
    )


async def _rows(conn: asyncpg.Connection, scope: _Scope) -> list[RegisterRow]:
    level = scope.region["level"]
    if level == "village":
        return [
            RegisterRow(
                h["household_no"],
                h["head_name"],
                _figures_out(scope.figures[str(h["id"])]),
                household_id=str(h["id"]),
                id_number_masked=h["head_id_masked"],
                status=h["status"],
            )
            for h in scope.households
        ]
    child = "village" if level == "township" else "township"
    key_of = {
        str(h["id"]): h["village_code"] if child == "village" else rules.township_of(h["village_code"])
        for h in scope.households
    }
    rolled = rules.rolled_up(scope.figures, key_of)
    regions = [r for r in await q.regions_under(conn, scope.county, scope.prefix) if r["level"] == child]
    return [RegisterRow(r["code"], r["name"], _figures_out(rolled.get(r["code"], Figures()))) for r in regions]


async def _ledger_checks(conn: asyncpg.Connection, scope: _Scope, total: Figures) -> list[LedgerCheck]:
    recognised = await q.recognised_against_ledger(conn, scope.county, scope.prefix, scope.year)
    payments = await q.payments_against_ledger(conn, scope.county, scope.prefix)
    return [
        _check("本年应付合计 = 应付款（未冲销）合计", total.owed_fen, recognised["payables"]),
        _check("本年应付款 = 确认应付的记账凭证（含冲销）", recognised["payables"], recognised["ledger"]),
        _check("历年已发放 = 付款记账凭证", payments["paid"], payments["ledger_paid"]),
        _check("历年未发放（含发放中、失败待重发）= 应付科目余额", payments["owed"], payments["ledger_owed"]),
    ]


async def region_register(conn: asyncpg.Connection, principal: Principal, code: str, year: int) -> Register:
    """村有册, 乡镇有簿 or 县有档 of a year, by the region's level, with its totals checked against
    the payables and the ledger to the fen."""
    scope = await _scope(conn, principal, code, year)
    return await _register(conn, scope)


async def _register(conn: asyncpg.Connection, scope: _Scope) -> Register:
    level = scope.region["level"]
    total = rules.total_of(scope.figures.values())
    checks = await _ledger_checks(conn, scope, total)
    return Register(
        title=f"{scope.region['name']} {scope.year} 年{REGISTER_TITLES[level]}",
        region_code=scope.region["code"],
        region_name=scope.region["name"],
        level=level,
        year=scope.year,
        row_kind=ROW_KIND[level],
        rows=await _rows(conn, scope),
        total=_figures_out(total),
        checks=checks,
        agrees_with_ledger=all(c.agrees for c in checks),
    )


async def county_year_report(conn: asyncpg.Connection, principal: Principal, code: str, year: int) -> YearReport:
    """The county's year report: the register by township, award budgets committed by level,
    payments by status and households' income per person against the poverty and 小康 lines."""
    scope = await _scope(conn, principal, code, year)
    if scope.region["level"] != "county":
        raise invalid_field("code", "年度报告按县编制，请选择县")
    lines = await registry_q.poverty_line(conn, year)
    poverty, xiaokang = (lines["poverty_line_fen"], lines["xiaokang_line_fen"]) if lines else (None, None)
    people = {str(h["id"]): h["members"] for h in scope.households}
    recorded = [rules.per_person_fen(f.owed_fen, people[hid]) for hid, f in scope.figures.items()]
    declared = await q.declared_incomes(conn, scope.county, scope.prefix, year)
    by_recorded = rules.income_bins(recorded, poverty, xiaokang)
    by_declared = rules.income_bins(declared, poverty, xiaokang)
    return YearReport(
        title=f"{scope.region['name']} {year} 年度报告（县有档）",
        register=await _register(conn, scope),
        programs=[await _program_budget(conn, p) for p in await q.programs_of_year(conn, scope.county, year)],
        poverty_line_fen=poverty,
        xiaokang_line_fen=xiaokang,
        income_bins=[
            IncomeBinOut(
                r.label,
                r.low_fen,
                r.high_fen,
                rules.line_words(r.low_fen, poverty, xiaokang),
                r.households,
                d.households,
            )
            for r, d in zip(by_recorded, by_declared, strict=True)
        ],
        charts=["income_by_township", "awards_by_level", "payments_by_status", "income_per_person"],
    )


async def _program_budget(conn: asyncpg.Connection, p: asyncpg.Record) -> ProgramBudget:
    """A programme's budget and what is committed, by level, as GET /award-programs/{id} shows them."""
    out = program_out_figures(await program_out(conn, p))
    return ProgramBudget(str(p["id"]), p["name"], p["kind"], p["budget_fen"], p["committed_fen"], out)


def program_out_figures(program: Any) -> list[LevelBudget]:
    return [
        LevelBudget(level, LEVEL_WORDS.get(level, level), figures.budget_fen, figures.committed_fen)
        for level, figures in program.by_level.items()
    ]
