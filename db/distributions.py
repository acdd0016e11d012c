"""Queries for distribution plans (收益分配方案) and the facts a plan is computed from.

The facts come from the share register, member accounts, trades and the ledger of earlier years:
what earlier years carried is read from account balances, never taken from anyone's word. Every
query text is a constant; an optional lock is a second constant query.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import asyncpg
import msgspec

from db import ventures as ventures_q
from db.ids import as_uuid
from schemas.ventures import Charter as CharterIn
from service.distributions.rules import (
    ARREARS_MEMO,
    CARRIED_CODES,
    CarriedState,
    Charter,
    Member,
    VentureFacts,
    account_specs,
)
from service.ventures.rules import ShareMovement

LINE_COLUMNS = [
    "county_code",
    "distribution_id",
    "line_no",
    "member_id",
    "household_id",
    "basis",
    "weight",
    "amount_fen",
    "explanation",
]


async def distribution(
    conn: asyncpg.Connection, distribution_id: str | uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    key = as_uuid(distribution_id)
    if key is None:
        return None
    if for_update:
        return await conn.fetchrow("SELECT * FROM distributions WHERE id = $1 FOR UPDATE", key)
    return await conn.fetchrow("SELECT * FROM distributions WHERE id = $1", key)


# ---- the facts a plan is computed from ---------------------------------------------------------


async def carried_states(conn: asyncpg.Connection, ventures: Sequence[asyncpg.Record]) -> dict[str, CarriedState]:
    """What earlier years left each venture, read from the ledger rather than taken from anyone's word:
    the debit balance of 4104 (332) is the loss carried forward, 410101 (322) the reserve, 9101 the
    arrears owed per member."""
    out: dict[str, CarriedState] = {}
    by_county: dict[str, list[asyncpg.Record]] = {}
    for v in ventures:
        by_county.setdefault(v["county_code"], []).append(v)
    for county, vs in by_county.items():
        wanted = {str(v["id"]): account_specs(str(v["id"]), v["model"]) for v in vs}
        rows = await conn.fetch(
            """SELECT a.owner_id, a.code, a.id, coalesce(b.balance_fen, 0) AS balance
               FROM accounts a LEFT JOIN account_balances b ON b.county_code = a.county_code AND b.account_id = a.id
               WHERE a.county_code = $1 AND a.owner_type = 'venture' AND a.owner_id = ANY($2::text[])
                 AND a.code = ANY($3::text[])""",
            county,
            list(wanted),
            list(CARRIED_CODES),
        )
        balance = {(r["owner_id"], r["code"]): r["balance"] for r in rows}
        arrears = await _arrears(conn, county, {r["id"]: r["owner_id"] for r in rows if r["code"] == ARREARS_MEMO})
        for vid, specs in wanted.items():
            out[vid] = CarriedState(
                losses_carried_fen=max(0, balance.get((vid, specs["appropriation"].code), 0)),
                statutory_reserve_balance_fen=-balance.get((vid, specs["statutory"].code), 0),
                arrears_by_member=arrears.get(vid, {}),
            )
    return out


async def _arrears(
    conn: asyncpg.Connection, county_code: str, arrears_accounts: Mapping[uuid.UUID, str]
) -> dict[str, dict[str, int]]:
    """venture id → member id → preferred floors still owed, from the 9101 memorandum accounts."""
    arrears: dict[str, dict[str, int]] = {}
    if not arrears_accounts:
        return arrears
    for r in await conn.fetch(
        """SELECT account_id, party_id, sum(amount_fen)::bigint AS balance FROM journal_lines
               WHERE county_code = $1 AND account_id = ANY($2::uuid[]) AND party_id IS NOT NULL
               GROUP BY account_id, party_id HAVING sum(amount_fen) <> 0""",
        county_code,
        list(arrears_accounts),
    ):
        arrears.setdefault(arrears_accounts[r["account_id"]], {})[str(r["party_id"])] = r["balance"]
    return arrears


async def load_facts(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> VentureFacts:
    return (await load_facts_many(conn, [venture], year))[0]


async def load_facts_many(
    conn: asyncpg.Connection, ventures: Sequence[asyncpg.Record], year: int
) -> list[VentureFacts]:
    """Facts for many ventures in a handful of queries (a province runs 10,000 ventures at once)."""
    ids = [v["id"] for v in ventures]
    members, uuids = await _members(conn, ids)
    movements = await _movements(conn, ids, year)
    coop_ids = [v["id"] for v in ventures if v["model"] == "cooperative"]
    accounts, volumes = await _member_accounts(conn, ids, coop_ids, year)
    carried = await carried_states(conn, ventures)
    facts = []
    for v in ventures:
        charter = Charter(**msgspec.structs.asdict(msgspec.convert(v["charter"], CharterIn)))
        facts.append(
            VentureFacts(
                venture_id=str(v["id"]),
                county_code=v["county_code"],
                village_code=v["village_code"],
                model=v["model"],
                registered_capital_fen=v["registered_capital_fen"],
                record_date_mmdd=v["record_date_mmdd"],
                charter=charter,
                members=members[v["id"]],
                movements=movements[v["id"]],
                member_accounts=accounts[v["id"]],
                volumes=volumes[v["id"]],
                carried=carried[str(v["id"])],
                ids={**uuids[v["id"]], str(v["id"]): v["id"]},
            )
        )
    return facts


async def _members(
    conn: asyncpg.Connection, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, dict[str, Member]], dict[uuid.UUID, dict[str, uuid.UUID]]]:
    """Each venture's members, and the UUID of every member and household id they name."""
    members: dict[uuid.UUID, dict[str, Member]] = {i: {} for i in ids}
    uuids: dict[uuid.UUID, dict[str, uuid.UUID]] = {i: {} for i in ids}
    for m in await conn.fetch(
        "SELECT venture_id, id, household_id, name, kind FROM venture_members WHERE venture_id = ANY($1::uuid[]) "
        "ORDER BY venture_id, member_no",
        ids,
    ):
        mid, hid = str(m["id"]), str(m["household_id"]) if m["household_id"] else None
        members[m["venture_id"]][mid] = Member(mid, hid, m["name"], m["kind"])
        uuids[m["venture_id"]][mid] = m["id"]
        if hid:
            uuids[m["venture_id"]][hid] = m["household_id"]
    return members, uuids


async def _movements(conn: asyncpg.Connection, ids: list[uuid.UUID], year: int) -> dict[uuid.UUID, list[ShareMovement]]:
    """Each venture's share movements up to the end of the year, in register order."""
    movements: dict[uuid.UUID, list[ShareMovement]] = {i: [] for i in ids}
    for r in await conn.fetch(
        """SELECT venture_id, kind, from_member_id, to_member_id, share_class, shares, capital_fen, effective_date
               FROM share_movements WHERE venture_id = ANY($1::uuid[]) AND effective_date <= make_date($2, 12, 31)
               ORDER BY venture_id, effective_date, register_no""",
        ids,
        year,
    ):
        movements[r["venture_id"]].append(ventures_q.to_movement(r))
    return movements


async def _member_accounts(
    conn: asyncpg.Connection, ids: list[uuid.UUID], coop_ids: list[uuid.UUID], year: int
) -> tuple[dict[uuid.UUID, dict[str, tuple[int, int, int]]], dict[uuid.UUID, dict[str, int]]]:
    """Cooperatives' member accounts (capital, reserve share before this year, subsidy share) and
    the year's member trades (non-members' trades are kept apart, art. 41)."""
    accounts: dict[uuid.UUID, dict[str, tuple[int, int, int]]] = {i: {} for i in ids}
    volumes: dict[uuid.UUID, dict[str, int]] = {i: {} for i in ids}
    if not coop_ids:
        return accounts, volumes
    for r in await conn.fetch(
        """SELECT venture_id, member_id,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'capital' AND year <= $2), 0)::bigint AS capital,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'reserve' AND year < $2), 0)::bigint AS reserve,
                  coalesce(sum(amount_fen) FILTER (WHERE kind = 'subsidy' AND year <= $2), 0)::bigint AS subsidy
               FROM member_account_movements WHERE venture_id = ANY($1::uuid[]) GROUP BY venture_id, member_id""",
        coop_ids,
        year,
    ):
        accounts[r["venture_id"]][str(r["member_id"])] = (r["capital"], r["reserve"], r["subsidy"])
    for r in await conn.fetch(
        """SELECT venture_id, member_id, sum(amount_fen)::bigint AS volume FROM trades
               WHERE venture_id = ANY($1::uuid[]) AND member_id IS NOT NULL
                 AND traded_on BETWEEN make_date($2, 1, 1) AND make_date($2, 12, 31)
               GROUP BY venture_id, member_id""",
        coop_ids,
        year,
    ):
        volumes[r["venture_id"]][str(r["member_id"])] = r["volume"]
    return accounts, volumes
