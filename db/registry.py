"""Queries for regions, households, status events and poverty lines."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from db.ids import as_uuid
from db.scoping import in_county

# ---- regions ------------------------------------------------------------------------------------


async def region(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM regions WHERE code = $1", code)


async def region_names(conn: asyncpg.Connection, codes: Sequence[str]) -> dict[str, str]:
    """The registry's name of each of these regions that it holds, in one query."""
    rows = await conn.fetch("SELECT code, name FROM regions WHERE code = ANY($1::text[])", list(codes))
    return {r["code"]: r["name"] for r in rows}


async def region_level(conn: asyncpg.Connection, code: str) -> str | None:
    return await conn.fetchval("SELECT level FROM regions WHERE code = $1", code)


async def put_region(
    conn: asyncpg.Connection, code: str, name: str, level: str, parent_code: str | None, county_code: str | None
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO regions (code, name, level, parent_code, county_code)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
               parent_code = EXCLUDED.parent_code, county_code = EXCLUDED.county_code
           RETURNING *""",
        code,
        name,
        level,
        parent_code,
        county_code,
    )
    assert row is not None  # INSERT … RETURNING always answers a row
    return row


async def villages(conn: asyncpg.Connection, codes: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT code, county_code FROM regions WHERE level = 'village' AND code = ANY($1::char(12)[])",
        list(set(codes)),
    )
    return {r["code"]: r["county_code"] for r in rows}


# ---- households ---------------------------------------------------------------------------------


async def taken_household_numbers(conn: asyncpg.Connection, numbers: Sequence[str]) -> set[str]:
    """Numbers registered in any county: household_numbers holds each once for the whole service."""
    rows = await conn.fetch(
        "SELECT household_no FROM household_numbers WHERE household_no = ANY($1::text[])", list(numbers)
    )
    return {r["household_no"] for r in rows}


async def taken_identities(conn: asyncpg.Connection, pairs: Sequence[tuple[str, bytes]]) -> set[tuple[str, bytes]]:
    if not pairs:
        return set()
    rows = await conn.fetch(
        """SELECT h.county_code, h.head_id_hash FROM households h
           JOIN unnest($1::char(12)[], $2::bytea[]) AS p(county_code, hash)
             ON h.county_code = p.county_code AND h.head_id_hash = p.hash""",
        [p[0] for p in pairs],
        [p[1] for p in pairs],
    )
    return {(r["county_code"], bytes(r["head_id_hash"])) for r in rows}


async def existing_households(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    rows = await conn.fetch("SELECT id FROM households WHERE id = ANY($1::uuid[])", list(set(ids)))
    return {r["id"] for r in rows}


async def copy_households(conn: asyncpg.Connection, columns: list[str], records: list[tuple[Any, ...]]) -> None:
    """The households, and their numbers in household_numbers (unique across counties, the login's
    way to its county); a number taken in any county raises asyncpg.UniqueViolationError."""
    await conn.copy_records_to_table("households", records=records, columns=columns)
    await copy_household_numbers(conn, columns, records)


async def copy_household_numbers(conn: asyncpg.Connection, columns: list[str], records: list[tuple[Any, ...]]) -> None:
    """household_numbers rows of households COPYed with these columns (which name the number, the
    county and the id)."""
    at = [columns.index(c) for c in ("household_no", "county_code", "id")]
    numbers = [tuple(r[i] for i in at) for r in records]
    await conn.copy_records_to_table(
        "household_numbers", records=numbers, columns=["household_no", "county_code", "household_id"]
    )


async def household(
    conn: asyncpg.Connection, household_id: str, county_code: str | None = None
) -> asyncpg.Record | None:
    """A household by id; only in `county_code` when given (one shard on a cluster, every shard
    without it)."""
    key = as_uuid(household_id)
    if key is None:
        return None
    return await conn.fetchrow(
        """SELECT id, household_no, county_code, village_code, head_name_masked, head_id_masked, members,
                  bank_name, bank_account_masked, phone_masked, status, split_from, created_at
           FROM households WHERE id = $1 AND ($2::bpchar IS NULL OR county_code = $2)""",
        key,
        county_code,
    )


_HOUSEHOLDS_PAGE = """SELECT id, household_no, county_code, village_code, head_name_masked, head_id_masked,
           members, bank_name, bank_account_masked, phone_masked, status, split_from, created_at
    FROM households
    WHERE village_code LIKE $1 || '%' AND ($2::text IS NULL OR village_code = $2)
      AND ($3::text IS NULL OR status = $3) AND household_no > coalesce($4::text, '')
      AND ($6::text IS NULL OR starts_with(household_no, $6) OR head_name = $6) {county}
    ORDER BY household_no LIMIT $5"""


async def households_page(
    conn: asyncpg.Connection,
    *,
    county_code: str | None,
    scope: str,
    village_code: str | None,
    status: str | None,
    after_no: str | None,
    limit: int,
    find: str | None = None,
) -> list[asyncpg.Record]:
    """Households of a county (every county's for None) whose village code starts with `scope`, by
    household number after `after_no` (always a bound of the index range, so a generic plan of the
    prepared statement seeks to it); `find` keeps those whose number starts with it or whose head
    bears exactly that name. The county makes the read a range of (county_code, household_no):
    without it a county's page walked the numbers of every county sorting before its own."""
    sql, county = in_county(_HOUSEHOLDS_PAGE, county_code, "AND county_code = $7")
    return await conn.fetch(sql, scope, village_code, status, after_no, limit, find, *county)


async def village_households_page(
    conn: asyncpg.Connection,
    *,
    scope: str,
    village_code: str,
    status: str | None,
    after_no: str | None,
    limit: int,
    find: str | None = None,
) -> list[asyncpg.Record]:
    """households_page for one village: the village compared as the column's own type (char(12)),
    so the index (village_code, household_no) is read in order from the cursor on: households_page's
    `village_code = $2::text` casts the column and reads the whole county's households, and its
    optional village cannot narrow a prepared statement's generic plan. The scope is checked on
    the village code asked for, once, not on each row: as a filter on the rows it made the generic
    plan expect none and read and sort the whole village."""
    parameters = (village_code, scope, after_no, status, find, limit)
    return await conn.fetch(
        f"""SELECT {LISTED_HOUSEHOLD} FROM households
           WHERE village_code = $1 AND $1::text LIKE $2 || '%' AND household_no > coalesce($3::text, '')
             AND ($4::text IS NULL OR status = $4)
             AND ($5::text IS NULL OR starts_with(household_no, $5) OR head_name = $5)
           ORDER BY household_no LIMIT $6""",
        *parameters,
    )


# The columns a list of households shows (households_page's).
LISTED_HOUSEHOLD = """id, household_no, county_code, village_code, head_name_masked, head_id_masked, members,
    bank_name, bank_account_masked, phone_masked, status, split_from, created_at"""


async def household_labels(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    """The number, masked head name and village of each household named."""
    rows = await conn.fetch(
        "SELECT id, household_no, head_name_masked, village_code FROM households WHERE id = ANY($1::uuid[])",
        list(ids),
    )
    return {r["id"]: r for r in rows}


async def status_event_history(
    conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID
) -> list[asyncpg.Record]:
    """A household's status events as recorded, in the order they took effect."""
    return await conn.fetch(
        """SELECT kind, year, effective_date, recorded_by, recorded_at FROM household_status_events
           WHERE county_code = $1 AND household_id = $2 ORDER BY effective_date, recorded_at""",
        county_code,
        household_id,
    )


async def is_member_of_any(conn: asyncpg.Connection, household_id: str, venture_ids: Sequence[str]) -> bool:
    """Whether the household is a member of one of these ventures (an accountant's reach)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM venture_members WHERE household_id = $1::uuid "
            "AND venture_id = ANY($2::uuid[]))",
            household_id,
            list(venture_ids),
        )
    )


# ---- status events ------------------------------------------------------------------------------


async def lock_household(conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID) -> None:
    await conn.execute(
        "SELECT 1 FROM households WHERE county_code = $1 AND id = $2 FOR UPDATE", county_code, household_id
    )


async def insert_status_event(
    conn: asyncpg.Connection,
    *,
    county_code: str,
    household_id: uuid.UUID,
    kind: str,
    year: int,
    effective_date: dt.date,
    recorded_by: str,
) -> uuid.UUID:
    return await conn.fetchval(
        """INSERT INTO household_status_events (county_code, household_id, kind, year, effective_date, recorded_by)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        county_code,
        household_id,
        kind,
        year,
        effective_date,
        recorded_by,
    )


async def status_events(conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT kind, effective_date, recorded_at FROM household_status_events
           WHERE county_code = $1 AND household_id = $2""",
        county_code,
        household_id,
    )


async def set_status(conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID, status: str) -> None:
    await conn.execute(
        "UPDATE households SET status = $3 WHERE county_code = $1 AND id = $2", county_code, household_id, status
    )


# ---- poverty lines ------------------------------------------------------------------------------


async def poverty_line(conn: asyncpg.Connection, year: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT poverty_line_fen, xiaokang_line_fen FROM poverty_lines WHERE year = $1", year)


async def put_poverty_line(conn: asyncpg.Connection, year: int, poverty_line_fen: int, xiaokang_line_fen: int) -> None:
    await conn.execute(
        # now() in VALUES, not in DO UPDATE SET: Citus refuses a non-immutable function there.
        """INSERT INTO poverty_lines (year, poverty_line_fen, xiaokang_line_fen, updated_at) VALUES ($1, $2, $3, now())
           ON CONFLICT (year) DO UPDATE SET poverty_line_fen = EXCLUDED.poverty_line_fen,
               xiaokang_line_fen = EXCLUDED.xiaokang_line_fen, updated_at = EXCLUDED.updated_at""",
        year,
        poverty_line_fen,
        xiaokang_line_fen,
    )


async def villages_under(conn: asyncpg.Connection, prefix: str, limit: int) -> list[asyncpg.Record]:
    """The villages whose code starts with `prefix` ('' for every one), by code: a range of the
    primary key (a LIKE on the char(12) code would read the whole registry, a nation's 700,000)."""
    return await conn.fetch(
        """SELECT code, name, level, parent_code, county_code FROM regions
           WHERE level = 'village' AND code BETWEEN rpad($1, 12, '0')::char(12) AND rpad($1, 12, '9')::char(12)
           ORDER BY code LIMIT $2""",
        prefix,
        limit,
    )


async def regions_below(conn: asyncpg.Connection, prefix: str, limit: int) -> list[asyncpg.Record]:
    """The counties, townships and villages whose code starts with `prefix`, county first, then
    the townships, then the villages, each by code: one range of the primary key."""
    return await conn.fetch(
        """SELECT code, name, level, parent_code, county_code FROM regions
           WHERE code BETWEEN rpad($1, 12, '0')::char(12) AND rpad($1, 12, '9')::char(12)
             AND level IN ('county', 'township', 'village')
           ORDER BY array_position(ARRAY['county', 'township', 'village'], level), code LIMIT $2""",
        prefix,
        limit,
    )


async def regions_page(
    conn: asyncpg.Connection, *, parent_code: str | None, level: str | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """Regions under a parent (the top level when none is named), or of one level, by code."""
    return await conn.fetch(
        """SELECT code, name, level, parent_code, county_code FROM regions
           WHERE (CASE WHEN $1::text IS NOT NULL THEN parent_code = $1
                       WHEN $2::text IS NOT NULL THEN true ELSE parent_code IS NULL END)
             AND ($2::text IS NULL OR level = $2) AND ($3::text IS NULL OR code > $3)
           ORDER BY code LIMIT $4""",
        parent_code,
        level,
        after,
        limit,
    )
