"""The console's pages of a venture (经营主体): the list, setting one up with its charter in words,
its overview, members, the register (股东名册, 股权证), share movements, reallocations (谁贫困谁享受),
member accounts (成员账户) and subsidies. Trades are in service/ventures/trade_pages.py.

Every page calls service/ventures/workflow.py, inside a transaction wherever the API would.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response

from schemas.ventures import (
    Charter,
    MemberCreate,
    ReallocationConfirm,
    ShareMovementCreate,
    SubsidyCreate,
    VentureCreate,
    VentureOut,
)
from service.console.forms import Form, parse_date
from service.console.layout import Desk, error_page, render, see_other
from service.console.places import region_names
from service.console.routing import console_get, console_post, form_of
from service.console.tables import Column, in_memory, listing, table_page
from service.console.words import CLASS_WORDS, MEMBER_KIND_WORDS, MODEL_WORDS, MOVEMENT_WORDS
from service.core.errors import DomainError
from service.core.pages import year_from_link
from service.registry.workflow import villages_within
from service.ventures import workflow
from service.ventures.charter_words import charter_sentences

BASE = "/console/ventures"


async def open_venture(desk: Desk, conn: asyncpg.Connection, venture_id: str, section: str) -> VentureOut:
    """The venture a page is about (404 outside the reader's scope), with its menu."""
    venture = await workflow.get_venture(conn, desk.principal, venture_id)
    desk.venture, desk.section = venture, section
    return venture


async def member_names(conn: asyncpg.Connection, desk: Desk, venture_id: str) -> dict[str, str]:
    members = await workflow.list_members(conn, desk.principal, venture_id)
    return {m.id: f"{m.member_no}. {m.name}" for m in members}


def in_words(message: str) -> str:
    """A workflow's message with the register's keys in words."""
    for key, word in {**CLASS_WORDS, **MOVEMENT_WORDS}.items():
        message = message.replace(f" {key} 类", f"「{word}」").replace(key, word)
    return message


# ---- the list ------------------------------------------------------------------------------------

VENTURE_COLUMNS = [
    Column("name", "名称", "link"),
    Column("model", "类型"),
    Column("village", "所在村"),
    Column("capital", "注册资本（元）", "yuan"),
    Column("record_date", "股权登记日"),
]


@console_get(BASE)
async def ventures_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "ventures"
    model = desk.query.get("model") or None

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_ventures(
            conn, desk.principal, village_code=None, model=model, limit=limit, cursor=cursor
        )
        villages = await region_names(conn, [v.village_code for v in page.items])
        rows = [
            {
                "name": (v.name, f"{BASE}/{v.id}"),
                "model": MODEL_WORDS.get(v.model, v.model),
                "village": villages[v.village_code],
                "capital": v.registered_capital_fen,
                "record_date": f"{int(v.record_date_mmdd[:2])}月{int(v.record_date_mmdd[3:])}日",
            }
            for v in page.items
        ]
        return rows, page.next_cursor

    table = await listing(desk, fetch, VENTURE_COLUMNS, title="经营主体", filename="ventures")
    return table_page(desk, table, "console/ventures.html", models=list(MODEL_WORDS.items()))


# ---- setting one up ------------------------------------------------------------------------------

NEW_DEFAULTS = {
    "model": "cooperative",
    "record_date": "12-31",
    "weighting": "record_date",
    "reserve_pct": "10",
    "discretionary_pct": "0",
    "patronage_pct": "60",
    "floor_mode": "none",
    "floor_pct": "0",
    "poverty_participates": "1",
}
# Where a workflow names a field of the venture, the form's field of the same meaning.
VENTURE_ALIASES = {
    "record_date_mmdd": "record_date",
    "registered_capital_fen": "registered_capital",
    "charter.reserve_bp": "reserve_pct",
    "charter.discretionary_bp": "discretionary_pct",
    "charter.patronage_bp": "patronage_pct",
    "charter.floor_bp": "floor_pct",
    "charter.floor_mode": "floor_mode",
    "charter.poverty_participates": "poverty_participates",
    "charter.weighting": "weighting",
}
VENTURE_LABELS = {
    "registered_capital": "注册资本",
    "record_date": "股权登记日",
    "reserve_pct": "公积金比例",
    "discretionary_pct": "任意公积金比例",
    "patronage_pct": "按交易量返还比例",
    "floor_pct": "保底收益率",
    "village_code": "所在村",
}


async def _villages(conn: asyncpg.Connection, desk: Desk) -> list[tuple[str, str]]:
    """The villages the reader may set up a venture in (its region's)."""
    return [(r.code, f"{r.name}（{r.code}）") for r in await villages_within(conn, desk.principal)]


async def _new_form(desk: Desk, conn: asyncpg.Connection, form: Form, status_code: int = 200) -> Response:
    desk.section = "ventures"
    return render(desk, "console/venture_new.html", status_code, form=form, villages=await _villages(conn, desk))


@console_get(f"{BASE}/new")
async def new_venture_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    return await _new_form(desk, conn, Form(NEW_DEFAULTS, VENTURE_LABELS))


def _record_date(form: Form) -> str | None:
    """The record date as MM-DD, typed as 12-31 or 12月31日."""
    text = form.get("record_date").replace("月", "-").rstrip("日").replace("/", "-")
    month, _, day = text.partition("-")
    if not (month.isascii() and month.isdigit() and day.isascii() and day.isdigit() and len(month + day) <= 4):
        form.errors["record_date"] = "股权登记日请写成 12-31 或 12月31日"
        return None
    return f"{int(month):02d}-{int(day):02d}"


def _venture_body(form: Form) -> VentureCreate | None:
    name = form.text("name")
    model = form.choice("model", MODEL_WORDS)
    village = form.text("village_code")
    capital = form.yuan("registered_capital")
    record_date = _record_date(form)
    charter = {
        "weighting": form.choice("weighting", {"record_date": "", "share_days": ""}),
        "reserve_bp": form.percent("reserve_pct"),
        "discretionary_bp": form.percent("discretionary_pct"),
        "patronage_bp": form.percent("patronage_pct"),
        "floor_mode": form.choice("floor_mode", {"none": "", "fixed": "", "preferred": "", "minimum": ""}),
        "floor_bp": form.percent("floor_pct"),
        "poverty_participates": form.flag("poverty_participates"),
        "poverty_follows_status": form.flag("poverty_follows_status"),
    }
    if not form.ok:
        return None
    return form.build(
        VentureCreate,
        name=name or "",
        model=model,
        village_code=village or "",
        registered_capital_fen=capital or 0,
        record_date_mmdd=record_date or "12-31",
        charter=msgspec.convert(charter, Charter),
    )


@console_post(BASE)
async def create_venture_form(request: Request, desk: Desk, conn: asyncpg.Connection) -> Response:
    form = Form(await form_of(request), VENTURE_LABELS)
    body = _venture_body(form)
    if body is None:
        return await _new_form(desk, conn, form, 422)
    try:
        async with conn.transaction():
            created = await workflow.create_venture(conn, desk.actor, desk.principal, body)
    except DomainError as problem:
        form.take(problem, VENTURE_ALIASES)
        return await _new_form(desk, conn, form, 422)
    return see_other(f"{BASE}/{created.id}", "venture-created")


# ---- one venture ---------------------------------------------------------------------------------


@console_get(f"{BASE}/{{venture_id:str}}")
async def venture_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    venture = await open_venture(desk, conn, venture_id, "overview")
    members = await workflow.list_members(conn, desk.principal, venture_id)
    register = await workflow.register(conn, desk.principal, venture_id, None, desk.today)
    return render(
        desk,
        "console/venture.html",
        venture=venture,
        members=members,
        register=register,
        charter=charter_sentences(venture.model, venture.charter),
    )


# ---- members -------------------------------------------------------------------------------------

MEMBER_COLUMNS = [
    Column("no", "编号", "count"),
    Column("name", "名称"),
    Column("kind", "类别"),
    Column("account", "成员账户", "link"),
]


def _member_rows(venture: VentureOut, members: list[Any], year: int) -> list[dict[str, Any]]:
    coop = venture.model == "cooperative"
    return [
        {
            "no": m.member_no,
            "name": m.name,
            "kind": MEMBER_KIND_WORDS.get(m.kind, m.kind),
            "account": ("查看", f"{BASE}/{venture.id}/members/{m.id}?year={year}") if coop else None,
        }
        for m in members
    ]


async def _members_page(desk: Desk, conn: asyncpg.Connection, venture_id: str, form: Form, status: int = 200) -> Any:
    venture = await open_venture(desk, conn, venture_id, "members")
    members = await workflow.list_members(conn, desk.principal, venture_id)
    rows = _member_rows(venture, members, desk.today.year)
    table = await listing(
        desk,
        in_memory(rows, MEMBER_COLUMNS, desk.query.get("find")),
        MEMBER_COLUMNS,
        title="成员名册",
        filename="members",
    )
    return table_page(desk, table, "console/members.html", status, form=form, kinds=list(MEMBER_KIND_WORDS.items()))


@console_get(f"{BASE}/{{venture_id:str}}/members")
async def members_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    return await _members_page(desk, conn, venture_id, Form({"kind": "household"}))


@console_post(f"{BASE}/{{venture_id:str}}/members")
async def add_member_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    form = Form(await form_of(request))
    kind = form.choice("kind", MEMBER_KIND_WORDS)
    name = form.text("name")
    number = form.text("household_no", required=kind == "household", max_length=40)
    if not form.ok:
        return await _members_page(desk, conn, venture_id, form, 422)
    try:
        async with conn.transaction():
            household = (
                await workflow.household_for_member(conn, desk.principal, venture_id, number) if number else None
            )
            data = form.build(MemberCreate, kind=kind, name=name or "", household_id=household)
            if data is None:
                return await _members_page(desk, conn, venture_id, form, 422)
            await workflow.add_member(conn, desk.actor, desk.principal, venture_id, data)
    except DomainError as problem:
        form.take(problem, {"household_id": "household_no"})
        return await _members_page(desk, conn, venture_id, form, 422)
    return see_other(f"{BASE}/{venture_id}/members", "member-added")


# ---- the register (股东名册) and share certificates -------------------------------------------------

REGISTER_COLUMNS = [
    Column("member", "股东"),
    Column("class", "股份类别"),
    Column("shares", "股数", "count"),
    Column("capital", "股金（元）", "yuan"),
    Column("certificate", "股权证号", "link"),
]


@console_get(f"{BASE}/{{venture_id:str}}/register")
async def register_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    await open_venture(desk, conn, venture_id, "register")
    as_of = parse_date(desk.query.get("as_of", ""))
    # Every holding at once: the page pages it in memory and its download holds it whole.
    register = await workflow.register(conn, desk.principal, venture_id, as_of, desk.today, limit=None)
    day = register.as_of.isoformat()
    rows = [
        {
            "member": i.member_name,
            "class": CLASS_WORDS.get(i.share_class, i.share_class),
            "shares": i.shares,
            "capital": i.capital_fen,
            "certificate": (
                i.certificate_no,
                f"{BASE}/{venture_id}/certificates/{i.member_id}/{i.share_class}?as_of={day}",
            ),
        }
        for i in register.items
    ]
    table = await listing(
        desk, in_memory(rows, REGISTER_COLUMNS), REGISTER_COLUMNS, title="股东名册", filename="register"
    )
    table.totals = {"member": "合计", "shares": register.total_shares, "capital": register.total_capital_fen}
    return table_page(desk, table, "console/register.html", register=register)


@console_get(f"{BASE}/{{venture_id:str}}/certificates/{{member_id:str}}/{{share_class:str}}")
async def certificate_page(
    desk: Desk, conn: asyncpg.Connection, venture_id: str, member_id: str, share_class: str
) -> Response:
    venture = await open_venture(desk, conn, venture_id, "register")
    as_of = parse_date(desk.query.get("as_of", ""))
    register = await workflow.register(conn, desk.principal, venture_id, as_of, desk.today, limit=None)
    item = next((i for i in register.items if i.member_id == member_id and i.share_class == share_class), None)
    if item is None:
        return error_page(desk, 404, "该股东在这一天没有这类股份。")
    return render(desk, "console/certificate.html", venture=venture, item=item, as_of=register.as_of)


# ---- share movements -----------------------------------------------------------------------------

MOVEMENT_COLUMNS = [
    Column("no", "登记号", "count"),
    Column("date", "生效日期", "date"),
    Column("kind", "变动"),
    Column("class", "股份类别"),
    Column("from", "转出"),
    Column("to", "转入"),
    Column("shares", "股数", "count"),
    Column("capital", "股金（元）", "yuan"),
    Column("reason", "说明"),
]


async def _movements_page(desk: Desk, conn: asyncpg.Connection, venture_id: str, form: Form, status: int = 200) -> Any:
    await open_venture(desk, conn, venture_id, "movements")
    names = await member_names(conn, desk, venture_id)
    since, until = parse_date(desk.query.get("from", "")), parse_date(desk.query.get("to", ""))

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await workflow.list_share_movements(
            conn, desk.principal, venture_id, since=since, until=until, limit=limit, cursor=cursor
        )
        return [
            {
                "no": m.register_no,
                "date": m.effective_date,
                "kind": MOVEMENT_WORDS.get(m.kind, m.kind),
                "class": CLASS_WORDS.get(m.share_class, m.share_class),
                "from": names.get(m.from_member_id or "", ""),
                "to": names.get(m.to_member_id or "", ""),
                "shares": m.shares,
                "capital": m.capital_fen,
                "reason": m.reason,
            }
            for m in page.items
        ], page.next_cursor

    table = await listing(desk, fetch, MOVEMENT_COLUMNS, title="股权变动记录", filename="share-movements")
    return table_page(desk, table, "console/movements.html", status, form=form, members=list(names.items()))


@console_get(f"{BASE}/{{venture_id:str}}/movements")
async def movements_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    return await _movements_page(desk, conn, venture_id, Form({"kind": "subscribe", "share_class": "ordinary"}))


def _movement_body(form: Form) -> ShareMovementCreate | None:
    kind = form.choice("kind", MOVEMENT_WORDS)
    share_class = form.choice("share_class", CLASS_WORDS)
    shares = form.integer("shares", minimum=1, maximum=10**12)
    capital = form.yuan("capital_fen")
    day = form.date("effective_date")
    reason = form.text("reason", required=False, max_length=500)
    if not form.ok:
        return None
    return form.build(
        ShareMovementCreate,
        kind=kind,
        share_class=share_class,
        shares=shares or 0,
        capital_fen=capital or 0,
        effective_date=day,  # type: ignore[arg-type]
        from_member_id=form.get("from_member_id") or None,
        to_member_id=form.get("to_member_id") or None,
        reason=reason or "",
    )


@console_post(f"{BASE}/{{venture_id:str}}/movements")
async def record_movement_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    form = Form(await form_of(request), {"capital_fen": "股金（元）"})
    body = _movement_body(form)
    if body is not None:
        try:
            async with conn.transaction():
                await workflow.record_share_movement(conn, desk.actor, desk.principal, venture_id, body)
            return see_other(f"{BASE}/{venture_id}/movements", "movement-recorded")
        except DomainError as problem:
            form.take(problem)
    form.errors = {k: in_words(v) for k, v in form.errors.items()}
    form.general = in_words(form.general) if form.general else None
    return await _movements_page(desk, conn, venture_id, form, 422)


# ---- 谁贫困谁享受: reallocation proposals -----------------------------------------------------------


@console_get(f"{BASE}/{{venture_id:str}}/reallocations")
async def reallocations_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    await open_venture(desk, conn, venture_id, "register")
    names = await member_names(conn, desk, venture_id)
    proposals = await workflow.list_reallocations(conn, desk.principal, venture_id)
    return render(desk, "console/reallocations.html", proposals=proposals, names=names, error=None)


@console_post(f"{BASE}/{{venture_id:str}}/reallocations/{{proposal_id:str}}/confirm")
async def confirm_reallocation_form(
    desk: Desk, conn: asyncpg.Connection, venture_id: str, proposal_id: str
) -> Response:
    try:
        async with conn.transaction():
            await workflow.confirm_reallocation(
                conn, desk.actor, desk.principal, venture_id, proposal_id, ReallocationConfirm()
            )
    except DomainError as problem:
        await open_venture(desk, conn, venture_id, "register")
        names = await member_names(conn, desk, venture_id)
        proposals = await workflow.list_reallocations(conn, desk.principal, venture_id)
        return render(desk, "console/reallocations.html", 422, proposals=proposals, names=names, error=problem.detail)
    return see_other(f"{BASE}/{venture_id}/reallocations", "reallocation-confirmed")


# ---- member accounts (成员账户) -------------------------------------------------------------------

ACCOUNT_COLUMNS = [
    Column("member", "成员", "link"),
    Column("capital", "出资（股金，元）", "yuan"),
    Column("reserve", "公积金份额（元）", "yuan"),
    Column("subsidy", "财政补助量化份额（元）", "yuan"),
    Column("volume", "本年交易额（元）", "yuan"),
]


def _year(desk: Desk) -> int:
    return year_from_link(desk.query.get("year")) or desk.today.year


@console_get(f"{BASE}/{{venture_id:str}}/accounts")
async def accounts_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    await open_venture(desk, conn, venture_id, "accounts")
    year = _year(desk)
    rows = []
    for m in await workflow.list_members(conn, desk.principal, venture_id):
        a = await workflow.member_account(conn, desk.principal, venture_id, m.id, year, desk.today)
        rows.append(
            {
                "member": (f"{m.member_no}. {m.name}", f"{BASE}/{venture_id}/members/{m.id}?year={year}"),
                "capital": a.capital_fen,
                "reserve": a.reserve_share_fen,
                "subsidy": a.subsidy_share_fen,
                "volume": a.transaction_volume_fen,
            }
        )
    table = await listing(
        desk, in_memory(rows, ACCOUNT_COLUMNS), ACCOUNT_COLUMNS, title=f"{year}年成员账户", filename="member-accounts"
    )
    table.totals = {
        "member": "合计",
        **{k: sum(r[k] for r in rows) for k in ("capital", "reserve", "subsidy", "volume")},
    }
    return table_page(desk, table, "console/accounts.html", year=year)


# A member's year of deliveries, a page at a time (a dairy member delivers twice a day).
MEMBER_TRADES_A_PAGE = 100


@console_get(f"{BASE}/{{venture_id:str}}/members/{{member_id:str}}")
async def member_page(desk: Desk, conn: asyncpg.Connection, venture_id: str, member_id: str) -> Response:
    await open_venture(desk, conn, venture_id, "accounts")
    year = _year(desk)
    account = await workflow.member_account(conn, desk.principal, venture_id, member_id, year, desk.today)
    members = {m.id: m for m in await workflow.list_members(conn, desk.principal, venture_id)}
    trades = await workflow.list_trades(
        conn,
        desk.principal,
        venture_id,
        year=year,
        member_id=member_id,
        limit=MEMBER_TRADES_A_PAGE,
        cursor=desk.query.get("cursor"),
    )
    return render(
        desk,
        "console/member.html",
        account=account,
        member=members[account.member_id],
        year=year,
        trades=trades.items,
        more=trades.next_cursor,
    )


# ---- subsidies -----------------------------------------------------------------------------------

SUBSIDY_COLUMNS = [Column("date", "收到日期", "date"), Column("source", "来源"), Column("amount", "金额（元）", "yuan")]


async def _subsidies_page(
    desk: Desk, conn: asyncpg.Connection, venture_id: str, form: Form, status: int = 200, shares: Any = None
) -> Any:
    await open_venture(desk, conn, venture_id, "subsidies")
    names = await member_names(conn, desk, venture_id)
    rows = [
        {"date": s.received_on, "source": s.source, "amount": s.amount_fen}
        for s in await workflow.list_subsidies(conn, desk.principal, venture_id)
    ]
    table = await listing(
        desk, in_memory(rows, SUBSIDY_COLUMNS), SUBSIDY_COLUMNS, title="收到的财政补助", filename="subsidies"
    )
    table.totals = {"source": "合计", "amount": sum(r["amount"] for r in rows)}
    return table_page(desk, table, "console/subsidies.html", status, form=form, shares=shares, names=names)


@console_get(f"{BASE}/{{venture_id:str}}/subsidies")
async def subsidies_page(desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    return await _subsidies_page(desk, conn, venture_id, Form())


@console_post(f"{BASE}/{{venture_id:str}}/subsidies")
async def receive_subsidy_form(request: Request, desk: Desk, conn: asyncpg.Connection, venture_id: str) -> Response:
    form = Form(await form_of(request))
    amount = form.yuan("amount_fen")
    source = form.text("source")
    day = form.date("received_on")
    if amount == 0:
        form.errors["amount_fen"] = "金额应大于 0"
    data = form.build(SubsidyCreate, amount_fen=amount or 0, source=source or "", received_on=day) if form.ok else None
    if data is None:
        return await _subsidies_page(desk, conn, venture_id, form, 422)
    try:
        async with conn.transaction():
            out = await workflow.receive_subsidy(conn, desk.actor, desk.principal, venture_id, data)
    except DomainError as problem:
        form.take(problem)
        return await _subsidies_page(desk, conn, venture_id, form, 422)
    desk.query["done"] = "subsidy-received"
    return await _subsidies_page(desk, conn, venture_id, Form(), 200, shares=out)


PAGES = [
    ventures_page,
    new_venture_page,
    create_venture_form,
    venture_page,
    members_page,
    add_member_form,
    register_page,
    certificate_page,
    movements_page,
    record_movement_form,
    reallocations_page,
    confirm_reallocation_form,
    accounts_page,
    member_page,
    subsidies_page,
    receive_subsidy_form,
]
