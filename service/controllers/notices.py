"""Public notices (公示) and objections (异议): the one mechanism awards and distributions share.

A notice lists subjects (an award application, a distribution line), each naming a household,
from a start date to an end date. Anyone may read it and, while it runs, object to a subject; an
open objection holds that subject until the township resolves it. What "hold", "upheld" and
"dismissed" mean for the subject is the owning workflow's business: it registers hooks per kind
in OBJECTION_HOOKS, and asks open_objections_for() before it acts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from schemas.awards import NoticeItem, ObjectionCreate, ObjectionOut, ObjectionResolve, PublicNotice
from service.audit import Actor, record
from service.auth import allow
from service.clock import Clock
from service.errors import Problem, conflict, invalid_field, not_found
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.principal import Principal
from service.settings import Settings

NOTICE_KINDS = ("award", "distribution")
NOTICE_TITLES = {"award": "奖励名单公示", "distribution": "收益分配方案公示"}
PUBLIC = {"exclude_from_auth": True}
OBJECTIONS_PER_ADDRESS_PER_HOUR = 20

# A subject: (subject_id, household_id) or (subject_id, household_id, amount_fen).
Subject = tuple


@dataclass(frozen=True)
class ObjectionHooks:
    """What an objection does to the subject of one notice kind; both run in the caller's transaction."""

    filed: Callable[[asyncpg.Connection, Actor, asyncpg.Record], Awaitable[None]]
    resolved: Callable[[asyncpg.Connection, Actor, asyncpg.Record, bool, str], Awaitable[None]]


OBJECTION_HOOKS: dict[str, ObjectionHooks] = {}


def _uuid(value: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def open_notice(
    conn: asyncpg.Connection, actor: Actor, county_code: str, kind: str, source_id: str,
    subjects: Sequence[Subject], days: int, today: dt.date, *, title: str | None = None,
) -> asyncpg.Record:
    """Publish a notice from today to today + days, in the caller's transaction; returns its row."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    if days < 1:
        raise ValueError("a notice runs at least one day")
    if not subjects:
        raise ValueError("a notice needs at least one subject")
    notice_id = uuid.uuid4()
    row = await conn.fetchrow(
        """INSERT INTO notices (county_code, id, kind, source_id, title, starts_on, ends_on, published_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
        county_code, notice_id, kind, str(source_id), title or NOTICE_TITLES[kind], today,
        today + dt.timedelta(days=days), actor.name,
    )
    await conn.copy_records_to_table(
        "notice_subjects",
        records=[(county_code, notice_id, str(s[0]), _uuid(s[1]), s[2] if len(s) > 2 else None) for s in subjects],
        columns=["county_code", "notice_id", "subject_id", "household_id", "amount_fen"],
    )
    await record(conn, actor, county_code=county_code, action="notice.publish", object_type="notice",
                 object_id=str(notice_id), after=sorted(str(s[0]) for s in subjects),
                 detail={"kind": kind, "source_id": str(source_id), "subjects": len(subjects),
                         "starts_on": today.isoformat(), "ends_on": row["ends_on"].isoformat()})
    return row


async def open_objections_for(conn: asyncpg.Connection, notice_id: str | uuid.UUID) -> list[asyncpg.Record]:
    """The objections on a notice still waiting for the township, oldest first."""
    key = _uuid(notice_id)
    if key is None:
        return []
    return await conn.fetch(
        """SELECT o.* FROM notices n
           JOIN objections o ON o.county_code = n.county_code AND o.notice_id = n.id AND o.status = 'open'
           WHERE n.id = $1 ORDER BY o.created_at""",
        key,
    )


async def _notice(conn: asyncpg.Connection, notice_id: str) -> asyncpg.Record:
    key = _uuid(notice_id)
    row = key and await conn.fetchrow(
        """SELECT n.*, r.name AS county_name FROM notices n LEFT JOIN regions r ON r.code = n.county_code
           WHERE n.id = $1""", key)
    if not row:
        raise not_found("公示")
    return row


def _state(notice: asyncpg.Record, today: dt.date) -> str:
    if today < notice["starts_on"]:
        return "upcoming"
    return "open" if today <= notice["ends_on"] else "ended"


def objection_out(row: asyncpg.Record) -> ObjectionOut:
    return ObjectionOut(str(row["id"]), str(row["notice_id"]), row["subject_id"], row["status"], row["reason"],
                        row["filed_on"], row["resolution_reason"])


class NoticeController(Controller):
    tags = ["notices"]

    @get("/notices/{notice_id:str}", opt=PUBLIC, operation_id="get_notice")
    async def get_notice(
        self, notice_id: str, conn: asyncpg.Connection, clock: Clock, settings: Settings,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT, cursor: str | None = None,
    ) -> PublicNotice:
        n = await _notice(conn, notice_id)
        after = decode_cursor(cursor, 1)
        rows = await conn.fetch(
            """SELECT s.subject_id, s.amount_fen, h.household_no, h.head_name_masked, h.head_id_masked,
                      v.name AS village_name,
                      EXISTS (SELECT 1 FROM objections o WHERE o.county_code = s.county_code
                                AND o.notice_id = s.notice_id AND o.subject_id = s.subject_id
                                AND o.status = 'open') AS objection_open
               FROM notice_subjects s
               JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
               JOIN regions v ON v.code = h.village_code
               WHERE s.county_code = $1 AND s.notice_id = $2 AND ($3::text IS NULL OR h.household_no > $3)
               ORDER BY h.household_no LIMIT $4""",
            n["county_code"], n["id"], after[0] if after else None, limit + 1,
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["household_no"]])
        base = settings.public_base_url.rstrip("/")
        how = (f"公示期为 {n['starts_on'].isoformat()} 至 {n['ends_on'].isoformat()}。"
               "对名单中任何一户有异议的，请在公示期内向乡镇人民政府反映，或在网上提交异议"
               "（写明对象编号和理由）。有异议的户在核实处理前暂缓发放。")
        return PublicNotice(
            id=str(n["id"]), kind=n["kind"], title=n["title"], county_name=n["county_name"] or "",
            starts_on=n["starts_on"], ends_on=n["ends_on"], state=_state(n, clock.today()), how_to_object=how,
            objection_url=f"{base}/notices/{n['id']}/objections",
            items=[NoticeItem(r["subject_id"], r["head_name_masked"], r["head_id_masked"], r["village_name"],
                              r["amount_fen"], r["objection_open"]) for r in rows],
            next_cursor=next_cursor,
        )

    @post("/notices/{notice_id:str}/objections", opt=PUBLIC, operation_id="file_objection")
    async def file_objection(self, notice_id: str, data: ObjectionCreate, conn: asyncpg.Connection, clock: Clock,
                             request: Request) -> ObjectionOut:
        n = await _notice(conn, notice_id)
        today = clock.today()
        if _state(n, today) != "open":
            raise conflict("notice-not-open", f"只能在公示期内（{n['starts_on']} 至 {n['ends_on']}）提出异议")
        actor = Actor.of(request)
        recent = await conn.fetchval(
            "SELECT count(*) FROM objections WHERE filed_from = $1 AND created_at > now() - interval '1 hour'",
            actor.address)
        if recent >= OBJECTIONS_PER_ADDRESS_PER_HOUR:
            # Anyone may object, so one address must not be able to hold a whole list by flooding it.
            raise Problem(429, "too-many-objections", "异议提交过于频繁",
                          "同一网络一小时内提交的异议过多，请稍后再试，或到村委会、乡镇当面反映",
                          headers={"Retry-After": "3600"})
        async with conn.transaction():
            subject = await conn.fetchrow(
                "SELECT 1 FROM notice_subjects WHERE county_code = $1 AND notice_id = $2 AND subject_id = $3",
                n["county_code"], n["id"], data.subject_id)
            if subject is None:
                raise invalid_field("subject_id", "公示名单中没有该对象")
            row = await conn.fetchrow(
                """INSERT INTO objections (county_code, notice_id, subject_id, reason, filed_on, filed_from)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
                n["county_code"], n["id"], data.subject_id, data.reason, today, actor.address)
            hooks = OBJECTION_HOOKS.get(n["kind"])
            if hooks:
                await hooks.filed(conn, actor, row)
            await record(conn, actor, county_code=n["county_code"], action="objection.file", object_type="objection",
                         object_id=str(row["id"]), after={"notice_id": str(n["id"]), "subject_id": data.subject_id},
                         detail={"reason": data.reason})
        return objection_out(row)

    @get("/notices/{notice_id:str}/objections", operation_id="list_objections",
         guards=[allow("township_approver", "village_reviewer", "finance_officer", "finance_approver", "auditor")])
    async def list_objections(self, notice_id: str, conn: asyncpg.Connection,
                              principal: Principal) -> list[ObjectionOut]:
        n = await _notice(conn, notice_id)
        if not principal.covers_county(n["county_code"]):
            raise not_found("公示")
        rows = await conn.fetch(
            """SELECT o.*, h.village_code FROM objections o
               JOIN notice_subjects s ON s.county_code = o.county_code AND s.notice_id = o.notice_id
                                     AND s.subject_id = o.subject_id
               JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
               WHERE o.county_code = $1 AND o.notice_id = $2 ORDER BY o.created_at""",
            n["county_code"], n["id"])
        return [objection_out(r) for r in rows if principal.covers_region(r["village_code"])]

    @post("/objections/{objection_id:str}/resolve", guards=[allow("township_approver")],
          operation_id="resolve_objection", status_code=200)
    async def resolve(self, objection_id: str, data: ObjectionResolve, conn: asyncpg.Connection, actor: Actor,
                      principal: Principal) -> ObjectionOut:
        key = _uuid(objection_id)
        async with conn.transaction():
            row = key and await conn.fetchrow(
                """SELECT o.*, n.kind, h.village_code FROM objections o
                   JOIN notices n ON n.county_code = o.county_code AND n.id = o.notice_id
                   JOIN notice_subjects s ON s.county_code = o.county_code AND s.notice_id = o.notice_id
                                         AND s.subject_id = o.subject_id
                   JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
                   WHERE o.id = $1 FOR UPDATE OF o""", key)
            if not row or not principal.covers_region(row["village_code"]):
                raise not_found("异议")
            if row["status"] != "open":
                raise conflict("objection-resolved", "该异议已处理")
            status = "upheld" if data.upheld else "dismissed"
            updated = await conn.fetchrow(
                """UPDATE objections SET status = $3, resolution_reason = $4, resolved_by = $5,
                       resolved_at = clock_timestamp() WHERE county_code = $1 AND id = $2 RETURNING *""",
                row["county_code"], row["id"], status, data.reason, actor.name)
            hooks = OBJECTION_HOOKS.get(row["kind"])
            if hooks:
                await hooks.resolved(conn, actor, updated, data.upheld, data.reason)
            await record(conn, actor, county_code=row["county_code"], action=f"objection.{status}",
                         object_type="objection", object_id=str(row["id"]), before={"status": "open"},
                         after={"status": status}, detail={"reason": data.reason})
        return objection_out(updated)
