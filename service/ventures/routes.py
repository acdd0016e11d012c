"""Ventures (经营主体), members, the share register (股权登记簿), member accounts, subsidies, trades."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from db import ledger
from db import ventures as q
from schemas.common import Created
from schemas.ventures import (
    Charter,
    MemberAccount,
    MemberCreate,
    MemberOut,
    ReallocationConfirm,
    ReallocationOut,
    Register,
    RegisterItem,
    ShareMovementCreate,
    ShareMovementOut,
    SubsidyCreate,
    SubsidyOut,
    TradeCreate,
    TradeOut,
    VentureCreate,
    VentureOut,
)
from service.core.allocation import allocate
from service.core.audit import Actor, record
from service.core.auth import VENTURE_READERS, VENTURE_WRITERS
from service.core.clock import Clock
from service.core.errors import bad_input, field_error, forbidden, invalid_field, not_found
from service.core.idempotency import run_idempotent
from service.core.policy import venture_for
from service.core.principal import Principal, region_prefix
from service.core.tabular import read_table
from service.core.uploads import UPLOAD
from service.ledger import chart
from service.ledger.rules import AccountSpec, Line
from service.ventures.rules import NegativeHoldingError, ShareMovement, holdings_as_of


def venture_out(row: asyncpg.Record) -> VentureOut:
    return VentureOut(
        str(row["id"]),
        row["name"],
        row["model"],
        row["county_code"],
        row["village_code"],
        row["registered_capital_fen"],
        row["record_date_mmdd"],
        msgspec.convert(row["charter"], Charter),
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


def check_charter(model: str, charter: Charter) -> None:
    errors = []
    if model == "cooperative" and charter.patronage_bp < 6000:
        errors.append(field_error("charter.patronage_bp", "合作社按交易量返还比例不得低于60%（6000 bp）"))
    if model != "cooperative" and charter.reserve_bp < 1000:
        errors.append(field_error("charter.reserve_bp", "公司法定公积金比例不得低于10%（1000 bp）"))
    if charter.floor_mode == "none" and charter.floor_bp != 0:
        errors.append(field_error("charter.floor_bp", "未设保底方式时保底比例应为0"))
    if charter.floor_mode != "none" and charter.floor_bp == 0:
        errors.append(field_error("charter.floor_bp", "设了保底方式就要给出保底比例"))
    if charter.floor_mode == "none" and not charter.poverty_participates:
        errors.append(field_error("charter.poverty_participates", "无保底时贫困户股必须参与分红"))
    if charter.reserve_bp + charter.discretionary_bp > 10000:
        errors.append(field_error("charter.discretionary_bp", "公积金与任意公积金合计不得超过100%"))
    if errors:
        raise bad_input("章程设置有误", errors)


@dataclass
class FileUpload:
    file: UploadFile


class VentureController(Controller):
    path = "/ventures"
    tags = ["ventures"]

    @post("/", guards=[VENTURE_WRITERS], operation_id="create_venture")
    async def create_venture(
        self, request: Request, data: VentureCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        check_charter(data.model, data.charter)
        village = await conn.fetchrow(
            "SELECT code, county_code FROM regions WHERE code = $1 AND level = 'village'", data.village_code
        )
        if village is None:
            raise invalid_field("village_code", f"村代码 {data.village_code} 不存在")
        if (
            principal.role == "accountant"
            and principal.region_code
            and not data.village_code.startswith(region_prefix(principal.region_code))
        ):
            raise forbidden("只能在本辖区设立经营主体")
        try:
            dt.date(2024, int(data.record_date_mmdd[:2]), int(data.record_date_mmdd[3:]))
        except ValueError:
            raise invalid_field("record_date_mmdd", "股权登记日不是有效日期") from None

        async def work(tx: asyncpg.Connection) -> VentureOut:
            row = await tx.fetchrow(
                """INSERT INTO ventures (county_code, name, model, village_code, registered_capital_fen,
                       record_date_mmdd, charter) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
                village["county_code"],
                data.name,
                data.model,
                data.village_code,
                data.registered_capital_fen,
                data.record_date_mmdd,
                msgspec.to_builtins(data.charter),
            )
            if principal.role == "accountant":
                await tx.execute(
                    "UPDATE users SET venture_ids = array_append(venture_ids, $2) WHERE id = $1::uuid",
                    principal.id,
                    row["id"],
                )
            out = venture_out(row)
            await record(
                tx,
                actor,
                county_code=row["county_code"],
                action="venture.create",
                object_type="venture",
                object_id=out.id,
                after=msgspec.to_builtins(out),
            )
            return out

        return await run_idempotent(request, conn, principal, work)

    @get("/{venture_id:str}", guards=[VENTURE_READERS], operation_id="get_venture")
    async def get_venture(self, venture_id: str, conn: asyncpg.Connection, principal: Principal) -> VentureOut:
        return venture_out(await venture_for(conn, principal, venture_id))

    @post("/{venture_id:str}/members", guards=[VENTURE_WRITERS], operation_id="add_member")
    async def add_member(
        self, venture_id: str, data: MemberCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> MemberOut:
        v = await venture_for(conn, principal, venture_id, write=True)
        household_id = None
        if data.kind == "household":
            household_id = q.as_uuid(data.household_id)
            hh = household_id and await conn.fetchrow("SELECT county_code FROM households WHERE id = $1", household_id)
            if not hh or hh["county_code"] != v["county_code"]:
                raise invalid_field("household_id", "农户不存在或不属于本县")
        elif data.household_id is not None:
            raise invalid_field("household_id", "只有农户成员才填写 household_id")
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM ventures WHERE id = $1 FOR UPDATE", v["id"])
            number = await conn.fetchval(
                "SELECT coalesce(max(member_no), 0) + 1 FROM venture_members WHERE venture_id = $1", v["id"]
            )
            try:
                row = await conn.fetchrow(
                    """INSERT INTO venture_members (county_code, venture_id, member_no, kind, household_id, name)
                       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
                    v["county_code"],
                    v["id"],
                    number,
                    data.kind,
                    household_id,
                    data.name,
                )
            except asyncpg.UniqueViolationError:
                what = "村集体" if data.kind == "collective" else "该农户"
                raise invalid_field(
                    "kind" if data.kind == "collective" else "household_id", f"{what}已是本经营主体的成员"
                ) from None
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

    @get("/{venture_id:str}/members", guards=[VENTURE_READERS], operation_id="list_members")
    async def list_members(self, venture_id: str, conn: asyncpg.Connection, principal: Principal) -> list[MemberOut]:
        v = await venture_for(conn, principal, venture_id)
        return [member_out(r) for r in await q.members(conn, v["id"])]

    @post("/{venture_id:str}/share-movements", guards=[VENTURE_WRITERS], operation_id="record_share_movement")
    async def record_movement(
        self,
        request: Request,
        venture_id: str,
        data: ShareMovementCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        await venture_for(conn, principal, venture_id, write=True)

        async def work(tx: asyncpg.Connection) -> ShareMovementOut:
            v = await q.venture(tx, venture_id, for_update=True)
            return await apply_movement(tx, actor, v, data)

        return await run_idempotent(request, conn, principal, work)

    @get("/{venture_id:str}/register", guards=[VENTURE_READERS], operation_id="get_register")
    async def register(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        as_of: dt.date | None = None,
    ) -> Register:
        v = await venture_for(conn, principal, venture_id)
        day = as_of or clock.today()
        held = holdings_as_of(await q.movements(conn, v["id"], until=day), day)
        members = {str(m["id"]): m for m in await q.members(conn, v["id"])}
        certs = await q.certificates(conn, v["id"])
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
            for (mid, cls), h in sorted(held.items(), key=lambda kv: (members[kv[0][0]]["member_no"], kv[0][1]))
            if h.shares > 0
        ]
        return Register(str(v["id"]), day, items, sum(i.shares for i in items), sum(i.capital_fen for i in items))

    @get(
        "/{venture_id:str}/members/{member_id:str}/account", guards=[VENTURE_READERS], operation_id="get_member_account"
    )
    async def member_account(
        self,
        venture_id: str,
        member_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        year: int | None = None,
    ) -> MemberAccount:
        v = await venture_for(conn, principal, venture_id)
        m = await q.member(conn, v["id"], member_id)
        if m is None:
            raise not_found("成员")
        year = year or clock.today().year
        if not 2000 <= year <= 2100:
            raise invalid_field("year", "年度应在2000至2100之间")
        figures = await q.member_account(conn, v["id"], m["id"], year)
        return MemberAccount(venture_id=str(v["id"]), member_id=str(m["id"]), year=year, **figures)

    @post("/{venture_id:str}/subsidies", guards=[VENTURE_WRITERS], operation_id="receive_subsidy")
    async def receive_subsidy(
        self,
        request: Request,
        venture_id: str,
        data: SubsidyCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        await venture_for(conn, principal, venture_id, write=True)

        async def work(tx: asyncpg.Connection) -> SubsidyOut:
            v = await q.venture(tx, venture_id, for_update=True)
            if v["model"] != "cooperative":
                raise invalid_field("venture_id", "只有合作社把财政补助量化到成员账户")
            members = await q.members(tx, v["id"])
            if not members:
                raise invalid_field("received_on", "合作社还没有成员，无法量化补助")
            # Quantified equally (DESIGN.md): equal weights, the odd fen by member id.
            shares = allocate(data.amount_fen, [(str(m["id"]), 1) for m in members])
            accounts = await ledger.accounts(
                tx,
                v["county_code"],
                [
                    AccountSpec("venture", str(v["id"]), "102", chart.COOPERATIVE["102"]),
                    AccountSpec("venture", str(v["id"]), "311", chart.COOPERATIVE["311"]),
                ],
            )
            subsidy_id = uuid.uuid4()
            bank, fund = accounts.values()
            entry = await ledger.post_entry(
                tx,
                county_code=v["county_code"],
                source_type="subsidy",
                source_id=str(subsidy_id),
                idempotency_key=f"subsidy:{subsidy_id}",
                memo=f"收到财政补助：{data.source}",
                posted_on=data.received_on,
                lines=[Line(bank, data.amount_fen), Line(fund, -data.amount_fen)],
            )
            await tx.execute(
                """INSERT INTO subsidies (county_code, id, venture_id, amount_fen, source, received_on, entry_id)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                v["county_code"],
                subsidy_id,
                v["id"],
                data.amount_fen,
                data.source,
                data.received_on,
                entry,
            )
            await tx.copy_records_to_table(
                "member_account_movements",
                records=[
                    (
                        v["county_code"],
                        uuid.uuid4(),
                        v["id"],
                        uuid.UUID(mid),
                        data.received_on.year,
                        "subsidy",
                        amount,
                        "subsidy",
                        str(subsidy_id),
                    )
                    for mid, amount in shares.items()
                    if amount
                ],
                columns=[
                    "county_code",
                    "id",
                    "venture_id",
                    "member_id",
                    "year",
                    "kind",
                    "amount_fen",
                    "source_type",
                    "source_id",
                ],
            )
            await record(
                tx,
                actor,
                county_code=v["county_code"],
                action="subsidy.receive",
                object_type="subsidy",
                object_id=str(subsidy_id),
                after={"amount_fen": data.amount_fen, "members": len(shares)},
            )
            return SubsidyOut(
                str(subsidy_id), str(v["id"]), data.amount_fen, data.source, data.received_on, shares, str(entry)
            )

        return await run_idempotent(request, conn, principal, work)

    @post("/{venture_id:str}/transactions", guards=[VENTURE_WRITERS], operation_id="record_trade")
    async def record_trade(
        self,
        request: Request,
        venture_id: str,
        data: TradeCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        v = await venture_for(conn, principal, venture_id, write=True)
        member = None
        if data.member_id is not None:
            member = await q.member(conn, v["id"], data.member_id)
            if member is None:
                raise invalid_field("member_id", "成员不存在")

        async def work(tx: asyncpg.Connection) -> TradeOut:
            trade_id = await tx.fetchval(
                """INSERT INTO trades (county_code, venture_id, member_id, traded_on, product, quantity_g, amount_fen)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
                v["county_code"],
                v["id"],
                member["id"] if member else None,
                data.traded_on,
                data.product,
                data.quantity_g,
                data.amount_fen,
            )
            await record(
                tx,
                actor,
                county_code=v["county_code"],
                action="trade.record",
                object_type="trade",
                object_id=str(trade_id),
                after={"amount_fen": data.amount_fen, "member": data.member_id},
            )
            return TradeOut(
                str(trade_id),
                str(v["id"]),
                data.member_id,
                data.traded_on,
                data.product,
                data.quantity_g,
                data.amount_fen,
            )

        return await run_idempotent(request, conn, principal, work)

    @post(
        "/{venture_id:str}/transactions/import",
        guards=[VENTURE_WRITERS],
        operation_id="import_trades",
        opt=UPLOAD,
    )
    async def import_trades(
        self,
        venture_id: str,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Created:
        v = await venture_for(conn, principal, venture_id, write=True)
        table = read_table(await data.file.read(), data.file.filename)
        table.require(["traded_on", "product", "quantity_g", "amount_fen"])
        by_no = {str(m["member_no"]): m["id"] for m in await q.members(conn, v["id"])}
        by_id = {str(m): m for m in by_no.values()}
        records, errors = [], []
        for number, row in table.rows:
            member_ref = (row.get("member_no") or row.get("member_id") or "").strip()
            member_id = by_no.get(member_ref) or by_id.get(member_ref)
            if member_ref and member_id is None:
                errors.append(field_error("member_no", f"成员 {member_ref} 不存在", number))
            try:
                traded_on = dt.date.fromisoformat(row["traded_on"])
            except ValueError:
                errors.append(field_error("traded_on", "日期应为 YYYY-MM-DD", number))
                traded_on = None
            values = {}
            for name in ("quantity_g", "amount_fen"):
                text = row[name].strip()
                if not text.isdigit() or int(text) > 10**13:
                    errors.append(field_error(name, "应为非负整数", number))
                else:
                    values[name] = int(text)
            product = row["product"].strip()
            if not product:
                errors.append(field_error("product", "品名不能为空", number))
            if traded_on and len(values) == 2 and product:
                records.append(
                    (
                        v["county_code"],
                        uuid.uuid4(),
                        v["id"],
                        member_id,
                        traded_on,
                        product,
                        values["quantity_g"],
                        values["amount_fen"],
                    )
                )
        if errors:
            raise bad_input(f"{len({e['row'] for e in errors})} 行有误，未导入任何数据", errors)
        async with conn.transaction():
            await conn.copy_records_to_table(
                "trades",
                records=records,
                columns=[
                    "county_code",
                    "id",
                    "venture_id",
                    "member_id",
                    "traded_on",
                    "product",
                    "quantity_g",
                    "amount_fen",
                ],
            )
            await record(
                conn,
                actor,
                county_code=v["county_code"],
                action="trade.import",
                object_type="venture",
                object_id=str(v["id"]),
                detail={"count": len(records)},
            )
        return Created(created=len(records))

    @post(
        "/{venture_id:str}/reallocations/{proposal_id:str}/confirm",
        guards=[VENTURE_WRITERS],
        operation_id="confirm_reallocation",
    )
    async def confirm_reallocation(
        self,
        request: Request,
        venture_id: str,
        proposal_id: str,
        data: ReallocationConfirm,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        await venture_for(conn, principal, venture_id, write=True)

        async def work(tx: asyncpg.Connection) -> ReallocationOut:
            v = await q.venture(tx, venture_id, for_update=True)
            p = await tx.fetchrow(
                "SELECT * FROM reallocation_proposals WHERE venture_id = $1 AND id = $2 FOR UPDATE",
                v["id"],
                q.as_uuid(proposal_id),
            )
            if p is None:
                raise not_found("调整方案")
            if p["status"] != "proposed":
                raise invalid_field("proposal_id", "该方案已确认")
            items = [msgspec.to_builtins(i) for i in data.items] if data.items is not None else p["proposal"]
            if sum(i["shares"] for i in items) != p["shares"]:
                raise invalid_field("items", f"调整的股数合计应为 {p['shares']} 股")
            collective = await tx.fetchval(
                "SELECT id FROM venture_members WHERE venture_id = $1 AND kind = 'collective'", v["id"]
            )
            capital = allocate(p["capital_fen"], [(str(i), item["shares"]) for i, item in enumerate(items)])
            for i, item in enumerate(items):
                await apply_movement(
                    tx,
                    actor,
                    v,
                    ShareMovementCreate(
                        kind="transfer",
                        share_class="poverty",
                        shares=item["shares"],
                        capital_fen=capital[str(i)],
                        effective_date=p["effective_date"],
                        from_member_id=str(collective),
                        to_member_id=item["member_id"],
                        reason="贫困户股调整（谁贫困谁享受）",
                    ),
                )
            await tx.execute(
                "UPDATE reallocation_proposals SET status = 'confirmed', proposal = $2 WHERE county_code = $1 AND id = $3",
                v["county_code"],
                items,
                p["id"],
            )
            await record(
                tx,
                actor,
                county_code=v["county_code"],
                action="reallocation.confirm",
                object_type="reallocation",
                object_id=str(p["id"]),
                after=items,
            )
            return ReallocationOut(
                str(p["id"]),
                str(v["id"]),
                str(p["exited_household_id"]),
                p["shares"],
                p["capital_fen"],
                p["effective_date"],
                "confirmed",
                items,
            )

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @get("/{venture_id:str}/reallocations", guards=[VENTURE_READERS], operation_id="list_reallocations")
    async def list_reallocations(
        self, venture_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> list[ReallocationOut]:
        v = await venture_for(conn, principal, venture_id)
        rows = await conn.fetch(
            "SELECT * FROM reallocation_proposals WHERE venture_id = $1 ORDER BY created_at", v["id"]
        )
        return [
            ReallocationOut(
                str(r["id"]),
                str(v["id"]),
                str(r["exited_household_id"]),
                r["shares"],
                r["capital_fen"],
                r["effective_date"],
                r["status"],
                r["proposal"],
            )
            for r in rows
        ]


async def apply_movement(
    conn: asyncpg.Connection, actor: Actor, v: asyncpg.Record, data: ShareMovementCreate
) -> ShareMovementOut:
    """Record one register movement under the venture's row lock: refuse it if any holding, on any
    date, would go below zero; post the capital to the ledger and the member accounts."""
    source = await q.member(conn, v["id"], data.from_member_id) if data.from_member_id else None
    target = await q.member(conn, v["id"], data.to_member_id) if data.to_member_id else None
    needs_from = data.kind in ("allocate", "transfer", "redeem")
    needs_to = data.kind in ("subscribe", "allocate", "transfer")
    if needs_from and source is None:
        raise invalid_field("from_member_id", "转出成员不存在" if data.from_member_id else "此类变动须填写转出成员")
    if needs_to and target is None:
        raise invalid_field("to_member_id", "转入成员不存在" if data.to_member_id else "此类变动须填写转入成员")
    if not needs_from and data.from_member_id:
        raise invalid_field("from_member_id", "认购不填写转出成员")
    if not needs_to and data.to_member_id:
        raise invalid_field("to_member_id", "退股不填写转入成员")
    if source is not None and target is not None and source["id"] == target["id"]:
        raise invalid_field("to_member_id", "转出与转入不能是同一成员")
    if data.kind == "allocate":
        if source["kind"] != "collective":
            raise invalid_field("from_member_id", "配股只能从村集体的股份中划出")
        if target["kind"] != "household":
            raise invalid_field("to_member_id", "配股只能配给农户")
    movement = ShareMovement(
        kind=data.kind,
        from_member=str(source["id"]) if source else None,
        to_member=str(target["id"]) if target else None,
        share_class=data.share_class,
        shares=data.shares,
        capital_fen=data.capital_fen,
        effective_date=data.effective_date,
    )
    history = await q.movements(conn, v["id"])
    try:
        # Replaying every movement in date order refuses a back-dated one that would overdraw any later day.
        holdings_as_of([*history, movement], dt.date.max)
    except NegativeHoldingError as exc:
        raise invalid_field("shares", f"持股不足：该变动会使成员在某一日的 {exc.share_class} 类持股为负") from None
    except ValueError as exc:
        raise invalid_field("capital_fen", f"股金与股数不符：{exc}") from None
    register_no = await conn.fetchval(
        "UPDATE ventures SET next_register_no = next_register_no + 1 WHERE county_code = $1 AND id = $2 "
        "RETURNING next_register_no - 1",
        v["county_code"],
        v["id"],
    )
    movement_id = uuid.uuid4()
    entry_id = None
    if data.kind in ("subscribe", "redeem") and data.capital_fen:
        specs = [
            AccountSpec(
                "venture",
                str(v["id"]),
                chart.BANK_CODE[v["model"]],
                chart.account_name(v["model"], chart.BANK_CODE[v["model"]]),
            ),
            AccountSpec(
                "venture",
                str(v["id"]),
                chart.CAPITAL_CODE[v["model"]],
                chart.account_name(v["model"], chart.CAPITAL_CODE[v["model"]]),
            ),
        ]
        bank, capital = (await ledger.accounts(conn, v["county_code"], specs)).values()
        sign = 1 if data.kind == "subscribe" else -1
        member_row = target if data.kind == "subscribe" else source
        entry_id = await ledger.post_entry(
            conn,
            county_code=v["county_code"],
            source_type="share_capital",
            source_id=str(movement_id),
            idempotency_key=f"share_movement:{movement_id}",
            memo=f"{'认购' if sign > 0 else '退股'}：{member_row['name']} {data.shares} 股",
            posted_on=data.effective_date,
            lines=[
                Line(bank, sign * data.capital_fen, member_row["id"]),
                Line(capital, -sign * data.capital_fen, member_row["id"]),
            ],
        )
    await conn.execute(
        """INSERT INTO share_movements (county_code, id, venture_id, register_no, kind, from_member_id, to_member_id,
               share_class, shares, capital_fen, effective_date, reason, entry_id, recorded_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        v["county_code"],
        movement_id,
        v["id"],
        register_no,
        data.kind,
        source["id"] if source else None,
        target["id"] if target else None,
        data.share_class,
        data.shares,
        data.capital_fen,
        data.effective_date,
        data.reason,
        entry_id,
        actor.name,
    )
    if v["model"] == "cooperative" and data.capital_fen:
        changes = []
        if source is not None:
            changes.append((source["id"], -data.capital_fen))
        if target is not None:
            changes.append((target["id"], data.capital_fen))
        await conn.executemany(
            """INSERT INTO member_account_movements (county_code, venture_id, member_id, year, kind, amount_fen,
                   source_type, source_id) VALUES ($1, $2, $3, $4, 'capital', $5, 'share_movement', $6)""",
            [
                (v["county_code"], v["id"], mid, data.effective_date.year, amount, str(movement_id))
                for mid, amount in changes
            ],
        )
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


async def poverty_shares_follow_status(
    conn: asyncpg.Connection, actor: Actor, household: asyncpg.Record, kind: str, effective_date: dt.date
) -> None:
    """谁贫困谁享受: on exit, poverty shares go back to the collective and a reallocation is proposed
    among the venture's households still registered poor."""
    if kind != "exited":
        return
    rows = await conn.fetch(
        """SELECT v.*, m.id AS member_id FROM venture_members m JOIN ventures v ON v.id = m.venture_id
           WHERE m.household_id = $1 AND (v.charter->>'poverty_follows_status')::boolean""",
        household["id"],
    )
    for row in rows:
        v = await q.venture(conn, str(row["id"]), for_update=True)
        held = holdings_as_of(await q.movements(conn, v["id"], until=effective_date), effective_date)
        holding = held.get((str(row["member_id"]), "poverty"))
        if holding is None or holding.shares == 0:
            continue
        collective = await conn.fetchval(
            "SELECT id FROM venture_members WHERE venture_id = $1 AND kind = 'collective'", v["id"]
        )
        if collective is None:
            continue
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
                from_member_id=str(row["member_id"]),
                to_member_id=str(collective),
                reason="脱贫户贫困户股收回村集体（谁贫困谁享受）",
            ),
        )
        poor = await conn.fetch(
            """SELECT m.id FROM venture_members m JOIN households h ON h.id = m.household_id
               WHERE m.venture_id = $1 AND h.status = 'poor' ORDER BY m.member_no""",
            v["id"],
        )
        split = allocate(holding.shares, [(str(p["id"]), 1) for p in poor]) if poor else {}
        proposal = [{"member_id": mid, "shares": n} for mid, n in split.items() if n]
        await conn.execute(
            """INSERT INTO reallocation_proposals (county_code, venture_id, exited_household_id, shares, capital_fen,
                   effective_date, proposal) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            v["county_code"],
            v["id"],
            household["id"],
            holding.shares,
            holding.capital_fen,
            effective_date,
            proposal,
        )


ROUTES = [VentureController]
