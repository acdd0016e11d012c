"""Queries for distribution plans (收益分配方案) and their lines."""

from __future__ import annotations

import uuid

import asyncpg

from db.ids import as_uuid


async def distribution(
    conn: asyncpg.Connection, distribution_id: str | uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    key = as_uuid(distribution_id)
    if key is None:
        return None
    if for_update:
        return await conn.fetchrow("SELECT * FROM distributions WHERE id = $1 FOR UPDATE", key)
    return await conn.fetchrow("SELECT * FROM distributions WHERE id = $1", key)
