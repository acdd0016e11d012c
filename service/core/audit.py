"""Append-only, hash-chained audit log (审计日志): one row per change, in the change's transaction."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import asyncpg
import msgspec

from db import audit as audit_q
from db.pool import queue_seal
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
    """Write one audit row; the caller's transaction makes it atomic with the change. The county's
    head is sealed just before that transaction commits (once per county, however many rows), or
    at once when the connection cannot defer it (autocommit, a plain asyncpg connection)."""
    seq = await audit_q.append(
        conn,
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
    if not queue_seal(conn, f"audit:{county_code}", functools.partial(audit_q.seal, county_code=county_code)):
        await audit_q.seal(conn, county_code)
    return seq


class ChainBreak(msgspec.Struct):
    county_code: str
    seq: int
    problem: str


async def verify_chain(conn: asyncpg.Connection, county_code: str | None = None) -> list[ChainBreak]:
    """Recompute every hash (of every county, or of the one named); report rows whose content,
    order or tail no longer match."""
    rows = await audit_q.chain_breaks(conn, county_code)
    breaks = [ChainBreak(r["county_code"], r["seq"], r["problem"]) for r in rows]
    tails = await audit_q.broken_tails(conn, county_code)
    breaks += [ChainBreak(r["county_code"], r["seq"], "tail") for r in tails]
    unsealed = await audit_q.unsealed_heads(conn, county_code)
    breaks += [ChainBreak(r["county_code"], r["seq"], "unsealed") for r in unsealed]
    return breaks
