"""Regions, households, status events and poverty lines (API.md, Registry): thin controllers over
service/registry/workflow.py. Each write runs in one transaction opened here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from schemas.common import Created, Page
from schemas.registry import (
    HouseholdCreate,
    HouseholdOut,
    PovertyLineOut,
    PovertyLinePut,
    RegionOut,
    RegionPut,
    StatusEventCreate,
    StatusEventOut,
)
from service.core.audit import Actor
from service.core.auth import allow
from service.core.crypto import DataCipher
from service.core.downloads import XLSX, file_response
from service.core.hooks import Hooks
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.core.tabular import template_xlsx
from service.core.uploads import UPLOAD, read_upload
from service.registry import workflow
from service.registry.sheets import HOUSEHOLD_SHEET

REGISTRARS = allow("village_reviewer", "township_approver")
STAFF_READERS = allow(
    "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor", "accountant", "household"
)


@dataclass
class FileUpload:
    file: UploadFile
    new_batch: str | None = None  # true/false (also 1/0, yes/no, on, 是/否): read by Upload.new_batch


class RegionController(Controller):
    path = "/regions"
    tags = ["registry"]

    @put("/{code:str}", guards=[allow("admin")], operation_id="put_region")
    async def put_region(self, code: str, data: RegionPut, conn: asyncpg.Connection, actor: Actor) -> RegionOut:
        async with conn.transaction():
            return await workflow.put_region(conn, actor, code, data)

    @get("/", guards=[STAFF_READERS], operation_id="list_regions")
    async def list_regions(
        self,
        conn: asyncpg.Connection,
        parent_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        level: Annotated[str | None, Parameter(pattern=r"^(province|city|county|township|village)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[RegionOut]:
        return await workflow.list_regions(conn, parent_code=parent_code, level=level, limit=limit, cursor=cursor)

    @get("/{code:str}", guards=[STAFF_READERS], operation_id="get_region")
    async def get_region(self, code: str, conn: asyncpg.Connection) -> RegionOut:
        return await workflow.get_region(conn, code)


class HouseholdController(Controller):
    path = "/households"
    tags = ["registry"]

    @post("/", guards=[REGISTRARS], operation_id="create_household")
    async def create_household(
        self,
        data: HouseholdCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> HouseholdOut:
        async with conn.transaction():
            return await workflow.create_household(conn, actor, principal, cipher, data)

    @post("/import", guards=[REGISTRARS], operation_id="import_households", opt=UPLOAD)
    async def import_households(
        self,
        request: Request,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> Response:
        """multipart/form-data: the sheet in `file` (CSV or xlsx, columns by the API's names or
        the Chinese titles of the template); `new_batch=true` imports rows imported before."""
        upload = await read_upload(request)

        async def work(tx: asyncpg.Connection) -> Created:
            return await workflow.import_households(
                tx,
                actor,
                principal,
                cipher,
                content=upload.content or b"",
                filename=upload.filename,
                new_batch=upload.new_batch,
            )

        return await run_idempotent(request, conn, principal, work, upload=upload)

    @get("/import-template", guards=[REGISTRARS], operation_id="households_import_template")
    async def import_template(self) -> Response[bytes]:
        """The household sheet to fill in (xlsx): Chinese titles, ID and card columns as text."""
        return file_response(template_xlsx(HOUSEHOLD_SHEET), XLSX, "households-template.xlsx", "农户导入模板.xlsx")

    @get("/{household_id:str}", guards=[STAFF_READERS], operation_id="get_household")
    async def get_household(self, household_id: str, conn: asyncpg.Connection, principal: Principal) -> HouseholdOut:
        return await workflow.get_household(conn, principal, household_id)

    @get(
        "/",
        guards=[allow("village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor")],
        operation_id="list_households",
    )
    async def list_households(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        village_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        status: Annotated[str | None, Parameter(pattern=r"^(not_registered|poor|exited|xiaokang)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[HouseholdOut]:
        return await workflow.list_households(
            conn, principal, village_code=village_code, status=status, limit=limit, cursor=cursor
        )

    @post("/{household_id:str}/status-events", guards=[REGISTRARS], operation_id="record_status_event")
    async def record_status_event(
        self,
        household_id: str,
        data: StatusEventCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        hooks: Hooks,
    ) -> StatusEventOut:
        async with conn.transaction():
            return await workflow.record_status_event(conn, actor, principal, hooks, household_id, data)


class PovertyLineController(Controller):
    path = "/poverty-lines"
    tags = ["registry"]

    @put("/{year:int}", guards=[allow("admin")], operation_id="put_poverty_line")
    async def put_line(
        self,
        year: Annotated[int, Parameter(ge=2000, le=2100)],
        data: PovertyLinePut,
        conn: asyncpg.Connection,
        actor: Actor,
    ) -> PovertyLineOut:
        async with conn.transaction():
            return await workflow.put_poverty_line(conn, actor, year, data)

    @get("/{year:int}", guards=[STAFF_READERS], operation_id="get_poverty_line")
    async def get_line(
        self, year: Annotated[int, Parameter(ge=2000, le=2100)], conn: asyncpg.Connection
    ) -> PovertyLineOut:
        return await workflow.get_poverty_line(conn, year)


ROUTES = [RegionController, HouseholdController, PovertyLineController]
