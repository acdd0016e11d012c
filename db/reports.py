"""Queries behind the statutory statements and the registers: read-only, every figure from the
ledger (journal lines of the venture's or the payables' accounts) and the register (share
movements, member accounts, trades, payables, awards).

Years: a distribution belongs to its fiscal year (its entry is posted after the year ends), a
settlement to its season, an award to its programme's year; share capital and subsidies to the
day they were posted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

# ---- a venture's books ------------------------------------------------------------------------


async def distribution_books(conn: asyncpg.Connection, venture: asyncpg.Record) -> list[asyncpg.Record]:
    """(fiscal_year, code, amount) summed over the journal lines of each posted plan's entry:
    what each year's distribution wrote to 331, 332, 322, 221, 222 … (debit positive)."""
    return await conn.fetch(
        """SELECT d.fiscal_year, a.code, sum(l.amount_fen)::bigint AS amount
           FROM distributions d
           JOIN journal_lines l ON l.county_code = d.county_code AND l.entry_id = d.entry_id
           JOIN accounts a ON a.county_code = l.county_code AND a.id = l.account_id
           WHERE d.county_code = $1 AND d.venture_id = $2 AND d.status = 'posted'
           GROUP BY d.fiscal_year, a.code""",
        venture["county_code"],
        venture["id"],
    )


async def posted_plans(conn: asyncpg.Connection, venture: asyncpg.Record) -> list[asyncpg.Record]:
    """Every posted plan of the venture, with the day its entry was posted and its income statement."""
    return await conn.fetch(
        """SELECT d.id, d.fiscal_year, d.profit_fen, e.posted_on,
                  i.operating_income_fen, i.investment_income_fen, i.operating_expense_fen, i.taxes_fen,
                  i.admin_expense_fen, i.finance_expense_fen, i.other_income_fen, i.other_expense_fen,
                  i.income_tax_fen, i.distribution_id IS NOT NULL AS has_income_statement
           FROM distributions d
           LEFT JOIN journal_entries e ON e.county_code = d.county_code AND e.id = d.entry_id
           LEFT JOIN income_statements i ON i.county_code = d.county_code AND i.distribution_id = d.id
           WHERE d.county_code = $1 AND d.venture_id = $2 AND d.status = 'posted'
           ORDER BY d.fiscal_year""",
        venture["county_code"],
        venture["id"],
    )


async def appropriation_balance(conn: asyncpg.Connection, venture: asyncpg.Record, code: str, year: int) -> int:
    """The balance an account holds from the entries of every plan of fiscal years up to `year`
    and their reversals, read from the journal lines themselves (a check on the statement)."""
    total: int = await conn.fetchval(
        """SELECT coalesce(sum(l.amount_fen), 0)::bigint
           FROM distributions d
           JOIN journal_entries e ON e.county_code = d.county_code AND (e.id = d.entry_id OR e.reverses = d.entry_id)
           JOIN journal_lines l ON l.county_code = e.county_code AND l.entry_id = e.id
           JOIN accounts a ON a.county_code = l.county_code AND a.id = l.account_id
           WHERE d.county_code = $1 AND d.venture_id = $2 AND d.fiscal_year <= $3 AND d.entry_id IS NOT NULL
             AND a.owner_type = 'venture' AND a.owner_id = $4 AND a.code = $5""",
        venture["county_code"],
        venture["id"],
        year,
        str(venture["id"]),
        code,
    )
    return total


async def capital_movements(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> list[asyncpg.Record]:
    """Per account code (301 股金, 311 专项基金; 4001 for companies): the balance before the year,
    and the year's credits and debits, from entries other than distributions (posted_on decides)."""
    return await conn.fetch(
        """SELECT a.code,
                  coalesce(sum(l.amount_fen) FILTER (WHERE e.posted_on < make_date($3, 1, 1)), 0)::bigint AS opening,
                  coalesce(-sum(l.amount_fen) FILTER (WHERE e.posted_on >= make_date($3, 1, 1) AND l.amount_fen < 0),
                           0)::bigint AS credits,
                  coalesce(sum(l.amount_fen) FILTER (WHERE e.posted_on >= make_date($3, 1, 1) AND l.amount_fen > 0),
                           0)::bigint AS debits
           FROM accounts a
           JOIN journal_lines l ON l.county_code = a.county_code AND l.account_id = a.id
           JOIN journal_entries e ON e.county_code = l.county_code AND e.id = l.entry_id
           WHERE a.county_code = $1 AND a.owner_type = 'venture' AND a.owner_id = $2
             AND a.code = ANY($4::text[]) AND e.posted_on <= make_date($3, 12, 31)
           GROUP BY a.code""",
        venture["county_code"],
        str(venture["id"]),
        year,
        ["301", "311", "4001"],
    )


async def account_balances(conn: asyncpg.Connection, venture: asyncpg.Record) -> dict[str, int]:
    """The venture's accounts as the ledger keeps them now, by code (debit positive)."""
    rows = await conn.fetch(
        """SELECT a.code, coalesce(sum(b.balance_fen), 0)::bigint AS balance FROM accounts a
           LEFT JOIN account_balances b ON b.county_code = a.county_code AND b.account_id = a.id
           WHERE a.county_code = $1 AND a.owner_type = 'venture' AND a.owner_id = $2 GROUP BY a.code""",
        venture["county_code"],
        str(venture["id"]),
    )
    return {r["code"]: r["balance"] for r in rows}


# ---- 成员账户 -----------------------------------------------------------------------------------------


async def account_movements(
    conn: asyncpg.Connection, venture: asyncpg.Record, member_ids: Sequence[uuid.UUID], year: int
) -> list[asyncpg.Record]:
    """Member-account movements up to the end of the year with what caused each: the share
    movement (its date, kind, class), the subsidy (received on, source) or the plan (posted on).
    Movements of a plan later reversed, and their reversal, are left out: they cancel."""
    return await conn.fetch(
        """SELECT m.member_id, m.year, m.kind, m.amount_fen, m.source_type, m.created_at,
                  sm.effective_date, sm.kind AS movement_kind, sm.share_class, sm.shares, sm.register_no,
                  sm.from_member_id, s.received_on, s.source AS subsidy_source, d.fiscal_year, e.posted_on
           FROM member_account_movements m
           LEFT JOIN share_movements sm ON m.source_type = 'share_movement' AND sm.county_code = m.county_code
                AND sm.id = CASE WHEN m.source_type = 'share_movement' THEN m.source_id::uuid END
           LEFT JOIN subsidies s ON m.source_type = 'subsidy' AND s.county_code = m.county_code
                AND s.id = CASE WHEN m.source_type = 'subsidy' THEN m.source_id::uuid END
           LEFT JOIN distributions d ON m.source_type IN ('distribution', 'distribution_reversal')
                AND d.county_code = m.county_code
                AND d.id = CASE WHEN m.source_type IN ('distribution', 'distribution_reversal') THEN m.source_id::uuid END
           LEFT JOIN journal_entries e ON e.county_code = d.county_code AND e.id = d.entry_id
           WHERE m.venture_id = $1 AND m.member_id = ANY($2::uuid[]) AND m.year <= $3
             AND (d.id IS NULL OR d.status = 'posted')
           ORDER BY m.member_id, m.created_at""",
        venture["id"],
        list(member_ids),
        year,
    )


async def member_trades(
    conn: asyncpg.Connection, venture: asyncpg.Record, member_ids: Sequence[uuid.UUID], year: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT member_id, traded_on, product, quantity_g, amount_fen, created_at FROM trades
           WHERE venture_id = $1 AND member_id = ANY($2::uuid[])
             AND traded_on BETWEEN make_date($3, 1, 1) AND make_date($3, 12, 31)
           ORDER BY member_id, traded_on, created_at""",
        venture["id"],
        list(member_ids),
        year,
    )


async def member_distribution_lines(
    conn: asyncpg.Connection, venture: asyncpg.Record, member_ids: Sequence[uuid.UUID], year: int
) -> list[asyncpg.Record]:
    """The members' lines of the year's posted plan, with the day it was posted."""
    return await conn.fetch(
        """SELECT l.member_id, l.basis, l.amount_fen, l.line_no, e.posted_on, d.fiscal_year
           FROM distributions d
           JOIN distribution_lines l ON l.county_code = d.county_code AND l.distribution_id = d.id
           JOIN journal_entries e ON e.county_code = d.county_code AND e.id = d.entry_id
           WHERE d.county_code = $1 AND d.venture_id = $2 AND d.fiscal_year = $3 AND d.status = 'posted'
             AND l.member_id = ANY($4::uuid[])
           ORDER BY l.member_id, l.line_no""",
        venture["county_code"],
        venture["id"],
        year,
        list(member_ids),
    )


# ---- plans, holders ---------------------------------------------------------------------------------


async def year_plan(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> asyncpg.Record | None:
    """The year's plan that is not reversed (a draft for the meeting, or further on)."""
    return await conn.fetchrow(
        """SELECT * FROM distributions WHERE county_code = $1 AND venture_id = $2 AND fiscal_year = $3
             AND status <> 'reversed'""",
        venture["county_code"],
        venture["id"],
        year,
    )


async def plan_lines(conn: asyncpg.Connection, plan: asyncpg.Record) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT l.member_id, l.basis, l.weight, l.amount_fen, l.explanation, m.member_no, m.name, m.kind,
                  h.household_no
           FROM distribution_lines l
           JOIN venture_members m ON m.county_code = l.county_code AND m.id = l.member_id
           LEFT JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id
           WHERE l.county_code = $1 AND l.distribution_id = $2
           ORDER BY m.member_no, l.line_no""",
        plan["county_code"],
        plan["id"],
    )


async def members_with_households(conn: asyncpg.Connection, venture: asyncpg.Record) -> list[asyncpg.Record]:
    """The venture's members, with the household's number, masked ID and head for household members."""
    return await conn.fetch(
        """SELECT m.id, m.member_no, m.kind, m.name, m.household_id, h.household_no, h.head_name,
                  h.head_id_masked
           FROM venture_members m LEFT JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id
           WHERE m.venture_id = $1 ORDER BY m.member_no""",
        venture["id"],
    )


async def certificate_holding(
    conn: asyncpg.Connection, venture: asyncpg.Record, certificate_no: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT member_id, share_class FROM share_certificates WHERE county_code = $1 AND venture_id = $2 "
        "AND certificate_no = $3",
        venture["county_code"],
        venture["id"],
        certificate_no,
    )


# ---- notices ---------------------------------------------------------------------------------------


async def notice_subjects(conn: asyncpg.Connection, notice: asyncpg.Record) -> list[asyncpg.Record]:
    """Every subject of a notice, masked, by village and household number (the printed list)."""
    return await conn.fetch(
        """SELECT s.subject_id, s.amount_fen, h.household_no, h.head_name_masked, h.head_id_masked,
                  v.name AS village_name
           FROM notice_subjects s
           JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
           JOIN regions v ON v.code = h.village_code
           WHERE s.county_code = $1 AND s.notice_id = $2
           ORDER BY h.village_code, h.household_no""",
        notice["county_code"],
        notice["id"],
    )


async def notice_source(conn: asyncpg.Connection, notice: asyncpg.Record) -> asyncpg.Record | None:
    """What a notice publishes: the programme, or the plan's venture (name and village)."""
    if notice["kind"] == "award":
        return await conn.fetchrow(
            "SELECT name, year, NULL::char(12) AS village_code FROM award_programs WHERE county_code = $1 AND id = $2",
            notice["county_code"],
            uuid.UUID(notice["source_id"]),
        )
    return await conn.fetchrow(
        """SELECT v.name, d.fiscal_year AS year, v.village_code FROM distributions d
           JOIN ventures v ON v.county_code = d.county_code AND v.id = d.venture_id
           WHERE d.county_code = $1 AND d.id = $2""",
        notice["county_code"],
        uuid.UUID(notice["source_id"]),
    )


# ---- registers ------------------------------------------------------------------------------------

# The payables of the households of a region (county code, a region-code prefix) that belong to a
# year, each with the year of its source. $4 narrows them to one household. A region is the range
# of codes its prefix spans (not LIKE 'prefix%', whose row estimate led the planner to nested loops
# over the ledger: 9 s instead of 0.2 s for a township of 5,000 households).
_SCOPED_PAYABLES = """
    SELECT p.household_id, p.source, split_part(p.source_ref, ':', 2) AS basis, p.status,
           (p.status = 'unpaid' AND p.failure_reason IS NOT NULL) AS failed, p.amount_fen, p.entry_id,
           p.payable_account_id
    FROM payables p
    JOIN households h ON h.county_code = p.county_code AND h.id = p.household_id
    LEFT JOIN distributions d ON p.source = 'distribution' AND d.county_code = p.county_code
         AND d.id = CASE WHEN p.source = 'distribution' THEN p.source_id::uuid END
    LEFT JOIN farming_settlements s ON p.source = 'settlement' AND s.county_code = p.county_code
         AND s.id = CASE WHEN p.source = 'settlement' THEN p.source_id::uuid END
    LEFT JOIN awards w ON p.source = 'award' AND w.county_code = p.county_code AND w.payable_id = p.id
    LEFT JOIN award_programs ap ON ap.county_code = w.county_code AND ap.id = w.program_id
    WHERE p.county_code = $1 AND h.village_code BETWEEN rpad($2, 12, '0') AND rpad($2, 12, '9') AND ($4::uuid IS NULL OR p.household_id = $4)
      AND coalesce(d.fiscal_year, s.season_year, ap.year) = $3
"""

_PAYABLE_GROUPS = (
    "SELECT household_id, source, basis, status, failed, sum(amount_fen)::bigint AS amount, count(*) AS n FROM ("
    + _SCOPED_PAYABLES
    + ") x GROUP BY household_id, source, basis, status, failed"
)

# The year's payables against the ledger: the lines their recognising entries (and any reversal of
# those) wrote to the payable accounts for those households.
_RECOGNISED = (
    "WITH scoped AS ("
    + _SCOPED_PAYABLES
    + """), keys AS (SELECT DISTINCT entry_id, payable_account_id, household_id FROM scoped),
    entries AS (
        SELECT DISTINCT entry_id AS original, entry_id AS id FROM keys
        UNION SELECT r.reverses, r.id FROM journal_entries r
              WHERE r.county_code = $1 AND r.reverses IN (SELECT entry_id FROM keys))
    SELECT (SELECT coalesce(sum(amount_fen), 0) FROM scoped WHERE status <> 'cancelled')::bigint AS payables,
           coalesce(-sum(l.amount_fen), 0)::bigint AS ledger
    FROM entries e
    JOIN journal_lines l ON l.county_code = $1 AND l.entry_id = e.id
    JOIN keys k ON k.entry_id = e.original AND k.payable_account_id = l.account_id AND k.household_id = l.party_id"""
)


async def payable_groups(
    conn: asyncpg.Connection, county_code: str, prefix: str, year: int, household_id: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    return await conn.fetch(_PAYABLE_GROUPS, county_code, prefix, year, household_id)


async def recognised_against_ledger(
    conn: asyncpg.Connection, county_code: str, prefix: str, year: int
) -> asyncpg.Record:
    row = await conn.fetchrow(_RECOGNISED, county_code, prefix, year, None)
    assert row is not None  # an aggregate always answers a row
    return row


async def payments_against_ledger(conn: asyncpg.Connection, county_code: str, prefix: str) -> asyncpg.Record:
    """All years, the region's households: paid payables against the payment entries' lines, and
    payables still owed against the balance the payable accounts hold for those households."""
    row = await conn.fetchrow(
        """WITH hh AS (SELECT id FROM households WHERE county_code = $1 AND village_code BETWEEN rpad($2, 12, '0') AND rpad($2, 12, '9')),
           mine AS (SELECT p.* FROM payables p JOIN hh ON hh.id = p.household_id WHERE p.county_code = $1),
           accounts AS (SELECT DISTINCT payable_account_id AS account_id, household_id FROM mine),
           paid_keys AS (SELECT DISTINCT pp.entry_id, m.payable_account_id, m.household_id
                         FROM mine m JOIN payable_payments pp ON pp.county_code = m.county_code AND pp.payable_id = m.id)
           SELECT (SELECT coalesce(sum(amount_fen), 0) FROM mine WHERE status = 'paid')::bigint AS paid,
                  (SELECT coalesce(sum(l.amount_fen), 0) FROM paid_keys k
                     JOIN journal_lines l ON l.county_code = $1 AND l.entry_id = k.entry_id
                      AND l.account_id = k.payable_account_id AND l.party_id = k.household_id)::bigint AS ledger_paid,
                  (SELECT coalesce(sum(amount_fen), 0) FROM mine WHERE status IN ('unpaid', 'in_batch'))::bigint AS owed,
                  (SELECT coalesce(-sum(l.amount_fen), 0) FROM accounts a
                     JOIN journal_lines l ON l.county_code = $1 AND l.party_id = a.household_id
                      AND l.account_id = a.account_id)::bigint AS ledger_owed""",
        county_code,
        prefix,
    )
    assert row is not None
    return row


async def households_of(
    conn: asyncpg.Connection, county_code: str, prefix: str, household_id: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, household_no, head_name, head_id_masked, village_code, members, status FROM households
           WHERE county_code = $1 AND village_code BETWEEN rpad($2, 12, '0') AND rpad($2, 12, '9') AND ($3::uuid IS NULL OR id = $3)
           ORDER BY household_no""",
        county_code,
        prefix,
        household_id,
    )


async def holdings_at_year_end(
    conn: asyncpg.Connection, county_code: str, prefix: str, year: int, household_id: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    """Per household member of a venture: the venture, share class and what it held on 31 December."""
    return await conn.fetch(
        """SELECT m.household_id, m.venture_id, v.name AS venture_name, sm.share_class, c.certificate_no,
                  sum(CASE WHEN sm.to_member_id = m.id THEN sm.shares ELSE -sm.shares END)::bigint AS shares,
                  sum(CASE WHEN sm.to_member_id = m.id THEN sm.capital_fen ELSE -sm.capital_fen END)::bigint AS capital
           FROM venture_members m
           JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id
           JOIN ventures v ON v.county_code = m.county_code AND v.id = m.venture_id
           JOIN share_movements sm ON sm.county_code = m.county_code AND sm.venture_id = m.venture_id
                AND (sm.to_member_id = m.id OR sm.from_member_id = m.id) AND sm.effective_date <= make_date($3, 12, 31)
           LEFT JOIN share_certificates c ON c.county_code = m.county_code AND c.venture_id = m.venture_id
                AND c.member_id = m.id AND c.share_class = sm.share_class
           WHERE m.county_code = $1 AND h.village_code BETWEEN rpad($2, 12, '0') AND rpad($2, 12, '9') AND ($4::uuid IS NULL OR m.household_id = $4)
           GROUP BY m.household_id, m.venture_id, v.name, sm.share_class, c.certificate_no
           HAVING sum(CASE WHEN sm.to_member_id = m.id THEN sm.shares ELSE -sm.shares END) <> 0
           ORDER BY m.household_id, v.name, sm.share_class""",
        county_code,
        prefix,
        year,
        household_id,
    )


async def awards_granted(
    conn: asyncpg.Connection, county_code: str, prefix: str, year: int, household_id: uuid.UUID | None = None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT w.household_id, w.kind, w.serial, w.amount_fen, w.granted_on, p.name AS program_name
           FROM awards w
           JOIN households h ON h.county_code = w.county_code AND h.id = w.household_id
           JOIN award_programs p ON p.county_code = w.county_code AND p.id = w.program_id
           WHERE w.county_code = $1 AND h.village_code BETWEEN rpad($2, 12, '0') AND rpad($2, 12, '9') AND w.year = $3
             AND ($4::uuid IS NULL OR w.household_id = $4)
           ORDER BY w.household_id, w.granted_on""",
        county_code,
        prefix,
        year,
        household_id,
    )


async def regions_under(conn: asyncpg.Connection, county_code: str, prefix: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT code, name, level, parent_code FROM regions
           WHERE county_code = $1 AND code BETWEEN rpad($2, 12, '0') AND rpad($2, 12, '9') AND level IN ('township', 'village') ORDER BY code""",
        county_code,
        prefix,
    )


async def programs_of_year(conn: asyncpg.Connection, county_code: str, year: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM award_programs WHERE county_code = $1 AND year = $2 ORDER BY kind, created_at",
        county_code,
        year,
    )


async def declared_incomes(conn: asyncpg.Connection, county_code: str, prefix: str, year: int) -> list[int]:
    """Each household's latest declared income per person (人均纯收入) in the year's applications."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (a.household_id) a.declared_income_fen
           FROM award_applications a JOIN award_programs p ON p.county_code = a.county_code AND p.id = a.program_id
           WHERE a.county_code = $1 AND a.village_code BETWEEN rpad($2, 12, '0') AND rpad($2, 12, '9') AND p.year = $3
           ORDER BY a.household_id, a.created_at DESC""",
        county_code,
        prefix,
        year,
    )
    return [r["declared_income_fen"] for r in rows]


async def payable_batches(
    conn: asyncpg.Connection, county_code: str, payable_ids: Sequence[uuid.UUID]
) -> dict[str, str]:
    """payable id → the batch that paid it, or holds it now."""
    rows = await conn.fetch(
        """SELECT p.id, coalesce(pp.batch_id, p.batch_id) AS batch_id FROM payables p
           LEFT JOIN payable_payments pp ON pp.county_code = p.county_code AND pp.payable_id = p.id
           WHERE p.county_code = $1 AND p.id = ANY($2::uuid[])""",
        county_code,
        list(payable_ids),
    )
    return {str(r["id"]): str(r["batch_id"]) for r in rows if r["batch_id"]}


async def household_years(conn: asyncpg.Connection, household: asyncpg.Record, first: int, last: int) -> list[int]:
    """Years with a holding, a payable or an award of the household, newest first (within bounds)."""
    rows = await conn.fetch(
        """SELECT DISTINCT y FROM (
               SELECT extract(year FROM sm.effective_date)::int AS y FROM venture_members m
               JOIN share_movements sm ON sm.county_code = m.county_code AND sm.venture_id = m.venture_id
                    AND (sm.to_member_id = m.id OR sm.from_member_id = m.id)
               WHERE m.county_code = $2 AND m.household_id = $1
               UNION SELECT w.year FROM awards w WHERE w.county_code = $2 AND w.household_id = $1
               UNION SELECT d.fiscal_year FROM payables p JOIN distributions d ON d.county_code = p.county_code
                     AND d.id = CASE WHEN p.source = 'distribution' THEN p.source_id::uuid END
                     WHERE p.county_code = $2 AND p.household_id = $1
               UNION SELECT s.season_year FROM farming_settlements s WHERE s.county_code = $2 AND s.household_id = $1
           ) years WHERE y BETWEEN $3 AND $4 ORDER BY y DESC""",
        household["id"],
        household["county_code"],
        first,
        last,
    )
    return [r["y"] for r in rows]


async def subsidies_received(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> int:
    """Subsidies the venture received up to the end of the year, from their own records."""
    total: int = await conn.fetchval(
        """SELECT coalesce(sum(amount_fen), 0)::bigint FROM subsidies
           WHERE county_code = $1 AND venture_id = $2 AND received_on <= make_date($3, 12, 31)""",
        venture["county_code"],
        venture["id"],
        year,
    )
    return total
