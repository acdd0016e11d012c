"""Use cases of the service itself: health, the test clock and the audit log's pages."""

from __future__ import annotations

import datetime as dt

import asyncpg

from db import system as q
from schemas.common import Page
from schemas.system import AuditEntry, ClockOut, Health
from service.core.audit import GLOBAL_COUNTY, Actor, record
from service.core.clock import Clock
from service.core.errors import Unavailable, forbidden
from service.core.pagination import decode_cursor, page_of
from service.core.policy import own_county
from service.core.principal import Principal


async def health(pool: asyncpg.Pool, today: dt.date) -> Health:
    """ok when the database answers; Unavailable (503) when it does not."""
    try:
        await q.ping(pool)
    except Exception:  # any failure to reach the database makes the service unhealthy
        raise Unavailable("数据库无法连接", slug="unhealthy") from None
    return Health("ok", "ok", today)


def get_clock(clock: Clock) -> ClockOut:
    return ClockOut(clock.today(), clock.movable)


async def set_clock(conn: asyncpg.Connection, actor: Actor, clock: Clock, today: dt.date) -> ClockOut:
    """Pin the service's today (admin, only with HUINONG_TEST_CLOCK=1), audited in the caller's transaction."""
    if not clock.movable:
        raise forbidden("测试时钟未开启（需设置 HUINONG_TEST_CLOCK=1）")
    before = clock.today()
    await record(
        conn,
        actor,
        county_code=GLOBAL_COUNTY,
        action="clock.set",
        object_type="clock",
        object_id="today",
        before={"today": before.isoformat()},
        after={"today": today.isoformat()},
        detail={"from": before.isoformat(), "to": today.isoformat()},
    )
    clock.pin(today)
    return ClockOut(clock.today(), clock.movable)


def _entry(r: asyncpg.Record) -> AuditEntry:
    return AuditEntry(
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


async def audit_log(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    since: dt.datetime | None,
    county_code: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    """A page of the audit log: an auditor reads its own county's, the admin any or all."""
    if not principal.is_admin:
        own = own_county(principal)
        if county_code and county_code != own:
            raise forbidden("审计员只能查看本县审计日志")
        county_code = own
    after = decode_cursor(cursor, 2)
    rows = await q.audit_page(
        conn,
        county_code=county_code,
        since=since,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    rows, next_cursor = page_of(rows, limit, lambda r: [r["county_code"], r["seq"]])
    return Page([_entry(r) for r in rows], next_cursor)
