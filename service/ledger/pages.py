"""The console's books: a venture's trial balance (科目余额表) as of a day and its journal (凭证) by
date, and a county's for its finance office and auditors; and the auditor's view of
`verify-ledger` (账簿核验), every check with its details; from service/ledger/workflow.py."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from litestar import Response

from schemas.ledger import AccountBalance, EntryOut
from service.console.forms import parse_date
from service.console.layout import Desk, error_page, render
from service.console.routing import console_get
from service.console.tables import Column, Table, listing, table_page, wants_xlsx, xlsx_answer
from service.console.words import SOURCE_WORDS
from service.core.errors import forbidden
from service.core.policy import own_county
from service.core.principal import Role
from service.ledger.workflow import INVARIANTS, journal, trial_balance, verify_ledger_for
from service.registry.workflow import region_names
from service.ventures.pages import open_venture

BALANCE_COLUMNS = [
    Column("code", "科目代码"),
    Column("name", "科目名称"),
    Column("owner", "核算对象"),
    Column("debit", "借方发生额（元）", "yuan"),
    Column("credit", "贷方发生额（元）", "yuan"),
    Column("side", "方向"),
    Column("balance", "余额（元）", "yuan"),
]
JOURNAL_COLUMNS = [
    Column("date", "日期", "date"),
    Column("entry", "凭证号"),
    Column("memo", "摘要"),
    Column("source", "来源"),
    Column("account", "科目"),
    Column("debit", "借方（元）", "yuan"),
    Column("credit", "贷方（元）", "yuan"),
]
OWNER_WORDS = {"venture": "本单位", "household": "农户", "program": "奖励项目", "county": "县", "member": "成员"}


def balance_row(a: AccountBalance) -> dict[str, Any]:
    side = "借" if a.balance_fen > 0 else ("贷" if a.balance_fen < 0 else "平")
    return {
        "code": a.code,
        "name": a.name,
        "owner": OWNER_WORDS.get(a.owner_type, a.owner_type),
        "debit": a.debit_fen,
        "credit": a.credit_fen,
        "side": side,
        "balance": abs(a.balance_fen),
    }


def entry_rows(e: EntryOut) -> list[dict[str, Any]]:
    """An entry as the journal prints it: its date, number and memo on its first line."""
    rows = []
    for n, line in enumerate(e.lines):
        first = n == 0
        rows.append(
            {
                "date": e.posted_on if first else None,
                "entry": e.id[:8] if first else "",
                "memo": e.memo if first else "",
                "source": SOURCE_WORDS.get(e.source_type, e.source_type) if first else "",
                "account": f"{line.code} {line.name}",
                "debit": line.debit_fen or None,
                "credit": line.credit_fen or None,
            }
        )
    return rows


async def balances(
    desk: Desk, conn: asyncpg.Connection, *, venture_id: str | None, county_code: str | None, title: str
) -> Table:
    as_of = parse_date(desk.query.get("as_of", ""))

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await trial_balance(
            conn,
            desk.principal,
            venture_id=venture_id,
            county_code=county_code,
            as_of=as_of,
            limit=limit,
            cursor=cursor,
        )
        return [balance_row(a) for a in page.items], page.next_cursor

    table = await listing(desk, fetch, BALANCE_COLUMNS, title=title, filename="trial-balance", page_size=200)
    table.totals = {
        "name": "本页合计" if table.next_cursor else "合计",
        "debit": sum(r["debit"] for r in table.rows),
        "credit": sum(r["credit"] for r in table.rows),
    }
    return table


async def entries(
    desk: Desk, conn: asyncpg.Connection, *, venture_id: str | None, county_code: str | None, title: str
) -> Table:
    since, until = parse_date(desk.query.get("from", "")), parse_date(desk.query.get("to", ""))

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await journal(
            conn,
            desk.principal,
            venture_id=venture_id,
            county_code=county_code,
            since=since,
            until=until,
            limit=max(1, limit // 4),
            cursor=cursor,
        )
        return [row for e in page.items for row in entry_rows(e)], page.next_cursor

    return await listing(desk, fetch, JOURNAL_COLUMNS, title=title, filename="journal", page_size=100)


@console_get("/console/ventures/{venture_id:str}/ledger")
async def venture_ledger_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    venture = await open_venture(desk, conn, venture_id, "ledger")
    table = await balances(desk, conn, venture_id=venture_id, county_code=None, title="科目余额表")
    return table_page(desk, table, "console/ledger.html", heading=f"{venture.name} 科目余额表", journal=False)


@console_get("/console/ventures/{venture_id:str}/journal")
async def venture_journal_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    venture = await open_venture(desk, conn, venture_id, "journal")
    table = await entries(desk, conn, venture_id=venture_id, county_code=None, title="凭证")
    return table_page(desk, table, "console/ledger.html", heading=f"{venture.name} 凭证", journal=True)


@console_get("/console/ledger")
async def county_ledger_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "books"
    county = desk.query.get("county") or own_county(desk.principal)
    if desk.query.get("view") == "journal":
        table = await entries(desk, conn, venture_id=None, county_code=county, title="县级凭证")
    else:
        table = await balances(desk, conn, venture_id=None, county_code=county, title="县级科目余额表")
    if wants_xlsx(desk):
        return xlsx_answer(table, desk)
    return render(
        desk,
        "console/ledger.html",
        table=table,
        heading=f"{table.title}（{county}）",
        journal=desk.query.get("view") == "journal",
    )


# What each check of verify-ledger asks, as an auditor says it.
CHECK_QUESTIONS = {
    "entries_balance": "每笔分录借贷是否平衡",
    "ledger_sums_to_zero": "各县全部科目余额合计是否为零",
    "balances_equal_lines": "科目余额是否等于其分录合计",
    "reversed_at_most_once": "是否有分录被冲销两次",
    "payables_paid_once": "是否有应付款重复支付或已付无支付记录",
    "member_capital_equals_register": "合作社成员账户股金是否等于股权登记簿",
    "member_subsidies_equal_receipts": "成员账户量化的财政补助是否等于收到的补助",
}
VERIFIERS = (Role.AUDITOR, Role.ADMIN)
COUNTY_CODE = re.compile(r"[0-9]{12}")


@console_get("/console/verify")
async def verify_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    """Every invariant of the reader's county's books checked now, as `python -m service
    verify-ledger` does and as GET /ledger/verify answers: an auditor learns nothing of another
    county's books, not even whether they pass; the admin verifies every county, or the one named."""
    desk.section = "verify"
    if desk.role not in VERIFIERS:
        raise forbidden("只有审计人员可以核验账簿")
    county = (desk.query.get("county") or None) if desk.principal.is_admin else None
    if county is not None and not COUNTY_CODE.fullmatch(county):
        return error_page(desk, 422, "县级区域代码应为 12 位数字", heading="无法核验")
    result = await verify_ledger_for(conn, desk.principal, county)
    county = result.county_code
    scope = "全部县" if county is None else f"{(await region_names(conn, [county]))[county]}（{county}）"
    holds = {invariant.name: invariant.holds for invariant in INVARIANTS}
    return render(desk, "console/verify.html", result=result, scope=scope, questions=CHECK_QUESTIONS, holds=holds)


PAGES = [venture_ledger_page, venture_journal_page, county_ledger_page, verify_page]
