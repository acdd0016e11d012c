"""Health, the test clock and the audit log: thin controllers over service/system/workflow.py."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
from litestar import Controller, Response, get, put
from litestar.datastructures import State
from litestar.params import Parameter

from schemas.common import Page, Today
from schemas.system import AuditEntry, ClockOut, Health, Liveness, Readiness
from service.core.audit import Actor
from service.core.auth import allow, loopback_or_admin
from service.core.clock import Clock
from service.core.metrics import Metrics
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.system import workflow


class SystemController(Controller):
    tags = ["system"]

    @get("/health", opt={"exclude_from_auth": True}, operation_id="health")
    async def health(self, state: State, clock: Clock) -> Health:
        return await workflow.health(state.pool, clock.today())

    @get("/health/live", opt={"exclude_from_auth": True}, operation_id="health_live")
    async def live(self) -> Liveness:
        """The process answers (no database asked): restart it when this fails."""
        return Liveness("ok")

    @get("/health/ready", opt={"exclude_from_auth": True}, operation_id="health_ready")
    async def ready(self, state: State) -> Readiness:
        """The database answers and its migrations are current: send it traffic when this is 200."""
        return await workflow.readiness(state.pool)

    @get(
        "/metrics",
        opt={"exclude_from_auth": True},
        guards=[loopback_or_admin],
        operation_id="metrics",
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
    async def metrics(self, state: State) -> Response[str]:
        """Prometheus text: requests and latency by route template and status, pool use, memory."""
        metrics: Metrics = state.metrics
        return Response(
            workflow.metrics_text(metrics, state.pool), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    @get("/admin/clock", guards=[allow("admin")], operation_id="get_clock")
    async def get_clock(self, clock: Clock) -> ClockOut:
        return workflow.get_clock(clock)

    @put("/admin/clock", guards=[allow("admin")], operation_id="set_clock")
    async def set_clock(self, data: Today, clock: Clock, conn: asyncpg.Connection, actor: Actor) -> ClockOut:
        async with conn.transaction():
            return await workflow.set_clock(conn, actor, clock, data.today)

    @get("/audit-log", guards=[allow("auditor")], operation_id="list_audit_log")
    async def audit_log(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        since: dt.datetime | None = None,
        county_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AuditEntry]:
        return await workflow.audit_log(
            conn, principal, since=since, county_code=county_code, limit=limit, cursor=cursor
        )


ROUTES = [SystemController]
