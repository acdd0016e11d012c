"""The county finance office's award programmes (奖励项目) in the console: the list, opening one
(amount, budget, province/city/county cost shares, notice days), its progress (how many applied,
at each stage, noticed, granted), its budget committed by level against each level's share with a
chart, its applications with the reason each stands where it does, the grant run (发放) and the
cross-check lists (比对名单) uploaded with their template.

Every action calls service/awards/workflow.py in a transaction, as the API does. A grant runs
synchronously and its page shows what it granted, what it held or set aside, and why.
"""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
from litestar import Request, Response

from schemas.awards import CostShares, GrantOut, ProgramCreate, ProgramOut
from service.awards import workflow
from service.awards.rules import KIND_WORDS, LEVELS
from service.awards.rules import SOURCE_WORDS as LIST_WORDS
from service.awards.sheets import CROSS_CHECK_SHEET
from service.console.forms import Form
from service.console.layout import DONE_WORDS, Desk, render, see_other
from service.console.places import region_names
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, listing, table_page, wants_xlsx, xlsx_answer
from service.console.uploads import SheetColumn, Upload, refused, uploaded
from service.core.crypto import DataCipher
from service.core.downloads import XLSX, file_response
from service.core.errors import DomainError, forbidden
from service.core.pages import year_from_link
from service.core.principal import Role, county_of
from service.core.problems import status_of
from service.core.settings import Settings
from service.core.tabular import template_xlsx
from service.documents.charts import Series, bar_chart

BASE = "/console/award-programs"
CROSS_CHECK = "/console/cross-check-lists"
GRANTERS = (Role.FINANCE_OFFICER, Role.ADMIN)
MAX_AMOUNT_FEN = 10**12  # ProgramCreate.amount_fen's bound

DONE_WORDS.update({"program-created": "奖励项目已设立，可以开始受理申请。"})

LEVEL_NAMES = {"province": "省级", "city": "市级", "county": "县级"}
# Where an application stands, as the finance office says it.
STATUS_WORDS = {
    "held": "待乡镇书面核实",
    "pending_village": "待村审核",
    "pending_township": "待乡镇审核",
    "approved": "待公示",
    "in_notice": "公示中",
    "objected": "公示中有异议",
    "over_budget": "预算不足，待追加",
    "granted": "已批准发放",
    "rejected": "未通过",
    "withdrawn": "农户已撤回",
}
# The programme's progress, stage by stage: (what the row says, the statuses it counts).
STAGES = (
    ("待村审核", ("pending_village",)),
    ("待乡镇核实（比对或资格存疑）", ("held",)),
    ("待乡镇审核", ("pending_township",)),
    ("待公示", ("approved",)),
    ("公示中（含有异议的）", ("in_notice", "objected")),
    ("预算不足，待追加预算", ("over_budget",)),
    ("已批准发放", ("granted",)),
    ("未通过", ("rejected",)),
    ("农户撤回", ("withdrawn",)),
)
NOTICED = ("in_notice", "objected", "over_budget", "granted")

PROGRAM_COLUMNS = [
    Column("name", "项目", "link"),
    Column("kind", "类别"),
    Column("year", "年度", "figure"),
    Column("amount", "每户金额（元）", "yuan"),
    Column("budget", "预算（元）", "yuan"),
    Column("committed", "已批准发放（元）", "yuan"),
    Column("remaining", "剩余（元）", "yuan"),
    Column("applied", "申请户数", "count"),
    Column("granted", "已批准户数", "count"),
]
APPLICATION_COLUMNS = [
    Column("household", "户主"),
    Column("village", "村"),
    Column("income", "申报人均纯收入（元）", "yuan"),
    Column("status", "状态"),
    Column("reason", "原因"),
    Column("serial", "证书编号"),
    Column("applied", "申请日期", "date"),
]
CROSS_CHECK_COLUMNS: list[SheetColumn] = [
    ("身份证号", "身份证号码，18位，按文本填写（不要写成数字，否则后几位会丢失）", ""),
    ("来源", "名单类别：车辆、工商/市场主体 或 财政供养", "车辆"),
]
PROGRAM_LABELS = {
    "amount": "每户奖励金额",
    "budget": "预算总额",
    "province_pct": "省级分担比例",
    "city_pct": "市级分担比例",
    "county_pct": "县级分担比例",
    "year": "年度",
    "opens_on": "受理开始日期",
    "closes_on": "受理截止日期",
}
PROGRAM_ALIASES = {
    "amount_fen": "amount",
    "budget_fen": "budget",
    "cost_shares": "province_pct",
    "cost_shares.province_bp": "province_pct",
    "cost_shares.city_bp": "city_pct",
    "cost_shares.county_bp": "county_pct",
}


def applied(counts: dict[str, int]) -> int:
    return sum(counts.values())


def progress_rows(program: ProgramOut) -> list[tuple[str, int]]:
    """How many applied, at each stage, noticed and granted."""
    counts = program.counts
    rows = [("申请户数（全部）", applied(counts))]
    rows += [(label, sum(counts.get(s, 0) for s in statuses)) for label, statuses in STAGES]
    rows.append(("经公示的户数", sum(counts.get(s, 0) for s in NOTICED)))
    return rows


def level_rows(program: ProgramOut) -> list[dict[str, Any]]:
    """Each level's share against what it has committed, and the programme's total."""
    rows: list[dict[str, Any]] = [
        {
            "level": LEVEL_NAMES[level],
            "share": program.by_level[level].share_bp,
            "budget": program.by_level[level].budget_fen,
            "committed": program.by_level[level].committed_fen,
            "remaining": program.by_level[level].remaining_fen,
        }
        for level in LEVELS
    ]
    rows.append(
        {
            "level": "合计",
            "share": 10_000,
            "budget": program.budget_fen,
            "committed": program.committed_fen,
            "remaining": program.remaining_fen,
        }
    )
    return rows


def budget_chart(program: ProgramOut) -> str:
    """The levels' budgets against what each has committed, as an SVG image for an <img>."""
    svg = bar_chart(
        "各级预算与已批准发放（元）",
        [LEVEL_NAMES[level] for level in LEVELS],
        [
            Series("预算", [program.by_level[level].budget_fen for level in LEVELS]),
            Series("已批准发放", [program.by_level[level].committed_fen for level in LEVELS]),
        ],
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


# ---- the list and a new programme ----------------------------------------------------------------


def _kind_filter(desk: Desk) -> str | None:
    kind = desk.query.get("kind") or None
    return kind if kind in KIND_WORDS else None


def _year_filter(desk: Desk) -> int | None:
    return year_from_link(desk.query.get("year"))


@console_get(BASE)
async def programs_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "awards"
    kind, year = _kind_filter(desk), _year_filter(desk)

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_programs(conn, desk.principal, year=year, kind=kind, limit=limit, cursor=cursor)
        return [
            {
                "name": (p.name, f"{BASE}/{p.id}"),
                "kind": KIND_WORDS.get(p.kind, p.kind),
                "year": str(p.year),
                "amount": p.amount_fen,
                "budget": p.budget_fen,
                "committed": p.committed_fen,
                "remaining": p.remaining_fen,
                "applied": applied(p.counts),
                "granted": p.counts.get("granted", 0),
            }
            for p in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, PROGRAM_COLUMNS, title="奖励项目", filename="award-programs")
    return table_page(
        desk, table, "console/award_programs.html", kinds=list(KIND_WORDS.items()), can_open=_may_open(desk)
    )


def _may_open(desk: Desk) -> bool:
    return desk.role in GRANTERS


def _officer(desk: Desk) -> None:
    """Opening a programme and importing a cross-check list are the county finance officer's (as in the API)."""
    if desk.role not in GRANTERS:
        raise forbidden("只有县财政经办人可以设立奖励项目和导入比对名单")


def _new_defaults(desk: Desk) -> dict[str, str]:
    return {
        "kind": "exit",
        "year": str(desk.today.year - 1),
        "notice_days": "7",
        "province_pct": "50",
        "city_pct": "30",
        "county_pct": "20",
    }


def _new_page(desk: Desk, form: Form, status_code: int = 200) -> Response:
    desk.section = "awards"
    _officer(desk)
    return render(desk, "console/award_program_new.html", status_code, form=form, kinds=list(KIND_WORDS.items()))


@console_get(f"{BASE}/new")
async def new_program_page(desk: Desk) -> Response:
    return _new_page(desk, Form(_new_defaults(desk), PROGRAM_LABELS))


def _program_body(desk: Desk, form: Form) -> ProgramCreate | None:
    kind = form.choice("kind", KIND_WORDS)
    year = form.integer("year", minimum=2000, maximum=2100)
    amount = form.yuan("amount")
    budget = form.yuan("budget")
    shares = {level: form.percent(f"{level}_pct") for level in LEVELS}
    days = form.integer("notice_days", minimum=1, maximum=90)
    name = form.text("name", required=False)
    opens_on, closes_on = form.date("opens_on", required=False), form.date("closes_on", required=False)
    if amount is not None and not 0 < amount <= MAX_AMOUNT_FEN:
        form.errors["amount"] = "每户奖励金额应大于 0，且不超过 100 亿元"
    if form.ok and sum(bp or 0 for bp in shares.values()) != 10_000:
        form.errors["province_pct"] = "省、市、县分担比例合计应为 100%"
    if not form.ok:
        return None
    return form.build(
        ProgramCreate,
        county_code=county_of(desk.principal.region_code or "") if not desk.principal.is_admin else form.get("county"),
        kind=kind,
        year=year or 0,
        amount_fen=amount or 0,
        budget_fen=budget or 0,
        cost_shares=CostShares(shares["province"] or 0, shares["city"] or 0, shares["county"] or 0),
        notice_days=days or 0,
        name=name,
        opens_on=opens_on,
        closes_on=closes_on,
    )


@console_post(BASE)
async def create_program_form(request: Request, desk: Desk, conn: asyncpg.Connection, settings: Settings) -> Response:
    _officer(desk)
    form = Form(await form_of(request), PROGRAM_LABELS)
    body = _program_body(desk, form)
    if body is None:
        return _new_page(desk, form, 422)
    try:
        async with conn.transaction():
            created = await workflow.create_program(conn, desk.actor, desk.principal, settings, body)
    except DomainError as problem:
        form.take(problem, PROGRAM_ALIASES)
        return _new_page(desk, form, 422)
    return see_other(f"{BASE}/{created.id}", "program-created")


# ---- one programme: progress, budget by level, applications, grants ------------------------------


async def _application_rows(conn: asyncpg.Connection, desk: Desk, program_id: str, status: str | None) -> Any:
    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_applications(
            conn, desk.principal, program_id, status=status, limit=limit, cursor=cursor
        )
        villages = await region_names(conn, [a.village_code for a in page.items])
        return [
            {
                "household": a.household_name,
                "village": villages[a.village_code],
                "income": a.declared_income_fen,
                "status": STATUS_WORDS.get(a.status, a.status),
                "reason": a.status_reason,
                "serial": a.certificate_serial or "",
                "applied": a.created_at.date() if a.created_at else None,
            }
            for a in page.items
        ], page.next_cursor

    return await listing(desk, fetch, APPLICATION_COLUMNS, title="申请", filename="award-applications")


async def _program_page(
    desk: Desk,
    conn: asyncpg.Connection,
    program_id: str,
    status_code: int = 200,
    run: GrantOut | None = None,
    error: str | None = None,
) -> Response:
    desk.section = "awards"
    program = await workflow.get_program(conn, desk.principal, program_id)
    status = desk.query.get("status") or None
    table = await _application_rows(conn, desk, program_id, status if status in STATUS_WORDS else None)
    if wants_xlsx(desk):
        return xlsx_answer(table, desk)
    return render(
        desk,
        "console/award_program.html",
        status_code,
        program=program,
        kind=KIND_WORDS.get(program.kind, program.kind),
        progress=progress_rows(program),
        levels=level_rows(program),
        chart=budget_chart(program),
        table=table,
        statuses=list(STATUS_WORDS.items()),
        can_grant=desk.role in GRANTERS,
        run=run,
        error=error,
    )


@console_get(f"{BASE}/{{program_id:str}}")
async def program_page(desk: Desk, conn: asyncpg.Connection, program_id: str) -> Response:
    return await _program_page(desk, conn, program_id)


@console_post(f"{BASE}/{{program_id:str}}/grants")
async def grant_form(desk: Desk, conn: asyncpg.Connection, program_id: str) -> Response:
    """发放: every application whose notice ended with no open objection, within the budget. The run
    is synchronous; its page shows what was granted and what was held or set aside, and why."""
    try:
        async with conn.transaction():
            run = await workflow.grant(conn, desk.actor, desk.principal, desk.today, program_id)
    except DomainError as problem:
        return await _program_page(desk, conn, program_id, status_of(problem), None, problem.detail)
    return await _program_page(desk, conn, program_id, 200, run)


# ---- cross-check lists -------------------------------------------------------------------------------


async def _cross_check_page(
    desk: Desk, status_code: int = 200, upload: Upload | None = None, result: Any = None
) -> Response:
    desk.section = "awards"
    _officer(desk)
    return render(
        desk,
        "console/cross_check.html",
        status_code,
        upload=upload or Upload(),
        sheet=CROSS_CHECK_COLUMNS,
        result=result,
        sources=LIST_WORDS,
    )


@console_get(CROSS_CHECK)
async def cross_check_page(desk: Desk) -> Response:
    return await _cross_check_page(desk)


@console_post(f"{CROSS_CHECK}/upload", upload=True)
async def upload_cross_check_form(
    request: Request, desk: Desk, conn: asyncpg.Connection, cipher: DataCipher
) -> Response:
    _officer(desk)
    sheet = await uploaded(request)
    if sheet is None:
        return await _cross_check_page(desk, 422, Upload("请选择要上传的比对名单（xlsx 或 CSV）。"))
    form = Form(await form_of(request))
    try:
        async with conn.transaction():
            result = await workflow.import_cross_check_list(
                conn,
                desk.actor,
                desk.principal,
                cipher,
                *sheet,
                form.get("county_code") or None,
                new_batch=form.flag("new_batch"),
            )
    except DomainError as problem:
        columns = [("id_number", "身份证号", ""), ("source", "来源", "")]
        return await _cross_check_page(desk, status_of(problem), refused(problem, columns))
    return await _cross_check_page(desk, 200, result=result)


@console_get(f"{CROSS_CHECK}/template.xlsx")
async def cross_check_template(desk: Desk) -> Response:
    _officer(desk)
    return file_response(template_xlsx(CROSS_CHECK_SHEET), XLSX, "cross-check-template.xlsx", "比对名单导入模板.xlsx")


PAGES = [
    programs_page,
    new_program_page,
    create_program_form,
    program_page,
    grant_form,
    cross_check_page,
    upload_cross_check_form,
    cross_check_template,
]
