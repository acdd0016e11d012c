"""Ventures (经营主体), members, the share register (股权登记簿), member accounts, subsidies, trades:
the JSON API over service/ventures/workflow.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from schemas.common import Created, Page
from schemas.ventures import (
    MemberAccount,
    MemberCreate,
    MemberOut,
    ReallocationConfirm,
    ReallocationOut,
    Register,
    ShareMovementCreate,
    ShareMovementItem,
    ShareMovementOut,
    SubsidyCreate,
    SubsidyOut,
    TradeCreate,
    TradeOut,
    VentureCreate,
    VentureOut,
)
from service.core.audit import Actor
from service.core.auth import VENTURE_READERS, VENTURE_WRITERS
from service.core.clock import Clock
from service.core.downloads import XLSX, file_response
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.core.tabular import template_xlsx
from service.core.uploads import UPLOAD, read_upload
from service.ventures import workflow
from service.ventures.sheets import TRADE_SHEET


@dataclass
class FileUpload:
    file: UploadFile
    new_batch: str | None = None  # true/false (also 1/0, yes/no, on, 是/否): read by Upload.new_batch


class VentureController(Controller):
    path = "/ventures"
    tags = ["ventures"]

    @post("/", guards=[VENTURE_WRITERS], operation_id="create_venture")
    async def create_venture(
        self, request: Request, data: VentureCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> VentureOut:
            return await workflow.create_venture(tx, actor, principal, data)

        return await run_idempotent(request, conn, principal, work)

    @get("/", guards=[VENTURE_READERS], operation_id="list_ventures")
    async def list_ventures(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        village_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        model: Annotated[str | None, Parameter(pattern=r"^(branch_company|cooperative|enterprise)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[VentureOut]:
        return await workflow.list_ventures(
            conn, principal, village_code=village_code, model=model, limit=limit, cursor=cursor
        )

    @get("/{venture_id:str}", guards=[VENTURE_READERS], operation_id="get_venture")
    async def get_venture(self, venture_id: str, conn: asyncpg.Connection, principal: Principal) -> VentureOut:
        return await workflow.get_venture(conn, principal, venture_id)

    @post("/{venture_id:str}/members", guards=[VENTURE_WRITERS], operation_id="add_member")
    async def add_member(
        self, venture_id: str, data: MemberCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> MemberOut:
        async with conn.transaction():
            return await workflow.add_member(conn, actor, principal, venture_id, data)

    @get("/{venture_id:str}/members", guards=[VENTURE_READERS], operation_id="list_members")
    async def list_members(self, venture_id: str, conn: asyncpg.Connection, principal: Principal) -> list[MemberOut]:
        return await workflow.list_members(conn, principal, venture_id)

    @post("/{venture_id:str}/share-movements", guards=[VENTURE_WRITERS], operation_id="record_share_movement")
    async def record_movement(
        self,
        request: Request,
        venture_id: str,
        data: ShareMovementCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> ShareMovementOut:
            return await workflow.record_share_movement(tx, actor, principal, venture_id, data)

        return await run_idempotent(request, conn, principal, work)

    @get("/{venture_id:str}/register", guards=[VENTURE_READERS], operation_id="get_register")
    async def register(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        as_of: dt.date | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Register:
        return await workflow.register(conn, principal, venture_id, as_of, clock.today(), limit=limit, cursor=cursor)

    @get(
        "/{venture_id:str}/members/{member_id:str}/account", guards=[VENTURE_READERS], operation_id="get_member_account"
    )
    async def member_account(
        self,
        venture_id: str,
        member_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
    ) -> MemberAccount:
        return await workflow.member_account(conn, principal, venture_id, member_id, year, clock.today())

    @post("/{venture_id:str}/subsidies", guards=[VENTURE_WRITERS], operation_id="receive_subsidy")
    async def receive_subsidy(
        self,
        request: Request,
        venture_id: str,
        data: SubsidyCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> SubsidyOut:
            return await workflow.receive_subsidy(tx, actor, principal, venture_id, data)

        return await run_idempotent(request, conn, principal, work)

    @post("/{venture_id:str}/transactions", guards=[VENTURE_WRITERS], operation_id="record_trade")
    async def record_trade(
        self,
        request: Request,
        venture_id: str,
        data: TradeCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> TradeOut:
            return await workflow.record_trade(tx, actor, principal, venture_id, data)

        return await run_idempotent(request, conn, principal, work)

    @post(
        "/{venture_id:str}/transactions/import",
        guards=[VENTURE_WRITERS],
        operation_id="import_trades",
        opt=UPLOAD,
    )
    async def import_trades(
        self,
        request: Request,
        venture_id: str,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        """multipart/form-data: the sheet in `file`; `new_batch=true` imports rows imported before."""
        upload = await read_upload(request)

        async def work(tx: asyncpg.Connection) -> Created:
            return await workflow.import_trades(
                tx,
                actor,
                principal,
                venture_id,
                upload.content or b"",
                upload.filename,
                new_batch=upload.new_batch,
                today=clock.today(),
            )

        return await run_idempotent(request, conn, principal, work, upload=upload)

    @get(
        "/{venture_id:str}/transactions/import-template",
        guards=[VENTURE_WRITERS],
        operation_id="trades_import_template",
    )
    async def import_template(self, venture_id: str, conn: asyncpg.Connection, principal: Principal) -> Response[bytes]:
        """The trades sheet to fill in (xlsx, Chinese titles, one example row)."""
        await workflow.get_venture(conn, principal, venture_id)  # 404 outside the caller's ventures
        return file_response(template_xlsx(TRADE_SHEET), XLSX, "trades-template.xlsx", "交易导入模板.xlsx")

    @post(
        "/{venture_id:str}/reallocations/{proposal_id:str}/confirm",
        guards=[VENTURE_WRITERS],
        operation_id="confirm_reallocation",
    )
    async def confirm_reallocation(
        self,
        request: Request,
        venture_id: str,
        proposal_id: str,
        data: ReallocationConfirm,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> ReallocationOut:
            return await workflow.confirm_reallocation(tx, actor, principal, venture_id, proposal_id, data)

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @get("/{venture_id:str}/reallocations", guards=[VENTURE_READERS], operation_id="list_reallocations")
    async def list_reallocations(
        self, venture_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> list[ReallocationOut]:
        return await workflow.list_reallocations(conn, principal, venture_id)

    # ---- the lists of a venture (API.md, "Lists the console and clients need") ----

    @get("/{venture_id:str}/share-movements", guards=[VENTURE_READERS], operation_id="list_share_movements")
    async def share_movements(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        since: Annotated[dt.date | None, Parameter(query="from")] = None,
        until: Annotated[dt.date | None, Parameter(query="to")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ShareMovementItem]:
        return await workflow.list_share_movements(
            conn, principal, venture_id, since=since, until=until, limit=limit, cursor=cursor
        )

    @get("/{venture_id:str}/transactions", guards=[VENTURE_READERS], operation_id="list_trades")
    async def trades(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        member_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[TradeOut]:
        return await workflow.list_trades(
            conn, principal, venture_id, year=year, member_id=member_id, limit=limit, cursor=cursor
        )


ROUTES = [VentureController]
