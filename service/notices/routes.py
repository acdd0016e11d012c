"""Public notices (公示) and objections (异议): the one mechanism awards and distributions share.

A notice lists subjects (an award application, a distribution line), each naming a household,
from a start date to an end date. Anyone may read it and, while it runs, object to a subject; an
open objection holds that subject until the township resolves it. What "hold", "upheld" and
"dismissed" mean for the subject is the owning workflow's business: it registers hooks per kind
in OBJECTION_HOOKS, and asks open_objections_for() before it acts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from db.ids import as_uuid
from schemas.awards import NoticeItem, ObjectionCreate, ObjectionOut, ObjectionResolve, PublicNotice
from service.core.audit import Actor, record
from service.core.auth import allow
from service.core.clock import Clock
from service.core.errors import RateLimited, conflict, invalid_field, not_found
from service.core.hooks import Hooks
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.core.principal import Principal
from service.core.settings import Settings

PUBLIC = {"exclude_from_auth": True}
OBJECTIONS_PER_ADDRESS_PER_HOUR = 20


async def _notice(conn: asyncpg.Connection, notice_id: str) -> asyncpg.Record:
    key = as_uuid(notice_id)
    row = key and await conn.fetchrow(
        """SELECT n.*, r.name AS county_name FROM notices n LEFT JOIN regions r ON r.code = n.county_code
           WHERE n.id = $1""",
        key,
    )
    if not row:
        raise not_found("公示")
    return row


def _state(notice: asyncpg.Record, today: dt.date) -> str:
    if today < notice["starts_on"]:
        return "upcoming"
    return "open" if today <= notice["ends_on"] else "ended"


def objection_out(row: asyncpg.Record) -> ObjectionOut:
    return ObjectionOut(
        str(row["id"]),
        str(row["notice_id"]),
        row["subject_id"],
        row["status"],
        row["reason"],
        row["filed_on"],
        row["resolution_reason"],
    )


class NoticeController(Controller):
    tags = ["notices"]

    @get("/notices/{notice_id:str}", opt=PUBLIC, operation_id="get_notice")
    async def get_notice(
        self,
        notice_id: str,
        conn: asyncpg.Connection,
        clock: Clock,
        settings: Settings,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
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
            n["county_code"],
            n["id"],
            after[0] if after else None,
            limit + 1,
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["household_no"]])
        base = settings.public_base_url.rstrip("/")
        how = (
            f"公示期为 {n['starts_on'].isoformat()} 至 {n['ends_on'].isoformat()}。"
            "对名单中任何一户有异议的，请在公示期内向乡镇人民政府反映，或在网上提交异议"
            "（写明对象编号和理由）。有异议的户在核实处理前暂缓发放。"
        )
        return PublicNotice(
            id=str(n["id"]),
            kind=n["kind"],
            title=n["title"],
            county_name=n["county_name"] or "",
            starts_on=n["starts_on"],
            ends_on=n["ends_on"],
            state=_state(n, clock.today()),
            how_to_object=how,
            objection_url=f"{base}/notices/{n['id']}/objections",
            items=[
                NoticeItem(
                    r["subject_id"],
                    r["head_name_masked"],
                    r["head_id_masked"],
                    r["village_name"],
                    r["amount_fen"],
                    r["objection_open"],
                )
                for r in rows
            ],
            next_cursor=next_cursor,
        )

    @post("/notices/{notice_id:str}/objections", opt=PUBLIC, operation_id="file_objection")
    async def file_objection(
        self,
        notice_id: str,
        data: ObjectionCreate,
        conn: asyncpg.Connection,
        clock: Clock,
        request: Request,
        hooks: Hooks,
    ) -> ObjectionOut:
        n = await _notice(conn, notice_id)
        today = clock.today()
        if _state(n, today) != "open":
            raise conflict("notice-not-open", f"只能在公示期内（{n['starts_on']} 至 {n['ends_on']}）提出异议")
        actor = Actor.of(None, request.client.host if request.client else None)
        recent = await conn.fetchval(
            "SELECT count(*) FROM objections WHERE filed_from = $1 AND created_at > now() - interval '1 hour'",
            actor.address,
        )
        if recent >= OBJECTIONS_PER_ADDRESS_PER_HOUR:
            # Anyone may object, so one address must not be able to hold a whole list by flooding it.
            raise RateLimited(
                "同一网络一小时内提交的异议过多，请稍后再试，或到村委会、乡镇当面反映",
                slug="too-many-objections",
                retry_after_seconds=3600,
            )
        async with conn.transaction():
            subject = await conn.fetchrow(
                "SELECT 1 FROM notice_subjects WHERE county_code = $1 AND notice_id = $2 AND subject_id = $3",
                n["county_code"],
                n["id"],
                data.subject_id,
            )
            if subject is None:
                raise invalid_field("subject_id", "公示名单中没有该对象")
            row = await conn.fetchrow(
                """INSERT INTO objections (county_code, notice_id, subject_id, reason, filed_on, filed_from)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
                n["county_code"],
                n["id"],
                data.subject_id,
                data.reason,
                today,
                actor.address,
            )
            kind_hooks = hooks.objections.get(n["kind"])
            if kind_hooks:
                await kind_hooks.filed(conn, actor, row)
            await record(
                conn,
                actor,
                county_code=n["county_code"],
                action="objection.file",
                object_type="objection",
                object_id=str(row["id"]),
                after={"notice_id": str(n["id"]), "subject_id": data.subject_id},
                detail={"reason": data.reason},
            )
        return objection_out(row)

    @get(
        "/notices/{notice_id:str}/objections",
        operation_id="list_objections",
        guards=[allow("township_approver", "village_reviewer", "finance_officer", "finance_approver", "auditor")],
    )
    async def list_objections(
        self, notice_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> list[ObjectionOut]:
        n = await _notice(conn, notice_id)
        if not principal.covers_county(n["county_code"]):
            raise not_found("公示")
        rows = await conn.fetch(
            """SELECT o.*, h.village_code FROM objections o
               JOIN notice_subjects s ON s.county_code = o.county_code AND s.notice_id = o.notice_id
                                     AND s.subject_id = o.subject_id
               JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
               WHERE o.county_code = $1 AND o.notice_id = $2 ORDER BY o.created_at""",
            n["county_code"],
            n["id"],
        )
        return [objection_out(r) for r in rows if principal.covers_region(r["village_code"])]

    @post(
        "/objections/{objection_id:str}/resolve",
        guards=[allow("township_approver")],
        operation_id="resolve_objection",
        status_code=200,
    )
    async def resolve(
        self,
        objection_id: str,
        data: ObjectionResolve,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        hooks: Hooks,
    ) -> ObjectionOut:
        key = as_uuid(objection_id)
        async with conn.transaction():
            row = key and await conn.fetchrow(
                """SELECT o.*, n.kind, h.village_code FROM objections o
                   JOIN notices n ON n.county_code = o.county_code AND n.id = o.notice_id
                   JOIN notice_subjects s ON s.county_code = o.county_code AND s.notice_id = o.notice_id
                                         AND s.subject_id = o.subject_id
                   JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
                   WHERE o.id = $1 FOR UPDATE OF o""",
                key,
            )
            if not row or not principal.covers_region(row["village_code"]):
                raise not_found("异议")
            if row["status"] != "open":
                raise conflict("objection-resolved", "该异议已处理")
            status = "upheld" if data.upheld else "dismissed"
            updated = await conn.fetchrow(
                """UPDATE objections SET status = $3, resolution_reason = $4, resolved_by = $5,
                       resolved_at = clock_timestamp() WHERE county_code = $1 AND id = $2 RETURNING *""",
                row["county_code"],
                row["id"],
                status,
                data.reason,
                actor.name,
            )
            kind_hooks = hooks.objections.get(row["kind"])
            if kind_hooks:
                await kind_hooks.resolved(conn, actor, updated, data.upheld, data.reason)
            await record(
                conn,
                actor,
                county_code=row["county_code"],
                action=f"objection.{status}",
                object_type="objection",
                object_id=str(row["id"]),
                before={"status": "open"},
                after={"status": status},
                detail={"reason": data.reason},
            )
        return objection_out(updated)


ROUTES = [NoticeController]
