"""The distribution workflow (API.md, Distributions): draft → submit → approve (公示) → post → reverse.

Thin controllers: each parses, guards by role, and calls one use case of
service/distributions/workflow.py in a transaction (money-moving POSTs through run_idempotent).
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from schemas.common import Page
from schemas.distributions import Approve, DistributionCreate, DistributionLine, DistributionOut, ReturnRequest
from service.core.audit import Actor
from service.core.auth import VENTURE_READERS, allow
from service.core.clock import Clock
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.core.settings import Settings
from service.distributions import workflow


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
        async def work(tx: asyncpg.Connection) -> DistributionOut:
            return await workflow.draft_distribution(
                tx,
                actor,
                principal,
                venture_id,
                data.fiscal_year,
                data.profit_fen,
                income_statement=data.income_statement,
            )

        return await run_idempotent(request, conn, principal, work)

    @get("/distributions/{distribution_id:str}", guards=[VENTURE_READERS], operation_id="get_distribution")
    async def get_one(self, distribution_id: str, conn: asyncpg.Connection, principal: Principal) -> DistributionOut:
        return await workflow.get_distribution(conn, principal, distribution_id)

    @get("/distributions/{distribution_id:str}/lines", guards=[VENTURE_READERS], operation_id="list_distribution_lines")
    async def lines(
        self,
        distribution_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[DistributionLine]:
        return await workflow.distribution_lines(conn, principal, distribution_id, limit, cursor)

    @post(
        "/distributions/{distribution_id:str}/submit",
        guards=[allow("accountant")],
        operation_id="submit_distribution",
        status_code=200,
    )
    async def submit(
        self, distribution_id: str, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> DistributionOut:
        async with conn.transaction():
            return await workflow.submit_distribution(conn, actor, principal, distribution_id)

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
        notice_days = data.notice_days if data else None
        async with conn.transaction():
            return await workflow.approve_distribution(
                conn, actor, principal, distribution_id, notice_days, settings, clock.today()
            )

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
        async def work(tx: asyncpg.Connection) -> DistributionOut:
            return await workflow.post_distribution(tx, actor, principal, distribution_id, clock.today())

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
        async def work(tx: asyncpg.Connection) -> DistributionOut:
            return await workflow.reverse_distribution(tx, actor, principal, distribution_id, clock.today())

        return await run_idempotent(request, conn, principal, work, status_code=200)

    # ---- the venture's plans (API.md, "Lists the console and clients need"), the township's return ----

    @get("/ventures/{venture_id:str}/distributions", guards=[VENTURE_READERS], operation_id="list_distributions")
    async def list_for_venture(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[DistributionOut]:
        return await workflow.list_venture_distributions(conn, principal, venture_id, limit=limit, cursor=cursor)

    @post(
        "/distributions/{distribution_id:str}/return",
        guards=[allow("township_approver")],
        operation_id="return_distribution",
        status_code=200,
    )
    async def return_plan(
        self, distribution_id: str, data: ReturnRequest, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> DistributionOut:
        async with conn.transaction():
            return await workflow.return_distribution(conn, actor, principal, distribution_id, data.reason)


ROUTES = [DistributionController]
