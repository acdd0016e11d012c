"""Queries for the service itself: the health ping and the audit log's pages."""

from __future__ import annotations

import datetime as dt

import asyncpg

PING_TIMEOUT_SECONDS = 5


async def ping(pool: asyncpg.Pool) -> None:
    """Raises when no connection answers within the timeout."""
    async with pool.acquire(timeout=PING_TIMEOUT_SECONDS) as conn:
        await conn.fetchval("SELECT 1")


async def audit_page(
    conn: asyncpg.Connection,
    *,
    county_code: str | None,
    since: dt.datetime | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Audit rows by (county, seq) after the key `after`, of one county (or all) and from `since`."""
    return await conn.fetch(
        """SELECT * FROM audit_log
           WHERE ($1::char(12) IS NULL OR county_code = $1)
             AND ($2::timestamptz IS NULL OR at >= $2)
             AND ($3::char(12) IS NULL OR (county_code, seq) > ($3, $4::bigint))
           ORDER BY county_code, seq LIMIT $5""",
        county_code,
        since,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
