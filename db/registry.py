"""Queries for regions and households."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

HOUSEHOLD_PUBLIC_COLUMNS = """
    id, household_no, county_code, village_code, head_name_masked, head_id_masked, members,
    bank_name, bank_account_masked, phone_masked, status, split_from, created_at
"""


async def villages(conn: asyncpg.Connection, codes: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT code, county_code FROM regions WHERE level = 'village' AND code = ANY($1::char(12)[])",
        list(set(codes)),
    )
    return {r["code"]: r["county_code"] for r in rows}


async def taken_household_numbers(conn: asyncpg.Connection, numbers: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT household_no FROM households WHERE household_no = ANY($1::text[])", list(numbers))
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
    await conn.copy_records_to_table("households", records=records, columns=columns)


async def household(conn: asyncpg.Connection, household_id: str) -> asyncpg.Record | None:
    try:
        key = uuid.UUID(household_id)
    except ValueError:
        return None
    return await conn.fetchrow(f"SELECT {HOUSEHOLD_PUBLIC_COLUMNS} FROM households WHERE id = $1", key)


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
