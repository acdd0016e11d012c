"""Queries of the idempotency layer: Idempotency-Key claims (service/core/idempotency.py) and the
log of imported sheets (service/core/imported.py)."""

from __future__ import annotations

import uuid

import asyncpg

# ---- Idempotency-Key claims -------------------------------------------------------------------


async def claim(
    conn: asyncpg.Connection, scope: str, key: str, digest: str, method: str, path: str, *, wait_ms: int
) -> bool:
    """Claim a key inside the caller's transaction: True when this request holds it now.

    A row another live transaction inserted makes this INSERT wait for that transaction (at most
    wait_ms: then asyncpg's LockNotAvailableError, and the caller's transaction is aborted); when
    it commits, the key is taken (False) and its answer can be read; when it rolls back, the claim
    is ours. The lock timeout is this statement's only: the request's own work keeps the server's.
    """
    previous = await conn.fetchval("SELECT current_setting('lock_timeout')")
    await conn.execute("SELECT set_config('lock_timeout', $1, true)", f"{wait_ms}ms")
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (scope, key, request_digest, method, path, state)
           VALUES ($1, $2, $3, $4, $5, 'in_flight') ON CONFLICT DO NOTHING RETURNING true""",
        scope,
        key,
        digest,
        method,
        path,
    )
    await conn.execute("SELECT set_config('lock_timeout', $1, true)", previous)
    return bool(claimed)


async def claimed(conn: asyncpg.Connection, scope: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT request_digest, state, response_status, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2",
        scope,
        key,
    )


async def finish(conn: asyncpg.Connection, scope: str, key: str, status: int, body: bytes) -> None:
    await conn.execute(
        """UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4
           WHERE scope = $1 AND key = $2""",
        scope,
        key,
        status,
        body,
    )


# ---- imported sheets --------------------------------------------------------------------------


async def lock_imports(conn: asyncpg.Connection, county_code: str, kind: str, subject: str, digest: str) -> None:
    """Serialise imports of the same rows (until the transaction ends), so two at once cannot both
    find the rows new."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"imported:{county_code}:{kind}:{subject}:{digest}"
    )


async def last_import(
    conn: asyncpg.Connection, county_code: str, kind: str, subject: str, digest: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT filename, row_count, imported_by,
                  to_char(imported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS imported_at
           FROM imported_files
           WHERE county_code = $1 AND kind = $2 AND subject = $3 AND rows_digest = $4
           ORDER BY imported_at DESC LIMIT 1""",
        county_code,
        kind,
        subject,
        digest,
    )


async def insert_import(
    conn: asyncpg.Connection,
    county_code: str,
    kind: str,
    subject: str,
    digest: str,
    *,
    filename: str,
    row_count: int,
    new_batch: bool,
    imported_by: str,
) -> None:
    await conn.execute(
        """INSERT INTO imported_files
               (county_code, id, kind, subject, rows_digest, filename, row_count, new_batch, imported_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        county_code,
        uuid.uuid4(),
        kind,
        subject,
        digest,
        filename,
        row_count,
        new_batch,
        imported_by,
    )
