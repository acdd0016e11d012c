"""Use cases of the service itself: health, the data key's check, the test clock and the audit log's pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from db import system as q
from db.migrate import discover
from schemas.common import Page
from schemas.system import AuditEntry, ClockOut, Health, Readiness
from service.core.audit import GLOBAL_COUNTY, Actor, ChainBreak, record, verify_chain
from service.core.clock import CHINA_TZ, Clock
from service.core.crypto import ID_CONTEXT, DataCipher
from service.core.errors import Unavailable, forbidden, invalid_field
from service.core.metrics import Metrics, render
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


# The migrations this code was written against, read once: readiness compares the database's.
KNOWN_MIGRATIONS = frozenset(m.version for m in discover())


async def readiness(pool: asyncpg.Pool) -> Readiness:
    """ready when the database answers and no migration is pending; Unavailable (503) otherwise."""
    try:
        applied = await q.applied_migrations(pool)
    except Exception:  # unreachable, timed out or not migrated at all: not ready
        raise Unavailable("数据库无法连接或尚未建立表结构", slug="not-ready") from None
    pending = sorted(KNOWN_MIGRATIONS - applied)
    if pending:
        raise Unavailable(
            f"数据库尚有 {len(pending)} 个迁移未执行（python -m service migrate）", slug="migrations-pending"
        )
    return Readiness("ready", "ok", "current", pending)


def metrics_text(metrics: Metrics, pool: asyncpg.Pool) -> str:
    """The Prometheus text of the request counters plus the pool's use."""
    size, idle = pool.get_size(), pool.get_idle_size()
    return render(
        metrics,
        [
            ("huinong_db_pool_connections", "Connections the pool holds open.", size),
            ("huinong_db_pool_in_use", "Connections lent out to requests now.", size - idle),
            ("huinong_db_pool_max", "The most connections the pool opens.", pool.get_max_size()),
        ],
    )


class DataKeyMismatch(RuntimeError):
    """HUINONG_DATA_KEY is not the key the database's ID, card and phone numbers are sealed with."""


async def check_data_key(conn: asyncpg.Connection, cipher: DataCipher) -> None:
    """At start: the key must be the database's. The first start stores the key's check (a database
    that already holds sealed identities but no check, from before migration 0014, must open one of
    them with this key first); later starts compare. Raises DataKeyMismatch."""
    stored = await q.stored_key_check(conn)
    if stored is None:
        sealed = await q.one_sealed_identity(conn)
        if sealed is not None and not _opens(cipher, sealed):
            raise DataKeyMismatch(
                "HUINONG_DATA_KEY cannot decrypt the ID numbers in this database: it is not the key they were sealed with"
            )
        stored = await q.store_key_check(conn, cipher.key_check)
    if stored != cipher.key_check:
        raise DataKeyMismatch(
            "HUINONG_DATA_KEY does not match this database (its stored key check differs): "
            "start with the key the database was created with (kept with its backups)"
        )


def _opens(cipher: DataCipher, sealed: bytes) -> bool:
    try:
        cipher.decrypt(sealed, context=ID_CONTEXT)
    except Exception:  # InvalidTag (wrong key) or a malformed blob: either way not this key's
        return False
    return True


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
    if since is not None:
        _within_the_books("since", since.date())
    after = decode_cursor(cursor, str, int)
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


def _within_the_books(field: str, day: dt.date) -> None:
    """A day to filter the log by, within the years the service keeps books for (a year 1 or a
    9999-12-31 would overflow the moment it is turned into)."""
    if not 2000 <= day.year <= 2100:
        raise invalid_field(field, "日期应在 2000 年至 2100 年之间")


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
    for name, day in (("from", wanted.from_day), ("to", wanted.to_day)):
        if day is not None:
            _within_the_books(name, day)
    key = decode_cursor(cursor, str, int)
    rows = await q.audit_search(
        conn,
        county_code=county,
        actor=wanted.actor or None,
        action=wanted.action or None,
        object_type=wanted.object_type or None,
        since=_start_of(wanted.from_day) if wanted.from_day else None,
        until=_start_of(wanted.to_day + dt.timedelta(days=1)) if wanted.to_day else None,
        before=(key[0], key[1]) if key else None,
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
    breaks = await verify_chain(conn, county)  # the reader's county's chain only, not the province's
    return ChainStatus(await q.audit_count(conn, county), breaks)
