"""Queries for staff users and the credentials logins check."""

from __future__ import annotations

import uuid

import asyncpg

from db.ids import as_uuid


async def user_credentials(conn: asyncpg.Connection, username: str) -> asyncpg.Record | None:
    """id, password_hash and role of an enabled user."""
    return await conn.fetchrow(
        "SELECT id, password_hash, role FROM users WHERE username = $1 AND NOT disabled",
        username,
    )


async def household_credentials(conn: asyncpg.Connection, household_no: str) -> asyncpg.Record | None:
    """id and pin_hash of a household. The county comes first from household_numbers, so that on a
    cluster each of the two reads goes to one shard (docs/scale-out.md)."""
    county = await conn.fetchval("SELECT county_code FROM household_numbers WHERE household_no = $1", household_no)
    if county is None:
        return None
    return await conn.fetchrow(
        "SELECT id, pin_hash FROM households WHERE county_code = $1 AND household_no = $2", county, household_no
    )


async def insert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password_hash: str,
    role: str,
    region_code: str | None,
    venture_ids: list[str],
) -> asyncpg.Record:
    """The new user's row; raises asyncpg.UniqueViolationError when the username is taken."""
    row = await conn.fetchrow(
        "INSERT INTO users (username, password_hash, role, region_code, venture_ids) "
        "VALUES ($1, $2, $3, $4, $5::uuid[]) RETURNING *",
        username,
        password_hash,
        role,
        region_code,
        venture_ids,
    )
    assert row is not None  # INSERT … RETURNING always answers a row
    return row


async def users(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM users ORDER BY username LIMIT $1", limit)


async def admin_id(conn: asyncpg.Connection) -> uuid.UUID | None:
    return await conn.fetchval("SELECT id FROM users WHERE username = 'admin'")


async def put_admin(conn: asyncpg.Connection, password_hash: str) -> uuid.UUID:
    """Create the user admin, or give it this password, the admin role and access again."""
    return await conn.fetchval(
        "INSERT INTO users (username, password_hash, role) VALUES ('admin', $1, 'admin') "
        "ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
        "role = 'admin', disabled = false RETURNING id",
        password_hash,
    )


async def active_user(conn: asyncpg.Connection, user_id: str) -> asyncpg.Record | None:
    """A user a token names, unless disabled since (checked on every request)."""
    key = as_uuid(user_id)
    if key is None:
        return None
    return await conn.fetchrow(
        "SELECT id, username, role, region_code, venture_ids FROM users WHERE id = $1 AND NOT disabled", key
    )


async def household_principal(conn: asyncpg.Connection, household_id: str) -> asyncpg.Record | None:
    key = as_uuid(household_id)
    if key is None:
        return None
    return await conn.fetchrow("SELECT id, household_no, county_code, village_code FROM households WHERE id = $1", key)


async def recent_failures(conn: asyncpg.Connection, key: str, window_seconds: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM login_failures WHERE key = $1 AND at > now() - make_interval(secs => $2)",
        key,
        window_seconds,
    )
    return count


async def add_failures(conn: asyncpg.Connection, keys: list[str], window_seconds: int) -> None:
    # Failures older than the window no longer count; dropping them keeps the table small.
    await conn.execute(
        "DELETE FROM login_failures WHERE key = ANY($1::text[]) AND at < now() - make_interval(secs => $2)",
        keys,
        window_seconds,
    )
    await conn.executemany("INSERT INTO login_failures (key) VALUES ($1)", [(k,) for k in keys])
