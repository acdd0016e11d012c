"""The console's order farming (订单收购): contracts with households, advances of seed and
fertiliser on credit, purchases one by one or from the weighing station's sheet, and the season's
settlement showing each contract's gross, the advance deducted, the payable and what carries on.

Every action calls service/order_farming/workflow.py in a transaction, as the API does.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response

from schemas.order_farming import AdvanceCreate, ContractCreate, PurchaseCreate
from service.console.forms import Form
from service.console.layout import Desk, render, see_other
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, listing, table_page
from service.console.uploads import SheetColumn, Upload, new_batch_asked, refused, template_bytes, uploaded
from service.console.words import SETTLEMENT_STATUS_WORDS
from service.core.errors import DomainError
from service.core.pages import year_from_link
from service.order_farming import workflow
from service.order_farming.rules import PURCHASE_SHEET_COLUMNS
from service.ventures.pages import open_venture
from service.ventures.workflow import household_for_member, household_numbers

VENTURE = "/console/ventures/{venture_id:str}"
CONTRACT = "/console/contracts"

CONTRACT_COLUMNS = [
    Column("contract", "合同", "link"),
    Column("household", "户号"),
    Column("crop", "作物"),
    Column("season", "产季"),
    Column("contracted", "合同数量（公斤）", "kg"),
    Column("floor", "保护价（元/公斤）", "yuan"),
    Column("premium", "溢价", "percent"),
]
SETTLEMENT_COLUMNS = [
    Column("household", "户号"),
    Column("delivered", "交售（公斤）", "kg"),
    Column("gross", "收购金额（元）", "yuan"),
    Column("deducted", "扣回赊销（元）", "yuan"),
    Column("payable", "应付农户（元）", "yuan"),
    Column("carried", "结转下季的赊销（元）", "yuan"),
    Column("status", "状态"),
    Column("explanation", "说明"),
]
SHEET: list[SheetColumn] = [
    ("contract_id", "合同编号（合同页面上的完整编号）", "合同编号"),
    ("bought_on", "收购日期（YYYY-MM-DD）", "2025-10-15"),
    ("grade", "等级", "一等"),
    ("weight_g", "重量（克）", "1200000"),
    ("market_price_fen_per_kg", "市场价（分/公斤）", "1500"),
]
assert [key for key, _, _ in SHEET] == PURCHASE_SHEET_COLUMNS


def _season(desk: Desk) -> int | None:
    return year_from_link(desk.query.get("season"))


async def _contracts_page(
    desk: Desk, conn: asyncpg.Connection, venture_id: str, form: Form, status: int = 200, **extra: Any
) -> Any:
    await open_venture(desk, conn, venture_id, "farming")
    season = _season(desk)

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_contracts(
            conn, desk.principal, venture_id, season_year=season, household_id=None, limit=limit, cursor=cursor
        )
        numbers = await household_numbers(conn, desk.principal, venture_id, [c.household_id for c in page.items])
        return [
            {
                "contract": (c.id[:8], f"{CONTRACT}/{c.id}"),
                "household": numbers.get(c.household_id, ""),
                "crop": c.crop,
                "season": f"{c.season_year} 年",
                "contracted": c.contracted_g,
                "floor": c.floor_price_fen_per_kg,
                "premium": c.premium_bp,
            }
            for c in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, CONTRACT_COLUMNS, title="订单合同", filename="contracts")
    extra.setdefault("upload", Upload())
    return table_page(desk, table, "console/contracts.html", status, form=form, sheet=SHEET, **extra)


@console_get(f"{VENTURE}/contracts")
async def contracts_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    return await _contracts_page(desk, conn, venture_id, Form({"season_year": str(desk.today.year), "premium_bp": "0"}))


@console_post(f"{VENTURE}/contracts")
async def create_contract_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    form = Form(
        await form_of(request), {"contracted_g": "合同数量（公斤）", "floor_price_fen_per_kg": "保护价（元/公斤）"}
    )
    number = form.text("household_no", max_length=40)
    crop = form.text("crop", max_length=100)
    season = form.integer("season_year", minimum=2000, maximum=2100)
    grams = form.kilograms("contracted_g")
    floor = form.yuan("floor_price_fen_per_kg")
    premium = form.percent("premium_bp", required=False) or 0
    if not form.ok:
        return await _contracts_page(desk, conn, venture_id, form, 422)
    try:
        async with conn.transaction():
            household = await household_for_member(conn, desk.principal, venture_id, number or "")
            data = form.build(
                ContractCreate,
                household_id=household,
                crop=crop or "",
                season_year=season or 0,
                contracted_g=grams or 0,
                floor_price_fen_per_kg=floor or 0,
                premium_bp=premium,
            )
            if data is None:
                return await _contracts_page(desk, conn, venture_id, form, 422)
            await workflow.create_contract(conn, desk.actor, desk.principal, venture_id, data)
    except DomainError as problem:
        form.take(problem, {"household_id": "household_no"})
        return await _contracts_page(desk, conn, venture_id, form, 422)
    return see_other(f"/console/ventures/{venture_id}/contracts", "contract-created")


@console_post(f"{VENTURE}/purchases/upload", upload=True)
async def upload_purchases_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    sheet = await uploaded(request)
    if sheet is None:
        return await _contracts_page(desk, conn, venture_id, Form(), 422, upload=Upload("请选择要上传的称重单。"))
    try:
        async with conn.transaction():
            content, filename = sheet
            again = await new_batch_asked(request)
            await workflow.import_purchases(
                conn, desk.actor, desk.principal, venture_id, content, filename, desk.today, new_batch=again
            )
    except DomainError as problem:
        return await _contracts_page(desk, conn, venture_id, Form(), 422, upload=refused(problem, SHEET))
    return see_other(f"/console/ventures/{venture_id}/contracts", "purchases-imported")


@console_get(f"{VENTURE}/purchases/template.xlsx")
async def purchases_template(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    from service.core.downloads import XLSX, file_response

    await open_venture(desk, conn, venture_id, "farming")
    return file_response(template_bytes(SHEET, "称重单"), XLSX, "purchases-template.xlsx", "称重单模板.xlsx")


# ---- one contract: advances and purchases --------------------------------------------------------


async def _contract_page(desk: Desk, conn: asyncpg.Connection, contract_id: str, form: Form, status: int = 200) -> Any:
    contract = await workflow.get_contract(conn, desk.principal, contract_id)
    await open_venture(desk, conn, contract.venture_id, "farming")
    numbers = await household_numbers(conn, desk.principal, contract.venture_id, [contract.household_id])
    return render(
        desk,
        "console/contract.html",
        status,
        contract=contract,
        household_no=numbers.get(contract.household_id, ""),
        form=form,
    )


@console_get(f"{CONTRACT}/{{contract_id:str}}")
async def contract_page(desk: Desk, conn: asyncpg.Connection, contract_id: str) -> Response:
    return await _contract_page(desk, conn, contract_id, Form())


@console_post(f"{CONTRACT}/{{contract_id:str}}/advances")
async def advance_form(request: Request, desk: Desk, conn: asyncpg.Connection, contract_id: str) -> Response:
    form = Form(await form_of(request), {"amount_fen": "赊销金额（元）"})
    amount, day, item = form.yuan("amount_fen"), form.date("given_on"), form.text("item")
    if amount == 0:
        form.errors["amount_fen"] = "赊销金额应大于 0"
    data = form.build(AdvanceCreate, amount_fen=amount or 0, given_on=day, item=item or "") if form.ok else None
    if data is None:
        return await _contract_page(desk, conn, contract_id, form, 422)
    try:
        async with conn.transaction():
            await workflow.record_advance(conn, desk.actor, desk.principal, contract_id, data, desk.today)
    except DomainError as problem:
        form.take(problem)
        return await _contract_page(desk, conn, contract_id, form, 422)
    return see_other(f"{CONTRACT}/{contract_id}", "advance-recorded")


@console_post(f"{CONTRACT}/{{contract_id:str}}/purchases")
async def purchase_form(request: Request, desk: Desk, conn: asyncpg.Connection, contract_id: str) -> Response:
    form = Form(await form_of(request), {"weight_g": "重量（公斤）", "market_price_fen_per_kg": "市场价（元/公斤）"})
    day, grade = form.date("bought_on"), form.text("grade", max_length=50)
    grams, price = form.kilograms("weight_g"), form.yuan("market_price_fen_per_kg")
    if grams == 0:
        form.errors["weight_g"] = "重量应大于 0"
    values = {"bought_on": day, "grade": grade or "", "weight_g": grams or 0, "market_price_fen_per_kg": price or 0}
    data = form.build(PurchaseCreate, **values) if form.ok else None
    if data is None:
        return await _contract_page(desk, conn, contract_id, form, 422)
    try:
        async with conn.transaction():
            await workflow.record_purchase(conn, desk.actor, desk.principal, contract_id, data, desk.today)
    except DomainError as problem:
        form.take(problem)
        return await _contract_page(desk, conn, contract_id, form, 422)
    return see_other(f"{CONTRACT}/{contract_id}", "purchase-recorded")


# ---- the season's settlement ---------------------------------------------------------------------


async def _settlements_page(
    desk: Desk, conn: asyncpg.Connection, venture_id: str, status: int = 200, error: str | None = None
) -> Any:
    await open_venture(desk, conn, venture_id, "farming")
    season = _season(desk)

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_settlements(
            conn, desk.principal, venture_id, season_year=season, limit=limit, cursor=cursor
        )
        numbers = await household_numbers(conn, desk.principal, venture_id, [s.household_id for s in page.items])
        return [
            {
                "household": numbers.get(s.household_id, ""),
                "delivered": s.delivered_g,
                "gross": s.gross_fen,
                "deducted": s.advances_deducted_fen,
                "payable": s.payable_fen,
                "carried": s.advance_carried_fen,
                "status": SETTLEMENT_STATUS_WORDS.get(s.status, s.status),
                "explanation": s.explanation,
            }
            for s in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, SETTLEMENT_COLUMNS, title="收购结算", filename="settlements")
    keys = ("gross", "deducted", "payable", "carried")
    table.totals = {
        "household": "本页合计" if table.next_cursor else "合计",
        **{k: sum(r[k] for r in table.rows) for k in keys},
    }
    return table_page(desk, table, "console/settlements.html", status, season=season or desk.today.year, error=error)


@console_get(f"{VENTURE}/settlements")
async def settlements_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    return await _settlements_page(desk, conn, venture_id)


@console_post(f"{VENTURE}/settlements")
async def settle_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    form = Form(await form_of(request))
    season = form.integer("season_year", minimum=2000, maximum=2100)
    if season is None:
        return await _settlements_page(desk, conn, venture_id, 422, form.errors.get("season_year"))
    try:
        async with conn.transaction():
            await workflow.settle_season(conn, desk.actor, desk.principal, venture_id, season, desk.today)
    except DomainError as problem:
        return await _settlements_page(desk, conn, venture_id, 422, problem.detail)
    return see_other(f"/console/ventures/{venture_id}/settlements?season={season}", "settled")


PAGES = [
    contracts_page,
    create_contract_form,
    upload_purchases_form,
    purchases_template,
    contract_page,
    advance_form,
    purchase_form,
    settlements_page,
    settle_form,
]
