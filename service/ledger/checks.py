"""verify-ledger: the ledger's invariants, checked against what is stored.

Each check answers ok or names where it failed, so an auditor can go straight to the rows.
"""

from __future__ import annotations

import asyncpg
import msgspec

LIMIT = 20  # examples named per failed check


class Check(msgspec.Struct):
    name: str
    ok: bool
    detail: str


class Verification(msgspec.Struct):
    ok: bool
    checks: list[Check]


async def _check(conn: asyncpg.Connection, name: str, sql: str, ok_text: str, describe) -> Check:
    rows = await conn.fetch(sql + f" LIMIT {LIMIT}")
    if not rows:
        return Check(name, True, ok_text)
    return Check(name, False, "; ".join(describe(r) for r in rows))


async def verify_ledger(conn: asyncpg.Connection) -> Verification:
    checks = [
        await _check(
            conn,
            "entries_balance",
            """SELECT e.county_code, e.id, coalesce(sum(l.amount_fen), 0) AS total, count(l.*) AS n
               FROM journal_entries e LEFT JOIN journal_lines l ON l.county_code = e.county_code AND l.entry_id = e.id
               GROUP BY e.county_code, e.id HAVING coalesce(sum(l.amount_fen), 0) <> 0 OR count(l.*) < 2""",
            "每笔分录借贷平衡",
            lambda r: f"entry {r['id']} sums to {r['total']} fen over {r['n']} lines",
        ),
        await _check(
            conn,
            "ledger_sums_to_zero",
            "SELECT county_code, sum(amount_fen) AS total FROM journal_lines GROUP BY county_code HAVING sum(amount_fen) <> 0",
            "各县全部科目余额合计为零",
            lambda r: f"county {r['county_code']} lines sum to {r['total']} fen",
        ),
        await _check(
            conn,
            "balances_equal_lines",
            """SELECT coalesce(b.account_id, s.account_id) AS account_id, b.balance_fen, s.total
               FROM account_balances b FULL JOIN (
                   SELECT county_code, account_id, sum(amount_fen) AS total FROM journal_lines GROUP BY 1, 2) s
                 ON s.county_code = b.county_code AND s.account_id = b.account_id
               WHERE coalesce(b.balance_fen, 0) <> coalesce(s.total, 0)""",
            "科目余额等于分录合计",
            lambda r: f"account {r['account_id']} balance {r['balance_fen']} ≠ lines {r['total']}",
        ),
        await _check(
            conn,
            "reversed_at_most_once",
            """SELECT county_code, reverses, count(*) AS n FROM journal_entries WHERE reverses IS NOT NULL
               GROUP BY 1, 2 HAVING count(*) > 1""",
            "每笔分录至多冲销一次",
            lambda r: f"entry {r['reverses']} reversed {r['n']} times",
        ),
        await _check(
            conn,
            "payables_paid_once",
            """SELECT p.county_code, p.id, p.status, count(pp.*) AS payments FROM payables p
               LEFT JOIN payable_payments pp ON pp.county_code = p.county_code AND pp.payable_id = p.id
               GROUP BY p.county_code, p.id, p.status
               HAVING count(pp.*) > 1 OR (p.status = 'paid') <> (count(pp.*) = 1)""",
            "每笔应付款至多支付一次，且已付款项都有支付记录",
            lambda r: f"payable {r['id']} is {r['status']} with {r['payments']} payments",
        ),
        await _check(
            conn,
            "member_capital_equals_register",
            """SELECT v.id, coalesce(a.total, 0) AS accounts, coalesce(s.total, 0) AS register
               FROM ventures v
               LEFT JOIN (SELECT venture_id, sum(amount_fen) AS total FROM member_account_movements
                          WHERE kind = 'capital' GROUP BY 1) a ON a.venture_id = v.id
               LEFT JOIN (SELECT venture_id, sum(CASE kind WHEN 'subscribe' THEN capital_fen
                                                           WHEN 'redeem' THEN -capital_fen ELSE 0 END) AS total
                          FROM share_movements GROUP BY 1) s ON s.venture_id = v.id
               WHERE v.model = 'cooperative' AND coalesce(a.total, 0) <> coalesce(s.total, 0)""",
            "合作社成员账户股金合计等于股权登记簿",
            lambda r: f"venture {r['id']} member accounts {r['accounts']} ≠ register {r['register']}",
        ),
        await _check(
            conn,
            "member_subsidies_equal_receipts",
            """SELECT v.id, coalesce(a.total, 0) AS accounts, coalesce(s.total, 0) AS received
               FROM ventures v
               LEFT JOIN (SELECT venture_id, sum(amount_fen) AS total FROM member_account_movements
                          WHERE kind = 'subsidy' GROUP BY 1) a ON a.venture_id = v.id
               LEFT JOIN (SELECT venture_id, sum(amount_fen) AS total FROM subsidies GROUP BY 1) s ON s.venture_id = v.id
               WHERE coalesce(a.total, 0) <> coalesce(s.total, 0)""",
            "成员账户量化的补助等于收到的补助",
            lambda r: f"venture {r['id']} quantified {r['accounts']} ≠ received {r['received']}",
        ),
    ]
    return Verification(all(c.ok for c in checks), checks)
