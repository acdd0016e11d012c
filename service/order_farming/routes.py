"""Order farming (订单农业, 企业+贫困户): contracts, advances on credit, weighed purchases and the
year-end purchase settlement, posted to the enterprise's books.

Ledger (enterprise chart): an advance given is Dr 1221 其他应收款 / Cr 1002 银行存款; a settlement
is Dr 1403 原材料 gross / Cr 2202 应付账款, and the advances it recovers Dr 2202 / Cr 1221, every
household-side line carrying the household as party. What stays on 2202 is the household's payable.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter

from db import ledger
from db import order_farming as q
from db import ventures as vq
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
    SettlementRun,
    SettlementRunOut,
)
from service.core.audit import Actor, record
from service.core.auth import VENTURE_READERS, VENTURE_WRITERS, allow
from service.core.clock import Clock
from service.core.errors import bad_input, conflict, invalid_field, not_found
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.core.policy import contract_for, venture_for
from service.core.principal import Principal
from service.core.tabular import Table, read_table
from service.core.uploads import UPLOAD
from service.ledger import chart
from service.ledger.rules import AccountSpec, EntryDraft, Line, NewPayable
from service.order_farming.rules import (
    PURCHASE_SHEET_COLUMNS,
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

BUYING_MODELS = ("enterprise", "branch_company")
SETTLEMENT_READERS = allow(
    "accountant", "auditor", "township_approver", "village_reviewer", "finance_officer", "finance_approver", "household"
)

RAW_MATERIALS, PAYABLE, RECEIVABLE, BANK = "1403", "2202", "1221", "1002"


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


async def settle_season(
    conn: asyncpg.Connection, actor: Actor, v: asyncpg.Record, season_year: int, today: dt.date
) -> SettlementRunOut:
    """Settle every contract of the season not yet settled, in the caller's transaction (which holds
    the venture's row exclusively): priced lines, journal entries, payables, all or nothing."""
    contracts = await q.unsettled_contracts(conn, v["id"], season_year)
    if not contracts:
        if await q.season_has_contracts(conn, v["id"], season_year):
            raise conflict("already-settled", f"{season_year}年的订单合同均已结算；如需更正，请先冲销再结算")
        raise invalid_field("season_year", f"{season_year}年没有订单合同")
    ids = [c["id"] for c in contracts]
    purchases = await q.purchases_by_contract(conn, ids)
    advances = await q.advances_by_contract(conn, ids)
    pools = await q.carried_pools(conn, v["id"], season_year)
    raw_materials, payable_account, receivable, bank = await venture_accounts(
        conn, v, [RAW_MATERIALS, PAYABLE, RECEIVABLE, BANK]
    )
    county = v["county_code"]

    settled: list[tuple[asyncpg.Record, Settlement, int, int, str, dict[str, asyncpg.Record]]] = []
    for household_id, group in itertools.groupby(contracts, key=lambda c: c["household_id"]):
        group = list(group)
        # The domain orders a day's deliveries by purchase id: give it the recording order.
        keyed = [{f"{p['seq']:020d}": p for p in purchases.get(c["id"], [])} for c in group]
        seasons = [
            ContractSeason(
                Contract(
                    str(c["id"]), str(household_id), c["contracted_g"], c["floor_price_fen_per_kg"], c["premium_bp"]
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
        for c, by_key, h in zip(group, keyed, settle_household(pools.get(household_id, 0), seasons)):
            settled.append((c, h.settlement, h.carried_in_fen, h.own_advances_fen, h.summary, by_key))

    ids = [uuid.uuid4() for _ in settled]
    drafts = [
        EntryDraft(
            source_type="settlement",
            source_id=str(sid),
            idempotency_key=f"settlement:{sid}",
            posted_on=today,
            memo=f"订单收购结算：{season_year}年{c['crop']}，合同 {c['id']}",
            lines=[
                Line(raw_materials, r.gross_fen),
                Line(payable_account, -r.gross_fen, c["household_id"]),
                Line(payable_account, r.advances_deducted_fen, c["household_id"]),
                Line(receivable, -r.advances_deducted_fen, c["household_id"]),
            ],
        )
        for sid, (c, r, *_) in zip(ids, settled)
        if r.gross_fen
    ]
    # One COPY for all the entries and one for all their lines; nothing delivered, nothing posted.
    entry_ids = iter(await ledger.post_entries(conn, county, drafts))

    settlements, lines, payables, items = [], [], [], []
    for sid, (c, r, carried_in, own, summary, by_key) in zip(ids, settled):
        entry_id = next(entry_ids) if r.gross_fen else None
        delivered = sum(p["weight_g"] for p in by_key.values())
        settlements.append(
            (
                county,
                sid,
                v["id"],
                c["id"],
                c["household_id"],
                season_year,
                delivered,
                r.gross_fen,
                carried_in,
                own,
                r.advances_deducted_fen,
                r.payable_fen,
                r.advance_carried_fen,
                summary,
                entry_id,
                today,
                actor.name,
            )
        )
        lines.extend(
            (
                county,
                sid,
                n,
                by_key[line.purchase.purchase_id]["id"],
                line.weight_g,
                line.price_fen_per_kg_x10000,
                line.reason,
                line.amount_fen,
                line.explanation,
            )
            for n, line in enumerate(r.lines, start=1)
        )
        if r.payable_fen:
            payables.append(
                NewPayable(
                    household_id=c["household_id"],
                    source="settlement",
                    source_id=str(sid),
                    source_ref=str(c["id"]),
                    amount_fen=r.payable_fen,
                    explanation=summary,
                    entry_id=entry_id,
                    payable_account_id=payable_account,
                    paying_account_id=bank,
                    village_code=c["village_code"],
                    venture_id=v["id"],
                )
            )
        items.append(
            SettlementItem(
                id=str(sid),
                contract_id=str(c["id"]),
                household_id=str(c["household_id"]),
                season_year=season_year,
                gross_fen=r.gross_fen,
                advances_deducted_fen=r.advances_deducted_fen,
                payable_fen=r.payable_fen,
                advance_carried_fen=r.advance_carried_fen,
                carried_in_fen=carried_in,
                own_advances_fen=own,
                delivered_g=delivered,
                status="settled",
                explanation=summary,
                entry_id=str(entry_id) if entry_id else None,
            )
        )
    try:
        await q.copy_settlements(conn, settlements, lines)
    except asyncpg.UniqueViolationError:
        raise conflict("already-settled", "该季有合同已被同时结算，请刷新后重试") from None
    await ledger.create_payables(conn, county, payables)
    await record(
        conn,
        actor,
        county_code=county,
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
    return SettlementRunOut(str(v["id"]), season_year, items)


class OrderFarmingController(Controller):
    path = "/"
    tags = ["order farming"]

    @post("/ventures/{venture_id:str}/contracts", guards=[VENTURE_WRITERS], operation_id="create_contract")
    async def create_contract(
        self,
        request: Request,
        venture_id: str,
        data: ContractCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        v = await venture_for(conn, principal, venture_id, write=True)
        if v["model"] not in BUYING_MODELS:
            raise invalid_field("venture_id", "只有企业或支部控股公司可以签订订单收购合同")
        household_id = as_uuid(data.household_id)
        if household_id is None or await q.household_county(conn, household_id) != v["county_code"]:
            raise invalid_field("household_id", "农户不存在或不属于本县")

        async def work(tx: asyncpg.Connection) -> ContractOut:
            row = await q.insert_contract(
                tx,
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
                tx,
                actor,
                county_code=v["county_code"],
                action="contract.create",
                object_type="contract",
                object_id=out.id,
                after=data,
            )
            return out

        return await run_idempotent(request, conn, principal, work)

    @get("/ventures/{venture_id:str}/contracts", guards=[VENTURE_READERS], operation_id="list_contracts")
    async def list_contracts(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        season_year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        household_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ContractOut]:
        v = await venture_for(conn, principal, venture_id)
        after = decode_cursor(cursor, 1)
        rows = await q.contracts_page(
            conn,
            v["id"],
            season_year=season_year,
            household_id=as_uuid(household_id) if household_id else None,
            after=after[0] if after else None,
            limit=limit,
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [str(r["id"])])
        return Page([contract_out(r) for r in rows], next_cursor)

    @get("/contracts/{contract_id:str}", guards=[VENTURE_READERS], operation_id="get_contract")
    async def get_contract(self, contract_id: str, conn: asyncpg.Connection, principal: Principal) -> ContractOut:
        c, _ = await contract_for(conn, principal, contract_id)
        return contract_out(c)

    @post("/contracts/{contract_id:str}/advances", guards=[VENTURE_WRITERS], operation_id="record_advance")
    async def record_advance(
        self,
        request: Request,
        contract_id: str,
        data: AdvanceCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        c, v = await contract_for(conn, principal, contract_id, write=True)
        if data.given_on > clock.today():
            raise invalid_field("given_on", "赊销日期不能晚于今天")

        async def work(tx: asyncpg.Connection) -> AdvanceOut:
            return await record_advance_in(tx, actor, v, c, data.amount_fen, data.given_on, data.item)

        return await run_idempotent(request, conn, principal, work)

    @post("/contracts/{contract_id:str}/purchases", guards=[VENTURE_WRITERS], operation_id="record_purchase")
    async def record_purchase(
        self,
        request: Request,
        contract_id: str,
        data: PurchaseCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        c, _ = await contract_for(conn, principal, contract_id, write=True)
        if data.bought_on > clock.today():
            raise invalid_field("bought_on", "收购日期不能晚于今天")

        async def work(tx: asyncpg.Connection) -> PurchaseOut:
            await lock_for_recording(tx, c)
            purchase_id = await q.insert_purchase(
                tx,
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
                tx,
                actor,
                county_code=c["county_code"],
                action="purchase.record",
                object_type="purchase",
                object_id=out.id,
                after=out,
            )
            return out

        return await run_idempotent(request, conn, principal, work)

    @post(
        "/ventures/{venture_id:str}/purchases/import",
        guards=[VENTURE_WRITERS],
        operation_id="import_purchases",
        opt=UPLOAD,
    )
    async def import_purchases(
        self,
        request: Request,
        venture_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        """multipart/form-data with the sheet in `file` (CSV or xlsx)."""
        v = await venture_for(conn, principal, venture_id, write=True)
        # The whole body is read before the form is parsed: the Idempotency-Key digest needs the
        # raw bytes, and a form parsed straight from the stream would leave none to read.
        await request.body()
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile):
            raise invalid_field("file", "请上传称重单文件（字段名 file）")
        table = read_table(await upload.read(), upload.filename)
        table.require(PURCHASE_SHEET_COLUMNS)

        async def work(tx: asyncpg.Connection) -> Created:
            return await import_purchase_table(tx, actor, v, table, clock.today())

        return await run_idempotent(request, conn, principal, work)

    @post("/ventures/{venture_id:str}/settlements", guards=[VENTURE_WRITERS], operation_id="settle_season")
    async def settle(
        self,
        request: Request,
        venture_id: str,
        data: SettlementRun,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        await venture_for(conn, principal, venture_id, write=True)

        async def work(tx: asyncpg.Connection) -> SettlementRunOut:
            v = await vq.venture(tx, venture_id, for_update=True)
            if v["model"] not in BUYING_MODELS:
                raise invalid_field("venture_id", "只有企业或支部控股公司办理订单收购结算")
            return await settle_season(tx, actor, v, data.season_year, clock.today())

        return await run_idempotent(request, conn, principal, work)

    @get("/ventures/{venture_id:str}/settlements", guards=[VENTURE_READERS], operation_id="list_settlements")
    async def list_settlements(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        season_year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[SettlementItem]:
        v = await venture_for(conn, principal, venture_id)
        after = decode_cursor(cursor, 1)
        rows = await q.settlements_page(
            conn, v["id"], season_year=season_year, after=after[0] if after else None, limit=limit
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [str(r["id"])])
        return Page([settlement_item(r) for r in rows], next_cursor)

    @get("/settlements/{settlement_id:str}", guards=[SETTLEMENT_READERS], operation_id="get_settlement")
    async def get_settlement(
        self, settlement_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> SettlementItem:
        s = await q.settlement(conn, settlement_id)
        if s is None:
            raise not_found("结算单")
        if principal.role == "household":
            if principal.household_id != str(s["household_id"]):
                raise not_found("结算单")
        else:
            await venture_for(conn, principal, str(s["venture_id"]))
        rows = await q.settlement_lines(conn, s["county_code"], s["id"])
        lines = [
            SettlementLineOut(
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
            for r in rows
        ]
        explanation = settlement_detail(
            s["explanation"],
            [LineWords(r["bought_on"], r["grade"], r["explanation"]) for r in rows],
            s["reversed_on"] if s["status"] == "reversed" else None,
        )
        return settlement_item(s, lines, explanation)

    @post("/settlements/{settlement_id:str}/reverse", guards=[VENTURE_WRITERS], operation_id="reverse_settlement")
    async def reverse(
        self,
        request: Request,
        settlement_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        s = await q.settlement(conn, settlement_id)
        if s is None:
            raise not_found("结算单")
        await venture_for(conn, principal, str(s["venture_id"]), write=True)

        async def work(tx: asyncpg.Connection) -> ReversalOut:
            await vq.venture(tx, str(s["venture_id"]), for_update=True)
            live = await q.settlement(tx, settlement_id, for_update=True)
            if live["status"] != "settled":
                raise conflict("already-reversed", "该结算已冲销")
            payables = await q.payables_of(tx, live["county_code"], live["id"])
            held = [p for p in payables if p["status"] in ("in_batch", "paid")]
            if held:
                raise conflict(
                    "payable-in-payment",
                    "该结算的应付款已进入支付批次或已支付，不能冲销",
                    payable_ids=[str(p["id"]) for p in held],
                )
            if live["advance_carried_fen"] and await q.later_carry_taken(tx, live):
                raise conflict("carry-taken", "之后的结算已扣除本次结转的农资款，请先冲销之后的结算")
            reversal = None
            if live["entry_id"] is not None:
                reversal = await ledger.reverse_entry(
                    tx,
                    live["county_code"],
                    live["entry_id"],
                    memo=f"冲销订单收购结算 {live['id']}",
                    posted_on=clock.today(),
                )
            cancelled = await ledger.cancel_unpaid_payables(tx, live["county_code"], "settlement", str(live["id"]))
            await q.mark_reversed(tx, live, reversal, clock.today(), actor.name)
            out = ReversalOut(str(live["id"]), "reversed", str(reversal) if reversal else None, cancelled)
            await record(
                tx,
                actor,
                county_code=live["county_code"],
                action="settlement.reverse",
                object_type="settlement",
                object_id=out.id,
                before={"status": "settled"},
                after=out,
            )
            return out

        return await run_idempotent(request, conn, principal, work, status_code=200)


async def import_purchase_table(
    conn: asyncpg.Connection, actor: Actor, v: asyncpg.Record, table: Table, today: dt.date
) -> Created:
    """Check every row, then COPY them all, in the caller's transaction."""
    await q.share_lock_venture(conn, v["county_code"], v["id"])
    contracts = await q.venture_contract_ids(conn, v["id"])
    settled = await q.settled_contract_ids(conn, v["id"])
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


ROUTES = [OrderFarmingController]
