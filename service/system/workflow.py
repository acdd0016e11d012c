"""Use cases of the service itself: health, the test clock and the audit log's pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from db import system as q
from schemas.common import Page
from schemas.system import AuditEntry, ClockOut, Health
from service.core.audit import GLOBAL_COUNTY, Actor, ChainBreak, record, verify_chain
from service.core.clock import CHINA_TZ, Clock
from service.core.errors import Unavailable, forbidden
from service.core.pagination import decode_cursor, page_of
from service.core.policy import own_county
from service.core.principal import Principal, Role


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


# ---- the auditor's console: the log searched, and its chain verified -------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor looks for: who (part of the actor's name), what (an action or its start,
    e.g. award_application), of which kind of object, and when (days in China time, both included)."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    from_day: dt.date | None = None
    to_day: dt.date | None = None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA_TZ)


def _audit_county(principal: Principal, county_code: str | None) -> str | None:
    """The county a reader of the log may read: an auditor its own, the admin any (None: all)."""
    if principal.is_admin:
        return county_code
    if principal.role != Role.AUDITOR:
        raise forbidden("只有审计人员可以查看审计日志")
    own = own_county(principal)
    if county_code and county_code != own:
        raise forbidden("审计员只能查看本县审计日志")
    return own


async def search_audit_log(
    conn: asyncpg.Connection,
    principal: Principal,
    wanted: AuditFilter,
    *,
    county_code: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    """The audit log newest first, filtered by who, what and when."""
    county = _audit_county(principal, county_code)
    key = decode_cursor(cursor, 2)
    rows = await q.audit_search(
        conn,
        county_code=county,
        actor=wanted.actor or None,
        action=wanted.action or None,
        object_type=wanted.object_type or None,
        since=_start_of(wanted.from_day) if wanted.from_day else None,
        until=_start_of(wanted.to_day + dt.timedelta(days=1)) if wanted.to_day else None,
        before=(str(key[0]), int(key[1])) if key else None,
        limit=limit + 1,
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["county_code"], r["seq"]])
    return Page([_entry(r) for r in page], next_cursor)


@dataclass(frozen=True)
class ChainStatus:
    """The audit log's hash chain as verified now: how many rows it holds and where it breaks."""

    rows: int
    breaks: list[ChainBreak]

    @property
    def ok(self) -> bool:
        return not self.breaks


async def audit_chain(conn: asyncpg.Connection, principal: Principal, county_code: str | None = None) -> ChainStatus:
    """Every hash of the reader's county recomputed (`verify-audit` for one county)."""
    county = _audit_county(principal, county_code)
    breaks = [b for b in await verify_chain(conn) if county is None or b.county_code == county]
    return ChainStatus(await q.audit_count(conn, county), breaks)
