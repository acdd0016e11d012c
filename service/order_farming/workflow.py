"""Order farming (订单农业, 企业+贫困户), the use cases: contracts, advances on credit, weighed
purchases, the weighing station's sheet, the year-end purchase settlement and its reversal.

Each runs in the caller's transaction and checks the caller's access itself (service.core.policy),
so the API, the console, the CLI and the benchmarks share one implementation.

Ledger (enterprise chart): an advance given is Dr 1221 其他应收款 / Cr 1002 银行存款; a settlement
is Dr 1403 原材料 gross / Cr 2202 应付账款, and the advances it recovers Dr 2202 / Cr 1221, every
household-side line carrying the household as party. What stays on 2202 is the household's payable.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from db import ledger
from db import order_farming as q
from db.ids import as_uuid
from schemas.common import Created, Page
from schemas.order_farming import (
    AdvanceCreate,
    AdvanceOut,
    ContractCreate,
    ContractOut,
    PurchaseCreate,
    PurchaseOut,
    ReversalOut,
    SettlementItem,
    SettlementLineOut,
    SettlementRunOut,
)
from service.core.audit import Actor, record
from service.core.clock import future_date_error
from service.core.errors import bad_input, conflict, invalid_field, not_found
from service.core.imported import record_import
from service.core.pagination import decode_cursor, page_of
from service.core.policy import contract_for, venture_for
from service.core.principal import Principal, Role
from service.core.tabular import Table, read_sheet
from service.ledger import chart
from service.ledger.rules import AccountSpec, EntryDraft, Line, NewPayable
from service.order_farming.rules import (
    Advance,
    Contract,
    ContractSeason,
    LineWords,
    Purchase,
    Settlement,
    parse_purchase_rows,
    settle_household,
    settlement_detail,
)
from service.order_farming.sheets import PURCHASE_SHEET

BUYING_MODELS = ("enterprise", "branch_company")
RAW_MATERIALS, PAYABLE, RECEIVABLE, BANK = "1403", "2202", "1221", "1002"


# ---- wire shapes ---------------------------------------------------------------------------------


def contract_out(row: asyncpg.Record) -> ContractOut:
    return ContractOut(
        str(row["id"]),
        str(row["venture_id"]),
        str(row["household_id"]),
        row["crop"],
        row["season_year"],
        row["contracted_g"],
        row["floor_price_fen_per_kg"],
        row["premium_bp"],
    )


def settlement_item(
    row: asyncpg.Record, lines: list[SettlementLineOut] | None = None, explanation: str | None = None
) -> SettlementItem:
    return SettlementItem(
        id=str(row["id"]),
        contract_id=str(row["contract_id"]),
        household_id=str(row["household_id"]),
        season_year=row["season_year"],
        gross_fen=row["gross_fen"],
        advances_deducted_fen=row["advances_deducted_fen"],
        payable_fen=row["payable_fen"],
        advance_carried_fen=row["advance_carried_fen"],
        carried_in_fen=row["carried_in_fen"],
        own_advances_fen=row["own_advances_fen"],
        delivered_g=row["delivered_g"],
        status=row["status"],
        explanation=explanation if explanation is not None else row["explanation"],
        entry_id=str(row["entry_id"]) if row["entry_id"] else None,
        reversal_entry_id=str(row["reversal_entry_id"]) if row["reversal_entry_id"] else None,
        lines=lines,
    )


def settlement_line_out(r: asyncpg.Record) -> SettlementLineOut:
    return SettlementLineOut(
        r["line_no"],
        str(r["purchase_id"]),
        r["bought_on"],
        r["grade"],
        r["weight_g"],
        r["market_price_fen_per_kg"],
        r["price_fen_per_kg_x10000"],
        r["reason"],
        r["amount_fen"],
        r["explanation"],
    )


# ---- shared steps --------------------------------------------------------------------------------


async def venture_accounts(conn: asyncpg.Connection, v: asyncpg.Record, codes: list[str]) -> list[uuid.UUID]:
    specs = [AccountSpec("venture", str(v["id"]), code, chart.account_name(v["model"], code)) for code in codes]
    found = await ledger.accounts(conn, v["county_code"], specs)
    return [found[s] for s in specs]


async def lock_for_recording(conn: asyncpg.Connection, c: asyncpg.Record) -> None:
    """A delivery or an advance may only join a contract that is not settled. The venture's row is
    share-locked against a settlement run, which takes it exclusively."""
    await q.share_lock_venture(conn, c["county_code"], c["venture_id"])
    if await q.live_settlement(conn, c["county_code"], c["id"]) is not None:
        raise conflict("contract-settled", "该合同本季已结算；如需更正，请先冲销结算")


# ---- contracts -----------------------------------------------------------------------------------


async def create_contract(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, venture_id: str, data: ContractCreate
) -> ContractOut:
    v = await venture_for(conn, principal, venture_id, write=True)
    if v["model"] not in BUYING_MODELS:
        raise invalid_field("venture_id", "只有企业或支部控股公司可以签订订单收购合同")
    household_id = as_uuid(data.household_id)
    if household_id is None or await q.household_county(conn, household_id) != v["county_code"]:
        raise invalid_field("household_id", "农户不存在或不属于本县")
    row = await q.insert_contract(
        conn,
        v["county_code"],
        v["id"],
        household_id,
        crop=data.crop,
        season_year=data.season_year,
        contracted_g=data.contracted_g,
        floor_price_fen_per_kg=data.floor_price_fen_per_kg,
        premium_bp=data.premium_bp,
        created_by=actor.name,
    )
    out = contract_out(row)
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="contract.create",
        object_type="contract",
        object_id=out.id,
        after=data,
    )
    return out


async def list_contracts(
    conn: asyncpg.Connection,
    principal: Principal,
    venture_id: str,
    *,
    season_year: int | None,
    household_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ContractOut]:
    v = await venture_for(conn, principal, venture_id)
    after = decode_cursor(cursor, str)
    rows = await q.contracts_page(
        conn,
        v["id"],
        season_year=season_year,
        household_id=as_uuid(household_id) if household_id else None,
        after=after[0] if after else None,
        limit=limit,
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [str(r["id"])])
    return Page([contract_out(r) for r in page], next_cursor)


async def get_contract(conn: asyncpg.Connection, principal: Principal, contract_id: str) -> ContractOut:
    c, _ = await contract_for(conn, principal, contract_id)
    return contract_out(c)


# ---- advances and purchases ----------------------------------------------------------------------


async def record_advance(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    contract_id: str,
    data: AdvanceCreate,
    today: dt.date,
) -> AdvanceOut:
    c, v = await contract_for(conn, principal, contract_id, write=True)
    if late := future_date_error(data.given_on, today):
        raise invalid_field("given_on", "赊销" + late)
    return await record_advance_in(conn, actor, v, c, data.amount_fen, data.given_on, data.item)


async def record_advance_in(
    conn: asyncpg.Connection,
    actor: Actor,
    v: asyncpg.Record,
    c: asyncpg.Record,
    amount_fen: int,
    given_on: dt.date,
    item: str,
) -> AdvanceOut:
    """An advance on credit: Dr 1221 其他应收款 (party the household) / Cr 1002, in the caller's transaction."""
    await lock_for_recording(conn, c)
    receivable, bank = await venture_accounts(conn, v, [RECEIVABLE, BANK])
    advance_id = uuid.uuid4()
    entry_id = await ledger.post_entry(
        conn,
        county_code=c["county_code"],
        source_type="advance",
        source_id=str(advance_id),
        idempotency_key=f"advance:{advance_id}",
        posted_on=given_on,
        memo=f"赊销农资：{item}，合同 {c['id']}",
        lines=[Line(receivable, amount_fen, c["household_id"]), Line(bank, -amount_fen)],
    )
    await q.insert_advance(
        conn,
        c["county_code"],
        advance_id,
        c["id"],
        amount_fen=amount_fen,
        given_on=given_on,
        item=item,
        entry_id=entry_id,
    )
    out = AdvanceOut(str(advance_id), str(c["id"]), amount_fen, given_on, item, str(entry_id))
    await record(
        conn,
        actor,
        county_code=c["county_code"],
        action="advance.record",
        object_type="advance",
        object_id=out.id,
        after=out,
    )
    return out


async def record_purchase(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    contract_id: str,
    data: PurchaseCreate,
    today: dt.date,
) -> PurchaseOut:
    c, _ = await contract_for(conn, principal, contract_id, write=True)
    if late := future_date_error(data.bought_on, today):
        raise invalid_field("bought_on", "收购" + late)
    await lock_for_recording(conn, c)
    purchase_id = await q.insert_purchase(
        conn,
        c["county_code"],
        c["id"],
        bought_on=data.bought_on,
        grade=data.grade,
        weight_g=data.weight_g,
        market_price_fen_per_kg=data.market_price_fen_per_kg,
    )
    out = PurchaseOut(
        str(purchase_id), str(c["id"]), data.bought_on, data.grade, data.weight_g, data.market_price_fen_per_kg
    )
    await record(
        conn,
        actor,
        county_code=c["county_code"],
        action="purchase.record",
        object_type="purchase",
        object_id=out.id,
        after=out,
    )
    return out


async def find_import_venture(conn: asyncpg.Connection, principal: Principal, venture_id: str) -> None:
    """Refuse (404, 403) a venture whose sheets the caller may not import, e.g. before a template."""
    await venture_for(conn, principal, venture_id, write=True)


async def import_purchases(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    venture_id: str,
    content: bytes | None,
    filename: str | None,
    today: dt.date,
    *,
    new_batch: bool = False,
) -> Created:
    """The weighing station's sheet (CSV or xlsx; ``content`` None when no file was sent). The
    same rows imported before for this venture are refused unless the clerk says new_batch."""
    v = await venture_for(conn, principal, venture_id, write=True)
    if content is None:
        raise invalid_field("file", "请上传称重单文件（字段名 file）")
    table = await read_sheet(content, filename, PURCHASE_SHEET)
    await record_import(conn, actor, table, v["county_code"], str(v["id"]), filename, new_batch)
    return await import_purchase_table(conn, actor, v, table, today)


async def import_purchase_table(
    conn: asyncpg.Connection, actor: Actor, v: asyncpg.Record, table: Table, today: dt.date
) -> Created:
    """Check every row, then COPY them all, in the caller's transaction (all rows or none)."""
    await q.share_lock_venture(conn, v["county_code"], v["id"])
    contracts = await q.venture_contract_ids(conn, v["id"])
    settled = await q.settled_contract_ids(conn, v["id"])
    with table.checking():
        rows, errors = parse_purchase_rows(table.rows, contracts, settled, today)
        if errors:
            raise bad_input(f"{len({e['row'] for e in errors})} 行有误，未导入任何数据", errors)
    if not rows:
        raise invalid_field("file", "文件中没有交售记录")
    await q.copy_purchases(conn, [(v["county_code"], *r) for r in rows])
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="purchase.import",
        object_type="venture",
        object_id=str(v["id"]),
        detail={"count": len(rows), "weight_g": sum(r.weight_g for r in rows)},
    )
    return Created(created=len(rows))


# ---- the season's settlement ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Accounts:
    raw_materials: uuid.UUID
    payable: uuid.UUID
    receivable: uuid.UUID
    bank: uuid.UUID


@dataclass(frozen=True)
class _Settled:
    """One contract settled, before anything is written."""

    id: uuid.UUID
    contract: asyncpg.Record
    result: Settlement
    carried_in_fen: int
    own_advances_fen: int
    summary: str
    purchases: dict[str, asyncpg.Record]  # by the key the domain orders a day's deliveries by

    @property
    def delivered_g(self) -> int:
        return sum(int(p["weight_g"]) for p in self.purchases.values())


async def settle_season(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    venture_id: str,
    season_year: int,
    today: dt.date,
) -> SettlementRunOut:
    """Settle every contract of the season not yet settled, holding the venture's row exclusively
    (against new deliveries, advances and a second run): priced lines, journal entries, payables,
    all or nothing in the caller's transaction."""
    v = await venture_for(conn, principal, venture_id, write=True, for_update=True)
    if v["model"] not in BUYING_MODELS:
        raise invalid_field("venture_id", "只有企业或支部控股公司办理订单收购结算")
    contracts = await _season_contracts(conn, v, season_year)
    ids = [c["id"] for c in contracts]
    purchases = await q.purchases_by_contract(conn, ids)
    advances = await q.advances_by_contract(conn, ids)
    pools = await q.carried_pools(conn, v["id"], season_year)
    accounts = _Accounts(*await venture_accounts(conn, v, [RAW_MATERIALS, PAYABLE, RECEIVABLE, BANK]))
    settled = [
        s
        for household_id, group in itertools.groupby(contracts, key=lambda c: c["household_id"])
        for s in _settle_household(list(group), purchases, advances, pools.get(household_id, 0))
    ]
    entry_ids = await _post_entries(conn, v, season_year, today, settled, accounts)
    items = await _write_settlements(conn, actor, v, season_year, today, settled, entry_ids, accounts)
    await _record_run(conn, actor, v, season_year, items)
    return SettlementRunOut(str(v["id"]), season_year, items)


async def _season_contracts(conn: asyncpg.Connection, v: asyncpg.Record, season_year: int) -> list[asyncpg.Record]:
    """The season's contracts not yet settled; refused when there are none."""
    contracts = await q.unsettled_contracts(conn, v["id"], season_year)
    if contracts:
        return contracts
    if await q.season_has_contracts(conn, v["id"], season_year):
        raise conflict("already-settled", f"{season_year}年的订单合同均已结算；如需更正，请先冲销再结算")
    raise invalid_field("season_year", f"{season_year}年没有订单合同")


def _settle_household(
    group: Sequence[asyncpg.Record],
    purchases: dict[uuid.UUID, list[asyncpg.Record]],
    advances: dict[uuid.UUID, list[asyncpg.Record]],
    pool_fen: int,
) -> list[_Settled]:
    """A household's contracts of the season (in the order signed), priced and settled by the rules."""
    # The domain orders a day's deliveries by purchase id: give it the recording order.
    keyed = [{f"{p['seq']:020d}": p for p in purchases.get(c["id"], [])} for c in group]
    seasons = [
        ContractSeason(
            Contract(
                str(c["id"]), str(c["household_id"]), c["contracted_g"], c["floor_price_fen_per_kg"], c["premium_bp"]
            ),
            c["crop"],
            c["season_year"],
            tuple(
                Purchase(key, p["bought_on"], p["grade"], p["weight_g"], p["market_price_fen_per_kg"])
                for key, p in by_key.items()
            ),
            tuple(Advance(a["amount_fen"], a["given_on"], a["item"]) for a in advances.get(c["id"], [])),
        )
        for c, by_key in zip(group, keyed)
    ]
    return [
        _Settled(uuid.uuid4(), c, h.settlement, h.carried_in_fen, h.own_advances_fen, h.summary, by_key)
        for c, by_key, h in zip(group, keyed, settle_household(pool_fen, seasons))
    ]


async def _post_entries(
    conn: asyncpg.Connection,
    v: asyncpg.Record,
    season_year: int,
    today: dt.date,
    settled: list[_Settled],
    accounts: _Accounts,
) -> list[uuid.UUID | None]:
    """One journal entry per settlement that moved money (nothing delivered, nothing posted): one
    COPY for all the entries and one for all their lines. Returns each settlement's entry id."""
    drafts = [
        EntryDraft(
            source_type="settlement",
            source_id=str(s.id),
            idempotency_key=f"settlement:{s.id}",
            posted_on=today,
            memo=f"订单收购结算：{season_year}年{s.contract['crop']}，合同 {s.contract['id']}",
            lines=[
                Line(accounts.raw_materials, s.result.gross_fen),
                Line(accounts.payable, -s.result.gross_fen, s.contract["household_id"]),
                Line(accounts.payable, s.result.advances_deducted_fen, s.contract["household_id"]),
                Line(accounts.receivable, -s.result.advances_deducted_fen, s.contract["household_id"]),
            ],
        )
        for s in settled
        if s.result.gross_fen
    ]
    posted = iter(await ledger.post_entries(conn, v["county_code"], drafts))
    return [next(posted) if s.result.gross_fen else None for s in settled]


async def _write_settlements(
    conn: asyncpg.Connection,
    actor: Actor,
    v: asyncpg.Record,
    season_year: int,
    today: dt.date,
    settled: list[_Settled],
    entry_ids: list[uuid.UUID | None],
    accounts: _Accounts,
) -> list[SettlementItem]:
    """COPY the settlements and their priced lines, then the payables; returns the wire items."""
    county = v["county_code"]
    records: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    payables: list[NewPayable] = []
    for s, entry_id in zip(settled, entry_ids):
        records.append(_settlement_record(v, s, season_year, entry_id, today, actor))
        lines.extend(_line_records(county, s))
        if s.result.payable_fen:
            assert entry_id is not None  # a payable comes out of a gross, which was posted
            payables.append(_payable(v, s, entry_id, accounts))
    try:
        await q.copy_settlements(conn, records, lines)
    except asyncpg.UniqueViolationError:
        raise conflict("already-settled", "该季有合同已被同时结算，请刷新后重试") from None
    await ledger.create_payables(conn, county, payables)
    return [_item(s, season_year, entry_id) for s, entry_id in zip(settled, entry_ids)]


def _settlement_record(
    v: asyncpg.Record, s: _Settled, season_year: int, entry_id: uuid.UUID | None, today: dt.date, actor: Actor
) -> tuple[Any, ...]:
    """A row of farming_settlements, in the order of q.SETTLEMENT_COLUMNS."""
    r, c = s.result, s.contract
    return (
        v["county_code"],
        s.id,
        v["id"],
        c["id"],
        c["household_id"],
        season_year,
        s.delivered_g,
        r.gross_fen,
        s.carried_in_fen,
        s.own_advances_fen,
        r.advances_deducted_fen,
        r.payable_fen,
        r.advance_carried_fen,
        s.summary,
        entry_id,
        today,
        actor.name,
    )


def _line_records(county: str, s: _Settled) -> list[tuple[Any, ...]]:
    """Rows of farming_settlement_lines, in the order of q.LINE_COLUMNS."""
    return [
        (
            county,
            s.id,
            n,
            s.purchases[line.purchase.purchase_id]["id"],
            line.weight_g,
            line.price_fen_per_kg_x10000,
            line.reason,
            line.amount_fen,
            line.explanation,
        )
        for n, line in enumerate(s.result.lines, start=1)
    ]


def _payable(v: asyncpg.Record, s: _Settled, entry_id: uuid.UUID, accounts: _Accounts) -> NewPayable:
    return NewPayable(
        household_id=s.contract["household_id"],
        source="settlement",
        source_id=str(s.id),
        source_ref=str(s.contract["id"]),
        amount_fen=s.result.payable_fen,
        explanation=s.summary,
        entry_id=entry_id,
        payable_account_id=accounts.payable,
        paying_account_id=accounts.bank,
        village_code=s.contract["village_code"],
        venture_id=v["id"],
    )


def _item(s: _Settled, season_year: int, entry_id: uuid.UUID | None) -> SettlementItem:
    r = s.result
    return SettlementItem(
        id=str(s.id),
        contract_id=str(s.contract["id"]),
        household_id=str(s.contract["household_id"]),
        season_year=season_year,
        gross_fen=r.gross_fen,
        advances_deducted_fen=r.advances_deducted_fen,
        payable_fen=r.payable_fen,
        advance_carried_fen=r.advance_carried_fen,
        carried_in_fen=s.carried_in_fen,
        own_advances_fen=s.own_advances_fen,
        delivered_g=s.delivered_g,
        status="settled",
        explanation=s.summary,
        entry_id=str(entry_id) if entry_id else None,
    )


async def _record_run(
    conn: asyncpg.Connection, actor: Actor, v: asyncpg.Record, season_year: int, items: list[SettlementItem]
) -> None:
    await record(
        conn,
        actor,
        county_code=v["county_code"],
        action="settlement.run",
        object_type="venture",
        object_id=str(v["id"]),
        detail={
            "season_year": season_year,
            "settlements": len(items),
            "gross_fen": sum(i.gross_fen for i in items),
            "payable_fen": sum(i.payable_fen for i in items),
            "advances_deducted_fen": sum(i.advances_deducted_fen for i in items),
            "advance_carried_fen": sum(i.advance_carried_fen for i in items),
        },
    )


# ---- reading and reversing settlements -----------------------------------------------------------


async def list_settlements(
    conn: asyncpg.Connection,
    principal: Principal,
    venture_id: str,
    *,
    season_year: int | None,
    limit: int,
    cursor: str | None,
) -> Page[SettlementItem]:
    v = await venture_for(conn, principal, venture_id)
    after = decode_cursor(cursor, str)
    rows = await q.settlements_page(
        conn, v["id"], season_year=season_year, after=after[0] if after else None, limit=limit
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [str(r["id"])])
    return Page([settlement_item(r) for r in page], next_cursor)


async def get_settlement(conn: asyncpg.Connection, principal: Principal, settlement_id: str) -> SettlementItem:
    """A settlement with its priced lines, for the venture's readers and the household it pays."""
    s = await q.settlement(conn, settlement_id)
    if s is None:
        raise not_found("结算单")
    if principal.role == Role.HOUSEHOLD:
        if principal.household_id != str(s["household_id"]):
            raise not_found("结算单")
    else:
        await venture_for(conn, principal, str(s["venture_id"]))
    rows = await q.settlement_lines(conn, s["county_code"], s["id"])
    explanation = settlement_detail(
        s["explanation"],
        [LineWords(r["bought_on"], r["grade"], r["explanation"]) for r in rows],
        s["reversed_on"] if s["status"] == "reversed" else None,
    )
    return settlement_item(s, [settlement_line_out(r) for r in rows], explanation)


async def reverse_settlement(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, settlement_id: str, today: dt.date
) -> ReversalOut:
    """Reverse a settlement's entry and cancel its unpaid payables, so the season can be settled again."""
    s = await q.settlement(conn, settlement_id)
    if s is None:
        raise not_found("结算单")
    await venture_for(conn, principal, str(s["venture_id"]), write=True, for_update=True)
    live = await q.settlement(conn, settlement_id, for_update=True)
    assert live is not None  # settlements are never deleted
    await _check_reversible(conn, live)
    reversal = None
    if live["entry_id"] is not None:
        reversal = await ledger.reverse_entry(
            conn, live["county_code"], live["entry_id"], memo=f"冲销订单收购结算 {live['id']}", posted_on=today
        )
    cancelled = await ledger.cancel_unpaid_payables(conn, live["county_code"], "settlement", str(live["id"]))
    await q.mark_reversed(conn, live, reversal, today, actor.name)
    out = ReversalOut(str(live["id"]), "reversed", str(reversal) if reversal else None, cancelled)
    await record(
        conn,
        actor,
        county_code=live["county_code"],
        action="settlement.reverse",
        object_type="settlement",
        object_id=out.id,
        before={"status": "settled"},
        after=out,
    )
    return out


async def _check_reversible(conn: asyncpg.Connection, live: asyncpg.Record) -> None:
    if live["status"] != "settled":
        raise conflict("already-reversed", "该结算已冲销")
    payables = await q.payables_of(conn, live["county_code"], live["id"])
    held = [p for p in payables if p["status"] in ("in_batch", "paid")]
    if held:
        raise conflict(
            "payable-in-payment",
            "该结算的应付款已进入支付批次或已支付，不能冲销",
            payable_ids=[str(p["id"]) for p in held],
        )
    if live["advance_carried_fen"] and await q.later_carry_taken(conn, live):
        raise conflict("carry-taken", "之后的结算已扣除本次结转的农资款，请先冲销之后的结算")
