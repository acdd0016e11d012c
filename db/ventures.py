"""Queries for ventures, members, the share register and member accounts."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from db.ids import as_uuid
from service.ventures.rules import ShareMovement


async def venture(conn: asyncpg.Connection, venture_id: str, *, for_update: bool = False) -> asyncpg.Record | None:
    key = as_uuid(venture_id)
    if key is None:
        return None
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM ventures WHERE id = $1{lock}", key)


async def members(conn: asyncpg.Connection, venture_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM venture_members WHERE venture_id = $1 ORDER BY member_no", venture_id)


async def member(conn: asyncpg.Connection, venture_id: uuid.UUID, member_id: str | None) -> asyncpg.Record | None:
    key = as_uuid(member_id)
    if key is None:
        return None
    return await conn.fetchrow("SELECT * FROM venture_members WHERE venture_id = $1 AND id = $2", venture_id, key)


async def movements(
    conn: asyncpg.Connection, venture_id: uuid.UUID, *, until: dt.date | None = None
) -> list[ShareMovement]:
    rows = await conn.fetch(
        """SELECT kind, from_member_id, to_member_id, share_class, shares, capital_fen, effective_date
           FROM share_movements WHERE venture_id = $1 AND ($2::date IS NULL OR effective_date <= $2)
           ORDER BY effective_date, register_no""",
        venture_id,
        until,
    )
    return [to_movement(r) for r in rows]


def to_movement(r: asyncpg.Record) -> ShareMovement:
    return ShareMovement(
        kind=r["kind"],
        from_member=str(r["from_member_id"]) if r["from_member_id"] else None,
        to_member=str(r["to_member_id"]) if r["to_member_id"] else None,
        share_class=r["share_class"],
        shares=r["shares"],
        capital_fen=r["capital_fen"],
        effective_date=r["effective_date"],
    )


async def certificates(conn: asyncpg.Connection, venture_id: uuid.UUID) -> dict[tuple[str, str], str]:
    rows = await conn.fetch(
        "SELECT member_id, share_class, certificate_no FROM share_certificates WHERE venture_id = $1", venture_id
    )
    return {(str(r["member_id"]), r["share_class"]): r["certificate_no"] for r in rows}


async def ensure_certificate(
    conn: asyncpg.Connection, county_code: str, venture: asyncpg.Record, member: asyncpg.Record, share_class: str
) -> None:
    """股权证 number: the venture's short code, the class, and the member's number."""
    number = f"GQ{venture['id'].hex[:8].upper()}-{'P' if share_class == 'poverty' else 'O'}{member['member_no']:06d}"
    await conn.execute(
        """INSERT INTO share_certificates (county_code, venture_id, member_id, share_class, certificate_no)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        county_code,
        venture["id"],
        member["id"],
        share_class,
        number,
    )


async def member_account(
    conn: asyncpg.Connection, venture_id: uuid.UUID, member_id: uuid.UUID, year: int
) -> dict[str, int]:
    sums = await conn.fetchrow(
        """SELECT coalesce(sum(amount_fen) FILTER (WHERE kind = 'capital'), 0)::bigint AS capital_fen,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'reserve'), 0)::bigint AS reserve_share_fen,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'subsidy'), 0)::bigint AS subsidy_share_fen
           FROM member_account_movements WHERE venture_id = $1 AND member_id = $2 AND year <= $3""",
        venture_id,
        member_id,
        year,
    )
    volume = await conn.fetchval(
        """SELECT coalesce(sum(amount_fen), 0)::bigint FROM trades
           WHERE venture_id = $1 AND member_id = $2 AND traded_on >= make_date($3, 1, 1)
             AND traded_on <= make_date($3, 12, 31)""",
        venture_id,
        member_id,
        year,
    )
    return {**dict(sums), "transaction_volume_fen": volume}
