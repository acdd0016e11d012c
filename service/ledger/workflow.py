"""verify-ledger: the ledger's invariants, checked against what is stored.

Each check answers ok or names where it failed (at most LIMIT examples), so an auditor can go
straight to the rows. The CLI (`python -m service verify-ledger`) and GET /ledger/verify both run
verify_ledger; the queries are in db/ledger.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from db import ledger as q
from schemas.common import Page
from schemas.ledger import AccountBalance, Check, EntryLineOut, EntryOut, Verification
from service.core.errors import forbidden, invalid_field
from service.core.pagination import DEFAULT_LIMIT, checked_limit, decode_cursor, page_of
from service.core.policy import own_county, venture_for
from service.core.principal import Principal, Role

LIMIT = 20  # examples named per failed check


@dataclass(frozen=True)
class Invariant:
    name: str
    failures: Callable[[asyncpg.Connection, int, str | None], Awaitable[list[asyncpg.Record]]]
    holds: str  # what an auditor reads when it holds
    describe: Callable[[asyncpg.Record], str]  # one failing row, in words


INVARIANTS = (
    Invariant(
        "entries_balance",
        q.unbalanced_entries,
        "每笔分录借贷平衡",
        lambda r: f"entry {r['id']} sums to {r['total']} fen over {r['n']} lines",
    ),
    Invariant(
        "lines_have_a_header",
        q.lines_without_header,
        "每条分录行都有已记账的凭证头",
        lambda r: f"entry {r['entry_id']} has {r['n']} lines and no header",
    ),
    Invariant(
        "ledger_sums_to_zero",
        q.unbalanced_counties,
        "各县全部科目余额合计为零",
        lambda r: f"county {r['county_code']} lines sum to {r['total']} fen",
    ),
    Invariant(
        "balances_equal_lines",
        q.balances_unlike_lines,
        "科目余额等于分录合计",
        lambda r: f"account {r['account_id']} balance {r['balance_fen']} ≠ lines {r['total']}",
    ),
    Invariant(
        "reversed_at_most_once",
        q.entries_reversed_twice,
        "每笔分录至多冲销一次",
        lambda r: f"entry {r['reverses']} reversed {r['n']} times",
    ),
    Invariant(
        "payables_paid_once",
        q.payables_not_paid_once,
        "每笔应付款至多支付一次，且已付款项都有支付记录",
        lambda r: f"payable {r['id']} is {r['status']} with {r['payments']} payments",
    ),
    Invariant(
        "member_capital_equals_register",
        q.member_capital_unlike_register,
        "合作社成员账户股金合计等于股权登记簿",
        lambda r: f"venture {r['id']} member accounts {r['accounts']} ≠ register {r['register']}",
    ),
    Invariant(
        "member_subsidies_equal_receipts",
        q.member_subsidies_unlike_receipts,
        "成员账户量化的补助等于收到的补助",
        lambda r: f"venture {r['id']} quantified {r['accounts']} ≠ received {r['received']}",
    ),
)


async def check(
    conn: asyncpg.Connection, invariant: Invariant, limit: int = LIMIT, county_code: str | None = None
) -> Check:
    rows = await invariant.failures(conn, limit, county_code)
    if not rows:
        return Check(invariant.name, True, invariant.holds)
    return Check(invariant.name, False, "; ".join(invariant.describe(r) for r in rows))


async def verify_ledger(conn: asyncpg.Connection, county_code: str | None = None) -> Verification:
    """Every invariant of the ledger, in order, in one county or (None) in all; ok when all hold."""
    checks = [await check(conn, invariant, county_code=county_code) for invariant in INVARIANTS]
    return Verification(all(c.ok for c in checks), checks, county_code)


async def verify_ledger_for(
    conn: asyncpg.Connection, principal: Principal, county_code: str | None = None
) -> Verification:
    """GET /ledger/verify: a county's auditors and finance office verify their own county's books
    (whether another county's pass is not theirs to learn); the admin any county, or all of them."""
    if principal.is_admin:
        return await verify_ledger(conn, county_code)
    own = own_county(principal)
    if principal.role not in LEDGER_READERS or not principal.region_code or (county_code and county_code != own):
        raise forbidden("只能核对本县的账簿")
    return await verify_ledger(conn, own)


# ---- the trial balance (科目余额表) and the journal (凭证) ------------------------------------------

LEDGER_READERS = (Role.ADMIN, Role.AUDITOR, Role.FINANCE_OFFICER, Role.FINANCE_APPROVER)


async def _books_scope(
    conn: asyncpg.Connection, principal: Principal, county_code: str | None, venture_id: str | None
) -> tuple[str | None, str | None, str]:
    """(county, venture, the county the lines live in) the caller may read: a venture's books for
    whoever may read the venture, a county's for its finance office and auditors (and the admin)."""
    if venture_id:
        v = await venture_for(conn, principal, venture_id)
        if county_code and county_code != v["county_code"]:
            raise invalid_field("county_code", "该经营主体不在此县")
        return v["county_code"], str(v["id"]), v["county_code"]
    if not county_code:
        raise invalid_field("venture_id", "请指定经营主体（venture_id）或县（county_code）")
    if principal.role not in LEDGER_READERS or not principal.covers_county(county_code):
        raise forbidden("只能查看本县的账簿")
    return county_code, None, county_code


async def trial_balance(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    county_code: str | None = None,
    venture_id: str | None = None,
    as_of: dt.date | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AccountBalance]:
    """The trial balance (科目余额表) of a venture or a county as of a day: per account its debits,
    credits and balance (debit positive), by account code."""
    county, venture, _ = await _books_scope(conn, principal, county_code, venture_id)
    after = decode_cursor(cursor, str, str)
    rows = await q.trial_balance_page(
        conn,
        county_code=county,
        venture_id=venture,
        as_of=as_of,
        after=(str(after[0]), str(after[1])) if after else None,
        limit=checked_limit(limit) + 1,
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["code"], str(r["id"])])
    return Page(
        [
            AccountBalance(
                str(r["id"]),
                r["code"],
                r["name"],
                r["owner_type"],
                r["owner_id"],
                r["debit_fen"],
                r["credit_fen"],
                r["balance_fen"],
            )
            for r in page
        ],
        next_cursor,
    )


async def journal(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    county_code: str | None = None,
    venture_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[EntryOut]:
    """The journal (凭证) of a venture or a county by date, each entry with its lines."""
    county, venture, lines_county = await _books_scope(conn, principal, county_code, venture_id)
    after = decode_cursor(cursor, dt.date, str)
    rows = await q.entries_page(
        conn,
        county_code=county,
        venture_id=venture,
        since=since,
        until=until,
        after=(after[0], after[1]) if after else None,
        limit=checked_limit(limit) + 1,
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["posted_on"].isoformat(), str(r["id"])])
    lines: dict[str, list[EntryLineOut]] = {}
    for r in await q.lines_of_entries(conn, lines_county, [e["id"] for e in page]):
        amount = r["amount_fen"]
        lines.setdefault(str(r["entry_id"]), []).append(
            EntryLineOut(
                r["line_no"],
                r["code"],
                r["name"],
                max(amount, 0),
                max(-amount, 0),
                str(r["party_id"]) if r["party_id"] else None,
            )
        )
    return Page(
        [
            EntryOut(
                str(e["id"]),
                e["posted_on"],
                e["source_type"],
                e["source_id"],
                e["memo"],
                str(e["reverses"]) if e["reverses"] else None,
                lines.get(str(e["id"]), []),
            )
            for e in page
        ],
        next_cursor,
    )
