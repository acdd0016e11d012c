"""How a console page is declared: `@console_get(path)` and `@console_post(path)`.

Each console handler sits outside bearer auth (the console has its own session), receives `desk`
(the signed-in staff member, or the login page with the reason), and for a POST the form's CSRF
token and origin have been checked before the handler runs. Errors become HTML pages: a refused
session goes to the login, a refused form answers 403 and changes nothing, an object out of scope
reads as not found, exactly as in the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import asyncpg
from litestar import Request, Response, get, post
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from service.console.forms import parse_date
from service.console.layout import CONSOLE_HEADERS, Desk, error_page
from service.console.session import (
    CSRF_FIELD,
    LOGIN,
    CsrfRefused,
    SignInRequired,
    csrf_for,
    csrf_matches,
    staff_session,
)
from service.core.audit import Actor
from service.core.clock import Clock
from service.core.errors import DomainError
from service.core.intake import refuse_control_characters_in_form, refuse_future_dates
from service.core.pages import client_address, cross_site
from service.core.problems import status_of
from service.core.settings import Settings
from service.core.uploads import UPLOAD

CONSOLE_OPT = {"exclude_from_auth": True, "console": True}


async def provide_desk(
    request: Request[Any, Any, Any], conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> Desk:
    principal = await staff_session(request, conn, settings)
    request.scope["user"] = principal  # the access log names the console's user as the API's
    token = request.cookies.get("huinong_staff", "")
    if request.method == "POST":
        form = await request.form()
        if cross_site(request, settings) or not csrf_matches(settings, token, form.get(CSRF_FIELD)):
            raise CsrfRefused()
        refuse_control_characters_in_form(form)
        # A date is typed as people write it (2026/12/25, 2026年12月25日): read the same way here.
        refuse_future_dates({name: parse_date(str(value)) or value for name, value in form.items()}, clock.today())
    return Desk(
        principal=principal,
        actor=Actor.of(principal, client_address(request)),
        csrf=csrf_for(settings, token),
        today=clock.today(),
        path=request.url.path,
        query={k: v for k, v in request.query_params.items() if isinstance(v, str)},
    )


def _to_login(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    back = request.url.path if request.method == "GET" else "/console/"
    return Redirect(f"{LOGIN}?reason={exc.reason}&next={quote(back)}", status_code=303, headers=CONSOLE_HEADERS)


def _csrf_refused(request: Request[Any, Any, Any], exc: CsrfRefused) -> Response[Any]:
    return error_page(
        None, 403, "表单已失效或不是从本系统页面提交的，未作任何更改。请返回上一页刷新后重新提交。", heading="无法提交"
    )


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return error_page(None, status_of(exc), exc.detail)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        raise exc
    message = {404: "页面不存在。", 405: "不支持此操作。", 413: "上传的文件太大。"}.get(
        status, "请求有误，请检查后重试。"
    )
    return error_page(None, status, message)


HANDLERS: ExceptionHandlersMap = {
    SignInRequired: _to_login,
    CsrfRefused: _csrf_refused,
    DomainError: _domain_error,
    HTTPException: _http_error,
}
DESK = {"desk": Provide(provide_desk)}


def console_get(path: str, **kwargs: Any) -> Any:
    return get(path, opt=CONSOLE_OPT, include_in_schema=False, dependencies=DESK, exception_handlers=HANDLERS, **kwargs)


def console_post(path: str, *, upload: bool = False, **kwargs: Any) -> Any:
    """A form post; `upload=True` admits a file up to Settings.max_upload_bytes (core/uploads.py)."""
    opt = {**CONSOLE_OPT, **(UPLOAD if upload else {})}
    return post(
        path,
        opt=opt,
        include_in_schema=False,
        dependencies=DESK,
        exception_handlers=HANDLERS,
        status_code=200,
        **kwargs,
    )


async def form_of(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The posted form (already read once for its CSRF token)."""
    return dict((await request.form()).items())
