"""Queries of the append-only, hash-chained audit log (migrations 0001, 0009, 0016 and 0018 define
audit_append; 0018 the seal)."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.scoping import in_county


async def append(
    conn: asyncpg.Connection,
    county_code: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before_digest: str | None,
    after_digest: str | None,
    detail: dict[str, Any] | None,
    address: str | None,
) -> int:
    seq: int = await conn.fetchval(
        "SELECT audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        county_code,
        actor,
        action,
        object_type,
        object_id,
        before_digest,
        after_digest,
        detail,
        address,
    )
    return seq


async def seal(conn: asyncpg.Connection, county_code: str) -> None:
    """Move the county's head to the last row of its chain, just before the transaction that wrote
    rows there commits: one statement on the county's shard. The transaction holds the head's row
    lock since its first row (audit_append), so nothing interleaves; were it not held (a savepoint
    rolled back), the lock is taken here and a head never moves backwards."""
    await conn.execute(
        """UPDATE audit_heads h SET seq = l.seq, hash = l.hash
           FROM (SELECT seq, hash FROM audit_log WHERE county_code = $1 ORDER BY seq DESC LIMIT 1) l
           WHERE h.county_code = $1 AND h.seq < l.seq""",
        county_code,
    )


_CHAIN_BREAKS = """
        WITH chain AS (
            SELECT county_code, seq, prev_hash, hash,
                   encode(sha256(convert_to(audit_canonical(county_code, seq, at, actor, action,
                       object_type, object_id, before_digest, after_digest, detail, address,
                       prev_hash), 'UTF8')), 'hex') AS recomputed,
                   lag(hash) OVER (PARTITION BY county_code ORDER BY seq) AS previous,
                   lag(seq) OVER (PARTITION BY county_code ORDER BY seq) AS previous_seq
            FROM audit_log {county})
        SELECT county_code, seq,
               CASE WHEN recomputed <> hash THEN 'content'
                    WHEN previous IS NOT NULL AND previous <> prev_hash THEN 'link'
                    WHEN previous_seq IS NOT NULL AND previous_seq <> seq - 1 THEN 'gap'
                    WHEN previous IS NULL AND (seq <> 1 OR prev_hash <> repeat('0', 64)) THEN 'start'
               END AS problem
        FROM chain
        WHERE recomputed <> hash
           OR (previous IS NOT NULL AND previous <> prev_hash)
           OR (previous_seq IS NOT NULL AND previous_seq <> seq - 1)
           OR (previous IS NULL AND (seq <> 1 OR prev_hash <> repeat('0', 64)))
        ORDER BY county_code, seq
        """


async def chain_breaks(conn: asyncpg.Connection, county_code: str | None = None) -> list[asyncpg.Record]:
    """Rows whose hash, link to the previous row, numbering or start no longer hold (in every
    county, or in the one named: a window partitioned by county, so filtering first is the same)."""
    sql, args = in_county(_CHAIN_BREAKS, county_code, "WHERE county_code = $1")
    return await conn.fetch(sql, *args)


async def broken_tails(conn: asyncpg.Connection, county_code: str | None = None) -> list[asyncpg.Record]:
    """Counties whose recorded head no longer matches the last row of their chain."""
    sql, args = in_county(
        """
        SELECT h.county_code, h.seq
        FROM audit_heads h
        LEFT JOIN audit_log l ON l.county_code = h.county_code AND l.seq = h.seq
        WHERE h.seq > 0 AND (l.hash IS NULL OR l.hash <> h.hash) {county}
        """,
        county_code,
        "AND h.county_code = $1",
    )
    return await conn.fetch(sql, *args)


async def unsealed_heads(conn: asyncpg.Connection, county_code: str | None = None) -> list[asyncpg.Record]:
    """Counties whose chain runs past its head (a commit that did not seal: a bug in the code that
    committed, and a tail a removal would not be seen from), with the chain's last seq."""
    sql, args = in_county(
        """
        SELECT l.county_code, max(l.seq) AS seq
        FROM audit_log l LEFT JOIN audit_heads h ON h.county_code = l.county_code
        {county}
        GROUP BY l.county_code, h.seq
        HAVING max(l.seq) > coalesce(h.seq, 0)
        """,
        county_code,
        "WHERE l.county_code = $1",
    )
    return await conn.fetch(sql, *args)
