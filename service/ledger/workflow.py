"""verify-ledger: the ledger's invariants, checked against what is stored.

Each check answers ok or names where it failed (at most LIMIT examples), so an auditor can go
straight to the rows. The CLI (`python -m service verify-ledger`) and GET /ledger/verify both run
verify_ledger; the queries are in db/ledger.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from db import ledger as q
from schemas.ledger import Check, Verification

LIMIT = 20  # examples named per failed check


@dataclass(frozen=True)
class Invariant:
    name: str
    failures: Callable[[asyncpg.Connection, int], Awaitable[list[asyncpg.Record]]]
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


async def check(conn: asyncpg.Connection, invariant: Invariant, limit: int = LIMIT) -> Check:
    rows = await invariant.failures(conn, limit)
    if not rows:
        return Check(invariant.name, True, invariant.holds)
    return Check(invariant.name, False, "; ".join(invariant.describe(r) for r in rows))


async def verify_ledger(conn: asyncpg.Connection) -> Verification:
    """Every invariant of the ledger, in order; ok when all hold."""
    checks = [await check(conn, invariant) for invariant in INVARIANTS]
    return Verification(all(c.ok for c in checks), checks)
