"""Queries for distribution plans (收益分配方案), their lines, and the facts a plan is computed from.

The facts come from the share register, member accounts, trades and the ledger of earlier years:
what earlier years carried is read from account balances, never taken from anyone's word. Every
query text is a constant; an optional lock is a second constant query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import asyncpg
import msgspec

from db import ventures as ventures_q
from db.ids import as_uuid, row_for_update
from db.scoping import in_county
from schemas.ventures import Charter as CharterIn
from service.distributions.rules import (
    ARREARS_MEMO,
    CARRIED_CODES,
    CarriedState,
    Member,
    PlanLine,
    VentureFacts,
    account_specs,
)
from service.ventures.charter import Charter
from service.ventures.rules import ShareMovement

LINE_COLUMNS = [
    "county_code",
    "distribution_id",
    "line_no",
    "member_id",
    "household_id",
    "basis",
    "weight",
    "amount_fen",
    "explanation",
]
RESERVE_COLUMNS = [
    "county_code",
    "id",
    "venture_id",
    "member_id",
    "year",
    "kind",
    "amount_fen",
    "source_type",
    "source_id",
]


def _one(row: asyncpg.Record | None) -> asyncpg.Record:
    """The row a statement that must return one did return."""
    if row is None:
        raise LookupError("expected a row")
    return row


# ---- plans ------------------------------------------------------------------------------------


async def distribution(
    conn: asyncpg.Connection, distribution_id: str | uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    key = as_uuid(distribution_id)
    if key is None:
        return None
    if for_update:
        return await row_for_update(conn, "distributions", key)
    return await conn.fetchrow("SELECT * FROM distributions WHERE id = $1", key)


async def locked(conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID) -> asyncpg.Record | None:
    """The plan as it stands now, locked until the caller's transaction ends."""
    return await conn.fetchrow(
        "SELECT * FROM distributions WHERE county_code = $1 AND id = $2 FOR UPDATE", county_code, distribution_id
    )


async def status(conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID) -> str | None:
    return await conn.fetchval(
        "SELECT status FROM distributions WHERE county_code = $1 AND id = $2", county_code, distribution_id
    )


async def open_plan_for_update(
    conn: asyncpg.Connection, county_code: str, venture_id: uuid.UUID, year: int
) -> asyncpg.Record | None:
    """The year's plan that is not reversed (a draft, or one further on), locked."""
    return await conn.fetchrow(
        "SELECT id, status FROM distributions WHERE county_code = $1 AND venture_id = $2 AND fiscal_year = $3 "
        "AND status <> 'reversed' FOR UPDATE",
        county_code,
        venture_id,
        year,
    )


async def later_posted_year(conn: asyncpg.Connection, venture_id: uuid.UUID, year: int) -> int | None:
    """The first year after `year` whose plan is posted, if any."""
    return await conn.fetchval(
        "SELECT min(fiscal_year) FROM distributions WHERE venture_id = $1 AND fiscal_year > $2 AND status = 'posted'",
        venture_id,
        year,
    )


async def delete_plan(conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID) -> None:
    """A draft being replaced: its lines, then the plan."""
    await conn.execute(
        "DELETE FROM distribution_lines WHERE county_code = $1 AND distribution_id = $2", county_code, distribution_id
    )
    await conn.execute("DELETE FROM distributions WHERE county_code = $1 AND id = $2", county_code, distribution_id)


async def insert_plan(
    conn: asyncpg.Connection,
    *,
    county_code: str,
    distribution_id: uuid.UUID,
    venture_id: uuid.UUID,
    year: int,
    profit_fen: int,
    waterfall: Mapping[str, int],
    carried_in: Mapping[str, Any],
    carried_out: Mapping[str, Any],
    reserve_quantified: Mapping[str, int],
    lines_count: int,
    lines_total_fen: int,
    created_by: str,
) -> asyncpg.Record:
    return _one(
        await conn.fetchrow(
            """INSERT INTO distributions (county_code, id, venture_id, fiscal_year, profit_fen, waterfall, carried_in,
                   carried_out, reserve_quantified, lines_count, lines_total_fen, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
            county_code,
            distribution_id,
            venture_id,
            year,
            profit_fen,
            dict(waterfall),
            dict(carried_in),
            dict(carried_out),
            dict(reserve_quantified),
            lines_count,
            lines_total_fen,
            created_by,
        )
    )


async def mark_submitted(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID, submitted_by: str
) -> asyncpg.Record | None:
    """draft → submitted; None when the plan is no longer a draft."""
    return await conn.fetchrow(
        """UPDATE distributions SET status = 'submitted', submitted_by = $3, updated_at = now()
           WHERE county_code = $1 AND id = $2 AND status = 'draft' RETURNING *""",
        county_code,
        distribution_id,
        submitted_by,
    )


async def mark_in_notice(
    conn: asyncpg.Connection,
    county_code: str,
    distribution_id: uuid.UUID,
    approved_by: str,
    notice_id: uuid.UUID,
    notice_ends_on: dt.date,
) -> asyncpg.Record:
    return _one(
        await conn.fetchrow(
            """UPDATE distributions SET status = 'in_notice', approved_by = $3, notice_id = $4, notice_ends_on = $5,
                   updated_at = now() WHERE county_code = $1 AND id = $2 RETURNING *""",
            county_code,
            distribution_id,
            approved_by,
            notice_id,
            notice_ends_on,
        )
    )


async def mark_posted(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID, entry_id: uuid.UUID | None
) -> asyncpg.Record:
    return _one(
        await conn.fetchrow(
            """UPDATE distributions SET status = 'posted', entry_id = $3, updated_at = now()
               WHERE county_code = $1 AND id = $2 RETURNING *""",
            county_code,
            distribution_id,
            entry_id,
        )
    )


async def mark_reversed(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID, reversal_entry_id: uuid.UUID | None
) -> asyncpg.Record:
    return _one(
        await conn.fetchrow(
            """UPDATE distributions SET status = 'reversed', reversal_entry_id = $3, updated_at = now()
               WHERE county_code = $1 AND id = $2 RETURNING *""",
            county_code,
            distribution_id,
            reversal_entry_id,
        )
    )


async def notice_source(conn: asyncpg.Connection, county_code: str, notice_id: uuid.UUID) -> str | None:
    """The id of what a notice publishes (for a distribution notice, the plan)."""
    return await conn.fetchval(
        "SELECT source_id FROM notices WHERE county_code = $1 AND id = $2", county_code, notice_id
    )


async def back_to_draft(conn: asyncpg.Connection, county_code: str, distribution_id: str | None) -> None:
    """An upheld objection: a plan in notice goes back to draft, to be corrected and approved again."""
    await conn.execute(
        """UPDATE distributions SET status = 'draft', submitted_by = NULL, approved_by = NULL, notice_id = NULL,
               notice_ends_on = NULL, updated_at = now()
           WHERE county_code = $1 AND id = $2::uuid AND status = 'in_notice'""",
        county_code,
        distribution_id,
    )


# ---- lines ------------------------------------------------------------------------------------


def line_records(
    county_code: str, distribution_id: uuid.UUID, facts: VentureFacts, lines: Sequence[PlanLine]
) -> list[tuple[Any, ...]]:
    """The rows of a plan's lines, numbered from 1, ready for COPY (LINE_COLUMNS)."""
    return [
        (
            county_code,
            distribution_id,
            n,
            facts.uuid(line.member_id),
            facts.uuid(line.household_id) if line.household_id else None,
            line.basis,
            line.weight,
            line.amount_fen,
            line.explanation,
        )
        for n, line in enumerate(lines, start=1)
    ]


async def copy_lines(conn: asyncpg.Connection, records: Sequence[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table("distribution_lines", columns=LINE_COLUMNS, records=records)


async def lines_page(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID, after_line_no: int, limit: int
) -> list[asyncpg.Record]:
    """Up to `limit` lines after a line number, in order."""
    return await conn.fetch(
        """SELECT * FROM distribution_lines WHERE county_code = $1 AND distribution_id = $2 AND line_no > $3
           ORDER BY line_no LIMIT $4""",
        county_code,
        distribution_id,
        after_line_no,
        limit,
    )


async def stored_line_keys(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID
) -> list[tuple[str, str, int]]:
    """(member, basis, amount) of every stored line, to compare with the plan recomputed at posting."""
    rows = await conn.fetch(
        "SELECT member_id, basis, amount_fen FROM distribution_lines WHERE county_code = $1 AND distribution_id = $2",
        county_code,
        distribution_id,
    )
    return [(str(r["member_id"]), r["basis"], r["amount_fen"]) for r in rows]


async def household_totals(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID
) -> list[asyncpg.Record]:
    """What each household gets under the plan (household_id, amount): the subjects of its notice."""
    return await conn.fetch(
        """SELECT household_id, sum(amount_fen)::bigint AS amount FROM distribution_lines
           WHERE county_code = $1 AND distribution_id = $2 AND household_id IS NOT NULL
           GROUP BY household_id ORDER BY household_id""",
        county_code,
        distribution_id,
    )


async def household_villages(conn: asyncpg.Connection, household_ids: Iterable[uuid.UUID]) -> dict[str, str]:
    """household id → village code, where each payable is paid."""
    rows = await conn.fetch("SELECT id, village_code FROM households WHERE id = ANY($1::uuid[])", list(household_ids))
    return {str(r["id"]): r["village_code"] for r in rows}


async def payables_created(conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID) -> int:
    """How many payables posting the plan created, whatever became of them since."""
    return await conn.fetchval(
        "SELECT count(*) FROM payables WHERE county_code = $1 AND source = 'distribution' AND source_id = $2",
        county_code,
        str(distribution_id),
    )


async def payables_in_payment(conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID) -> int:
    """How many of the plan's payables are in a payment batch or paid."""
    return await conn.fetchval(
        """SELECT count(*) FROM payables WHERE county_code = $1 AND source = 'distribution' AND source_id = $2
           AND status IN ('in_batch', 'paid')""",
        county_code,
        str(distribution_id),
    )


# ---- member accounts (成员账户): the reserve quantified into them ------------------------------


async def copy_reserve_shares(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    year: int,
    distribution_id: uuid.UUID,
    quantified: Mapping[str, int],
) -> None:
    """This year's reserve fund, quantified into each member's account, with COPY."""
    await conn.copy_records_to_table(
        "member_account_movements",
        columns=RESERVE_COLUMNS,
        records=[
            (
                county_code,
                uuid.uuid4(),
                venture_id,
                uuid.UUID(mid),
                year,
                "reserve",
                amount,
                "distribution",
                str(distribution_id),
            )
            for mid, amount in quantified.items()
            if amount
        ],
    )


async def reverse_reserve_shares(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    year: int,
    distribution_id: uuid.UUID,
    quantified: Mapping[str, int],
) -> None:
    """Take a reversed plan's reserve shares back out of the member accounts."""
    await conn.executemany(
        """INSERT INTO member_account_movements (county_code, venture_id, member_id, year, kind, amount_fen,
               source_type, source_id) VALUES ($1, $2, $3, $4, 'reserve', $5, 'distribution_reversal', $6)""",
        [
            (county_code, venture_id, uuid.UUID(mid), year, -amount, str(distribution_id))
            for mid, amount in quantified.items()
            if amount
        ],
    )


# ---- the facts a plan is computed from ---------------------------------------------------------


async def ventures_by_ids(conn: asyncpg.Connection, venture_ids: Sequence[uuid.UUID]) -> list[asyncpg.Record]:
    """Many ventures at once, by county then id (the order a province run posts them in)."""
    return await conn.fetch(
        "SELECT * FROM ventures WHERE id = ANY($1::uuid[]) ORDER BY county_code, id", list(venture_ids)
    )


async def carried_states(conn: asyncpg.Connection, ventures: Sequence[asyncpg.Record]) -> dict[str, CarriedState]:
    """What earlier years left each venture, read from the ledger rather than taken from anyone's word:
    the debit balance of 4104 (332) is the loss carried forward, 410101 (322) the reserve, 9101 the
    arrears owed per member."""
    out: dict[str, CarriedState] = {}
    by_county: dict[str, list[asyncpg.Record]] = {}
    for v in ventures:
        by_county.setdefault(v["county_code"], []).append(v)
    for county, vs in by_county.items():
        wanted = {str(v["id"]): account_specs(str(v["id"]), v["model"]) for v in vs}
        rows = await conn.fetch(
            """SELECT a.owner_id, a.code, a.id, coalesce(b.balance_fen, 0) AS balance
               FROM accounts a LEFT JOIN account_balances b ON b.county_code = a.county_code AND b.account_id = a.id
               WHERE a.county_code = $1 AND a.owner_type = 'venture' AND a.owner_id = ANY($2::text[])
                 AND a.code = ANY($3::text[])""",
            county,
            list(wanted),
            list(CARRIED_CODES),
        )
        balance = {(r["owner_id"], r["code"]): r["balance"] for r in rows}
        arrears = await _arrears(conn, county, {r["id"]: r["owner_id"] for r in rows if r["code"] == ARREARS_MEMO})
        for vid, specs in wanted.items():
            out[vid] = CarriedState(
                losses_carried_fen=max(0, balance.get((vid, specs["appropriation"].code), 0)),
                statutory_reserve_balance_fen=-balance.get((vid, specs["statutory"].code), 0),
                arrears_by_member=arrears.get(vid, {}),
            )
    return out


async def _arrears(
    conn: asyncpg.Connection, county_code: str, arrears_accounts: Mapping[uuid.UUID, str]
) -> dict[str, dict[str, int]]:
    """venture id → member id → preferred floors still owed, from the 9101 memorandum accounts."""
    arrears: dict[str, dict[str, int]] = {}
    if not arrears_accounts:
        return arrears
    for r in await conn.fetch(
        """SELECT account_id, party_id, sum(amount_fen)::bigint AS balance FROM journal_lines
               WHERE county_code = $1 AND account_id = ANY($2::uuid[]) AND party_id IS NOT NULL
               GROUP BY account_id, party_id HAVING sum(amount_fen) <> 0""",
        county_code,
        list(arrears_accounts),
    ):
        arrears.setdefault(arrears_accounts[r["account_id"]], {})[str(r["party_id"])] = r["balance"]
    return arrears


async def load_facts(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> VentureFacts:
    return (await load_facts_many(conn, [venture], year))[0]


async def load_facts_many(
    conn: asyncpg.Connection, ventures: Sequence[asyncpg.Record], year: int
) -> list[VentureFacts]:
    """Facts for many ventures in a handful of queries (a province runs 10,000 ventures at once)."""
    ids = [v["id"] for v in ventures]
    members, uuids = await _members(conn, ids)
    movements = await _movements(conn, ids, year)
    coop_ids = [v["id"] for v in ventures if v["model"] == "cooperative"]
    accounts, volumes = await _member_accounts(conn, ids, coop_ids, year)
    carried = await carried_states(conn, ventures)
    facts = []
    for v in ventures:
        charter = Charter(**msgspec.structs.asdict(msgspec.convert(v["charter"], CharterIn)))
        facts.append(
            VentureFacts(
                venture_id=str(v["id"]),
                county_code=v["county_code"],
                village_code=v["village_code"],
                model=v["model"],
                registered_capital_fen=v["registered_capital_fen"],
                record_date_mmdd=v["record_date_mmdd"],
                charter=charter,
                members=members[v["id"]],
                movements=movements[v["id"]],
                member_accounts=accounts[v["id"]],
                volumes=volumes[v["id"]],
                carried=carried[str(v["id"])],
                ids={**uuids[v["id"]], str(v["id"]): v["id"]},
            )
        )
    return facts


async def _members(
    conn: asyncpg.Connection, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, dict[str, Member]], dict[uuid.UUID, dict[str, uuid.UUID]]]:
    """Each venture's members, and the UUID of every member and household id they name."""
    members: dict[uuid.UUID, dict[str, Member]] = {i: {} for i in ids}
    uuids: dict[uuid.UUID, dict[str, uuid.UUID]] = {i: {} for i in ids}
    for m in await conn.fetch(
        "SELECT venture_id, id, household_id, name, kind FROM venture_members WHERE venture_id = ANY($1::uuid[]) "
        "ORDER BY venture_id, member_no",
        ids,
    ):
        mid, hid = str(m["id"]), str(m["household_id"]) if m["household_id"] else None
        members[m["venture_id"]][mid] = Member(mid, hid, m["name"], m["kind"])
        uuids[m["venture_id"]][mid] = m["id"]
        if hid:
            uuids[m["venture_id"]][hid] = m["household_id"]
    return members, uuids


async def _movements(conn: asyncpg.Connection, ids: list[uuid.UUID], year: int) -> dict[uuid.UUID, list[ShareMovement]]:
    """Each venture's share movements up to the end of the year, in register order."""
    movements: dict[uuid.UUID, list[ShareMovement]] = {i: [] for i in ids}
    for r in await conn.fetch(
        """SELECT venture_id, kind, from_member_id, to_member_id, share_class, shares, capital_fen, effective_date
               FROM share_movements WHERE venture_id = ANY($1::uuid[]) AND effective_date <= make_date($2, 12, 31)
               ORDER BY venture_id, effective_date, register_no""",
        ids,
        year,
    ):
        movements[r["venture_id"]].append(ventures_q.to_movement(r))
    return movements


async def _member_accounts(
    conn: asyncpg.Connection, ids: list[uuid.UUID], coop_ids: list[uuid.UUID], year: int
) -> tuple[dict[uuid.UUID, dict[str, tuple[int, int, int]]], dict[uuid.UUID, dict[str, int]]]:
    """Cooperatives' member accounts (capital, reserve share before this year, subsidy share) and
    the year's member trades (non-members' trades are kept apart, art. 41)."""
    accounts: dict[uuid.UUID, dict[str, tuple[int, int, int]]] = {i: {} for i in ids}
    volumes: dict[uuid.UUID, dict[str, int]] = {i: {} for i in ids}
    if not coop_ids:
        return accounts, volumes
    for r in await conn.fetch(
        """SELECT venture_id, member_id,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'capital' AND year <= $2), 0)::bigint AS capital,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'reserve' AND year < $2), 0)::bigint AS reserve,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'subsidy' AND year <= $2), 0)::bigint AS subsidy
               FROM member_account_movements WHERE venture_id = ANY($1::uuid[]) GROUP BY venture_id, member_id""",
        coop_ids,
        year,
    ):
        accounts[r["venture_id"]][str(r["member_id"])] = (r["capital"], r["reserve"], r["subsidy"])
    for r in await conn.fetch(
        """SELECT venture_id, member_id, sum(amount_fen)::bigint AS volume FROM trades
               WHERE venture_id = ANY($1::uuid[]) AND member_id IS NOT NULL
                 AND traded_on BETWEEN make_date($2, 1, 1) AND make_date($2, 12, 31)
               GROUP BY venture_id, member_id""",
        coop_ids,
        year,
    ):
        volumes[r["venture_id"]][str(r["member_id"])] = r["volume"]
    return accounts, volumes


async def venture_plans_page(
    conn: asyncpg.Connection, venture_id: uuid.UUID, *, after: tuple[int, str] | None, limit: int
) -> list[asyncpg.Record]:
    """A venture's plans, the latest year first (a reversed plan before the one that replaced it)."""
    return await conn.fetch(
        """SELECT * FROM distributions
           WHERE venture_id = $1 AND ($2::int IS NULL OR fiscal_year < $2 OR (fiscal_year = $2 AND id::text > $3))
           ORDER BY fiscal_year DESC, id::text LIMIT $4""",
        venture_id,
        after[0] if after else None,
        after[1] if after else "",
        limit,
    )


_SUBMITTED = """SELECT d.*, v.name AS venture_name
    FROM distributions d JOIN ventures v ON v.county_code = d.county_code AND v.id = d.venture_id
    WHERE d.status = 'submitted' AND v.village_code LIKE $1 || '%' {county}
    ORDER BY d.updated_at LIMIT $2"""


async def submitted_in_region(
    conn: asyncpg.Connection, county_code: str | None, scope: str, limit: int
) -> list[asyncpg.Record]:
    """Plans waiting for a township's approval (submitted), of ventures of a county (every county
    for None) whose village starts with `scope`. The county keeps a township's queue to its own
    county's rows (one shard on a cluster) rather than every submitted plan of the province."""
    sql, county = in_county(_SUBMITTED, county_code, "AND d.county_code = $3")
    return await conn.fetch(sql, scope, limit, *county)


async def mark_returned(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID
) -> asyncpg.Record | None:
    """submitted → draft (returned by the township for correction)."""
    return await conn.fetchrow(
        """UPDATE distributions SET status = 'draft', submitted_by = NULL, updated_at = now()
           WHERE county_code = $1 AND id = $2 AND status = 'submitted' RETURNING *""",
        county_code,
        distribution_id,
    )


async def plan_remarks(conn: asyncpg.Connection, county_code: str, distribution_id: str) -> list[asyncpg.Record]:
    """The reasons given when a plan was returned or reversed (kept in the audit log's detail)."""
    return await conn.fetch(
        """SELECT action, detail->>'reason' AS reason FROM audit_log
           WHERE county_code = $1 AND object_type = 'distribution' AND object_id = $2
             AND action IN ('distribution.returned', 'distribution.reverse_reason')
           ORDER BY seq DESC LIMIT 20""",
        county_code,
        distribution_id,
    )


# ---- the income statement entered with the profit (lines 1–11 of 会农社02表, migration 0015) --------

INCOME_STATEMENT_FIELDS = (
    "operating_income_fen",
    "investment_income_fen",
    "operating_expense_fen",
    "taxes_fen",
    "admin_expense_fen",
    "finance_expense_fen",
    "other_income_fen",
    "other_expense_fen",
    "income_tax_fen",
)


async def insert_income_statement(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID, figures: Mapping[str, int], entered_by: str
) -> None:
    """The figures of a draft; the database checks again that they yield its profit."""
    await conn.execute(
        """INSERT INTO income_statements (county_code, distribution_id, operating_income_fen, investment_income_fen,
               operating_expense_fen, taxes_fen, admin_expense_fen, finance_expense_fen, other_income_fen,
               other_expense_fen, income_tax_fen, entered_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        county_code,
        distribution_id,
        *(figures[name] for name in INCOME_STATEMENT_FIELDS),
        entered_by,
    )


async def income_statement(
    conn: asyncpg.Connection, county_code: str, distribution_id: uuid.UUID
) -> dict[str, int] | None:
    row = await conn.fetchrow(
        """SELECT operating_income_fen, investment_income_fen, operating_expense_fen, taxes_fen, admin_expense_fen,
                  finance_expense_fen, other_income_fen, other_expense_fen, income_tax_fen
           FROM income_statements WHERE county_code = $1 AND distribution_id = $2""",
        county_code,
        distribution_id,
    )
    return dict(row) if row else None
