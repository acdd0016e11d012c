"""Award programmes over HTTP: thin controllers over service.awards.workflow.

Each handler parses, guards by role, calls one use case and answers; money-moving POSTs run it
under the request's Idempotency-Key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from schemas.awards import (
    ApplicationCreate,
    ApplicationOut,
    CrossCheckImportOut,
    DecisionCreate,
    GrantOut,
    GrantRequest,
    OpenProgramOut,
    ProgramCreate,
    ProgramOut,
    PublishOut,
    ReviewCreate,
    VerifyOut,
)
from schemas.common import Page
from service.awards import workflow
from service.awards.sheets import CROSS_CHECK_SHEET
from service.core.audit import Actor
from service.core.auth import allow
from service.core.clock import Clock
from service.core.crypto import DataCipher
from service.core.downloads import XLSX, file_response
from service.core.errors import invalid_field
from service.core.idempotency import run_idempotent
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.core.settings import Settings
from service.core.tabular import template_xlsx
from service.core.uploads import UPLOAD, read_upload

FINANCE = allow("finance_officer")
APPLICANTS = allow("village_reviewer", "household")
REVIEWERS = allow("village_reviewer", "township_approver")
STAFF = ("village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor")
READERS = allow(*STAFF)
CERTIFICATE_READERS = allow(*STAFF, "household")
PUBLIC = {"exclude_from_auth": True}


@dataclass
class CrossCheckUpload:
    file: UploadFile
    county_code: str | None = None
    new_batch: str | None = None  # true/false (also 1/0, yes/no, on, 是/否): read by Upload.new_batch


def _grant_request(body: bytes) -> GrantRequest:
    """An empty body grants every application due; otherwise only those named."""
    try:
        return msgspec.json.decode(body, type=GrantRequest) if body.strip() else GrantRequest()
    except msgspec.ValidationError as exc:
        raise invalid_field("application_ids", str(exc)) from None
    except msgspec.DecodeError:
        raise invalid_field("body", "请求体不是有效的 JSON") from None


class AwardController(Controller):
    tags = ["awards"]

    @post("/award-programs", guards=[FINANCE], operation_id="create_award_program")
    async def create_program(
        self,
        request: Request,
        data: ProgramCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        settings: Settings,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> ProgramOut:
            return await workflow.create_program(tx, actor, principal, settings, data)

        return await run_idempotent(request, conn, principal, work)

    @get("/award-programs", guards=[READERS], operation_id="list_award_programs")
    async def list_programs(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        kind: Annotated[str | None, Parameter(pattern=r"^(exit|xiaokang)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ProgramOut]:
        """A county's programmes, newest first, with their budgets by level and counts by status."""
        return await workflow.list_programs(
            conn, principal, county_code=county_code, year=year, kind=kind, limit=limit, cursor=cursor
        )

    @get("/award-programs/{program_id:str}", guards=[READERS], operation_id="get_award_program")
    async def get_program(self, program_id: str, conn: asyncpg.Connection, principal: Principal) -> ProgramOut:
        return await workflow.get_program(conn, principal, program_id)

    @post("/award-programs/{program_id:str}/applications", guards=[APPLICANTS], operation_id="apply_for_award")
    async def apply(
        self,
        request: Request,
        program_id: str,
        data: ApplicationCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> ApplicationOut:
            return await workflow.apply(tx, actor, principal, clock.today(), program_id, data, clock.now())

        return await run_idempotent(request, conn, principal, work)

    @get("/award-programs/{program_id:str}/applications", guards=[READERS], operation_id="list_award_applications")
    async def list_applications(
        self,
        program_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        status: Annotated[str | None, Parameter(pattern=r"^[a-z_]{1,30}$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ApplicationOut]:
        return await workflow.list_applications(conn, principal, program_id, status=status, limit=limit, cursor=cursor)

    @get("/applications/{application_id:str}", guards=[CERTIFICATE_READERS], operation_id="get_award_application")
    async def get_application(
        self, application_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> ApplicationOut:
        return await workflow.get_application(conn, principal, application_id)

    @post(
        "/applications/{application_id:str}/withdraw",
        guards=[allow("household")],
        operation_id="withdraw_award_application",
        status_code=200,
    )
    async def withdraw(
        self, application_id: str, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> ApplicationOut:
        async with conn.transaction():
            return await workflow.withdraw(conn, actor, principal, application_id)

    @get(
        "/households/{household_id:str}/award-programs",
        guards=[CERTIFICATE_READERS],
        operation_id="list_household_award_programs",
    )
    async def household_programs(
        self, household_id: str, conn: asyncpg.Connection, principal: Principal, clock: Clock
    ) -> Page[OpenProgramOut]:
        return await workflow.household_programs(conn, principal, clock.today(), household_id)

    @post("/applications/{application_id:str}/reviews", guards=[REVIEWERS], operation_id="review_award_application")
    async def review(
        self, application_id: str, data: ReviewCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> ApplicationOut:
        async with conn.transaction():
            return await workflow.review(conn, actor, principal, application_id, data)

    @post(
        "/applications/{application_id:str}/decisions",
        guards=[allow("township_approver")],
        operation_id="decide_held_application",
    )
    async def decide(
        self, application_id: str, data: DecisionCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> ApplicationOut:
        async with conn.transaction():
            return await workflow.decide(conn, actor, principal, application_id, data)

    @post(
        "/award-programs/{program_id:str}/notices",
        guards=[allow("township_approver", "finance_officer")],
        operation_id="publish_award_notice",
    )
    async def publish(
        self,
        request: Request,
        program_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        async def work(tx: asyncpg.Connection) -> PublishOut:
            return await workflow.publish(tx, actor, principal, clock.today(), program_id)

        return await run_idempotent(request, conn, principal, work)

    @post("/award-programs/{program_id:str}/grants", guards=[FINANCE], operation_id="grant_awards")
    async def grant(
        self,
        request: Request,
        program_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        wanted = _grant_request(await request.body())

        async def work(tx: asyncpg.Connection) -> GrantOut:
            return await workflow.grant(tx, actor, principal, clock.today(), program_id, wanted.application_ids)

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @post(
        "/cross-check-lists/import",
        guards=[allow("finance_officer")],
        operation_id="import_cross_check_list",
        opt=UPLOAD,
    )
    async def import_cross_check(
        self,
        request: Request,
        data: Annotated[CrossCheckUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> Response:
        """multipart/form-data: the list in `file` (身份证号, 来源), `county_code` for the admin;
        `new_batch=true` imports rows imported before."""
        upload = await read_upload(request)

        async def work(tx: asyncpg.Connection) -> CrossCheckImportOut:
            return await workflow.import_cross_check_list(
                tx,
                actor,
                principal,
                cipher,
                upload.content or b"",
                upload.filename,
                data.county_code,
                new_batch=upload.new_batch,
            )

        return await run_idempotent(request, conn, principal, work, upload=upload)

    @get("/cross-check-lists/import-template", guards=[allow("finance_officer")], operation_id="cross_check_template")
    async def import_template(self) -> Response[bytes]:
        """The cross-check list to fill in (xlsx; ID numbers as text, 来源 from a list)."""
        return file_response(
            template_xlsx(CROSS_CHECK_SHEET), XLSX, "cross-check-template.xlsx", "比对名单导入模板.xlsx"
        )

    @get("/certificates/{serial:str}", guards=[CERTIFICATE_READERS], operation_id="get_award_certificate")
    async def certificate(
        self, serial: str, conn: asyncpg.Connection, principal: Principal, settings: Settings
    ) -> Response:
        pdf, serial = await workflow.certificate_pdf(conn, principal, settings, serial)
        return Response(
            content=pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{serial}.pdf"'},
        )

    @get("/verify/{serial:str}", opt=PUBLIC, operation_id="verify_award_certificate")
    async def verify(self, serial: str, conn: asyncpg.Connection) -> VerifyOut:
        return await workflow.verify_certificate(conn, serial)


ROUTES = [AwardController]
