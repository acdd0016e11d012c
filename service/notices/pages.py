"""The public notice (公示) as anyone reads it on a phone, and the form to object to one subject."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from schemas.awards import ObjectionCreate
from service.core.clock import Clock
from service.core.errors import DomainError, NotFound
from service.core.hooks import Hooks
from service.core.pages import PAGE, client_address, cross_site, error_page, refuse_cross_site, render
from service.core.problems import status_of
from service.core.settings import Settings
from service.notices.workflow import file_objection, public_notice

NOTICE_PAGE_SIZE = 100
FORM_INCOMPLETE = "请选择对哪一户有异议，并写明理由（不超过 2000 字）。"


async def _notice_page(
    notice_id: str, conn: asyncpg.Connection, clock: Clock, settings: Settings, cursor: str | None, **context: Any
) -> Response:
    try:
        notice = await public_notice(conn, settings, clock.today(), notice_id, limit=NOTICE_PAGE_SIZE, cursor=cursor)
    except DomainError as problem:
        return error_page(problem)
    context.setdefault("status_code", 200)
    context.setdefault("error", None)
    context.setdefault("subject_id", "")
    context.setdefault("reason", "")
    return render("notice.html", notice=notice, cursor=cursor, **context)


@get("/p/notices/{notice_id:str}", opt=PAGE, include_in_schema=False)
async def notice_page(
    notice_id: str,
    conn: asyncpg.Connection,
    clock: Clock,
    settings: Settings,
    cursor: str | None = None,
    subject: str | None = None,
) -> Response:
    return await _notice_page(notice_id, conn, clock, settings, cursor, subject_id=subject or "")


@post("/p/notices/{notice_id:str}/objections", opt=PAGE, include_in_schema=False, status_code=200)
async def objection_form(
    notice_id: str,
    request: Request,
    conn: asyncpg.Connection,
    clock: Clock,
    settings: Settings,
    hooks: Hooks,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response:
    if cross_site(request, settings):
        return refuse_cross_site()
    subject_id = (data.get("subject_id") or "").strip()
    reason = (data.get("reason") or "").strip()
    cursor = data.get("cursor") or None  # the page of the list the form was on
    again = {"subject_id": subject_id, "reason": reason}
    try:
        body = msgspec.convert({"subject_id": subject_id, "reason": reason}, ObjectionCreate)
    except msgspec.ValidationError:
        return await _notice_page(
            notice_id, conn, clock, settings, cursor, status_code=400, error=FORM_INCOMPLETE, **again
        )
    try:
        async with conn.transaction():
            objection = await file_objection(conn, hooks, clock.today(), notice_id, body, client_address(request))
    except NotFound as problem:
        return error_page(problem)
    except DomainError as problem:
        return await _notice_page(
            notice_id, conn, clock, settings, cursor, status_code=status_of(problem), error=problem.detail, **again
        )
    return render("objection_filed.html", objection=objection, notice_id=notice_id)


PAGES = [notice_page, objection_form]
