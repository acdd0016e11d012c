"""Server-rendered pages for households and the public, in plain Chinese, for cheap phones.

No page needs JavaScript (the CSP forbids it). Household pages sit outside bearer auth and check
their own cookie: an HttpOnly, SameSite=Strict cookie holding the very token POST
/auth/household-token issues. Every figure comes from the functions the API answers with (the
handlers of the JSON endpoints are called as plain functions where the logic lives inside them),
so a page never computes anything a second time. Jinja autoescapes every value.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from schemas.auth import HouseholdTokenRequest
from schemas.awards import ObjectionCreate
from schemas.statements import StatementOut
from service.awards.routes import AwardController
from service.core.auth import load_principal, read_token
from service.core.clock import Clock
from service.core.crypto import DataCipher
from service.core.errors import DomainError
from service.core.hooks import Hooks
from service.core.money import format_yuan
from service.core.policy import household_or_404
from service.core.principal import Principal
from service.core.problems import status_of
from service.core.settings import Settings
from service.documents.pdf import INCOME_KIND_ORDER, LINE_KIND_WORDS, PAYMENT_STATUS_WORDS
from service.notices.routes import NoticeController
from service.statements.routes import pdf_response
from service.statements.workflow import household_statement
from service.users.routes import AuthController

PAGE = {"exclude_from_auth": True}
COOKIE = "huinong_household"
LOGIN = "/h/login"
STATEMENT = "/h/statement"
NOTICE_PAGE_SIZE = 100

# Words a household reads for a payable's status (the JSON keeps the keys): the PDF's, so both agree.
STATUS_WORDS = PAYMENT_STATUS_WORDS
NOTICE_STATE_WORDS = {"upcoming": "尚未开始", "open": "公示中", "ended": "公示已结束"}
NOTICE_KIND_WORDS = {"award": "奖励名单", "distribution": "收益分配方案"}

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # keeps Origin on our own form posts (no-referrer makes it "null")
    "Cache-Control": "no-store",
}


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{format_yuan(fen, thousands=True)} 元"


def _cn_date(day: dt.date | None) -> str:
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


_templates = Environment(
    loader=PackageLoader("service", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(yuan=_yuan, cn_date=_cn_date)
_templates.globals.update(
    STATUS_WORDS=STATUS_WORDS,
    LINE_KIND_WORDS=LINE_KIND_WORDS,
    INCOME_KIND_ORDER=INCOME_KIND_ORDER,
    NOTICE_STATE_WORDS=NOTICE_STATE_WORDS,
    NOTICE_KIND_WORDS=NOTICE_KIND_WORDS,
)


def render(template: str, status_code: int = 200, cookies: list[Cookie] | None = None, **context: Any) -> Response:
    html = _templates.get_template(template).render(**context)
    return Response(
        content=html,
        media_type="text/html; charset=utf-8",
        status_code=status_code,
        headers=SECURITY_HEADERS,
        cookies=cookies,
    )


def _error_page(problem: DomainError, back: str | None = None) -> Response:
    return render("error.html", status_code=status_of(problem), message=problem.detail, back=back)


def _cross_site(request: Request, settings: Settings) -> bool:
    """A form posted from another site (browsers name the page's origin on every POST): refused,
    so no other page can sign a phone into someone else's account or file objections in its name."""
    origin = request.headers.get("origin")
    # Behind a proxy the Host seen here may differ from the public address: either is ours.
    ours = {request.headers.get("host", ""), urlsplit(settings.public_base_url).netloc}
    return bool(origin) and urlsplit(origin).netloc not in ours


def _refuse_cross_site() -> Response:
    return render("error.html", status_code=403, heading="无法提交", message="请从本站页面提交。", back=None)


def _to_login() -> Redirect:
    return Redirect(LOGIN, status_code=303, headers=SECURITY_HEADERS)


async def _signed_in(request: Request, conn: asyncpg.Connection, settings: Settings) -> Principal | None:
    """The household whose cookie this is, or None when it is missing, forged or expired."""
    token = request.cookies.get(COOKIE)
    claims = token and read_token(settings.secret_key, token)
    if not claims or claims.kind != "household":
        return None
    return await load_principal(conn, claims)


def _year(text: str | None) -> int | None:
    """A year from a link; anything else shows the default year rather than an error page."""
    return int(text) if text and text.isdigit() and 2000 <= int(text) <= 2100 else None


def _session_cookie(settings: Settings, token: str | None) -> Cookie:
    secure = settings.public_base_url.startswith("https:")
    if token is None:
        return Cookie(key=COOKIE, value="", path="/h", max_age=0, httponly=True, samesite="strict", secure=secure)
    return Cookie(
        key=COOKIE,
        value=token,
        path="/h",
        max_age=settings.token_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


# ---- household ----------------------------------------------------------------------------------


@get("/h", opt=PAGE, include_in_schema=False)
async def household_home() -> Redirect:
    return Redirect(STATEMENT, status_code=303)


@get(LOGIN, opt=PAGE, include_in_schema=False)
async def login_form(request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
    if await _signed_in(request, conn, settings):
        return Redirect(STATEMENT, status_code=303)
    return render("login.html", household_no="", error=None)


@post(LOGIN, opt=PAGE, include_in_schema=False, status_code=303)
async def login(
    request: Request,
    conn: asyncpg.Connection,
    settings: Settings,
    cipher: DataCipher,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response:
    if _cross_site(request, settings):
        return _refuse_cross_site()
    household_no = (data.get("household_no") or "").strip()
    pin = (data.get("pin") or "").strip()
    try:
        body = msgspec.convert({"household_no": household_no, "pin": pin}, HouseholdTokenRequest)
    except msgspec.ValidationError:
        return render("login.html", 400, household_no=household_no, error="请填写户号和密码（密码为 4 到 12 位）。")
    try:
        # The API's own handler: the same PIN check, throttling and token.
        token = await AuthController.household_login.fn(None, request, body, conn, settings, cipher)
    except DomainError as problem:
        message = (
            "户号或密码不对，请再试一次。忘记密码请找村委会。"
            if status_of(problem) == 401
            else "输错次数太多，请 15 分钟后再试。"
        )
        return render("login.html", status_of(problem), household_no=household_no, error=message)
    return Redirect(
        STATEMENT, status_code=303, headers=SECURITY_HEADERS, cookies=[_session_cookie(settings, token.access_token)]
    )


@post("/h/logout", opt=PAGE, include_in_schema=False, status_code=303)
async def logout(request: Request, settings: Settings) -> Response:
    # A form post from our own page only: another site must not be able to sign a household out.
    if _cross_site(request, settings):
        return _refuse_cross_site()
    return Redirect(LOGIN, status_code=303, headers=SECURITY_HEADERS, cookies=[_session_cookie(settings, None)])


async def _own_statement(
    request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock, year: str | None
) -> tuple[asyncpg.Record, StatementOut] | None:
    """The signed-in household and its statement of the year asked for, or None when not signed in."""
    principal = await _signed_in(request, conn, settings)
    if principal is None:
        return None
    household = await household_or_404(conn, principal, principal.household_id)
    return household, await household_statement(conn, household, _year(year), clock.today())


@get(STATEMENT, opt=PAGE, include_in_schema=False)
async def statement_page(
    request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock, year: str | None = None
) -> Response:
    own = await _own_statement(request, conn, settings, clock, year)
    if own is None:
        return _to_login()
    household, statement = own
    years = sorted(set(statement.years) | {statement.year, clock.today().year}, reverse=True)
    serials = sorted({line.certificate_serial for line in statement.lines if line.certificate_serial})
    return render("statement.html", household=household, statement=statement, years=years, serials=serials)


@get("/h/statement.pdf", opt=PAGE, include_in_schema=False)
async def statement_pdf_download(
    request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock, year: str | None = None
) -> Response:
    own = await _own_statement(request, conn, settings, clock, year)
    if own is None:
        return _to_login()
    return pdf_response(*own, clock)


@get("/h/certificates/{serial:str}", opt=PAGE, include_in_schema=False)
async def certificate_download(serial: str, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
    principal = await _signed_in(request, conn, settings)
    if principal is None:
        return _to_login()
    try:
        # The API's handler: it answers only the household's own certificate.
        response = await AwardController.certificate.fn(None, serial.removesuffix(".pdf"), conn, principal, settings)
    except DomainError as problem:
        return _error_page(problem, back=STATEMENT)
    response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace("inline", "attachment")
    return response


# ---- public -------------------------------------------------------------------------------------


async def _notice_page(
    notice_id: str, conn: asyncpg.Connection, clock: Clock, settings: Settings, cursor: str | None, **context: Any
) -> Response:
    try:
        notice = await NoticeController.get_notice.fn(None, notice_id, conn, clock, settings, NOTICE_PAGE_SIZE, cursor)
    except DomainError as problem:
        return _error_page(problem)
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
    if _cross_site(request, settings):
        return _refuse_cross_site()
    subject_id = (data.get("subject_id") or "").strip()
    reason = (data.get("reason") or "").strip()
    cursor = data.get("cursor") or None  # the page of the list the form was on
    try:
        body = msgspec.convert({"subject_id": subject_id, "reason": reason}, ObjectionCreate)
    except msgspec.ValidationError:
        return await _notice_page(
            notice_id,
            conn,
            clock,
            settings,
            cursor,
            status_code=400,
            subject_id=subject_id,
            reason=reason,
            error="请选择对哪一户有异议，并写明理由（不超过 2000 字）。",
        )
    try:
        # The API's handler: the same checks, hold on the subject and audit record.
        objection = await NoticeController.file_objection.fn(None, notice_id, body, conn, clock, request, hooks)
    except DomainError as problem:
        if status_of(problem) == 404:
            return _error_page(problem)
        return await _notice_page(
            notice_id,
            conn,
            clock,
            settings,
            cursor,
            status_code=status_of(problem),
            subject_id=subject_id,
            reason=reason,
            error=problem.detail,
        )
    return render("objection_filed.html", objection=objection, notice_id=notice_id)


@get("/p/verify/{serial:str}", opt=PAGE, include_in_schema=False)
async def verify_page(serial: str, conn: asyncpg.Connection) -> Response:
    try:
        certificate = await AwardController.verify.fn(None, serial, conn)
    except DomainError:
        return render("verify.html", status_code=404, certificate=None, serial=serial)
    return render("verify.html", certificate=certificate, serial=serial)


PAGES = [
    household_home,
    login_form,
    login,
    logout,
    statement_page,
    statement_pdf_download,
    certificate_download,
    notice_page,
    objection_form,
    verify_page,
]
