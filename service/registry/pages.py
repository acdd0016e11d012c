"""The household registry (农户档案) in the console: the households of the reader's region with
filters (village, status, 户号 or the head's full name), one household with its status events
(建档立卡, 脱贫, 返贫, 小康) and their dates and, year by year, its card (户有卡: holdings across
ventures, what it was owed and paid, its awards), a status event recorded, the card corrected (改卡) so a
failed payment can be issued again, and the household sheet imported whole with its template.

ID and card numbers appear only masked; a card number typed into the form is never shown back.
Recording and correcting are the registrars' (village, township, admin), as in the API.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response

from schemas.payments import BankAccountPut
from schemas.registry import StatusEventCreate
from service.console.forms import Form
from service.console.layout import DONE_WORDS, Desk, render, see_other
from service.console.places import region_names
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, listing, table_page
from service.console.uploads import SheetColumn, Upload, refused, uploaded
from service.core.crypto import DataCipher
from service.core.downloads import XLSX, file_response
from service.core.errors import DomainError, forbidden
from service.core.hooks import Hooks
from service.core.policy import can_register_in
from service.core.principal import Role
from service.core.problems import status_of
from service.core.tabular import template_xlsx
from service.payments.workflow import correct_card
from service.registry import workflow
from service.registry.sheets import HOUSEHOLD_SHEET
from service.reports.workflow import household_card

BASE = "/console/households"
REGISTRARS = (Role.VILLAGE_REVIEWER, Role.TOWNSHIP_APPROVER, Role.ADMIN)
READERS = (*REGISTRARS, Role.FINANCE_OFFICER, Role.FINANCE_APPROVER, Role.AUDITOR)

DONE_WORDS.update(
    {
        "event-recorded": "状态已登记。",
        "card-corrected": "银行卡已更正。失败的款项可由县财政重新发放。",
        "households-imported": "农户名册已导入。",
    }
)

HOUSEHOLD_STATUS_WORDS = {"not_registered": "未建档", "poor": "在册贫困户", "exited": "已脱贫", "xiaokang": "小康"}
EVENT_WORDS = {"registered": "建档立卡", "exited": "脱贫", "returned": "返贫", "xiaokang": "达到小康"}

HOUSEHOLD_COLUMNS = [
    Column("no", "户号", "link"),
    Column("head", "户主"),
    Column("village", "村"),
    Column("members", "家庭人口", "count"),
    Column("status", "状态"),
    Column("bank", "开户银行"),
    Column("card", "卡号"),
]
# What the import page lists of the household sheet: its column titles and what goes in each
# (no example values: the template's example ID would read as a full number on a page).
SHEET: list[SheetColumn] = [(column.titles[0], column.note or "", "") for column in HOUSEHOLD_SHEET.columns]
CARD_LABELS = {"bank_name": "开户银行", "bank_account": "银行卡号"}
EVENT_LABELS = {"kind": "状态", "year": "年度", "effective_date": "生效日期"}


def _reader(desk: Desk) -> None:
    if desk.role not in READERS:
        raise forbidden("无权查看农户档案")


async def _villages(conn: asyncpg.Connection, desk: Desk) -> list[tuple[str, str]]:
    villages = await workflow.villages_within(conn, desk.principal)
    return [(r.code, r.name) for r in villages if desk.principal.covers_region(r.code)]


@console_get(BASE)
async def households_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "households"
    _reader(desk)
    villages = await _villages(conn, desk)
    village = desk.query.get("village_code") or None
    village = village if village in dict(villages) else None
    status = desk.query.get("status") or None
    status = status if status in HOUSEHOLD_STATUS_WORDS else None
    find = desk.query.get("find") or None

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_households(
            conn, desk.principal, village_code=village, status=status, limit=limit, cursor=cursor, find=find
        )
        names = await region_names(conn, [h.village_code for h in page.items])
        return [
            {
                "no": (h.household_no, f"{BASE}/{h.id}"),
                "head": h.head_name,
                "village": names[h.village_code],
                "members": h.members,
                "status": HOUSEHOLD_STATUS_WORDS.get(h.status, h.status),
                "bank": h.bank_name,
                "card": h.bank_account,
            }
            for h in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, HOUSEHOLD_COLUMNS, title="农户档案", filename="households")
    return table_page(
        desk,
        table,
        "console/households.html",
        villages=villages,
        statuses=list(HOUSEHOLD_STATUS_WORDS.items()),
        registrar=desk.role in REGISTRARS,
    )


# ---- one household ---------------------------------------------------------------------------------


async def _household_page(
    desk: Desk,
    conn: asyncpg.Connection,
    household_id: str,
    status_code: int = 200,
    event_form: Form | None = None,
    card_form: Form | None = None,
) -> Response:
    desk.section = "households"
    _reader(desk)
    household = await workflow.get_household(conn, desk.principal, household_id)
    names = await region_names(conn, [household.village_code])
    events = await workflow.household_history(conn, desk.principal, household_id)
    card = await household_card(conn, desk.principal, household_id, None, desk.today)
    return render(
        desk,
        "console/household.html",
        status_code,
        household=household,
        village=names[household.village_code],
        status_words=HOUSEHOLD_STATUS_WORDS.get(household.status, household.status),
        events=events,
        event_words=EVENT_WORDS,
        card=card,
        registrar=can_register_in(desk.principal, household.village_code),
        event_form=event_form or Form({"year": str(desk.today.year)}, EVENT_LABELS),
        card_form=card_form or Form({"bank_name": household.bank_name}, CARD_LABELS),
        kinds=list(EVENT_WORDS.items()),
    )


@console_get(f"{BASE}/{{household_id:str}}")
async def household_page(desk: Desk, conn: asyncpg.Connection, household_id: str) -> Response:
    return await _household_page(desk, conn, household_id)


@console_post(f"{BASE}/{{household_id:str}}/status-events")
async def status_event_form(
    request: Request, desk: Desk, conn: asyncpg.Connection, hooks: Hooks, household_id: str
) -> Response:
    form = Form(await form_of(request), EVENT_LABELS)
    kind = form.choice("kind", EVENT_WORDS)
    year = form.integer("year", minimum=2000, maximum=2100)
    day = form.date("effective_date")
    data = form.build(StatusEventCreate, kind=kind, year=year or 0, effective_date=day) if form.ok else None
    if data is None:
        return await _household_page(desk, conn, household_id, 422, event_form=form)
    try:
        async with conn.transaction():
            await workflow.record_status_event(conn, desk.actor, desk.principal, hooks, household_id, data)
    except DomainError as problem:
        form.take(problem)
        return await _household_page(desk, conn, household_id, status_of(problem), event_form=form)
    return see_other(f"{BASE}/{household_id}", "event-recorded")


@console_post(f"{BASE}/{{household_id:str}}/bank-account")
async def card_form(
    request: Request, desk: Desk, conn: asyncpg.Connection, cipher: DataCipher, household_id: str
) -> Response:
    """改卡: the card the household is paid on; the number typed is never shown back on the page."""
    form = Form(await form_of(request), CARD_LABELS)
    bank_name = form.text("bank_name", max_length=100)
    number = form.text("bank_account", max_length=40)
    form.values.pop("bank_account", None)
    if not form.ok:
        return await _household_page(desk, conn, household_id, 422, card_form=form)
    try:
        async with conn.transaction():
            await correct_card(
                conn,
                desk.actor,
                desk.principal,
                cipher,
                household_id,
                BankAccountPut(bank_name=bank_name or "", bank_account=number or ""),
            )
    except DomainError as problem:
        form.values["bank_account"] = ""
        form.take(problem)
        return await _household_page(desk, conn, household_id, status_of(problem), card_form=form)
    return see_other(f"{BASE}/{household_id}", "card-corrected")


# ---- the import -------------------------------------------------------------------------------------


def _import_page(desk: Desk, status_code: int = 200, upload: Upload | None = None) -> Response:
    desk.section = "households"
    if desk.role not in REGISTRARS:
        raise forbidden("农户名册由村、乡镇经办人导入")
    return render(desk, "console/households_import.html", status_code, upload=upload or Upload(), sheet=SHEET)


@console_get(f"{BASE}/import")
async def import_page(desk: Desk) -> Response:
    return _import_page(desk)


@console_post(f"{BASE}/import", upload=True)
async def import_form(request: Request, desk: Desk, conn: asyncpg.Connection, cipher: DataCipher) -> Response:
    sheet = await uploaded(request)
    if sheet is None:
        return _import_page(desk, 422, Upload("请选择要上传的农户名册（xlsx 或 CSV）。"))
    form = Form(await form_of(request))
    try:
        async with conn.transaction():
            created = await workflow.import_households(
                conn,
                desk.actor,
                desk.principal,
                cipher,
                content=sheet[0],
                filename=sheet[1],
                new_batch=form.flag("new_batch"),
            )
    except DomainError as problem:
        columns = [(c.name, c.titles[0], "") for c in HOUSEHOLD_SHEET.columns]
        return _import_page(desk, status_of(problem), refused(problem, columns))
    return see_other(f"{BASE}?imported={created.created}", "households-imported")


@console_get(f"{BASE}/import/template.xlsx")
async def import_template(desk: Desk) -> Response:
    if desk.role not in REGISTRARS:
        raise forbidden("农户名册由村、乡镇经办人导入")
    return file_response(template_xlsx(HOUSEHOLD_SHEET), XLSX, "households-template.xlsx", "农户导入模板.xlsx")


PAGES = [
    households_page,
    import_page,
    import_form,
    import_template,
    household_page,
    status_event_form,
    card_form,
]
