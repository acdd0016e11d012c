"""The console's trades (交易记录) of a venture: the list by year and member, one trade at a time,
and the weighing station's sheet uploaded whole (all rows or none, every bad row shown by row and
column), with a template to fill in."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response

from schemas.ventures import TradeCreate
from service.console.forms import Form
from service.console.layout import Desk, see_other
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, listing, table_page
from service.console.uploads import SheetColumn, Upload, new_batch_asked, refused, template_bytes, uploaded
from service.core.downloads import XLSX, file_response
from service.core.errors import DomainError
from service.core.pages import year_from_link
from service.ventures import workflow
from service.ventures.pages import BASE, member_names, open_venture

TRADE_COLUMNS = [
    Column("date", "交易日期", "date"),
    Column("member", "成员"),
    Column("product", "品名"),
    Column("quantity", "数量（公斤）", "kg"),
    Column("amount", "金额（元）", "yuan"),
]
# The sheet's columns, as the import reads them, and what a clerk writes in each.
SHEET: list[SheetColumn] = [
    ("member_no", "成员编号（非成员交易留空）", "1"),
    ("traded_on", "交易日期（YYYY-MM-DD）", "2025-06-01"),
    ("product", "品名", "鸡蛋"),
    ("quantity_g", "数量（克）", "500000"),
    ("amount_fen", "金额（分）", "5000000"),
]


def _year(desk: Desk) -> int | None:
    return year_from_link(desk.query.get("year"))


async def _trades_page(
    desk: Desk,
    conn: asyncpg.Connection,
    venture_id: str,
    form: Form,
    status: int = 200,
    upload: Upload | None = None,
) -> Any:
    await open_venture(desk, conn, venture_id, "trades")
    names = await member_names(conn, desk, venture_id)
    year, member = _year(desk), desk.query.get("member_id") or None
    if member not in names:
        member = None

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_trades(
            conn, desk.principal, venture_id, year=year, member_id=member, limit=limit, cursor=cursor
        )
        return [
            {
                "date": t.traded_on,
                "member": names.get(t.member_id or "", "（非成员）"),
                "product": t.product,
                "quantity": t.quantity_g,
                "amount": t.amount_fen,
            }
            for t in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, TRADE_COLUMNS, title="交易记录", filename="trades")
    return table_page(
        desk,
        table,
        "console/trades.html",
        status,
        form=form,
        members=list(names.items()),
        upload=upload or Upload(),
        sheet=SHEET,
    )


@console_get(f"{BASE}/{{venture_id:str}}/trades")
async def trades_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    return await _trades_page(desk, conn, venture_id, Form())


@console_post(f"{BASE}/{{venture_id:str}}/trades")
async def record_trade_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    form = Form(await form_of(request), {"quantity_g": "数量（公斤）", "amount_fen": "金额（元）"})
    day = form.date("traded_on")
    product = form.text("product", max_length=100)
    grams = form.kilograms("quantity_g")
    amount = form.yuan("amount_fen")
    data = form.build(
        TradeCreate,
        traded_on=day,
        product=product or "",
        quantity_g=grams or 0,
        amount_fen=amount or 0,
        member_id=form.get("member_id") or None,
    )
    if not form.ok or data is None:
        return await _trades_page(desk, conn, venture_id, form, 422)
    try:
        async with conn.transaction():
            await workflow.record_trade(conn, desk.actor, desk.principal, venture_id, data)
    except DomainError as problem:
        form.take(problem)
        return await _trades_page(desk, conn, venture_id, form, 422)
    return see_other(f"{BASE}/{venture_id}/trades", "trade-recorded")


@console_post(f"{BASE}/{{venture_id:str}}/trades/upload", upload=True)
async def upload_trades_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    sheet = await uploaded(request)
    if sheet is None:
        missing = Upload("请选择要上传的交易表（xlsx 或 CSV）。")
        return await _trades_page(desk, conn, venture_id, Form(), 422, missing)
    try:
        async with conn.transaction():
            created = await workflow.import_trades(
                conn,
                desk.actor,
                desk.principal,
                venture_id,
                *sheet,
                today=desk.today,
                new_batch=await new_batch_asked(request),
            )
    except DomainError as problem:
        return await _trades_page(desk, conn, venture_id, Form(), 422, refused(problem, SHEET))
    return see_other(f"{BASE}/{venture_id}/trades?imported={created.created}", "trades-imported")


@console_get(f"{BASE}/{{venture_id:str}}/trades/template.xlsx")
async def trades_template(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    await open_venture(desk, conn, venture_id, "trades")
    return file_response(template_bytes(SHEET, "交易表"), XLSX, "trades-template.xlsx", "交易表模板.xlsx")


PAGES = [trades_page, record_trade_form, upload_trades_form, trades_template]
