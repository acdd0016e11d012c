"""The console's own pages: sign in, sign out, and the home page (工作台) that shows each role its
own work first. The static files (the stylesheet) are served from service/static/ here too."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from markupsafe import Markup

from service.awards.workflow import review_queue_count
from service.console.direct import direct_page
from service.console.layout import CONSOLE_HEADERS, Desk, render, see_other, templates
from service.console.routing import CONSOLE_OPT, console_get, console_post
from service.console.session import (
    CSRF_FIELD,
    LOGIN,
    LOGIN_SEED_COOKIE,
    REASONS,
    SignInRequired,
    csrf_for,
    csrf_matches,
    login_seed_cookie,
    new_seed,
    session_cookie,
    staff_session,
)
from service.console.words import MODEL_WORDS, PLAN_STATUS_WORDS
from service.core.errors import RateLimited, Unauthenticated
from service.core.intake import control_character_error
from service.core.pages import client_address, cross_site
from service.core.principal import Role
from service.core.settings import Settings
from service.distributions.workflow import AwaitingApproval, awaiting_approval
from service.notices.workflow import objected_notices
from service.users.workflow import login
from service.ventures.workflow import LatestPlan, VentureGlance, ventures_at_a_glance

STATIC = Path(__file__).resolve().parent.parent / "static"
HOME = "/console/"
WRONG = "用户名或密码错误，请再试一次。"
TOO_MANY = "输错次数太多，请 15 分钟后再试。"


def _next(target: str | None) -> str:
    """Only a console page of this site is a place to go after signing in."""
    return target if target and target.startswith("/console/") and not target.startswith("//") else HOME


def _login_page(
    settings: Settings,
    reason: str | None,
    target: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response[str]:
    seed = new_seed()
    response = render(
        None,
        "console/login.html",
        status_code,
        message=REASONS.get(reason or ""),
        error=error,
        username=username,
        target=target,
        csrf=csrf_for(settings, seed),
    )
    response.set_cookie(login_seed_cookie(settings, seed))
    return response


@get(LOGIN, opt=CONSOLE_OPT, include_in_schema=False)
async def login_form(
    request: Request, conn: asyncpg.Connection, settings: Settings, reason: str | None = None, next: str | None = None
) -> Response:
    try:
        await staff_session(request, conn, settings)
    except SignInRequired:
        return _login_page(settings, reason, _next(next))
    return Redirect(_next(next), status_code=303, headers=CONSOLE_HEADERS)


@post(LOGIN, opt=CONSOLE_OPT, include_in_schema=False, status_code=200)
async def sign_in(request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _next(str(form.get("next") or ""))
    seed = request.cookies.get(LOGIN_SEED_COOKIE)
    if cross_site(request, settings) or not csrf_matches(settings, seed, str(form.get(CSRF_FIELD) or "")):
        return _login_page(settings, None, target, username, "登录页面已失效，请重新输入后登录。", 403)
    if not username or not password:
        return _login_page(settings, None, target, username, "请填写用户名和密码。", 422)
    if control_character_error("username", username) or control_character_error("password", password):
        return _login_page(settings, None, target, "", "用户名和密码不能含控制字符，请重新输入。", 422)
    try:
        token = await login(conn, settings, username=username, password=password, address=client_address(request))
    except Unauthenticated:
        return _login_page(settings, None, target, username, WRONG, 401)
    except RateLimited:
        return _login_page(settings, None, target, username, TOO_MANY, 429)
    return see_other(target, cookies=[session_cookie(settings, token.access_token), login_seed_cookie(settings, None)])


@console_post("/console/logout")
async def sign_out(desk: Desk, settings: Settings) -> Response:
    return see_other(f"{LOGIN}?reason=logged-out", cookies=[session_cookie(settings, None)])


NEXT_STEPS = {
    "draft": "核对草稿并提交乡镇审批",
    "submitted": "等待乡镇审批",
    "posted": "已入账",
    "reversed": "已冲销，可重新编制方案",
}


def _next_step(plan: LatestPlan | None, desk: Desk) -> str:
    """The year's open step of a venture's latest plan, in words."""
    if plan is None:
        return f"录入 {desk.today.year - 1} 年度利润，生成分配方案"
    if plan.status == "in_notice":
        ended = plan.notice_ends_on is not None and desk.today > plan.notice_ends_on
        return "公示期已结束，可以入账" if ended else "公示中，公示期满后入账"
    return NEXT_STEPS.get(plan.status, plan.status)


class HomeRow(msgspec.Struct, frozen=True):
    """A row of the home's venture table, in the words it shows: the row's template reads one
    attribute a cell and calls nothing (a county's home lists 50 ventures). Frozen, so that it
    is the key its HTML is kept by (`home_row_html`); an object, not a dict: Jinja reads `row.x`
    by attribute first, and a dict answers that with an exception; a Struct, whose construction
    costs a tenth of a frozen dataclass's."""

    venture_id: str
    name: str
    kind: str
    village: str
    plan_id: str | None
    plan: str
    step: str


def _home_row(v: VentureGlance, desk: Desk) -> HomeRow:
    plan = v.plan
    kind = MODEL_WORDS.get(v.model, v.model)
    if plan is None:
        return HomeRow(v.id, v.name, kind, v.village_name, None, "尚无", _next_step(None, desk))
    worded = f"{plan.fiscal_year} 年 · {PLAN_STATUS_WORDS.get(plan.status, plan.status)}"
    return HomeRow(v.id, v.name, kind, v.village_name, plan.id, worded, _next_step(plan, desk))


# A county's ventures, each in each of the words its row may take, many times over.
ROWS_KEPT = 4096


@lru_cache(maxsize=ROWS_KEPT)
def home_row_html(row: HomeRow) -> Markup:
    """The row's HTML (console/home_venture_row.html, escaped as every template is), rendered once
    for each content a row has. The county's homes show the same 50 rows to every staff member
    until a plan moves, and rendering them cell by cell was a third of a home's CPU (issue 19);
    a row that changes is another key, so what is kept is never stale."""
    return Markup(templates.get_template("console/home_venture_row.html").render(row=row))


async def _ventures_with_steps(conn: asyncpg.Connection, desk: Desk) -> list[Markup]:
    glances = await ventures_at_a_glance(conn, desk.principal, limit=50)
    return [home_row_html(_home_row(v, desk)) for v in glances]


async def home_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "home"
    queue: list[AwaitingApproval] = await awaiting_approval(conn, desk.principal)
    ventures = await _ventures_with_steps(conn, desk)
    reviews = await review_queue_count(conn, desk.principal)
    return render(
        desk,
        "console/home.html",
        ventures=ventures,
        queue=queue,
        reviews=reviews,
        objected=await objected_notices(conn, desk.principal),
        is_accountant=desk.role == Role.ACCOUNTANT,
    )


# The page every staff member opens first and returns to: answered by its route (console/direct.py).
home = console_get(HOME, middleware=[direct_page(home_page)])(home_page)

PAGES = [
    login_form,
    sign_in,
    sign_out,
    home,
    create_static_files_router(path="/static", directories=[STATIC], opt={"exclude_from_auth": True}),
]
