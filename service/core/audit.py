"""Append-only, hash-chained audit log (审计日志): one row per change, in the change's transaction."""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg
import msgspec

from service.core.principal import Principal

GLOBAL_COUNTY = "000000000000"  # changes that belong to no county: users, provinces, settings

_encoder = msgspec.json.Encoder(order="deterministic")


def digest(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(_encoder.encode(value)).hexdigest()


class Actor(msgspec.Struct, frozen=True):
    name: str
    address: str | None

    @classmethod
    def of(cls, principal: Principal | None, address: str | None) -> Actor:
        """Who did it, as the audit log names them: role and user, a household, or anonymous."""
        if principal is None:
            return cls("anonymous", address)
        prefix = "household" if principal.kind == "household" else principal.role
        return cls(f"{prefix}:{principal.name}", address)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(name, None)


async def record(
    conn: asyncpg.Connection,
    actor: Actor,
    *,
    county_code: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any = None,
    after: Any = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Write one audit row; the caller's transaction makes it atomic with the change."""
    return await conn.fetchval(
        "SELECT audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        county_code,
        actor.name,
        action,
        object_type,
        object_id,
        digest(before),
        digest(after),
        detail,
        actor.address,
    )


class ChainBreak(msgspec.Struct):
    county_code: str
    seq: int
    problem: str


async def verify_chain(conn: asyncpg.Connection) -> list[ChainBreak]:
    """Recompute every hash; report rows whose content, order or tail no longer match."""
    rows = await conn.fetch(
        """
        WITH chain AS (
            SELECT county_code, seq, prev_hash, hash,
                   encode(sha256(convert_to(audit_canonical(county_code, seq, at, actor, action,
                       object_type, object_id, before_digest, after_digest, detail, address,
                       prev_hash), 'UTF8')), 'hex') AS recomputed,
                   lag(hash) OVER (PARTITION BY county_code ORDER BY seq) AS previous,
                   lag(seq) OVER (PARTITION BY county_code ORDER BY seq) AS previous_seq
            FROM audit_log)
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
    )
    breaks = [ChainBreak(r["county_code"], r["seq"], r["problem"]) for r in rows]
    tails = await conn.fetch(
        """
        SELECT h.county_code, h.seq
        FROM audit_heads h
        LEFT JOIN audit_log l ON l.county_code = h.county_code AND l.seq = h.seq
        WHERE h.seq > 0 AND (l.hash IS NULL OR l.hash <> h.hash)
        """
    )
    breaks += [ChainBreak(r["county_code"], r["seq"], "tail") for r in tails]
    return breaks
