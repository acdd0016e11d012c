"""Queries for the service itself: the health ping, the migrations applied, the data key's check
and the audit log's pages."""

from __future__ import annotations

import datetime as dt

import asyncpg

PING_TIMEOUT_SECONDS = 5


async def ping(pool: asyncpg.Pool) -> None:
    """Raises when no connection answers within the timeout."""
    async with pool.acquire(timeout=PING_TIMEOUT_SECONDS) as conn:
        await conn.fetchval("SELECT 1")


async def clock(conn: asyncpg.Connection) -> dt.datetime:
    """The database's clock now (clock_timestamp(), not the transaction's start), read on its own:
    Citus refuses a volatile function inside an UPDATE of a distributed table, so the time is taken
    first and written as a value."""
    at: dt.datetime = await conn.fetchval("SELECT clock_timestamp()")
    return at


async def applied_migrations(pool: asyncpg.Pool) -> set[int]:
    """The migration versions the database holds (readiness: are they the code's?)."""
    async with pool.acquire(timeout=PING_TIMEOUT_SECONDS) as conn:
        return {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}


async def stored_key_check(conn: asyncpg.Connection) -> bytes | None:
    value = await conn.fetchval("SELECT key_check FROM data_key_check")
    return bytes(value) if value is not None else None


async def store_key_check(conn: asyncpg.Connection, key_check: bytes) -> bytes:
    """Store the check unless one is there already (two processes starting at once); answers
    the check the database holds afterwards."""
    await conn.execute("INSERT INTO data_key_check (key_check) VALUES ($1) ON CONFLICT DO NOTHING", key_check)
    return bytes(await conn.fetchval("SELECT key_check FROM data_key_check"))


async def one_sealed_identity(conn: asyncpg.Connection) -> bytes | None:
    """Some household's encrypted ID number, to try a key on a database that holds no check yet."""
    value = await conn.fetchval("SELECT head_id_enc FROM households LIMIT 1")
    return bytes(value) if value is not None else None


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


async def audit_search(
    conn: asyncpg.Connection,
    *,
    county_code: str | None,
    actor: str | None,
    action: str | None,
    object_type: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    before: tuple[str, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Audit rows newest first (by county, seq) before the key `before`: of one county (or all),
    whose actor contains `actor`, whose action starts with `action`, of one object type, at or
    after `since` and before `until`."""
    return await conn.fetch(
        """SELECT * FROM audit_log
           WHERE ($1::char(12) IS NULL OR county_code = $1)
             AND ($2::text IS NULL OR strpos(lower(actor), lower($2)) > 0)
             AND ($3::text IS NULL OR starts_with(action, $3))
             AND ($4::text IS NULL OR object_type = $4)
             AND ($5::timestamptz IS NULL OR at >= $5)
             AND ($6::timestamptz IS NULL OR at < $6)
             AND ($7::char(12) IS NULL OR (county_code, seq) < ($7, $8::bigint))
           ORDER BY county_code DESC, seq DESC LIMIT $9""",
        county_code,
        actor,
        action,
        object_type,
        since,
        until,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )


async def audit_count(conn: asyncpg.Connection, county_code: str | None) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE $1::char(12) IS NULL OR county_code = $1", county_code
    )
