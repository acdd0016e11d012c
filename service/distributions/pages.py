"""The console's year-end distribution (年度分配): a venture's plans, a draft computed from the
profit (waterfall and every holder's line with its explanation, before anything reaches the
books), submit, the township's approval or return, the public notice and its objections, posting
once the notice has ended, and reversal with a reason.

Every action calls service/distributions/workflow.py in a transaction, as the API does.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response

from schemas.distributions import DistributionOut
from service.console.forms import Form
from service.console.layout import Desk, count, render, see_other, yuan
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, listing, table_page, wants_xlsx, xlsx_answer
from service.console.words import BASIS_WORDS, PLAN_STATUS_WORDS
from service.core.errors import DomainError
from service.core.principal import Role
from service.core.settings import Settings
from service.distributions import workflow
from service.notices.workflow import list_notices, list_objections, open_objections_for
from service.ventures.pages import member_names, open_venture

PLAN = "/console/distributions"

PLAN_COLUMNS = [
    Column("year", "年度", "link"),
    Column("profit", "税后利润（元）", "yuan"),
    Column("total", "分配合计（元）", "yuan"),
    Column("lines", "明细行数", "count"),
    Column("status", "状态"),
]
LINE_COLUMNS = [
    Column("no", "行", "count"),
    Column("member", "成员"),
    Column("basis", "分配依据"),
    Column("weight", "计算基数", "figure"),
    Column("amount", "金额（元）", "yuan"),
    Column("explanation", "说明"),
]


def weight_words(basis: str, weight: int, share_days: bool) -> str:
    """What a line was weighed by: shares (or share-days) for dividends, yuan for the rest."""
    if basis == "shares":
        return f"{count(weight)} {'股·日' if share_days else '股'}"
    return f"{yuan(weight)} 元"


async def _plans_page(desk: Desk, conn: asyncpg.Connection, venture_id: str, form: Form, status: int = 200) -> Any:
    await open_venture(desk, conn, venture_id, "distributions")

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_venture_distributions(conn, desk.principal, venture_id, limit=limit, cursor=cursor)
        return [
            {
                "year": (f"{p.fiscal_year} 年", f"{PLAN}/{p.id}"),
                "profit": p.profit_fen,
                "total": p.lines_total_fen,
                "lines": p.lines_total,
                "status": PLAN_STATUS_WORDS.get(p.status, p.status),
            }
            for p in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, PLAN_COLUMNS, title="年度分配方案", filename="distributions")
    return table_page(desk, table, "console/distributions.html", status, form=form)


@console_get("/console/ventures/{venture_id:str}/distributions")
async def plans_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    return await _plans_page(desk, conn, venture_id, Form({"fiscal_year": str(desk.today.year - 1)}))


@console_post("/console/ventures/{venture_id:str}/distributions")
async def draft_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    form = Form(await form_of(request))
    year = form.integer("fiscal_year", minimum=2000, maximum=2100)
    profit = form.yuan("profit_fen", negative=True)
    if not form.ok:
        return await _plans_page(desk, conn, venture_id, form, 422)
    try:
        async with conn.transaction():
            plan = await workflow.draft_distribution(
                conn, desk.actor, desk.principal, venture_id, year or 0, profit or 0
            )
    except DomainError as problem:
        form.take(problem)
        return await _plans_page(desk, conn, venture_id, form, 422)
    return see_other(f"{PLAN}/{plan.id}", "draft-made")


# ---- one plan ------------------------------------------------------------------------------------


def _actions(desk: Desk, plan: DistributionOut) -> set[str]:
    """What the reader may do with the plan now."""
    keeper = desk.principal.covers_venture(plan.venture_id)
    approver = desk.role in (Role.TOWNSHIP_APPROVER, Role.ADMIN)
    can: set[str] = set()
    if keeper and plan.status == "draft":
        can.add("submit")
    if approver and plan.status == "submitted":
        can |= {"approve", "return"}
    if keeper and plan.status == "in_notice" and plan.notice_ends_on and desk.today > plan.notice_ends_on:
        can.add("post")
    if keeper and plan.status == "posted":
        can.add("reverse")
    return can


async def _objections(conn: asyncpg.Connection, desk: Desk, plan: DistributionOut) -> tuple[int, list[Any]]:
    """How many objections to the plan's notice are open, and those the reader may read in full."""
    if not plan.notice_id:
        return 0, []
    open_count = len(await open_objections_for(conn, plan.notice_id))
    readable = []
    if desk.role != Role.ACCOUNTANT:
        try:
            readable = await list_objections(conn, desk.principal, plan.notice_id)
        except DomainError:
            readable = []
    return open_count, readable


async def _plan_page(
    desk: Desk, conn: asyncpg.Connection, distribution_id: str, status: int = 200, error: str | None = None
) -> Any:
    plan = await workflow.get_distribution(conn, desk.principal, distribution_id)
    await open_venture(desk, conn, plan.venture_id, "distributions")
    names = await member_names(conn, desk, plan.venture_id)
    share_days = desk.venture.charter.weighting == "share_days"

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.distribution_lines(conn, desk.principal, distribution_id, limit, cursor)
        return [
            {
                "no": line.line_no,
                "member": names.get(line.member_id, ""),
                "basis": BASIS_WORDS.get(line.basis, line.basis),
                "weight": weight_words(line.basis, line.weight, share_days),
                "amount": line.amount_fen,
                "explanation": line.explanation,
            }
            for line in page.items
        ], page.next_cursor

    table = await listing(
        desk, fetch, LINE_COLUMNS, title=f"{plan.fiscal_year}年分配明细", filename="distribution-lines", page_size=100
    )
    table.totals = {"member": "合计", "amount": plan.lines_total_fen}
    if wants_xlsx(desk):
        return xlsx_answer(table, desk)
    open_count, objections = await _objections(conn, desk, plan)
    return render(
        desk,
        "console/distribution.html",
        status,
        plan=plan,
        table=table,
        can=_actions(desk, plan),
        open_objections=open_count,
        objections=objections,
        remarks=await workflow.plan_remarks(conn, desk.principal, distribution_id),
        error=error,
    )


@console_get(f"{PLAN}/{{distribution_id:str}}")
async def plan_page(desk: Desk, conn: asyncpg.Connection, distribution_id: str) -> Response:
    return await _plan_page(desk, conn, distribution_id)


async def _act(desk: Desk, conn: asyncpg.Connection, distribution_id: str, done: str, work: Any) -> Response:
    """Run one step of the plan in a transaction; a refusal shows the plan again with its reason."""
    try:
        async with conn.transaction():
            await work()
    except DomainError as problem:
        return await _plan_page(
            desk, conn, distribution_id, 409 if problem.slug != "validation" else 422, problem.detail
        )
    return see_other(f"{PLAN}/{distribution_id}", done)


@console_post(f"{PLAN}/{{distribution_id:str}}/submit")
async def submit_form(desk: Desk, conn: asyncpg.Connection, distribution_id: str) -> Response:
    async def work() -> None:
        await workflow.submit_distribution(conn, desk.actor, desk.principal, distribution_id)

    return await _act(desk, conn, distribution_id, "submitted", work)


@console_post(f"{PLAN}/{{distribution_id:str}}/approve")
async def approve_form(
    request: Request, desk: Desk, conn: asyncpg.Connection, settings: Settings, distribution_id: str
) -> Response:
    form = Form(await form_of(request))
    days = form.integer("notice_days", required=False, minimum=1, maximum=90)
    if not form.ok:
        return await _plan_page(desk, conn, distribution_id, 422, form.errors.get("notice_days"))

    async def work() -> None:
        await workflow.approve_distribution(
            conn, desk.actor, desk.principal, distribution_id, days, settings, desk.today
        )

    return await _act(desk, conn, distribution_id, "approved", work)


@console_post(f"{PLAN}/{{distribution_id:str}}/return")
async def return_form(request: Request, desk: Desk, conn: asyncpg.Connection, distribution_id: str) -> Response:
    reason = Form(await form_of(request)).get("reason")

    async def work() -> None:
        await workflow.return_distribution(conn, desk.actor, desk.principal, distribution_id, reason)

    return await _act(desk, conn, distribution_id, "returned", work)


@console_post(f"{PLAN}/{{distribution_id:str}}/post")
async def post_form(desk: Desk, conn: asyncpg.Connection, distribution_id: str) -> Response:
    async def work() -> None:
        await workflow.post_distribution(conn, desk.actor, desk.principal, distribution_id, desk.today)

    return await _act(desk, conn, distribution_id, "posted", work)


@console_post(f"{PLAN}/{{distribution_id:str}}/reverse")
async def reverse_form(request: Request, desk: Desk, conn: asyncpg.Connection, distribution_id: str) -> Response:
    reason = Form(await form_of(request)).get("reason")

    async def work() -> None:
        await workflow.reverse_distribution_for(conn, desk.actor, desk.principal, distribution_id, desk.today, reason)

    return await _act(desk, conn, distribution_id, "reversed", work)


# ---- the township's queue ------------------------------------------------------------------------


@console_get("/console/approvals")
async def approvals_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "approvals"
    queue = await workflow.awaiting_approval(conn, desk.principal)
    noticed = []
    if desk.role == Role.TOWNSHIP_APPROVER:
        page = await list_notices(
            conn,
            desk.principal,
            desk.today,
            county_code=None,
            kind="distribution",
            state="open",
            limit=100,
            cursor=None,
        )
        noticed = page.items
    return render(desk, "console/approvals.html", queue=queue, noticed=noticed)


PAGES = [
    plans_page,
    draft_form,
    plan_page,
    submit_form,
    approve_form,
    return_form,
    post_form,
    reverse_form,
    approvals_page,
]
