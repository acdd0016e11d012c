"""Queries for a household's statement (收益明细): its payables, each tied to the year it belongs to.

A payable's year is the year of its source, not the day it was recorded: the fiscal year of a
distribution, the season of an order-farming settlement, the year of an award programme. The
source tables are joined here so the year and the source's name come from the books themselves.
"""

from __future__ import annotations

import uuid

import asyncpg

# One row per payable of the household, whatever its status; `year` decides which statement it is on.
# The CASE guards keep a cast away from payables of another source (their source_id is not a uuid).
_LINES = """
WITH lines AS (
    SELECT p.id, p.source, p.source_id, split_part(p.source_ref, ':', 2) AS basis, p.amount_fen, p.explanation,
           p.status, p.paid_on, p.failure_reason, p.created_at, d.fiscal_year AS year,
           v.name || ' ' || d.fiscal_year || ' 年度分配' AS source_name, NULL::text AS serial
    FROM payables p
    JOIN distributions d ON d.county_code = p.county_code
                        AND d.id = CASE WHEN p.source = 'distribution' THEN p.source_id::uuid END
    JOIN ventures v ON v.county_code = d.county_code AND v.id = d.venture_id
    WHERE p.county_code = $1 AND p.household_id = $2 AND p.source = 'distribution'
  UNION ALL
    SELECT p.id, p.source, p.source_id, '' AS basis, p.amount_fen, p.explanation,
           p.status, p.paid_on, p.failure_reason, p.created_at, s.season_year AS year,
           v.name || ' ' || s.season_year || ' 年' || c.crop || '收购结算' AS source_name, NULL::text AS serial
    FROM payables p
    JOIN farming_settlements s ON s.county_code = p.county_code
                              AND s.id = CASE WHEN p.source = 'settlement' THEN p.source_id::uuid END
    JOIN farming_contracts c ON c.county_code = s.county_code AND c.id = s.contract_id
    JOIN ventures v ON v.county_code = s.county_code AND v.id = s.venture_id
    WHERE p.county_code = $1 AND p.household_id = $2 AND p.source = 'settlement'
  UNION ALL
    SELECT p.id, p.source, p.source_id, '' AS basis, p.amount_fen, p.explanation,
           p.status, p.paid_on, p.failure_reason, p.created_at, ap.year AS year,
           ap.name AS source_name, w.serial
    FROM payables p
    JOIN awards w ON w.county_code = p.county_code AND w.payable_id = p.id
    JOIN award_programs ap ON ap.county_code = w.county_code AND ap.id = w.program_id
    WHERE p.county_code = $1 AND p.household_id = $2 AND p.source = 'award'
)
"""

# Each query is a constant text: the CTE above and its own tail, composed once at import.
_ORDER = """
ORDER BY CASE source WHEN 'distribution' THEN 1 WHEN 'settlement' THEN 2 ELSE 3 END, source_name, source_id,
         CASE basis WHEN 'floor' THEN 1 WHEN 'arrears' THEN 2 WHEN 'patronage' THEN 3
                    WHEN 'capital' THEN 4 WHEN 'shares' THEN 5 ELSE 6 END,
         created_at, id"""
_ROWS = _LINES + "SELECT * FROM lines WHERE year = $3" + _ORDER
_ALL_ROWS = _LINES + "SELECT * FROM lines" + _ORDER
_UNPLACED = (
    _LINES
    + """SELECT count(*) FROM payables p WHERE p.county_code = $1 AND p.household_id = $2
          AND NOT EXISTS (SELECT 1 FROM lines l WHERE l.id = p.id)"""
)


async def statement_rows(
    conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID, year: int
) -> list[asyncpg.Record]:
    """The household's payables belonging to `year`, grouped by source in a stable order."""
    return await conn.fetch(_ROWS, county_code, household_id, year)


async def all_statement_rows(
    conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID
) -> list[asyncpg.Record]:
    """The household's payables of every year (a household has a few a year), in the order of
    statement_rows within each year: one round trip gives the page its years and its lines."""
    return await conn.fetch(_ALL_ROWS, county_code, household_id)


async def unplaced_payables(conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID) -> int:
    """Payables of the household that no statement year claims (a source row missing): must be zero."""
    count: int = await conn.fetchval(_UNPLACED, county_code, household_id)
    return count


async def head_name(conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID) -> str:
    """The head of household's name in full, for the household's own papers."""
    name: str = await conn.fetchval(
        "SELECT head_name FROM households WHERE county_code = $1 AND id = $2", county_code, household_id
    )
    return name
