"""Order farming (订单农业) over HTTP: thin controllers over service/order_farming/workflow.py."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from schemas.common import Created, Page
from schemas.order_farming import (
    AdvanceCreate,
    AdvanceOut,
    ContractCreate,
    ContractOut,
    PurchaseCreate,
    PurchaseOut,
    ReversalOut,
    SettlementItem,
    SettlementRun,
    SettlementRunOut,
)
from service.core.audit import Actor
from service.core.auth import VENTURE_READERS, VENTURE_WRITERS, allow
from service.core.clock import Clock
from service.core.downloads import XLSX, file_response
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.core.tabular import template_xlsx
from service.core.uploads import UPLOAD, read_upload
from service.order_farming import workflow
from service.order_farming.sheets import PURCHASE_SHEET

SETTLEMENT_READERS = allow(
    "accountant", "auditor", "township_approver", "village_reviewer", "finance_officer", "finance_approver", "household"
)


class OrderFarmingController(Controller):
    path = "/"
    tags = ["order farming"]

    @post("/ventures/{venture_id:str}/contracts", guards=[VENTURE_WRITERS], operation_id="create_contract")
    async def create_contract(
        self,
        request: Request,
        venture_id: str,
        data: ContractCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> ContractOut:
            return await workflow.create_contract(tx, actor, principal, venture_id, data)

        return await run_idempotent(request, conn, principal, work)

    @get("/ventures/{venture_id:str}/contracts", guards=[VENTURE_READERS], operation_id="list_contracts")
    async def list_contracts(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        season_year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        household_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ContractOut]:
        return await workflow.list_contracts(
            conn, principal, venture_id, season_year=season_year, household_id=household_id, limit=limit, cursor=cursor
        )

    @get("/contracts/{contract_id:str}", guards=[VENTURE_READERS], operation_id="get_contract")
    async def get_contract(self, contract_id: str, conn: asyncpg.Connection, principal: Principal) -> ContractOut:
        return await workflow.get_contract(conn, principal, contract_id)

    @post("/contracts/{contract_id:str}/advances", guards=[VENTURE_WRITERS], operation_id="record_advance")
    async def record_advance(
        self,
        request: Request,
        contract_id: str,
        data: AdvanceCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> AdvanceOut:
            return await workflow.record_advance(tx, actor, principal, contract_id, data, clock.today())

        return await run_idempotent(request, conn, principal, work)

    @post("/contracts/{contract_id:str}/purchases", guards=[VENTURE_WRITERS], operation_id="record_purchase")
    async def record_purchase(
        self,
        request: Request,
        contract_id: str,
        data: PurchaseCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> PurchaseOut:
            return await workflow.record_purchase(tx, actor, principal, contract_id, data, clock.today())

        return await run_idempotent(request, conn, principal, work)

    @post(
        "/ventures/{venture_id:str}/purchases/import",
        guards=[VENTURE_WRITERS],
        operation_id="import_purchases",
        opt=UPLOAD,
    )
    async def import_purchases(
        self,
        request: Request,
        venture_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        """multipart/form-data with the sheet in `file` (CSV or xlsx); `new_batch=true` imports
        rows imported before."""
        upload = await read_upload(request)
        today = clock.today()

        async def work(tx: asyncpg.Connection) -> Created:
            return await workflow.import_purchases(
                tx, actor, principal, venture_id, upload.content, upload.filename, today, new_batch=upload.new_batch
            )

        return await run_idempotent(request, conn, principal, work, upload=upload)

    @get(
        "/ventures/{venture_id:str}/purchases/import-template",
        guards=[VENTURE_WRITERS],
        operation_id="purchases_import_template",
    )
    async def import_template(self, venture_id: str, conn: asyncpg.Connection, principal: Principal) -> Response[bytes]:
        """The weighing station's sheet to fill in (xlsx, Chinese titles, one example row)."""
        await workflow.find_import_venture(conn, principal, venture_id)
        return file_response(template_xlsx(PURCHASE_SHEET), XLSX, "purchases-template.xlsx", "称重单导入模板.xlsx")

    @post("/ventures/{venture_id:str}/settlements", guards=[VENTURE_WRITERS], operation_id="settle_season")
    async def settle(
        self,
        request: Request,
        venture_id: str,
        data: SettlementRun,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> SettlementRunOut:
            return await workflow.settle_season(tx, actor, principal, venture_id, data.season_year, clock.today())

        return await run_idempotent(request, conn, principal, work)

    @get("/ventures/{venture_id:str}/settlements", guards=[VENTURE_READERS], operation_id="list_settlements")
    async def list_settlements(
        self,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        season_year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[SettlementItem]:
        return await workflow.list_settlements(
            conn, principal, venture_id, season_year=season_year, limit=limit, cursor=cursor
        )

    @get("/settlements/{settlement_id:str}", guards=[SETTLEMENT_READERS], operation_id="get_settlement")
    async def get_settlement(
        self, settlement_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> SettlementItem:
        return await workflow.get_settlement(conn, principal, settlement_id)

    @post("/settlements/{settlement_id:str}/reverse", guards=[VENTURE_WRITERS], operation_id="reverse_settlement")
    async def reverse(
        self,
        request: Request,
        settlement_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> ReversalOut:
            return await workflow.reverse_settlement(tx, actor, principal, settlement_id, clock.today())

        return await run_idempotent(request, conn, principal, work, status_code=200)


ROUTES = [OrderFarmingController]
