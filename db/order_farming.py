"""Queries for order farming (订单农业): contracts, advances, purchases and settlements."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import asyncpg

from db.ids import as_uuid, row_for_update

# The id is the database's own gen_random_uuid(): one less value per row to build and send.
PURCHASE_COLUMNS = ["county_code", "contract_id", "bought_on", "grade", "weight_g", "market_price_fen_per_kg"]
SETTLEMENT_COLUMNS = [
    "county_code",
    "id",
    "venture_id",
    "contract_id",
    "household_id",
    "season_year",
    "delivered_g",
    "gross_fen",
    "carried_in_fen",
    "own_advances_fen",
    "advances_deducted_fen",
    "payable_fen",
    "advance_carried_fen",
    "explanation",
    "entry_id",
    "settled_on",
    "settled_by",
]
LINE_COLUMNS = [
    "county_code",
    "settlement_id",
    "line_no",
    "purchase_id",
    "weight_g",
    "price_fen_per_kg_x10000",
    "reason",
    "amount_fen",
    "explanation",
]


def _grouped(rows: list[asyncpg.Record]) -> dict[uuid.UUID, list[asyncpg.Record]]:
    grouped: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
    for r in rows:
        grouped[r["contract_id"]].append(r)
    return grouped


async def contract(conn: asyncpg.Connection, contract_id: str) -> asyncpg.Record | None:
    key = as_uuid(contract_id)
    if key is None:
        return None
    return await conn.fetchrow("SELECT * FROM farming_contracts WHERE id = $1", key)


async def household_county(conn: asyncpg.Connection, household_id: uuid.UUID) -> str | None:
    """The county a household is registered in, or None when there is no such household."""
    return await conn.fetchval("SELECT county_code FROM households WHERE id = $1", household_id)


async def insert_contract(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    household_id: uuid.UUID,
    *,
    crop: str,
    season_year: int,
    contracted_g: int,
    floor_price_fen_per_kg: int,
    premium_bp: int,
    created_by: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO farming_contracts (county_code, venture_id, household_id, crop, season_year, contracted_g,
               floor_price_fen_per_kg, premium_bp, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING *""",
        county_code,
        venture_id,
        household_id,
        crop,
        season_year,
        contracted_g,
        floor_price_fen_per_kg,
        premium_bp,
        created_by,
    )
    assert row is not None
    return row


async def share_lock_venture(conn: asyncpg.Connection, county_code: str, venture_id: uuid.UUID) -> None:
    """Hold the venture's row against a settlement run, which takes it exclusively."""
    await conn.execute("SELECT 1 FROM ventures WHERE county_code = $1 AND id = $2 FOR SHARE", county_code, venture_id)


async def insert_purchase(
    conn: asyncpg.Connection,
    county_code: str,
    contract_id: uuid.UUID,
    *,
    bought_on: dt.date,
    grade: str,
    weight_g: int,
    market_price_fen_per_kg: int,
) -> uuid.UUID:
    purchase_id: uuid.UUID = await conn.fetchval(
        """INSERT INTO farming_purchases (county_code, contract_id, bought_on, grade, weight_g,
               market_price_fen_per_kg) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        county_code,
        contract_id,
        bought_on,
        grade,
        weight_g,
        market_price_fen_per_kg,
    )
    return purchase_id


async def insert_advance(
    conn: asyncpg.Connection,
    county_code: str,
    advance_id: uuid.UUID,
    contract_id: uuid.UUID,
    *,
    amount_fen: int,
    given_on: dt.date,
    item: str,
    entry_id: uuid.UUID,
) -> None:
    await conn.execute(
        """INSERT INTO farming_advances (county_code, id, contract_id, amount_fen, given_on, item, entry_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        county_code,
        advance_id,
        contract_id,
        amount_fen,
        given_on,
        item,
        entry_id,
    )


async def contracts_page(
    conn: asyncpg.Connection,
    venture_id: uuid.UUID,
    *,
    season_year: int | None,
    household_id: uuid.UUID | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT * FROM farming_contracts
           WHERE venture_id = $1 AND ($2::int IS NULL OR season_year = $2)
             AND ($3::uuid IS NULL OR household_id = $3) AND ($4::uuid IS NULL OR id > $4)
           ORDER BY id LIMIT $5""",
        venture_id,
        season_year,
        household_id,
        as_uuid(after) if after else None,
        limit + 1,
    )


async def venture_contract_ids(conn: asyncpg.Connection, venture_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The venture's contract ids, by their text (lower case, as str() of a uuid gives it)."""
    rows = await conn.fetch("SELECT id FROM farming_contracts WHERE venture_id = $1", venture_id)
    return {str(r["id"]): r["id"] for r in rows}


async def settled_contract_ids(conn: asyncpg.Connection, venture_id: uuid.UUID) -> set[str]:
    rows = await conn.fetch(
        "SELECT contract_id FROM farming_settlements WHERE venture_id = $1 AND status = 'settled'", venture_id
    )
    return {str(r["contract_id"]) for r in rows}


async def live_settlement(conn: asyncpg.Connection, county_code: str, contract_id: uuid.UUID) -> uuid.UUID | None:
    return await conn.fetchval(
        "SELECT id FROM farming_settlements WHERE county_code = $1 AND contract_id = $2 AND status = 'settled'",
        county_code,
        contract_id,
    )


async def copy_purchases(conn: asyncpg.Connection, records: Sequence[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table("farming_purchases", records=records, columns=PURCHASE_COLUMNS)


async def unsettled_contracts(
    conn: asyncpg.Connection, venture_id: uuid.UUID, season_year: int
) -> list[asyncpg.Record]:
    """The season's contracts with no live settlement, a household's contracts in the order they were signed."""
    return await conn.fetch(
        """SELECT c.*, h.village_code FROM farming_contracts c
           JOIN households h ON h.county_code = c.county_code AND h.id = c.household_id
           WHERE c.venture_id = $1 AND c.season_year = $2
             AND NOT EXISTS (SELECT 1 FROM farming_settlements s WHERE s.county_code = c.county_code
                             AND s.contract_id = c.id AND s.status = 'settled')
           ORDER BY c.household_id, c.created_at, c.id""",
        venture_id,
        season_year,
    )


async def purchases_by_contract(
    conn: asyncpg.Connection, contract_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[asyncpg.Record]]:
    return _grouped(
        await conn.fetch(
            """SELECT id, seq, contract_id, bought_on, grade, weight_g, market_price_fen_per_kg FROM farming_purchases
           WHERE contract_id = ANY($1::uuid[]) ORDER BY contract_id, bought_on, seq""",
            contract_ids,
        )
    )


async def advances_by_contract(
    conn: asyncpg.Connection, contract_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[asyncpg.Record]]:
    return _grouped(
        await conn.fetch(
            """SELECT contract_id, amount_fen, given_on, item FROM farming_advances
           WHERE contract_id = ANY($1::uuid[]) ORDER BY contract_id, given_on, created_at""",
            contract_ids,
        )
    )


async def carried_pools(conn: asyncpg.Connection, venture_id: uuid.UUID, season_year: int) -> dict[uuid.UUID, int]:
    """Advances each household still owes from earlier seasons' settlements.

    A live settlement adds what it carried forward and consumes what it was carried in; what the
    season's own (or a later) settlements already took in is gone from the pool.
    """
    rows = await conn.fetch(
        """SELECT household_id,
                  sum(CASE WHEN season_year < $2 THEN advance_carried_fen - carried_in_fen
                           ELSE -carried_in_fen END)::bigint AS pool
           FROM farming_settlements WHERE venture_id = $1 AND status = 'settled'
           GROUP BY household_id""",
        venture_id,
        season_year,
    )
    return {r["household_id"]: max(0, r["pool"]) for r in rows if r["pool"] > 0}


async def copy_settlements(
    conn: asyncpg.Connection, records: Sequence[tuple[Any, ...]], lines: Sequence[tuple[Any, ...]]
) -> None:
    await conn.copy_records_to_table("farming_settlements", records=records, columns=SETTLEMENT_COLUMNS)
    await conn.copy_records_to_table("farming_settlement_lines", records=lines, columns=LINE_COLUMNS)


async def season_has_contracts(conn: asyncpg.Connection, venture_id: uuid.UUID, season_year: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM farming_contracts WHERE venture_id = $1 AND season_year = $2)",
            venture_id,
            season_year,
        )
    )


async def settlement(
    conn: asyncpg.Connection, settlement_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    key = as_uuid(settlement_id)
    if key is None:
        return None
    if for_update:
        return await row_for_update(conn, "farming_settlements", key)
    return await conn.fetchrow("SELECT * FROM farming_settlements WHERE id = $1", key)


async def settlement_lines(
    conn: asyncpg.Connection, county_code: str, settlement_id: uuid.UUID
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT l.*, p.bought_on, p.grade, p.market_price_fen_per_kg FROM farming_settlement_lines l
           JOIN farming_purchases p ON p.county_code = l.county_code AND p.id = l.purchase_id
           WHERE l.county_code = $1 AND l.settlement_id = $2 ORDER BY l.line_no""",
        county_code,
        settlement_id,
    )


async def settlements_page(
    conn: asyncpg.Connection, venture_id: uuid.UUID, *, season_year: int | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT * FROM farming_settlements
           WHERE venture_id = $1 AND ($2::int IS NULL OR season_year = $2) AND ($3::uuid IS NULL OR id > $3)
           ORDER BY id LIMIT $4""",
        venture_id,
        season_year,
        as_uuid(after) if after else None,
        limit + 1,
    )


async def later_carry_taken(conn: asyncpg.Connection, s: asyncpg.Record) -> bool:
    """Whether a settlement made after this one took in advances carried from the household's seasons."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM farming_settlements WHERE venture_id = $1 AND household_id = $2
                  AND status = 'settled' AND id <> $3 AND carried_in_fen > 0 AND created_at > $4)""",
            s["venture_id"],
            s["household_id"],
            s["id"],
            s["created_at"],
        )
    )


async def mark_reversed(
    conn: asyncpg.Connection,
    s: asyncpg.Record,
    reversal_entry_id: uuid.UUID | None,
    reversed_on: dt.date,
    reversed_by: str,
) -> None:
    await conn.execute(
        """UPDATE farming_settlements SET status = 'reversed', reversal_entry_id = $3, reversed_on = $4, reversed_by = $5
           WHERE county_code = $1 AND id = $2""",
        s["county_code"],
        s["id"],
        reversal_entry_id,
        reversed_on,
        reversed_by,
    )


async def payables_of(conn: asyncpg.Connection, county_code: str, settlement_id: uuid.UUID) -> list[asyncpg.Record]:
    """The settlement's payables, locked so a payment batch cannot take one while it is being reversed."""
    return await conn.fetch(
        """SELECT id, status FROM payables WHERE county_code = $1 AND source = 'settlement' AND source_id = $2
           ORDER BY id FOR UPDATE""",
        county_code,
        str(settlement_id),
    )
