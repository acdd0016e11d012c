"""Queries for ventures, members, the share register, member accounts, subsidies, trades and
reallocation proposals: all the SQL of the ventures feature."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from db.ids import as_uuid, row_for_update
from db.scoping import in_county
from service.ventures.rules import ShareMovement, TradeRow


async def venture(conn: asyncpg.Connection, venture_id: str, *, for_update: bool = False) -> asyncpg.Record | None:
    key = as_uuid(venture_id)
    if key is None:
        return None
    if for_update:
        return await row_for_update(conn, "ventures", key)
    return await conn.fetchrow("SELECT * FROM ventures WHERE id = $1", key)


async def village(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT code, county_code FROM regions WHERE code = $1 AND level = 'village'", code)


async def insert_venture(
    conn: asyncpg.Connection,
    county_code: str,
    name: str,
    model: str,
    village_code: str,
    registered_capital_fen: int,
    record_date_mmdd: str,
    charter: dict[str, Any],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO ventures (county_code, name, model, village_code, registered_capital_fen,
               record_date_mmdd, charter) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        county_code,
        name,
        model,
        village_code,
        registered_capital_fen,
        record_date_mmdd,
        charter,
    )
    assert row is not None
    return row


async def give_venture_to_user(conn: asyncpg.Connection, user_id: str, venture_id: uuid.UUID) -> None:
    """The accountant who sets up a venture keeps it: it joins the user's venture_ids."""
    await conn.execute(
        "UPDATE users SET venture_ids = array_append(venture_ids, $2) WHERE id = $1::uuid", user_id, venture_id
    )


async def next_register_no(conn: asyncpg.Connection, county_code: str, venture_id: uuid.UUID) -> int:
    """Take the venture's next register number (股权登记簿 numbers have no gaps within a venture)."""
    number: int = await conn.fetchval(
        "UPDATE ventures SET next_register_no = next_register_no + 1 WHERE county_code = $1 AND id = $2 "
        "RETURNING next_register_no - 1",
        county_code,
        venture_id,
    )
    return number


async def members(conn: asyncpg.Connection, venture_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM venture_members WHERE venture_id = $1 ORDER BY member_no", venture_id)


async def member(conn: asyncpg.Connection, venture_id: uuid.UUID, member_id: str | None) -> asyncpg.Record | None:
    key = as_uuid(member_id)
    if key is None:
        return None
    return await conn.fetchrow("SELECT * FROM venture_members WHERE venture_id = $1 AND id = $2", venture_id, key)


async def collective(conn: asyncpg.Connection, venture_id: uuid.UUID) -> uuid.UUID | None:
    """The village collective's member id (a venture has at most one), or None."""
    member_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM venture_members WHERE venture_id = $1 AND kind = 'collective'", venture_id
    )
    return member_id


async def household_county(conn: asyncpg.Connection, household_id: uuid.UUID) -> str | None:
    county: str | None = await conn.fetchval("SELECT county_code FROM households WHERE id = $1", household_id)
    return county


async def next_member_no(conn: asyncpg.Connection, venture_id: uuid.UUID) -> int:
    number: int = await conn.fetchval(
        "SELECT coalesce(max(member_no), 0) + 1 FROM venture_members WHERE venture_id = $1", venture_id
    )
    return number


async def insert_member(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    member_no: int,
    kind: str,
    household_id: uuid.UUID | None,
    name: str,
) -> asyncpg.Record:
    """Raises asyncpg.UniqueViolationError when the venture already has its collective or this household."""
    row = await conn.fetchrow(
        """INSERT INTO venture_members (county_code, venture_id, member_no, kind, household_id, name)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        county_code,
        venture_id,
        member_no,
        kind,
        household_id,
        name,
    )
    assert row is not None
    return row


async def poor_members(conn: asyncpg.Connection, venture_id: uuid.UUID) -> list[uuid.UUID]:
    """Members whose household is registered poor today, by member number."""
    rows = await conn.fetch(
        """SELECT m.id FROM venture_members m JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id
           WHERE m.venture_id = $1 AND h.status = 'poor' ORDER BY m.member_no""",
        venture_id,
    )
    return [r["id"] for r in rows]


async def memberships_following_status(conn: asyncpg.Connection, household_id: uuid.UUID) -> list[asyncpg.Record]:
    """(venture id, member id) of the household in every venture whose poverty shares follow status."""
    return await conn.fetch(
        """SELECT v.id, m.id AS member_id FROM venture_members m JOIN ventures v ON v.county_code = m.county_code AND v.id = m.venture_id
           WHERE m.household_id = $1 AND (v.charter->>'poverty_follows_status')::boolean""",
        household_id,
    )


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
    assert sums is not None
    return {**dict(sums), "transaction_volume_fen": volume}


async def insert_share_movement(
    conn: asyncpg.Connection,
    county_code: str,
    movement_id: uuid.UUID,
    venture_id: uuid.UUID,
    register_no: int,
    movement: ShareMovement,
    reason: str,
    entry_id: uuid.UUID | None,
    recorded_by: str,
) -> None:
    await conn.execute(
        """INSERT INTO share_movements (county_code, id, venture_id, register_no, kind, from_member_id, to_member_id,
               share_class, shares, capital_fen, effective_date, reason, entry_id, recorded_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        county_code,
        movement_id,
        venture_id,
        register_no,
        movement.kind,
        as_uuid(movement.from_member),
        as_uuid(movement.to_member),
        movement.share_class,
        movement.shares,
        movement.capital_fen,
        movement.effective_date,
        reason,
        entry_id,
        recorded_by,
    )


async def add_capital_to_accounts(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    year: int,
    movement_id: uuid.UUID,
    changes: Sequence[tuple[uuid.UUID, int]],
) -> None:
    """The capital a share movement moves, into the member accounts (成员账户) it touches."""
    await conn.executemany(
        """INSERT INTO member_account_movements (county_code, venture_id, member_id, year, kind, amount_fen,
               source_type, source_id) VALUES ($1, $2, $3, $4, 'capital', $5, 'share_movement', $6)""",
        [(county_code, venture_id, member_id, year, amount, str(movement_id)) for member_id, amount in changes],
    )


async def insert_subsidy(
    conn: asyncpg.Connection,
    county_code: str,
    subsidy_id: uuid.UUID,
    venture_id: uuid.UUID,
    amount_fen: int,
    source: str,
    received_on: dt.date,
    entry_id: uuid.UUID,
) -> None:
    await conn.execute(
        """INSERT INTO subsidies (county_code, id, venture_id, amount_fen, source, received_on, entry_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        county_code,
        subsidy_id,
        venture_id,
        amount_fen,
        source,
        received_on,
        entry_id,
    )


ACCOUNT_MOVEMENT_COLUMNS = [
    "county_code",
    "id",
    "venture_id",
    "member_id",
    "year",
    "kind",
    "amount_fen",
    "source_type",
    "source_id",
]


async def copy_subsidy_shares(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    subsidy_id: uuid.UUID,
    year: int,
    shares: Sequence[tuple[uuid.UUID, int]],
) -> None:
    """Each member's quantified share of a subsidy (财政补助形成财产量化份额), with COPY."""
    await conn.copy_records_to_table(
        "member_account_movements",
        records=[
            (county_code, uuid.uuid4(), venture_id, member_id, year, "subsidy", amount, "subsidy", str(subsidy_id))
            for member_id, amount in shares
        ],
        columns=ACCOUNT_MOVEMENT_COLUMNS,
    )


async def insert_trade(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    member_id: uuid.UUID | None,
    traded_on: dt.date,
    product: str,
    quantity_g: int,
    amount_fen: int,
) -> uuid.UUID:
    trade_id: uuid.UUID = await conn.fetchval(
        """INSERT INTO trades (county_code, venture_id, member_id, traded_on, product, quantity_g, amount_fen)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        county_code,
        venture_id,
        member_id,
        traded_on,
        product,
        quantity_g,
        amount_fen,
    )
    return trade_id


TRADE_COLUMNS = ["county_code", "id", "venture_id", "member_id", "traded_on", "product", "quantity_g", "amount_fen"]


async def copy_trades(
    conn: asyncpg.Connection, county_code: str, venture_id: uuid.UUID, trades: Sequence[TradeRow]
) -> None:
    """The trades of one sheet, with COPY."""
    await conn.copy_records_to_table(
        "trades",
        records=[
            (
                county_code,
                uuid.uuid4(),
                venture_id,
                as_uuid(t.member_id),
                t.traded_on,
                t.product,
                t.quantity_g,
                t.amount_fen,
            )
            for t in trades
        ],
        columns=TRADE_COLUMNS,
    )


async def insert_reallocation_proposal(
    conn: asyncpg.Connection,
    county_code: str,
    venture_id: uuid.UUID,
    exited_household_id: uuid.UUID,
    shares: int,
    capital_fen: int,
    effective_date: dt.date,
    proposal: list[dict[str, Any]],
) -> None:
    await conn.execute(
        """INSERT INTO reallocation_proposals (county_code, venture_id, exited_household_id, shares, capital_fen,
               effective_date, proposal) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        county_code,
        venture_id,
        exited_household_id,
        shares,
        capital_fen,
        effective_date,
        proposal,
    )


async def reallocation_for_update(
    conn: asyncpg.Connection, county_code: str, venture_id: uuid.UUID, proposal_id: str
) -> asyncpg.Record | None:
    key = as_uuid(proposal_id)
    if key is None:
        return None
    return await conn.fetchrow(
        "SELECT * FROM reallocation_proposals WHERE county_code = $1 AND venture_id = $2 AND id = $3 FOR UPDATE",
        county_code,
        venture_id,
        key,
    )


async def confirm_reallocation(
    conn: asyncpg.Connection, county_code: str, proposal_id: uuid.UUID, items: list[dict[str, Any]]
) -> None:
    await conn.execute(
        "UPDATE reallocation_proposals SET status = 'confirmed', proposal = $2 WHERE county_code = $1 AND id = $3",
        county_code,
        items,
        proposal_id,
    )


async def reallocations(conn: asyncpg.Connection, venture_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM reallocation_proposals WHERE venture_id = $1 ORDER BY created_at", venture_id
    )


_VENTURES_PAGE = """SELECT * FROM ventures
    WHERE ($1::uuid[] IS NULL OR id = ANY($1::uuid[])) AND village_code LIKE $2 || '%'
      AND ($3::text IS NULL OR village_code = $3) AND ($4::text IS NULL OR model = $4)
      AND ($5::text IS NULL OR (name, id) > ($5::text, $6::uuid)) {county}
    ORDER BY name, id LIMIT $7"""


async def ventures_page(
    conn: asyncpg.Connection,
    *,
    venture_ids: Sequence[uuid.UUID] | None,
    county_code: str | None,
    scope: str,
    village_code: str | None,
    model: str | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Ventures by name then id, after the key `after`: those of `venture_ids` when given (an
    accountant's), of one county when given (its range of the key, not the province's), and only
    those whose village code starts with `scope`."""
    sql, county = in_county(_VENTURES_PAGE, county_code, "AND county_code = $8")
    after_name, after_id = after if after else (None, None)
    return await conn.fetch(sql, venture_ids, scope, village_code, model, after_name, after_id, limit, *county)


_WITH_LATEST_PLAN = """SELECT v.id::text AS id, v.name, v.model, v.village_code,
           coalesce(r.name, v.village_code) AS village_name,
           d.id::text AS plan_id, d.fiscal_year, d.status, d.notice_ends_on
    FROM (SELECT id, name, model, village_code FROM ventures
          WHERE ($1::uuid[] IS NULL OR id = ANY($1::uuid[])) AND village_code LIKE $2 || '%' {county}
          ORDER BY name, id LIMIT $3) v
    LEFT JOIN regions r ON r.code = v.village_code
    LEFT JOIN LATERAL (SELECT id, fiscal_year, status, notice_ends_on FROM distributions
                       WHERE venture_id = v.id
                       ORDER BY fiscal_year DESC, id::text LIMIT 1) d ON true
    ORDER BY v.name, v.id"""


async def ventures_with_latest_plan(
    conn: asyncpg.Connection,
    *,
    venture_ids: Sequence[uuid.UUID] | None,
    county_code: str | None,
    scope: str,
    limit: int,
) -> list[asyncpg.Record]:
    """The first `limit` ventures by name then id (those of `venture_ids` when given, and only
    those whose village code starts with `scope`), each with its village's name and the few
    columns of its latest plan (plan_id NULL when it has none): one query for a console's home,
    rather than one or two a venture with every plan's JSON decoded. Ids come as text, as the
    page shows them (a uuid decoded only to be printed again cost a home some 3 µs a venture)."""
    sql, county = in_county(_WITH_LATEST_PLAN, county_code, "AND county_code = $4")
    return await conn.fetch(sql, venture_ids, scope, limit, *county)


async def share_movements_page(
    conn: asyncpg.Connection,
    venture_id: uuid.UUID,
    *,
    since: dt.date | None,
    until: dt.date | None,
    after_no: int,
    limit: int,
) -> list[asyncpg.Record]:
    """The register's movements (股权变动) in register order, dated within [since, until]."""
    return await conn.fetch(
        """SELECT * FROM share_movements
           WHERE venture_id = $1 AND ($2::date IS NULL OR effective_date >= $2)
             AND ($3::date IS NULL OR effective_date <= $3) AND register_no > $4
           ORDER BY register_no LIMIT $5""",
        venture_id,
        since,
        until,
        after_no,
        limit,
    )


async def trades_page(
    conn: asyncpg.Connection,
    venture_id: uuid.UUID,
    *,
    year: int | None,
    member_id: uuid.UUID | None,
    after: tuple[dt.date, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Trades by date then id, of a year and a member when named."""
    return await conn.fetch(
        """SELECT * FROM trades
           WHERE venture_id = $1 AND ($2::int IS NULL OR (traded_on >= make_date($2, 1, 1)
                                                          AND traded_on <= make_date($2, 12, 31)))
             AND ($3::uuid IS NULL OR member_id = $3)
             AND ($4::date IS NULL OR (traded_on, id::text) > ($4, $5))
           ORDER BY traded_on, id::text LIMIT $6""",
        venture_id,
        year,
        member_id,
        after[0] if after else None,
        after[1] if after else "",
        limit,
    )


async def subsidies_of(conn: asyncpg.Connection, venture_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM subsidies WHERE venture_id = $1 ORDER BY received_on, created_at", venture_id
    )


async def household_in_county(conn: asyncpg.Connection, county_code: str, household_no: str) -> uuid.UUID | None:
    """A household's id by its number (户号), within a county."""
    household_id: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM households WHERE county_code = $1 AND household_no = $2", county_code, household_no
    )
    return household_id


async def household_numbers(
    conn: asyncpg.Connection, county_code: str, household_ids: Sequence[uuid.UUID]
) -> dict[str, str]:
    """Household numbers (户号) by household id, within a county."""
    rows = await conn.fetch(
        "SELECT id, household_no FROM households WHERE county_code = $1 AND id = ANY($2::uuid[])",
        county_code,
        list(household_ids),
    )
    return {str(r["id"]): r["household_no"] for r in rows}
