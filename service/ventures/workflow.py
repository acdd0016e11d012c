"""Use cases of ventures (经营主体): set one up, keep its members, its share register (股权登记簿) and
member accounts (成员账户), receive subsidies, record trades, and reallocate poverty shares
(谁贫困谁享受).

Each function runs in the caller's transaction (a route opens it, or run_idempotent does), checks
the caller's access through service.core.policy, and raises the typed errors of service.core.errors.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, NamedTuple

import asyncpg
import msgspec

from db import ledger
from db import ventures as q
from db.ids import as_uuid
from schemas.common import Created, Page
from schemas.ventures import Charter as CharterIn
from schemas.ventures import (
    MemberAccount,
    MemberCreate,
    MemberOut,
    ReallocationConfirm,
    ReallocationOut,
    Register,
    RegisterItem,
    ShareMovementCreate,
    ShareMovementItem,
    ShareMovementOut,
    SubsidyCreate,
    SubsidyListed,
    SubsidyOut,
    TradeCreate,
    TradeOut,
    VentureCreate,
    VentureOut,
)
from service.core.audit import Actor, record
from service.core.errors import forbidden, invalid_field, not_found
from service.core.imported import record_import
from service.core.pagination import DEFAULT_LIMIT, checked_limit, decode_cursor, page_of
from service.core.policy import may_found_venture_in, venture_for
from service.core.principal import Principal, Role, county_of, region_prefix
from service.core.tabular import read_sheet
from service.ledger import chart
from service.ledger.rules import AccountSpec, Line
from service.ventures.charter import Charter
from service.ventures.rules import (
    Party,
    ReallocationShare,
    ShareMovement,
    check_charter,
    check_movement,
    check_movement_parties,
    check_record_date,
    check_trades_sheet,
    holdings_as_of,
    propose_reallocation,
    quantify_subsidy,
    reallocation_capital,
    register_rows,
)
from service.ventures.sheets import TRADE_SHEET

# ---- wire shapes -------------------------------------------------------------------------------


def venture_out(row: asyncpg.Record) -> VentureOut:
    return VentureOut(
        str(row["id"]),
        row["name"],
        row["model"],
        row["county_code"],
        row["village_code"],
        row["registered_capital_fen"],
        row["record_date_mmdd"],
        msgspec.convert(row["charter"], CharterIn),
    )


def member_out(row: asyncpg.Record) -> MemberOut:
    return MemberOut(
        str(row["id"]),
        str(row["venture_id"]),
        row["member_no"],
        row["kind"],
        str(row["household_id"]) if row["household_id"] else None,
        row["name"],
    )


def reallocation_out(row: asyncpg.Record, status: str, items: list[dict[str, Any]]) -> ReallocationOut:
    return ReallocationOut(
        str(row["id"]),
        str(row["venture_id"]),
        str(row["exited_household_id"]),
        row["shares"],
        row["capital_fen"],
        row["effective_date"],
        status,
        items,
    )


def charter_terms(charter: CharterIn) -> Charter:
    """The charter as the rules read it."""
    return Charter(**msgspec.structs.asdict(charter))


# ---- ventures and members ------------------------------------------------------------------------


async def create_venture(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, data: VentureCreate
) -> VentureOut:
    """Set up a venture in a village; an accountant who does keeps it (its venture_ids)."""
    check_charter(data.model, charter_terms(data.charter))
    village = await q.village(conn, data.village_code)
    if village is None:
        raise invalid_field("village_code", f"村代码 {data.village_code} 不存在")
    if not may_found_venture_in(principal, data.village_code):
        raise forbidden("只能在本辖区设立经营主体")
    check_record_date(data.record_date_mmdd)
    row = await q.insert_venture(
        conn,
        village["county_code"],
        data.name,
        data.model,
        data.village_code,
        data.registered_capital_fen,
        data.record_date_mmdd,
        msgspec.to_builtins(data.charter),
    )
    if principal.role == Role.ACCOUNTANT:
        await q.give_venture_to_user(conn, principal.id, row["id"])
    out = venture_out(row)
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action="venture.create",
        object_type="venture",
        object_id=out.id,
        after=msgspec.to_builtins(out),
    )
    return out


async def get_venture(conn: asyncpg.Connection, principal: Principal, venture_id: str) -> VentureOut:
    return venture_out(await venture_for(conn, principal, venture_id))


class Readable(NamedTuple):
    """Which ventures a caller may read: the ids it keeps (an accountant's, else None), the county
    they are in (None: any, for the admin and an accountant, whose ids bound the read) and the
    prefix their village codes start with ('' for the admin and for an accountant)."""

    ids: list[uuid.UUID] | None
    county: str | None
    scope: str


def _readable(principal: Principal, village_code: str | None) -> Readable:
    if principal.role == Role.ACCOUNTANT:
        return Readable([u for u in (as_uuid(v) for v in principal.venture_ids) if u is not None], None, "")
    if principal.is_admin:
        return Readable(None, None, "")
    if principal.role == Role.HOUSEHOLD or (village_code and not principal.covers_region(village_code)):
        raise forbidden("只能查看本辖区的经营主体")
    region = principal.region_code or "x"
    return Readable(None, county_of(region), region_prefix(region))


async def list_ventures(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    village_code: str | None,
    model: str | None,
    limit: int,
    cursor: str | None,
) -> Page[VentureOut]:
    """The ventures the caller may read, by name: an accountant those it keeps, region staff
    those of their region, the admin every one."""
    readable = _readable(principal, village_code)
    key = decode_cursor(cursor, str, uuid.UUID)
    after = (key[0], key[1]) if key else None
    rows = await q.ventures_page(
        conn,
        venture_ids=readable.ids,
        county_code=readable.county,
        scope=readable.scope,
        village_code=village_code,
        model=model,
        after=after,
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda r: [r["name"], str(r["id"])])
    return Page([venture_out(r) for r in page], next_cursor)


class LatestPlan(msgspec.Struct, frozen=True):
    """What a home page says of a venture's latest plan (最近的分配方案). A Struct, not a frozen
    dataclass: a county's home builds one a venture, and a frozen dataclass sets each field
    through object.__setattr__ (0.9 µs a row against 0.13)."""

    id: str
    fiscal_year: int
    status: str
    notice_ends_on: dt.date | None


class VentureGlance(msgspec.Struct, frozen=True):
    """A venture as the console's home lists it: its name, kind, village and latest plan."""

    id: str
    name: str
    model: str
    village_code: str
    village_name: str
    plan: LatestPlan | None


async def ventures_at_a_glance(conn: asyncpg.Connection, principal: Principal, limit: int = 50) -> list[VentureGlance]:
    """The first `limit` ventures the caller may read, by name, each with its latest plan: the
    ventures list_ventures gives the caller, read in one query."""
    readable = _readable(principal, None)
    rows = await q.ventures_with_latest_plan(
        conn, venture_ids=readable.ids, county_code=readable.county, scope=readable.scope, limit=limit
    )
    return [
        VentureGlance(
            r["id"],
            r["name"],
            r["model"],
            r["village_code"],
            r["village_name"],
            LatestPlan(r["plan_id"], r["fiscal_year"], r["status"], r["notice_ends_on"]) if r["plan_id"] else None,
        )
        for r in rows
    ]


async def add_member(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, venture_id: str, data: MemberCreate
) -> MemberOut:
    """A new member, numbered after the last one under the venture's row lock."""
    v = await venture_for(conn, principal, venture_id, write=True, for_update=True)
    household_id = None
    if data.kind == "household":
        household_id = as_uuid(data.household_id)
        county = await q.household_county(conn, household_id) if household_id else None
        if county is None or county != v["county_code"]:
            raise invalid_field("household_id", "农户不存在或不属于本县")
    elif data.household_id is not None:
        raise invalid_field("household_id", "只有农户成员才填写 household_id")
    number = await q.next_member_no(conn, v["id"])
    try:
        async with conn.transaction():  # a savepoint: a second collective or household is refused cleanly
            row = await q.insert_member(conn, v["county_code"], v["id"], number, data.kind, household_id, data.name)
    except asyncpg.UniqueViolationError:
        what = "村集体" if data.kind == "collective" else "该农户"
        field = "kind" if data.kind == "collective" else "household_id"
        raise invalid_field(field, f"{what}已是本经营主体的成员") from None
    out = member_out(row)
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="member.add",
        object_type="member",
        object_id=out.id,
        after=msgspec.to_builtins(out),
    )
    return out


async def list_members(conn: asyncpg.Connection, principal: Principal, venture_id: str) -> list[MemberOut]:
    v = await venture_for(conn, principal, venture_id)
    return [member_out(r) for r in await q.members(conn, v["id"])]


# ---- the share register ------------------------------------------------------------------------------


async def record_share_movement(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, venture_id: str, data: ShareMovementCreate
) -> ShareMovementOut:
    v = await venture_for(conn, principal, venture_id, write=True, for_update=True)
    return await apply_movement(conn, actor, v, data)


async def apply_movement(
    conn: asyncpg.Connection, actor: Actor, v: asyncpg.Record, data: ShareMovementCreate
) -> ShareMovementOut:
    """Record one register movement under the venture's row lock (the caller holds it): refuse it
    if any holding, on any date, would go below zero; post the capital to the ledger and the
    member accounts."""
    source, target = await _parties(conn, v, data)
    movement = ShareMovement(
        kind=data.kind,
        from_member=str(source["id"]) if source else None,
        to_member=str(target["id"]) if target else None,
        share_class=data.share_class,
        shares=data.shares,
        capital_fen=data.capital_fen,
        effective_date=data.effective_date,
    )
    check_movement(await q.movements(conn, v["id"]), movement)
    register_no = await q.next_register_no(conn, v["county_code"], v["id"])
    movement_id = uuid.uuid4()
    entry_id = await _post_share_capital(conn, v, data, movement_id, target if data.kind == "subscribe" else source)
    await q.insert_share_movement(
        conn, v["county_code"], movement_id, v["id"], register_no, movement, data.reason, entry_id, actor.name
    )
    if v["model"] == "cooperative" and data.capital_fen:
        changes = [(m["id"], sign * data.capital_fen) for m, sign in ((source, -1), (target, 1)) if m is not None]
        await q.add_capital_to_accounts(conn, v["county_code"], v["id"], data.effective_date.year, movement_id, changes)
    if target is not None:
        await q.ensure_certificate(conn, v["county_code"], v, target, data.share_class)
    out = ShareMovementOut(
        str(movement_id),
        str(v["id"]),
        register_no,
        data.kind,
        data.from_member_id,
        data.to_member_id,
        data.share_class,
        data.shares,
        data.capital_fen,
        data.effective_date,
        str(entry_id) if entry_id else None,
    )
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action=f"shares.{data.kind}",
        object_type="share_movement",
        object_id=str(movement_id),
        after=msgspec.to_builtins(out),
    )
    return out


async def _parties(
    conn: asyncpg.Connection, v: asyncpg.Record, data: ShareMovementCreate
) -> tuple[asyncpg.Record | None, asyncpg.Record | None]:
    """The members a movement names, once its shape is right for its kind."""
    source = await q.member(conn, v["id"], data.from_member_id) if data.from_member_id else None
    target = await q.member(conn, v["id"], data.to_member_id) if data.to_member_id else None
    check_movement_parties(
        data.kind,
        data.from_member_id,
        data.to_member_id,
        Party(str(source["id"]), source["kind"]) if source else None,
        Party(str(target["id"]), target["kind"]) if target else None,
    )
    return source, target


async def _post_share_capital(
    conn: asyncpg.Connection,
    v: asyncpg.Record,
    data: ShareMovementCreate,
    movement_id: uuid.UUID,
    member: asyncpg.Record | None,
) -> uuid.UUID | None:
    """Capital paid in (subscribe) or paid back (redeem) is a journal entry between the bank and
    the share capital (股金/实收资本); the shares moving between members move no money."""
    if data.kind not in ("subscribe", "redeem") or not data.capital_fen or member is None:
        return None
    model = v["model"]
    bank_spec, capital_spec = (
        AccountSpec("venture", str(v["id"]), code, chart.account_name(model, code))
        for code in (chart.BANK_CODE[model], chart.CAPITAL_CODE[model])
    )
    accounts = await ledger.accounts(conn, v["county_code"], [bank_spec, capital_spec])
    sign = 1 if data.kind == "subscribe" else -1
    return await ledger.post_entry(
        conn,
        county_code=v["county_code"],
        source_type="share_capital",
        source_id=str(movement_id),
        idempotency_key=f"share_movement:{movement_id}",
        memo=f"{'认购' if sign > 0 else '退股'}：{member['name']} {data.shares} 股",
        posted_on=data.effective_date,
        lines=[
            Line(accounts[bank_spec], sign * data.capital_fen, member["id"]),
            Line(accounts[capital_spec], -sign * data.capital_fen, member["id"]),
        ],
    )


async def register(
    conn: asyncpg.Connection,
    principal: Principal,
    venture_id: str,
    as_of: dt.date | None,
    today: dt.date,
    *,
    limit: int | None = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Register:
    """The register as of a day (today when none is given): a page of the holdings with shares, by
    member number then share class, and the register's totals. `limit=None`: every holding at
    once (the console's register and certificates; the API pages)."""
    v = await venture_for(conn, principal, venture_id)
    day = as_of or today
    held = holdings_as_of(await q.movements(conn, v["id"], until=day), day)
    members = {str(m["id"]): m for m in await q.members(conn, v["id"])}
    certs = await q.certificates(conn, v["id"])
    numbers = {mid: m["member_no"] for mid, m in members.items()}
    every = register_rows(held, numbers)
    lines = every
    after = decode_cursor(cursor, int, str)
    if after is not None:
        lines = [line for line in every if (numbers[line[0][0]], line[0][1]) > (after[0], after[1])]
    if limit is None:
        page, next_cursor = lines, None
    else:
        page, next_cursor = page_of(lines, limit, lambda line: [numbers[line[0][0]], line[0][1]])
    items = [
        RegisterItem(
            member_id=mid,
            member_name=members[mid]["name"],
            household_id=str(members[mid]["household_id"]) if members[mid]["household_id"] else None,
            share_class=cls,
            shares=h.shares,
            capital_fen=h.capital_fen,
            certificate_no=certs.get((mid, cls), ""),
        )
        for (mid, cls), h in page
    ]
    # The totals are the whole register's, on every page.
    total_shares, total_capital = sum(h.shares for _, h in every), sum(h.capital_fen for _, h in every)
    return Register(str(v["id"]), day, items, total_shares, total_capital, next_cursor)


async def member_account(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, member_id: str, year: int | None, today: dt.date
) -> MemberAccount:
    """A member's account (成员账户) for a year (this year when none is given)."""
    v = await venture_for(conn, principal, venture_id)
    m = await q.member(conn, v["id"], member_id)
    if m is None:
        raise not_found("成员")
    year = year or today.year
    if not 2000 <= year <= 2100:
        raise invalid_field("year", "年度应在2000至2100之间")
    figures = await q.member_account(conn, v["id"], m["id"], year)
    return MemberAccount(
        venture_id=str(v["id"]),
        member_id=str(m["id"]),
        year=year,
        capital_fen=figures["capital_fen"],
        reserve_share_fen=figures["reserve_share_fen"],
        subsidy_share_fen=figures["subsidy_share_fen"],
        transaction_volume_fen=figures["transaction_volume_fen"],
    )


# ---- subsidies and trades ------------------------------------------------------------------------------


async def receive_subsidy(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, venture_id: str, data: SubsidyCreate
) -> SubsidyOut:
    """A state subsidy received by a cooperative: into the bank against the special fund (专项基金),
    and quantified equally into the member accounts."""
    v = await venture_for(conn, principal, venture_id, write=True, for_update=True)
    members = await q.members(conn, v["id"])
    shares = quantify_subsidy(v["model"], data.amount_fen, [str(m["id"]) for m in members])
    subsidy_id = uuid.uuid4()
    bank_spec = AccountSpec("venture", str(v["id"]), "102", chart.COOPERATIVE["102"])
    fund_spec = AccountSpec("venture", str(v["id"]), "311", chart.COOPERATIVE["311"])
    accounts = await ledger.accounts(conn, v["county_code"], [bank_spec, fund_spec])
    entry = await ledger.post_entry(
        conn,
        county_code=v["county_code"],
        source_type="subsidy",
        source_id=str(subsidy_id),
        idempotency_key=f"subsidy:{subsidy_id}",
        memo=f"收到财政补助：{data.source}",
        posted_on=data.received_on,
        lines=[Line(accounts[bank_spec], data.amount_fen), Line(accounts[fund_spec], -data.amount_fen)],
    )
    await q.insert_subsidy(
        conn, v["county_code"], subsidy_id, v["id"], data.amount_fen, data.source, data.received_on, entry
    )
    await q.copy_subsidy_shares(
        conn,
        v["county_code"],
        v["id"],
        subsidy_id,
        data.received_on.year,
        [(uuid.UUID(mid), amount) for mid, amount in shares.items() if amount],
    )
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="subsidy.receive",
        object_type="subsidy",
        object_id=str(subsidy_id),
        after={"amount_fen": data.amount_fen, "members": len(shares)},
    )
    return SubsidyOut(str(subsidy_id), str(v["id"]), data.amount_fen, data.source, data.received_on, shares, str(entry))


async def record_trade(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, venture_id: str, data: TradeCreate
) -> TradeOut:
    """One trade with the venture; without a member it is a non-member trade, kept apart (art. 41)."""
    v = await venture_for(conn, principal, venture_id, write=True)
    member = None
    if data.member_id is not None:
        member = await q.member(conn, v["id"], data.member_id)
        if member is None:
            raise invalid_field("member_id", "成员不存在")
    trade_id = await q.insert_trade(
        conn,
        v["county_code"],
        v["id"],
        member["id"] if member else None,
        data.traded_on,
        data.product,
        data.quantity_g,
        data.amount_fen,
    )
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="trade.record",
        object_type="trade",
        object_id=str(trade_id),
        after={"amount_fen": data.amount_fen, "member": data.member_id},
    )
    return TradeOut(
        str(trade_id), str(v["id"]), data.member_id, data.traded_on, data.product, data.quantity_g, data.amount_fen
    )


async def import_trades(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    venture_id: str,
    content: bytes,
    filename: str | None,
    *,
    new_batch: bool = False,
    today: dt.date | None = None,
) -> Created:
    """A sheet of trades (CSV or xlsx; rows name members by number or id): all rows or none. The
    same rows imported before for this venture are refused (they would count twice in members'
    volumes, and so in their patronage refunds) unless the clerk says they are a new batch."""
    v = await venture_for(conn, principal, venture_id, write=True)
    table = await read_sheet(content, filename, TRADE_SHEET)
    await record_import(conn, actor, table, v["county_code"], str(v["id"]), filename, new_batch)
    members = await q.members(conn, v["id"])
    # A row names its member by number or by id.
    by_ref = {str(m["member_no"]): str(m["id"]) for m in members} | {str(m["id"]): str(m["id"]) for m in members}
    with table.checking():
        trades = check_trades_sheet(table.rows, by_ref, today)
    if not trades:
        raise invalid_field("file", "文件中没有交易记录")
    await q.copy_trades(conn, v["county_code"], v["id"], trades)
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="trade.import",
        object_type="venture",
        object_id=str(v["id"]),
        detail={"count": len(trades)},
    )
    return Created(created=len(trades))


# ---- 谁贫困谁享受 ----------------------------------------------------------------------------------------

RECLAIM_REASON = "脱贫户贫困户股收回村集体（谁贫困谁享受）"
REALLOCATE_REASON = "贫困户股调整（谁贫困谁享受）"


async def confirm_reallocation(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    venture_id: str,
    proposal_id: str,
    data: ReallocationConfirm,
) -> ReallocationOut:
    """Carry out a reallocation proposal, as proposed or as the accountant amends it: the
    collective transfers the returned poverty shares, with their capital pro rata, to each."""
    v = await venture_for(conn, principal, venture_id, write=True, for_update=True)
    p = await q.reallocation_for_update(conn, v["county_code"], v["id"], proposal_id)
    if p is None:
        raise not_found("调整方案")
    if p["status"] != "proposed":
        raise invalid_field("proposal_id", "该方案已确认")
    chosen = data.items if data.items is not None else p["proposal"]
    items = [ReallocationShare(str(i["member_id"]), i["shares"]) for i in msgspec.to_builtins(chosen)]
    capital = reallocation_capital(p["shares"], p["capital_fen"], items)
    collective = await q.collective(conn, v["id"])
    for item, capital_fen in zip(items, capital, strict=True):
        await apply_movement(
            conn,
            actor,
            v,
            ShareMovementCreate(
                kind="transfer",
                share_class="poverty",
                shares=item.shares,
                capital_fen=capital_fen,
                effective_date=p["effective_date"],
                from_member_id=str(collective),
                to_member_id=item.member_id,
                reason=REALLOCATE_REASON,
            ),
        )
    confirmed = [{"member_id": i.member_id, "shares": i.shares} for i in items]
    await q.confirm_reallocation(conn, v["county_code"], p["id"], confirmed)
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="reallocation.confirm",
        object_type="reallocation",
        object_id=str(p["id"]),
        after=confirmed,
    )
    return reallocation_out(p, "confirmed", confirmed)


async def list_reallocations(conn: asyncpg.Connection, principal: Principal, venture_id: str) -> list[ReallocationOut]:
    v = await venture_for(conn, principal, venture_id)
    return [reallocation_out(r, r["status"], r["proposal"]) for r in await q.reallocations(conn, v["id"])]


async def poverty_shares_follow_status(
    conn: asyncpg.Connection, actor: Actor, household: asyncpg.Record, kind: str, effective_date: dt.date
) -> None:
    """The status listener of 谁贫困谁享受: on exit, poverty shares go back to the collective and a
    reallocation is proposed among the venture's households still registered poor."""
    if kind != "exited":
        return
    for row in await q.memberships_following_status(conn, household["id"]):
        v = await q.venture(conn, str(row["id"]), for_update=True)
        assert v is not None  # the row came from the venture
        await _reclaim_poverty_shares(conn, actor, v, household, str(row["member_id"]), effective_date)


async def _reclaim_poverty_shares(
    conn: asyncpg.Connection,
    actor: Actor,
    v: asyncpg.Record,
    household: asyncpg.Record,
    member_id: str,
    effective_date: dt.date,
) -> None:
    held = holdings_as_of(await q.movements(conn, v["id"], until=effective_date), effective_date)
    holding = held.get((member_id, "poverty"))
    if holding is None or holding.shares == 0:
        return
    collective = await q.collective(conn, v["id"])
    if collective is None:
        return
    await apply_movement(
        conn,
        actor,
        v,
        ShareMovementCreate(
            kind="transfer",
            share_class="poverty",
            shares=holding.shares,
            capital_fen=holding.capital_fen,
            effective_date=effective_date,
            from_member_id=member_id,
            to_member_id=str(collective),
            reason=RECLAIM_REASON,
        ),
    )
    poor = [str(m) for m in await q.poor_members(conn, v["id"])]
    proposal = [{"member_id": s.member_id, "shares": s.shares} for s in propose_reallocation(holding.shares, poor)]
    await q.insert_reallocation_proposal(
        conn, v["county_code"], v["id"], household["id"], holding.shares, holding.capital_fen, effective_date, proposal
    )


# ---- lists the console and clients need (API.md) -------------------------------------------------


async def list_share_movements(
    conn: asyncpg.Connection,
    principal: Principal,
    venture_id: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ShareMovementItem]:
    """The register's movements (股权变动记录) in register order, dated from `since` to `until`."""
    v = await venture_for(conn, principal, venture_id)
    after = decode_cursor(cursor, int)
    rows = await q.share_movements_page(
        conn, v["id"], since=since, until=until, after_no=after[0] if after else 0, limit=checked_limit(limit) + 1
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["register_no"]])
    return Page(
        [
            ShareMovementItem(
                str(r["id"]),
                r["register_no"],
                r["kind"],
                str(r["from_member_id"]) if r["from_member_id"] else None,
                str(r["to_member_id"]) if r["to_member_id"] else None,
                r["share_class"],
                r["shares"],
                r["capital_fen"],
                r["effective_date"],
                r["reason"],
                str(r["entry_id"]) if r["entry_id"] else None,
            )
            for r in page
        ],
        next_cursor,
    )


async def list_trades(
    conn: asyncpg.Connection,
    principal: Principal,
    venture_id: str,
    *,
    year: int | None = None,
    member_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[TradeOut]:
    """The venture's trades (交易记录) by date, of a year and of one member when named."""
    v = await venture_for(conn, principal, venture_id)
    member = None
    if member_id:
        member = await q.member(conn, v["id"], member_id)
        if member is None:
            raise invalid_field("member_id", "成员不存在")
    if year is not None and not 2000 <= year <= 2100:
        raise invalid_field("year", "年度应在2000至2100之间")
    after = decode_cursor(cursor, dt.date, str)
    rows = await q.trades_page(
        conn,
        v["id"],
        year=year,
        member_id=member["id"] if member else None,
        after=(after[0], after[1]) if after else None,
        limit=checked_limit(limit) + 1,
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["traded_on"].isoformat(), str(r["id"])])
    return Page(
        [
            TradeOut(
                str(r["id"]),
                str(v["id"]),
                str(r["member_id"]) if r["member_id"] else None,
                r["traded_on"],
                r["product"],
                r["quantity_g"],
                r["amount_fen"],
            )
            for r in page
        ],
        next_cursor,
    )


async def list_subsidies(conn: asyncpg.Connection, principal: Principal, venture_id: str) -> list[SubsidyListed]:
    """The state subsidies and donations the venture received, by date."""
    v = await venture_for(conn, principal, venture_id)
    return [
        SubsidyListed(str(r["id"]), r["amount_fen"], r["source"], r["received_on"])
        for r in await q.subsidies_of(conn, v["id"])
    ]


async def household_for_member(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, household_no: str
) -> str:
    """The id of the household with this number (户号) in the venture's county, for the one who
    keeps the venture (who may add any household of the county as a member)."""
    v = await venture_for(conn, principal, venture_id, write=True)
    household_id = await q.household_in_county(conn, v["county_code"], household_no.strip())
    if household_id is None:
        raise invalid_field("household_no", f"本县没有户号为 {household_no.strip()} 的农户")
    return str(household_id)


async def household_numbers(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, household_ids: list[str]
) -> dict[str, str]:
    """The household numbers (户号) of households a venture deals with, for its readers' pages."""
    v = await venture_for(conn, principal, venture_id)
    ids = [u for u in (as_uuid(h) for h in household_ids) if u]
    return await q.household_numbers(conn, v["county_code"], ids)
