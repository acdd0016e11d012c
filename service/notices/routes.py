"""Public notices (公示) and objections (异议) over HTTP: thin controllers over service.notices.workflow.

Reading a notice and filing an objection are public; listing and resolving objections are staff work.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from schemas.awards import NoticeSummary, ObjectionCreate, ObjectionOut, ObjectionResolve, PublicNotice
from schemas.common import Page
from service.core.audit import Actor
from service.core.auth import allow
from service.core.clock import Clock
from service.core.hooks import Hooks
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.core.settings import Settings
from service.notices import workflow

PUBLIC = {"exclude_from_auth": True}


class NoticeController(Controller):
    tags = ["notices"]

    @get(
        "/notices",
        operation_id="list_notices",
        guards=[allow("village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor")],
    )
    async def list_notices(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        county_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        kind: Annotated[str | None, Parameter(pattern=r"^(award|distribution)$")] = None,
        notice_state: Annotated[str | None, Parameter(query="state", pattern=r"^(upcoming|open|ended)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[NoticeSummary]:
        return await workflow.list_notices(
            conn,
            principal,
            clock.today(),
            county_code=county_code,
            kind=kind,
            state=notice_state,
            limit=limit,
            cursor=cursor,
        )

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
        return await workflow.public_notice(conn, settings, clock.today(), notice_id, limit=limit, cursor=cursor)

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
        address = request.client.host if request.client else None
        async with conn.transaction():
            return await workflow.file_objection(conn, hooks, clock.today(), notice_id, data, address)

    @get(
        "/notices/{notice_id:str}/objections",
        operation_id="list_objections",
        guards=[allow("township_approver", "village_reviewer", "finance_officer", "finance_approver", "auditor")],
    )
    async def list_objections(
        self, notice_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> list[ObjectionOut]:
        return await workflow.list_objections(conn, principal, notice_id)

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
        async with conn.transaction():
            return await workflow.resolve_objection(conn, actor, principal, hooks, objection_id, data)


ROUTES = [NoticeController]
