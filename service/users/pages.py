"""A household signs in on its phone (户号 and PIN) and out again; the same check, throttling and
token as POST /auth/household-token, kept in an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

from typing import Annotated

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from schemas.auth import HouseholdTokenRequest
from service.core.crypto import DataCipher
from service.core.errors import DomainError, Unauthenticated
from service.core.intake import control_character_error
from service.core.pages import (
    HOUSEHOLD_HOME,
    HOUSEHOLD_LOGIN,
    PAGE,
    client_address,
    cross_site,
    household_cookie,
    refuse_cross_site,
    render,
    see_other,
    signed_in_household,
)
from service.core.problems import status_of
from service.core.settings import Settings
from service.users.workflow import household_login

WRONG_PIN = "户号或密码不对，请再试一次。忘记密码请找村委会。"
TOO_MANY = "输错次数太多，请 15 分钟后再试。"


@get("/h", opt=PAGE, include_in_schema=False)
async def household_home() -> Redirect:
    return Redirect(HOUSEHOLD_HOME, status_code=303)


@get(HOUSEHOLD_LOGIN, opt=PAGE, include_in_schema=False)
async def login_form(request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
    if await signed_in_household(request, conn, settings):
        return Redirect(HOUSEHOLD_HOME, status_code=303)
    return render("login.html", household_no="", error=None)


@post(HOUSEHOLD_LOGIN, opt=PAGE, include_in_schema=False, status_code=303)
async def login(
    request: Request,
    conn: asyncpg.Connection,
    settings: Settings,
    cipher: DataCipher,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response:
    if cross_site(request, settings):
        return refuse_cross_site()
    household_no = (data.get("household_no") or "").strip()
    pin = (data.get("pin") or "").strip()
    if control_character_error("household_no", household_no) or control_character_error("pin", pin):
        return render("login.html", 400, household_no="", error="户号和密码只能是数字和字母，请重新输入。")
    try:
        body = msgspec.convert({"household_no": household_no, "pin": pin}, HouseholdTokenRequest)
    except msgspec.ValidationError:
        return render("login.html", 400, household_no=household_no, error="请填写户号和密码（密码为 4 到 12 位）。")
    try:
        token = await household_login(
            conn, settings, cipher, household_no=body.household_no, pin=body.pin, address=client_address(request)
        )
    except DomainError as problem:
        message = WRONG_PIN if isinstance(problem, Unauthenticated) else TOO_MANY
        return render("login.html", status_of(problem), household_no=household_no, error=message)
    return see_other(HOUSEHOLD_HOME, cookies=[household_cookie(settings, token.access_token)])


@post("/h/logout", opt=PAGE, include_in_schema=False, status_code=303)
async def logout(request: Request, settings: Settings) -> Response:
    # A form post from our own page only: another site must not be able to sign a household out.
    if cross_site(request, settings):
        return refuse_cross_site()
    return see_other(HOUSEHOLD_LOGIN, cookies=[household_cookie(settings, None)])


PAGES = [household_home, login_form, login, logout]
