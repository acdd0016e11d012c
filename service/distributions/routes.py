"""The distribution workflow (API.md, Distributions): draft → submit → approve (公示) → post → reverse."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from db import distributions as q
from db import ledger
from db import ventures as vq
from schemas.common import Page
from schemas.distributions import Approve, DistributionCreate, DistributionLine, DistributionOut, Waterfall
from service.core.audit import Actor, record
from service.core.auth import VENTURE_READERS, allow
from service.core.clock import Clock
from service.core.errors import conflict, forbidden, invalid_field, not_found
from service.core.hooks import ObjectionHooks
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.core.policy import distribution_for, venture_for
from service.core.principal import Principal
from service.core.settings import Settings
from service.distributions import rules as dist
from service.distributions.rules import ConservationError
from service.notices.workflow import open_notice, open_objections_for


def notice_days_for(model: str, settings: Settings) -> int:
    """公示 (DESIGN.md): a cooperative's plan 15 days (art. 40), a company's funds 10, by default."""
    return settings.notice_days_cooperative_plan if model == "cooperative" else settings.notice_days_fund


def distribution_out(row: asyncpg.Record, payables_created: int = 0) -> DistributionOut:
    return DistributionOut(
        id=str(row["id"]),
        venture_id=str(row["venture_id"]),
        fiscal_year=row["fiscal_year"],
        profit_fen=row["profit_fen"],
        status=row["status"],
        waterfall=msgspec.convert(row["waterfall"], Waterfall),
        carried_in=row["carried_in"],
        carried_out=row["carried_out"],
        lines_total=row["lines_count"],
        lines_total_fen=row["lines_total_fen"],
        payables_created=payables_created,
        notice_id=str(row["notice_id"]) if row["notice_id"] else None,
        notice_ends_on=row["notice_ends_on"],
        entry_id=str(row["entry_id"]) if row["entry_id"] else None,
        reversal_entry_id=str(row["reversal_entry_id"]) if row["reversal_entry_id"] else None,
    )


async def write_draft(
    conn: asyncpg.Connection,
    venture: asyncpg.Record,
    year: int,
    profit_fen: int,
    created_by: str,
    *,
    facts: dist.VentureFacts | None = None,
) -> asyncpg.Record:
    """Compute the plan and store it as a draft, replacing an earlier draft of the same year."""
    facts = facts or await q.load_facts(conn, venture, year)
    try:
        plan = dist.compute_plan(facts, year, profit_fen)
    except ConservationError:  # a rule bug must never reach the books: let it be a 500
        raise
    except ValueError as exc:
        raise invalid_field("profit_fen", f"无法计算分配方案：{exc}") from exc
    existing = await conn.fetchrow(
        "SELECT id, status FROM distributions WHERE venture_id = $1 AND fiscal_year = $2 AND status <> 'reversed' FOR UPDATE",
        venture["id"],
        year,
    )
    if existing and existing["status"] != "draft":
        raise conflict("distribution-exists", f"{year} 年度的分配方案已{_STATUS_WORDS[existing['status']]}，不能重算")
    later = await conn.fetchval(
        "SELECT min(fiscal_year) FROM distributions WHERE venture_id = $1 AND fiscal_year > $2 AND status = 'posted'",
        venture["id"],
        year,
    )
    if later:
        raise invalid_field("fiscal_year", f"{later} 年度已入账，不能再为更早的 {year} 年度分配")
    if existing:
        await conn.execute(
            "DELETE FROM distribution_lines WHERE county_code = $1 AND distribution_id = $2",
            venture["county_code"],
            existing["id"],
        )
        await conn.execute(
            "DELETE FROM distributions WHERE county_code = $1 AND id = $2", venture["county_code"], existing["id"]
        )
    distribution_id = uuid.uuid4()
    lines = [line for line in plan.lines if line.amount_fen]
    row = await conn.fetchrow(
        """INSERT INTO distributions (county_code, id, venture_id, fiscal_year, profit_fen, waterfall, carried_in,
               carried_out, reserve_quantified, lines_count, lines_total_fen, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
        venture["county_code"],
        distribution_id,
        venture["id"],
        year,
        profit_fen,
        dist.waterfall_of(plan),
        dist.carried_json(facts.carried),
        dist.carried_json(plan.carried),
        dict(plan.reserve_quantified),
        len(lines),
        sum(line.amount_fen for line in lines),
        created_by,
    )
    await conn.copy_records_to_table(
        "distribution_lines",
        columns=q.LINE_COLUMNS,
        records=[
            (
                venture["county_code"],
                distribution_id,
                n,
                uuid.UUID(line.member_id),
                uuid.UUID(line.household_id) if line.household_id else None,
                line.basis,
                line.weight,
                line.amount_fen,
                line.explanation,
            )
            for n, line in enumerate(lines, start=1)
        ],
    )
    return row


_STATUS_WORDS = {
    "draft": "为草稿",
    "submitted": "提交审核",
    "in_notice": "在公示中",
    "posted": "入账",
    "reversed": "冲销",
}


async def post_distribution(
    conn: asyncpg.Connection, row: asyncpg.Record, venture: asyncpg.Record, posted_on: dt.date
) -> tuple[uuid.UUID, int]:
    """Write the plan's journal entry and one payable per household line, in the caller's transaction."""
    facts = await q.load_facts(conn, venture, row["fiscal_year"])
    if dist.carried_json(facts.carried) != row["carried_in"]:
        raise conflict("distribution-stale", "往年结转数据在方案编制后发生了变化，请重新计算方案")
    plan = dist.compute_plan(facts, row["fiscal_year"], row["profit_fen"])
    stored = await conn.fetch(
        "SELECT member_id, basis, amount_fen FROM distribution_lines WHERE county_code = $1 AND distribution_id = $2",
        row["county_code"],
        row["id"],
    )
    if sorted((str(r["member_id"]), r["basis"], r["amount_fen"]) for r in stored) != sorted(
        (pl.member_id, pl.basis, pl.amount_fen) for pl in plan.lines if pl.amount_fen
    ):
        raise conflict("distribution-stale", "股权或成员账户在方案编制后发生了变化，请重新计算方案")
    specs = dist.account_specs(str(venture["id"]), venture["model"])
    ids = await ledger.accounts(conn, venture["county_code"], specs.values())
    accounts = {key: ids[spec] for key, spec in specs.items()}
    entry, payable_lines = dist.posting_for(
        row["id"], facts, row["fiscal_year"], row["profit_fen"], plan, accounts, posted_on
    )
    entry_id = None
    if len([line for line in entry.lines if line.amount_fen]) >= 2:
        (entry_id,) = await ledger.post_entries(conn, venture["county_code"], [entry])
    villages = {
        str(r["id"]): r["village_code"]
        for r in await conn.fetch(
            "SELECT id, village_code FROM households WHERE id = ANY($1::uuid[])",
            [uuid.UUID(pl.household_id) for pl, _ in payable_lines],
        )
    }
    payables = (
        dist.payables_for(row["id"], facts, entry_id, payable_lines, accounts["bank"], villages) if entry_id else []
    )
    await ledger.create_payables(conn, venture["county_code"], payables)
    if venture["model"] == "cooperative" and plan.reserve_quantified:
        await conn.copy_records_to_table(
            "member_account_movements",
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
            records=[
                (
                    venture["county_code"],
                    uuid.uuid4(),
                    venture["id"],
                    uuid.UUID(mid),
                    row["fiscal_year"],
                    "reserve",
                    amount,
                    "distribution",
                    str(row["id"]),
                )
                for mid, amount in plan.reserve_quantified.items()
                if amount
            ],
        )
    return entry_id, len(payables)


class DistributionController(Controller):
    tags = ["distributions"]

    @post("/ventures/{venture_id:str}/distributions", guards=[allow("accountant")], operation_id="create_distribution")
    async def create(
        self,
        request: Request,
        venture_id: str,
        data: DistributionCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        await venture_for(conn, principal, venture_id, write=True)

        async def work(tx: asyncpg.Connection) -> DistributionOut:
            venture = await vq.venture(tx, venture_id, for_update=True)
            row = await write_draft(tx, venture, data.fiscal_year, data.profit_fen, actor.name)
            await record(
                tx,
                actor,
                county_code=venture["county_code"],
                action="distribution.draft",
                object_type="distribution",
                object_id=str(row["id"]),
                after={
                    "profit_fen": data.profit_fen,
                    "waterfall": row["waterfall"],
                    "lines_total_fen": row["lines_total_fen"],
                },
            )
            return distribution_out(row)

        return await run_idempotent(request, conn, principal, work)

    @get("/distributions/{distribution_id:str}", guards=[VENTURE_READERS], operation_id="get_distribution")
    async def get_one(self, distribution_id: str, conn: asyncpg.Connection, principal: Principal) -> DistributionOut:
        row, _ = await distribution_for(conn, principal, distribution_id)
        return distribution_out(row)

    @get("/distributions/{distribution_id:str}/lines", guards=[VENTURE_READERS], operation_id="list_distribution_lines")
    async def lines(
        self,
        distribution_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[DistributionLine]:
        row, _ = await distribution_for(conn, principal, distribution_id)
        after = decode_cursor(cursor, 1)
        rows = await conn.fetch(
            """SELECT * FROM distribution_lines WHERE county_code = $1 AND distribution_id = $2 AND line_no > $3
               ORDER BY line_no LIMIT $4""",
            row["county_code"],
            row["id"],
            after[0] if after else 0,
            limit + 1,
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["line_no"]])
        return Page(
            [
                DistributionLine(
                    r["line_no"],
                    str(r["member_id"]),
                    str(r["household_id"]) if r["household_id"] else None,
                    r["basis"],
                    r["weight"],
                    r["amount_fen"],
                    r["explanation"],
                )
                for r in rows
            ],
            next_cursor,
        )

    @post(
        "/distributions/{distribution_id:str}/submit",
        guards=[allow("accountant")],
        operation_id="submit_distribution",
        status_code=200,
    )
    async def submit(
        self, distribution_id: str, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> DistributionOut:
        row, venture = await distribution_for(conn, principal, distribution_id)
        if not principal.covers_venture(str(venture["id"])):
            raise forbidden("只有本经营主体的会计可以提交")
        return await _transition(conn, actor, row, "draft", "submitted", "submitted_by = $3", actor.name)

    @post(
        "/distributions/{distribution_id:str}/approve",
        guards=[allow("township_approver")],
        operation_id="approve_distribution",
        status_code=200,
    )
    async def approve(
        self,
        distribution_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
        settings: Settings,
        data: Approve | None = None,
    ) -> DistributionOut:
        row, venture = await distribution_for(conn, principal, distribution_id)
        if principal.role == "township_approver" and not principal.covers_region(venture["village_code"]):
            raise not_found("分配方案")
        if row["submitted_by"] == actor.name:
            raise forbidden("审批人不能是提交人")
        minimum = notice_days_for(venture["model"], settings)
        days = data.notice_days if data and data.notice_days else minimum
        if days < minimum:
            raise invalid_field("notice_days", f"公示期不得少于 {minimum} 天")
        async with conn.transaction():
            current = await conn.fetchrow(
                "SELECT * FROM distributions WHERE county_code = $1 AND id = $2 FOR UPDATE",
                row["county_code"],
                row["id"],
            )
            if current["status"] != "submitted":
                raise conflict("distribution-status", f"方案当前{_STATUS_WORDS[current['status']]}，不能审批")
            subjects = await conn.fetch(
                """SELECT household_id, sum(amount_fen)::bigint AS amount FROM distribution_lines
                   WHERE county_code = $1 AND distribution_id = $2 AND household_id IS NOT NULL
                   GROUP BY household_id ORDER BY household_id""",
                row["county_code"],
                row["id"],
            )
            notice = await open_notice(
                conn,
                actor,
                county_code=row["county_code"],
                kind="distribution",
                source_id=str(row["id"]),
                title=f"{venture['name']} {row['fiscal_year']} 年度分配方案公示",
                subjects=[(str(s["household_id"]), s["household_id"], s["amount"]) for s in subjects],
                days=days,
                today=clock.today(),
            )
            notice_id, ends_on = notice["id"], notice["ends_on"]
            updated = await conn.fetchrow(
                """UPDATE distributions SET status = 'in_notice', approved_by = $3, notice_id = $4, notice_ends_on = $5,
                       updated_at = now() WHERE county_code = $1 AND id = $2 RETURNING *""",
                row["county_code"],
                row["id"],
                actor.name,
                notice_id,
                ends_on,
            )
            await record(
                conn,
                actor,
                county_code=row["county_code"],
                action="distribution.approve",
                object_type="distribution",
                object_id=str(row["id"]),
                before={"status": "submitted"},
                after={"status": "in_notice", "notice_id": str(notice_id)},
            )
        return distribution_out(updated)

    @post(
        "/distributions/{distribution_id:str}/post",
        guards=[allow("accountant")],
        operation_id="post_distribution",
        status_code=200,
    )
    async def post_(
        self,
        request: Request,
        distribution_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        row, venture = await distribution_for(conn, principal, distribution_id)
        if not principal.covers_venture(str(venture["id"])):
            raise forbidden("只有本经营主体的会计可以入账")

        async def work(tx: asyncpg.Connection) -> DistributionOut:
            v = await vq.venture(tx, str(venture["id"]), for_update=True)
            current = await tx.fetchrow(
                "SELECT * FROM distributions WHERE county_code = $1 AND id = $2 FOR UPDATE",
                row["county_code"],
                row["id"],
            )
            if current["status"] != "in_notice":
                raise conflict("distribution-status", f"方案当前{_STATUS_WORDS[current['status']]}，不能入账")
            today = clock.today()
            if today <= current["notice_ends_on"]:
                raise conflict("notice-not-ended", f"公示期至 {current['notice_ends_on']} 结束，届满后才能入账")
            objections = await open_objections_for(tx, current["notice_id"])
            if objections:
                raise conflict("open-objection", f"公示期内有 {len(objections)} 条异议尚未处理，处理后才能入账")
            entry_id, payables = await post_distribution(tx, current, v, today)
            updated = await tx.fetchrow(
                """UPDATE distributions SET status = 'posted', entry_id = $3, updated_at = now()
                   WHERE county_code = $1 AND id = $2 RETURNING *""",
                row["county_code"],
                row["id"],
                entry_id,
            )
            await record(
                tx,
                actor,
                county_code=row["county_code"],
                action="distribution.post",
                object_type="distribution",
                object_id=str(row["id"]),
                after={"entry_id": str(entry_id), "payables": payables},
            )
            return distribution_out(updated, payables)

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @post(
        "/distributions/{distribution_id:str}/reverse",
        guards=[allow("accountant")],
        operation_id="reverse_distribution",
        status_code=200,
    )
    async def reverse(
        self,
        request: Request,
        distribution_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        row, venture = await distribution_for(conn, principal, distribution_id)
        if not principal.covers_venture(str(venture["id"])):
            raise forbidden("只有本经营主体的会计可以冲销")

        async def work(tx: asyncpg.Connection) -> DistributionOut:
            current = await tx.fetchrow(
                "SELECT * FROM distributions WHERE county_code = $1 AND id = $2 FOR UPDATE",
                row["county_code"],
                row["id"],
            )
            if current["status"] != "posted":
                raise conflict(
                    "distribution-status", f"方案当前{_STATUS_WORDS[current['status']]}，只有已入账的方案可以冲销"
                )
            moving = await tx.fetchval(
                """SELECT count(*) FROM payables WHERE county_code = $1 AND source = 'distribution' AND source_id = $2
                   AND status IN ('in_batch', 'paid')""",
                row["county_code"],
                str(row["id"]),
            )
            if moving:
                raise conflict("payables-in-payment", f"有 {moving} 笔应付款已在付款批次中或已支付，不能整体冲销")
            later = await tx.fetchval(
                """SELECT min(fiscal_year) FROM distributions WHERE venture_id = $1 AND fiscal_year > $2
                   AND status = 'posted'""",
                current["venture_id"],
                current["fiscal_year"],
            )
            if later:
                raise conflict("later-year-posted", f"{later} 年度已入账，需先冲销以后年度")
            reversal = None
            if current["entry_id"]:
                reversal = await ledger.reverse_entry(
                    tx,
                    row["county_code"],
                    current["entry_id"],
                    memo=f"冲销 {current['fiscal_year']} 年度分配",
                    posted_on=clock.today(),
                )
            cancelled = await ledger.cancel_unpaid_payables(tx, row["county_code"], "distribution", str(row["id"]))
            if current["reserve_quantified"]:
                await tx.executemany(
                    """INSERT INTO member_account_movements (county_code, venture_id, member_id, year, kind, amount_fen,
                           source_type, source_id) VALUES ($1, $2, $3, $4, 'reserve', $5, 'distribution_reversal', $6)""",
                    [
                        (
                            row["county_code"],
                            current["venture_id"],
                            uuid.UUID(mid),
                            current["fiscal_year"],
                            -amount,
                            str(row["id"]),
                        )
                        for mid, amount in current["reserve_quantified"].items()
                        if amount
                    ],
                )
            updated = await tx.fetchrow(
                """UPDATE distributions SET status = 'reversed', reversal_entry_id = $3, updated_at = now()
                   WHERE county_code = $1 AND id = $2 RETURNING *""",
                row["county_code"],
                row["id"],
                reversal,
            )
            await record(
                tx,
                actor,
                county_code=row["county_code"],
                action="distribution.reverse",
                object_type="distribution",
                object_id=str(row["id"]),
                after={"reversal_entry_id": str(reversal) if reversal else None, "payables_cancelled": cancelled},
            )
            return distribution_out(updated)

        return await run_idempotent(request, conn, principal, work, status_code=200)


async def _transition(
    conn: asyncpg.Connection,
    actor: Actor,
    row: asyncpg.Record,
    from_status: str,
    to_status: str,
    assignment: str,
    value: str,
) -> DistributionOut:
    async with conn.transaction():
        updated = await conn.fetchrow(
            f"""UPDATE distributions SET status = '{to_status}', {assignment}, updated_at = now()
                WHERE county_code = $1 AND id = $2 AND status = '{from_status}' RETURNING *""",
            row["county_code"],
            row["id"],
            value,
        )
        if updated is None:
            current = await conn.fetchval(
                "SELECT status FROM distributions WHERE county_code = $1 AND id = $2", row["county_code"], row["id"]
            )
            raise conflict(
                "distribution-status",
                f"方案当前{_STATUS_WORDS[current]}，不能{ {'submitted': '提交'}.get(to_status, '变更') }",
            )
        await record(
            conn,
            actor,
            county_code=row["county_code"],
            action=f"distribution.{to_status}",
            object_type="distribution",
            object_id=str(row["id"]),
            before={"status": from_status},
            after={"status": to_status},
        )
    return distribution_out(updated)


async def _objection_filed(conn: asyncpg.Connection, actor: Actor, objection: asyncpg.Record) -> None:
    """An open objection blocks `post` (checked there); nothing else changes until it is resolved."""


async def _objection_resolved(
    conn: asyncpg.Connection, actor: Actor, objection: asyncpg.Record, upheld: bool, reason: str
) -> None:
    """An upheld objection sends the plan back to draft: it must be corrected and approved again."""
    if not upheld:
        return
    source = await conn.fetchval(
        "SELECT source_id FROM notices WHERE county_code = $1 AND id = $2",
        objection["county_code"],
        objection["notice_id"],
    )
    await conn.execute(
        """UPDATE distributions SET status = 'draft', submitted_by = NULL, approved_by = NULL, notice_id = NULL,
               notice_ends_on = NULL, updated_at = now()
           WHERE county_code = $1 AND id = $2::uuid AND status = 'in_notice'""",
        objection["county_code"],
        source,
    )
    await record(
        conn,
        actor,
        county_code=objection["county_code"],
        action="distribution.objection_upheld",
        object_type="distribution",
        object_id=source,
        after={"status": "draft", "reason": reason},
    )


DISTRIBUTION_OBJECTION_HOOKS = ObjectionHooks(filed=_objection_filed, resolved=_objection_resolved)


ROUTES = [DistributionController]
