"""What every server-rendered page shares: the Jinja environment, the security headers, the
refusal of cross-site form posts, and the household's session cookie.

No household or public page needs JavaScript (the CSP forbids it). Household pages sit outside
bearer auth and check their own cookie: an HttpOnly, SameSite=Strict cookie holding the very token
POST /auth/household-token issues. Every figure comes from the feature workflows the API answers
with, so a page never computes anything a second time. Jinja autoescapes every value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from service.core.auth import cached_principal, read_token
from service.core.clock import written_date
from service.core.errors import DomainError
from service.core.money import format_yuan
from service.core.principal import Principal
from service.core.problems import status_of
from service.core.settings import Settings
from service.documents.pdf import INCOME_KIND_ORDER, LINE_KIND_WORDS, PAYMENT_STATUS_WORDS

PAGE = {"exclude_from_auth": True}
HOUSEHOLD_COOKIE = "huinong_household"
HOUSEHOLD_LOGIN = "/h/login"
HOUSEHOLD_HOME = "/h/statement"

# Words a household reads for a payable's status (the JSON keeps the keys): the PDF's, so both agree.
STATUS_WORDS = PAYMENT_STATUS_WORDS
NOTICE_STATE_WORDS = {"upcoming": "尚未开始", "open": "公示中", "ended": "公示已结束"}
NOTICE_KIND_WORDS = {"award": "奖励名单", "distribution": "收益分配方案"}
# What an upheld objection did, as the notice board tells it.
UPHELD_WORDS = {"award": "异议成立，此户不予奖励", "distribution": "异议成立，分配方案已退回重新编制"}

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # keeps Origin on our own form posts (no-referrer makes it "null")
    "Cache-Control": "no-store",
}


def yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{format_yuan(fen, thousands=True)} 元"


def cn_date(day: dt.date | None) -> str:
    return "" if day is None else written_date(day)


templates = Environment(
    loader=PackageLoader("service", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the code: no stat() of each on every page
)
templates.filters.update(yuan=yuan, cn_date=cn_date)
templates.globals.update(
    STATUS_WORDS=STATUS_WORDS,
    LINE_KIND_WORDS=LINE_KIND_WORDS,
    INCOME_KIND_ORDER=INCOME_KIND_ORDER,
    NOTICE_STATE_WORDS=NOTICE_STATE_WORDS,
    NOTICE_KIND_WORDS=NOTICE_KIND_WORDS,
    UPHELD_WORDS=UPHELD_WORDS,
)


def render(template: str, status_code: int = 200, cookies: list[Cookie] | None = None, **context: Any) -> Response[str]:
    html = templates.get_template(template).render(**context)
    return Response(
        content=html,
        media_type="text/html; charset=utf-8",
        status_code=status_code,
        headers=SECURITY_HEADERS,
        cookies=cookies,
    )


def error_page(problem: DomainError, back: str | None = None) -> Response[str]:
    return render("error.html", status_code=status_of(problem), message=problem.detail, back=back)


def cross_site(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """A form posted from another site (browsers name the page's origin on every POST): refused,
    so no other page can sign a phone into someone else's account or file objections in its name."""
    origin = request.headers.get("origin")
    # Behind a proxy the Host seen here may differ from the public address: either is ours.
    ours = {request.headers.get("host", ""), urlsplit(settings.public_base_url).netloc}
    return bool(origin) and urlsplit(origin).netloc not in ours


def refuse_cross_site() -> Response[str]:
    return render("error.html", status_code=403, heading="无法提交", message="请从本站页面提交。", back=None)


def client_address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def see_other(path: str, cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect(path, status_code=303, headers=SECURITY_HEADERS, cookies=cookies)


def year_from_link(text: str | None) -> int | None:
    """A year from a link; anything else shows the default year rather than an error page.

    Four ASCII digits only: str.isdigit also takes "²" (which int() refuses) and "２０２５", and
    int() refuses more than 4,300 digits."""
    return (
        int(text)
        if text and len(text) == 4 and text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100
        else None
    )


# ---- the household's session ------------------------------------------------------------------


async def signed_in_household(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, settings: Settings
) -> Principal | None:
    """The household whose cookie this is, or None when it is missing, forged or expired."""
    token = request.cookies.get(HOUSEHOLD_COOKIE)
    claims = read_token(settings.secret_key, token) if token else None
    if claims is None or claims.kind != "household":
        return None
    return await cached_principal(request, conn, claims)


def household_cookie(settings: Settings, token: str | None) -> Cookie:
    """The session cookie holding a household's token; None clears it."""
    secure = settings.public_base_url.startswith("https:")
    return Cookie(
        key=HOUSEHOLD_COOKIE,
        value=token or "",
        path="/h",
        max_age=settings.token_ttl_seconds if token else 0,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
