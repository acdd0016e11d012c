"""The public notice (公示) as anyone reads it on a phone, and the form to object to one subject;
and in the staff console, the notices of the reader's region, each as the public sees it (with its
print for the village board), its objections as they arrive, and the township's resolution of
each (upheld or not, with a reason) with what that released or held."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from schemas.awards import ObjectionCreate, ObjectionOut, ObjectionResolve, PublicNotice
from service.awards.workflow import get_application
from service.console.forms import Form
from service.console.layout import DONE_WORDS, Desk
from service.console.layout import render as console_render
from service.console.layout import see_other as console_see_other
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, listing, table_page
from service.core.clock import Clock
from service.core.errors import DomainError, NotFound
from service.core.hooks import Hooks
from service.core.intake import CONTROL, LINE_CONTROL, control_character_error
from service.core.pages import PAGE, client_address, cross_site, error_page, refuse_cross_site, render
from service.core.principal import Role
from service.core.problems import status_of
from service.core.settings import Settings
from service.notices.rules import NOTICE_TITLES, resolution_effect
from service.notices.workflow import (
    file_objection,
    list_notices,
    list_objections,
    open_objections_for,
    public_notice,
    resolve_objection,
    staff_notice,
    subjects_named,
)

NOTICE_PAGE_SIZE = 100
FORM_INCOMPLETE = "请选择对哪一户有异议，并写明理由（不超过 2000 字）。"
UNREADABLE = "异议里有无法识别的字符，已经删去，请核对后重新提交。"


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
    if control_character_error("subject_id", subject_id) or control_character_error("reason", reason):
        # Shown again without the unreadable characters: the objector need not write it twice.
        again = {"subject_id": LINE_CONTROL.sub("", subject_id), "reason": CONTROL.sub("", reason)}
        return await _notice_page(notice_id, conn, clock, settings, cursor, status_code=400, error=UNREADABLE, **again)
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


# ---- the console: notices of the reader's region and their objections -----------------------------

CONSOLE_NOTICES = "/console/notices"
STATE_WORDS = {"upcoming": "未开始", "open": "公示中", "ended": "已结束"}
KIND_WORDS = {"award": "奖励名单", "distribution": "收益分配方案"}
OBJECTION_WORDS = {"open": "待处理", "upheld": "异议成立", "dismissed": "异议不成立"}
DONE_WORDS.update({"objection-resolved": "异议已处理。"})
NOTICE_COLUMNS = [
    Column("title", "公示", "link"),
    Column("kind", "类别"),
    Column("starts_on", "开始", "date"),
    Column("ends_on", "截止", "date"),
    Column("state", "状态"),
    Column("subjects", "公示对象数", "count"),
    Column("open_objections", "未处理异议", "count"),
]


@console_get(CONSOLE_NOTICES)
async def console_notices_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "notices"
    kind = desk.query.get("kind") if desk.query.get("kind") in KIND_WORDS else None
    state = desk.query.get("state") if desk.query.get("state") in STATE_WORDS else None

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await list_notices(
            conn, desk.principal, desk.today, county_code=None, kind=kind, state=state, limit=limit, cursor=cursor
        )
        return [
            {
                "title": (n.title, f"{CONSOLE_NOTICES}/{n.id}"),
                "kind": KIND_WORDS.get(n.kind, n.kind),
                "starts_on": n.starts_on,
                "ends_on": n.ends_on,
                "state": STATE_WORDS.get(n.state, n.state),
                "subjects": n.subjects,
                "open_objections": n.open_objections,
            }
            for n in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, NOTICE_COLUMNS, title="公示", filename="notices", empty="没有公示")
    return table_page(
        desk, table, "console/notices.html", kinds=list(KIND_WORDS.items()), states=list(STATE_WORDS.items())
    )


async def _effects(
    conn: asyncpg.Connection, desk: Desk, notice: PublicNotice, objections: list[ObjectionOut]
) -> dict[str, str]:
    """What each objection held, or its resolution released or held, by objection id."""
    still_open = await open_objections_for(conn, notice.id)
    effects = {}
    for o in objections:
        if notice.kind == "award":
            others = sum(1 for x in still_open if x["subject_id"] == o.subject_id and str(x["id"]) != o.id)
            try:
                subject_status: str | None = (await get_application(conn, desk.principal, o.subject_id)).status
            except DomainError:
                subject_status = None
        else:
            others = sum(1 for x in still_open if str(x["id"]) != o.id)
            subject_status = None
        effects[o.id] = resolution_effect(notice.kind, o.status, subject_status, others)
    return effects


async def _console_notice_page(
    desk: Desk, conn: asyncpg.Connection, settings: Settings, notice_id: str, form: Form, status: int = 200
) -> Response:
    desk.section = "notices"
    cursor = desk.query.get("cursor") or None
    notice = await staff_notice(
        conn, desk.principal, settings, desk.today, notice_id, limit=NOTICE_PAGE_SIZE, cursor=cursor
    )
    objections = await list_objections(conn, desk.principal, notice_id)
    subjects = await subjects_named(conn, desk.principal, notice_id, [o.subject_id for o in objections])
    return console_render(
        desk,
        "console/notice.html",
        status,
        notice=notice,
        kind_words=KIND_WORDS.get(notice.kind, NOTICE_TITLES.get(notice.kind, "")),
        state_words=STATE_WORDS[notice.state],
        objections=objections,
        subjects=subjects,
        effects=await _effects(conn, desk, notice, objections),
        objection_words=OBJECTION_WORDS,
        can_resolve=desk.role in (Role.TOWNSHIP_APPROVER, Role.ADMIN),
        form=form,
    )


@console_get(f"{CONSOLE_NOTICES}/{{notice_id:str}}")
async def console_notice_page(desk: Desk, conn: asyncpg.Connection, settings: Settings, notice_id: str) -> Response:
    return await _console_notice_page(desk, conn, settings, notice_id, Form({}))


@console_post("/console/objections/{objection_id:str}/resolve")
async def resolve_form(
    request: Request, desk: Desk, conn: asyncpg.Connection, settings: Settings, hooks: Hooks, objection_id: str
) -> Response:
    """The township upholds or dismisses an objection, with its reason."""
    form = Form(await form_of(request), {"upheld": "处理结果", "reason": "理由"})
    notice_id = form.get("notice_id")
    upheld = form.choice("upheld", {"yes": "异议成立", "no": "异议不成立"})
    reason = form.text("reason", max_length=2000)
    form.values["objection_id"] = objection_id
    if not form.ok or upheld is None or reason is None:
        return await _console_notice_page(desk, conn, settings, notice_id, form, 422)
    try:
        async with conn.transaction():
            await resolve_objection(
                conn, desk.actor, desk.principal, hooks, objection_id, ObjectionResolve(upheld == "yes", reason)
            )
    except DomainError as problem:
        form.take(problem)
        return await _console_notice_page(desk, conn, settings, notice_id, form, status_of(problem))
    return console_see_other(f"{CONSOLE_NOTICES}/{notice_id}", "objection-resolved")


PAGES = [notice_page, objection_form, console_notices_page, console_notice_page, resolve_form]
