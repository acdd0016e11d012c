"""The JSON API of payments: payables, payment batches, bank files, return imports (回盘),
reconciliation (对账) and card corrections. Thin controllers: each parses, guards by role and calls
one use case of service/payments/workflow.py; money-moving POSTs run it under run_idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from schemas.common import Page
from schemas.payments import (
    BankAccountPut,
    BatchCreate,
    BatchDetail,
    BatchOut,
    PayableOut,
    Reconciliation,
    ReturnResult,
)
from schemas.registry import HouseholdOut
from service.core.audit import Actor
from service.core.auth import allow
from service.core.clock import Clock
from service.core.crypto import DataCipher
from service.core.downloads import XLSX, file_response
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.core.tabular import template_xlsx
from service.core.uploads import UPLOAD, read_upload
from service.payments import workflow
from service.payments.bank_files import RETURN_SHEET

MAKERS = allow("finance_officer")
APPROVERS = allow("finance_approver")
FINANCE = allow("finance_officer", "finance_approver")
READERS = allow("finance_officer", "finance_approver", "auditor")
REGISTRARS = allow("village_reviewer", "township_approver")


@dataclass
class FileUpload:
    file: UploadFile


class PayableController(Controller):
    path = "/payables"
    tags = ["payments"]

    @get("/", guards=[READERS], operation_id="list_payables")
    async def list_payables(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str, Parameter(pattern=r"^[0-9]{12}$")],
        status: Annotated[str | None, Parameter(pattern=r"^(unpaid|in_batch|paid|cancelled)$")] = None,
        source: Annotated[str | None, Parameter(pattern=r"^(distribution|settlement|award)$")] = None,
        village_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        venture_id: str | None = None,
        program_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[PayableOut]:
        return await workflow.list_payables(
            conn,
            principal,
            county_code,
            status=status,
            source=source,
            village_code=village_code,
            venture_id=venture_id,
            program_id=program_id,
            limit=limit,
            cursor=cursor,
        )


class PaymentBatchController(Controller):
    path = "/payment-batches"
    tags = ["payments"]

    @post("/", guards=[MAKERS], operation_id="create_payment_batch")
    async def create_batch(
        self, request: Request, data: BatchCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        workflow.check_batch_request(principal, data)

        async def work(tx: asyncpg.Connection) -> BatchOut:
            return await workflow.build_batch(tx, actor, principal, data)

        return await run_idempotent(request, conn, principal, work)

    @get("/", guards=[READERS], operation_id="list_payment_batches")
    async def list_batches(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str, Parameter(pattern=r"^[0-9]{12}$")],
        status: Annotated[str | None, Parameter(pattern=r"^(draft|approved|cancelled|closed)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[BatchOut]:
        return await workflow.list_batches(conn, principal, county_code, status=status, limit=limit, cursor=cursor)

    @get("/{batch_id:str}", guards=[READERS], operation_id="get_payment_batch")
    async def get_batch(
        self,
        batch_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> BatchDetail:
        return await workflow.get_batch(conn, principal, batch_id, limit=limit, cursor=cursor)

    @post("/{batch_id:str}/approve", guards=[APPROVERS], operation_id="approve_payment_batch")
    async def approve(
        self, request: Request, batch_id: str, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        await workflow.find_batch(conn, principal, batch_id)

        async def work(tx: asyncpg.Connection) -> BatchOut:
            return await workflow.approve_batch(tx, actor, principal, batch_id)

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @post("/{batch_id:str}/cancel", guards=[FINANCE], operation_id="cancel_payment_batch")
    async def cancel(
        self, request: Request, batch_id: str, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> Response:
        await workflow.find_batch(conn, principal, batch_id)

        async def work(tx: asyncpg.Connection) -> BatchOut:
            return await workflow.cancel_batch(tx, actor, principal, batch_id)

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @get("/{batch_id:str}/bank-file", guards=[FINANCE], operation_id="get_bank_file")
    async def bank_file(
        self,
        batch_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
        profile: str = "pipe",
    ) -> Response:
        async with conn.transaction():
            file = await workflow.export_bank_file(conn, actor, principal, cipher, batch_id, profile)
        return Response(
            content=file.content,
            media_type=file.content_type,
            status_code=200,
            headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store"},
        )

    @post(
        "/{batch_id:str}/returns",
        guards=[FINANCE],
        operation_id="import_bank_return",
        opt=UPLOAD,
    )
    async def import_returns(
        self,
        request: Request,
        batch_id: str,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        """multipart/form-data: the bank's return file (回盘) in `file`. A file imported again
        changes nothing (each line settles at most once) and says so line by line."""
        upload = await read_upload(request)
        returned = await workflow.prepare_return(
            conn, principal, batch_id, upload.content or b"", upload.filename or "return"
        )
        today = clock.today()

        async def work(tx: asyncpg.Connection) -> ReturnResult:
            return await workflow.import_return(tx, actor, principal, returned, today=today)

        return await run_idempotent(request, conn, principal, work, upload=upload)

    @get("/{batch_id:str}/returns/import-template", guards=[FINANCE], operation_id="bank_return_template")
    async def return_template(self, batch_id: str) -> Response[bytes]:
        """A return file's columns (xlsx), the same for every batch: 序号 or 流水号, 金额, 状态 …"""
        return file_response(template_xlsx(RETURN_SHEET), XLSX, "bank-return-template.xlsx", "回盘导入模板.xlsx")

    @get("/{batch_id:str}/reconciliation", guards=[READERS], operation_id="reconcile_payment_batch")
    async def reconcile_batch(self, batch_id: str, conn: asyncpg.Connection, principal: Principal) -> Reconciliation:
        return await workflow.reconcile_batch(conn, principal, batch_id)


class ReconciliationController(Controller):
    path = "/reconciliation"
    tags = ["payments"]

    @get("/", guards=[READERS], operation_id="reconcile_county")
    async def reconcile_county(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str, Parameter(pattern=r"^[0-9]{12}$")],
    ) -> Reconciliation:
        return await workflow.reconcile_county(conn, principal, county_code)


class BankAccountController(Controller):
    """Correcting a household's card (改卡), so a failed payment can be re-issued in a new batch."""

    path = "/households"
    tags = ["payments"]

    @put("/{household_id:str}/bank-account", guards=[REGISTRARS], operation_id="put_household_bank_account")
    async def put_bank_account(
        self,
        household_id: str,
        data: BankAccountPut,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> HouseholdOut:
        async with conn.transaction():
            return await workflow.correct_card(conn, actor, principal, cipher, household_id, data)


ROUTES = [PayableController, PaymentBatchController, ReconciliationController, BankAccountController]
