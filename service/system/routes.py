"""Health, the test clock and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, get, put
from litestar.datastructures import State
from litestar.params import Parameter

from schemas.common import Page, Today
from service.core.audit import GLOBAL_COUNTY, Actor, record
from service.core.auth import allow
from service.core.clock import Clock
from service.core.errors import Unavailable, forbidden
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.core.principal import Principal


class Health(msgspec.Struct):
    status: str
    database: str
    today: dt.date


class ClockOut(msgspec.Struct):
    today: dt.date
    movable: bool


class AuditEntry(msgspec.Struct):
    county_code: str
    seq: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before_digest: str | None
    after_digest: str | None
    detail: dict | None
    address: str | None
    hash: str


class SystemController(Controller):
    tags = ["system"]

    @get("/health", opt={"exclude_from_auth": True}, operation_id="health")
    async def health(self, state: State, clock: Clock) -> Health:
        try:
            async with state.pool.acquire(timeout=5) as conn:
                await conn.fetchval("SELECT 1")
        except Exception:  # any failure to reach the database makes the service unhealthy
            raise Unavailable("数据库无法连接", slug="unhealthy") from None
        return Health("ok", "ok", clock.today())

    @get("/admin/clock", guards=[allow("admin")], operation_id="get_clock")
    async def get_clock(self, clock: Clock) -> ClockOut:
        return ClockOut(clock.today(), clock.movable)

    @put("/admin/clock", guards=[allow("admin")], operation_id="set_clock")
    async def set_clock(self, data: Today, clock: Clock, conn: asyncpg.Connection, actor: Actor) -> ClockOut:
        if not clock.movable:
            raise forbidden("测试时钟未开启（需设置 HUINONG_TEST_CLOCK=1）")
        before = clock.today()
        async with conn.transaction():
            await record(
                conn,
                actor,
                county_code=GLOBAL_COUNTY,
                action="clock.set",
                object_type="clock",
                object_id="today",
                before={"today": before.isoformat()},
                after={"today": data.today.isoformat()},
                detail={"from": before.isoformat(), "to": data.today.isoformat()},
            )
            clock.pin(data.today)
        return ClockOut(clock.today(), clock.movable)

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
        if not principal.is_admin:
            own = (principal.region_code or "")[:6] + "000000"
            if county_code and county_code != own:
                raise forbidden("审计员只能查看本县审计日志")
            county_code = own
        after = decode_cursor(cursor, 2)
        rows = await conn.fetch(
            """SELECT * FROM audit_log
               WHERE ($1::char(12) IS NULL OR county_code = $1)
                 AND ($2::timestamptz IS NULL OR at >= $2)
                 AND ($3::char(12) IS NULL OR (county_code, seq) > ($3, $4::bigint))
               ORDER BY county_code, seq LIMIT $5""",
            county_code,
            since,
            after[0] if after else None,
            after[1] if after else None,
            limit + 1,
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["county_code"], r["seq"]])
        return Page(
            [
                AuditEntry(
                    r["county_code"],
                    r["seq"],
                    r["at"],
                    r["actor"],
                    r["action"],
                    r["object_type"],
                    r["object_id"],
                    r["before_digest"],
                    r["after_digest"],
                    r["detail"],
                    r["address"],
                    r["hash"],
                )
                for r in rows
            ],
            next_cursor,
        )


ROUTES = [SystemController]
