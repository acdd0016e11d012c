"""The landing page at /: what the service is, and the ways in (household login, staff console,
API documentation). Server-rendered, no script.

And the auditor's audit log in the console (审计日志): every change of the county, newest first,
filtered by who, what and when, with its hash chain verified on the page each time it is opened;
read only, from service/system/workflow.py.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from litestar import Response, get

from schemas.system import AuditEntry
from service.console.forms import Form, parse_date
from service.console.layout import Desk
from service.console.routing import console_get
from service.console.tables import Column, listing, table_page
from service.core.clock import CHINA_TZ
from service.core.pages import PAGE, render
from service.system.workflow import AuditFilter, audit_chain, search_audit_log

# What an action is called, by the kind of object it acts on (the log's actions are object.verb).
OBJECT_WORDS = {
    "advance": "赊销农资",
    "award_program": "奖励项目",
    "award_application": "奖励申请",
    "clock": "系统日期",
    "contract": "订单合同",
    "county": "县",
    "cross_check_import": "比对名单",
    "cross_check": "比对名单",
    "distribution": "分配方案",
    "household": "农户",
    "member": "成员",
    "notice": "公示",
    "objection": "异议",
    "payment_batch": "代发批次",
    "batch": "代发批次",
    "poverty_line": "标准线",
    "purchase": "收购",
    "reallocation": "贫困户股调整",
    "region": "区域",
    "settlement": "收购结算",
    "share_movement": "股权变动",
    "subsidy": "财政补助",
    "trade": "交易",
    "user": "用户",
    "venture": "经营主体",
}
AUDIT_COLUMNS = [
    Column("seq", "序号", "count"),
    Column("at", "时间"),
    Column("actor", "经办人"),
    Column("action", "操作"),
    Column("object", "对象"),
    Column("object_id", "对象编号"),
    Column("detail", "内容"),
    Column("address", "来源地址"),
]
FILTER_LABELS = {"actor": "经办人", "action": "操作", "object_type": "对象类别", "from": "起始日期", "to": "截止日期"}
DETAIL_CHARS = 300


@get("/", opt=PAGE, include_in_schema=False)
async def landing_page() -> Response:
    return render("home.html")


def _when(entry: AuditEntry) -> str:
    local = entry.at.astimezone(CHINA_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}"


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True) if entry.detail else ""
    return {
        "seq": entry.seq,
        "at": _when(entry),
        "actor": entry.actor,
        "action": entry.action,
        "object": OBJECT_WORDS.get(entry.object_type, entry.object_type),
        "object_id": entry.object_id,
        "detail": detail if len(detail) <= DETAIL_CHARS else detail[:DETAIL_CHARS] + "…",
        "address": entry.address or "",
    }


def audit_filter(desk: Desk) -> tuple[AuditFilter, Form]:
    """The filters of the query string, read as a form (a bad date is named next to its field)."""
    form = Form(desk.query, FILTER_LABELS)
    days = {}
    for name in ("from", "to"):
        days[name] = parse_date(form.get(name)) if form.get(name) else None
        if form.get(name) and days[name] is None:
            form.errors[name] = f"{FILTER_LABELS[name]}不是有效日期，请写成 2026-01-10 或 2026年1月10日"
    wanted = AuditFilter(
        actor=form.get("actor")[:100] or None,
        action=form.get("action")[:100] or None,
        object_type=form.get("object_type") if form.get("object_type") in OBJECT_WORDS else None,
        from_day=days["from"],
        to_day=days["to"],
    )
    return wanted, form


@console_get("/console/audit")
async def audit_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "audit"
    wanted, form = audit_filter(desk)
    county = desk.query.get("county") if desk.principal.is_admin else None

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        if form.errors:
            return [], None
        page = await search_audit_log(conn, desk.principal, wanted, county_code=county, limit=limit, cursor=cursor)
        return [audit_row(e) for e in page.items], page.next_cursor

    table = await listing(
        desk, fetch, AUDIT_COLUMNS, title="审计日志", filename="audit-log", empty="没有符合条件的记录"
    )
    return table_page(
        desk,
        table,
        "console/audit.html",
        422 if form.errors else 200,
        form=form,
        chain=await audit_chain(conn, desk.principal, county),
        object_types=sorted(OBJECT_WORDS.items(), key=lambda kv: kv[1]),
    )


PAGES = [landing_page, audit_page]
